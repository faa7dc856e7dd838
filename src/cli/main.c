/*
 * main.c - the entry point of the `kasa` command: the top-level options
 * (--help, --version), `kasa help <command>`, the help texts of every
 * command, and the dispatch to the subcommands.  What a subcommand does
 * lives in its own file (cmd_pattern.c, cmd_demo.c); this file only
 * decides which one runs and turns a failed write of the output into an
 * exit status.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The exit status paragraph, shared by the help texts that need it. */
#define KASA_CLI_EXIT_HELP                                                     \
    "exit status:\n"                                                           \
    "  0  success: every pattern is valid, or the pattern matched\n"           \
    "  1  a pattern is invalid (check), or the pattern did not match "         \
    "(match)\n"                                                                \
    "  2  usage error, unreadable file, malformed JSON; in 'pattern match'\n"  \
    "     and 'pattern inspect' also an invalid pattern or an evaluation\n"    \
    "     error\n"

#define KASA_CLI_STORE_HELP                                                    \
    "  --store URI       the store: sqlite:PATH (default sqlite:kasa.db),\n"   \
    "                    or postgresql://... (libpq's URI); also taken\n"      \
    "                    from $KASA_STORE\n"

typedef struct kasa_cli_topic {
    const char *name;
    const char *text;
} kasa_cli_topic;

