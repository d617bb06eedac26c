"""Parse YAML or JSON text into plain data plus the line of every JSON pointer."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from backsmith.errors import ContractError, Issue

try:  # libyaml is much faster on large contracts; fall back to the pure-Python parser
    _BaseLoader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _BaseLoader = yaml.SafeLoader


class _ContractLoader(_BaseLoader):  # type: ignore[misc]
    """SafeLoader that keeps timestamps as strings (contracts are JSON data) and reads
    booleans as YAML 1.2 does, which OpenAPI and Swagger name: `on`, `off`, `yes` and `no`
    are words (a property `on`, an enum of `yes` and `no`), only `true` and `false` are not."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.checked: set[int] = set()  # mappings whose keys were compared for duplicates


_BOOL = "tag:yaml.org,2002:bool"
_ContractLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if tag not in ("tag:yaml.org,2002:timestamp", _BOOL)
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_ContractLoader.add_implicit_resolver(
    _BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


@dataclass(slots=True)
class Located:
    """A parsed document and where each of its JSON pointers starts (1-based lines)."""

    data: Any
    file: str
    lines: dict[str, int] = field(default_factory=dict)

    def line_of(self, pointer: str) -> int | None:
        """The line of `pointer`, or of its nearest ancestor that has one."""
        while True:
            if pointer in self.lines:
                return self.lines[pointer]
            if not pointer:
                return None
            pointer = pointer.rsplit("/", 1)[0]


def escape(token: str) -> str:
    """Escape one JSON-pointer reference token (RFC 6901)."""
    return token.replace("~", "~0").replace("/", "~1")


def unescape(token: str) -> str:
    """Undo `escape`."""
    return token.replace("~1", "/").replace("~0", "~")


def nearest_position(
    positions: Mapping[str, tuple[str, int | None]], pointer: str, file: str
) -> tuple[str, int | None]:
    """File and line of `pointer`, or of its nearest located ancestor (`file` at the root)."""
    probe = pointer
    while probe not in positions:
        if not probe:
            return file, None
        probe = probe.rsplit("/", 1)[0]
    return positions[probe]


def parse_text(text: str, file: str, first_line: int = 1) -> Located:
    """Parse YAML (a superset of JSON) text; `first_line` is where the text starts in `file`."""
    loader = _ContractLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return Located(None, file)
        lines: dict[str, int] = {}
        data = _build(loader, node, "", lines, first_line - 1)
    except _Duplicate as duplicate:
        raise ContractError([Issue(duplicate.message, file, duplicate.line)]) from None
    except RecursionError:  # `x: &a {k: *a}`: an anchor inside itself never ends
        message = "an anchor is used inside itself (`&a` ... `*a`): the value would never end"
        raise ContractError([Issue(message, file)]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + first_line if mark is not None else None
        problem = getattr(exc, "problem", None) or str(exc)
        raise ContractError([Issue(f"not valid YAML/JSON: {problem}", file, line)]) from None
    finally:
        loader.dispose()
    return Located(data, file, lines)


def _build(loader: Any, node: yaml.Node, pointer: str, lines: dict[str, int], offset: int) -> Any:
    lines[pointer] = node.start_mark.line + 1 + offset
    if isinstance(node, yaml.MappingNode):
        if id(node) not in loader.checked:  # a mapping met again through an alias is merged
            loader.checked.add(id(node))
            _refuse_duplicates(loader, node, offset)
        loader.flatten_mapping(node)
        result: dict[str, Any] = {}
        for key_node, value_node in node.value:
            key = _key(loader, key_node)
            result[key] = _build(loader, value_node, f"{pointer}/{escape(key)}", lines, offset)
        return result
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(loader, item, f"{pointer}/{index}", lines, offset)
            for index, item in enumerate(node.value)
        ]
    return loader.construct_object(node, deep=True)


def _key(loader: Any, key_node: yaml.Node) -> str:
    """A mapping key as OpenAPI has it: text (YAML lets `200:` be an integer, `true:` a
    boolean)."""
    key = loader.construct_object(key_node, deep=True)
    return str(key).lower() if isinstance(key, bool) else str(key)


class _Duplicate(Exception):
    def __init__(self, message: str, line: int) -> None:
        super().__init__(message)
        self.message, self.line = message, line


def _refuse_duplicates(loader: Any, node: yaml.MappingNode, offset: int) -> None:
    """A key written twice in one mapping: YAML forbids it, and a parser keeping only the
    last would drop the first's value unseen (a second root `x-backsmith`). Keys a merge
    (`<<`) brings in may be overridden: only the mapping's own keys are compared."""
    seen: dict[str, int] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue
        key = _key(loader, key_node)
        line = key_node.start_mark.line + 1 + offset
        if key in seen:
            message = (
                f"the key '{key}' is written twice in one mapping (first at line "
                f"{seen[key]}): YAML keeps one; merge the two"
            )
            raise _Duplicate(message, line)
        seen[key] = line
