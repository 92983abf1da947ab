/*
 * `sesp group list|describe|delete|reset-offsets`: consumer group
 * administration over librdkafka 2.0.2's Admin API (ListConsumerGroups,
 * DescribeConsumerGroups, ListConsumerGroupOffsets, AlterConsumerGroupOffsets,
 * DeleteGroups, DeleteConsumerGroupOffsets) plus watermark and time lookups
 * for lag and offset resets.  reset-offsets is a dry run unless --execute, and
 * like Kafka's kafka-consumer-groups tool it refuses to touch a group that
 * has members, whose next commit would silently undo the reset.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_common.h"
#include "group_cli.h"

#define MAX_TOPICS 64

enum reset_mode { RESET_NONE, RESET_EARLIEST, RESET_LATEST, RESET_OFFSET, RESET_DATETIME };

typedef struct group_args {
    sesp_cli_common c;
    const char *topics[MAX_TOPICS]; /* "T" or "T:p,p,..." */
    int ntopics;
    enum reset_mode mode;
    int64_t value;                  /* --to-offset N / --to-datetime MS */
    int execute;
    char **names;
    int nnames;
} group_args;

enum {
    OPT_TOPIC = SESP_CLI_OPT_FIRST_COMMAND_OPT,
    OPT_EARLIEST,
    OPT_LATEST,
    OPT_TO_OFFSET,
    OPT_TO_DATETIME,
    OPT_EXECUTE,
};

static void usage(FILE *f)
{
    fprintf(f, "usage: sesp group list\n"
               "       sesp group describe GROUP\n"
               "       sesp group delete GROUP... | delete GROUP --topic T[:P,P...]\n"
               "       sesp group reset-offsets GROUP --topic T[:P,P...] (--to-earliest|--to-latest|\n"
               "                                --to-offset N|--to-datetime MS) [--execute]\n"
               "\n"
               "describe prints the members with their assignments and, per partition, the\n"
               "committed offset, the log end offset and the lag.  delete with --topic deletes\n"
               "only that topic's committed offsets.  reset-offsets prints the plan and changes\n"
               "nothing unless --execute; it fails while the group has active members.\n"
               "\n"
               "Options:\n"
               "      --topic T[:P,P...]           topic (optionally only these partitions); repeatable\n"
               "      --to-earliest                reset to each partition's log start offset\n"
               "      --to-latest                  reset to each partition's log end offset\n"
               "      --to-offset N                reset to N (clamped into [log start, log end])\n"
               "      --to-datetime MS             reset to the first record with timestamp >= MS\n"
               "                                   (epoch milliseconds; log end if there is none)\n"
               "      --execute                    (reset-offsets) commit the new offsets\n"
               SESP_CLI_COMMON_HELP);
}

