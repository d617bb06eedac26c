"""Settings declared once: the object, the contract keys, the flags, the README and `config`.

A bad value from any source is one line naming the setting, exit code 2, through the
real command line.
"""

from __future__ import annotations

import os
import re
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from conftest import BOOKSHOP
from conftest import write_file as write

from backsmith.cli import main
from backsmith.cli.config import settings_table
from backsmith.model.vocabulary import ROOT_KEYS
from backsmith.settings import SETTINGS, SettingError, Settings, load_settings, resolve

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()

SMALL_API = """\
openapi: 3.1.0
info: {title: Notes, version: "1"}
x-backsmith: {page-size: 7, admin-roles: [staff, boss]}
paths:
  /notes:
    get:
      operationId: listNotes
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema:
                type: array
                items: {$ref: "#/components/schemas/Note"}
components:
  schemas:
    Note:
      type: object
      properties:
        id: {type: integer, readOnly: true}
        text: {type: string}
"""


def test_the_settings_object_has_exactly_the_declared_settings() -> None:
    declared = {s.name: s.default for s in SETTINGS if s.attribute}
    assert {f.name: f.default for f in fields(Settings)} == declared


def test_every_backsmith_variable_read_in_the_code_is_declared() -> None:
    used: set[str] = set()
    for path in (ROOT / "src" / "backsmith").rglob("*.py"):
        used |= set(re.findall(r"\bBACKSMITH_[A-Z][A-Z0-9_]*", path.read_text()))
    declared = {s.env for s in SETTINGS}
    assert used, "the search found no variable at all"
    assert used - declared == set()


def test_every_backsmith_variable_the_readme_names_is_declared() -> None:
    named = set(re.findall(r"\bBACKSMITH_[A-Z][A-Z0-9_]*", README))
    assert named - {s.env for s in SETTINGS} == set()


def test_the_readme_settings_table_is_the_declaration() -> None:
    section = README[README.index("### Settings") :]
    start = section.index("| setting | environment |")
    table = section[start : section.index("\n\n", start)]
    assert table == settings_table(), "run `backsmith config --markdown` and paste its table"


def test_root_keys_that_are_settings_come_from_the_declaration() -> None:
    for declared in SETTINGS:
        if declared.contract_key:
            types, help_text = ROOT_KEYS[declared.contract_key]
            assert (types, help_text) == (declared.accepted_types, declared.help)
    others = set(ROOT_KEYS) - {s.contract_key for s in SETTINGS}
    # contract facts, not settings
    assert others == {
        "dbml",
        "unknown-fields",
        "errors",
        "events",
        "audit",
        "schedules",
        "rate-limit",  # policies of every operation
        "idempotency",
        "require-if-match",
        "cache",
        "slo",
    }


def test_the_readme_lists_the_root_keys_the_code_accepts() -> None:
    row = next(line for line in README.splitlines() if line.startswith("| root |"))
    listed = set(re.findall(r"`([a-z-]+)`", row))
    assert set(ROOT_KEYS) <= listed and listed - set(ROOT_KEYS) <= {"ignore"}


@pytest.mark.parametrize("text", ["true", "1", "yes", "on", "TRUE", " On "])
def test_booleans_read_true(text: str) -> None:
    assert load_settings({}, environ={"BACKSMITH_CORS_CREDENTIALS": text}).cors_credentials


@pytest.mark.parametrize("text", ["false", "0", "no", "off", "False"])
def test_booleans_read_false(text: str) -> None:
    assert not load_settings({}, environ={"BACKSMITH_DOCS": text}).docs


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"BACKSMITH_DOCS": "enabled"}, "BACKSMITH_DOCS=enabled: docs"),
        ({"BACKSMITH_PORT": "\uff11"}, "BACKSMITH_PORT"),  # a full-width 1 is not a number here
        ({"BACKSMITH_PAGE_SIZE": "0"}, "page_size"),
        ({"BACKSMITH_HSTS": "-1"}, "hsts"),
        ({"BACKSMITH_LOG_LEVEL": "loud"}, "log_level"),
        ({"BACKSMITH_ENV": "staging"}, "env"),
        ({"BACKSMITH_DATABASE_URL": "backsmith.db"}, "database_url"),
    ],
)
def test_a_bad_value_is_refused_never_replaced(environ: dict[str, str], named: str) -> None:
    with pytest.raises(SettingError, match=re.escape(named)):
        load_settings({}, environ=environ)


