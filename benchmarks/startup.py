"""Start-up time: from `backsmith serve` to the first answered request, on SQLite.

    python benchmarks/startup.py [--runs 5]

Times the bookshop example and the largest contract of the shared corpus (discourse,
186 KB of OpenAPI). Each run starts on a new SQLite file, so table creation is included.
Targets: bookshop <= 1 s, the largest corpus contract <= 5 s (medians).
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


def start_once(contract: Path, folder: Path) -> float:
    """Seconds from launching the server to its first 200 on /healthz."""
    env = dict(os.environ, BACKSMITH_DATABASE_URL=f"sqlite:///{folder / 'start.db'}")
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
        (folder / "start.db").unlink(missing_ok=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    lines = ["| contract | median start-up s | runs | target s |", "|---|---|---|---|"]
    missed = []
    with tempfile.TemporaryDirectory(prefix="backsmith-startup-") as folder:
        for name, (contract, target) in CONTRACTS.items():
            if not contract.exists():
                lines.append(f"| {name} | not found: {contract} | 0 | {target} |")
                continue
            times = [start_once(contract, Path(folder)) for _ in range(args.runs)]
            median = statistics.median(times)
            lines.append(f"| {name} | {median:.2f} | {args.runs} | {target} |")
            if median > target:
                missed.append(f"{name}: {median:.2f} s (target {target} s)")
    print("\n".join(lines))
    print("\nTargets: " + ("met" if not missed else "missed: " + "; ".join(missed)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
