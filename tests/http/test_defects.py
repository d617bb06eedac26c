"""Defects found by probing the served bookshop, each answered as a problem on every database.

Deep bodies, non-canonical numbers in parameters and NUL characters in strings run on SQLite
and PostgreSQL through the app; errors the HTTP server raises itself run through a real
`backsmith serve` process, with raw bytes over a socket.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from conftest import BOOKSHOP, served
from loopback_ports import free_port

from backsmith.model.types import Model

pytestmark = pytest.mark.anyio

PROBLEM = "application/problem+json"
DEPTH_CAP = 64  # the default of settings.max_body_depth
BOOK = {"title": "The Dispossessed", "isbn": "9780060512750", "price_cents": 1099}


def problem(response: httpx.Response, status: int) -> dict[str, Any]:
    """Assert `response` is a problem with `status` and no traceback; return its body."""
    where = f"{response.request.method} {response.request.url}"
    assert response.status_code == status, f"{where}: {response.status_code} {response.text}"
    assert response.headers["content-type"] == PROBLEM, where
    assert "traceback" not in response.text.lower(), response.text
    body = response.json()
    assert body["status"] == status, body
    return dict(body)


def pointers(body: dict[str, Any]) -> list[tuple[str, str]]:
    return [(e["pointer"], e.get("parameter", "")) for e in body["errors"]]


def nested(depth: int) -> bytes:
    """An author body whose `bio` makes the whole body `depth` levels deep."""
    inner = b"[" * (depth - 1) + b"]" * (depth - 1)
    return b'{"name": "Deep", "bio": ' + inner + b"}"


async def author(client: httpx.AsyncClient, name: str = "Ursula K. Le Guin") -> dict[str, Any]:
    response = await client.post("/authors", json={"name": name})
    assert response.status_code == 201, response.text
    return dict(response.json())


# ----------------------------------------------------------------- body depth
@pytest.mark.parametrize("depth", [DEPTH_CAP + 1, 100, 300, 1025, 5000])
async def test_a_body_nested_past_the_cap_is_a_validation_problem(
    bookshop: httpx.AsyncClient, depth: int
) -> None:
    existing = await author(bookshop)
    json = {"content-type": "application/json"}
    writes = [
        ("POST", "/authors"),
        ("PUT", f"/authors/{existing['id']}"),
        ("PATCH", f"/authors/{existing['id']}"),
        ("POST", "/books"),
        ("POST", f"/authors/{existing['id']}/books"),
    ]
    for method, path in writes:
        response = await bookshop.request(method, path, content=nested(depth), headers=json)
        body = problem(response, 422)
        assert body["errors"] == [
            {"detail": f"the body is nested deeper than {DEPTH_CAP} levels", "pointer": "#"}
        ], (method, path)
    assert [a["name"] for a in (await bookshop.get("/authors")).json()] == [existing["name"]]


async def test_a_body_as_deep_as_the_cap_is_validated_as_usual(
    bookshop: httpx.AsyncClient,
) -> None:
    headers = {"content-type": "application/json"}
    body = problem(await bookshop.post("/authors", content=nested(DEPTH_CAP), headers=headers), 422)
    assert pointers(body) == [("#/bio", "")]  # an array is not a string: the usual error
    # Brackets inside strings are text, not nesting.
    text = "[" * 500 + "{" * 500
    created = await bookshop.post("/authors", json={"name": "Brackets", "bio": text})
    assert created.status_code == 201, created.text
    assert created.json()["bio"] == text


async def test_a_deep_body_beside_a_bad_parameter_reports_both(
    bookshop: httpx.AsyncClient,
) -> None:
    headers = {"content-type": "application/json"}
    response = await bookshop.put("/authors/abc", content=nested(300), headers=headers)
    body = problem(response, 422)
    assert sorted(pointers(body)) == [("#", ""), ("#", "id")]


async def test_a_cap_past_what_the_validator_walks_is_held_at_its_limit(
    bookshop_model: Model, database_url: str
) -> None:
    headers = {"content-type": "application/json"}
    async with served(bookshop_model, database_url, max_body_depth=5000) as client:
        body = problem(await client.post("/authors", content=nested(250), headers=headers), 422)
        assert pointers(body) == [("#/bio", "")]  # validated, not a 500
        body = problem(await client.post("/authors", content=nested(251), headers=headers), 422)
        assert body["errors"][0]["detail"] == "the body is nested deeper than 250 levels"
    async with served(bookshop_model, database_url, max_body_depth=3) as client:
        deep = {"name": "N", "x": [[[1]]]}  # four levels: the body, then three arrays
        body = problem(await client.post("/authors", json=deep), 422)
        assert body["errors"][0]["detail"] == "the body is nested deeper than 3 levels"


# ------------------------------------------------------ canonical integer spellings
# Arabic-Indic one and three, a fullwidth one, and ASCII spellings `int` or `float` read.
NON_CANONICAL = ["\u0661", "\uff11", "+1", "0001", "01", "1.0", "1e0", " 1", "1 ", "1_0", "\u0663"]


@pytest.mark.parametrize("spelling", NON_CANONICAL)
async def test_a_path_id_is_read_only_in_canonical_decimal(
    bookshop: httpx.AsyncClient, spelling: str
) -> None:
    existing = await author(bookshop)
    assert existing["id"] == 1
    for path in (f"/authors/{spelling}", f"/authors/{spelling}/books"):
        body = problem(await bookshop.get(path), 422)
        assert [e.get("in") for e in body["errors"]] == ["path"], body
    response = await bookshop.patch(f"/authors/{spelling}", json={"name": "Renamed"})
    problem(response, 422)
    assert (await bookshop.get("/authors/1")).json()["name"] == existing["name"]


@pytest.mark.parametrize("spelling", NON_CANONICAL)
async def test_integer_filters_are_read_only_in_canonical_decimal(
    bookshop: httpx.AsyncClient, spelling: str
) -> None:
    await author(bookshop)
    for query in ({"author_id": spelling}, {"limit": spelling}, {"page": spelling}):
        path = "/orders" if "page" in query else "/books"
        body = problem(await bookshop.get(path, params=query), 422)
        assert pointers(body) == [("#", next(iter(query)))], body


async def test_canonical_integers_still_read(bookshop: httpx.AsyncClient) -> None:
    first = await author(bookshop)
    created = await bookshop.post("/books", json={**BOOK, "author_id": first["id"]})
    assert created.status_code == 201, created.text
    assert (await bookshop.get("/authors/1")).json() == first
    listed = await bookshop.get("/books", params={"author_id": "1", "limit": "10"})
    assert [b["title"] for b in listed.json()["items"]] == [BOOK["title"]]
    assert (await bookshop.get("/books", params={"author_id": "0"})).json()["items"] == []
    assert (await bookshop.get("/books", params={"author_id": "-7"})).json()["items"] == []
    problem(await bookshop.get("/authors/0"), 422)  # canonical, below the minimum of 1


# ------------------------------------------------------------- NUL in strings
async def test_a_nul_in_a_body_string_is_a_validation_problem_naming_the_field(
    bookshop: httpx.AsyncClient,
) -> None:
    body = problem(await bookshop.post("/authors", json={"name": "Ursula\u0000"}), 422)
    assert pointers(body) == [("#/name", "")]
    assert "NUL" in body["errors"][0]["detail"]
    existing = await author(bookshop)
    patched = await bookshop.patch(f"/authors/{existing['id']}", json={"bio": "a\u0000b"})
    assert pointers(problem(patched, 422)) == [("#/bio", "")]
    book = {**BOOK, "author_id": existing["id"], "tags": ["fine", "bad\u0000"]}
    assert pointers(problem(await bookshop.post("/books", json=book), 422)) == [("#/tags/1", "")]
    assert (await bookshop.get(f"/authors/{existing['id']}")).json() == existing
    assert (await bookshop.get("/books")).json()["items"] == []


async def test_an_escaped_backslash_before_u0000_is_plain_text(
    bookshop: httpx.AsyncClient,
) -> None:
    headers = {"content-type": "application/json"}
    raw = orjson.dumps({"name": "C:\\u0000"})  # a backslash, then the text u0000
    assert b"\\\\u0000" in raw
    created = await bookshop.post("/authors", content=raw, headers=headers)
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "C:\\u0000"


async def test_a_nul_in_a_string_parameter_is_a_validation_problem(
    bookshop: httpx.AsyncClient,
) -> None:
    await author(bookshop)
    body = problem(await bookshop.get("/authors", params={"name": "Ursula\u0000"}), 422)
    assert pointers(body) == [("#", "name")]
    body = problem(await bookshop.get("/books", params={"genre": "x\u0000"}), 422)
    assert pointers(body) == [("#", "genre")]
    assert (await bookshop.get("/authors", params={"name": "Ursula K. Le Guin"})).json()


# ------------------------------------------------- errors the server raises itself
# uvicorn's protocol where httptools is installed (as `backsmith serve` runs), and its
# pure-Python one, served the same way through the app factory.
H11 = (
    "import uvicorn, sys; uvicorn.run('backsmith.http.factory:from_environment', factory=True,"
    " port=int(sys.argv[1]), http='backsmith.http.server:ProblemH11Protocol',"
    " access_log=False)"
)
SERVERS = {
    "httptools": ["-m", "backsmith.cli", "serve", str(BOOKSHOP), "--port"],
    "h11": ["-c", H11],
}


@pytest.fixture(scope="module", params=SERVERS.keys())
def served_port(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, int]]:
    """The bookshop served in a process of its own on a free port, on SQLite."""
    folder: Path = tmp_path_factory.mktemp("serve")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("BACKSMITH_")}
    env["BACKSMITH_CONTRACT"] = str(BOOKSHOP)  # read by the factory the h11 server runs
    log = (folder / "server.log").open("wb")  # a file, not a pipe no one reads while serving
    process = subprocess.Popen(
        [sys.executable, *SERVERS[request.param], str(port)],
        cwd=folder,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("server did not start within 30 s")
        yield request.param, port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
        log.close()
    output = (folder / "server.log").read_text(encoding="utf-8", errors="replace")
    assert "Traceback" not in output, output


def exchange(port: int, request: bytes) -> tuple[int, dict[str, str], bytes]:
    """Send raw bytes, read until the server closes; the status, headers and body."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers, body


