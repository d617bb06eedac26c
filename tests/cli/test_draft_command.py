"""`backsmith draft`: a prose spec written out as a contract, a DBML model and a report."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import FIXTURES

from backsmith.cli import main

SHOP = FIXTURES / "draft" / "shop.md"


def test_draft_writes_a_contract_its_model_and_a_report_that_check_accepts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    output = tmp_path / "out" / "openapi.yaml"
    assert main(["draft", str(SHOP), "-o", str(output)]) == 0
    said = capsys.readouterr().err
    assert "11 endpoints, 2 resources" in said and "2 skipped" in said
    contract = output.read_text(encoding="utf-8")
    assert "x-backsmith:\n  dbml: schema.dbml" in contract
    assert "source: shop.md:17" in contract
    assert (
        (tmp_path / "out" / "schema.dbml")
        .read_text(encoding="utf-8")
        .startswith("Table products {")
    )
    report = (tmp_path / "out" / "openapi.report.md").read_text(encoding="utf-8")
    assert "### GET /api/products (shop.md:17)" in report
    assert "- operation `getApiProducts`: list products" in report
    assert "- line 115: GET /api/endpoint: a placeholder, not an endpoint" in report
    assert main(["check", str(output)]) == 0
    checked = capsys.readouterr()
    assert "11 operations (8 CRUD, 3 need a handler)" in checked.out + checked.err


def test_checking_a_prose_spec_says_once_that_it_was_drafted(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check", str(SHOP)]) == 0
    said = capsys.readouterr()
    text = said.out + said.err
    assert text.count("drafted one from the prose") == 1
    assert f"`backsmith draft {SHOP}` writes it with a report to review" in text


def test_a_spec_without_endpoints_is_one_line_and_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "notes.md"
    spec.write_text("# Notes\n\nNo endpoint here.\n", encoding="utf-8")
    assert main(["draft", str(spec), "-o", str(tmp_path / "openapi.yaml")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{spec}: error: no endpoint found")
