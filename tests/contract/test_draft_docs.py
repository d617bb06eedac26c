"""docs/drafting.md, run: its example spec drafts into the contract fragment, report lines
and `check` lines the page shows, and serves as the page says."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from conftest import ROOT, bearer, served

from backsmith.api import load_model
from backsmith.cli import main

PAGE = (ROOT / "docs" / "drafting.md").read_text(encoding="utf-8")
SECRET = "drafted-library-secret-32-bytes!!"


def _block(fence: str, after: str) -> str:
    return PAGE.split(after, 1)[1].split(f"{fence}\n", 1)[1].split(fence[:3] + "\n", 1)[0]


def _spec(folder: Path) -> Path:
    text = PAGE.split("````markdown\n", 1)[1].split("````", 1)[0]
    spec = folder / "api-spec.md"
    spec.write_text(text, encoding="utf-8")
    return spec


def test_the_page_shows_what_drafting_its_example_writes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _spec(tmp_path)
    assert main(["draft", "api-spec.md"]) == 0
    drafted = yaml.safe_load((tmp_path / "openapi.yaml").read_text(encoding="utf-8"))
    shown = yaml.safe_load(_block("```yaml", "The create, as drafted:"))
    assert drafted["paths"]["/books"]["post"] == shown["post"]
    report = (tmp_path / "openapi.report.md").read_text(encoding="utf-8")
    assert _block("```text", "and its lines in the report:") in report
    capsys.readouterr()
    assert main(["check", "api-spec.md"]) == 0
    said = capsys.readouterr().err.splitlines()
    first = PAGE.split("say so once:\n\n```\n", 1)[1].split("\n```", 1)[0]
    assert said[0] == first
    assert _block("```", "so `check` names the spec's line for whatever it finds:").strip() in said


@pytest.mark.anyio
async def test_the_example_serves_as_the_page_says(tmp_path: Path, database_url: str) -> None:
    model = load_model(_spec(tmp_path))
    async with served(model, database_url, jwt_secret=SECRET) as client:
        anonymous = await client.post("/v1/books", json={"title": "A", "author": "B"})
        assert anonymous.status_code == 401
        made = await client.post(
            "/v1/books", json={"title": "A", "author": "B"}, headers=bearer(SECRET)
        )
        assert made.status_code == 201 and made.json()["id"] == 1
        listed = await client.get("/v1/books?author=B")  # open, as the spec excepts it
        assert listed.status_code == 200
        assert listed.json() == {"data": [{"id": 1, "title": "A", "author": "B"}], "total": 1}
        assert (await client.get("/v1/books/1")).status_code == 401
        one = await client.get("/v1/books/1", headers=bearer(SECRET))
        assert one.status_code == 200 and one.json()["author"] == "B"


def test_the_readme_shows_a_fragment_of_the_example_and_what_it_drafts(tmp_path: Path) -> None:
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("## Prose specs", 1)[1]
    fragment = section.split("````markdown\n", 1)[1].split("````", 1)[0]
    assert fragment in PAGE
    model_doc = load_model(_spec(tmp_path))
    assert model_doc.operations  # the example loads
    from backsmith.contract.draft.spec import draft_spec

    spec = tmp_path / "api-spec.md"
    drafted = draft_spec(spec.read_text(encoding="utf-8"), str(spec)).document
    post = drafted["paths"]["/books"]["post"]
    shown = yaml.safe_load(section.split("```yaml\n", 1)[1].split("```", 1)[0])["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    shown_body = shown["requestBody"]["content"]["application/json"]["schema"]
    assert body["properties"] == shown_body["properties"]
    assert body["required"] == shown_body["required"]
    assert post["responses"] == shown["responses"]
    assert post["x-backsmith"] == shown["x-backsmith"]
    assert section.split("```text\n", 1)[1].split("```", 1)[0] == _block(
        "```text", "and its lines in the report:"
    )
