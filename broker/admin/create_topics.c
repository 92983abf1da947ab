/*
 * CreateTopics (v0-7): per topic a partition count and replication factor
 * (-1 = broker default) or a manual assignment (only [this node] per
 * partition), config overrides, validate_only; v5+ answers with the topic's
 * configs, partition count and replication factor, v7+ with its id.  A name
 * given twice in one request fails for every occurrence (INVALID_REQUEST).
 * The timeout is ignored: creation is synchronous on this single node.
 */
#include <string.h>

#include "admin_int.h"
#include "broker/protocol/generated/create_topics_request.h"
#include "broker/protocol/generated/create_topics_response.h"
#include "broker/protocol/kerr.h"

typedef sesp_kmsg_create_topics_request_creatable_topic ctopic;
typedef sesp_kmsg_create_topics_response_creatable_topic_result cresult;
typedef sesp_kmsg_create_topics_response_creatable_topic_configs cconfig;

/* Validates the manual assignment and turns it into a partition count. */
static int16_t check_assignments(sesp_req *rq, const ctopic *t, int32_t *np, char *msg, size_t msglen)
{
    int32_t n = t->assignments_count;
    if (t->num_partitions != -1 || t->replication_factor != -1) {
        snprintf(msg, msglen, "Both numPartitions or replicationFactor and replicasAssignments were set. Both cannot "
                              "be used at the same time.");
        return SESP_KERR_INVALID_REQUEST;
    }
    bool *seen = sesp_arena_calloc(&rq->arena, (size_t)n, sizeof *seen);
    if (!seen) {
        snprintf(msg, msglen, "out of memory");
        return SESP_KERR_UNKNOWN_SERVER_ERROR;
    }
    for (int32_t i = 0; i < n; i++) {
        const sesp_kmsg_create_topics_request_creatable_replica_assignment *a = &t->assignments[i];
        int32_t p = a->partition_index;
        if (p >= 0 && p < n && seen[p]) {
            snprintf(msg, msglen, "Found multiple manual partition assignments for partition %d", p);
            return SESP_KERR_INVALID_REPLICA_ASSIGNMENT;
        }
        if (p < 0 || p >= n) {
            snprintf(msg, msglen, "partitions should be a consecutive 0-based integer sequence");
            return SESP_KERR_INVALID_REPLICA_ASSIGNMENT;
        }
        seen[p] = true;
        int16_t e = sesp_admin_check_replicas(a->broker_ids, a->broker_ids_count, rq->srv->node_id, msg, msglen);
        if (e)
            return e;
    }
    *np = n;
    return 0;
}

/* v5+: the created topic's configs as DescribeConfigs would show them. */
static bool fill_configs(sesp_req *rq, cresult *r, const char *name, const sesp_topic_kv *kv, size_t nkv,
                         bool validate_only)
{
    sesp_topic *tp = validate_only ? NULL : sesp_topics_get(rq->srv->topics, name, strlen(name));
    if (!tp) {
        /* Validation only: nothing exists to describe, so only the
         * requested overrides are returned. */
        r->configs = sesp_arena_calloc(&rq->arena, nkv + 1, sizeof *r->configs);
        if (!r->configs)
            return false;
        for (size_t i = 0; i < nkv; i++) {
            cconfig *c = &r->configs[i];
            sesp_kmsg_create_topics_response_creatable_topic_configs_init(c);
            c->name = SESP_KSTR(kv[i].key);
            c->value = SESP_KSTR(kv[i].value);
            c->config_source = SESP_CONFIG_SRC_DYNAMIC_TOPIC;
        }
        r->configs_count = (int32_t)nkv;
        return true;
    }
    sesp_topic_config_desc *d = NULL;
    size_t n = 0;
    bool ok = sesp_topic_configs_describe(rq->srv->topics, tp, &d, &n) == 0;
    if (ok)
        r->configs = sesp_arena_calloc(&rq->arena, n + 1, sizeof *r->configs);
    ok = ok && r->configs;
    for (size_t i = 0; ok && i < n; i++) {
        cconfig *c = &r->configs[i];
        sesp_kmsg_create_topics_response_creatable_topic_configs_init(c);
        c->name = SESP_KSTR(d[i].name);
        c->value = d[i].value && !d[i].sensitive ? SESP_KSTR(sesp_admin_fmt(rq, "%s", d[i].value)) : SESP_KSTR_NULL;
        c->read_only = d[i].read_only;
        c->config_source = d[i].source;
        c->is_sensitive = d[i].sensitive;
    }
    if (ok) {
        r->configs_count = (int32_t)n;
        r->num_partitions = sesp_topic_partition_count(tp);
    }
    sesp_topic_configs_free(d, n);
    sesp_topic_release(tp);
    return ok;
}

