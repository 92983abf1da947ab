/*
 * Checkpoints and log clean-up.  A checkpoint is `%020d.checkpoint.parquet`
 * with the checkpoint schema of PROTOCOL.md (one nullable struct column per
 * action kind: txn, add, remove, metaData, protocol; one action per row) and
 * `_last_checkpoint` pointing at it.  Actions go through JSON on both sides
 * (Parquet row <-> JSON object by the Parquet schema's field names), so the
 * reader accepts other writers' column order and reuses the validation of
 * actions.c for every field read back.  Clean-up deletes commits and
 * checkpoints older than delta.logRetentionDuration, but only below a
 * checkpoint from which every retained version can still be rebuilt.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "delta_impl.h"

#define DEFAULT_LOG_RETENTION_MS (30LL * 86400 * 1000)
#define DEFAULT_TOMBSTONE_RETENTION_MS (7LL * 86400 * 1000)

/* ---- the checkpoint schema ---- */

static int leaf_str(sesp_pq_schema *s, int parent, const char *name)
{
    sesp_pq_logical lt = sesp_pq_lt(SESP_PQ_LT_STRING);
    return sesp_pq_schema_add_leaf(s, parent, name, SESP_PQ_OPTIONAL, SESP_PQ_BYTE_ARRAY, &lt, 0, NULL);
}

static int leaf(sesp_pq_schema *s, int parent, const char *name, sesp_pq_physical ph)
{
    return sesp_pq_schema_add_leaf(s, parent, name, SESP_PQ_OPTIONAL, ph, NULL, 0, NULL);
}

static int str_map(sesp_pq_schema *s, int parent, const char *name)
{
    int kv, rc = sesp_pq_schema_add_map(s, parent, name, SESP_PQ_OPTIONAL, &kv);
    sesp_pq_logical lt = sesp_pq_lt(SESP_PQ_LT_STRING);
    if (!rc) rc = sesp_pq_schema_add_leaf(s, kv, "key", SESP_PQ_REQUIRED, SESP_PQ_BYTE_ARRAY, &lt, 0, NULL);
    if (!rc) rc = leaf_str(s, kv, "value");
    return rc;
}

static int str_list(sesp_pq_schema *s, int parent, const char *name)
{
    int l, rc = sesp_pq_schema_add_list(s, parent, name, SESP_PQ_OPTIONAL, &l);
    return rc ? rc : leaf_str(s, l, "element");
}

static int checkpoint_schema(sesp_pq_schema **out)
{
    sesp_pq_schema *s;
    int rc = sesp_pq_schema_new(&s), g, f;
    if (rc) return rc;
    rc |= sesp_pq_schema_add_group(s, 0, "txn", SESP_PQ_OPTIONAL, SESP_PQ_LT_NONE, &g);
    rc |= leaf_str(s, g, "appId");
    rc |= leaf(s, g, "version", SESP_PQ_INT64);
    rc |= leaf(s, g, "lastUpdated", SESP_PQ_INT64);
    rc |= sesp_pq_schema_add_group(s, 0, "add", SESP_PQ_OPTIONAL, SESP_PQ_LT_NONE, &g);
    rc |= leaf_str(s, g, "path");
    rc |= str_map(s, g, "partitionValues");
    rc |= leaf(s, g, "size", SESP_PQ_INT64);
    rc |= leaf(s, g, "modificationTime", SESP_PQ_INT64);
    rc |= leaf(s, g, "dataChange", SESP_PQ_BOOLEAN);
    rc |= leaf_str(s, g, "stats");
    rc |= str_map(s, g, "tags");
    rc |= sesp_pq_schema_add_group(s, 0, "remove", SESP_PQ_OPTIONAL, SESP_PQ_LT_NONE, &g);
    rc |= leaf_str(s, g, "path");
    rc |= leaf(s, g, "deletionTimestamp", SESP_PQ_INT64);
    rc |= leaf(s, g, "dataChange", SESP_PQ_BOOLEAN);
    rc |= leaf(s, g, "extendedFileMetadata", SESP_PQ_BOOLEAN);
    rc |= str_map(s, g, "partitionValues");
    rc |= leaf(s, g, "size", SESP_PQ_INT64);
    rc |= sesp_pq_schema_add_group(s, 0, "metaData", SESP_PQ_OPTIONAL, SESP_PQ_LT_NONE, &g);
    rc |= leaf_str(s, g, "id");
    rc |= leaf_str(s, g, "name");
    rc |= leaf_str(s, g, "description");
    rc |= sesp_pq_schema_add_group(s, g, "format", SESP_PQ_OPTIONAL, SESP_PQ_LT_NONE, &f);
    rc |= leaf_str(s, f, "provider");
    rc |= str_map(s, f, "options");
    rc |= leaf_str(s, g, "schemaString");
    rc |= str_list(s, g, "partitionColumns");
    rc |= str_map(s, g, "configuration");
    rc |= leaf(s, g, "createdTime", SESP_PQ_INT64);
    rc |= sesp_pq_schema_add_group(s, 0, "protocol", SESP_PQ_OPTIONAL, SESP_PQ_LT_NONE, &g);
    rc |= leaf(s, g, "minReaderVersion", SESP_PQ_INT32);
    rc |= leaf(s, g, "minWriterVersion", SESP_PQ_INT32);
    rc |= str_list(s, g, "readerFeatures");
    rc |= str_list(s, g, "writerFeatures");
    if (rc) { sesp_pq_schema_free(s); return SESP_ERR_INVALID_ARG; }
    *out = s;
    return 0;
}

