/*
 * `sesp produce TOPIC`: one record per stdin line (the trailing '\n' is not
 * part of the record; other bytes, NULs included, are kept as they are), with
 * an optional key split at the first --key-separator and static -H headers.
 * Waits for every delivery report; exit 1 and a count if any failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_common.h"

#define MAX_HEADERS 64

enum {
    OPT_KEY_SEP = SESP_CLI_OPT_FIRST_COMMAND_OPT,
    OPT_PARTITION,
    OPT_COMPRESSION,
    OPT_ACKS,
    OPT_IDEMPOTENT,
};

typedef struct produce_state {
    sesp_cli_common c;
    long delivered, failed;
    char first_error[512];
} produce_state;

static void usage(FILE *f)
{
    fprintf(f, "usage: sesp produce TOPIC [OPTIONS] < lines\n"
               "\n"
               "Produces one record per line of stdin.\n"
               "\n"
               "Options:\n"
               "  -K, --key-separator SEP           split each line into key and value at the first SEP\n"
               "                                    (a line without SEP gets a null key)\n"
               "  -H, --header K=V                  add a header to every record (repeatable)\n"
               "  -p, --partition N                 produce to partition N (default: the partitioner)\n"
               "  -z, --compression CODEC           none|gzip|snappy|lz4|zstd (default none)\n"
               "      --acks 0|1|all                (default all)\n"
               "      --idempotent                  enable the idempotent producer\n"
               SESP_CLI_COMMON_HELP
               "\n"
               "Prints nothing on success unless -v; exits 1 if any record was not delivered.\n");
}

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    produce_state *s = opaque;
    (void)rk;
    if (!m->err) {
        s->delivered++;
        return;
    }
    if (!s->failed++)
        snprintf(s->first_error, sizeof s->first_error, "%s", rd_kafka_err2str(m->err));
    if (s->c.verbose)
        fprintf(stderr, "%s: delivery failed: %s\n", s->c.prog, rd_kafka_err2str(m->err));
}

int sesp_cli_produce_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        SESP_CLI_COMMON_LONGOPTS,
        {"key-separator", required_argument, NULL, 'K'},
        {"header", required_argument, NULL, 'H'},
        {"partition", required_argument, NULL, 'p'},
        {"compression", required_argument, NULL, 'z'},
        {"acks", required_argument, NULL, OPT_ACKS},
        {"idempotent", no_argument, NULL, OPT_IDEMPOTENT},
        {NULL, 0, NULL, 0},
    };
    produce_state s;
    memset(&s, 0, sizeof s);
    int rc = 1, opt;
    const char *key_sep = NULL, *topic = NULL;
    int64_t partition = RD_KAFKA_PARTITION_UA;
    rd_kafka_t *rk = NULL;
    rd_kafka_headers_t *hdrs = NULL;
    char *line = NULL;
    size_t cap = 0;

    if (sesp_cli_common_init(&s.c, "sesp produce"))
        goto out;
    /* Defaults a CLI wants; -X given later overrides them. */
    if (sesp_cli_set(&s.c, "message.timeout.ms", "30000") || sesp_cli_set(&s.c, "linger.ms", "5"))
        goto out;
    if (!(hdrs = rd_kafka_headers_new(8)))
        goto out;

    while ((opt = sesp_cli_next_opt(&s.c, argc, argv, SESP_CLI_COMMON_SHORTOPTS "K:H:p:z:", longopts)) != -1) {
        switch (opt) {
        case SESP_CLI_OPT_FAIL:
            rc = 2;
            goto out;
        case 'K':
            if (!*optarg) {
                fprintf(stderr, "%s: --key-separator must not be empty\n", s.c.prog);
                rc = 2;
                goto out;
            }
            key_sep = optarg;
            break;
        case 'H': {
            size_t klen;
            const char *val = sesp_cli_split_kv(optarg, &klen);
            if (!val) {
                fprintf(stderr, "%s: --header expects K=V, got '%s'\n", s.c.prog, optarg);
                rc = 2;
                goto out;
            }
            if (rd_kafka_header_cnt(hdrs) >= MAX_HEADERS) {
                fprintf(stderr, "%s: too many headers (max %d)\n", s.c.prog, MAX_HEADERS);
                rc = 2;
                goto out;
            }
            rd_kafka_header_add(hdrs, optarg, (ssize_t)klen, val, (ssize_t)strlen(val));
            break;
        }
        case 'p':
            if (sesp_cli_parse_i64(optarg, 0, INT32_MAX, &partition)) {
                fprintf(stderr, "%s: --partition expects a number >= 0, got '%s'\n", s.c.prog, optarg);
                rc = 2;
                goto out;
            }
            break;
        case 'z':
            if (strcmp(optarg, "none") && strcmp(optarg, "gzip") && strcmp(optarg, "snappy") &&
                strcmp(optarg, "lz4") && strcmp(optarg, "zstd")) {
                fprintf(stderr, "%s: --compression expects none|gzip|snappy|lz4|zstd, got '%s'\n", s.c.prog, optarg);
                rc = 2;
                goto out;
            }
            if (sesp_cli_set(&s.c, "compression.codec", optarg)) {
                rc = 2;
                goto out;
            }
            break;
        case OPT_ACKS:
            if (strcmp(optarg, "0") && strcmp(optarg, "1") && strcmp(optarg, "all") && strcmp(optarg, "-1")) {
                fprintf(stderr, "%s: --acks expects 0|1|all, got '%s'\n", s.c.prog, optarg);
                rc = 2;
                goto out;
            }
            if (sesp_cli_set(&s.c, "acks", !strcmp(optarg, "all") ? "-1" : optarg)) {
                rc = 2;
                goto out;
            }
            break;
        case OPT_IDEMPOTENT:
            if (sesp_cli_set(&s.c, "enable.idempotence", "true")) {
                rc = 2;
                goto out;
            }
            break;
        }
    }
    if ((rc = sesp_cli_one_topic(&s.c, usage, argc, argv, &topic)) >= 0)
        goto out;
    rc = 1;

    rd_kafka_conf_set_dr_msg_cb(s.c.conf, dr_cb);
    if (!(rk = sesp_cli_client_new(&s.c, RD_KAFKA_PRODUCER)))
        goto out;
    /* The opaque of the delivery callback is the client opaque, which is &s.c == &s. */
    sesp_cli_trap_signals();

    ssize_t n;
    size_t sep_len = key_sep ? strlen(key_sep) : 0;
    while (!sesp_cli_stop && (n = getline(&line, &cap, stdin)) != -1) {
        size_t len = (size_t)n;
        if (len && line[len - 1] == '\n')
            len--;
        const char *key = NULL, *val = line;
        size_t key_len = 0, val_len = len;
        const char *sep = key_sep ? sesp_cli_find_sep(line, len, key_sep, sep_len) : NULL;
        if (sep) {
            key = line;
            key_len = (size_t)(sep - line);
            val = sep + sep_len;
            val_len = len - key_len - sep_len;
        }
        rd_kafka_headers_t *mh = rd_kafka_header_cnt(hdrs) ? rd_kafka_headers_copy(hdrs) : NULL;
        for (;;) {
            rd_kafka_resp_err_t err = rd_kafka_producev(
                rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION((int32_t)partition),
                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY(key, key_len),
                RD_KAFKA_V_VALUE((void *)val, val_len), RD_KAFKA_V_HEADERS(mh), RD_KAFKA_V_END);
            if (!err)
                break;  /* the message owns mh now */
            if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL && !sesp_cli_stop) {
                rd_kafka_poll(rk, 100);
                continue;
            }
            if (mh)
                rd_kafka_headers_destroy(mh);
            /* One bad line (e.g. too large) does not stop the rest; the summary counts it. */
            if (!s.failed++)
                snprintf(s.first_error, sizeof s.first_error, "%s", rd_kafka_err2str(err));
            if (s.failed == 1 || s.c.verbose)
                fprintf(stderr, "%s: cannot produce to %s: %s\n", s.c.prog, topic, rd_kafka_err2str(err));
            break;
        }
        rd_kafka_poll(rk, 0);
    }
    if (ferror(stdin)) {
        perror("sesp produce: reading stdin");
        rc = 1;
    }
    /* Every record either gets delivered or fails after message.timeout.ms: this loop is bounded. */
    while (rd_kafka_outq_len(rk) > 0)
        rd_kafka_flush(rk, 1000);
    if (s.failed) {
        fprintf(stderr, "%s: %ld of %ld records not delivered to %s%s%s\n", s.c.prog, s.failed,
                s.failed + s.delivered, topic, s.first_error[0] ? ": " : "", s.first_error);
        rc = 1;
    } else if (s.c.verbose) {
        fprintf(stderr, "%s: %ld records delivered to %s\n", s.c.prog, s.delivered, topic);
    }
    if (!s.failed && !ferror(stdin))
        rc = 0;
out:
    free(line);
    if (hdrs)
        rd_kafka_headers_destroy(hdrs);
    if (rk)
        rd_kafka_destroy(rk);
    sesp_cli_common_destroy(&s.c);
    return rc;
}
