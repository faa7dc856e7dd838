#!/bin/sh
# watch_cli.sh - `kasa watch` as a sensor operator meets it: warnings for
# the store's indicators on Suricata EVE and Zeek lines, malformed lines
# reported and counted, sightings stored and continued from run to run,
# and a reload under load: while a followed file grows, an indicator is
# added and then revoked in the store; every line is read exactly once and
# the warnings follow the indicators in force.
#
# usage: sh watch_cli.sh /path/to/kasa [STORE-URI]
set -eu

KASA=${1:-}
if [ -z "$KASA" ] || [ ! -x "$KASA" ]; then
    echo "usage: sh watch_cli.sh /path/to/kasa [STORE-URI]" >&2
    exit 2
fi
TMP=$(mktemp -d "${TMPDIR:-/tmp}/kasa-watch.XXXXXX")
pid=""
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$TMP"' EXIT
trap 'exit 2' INT TERM HUP
. "$(dirname "$0")/../lib/expect.sh"
pass=0 fail=0 runs=0 shown=-1 rc=0

STORE=${2:-sqlite:$TMP/kasa.db}

run() {
    runs=$((runs + 1))
    rc=0
    "$KASA" "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
}

# indicator ID PATTERN [MODIFIED [REVOKED]]: one indicator as a JSON line
indicator() {
    printf '{"type":"indicator","spec_version":"2.1","id":"indicator--%s",' "$1"
    printf '"created":"2026-01-01T00:00:00.000Z","modified":"%s",' \
        "${3:-2026-01-01T00:00:00.000Z}"
    printf '"name":"test %s","pattern":"%s","pattern_type":"stix",' "$1" "$2"
    printf '"valid_from":"2026-01-01T00:00:00Z","confidence":80'
    if [ -n "${4:-}" ]; then printf ',"revoked":true'; fi
    printf ',"object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]}\n'
}

DOM=11111111-1111-4111-8111-111111111111
IP=22222222-2222-4222-8222-222222222222
URL=33333333-3333-4333-8333-333333333333
LATE=44444444-4444-4444-8444-444444444444
{
    indicator $DOM "[domain-name:value = 'c2.nenkin-info.example']"
    indicator $IP "[network-traffic:dst_ref.value = '203.0.113.66']"
    indicator $URL "[url:value = 'http://files.example/gate.php?id=7']"
} >"$TMP/indicators.jsonl"
name="import indicators"
run import --store "$STORE" --progress none "$TMP/indicators.jsonl"
expect_rc 0

eve() { # eve SECOND EVENT_TYPE REST
    printf '{"timestamp":"2026-11-23T10:00:%02d.000000+0900","flow_id":%d,' "$1" "$1"
    printf '"event_type":"%s","src_ip":"10.0.0.5","src_port":5%04d,%s}\n' "$2" "$1" "$3"
}
{
    eve 1 dns '"dest_ip":"10.0.0.1","dest_port":53,"proto":"UDP","dns":{"type":"query","rrname":"c2.nenkin-info.example","rrtype":"A"}'
    eve 2 dns '"dest_ip":"10.0.0.1","dest_port":53,"proto":"UDP","dns":{"type":"query","rrname":"www.example.org","rrtype":"A"}'
    eve 3 flow '"dest_ip":"203.0.113.66","dest_port":443,"proto":"TCP","app_proto":"tls","flow":{"pkts_toserver":3}'
    eve 4 http '"dest_ip":"198.51.100.7","dest_port":80,"proto":"TCP","http":{"hostname":"files.example","url":"/gate.php?id=7","http_user_agent":"Mozilla/4.0"}'
    echo 'this is not JSON'
    echo '{"timestamp":"2026-11-23T10:00:05+0900","event_type":"dns","dns":{"rrname":"c2.nenkin-info.example"'
    echo '{"no":"event_type"}'
    echo ''
    eve 6 alert '"dest_ip":"10.9.9.9","dest_port":80,"proto":"TCP","alert":{"signature":"x"},"http":{"hostname":"c2.nenkin-info.example","url":"/"}'
} >"$TMP/eve.json"

name="EVE: a warning per match, with what matched"
run watch --store "$STORE" --reload 0 "$TMP/eve.json"
expect_rc 0
expect_count out '"indicator":' 4
expect_count out "indicator--$DOM" 2
expect_count out "indicator--$IP" 1
expect_count out "indicator--$URL" 1
expect_out '"source":"eve:dns"'
expect_out '"source":"eve:alert"'
expect_out '"matched":[{"path":"network-traffic:dst_ref.value","value":"203.0.113.66"}]'
expect_out '"observed":"2026-11-23T01:00:01.000000Z"'
expect_out '"tlp":"green"'
expect_out '"line":9'