/* Returns 0 to go on, or an exit code + 1. */
static int parse(group_args *a, int argc, char **argv)
{
    static const struct option longopts[] = {
        SESP_CLI_COMMON_LONGOPTS,
        {"topic", required_argument, NULL, OPT_TOPIC},
        {"to-earliest", no_argument, NULL, OPT_EARLIEST},
        {"to-latest", no_argument, NULL, OPT_LATEST},
        {"to-offset", required_argument, NULL, OPT_TO_OFFSET},
        {"to-datetime", required_argument, NULL, OPT_TO_DATETIME},
        {"execute", no_argument, NULL, OPT_EXECUTE},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = sesp_cli_next_opt(&a->c, argc, argv, SESP_CLI_COMMON_SHORTOPTS, longopts)) != -1) {
        enum reset_mode m = RESET_NONE;
        switch (opt) {
        case SESP_CLI_OPT_FAIL:
            return 2 + 1;
        case OPT_TOPIC:
            if (!*optarg || *optarg == ':') {
                fprintf(stderr, "%s: --topic expects a topic name\n", a->c.prog);
                return 2 + 1;
            }
            if (a->ntopics == MAX_TOPICS) {
                fprintf(stderr, "%s: too many --topic options (max %d)\n", a->c.prog, MAX_TOPICS);
                return 2 + 1;
            }
            a->topics[a->ntopics++] = optarg;
            break;
        case OPT_EARLIEST:
            m = RESET_EARLIEST;
            break;
        case OPT_LATEST:
            m = RESET_LATEST;
            break;
        case OPT_TO_OFFSET:
        case OPT_TO_DATETIME:
            m = opt == OPT_TO_OFFSET ? RESET_OFFSET : RESET_DATETIME;
            if (sesp_cli_parse_i64(optarg, 0, INT64_MAX, &a->value)) {
                fprintf(stderr, "%s: %s expects a number >= 0, got '%s'\n", a->c.prog,
                        opt == OPT_TO_OFFSET ? "--to-offset" : "--to-datetime", optarg);
                return 2 + 1;
            }
            break;
        case OPT_EXECUTE:
            a->execute = 1;
            break;
        }
        if (m != RESET_NONE) {
            if (a->mode != RESET_NONE) {
                fprintf(stderr, "%s: give only one of --to-earliest, --to-latest, --to-offset, --to-datetime\n",
                        a->c.prog);
                return 2 + 1;
            }
            a->mode = m;
        }
    }
    if (a->c.help) {
        usage(stdout);
        return 0 + 1;
    }
    a->names = argv + optind;
    a->nnames = argc - optind;
    return 0;
}

static const char *or_dash(const char *s)
{
    return s && *s ? s : "-";
}

/* Prints a group result's error or its partitions' errors; 0 if there were none. */
static int group_result_errors(group_args *a, const rd_kafka_group_result_t *gr, const char *what)
{
    int rc = 0;
    const rd_kafka_error_t *err = rd_kafka_group_result_error(gr);
    if (err) {
        fprintf(stderr, "%s: %s group %s: %s (%s)\n", a->c.prog, what, rd_kafka_group_result_name(gr),
                rd_kafka_error_string(err), rd_kafka_error_name(err));
        return 1;
    }
    const rd_kafka_topic_partition_list_t *parts = rd_kafka_group_result_partitions(gr);
    for (int i = 0; parts && i < parts->cnt; i++) {
        const rd_kafka_topic_partition_t *p = &parts->elems[i];
        if (p->err) {
            fprintf(stderr, "%s: %s group %s, %s [%" PRId32 "]: %s (%s)\n", a->c.prog, what,
                    rd_kafka_group_result_name(gr), p->topic, p->partition, rd_kafka_err2str(p->err),
                    rd_kafka_err2name(p->err));
            rc = 1;
        }
    }
    return rc;
}

static int cmd_list(group_args *a, rd_kafka_t *rk, rd_kafka_queue_t *q)
{
    int rc = 1;
    rd_kafka_event_t *ev = NULL;
    rd_kafka_AdminOptions_t *o = sesp_cli_admin_options(&a->c, rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPS);
    if (!o)
        return 1;
    rd_kafka_ListConsumerGroups(rk, o, q);
    if (!(ev = sesp_cli_wait_result(&a->c, q)))
        goto out;
    const rd_kafka_ListConsumerGroups_result_t *res = rd_kafka_event_ListConsumerGroups_result(ev);
    size_t nerr, n;
    const rd_kafka_error_t **errs = rd_kafka_ListConsumerGroups_result_errors(res, &nerr);
    for (size_t i = 0; i < nerr; i++)
        fprintf(stderr, "%s: %s (%s)\n", a->c.prog, rd_kafka_error_string(errs[i]), rd_kafka_error_name(errs[i]));
    const rd_kafka_ConsumerGroupListing_t **groups = rd_kafka_ListConsumerGroups_result_valid(res, &n);
    int width = 5;
    for (size_t i = 0; i < n; i++) {
        int l = (int)strlen(rd_kafka_ConsumerGroupListing_group_id(groups[i]));
        if (l > width)
            width = l;
    }
    printf("%-*s %-19s %s\n", width, "GROUP", "STATE", "TYPE");
    for (size_t i = 0; i < n; i++)
        printf("%-*s %-19s %s\n", width, or_dash(rd_kafka_ConsumerGroupListing_group_id(groups[i])),
               rd_kafka_consumer_group_state_name(rd_kafka_ConsumerGroupListing_state(groups[i])),
               rd_kafka_ConsumerGroupListing_is_simple_consumer_group(groups[i]) ? "simple" : "consumer");
    rc = nerr ? 1 : 0;
out:
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(o);
    return rc;
}

