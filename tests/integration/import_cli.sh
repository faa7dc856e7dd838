#!/bin/sh
# import_cli.sh - `kasa import`, `export`, `collection`, `stats` and `store
# check` end to end, as a user meets them: exit codes, summaries, what is
# reported on standard error (index, id, property, rule, byte), and what
# the store holds afterwards, read back with `kasa export`.  Damaged input
# (truncated, mismatched braces, a 100 MB string, 100,000 levels of
# nesting, not JSON, empty, missing) must be reported, never crash, and
# keep what came before the damage.
#
# The small inputs are in DATA_DIR (tests/data/import: objects from the
# examples of the STIX 2.1 specification); the large and deep ones are
# generated in a temporary directory.
#
# usage: sh import_cli.sh /path/to/kasa DATA_DIR [STORE-URI]
#   Without STORE-URI the store is a SQLite file in the temporary
#   directory.  With a postgresql URI (tests/pg/with_postgres.sh gives one
#   in $KASA_TEST_PG) the tests run against it, passing it in $KASA_STORE,
#   and empty it with psql ($KASA_TEST_PG_BIN, $KASA_TEST_PG_DIR) between
#   parts.
#
# The checks that begin "regression:" each caught a bug of kasa when they
# were written (the comment at each says which).
set -eu

KASA=${1:-}
DATA=${2:-}
STORE=${3:-}

if [ -z "$KASA" ] || [ ! -x "$KASA" ] || [ -z "$DATA" ]; then
    echo "usage: sh import_cli.sh /path/to/kasa DATA_DIR [STORE-URI]" >&2
    exit 2
fi
if [ ! -f "$DATA/bundle.json" ]; then
    echo "import_cli.sh: $DATA holds no bundle.json" >&2
    exit 2
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/kasa-import.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
trap 'exit 2' INT TERM HUP

case $STORE in
postgresql:* | postgres:*)
    BACKEND=postgresql
    : "${KASA_TEST_PG_BIN:?import_cli: a postgresql store needs \$KASA_TEST_PG_BIN (run it under tests/pg/with_postgres.sh)}"
    : "${KASA_TEST_PG_DIR:?import_cli: a postgresql store needs \$KASA_TEST_PG_DIR}"
    ;;
*)
    BACKEND=sqlite
    STORE=
    ;;
esac

pass=0
fail=0
rc=0
name=
runs=0
shown=
gen=0

# --- the store -----------------------------------------------------------------

# fresh: an empty store, in $KASA_STORE (so that the commands below need no
# --store; the precedence tests check that they really use it).
fresh() {
    if [ "$BACKEND" = sqlite ]; then
        gen=$((gen + 1))
        KASA_STORE=sqlite:$TMP/store$gen.db
    else
        "$KASA_TEST_PG_BIN/psql" -q -X -h "$KASA_TEST_PG_DIR" -U postgres \
            -d kasa -v ON_ERROR_STOP=1 \
            -c 'DROP SCHEMA public CASCADE' -c 'CREATE SCHEMA public' \
            >/dev/null 2>"$TMP/psql.err" || {
            echo "import_cli: cannot empty the database:" >&2
            cat "$TMP/psql.err" >&2
            exit 2
        }
        KASA_STORE=$STORE
    fi
    export KASA_STORE
}

# --- running the command -------------------------------------------------------

t() { name=$1; }

# run ARGS...: kasa, stdout to $TMP/out, stderr to $TMP/err, status to $rc.
run() {
    rc=0
    "$KASA" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null || rc=$?
    runs=$((runs + 1))
}

# run_in FILE ARGS...: the same with FILE on standard input.
run_in() {
    _in=$1
    shift
    rc=0
    "$KASA" "$@" >"$TMP/out" 2>"$TMP/err" <"$_in" || rc=$?
    runs=$((runs + 1))
}

# stored [ARGS...]: the objects `kasa export --format jsonl ARGS` writes,
# sorted, in $TMP/stored; their number in $nstored.
stored() {
    _rc=0
    "$KASA" export --format jsonl "$@" >"$TMP/stored.raw" 2>"$TMP/stored.err" \
        || _rc=$?
    if [ "$_rc" -ne 0 ]; then
        fail=$((fail + 1))
        echo "FAIL: $name: kasa export $* exited $_rc: $(head -n 3 "$TMP/stored.err")"
    fi
    LC_ALL=C sort "$TMP/stored.raw" >"$TMP/stored"
    nstored=$(wc -l <"$TMP/stored" | tr -d ' ')
}

