"""Tracing: a server span per request, a span per step, a span per statement; off, nothing.

The bookshop (examples/bookshop/api-spec.md) served with tracing on and its spans kept in
memory (an `InMemorySpanExporter` handed to `open_tracing` before the app is built), on
SQLite and PostgreSQL; then the real OTLP/HTTP exporter against a receiver on loopback,
and a process that serves with tracing off and imports nothing of OpenTelemetry.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
from conftest import ROOT, client_for, start_app, stop_app
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from backsmith.model.types import Model
from backsmith.observe import tracing
from backsmith.observe.tracing import current_trace_id, open_tracing
from backsmith.settings import load_settings

pytestmark = pytest.mark.anyio

# A caller's trace and span, as a W3C traceparent (the specification's own example ids).
CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"
TRACEPARENT = f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"
# Sent in bodies and paths; no span may carry it.
CANARY = "Canary-7f3a9c"


@pytest.fixture(autouse=True)
def no_tracing_left() -> Iterator[None]:
    """Each test starts and ends with no tracing open in the process."""
    yield
    if tracing._active is not None:
        tracing._active.shutdown()


@asynccontextmanager
async def traced(
    model: Model, database_url: str, memory: InMemorySpanExporter
) -> AsyncIterator[httpx.AsyncClient]:
    """A client to `model` served with tracing on, its spans kept in `memory`; the app's
    shutdown (leaving the block) sends every span there."""
    open_tracing(model, load_settings(model.options, environ={}, tracing=True), memory)
    app = await start_app(model, database_url, tracing=True)
    try:
        async with client_for(app) as client:
            yield client
    finally:
        await stop_app(app)


def server_span(spans: tuple[ReadableSpan, ...], name: str) -> ReadableSpan:
    found = [span for span in spans if span.kind == SpanKind.SERVER and span.name == name]
    assert len(found) == 1, [span.name for span in spans]
    return found[0]


def children(spans: tuple[ReadableSpan, ...], parent: ReadableSpan) -> list[ReadableSpan]:
    """The spans whose parent is `parent`, in the order they started."""
    made = [
        span
        for span in spans
        if span.parent is not None and span.parent.span_id == parent.context.span_id
    ]
    return sorted(made, key=lambda span: span.start_time or 0)


def chain(spans: tuple[ReadableSpan, ...], top: ReadableSpan) -> list[ReadableSpan]:
    """The steps under a server span, outermost first: each the only step in the one before."""
    found = []
    below = children(spans, top)
    while below and below[0].kind == SpanKind.INTERNAL:
        assert len(below) == 1, [span.name for span in below]
        found.append(below[0])
        below = children(spans, below[0])
    return found


def tree(spans: tuple[ReadableSpan, ...], top: ReadableSpan, depth: int = 0) -> list[str]:
    """The span's name and those of the spans under it, indented two spaces a level."""
    lines = ["  " * depth + top.name]
    for child in children(spans, top):
        lines.extend(tree(spans, child, depth + 1))
    return lines


def no_canary(spans: tuple[ReadableSpan, ...]) -> None:
    for span in spans:
        assert CANARY not in span.name
        for key, value in (span.attributes or {}).items():
            assert CANARY not in str(value), (span.name, key, value)


