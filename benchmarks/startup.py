"""Start-up time: from `backsmith serve` to the first answered request, on SQLite.

    python benchmarks/startup.py [--runs 5]

Times the bookshop example and the largest contract of the shared corpus (discourse,
186 KB of OpenAPI). Two columns: the first start of a contract on a new SQLite file
(nothing remembered, so the OpenAPI validator is imported and run, and the tables are
created: the bookshop applies its first migration) and a restart (the same database and
the document validated before, as on every start after the first; `BACKSMITH_CACHE_DIR`).
Targets: bookshop <= 1 s, the largest corpus contract <= 5 s (medians), checked against
both.
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
CONTRACTS = {
    "bookshop": (ROOT / "examples" / "bookshop" / "api-spec.md", 1.0),
    "discourse (largest corpus contract)": (
        CORPUS / "openapi" / "oas31" / "apisguru-via-schemathesis__discourse.local.json",
        5.0,
    ),
}
PORT = 8312


def start_once(contract: Path, database: Path, cache: Path) -> float:
    """Seconds from launching the server to its first 200 on /healthz."""
    env = dict(os.environ, BACKSMITH_DATABASE_URL=f"sqlite:///{database}")
    env["BACKSMITH_CACHE_DIR"] = str(cache)
    backsmith = str(Path(sys.executable).parent / "backsmith")
    began = time.perf_counter()
    proc = subprocess.Popen(
        [backsmith, "serve", str(contract), "--port", str(PORT)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"{contract.name}: serve exited with {proc.returncode}")
            try:
                url = f"http://127.0.0.1:{PORT}/healthz"
                with urllib.request.urlopen(url, timeout=1) as answer:
                    if answer.status == 200:
                        return time.perf_counter() - began
            except (OSError, urllib.error.URLError):
                time.sleep(0.01)
            if time.perf_counter() - began > 60:
                raise RuntimeError(f"{contract.name}: not answering after 60 s")
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    # Bytecode for the package, as an installed wheel has: with PYTHONDONTWRITEBYTECODE
    # set, an editable checkout would otherwise compile every module on every start.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "src")], check=True)
    lines = [
        "| contract | first start s (median) | restart s (median) | runs | target s |",
        "|---|---|---|---|---|",
    ]
    missed = []
    with tempfile.TemporaryDirectory(prefix="backsmith-startup-") as folder:
        where = Path(folder)
        for name, (contract, target) in CONTRACTS.items():
            if not contract.exists():
                lines.append(f"| {name} | not found: {contract} | | 0 | {target} |")
                continue
            first, again = [], []
            for run in range(args.runs):
                new = where / f"new-{name}-{run}"
                first.append(start_once(contract, new.with_suffix(".db"), new))
                kept = where / f"kept-{name}"
                again.append(start_once(contract, kept.with_suffix(".db"), kept))
            medians = {"first start": statistics.median(first), "restart": statistics.median(again)}
            cells = " | ".join(f"{value:.2f}" for value in medians.values())
            lines.append(f"| {name} | {cells} | {args.runs} | {target} |")
            missed += [
                f"{name}, {kind}: {value:.2f} s (target {target} s)"
                for kind, value in medians.items()
                if value > target
            ]
    print("\n".join(lines))
    print("\nTargets: " + ("met" if not missed else "missed: " + "; ".join(missed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
