"""Servers the policy tests start: a Redis and a PgBouncer of their own, and `backsmith
serve` processes.

A test that needs Redis gets a private `redis-server` on a free loopback port, keeping
nothing on disk, so it can be stopped and started mid-test without touching the machine's
own Redis (the `redis_server` fixture of conftest.py). One that needs PgBouncer gets one in
transaction pooling in front of the local PostgreSQL (the `pgbouncer` fixture).
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import redis
from loopback_ports import free_port

LIMITED = Path(__file__).resolve().parent / "fixtures" / "policies" / "limited.yaml"


class RedisServer:
    """One redis-server process on loopback that a test may stop and start again."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.url = f"redis://127.0.0.1:{port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
        command += ["--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(
            command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if self.client().ping():
                    return
            except redis.ConnectionError:
                time.sleep(0.05)
        raise RuntimeError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()
            self.process.wait(timeout=10)
            self.process = None

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2)

    def keys_without_expiry(self) -> list[bytes]:
        client = self.client()
        return [key for key in client.scan_iter("*") if client.ttl(key) == -1]


class PgBouncer:
    """A pgbouncer in transaction pooling with `server_connections` per database, in front
    of the PostgreSQL at 127.0.0.1:5432 (trust auth), run as the postgres user."""

    def __init__(self, binary: str, folder: Path, server_connections: int = 2) -> None:
        self.port = free_port()
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o755)  # it reads its files as postgres
        users = folder / "users.txt"
        users.write_text('"postgres" ""\n')
        config = folder / "pgbouncer.ini"
        config.write_text(
            "[databases]\n* = host=127.0.0.1 port=5432\n"
            "[pgbouncer]\n"
            f"listen_addr = 127.0.0.1\nlisten_port = {self.port}\nunix_socket_dir =\n"
            f"auth_type = trust\nauth_file = {users}\npool_mode = transaction\n"
            f"default_pool_size = {server_connections}\nmax_client_conn = 500\n"
            "ignore_startup_parameters = extra_float_digits\n"
        )
        for made in (users, config):
            os.chmod(made, 0o644)
        command = [binary, str(config)]
        if os.geteuid() == 0:  # it will not run as root
            command[1:1] = ["-u", "postgres"]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(self.stop())
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise RuntimeError(f"pgbouncer did not listen on {self.port}: {self.stop()}")

    def url(self, database_url: str) -> str:
        """`database_url` (on 127.0.0.1:5432) reached through this PgBouncer instead."""
        return database_url.replace("127.0.0.1:5432", f"127.0.0.1:{self.port}")

    def stop(self) -> str:
        if self.process.poll() is None:
            self.process.terminate()
        return self.process.communicate(timeout=10)[0].decode(errors="replace")


class Instance:
    """A `backsmith serve` process; `stop()` ends it and returns what it printed."""

    def __init__(self, contract: Path, folder: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        clean = {k: v for k, v in os.environ.items() if not k.startswith("BACKSMITH_")}
        command = [sys.executable, "-m", "backsmith", "serve", str(contract)]
        command += ["--port", str(self.port), "--create-tables"]
        self.process = subprocess.Popen(
            command,
            cwd=folder,
            env={**clean, **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait_ready(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(self.stop())
            try:
                if httpx.get(f"{self.base}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError(f"no answer within {seconds} s: {self.stop()}")

    def stop(self) -> str:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
        return self.process.communicate(timeout=20)[0].decode()


KEYED = Path(__file__).resolve().parent / "fixtures" / "policies" / "keyed.yaml"


def start_instances(
    count: int, contract: Path, folder: Path, env: dict[str, str], started: list[Instance]
) -> list[Instance]:
    """`count` instances of one contract, one after the other (the first makes the tables)."""
    made = []
    for number in range(count):
        place = folder / f"instance-{number}"
        place.mkdir(exist_ok=True)
        instance = Instance(contract, place, env)
        started.append(instance)
        instance.wait_ready()
        made.append(instance)
    return made
