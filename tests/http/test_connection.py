"""The connection protocol, fed bytes as a socket would feed them, answering through an app.

The served tests (test_defects, test_slow_clients) run it behind a real socket; here each
path through it is taken on purpose: pipelining, bodies in parts, back-pressure both ways,
the connection cap, upgrades, a graceful stop, a client gone.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from backsmith.http.connection import HIGH_WATER, Connection

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Transport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False
        self.ended = False  # our side of the connection ended (a refusal lingers on)
        self.reading = True
        self.protocol: Connection | None = None

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def can_write_eof(self) -> bool:
        return True

    def write_eof(self) -> None:
        self.ended = True

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            if self.protocol is not None:
                asyncio.get_running_loop().call_soon(self.protocol.connection_lost, None)

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        self.reading = False

    def resume_reading(self) -> None:
        self.reading = True

    def get_extra_info(self, name: str) -> Any:
        return {"sockname": ("127.0.0.1", 8000), "peername": ("127.0.0.1", 50000)}.get(name)

    @property
    def received(self) -> bytes:
        return b"".join(self.writes)


class Config:
    loaded = True
    root_path = ""
    asgi_version = "3.0"
    timeout_keep_alive = 5

    def __init__(self, app: Any, limit: int | None = None) -> None:
        self.loaded_app = app
        self.limit_concurrency = limit


class ServerState:
    def __init__(self) -> None:
        self.connections: set[Any] = set()
        self.tasks: set[asyncio.Task[None]] = set()
        self.default_headers = [(b"date", b"Sat, 05 Dec 2026 15:00:00 GMT")]
        self.total_requests = 0


async def echo(scope: Any, receive: Any, send: Any) -> None:
    """Answers with what it was asked: method, path, query and the whole body."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    answer = orjson.dumps(
        {
            "method": scope["method"],
            "path": scope["path"],
            "query": scope["query_string"].decode(),
            "body": body.decode(),
            "client": scope["client"],
        }
    )
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(answer))]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": answer})


def connect(app: Any = echo, limit: int | None = None) -> tuple[Connection, Transport]:
    state = ServerState()
    connection = Connection(Config(app, limit), state, {})
    transport = Transport()
    transport.protocol = connection
    connection.connection_made(transport)  # type: ignore[arg-type]
    return connection, transport


async def settle(connection: Connection) -> None:
    """Until every request the connection started has been answered."""
    for _ in range(50):
        await asyncio.sleep(0)
        if not connection.tasks and not connection.pipeline:
            return
    raise AssertionError("the app did not finish")


def answers(received: bytes) -> list[tuple[int, dict[str, Any]]]:
    found = []
    while received:
        head, _, rest = received.partition(b"\r\n\r\n")
        lines = head.decode().split("\r\n")
        headers = dict(line.lower().split(": ", 1) for line in lines[1:])
        length = int(headers["content-length"])
        found.append((int(lines[0].split()[1]), orjson.loads(rest[:length])))
        received = rest[length:]
    return found


async def test_a_request_is_answered_in_one_write_and_the_connection_kept() -> None:
    connection, transport = connect()
    connection.data_received(b"GET /authors/1?x=%C3%A9 HTTP/1.1\r\nHost: a\r\n\r\n")
    await settle(connection)
    assert len(transport.writes) == 1 and not transport.closed
    [(status, body)] = answers(transport.received)
    assert (status, body["method"], body["path"]) == (200, "GET", "/authors/1")
    assert body["query"] == "x=%C3%A9"
    assert body["client"] == ["127.0.0.1", 50000]
    assert connection.server_state.total_requests == 1 and connection.idle_since is not None


async def test_a_percent_encoded_path_under_a_root_path() -> None:
    connection, transport = connect()
    connection.root_path = "/api"
    connection.data_received(b"GET /health%7A HTTP/1.1\r\nHost: a\r\n\r\n")
    await settle(connection)
    assert answers(transport.received)[0][1]["path"] == "/api/healthz"


async def test_pipelined_requests_are_answered_in_order() -> None:
    connection, transport = connect()
    connection.data_received(
        b"POST /a HTTP/1.1\r\nContent-Length: 2\r\n\r\nhi"
        b"GET /b HTTP/1.1\r\n\r\nGET /c HTTP/1.1\r\nConnection: close\r\n\r\n"
    )
    await settle(connection)
    assert [body["path"] for _, body in answers(transport.received)] == ["/a", "/b", "/c"]
    assert answers(transport.received)[0][1]["body"] == "hi"
    assert transport.received.endswith(b'"client":["127.0.0.1",50000]}')
    assert b"connection: close\r\n" in transport.writes[-1] and transport.closed
    assert connection.server_state.total_requests == 3


