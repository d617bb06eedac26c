"""backsmith on SQLite against raw aiosqlite floors: get by id, interleaved rounds.

    python benchmarks/sqlite.py [--bench ../shared/bench] [--rounds 3] [--duration 10]

Builds a SQLite file with the bench workload's table (created from the contract, as
`serve` creates it) and 100,000 rows, then per round starts backsmith and the floors
(`sqlite_floor.py`) in turn on one core and drives each with the shared harness's wrk
script from the other core. Prints medians and the ratios; the target is >= 0.9x the
floor that mirrors the PostgreSQL floor (Starlette + the driver); the bare ASGI floor is
printed beside it as a stricter reference.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import sqlalchemy as sa

from backsmith.api import load_model
from backsmith.storage.tables import build_metadata

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
CATEGORIES = ["electronics", "books", "clothing", "home", "garden", "toys", "sports", "grocery"]
TAGS = ["new", "sale", "eco", "gift", "bulk", "premium", "kids", "outdoor", "indoor", "limited"]
ROWS, PORT, TARGET = 100_000, 8311, 0.9
FLOORS = {
    "aiosqlite_floor": "benchmarks.sqlite_floor:app",
    "bare_floor": "benchmarks.sqlite_floor:bare",
}


def product(n: int) -> dict[str, Any]:
    """Row `n` of the workload, as the harness seeds PostgreSQL."""
    stamp = datetime(2026, 1, 1, tzinfo=UTC) - timedelta(minutes=5 * n)
    return {
        "id": UUID(hashlib.md5(f"product-{n}".encode()).hexdigest()),
        "sku": f"SKU-{n:08d}",
        "name": f"Product {n}",
        "price_cents": (n * 7919) % 100_000,
        "category": CATEGORIES[n % 8],
        "tags": TAGS[: n % 5],
        "created_at": stamp,
        "updated_at": stamp,
    }


def seed(bench: Path, path: Path) -> list[str]:
    """The workload's table in a new SQLite file, seeded like the harness seeds PostgreSQL."""
    model = load_model(bench / "workload" / "api.yaml", bench / "workload" / "schema.dbml")
    metadata = build_metadata(model)
    engine = sa.create_engine(f"sqlite:///{path}")
    metadata.create_all(engine)
    table = metadata.tables["products"]
    rows = [product(n) for n in range(1, ROWS + 1)]
    with engine.begin() as conn:
        conn.execute(table.insert(), rows)
    engine.dispose()
    return [str(row["id"]) for row in rows]


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"server not ready at {url}")


def serve(name: str, db: Path, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, BACKSMITH_DATABASE_URL=f"sqlite:///{db}", BENCH_SQLITE=str(db))
    if name == "backsmith":
        workload = Path(env["BENCH_WORKLOAD"])
        command = [str(VENV_BIN / "backsmith"), "serve", str(workload / "api.yaml")]
        command += ["--dbml", str(workload / "schema.dbml"), "--port", str(PORT)]
    else:
        command = [str(VENV_BIN / "uvicorn"), FLOORS[name], "--port", str(PORT)]
        command += ["--loop", "uvloop", "--http", "httptools", "--no-access-log"]
        command += ["--log-level", "warning"]
    with log.open("ab") as out:
        return subprocess.Popen(
            ["taskset", "-c", "1", *command],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(proc: subprocess.Popen[bytes]) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


def drive(bench: Path, requests: Path, conns: int, seconds: int) -> dict[str, float]:
    command = ["taskset", "-c", "0", "wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency"]
    command += ["-s", str(bench / "lib" / "bench.lua"), f"http://127.0.0.1:{PORT}"]
    command += ["--", f"s{time.time_ns()}", f"{requests}=1"]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    found = re.search(r"^BENCH_JSON (.*)$", out, re.M)
    if found is None:
        raise RuntimeError(f"wrk gave no result:\n{out}")
    data = json.loads(found.group(1))
    errors = sum(data["errors"].values())
    return {
        "rps": data["requests"] / (data["duration_us"] / 1e6),
        "p99": data["latency_us"]["p99"] / 1000,
        "errors": errors,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bench", type=Path, default=ROOT.parent / "shared" / "bench")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--conns", default="16,64")
    args = parser.parse_args()
    bench = args.bench.resolve()
    os.environ["BENCH_WORKLOAD"] = str(bench / "workload")
    results: dict[tuple[str, int], list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="backsmith-sqlite-bench-") as folder:
        db = Path(folder) / "bench.db"
        ids = seed(bench, db)
        requests = Path(folder) / "get.txt"
        picked = random.Random(7).sample(ids, 2000)
        requests.write_text("".join(f"GET\t/products/{i}\t\n" for i in picked))
        probe = f"http://127.0.0.1:{PORT}/products/{picked[0]}"
        for _ in range(args.rounds):
            for name in ("backsmith", *FLOORS):
                proc = serve(name, db, Path(folder) / f"{name}.log")
                try:
                    wait_ready(probe, proc)
                    for conns in [int(c) for c in args.conns.split(",")]:
                        drive(bench, requests, conns, 3)  # warm-up
                        results.setdefault((name, conns), []).append(
                            drive(bench, requests, conns, args.duration)
                        )
                finally:
                    stop(proc)
    print(render(results, args.rounds))
    return 0


def render(results: dict[tuple[str, int], list[dict[str, Any]]], rounds: int) -> str:
    def median(name: str, conns: int, key: str) -> float:
        return statistics.median(r[key] for r in results[(name, conns)])

    lines = [
        f"SQLite, get by id, medians of {rounds} interleaved rounds:",
        "",
        "| conns | backsmith req/s | aiosqlite floor req/s | x floor | p99 ms backsmith/floor "
        "| bare floor req/s | x bare |",
        "|---|---|---|---|---|---|---|",
    ]
    verdict = []
    for conns in sorted({c for _, c in results}):
        rps, floor_rps = median("backsmith", conns, "rps"), median("aiosqlite_floor", conns, "rps")
        bare_rps = median("bare_floor", conns, "rps")
        p99, floor_p99 = median("backsmith", conns, "p99"), median("aiosqlite_floor", conns, "p99")
        ratio = rps / floor_rps
        lines.append(
            f"| {conns} | {rps:,.0f} | {floor_rps:,.0f} | {ratio:.2f} | {p99:.1f}/{floor_p99:.1f} "
            f"| {bare_rps:,.0f} | {rps / bare_rps:.2f} |"
        )
        if ratio < TARGET:
            verdict.append(f"c={conns}: {ratio:.2f}x the floor (target {TARGET}x)")
        errors = sum(r["errors"] for r in results[("backsmith", conns)])
        if errors:
            verdict.append(f"c={conns}: {errors:.0f} errors")
    lines.append("\nTarget: " + ("met" if not verdict else "missed: " + "; ".join(verdict)))
    return "\n".join(lines)


def _port_free() -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", PORT)) != 0


if __name__ == "__main__":
    if not _port_free():
        sys.exit(f"port {PORT} is in use")
    sys.exit(main())
