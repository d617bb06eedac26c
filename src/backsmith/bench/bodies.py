"""Request bodies the contract accepts: each writable field's value from `storage.fake`.

A create sends every required property and the optional plain columns; unique values
embed a serial, so no two bodies of a run collide with each other or with the seeded rows.
References point at stored rows. An update sends one field, chosen to change nothing a
later request depends on: not a key, a reference, a state machine's column or the source
of a derived slug. Bodies of custom operations come from their schemas alone.
"""

from __future__ import annotations

import base64
import random
import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from backsmith.bench.pool import RowPool
from backsmith.model.types import Field, FieldType, ItemShape, Member, Model, Operation, Resource
from backsmith.storage.fake import value_for

_PLAIN = (FieldType.STRING, FieldType.INTEGER, FieldType.NUMBER, FieldType.DECIMAL)
_PLAIN_TOO = (FieldType.BOOLEAN, FieldType.ENUM, FieldType.DATE, FieldType.DATETIME)


class NoBody(Exception):
    """No valid body can be made (a reference with no row to point at); says why."""


def body_schema(op: Operation) -> tuple[dict[str, Any], dict[str, Any]]:
    """The item schema of a write's body (inside its wrapper) and the `$defs` it refers to."""
    root = dict(op.body_validation or {})
    defs: dict[str, Any] = dict(root.get("$defs") or {})
    schema = resolve(root, defs)
    if op.body_wrapper:
        schema = resolve((schema.get("properties") or {}).get(op.body_wrapper, {}), defs)
    return schema, defs


def resolve(schema: Mapping[str, Any], defs: Mapping[str, Any]) -> dict[str, Any]:
    """`schema` with local `$ref`s followed and `allOf` parts merged."""
    found = dict(schema)
    for _ in range(20):  # a chain of references, never a cycle in a validated contract
        ref = found.pop("$ref", None)
        if not isinstance(ref, str) or not ref.startswith("#/$defs/"):
            break
        found = {**dict(defs.get(ref.rsplit("/", 1)[1], {})), **found}
    for part in found.pop("allOf", None) or []:
        merged = resolve(part, defs)
        properties = {**(merged.get("properties") or {}), **(found.get("properties") or {})}
        required = [*(merged.get("required") or []), *(found.get("required") or [])]
        found = {**merged, **found, "properties": properties, "required": required}
    return found


def to_json(value: Any, prop: Mapping[str, Any]) -> Any:
    """A generated value as JSON carries it, in the type its property schema declares."""
    if isinstance(value, Decimal):
        return str(value) if "string" in json_types(prop) else float(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, list):
        return [to_json(item, prop.get("items") or {}) for item in value]
    if isinstance(value, dict):
        return {key: to_json(item, {}) for key, item in value.items()}
    return value


