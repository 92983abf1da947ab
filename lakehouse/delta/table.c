/*
 * Delta tables: create, append (schema enforcement and evolution, Hive-style
 * partition directories, per-file stats computed by stats.c, idempotent txn),
 * scan and time travel, and the maintenance hook (checkpoint every
 * delta.checkpointInterval commits, then log clean-up).  It also owns the
 * writer side of the protocol: which features SESP can write, and the upgrade
 * to reader 3 / writer 7 when the metadata starts using a table feature
 * (timestampNtz, typeWidening: a write whose values need a wider column
 * widens it in the same commit when delta.enableTypeWidening is true).  Data
 * files are Parquet written through lakehouse/parquet straight into the
 * object store's streaming writer; a commit that fails leaves its data files
 * unreferenced (they are deleted on the spot when possible, VACUUM gets the
 * rest).  Rewrites (DELETE, MERGE, OPTIMIZE, RESTORE) live in rewrite.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/rand.h>

#include "common/err.h"
#include "delta_impl.h"
#include "table_impl.h"

int sesp_delta_table_seterr(sesp_delta_table *t, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->err, sizeof(t->err), fmt, ap);
    va_end(ap);
    return rc;
}

int sesp_delta_table_open(const char *uri, const sesp_delta_table_opts *opts, sesp_delta_table **out)
{
    *out = NULL;
    sesp_delta_table *t = calloc(1, sizeof(*t));
    if (!t) return SESP_ERR_NOMEM;
    if (opts) t->opts = *opts;
    if (!t->opts.target_file_rows) t->opts.target_file_rows = 1000000;
    int rc = sesp_objstore_open(uri, &t->opts.store, &t->s);
    if (rc) { free(t); return rc; }
    *out = t;
    return 0;
}

void sesp_delta_table_close(sesp_delta_table *t)
{
    if (!t) return;
    sesp_objstore_close(t->s);
    free(t);
}

const char *sesp_delta_table_error(const sesp_delta_table *t) { return t->err[0] ? t->err : "no error"; }
sesp_objstore *sesp_delta_table_store(sesp_delta_table *t) { return t->s; }

int64_t sesp_delta_table_now(const sesp_delta_table *t) { return t->opts.now_ms ? t->opts.now_ms : sesp_delta_now_ms(); }

int sesp_delta_table_snapshot(sesp_delta_table *t, int64_t version, sesp_delta_snapshot **out)
{
    char err[512] = "";
    int rc = sesp_delta_snapshot_load(t->s, version, out, err, sizeof(err));
    return rc ? sesp_delta_table_seterr(t, rc, "%s", err) : 0;
}

int sesp_delta_table_snapshot_at(sesp_delta_table *t, int64_t ts_ms, sesp_delta_snapshot **out)
{
    char err[512] = "";
    int rc = sesp_delta_snapshot_load_at(t->s, ts_ms, out, err, sizeof(err));
    return rc ? sesp_delta_table_seterr(t, rc, "%s", err) : 0;
}

void sesp_delta_uuid(char out[37])
{
    uint8_t b[16];
    if (RAND_bytes(b, sizeof(b)) != 1) {
        for (size_t i = 0; i < sizeof(b); i++) b[i] = (uint8_t)rand();
    }
    b[6] = (uint8_t)((b[6] & 0x0f) | 0x40);
    b[8] = (uint8_t)((b[8] & 0x3f) | 0x80);
    snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3],
             b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
}

/* ---- paths ---- */

static void hive_escape(const char *v, sesp_bufw *w)
{
    static const char special[] = "\"#%'*/:=?\\{[]^";
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        if (*p < 0x20 || *p == 0x7f || strchr(special, *p)) {
            char e[4];
            snprintf(e, sizeof(e), "%%%02X", *p);
            sesp_bufw_put(w, e, 3);
        } else sesp_bufw_put(w, p, 1);
    }
}

/* Relative object key -> the URI-encoded path stored in add.path. */
static char *key_to_path(const char *key)
{
    size_t n = strlen(key);
    char *out = malloc(n * 3 + 1), *o = out;
    if (!out) return NULL;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++) {
        if (isalnum(*p) || strchr("-._~/=", *p)) *o++ = (char)*p;
        else { o += sprintf(o, "%%%02X", *p); }
    }
    *o = 0;
    return out;
}

char *sesp_delta_path_to_key(const char *path)
{
    if (strstr(path, "://") || path[0] == '/') return NULL;   /* absolute URIs: not supported */
    size_t n = strlen(path);
    char *out = malloc(n + 1), *o = out;
    if (!out) return NULL;
    for (const char *p = path; *p; p++) {
        if (*p != '%') { *o++ = *p; continue; }
        if (!isxdigit((unsigned char)p[1]) || !isxdigit((unsigned char)p[2])) { free(out); return NULL; }
        char hx[3] = {p[1], p[2], 0};
        int c = (int)strtol(hx, NULL, 16);
        if (c == 0) { free(out); return NULL; }
        *o++ = (char)c;
        p += 2;
    }
    *o = 0;
    return out;
}

