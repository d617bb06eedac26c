"""A 401's `WWW-Authenticate` names the schemes the operation accepts, one challenge each.

`Bearer` for tokens (or the contract's own word, `Token`), `Basic realm=...`, and `ApiKey`
naming where the key goes; a scheme this version cannot verify is still named when it is
all the operation accepts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jwt
import pytest
from conftest import FIXTURES, served
from conftest import write_file as write
from test_relations import EARTHSEA, book, seed

from backsmith.api import load_model
from backsmith.model.types import Model

pytestmark = pytest.mark.anyio

SECRET = "challenge-test-secret-of-at-least-32-bytes"

CONTRACT = """\
openapi: 3.1.0
info: {title: Notes, version: "1"}
paths:
  /notes:
    get:
      operationId: listNotes
      security: [{bearer: []}, {key: []}]
      responses:
        "200":
          description: Notes.
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Note"}}
    post:
      operationId: createNote
      security: [{basic: []}, {digest: []}]
      requestBody:
        content: {application/json: {schema: {$ref: "#/components/schemas/Note"}}}
      responses:
        "201":
          description: Created.
          content: {application/json: {schema: {$ref: "#/components/schemas/Note"}}}
  /notes/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: integer}}
    get:
      operationId: getNote
      security: [{key: [], bearer: []}]
      responses:
        "200":
          description: One note.
          content: {application/json: {schema: {$ref: "#/components/schemas/Note"}}}
    put:
      operationId: replaceNote
      security: [{digest: []}]
      requestBody:
        content: {application/json: {schema: {$ref: "#/components/schemas/Note"}}}
      responses:
        "200":
          description: Replaced.
          content: {application/json: {schema: {$ref: "#/components/schemas/Note"}}}
    delete:
      operationId: deleteNote
      security: [{basic: []}]
      responses:
        "204": {description: Gone.}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
    key: {type: apiKey, in: header, name: X-API-Key}
    basic: {type: http, scheme: basic}
    digest: {type: http, scheme: digest}
  schemas:
    Note:
      type: object
      properties:
        id: {type: integer, readOnly: true}
        text: {type: string}
"""


@pytest.fixture(scope="module")
def notes(tmp_path_factory: pytest.TempPathFactory) -> Model:
    return load_model(write(tmp_path_factory.mktemp("notes"), "api.yaml", CONTRACT))


def sqlite(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


@pytest.mark.parametrize(
    ("method", "path", "challenge"),
    [
        # Alternatives: one challenge each, in the contract's order.
        ("GET", "/notes", 'Bearer, ApiKey in="header", name="x-api-key"'),
        # Both schemes required together: both named.
        ("GET", "/notes/1", 'ApiKey in="header", name="x-api-key", Bearer'),
        # Schemes this version cannot verify (basic without built-in accounts, digest):
        # refused all the same, and named, never a Bearer the operation does not take.
        ("POST", "/notes", 'Basic realm="backsmith", Digest'),
        ("PUT", "/notes/1", "Digest"),
        ("DELETE", "/notes/1", 'Basic realm="backsmith"'),
    ],
)
async def test_the_challenge_names_the_schemes_the_operation_accepts(
    notes: Model, tmp_path: Path, method: str, path: str, challenge: str
) -> None:
    async with served(notes, sqlite(tmp_path), jwt_secret=SECRET) as client:
        response = await client.request(method, path, json={"text": "x"})
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == challenge


# The relations fixture's wishlist, with its callers named by a DRF-style `Token` JWT.
RELATIONS = FIXTURES / "relations"
DRF = (
    "drf: {type: apiKey, in: header, name: Authorization, "
    "x-backsmith: {format: jwt, prefix: Token}}"
)


def drf_relations(tmp_path: Path, secured: bool) -> Model:
    text = (RELATIONS / "api.yaml").read_text(encoding="utf-8")
    text = text.replace("bearer: {type: http, scheme: bearer, bearerFormat: JWT}", DRF)
    declared = "      security: [{bearer: []}]\n"
    text = text.replace(declared, declared.replace("bearer", "drf") if secured else "")
    write(tmp_path, "schema.dbml", (RELATIONS / "schema.dbml").read_text(encoding="utf-8"))
    return load_model(write(tmp_path, "api.yaml", text), tmp_path / "schema.dbml")


def as_drf_user(sub: Any) -> dict[str, str]:
    claims = {"sub": str(sub), "exp": 4102444800}
    return {"Authorization": f"Token {jwt.encode(claims, SECRET, algorithm='HS256')}"}


@pytest.mark.parametrize("secured", [True, False])
async def test_acting_for_the_caller_challenges_with_the_contracts_scheme(
    tmp_path: Path, secured: bool
) -> None:
    model = drf_relations(tmp_path, secured)
    async with served(model, sqlite(tmp_path), jwt_secret=SECRET) as client:
        await seed(client)
        await book(client, EARTHSEA)
        path = "/books/a-wizard-of-earthsea/wishlist"
        anonymous = await client.post(path)
        assert anonymous.status_code == 401
        assert anonymous.headers["www-authenticate"] == "Token"
        stranger = await client.post(path, headers=as_drf_user(99))  # no such user
        assert stranger.status_code == 401
        assert stranger.headers["www-authenticate"] == 'Token error="invalid_token"'
        mine = await client.post(path, headers=as_drf_user(1))
        assert mine.status_code == 200, mine.text
