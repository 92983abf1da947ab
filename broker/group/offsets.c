/*
 * Committed offsets: OffsetCommit (generation/member validation for group
 * members, generation -1 simple commits for standalone consumers),
 * OffsetFetch (single group up to v7, multi-group v8+, -1 for partitions
 * without a commit), OffsetDelete (refused for topics the group subscribes
 * to), and offset retention (offsets.retention.minutes from the time a group
 * became Empty, or from the commit for standalone groups and for topics a
 * Stable consumer group no longer subscribes to, KIP-211/KIP-496).  Every
 * change is written to __consumer_offsets before the in-memory cache moves.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/group/group_int.h"
#include "broker/protocol/generated/kmsg.h"
#include "broker/protocol/kerr.h"
#include "common/err.h"

#define GC_MAX_OFFSET_METADATA 4096 /* offset.metadata.max.bytes */

/* ---- cache ---- */

static uint8_t *offset_key(const char *topic, size_t tlen, int32_t partition, uint8_t *stackbuf, size_t cap,
                           size_t *klen)
{
    uint8_t *k = tlen + 4 <= cap ? stackbuf : malloc(tlen + 4);
    if (!k)
        return NULL;
    if (tlen)
        memcpy(k, topic, tlen);
    uint32_t p = (uint32_t)partition;
    k[tlen] = (uint8_t)(p >> 24);
    k[tlen + 1] = (uint8_t)(p >> 16);
    k[tlen + 2] = (uint8_t)(p >> 8);
    k[tlen + 3] = (uint8_t)p;
    *klen = tlen + 4;
    return k;
}

gc_offset *gc_offset_get(gc_group *g, const char *topic, size_t tlen, int32_t partition)
{
    uint8_t sb[256];
    size_t kl;
    uint8_t *k = offset_key(topic, tlen, partition, sb, sizeof sb, &kl);
    if (!k)
        return NULL;
    gc_offset *o = gmap_get(&g->offsets, k, kl);
    if (k != sb)
        free(k);
    return o;
}

void gc_offset_free(void *p)
{
    gc_offset *o = p;
    if (!o)
        return;
    free(o->topic);
    free(o->metadata);
    free(o);
}

int gc_offset_put(gc_group *g, const gc_offset *src)
{
    size_t tlen = strlen(src->topic);
    gc_offset *o = calloc(1, sizeof *o);
    if (!o)
        return SESP_ERR_NOMEM;
    *o = *src;
    o->topic = strdup(src->topic);
    o->metadata = strdup(src->metadata ? src->metadata : "");
    uint8_t sb[256];
    size_t kl;
    uint8_t *k = offset_key(src->topic, tlen, src->partition, sb, sizeof sb, &kl);
    if (!o->topic || !o->metadata || !k) {
        gc_offset_free(o);
        return SESP_ERR_NOMEM;
    }
    gc_offset *old = gmap_get(&g->offsets, k, kl);
    int rc = gmap_put(&g->offsets, k, kl, o);
    if (k != sb)
        free(k);
    if (rc != 0) {
        gc_offset_free(o);
        return rc;
    }
    gc_offset_free(old);
    return 0;
}

void gc_offset_del(gc_group *g, const char *topic, size_t tlen, int32_t partition)
{
    uint8_t sb[256];
    size_t kl;
    uint8_t *k = offset_key(topic, tlen, partition, sb, sizeof sb, &kl);
    if (!k)
        return;
    gc_offset_free(gmap_del(&g->offsets, k, kl));
    if (k != sb)
        free(k);
}

/* ---- OffsetCommit ---- */

/* Kafka's legal topic names ([a-zA-Z0-9._-], 1..249): anything else cannot
 * exist, so a commit for it is UNKNOWN_TOPIC_OR_PARTITION as in Kafka. */