/* Partition value as the log stores it (NULL for null). */
static char *partition_string(const sesp_delta_type *ty, const json_t *v)
{
    if (!v || json_is_null(v)) return NULL;
    char buf[64];
    switch (ty->kind) {
    case SESP_DT_STRING:
    case SESP_DT_DATE:
        if (json_is_string(v)) return json_string_length(v) ? strdup(json_string_value(v)) : NULL;
        break;
    case SESP_DT_DECIMAL: {
        /* the exact value at the column's scale, whatever form it came in
         * (a real printed as %.17g would turn 0.1 into 0.10000000000000001) */
        sesp_delta_dec d;
        char text[SESP_DELTA_DEC_TEXT];
        if (!sesp_delta_json_to_decimal(v, ty->precision, ty->scale, &d)) break;
        sesp_delta_decimal_text(d, ty->scale, text, sizeof(text));
        return strdup(text);
    }
    case SESP_DT_BOOLEAN: return strdup(json_is_true(v) ? "true" : "false");
    default: break;
    }
    if (json_is_integer(v)) { snprintf(buf, sizeof(buf), "%" JSON_INTEGER_FORMAT, json_integer_value(v)); return strdup(buf); }
    if (json_is_real(v)) { snprintf(buf, sizeof(buf), "%.17g", json_real_value(v)); return strdup(buf); }
    if (json_is_string(v)) return strdup(json_string_value(v));
    return NULL;
}

/* ---- writing data files ---- */

typedef struct objsink {
    sesp_objwriter *w;
} objsink;

static int sink_write(void *ctx, const void *p, size_t len) { return sesp_objwriter_write(((objsink *)ctx)->w, p, len); }

static bool is_partition(const char *const *part, size_t npart, const char *name)
{
    for (size_t k = 0; k < npart; k++)
        if (!strcmp(part[k], name)) return true;
    return false;
}

/* Writes one Parquet file with rows[0..n) under dir; fills *add (strings in a). */
static int write_one_file(sesp_delta_table *t, const sesp_delta_type *schema, const char *const *part, size_t npart,
                          int stats_prefix, const sesp_delta_stats_cols *stats_cols, const char *dir,
                          const sesp_delta_map *pvals, json_t *const *rows, size_t n,
                          bool data_change, sesp_arena *a, sesp_delta_add *add)
{
    char uuid[37], err[512] = "";
    sesp_delta_uuid(uuid);
    char *key = NULL;
    if (asprintf(&key, "%s%spart-00000-%s.c000.snappy.parquet", dir, *dir ? "/" : "", uuid) < 0) return SESP_ERR_NOMEM;
    sesp_pq_schema *ps = NULL;
    sesp_pq_writer *pw = NULL;
    sesp_objwriter *ow = NULL;
    char *path = NULL, *stats = NULL;
    int rc = sesp_pq_schema_new(&ps);
    if (rc) goto out;
    if ((rc = sesp_delta_pq_add_fields(ps, 0, schema, part, npart, err, sizeof(err)))) {
        sesp_delta_table_seterr(t, rc, "%s", err);
        goto out;
    }
    if ((rc = sesp_objwriter_open(t->s, key, &ow))) {
        sesp_delta_table_seterr(t, rc, "%s: %s", key, sesp_objstore_error(t->s));
        goto out;
    }
    objsink sink = {ow};
    sesp_pq_writer_options wo = {.codec = SESP_PQ_SNAPPY};
    if ((rc = sesp_pq_writer_open(ps, &wo, (sesp_pq_sink){sink_write, &sink}, &pw))) {
        sesp_delta_table_seterr(t, rc, "opening the Parquet writer for %s", key);
        goto out;
    }
    size_t ncols = schema->nfields - npart;
    sesp_pq_value *kids = calloc(ncols + 1, sizeof(*kids));
    if (!kids) { rc = SESP_ERR_NOMEM; goto out; }
    for (size_t r = 0; r < n && !rc; r++) {
        sesp_arena ra;
        sesp_arena_init(&ra, 0);
        size_t c = 0;
        for (size_t f = 0; f < schema->nfields && !rc; f++) {
            const sesp_delta_field *fd = &schema->fields[f];
            if (is_partition(part, npart, fd->name)) continue;
            rc = sesp_delta_json_to_pq(fd->type, fd->nullable, json_object_get(rows[r], fd->name), fd->name, &ra, &kids[c++], err, sizeof(err));
        }
        if (rc) sesp_delta_table_seterr(t, rc, "%s", err);
        else {
            sesp_pq_value row = sesp_pqv_group(kids, ncols);
            if ((rc = sesp_pq_writer_write_row(pw, &row))) sesp_delta_table_seterr(t, rc, "writing %s: %s", key, sesp_pq_writer_error(pw));
        }
        sesp_arena_free(&ra);
    }
    free(kids);
    if (rc) goto out;
    uint64_t size = 0;
    rc = sesp_pq_writer_close(pw, &size);
    pw = NULL;
    if (rc) { sesp_delta_table_seterr(t, rc, "closing %s", key); goto out; }
    rc = sesp_objwriter_commit(ow);
    ow = NULL;
    if (rc) { sesp_delta_table_seterr(t, rc, "%s: %s", key, sesp_objstore_error(t->s)); goto out; }
    path = key_to_path(key);
    if (!path) { rc = SESP_ERR_NOMEM; goto out; }
    if ((rc = sesp_delta_file_stats_cols(schema, part, npart, stats_cols, rows, n, stats_prefix, &stats))) goto out;
    memset(add, 0, sizeof(*add));
    add->path = sesp_arena_strndup(a, path, strlen(path));
    add->stats = sesp_arena_strndup(a, stats, strlen(stats));
    add->partition_values = *pvals;
    add->size = (int64_t)size;
    add->modification_time = sesp_delta_table_now(t);
    add->data_change = data_change;
    if (!add->path || !add->stats) rc = SESP_ERR_NOMEM;
out:
    if (pw) sesp_pq_writer_abort(pw);
    if (ow) sesp_objwriter_abort(ow);
    sesp_pq_schema_free(ps);
    free(key);
    free(path);
    free(stats);
    return rc;
}

