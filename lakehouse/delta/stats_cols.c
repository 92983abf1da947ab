/*
 * Which columns get per-file stats: the table properties
 * delta.dataSkippingNumIndexedCols (the first N leaf columns of the data in
 * schema order, nested struct leaves counted one by one, default 32, -1 for
 * all) and delta.dataSkippingStatsColumns (a comma-separated list of column
 * names, nested ones with dots, parts quoted with backticks; when set, even
 * to nothing, it replaces NumIndexedCols).  Partition columns are never in a
 * data file, so they are not counted.  Arrays and maps count as one leaf.
 *
 * The check at create/set-properties follows Delta: NumIndexedCols is an
 * integer >= -1, and each StatsColumns name must parse, exist, not be a
 * partition column, not be named twice (also through a struct named
 * whole), and have a type Delta keeps bounds for (numbers, dates,
 * timestamps, strings; a struct when every leaf has one of those).  Names
 * match case-insensitively, as in Spark.  When writing, values the check
 * would refuse (a table written by another engine) only widen the selection
 * or fall back to the default: fewer stats never make a reader skip a file
 * it needed, and more only cost a little log space.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "delta_impl.h"

#define NUM_INDEXED_KEY "delta.dataSkippingNumIndexedCols"
#define STATS_COLUMNS_KEY "delta.dataSkippingStatsColumns"
/* bounds on what a property value may ask for: far beyond any real schema */
#define MAX_NAMES 4096
#define MAX_PARTS 64
#define MAX_DEPTH 64

typedef struct colname {
    char *parts[MAX_PARTS];
    size_t n;
} colname;

typedef struct namelist {
    colname *v;
    size_t n;
} namelist;

static void names_free(namelist *l)
{
    for (size_t i = 0; i < l->n; i++)
        for (size_t k = 0; k < l->v[i].n; k++) free(l->v[i].parts[k]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
    return p;
}

/* One name part at *pp: `quoted` (`` is a literal backtick) or Spark's
 * unquoted identifier characters [A-Za-z0-9_]. */
static int parse_part(const char **pp, char **out, char *err, size_t errlen)
{
    const char *p = *pp;
    sesp_bufw w;
    sesp_bufw_init(&w, 32, 0);
    if (*p == '`') {
        for (p++;; p++) {
            if (!*p) {
                sesp_bufw_free(&w);
                snprintf(err, errlen, "unterminated backtick");
                return SESP_ERR_INVALID_ARG;
            }
            if (*p == '`') {
                if (p[1] != '`') break;
                p++;
            }
            sesp_bufw_put(&w, p, 1);
        }
        p++;
    } else {
        while (isalnum((unsigned char)*p) || *p == '_') sesp_bufw_put(&w, p++, 1);
        if (p == *pp) {
            sesp_bufw_free(&w);
            snprintf(err, errlen, "a column name expected at offset %zu (quote names with other characters in backticks)",
                     (size_t)(p - *pp));
            return SESP_ERR_INVALID_ARG;
        }
    }
    sesp_bufw_put(&w, "", 1);
    if (w.err) { sesp_bufw_free(&w); return SESP_ERR_NOMEM; }
    *out = (char *)sesp_bufw_steal(&w, NULL);
    *pp = p;
    return *out ? 0 : SESP_ERR_NOMEM;
}

/* "a, b.c, `x.y`.z" -> [[a], [b, c], [x.y, z]]; only blanks -> no names. */
static int parse_names(const char *s, namelist *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof(*out));
    const char *p = skip_ws(s);
    if (!*p) return 0;
    int rc = 0;
    for (;;) {
        if (out->n == MAX_NAMES) {
            snprintf(err, errlen, "more than %d column names", MAX_NAMES);
            rc = SESP_ERR_INVALID_ARG;
            break;
        }
        colname *nv = realloc(out->v, (out->n + 1) * sizeof(*nv));
        if (!nv) { rc = SESP_ERR_NOMEM; break; }
        out->v = nv;
        colname *c = &out->v[out->n++];
        c->n = 0;
        for (;;) {
            p = skip_ws(p);
            if (c->n == MAX_PARTS) {
                snprintf(err, errlen, "a column name with more than %d parts", MAX_PARTS);
                rc = SESP_ERR_INVALID_ARG;
                break;
            }
            const char *at = p;
            char sub[160];
            if ((rc = parse_part(&p, &c->parts[c->n], sub, sizeof(sub)))) {
                snprintf(err, errlen, "%s (at offset %zu)", sub, (size_t)(at - s));
                break;
            }
            c->n++;
            p = skip_ws(p);
            if (*p != '.') break;
            p++;
        }
        if (rc) break;
        if (!*p) break;
        if (*p != ',') {
            snprintf(err, errlen, "',' expected at offset %zu", (size_t)(p - s));
            rc = SESP_ERR_INVALID_ARG;
            break;
        }
        p++;
    }
    if (rc) names_free(out);
    return rc;
}

