#!/bin/sh
# crash_import.sh - `kasa import` killed with SIGKILL at random points, many
# times, as issue 3 demands.  After each kill: the store opens and `kasa
# store check` says ok; every object stored is exactly an object of the
# input (none half-stored, none altered); every object the import reported
# settled (its last --progress json "committed_through") is there; `kasa
# stats` counts what `kasa export` writes.  After every five kills the
# import is rerun to completion and the store must hold exactly the
# input.  Three loops: into the default collection, into a collection made
# with `kasa collection create`, and with --atomic (after a kill the store
# holds nothing of the import or all of it).
#
# The input is generated: ~30,000 unique STIX 2.1 indicators, one object
# per line, so that "stored as sent" is a comparison of lines.
#
# usage: sh crash_import.sh /path/to/kasa [STORE-URI]
#   STORE-URI (or $KASA_CRASH_STORE): sqlite:... is ignored in favour of a
#   file in a temporary directory; a postgresql URI is used as given and
#   emptied between runs with psql ($KASA_TEST_PG_BIN, $KASA_TEST_PG_DIR,
#   as tests/pg/with_postgres.sh sets them).
#   $KASA_CRASH_OBJECTS (30000; 8000 on PostgreSQL), $KASA_CRASH_ITERATIONS
#   (25, in episodes of five) and $KASA_CRASH_ATOMIC_ITERATIONS (5) scale it.
set -eu

KASA=${1:-}
STORE=${2:-${KASA_CRASH_STORE:-}}
ITER=${KASA_CRASH_ITERATIONS:-25}
ATOMIC=${KASA_CRASH_ATOMIC_ITERATIONS:-5}

if [ -z "$KASA" ] || [ ! -x "$KASA" ]; then
    echo "usage: sh crash_import.sh /path/to/kasa [STORE-URI]" >&2
    exit 2
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/kasa-crash.XXXXXX")
pid=
cleanup() {
    if [ -n "$pid" ]; then
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 2' INT TERM HUP

case $STORE in
postgresql:* | postgres:*)
    BACKEND=postgresql
    # a round trip per statement makes PostgreSQL slower: fewer objects,
    # still several batches of 2000
    NOBJ=${KASA_CRASH_OBJECTS:-8000}
    : "${KASA_TEST_PG_BIN:?crash_import: a postgresql store needs \$KASA_TEST_PG_BIN (run it under tests/pg/with_postgres.sh)}"
    : "${KASA_TEST_PG_DIR:?crash_import: a postgresql store needs \$KASA_TEST_PG_DIR}"
    ;;
*)
    BACKEND=sqlite
    NOBJ=${KASA_CRASH_OBJECTS:-30000}
    STORE=sqlite:$TMP/kasa.db
    ;;
esac

pass=0
fail=0
name=

t() { name=$1; }
ok() { pass=$((pass + 1)); }
bad() {
    fail=$((fail + 1))
    echo "FAIL: $name: $1"
}

# --- the store ---------------------------------------------------------------

reset_store() {
    if [ "$BACKEND" = sqlite ]; then
        rm -f "$TMP/kasa.db" "$TMP/kasa.db-wal" "$TMP/kasa.db-shm" \
              "$TMP/kasa.db-journal"
    else
        "$KASA_TEST_PG_BIN/psql" -q -X -h "$KASA_TEST_PG_DIR" -U postgres \
            -d kasa -v ON_ERROR_STOP=1 \
            -c 'DROP SCHEMA public CASCADE' -c 'CREATE SCHEMA public' \
            >/dev/null 2>"$TMP/psql.err" || {
            echo "crash_import: cannot empty the database:" >&2
            cat "$TMP/psql.err" >&2
            exit 2
        }
    fi
}

# --- the input ---------------------------------------------------------------

