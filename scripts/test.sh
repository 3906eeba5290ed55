#!/usr/bin/env bash
# `make test`: lint, then the whole suite against a throwaway PostgreSQL cluster, which is
# stopped afterwards whether the tests pass or fail.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
source scripts/pgcluster.sh

ensure_chromium() {
  command -v chromium >/dev/null && return 0
  echo "Chromium not found: installing it from Debian's packages (browser tests)" >&2
  local sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
}

echo "== ruff" >&2
"$VENV/bin/ruff" check .
"$VENV/bin/ruff" format --check .

ensure_chromium
pg_start
trap pg_stop EXIT
export TEST_DATABASE_URL="$PGTEST_URL"
echo "== pytest" >&2
"$VENV/bin/pytest" "$@"