name="EVE: malformed and unknown lines are reported, counted, not fatal"
expect_err 'eve.json:5:1: malformed:'
expect_err 'eve.json:6:'
expect_err 'eve.json:7: skipped: not an EVE record'
expect_err '8 lines'
expect_err '5 events, 2 malformed, 1 unknown; 4 matched, 4 warnings'

name="sightings: one per indicator, counted"
run export --store "$STORE" --collection sightings --format jsonl
expect_rc 0
expect_count out '"type":"sighting"' 3
expect_out "\"sighting_of_ref\":\"indicator--$DOM\""
expect_count out '"count":2' 1
expect_out '"object_marking_refs":["marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"]'

name="sightings: a second run continues them"
run watch --store "$STORE" --reload 0 "$TMP/eve.json"
run export --store "$STORE" --collection sightings --format jsonl
expect_count out '"count":4' 1
expect_count out '"type":"sighting"' 6

name="--no-sightings stores none"
run watch --store "$STORE" --no-sightings --reload 0 "$TMP/eve.json"
expect_rc 0
expect_err '0 sighting versions stored'

name="--allowlist: listed values do not warn, and are reported at load"
printf '# our own resolver and our parent domain\nnenkin-info.example\n' \
    >"$TMP/ours.txt"
run watch --store "$STORE" --no-sightings --reload 0 --allowlist "$TMP/ours.txt" \
    "$TMP/eve.json"
expect_rc 0
expect_count out '"indicator":' 2
expect_not_out "indicator--$DOM"
expect_err "indicator--$DOM names c2.nenkin-info.example, which allowlist ours.txt holds"
expect_err '2 suppressed by the allowlist'
printf '{"name":"x","type":"regex","list":["a"]}' >"$TMP/regex.json"
run watch --store "$STORE" --no-sightings --allowlist "$TMP/regex.json" \
    "$TMP/eve.json"
expect_rc 2
expect_err "type 'regex' is not one kasa handles"

name="Zeek: dns.log named by the file, ts as a number"
printf '%s\n' \
    '{"ts":1763859600.5,"uid":"C1","id.orig_h":"10.0.0.5","id.orig_p":5353,"id.resp_h":"10.0.0.1","id.resp_p":53,"proto":"udp","query":"c2.nenkin-info.example","answers":["203.0.113.66"]}' \
    '{"ts":1763859601.5,"uid":"C2","id.orig_h":"10.0.0.5","id.orig_p":5354,"id.resp_h":"10.0.0.1","id.resp_p":53,"proto":"udp","query":"ok.example"}' \
    >"$TMP/dns.log"
run watch --store "$STORE" --format zeek --no-sightings --reload 0 "$TMP/dns.log"
expect_rc 0
expect_count out '"indicator":' 1
expect_out '"source":"zeek:dns"'
expect_out '"observed":"2025-11-23T01:00:00.500000Z"'

name="Zeek: a TSV log (Zeek's default), its log named by #path"
{
    printf '#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n'
    printf '#unset_field\t-\n#path\tdns\n#open\t2025-11-23-10-00-00\n'
    printf '#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tquery\tanswers\n'
    printf '#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tvector[string]\n'
    printf '1763859600.500000\tC1\t10.0.0.5\t5353\t10.0.0.1\t53\tudp\tC2.nenkin-info.example\t203.0.113.66\n'
    printf '1763859601.500000\tC2\t10.0.0.5\t5354\t10.0.0.1\t53\tudp\tok.example\t(empty)\n'
    printf '#close\t2025-11-23-11-00-00\n'
} >"$TMP/current.log"
run watch --store "$STORE" --format zeek --no-sightings --reload 0 "$TMP/current.log"
expect_rc 0
expect_count out '"indicator":' 1
expect_out '"source":"zeek:dns"'
expect_out '"observed":"2025-11-23T01:00:00.500000Z"'
expect_err "2 events, 0 malformed, 0 unknown; 1 matched"

name="usage errors"
run watch --store "$STORE" --format pcap "$TMP/eve.json"
expect_rc 2
expect_err "--format is eve, zeek or stix"
run watch --store "$STORE" --reload 0 "$TMP/does-not-exist.json"
expect_rc 2
expect_err "does-not-exist.json"