# objects.jsonl: one indicator per line; bundle.json: the same lines, in a
# bundle, one object per line.
awk -v n="$NOBJ" 'BEGIN {
    for (i = 0; i < n; i++)
        printf "{\"type\":\"indicator\",\"spec_version\":\"2.1\"," \
               "\"id\":\"indicator--%08x-6b2e-4c1d-9a3f-%012x\"," \
               "\"created\":\"2024-03-01T09:00:00.000Z\"," \
               "\"modified\":\"2024-03-01T09:00:00.000Z\"," \
               "\"name\":\"C2 address %d\"," \
               "\"indicator_types\":[\"malicious-activity\"]," \
               "\"pattern\":\"[ipv4-addr:value = '\''10.%d.%d.%d'\'']\"," \
               "\"pattern_type\":\"stix\"," \
               "\"valid_from\":\"2024-03-01T09:00:00Z\"}\n",
               i, i * 7919, i, int(i / 65536) % 256, int(i / 256) % 256, i % 256
}' >"$TMP/objects.jsonl"
{
    echo '{"type":"bundle","id":"bundle--0f1e2d3c-4b5a-4697-8877-665544332211","objects":['
    sed '$!s/$/,/' "$TMP/objects.jsonl"
    echo ']}'
} >"$TMP/bundle.json"
LC_ALL=C sort "$TMP/objects.jsonl" >"$TMP/objects.sorted"
if [ "$(LC_ALL=C sort -u "$TMP/objects.sorted" | wc -l)" -ne "$NOBJ" ]; then
    echo "crash_import: the generator made duplicate objects" >&2
    exit 2
fi

# --- helpers -----------------------------------------------------------------

now_ms() {
    echo $(($(date +%s%N) / 1000000))
}

# rand N: a random number in [0, N].
rand() {
    _r=$(od -An -N4 -tu4 /dev/urandom | tr -d ' \n')
    echo $((_r % ($1 + 1)))
}

# committed FILE: the last committed_through of the --progress json lines
# in FILE (0 when none); a line cut by the kill is ignored.
committed() {
    _c=$(sed -n 's/^{"read":[0-9]*,"committed_through":\([0-9]*\),"added":[0-9]*,"duplicates":[0-9]*,"conflicts":[0-9]*,"rejected":[0-9]*,"offset":[0-9]*}$/\1/p' \
         "$1" | tail -n 1)
    echo "${_c:-0}"
}

# import ARGS...: kasa import of the bundle, in the background; $pid.
import_bg() {
    # a kill can land before the shell has even opened these for the new
    # run: the last run's progress must not be read as this one's
    : >"$TMP/import.out"
    : >"$TMP/import.err"
    # a commit per batch of 2,000: many commit points for the kills to hit
    "$KASA" import --progress json --commit-every 2000 --store "$STORE" "$@" \
        "$TMP/bundle.json" \
        >"$TMP/import.out" 2>"$TMP/import.err" </dev/null &
    pid=$!
}

# export_sorted [ARGS...]: the store's objects, sorted, in $TMP/stored;
# their number in $stored.  Returns 1 if export failed.
export_sorted() {
    _rc=0
    "$KASA" export --format jsonl --store "$STORE" "$@" >"$TMP/export.out" \
        2>"$TMP/export.err" || _rc=$?
    if [ "$_rc" -ne 0 ]; then
        bad "kasa export exited $_rc: $(head -n 3 "$TMP/export.err")"
        stored=0
        : >"$TMP/stored"
        return 1
    fi
    LC_ALL=C sort "$TMP/export.out" >"$TMP/stored"
    stored=$(wc -l <"$TMP/stored" | tr -d ' ')
    return 0
}

# check_store: the store opens and its integrity check passes.
check_store() {
    _rc=0
    "$KASA" store check --store "$STORE" >"$TMP/check.out" 2>"$TMP/check.err" \
        || _rc=$?
    if [ "$_rc" -eq 0 ] && [ "$(cat "$TMP/check.out")" = ok ]; then
        ok
    else
        bad "store check exited $_rc: $(cat "$TMP/check.out" "$TMP/check.err" | head -n 5)"
    fi
}

# check_stats: `kasa stats` counts the objects export wrote.
check_stats() {
    _rc=0
    "$KASA" stats --store "$STORE" >"$TMP/stats.out" 2>"$TMP/stats.err" \
        || _rc=$?
    _objs=$(sed -n 's/^objects  *\([0-9,]*\)$/\1/p' "$TMP/stats.out" | tr -d ,)
    if [ "$_rc" -eq 0 ] && [ "${_objs:-x}" = "$stored" ]; then
        ok
    else
        bad "stats says ${_objs:-nothing} objects (exit $_rc), export wrote $stored"
    fi
}

