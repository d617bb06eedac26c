"""The memory store: values that expire, and a cap on how many it keeps."""

from __future__ import annotations

import anyio
import pytest

from backsmith.security.store import MemoryStore

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
