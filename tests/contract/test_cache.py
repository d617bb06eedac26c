"""What loading worked out before is remembered: validation passes and parsed DBML.

Broken input is never remembered, so it is always checked and reported in full.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import BOOKSHOP

from backsmith.api import load_model
from backsmith.contract import dbml, validate
from backsmith.contract.load import DbmlSource
from backsmith.errors import ContractError

BROKEN = """openapi: 3.0.3
info: {title: broken}
paths: {}
"""


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BACKSMITH_CACHE_DIR", str(tmp_path / "cache"))
    return tmp_path / "cache" / "validated"


DBML = """Table authors {
  id integer [pk]
  name varchar(200) [not null]
}
"""


def _refuse_checks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    checked: list[str] = []

    def check(contract: object) -> None:
        checked.append("checked")
        raise AssertionError("validated again")

    monkeypatch.setattr(validate, "_check", check)
    return checked


def test_a_valid_document_is_checked_once(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    load_model(BOOKSHOP)
    assert len(list(store.iterdir())) == 1
    checked = _refuse_checks(monkeypatch)
    load_model(BOOKSHOP)  # remembered: the validator is not called
    assert checked == []


def test_a_changed_document_is_checked_again(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_model(BOOKSHOP)
    changed = tmp_path / "api-spec.md"
    text = BOOKSHOP.read_text()
    changed.write_text(text.replace("title: Bookshop API", "title: Bookshop API 2", 1))
    assert changed.read_text() != BOOKSHOP.read_text()
    checked = _refuse_checks(monkeypatch)
    with pytest.raises(AssertionError, match="validated again"):
        load_model(changed)
    assert checked == ["checked"]


def test_a_broken_document_is_never_remembered(store: Path, tmp_path: Path) -> None:
    broken = tmp_path / "api.yaml"
    broken.write_text(BROKEN)
    for _ in range(2):
        with pytest.raises(ContractError, match="version"):
            load_model(broken)
    assert not store.exists() or list(store.iterdir()) == []


def test_an_empty_setting_turns_the_store_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BACKSMITH_CACHE_DIR", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    load_model(BOOKSHOP)
    assert list(tmp_path.iterdir()) == []


def test_a_store_that_cannot_be_written_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    monkeypatch.setenv("BACKSMITH_CACHE_DIR", str(blocker))
    load_model(BOOKSHOP)  # no error
    assert blocker.is_file()


def test_parsed_dbml_is_remembered(store: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = DbmlSource(DBML, "schema.dbml")
    first = dbml.parse_dbml(source)
    assert first.table("authors") is not None

    def parse(source: DbmlSource) -> None:
        raise AssertionError("parsed again")

    monkeypatch.setattr(dbml, "_parse", parse)
    assert dbml.parse_dbml(source) == first
    with pytest.raises(AssertionError, match="parsed again"):  # another file name, line
        dbml.parse_dbml(DbmlSource(DBML, "schema.dbml", first_line=3))


def test_a_damaged_dbml_entry_is_parsed_afresh(store: Path) -> None:
    source = DbmlSource(DBML, "schema.dbml")
    first = dbml.parse_dbml(source)
    (entry,) = (store.parent / "dbml").iterdir()
    entry.write_bytes(b"not a pickle")
    assert dbml.parse_dbml(source) == first
    assert entry.read_bytes() != b"not a pickle"  # written again


def test_dbml_with_a_syntax_error_is_never_remembered(store: Path) -> None:
    for _ in range(2):
        with pytest.raises(ContractError, match="DBML syntax error"):
            dbml.parse_dbml(DbmlSource("Table authors {\n  id integer [pk\n", "bad.dbml"))
    assert not (store.parent / "dbml").exists()


def test_the_bookshop_model_round_trips_through_the_store(store: Path) -> None:
    text = BOOKSHOP.read_text()
    body = text.split("```dbml", 1)[1].split("```", 1)[0]
    source = DbmlSource(body, str(BOOKSHOP), first_line=10)
    parsed = dbml.parse_dbml(source)
    assert dbml.parse_dbml(source) == parsed  # read back from JSON, field for field
    assert parsed.tables and parsed.refs


def test_a_store_others_can_write_to_is_not_trusted(
    store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_model(BOOKSHOP)
    store.parent.chmod(0o777)  # anyone could have planted the marker
    checked = _refuse_checks(monkeypatch)
    with pytest.raises(AssertionError, match="validated again"):
        load_model(BOOKSHOP)
    assert checked == ["checked"]


def test_documents_with_non_finite_numbers_are_always_checked(store: Path, tmp_path: Path) -> None:
    contract = tmp_path / "api.yaml"
    contract.write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n"
        "components: {schemas: {n: {type: number, maximum: .inf}}}\n"
    )
    with contextlib.suppress(ContractError):  # whatever the verdict, it is not remembered
        load_model(contract)
    assert not store.exists() or list(store.iterdir()) == []


FILLED_APART = """
import sys
from backsmith.contract.cache import fill_apart
from backsmith.api import load_model
from backsmith.errors import ContractError
fill_apart()
try:
    model = load_model(sys.argv[1])
    print("loaded", len(model.operations))
except ContractError as error:
    print("refused", error)
print("validator imported", "openapi_spec_validator" in sys.modules)
print("parser imported", "pydbml" in sys.modules)
"""


def _filled_apart(contract: Path, store: Path) -> str:
    """A new process, as `serve` is, loading `contract` with a cold store filled apart."""
    env = {**os.environ, "BACKSMITH_CACHE_DIR": str(store.parent)}
    done = subprocess.run(
        [sys.executable, "-c", FILLED_APART, str(contract)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


def test_serve_fills_a_cold_store_in_a_child_and_keeps_none_of_its_libraries(
    store: Path,
) -> None:
    said = _filled_apart(BOOKSHOP, store)
    assert "loaded" in said and "validator imported False" in said, said
    assert "parser imported False" in said, said
    assert len(list(store.iterdir())) == 1  # what the child found, remembered
    assert len(list((store.parent / "dbml").iterdir())) == 1
    again = _filled_apart(BOOKSHOP, store)  # warm: no child, the same model
    assert again.splitlines()[0] == said.splitlines()[0]


def test_a_broken_contract_filled_apart_is_reported_by_the_server_itself(
    store: Path, tmp_path: Path
) -> None:
    broken = tmp_path / "api.yaml"
    broken.write_text(BROKEN)
    said = _filled_apart(broken, store)
    assert "refused" in said and "version" in said, said
    assert not store.exists() or list(store.iterdir()) == []
    bad_dbml = tmp_path / "spec.md"
    bad_dbml.write_text(BOOKSHOP.read_text().replace("Table authors {", "Table authors {{", 1))
    said = _filled_apart(bad_dbml, store)
    assert "refused" in said and "DBML syntax error" in said, said
