#!/bin/sh
# test_cli.sh - the `kasa` command as a user meets it: exit codes, help,
# diagnostics with carets, pattern files, observed-data matching and the
# demo.  It runs the real binary on fixtures it writes to a temporary
# directory; it does not test the pattern language itself (the conformance
# runner does), only what the command makes of the library's answers.
#
# usage: sh tests/cli/test_cli.sh /path/to/kasa [/path/to/tests/data]

KASA=$1
DATA=${2:-}

if [ -z "$KASA" ] || [ ! -x "$KASA" ]; then
    echo "usage: sh test_cli.sh /path/to/kasa [/path/to/tests/data]" >&2
    exit 2
fi
if [ -n "$DATA" ] && [ ! -d "$DATA" ]; then
    echo "test_cli.sh: $DATA is not a directory" >&2
    exit 2
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/kasa-cli.XXXXXX") || exit 2
trap 'rm -rf "$TMP"' EXIT
trap 'exit 2' INT TERM HUP

pass=0
fail=0
rc=0
name=
runs=0
shown=

# --- running the command ---------------------------------------------------

# t NAME: start a test case; the assertions that follow report under NAME.
t() {
    name=$1
}

# run ARGS...: run kasa, stdout to $TMP/out, stderr to $TMP/err, status to $rc.
run() {
    "$KASA" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null
    rc=$?
    runs=$((runs + 1))
}

# run_in FILE ARGS...: the same with FILE on standard input.
run_in() {
    _in=$1
    shift
    "$KASA" "$@" >"$TMP/out" 2>"$TMP/err" <"$_in"
    rc=$?
    runs=$((runs + 1))
}

# --- assertions -------------------------------------------------------------

# ok, bad and the expect_* checks
. "$(dirname "$0")/../lib/expect.sh"

# expect_err_line N TEXT: line N of stderr is exactly TEXT.
expect_err_line() {
    _got=$(sed -n "${1}p" "$TMP/err")
    if [ "$_got" = "$2" ]; then ok
    else bad "expected stderr line $1 to be [$2], got [$_got]"; fi
}

# --- fixtures ---------------------------------------------------------------

# Two bundles, STIX 2.1: a file seen at 10:00:00 and traffic to a domain 30
# seconds later.
cat >"$TMP/bundle.json" <<'EOF'
[
  {
    "type": "bundle",
    "id": "bundle--9a0e8e53-3c7e-4b1f-9b57-4f3c1c6b2d10",
    "objects": [
      {
        "type": "observed-data",
        "spec_version": "2.1",
        "id": "observed-data--11111111-1111-4111-8111-111111111111",
        "created": "2015-05-08T10:00:01.000Z",
        "modified": "2015-05-08T10:00:01.000Z",
        "first_observed": "2015-05-08T10:00:00Z",
        "last_observed": "2015-05-08T10:00:00Z",
        "number_observed": 1,
        "object_refs": ["file--aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa"]
      },
      {
        "type": "file",
        "spec_version": "2.1",
        "id": "file--aaaaaaaa-aaaa-4aaa-8aaa-aaaaaaaaaaaa",
        "name": "dropper.exe",
        "size": 4096
      }
    ]
  },
  {
    "type": "bundle",
    "id": "bundle--0b1c2d3e-4f50-4617-8283-94a5b6c7d8e9",
    "objects": [
      {
        "type": "observed-data",
        "spec_version": "2.1",
        "id": "observed-data--22222222-2222-4222-8222-222222222222",
        "created": "2015-05-08T10:00:31.000Z",
        "modified": "2015-05-08T10:00:31.000Z",
        "first_observed": "2015-05-08T10:00:30Z",
        "last_observed": "2015-05-08T10:00:30Z",
        "number_observed": 1,
        "object_refs": ["domain-name--bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb"]
      },
      {
        "type": "domain-name",
        "spec_version": "2.1",
        "id": "domain-name--bbbbbbbb-bbbb-4bbb-8bbb-bbbbbbbbbbbb",
        "value": "c2.example.jp"
      }
    ]
  }
]
EOF

# STIX 2.0 style: observed-data without ids, objects embedded.
cat >"$TMP/od20.json" <<'EOF'
[
  {"type": "observed-data", "number_observed": 1,
   "first_observed": "2015-05-08T10:00:00Z",
   "last_observed": "2015-05-08T10:00:00Z",
   "objects": {"0": {"type": "file", "name": "benign.txt"}}},
  {"type": "observed-data", "number_observed": 1,
   "first_observed": "2015-05-08T10:01:00Z",
   "last_observed": "2015-05-08T10:01:00Z",
   "objects": {"0": {"type": "file", "name": "dropper.exe"}}}
]
EOF

