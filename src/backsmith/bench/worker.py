"""The built-in load generator: raw HTTP/1.1 on keep-alive connections, in a process of its own.

    python -m backsmith.bench.worker

It reads one JSON command per line on stdin and answers in JSON lines on stdout: progress
while a run goes, then its result (an encoded HDR histogram and the statuses per stream).
Requests are bytes written as they are; an answer is read as its head and then its
Content-Length (or chunks), so a request costs a few microseconds here, not the
hundreds an HTTP client library spends. Only the standard library, hdrhistogram and uvloop
are imported, so the process starts in a tenth of a second.
"""

from __future__ import annotations

import asyncio
import json
import math
import random
import sys
import time
from pathlib import Path
from typing import Any

from hdrh.histogram import HdrHistogram  # type: ignore[import-untyped]

HIGHEST_US = 60_000_000  # a minute: slower answers are recorded as a minute
GRACE_SECONDS = 30.0  # how long answers still in flight at the end are waited for
_NO_STATUS = 0


def write_requests(path: Path, requests: list[bytes]) -> None:
    """The file format both generators read: `<length>\\n<bytes>` per request."""
    with path.open("wb") as out:
        for request in requests:
            out.write(b"%d\n" % len(request))
            out.write(request)


def read_requests(path: Path) -> list[bytes]:
    data = path.read_bytes()
    found, position = [], 0
    while position < len(data):
        newline = data.index(b"\n", position)
        size = int(data[position:newline])
        found.append(data[newline + 1 : newline + 1 + size])
        position = newline + 1 + size
    return found


def new_histogram() -> Any:
    return HdrHistogram(1, HIGHEST_US, 3)


class Stream:
    """One operation's requests, cycled in order, and what their answers were."""

    def __init__(self, name: str, requests: list[bytes], once: bool = False) -> None:
        self.name = name
        self.requests = requests
        self.once = once  # each request changes its row (a delete): sent once, not cycled
        self.next = 0
        self.histogram = new_histogram()
        self.statuses: dict[int, int] = {}
        self.transport = 0
        self.first_failure = ""

    @property
    def spent(self) -> bool:
        return self.once and self.next >= len(self.requests)

    def take(self) -> bytes:
        request = self.requests[self.next % len(self.requests)]
        self.next += 1
        return request

    def record(self, status: int, seconds: float) -> None:
        self.statuses[status] = self.statuses.get(status, 0) + 1
        self.histogram.record_value(min(HIGHEST_US, max(1, int(seconds * 1_000_000))))

    def failed(self, error: BaseException) -> None:
        self.transport += 1
        self.first_failure = self.first_failure or f"{type(error).__name__}: {error}"

    def result(self) -> dict[str, Any]:
        return {
            "histogram": self.histogram.encode().decode("ascii"),
            "statuses": {str(status): count for status, count in self.statuses.items()},
            "transport": self.transport,
            "first_failure": self.first_failure,
        }


