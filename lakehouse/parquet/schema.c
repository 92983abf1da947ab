/*
 * The Parquet schema tree: groups and leaves with repetition, physical and
 * logical types (plus the legacy converted_type so old readers understand the
 * file), built programmatically or from the footer's depth-first element list,
 * and the derived facts the writer and reader need: leaf columns in
 * depth-first order, max definition/repetition levels per node and whether a
 * group is a LIST/MAP whose value is a list.
 */
#include "lakehouse/parquet/pq_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

enum { CT_UTF8 = 0, CT_MAP = 1, CT_MAP_KEY_VALUE = 2, CT_LIST = 3, CT_ENUM = 4, CT_DECIMAL = 5,
       CT_DATE = 6, CT_TIME_MILLIS = 7, CT_TIME_MICROS = 8, CT_TIMESTAMP_MILLIS = 9,
       CT_TIMESTAMP_MICROS = 10, CT_UINT_8 = 11, CT_INT_8 = 15, CT_JSON = 19, CT_BSON = 20 };

sesp_pq_logical sesp_pq_lt(sesp_pq_logical_kind kind)
{
    sesp_pq_logical l = {.kind = kind};
    return l;
}

sesp_pq_logical sesp_pq_lt_int(int bit_width, bool is_signed)
{
    sesp_pq_logical l = {.kind = SESP_PQ_LT_INT, .bit_width = bit_width, .is_signed = is_signed};
    return l;
}

sesp_pq_logical sesp_pq_lt_decimal(int precision, int scale)
{
    sesp_pq_logical l = {.kind = SESP_PQ_LT_DECIMAL, .precision = precision, .scale = scale};
    return l;
}

sesp_pq_logical sesp_pq_lt_timestamp(sesp_pq_time_unit unit, bool utc)
{
    sesp_pq_logical l = {.kind = SESP_PQ_LT_TIMESTAMP, .unit = unit, .utc = utc};
    return l;
}

static int converted_of(const sesp_pq_logical *l)
{
    switch (l->kind) {
    case SESP_PQ_LT_STRING: return CT_UTF8;
    case SESP_PQ_LT_MAP: return CT_MAP;
    case SESP_PQ_LT_LIST: return CT_LIST;
    case SESP_PQ_LT_ENUM: return CT_ENUM;
    case SESP_PQ_LT_DECIMAL: return CT_DECIMAL;
    case SESP_PQ_LT_DATE: return CT_DATE;
    case SESP_PQ_LT_TIME:
        return l->unit == SESP_PQ_MILLIS ? CT_TIME_MILLIS : l->unit == SESP_PQ_MICROS ? CT_TIME_MICROS : -1;
    case SESP_PQ_LT_TIMESTAMP:
        return l->unit == SESP_PQ_MILLIS ? CT_TIMESTAMP_MILLIS
             : l->unit == SESP_PQ_MICROS ? CT_TIMESTAMP_MICROS : -1;
    case SESP_PQ_LT_INT: {
        int k = l->bit_width == 8 ? 0 : l->bit_width == 16 ? 1 : l->bit_width == 32 ? 2 : 3;
        return (l->is_signed ? CT_INT_8 : CT_UINT_8) + k;
    }
    case SESP_PQ_LT_JSON: return CT_JSON;
    case SESP_PQ_LT_BSON: return CT_BSON;
    default: return -1;
    }
}

/* The logical type an old file means by its converted_type alone. */
static sesp_pq_logical logical_of_converted(int ct, int precision, int scale)
{
    sesp_pq_logical l = {.kind = SESP_PQ_LT_NONE};
    switch (ct) {
    case CT_UTF8: l.kind = SESP_PQ_LT_STRING; break;
    case CT_MAP: case CT_MAP_KEY_VALUE: l.kind = SESP_PQ_LT_MAP; break;
    case CT_LIST: l.kind = SESP_PQ_LT_LIST; break;
    case CT_ENUM: l.kind = SESP_PQ_LT_ENUM; break;
    case CT_DECIMAL: l = sesp_pq_lt_decimal(precision, scale); break;
    case CT_DATE: l.kind = SESP_PQ_LT_DATE; break;
    case CT_TIME_MILLIS: l.kind = SESP_PQ_LT_TIME; l.unit = SESP_PQ_MILLIS; l.utc = true; break;
    case CT_TIME_MICROS: l.kind = SESP_PQ_LT_TIME; l.unit = SESP_PQ_MICROS; l.utc = true; break;
    case CT_TIMESTAMP_MILLIS: l = sesp_pq_lt_timestamp(SESP_PQ_MILLIS, true); break;
    case CT_TIMESTAMP_MICROS: l = sesp_pq_lt_timestamp(SESP_PQ_MICROS, true); break;
    case CT_JSON: l.kind = SESP_PQ_LT_JSON; break;
    case CT_BSON: l.kind = SESP_PQ_LT_BSON; break;
    default:
        if (ct >= CT_UINT_8 && ct <= CT_INT_8 + 3) {
            int k = (ct - CT_UINT_8) % 4;
            l = sesp_pq_lt_int(8 << k, ct >= CT_INT_8);
        }
        break;
    }
    return l;
}