def test_a_bad_contract_value_names_the_contract_key() -> None:
    with pytest.raises(SettingError, match="x-backsmith page-size=0: page_size"):
        load_settings({"page-size": 0}, environ={})


def test_sources_are_reported_lowest_first() -> None:
    resolved = resolve(
        {"page-size": 7, "max-page-size": 50},
        {"BACKSMITH_MAX_PAGE_SIZE": "60", "BACKSMITH_PORT": "9001"},
        {"port": "9002"},
    )
    assert (resolved["host"].value, resolved["host"].source) == ("127.0.0.1", "default")
    assert (resolved["page_size"].value, resolved["page_size"].source) == (7, "contract")
    assert (resolved["max_page_size"].value, resolved["max_page_size"].source) == (
        60,
        "environment",
    )
    assert (resolved["port"].value, resolved["port"].source) == (9002, "flag")


# ------------------------------------------------------------- through the command line


@pytest.fixture
def no_server(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """serve's server replaced by a recorder: a refused start must never reach it."""
    import uvicorn

    started: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: started.append(kwargs))
    monkeypatch.setattr(os, "environ", {k: v for k, v in os.environ.items()})
    for name in [k for k in os.environ if k.startswith("BACKSMITH_")]:
        del os.environ[name]
    return started


@pytest.mark.parametrize(
    ("environ", "argv", "named"),
    [
        ({"BACKSMITH_PORT": "abc"}, [], "BACKSMITH_PORT=abc: port must be a whole number"),
        ({}, ["--port", "99999"], "--port 99999: port must be a whole number from 1 to 65535"),
        ({}, ["--workers", "0"], "--workers 0: workers must be a whole number"),
        ({}, ["--pool-size", "0"], "--pool-size 0: pool_size must be a whole number from 1"),
        ({"BACKSMITH_POOL_SIZE": "many"}, [], "BACKSMITH_POOL_SIZE=many: pool_size must be"),
        ({"BACKSMITH_DOCS": "enabled"}, [], "BACKSMITH_DOCS=enabled: docs must be true or false"),
        ({}, ["--database-url", "oracle://db/shop"], "--database-url oracle://db/shop:"),
        ({}, ["--database-url", "mysql://root@127.0.0.1/shop"], "MariaDB (mysql://) is for"),
        ({"BACKSMITH_DATABASE_URL": "mariadb://u:pw@h/d"}, [], "database_url: serve takes"),
    ],
)
def test_serve_refuses_a_bad_setting_in_one_line(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    no_server: list[Any],
    monkeypatch: pytest.MonkeyPatch,
    environ: dict[str, str],
    argv: list[str],
    named: str,
) -> None:
    os.environ.update(environ)
    monkeypatch.chdir(tmp_path)  # a refused start leaves no database file behind
    code = main(["serve", str(BOOKSHOP), *argv])
    out, err = capsys.readouterr()
    assert code == 2
    assert no_server == []
    assert err.count("\n") == 1 and named in err, err
    assert "Traceback" not in err and out == ""
    assert "pw" not in err  # a password in a URL is never shown
    assert list(tmp_path.iterdir()) == []


