#!/usr/bin/env bash
# Server CPU per request of backsmith (this checkout), the last release and the raw-asyncpg
# floor, measured alone and in turn: each server under wrk for SECS seconds, one after the
# other, PAIRS times per operation, its CPU read from /proc. On a shared machine a slow
# stretch of a minute lands on whichever peer the harness happens to run then; here it
# lands on all three within seconds, so their ratio holds where req/s does not.
#   ./benchmarks/alternate.sh [OPS] [PAIRS] [SECS]     e.g. get,list,create 6 5
# Environment: CONNS (16), BASELINE_REF (benchmarks/baseline.ref; `none` leaves it out).
# Needs one harness run first (./benchmarks/run.sh: its database, wrk and request files).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
ops=${1:-get,list,create,patch,mixed}
pairs=${2:-6}
secs=${3:-5}
conns=${CONNS:-16}
python="${BACKSMITH_PYTHON:-$root/.venv/bin/python}"
bench="$(cd "${BACKSMITH_BENCH:-../shared/bench}" && pwd)"
[ -d "$root/benchmarks/.harness" ] && [ ! -w "$bench" ] && bench="$root/benchmarks/.harness"
requests=$(ls -d "$root"/benchmarks/results/*/harness/requests 2>/dev/null | tail -1)
if [ -z "$requests" ] || [ ! -x "$bench/.venv/bin/python" ]; then
  echo "alternate.sh: run ./benchmarks/run.sh once first (the harness's database and requests)" >&2
  exit 2
fi
# shellcheck source=benchmarks/baseline.sh
. "$root/benchmarks/baseline.sh"
ref=${BASELINE_REF:-$(cat "$root/benchmarks/baseline.ref")}
url="postgresql://bench:bench@127.0.0.1:5432/bench"

declare -A port=([backsmith]=8100 [floor]=8101 [baseline]=8102) pid=()
serve() {  # name src -> a backsmith from src/ on CPU 1
  env PYTHONPATH="$2" BACKSMITH_DATABASE_URL="$url" BACKSMITH_CREATE_TABLES=true \
    BACKSMITH_LOG_FORMAT=json taskset -c 1 "$python" -m backsmith serve \
    "$bench/workload/api.yaml" --dbml "$bench/workload/schema.dbml" --host 127.0.0.1 \
    --port "${port[$1]}" >"$work/$1.log" 2>&1 &
  pid[$1]=$!
}
ready() {
  for _ in $(seq 1 120); do
    curl -sf -o /dev/null "http://127.0.0.1:${port[$1]}/products/$(cut -f2 "$requests/raw_asyncpg/get.txt" | head -1 | cut -d/ -f3)" && return
    sleep 0.5
  done
  echo "alternate.sh: $1 did not start (see $work/$1.log)" >&2
  exit 1
}
work=$(mktemp -d)
trap 'kill "${pid[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"' EXIT
peers=(backsmith)
serve backsmith "$root/src"
ready backsmith  # one at a time: each makes the idempotency table on an empty database
if [ "$ref" != none ]; then
  serve baseline "$(baseline_folder "$ref" "$python")/src"
  ready baseline
  peers+=(baseline)
fi
(cd "$bench" && DATABASE_URL="$url" exec taskset -c 1 .venv/bin/python -m uvicorn \
  peers.raw_asyncpg.app:app --loop uvloop --http httptools --port "${port[floor]}" \
  --no-access-log --log-level warning >"$work/floor.log" 2>&1) &
pid[floor]=$!
ready floor
peers+=(floor)

cpu_ticks() {  # utime + stime of a server and its worker processes, in clock ticks
  local total=0 p
  for p in "$1" $(pgrep -P "$1" || true); do
    total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
load() {  # peer op -> requests answered in $secs seconds
  local files=() dir=backsmith
  [ "$1" = floor ] && dir=raw_asyncpg
  if [ "$2" = mixed ]; then
    files=("$requests/$dir/get.txt=80" "$requests/$dir/list.txt=15" "$requests/$dir/create.txt=5")
  else
    files=("$requests/$dir/$2.txt=1")
  fi
  taskset -c 0 wrk -t1 -c"$conns" -d"${secs}s" --timeout 5s -s "$bench/lib/bench.lua" \
    "http://127.0.0.1:${port[$1]}" -- "alt$RANDOM$RANDOM" "${files[@]}" |
    sed -n 's/^BENCH_JSON //p' | "$python" -c 'import json, sys; print(json.load(sys.stdin)["requests"])'
}
tick=$(getconf CLK_TCK)
for op in ${ops//,/ }; do
  for round in $(seq 1 "$pairs"); do
    for peer in "${peers[@]}"; do
      before=$(cpu_ticks "${pid[$peer]}")
      answered=$(load "$peer" "$op")
      after=$(cpu_ticks "${pid[$peer]}")
      echo "$op $peer $round $(( (after - before) * 1000000 / tick / answered ))" >>"$work/runs"
    done
  done
done
"$python" - "$work/runs" "$conns" <<'REPORT'
import statistics, sys
rows = [line.split() for line in open(sys.argv[1])]
found = {}
for op, peer, _, micros in rows:
    found.setdefault(op, {}).setdefault(peer, []).append(int(micros))
print(f"Server µs CPU per request, {sys.argv[2]} connections, alone and in turn (median, min-max):\n")
print("| op | " + " | ".join(found[next(iter(found))]) + " | backsmith / others |")
print("|---" * (len(found[next(iter(found))]) + 2) + "|")
for op, peers in found.items():
    cells = [f"{statistics.median(v):.0f} ({min(v)}-{max(v)})" for v in peers.values()]
    mine = statistics.median(peers["backsmith"])
    ratios = ", ".join(
        f"{mine / statistics.median(v):.2f}x {p}" for p, v in peers.items() if p != "backsmith"
    )
    print(f"| {op} | " + " | ".join(cells) + f" | {ratios} |")
print("\nBelow 1.00x: backsmith spends less CPU on a request than that peer.")
REPORT