/* DescribeConsumerGroups of one group: *evp keeps the answer alive; NULL after printing on error. */
static const rd_kafka_ConsumerGroupDescription_t *describe_one(group_args *a, rd_kafka_t *rk, rd_kafka_queue_t *q,
                                                               const char *group, rd_kafka_event_t **evp)
{
    *evp = NULL;
    rd_kafka_AdminOptions_t *o = sesp_cli_admin_options(&a->c, rk, RD_KAFKA_ADMIN_OP_DESCRIBECONSUMERGROUPS);
    if (!o)
        return NULL;
    const char *groups[1] = {group};
    rd_kafka_DescribeConsumerGroups(rk, groups, 1, o, q);
    rd_kafka_AdminOptions_destroy(o);
    rd_kafka_event_t *ev = sesp_cli_wait_result(&a->c, q);
    if (!ev)
        return NULL;
    size_t n;
    const rd_kafka_ConsumerGroupDescription_t **d =
        rd_kafka_DescribeConsumerGroups_result_groups(rd_kafka_event_DescribeConsumerGroups_result(ev), &n);
    if (n != 1) {
        fprintf(stderr, "%s: expected one group description, got %zu\n", a->c.prog, n);
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    const rd_kafka_error_t *err = rd_kafka_ConsumerGroupDescription_error(d[0]);
    if (err) {
        fprintf(stderr, "%s: group %s: %s (%s)\n", a->c.prog, group, rd_kafka_error_string(err),
                rd_kafka_error_name(err));
        rd_kafka_event_destroy(ev);
        return NULL;
    }
    *evp = ev;
    return d[0];
}

/* The group's committed offsets (all partitions); NULL after printing on error. */
static rd_kafka_topic_partition_list_t *committed_offsets(group_args *a, rd_kafka_t *rk, rd_kafka_queue_t *q,
                                                          const char *group)
{
    rd_kafka_topic_partition_list_t *out = NULL;
    rd_kafka_event_t *ev = NULL;
    rd_kafka_AdminOptions_t *o = sesp_cli_admin_options(&a->c, rk, RD_KAFKA_ADMIN_OP_LISTCONSUMERGROUPOFFSETS);
    if (!o)
        return NULL;
    rd_kafka_ListConsumerGroupOffsets_t *req = rd_kafka_ListConsumerGroupOffsets_new(group, NULL);
    rd_kafka_ListConsumerGroupOffsets(rk, &req, 1, o, q);
    rd_kafka_ListConsumerGroupOffsets_destroy(req);
    if (!(ev = sesp_cli_wait_result(&a->c, q)))
        goto out;
    size_t n;
    const rd_kafka_group_result_t **gr =
        rd_kafka_ListConsumerGroupOffsets_result_groups(rd_kafka_event_ListConsumerGroupOffsets_result(ev), &n);
    if (n != 1 || group_result_errors(a, gr[0], "offsets of"))
        goto out;
    const rd_kafka_topic_partition_list_t *parts = rd_kafka_group_result_partitions(gr[0]);
    out = parts ? rd_kafka_topic_partition_list_copy(parts) : rd_kafka_topic_partition_list_new(0);
out:
    if (ev)
        rd_kafka_event_destroy(ev);
    rd_kafka_AdminOptions_destroy(o);
    return out;
}

/* The member owning topic/partition in the description, or NULL. */
static const rd_kafka_MemberDescription_t *owner_of(const rd_kafka_ConsumerGroupDescription_t *d, const char *topic,
                                                    int32_t partition)
{
    size_t nm = rd_kafka_ConsumerGroupDescription_member_count(d);
    for (size_t i = 0; i < nm; i++) {
        const rd_kafka_MemberDescription_t *m = rd_kafka_ConsumerGroupDescription_member(d, i);
        const rd_kafka_MemberAssignment_t *as = rd_kafka_MemberDescription_assignment(m);
        const rd_kafka_topic_partition_list_t *pl = as ? rd_kafka_MemberAssignment_partitions(as) : NULL;
        if (pl && rd_kafka_topic_partition_list_find(pl, topic, partition))
            return m;
    }
    return NULL;
}

static int cmd_describe(group_args *a, rd_kafka_t *rk, rd_kafka_queue_t *q)
{
    const char *group = a->names[0];
    int rc = 1;
    rd_kafka_event_t *dev = NULL;
    rd_kafka_topic_partition_list_t *offs = NULL, *all = NULL;
    const rd_kafka_ConsumerGroupDescription_t *d = describe_one(a, rk, q, group, &dev);
    if (!d)
        goto out;
    if (!(offs = committed_offsets(a, rk, q, group)))
        goto out;
    rd_kafka_consumer_group_state_t st = rd_kafka_ConsumerGroupDescription_state(d);
    size_t nm = rd_kafka_ConsumerGroupDescription_member_count(d);
    if (st == RD_KAFKA_CONSUMER_GROUP_STATE_DEAD && nm == 0 && offs->cnt == 0) {
        fprintf(stderr, "%s: consumer group %s does not exist\n", a->c.prog, group);
        goto out;
    }
    const rd_kafka_Node_t *coord = rd_kafka_ConsumerGroupDescription_coordinator(d);
    printf("GROUP %s\nSTATE %s\nASSIGNOR %s\n", group, rd_kafka_consumer_group_state_name(st),
           or_dash(rd_kafka_ConsumerGroupDescription_partition_assignor(d)));
    if (coord)
        printf("COORDINATOR %d %s:%u\n", rd_kafka_Node_id(coord), or_dash(rd_kafka_Node_host(coord)),
               (unsigned)rd_kafka_Node_port(coord));
    printf("MEMBERS %zu\n", nm);

    /* Every partition worth a row: committed ones and assigned ones. */
    all = rd_kafka_topic_partition_list_copy(offs);
    if (nm) {
        printf("\n%-50s %-20s %-16s %-20s %s\n", "MEMBER-ID", "CLIENT-ID", "HOST", "INSTANCE-ID", "ASSIGNMENT");
        for (size_t i = 0; i < nm; i++) {
            const rd_kafka_MemberDescription_t *m = rd_kafka_ConsumerGroupDescription_member(d, i);
            printf("%-50s %-20s %-16s %-20s ", or_dash(rd_kafka_MemberDescription_consumer_id(m)),
                   or_dash(rd_kafka_MemberDescription_client_id(m)), or_dash(rd_kafka_MemberDescription_host(m)),
                   or_dash(rd_kafka_MemberDescription_group_instance_id(m)));
            const rd_kafka_MemberAssignment_t *as = rd_kafka_MemberDescription_assignment(m);
            const rd_kafka_topic_partition_list_t *pl = as ? rd_kafka_MemberAssignment_partitions(as) : NULL;
            if (!pl || pl->cnt == 0)
                printf("-");
            for (int j = 0; pl && j < pl->cnt; j++) {
                printf("%s%s:%" PRId32, j ? "," : "", pl->elems[j].topic, pl->elems[j].partition);
                if (!rd_kafka_topic_partition_list_find(all, pl->elems[j].topic, pl->elems[j].partition))
                    rd_kafka_topic_partition_list_add(all, pl->elems[j].topic, pl->elems[j].partition)->offset =
                        RD_KAFKA_OFFSET_INVALID;
            }
            printf("\n");
        }
    }
    rd_kafka_topic_partition_list_sort(all, NULL, NULL);
    printf("\n%-30s %-9s %-14s %-14s %-10s %s\n", "TOPIC", "PARTITION", "CURRENT-OFFSET", "LOG-END-OFFSET", "LAG",
           "CONSUMER-ID");
    rc = 0;
    for (int i = 0; i < all->cnt; i++) {
        const rd_kafka_topic_partition_t *p = &all->elems[i];
        int64_t lo = -1, hi = -1;
        rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk, p->topic, p->partition, &lo, &hi,
                                                                   a->c.timeout_ms);
        char cur[24] = "-", end[24] = "-", lag[24] = "-";
        if (p->offset >= 0)
            snprintf(cur, sizeof cur, "%" PRId64, p->offset);
        if (!err) {
            snprintf(end, sizeof end, "%" PRId64, hi);
            /* A committed offset below the log start still has to read from the log start. */
            if (p->offset >= 0)
                snprintf(lag, sizeof lag, "%" PRId64, hi > p->offset ? hi - (p->offset > lo ? p->offset : lo) : 0);
        } else {
            fprintf(stderr, "%s: log end offset of %s [%" PRId32 "]: %s\n", a->c.prog, p->topic, p->partition,
                    rd_kafka_err2str(err));
            rc = 1;
        }
        const rd_kafka_MemberDescription_t *m = owner_of(d, p->topic, p->partition);
        printf("%-30s %-9" PRId32 " %-14s %-14s %-10s %s\n", p->topic, p->partition, cur, end, lag,
               m ? or_dash(rd_kafka_MemberDescription_consumer_id(m)) : "-");
    }
out:
    if (all)
        rd_kafka_topic_partition_list_destroy(all);
    if (offs)
        rd_kafka_topic_partition_list_destroy(offs);
    if (dev)
        rd_kafka_event_destroy(dev);
    return rc;
}