/* ---- the leaves of the data schema ---- */

static bool is_partition(const char *const *part, size_t npart, const char *name)
{
    for (size_t k = 0; k < npart; k++)
        if (!strcmp(part[k], name)) return true;
    return false;
}

static size_t count_leaves(const sesp_delta_type *t, int depth)
{
    if (t->kind != SESP_DT_STRUCT) return 1;
    size_t n = 0;
    if (depth < MAX_DEPTH)
        for (size_t i = 0; i < t->nfields; i++) n += count_leaves(t->fields[i].type, depth + 1);
    return n;
}

static size_t data_leaves(const sesp_delta_type *schema, const char *const *part, size_t npart)
{
    size_t n = 0;
    for (size_t i = 0; i < schema->nfields; i++)
        if (!is_partition(part, npart, schema->fields[i].name)) n += count_leaves(schema->fields[i].type, 1);
    return n;
}

/* Finds the column name c names in the data schema: its field and the
 * range [*lo, *hi) of leaf indexes under it.  NULL if there is none. */
static const sesp_delta_field *find_column(const sesp_delta_type *schema, const char *const *part, size_t npart,
                                           const colname *c, size_t *lo, size_t *hi)
{
    const sesp_delta_type *st = schema;
    size_t base = 0;
    for (size_t k = 0; k < c->n; k++) {
        const sesp_delta_field *hit = NULL;
        for (size_t i = 0; i < st->nfields && !hit; i++) {
            const sesp_delta_field *f = &st->fields[i];
            if (k == 0 && is_partition(part, npart, f->name)) continue;
            if (!strcasecmp(f->name, c->parts[k])) hit = f;
            else base += count_leaves(f->type, (int)k + 1);
        }
        if (!hit) return NULL;
        if (k + 1 == c->n) {
            *lo = base;
            *hi = base + count_leaves(hit->type, (int)k + 1);
            return hit;
        }
        if (hit->type->kind != SESP_DT_STRUCT) return NULL;
        st = hit->type;
    }
    return NULL;
}

static bool skipping_type(sesp_delta_kind k)
{
    switch (k) {
    case SESP_DT_BYTE: case SESP_DT_SHORT: case SESP_DT_INTEGER: case SESP_DT_LONG:
    case SESP_DT_FLOAT: case SESP_DT_DOUBLE: case SESP_DT_DECIMAL:
    case SESP_DT_DATE: case SESP_DT_TIMESTAMP: case SESP_DT_TIMESTAMP_NTZ: case SESP_DT_STRING:
        return true;
    default:
        return false;
    }
}

/* The first leaf under t (named name) whose type has no bounds: its name in
 * out.  False if every leaf has one. */
static bool bad_leaf(const sesp_delta_type *t, const char *name, int depth, char *out, size_t cap, const char **kind)
{
    if (t->kind != SESP_DT_STRUCT) {
        if (skipping_type(t->kind)) return false;
        snprintf(out, cap, "%s", name);
        *kind = sesp_delta_kind_name(t->kind);
        return true;
    }
    for (size_t i = 0; i < t->nfields && depth < MAX_DEPTH; i++) {
        char sub[512];
        int n = snprintf(sub, sizeof(sub), "%s.%s", name, t->fields[i].name);
        if (n < 0) return false;   /* a name cut short only shortens the error message */
        if (bad_leaf(t->fields[i].type, sub, depth + 1, out, cap, kind)) return true;
    }
    return false;
}

static void dotted(const colname *c, char *out, size_t cap)
{
    size_t off = 0;
    out[0] = 0;
    for (size_t k = 0; k < c->n && off < cap; k++) {
        int w = snprintf(out + off, cap - off, "%s%s", k ? "." : "", c->parts[k]);
        if (w < 0) break;
        off += (size_t)w;
    }
}

/* Marks the leaves names selects in leaf[0..n).  strict: the check of the
 * property (errors for what Delta refuses); otherwise names that match
 * nothing are passed over. */
