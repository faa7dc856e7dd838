#!/bin/sh
# access_cli.sh - `kasa account`, `kasa token` and `kasa grant` end to end,
# as an operator meets them: what each prints on standard output (a token
# alone on its line, the tables), the confirmations and errors on standard
# error (naming what is wrong), the exit statuses (0 done, 1 refused, 2
# usage), and what the store holds afterwards, read back with the list
# commands and `kasa store check`.
#
# usage: sh access_cli.sh /path/to/kasa [STORE-URI]
#   Without STORE-URI the store is a SQLite file in a temporary directory.
#   With a postgresql URI (tests/pg/with_postgres.sh gives one in
#   $KASA_TEST_PG) the tests run against it, passing it in $KASA_STORE.
set -eu

KASA=${1:-}
STORE=${2:-}

if [ -z "$KASA" ] || [ ! -x "$KASA" ]; then
    echo "usage: sh access_cli.sh /path/to/kasa [STORE-URI]" >&2
    exit 2
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/kasa-access.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
trap 'exit 2' INT TERM HUP

case $STORE in
postgresql:* | postgres:*) ;;
*) STORE=sqlite:$TMP/store.db ;;
esac
KASA_STORE=$STORE
export KASA_STORE

pass=0
fail=0
rc=0
name=
runs=0
shown=

t() { name=$1; }

# run ARGS...: kasa, stdout to $TMP/out, stderr to $TMP/err, status to $rc.
run() {
    rc=0
    "$KASA" "$@" >"$TMP/out" 2>"$TMP/err" </dev/null || rc=$?
    runs=$((runs + 1))
}

# run_in TEXT ARGS...: the same with TEXT (printf %s) on standard input.
run_in() {
    printf '%s' "$1" >"$TMP/in"
    shift
    rc=0
    "$KASA" "$@" >"$TMP/out" 2>"$TMP/err" <"$TMP/in" || rc=$?
    runs=$((runs + 1))
}

. "$(dirname "$0")/../lib/expect.sh"

# expect_lines out|err N: the stream has exactly N lines.
expect_lines() {
    _n=$(wc -l <"$TMP/$1" | tr -d ' ')
    if [ "$_n" -eq "$2" ]; then ok
    else bad "expected $2 lines on std$1, got $_n"; fi
}

expect_check_ok() {
    _rc=0
    "$KASA" store check >"$TMP/check" 2>&1 || _rc=$?
    if [ "$_rc" -eq 0 ] && [ "$(cat "$TMP/check")" = ok ]; then ok
    else bad "store check: exit $_rc: $(head -n 3 "$TMP/check")"; fi
}

JPS_ID=identity--7a1c3f00-1d3e-4c39-9a55-0b5b1e2b1a01
TOKEN_RE='^kasa_[0-9a-f]{16}_[0-9a-f]{64}$'

t "setup: a collection"
run collection create "Alerts" --alias alerts
expect_rc 0
COLL=$(cat "$TMP/out")

# --- accounts --------------------------------------------------------------------

t "account add with a password on standard input"
run_in "s3cret pass
second line is ignored
" account add alice --org JPS --identity "$JPS_ID" --password-stdin
expect_rc 0
expect_out_empty
expect_err "kasa: account alice added to organisation JPS ($JPS_ID), a member of the community, with a password"
expect_lines err 1

t "account add: a guest, tokens only, in the same organisation"
run account add bob --org JPS --guest
expect_rc 0
expect_out_empty
expect_err "kasa: account bob added to organisation JPS ($JPS_ID), a guest, with tokens only"

t "account add: a new organisation gets a random identity"
run account add carol --org CERT
expect_rc 0
expect_err_re "organisation CERT \\(identity--[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\\)"

t "account add: a name taken"
run account add alice --org JPS
expect_rc 1
expect_out_empty
expect_err "kasa: error: account add: an account named \"alice\" exists already"

t "account add: a malformed name"
run account add "al ice" --org JPS
expect_rc 1
expect_err "kasa: error: account add: account name \"al ice\": 1 to 64 letters, digits or -._@"

t "account add: an organisation with another identity"
run account add dave --org JPS --identity identity--0f3b6c9e-8a6d-4e44-b0a2-3a6c1b7e9f02
expect_rc 1
expect_err "organisation \"JPS\" has the identity $JPS_ID, not identity--0f3b6c9e-8a6d-4e44-b0a2-3a6c1b7e9f02"

