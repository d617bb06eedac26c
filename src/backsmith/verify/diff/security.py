"""Compare what an operation requires of its callers, and the security schemes themselves.

A security requirement is a list of alternatives: a caller satisfies one of them, each a
set of schemes (with OAuth scopes). A client keeps working when the way it authenticated
is still accepted: an alternative with no more schemes and no more scopes than its own.
An empty list (or an empty alternative) is the anonymous way.
"""

from __future__ import annotations

from typing import Any

from backsmith.verify.diff.changes import Recorder
from backsmith.verify.diff.operations import OperationSite
from backsmith.verify.diff.resolve import Node

Alternative = dict[str, frozenset[str]]
# What says where and how credentials go; other fields (description, scopes) do not.
_SCHEME_FIELDS = ("type", "in", "name", "scheme", "bearerFormat", "openIdConnectUrl")
_FLOW_FIELDS = ("authorizationUrl", "tokenUrl")


def compare_security(record: Recorder, old: OperationSite, new: OperationSite) -> None:
    """Changes to the security one operation requires."""
    before, after = _alternatives(old.security), _alternatives(new.security)
    pointer = new.security.pointer
    explained: list[Alternative] = []
    for way in before:
        if any(_accepts(candidate, way) for candidate in after):
            continue
        same = next((c for c in after if set(c) == set(way)), None)
        wider = [c for c in after if set(c) > set(way)]
        if same is not None:
            explained.append(same)
            added = {s: sorted(same[s] - way[s]) for s in same if same[s] - way[s]}
            said = "; ".join(f"{s}: {', '.join(scopes)}" for s, scopes in added.items())
            record.new_side("api-security-scope-added", f"now requires scope(s) {said}", pointer)
        elif wider:
            smallest = min(wider, key=len)
            explained.append(smallest)
            extra = ", ".join(sorted(set(smallest) - set(way)))
            said = (
                f"now requires {extra}" if not way else f"{_describe(way)} now also needs {extra}"
            )
            record.new_side("api-security-added", said, pointer)
        else:
            message = f"{_describe(way)} is no longer accepted"
            record.new_side("api-security-removed", message, pointer)
    for way in after:
        if way in before or way in explained:
            continue
        narrower = next((b for b in before if set(b) == set(way) and _accepts(way, b)), None)
        if narrower is not None:
            dropped = {s: sorted(narrower[s] - way[s]) for s in way if narrower[s] - way[s]}
            said = "; ".join(f"{s}: {', '.join(scopes)}" for s, scopes in dropped.items())
            record.new_side(
                "api-security-scope-removed", f"no longer requires scope(s) {said}", pointer
            )
        else:
            message = f"now also accepts {_describe(way)}"
            record.new_side("api-security-alternative-added", message, pointer)


def compare_schemes(record: Recorder, old: dict[str, Any], new: dict[str, Any]) -> None:
    """Schemes both contracts declare that now take credentials elsewhere or otherwise."""
    before = Node(old, "").child("components", "securitySchemes").entries()
    after = Node(new, "").child("components", "securitySchemes").entries()
    for name in before.keys() & after.keys():
        old_fields, new_fields = _fields(before[name].value), _fields(after[name].value)
        changed = sorted(
            k
            for k in old_fields.keys() | new_fields.keys()
            if old_fields.get(k) != new_fields.get(k)
        )
        for key in changed:
            message = (
                f"security scheme '{name}': {key} went from {old_fields.get(key)} "
                f"to {new_fields.get(key)}"
            )
            record.new_side("api-security-scheme-changed", message, after[name].pointer)


def _alternatives(security: Node) -> list[Alternative]:
    listed = security.value if isinstance(security.value, list) else []
    found = [
        {str(s): frozenset(map(str, scopes or ())) for s, scopes in way.items()}
        for way in listed
        if isinstance(way, dict)
    ]
    return found or [{}]


def _accepts(candidate: Alternative, way: Alternative) -> bool:
    """Whether a caller who satisfies `way` also satisfies `candidate`."""
    return all(s in way and candidate[s] <= way[s] for s in candidate)


def _describe(way: Alternative) -> str:
    if not way:
        return "an anonymous call"
    return " + ".join(
        f"{s} ({', '.join(sorted(scopes))})" if scopes else s for s, scopes in sorted(way.items())
    )


def _fields(scheme: Any) -> dict[str, Any]:
    if not isinstance(scheme, dict):
        return {}
    found = {key: scheme[key] for key in _SCHEME_FIELDS if key in scheme}
    flows = scheme.get("flows")
    for flow, settings in (flows if isinstance(flows, dict) else {}).items():
        for key in _FLOW_FIELDS:
            if isinstance(settings, dict) and key in settings:
                found[f"flows.{flow}.{key}"] = settings[key]
    return found
