#!/usr/bin/env bash
# `make bench`: the benchmark harness (bench/README.md) on a throwaway PostgreSQL cluster.
# Installs wrk from Debian's packages when missing; everything it starts listens on 127.0.0.1
# and is stopped afterwards. Extra arguments (or BENCH_ARGS) go to `python -m bench.run`,
# e.g. `make bench BENCH_ARGS=--quick`.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}

ensure_wrk() {
  command -v wrk >/dev/null && return 0
  echo "wrk not found: installing it from Debian's packages" >&2
  local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >/dev/null
}

ensure_wrk
source scripts/pgcluster.sh
pg_start
trap pg_stop EXIT
# shellcheck disable=SC2086 # BENCH_ARGS is a list of words on purpose
"$VENV/bin/python" -m bench.run ${BENCH_ARGS:-} "$@"
