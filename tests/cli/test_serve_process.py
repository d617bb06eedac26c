"""`backsmith serve` as a user runs it: a real server process, then the README's curl tour."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import jwt
import pytest
from conftest import BOOKSHOP
from loopback_ports import free_port

SECRET = "change-me-to-32-or-more-random-bytes"


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKSMITH_")}
    env["BACKSMITH_JWT_SECRET"] = SECRET  # as the README's wishlist tour serves it
    process = subprocess.Popen(
        [sys.executable, "-m", "backsmith", "serve", str(BOOKSHOP), "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("server did not start within 20 s")
        yield base
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        output = process.communicate(timeout=20)[0].decode()
    assert "Traceback" not in output, output
    # Its first line says what it serves, where, and where the docs are.
    first = output.splitlines()[0]
    assert first.endswith(f" serving {BOOKSHOP} on {base} — docs at {base}/docs"), output
    assert (tmp_path / "backsmith.db").exists()  # the embedded default, in the working folder


def test_curl_tour(server: str) -> None:
    created = httpx.post(f"{server}/authors", json={"name": "Ursula K. Le Guin"})
    assert created.status_code == 201
    assert created.headers["location"] == f"/authors/{created.json()['id']}"
    book = httpx.post(
        f"{server}/books",
        json={
            "title": "The Dispossessed",
            "isbn": "9780060512750",
            "author_id": created.json()["id"],
            "genres": ["science-fiction"],
            "price_cents": 1099,
        },
    )
    assert book.status_code == 201, book.text
    listed = httpx.get(f"{server}/books", params={"genre": "science-fiction"})
    assert [b["title"] for b in listed.json()["items"]] == ["The Dispossessed"]
    bad = httpx.post(f"{server}/books", json={"title": ""})
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
    customer = httpx.post(f"{server}/customers", json={"name": "Ana", "email": "ana@example.com"})
    slug = book.json()["slug"]
    order = httpx.post(
        f"{server}/orders",
        json={
            "customer_id": customer.json()["id"],
            "lines": [{"book_id": book.json()["id"], "quantity": 2, "unit_price_cents": 1099}],
        },
    )
    assert order.status_code == 201 and order.json()["total_cents"] == 2198
    # The worker processes must see the very secret the command was started with.
    token = jwt.encode(
        {"sub": customer.json()["id"], "exp": time.time() + 600}, SECRET, algorithm="HS256"
    )
    wished = httpx.post(
        f"{server}/books/{slug}/wishlist", headers={"authorization": f"Bearer {token}"}
    )
    assert wished.status_code == 200, wished.text
    assert (wished.json()["wishlisted_count"], wished.json()["wishlisted"]) == (1, True)
    assert httpx.post(f"{server}/books/{slug}/wishlist").status_code == 401
    assert httpx.get(f"{server}/readyz").json()["status"] == "pass"
    assert httpx.get(f"{server}/openapi.json").json()["info"]["title"] == "Bookshop API"
