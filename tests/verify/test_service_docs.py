"""`backsmith docs`: the bookshop's README names every operation, setting and command,
is the same bytes every time, and carries the latest test and bench figures."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from conftest import BOOKSHOP, ROOT
from page_commands import run_first_sh_block

from backsmith.api import load_model
from backsmith.bench.results import BenchReport, Ceiling, OperationResult
from backsmith.cli import main
from backsmith.settings import SETTINGS
from backsmith.verify.service_docs import render_service_docs

PAGE = (ROOT / "docs" / "service-docs.md").read_text(encoding="utf-8")


def _docs(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    capsys.readouterr()
    assert main(["docs", *argv, "-o", "-"]) == 0
    return capsys.readouterr().out


def _run(name: str, operation: str, p99: float) -> dict[str, object]:
    """A bench run's results.json, as `backsmith bench` writes it."""
    result = OperationResult(
        operation_id=operation,
        method="GET",
        path="/books",
        kind="list",
        requests=1234,
        errors=0,
        allowed=0,
        statuses={},
        throughput=411.3,
        p50_ms=2.5,
        p95_ms=7.25,
        p99_ms=p99,
        max_ms=30.0,
    )
    report = BenchReport(
        contract=str(BOOKSHOP),
        settings={"database": "sqlite (scratch)", "finished_at": name},
        operations=[result],
        left_out=[],
        ceiling=Ceiling(9000.0, 0.4, 1.9, "builtin"),
        exceptions=0,
    )
    return report.as_json()


def test_the_bookshop_page_names_every_operation_setting_and_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no results here
    text = _docs(capsys, str(BOOKSHOP))
    model = load_model(BOOKSHOP)
    rows = [line for line in text.splitlines() if line.startswith("| ")]
    for op in model.operations:
        assert any(
            row.startswith(f"| {op.method} | `{op.path}` | {op.operation_id} | {op.kind} |")
            for row in rows
        ), op.operation_id
    for declared in SETTINGS:
        default = declared.default_text
        shown = default if default == "unset" else f"`{default}`"
        assert any(f"| `{declared.env}` |" in row and f"| {shown} |" in row for row in rows)
    contract = str(BOOKSHOP)
    for command in ("serve", "check", "migrate up", "migrate down", "migrate plan", "seed"):
        assert f"backsmith {command} {contract}" in text, command
    for said in ("/healthz", "/readyz", "/metrics", "BACKSMITH_REDIS_URL", "--workers"):
        assert said in text
    assert "| 0001 | initial schema |" in text  # the migrations folder's revisions
    assert f"No `test-results/test-results.json` in `.`: `backsmith test {contract}` " in text


def test_the_page_is_the_same_bytes_whatever_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = render_service_docs(load_model(BOOKSHOP), tmp_path)
    monkeypatch.setenv("BACKSMITH_PORT", "9999")
    monkeypatch.setenv("BACKSMITH_REDIS_URL", "redis://elsewhere:6379/0")
    assert render_service_docs(load_model(BOOKSHOP), tmp_path) == first
    assert "http://127.0.0.1:8000" in first and "9999" not in first


def test_the_newest_bench_run_and_the_test_summary_are_shown(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    runs = tmp_path / "bench-results"
    for name, p99 in (("20260101-090000", 99.0), ("20260102-090000", 12.5)):
        (runs / name).mkdir(parents=True)
        (runs / name / "results.json").write_text(json.dumps(_run(name, "listBooks", p99)))
    counts = {"passed": 120, "failed": 2, "not_applicable": 7}
    written = tmp_path / "test-results" / "test-results.json"  # as `backsmith test` leaves it
    written.parent.mkdir()
    written.write_text(json.dumps({"summary": counts, "operations": {}}))
    text = _docs(capsys, str(BOOKSHOP), "--results", str(tmp_path))
    assert f"Contract tests (`{written}`): 120 passed, 2 failed, 7 not applicable." in text
    assert "finished 20260102-090000) on sqlite (scratch)" in text
    row = next(line for line in text.splitlines() if line.startswith("listBooks "))
    assert row.split()[:8] == ["listBooks", "1234", "0", "411", "2.50", "7.25", "12.50", "30.00"]
    assert "99.00" not in text  # the older run is not shown
    assert "generator ceiling: 9,000 req/s on /healthz" in text


def test_a_results_file_that_cannot_be_read_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "test-results.json").write_text("{not json")
    assert main(["docs", str(BOOKSHOP), "--results", str(tmp_path), "-o", "-"]) == 2
    said = capsys.readouterr().err.splitlines()
    assert len(said) == 1
    assert said[0].startswith(f"backsmith: {tmp_path / 'test-results.json'}: cannot be read")


def test_the_docs_page_commands_run_and_show_what_docs_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    shop = tmp_path / "examples" / "bookshop"
    shutil.copytree(BOOKSHOP.parent, shop, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "test-results.json").write_text(
        json.dumps({"summary": {"passed": 120, "failed": 0, "not_applicable": 7}})
    )
    run_first_sh_block(PAGE)
    printed = capsys.readouterr().out
    written = (shop / "SERVICE.md").read_text()  # the default: beside the contract
    assert printed == written == (tmp_path / "SERVICE.md").read_text()
    row = PAGE.split("```text\n", 1)[1].split("\n```", 1)[0]
    assert row in written.splitlines()
    said = PAGE.split("gives\n  ``", 1)[1].split("``", 1)[0]
    assert said in written
