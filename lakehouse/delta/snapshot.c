/*
 * Snapshot reconstruction: the newest usable checkpoint at or below the
 * wanted version, then every later commit in order (versions must be
 * contiguous), replayed into a path-keyed hash of active files and
 * tombstones plus the latest protocol, metadata and txn version per appId.
 * Readers refuse tables whose protocol needs features we do not implement
 * and schemas recording type changes (typeWidening) they cannot read.
 * Time travel by timestamp picks the newest commit whose timestamp
 * (commitInfo.timestamp, else the commit file's mtime) is <= the time asked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "delta_impl.h"

typedef struct entry {
    const char *path;
    sesp_delta_add *add;        /* active file or NULL */
    sesp_delta_remove *remove;  /* tombstone or NULL */
} entry;

typedef struct replay {
    entry *tab;
    size_t cap, used;
    bool have_protocol, have_metadata;
    sesp_delta_snapshot *snap;
    sesp_delta_txn *txns;
    size_t ntxns, txcap;
} replay;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static entry *lookup(replay *r, const char *path, bool create)
{
    if (create && (r->used + 1) * 2 > r->cap) {
        size_t nc = r->cap ? r->cap * 2 : 1024;
        entry *nt = calloc(nc, sizeof(*nt));
        if (!nt) return NULL;
        for (size_t i = 0; i < r->cap; i++) {
            if (!r->tab[i].path) continue;
            size_t j = hash_str(r->tab[i].path) & (nc - 1);
            while (nt[j].path) j = (j + 1) & (nc - 1);
            nt[j] = r->tab[i];
        }
        free(r->tab);
        r->tab = nt;
        r->cap = nc;
    }
    if (!r->cap) return NULL;
    size_t j = hash_str(path) & (r->cap - 1);
    while (r->tab[j].path) {
        if (!strcmp(r->tab[j].path, path)) return &r->tab[j];
        j = (j + 1) & (r->cap - 1);
    }
    if (!create) return NULL;
    r->tab[j].path = path;
    r->used++;
    return &r->tab[j];
}

static int apply(replay *r, sesp_delta_action *acts, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        sesp_delta_action *a = &acts[i];
        entry *e;
        switch (a->kind) {
        case SESP_DA_PROTOCOL:
            r->snap->protocol = a->u.protocol;
            r->have_protocol = true;
            break;
        case SESP_DA_METADATA:
            r->snap->metadata = a->u.metadata;
            r->have_metadata = true;
            break;
        case SESP_DA_ADD:
            if (!(e = lookup(r, a->u.add.path, true))) return SESP_ERR_NOMEM;
            e->add = &a->u.add;
            e->remove = NULL;
            break;
        case SESP_DA_REMOVE:
            if (!(e = lookup(r, a->u.remove.path, true))) return SESP_ERR_NOMEM;
            e->add = NULL;
            e->remove = &a->u.remove;
            break;
        case SESP_DA_TXN: {
            size_t k;
            for (k = 0; k < r->ntxns; k++)
                if (!strcmp(r->txns[k].app_id, a->u.txn.app_id)) break;
            if (k == r->ntxns) {
                if (r->ntxns == r->txcap) {
                    size_t nc = r->txcap ? r->txcap * 2 : 8;
                    sesp_delta_txn *nt = realloc(r->txns, nc * sizeof(*nt));
                    if (!nt) return SESP_ERR_NOMEM;
                    r->txns = nt;
                    r->txcap = nc;
                }
                r->ntxns++;
            }
            r->txns[k] = a->u.txn;
            break;
        }
        default:
            break;
        }
    }
    return 0;
}

static int cmp_add(const void *a, const void *b)
{
    return strcmp((*(sesp_delta_add *const *)a)->path, (*(sesp_delta_add *const *)b)->path);
}

static int check_protocol(const sesp_delta_protocol *p, char *err, size_t errlen)
{
    if (p->min_reader == 1) return 0;
    if (p->min_reader == 3) {
        for (size_t i = 0; i < p->n_reader_features; i++) {
            const char *f = p->reader_features[i];
            /* typeWidening-preview is the same protocol under its preview name */
            if (strcmp(f, "timestampNtz") && strcmp(f, "vacuumProtocolCheck") && strcmp(f, "typeWidening") &&
                strcmp(f, "typeWidening-preview")) {
                snprintf(err, errlen, "table needs reader feature %s, which SESP does not support", f);
                return SESP_ERR_UNSUPPORTED;
            }
        }
        return 0;
    }
    snprintf(err, errlen, "table needs reader version %d (column mapping), which SESP does not support", p->min_reader);
    return SESP_ERR_UNSUPPORTED;
}

static int read_commit(sesp_objstore *s, int64_t v, sesp_arena *a, sesp_delta_action **acts, size_t *n, char *err, size_t errlen)
{
    char key[64];
    sesp_delta_commit_key(v, key, sizeof(key));
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = sesp_objstore_get(s, key, &data, &len);
    if (rc) {
        snprintf(err, errlen, "reading version %lld: %s", (long long)v, sesp_objstore_error(s));
        return rc == SESP_ERR_NOT_FOUND ? SESP_ERR_CORRUPT : rc;
    }
    char sub[400] = "";
    rc = sesp_delta_actions_decode(data, len, a, acts, n, sub, sizeof(sub));
    free(data);
    if (rc) snprintf(err, errlen, "version %lld: %s", (long long)v, sub);
    return rc;
}