# Each request, and the status each protocol answers: h11 reads an over-long line and an
# unknown version, so the app answers those (a 404 problem: no such path).
CLOSE = b"Connection: close\r\n\r\n"
MALFORMED = {
    "over-long request line": (
        b"GET /" + b"a" * 100_000 + b" HTTP/1.1\r\nHost: x\r\n" + CLOSE,
        400,
        404,
    ),
    "0xFF in the path": (b"GET /authors/\xff HTTP/1.1\r\nHost: x\r\n" + CLOSE, 400, 400),
    "not HTTP": (b"HELLO\r\n\r\n", 400, 400),
    "unknown version": (b"GET /nope HTTP/9.9\r\nHost: x\r\n" + CLOSE, 400, 404),
    "space in the path": (b"GET /a b HTTP/1.1\r\nHost: x\r\n" + CLOSE, 400, 400),
    "bad content-length": (b"POST /authors HTTP/1.1\r\nContent-Length: x\r\n" + CLOSE, 400, 400),
}


# h11 reads a request in the parts the socket hands it: an over-long line that arrives
# whole is read (and answered 404), one that arrives in parts is refused past h11's 16 KiB
# while the client still sends, and that close may reach the client as a reset before
# the 400 (docs/http-errors.md). Which one happens depends on the machine's load.
SPLIT_BY_LOAD = ("h11", "over-long request line")


