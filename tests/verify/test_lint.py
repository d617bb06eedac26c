"""`backsmith check` lints the contract: each rule fires on a contract with its pitfall and
stays quiet on one without, each finding names its rule, file:line, pointer and fix.

The base contract below avoids every pitfall (its lint is empty); each case changes one
thing in it and names the rule that must then fire, at the pointer it must point at.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import BOOKSHOP

from backsmith import api
from backsmith.cli.main import main
from backsmith.verify.lint.run import RULES

DBML = """\
Table users {
  id integer [pk, increment]
  email varchar [unique, not null]
}
Table notes {
  id integer [pk, increment]
  user_id integer [not null, ref: > users.id]
  text varchar(200) [not null]
  status note_status [not null, default: 'draft']
  created_at timestamptz [not null, default: `now()`]
  indexes {
    user_id
    text
  }
}
Enum note_status {
  draft
  published
}
"""

BASE: dict[str, Any] = yaml.safe_load("""
openapi: 3.1.0
info: {title: Notes, version: 1.2.0}
servers: [{url: "https://notes.internal.acme.io"}]
x-backsmith: {rate-limit: 100/minute, dbml: schema.dbml}
security: [{bearer: []}]
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer, bearerFormat: JWT}
  schemas:
    Note:
      type: object
      x-backsmith: {owner: user_id}
      required: [text]
      properties:
        id: {type: integer, readOnly: true}
        user_id: {type: integer, readOnly: true}
        text: {type: string, maxLength: 200}
        status: {type: string, enum: [draft, published]}
        created_at:
          type: string
          format: date-time
          readOnly: true
          example: "2026-01-31T09:30:00Z"
    User:
      type: object
      properties:
        id: {type: integer, readOnly: true}
        email: {type: string, format: email}
    Problem:
      type: object
      properties: {title: {type: string}, status: {type: integer}}
paths:
  /notes:
    get:
      operationId: listNotes
      parameters:
        - {name: limit, in: query, schema: {type: integer, maximum: 50}}
        - {name: text, in: query, schema: {type: string}}
      responses:
        "200":
          description: the caller's notes
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Note"}}
        "400": {$ref: "#/components/responses/Problem"}
    post:
      operationId: createNote
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: "#/components/schemas/Note"}}}
      responses:
        "201":
          description: made
          content: {application/json: {schema: {$ref: "#/components/schemas/Note"}}}
        "422": {$ref: "#/components/responses/Problem"}
  /notes/{id}:
    parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
    get:
      operationId: getNote
      responses:
        "200":
          description: one note
          content: {application/json: {schema: {$ref: "#/components/schemas/Note"}}}
        "404": {$ref: "#/components/responses/Problem"}
    delete:
      operationId: deleteNote
      responses:
        "204": {description: gone}
        "404": {$ref: "#/components/responses/Problem"}
