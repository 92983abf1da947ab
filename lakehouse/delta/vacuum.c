/*
 * VACUUM: deletes the files under the table that the latest snapshot does not
 * reference and that are older than the retention.  A file removed by a
 * commit counts from its removal (the tombstone's deletionTimestamp), not its
 * creation, so time travel within the retention keeps working.  Hidden files
 * and directories (`_delta_log`, `_change_data`, `.crc`, any part starting
 * with `_` or `.`) are never touched.
 *
 * As delta-spark (2.3 and later) does, a VACUUM that deletes is logged as two
 * commits holding only a commitInfo: "VACUUM START" before the first delete,
 * with what is about to go, and "VACUUM END" after the last, with what went
 * (status FAILED, and no metrics, when a delete failed).  Readers and other
 * engines then see in the history why older versions stopped being readable.
 * They go through the ordinary commit path: put-if-absent, and past a
 * concurrent append to the next version; only a concurrent metadata or
 * protocol change stops them, as it stops every SESP and Delta commit.  A
 * dry run logs nothing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "table_impl.h"

#define DEFAULT_RETENTION_MS (7 * 24 * 3600 * 1000LL)   /* Delta's delta.deletedFileRetentionDuration */

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Hidden files and directories of the table are not data. */
static bool hidden(const char *k)
{
    if (k[0] == '_' || k[0] == '.') return true;
    for (const char *p = strchr(k, '/'); p; p = strchr(p + 1, '/'))
        if (p[1] == '_' || p[1] == '.') return true;
    return false;
}

/* Operation metrics are strings in Delta's commitInfo. */
static void set_metric(json_t *m, const char *key, unsigned long long v)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "%llu", v);
    json_object_set_new(m, key, json_string(buf));
}

/* Commits one VACUUM START/END record; *version gets its version. */
static int log_vacuum(sesp_delta_table *t, int64_t read_version, const char *op, json_t *params, json_t *metrics,
                      int64_t *version)
{
    char err[512] = "";
    /* reads nothing a concurrent commit can change: like a blind append it
     * moves past winners that only add or remove data */
    sesp_delta_txn_read rd = {.blind_append = true};
    int rc = sesp_delta_commit_metrics(t->s, read_version, NULL, 0, &rd, op, params, metrics, version, err, sizeof(err));
    if (rc) return sesp_delta_table_seterr(t, rc, "%s commit failed: %s", op, err);
    if (sesp_delta_table_maintain(t, *version))
        fprintf(stderr, "delta: maintenance after version %lld: %s\n", (long long)*version, t->err);
    return 0;
}

typedef struct strlist {
    char **v;
    size_t n, cap;
} strlist;

static int sl_push(strlist *l, const char *s, size_t len)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 64;
        char **nv = realloc(l->v, nc * sizeof(*nv));
        if (!nv) return SESP_ERR_NOMEM;
        l->v = nv;
        l->cap = nc;
    }
    if (!(l->v[l->n] = strndup(s, len))) return SESP_ERR_NOMEM;
    l->n++;
    return 0;
}

typedef struct candidate {
    const char *key;            /* in the listing */
    uint64_t size;
} candidate;

