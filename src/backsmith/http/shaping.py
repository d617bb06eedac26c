"""Rows -> JSON objects shaped exactly as the contract's response schema says.

A shaper is compiled once per operation from the model's item shape. Flat members come
from the row; embedded relations are loaded for the whole batch of rows at once, one
query per relation per level, and shaped by their own shapers.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, NamedTuple
from uuid import UUID

import orjson
import sqlalchemy as sa

from backsmith.model.types import Computed, Field, FieldType, ItemShape, Member, Model
from backsmith.storage.database import Connection
from backsmith.storage.postgres import read_pg_timestamp
from backsmith.storage.queries import TableQueries
from backsmith.storage.related import (
    caller_column,
    caller_value,
    computed_expression,
    load_related,
)

_PLAIN, _DECIMAL_NUMBER, _TEXT, _BOOL, _INT, _FLOAT, _STAMP = 0, 1, 2, 3, 4, 5, 6
_COLUMN, _COMPUTED, _EMBED_ONE, _EMBED_MANY, _VALUES = 0, 1, 2, 3, 4
_json = orjson.dumps
_AS_UTC = orjson.OPT_UTC_Z | orjson.OPT_NAIVE_UTC
_WHOLE_SECONDS = 22  # the length of orjson's quoted `"YYYY-MM-DDTHH:MM:SSZ"`


def computed_label(name: str) -> str:
    """The result column a computed property is selected as."""
    return f"__bs_{name}"


class Shaper:
    """Turns rows into the item objects of one response schema."""

    __slots__ = (
        "_callers",
        "_converters",
        "_expressions",
        "_extras",
        "_members",
        "_one",
        "_queries",
        "_related",
        "_stamps",
        "computed",
        "precision",
        "table",
        "tables",
    )

    def __init__(
        self,
        shape: ItemShape,
        model: Model,
        tables: Mapping[str, sa.Table],
        precision: str = "milliseconds",
    ) -> None:
        resource = model.resources[shape.resource]
        self.tables = tables
        self.table = tables[resource.table]
        self.precision = precision
        self._converters = {**_CONVERTERS, _STAMP: stamp_writer(precision)}
        self._stamps = stamp_form(precision)
        # name, key, what, answered as null when there is no value, conversion
        members: list[tuple[str, str, int, bool, int]] = []
        related: list[tuple[int, Member, Shaper | None]] = []
        self.computed: list[tuple[str, Computed, FieldType]] = []
        for member in shape.members:
            if member.write_only:  # a password the body sets is never answered
                continue
            null = member.nullable or member.required
            if member.source == "column" and member.column is not None:
                conversion = _conversion(member.type, member.as_string)
                members.append((member.name, member.column, _COLUMN, null, conversion))
            elif member.source == "computed" and member.computed is not None:
                kind = member.type or FieldType.INTEGER
                self.computed.append((member.name, member.computed, kind))
                conversion = _computed_conversion(kind)
                members.append(
                    (member.name, computed_label(member.name), _COMPUTED, True, conversion)
                )
            elif member.hop is not None:
                what = _EMBED_MANY if member.hop.to_many else _EMBED_ONE
                if member.source == "values":
                    what = _VALUES
                    child = None
                else:
                    assert member.shape is not None
                    child = Shaper(member.shape, model, tables, precision)
                related.append((len(members), member, child))
                conversion = _conversion(member.type, False)
                members.append((member.name, "", what, null, conversion))
        self._members = tuple(members)
        self._one = _row_function(self._members, self.table, self._converters, self._stamps)
        self._related = tuple(related)
        self._queries = TableQueries(self.table)
        # Every computed expression is built once: counts and sums alike for every caller,
        # an `exists` about the caller in two forms, bound to a key or false for anonymous.
        self._callers = tuple(
            (name, f"caller_{index}", caller_column(tables, computed))
            for index, (name, computed, _) in enumerate(self.computed)
            if computed.function == "exists"
        )
        params = {name: param for name, param, _ in self._callers}
        self._expressions: dict[tuple[str, bool], Any] = {}
        for name, computed, _ in self.computed:
            for bound in (True, False) if name in params else (True,):
                caller = params[name] if bound and name in params else None
                self._expressions[(name, bound)] = computed_expression(
                    tables, self.table, computed, caller
                )
        self._extras: dict[frozenset[str], list[Any]] = {}

    @property
    def flat(self) -> bool:
        return not self._related and not self.computed

    def column_members(self) -> list[tuple[str, str, bool, str]] | None:
        """A flat item's members as (name, column, null shown, how the value is written:
        plain, text or stamp), for SQL that writes the item itself; None when a member
        is written otherwise (embedded, computed, a decimal as a number)."""
        if not self.flat:
            return None
        found = []
        how = {_PLAIN: "plain", _TEXT: "text", _STAMP: "stamp"}
        for name, column, what, null, conversion in self._members:
            if what != _COLUMN or conversion not in how:
                return None
            found.append((name, column, null, how[conversion]))
        return found

    def bound(self, subject: Any) -> dict[str, Any]:
        """The caller's key for each `exists` about the caller, by parameter name."""
        found = {}
        for _, param, column in self._callers:
            value = caller_value(column, subject)
            if value is not None:
                found[param] = value
        return found

    def extras(self, subject: Any) -> list[Any]:
        """The computed columns to select beside the row's own, labelled."""
        if not self.computed:
            return []
        bound = frozenset(self.bound(subject))
        found = self._extras.get(bound)
        if found is None:
            found = self._extras[bound] = [
                self._expression(name, bound).label(computed_label(name))
                for name, _, _ in self.computed
            ]
        return found

    def _expression(self, name: str, bound: frozenset[str] | dict[str, Any]) -> Any:
        param = next((p for member, p, _ in self._callers if member == name), None)
        return self._expressions[(name, param is None or param in bound)]

    def expression(self, name: str, subject: Any) -> tuple[Any, FieldType] | None:
        """A computed property's SQL expression and type, for filters and sorting."""
        for member, _, kind in self.computed:
            if member == name:
                return self._expression(member, self.bound(subject)), kind
        return None

    def sortable(self, name: str, subject: Any) -> tuple[Any, Field] | None:
        """A computed property as an ORDER BY term, read back from its selected label."""
        found = self.expression(name, subject)
        if found is None:
            return None
        label = computed_label(name)
        return found[0], Field(label, label, found[1], nullable=False)

    async def reload(
        self, conn: Connection, row: Mapping[str, Any], subject: Any
    ) -> dict[str, Any]:
        """The item for a row just written: read again by key with its computed values."""
        key = {column.name: row[column.name] for column in self.table.primary_key.columns}
        fresh = await self._queries.fetch_one(
            conn, key, extras=self.extras(subject), params=self.bound(subject), answered=True
        )
        assert fresh is not None
        return (await self.shape(conn, [fresh], subject))[0]

    def one(self, row: Mapping[str, Any]) -> dict[str, Any]:
        """The row's own members; embedded ones are left for `shape` to fill."""
        return self._one(row)

    def many(self, rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        one = self._one
        return [one(row) for row in rows]

    async def shape(
        self, conn: Connection, rows: Sequence[Mapping[str, Any]], subject: Any = None
    ) -> list[dict[str, Any]]:
        """Every row as an item, with embedded relations loaded a batch at a time."""
        items = self.many(rows)
        if not rows:
            return items
        for index, member, child in self._related:
            name, _, what, nullable, conversion = self._members[index]
            hop = member.hop
            assert hop is not None
            extras = child.extras(subject) if child is not None else ()
            params = child.bound(subject) if child is not None else None
            related, groups = await load_related(
                conn,
                self.tables,
                hop,
                rows,
                extras,
                only=member.column if child is None else None,
                params=params,
                order=member.order,
            )
            if child is not None:
                related = await child.shape(conn, related, subject)
            elif conversion:
                convert = self._converters[conversion]
                related = [v if v is None else convert(v) for v in related]
            source = hop.source_columns[0]
            for item, row in zip(items, rows, strict=True):
                found = groups.get(row[source], ())
                if what == _EMBED_ONE:
                    if found:
                        item[name] = related[found[0]]
                    elif not nullable:
                        del item[name]
                else:
                    item[name] = [related[i] for i in found]
        return items


_CONVERTERS: dict[int, Callable[[Any], Any]] = {
    _DECIMAL_NUMBER: float,
    _TEXT: str,
    _BOOL: bool,
    _INT: int,
    _FLOAT: float,
}


class StampForm(NamedTuple):
    """How orjson's text of a UTC date-time is cut to the wanted number of digits."""

    option: int  # orjson's options: UTC as "Z", naive as UTC, microseconds left out for 0
    length: int  # the length of orjson's quoted text when it can be cut as it is
    end: int  # where the cut text ends, before the closing "Z"
    padding: str  # what follows whole seconds


def stamp_form(precision: str) -> StampForm:
    wanted = precision.strip().lower()
    digits = {"seconds": 0, "microseconds": 6}.get(wanted, 3)
    if not digits:
        return StampForm(_AS_UTC | orjson.OPT_OMIT_MICROSECONDS, _WHOLE_SECONDS, 20, "Z")
    return StampForm(_AS_UTC, 29, 21 + digits, f".{'0' * digits}Z")


def stamp_writer(precision: str) -> Callable[[datetime], str]:
    """Date-times as RFC 3339 text in UTC with a fixed number of fractional digits.

    orjson writes microseconds only when there are some, so a row stored with whole seconds
    and one stored a moment later would look different to a client comparing strings.
    """
    # orjson's own text cut to length is the cheapest way measured: a page of rows formats
    # hundreds of date-times, and isoformat or a %-format in Python costs three times as much.
    # Its text is `"YYYY-MM-DDTHH:MM:SS.ffffffZ"`, or `"YYYY-MM-DDTHH:MM:SSZ"` when the
    # microseconds are 0 (cut to seconds under OPT_OMIT_MICROSECONDS).
    option, _, end, padding = stamp_form(precision)

    def write(value: datetime | str) -> str:
        if isinstance(value, str):  # PostgreSQL's text of it, in a form not cut directly
            value = read_pg_timestamp(value)
        # Rows come in UTC (the drivers' decoders see to it); a naive value is UTC too.
        if value.tzinfo is not UTC and value.utcoffset():
            value = value.astimezone(UTC)
        text = _json(value, None, option)
        if len(text) == _WHOLE_SECONDS:
            return text[1:20].decode() + padding
        return text[1:end].decode() + "Z"

    return write


def _stamp_source(value: str, writer: str, form: StampForm) -> str:
    """`writer(value)` written out inline for a UTC value, the only kind rows hold.

    A page of 20 rows with two date-times each saves 40 calls. Where the row was read for
    an answer on PostgreSQL, the value is the database's text of it (`TableQueries`):
    `YYYY-MM-DD HH:MM:SS[.ffffff]+00`, the fraction without its trailing zeros, so its
    length says how many digits it has. Otherwise it is a datetime, whose orjson text has
    one of two lengths, with microseconds or whole seconds. Any other form (an offset, a
    year past 9999, infinity) is left to the writer.
    """
    digits = form.end - 21 if form.length != _WHOLE_SECONDS else 0
    if digits:
        end, zeros = 20 + digits, "0" * digits
        text = (
            f"(r[:{end}] + 'Z' if (n := len(r := s.replace(' ', 'T'))) == 29 "
            f"else r[:19] + '.{zeros}Z' if n == 22 else (r[:-3] + '{zeros}')[:{end}] + 'Z')"
        )
    else:
        text = "s.replace(' ', 'T')[:19] + 'Z'"
    cut = f"(t := J(s, None, {form.option}))"
    if form.length == _WHOLE_SECONDS:
        stamp = f"(t[1:20].decode() + 'Z' if len{cut} == 22 else {writer}(s))"
    else:
        stamp = (
            f"(t[1:{form.end}].decode() + 'Z' if (n := len{cut}) == {form.length} "
            f"else t[1:20].decode() + {form.padding!r} if n == 22 else {writer}(s))"
        )
    return (
        f"({text} if (s := {value}).__class__ is str and s[-3:] == '+00' and s[10] == ' ' "
        f"else {writer}(s) if s.__class__ is str else {stamp})"
    )


def _row_function(
    members: Sequence[tuple[str, str, int, bool, int]],
    table: sa.Table,
    converters: Mapping[int, Callable[[Any], Any]],
    stamps: StampForm,
) -> Callable[[Mapping[str, Any]], dict[str, Any]]:
    """A function turning a row into an item, generated once per shape.

    Shaping runs for every row of every response, so the per-member decisions (convert?
    can it be NULL? leave it out?) are taken here, once, and the function only reads.
    A NULL is sent as null where the schema allows null or requires the property, and is
    left out of an optional property that cannot be null. Members go
    into a dict literal until the first that may be left out, then one by one, so the
    item keeps the schema's order.
    """
    namespace: dict[str, Any] = {"J": _json}
    literal: list[str] = []
    lines: list[str] = []

    def converted(value: str, converter: str, conversion: int) -> str:
        if conversion == _STAMP:
            return _stamp_source(value, converter, stamps)
        return f"{converter}({value})"

    for index, (name, key, what, nullable, conversion) in enumerate(members):
        target = repr(name)
        if what > _COMPUTED:
            value = "None" if what == _EMBED_ONE else "[]"
        else:
            converter = f"c{index}" if conversion else ""
            if converter:
                namespace[converter] = converters[conversion]
            column = table.c.get(key) if what == _COLUMN else None
            if column is None or column.nullable:
                lines.append(f"v = row[{key!r}]")
                lines.append(
                    f"if v is not None: item[{target}] = {converted('v', converter, conversion)}"
                )
                if nullable:
                    lines.append(f"else: item[{target}] = None")
                continue
            value = converted(f"row[{key!r}]", converter, conversion)
        if lines:
            lines.append(f"item[{target}] = {value}")
        else:
            literal.append(f"{target}: {value}")
    source = "\n    ".join(["def one(row):", f"item = {{{', '.join(literal)}}}", *lines])
    exec(compile(source + "\n    return item", f"<shape {table.name}>", "exec"), namespace)
    return namespace["one"]  # type: ignore[no-any-return]


def _conversion(kind: FieldType | None, as_string: bool) -> int:
    # asyncpg returns its own UUID subclass, which orjson does not serialise natively.
    if kind == FieldType.UUID:
        return _TEXT
    if kind == FieldType.DATETIME:
        return _STAMP
    if kind != FieldType.DECIMAL:
        return _PLAIN
    return _TEXT if as_string else _DECIMAL_NUMBER


def _computed_conversion(kind: FieldType) -> int:
    # SQLite answers EXISTS with 0/1 and PostgreSQL sums integers as numeric.
    return {
        FieldType.BOOLEAN: _BOOL,
        FieldType.INTEGER: _INT,
        FieldType.NUMBER: _FLOAT,
        FieldType.DECIMAL: _TEXT,
    }.get(kind, _PLAIN)


def dumps(value: Any) -> bytes:
    """An answer's JSON: UTC timestamps end in "Z", as RFC 3339 contracts usually show them."""
    return orjson.dumps(value, default=default_json, option=orjson.OPT_UTC_Z)


def default_json(value: Any) -> Any:
    """orjson fallback for types it does not serialise itself."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, bytes):
        import base64

        return base64.b64encode(value).decode()
    raise TypeError(f"cannot serialise {type(value).__name__}")
