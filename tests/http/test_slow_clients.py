"""A real server against clients that are slow, many, or still waiting when it is told to
stop: each is bounded by a setting, and nothing hangs."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import time
from pathlib import Path

import httpx
import pytest
from policy_servers import Instance

pytestmark = pytest.mark.anyio
SLOW = Path(__file__).resolve().parent.parent / "fixtures" / "policies" / "slow.yaml"


def started(tmp_path: Path, **env: str) -> Instance:
    instance = Instance(SLOW, tmp_path, {f"BACKSMITH_{k.upper()}": v for k, v in env.items()})
    instance.wait_ready()
    return instance


def answer_of(sock: socket.socket, seconds: float) -> bytes:
    """What the server sends on `sock` until it closes it (or `seconds` pass)."""
    sock.settimeout(seconds)
    got = b""
    try:
        while chunk := sock.recv(4096):
            got += chunk
    except TimeoutError:
        pass
    return got


async def test_half_sent_heads_and_idle_connections_are_answered_408_and_closed(
    instances: list[Instance], tmp_path: Path
) -> None:
    server = started(tmp_path, read_timeout_seconds="1")
    instances.append(server)
    slow = []
    for number in range(40):
        sock = socket.create_connection(("127.0.0.1", server.port))
        if number % 2:  # half send a part of a head; the others nothing at all
            sock.sendall(b"POST /reports HTTP/1.1\r\nHost: x\r\nContent-Le")
        slow.append(sock)
    start = time.monotonic()
    quick = httpx.post(f"{server.base}/reports", json={"seconds": 0})  # served meanwhile
    quick_in = time.monotonic() - start
    answers = [answer_of(sock, 5) for sock in slow]
    for sock in slow:
        sock.close()
    assert quick.status_code == 200 and quick_in < 1
    assert all(answer.startswith(b"HTTP/1.1 408 ") for answer in answers), answers[:2]
    assert b'"code":"BSM410"' in answers[0] and b"application/problem+json" in answers[0]
    assert time.monotonic() - start < 4


async def test_a_body_that_stops_arriving_is_a_408(
    instances: list[Instance], tmp_path: Path
) -> None:
    server = started(tmp_path, read_timeout_seconds="1")
    instances.append(server)
    sock = socket.create_connection(("127.0.0.1", server.port))
    head = b"POST /reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    sock.sendall(head + b"Content-Length: 20\r\n\r\n" + b'{"seco')
    answer = answer_of(sock, 5)
    sock.close()
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert b"connection: close" in answer.lower() and b'"code":"BSM410"' in answer


async def test_a_kept_alive_connection_is_closed_after_five_idle_seconds(
    instances: list[Instance], tmp_path: Path
) -> None:
    """uvicorn's keep-alive (5 s between requests), kept by the read watch: a connection
    that asks again within it is answered on the same socket, one left idle is closed."""
    server = started(tmp_path)
    instances.append(server)
    request = b"POST /reports HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
    request += b'Content-Length: 14\r\n\r\n{"seconds": 0}'
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.sendall(request)
    sock.settimeout(5)
    first = sock.recv(65536)
    time.sleep(2)
    sock.sendall(request)
    second = sock.recv(65536)
    idle_from = time.monotonic()
    rest = answer_of(sock, 9)  # until the server closes it
    idle = time.monotonic() - idle_from
    sock.close()
    assert first.startswith(b"HTTP/1.1 200 ") and second.startswith(b"HTTP/1.1 200 "), second
    assert rest == b"" and 4.9 < idle < 7.5, (rest, idle)


async def test_past_max_connections_a_worker_answers_503_problems(
    instances: list[Instance], tmp_path: Path
) -> None:
    server = started(tmp_path, max_connections="4")
    instances.append(server)
    async with httpx.AsyncClient(timeout=10, limits=httpx.Limits(max_connections=12)) as client:
        busy = [
            asyncio.ensure_future(client.post(f"{server.base}/reports", json={"seconds": 1}))
            for _ in range(3)
        ]
        await asyncio.sleep(0.4)  # three in flight: the next connection is the fourth
        more = await asyncio.gather(
            *(client.post(f"{server.base}/reports", json={"seconds": 0}) for _ in range(6))
        )
        first = await asyncio.gather(*busy)
    assert [answer.status_code for answer in first] == [200, 200, 200]
    assert {answer.status_code for answer in more} == {503}
    refused = more[0]
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["retry-after"] == "1"


async def test_sigterm_lets_requests_in_flight_finish_within_its_bound(
    instances: list[Instance], tmp_path: Path
) -> None:
    (tmp_path / "patient").mkdir()
    patient = started(tmp_path / "patient")
    instances.append(patient)
    async with httpx.AsyncClient(timeout=10) as client:
        running = asyncio.ensure_future(client.post(f"{patient.base}/reports", json={"seconds": 1}))
        await asyncio.sleep(0.3)
        os.killpg(patient.process.pid, signal.SIGTERM)
        answer = await running
    assert answer.status_code == 200  # finished, though the server was told to stop
    # uvicorn ends by raising the signal it caught again, once it has drained
    assert patient.process.wait(timeout=10) in (0, -signal.SIGTERM)

    hurried_folder = tmp_path / "hurried"
    hurried_folder.mkdir()
    hurried = started(hurried_folder, shutdown_seconds="1")
    instances.append(hurried)
    async with httpx.AsyncClient(timeout=10) as client:
        running = asyncio.ensure_future(client.post(f"{hurried.base}/reports", json={"seconds": 8}))
        await asyncio.sleep(0.3)
        start = time.monotonic()
        os.killpg(hurried.process.pid, signal.SIGTERM)
        cut = await running  # cut off at the bound, not waited for
    assert cut.status_code == 503 and cut.json()["detail"].startswith("The server is stopping")
    hurried.process.wait(timeout=10)
    assert time.monotonic() - start < 5