t "account add: not an identity id"
run account add dave --org NEW --identity indicator--0f3b6c9e-8a6d-4e44-b0a2-3a6c1b7e9f02
expect_rc 1
expect_err "identity \"indicator--0f3b6c9e-8a6d-4e44-b0a2-3a6c1b7e9f02\" is not an identity id"

t "account add: an empty password"
run_in "
" account add dave --org JPS --password-stdin
expect_rc 1
expect_err "a password is 1 to 1024 bytes; this one is empty"

t "account add: no password on standard input"
run_in "" account add dave --org JPS --password-stdin
expect_rc 1
expect_err "kasa: error: account add: no password on standard input"

t "account add: a password over 1024 bytes"
_long=$(awk 'BEGIN { for (i = 0; i < 1025; i++) printf "x" }')
run_in "$_long
" account add dave --org JPS --password-stdin
expect_rc 1
expect_err "the password on standard input is longer than 1024 bytes"

t "account add: 1024 bytes and a CRLF line ending"
# 1025 bytes with the CR: taken only if the CR is dropped
_max=$(awk 'BEGIN { for (i = 0; i < 1024; i++) printf "y" }')
_cr=$(printf '\r')
run_in "$_max$_cr
" account add erin --org JPS --password-stdin
expect_rc 0

t "account add without --org"
run account add dave
expect_rc 2
expect_err "kasa: account add: --org ORGANISATION is needed"
expect_err "try 'kasa account --help'"

t "account add: an option of another subcommand"
run account list --org JPS
expect_rc 2
expect_err "--org, --identity and --guest are options of 'account add'"

t "account: no subcommand, an unknown one"
run account
expect_rc 2
expect_err "account: say add, list, revoke or passwd"
run account frob x
expect_rc 2
expect_err "account: unknown subcommand 'frob'"

t "account list"
run account list
expect_rc 0
expect_lines out 5
expect_out_re "^NAME +ORGANISATION +IDENTITY +COMMUNITY +PASSWORD +REVOKED$"
expect_out_re "^alice +JPS +$JPS_ID +member +yes +no$"
expect_out_re "^bob +JPS +$JPS_ID +guest +no +no$"
expect_out_re "^carol +CERT +identity--[0-9a-f-]{36} +member +no +no$"
expect_out_re "^erin +JPS +$JPS_ID +member +yes +no$"
# sorted by name
_order=$(sed -n '2,$s/ .*//p' "$TMP/out" | tr '\n' ' ')
if [ "$_order" = "alice bob carol erin " ]; then ok
else bad "accounts in the order: $_order"; fi

t "account passwd"
run_in "new pass
" account passwd bob --password-stdin
expect_rc 0
expect_out_empty
expect_err "kasa: the password of account bob is changed"
run account list
expect_out_re "^bob +JPS +$JPS_ID +guest +yes +no$"

t "account passwd without --password-stdin"
run account passwd bob
expect_rc 2
expect_err "give the password on standard input, with --password-stdin"

t "account passwd: unknown account"
run_in "x
" account passwd mallory --password-stdin
expect_rc 1
expect_err "kasa: error: account passwd: no account named \"mallory\""

# --- tokens ----------------------------------------------------------------------

t "token new: the token alone on stdout"
run token new alice
expect_rc 0
expect_lines out 1
expect_count out "$TOKEN_RE" 1
TOKEN=$(cat "$TMP/out")
LOOKUP=$(printf '%s' "$TOKEN" | cut -c6-21)
expect_err "kasa: a token for account alice (lookup $LOOKUP); it is not shown again"
expect_not_err "$TOKEN"

t "token new: a second one differs"
run token new alice
expect_rc 0
TOKEN2=$(cat "$TMP/out")
if [ "$TOKEN2" != "$TOKEN" ]; then ok; else bad "the same token twice"; fi
LOOKUP2=$(printf '%s' "$TOKEN2" | cut -c6-21)

t "token new: unknown account"
run token new mallory
expect_rc 1
expect_out_empty
expect_err "kasa: error: token new: no account named \"mallory\""

t "token list"
run token list alice
expect_rc 0
expect_lines out 3
expect_out_re "^LOOKUP +CREATED +REVOKED$"
expect_out_re "^$LOOKUP +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z +-$"
expect_not_out "$TOKEN"

t "token list: unknown account"
run token list mallory
expect_rc 1
expect_err "no account named \"mallory\""

t "token revoke by the lookup"
run token revoke "$LOOKUP"
expect_rc 0
expect_out_empty
expect_err "kasa: token $LOOKUP is revoked"
run token list alice
expect_out_re "^$LOOKUP +[0-9T:-]+Z +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}Z$"
expect_out_re "^$LOOKUP2 +[0-9T:-]+Z +-$"

