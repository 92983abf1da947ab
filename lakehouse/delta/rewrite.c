/*
 * Copy-on-write table operations: DELETE by predicate and MERGE by key
 * rewrite the affected files (remove + add, dataChange=true; MERGE widens
 * columns for its incoming rows like an append does), OPTIMIZE
 * bin-packs small files per partition (dataChange=false) and RESTORE re-adds
 * an older version's files.  VACUUM is in vacuum.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "common/err.h"
#include "table_impl.h"

typedef struct rowbuf {
    json_t **rows;
    size_t n, cap;
} rowbuf;

static int rb_push(rowbuf *b, const json_t *row)
{
    if (b->n == b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 256;
        json_t **nr = realloc(b->rows, nc * sizeof(*nr));
        if (!nr) return SESP_ERR_NOMEM;
        b->rows = nr;
        b->cap = nc;
    }
    b->rows[b->n++] = json_incref((json_t *)row);
    return 0;
}

static void rb_free(rowbuf *b)
{
    for (size_t i = 0; i < b->n; i++) json_decref(b->rows[i]);
    free(b->rows);
    memset(b, 0, sizeof(*b));
}

static int collect(void *ud, const json_t *row) { return rb_push(ud, row); }

static sesp_delta_action remove_of(const sesp_delta_add *add, bool data_change, int64_t now)
{
    sesp_delta_action a = {.kind = SESP_DA_REMOVE};
    a.u.remove = (sesp_delta_remove){.path = add->path, .has_deletion_timestamp = true, .deletion_timestamp = now,
                                     .data_change = data_change, .extended_file_metadata = true,
                                     .partition_values = add->partition_values, .has_size = true, .size = add->size};
    return a;
}

typedef struct actlist {
    sesp_delta_action *v;
    size_t n, cap;
} actlist;

static int al_push(actlist *l, sesp_delta_action a)
{
    if (l->n == l->cap) {
        size_t nc = l->cap ? l->cap * 2 : 64;
        sesp_delta_action *nv = realloc(l->v, nc * sizeof(*nv));
        if (!nv) return SESP_ERR_NOMEM;
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n++] = a;
    return 0;
}

/* Commits l (removes + adds); on failure deletes the new files. */
static int finish(sesp_delta_table *t, const sesp_delta_snapshot *snap, actlist *l, bool whole, const char *op,
                  json_t *params, sesp_delta_result *res)
{
    char err[512] = "";
    sesp_delta_txn_read rd = {.read_whole_table = whole};
    int rc = sesp_delta_commit(t->s, snap->version, l->v, l->n, &rd, op, params, &res->version, err, sizeof(err));
    if (rc) {
        sesp_delta_table_seterr(t, rc, "%s commit failed: %s", op, err);
        for (size_t i = 0; i < l->n; i++)
            if (l->v[i].kind == SESP_DA_ADD) sesp_delta_discard_files(t, &l->v[i].u.add, 1);
        res->version = -1;
        return rc;
    }
    if (sesp_delta_table_maintain(t, res->version))
        fprintf(stderr, "delta: maintenance after version %lld: %s\n", (long long)res->version, t->err);
    return 0;
}

/* ---- DELETE ---- */

