"""`backsmith test` as docs/contract-tests.md shows it: the bookshop finds nothing, on a
scratch SQLite file, against a running service and on PostgreSQL; the corpus runs print
the matrices the page records; bad arguments are one line and exit 2.

Every `$ backsmith test ...` block of the page is run here and must print what it shows.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path
from typing import Any

import pytest
from conftest import BOOKSHOP, PG_ADMIN_URL, ROOT, SHARED, needs_shared
from suite_servers import Served, backsmith_app

from backsmith.api import load_model
from backsmith.cli.main import main

PAGE = ROOT / "docs" / "contract-tests.md"
SERVED_AT = "http://127.0.0.1:8000"


def examples() -> list[tuple[list[str], str]]:
    """(arguments, printed output) of every `$ backsmith test` block of the page."""
    found = []
    for block in PAGE.read_text(encoding="utf-8").split("```\n$ backsmith test ")[1:]:
        line, _, rest = block.partition("\n")
        found.append((shlex.split(line), rest.split("\n```", 1)[0]))
    return found


def example(starting: str) -> tuple[list[str], str]:
    return next((args, shown) for args, shown in examples() if args[0].startswith(starting))


def run(
    args: list[str], out: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str, dict[str, Any]]:
    """`backsmith test` from the project's root: exit code, stdout, test-results.json."""
    code = main(["test", *args, "--out", str(out)])
    printed = capsys.readouterr().out.rstrip("\n")
    return code, printed, json.loads((out / "test-results.json").read_text())


def test_the_bookshop_finds_nothing_as_the_page_shows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    args, shown = next(
        (a, s)
        for a, s in examples()
        if a[0] == "examples/bookshop/api-spec.md" and "--url" not in a
    )
    code, printed, results = run(args, tmp_path / "out", capsys)
    assert code == 0, printed
    assert printed == shown
    assert results["summary"]["failed"] == 0
    assert set(results["operations"]) == {op.operation_id for op in load_model(BOOKSHOP).operations}
    assert results["target"] == "started here (scratch SQLite file)"
    # The fragment the page shows is what the file holds (its n/a checks left out there).
    page = PAGE.read_text(encoding="utf-8")
    fragment = json.loads(page.split("```json\n", 1)[1].split("\n```", 1)[0])
    assert fragment["summary"] == results["summary"]
    held = results["operations"]["getBook"]
    shown_book = fragment["operations"]["getBook"]
    assert {k: v for k, v in held.items() if k != "checks"} == {
        k: v for k, v in shown_book.items() if k != "checks"
    }
    for check, verdict in shown_book["checks"].items():
        assert held["checks"][check] == verdict, check
    # The checks that do apply to the bookshop were run, not skipped.
    checks = results["operations"]
    assert checks["wishlistBook"]["checks"]["auth"]["reason"] == "no credentials: 401"
    assert checks["cancelOrder"]["checks"]["transition"]["outcome"] == "pass"
    assert checks["updateOrder"]["checks"]["transition"]["outcome"] == "pass"
    assert checks["payOrder"]["checks"]["happy"]["outcome"] == "pass"
    assert checks["createAuthorBook"]["checks"]["not-found"]["outcome"] == "pass"


def test_the_page_run_against_a_running_service(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(ROOT)
    args, shown = next((a, s) for a, s in examples() if "--url" in a)
    junit = tmp_path / "junit.xml"
    with Served(backsmith_app(BOOKSHOP, tmp_path)) as url:
        sent = [
            url if arg == SERVED_AT else str(junit) if arg == "junit.xml" else arg for arg in args
        ]
        code, printed, results = run(sent, tmp_path / "out", capsys)
    assert code == 0, printed
    assert printed == shown
    assert results["target"] == url
    xml = junit.read_text()
    counts = results["summary"]
    total = sum(counts.values())
    assert f'tests="{total}" failures="0" skipped="{counts["not_applicable"]}"' in xml
    assert xml.count("<testcase ") == total


@needs_shared
@pytest.mark.parametrize(
    "contract",
    [args[0] for args, _ in examples() if args[0].startswith("../shared/corpus/")],
)
def test_the_corpus_matrices_the_page_records(
    contract: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if not (SHARED / "corpus").is_dir():
        pytest.skip(f"no corpus at {SHARED / 'corpus'}")
    monkeypatch.chdir(ROOT)
    args, shown = example(contract)
    args = [str(SHARED / contract.removeprefix("../shared/")), *args[1:]]
    code, printed, results = run(args, tmp_path / "out", capsys)
    assert printed == shown
    assert code == (1 if results["summary"]["failed"] else 0)


@pytest.mark.postgres
def test_the_bookshop_on_a_scratch_postgresql_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], pg_url: str
) -> None:
    authors = "listAuthors,createAuthor,getAuthor,updateAuthor,deleteAuthor,listAuthorBooks"
    args = [str(BOOKSHOP), "--database-url", PG_ADMIN_URL, "--ops", authors, "--examples", "2"]
    code, printed, results = run(args, tmp_path / "out", capsys)
    assert code == 0, printed
    assert results["summary"]["failed"] == 0 and results["summary"]["passed"] > 25
    assert results["operations"]["createAuthor"]["checks"]["flow"]["outcome"] == "pass"
    # The bench's own machinery made it and drops it (tests/bench checks the drop).
    assert results["target"].startswith("started here (scratch PostgreSQL database backsmith_")


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        (["--examples", "many"], "--examples many: must be a whole number"),
        (["--examples", "-1"], "--examples -1: must be a whole number from 0 to 1000"),
        (["--ops", "noSuchOperation"], "--ops: the contract has no operation 'noSuchOperation'"),
        (["--header", "no colon here"], "--header 'no colon here': must be 'Name: value'"),
        (["--url", "ftp://example.org"], "--url ftp://example.org: must be an http:// or https://"),
        (
            ["--database-url", "sqlite:///x.db"],
            "--database-url sqlite:///x.db: must be a postgresql",
        ),
        (["--url", "http://127.0.0.1:1"], "--url http://127.0.0.1:1: no answer (ConnectError"),
    ],
)
def test_a_bad_argument_is_one_line_and_exit_2(
    extra: list[str], said: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["test", str(BOOKSHOP), "--out", str(tmp_path / "out"), *extra])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith(f"backsmith: {said}"), err
    assert len(err.strip().splitlines()) == 1, err
