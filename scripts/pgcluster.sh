#!/usr/bin/env bash
# A throwaway PostgreSQL cluster on loopback, for tests and benchmarks.
#   source scripts/pgcluster.sh; pg_start; ...; pg_stop
# pg_start exports PGTEST_URL (postgresql+psycopg://…) and PGTEST_DIR. Installs the server from
# Debian's packages when it is missing. initdb refuses root, so as root the cluster runs as `postgres`.

pg_bindir() {
  local dir
  for dir in "$(command -v pg_ctl 2>/dev/null | xargs -r readlink -f | xargs -r dirname)" /usr/lib/postgresql/*/bin; do
    if [ -n "$dir" ] && [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

pg_ensure_installed() {
  if ! pg_bindir >/dev/null; then
    echo "PostgreSQL server not found: installing it from Debian's packages" >&2
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    else
      sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
  fi
}

_pg_as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

pg_start() {
  pg_ensure_installed
  local bindir port
  bindir=$(pg_bindir)
  PGTEST_DIR=$(mktemp -d /tmp/hms-pg.XXXXXX)
  [ "$(id -u)" = 0 ] && chown postgres: "$PGTEST_DIR"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  _pg_as_owner "$bindir/initdb" -D "$PGTEST_DIR/data" -U hms --auth=trust -E UTF8 --no-locale >/dev/null
  _pg_as_owner "$bindir/pg_ctl" -D "$PGTEST_DIR/data" -l "$PGTEST_DIR/server.log" -w -o \
    "-p $port -k $PGTEST_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off \
     -c full_page_writes=off -c max_connections=400 -c shared_buffers=256MB" start >/dev/null
  "$bindir/psql" -q -h 127.0.0.1 -p "$port" -U hms -d postgres -c "CREATE DATABASE hms_test" >/dev/null
  PGTEST_PORT=$port
  PGTEST_URL="postgresql+psycopg://hms@127.0.0.1:$port/hms_test"
  export PGTEST_DIR PGTEST_PORT PGTEST_URL
  echo "PostgreSQL test cluster on 127.0.0.1:$port ($PGTEST_DIR)" >&2
}

pg_stop() {
  [ -n "${PGTEST_DIR:-}" ] && [ -d "$PGTEST_DIR/data" ] || return 0
  _pg_as_owner "$(pg_bindir)/pg_ctl" -D "$PGTEST_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$PGTEST_DIR"
  PGTEST_DIR=
}
