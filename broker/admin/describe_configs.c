/*
 * DescribeConfigs (v0-4) for TOPIC resources (every topic config with its
 * effective value: an override is DYNAMIC_TOPIC_CONFIG, a broker-level
 * default STATIC_BROKER_CONFIG when set in the broker's file, otherwise
 * DEFAULT_CONFIG) and for BROKER resources (this node's static config; the
 * empty name, the cluster-wide dynamic defaults, has no entries here).
 * Honors the key filter, include_synonyms and include_documentation.
 */
#include <stdlib.h>
#include <string.h>

#include "admin_int.h"
#include "broker/protocol/generated/describe_configs_request.h"
#include "broker/protocol/generated/describe_configs_response.h"
#include "broker/protocol/kerr.h"

typedef sesp_kmsg_describe_configs_request_describe_configs_resource dres;
typedef sesp_kmsg_describe_configs_response_describe_configs_result dresult;
typedef sesp_kmsg_describe_configs_response_describe_configs_resource_result dentry;
typedef sesp_kmsg_describe_configs_response_describe_configs_synonym dsyn;

/* One config as the handler sees it, whatever the resource. */
typedef struct entry {
    const char *name, *value, *doc;
    bool is_default, read_only, sensitive;
    int8_t source, type;
    dsyn syn[2];
    int nsyn;
} entry;

static bool wanted(const dres *res, const char *name)
{
    if (res->configuration_keys_count < 0)
        return true;
    for (int32_t i = 0; i < res->configuration_keys_count; i++)
        if (sesp_kstr_eq(res->configuration_keys[i], name))
            return true;
    return false;
}

static sesp_kstr arena_str(sesp_req *rq, const char *s)
{
    return s ? SESP_KSTR(sesp_admin_fmt(rq, "%s", s)) : SESP_KSTR_NULL;
}

static void add(sesp_req *rq, const sesp_kmsg_describe_configs_request *req, dentry *out, const entry *e)
{
    sesp_kmsg_describe_configs_response_describe_configs_resource_result_init(out);
    out->name = SESP_KSTR(e->name);
    out->value = e->sensitive ? SESP_KSTR_NULL : arena_str(rq, e->value);
    out->read_only = e->read_only;
    out->is_default = e->is_default;
    out->config_source = e->source;
    out->is_sensitive = e->sensitive;
    out->config_type = e->type;
    out->documentation = req->include_documentation && e->doc ? SESP_KSTR(e->doc) : SESP_KSTR_NULL;
    out->synonyms = NULL;
    out->synonyms_count = 0;
    if (req->include_synonyms && e->nsyn > 0) {
        out->synonyms = sesp_arena_calloc(&rq->arena, (size_t)e->nsyn, sizeof *out->synonyms);
        if (out->synonyms) {
            for (int i = 0; i < e->nsyn; i++) {
                out->synonyms[i] = e->syn[i];
                if (e->sensitive)
                    out->synonyms[i].value = SESP_KSTR_NULL;
            }
            out->synonyms_count = e->nsyn;
        }
    }
}

