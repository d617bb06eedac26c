"""The command line, called in-process: `check`, `model` and `serve`'s start-up checks.

Exit codes are part of the interface: 0 success, 1 the service could not start, 2 the
contract is unusable. Contract errors go to stderr as `file:line: error at #/pointer: ...`.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_runs import BOOKS_API, BOOKS_DBML, run
from conftest import BOOKSHOP, CORPUS, needs_shared
from conftest import write_file as write
from loopback_ports import free_port

from backsmith import __version__
from backsmith.cli import main

PETSTORE = CORPUS / "openapi" / "petstore3.yaml"


def rows(table: str) -> dict[str, list[str]]:
    """`model` table rows by operation id: method, path, kind, resource, table, notes."""
    lines = table.splitlines()
    assert lines[1].split() == ["OPERATION", "METHOD", "PATH", "KIND", "RESOURCE", "TABLE", "NOTES"]
    result = {}
    for line in lines[2:]:
        cells = line.split(maxsplit=6)
        result[cells[0]] = cells[1:] + [""] * (7 - len(cells))
    return result


# ---------------------------------------------------------------------------- basics


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out == f"backsmith {__version__}\n"


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main([])
    assert caught.value.code == 2
    assert "COMMAND" in capsys.readouterr().err


# ----------------------------------------------------------------------------- check


def test_check_bookshop(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "check", BOOKSHOP)
    assert code == 0, err
    summary, *handlers = out.splitlines()
    assert summary.startswith(
        f"{BOOKSHOP}: OpenAPI 3.1, 33 operations (31 CRUD, 2 by handlers, 0 need a handler)"
    )
    assert "8 resources, 0 warnings" in summary
    assert handlers == []  # cancelOrder is a transition the contract declares
    # What serve warns about, said before it does: the bookshop as shipped is open to writes.
    lines = [line for line in err.splitlines() if ": not for production at #/" in line]
    assert f", {len(lines)} not for production; lint: 0 errors, " in summary
    assert all("; fix: " in line for line in lines)
    # The lint's findings follow, each with its rule id; the contract turns two rules off.
    lint = err.splitlines()[len(lines) :]
    assert lint and all(re.match(r"^\S+:\d+: warning \[[a-z0-9-]+\] at #/", line) for line in lint)
    assert summary.endswith(f"lint: 0 errors, {len(lint)} warnings, 51 turned off")


def test_check_broken_contract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(
        tmp_path,
        "api.yaml",
        """\
        openapi: 3.0.3
        info: {title: T, version: "1"}
        paths:
          /a:
            get:
              responses:
                "200":
                  content: {}
        """,
    )
    code, out, err = run(capsys, "check", path)
    assert code == 2
    assert out == ""
    assert f"{path}:8: error at #/paths/~1a/get/responses/200: invalid OpenAPI" in err
    assert "Traceback" not in err


def test_check_invalid_yaml(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "api.yaml", "openapi: 3.1.0\ninfo: {title: T\npaths: {}\n")
    code, _, err = run(capsys, "check", path)
    assert code == 2
    assert err.startswith(f"{path}:3: error: not valid YAML/JSON")


def test_check_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "check", tmp_path / "absent.yaml")
    assert code == 2
    assert f"{tmp_path / 'absent.yaml'}: error: contract file not found" in err


@pytest.mark.parametrize("paths", ["[1, 2]", '"text"'])
def test_check_paths_not_an_object_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], paths: str
) -> None:
    text = f'openapi: 3.1.0\ninfo: {{title: T, version: "1"}}\npaths: {paths}\n'
    path = write(tmp_path, "api.yaml", text)
    code, _, err = run(capsys, "check", path)
    assert code == 2
    assert f"{path}:3: error at #/paths" in err


@needs_shared
def test_check_swagger_2_corpus_file(capsys: pytest.CaptureFixture[str]) -> None:
    path = CORPUS / "openapi" / "apis-guru" / "adafruit.com__default.yaml"
    code, out, err = run(capsys, "check", path)
    assert code == 0, err
    assert out.startswith(f"{path}: OpenAPI 3.0 (converted from Swagger 2.0), 71 operations")


# ----------------------------------------------------------------------------- model


@needs_shared
def test_model_table_for_petstore(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "model", PETSTORE)
    assert code == 0, err
    assert out.splitlines()[0] == (
        "Swagger Petstore - OpenAPI 3.0 1.0.27-SNAPSHOT: 19 operations, 6 need a handler, "
        "served under /api/v3 (servers[0]: https://petstore3.swagger.io/api/v3)"
    )
    table = rows(out)
    assert len(table) == 19
    # A filter it cannot serve (tags is JSON) is refused alone; the list is served.
    assert table["findPetsByTags"][:3] == ["GET", "/pet/findByTags", "list"]
    assert "refuses tags (400)" in table["findPetsByTags"][5]
    assert table["addPet"][:5] == ["POST", "/pet", "create", "pets", "pets"]
    assert table["getPetById"][:5] == ["GET", "/pet/{petId}", "read", "pets", "pets"]
    assert table["getPetById"][5] == (
        "key petId->id; access: api_key or petstore_auth[write:pets read:pets]"
    )
    assert table["findPetsByStatus"][:5] == ["GET", "/pet/findByStatus", "list", "pets", "pets"]
    assert "filters status" in table["findPetsByStatus"][5]
    assert table["updatePet"][:5] == ["PUT", "/pet", "replace", "pets", "pets"]
    assert table["updatePet"][5].startswith("key from body 'id'; access: petstore_auth")
    assert table["loginUser"][:3] == ["GET", "/user/login", "custom"]
    assert table["loginUser"][5].startswith("needs a handler: ")
    assert table["placeOrder"][2:5] == ["create", "orders", "orders"]


@needs_shared
def test_model_json_for_petstore(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "model", "--json", PETSTORE)
    assert code == 0
    data: dict[str, Any] = json.loads(out)
    assert data["openapi"] == "3.0"
    assert set(data["resources"]) == {"pets", "orders", "users"}
    pets = data["resources"]["pets"]
    assert (pets["table"], pets["schema"], pets["source"]) == ("pets", "Pet", "schema")
    assert pets["primary_key"] == ["id"]
    status = next(f for f in pets["fields"] if f["name"] == "status")
    assert status["enum"] == ["available", "pending", "sold"]
    operations = {op["operation_id"]: op for op in data["operations"]}
    assert len(operations) == 19
    assert operations["addPet"]["kind"] == "create"
    assert operations["addPet"]["table"] == "pets"
    assert operations["loginUser"]["kind"] == "custom"
    assert operations["loginUser"]["resource"] is None
    assert "reason" in operations["loginUser"] and "reason" not in operations["addPet"]


# ----------------------------------------------------------------------- x-backsmith

TYPO_API = """\
openapi: 3.1.0
info: {title: T, version: "1"}
x-backsmith:
  page-sise: 10
