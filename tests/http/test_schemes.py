"""Security schemes as declared: requirements, alternatives, scopes, prefixes, gaps."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import anyio
import jwt
import pytest
from conftest import served, start_app, write_file

from backsmith.api import load_model
from backsmith.cli import main
from backsmith.errors import ContractError
from backsmith.model.types import Model
from backsmith.security.exposure import ExposureRefused

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
    assert "http basic checks the built-in accounts" in gap
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
    from backsmith.security.tokens import KeyConfigError

    with pytest.raises(KeyConfigError, match="unknown algorithms: HS1"):
        await start_app(notes, database_url, jwt_secret=SECRET, jwt_algorithms="HS1")
    with pytest.raises(KeyConfigError, match="cannot read the JWKS file"):
        await start_app(notes, database_url, jwt_jwks="/nonexistent/jwks.json")
    with pytest.raises(KeyConfigError, match="must be an https URL"):
        await start_app(notes, database_url, jwt_jwks="http://id.example/jwks")


KEYED = """
openapi: 3.1.0
info: {title: Keyed, version: '1'}
security: [{header: []}, {query: []}, {cookie: []}]
paths:
  /notes:
    get:
      operationId: listNotes
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {type: array, items: {$ref: '#/components/schemas/Note'}}
    post:
      operationId: createNote
      security: [{header: [writer]}]
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: '#/components/schemas/Note'}}}
      responses:
        '201':
          description: created
          content: {application/json: {schema: {$ref: '#/components/schemas/Note'}}}
components:
  securitySchemes:
    header: {type: apiKey, in: header, name: X-API-Key}
    query: {type: apiKey, in: query, name: api_key}
    cookie: {type: apiKey, in: cookie, name: session_key}
  schemas:
    Note:
      type: object
      properties:
        id: {type: integer, readOnly: true}
        text: {type: string}
"""


async def _keys(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """The CLI, in a thread: it runs its own event loop."""
    capsys.readouterr()
    code = await anyio.to_thread.run_sync(main, ["keys", *argv])
    return code, capsys.readouterr().out


async def test_api_keys_are_kept_hashed_and_revoked_within_a_second(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    contract = str(write_file(tmp_path, "keyed.yaml", KEYED))
    model = load_model(contract)
    db = ["--database-url", database_url]
    async with served(model, database_url) as client:
        code, out = await _keys(
            capsys, "create", contract, "--subject", "svc-1", "--roles", "writer", *db
        )
        assert code == 0
        key = out.splitlines()[0]
        assert key.startswith("bsk_")
        reader_code, reader_out = await _keys(capsys, "create", contract, "--subject", "svc-2", *db)
        reader = reader_out.splitlines()[0]
        assert (await client.get("/notes", headers={"X-API-Key": key})).status_code == 200
        assert (await client.get("/notes", params={"api_key": key})).status_code == 200
        cookie = {"Cookie": f"session_key={key}"}
        assert (await client.get("/notes", headers=cookie)).status_code == 200
        written = await client.post("/notes", json={"text": "x"}, headers={"X-API-Key": key})
        assert written.status_code == 201
        assert written.headers["cache-control"] == "no-store"  # for this caller only
        denied = await client.post("/notes", json={"text": "x"}, headers={"X-API-Key": reader})
        assert denied.status_code == 403
        forged = key[:-4] + "AAAA"
        bad = await client.get("/notes", headers={"X-API-Key": forged})
        assert bad.status_code == 401
        assert bad.headers["www-authenticate"] == 'ApiKey in="header", name="x-api-key"'
        anonymous = await client.get("/notes")
        assert anonymous.status_code == 401
        assert 'ApiKey in="query", name="api_key"' in anonymous.headers["www-authenticate"]

        code, listed = await _keys(capsys, "list", contract, *db)
        assert code == 0 and "svc-1  roles=writer" in listed and "active" in listed
        assert key.split("_", 2)[2] not in listed  # the secret is never shown again
        key_id = key.split("_")[1]
        assert await _keys(capsys, "revoke", contract, key_id, *db) == (0, f"revoked {key_id}\n")
        time.sleep(1.1)  # answers are remembered for a second at most
        assert (await client.get("/notes", headers={"X-API-Key": key})).status_code == 401
        code, listed = await _keys(capsys, "list", contract, *db)
        assert "revoked" in listed
        assert (await _keys(capsys, "revoke", contract, key_id, *db))[0] == 1
        assert reader_code == 0


async def test_keys_need_the_table_an_api_key_scheme_brings(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    contract = str(write_file(tmp_path, "notes.yaml", CONTRACT))
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    code, out = await _keys(capsys, "list", contract, "--database-url", url)
    assert code == 1 and "no backsmith_api_keys table" in out


async def test_a_credential_one_scheme_refuses_may_pass_another(
    tmp_path: Path, database_url: str
) -> None:
    both = KEYED.replace(
        "security: [{header: []}, {query: []}, {cookie: []}]",
        "security: [{header: []}, {bearer: []}]",
    ).replace(
        "    header: {type: apiKey, in: header, name: X-API-Key}",
        "    header: {type: apiKey, in: header, name: Authorization}\n"
        "    bearer: {type: http, scheme: bearer}",
    )
    model = load_model(write_file(tmp_path, "both.yaml", both))
    async with served(model, database_url, jwt_secret=SECRET) as client:
        listed = await client.get("/notes", headers={"Authorization": f"Bearer {token()}"})
        assert listed.status_code == 200, listed.text
        assert listed.headers["cache-control"] == "no-store"
        assert (await client.get("/notes", headers={"Authorization": "junk"})).status_code == 401


OWNED_NOTES = """
openapi: 3.1.0
info: {title: Owned, version: '1'}
security: [{bearer: []}]
paths:
  /notes:
    get:
      operationId: listNotes
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema: {type: array, items: {$ref: '#/components/schemas/Note'}}
    post:
      operationId: createNote
      requestBody:
        required: true
        content: {application/json: {schema: {$ref: '#/components/schemas/Note'}}}
      responses:
        '201':
          description: created
          content: {application/json: {schema: {$ref: '#/components/schemas/Note'}}}