# -- a reload under load ------------------------------------------------------
# a followed file grows in three batches; between them the indicator LATE
# is added, then revoked
batch() { # batch FIRST COUNT: COUNT dns lines for late.example
    i=$1
    while [ "$i" -lt $(($1 + $2)) ]; do
        printf '{"timestamp":"2026-11-23T11:%02d:%02d.000000+0900","event_type":"dns","src_ip":"10.0.0.7","dest_ip":"10.0.0.1","dns":{"rrname":"late.example"}}\n' \
            $((i / 60 % 60)) $((i % 60))
        i=$((i + 1))
    done >>"$TMP/stream.json"
}
# stop_watch: stop the watcher started in the background; what it wrote
# becomes $TMP/out and $TMP/err, its exit status $rc
stop_watch() {
    kill -TERM "$pid"
    rc=0
    wait "$pid" || rc=$?
    pid=""
    cp "$TMP/watch.out" "$TMP/out"
    cp "$TMP/watch.err" "$TMP/err"
    runs=$((runs + 1))
}

# poll WHAT CMD...: run CMD until it succeeds, 100 tries at most; else
# count a failure, saying WHAT did not happen
poll() {
    what=$1
    shift
    j=0
    until "$@"; do
        sleep 0.1
        j=$((j + 1))
        if [ $j -gt 100 ]; then
            echo "FAIL: $what"
            tail -3 "$TMP/watch.err"
            fail=$((fail + 1))
            return 1
        fi
    done
}
# wait_lines N [FILE]: until the watcher's summary (SIGUSR1) says N lines
summary_says() {
    kill -USR1 "$pid"
    sleep 0.1
    grep -q "${2:-stream.json}: $1 lines" "$TMP/watch.err"
}
wait_lines() {
    poll "the watcher did not reach $1 lines" summary_says "$@"
}
: >"$TMP/stream.json"
"$KASA" watch --store "$STORE" --follow --reload 0.1 --no-sightings \
    "$TMP/stream.json" >"$TMP/watch.out" 2>"$TMP/watch.err" &
pid=$!
sleep 0.5 # let it start: its SIGUSR1 handler is not there before main()
batch 0 300
wait_lines 300
indicator $LATE "[domain-name:value = 'late.example']" >"$TMP/late.jsonl"
"$KASA" import --store "$STORE" --progress none "$TMP/late.jsonl" >/dev/null
sleep 0.5 # more than one reload period
batch 300 300
wait_lines 600
indicator $LATE "[domain-name:value = 'late.example']" \
    2026-06-01T00:00:00.000Z revoked >"$TMP/revoked.jsonl"
"$KASA" import --store "$STORE" --progress none "$TMP/revoked.jsonl" >/dev/null
sleep 0.5
batch 600 300
wait_lines 900
stop_watch

name="reload under load: every line read once, warnings only while in force"
expect_rc 0
expect_err "stream.json: 900 lines"
expect_err "900 events, 0 malformed, 0 unknown; 300 matched, 300 warnings"
expect_count out "indicator--$LATE" 300
# exactly the middle batch: 11:05:00 .. 11:09:59 local time
expect_out '"observed":"2026-11-23T02:05:00.000000Z"'
expect_out '"observed":"2026-11-23T02:09:59.000000Z"'
expect_not_out '"observed":"2026-11-23T02:04:59.000000Z"'
expect_not_out '"observed":"2026-11-23T02:10:00.000000Z"'

# -- an indicator that expires while the watcher runs -------------------------
# (valid five more seconds: two lines are read before, two after)
EXP=55555555-5555-4555-8555-555555555555
until=$(date -u -d "@$(($(date +%s) + 5))" +%Y-%m-%dT%H:%M:%SZ)
{
    printf '{"type":"indicator","spec_version":"2.1","id":"indicator--%s",' $EXP
    printf '"created":"2026-01-01T00:00:00.000Z","modified":"2026-01-01T00:00:00.000Z",'
    printf '"pattern":"[domain-name:value = %sexpiring.example%s]","pattern_type":"stix",' "'" "'"
    printf '"valid_from":"2026-01-01T00:00:00Z","valid_until":"%s"}\n' "$until"
} >"$TMP/expiring.jsonl"
"$KASA" import --store "$STORE" --progress none "$TMP/expiring.jsonl" >/dev/null
exp_line() {
    printf '{"timestamp":"2026-11-23T12:00:%02d.000000+0900","event_type":"dns","src_ip":"10.0.0.8","dest_ip":"10.0.0.1","dns":{"rrname":"expiring.example"}}\n' "$1" \
        >>"$TMP/exp.json"
}
: >"$TMP/exp.json"
"$KASA" watch --store "$STORE" --follow --reload 0.1 --no-sightings \
    "$TMP/exp.json" >"$TMP/watch.out" 2>"$TMP/watch.err" &