# check_after_kill COMMITTED [EXPORT-ARGS...]: what a kill may leave.
check_after_kill() {
    _committed=$1
    shift
    check_store
    export_sorted "$@" || return 0
    # none half-stored or altered: each stored line is a line of the input
    LC_ALL=C comm -23 "$TMP/stored" "$TMP/objects.sorted" >"$TMP/alien"
    if [ -s "$TMP/alien" ]; then
        bad "$(wc -l <"$TMP/alien" | tr -d ' ') stored objects are not as sent, e.g. $(head -c 300 "$TMP/alien")"
    else
        ok
    fi
    if [ "$(LC_ALL=C uniq -d "$TMP/stored" | wc -l)" -eq 0 ]; then ok
    else bad "export wrote an object twice"; fi
    # everything reported settled is there
    if [ "$stored" -ge "$_committed" ]; then ok
    else bad "committed_through was $_committed, but only $stored objects are stored"; fi
    head -n "$_committed" "$TMP/objects.jsonl" | cut -d'"' -f12 | LC_ALL=C sort \
        >"$TMP/want_ids"
    cut -d'"' -f12 "$TMP/stored" | LC_ALL=C sort >"$TMP/have_ids"
    LC_ALL=C comm -23 "$TMP/want_ids" "$TMP/have_ids" >"$TMP/missing"
    if [ -s "$TMP/missing" ]; then
        bad "$(wc -l <"$TMP/missing" | tr -d ' ') of the first $_committed objects (reported committed) are missing, e.g. $(head -n 1 "$TMP/missing")"
    else
        ok
    fi
    check_stats
}

