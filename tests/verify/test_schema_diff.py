"""Schema changes in a request body, a response body and down their properties, each made
by editing a small contract: a narrowing breaks what clients send, a widening what they
read, as the rules say."""

from __future__ import annotations

from pathlib import Path

import pytest
from contract_changes import BOOK, DELETE, INPUT, RATING, Edit, assert_classified, case, diff

from backsmith.verify.diff.rules import BREAKING, INFO, WARNING, Level

TITLE, GENRE, PAGES = (
    f"{INPUT}/properties/title",
    f"{INPUT}/properties/genre",
    f"{INPUT}/properties/pages",
)
OUT = f"{BOOK}/properties"
DRAMA = ["novel", "poetry", "drama"]
NOTE_BRANCHES = {
    "oneOf": [{"type": "string"}, {"type": "integer"}],
    "nullable": True,
    "type": "string",
}

REQUESTS = [
    case(
        "required request property added",
        {"new-required-request-property": BREAKING},
        (f"{INPUT}/properties/author", {"type": "string"}),
        (f"{INPUT}/required", ["title", "author"]),
    ),
    case(
        "optional request property added",
        {"new-optional-request-property": INFO},
        (f"{INPUT}/properties/subtitle", {"type": "string"}),
    ),
    case(
        "request property removed",
        {"request-property-removed": WARNING},
        (f"{INPUT}/properties/isbn", DELETE),
    ),
    case(
        "request property became required",
        {"request-property-became-required": BREAKING},
        (f"{INPUT}/required", ["title", "genre"]),
    ),
    case(
        "request property became optional",
        {"request-property-became-optional": INFO},
        (f"{INPUT}/required", DELETE),
    ),
    case(
        "request property became readOnly",
        {"request-property-became-read-only": WARNING},
        (f"{PAGES}/readOnly", True),
    ),
    case(
        "request type changed",
        {"request-property-type-changed": BREAKING},
        (f"{PAGES}/type", "string"),
    ),
    case(
        "request integer became number",
        {"request-property-type-generalized": INFO},
        (f"{PAGES}/type", "number"),
    ),
    case(
        "request format added",
        {"request-property-type-specialized": BREAKING},
        (f"{TITLE}/format", "email"),
    ),
    case(
        "request enum value removed",
        {"request-property-enum-value-removed": BREAKING},
        (f"{GENRE}/enum", ["novel"]),
    ),
    case(
        "request enum value added",
        {"request-property-enum-value-added": INFO},
        (f"{GENRE}/enum", DRAMA),
    ),
    case(
        "request value became an enum",
        {"request-property-became-enum": BREAKING},
        (f"{INPUT}/properties/isbn/enum", ["1-2"]),
    ),
    case(
        "request array items became an enum",
        {"request-property-became-enum": BREAKING},
        (f"{INPUT}/properties/tags/items/enum", ["a"]),
    ),
    case(
        "request maxLength lowered",
        {"request-property-max-length-decreased": BREAKING},
        (f"{TITLE}/maxLength", 100),
    ),
    case(
        "request maxLength removed",
        {"request-property-max-length-increased": INFO},
        (f"{TITLE}/maxLength", DELETE),
    ),
    case(
        "request minimum raised",
        {"request-property-min-increased": BREAKING},
        (f"{PAGES}/minimum", 10),
    ),
    case(
        "request maxItems lowered",
        {"request-property-max-items-decreased": BREAKING},
        (f"{INPUT}/properties/tags/maxItems", 5),
    ),
    case(
        "request pattern added",
        {"request-property-pattern-added": BREAKING},
        (f"{TITLE}/pattern", "^[A-Z]"),
    ),
    case(
        "request closed to properties it does not name",
        {"request-body-additional-properties-forbidden": BREAKING},
        (f"{INPUT}/additionalProperties", False),
    ),
    case(
        "response opened to properties it does not name",
        {  # Book is answered alone, and as the items of a list
            "response-body-additional-properties-allowed": WARNING,
            "response-property-additional-properties-allowed": WARNING,
        },
        old=((f"{BOOK}/additionalProperties", False),),
    ),
    case(
        "additionalProperties as a schema, or true, takes them as leaving it out does",
        {},
        (f"{INPUT}/additionalProperties", {"type": "string"}),
        (f"{BOOK}/additionalProperties", True),
    ),
    case(
        "request uniqueItems set",
        {"request-property-unique-items-set": BREAKING},
        (f"{INPUT}/properties/tags/uniqueItems", True),
    ),
    case(
        "response uniqueItems dropped",
        {"response-property-unique-items-unset": WARNING},
        (f"{BOOK}/properties/tags", {"type": "array", "items": {"type": "string"}}),
        old=(
            (
                f"{BOOK}/properties/tags",
                {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
            ),
        ),
    ),
    case(
        "request pattern changed",
        {"request-property-pattern-changed": WARNING},
        (f"{INPUT}/properties/isbn/pattern", "^[0-9]+$"),
    ),
    case(
        "request null refused",
        {"request-property-became-not-nullable": BREAKING},
        (f"{INPUT}/properties/note/nullable", False),
    ),
    case(
        "request oneOf branch removed, with the type and null",
        {
            "request-property-one-of-removed": BREAKING,
            "request-property-type-generalized": INFO,
            "request-property-became-not-nullable": BREAKING,
        },
        (f"{INPUT}/properties/note", {"oneOf": [{"type": "string"}]}),
        old=((f"{INPUT}/properties/note", NOTE_BRANCHES),),
    ),
    case(
        "the whole request body's type, its properties gone",
        {"request-body-type-changed": BREAKING, "request-property-removed": WARNING},
        ("/paths/~1books/post/requestBody/content/application~1json/schema", {"type": "array"}),
    ),
]
RESPONSES = [
    case(
        "required response property removed",
        {"response-required-property-removed": BREAKING},
        (f"{OUT}/title", DELETE),
        (f"{BOOK}/required", ["id"]),
    ),
    case(
        "optional response property removed",
        {"response-optional-property-removed": WARNING},
        (f"{OUT}/subtitle", DELETE),
    ),
    case(
        "response property became optional",
        {"response-property-became-optional": BREAKING},
        (f"{BOOK}/required", ["id"]),
    ),
    case(
        "response property became required",
        {"response-property-became-required": INFO},
        (f"{BOOK}/required", ["id", "title", "subtitle"]),
    ),
    case(
        "optional response property added",
        {"response-optional-property-added": INFO},
        (f"{OUT}/rating", RATING),
    ),
    case(
        "response property became writeOnly",
        {"response-property-became-write-only": WARNING},
        (f"{OUT}/subtitle/writeOnly", True),
    ),
    case(
        "response enum value added",
        {"response-property-enum-value-added": WARNING},
        (f"{OUT}/genre/enum", DRAMA),
    ),
    case(
        "response enum value removed",
        {"response-property-enum-value-removed": INFO},
        (f"{OUT}/genre/enum", ["novel"]),
    ),
    case(
        "response type changed",
        {"response-property-type-changed": BREAKING},
        (f"{OUT}/id/type", "string"),
    ),
    case(
        "response property may be null",
        {"response-property-became-nullable": BREAKING},
        (f"{OUT}/subtitle/nullable", True),
    ),
    case(
        "response maxLength raised",
        {"response-property-max-length-increased": BREAKING},
        (f"{OUT}/title/maxLength", 300),
    ),
    case(
        "response maxLength lowered",
        {"response-property-max-length-decreased": INFO},
        (f"{OUT}/title/maxLength", 100),
    ),
]


@pytest.mark.parametrize(("new_edits", "expected", "old_edits"), REQUESTS + RESPONSES)
def test_each_schema_change_is_classified_as_its_rule_says(
    tmp_path: Path, new_edits: list[Edit], expected: dict[str, Level], old_edits: list[Edit]
) -> None:
    assert_classified(tmp_path, new_edits, expected, old_edits)


def test_a_shared_schema_change_is_listed_for_each_operation_it_reaches(tmp_path: Path) -> None:
    report = diff(tmp_path, [(f"{OUT}/genre/enum", DRAMA)])
    assert sorted(change.operation_id for change in report.changes) == [
        "createBook",
        "getBook",
        "listBooks",
    ]
    listed = next(c for c in report.changes if c.operation_id == "listBooks")
    assert "'[].genre'" in listed.message  # an item of the array the list answers


def test_a_recursive_schema_is_compared_without_end(tmp_path: Path) -> None:
    children = {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}
    node = {"type": "object", "properties": {"name": {"type": "string"}, "children": children}}
    tree: Edit = (f"{OUT}/tree", {"$ref": "#/components/schemas/Node"})
    report = diff(
        tmp_path,
        [tree, ("/components/schemas/Node", {**node, "required": ["name"]})],
        [tree, ("/components/schemas/Node", node)],
    )
    assert {(c.rule, c.operation_id) for c in report.changes} == {
        ("response-property-became-required", "listBooks"),
        ("response-property-became-required", "createBook"),
        ("response-property-became-required", "getBook"),
    }
