/*
 * `sesp topic create|list|describe|alter|delete`: topic administration over
 * librdkafka's Admin API and Metadata.  librdkafka 2.0.2 has no
 * IncrementalAlterConfigs, so `alter --config/--delete-config` reads the
 * topic's current dynamic overrides with DescribeConfigs, applies the edits
 * and writes the whole set back with AlterConfigs (not atomic against a
 * concurrent alter, like Kafka's own tools before KIP-339).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_common.h"

#define MAX_CONFIGS 256

typedef struct kv {
    char *key;
    const char *value;  /* NULL in a delete list */
} kv;

typedef struct topic_args {
    sesp_cli_common c;
    int64_t partitions;          /* -1: not given */
    int64_t replication;         /* -1: broker default */
    int if_not_exists;
    kv sets[MAX_CONFIGS];
    size_t nsets;
    kv dels[MAX_CONFIGS];
    size_t ndels;
    char **names;
    int nnames;
} topic_args;

enum {
    OPT_PARTITIONS = SESP_CLI_OPT_FIRST_COMMAND_OPT,
    OPT_REPLICATION,
    OPT_CONFIG,
    OPT_DELETE_CONFIG,
    OPT_IF_NOT_EXISTS,
};

static void usage(FILE *f)
{
    fprintf(f, "usage: sesp topic create NAME [--partitions N] [--replication-factor N] [--config K=V ...] [--if-not-exists]\n"
               "       sesp topic list\n"
               "       sesp topic describe NAME\n"
               "       sesp topic alter NAME [--partitions N] [--config K=V ...] [--delete-config K ...]\n"
               "       sesp topic delete NAME...\n"
               "\n"
               "Options:\n"
               "      --partitions N               partition count (create: default broker's num.partitions;\n"
               "                                   alter: the new total, which must be larger)\n"
               "      --replication-factor N       (create) default: the broker's default\n"
               "      --config K=V                 topic config to set (repeatable)\n"
               "      --delete-config K            (alter) remove a topic config override (repeatable)\n"
               "      --if-not-exists              (create) succeed if the topic already exists\n"
               SESP_CLI_COMMON_HELP);
}

static void args_free(topic_args *a)
{
    for (size_t i = 0; i < a->nsets; i++)
        free(a->sets[i].key);
    for (size_t i = 0; i < a->ndels; i++)
        free(a->dels[i].key);
    sesp_cli_common_destroy(&a->c);
}

