"""Path templates -> targets: a segment trie, static segments before parameters."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

_PARAM = re.compile(r"\{([^}/]+)\}")


@dataclass(slots=True)
class _Node:
    static: dict[str, _Node] = field(default_factory=dict)
    patterns: list[tuple[re.Pattern[str], list[str], _Node]] = field(default_factory=list)
    param: _Node | None = None
    param_name: str = ""
    methods: dict[str, Any] | None = None
    template: str = ""


@dataclass(slots=True)  # made for every request: a frozen dataclass costs three times as much
class Match:
    """A matched path: its template, targets by method, and the parameter values in order."""

    template: str
    methods: dict[str, tuple[Any, list[str]]]
    values: list[str]

    def target(self, method: str) -> tuple[Any, dict[str, str]] | None:
        """The target for `method` and its named path parameters, or None (405)."""
        entry = self.methods.get(method)
        if entry is None:
            return None
        target, names = entry
        return target, dict(zip(names, self.values, strict=True))


class Router:
    """Matches request paths against the contract's path templates."""

    def __init__(self) -> None:
        self._root = _Node()

    def add(self, template: str, method: str, target: Any) -> None:
        node = self._root
        names: list[str] = []
        for segment in _segments(template):
            whole = _PARAM.fullmatch(segment)
            if whole:
                if node.param is None:
                    node.param = _Node()
                names.append(whole.group(1))
                node = node.param
            elif "{" in segment:
                parts = _PARAM.split(segment)
                regex = "".join(
                    re.escape(p) if i % 2 == 0 else "(.+?)" for i, p in enumerate(parts)
                )
                compiled = re.compile(regex + "$")
                existing = next(
                    (n for p, _, n in node.patterns if p.pattern == compiled.pattern), None
                )
                if existing is None:
                    existing = _Node()
                    node.patterns.append((compiled, parts[1::2], existing))
                names.extend(parts[1::2])
                node = existing
            else:
                node = node.static.setdefault(segment, _Node())
        if node.methods is None:
            node.methods = {}
            node.template = template
        node.methods[method.upper()] = (target, names)

    def match(self, path: str) -> Match | None:
        found = _walk(self._root, _segments(path), 0, [])
        if found is None:
            return None
        node, values = found
        assert node.methods is not None
        return Match(node.template, node.methods, values)


def _segments(path: str) -> list[str]:
    inner = path.strip("/")
    return inner.split("/") if inner else []


def _walk(
    node: _Node, segments: list[str], index: int, values: list[str]
) -> tuple[_Node, list[str]] | None:
    if index == len(segments):
        return (node, values) if node.methods is not None else None
    segment = segments[index]
    child = node.static.get(segment)
    if child is not None:
        found = _walk(child, segments, index + 1, values)
        if found is not None:
            return found
    for pattern, _names, sub in node.patterns:
        matched = pattern.match(segment)
        if matched:
            found = _walk(sub, segments, index + 1, [*values, *matched.groups()])
            if found is not None:
                return found
    if node.param is not None and segment:
        return _walk(node.param, segments, index + 1, [*values, segment])
    return None
