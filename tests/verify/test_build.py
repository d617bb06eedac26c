"""`backsmith build`: the bookshop is done, with a full report; a missed budget, a failing
contract test or an operation answering 501 each make it not done (exit 1), and the report
says which item failed and why.

Builds here measure briefly (`--bench-seconds 0.2`) and fuzz little (`--examples 2`): the
items are judged the same way, on fewer requests.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BOOKSHOP, PG_ADMIN_URL, ROOT

from backsmith.cli.main import main

QUICK = ["--bench-seconds", "0.2", "--examples", "2"]

NOTES = """\
openapi: 3.1.0
info: {title: Notes, version: 1.0.0}
x-backsmith: {hooks: notes_hooks}
paths:
  /notes:
    get:
      operationId: listNotes
      x-backsmith: {slo: {p95: 500ms, p99: 1000ms}}  # met under any test load
      responses:
        "200":
          description: notes
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Note"}}
        "400": {description: bad query}
    post:
      operationId: createNote
      x-backsmith: {public: true}
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: "#/components/schemas/Note"}}}
      responses:
        "201":
          description: made
          content: {application/json: {schema: {$ref: "#/components/schemas/Note"}}}
        "422": {description: invalid}
  /notes/{id}:
    parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
    get:
      operationId: getNote
      responses:
        "200":
          description: one
          content: {application/json: {schema: {$ref: "#/components/schemas/Note"}}}
        "404": {description: none}
components:
  schemas:
    Note:
      type: object
      additionalProperties: false
      required: [text]
      properties:
        id: {type: integer, readOnly: true}
        text: {type: string, minLength: 1, maxLength: 200}
"""
# The extras each failing build adds to NOTES.
IMPOSSIBLE_BUDGET = ("p95: 500ms, p99: 1000ms", "p95: 0.001ms, p99: 0.001ms")
PUBLISH = """\
  /notes/{id}/publish:
    parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
    post:
      operationId: publishNote
      x-backsmith: {public: true}
      responses:
        "200":
          description: published
          content: {application/json: {schema: {$ref: "#/components/schemas/Note"}}}
        "404": {description: none}
components:"""
# A handler that answers a property the schema forbids (additionalProperties: false).
HOOKS = """\
async def publish_note(ctx):
    note = await ctx.rows("notes").get(ctx.path["id"])
    return {**(note or {"id": 1, "text": "x"}), "published": True}
