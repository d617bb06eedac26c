"""Rate limits that hold across workers and instances: counted in one Redis.

Each test runs a Redis of its own (tests/policy_servers.py), so it can stop it mid-run.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import httpx
import pytest
from conftest import FIXTURES, client_for, start_app, stop_app
from policy_servers import LIMITED, Instance, RedisServer

from backsmith.api import _check_counters, load_model
from backsmith.errors import InputError
from backsmith.settings import load_settings

pytestmark = pytest.mark.anyio


async def test_two_instances_on_one_redis_allow_the_limit_once_between_them(
    redis_server: RedisServer, instances: list[Instance], tmp_path: Path
) -> None:
    env = {"BACKSMITH_REDIS_URL": redis_server.url}
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        instances.append(Instance(LIMITED, folder, env))
    for instance in instances:
        instance.wait_ready()
    limit = 5  # the contract's root limit: 5/minute for each caller
    async with httpx.AsyncClient(timeout=10) as client:
        burst = [client.get(f"{instances[n % 2].base}/notes") for n in range(3 * limit)]
        answers = await asyncio.gather(*burst)
    statuses = sorted(answer.status_code for answer in answers)
    assert statuses == [200] * limit + [429] * (2 * limit)  # exact: one moving window
    for answer in answers:
        assert "ratelimit" in answer.headers and "ratelimit-policy" in answer.headers
    assert redis_server.keys_without_expiry() == []  # no counter can lock a caller out


async def test_a_proxys_forwarded_address_counts_only_when_the_proxy_is_trusted(
    instances: list[Instance], tmp_path: Path
) -> None:
    for name, trusted in (("open", ""), ("proxied", "127.0.0.1")):
        folder = tmp_path / name
        folder.mkdir()
        instances.append(Instance(LIMITED, folder, {"BACKSMITH_TRUSTED_PROXIES": trusted}))
    for instance in instances:
        instance.wait_ready()
    for instance, expected in zip(instances, ([4, 3, 2], [4, 4, 3]), strict=True):
        left = []
        for client in ("192.0.2.1", "192.0.2.2", "192.0.2.2"):
            answer = httpx.get(f"{instance.base}/notes", headers={"X-Forwarded-For": client})
            left.append(int(answer.headers["ratelimit"].split(";r=")[1].split(";")[0]))
        assert left == expected, instance.base


async def test_with_redis_down_requests_are_served_or_refused_as_configured_never_500(
    redis_server: RedisServer, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    model = load_model(LIMITED)
    database = f"sqlite:///{tmp_path / 'notes'}"
    opened = await start_app(model, f"{database}-open.db", redis_url=redis_server.url)
    closed = await start_app(
        model, f"{database}-closed.db", redis_url=redis_server.url, rate_limit_failure="closed"
    )
    try:
        async with client_for(opened) as open_client, client_for(closed) as closed_client:
            assert (await open_client.get("/notes")).status_code == 200
            redis_server.stop()
            with caplog.at_level(logging.WARNING, logger="backsmith"):
                served = [await open_client.get("/notes") for _ in range(3)]
            refused = await closed_client.get("/notes")
            redis_server.start()  # an empty Redis again: the counting starts anew
            again = await closed_client.get("/notes")
    finally:
        await stop_app(opened)
        await stop_app(closed)
    assert [answer.status_code for answer in served] == [200, 200, 200]
    assert "ratelimit" not in served[0].headers
    warnings = [r for r in caplog.records if "served without their rate limit" in r.message]
    assert len(warnings) == 1  # said once, not once per request
    assert redis_server.url.split("//")[1].split("/")[0] in warnings[0].message
    assert refused.status_code == 503 and refused.headers["retry-after"] == "1"
    assert refused.headers["content-type"] == "application/problem+json"
    assert again.status_code == 200 and again.headers["ratelimit"] == '"5-per-minute";r=4;t=60'


async def test_login_limits_are_counted_in_redis_by_every_instance(
    redis_server: RedisServer, tmp_path: Path
) -> None:
    model = load_model(FIXTURES / "accounts" / "api.yaml")
    settings = {"redis_url": redis_server.url, "jwt_secret": "x" * 32}
    apps = [await start_app(model, f"sqlite:///{tmp_path / n}.db", **settings) for n in "ab"]
    try:
        answers = []
        for attempt in range(6):
            async with client_for(apps[attempt % 2]) as client:
                body = {"user": {"email": "nobody@example.com", "password": "not-it"}}
                answers.append((await client.post("/users/login", json=body)).status_code)
    finally:
        for app in apps:
            await stop_app(app)
    assert answers == [401] * 5 + [429]  # 5/minute for the two, not for each


def test_several_workers_counting_alone_are_refused_in_production_and_said_in_development(
    caplog: pytest.LogCaptureFixture,
) -> None:
    model = load_model(LIMITED)

    def check(**values: object) -> None:
        _check_counters(model, load_settings(model.options, environ={}, **values))

    with pytest.raises(InputError, match="redis_url: with 2 workers and no Redis"):
        check(workers=2, env="production")
    with caplog.at_level(logging.WARNING, logger="backsmith"):
        check(workers=2)
    assert "allowing 2 times each limit; set BACKSMITH_REDIS_URL" in caplog.text
    check(workers=2, env="production", redis_url="redis://127.0.0.1:6379/0")
    check(workers=1, env="production")
