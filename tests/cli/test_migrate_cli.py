"""`backsmith migrate` and `backsmith seed` as a user runs them: output and exit codes."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import BOOKSHOP, write_file
from loopback_ports import free_port

from backsmith.cli import main
from backsmith.storage.migrations.folder import MigrationsFolder


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the bookshop contract with no migrations yet, and its SQLite database."""
    contract = tmp_path / "api-spec.md"
    contract.write_text(BOOKSHOP.read_text(encoding="utf-8"), encoding="utf-8")
    monkeypatch.setenv("BACKSMITH_DATABASE_URL", f"sqlite:///{tmp_path / 'shop.db'}")
    monkeypatch.delenv("BACKSMITH_MIGRATIONS", raising=False)
    return contract


def test_the_whole_cycle_from_the_command_line(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "migrate", "plan", shop, "-m", "initial schema")
    assert code == 0 and "wrote" in out and "0001_initial_schema.py" in out
    assert "  create table books" in out

    code, out, _ = run(capsys, "migrate", "status", shop)
    assert code == 0 and "pending: 0001 initial schema" in out and "table books is missing" in out

    code, out, err = run(capsys, "migrate", "check", shop)
    assert code == 1 and "table books is missing" in out and "differs" in err

    code, out, _ = run(capsys, "migrate", "up", shop)
    assert (code, out) == (0, "applied 0001 initial schema\ndatabase at revision 0001\n")
    code, out, _ = run(capsys, "migrate", "check", shop)
    assert (code, out) == (0, "the database matches the contract\n")
    code, out, _ = run(capsys, "migrate", "plan", shop, "-m", "again")
    assert "nothing to plan" in out

    shop.write_text(shop.read_text().replace("  note text\n", "", 1), encoding="utf-8")
    code, _, err = run(capsys, "migrate", "plan", shop, "-m", "drop note")
    assert code == 1 and "drop column orders.note: its values are deleted" in err
    assert "--allow-destructive" in err and "Traceback" not in err
    code, out, _ = run(capsys, "migrate", "plan", shop, "-m", "drop note", "--allow-destructive")
    assert code == 0 and "risk: drop column orders.note" in out
    code, out, _ = run(capsys, "migrate", "up", shop, "--to", "0002")
    assert "applied 0002 drop note" in out

    code, out, _ = run(capsys, "migrate", "down", shop)
    assert (code, out) == (0, "rolled back 0002 drop note\ndatabase at revision 0001\n")
    code, out, _ = run(capsys, "migrate", "down", shop, "--to", "base")
    assert "rolled back 0001 initial schema" in out and "none (base)" in out
    code, out, _ = run(capsys, "migrate", "down", shop)
    assert "nothing to do" in out


def test_adopting_a_database_served_before_migrations(
    shop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import uvicorn

    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: None)
    monkeypatch.setattr(os, "environ", dict(os.environ))
    os.environ["BACKSMITH_PORT"] = str(free_port())  # serve checks its address first
    assert run(capsys, "serve", shop)[0] == 0  # no migrations: the tables come from the contract
    run(capsys, "migrate", "plan", shop, "-m", "initial schema")
    code, out, _ = run(capsys, "migrate", "status", shop)
    assert "no migration recorded" in out and "'backsmith migrate adopt'" in out
    assert "pending" not in out
    code, out, _ = run(capsys, "migrate", "adopt", shop)
    assert (code, out) == (0, "database recorded at revision 0001\n")
    code, _, err = run(capsys, "migrate", "adopt", shop)
    assert code == 1 and "already records revision 0001" in err


def test_a_broken_migrations_folder_is_exit_2(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write_file(shop.parent, "migrations/0001_broken.py", "revision = '0001'\nthis is not python\n")
    code, _, err = run(capsys, "migrate", "up", shop)
    assert code == 2 and "cannot read a migration" in err and "Traceback" not in err


def test_a_folder_named_in_the_contract_is_beside_the_contract(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = "x-backsmith:\n  lint-ignore:"  # the bookshop's root options
    text = shop.read_text(encoding="utf-8").replace(
        root, "x-backsmith:\n  migrations: db/revisions\n  lint-ignore:", 1
    )
    shop.write_text(text, encoding="utf-8")
    code, out, _ = run(capsys, "migrate", "plan", shop, "-m", "initial schema")
    assert code == 0, out
    assert MigrationsFolder(shop.parent / "db" / "revisions").head == "0001"


def test_without_a_contract_the_command_says_so(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BACKSMITH_CONTRACT", raising=False)
    code, _, err = run(capsys, "migrate", "status")
    assert code == 2 and "name the contract" in err


def test_the_shipped_migrations_describe_the_bookshop(capsys: pytest.CaptureFixture[str]) -> None:
    before = sorted(p.name for p in (BOOKSHOP.parent / "migrations").iterdir())
    code, out, _ = run(capsys, "migrate", "plan", BOOKSHOP, "-m", "drift")
    assert (code, out) == (0, "nothing to plan: the migrations already describe the contract\n")
    assert sorted(p.name for p in (BOOKSHOP.parent / "migrations").iterdir()) == before


def test_seed_from_the_command_line(
    shop: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run(capsys, "migrate", "plan", shop, "-m", "initial schema")
    run(capsys, "migrate", "up", shop)
    seed = write_file(tmp_path, "seed/authors.yaml", "- {id: 7, name: N. K. Jemisin}\n").parent
    code, out, _ = run(capsys, "seed", shop, "--fixtures", seed)
    assert (code, out) == (0, "authors: 1 inserted, 0 already present\n")
    write_file(seed, "books.yaml", "- {title: X, author: nobody}\n")
    code, _, err = run(capsys, "seed", shop, "--fixtures", seed)
    assert code == 2 and "books.yaml: record 0: field 'author'" in err
    code, out, _ = run(capsys, "seed", shop, "--fake", "5")
    assert code == 0 and "books: 5 generated" in out