static const kasa_cli_topic kasa_cli_topics[] = {
    {"kasa",
     "usage: kasa [--version] [--help] [--store URI] <command> [<args>]\n"
     "\n"
     "kasa shares STIX 2.1 cyber threat indicators between partners and\n"
     "matches their patterns against what your own sensors observed.\n"
     "\n"
     "commands:\n"
     "  pattern check    check STIX patterns against the grammar and the "
     "rules\n"
     "                   of the specification, and say where they are wrong\n"
     "  pattern match    evaluate a pattern against observed-data JSON\n"
     "  pattern inspect  show what a pattern is made of, as JSON\n"
     "  import           add STIX bundles, JSON lines, MISP events or feeds\n"
     "                   to the store\n"
     "  export           write stored objects as a bundle or JSON lines\n"
     "  collection       create, list and show collections\n"
     "  stats            show what the store holds\n"
     "  store check      check the store's integrity\n"
     "  account          add, list and revoke partners' accounts\n"
     "  token            issue, list and revoke API tokens\n"
     "  grant            open collections to accounts and organisations\n"
     "  serve            serve the store to partners over TAXII 2.1\n"
     "  audit            read or verify the server's audit trail\n"
     "  watch            match Suricata EVE, Zeek or STIX telemetry against\n"
     "                   the store's indicators and write warnings\n"
     "  demo             match the indicators of the 2015 Emdivi phishing\n"
     "                   campaign against a built-in replay of mail and "
     "traffic\n"
     "  help <command>   show the help of a command, as '<command> --help' "
     "does\n"
     "\n"
     "options:\n"
     "  -h, --help       show this help\n"
     "  --version        print the version of kasa\n"
     "  --store URI      the store of the command that follows (as its own\n"
     "                   --store, or $KASA_STORE)\n"
     "\n" KASA_CLI_EXIT_HELP},
    {"pattern",
     "usage: kasa pattern <check|match|inspect> [options] ...\n"
     "\n"
     "Work with STIX patterns, the language indicators are written in:\n"
     "  kasa pattern check [options] PATTERN...   check patterns\n"
     "  kasa pattern check [options] -f FILE      check one pattern per line\n"
     "  kasa pattern match [options] PATTERN FILE evaluate against observed "
     "data\n"
     "  kasa pattern inspect [options] PATTERN    show a pattern's parts\n"
     "\n"
     "'kasa help pattern <subcommand>' shows the options of each.\n"
     "\n" KASA_CLI_EXIT_HELP},
    {"pattern check",
     "usage: kasa pattern check [options] PATTERN...\n"
     "       kasa pattern check [options] -f FILE\n"
     "\n"
     "Check that each PATTERN is a valid STIX pattern: its grammar, and the\n"
     "rules of the specification beyond it (well-formed hashes; in 2.1, no\n"
     "qualifier applied twice to one observation).\n"
     "With -f, read one pattern per line from FILE ('-' is standard input);\n"
     "empty lines and lines starting with '#' are skipped.\n"
     "\n"
     "Each invalid pattern is reported on standard error with its position,\n"
     "the line of the pattern and a caret under the column:\n"
     "  pattern:1:17: error: <what is wrong>\n"
     "    [file:name = 'x'\n"
     "                    ^\n"
     "The position reads FILE:LINE:COLUMN for patterns read with -f.\n"
     "Columns are counted in characters (Unicode code points).\n"
     "\n"
     "options:\n"
     "  --stix-version V  language version: 2.1 (the default) or 2.0\n"
     "  -f, --file FILE   read the patterns from FILE, one per line\n"
     "  -q, --quiet       print nothing; the exit status tells\n"
     "  -v, --verbose     also print 'ok: PATTERN' for each valid pattern\n"
     "  -h, --help        show this help\n"
     "\n"
     "exit status:\n"
     "  0  every pattern is valid\n"
     "  1  at least one pattern is invalid\n"
     "  2  usage error or unreadable file\n"},
    {"pattern match",
     "usage: kasa pattern match [options] PATTERN FILE\n"
     "\n"
     "Evaluate PATTERN against the observed data in FILE ('-' is standard\n"
     "input).  FILE holds JSON: a STIX bundle, a list of bundles, an\n"
     "observed-data object or a list of observed-data objects; it may be\n"
     "at most 256 MiB.  The result is printed as JSON:\n"
     "  {\n"
     "    \"matched\": true,\n"
     "    \"observed_data\": [\"observed-data--...\", ...],\n"
     "    \"bindings\": [{\"observation\": 0, \"observed_data\": "
     "\"observed-data--...\"}]\n"
     "  }\n"
     "\"observed_data\" lists the observed-data the match used, in input "
     "order;\n"
     "each binding names an observation expression of the pattern (0 is the\n"
     "leftmost '[...]') and the observed-data bound to it.  Observed-data\n"
     "without an id are named \"#N\", N their 0-based position in the input.\n"
     "PATTERN must be valid as 'pattern check' says; one that parses but\n"
     "breaks a rule beyond the grammar (a malformed hash, a qualifier\n"
     "applied twice) is refused, unless --no-validate asks to evaluate it\n"
     "anyway (as the STIX reference matcher does), with a warning.\n"
     "\n"
     "options:\n"
     "  --stix-version V  language and data version: 2.1 (default) or 2.0\n"
     "  --no-validate     evaluate a pattern that only parses\n"
     "  -h, --help        show this help\n"
     "\n"
     "exit status:\n"
     "  0  the pattern matched\n"
     "  1  the pattern did not match\n"
     "  2  usage error, invalid pattern, unreadable file, malformed JSON,\n"
     "     unusable observed data or an evaluation error\n"},
    {"pattern inspect",
     "usage: kasa pattern inspect [options] PATTERN\n"
     "\n"
     "Print what PATTERN is made of, as JSON: its qualifiers, its observation\n"
     "operators and its comparisons grouped by object type.\n"
     "\n"
     "options:\n"
     "  --stix-version V  language version: 2.1 (the default) or 2.0\n"
     "  -h, --help        show this help\n"
     "\n"
     "exit status:\n"
     "  0  the pattern was printed\n"
     "  2  usage error or invalid pattern\n"},
    {"demo",
     "usage: kasa demo\n"
     "\n"
     "Show the pattern engine at work on a built-in example: indicators of\n"
     "the 2015 Emdivi phishing campaign against the Japan Pension Service\n"
     "(a malicious attachment, a command-and-control domain, and mail\n"
     "followed by C2 traffic within 10 minutes), evaluated against a STIX\n"
     "2.1 bundle of observed mail, DNS and web traffic.  Hashes and domains\n"
     "are made up.  It also shows how an invalid pattern is reported.\n"
     "\n"
     "options:\n"
     "  -h, --help  show this help\n"
     "\n"
     "exit status:\n"
     "  0  every indicator behaved as expected\n"
     "  1  an indicator did not\n"
     "  2  usage error\n"},
    {"import",
     "usage: kasa import [options] FILE|-\n"
     "\n"
     "Add the STIX objects of FILE ('-' is standard input) to a collection\n"
     "of the store.  FILE is a STIX bundle of any size (read as a stream:\n"
     "memory follows the largest object, not the file), JSON lines of STIX\n"
     "objects, a MISP event, or a MISP feed (its directory or its\n"
     "manifest.json).  STIX 2.0 objects are mapped to 2.1 where the\n"
     "specification says how; others are rejected.  Every object is\n"
     "validated before it is stored.\n"
     "\n"
     "An object already stored (same id and version, same content) is a\n"
     "duplicate and changes nothing; a different object with a stored id\n"
     "and version is a conflict: the stored one is kept.  Each rejected or\n"
     "conflicting object is reported on standard error with its position;\n"
     "a summary goes to standard output.\n"
     "\n"
     "options:\n"
     "  -c, --collection C  the collection (id or alias); default: the\n"
     "                    collection 'default', created when missing\n"
     "  --atomic          keep all or nothing: any rejection or conflict\n"
     "                    rolls the whole import back\n"
     "  --strict          custom objects and custom properties without\n"
     "                    the x_ prefix are rejected\n"
     "  --progress MODE   auto (a bar when standard error is a terminal),\n"
     "                    bar, json (a line per commit), or none\n"
     "  --max-object-size BYTES  largest single object (default 64 MiB)\n"
     "  --commit-every N  commit after N objects (default 25000) or a\n"
     "                    second, whichever comes first\n" KASA_CLI_STORE_HELP
     "  -h, --help        show this help\n"
     "\n"
     "exit status:\n"
     "  0  every object was stored (or was already there)\n"
     "  1  some objects were rejected or conflicted (the others are stored,\n"
     "     unless --atomic)\n"
     "  2  usage error, unreadable or truncated input, store error\n"},
    {"export",
     "usage: kasa export [options]\n"
     "\n"
     "Write the stored objects to standard output, as a STIX bundle or as\n"
     "JSON lines, each object as it was received, in the order stored.\n"
     "\n"
     "options:\n"
     "  -c, --collection C  only the objects of collection C (id or alias)\n"
     "  -t, --type T      only objects of type T (repeat for more types)\n"
     "  -f, --format F    bundle (the default) or jsonl\n"
     "  --latest          only the latest version of each "
     "object\n" KASA_CLI_STORE_HELP "  -h, --help        show this help\n"
     "\n"
     "exit status:\n"
     "  0  written\n"
     "  2  usage error, unknown collection, store or write error\n"},
    {"collection",
     "usage: kasa collection create TITLE [--alias ALIAS] [--id UUID]\n"
     "                      [--description TEXT] [--api-root PATH]\n"
     "       kasa collection list [--api-root PATH]\n"
     "       kasa collection show ID|ALIAS\n"
     "\n"
     "Collections hold the objects a TAXII server shares.  'create' prints\n"
     "the new collection's id alone on standard output.  Wherever a\n"
     "command takes a collection, its id or its alias will do.\n"
     "\n"
     "options:\n"
     "  --alias ALIAS     a short name: letters, digits and -._~\n"
     "  --id UUID         the id to give it (default: a random UUID)\n"
     "  --description T   what the collection holds\n"
     "  --api-root PATH   the API root (default: api)\n" KASA_CLI_STORE_HELP
     "  -h, --help        show this help\n"
     "\n"
     "exit status:\n"
     "  0  done\n"
     "  1  the id or alias is taken or malformed, or no such collection\n"
     "  2  usage error or store error\n"},
    {"stats",
     "usage: kasa stats [--store URI]\n"
     "\n"
     "Show what the store holds: collections, objects, versions, active\n"
     "indicators, and its size.\n"
     "\n"
     "options:\n" KASA_CLI_STORE_HELP "  -h, --help        show this help\n"},
    {"store",
     "usage: kasa store check [--store URI]\n"
     "\n"
     "Check the store's integrity: the database's own check (SQLite) and\n"
     "kasa's invariants (every stored version in a collection, every\n"
     "collection entry with its version, date_added behind the last one\n"
     "given out, the active set up to date).  Prints 'ok'.\n"
     "\n"
     "options:\n" KASA_CLI_STORE_HELP "  -h, --help        show this help\n"
     "\n"
     "exit status:\n"
     "  0  the store is sound\n"
     "  1  it is not (the message says what is wrong)\n"
     "  2  usage error, or the store cannot be opened\n"},
    {"serve",
     "usage: kasa serve [--listen HOST:PORT] [--config FILE] [--store URI]\n"
     "                  [--audit-log FILE] [--tls-cert PEM --tls-key PEM]\n"
     "\n"
     "Serve the store over TAXII 2.1 to partners: discovery at /taxii2/,\n"
     "HTTP Basic or Bearer tokens, every object judged by the access policy\n"
     "(docs/policy.md), every request in the audit log.  Without a TLS\n"
     "certificate kasa listens on loopback only.  On a store without\n"
     "accounts it makes 'admin' and prints its password once.  SIGTERM or\n"
     "SIGINT: stop accepting, finish what is in flight, exit.\n"
     "\n"
     "options:\n"
     "  -l, --listen HOST:PORT  where to listen (default 127.0.0.1:8080)\n"
     "  -c, --config FILE       the config file (docs/taxii.md); flags "
     "win\n" KASA_CLI_STORE_HELP
     "  --audit-log FILE        the audit trail (default kasa-audit.log)\n"
     "  --tls-cert, --tls-key   PEM files: serve HTTPS (TLS 1.2 and 1.3)\n"
     "  -h, --help              show this help\n"},
    {"audit",
     "usage: kasa audit [--log FILE] [--account NAME] [--collection ID]\n"
     "                  [--object ID] [--since TIMESTAMP] [--verify]\n"
     "\n"
     "Print the lines of the audit trail that match (JSON lines: who, from\n"
     "where, what, the status, and every object version served, accepted\n"
     "or deleted), or with --verify check its chain of SHA-256 digests.\n"
     "\n"
     "exit status:\n"
     "  0  printed, or the chain holds\n"
     "  1  the chain is broken (the message says at which line)\n"
     "  2  usage error or unreadable log\n"},
    {"watch",
     "usage: kasa watch [--format eve|zeek|stix] [--store URI] [--output "
     "FILE]\n"
     "                  [--follow] [--zeek-log LOG] [--reload SECONDS]\n"
     "                  [--allowlist FILE]... [--syslog TARGET]\n"
     "                  [FILE...|-]\n"
     "\n"
     "Match telemetry against every active indicator of the store and write\n"
     "one warning per match as a JSON line: the indicator (id, name, pattern,\n"
     "confidence, producer, TLP), where the event came from, and the fields\n"
     "that matched (docs/sensors.md).  Each indicator seen is counted in a\n"
     "STIX sighting stored for its producer.  Lines that cannot be read are "
     "reported\n"
     "(the first ten) and counted, never fatal.  What changed in the store is\n"
     "applied between lines.  A summary goes to stderr at the end of each\n"
     "file and on SIGUSR1; SIGTERM and SIGINT stop after the current line.\n"
     "\n"
     "options:\n"
     "  -f, --format FMT    eve (Suricata, default), zeek (JSON or TSV logs)\n"
     "                      or stix (observed-data or bundles, one per\n"
     "                      line)\n" KASA_CLI_STORE_HELP
     "  -o, --output FILE   append warnings to FILE (default: stdout)\n"
     "  -F, --follow        at the end of a file, wait for more lines; when\n"
     "                      the file is rotated (renamed or truncated), go\n"
     "                      on with the new one, as tail -F\n"
     "  --zeek-log LOG      which Zeek log the lines are (conn, dns, http,\n"
     "                      files, ssl, x509, smtp); default: from _path or\n"
     "                      the file's name\n"
     "  --reload SECONDS    how often to store sightings and apply the\n"
     "                      store's changes (default 10; 0: only at the end)\n"
     "  --sightings COLL    the collection sightings go to (default: alias\n"
     "                      'sightings', made when missing)\n"
     "  --no-sightings      only warn; store no sightings\n"
     "  --identity ID       this node's STIX identity (default: organisation\n"
     "                      'local', made when missing)\n"
     "  --allowlist FILE    values never to warn on: a MISP warninglist\n"
     "                      (JSON) or one value per line; repeatable\n"
     "  --syslog TARGET     also send each warning to syslog as an RFC 5424\n"
     "                      message: local (/dev/log), unix:PATH or\n"
     "                      udp:HOST:PORT\n"
     "  -h, --help          show this help\n"},
    {"help",
     "usage: kasa help [<command>]\n"
     "\n"
     "Show the help of a command ('kasa help pattern check'), the same text\n"
     "as '<command> --help'.  Without a command, show the help of kasa.\n"},
};

