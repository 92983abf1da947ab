/*
 * DescribeLogDirs (v0-4): every configured log directory, each listing the
 * requested partitions that live in it (partitions are spread over
 * log.dirs), with their size on disk, offset lag 0 and is_future false (no
 * replica movement here).  v4+ adds each volume's total and usable bytes
 * (statvfs).  Partitions that do not exist are left out, and so is a topic
 * with no partition in a directory, as Kafka does.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>

#include "admin_int.h"
#include "broker/log/log.h"
#include "broker/protocol/generated/describe_log_dirs_request.h"
#include "broker/protocol/generated/describe_log_dirs_response.h"
#include "broker/protocol/kerr.h"

typedef sesp_kmsg_describe_log_dirs_response_describe_log_dirs_topic dtopic;
typedef sesp_kmsg_describe_log_dirs_response_describe_log_dirs_partition dpart;

/* Fills t with the wanted partitions of tp (idx NULL = all) that live in
 * dir; false on OOM. */
static bool fill_topic(sesp_req *rq, const char *dir, dtopic *t, sesp_topic *tp, const int32_t *idx, int32_t nidx)
{
    int32_t np = sesp_topic_partition_count(tp);
    int32_t cap = idx ? nidx : np;
    sesp_kmsg_describe_log_dirs_response_describe_log_dirs_topic_init(t);
    t->name = SESP_KSTR(sesp_admin_fmt(rq, "%s", sesp_topic_name(tp)));
    t->partitions = sesp_arena_calloc(&rq->arena, (size_t)cap + 1, sizeof *t->partitions);
    if (!t->partitions)
        return false;
    int32_t cnt = 0;
    for (int32_t i = 0; i < cap; i++) {
        int32_t p = idx ? idx[i] : i;
        sesp_partition *part = sesp_topic_partition(tp, p);
        if (!part || strcmp(sesp_partition_log_dir(rq->srv->topics, part), dir) != 0)
            continue;
        sesp_log *log = sesp_partition_log(part);
        bool dup = false;
        for (int32_t j = 0; idx && j < i; j++)
            dup |= idx[j] == p;
        if (dup)
            continue;
        dpart *d = &t->partitions[cnt++];
        sesp_kmsg_describe_log_dirs_response_describe_log_dirs_partition_init(d);
        d->partition_index = p;
        d->partition_size = sesp_log_size_bytes(log);
        d->offset_lag = 0;
        d->is_future_key = false;
    }
    t->partitions_count = cnt;
    return true;
}

/* A directory's entry without topics: absolute path and volume sizes. */
static void dir_result(sesp_req *rq, const char *dir, sesp_kmsg_describe_log_dirs_response_describe_log_dirs_result *r)
{
    char abs[PATH_MAX];
    sesp_kmsg_describe_log_dirs_response_describe_log_dirs_result_init(r);
    r->log_dir = SESP_KSTR(sesp_admin_fmt(rq, "%s", realpath(dir, abs) ? abs : dir));
    r->error_code = SESP_KERR_NONE;
    r->topics = NULL;
    r->topics_count = 0;
    r->total_bytes = -1;
    r->usable_bytes = -1;
    struct statvfs vfs;
    if (statvfs(dir, &vfs) == 0) {
        r->total_bytes = (int64_t)vfs.f_blocks * (int64_t)vfs.f_frsize;
        r->usable_bytes = (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize;
    } else {
        r->error_code = SESP_KERR_KAFKA_STORAGE_ERROR; /* offline directory */
    }
}

/* The topics asked for, each once, with their partition filters (NULL =
 * all partitions); every entry holds a reference. */
typedef struct wanted {
    sesp_topic *tp;
    const int32_t *idx;
    int32_t nidx;
} wanted;

static int collect(sesp_server *s, const sesp_kmsg_describe_log_dirs_request *req, sesp_arena *a, wanted **out,
                   size_t *nout)
{
    *nout = 0;
    if (req->topics_count < 0) {
        sesp_topic **list = NULL;
        size_t n = 0;
        if (sesp_topics_list(s->topics, &list, &n) != 0)
            return -1;
        wanted *w = sesp_arena_calloc(a, n + 1, sizeof *w);
        if (!w) {
            sesp_topics_list_free(list, n);
            return -1;
        }
        for (size_t i = 0; i < n; i++)
            w[i].tp = list[i];
        free(list); /* the references now belong to w */
        *out = w;
        *nout = n;
        return 0;
    }
    wanted *w = sesp_arena_calloc(a, (size_t)req->topics_count + 1, sizeof *w);
    if (!w)
        return -1;
    size_t cnt = 0;
    for (int32_t i = 0; i < req->topics_count; i++) {
        const sesp_kmsg_describe_log_dirs_request_describable_log_dir_topic *rt = &req->topics[i];
        sesp_topic *tp = rt->topic.len > 0 ? sesp_topics_get(s->topics, rt->topic.ptr, (size_t)rt->topic.len) : NULL;
        if (!tp)
            continue;
        bool seen = false; /* a topic named twice is described once */
        for (size_t j = 0; j < cnt; j++)
            seen |= w[j].tp == tp;
        if (seen) {
            sesp_topic_release(tp);
            continue;
        }
        w[cnt].tp = tp;
        w[cnt].idx = rt->partitions;
        w[cnt].nidx = rt->partitions_count > 0 ? rt->partitions_count : 0;
        cnt++;
    }
    *out = w;
    *nout = cnt;
    return 0;
}

void sesp_admin_h_describe_log_dirs(sesp_req *rq)
{
    sesp_server *s = rq->srv;
    int16_t v = rq->hdr.api_version;
    sesp_kmsg_describe_log_dirs_request req;
    if (sesp_kmsg_describe_log_dirs_request_decode(&rq->body, v, &req, &rq->arena) != 0) {
        sesp_req_close(rq);
        return;
    }
    wanted *w = NULL;
    size_t nw = 0;
    if (collect(s, &req, &rq->arena, &w, &nw) != 0) {
        sesp_req_close(rq);
        return;
    }
    sesp_kmsg_describe_log_dirs_response m;
    sesp_kmsg_describe_log_dirs_response_init(&m);
    int ndirs = s->cfg->num_log_dirs > 0 ? s->cfg->num_log_dirs : 1;
    sesp_kmsg_describe_log_dirs_response_describe_log_dirs_result *all =
        sesp_arena_calloc(&rq->arena, (size_t)ndirs, sizeof *all);
    bool ok = all != NULL;
    for (int d = 0; ok && d < ndirs; d++) {
        const char *dir = s->cfg->log_dirs[d];
        dir_result(rq, dir, &all[d]);
        all[d].topics = sesp_arena_calloc(&rq->arena, nw + 1, sizeof *all[d].topics);
        ok = all[d].topics != NULL;
        int32_t cnt = 0;
        for (size_t i = 0; ok && i < nw; i++) {
            ok = fill_topic(rq, dir, &all[d].topics[cnt], w[i].tp, w[i].idx, w[i].nidx);
            if (ok && all[d].topics[cnt].partitions_count > 0)
                cnt++;
        }
        all[d].topics_count = cnt;
    }
    for (size_t i = 0; i < nw; i++)
        sesp_topic_release(w[i].tp);
    if (!ok) {
        sesp_req_close(rq);
        return;
    }
    m.error_code = SESP_KERR_NONE;
    m.results = all;
    m.results_count = ndirs;
    SESP_ADMIN_RESPOND(rq, sesp_kmsg_describe_log_dirs_response_encode, v, &m);
}
