"""Seeds: fixtures loaded twice change nothing; bad fixtures name file, record and field;
generated rows hold valid references and every list of the contract serves them as declared.
"""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
import schemathesis
import sqlalchemy as sa
from conftest import BOOKSHOP, write_file
from schemathesis import checks

from backsmith.api import load_model
from backsmith.http.app import create_app
from backsmith.model.types import Kind, Model
from backsmith.settings import load_settings
from backsmith.storage.migrations.runner import on_connection
from backsmith.storage.schema import prepare_database
from backsmith.storage.seed import SeedError, seed_database
from backsmith.storage.tables import build_metadata

MODEL = load_model(BOOKSHOP)


def _empty_database(url: str, model: Model = MODEL) -> None:
    settings = load_settings({}, environ={}, database_url=url, create_tables=True)
    asyncio.run(prepare_database(build_metadata(model), settings))


def _count(url: str, table: str) -> int:
    return asyncio.run(
        on_connection(
            url, lambda conn: conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar()
        )
    )


def _fresh_url(database_url: str, model: Model = MODEL) -> str:
    """An empty database with `model`'s tables (the bookshop's unless told)."""
    if database_url.startswith("postgresql"):
        from test_migrations import _reset_postgres

        _reset_postgres(database_url)
    _empty_database(database_url, model)
    return database_url


def _fixtures(folder: Path) -> Path:
    write_file(
        folder,
        "authors.yaml",
        """\
        - {id: 1, name: Ursula K. Le Guin, bio: Earthsea}
        - {id: 2, name: Octavia E. Butler}
        """,
    )
    write_file(
        folder,
        "genres.json",
        '[{"name": "fantasy"}, {"name": "science-fiction"}]',
    )
    write_file(
        folder,
        "books.yaml",
        """\
        - {title: A Wizard of Earthsea, isbn: "9780553383041", author_id: 1, price_cents: 899,
           tags: [fantasy]}
        - {title: Kindred, isbn: "9780807083697", author: 2, price_cents: 1099, tags: []}
        """,
    )
    return folder


def test_fixtures_load_twice_without_duplicates(database_url: str, tmp_path: Path) -> None:
    url = _fresh_url(database_url)
    folder = _fixtures(tmp_path / "seed")
    first = asyncio.run(seed_database(MODEL, url, fixtures=str(folder)))
    assert first == [
        "authors: 2 inserted, 0 already present",
        "genres: 2 inserted, 0 already present",
        "books: 2 inserted, 0 already present",
    ]
    second = asyncio.run(seed_database(MODEL, url, fixtures=str(folder)))
    assert second == [
        "authors: 0 inserted, 2 already present",
        "genres: 0 inserted, 2 already present",
        "books: 0 inserted, 2 already present",
    ]
    assert (_count(url, "authors"), _count(url, "books")) == (2, 2)
    slugs = asyncio.run(
        on_connection(url, lambda c: sorted(c.exec_driver_sql("SELECT slug FROM books").scalars()))
    )
    assert slugs == ["a-wizard-of-earthsea", "kindred"]  # derived as on create


def test_bad_fixtures_name_the_file_the_record_and_the_field(
    database_url: str, tmp_path: Path
) -> None:
    url = _fresh_url(database_url)
    folder = _fixtures(tmp_path / "seed")
    write_file(
        folder,
        "books.yaml",
        """\
        - {title: Fine, isbn: "9780000000001", author_id: 1, price_cents: 1, tags: []}
        - {title: Bad price, isbn: "9780000000002", author_id: 1, price_cents: lots, tags: []}
        - {title: No such author, isbn: "9780000000003", author: nobody, price_cents: 1, tags: []}
        - {title: Typo, isbn: "9780000000004", author_id: 1, price_cent: 1, tags: []}
        - just a string
        """,
    )
    write_file(folder, "customers.yaml", "- {email: a@example.com, name: A, tier: diamond}\n")
    with pytest.raises(SeedError) as refused:
        asyncio.run(seed_database(MODEL, url, fixtures=str(folder)))
    books = folder / "books.yaml"
    assert refused.value.problems == [
        f"{folder / 'customers.yaml'}: record 0: field 'tier': 'diamond' is not one of "
        "standard, gold, platinum",
        f"{books}: record 1: field 'price_cents': not a valid integer: 'lots'",
        f"{books}: record 2: field 'author': no authors row has the key 'nobody'",
        f"{books}: record 3: field 'price_cent' is neither a field of books nor a reference",
        f"{books}: record 4: expected a mapping of fields",
    ]
    assert _count(url, "authors") == 0 and _count(url, "books") == 0  # nothing half-written


def test_a_fixture_for_no_resource_is_refused(tmp_path: Path) -> None:
    folder = write_file(tmp_path / "seed", "publishers.yaml", "- {name: Ace}\n").parent
    with pytest.raises(SeedError) as refused:
        asyncio.run(seed_database(MODEL, f"sqlite:///{tmp_path / 'x.db'}", fixtures=str(folder)))
    assert "publishers.yaml: no resource is named 'publishers'" in str(refused.value)


SCHEMA = schemathesis.openapi.from_dict(copy.deepcopy(MODEL.document))
CONFORMANCE = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]