# --- assertions ----------------------------------------------------------------

# ok, bad and the expect_* checks
. "$(dirname "$0")/../lib/expect.sh"

# expect_summary READ ADDED DUPLICATES CONFLICTS REJECTED: the counts the
# import printed.
expect_summary() {
    _got=$(grep -E -e '^  (objects read|added|duplicates|conflicts|rejected) +[0-9,]+$' \
           "$TMP/out" | sed 's/.* //' | tr -d , | tr '\n' ' ')
    if [ "$_got" = "$1 $2 $3 $4 $5 " ]; then ok
    else bad "expected read/added/duplicates/conflicts/rejected $1 $2 $3 $4 $5, got ${_got:-nothing}"; fi
}

# expect_stored N: the store holds N objects (what export writes).
expect_stored() {
    expect_stored_n "$1"
}
# expect_stored_n N EXPORT-ARGS...: export with EXPORT-ARGS writes N objects.
expect_stored_n() {
    _want=$1
    shift
    stored "$@"
    if [ "$nstored" -eq "$_want" ]; then ok
    else bad "expected $_want objects (export $*), got $nstored"; fi
}
# expect_has ID / expect_lacks ID: an object with that id is (not) stored.
expect_has() {
    if grep -E -e "\"id\": *\"$1\"" "$TMP/stored" >/dev/null; then ok
    else bad "expected $1 to be stored"; fi
}
expect_lacks() {
    if grep -F -e "\"$1\"" "$TMP/stored" >/dev/null; then
        bad "expected $1 not to be stored"
    else ok; fi
}
# expect_stats FIELD N: `kasa stats` prints FIELD with N.
expect_stats() {
    _rc=0
    "$KASA" stats >"$TMP/stats" 2>&1 || _rc=$?
    _v=$(sed -n "s/^$1  *\\([0-9,]*\\)\$/\\1/p" "$TMP/stats" | tr -d ,)
    if [ "$_rc" -eq 0 ] && [ "${_v:-x}" = "$2" ]; then ok
    else bad "expected stats '$1' $2, got ${_v:-nothing} (exit $_rc)"; fi
}
expect_check_ok() {
    _rc=0
    "$KASA" store check >"$TMP/check" 2>&1 || _rc=$?
    if [ "$_rc" -eq 0 ] && [ "$(cat "$TMP/check")" = ok ]; then ok
    else bad "store check: exit $_rc: $(head -n 3 "$TMP/check")"; fi
}

# offset FILE STRING: the byte offset of the first STRING in FILE.
offset() {
    grep -b -o -F -e "$2" "$1" | head -n 1 | cut -d: -f1
}

ID_IND=indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f
ID_MAL=malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b
UUID_RE='[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'

echo "# $BACKEND"

# --- a bundle, then again, then a conflict, then a new version ----------------

fresh

t "import a bundle"
run import "$DATA/bundle.json"
expect_rc 0
expect_out_re "^.*bundle\\.json into collection default \\($UUID_RE\\)\$"
expect_summary 7 7 0 0 0
expect_err_empty
expect_stored 7
expect_has "$ID_IND"
expect_has "$ID_MAL"
expect_has relationship--44298a74-ba52-4f0c-87a3-1824e67d7fad
expect_stats objects 7
expect_stats collections 1
expect_check_ok

t "import the same bundle again: all duplicates"
run import "$DATA/bundle.json"
expect_rc 0
expect_summary 7 0 7 0 0
expect_err_empty
expect_stored 7
expect_stats "object versions" 7

t "a conflicting version: same id and modified, other content"
# conflict.json: the malware again (keys reordered, spacing changed: the
# same content, a duplicate), and the indicator with another name
run import "$DATA/conflict.json"
expect_rc 1
expect_summary 2 0 1 1 0
expect_err "object 1 ($ID_IND, version 2016-04-06T20:03:48.000Z): conflict"
expect_count err conflict 1
expect_not_err malware--
expect_stored 7
if grep -E -e "\"id\": *\"$ID_IND\"" "$TMP/stored" |
   grep -F -e '"name":"Poison Ivy Malware"' >/dev/null; then ok
else bad "the stored indicator changed"; fi
if grep -F -e "edited without a new version" "$TMP/stored" >/dev/null; then
    bad "the conflicting object was stored"
else ok; fi