/* Creates (or validates) one topic and fills r; false on arena exhaustion. */
static bool create_one(sesp_req *rq, const ctopic *t, bool dup, bool validate_only, cresult *r)
{
    sesp_server *s = rq->srv;
    int16_t v = rq->hdr.api_version;
    char msg[SESP_TOPICS_MSG_LEN] = "";
    int16_t e = 0;
    int32_t np = t->num_partitions;
    int16_t rf = t->replication_factor;
    size_t nkv = t->configs_count > 0 ? (size_t)t->configs_count : 0;
    sesp_topic_kv *kv = sesp_arena_calloc(&rq->arena, nkv + 1, sizeof *kv);
    const char *name = sesp_req_str(rq, t->name);
    if (!kv || !name)
        return false;
    if (dup) {
        e = SESP_KERR_INVALID_REQUEST;
        snprintf(msg, sizeof msg, "Duplicate topic name.");
        goto out;
    }
    /* Kafka checks the name and existence before the layout. */
    if ((e = sesp_topics_validate_name(name, strlen(name), msg, sizeof msg)))
        goto out;
    sesp_topic *old = sesp_topics_get(s->topics, name, strlen(name));
    if (old) {
        sesp_topic_release(old);
        e = SESP_KERR_TOPIC_ALREADY_EXISTS;
        snprintf(msg, sizeof msg, "Topic '%s' already exists.", name);
        goto out;
    }
    if (t->assignments_count > 0) {
        if ((e = check_assignments(rq, t, &np, msg, sizeof msg)))
            goto out;
        rf = 1;
    } else {
        if (np == 0 || np < -1) {
            e = SESP_KERR_INVALID_PARTITIONS;
            snprintf(msg, sizeof msg, "Number of partitions was set to an invalid non-positive value.");
            goto out;
        }
        if (rf == 0 || rf < -1) {
            e = SESP_KERR_INVALID_REPLICATION_FACTOR;
            snprintf(msg, sizeof msg, "Replication factor must be larger than 0, or -1 to use the default value.");
            goto out;
        }
    }
    for (size_t i = 0; i < nkv; i++) {
        kv[i].key = sesp_req_str(rq, t->configs[i].name);
        if (!kv[i].key)
            return false;
        if (t->configs[i].value.len < 0) {
            e = SESP_KERR_INVALID_REQUEST;
            snprintf(msg, sizeof msg, "Null value not supported for topic configs: %s", kv[i].key);
            goto out;
        }
        if (!(kv[i].value = sesp_req_str(rq, t->configs[i].value)))
            return false;
    }
    sesp_topic_id id;
    memset(&id, 0, sizeof id);
    e = sesp_topics_create(s->topics, name, strlen(name), np, rf, kv, nkv, validate_only, &id, msg,
                           sizeof msg);
    if (e)
        goto out;
    if (!validate_only)
        memcpy(r->topic_id.b, id.b, 16);
    if (v >= 5) {
        r->num_partitions = np == -1 ? s->cfg->num_partitions : np;
        r->replication_factor = rf == -1 ? s->cfg->default_replication_factor : rf;
        if (!fill_configs(rq, r, name, kv, nkv, validate_only))
            return false;
    }
out:
    r->error_code = e;
    r->error_message = sesp_admin_msg(rq, e, msg);
    return true;
}

void sesp_admin_h_create_topics(sesp_req *rq)
{
    int16_t v = rq->hdr.api_version;
    sesp_kmsg_create_topics_request req;
    if (sesp_kmsg_create_topics_request_decode(&rq->body, v, &req, &rq->arena) != 0) {
        sesp_req_close(rq);
        return;
    }
    int32_t n = req.topics_count > 0 ? req.topics_count : 0;
    sesp_kmsg_create_topics_response m;
    sesp_kmsg_create_topics_response_init(&m);
    m.topics = sesp_arena_calloc(&rq->arena, (size_t)n + 1, sizeof *m.topics);
    sesp_kstr *names = sesp_arena_calloc(&rq->arena, (size_t)n + 1, sizeof *names);
    if (!m.topics || !names) {
        sesp_req_close(rq);
        return;
    }
    for (int32_t i = 0; i < n; i++)
        names[i] = req.topics[i].name;
    m.topics_count = n;
    for (int32_t i = 0; i < n; i++) {
        cresult *r = &m.topics[i];
        sesp_kmsg_create_topics_response_creatable_topic_result_init(r);
        r->name = req.topics[i].name.len >= 0 ? req.topics[i].name : SESP_KSTR("");
        if (!create_one(rq, &req.topics[i], sesp_admin_dup_name(names, n, i), req.validate_only, r)) {
            sesp_req_close(rq);
            return;
        }
    }
    SESP_ADMIN_RESPOND(rq, sesp_kmsg_create_topics_response_encode, v, &m);
}