static int select_names(const sesp_delta_type *schema, const char *const *part, size_t npart, const namelist *names,
                        bool *leaf, bool strict, char *err, size_t errlen)
{
    for (size_t i = 0; i < names->n; i++) {
        const colname *c = &names->v[i];
        char name[512];
        dotted(c, name, sizeof(name));
        if (strict && c->n == 1) {
            for (size_t k = 0; k < npart; k++)
                if (!strcasecmp(part[k], c->parts[0])) {
                    snprintf(err, errlen, STATS_COLUMNS_KEY ": %s is a partition column, which has no per-file stats", name);
                    return SESP_ERR_INVALID_ARG;
                }
        }
        size_t lo = 0, hi = 0;
        const sesp_delta_field *f = find_column(schema, part, npart, c, &lo, &hi);
        if (!f) {
            if (!strict) continue;
            snprintf(err, errlen, STATS_COLUMNS_KEY ": column %s does not exist", name);
            return SESP_ERR_INVALID_ARG;
        }
        char bad[512];
        const char *kind = "";
        if (strict && bad_leaf(f->type, name, 0, bad, sizeof(bad), &kind)) {
            snprintf(err, errlen, STATS_COLUMNS_KEY ": column %s has type %s, which has no per-file bounds "
                     "(numbers, dates, timestamps and strings do)", bad, kind);
            return SESP_ERR_INVALID_ARG;
        }
        for (size_t x = lo; x < hi; x++) {
            if (strict && leaf[x]) {
                snprintf(err, errlen, STATS_COLUMNS_KEY ": column %s is named more than once", name);
                return SESP_ERR_INVALID_ARG;
            }
            leaf[x] = true;
        }
    }
    return 0;
}

/* NumIndexedCols as an integer >= -1; false if the text is not one. */
static bool parse_num_indexed(const char *v, long *out)
{
    char *end;
    errno = 0;
    long n = v ? strtol(v, &end, 10) : 0;
    if (!v || !*v || *end || errno || n < -1 || n > 1000000000L) return false;
    *out = n;
    return true;
}

int sesp_delta_stats_config_check(const sesp_delta_type *schema, const char *const *part, size_t npart,
                                  const sesp_delta_map *config, char *err, size_t errlen)
{
    bool present = false;
    const char *v = sesp_delta_map_get(config, NUM_INDEXED_KEY, &present);
    long n;
    if (present && !parse_num_indexed(v, &n)) {
        snprintf(err, errlen, NUM_INDEXED_KEY " must be an integer >= -1 (-1: every column), not '%s'", v ? v : "null");
        return SESP_ERR_INVALID_ARG;
    }
    v = sesp_delta_map_get(config, STATS_COLUMNS_KEY, &present);
    if (!present) return 0;
    if (!v) {
        snprintf(err, errlen, STATS_COLUMNS_KEY " has no value");
        return SESP_ERR_INVALID_ARG;
    }
    namelist names;
    char sub[256] = "";
    int rc = parse_names(v, &names, sub, sizeof(sub));
    if (rc == SESP_ERR_INVALID_ARG) snprintf(err, errlen, STATS_COLUMNS_KEY " must be a comma-separated list of column names: %s", sub);
    if (rc) return rc;
    size_t nl = data_leaves(schema, part, npart);
    bool *leaf = calloc(nl + 1, sizeof(*leaf));
    if (!leaf) rc = SESP_ERR_NOMEM;
    else rc = select_names(schema, part, npart, &names, leaf, true, err, errlen);
    free(leaf);
    names_free(&names);
    return rc;
}

int sesp_delta_stats_cols_for(const sesp_delta_type *schema, const char *const *part, size_t npart,
                              const sesp_delta_map *config, sesp_delta_stats_cols *out)
{
    memset(out, 0, sizeof(*out));
    size_t nl = data_leaves(schema, part, npart);
    bool present = false;
    const char *v = config ? sesp_delta_map_get(config, STATS_COLUMNS_KEY, &present) : NULL;
    namelist names = {0};
    char err[256];
    int rc = 0;
    if (present && v && !(rc = parse_names(v, &names, err, sizeof(err)))) {
        out->leaf = calloc(nl + 1, sizeof(*out->leaf));
        if (!out->leaf) rc = SESP_ERR_NOMEM;
        else rc = select_names(schema, part, npart, &names, out->leaf, false, err, sizeof(err));
        names_free(&names);
        if (rc) sesp_delta_stats_cols_free(out);
        else out->nleaves = nl;
        return rc;
    }
    if (rc == SESP_ERR_NOMEM) return rc;
    /* no (usable) StatsColumns: the first N leaves */
    long n = SESP_DELTA_NUM_INDEXED_DEFAULT;
    v = config ? sesp_delta_map_get(config, NUM_INDEXED_KEY, &present) : NULL;
    if (present && !parse_num_indexed(v, &n)) n = SESP_DELTA_NUM_INDEXED_DEFAULT;
    if (n < 0 || (size_t)n >= nl) return 0;   /* every leaf: no mask */
    out->leaf = calloc(nl + 1, sizeof(*out->leaf));
    if (!out->leaf) return SESP_ERR_NOMEM;
    for (size_t i = 0; i < (size_t)n; i++) out->leaf[i] = true;
    out->nleaves = nl;
    return 0;
}

void sesp_delta_stats_cols_free(sesp_delta_stats_cols *c)
{
    free(c->leaf);
    memset(c, 0, sizeof(*c));
}