t "a new version of the indicator is added"
run import "$DATA/newer.json"
expect_rc 0
expect_summary 1 1 0 0 0
expect_stored 8
expect_stats objects 7
expect_stats "object versions" 8
expect_stored_n 2 --type indicator --latest
if grep -F -e "2016-05-10T08:00:00.000Z" "$TMP/stored" >/dev/null &&
   ! grep -F -e '"modified":"2016-04-06T20:03:48.000Z"' "$TMP/stored" >/dev/null; then ok
else bad "--latest should give the 2016-05-10 version of $ID_IND only"; fi

# --- JSON lines, standard input ----------------------------------------------

t "JSON lines"
run import "$DATA/objects.jsonl"
expect_rc 0
expect_out "objects.jsonl into collection default"
expect_summary 4 4 0 0 0
expect_stored 12
# written as received: each line of the input is a line of the export
LC_ALL=C sort "$DATA/objects.jsonl" >"$TMP/want"
if [ -z "$(LC_ALL=C comm -23 "$TMP/want" "$TMP/stored")" ]; then ok
else bad "the exported objects differ from the JSON lines imported"; fi

t "standard input"
fresh
run_in "$DATA/objects.jsonl" import -
expect_rc 0
expect_out "<stdin> into collection default"
expect_summary 4 4 0 0 0
expect_stored 4
if cmp -s "$TMP/want" "$TMP/stored"; then ok
else bad "the store does not hold exactly the lines sent on standard input"; fi

t "a bundle on standard input"
run_in "$DATA/bundle.json" import -
expect_rc 0
expect_summary 7 7 0 0 0

# --- invalid objects -----------------------------------------------------------

t "a bundle with invalid objects: the valid ones are kept"
fresh
run import "$DATA/invalid.json"
expect_rc 1
expect_summary 6 3 0 0 3
expect_out_re '^    required +1$'
expect_out_re '^    pattern +1$'
expect_out_re '^    id-format +1$'
expect_count err '^kasa: import: .*invalid\.json: object [0-9]+ ' 3
expect_err_re '^kasa: import: .*invalid\.json: object 1 \(indicator--c7f3e0c2-cd1b-4c83-a3b3-1c5e3a2b7e10\) at byte [0-9]+: pattern_type: .*required.* \[required\]$'
expect_err_re '^kasa: import: .*invalid\.json: object 3 \(indicator--5e0c1a7b-3f6d-4b8e-9a2c-7d4f1e8b6a90\) at byte [0-9]+: pattern: .*1:32: expected .\]. .* \[pattern\]$'
expect_err_re '^kasa: import: .*invalid\.json: object 4 \(campaign--not-a-uuid\) at byte [0-9]+: id: .* \[id-format\]$'
expect_stored 3
expect_has indicator--71312c48-925d-44b7-b10e-c11086995358
expect_has malware--fdd60b30-b67c-41e3-b0b9-f01faf20d111
expect_has relationship--864af2ea-46f9-4d23-b3a2-1c2adf81c265
expect_lacks indicator--c7f3e0c2-cd1b-4c83-a3b3-1c5e3a2b7e10
expect_lacks campaign--not-a-uuid

t "regression: a rejected object's byte is where the object begins"
# kasa used to report the offset where the reader stood before the object
# (the ',' after the one before), not the object's '{': "object 1 (...) at
# byte 657" where the object begins at byte 663.
_line=$(grep -b '^    {' "$DATA/invalid.json" | sed -n 2p | cut -d: -f1)
_at=$((_line + 4))
expect_err "object 1 (indicator--c7f3e0c2-cd1b-4c83-a3b3-1c5e3a2b7e10) at byte $_at:"

t "--atomic with one bad object: nothing kept"
fresh
run import "$DATA/bundle.json"
expect_rc 0
run import --atomic "$DATA/atomic.json"
expect_rc 1
expect_out "atomic.json into collection default"
expect_out "nothing kept (--atomic)"
expect_err_re 'object 2 \(indicator--a932fcc6-e032-476c-826f-cb970a5a1ade\) at byte [0-9]+: valid_until: .* \[order\]$'
expect_stored 7
expect_lacks malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061
expect_lacks tool--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f
expect_check_ok

t "--atomic with a conflict: nothing kept"
run import --atomic "$DATA/conflict.json"
expect_rc 1
expect_out "nothing kept (--atomic)"
expect_err "conflict"
expect_stored 7
expect_stats "object versions" 7