static bool topic_legal(sesp_kstr t)
{
    if (t.len <= 0 || t.len > 249)
        return false;
    for (int32_t i = 0; i < t.len; i++) {
        char c = t.ptr[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return false;
    }
    return true;
}

static int16_t validate_commit(gc_group *g, const sesp_kmsg_offset_commit_request *req, gc_member **mout)
{
    *mout = NULL;
    if (g->state == GS_DEAD)
        return SESP_KERR_COORDINATOR_NOT_AVAILABLE;
    if (req->generation_id_or_member_epoch >= 0 || req->member_id.len > 0 || req->group_instance_id.len >= 0) {
        gc_member *stat = gc_member_by_instance(g, req->group_instance_id);
        gc_member *m = gc_member_find(g, req->member_id);
        if (stat && stat != m)
            return SESP_KERR_FENCED_INSTANCE_ID;
        if (!m)
            return SESP_KERR_UNKNOWN_MEMBER_ID;
        if (req->generation_id_or_member_epoch != g->generation)
            return SESP_KERR_ILLEGAL_GENERATION;
        *mout = m;
    } else if (g->state != GS_EMPTY) {
        /* Only members may commit for a group that has members. */
        return SESP_KERR_UNKNOWN_MEMBER_ID;
    }
    if (g->state == GS_COMPLETING)
        return SESP_KERR_REBALANCE_IN_PROGRESS;
    return SESP_KERR_NONE;
}

void gc_handle_offset_commit(gc_t *gc, gc_job *j, sesp_arena *a)
{
    sesp_kmsg_offset_commit_request req;
    sesp_bufr r;
    sesp_bufr_init(&r, j->body, j->len);
    if (sesp_kmsg_offset_commit_request_decode(&r, j->version, &req, a) != 0) {
        j->done(j->ctx, NULL, SESP_ERR_MALFORMED);
        return;
    }
    int nt = req.topics_count > 0 ? req.topics_count : 0;
    sesp_kmsg_offset_commit_response resp;
    sesp_kmsg_offset_commit_response_init(&resp);
    sesp_kmsg_offset_commit_response_offset_commit_response_topic *rt = sesp_arena_calloc(a, (size_t)nt + 1, sizeof *rt);
    int total = 0;
    if (!rt)
        goto oom;
    for (int t = 0; t < nt; t++) {
        int np = req.topics[t].partitions_count > 0 ? req.topics[t].partitions_count : 0;
        rt[t].name = req.topics[t].name.len >= 0 ? req.topics[t].name : SESP_KSTR("");
        rt[t].partitions = sesp_arena_calloc(a, (size_t)np + 1, sizeof *rt[t].partitions);
        if (!rt[t].partitions)
            goto oom;
        rt[t].partitions_count = np;
        for (int p = 0; p < np; p++)
            rt[t].partitions[p].partition_index = req.topics[t].partitions[p].partition_index;
        total += np;
    }
    resp.topics = rt;
    resp.topics_count = nt;

    int16_t err = gc_gate(gc);
    gc_group *g = NULL;
    bool created = false;
    if (!err && req.group_id.len < 0)
        err = SESP_KERR_INVALID_GROUP_ID;
    if (!err) {
        g = gc_group_find(gc, req.group_id);
        if (!g) {
            if (req.generation_id_or_member_epoch < 0) {
                /* A standalone consumer (assign()): the group exists only for its offsets. */
                g = gc_group_create(gc, req.group_id.ptr ? req.group_id.ptr : "", (size_t)req.group_id.len);
                created = g != NULL;
                if (!g)
                    err = SESP_KERR_UNKNOWN_SERVER_ERROR;
            } else {
                err = SESP_KERR_ILLEGAL_GENERATION;
            }
        }
    }
    gc_member *m = NULL;
    if (!err)
        err = validate_commit(g, &req, &m);
    if (m)
        gc_member_touch(m);
    gc_rec *recs = NULL;
    gc_offset *offs = NULL;
    int *map_t = NULL, *map_p = NULL, nrec = 0;
    if (!err && total > 0) {
        recs = calloc((size_t)total, sizeof *recs);
        offs = calloc((size_t)total, sizeof *offs);
        map_t = calloc((size_t)total, sizeof *map_t);
        map_p = calloc((size_t)total, sizeof *map_p);
        if (!recs || !offs || !map_t || !map_p)
            err = SESP_KERR_UNKNOWN_SERVER_ERROR;
    }
    int64_t now = gc_now_ms();
    for (int t = 0; !err && t < nt; t++) {
        char *topic = sesp_kstr_dup(rt[t].name, a);
        for (int p = 0; p < rt[t].partitions_count; p++) {
            const sesp_kmsg_offset_commit_request_offset_commit_request_partition *rp = &req.topics[t].partitions[p];
            if (!topic_legal(rt[t].name)) {
                rt[t].partitions[p].error_code = SESP_KERR_UNKNOWN_TOPIC_OR_PARTITION;
                continue;
            }
            if (!topic) {
                rt[t].partitions[p].error_code = SESP_KERR_UNKNOWN_SERVER_ERROR;
                continue;
            }
            if (rp->committed_metadata.len > GC_MAX_OFFSET_METADATA) {
                rt[t].partitions[p].error_code = SESP_KERR_OFFSET_METADATA_TOO_LARGE;
                continue;
            }
            gc_offset *o = &offs[nrec];
            o->topic = topic;
            o->partition = rp->partition_index;
            o->offset = rp->committed_offset;
            o->leader_epoch = rp->committed_leader_epoch;
            o->metadata = rp->committed_metadata.len >= 0 ? sesp_kstr_dup(rp->committed_metadata, a) : "";
            if (!o->metadata)
                o->metadata = "";
            o->commit_ts = j->version == 1 && rp->commit_timestamp != -1 ? rp->commit_timestamp : now;
            o->expire_ts = req.retention_time_ms != -1 ? now + req.retention_time_ms : -1;
            if (gc_rec_offset(&recs[nrec], gc_gid(g), o, false) != 0) {
                rt[t].partitions[p].error_code = SESP_KERR_UNKNOWN_SERVER_ERROR;
                continue;
            }
            map_t[nrec] = t;
            map_p[nrec] = p;
            nrec++;
        }
    }
    if (!err && nrec > 0) {
        int16_t aerr = gc_append(gc, g->partition, recs, nrec);
        if (aerr == SESP_KERR_RECORD_LIST_TOO_LARGE)
            aerr = SESP_KERR_INVALID_COMMIT_OFFSET_SIZE;
        for (int i = 0; i < nrec; i++) {
            int16_t e = aerr;
            if (!e && gc_offset_put(g, &offs[i]) != 0)
                e = SESP_KERR_UNKNOWN_SERVER_ERROR;
            rt[map_t[i]].partitions[map_p[i]].error_code = e;
        }
    }
    if (err) {
        for (int t = 0; t < nt; t++)
            for (int p = 0; p < rt[t].partitions_count; p++)
                rt[t].partitions[p].error_code = err;
    }
    if (recs)
        gc_rec_free(recs, nrec);
    free(recs);
    free(offs);
    free(map_t);
    free(map_p);
    if (created && g->offsets.n == 0 && g->nmembers == 0)
        gc_group_remove(gc, g);
    sesp_bufw w;
    sesp_bufw_init(&w, 64 + (size_t)total * 8, 0);
    gc_send(j->done, j->ctx, &w, sesp_kmsg_offset_commit_response_encode(&w, j->version, &resp));
    return;
oom:
    j->done(j->ctx, NULL, SESP_ERR_NOMEM);
}

/* ---- OffsetFetch ---- */

typedef struct fetch_part {
    int32_t partition;
    int64_t offset;
    int32_t epoch;
    sesp_kstr metadata;
    int16_t err;
} fetch_part;

typedef struct fetch_topic {
    sesp_kstr name;
    fetch_part *parts;
    int32_t n;
} fetch_topic;

static int cmp_off(const void *a, const void *b)
{
    const gc_offset *x = *(const gc_offset *const *)a, *y = *(const gc_offset *const *)b;
    int c = strcmp(x->topic, y->topic);
    if (c)
        return c;
    return x->partition < y->partition ? -1 : x->partition > y->partition;
}

/* Fills the answer for one group: requested topics (or every committed one
 * when topics_count < 0).  Returns the number of topics or -1 on OOM. */
static int fetch_group(gc_group *g, const sesp_kstr *names, int32_t *const *parts, const int32_t *nparts,
                       int32_t topics_count, int16_t err, sesp_arena *a, fetch_topic **out)
{
    if (topics_count >= 0) {
        fetch_topic *ft = sesp_arena_calloc(a, (size_t)topics_count + 1, sizeof *ft);
        if (!ft)
            return -1;
        for (int t = 0; t < topics_count; t++) {
            int np = nparts[t] > 0 ? nparts[t] : 0;
            ft[t].name = names[t].len >= 0 ? names[t] : SESP_KSTR("");
            ft[t].parts = sesp_arena_calloc(a, (size_t)np + 1, sizeof *ft[t].parts);
            if (!ft[t].parts)
                return -1;
            ft[t].n = np;
            for (int p = 0; p < np; p++) {
                fetch_part *fp = &ft[t].parts[p];
                fp->partition = parts[t][p];
                fp->offset = -1;
                fp->epoch = -1;
                fp->metadata = SESP_KSTR("");
                fp->err = err;
                gc_offset *o = g && !err ? gc_offset_get(g, ft[t].name.ptr ? ft[t].name.ptr : "",
                                                         (size_t)ft[t].name.len, fp->partition)
                                         : NULL;
                if (o) {
                    fp->offset = o->offset;
                    fp->epoch = o->leader_epoch;
                    fp->metadata = SESP_KSTR(o->metadata ? o->metadata : "");
                }
            }
        }
        *out = ft;
        return topics_count;
    }
    if (!g || err || g->offsets.n == 0) {
        *out = sesp_arena_calloc(a, 1, sizeof **out);
        return *out ? 0 : -1;
    }
    gc_offset **all = sesp_arena_calloc(a, g->offsets.n, sizeof *all);
    if (!all)
        return -1;
    size_t n = 0;
    GMAP_EACH(&g->offsets, e, nx) {
        all[n++] = e->val;
    }
    qsort(all, n, sizeof *all, cmp_off);
    fetch_topic *ft = sesp_arena_calloc(a, n + 1, sizeof *ft);
    fetch_part *fp = sesp_arena_calloc(a, n + 1, sizeof *fp);
    if (!ft || !fp)
        return -1;
    int nt = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || strcmp(all[i]->topic, all[i - 1]->topic) != 0) {
            ft[nt].name = SESP_KSTR(all[i]->topic);
            ft[nt].parts = &fp[i];
            nt++;
        }
        fp[i] = (fetch_part){ all[i]->partition, all[i]->offset, all[i]->leader_epoch,
                              SESP_KSTR(all[i]->metadata ? all[i]->metadata : ""), SESP_KERR_NONE };
        ft[nt - 1].n++;
    }
    *out = ft;
    return nt;
}

