/*
 * The Delta commit protocol: a commit is `_delta_log/%020d.json`, created with
 * put_if_absent so that exactly one writer gets each version.  A writer that
 * loses reads the winning commit(s) and checks for logical conflicts against
 * what it read and wrote (metadata or protocol changed, a file it removes was
 * removed, the same streaming appId committed, or, for transactions that read
 * the whole table, any concurrent data change); without a conflict it retries
 * at the next version, otherwise it fails with SESP_ERR_CONFLICT and a message.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "delta_impl.h"

#define MAX_ATTEMPTS 50

void sesp_delta_commit_key(int64_t version, char *buf, size_t cap)
{
    snprintf(buf, cap, SESP_DELTA_LOG_DIR "%020lld.json", (long long)version);
}

void sesp_delta_checkpoint_key(int64_t version, char *buf, size_t cap)
{
    snprintf(buf, cap, SESP_DELTA_LOG_DIR "%020lld.checkpoint.parquet", (long long)version);
}

int64_t sesp_delta_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool parse_version(const char *name, const char *suffix, int64_t *v)
{
    size_t n = strlen(name), sl = strlen(suffix);
    if (n != 20 + sl || strcmp(name + 20, suffix)) return false;
    int64_t x = 0;
    for (int i = 0; i < 20; i++) {
        if (name[i] < '0' || name[i] > '9') return false;
        if (x > (INT64_MAX - 9) / 10) return false;
        x = x * 10 + (name[i] - '0');
    }
    *v = x;
    return true;
}

static int cmp_ver(const void *a, const void *b)
{
    int64_t x = ((const sesp_delta_version_info *)a)->version, y = ((const sesp_delta_version_info *)b)->version;
    return x < y ? -1 : x > y;
}

int sesp_delta_log_versions(sesp_objstore *s, sesp_delta_version_info **out, size_t *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    sesp_obj_list l;
    int rc = sesp_objstore_list(s, SESP_DELTA_LOG_DIR, &l);
    if (rc) {
        snprintf(err, errlen, "listing the log: %s", sesp_objstore_error(s));
        return rc;
    }
    sesp_delta_version_info *v = calloc(l.n ? l.n : 1, sizeof(*v));
    if (!v) { sesp_obj_list_free(&l); return SESP_ERR_NOMEM; }
    size_t cnt = 0;
    for (size_t i = 0; i < l.n; i++) {
        const char *name = l.items[i].key + strlen(SESP_DELTA_LOG_DIR);
        if (strchr(name, '/')) continue;
        int64_t ver;
        bool js = parse_version(name, ".json", &ver), cp = !js && parse_version(name, ".checkpoint.parquet", &ver);
        if (!js && !cp) continue;
        sesp_delta_version_info *e = NULL;
        for (size_t k = cnt; k-- > 0;)
            if (v[k].version == ver) { e = &v[k]; break; }
        if (!e) { e = &v[cnt++]; memset(e, 0, sizeof(*e)); e->version = ver; }
        if (js) { e->has_json = true; e->mtime_ms = l.items[i].mtime_ms; e->size = l.items[i].size; }
        else e->has_checkpoint = true;
    }
    sesp_obj_list_free(&l);
    qsort(v, cnt, sizeof(*v), cmp_ver);
    *out = v;
    *n = cnt;
    return 0;
}

static bool str_in(const char *s, const char *const *arr, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(s, arr[i])) return true;
    return false;
}

/* Checks one winning commit against our transaction. */
static int check_conflict(const sesp_delta_action *ours, size_t n, const sesp_delta_txn_read *read,
                          const sesp_delta_action *win, size_t nwin, int64_t wv, char *err, size_t errlen)
{
    const char **our_removes = calloc(n + 1, sizeof(char *)), **our_apps = calloc(n + 1, sizeof(char *));
    size_t nr = 0, na = 0;
    int rc = 0;
    if (!our_removes || !our_apps) { rc = SESP_ERR_NOMEM; goto out; }
    for (size_t i = 0; i < n; i++) {
        if (ours[i].kind == SESP_DA_REMOVE) our_removes[nr++] = ours[i].u.remove.path;
        if (ours[i].kind == SESP_DA_TXN) our_apps[na++] = ours[i].u.txn.app_id;
    }
    for (size_t i = 0; i < nwin && !rc; i++) {
        const sesp_delta_action *w = &win[i];
        switch (w->kind) {
        case SESP_DA_METADATA:
            snprintf(err, errlen, "concurrent metadata change in version %lld", (long long)wv);
            rc = SESP_ERR_CONFLICT;
            break;
        case SESP_DA_PROTOCOL:
            snprintf(err, errlen, "concurrent protocol change in version %lld", (long long)wv);
            rc = SESP_ERR_CONFLICT;
            break;
        case SESP_DA_TXN:
            if (str_in(w->u.txn.app_id, our_apps, na)) {
                snprintf(err, errlen, "concurrent transaction of application %s in version %lld", w->u.txn.app_id, (long long)wv);
                rc = SESP_ERR_CONFLICT;
            }
            break;
        case SESP_DA_REMOVE:
            if (str_in(w->u.remove.path, our_removes, nr)) {
                snprintf(err, errlen, "file %s was concurrently removed in version %lld", w->u.remove.path, (long long)wv);
                rc = SESP_ERR_CONFLICT;
            } else if (read && read->read_whole_table && w->u.remove.data_change) {
                snprintf(err, errlen, "concurrent delete of data this transaction read (version %lld)", (long long)wv);
                rc = SESP_ERR_CONFLICT;
            }
            break;
        case SESP_DA_ADD:
            if (read && read->read_whole_table && w->u.add.data_change) {
                snprintf(err, errlen, "concurrent append to data this transaction read (version %lld)", (long long)wv);
                rc = SESP_ERR_CONFLICT;
            }
            break;
        default:
            break;
        }
    }
out:
    free(our_removes);
    free(our_apps);
    return rc;
}

