"""Compare two versions of one schema, in a request or a response, down its properties.

A request schema says what clients send: narrowing it (a new bound, a value removed)
breaks them. A response schema says what clients read: widening it does. Each keyword
check here reports by the suffix of `rules.SCHEMA_RULES`; the subject in front (request
body, property, parameter; response body, property) says where the schema sits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from backsmith.verify.diff.changes import Recorder
from backsmith.verify.diff.resolve import Flat, Node, canonical, flatten
from backsmith.verify.diff.rules import BOUNDS, bound_rule

# What a schema below another is: a body's and a property's parts are properties; a
# parameter's parts stay the parameter's.
_CHILD_SUBJECT = {
    "request-body": "request-property",
    "request-property": "request-property",
    "request-parameter": "request-parameter",
    "response-body": "response-property",
    "response-property": "response-property",
}
_BRANCHES = {"oneOf": "one-of", "anyOf": "any-of"}


@dataclass(slots=True)
class SchemaComparison:
    """One schema's old and new versions, compared where `where` says it sits.

    `where` names it for people: "the request body (application/json)", "query parameter
    'limit'". Each pair of schemas is compared once, which also ends recursive schemas.
    """

    record: Recorder
    old_document: dict[str, Any]
    new_document: dict[str, Any]
    request: bool
    where: str
    seen: set[tuple[str, str]] = field(default_factory=set)

    def compare(self, old: Node, new: Node, subject: str, name: str = "") -> None:
        a, b = flatten(self.old_document, old), flatten(self.new_document, new)
        if (a.pointer, b.pointer) in self.seen:
            return
        self.seen.add((a.pointer, b.pointer))
        label = self._label(name)
        self._types(a, b, subject, label)
        self._enums(a, b, subject, label)
        self._bounds(a, b, subject, label)
        self._pattern(a, b, subject, label)
        self._unique(a, b, subject, label)
        self._additional(a, b, subject, label)
        self._branches(a, b, subject, label)
        self._properties(a, b, subject, name)
        old_items, new_items = a.get("items"), b.get("items")
        if isinstance(old_items, dict) and isinstance(new_items, dict):
            self.compare(
                Node(old_items, f"{a.pointer}/items"),
                Node(new_items, f"{b.pointer}/items"),
                _CHILD_SUBJECT[subject],
                f"{name}[]",
            )

    def _label(self, name: str) -> str:
        """How a message names the schema at `name` (a dotted path of properties)."""
        if not name:
            return self.where
        if name == "[]":
            return f"the items of {self.where}"
        return f"property '{name}' of {self.where}"

    def _report(self, subject: str, suffix: str, message: str, pointer: str) -> None:
        self.record.new_side(f"{subject}-{suffix}", message, pointer)

    def _types(self, a: Flat, b: Flat, subject: str, label: str) -> None:
        old_types, new_types = _types(a), _types(b)
        old_null, new_null = _nullable(a, old_types), _nullable(b, new_types)
        if old_null != new_null:
            suffix = "became-nullable" if new_null else "became-not-nullable"
            became = "may now be null" if new_null else "may no longer be null"
            self._report(subject, suffix, f"{label} {became}", b.pointer_of("type"))
        old_kind = (_without_null(old_types), a.get("format"))
        new_kind = (_without_null(new_types), b.get("format"))
        if old_kind == new_kind:
            return
        wider, narrower = _covers(old_kind, new_kind), _covers(new_kind, old_kind)
        if wider and narrower:
            return
        suffix = "type-generalized" if wider else "type-specialized" if narrower else "type-changed"
        message = f"{label} changed type from {_describe(*old_kind)} to {_describe(*new_kind)}"
        pointer = b.pointer_of("type") if "type" in b.keywords else b.pointer_of("format")
        self._report(subject, suffix, message, pointer)

    def _enums(self, a: Flat, b: Flat, subject: str, label: str) -> None:
        old, new = _enum(a), _enum(b)
        if old is None and new is None:
            return
        pointer = b.pointer_of("enum") if "enum" in b.keywords else b.pointer_of("const")
        if old is None:
            listed = ", ".join(new or ())
            self._report(subject, "became-enum", f"{label} now takes only {listed}", pointer)
        elif new is None:
            self._report(subject, "became-not-enum", f"{label} is no longer an enum", pointer)
        else:
            removed, added = [v for v in old if v not in new], [v for v in new if v not in old]
            if removed:
                message = f"{label} lost enum value{_s(removed)} {', '.join(removed)}"
                self._report(subject, "enum-value-removed", message, pointer)
            if added:
                message = f"{label} has new enum value{_s(added)} {', '.join(added)}"
                self._report(subject, "enum-value-added", message, pointer)

    def _bounds(self, a: Flat, b: Flat, subject: str, label: str) -> None:
        for keyword, (_, upper) in BOUNDS.items():
            old, new = _number(a.get(keyword)), _number(b.get(keyword))
            if old == new:
                continue
            if new is None:
                narrowed, said = False, f"{keyword} {old} was removed"
            elif old is None:
                narrowed, said = True, f"{keyword} {new} was set"
            else:
                narrowed = new < old if upper else new > old
                said = f"{keyword} went from {old} to {new}"
            message = f"{label}: {said}"
            self._report(subject, bound_rule(keyword, narrowed), message, b.pointer_of(keyword))

    def _pattern(self, a: Flat, b: Flat, subject: str, label: str) -> None:
        old, new = a.get("pattern"), b.get("pattern")
        if old == new:
            return
        if old is None:
            suffix, said = "pattern-added", f"must now match {new}"
        elif new is None:
            suffix, said = "pattern-removed", f"no longer has to match {old}"
        else:
            suffix, said = "pattern-changed", f"must now match {new}, not {old}"
        self._report(subject, suffix, f"{label} {said}", b.pointer_of("pattern"))

    def _unique(self, a: Flat, b: Flat, subject: str, label: str) -> None:
        old, new = a.get("uniqueItems") is True, b.get("uniqueItems") is True
        if old != new:
            suffix = "unique-items-set" if new else "unique-items-unset"
            said = "may no longer repeat an item" if new else "may now repeat an item"
            self._report(subject, suffix, f"{label} {said}", b.pointer_of("uniqueItems"))

    def _additional(self, a: Flat, b: Flat, subject: str, label: str) -> None:
        """An object that stops (or starts) taking properties it does not name. A schema
        as `additionalProperties` still takes them, as leaving the keyword out does."""
        if not (_object(a) and _object(b)):
            return
        old = a.get("additionalProperties") is not False
        new = b.get("additionalProperties") is not False
        if old != new:
            suffix = f"additional-properties-{'allowed' if new else 'forbidden'}"
            said = "now takes" if new else "no longer takes"
            message = f"{label} {said} properties it does not name"
            self._report(subject, suffix, message, b.pointer_of("additionalProperties"))

    def _branches(self, a: Flat, b: Flat, subject: str, label: str) -> None:
        for keyword, word in _BRANCHES.items():
            old, new = self._branch_texts(a, keyword, True), self._branch_texts(b, keyword, False)
            removed, added = (
                len([t for t in old if t not in new]),
                len([t for t in new if t not in old]),
            )
            pointer = b.pointer_of(keyword)
            if removed:
                message = f"{label} lost {removed} {keyword} branch{_es(removed)}"
                self._report(subject, f"{word}-removed", message, pointer)
            if added:
                message = f"{label} has {added} new {keyword} branch{_es(added)}"
                self._report(subject, f"{word}-added", message, pointer)

    def _branch_texts(self, flat: Flat, keyword: str, old: bool) -> list[str]:
        branches = flat.get(keyword)
        document = self.old_document if old else self.new_document
        return [canonical(document, b) for b in branches] if isinstance(branches, list) else []

    def _properties(self, a: Flat, b: Flat, subject: str, name: str) -> None:
        hidden = "readOnly" if self.request else "writeOnly"
        child = _CHILD_SUBJECT[subject]
        for prop in [*a.properties, *(p for p in b.properties if p not in a.properties)]:
            old, new = a.properties.get(prop), b.properties.get(prop)
            old_flat = flatten(self.old_document, old) if old is not None else None
            new_flat = flatten(self.new_document, new) if new is not None else None
            old_shown = old_flat is not None and old_flat.get(hidden) is not True
            new_shown = new_flat is not None and new_flat.get(hidden) is not True
            path = f"{name}.{prop}" if name else prop
            label = self._label(path)
            if old_shown and new_shown and old is not None and new is not None:
                self._required(prop in a.required, prop in b.required, label, new.pointer)
                self.compare(old, new, child, path)
            elif old_shown and old is not None:
                self._gone(label, old, new, prop in a.required, hidden)
            elif new_shown and new is not None:
                self._added(label, new, prop in b.required, old is not None, hidden)

    def _required(self, was: bool, now: bool, label: str, pointer: str) -> None:
        if was == now:
            return
        if self.request:
            rule = "request-property-became-required" if now else "request-property-became-optional"
        else:
            rule = (
                "response-property-became-required" if now else "response-property-became-optional"
            )
        self.record.new_side(rule, f"{label} became {'required' if now else 'optional'}", pointer)

    def _gone(self, label: str, old: Node, new: Node | None, required: bool, hidden: str) -> None:
        if new is not None:  # still there, now hidden from this direction
            rule = (
                "request-property-became-read-only"
                if self.request
                else "response-property-became-write-only"
            )
            self.record.new_side(rule, f"{label} became {hidden}", new.pointer)
        elif self.request:
            self.record.old_side("request-property-removed", f"{label} was removed", old.pointer)
        else:
            kind = "required" if required else "optional"
            rule = f"response-{kind}-property-removed"
            self.record.old_side(rule, f"{label} ({kind}) was removed", old.pointer)

    def _added(self, label: str, new: Node, required: bool, was_hidden: bool, hidden: str) -> None:
        kind = "required" if required else "optional"
        rule = f"new-{kind}-request-property" if self.request else f"response-{kind}-property-added"
        said = f"is no longer {hidden}" if was_hidden else "was added"
        self.record.new_side(rule, f"{label} ({kind}) {said}", new.pointer)


def _object(flat: Flat) -> bool:
    """Whether a schema describes an object: typed so, or naming properties."""
    types = _types(flat)
    return bool(flat.properties) or (types is not None and "object" in types)


def _types(flat: Flat) -> frozenset[str] | None:
    """The JSON types a schema allows; None for any."""
    declared = flat.get("type")
    if isinstance(declared, str):
        return frozenset({declared})
    if isinstance(declared, list):
        return frozenset(t for t in declared if isinstance(t, str))
    return None


def _nullable(flat: Flat, types: frozenset[str] | None) -> bool:
    return flat.get("nullable") is True or (types is not None and "null" in types)


def _without_null(types: frozenset[str] | None) -> frozenset[str] | None:
    return None if types is None else types - {"null"}


Kind = tuple[frozenset[str] | None, Any]


def _covers(narrow: Kind, wide: Kind) -> bool:
    """Whether every value of kind `narrow` is also one of `wide` (integer is a number)."""
    (narrow_types, narrow_format), (wide_types, wide_format) = narrow, wide
    if wide_format is not None and wide_format != narrow_format:
        return False
    if wide_types is None:
        return True
    if narrow_types is None:
        return False
    return all(t in wide_types or (t == "integer" and "number" in wide_types) for t in narrow_types)


def _describe(types: frozenset[str] | None, format: Any) -> str:
    named = " or ".join(sorted(types)) if types else "any type"
    return f"{named} ({format})" if format is not None else named


def _enum(flat: Flat) -> list[str] | None:
    """The allowed values as JSON text (an enum, or a const's one), None for any."""
    if isinstance(flat.get("enum"), list):
        values = [v for v in flat.get("enum") if v is not None]
    elif "const" in flat.keywords:
        values = [flat.get("const")]
    else:
        return None
    return [json.dumps(v, sort_keys=True) for v in values]


def _number(value: Any) -> int | float | None:
    """A bound's number; OpenAPI 3.0's boolean exclusiveMaximum is not one."""
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _s(items: list[str]) -> str:
    return "" if len(items) == 1 else "s"


def _es(count: int) -> str:
    return "" if count == 1 else "es"
