"""Migrations from contract changes on SQLite, PostgreSQL and MariaDB.

Seven versions of the bookshop (a new table, a column with a default, an index, a
reference, a renamed column, a dropped column) are planned one after another; each is
applied, rolled back and applied again, and after every step the reflected database is
compared with the model of the version it should be at. Rows written at the start survive
every step that does not drop them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from conftest import BOOKSHOP

from backsmith.api import load_model
from backsmith.model.types import Model
from backsmith.storage.migrations import project, runner
from backsmith.storage.migrations.drift import differences
from backsmith.storage.migrations.folder import MigrationsFolder
from backsmith.storage.tables import build_metadata


def _add_publishers(text: str) -> str:
    return text.replace(
        "Table genres {",
        "Table publishers {\n  id integer [pk, increment]\n"
        "  name varchar(200) [not null, unique]\n}\n\nTable genres {",
    )


def _add_format(text: str) -> str:
    return text.replace(
        "  in_stock boolean [not null, default: true]\n",
        "  in_stock boolean [not null, default: true]\n"
        "  format varchar(20) [not null, default: 'paperback']\n",
    )


def _add_index(text: str) -> str:
    return text.replace(
        "  indexes {\n    author_id\n  }", "  indexes {\n    author_id\n    published_on\n  }"
    )


def _add_reference(text: str) -> str:
    text = text.replace(
        "  format varchar(20) [not null, default: 'paperback']\n",
        "  format varchar(20) [not null, default: 'paperback']\n  publisher_id integer\n",
    )
    return text.replace(
        "Table genres {",
        "Ref: books.publisher_id > publishers.id [delete: set null]\n\nTable genres {",
    )


def _rename_bio(text: str) -> str:
    return text.replace("  bio text\n", "  biography text [note: 'renamed-from: bio']\n", 1)


def _drop_note(text: str) -> str:
    return text.replace("  note text\n", "", 1)


VERSIONS: list[tuple[str, Callable[[str], str]]] = [
    ("initial schema", lambda text: text),
    ("add publishers", _add_publishers),
    ("add format to books", _add_format),
    ("index books by publication date", _add_index),
    ("books refer to their publisher", _add_reference),
    ("rename authors bio to biography", _rename_bio),
    ("drop the order note", _drop_note),
]
DESTRUCTIVE = {"drop the order note"}


def _reset_postgres(url: str) -> None:
    async def reset() -> None:
        import asyncpg

        connection = await asyncpg.connect(url)
        try:
            await connection.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
        finally:
            await connection.close()

    asyncio.run(reset())


def _reset_mariadb(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 0")
        for name in sa.inspect(conn).get_table_names():
            conn.exec_driver_sql(f"DROP TABLE `{name}`")
        conn.exec_driver_sql("SET FOREIGN_KEY_CHECKS = 1")
    engine.dispose()


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=pytest.mark.postgres),
        pytest.param("mariadb", marks=pytest.mark.mariadb),
    ]
)
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database of each dialect."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shop.db'}"
        return
    if request.param == "postgresql":
        found = str(request.getfixturevalue("pg_url"))
        _reset_postgres(found)
    else:
        found = str(request.getfixturevalue("mariadb_url"))
        _reset_mariadb(found)
    yield found


def _sync(url: str, work: Callable[[sa.Connection], Any]) -> Any:
    return asyncio.run(runner.on_connection(url, work))


def _differences(url: str, model: Model) -> list[str]:
    metadata = build_metadata(model)
    return _sync(url, lambda conn: differences(conn, metadata))


def _reflected(url: str) -> dict[str, Any]:
    """Everything reflection says about every table, names of keys and indexes included."""

    def read(conn: sa.Connection) -> dict[str, Any]:
        inspector = sa.inspect(conn)
        found = {}
        for name in sorted(inspector.get_table_names()):
            found[name] = {
                "columns": [
                    (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                    for c in inspector.get_columns(name)
                ],
                "pk": inspector.get_pk_constraint(name),
                "unique": sorted(inspector.get_unique_constraints(name), key=str),
                "indexes": sorted(inspector.get_indexes(name), key=str),
                "references": sorted(inspector.get_foreign_keys(name), key=str),
            }
        return found

    return _sync(url, read)


def _project(tmp_path: Path) -> tuple[Path, MigrationsFolder]:
    contract = tmp_path / "shop" / "api-spec.md"
    contract.parent.mkdir(parents=True, exist_ok=True)
    return contract, MigrationsFolder(contract.parent / "migrations")


def _insert_v1_rows(url: str, model: Model) -> None:
    tables = build_metadata(model).tables

    def write(conn: sa.Connection) -> None:
        with conn.begin():
            conn.execute(
                tables["authors"]
                .insert()
                .values(id=1, name="Ursula K. Le Guin", bio="Earthsea", created_at=_NOW)
            )
            conn.execute(
                tables["books"]
                .insert()
                .values(
                    id=_BOOK,
                    slug="earthsea",
                    title="A Wizard of Earthsea",
                    isbn="9780553383041",
                    author_id=1,
                    price_cents=899,
                    in_stock=True,
                    tags=["fantasy"],
                    created_at=_NOW,
                    updated_at=_NOW,
                )
            )

    _sync(url, write)


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    return _sync(url, lambda conn: [tuple(r) for r in conn.exec_driver_sql(sql)])


_NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
_BOOK = UUID("0195f0c2-0000-7000-8000-000000000001")


def test_seven_contract_versions_go_up_down_and_up_again(url: str, tmp_path: Path) -> None:
    contract, folder = _project(tmp_path)
    text = BOOKSHOP.read_text(encoding="utf-8")
    previous: Model | None = None
    for number, (message, change) in enumerate(VERSIONS, start=1):
        text = change(text)
        contract.write_text(text, encoding="utf-8")
        model = load_model(contract)
        planned = project.plan_next(model, folder, message, message in DESTRUCTIVE)
        assert planned.path is not None and planned.path.name.startswith(f"{number:04d}_")
        assert project.plan_next(model, folder, "again").path is None  # nothing left

        outcome = asyncio.run(project.upgrade(url, folder))
        assert outcome.revision == f"{number:04d}"
        assert _differences(url, model) == [], message
        after_up = _reflected(url)
        if number == 1:
            _insert_v1_rows(url, model)

        asyncio.run(project.downgrade(url, folder))
        expected = previous if previous is not None else None
        if expected is not None:
            assert _differences(url, expected) == [], f"after rolling back {message}"
        else:
            assert _reflected(url).keys() <= {"alembic_version"}

        asyncio.run(project.upgrade(url, folder))
        assert _reflected(url) == after_up, f"{message}: up, down, up differs from up"
        if number == 1:
            _insert_v1_rows(url, model)  # the rollback of the first version dropped them
        previous = model

        author = _rows(url, "SELECT * FROM authors")
        assert len(author) == 1 and "Earthsea" in author[0], message
        assert len(_rows(url, "SELECT id FROM books")) == 1, message
    formats = _rows(url, "SELECT format FROM books")
    assert formats == [("paperback",)]  # the default filled the row that was there
    assert _rows(url, "SELECT biography FROM authors") == [("Earthsea",)]

    asyncio.run(project.downgrade(url, folder, "base"))
    assert _reflected(url).keys() <= {"alembic_version"}


def _first_version(tmp_path: Path) -> tuple[Path, MigrationsFolder, Model]:
    contract, folder = _project(tmp_path)
    contract.write_text(BOOKSHOP.read_text(encoding="utf-8"), encoding="utf-8")
    model = load_model(contract)
    project.plan_next(model, folder, "initial schema")
    return contract, folder, model


def test_a_destructive_step_is_refused_without_the_flag(tmp_path: Path) -> None:
    contract, folder, _ = _first_version(tmp_path)
    contract.write_text(_drop_note(contract.read_text(encoding="utf-8")), encoding="utf-8")
    model = load_model(contract)
    with pytest.raises(project.DestructivePlan) as refused:
        project.plan_next(model, folder, "drop the note")
    assert refused.value.risks == ["drop column orders.note: its values are deleted"]
    assert [r.id for r in folder.revisions()] == ["0001"]  # no file written
    planned = project.plan_next(model, folder, "drop the note", allow_destructive=True)
    assert planned.path is not None
    assert "drop column orders.note: its values are deleted" in planned.path.read_text()


_FAILING = '''"""Breaks half way."""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"


def upgrade() -> None:
    op.add_column("authors", sa.Column("nickname", sa.Text()))
    op.execute("UPDATE authors SET nickname = 'x'")
    op.execute("INSERT INTO no_such_table VALUES (1)")


def downgrade() -> None:
    op.drop_column("authors", "nickname")
'''


@pytest.mark.parametrize(
    "url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_a_migration_that_fails_half_way_leaves_schema_and_rows_as_they_were(
    url: str, tmp_path: Path
) -> None:
    _, folder, model = _first_version(tmp_path)
    asyncio.run(project.upgrade(url, folder))
    _insert_v1_rows(url, model)
    (folder.path / "0002_breaks.py").write_text(_FAILING, encoding="utf-8")
    folder.forget()
    with pytest.raises(runner.MigrationFailed) as failed:
        asyncio.run(project.upgrade(url, folder))
    assert "rolled back" in str(failed.value) and "no_such_table" in str(failed.value)
    assert _differences(url, model) == []  # no nickname column
    assert _sync(url, runner.current) == "0001"
    assert len(_rows(url, "SELECT * FROM authors")) == 1


@pytest.mark.parametrize(
    "url", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
def test_check_finds_what_was_changed_by_hand(url: str, tmp_path: Path) -> None:
    _, folder, model = _first_version(tmp_path)
    asyncio.run(project.upgrade(url, folder))
    assert asyncio.run(project.status(url, folder, model)).matches
    postgres = url.startswith("postgresql")

    def tamper(conn: sa.Connection) -> None:
        with conn.begin():
            conn.exec_driver_sql("ALTER TABLE authors ADD COLUMN twitter TEXT")
            conn.exec_driver_sql("DROP INDEX ix_books_author_id")
            if postgres:
                conn.exec_driver_sql("ALTER TABLE genres ALTER COLUMN name TYPE TEXT")
            else:  # SQLite changes a type only by rebuilding; a new table stands in for it
                conn.exec_driver_sql("DROP TABLE book_genres")
                conn.exec_driver_sql(
                    "CREATE TABLE book_genres (book_id CHAR(32) NOT NULL, genre_id TEXT NOT NULL, "
                    "PRIMARY KEY (book_id, genre_id))"
                )

    _sync(url, tamper)
    found = asyncio.run(project.status(url, folder, model)).differences
    assert "column authors.twitter is in the database but not in the contract" in found
    assert "index on books(author_id) is missing" in found
    if postgres:
        assert "column genres.name is TEXT, the contract says VARCHAR(64)" in found
    else:
        assert "column book_genres.genre_id is TEXT, the contract says INTEGER" in found


@pytest.mark.postgres
def test_two_runs_at_once_apply_each_migration_once(pg_url: str, tmp_path: Path) -> None:
    _reset_postgres(pg_url)
    contract, folder, _ = _first_version(tmp_path)
    slow = (folder.path / "0001_initial_schema.py").read_text(encoding="utf-8")
    slow = slow.replace(
        "def upgrade() -> None:\n", "def upgrade() -> None:\n    op.execute('SELECT pg_sleep(1)')\n"
    )
    (folder.path / "0001_initial_schema.py").write_text(slow, encoding="utf-8")
    command = [sys.executable, "-m", "backsmith.cli", "migrate", "up", str(contract)]
    env = {**os.environ, "BACKSMITH_DATABASE_URL": pg_url}
    runs = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    said = sorted(out for out, _ in outputs)
    assert "applied 0001 initial schema" in said[0]
    assert "nothing to do" in said[1]


# ------------------------------------------------------------------ serving
def _app(model: Model, url: str, **settings: Any) -> Any:
    from backsmith.http.app import create_app
    from backsmith.settings import load_settings

    return create_app(model, load_settings({}, environ={}, database_url=url, **settings))


def test_serving_sqlite_applies_pending_migrations_and_reports_the_revision(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import httpx

    _, _folder, model = _first_version(tmp_path)
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    app = _app(model, url)

    async def serve() -> Any:
        await app.startup()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            ready = await client.get("/readyz")
        await app.shutdown()
        return ready

    logger = logging.getLogger("backsmith")  # `serve` may have stopped it propagating
    logger.addHandler(caplog.handler)
    try:
        with caplog.at_level("INFO", logger="backsmith"):
            ready = asyncio.run(serve())
    finally:
        logger.removeHandler(caplog.handler)
    assert (ready.json()["status"], ready.json()["revision"]) == ("pass", "0001")
    assert "applied migrations: applied 0001 initial schema" in caplog.text
    assert _sync(url, runner.current) == "0001"


@pytest.mark.postgres
def test_serving_postgresql_refuses_pending_migrations_and_drift(
    pg_url: str, tmp_path: Path
) -> None:
    from backsmith.storage.schema import StartupError

    _reset_postgres(pg_url)
    _contract, folder, model = _first_version(tmp_path)
    with pytest.raises(StartupError, match=r"1 migration\(s\) pending: 0001 \(initial schema\)"):
        asyncio.run(_app(model, pg_url).startup())
    asyncio.run(project.upgrade(pg_url, folder))
    app = _app(model, pg_url)
    asyncio.run(app.startup())
    assert app.schema_revision == "0001"
    asyncio.run(app.shutdown())

    _sync(
        pg_url,
        lambda conn: (conn.exec_driver_sql("ALTER TABLE books DROP COLUMN tags"), conn.commit()),
    )
    with pytest.raises(StartupError, match=r"column books\.tags is missing"):
        asyncio.run(_app(model, pg_url).startup())


@pytest.mark.postgres
def test_an_unmanaged_database_that_matches_is_served_and_can_be_adopted(
    pg_url: str, tmp_path: Path
) -> None:
    _reset_postgres(pg_url)
    _contract, folder, model = _first_version(tmp_path)
    # Built by other means: the tables as `serve --create-tables` makes them, no revision.
    bare = MigrationsFolder(tmp_path / "none")
    assert not bare.exists
    app = _app(model, pg_url, create_tables=True, migrations=str(bare.path))
    asyncio.run(app.startup())
    asyncio.run(app.shutdown())

    status = asyncio.run(project.status(pg_url, folder, model))
    assert (status.managed, status.matches, status.head) == (False, True, "0001")
    app = _app(model, pg_url)
    asyncio.run(app.startup())  # served as it is
    assert app.schema_revision is None
    asyncio.run(app.shutdown())

    assert asyncio.run(project.adopt(pg_url, folder, model)) == "0001"
    status = asyncio.run(project.status(pg_url, folder, model))
    assert (status.managed, status.revision, status.pending) == (True, "0001", [])


# ---------------------------------------------------------- more kinds of change
def _widen_name(text: str) -> str:
    return text.replace(
        "  name varchar(200) [not null]\n  bio", "  name varchar(400) [not null]\n  bio", 1
    )


def _require_bio(text: str) -> str:
    return text.replace("  bio text\n", "  bio text [not null, default: 'unknown']\n", 1)


def _default_quantity(text: str) -> str:
    return text.replace(
        "  quantity integer [not null", "  quantity integer [not null, default: 1", 1
    )


def _drop_imprints(text: str) -> str:
    start = text.index("Table imprints")
    return text[:start] + text[text.index("}\n", start) + 3 :]


def _rename_isbn(text: str) -> str:
    return text.replace(
        "  isbn varchar(13) [not null, unique, note: '13 digits, no hyphens']",
        "  isbn13 varchar(13) [not null, unique, note: 'renamed-from: isbn']",
        1,
    ).replace(
        "isbn: {type: string, pattern: '^[0-9]{13}$'}",
        "isbn: {type: string, pattern: '^[0-9]{13}$', x-backsmith: {column: isbn13}}",
    )


def _rename_publishers(text: str) -> str:
    return text.replace("Table publishers {", "Table imprints [note: 'renamed-from: publishers'] {")


def _drop_author_index(text: str) -> str:
    return text.replace("  indexes {\n    author_id\n  }\n", "", 1)


def _not_unique_email(text: str) -> str:
    return text.replace(
        "  email varchar(320) [not null, unique]", "  email varchar(320) [not null]", 1
    )


MORE: list[tuple[str, Callable[[str], str], bool]] = [
    ("add publishers", _add_publishers, False),
    ("widen author names", _widen_name, False),
    ("authors need a bio", _require_bio, False),
    ("one copy by default", _default_quantity, False),
    ("emails need not be unique", _not_unique_email, False),
    ("rename isbn, a unique column", _rename_isbn, False),
    ("books need no author index", _drop_author_index, False),
    ("rename publishers", _rename_publishers, False),
    ("drop imprints", _drop_imprints, True),
]


def test_types_nullability_defaults_keys_and_dropped_tables_go_both_ways(
    url: str, tmp_path: Path
) -> None:
    contract, folder, model = _first_version(tmp_path)
    asyncio.run(project.upgrade(url, folder))
    _insert_v1_rows(url, model)
    text = contract.read_text(encoding="utf-8")
    previous = model
    for message, change, destructive in MORE:
        changed = change(text)
        assert changed != text, message
        text = changed
        contract.write_text(text, encoding="utf-8")
        model = load_model(contract)
        if destructive:
            with pytest.raises(project.DestructivePlan):
                project.plan_next(model, folder, message)
        planned = project.plan_next(model, folder, message, allow_destructive=destructive)
        assert planned.path is not None, message
        asyncio.run(project.upgrade(url, folder))
        assert _differences(url, model) == [], message
        asyncio.run(project.downgrade(url, folder))
        assert _differences(url, previous) == [], f"after rolling back {message}"
        asyncio.run(project.upgrade(url, folder))
        assert _differences(url, model) == [], f"{message}, again"
        previous = model
    assert _rows(url, "SELECT name, bio FROM authors") == [("Ursula K. Le Guin", "Earthsea")]


def test_changes_a_plan_cannot_make_are_refused_with_a_message(tmp_path: Path) -> None:
    from backsmith.storage.migrations.diff import PlanError

    contract, folder, _ = _first_version(tmp_path)
    original = contract.read_text(encoding="utf-8")
    for change, words in (
        (
            lambda t: t.replace("  gold\n", "  gold\n  diamond\n", 1),
            "the values of enum customer_tier",
        ),
        (
            lambda t: t.replace(
                "(book_id, customer_id) [pk]", "(book_id, customer_id, created_at) [pk]"
            ),
            "the primary key of wishlists",
        ),
    ):
        contract.write_text(change(original), encoding="utf-8")
        with pytest.raises(PlanError, match=words):
            project.plan_next(load_model(contract), folder, "refused")
        assert [r.id for r in folder.revisions()] == ["0001"]


@pytest.mark.postgres
def test_a_failed_concurrent_index_build_is_reported_and_retried(
    pg_url: str, tmp_path: Path
) -> None:
    _reset_postgres(pg_url)
    contract, folder, model = _first_version(tmp_path)
    asyncio.run(project.upgrade(pg_url, folder))
    tables = build_metadata(model).tables

    def twins(*keys: int) -> Callable[[sa.Connection], None]:
        def insert(conn: sa.Connection) -> None:
            for key in keys:
                row = {"id": key, "name": "Twin", "created_at": _NOW}
                conn.execute(tables["authors"].insert().values(row))
            conn.commit()

        return insert

    _sync(pg_url, twins(1, 2))
    text = contract.read_text(encoding="utf-8").replace(
        "  created_at timestamptz [not null]\n}\n\nTable books",
        "  nickname text\n  created_at timestamptz [not null]\n\n  indexes {\n"
        "    name [unique]\n  }\n}\n\nTable books",
        1,
    )
    contract.write_text(text, encoding="utf-8")
    model = load_model(contract)
    planned = project.plan_next(model, folder, "nicknames", allow_destructive=True)
    assert [p.name for p in planned.paths] == ["0002_nicknames.py", "0003_nicknames_indexes.py"]
    assert "create unique index" in " ".join(planned.risks)

    with pytest.raises(runner.MigrationFailed):
        asyncio.run(project.upgrade(pg_url, folder))
    status = asyncio.run(project.status(pg_url, folder, model))
    assert status.revision == "0002"  # the column's revision went in whole; the index did not
    assert "unique key on authors(name) is missing" in status.differences
    assert not any("is invalid" in d for d in status.differences)  # dropped as it failed

    def crash_leftover(conn: sa.Connection) -> None:
        # What a build killed half way leaves (a failed one drops its own): an invalid index.
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        with contextlib.suppress(runner.MigrationFailed, sa.exc.DBAPIError):
            conn.exec_driver_sql(
                "CREATE UNIQUE INDEX CONCURRENTLY ix_authors_name ON authors (name)"
            )

    _sync(pg_url, crash_leftover)
    status = asyncio.run(project.status(pg_url, folder, model))
    assert "index ix_authors_name on authors is invalid" in " ".join(status.differences)

    _sync(
        pg_url,
        lambda conn: (conn.exec_driver_sql("DELETE FROM authors WHERE id = 2"), conn.commit()),
    )
    asyncio.run(project.upgrade(pg_url, folder))
    assert _differences(pg_url, model) == []
    with pytest.raises(runner.MigrationFailed, match="ix_authors_name"):
        _sync(pg_url, twins(3))  # the unique index holds


def test_making_a_column_not_null_gives_null_rows_its_default(url: str, tmp_path: Path) -> None:
    contract, folder, model = _first_version(tmp_path)
    asyncio.run(project.upgrade(url, folder))
    tables = build_metadata(model).tables
    _sync(
        url,
        lambda conn: (
            conn.execute(tables["authors"].insert().values(id=1, name="A", created_at=_NOW)),
            conn.commit(),
        ),
    )
    contract.write_text(_require_bio(contract.read_text(encoding="utf-8")), encoding="utf-8")
    model = load_model(contract)
    planned = project.plan_next(model, folder, "bios")
    assert planned.risks == []
    asyncio.run(project.upgrade(url, folder))
    assert _rows(url, "SELECT bio FROM authors") == [("unknown",)]
    assert _differences(url, model) == []


def _renumber_authors(text: str) -> str:
    text = text.replace(
        "Table authors {\n  id integer [pk, increment]",
        "Table authors {\n  author_no integer [pk, increment, note: 'renamed-from: id']",
        1,
    )
    text = text.replace(
        "Ref: books.author_id > authors.id", "Ref: books.author_id > authors.author_no"
    )
    return text.replace(
        "        id: {type: integer, readOnly: true}\n"
        "        name: {type: string, minLength: 1, maxLength: 200}",
        "        id: {type: integer, readOnly: true, x-backsmith: {column: author_no}}\n"
        "        name: {type: string, minLength: 1, maxLength: 200}",
        1,
    )


def _add_translator(text: str) -> str:
    text = text.replace(
        "  author_id integer [not null]\n",
        "  author_id integer [not null]\n  translator_id integer\n",
        1,
    )
    text = text.replace(
        "  indexes {\n    author_id\n  }", "  indexes {\n    author_id\n    translator_id\n  }", 1
    )
    return text.replace(
        "Ref: books.author_id >",
        "Ref: books.translator_id > authors.id [delete: set null]\nRef: books.author_id >",
        1,
    )


def test_a_renamed_key_keeps_its_references_and_its_numbering(url: str, tmp_path: Path) -> None:
    contract, folder, model = _first_version(tmp_path)
    asyncio.run(project.upgrade(url, folder))
    first = build_metadata(model).tables

    def numbered_rows(conn: sa.Connection) -> None:  # the database numbers the author: 1
        conn.execute(first["authors"].insert().values(name="First", created_at=_NOW))
        conn.execute(
            first["books"]
            .insert()
            .values(
                id=_BOOK,
                slug="b",
                title="B",
                isbn="9780000000000",
                author_id=1,
                price_cents=1,
                in_stock=True,
                tags=[],
                created_at=_NOW,
                updated_at=_NOW,
            )
        )
        conn.commit()

    _sync(url, numbered_rows)
    contract.write_text(_renumber_authors(contract.read_text(encoding="utf-8")), encoding="utf-8")
    model = load_model(contract)
    assert project.plan_next(model, folder, "renumber authors").risks == []
    for step in ("up", "down", "up"):
        run = project.upgrade if step == "up" else project.downgrade
        asyncio.run(run(url, folder))
    assert _differences(url, model) == []
    tables = build_metadata(model).tables

    def write(conn: sa.Connection) -> Any:
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("PRAGMA foreign_keys = ON")
        # The database numbers the renamed key still, and books may still refer to it.
        number = conn.execute(
            tables["authors"]
            .insert()
            .values(name="Next", created_at=_NOW)
            .returning(tables["authors"].c.author_no)
        ).scalar_one()
        conn.execute(tables["books"].update().values(author_id=number))
        conn.commit()
        if conn.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall() == []
        return number

    assert _sync(url, write) == 2


def test_a_new_reference_with_its_index_rolls_back(url: str, tmp_path: Path) -> None:
    contract, folder, model = _first_version(tmp_path)
    asyncio.run(project.upgrade(url, folder))
    contract.write_text(_add_translator(contract.read_text(encoding="utf-8")), encoding="utf-8")
    translated = load_model(contract)
    planned = project.plan_next(translated, folder, "translators")
    assert [p.name for p in planned.paths] == ["0002_translators.py", "0003_translators_indexes.py"]
    asyncio.run(project.upgrade(url, folder))
    assert _differences(url, translated) == []
    asyncio.run(project.downgrade(url, folder, "0001"))
    assert _differences(url, model) == []
    asyncio.run(project.upgrade(url, folder))
    assert _differences(url, translated) == []