/* Returns 0 to go on, or an exit code + 1 (so 0 "done, exit 0" is 1). */
static int parse(topic_args *a, int argc, char **argv)
{
    static const struct option longopts[] = {
        SESP_CLI_COMMON_LONGOPTS,
        {"partitions", required_argument, NULL, OPT_PARTITIONS},
        {"replication-factor", required_argument, NULL, OPT_REPLICATION},
        {"config", required_argument, NULL, OPT_CONFIG},
        {"delete-config", required_argument, NULL, OPT_DELETE_CONFIG},
        {"if-not-exists", no_argument, NULL, OPT_IF_NOT_EXISTS},
        {NULL, 0, NULL, 0},
    };
    int opt;
    while ((opt = sesp_cli_next_opt(&a->c, argc, argv, SESP_CLI_COMMON_SHORTOPTS, longopts)) != -1) {
        switch (opt) {
        case SESP_CLI_OPT_FAIL:
            return 2 + 1;
        case OPT_PARTITIONS:
            if (sesp_cli_parse_i64(optarg, 1, INT32_MAX, &a->partitions)) {
                fprintf(stderr, "%s: --partitions expects a number >= 1, got '%s'\n", a->c.prog, optarg);
                return 2 + 1;
            }
            break;
        case OPT_REPLICATION:
            if (sesp_cli_parse_i64(optarg, 1, INT16_MAX, &a->replication)) {
                fprintf(stderr, "%s: --replication-factor expects a number >= 1, got '%s'\n", a->c.prog, optarg);
                return 2 + 1;
            }
            break;
        case OPT_CONFIG:
        case OPT_DELETE_CONFIG: {
            int del = opt == OPT_DELETE_CONFIG;
            size_t *n = del ? &a->ndels : &a->nsets;
            kv *list = del ? a->dels : a->sets;
            size_t klen = strlen(optarg);
            const char *val = NULL;
            if (!del && !(val = sesp_cli_split_kv(optarg, &klen))) {
                fprintf(stderr, "%s: --config expects KEY=VALUE, got '%s'\n", a->c.prog, optarg);
                return 2 + 1;
            }
            if (del && (klen == 0 || strchr(optarg, '='))) {
                fprintf(stderr, "%s: --delete-config expects a config name, got '%s'\n", a->c.prog, optarg);
                return 2 + 1;
            }
            if (*n == MAX_CONFIGS) {
                fprintf(stderr, "%s: too many --config/--delete-config options (max %d)\n", a->c.prog, MAX_CONFIGS);
                return 2 + 1;
            }
            if (!(list[*n].key = strndup(optarg, klen))) {
                fprintf(stderr, "%s: out of memory\n", a->c.prog);
                return 1 + 1;
            }
            list[(*n)++].value = val;
            break;
        }
        case OPT_IF_NOT_EXISTS:
            a->if_not_exists = 1;
            break;
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

/* Prints per-topic results of CreateTopics/DeleteTopics/CreatePartitions; 0 if all ok. */
static int topic_results(topic_args *a, const rd_kafka_topic_result_t **res, size_t n, const char *done,
                         int ok_if_exists)
{
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t err = rd_kafka_topic_result_error(res[i]);
        const char *name = rd_kafka_topic_result_name(res[i]);
        if (!err) {
            printf("%s topic %s.\n", done, name);
        } else if (err == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS && ok_if_exists) {
            printf("Topic %s already exists.\n", name);
        } else {
            const char *msg = rd_kafka_topic_result_error_string(res[i]);
            fprintf(stderr, "%s: topic %s: %s (%s)\n", a->c.prog, name, msg ? msg : rd_kafka_err2str(err),
                    rd_kafka_err2name(err));
            rc = 1;
        }
    }
    return rc;
}

static int cmd_create(topic_args *a, rd_kafka_t *rk, rd_kafka_queue_t *q)
{
    char errstr[512];
    int rc = 1;
    rd_kafka_NewTopic_t *nt = NULL;
    rd_kafka_AdminOptions_t *o = NULL;
    rd_kafka_event_t *ev = NULL;
    nt = rd_kafka_NewTopic_new(a->names[0], (int)a->partitions, (int)a->replication, errstr, sizeof errstr);
    if (!nt) {
        fprintf(stderr, "%s: %s\n", a->c.prog, errstr);
        goto out;
    }
    for (size_t i = 0; i < a->nsets; i++) {
        if (rd_kafka_NewTopic_set_config(nt, a->sets[i].key, a->sets[i].value)) {
            fprintf(stderr, "%s: cannot set config %s\n", a->c.prog, a->sets[i].key);
            goto out;
        }
    }
    if (!(o = sesp_cli_admin_options(&a->c, rk, RD_KAFKA_ADMIN_OP_CREATETOPICS)))
        goto out;
    rd_kafka_CreateTopics(rk, &nt, 1, o, q);
    if (!(ev = sesp_cli_wait_result(&a->c, q)))
        goto out;
    size_t n;
    const rd_kafka_topic_result_t **res = rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
    rc = topic_results(a, res, n, "Created", a->if_not_exists);
out:
    if (ev)
        rd_kafka_event_destroy(ev);
    if (o)
        rd_kafka_AdminOptions_destroy(o);
    if (nt)
        rd_kafka_NewTopic_destroy(nt);
    return rc;
}

static int cmd_delete(topic_args *a, rd_kafka_t *rk, rd_kafka_queue_t *q)
{
    int rc = 1;
    rd_kafka_AdminOptions_t *o = NULL;
    rd_kafka_event_t *ev = NULL;
    rd_kafka_DeleteTopic_t **dt = calloc((size_t)a->nnames, sizeof *dt);
    if (!dt)
        goto out;
    for (int i = 0; i < a->nnames; i++)
        dt[i] = rd_kafka_DeleteTopic_new(a->names[i]);
    if (!(o = sesp_cli_admin_options(&a->c, rk, RD_KAFKA_ADMIN_OP_DELETETOPICS)))
        goto out;
    rd_kafka_DeleteTopics(rk, dt, (size_t)a->nnames, o, q);
    if (!(ev = sesp_cli_wait_result(&a->c, q)))
        goto out;
    size_t n;
    const rd_kafka_topic_result_t **res = rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
    rc = topic_results(a, res, n, "Deleted", 0);
out:
    if (ev)
        rd_kafka_event_destroy(ev);
    if (o)
        rd_kafka_AdminOptions_destroy(o);
    if (dt)
        rd_kafka_DeleteTopic_destroy_array(dt, (size_t)a->nnames);
    free(dt);
    return rc;
}

static int cmp_str(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* Metadata of every topic (never auto-creates); NULL after printing. */
static const struct rd_kafka_metadata *all_metadata(topic_args *a, rd_kafka_t *rk)
{
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t err = rd_kafka_metadata(rk, 1, NULL, &md, a->c.timeout_ms);
    if (err) {
        fprintf(stderr, "%s: metadata request failed: %s\n", a->c.prog, rd_kafka_err2str(err));
        return NULL;
    }
    return md;
}

static int cmd_list(topic_args *a, rd_kafka_t *rk)
{
    const struct rd_kafka_metadata *md = all_metadata(a, rk);
    if (!md)
        return 1;
    const char **names = calloc((size_t)md->topic_cnt + 1, sizeof *names);
    if (!names) {
        rd_kafka_metadata_destroy(md);
        return 1;
    }
    int n = 0;
    for (int i = 0; i < md->topic_cnt; i++)
        if (!md->topics[i].err)
            names[n++] = md->topics[i].topic;
    qsort(names, (size_t)n, sizeof *names, cmp_str);
    for (int i = 0; i < n; i++)
        printf("%s\n", names[i]);
    free(names);
    rd_kafka_metadata_destroy(md);
    return 0;
}

static void print_ids(const int32_t *ids, int n)
{
    for (int i = 0; i < n; i++)
        printf("%s%d", i ? "," : "", ids[i]);
    if (n == 0)
        printf("-");
}

/* DescribeConfigs for one topic; the event (owner: caller) and its resource, or NULL. */
static rd_kafka_event_t *describe_configs(topic_args *a, rd_kafka_t *rk, rd_kafka_queue_t *q, const char *name,
                                          const rd_kafka_ConfigResource_t **resource)
{
    rd_kafka_event_t *ev = NULL;
    rd_kafka_ConfigResource_t *cr = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, name);
    rd_kafka_AdminOptions_t *o = sesp_cli_admin_options(&a->c, rk, RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS);
    if (!cr || !o)
        goto out;
    rd_kafka_DescribeConfigs(rk, &cr, 1, o, q);
    if (!(ev = sesp_cli_wait_result(&a->c, q)))
        goto out;
    size_t n;
    const rd_kafka_ConfigResource_t **res =
        rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &n);
    if (n != 1) {
        fprintf(stderr, "%s: DescribeConfigs returned %zu resources, expected 1\n", a->c.prog, n);
        goto fail;
    }
    if (rd_kafka_ConfigResource_error(res[0])) {
        const char *msg = rd_kafka_ConfigResource_error_string(res[0]);
        fprintf(stderr, "%s: configs of topic %s: %s\n", a->c.prog, name,
                msg ? msg : rd_kafka_err2str(rd_kafka_ConfigResource_error(res[0])));
        goto fail;
    }
    *resource = res[0];
    goto out;
fail:
    rd_kafka_event_destroy(ev);
    ev = NULL;
out:
    if (o)
        rd_kafka_AdminOptions_destroy(o);
    if (cr)
        rd_kafka_ConfigResource_destroy(cr);
    return ev;
}

static int cmd_describe(topic_args *a, rd_kafka_t *rk, rd_kafka_queue_t *q)
{
    int rc = 1;
    rd_kafka_event_t *ev = NULL;
    const struct rd_kafka_metadata *md = all_metadata(a, rk);
    if (!md)
        goto out;
    const struct rd_kafka_metadata_topic *t = NULL;
    for (int i = 0; i < md->topic_cnt && !t; i++)
        if (!strcmp(md->topics[i].topic, a->names[0]))
            t = &md->topics[i];
    if (!t || t->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART) {
        fprintf(stderr, "%s: topic %s does not exist\n", a->c.prog, a->names[0]);
        goto out;
    }
    if (t->err) {
        fprintf(stderr, "%s: topic %s: %s\n", a->c.prog, t->topic, rd_kafka_err2str(t->err));
        goto out;
    }
    int rf = t->partition_cnt ? t->partitions[0].replica_cnt : 0;
    /* librdkafka 2.0.2's metadata API does not expose the topic id. */
    printf("Topic: %s\tPartitionCount: %d\tReplicationFactor: %d\n", t->topic, t->partition_cnt, rf);
    for (int i = 0; i < t->partition_cnt; i++) {
        const struct rd_kafka_metadata_partition *p = &t->partitions[i];
        printf("\tPartition: %d\tLeader: %d\tReplicas: ", p->id, p->leader);
        print_ids(p->replicas, p->replica_cnt);
        printf("\tIsr: ");
        print_ids(p->isrs, p->isr_cnt);
        if (p->err)
            printf("\tError: %s", rd_kafka_err2name(p->err));
        printf("\n");
    }
    const rd_kafka_ConfigResource_t *res = NULL;
    if (!(ev = describe_configs(a, rk, q, t->topic, &res)))
        goto out;
    size_t n;
    const rd_kafka_ConfigEntry_t **entries = rd_kafka_ConfigResource_configs(res, &n);
    printf("Configs:\n");
    for (size_t i = 0; i < n; i++) {
        const char *v = rd_kafka_ConfigEntry_value(entries[i]);
        if (rd_kafka_ConfigEntry_is_sensitive(entries[i]))
            v = "(sensitive)";
        printf("\t%s=%s\t(%s%s)\n", rd_kafka_ConfigEntry_name(entries[i]), v ? v : "(null)",
               rd_kafka_ConfigSource_name(rd_kafka_ConfigEntry_source(entries[i])),
               rd_kafka_ConfigEntry_is_read_only(entries[i]) ? ", read-only" : "");
    }
    rc = 0;
out:
    if (ev)
        rd_kafka_event_destroy(ev);
    if (md)
        rd_kafka_metadata_destroy(md);
    return rc;
}

static int alter_partitions(topic_args *a, rd_kafka_t *rk, rd_kafka_queue_t *q)
{
    char errstr[512];
    int rc = 1;
    rd_kafka_AdminOptions_t *o = NULL;
    rd_kafka_event_t *ev = NULL;
    rd_kafka_NewPartitions_t *np = rd_kafka_NewPartitions_new(a->names[0], (size_t)a->partitions, errstr, sizeof errstr);
    if (!np) {
        fprintf(stderr, "%s: %s\n", a->c.prog, errstr);
        goto out;
    }
    if (!(o = sesp_cli_admin_options(&a->c, rk, RD_KAFKA_ADMIN_OP_CREATEPARTITIONS)))
        goto out;
    rd_kafka_CreatePartitions(rk, &np, 1, o, q);
    if (!(ev = sesp_cli_wait_result(&a->c, q)))
        goto out;
    size_t n;
    const rd_kafka_topic_result_t **res =
        rd_kafka_CreatePartitions_result_topics(rd_kafka_event_CreatePartitions_result(ev), &n);
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t err = rd_kafka_topic_result_error(res[i]);
        if (err) {
            const char *msg = rd_kafka_topic_result_error_string(res[i]);
            fprintf(stderr, "%s: topic %s: %s (%s)\n", a->c.prog, rd_kafka_topic_result_name(res[i]),
                    msg ? msg : rd_kafka_err2str(err), rd_kafka_err2name(err));
            goto out;
        }
    }
    printf("Topic %s now has %d partitions.\n", a->names[0], (int)a->partitions);
    rc = 0;
out:
    if (ev)
        rd_kafka_event_destroy(ev);
    if (o)
        rd_kafka_AdminOptions_destroy(o);
    if (np)
        rd_kafka_NewPartitions_destroy(np);
    return rc;
}