int sesp_delta_table_delete(sesp_delta_table *t, sesp_delta_pred_fn pred, void *ud, sesp_delta_result *res)
{
    memset(res, 0, sizeof(*res));
    res->version = -1;
    sesp_delta_snapshot *snap = NULL;
    int rc = sesp_delta_table_snapshot(t, -1, &snap);
    if (!rc && (rc = sesp_delta_check_writable(t, snap, true))) { sesp_delta_snapshot_free(snap); return rc; }
    if (rc) return rc;
    sesp_arena a;
    sesp_arena_init(&a, 0);
    actlist l = {0};
    int64_t now = sesp_delta_table_now(t);
    for (size_t i = 0; i < snap->nfiles && !rc; i++) {
        rowbuf all = {0}, keep = {0};
        rc = sesp_delta_read_file(t, snap, snap->files[i], collect, &all);
        for (size_t r = 0; r < all.n && !rc; r++)
            if (!pred(ud, all.rows[r])) rc = rb_push(&keep, all.rows[r]);
        if (!rc && keep.n < all.n) {
            res->rows_deleted += (int64_t)(all.n - keep.n);
            rc = al_push(&l, remove_of(snap->files[i], true, now));
            res->files_removed++;
            sesp_delta_add *adds = NULL;
            size_t nadds = 0;
            if (!rc && keep.n)
                rc = sesp_delta_write_rows(t, snap, snap->schema, keep.rows, keep.n, true, 0, &a, &adds, &nadds);
            for (size_t k = 0; k < nadds && !rc; k++) rc = al_push(&l, (sesp_delta_action){.kind = SESP_DA_ADD, .u.add = adds[k]});
            res->files_added += nadds;
        }
        rb_free(&all);
        rb_free(&keep);
    }
    if (!rc && l.n) {
        json_t *params = json_pack("{s:s}", "predicate", "(caller predicate)");
        rc = finish(t, snap, &l, true, "DELETE", params, res);
        json_decref(params);
    } else if (rc) {
        for (size_t i = 0; i < l.n; i++)
            if (l.v[i].kind == SESP_DA_ADD) sesp_delta_discard_files(t, &l.v[i].u.add, 1);
    }
    free(l.v);
    sesp_arena_free(&a);
    sesp_delta_snapshot_free(snap);
    return rc;
}

/* ---- MERGE ---- */