async def test_a_body_in_parts_is_read_whole_and_a_large_one_pauses_reading() -> None:
    connection, transport = connect()
    size = HIGH_WATER + 10
    connection.data_received(b"PUT /a HTTP/1.1\r\nContent-Length: %d\r\n\r\n" % size)
    connection.data_received(b"a" * (HIGH_WATER // 2))
    connection.data_received(b"b" * (HIGH_WATER // 2 + 1))
    assert not transport.reading  # the app has not read yet: the client waits
    connection.data_received(b"c" * 9)
    await settle(connection)
    assert transport.reading
    assert len(answers(transport.received)[0][1]["body"]) == size


async def test_what_is_not_http_is_a_400_problem_and_the_connection_closes() -> None:
    connection, transport = connect()
    connection.data_received(b"HELLO\r\n\r\n")
    head, _, body = transport.received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400 Bad Request\r\ndate: ")
    assert b"content-type: application/problem+json" in head and transport.ended
    assert orjson.loads(body)["status"] == 400
    # What the client still sends is dropped, not answered again, until it closes; a
    # close with its bytes unread would reset the connection and could lose the 400.
    connection.data_received(b"GET /a HTTP/1.1\r\n\r\n" * 3)
    connection.head_too_slow()
    await settle(connection)
    assert transport.received.count(b"HTTP/1.1 ") == 1 and not transport.closed
    connection.eof_received()
    connection.connection_lost(None)
    assert connection not in connection.connections


async def test_a_refused_connection_closes_after_lingering(monkeypatch: pytest.MonkeyPatch) -> None:
    import backsmith.http.connection as module

    monkeypatch.setattr(module, "LINGER_S", 0.01)
    connection, transport = connect()
    connection.data_received(b"\x16\x03\x01 not http")
    assert transport.ended and not transport.closed
    await asyncio.sleep(0.05)
    assert transport.closed

    connection, transport = connect()
    connection.data_received(b"POST /a HTTP/1.1\r\nContent-Length: 9\r\n\r\nabc")
    connection.body_too_slow()
    connection.shutdown()  # the server stopping does not wait out the lingering
    assert transport.ended and transport.closed
    await settle(connection)


async def test_past_the_connection_cap_the_answer_is_a_503_problem() -> None:
    connection, transport = connect(limit=1)
    connection.data_received(b"GET /a HTTP/1.1\r\n\r\n")
    await settle(connection)
    [(status, body)] = answers(transport.received)
    assert (status, body["status"]) == (503, 503)
    assert b"retry-after: 1" in transport.received and transport.closed


async def test_an_upgrade_is_answered_as_any_request_then_the_connection_closes() -> None:
    connection, transport = connect()
    connection.data_received(
        b"GET /a HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n"
    )
    await settle(connection)
    assert answers(transport.received)[0][0] == 200 and transport.closed


async def test_an_http_1_0_request_is_answered_and_closed() -> None:
    connection, transport = connect()
    connection.data_received(b"GET /a HTTP/1.0\r\n\r\n")
    await settle(connection)
    assert b"connection: close\r\n" in transport.received and transport.closed


async def test_a_graceful_stop_closes_when_the_answer_under_way_is_written() -> None:
    connection, transport = connect()
    connection.shutdown()  # idle: closed at once
    assert transport.closed

    release = asyncio.Event()

    async def slow(scope: Any, receive: Any, send: Any) -> None:
        await release.wait()
        await echo(scope, receive, send)

    connection, transport = connect(slow)
    connection.data_received(b"GET /a HTTP/1.1\r\n\r\n")
    await asyncio.sleep(0)
    connection.shutdown()
    assert not transport.closed
    release.set()
    await settle(connection)
    assert b"connection: close\r\n" in transport.received and transport.closed


async def test_a_client_gone_while_the_app_reads_is_told_so() -> None:
    seen: list[dict[str, Any]] = []

    async def reader(scope: Any, receive: Any, send: Any) -> None:
        seen.append(await receive())
        seen.append(await receive())

    connection, transport = connect(reader)
    connection.data_received(b"POST /a HTTP/1.1\r\nContent-Length: 4\r\n\r\nab")
    await asyncio.sleep(0)
    connection.connection_lost(None)
    await settle(connection)
    assert seen == [
        {"type": "http.request", "body": b"ab", "more_body": True},
        {"type": "http.disconnect"},
    ]
    assert transport.writes == [] and connection not in connection.connections


async def test_writes_wait_while_the_client_does_not_read() -> None:
    connection, transport = connect()
    connection.pause_writing()
    connection.data_received(b"GET /a HTTP/1.1\r\n\r\n")
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert transport.writes == []
    connection.resume_writing()
    await settle(connection)
    assert answers(transport.received)[0][0] == 200


async def test_a_stalled_head_or_body_is_a_408_and_an_idle_connection_is_closed() -> None:
    connection, transport = connect()
    connection.data_received(b"GET /a HTTP/1.1\r\n")
    connection.head_too_slow()
    assert transport.received.startswith(b"HTTP/1.1 408 Request Timeout\r\n") and transport.ended

    connection, transport = connect(echo)
    connection.data_received(b"POST /a HTTP/1.1\r\nContent-Length: 4\r\n\r\nab")
    await asyncio.sleep(0)
    connection.body_too_slow()
    assert transport.received.startswith(b"HTTP/1.1 408 ") and transport.ended
    await settle(connection)
    assert transport.received.count(b"HTTP/1.1 ") == 1  # the app's answer is not written

    connection, transport = connect()
    connection.kept_too_long()
    assert transport.closed and transport.writes == []