int sesp_pq_schema_new(sesp_pq_schema **out)
{
    sesp_pq_schema *s = calloc(1, sizeof *s);
    if (!s)
        return SESP_ERR_NOMEM;
    s->cap = 16;
    s->nodes = calloc((size_t)s->cap, sizeof *s->nodes);
    s->priv = calloc((size_t)s->cap, sizeof *s->priv);
    s->priv[0].name = s->nodes ? strdup("schema") : NULL;
    if (!s->nodes || !s->priv || !s->priv[0].name) {
        sesp_pq_schema_free(s);
        return SESP_ERR_NOMEM;
    }
    sesp_pq_node *r = &s->nodes[0];
    r->name = s->priv[0].name;
    r->is_group = true;
    r->repetition = SESP_PQ_REQUIRED;
    r->converted_type = -1;
    r->field_id = -1;
    r->parent = -1;
    r->column = -1;
    s->n = 1;
    *out = s;
    return 0;
}

void sesp_pq_schema_free(sesp_pq_schema *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->n; i++) {
        free(s->priv[i].name);
        free(s->priv[i].kids);
    }
    free(s->nodes);
    free(s->priv);
    free(s->columns);
    free(s);
}

static void collect_columns(sesp_pq_schema *s, int id)
{
    sesp_pq_node *n = &s->nodes[id];
    if (!n->is_group) {
        n->column = s->ncolumns;
        s->columns[s->ncolumns++] = id;
        return;
    }
    for (int i = 0; i < n->nchildren; i++)
        collect_columns(s, n->children[i]);
}

static void compute_list_mode(sesp_pq_schema *s, int id)
{
    sesp_pq_node *n = &s->nodes[id];
    s->priv[id].list_mode = 0;
    if (!n->is_group || n->nchildren != 1)
        return;
    if (n->logical.kind != SESP_PQ_LT_LIST && n->logical.kind != SESP_PQ_LT_MAP)
        return;
    const sesp_pq_node *c = &s->nodes[n->children[0]];
    if (c->repetition != SESP_PQ_REPEATED)
        return;
    s->priv[id].list_mode = 1;
    /* Backward-compatibility rules of LogicalTypes.md: a repeated group with
     * one field is the element itself when named "array" or "<list>_tuple". */
    if (n->logical.kind == SESP_PQ_LT_LIST && c->is_group && c->nchildren == 1) {
        char tuple[512];
        snprintf(tuple, sizeof tuple, "%s_tuple", n->name);
        if (strcmp(c->name, "array") != 0 && strcmp(c->name, tuple) != 0)
            s->priv[id].list_mode = 2;
    }
}

static int finish(sesp_pq_schema *s)
{
    int leaves = 0;
    for (int i = 0; i < s->n; i++)
        if (!s->nodes[i].is_group)
            leaves++;
    int *cols = realloc(s->columns, (size_t)(leaves ? leaves : 1) * sizeof *cols);
    if (!cols)
        return SESP_ERR_NOMEM;
    s->columns = cols;
    s->ncolumns = 0;
    collect_columns(s, 0);
    for (int i = 0; i < s->n; i++)
        compute_list_mode(s, i);
    return 0;
}