static int find_kv(const kv *list, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(list[i].key, key))
            return (int)i;
    return -1;
}

static int alter_configs(topic_args *a, rd_kafka_t *rk, rd_kafka_queue_t *q)
{
    int rc = 1;
    rd_kafka_event_t *dev = NULL, *ev = NULL;
    rd_kafka_ConfigResource_t *cr = NULL;
    rd_kafka_AdminOptions_t *o = NULL;
    const rd_kafka_ConfigResource_t *cur = NULL;
    if (!(dev = describe_configs(a, rk, q, a->names[0], &cur)))
        goto out;
    if (!(cr = rd_kafka_ConfigResource_new(RD_KAFKA_RESOURCE_TOPIC, a->names[0])))
        goto out;
    /* AlterConfigs replaces the whole set of overrides: carry the current ones over. */
    size_t n;
    const rd_kafka_ConfigEntry_t **entries = rd_kafka_ConfigResource_configs(cur, &n);
    int *deleted = calloc(a->ndels + 1, sizeof *deleted);
    if (!deleted)
        goto out;
    for (size_t i = 0; i < n; i++) {
        const char *name = rd_kafka_ConfigEntry_name(entries[i]);
        if (rd_kafka_ConfigEntry_source(entries[i]) != RD_KAFKA_CONFIG_SOURCE_DYNAMIC_TOPIC_CONFIG)
            continue;
        int d = find_kv(a->dels, a->ndels, name);
        if (d >= 0) {
            deleted[d] = 1;
            continue;
        }
        if (find_kv(a->sets, a->nsets, name) >= 0)
            continue;
        if (rd_kafka_ConfigEntry_is_sensitive(entries[i])) {
            fprintf(stderr, "%s: topic %s has a sensitive override %s that AlterConfigs would drop; refusing\n",
                    a->c.prog, a->names[0], name);
            free(deleted);
            goto out;
        }
        rd_kafka_ConfigResource_set_config(cr, name, rd_kafka_ConfigEntry_value(entries[i]));
    }
    for (size_t i = 0; i < a->ndels; i++) {
        if (!deleted[i]) {
            fprintf(stderr, "%s: topic %s has no override for %s\n", a->c.prog, a->names[0], a->dels[i].key);
            free(deleted);
            goto out;
        }
    }
    free(deleted);
    for (size_t i = 0; i < a->nsets; i++)
        rd_kafka_ConfigResource_set_config(cr, a->sets[i].key, a->sets[i].value);
    if (!(o = sesp_cli_admin_options(&a->c, rk, RD_KAFKA_ADMIN_OP_ALTERCONFIGS)))
        goto out;
    rd_kafka_AlterConfigs(rk, &cr, 1, o, q);
    if (!(ev = sesp_cli_wait_result(&a->c, q)))
        goto out;
    const rd_kafka_ConfigResource_t **res = rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &n);
    for (size_t i = 0; i < n; i++) {
        rd_kafka_resp_err_t err = rd_kafka_ConfigResource_error(res[i]);
        if (err) {
            const char *msg = rd_kafka_ConfigResource_error_string(res[i]);
            fprintf(stderr, "%s: configs of topic %s: %s (%s)\n", a->c.prog, a->names[0],
                    msg ? msg : rd_kafka_err2str(err), rd_kafka_err2name(err));
            goto out;
        }
    }
    printf("Updated configs of topic %s.\n", a->names[0]);
    rc = 0;