t "--atomic, all good: all kept"
run import --atomic "$DATA/newer.json"
expect_rc 0
expect_not_out "nothing kept"
expect_summary 1 1 0 0 0
expect_stored 8

t "without --atomic the valid objects of the same file are kept"
run import "$DATA/atomic.json"
expect_rc 1
expect_not_out "nothing kept"
expect_summary 4 2 1 0 1
expect_stored 10
expect_has malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061
expect_has tool--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f
expect_lacks indicator--a932fcc6-e032-476c-826f-cb970a5a1ade

# --- damaged input -------------------------------------------------------------

t "truncated JSON: the objects before the damage are kept"
fresh
run import "$DATA/truncated.json"
expect_rc 2
_at=$(grep -b '^    {' "$DATA/truncated.json" | sed -n 4p | cut -d: -f1)
expect_err "kasa: error: import: $DATA/truncated.json: the input ends inside object 3, which begins at byte $((_at + 4))"
expect_summary 3 3 0 0 0
expect_stored 3
expect_has identity--311b2d2d-f010-4473-83ec-1edf84858f4c
expect_has "$ID_IND"
expect_has "$ID_MAL"
expect_check_ok

t "an object closed with ']': rejected, the others kept"
fresh
run import "$DATA/mismatch_close.json"
expect_rc 1
expect_summary 3 2 0 0 1
expect_err_re "mismatch_close\\.json: object 1 at byte [0-9]+: invalid JSON: .*'}' expected near ']' \\[json\\]\$"
expect_stored 2
expect_lacks tool--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f
expect_has identity--311b2d2d-f010-4473-83ec-1edf84858f4c

t "one '}' too many: what came before is kept, the rest is not read"
fresh
run import "$DATA/mismatch_extra.json"
expect_rc 2
_at=$(($(offset "$DATA/mismatch_extra.json" '"VNC"}}') + 6))
expect_err "kasa: error: import: $DATA/mismatch_extra.json: byte $_at: expected ',' or ']' after object 1, found '}'"
expect_summary 2 2 0 0 0
expect_stored 2
expect_lacks identity--311b2d2d-f010-4473-83ec-1edf84858f4c

t "an object never closed: reported, no crash"
fresh
sed 's/"name": "VNC"\],/"name": "VNC",/' "$DATA/mismatch_close.json" >"$TMP/unclosed.json"
run import "$TMP/unclosed.json"
expect_rc 2
expect_err "unclosed.json"
expect_stored 1
expect_has malware--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061

t "not JSON"
fresh
run import "$DATA/iocs.csv"
expect_rc 2
expect_err "kasa: error: import: $DATA/iocs.csv: byte 0: expected a JSON object (a STIX bundle, STIX objects or a MISP event), found 'i'"
expect_summary 0 0 0 0 0

t "a missing file"
run import "$TMP/no-such-file.json"
expect_rc 2
expect_err "kasa: error: import: $TMP/no-such-file.json: No such file or directory"

t "regression: an empty file is an error"
# kasa used to say "objects read 0" and exit 0: a zero-byte download (the
# usual way to get an empty file) went unnoticed; the help promises 2 for
# "unreadable or truncated input".
run import "$DATA/empty.json"
expect_rc 2
expect_err "empty.json"

t "an empty file, on standard input too, stores nothing and does not crash"
run_in "$DATA/empty.json" import -
if [ "$rc" -le 2 ]; then ok; else bad "exit status $rc"; fi
expect_stored 0

# --- 100,000 levels of nesting -------------------------------------------------

MAL0='{"type":"malware","spec_version":"2.1","id":"malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b","created":"2016-04-06T20:07:09.000Z","modified":"2016-04-06T20:07:09.000Z","name":"Poison Ivy","is_family":true}'
TOOL0='{"type":"tool","spec_version":"2.1","id":"tool--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f","created":"2016-04-06T20:03:48.000Z","modified":"2016-04-06T20:03:48.000Z","tool_types":["remote-access"],"name":"VNC"}'
NOTE0='{"type":"note","spec_version":"2.1","id":"note--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061","created":"2016-05-12T08:17:27.000Z","modified":"2016-05-12T08:17:27.000Z","object_refs":["malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b"],'

{
    printf '{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[\n%s,\n' "$MAL0"
    printf '%s"content":"nested","x_deep":' "$NOTE0"
    awk 'BEGIN { for (i = 0; i < 100000; i++) printf "["; for (i = 0; i < 100000; i++) printf "]" }'
    printf '},\n%s\n]}\n' "$TOOL0"
} >"$TMP/deep.json"