static int add_node(sesp_pq_schema *s, int parent, const char *name, sesp_pq_repetition rep,
                    int *id_out)
{
    if (!name || !*name || parent < 0 || parent >= s->n || !s->nodes[parent].is_group ||
        (unsigned)rep > SESP_PQ_REPEATED)
        return SESP_ERR_INVALID_ARG;
    if (sesp_pq_schema_find_child(s, parent, name) >= 0)
        return SESP_ERR_EXISTS;
    if (s->nodes[parent].max_def >= SESP_PQ_MAX_SCHEMA_DEPTH || s->n >= SESP_PQ_MAX_SCHEMA_NODES)
        return SESP_ERR_TOO_LARGE;
    if (s->n == s->cap) {
        int nc = s->cap * 2;
        sesp_pq_node *nn = realloc(s->nodes, (size_t)nc * sizeof *nn);
        if (!nn)
            return SESP_ERR_NOMEM;
        s->nodes = nn;
        sesp_pq_node_priv *np = realloc(s->priv, (size_t)nc * sizeof *np);
        if (!np)
            return SESP_ERR_NOMEM;
        s->priv = np;
        s->cap = nc;
    }
    sesp_pq_node_priv *pp = &s->priv[parent];
    if (s->nodes[parent].nchildren == pp->kcap) {
        int kc = pp->kcap ? pp->kcap * 2 : 4;
        int *k = realloc(pp->kids, (size_t)kc * sizeof *k);
        if (!k)
            return SESP_ERR_NOMEM;
        pp->kids = k;
        pp->kcap = kc;
        s->nodes[parent].children = k;
    }
    int id = s->n;
    sesp_pq_node_priv *np = &s->priv[id];
    memset(np, 0, sizeof *np);
    np->name = strdup(name);
    if (!np->name)
        return SESP_ERR_NOMEM;
    sesp_pq_node *n = &s->nodes[id];
    memset(n, 0, sizeof *n);
    const sesp_pq_node *p = &s->nodes[parent];
    n->name = np->name;
    n->repetition = rep;
    n->parent = parent;
    n->converted_type = -1;
    n->field_id = -1;
    n->column = -1;
    n->max_def = p->max_def + (rep != SESP_PQ_REQUIRED);
    n->max_rep = p->max_rep + (rep == SESP_PQ_REPEATED);
    pp->kids[s->nodes[parent].nchildren++] = id;
    s->n++;
    *id_out = id;
    return 0;
}

int sesp_pq_schema_add_group(sesp_pq_schema *s, int parent, const char *name,
                             sesp_pq_repetition rep, sesp_pq_logical_kind logical, int *node_out)
{
    if (logical != SESP_PQ_LT_NONE && logical != SESP_PQ_LT_LIST && logical != SESP_PQ_LT_MAP)
        return SESP_ERR_INVALID_ARG;
    int id, rc = add_node(s, parent, name, rep, &id);
    if (rc)
        return rc;
    s->nodes[id].is_group = true;
    s->nodes[id].logical.kind = logical;
    s->nodes[id].converted_type = converted_of(&s->nodes[id].logical);
    if ((rc = finish(s)))
        return rc;
    if (node_out)
        *node_out = id;
    return 0;
}

/* Largest decimal precision an n-byte two's complement integer holds. */
static int fixed_max_precision(int n)
{
    if (n <= 0)
        return 0;
    if (n >= 16)
        return 38 + (n - 16) * 2;   /* conservative beyond 128 bits */
    double bits = 8.0 * n - 1;
    int p = 0;
    double v = 1;
    for (int i = 0; i < (int)bits; i++)
        v *= 2;                      /* 2^(8n-1) */
    while (v >= 10) { v /= 10; p++; }
    return p;
}

