"""Each answer's head leaves with its body in one write; what is not the usual answer is
written as it comes, head first, nothing lost; the app reads the body as it arrives."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from backsmith.http.exchange import Exchange

pytestmark = pytest.mark.anyio


class Transport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(data)

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed


class ServerState:
    def __init__(self) -> None:
        self.default_headers = [(b"server", b"test")]


class Connection:
    """What an exchange reads of its connection, and what it tells it."""

    def __init__(self, transport: Transport) -> None:
        self.transport = transport
        self.server_state = ServerState()
        self.write_paused = False
        self.finished: list[int] = []

        self.resumed = 0
        self.done: list[Exchange] = []

    def answered(self) -> None:
        self.finished.append(1)

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    def resume_reading(self) -> None:
        self.resumed += 1

    async def drain(self) -> None:
        self.write_paused = False

    def exchange_done(self, exchange: Exchange) -> None:
        self.done.append(exchange)


def cycle(method: str = "GET", keep_alive: bool = True) -> tuple[Exchange, Transport, list[int]]:
    transport = Transport()
    connection = Connection(transport)
    made = Exchange(connection, {"method": method, "type": "http"}, keep_alive, False)  # type: ignore[arg-type]
    return made, transport, connection.finished


def start(*headers: tuple[bytes, bytes], status: int = 200) -> dict[str, Any]:
    return {"type": "http.response.start", "status": status, "headers": list(headers)}


async def test_an_answer_of_a_declared_length_is_one_write() -> None:
    answer, transport, finished = cycle()
    await answer.send(start((b"content-type", b"application/json"), (b"content-length", b"2")))
    assert transport.writes == []
    await answer.send({"type": "http.response.body", "body": b"{}"})
    assert transport.writes == [
        b"HTTP/1.1 200 OK\r\nserver: test\r\ncontent-type: application/json\r\n"
        b"content-length: 2\r\n\r\n{}"
    ]
    assert answer.complete and finished == [1] and not transport.closed


async def test_a_connection_the_client_closes_says_so_and_is_closed() -> None:
    answer, transport, _ = cycle(keep_alive=False)
    await answer.send(start((b"content-length", b"0")))
    await answer.send({"type": "http.response.body", "body": b""})
    assert transport.writes == [
        b"HTTP/1.1 200 OK\r\nserver: test\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
    ]
    assert transport.closed


async def test_a_body_in_parts_sends_the_head_with_the_first_part() -> None:
    answer, transport, finished = cycle()
    await answer.send(start((b"content-length", b"4")))
    await answer.send({"type": "http.response.body", "body": b"ab", "more_body": True})
    await answer.send({"type": "http.response.body", "body": b"cd"})
    assert transport.writes[0].endswith(b"content-length: 4\r\n\r\nab")
    assert transport.writes[1:] == [b"cd"] and finished == [1]


async def test_answers_without_a_length_are_chunked_and_heads_have_no_body() -> None:
    chunked, transport, _ = cycle()
    await chunked.send(start((b"content-type", b"text/plain")))
    assert b"transfer-encoding: chunked" in transport.writes[0]  # written at once
    await chunked.send({"type": "http.response.body", "body": b"hi"})
    assert transport.writes[1:] == [b"2\r\nhi\r\n0\r\n\r\n"]

    head, transport, finished = cycle("HEAD")
    await head.send(start((b"content-length", b"2")))
    await head.send({"type": "http.response.body", "body": b""})
    assert transport.writes == [b"HTTP/1.1 200 OK\r\nserver: test\r\ncontent-length: 2\r\n\r\n"]
    assert finished == [1]


async def test_a_wrong_length_or_a_forged_header_is_refused() -> None:
    short, transport, _ = cycle()
    await short.send(start((b"content-length", b"5")))
    with pytest.raises(RuntimeError, match="shorter than Content-Length"):
        await short.send({"type": "http.response.body", "body": b"abc"})
    assert transport.writes[0].endswith(b"\r\n\r\nabc")  # the head went out first

    forged, transport, _ = cycle()
    with pytest.raises(RuntimeError, match="Invalid HTTP header value"):
        await forged.send(start((b"content-length", b"0"), (b"location", b"/a\r\nx: y")))
    assert transport.writes == []


async def test_names_in_capitals_are_lowered_and_a_connection_header_is_heeded() -> None:
    capitals, transport, finished = cycle()
    await capitals.send(start((b"Content-Length", b"2"), (b"X-Trace", b"a")))
    assert transport.writes == []  # held for its body, as any answer of a declared length
    await capitals.send({"type": "http.response.body", "body": b"{}"})
    assert transport.writes == [
        b"HTTP/1.1 200 OK\r\nserver: test\r\ncontent-length: 2\r\nx-trace: a\r\n\r\n{}"
    ]
    assert finished == [1]

    closing, transport, _ = cycle()
    await closing.send(start((b"content-length", b"0"), (b"connection", b"close")))
    await closing.send({"type": "http.response.body", "body": b""})
    assert transport.writes[0].endswith(b"connection: close\r\n\r\n") and transport.closed

    bad_name, transport, _ = cycle()
    with pytest.raises(RuntimeError, match="Invalid HTTP header name"):
        await bad_name.send(start((b"content-length", b"0"), (b"a b", b"c")))
    assert transport.writes == []


async def test_a_value_with_a_control_byte_is_refused_and_a_tab_is_not() -> None:
    """Only the CR LF between lines may stand in the head: a lone CR or LF, or a NUL, in
    a value is refused before anything is written."""
    for value in (b"a\rb", b"a\nb", b"a\0b"):
        forged, transport, _ = cycle()
        with pytest.raises(RuntimeError, match="Invalid HTTP header value"):
            await forged.send(start((b"content-length", b"0"), (b"x-a", value)))
        assert transport.writes == []
    tabbed, transport, finished = cycle()
    await tabbed.send(start((b"x-a", b"a\tb"), (b"content-length", b"0")))
    assert transport.writes == []  # held for its body
    await tabbed.send({"type": "http.response.body", "body": b""})
    assert transport.writes == [
        b"HTTP/1.1 200 OK\r\nserver: test\r\nx-a: a\tb\r\ncontent-length: 0\r\n\r\n"
    ]
    assert finished == [1]


async def test_the_servers_own_lines_follow_the_list_it_makes_each_second() -> None:
    first, transport, _ = cycle()
    await first.send(start((b"content-length", b"0")))
    await first.send({"type": "http.response.body", "body": b""})
    second, later, _ = cycle()
    second.connection.server_state.default_headers = [(b"date", b"Sat, 05 Dec 2026 13:00:01 GMT")]
    await second.send(start((b"content-length", b"0")))
    await second.send({"type": "http.response.body", "body": b""})
    assert transport.writes[0].startswith(b"HTTP/1.1 200 OK\r\nserver: test\r\n")
    assert later.writes[0].startswith(b"HTTP/1.1 200 OK\r\ndate: Sat, 05 Dec 2026 13:00:01")


async def test_the_app_reads_the_body_as_it_arrives_then_waits_for_the_end() -> None:
    exchange, _, _ = cycle("POST")
    exchange.body.extend([b"ab", b"cd"])  # two parts came before the app asked
    assert await exchange.receive() == {"type": "http.request", "body": b"abcd", "more_body": True}
    waiting = asyncio.ensure_future(exchange.receive())
    await asyncio.sleep(0)
    assert not waiting.done() and exchange.connection.resumed == 1  # reads again meanwhile
    exchange.body.append(b"ef")
    exchange.more_body = False
    exchange.wake()
    assert await waiting == {"type": "http.request", "body": b"ef", "more_body": False}
    # Past the whole body the app waits for the client to go, or for its own answer.
    gone = asyncio.ensure_future(exchange.receive())
    await asyncio.sleep(0)
    assert not gone.done()
    exchange.disconnected = True
    exchange.wake()
    assert await gone == {"type": "http.disconnect"}


async def test_a_client_that_expects_100_continue_is_told_once_when_the_app_reads() -> None:
    transport = Transport()
    exchange = Exchange(Connection(transport), {"method": "POST"}, True, True)  # type: ignore[arg-type]
    exchange.more_body = False
    exchange.body.append(b"{}")
    await exchange.receive()
    assert transport.writes == [b"HTTP/1.1 100 Continue\r\n\r\n"]
    await exchange.send(start((b"content-length", b"0")))
    await exchange.send({"type": "http.response.body", "body": b""})
    assert transport.writes[1].startswith(b"HTTP/1.1 200 OK")


async def test_an_app_that_fails_before_answering_gets_a_500_and_the_connection_closes() -> None:
    async def failing(scope: Any, receive: Any, send: Any) -> None:
        raise ValueError("boom")

    exchange, transport, _ = cycle()
    await exchange.run(failing)
    assert transport.writes[0].startswith(b"HTTP/1.1 500 Internal Server Error\r\n")
    assert transport.writes[0].endswith(b"\r\n\r\nInternal Server Error") and transport.closed
    assert exchange.connection.done == [exchange]  # its task is no longer waited for

    async def silent(scope: Any, receive: Any, send: Any) -> None:
        return None

    exchange, transport, _ = cycle()
    await exchange.run(silent)
    assert transport.writes[0].startswith(b"HTTP/1.1 500 ") and transport.closed

    async def halfway(scope: Any, receive: Any, send: Any) -> None:
        await send(start((b"content-length", b"4")))
        await send({"type": "http.response.body", "body": b"ab", "more_body": True})

    exchange, transport, _ = cycle()
    await exchange.run(halfway)
    assert transport.writes[0].endswith(b"\r\n\r\nab") and transport.closed


async def test_nothing_is_written_for_a_client_gone_and_writes_wait_while_paused() -> None:
    exchange, transport, finished = cycle()
    exchange.disconnected = True
    await exchange.send(start((b"content-length", b"0")))
    assert transport.writes == [] and finished == []

    exchange, transport, finished = cycle()
    exchange.connection.write_paused = True  # the client is slow to read: wait, then write
    await exchange.send(start((b"content-length", b"2")))
    await exchange.send({"type": "http.response.body", "body": b"{}"})
    assert transport.writes[0].endswith(b"\r\n\r\n{}") and finished == [1]
    with pytest.raises(RuntimeError, match="after response already completed"):
        await exchange.send({"type": "http.response.body", "body": b""})


async def test_an_app_that_frames_its_own_chunks_or_sends_out_of_order_is_told() -> None:
    exchange, transport, _ = cycle()
    await exchange.send(start((b"transfer-encoding", b"chunked")))
    await exchange.send({"type": "http.response.body", "body": b"hi", "more_body": True})
    await exchange.send({"type": "http.response.body", "body": b""})
    assert b"transfer-encoding: chunked\r\n\r\n" in transport.writes[0]
    assert transport.writes[1:] == [b"2\r\nhi\r\n", b"0\r\n\r\n"]

    exchange, _, _ = cycle()
    with pytest.raises(RuntimeError, match=r"Expected ASGI message 'http\.response\.start'"):
        await exchange.send({"type": "http.response.body", "body": b""})
    await exchange.send(start((b"content-length", b"0")))
    with pytest.raises(RuntimeError, match=r"Expected ASGI message 'http\.response\.body'"):
        await exchange.send(start())

    exchange, transport, _ = cycle()
    await exchange.send(start((b"content-length", b"1")))
    with pytest.raises(RuntimeError, match="longer than Content-Length"):
        await exchange.send({"type": "http.response.body", "body": b"ab"})
    assert transport.writes[0].endswith(b"content-length: 1\r\n\r\n")


async def test_headers_may_come_as_any_iterable_of_pairs() -> None:
    exchange, transport, _ = cycle()
    pairs = iter([[b"content-length", b"2"], [b"x-a", b"b"]])
    await exchange.send({"type": "http.response.start", "status": 200, "headers": pairs})
    await exchange.send({"type": "http.response.body", "body": b"{}"})
    assert transport.writes[0].endswith(b"content-length: 2\r\nx-a: b\r\n\r\n{}")
