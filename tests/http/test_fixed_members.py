"""Fixed members beside an answer's rows, over HTTP: one reading for success envelopes and for
write answers that wrap the row's key (model/fixed_members.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import served, write_file

from backsmith.api import load_model
from backsmith.verify.describe import describe

pytestmark = pytest.mark.anyio

CONTRACT = """\
openapi: 3.1.0
info: {title: Notes, version: "1"}
paths:
  /notes:
    get:
      operationId: listNotes
      responses:
        "200":
          description: Notes, beside a fixed status word.
          content:
            application/json:
              schema:
                type: object
                properties:
                  status: {type: string, enum: [ok]}
                  data: {type: array, items: {$ref: "#/components/schemas/Note"}}
    post:
      operationId: createNote
      requestBody:
        required: true
        content:
          application/json:
            schema: {$ref: "#/components/schemas/NoteInput"}
      responses:
        "201":
          description: The note, in a success envelope whose code is the status answered.
          content:
            application/json:
              schema:
                type: object
                required: [success, code, data]
                properties:
                  success: {type: boolean}
                  code: {type: integer, example: 200}
                  message: {type: string, default: Saved, example: OK}
                  data: {$ref: "#/components/schemas/Note"}
components:
  schemas:
    Note:
      type: object
      required: [id, text]
      properties:
        id: {type: integer, readOnly: true}
        text: {type: string}
    NoteInput:
      type: object
      required: [text]
      properties:
        text: {type: string}
"""


async def test_fixed_members_are_answered_from_the_schema_and_the_status(
    tmp_path: Path, database_url: str
) -> None:
    model = load_model(write_file(tmp_path, "notes.yaml", CONTRACT))
    # The model says what each fixed member is answered with, the status included.
    described = {op["operation_id"]: op for op in describe(model)["operations"]}
    assert 'fixed success=true, code=201, message="Saved"' in described["createNote"]["notes"]
    assert 'fixed status="ok"' in described["listNotes"]["notes"]
    async with served(model, database_url) as client:
        created = await client.post("/notes", json={"text": "milk"})
        assert created.status_code == 201, created.text
        body = created.json()
        # A flag is true, an integer code the status answered (not its example), a message
        # its default (what the server says when it says nothing else).
        assert body == {
            "success": True,
            "code": 201,
            "message": "Saved",
            "data": {"id": body["data"]["id"], "text": "milk"},
        }
        listed = await client.get("/notes")
        assert listed.status_code == 200, listed.text
        assert listed.json() == {"status": "ok", "data": [body["data"]]}