t "100,000 levels of nesting: rejected, the others kept"
fresh
run import "$TMP/deep.json"
expect_rc 1
expect_summary 3 2 0 0 1
expect_err_re 'deep\.json: object 1 at byte [0-9]+: invalid JSON: .*depth.* \[json\]$'
expect_stored 2
expect_lacks note--0c7b5b88-8ff7-4a4d-aa9d-feb398cd0061

t "100,000 levels of nesting, never closed: reported, no crash"
{
    printf '{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[\n%s,\n' "$MAL0"
} >"$TMP/deep_open.json"
_at=$(wc -c <"$TMP/deep_open.json" | tr -d ' ')
awk 'BEGIN { for (i = 0; i < 100000; i++) printf "{\"a\":" }' >>"$TMP/deep_open.json"
fresh
run import "$TMP/deep_open.json"
expect_rc 2
expect_err "the input ends inside object 1, which begins at byte $_at"
expect_stored 1

t "100,000 levels of nesting as a JSON line"
{
    awk 'BEGIN { for (i = 0; i < 100000; i++) printf "["; for (i = 0; i < 100000; i++) printf "]"; print "" }'
    printf '%s\n' "$TOOL0"
} >"$TMP/deep.jsonl"
fresh
run import "$TMP/deep.jsonl"
if [ "$rc" -eq 1 ] || [ "$rc" -eq 2 ]; then ok; else bad "expected exit status 1 or 2"; fi
expect_err "deep.jsonl"

# --- a 100 MB string -----------------------------------------------------------

# huge.json: the malware, a note whose content is 100 MB of 'A', the tool.
# The reader must skip the note (larger than the 64 MiB limit) without
# holding it: peak memory well under twice its size.
printf '{"type":"bundle","id":"bundle--5d0092c5-5f74-4287-9642-33f4c354e56d","objects":[\n%s,\n' \
    "$MAL0" >"$TMP/huge.head"