# finish_import [IMPORT-ARGS...] -- [EXPORT-ARGS...]: rerun the import to its end;
# then the store holds exactly the input.
finish_import() {
    _iargs=
    while [ $# -gt 0 ] && [ "$1" != -- ]; do
        _iargs="$_iargs $1"
        shift
    done
    [ $# -gt 0 ] && shift
    _rc=0
    # shellcheck disable=SC2086 # the arguments are words without spaces
    "$KASA" import --progress none --store "$STORE" $_iargs "$TMP/bundle.json" \
        >"$TMP/import.out" 2>"$TMP/import.err" </dev/null || _rc=$?
    if [ "$_rc" -eq 0 ]; then ok
    else bad "the rerun exited $_rc: $(head -n 3 "$TMP/import.err")"; fi
    _read=$(sed -n 's/^  objects read  *\([0-9,]*\)$/\1/p' "$TMP/import.out" | tr -d ,)
    _added=$(sed -n 's/^  added  *\([0-9,]*\)$/\1/p' "$TMP/import.out" | tr -d ,)
    _dup=$(sed -n 's/^  duplicates  *\([0-9,]*\)$/\1/p' "$TMP/import.out" | tr -d ,)
    if [ "${_read:-x}" = "$NOBJ" ] &&
       [ $((${_added:-0} + ${_dup:-0})) -eq "$NOBJ" ]; then ok
    else bad "the rerun's summary does not add up: read ${_read:-?}, added ${_added:-?}, duplicates ${_dup:-?}"; fi
    check_store
    export_sorted "$@" || return 0
    if cmp -s "$TMP/stored" "$TMP/objects.sorted"; then ok
    else bad "after the rerun the store holds $stored objects, not exactly the $NOBJ sent"; fi
    check_stats
}

# kill_import DELAY-MS: wait DELAY-MS, SIGKILL the import, reap it; $st.
kill_import() {
    sleep "$(awk -v ms="$1" 'BEGIN { printf "%.3f", ms / 1000 }')"
    kill -9 "$pid" 2>/dev/null || true
    st=0
    # (the shell's own "Killed" note is not wanted)
    wait "$pid" 2>/dev/null || st=$?
    pid=
}

# --- how long an import takes ------------------------------------------------

reset_store
t0=$(now_ms)
import_bg
st=0
wait "$pid" || st=$?
pid=
t1=$(now_ms)
full=$((t1 - t0))
[ "$full" -gt 0 ] || full=1
t "a full import, to time the kills"
if [ "$st" -eq 0 ]; then ok; else bad "it exited $st: $(head -n 3 "$TMP/import.err")"; fi
export_sorted || true
if cmp -s "$TMP/stored" "$TMP/objects.sorted"; then ok
else bad "it stored $stored objects, not exactly the $NOBJ sent"; fi
# kills land anywhere from before the first commit to after the end
span=$((full + 20))
echo "# $BACKEND: $NOBJ objects import in $full ms; kills within 0..$span ms"

# --- the loops ---------------------------------------------------------------

# delay: how long to let an import run.  One kill in four lands in the
# first tenth of an import (before or about the first commit), the others
# anywhere up to a little after its end.
delay() {
    if [ "$(rand 3)" -eq 0 ]; then
        rand $((full / 10 + 1))
    else
        rand "$span"
    fi
}

before=0 during=0 after=0

# tally: where the last kill landed.
tally() {
    if [ "$st" -eq 0 ]; then
        after=$((after + 1))
    elif [ "$1" -eq 0 ]; then
        before=$((before + 1))
    else
        during=$((during + 1))
    fi
}

# fresh MODE: an empty store; for MODE collection, with the collection
# the imports go to, made by `kasa collection create`.
fresh() {
    reset_store
    [ "$1" = collection ] || return 0
    _rc=0
    cid=$("$KASA" collection create "Crash test feed" --alias crash-feed \
          --store "$STORE" 2>"$TMP/coll.err") || _rc=$?
    t "collection create"
    if [ "$_rc" -eq 0 ] && [ ${#cid} -eq 36 ]; then ok
    else bad "exited $_rc, printed [$cid]: $(cat "$TMP/coll.err")"; fi
    # the import names it by id, the export by alias
    _ia="--collection $cid"
    _ea="--collection crash-feed"
}

# episode MODE KILLS: from an empty store, KILLS imports killed one after
# the other (each resuming what the one before left; a fresh store when
# one got to the end), checked after each kill; then the import rerun to
# its end.  MODE: default or collection.
episode() {
    _mode=$1
    _kills=$2
    _ia="" _ea=""
    fresh "$_mode"
    _k=0
    while [ "$_k" -lt "$_kills" ]; do
        _k=$((_k + 1))
        kills=$((kills + 1))
        # shellcheck disable=SC2086 # words without spaces
        import_bg $_ia
        _delay=$(delay)
        kill_import "$_delay"
        _c=$(committed "$TMP/import.err")
        t "$_mode: kill $kills after $_delay ms (exit $st, committed_through $_c)"
        case $st in
        0 | 137) ok ;;
        *) bad "the import exited $st before the kill: $(grep -v '^{' "$TMP/import.err" | head -n 3)" ;;
        esac
        # shellcheck disable=SC2086
        check_after_kill "$_c" $_ea
        echo "# $name: $stored stored"
        tally "$_c"
        # all there: the next kill had nothing left to interrupt
        if [ "$stored" -eq "$NOBJ" ] && [ "$_k" -lt "$_kills" ]; then
            fresh "$_mode"
        fi
    done
    t "$_mode: the rerun to completion after kill $kills"
    # shellcheck disable=SC2086
    finish_import $_ia -- $_ea
}

# atomic KILLS: --atomic imports into an empty store, killed: the store
# holds nothing of the import or all of it.
atomic() {
    _k=0
    while [ "$_k" -lt "$1" ]; do
        _k=$((_k + 1))
        kills=$((kills + 1))
        reset_store
        import_bg --atomic
        # an atomic import is one transaction: its end is the commit
        _delay=$(rand $((full * 3 / 2)))
        kill_import "$_delay"
        _c=$(committed "$TMP/import.err")
        t "atomic: kill $kills after $_delay ms (exit $st, committed_through $_c)"
        case $st in
        0 | 137) ok ;;
        *) bad "the import exited $st before the kill: $(grep -v '^{' "$TMP/import.err" | head -n 3)" ;;
        esac
        check_after_kill "$_c"
        echo "# $name: $stored stored"
        tally "$_c"
        if [ "$stored" -eq 0 ] || [ "$stored" -eq "$NOBJ" ]; then ok
        else bad "--atomic left $stored of $NOBJ objects"; fi
        if [ "$st" -eq 0 ] && [ "$stored" -ne "$NOBJ" ]; then
            bad "--atomic finished (exit 0) but left $stored of $NOBJ objects"
        fi
    done
    t "atomic: the rerun to completion after kill $kills"
    finish_import --atomic
}

kills=0
# ITER kills in episodes of five, every other one into a made collection
e=0
while [ "$kills" -lt "$ITER" ]; do
    left=$((ITER - kills))
    [ "$left" -gt 5 ] && left=5
    if [ $((e % 2)) -eq 0 ]; then episode default "$left"
    else episode collection "$left"; fi
    e=$((e + 1))
done
atomic "$ATOMIC"

echo "# $kills kills: $before before the first commit, $during after some commits, $after after the end"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
