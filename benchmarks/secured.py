"""The cost of security: the workload with bearer JWTs and ownership on, against it open.

    python benchmarks/secured.py [--bench ../shared/bench] [--rounds 3] [--duration 10]

Builds one SQLite file with the bench workload's products (100,000 rows, each owned by
one of 100 callers through an added `owner_id` column), then per round serves it twice on
one core: as the workload's contract says (open), and with a bearer-JWT requirement and
`x-backsmith: {owner: owner_id}` (secured). The other core drives both with wrk: get by
id and a list page of 20 filtered by category, every request carrying its caller's
token, ids picked among that caller's rows. The target (issue 6) is secured >= 0.9x open.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from uuid import UUID

import jwt
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from backsmith.api import load_model  # noqa: E402
from backsmith.storage.tables import build_metadata  # noqa: E402
from benchmarks.sqlite import CATEGORIES, PORT, product, stop, wait_ready  # noqa: E402

VENV_BIN = Path(sys.executable).parent
ROWS, OWNERS, TARGET = 100_000, 100, 0.9
SECRET = "benchmark-secret-that-is-long-enough-for-hs256"
LUA = Path(__file__).with_name("authorized.lua")


def workload(bench: Path, folder: Path) -> dict[str, tuple[Path, Path]]:
    """The open and the secured contract, both over a DBML with an owner column."""
    api = (bench / "workload" / "api.yaml").read_text(encoding="utf-8")
    dbml = (bench / "workload" / "schema.dbml").read_text(encoding="utf-8")
    owned = dbml.replace(
        "  sku         varchar(64)",
        "  owner_id    uuid         [not null]\n  sku         varchar(64)",
        1,
    ).replace("  indexes {\n", "  indexes {\n    (owner_id, category, created_at, id)\n", 1)
    secured = api.replace("\npaths:", "\nsecurity: [{bearer: []}]\npaths:", 1)
    secured = secured.replace(
        "components:\n",
        "components:\n  securitySchemes:\n    bearer: {type: http, scheme: bearer}\n",
        1,
    )
    secured = re.sub(
        r"(\n    Product:\n      type: object\n)",
        r"\1      x-backsmith: {owner: owner_id}\n",
        secured,
        count=1,
    )
    if "owner: owner_id" not in secured:
        raise SystemExit("the workload's Product schema was not found to secure")
    (folder / "schema.dbml").write_text(owned, encoding="utf-8")
    (folder / "open.yaml").write_text(api, encoding="utf-8")
    (folder / "secured.yaml").write_text(secured, encoding="utf-8")
    dbml_path = folder / "schema.dbml"
    return {
        "open": (folder / "open.yaml", dbml_path),
        "secured": (folder / "secured.yaml", dbml_path),
    }


def seed(contract: Path, dbml: Path, db: Path) -> dict[str, list[str]]:
    """The products, and each owner's product ids."""
    metadata = build_metadata(load_model(contract, dbml))
    engine = sa.create_engine(f"sqlite:///{db}")
    metadata.create_all(engine)
    owners = [str(UUID(hashlib.md5(f"owner-{n}".encode()).hexdigest())) for n in range(OWNERS)]
    rows, owned = [], {owner: [] for owner in owners}  # type: ignore[var-annotated]
    for n in range(1, ROWS + 1):
        row = {**product(n), "owner_id": UUID(owners[n % OWNERS])}
        owned[owners[n % OWNERS]].append(str(row["id"]))
        rows.append(row)
    with engine.begin() as conn:
        conn.execute(metadata.tables["products"].insert(), rows)
    engine.dispose()
    return owned


