/*
 * `sesp consume TOPIC`: prints records to stdout through a --format template.
 * Without --group it reads the chosen partitions directly (librdkafka's
 * simple consumer, no group, no commits) from an explicit start: end (the
 * default), beginning, an absolute/tail offset or the first record at or
 * after a timestamp.  With --group it subscribes as a group member and
 * starts from the committed offsets.  -e stops once every assigned partition
 * has reported end-of-partition.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_common.h"
#include "format.h"

enum {
    OPT_FROM_BEGINNING = SESP_CLI_OPT_FIRST_COMMAND_OPT,
    OPT_OFFSET,
    OPT_TIMESTAMP,
};

enum { P_UNASSIGNED = 0, P_READING, P_AT_END };

typedef struct consume_state {
    sesp_cli_common c;
    const char *topic;
    sesp_cli_fmt *fmt;
    int exit_at_end;
    int64_t max_count;     /* -1: unbounded */
    int64_t printed;
    /* Per partition id: P_*; the group rebalance callback and the simple path fill it. */
    unsigned char *pstate;
    int32_t pcap;
    int32_t assigned, at_end;
    sesp_cli_hdr *hdrs;    /* scratch for one record's headers */
    size_t hdr_cap;
    int failed;
} consume_state;

static void usage(FILE *f)
{
    fprintf(f, "usage: sesp consume TOPIC [OPTIONS]\n"
               "\n"
               "Options:\n"
               "      --from-beginning              start at the earliest offset (default: the end)\n"
               "  -o, --offset N                    start at offset N of each partition (-N: N before the end)\n"
               "      --timestamp MS                start at the first record with timestamp >= MS\n"
               "  -p, --partition N                 read only partition N\n"
               "  -e, --exit                        exit once every partition reached its end\n"
               "  -c, --count N                     exit after N records\n"
               "  -g, --group G                     consume as member of group G (committed offsets;\n"
               "                                    --from-beginning applies when none is committed)\n"
               "  -f, --format FMT                  output template (default '%%s\\n'):\n"
               "                                    %%s value  %%k key  %%h headers k=v,k=v  %%p partition\n"
               "                                    %%o offset  %%T timestamp ms  %%t topic  %%S/%%K value/key\n"
               "                                    size  %%%% percent  \\n \\t \\r \\0 \\\\ escapes\n"
               SESP_CLI_COMMON_HELP);
}

static int pstate_grow(consume_state *s, int32_t p)
{
    if (p < s->pcap)
        return 0;
    int32_t ncap = p + 1 > s->pcap * 2 ? p + 1 : s->pcap * 2;
    unsigned char *n = realloc(s->pstate, (size_t)ncap);
    if (!n)
        return -1;
    memset(n + s->pcap, P_UNASSIGNED, (size_t)(ncap - s->pcap));
    s->pstate = n;
    s->pcap = ncap;
    return 0;
}

