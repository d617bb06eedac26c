"""Parse DBML with pydbml into plain, frozen tables, columns, references and enums.

pydbml does not know a few newer DBML constructs (column `check:` settings, `Checks`
and `Records` blocks); they are lifted out of the text first, line numbers kept, so a
model that uses them still parses and its checks are not lost.
"""

from __future__ import annotations

import contextlib
import re
from dataclasses import asdict, dataclass
from typing import Any

import orjson

from backsmith.contract import cache
from backsmith.contract.load import DbmlSource
from backsmith.errors import ContractError, Issue


@dataclass(frozen=True, slots=True)
class DbmlColumn:
    name: str
    type: str
    enum: str | None = None
    primary_key: bool = False
    unique: bool = False
    not_null: bool = False
    increment: bool = False
    default: Any = None
    default_is_sql: bool = False
    note: str = ""


@dataclass(frozen=True, slots=True)
class DbmlIndex:
    columns: tuple[str, ...]
    unique: bool = False
    primary_key: bool = False
    name: str | None = None


@dataclass(frozen=True, slots=True)
class DbmlRef:
    table: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str | None = None
    on_update: str | None = None


@dataclass(frozen=True, slots=True)
class DbmlTable:
    name: str
    columns: tuple[DbmlColumn, ...]
    indexes: tuple[DbmlIndex, ...] = ()
    checks: tuple[str, ...] = ()
    note: str = ""
    line: int | None = None

    def column(self, name: str) -> DbmlColumn | None:
        return next((c for c in self.columns if c.name == name), None)


@dataclass(frozen=True, slots=True)
class DbmlModel:
    tables: tuple[DbmlTable, ...]
    refs: tuple[DbmlRef, ...]
    enums: dict[str, tuple[str, ...]]
    file: str = ""

    def table(self, name: str) -> DbmlTable | None:
        return next((t for t in self.tables if t.name == name), None)


_CHECK_EXPR = re.compile(r"\bcheck:\s*`([^`]*)`", re.IGNORECASE)
_TABLE_HEADER = re.compile(r'^\s*Table\s+("?)([\w.]+)\1', re.IGNORECASE)
_CHECKS_START = re.compile(r"^\s*checks\s*\{", re.IGNORECASE)
_RECORDS_START = re.compile(r'^\s*records(\s+[\w."]+)?\s*(\([^)]*\))?\s*\{', re.IGNORECASE)
_UNSUPPORTED = re.compile(r"^\s*(TablePartial)\b", re.IGNORECASE)


def _lift_unsupported(text: str, file: str, first_line: int) -> tuple[str, dict[str, list[str]]]:
    """Blank out what pydbml cannot parse, keeping line numbers; return the checks found."""
    checks: dict[str, list[str]] = {}
    table = ""
    out: list[str] = []
    depth = 0  # inside a lifted block while > 0
    in_checks = False
    for number, line in enumerate(text.splitlines(), start=first_line):
        if depth:
            if in_checks and table:
                checks.setdefault(table, []).extend(m[1:-1] for m in re.findall(r"`[^`]*`", line))
            depth += line.count("{") - line.count("}")
            out.append("")
            continue
        if _UNSUPPORTED.match(line):
            raise ContractError(
                [Issue("DBML TablePartial is not supported yet; inline its columns", file, number)]
            )
        header = _TABLE_HEADER.match(line)
        if header:
            table = header.group(2).split(".")[-1]
        in_checks = bool(_CHECKS_START.match(line))
        if in_checks or _RECORDS_START.match(line):
            depth = line.count("{") - line.count("}")
            out.append("")
            continue
        for expr in _CHECK_EXPR.findall(line):
            checks.setdefault(table, []).append(expr)
        if _CHECK_EXPR.search(line):
            line = _tidy_settings(_CHECK_EXPR.sub("", line))
        out.append(line)
    return "\n".join(out) + "\n", checks


def _tidy_settings(line: str) -> str:
    """Repair a column's `[...]` settings after a setting was cut out of them."""
    line = re.sub(r"\[\s*,", "[", line)
    line = re.sub(r",\s*(?=,|\])", "", line)
    return re.sub(r"\s*\[\s*\]\s*$", "", line)


def _syntax_message(exc: Exception) -> str:
    text = str(getattr(exc, "msg", exc))
    found = re.search(r"found (.+?)\s*(\(at char|$)", str(exc))
    if found:
        return f"unexpected {found.group(1)}"
    return text.split("\n")[0][:160]