def requests(owned: dict[str, list[str]], folder: Path) -> dict[str, Path]:
    """Request files: method, path and the caller's token, one request a line."""
    pick = random.Random(7)
    tokens = {
        owner: jwt.encode({"sub": owner, "exp": int(time.time()) + 86_400}, SECRET)
        for owner in owned
    }
    files = {}
    for op in ("get", "list"):
        lines = []
        for _ in range(2000):
            owner = pick.choice(list(owned))
            if op == "get":
                path = f"/products/{pick.choice(owned[owner])}"
            else:
                path = f"/products?category={pick.choice(CATEGORIES)}&limit=20"
            lines.append(f"GET\t{path}\t{tokens[owner]}\n")
        files[op] = folder / f"{op}.txt"
        files[op].write_text("".join(lines), encoding="utf-8")
    return files


def serve(contract: Path, dbml: Path, db: Path, log: Path) -> subprocess.Popen[bytes]:
    env = dict(os.environ, BACKSMITH_DATABASE_URL=f"sqlite:///{db}", BACKSMITH_JWT_SECRET=SECRET)
    command = [str(VENV_BIN / "backsmith"), "serve", str(contract), "--dbml", str(dbml)]
    with log.open("ab") as out:
        return subprocess.Popen(
            ["taskset", "-c", "1", *command, "--port", str(PORT)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def drive(requests_file: Path, conns: int, seconds: int) -> dict[str, float]:
    command = ["taskset", "-c", "0", "wrk", "-t1", f"-c{conns}", f"-d{seconds}s", "--latency"]
    command += ["-s", str(LUA), f"http://127.0.0.1:{PORT}", "--", str(requests_file)]
    out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    found = re.search(r"^BENCH_JSON (.*)$", out, re.M)
    if found is None:
        raise RuntimeError(f"wrk gave no result:\n{out}")
    data = json.loads(found.group(1))
    return {
        "rps": data["requests"] / (data["duration_us"] / 1e6),
        "p99": data["latency_us"]["p99"] / 1000,
        "errors": sum(data["errors"].values()),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--bench", type=Path, default=ROOT.parent / "shared" / "bench")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--conns", type=int, default=16)
    args = parser.parse_args()
    results: dict[tuple[str, str], list[dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="backsmith-secured-bench-") as name:
        folder = Path(name)
        contracts = workload(args.bench.resolve(), folder)
        db = folder / "bench.db"
        owned = seed(*contracts["secured"], db)
        files = requests(owned, folder)
        for _ in range(args.rounds):
            for config, (contract, dbml) in contracts.items():
                proc = serve(contract, dbml, db, folder / f"{config}.log")
                try:
                    wait_ready(f"http://127.0.0.1:{PORT}/healthz", proc)
                    for op, path in files.items():
                        drive(path, args.conns, 2)  # warm-up
                        results.setdefault((config, op), []).append(
                            drive(path, args.conns, args.duration)
                        )
                finally:
                    stop(proc)
    print(render(results, args.rounds, args.conns))
    return 0


def render(results: dict[tuple[str, str], list[dict[str, float]]], rounds: int, conns: int) -> str:
    def median(config: str, op: str, key: str) -> float:
        return statistics.median(r[key] for r in results[(config, op)])

    lines = [
        f"SQLite, {conns} connections, medians of {rounds} interleaved rounds:",
        "",
        "| op | open req/s | secured req/s | secured / open | p99 ms open/secured | errors |",
        "|---|---|---|---|---|---|",
    ]
    missed = []
    for op in ("get", "list"):
        open_rps, secured_rps = median("open", op, "rps"), median("secured", op, "rps")
        ratio = secured_rps / open_rps
        errors = sum(r["errors"] for c in ("open", "secured") for r in results[(c, op)])
        lines.append(
            f"| {op} | {open_rps:,.0f} | {secured_rps:,.0f} | {ratio:.2f} | "
            f"{median('open', op, 'p99'):.1f}/{median('secured', op, 'p99'):.1f} | {errors:.0f} |"
        )
        if ratio < TARGET:
            missed.append(f"{op}: {ratio:.2f}x (target {TARGET}x)")
        if errors:
            missed.append(f"{op}: {errors:.0f} errors")
    lines.append("\nTarget: " + ("met" if not missed else "missed: " + "; ".join(missed)))
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