class HttpConnection(asyncio.Protocol):
    """One keep-alive connection: one request at a time, its answer parsed as it arrives."""

    def __init__(self) -> None:
        self.transport: Any = None  # uvloop's transports are not asyncio.Transport
        self.buffer = bytearray()
        self.waiter: asyncio.Future[int] | None = None
        self.closed = False
        self.close_after = False
        self._reset()

    def _reset(self) -> None:
        self.status = _NO_STATUS
        self.body_start = 0
        self.length = 0
        self.chunked = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("the server closed the connection"))

    def send(self, request: bytes) -> asyncio.Future[int]:
        self.waiter = asyncio.get_running_loop().create_future()
        self._reset()
        self.transport.write(request)
        return self.waiter

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        try:
            self._parse()
        except ValueError as error:  # not HTTP: a transport error for this request
            if self.waiter is not None and not self.waiter.done():
                self.waiter.set_exception(ConnectionError(f"unparsable answer: {error}"))
            self.close()

    def _parse(self) -> None:
        buffer = self.buffer
        if self.status == _NO_STATUS:
            end = buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buffer[:end]).lower()
            self.status = int(head[9:12])
            self.body_start = end + 4
            at = head.find(b"\r\ncontent-length:")
            if at >= 0:
                stop = head.find(b"\r\n", at + 2)
                self.length = int(head[at + 17 : stop if stop >= 0 else len(head)])
            else:
                self.chunked = b"\r\ntransfer-encoding: chunked" in head
            self.close_after = b"\r\nconnection: close" in head
        total = self._chunked_end() if self.chunked else self.body_start + self.length
        if total < 0 or len(buffer) < total:
            return
        del buffer[:total]
        status = self.status
        self._reset()
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(status)

    def _chunked_end(self) -> int:
        """Where a chunked body ends in the buffer; -1 until all of it has arrived."""
        buffer, position = self.buffer, self.body_start
        while True:
            newline = buffer.find(b"\r\n", position)
            if newline < 0:
                return -1
            size = int(bytes(buffer[position:newline]).split(b";")[0], 16)
            if size == 0:
                blank = buffer.find(b"\r\n", newline + 2)  # after any trailers
                return -1 if blank < 0 else blank + 2
            position = newline + 2 + size + 2
            if position > len(buffer):
                return -1

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class Run:
    """One command: streams picked by weight, on `connections` connections."""

    def __init__(self, command: dict[str, Any]) -> None:
        self.host = str(command["host"])
        self.port = int(command["port"])
        self.connections = int(command["connections"])
        self.streams = [
            Stream(s["name"], read_requests(Path(s["file"])), bool(s.get("once")))
            for s in command["streams"]
        ]
        self.schedule = _schedule([int(s.get("weight", 1)) for s in command["streams"]])
        self.turn = 0
        self.idle: list[HttpConnection] = []
        self.done = 0
        self.errors = 0
        self.in_flight: dict[int, Stream] = {}  # by connection slot: the request it waits on

    def spent(self) -> bool:
        """Whether a run of requests sent once has sent them all."""
        return any(stream.spent for stream in self.streams)

    def pick(self) -> Stream:
        if len(self.streams) == 1:
            return self.streams[0]
        stream = self.streams[self.schedule[self.turn % len(self.schedule)]]
        self.turn += 1
        return stream

    async def open_all(self) -> None:
        """Connect before the clock starts: no request's latency includes a TCP handshake."""
        loop = asyncio.get_running_loop()
        for _ in range(self.connections):
            try:
                _, protocol = await loop.create_connection(HttpConnection, self.host, self.port)
            except OSError:  # counted when a request meets it
                return
            self.idle.append(protocol)

    async def connection(self) -> HttpConnection:
        while self.idle:
            found = self.idle.pop()
            if not found.closed:
                return found
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(HttpConnection, self.host, self.port)
        return protocol

    async def exchange(self, conn: HttpConnection | None, request: bytes) -> tuple[Any, int]:
        """Send a request; (the connection to go on with, the status)."""
        if conn is None or conn.closed:
            conn = await self.connection()
        status = await conn.send(request)
        if conn.close_after:
            conn.close()
            conn = None
        return conn, status

    def count(self, stream: Stream, status: int | None, seconds: float, error: Any) -> None:
        self.done += 1
        if error is not None:
            self.errors += 1
            stream.failed(error)
        else:
            assert status is not None
            stream.record(status, seconds)
            if status >= 400:
                self.errors += 1

    async def closed_loop(self, seconds: float) -> None:
        deadline = time.perf_counter() + seconds

        async def one(slot: int) -> None:
            conn: HttpConnection | None = None
            while time.perf_counter() < deadline and not self.spent():
                stream = self.in_flight[slot] = self.pick()
                request = stream.take()  # before any wait: a request sent once goes once
                started = time.perf_counter()
                try:
                    conn, status = await self.exchange(conn, request)
                except Exception as error:  # any failure of one exchange is a transport error
                    self.count(stream, None, 0, error)
                    conn = None
                    await asyncio.sleep(0.01)  # a refused connect must not spin
                    continue
                self.count(stream, status, time.perf_counter() - started, None)
            self.in_flight.pop(slot, None)
            if conn is not None:
                self.idle.append(conn)

        await self._bounded([one(slot) for slot in range(self.connections)], seconds)

    async def open_loop(self, seconds: float, rate: float) -> None:
        """Requests at fixed intervals; latency from the time each was due to be sent, so
        a queue behind a slow answer shows in the figures (no coordinated omission)."""
        queue: asyncio.Queue[tuple[float, Stream, bytes] | None] = asyncio.Queue()
        start = time.perf_counter()
        total = max(1, int(rate * seconds))

        async def dispatch() -> None:
            for index in range(total):
                due = start + index / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                if self.spent():
                    break
                stream = self.pick()
                queue.put_nowait((due, stream, stream.take()))
            for _ in range(self.connections):
                queue.put_nowait(None)

        async def one(slot: int) -> None:
            conn: HttpConnection | None = None
            while (item := await queue.get()) is not None:
                due, stream, request = item
                self.in_flight[slot] = stream
                try:
                    conn, status = await self.exchange(conn, request)
                except Exception as error:  # any failure of one exchange is a transport error
                    self.count(stream, None, 0, error)
                    conn = None
                    continue
                self.count(stream, status, time.perf_counter() - due, None)
            self.in_flight.pop(slot, None)
            if conn is not None:
                self.idle.append(conn)

        slots = range(self.connections)
        await self._bounded([dispatch(), *(one(slot) for slot in slots)], seconds)

    async def _bounded(self, work: list[Any], seconds: float) -> None:
        tasks = [asyncio.ensure_future(item) for item in work]
        _, late = await asyncio.wait(tasks, timeout=seconds + GRACE_SECONDS)
        for task in late:
            task.cancel()
        for stream in self.in_flight.values():  # answers that never came: transport errors
            self.errors += 1
            stream.failed(TimeoutError(f"no answer within {GRACE_SECONDS:g} s of the end"))
        self.in_flight.clear()

    def close(self) -> None:
        for conn in self.idle:
            conn.close()
        self.idle.clear()


