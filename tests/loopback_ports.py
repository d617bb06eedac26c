"""Free loopback ports for the servers tests start, safe with pytest-xdist's workers.

A port found free is released before its server binds it. Asked of the kernel (bind to
port 0), it comes from the ephemeral range, where meanwhile another worker's server or
any process's outgoing connection may be given the same port. So under xdist each worker
hands out ports from a block of its own below that range, one after another; a port in
use (say RabbitMQ's 25672) is passed over. Run without workers, the kernel chooses.
"""

from __future__ import annotations

import itertools
import os
import random
import socket
from collections.abc import Iterator
from functools import cache
from pathlib import Path

FIRST = 20000  # worker gwN takes FIRST + N * BLOCK up to the next block
BLOCK = 1000


def free_port() -> int:
    """A loopback port nothing is bound to now."""
    ports = _worker_ports()
    if ports is not None:
        for _ in range(BLOCK):
            port = next(ports)
            if _bindable(port):
                return port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@cache
def _worker_ports() -> Iterator[int] | None:
    """This worker's block, endlessly, from a random place in it (another run on the
    machine, a worker of the same number, most likely starts elsewhere); None outside xdist
    or where the block would reach into the ephemeral range."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not worker.removeprefix("gw").isdigit():
        return None
    start = FIRST + int(worker.removeprefix("gw")) * BLOCK
    if start + BLOCK > _ephemeral_start():
        return None
    offset = random.randrange(BLOCK)
    return itertools.cycle([start + (offset + n) % BLOCK for n in range(BLOCK)])


def _ephemeral_start() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768  # Linux's default; elsewhere the block is still below most ranges


def _bindable(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True
