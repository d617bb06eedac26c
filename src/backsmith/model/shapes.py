"""Bind a schema's properties to a resource: columns, embedded relations, computed values.

A response item rarely is a bare row. `Book` may carry `author` (a row reached by a foreign
key), `genres` (rows through a join table), `genreList` (one column of those rows),
`wishlistedCount` (a count computed in SQL). Each property becomes one `Member` saying
where its value comes from, found by convention or declared in `x-backsmith`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from backsmith.contract.source import escape
from backsmith.errors import Issue
from backsmith.model.computed import FUNCTIONS, ComputedReader, count, participle_exists
from backsmith.model.naming import names_match, snake
from backsmith.model.relations import MANY, RelationGraph
from backsmith.model.resources import derived_columns
from backsmith.model.schemas import (
    COMPONENT_PREFIX,
    branch_properties,
    component_name,
    flatten,
    is_nullable,
    schema_types,
)
from backsmith.model.types import FieldType, Hop, ItemShape, Member, Resource

EXTENSION = "x-backsmith"
MAX_DEPTH = 6  # embedding deeper than this stops (a schema that embeds itself)
_LIST_SUFFIXES = ("_list", "_names", "_ids", "_slugs", "_keys")
_NATURAL_KEYS = ("slug", "handle", "username", "name", "code", "key", "email", "title")


@dataclass(frozen=True, slots=True)
class _Property:
    """One schema property being bound: its name, schema as written and flattened, its
    `x-backsmith` object, where it is written, how deep in embedding it sits, and whether
    its object requires it."""

    name: str
    raw: Any
    prop: dict[str, Any]
    ext: dict[str, Any]
    where: str
    depth: int
    required: bool = False

    @property
    def replace(self) -> bool:
        return self.ext.get("children") == "replace"


class ShapeBuilder:
    """Builds item shapes and collects contract issues about their declarations."""

    def __init__(
        self,
        document: dict[str, Any],
        graph: RelationGraph,
        schema_resources: dict[str, str],
        issue: Any,
    ) -> None:
        self.document = document
        self.graph = graph
        self.schema_resources = schema_resources
        self._issue = issue  # (message, pointer) -> Issue
        self.issues: list[Issue] = []
        self._seen: set[tuple[str, str]] = set()
        self._computed = ComputedReader(graph, self.problem, self._hop_names)

    def problem(self, message: str, pointer: str) -> None:
        key = (message, pointer)
        if key not in self._seen:
            self._seen.add(key)
            self.issues.append(self._issue(message, pointer))

    # ---------------------------------------------------------------- items
    def item(self, resource: Resource, schema: Any, pointer: str, depth: int = 0) -> ItemShape:
        """The shape of `schema` served from rows of `resource`."""
        pointer = _pointer_of(schema, pointer)
        flat = flatten(self.document, schema)
        properties = branch_properties(self.document, schema)  # oneOf branches' too
        declared = _extension(flat) or {}
        found = declared.get("computed")
        computed: dict[str, Any] = found if isinstance(found, dict) else {}
        required = set(flat.get("required") or ())
        members: list[Member] = []
        for name, raw in properties.items():
            where = f"{pointer}/properties/{escape(name)}"
            prop = flatten(self.document, raw)
            ext = _extension(raw) or _extension(prop) or {}
            if name in computed and isinstance(computed[name], dict):
                ext = {**computed[name], **ext}
                where = f"{pointer}/{EXTENSION}/computed/{escape(name)}"
            bound = _Property(name, raw, prop, ext, where, depth, name in required)
            member = self._member(resource, bound)
            if member is not None and "sort" in ext:
                member = self._sorted(member, ext["sort"], f"{where}/{EXTENSION}/sort")
            if member is not None:
                members.append(member)
        for name in computed:
            if name not in properties:
                self.problem(
                    f"computed property '{name}' is not a property of this schema",
                    f"{pointer}/{EXTENSION}/computed/{escape(name)}",
                )
        return ItemShape(resource.name, tuple(members), self._derive(resource, declared, pointer))

    def _member(self, resource: Resource, p: _Property) -> Member | None:
        functions = [f for f in FUNCTIONS if f in p.ext]
        if functions:
            return self._computed.member(resource, p.name, p.prop, p.ext, p.where, functions)
        if isinstance(p.ext.get("embed"), str):
            return self._declared_embed(resource, p)
        column = p.ext.get("column") if isinstance(p.ext.get("column"), str) else None
        field = resource.field(column) if column else resource.field(p.name)
        if column and field is None:
            self.problem(f"column '{column}' is not a column of {resource.table}", p.where)
            return None
        if field is not None and not field.hidden:
            return Member(
                p.name,
                "column",
                column=field.column,
                type=field.type,
                nullable=is_nullable(p.prop),
                required=p.required,
                as_string=field.type == FieldType.DECIMAL and "string" in schema_types(p.prop),
                write_only=field.write_only or bool(p.prop.get("writeOnly")),
            )
        return self._conventional(resource, p)

    def _values(self, p: _Property, hop: Hop, column: str) -> Member:
        """An array of one column of the rows `hop` reaches (`genreList`), in value order."""
        target = self.graph.resource(hop.target)
        field = target.field(column) if target else None
        return Member(
            p.name,
            "values",
            column=column,
            type=field.type if field else None,
            hop=hop,
            replace=p.replace,
            order=(column,),
        )

    def _conventional(self, resource: Resource, p: _Property) -> Member | None:
        name, raw, prop = p.name, p.raw, p.prop
        types = schema_types(prop)
        if "array" in types:
            items_raw = prop.get("items", {})
            items = flatten(self.document, items_raw)
            if items.get("properties"):
                hop = self._hop_for(resource, name, items_raw, to_many=True)
                return self._embed(p, hop)
            stem = snake(name)
            for suffix in _LIST_SUFFIXES:
                stem = stem.removesuffix(suffix)
            hop = self.graph.find(resource.table, stem, to_many=True)
            if hop is None:
                return None
            column = self._values_column(hop, snake(name), items)
            return None if column is None else self._values(p, hop, column)
        if prop.get("properties") or component_name(raw) or "object" in types:
            hop = self._hop_for(resource, name, raw, to_many=False)
            return self._embed(p, hop)
        if "integer" in types and snake(name).endswith("_count"):
            hop = self.graph.find(resource.table, snake(name).removesuffix("_count"), to_many=True)
            if hop is not None:
                return Member(name, "computed", type=FieldType.INTEGER, computed=count(hop))
        if "boolean" in types and p.ext.get("column") is None:
            exists = participle_exists(self.graph, resource.table, name)
            if exists is not None:
                return Member(name, "computed", type=FieldType.BOOLEAN, computed=exists)
        return None

    def _hop_for(self, resource: Resource, name: str, raw: Any, to_many: bool) -> Hop | None:
        hop = self.graph.find(resource.table, name, to_many=to_many)
        if hop is None:
            table = self.schema_resources.get(component_name(raw) or "")
            if table is not None:
                hop = self.graph.to_target(resource.table, table, to_many=to_many)
        return hop

    def _embed(self, p: _Property, hop: Hop | None) -> Member | None:
        if hop is None or p.depth >= MAX_DEPTH:
            return None
        target = self.graph.resource(hop.target)
        if target is None:
            return None
        item_schema = p.prop.get("items", {}) if hop.to_many else p.raw
        pointer = _pointer_of(item_schema, "")
        shape = self.item(target, item_schema, pointer, p.depth + 1)
        return Member(
            p.name,
            "embed",
            hop=hop,
            shape=shape,
            nullable=is_nullable(p.prop),
            required=p.required,
            replace=p.replace,
        )

    def _sorted(self, member: Member, declared: Any, pointer: str) -> Member | None:
        """An embedded array in the order `sort` declares: columns of the rows it holds."""
        target = self.graph.resource(member.hop.target) if member.hop is not None else None
        if target is None or member.hop is None or not member.hop.to_many:
            self.problem("'sort' orders an embedded array; this property is not one", pointer)
            return member
        terms = declared.split(",") if isinstance(declared, str) else declared
        order: list[str] = []
        for term in (str(t).strip() for t in terms):
            field = target.field(term.lstrip("+-"))
            if field is None or field.hidden:
                self.problem(f"'{term.lstrip('+-')}' is not a column of {target.table}", pointer)
                return member
            order.append(("-" if term.startswith("-") else "") + field.column)
        return replace(member, order=tuple(order))

    def _declared_embed(self, resource: Resource, p: _Property) -> Member | None:
        declared = p.ext["embed"]
        found = self.graph.path(resource.table, declared)
        if found is None or len(found[0]) != 1:
            self.problem(
                self.graph.explain(resource.table, declared)
                or f"embed '{declared}' names no relation of {resource.table} "
                f"(one step, e.g. {self._hop_names(resource.table)})",
                f"{p.where}/{EXTENSION}/embed",
            )
            return None
        hops, column = found
        if column is not None:
            return self._values(p, hops[0], column)
        return self._embed(p, hops[0])

    def _hop_names(self, table: str, to_many: bool = False) -> str:
        names = self.graph.names(table, to_many=True if to_many else None)
        return ", ".join(names[:6]) or "no relations"

    def _values_column(self, hop: Hop, name: str, items: dict[str, Any]) -> str | None:
        target = self.graph.resource(hop.target)
        if target is None:
            return None
        if name.endswith("_ids"):
            return hop.target_columns[0]
        return natural_key(target, "string" in schema_types(items) or not items)

    # ---------------------------------------------------------------- derive
    def _derive(
        self, resource: Resource, declared: dict[str, Any], pointer: str
    ) -> tuple[tuple[str, str], ...]:
        derive = declared.get("derive")
        if not isinstance(derive, dict):
            return derived_columns(resource)
        pairs = []
        for target, source in derive.items():
            where = f"{pointer}/{EXTENSION}/derive/{escape(str(target))}"
            target_field = resource.field(str(target))
            source_field = resource.field(str(source))
            if target_field is None or source_field is None:
                missing = target if target_field is None else source
                self.problem(f"'{missing}' is not a field of {resource.table}", where)
                continue
            pairs.append((target_field.column, source_field.column))
        declared_columns = {column for column, _ in pairs}
        pairs += [pair for pair in derived_columns(resource) if pair[0] not in declared_columns]
        return tuple(pairs)


def natural_key(resource: Resource, text: bool = True) -> str | None:
    """The column people address rows by: a unique slug, handle, name... or the key."""
    for wanted in _NATURAL_KEYS:
        for field in resource.fields:
            if field.column == wanted and (field.unique or not text):
                return field.column
    unique = [
        f
        for f in resource.fields
        if f.unique and not f.primary_key and f.type in (FieldType.STRING, FieldType.ENUM)
    ]
    if len(unique) == 1:
        return unique[0].column
    for wanted in _NATURAL_KEYS:
        if resource.field(wanted) is not None:
            return resource.field(wanted).column  # type: ignore[union-attr]
    return resource.key.column if not text or resource.key.type == FieldType.STRING else None


def _extension(schema: Any) -> dict[str, Any] | None:
    if isinstance(schema, dict) and isinstance(schema.get(EXTENSION), dict):
        return schema[EXTENSION]  # type: ignore[no-any-return]
    return None


def _pointer_of(schema: Any, fallback: str) -> str:
    """Where a schema is written: its component when it is a reference."""
    name = component_name(schema)
    if name is not None:
        return f"/components/schemas/{escape(name)}"
    if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        return str(schema["$ref"]).removeprefix("#")
    return fallback


__all__ = ["COMPONENT_PREFIX", "MANY", "ShapeBuilder", "natural_key"]


def flat_shape(resource: Resource) -> ItemShape:
    """Every visible column under its API name: the shape when a schema says nothing."""
    members = tuple(
        Member(f.name, "column", column=f.column, type=f.type, nullable=True)
        for f in resource.fields
        if not f.hidden and not f.write_only
    )
    return ItemShape(resource.name, members)


def plain_shape(
    document: dict[str, Any], resource: Resource, declared: str, items: Any
) -> ItemShape | None:
    """The one column a list of plain values shows: as declared (`genres.name`), else
    the rows' key for numbers and their natural key (a unique name, slug...) for text."""
    parts = declared.split(".") if declared else []
    if len(parts) == 2 and names_match(parts[0], resource.table):
        parts = parts[1:]
    if len(parts) > 1:
        return None
    numbers = bool(schema_types(flatten(document, items)) & {"integer", "number"})
    column = parts[0] if parts else resource.key.column if numbers else natural_key(resource)
    field = resource.field(column) if column else None
    if field is None or field.hidden or field.write_only:
        return None
    member = Member(field.name, "column", column=field.column, type=field.type)
    return ItemShape(resource.name, (member,))