static int64_t commit_ts(const sesp_delta_action *acts, size_t n, int64_t mtime)
{
    for (size_t i = 0; i < n; i++)
        if (acts[i].kind == SESP_DA_COMMIT_INFO && acts[i].u.commit_info.has_timestamp) return acts[i].u.commit_info.timestamp;
    return mtime;
}

/* The version _last_checkpoint names, or -1 (absent or unreadable: it is a hint only). */
static int64_t last_checkpoint_version(sesp_objstore *s)
{
    uint8_t *data = NULL;
    size_t len = 0;
    if (sesp_objstore_get(s, SESP_DELTA_LOG_DIR "_last_checkpoint", &data, &len)) return -1;
    json_t *j = json_loadb((const char *)data, len, 0, NULL);
    free(data);
    json_t *v = json_object_get(j, "version");
    int64_t out = json_is_integer(v) && json_integer_value(v) >= 0 ? (int64_t)json_integer_value(v) : -1;
    json_decref(j);
    return out;
}

/* Version v is needed and not in the log: say why, naming the checkpoint that
 * should have covered it when there is one (unreadable, or named by
 * _last_checkpoint but gone). */
static void missing_commit_error(sesp_objstore *s, int64_t v, int64_t version, int64_t bad_cp, const char *bad_why,
                                 char *err, size_t errlen)
{
    if (bad_cp >= v) {
        snprintf(err, errlen, "cannot reconstruct version %lld: checkpoint %lld is unreadable (%s) and version %lld, "
                 "which it covers, is missing from the log", (long long)version, (long long)bad_cp, bad_why, (long long)v);
        return;
    }
    int64_t lc = last_checkpoint_version(s);
    if (lc >= v && lc <= version) {
        char key[80];
        sesp_delta_checkpoint_key(lc, key, sizeof(key));
        snprintf(err, errlen, "cannot reconstruct version %lld: checkpoint %lld (%s, named by _last_checkpoint) is "
                 "missing and version %lld, which it covers, is missing from the log", (long long)version,
                 (long long)lc, key, (long long)v);
        return;
    }
    snprintf(err, errlen, "version %lld is missing from the log (cannot reconstruct version %lld)", (long long)v,
             (long long)version);
}

static int build(sesp_objstore *s, const sesp_delta_version_info *vers, size_t nv, int64_t version,
                 sesp_delta_snapshot **out, char *err, size_t errlen)
{
    sesp_delta_snapshot *snap = calloc(1, sizeof(*snap));
    if (!snap) return SESP_ERR_NOMEM;
    sesp_arena_init(&snap->arena, 0);
    snap->version = version;
    snap->checkpoint_version = -1;
    replay r = {.snap = snap};
    int rc = 0;
    /* newest checkpoint <= version that reads back */
    int64_t start = 0, bad_cp = -1;
    char bad_why[400] = "";
    for (size_t i = nv; i-- > 0;) {
        if (vers[i].version > version || !vers[i].has_checkpoint) continue;
        sesp_delta_action *acts = NULL;
        size_t n = 0;
        char sub[400] = "";
        rc = sesp_delta_checkpoint_read(s, vers[i].version, &snap->arena, &acts, &n, sub, sizeof(sub));
        if (rc) {
            fprintf(stderr, "delta: skipping unreadable checkpoint %lld: %s\n", (long long)vers[i].version, sub);
            if (bad_cp < 0) {
                bad_cp = vers[i].version;
                snprintf(bad_why, sizeof(bad_why), "%s", sub);
            }
            rc = 0;
            continue;
        }
        if ((rc = apply(&r, acts, n))) goto out;
        snap->checkpoint_version = vers[i].version;
        start = vers[i].version + 1;
        break;
    }
    /* every commit from start to version must be there */
    size_t idx = 0;
    while (idx < nv && vers[idx].version < start) idx++;
    for (int64_t v = start; v <= version; v++, idx++) {
        if (idx >= nv || vers[idx].version != v || !vers[idx].has_json) {
            missing_commit_error(s, v, version, bad_cp, bad_why, err, errlen);
            rc = SESP_ERR_CORRUPT;
            goto out;
        }
        sesp_delta_action *acts = NULL;
        size_t n = 0;
        if ((rc = read_commit(s, v, &snap->arena, &acts, &n, err, errlen))) goto out;
        if ((rc = apply(&r, acts, n))) goto out;
        if (v == version) snap->timestamp_ms = commit_ts(acts, n, vers[idx].mtime_ms);
    }
    if (snap->checkpoint_version == version) {
        for (size_t i = 0; i < nv; i++)
            if (vers[i].version == version) snap->timestamp_ms = vers[i].mtime_ms;
    }
    if (!r.have_protocol || !r.have_metadata) {
        snprintf(err, errlen, "version %lld has no %s", (long long)version, r.have_protocol ? "metaData" : "protocol");
        rc = SESP_ERR_CORRUPT;
        goto out;
    }
    if ((rc = check_protocol(&snap->protocol, err, errlen))) goto out;
    char sub[400] = "";
    if ((rc = sesp_delta_schema_parse(snap->metadata.schema_string, strlen(snap->metadata.schema_string), &snap->schema, sub, sizeof(sub)))) {
        snprintf(err, errlen, "schemaString: %s", sub);
        goto out;
    }
    /* readers must refuse type changes they cannot convert older files for */
    if ((rc = sesp_delta_schema_check_type_changes(snap->schema, err, errlen))) goto out;
    size_t nf = 0, nt = 0;
    for (size_t i = 0; i < r.cap; i++) { nf += r.tab[i].add != NULL; nt += r.tab[i].remove != NULL; }
    snap->files = sesp_arena_calloc(&snap->arena, nf + 1, sizeof(*snap->files));
    snap->tombstones = sesp_arena_calloc(&snap->arena, nt + 1, sizeof(*snap->tombstones));
    snap->txns = sesp_arena_calloc(&snap->arena, r.ntxns + 1, sizeof(*snap->txns));
    if (!snap->files || !snap->tombstones || !snap->txns) { rc = SESP_ERR_NOMEM; goto out; }
    for (size_t i = 0; i < r.cap; i++) {
        if (r.tab[i].add) snap->files[snap->nfiles++] = r.tab[i].add;
        if (r.tab[i].remove) snap->tombstones[snap->ntombstones++] = r.tab[i].remove;
    }
    qsort(snap->files, snap->nfiles, sizeof(*snap->files), cmp_add);
    if (r.ntxns) memcpy(snap->txns, r.txns, r.ntxns * sizeof(*r.txns));
    snap->ntxns = r.ntxns;
out:
    free(r.tab);
    free(r.txns);
    if (rc) sesp_delta_snapshot_free(snap);
    else *out = snap;
    return rc;
}

