"""Services `backsmith test --url` is run against in tests/verify/: the help desk contract
served by backsmith, whole or broken by a small ASGI wrapper around it, and a hand-written
notes service that validates nothing. Each is served by uvicorn in a thread on 127.0.0.1.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

import jwt
import uvicorn
import yaml
from conftest import FIXTURES, NO_MIGRATIONS
from loopback_ports import free_port
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from backsmith.api import load_model
from backsmith.http.app import create_app
from backsmith.settings import load_settings

DESK = FIXTURES / "suite" / "desk.yaml"
NOTES = FIXTURES / "suite" / "notes.yaml"
SECRET = "suite-test-secret-of-at-least-32-bytes"

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class Served:
    """`with Served(app) as url:` serves `app` on a free loopback port until the block ends."""

    def __init__(self, app: App) -> None:
        self.port = free_port()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="error")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"the service did not start on port {self.port}")
            time.sleep(0.02)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


def backsmith_app(contract: Path, folder: Path, **settings: Any) -> App:
    """`contract` served by backsmith on a new SQLite file in `folder`."""
    model = load_model(contract)
    url = f"sqlite:///{folder / 'served.db'}"
    return create_app(
        model,
        load_settings(
            model.options,
            environ={},
            database_url=url,
            create_tables=True,
            migrations=NO_MIGRATIONS,
            **settings,
        ),
    )


def desk_app(folder: Path) -> App:
    """The help desk served by backsmith, its tokens signed with SECRET."""
    return backsmith_app(DESK, folder, jwt_secret=SECRET)


# ------------------------------------------------------------------ the breaks
def everyone_is_admin(app: App) -> App:
    """Ignores ownership: every token is honoured as an admin's, so any caller is served
    any owner's rows."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = []
            for name, value in scope["headers"]:
                if name == b"authorization" and value.startswith(b"Bearer "):
                    claims = jwt.decode(value[7:], SECRET, algorithms=["HS256"])
                    token = jwt.encode({**claims, "roles": ["admin"]}, SECRET, algorithm="HS256")
                    value = f"Bearer {token}".encode()
                headers.append((name, value))
            scope = {**scope, "headers": headers}
        await app(scope, receive, send)

    return wrapped


def answers_a_forbidden_field(app: App) -> App:
    """Adds a property the Ticket schema forbids (additionalProperties: false) to each read
    of one ticket."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        one = scope["type"] == "http" and scope["method"] == "GET"
        if not one or scope["path"].count("/") != 2:
            await app(scope, receive, send)
            return
        held: dict[str, Any] = {}
        chunks: list[bytes] = []

        async def rewrite(message: Message) -> None:
            if message["type"] == "http.response.start":
                held.update(message)
                return
            chunks.append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(chunks)
            if held["status"] == 200:
                body = json.dumps({**json.loads(body), "internal_flag": True}).encode()
            headers = [(n, v) for n, v in held["headers"] if n.lower() != b"content-length"]
            headers.append((b"content-length", str(len(body)).encode()))
            await send({**held, "headers": headers})
            await send({"type": "http.response.body", "body": body})

        await app(scope, receive, rewrite)

    return wrapped


def crashes_on_a_bad_body(app: App) -> App:
    """Answers 500 to a ticket created without a string title, as unguarded code would."""

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != "/tickets":
            await app(scope, receive, send)
            return
        body = await Request(scope, receive).body()
        try:
            title = json.loads(body).get("title")
        except (ValueError, AttributeError):
            title = None
        if not isinstance(title, str):
            await Response("Internal Server Error", status_code=500)(scope, receive, send)
            return
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await app(scope, replay, send)

    return wrapped


# ------------------------------------------------------------------ a hand-written service
def notes_app(api_key: str | None = None) -> Starlette:
    """The notes contract served by hand, in memory, taking whatever it is sent; with
    `api_key`, only from callers sending it in X-Api-Key."""
    notes: dict[int, dict[str, Any]] = {}
    serial = iter(range(1, 1_000_000))

    def found(request: Request) -> dict[str, Any] | None:
        key = request.path_params["id"]
        return notes.get(int(key)) if key.isdigit() else None

    async def collection(request: Request) -> Response:
        if request.method == "GET":
            return JSONResponse(list(notes.values()))
        note = {"pinned": False, **(await request.json()), "id": next(serial)}
        notes[note["id"]] = note
        return JSONResponse(note, status_code=201)

    async def item(request: Request) -> Response:
        note = found(request)
        if note is None:
            return JSONResponse({"detail": "no such note"}, status_code=404)
        if request.method == "PATCH":
            note.update(await request.json())
        elif request.method == "DELETE":
            del notes[note["id"]]
            return Response(status_code=204)
        return JSONResponse(note)

    def keyed(endpoint: Callable[[Request], Awaitable[Response]]) -> Any:
        async def guarded(request: Request) -> Response:
            if api_key is not None and request.headers.get("x-api-key") != api_key:
                return JSONResponse({"detail": "no key"}, status_code=401)
            return await endpoint(request)

        return guarded

    return Starlette(
        routes=[
            Route("/notes", keyed(collection), methods=["GET", "POST"]),
            Route("/notes/{id}", keyed(item), methods=["GET", "PATCH", "DELETE"]),
        ]
    )


def keyed_notes(folder: Path) -> Path:
    """The notes contract with every operation behind an API key in X-Api-Key."""
    document = yaml.safe_load(NOTES.read_text(encoding="utf-8"))
    document["components"]["securitySchemes"] = {
        "key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}
    }
    document["security"] = [{"key": []}]
    path = folder / "keyed-notes.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    return path
