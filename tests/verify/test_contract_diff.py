"""Contract changes to operations, parameters, bodies, responses and security, each made
by editing a small contract and classified as the rules say: exactly these rule ids at
these levels, nothing missed and nothing extra."""

from __future__ import annotations

from pathlib import Path

import pytest
from contract_changes import (
    BOOK,
    CREATE,
    DELETE,
    INPUT,
    LIMIT,
    NEW_OPERATION,
    SHOP,
    Edit,
    assert_classified,
    case,
    diff,
    inline_input,
    move,
    ok,
    rename_id,
)

from backsmith.contract.source import parse_text
from backsmith.verify.diff.rules import BREAKING, INFO, WARNING, Level

ITEM = "/paths/~1books~1{id}"
Q = {"name": "q", "in": "query", "required": True, "schema": {"type": "string"}}
TRACE = {"name": "X-Trace", "in": "header", "schema": {"type": "string"}}
XML = {"schema": {"type": "object"}}
API_KEY = {"type": "apiKey", "in": "header", "name": "X-Key"}
ALWAYS = {"required": True, "schema": {"type": "string"}}  # a response header
SOMETIMES = {"schema": {"type": "string"}}

OPERATIONS = [
    case(
        "path removed",
        {"api-path-removed-without-deprecation": BREAKING},
        ("/paths/~1authors", DELETE),
    ),
    case(
        "deprecated path removed",
        {"api-path-removed-with-deprecation": INFO},
        ("/paths/~1authors", DELETE),
        old=(("/paths/~1authors/get/deprecated", True),),
    ),
    case(
        "operation removed",
        {"api-removed-without-deprecation": BREAKING},
        (f"{ITEM}/delete", DELETE),
    ),
    case("operation added", {"endpoint-added": INFO}, ("/paths/~1authors/post", NEW_OPERATION)),
    case(
        "operation deprecated",
        {"endpoint-deprecated": INFO},
        ("/paths/~1books/get/deprecated", True),
    ),
    case(
        "operationId changed",
        {"api-operation-id-removed": WARNING},
        ("/paths/~1books/get/operationId", "getBooks"),
    ),
    case("path moved", {"api-path-changed": BREAKING}, move("/books/{id}", "/volumes/{id}")),
    case(
        "path moved under a new parameter",
        {"new-request-path-parameter": BREAKING},
        move("/books/{id}", "/shops/{shopId}/books/{id}", SHOP),
    ),
    case("path parameter renamed", {"request-path-param-renamed": WARNING}, rename_id),
    case(
        "server path changed",
        {"api-base-path-changed": BREAKING},
        ("/servers/0/url", "https://api.example.com/v2"),
    ),
]
PARAMETERS = [
    case(
        "required query parameter added",
        {"new-required-request-parameter": BREAKING},
        (f"{LIMIT[:-2]}/1", Q),
    ),
    case(
        "optional header added",
        {"new-optional-request-parameter": INFO},
        (f"{LIMIT[:-2]}/1", TRACE),
    ),
    case("parameter removed", {"request-parameter-removed": WARNING}, (LIMIT, DELETE)),
    case(
        "parameter became required",
        {"request-parameter-became-required": BREAKING},
        (f"{LIMIT}/required", True),
    ),
    case(
        "parameter type changed",
        {"request-parameter-type-changed": BREAKING},
        (f"{LIMIT}/schema/type", "string"),
    ),
    case(
        "parameter maximum lowered",
        {"request-parameter-max-decreased": BREAKING},
        (f"{LIMIT}/schema/maximum", 50),
    ),
    case(
        "parameter maximum raised",
        {"request-parameter-max-increased": INFO},
        (f"{LIMIT}/schema/maximum", 500),
    ),
    case(
        "parameter default set",
        {"request-parameter-default-value-changed": BREAKING},
        (f"{LIMIT}/schema/default", 20),
    ),
    case(
        "parameter explode off",
        {"request-parameter-serialization-changed": BREAKING},
        (f"{LIMIT}/explode", False),
    ),
    case("default style written out", {}, (f"{LIMIT}/style", "form")),
]
BODIES = [
    case(
        "request body removed",
        {"request-body-removed": BREAKING},
        (f"{CREATE}/requestBody", DELETE),
    ),
    case(
        "request body optional",
        {"request-body-became-optional": INFO},
        (f"{CREATE}/requestBody/required", False),
    ),
    case(
        "request media type replaced",
        {"request-body-media-type-removed": BREAKING, "request-body-media-type-added": INFO},
        (f"{CREATE}/requestBody/content/application~1json", DELETE),
        (f"{CREATE}/requestBody/content/application~1xml", XML),
    ),
    case(
        "success status replaced",
        {"response-success-status-removed": BREAKING, "response-success-status-added": INFO},
        (f"{CREATE}/responses/201", DELETE),
        (f"{CREATE}/responses/200", ok("Book")),
    ),
    case(
        "error status removed",
        {"response-non-success-status-removed": INFO},
        (f"{ITEM}/get/responses/404", DELETE),
    ),
    case(
        "response media type replaced",
        {"response-media-type-removed": BREAKING, "response-media-type-added": INFO},
        (f"{ITEM}/get/responses/200/content/application~1json", DELETE),
        (f"{ITEM}/get/responses/200/content/application~1xml", XML),
    ),
    case(
        "required response header removed",
        {"required-response-header-removed": BREAKING},
        old=((f"{ITEM}/get/responses/200/headers", {"ETag": ALWAYS}),),
    ),
    case(
        "required response header removed, written as a $ref",
        {"required-response-header-removed": BREAKING},
        old=(
            ("/components/headers", {"ETag": ALWAYS}),
            (f"{ITEM}/get/responses/200/headers", {"ETag": {"$ref": "#/components/headers/ETag"}}),
        ),
    ),
    case(
        "optional response header removed",
        {"optional-response-header-removed": WARNING},
        old=((f"{ITEM}/get/responses/200/headers", {"X-Hint": SOMETIMES}),),
    ),
    case(
        "response header made optional",
        {"response-header-became-optional": BREAKING},
        (f"{ITEM}/get/responses/200/headers", {"ETag": SOMETIMES}),
        old=((f"{ITEM}/get/responses/200/headers", {"ETag": ALWAYS}),),
    ),
    case(
        "response headers added, renamed in case, or on an error",
        {},
        (
            f"{ITEM}/get/responses/200/headers",
            {"etag": ALWAYS, "X-Hint": SOMETIMES, "Content-Type": ALWAYS},
        ),
        (f"{ITEM}/get/responses/404/headers", {"X-Hint": ALWAYS}),
        old=(
            (f"{ITEM}/get/responses/200/headers", {"ETag": ALWAYS}),
            (f"{ITEM}/get/responses/404/headers", {"X-Gone": ALWAYS}),
        ),
    ),
    case("schema moved inline", {}, inline_input),
    case(
        "prose changed",
        {},
        ("/info/description", "A shop."),
        (f"{BOOK}/properties/title/description", "Its title."),
    ),
]
SECURITY = [
    case(
        "security added to an open operation",
        {"api-security-added": BREAKING},
        ("/paths/~1books/get/security", [{"bearer": []}]),
    ),
    case(
        "security added to the whole contract",
        {"api-security-added": BREAKING},
        ("/security", [{"bearer": []}]),
    ),
    case(
        "security scheme replaced",
        {"api-security-removed": BREAKING, "api-security-alternative-added": INFO},
        (f"{CREATE}/security", [{"oauth": ["books:write"]}]),
    ),
    case(
        "security alternative added",
        {"api-security-alternative-added": INFO},
        (f"{CREATE}/security/1", {"oauth": []}),
    ),
    case(
        "anonymous calls accepted",
        {"api-security-alternative-added": INFO},
        (f"{CREATE}/security/1", {}),
    ),
    case(
        "scope added",
        {"api-security-scope-added": BREAKING},
        (f"{ITEM}/delete/security/0/oauth/1", "books:admin"),
    ),
    case(
        "scope removed",
        {"api-security-scope-removed": INFO},
        (f"{ITEM}/delete/security/0/oauth/0", DELETE),
    ),
    case(
        "scheme became an API key",
        {"api-security-scheme-changed": BREAKING},
        ("/components/securitySchemes/bearer", API_KEY),
    ),
]


