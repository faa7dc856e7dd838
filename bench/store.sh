#!/bin/sh
# store.sh - run the store benchmark (bench/store.c) against SQLite (a new
# file in /tmp) and against PostgreSQL (a throwaway server from
# tests/pg/with_postgres.sh), then time `kasa import` end to end on one big
# generated bundle (about 1 GB) with /usr/bin/time -v.  It prints figures;
# it never judges them and is not part of the test run.  Everything it
# writes goes to one directory in /tmp, removed at the end.
#
# usage: bench/store.sh [--quick] [--count N] [--budget S]
#                       [--bundle-count N] [--skip-sqlite] [--skip-pg]
#                       [--skip-bundle]
#   --quick / --count N / --budget S   passed to build/bench/store
#   --bundle-count N   objects in the import bundle (default 1680000, about
#                      1 GB; 20000 with --quick)
# environment:
#   KASA_BUILD_DIR        the build directory (default: build, built with
#                         `make`; any other is built with cmake)
#   KASA_BENCH_PG_FSYNC   "on" restarts the throwaway server with fsync and
#                         full_page_writes on (the test server runs without)
set -eu

cd "$(dirname "$0")/.."
build=${KASA_BUILD_DIR:-build}
args=""
bundle_count=""
quick=0
do_sqlite=1
do_pg=1
do_bundle=1

usage() {
    sed -n '9,20p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case $1 in
    --quick) args="$args --quick"; quick=1 ;;
    --count|--budget)
        [ $# -ge 2 ] || usage
        args="$args $1 $2"; shift ;;
    --bundle-count)
        [ $# -ge 2 ] || usage
        bundle_count=$2; shift ;;
    --skip-sqlite) do_sqlite=0 ;;
    --skip-pg) do_pg=0 ;;
    --skip-bundle) do_bundle=0 ;;
    *) usage ;;
    esac
    shift
done
if [ -z "$bundle_count" ]; then
    if [ $quick -eq 1 ]; then bundle_count=20000; else bundle_count=1680000; fi
fi

# -- build (incremental: quick when nothing changed) --------------------------
if [ "$build" = build ]; then
    built=0; make >/dev/null && built=1
else
    built=0
    cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null &&
        cmake --build "$build" -j 2 --target bench_store kasa_cli >/dev/null &&
        built=1
fi
if [ $built -eq 0 ]; then
    if [ -x "$build/bench/store" ] && [ -x "$build/kasa" ]; then
        echo "store.sh: the build failed; running the binaries already in $build" >&2
    else
        echo "store.sh: the build failed and $build has no binaries" >&2
        exit 1
    fi
fi
bench="$PWD/$build/bench/store"
kasa="$PWD/$build/kasa"

tmp=$(mktemp -d /tmp/kasa-bench.XXXXXX)
chmod 755 "$tmp"
trap 'rm -rf "$tmp"' EXIT INT TERM

echo "== machine: $(nproc) cores, $(uname -sr); $(uptime | sed 's/^ *//')"
echo "== build: $build ($(git rev-parse --short HEAD 2>/dev/null || echo '?')" \
     "plus uncommitted changes: $(git status --porcelain 2>/dev/null | wc -l) files)"

# -- SQLite -----------------------------------------------------------------
if [ $do_sqlite -eq 1 ]; then
    echo
    echo "== SQLite: $bench --uri sqlite:$tmp/store.db$args"
    # shellcheck disable=SC2086
    "$bench" --uri "sqlite:$tmp/store.db" $args || echo "store.sh: SQLite run failed ($?)"
    rm -f "$tmp/store.db" "$tmp/store.db-wal" "$tmp/store.db-shm"
fi

# -- PostgreSQL ---------------------------------------------------------------
if [ $do_pg -eq 1 ]; then
    echo
    fsync=${KASA_BENCH_PG_FSYNC:-off}
    # Runs inside with_postgres.sh: $KASA_TEST_PG, _DIR and _BIN are set.
    cat >"$tmp/pg_run.sh" <<'EOF'