typedef struct pgroup {
    char *dir;
    sesp_delta_map pvals;
    json_t **rows;
    size_t n, cap;
} pgroup;

int sesp_delta_write_rows(sesp_delta_table *t, const sesp_delta_snapshot *snap, const sesp_delta_type *schema,
                          json_t *const *rows, size_t nrows, bool data_change, size_t max_rows_per_file,
                          sesp_arena *a, sesp_delta_add **adds_out, size_t *nadds_out)
{
    const char *const *part = snap->metadata.partition_columns;
    size_t npart = snap->metadata.npartition_columns;
    int stats_prefix = sesp_delta_stats_prefix_length(&snap->metadata.configuration);
    *adds_out = NULL;
    *nadds_out = 0;
    if (!max_rows_per_file) max_rows_per_file = t->opts.target_file_rows;
    char err[512] = "";
    int rc = 0;
    /* validate every row first so a bad row writes nothing */
    for (size_t i = 0; i < nrows; i++) {
        sesp_arena va;
        sesp_arena_init(&va, 0);
        sesp_pq_value tmp;
        if (!json_is_object(rows[i])) rc = sesp_delta_table_seterr(t, SESP_ERR_INVALID_ARG, "row %zu is not a JSON object", i);
        else if ((rc = sesp_delta_json_to_pq(schema, false, rows[i], "", &va, &tmp, err, sizeof(err))))
            sesp_delta_table_seterr(t, rc, "row %zu: %s", i, err);
        sesp_arena_free(&va);
        if (rc) return rc;
    }
    /* the columns with stats, from the table's properties and the schema
     * being written (an evolved one may have more leaves) */
    sesp_delta_stats_cols stats_cols;
    if ((rc = sesp_delta_stats_cols_for(schema, part, npart, &snap->metadata.configuration, &stats_cols))) return rc;
    pgroup *groups = NULL;
    size_t ng = 0;
    sesp_bufw dir;
    sesp_bufw_init(&dir, 128, 0);
    for (size_t i = 0; i < nrows && !rc; i++) {
        sesp_bufw_reset(&dir);
        char **vals = calloc(npart + 1, sizeof(char *));
        if (!vals) { rc = SESP_ERR_NOMEM; break; }
        for (size_t k = 0; k < npart; k++) {
            const sesp_delta_field *fd = sesp_delta_struct_field(schema, part[k]);
            vals[k] = partition_string(fd->type, json_object_get(rows[i], part[k]));
            if (k) sesp_bufw_put(&dir, "/", 1);
            sesp_bufw_put(&dir, part[k], strlen(part[k]));
            sesp_bufw_put(&dir, "=", 1);
            if (vals[k]) hive_escape(vals[k], &dir);
            else sesp_bufw_put(&dir, "__HIVE_DEFAULT_PARTITION__", 26);
        }
        sesp_bufw_put(&dir, "", 1);
        pgroup *g = NULL;
        for (size_t k = 0; k < ng; k++)
            if (!strcmp(groups[k].dir, (char *)dir.p)) g = &groups[k];
        if (!g) {
            pgroup *ngp = realloc(groups, (ng + 1) * sizeof(*ngp));
            if (!ngp) { rc = SESP_ERR_NOMEM; goto next; }
            groups = ngp;
            g = &groups[ng++];
            memset(g, 0, sizeof(*g));
            g->dir = strdup((char *)dir.p);
            g->pvals.items = sesp_arena_calloc(a, npart + 1, sizeof(sesp_delta_kv));
            if (!g->dir || !g->pvals.items) { rc = SESP_ERR_NOMEM; goto next; }
            g->pvals.n = npart;
            for (size_t k = 0; k < npart; k++) {
                g->pvals.items[k].key = sesp_arena_strndup(a, part[k], strlen(part[k]));
                g->pvals.items[k].value = vals[k] ? sesp_arena_strndup(a, vals[k], strlen(vals[k])) : NULL;
            }
        }
        if (g->n == g->cap) {
            size_t nc = g->cap ? g->cap * 2 : 64;
            json_t **nr = realloc(g->rows, nc * sizeof(*nr));
            if (!nr) { rc = SESP_ERR_NOMEM; goto next; }
            g->rows = nr;
            g->cap = nc;
        }
        g->rows[g->n++] = rows[i];
    next:
        for (size_t k = 0; k < npart; k++) free(vals[k]);
        free(vals);
    }
    sesp_bufw_free(&dir);
    size_t nfiles = 0;
    for (size_t k = 0; k < ng; k++) nfiles += (groups[k].n + max_rows_per_file - 1) / max_rows_per_file;
    sesp_delta_add *adds = sesp_arena_calloc(a, nfiles + 1, sizeof(*adds));
    if (!adds && !rc) rc = SESP_ERR_NOMEM;
    size_t nadds = 0;
    for (size_t k = 0; k < ng && !rc; k++) {
        for (size_t off = 0; off < groups[k].n && !rc; off += max_rows_per_file) {
            size_t cnt = groups[k].n - off < max_rows_per_file ? groups[k].n - off : max_rows_per_file;
            rc = write_one_file(t, schema, part, npart, stats_prefix, &stats_cols, groups[k].dir, &groups[k].pvals, groups[k].rows + off,
                                cnt, data_change, a, &adds[nadds]);
            if (!rc) nadds++;
        }
    }
    for (size_t k = 0; k < ng; k++) { free(groups[k].dir); free(groups[k].rows); }
    free(groups);
    sesp_delta_stats_cols_free(&stats_cols);
    if (rc) {
        sesp_delta_discard_files(t, adds, nadds);
        return rc;
    }
    *adds_out = adds;
    *nadds_out = nadds;
    return 0;
}