def _references_hold(url: str) -> None:
    metadata = build_metadata(MODEL)

    def orphans(conn: sa.Connection) -> list[str]:
        found = []
        for table in metadata.sorted_tables:
            for fk in table.foreign_key_constraints:
                column, target = fk.elements[0].parent, fk.elements[0].column
                missing = conn.execute(
                    sa.select(sa.func.count())
                    .select_from(table)
                    .where(column.is_not(None), column.not_in(sa.select(target)))
                ).scalar()
                if missing:
                    found.append(f"{table.name}.{column.name}: {missing}")
        return found

    assert asyncio.run(on_connection(url, orphans)) == []


def test_ten_thousand_generated_rows_per_resource_serve_as_the_contract_says(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'fake.db'}"
    _empty_database(url)
    report = asyncio.run(seed_database(MODEL, url, fake=10_000))
    assert "books: 10000 generated" in report and "authors: 10000 generated" in report
    _references_hold(url)
    app = create_app(MODEL, load_settings({}, environ={}, database_url=url))
    asyncio.run(app.startup())
    lists = [op for op in MODEL.operations if op.kind == Kind.LIST and "{" not in op.path]
    assert lists
    for operation in lists:
        schema_operation = SCHEMA.find_operation_by_id(operation.operation_id)
        query: dict[str, Any] = {}
        for _ in range(3):  # the first pages, following the cursor or page number
            case = schema_operation.Case(query=query)
            response = case.call(app=app)
            assert response.status_code == 200, (operation.operation_id, response.text)
            case.validate_response(response, checks=CONFORMANCE, transport_kwargs={"app": app})
            links = response.headers.get("link") or []  # a header's values, as a list
            if not links:
                break
            link = links[0] if isinstance(links, list) else links
            query = dict(parse_qsl(urlsplit(link.strip("<>").split(">")[0]).query))
    asyncio.run(app.shutdown())


def test_generated_rows_load_again_and_again(database_url: str) -> None:
    url = _fresh_url(database_url)
    for _ in range(3):  # join-table pairs and unique values never repeat an earlier run's
        report = asyncio.run(seed_database(MODEL, url, fake=20))
        assert "wishlists: 20 generated" in report and "book_genres: 20 generated" in report
    assert _count(url, "wishlists") == 60
    _references_hold(url)


def test_generated_uuid_keys_in_string_columns_seed(database_url: str, tmp_path: Path) -> None:
    """An id the schema types as a plain string, made by the server as a UUID (Google
    Tasks' task lists): seeded as text, which a string column binds on SQLite too."""
    contract = write_file(
        tmp_path,
        "api.yaml",
        """\
        openapi: 3.1.0
        info: {title: Lists, version: "1"}
        paths:
          /lists:
            post:
              operationId: createList
              requestBody:
                content: {application/json: {schema: {$ref: "#/components/schemas/List"}}}
              responses:
                "201":
                  description: made
                  content: {application/json: {schema: {$ref: "#/components/schemas/List"}}}
          /lists/{id}:
            get:
              operationId: getList
              parameters: [{name: id, in: path, required: true, schema: {type: string}}]
              responses:
                "200":
                  description: one
                  content: {application/json: {schema: {$ref: "#/components/schemas/List"}}}
        components:
          schemas:
            List:
              type: object
              properties:
                id: {type: string, readOnly: true}
                title: {type: string}
        """,
    )
    model = load_model(contract)
    assert model.resources["lists"].field("id").type == "string"
    url = _fresh_url(database_url, model)
    report = asyncio.run(seed_database(model, url, fake=3))
    assert "lists: 3 generated" in report
    assert _count(url, "lists") == 3


def test_fixtures_give_uuid_keys_in_any_spelling(database_url: str, tmp_path: Path) -> None:
    """A fixture's UUID key, canonical or in capitals, is stored once under its canonical
    text, and a second load finds both rows already there."""
    contract = write_file(
        tmp_path,
        "api.yaml",
        """\
        openapi: 3.1.0
        info: {title: Notes, version: "1"}
        paths:
          /notes/{id}:
            get:
              operationId: getNote
              parameters:
                - {name: id, in: path, required: true, schema: {type: string, format: uuid}}
              responses:
                "200":
                  description: one
                  content: {application/json: {schema: {$ref: "#/components/schemas/Note"}}}
        components:
          schemas:
            Note:
              type: object
              properties:
                id: {type: string, format: uuid}
                text: {type: string}
        """,
    )
    fixtures = tmp_path / "fixtures"
    write_file(
        fixtures,
        "notes.yaml",
        """\
        - {id: 0190a8a6-1111-7000-8000-000000000001, text: canonical}
        - {id: 0190A8A6-2222-7000-8000-00000000000F, text: capitals}
        """,
    )
    model = load_model(contract)
    assert model.resources["notes"].field("id").type == "uuid"
    url = _fresh_url(database_url, model)
    first = asyncio.run(seed_database(model, url, fixtures=str(fixtures)))
    again = asyncio.run(seed_database(model, url, fixtures=str(fixtures)))
    assert any("2 inserted" in line for line in first), first
    assert any("0 inserted" in line for line in again), again
    assert _count(url, "notes") == 2
