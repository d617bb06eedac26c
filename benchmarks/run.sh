#!/usr/bin/env bash
# The speed benchmark, one command (README, "Speed"):
#   1. the shared harness (../shared/bench) serves its products workload from backsmith and
#      from each peer in interleaved rounds, on PostgreSQL; report.py prints backsmith's
#      ratios to every peer and checks the targets;
#   2. sqlite.py: backsmith on SQLite against a raw aiosqlite app (get by id);
#   3. secured.py: bearer JWTs and ownership on, against the same workload open (SQLite);
#   4. startup.py: start-up time of the bookshop and of the largest corpus contract.
# Options go to the harness (./benchmarks/run.sh --rounds 5 --ops get,list).
# BACKSMITH_BENCH names another harness folder; BACKSMITH_BENCH_PEERS other peers.
set -euo pipefail
cd "$(dirname "$0")/.."
make setup >/dev/null
bench="$(cd "${BACKSMITH_BENCH:-../shared/bench}" && pwd)"
peers=${BACKSMITH_BENCH_PEERS:-"backsmith raw_asyncpg platformatic fastapi_sqlalchemy"}
out="$PWD/benchmarks/results/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
export BENCH_BACKSMITH_CMD="$PWD/.venv/bin/backsmith serve workload/api.yaml --dbml workload/schema.dbml --host 127.0.0.1 --port {port}"
# shellcheck disable=SC2086
"$bench/run.sh" $peers --out "$out/harness" "$@" | tee "$out/harness.txt"
.venv/bin/python benchmarks/report.py "$out/harness" | tee "$out/report.md"
.venv/bin/python benchmarks/sqlite.py --bench "$bench" | tee "$out/sqlite.md"
.venv/bin/python benchmarks/secured.py --bench "$bench" | tee "$out/secured.md"
.venv/bin/python benchmarks/startup.py | tee "$out/startup.md"
echo "results in $out"