void sesp_delta_discard_files(sesp_delta_table *t, const sesp_delta_add *adds, size_t n)
{
    char saved[sizeof(t->err)];
    memcpy(saved, t->err, sizeof(saved));
    for (size_t i = 0; i < n; i++) {
        char *key = sesp_delta_path_to_key(adds[i].path);
        if (key) sesp_objstore_delete(t->s, key);
        free(key);
    }
    memcpy(t->err, saved, sizeof(saved));
}

/* ---- writer protocol ---- */

static bool has_invariants(const sesp_delta_type *t)
{
    if (!t) return false;
    for (size_t i = 0; i < t->nfields; i++)
        if ((t->fields[i].metadata && strstr(t->fields[i].metadata, "delta.invariants")) || has_invariants(t->fields[i].type))
            return true;
    return has_invariants(t->element) || has_invariants(t->value);
}

int sesp_delta_check_writable(sesp_delta_table *t, const sesp_delta_snapshot *snap, bool removes_data)
{
    const sesp_delta_protocol *p = &snap->protocol;
    if (p->min_writer > 2 && p->min_writer != 7)
        return sesp_delta_table_seterr(t, SESP_ERR_UNSUPPORTED, "table needs writer version %d (SESP writes version 2 tables)", p->min_writer);
    if (p->min_writer == 7)
        for (size_t i = 0; i < p->n_writer_features; i++) {
            const char *f = p->writer_features[i];
            if (strcmp(f, "appendOnly") && strcmp(f, "invariants") && strcmp(f, "timestampNtz") && strcmp(f, "typeWidening"))
                return sesp_delta_table_seterr(t, SESP_ERR_UNSUPPORTED, "table needs writer feature %s, which SESP does not support", f);
        }
    /* SESP does not evaluate SQL invariants, so it must not write such tables */
    if (has_invariants(snap->schema))
        return sesp_delta_table_seterr(t, SESP_ERR_UNSUPPORTED, "table has column invariants (delta.invariants), which SESP cannot check");
    const char *ao = sesp_delta_snapshot_config(snap, "delta.appendOnly");
    if (removes_data && ao && !strcmp(ao, "true"))
        return sesp_delta_table_seterr(t, SESP_ERR_STATE, "table is append-only (delta.appendOnly=true)");
    return 0;
}

/* ---- table features ---- */

static bool has_kind(const sesp_delta_type *t, sesp_delta_kind k)
{
    if (!t) return false;
    if (t->kind == k) return true;
    for (size_t i = 0; i < t->nfields; i++)
        if (has_kind(t->fields[i].type, k)) return true;
    return has_kind(t->element, k) || has_kind(t->key, k) || has_kind(t->value, k);
}

static bool config_true(const sesp_delta_map *m, const char *key)
{
    const char *v = sesp_delta_map_get(m, key, NULL);
    return v && !strcasecmp(v, "true");
}

static bool str_listed(const char *const *l, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(l[i], s)) return true;
    return false;
}

/* Adds name to a feature list copied into the arena (the old list may live
 * in a snapshot's arena). */
static int add_feature(sesp_arena *a, const char ***list, size_t *n, const char *name)
{
    if (str_listed(*list, *n, name)) return 0;
    const char **nl = sesp_arena_calloc(a, *n + 2, sizeof(*nl));
    if (!nl) return SESP_ERR_NOMEM;
    if (*n) memcpy(nl, *list, *n * sizeof(*nl));
    nl[(*n)++] = name;
    *list = nl;
    return 0;
}

int sesp_delta_protocol_for(const sesp_delta_protocol *cur, const sesp_delta_type *schema, const sesp_delta_map *config,
                            sesp_arena *a, sesp_delta_protocol *out, bool *changed)
{
    *out = *cur;
    *changed = false;
    /* reader-writer features the metadata uses */
    const char *need[2];
    size_t nneed = 0;
    if (has_kind(schema, SESP_DT_TIMESTAMP_NTZ)) need[nneed++] = "timestampNtz";
    if (config_true(config, "delta.enableTypeWidening") || sesp_delta_schema_has_type_changes(schema)) need[nneed++] = "typeWidening";
    size_t missing = 0;
    for (size_t i = 0; i < nneed; i++)
        missing += cur->min_reader < 3 || cur->min_writer < 7 || !str_listed(cur->reader_features, cur->n_reader_features, need[i]) ||
                   !str_listed(cur->writer_features, cur->n_writer_features, need[i]);
    if (!missing) return 0;
    if (cur->min_reader < 3) {
        out->reader_features = NULL;
        out->n_reader_features = 0;
    }
    if (cur->min_writer < 7) {
        /* writer version 7 lists every feature: keep what the legacy version
         * gave the table (SESP only writes versions up to 2) */
        out->writer_features = NULL;
        out->n_writer_features = 0;
        if (cur->min_writer >= 2) {
            if (add_feature(a, &out->writer_features, &out->n_writer_features, "appendOnly") ||
                add_feature(a, &out->writer_features, &out->n_writer_features, "invariants"))
                return SESP_ERR_NOMEM;
        }
    }
    out->min_reader = 3;
    out->min_writer = 7;
    out->has_reader_features = out->has_writer_features = true;
    for (size_t i = 0; i < nneed; i++)
        if (add_feature(a, &out->reader_features, &out->n_reader_features, need[i]) ||
            add_feature(a, &out->writer_features, &out->n_writer_features, need[i]))
            return SESP_ERR_NOMEM;
    *changed = true;
    return 0;
}

