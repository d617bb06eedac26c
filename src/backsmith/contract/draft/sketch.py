"""Read the bodies people write in prose specs: JSON, broken JSON and TypeScript-like notes.

`{"name": "Ann",}`, `{ name, parent_id?, sort_order? }`, `{ status: "open" | "closed" }`,
`Array<{ id: string }>`, `page?: number`, `// out of 20` and `/* ... */` all turn into a
sketch: plain Python values where the text gave example values, and the markers below
where it gave types, unions or nothing at all. Reading never fails: what cannot be read is
left out, and `Sketch.broken` says the text was not clean JSON.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Smart quotes and other look-alikes editors put into examples.
_TRANSLATE = str.maketrans(
    {"\u201c": '"', "\u201d": '"', "\u201e": '"', "\u2018": "'", "\u2019": "'", "\u00a0": " "}
)
# Bodies nest a few levels; deeper is read as unknown, so no text can exhaust the stack.
_DEEPEST = 24
_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<line_comment>//[^\n]*|\#[^\n{]*(?=\n|$))
  | (?P<block_comment>/\*.*?(?:\*/|$))
  | (?P<string>"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')
  | (?P<ellipsis>\.\.\.|…)
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w-]))
  | (?P<word>[^\s{}\[\]:,|<>?()="'/]+(?:/[^\s{}\[\]:,|<>?()="'/]+)*)
  | (?P<punct>[{}\[\]:,|<>?()=])
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class TypeName:
    """A type written where a value would be: `string`, `number`, `UUID`, `T`."""

    name: str
    note: str = ""  # what followed in parentheses: `(max 50)`, `(default: 1)`


@dataclass(frozen=True, slots=True)
class Union:
    """`"a" | "b"`, `string | null`: one of several values or types."""

    options: tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class Unknown:
    """A member written without a value (`{ id, name }`) or a `/* ... */` placeholder."""


class SketchObject(dict[str, Any]):
    """An object of a sketch; `optional` holds the members marked `?`, `notes` the comments
    written beside members (`// out of 20`)."""

    def __init__(self) -> None:
        super().__init__()
        self.optional: set[str] = set()
        self.notes: dict[str, str] = {}


@dataclass(slots=True)
class Sketch:
    """What a body's text says, and whether it was clean JSON."""

    value: Any
    broken: bool = False
    typed: bool = False  # types written instead of values, somewhere inside


def read_sketch(text: str) -> Sketch | None:
    """The sketch of the first object or array in `text`, or None when it holds none."""
    tokens = _tokens(text.translate(_TRANSLATE))
    start = next((i for i, t in enumerate(tokens) if t[1] in ("{", "[")), None)
    if len(tokens) > 1 and tokens[0][0] == "word" and tokens[1][1] == "<":
        start = 0  # Array<{...}>
    if start is None:
        return None
    reader = _Reader(tokens, start)
    value = reader.value()
    if isinstance(value, Unknown):
        return None
    return Sketch(value, reader.broken, reader.typed)


def read_value(text: str) -> Any:
    """The sketch of a lone value: `string (max 50)`, `"a" | "b"`, `number`."""
    tokens = _tokens(text.translate(_TRANSLATE))
    if not tokens:
        return Unknown()
    return _Reader(tokens, 0).value()


def _tokens(text: str) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup or "other"
        if kind == "space":
            continue
        found.append((kind, match.group()))
    return found


