"""Generated rows that the contract accepts: `backsmith seed --fake N`.

Each value follows its property schema (enum, format, lengths, bounds) and its column
(type, uniqueness); references point at rows that exist, parents being filled first; slugs
are derived as on create. Values are drawn from a fixed seed, so the same contract and N
give the same values (generated ids and timestamps aside); they continue after rows
already stored, so unique values and join-table pairs never collide with an earlier run.
"""

from __future__ import annotations

import random
import re
import re._constants as _constants  # type: ignore[import-not-found]  # the stdlib's regex parser
import re._parser as _parser  # type: ignore[import-not-found]
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from backsmith.errors import InputError
from backsmith.model.types import Field, FieldType, Model, Resource
from backsmith.storage.ids import uuid7
from backsmith.storage.values import Stamps, slugify

_WORDS = [
    "amber",
    "basalt",
    "cedar",
    "delta",
    "ember",
    "fjord",
    "garnet",
    "harbor",
    "indigo",
    "juniper",
    "kestrel",
    "lumen",
    "meadow",
    "nimbus",
    "opal",
    "prairie",
    "quartz",
    "rowan",
    "sierra",
    "tundra",
    "umber",
    "vesper",
    "willow",
    "yarrow",
    "zephyr",
]
_CHUNK = 1000
_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


class FakeError(InputError):
    """A value the generator cannot make from the schema (say, a pattern)."""


def fake_rows(
    model: Model, conn: sa.Connection, tables: Mapping[str, sa.Table], count: int
) -> list[str]:
    """Insert `count` rows per resource; one report line per resource."""
    from backsmith.storage.seed import derive_pairs

    rnd = random.Random(count)
    report = []
    for table in _sorted(tables):
        resource = model.resource_for_table(table.name)
        if resource is None:
            continue
        made = _fill(
            model, resource, conn, table, tables, count, rnd, derive_pairs(model, resource)
        )
        report.append(f"{resource.name}: {made} generated")
    return report


def _sorted(tables: Mapping[str, sa.Table]) -> list[sa.Table]:
    """Tables with every referenced one first."""
    metadata = next(iter(tables.values())).metadata if tables else sa.MetaData()
    return list(metadata.sorted_tables)


def _fill(
    model: Model,
    resource: Resource,
    conn: sa.Connection,
    table: sa.Table,
    tables: Mapping[str, sa.Table],
    count: int,
    rnd: random.Random,
    pairs: tuple[tuple[str, str], ...],
) -> int:
    offset = conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    properties = model.field_schemas.get(resource.name, {})
    parents = _parent_keys(resource, conn, tables)
    for column, keys in parents.items():
        field = resource.field(column)
        if not keys and field is not None and not field.nullable:
            return 0  # nothing to refer to
    stamps = Stamps(resource, uuid7)  # SQLAlchemy binds UUID objects
    derived = {column for column, _ in pairs}
    combos = _combinations(resource, parents, count, rnd, _stored_keys(resource, conn, table))
    rows = []
    for index in range(count if combos is None else len(combos)):
        serial = offset + index
        row = stamps.values(creating=True)
        for field in resource.fields:
            if field.column in row or field.column in derived:
                continue
            if combos is not None and field.column in combos[index]:
                row[field.column] = combos[index][field.column]
            elif field.column in parents:
                keys = parents[field.column]
                row[field.column] = rnd.choice(keys) if keys else None
            elif field.generated is not None:
                continue  # the database numbers it, or the stamps above set it
            else:
                prop = properties.get(field.name, {})
                row[field.column] = value_for(field, prop, serial, rnd, resource.name)
        for column, source in pairs:
            if row.get(source) is not None:
                row[column] = f"{slugify(str(row[source]))[:40]}-{serial}"
        rows.append(row)
    try:
        for start in range(0, len(rows), _CHUNK):
            conn.execute(table.insert(), rows[start : start + _CHUNK])
    except sa.exc.DBAPIError as error:
        raise FakeError(f"{resource.name}: generated rows were refused: {error.orig}") from None
    return len(rows)