static int check_leaf(sesp_pq_physical t, const sesp_pq_logical *l, int type_length)
{
    if ((unsigned)t > SESP_PQ_FIXED_LEN_BYTE_ARRAY)
        return SESP_ERR_INVALID_ARG;
    if (t == SESP_PQ_FIXED_LEN_BYTE_ARRAY && (type_length <= 0 || type_length > (1 << 20)))
        return SESP_ERR_INVALID_ARG;
    if (!l)
        return 0;
    switch (l->kind) {
    case SESP_PQ_LT_NONE: return 0;
    case SESP_PQ_LT_STRING: case SESP_PQ_LT_ENUM: case SESP_PQ_LT_JSON: case SESP_PQ_LT_BSON:
        return t == SESP_PQ_BYTE_ARRAY ? 0 : SESP_ERR_INVALID_ARG;
    case SESP_PQ_LT_DATE:
        return t == SESP_PQ_INT32 ? 0 : SESP_ERR_INVALID_ARG;
    case SESP_PQ_LT_TIMESTAMP:
        return t == SESP_PQ_INT64 && (unsigned)l->unit <= SESP_PQ_NANOS ? 0 : SESP_ERR_INVALID_ARG;
    case SESP_PQ_LT_TIME:
        if (l->unit == SESP_PQ_MILLIS) return t == SESP_PQ_INT32 ? 0 : SESP_ERR_INVALID_ARG;
        return t == SESP_PQ_INT64 && (unsigned)l->unit <= SESP_PQ_NANOS ? 0 : SESP_ERR_INVALID_ARG;
    case SESP_PQ_LT_INT:
        if (l->bit_width == 64) return t == SESP_PQ_INT64 ? 0 : SESP_ERR_INVALID_ARG;
        if (l->bit_width == 8 || l->bit_width == 16 || l->bit_width == 32)
            return t == SESP_PQ_INT32 ? 0 : SESP_ERR_INVALID_ARG;
        return SESP_ERR_INVALID_ARG;
    case SESP_PQ_LT_UUID:
        return t == SESP_PQ_FIXED_LEN_BYTE_ARRAY && type_length == 16 ? 0 : SESP_ERR_INVALID_ARG;
    case SESP_PQ_LT_DECIMAL: {
        int maxp = t == SESP_PQ_INT32 ? 9 : t == SESP_PQ_INT64 ? 18
                 : t == SESP_PQ_FIXED_LEN_BYTE_ARRAY ? fixed_max_precision(type_length)
                 : t == SESP_PQ_BYTE_ARRAY ? 1000 : 0;
        if (l->precision < 1 || l->precision > maxp || l->scale < 0 || l->scale > l->precision)
            return SESP_ERR_INVALID_ARG;
        return 0;
    }
    default:
        return SESP_ERR_INVALID_ARG;
    }
}

int sesp_pq_schema_add_leaf(sesp_pq_schema *s, int parent, const char *name,
                            sesp_pq_repetition rep, sesp_pq_physical physical,
                            const sesp_pq_logical *logical, int type_length, int *node_out)
{
    int rc = check_leaf(physical, logical, type_length);
    if (rc)
        return rc;
    int id;
    if ((rc = add_node(s, parent, name, rep, &id)))
        return rc;
    sesp_pq_node *n = &s->nodes[id];
    n->physical = physical;
    n->type_length = physical == SESP_PQ_FIXED_LEN_BYTE_ARRAY ? type_length : 0;
    if (logical)
        n->logical = *logical;
    n->converted_type = converted_of(&n->logical);
    if ((rc = finish(s)))
        return rc;
    if (node_out)
        *node_out = id;
    return 0;
}

int sesp_pq_schema_add_list(sesp_pq_schema *s, int parent, const char *name,
                            sesp_pq_repetition rep, int *list_node_out)
{
    if (rep == SESP_PQ_REPEATED)
        return SESP_ERR_INVALID_ARG;
    int g, rc = sesp_pq_schema_add_group(s, parent, name, rep, SESP_PQ_LT_LIST, &g);
    if (rc)
        return rc;
    return sesp_pq_schema_add_group(s, g, "list", SESP_PQ_REPEATED, SESP_PQ_LT_NONE, list_node_out);
}

int sesp_pq_schema_add_map(sesp_pq_schema *s, int parent, const char *name,
                           sesp_pq_repetition rep, int *kv_node_out)
{
    if (rep == SESP_PQ_REPEATED)
        return SESP_ERR_INVALID_ARG;
    int g, rc = sesp_pq_schema_add_group(s, parent, name, rep, SESP_PQ_LT_MAP, &g);
    if (rc)
        return rc;
    return sesp_pq_schema_add_group(s, g, "key_value", SESP_PQ_REPEATED, SESP_PQ_LT_NONE, kv_node_out);
}

int sesp_pq_schema_set_field_id(sesp_pq_schema *s, int node, int field_id)
{
    if (node <= 0 || node >= s->n || field_id < 0)
        return SESP_ERR_INVALID_ARG;
    s->nodes[node].field_id = field_id;
    return 0;
}