@pytest.mark.parametrize(
    ("new_edits", "expected", "old_edits"), OPERATIONS + PARAMETERS + BODIES + SECURITY
)
def test_each_change_is_classified_as_its_rule_says(
    tmp_path: Path, new_edits: list[Edit], expected: dict[str, Level], old_edits: list[Edit]
) -> None:
    assert_classified(tmp_path, new_edits, expected, old_edits)


def test_a_change_points_at_its_line_in_the_new_contract_a_removal_in_the_old(
    tmp_path: Path,
) -> None:
    report = diff(
        tmp_path, [(f"{INPUT}/required", ["title", "genre"]), ("/paths/~1authors", DELETE)]
    )
    by_rule = {change.rule: change for change in report.changes}
    required = by_rule["request-property-became-required"]
    new_lines = parse_text((tmp_path / "new.yaml").read_text(), "new.yaml").lines
    assert required.side == "new" and required.file == str(tmp_path / "new.yaml")
    assert required.pointer == f"{INPUT}/properties/genre"
    assert required.line == new_lines[required.pointer]
    assert required.operation == "POST /books (createBook)"
    removed = by_rule["api-path-removed-without-deprecation"]
    old_lines = parse_text((tmp_path / "old.yaml").read_text(), "old.yaml").lines
    assert removed.side == "old" and removed.file == str(tmp_path / "old.yaml")
    assert (removed.pointer, removed.line) == (
        "/paths/~1authors/get",
        old_lines["/paths/~1authors/get"],
    )
    assert removed.operation == "GET /authors (listAuthors)"


def test_breaking_changes_come_first(tmp_path: Path) -> None:
    report = diff(tmp_path, [("/paths/~1authors/post", NEW_OPERATION), (f"{ITEM}/delete", DELETE)])
    assert [change.level for change in report.changes] == [BREAKING, INFO]


def test_a_raised_major_version_announces_the_breaking_changes(tmp_path: Path) -> None:
    report = diff(tmp_path, [("/paths/~1authors", DELETE), ("/info/version", "2.0.0")])
    assert report.count(BREAKING) == 1 and report.major_raised and not report.refused
    report = diff(tmp_path, [("/paths/~1authors", DELETE), ("/info/version", "1.1.0")])
    assert not report.major_raised and report.refused