static char *row_key(const json_t *row, const char *const *keys, size_t nkeys, const sesp_delta_type *schema)
{
    json_t *arr = json_array();
    for (size_t k = 0; k < nkeys; k++) {
        json_t *v = json_object_get(row, keys[k]);
        const sesp_delta_field *f = sesp_delta_struct_field(schema, keys[k]);
        sesp_delta_dec d;
        if (f && f->type->kind == SESP_DT_DECIMAL && sesp_delta_json_to_decimal(v, f->type->precision, f->type->scale, &d)) {
            /* a decimal by its value at the column's scale: "1.5", 1.50 and
             * an older file's "1.50" read back as "1.5000" after a scale
             * increase are one key */
            char text[SESP_DELTA_DEC_TEXT];
            sesp_delta_decimal_text(d, f->type->scale, text, sizeof(text));
            v = json_string(text);
        } else if (json_is_real(v) && json_real_value(v) == trunc(json_real_value(v)) &&
                   fabs(json_real_value(v)) < 9007199254740992.0) {
            /* 1.0 and 1 are the same key; integers themselves stay exact (two
             * longs past 2^53 are one double, and one would replace the other) */
            v = json_integer((json_int_t)json_real_value(v));
        } else v = v ? json_incref(v) : json_null();
        json_array_append_new(arr, v);
    }
    char *s = json_dumps(arr, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(arr);
    return s;
}

int sesp_delta_table_merge(sesp_delta_table *t, const json_t *rows, const char *const *keys, size_t nkeys,
                           sesp_delta_result *res)
{
    memset(res, 0, sizeof(*res));
    res->version = -1;
    if (!json_is_array(rows) || !nkeys) return sesp_delta_table_seterr(t, SESP_ERR_INVALID_ARG, "merge needs rows and key columns");
    sesp_delta_snapshot *snap = NULL;
    int rc = sesp_delta_table_snapshot(t, -1, &snap);
    if (!rc && (rc = sesp_delta_check_writable(t, snap, true))) { sesp_delta_snapshot_free(snap); return rc; }
    if (rc) return rc;
    for (size_t k = 0; k < nkeys; k++)
        if (!sesp_delta_struct_field(snap->schema, keys[k])) {
            sesp_delta_snapshot_free(snap);
            return sesp_delta_table_seterr(t, SESP_ERR_INVALID_ARG, "merge key %s is not a column", keys[k]);
        }
    sesp_arena a;
    sesp_arena_init(&a, 0);
    actlist l = {0};
    int64_t now = sesp_delta_table_now(t);
    int64_t matched = 0;
    /* incoming values may widen columns (typeWidening): every file this
     * merge writes, rewritten old rows included, gets the new schema */
    sesp_delta_type *widened = NULL;
    sesp_delta_action evolve[2];
    size_t nevolve = 0;
    rc = sesp_delta_evolve_schema(t, snap, rows, false, &a, &widened, evolve, &nevolve);
    for (size_t k = 0; k < nevolve && !rc; k++) rc = al_push(&l, evolve[k]);
    const sesp_delta_type *schema = widened ? widened : snap->schema;
    /* incoming rows, deduplicated by key (decimals at the new scale): the last one wins */
    json_t *incoming = json_object();
    json_t *order = json_array();
    size_t i;
    json_t *row;
    json_array_foreach((json_t *)rows, i, row) {
        if (rc) break;
        char *k = row_key(row, keys, nkeys, schema);
        if (!k) { rc = SESP_ERR_NOMEM; break; }
        if (!json_object_get(incoming, k)) json_array_append_new(order, json_string(k));
        json_object_set(incoming, k, row);
        free(k);
    }
    for (size_t f = 0; f < snap->nfiles && !rc; f++) {
        rowbuf all = {0}, keep = {0};
        rc = sesp_delta_read_file(t, snap, snap->files[f], collect, &all);
        for (size_t r = 0; r < all.n && !rc; r++) {
            char *k = row_key(all.rows[r], keys, nkeys, schema);
            if (!k) { rc = SESP_ERR_NOMEM; break; }
            if (json_object_get(incoming, k)) matched++;
            else rc = rb_push(&keep, all.rows[r]);
            free(k);
        }
        if (!rc && keep.n < all.n) {
            rc = al_push(&l, remove_of(snap->files[f], true, now));
            res->files_removed++;
            sesp_delta_add *adds = NULL;
            size_t nadds = 0;
            if (!rc && keep.n)
                rc = sesp_delta_write_rows(t, snap, schema, keep.rows, keep.n, true, 0, &a, &adds, &nadds);
            for (size_t k = 0; k < nadds && !rc; k++) rc = al_push(&l, (sesp_delta_action){.kind = SESP_DA_ADD, .u.add = adds[k]});
            res->files_added += nadds;
        }
        rb_free(&all);
        rb_free(&keep);
    }
    if (!rc) {
        rowbuf in = {0};
        json_t *k;
        json_array_foreach(order, i, k) if (!rc) rc = rb_push(&in, json_object_get(incoming, json_string_value(k)));
        sesp_delta_add *adds = NULL;
        size_t nadds = 0;
        if (!rc && in.n)
            rc = sesp_delta_write_rows(t, snap, schema, in.rows, in.n, true, 0, &a, &adds, &nadds);
        for (size_t k2 = 0; k2 < nadds && !rc; k2++) rc = al_push(&l, (sesp_delta_action){.kind = SESP_DA_ADD, .u.add = adds[k2]});
        res->files_added += nadds;
        res->rows_written = (int64_t)in.n;
        res->rows_deleted = matched;
        rb_free(&in);
    }
    if (!rc && l.n) {
        json_t *params = json_pack("{s:o}", "mergeKeys", json_array());
        for (size_t k = 0; k < nkeys; k++) json_array_append_new(json_object_get(params, "mergeKeys"), json_string(keys[k]));
        rc = finish(t, snap, &l, true, "MERGE", params, res);
        json_decref(params);
    } else if (rc) {
        for (size_t x = 0; x < l.n; x++)
            if (l.v[x].kind == SESP_DA_ADD) sesp_delta_discard_files(t, &l.v[x].u.add, 1);
    }
    free(l.v);
    sesp_delta_type_free(widened);
    json_decref(incoming);
    json_decref(order);
    sesp_arena_free(&a);
    sesp_delta_snapshot_free(snap);
    return rc;
}

/* ---- OPTIMIZE ---- */

/* The partition of add as the values it stands for, so that files written
 * before a type change ("1.5" when the column was decimal(4,1)) bin with
 * later ones ("1.50" at decimal(5,2)). */
static char *partition_id(const sesp_delta_snapshot *snap, const sesp_delta_add *add)
{
    json_t *o = json_object();
    for (size_t i = 0; i < add->partition_values.n; i++) {
        const char *k = add->partition_values.items[i].key, *v = add->partition_values.items[i].value;
        const sesp_delta_field *f = sesp_delta_struct_field(snap->schema, k);
        json_object_set_new(o, k, f ? sesp_delta_partition_value_to_json(f->type, v) : v ? json_string(v) : json_null());
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    return s;
}

int sesp_delta_table_optimize(sesp_delta_table *t, uint64_t target_bytes, sesp_delta_result *res)
{
    memset(res, 0, sizeof(*res));
    res->version = -1;
    if (!target_bytes) target_bytes = 128u << 20;
    sesp_delta_snapshot *snap = NULL;
    int rc = sesp_delta_table_snapshot(t, -1, &snap);
    if (!rc && (rc = sesp_delta_check_writable(t, snap, false))) { sesp_delta_snapshot_free(snap); return rc; }
    if (rc) return rc;
    char **pid = calloc(snap->nfiles + 1, sizeof(char *));
    bool *done = calloc(snap->nfiles + 1, sizeof(bool));
    sesp_arena a;
    sesp_arena_init(&a, 0);
    actlist l = {0};
    int64_t now = sesp_delta_table_now(t);
    if (!pid || !done) rc = SESP_ERR_NOMEM;
    for (size_t i = 0; i < snap->nfiles && !rc; i++)
        if (!(pid[i] = partition_id(snap, snap->files[i]))) rc = SESP_ERR_NOMEM;
    for (size_t i = 0; i < snap->nfiles && !rc; i++) {
        if (done[i] || (uint64_t)snap->files[i]->size >= target_bytes) continue;
        /* a bin: small files of this partition until the target is reached */
        size_t bin[4096], nb = 0;
        uint64_t sum = 0;
        for (size_t j = i; j < snap->nfiles && nb < 4096 && sum < target_bytes; j++) {
            if (done[j] || strcmp(pid[i], pid[j]) || (uint64_t)snap->files[j]->size >= target_bytes) continue;
            bin[nb++] = j;
            sum += (uint64_t)snap->files[j]->size;
            done[j] = true;
        }
        if (nb < 2) continue;
        rowbuf all = {0};
        for (size_t k = 0; k < nb && !rc; k++) rc = sesp_delta_read_file(t, snap, snap->files[bin[k]], collect, &all);
        sesp_delta_add *adds = NULL;
        size_t nadds = 0;
        if (!rc)
            rc = sesp_delta_write_rows(t, snap, snap->schema, all.rows, all.n, false, all.n + 1, &a, &adds, &nadds);
        for (size_t k = 0; k < nb && !rc; k++) rc = al_push(&l, remove_of(snap->files[bin[k]], false, now));
        for (size_t k = 0; k < nadds && !rc; k++) rc = al_push(&l, (sesp_delta_action){.kind = SESP_DA_ADD, .u.add = adds[k]});
        if (!rc) { res->files_removed += nb; res->files_added += nadds; }
        rb_free(&all);
    }
    if (!rc && l.n) {
        json_t *params = json_pack("{s:I}", "targetSize", (json_int_t)target_bytes);
        rc = finish(t, snap, &l, false, "OPTIMIZE", params, res);
        json_decref(params);
    } else if (rc) {
        for (size_t x = 0; x < l.n; x++)
            if (l.v[x].kind == SESP_DA_ADD) sesp_delta_discard_files(t, &l.v[x].u.add, 1);
    }
    if (pid)
        for (size_t i = 0; i < snap->nfiles; i++) free(pid[i]);
    free(pid);
    free(done);
    free(l.v);
    sesp_arena_free(&a);
    sesp_delta_snapshot_free(snap);
    return rc;
}

/* ---- RESTORE ---- */

static bool has_path(const sesp_delta_snapshot *s, const char *path)
{
    size_t lo = 0, hi = s->nfiles;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(s->files[mid]->path, path);
        if (!c) return true;
        if (c < 0) lo = mid + 1;
        else hi = mid;
    }
    return false;
}

int sesp_delta_table_restore(sesp_delta_table *t, int64_t version, sesp_delta_result *res)
{
    memset(res, 0, sizeof(*res));
    res->version = -1;
    sesp_delta_snapshot *cur = NULL, *old = NULL;
    int rc = sesp_delta_table_snapshot(t, -1, &cur);
    if (!rc && (rc = sesp_delta_check_writable(t, cur, true))) { sesp_delta_snapshot_free(cur); return rc; }
    if (rc) return rc;
    if (version >= cur->version) {
        int64_t v = cur->version;
        sesp_delta_snapshot_free(cur);
        return sesp_delta_table_seterr(t, SESP_ERR_INVALID_ARG, "restore needs a version older than the current %lld", (long long)v);
    }
    if ((rc = sesp_delta_table_snapshot(t, version, &old))) { sesp_delta_snapshot_free(cur); return rc; }
    actlist l = {0};
    int64_t now = sesp_delta_table_now(t);
    if (strcmp(old->metadata.schema_string, cur->metadata.schema_string) ||
        old->metadata.npartition_columns != cur->metadata.npartition_columns)
        rc = al_push(&l, (sesp_delta_action){.kind = SESP_DA_METADATA, .u.metadata = old->metadata});
    for (size_t i = 0; i < old->nfiles && !rc; i++) {
        if (has_path(cur, old->files[i]->path)) continue;
        char *key = sesp_delta_path_to_key(old->files[i]->path);
        sesp_obj_info info;
        if (!key) rc = sesp_delta_table_seterr(t, SESP_ERR_UNSUPPORTED, "unsupported path %s", old->files[i]->path);
        else if ((rc = sesp_objstore_head(t->s, key, &info)))
            sesp_delta_table_seterr(t, rc, "cannot restore version %lld: data file %s is gone (vacuumed?)", (long long)version, old->files[i]->path);
        else sesp_obj_info_free(&info);
        free(key);
        if (rc) break;
        sesp_delta_action a = {.kind = SESP_DA_ADD, .u.add = *old->files[i]};
        a.u.add.data_change = true;
        rc = al_push(&l, a);
        res->files_added++;
    }
    for (size_t i = 0; i < cur->nfiles && !rc; i++) {
        if (has_path(old, cur->files[i]->path)) continue;
        rc = al_push(&l, remove_of(cur->files[i], true, now));
        res->files_removed++;
    }
    if (!rc && l.n) {
        char err[512] = "";
        json_t *params = json_pack("{s:I}", "version", (json_int_t)version);
        sesp_delta_txn_read rd = {.read_whole_table = true};
        rc = sesp_delta_commit(t->s, cur->version, l.v, l.n, &rd, "RESTORE", params, &res->version, err, sizeof(err));
        json_decref(params);
        if (rc) sesp_delta_table_seterr(t, rc, "RESTORE commit failed: %s", err);
        else if (sesp_delta_table_maintain(t, res->version))
            fprintf(stderr, "delta: maintenance after version %lld: %s\n", (long long)res->version, t->err);
    }
    free(l.v);
    sesp_delta_snapshot_free(old);
    sesp_delta_snapshot_free(cur);
    return rc;
}