int sesp_pq_schema_node_count(const sesp_pq_schema *s) { return s->n; }

const sesp_pq_node *sesp_pq_schema_node(const sesp_pq_schema *s, int id)
{
    return id >= 0 && id < s->n ? &s->nodes[id] : NULL;
}

int sesp_pq_schema_column_count(const sesp_pq_schema *s) { return s->ncolumns; }

int sesp_pq_schema_column_node(const sesp_pq_schema *s, int column)
{
    return column >= 0 && column < s->ncolumns ? s->columns[column] : -1;
}

int sesp_pq_schema_find_child(const sesp_pq_schema *s, int parent, const char *name)
{
    if (parent < 0 || parent >= s->n)
        return -1;
    const sesp_pq_node *p = &s->nodes[parent];
    for (int i = 0; i < p->nchildren; i++)
        if (strcmp(s->nodes[p->children[i]].name, name) == 0)
            return p->children[i];
    return -1;
}

const char **sesp_pq_schema_column_path(const sesp_pq_schema *s, int column, sesp_arena *a,
                                        uint32_t *n)
{
    int id = sesp_pq_schema_column_node(s, column);
    if (id < 0)
        return NULL;
    uint32_t depth = 0;
    for (int x = id; x > 0; x = s->nodes[x].parent)
        depth++;
    const char **path = sesp_arena_calloc(a, depth ? depth : 1, sizeof *path);
    if (!path)
        return NULL;
    uint32_t i = depth;
    for (int x = id; x > 0; x = s->nodes[x].parent)
        path[--i] = s->nodes[x].name;
    *n = depth;
    return path;
}

int sesp_pq_schema_clone(const sesp_pq_schema *s, sesp_pq_schema **out)
{
    sesp_arena a;
    sesp_arena_init(&a, 0);
    sesp_pq_md_schema *el;
    uint32_t n;
    int rc = sesp_pq_schema_to_md(s, &a, &el, &n);
    if (rc == 0)
        rc = sesp_pq_schema_from_md(el, n, out, NULL, 0);
    sesp_arena_free(&a);
    return rc;
}

static void flatten(const sesp_pq_schema *s, int id, sesp_pq_md_schema *el, uint32_t *i)
{
    const sesp_pq_node *n = &s->nodes[id];
    sesp_pq_md_schema *e = &el[(*i)++];
    e->name = n->name;
    e->repetition = id == 0 ? -1 : (int)n->repetition;
    e->type = n->is_group ? -1 : (int)n->physical;
    e->type_length = n->type_length;
    e->num_children = n->is_group ? n->nchildren : -1;
    e->converted_type = n->converted_type;
    e->scale = e->precision = -1;
    if (n->logical.kind == SESP_PQ_LT_DECIMAL) {
        e->scale = n->logical.scale;
        e->precision = n->logical.precision;
    }
    e->field_id = n->field_id;
    e->logical = n->logical;
    for (int c = 0; c < n->nchildren; c++)
        flatten(s, n->children[c], el, i);
}

int sesp_pq_schema_to_md(const sesp_pq_schema *s, sesp_arena *a, sesp_pq_md_schema **out,
                         uint32_t *n)
{
    sesp_pq_md_schema *el = sesp_arena_calloc(a, (size_t)s->n, sizeof *el);
    if (!el)
        return SESP_ERR_NOMEM;
    uint32_t i = 0;
    flatten(s, 0, el, &i);
    *out = el;
    *n = i;
    return 0;
}

