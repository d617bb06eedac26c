"""A fixed number of requests over keep-alive connections, for counting a server's work.

    python benchmarks/keepalive_load.py PORT OP COUNT [IDS_FILE]

OP is get, list, create or patch on the harness's products workload; the requests are
spread over CONCURRENCY connections (default 16). Prints the statuses counted, so a run
whose answers were not 2xx is seen at once.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

CATEGORIES = ("electronics", "books", "clothing", "home", "garden", "toys", "sports", "grocery")


def request(op: str, index: int, ids: list[str]) -> bytes:
    key = ids[index % len(ids)] if ids else ""
    if op == "get":
        return f"GET /products/{key} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
    if op == "list":
        category = CATEGORIES[index % len(CATEGORIES)]
        target = f"/products?category={category}&limit=20"
        return f"GET {target} HTTP/1.1\r\nHost: bench\r\n\r\n".encode()
    if op == "patch":
        body = json.dumps({"price_cents": 1000 + index}).encode()
        head = f"PATCH /products/{key} HTTP/1.1\r\n"
    else:
        product = {
            "sku": f"COUNT-{os.getpid()}-{index}",
            "name": "Counted product",
            "price_cents": 1999,
            "category": CATEGORIES[index % len(CATEGORIES)],
            "tags": ["bench", "new"],
        }
        body = json.dumps(product, separators=(",", ":")).encode()
        head = "POST /products HTTP/1.1\r\n"
    length = f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    return (head + "Host: bench\r\n" + length).encode() + body


async def connection(
    port: int, op: str, start: int, count: int, step: int, ids: list[str], seen: dict[int, int]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    for index in range(start, count, step):
        writer.write(request(op, index, ids))
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n"):
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        await reader.readexactly(length)
        seen[status] = seen.get(status, 0) + 1
    writer.close()


async def main(port: int, op: str, count: int, ids: list[str]) -> None:
    seen: dict[int, int] = {}
    step = int(os.environ.get("CONCURRENCY", "16"))
    await asyncio.gather(
        *(connection(port, op, start, count, step, ids, seen) for start in range(step))
    )
    print(json.dumps(seen))


if __name__ == "__main__":
    port, op, count = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
    ids = Path(sys.argv[4]).read_text().split() if len(sys.argv) > 4 else []
    asyncio.run(main(port, op, count, ids))
