"""`check` says what `serve` will do: each warning and production refusal, with its pointer
and fix, word for word what a start logs; and the contract errors a start would stop on.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from conftest import CORPUS, ROOT, needs_shared
from conftest import write_file as write

from backsmith import api
from backsmith.cli import main
from backsmith.errors import ContractError
from backsmith.http.app import create_app
from backsmith.security.exposure import SAID_ONE_BY_ONE, summary
from backsmith.settings import load_settings

FINDINGS = """\
openapi: 3.0.3
info: {title: findings, version: "1"}
security: [{token: []}]
paths:
  /books:
    get:
      operationId: listBooks
      parameters:
        - {name: tags, in: query, schema: {type: array, items: {type: string}}}
        - name: shelf
          in: query
          schema: {type: string}
          x-backsmith: {filter: shelves.name}
        - {name: title, in: query, schema: {type: string}}
      responses:
        "200":
          description: the books
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Book"}}
    post:
      operationId: createBook
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Book"}
      responses:
        "201":
          description: created
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Book"}
  /notes:
    get:
      operationId: listNotes
      security: []
      responses:
        "200":
          description: the notes
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Note"}}
  /users:
    post:
      operationId: createUser
      security: [{basic: []}, {token: []}]
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/User"}
      responses:
        "201":
          description: created
          content:
            application/json:
              schema: {$ref: "#/components/schemas/User"}
components:
  securitySchemes:
    token:
      type: apiKey
      in: header
      name: Authorization
      description: "A JWT from the login, sent as 'Token <jwt>'"
    basic: {type: http, scheme: basic}
  schemas:
    Book:
      type: object
      properties:
        id: {type: integer, readOnly: true}
        title: {type: string}
        tags: {type: array, items: {type: string}}
        reviewsCount: {type: integer}
        isFollowing: {type: boolean}
    Note:
      type: object
      x-backsmith: {owner: owner_id}
      properties:
        id: {type: integer, readOnly: true}
        owner_id: {type: integer, readOnly: true}
        text: {type: string}
    User:
      type: object
      properties:
        id: {type: integer, readOnly: true}
        email: {type: string}
        password: {type: string, writeOnly: true}
"""

UNMAPPED_API = """\
openapi: 3.0.3
info: {title: unmapped, version: "1"}
paths:
  /books/{id}:
    get:
      operationId: getBook
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      responses:
        "200":
          description: the book
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Book"}
components:
  schemas:
    Book:
      type: object
      required: [id, title, rating]
      properties:
        id: {type: integer}
        title: {type: string}
        rating: {type: number, readOnly: true}