""")
BASE["components"]["responses"] = {
    "Problem": {
        "description": "a problem",
        "content": {
            "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
        },
    }
}
NOTE = "/components/schemas/Note/properties"
LIST, CREATE, ITEM = "/paths/~1notes/get", "/paths/~1notes/post", "/paths/~1notes~1{id}"


def write(tmp_path: Path, document: dict[str, Any], dbml: str = DBML) -> Path:
    (tmp_path / "schema.dbml").write_text(dbml)
    path = tmp_path / "api.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def lint_of(tmp_path: Path, document: dict[str, Any], dbml: str = DBML, **env: str) -> list[Any]:
    return api.check(write(tmp_path, document, dbml), environ=env).lint.findings


def test_the_base_contract_has_no_pitfall(tmp_path: Path) -> None:
    assert [f.render() for f in lint_of(tmp_path, BASE)] == []


def _set(pointer: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def edit(document: dict[str, Any]) -> None:
        *parents, last = [part.replace("~1", "/") for part in pointer.strip("/").split("/")]
        target: Any = document
        for part in parents:
            target = target[int(part)] if isinstance(target, list) else target[part]
        if value is None:
            del target[last]
        else:
            target[last] = value

    return edit


def _open_writes(document: dict[str, Any]) -> None:
    """No credentials asked anywhere (rows with an owner would still need the owner's)."""
    del document["security"]
    del document["components"]["schemas"]["Note"]["x-backsmith"]


def _no_owner(document: dict[str, Any]) -> None:
    del document["components"]["schemas"]["Note"]["x-backsmith"]


def _public_list(document: dict[str, Any]) -> None:
    del document["x-backsmith"]["rate-limit"]
    document["paths"]["/notes"]["get"]["security"] = []


CASES: list[tuple[str, Callable[[dict[str, Any]], None], str, str]] = [
    ("write-without-security", _open_writes, DBML, CREATE),
    ("public-without-rate-limit", _public_list, DBML, LIST),
    ("owned-without-owner-rule", _no_owner, DBML, f"{ITEM}/get"),
    ("cors-wide-open", _set("/x-backsmith/cors-origins", "*"), DBML, "/x-backsmith/cors-origins"),
    ("list-without-page-cap", _set(f"{LIST}/parameters/0/schema/maximum", None), DBML, LIST),
    ("unindexed-query", lambda d: None, DBML.replace("    text\n", ""), f"{LIST}/parameters/1"),
    ("foreign-key-without-index", lambda d: None, DBML.replace("    user_id\n", ""), ""),
    ("enum-mismatch", _set(f"{NOTE}/status/enum", ["draft", "gone"]), DBML, f"{NOTE}/status"),
    ("id-in-request-body", _set(f"{NOTE}/id", {"type": "integer"}), DBML, f"{NOTE}/id"),
    ("no-4xx-response", _set(f"{ITEM}/delete/responses/404", None), DBML, f"{ITEM}/delete"),
    ("missing-operation-id", _set(f"{ITEM}/get/operationId", None), DBML, f"{ITEM}/get"),
    (
        "pii-unmarked",
        _set("/components/schemas/User/properties/email", {"type": "string"}),
        DBML,
        "/components/schemas/User/properties/email",
    ),
    (
        "date-time-without-offset",
        _set(f"{NOTE}/created_at/example", "2026-01-31T09:30:00"),
        DBML,
        f"{NOTE}/created_at",
    ),
    (
        "secret-in-contract",
        _set("/info/description", "Sandbox key: sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
        DBML,
        "/info/description",
    ),
    ("placeholder-info", _set("/servers/0/url", "https://api.example.com"), DBML, "/servers"),
]


def test_every_rule_has_a_case() -> None:
    assert sorted(rule for rule, *_ in CASES) == sorted(RULES)


@pytest.mark.parametrize(("rule", "edit", "dbml", "pointer"), CASES, ids=[c[0] for c in CASES])
def test_each_rule_fires_on_its_pitfall_with_a_location_and_a_fix(
    tmp_path: Path, rule: str, edit: Callable[[dict[str, Any]], None], dbml: str, pointer: str
) -> None:
    document = copy.deepcopy(BASE)
    edit(document)
    findings = [f for f in lint_of(tmp_path, document, dbml) if f.rule == rule]
    assert findings, f"{rule} did not fire"
    finding = findings[0]
    assert finding.severity == RULES[rule].severity and finding.fix == RULES[rule].fix
    assert finding.pointer.startswith(pointer)
    assert finding.file.endswith("api.yaml") and finding.line is not None
    assert finding.render().startswith(
        f"{finding.file}:{finding.line}: {finding.severity} [{rule}]"
    )


def test_a_rule_is_turned_off_inline_at_the_root_or_by_the_environment(tmp_path: Path) -> None:
    document = copy.deepcopy(BASE)
    _open_writes(document)
    document["paths"]["/notes"]["get"]["responses"].pop("400")
    assert {f.rule for f in lint_of(tmp_path, document)} == {
        "write-without-security",
        "no-4xx-response",
    }
    inline = copy.deepcopy(document)
    for method in ("post", "delete"):
        operation = inline["paths"]["/notes" if method == "post" else "/notes/{id}"][method]
        operation["x-backsmith"] = {"lint-ignore": ["write-without-security"]}
    assert {f.rule for f in lint_of(tmp_path, inline)} == {"no-4xx-response"}
    root = copy.deepcopy(document)
    root["x-backsmith"]["lint-ignore"] = "no-4xx-response, write-without-security"
    assert lint_of(tmp_path, root) == []
    by_env = lint_of(tmp_path, document, BACKSMITH_LINT_IGNORE="no-4xx-response")
    assert {f.rule for f in by_env} == {"write-without-security"}
    typo = lint_of(tmp_path, document, BACKSMITH_LINT_IGNORE="no-4xx-responses")
    assert any("'no-4xx-responses', which is no lint rule" in f.message for f in typo)


def test_check_exits_1_on_a_lint_error_and_prints_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = copy.deepcopy(BASE)
    _open_writes(document)
    path = write(tmp_path, document)
    assert main(["check", str(path)]) == 1
    out, err = capsys.readouterr()
    assert "lint: 2 errors, 0 warnings" in out  # the create and the delete
    line = next(line for line in err.splitlines() if "[write-without-security]" in line)
    assert line.startswith(f"{path}:") and " at #/paths/~1notes/post: " in line
    assert main(["check", str(write(tmp_path, BASE))]) == 0


def test_check_formats_json_and_sarif(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    document = copy.deepcopy(BASE)
    _open_writes(document)
    path = write(tmp_path, document)
    assert main(["check", str(path), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["errors"] == 2
    assert [f["rule"] for f in data["lint"]] == ["write-without-security"] * 2
    assert data["lint"][0]["pointer"] == "/paths/~1notes/post" and data["lint"][0]["line"]
    assert main(["check", str(path), "--format", "sarif"]) == 1
    sarif = json.loads(capsys.readouterr().out)
    assert sarif["version"] == "2.1.0"
    run = sarif["runs"][0]
    assert {rule["id"] for rule in run["tool"]["driver"]["rules"]} >= set(RULES)
    result = next(r for r in run["results"] if r["ruleId"] == "write-without-security")
    assert result["level"] == "error"
    physical = result["locations"][0]["physicalLocation"]
    assert physical["artifactLocation"]["uri"] == path.as_uri()  # an absolute path's URI
    assert physical["region"]["startLine"] == data["lint"][0]["line"]


def test_the_rules_list_and_the_docs_table_are_the_registry(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["check", "--rules"]) == 0
    listed = [line.split()[:2] for line in capsys.readouterr().out.splitlines()]
    assert listed == [[rule.id, rule.severity] for rule in RULES.values()]
    docs = (Path(__file__).parents[2] / "docs" / "check.md").read_text()
    for rule in RULES.values():
        assert f"| `{rule.id}` | {rule.severity} |" in docs, rule.id


def test_the_bookshop_has_no_lint_error(capsys: pytest.CaptureFixture[str]) -> None:
    report = api.check(BOOKSHOP, environ={})
    assert report.lint.errors == []
    assert {f.rule for f in report.lint.ignored} == {
        "write-without-security",
        "public-without-rate-limit",
    }


def test_an_open_sign_in_is_no_unguarded_write(tmp_path: Path) -> None:
    """POST /sessions, /login, /token...: callers reach them before they have credentials."""
    document = copy.deepcopy(BASE)
    document["paths"]["/sessions"] = {
        "post": {
            "operationId": "signIn",
            "security": [],
            "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
            "responses": {"200": {"description": "a token"}, "401": {"description": "no"}},
        }
    }
    document["paths"]["/sessions/{id}/extend"] = copy.deepcopy(document["paths"]["/sessions"])
    extend = document["paths"]["/sessions/{id}/extend"]["post"]
    extend["operationId"] = "extendSession"
    extend["parameters"] = [
        {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
    ]
    found = [f for f in lint_of(tmp_path, document) if f.rule == "write-without-security"]
    assert [f.pointer for f in found] == ["/paths/~1sessions~1{id}~1extend/post"]


def test_what_the_review_found_stays_fixed(tmp_path: Path) -> None:
    """A row with an owner is guarded; a token made for a row is not a sign-in; a page cap
    at the root caps every list; an inline typo is said; an operation's lint-ignore covers a
    finding placed in the component it uses; placeholders of passwords are no secrets."""
    document = copy.deepcopy(BASE)
    del document["security"]  # Note keeps its owner: its writes need the owner's token
    document["paths"]["/notes/{id}/tokens"] = {
        "parameters": [
            {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
        ],
        "post": {
            "operationId": "makeToken",
            "responses": {"201": {"description": "a token"}, "404": {"description": "no"}},
        },
    }
    document["x-backsmith"]["max-page-size"] = 50
    del document["paths"]["/notes"]["get"]["parameters"][0]["schema"]["maximum"]
    document["components"]["schemas"]["Note"]["properties"]["id"] = {"type": "integer"}
    document["paths"]["/notes"]["post"]["x-backsmith"] = {
        "lint-ignore": ["id-in-request-body", "no-4xx-respons"]
    }
    document["info"]["description"] = (
        "Local: postgresql://app:${DB_PASSWORD}@db/app, amqp://guest:guest@localhost; "
        "see https://api.todoist.com/rest/v2"
    )
    found = lint_of(tmp_path, document)
    rules = sorted(f.rule for f in found)
    assert rules == ["lint-ignore-unknown", "write-without-security"], [f.render() for f in found]
    write = next(f for f in found if f.rule == "write-without-security")
    assert write.pointer == "/paths/~1notes~1{id}~1tokens/post"
    typo = next(f for f in found if f.rule == "lint-ignore-unknown")
    assert typo.pointer == "/paths/~1notes/post/x-backsmith/lint-ignore" and typo.line


def test_bodies_declared_once_under_components_are_reviewed(tmp_path: Path) -> None:
    document = copy.deepcopy(BASE)
    document["components"]["requestBodies"] = {
        "Invite": {
            "content": {
                "application/json": {
                    "schema": {"type": "object", "properties": {"email": {"type": "string"}}}
                }
            }
        }
    }
    found = [f for f in lint_of(tmp_path, document) if f.rule == "pii-unmarked"]
    pointer = "/components/requestBodies/Invite/content/application~1json/schema/properties/email"
    assert [f.pointer for f in found] == [pointer]