int kasa_cli_help(FILE *f, const char *topic)
{
    const char *text = kasa_cli_access_help(topic);
    size_t i;

    for (i = 0; i < sizeof(kasa_cli_topics) / sizeof(kasa_cli_topics[0]); i++) {
        if (strcmp(kasa_cli_topics[i].name, topic) == 0) {
            fputs(kasa_cli_topics[i].text, f);
            return 0;
        }
    }
    if (text == NULL)
        return -1;
    fputs(text, f);
    return 0;
}

/* kasa help [command [subcommand]] */
static int kasa_cli_help_cmd(int argc, char **argv)
{
    char topic[64];
    int n;

    if (argc < 2)
        return kasa_cli_help(stdout, "kasa") == 0 ? KASA_CLI_EXIT_OK
                                                  : KASA_CLI_EXIT_ERROR;
    if (argc > 3)
        return kasa_cli_usage_error("kasa help help",
                                    "help: too many arguments");
    if (argc == 3)
        n = snprintf(topic, sizeof(topic), "%s %s", argv[1], argv[2]);
    else
        n = snprintf(topic, sizeof(topic), "%s", argv[1]);
    if (n < 0 || (size_t)n >= sizeof(topic) || strcmp(topic, "kasa") == 0 ||
        kasa_cli_help(stdout, topic) != 0) {
        if (argc == 3)
            return kasa_cli_usage_error("kasa --help",
                                        "help: unknown command '%s %s'",
                                        argv[1], argv[2]);
        return kasa_cli_usage_error("kasa --help", "help: unknown command '%s'",
                                    argv[1]);
    }
    return KASA_CLI_EXIT_OK;
}

