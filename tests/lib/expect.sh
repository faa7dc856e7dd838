# expect.sh - the checks the shell tests share (sourced, not run).  A test
# script sets $name (the check being made), runs the command so that its
# exit status is in $rc and its output in $TMP/out and $TMP/err (counting
# runs in $runs), then calls these; they count into $pass and $fail.

ok() { pass=$((pass + 1)); }

# bad WHAT: report a failure, with what came out (once per run).
bad() {
    fail=$((fail + 1))
    echo "FAIL: $name: $1"
    [ "$shown" = "$runs" ] && return 0
    shown=$runs
    echo "  exit status: $rc"
    echo "  stdout:"
    sed -n '1,12s/^/    | /p' "$TMP/out"
    echo "  stderr:"
    sed -n '1,12s/^/    | /p' "$TMP/err" | cut -c1-300
}

expect_rc() {
    if [ "$rc" -eq "$1" ]; then ok; else bad "expected exit status $1"; fi
}

# expect_out|expect_err FIXED-STRING: the stream contains the string.
expect_out() {
    if grep -F -e "$1" "$TMP/out" >/dev/null; then ok
    else bad "expected stdout to contain: $1"; fi
}
expect_err() {
    if grep -F -e "$1" "$TMP/err" >/dev/null; then ok
    else bad "expected stderr to contain: $1"; fi
}
expect_not_out() {
    if grep -F -e "$1" "$TMP/out" >/dev/null; then
        bad "expected stdout not to contain: $1"
    else ok; fi
}
expect_not_err() {
    if grep -F -e "$1" "$TMP/err" >/dev/null; then
        bad "expected stderr not to contain: $1"
    else ok; fi
}

# expect_err_re|expect_out_re ERE: some line of the stream matches.
expect_err_re() {
    if grep -E -e "$1" "$TMP/err" >/dev/null; then ok
    else bad "expected a line of stderr to match /$1/"; fi
}
expect_out_re() {
    if grep -E -e "$1" "$TMP/out" >/dev/null; then ok
    else bad "expected a line of stdout to match /$1/"; fi
}

expect_out_empty() {
    if [ -s "$TMP/out" ]; then bad "expected nothing on stdout"; else ok; fi
}
expect_err_empty() {
    if [ -s "$TMP/err" ]; then bad "expected nothing on stderr"; else ok; fi
}

# expect_count out|err ERE N: exactly N lines of the stream match.
expect_count() {
    _n=$(grep -c -E -e "$2" "$TMP/$1" || true)
    if [ "$_n" -eq "$3" ]; then ok
    else bad "expected $3 lines of std$1 to match /$2/, got $_n"; fi
}
