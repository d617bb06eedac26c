"""The counters: a sliding window per key, in memory or in Redis, and the wait it tells."""

from __future__ import annotations

import math
import re
import time

import anyio
import pytest
from hypothesis import given
from hypothesis import strategies as st
from policy_servers import RedisServer

from backsmith.policies.counters import Counters, CountersDown, parse_limit, window_state

pytestmark = pytest.mark.anyio


def weighted_after(
    wait: float, length: float, last: int, last_left: float, this: int, this_left: float
) -> int:
    """The count a hit would be checked against `wait` seconds later, as limits weighs it."""
    ends = this_left - length
    if wait < ends:
        return math.floor(last * max(0.0, last_left - wait) / length) + this
    moved = wait - ends  # this window became the last one `moved` seconds ago
    if moved >= length:
        return 0
    return math.floor(this * (length - moved) / length)


@given(
    amount=st.integers(1, 50),
    last=st.integers(0, 60),
    this=st.integers(0, 60),
    last_part=st.floats(0.01, 1.0),
    this_part=st.floats(0.01, 1.0),
)
def test_the_wait_told_is_the_first_moment_one_more_hit_is_let_in(
    amount: int, last: int, this: int, last_part: float, this_part: float
) -> None:
    length = 60.0
    this_left = length + this_part * length  # this window runs on for this_part of a length
    last_left = min(last_part, this_part) * length  # the last one weighs until this one ends
    remaining, wait, _ = window_state(amount, length, last, last_left, this, this_left)
    now = weighted_after(0, length, last, last_left, this, this_left)
    assert remaining == max(0, amount - now)
    if remaining:
        return
    assert weighted_after(wait, length, last, last_left, this, this_left) + 1 <= amount
    assert weighted_after(wait - 0.01, length, last, last_left, this, this_left) + 1 > amount


@pytest.fixture(params=["memory", "redis"])
def counters(request: pytest.FixtureRequest) -> Counters:
    if request.param == "memory":
        return Counters()
    server: RedisServer = request.getfixturevalue("redis_server")
    return Counters(server.url)


async def test_hits_are_counted_per_key_and_a_refused_one_is_not(counters: Counters) -> None:
    limit = parse_limit("2/second")
    if not counters.shared:  # memory windows start on the second: begin one there
        await anyio.sleep(1 - time.time() % 1)
    assert await counters.allows(limit, "a") and await counters.reset_in(limit, "a") == 0
    first = await counters.take(limit, "a")
    assert first.allowed and first.remaining == 1 and 0 < first.reset_s <= 1
    assert await counters.hit(limit, "a")
    assert not await counters.allows(limit, "a")
    refused = await counters.take(limit, "a")
    assert not refused.allowed and refused.remaining == 0
    wait = await counters.reset_in(limit, "a")
    assert 0 < wait <= 2
    assert await counters.allows(limit, "b")  # another key has its own count
    await anyio.sleep(wait)
    assert await counters.hit(limit, "a")  # let in at the moment told, not before
    await counters.close()


async def test_an_unreachable_redis_is_said_at_once_not_waited_for() -> None:
    counters = Counters("redis://127.0.0.1:1/0")  # nothing listens on port 1
    start = anyio.current_time()
    with pytest.raises(CountersDown, match=re.escape("redis://127.0.0.1:1/0")):
        await counters.take(parse_limit("1/second"), "a")
    with pytest.raises(CountersDown):
        await counters.allows(parse_limit("1/second"), "a")
    with pytest.raises(CountersDown):
        await counters.reset_in(parse_limit("1/second"), "a")
    assert anyio.current_time() - start < 2
    assert not await counters.check()
    await counters.close()


def test_a_redis_password_is_never_shown() -> None:
    assert Counters("redis://:hunter2@127.0.0.1:6379/0").where == "redis://:***@127.0.0.1:6379/0"


async def test_a_busy_key_takes_blocks_yet_two_processes_never_pass_the_limit_together(
    redis_server: RedisServer,
) -> None:
    first, second = Counters(redis_server.url), Counters(redis_server.url)
    limit = parse_limit("200/minute")
    allowed = 0
    for turn in range(600):
        counters = (first, second)[turn % 2]
        allowed += (await counters.take(limit, "busy")).allowed
    assert allowed == 200  # exactly: held units count as spent for the other process
    quiet = parse_limit("100000/hour")
    counted = [await first.take(quiet, "quiet") for _ in range(400)]
    assert all(count.allowed for count in counted)
    assert first._blocks[quiet.key_for("quiet")].size > 1  # a busy key went by blocks
    # What it tells is what the store has left for everyone plus what it holds itself.
    left = counted[-1].remaining
    stored = (await second.take(quiet, "quiet")).remaining
    assert stored == left - 1 - first._blocks[quiet.key_for("quiet")].units
    await first.close()
    await second.close()


async def test_a_hit_on_held_units_is_counted_without_the_store(counters: Counters) -> None:
    """`take_held` counts from a block this process holds and says None where only the
    store can tell; a full window is refused from memory until a hit fits again."""
    busy = parse_limit("100000/hour")
    assert counters.take_held(busy, "held") is None  # nothing held yet
    for _ in range(50):
        await counters.take(busy, "held")
    block = counters._blocks[busy.key_for("held")]
    assert block.units > 0
    units = block.units
    held = counters.take_held(busy, "held")
    assert held is not None and held.allowed and block.units == units - 1
    tight = parse_limit("2/hour")
    assert [(await counters.take(tight, "tight")).allowed for _ in range(3)] == [
        True,
        True,
        False,
    ]
    refused = counters.take_held(tight, "tight")
    assert refused is not None and not refused.allowed and refused.reset_s > 0