static int build_commit(const sesp_delta_action *actions, size_t n, int64_t read_version, const sesp_delta_txn_read *read,
                        const char *operation, json_t *params, json_t *metrics, sesp_bufw *w)
{
    bool has_ci = false;
    for (size_t i = 0; i < n; i++) has_ci |= actions[i].kind == SESP_DA_COMMIT_INFO;
    if (!has_ci) {
        json_t *ci = json_object();
        json_object_set_new(ci, "timestamp", json_integer(sesp_delta_now_ms()));
        json_object_set_new(ci, "operation", json_string(operation ? operation : "WRITE"));
        json_object_set_new(ci, "operationParameters", params ? json_incref(params) : json_object());
        if (read_version >= 0) json_object_set_new(ci, "readVersion", json_integer(read_version));
        json_object_set_new(ci, "isBlindAppend", json_boolean(read && read->blind_append));
        if (metrics) json_object_set_new(ci, "operationMetrics", json_incref(metrics));
        json_object_set_new(ci, "engineInfo", json_string(SESP_DELTA_ENGINE));
        json_t *line = json_pack("{s:o}", "commitInfo", ci);
        char *s = json_dumps(line, JSON_COMPACT);
        json_decref(line);
        if (!s) return SESP_ERR_NOMEM;
        sesp_bufw_put(w, s, strlen(s));
        sesp_bufw_put(w, "\n", 1);
        free(s);
    }
    for (size_t i = 0; i < n; i++) {
        int rc = sesp_delta_action_encode(&actions[i], w);
        if (rc) return rc;
    }
    return w->err;
}

int sesp_delta_commit(sesp_objstore *s, int64_t read_version, const sesp_delta_action *actions, size_t n,
                      const sesp_delta_txn_read *read, const char *operation, json_t *operation_params,
                      int64_t *version_out, char *err, size_t errlen)
{
    return sesp_delta_commit_metrics(s, read_version, actions, n, read, operation, operation_params, NULL, version_out,
                                     err, errlen);
}

int sesp_delta_commit_metrics(sesp_objstore *s, int64_t read_version, const sesp_delta_action *actions, size_t n,
                              const sesp_delta_txn_read *read, const char *operation, json_t *operation_params,
                              json_t *operation_metrics, int64_t *version_out, char *err, size_t errlen)
{
    sesp_bufw w;
    sesp_bufw_init(&w, 4096, 0);
    int rc = build_commit(actions, n, read_version, read, operation, operation_params, operation_metrics, &w);
    if (rc) goto out;
    int64_t v = read_version + 1;
    for (int attempt = 0;; attempt++) {
        char key[64];
        sesp_delta_commit_key(v, key, sizeof(key));
        rc = sesp_objstore_put_if_absent(s, key, w.p, w.len);
        if (rc == 0) { *version_out = v; break; }
        if (rc != SESP_ERR_EXISTS) {
            snprintf(err, errlen, "writing commit %lld: %s", (long long)v, sesp_objstore_error(s));
            break;
        }
        if (attempt + 1 >= MAX_ATTEMPTS) {
            snprintf(err, errlen, "gave up after %d concurrent commits", MAX_ATTEMPTS);
            rc = SESP_ERR_CONFLICT;
            break;
        }
        /* someone else won v: read it and check for a logical conflict */
        uint8_t *data = NULL;
        size_t len = 0;
        rc = sesp_objstore_get(s, key, &data, &len);
        if (rc) {
            snprintf(err, errlen, "reading winning commit %lld: %s", (long long)v, sesp_objstore_error(s));
            break;
        }
        sesp_arena a;
        sesp_arena_init(&a, 0);
        sesp_delta_action *win = NULL;
        size_t nwin = 0;
        char sub[400] = "";
        rc = sesp_delta_actions_decode(data, len, &a, &win, &nwin, sub, sizeof(sub));
        free(data);
        if (rc) snprintf(err, errlen, "winning commit %lld is malformed: %s", (long long)v, sub);
        else rc = check_conflict(actions, n, read, win, nwin, v, err, errlen);
        sesp_arena_free(&a);
        if (rc) break;
        v++;
    }
out:
    sesp_bufw_free(&w);
    return rc;
}
