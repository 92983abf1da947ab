/*
 * Registration of the admin APIs and the helpers their handlers share:
 * arena-backed error messages, duplicate detection within one request, the
 * per-resource loop of the two AlterConfigs APIs, and
 * the check that a manual replica assignment names only this node (the
 * single broker every partition lives on).
 */
#include "admin.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "admin_int.h"
#include "broker/protocol/kerr.h"

int sesp_admin_register(sesp_server *s)
{
    static const sesp_api_def defs[] = {
        {19, 0, 7, sesp_admin_h_create_topics},
        {20, 0, 6, sesp_admin_h_delete_topics},
        {21, 0, 2, sesp_admin_h_delete_records},
        {32, 0, 4, sesp_admin_h_describe_configs},
        {33, 0, 2, sesp_admin_h_alter_configs},
        {35, 0, 4, sesp_admin_h_describe_log_dirs},
        {37, 0, 3, sesp_admin_h_create_partitions},
        {44, 0, 1, sesp_admin_h_incremental_alter_configs},
        {60, 0, 1, sesp_admin_h_describe_cluster},
    };
    for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++) {
        int rc = sesp_server_add_api(s, &defs[i]);
        if (rc)
            return rc;
    }
    return 0;
}

sesp_kstr sesp_admin_msg(sesp_req *rq, int16_t err, const char *msg)
{
    if (!err || !msg || !*msg)
        return SESP_KSTR_NULL;
    char *c = sesp_arena_strndup(&rq->arena, msg, strlen(msg));
    return c ? SESP_KSTR(c) : SESP_KSTR_NULL;
}

char *sesp_admin_fmt(sesp_req *rq, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    char *c = sesp_arena_strndup(&rq->arena, buf, strlen(buf));
    return c ? c : (char *)"";
}

bool sesp_admin_dup_name(const sesp_kstr *names, int32_t n, int32_t i)
{
    if (names[i].len < 0)
        return false;
    for (int32_t j = 0; j < n; j++)
        if (j != i && names[j].len == names[i].len &&
            (names[i].len == 0 || memcmp(names[j].ptr, names[i].ptr, (size_t)names[i].len) == 0))
            return true;
    return false;
}

int16_t sesp_admin_check_replicas(const int32_t *ids, int32_t n, int32_t node_id, char *msg, size_t msglen)
{
    if (n <= 0) {
        snprintf(msg, msglen, "The manual partition assignment includes an empty replica list.");
        return SESP_KERR_INVALID_REPLICA_ASSIGNMENT;
    }
    for (int32_t i = 0; i < n; i++) {
        for (int32_t j = 0; j < i; j++)
            if (ids[j] == ids[i]) {
                snprintf(msg, msglen, "The manual partition assignment includes the broker %d more than once.",
                         ids[i]);
                return SESP_KERR_INVALID_REPLICA_ASSIGNMENT;
            }
        if (ids[i] != node_id) {
            snprintf(msg, msglen,
                     "The manual partition assignment includes broker %d, but no such broker is registered.", ids[i]);
            return SESP_KERR_INVALID_REPLICA_ASSIGNMENT;
        }
    }
    return SESP_KERR_NONE;
}

int16_t sesp_admin_alter_broker(sesp_req *rq, sesp_kstr name, const char *const *keys, size_t n, char *msg,
                                size_t msglen)
{
    bool cluster_default;
    int16_t e = sesp_admin_check_broker_name(rq, name, &cluster_default, msg, msglen);
    if (e || n == 0)
        return e;
    /* Dynamic broker configs are not supported: every key is read-only
     * (DescribeConfigs says so), so any change is refused as a whole. */
    size_t off = (size_t)snprintf(msg, msglen, "Cannot update these configs dynamically: Set(");
    for (size_t i = 0; i < n && off < msglen; i++)
        off += (size_t)snprintf(msg + off, msglen - off, "%s%s", i ? ", " : "", keys[i]);
    if (off < msglen)
        snprintf(msg + off, msglen - off, ")");
    return SESP_KERR_INVALID_REQUEST;
}

int16_t sesp_admin_topic_exists(sesp_req *rq, sesp_kstr name, char *msg, size_t msglen)
{
    const char *n = sesp_req_str(rq, name);
    int16_t e = sesp_topics_validate_name(n, strlen(n), msg, msglen);
    if (e)
        return e;
    sesp_topic *tp = sesp_topics_get(rq->srv->topics, n, strlen(n));
    if (!tp) {
        snprintf(msg, msglen, "The topic '%s' does not exist.", n);
        return SESP_KERR_UNKNOWN_TOPIC_OR_PARTITION;
    }
    sesp_topic_release(tp);
    return 0;
}

static bool dup_resource(const sesp_admin_res *res, int32_t n, int32_t i)
{
    for (int32_t j = 0; j < n; j++)
        if (j != i && res[j].type == res[i].type && res[j].name.len == res[i].name.len &&
            (res[i].name.len <= 0 || memcmp(res[j].name.ptr, res[i].name.ptr, (size_t)res[i].name.len) == 0))
            return true;
    return false;
}

void sesp_admin_apply_resources(sesp_req *rq, sesp_admin_res *res, int32_t n, sesp_admin_apply_fn apply,
                                const void *ctx)
{
    for (int32_t i = 0; i < n; i++) {
        char msg[SESP_TOPICS_MSG_LEN] = "";
        int16_t e;
        if (dup_resource(res, n, i)) {
            e = SESP_KERR_INVALID_REQUEST;
            snprintf(msg, sizeof msg, "Duplicate resource.");
        } else {
            e = apply(rq, ctx, i, msg, sizeof msg);
        }
        res[i].err = e;
        res[i].msg = sesp_admin_msg(rq, e, msg);
    }
    /* Only now: a null name must still differ from an empty one in the duplicate check. */
    for (int32_t i = 0; i < n; i++)
        if (res[i].name.len < 0)
            res[i].name = SESP_KSTR("");
}