static void pstate_set(consume_state *s, int32_t p, unsigned char st)
{
    if (p < 0 || pstate_grow(s, p))
        return;
    unsigned char old = s->pstate[p];
    s->assigned += (st != P_UNASSIGNED) - (old != P_UNASSIGNED);
    s->at_end += (st == P_AT_END) - (old == P_AT_END);
    s->pstate[p] = st;
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    consume_state *s = opaque;
    int assign = err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS;
    int cooperative = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
    for (int i = 0; i < parts->cnt; i++)
        pstate_set(s, parts->elems[i].partition, assign ? P_READING : P_UNASSIGNED);
    if (s->c.verbose)
        fprintf(stderr, "%s: %s %d partition(s)\n", s->c.prog, assign ? "assigned" : "revoked", parts->cnt);
    rd_kafka_error_t *e = NULL;
    if (cooperative)
        e = assign ? rd_kafka_incremental_assign(rk, parts) : rd_kafka_incremental_unassign(rk, parts);
    else if (rd_kafka_assign(rk, assign ? parts : NULL))
        fprintf(stderr, "%s: assignment failed\n", s->c.prog);
    if (e) {
        fprintf(stderr, "%s: assignment failed: %s\n", s->c.prog, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
    }
}

/* Prints one record; 0 or -1 when stdout is gone. */
static int print_record(consume_state *s, const rd_kafka_message_t *m)
{
    rd_kafka_headers_t *h = NULL;
    size_t nh = 0;
    if (!rd_kafka_message_headers(m, &h) && h) {
        nh = rd_kafka_header_cnt(h);
        if (nh > s->hdr_cap) {
            sesp_cli_hdr *n = realloc(s->hdrs, nh * sizeof *n);
            if (!n) {
                fprintf(stderr, "%s: out of memory\n", s->c.prog);
                return -1;
            }
            s->hdrs = n;
            s->hdr_cap = nh;
        }
        for (size_t i = 0; i < nh; i++) {
            const void *v;
            size_t vl;
            if (rd_kafka_header_get_all(h, i, &s->hdrs[i].name, &v, &vl)) {
                nh = i;
                break;
            }
            s->hdrs[i].value = v;
            s->hdrs[i].value_len = vl;
        }
    }
    rd_kafka_timestamp_type_t tstype;
    sesp_cli_record r = {
        .topic = rd_kafka_topic_name(m->rkt),
        .partition = m->partition,
        .offset = m->offset,
        .timestamp = rd_kafka_message_timestamp(m, &tstype),
        .key = m->key,
        .key_len = m->key_len,
        .value = m->payload,
        .value_len = m->len,
        .headers = s->hdrs,
        .header_cnt = nh,
    };
    if (sesp_cli_fmt_write(s->fmt, &r, stdout)) {
        perror("sesp consume: writing stdout");
        return -1;
    }
    return 0;
}

/* Handles one event from the queue; returns 1 to stop, 0 to go on. */
static int handle(consume_state *s, const rd_kafka_message_t *m)
{
    if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
        if (s->c.verbose)
            fprintf(stderr, "%s: reached end of %s [%d] at offset %lld\n", s->c.prog,
                    m->rkt ? rd_kafka_topic_name(m->rkt) : "?", m->partition, (long long)m->offset);
        if (m->partition >= 0 && m->partition < s->pcap && s->pstate[m->partition] != P_UNASSIGNED)
            pstate_set(s, m->partition, P_AT_END);
        return s->exit_at_end && s->assigned > 0 && s->at_end == s->assigned;
    }
    if (m->err) {
        const char *msg = rd_kafka_message_errstr(m);
        fprintf(stderr, "%s: %s%s%s [%d]: %s\n", s->c.prog, rd_kafka_err2name(m->err), m->rkt ? " " : "",
                m->rkt ? rd_kafka_topic_name(m->rkt) : "", m->partition, msg);
        /* Errors librdkafka does not retry by itself end the run. */
        if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || m->err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION ||
            m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC || m->err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
            m->err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED || m->err == RD_KAFKA_RESP_ERR__FATAL ||
            m->err == RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE || m->err == RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION) {
            s->failed = 1;
            return 1;
        }
        return 0;
    }
    if (m->partition >= 0 && m->partition < s->pcap && s->pstate[m->partition] == P_AT_END)
        pstate_set(s, m->partition, P_READING);
    if (print_record(s, m)) {
        s->failed = 1;
        return 1;
    }
    s->printed++;
    return s->max_count >= 0 && s->printed >= s->max_count;
}

/* Start offsets for the simple consumer; NULL after printing. */
static rd_kafka_topic_partition_list_t *start_list(consume_state *s, rd_kafka_t *rk, rd_kafka_topic_t *rkt,
                                                   int64_t only_partition, int64_t start, int by_time)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_topic_partition_list_t *list = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 0, rkt, &md, s->c.timeout_ms);
    if (err) {
        fprintf(stderr, "%s: metadata of %s: %s\n", s->c.prog, s->topic, rd_kafka_err2str(err));
        goto fail;
    }
    if (md->topic_cnt != 1 || md->topics[0].err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
        fprintf(stderr, "%s: topic %s does not exist\n", s->c.prog, s->topic);
        goto fail;
    }
    const struct rd_kafka_metadata_topic *t = &md->topics[0];
    if (t->err && t->partition_cnt == 0) {
        fprintf(stderr, "%s: topic %s: %s\n", s->c.prog, s->topic, rd_kafka_err2str(t->err));
        goto fail;
    }
    list = rd_kafka_topic_partition_list_new(t->partition_cnt);
    for (int i = 0; i < t->partition_cnt; i++)
        if (only_partition < 0 || t->partitions[i].id == only_partition)
            rd_kafka_topic_partition_list_add(list, s->topic, t->partitions[i].id)->offset = start;
    if (list->cnt == 0) {
        fprintf(stderr, "%s: topic %s has no partition %lld (it has %d)\n", s->c.prog, s->topic,
                (long long)only_partition, t->partition_cnt);
        goto fail;
    }
    if (by_time) {
        /* Each element's offset holds the timestamp going in and the found offset coming out;
           -1 (no record that late) is RD_KAFKA_OFFSET_END, which is what we want. */
        err = rd_kafka_offsets_for_times(rk, list, s->c.timeout_ms);
        if (err) {
            fprintf(stderr, "%s: looking up offsets for timestamp %lld: %s\n", s->c.prog, (long long)start,
                    rd_kafka_err2str(err));
            goto fail;
        }
        for (int i = 0; i < list->cnt; i++) {
            if (list->elems[i].err) {
                fprintf(stderr, "%s: offset for timestamp in %s [%d]: %s\n", s->c.prog, s->topic,
                        list->elems[i].partition, rd_kafka_err2str(list->elems[i].err));
                goto fail;
            }
            if (s->c.verbose)
                fprintf(stderr, "%s: %s [%d] starts at offset %lld\n", s->c.prog, s->topic,
                        list->elems[i].partition, (long long)list->elems[i].offset);
        }
    }
    rd_kafka_metadata_destroy(md);
    return list;
