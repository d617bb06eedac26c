"""`/metrics`: Prometheus text whose values move as known traffic says they must, in one
process and across two workers; moved, switched off, or asking for a token or a role.

Every app of a test process counts into the same metrics, so each test reads how far a
value moved between two scrapes, never its value.
"""

from __future__ import annotations

import bisect
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from conftest import BOOKSHOP, FIXTURES, served
from policy_servers import Instance
from prometheus_client.parser import text_string_to_metric_families

from backsmith.api import load_model
from backsmith.events.relay import Policy, Relay
from backsmith.events.webhooks import WebhookSender
from backsmith.storage.database import Database
from backsmith.storage.engine import dialect_for

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
SECRET = "metrics-test-secret-of-32-bytes-or-more"


def parse(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def scrape(client: httpx.AsyncClient, path: str = "/metrics") -> Samples:
    response = await client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    return parse(response.text)


@pytest.mark.anyio
async def test_requests_are_counted_and_timed_by_operation_and_status_class(
    database_url: str,
) -> None:
    async with served(load_model(BOOKSHOP), database_url) as client:
        before = await scrape(client)
        for _ in range(3):
            assert (await client.get("/authors")).status_code == 200
        assert (await client.get("/authors/999")).status_code == 404
        assert (await client.post("/authors", json={"name": "N. K. Jemisin"})).status_code == 201
        after = await scrape(client)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("backsmith_requests_total", operation="listAuthors", status="2xx") == 3
    assert moved("backsmith_requests_total", operation="getAuthor", status="4xx") == 1
    assert moved("backsmith_requests_total", operation="createAuthor", status="2xx") == 1
    count = "backsmith_request_duration_seconds_count"
    assert moved(count, operation="listAuthors", status="2xx") == 3
    slowest = "backsmith_request_duration_seconds_bucket"
    assert moved(slowest, operation="listAuthors", status="2xx", le="+Inf") == 3
    assert moved("backsmith_request_duration_seconds_sum", operation="listAuthors", status="2xx")
    assert ("backsmith_requests_in_flight", frozenset()) in after  # sampled each second
    assert ("backsmith_db_pool_in_use", frozenset()) in after
    assert ("backsmith_db_pool_size", frozenset()) in after
    assert ("backsmith_db_pool_waiting", frozenset()) in after


@pytest.mark.anyio
async def test_policies_count_refusals_replays_and_cache_hits(tmp_path: Path) -> None:
    database_url = f"sqlite:///{tmp_path / 'policies.db'}"
    async with served(load_model(FIXTURES / "policies" / "limited.yaml"), database_url) as client:
        before = await scrape(client)
        statuses = [(await client.get("/notes")).status_code for _ in range(7)]  # 5/minute
        after = await scrape(client)
    assert statuses.count(429) == 2
    refused = "backsmith_rate_limited_total"
    assert (
        value(after, refused, operation="listNotes") - value(before, refused, operation="listNotes")
        == 2
    )

    cached = FIXTURES / "policies" / "cached.yaml"
    async with served(load_model(cached), f"sqlite:///{tmp_path / 'cached.db'}") as client:
        author = (await client.post("/authors", json={"name": "Ursula"})).json()
        book = await client.post("/books", json={"title": "Lathe", "author_id": author["id"]})
        before = await scrape(client)
        for _ in range(3):
            assert (await client.get(f"/books/{book.json()['id']}")).status_code == 200
        after = await scrape(client)
    hits, misses = "backsmith_cache_hits_total", "backsmith_cache_misses_total"
    assert value(after, hits, operation="readBook") - value(before, hits, operation="readBook") == 2
    assert (
        value(after, misses, operation="readBook") - value(before, misses, operation="readBook")
        == 1
    )

    keyed = load_model(FIXTURES / "policies" / "keyed.yaml")
    payment = {"reference": "inv-1", "amount_cents": 1200}
    async with served(keyed, f"sqlite:///{tmp_path / 'keyed.db'}", jwt_secret="k" * 32) as client:
        before = await scrape(client)
        for _ in range(3):
            made = await client.post("/payments", json=payment, headers={"Idempotency-Key": "k1"})
            assert made.status_code == 201, made.text
        after = await scrape(client)
    replays = "backsmith_idempotency_replays_total"
    moved = value(after, replays, operation="createPayment") - value(
        before, replays, operation="createPayment"
    )
    assert moved == 2


@pytest.mark.anyio
async def test_the_relay_counts_failed_deliveries_and_the_backlog(
    database_url: str, tmp_path: Path
) -> None:
    from conftest import PARCELS, client_for, created, start_app, stop_app

    closed = "http://127.0.0.1:9/hooks?token=never-a-label"  # nothing listens on port 9
    app = await start_app(load_model(PARCELS), database_url, webhooks=[closed], relay=False)
    try:
        async with client_for(app) as client:
            before = await scrape(client)
            for number in range(3):
                await created(client, "/parcels", {"recipient": f"R{number}"})
            database = Database.for_url(database_url, dialect_for(database_url))
            relay = Relay(
                database, [WebhookSender(closed, "whsec_" + "a" * 32, timeout=2)], Policy()
            )
            assert await relay.count_backlog() == 3
            assert await relay.run_once() == 3
            await relay.close()
            await database.close()
            after = await scrape(client)
    finally:
        await stop_app(app)
    target = {"target": "http://127.0.0.1:9/hooks"}  # no query: it may hold a secret
    failures = "backsmith_event_delivery_failures_total"
    assert value(after, failures, **target) - value(before, failures, **target) == 3
    timed = "backsmith_event_delivery_seconds_count"
    assert value(after, timed, **target) - value(before, timed, **target) == 3
    assert value(after, "backsmith_outbox_backlog") == 3
    assert "never-a-label" not in str(after)


@pytest.mark.anyio
async def test_the_endpoint_moves_switches_off_and_asks_for_a_token_or_a_role(
    tmp_path: Path,
) -> None:
    bookshop = load_model(BOOKSHOP)
    url = f"sqlite:///{tmp_path / 'moved.db'}"
    async with served(bookshop, url, metrics_path="/ops/prom") as client:
        assert (await client.get("/metrics")).status_code == 404
        await scrape(client, "/ops/prom")
    async with served(bookshop, url, metrics=False) as client:
        assert (await client.get("/metrics")).status_code == 404
    async with served(bookshop, url, metrics_token="scrape-token") as client:
        refused = await client.get("/metrics")
        assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"
        wrong = await client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        good = await client.get("/metrics", headers={"Authorization": "Bearer scrape-token"})
        assert good.status_code == 200 and "backsmith_requests_total" in good.text
    async with served(bookshop, url, metrics_role="ops", jwt_secret=SECRET) as client:

        def token(roles: list[str]) -> dict[str, str]:
            claims = {"sub": "prometheus", "roles": roles, "exp": int(time.time()) + 60}
            return {"Authorization": f"Bearer {jwt.encode(claims, SECRET, algorithm='HS256')}"}

        assert (await client.get("/metrics", headers=token(["reader"]))).status_code == 403
        assert (await client.get("/metrics", headers=token(["ops"]))).status_code == 200
        assert (await client.get("/metrics")).status_code == 401


def test_two_workers_answer_one_total(tmp_path: Path, instances: list[Any]) -> None:
    """Each scrape reaches one worker and reads both workers' counts (multiprocess mode)."""
    shared = tmp_path / "prometheus"
    shared.mkdir()
    env = {
        "BACKSMITH_WORKERS": "2",
        "BACKSMITH_DATABASE_URL": f"sqlite:///{tmp_path}/two.db",
        "PROMETHEUS_MULTIPROC_DIR": str(shared),
        "BACKSMITH_POOL_SIZE": "6",  # 3 connections a worker on SQLite, which takes half
    }
    instance = Instance(BOOKSHOP, tmp_path, env)
    instances.append(instance)
    instance.wait_ready()
    listed = (
        "backsmith_requests_total",
        frozenset({("operation", "listAuthors"), ("status", "2xx")}),
    )
    for _ in range(40):  # a new connection each: the kernel spreads them over the workers
        with httpx.Client(base_url=instance.base) as client:
            assert client.get("/authors").status_code == 200
    time.sleep(1.2)  # each worker adds its answers to the shared files once a second
    totals, sizes = set(), set()
    for _ in range(6):
        with httpx.Client(base_url=instance.base) as client:
            found = parse(client.get("/metrics").text)
        totals.add(found.get(listed, 0.0))
        sizes.add(found.get(("backsmith_db_pool_size", frozenset()), 0.0))
    assert totals == {40.0}
    assert sizes == {6.0}  # both workers' pools, each of the setting's size
    instance.stop()
    # The server and each of its two workers counted into a file of their own.
    assert len(list(shared.glob("counter_*.db"))) >= 3


def test_answers_counted_in_plain_numbers_fold_into_what_observe_would_show() -> None:
    """The request layer counts answers as numbers and folds them into prometheus-client's
    histogram; the samples must be those of observing each answer."""
    from prometheus_client import CollectorRegistry, Histogram

    from backsmith.observe.metrics import _BOUNDS, LATENCY_BUCKETS, _add_observations

    seen = [0.0004, 0.001, 0.0011, 0.02, 0.02, 0.7, 3.0, 12.0]
    observed = Histogram("a", "a", buckets=LATENCY_BUCKETS, registry=CollectorRegistry())
    folded = Histogram("a", "a", buckets=LATENCY_BUCKETS, registry=CollectorRegistry())
    for seconds in seen:
        observed.observe(seconds)
    buckets = [0] * len(_BOUNDS)
    for seconds in seen:
        buckets[bisect.bisect_left(_BOUNDS, seconds)] += 1
    _add_observations(folded, sum(seen), buckets)

    def samples(histogram: Histogram) -> list[tuple[str, dict[str, str], float]]:
        every = [s for m in histogram.collect() for s in m.samples]
        return [(s.name, s.labels, s.value) for s in every if not s.name.endswith("_created")]

    assert samples(folded) == samples(observed)
