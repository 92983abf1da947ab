/*
 * Shared plumbing of the CLI's Kafka commands: common options, client
 * construction on librdkafka with logging routed through -v, the bounded
 * "is a broker there" check, and argument parsers.  Everything here runs in
 * a short-lived process; a failure prints one clear line and the caller exits.
 */
#include "cli_common.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

volatile sig_atomic_t sesp_cli_stop;

static void on_signal(int sig)
{
    (void)sig;
    sesp_cli_stop = 1;
}

void sesp_cli_trap_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int sesp_cli_set(sesp_cli_common *c, const char *key, const char *value)
{
    char errstr[512];
    if (rd_kafka_conf_set(c->conf, key, value, errstr, sizeof errstr) != RD_KAFKA_CONF_OK) {
        fprintf(stderr, "%s: %s\n", c->prog, errstr);
        return -1;
    }
    return 0;
}

int sesp_cli_common_init(sesp_cli_common *c, const char *prog)
{
    memset(c, 0, sizeof *c);
    c->prog = prog;
    c->timeout_ms = SESP_CLI_DEFAULT_TIMEOUT_MS;
    const char *env = getenv("SESP_BOOTSTRAP");
    c->bootstrap = env && *env ? env : SESP_CLI_DEFAULT_BOOTSTRAP;
    c->conf = rd_kafka_conf_new();
    if (!c->conf) {
        fprintf(stderr, "%s: out of memory\n", prog);
        return -1;
    }
    if (sesp_cli_set(c, "bootstrap.servers", c->bootstrap))
        return -1;
    /* A CLI is started by a person waiting for it: do not retry a dead address for minutes. */
    if (sesp_cli_set(c, "socket.connection.setup.timeout.ms", "5000"))
        return -1;
    return 0;
}

void sesp_cli_common_destroy(sesp_cli_common *c)
{
    if (c->conf)
        rd_kafka_conf_destroy(c->conf);
    c->conf = NULL;
}

int sesp_cli_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!s || !*s)
        return -1;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

const char *sesp_cli_split_kv(const char *s, size_t *key_len)
{
    const char *eq = strchr(s, '=');
    if (!eq || eq == s)
        return NULL;
    *key_len = (size_t)(eq - s);
    return eq + 1;
}

const void *sesp_cli_find_sep(const void *buf, size_t len, const char *sep, size_t sep_len)
{
    if (sep_len == 0 || sep_len > len)
        return NULL;
    return memmem(buf, len, sep, sep_len);
}

/* 1 if opt is a common option (handled), 0 if not, -1 on a bad value (message printed). */
static int common_opt(sesp_cli_common *c, int opt, const char *arg)
{
    switch (opt) {
    case 'b':
        c->bootstrap = arg;
        return sesp_cli_set(c, "bootstrap.servers", arg) ? -1 : 1;
    case 'X': {
        size_t klen;
        const char *val = sesp_cli_split_kv(arg, &klen);
        if (!val) {
            fprintf(stderr, "%s: -X expects KEY=VALUE, got '%s'\n", c->prog, arg);
            return -1;
        }
        char *key = strndup(arg, klen);
        if (!key) {
            fprintf(stderr, "%s: out of memory\n", c->prog);
            return -1;
        }
        int rc = sesp_cli_set(c, key, val);
        if (!rc && !strcmp(key, "bootstrap.servers"))
            c->bootstrap = val;
        free(key);
        return rc ? -1 : 1;
    }
    case SESP_CLI_OPT_TIMEOUT: {
        int64_t v;
        if (sesp_cli_parse_i64(arg, 1, INT_MAX, &v)) {
            fprintf(stderr, "%s: --timeout expects milliseconds > 0, got '%s'\n", c->prog, arg);
            return -1;
        }
        c->timeout_ms = (int)v;
        return 1;
    }
    case 'v':
        c->verbose = 1;
        return 1;
    case 'h':
        c->help = 1;
        return 1;
    default:
        return 0;
    }
}

static void bad_option(const sesp_cli_common *c, int argc, char **argv)
{
    const char *bad = optind - 1 < argc && optind > 0 ? argv[optind - 1] : "?";
    if (optopt && optopt < 256 && bad[0] == '-' && bad[1] != '-')
        fprintf(stderr, "%s: bad or incomplete option '-%c' (see --help)\n", c->prog, optopt);
    else
        fprintf(stderr, "%s: bad or incomplete option '%s' (see --help)\n", c->prog, bad);
}

int sesp_cli_next_opt(sesp_cli_common *c, int argc, char **argv, const char *shortopts,
                      const struct option *longopts)
{
    if (!c->opts_started) {
        optind = 0; /* full re-initialisation of GNU getopt */
        opterr = 0;
        c->opts_started = 1;
    }
    for (;;) {
        int opt = getopt_long(argc, argv, shortopts, longopts, NULL);
        if (opt == -1)
            return -1;
        if (opt == '?' || opt == ':') {
            bad_option(c, argc, argv);
            return SESP_CLI_OPT_FAIL;
        }
        int h = common_opt(c, opt, optarg);
        if (h < 0)
            return SESP_CLI_OPT_FAIL;
        if (h == 0)
            return opt;
    }
}

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    sesp_cli_common *c = rd_kafka_opaque(rk);
    if (c && c->verbose)
        fprintf(stderr, "%s: [rdkafka %d %s] %s\n", c->prog, level, fac, buf);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    sesp_cli_common *c = opaque;
    (void)rk;
    /* "1/1 brokers are down" says less than the connect error that preceded it. */
    if (err != RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || !c->last_error[0])
        snprintf(c->last_error, sizeof c->last_error, "%s", reason);
    if (c->verbose || err == RD_KAFKA_RESP_ERR__FATAL)
        fprintf(stderr, "%s: %s: %s\n", c->prog, rd_kafka_err2name(err), reason);
}