int sesp_delta_snapshot_load(sesp_objstore *s, int64_t version, sesp_delta_snapshot **out, char *err, size_t errlen)
{
    *out = NULL;
    sesp_delta_version_info *vers = NULL;
    size_t nv = 0;
    int rc = sesp_delta_log_versions(s, &vers, &nv, err, errlen);
    if (rc) return rc;
    if (!nv) {
        snprintf(err, errlen, "no Delta table at %s (no _delta_log)", sesp_objstore_uri(s));
        free(vers);
        return SESP_ERR_NOT_FOUND;
    }
    int64_t latest = vers[nv - 1].version;
    if (version < 0) version = latest;
    if (version > latest) {
        snprintf(err, errlen, "version %lld does not exist (latest is %lld)", (long long)version, (long long)latest);
        free(vers);
        return SESP_ERR_NOT_FOUND;
    }
    rc = build(s, vers, nv, version, out, err, errlen);
    free(vers);
    return rc;
}

int sesp_delta_snapshot_load_at(sesp_objstore *s, int64_t ts_ms, sesp_delta_snapshot **out, char *err, size_t errlen)
{
    *out = NULL;
    sesp_delta_version_info *vers = NULL;
    size_t nv = 0;
    int rc = sesp_delta_log_versions(s, &vers, &nv, err, errlen);
    if (rc) return rc;
    int64_t found = -1;
    for (size_t i = 0; i < nv && !rc; i++) {
        if (!vers[i].has_json) continue;
        sesp_arena a;
        sesp_arena_init(&a, 0);
        sesp_delta_action *acts = NULL;
        size_t n = 0;
        rc = read_commit(s, vers[i].version, &a, &acts, &n, err, errlen);
        int64_t ts = rc ? 0 : commit_ts(acts, n, vers[i].mtime_ms);
        sesp_arena_free(&a);
        if (rc) break;
        if (ts > ts_ms) break;
        found = vers[i].version;
    }
    if (!rc && found < 0) {
        snprintf(err, errlen, "timestamp %lld is before the earliest available commit", (long long)ts_ms);
        rc = nv ? SESP_ERR_RANGE : SESP_ERR_NOT_FOUND;
    }
    if (!rc) rc = build(s, vers, nv, found, out, err, errlen);
    free(vers);
    return rc;
}

void sesp_delta_snapshot_free(sesp_delta_snapshot *snap)
{
    if (!snap) return;
    sesp_delta_type_free(snap->schema);
    sesp_arena_free(&snap->arena);
    free(snap);
}

int64_t sesp_delta_snapshot_txn_version(const sesp_delta_snapshot *snap, const char *app_id)
{
    for (size_t i = 0; i < snap->ntxns; i++)
        if (!strcmp(snap->txns[i].app_id, app_id)) return snap->txns[i].version;
    return -1;
}

const char *sesp_delta_snapshot_config(const sesp_delta_snapshot *snap, const char *key)
{
    return sesp_delta_map_get(&snap->metadata.configuration, key, NULL);
}