int sesp_delta_table_vacuum(sesp_delta_table *t, const sesp_delta_vacuum_opts *o, sesp_delta_vacuum_result *res)
{
    memset(res, 0, sizeof(*res));
    res->start_version = res->end_version = -1;
    sesp_delta_snapshot *snap = NULL;
    int rc = sesp_delta_table_snapshot(t, -1, &snap);
    if (rc) return rc;
    char **live = NULL, **tomb = NULL;
    candidate *cand = NULL;
    size_t nlive = 0, ncand = 0;
    strlist dirs = {0};
    sesp_obj_list l = {0};
    json_t *params = NULL, *metrics = NULL;
    /* the START/END commits must be commits SESP may write */
    if (!o->dry_run && (rc = sesp_delta_check_writable(t, snap, false))) goto out;
    int64_t dflt = DEFAULT_RETENTION_MS, ms;
    const char *cv = sesp_delta_snapshot_config(snap, "delta.deletedFileRetentionDuration");
    if (cv && sesp_delta_parse_interval(cv, &ms) == 0 && ms >= 0) dflt = ms;
    int64_t retention = o->retention_ms >= 0 ? o->retention_ms : dflt;
    if (!o->no_retention_check && retention < dflt) {
        rc = sesp_delta_table_seterr(t, SESP_ERR_INVALID_ARG,
                                     "a retention of %.1f hours is below the table's delta.deletedFileRetentionDuration (%.1f hours): "
                                     "files that concurrent writers or readers still need could go; turn the check off "
                                     "(--no-retention-check) only when nothing else uses the table",
                                     (double)retention / 3600000.0, (double)dflt / 3600000.0);
        goto out;
    }
    live = calloc(snap->nfiles + 1, sizeof(char *));
    tomb = calloc(snap->ntombstones + 1, sizeof(char *));
    if (!live || !tomb) { rc = SESP_ERR_NOMEM; goto out; }
    for (size_t i = 0; i < snap->nfiles; i++)
        if ((live[nlive] = sesp_delta_path_to_key(snap->files[i]->path))) nlive++;
    qsort(live, nlive, sizeof(*live), cmp_str);
    for (size_t i = 0; i < snap->ntombstones; i++) tomb[i] = sesp_delta_path_to_key(snap->tombstones[i]->path);
    if ((rc = sesp_objstore_list(t->s, "", &l))) { sesp_delta_table_seterr(t, rc, "%s", sesp_objstore_error(t->s)); goto out; }
    cand = calloc(l.n + 1, sizeof(*cand));
    if (!cand) { rc = SESP_ERR_NOMEM; goto out; }
    int64_t cutoff = sesp_delta_table_now(t) - retention;
    for (size_t i = 0; i < l.n; i++) {
        const char *k = l.items[i].key;
        if (hidden(k)) continue;
        /* directories as Delta counts them: every one holding data, each of
         * its parents, and the table's root */
        for (const char *p = strchr(k, '/'); p; p = strchr(p + 1, '/'))
            if ((rc = sl_push(&dirs, k, (size_t)(p - k)))) goto out;
        if (nlive && bsearch(&k, live, nlive, sizeof(*live), cmp_str)) continue;
        int64_t t_del = l.items[i].mtime_ms;
        for (size_t j = 0; j < snap->ntombstones; j++)
            if (tomb[j] && !strcmp(tomb[j], k) && snap->tombstones[j]->has_deletion_timestamp &&
                snap->tombstones[j]->deletion_timestamp > t_del)
                t_del = snap->tombstones[j]->deletion_timestamp;
        if (t_del >= cutoff) continue;
        cand[ncand++] = (candidate){k, l.items[i].size};
        res->bytes += l.items[i].size;
    }
    qsort(dirs.v, dirs.n, sizeof(*dirs.v), cmp_str);
    res->dirs = 1;
    for (size_t i = 0; i < dirs.n; i++) res->dirs += !i || strcmp(dirs.v[i], dirs.v[i - 1]);
    if (o->dry_run) {
        for (size_t i = 0; i < ncand; i++)
            if (o->fn) o->fn(o->ud, cand[i].key, cand[i].size);
        res->files = ncand;
        goto out;
    }
    params = json_pack("{s:b,s:I}", "retentionCheckEnabled", !o->no_retention_check, "defaultRetentionMillis", (json_int_t)dflt);
    if (o->retention_ms >= 0) json_object_set_new(params, "specifiedRetentionMillis", json_integer(o->retention_ms));
    metrics = json_object();
    set_metric(metrics, "numFilesToDelete", ncand);
    set_metric(metrics, "sizeOfDataToDelete", res->bytes);
    if ((rc = log_vacuum(t, snap->version, "VACUUM START", params, metrics, &res->start_version))) goto out;
    int del_rc = 0;
    char del_err[sizeof(t->err)] = "";
    for (size_t i = 0; i < ncand && !del_rc; i++) {
        if ((del_rc = sesp_objstore_delete(t->s, cand[i].key))) {
            snprintf(del_err, sizeof(del_err), "deleting %s: %s", cand[i].key, sesp_objstore_error(t->s));
            break;
        }
        res->files++;
        if (o->fn) o->fn(o->ud, cand[i].key, cand[i].size);
    }
    json_decref(params);
    json_decref(metrics);
    metrics = NULL;
    params = json_pack("{s:s}", "status", del_rc ? "FAILED" : "COMPLETED");
    if (!del_rc) {
        metrics = json_object();
        set_metric(metrics, "numDeletedFiles", res->files);
        set_metric(metrics, "numVacuumedDirectories", res->dirs);
    }
    rc = log_vacuum(t, res->start_version, "VACUUM END", params, metrics, &res->end_version);
    if (del_rc) rc = sesp_delta_table_seterr(t, del_rc, "%s", del_err);
out:
    json_decref(params);
    json_decref(metrics);
    if (live)
        for (size_t i = 0; i < nlive; i++) free(live[i]);
    if (tomb)
        for (size_t i = 0; i < snap->ntombstones; i++) free(tomb[i]);
    for (size_t i = 0; i < dirs.n; i++) free(dirs.v[i]);
    free(live);
    free(tomb);
    free(dirs.v);
    free(cand);
    sesp_obj_list_free(&l);
    sesp_delta_snapshot_free(snap);
    return rc;
}