/* ---- JSON <-> Parquet value by Parquet schema node ---- */

static int json_to_value(const sesp_pq_schema *s, int node, const json_t *j, sesp_arena *a, sesp_pq_value *out)
{
    const sesp_pq_node *n = sesp_pq_schema_node(s, node);
    if (!j || json_is_null(j)) { *out = sesp_pqv_null(); return 0; }
    if (n->is_group && n->logical.kind == SESP_PQ_LT_LIST) {
        int elem = sesp_pq_schema_node(s, n->children[0])->children[0];
        size_t cnt = json_array_size(j);
        sesp_pq_value *items = sesp_arena_calloc(a, cnt + 1, sizeof(*items));
        if (!items) return SESP_ERR_NOMEM;
        for (size_t i = 0; i < cnt; i++) {
            int rc = json_to_value(s, elem, json_array_get(j, i), a, &items[i]);
            if (rc) return rc;
        }
        *out = sesp_pqv_list(items, cnt);
        return 0;
    }
    if (n->is_group && n->logical.kind == SESP_PQ_LT_MAP) {
        const sesp_pq_node *kvn = sesp_pq_schema_node(s, n->children[0]);
        size_t cnt = json_object_size(j), i = 0;
        sesp_pq_value *items = sesp_arena_calloc(a, cnt + 1, sizeof(*items)), *kv = sesp_arena_calloc(a, 2 * cnt + 2, sizeof(*kv));
        if (!items || !kv) return SESP_ERR_NOMEM;
        const char *k;
        json_t *v;
        json_object_foreach((json_t *)j, k, v) {
            kv[2 * i] = sesp_pqv_bytes(k, strlen(k));
            int rc = json_to_value(s, kvn->children[1], v, a, &kv[2 * i + 1]);
            if (rc) return rc;
            items[i] = sesp_pqv_group(&kv[2 * i], 2);
            i++;
        }
        *out = sesp_pqv_list(items, cnt);
        return 0;
    }
    if (n->is_group) {
        sesp_pq_value *kids = sesp_arena_calloc(a, (size_t)n->nchildren + 1, sizeof(*kids));
        if (!kids) return SESP_ERR_NOMEM;
        for (int i = 0; i < n->nchildren; i++) {
            const sesp_pq_node *c = sesp_pq_schema_node(s, n->children[i]);
            int rc = json_to_value(s, n->children[i], json_object_get(j, c->name), a, &kids[i]);
            if (rc) return rc;
        }
        *out = sesp_pqv_group(kids, (size_t)n->nchildren);
        return 0;
    }
    switch (n->physical) {
    case SESP_PQ_BYTE_ARRAY: *out = sesp_pqv_bytes(json_string_value(j), json_string_length(j)); return 0;
    case SESP_PQ_INT64: *out = sesp_pqv_i64(json_integer_value(j)); return 0;
    case SESP_PQ_INT32: *out = sesp_pqv_i32((int32_t)json_integer_value(j)); return 0;
    case SESP_PQ_BOOLEAN: *out = sesp_pqv_bool(json_is_true(j)); return 0;
    default: return SESP_ERR_INVALID_ARG;
    }
}