void gc_handle_offset_fetch(gc_t *gc, gc_job *j, sesp_arena *a)
{
    sesp_kmsg_offset_fetch_request req;
    sesp_bufr r;
    sesp_bufr_init(&r, j->body, j->len);
    if (sesp_kmsg_offset_fetch_request_decode(&r, j->version, &req, a) != 0) {
        j->done(j->ctx, NULL, SESP_ERR_MALFORMED);
        return;
    }
    sesp_kmsg_offset_fetch_response resp;
    sesp_kmsg_offset_fetch_response_init(&resp);
    int16_t gate = gc_gate(gc);
    int ngroups = j->version >= 8 ? (req.groups_count > 0 ? req.groups_count : 0) : 1;
    sesp_kmsg_offset_fetch_response_offset_fetch_response_group *rg =
        j->version >= 8 ? sesp_arena_calloc(a, (size_t)ngroups + 1, sizeof *rg) : NULL;
    if (j->version >= 8 && !rg)
        goto oom;
    for (int gi = 0; gi < ngroups; gi++) {
        sesp_kstr gid = j->version >= 8 ? req.groups[gi].group_id : req.group_id;
        int32_t tc = j->version >= 8 ? req.groups[gi].topics_count : req.topics_count;
        sesp_kstr *names = sesp_arena_calloc(a, tc > 0 ? (size_t)tc : 1, sizeof *names);
        int32_t **parts = sesp_arena_calloc(a, tc > 0 ? (size_t)tc : 1, sizeof *parts);
        int32_t *nparts = sesp_arena_calloc(a, tc > 0 ? (size_t)tc : 1, sizeof *nparts);
        if (!names || !parts || !nparts)
            goto oom;
        for (int t = 0; t < tc; t++) {
            if (j->version >= 8) {
                names[t] = req.groups[gi].topics[t].name;
                parts[t] = req.groups[gi].topics[t].partition_indexes;
                nparts[t] = req.groups[gi].topics[t].partition_indexes_count;
            } else {
                names[t] = req.topics[t].name;
                parts[t] = req.topics[t].partition_indexes;
                nparts[t] = req.topics[t].partition_indexes_count;
            }
        }
        int16_t err = gate;
        gc_group *g = err ? NULL : gc_group_find(gc, gid);
        /* v0-1 have no group-level error: it goes into every partition. */
        fetch_topic *ft = NULL;
        int nt = fetch_group(g, names, parts, nparts, tc, j->version <= 1 ? err : 0, a, &ft);
        if (nt < 0)
            goto oom;
        if (j->version >= 8) {
            rg[gi].group_id = gid;
            rg[gi].error_code = err;
            rg[gi].topics = sesp_arena_calloc(a, (size_t)nt + 1, sizeof *rg[gi].topics);
            if (!rg[gi].topics)
                goto oom;
            rg[gi].topics_count = nt;
            for (int t = 0; t < nt; t++) {
                rg[gi].topics[t].name = ft[t].name;
                rg[gi].topics[t].partitions = sesp_arena_calloc(a, (size_t)ft[t].n + 1, sizeof(*rg[gi].topics[t].partitions));
                if (!rg[gi].topics[t].partitions)
                    goto oom;
                rg[gi].topics[t].partitions_count = ft[t].n;
                for (int p = 0; p < ft[t].n; p++) {
                    sesp_kmsg_offset_fetch_response_offset_fetch_response_partitions *o = &rg[gi].topics[t].partitions[p];
                    o->partition_index = ft[t].parts[p].partition;
                    o->committed_offset = ft[t].parts[p].offset;
                    o->committed_leader_epoch = ft[t].parts[p].epoch;
                    o->metadata = ft[t].parts[p].metadata;
                    o->error_code = ft[t].parts[p].err;
                }
            }
        } else {
            resp.error_code = j->version >= 2 ? err : 0;
            resp.topics = sesp_arena_calloc(a, (size_t)nt + 1, sizeof *resp.topics);
            if (!resp.topics)
                goto oom;
            resp.topics_count = nt;
            for (int t = 0; t < nt; t++) {
                resp.topics[t].name = ft[t].name;
                resp.topics[t].partitions = sesp_arena_calloc(a, (size_t)ft[t].n + 1, sizeof(*resp.topics[t].partitions));
                if (!resp.topics[t].partitions)
                    goto oom;
                resp.topics[t].partitions_count = ft[t].n;
                for (int p = 0; p < ft[t].n; p++) {
                    sesp_kmsg_offset_fetch_response_offset_fetch_response_partition *o = &resp.topics[t].partitions[p];
                    o->partition_index = ft[t].parts[p].partition;
                    o->committed_offset = ft[t].parts[p].offset;
                    o->committed_leader_epoch = ft[t].parts[p].epoch;
                    o->metadata = ft[t].parts[p].metadata;
                    o->error_code = ft[t].parts[p].err;
                }
            }
        }
    }
    if (j->version >= 8) {
        resp.groups = rg;
        resp.groups_count = ngroups;
    }
    sesp_bufw w;
    sesp_bufw_init(&w, 256, 0);
    gc_send(j->done, j->ctx, &w, sesp_kmsg_offset_fetch_response_encode(&w, j->version, &resp));
    return;
oom:
    j->done(j->ctx, NULL, SESP_ERR_NOMEM);
}