t "token revoke by the whole token"
run token revoke "$TOKEN2"
expect_rc 0
expect_err "kasa: token $LOOKUP2 is revoked"
run token list alice
expect_count out " -$" 0

t "token revoke: unknown, malformed"
run token revoke 0123456789abcdef
expect_rc 1
expect_err "kasa: error: token revoke: no token kasa_0123456789abcdef"
run token revoke nonsense
expect_rc 1
expect_err "neither a token nor a token's lookup part"

t "token: usage"
run token new
expect_rc 2
expect_err "token new: give one ACCOUNT"
run token revoke
expect_err "token revoke: give one TOKEN or LOOKUP"

# --- grants ----------------------------------------------------------------------

t "grant read,write to an account"
run grant alice alerts read,write
expect_rc 0
expect_out_empty
expect_err "kasa: alice may read and write in alerts"

t "grant read to an organisation, by collection id"
run grant JPS "$COLL" read
expect_rc 0
expect_err "kasa: JPS may read in $COLL"

t "grant list"
run grant list
expect_rc 0
expect_lines out 3
expect_out_re "^COLLECTION +ALIAS +KIND +WHO +PERMS +TITLE$"
expect_out_re "^$COLL +alerts +account +alice +read,write +Alerts$"
expect_out_re "^$COLL +alerts +organisation +JPS +read +Alerts$"

t "grant: a grant replaces the earlier one"
run grant alice alerts write
expect_rc 0
run grant list alerts
expect_out_re "^$COLL +alerts +account +alice +write +Alerts$"

t "grant none takes it away"
run grant alice alerts none
expect_rc 0
expect_err "kasa: alice has no grant on alerts any more"
run grant list alerts
expect_lines out 2
expect_not_out "alice"

t "grant: a name both an account and an organisation"
run account add CERT --org CERT
expect_rc 0
run grant CERT alerts read
expect_rc 1
expect_err "\"CERT\" is both an account and an organisation: write account:CERT or organisation:CERT"
run grant org:CERT alerts read
expect_rc 0
run grant account:CERT alerts write
expect_rc 0
run grant list alerts
expect_out_re "^$COLL +alerts +account +CERT +write +Alerts$"
expect_out_re "^$COLL +alerts +organisation +CERT +read +Alerts$"

t "grant: unknown grantee, unknown collection"
run grant mallory alerts read
expect_rc 1
expect_err "kasa: error: grant: no account or organisation named \"mallory\""
run grant alice nowhere read
expect_rc 1
expect_err "kasa: error: grant: no collection with id or alias \"nowhere\""
run grant list nowhere
expect_rc 1
expect_err "no collection with id or alias \"nowhere\""

t "grant: bad permissions, wrong arguments"
run grant alice alerts admin
expect_rc 2
expect_err "grant: 'admin' is none of read, write, read,write or none"
run grant alice alerts
expect_rc 2
expect_err "grant: give ACCOUNT|ORGANISATION COLLECTION"

t "grant: an account named list"
run account add list --org JPS
expect_rc 0
run grant list alerts read
expect_rc 0
expect_err "kasa: list may read in alerts"

# --- revoking an account -----------------------------------------------------------

t "account revoke: its tokens with it"
run token new bob
expect_rc 0
BOB_LOOKUP=$(cut -c6-21 "$TMP/out")
run account revoke bob
expect_rc 0
expect_out_empty
expect_err "kasa: account bob is revoked, and its tokens"
run account list
expect_out_re "^bob +JPS +$JPS_ID +guest +yes +yes$"
run token list bob
expect_out_re "^$BOB_LOOKUP +[0-9T:-]+Z +[0-9T:-]+Z$"
run token new bob
expect_rc 1
expect_err "account \"bob\" is revoked: it gets no new tokens"

t "account revoke: unknown"
run account revoke mallory
expect_rc 1
expect_err "kasa: error: account revoke: no account named \"mallory\""

# --- help, the store --------------------------------------------------------------

t "help"
run help account
expect_rc 0
expect_out "usage: kasa account add NAME --org ORGANISATION"
run token --help
expect_rc 0
expect_out "usage: kasa token new ACCOUNT"
run grant -h
expect_rc 0
expect_out "usage: kasa grant ACCOUNT|ORGANISATION COLLECTION"
run --help
expect_out "  grant            open collections to accounts and organisations"

t "--store before the command"
run --store "sqlite:$TMP/other.db" account list
expect_rc 0
expect_lines out 1

t "the store is sound"
expect_check_ok

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