static bool widening_enabled(const sesp_delta_snapshot *snap)
{
    return config_true(&snap->metadata.configuration, "delta.enableTypeWidening");
}

int sesp_delta_evolve_schema(sesp_delta_table *t, const sesp_delta_snapshot *snap, const json_t *rows, bool add_columns,
                             sesp_arena *a, sesp_delta_type **schema_out, sesp_delta_action acts[2], size_t *nacts)
{
    *schema_out = NULL;
    *nacts = 0;
    if (!json_array_size(rows)) return 0;
    char err[512] = "";
    sesp_delta_type *need = NULL, *merged = NULL;
    char *ss = NULL;
    int rc = sesp_delta_schema_fit(snap->schema, rows, add_columns, &need, err, sizeof(err));
    if (!rc) rc = sesp_delta_schema_merge(snap->schema, need, widening_enabled(snap) ? SESP_DELTA_WIDEN_TABLE : SESP_DELTA_WIDEN_NEVER,
                                          &merged, err, sizeof(err));
    if (rc) {
        sesp_delta_table_seterr(t, rc, "%s%s", add_columns ? "schema evolution refused: " : "", err);
        goto out;
    }
    /* type_equal ignores field metadata, but a recorded type change always
     * comes with the type change itself */
    if (sesp_delta_type_equal(merged, snap->schema)) goto out;
    if (!(ss = sesp_delta_schema_to_string(merged))) { rc = SESP_ERR_NOMEM; goto out; }
    sesp_delta_protocol p;
    bool upgrade = false;
    if ((rc = sesp_delta_protocol_for(&snap->protocol, merged, &snap->metadata.configuration, a, &p, &upgrade))) goto out;
    if (upgrade) acts[(*nacts)++] = (sesp_delta_action){.kind = SESP_DA_PROTOCOL, .u.protocol = p};
    sesp_delta_action md = {.kind = SESP_DA_METADATA, .u.metadata = snap->metadata};
    if (!(md.u.metadata.schema_string = sesp_arena_strndup(a, ss, strlen(ss)))) { rc = SESP_ERR_NOMEM; goto out; }
    acts[(*nacts)++] = md;
    *schema_out = merged;
    merged = NULL;
out:
    free(ss);
    sesp_delta_type_free(need);
    sesp_delta_type_free(merged);
    return rc;
}

/* ---- create and table properties ---- */

static int check_config(sesp_delta_table *t, const sesp_delta_map *cfg)
{
    for (size_t i = 0; i < cfg->n; i++) {
        int64_t ms;
        const char *k = cfg->items[i].key, *v = cfg->items[i].value;
        if (!v) return sesp_delta_table_seterr(t, SESP_ERR_INVALID_ARG, "configuration %s has no value", k);
        if (!strcmp(k, "delta.checkpointInterval") && atoi(v) <= 0)
            return sesp_delta_table_seterr(t, SESP_ERR_INVALID_ARG, "delta.checkpointInterval must be a positive integer");
        if ((!strcmp(k, "delta.logRetentionDuration") || !strcmp(k, "delta.deletedFileRetentionDuration")) && sesp_delta_parse_interval(v, &ms))
            return sesp_delta_table_seterr(t, SESP_ERR_INVALID_ARG, "%s: bad interval %s", k, v);
        if ((!strcmp(k, "delta.enableTypeWidening") || !strcmp(k, "delta.appendOnly")) && strcasecmp(v, "true") && strcasecmp(v, "false"))
            return sesp_delta_table_seterr(t, SESP_ERR_INVALID_ARG, "%s must be true or false", k);
        if (!strcmp(k, "delta.dataSkippingStringPrefixLength")) {
            char *end;
            long n = strtol(v, &end, 10);
            if (!*v || *end || n <= 0 || n > 1000000)
                return sesp_delta_table_seterr(t, SESP_ERR_INVALID_ARG, "%s must be a positive integer", k);
        }
    }
    return 0;
}

int sesp_delta_table_set_properties(sesp_delta_table *t, const sesp_delta_map *props, sesp_delta_result *res)
{
    memset(res, 0, sizeof(*res));
    res->version = -1;
    int rc = check_config(t, props);
    if (rc) return rc;
    sesp_delta_snapshot *snap = NULL;
    if ((rc = sesp_delta_table_snapshot(t, -1, &snap))) return rc;
    sesp_arena a;
    sesp_arena_init(&a, 0);
    json_t *params = json_object();
    if ((rc = sesp_delta_check_writable(t, snap, false))) goto out;
    const sesp_delta_map *old = &snap->metadata.configuration;
    sesp_delta_map cfg = {sesp_arena_calloc(&a, old->n + props->n + 1, sizeof(sesp_delta_kv)), 0};
    if (!cfg.items) { rc = SESP_ERR_NOMEM; goto out; }
    for (size_t i = 0; i < old->n; i++) cfg.items[cfg.n++] = old->items[i];
    for (size_t i = 0; i < props->n; i++) {
        size_t k = 0;
        while (k < cfg.n && strcmp(cfg.items[k].key, props->items[i].key)) k++;
        if (k == cfg.n) cfg.n++;
        cfg.items[k] = props->items[i];
        json_object_set_new(params, props->items[i].key, json_string(props->items[i].value));
    }
    char err[512] = "";
    if ((rc = sesp_delta_stats_config_check(snap->schema, snap->metadata.partition_columns, snap->metadata.npartition_columns,
                                            &cfg, err, sizeof(err)))) {
        sesp_delta_table_seterr(t, rc, "%s", err);
        goto out;
    }
    sesp_delta_action acts[2];
    size_t na = 0;
    sesp_delta_protocol p;
    bool upgrade = false;
    if ((rc = sesp_delta_protocol_for(&snap->protocol, snap->schema, &cfg, &a, &p, &upgrade))) goto out;
    if (upgrade) acts[na++] = (sesp_delta_action){.kind = SESP_DA_PROTOCOL, .u.protocol = p};
    acts[na] = (sesp_delta_action){.kind = SESP_DA_METADATA, .u.metadata = snap->metadata};
    acts[na++].u.metadata.configuration = cfg;
    json_t *op = json_pack("{s:O}", "properties", params);
    sesp_delta_txn_read rd = {0};
    rc = sesp_delta_commit(t->s, snap->version, acts, na, &rd, "SET TBLPROPERTIES", op, &res->version, err, sizeof(err));
    json_decref(op);
    if (rc) {
        sesp_delta_table_seterr(t, rc, "SET TBLPROPERTIES commit failed: %s", err);
        res->version = -1;
    } else if (sesp_delta_table_maintain(t, res->version))
        fprintf(stderr, "delta: maintenance after version %lld: %s\n", (long long)res->version, t->err);
out:
    json_decref(params);
    sesp_arena_free(&a);
    sesp_delta_snapshot_free(snap);
    return rc;
}