/* ---- OffsetDelete ---- */

static bool in_list(const char **list, sesp_kstr s)
{
    for (size_t i = 0; list && list[i]; i++)
        if (sesp_kstr_eq(s, list[i]))
            return true;
    return false;
}

void gc_handle_offset_delete(gc_t *gc, gc_job *j, sesp_arena *a)
{
    sesp_kmsg_offset_delete_request req;
    sesp_bufr r;
    sesp_bufr_init(&r, j->body, j->len);
    if (sesp_kmsg_offset_delete_request_decode(&r, j->version, &req, a) != 0) {
        j->done(j->ctx, NULL, SESP_ERR_MALFORMED);
        return;
    }
    sesp_kmsg_offset_delete_response resp;
    sesp_kmsg_offset_delete_response_init(&resp);
    int nt = req.topics_count > 0 ? req.topics_count : 0;
    int16_t err = gc_gate(gc);
    gc_group *g = NULL;
    if (!err) {
        g = gc_group_find(gc, req.group_id);
        if (!g || g->state == GS_DEAD)
            err = SESP_KERR_GROUP_ID_NOT_FOUND;
    }
    bool consumer = false;
    const char **subscribed = NULL;
    if (!err && g->nmembers > 0) {
        subscribed = gc_subscribed_topics(g, a, &consumer);
        if (!consumer)
            err = SESP_KERR_NON_EMPTY_GROUP;
    }
    resp.error_code = err;
    if (err) {
        resp.topics = NULL;
        resp.topics_count = 0;
        goto send;
    }
    resp.topics = sesp_arena_calloc(a, (size_t)nt + 1, sizeof *resp.topics);
    if (!resp.topics)
        goto oom;
    resp.topics_count = nt;
    int total = 0;
    for (int t = 0; t < nt; t++)
        total += req.topics[t].partitions_count > 0 ? req.topics[t].partitions_count : 0;
    gc_rec *recs = calloc((size_t)total + 1, sizeof *recs);
    int *mt = calloc((size_t)total + 1, sizeof *mt), *mp = calloc((size_t)total + 1, sizeof *mp);
    if (!recs || !mt || !mp) {
        free(recs);
        free(mt);
        free(mp);
        goto oom;
    }
    int nrec = 0;
    for (int t = 0; t < nt; t++) {
        int np = req.topics[t].partitions_count > 0 ? req.topics[t].partitions_count : 0;
        sesp_kstr name = req.topics[t].name.len >= 0 ? req.topics[t].name : SESP_KSTR("");
        resp.topics[t].name = name;
        resp.topics[t].partitions = sesp_arena_calloc(a, (size_t)np + 1, sizeof *resp.topics[t].partitions);
        if (!resp.topics[t].partitions) {
            gc_rec_free(recs, nrec);
            free(recs);
            free(mt);
            free(mp);
            goto oom;
        }
        resp.topics[t].partitions_count = np;
        bool sub = in_list(subscribed, name);
        for (int p = 0; p < np; p++) {
            int32_t pi = req.topics[t].partitions[p].partition_index;
            resp.topics[t].partitions[p].partition_index = pi;
            if (sub) {
                resp.topics[t].partitions[p].error_code = SESP_KERR_GROUP_SUBSCRIBED_TO_TOPIC;
                continue;
            }
            gc_offset *o = gc_offset_get(g, name.ptr ? name.ptr : "", (size_t)name.len, pi);
            if (!o)
                continue;
            if (gc_rec_offset(&recs[nrec], gc_gid(g), o, true) != 0) {
                resp.topics[t].partitions[p].error_code = SESP_KERR_UNKNOWN_SERVER_ERROR;
                continue;
            }
            mt[nrec] = t;
            mp[nrec] = p;
            nrec++;
        }
    }
    int16_t aerr = gc_append(gc, g->partition, recs, nrec);
    for (int i = 0; i < nrec; i++) {
        resp.topics[mt[i]].partitions[mp[i]].error_code = aerr;
        if (!aerr) {
            sesp_kstr name = resp.topics[mt[i]].name;
            gc_offset_del(g, name.ptr ? name.ptr : "", (size_t)name.len,
                          resp.topics[mt[i]].partitions[mp[i]].partition_index);
        }
    }
    gc_rec_free(recs, nrec);
    free(recs);
    free(mt);
    free(mp);
send:;
    sesp_bufw w;
    sesp_bufw_init(&w, 64, 0);
    gc_send(j->done, j->ctx, &w, sesp_kmsg_offset_delete_response_encode(&w, j->version, &resp));
    return;
oom:
    j->done(j->ctx, NULL, SESP_ERR_NOMEM);
}

