#!/bin/sh
# taxii.sh - load the TAXII server with wrk (bench/taxii_get.lua,
# bench/taxii_post.lua) on loopback: pages of 100 objects from a
# collection of N objects (default 1,000,000), then POSTs of envelopes of
# 1,000 new indicators.  Prints requests/s, p50/p99 latency and objects/s.
# Prints figures; never judges them; not part of the test run.  Everything
# goes to one directory in /tmp, removed at the end.
#
# usage: bench/taxii.sh [--count N] [--seconds S] [--connections C]
#                       [--keep DIR]
#   --count N        objects in the collection (default 1000000)
#   --seconds S      each wrk run (default 20)
#   --connections C  wrk connections (default 16; wrk runs 2 threads)
#   --store DIR      reuse (or keep) the loaded store in DIR
set -eu

cd "$(dirname "$0")/.."
build=${KASA_BUILD_DIR:-build}
count=1000000
seconds=20
conns=16
keep=""

while [ $# -gt 0 ]; do
    case $1 in
    --count) count=$2; shift ;;
    --seconds) seconds=$2; shift ;;
    --connections) conns=$2; shift ;;
    --store) keep=$2; shift ;;
    *) sed -n '9,15p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
    esac
    shift
done

[ -x "$build/kasa" ] || make >/dev/null
kasa=$(pwd)/$build/kasa
if [ -n "$keep" ]; then
    dir=$keep
    mkdir -p "$dir"
else
    dir=$(mktemp -d /tmp/kasa-bench-taxii.XXXXXX)
    trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT INT TERM
fi
store="sqlite:$dir/kasa.db"
pid=""

if [ ! -f "$dir/kasa.db" ]; then
    echo "loading $count objects (bench/store --bundle, kasa import)..."
    "$build/bench/store" --count "$count" --bundle "$dir/bundle.json" \
        >/dev/null
    "$kasa" --store "$store" collection create "Bench" --alias bench \
        >/dev/null
    # the span of date_added, for the GET script's random added_after
    date +%s%6N >"$dir/first_us"
    "$kasa" --store "$store" import --progress none --collection bench \
        "$dir/bundle.json" | tail -1
    date +%s%6N >"$dir/last_us"
    rm -f "$dir/bundle.json"
    "$kasa" --store "$store" collection create "Bench posts" \
        --alias posts >/dev/null
    echo "bench-password" | "$kasa" --store "$store" account add bench \
        --org benchers --password-stdin >/dev/null
    "$kasa" --store "$store" grant benchers bench read >/dev/null
    "$kasa" --store "$store" grant benchers posts read,write >/dev/null
fi
token=$("$kasa" --store "$store" token new bench)
read_id=$("$kasa" --store "$store" collection show bench |
          sed -n 's/^ *id *:* *\([0-9a-f-]\{36\}\).*/\1/p' | head -1)
post_id=$("$kasa" --store "$store" collection show posts |
          sed -n 's/^ *id *:* *\([0-9a-f-]\{36\}\).*/\1/p' | head -1)

# what the loading wrote goes to the disk now, not during the runs (its
# write-back made POST's fsync()s wait: runs varied by a third)
sync

"$kasa" serve --store "$store" --listen 127.0.0.1:0 \
    --audit-log "$dir/audit.log" >"$dir/serve.out" 2>"$dir/serve.err" &
pid=$!
for _ in 1 2 3 4 5 6 7 8 9 10; do
    grep -q '^listening:' "$dir/serve.out" 2>/dev/null && break
    sleep 0.5
done
url=$(sed -n 's/^listening: \(http:[^ ]*\)taxii2\/$/\1/p' "$dir/serve.out")
[ -n "$url" ] || { echo "the server did not start:" >&2;
                   cat "$dir/serve.err" >&2; exit 1; }

export KASA_TOKEN="$token"
export KASA_FIRST_US="$(cat "$dir/first_us")"
export KASA_LAST_US="$(cat "$dir/last_us")"

# wrk's summary: requests/s, and the 50% / 99% latencies of --latency
report() {
    what=$1 per=$2 out=$3
    rps=$(sed -n 's/^Requests\/sec: *\([0-9.]*\).*/\1/p' "$out")
    p50=$(sed -n 's/^ *50% *\([0-9.]*[a-z]*\).*/\1/p' "$out")
    p99=$(sed -n 's/^ *99% *\([0-9.]*[a-z]*\).*/\1/p' "$out")
    errs=$(sed -n 's/^ *Non-2xx or 3xx responses: *\([0-9]*\).*/\1/p' "$out")
    printf '%-44s %12s requests/s  p50 %8s  p99 %8s' "$what" "$rps" "$p50" "$p99"
    if [ "$per" -gt 1 ]; then
        awk -v r="$rps" -v p="$per" 'BEGIN { printf "  %10.0f objects/s", r * p }'
    fi
    [ -n "$errs" ] && printf '  (%s non-2xx)' "$errs"
    echo
}

echo "kasa $("$kasa" --version | cut -d' ' -f2) TAXII benchmark: $count objects, wrk -t2 -c$conns -d${seconds}s, $(( $(nproc) + 1 )) server threads"
KASA_PATH="/api/collections/$read_id/objects/" \
    wrk -t2 -c"$conns" -d"${seconds}s" --latency -s bench/taxii_get.lua \
    "$url" >"$dir/get.txt" 2>&1 || true
report "GET objects, limit 100, random added_after" 100 "$dir/get.txt"
sync # the audit trail of the GETs, written back now, not during the POSTs
KASA_PATH="/api/collections/$post_id/objects/" \
    wrk -t2 -c4 -d"${seconds}s" --latency --timeout 30s \
    -s bench/taxii_post.lua "$url" >"$dir/post.txt" 2>&1 || true
report "POST objects, envelopes of 1,000" 1000 "$dir/post.txt"
kill -TERM "$pid"
wait "$pid" 2>/dev/null || true
pid=""