def _schedule(weights: list[int]) -> list[int]:
    """Stream indexes in the proportions of `weights`, shuffled the same way every run."""
    if len(weights) <= 1:
        return [0]
    divisor = 0
    for weight in weights:
        divisor = math.gcd(divisor, weight)
    counts = [weight // max(1, divisor) for weight in weights]
    scale = max(1, sum(counts) // 10_000)
    order = [i for i, count in enumerate(counts) for _ in range(max(1, count // scale))]
    random.Random(7).shuffle(order)
    return order


def _say(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def _phase(run: Run, name: str, seconds: float, rate: float | None) -> float:
    run.done = run.errors = 0
    started = time.perf_counter()

    async def report() -> None:
        while True:
            await asyncio.sleep(0.25)
            elapsed = time.perf_counter() - started
            _say(
                {
                    "progress": {
                        "phase": name,
                        "requests": run.done,
                        "errors": run.errors,
                        "elapsed": round(elapsed, 3),
                    }
                }
            )

    reporter = asyncio.ensure_future(report())
    try:
        if rate is None:
            await run.closed_loop(seconds)
        else:
            await run.open_loop(seconds, rate)
    finally:
        reporter.cancel()
    return time.perf_counter() - started


async def execute(command: dict[str, Any]) -> dict[str, Any]:
    """One run (a warm-up is a run of its own, whose figures the parent drops)."""
    run = Run(command)
    try:
        await run.open_all()
        elapsed = await _phase(run, "measure", float(command["duration"]), command.get("rate"))
    finally:
        run.close()
    return {"elapsed": elapsed, "streams": {s.name: s.result() for s in run.streams}}


def main() -> None:
    runner: Any = asyncio.run
    try:
        import uvloop

        runner = uvloop.run  # about twice the requests per second of the default loop
    except ImportError:  # pragma: no cover - uvicorn[standard] brings it
        pass
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            result = runner(execute(json.loads(line)))
        except Exception as error:  # reported to the parent, which raises it as its own
            _say({"error": f"{type(error).__name__}: {error}"})
            continue
        _say({"result": result})


if __name__ == "__main__":
    main()