/* ---- retention ---- */

void gc_expire_offsets(gc_t *gc, int64_t now)
{
    int64_t ret = gc->cfg.offsets_retention_ms;
    GMAP_EACH(&gc->groups, e, nx) {
        gc_group *g = e->val;
        sesp_arena a;
        sesp_arena_init(&a, 0);
        bool consumer = false;
        const char **subscribed = NULL;
        if (g->state == GS_STABLE)
            subscribed = gc_subscribed_topics(g, &a, &consumer);
        gc_rec *recs = g->offsets.n ? calloc(g->offsets.n, sizeof *recs) : NULL;
        gc_offset **victims = g->offsets.n ? calloc(g->offsets.n, sizeof *victims) : NULL;
        int nrec = 0;
        if (g->offsets.n && (!recs || !victims))
            goto next;
        GMAP_EACH(&g->offsets, oe, onx) {
            gc_offset *o = oe->val;
            bool expired;
            if (o->expire_ts >= 0)
                expired = now >= o->expire_ts;
            else if (!g->protocol_type)
                expired = now - o->commit_ts >= ret;
            else if (g->state == GS_EMPTY)
                expired = now - g->state_ts >= ret;
            else if (consumer && g->state == GS_STABLE && !in_list(subscribed, SESP_KSTR(o->topic)))
                expired = now - o->commit_ts >= ret;
            else
                expired = false;
            if (expired && gc_rec_offset(&recs[nrec], gc_gid(g), o, true) == 0)
                victims[nrec++] = o;
        }
        if (nrec > 0 && gc_append(gc, g->partition, recs, nrec) == SESP_KERR_NONE) {
            for (int i = 0; i < nrec; i++)
                gc_offset_del(g, victims[i]->topic, strlen(victims[i]->topic), victims[i]->partition);
        }
        gc_rec_free(recs, nrec);
        if (g->state == GS_EMPTY && g->offsets.n == 0 && g->nmembers == 0 && !g->pending) {
            gc_rec gr;
            if (gc_rec_group(&gr, g, true) == 0) {
                int16_t err = gc_append(gc, g->partition, &gr, 1);
                gc_rec_free(&gr, 1);
                if (!err)
                    gc_group_remove(gc, g);
            }
        }
    next:
        free(recs);
        free(victims);
        sesp_arena_free(&a);
    }
}