async def test_a_read_and_a_write_are_traced_from_the_request_to_each_statement(
    bookshop_model: Model, database_url: str
) -> None:
    memory = InMemorySpanExporter()
    system = "sqlite" if database_url.startswith("sqlite") else "postgresql"
    async with traced(bookshop_model, database_url, memory) as shop:
        made = await shop.post("/authors", json={"name": f"Ursula {CANARY}"})
        assert made.status_code == 201, made.text
        at = f"/authors/{made.json()['id']}"
        read = await shop.get(at, headers={"traceparent": TRACEPARENT})
        assert read.status_code == 200
        # The request's trace is still named after its span ended: the log line's.
        assert current_trace_id() == CALLER_TRACE
        changed = await shop.patch(at, json={"name": f"Ursula K. Le Guin {CANARY}"})
        assert changed.status_code == 200, changed.text
    spans = memory.get_finished_spans()

    get = server_span(spans, "GET /authors/{id}")
    assert get.attributes == {
        "http.request.method": "GET",
        "url.path": at,
        "url.scheme": "http",
        "network.protocol.version": "1.1",
        "http.route": "/authors/{id}",
        "http.response.status_code": 200,
        "backsmith.operation_id": "getAuthor",
    }
    assert get.status.status_code == StatusCode.UNSET
    # The caller's trace, continued: its span is the request's parent.
    assert f"{get.context.trace_id:032x}" == CALLER_TRACE
    assert get.parent is not None and f"{get.parent.span_id:016x}" == CALLER_SPAN
    steps = chain(spans, get)
    assert [step.name for step in steps] == ["conditions", "parse", "execute"]  # Server-Timing's
    statements = children(spans, steps[-1])
    assert [statement.kind for statement in statements] == [SpanKind.CLIENT]
    assert statements[0].name == "SELECT"
    assert statements[0].attributes is not None
    assert statements[0].attributes["db.system.name"] == system
    assert str(statements[0].attributes["db.query.text"]).startswith("SELECT authors.id")

    patch = server_span(spans, "PATCH /authors/{id}")
    assert patch.attributes is not None and patch.attributes["http.route"] == "/authors/{id}"
    assert patch.attributes["backsmith.operation_id"] == "updateAuthor"
    assert patch.parent is None  # no traceparent: a trace of its own
    steps = chain(spans, patch)
    assert steps[-1].name == "execute"
    written = [span for span in children(spans, steps[-1]) if span.name == "UPDATE"]
    assert len(written) == 1 and written[0].attributes is not None
    query = str(written[0].attributes["db.query.text"])
    assert query.startswith("UPDATE authors SET name=") and written[0].kind == SpanKind.CLIENT
    assert re.search(r"name=(\?|\$1)", query), query  # a placeholder where the value goes
    no_canary(spans)


async def test_a_client_error_is_not_a_failed_span_a_refused_statement_is(
    bookshop_model: Model, database_url: str
) -> None:
    memory = InMemorySpanExporter()
    async with traced(bookshop_model, database_url, memory) as shop:
        assert (await shop.get("/authors/404404")).status_code == 404
        assert (await shop.get("/nowhere/7")).status_code == 404
        author = (await shop.post("/authors", json={"name": "Octavia E. Butler"})).json()
        book = {
            "title": "Kindred",
            "isbn": "9780807083697",
            "price_cents": 1,
            "author_id": author["id"],
        }
        assert (await shop.post("/books", json=book)).status_code == 201
        again = await shop.post("/books", json={**book, "title": f"Kindred {CANARY}"})
        assert again.status_code == 409, again.text
    spans = memory.get_finished_spans()
    missing = server_span(spans, "GET /authors/{id}")
    assert missing.attributes is not None
    assert missing.attributes["http.response.status_code"] == 404
    assert all(
        span.status.status_code == StatusCode.UNSET for span in [missing, *chain(spans, missing)]
    )
    # No route matched: named by the method alone, never by the path as sent.
    unrouted = server_span(spans, "GET")
    assert unrouted.attributes is not None and "http.route" not in unrouted.attributes
    refused = [span for span in spans if span.status.status_code == StatusCode.ERROR]
    # The refused INSERT (tried again by the slug's derivation), and nothing above it.
    assert refused and {span.name for span in refused} == {"INSERT"}, refused
    for span in refused:
        assert span.attributes is not None and "error.type" in span.attributes
        assert not span.events  # no exception message: it may quote the refused value
    [conflict] = [
        span
        for span in spans
        if span.kind == SpanKind.SERVER
        and (span.attributes or {}).get("http.response.status_code") == 409
    ]
    assert conflict.name == "POST /books" and conflict.status.status_code == StatusCode.UNSET
    under = chain(spans, conflict)
    assert under[-1].name == "execute"
    assert {span.context.span_id for span in refused} <= {
        span.context.span_id for span in children(spans, under[-1])
    }
    no_canary(spans)


