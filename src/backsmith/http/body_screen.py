"""Screen a raw JSON body before it is validated: bodies nested too deep, NUL characters.

Both checks cost one or two byte searches for an ordinary body; only a body that could fail
one is parsed and walked, level by level, never by recursion.
"""

from __future__ import annotations

from typing import Any

import orjson

from backsmith.contract.source import escape

# The schema validator refuses values nested 256 levels deep (as an exception, not an
# answer), so no setting lets a body reach it deeper than this.
DEEPEST_VALIDATED = 250
_NUL_ESCAPE = b"\\u0000"  # JSON cannot carry a raw NUL; only this escape spells one
_CONTAINERS = (dict, list)


def screen_body(raw: bytes, max_depth: int) -> list[dict[str, Any]]:
    """[] for a body fit to validate; otherwise one error per fault, each with its pointer.

    A body that is not JSON passes: the parser that reads it reports that.
    """
    cap = min(max_depth, DEEPEST_VALIDATED)
    deep = raw.count(b"[") + raw.count(b"{") > cap  # nesting needs as many brackets
    # `find`, not `in`: `bytes in bytes` first tries to read its operand as a number and
    # drops the TypeError that raises, which costs more than the search.
    if not deep and raw.find(_NUL_ESCAPE) < 0:
        return []
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        # orjson's own limit (1024 levels) is deeper than the cap: past it, still too deep.
        return [_too_deep(cap)] if deep and "depth" in str(error) else []
    if deep and nested_deeper_than(body, cap):
        return [_too_deep(cap)]
    return nul_errors(body) if raw.find(_NUL_ESCAPE) >= 0 else []


def screen_value(body: Any, max_depth: int) -> list[dict[str, Any]]:
    """The same screening for a body already decoded (a form's fields, JSON inside them)."""
    cap = min(max_depth, DEEPEST_VALIDATED)
    if nested_deeper_than(body, cap):
        return [_too_deep(cap)]
    return nul_errors(body)


def nested_deeper_than(value: Any, cap: int) -> bool:
    """Whether arrays and objects in `value` nest more than `cap` levels (the value is one)."""
    level = [value] if isinstance(value, _CONTAINERS) else []
    depth = 0
    while level:
        depth += 1
        if depth > cap:
            return True
        below: list[Any] = []
        for node in level:
            members = node.values() if isinstance(node, dict) else node
            below.extend(member for member in members if isinstance(member, _CONTAINERS))
        level = below
    return False


def nul_errors(body: Any) -> list[dict[str, Any]]:
    """An error at each string (value or member name) that holds a NUL character.

    SQLite stores NUL and PostgreSQL refuses it, so it is refused here, alike on both.
    """
    found = []
    pending: list[tuple[Any, str]] = [(body, "#")]
    while pending:
        value, pointer = pending.pop()
        if isinstance(value, str):
            if "\x00" in value:
                found.append({"detail": "the string holds a NUL character", "pointer": pointer})
        elif isinstance(value, dict):
            for name, member in value.items():
                at = f"{pointer}/{escape(name)}"
                if "\x00" in name:
                    found.append({"detail": "the member name holds a NUL character", "pointer": at})
                pending.append((member, at))
        elif isinstance(value, list):
            pending.extend((item, f"{pointer}/{index}") for index, item in enumerate(value))
    return sorted(found, key=lambda error: error["pointer"])


def _too_deep(cap: int) -> dict[str, Any]:
    return {"detail": f"the body is nested deeper than {cap} levels", "pointer": "#"}