set -eu
bench=$1; fsync=$2; shift 2
as_server() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
if [ "$fsync" = on ]; then
    # with_postgres.sh starts the server with fsync=off; restart it with
    # the same options but durable, as a production server runs
    as_server "$KASA_TEST_PG_BIN/pg_ctl" -D "$KASA_TEST_PG_DIR/data" -w -t 60 \
        -l "$KASA_TEST_PG_DIR/server.log" \
        -o "-c listen_addresses='' -k $KASA_TEST_PG_DIR -c fsync=on -c full_page_writes=on -c max_connections=50" \
        restart >/dev/null
fi
echo "  server: $("$KASA_TEST_PG_BIN/postgres" --version);" \
     "$("$KASA_TEST_PG_BIN/psql" -h "$KASA_TEST_PG_DIR" -U postgres -d kasa -Atc \
        "SELECT 'fsync=' || current_setting('fsync') || ' full_page_writes=' || current_setting('full_page_writes') || ' synchronous_commit=' || current_setting('synchronous_commit') || ' shared_buffers=' || current_setting('shared_buffers')")"
"$bench" --uri "$KASA_TEST_PG" "$@"
EOF
    echo "== PostgreSQL (throwaway server on a UNIX socket, fsync=$fsync):" \
         "$bench --uri \"\$KASA_TEST_PG\"$args"
    if [ "$fsync" != on ]; then
        echo "  caveat: the server runs with fsync=off and full_page_writes=off," \
             "so commits do not wait for the disk; KASA_BENCH_PG_FSYNC=on for a durable server"
    fi
    # shellcheck disable=SC2086
    sh tests/pg/with_postgres.sh sh "$tmp/pg_run.sh" "$bench" "$fsync" $args ||
        echo "store.sh: PostgreSQL run failed ($?)"
fi

# -- kasa import of one big bundle ---------------------------------------------
if [ $do_bundle -eq 1 ]; then
    echo
    echo "== bundle: $bench --count $bundle_count --bundle $tmp/bundle.json"
    "$bench" --count "$bundle_count" --bundle "$tmp/bundle.json"
    echo
    echo "== kasa import: /usr/bin/time -v $kasa import --progress none" \
         "--store sqlite:$tmp/import.db $tmp/bundle.json"
    echo "   ($(uptime | sed 's/^ *//'))"
    status=0
    if [ -x /usr/bin/time ]; then
        /usr/bin/time -v -o "$tmp/time.txt" "$kasa" import --progress none \
            --store "sqlite:$tmp/import.db" "$tmp/bundle.json" || status=$?
        wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$tmp/time.txt")
        rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$tmp/time.txt")
        secs=$(echo "$wall" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
        grep -E 'Elapsed|User time|System time|Percent of CPU|Maximum resident' "$tmp/time.txt" |
            sed 's/^[[:space:]]*/  time: /'
    else
        # no /usr/bin/time: sample the high-water mark while it runs
        start=$(date +%s.%N)
        "$kasa" import --progress none --store "sqlite:$tmp/import.db" \
            "$tmp/bundle.json" &
        pid=$!
        rss_kb=0
        while kill -0 "$pid" 2>/dev/null; do
            v=$(awk '/^VmHWM:/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true)
            [ -n "$v" ] && rss_kb=$v
            sleep 0.2
        done
        wait "$pid" || status=$?
        secs=$(echo "$start $(date +%s.%N)" | awk '{ print $2 - $1 }')
        echo "  (no /usr/bin/time: VmHWM sampled every 0.2 s, a lower bound)"
    fi
    [ $status -eq 0 ] || echo "store.sh: kasa import exited with $status"
    bytes=$(stat -c %s "$tmp/bundle.json")
    echo "$bundle_count $bytes $secs $rss_kb" | awk '{
        printf "  %-40s %15.2f s\n", "wall time", $3
        printf "  %-40s %15.0f objects/s   goal >= 100000 (SQLite)\n", "kasa import, end to end", $1 / $3
        printf "  %-40s %15.2f MB/s\n", "  of bundle", $2 / $3 / 1e6
        printf "  %-40s %15.2f MB   goal < 256 MB\n", "Maximum resident set size", $4 / 1024
    }'
    stat -c %s "$tmp/import.db" | awk '{ printf "  %-40s %15.2f MB\n", "database size", $1 / 1e6 }'
fi
