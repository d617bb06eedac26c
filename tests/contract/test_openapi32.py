"""OpenAPI 3.2 contracts: served as 3.1 ones are, and what 3.2 adds said at its pointer.

The QUERY method, `additionalOperations` and streamed bodies are warnings (the rest is
served); an `in: querystring` parameter is an error; `$self`, the new tag and response
fields, examples' `dataValue`, the device flow change nothing served.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import served
from conftest import write_file as write

from backsmith.api import check, load_model
from backsmith.cli import main
from backsmith.contract.load import load_contract
from backsmith.contract.validate import validate_openapi
from backsmith.errors import ContractError

NOTES = """\
openapi: 3.2.0
$self: https://example.com/notes/openapi.yaml
info: {title: Notes, version: "1", summary: short notes}
tags:
  - {name: notes, summary: Notes, kind: nav}
  - {name: archive, summary: Old notes, parent: notes, kind: nav}
security: [{device: []}]
paths:
  /notes:
    get:
      operationId: listNotes
      tags: [notes]
      security: []
      responses:
        "200":
          summary: the notes
          description: the notes, newest first
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Note"}}
    post:
      operationId: createNote
      security: []
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/Note"}
            examples:
              short: {dataValue: {text: hi}, serializedValue: '{"text": "hi"}'}
      responses:
        "201":
          summary: made
          content:
            application/json: {$ref: "#/components/mediaTypes/Note"}
  /notes/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: integer}}
    get:
      operationId: getNote
      security: []
      deprecated: false
      responses:
        "200":
          description: one note
          content:
            application/json: {$ref: "#/components/mediaTypes/Note"}
        "404": {description: no such note}
components:
  mediaTypes:
    Note:
      schema: {$ref: "#/components/schemas/Note"}
  schemas:
    Note:
      type: object
      required: [text]
      properties:
        id: {type: integer, readOnly: true}
        text: {type: string, minLength: 1}
  securitySchemes:
    device:
      type: oauth2
      deprecated: false
      oauth2MetadataUrl: https://example.com/.well-known/oauth-authorization-server
      flows:
        deviceAuthorization:
          deviceAuthorizationUrl: https://example.com/device
          tokenUrl: https://example.com/token
          scopes: {}
"""

UNSERVED = """\
openapi: 3.2.0
info: {title: Notes, version: "1"}
paths:
  /notes:
    get:
      operationId: listNotes
      responses:
        "200":
          description: the notes
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Note"}}
    query:
      operationId: searchNotes
      requestBody:
        content:
          application/json:
            schema: {type: object, properties: {text: {type: string}}}
      responses:
        "200":
          description: the notes found
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Note"}}
    additionalOperations:
      LINK:
        operationId: linkNotes
        responses: {"204": {description: linked}}
  /notes/feed:
    get:
      operationId: followNotes
      responses:
        "200":
          description: each new note as it is written
          content:
            text/event-stream:
              itemSchema:
                type: object
                properties:
                  data: {type: string}
components:
  schemas:
    Note:
      type: object
      properties:
        id: {type: integer, readOnly: true}
        text: {type: string}
"""


def line_of(text: str, needle: str, after: str = "") -> int:
    """The 1-based line of the first `needle` after the line holding `after`."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i in range(start, len(lines)) if needle in lines[i]) + 1


def test_a_32_contract_is_read_validated_and_mapped_as_31_is(tmp_path: Path) -> None:
    path = write(tmp_path, "notes.yaml", NOTES)
    contract = load_contract(path)
    validate_openapi(contract)
    assert contract.version == "3.2"
    model = load_model(path)
    assert model.openapi_version == "3.2"
    kinds = {op.operation_id: (op.kind, op.resource) for op in model.operations}
    assert kinds == {
        "listNotes": ("list", "notes"),
        "createNote": ("create", "notes"),
        "getNote": ("read", "notes"),
    }
    assert model.warnings == ()
    assert model.document["$self"] == "https://example.com/notes/openapi.yaml"


def test_reusable_media_types_are_copied_where_they_are_used(tmp_path: Path) -> None:
    path = write(tmp_path, "notes.yaml", NOTES)
    contract = load_contract(path)
    answer = contract.document["paths"]["/notes/{id}"]["get"]["responses"]["200"]["content"]
    assert answer == {"application/json": {"schema": {"$ref": "#/components/schemas/Note"}}}
    pointer = "/paths/~1notes~1{id}/get/responses/200/content/application~1json/schema"
    assert contract.locate(pointer) == (str(path), line_of(NOTES, "schema:", "mediaTypes:"))


@pytest.mark.anyio
async def test_a_32_contract_creates_and_reads_rows(tmp_path: Path) -> None:
    model = load_model(write(tmp_path, "notes.yaml", NOTES))
    async with served(model, f"sqlite:///{tmp_path / 'notes.db'}") as client:
        made = await client.post("/notes", json={"text": "buy milk"})
        assert (made.status_code, made.json()) == (201, {"id": 1, "text": "buy milk"})
        read = await client.get("/notes/1")
        assert (read.status_code, read.json()) == (200, {"id": 1, "text": "buy milk"})
        assert (await client.post("/notes", json={"text": ""})).status_code in (400, 422)
        published = (await client.get("/openapi.json")).json()
        assert published["openapi"] == "3.2.0" and published["tags"][1]["parent"] == "notes"


