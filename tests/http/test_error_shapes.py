"""Errors answered in the shapes contracts declare, with the statuses they name.

One contract serves the same notes under several prefixes, each declaring the error body
of a real API style; RealWorld (`fixtures/errors/conduit.yaml`) and two corpus contracts
(BNA's JSON:API errors, 1Password Connect's `{status, message}`) are served as they are.
"""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import sqlalchemy as sa
from conftest import CORPUS, FIXTURES, client_for, served, start_app, stop_app, write_file

from backsmith.api import load_model
from backsmith.model.types import Model

pytestmark = pytest.mark.anyio

SECRET = "a-test-secret-for-error-shapes-of-32-bytes"
PROBLEM = "application/problem+json"
CONDUIT = FIXTURES / "errors" / "conduit.yaml"
BNA = CORPUS / "paired" / "bna-api"
ONEPASSWORD = CORPUS / "openapi" / "apis-guru" / "1password.local__connect.yaml"
needs_corpus = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")

DBML = """
Table notes {
  id integer [pk, increment]
  title varchar(100) [not null, unique]
  body text
  created_at timestamptz [not null]
}
"""
NOTE = {
    "type": "object",
    "required": ["id", "title"],
    "properties": {
        "id": {"type": "integer", "readOnly": True},
        "title": {"type": "string", "minLength": 1, "maxLength": 100},
        "body": {"type": "string"},
    },
}
INTEGER = {"type": "integer"}
CODE = {
    "type": "string",
    "enum": ["VALIDATION_ERROR", "NOT_FOUND", "ALREADY_EXISTS", "UNAUTHENTICATED", "INTERNAL"],
}
# Each style: the error responses of its create and of its read, by status.
STYLES: dict[str, dict[str, Any]] = {
    # Google/Stripe-like: one error object with a code from a closed set.
    "coded": {
        "schema": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {"code": CODE, "message": {"type": "string"}},
                }
            },
        },
        "create": ["401", "409", "422"],
        "read": ["404", "500"],
    },
    # A success flag beside the error, and a time stamp.
    "flagged": {
        "schema": {
            "type": "object",
            "required": ["success", "error", "timestamp"],
            "properties": {
                "success": {"type": "boolean"},
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {
                        "code": {"type": "string"},
                        "message": {"type": "string"},
                        "details": {"type": "object"},
                    },
                },
                "timestamp": {"type": "string", "format": "date-time"},
            },
        },
        "create": ["400"],
        "read": ["404"],
    },
    # A message and nothing else.
    "message": {
        "schema": {
            "type": "object",
            "required": ["message"],
            "properties": {"message": {"type": "string"}},
        },
        "create": ["422"],
        "read": ["404"],
    },
    # One error at a time: its message and the field it names.
    "single": {
        "schema": {
            "type": "object",
            "required": ["message"],
            "properties": {"message": {"type": "string"}, "field": {"type": "string"}},
        },
        "create": ["422"],
        "read": ["404"],
    },
    # Django REST framework: field -> messages for invalid input, {"detail"} otherwise.
    "drf": {
        "schema": {"type": "object", "properties": {"detail": {"type": "string"}}},
        "create": {
            "400": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            }
        },
        "read": ["404"],
    },
    # FastAPI's HTTPValidationError.
    "fastapi": {
        "schema": {
            "type": "object",
            "properties": {
                "detail": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["loc", "msg", "type"],
                        "properties": {
                            "loc": {"type": "array", "items": {"type": ["string", "integer"]}},
                            "msg": {"type": "string"},
                            "type": {"type": "string"},
                        },
                    },
                }
            },
        },
        "create": ["422"],
        "read": ["422"],
    },
    # The same declaration as "message", kept RFC 9457 on purpose.
    "kept": {
        "schema": {"type": "object", "properties": {"message": {"type": "string"}}},
        "create": ["422"],
        "read": ["404"],
        "x-backsmith": {"errors": "problem"},
    },
    # Nothing of a problem fits a required integer `errno`: problem+json, and `check` warns.
    "unfit": {
        "schema": {
            "type": "object",
            "required": ["errno", "message"],
            "properties": {"errno": {"type": "integer"}, "message": {"type": "string"}},
        },
        "create": ["422"],
        "read": ["404"],
    },
}