async def test_the_documented_bookshop_calls_give_the_documented_spans(
    bookshop_model: Model, database_url: str
) -> None:
    page = (ROOT / "docs" / "tracing.md").read_text(encoding="utf-8")
    shown = page.split("## Try it on the bookshop")[1]
    calls = shown.split("```sh\n")[2].split("```")[0]
    expected = shown.split("```text\n")[1].split("```")[0].rstrip("\n").splitlines()
    body = re.search(r"-d '([^']+)'", calls)
    header = re.search(r"-H 'traceparent: ([^']+)'", calls)
    paths = re.findall(r"localhost:8000(/\S+)", calls)
    assert body is not None and header is not None and len(paths) == 2, calls
    memory = InMemorySpanExporter()
    async with traced(bookshop_model, database_url, memory) as shop:
        assert (
            await shop.post(
                paths[0],
                content=body.group(1).encode(),
                headers={"content-type": "application/json"},
            )
        ).status_code == 201
        assert (
            await shop.get(paths[1], headers={"traceparent": header.group(1)})
        ).status_code == 200
    spans = memory.get_finished_spans()
    read = server_span(spans, expected[0])
    assert tree(spans, read) == expected
    trace, parent = header.group(1).split("-")[1:3]
    assert f"{read.context.trace_id:032x}" == trace and trace in shown
    assert read.parent is not None and f"{read.parent.span_id:016x}" == parent


def test_the_service_is_named_by_the_contract_unless_the_environment_names_it(
    bookshop_model: Model, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = load_settings(bookshop_model.options, environ={}, tracing=True)
    for variable in ("OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES"):
        monkeypatch.delenv(variable, raising=False)
    opened = open_tracing(bookshop_model, settings, InMemorySpanExporter())
    assert opened is not None
    assert opened.provider.resource.attributes["service.name"] == bookshop_model.title
    monkeypatch.setenv("OTEL_SERVICE_NAME", "shop-eu")
    opened = open_tracing(bookshop_model, settings, InMemorySpanExporter())
    assert opened is not None and opened.provider.resource.attributes["service.name"] == "shop-eu"
    off = load_settings(bookshop_model.options, environ={})
    assert open_tracing(bookshop_model, off) is None


class _Collector(BaseHTTPRequestHandler):
    """An OTLP/HTTP receiver: keeps each POST, answers an empty export response."""

    received: list[tuple[str, str, bytes]]

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["content-length"]))
        self.received.append((self.path, self.headers["content-type"], body))
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:  # the test reads what arrived instead
        pass


@pytest.fixture
def collector() -> Iterator[tuple[str, list[tuple[str, str, bytes]]]]:
    """A receiver on loopback in a thread of its own: its base URL and what it received."""
    received: list[tuple[str, str, bytes]] = []
    handler = type("Collector", (_Collector,), {"received": received})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()
    server.server_close()


async def test_the_otlp_exporter_sends_the_spans_when_the_app_shuts_down(
    bookshop_model: Model,
    tmp_path: Path,
    collector: tuple[str, list[tuple[str, str, bytes]]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, received = collector
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "60000")  # only the shutdown sends
    monkeypatch.delenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", raising=False)
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    app = await start_app(bookshop_model, f"sqlite:///{tmp_path / 'shop.db'}", tracing=True)
    try:
        async with client_for(app) as shop:
            assert (await shop.get("/authors/1")).status_code == 404
        assert received == []
    finally:
        await stop_app(app)
    assert [(path, kind) for path, kind, _ in received] == [
        ("/v1/traces", "application/x-protobuf")
    ]
    sent = ExportTraceServiceRequest.FromString(received[0][2])
    [resource] = sent.resource_spans
    named = {a.key: a.value.string_value for a in resource.resource.attributes}
    assert named["service.name"] == bookshop_model.title
    names = [span.name for scope in resource.scope_spans for span in scope.spans]
    assert "GET /authors/{id}" in names and "execute" in names


OFF = """
import asyncio, sys
sys.path.insert(0, {tests!r})
from conftest import BOOKSHOP, served
from backsmith.api import load_model
from backsmith.observe.tracing import current_trace_id

async def main():
    async with served(load_model(BOOKSHOP), {url!r}) as shop:
        assert (await shop.post("/authors", json={{"name": "Ursula"}})).status_code == 201
        read = await shop.get("/authors/1", headers={{"traceparent": {header!r}}})
        assert read.status_code == 200
        assert current_trace_id() is None

asyncio.run(main())
print(sorted(name for name in sys.modules if name.startswith("opentelemetry")))
"""


def test_with_tracing_off_nothing_of_opentelemetry_is_imported(tmp_path: Path) -> None:
    script = OFF.format(
        tests=str(ROOT / "tests"), url=f"sqlite:///{tmp_path / 'off.db'}", header=TRACEPARENT
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
