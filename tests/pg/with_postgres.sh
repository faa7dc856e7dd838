#!/bin/sh
# with_postgres.sh CMD [ARG...] - run CMD against a real PostgreSQL server
# of its own: a fresh cluster in a temporary directory, listening only on a
# UNIX socket there (no TCP port, nothing shared with the machine's own
# server), removed afterwards.  CMD finds the server in $KASA_TEST_PG, a
# store URI.  PostgreSQL refuses to run as root, so as root the server runs
# as the `postgres` user that Debian's package creates.
set -eu

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bindir" ] || [ ! -x "$bindir/initdb" ]; then
    echo "with_postgres: PostgreSQL is not installed (run scripts/install-deps.sh)" >&2
    exit 1
fi

dir=$(mktemp -d /tmp/kasa-pg.XXXXXX)
chmod 755 "$dir"
as_server() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}
[ "$(id -u)" -eq 0 ] && chown postgres "$dir"

cleanup() {
    as_server "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT INT TERM

as_server "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 \
    --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || { cat "$dir/initdb.log" >&2; exit 1; }
# tests need no durability across power cuts: fsync off keeps them quick
as_server "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses='' -k $dir -c fsync=off -c full_page_writes=off -c max_connections=50" \
    start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
as_server "$bindir/createdb" -h "$dir" -U postgres kasa

export KASA_TEST_PG="postgresql:host=$dir user=postgres dbname=kasa"
export KASA_TEST_PG_DIR="$dir"
export KASA_TEST_PG_BIN="$bindir"
status=0
"$@" || status=$?
exit $status