paths: {}
"""


def test_unknown_extension_key_suggests_the_right_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "api.yaml", TYPO_API)
    code, out, err = run(capsys, "check", path)
    assert code == 2
    assert out == ""
    assert "at #/x-backsmith/page-sise: unknown x-backsmith key 'page-sise'" in err
    assert "did you mean 'page-size'?" in err


def test_extension_issue_points_at_the_line_of_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "api.yaml", TYPO_API)
    code, _, err = run(capsys, "check", path)
    assert code == 2
    assert err.startswith(f"{path}:4: error at #/x-backsmith/page-sise: ")


def test_a_bad_latency_budget_points_at_its_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = BOOKS_API.replace(
        "      operationId: listBooks\n",
        "      operationId: listBooks\n      x-backsmith:\n        slo: {p95: soon}\n",
    )
    path = write(tmp_path, "api.yaml", api)
    code, _, err = run(capsys, "check", path)
    assert code == 2
    assert "at #/paths/~1books/get/x-backsmith/slo: " in err
    assert "'slo' p95 must be a duration such as 50ms or 1s" in err
    assert "not supported by this version" not in err  # served now (tests/http/test_readiness.py)


def test_unknown_kind_suggests_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    api = BOOKS_API.replace(
        "      operationId: createBook\n",
        "      operationId: createBook\n      x-backsmith: {kind: creat}\n",
    )
    code, _, err = run(capsys, "check", write(tmp_path, "api.yaml", api))
    assert code == 2
    assert "unknown kind 'creat'; did you mean 'create'?" in err


# ------------------------------------------------------------------------------ DBML


def test_dbml_option_for_a_yaml_contract(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = write(tmp_path, "api.yaml", BOOKS_API)
    dbml = write(tmp_path, "model/schema.dbml", BOOKS_DBML)
    code, out, err = run(capsys, "model", "--json", api, "--dbml", dbml)
    assert code == 0, err
    books = json.loads(out)["resources"]["books"]
    assert books["source"] == "dbml"
    assert [f["column"] for f in books["fields"]] == ["id", "title", "subtitle", "genre", "shelf"]
    genre = next(f for f in books["fields"] if f["name"] == "genre")
    assert (genre["type"], genre["enum"]) == ("enum", ["fantasy", "poetry"])


def test_without_dbml_the_schema_is_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "model", "--json", write(tmp_path, "api.yaml", BOOKS_API))
    assert code == 0
    books = json.loads(out)["resources"]["books"]
    assert books["source"] == "schema"
    assert "shelf" not in [f["column"] for f in books["fields"]]


def test_root_extension_names_the_dbml_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = BOOKS_API.replace(
        'info: {title: Shop, version: "1"}\n',
        'info: {title: Shop, version: "1"}\nx-backsmith: {dbml: db/schema.dbml}\n',
    )
    path = write(tmp_path, "api.yaml", api)
    write(tmp_path, "db/schema.dbml", BOOKS_DBML)
    code, out, err = run(capsys, "model", "--json", path)
    assert code == 0, err
    books = json.loads(out)["resources"]["books"]
    assert books["source"] == "dbml"
    assert "shelf" in [f["column"] for f in books["fields"]]


def test_missing_dbml_file_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    api = write(tmp_path, "api.yaml", BOOKS_API)
    code, _, err = run(capsys, "check", api, "--dbml", tmp_path / "nope.dbml")
    assert code == 2
    assert f"{tmp_path / 'nope.dbml'}: error: DBML file not found" in err


def test_dbml_syntax_error_names_the_dbml_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = write(tmp_path, "api.yaml", BOOKS_API)
    dbml = write(tmp_path, "schema.dbml", BOOKS_DBML.replace("[not null]", "[not null,]]"))
    code, _, err = run(capsys, "check", api, "--dbml", dbml)
    assert code == 2
    assert err.startswith(f"{dbml}:8: error: DBML syntax error")
    assert "Traceback" not in err


def test_dbml_and_openapi_disagreements_are_warnings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    api = BOOKS_API.replace(
        "        genre: {type: string, enum: [fantasy, poetry]}\n",
        "        genre: {type: string, enum: [fantasy, poetry, horror]}\n"
        "        blurb: {type: string}\n",
    )
    path = write(tmp_path, "api.yaml", api)
    dbml = write(
        tmp_path,
        "schema.dbml",
        BOOKS_DBML.replace("  subtitle text\n", "  subtitle text [not null]\n"),
    )
    code, out, err = run(capsys, "check", path, "--dbml", dbml)
    assert code == 1  # lint: its writes ask for no credentials (an error)
    assert "1 resource, 3 warnings" in out
    # The open write serve warns about is said too, as not for production.
    warnings = [line for line in err.splitlines() if ": warning at " in line]
    assert len(warnings) == 3, err
    lines = path.read_text().splitlines()
    blurb = lines.index("        blurb: {type: string}") + 1
    subtitle = lines.index('        subtitle: {type: [string, "null"]}') + 1
    genre = lines.index("        genre: {type: string, enum: [fantasy, poetry, horror]}") + 1
    assert (
        f"{path}:{blurb}: warning at #/components/schemas/Book/properties/blurb: "
        "Book.blurb has no column in DBML table books"
    ) in warnings
    assert (
        f"{path}:{subtitle}: warning at #/components/schemas/Book/properties/subtitle: "
        "Book.subtitle is nullable but column books.subtitle is NOT NULL"
    ) in warnings
    assert (
        f"{path}:{genre}: warning at #/components/schemas/Book/properties/genre: "
        "Book.genre enum ['fantasy', 'horror', 'poetry'] differs from DBML ['fantasy', 'poetry']"
    ) in warnings


def test_required_property_over_a_nullable_column_is_a_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "api.yaml", BOOKS_API)
    dbml = write(tmp_path, "schema.dbml", BOOKS_DBML.replace("[not null]", ""))
    code, out, err = run(capsys, "check", path, "--dbml", dbml)
    assert code == 1  # lint: its writes ask for no credentials (an error)
    assert "1 warning" in out
    assert "Book.title is required and not nullable but column books.title allows NULL" in err


def test_matching_dbml_has_no_warnings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, "api.yaml", BOOKS_API)
    dbml = write(tmp_path, "schema.dbml", BOOKS_DBML)
    code, out, err = run(capsys, "check", path, "--dbml", dbml)
    assert code == 1  # lint: its writes ask for no credentials (an error)
    assert "0 warnings" in out
    assert not [line for line in err.splitlines() if ": warning at " in line], err


# ----------------------------------------------------------------------------- serve

GADGETS_API = """\
openapi: 3.1.0
info: {title: Gadgets, version: "1"}
paths:
  /cli-preflight-gadgets:
    get:
      operationId: listGadgets
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: array
                items: {$ref: "#/components/schemas/CliPreflightGadget"}
