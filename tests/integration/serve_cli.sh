#!/bin/sh
# serve_cli.sh - `kasa serve` and `kasa audit` as an operator meets them:
# the first start makes an account and prints its password once, the URL
# it prints answers over HTTP (curl, on loopback only), a wrong password
# is a 401, SIGTERM ends it with status 0, a second start prints no
# password, and `kasa audit` reads the trail, verifies its chain, and
# says where a tampered line breaks it.
#
# usage: sh serve_cli.sh /path/to/kasa
set -eu

KASA=${1:-}
if [ -z "$KASA" ] || [ ! -x "$KASA" ]; then
    echo "usage: sh serve_cli.sh /path/to/kasa" >&2
    exit 2
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/kasa-serve.XXXXXX")
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$TMP"' EXIT
trap 'exit 2' INT TERM HUP
. "$(dirname "$0")/../lib/expect.sh"
pass=0 fail=0 runs=0 shown=-1 rc=0

STORE=sqlite:$TMP/kasa.db
LOG=$TMP/audit.log
TYPE='application/taxii+json;version=2.1'

# start: the server in the background, its stdout in $TMP/serve.out
start() {
    : >"$TMP/serve.out"
    "$KASA" serve --store "$STORE" --listen 127.0.0.1:0 --audit-log "$LOG" \
        >"$TMP/serve.out" 2>"$TMP/serve.err" &
    pid=$!
    i=0
    while ! grep -q '^listening: ' "$TMP/serve.out" 2>/dev/null; do
        i=$((i + 1))
        if [ $i -gt 100 ] || ! kill -0 "$pid" 2>/dev/null; then
            echo "FAIL: the server did not start"
            cat "$TMP/serve.err"
            exit 1
        fi
        sleep 0.1
    done
    url=$(sed -n 's/^listening: //p' "$TMP/serve.out")
}

# stop: SIGTERM, and its exit status in $rc
stop() {
    kill -TERM "$pid"
    rc=0
    wait "$pid" || rc=$?
    pid=""
}

# http USER:PASS PATH: the status in $TMP/out's first line, body after
http() {
    runs=$((runs + 1))
    rc=0
    curl -s -o "$TMP/body" -w '%{http_code}\n' -u "$1" -H "Accept: $TYPE" \
        "${url%taxii2/}${2#/}" >"$TMP/out" 2>"$TMP/err" || rc=$?
    cat "$TMP/body" >>"$TMP/out"
}

"$KASA" --store "$STORE" collection create "Shared" --alias shared \
    >/dev/null