/*
 * Resolves the --topic options into a partition list: "T" means every
 * partition of T (from metadata), "T:0,2" only those.  NULL after printing.
 */
static rd_kafka_topic_partition_list_t *resolve_topics(group_args *a, rd_kafka_t *rk)
{
    rd_kafka_topic_partition_list_t *out = rd_kafka_topic_partition_list_new(16);
    for (int t = 0; t < a->ntopics; t++) {
        const char *spec = a->topics[t];
        const char *colon = strchr(spec, ':');
        char *name = strndup(spec, colon ? (size_t)(colon - spec) : strlen(spec));
        if (!name) {
            fprintf(stderr, "%s: out of memory\n", a->c.prog);
            goto fail;
        }
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, name, NULL);
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_resp_err_t err = rkt ? rd_kafka_metadata(rk, 0, rkt, &md, a->c.timeout_ms)
                                      : rd_kafka_last_error();
        if (rkt)
            rd_kafka_topic_destroy(rkt);
        if (!err && (md->topic_cnt != 1 || md->topics[0].err))
            err = md->topic_cnt == 1 ? md->topics[0].err : RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART;
        if (err) {
            fprintf(stderr, "%s: topic %s: %s\n", a->c.prog, name, rd_kafka_err2str(err));
            if (md)
                rd_kafka_metadata_destroy(md);
            free(name);
            goto fail;
        }
        int32_t nparts = md->topics[0].partition_cnt;
        rd_kafka_metadata_destroy(md);
        if (!colon) {
            for (int32_t p = 0; p < nparts; p++)
                rd_kafka_topic_partition_list_add(out, name, p);
            free(name);
            continue;
        }
        /* An explicit partition list: each must exist. */
        const char *s = colon + 1;
        int ok = *s != '\0';
        while (ok && *s) {
            const char *e = strchr(s, ',');
            size_t len = e ? (size_t)(e - s) : strlen(s);
            char num[16];
            int64_t p;
            ok = len > 0 && len < sizeof num;
            if (ok) {
                memcpy(num, s, len);
                num[len] = '\0';
                ok = !sesp_cli_parse_i64(num, 0, nparts - 1, &p);
            }
            if (ok && !rd_kafka_topic_partition_list_find(out, name, (int32_t)p))
                rd_kafka_topic_partition_list_add(out, name, (int32_t)p);
            s = e ? e + 1 : s + len;
            if (e && !*s)
                ok = 0;
        }
        if (!ok) {
            fprintf(stderr, "%s: --topic %s: expected T or T:P,P,... with partitions in [0, %" PRId32 ")\n",
                    a->c.prog, spec, nparts);
            free(name);
            goto fail;
        }
        free(name);
    }
    return out;
