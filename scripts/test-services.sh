#!/usr/bin/env bash
# What the tests start for themselves but a fresh machine may lack, from Debian's packages:
# PgBouncer (tests/storage/test_pgbouncer.py runs instances behind it). Without root or
# apt, the tests that need it say so and are skipped (outside CI, where they fail).
set -uo pipefail
if command -v pgbouncer >/dev/null 2>&1 || [ -x /usr/sbin/pgbouncer ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "backsmith: PgBouncer is not installed (apt-get install pgbouncer); its tests are skipped" >&2
  exit 0
fi
echo "backsmith: installing PgBouncer from Debian's packages, for its tests"
export DEBIAN_FRONTEND=noninteractive
# The package's own service is not wanted: tests start theirs on free ports.
apt-get install -y -q --no-install-recommends pgbouncer >/dev/null 2>&1 \
  || { apt-get update -q >/dev/null 2>&1 && apt-get install -y -q --no-install-recommends pgbouncer >/dev/null; } \
  || echo "backsmith: could not install PgBouncer; its tests are skipped" >&2
exit 0
