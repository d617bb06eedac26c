"""`migrate plan` says when the contract change it plans from breaks existing clients: the
change since the last commit, compared as `backsmith diff` compares; and `build` compares
with the newest tag's contract."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from backsmith.cli.main import main
from backsmith.verify.done.handover_items import diff_item

pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")

CONTRACT = """\
openapi: 3.1.0
info: {title: Notes, version: 1.0.0}
paths:
  /notes:
    post:
      operationId: createNote
      requestBody:
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Note"}
      responses:
        "201":
          description: made
          content: {application/json: {schema: {$ref: "#/components/schemas/Note"}}}
components:
  schemas:
    Note:
      type: object
      properties:
        id: {type: integer, readOnly: true}
        text: {type: string}
        title: {type: string}
"""
# A newly required request property: every client sending notes without a title breaks.
REQUIRED = CONTRACT.replace("      properties:\n", "      required: [title]\n      properties:\n")


def git(folder: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=folder,
        check=True,
        capture_output=True,
    )


@pytest.fixture(params=[".", "services/notes"], ids=["at-the-root", "in-a-subfolder"])
def project(tmp_path: Path, request: pytest.FixtureRequest) -> Path:
    """A repository holding the contract at its root or in a folder of its own, beside a
    link git keeps (never followed out of the export)."""
    folder = tmp_path / request.param
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "api.yaml").write_text(CONTRACT)
    (folder / "hostname").symlink_to("/etc/hostname")
    git(tmp_path, "init", "-q")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "first")
    return folder / "api.yaml"


def plan(contract: Path, capsys: pytest.CaptureFixture[str]) -> str:
    code = main(["migrate", "plan", str(contract), "-m", "change", "--allow-destructive"])
    assert code == 0
    return capsys.readouterr().err


def test_plan_says_when_the_change_breaks_clients(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "breaks clients" not in plan(project, capsys)  # nothing changed since HEAD
    project.write_text(REQUIRED)
    said = plan(project, capsys)
    assert "this contract change breaks clients of the contract at HEAD: 1 breaking" in said
    assert "request-property-became-required" in said


def test_a_safe_change_or_a_raised_major_version_is_said_so(
    project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project.write_text(
        CONTRACT.replace(
            "        title: {type: string}\n",
            "        title: {type: string}\n        tag: {type: string}\n",
        )
    )
    assert "breaks clients" not in plan(project, capsys)
    project.write_text(REQUIRED.replace("version: 1.0.0", "version: 2.0.0"))
    assert "info.version's major was raised" in plan(project, capsys)


def test_build_compares_with_the_newest_tag(project: Path) -> None:
    from backsmith.api import load_model

    git(project.parent, "tag", "v1.0.0")  # from the contract's folder, as build runs it
    project.write_text(REQUIRED)
    item = diff_item(load_model(project), None, str(project))
    assert item.status == "fail" and "at v1.0.0 (1.0.0 → 1.0.0): 1 breaking" in item.evidence
    assert "[request-property-became-required]" in item.details[0]
    bumped = REQUIRED.replace("version: 1.0.0", "version: 2.0.0")
    project.write_text(bumped)
    assert diff_item(load_model(project), None, str(project)).status == "pass"
