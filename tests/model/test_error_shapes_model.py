"""Declared error bodies read into shapes: by structure, once per model, located when unfit."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_runs import run
from conftest import CORPUS, FIXTURES, write_file

from backsmith.api import load_model
from backsmith.errors import ContractError
from backsmith.model.error_shapes import (
    Choice,
    Each,
    ErrorAnswers,
    ErrorShape,
    Fields,
    Fill,
    Obj,
    Value,
    shared_answers,
)
from backsmith.model.types import Model, Operation
from backsmith.verify.describe import describe

needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")
APIS = CORPUS / "openapi" / "apis-guru"


def operation(model: Model, operation_id: str) -> Operation:
    return next(op for op in model.operations if op.operation_id == operation_id)


def fills(shape: ErrorShape | None) -> dict[str, object]:
    """The shape as {path: fill}, `[]` marking one item per error, `{}` a field map."""
    assert shape is not None
    found: dict[str, object] = {}

    def walk(node: object, at: str) -> None:
        if isinstance(node, Value):
            found[at] = node.fill
        elif isinstance(node, Obj):
            for member in node.members:
                walk(member.node, f"{at}.{member.name}" if at else member.name)
        elif isinstance(node, Each):
            walk(node.item, f"{at}[]")
        elif isinstance(node, Fields):
            found[at or "."] = {"keys": node.keys, "open": node.open}
        elif isinstance(node, Choice):
            for index, branch in enumerate(node.branches):
                walk(branch, f"{at}|{index}")

    walk(shape.root, "")
    return found


def test_realworld_messages_by_field_under_its_declared_key() -> None:
    model = load_model(FIXTURES / "errors" / "conduit.yaml")
    errors = operation(model, "CreateArticle").errors
    shape = errors.shape_for(422)
    assert fills(shape) == {"errors": {"keys": ("body",), "open": True}}
    assert shape is not None and shape.pointer == "/components/schemas/GenericErrorModel"
    # 401 is declared without a body and 404 not at all: both take the family's shape.
    assert errors.shape_for(401) == errors.shape_for(404) == shape
    assert errors.shape_for(500) is None  # a server fault stays RFC 9457
    assert errors.status_for(409) == 422 and errors.status_for(400) == 422
    assert errors.status_for(404) == 404
    # Every operation declares the same body: the server's own 404 and 405 use it too.
    assert shared_answers(op.errors.family for op in model.operations).family == shape
    described = {op["operation_id"]: op for op in describe(model)["operations"]}
    assert described["CreateArticle"]["errors"] == {
        "422": "application/json #/components/schemas/GenericErrorModel",
        "other": "application/json #/components/schemas/GenericErrorModel",
    }


def test_statuses_stand_in_only_where_the_contract_declares_them() -> None:
    only_400 = ErrorAnswers(statuses=frozenset({400, 404}))
    assert [only_400.status_for(s) for s in (400, 409, 422, 404, 401)] == [400, 400, 400, 404, 401]
    both = ErrorAnswers(statuses=frozenset({409, 422}))
    assert [both.status_for(s) for s in (400, 409, 422)] == [422, 409, 422]
    ranged = ErrorAnswers(statuses=frozenset({422}), ranges=frozenset({"4XX"}))
    assert ranged.status_for(409) == 409  # 4XX declares every client error
    assert ErrorAnswers().status_for(409) == 409  # nothing declared: the natural status


@needs_corpus
def test_corpus_error_bodies_are_read_by_structure() -> None:
    bna = CORPUS / "paired" / "bna-api"
    jsonapi = operation(load_model(bna / "openapi-3.1.yaml", bna / "database.dbml"), "post_city")
    assert fills(jsonapi.errors.shape_for(400)) == {
        "errors[].details": Fill.MESSAGE,
        "errors[].source|0.pointer": Fill.POINTER,
        "errors[].source|1.parameter": Fill.PARAMETER,
        "errors[].status": Fill.STATUS,
        "errors[].title": Fill.TITLE,
    }
    izettle = operation(load_model(APIS / "izettle.com__products.yaml"), "createDiscount")
    assert fills(izettle.errors.shape_for(400)) == {
        "developerMessage": Fill.MESSAGE,
        "errorType": Fill.CODE,
        "violations[].developerMessage": Fill.MESSAGE,
        "violations[].propertyName": Fill.FIELD,
    }
    graph = load_model(APIS / "windows.net__graphrbac.yaml")
    assert fills(graph.operations[0].errors.shape_for(501)) == {  # from `default`
        "odata.error.code": Fill.CODE,
        "odata.error.message.value": Fill.MESSAGE,
    }
    ably = load_model(APIS / "ably.net__control.yaml")
    # Ably's integer `code` is the HTTP status; its required `href` gets the problem type.
    assert fills(operation(ably, "get_accounts_account_id_apps").errors.shape_for(401)) == {
        "code": Fill.STATUS,
        "details": {"keys": (), "open": True},
        "href": Fill.TYPE,
        "message": Fill.MESSAGE,
        "statusCode": Fill.STATUS,
    }
    # Problem documents declared as problem+json stay RFC 9457, whatever their schema.
    train = load_model(CORPUS / "openapi" / "train-travel.yaml")
    assert not any(op.errors.shaped for op in train.operations)


@needs_corpus
def test_check_says_which_declared_errors_stay_problem_json(
    capsys: pytest.CaptureFixture[str],
) -> None:
    contract = CORPUS / "openapi" / "oas31" / "learn__tictactoe.yaml"
    code, _, err = run(capsys, "check", contract)
    assert code == 0
    assert (
        f"{contract}:57: warning at #/paths/~1board~1{{row}}~1{{column}}/get/responses/400: "
        "errors declared as text/html are answered as application/problem+json" in err
    )


CONTRACT = """\
openapi: 3.1.0
info: {title: Notes, version: '1'}
x-backsmith: {errors: ERRORS}
paths:
  /notes:
    post:
      operationId: createNote
      requestBody:
        content: {application/json: {schema: {$ref: '#/components/schemas/Note'}}}
      responses:
        '201':
          description: made
          content: {application/json: {schema: {$ref: '#/components/schemas/Note'}}}
        '422':
          description: invalid
          content:
            application/json:
              schema: {type: object, properties: {message: {type: string}}}
components:
  schemas:
    Note:
      type: object
      properties:
        id: {type: integer, readOnly: true}
        text: {type: string}
"""


def test_errors_problem_keeps_rfc_9457_and_other_values_are_refused(tmp_path: Path) -> None:
    shaped = load_model(write_file(tmp_path, "shaped.yaml", CONTRACT.replace("ERRORS", "contract")))
    assert fills(shaped.operations[0].errors.shape_for(422)) == {"message": Fill.MESSAGE}
    kept = load_model(write_file(tmp_path, "kept.yaml", CONTRACT.replace("ERRORS", "problem")))
    answers = kept.operations[0].errors
    assert not answers.shaped and answers.status_for(409) == 422  # statuses still as declared
    with pytest.raises(ContractError) as raised:
        load_model(write_file(tmp_path, "bad.yaml", CONTRACT.replace("ERRORS", "rfc9457")))
    assert (
        "bad.yaml:3: error at #/x-backsmith/errors: x-backsmith 'errors' must be problem or "
        in (str(raised.value))
    )
