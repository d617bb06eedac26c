"""Seed data: fixture files per resource, and generated rows, loaded idempotently.

Fixtures are `<resource>.yaml`, `.yml` or `.json` files (by resource or table name), each
a list of records keyed by API property or column. A reference is given by id
(`author_id: 3`) or by the referenced row's natural key (`author: le-guin`, matched against
its unique columns). A record whose key (primary key, else a unique column, else all its
values) is already stored is left alone, so a second run changes nothing. Everything is
written in one transaction: a bad record leaves nothing behind, and every bad record is
reported with its file, its index and its field.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml

from backsmith.errors import InputError
from backsmith.model.naming import snake
from backsmith.model.resources import derived_columns
from backsmith.model.types import Field, FieldType, Model, Resource
from backsmith.storage.ids import uuid7
from backsmith.storage.migrations.runner import on_connection
from backsmith.storage.tables import build_metadata
from backsmith.storage.values import Stamps, from_json, slugify

_SUFFIXES = (".yaml", ".yml", ".json")


class SeedError(InputError):
    """Fixtures that cannot be loaded; nothing was written."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(slots=True)
class Fixture:
    resource: Resource
    path: Path
    records: list[Any]


def read_fixtures(model: Model, folder: Path) -> list[Fixture]:
    """Every fixture file of `folder`, parsed, in the order references need."""
    if not folder.is_dir():
        raise SeedError([f"{folder}: no such folder"])
    by_name = {r.name: r for r in model.resources.values()}
    by_name.update({r.table: r for r in model.resources.values()})
    found: dict[str, Fixture] = {}
    problems = []
    for path in sorted(folder.iterdir()):
        if path.suffix not in _SUFFIXES:
            continue
        resource = by_name.get(path.stem)
        if resource is None:
            names = ", ".join(sorted({r.name for r in model.resources.values()}))
            problems.append(
                f"{path}: no resource is named {path.stem!r} (the contract has {names})"
            )
            continue
        try:
            text = path.read_text(encoding="utf-8")
            records = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
        except (OSError, ValueError, yaml.YAMLError) as error:
            problems.append(f"{path}: cannot be read: {error}")
            continue
        if not isinstance(records, list):
            problems.append(f"{path}: expected a list of records")
            continue
        found[resource.table] = Fixture(resource, path, records)
    if problems:
        raise SeedError(problems)
    order = [t.name for t in build_metadata(model).sorted_tables]
    return [found[name] for name in order if name in found]


def derive_pairs(model: Model, resource: Resource) -> tuple[tuple[str, str], ...]:
    """(column, source) pairs the contract derives on create, such as a slug from a title."""
    for op in model.operations:
        if op.resource != resource.name:
            continue
        for shape in (op.body_shape, op.response.shape if op.response else None):
            if shape is not None and shape.derive:
                return shape.derive
    return derived_columns(resource)