int sesp_delta_table_create(sesp_delta_table *t, const char *schema_json, const char *const *partition_cols,
                            size_t npart, const sesp_delta_map *configuration, const char *name)
{
    char err[512] = "";
    sesp_delta_type *schema = NULL;
    char *schema_string = NULL;
    sesp_arena pa;
    sesp_arena_init(&pa, 0);
    int rc = sesp_delta_schema_parse(schema_json, strlen(schema_json), &schema, err, sizeof(err));
    if (!rc) rc = sesp_delta_schema_check_type_changes(schema, err, sizeof(err));
    if (rc) {
        sesp_delta_table_seterr(t, rc, "%s", err);
        goto out;
    }
    for (size_t k = 0; k < npart && !rc; k++) {
        const sesp_delta_field *f = sesp_delta_struct_field(schema, partition_cols[k]);
        if (!f) rc = sesp_delta_table_seterr(t, SESP_ERR_INVALID_ARG, "partition column %s is not in the schema", partition_cols[k]);
        else if (f->type->kind == SESP_DT_STRUCT || f->type->kind == SESP_DT_ARRAY || f->type->kind == SESP_DT_MAP || f->type->kind == SESP_DT_BINARY)
            rc = sesp_delta_table_seterr(t, SESP_ERR_INVALID_ARG, "partition column %s must have a primitive type", partition_cols[k]);
        for (size_t j = 0; j < k && !rc; j++)
            if (!strcmp(partition_cols[j], partition_cols[k])) rc = sesp_delta_table_seterr(t, SESP_ERR_INVALID_ARG, "partition column %s given twice", partition_cols[k]);
    }
    if (npart && npart >= schema->nfields && !rc) rc = sesp_delta_table_seterr(t, SESP_ERR_INVALID_ARG, "every column is a partition column");
    if (rc) goto out;
    if (configuration && !(rc = check_config(t, configuration)) &&
        (rc = sesp_delta_stats_config_check(schema, partition_cols, npart, configuration, err, sizeof(err))))
        sesp_delta_table_seterr(t, rc, "%s", err);
    if (rc) goto out;
    sesp_delta_snapshot *existing = NULL;
    rc = sesp_delta_snapshot_load(t->s, -1, &existing, err, sizeof(err));
    sesp_delta_snapshot_free(existing);
    if (rc == 0) { rc = sesp_delta_table_seterr(t, SESP_ERR_EXISTS, "a Delta table already exists at %s", sesp_objstore_uri(t->s)); goto out; }
    if (rc != SESP_ERR_NOT_FOUND) { rc = sesp_delta_table_seterr(t, rc, "%s", err); goto out; }
    schema_string = sesp_delta_schema_to_string(schema);
    if (!schema_string) { rc = SESP_ERR_NOMEM; goto out; }
    char id[37];
    sesp_delta_uuid(id);
    sesp_delta_map no_config = {0};
    sesp_delta_protocol legacy = {.min_reader = 1, .min_writer = 2}, proto;
    bool featured;
    if ((rc = sesp_delta_protocol_for(&legacy, schema, configuration ? configuration : &no_config, &pa, &proto, &featured))) goto out;
    sesp_delta_action acts[2] = {
        {.kind = SESP_DA_PROTOCOL, .u.protocol = proto},
        {.kind = SESP_DA_METADATA, .u.metadata = {.id = id, .name = name, .format_provider = "parquet",
                                                  .schema_string = schema_string, .partition_columns = (const char **)partition_cols,
                                                  .npartition_columns = npart, .has_created_time = true,
                                                  .created_time = sesp_delta_table_now(t)}},
    };
    if (configuration) acts[1].u.metadata.configuration = *configuration;
    json_t *params = json_pack("{s:s,s:o}", "isManaged", "false", "partitionBy", json_array());
    for (size_t k = 0; k < npart; k++) json_array_append_new(json_object_get(params, "partitionBy"), json_string(partition_cols[k]));
    int64_t v = -1;
    sesp_delta_txn_read rd = {.blind_append = false};
    rc = sesp_delta_commit(t->s, -1, acts, 2, &rd, "CREATE TABLE", params, &v, err, sizeof(err));
    json_decref(params);
    if (rc == SESP_ERR_CONFLICT) rc = sesp_delta_table_seterr(t, SESP_ERR_EXISTS, "the table was created concurrently: %s", err);
    else if (rc) sesp_delta_table_seterr(t, rc, "%s", err);
out:
    free(schema_string);
    sesp_delta_type_free(schema);
    sesp_arena_free(&pa);
    return rc;
}