fail:
    if (list)
        rd_kafka_topic_partition_list_destroy(list);
    if (md)
        rd_kafka_metadata_destroy(md);
    return NULL;
}

int sesp_cli_consume_main(int argc, char **argv)
{
    static const struct option longopts[] = {
        SESP_CLI_COMMON_LONGOPTS,
        {"from-beginning", no_argument, NULL, OPT_FROM_BEGINNING},
        {"offset", required_argument, NULL, 'o'},
        {"timestamp", required_argument, NULL, OPT_TIMESTAMP},
        {"partition", required_argument, NULL, 'p'},
        {"exit", no_argument, NULL, 'e'},
        {"count", required_argument, NULL, 'c'},
        {"group", required_argument, NULL, 'g'},
        {"format", required_argument, NULL, 'f'},
        {NULL, 0, NULL, 0},
    };
    consume_state s;
    memset(&s, 0, sizeof s);
    s.max_count = -1;
    int rc = 1, opt, starts = 0, by_time = 0;
    int64_t start = RD_KAFKA_OFFSET_END, partition = -1;
    const char *group = NULL, *format = SESP_CLI_DEFAULT_FORMAT;
    rd_kafka_t *rk = NULL;
    rd_kafka_topic_t *rkt = NULL;
    rd_kafka_queue_t *q = NULL;
    rd_kafka_topic_partition_list_t *list = NULL;
    int started = 0, subscribed = 0;

    if (sesp_cli_common_init(&s.c, "sesp consume"))
        goto out;
    while ((opt = sesp_cli_next_opt(&s.c, argc, argv, SESP_CLI_COMMON_SHORTOPTS "o:p:ec:g:f:", longopts)) != -1) {
        switch (opt) {
        case SESP_CLI_OPT_FAIL:
            rc = 2;
            goto out;
        case OPT_FROM_BEGINNING:
            start = RD_KAFKA_OFFSET_BEGINNING;
            starts++;
            break;
        case 'o':
            if (sesp_cli_parse_i64(optarg, -INT32_MAX, INT64_MAX, &start)) {
                fprintf(stderr, "%s: --offset expects an offset (or -N for N before the end), got '%s'\n",
                        s.c.prog, optarg);
                rc = 2;
                goto out;
            }
            if (start < 0)
                start = RD_KAFKA_OFFSET_TAIL(-start);
            starts++;
            break;
        case OPT_TIMESTAMP:
            if (sesp_cli_parse_i64(optarg, 0, INT64_MAX, &start)) {
                fprintf(stderr, "%s: --timestamp expects milliseconds since the epoch, got '%s'\n", s.c.prog, optarg);
                rc = 2;
                goto out;
            }
            by_time = 1;
            starts++;
            break;
        case 'p':
            if (sesp_cli_parse_i64(optarg, 0, INT32_MAX, &partition)) {
                fprintf(stderr, "%s: --partition expects a number >= 0, got '%s'\n", s.c.prog, optarg);
                rc = 2;
                goto out;
            }
            break;
        case 'e':
            s.exit_at_end = 1;
            break;
        case 'c':
            if (sesp_cli_parse_i64(optarg, 1, INT64_MAX, &s.max_count)) {
                fprintf(stderr, "%s: --count expects a number >= 1, got '%s'\n", s.c.prog, optarg);
                rc = 2;
                goto out;
            }
            break;
        case 'g':
            if (!*optarg) {
                fprintf(stderr, "%s: --group must not be empty\n", s.c.prog);
                rc = 2;
                goto out;
            }
            group = optarg;
            break;
        case 'f':
            format = optarg;
            break;
        }
    }
    if ((rc = sesp_cli_one_topic(&s.c, usage, argc, argv, &s.topic)) >= 0)
        goto out;
    rc = 1;
    if (starts > 1) {
        fprintf(stderr, "%s: give at most one of --from-beginning, --offset, --timestamp\n", s.c.prog);
        rc = 2;
        goto out;
    }
    if (group && (partition >= 0 || start >= 0 || by_time || start <= RD_KAFKA_OFFSET_TAIL_BASE)) {
        fprintf(stderr, "%s: --group starts at the committed offsets: --offset, --timestamp and --partition "
                        "need the group-less mode\n", s.c.prog);
        rc = 2;
        goto out;
    }
    char errbuf[256];
    if (sesp_cli_fmt_compile(format, &s.fmt, errbuf, sizeof errbuf)) {
        fprintf(stderr, "%s: --format: %s\n", s.c.prog, errbuf);
        rc = 2;
        goto out;
    }
    if (s.exit_at_end && sesp_cli_set(&s.c, "enable.partition.eof", "true"))
        goto out;
    if (group) {
        if (sesp_cli_set(&s.c, "group.id", group) ||
            sesp_cli_set(&s.c, "auto.offset.reset", start == RD_KAFKA_OFFSET_BEGINNING ? "earliest" : "latest"))
            goto out;
        rd_kafka_conf_set_rebalance_cb(s.c.conf, rebalance_cb);
    } else {
        /* No group to commit to. */
        if (sesp_cli_set(&s.c, "enable.auto.commit", "false") || sesp_cli_set(&s.c, "auto.commit.enable", "false"))
            goto out;
    }

    /* The rebalance callback's opaque is the client opaque, &s.c == &s. */
    if (!(rk = sesp_cli_client_new(&s.c, RD_KAFKA_CONSUMER)))
        goto out;
    sesp_cli_trap_signals();

    if (group) {
        rd_kafka_poll_set_consumer(rk);
        list = rd_kafka_topic_partition_list_new(1);
        rd_kafka_topic_partition_list_add(list, s.topic, RD_KAFKA_PARTITION_UA);
        rd_kafka_resp_err_t err = rd_kafka_subscribe(rk, list);
        if (err) {
            fprintf(stderr, "%s: subscribe to %s: %s\n", s.c.prog, s.topic, rd_kafka_err2str(err));
            goto out;
        }
        subscribed = 1;
    } else {
        if (!(rkt = rd_kafka_topic_new(rk, s.topic, NULL))) {
            fprintf(stderr, "%s: %s\n", s.c.prog, rd_kafka_err2str(rd_kafka_last_error()));
            goto out;
        }
        if (!(list = start_list(&s, rk, rkt, partition, start, by_time)))
            goto out;
        q = rd_kafka_queue_new(rk);
        for (int i = 0; i < list->cnt; i++) {
            if (rd_kafka_consume_start_queue(rkt, list->elems[i].partition, list->elems[i].offset, q) == -1) {
                fprintf(stderr, "%s: cannot start %s [%d]: %s\n", s.c.prog, s.topic, list->elems[i].partition,
                        rd_kafka_err2str(rd_kafka_last_error()));
                goto out;
            }
            started = i + 1;
            pstate_set(&s, list->elems[i].partition, P_READING);
        }
    }

    int stop = 0;
    while (!stop && !sesp_cli_stop) {
        rd_kafka_message_t *m = group ? rd_kafka_consumer_poll(rk, 200) : rd_kafka_consume_queue(q, 200);
        if (!m) {
            fflush(stdout); /* idle: let a pipe reader see what we have */
            continue;
        }
        stop = handle(&s, m);
        rd_kafka_message_destroy(m);
    }
    if (fflush(stdout)) {
        perror("sesp consume: writing stdout");
        s.failed = 1;
    }
    if (s.c.verbose)
        fprintf(stderr, "%s: %lld records\n", s.c.prog, (long long)s.printed);
    rc = s.failed ? 1 : 0;
out:
    for (int i = 0; i < started; i++)
        rd_kafka_consume_stop(rkt, list->elems[i].partition);
    if (subscribed)
        rd_kafka_consumer_close(rk);
    if (list)
        rd_kafka_topic_partition_list_destroy(list);
    if (q)
        rd_kafka_queue_destroy(q);
    if (rkt)
        rd_kafka_topic_destroy(rkt);
    if (rk)
        rd_kafka_destroy(rk);
    sesp_cli_fmt_free(s.fmt);
    free(s.pstate);
    free(s.hdrs);
    sesp_cli_common_destroy(&s.c);
    return rc;
}