fail:
    rd_kafka_topic_partition_list_destroy(out);
    return NULL;
}

static int cmd_delete(group_args *a, rd_kafka_t *rk, rd_kafka_queue_t *q)
{
    int rc = 1;
    rd_kafka_event_t *ev = NULL;
    rd_kafka_AdminOptions_t *o = NULL;
    rd_kafka_topic_partition_list_t *parts = NULL;
    if (a->ntopics) {
        if (a->nnames != 1) {
            fprintf(stderr, "%s: --topic deletes the offsets of exactly one group\n", a->c.prog);
            return 2;
        }
        if (!(parts = resolve_topics(a, rk)))
            goto out;
        if (!(o = sesp_cli_admin_options(&a->c, rk, RD_KAFKA_ADMIN_OP_DELETECONSUMERGROUPOFFSETS)))
            goto out;
        rd_kafka_DeleteConsumerGroupOffsets_t *req = rd_kafka_DeleteConsumerGroupOffsets_new(a->names[0], parts);
        rd_kafka_DeleteConsumerGroupOffsets(rk, &req, 1, o, q);
        rd_kafka_DeleteConsumerGroupOffsets_destroy(req);
        if (!(ev = sesp_cli_wait_result(&a->c, q)))
            goto out;
        size_t n;
        const rd_kafka_group_result_t **gr = rd_kafka_DeleteConsumerGroupOffsets_result_groups(
            rd_kafka_event_DeleteConsumerGroupOffsets_result(ev), &n);
        if (n != 1 || group_result_errors(a, gr[0], "deleting offsets of"))
            goto out;
        printf("Deleted the committed offsets of %d partition(s) from group %s.\n", parts->cnt, a->names[0]);
        rc = 0;
        goto out;
    }
    rd_kafka_DeleteGroup_t **reqs = calloc((size_t)a->nnames, sizeof *reqs);
    if (!reqs) {
        fprintf(stderr, "%s: out of memory\n", a->c.prog);
        goto out;
    }
    for (int i = 0; i < a->nnames; i++)
        reqs[i] = rd_kafka_DeleteGroup_new(a->names[i]);
    if ((o = sesp_cli_admin_options(&a->c, rk, RD_KAFKA_ADMIN_OP_DELETEGROUPS)))
        rd_kafka_DeleteGroups(rk, reqs, (size_t)a->nnames, o, q);
    rd_kafka_DeleteGroup_destroy_array(reqs, (size_t)a->nnames);
    free(reqs);
    if (!o || !(ev = sesp_cli_wait_result(&a->c, q)))
        goto out;
    size_t n;
    const rd_kafka_group_result_t **gr = rd_kafka_DeleteGroups_result_groups(rd_kafka_event_DeleteGroups_result(ev), &n);
    rc = 0;
    for (size_t i = 0; i < n; i++) {
        if (group_result_errors(a, gr[i], "deleting"))
            rc = 1;
        else
            printf("Deleted group %s.\n", rd_kafka_group_result_name(gr[i]));
    }
out:
    if (parts)
        rd_kafka_topic_partition_list_destroy(parts);
    if (ev)
        rd_kafka_event_destroy(ev);
    if (o)
        rd_kafka_AdminOptions_destroy(o);
    return rc;
}

