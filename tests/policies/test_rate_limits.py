"""Rate limits in one process: the fields on every answer, 429s, windows, callers.

The contract (tests/fixtures/policies/limited.yaml) limits every operation at its root,
one operation with two windows of its own, and a path item whose operation needs a bearer
token. Counting happens before the database is read: these run on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
import pytest
from conftest import ROOT, bearer, client_for, start_app, stop_app
from policy_servers import LIMITED

from backsmith.api import load_model
from backsmith.http.app import BacksmithApp
from backsmith.model.types import Model

pytestmark = pytest.mark.anyio

SECRET = "rate-limit-test-secret-of-32-bytes-or-more"
# An RFC 8941 list member as the draft writes them: "name";key=integer;...
_MEMBER = re.compile(r'^"([a-z0-9-]+)"((?:;[a-z]+=\d+)+)$')


def fields(header: str) -> dict[str, dict[str, int]]:
    """A RateLimit or RateLimit-Policy field parsed as an RFC 8941 list: name -> params."""
    parsed: dict[str, dict[str, int]] = {}
    for member in header.split(", "):
        found = _MEMBER.match(member)
        assert found is not None, f"not an RFC 8941 list member: {member!r} in {header!r}"
        params = dict(part.split("=") for part in found.group(2).split(";")[1:])
        parsed[found.group(1)] = {key: int(value) for key, value in params.items()}
    return parsed


@pytest.fixture(autouse=True)
async def whole_minute() -> None:
    """Start clear of a minute's end: counted in memory, windows start on the minute, and
    one crossed mid-test weighs its hits as the sliding window does, a unit off or so."""
    if time.time() % 60 > 50:
        await anyio.sleep(60.5 - time.time() % 60)


@pytest.fixture(scope="module")
def limited() -> Model:
    return load_model(LIMITED)


@pytest.fixture
async def app(limited: Model, database_url: str) -> AsyncIterator[BacksmithApp]:
    started = await start_app(limited, database_url, jwt_secret=SECRET)
    yield started
    await stop_app(started)


def from_address(app: BacksmithApp, address: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, client=(address, 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://test")


async def test_every_answer_carries_the_fields_and_the_one_past_the_limit_is_a_429(
    app: BacksmithApp,
) -> None:
    async with client_for(app) as client:
        answers = [await client.get("/notes"), await client.get("/notes/404")]
        answers += [await client.get("/notes") for _ in range(3)]
        over = await client.get("/notes/1")
    # A 200 and a 404 alike: the root's limit counts every operation that names none.
    assert [a.status_code for a in answers] == [200, 404, 200, 200, 200]
    for spent, answer in enumerate(answers, start=1):
        assert fields(answer.headers["ratelimit-policy"]) == {"5-per-minute": {"q": 5, "w": 60}}
        state = fields(answer.headers["ratelimit"])["5-per-minute"]
        assert state["r"] == 5 - spent and 0 < state["t"] <= 60
    assert over.status_code == 429
    assert over.headers["content-type"] == "application/problem+json"
    problem = over.json()
    assert problem["type"].endswith(":quota-exceeded") and problem["code"] == "BSM303"
    assert problem["status"] == 429 and "5 per minute" in problem["detail"]
    wait = int(over.headers["retry-after"])
    state = fields(over.headers["ratelimit"])["5-per-minute"]
    assert state["r"] == 0 and wait >= max(1, state["t"])


async def test_an_operations_own_windows_are_counted_apart_and_the_shortest_returns_first(
    app: BacksmithApp,
) -> None:
    # The second's windows start on the second, and a window just gone still weighs its
    # hits by the part of it left: start early in one, so the three posts share it.
    await anyio.sleep(1.01 - time.time() % 1)
    async with client_for(app) as client:
        made = [await client.post("/notes", json={"text": "a"}) for _ in range(2)]
        refused = await client.post("/notes", json={"text": ""})  # over 2/second first
        listed = await client.get("/notes")  # the root's counter is untouched by the posts
        await anyio.sleep(2.05)  # two windows on: the posts' window no longer weighs
        invalid = await client.post("/notes", json={"text": ""})
    assert [m.status_code for m in made] == [201, 201]
    policy = fields(made[0].headers["ratelimit-policy"])
    assert policy == {"2-per-second": {"q": 2, "w": 1}, "4-per-minute": {"q": 4, "w": 60}}
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    assert list(fields(refused.headers["ratelimit"])) == ["2-per-second"]
    assert fields(listed.headers["ratelimit"])["5-per-minute"]["r"] == 4
    # Two seconds on, the request is counted and answered (a 422 carries the fields too),
    # and the minute's window shows its third hit.
    assert invalid.status_code == 422
    state = fields(invalid.headers["ratelimit"])
    assert state["2-per-second"]["r"] == 1 and state["4-per-minute"]["r"] == 1


async def test_callers_are_counted_apart_and_a_401_spends_nothing(app: BacksmithApp) -> None:
    ann, bob = bearer(SECRET, "ann"), bearer(SECRET, "bob")
    async with client_for(app) as client:
        nobody = [(await client.get("/drafts")).status_code for _ in range(5)]
        anns = [(await client.get("/drafts", headers=ann)).status_code for _ in range(4)]
        bobs = await client.get("/drafts", headers=bob)
    assert nobody == [401] * 5  # never a 429: refused callers are not counted
    assert anns == [200, 200, 200, 429]
    assert bobs.status_code == 200
    assert fields(bobs.headers["ratelimit"])["3-per-minute"]["r"] == 2


async def test_anonymous_callers_are_counted_by_address_an_ipv6_one_by_its_64(
    app: BacksmithApp,
) -> None:
    async def remaining(address: str) -> int:
        async with from_address(app, address) as client:
            answer = await client.get("/notes")
        return fields(answer.headers["ratelimit"])["5-per-minute"]["r"]

    assert [await remaining("127.0.0.2") for _ in range(2)] == [4, 3]
    assert await remaining("127.0.0.3") == 4
    assert await remaining("::ffff:127.0.0.3") == 3  # the same IPv4 address, mapped
    assert await remaining("fd00::1") == 4
    assert await remaining("fd00::ffff:2") == 3  # one host holds a whole /64


async def test_the_documented_example_answers_as_the_docs_say(tmp_path: Path) -> None:
    page = (ROOT / "docs" / "rate-limits.md").read_text(encoding="utf-8")
    contract = page.split("Save this as `notes.yaml`:\n\n```yaml\n")[1].split("```")[0]
    shown = page.split("```sh\nbacksmith serve notes.yaml &\n")[1].split("```")[0]
    expected = [line[2:] for line in shown.splitlines() if line.startswith("# ")]
    (tmp_path / "notes.yaml").write_text(contract, encoding="utf-8")
    app = await start_app(load_model(tmp_path / "notes.yaml"), f"sqlite:///{tmp_path}/n.db")
    try:
        async with client_for(app) as client:
            listed = await client.get("/notes")
            posts = [await client.post("/notes", json={"text": "hi"}) for _ in range(4)]
    finally:
        await stop_app(app)
    said = [f"RateLimit-Policy: {listed.headers['ratelimit-policy']}"]
    said.append(f"RateLimit: {listed.headers['ratelimit']}")
    said.append(" ".join(str(post.status_code) for post in posts[:3]))
    said += ["HTTP/1.1 429 Too Many Requests", f"Retry-After: {posts[3].headers['retry-after']}"]
    body = posts[3].text

    def alike(lines: list[str]) -> list[str]:  # t depends on where in its window it ran
        return [re.sub(r";t=\d+", ";t=T", line) for line in lines]

    assert alike(said) == alike(expected[:5])
    assert body.startswith(expected[5].removesuffix(","))
    assert expected[6].strip().removesuffix(",...}") in body


async def test_a_callers_key_is_made_once_per_address_and_forgotten_past_the_cap(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from backsmith.model.policies import RateLimit, Window
    from backsmith.policies import rate_limits
    from backsmith.policies.counters import Counters
    from backsmith.security.tokens import Principal

    limit = rate_limits.OperationLimit(
        RateLimit((Window(5, "minute"),)), Counters(), fail_closed=False
    )

    class Asking:
        def __init__(self, host: str, port: int, subject: str | None = None) -> None:
            self.scope = {"client": (host, port)}
            self.principal = None if subject is None else Principal(subject=subject)

    first = limit.key_of(Asking("fd00::1", 1000))
    assert first == limit.prefix + "address:fd00::/64"
    assert limit.key_of(Asking("fd00::1", 2000)) is first  # another connection, one key
    assert limit.key_of(Asking("fd00::1", 1000, "ann")) == limit.prefix + "subject:ann"
    monkeypatch.setattr(rate_limits, "_KEYS_KEPT", 2)
    limit.key_of(Asking("127.0.0.2", 1))
    assert len(limit._keys) == 2
    assert limit.key_of(Asking("127.0.0.3", 1)) == limit.prefix + "address:127.0.0.3"
    assert len(limit._keys) == 1  # past the cap, made again as callers come