# Malformed: a missing comma at the start of line 3.
printf '{"type": "bundle",\n "id": "bundle--9a0e8e53-3c7e-4b1f-9b57-4f3c1c6b2d10"\n "objects": []}\n' \
    >"$TMP/broken.json"

# A pattern file: comments, blank lines, two valid and two invalid patterns.
cat >"$TMP/patterns.txt" <<'EOF'
# indicators shared by a partner
[file:name = 'a.exe']

[file:size = ]
  [ipv4-addr:value = '10.0.0.1']
[file:name = 'b'
EOF

# A pattern with a NUL byte inside its string literal, then a valid one.
printf "[file:name = 'a\\000b']\n[file:name = 'c']\n" >"$TMP/nul.txt"

printf "[file:name = 'x']\n[file:name = \n" >"$TMP/stdin_mixed.txt"
printf "[file:name = 'x']\n[domain-name:value = 'c2.example.jp']\n" \
    >"$TMP/stdin_good.txt"

REP='[a:b = 1] REPEATS 2 TIMES REPEATS 3 TIMES'
F1='observed-data--11111111-1111-4111-8111-111111111111'
F2='observed-data--22222222-2222-4222-8222-222222222222'

# --- help and version -------------------------------------------------------

t "--help"
run --help
expect_rc 0
expect_out "usage: kasa"
expect_out "pattern check"
expect_out "pattern match"
expect_out "demo"
expect_out "exit status"
expect_err_empty
cp "$TMP/out" "$TMP/help.txt"

t "-h is --help"
run -h
expect_rc 0
if cmp -s "$TMP/out" "$TMP/help.txt"; then ok; else bad "-h differs from --help"; fi

t "--version"
run --version
expect_rc 0
if [ "$(cat "$TMP/out")" = "kasa 0.1.0" ]; then ok
else bad "expected exactly 'kasa 0.1.0'"; fi

t "help pattern"
run help pattern
expect_rc 0
expect_out "kasa pattern check"
expect_out "kasa pattern match"
cp "$TMP/out" "$TMP/help_pattern.txt"
run pattern --help
if cmp -s "$TMP/out" "$TMP/help_pattern.txt"; then ok
else bad "'kasa pattern --help' differs from 'kasa help pattern'"; fi

t "help pattern check = pattern check --help"
run help pattern check
expect_rc 0
expect_out "--stix-version"
expect_out "-f, --file"
cp "$TMP/out" "$TMP/help_check.txt"
run pattern check --help
expect_rc 0
if cmp -s "$TMP/out" "$TMP/help_check.txt"; then ok
else bad "'kasa pattern check --help' differs from 'kasa help pattern check'"; fi

t "every subcommand has --help"
for sub in "pattern match" "pattern inspect" "demo"; do
    # shellcheck disable=SC2086
    run $sub --help
    expect_rc 0
    expect_out "usage: kasa $sub"
done

t "help for an unknown command"
run help frobnicate
expect_rc 2
expect_err "frobnicate"

# --- usage errors -----------------------------------------------------------

t "unknown command"
run frobnicate
expect_rc 2
expect_err "unknown command 'frobnicate'"
expect_err "try 'kasa --help'"
expect_out_empty

t "unknown option"
run --frobnicate
expect_rc 2
expect_err "'--frobnicate'"
expect_err "try 'kasa --help'"

t "no command"
run
expect_rc 2
expect_err "try 'kasa --help'"

t "unknown option of pattern check"
run pattern check --frobnicate "[file:name = 'x']"
expect_rc 2
expect_err "'--frobnicate'"

t "unknown pattern subcommand"
run pattern frobnicate
expect_rc 2
expect_err "frobnicate"

t "pattern check without patterns"
run pattern check
expect_rc 2

t "unknown --stix-version"
run pattern check --stix-version 3.0 "[file:name = 'x']"
expect_rc 2
expect_err "3.0"

t "--stix-version without its value"
run pattern check --stix-version
expect_rc 2

# --- pattern check ----------------------------------------------------------

t "check a valid pattern"
run pattern check "[file:name = 'x']"
expect_rc 0
expect_out_empty
expect_err_empty

t "check -v prints ok"
run pattern check -v "[file:name = 'x']"
expect_rc 0
expect_out "ok: [file:name = 'x']"

t "check an invalid pattern: position, message, line and caret"
run pattern check "[file:size = ]"
expect_rc 1
expect_out_empty
expect_err_re "^pattern:1:14: error: .+"
expect_err_line 2 "  [file:size = ]"
expect_err_line 3 "               ^"

t "check: missing ']' is reported at the end"
run pattern check "[file:name = 'x'"
expect_rc 1
expect_err_re "^pattern:1:17: error: .+"
expect_err_line 2 "  [file:name = 'x'"
expect_err_line 3 "                  ^"

t "check: tabs are kept in the caret line"
run pattern check "$(printf '[file:size\t=\t]')"
expect_rc 1
expect_err_re "^pattern:1:14: error: "
# Two spaces of indent, then one cell per code point before column 14,
# spaces except the two tabs, which stay tabs.
_want=$(printf '            \t \t^')
_got=$(sed -n 3p "$TMP/err")
if [ "$_got" = "$_want" ]; then ok
else bad "expected the caret line to keep the pattern's tabs"; fi

t "check: multi-line pattern names the line"
run pattern check "$(printf "[file:name = 'x']\nFOLLOWEDBY")"
expect_rc 1
expect_err_re "^pattern:2:[0-9]+: error: "
expect_err_line 2 "  FOLLOWEDBY"

t "check: a long pattern is shown as a window"
_long="[file:name = '$(printf '%0150d' 0)'"
run pattern check "$_long"
expect_rc 1
expect_err_re "^pattern:1:166: error: "
_l2=$(sed -n 2p "$TMP/err")
_l3=$(sed -n 3p "$TMP/err")
case $_l2 in
"  ..."*) ok ;;
*) bad "expected the shown line to start with '...'" ;;
esac
if [ "${#_l2}" -le 90 ]; then ok
else bad "expected the shown line to be at most 90 characters, got ${#_l2}"; fi
if [ "${#_l3}" -eq $((${#_l2} + 1)) ]; then ok
else bad "expected the caret just past the end of the shown line"; fi

t "check -q silences"
run pattern check -q "[file:size = ]"
expect_rc 1
expect_out_empty
expect_err_empty

t "check: one invalid among valid patterns"
run pattern check "[file:name = 'x']" "[file:size = ]" "[a:b = 1]"
expect_rc 1
expect_count err "^pattern:1:[0-9]+: error: " 1

t "check -f FILE with valid, invalid, blank and comment lines"
run pattern check -v -f "$TMP/patterns.txt"
expect_rc 1
expect_err_re "patterns\.txt:4:14: error: "
expect_err_re "patterns\.txt:6:[0-9]+: error: "
expect_count err ": error: " 2
expect_out "ok: [file:name = 'a.exe']"
expect_out "ok:   [ipv4-addr:value = '10.0.0.1']"
expect_count out "^ok: " 2

t "check --file=FILE -q"
run pattern check -q --file="$TMP/patterns.txt"
expect_rc 1
expect_err_empty

t "check -f - reads standard input"
run_in "$TMP/stdin_mixed.txt" pattern check -f -
expect_rc 1
expect_err_re "^<stdin>:2:[0-9]+: error: "
expect_not_err "<stdin>:1:"
run_in "$TMP/stdin_good.txt" pattern check -f -
expect_rc 0
expect_err_empty

t "check -f with a missing file"
run pattern check -f "$TMP/no-such-file.txt"
expect_rc 2
expect_err "no-such-file.txt"

t "check -f: a NUL byte in a pattern is an error, not a crash"
run pattern check -f "$TMP/nul.txt"
expect_rc 1
expect_err_re "nul\.txt:1:[0-9]+: error: "
expect_not_err "nul.txt:2"
# shellcheck disable=SC2094 # both sides of the pipe only read the file
if tr -d '\000' <"$TMP/err" | cmp -s - "$TMP/err"; then ok
else bad "expected no raw NUL byte on stderr"; fi

t "check -f: a line over the 1 MiB pattern limit"
{
    printf "[file:name = '"
    dd if=/dev/zero bs=1048576 count=1 2>/dev/null | tr '\000' 'a'
    printf "']\n[file:name = 'ok']\n"
} >"$TMP/long.txt"
run pattern check -f "$TMP/long.txt"
expect_rc 1
expect_err_re "long\.txt:1: error: .*limit"
expect_not_err "long.txt:2"

t "check: a hash of the wrong length is invalid"
run pattern check "[file:hashes.'SHA-256' = 'abc']"
expect_rc 1
expect_err_re "^pattern:1:26: error: .+"

t "--stix-version: 2.0 allows REPEATS twice, 2.1 does not"
run pattern check --stix-version 2.0 "$REP"
expect_rc 0
run pattern check --stix-version=2.0 "$REP"
expect_rc 0
run pattern check "$REP"
expect_rc 1
expect_err "REPEATS"
run pattern check --stix-version 2.1 "$REP"
expect_rc 1

# --- pattern match ----------------------------------------------------------

t "match: a match names the observed-data"
run pattern match "[file:name = 'dropper.exe']" "$TMP/bundle.json"
expect_rc 0
expect_out_re '^ *"matched": true'
expect_out "\"observed_data\": \"$F1\""
expect_out "\"observation\": 0"
expect_not_out "$F2"
expect_err_empty

t "match: FOLLOWEDBY binds both observations, in order"
run pattern match "[file:name = 'dropper.exe'] FOLLOWEDBY [domain-name:value = 'c2.example.jp']" \
    "$TMP/bundle.json"
expect_rc 0
expect_out "\"observation\": 1"
_l1=$(grep -n -F "\"$F1\"" "$TMP/out" | head -n 1 | cut -d: -f1)
_l2=$(grep -n -F "\"$F2\"" "$TMP/out" | head -n 1 | cut -d: -f1)
if [ -n "$_l1" ] && [ -n "$_l2" ] && [ "$_l1" -lt "$_l2" ]; then ok
else bad "expected both observed-data, the file's first"; fi

t "match: WITHIN too short does not match"
run pattern match "([file:name = 'dropper.exe'] FOLLOWEDBY [domain-name:value = 'c2.example.jp']) WITHIN 10 SECONDS" \
    "$TMP/bundle.json"
expect_rc 1
expect_out_re '^ *"matched": false'

t "match: no match"
run pattern match "[file:name = 'other.exe']" "$TMP/bundle.json"
expect_rc 1
expect_out_re '^ *"matched": false'
expect_out_re '^ *"observed_data": \[\]'
expect_out_re '^ *"bindings": \[\]'
expect_not_out "$F1"

t "match: observed data from standard input"
run_in "$TMP/bundle.json" pattern match "[domain-name:value = 'c2.example.jp']" -
expect_rc 0
expect_out "$F2"

t "match: observed-data without an id are named by index"
run pattern match --stix-version 2.0 "[file:name = 'dropper.exe']" "$TMP/od20.json"
expect_rc 0
expect_out '"#1"'
expect_not_out '"#0"'

t "match: an invalid pattern is exit 2 with a caret"
run pattern match "[file:size = ]" "$TMP/bundle.json"
expect_rc 2
expect_err_re "^pattern:1:14: error: "
expect_err_line 3 "               ^"
expect_out_empty

t "match: malformed JSON names line and column"
run pattern match "[file:name = 'x']" "$TMP/broken.json"
expect_rc 2
expect_err_re "broken\.json:3:[0-9]+: error: .+"
expect_out_empty

t "match: unreadable file"
run pattern match "[file:name = 'x']" "$TMP/no-such-file.json"
expect_rc 2
expect_err "no-such-file.json"

t "match: a file over the 256 MiB limit is refused before it is read"
# A sparse file: 300 MiB long, nothing written.
dd if=/dev/null of="$TMP/huge.json" bs=1048576 seek=300 count=0 2>/dev/null
run pattern match "[file:name = 'x']" "$TMP/huge.json"
expect_rc 2
expect_err "huge.json"
expect_err "limit"

t "match: a pattern that check rejects is refused"
run pattern match "[file:hashes.MD5 = 'abc']" "$TMP/bundle.json"
expect_rc 2
expect_err_re "^pattern:1:20: error: .*not a valid MD5 hash"

t "match --no-validate: evaluated anyway, with a warning"
run pattern match --no-validate "[file:hashes.MD5 = 'abc']" "$TMP/bundle.json"
expect_rc 1
expect_err_re "^pattern:1:20: warning: "
expect_out_re '^ *"matched": false'

t "match: wrong number of arguments"
run pattern match "[file:name = 'x']"
expect_rc 2

# --- pattern inspect --------------------------------------------------------

t "inspect"
run pattern inspect "[file:name = 'x'] REPEATS 2 TIMES"
expect_rc 0
expect_out '"comparisons"'
expect_out '"REPEATS 2 TIMES"'
expect_out_re '^  "'

t "inspect an invalid pattern"
run pattern inspect "[file:size = ]"
expect_rc 2
expect_err_re "^pattern:1:14: error: "

# --- demo -------------------------------------------------------------------

t "demo"
run demo
expect_rc 0
expect_out "FOLLOWEDBY"
expect_out "WITHIN 600 SECONDS"
expect_out_re "matched \[0\] <- observed-data--2e861157-87a6-4e8a-8115-7359271086e1"
expect_out_re "\[1\] <- observed-data--48513063-d5f0-45ce-9cd7-4d21e026a04b"
expect_out "no match"
expect_out_re "pattern:1:[0-9]+: error: "
expect_not_out "UNEXPECTED"
_n=$(wc -l <"$TMP/out")
if [ "$_n" -lt 40 ]; then ok; else bad "expected under 40 lines, got $_n"; fi

t "demo rejects arguments"
run demo extra
expect_rc 2

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