class _Loader:
    """Turns records into rows on one connection, collecting every problem."""

    def __init__(self, model: Model, conn: sa.Connection) -> None:
        self.model = model
        self.conn = conn
        self.tables = build_metadata(model).tables
        self.problems: list[str] = []

    def load(self, fixture: Fixture) -> tuple[int, int]:
        resource = fixture.resource
        table = self.tables[resource.table]
        inserted = kept = 0
        stamps = Stamps(resource, uuid7)  # SQLAlchemy binds UUID objects
        pairs = derive_pairs(self.model, resource)
        for index, record in enumerate(fixture.records):
            where = f"{fixture.path}: record {index}"
            if not isinstance(record, Mapping):
                self.problems.append(f"{where}: expected a mapping of fields")
                continue
            values = self._values(resource, record, where)
            if values is None:
                continue
            if self._stored(resource, table, values):
                kept += 1
                continue
            row = {**stamps.values(creating=True), **values}
            for column, source in pairs:
                if row.get(column) is None and row.get(source) is not None:
                    row[column] = self._free_slug(table, column, slugify(str(row[source])))
            try:
                with self.conn.begin_nested():
                    self.conn.execute(table.insert().values(row))
            except sa.exc.StatementError as error:  # a constraint, or a value the column refuses
                cause = getattr(error, "orig", None) or error
                self.problems.append(f"{where}: refused by the database: {cause}")
                continue
            inserted += 1
        return inserted, kept

    def _values(self, resource: Resource, record: Mapping[str, Any], where: str) -> Any:
        values: dict[str, Any] = {}
        ok = True
        for key, value in record.items():
            field = resource.field(str(key))
            if field is None:
                reference = self._reference(resource, str(key), value, where)
                if reference is None:
                    ok = False
                else:
                    values.update(reference)
                continue
            if field.enum and value is not None and str(value) not in field.enum:
                allowed = ", ".join(field.enum)
                self.problems.append(f"{where}: field {key!r}: {value!r} is not one of {allowed}")
                ok = False
                continue
            try:
                values[field.column] = _bound(field, value)
            except (TypeError, ValueError, ArithmeticError):
                self.problems.append(f"{where}: field {key!r}: not a valid {field.type}: {value!r}")
                ok = False
        return values if ok else None

    def _reference(
        self, resource: Resource, key: str, value: Any, where: str
    ) -> dict[str, Any] | None:
        """`author: le-guin` -> {"author_id": <the id of the author whose key is le-guin>}."""
        for relation in resource.relations:
            if len(relation.columns) != 1 or relation.columns[0] not in (
                f"{snake(key)}_id",
                f"{key}_id",
            ):
                continue
            target = self.model.resource_for_table(relation.target)
            found = self._by_natural_key(target, relation.target_columns[0], value)
            if found is None:
                self.problems.append(
                    f"{where}: field {key!r}: no {relation.target} row has the key {value!r}"
                )
                return None
            return {relation.columns[0]: found}
        self.problems.append(
            f"{where}: field {key!r} is neither a field of {resource.name} nor a reference"
        )
        return None

    def _by_natural_key(self, target: Resource | None, column: str, value: Any) -> Any:
        if target is None:
            return None
        table = self.tables[target.table]
        keys = [f for f in target.fields if f.primary_key or f.unique]
        for field in sorted(keys, key=lambda f: f.primary_key):  # natural keys first
            try:
                typed = _bound(field, value)
            except (TypeError, ValueError, ArithmeticError):
                continue
            found = self.conn.execute(
                sa.select(table.c[column]).where(table.c[field.column] == typed).limit(1)
            ).first()
            if found is not None:
                return found[0]
        return None

    def _stored(self, resource: Resource, table: sa.Table, values: dict[str, Any]) -> bool:
        """Whether a row with the record's identity exists."""
        identity = _identity(resource, values)
        if not identity:
            return False
        clauses = [
            table.c[c].is_(None) if v is None else table.c[c] == v for c, v in identity.items()
        ]
        return (
            self.conn.execute(sa.select(sa.literal(1)).where(*clauses).limit(1)).first() is not None
        )

    def _free_slug(self, table: sa.Table, column: str, base: str) -> str:
        taken = {
            str(v)
            for (v,) in self.conn.execute(
                sa.select(table.c[column]).where(
                    sa.or_(table.c[column] == base, table.c[column].like(f"{base}-%"))
                )
            )
        }
        candidate, suffix = base, 1
        while candidate in taken:
            suffix += 1
            candidate = f"{base}-{suffix}"
        return candidate


def _identity(resource: Resource, values: dict[str, Any]) -> dict[str, Any]:
    primary = {c: values[c] for c in resource.primary_key if c in values}
    if primary and len(primary) == len(resource.primary_key):
        return primary
    for field in resource.fields:
        if field.unique and field.column in values:
            return {field.column: values[field.column]}
    return {c: v for c, v in values.items() if not isinstance(v, dict | list)}


async def seed_database(
    model: Model, url: str, fixtures: str | None = None, fake: int = 0
) -> list[str]:
    """Load the fixtures of a folder and/or `fake` generated rows per resource."""
    loaded = read_fixtures(model, Path(fixtures)) if fixtures else []

    def work(conn: sa.Connection) -> list[str]:
        report: list[str] = []
        with conn.begin():
            loader = _Loader(model, conn)
            for fixture in loaded:
                inserted, kept = loader.load(fixture)
                report.append(
                    f"{fixture.resource.name}: {inserted} inserted, {kept} already present"
                )
            if loader.problems:
                raise SeedError(loader.problems)
            if fake:
                from backsmith.storage.fake import fake_rows

                report += fake_rows(model, conn, loader.tables, fake)
        return report

    return await on_connection(url, work, foreign_keys=True)


def _bound(field: Field, value: Any) -> Any:
    """A record's value as SQLAlchemy's own bindings take it: a UUID as a `UUID` (they
    store its hex on SQLite and MariaDB), where requests bind the canonical text."""
    typed = from_json(field, value)
    if field.type == FieldType.UUID and isinstance(typed, str):
        return uuid.UUID(typed)
    return typed
