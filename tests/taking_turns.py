"""Tests that measure latency run alone under pytest-xdist: while one runs, no other does.

A benchmark's percentiles are the service's only while the machine is not also running
another test, so a test marked `runs_alone` waits for the other workers' current tests to
end, and they start nothing new until it has ended. Every other test runs alongside any
but those.

Each test holds a lock file shared (`flock`) while it runs, fixtures included; a test that
runs alone holds it exclusively. So that a stream of shared holders cannot starve it, every
test first passes a gate, which the one running alone holds while it waits and runs.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

MARKER = "runs_alone"
DESCRIPTION = f"{MARKER}: measures latency; under pytest-xdist no other test runs at the same time"


def run_folder(config: pytest.Config) -> Path | None:
    """The folder every worker of this run shares (the parent of each one's basetemp), or
    None when the tests are not run by xdist's workers."""
    basetemp = getattr(config.option, "basetemp", None)
    if not os.environ.get("PYTEST_XDIST_WORKER") or not basetemp:
        return None
    return Path(basetemp).parent


@contextmanager
def turn(folder: Path | None, alone: bool) -> Iterator[None]:
    """Hold this test's turn: shared with every other test's, or, `alone`, with none."""
    if folder is None:
        yield
        return
    with open(folder / "turns.gate", "a") as gate, open(folder / "turns.lock", "a") as lock:
        fcntl.flock(gate, fcntl.LOCK_EX)
        if alone:
            fcntl.flock(lock, fcntl.LOCK_EX)  # once the others' running tests have ended
        else:
            fcntl.flock(lock, fcntl.LOCK_SH)
            fcntl.flock(gate, fcntl.LOCK_UN)
        yield  # both released as the files close