def _responses(style: dict[str, Any], which: str, success: dict[str, Any]) -> dict[str, Any]:
    declared = style[which]
    schemas = declared if isinstance(declared, dict) else dict.fromkeys(declared, style["schema"])
    errors = {
        status: {"description": "error", "content": {"application/json": {"schema": schema}}}
        for status, schema in schemas.items()
    }
    return {**success, **errors}


def contract() -> dict[str, Any]:
    ok = {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/x"}}}}
    ok["content"]["application/json"]["schema"] = {"$ref": "#/components/schemas/Note"}
    paths: dict[str, Any] = {}
    for name, style in STYLES.items():
        create = {
            "operationId": f"create_{name}",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Note"}}},
            },
            "responses": _responses(style, "create", {"201": ok}),
        }
        if "401" in style["create"]:
            create["security"] = [{"bearer": []}]
        read = {"operationId": f"read_{name}", "responses": _responses(style, "read", {"200": ok})}
        for operation in (create, read):
            if "x-backsmith" in style:
                operation["x-backsmith"] = style["x-backsmith"]
        paths[f"/{name}/notes"] = {"post": create}
        paths[f"/{name}/notes/{{id}}"] = {
            "parameters": [
                {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
            ],
            "get": read,
        }
    return {
        "openapi": "3.1.0",
        "info": {"title": "Notes in many styles", "version": "1"},
        "x-backsmith": {"dbml": "notes.dbml"},
        "paths": paths,
        "components": {
            "schemas": {"Note": NOTE},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


@pytest.fixture(scope="module")
def styles(tmp_path_factory: pytest.TempPathFactory) -> Model:
    folder = tmp_path_factory.mktemp("styles")
    write_file(folder, "notes.dbml", DBML)
    return load_model(write_file(folder, "notes.json", json.dumps(contract())))


def token() -> dict[str, str]:
    signed = jwt.encode({"sub": "u1", "exp": int(time.time()) + 600}, SECRET)
    return {"authorization": f"Bearer {signed}"}


def answered(response: httpx.Response, status: int, media: str = "application/json") -> Any:
    where = f"{response.request.method} {response.request.url.path}"
    assert response.status_code == status, f"{where}: {response.status_code} {response.text}"
    assert response.headers["content-type"] == media, where
    return response.json()


# ------------------------------------------------------------------ each style
async def test_a_coded_error_object_names_the_problem_by_the_declared_codes(
    styles: Model, database_url: str
) -> None:
    async with served(styles, database_url, jwt_secret=SECRET) as client:
        body = answered(await client.post("/coded/notes", json={"title": ""}, headers=token()), 422)
        assert body == {
            "error": {
                "code": "VALIDATION_ERROR",
                "message": 'title: "" is shorter than 1 character',
            }
        }
        created = await client.post("/coded/notes", json={"title": "Milk"}, headers=token())
        assert created.status_code == 201, created.text
        again = await client.post("/coded/notes", json={"title": "Milk"}, headers=token())
        assert answered(again, 409)["error"]["code"] == "ALREADY_EXISTS"
        assert answered(again, 409)["error"]["message"].startswith("title: A row with the same")
        missing = answered(await client.get("/coded/notes/999"), 404)
        assert missing == {"error": {"code": "NOT_FOUND", "message": "No such item."}}
        anonymous = await client.post("/coded/notes", json={"title": "Eggs"})
        assert answered(anonymous, 401)["error"]["code"] == "UNAUTHENTICATED"
        assert anonymous.headers["www-authenticate"].startswith("Bearer")


async def test_a_server_fault_in_the_declared_shape_names_its_request_id(
    styles: Model, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    app = await start_app(styles, f"sqlite:///{tmp_path / 'fault.db'}")
    try:
        async with app.engine.begin() as conn:
            await conn.execute(sa.text("DROP TABLE notes"))  # every read now fails in SQL
        async with client_for(app) as client:
            response = await client.get("/coded/notes/1")
            body = answered(response, 500)
    finally:
        await stop_app(app)
    request_id = response.headers["x-request-id"]
    message = f"An unexpected error occurred (request id {request_id})."
    assert body == {"error": {"code": "INTERNAL", "message": message}}
    assert "no such table" not in response.text and "no such table" in caplog.text


async def test_a_success_flag_a_time_stamp_and_details_by_field(
    styles: Model, database_url: str
) -> None:
    async with served(styles, database_url) as client:
        body = answered(await client.post("/flagged/notes", json={"body": "x", "title": 5}), 400)
        assert body["success"] is False
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["timestamp"]), body
        assert body["error"] == {
            "code": "BSM401",
            "message": "The request has 1 validation error.",
            "details": {"title": ['5 is not of type "string"']},
        }
        assert (await client.post("/flagged/notes", json={"title": "Milk"})).status_code == 201
        # No 409 or 422 declared, 400 is: the duplicate is answered 400, as the contract says.
        duplicate = answered(await client.post("/flagged/notes", json={"title": "Milk"}), 400)
        assert duplicate["error"]["code"] == "BSM510"
        assert duplicate["error"]["details"] == {
            "title": ["A row with the same unique value (title) already exists."]
        }
        missing = answered(await client.get("/flagged/notes/7"), 404)
        assert missing["error"] == {"code": "BSM402", "message": "No such item."}


async def test_a_lone_message_holds_every_error(styles: Model, database_url: str) -> None:
    async with served(styles, database_url) as client:
        body = answered(await client.post("/message/notes", json={"body": 1}), 422)
        assert body == {
            "message": 'title: "title" is a required property; body: 1 is not of type "string"'
        }
        assert (await client.post("/message/notes", json={"title": "Milk"})).status_code == 201
        # 422 is the only status declared for errors: a duplicate is a 422 too.
        duplicate = answered(await client.post("/message/notes", json={"title": "Milk"}), 422)
        assert duplicate == {
            "message": "title: A row with the same unique value (title) already exists."
        }
        missing = await client.get("/message/notes/abc")  # a path parameter, not a body field
        assert answered(missing, 422) == {"message": 'id: "abc" is not of type "integer"'}


async def test_a_message_beside_a_field_names_the_first_error(
    styles: Model, database_url: str
) -> None:
    async with served(styles, database_url) as client:
        body = answered(await client.post("/single/notes", json={"title": ""}), 422)
        assert body == {"message": 'title: "" is shorter than 1 character', "field": "title"}
        assert answered(await client.get("/single/notes/4"), 404) == {"message": "No such item."}


async def test_each_status_in_the_shape_it_declares(styles: Model, database_url: str) -> None:
    async with served(styles, database_url) as client:
        body = answered(await client.post("/drf/notes", json={"title": "", "extra": 1}), 400)
        assert body == {
            "extra": ["'extra' is not a property of this request"],
            "title": ['"" is shorter than 1 character'],
        }
        broken = await client.post(
            "/drf/notes", content=b"{", headers={"content-type": "application/json"}
        )
        # No field to name: under `base`, where Rails (this shape's origin) puts such messages.
        assert list(answered(broken, 400)) == ["base"]
        missing = answered(await client.get("/drf/notes/5"), 404)
        assert missing == {"detail": "No such item."}


async def test_fastapi_validation_errors_carry_their_location(
    styles: Model, database_url: str
) -> None:
    async with served(styles, database_url) as client:
        body = answered(await client.post("/fastapi/notes", json={"title": ""}), 422)
        assert body == {
            "detail": [
                {
                    "loc": ["body", "title"],
                    "msg": '"" is shorter than 1 character',
                    "type": "BSM401",
                }
            ]
        }
        bad = answered(await client.get("/fastapi/notes/x"), 422)
        assert bad["detail"][0]["loc"] == ["path", "id"]


async def test_problem_json_where_the_contract_says_so_or_the_shape_cannot_be_filled(
    styles: Model, database_url: str
) -> None:
    async with served(styles, database_url) as client:
        for prefix in ("kept", "unfit"):
            body = answered(await client.get(f"/{prefix}/notes/3"), 404, PROBLEM)
            assert body["type"] == "urn:backsmith:problem:not-found"
            assert body["instance"] == f"/{prefix}/notes/3"
        # Operations disagree on their error bodies: a path no operation takes stays RFC 9457.
        body = answered(await client.get("/nowhere"), 404, PROBLEM)
        assert body["detail"] == "No operation is declared at /nowhere."


def test_check_names_each_error_body_it_cannot_fill(styles: Model) -> None:
    unfit = [w for w in styles.warnings if "cannot be filled" in w]
    assert len(unfit) == 2, styles.warnings  # the create's and the read's
    assert all("nothing fills the required property 'errno'" in w for w in unfit), unfit
    assert any("#/paths/~1unfit~1notes/post/responses/422/content/" in w for w in unfit), unfit
    assert not any("kept" in w for w in styles.warnings)  # errors: problem says so on purpose


# ------------------------------------------------------------------ RealWorld
@pytest.fixture(scope="module")
def conduit() -> Model:
    return load_model(CONDUIT)


USER = {"user": {"username": "ana", "email": "ana@example.com", "password": "a long passphrase"}}


async def test_realworld_errors_by_field_with_the_statuses_it_declares(
    conduit: Model, database_url: str
) -> None:
    async with served(conduit, database_url, jwt_secret=SECRET) as client:
        invalid = await client.post("/users", json={"user": {"username": "", "email": "a@b.c"}})
        assert answered(invalid, 422) == {
            "errors": {
                "password": ['"password" is a required property'],
                "username": ['"" is shorter than 1 character'],
                "body": ["The request has 2 validation errors."],
            }
        }
        assert (await client.post("/users", json=USER)).status_code == 201
        # RealWorld declares 422 and no 409: a name taken is a 422 naming the field.
        taken = answered(await client.post("/users", json=USER), 422)["errors"]
        field = "username" if "username" in taken else "email"  # the database names one
        assert taken == {
            field: ["An account with that name already exists."],
            "body": ["An account with that name already exists."],
        }
        login = {"user": {"email": "ana@example.com", "password": "not the passphrase"}}
        wrong = answered(await client.post("/users/login", json=login), 401)
        assert wrong == {"errors": {"body": ["The account name or the password is wrong."]}}
        anonymous = answered(await client.post("/articles", json={"article": {}}), 401)
        assert list(anonymous["errors"]) == ["body"]
        # 404 is not declared; it is answered all the same, in the contract's shape.
        missing = answered(await client.get("/articles/no-such-article"), 404)
        assert missing == {"errors": {"body": ["No such item."]}}
        # Every operation declares the same error body: the server's own 404 and 405 use it.
        nowhere = answered(await client.get("/nowhere"), 404)
        assert nowhere == {"errors": {"body": ["No operation is declared at /nowhere."]}}
        method = await client.patch("/articles/x")
        assert answered(method, 405) == {
            "errors": {"body": ["PATCH is not declared for /articles/{slug}."]}
        }
        assert method.headers["allow"] == "DELETE, GET, PUT, HEAD"


async def test_realworld_article_conflicts_and_bad_json(conduit: Model, database_url: str) -> None:
    async with served(conduit, database_url, jwt_secret=SECRET) as client:
        signed = (await client.post("/users", json=USER)).json()["user"]["token"]
        headers = {"authorization": f"Token {signed}"}
        article = {"article": {"title": "Dragons", "description": "d", "body": "b"}}
        assert (await client.post("/articles", json=article, headers=headers)).status_code == 201
        again = answered(await client.post("/articles", json=article, headers=headers), 422)
        assert again["errors"]["title"] == [
            "A row with the same unique value (title) already exists."
        ]
        broken = await client.post(
            "/articles", content=b"{", headers={**headers, "content-type": "application/json"}
        )
        body = answered(broken, 422)  # RealWorld declares no 400: bad JSON is a 422 too
        assert list(body["errors"]) == ["body"]
        assert body["errors"]["body"][0].startswith("The body is not valid JSON")


# ------------------------------------------------------------------ the corpus
@needs_corpus
async def test_bna_answers_json_api_error_objects(tmp_path: Path) -> None:
    model = load_model(BNA / "openapi-3.1.yaml", BNA / "database.dbml")
    async with served(model, f"sqlite:///{tmp_path / 'bna.db'}") as client:
        invalid = answered(await client.post("/cities", json={"country": "Belgium"}), 400)
        assert invalid == {
            "errors": [
                {
                    "details": '"name" is a required property',
                    "source": {"pointer": "/name"},
                    "status": "400",
                    "title": "Request validation failed",
                },
                {
                    "details": '"state" is a required property',
                    "source": {"pointer": "/state"},
                    "status": "400",
                    "title": "Request validation failed",
                },
            ]
        }
        page = answered(await client.get("/cities/submissions?page=0"), 400)
        assert page["errors"][0]["source"] == {"parameter": "page"}
        missing = answered(await client.get("/cities/submissions/999"), 404)
        assert missing["errors"] == [
            {
                "details": "No such item.",
                "source": {"pointer": ""},
                "status": "404",
                "title": "Not Found",
            }
        ]
        nowhere = answered(await client.get("/nowhere"), 404)
        assert nowhere["errors"][0]["details"] == "No operation is declared at /nowhere."


@needs_corpus
async def test_onepassword_answers_status_and_message(tmp_path: Path) -> None:
    model = load_model(ONEPASSWORD)
    async with served(model, f"sqlite:///{tmp_path / 'op.db'}", jwt_secret=SECRET) as client:
        vault = "/vaults/" + "a" * 26  # the contract's pattern for vault ids
        anonymous = answered(await client.get(vault), 401)
        assert anonymous == {
            "message": "This operation needs credentials; send them as the contract's "
            "securitySchemes say.",
            "status": 401,
        }
        signed = jwt.encode({"sub": "u1", "exp": int(time.time()) + 600}, SECRET)
        missing = await client.get(vault, headers={"authorization": f"Bearer {signed}"})
        assert answered(missing, 404) == {"message": "No such item.", "status": 404}
        bad = await client.get("/vaults/abc", headers={"authorization": f"Bearer {signed}"})
        assert answered(bad, 422) == {
            "message": 'vaultUuid: "abc" does not match "^[\\da-z]{26}$"',
            "status": 422,
        }


@needs_corpus
async def test_nested_and_numbered_corpus_shapes(tmp_path: Path) -> None:
    apis = CORPUS / "openapi" / "apis-guru"
    graph = load_model(apis / "windows.net__graphrbac.yaml")  # `default` declares OData's error
    async with served(graph, f"sqlite:///{tmp_path / 'graph.db'}", jwt_secret=SECRET) as client:
        body = answered(await client.get("/nowhere"), 404)
        assert body == {
            "odata.error": {
                "code": "BSM402",
                "message": {"value": "No operation is declared at /nowhere."},
            }
        }
    ably = load_model(apis / "ably.net__control.yaml")
    async with served(ably, f"sqlite:///{tmp_path / 'ably.db'}", jwt_secret=SECRET) as client:
        body = answered(await client.get("/v1/accounts/1/apps"), 401)  # servers: .../v1
        assert body == {
            "code": 401,
            "href": "urn:backsmith:problem:unauthorized",
            "message": "This operation needs credentials; send them as the contract's "
            "securitySchemes say.",
            "statusCode": 401,
        }