/* ---- append ---- */

int sesp_delta_table_maintain(sesp_delta_table *t, int64_t version)
{
    sesp_delta_snapshot *snap = NULL;
    int rc = sesp_delta_table_snapshot(t, version, &snap);
    if (rc) return rc;
    const char *iv = sesp_delta_snapshot_config(snap, "delta.checkpointInterval");
    int interval = iv ? atoi(iv) : 10;
    if (interval <= 0) interval = 10;
    char err[512] = "";
    if (version > 0 && version % interval == 0) {
        if ((rc = sesp_delta_checkpoint_write(t->s, snap, err, sizeof(err)))) sesp_delta_table_seterr(t, rc, "checkpoint: %s", err);
        int deleted = 0;
        if (!rc && (rc = sesp_delta_log_cleanup(t->s, snap, sesp_delta_table_now(t), &deleted, err, sizeof(err))))
            sesp_delta_table_seterr(t, rc, "%s", err);
    }
    sesp_delta_snapshot_free(snap);
    return rc;
}

static json_t **row_array(const json_t *rows, size_t *n)
{
    *n = json_array_size(rows);
    json_t **r = malloc((*n + 1) * sizeof(*r));
    if (!r) return NULL;
    for (size_t i = 0; i < *n; i++) r[i] = json_array_get(rows, i);
    return r;
}

int sesp_delta_table_append(sesp_delta_table *t, const json_t *rows, const sesp_delta_append_opts *o,
                            sesp_delta_result *res)
{
    sesp_delta_append_opts dflt = {0};
    if (!o) o = &dflt;
    memset(res, 0, sizeof(*res));
    res->version = -1;
    if (!json_is_array(rows)) return sesp_delta_table_seterr(t, SESP_ERR_INVALID_ARG, "rows must be a JSON array");
    if (o->app_id && o->txn_version < 0) return sesp_delta_table_seterr(t, SESP_ERR_INVALID_ARG, "txn version must be >= 0");
    char err[512] = "";
    sesp_delta_snapshot *snap = NULL;
    sesp_delta_type *merged = NULL, *incoming = NULL;
    json_t **rv = NULL;
    sesp_arena a;
    sesp_arena_init(&a, 0);
    sesp_delta_add *adds = NULL;
    size_t nadds = 0;
    int rc = sesp_delta_snapshot_load(t->s, -1, &snap, err, sizeof(err));
    if (rc == SESP_ERR_NOT_FOUND && o->create_if_missing) {
        if ((rc = sesp_delta_schema_infer(rows, &incoming, err, sizeof(err)))) { sesp_delta_table_seterr(t, rc, "%s", err); goto out; }
        char *sj = sesp_delta_schema_to_string(incoming);
        if (!sj) { rc = SESP_ERR_NOMEM; goto out; }
        rc = sesp_delta_table_create(t, sj, o->partition_cols, o->npartition_cols, NULL, NULL);
        free(sj);
        sesp_delta_type_free(incoming);
        incoming = NULL;
        if (rc && rc != SESP_ERR_EXISTS) goto out;
        rc = sesp_delta_snapshot_load(t->s, -1, &snap, err, sizeof(err));
    }
    if (rc) { sesp_delta_table_seterr(t, rc, "%s", err); goto out; }
    if ((rc = sesp_delta_check_writable(t, snap, false))) goto out;
    if (o->app_id && sesp_delta_snapshot_txn_version(snap, o->app_id) >= o->txn_version) {
        res->skipped = true;
        res->version = snap->version;
        goto out;
    }
    sesp_delta_action evolve[2];
    size_t nevolve = 0;
    if ((rc = sesp_delta_evolve_schema(t, snap, rows, o->merge_schema, &a, &merged, evolve, &nevolve))) goto out;
    const sesp_delta_type *schema = merged ? merged : snap->schema;
    size_t nrows = 0;
    if (!(rv = row_array(rows, &nrows))) { rc = SESP_ERR_NOMEM; goto out; }
    if ((rc = sesp_delta_write_rows(t, snap, schema, rv, nrows, true, 0, &a, &adds, &nadds)))
        goto out;
    sesp_delta_action *acts = sesp_arena_calloc(&a, nadds + 4, sizeof(*acts));
    if (!acts) { rc = SESP_ERR_NOMEM; goto out; }
    size_t na = 0;
    for (size_t i = 0; i < nevolve; i++) acts[na++] = evolve[i];
    if (o->app_id)
        acts[na++] = (sesp_delta_action){.kind = SESP_DA_TXN, .u.txn = {.app_id = o->app_id, .version = o->txn_version,
                                                                       .has_last_updated = true, .last_updated = sesp_delta_table_now(t)}};
    for (size_t i = 0; i < nadds; i++) acts[na++] = (sesp_delta_action){.kind = SESP_DA_ADD, .u.add = adds[i]};
    json_t *params = json_pack("{s:s}", "mode", "Append");
    sesp_delta_txn_read rd = {.blind_append = schema == snap->schema};
    rc = sesp_delta_commit(t->s, snap->version, acts, na, &rd, "WRITE", params, &res->version, err, sizeof(err));
    json_decref(params);
    if (rc == SESP_ERR_CONFLICT && o->app_id) {
        /* did a concurrent writer already commit this txn? */
        sesp_delta_snapshot *now = NULL;
        if (sesp_delta_snapshot_load(t->s, -1, &now, err + strlen(err), sizeof(err) - strlen(err)) == 0 &&
            sesp_delta_snapshot_txn_version(now, o->app_id) >= o->txn_version) {
            res->skipped = true;
            res->version = now->version;
            rc = 0;
        }
        sesp_delta_snapshot_free(now);
        if (!rc) { sesp_delta_discard_files(t, adds, nadds); goto out; }
    }
    if (rc) {
        sesp_delta_table_seterr(t, rc, "commit failed: %s", err);
        sesp_delta_discard_files(t, adds, nadds);
        res->version = -1;
        goto out;
    }
    res->files_added = nadds;
    res->rows_written = (int64_t)nrows;
    if (sesp_delta_table_maintain(t, res->version))
        fprintf(stderr, "delta: maintenance after version %lld: %s\n", (long long)res->version, t->err);
out:
    free(rv);
    sesp_delta_type_free(merged);
    sesp_delta_type_free(incoming);
    sesp_delta_snapshot_free(snap);
    sesp_arena_free(&a);
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
    return rc ? rc : got == len ? 0 : SESP_ERR_TRUNCATED;
}