def parse_dbml(source: DbmlSource) -> DbmlModel:
    """Parse DBML text or raise ContractError naming the file and line.

    Text parsed before (same text, file and first line) is not parsed again: pydbml's
    import and parse are the largest part of starting on a model that has not changed.
    """
    name = cache.digest(source.text.encode(), source.file.encode(), b"%d" % source.first_line)
    remembered = _recalled(name)
    if remembered is None and cache.filled_apart(lambda: _parse_and_remember(source, name)):
        remembered = _recalled(name)  # None where the store could not be written
    return remembered if remembered is not None else _parse_and_remember(source, name)


def _recalled(name: str) -> DbmlModel | None:
    remembered = cache.recall("dbml", name)
    if remembered is not None:
        try:
            return _from_json(orjson.loads(remembered))
        except (ValueError, TypeError, KeyError):  # cut short or damaged: parse afresh
            pass
    return None


def _parse_and_remember(source: DbmlSource, name: str) -> DbmlModel:
    model = _parse(source)
    with contextlib.suppress(TypeError):  # a default JSON cannot hold: parse every time
        cache.remember("dbml", name, orjson.dumps(asdict(model)))
    return model


def _from_json(data: dict[str, Any]) -> DbmlModel:
    """A model from its remembered JSON (plain data: nothing in it is executed)."""

    def table(t: dict[str, Any]) -> DbmlTable:
        return DbmlTable(
            name=t["name"],
            columns=tuple(DbmlColumn(**c) for c in t["columns"]),
            indexes=tuple(DbmlIndex(**{**i, "columns": tuple(i["columns"])}) for i in t["indexes"]),
            checks=tuple(t["checks"]),
            note=t["note"],
            line=t["line"],
        )

    refs = tuple(
        DbmlRef(**{**r, "columns": tuple(r["columns"]), "ref_columns": tuple(r["ref_columns"])})
        for r in data["refs"]
    )
    enums = {name: tuple(items) for name, items in data["enums"].items()}
    return DbmlModel(tuple(table(t) for t in data["tables"]), refs, enums, data["file"])


def _parse(source: DbmlSource) -> DbmlModel:
    from pydbml import PyDBML

    text, checks = _lift_unsupported(source.text, source.file, source.first_line)
    try:
        parsed = PyDBML(text)
    except Exception as exc:  # pyparsing raises several unrelated classes
        line = getattr(exc, "lineno", None)
        where = source.first_line + line - 1 if isinstance(line, int) else None
        message = _syntax_message(exc)
        raise ContractError([Issue(f"DBML syntax error: {message}", source.file, where)]) from None
    tables = tuple(_table(t, checks.get(t.name, [])) for t in parsed.tables)
    refs: list[DbmlRef] = []
    for ref in parsed.refs:
        many, one = (ref.col1, ref.col2) if ref.type in (">", "-") else (ref.col2, ref.col1)
        if ref.type == "<>":
            continue  # many-to-many needs a join table; DBML declares that table itself
        refs.append(
            DbmlRef(
                table=many[0].table.name,
                columns=tuple(c.name for c in many),
                ref_table=one[0].table.name,
                ref_columns=tuple(c.name for c in one),
                on_delete=(ref.on_delete or None),
                on_update=(ref.on_update or None),
            )
        )
    enums = {e.name: tuple(str(item.name) for item in e.items) for e in parsed.enums}
    return DbmlModel(tables, tuple(refs), enums, source.file)


def _table(table: Any, checks: list[str]) -> DbmlTable:
    from pydbml.classes import Enum as PyDbmlEnum
    from pydbml.classes import Expression

    columns = []
    for column in table.columns:
        enum = column.type.name if isinstance(column.type, PyDbmlEnum) else None
        default = column.default
        is_sql = isinstance(default, Expression)
        columns.append(
            DbmlColumn(
                name=column.name,
                type=(enum or str(column.type)).strip('"').lower(),
                enum=enum,
                primary_key=bool(column.pk),
                unique=bool(column.unique),
                not_null=bool(column.not_null) or bool(column.pk),
                increment=bool(column.autoinc),
                default=default.text if is_sql else default,
                default_is_sql=is_sql,
                note=str(column.note.text) if column.note else "",
            )
        )
    indexes = tuple(
        DbmlIndex(
            columns=tuple(getattr(s, "name", None) or str(s) for s in index.subjects),
            unique=bool(index.unique),
            primary_key=bool(index.pk),
            name=index.name or None,
        )
        for index in table.indexes
    )
    note = str(table.note.text) if table.note else ""
    return DbmlTable(table.name, tuple(columns), indexes, tuple(checks), note)