NOTE_AT=$(wc -c <"$TMP/huge.head" | tr -d ' ')
huge() {
    cat "$TMP/huge.head"
    printf '%s"content":"' "$NOTE0"
    head -c 104857600 /dev/zero | tr '\0' A
    printf '"},\n%s\n]}\n' "$TOOL0"
}
huge >"$TMP/huge.json"
NOTE_LEN=$((${#NOTE0} + 11 + 104857600 + 2))

# run_mem ARGS...: run, and the peak memory in $peak_kb ("" when unknown).
# Without /usr/bin/time, run under a 600 MB address space limit instead,
# so that a reader holding the file would fail.  Not in a sanitized build
# ($KASA_TEST_SANITIZED, set by tests/CMakeLists.txt).
run_mem() {
    peak_kb=
    if [ -n "${KASA_TEST_SANITIZED:-}" ]; then
        # ASan's shadow memory and quarantine say nothing about kasa's own
        # use, and it cannot run under ulimit -v: the plain build measures
        echo "# sanitized build: memory is measured in the plain build"
        run "$@"
    elif /usr/bin/time -f %M -o "$TMP/time" true 2>/dev/null; then
        rc=0
        /usr/bin/time -f %M -o "$TMP/time" "$KASA" "$@" >"$TMP/out" \
            2>"$TMP/err" </dev/null || rc=$?
        runs=$((runs + 1))
        peak_kb=$(tail -n 1 "$TMP/time")
    else
        echo "# no /usr/bin/time: memory bounded by ulimit -v 600000 instead"
        rc=0
        # shellcheck disable=SC3045 # dash, bash and busybox sh have -v
        (ulimit -v 600000 && exec "$KASA" "$@") >"$TMP/out" 2>"$TMP/err" \
            </dev/null || rc=$?
        runs=$((runs + 1))
    fi
}
expect_peak_below() {
    [ -n "$peak_kb" ] || return 0
    if [ "$peak_kb" -lt "$1" ]; then ok
    else bad "peak memory $peak_kb KB, expected under $1 KB"; fi
    echo "# $name: peak $peak_kb KB"
}

t "a 100 MB string: that object is rejected, the others kept, memory bounded"
fresh
run_mem import "$TMP/huge.json"
expect_rc 1
expect_summary 3 2 0 0 1
expect_err "huge.json: object 1 at byte $NOTE_AT: $NOTE_LEN bytes: larger than the 67108864-byte limit for one object [size]"
expect_out_re '^    size +1$'
expect_peak_below 204800
expect_stored 2
expect_has malware--31b940d4-6f7f-459a-80ea-9c1f17b5891b
expect_has tool--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f

t "a 100 MB string with --max-object-size 1048576: memory follows the limit"
fresh
run_mem import --max-object-size 1048576 "$TMP/huge.json"
expect_rc 1
expect_summary 3 2 0 0 1
expect_err "larger than the 1048576-byte limit for one object [size]"
expect_peak_below 65536
expect_stored 2

t "regression: a 100 MB string read from a pipe: the byte is where the object begins"
# From a pipe (or past --max-object-size) kasa used to name a byte near the
# end of the skipped object: "object 1 at byte 99992075" (or 104857887),
# not where it begins.
fresh
rc=0
huge | "$KASA" import - >"$TMP/out" 2>"$TMP/err" || rc=$?
runs=$((runs + 1))
expect_rc 1
expect_summary 3 2 0 0 1
expect_err "<stdin>: object 1 at byte $NOTE_AT: "
rm -f "$TMP/huge.json"

# --- export --------------------------------------------------------------------

t "export --format jsonl: one object per line, as stored"
fresh
run import "$DATA/bundle.json"
run import "$DATA/objects.jsonl"
run export --format jsonl
expect_rc 0
if [ "$(wc -l <"$TMP/out")" -eq 11 ]; then ok
else bad "expected 11 lines"; fi
expect_count out '^\{"type":"[a-z-]+",.*\}$' 11

t "export (a bundle) imports into another store with the same content"
run export
expect_rc 0
cp "$TMP/out" "$TMP/exported.json"
expect_out_re '^\{"type": "bundle", "id": "bundle--[0-9a-f-]{36}", "objects": \[$'
stored
cp "$TMP/stored" "$TMP/stored.here"
_rc=0
KASA_STORE=sqlite:$TMP/other.db "$KASA" import "$TMP/exported.json" \
    >"$TMP/out" 2>"$TMP/err" || _rc=$?
rc=$_rc
runs=$((runs + 1))
expect_rc 0
expect_summary 11 11 0 0 0
stored --store "sqlite:$TMP/other.db"
if cmp -s "$TMP/stored" "$TMP/stored.here"; then ok
else bad "the other store holds other objects"; fi

t "export --type malware"
run export --format jsonl --type malware
expect_rc 0
expect_count out '"type":"malware"' 2
expect_count out '.' 2

t "export --type malware --type tool"
run export --format jsonl -t malware -t tool
expect_rc 0
expect_count out '.' 3

t "export an empty selection: an empty bundle"
run export --type grouping --type opinion
expect_rc 0
if tr -d ' \n' <"$TMP/out" |
   grep -E -x -e '\{"type":"bundle","id":"bundle--[0-9a-f-]{36}","objects":\[\]\}' >/dev/null
then ok; else bad "expected a bundle with no objects"; fi

t "export --format xml"
run export --format xml
expect_rc 2
expect_err "--format is bundle or jsonl"

# --- collections ---------------------------------------------------------------

t "collection create prints the new id alone"
fresh
run collection create "Partner feed" --alias partner --description "Indicators shared by a partner CSIRT"
expect_rc 0
if [ "$(wc -l <"$TMP/out")" -eq 1 ] && [ "$(wc -c <"$TMP/out")" -eq 37 ] &&
   grep -E -x -e "$UUID_RE" "$TMP/out" >/dev/null; then ok
else bad "expected one line: a 36-character UUID"; fi
CID=$(cat "$TMP/out")
expect_err_empty

t "collection create with a taken alias"
run collection create "Another feed" --alias partner
expect_rc 1
expect_err "kasa: error: collection create: "
expect_err "the alias partner is taken by another collection"

t "the taken-alias message names no id that does not exist"
# it once said "a collection with id <a new random id> or alias partner
# exists already": the id was the one the new collection would have had.
_ids=$(grep -o -E -e "$UUID_RE" "$TMP/err" | grep -v -x -e "$CID" || true)
if [ -z "$_ids" ]; then ok
else bad "the message names $_ids, which is no collection's id"; fi

t "collection create with a given id, and the same id again"
run collection create "Fixed id" --id 11111111-2222-4333-8444-555555555555
expect_rc 0
expect_out 11111111-2222-4333-8444-555555555555
run collection create "Fixed id again" --id 11111111-2222-4333-8444-555555555555
expect_rc 1
expect_err "the id 11111111-2222-4333-8444-555555555555 is taken"

t "collection create with a malformed alias"
run collection create "Bad" --alias "no spaces"
expect_rc 1
expect_err 'alias "no spaces"'

t "import into a collection by alias, export it by id"
run import --collection partner "$DATA/bundle.json"
expect_rc 0
expect_out "bundle.json into collection partner ($CID)"
expect_summary 7 7 0 0 0
run import "$DATA/objects.jsonl"
expect_rc 0
expect_out "into collection default"
expect_stored_n 7 --collection "$CID"
expect_has "$ID_IND"
expect_lacks tool--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f
expect_stored_n 7 --collection partner
expect_stored_n 4 -c default
expect_stored_n 11

t "import into a collection by id"
run import -c "$CID" "$DATA/objects.jsonl"
expect_rc 0
expect_summary 4 4 0 0 0
expect_stored_n 11 --collection partner

t "the same object in two collections: one object, stored once"
expect_stats objects 11
expect_stats "in collections" 15
expect_stats collections 3

t "import into a collection that does not exist"
run import --collection nope "$DATA/bundle.json"
expect_rc 2
expect_err "kasa: error: import: no collection with id or alias \"nope\""

t "export a collection that does not exist"
run export --collection nope
expect_rc 2
expect_err "no collection with id or alias \"nope\""

t "collection list"
run collection list
expect_rc 0
expect_out_re '^ID +ALIAS +VERSIONS +TITLE$'
expect_out_re "^$CID  partner +11  Partner feed\$"
expect_out_re "^$UUID_RE  default +4  Default collection\$"
expect_out_re '^11111111-2222-4333-8444-555555555555  - +0  Fixed id$'
expect_count out '.' 4

t "collection show, by alias and by id"
run collection show partner
expect_rc 0
expect_out_re "^id +$CID\$"
expect_out_re '^alias +partner$'
expect_out_re '^title +Partner feed$'
expect_out_re '^description +Indicators shared by a partner CSIRT$'
expect_out_re '^versions +11$'
run collection show "$CID"
expect_rc 0
expect_out_re '^alias +partner$'

t "collection show of a collection that does not exist"
run collection show nope
expect_rc 1
expect_err "no collection with id or alias \"nope\""

# --- stats ---------------------------------------------------------------------

t "stats"
run stats
expect_rc 0
expect_out_re "^store +$BACKEND "
expect_out_re '^collections +3$'
expect_out_re '^objects +11$'
expect_out_re '^object versions +11$'
# indicators active now: d81f86b9 (no valid_until), a932fcc6 (JSON lines);
# 8e2e2d2b was valid from 2016 on, also without an end
expect_out_re '^active indicators +3$'

t "stats of an empty store"
fresh
run stats
expect_rc 0
expect_out_re '^objects +0$'

# --- which store ---------------------------------------------------------------

t "--store wins over \$KASA_STORE"
fresh
run import --store "sqlite:$TMP/explicit.db" "$DATA/objects.jsonl"
expect_rc 0
expect_stored_n 0
expect_stored_n 4 --store "sqlite:$TMP/explicit.db"

t "\$KASA_STORE is used without --store"
run import "$DATA/bundle.json"
expect_rc 0
expect_stored_n 7
expect_stored_n 4 --store "sqlite:$TMP/explicit.db"

t "--store before the command is that command's store"
run --store "sqlite:$TMP/explicit.db" stats
expect_rc 0
expect_out_re '^object versions +4$'
run --store="sqlite:$TMP/explicit.db" import --store "sqlite:$TMP/own.db" \
    "$DATA/objects.jsonl"
expect_rc 0
expect_stored_n 4 --store "sqlite:$TMP/own.db"
expect_stored_n 4 --store "sqlite:$TMP/explicit.db"
run --store
expect_rc 2
expect_err "--store needs a store URI"

t "an unknown store scheme"
run import --store mysql://db.example.org/kasa "$DATA/bundle.json"
expect_rc 2
expect_err 'kasa: error: store mysql://db.example.org/kasa: unknown store URI "mysql://db.example.org/kasa"'
run stats --store mysql://db.example.org/kasa
expect_rc 2

t "regression: postgres: without // is not taken for a SQLite file name"
# postgres:// and postgresql: are PostgreSQL; "postgres:dbname=kasa" (or
# any scheme without //) used to make a SQLite file of that name.
rc=0
(cd "$TMP" && exec "$KASA" stats --store postgres:dbname=kasa) >"$TMP/out" \
    2>"$TMP/err" </dev/null || rc=$?
runs=$((runs + 1))
expect_rc 2
if [ -e "$TMP/postgres:dbname=kasa" ]; then
    bad "kasa made a SQLite file named postgres:dbname=kasa"
else ok; fi

t "sqlite: without a path"
run stats --store sqlite:
expect_rc 2
expect_err "sqlite: needs a file path"

t "a store that cannot be opened"
run stats --store "sqlite:$TMP/no/such/dir/kasa.db"
expect_rc 2
expect_err "kasa: error: store sqlite:$TMP/no/such/dir/kasa.db: "

# --- --progress json -----------------------------------------------------------

awk -v n=4000 'BEGIN {
    print "{\"type\":\"bundle\",\"id\":\"bundle--0f1e2d3c-4b5a-4697-8877-665544332211\",\"objects\":["
    for (i = 0; i < n; i++)
        printf "{\"type\":\"indicator\",\"spec_version\":\"2.1\",\"id\":\"indicator--%08x-6b2e-4c1d-9a3f-%012x\",\"created\":\"2024-03-01T09:00:00.000Z\",\"modified\":\"2024-03-01T09:00:00.000Z\",\"indicator_types\":[\"malicious-activity\"],\"pattern\":\"[ipv4-addr:value = '\''10.0.%d.%d'\'']\",\"pattern_type\":\"stix\",\"valid_from\":\"2024-03-01T09:00:00Z\"}%s\n", i, i, int(i / 256), i % 256, (i < n - 1 ? "," : "")
    print "]}"
}' >"$TMP/4000.json"

t "regression: --progress json: the last line says everything is settled"
fresh
run import --progress json "$TMP/4000.json"
expect_rc 0
expect_summary 4000 4000 0 0 0
expect_err_re '^\{"read":[0-9]+,"committed_through":[0-9]+,"added":[0-9]+,"duplicates":[0-9]+,"conflicts":[0-9]+,"rejected":[0-9]+,"offset":[0-9]+\}$'
_last=$(tail -n 1 "$TMP/err")
case $_last in
'{"read":4000,"committed_through":4000,"added":4000,'*) ok ;;
*) bad "the last progress line is $_last (committed_through 3999 when 4000 objects are stored: the count is taken before the object that fills a batch is counted, and the final empty flush does not update it)" ;;
esac