components:
  schemas:
    CliPreflightGadget:
      type: object
      properties:
        id: {type: integer, readOnly: true}
        name: {type: string}
"""


async def _table_exists(url: str, table: str) -> bool:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        return await connection.fetchval("SELECT to_regclass($1) IS NOT NULL", table)
    finally:
        await connection.close()


@pytest.mark.postgres
def test_serve_refuses_a_database_without_the_tables(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    pg_url: str,
) -> None:
    import uvicorn

    started: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: started.append((args, kwargs)))
    monkeypatch.setattr(os, "environ", dict(os.environ))  # serve exports settings on success
    os.environ.pop("BACKSMITH_CREATE_TABLES", None)
    os.environ.pop("BACKSMITH_DATABASE_URL", None)
    path = write(tmp_path, "api.yaml", GADGETS_API)

    code, out, err = run(capsys, "serve", path, "--database-url", pg_url)

    assert code == 1
    assert started == []  # main() returned before starting a server
    assert "cli_preflight_gadgets" in err
    assert "--create-tables" in err
    assert "Traceback" not in err and out == ""
    assert not asyncio.run(_table_exists(pg_url, "cli_preflight_gadgets"))


def test_serve_with_a_broken_contract_is_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    started: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: started.append((args, kwargs)))
    path = write(tmp_path, "api.yaml", 'openapi: 4.0.0\ninfo: {title: T, version: "1"}\n')
    code, _, err = run(capsys, "serve", path, "--database-url", f"sqlite:///{tmp_path / 'x.db'}")
    assert code == 2
    assert started == []
    assert "expected OpenAPI 3.0.x, 3.1.x or 3.2.x" in err
    assert not (tmp_path / "x.db").exists()


def test_serve_on_an_unopenable_sqlite_file_is_exit_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    started: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: started.append((args, kwargs)))
    path = write(tmp_path, "api.yaml", GADGETS_API)
    url = f"sqlite:///{tmp_path / 'no-such-folder' / 'x.db'}"
    code, out, err = run(capsys, "serve", path, "--database-url", url)
    assert code == 1 and started == []
    assert "cannot reach the database" in err
    assert "Traceback" not in err and out == ""


_SERVE_IMPORTS = """
import sys
import uvicorn
from backsmith.cli import main

def started(target, **options):
    # What serving SQLite has imported once the app is built and its tables are made.
    print(" ".join(m for m in ("sqlalchemy.ext.asyncio", "sqlalchemy.orm", "aiosqlite")
                   if m in sys.modules) or "none")

uvicorn.run = started
sys.exit(main(sys.argv[1:]))
"""


def test_serving_sqlite_leaves_the_asyncio_extension_unimported(tmp_path: Path) -> None:
    # The extension and the ORM it imports are a sixth of a start; SQLite needs neither.
    path = write(tmp_path, "api.yaml", GADGETS_API)
    url = f"sqlite:///{tmp_path / 'x.db'}"
    done = subprocess.run(
        [sys.executable, "-c", _SERVE_IMPORTS, "serve", str(path), "--database-url", url],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "BACKSMITH_CACHE_DIR": "", "BACKSMITH_PORT": str(free_port())},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["none"]
    assert (
        sqlite3.connect(tmp_path / "x.db")
        .execute("SELECT name FROM sqlite_master WHERE name = 'cli_preflight_gadgets'")
        .fetchone()
    )
