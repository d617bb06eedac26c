"""The SQLite floors: get-by-id of the bench workload on aiosqlite, with nothing else.

`app` is the equivalent of the shared harness's PostgreSQL floor (`peers/raw_asyncpg`):
a minimal Starlette app, one hand-written statement, orjson, the same handler shape, with
one aiosqlite connection in place of the asyncpg pool. `bare` drops Starlette too (a raw
ASGI callable), a stricter reference printed beside it. Both read the table backsmith
created, so all three answer the same bytes from the same file.

    BENCH_SQLITE=path/to/file.db uvicorn benchmarks.sqlite_floor:app --loop uvloop --http httptools
"""

from __future__ import annotations

import os
import uuid
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import aiosqlite
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

SQL = (
    "SELECT id, sku, name, price_cents, category, tags, created_at, updated_at "
    "FROM products WHERE id = ?"
)
_db: aiosqlite.Connection | None = None


def _timestamp(text: str) -> str:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")


async def _fetch(key: uuid.UUID) -> bytes | None:
    assert _db is not None
    rows = await _db.execute_fetchall(SQL, (key.hex,))
    if not rows:
        return None
    (pid, sku, name, price, category, tags, created, updated) = next(iter(rows))
    item = {
        "id": str(uuid.UUID(pid)),
        "sku": sku,
        "name": name,
        "price_cents": price,
        "category": category,
        "tags": orjson.loads(tags),
        "created_at": _timestamp(created),
        "updated_at": _timestamp(updated),
    }
    return orjson.dumps(item)


async def _open() -> None:
    global _db
    _db = await aiosqlite.connect(os.environ["BENCH_SQLITE"])


async def _close() -> None:
    if _db is not None:
        await _db.close()


# ------------------------------------------------------------ Starlette, as the PG floor
def _json(body: bytes, status: int = 200) -> Response:
    return Response(body, status_code=status, media_type="application/json")


async def get_product(request: Request) -> Response:
    try:
        key = uuid.UUID(request.path_params["id"])
    except ValueError:
        return _json(b'{"detail":"id is not a uuid"}', 422)
    body = await _fetch(key)
    if body is None:
        return _json(b'{"detail":"product not found"}', 404)
    return _json(body)


@asynccontextmanager
async def _lifespan(app: Starlette) -> Any:
    await _open()
    yield
    await _close()


app = Starlette(routes=[Route("/products/{id}", get_product, methods=["GET"])], lifespan=_lifespan)


# ------------------------------------------------------------------ bare ASGI, stricter
async def _answer(send: Any, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def bare(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await _open()
                await send({"type": "lifespan.startup.complete"})
            else:
                await _close()
                await send({"type": "lifespan.shutdown.complete"})
                return
    path = scope["path"]
    if scope["method"] != "GET" or not path.startswith("/products/"):
        await _answer(send, 404, b'{"detail":"not found"}')
        return
    try:
        key = uuid.UUID(path[len("/products/") :])
    except ValueError:
        await _answer(send, 422, b'{"detail":"id is not a uuid"}')
        return
    body = await _fetch(key)
    if body is None:
        await _answer(send, 404, b'{"detail":"product not found"}')
        return
    await _answer(send, 200, body)
