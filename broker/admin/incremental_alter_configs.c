/*
 * IncrementalAlterConfigs (v0-1): SET, DELETE, APPEND and SUBTRACT on a
 * TOPIC resource's overrides; APPEND/SUBTRACT only for list configs (e.g.
 * cleanup.policy) and computed from the current effective value (override
 * or default).  BROKER resources accept only DELETEs, which remove nothing
 * since there are no dynamic broker configs.  validate_only checks and
 * changes nothing.  The current value is read before the registry applies
 * the change, so two concurrent APPENDs to one key may lose one (Kafka
 * serialises them on its controller; clients do not rely on it).
 */
#include <stdlib.h>
#include <string.h>

#include "admin_int.h"
#include "broker/protocol/generated/incremental_alter_configs_request.h"
#include "broker/protocol/generated/incremental_alter_configs_response.h"
#include "broker/protocol/kerr.h"

typedef sesp_kmsg_incremental_alter_configs_request_alter_configs_resource ires;

enum { OP_SET = 0, OP_DELETE = 1, OP_APPEND = 2, OP_SUBTRACT = 3 };

/* The items of a comma list, trimmed, in the arena. */
static size_t split(sesp_req *rq, const char *s, char ***out)
{
    size_t cap = 1;
    for (const char *p = s; *p; p++)
        cap += *p == ',';
    char **items = sesp_arena_calloc(&rq->arena, cap + 1, sizeof *items);
    size_t n = 0;
    if (!items) {
        *out = NULL;
        return 0;
    }
    const char *p = s;
    while (*p) {
        while (*p == ' ')
            p++;
        const char *b = p;
        while (*p && *p != ',')
            p++;
        const char *e = p;
        while (e > b && e[-1] == ' ')
            e--;
        if (e > b)
            items[n++] = sesp_arena_strndup(&rq->arena, b, (size_t)(e - b));
        if (*p == ',')
            p++;
    }
    *out = items;
    return n;
}

static bool has(char **items, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (items[i] && strcmp(items[i], s) == 0)
            return true;
    return false;
}

/* The new value of a list key after APPEND / SUBTRACT of arg. */
static char *list_op(sesp_req *rq, const char *cur, const char *arg, int op)
{
    char **old, **chg;
    size_t nold = split(rq, cur ? cur : "", &old), nchg = split(rq, arg, &chg);
    size_t len = strlen(cur ? cur : "") + strlen(arg) + nold + nchg + 2; /* items, commas, NUL */
    char *out = sesp_arena_alloc(&rq->arena, len);
    if (!old || !chg || !out)
        return NULL;
    size_t off = 0;
    for (size_t i = 0; i < nold; i++) {
        if (!old[i] || (op == OP_SUBTRACT && has(chg, nchg, old[i])))
            continue;
        off += (size_t)snprintf(out + off, len - off, "%s%s", off ? "," : "", old[i]);
    }
    for (size_t i = 0; op == OP_APPEND && i < nchg; i++) {
        if (!chg[i] || has(old, nold, chg[i]) || has(chg, i, chg[i]))
            continue;
        off += (size_t)snprintf(out + off, len - off, "%s%s", off ? "," : "", chg[i]);
    }
    return out;
}

