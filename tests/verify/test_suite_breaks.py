"""`backsmith test --url` against services broken on purpose: each break is found, by the
check that should find it, and the rest of the run stays clean.

The help desk (tests/fixtures/suite/desk.yaml) is served by backsmith in a thread, whole
(nothing is found) or wrapped in a small ASGI layer that breaks one thing: ownership, the
answer's shape, a server error on a bad body. A hand-written notes service that validates
nothing stands for a backend backsmith did not write.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from suite_servers import (
    DESK,
    NOTES,
    SECRET,
    App,
    Served,
    answers_a_forbidden_field,
    crashes_on_a_bad_body,
    desk_app,
    everyone_is_admin,
    keyed_notes,
    notes_app,
)

from backsmith.cli.main import main


def run(
    contract: Path, url: str, out: Path, *extra: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, dict[str, Any], str]:
    """`backsmith test` against `url`: the exit code, test-results.json and stdout."""
    args = [str(contract), "--url", url, "--out", str(out), "--examples", "2", *extra]
    code = main(["test", *args])
    printed = capsys.readouterr().out
    return code, json.loads((out / "test-results.json").read_text()), printed


def run_desk(
    app: App, folder: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, dict[str, Any], str]:
    """`backsmith test` of the help desk against `app`, with tokens signed as it signs them."""
    with Served(app) as url:
        return run(DESK, url, folder / "out", "--jwt-secret", SECRET, *extra, capsys=capsys)


def failures(results: dict[str, Any]) -> dict[tuple[str, str], str]:
    """(operation, check) -> reason of every failed check."""
    return {
        (name, check): verdict["reason"]
        for name, operation in results["operations"].items()
        for check, verdict in operation["checks"].items()
        if verdict["outcome"] == "fail"
    }


def test_the_desk_served_whole_passes_every_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, results, printed = run_desk(desk_app(tmp_path), tmp_path, capsys)
    assert code == 0, printed
    assert results["summary"]["failed"] == 0
    checks = {name: op["checks"] for name, op in results["operations"].items()}
    # Every policy the contract declares was exercised, and held.
    assert checks["deleteTicket"]["auth"]["reason"] == (
        "no credentials: 401; wrong role: 403; another owner's row: 404"
    )
    assert checks["getTicket"]["auth"]["outcome"] == "pass"
    assert checks["listTickets"]["auth"]["reason"].endswith("another owner's rows: not listed")
    assert checks["createTicket"]["idempotency"]["outcome"] == "pass"
    assert checks["closeTicket"]["rate-limit"]["reason"].startswith("429 after ")
    assert checks["closeTicket"]["transition"]["outcome"] == "pass"
    assert checks["updateTicket"]["transition"]["outcome"] == "pass"
    assert checks["updateTicket"]["conditional"]["outcome"] == "pass"
    assert checks["getTicket"]["conditional"]["outcome"] == "pass"
    assert printed.rstrip().endswith(
        f"{results['summary']['passed']} passed, 0 failed, "
        f"{results['summary']['not_applicable']} not applicable"
    )


def test_a_service_that_ignores_ownership_is_caught(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = everyone_is_admin(desk_app(tmp_path))
    ops = "getTicket,updateTicket,listTickets"
    code, results, printed = run_desk(broken, tmp_path, capsys, "--ops", ops)
    assert code == 1
    found = failures(results)
    assert found[("getTicket", "auth")] == "another owner's row answered 200, expected 404 or 403"
    assert found[("updateTicket", "auth")].startswith("another owner's row answered 200")
    assert found[("listTickets", "auth")] == "another owner's row is listed"
    assert "getTicket auth: another owner's row answered 200" in printed
    assert {check for _, check in found} == {"auth"}


def test_a_field_the_schema_forbids_is_caught(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = answers_a_forbidden_field(desk_app(tmp_path))
    code, results, _ = run_desk(broken, tmp_path, capsys, "--ops", "getTicket")
    assert code == 1
    found = failures(results)
    assert "internal_flag" in found[("getTicket", "happy")], found
    assert "internal_flag" in found[("getTicket", "fuzz")], found
    happy = results["operations"]["getTicket"]["checks"]["happy"]
    assert happy["request"].startswith("GET /tickets/") and happy["status"] == 200


def test_a_server_error_on_a_bad_body_is_caught(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = crashes_on_a_bad_body(desk_app(tmp_path))
    junit = tmp_path / "junit.xml"
    code, results, _ = run_desk(
        broken, tmp_path, capsys, "--ops", "createTicket", "--junit", str(junit)
    )
    assert code == 1
    found = failures(results)
    assert found[("createTicket", "validation")].startswith(
        "without required title: answered 500 (a server error), expected 400 or 422"
    )
    assert found[("createTicket", "fuzz")].startswith("schemathesis: Server error")
    assert results["operations"]["createTicket"]["checks"]["happy"]["outcome"] == "pass"
    xml = junit.read_text()
    assert '<testcase classname="createTicket" name="validation">' in xml
    assert '<failure message="without required title: answered 500' in xml


def test_a_hand_written_service_that_skips_validation_is_caught(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Served(notes_app()) as url:
        code, results, _ = run(NOTES, url, tmp_path / "out", capsys=capsys)
    assert code == 1
    found = failures(results)
    assert found[("createNote", "validation")].startswith(
        "without required text: answered 201, expected 400 or 422"
    )
    assert found[("updateNote", "validation")].startswith(
        "text as 12345 (wrong type): answered 200"
    )
    assert ("createNote", "fuzz") in found
    checks = {name: op["checks"] for name, op in results["operations"].items()}
    for name in ("listNotes", "createNote", "getNote", "updateNote", "deleteNote"):
        assert checks[name]["happy"]["outcome"] == "pass", checks[name]
    assert checks["getNote"]["not-found"]["outcome"] == "pass"
    assert checks["getNote"]["conditional"]["reason"] == "the read answered 200 without an ETag"
    # What it took without a word is stored: by the flows, the list answers notes with no text.
    assert checks["createNote"]["flow"]["outcome"] == "pass"
    assert '"text" is a required property' in found[("listNotes", "flow")]
    assert {check for _, check in found} == {"validation", "fuzz", "flow"}


def test_a_header_every_request_carries_passes_an_api_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """--header carries a key the suite cannot mint; the no-credentials probe leaves it out."""
    contract = keyed_notes(tmp_path)
    with Served(notes_app(api_key="k-123")) as url:
        code, results, _ = run(
            contract, url, tmp_path / "out", "--header", "X-Api-Key: k-123", capsys=capsys
        )
    checks = {name: op["checks"] for name, op in results["operations"].items()}
    for name in ("listNotes", "createNote", "getNote", "updateNote", "deleteNote"):
        assert checks[name]["happy"]["outcome"] == "pass", checks[name]
        assert checks[name]["auth"]["reason"] == "no credentials: 401", checks[name]
    assert code == 1  # it still validates nothing
