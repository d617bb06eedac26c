"""The schema of one body: its example's sketch, the fields its tables list, merged.

The example gives the shape; a field table or bullet list gives types, required marks and
descriptions, placed on the object of the example that holds most of its names (the
`data` of a wrapper, each row of a page), or, without an example, the body itself.
"""

from __future__ import annotations

from typing import Any

from backsmith.contract.draft.details import Body
from backsmith.contract.draft.schemas import Schema, SchemaMaker, by_name, scalar_of
from backsmith.contract.draft.tables import Field


def body_schema(
    body: Body, required_all: bool = False, named: frozenset[str] = frozenset()
) -> tuple[Schema, list[str]]:
    """The schema of `body`, and the guesses made on the way; `named` are the types the
    spec defines, which a member naming one refers to."""
    maker = SchemaMaker(named)
    schema: Schema = {}
    if body.sketch is not None:
        schema = maker.schema(body.sketch.value, required_all=required_all)
        if body.sketch.typed:
            required_all = False
    guesses = list(maker.guesses)
    if body.sketch is not None and body.sketch.broken and not body.sketch.typed:
        guesses.append(f"the example at line {body.line} is not clean JSON: read leniently")
    if body.fields:
        target = _holder(schema, [f.name for f in body.fields])
        if target is None:
            schema = {"type": "object", "properties": {}}
            target = schema
        _apply(target, body.fields, guesses)
    return schema, guesses


def field_schema(one: Field) -> Schema:
    """The schema of one field: what its type says, else what its name suggests."""
    schema = dict(one.schema) if one.schema else by_name(one.name)[0]
    if one.nullable and isinstance(schema.get("type"), str):
        schema["type"] = [schema["type"], "null"]
    if one.description:
        schema["description"] = one.description
    example = one.example
    if isinstance(example, str) and schema.get("type") in ("integer", "number", "boolean"):
        example = scalar_of(example, schema["type"])  # `?page=1` shows the integer 1
    if example not in (None, ""):
        schema["example"] = example
    return schema


def _apply(target: Schema, fields: list[Field], guesses: list[str]) -> None:
    properties: dict[str, Any] = target.setdefault("properties", {})
    required = list(target.get("required") or [])
    for one in fields:
        known = properties.get(one.name) or {}
        written = field_schema(one)
        if one.schema is None and known:
            written = {**known, **{k: v for k, v in written.items() if k != "type"}}
        else:
            written = {**known, **written}
        properties[one.name] = written
        guesses.extend(f"{g} (line {one.line})" for g in one.guesses)
        if one.required is True and one.name not in required:
            required.append(one.name)
        if one.required is False and one.name in required:
            required.remove(one.name)
    target["type"] = "object"
    if required:
        target["required"] = required
    elif "required" in target:
        del target["required"]


def _holder(schema: Schema, names: list[str]) -> Schema | None:
    """The object in `schema` holding the most of `names` (at least one), or None."""
    best: tuple[int, Schema | None] = (0, None)
    stack: list[Any] = [schema]  # what a schema holds may be anything JSON is
    while stack:
        current = stack.pop()
        if not isinstance(current, dict):
            continue
        properties = current.get("properties")
        if isinstance(properties, dict):
            score = sum(1 for name in names if name in properties)
            if score > best[0]:
                best = (score, current)
            stack.extend(properties.values())
        if isinstance(current.get("items"), dict):
            stack.append(current["items"])
    return best[1]