def _parent_keys(
    resource: Resource, conn: sa.Connection, tables: Mapping[str, sa.Table]
) -> dict[str, list[Any]]:
    """Existing keys each reference column can point at."""
    found = {}
    for relation in resource.relations:
        if len(relation.columns) != 1 or relation.target not in tables:
            continue
        target = tables[relation.target].c[relation.target_columns[0]]
        found[relation.columns[0]] = list(conn.execute(sa.select(target)).scalars())
    return found


def _stored_keys(resource: Resource, conn: sa.Connection, table: sa.Table) -> set[tuple[Any, ...]]:
    key = [table.c[c] for c in resource.primary_key if c in table.c]
    return {tuple(row) for row in conn.execute(sa.select(*key))} if len(key) > 1 else set()


def _combinations(
    resource: Resource,
    parents: Mapping[str, list[Any]],
    count: int,
    rnd: random.Random,
    stored: set[tuple[Any, ...]],
) -> list[dict[str, Any]] | None:
    """Distinct key pairs for a table keyed by its references (a join table), else None.

    Pairs already stored (an earlier run's) are never drawn again.
    """
    key = list(resource.primary_key)
    if len(key) < 2 or not all(column in parents for column in key):
        return None
    seen: set[tuple[Any, ...]] = set(stored)
    combos: list[dict[str, Any]] = []
    possible = 1
    for column in key:
        possible *= len(parents[column])
    possible = max(0, possible - len(stored))
    for _ in range(min(count, possible) * 4):
        if len(combos) >= min(count, possible):
            break
        pick = tuple(rnd.choice(parents[column]) for column in key)
        if pick not in seen:
            seen.add(pick)
            combos.append(dict(zip(key, pick, strict=True)))
    return combos


def value_for(
    field: Field, prop: Mapping[str, Any], serial: int, rnd: random.Random, where: str = ""
) -> Any:
    """A value of `field` its property schema accepts; unique ones embed `serial`."""
    kind = field.type
    enum = list(field.enum) or [v for v in prop.get("enum", []) if v is not None]
    if enum:
        return enum[serial % len(enum)] if field.unique else rnd.choice(enum)
    if kind == FieldType.BOOLEAN:
        return rnd.random() < 0.5
    if kind == FieldType.INTEGER:
        low, high = _bounds(prop, 0, 10_000)
        return low + serial if field.unique else rnd.randint(int(low), int(high))
    if kind in (FieldType.NUMBER, FieldType.DECIMAL):
        low, high = _bounds(prop, 0, 1_000)
        number = round(rnd.uniform(low, high), 2)
        return Decimal(str(number)) if kind == FieldType.DECIMAL else number
    if kind == FieldType.UUID:
        return uuid.UUID(int=rnd.getrandbits(128), version=4)
    if kind == FieldType.DATE:
        return (_EPOCH + timedelta(days=rnd.randint(0, 2000))).date()
    if kind == FieldType.DATETIME:
        return _EPOCH + timedelta(seconds=rnd.randint(0, 150_000_000))
    if kind in (FieldType.JSON, FieldType.ARRAY):
        return _json_value(prop, rnd)
    if kind == FieldType.BINARY:
        return rnd.randbytes(16)
    return _text(field, prop, serial, rnd, where)


def _bounds(prop: Mapping[str, Any], low: float, high: float) -> tuple[float, float]:
    low = prop.get("minimum", low)
    high = prop.get("maximum", max(high, low + 1))
    if isinstance(prop.get("exclusiveMinimum"), int | float):
        low = prop["exclusiveMinimum"] + 1
    if isinstance(prop.get("exclusiveMaximum"), int | float):
        high = prop["exclusiveMaximum"] - 1
    return low, max(low, high)


def _json_value(prop: Mapping[str, Any], rnd: random.Random) -> Any:
    if "array" in _types(prop):
        items: Mapping[str, Any] = prop["items"] if isinstance(prop.get("items"), dict) else {}
        size = min(int(prop.get("maxItems", 3)), 3)
        size = max(size, int(prop.get("minItems", 0)))
        if "string" in _types(items) or not items:
            return rnd.sample(_WORDS, min(size, len(_WORDS)))  # distinct, as uniqueItems asks
        if "integer" in _types(items):
            return [rnd.randint(0, 100) for _ in range(size)]
        return []
    return {}


