"""The memory store: values that expire, a cap on how many it keeps, moving-window counters."""

from __future__ import annotations

import anyio
import pytest

from backsmith.security.store import MemoryStore, parse_limit

pytestmark = pytest.mark.anyio


async def test_a_value_is_kept_until_it_expires() -> None:
    store: MemoryStore[str] = MemoryStore()
    await store.set("short", "a", expires_in=0.05)
    await store.set("long", "b", expires_in=60)
    assert await store.get("short") == "a" and await store.get("long") == "b"
    await anyio.sleep(0.1)
    assert await store.get("short") is None
    assert await store.get("long") == "b"
    assert await store.get("never-set") is None


async def test_no_expiry_means_not_kept_and_setting_again_replaces() -> None:
    store: MemoryStore[str] = MemoryStore()
    await store.set("k", "first", expires_in=60)
    await store.set("k", "second", expires_in=60)
    assert await store.get("k") == "second"
    await store.set("k", "gone", expires_in=0)  # a token already past its expiry
    assert await store.get("k") is None


async def test_delete_and_delete_all_forget_values() -> None:
    store: MemoryStore[int] = MemoryStore()
    for number in range(3):
        await store.set(f"k{number}", number, expires_in=60)
    await store.delete("k0")
    await store.delete("never-set")
    assert [await store.get(f"k{n}") for n in range(3)] == [None, 1, 2]
    await store.delete_all()
    assert [await store.get(f"k{n}") for n in range(3)] == [None, None, None]


async def test_a_full_store_drops_the_value_set_longest_ago() -> None:
    store: MemoryStore[int] = MemoryStore(max_entries=3)
    for number in range(3):
        await store.set(f"k{number}", number, expires_in=60)
    await store.set("k0", 10, expires_in=60)  # set again: now the newest
    await store.set("k3", 3, expires_in=60)
    assert [await store.get(f"k{n}") for n in range(4)] == [10, None, 2, 3]


async def test_counters_count_hits_in_a_moving_window_per_key() -> None:
    store: MemoryStore[object] = MemoryStore()
    limit = parse_limit("2/second")
    assert await store.allows(limit, "a") and await store.reset_in(limit, "a") == 0
    assert await store.hit(limit, "a") and await store.hit(limit, "a")
    assert not await store.allows(limit, "a")
    assert not await store.hit(limit, "a")  # refused, and not counted
    assert 0 < await store.reset_in(limit, "a") <= 1
    assert await store.allows(limit, "b")  # another key has its own count
    await anyio.sleep(1.05)
    assert await store.allows(limit, "a") and await store.hit(limit, "a")


async def test_counters_and_values_are_apart() -> None:
    store: MemoryStore[str] = MemoryStore()
    limit = parse_limit("1/minute")
    await store.set("a", "value", expires_in=60)
    assert await store.hit(limit, "a")
    await store.delete_all()
    assert await store.get("a") is None
    assert not await store.allows(limit, "a")  # forgetting values keeps the counts