"""


def build(
    tmp_path: Path, contract: str, hooks: str = "", module: str = "notes_hooks"
) -> tuple[int, dict[str, object]]:
    """Build `contract` beside its hooks module (named apart per test: imports are kept)."""
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "api.yaml").write_text(contract.replace("notes_hooks", module))
    (folder / f"{module}.py").write_text(hooks)
    out = tmp_path / "report"
    code = main(["build", str(folder / "api.yaml"), "--out", str(out), *QUICK])
    return code, json.loads((out / "done.json").read_text())


def items(report: dict[str, object]) -> dict[str, dict[str, object]]:
    listed = report["items"]
    assert isinstance(listed, list)
    return {item["key"]: item for item in listed}


@pytest.mark.runs_alone  # the bookshop's latency budgets are judged: nothing else runs
def test_the_bookshop_is_done_and_the_report_says_so_item_by_item(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report"
    code = main(["build", str(BOOKSHOP), "--out", str(out), *QUICK])
    printed = capsys.readouterr().out
    assert code == 0, printed
    report = json.loads((out / "done.json").read_text())
    assert report["done"] is True and report["verdict"].startswith("DONE: ")
    found = items(report)
    assert list(found) == [
        "lint",
        "draft",
        "endpoints",
        "migrations",
        "validation",
        "auth",
        "rate-limits",
        "idempotency",
        "tests",
        "latency",
        "exceptions",
        "diff",
        "docs",
    ]
    assert found["endpoints"]["evidence"].startswith("33 of 33 implemented")
    assert "0 failed" in found["tests"]["evidence"]
    assert "up to 0004, down to base, up again" in found["migrations"]["evidence"]
    assert (
        found["latency"]["status"] == "pass" and "met their budget" in found["latency"]["evidence"]
    )
    for name in ("done.md", "done.html", "SERVICE.md", "test-results.json", "junit.xml"):
        assert (out / name).is_file(), name
    # docs/build.md runs this command and lists these items, in this order.
    docs = (Path(__file__).parents[2] / "docs" / "build.md").read_text()
    assert f"backsmith build {BOOKSHOP.relative_to(ROOT)} --out build-report" in docs
    documented = re.findall(r"^\| ([A-Z][^|]+?) \| [a-z(`]", docs.split("## The items")[1], re.M)
    assert documented == [item["title"] for item in found.values()]
    page = (out / "done.md").read_text()
    assert "**DONE: " in page and "| Every endpoint implemented | ✅ pass |" in page
    assert "DONE: " in printed and "report: " in printed


def test_a_missed_budget_makes_it_not_done(tmp_path: Path) -> None:
    code, report = build(tmp_path, NOTES.replace(*IMPOSSIBLE_BUDGET))
    assert code == 1 and report["done"] is False
    latency = items(report)["latency"]
    assert latency["status"] == "fail"
    assert any(detail.startswith("listNotes: p95") for detail in latency["details"])
    assert "P95/P99 within budgets" in report["verdict"]


def test_an_operation_answering_501_makes_it_not_done(tmp_path: Path) -> None:
    code, report = build(tmp_path, NOTES.replace("components:", PUBLISH, 1))
    assert code == 1
    endpoints = items(report)["endpoints"]
    assert endpoints["status"] == "fail"
    assert endpoints["evidence"].endswith("1 answering 501")
    assert endpoints["details"][0].startswith("publishNote (POST /notes/{id}/publish) answers 501")


def test_a_failing_contract_test_makes_it_not_done(tmp_path: Path) -> None:
    code, report = build(tmp_path, NOTES.replace("components:", PUBLISH, 1), HOOKS, "publishing")
    assert code == 1
    found = items(report)
    assert found["endpoints"]["status"] == "pass"  # the handler serves it...
    assert found["tests"]["status"] == "fail"  # ...with a body its schema forbids
    assert any("publishNote happy" in detail for detail in found["tests"]["details"])
    assert report["verdict"].startswith("NOT DONE: 1 of ")


def test_the_readmes_new_project_builds_done_as_written(tmp_path: Path) -> None:
    """README, "From a contract to done": `init`, then `build` in the new project, by bash
    (the build measured briefly, as everywhere here)."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## From a contract to done") :]
    block = section.split("```sh\n", 1)[1].split("```", 1)[0]
    build_line = "backsmith build docs/api-spec.md"
    script = block.replace(build_line, f"{build_line} {' '.join(QUICK)}")
    bin_dir = Path(sys.executable).parent
    done = subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=tmp_path,
        env={**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "shop" / "build-report" / "done.json").read_text())
    assert report["done"] is True, report["verdict"]
    assert "DONE: " in done.stdout


def test_a_stub_handler_answering_501_is_not_implemented(tmp_path: Path) -> None:
    """`init` writes a stub raising 501 for each operation that needs code: until it is
    written, the endpoint is not implemented, whatever names it."""
    stub = (
        "from backsmith.logic import Problem\n\n\n"
        "def publish_note(ctx):\n"
        '    raise Problem(501, "Not Implemented", "publish_note is not written yet")\n'
    )
    code, report = build(tmp_path, NOTES.replace("components:", PUBLISH, 1), stub, "stubbed")
    assert code == 1
    endpoints = items(report)["endpoints"]
    assert endpoints["status"] == "fail" and endpoints["evidence"].startswith("3 of 4 implemented")
    assert endpoints["details"] == [
        "publishNote (POST /notes/{id}/publish) answers 501: its handler is not written yet"
    ]


@pytest.mark.postgres
def test_a_build_on_postgresql_makes_its_scratch_databases_there_and_drops_them(
    tmp_path: Path, pg_url: str
) -> None:
    """`--database-url` names a server: the migrations' scratch database, the tests' and the
    benchmark's are made on it, and none is left after."""
    import asyncio

    import asyncpg

    async def databases() -> set[str]:
        connection = await asyncpg.connect(PG_ADMIN_URL)
        try:
            rows = await connection.fetch("SELECT datname FROM pg_database")
        finally:
            await connection.close()
        return {row["datname"] for row in rows if row["datname"].startswith("backsmith_b")}

    before = asyncio.run(databases())
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "api.yaml").write_text(NOTES.replace("x-backsmith: {hooks: notes_hooks}\n", ""))
    out = tmp_path / "report"
    argv = ["build", str(folder / "api.yaml"), "--out", str(out), "--database-url", PG_ADMIN_URL]
    assert main([*argv, *QUICK]) == 0
    found = items(json.loads((out / "done.json").read_text()))
    assert found["migrations"]["status"] == "pass" and found["tests"]["status"] == "pass"
    assert not (out / "scratch").exists()  # no SQLite file: the server held them
    assert asyncio.run(databases()) == before
