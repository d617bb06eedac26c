"""What `backsmith migrate` does for one contract, one folder and one database.

Plan writes the next revision file; up and down move the database along the chain; status
and check compare it with the contract; adopt records a database built by other means as
the head revision. `serve` uses the same functions before it starts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from backsmith.errors import BacksmithError
from backsmith.model.types import Model
from backsmith.storage.migrations import runner
from backsmith.storage.migrations.drift import differences
from backsmith.storage.migrations.folder import MigrationsFolder, Revision, migrations_folder
from backsmith.storage.migrations.state import snapshot
from backsmith.storage.tables import build_metadata

if TYPE_CHECKING:
    from backsmith.storage.migrations.diff import Migration, Renames

__all__ = ["migrations_folder"]


class DestructivePlan(BacksmithError):
    """The plan would drop data or fail on rows that exist; it needs --allow-destructive."""

    def __init__(self, risks: list[str]) -> None:
        lines = "\n".join(f"  - {risk}" for risk in risks)
        super().__init__(
            f"the migration has destructive steps:\n{lines}\n"
            "review them, then plan again with --allow-destructive"
        )
        self.risks = risks


def declared_renames(model: Model) -> Renames:
    from backsmith.storage.migrations.align import Renames

    tables = {r.table: r.renamed_from for r in model.resources.values() if r.renamed_from}
    columns = {
        (r.table, f.column): f.renamed_from
        for r in model.resources.values()
        for f in r.fields
        if f.renamed_from
    }
    return Renames(tables, columns)


@dataclass(slots=True)
class Planned:
    """The files a plan wrote (none when there was nothing to plan), and what they do."""

    migration: Migration
    paths: list[Path] = field(default_factory=list)

    @property
    def path(self) -> Path | None:
        return self.paths[0] if self.paths else None

    @property
    def steps(self) -> list[str]:
        return [*self.migration.main.steps, *self.migration.indexes.steps]

    @property
    def risks(self) -> list[str]:
        return self.migration.risks


def plan_next(
    model: Model, folder: MigrationsFolder, message: str, allow_destructive: bool = False
) -> Planned:
    """Write the next revision file: the difference between the chain's head and the model.

    Indexes on tables that already exist go into a revision of their own after it, which
    PostgreSQL runs outside a transaction; the first stays one transaction.
    """
    # Planning alone needs Alembic's operations and renderer; serving at the head does not.
    from backsmith.storage.migrations.diff import plan
    from backsmith.storage.migrations.render import render

    migration = plan(folder.schema(), snapshot(build_metadata(model)), declared_renames(model))
    if migration.empty:
        return Planned(migration)
    if migration.risks and not allow_destructive:
        raise DestructivePlan(migration.risks)
    parts = [(migration.main, migration.between, message)]
    if not migration.indexes.empty:
        if migration.main.empty:
            parts = [(migration.indexes, migration.after, message)]
        else:
            parts.append((migration.indexes, migration.after, f"{message}: indexes"))
    folder.path.mkdir(parents=True, exist_ok=True)
    written = []
    for part, schema, text in parts:
        revision, path = folder.next_file(text)
        path.write_text(
            render(part, revision=revision, down_revision=folder.head, message=text, schema=schema),
            encoding="utf-8",
        )
        folder.forget()
        written.append(path)
    return Planned(migration, written)


@dataclass(slots=True)
class Status:
    revision: str | None
    managed: bool
    head: str | None
    pending: list[Revision] = field(default_factory=list)
    differences: list[str] = field(default_factory=list)

    @property
    def matches(self) -> bool:
        return not self.differences


def _pending(folder: MigrationsFolder, revision: str | None) -> list[Revision]:
    revisions = folder.revisions()
    ids = [r.id for r in revisions]
    if revision is None:
        return revisions
    if revision not in ids:
        raise runner.MigrationFailed(
            f"the database is at revision {revision}, which {folder.path} does not have"
        )
    return revisions[ids.index(revision) + 1 :]


async def status(url: str, folder: MigrationsFolder, model: Model) -> Status:
    """Where the database is on the chain, and how it differs from the contract."""
    metadata = build_metadata(model)

    def read(conn: sa.Connection) -> Status:
        is_managed = runner.managed(conn)
        revision = runner.recorded(conn) if is_managed else None
        head = folder.quick_head()
        pending = [] if revision is not None and revision == head else _pending(folder, revision)
        return Status(revision, is_managed, head, pending, differences(conn, metadata))

    return await runner.on_connection(url, read)


async def upgrade(url: str, folder: MigrationsFolder, target: str = "head") -> runner.Outcome:
    """Apply pending revisions up to `target`."""
    folder.revisions()  # a broken chain is reported before the database is touched
    return await runner.on_connection(
        url, lambda conn: runner.migrate(conn, folder, target, up=True), lock=True
    )


async def downgrade(url: str, folder: MigrationsFolder, target: str = "-1") -> runner.Outcome:
    """Roll back to `target` (one revision by default, `base` for all)."""
    folder.revisions()
    return await runner.on_connection(
        url, lambda conn: runner.migrate(conn, folder, target, up=False), lock=True
    )


async def adopt(url: str, folder: MigrationsFolder, model: Model) -> str:
    """Record an unmanaged database that matches the contract as the head revision."""
    from backsmith.storage.migrations.diff import plan

    head = folder.head
    if head is None:
        raise runner.MigrationFailed(
            f"{folder.path} has no migrations to adopt; plan the first with "
            "'backsmith migrate plan CONTRACT -m \"initial schema\"'"
        )
    metadata = build_metadata(model)
    if not plan(folder.schema(), snapshot(metadata), declared_renames(model)).empty:
        raise runner.MigrationFailed(
            f"the contract has changes that {folder.path} does not plan yet; plan them first"
        )

    def record(conn: sa.Connection) -> str:
        if runner.managed(conn) and runner.current(conn) is not None:
            raise runner.MigrationFailed(
                f"the database already records revision {runner.current(conn)}"
            )
        found = differences(conn, metadata)
        if found:
            listed = "\n".join(f"  - {item}" for item in found)
            raise runner.MigrationFailed(
                f"the database does not match the contract, so it cannot be adopted:\n{listed}"
            )
        runner.stamp(conn, folder, head)
        return head

    return await runner.on_connection(url, record, lock=True)
