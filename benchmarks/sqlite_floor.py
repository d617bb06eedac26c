"""The SQLite floor: get-by-id of the bench workload on aiosqlite, with nothing else.

A bare ASGI app (no framework, no validation beyond the UUID parse, no problem+json), one
aiosqlite connection, one statement per request, orjson. It reads the table backsmith
created, so both answer the same bytes from the same file.

    BENCH_SQLITE=path/to/file.db uvicorn benchmarks.sqlite_floor:app --loop uvloop --http httptools
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from typing import Any

import aiosqlite
import orjson

SQL = (
    "SELECT id, sku, name, price_cents, category, tags, created_at, updated_at "
    "FROM products WHERE id = ?"
)
_db: aiosqlite.Connection | None = None


def _timestamp(text: str) -> str:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).isoformat().replace("+00:00", "Z")


async def _answer(send: Any, status: int, body: bytes) -> None:
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    global _db
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                _db = await aiosqlite.connect(os.environ["BENCH_SQLITE"])
                await send({"type": "lifespan.startup.complete"})
            else:
                if _db is not None:
                    await _db.close()
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
    assert _db is not None
    rows = await _db.execute_fetchall(SQL, (key.hex,))
    if not rows:
        await _answer(send, 404, b'{"detail":"product not found"}')
        return
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
    await _answer(send, 200, orjson.dumps(item))