"""
UNMAPPED_DBML = """\
Table books {
  id integer [pk, increment]
  title varchar [not null]
}
"""


# A lint rule's line: `file:line: severity [rule-id] ...` (tests/verify/test_lint.py).
LINT_LINE = re.compile(r"^\S+: (?:error|warning|info) \[[a-z0-9-]+\]")


def run(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[int, str, list[str]]:
    """The exit code, stdout, and the lines serve would log too (lint's are left out)."""
    code = main([str(arg) for arg in argv])
    out, err = capsys.readouterr()
    return code, out, [line for line in err.splitlines() if not LINT_LINE.match(line)]


def one(lines: list[str], *parts: str) -> str:
    """The one line holding every part."""
    found = [line for line in lines if all(part in line for part in parts)]
    assert len(found) == 1, (parts, lines)
    return found[0]


@pytest.fixture
def findings_contract(tmp_path: Path) -> Path:
    return write(tmp_path, "api.yaml", FINDINGS)


def test_each_finding_has_its_pointer_and_fix(
    findings_contract: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BACKSMITH_ENV", raising=False)
    code, out, lines = run(capsys, "check", findings_contract)
    assert code == 0, lines
    assert all("; fix: " in line and line.startswith(f"{findings_contract}:") for line in lines)
    tags = one(lines, "cannot filter by query parameter 'tags'")
    assert ": warning at #/paths/~1books/get/parameters/0: listBooks " in tags
    assert "requests sending it answer 400" in tags
    shelf = one(lines, "query parameter 'shelf'")
    assert "#/paths/~1books/get/parameters/1" in shelf and "filter 'shelves.name'" in shelf
    token = one(lines, "apiKey scheme 'token'")
    assert "#/components/securitySchemes/token" in token
    assert "fix: if clients send a JWT, declare x-backsmith: {format: jwt, prefix: Token}" in token
    basic = one(lines, "security scheme 'basic' cannot be checked")
    assert "http basic checks the built-in accounts" in basic and "kind: register" in basic
    owner = one(lines, "GET /notes (listNotes) is open to anyone")
    assert ": warning at #/paths/~1notes/get/security: " in owner
    assert "anonymous callers answer 401" in owner
    assert "fix: if anyone may read these rows, declare x-backsmith: {visibility: public}" in owner
    count = one(lines, "Book.reviewsCount is stored as column books.reviews_count")
    assert "fix: declare x-backsmith: {count: reviews}" in count
    following = one(lines, "Book.isFollowing is stored as column books.is_following")
    assert "x-backsmith: {exists: <relation>}" in following
    password = one(lines, "users.password stores passwords")
    assert ": not for production at #/components/schemas/User/properties/password: " in password
    assert "1 warning" not in out and "not for production" in out
    # Nothing else: a plain filter, a served title, the owner's own column are fine.
    assert not [line for line in lines if "'title'" in line or "owner_id" in line]


def test_production_check_exits_2_with_what_a_production_start_refuses(
    findings_contract: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, lines = run(capsys, "check", findings_contract, "--production")
    assert code == 2
    refused = [line for line in lines if ": error at #/" in line]
    assert refused and not [line for line in lines if ": not for production " in line]
    one(refused, "users.password stores passwords")
    assert f"{len(refused)} refused in production" in out
    # serve --production names the same lines before it stops.
    served = main(["serve", str(findings_contract), "--production", "--database-url", "sqlite://"])
    err = capsys.readouterr().err
    assert served == 2
    assert [line.removeprefix("  - ") for line in err.splitlines() if line.startswith("  - ")] == (
        refused
    )


def test_a_required_response_property_that_maps_to_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    contract = write(tmp_path, "api.yaml", UNMAPPED_API)
    dbml = write(tmp_path, "schema.dbml", UNMAPPED_DBML)
    code, _, lines = run(capsys, "check", contract, "--dbml", dbml)
    assert code == 0
    rating = one(lines, "required property 'rating'")
    assert ": warning at #/components/schemas/Book/required: " in rating
    assert "maps to no column, relation or computed value of books" in rating
    assert "so getBook answers leave it out" in rating
    assert "fix: add a column rating to books" in rating


REQUIRED_UNDECLARED = """\
openapi: 3.0.3
info: {title: blobs, version: "1"}
paths:
  /blobs:
    post:
      operationId: addBlob
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Blob"}
      responses:
        "201":
          description: created
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Blob"}
components:
  schemas:
    Blob:
      type: object
      properties:
        blob_key: {type: string}
      required:
        - key
"""


def test_a_body_requiring_an_undeclared_property_is_a_contract_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    contract = write(tmp_path, "api.yaml", REQUIRED_UNDECLARED)
    code, out, lines = run(capsys, "check", contract)
    assert (code, out) == (2, "")
    assert lines == [
        f"{contract}:25: error at #/components/schemas/Blob/required: 'key' is required but "
        "not declared under properties, so no request can satisfy this schema: declare it, "
        "take it out of required, or allow undeclared properties (additionalProperties)"
    ]


@pytest.mark.parametrize(
    "change",
    [
        ("      required:\n", "      additionalProperties: true\n      required:\n"),
        ("      required:\n", "      additionalProperties: {type: string}\n      required:\n"),
        (
            "      operationId: addBlob\n",
            "      operationId: addBlob\n      x-backsmith: {unknown-fields: ignore}\n",
        ),
        (
            "        blob_key: {type: string}\n",
            "        blob_key: {type: string}\n"
            "      oneOf:\n        - properties: {key: {type: string}}\n",
        ),
    ],
    ids=["additional-true", "additional-schema", "unknown-fields-ignore", "declared-in-oneOf"],
)
def test_undeclared_required_properties_that_can_be_sent_are_accepted(
    tmp_path: Path, change: tuple[str, str]
) -> None:
    contract = write(tmp_path, "api.yaml", REQUIRED_UNDECLARED.replace(*change))
    assert api.load_model(contract).operations[0].kind == "create"


def test_a_closed_nested_object_requiring_an_undeclared_property_is_refused(
    tmp_path: Path,
) -> None:
    nested = REQUIRED_UNDECLARED.replace(
        "        blob_key: {type: string}\n",
        "        blob_key: {type: string}\n        meta:\n          type: object\n"
        "          additionalProperties: false\n          required: [size]\n"
        "          properties: {bytes: {type: integer}}\n",
    ).replace("      required:\n        - key\n", "")
    with pytest.raises(ContractError) as refused:
        api.load_model(write(tmp_path, "api.yaml", nested))
    (issue,) = refused.value.issues
    assert issue.pointer == "/components/schemas/Blob/properties/meta/required"
    assert issue.message.startswith("'size' is required but not declared")


@needs_shared
def test_the_corpus_contract_that_showed_it_is_refused_with_one_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = CORPUS / "openapi" / "apis-guru" / "intellifi.nl__default.yaml"
    code, out, lines = run(capsys, "check", path)
    assert (code, out) == (2, "")
    assert lines == [
        f"{path}:2327: error at #/components/schemas/Blob/required: 'key' is required but "
        "not declared under properties, so no request can satisfy this schema: declare it, "
        "take it out of required, or allow undeclared properties (additionalProperties)"
    ]


@needs_shared
def test_check_on_petstore_names_what_serve_will_do(capsys: pytest.CaptureFixture[str]) -> None:
    path = CORPUS / "openapi" / "petstore3.yaml"
    code, out, lines = run(capsys, "check", path)
    assert code == 1  # lint: its writes ask for no credentials (an error)
    tags = one(lines, "findPetsByTags cannot filter by query parameter 'tags'")
    assert tags.startswith(f"{path}:170: warning at #/paths/~1pet~1findByTags/get/parameters/0:")
    one(lines, "users.password stores passwords as clients send them")
    assert "needs a handler: findPetsByTags" not in out  # served, without that filter


# ------------------------------------------------------------- serve logs what check prints
def _loaded_corpus() -> list[tuple[str, Path, Path | None]]:
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location(
        "corpus_survey", ROOT / "scripts" / "corpus_survey.py"
    )
    assert spec is not None and spec.loader is not None
    survey = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(spec.name, survey)
    spec.loader.exec_module(survey)
    if not CORPUS.is_dir():
        return []
    return [(e.label, e.contract, e.dbml) for e in survey.corpus_entries(CORPUS)]


CORPUS_ENTRIES = _loaded_corpus()


@needs_shared
@pytest.mark.parametrize(
    ("contract", "dbml"),
    [(c, d) for _, c, d in CORPUS_ENTRIES],
    ids=[label for label, _, _ in CORPUS_ENTRIES],
)
def test_serve_warns_exactly_what_check_prints(
    contract: Path, dbml: Path | None, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    try:
        model = api.load_model(contract, dbml)
    except ContractError:
        return  # refused by both alike, with the same lines (the corpus survey checks those)
    report = api.check(contract, dbml, environ={})
    settings = load_settings(model.options, environ={}, database_url=f"sqlite:///{tmp_path}/x.db")
    with caplog.at_level(logging.WARNING, logger="backsmith"):
        create_app(model, settings)
    logged = [r.getMessage() for r in caplog.records if r.name == "backsmith"]
    if len(report.findings) <= SAID_ONE_BY_ONE:
        assert logged == report.lines
        assert all(line.startswith(f"{contract}") for line in logged)
    else:  # one block, naming what check details
        assert logged == [summary(report.findings, False)]
        for finding in report.findings:
            assert finding.message.split(") ", 1)[-1] in logged[0]


SERVED_ELSEWHERE = """\
openapi: 3.0.3
info: {title: notes, version: "1"}
servers:
  - url: https://api.example.com/api
  - url: https://staging.example.com/v2
paths:
  /notes:
    post:
      operationId: createNote
      x-backsmith: {public: true}
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Note"}
      responses:
        "201":
          description: created
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Note"}
        "400":
          description: refused
          content:
            application/json:
              schema:
                type: object
                properties:
                  count: {type: integer}
components:
  schemas:
    Note:
      type: object
      properties:
        id: {type: integer, readOnly: true}
        text: {type: string}
"""


def test_base_path_and_error_shape_findings_are_printed_and_logged_alike(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    contract = write(tmp_path, "api.yaml", SERVED_ELSEWHERE)
    monkeypatch.delenv("BACKSMITH_BASE_PATH", raising=False)
    monkeypatch.delenv("BACKSMITH_ENV", raising=False)

    def logged(environ: dict[str, str]) -> list[str]:
        model = api.load_model(contract)
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="backsmith"):
            create_app(model, load_settings(model.options, environ=environ))
        capsys.readouterr()  # what a start wrote to stderr is not check's
        return [r.getMessage() for r in caplog.records if r.name == "backsmith"]

    code, out, lines = run(capsys, "check", contract)
    assert code == 0 and "2 warnings" in out
    servers = one(lines, "the servers have different paths")
    assert servers.startswith(f"{contract}:4: warning at #/servers: ")  # the list
    unfit = one(lines, "this error body cannot be filled from a problem")
    assert ": warning at #/paths/~1notes/post/responses/400/content/" in unfit
    assert logged({}) == lines
    # BACKSMITH_BASE_PATH chooses the base path: the servers' paths are no longer a question.
    monkeypatch.setenv("BACKSMITH_BASE_PATH", "/v2")
    code, out, lines = run(capsys, "check", contract)
    assert code == 0 and "1 warning" in out
    assert lines == [unfit] == logged({"BACKSMITH_BASE_PATH": "/v2"})


def test_columns_the_server_fills_need_no_property() -> None:
    """The owner's column (from the caller) and the parent's key of a nested create (from the
    path) are filled on create: no "NOT NULL without a default" for them, only for a column
    nothing fills."""
    folder = ROOT / "tests" / "fixtures" / "consistency"
    model = api.load_model(folder / "api.yaml", folder / "schema.dbml")
    missing = [w for w in model.warnings if "NOT NULL without a default" in w]
    assert len(missing) == 1, missing
    assert "column comments.rating is NOT NULL" in missing[0]