static int build(sesp_pq_schema *s, const sesp_pq_md_schema *el, uint32_t n, uint32_t *i,
                 int parent, int depth, char *err, size_t errlen)
{
    if (*i >= n) {
        snprintf(err, errlen, "schema: element list ends inside a group");
        return SESP_ERR_MALFORMED;
    }
    if (depth > SESP_PQ_MAX_SCHEMA_DEPTH) {
        snprintf(err, errlen, "schema: nesting deeper than %d", SESP_PQ_MAX_SCHEMA_DEPTH);
        return SESP_ERR_MALFORMED;
    }
    const sesp_pq_md_schema *e = &el[(*i)++];
    int rep = e->repetition < 0 ? SESP_PQ_OPTIONAL : e->repetition;
    if (rep > SESP_PQ_REPEATED) {
        snprintf(err, errlen, "schema: element '%s' has unsupported repetition %d", e->name, rep);
        return SESP_ERR_UNSUPPORTED;
    }
    sesp_pq_logical lt = e->logical;
    if (lt.kind == SESP_PQ_LT_NONE && e->converted_type >= 0)
        lt = logical_of_converted(e->converted_type, e->precision, e->scale);
    int id, rc;
    bool group = e->num_children >= 0 && e->type < 0;
    if (!group && e->num_children > 0) {
        snprintf(err, errlen, "schema: leaf '%s' has children", e->name);
        return SESP_ERR_MALFORMED;
    }
    if (group || e->type < 0) {
        rc = add_node(s, parent, e->name, (sesp_pq_repetition)rep, &id);
        if (rc == 0) {
            s->nodes[id].is_group = true;
            s->nodes[id].logical.kind = lt.kind == SESP_PQ_LT_LIST || lt.kind == SESP_PQ_LT_MAP
                                        ? lt.kind : SESP_PQ_LT_NONE;
        }
    } else {
        if (e->type > SESP_PQ_FIXED_LEN_BYTE_ARRAY ||
            (e->type == SESP_PQ_FIXED_LEN_BYTE_ARRAY && (e->type_length <= 0 || e->type_length > (1 << 20)))) {
            snprintf(err, errlen, "schema: leaf '%s' has invalid type %d (length %d)", e->name, e->type,
                     e->type_length);
            return SESP_ERR_MALFORMED;
        }
        rc = add_node(s, parent, e->name, (sesp_pq_repetition)rep, &id);
        if (rc == 0) {
            sesp_pq_node *nd = &s->nodes[id];
            nd->physical = (sesp_pq_physical)e->type;
            nd->type_length = e->type == SESP_PQ_FIXED_LEN_BYTE_ARRAY ? e->type_length : 0;
            /* An annotation that does not fit the physical type is ignored
             * rather than trusted (the values are still readable). */
            if (check_leaf(nd->physical, &lt, nd->type_length) == 0)
                nd->logical = lt;
            else if (lt.kind != SESP_PQ_LT_NONE)
                nd->logical.kind = SESP_PQ_LT_UNKNOWN;
        }
    }
    if (rc) {
        snprintf(err, errlen, "schema: cannot add element '%s': %s", e->name, sesp_strerror(rc));
        return rc == SESP_ERR_NOMEM ? rc : SESP_ERR_MALFORMED;
    }
    s->nodes[id].converted_type = e->converted_type;
    s->nodes[id].field_id = e->field_id;
    if (group)
        for (int c = 0; c < e->num_children; c++)
            if ((rc = build(s, el, n, i, id, depth + 1, err, errlen)))
                return rc;
    return 0;
}

int sesp_pq_schema_from_md(const sesp_pq_md_schema *el, uint32_t n, sesp_pq_schema **out,
                           char *errbuf, size_t errlen)
{
    char dummy[8];
    if (!errbuf) {
        errbuf = dummy;
        errlen = sizeof dummy;
    }
    if (n == 0 || el[0].num_children < 0) {
        snprintf(errbuf, errlen, "schema: missing root group");
        return SESP_ERR_MALFORMED;
    }
    if (n > SESP_PQ_MAX_SCHEMA_NODES) {
        snprintf(errbuf, errlen, "schema: too many elements (%u)", n);
        return SESP_ERR_TOO_LARGE;
    }
    sesp_pq_schema *s;
    int rc = sesp_pq_schema_new(&s);
    if (rc)
        return rc;
    if (el[0].name) {
        char *nm = strdup(el[0].name);
        if (!nm) { sesp_pq_schema_free(s); return SESP_ERR_NOMEM; }
        free(s->priv[0].name);
        s->priv[0].name = nm;
        s->nodes[0].name = nm;
    }
    uint32_t i = 1;
    for (int c = 0; c < el[0].num_children && rc == 0; c++)
        rc = build(s, el, n, &i, 0, 1, errbuf, errlen);
    if (rc == 0 && i != n) {
        snprintf(errbuf, errlen, "schema: %u trailing elements", n - i);
        rc = SESP_ERR_MALFORMED;
    }
    if (rc == 0)
        rc = finish(s);
    if (rc) {
        sesp_pq_schema_free(s);
        return rc;
    }
    *out = s;
    return 0;
}
