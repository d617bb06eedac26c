"""Each answer's head leaves with its body in one write; what is not the usual answer
goes through uvicorn's own code, head first, nothing lost."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from uvicorn.protocols.http.flow_control import FlowControl

from backsmith.http.one_write import OneWriteCycle

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

    def pause_reading(self) -> None: ...

    def resume_reading(self) -> None: ...


def cycle(
    method: str = "GET", keep_alive: bool = True
) -> tuple[OneWriteCycle, Transport, list[int]]:
    transport = Transport()
    finished: list[int] = []
    made = OneWriteCycle(
        scope={"method": method, "type": "http"},
        transport=transport,  # type: ignore[arg-type]
        flow=FlowControl(transport),  # type: ignore[arg-type]
        logger=logging.getLogger("test"),
        access_logger=logging.getLogger("test.access"),
        access_log=False,
        default_headers=[(b"server", b"test")],
        message_event=asyncio.Event(),
        expect_100_continue=False,
        keep_alive=keep_alive,
        on_response=lambda: finished.append(1),
    )
    return made, transport, finished


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
    assert answer.response_complete and finished == [1] and not transport.closed


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


async def test_answers_without_a_length_and_heads_are_uvicorns() -> None:
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


async def test_a_wrong_length_or_header_is_refused_as_uvicorn_refuses_it() -> None:
    short, transport, _ = cycle()
    await short.send(start((b"content-length", b"5")))
    with pytest.raises(RuntimeError, match="shorter than Content-Length"):
        await short.send({"type": "http.response.body", "body": b"abc"})
    assert transport.writes[0].endswith(b"\r\n\r\nabc")  # the head went out first

    forged, transport, _ = cycle()
    with pytest.raises(RuntimeError, match="Invalid HTTP header value"):
        await forged.send(start((b"content-length", b"0"), (b"location", b"/a\r\nx: y")))
    assert transport.writes == []


async def test_names_in_capitals_or_a_connection_header_go_uvicorns_way() -> None:
    """uvicorn writes names lowered and acts on `connection`: such answers are its own."""
    capitals, transport, finished = cycle()
    await capitals.send(start((b"Content-Length", b"2"), (b"X-Trace", b"a")))
    assert transport.writes == [
        b"HTTP/1.1 200 OK\r\nserver: test\r\ncontent-length: 2\r\nx-trace: a\r\n\r\n"
    ]  # the head at once, lowered, as uvicorn writes it
    await capitals.send({"type": "http.response.body", "body": b"{}"})
    assert transport.writes[1:] == [b"{}"] and finished == [1]

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
    a value goes uvicorn's way, which refuses it."""
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
    second.default_headers = [(b"date", b"Sat, 05 Dec 2026 13:00:01 GMT")]
    await second.send(start((b"content-length", b"0")))
    await second.send({"type": "http.response.body", "body": b""})
    assert transport.writes[0].startswith(b"HTTP/1.1 200 OK\r\nserver: test\r\n")
    assert later.writes[0].startswith(b"HTTP/1.1 200 OK\r\ndate: Sat, 05 Dec 2026 13:00:01")