out:
    if (ev)
        rd_kafka_event_destroy(ev);
    if (dev)
        rd_kafka_event_destroy(dev);
    if (o)
        rd_kafka_AdminOptions_destroy(o);
    if (cr)
        rd_kafka_ConfigResource_destroy(cr);
    return rc;
}

static int cmd_alter(topic_args *a, rd_kafka_t *rk, rd_kafka_queue_t *q)
{
    if (a->partitions < 0 && !a->nsets && !a->ndels) {
        fprintf(stderr, "%s: nothing to alter: give --partitions, --config or --delete-config\n", a->c.prog);
        return 2;
    }
    if (a->partitions >= 0 && alter_partitions(a, rk, q))
        return 1;
    if ((a->nsets || a->ndels) && alter_configs(a, rk, q))
        return 1;
    return 0;
}

int sesp_cli_topic_main(int argc, char **argv)
{
    static const char *const subs[] = {"create", "list", "describe", "alter", "delete"};
    size_t si;
    char prog[64];
    int picked = sesp_cli_pick_sub("topic", subs, sizeof subs / sizeof subs[0], argc, argv, usage, &si, prog,
                                   sizeof prog);
    if (picked >= 0)
        return picked;
    const char *sub = subs[si];

    topic_args a;
    memset(&a, 0, sizeof a);
    a.partitions = -1;
    a.replication = -1;
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
    int want_names = !strcmp(sub, "list") ? 0 : !strcmp(sub, "delete") ? -1 : 1;
    if ((rc = sesp_cli_check_names(&a.c, a.nnames, want_names, "topic")))
        goto out;
    rc = 1;
    int creates = !strcmp(sub, "create"), alters = !strcmp(sub, "alter");
    if ((!creates && !alters && (a.partitions >= 0 || a.nsets)) || (!creates && (a.replication >= 0 || a.if_not_exists)) ||
        (!alters && a.ndels)) {
        fprintf(stderr, "%s: option not valid for this subcommand (see --help)\n", prog);
        rc = 2;
        goto out;
    }
    /* A consumer handle without group.id: never joins a group and never auto-creates topics on Metadata. */
    if (!(rk = sesp_cli_client_new(&a.c, RD_KAFKA_CONSUMER)))
        goto out;
    q = rd_kafka_queue_new(rk);
    if (creates)
        rc = cmd_create(&a, rk, q);
    else if (!strcmp(sub, "list"))
        rc = cmd_list(&a, rk);
    else if (!strcmp(sub, "describe"))
        rc = cmd_describe(&a, rk, q);
    else if (alters)
        rc = cmd_alter(&a, rk, q);
    else
        rc = cmd_delete(&a, rk, q);
    fflush(stdout);
out:
    if (q)
        rd_kafka_queue_destroy(q);
    if (rk)
        rd_kafka_destroy(rk);
    args_free(&a);
    return rc;
}