int sesp_delta_read_file(sesp_delta_table *t, const sesp_delta_snapshot *snap, const sesp_delta_add *add,
                         sesp_delta_row_fn fn, void *ud)
{
    char *key = sesp_delta_path_to_key(add->path);
    if (!key) return sesp_delta_table_seterr(t, SESP_ERR_UNSUPPORTED, "unsupported data file path %s", add->path);
    const sesp_delta_type *schema = snap->schema;
    sesp_obj_info info;
    int rc = sesp_objstore_head(t->s, key, &info);
    if (rc) { free(key); return sesp_delta_table_seterr(t, rc, "data file %s: %s", add->path, sesp_objstore_error(t->s)); }
    sesp_obj_info_free(&info);
    objsrc src = {t->s, key};
    sesp_pq_reader *r = NULL;
    int *map = NULL;
    json_t **pvals = NULL;
    if ((rc = sesp_pq_reader_open((sesp_pq_source){src_read, &src, info.size}, NULL, &r))) {
        sesp_delta_table_seterr(t, rc, "data file %s: %s", add->path, r ? sesp_pq_reader_error(r) : "cannot open");
        goto out;
    }
    const sesp_pq_schema *ps = sesp_pq_reader_schema(r);
    map = calloc(schema->nfields + 1, sizeof(*map));
    pvals = calloc(schema->nfields + 1, sizeof(*pvals));
    if (!map || !pvals) { rc = SESP_ERR_NOMEM; goto out; }
    const sesp_pq_node *root = sesp_pq_schema_node(ps, 0);
    for (size_t f = 0; f < schema->nfields; f++) {
        map[f] = -1;
        const char *name = schema->fields[f].name;
        if (is_partition(snap->metadata.partition_columns, snap->metadata.npartition_columns, name)) {
            pvals[f] = sesp_delta_partition_value_to_json(schema->fields[f].type, sesp_delta_map_get(&add->partition_values, name, NULL));
            continue;
        }
        for (int c = 0; c < root->nchildren; c++)
            if (!strcmp(sesp_pq_schema_node(ps, root->children[c])->name, name)) map[f] = c;
        /* a file older than a type change holds the older type: refuse what
         * no change could have left (a decimal scale above the table's) */
        char err[512] = "";
        if (map[f] >= 0 && (rc = sesp_delta_pq_check_file_type(schema->fields[f].type, ps, root->children[map[f]], name, err, sizeof(err)))) {
            sesp_delta_table_seterr(t, rc, "data file %s: %s", add->path, err);
            goto out;
        }
    }
    sesp_arena ra;
    sesp_arena_init(&ra, 0);
    for (;;) {
        const sesp_pq_value *row = NULL;
        if ((rc = sesp_pq_reader_next_row(r, &ra, &row))) {
            sesp_delta_table_seterr(t, rc, "data file %s: %s", add->path, sesp_pq_reader_error(r));
            break;
        }
        if (!row) break;
        json_t *obj = json_object();
        for (size_t f = 0; f < schema->nfields; f++) {
            json_t *v;
            if (pvals[f]) v = json_incref(pvals[f]);
            else if (map[f] >= 0 && (size_t)map[f] < row->u.group.n)
                v = sesp_delta_pq_to_json(schema->fields[f].type, ps, root->children[map[f]], &row->u.group.v[map[f]]);
            else v = json_null();
            json_object_set_new(obj, schema->fields[f].name, v);
        }
        rc = fn(ud, obj);
        json_decref(obj);
        sesp_arena_free(&ra);
        sesp_arena_init(&ra, 0);
        if (rc) break;
    }
    sesp_arena_free(&ra);
out:
    if (pvals)
        for (size_t f = 0; f < schema->nfields; f++) json_decref(pvals[f]);
    free(pvals);
    free(map);
    sesp_pq_reader_close(r);
    free(key);
    return rc;
}

int sesp_delta_table_scan(sesp_delta_table *t, const sesp_delta_snapshot *snap, sesp_delta_row_fn fn, void *ud)
{
    for (size_t i = 0; i < snap->nfiles; i++) {
        int rc = sesp_delta_read_file(t, snap, snap->files[i], fn, ud);
        if (rc) return rc;
    }
    return 0;
}