def _types(prop: Mapping[str, Any]) -> set[str]:
    kind = prop.get("type")
    return set(kind) if isinstance(kind, list) else {kind} if isinstance(kind, str) else set()


def _text(
    field: Field, prop: Mapping[str, Any], serial: int, rnd: random.Random, where: str
) -> str:
    fmt = prop.get("format")
    words = f"{rnd.choice(_WORDS)} {rnd.choice(_WORDS)}"
    if fmt == "email":
        text = f"{rnd.choice(_WORDS)}.{serial}@example.com"
    elif fmt in ("uri", "url", "uri-reference"):
        text = f"https://example.com/{rnd.choice(_WORDS)}/{serial}"
    elif fmt == "uuid":
        text = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
    elif fmt == "date":
        text = (_EPOCH + timedelta(days=rnd.randint(0, 2000))).date().isoformat()
    elif fmt == "date-time":
        text = (_EPOCH + timedelta(seconds=rnd.randint(0, 10**8))).isoformat()
    elif field.unique:
        text = f"{words} {serial}"
    else:
        text = words.capitalize()
    pattern = prop.get("pattern")
    if isinstance(pattern, str):
        text = _matching(pattern, text, serial, field, where)
    low = int(prop.get("minLength", 0))
    high = int(prop.get("maxLength") or field.max_length or 200)
    if len(text) < low:
        text = (text + " " + " ".join(_WORDS))[:low] if low else text
        text = text.ljust(low, "x")
    if len(text) > high:
        tail = str(serial) if field.unique else ""
        text = text[: high - len(tail)] + tail
    return text


def _matching(pattern: str, text: str, serial: int, field: Field, where: str) -> str:
    """`text` if it fits the pattern, else a string drawn from the pattern itself."""
    compiled = re.compile(pattern)
    for candidate in (text, slugify(text), str(serial)):  # these keep a unique serial
        if compiled.search(candidate):
            return candidate
    rnd = random.Random(f"{pattern}:{serial}")
    try:
        candidate = _draw(_parser.parse(pattern), rnd)
    except (ValueError, KeyError, TypeError, RecursionError):
        candidate = ""
    if compiled.search(candidate):
        return candidate
    raise FakeError(
        f"cannot generate {where}.{field.name}: no value found for its pattern {pattern!r}; "
        "load it from fixtures instead (--fixtures)"
    )


_CLASSES = {
    _constants.CATEGORY_DIGIT: "0123456789",
    _constants.CATEGORY_WORD: "abcdefghijklmnopqrstuvwxyz0123456789_",
    _constants.CATEGORY_SPACE: " ",
}


def _draw(parsed: Any, rnd: random.Random) -> str:
    """A string matching a parsed regular expression: literals, classes, repeats, groups."""
    out = []
    for op, arg in parsed:
        if op == _constants.LITERAL:
            out.append(chr(arg))
        elif op == _constants.ANY:
            out.append(rnd.choice("abcdefghij"))
        elif op == _constants.IN:
            out.append(_member(arg, rnd))
        elif op in (_constants.MAX_REPEAT, _constants.MIN_REPEAT):
            low, high, inner = arg
            high = low + 4 if high == _constants.MAXREPEAT else high
            out.extend(
                _draw(inner, rnd) for _ in range(rnd.randint(low, max(low, min(high, low + 4))))
            )
        elif op == _constants.SUBPATTERN:
            out.append(_draw(arg[-1], rnd))
        elif op == _constants.BRANCH:
            out.append(_draw(rnd.choice(arg[1]), rnd))
        elif op == _constants.AT:
            continue  # anchors match where the string starts and ends
        else:
            raise ValueError(f"unsupported pattern part {op}")
    return "".join(out)


def _member(items: Any, rnd: random.Random) -> str:
    choices = []
    for op, arg in items:
        if op == _constants.NEGATE:
            raise ValueError("negated class")
        if op == _constants.LITERAL:
            choices.append(chr(arg))
        elif op == _constants.RANGE:
            choices.extend(chr(c) for c in range(arg[0], min(arg[1], arg[0] + 64) + 1))
        elif op == _constants.CATEGORY:
            choices.extend(_CLASSES[arg])
    return rnd.choice(choices)
