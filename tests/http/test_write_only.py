"""A `writeOnly` property is taken from bodies and stored, and never answered: not by the
create that set it, not by reads or lists (README, Security: mass assignment)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import served, write_file

from backsmith.api import load_model

pytestmark = pytest.mark.anyio

API = """
openapi: 3.1.0
info: {title: Write-only, version: '1'}
paths:
  /things:
    get:
      responses:
        '200':
          description: things
          content:
            application/json: {schema: {type: array, items: {$ref: '#/components/schemas/Thing'}}}
    post:
      x-backsmith: {public: true}
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: '#/components/schemas/Thing'}}}
      responses:
        '201':
          description: made
          content: {application/json: {schema: {$ref: '#/components/schemas/Thing'}}}
  /things/{id}:
    get:
      parameters: [{name: id, in: path, required: true, schema: {type: integer}}]
      responses:
        '200':
          description: one
          content: {application/json: {schema: {$ref: '#/components/schemas/Thing'}}}
components:
  schemas:
    Thing:
      type: object
      properties:
        id: {type: integer, readOnly: true}
        name: {type: string}
        pin: {type: string, writeOnly: true}
"""


async def test_a_write_only_property_is_accepted_and_never_answered(
    tmp_path: Path, database_url: str
) -> None:
    model = load_model(write_file(tmp_path, "api.yaml", API))
    async with served(model, database_url) as client:
        made = await client.post("/things", json={"name": "safe", "pin": "1234"})
        assert (made.status_code, made.json()) == (201, {"id": 1, "name": "safe"})
        assert (await client.get("/things/1")).json() == {"id": 1, "name": "safe"}
        assert (await client.get("/things")).json() == [{"id": 1, "name": "safe"}]
