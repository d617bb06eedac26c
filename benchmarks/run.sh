#!/usr/bin/env bash
# The speed benchmark, one command (README, "Speed"):
#   1. the shared harness (../shared/bench) serves its products workload from backsmith, from
#      the last release built from a git ref (the `baseline` peer) and from each other peer in
#      interleaved rounds, on PostgreSQL; report.py prints backsmith's ratios to every peer
#      and checks the targets;
#   2. sqlite.py: backsmith on SQLite against a raw aiosqlite app (get by id);
#   3. secured.py: bearer JWTs and ownership on, against the same workload open (SQLite);
#   4. startup.py: start-up time of the bookshop and of the largest corpus contract.
# Options go to the harness (./benchmarks/run.sh --rounds 5 --ops get,list). Environment:
#   OPS=create,patch ROUNDS=2 CONNS=16,64   the same as --ops, --rounds, --conns
#   QUICK=1            the harness step only (a quick check of a change)
#   BASELINE_REF=REF   a release to compare with, as the `baseline` peer (default: none;
#                      `BASELINE_REF=$(cat benchmarks/baseline.ref)` names the last one). It
#                      serves the same database, where backsmith now keeps its idempotency
#                      table: releases before 0.4 refuse such a database as drifted
#   BASELINE_SAME=1    the baseline is served with the contract and settings backsmith is
#                      (OUTBOX, RATE_LIMIT, CACHE below), not with the workload's own; both
#                      then keep their system tables in one database, so the baseline must
#                      be a release whose tables are those of this code (0.7.8 on, for OUTBOX)
#   PEERS="..."        the peers, in order (default: backsmith baseline raw_asyncpg
#                      platformatic fastapi_sqlalchemy)
#   BACKSMITH_PYTHON   an interpreter that has backsmith's dependencies (default: .venv,
#                      made by `make setup`); backsmith then runs from src/ of this checkout
#   BACKSMITH_BENCH    another harness folder; a read-only one is copied to benchmarks/.harness
#   OUTBOX=1           backsmith serves the workload with its writes publishing events: each
#                      write also writes its outbox row, in its transaction (to one webhook
#                      target; the relay is off, so delivery costs nothing in the run)
#   RATE_LIMIT=memory|redis   a rate limit on every operation, never reached, counted in
#                      memory or in the local Redis (its database 15, emptied first)
#   KEYS=1             every create sends an Idempotency-Key (a fresh one each)
#   CACHE=30s          the reads keep their answers this long (`x-backsmith: {cache: ...}`)
#   HOT=1000           the gets read 1,000 ids, not all 100,000 (what a cache keeps)
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"

if [ -n "${BACKSMITH_PYTHON:-}" ]; then
  python="$BACKSMITH_PYTHON"
  export PYTHONPATH="$root/src"
else
  make setup >/dev/null
  python="$root/.venv/bin/python"
fi

# The harness installs its tools into its own folder on first use: it must be writable.
bench="$(cd "${BACKSMITH_BENCH:-../shared/bench}" && pwd)"
if [ ! -w "$bench" ]; then
  copy="$root/benchmarks/.harness"
  if [ ! -f "$copy/run.py" ] || ! diff -q "$bench/run.py" "$copy/run.py" >/dev/null; then
    echo "copying the read-only harness $bench to $copy" >&2
    mkdir -p "$copy"
    cp -r "$bench"/. "$copy"/
    chmod -R u+w "$copy"
  fi
  bench="$copy"
fi

# KEYS=1 and HOT=N change the load, in a copy of the harness every peer is measured with:
# KEYS=1 gives every create an Idempotency-Key (its fresh sku; only backsmith reads it),
# HOT=N draws the gets from N ids instead of every seeded one (a cache's working set).
if [ -n "${KEYS:-}" ] || [ -n "${HOT:-}" ]; then
  patched="$root/benchmarks/.patched-harness"
  rm -rf "$patched"
  mkdir -p "$patched"
  cp -r "$bench"/. "$patched"/
  chmod -R u+w "$patched"
  "$python" - "$patched" "${KEYS:-}" "${HOT:-}" <<'PATCH'
import sys
folder, keys, hot = sys.argv[1:4]
def patch(name, sent, changed):
    path = f"{folder}/{name}"
    text = open(path).read()
    assert sent in text, f"the harness's {name} changed: cannot change the load"
    open(path, "w").write(text.replace(sent, changed))
if keys:
    patch("lib/bench.lua", "return wrk.format(q[1], q[2], json_headers, body)",
          'return wrk.format(q[1], q[2], {["Content-Type"] = "application/json", '
          '["Idempotency-Key"] = sku}, body)')
if hot:
    patch("run.py", 'dump("get", [dialect.get(i) for i in ids])',
          f'dump("get", [dialect.get(i) for i in ids[:{int(hot)}]])')
PATCH
  bench="$patched"
fi

