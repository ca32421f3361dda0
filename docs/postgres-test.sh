#!/usr/bin/env bash
# A throwaway PostgreSQL for the tests of tam/store/postgres: a cluster
# made with initdb in a temporary directory, listening on loopback only on
# a free port, with trust authentication (nothing but this machine can
# reach it, and it holds nothing but test databases).
#
#   eval "$(bash docs/postgres-test.sh start)"   # sets TEEUP_TEST_POSTGRES and TEEUP_TEST_POSTGRES_DIR
#   go test ./tam/store/postgres/...
#   bash docs/postgres-test.sh stop              # stops it and removes the directory
#
# The server binaries come from Debian's postgresql package
# (/usr/lib/postgresql/*/bin) or the PATH. PostgreSQL refuses to run as
# root: run as root, the cluster belongs to the postgres system user the
# package creates.
set -euo pipefail

bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [ -x "$d/initdb" ] && { echo "$d"; return; }
  done
  command -v initdb >/dev/null && { dirname "$(command -v initdb)"; return; }
  echo "postgres-test.sh: no initdb: apt-get install -y postgresql" >&2
  exit 1
}

# as runs a command as the cluster's owner.
as() {
  # From /: the postgres user may not enter the caller's directory.
  if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

free_port() {
  local port
  for _ in $(seq 200); do
    port=$((20000 + RANDOM % 30000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  echo "postgres-test.sh: no free port found" >&2
  exit 1
}

start() {
  local bin dir port
  bin=$(bindir)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/teeup-pg.XXXXXX")
  [ "$(id -u)" = 0 ] && chown postgres: "$dir"
  as "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  for _ in 1 2 3; do
    port=$(free_port)
    # The tests open many small databases and pools at once.
    if as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 start \
      -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=300 -c shared_buffers=64MB" >/dev/null; then
      echo "export TEEUP_TEST_POSTGRES='postgres://postgres@127.0.0.1:$port/postgres?sslmode=disable'"
      echo "export TEEUP_TEST_POSTGRES_DIR='$dir'"
      return
    fi
  done
  cat "$dir/server.log" >&2
  exit 1
}

stop() {
  local dir=${1:-${TEEUP_TEST_POSTGRES_DIR:-}}
  if [ -z "$dir" ] || [ ! -d "$dir/data" ]; then
    echo "postgres-test.sh stop: no cluster (give its directory or set TEEUP_TEST_POSTGRES_DIR)" >&2
    exit 1
  fi
  as "$(bindir)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
  rm -rf "$dir"
}

case "${1:-}" in
  start) start ;;
  stop) stop "${2:-}" ;;
  *) echo "usage: $0 start|stop [DIR]" >&2; exit 2 ;;
esac