def test_query_additional_operations_and_streams_are_warnings_at_their_pointers(
    tmp_path: Path,
) -> None:
    path = write(tmp_path, "notes.yaml", UNSERVED)
    warnings = load_model(path).warnings
    query, link, stream = (w for w in warnings if "not served" in w or "stream" in w)
    searched = line_of(UNSERVED, "operationId: searchNotes")
    assert query.startswith(
        f"{path}:{searched}: warning at #/paths/~1notes/query: "
        "QUERY /notes (searchNotes) is not served: backsmith routes GET, PUT, POST, DELETE, "
        "PATCH, HEAD, OPTIONS, TRACE, so a QUERY request is refused"
    )
    assert link.startswith(
        f"{path}:{line_of(UNSERVED, 'operationId: linkNotes')}: warning at "
        "#/paths/~1notes/additionalOperations/LINK: LINK /notes (linkNotes) is not served"
    )
    media = "#/paths/~1notes~1feed/get/responses/200/content/text~1event-stream"
    assert stream.startswith(
        f"{path}:{line_of(UNSERVED, 'itemSchema:')}: warning at {media}: GET /notes/feed answers "
        "text/event-stream as a stream of items: backsmith sends and reads whole bodies"
    )


def test_check_prints_the_warnings_and_serves_the_rest(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "notes.yaml", UNSERVED)
    assert main(["check", str(path)]) == 0
    out, err = capsys.readouterr()
    assert "#/paths/~1notes/query: QUERY /notes (searchNotes) is not served" in err
    assert out.startswith(f"{path}: OpenAPI 3.2, 2 operations (1 CRUD, 1 needs a handler)")
    report = check(path)
    assert [op.operation_id for op in report.crud] == ["listNotes"]


@pytest.mark.anyio
async def test_a_query_request_is_refused(tmp_path: Path) -> None:
    model = load_model(write(tmp_path, "notes.yaml", UNSERVED))
    async with served(model, f"sqlite:///{tmp_path / 'notes.db'}") as client:
        assert (await client.get("/notes")).status_code == 200
        searched = await client.request("QUERY", "/notes", json={"text": "milk"})
        assert searched.status_code == 405
        assert (await client.request("LINK", "/notes")).status_code == 405


def test_a_querystring_parameter_is_an_error_at_its_pointer(tmp_path: Path) -> None:
    text = NOTES.replace(
        '      security: []\n      responses:\n        "200":\n          summary: the notes',
        "      security: []\n"
        "      parameters:\n"
        "        - name: filter\n"
        "          in: querystring\n"
        "          content:\n"
        "            application/x-www-form-urlencoded:\n"
        "              schema: {type: object, properties: {text: {type: string}}}\n"
        "      responses:\n"
        '        "200":\n'
        "          summary: the notes",
        1,
    )
    path = write(tmp_path, "notes.yaml", text)
    with pytest.raises(ContractError) as caught:
        load_model(path)
    [issue] = [i.render() for i in caught.value.issues]
    assert issue == (
        f"{path}:{line_of(text, '- name: filter')}: error at #/paths/~1notes/get/parameters/0: "
        "parameter 'filter' is in: querystring (OpenAPI 3.2), the whole query string as one "
        "value, which backsmith cannot check requests against; fix: declare each query "
        "parameter on its own, with in: query"
    )


def test_32_documents_are_checked_against_the_32_schema(tmp_path: Path) -> None:
    broken = NOTES.replace(
        "kind: nav}\n  - {name: archive", "kind: nav, level: 1}\n  - {name: archive"
    )
    path = write(tmp_path, "notes.yaml", broken)
    with pytest.raises(ContractError) as caught:
        validate_openapi(load_contract(path))
    [issue] = caught.value.issues
    assert (issue.line, issue.pointer) == (line_of(broken, "level: 1"), "/tags/0")
    # What 3.2 adds is no part of 3.1: a 3.1 document with an itemSchema is refused.
    head, rest = UNSERVED.replace("openapi: 3.2.0", "openapi: 3.1.0").split("    query:\n")
    older = head + "  /notes/feed:\n" + rest.split("  /notes/feed:\n")[1]
    with pytest.raises(ContractError) as caught:
        validate_openapi(load_contract(write(tmp_path, "older.yaml", older)))
    assert "itemSchema" in caught.value.issues[0].message


def test_anchors_resolve_in_32_as_in_31(tmp_path: Path) -> None:
    text = NOTES.replace(
        'schema: {$ref: "#/components/schemas/Note"}\n            examples:',
        'schema: {$ref: "#note"}\n            examples:',
    ).replace("    Note:\n      type: object", "    Note:\n      $anchor: note\n      type: object")
    contract = load_contract(write(tmp_path, "notes.yaml", text))
    body = contract.document["paths"]["/notes"]["post"]["requestBody"]["content"]
    assert body["application/json"]["schema"] == {"$ref": "#/components/schemas/Note"}
