"""Latency budgets: `x-backsmith: {slo: ...}` read and checked, shown by `backsmith model`,
each budgeted operation's recent durations kept, and `/readyz` warning past a budget."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import client_for, served, start_app, stop_app
from test_readiness import NOTES, PAGE, notes, notes_model, only, ready

from backsmith.api import load_model
from backsmith.cli import main
from backsmith.http.budgets import MIN_SAMPLES, Recent, budgets, over_budget, percentile
from backsmith.model.policies import Slo, policy_issue
from backsmith.settings import load_settings
from backsmith.verify.describe import describe

pytestmark = pytest.mark.anyio


async def test_an_operation_over_its_budget_is_a_warning(tmp_path: Path, database_url: str) -> None:
    model = notes_model(tmp_path, listing="{slo: {p99: 0.001ms}}")
    app = await start_app(model, database_url)
    try:
        async with client_for(app) as api:
            for _ in range(MIN_SAMPLES - 1):
                assert (await api.get("/notes")).status_code == 200
            too_few, _ = await ready(api)
            for _ in range(30 - MIN_SAMPLES + 1):
                await api.get("/notes")
            for number in range(5):  # no budget: nothing kept
                await api.post("/notes", json={"text": f"note {number}"})
            answer, _ = await ready(api)
    finally:
        await stop_app(app)
    assert too_few.json()["status"] == "pass"  # 19 requests say nothing of a p99
    assert app.plans["createNote"].budget is None
    assert answer.status_code == 200 and answer.json()["status"] == "warn"
    assert list(answer.json()["checks"]) == ["database", "latency:listNotes"]
    latency = only(answer, "latency:listNotes")
    assert latency == {
        "componentType": "component",
        "status": "warn",
        "observedValue": latency["observedValue"],
        "observedUnit": "ms",
        "output": "p99 over its 0.001 ms budget",
    }
    assert latency["observedValue"] > 0.001


async def test_an_operation_within_its_budget_is_not_reported(tmp_path: Path) -> None:
    model = notes_model(tmp_path, listing="{slo: {p95: 10s, p99: 20s}}")
    async with served(model, f"sqlite:///{tmp_path / 'notes.db'}") as api:
        for _ in range(30):
            await api.get("/notes")
        answer, _ = await ready(api)
    assert answer.json()["status"] == "pass"
    assert list(answer.json()["checks"]) == ["database"]


def test_without_a_budget_nothing_is_timed(tmp_path: Path) -> None:
    async def inner(scope: Any, receive: Any, send: Any) -> None: ...

    settings = load_settings({}, environ={})
    assert budgets(inner, notes_model(tmp_path), settings) is inner
    budgeted = notes_model(tmp_path, listing="{slo: {p99: 200ms}}")
    assert budgets(inner, budgeted, settings) is not inner


def test_a_window_keeps_the_last_requests_of_the_last_minute() -> None:
    recent = Recent(Slo(p95_ms=5.0, p99_ms=50.0), size=25)
    for number in range(30):  # the first five are pushed out
        recent.record(float(number), ended=1000.0 + number)
    assert recent.since(0) == [float(n) for n in range(5, 30)]
    assert recent.since(1020.0) == [float(n) for n in range(20, 30)]
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.0
    assert percentile([float(n) for n in range(1, 21)], 0.99) == 20.0  # of 20: the slowest
    # Of the 25 kept (5 to 29 ms), the p99 is the 25th, 29 ms, within 50; the p95 the
    # 24th, 28 ms, over 5.
    assert over_budget(recent, now=1030.0) == ("p95", 28.0, 5.0)
    assert over_budget(recent, now=1095.0) is None  # a minute later: too few left


# ------------------------------------------------------------------ contract
@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{p99: fast}", "'slo' p99 must be a duration such as 50ms or 1s"),
        ("{p99: 200ms, rps: -5}", "'slo' rps must be a positive number, such as 500"),
        ("{rps: 500}", "'slo' declares no budget: give p95, p99 or both"),
        ("{p90: 10ms}", "'slo' has no percentile 'p90' (p95, p99; or rps)"),
    ],
)
def test_a_bad_slo_is_a_contract_error_at_its_pointer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: str, message: str
) -> None:
    path = notes(tmp_path, listing=f"{{slo: {value}}}")
    code = main(["check", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    line = NOTES[: NOTES.index("{LIST}")].count("\n") + 1
    assert f"{path}:{line}: error at #/paths/~1notes/get/x-backsmith/slo: " in err
    assert message in err


def test_backsmith_model_shows_each_operations_budget(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = notes(
        tmp_path, root="{slo: {p95: 50ms, p99: 200ms, rps: 500}}", listing="{slo: {p99: 1s}}"
    )
    assert main(["model", str(path)]) == 0
    table = capsys.readouterr().out
    create = next(line for line in table.splitlines() if line.startswith("createNote"))
    listing = next(line for line in table.splitlines() if line.startswith("listNotes"))
    assert "slo p95 50ms, p99 200ms, 500 rps" in create
    assert "slo p99 1000ms" in listing  # its own: the nearest wins
    operations = {op["operation_id"]: op for op in describe(load_model(path))["operations"]}
    assert operations["createNote"]["slo"] == {"p95_ms": 50.0, "p99_ms": 200.0, "rps": 500.0}
    assert operations["listNotes"]["slo"] == {"p99_ms": 1000.0}


def test_the_documented_budget_reads_as_the_docs_say(tmp_path: Path) -> None:
    section = PAGE.split("## Latency budgets", 1)[1]
    example = yaml.safe_load(section.split("```yaml\n", 1)[1].split("```", 1)[0])
    slo = example["x-backsmith"]["slo"]
    assert policy_issue("slo", slo) is None
    shown = re.search(r"among its notes \(`([^`]+)`", section.replace("\n", " "))
    as_json = re.search(r'as `"slo": (\{[^`]+\})`', section.replace("\n", " "))
    assert shown is not None and as_json is not None
    path = notes(tmp_path, root=json.dumps({"slo": slo}))
    (listing, _) = load_model(path).operations
    assert listing.policies.slo is not None
    assert f"slo {listing.policies.slo.describe()}" == shown.group(1)
    operations = describe(load_model(path))["operations"]
    assert operations[0]["slo"] == json.loads(as_json.group(1))
