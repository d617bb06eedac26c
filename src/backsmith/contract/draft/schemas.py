"""Turn sketches of bodies into JSON schemas: types, formats, enums and required members.

Example values give their type (genson merges several examples, and the items of a list,
into one schema); formats come from values and names (an `email`, a UUID, a date-time, a
URL); a union of strings is an enum; a member written without a value takes its type from
its name. Every such inference that one example or one name decided is a guess, kept so
the report can list it.
"""

from __future__ import annotations

import math
import re
from typing import Any

from genson import SchemaBuilder

from backsmith.contract.draft.sketch import SketchObject, TypeName, Union, Unknown
from backsmith.model.naming import singular

Schema = dict[str, Any]

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
_DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?$")
_DATE = re.compile(r"^\d{4}-\d\d-\d\d$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_URL = re.compile(r"^https?://\S+$")

# Type words of TypeScript, Java, Python, SQL and prose, lower-cased, by what they mean.
_TYPE_GROUPS: tuple[tuple[tuple[str, ...], Schema], ...] = (
    (("string", "str", "text", "varchar", "char", "enum"), {"type": "string"}),
    (("number", "float", "double", "decimal", "numeric"), {"type": "number"}),
    (("int", "integer", "long", "bigint", "int32", "int64", "short"), {"type": "integer"}),
    (("bool", "boolean"), {"type": "boolean"}),
    (("uuid", "guid"), {"type": "string", "format": "uuid"}),
    (("date",), {"type": "string", "format": "date"}),
    (
        ("datetime", "date-time", "timestamp", "iso8601", "instant", "localdatetime"),
        {"type": "string", "format": "date-time"},
    ),
    (("email",), {"type": "string", "format": "email"}),
    (("url", "uri"), {"type": "string", "format": "uri"}),
    (("object", "map", "json", "dict"), {"type": "object"}),
    (("array", "list"), {"type": "array"}),
)
_TYPE_WORDS: dict[str, Schema] = {word: schema for words, schema in _TYPE_GROUPS for word in words}
_NUMBER_NAMES = re.compile(
    r"(^|_)(count|total|quantity|qty|amount|price|cost|moq|size|number|num|age|year|"
    r"days|hours|minutes|seconds|limit|page|offset|version|score|rank|order|position|"
    r"weight|height|width|length)$"
)


def type_word(word: str) -> Schema | None:
    """The schema a type word names (`string`, `int`, `UUID`, `ISO8601`), or None."""
    lowered = word.lower().strip("`*_ ").rstrip("?")
    lowered = re.sub(r"\(.*\)$", "", lowered).strip()
    if lowered.endswith("[]"):
        inner = type_word(lowered[:-2])
        return {"type": "array", "items": inner} if inner is not None else None
    found = _TYPE_WORDS.get(lowered)
    return dict(found) if found is not None else None


def by_name(name: str) -> tuple[Schema, bool]:
    """The schema a member's name suggests, and whether that is a guess (not a plain string)."""
    snake = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()
    if snake.startswith(("is_", "has_", "can_", "should_")) or snake in ("enabled", "active"):
        return {"type": "boolean"}, True
    if snake.endswith("_at") or snake in ("timestamp", "created", "updated"):
        return {"type": "string", "format": "date-time"}, True
    if snake.endswith("_date") or snake == "date":
        return {"type": "string", "format": "date"}, True
    if snake == "email" or snake.endswith("_email"):
        return {"type": "string", "format": "email"}, True
    if snake.endswith(("_url", "_uri")) or snake in ("url", "uri", "link"):
        return {"type": "string", "format": "uri"}, True
    if _NUMBER_NAMES.search(snake):
        return {"type": "integer"}, True
    if snake.endswith("_ids"):
        return {"type": "array", "items": {"type": "string"}}, True
    return {"type": "string"}, False


def format_of(name: str, value: str) -> str | None:
    """The format a string example shows: uuid, date-time, date, email or uri."""
    if _UUID.match(value):
        return "uuid"
    if _DATE_TIME.match(value):
        return "date-time"
    if _DATE.match(value):
        return "date"
    if _EMAIL.match(value):
        return "email"
    if _URL.match(value):
        return "uri"
    return by_name(name)[0].get("format") if name else None


def merge(schemas: list[Schema]) -> Schema:
    """One schema accepting what each of `schemas` accepts (genson's merge)."""
    if not schemas:
        return {}
    if len(schemas) == 1:
        return schemas[0]
    builder = SchemaBuilder(schema_uri=None)
    for schema in schemas:
        builder.add_schema(schema)
    merged: Schema = _tidy(builder.to_schema())
    return merged


def _tidy(schema: Any) -> Any:
    """genson's merge said the OpenAPI 3.1 way: a type and null as `[type, "null"]`."""
    if isinstance(schema, list):
        return [_tidy(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    tidy = _simplify({key: _tidy(value) for key, value in schema.items()})
    if isinstance(tidy.get("type"), list):
        tidy["type"] = sorted(tidy["type"], key=lambda kind: kind == "null")
    return tidy


def _simplify(schema: Schema) -> Schema:
    """genson keeps `anyOf` of a type and null: say it the OpenAPI 3.1 way."""
    options = schema.get("anyOf")
    if isinstance(options, list) and len(options) == 2:
        typed = [o for o in options if o.get("type") != "null"]
        if len(typed) == 1 and isinstance(typed[0].get("type"), str):
            return {**typed[0], "type": [typed[0]["type"], "null"]}
    return schema


class SchemaMaker:
    """Schemas of sketches, collecting the guesses made on the way."""

    def __init__(self, named: frozenset[str] = frozenset()) -> None:
        self.guesses: list[str] = []
        self.named = named  # types the spec defines under their own heading

    def schema(self, value: Any, name: str = "", required_all: bool = False) -> Schema:
        """The schema of one sketched value; `name` is the member it is the value of."""
        if isinstance(value, SketchObject | dict):
            return self._object(value, required_all)
        if isinstance(value, list):
            items = [self.schema(item, singular(name)) for item in value]
            return {"type": "array", "items": merge(items)} if items else {"type": "array"}
        if isinstance(value, Union):
            return self._union(value, name)
        if isinstance(value, TypeName):
            return self._typed(value, name)
        if isinstance(value, Unknown):
            schema, guessed = by_name(name)
            if name:
                how = "from its name" if guessed else "nothing said: a string"
                self.guesses.append(f"{name}: {_describe(schema)} ({how})")
            return schema
        if value is None:
            schema, _ = by_name(name)
            if name:
                self.guesses.append(f"{name}: {_describe(schema)} or null (null in the example)")
            return {**schema, "type": [schema["type"], "null"]}
        if isinstance(value, bool):
            return {"type": "boolean"}
        if isinstance(value, int):
            return {"type": "integer"}
        if isinstance(value, float):
            return {"type": "number"}
        schema = {"type": "string"}
        fmt = format_of(name, str(value))
        if fmt:
            schema["format"] = fmt
        return schema

    def _object(self, value: dict[str, Any], required_all: bool) -> Schema:
        properties = {key: self.schema(member, key) for key, member in value.items()}
        optional = value.optional if isinstance(value, SketchObject) else set()
        schema: Schema = {"type": "object", "properties": properties}
        required = [key for key in value if key not in optional]
        if (optional or required_all) and required:
            schema["required"] = required
        notes = value.notes if isinstance(value, SketchObject) else {}
        for key, note in notes.items():
            properties[key]["description"] = note
        return schema

    def _union(self, value: Union, name: str) -> Schema:
        nullable = any(option is None for option in value.options)
        options = [option for option in value.options if option is not None]
        if options and all(isinstance(option, str) for option in options):
            schema: Schema = {"type": "string", "enum": list(dict.fromkeys(options))}
        elif options:
            schema = merge([self.schema(option, name) for option in options])
        else:
            schema = {}
        if nullable and isinstance(schema.get("type"), str):
            schema["type"] = [schema["type"], "null"]
            if "enum" in schema:
                schema["enum"] = [*schema["enum"], None]
        return schema

    def _typed(self, value: TypeName, name: str) -> Schema:
        if value.name in self.named:
            return {"$ref": f"#/components/schemas/{value.name}"}
        schema = type_word(value.name)
        if schema is None:  # any, T, a named type the text does not define
            schema = {}
            if name:
                self.guesses.append(f"{name}: any value ('{value.name}' is not defined here)")
        limit = re.search(r"max(?:imum)?\s*:?\s*(\d+)", value.note)
        if limit and schema.get("type") == "string":
            schema["maxLength"] = int(limit[1])
        elif limit and schema.get("type") in ("integer", "number"):
            schema["maximum"] = int(limit[1])
        default = re.search(r"default\s*:?\s*(\S+)", value.note)
        value_of = scalar_of(default[1].strip("\"'`"), schema.get("type")) if default else None
        if value_of is not None and schema.get("type"):
            schema["default"] = value_of
        return schema


def scalar_of(text: str, kind: Any) -> Any:
    """A default written as text, as a value of its type; None when it is not one."""
    try:
        if kind == "integer":
            number = int(text)
            return number if -(2**63) <= number < 2**63 else None
        if kind == "number":
            value = float(text)
            return value if math.isfinite(value) else None
    except ValueError:
        return None
    if kind == "boolean":
        return {"true": True, "false": False}.get(text.lower())
    return text


def _describe(schema: Schema) -> str:
    kind = schema.get("type", "any")
    return f"{kind} ({schema['format']})" if "format" in schema else str(kind)