/* Fills parts[i].offset with the reset target of each partition; 0 or 1 after printing. */
static int reset_targets(group_args *a, rd_kafka_t *rk, rd_kafka_topic_partition_list_t *parts)
{
    if (a->mode == RESET_DATETIME) {
        for (int i = 0; i < parts->cnt; i++)
            parts->elems[i].offset = a->value;
        rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk, parts, a->c.timeout_ms);
        if (err) {
            fprintf(stderr, "%s: offsets for time %" PRId64 ": %s\n", a->c.prog, a->value, rd_kafka_err2str(err));
            return 1;
        }
    }
    for (int i = 0; i < parts->cnt; i++) {
        rd_kafka_topic_partition_t *p = &parts->elems[i];
        if (a->mode == RESET_DATETIME && p->err) {
            fprintf(stderr, "%s: offset for time of %s [%" PRId32 "]: %s\n", a->c.prog, p->topic, p->partition,
                    rd_kafka_err2str(p->err));
            return 1;
        }
        int64_t lo, hi;
        rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk, p->topic, p->partition, &lo, &hi,
                                                                   a->c.timeout_ms);
        if (err) {
            fprintf(stderr, "%s: offsets of %s [%" PRId32 "]: %s\n", a->c.prog, p->topic, p->partition,
                    rd_kafka_err2str(err));
            return 1;
        }
        switch (a->mode) {
        case RESET_EARLIEST:
            p->offset = lo;
            break;
        case RESET_LATEST:
            p->offset = hi;
            break;
        case RESET_OFFSET:
            /* Like Kafka's tool: an offset outside the log is moved to its nearest end. */
            p->offset = a->value < lo ? lo : a->value > hi ? hi : a->value;
            break;
        case RESET_DATETIME:
            /* No record at or after the time: everything is older, so start at the end. */
            if (p->offset < 0)
                p->offset = hi;
            break;
        case RESET_NONE:
            break;
        }
    }
    return 0;
}