# How to start a backsmith whose source is in $1/src, with this interpreter.
contract=workload/api.yaml
# The tables backsmith keeps beside the workload's (idempotency records; the outbox) are
# made at its start, and dropped before and after the run.
serving="BACKSMITH_CREATE_TABLES=true"
# A line of JSON per request, as production logs (LOG_FORMAT=console for the other format).
serving="$serving BACKSMITH_LOG_FORMAT=${LOG_FORMAT:-json}"
extension="{}"
if [ -n "${OUTBOX:-}" ]; then
  extension='{"events": true}'
  serving="$serving BACKSMITH_WEBHOOKS=http://127.0.0.1:9/hooks BACKSMITH_RELAY=false"
fi
if [ -n "${RATE_LIMIT:-}" ]; then
  # Declared on every operation and never reached: what counting costs, not what refusing does.
  extension=$("$python" -c 'import json, sys
print(json.dumps({**json.loads(sys.argv[1]), "rate-limit": "100000000/hour"}))' "$extension")
  if [ "$RATE_LIMIT" = redis ]; then
    redis-cli -h 127.0.0.1 -p 6379 -n 15 flushdb >/dev/null
    serving="$serving BACKSMITH_REDIS_URL=redis://127.0.0.1:6379/15"
  fi
fi
if [ -n "${CACHE:-}" ]; then
  extension=$("$python" -c 'import json, sys
print(json.dumps({**json.loads(sys.argv[1]), "cache": sys.argv[2]}))' "$extension" "$CACHE")
fi
if [ "$extension" != "{}" ]; then
  # The workload's contract with these keys in its root `x-backsmith`.
  mkdir -p "$root/benchmarks/.outbox"
  contract="$root/benchmarks/.outbox/api.yaml"
  "$python" -c 'import json, sys, yaml
document = yaml.safe_load(open(sys.argv[1]))
document["x-backsmith"] = {**(document.get("x-backsmith") or {}), **json.loads(sys.argv[3])}
yaml.safe_dump(document, open(sys.argv[2], "w"), sort_keys=False)' "$bench/workload/api.yaml" "$contract" "$extension"
fi
# $2: the contract and the settings it is served with (the baseline gets the workload's own,
# unless BASELINE_SAME is set).
serve_command() {
  local module=backsmith.cli
  [ -f "$1/src/backsmith/__main__.py" ] && module=backsmith
  echo "env PYTHONPATH=$1/src ${3:-} $python -m $module serve ${2:-workload/api.yaml}" \
    "--dbml workload/schema.dbml --host 127.0.0.1 --port {port}"
}

# The baseline peer: the release at BASELINE_REF (benchmarks/baseline.sh exports it).
# The default is the release named in benchmarks/baseline.ref (moved forward at each release).
baseline_ref=${BASELINE_REF:-none}
peers=${PEERS:-"backsmith baseline raw_asyncpg platformatic fastapi_sqlalchemy"}
if [ "$baseline_ref" = none ]; then
  peers=$(echo "$peers" | tr ' ' '\n' | grep -vx baseline | tr '\n' ' ')
else
  # shellcheck source=benchmarks/baseline.sh
  . "$root/benchmarks/baseline.sh"
  baseline=$(baseline_folder "$baseline_ref" "$python")
  export BENCH_BASELINE_CMD
  if [ -n "${BASELINE_SAME:-}" ]; then  # the release served as backsmith is, policies on
    BENCH_BASELINE_CMD="$(serve_command "$baseline" "$contract" "$serving")"
  else
    BENCH_BASELINE_CMD="$(serve_command "$baseline")"
  fi
fi
"$python" -m compileall -q "$root/src"
export BENCH_BACKSMITH_CMD
BENCH_BACKSMITH_CMD="$(serve_command "$root" "$contract" "$serving")"

options=()
[ -n "${OPS:-}" ] && options+=(--ops "$OPS")
[ -n "${ROUNDS:-}" ] && options+=(--rounds "$ROUNDS")
[ -n "${CONNS:-}" ] && options+=(--conns "$CONNS")
# backsmith's own tables are dropped before and after a run: the workload's database must
# hold the workload's tables and those the served contract needs, or serve refuses it as
# drifted (harness's own URL).
drop_system_tables() {
  "$python" -c 'import asyncio, asyncpg
async def drop():
    conn = await asyncpg.connect("postgresql://bench:bench@127.0.0.1:5432/bench", timeout=5)
    await conn.execute("DROP TABLE IF EXISTS backsmith_outbox, backsmith_event_log, backsmith_idempotency")
    await conn.close()
asyncio.run(drop())' 2>/dev/null || true
}
drop_system_tables
out="$root/benchmarks/results/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$out"
# shellcheck disable=SC2086
"$bench/run.sh" $peers --out "$out/harness" "${options[@]}" "$@" | tee "$out/harness.txt"
drop_system_tables
"$python" benchmarks/report.py "$out/harness" | tee "$out/report.md"
if [ -z "${QUICK:-}" ]; then
  "$python" benchmarks/sqlite.py --bench "$bench" | tee "$out/sqlite.md"
  "$python" benchmarks/secured.py --bench "$bench" | tee "$out/secured.md"
  "$python" benchmarks/startup.py | tee "$out/startup.md"
fi
echo "results in $out"