static int kasa_cli_dispatch(int argc, char **argv)
{
    const char *cmd;

    /* --store before the command is the store of whatever command
     * follows: it becomes $KASA_STORE, which a command's own --store
     * still overrides */
    while (argc >= 2 && strncmp(argv[1], "--store", 7) == 0 &&
           (argv[1][7] == '\0' || argv[1][7] == '=')) {
        const char *uri = argv[1][7] == '=' ? argv[1] + 8 : NULL;
        int used = 1;

        if (uri == NULL) {
            if (argc < 3)
                return kasa_cli_usage_error("kasa --help",
                                            "--store needs a store URI");
            uri = argv[2];
            used = 2;
        }
        if (setenv("KASA_STORE", uri, 1) != 0) {
            fputs("kasa: error: out of memory\n", stderr);
            return KASA_CLI_EXIT_ERROR;
        }
        argc -= used;
        argv += used;
    }
    if (argc < 2)
        return kasa_cli_usage_error("kasa --help", "no command given");
    cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0) {
        kasa_cli_help(stdout, "kasa");
        return KASA_CLI_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("kasa %s\n", kasa_version());
        return KASA_CLI_EXIT_OK;
    }
    if (strcmp(cmd, "help") == 0)
        return kasa_cli_help_cmd(argc - 1, argv + 1);
    if (strcmp(cmd, "pattern") == 0)
        return kasa_cli_pattern(argc - 1, argv + 1);
    if (strcmp(cmd, "demo") == 0)
        return kasa_cli_demo(argc - 1, argv + 1);
    if (strcmp(cmd, "import") == 0)
        return kasa_cli_import(argc - 1, argv + 1);
    if (strcmp(cmd, "export") == 0)
        return kasa_cli_export(argc - 1, argv + 1);
    if (strcmp(cmd, "collection") == 0)
        return kasa_cli_collection(argc - 1, argv + 1);
    if (strcmp(cmd, "stats") == 0)
        return kasa_cli_stats(argc - 1, argv + 1);
    if (strcmp(cmd, "store") == 0)
        return kasa_cli_store(argc - 1, argv + 1);
    if (strcmp(cmd, "account") == 0)
        return kasa_cli_account(argc - 1, argv + 1);
    if (strcmp(cmd, "token") == 0)
        return kasa_cli_token(argc - 1, argv + 1);
    if (strcmp(cmd, "grant") == 0)
        return kasa_cli_grant(argc - 1, argv + 1);
    if (strcmp(cmd, "serve") == 0)
        return kasa_cli_serve(argc - 1, argv + 1);
    if (strcmp(cmd, "audit") == 0)
        return kasa_cli_audit(argc - 1, argv + 1);
    if (strcmp(cmd, "watch") == 0)
        return kasa_cli_watch(argc - 1, argv + 1);
    if (cmd[0] == '-')
        return kasa_cli_usage_error("kasa --help", "unknown option '%s'", cmd);
    return kasa_cli_usage_error("kasa --help", "unknown command '%s'", cmd);
}

int main(int argc, char **argv)
{
    int rc = kasa_cli_dispatch(argc, argv);

    /* Output that could not be written is a failure, not a success. */
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fputs("kasa: error: could not write the output\n", stderr);
        return KASA_CLI_EXIT_ERROR;
    }
    return rc;
}