components:
  securitySchemes:
    bearer: {type: http, scheme: bearer}
  schemas:
    Note:
      type: object
      x-backsmith: {owner: owner}
      properties:
        id: {type: integer, readOnly: true}
        owner: {type: [string, 'null']}
        text: {type: string}
"""


async def test_an_open_schema_still_refuses_what_the_client_may_not_set(
    tmp_path: Path, database_url: str
) -> None:
    model = load_model(write_file(tmp_path, "owned.yaml", OWNED_NOTES))
    mine = {"Authorization": f"Bearer {token(sub='alice')}"}
    async with served(model, database_url, jwt_secret=SECRET) as client:
        created = await client.post("/notes", json={"text": "x"}, headers=mine)
        assert created.status_code == 201, created.text  # the owner comes from the caller
        assert created.json()["owner"] == "alice"
        for body in ({"text": "x", "id": 9}, {"text": "x", "roles": ["admin"]}):
            refused = await client.post("/notes", json=body, headers=mine)
            assert refused.status_code == 422, refused.text
        other = await client.post("/notes", json={"text": "x", "owner": "bob"}, headers=mine)
        assert other.status_code == 422
        assert [n["id"] for n in (await client.get("/notes", headers=mine)).json()] == [
            created.json()["id"]
        ]


async def test_a_supplied_owner_can_be_ignored_instead(tmp_path: Path, database_url: str) -> None:
    lenient = OWNED_NOTES.replace(
        "x-backsmith: {owner: owner}", "x-backsmith: {owner: owner, supplied-owner: ignore}"
    )
    model = load_model(write_file(tmp_path, "lenient.yaml", lenient))
    mine = {"Authorization": f"Bearer {token(sub='alice')}"}
    async with served(model, database_url, jwt_secret=SECRET) as client:
        created = await client.post("/notes", json={"text": "x", "owner": "bob"}, headers=mine)
        assert created.status_code == 201 and created.json()["owner"] == "alice"


async def test_keys_from_a_jwks_url_and_no_secret_in_the_logs(
    notes: Model, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    entry = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    published = json.dumps({"keys": [{**entry, "kid": "k1", "alg": "RS256"}]}).encode()

    class Keys(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.end_headers()
            self.wfile.write(published)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Keys)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    claims = {"sub": "u1", "exp": int(time.time()) + 600, "scope": "notes:read"}
    signed = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
    try:
        with caplog.at_level("DEBUG"):
            async with served(notes, database_url, jwt_jwks=url, jwt_secret=SECRET) as client:
                listed = await client.get("/notes", headers={"Authorization": f"Bearer {signed}"})
                assert listed.status_code == 200, listed.text
                await client.get("/notes", headers={"Authorization": "Bearer not.a.token"})
    finally:
        server.shutdown()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert signed not in logged and SECRET not in logged


async def test_schemes_required_together_must_name_one_caller(
    tmp_path: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    together = KEYED.replace(
        "security: [{header: []}, {query: []}, {cookie: []}]",
        "security: [{header: [], bearer: []}]",
    ).replace(
        "    query: {type: apiKey, in: query, name: api_key}",
        "    query: {type: apiKey, in: query, name: api_key}\n"
        "    bearer: {type: http, scheme: bearer}",
    )
    contract = str(write_file(tmp_path, "together.yaml", together))
    model = load_model(contract)
    db = ["--database-url", database_url]
    async with served(model, database_url, jwt_secret=SECRET) as client:
        _, out = await _keys(capsys, "create", contract, "--subject", "u1", *db)
        key = out.splitlines()[0]
        same = {"X-API-Key": key, "Authorization": f"Bearer {token(sub='u1')}"}
        other = {"X-API-Key": key, "Authorization": f"Bearer {token(sub='u2')}"}
        assert (await client.get("/notes", headers=same)).status_code == 200
        assert (await client.get("/notes", headers=other)).status_code == 401
        assert (await client.get("/notes", headers={"X-API-Key": key})).status_code == 401