pid=$!
sleep 0.5
exp_line 1
exp_line 2
wait_lines 2 exp.json
while [ "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \< "$until" ]; do sleep 0.2; done
sleep 1 # past valid_until, and more than one reload period
exp_line 3
exp_line 4
wait_lines 4 exp.json
stop_watch
name="an indicator past its valid_until stops warning, without a restart"
expect_rc 0
expect_err "exp.json: 4 lines"
expect_count out "indicator--$EXP" 2
expect_not_out '"observed":"2026-11-23T03:00:03.000000Z"'

# --follow through a log rotation, as tail -F: logrotate renames the file
# (and the writer goes on in the old one until it reopens), or copies it
# and truncates it (copytruncate)
dns_hit() { # dns_hit SECOND
    eve "$1" dns '"dest_ip":"10.0.0.1","dest_port":53,"proto":"UDP","dns":{"type":"query","rrname":"c2.nenkin-info.example","rrtype":"A"}'
}
# wait_err TEXT: until the watcher has said TEXT on stderr
wait_err() {
    poll "the watcher never said: $1" grep -q "$1" "$TMP/watch.err"
}
: >"$TMP/rot.json"
"$KASA" watch --store "$STORE" --follow --reload 0 --no-sightings \
    "$TMP/rot.json" >"$TMP/watch.out" 2>"$TMP/watch.err" &
pid=$!
sleep 0.3
dns_hit 1 >>"$TMP/rot.json"
wait_lines 1 rot.json
mv "$TMP/rot.json" "$TMP/rot.json.1"
dns_hit 2 >>"$TMP/rot.json.1"
dns_hit 3 >"$TMP/rot.json"
wait_lines 3 rot.json
wait_err 'rot.json: a new file took its name (rotated)'
cp "$TMP/rot.json" "$TMP/rot.json.2"
: >"$TMP/rot.json"
wait_err 'rot.json: truncated'
dns_hit 4 >>"$TMP/rot.json"
wait_lines 4 rot.json
stop_watch
name="--follow reads on through a rename and a truncation, losing no line"
expect_rc 0
expect_count out "indicator--$DOM" 4
expect_out '"observed":"2026-11-23T01:00:02.000000Z"'
expect_out '"observed":"2026-11-23T01:00:04.000000Z"'
expect_err 'rot.json: 4 lines'

name="--follow on a pipe ends with the pipe, as tail -f"
rc=0
dns_hit 1 | timeout 20 "$KASA" watch --store "$STORE" --follow --reload 0 \
    --no-sightings - >"$TMP/out" 2>"$TMP/err" || rc=$?
runs=$((runs + 1))
expect_rc 0
expect_count out "indicator--$DOM" 1

name="names in any case match; an indicator in capitals is reported at load"
CASE=55555555-5555-4555-8555-555555555555
{
    indicator $CASE "[domain-name:value = 'Beacon.Nenkin-Info.example']"
    indicator $DOM "[domain-name:value = 'c2.nenkin-info.example']"
} >"$TMP/case.jsonl"
run import --store "sqlite:$TMP/case.db" --progress none "$TMP/case.jsonl"
expect_rc 0
{
    eve 1 dns '"dest_ip":"10.0.0.1","dest_port":53,"proto":"UDP","dns":{"type":"query","rrname":"C2.nEnKiN-iNfO.example.","rrtype":"A"}'
    eve 2 dns '"dest_ip":"10.0.0.1","dest_port":53,"proto":"UDP","dns":{"type":"query","rrname":"Beacon.Nenkin-Info.example","rrtype":"A"}'
} >"$TMP/case.json"
run watch --store "sqlite:$TMP/case.db" --no-sightings --reload 0 "$TMP/case.json"
expect_rc 0
expect_count out '"indicator":' 1
expect_out '"matched":[{"path":"domain-name:value","value":"c2.nenkin-info.example"}]'
expect_err "indicator--$CASE compares with 'Beacon.Nenkin-Info.example', a name or address in capitals"

echo "watch_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
