#!/usr/bin/env bash
# Instructions per request, counted by valgrind (callgrind) in each server: a measure no
# neighbour on the machine moves, for telling a change's cost apart from noise.
#   ./benchmarks/instructions.sh [OPS] [PEERS]     e.g. get,list,create,patch  "backsmith floor"
# PEERS: backsmith (this checkout), floor (the harness's raw asyncpg peer). Each server runs
# under callgrind with counting off; after a warm-up of 400 requests, counting is switched
# on for COUNT requests (default 2,000) over 16 keep-alive connections, then off. Needs
# valgrind (installed from Debian's packages when missing) and PostgreSQL on 127.0.0.1:5432;
# the database `bench_instructions` is made from the harness's workload and kept.
# SPEC: another contract over the same tables (a variant of the workload's, e.g. with a limit).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
ops=${1:-get,list,create,patch}
peers=${2:-"backsmith floor"}
count=${COUNT:-2000}
bench="$(cd "${BACKSMITH_BENCH:-../shared/bench}" && pwd)"
python="${BACKSMITH_PYTHON:-$root/.venv/bin/python}"
[ -x "$python" ] || { make setup >/dev/null; python="$root/.venv/bin/python"; }
if ! command -v valgrind >/dev/null; then
  echo "installing valgrind" >&2
  sudo -n true 2>/dev/null && sudo apt-get install -y -q valgrind >/dev/null || apt-get install -y -q valgrind >/dev/null
fi
psql=(psql -h 127.0.0.1 -U postgres -v ON_ERROR_STOP=1 -q)
database=bench_instructions
url="postgresql://postgres@127.0.0.1:5432/$database"
if ! "${psql[@]}" -d "$database" -c "select 1 from products limit 1" >/dev/null 2>&1; then
  echo "seeding $database from $bench/workload" >&2
  "${psql[@]}" -c "DROP DATABASE IF EXISTS $database" -c "CREATE DATABASE $database"
  "${psql[@]}" -d "$database" -f "$bench/workload/schema.sql"
  "${psql[@]}" -d "$database" -v n=100000 -f "$bench/workload/seed.sql"
  "${psql[@]}" -d "$database" -c "VACUUM ANALYZE products"
fi
# Rows an earlier run created go first: the gets read ids taken below.
"${psql[@]}" -d "$database" -c "DELETE FROM products WHERE sku LIKE 'COUNT-%'" >/dev/null
work=$(mktemp -d)
# KEEP=DIR keeps callgrind's files there (callgrind_annotate reads them), else they go.
if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP"; work=$(cd "$KEEP" && pwd); else trap 'rm -rf "$work"' EXIT; fi
"${psql[@]}" -d "$database" -Atc "SELECT id FROM products ORDER BY id LIMIT 2000" >"$work/ids"
"$python" -m compileall -q "$root/src"
# The floor runs on the harness's own interpreter (its run.sh makes it), else on ours.
floor_python="$bench/.venv/bin/python"
[ -x "$floor_python" ] || floor_python="$python"

count_one() {  # peer op -> instructions per request
  local peer=$1 op=$2 port=$((20000 + RANDOM % 20000)) command
  case $peer in
    backsmith) command=(env PYTHONPATH="$root/src" BACKSMITH_DATABASE_URL="$url" BACKSMITH_CREATE_TABLES=true
                 BACKSMITH_LOG_FORMAT=json
                 "$python" -m backsmith serve "${SPEC:-$bench/workload/api.yaml}" --dbml "$bench/workload/schema.dbml"
                 --host 127.0.0.1 --port "$port") ;;
    floor) command=(env PYTHONPATH="$bench" DATABASE_URL="$url" POOL_SIZE=10 "$floor_python" -m uvicorn
                 peers.raw_asyncpg.app:app --host 127.0.0.1 --port "$port" --loop uvloop
                 --http httptools --no-access-log --log-level warning) ;;
    *) echo "unknown peer $peer" >&2; return 2 ;;
  esac
  valgrind --tool=callgrind --trace-children=yes --instr-atstart=no \
    --callgrind-out-file="$work/$peer-$op.%p" "${command[@]}" >"$work/log" 2>&1 &
  local pid=$!
  for _ in $(seq 1 240); do
    curl -sf -o /dev/null "http://127.0.0.1:$port/products/$(head -1 "$work/ids")" && break
    sleep 0.5
  done
  "$python" benchmarks/keepalive_load.py "$port" "$op" 400 "$work/ids" >/dev/null
  callgrind_control -i on >/dev/null 2>&1
  local seen
  seen=$("$python" benchmarks/keepalive_load.py "$port" "$op" "$count" "$work/ids")
  callgrind_control -i off >/dev/null 2>&1
  kill -INT "$pid" 2>/dev/null || true
  wait "$pid" || true
  local total
  total=$(grep -h "Collected" "$work/log" | awk '{sum += $4} END {print sum + 0}')
  echo "$op $peer $((total / count)) instructions/request  answers $seen"
}

for op in ${ops//,/ }; do
  for peer in $peers; do
    count_one "$peer" "$op"
  done
done