t "regression: --progress json: a line per commit, not per object"
# help: "json (a line per commit)"; kasa used to write one per object
# read.
_n=$(grep -c '^{"read"' "$TMP/err" || true)
if [ "$_n" -le 4 ]; then ok
else bad "$_n progress lines for 2 batches"; fi

t "regression: --progress json: committed_through covers what was added"
# it once printed {"read":1999,"committed_through":1999,"added":2000,...}:
# 2000 objects reported added while only 1999 were reported settled.
_odd=$(sed -n 's/^{"read":[0-9]*,"committed_through":\([0-9]*\),"added":\([0-9]*\),.*/\1 \2/p' "$TMP/err" |
       awk '$1 < $2 { print; exit }')
if [ -z "$_odd" ]; then ok
else bad "a line with committed_through < added: $_odd"; fi

t "--commit-every: a commit, and a progress line, every 1,000 objects"
fresh
run import --progress json --commit-every 1000 "$TMP/4000.json"
expect_rc 0
expect_summary 4000 4000 0 0 0
# batches are 2,000 objects, so 1,000 means a commit after each batch
_marks=$(sed -n 's/^{"read":[0-9]*,"committed_through":\([0-9]*\),.*/\1/p' "$TMP/err" | tr '\n' ' ')
case $_marks in
"2000 4000 "*) ok ;;
*) bad "committed_through went $_marks" ;;
esac

t "--commit-every needs a number"
run import --commit-every lots "$TMP/4000.json"
expect_rc 2
expect_err "--commit-every takes a number of objects"

t "--progress with a bad mode"
run import --progress fancy "$DATA/bundle.json"
expect_rc 2
expect_err "--progress is auto, bar, json or none"

# --- usage ---------------------------------------------------------------------

t "import without a file"
run import
expect_rc 2
expect_err "import: give one FILE (or - for standard input)"

t "help import"
run help import
expect_rc 0
expect_out "usage: kasa import [options] FILE|-"

expect_check_ok

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
