"""Security schemes as declared: requirements, alternatives, scopes, prefixes, gaps."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from conftest import served, start_app, write_file

from backsmith.api import load_model
from backsmith.cli import main
from backsmith.errors import ContractError
from backsmith.http.exposure import ExposureRefused
from backsmith.model.types import Model

pytestmark = pytest.mark.anyio

SECRET = "another-test-secret-of-32-bytes-or-more"

CONTRACT = """
openapi: 3.1.0
info: {title: Notes, version: '1'}
security: [{oauth: [notes:read]}]
paths:
  /notes:
    get:
      operationId: listNotes
      security: [{oauth: [notes:read]}, {drf: []}]
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {type: array, items: {$ref: '#/components/schemas/Note'}}
    post:
      operationId: createNote
      security: [{oauth: [notes:write]}]
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: '#/components/schemas/Note'}}}
      responses:
        '201':
          description: created
          content: {application/json: {schema: {$ref: '#/components/schemas/Note'}}}
  /notes/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: integer}}
    get:
      operationId: getNote
      security: []
      responses:
        '200':
          description: ok
          content: {application/json: {schema: {$ref: '#/components/schemas/Note'}}}
    delete:
      operationId: deleteNote
      security: [{basic: []}]
      responses:
        '204': {description: gone}
components:
  securitySchemes:
    oauth:
      type: oauth2
      flows:
        clientCredentials:
          tokenUrl: https://id.example/token
          scopes: {notes:read: read, notes:write: write}
    drf:
      type: apiKey
      in: header
      name: Authorization
      x-backsmith: {format: jwt, prefix: Token}
    basic: {type: http, scheme: basic}
  schemas:
    Note:
      type: object
      properties:
        id: {type: integer, readOnly: true}
        text: {type: string}
"""


@pytest.fixture(scope="module")
def notes(tmp_path_factory: pytest.TempPathFactory) -> Model:
    return load_model(write_file(tmp_path_factory.mktemp("notes"), "notes.yaml", CONTRACT))


def token(**claims: Any) -> str:
    return jwt.encode({"sub": "u1", "exp": int(time.time()) + 600, **claims}, SECRET)


async def test_scopes_alternatives_and_public_operations(notes: Model, database_url: str) -> None:
    reader = {"Authorization": f"Bearer {token(scope='notes:read')}"}
    writer = {"Authorization": f"Bearer {token(scp=['notes:read', 'notes:write'])}"}
    drf = {"Authorization": f"Token {token()}"}
    async with served(notes, database_url, jwt_secret=SECRET) as client:
        denied = await client.post("/notes", json={"text": "x"}, headers=reader)
        assert denied.status_code == 403 and "notes:write" in denied.json()["detail"]
        created = await client.post("/notes", json={"text": "x"}, headers=writer)
        assert created.status_code == 201, created.text
        assert (await client.get("/notes", headers=reader)).status_code == 200
        assert (await client.get("/notes", headers=drf)).status_code == 200  # the other choice
        anonymous = await client.get("/notes")
        assert anonymous.status_code == 401
        assert anonymous.headers["www-authenticate"] == "Bearer, Token"
        bad = await client.get("/notes", headers={"Authorization": "Token nope"})
        assert bad.headers["www-authenticate"] == 'Token error="invalid_token"'
        note = created.json()["id"]
        assert (await client.get(f"/notes/{note}")).status_code == 200  # security: []
        # http basic needs accounts this version lacks: never admitted.
        gone = await client.delete(f"/notes/{note}", headers=writer)
        assert gone.status_code == 401


def test_operations_that_cannot_be_secured_are_named(notes: Model) -> None:
    assert len(notes.security_gaps) == 1
    gap = notes.security_gaps[0]
    assert "DELETE /notes/{id} cannot be secured as declared" in gap
    assert "http basic needs built-in accounts" in gap
    assert "/paths/~1notes~1{id}/delete/security" in gap and "notes.yaml:" in gap


async def test_production_refuses_what_it_cannot_secure(notes: Model, database_url: str) -> None:
    with pytest.raises(ExposureRefused, match="http basic"):
        await start_app(notes, database_url, env="production", jwt_secret=SECRET)


def test_serve_in_production_exits_2_naming_each_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    contract = write_file(tmp_path, "notes.yaml", CONTRACT)
    code = main(["serve", str(contract), "--production", "--database-url", "sqlite://"])
    assert code == 2
    err = capsys.readouterr().err
    assert "refusing to serve in production" in err and "no key is set" in err
    assert "Traceback" not in err


def test_unknown_schemes_and_bad_extensions_are_contract_errors(tmp_path: Path) -> None:
    unknown = CONTRACT.replace("security: [{basic: []}]", "security: [{nobody: []}]")
    model = load_model(write_file(tmp_path, "unknown.yaml", unknown))
    assert "no security scheme 'nobody' is declared" in model.security_gaps[0]
    bad = CONTRACT.replace(
        "operationId: getNote", "operationId: getNote\n      x-backsmith: {roles: []}"
    )
    with pytest.raises(ContractError, match="must list role names"):
        load_model(write_file(tmp_path, "bad.yaml", bad))
    owner = CONTRACT.replace(
        "    Note:\n      type: object\n",
        "    Note:\n      type: object\n      x-backsmith: {owner: nobody}\n",
    )
    with pytest.raises(ContractError, match="owner 'nobody' names no column"):
        load_model(write_file(tmp_path, "owner.yaml", owner))


async def test_a_bad_key_setting_is_a_clear_error(notes: Model, database_url: str) -> None:
    from backsmith.http.tokens import KeyConfigError

    with pytest.raises(KeyConfigError, match="unknown algorithms: HS1"):
        await start_app(notes, database_url, jwt_secret=SECRET, jwt_algorithms="HS1")
    with pytest.raises(KeyConfigError, match="cannot read the JWKS file"):
        await start_app(notes, database_url, jwt_jwks="/nonexistent/jwks.json")
    with pytest.raises(KeyConfigError, match="must be an https URL"):
        await start_app(notes, database_url, jwt_jwks="http://id.example/jwks")