static int cmd_reset(group_args *a, rd_kafka_t *rk, rd_kafka_queue_t *q)
{
    const char *group = a->names[0];
    int rc = 1;
    rd_kafka_event_t *dev = NULL, *ev = NULL;
    rd_kafka_AdminOptions_t *o = NULL;
    rd_kafka_topic_partition_list_t *parts = NULL, *cur = NULL;
    if (!a->ntopics || a->mode == RESET_NONE) {
        fprintf(stderr, "%s: give --topic and one of --to-earliest, --to-latest, --to-offset, --to-datetime\n",
                a->c.prog);
        return 2;
    }
    const rd_kafka_ConsumerGroupDescription_t *d = describe_one(a, rk, q, group, &dev);
    if (!d)
        goto out;
    rd_kafka_consumer_group_state_t st = rd_kafka_ConsumerGroupDescription_state(d);
    if (rd_kafka_ConsumerGroupDescription_member_count(d) > 0 ||
        (st != RD_KAFKA_CONSUMER_GROUP_STATE_EMPTY && st != RD_KAFKA_CONSUMER_GROUP_STATE_DEAD)) {
        fprintf(stderr, "%s: offsets can only be reset while group %s is inactive, but its state is %s with %zu "
                        "member(s); stop its consumers first\n",
                a->c.prog, group, rd_kafka_consumer_group_state_name(st),
                rd_kafka_ConsumerGroupDescription_member_count(d));
        goto out;
    }
    if (!(parts = resolve_topics(a, rk)) || !(cur = committed_offsets(a, rk, q, group)))
        goto out;
    rd_kafka_topic_partition_list_sort(parts, NULL, NULL);
    if (reset_targets(a, rk, parts))
        goto out;
    printf("%-30s %-9s %-14s %s\n", "TOPIC", "PARTITION", "CURRENT-OFFSET", "NEW-OFFSET");
    for (int i = 0; i < parts->cnt; i++) {
        const rd_kafka_topic_partition_t *p = &parts->elems[i];
        const rd_kafka_topic_partition_t *c = rd_kafka_topic_partition_list_find(cur, p->topic, p->partition);
        char cs[24] = "-";
        if (c && c->offset >= 0)
            snprintf(cs, sizeof cs, "%" PRId64, c->offset);
        printf("%-30s %-9" PRId32 " %-14s %" PRId64 "\n", p->topic, p->partition, cs, p->offset);
    }
    if (!a->execute) {
        printf("Dry run: nothing changed; add --execute to commit these offsets.\n");
        rc = 0;
        goto out;
    }
    if (!(o = sesp_cli_admin_options(&a->c, rk, RD_KAFKA_ADMIN_OP_ALTERCONSUMERGROUPOFFSETS)))
        goto out;
    rd_kafka_AlterConsumerGroupOffsets_t *req = rd_kafka_AlterConsumerGroupOffsets_new(group, parts);
    rd_kafka_AlterConsumerGroupOffsets(rk, &req, 1, o, q);
    rd_kafka_AlterConsumerGroupOffsets_destroy(req);
    if (!(ev = sesp_cli_wait_result(&a->c, q)))
        goto out;
    size_t n;
    const rd_kafka_group_result_t **gr =
        rd_kafka_AlterConsumerGroupOffsets_result_groups(rd_kafka_event_AlterConsumerGroupOffsets_result(ev), &n);
    if (n != 1 || group_result_errors(a, gr[0], "committing offsets of"))
        goto out;
    printf("Committed the new offsets of %d partition(s) for group %s.\n", parts->cnt, group);
    rc = 0;
out:
    if (cur)
        rd_kafka_topic_partition_list_destroy(cur);
    if (parts)
        rd_kafka_topic_partition_list_destroy(parts);
    if (ev)
        rd_kafka_event_destroy(ev);
    if (dev)
        rd_kafka_event_destroy(dev);
    if (o)
        rd_kafka_AdminOptions_destroy(o);
    return rc;
}

