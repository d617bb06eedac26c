"""OpenAPI 3.1 references by `$id` and `$anchor` inside one document.

`tests/fixtures/identifiers/api.yaml` names its schemas every way JSON Schema 2020-12
allows: by a schema's URI, relative to the enclosing `$id`, by a pointer inside a schema
resource, and by anchor name. Bundling turns each into the JSON pointer of its target.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from conftest import CORPUS, FIXTURES, needs_shared
from conftest import write_file as write

from backsmith.api import load_model
from backsmith.contract.load import load_contract
from backsmith.contract.refs import resolve_pointer
from backsmith.contract.validate import validate_openapi
from backsmith.errors import ContractError

SHELF = FIXTURES / "identifiers" / "api.yaml"
MEDIA = "content/application~1json/schema"


def at(document: dict[str, Any], pointer: str) -> Any:
    return resolve_pointer(document, pointer)


def test_a_schemas_uri_names_the_schema_that_declares_it() -> None:
    document = load_contract(SHELF).document
    book = {"$ref": "#/components/schemas/Book"}
    assert at(document, f"/paths/~1books/post/requestBody/{MEDIA}") == book
    assert at(document, f"/paths/~1books/get/responses/200/{MEDIA}/items") == book
    # The URI with an empty fragment names the same schema.
    assert at(document, f"/paths/~1books~1{{id}}/get/responses/200/{MEDIA}") == book


def test_references_inside_a_schema_resource_resolve_against_its_id() -> None:
    properties = at(load_contract(SHELF).document, "/components/schemas/Book/properties")
    assert properties["isbn"] == {"$ref": "#/components/schemas/Isbn"}  # `isbn` beside $id
    assert properties["format"] == {"$ref": "#/components/schemas/Book/$defs/format"}
    # A pointer the resource does not hold keeps its plain reading: the document's.
    assert properties["title"] == {"$ref": "#/components/schemas/Title"}


def test_anchors_name_schemas() -> None:
    document = load_contract(SHELF).document
    author = {"$ref": "#/components/schemas/Author"}
    assert at(document, f"/paths/~1authors/post/requestBody/{MEDIA}") == author
    name = at(document, "/components/schemas/Author/properties/name")
    assert name == {"$ref": "#/components/schemas/Name"}


def test_the_bundled_document_holds_pointers_only_and_still_validates() -> None:
    contract = load_contract(SHELF)
    schemas = contract.document["components"]["schemas"]
    # Every reference is a pointer now: a $id left in would re-base them.
    assert all("$id" not in s and "$anchor" not in s for s in schemas.values())
    validate_openapi(contract)


def test_the_model_reads_the_schemas_behind_the_references() -> None:
    model = load_model(SHELF)
    books = model.resources["books"]
    assert [f.name for f in books.fields] == ["id", "title", "isbn", "format", "author_id"]
    fmt = books.field("format")
    assert fmt is not None and fmt.enum == ("paperback", "hardcover")
    assert {op.operation_id: op.resource for op in model.operations} == {
        "listBooks": "books",
        "createBook": "books",
        "getBook": "books",
        "createAuthor": "authors",
    }


ANCHORLESS = """\
openapi: {version}
info: {{title: T, version: "1"}}
paths: {{}}
components:
  schemas:
    Book:
      type: object
      properties:
        title: {{$ref: "#title"}}
"""


@pytest.mark.parametrize("version", ["3.1.0", "3.0.3"])
def test_an_anchor_nothing_declares_is_unresolvable(tmp_path: Path, version: str) -> None:
    path = write(tmp_path, "api.yaml", ANCHORLESS.format(version=version))
    with pytest.raises(ContractError) as caught:
        validate_openapi(load_contract(path))
    (issue,) = caught.value.issues
    assert (issue.line, issue.pointer) == (9, "/components/schemas/Book/properties/title")
    assert issue.message == "unresolvable $ref '#title'"


def test_an_id_in_openapi_3_0_is_not_a_keyword(tmp_path: Path) -> None:
    text = ANCHORLESS.format(version="3.0.3").replace(
        '{$ref: "#title"}', '{$ref: "https://example.com/title"}'
    )
    text += "    Title:\n      $id: https://example.com/title\n      type: string\n"
    with pytest.raises(ContractError) as caught:
        load_contract(write(tmp_path, "api.yaml", text))
    assert "remote $ref 'https://example.com/title' is not fetched" in str(caught.value)


def test_an_id_in_an_example_names_nothing(tmp_path: Path) -> None:
    text = ANCHORLESS.format(version="3.1.0").replace(
        '{$ref: "#title"}', '{$ref: "https://example.com/title"}'
    )
    text += "      example: {$id: https://example.com/title}\n"
    with pytest.raises(ContractError) as caught:
        load_contract(write(tmp_path, "api.yaml", text))
    assert "remote $ref 'https://example.com/title' is not fetched" in str(caught.value)


@needs_shared
def test_the_corpus_petstore_31_resolves_its_anchor_reference() -> None:
    # It names `PetDetails` by `$id` and an `$anchor`; what remains are its own defects
    # (an unquoted `#` that YAML reads as a comment, a `$vocabulary` string).
    path = CORPUS / "openapi" / "oas31" / "swagger-petstore-31.yaml"
    contract = load_contract(path)
    pet = contract.document["components"]["schemas"]["Pet"]["properties"]
    assert pet["petDetailsId"] == {"$ref": "#/components/schemas/PetDetails/properties/id"}
    with pytest.raises(ContractError) as caught:
        validate_openapi(contract)
    assert all("invalid OpenAPI" in issue.message for issue in caught.value.issues)
