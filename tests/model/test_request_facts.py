"""Facts the model reads from raw schemas once, so HTTP and storage never read them."""

from __future__ import annotations

from pathlib import Path

import orjson
from conftest import write_file as write

from backsmith.api import load_model
from backsmith.contract.load import load_contract
from backsmith.model.types import BodyFacts, ParamLocation, ParamRole

API = """\
openapi: 3.0.3
info: {title: Shop, version: "1"}
paths:
  /books:
    get:
      operationId: listBooks
      parameters:
        - {name: tags, in: query, schema: {type: array, items: {type: integer}}}
        - {name: limit, in: query, schema: {$ref: '#/components/schemas/Limit'}}
      responses:
        "200":
          description: ok
          content:
            application/json: {schema: {type: array, items: {$ref: '#/components/schemas/Book'}}}
    post:
      operationId: createBook
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: '#/components/schemas/BookWrapper'}}}
      responses:
        "201":
          description: made
          content: {application/json: {schema: {$ref: '#/components/schemas/Book'}}}
components:
  schemas:
    Limit: {type: integer, minimum: 1, maximum: 50, default: 20, nullable: true}
    Book:
      type: object
      required: [id, title]
      properties:
        id: {type: integer, readOnly: true}
        title: {type: string, maxLength: 80}
    BookWrapper:
      type: object
      properties:
        book: {$ref: '#/components/schemas/Book'}
"""


def test_parameters_carry_their_decoding_and_validation(tmp_path: Path) -> None:
    model = load_model(write(tmp_path, "api.yaml", API))
    listing = next(op for op in model.operations if op.operation_id == "listBooks")
    tags, limit = listing.params
    assert tags.location == ParamLocation.QUERY == "query"
    assert tags.types == {"array"} and tags.item_types == {"integer"}
    assert limit.role == ParamRole.LIMIT == "limit"
    assert limit.types == {"integer"} and limit.default == 20
    assert limit.validation is not None
    assert limit.validation["$ref"] == "#/$defs/Limit"
    # converted from OpenAPI 3.0: nullable becomes a type list
    assert limit.validation["$defs"]["Limit"]["type"] == ["integer", "null"]


def test_a_write_carries_its_body_schema_and_fields_inside_the_wrapper(tmp_path: Path) -> None:
    model = load_model(write(tmp_path, "api.yaml", API))
    create = next(op for op in model.operations if op.operation_id == "createBook")
    assert create.body_wrapper == "book"
    assert create.body_fields == BodyFacts(frozenset({"id", "title"}), frozenset({"id"}), None)
    assert create.body_validation is not None
    # request direction: a readOnly property is not required
    assert create.body_validation["$defs"]["Book"]["required"] == ["title"]


def test_the_published_document_is_the_contract(tmp_path: Path) -> None:
    path = write(tmp_path, "api.yaml", API)
    model = load_model(path)
    assert orjson.loads(model.published_openapi) == load_contract(path).document