/* NULL (not json_null) for absent values so optional fields stay absent. */
static json_t *value_to_json(const sesp_pq_schema *s, int node, const sesp_pq_value *v, int depth)
{
    const sesp_pq_node *n = sesp_pq_schema_node(s, node);
    if (!v || v->kind == SESP_PQV_NULL || depth > 16) return NULL;
    if (n->is_group && (n->logical.kind == SESP_PQ_LT_LIST || n->logical.kind == SESP_PQ_LT_MAP)) {
        if (v->kind != SESP_PQV_LIST || n->nchildren != 1) return NULL;
        const sesp_pq_node *inner = sesp_pq_schema_node(s, n->children[0]);
        bool map = n->logical.kind == SESP_PQ_LT_MAP;
        if ((map && inner->nchildren != 2) || (!map && inner->nchildren != 1)) return NULL;
        json_t *out = map ? json_object() : json_array();
        for (size_t i = 0; i < v->u.list.n; i++) {
            const sesp_pq_value *it = &v->u.list.v[i];
            if (map) {
                if (it->kind != SESP_PQV_GROUP || it->u.group.n != 2) continue;
                json_t *k = value_to_json(s, inner->children[0], &it->u.group.v[0], depth + 1);
                json_t *val = value_to_json(s, inner->children[1], &it->u.group.v[1], depth + 1);
                if (json_is_string(k)) json_object_set_new(out, json_string_value(k), val ? val : json_null());
                else json_decref(val);
                json_decref(k);
            } else {
                json_t *e = value_to_json(s, inner->children[0], it, depth + 1);
                json_array_append_new(out, e ? e : json_null());
            }
        }
        return out;
    }
    if (n->is_group) {
        if (v->kind != SESP_PQV_GROUP || v->u.group.n != (size_t)n->nchildren) return NULL;
        json_t *o = json_object();
        for (int i = 0; i < n->nchildren; i++) {
            json_t *c = value_to_json(s, n->children[i], &v->u.group.v[i], depth + 1);
            if (c) json_object_set_new(o, sesp_pq_schema_node(s, n->children[i])->name, c);
        }
        return o;
    }
    switch (v->kind) {
    case SESP_PQV_BYTES: return json_stringn((const char *)v->u.bytes.p, v->u.bytes.len);   /* NULL if not UTF-8 */
    case SESP_PQV_INT64: return json_integer(v->u.i64);
    case SESP_PQV_INT32: return json_integer(v->u.i32);
    case SESP_PQV_BOOL: return json_boolean(v->u.b);
    default: return NULL;
    }
}

/* ---- writing ---- */

typedef struct objsink {
    sesp_objwriter *w;
} objsink;

static int sink_write(void *ctx, const void *p, size_t len)
{
    return sesp_objwriter_write(((objsink *)ctx)->w, p, len);
}

static int write_action(sesp_pq_writer *pw, const sesp_pq_schema *ps, const sesp_delta_action *act, char *err, size_t errlen)
{
    json_t *j = sesp_delta_action_to_json(act);
    if (!j) return SESP_ERR_NOMEM;
    sesp_arena a;
    sesp_arena_init(&a, 0);
    sesp_pq_value row;
    int rc = json_to_value(ps, 0, j, &a, &row);
    if (!rc && (rc = sesp_pq_writer_write_row(pw, &row)))
        snprintf(err, errlen, "checkpoint row: %s", sesp_pq_writer_error(pw));
    sesp_arena_free(&a);
    json_decref(j);
    return rc;
}

int sesp_delta_parse_interval(const char *s, int64_t *ms_out)
{
    while (isspace((unsigned char)*s)) s++;
    if (!strncasecmp(s, "interval", 8)) s += 8;
    char *end;
    long long n = strtoll(s, &end, 10);
    if (end == s || n < 0) return SESP_ERR_INVALID_ARG;
    while (isspace((unsigned char)*end)) end++;
    static const struct { const char *u; int64_t ms; } units[] = {
        {"millisecond", 1}, {"second", 1000}, {"minute", 60000}, {"hour", 3600000},
        {"day", 86400000}, {"week", 7 * 86400000LL},
    };
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        size_t l = strlen(units[i].u);
        if (!strncasecmp(end, units[i].u, l) && (!end[l] || ((end[l] == 's' || end[l] == 'S') && !end[l + 1]))) {
            if (n > INT64_MAX / units[i].ms) return SESP_ERR_INVALID_ARG;
            *ms_out = n * units[i].ms;
            return 0;
        }
    }
    return SESP_ERR_INVALID_ARG;
}

static int64_t config_interval(const sesp_delta_snapshot *snap, const char *key, int64_t dflt)
{
    const char *v = sesp_delta_snapshot_config(snap, key);
    int64_t ms;
    return v && sesp_delta_parse_interval(v, &ms) == 0 ? ms : dflt;
}

