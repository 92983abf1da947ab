/*
 * Plumbing shared by the `sesp topic|group|produce|consume` commands: the
 * common options (-b, -X, --timeout, -v, --help) and the getopt loop around
 * them, subcommand and operand checks, building a librdkafka client with quiet
 * logging, a bounded reachability check so a dead broker gives a clear error
 * instead of a hang, bounded admin calls, and small argument parsers.
 */
#ifndef SESP_CLI_COMMON_H
#define SESP_CLI_COMMON_H

#include <getopt.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <librdkafka/rdkafka.h>

#define SESP_CLI_DEFAULT_BOOTSTRAP "127.0.0.1:9092"
#define SESP_CLI_DEFAULT_TIMEOUT_MS 10000

/* Long-option values above the char range, shared by all commands. */
enum {
    SESP_CLI_OPT_FAIL = -2,  /* sesp_cli_next_opt(): exit 2 */
    SESP_CLI_OPT_TIMEOUT = 1000,
    SESP_CLI_OPT_FIRST_COMMAND_OPT = 1100, /* commands number their own from here */
};

#define SESP_CLI_COMMON_SHORTOPTS "b:X:vh"
#define SESP_CLI_COMMON_LONGOPTS                                         \
    {"bootstrap-server", required_argument, NULL, 'b'},                  \
    {"property", required_argument, NULL, 'X'},                          \
    {"timeout", required_argument, NULL, SESP_CLI_OPT_TIMEOUT},          \
    {"verbose", no_argument, NULL, 'v'},                                 \
    {"help", no_argument, NULL, 'h'}

#define SESP_CLI_COMMON_HELP                                                        \
    "  -b, --bootstrap-server HOST:PORT  broker to contact (default $SESP_BOOTSTRAP or " \
    SESP_CLI_DEFAULT_BOOTSTRAP ")\n"                                                \
    "  -X KEY=VALUE                      any librdkafka configuration property\n"     \
    "      --timeout MS                  bound on metadata/admin calls (default 10000)\n" \
    "  -v, --verbose                     log client activity to stderr\n"            \
    "  -h, --help                        this help\n"

typedef struct sesp_cli_common {
    const char *prog;        /* "sesp topic create", for messages */
    const char *bootstrap;
    int timeout_ms;
    int verbose;
    int help;
    int opts_started;        /* sesp_cli_next_opt() has restarted getopt */
    rd_kafka_conf_t *conf;   /* owned until sesp_cli_client_new() */
    char last_error[512];    /* last error reported by the client, for messages */
} sesp_cli_common;

/* Sets defaults (bootstrap from $SESP_BOOTSTRAP); 0 or -1 (message printed). */
int sesp_cli_common_init(sesp_cli_common *c, const char *prog);
void sesp_cli_common_destroy(sesp_cli_common *c);

/* Sets one librdkafka property, printing the error; 0 or -1. */
int sesp_cli_set(sesp_cli_common *c, const char *key, const char *value);

/*
 * getopt_long over a command's arguments (shortopts and longopts include the
 * common ones): handles the common options itself and returns the next
 * command option (optarg set), -1 at the end of the options, or
 * SESP_CLI_OPT_FAIL after printing why (bad value, unknown or incomplete
 * option), on which the command exits 2.  The first call restarts getopt.
 */
int sesp_cli_next_opt(sesp_cli_common *c, int argc, char **argv, const char *shortopts,
                      const struct option *longopts);

/*
 * Creates the client from c->conf (ownership passes, c->conf becomes NULL)
 * and checks within c->timeout_ms that a broker answers a Metadata request.
 * NULL after printing why.
 */
rd_kafka_t *sesp_cli_client_new(sesp_cli_common *c, rd_kafka_type_t type);

/* Parses a decimal integer in [min, max]; 0 or -1. */
int sesp_cli_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);

/*
 * Splits "key=value" at the first '=': *key_len gets the key's length and the
 * return value points at the value.  NULL if there is no '=' or the key is empty.
 */
const char *sesp_cli_split_kv(const char *s, size_t *key_len);

/* Finds the first occurrence of sep (sep_len > 0) in buf; NULL if absent. */
const void *sesp_cli_find_sep(const void *buf, size_t len, const char *sep, size_t sep_len);

/*
 * Picks the subcommand of a `sesp CMD SUB ...` command from argv[1] among
 * subs[0..nsubs): on success *idx is its index, prog gets "sesp CMD SUB" and
 * the return is -1 (go on); otherwise the exit code after printing usage
 * (no subcommand: stderr, 2; --help: stdout, 0) or an unknown-subcommand error (2).
 */
int sesp_cli_pick_sub(const char *cmd, const char *const *subs, size_t nsubs, int argc, char **argv,
                      void (*usage)(FILE *), size_t *idx, char *prog, size_t prog_size);

/*
 * Ends option parsing of a command with one TOPIC operand: after --help prints
 * usage to stdout and returns 0; without exactly one operand left at optind
 * returns 2 after saying so; else *topic = that operand and the return is -1.
 */
int sesp_cli_one_topic(const sesp_cli_common *c, void (*usage)(FILE *), int argc, char **argv, const char **topic);

/*
 * Checks the count of NAME operands: want 0 takes none, 1 exactly one, -1 at
 * least one.  0 if it fits, else 2 after printing "takes no <noun> name" etc.
 */
int sesp_cli_check_names(const sesp_cli_common *c, int nnames, int want, const char *noun);

/*
 * AdminOptions for op bounded by c->timeout_ms (request timeout, and the
 * operation timeout for the calls that have one); NULL after printing.
 */
rd_kafka_AdminOptions_t *sesp_cli_admin_options(const sesp_cli_common *c, rd_kafka_t *rk, rd_kafka_admin_op_t op);

/* Waits for an admin call's result event on q; NULL after printing if it failed or timed out. */
rd_kafka_event_t *sesp_cli_wait_result(const sesp_cli_common *c, rd_kafka_queue_t *q);

/* Non-zero once SIGINT/SIGTERM arrived (after sesp_cli_trap_signals()). */
extern volatile sig_atomic_t sesp_cli_stop;
void sesp_cli_trap_signals(void);

#endif