name="first start"
start
cp "$TMP/serve.out" "$TMP/out"; cp "$TMP/serve.err" "$TMP/err"; runs=$((runs + 1))
expect_out "account: admin"
expect_out "listening: http://127.0.0.1:"
password=$(sed -n 's/^password: //p' "$TMP/serve.out")
if [ ${#password} -ge 16 ]; then ok; else bad "a password of 16 characters or more"; fi
expect_err "shown this once"

name="discovery with the printed password"
http "admin:$password" /taxii2/
expect_rc 0
expect_out "200"
expect_out '"api_roots":["http://127.0.0.1:'

name="the first account reads the collections made before"
http "admin:$password" /api/collections/
expect_out '"can_read":true,"can_write":true'

name="a wrong password"
http "admin:wrong" /taxii2/
expect_out "401"
expect_out '"http_status":"401"'

name="SIGTERM"
stop
expect_rc 0
cp "$TMP/serve.err" "$TMP/err"
expect_err "kasa: stopped"
expect_err '"path":"/taxii2/","status":200,"account":"admin"'

name="a second start prints no password"
start
cp "$TMP/serve.out" "$TMP/out"; runs=$((runs + 1))
expect_not_out "password:"
expect_out "listening: "
http "admin:$password" /api/
expect_out "200"
stop

name="kasa audit --verify"
runs=$((runs + 1)); rc=0
"$KASA" audit --log "$LOG" --verify >"$TMP/out" 2>"$TMP/err" || rc=$?
expect_rc 0
expect_out "the chain holds"

name="kasa audit --account"
runs=$((runs + 1)); rc=0
"$KASA" audit --log "$LOG" --account admin >"$TMP/out" 2>"$TMP/err" || rc=$?
expect_rc 0
expect_out '"path":"/api/collections/"'
if [ "$(wc -l <"$TMP/out")" -ge 3 ]; then ok; else bad "three lines or more"; fi
expect_not_out '"refused"'

name="kasa audit shows refused credentials"
runs=$((runs + 1)); rc=0
"$KASA" audit --log "$LOG" >"$TMP/out" 2>"$TMP/err" || rc=$?
expect_out '"refused":"credentials refused"'

name="a line changed breaks the chain there"
sed '2s/"status":200/"status":201/' "$LOG" >"$TMP/tampered"
runs=$((runs + 1)); rc=0
"$KASA" audit --log "$TMP/tampered" --verify >"$TMP/out" 2>"$TMP/err" || rc=$?
expect_rc 1
expect_err "tampered:3: the chain breaks here"

name="a line removed breaks the chain there"
sed '2d' "$LOG" >"$TMP/tampered"
runs=$((runs + 1)); rc=0
"$KASA" audit --log "$TMP/tampered" --verify >"$TMP/out" 2>"$TMP/err" || rc=$?
expect_rc 1
expect_err "tampered:2: the chain breaks here"

name="plain HTTP on a public address is refused"
runs=$((runs + 1)); rc=0
"$KASA" serve --store "$STORE" --listen 0.0.0.0:0 --audit-log "$TMP/x.log" \
    >"$TMP/out" 2>"$TMP/err" || rc=$?
expect_rc 2
expect_err "plain HTTP is for loopback only"

name="a config file with an unknown key"
printf 'listen = 127.0.0.1:0\nbogus = 1\n' >"$TMP/serve.conf"
runs=$((runs + 1)); rc=0
"$KASA" serve --store "$STORE" --config "$TMP/serve.conf" >"$TMP/out" 2>"$TMP/err" || rc=$?
expect_rc 2
expect_err "serve.conf:2: unknown key"

# A POST of 20,000 indicators takes the server a few tenths of a second
# (seconds under the sanitizers); SIGTERM comes while it is being stored,
# its connection suspended for a worker (src/taxii/http.c).  The server
# answers it, keeps every object, and exits 0.
name="SIGTERM lets a POST being stored finish"
"$KASA" --store "$STORE" collection create Drain --alias drain >/dev/null
"$KASA" --store "$STORE" grant admin drain read,write >/dev/null 2>&1
coll=$("$KASA" --store "$STORE" collection show drain |
       sed -n 's/^ *id *:* *\([0-9a-f-]\{36\}\).*/\1/p' | head -1)
awk 'BEGIN {
    q = sprintf("%c", 39)
    printf "{\"objects\":["
    for (i = 0; i < 20000; i++)
        printf "%s{\"type\":\"indicator\",\"spec_version\":\"2.1\"," \
            "\"id\":\"indicator--%08d-0000-4000-8000-000000000000\"," \
            "\"created\":\"2026-01-01T00:00:00.000Z\"," \
            "\"modified\":\"2026-01-01T00:00:00.000Z\"," \
            "\"pattern_type\":\"stix\"," \
            "\"valid_from\":\"2026-01-01T00:00:00Z\"," \
            "\"pattern\":\"[ipv4-addr:value = %s10.0.%d.%d%s]\"}", \
            (i ? "," : ""), i, q, int(i / 256) % 256, i % 256, q
    print "]}"
}' >"$TMP/drain.json"
start
curl -s -o "$TMP/body" -w '%{http_code}\n' -u "admin:$password" \
    -H "Accept: $TYPE" -H "Content-Type: $TYPE" \
    --data-binary @"$TMP/drain.json" \
    "${url%taxii2/}api/collections/$coll/objects/" >"$TMP/code" 2>&1 &
cpid=$!
sleep 0.2
stop
expect_rc 0
runs=$((runs + 1)); rc=0
wait "$cpid" || rc=$?
{ cat "$TMP/code"; grep -o '"[a-z]*_count":[0-9]*' "$TMP/body"; } >"$TMP/out"
cp "$TMP/serve.err" "$TMP/err"
expect_rc 0
expect_out "202"
expect_out '"success_count":20000'
runs=$((runs + 1)); rc=0
"$KASA" --store "$STORE" stats >"$TMP/out" 2>"$TMP/err" || rc=$?
expect_out_re "^objects +20,0[0-9][0-9]$"

echo "serve_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
