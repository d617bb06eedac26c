"""`backsmith bench` against real servers: the bookshop on SQLite and PostgreSQL, a budget no
service can meet, and a handler whose 50 ms the figures must show.

Each run starts `backsmith serve` on a scratch database and loads it for a fraction of a
second per operation: enough to check what is measured and reported, not to judge speed.
"""

from __future__ import annotations

import asyncio
import json
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from conftest import BOOKSHOP, FIXTURES, PG_ADMIN_URL, ROOT

from backsmith.api import load_model
from backsmith.cli.main import main

DOCS = ROOT / "docs" / "bench.md"
SLOW = FIXTURES / "bench" / "slow.yaml"
PNG = b"\x89PNG\r\n\x1a\n"


def bench(*argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKSMITH_")}
    env["BACKSMITH_CACHE_DIR"] = ""
    return subprocess.run(
        [sys.executable, "-m", "backsmith", "bench", *argv],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=cwd,
        env=env,
    )


def docs_example() -> list[str]:
    """The arguments of the bookshop run docs/bench.md shows (`$ backsmith bench ...`)."""
    for line in DOCS.read_text().splitlines():
        if line.startswith("$ backsmith bench examples/bookshop/api-spec.md --"):
            return shlex.split(line.removeprefix("$ backsmith bench "))
    raise AssertionError("docs/bench.md shows no short bookshop run")


def files_of(out: Path) -> dict[str, Any]:
    """results.json, parsed, once latency.png and report.html are checked to be there."""
    chart = (out / "latency.png").read_bytes()
    assert chart.startswith(PNG) and len(chart) > 20_000, len(chart)
    page = (out / "report.html").read_text()
    assert "data:image/png;base64," in page
    results: dict[str, Any] = json.loads((out / "results.json").read_text())
    for row in results["operations"]:
        assert row["operation_id"] in page
    return results


def check_bookshop(done: subprocess.CompletedProcess[str], out: Path) -> dict[str, Any]:
    assert done.returncode == 0, done.stdout + done.stderr
    results = files_of(out)
    measured = {row["operation_id"]: row for row in results["operations"]}
    left_out = {item["operation_id"]: item["reason"] for item in results["left_out"]}
    everything = {op.operation_id for op in load_model(BOOKSHOP).operations}
    assert set(measured) | set(left_out) == everything
    assert set(left_out) == {op for op in everything if op.startswith(("delete", "unwishlist"))}
    assert all("--include-deletes" in reason for reason in left_out.values())
    for name, row in measured.items():
        assert row["requests"] > 0, name
        assert row["errors"] == 0, (name, row["statuses"], row["first_failure"])
        assert 0 < row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"] <= row["max_ms"], row
        budgeted = name in ("listBooks", "getBook")  # the bookshop declares these two
        assert row["verdict"] in (("met", "missed") if budgeted else ("no budget",)), row
    for name in ("cancelOrder", "payOrder"):  # a second cancel of an order is a 409
        assert set(measured[name]["statuses"]) <= {"404", "409", "422"}, measured[name]
    assert results["generator_ceiling"]["throughput"] > 0
    assert results["unhandled_exceptions"] == {"checked": True, "count": 0, "first": ""}
    assert results["exit_code"] == 0
    header = next(line for line in done.stdout.splitlines() if line.startswith("OPERATION"))
    columns = "OPERATION REQUESTS ERRORS REQ/S P50 P95 P99 MAX BUDGET RESULT"
    assert " ".join(header.split()) == columns
    assert "generator ceiling: " in done.stdout
    assert "unhandled exceptions in the log: 0" in done.stdout
    return results


# The bookshop's budgets are met only on a machine running nothing else: these wait their
# turn under pytest-xdist (tests/taking_turns.py).
@pytest.mark.runs_alone
def test_the_docs_example_on_sqlite(tmp_path: Path) -> None:
    out = tmp_path / "out"
    done = bench(*docs_example(), "--out", str(out))
    results = check_bookshop(done, out)
    assert results["settings"]["database"] == "sqlite (scratch)"
    assert "server.log" in os.listdir(out)  # kept for a reader; the database is gone


@pytest.mark.runs_alone
@pytest.mark.postgres
def test_the_bookshop_on_a_scratch_postgresql_database(tmp_path: Path, pg_url: str) -> None:
    out = tmp_path / "out"
    args = ["--database-url", PG_ADMIN_URL, "--duration", "0.2", "--warmup", "0.05"]
    done = bench(str(BOOKSHOP), *args, "--rows", "30", "--out", str(out))
    results = check_bookshop(done, out)
    scratch = results["settings"]["database"]
    assert scratch.startswith("postgresql (scratch backsmith_bench_"), scratch
    name = scratch.removeprefix("postgresql (scratch ").removesuffix(", dropped)")
    assert not asyncio.run(_database_exists(name)), f"{name} was not dropped"


async def _database_exists(name: str) -> bool:
    import asyncpg

    connection = await asyncpg.connect(PG_ADMIN_URL)
    try:
        found = await connection.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
    finally:
        await connection.close()
    return found is not None


def test_a_budget_no_service_can_meet_is_missed(tmp_path: Path) -> None:
    text = BOOKSHOP.read_text()
    declared = "      operationId: getAuthor\n"
    assert declared in text
    contract = tmp_path / "api-spec.md"
    budget = "      x-backsmith: {slo: {p99: 0.001ms}}\n"
    contract.write_text(text.replace(declared, declared + budget))
    shutil.copy(BOOKSHOP.parent / "shop.py", tmp_path / "shop.py")  # payOrder's handler
    out = tmp_path / "out"
    args = ["--ops", "getAuthor", "--duration", "1", "--warmup", "0.2", "--rows", "20"]
    done = bench(str(contract), *args, "--out", str(out), cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    results = files_of(out)
    rows = {row["operation_id"]: row for row in results["operations"]}
    assert rows["getAuthor"]["verdict"] == "missed"
    assert rows["getAuthor"]["budget"] == {"p99_ms": 0.001}
    assert rows["getAuthor"]["missed"][0].startswith("p99 ")
    assert results["budgets"] == {"met": 0, "missed": 1}
    # wrk measures whole-second runs when it is installed; the built-in generator otherwise
    assert results["settings"]["generator"] == ("wrk" if shutil.which("wrk") else "builtin")
    assert "MISSED p99" in done.stdout


# On SQLite a handler holds the write lock while it runs, so concurrent calls of a 50 ms
# handler queue for it: one connection (or a rate it keeps up with) measures the handler.
@pytest.mark.parametrize(
    "load",
    [["--generator", "builtin", "--connections", "1"], ["--rate", "15", "--connections", "2"]],
    ids=["fixed-concurrency", "open-loop"],
)
@pytest.mark.runs_alone
def test_a_handler_that_sleeps_50_ms_shows_it(tmp_path: Path, load: list[str]) -> None:
    out = tmp_path / "out"
    args = ["--ops", "slowReport", "--duration", "1", "--warmup", "0.2"]
    done = bench(str(SLOW), *load, *args, "--out", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    (row,) = files_of(out)["operations"]
    assert row["operation_id"] == "slowReport" and row["errors"] == 0
    assert row["requests"] >= 10, row
    # a benchmark's check: the median of many answers, with room for a busy machine
    assert 45 <= row["p50_ms"] <= 80, row


def test_an_unhandled_exception_in_the_log_is_reported_and_exits_1(tmp_path: Path) -> None:
    out = tmp_path / "out"
    args = ["--ops", "brokenReport", "--duration", "0.2", "--warmup", "0", "--connections", "2"]
    done = bench(str(SLOW), *args, "--out", str(out))
    assert done.returncode == 1, done.stdout + done.stderr
    results = files_of(out)
    found = results["unhandled_exceptions"]
    assert found["checked"] and found["count"] > 0
    assert found["first"] == "RuntimeError: the report generator is broken"
    expected = f"unhandled exceptions in the log: {found['count']} (first: RuntimeError: "
    assert expected in done.stdout
    (row,) = results["operations"]
    assert row["errors"] == row["statuses"]["500"] > 0  # no kind allows a 500
    assert results["budgets"] == {"met": 0, "missed": 0}


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["--mix", "read=x"], "backsmith: --mix read=x: the weight of read must be a whole number"),
        (["--mix", "reads=5"], "backsmith: --mix reads=5: 'reads=5' is not KIND=WEIGHT"),
        (["--ops", "getAuthor,nope"], "backsmith: --ops: the contract has no operation 'nope'"),
        (["--duration", "0"], "backsmith: --duration 0: must be above 0 s"),
        (["--connections", "many"], "backsmith: --connections many: must be a whole number"),
    ],
)
def test_bad_arguments_are_one_line_and_exit_2(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code = main(["bench", str(BOOKSHOP), *argv, "--out", str(tmp_path / "out")])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.err.startswith(said), captured.err
    assert captured.err.count("\n") == 1 and captured.out == ""
    assert not (tmp_path / "out").exists()  # refused before anything started