static int16_t describe_topic(sesp_req *rq, const sesp_kmsg_describe_configs_request *req, const dres *res,
                              dresult *r, char *msg, size_t msglen)
{
    sesp_server *s = rq->srv;
    const char *name = sesp_req_str(rq, res->resource_name);
    int16_t e = sesp_topics_validate_name(name, strlen(name), msg, msglen);
    if (e)
        return e;
    sesp_topic *tp = sesp_topics_get(s->topics, name, strlen(name));
    if (!tp) {
        snprintf(msg, msglen, "The topic '%s' does not exist.", name);
        return SESP_KERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    sesp_topic_config_desc *d = NULL;
    size_t n = 0;
    if (sesp_topic_configs_describe(s->topics, tp, &d, &n) != 0) {
        sesp_topic_release(tp);
        snprintf(msg, msglen, "out of memory");
        return SESP_KERR_UNKNOWN_SERVER_ERROR;
    }
    r->configs = sesp_arena_calloc(&rq->arena, n + 1, sizeof *r->configs);
    int32_t cnt = 0;
    for (size_t i = 0; r->configs && i < n; i++) {
        if (!wanted(res, d[i].name))
            continue;
        entry en = {
            .name = d[i].name, .value = d[i].value, .doc = d[i].doc, .is_default = d[i].is_default,
            .read_only = d[i].read_only, .sensitive = d[i].sensitive, .source = d[i].source, .type = d[i].type,
        };
        /* Synonyms, most specific first: the topic override, then the
         * broker key that gives the default. */
        if (d[i].source == SESP_CONFIG_SRC_DYNAMIC_TOPIC) {
            en.syn[en.nsyn++] = (dsyn){SESP_KSTR(d[i].name), arena_str(rq, d[i].value), SESP_CONFIG_SRC_DYNAMIC_TOPIC};
            sesp_config_desc bd;
            if (d[i].synonym && sesp_config_describe(s->cfg, d[i].synonym, &bd) && bd.value)
                en.syn[en.nsyn++] = (dsyn){SESP_KSTR(d[i].synonym), arena_str(rq, bd.value), bd.source};
        } else {
            en.syn[en.nsyn++] =
                (dsyn){SESP_KSTR(d[i].synonym ? d[i].synonym : d[i].name), arena_str(rq, d[i].value), d[i].source};
        }
        add(rq, req, &r->configs[cnt++], &en);
    }
    r->configs_count = cnt;
    sesp_topic_configs_free(d, n);
    sesp_topic_release(tp);
    if (!r->configs) {
        snprintf(msg, msglen, "out of memory");
        return SESP_KERR_UNKNOWN_SERVER_ERROR;
    }
    return 0;
}

/* A BROKER resource name must be this node's id, or empty for the cluster
 * defaults.  0 or INVALID_REQUEST with Kafka's message. */
int16_t sesp_admin_check_broker_name(sesp_req *rq, sesp_kstr name, bool *is_default, char *msg, size_t msglen)
{
    const char *n = sesp_req_str(rq, name);
    *is_default = !*n;
    if (!*n)
        return 0;
    char *end;
    long id = strtol(n, &end, 10);
    if (*end || end == n) {
        snprintf(msg, msglen, "Broker id must be an integer, but it is: %s", n);
        return SESP_KERR_INVALID_REQUEST;
    }
    if (id != rq->srv->node_id) {
        snprintf(msg, msglen, "Unexpected broker id, expected %d or empty string, but received %s",
                 rq->srv->node_id, n);
        return SESP_KERR_INVALID_REQUEST;
    }
    return 0;
}

static int16_t describe_broker(sesp_req *rq, const sesp_kmsg_describe_configs_request *req, const dres *res,
                               dresult *r, char *msg, size_t msglen)
{
    bool cluster_default;
    int16_t e = sesp_admin_check_broker_name(rq, res->resource_name, &cluster_default, msg, msglen);
    if (e)
        return e;
    size_t n = cluster_default ? 0 : sesp_config_known_count();
    r->configs = sesp_arena_calloc(&rq->arena, n + 1, sizeof *r->configs);
    if (!r->configs) {
        snprintf(msg, msglen, "out of memory");
        return SESP_KERR_UNKNOWN_SERVER_ERROR;
    }
    int32_t cnt = 0;
    for (size_t i = 0; i < n; i++) {
        sesp_config_desc d;
        sesp_config_describe_at(rq->srv->cfg, i, &d);
        if (!d.name || !wanted(res, d.name))
            continue;
        /* Nothing can be changed at runtime: every broker key is read-only. */
        entry en = {
            .name = d.name, .value = d.value, .doc = d.doc, .is_default = d.is_default, .read_only = true,
            .sensitive = d.sensitive, .source = d.source, .type = d.type,
        };
        en.syn[en.nsyn++] = (dsyn){SESP_KSTR(d.name), arena_str(rq, d.value), d.source};
        add(rq, req, &r->configs[cnt++], &en);
    }
    r->configs_count = cnt;
    return 0;
}

void sesp_admin_h_describe_configs(sesp_req *rq)
{
    int16_t v = rq->hdr.api_version;
    sesp_kmsg_describe_configs_request req;
    if (sesp_kmsg_describe_configs_request_decode(&rq->body, v, &req, &rq->arena) != 0) {
        sesp_req_close(rq);
        return;
    }
    if (v < 1)
        req.include_synonyms = false;
    if (v < 3)
        req.include_documentation = false;
    int32_t n = req.resources_count > 0 ? req.resources_count : 0;
    sesp_kmsg_describe_configs_response m;
    sesp_kmsg_describe_configs_response_init(&m);
    m.results = sesp_arena_calloc(&rq->arena, (size_t)n + 1, sizeof *m.results);
    if (!m.results) {
        sesp_req_close(rq);
        return;
    }
    m.results_count = n;
    for (int32_t i = 0; i < n; i++) {
        const dres *res = &req.resources[i];
        dresult *r = &m.results[i];
        sesp_kmsg_describe_configs_response_describe_configs_result_init(r);
        r->resource_type = res->resource_type;
        r->resource_name = res->resource_name.len >= 0 ? res->resource_name : SESP_KSTR("");
        r->configs = NULL;
        r->configs_count = 0;
        char msg[SESP_TOPICS_MSG_LEN] = "";
        int16_t e;
        if (res->resource_type == SESP_ADMIN_RES_TOPIC) {
            e = describe_topic(rq, &req, res, r, msg, sizeof msg);
        } else if (res->resource_type == SESP_ADMIN_RES_BROKER) {
            e = describe_broker(rq, &req, res, r, msg, sizeof msg);
        } else {
            e = SESP_KERR_INVALID_REQUEST;
            snprintf(msg, sizeof msg, "Unsupported resource type: %d", res->resource_type);
        }
        if (e) {
            r->configs = NULL;
            r->configs_count = 0;
        }
        r->error_code = e;
        r->error_message = sesp_admin_msg(rq, e, msg);
    }
    SESP_ADMIN_RESPOND(rq, sesp_kmsg_describe_configs_response_encode, v, &m);
}