class BodyMaker:
    """Bodies for one model, drawing references from the pool's rows."""

    def __init__(self, model: Model, pool: RowPool, seed: int = 7) -> None:
        self.model = model
        self.pool = pool
        self.rnd = random.Random(seed)
        self.sources: dict[str, set[str]] = {}  # by resource: columns a unique one is made from

    def create(self, op: Operation, serial: int, skip: frozenset[str] = frozenset()) -> Any:
        """A full body for a create or replace; `skip`: columns the path already sets."""
        if op.body_shape is None:
            return self.sample(*body_schema(op), serial)
        schema, defs = body_schema(op)
        item = self._object(op.body_shape, schema, defs, serial, skip)
        return {op.body_wrapper: item} if op.body_wrapper else item

    def patch(self, op: Operation, serial: int) -> Any:
        """A body changing one field."""
        schema, defs = body_schema(op)
        resource = self._resource(op.body_shape)
        member = _patch_member(self.model, resource, op.body_shape, schema)
        if member is None or resource is None:
            required = schema.get("required") or list(schema.get("properties") or {})[:1]
            properties = schema.get("properties") or {}
            item = {n: self.sample(properties.get(n, {}), defs, serial) for n in required}
        else:
            prop = resolve((schema.get("properties") or {}).get(member.name, {}), defs)
            item = {member.name: self._value(resource, member, prop, serial)}
        return {op.body_wrapper: item} if op.body_wrapper else item

    def sample(self, schema: Mapping[str, Any], defs: Mapping[str, Any], serial: int) -> Any:
        """A value of a schema alone: its default or example, or one made to fit it."""
        return self._sample(schema, defs, serial, 0)

    def _sample(
        self, schema: Mapping[str, Any], defs: Mapping[str, Any], serial: int, depth: int
    ) -> Any:
        schema = resolve(schema, defs)
        for key in ("const", "default", "example"):
            if key in schema:
                return schema[key]
        if isinstance(schema.get("examples"), list) and schema["examples"]:
            return schema["examples"][0]
        enum = [value for value in schema.get("enum") or [] if value is not None]
        if enum:
            return enum[serial % len(enum)]
        for key in ("oneOf", "anyOf"):
            if schema.get(key):
                return self._sample(schema[key][0], defs, serial, depth + 1)
        types = json_types(schema) - {"null"}
        if depth > 8:
            return None
        if "object" in types or "properties" in schema:
            properties = schema.get("properties") or {}
            return {
                name: self._sample(properties.get(name, {}), defs, serial, depth + 1)
                for name in schema.get("required") or []
            }
        if "array" in types:
            count = int(schema.get("minItems", 0))
            items = schema.get("items") or {}
            return [self._sample(items, defs, serial + i, depth + 1) for i in range(count)]
        if "boolean" in types:
            return True
        kind = FieldType.INTEGER if "integer" in types else FieldType.STRING
        kind = FieldType.NUMBER if "number" in types and "integer" not in types else kind
        made = value_for(Field("value", "value", kind), designed(schema), serial, self.rnd, "body")
        return to_json(made, schema)

    def _derive_sources(self, resource: Resource) -> set[str]:
        from backsmith.storage.seed import derive_pairs

        if resource.name not in self.sources:
            self.sources[resource.name] = {s for _, s in derive_pairs(self.model, resource)}
        return self.sources[resource.name]

    def _resource(self, shape: ItemShape | None) -> Resource | None:
        return self.model.resources.get(shape.resource) if shape is not None else None

    def _object(
        self,
        shape: ItemShape,
        schema: Mapping[str, Any],
        defs: Mapping[str, Any],
        serial: int,
        skip: frozenset[str],
    ) -> dict[str, Any]:
        resource = self._resource(shape)
        required = set(schema.get("required") or [])
        properties = schema.get("properties") or {}
        lifecycle = self.model.lifecycles.get(resource.table) if resource else None
        item: dict[str, Any] = {}
        for member in shape.members:
            if member.write_only and member.name not in required:
                continue
            prop = resolve(properties.get(member.name, {}), defs)
            if member.source == "column" and resource is not None:
                field = resource.field(member.column or member.name)
                server_set = field is not None and (field.server_set or field.read_only)
                if (
                    field is None
                    or field.column in skip
                    or (server_set and member.name not in required)
                ):
                    continue  # a value the server sets, unless the body must carry one
                state = getattr(lifecycle, "column", None)
                if member.name not in required and state == field.column:
                    continue  # a new row starts in the state the rule gives it
                try:
                    item[member.name] = self._value(resource, member, prop, serial)
                except NoBody:
                    if member.name in required:
                        raise
            elif member.name in required and member.shape is not None:
                count = max(1, int(prop.get("minItems", 1)))
                inner = resolve(prop.get("items") or {}, defs)
                item[member.name] = [
                    self._object(member.shape, inner, defs, serial * 10 + i, frozenset())
                    for i in range(count)
                ]
            elif member.name in required:
                item[member.name] = self.sample(prop, defs, serial)
        for name in sorted(required - set(item) - {m.name for m in shape.members}):
            # Required by the schema, though no column holds it (a view's extra property).
            item[name] = self.sample(resolve(properties.get(name, {}), defs), defs, serial)
        return item

    def _value(
        self, resource: Resource, member: Member, prop: Mapping[str, Any], serial: int
    ) -> Any:
        field = resource.field(member.column or member.name)
        if field is None:
            return self.sample(prop, {}, serial)
        relation = next((r for r in resource.relations if r.columns == (field.column,)), None)
        if relation is not None:
            rows = self.pool.having(relation.target, [relation.target_columns[0]])
            if not rows:
                raise NoBody(f"no rows of {relation.target} for {member.name} to refer to")
            return to_json(rows[serial % len(rows)][relation.target_columns[0]], prop)
        known = self.model.field_schemas.get(resource.name, {}).get(field.name, {})
        schema = designed({**known, **prop})
        if field.column in self._derive_sources(resource):
            # A slug made from a title is unique: two creates of one title at once would
            # race for it, so the title carries the serial as a unique value does.
            field = replace(field, unique=True)
        value = value_for(field, schema, serial, self.rnd, resource.name)
        return to_json(value, schema)


def designed(schema: Mapping[str, Any]) -> dict[str, Any]:
    """The schema without bounds that only restate a column's type (int32, int64 limits):
    values drawn up to 2**63 are valid, but no reader of a benchmark expects them."""
    found = dict(schema)
    if isinstance(found.get("minimum"), int) and found["minimum"] <= -(2**31):
        del found["minimum"]
    if isinstance(found.get("maximum"), int) and found["maximum"] >= 2**31 - 1:
        del found["maximum"]
    return found


def _patch_member(
    model: Model, resource: Resource | None, shape: ItemShape | None, schema: Mapping[str, Any]
) -> Member | None:
    """The field a one-field update changes: the first plain column nothing else leans on."""
    if resource is None or shape is None:
        return None
    from backsmith.storage.seed import derive_pairs

    lifecycle = model.lifecycles.get(resource.table)
    leaned_on = {getattr(lifecycle, "column", None)}
    leaned_on |= {source for _, source in (*shape.derive, *derive_pairs(model, resource))}
    referring = {r.columns[0] for r in resource.relations if len(r.columns) == 1}
    allowed = set((schema.get("properties") or {}).keys()) or {m.name for m in shape.members}
    candidates = []
    for member in shape.members:
        field = resource.field(member.column or "") if member.source == "column" else None
        if field is None or member.name not in allowed or field.server_set or field.read_only:
            continue
        if field.primary_key or field.column in leaned_on:
            continue
        rank = 0 if field.type in _PLAIN and not field.unique else 1
        rank += 0 if field.column not in referring else 2
        rank += 0 if field.type in _PLAIN or field.type in _PLAIN_TOO else 4
        candidates.append((rank, member))
    return min(candidates, key=lambda pair: pair[0])[1] if candidates else None


def json_types(schema: Mapping[str, Any]) -> set[str]:
    """The JSON types a (resolved) schema allows, from `type` in either form."""
    kind = schema.get("type")
    return set(kind) if isinstance(kind, list) else {kind} if isinstance(kind, str) else set()