def test_config_shows_each_value_and_its_source(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_server: list[Any]
) -> None:
    contract = write(tmp_path, "api.yaml", SMALL_API)
    os.environ["BACKSMITH_JWT_SECRET"] = "a-secret-nobody-may-read-in-a-terminal"
    os.environ["BACKSMITH_DATABASE_URL"] = "postgresql://shop:hunter2@db.internal/shop"
    code = main(["config", str(contract), "--port", "9001", "--production"])
    out, err = capsys.readouterr()
    assert code == 0, err
    table = {line.split()[0]: line.split()[1:] for line in out.splitlines()[1:]}
    assert table["port"] == ["9001", "flag", "BACKSMITH_PORT"]
    assert table["env"] == ["production", "flag", "BACKSMITH_ENV"]
    assert table["page_size"] == ["7", "contract", "BACKSMITH_PAGE_SIZE"]
    assert table["admin_roles"] == ["staff,boss", "contract", "BACKSMITH_ADMIN_ROLES"]
    assert table["jwt_secret"] == ["***", "environment", "BACKSMITH_JWT_SECRET"]
    assert table["database_url"][0] == "postgresql://shop:***@db.internal/shop"
    assert table["host"] == ["127.0.0.1", "default", "BACKSMITH_HOST"]
    assert "a-secret-nobody" not in out and "hunter2" not in out
    assert set(table) == {s.name for s in SETTINGS}


def test_check_refuses_a_contract_setting_it_cannot_use(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], no_server: list[Any]
) -> None:
    text = SMALL_API.replace("page-size: 7", "database: oracle://db/notes")
    assert main(["check", str(write(tmp_path, "api.yaml", text))]) == 2
    assert capsys.readouterr().err == (
        "backsmith: x-backsmith database=oracle://db/notes: database_url must start with "
        "sqlite://, postgresql:// or mysql:// (MariaDB)\n"
    )


def test_config_refuses_a_bad_value_too(
    capsys: pytest.CaptureFixture[str], no_server: list[Any]
) -> None:
    os.environ["BACKSMITH_WORKERS"] = "many"
    assert main(["config"]) == 2
    assert capsys.readouterr().err == (
        "backsmith: BACKSMITH_WORKERS=many: workers must be a whole number from 1 to 256\n"
    )


def test_serve_flags_come_from_the_declaration(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--help"])
    text = capsys.readouterr().out
    for declared in SETTINGS:
        if declared.flag:
            assert declared.option in text and f"${declared.env}" in text


@pytest.mark.parametrize(
    ("environ", "says"),
    [
        ({"BACKSMITH_WEBHOOKS": "ftp://127.0.0.1/hooks"}, "webhooks must be URLs starting with"),
        ({"BACKSMITH_WEBHOOKS": "http://127.0.0.1/" + "a" * 250}, "at most 255 characters"),
        ({"BACKSMITH_EVENTS_URL": "redis://127.0.0.1"}, "amqp:// or amqps:// or nats://"),
        ({"BACKSMITH_WEBHOOK_SECRET": "whsec_c2hvcnQ="}, "24 to 64 bytes in base64"),
        ({"BACKSMITH_WEBHOOK_SECRET": "whsec_not base64!"}, "24 to 64 bytes in base64"),
    ],
)
def test_event_targets_and_secrets_are_checked(environ: dict[str, str], says: str) -> None:
    with pytest.raises(SettingError, match=says):
        load_settings({}, environ=environ)


def test_event_targets_read_in_order_once_each() -> None:
    environ = {
        "BACKSMITH_WEBHOOKS": "http://127.0.0.1:9/a, http://127.0.0.1:9/b,http://127.0.0.1:9/a",
        "BACKSMITH_EVENTS_URL": "nats://127.0.0.1:4222",
    }
    settings = load_settings({}, environ=environ)
    assert settings.webhook_urls == ("http://127.0.0.1:9/a", "http://127.0.0.1:9/b")
    assert settings.broker_urls == ("nats://127.0.0.1:4222",)
    assert (
        settings.environment()["BACKSMITH_WEBHOOKS"] == "http://127.0.0.1:9/a,http://127.0.0.1:9/b"
    )