static int16_t alter_topic(sesp_req *rq, const ires *res, bool validate_only, char *msg, size_t msglen)
{
    sesp_server *s = rq->srv;
    size_t n = res->configs_count > 0 ? (size_t)res->configs_count : 0;
    sesp_topic *tp = NULL;
    sesp_topic_config_desc *d = NULL;
    size_t nd = 0;
    int16_t e = sesp_admin_topic_exists(rq, res->resource_name, msg, msglen);
    if (e)
        return e;
    const char *name = sesp_req_str(rq, res->resource_name);
    sesp_topic_kv *kv = sesp_arena_calloc(&rq->arena, n + 1, sizeof *kv);
    if (!kv || !name)
        goto oom;
    for (size_t i = 0; !e && i < n; i++) {
        const sesp_kmsg_incremental_alter_configs_request_alterable_config *c = &res->configs[i];
        kv[i].key = sesp_req_str(rq, c->name);
        if (!kv[i].key)
            goto oom;
        for (size_t j = 0; j < i; j++)
            if (strcmp(kv[j].key, kv[i].key) == 0) {
                snprintf(msg, msglen, "Error due to duplicate config keys");
                e = SESP_KERR_INVALID_REQUEST;
                goto done;
            }
        switch (c->config_operation) {
        case OP_SET:
            if (c->value.len < 0) {
                snprintf(msg, msglen, "Null value not supported for : %s", kv[i].key);
                e = SESP_KERR_INVALID_REQUEST;
                goto done;
            }
            kv[i].value = sesp_req_str(rq, c->value);
            break;
        case OP_DELETE:
            kv[i].value = NULL;
            break;
        case OP_APPEND:
        case OP_SUBTRACT: {
            const char *opname = c->config_operation == OP_APPEND ? "append" : "subtract";
            if (!d) {
                tp = sesp_topics_get(s->topics, name, strlen(name));
                if (!tp) {
                    snprintf(msg, msglen, "The topic '%s' does not exist.", name);
                    e = SESP_KERR_UNKNOWN_TOPIC_OR_PARTITION;
                    goto done;
                }
                if (sesp_topic_configs_describe(s->topics, tp, &d, &nd) != 0)
                    goto oom;
            }
            size_t k;
            for (k = 0; k < nd && strcmp(d[k].name, kv[i].key) != 0; k++)
                ;
            if (k == nd) {
                snprintf(msg, msglen, "Unknown topic config name: %s", kv[i].key);
                e = SESP_KERR_INVALID_CONFIG;
                goto done;
            }
            if (d[k].type != SESP_CONFIG_TYPE_LIST) {
                snprintf(msg, msglen, "Config value %s is not allowed for config key: %s", opname, kv[i].key);
                e = SESP_KERR_INVALID_CONFIG;
                goto done;
            }
            if (c->value.len < 0) {
                snprintf(msg, msglen, "Null value not supported for : %s", kv[i].key);
                e = SESP_KERR_INVALID_REQUEST;
                goto done;
            }
            const char *arg = sesp_req_str(rq, c->value);
            kv[i].value = arg ? list_op(rq, d[k].value, arg, c->config_operation) : NULL;
            if (!kv[i].value)
                goto oom;
            break;
        }
        default:
            snprintf(msg, msglen, "Unknown alter configs operation %d for config key: %s", c->config_operation,
                     kv[i].key);
            e = SESP_KERR_INVALID_REQUEST;
            goto done;
        }
    }
    e = sesp_topics_alter_configs(s->topics, name, strlen(name), kv, n, false, validate_only, msg, msglen);
done:
    sesp_topic_configs_free(d, nd);
    if (tp)
        sesp_topic_release(tp);
    return e;
oom:
    snprintf(msg, msglen, "out of memory");
    e = SESP_KERR_UNKNOWN_SERVER_ERROR;
    goto done;
}

static int16_t alter_one(sesp_req *rq, const ires *res, bool validate_only, char *msg, size_t msglen)
{
    if (res->resource_type == SESP_ADMIN_RES_TOPIC)
        return alter_topic(rq, res, validate_only, msg, msglen);
    if (res->resource_type != SESP_ADMIN_RES_BROKER) {
        snprintf(msg, msglen, "Unsupported resource type: %d", res->resource_type);
        return SESP_KERR_INVALID_REQUEST;
    }
    size_t n = res->configs_count > 0 ? (size_t)res->configs_count : 0, nset = 0;
    const char **keys = sesp_arena_calloc(&rq->arena, n + 1, sizeof *keys);
    if (!keys) {
        snprintf(msg, msglen, "out of memory");
        return SESP_KERR_UNKNOWN_SERVER_ERROR;
    }
    for (size_t i = 0; i < n; i++)
        if (res->configs[i].config_operation != OP_DELETE)
            keys[nset++] = sesp_req_str(rq, res->configs[i].name);
    return sesp_admin_alter_broker(rq, res->resource_name, keys, nset, msg, msglen);
}

static int16_t apply_at(sesp_req *rq, const void *ctx, int32_t i, char *msg, size_t msglen)
{
    const sesp_kmsg_incremental_alter_configs_request *req = ctx;
    return alter_one(rq, &req->resources[i], req->validate_only, msg, msglen);
}

void sesp_admin_h_incremental_alter_configs(sesp_req *rq)
{
    int16_t v = rq->hdr.api_version;
    sesp_kmsg_incremental_alter_configs_request req;
    if (sesp_kmsg_incremental_alter_configs_request_decode(&rq->body, v, &req, &rq->arena) != 0) {
        sesp_req_close(rq);
        return;
    }
    int32_t n = req.resources_count > 0 ? req.resources_count : 0;
    sesp_kmsg_incremental_alter_configs_response m;
    sesp_kmsg_incremental_alter_configs_response_init(&m);
    m.responses = sesp_arena_calloc(&rq->arena, (size_t)n + 1, sizeof *m.responses);
    sesp_admin_res *res = sesp_arena_calloc(&rq->arena, (size_t)n + 1, sizeof *res);
    if (!m.responses || !res) {
        sesp_req_close(rq);
        return;
    }
    for (int32_t i = 0; i < n; i++) {
        res[i].type = req.resources[i].resource_type;
        res[i].name = req.resources[i].resource_name;
    }
    sesp_admin_apply_resources(rq, res, n, apply_at, &req);
    m.responses_count = n;
    for (int32_t i = 0; i < n; i++) {
        sesp_kmsg_incremental_alter_configs_response_alter_configs_resource_response *r = &m.responses[i];
        sesp_kmsg_incremental_alter_configs_response_alter_configs_resource_response_init(r);
        r->resource_type = res[i].type;
        r->resource_name = res[i].name;
        r->error_code = res[i].err;
        r->error_message = res[i].msg;
    }
    SESP_ADMIN_RESPOND(rq, sesp_kmsg_incremental_alter_configs_response_encode, v, &m);
}