int sesp_cli_group_main(int argc, char **argv)
{
    static const char *const subs[] = {"list", "describe", "delete", "reset-offsets"};
    size_t si;
    char prog[64];
    int picked = sesp_cli_pick_sub("group", subs, sizeof subs / sizeof subs[0], argc, argv, usage, &si, prog,
                                   sizeof prog);
    if (picked >= 0)
        return picked;

    group_args a;
    memset(&a, 0, sizeof a);
    int rc = 1;
    rd_kafka_t *rk = NULL;
    rd_kafka_queue_t *q = NULL;
    if (sesp_cli_common_init(&a.c, prog))
        goto out;
    int p = parse(&a, argc - 1, argv + 1);
    if (p) {
        rc = p - 1;
        goto out;
    }
    int lists = si == 0, deletes = si == 2, resets = si == 3;
    if ((rc = sesp_cli_check_names(&a.c, a.nnames, lists ? 0 : deletes ? -1 : 1, "group")))
        goto out;
    rc = 1;
    if ((!resets && (a.mode != RESET_NONE || a.execute)) || (!resets && !deletes && a.ntopics)) {
        fprintf(stderr, "%s: option not valid for this subcommand (see --help)\n", prog);
        rc = 2;
        goto out;
    }
    /* A consumer handle without group.id: it never joins the groups it inspects. */
    if (!(rk = sesp_cli_client_new(&a.c, RD_KAFKA_CONSUMER)))
        goto out;
    q = rd_kafka_queue_new(rk);
    if (lists)
        rc = cmd_list(&a, rk, q);
    else if (si == 1)
        rc = cmd_describe(&a, rk, q);
    else if (deletes)
        rc = cmd_delete(&a, rk, q);
    else
        rc = cmd_reset(&a, rk, q);
    fflush(stdout);
out:
    if (q)
        rd_kafka_queue_destroy(q);
    if (rk)
        rd_kafka_destroy(rk);
    sesp_cli_common_destroy(&a.c);
    return rc;
}