@pytest.mark.parametrize("case", MALFORMED.keys())
def test_requests_the_server_refuses_are_problems(served_port: tuple[str, int], case: str) -> None:
    protocol, port = served_port
    request, *statuses = MALFORMED[case]
    expected = statuses[list(SERVERS).index(protocol)]
    try:
        status, headers, body = exchange(port, request)
    except ConnectionResetError:
        assert (protocol, case) == SPLIT_BY_LOAD
        healthy = b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        assert exchange(port, healthy)[0] == 200  # the server goes on serving
        return
    if (protocol, case) == SPLIT_BY_LOAD and status == 400:
        expected = 400
    assert status == expected
    assert headers["content-type"] == PROBLEM
    assert headers["x-content-type-options"] == "nosniff"
    assert int(headers["content-length"]) == len(body)
    answer = orjson.loads(body)
    assert answer["status"] == expected
    if expected == 400:  # the server's own answer: the connection ends with it
        assert headers["connection"] == "close"
        assert answer["title"] == "Bad Request"
        assert answer["type"] == "urn:backsmith:problem:bad-request"
        assert answer["detail"]


def test_the_server_still_answers_well_formed_requests(served_port: tuple[str, int]) -> None:
    status, headers, body = exchange(
        served_port[1], b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    assert (status, headers["content-type"]) == (200, "application/health+json")
    assert orjson.loads(body)["status"] == "pass"


def test_pipelined_requests_are_answered_in_order(served_port: tuple[str, int]) -> None:
    """Two requests sent at once: the second waits for the first's answer, then its own."""
    two = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\nGET /nowhere HTTP/1.1\r\nHost: x\r\n" + CLOSE
    with socket.create_connection(("127.0.0.1", served_port[1]), timeout=10) as sock:
        sock.sendall(two)
        received = b""
        while chunk := sock.recv(65536):
            received += chunk
    assert re.findall(rb"HTTP/1\.1 (\d{3}) ", received) == [b"200", b"404"]


def test_a_percent_encoded_path_and_an_http_1_0_request(served_port: tuple[str, int]) -> None:
    """The path is read decoded; an HTTP/1.0 request is answered and its connection closed
    (`exchange` reads until the server closes)."""
    status, headers, body = exchange(served_port[1], b"GET /health%7A HTTP/1.0\r\n\r\n")
    assert (status, headers["content-type"]) == (200, "application/health+json")
    assert int(headers["content-length"]) == len(body)


def test_a_client_that_expects_100_continue_is_told_to_send(served_port: tuple[str, int]) -> None:
    body = b'{"name": "Ursula"}'
    head = (
        b"POST /authors HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        b"Expect: 100-continue\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body)
    )
    with socket.create_connection(("127.0.0.1", served_port[1]), timeout=10) as sock:
        sock.sendall(head)
        first = sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 100 Continue\r\n\r\n")
        sock.sendall(body)
        received = first
        while chunk := sock.recv(65536):
            received += chunk
    assert b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 " in received