int sesp_delta_checkpoint_write(sesp_objstore *s, const sesp_delta_snapshot *snap, char *err, size_t errlen)
{
    sesp_pq_schema *ps = NULL;
    sesp_pq_writer *pw = NULL;
    sesp_objwriter *ow = NULL;
    char key[80];
    sesp_delta_checkpoint_key(snap->version, key, sizeof(key));
    int rc = checkpoint_schema(&ps);
    if (rc) { snprintf(err, errlen, "checkpoint schema"); return rc; }
    if ((rc = sesp_objwriter_open(s, key, &ow))) {
        snprintf(err, errlen, "checkpoint %s: %s", key, sesp_objstore_error(s));
        goto out;
    }
    objsink sink = {ow};
    sesp_pq_writer_options wo = {.codec = SESP_PQ_SNAPPY};
    if ((rc = sesp_pq_writer_open(ps, &wo, (sesp_pq_sink){sink_write, &sink}, &pw))) {
        snprintf(err, errlen, "checkpoint writer");
        goto out;
    }
    int64_t rows = 0, tomb_cut = sesp_delta_now_ms() - config_interval(snap, "delta.deletedFileRetentionDuration", DEFAULT_TOMBSTONE_RETENTION_MS);
    sesp_delta_action act = {.kind = SESP_DA_PROTOCOL, .u.protocol = snap->protocol};
    if ((rc = write_action(pw, ps, &act, err, errlen))) goto out;
    act = (sesp_delta_action){.kind = SESP_DA_METADATA, .u.metadata = snap->metadata};
    if ((rc = write_action(pw, ps, &act, err, errlen))) goto out;
    rows = 2;
    for (size_t i = 0; i < snap->ntxns; i++, rows++) {
        act = (sesp_delta_action){.kind = SESP_DA_TXN, .u.txn = snap->txns[i]};
        if ((rc = write_action(pw, ps, &act, err, errlen))) goto out;
    }
    for (size_t i = 0; i < snap->nfiles; i++, rows++) {
        act = (sesp_delta_action){.kind = SESP_DA_ADD, .u.add = *snap->files[i]};
        act.u.add.data_change = false;
        if ((rc = write_action(pw, ps, &act, err, errlen))) goto out;
    }
    for (size_t i = 0; i < snap->ntombstones; i++) {
        const sesp_delta_remove *r = snap->tombstones[i];
        if (r->has_deletion_timestamp && r->deletion_timestamp < tomb_cut) continue;
        act = (sesp_delta_action){.kind = SESP_DA_REMOVE, .u.remove = *r};
        act.u.remove.data_change = false;
        if ((rc = write_action(pw, ps, &act, err, errlen))) goto out;
        rows++;
    }
    uint64_t size = 0;
    rc = sesp_pq_writer_close(pw, &size);
    pw = NULL;
    if (rc) { snprintf(err, errlen, "closing checkpoint"); goto out; }
    rc = sesp_objwriter_commit(ow);
    ow = NULL;
    if (rc) { snprintf(err, errlen, "checkpoint %s: %s", key, sesp_objstore_error(s)); goto out; }
    char last[256];
    int n = snprintf(last, sizeof(last), "{\"version\":%lld,\"size\":%lld,\"sizeInBytes\":%llu,\"numOfAddFiles\":%zu}",
                     (long long)snap->version, (long long)rows, (unsigned long long)size, snap->nfiles);
    if ((rc = sesp_objstore_put(s, SESP_DELTA_LOG_DIR "_last_checkpoint", last, (size_t)n)))
        snprintf(err, errlen, "_last_checkpoint: %s", sesp_objstore_error(s));
out:
    if (pw) sesp_pq_writer_abort(pw);
    if (ow) sesp_objwriter_abort(ow);
    sesp_pq_schema_free(ps);
    return rc;
}

/* ---- reading ---- */

typedef struct objsrc {
    sesp_objstore *s;
    const char *key;
} objsrc;

static int src_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    objsrc *o = ctx;
    size_t got = 0;
    int rc = sesp_objstore_get_range(o->s, o->key, off, len, buf, &got);
    if (rc) return rc;
    return got == len ? 0 : SESP_ERR_TRUNCATED;
}