rd_kafka_t *sesp_cli_client_new(sesp_cli_common *c, rd_kafka_type_t type)
{
    char errstr[512];
    rd_kafka_conf_set_opaque(c->conf, c);
    rd_kafka_conf_set_log_cb(c->conf, log_cb);
    rd_kafka_conf_set_error_cb(c->conf, error_cb);
    rd_kafka_conf_t *conf = c->conf;
    rd_kafka_t *rk = rd_kafka_new(type, conf, errstr, sizeof errstr);
    if (!rk) {
        /* conf is still ours on failure */
        fprintf(stderr, "%s: %s\n", c->prog, errstr);
        return NULL;
    }
    c->conf = NULL;

    /* Metadata for no topic at all: the cheapest request that proves a broker answers. */
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, NULL, &md, c->timeout_ms);
    if (err) {
        rd_kafka_poll(rk, 0); /* serve error_cb so last_error says why (refused, resolve failure...) */
        fprintf(stderr, "%s: cannot reach a broker at %s within %d ms: %s\n", c->prog, c->bootstrap,
                c->timeout_ms, rd_kafka_err2str(err));
        if (c->last_error[0])
            fprintf(stderr, "%s: last client error: %s\n", c->prog, c->last_error);
        rd_kafka_destroy(rk);
        return NULL;
    }
    rd_kafka_metadata_destroy(md);
    return rk;
}

int sesp_cli_pick_sub(const char *cmd, const char *const *subs, size_t nsubs, int argc, char **argv,
                      void (*usage)(FILE *), size_t *idx, char *prog, size_t prog_size)
{
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    for (size_t i = 0; i < nsubs; i++) {
        if (!strcmp(sub, subs[i])) {
            *idx = i;
            snprintf(prog, prog_size, "sesp %s %s", cmd, sub);
            return -1;
        }
    }
    fprintf(stderr, "sesp %s: unknown subcommand '%s' (", cmd, sub);
    for (size_t i = 0; i < nsubs; i++)
        fprintf(stderr, "%s%s", i ? "|" : "", subs[i]);
    fprintf(stderr, ")\n");
    return 2;
}

int sesp_cli_check_names(const sesp_cli_common *c, int nnames, int want, const char *noun)
{
    if (want == 0 && nnames)
        fprintf(stderr, "%s: takes no %s name\n", c->prog, noun);
    else if (want == 1 && nnames != 1)
        fprintf(stderr, "%s: expects exactly one %s name\n", c->prog, noun);
    else if (want < 0 && nnames < 1)
        fprintf(stderr, "%s: expects at least one %s name\n", c->prog, noun);
    else
        return 0;
    return 2;
}

rd_kafka_AdminOptions_t *sesp_cli_admin_options(const sesp_cli_common *c, rd_kafka_t *rk, rd_kafka_admin_op_t op)
{
    char errstr[256];
    rd_kafka_AdminOptions_t *o = rd_kafka_AdminOptions_new(rk, op);
    if (!o) {
        fprintf(stderr, "%s: out of memory\n", c->prog);
        return NULL;
    }
    rd_kafka_AdminOptions_set_request_timeout(o, c->timeout_ms, errstr, sizeof errstr);
    /* Only these calls carry an operation timeout: how long the controller waits for the change. */
    if (op == RD_KAFKA_ADMIN_OP_CREATETOPICS || op == RD_KAFKA_ADMIN_OP_DELETETOPICS ||
        op == RD_KAFKA_ADMIN_OP_CREATEPARTITIONS)
        rd_kafka_AdminOptions_set_operation_timeout(o, c->timeout_ms, errstr, sizeof errstr);
    return o;
}

rd_kafka_event_t *sesp_cli_wait_result(const sesp_cli_common *c, rd_kafka_queue_t *q)
{
    /* librdkafka enforces the request timeout itself; the margin only guards against a lost event. */
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, c->timeout_ms + 5000);
    if (!ev) {
        fprintf(stderr, "%s: no answer within %d ms\n", c->prog, c->timeout_ms);
        return NULL;
    }
    if (rd_kafka_event_error(ev)) {
        fprintf(stderr, "%s: %s\n", c->prog, rd_kafka_event_error_string(ev));
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    return ev;
}

int sesp_cli_one_topic(const sesp_cli_common *c, void (*usage)(FILE *), int argc, char **argv, const char **topic)
{
    if (c->help) {
        usage(stdout);
        return 0;
    }
    if (argc - optind != 1) {
        fprintf(stderr, "%s: expects exactly one TOPIC (see --help)\n", c->prog);
        return 2;
    }
    *topic = argv[optind];
    return -1;
}