class _Reader:
    """A forgiving recursive-descent reader over the tokens."""

    def __init__(self, tokens: list[tuple[str, str]], start: int) -> None:
        self.tokens = tokens
        self.at = start
        self.broken = False
        self.typed = False
        self.last_comment: tuple[int, str] = (-1, "")
        self.depth = 0  # the latest comment passed, and where

    def peek(self) -> tuple[str, str]:
        self._skip_comments()
        return self.tokens[self.at] if self.at < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.at += 1
        return token

    def _skip_comments(self) -> None:
        while self.at < len(self.tokens) and self.tokens[self.at][0] in (
            "line_comment",
            "block_comment",
        ):
            if self.tokens[self.at][0] == "line_comment":
                self.last_comment = (self.at, self.tokens[self.at][1].lstrip("/#").strip())
            self.at += 1

    def comment_here(self, since: int) -> str:
        """The comment written after the member read from `since` on, if any."""
        if self.last_comment[0] >= since:
            return self.last_comment[1]
        probe = self.at
        while probe < len(self.tokens) and self.tokens[probe][1] == ",":
            probe += 1
        if probe < len(self.tokens) and self.tokens[probe][0] == "line_comment":
            return self.tokens[probe][1].lstrip("/#").strip()
        return ""

    def value(self) -> Any:
        first = self.primary()
        options = [first]
        while self.peek()[1] == "|":
            self.take()
            options.append(self.primary())
        value = first if len(options) == 1 else Union(tuple(options))
        if self.peek()[1] == "(":
            note = self._parenthesised()
            if isinstance(value, TypeName):
                value = TypeName(value.name, note)
        return value

    def _parenthesised(self) -> str:
        self.take()
        depth, words = 1, []
        while self.peek()[0] != "end":
            _, text = self.take()
            if text == "(":
                depth += 1
            elif text == ")":
                depth -= 1
                if not depth:
                    break
            words.append(text)
        return " ".join(words).replace(" :", ":")

    def primary(self) -> Any:
        kind, text = self.peek()
        if text == "{":
            return self.object()
        if text == "[":
            return self.array()
        if kind == "string":
            self.take()
            if text.startswith("'"):
                self.broken = True
            return _unquote(text)
        if kind == "number":
            self.take()
            return _number(text)
        if kind == "ellipsis":
            self.take()
            return Unknown()
        if kind == "word":
            self.take()
            return self._word(text)
        self.broken = True
        if kind != "end" and text not in ",}]":
            self.take()
        return Unknown()

    def _word(self, text: str) -> Any:
        lowered = text.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        if lowered in ("null", "none", "nil", "undefined"):
            return None
        self.typed = True
        self.broken = True
        if self.peek()[1] == "<":  # Array<{...}>, Record<string, T>, ApiResponse<T>
            self.take()
            inner = self.value()
            while self.peek()[1] == ",":
                self.take()
                inner = self.value()
            if self.peek()[1] == ">":
                self.take()
            if lowered in ("array", "list", "set"):
                return [inner]
            return inner if lowered in ("record", "map", "partial") else TypeName(text)
        if self.peek()[1] == "[" and self._next_is("]"):  # string[]
            self.take(), self.take()
            return [TypeName(text)]
        return TypeName(text)

    def _next_is(self, text: str) -> bool:
        probe = self.at + 1
        return probe < len(self.tokens) and self.tokens[probe][1] == text

    def object(self) -> SketchObject:
        result = SketchObject()
        self._nested("{", "}", lambda: self._members(result))
        return result

    def _nested(self, opening: str, closing: str, read: Callable[[], None]) -> None:
        """Read what the bracket at hand opens, one level deeper; past the deepest level a
        body is read to, pass over it: its members are unknown."""
        self.take()  # the opening bracket
        if self.depth >= _DEEPEST:
            self._skip_nested(opening, closing)
            return
        self.depth += 1
        try:
            read()
        finally:
            self.depth -= 1

    def _skip_nested(self, opening: str, closing: str) -> None:
        """Pass over the rest of a bracket, with all it holds."""
        depth = 1
        while depth and self.at < len(self.tokens):
            text = self.tokens[self.at][1]
            depth += (text == opening) - (text == closing)
            self.at += 1

    def _members(self, result: SketchObject) -> None:
        while True:
            kind, text = self.peek()
            if text == "}":
                self.take()
                return
            if kind == "end":
                self.broken = True
                return
            if text == ",":
                self.take()
                continue
            if kind == "ellipsis":
                self.take()
                continue
            if kind not in ("string", "word", "number"):
                self.broken = True
                self.take()
                continue
            self.take()
            key = _unquote(text) if kind == "string" else text
            if kind != "string":
                self.broken = True
            if self.peek()[1] == "?":
                self.take()
                result.optional.add(key)
            since = self.at
            if self.peek()[1] in (":", "="):
                self.take()
                value = self.value()
            else:
                value = Unknown()
                self.typed = True
            result[key] = value
            note = self.comment_here(since)
            if note:
                result.notes[key] = note
            if self.peek()[1] not in (",", "}") and self.peek()[0] != "end":
                self.broken = True  # a missing comma: keep reading the next member

    def array(self) -> list[Any]:
        items: list[Any] = []
        self._nested("[", "]", lambda: self._items(items))
        return items

    def _items(self, items: list[Any]) -> None:
        while True:
            kind, text = self.peek()
            if text == "]":
                self.take()
                return
            if kind == "end":
                self.broken = True
                return
            if text == ",":
                self.take()
                continue
            before = self.at
            item = self.value()
            if not isinstance(item, Unknown):
                items.append(item)
            if self.at == before:
                self.take()


def _number(text: str) -> Any:
    """An example number as a value JSON keeps: a 64-bit integer, a finite float, or
    Unknown for one no column could hold."""
    try:
        if not any(c in text for c in ".eE"):
            number = int(text)
            return number if -(2**63) <= number < 2**63 else Unknown()
        value = float(text)
    except ValueError:  # more digits than Python reads as an int
        return Unknown()
    return value if math.isfinite(value) else Unknown()


def _unquote(text: str) -> str:
    body = text[1:-1]
    if "\\" not in body:
        return body
    return re.sub(r"\\(.)", lambda m: {"n": "\n", "t": "\t"}.get(m[1], m[1]), body)
