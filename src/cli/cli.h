/*
 * cli.h - what the files of the `kasa` command share with each other: the
 * exit codes, the subcommand entry points and the helpers in util.c that
 * read input files and print diagnostics.  Not part of libkasa and never
 * included by it: the command sees the library only through include/kasa/.
 */
#ifndef KASA_CLI_H
#define KASA_CLI_H

#include <stdio.h>

#include "kasa/kasa.h"
#include "kasa/pattern.h"
#include "kasa/store.h"

#if defined(__GNUC__)
#define KASA_CLI_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define KASA_CLI_PRINTF(fmt, args)
#endif

/*
 * Exit codes, as documented in `kasa --help` and docs/cli.md.
 *   0  success, every pattern valid, the pattern matched
 *   1  a pattern is invalid (check), the pattern did not match (match)
 *   2  usage error, unreadable file, bad JSON, or in `match` and `inspect`
 *      an invalid pattern or an evaluation error
 */
enum { KASA_CLI_EXIT_OK = 0, KASA_CLI_EXIT_FAIL = 1, KASA_CLI_EXIT_ERROR = 2 };

/* Subcommands.  argv[0] is the subcommand's own name ("pattern", "demo").
 * Each returns the process exit code. */
int kasa_cli_pattern(int argc, char **argv);
int kasa_cli_demo(int argc, char **argv);

/* Commands of the store (cmd_store.c): import, export, collection,
 * stats, store. */
int kasa_cli_import(int argc, char **argv);
int kasa_cli_export(int argc, char **argv);
int kasa_cli_collection(int argc, char **argv);
int kasa_cli_stats(int argc, char **argv);
int kasa_cli_store(int argc, char **argv);

/* Commands of partners' access (cmd_access.c): account, token, grant; and
 * their help texts (NULL for a topic that is not theirs). */
int kasa_cli_account(int argc, char **argv);
int kasa_cli_token(int argc, char **argv);
int kasa_cli_grant(int argc, char **argv);
const char *kasa_cli_access_help(const char *topic);

/* The TAXII server and its audit trail (cmd_serve.c). */
int kasa_cli_serve(int argc, char **argv);
int kasa_cli_audit(int argc, char **argv);

/* The sensor (cmd_watch.c). */
int kasa_cli_watch(int argc, char **argv);

/* Warnings to syslog as RFC 5424 messages over a datagram socket
 * (syslog.c): `target` is "local" (/dev/log), "unix:PATH" or
 * "udp:HOST:PORT".  open prints why it fails and returns NULL. */
typedef struct kasa_cli_syslog kasa_cli_syslog;
kasa_cli_syslog *kasa_cli_syslog_open(const char *target);
void kasa_cli_syslog_close(kasa_cli_syslog *s);
/* One message: facility local0, severity warning, MSGID "warning",
 * structured data [kasa@32473 indicator=... source=...], `msg` as its
 * text.  A message the socket refuses is counted, not fatal. */
void kasa_cli_syslog_send(kasa_cli_syslog *s, const char *time,
                          const char *indicator, const char *source,
                          const char *msg);
unsigned long kasa_cli_syslog_failed(const kasa_cli_syslog *s);

/* Options of a subcommand, for kasa_cli_getopt. */
enum { KASA_CLI_FLAG, KASA_CLI_VALUE, KASA_CLI_LIST };
#define KASA_CLI_LIST_MAX 64
typedef struct kasa_cli_list {
    const char *v[KASA_CLI_LIST_MAX];
    size_t n;
} kasa_cli_list;
typedef struct kasa_cli_opt {
    const char *name; /* "--store"; NULL ends the table */
    char short_name;  /* 'c', or 0 */
    int kind;
    void *dst; /* int * (flag), const char ** (value), kasa_cli_list * */
} kasa_cli_opt;

/*
 * Parse argv (argv[0] is the subcommand) against `opts`: "--name value",
 * "--name=value", "-c value"; -h/--help prints the help of topic `name`.
 * Positional arguments go to `args` (room for argc) and *nargs.  Returns
 * 0 to go on, or -1 when the caller should exit with *rc.
 */
int kasa_cli_getopt(const char *name, const char *hint, int argc, char **argv,
                    const kasa_cli_opt *opts, const char **args, size_t *nargs,
                    int *rc);

/* Print the help text of `topic` ("kasa", "pattern", "pattern check", ...)
 * to `f`.  Returns 0, or -1 when there is no such topic. */
int kasa_cli_help(FILE *f, const char *topic);

/* "kasa: <message>\ntry 'kasa --help'\n" on stderr, returns exit code 2.
 * `hint` names the help to read ("kasa --help", "kasa pattern --help"). */
int kasa_cli_usage_error(const char *hint, const char *fmt, ...)
    KASA_CLI_PRINTF(2, 3);

/*
 * Read all of `path` ("-" means standard input) into a new NUL-terminated
 * buffer the caller frees with free().  More than `max` bytes is an error
 * (KASA_ELIMIT), so is any read error (KASA_EIO) or running out of memory
 * (KASA_ENOMEM); the reason is printed on stderr, prefixed with `name`.
 */
kasa_err kasa_cli_read_file(const char *path, const char *name, size_t max,
                            char **out, size_t *outlen);

/* Open the store `uri` names, else $KASA_STORE, else the default;
 * 0, or -1 with the reason on stderr. */
int kasa_cli_open_store(const char *uri, kasa_store **s);

/* The name a file is shown under in messages: "<stdin>" for "-". */
const char *kasa_cli_source_name(const char *path);

/*
 * Print a pattern diagnostic on stderr in the compiler style:
 *
 *     <source>:<line>:<col>: <severity>: <message>
 *       <the line of the pattern>
 *       <spaces or tabs>^
 *
 * `text`/`len` is the pattern the diagnostic refers to.  `source` names it
 * ("pattern", "rules.txt"); `first_line` is the line of `source` on which
 * the text starts (1 for a pattern given on the command line, the line
 * number within the file for one read with -f); with `first_line` 0 the
 * location reads "<source>:<diag.line>:<col>".  A diagnostic without a
 * position (diag->line == 0) prints just "<source>: <severity>: <message>".
 * `severity` is "error" or "warning".
 */
void kasa_cli_print_pattern_diag(const char *source, unsigned first_line,
                                 const char *severity, const char *text,
                                 size_t len, const kasa_diag *diag);

/* Same caret drawing to `f`, without the header line, every line prefixed
 * with `indent`.  Used by the demo, which prints to stdout. */
void kasa_cli_print_caret(FILE *f, const char *indent, const char *text,
                          size_t len, const kasa_diag *diag);

/* The message of a diagnostic, or the name of its code when it has none. */
const char *kasa_cli_diag_message(const kasa_diag *diag);

#endif /* KASA_CLI_H */