int sesp_delta_checkpoint_read(sesp_objstore *s, int64_t version, sesp_arena *a, sesp_delta_action **out,
                               size_t *nout, char *err, size_t errlen)
{
    *out = NULL;
    *nout = 0;
    char key[80];
    sesp_delta_checkpoint_key(version, key, sizeof(key));
    sesp_obj_info info;
    int rc = sesp_objstore_head(s, key, &info);
    if (rc) { snprintf(err, errlen, "%s: %s", key, sesp_objstore_error(s)); return rc; }
    sesp_obj_info_free(&info);
    objsrc src = {s, key};
    sesp_pq_reader *r = NULL;
    if ((rc = sesp_pq_reader_open((sesp_pq_source){src_read, &src, info.size}, NULL, &r))) {
        snprintf(err, errlen, "%s: %s", key, r ? sesp_pq_reader_error(r) : "cannot open");
        sesp_pq_reader_close(r);
        return rc;
    }
    int64_t nrows = sesp_pq_reader_num_rows(r);
    if (nrows < 0 || nrows > 100000000) { snprintf(err, errlen, "%s: bad row count", key); rc = SESP_ERR_CORRUPT; goto out; }
    sesp_delta_action *acts = sesp_arena_calloc(a, (size_t)nrows + 1, sizeof(*acts));
    if (!acts) { rc = SESP_ERR_NOMEM; goto out; }
    const sesp_pq_schema *ps = sesp_pq_reader_schema(r);
    const sesp_pq_node *root = sesp_pq_schema_node(ps, 0);
    size_t n = 0;
    sesp_arena rowa;
    sesp_arena_init(&rowa, 0);
    for (;;) {
        const sesp_pq_value *row = NULL;
        if ((rc = sesp_pq_reader_next_row(r, &rowa, &row))) { snprintf(err, errlen, "%s: %s", key, sesp_pq_reader_error(r)); break; }
        if (!row) break;
        if (n >= (size_t)nrows || row->kind != SESP_PQV_GROUP || row->u.group.n != (size_t)root->nchildren) {
            snprintf(err, errlen, "%s: unexpected row shape", key);
            rc = SESP_ERR_CORRUPT;
            break;
        }
        for (int c = 0; c < root->nchildren && !rc; c++) {
            const sesp_pq_node *cn = sesp_pq_schema_node(ps, root->children[c]);
            static const char *const known[] = {"txn", "add", "remove", "metaData", "protocol"};
            bool is_known = false;
            for (size_t k = 0; k < 5; k++) is_known |= !strcmp(cn->name, known[k]);
            if (!is_known || row->u.group.v[c].kind == SESP_PQV_NULL) continue;
            json_t *body = value_to_json(ps, root->children[c], &row->u.group.v[c], 0);
            if (!body) continue;
            json_t *obj = json_object();
            json_object_set_new(obj, cn->name, body);
            char sub[400] = "";
            rc = sesp_delta_action_from_json(obj, a, &acts[n], sub, sizeof(sub));
            json_decref(obj);
            if (rc) snprintf(err, errlen, "%s row %zu: %s", key, n, sub);
            else n++;
            break;   /* one action per row */
        }
        sesp_arena_free(&rowa);
        sesp_arena_init(&rowa, 0);
        if (rc) break;
    }
    sesp_arena_free(&rowa);
    if (!rc) { *out = acts; *nout = n; }
out:
    sesp_pq_reader_close(r);
    return rc;
}

/* ---- clean-up ---- */

int sesp_delta_log_cleanup(sesp_objstore *s, const sesp_delta_snapshot *snap, int64_t now_ms, int *deleted,
                           char *err, size_t errlen)
{
    *deleted = 0;
    int64_t cutoff = now_ms - config_interval(snap, "delta.logRetentionDuration", DEFAULT_LOG_RETENTION_MS);
    sesp_delta_version_info *v = NULL;
    size_t nv = 0;
    int rc = sesp_delta_log_versions(s, &v, &nv, err, errlen);
    if (rc) return rc;
    /* the newest checkpoint c such that every commit below c has expired */
    int64_t safe = -1;
    for (size_t i = 0; i < nv; i++) {
        if (v[i].version > snap->version) break;
        if (v[i].has_checkpoint) safe = v[i].version;
        if (v[i].has_json && v[i].mtime_ms >= cutoff) break;
    }
    for (size_t i = 0; i < nv && safe > 0 && !rc; i++) {
        if (v[i].version >= safe) break;
        char key[80];
        if (v[i].has_json) {
            sesp_delta_commit_key(v[i].version, key, sizeof(key));
            if (!(rc = sesp_objstore_delete(s, key))) (*deleted)++;
        }
        if (!rc && v[i].has_checkpoint) {
            sesp_delta_checkpoint_key(v[i].version, key, sizeof(key));
            if (!(rc = sesp_objstore_delete(s, key))) (*deleted)++;
        }
        if (rc) snprintf(err, errlen, "log clean-up: %s", sesp_objstore_error(s));
    }
    free(v);
    return rc;
}
