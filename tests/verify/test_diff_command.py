"""`backsmith diff` on the command line: the page's example, exit codes, both formats, and
real contracts compared with themselves written otherwise."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import CORPUS, ROOT

from backsmith import api
from backsmith.cli import main
from backsmith.verify.diff.render import rules_tables

PAGE = (ROOT / "docs" / "diff.md").read_text(encoding="utf-8")
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")


def _block(after: str, fence: str = "```") -> str:
    return PAGE.split(after, 1)[1].split(f"{fence}\n", 1)[1].split("```", 1)[0]


def _example(folder: Path, version: str | None = None) -> None:
    (folder / "old.yaml").write_text(_block("`old.yaml`:", "```yaml"), encoding="utf-8")
    new = _block("and the next version, `new.yaml`", "```yaml")
    if version is not None:
        new = new.replace("version: 1.5.0", f"version: {version}")
    (folder / "new.yaml").write_text(new, encoding="utf-8")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["diff", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_the_page_shows_what_its_example_prints(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    _example(tmp_path)
    code, out, _ = _run(capsys, "old.yaml", "new.yaml")
    assert code == 1  # breaking, and 1.4.0 -> 1.5.0 does not announce it
    assert out == PAGE.split("$ backsmith diff old.yaml new.yaml\n", 1)[1].split("```", 1)[0]
    _example(tmp_path, version="2.0.0")
    code, out, _ = _run(capsys, "old.yaml", "new.yaml")
    assert code == 0
    assert out.splitlines()[-1] == _block("Released as `version: 2.0.0`").strip()


def test_the_page_lists_every_rule() -> None:
    assert rules_tables() in PAGE


def test_no_change_is_exit_0_and_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _example(tmp_path)
    old = str(tmp_path / "old.yaml")
    assert _run(capsys, old, old) == (0, "no changes\n", "")


def test_an_unreadable_contract_is_exit_2_with_one_line_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _example(tmp_path)
    missing = tmp_path / "missing.yaml"
    code, out, err = _run(capsys, str(tmp_path / "old.yaml"), str(missing))
    assert (code, out) == (2, "")
    assert err.splitlines() == [f"{missing}: error: contract file not found"]
    broken = tmp_path / "broken.yaml"
    broken.write_text("openapi: 3.0.3\ninfo: [\n", encoding="utf-8")
    code, _, err = _run(capsys, str(broken), str(tmp_path / "new.yaml"))
    assert code == 2 and len(err.splitlines()) == 1 and err.startswith(f"{broken}:")


def test_json_gives_every_change_with_its_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _example(tmp_path)
    code, out, _ = _run(
        capsys, str(tmp_path / "new.yaml"), str(tmp_path / "old.yaml"), "--format", "json"
    )
    assert code == 1
    found = json.loads(out)
    assert (found["old_version"], found["new_version"]) == ("1.5.0", "1.4.0")
    changes = found["changes"]
    assert found["summary"]["breaking"] == sum(c["level"] == "breaking" for c in changes) > 0
    removed = next(c for c in changes if c["rule"] == "api-removed-without-deprecation")
    assert removed["operation"] == {
        "method": "DELETE",
        "path": "/books/{bookId}",
        "operationId": "deleteBook",
    }
    assert removed["location"]["contract"] == "old"  # it is only in the old contract
    assert removed["location"]["file"] == str(tmp_path / "new.yaml")
    assert removed["location"]["pointer"] == "/paths/~1books~1{bookId}/delete"
    assert isinstance(removed["location"]["line"], int)


@needs_corpus
@pytest.mark.parametrize(
    "name",
    ["openapi/petstore3.yaml", "openapi/train-travel.yaml", "paired/bna-api/openapi-3.1.yaml"],
)
def test_a_corpus_contract_written_as_json_is_no_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    contract = CORPUS / name
    as_json = tmp_path / "contract.json"
    as_json.write_text(json.dumps(yaml.safe_load(contract.read_text(encoding="utf-8"))))
    assert _run(capsys, str(contract), str(as_json)) == (0, "no changes\n", "")


@needs_corpus
def test_the_same_api_in_openapi_3_0_and_3_1_is_no_change(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """`nullable: true` is `type: [..., null]`, `example` is `examples`: nothing a client sees."""
    pair = CORPUS / "paired" / "bna-api"
    dbml = str(pair / "database.dbml")
    argv = [str(pair / "openapi-3.0.yaml"), str(pair / "openapi-3.1.yaml")]
    assert _run(capsys, *argv, "--dbml-old", dbml, "--dbml-new", dbml) == (0, "no changes\n", "")


@needs_corpus
def test_swagger_2_is_compared_as_the_openapi_3_it_converts_to(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    swagger = CORPUS / "openapi" / "apis-guru" / "adafruit.com__default.yaml"
    converted = tmp_path / "converted.json"
    converted.write_text(json.dumps(api.convert(swagger)))
    assert _run(capsys, str(swagger), str(converted)) == (0, "no changes\n", "")
    changed = api.convert(swagger)
    first_path = next(iter(changed["paths"]))
    del changed["paths"][first_path]
    converted.write_text(json.dumps(changed))
    code, out, _ = _run(capsys, str(swagger), str(converted))
    assert code == 1 and "[api-path-removed-without-deprecation]" in out


@needs_corpus
def test_a_prose_spec_is_compared_as_its_draft(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "api-spec.md"
    spec.write_text(
        (CORPUS / "markdown" / "13smaxis__tri-learn-classroom__api-spec.md").read_text()
    )
    api.draft(spec, tmp_path / "openapi.yaml")
    assert _run(capsys, str(spec), str(tmp_path / "openapi.yaml")) == (0, "no changes\n", "")
