"""Server-made keys: UUIDv7 from the operating system's random bytes, read ahead in blocks
that a forked worker never shares with its parent."""

from __future__ import annotations

import os
import time
from uuid import RFC_4122, UUID

from backsmith.storage.ids import CANONICAL_UUID, uuid7_text


def test_keys_are_distinct_canonical_uuid7_across_many_blocks() -> None:
    before = time.time_ns() // 1_000_000
    keys = [uuid7_text() for _ in range(5000)]  # about a dozen blocks of random bytes
    after = time.time_ns() // 1_000_000
    assert len(set(keys)) == len(keys)
    assert all(CANONICAL_UUID.fullmatch(key) and UUID(key).version == 7 for key in keys)
    assert {UUID(key).variant for key in keys} == {RFC_4122}
    stamps = [UUID(key).int >> 80 for key in keys]  # the 48-bit Unix milliseconds
    assert stamps == sorted(stamps) and before <= stamps[0] and stamps[-1] <= after
    # the 12 random bits between the version and the variant, and the 62 after it
    assert len({UUID(key).int >> 64 & 0xFFF for key in keys}) > 2000  # of 4,096
    assert len({UUID(key).int & (1 << 62) - 1 for key in keys}) == len(keys)


def test_a_forked_child_draws_other_random_bits_than_its_parent() -> None:
    uuid7_text()  # the parent has a block read ahead
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.write(write, uuid7_text().encode())
        os._exit(0)
    os.waitpid(child, 0)
    theirs = os.read(read, 64).decode()
    mine = uuid7_text()
    os.close(read)
    os.close(write)
    # The 74 random bits (past the millisecond prefix and version) must differ.
    assert UUID(theirs).int & ((1 << 74) - 1) != UUID(mine).int & ((1 << 74) - 1)
