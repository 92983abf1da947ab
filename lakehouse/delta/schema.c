/*
 * Delta schemas: the Spark StructType JSON of metaData.schemaString parsed
 * into a type tree (every node checked: known type names, decimal(p,s) within
 * 1..38, field names non-empty and unique per struct, bounded nesting), its
 * serialisation back, schema inference from JSON rows, and schema evolution
 * (merge) for appends.  Which type changes the protocol allows, and what rows
 * need, is widen.c's business; merge applies and records them.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "delta_impl.h"

#define MAX_DEPTH 32

static const char *names[] = {
    [SESP_DT_STRING] = "string", [SESP_DT_LONG] = "long", [SESP_DT_INTEGER] = "integer",
    [SESP_DT_SHORT] = "short", [SESP_DT_BYTE] = "byte", [SESP_DT_FLOAT] = "float",
    [SESP_DT_DOUBLE] = "double", [SESP_DT_BOOLEAN] = "boolean", [SESP_DT_BINARY] = "binary",
    [SESP_DT_DATE] = "date", [SESP_DT_TIMESTAMP] = "timestamp", [SESP_DT_TIMESTAMP_NTZ] = "timestamp_ntz",
    [SESP_DT_DECIMAL] = "decimal", [SESP_DT_STRUCT] = "struct", [SESP_DT_ARRAY] = "array", [SESP_DT_MAP] = "map",
};

const char *sesp_delta_kind_name(sesp_delta_kind k) { return k <= SESP_DT_MAP ? names[k] : "?"; }

void sesp_delta_type_free(sesp_delta_type *t)
{
    if (!t) return;
    for (size_t i = 0; i < t->nfields; i++) {
        free(t->fields[i].name);
        free(t->fields[i].metadata);
        sesp_delta_type_free(t->fields[i].type);
    }
    free(t->fields);
    sesp_delta_type_free(t->element);
    sesp_delta_type_free(t->key);
    sesp_delta_type_free(t->value);
    free(t);
}

sesp_delta_type *sesp_delta_type_clone(const sesp_delta_type *t)
{
    if (!t) return NULL;
    sesp_delta_type *c = calloc(1, sizeof(*c));
    if (!c) return NULL;
    *c = *t;
    c->fields = NULL;
    c->nfields = 0;
    c->element = c->key = c->value = NULL;
    if (t->nfields) {
        c->fields = calloc(t->nfields, sizeof(*c->fields));
        if (!c->fields) goto fail;
        for (size_t i = 0; i < t->nfields; i++) {
            c->nfields++;
            c->fields[i].nullable = t->fields[i].nullable;
            c->fields[i].name = strdup(t->fields[i].name);
            c->fields[i].metadata = strdup(t->fields[i].metadata ? t->fields[i].metadata : "{}");
            c->fields[i].type = sesp_delta_type_clone(t->fields[i].type);
            if (!c->fields[i].name || !c->fields[i].metadata || (t->fields[i].type && !c->fields[i].type)) goto fail;
        }
    }
    if (t->element && !(c->element = sesp_delta_type_clone(t->element))) goto fail;
    if (t->key && !(c->key = sesp_delta_type_clone(t->key))) goto fail;
    if (t->value && !(c->value = sesp_delta_type_clone(t->value))) goto fail;
    return c;
fail:
    sesp_delta_type_free(c);
    return NULL;
}

static int fail(char *err, size_t errlen, const char *fmt, const char *a, const char *b)
{
    if (err && errlen) snprintf(err, errlen, fmt, a ? a : "", b ? b : "");
    return SESP_ERR_MALFORMED;
}

static int parse_type(const json_t *j, int depth, const char *where, sesp_delta_type **out, char *err, size_t errlen);

static int parse_prim(const char *s, sesp_delta_type *t, const char *where, char *err, size_t errlen)
{
    for (int k = 0; k <= SESP_DT_DECIMAL; k++) {
        if (k == SESP_DT_DECIMAL) break;
        if (!strcmp(s, names[k])) { t->kind = (sesp_delta_kind)k; return 0; }
    }
    int p, sc, n = 0;
    if (sscanf(s, "decimal(%d,%d)%n", &p, &sc, &n) == 2 && s[n] == 0) {
        if (p < 1 || p > 38 || sc < 0 || sc > p) return fail(err, errlen, "%s: bad decimal %s", where, s);
        t->kind = SESP_DT_DECIMAL;
        t->precision = p;
        t->scale = sc;
        return 0;
    }
    if (!strcmp(s, "decimal")) { t->kind = SESP_DT_DECIMAL; t->precision = 10; t->scale = 0; return 0; }
    if (!strcmp(s, "variant")) {
        if (err && errlen) snprintf(err, errlen, "%s: variant type is not supported", where);
        return SESP_ERR_UNSUPPORTED;
    }
    return fail(err, errlen, "%s: unknown type %s", where, s);
}

int sesp_delta_parse_primitive(const char *s, sesp_delta_type *t, char *err, size_t errlen)
{
    memset(t, 0, sizeof(*t));
    return parse_prim(s, t, s, err, errlen);
}

static int parse_struct(const json_t *j, int depth, const char *where, sesp_delta_type *t, char *err, size_t errlen)
{
    const json_t *fields = json_object_get(j, "fields");
    if (!json_is_array(fields)) return fail(err, errlen, "%s: struct without a fields array%s", where, NULL);
    size_t n = json_array_size(fields);
    if (n > 100000) return fail(err, errlen, "%s: too many fields%s", where, NULL);
    t->kind = SESP_DT_STRUCT;
    if (n && !(t->fields = calloc(n, sizeof(*t->fields)))) return SESP_ERR_NOMEM;
    for (size_t i = 0; i < n; i++) {
        const json_t *f = json_array_get(fields, i);
        const char *name = json_string_value(json_object_get(f, "name"));
        if (!json_is_object(f) || !name || !*name) return fail(err, errlen, "%s: field without a name%s", where, NULL);
        for (size_t k = 0; k < t->nfields; k++)
            if (!strcmp(t->fields[k].name, name)) return fail(err, errlen, "%s: duplicate field %s", where, name);
        const json_t *nl = json_object_get(f, "nullable");
        if (!json_is_boolean(nl)) return fail(err, errlen, "%s: field %s without boolean nullable", where, name);
        const json_t *md = json_object_get(f, "metadata");
        if (md && !json_is_object(md) && !json_is_null(md)) return fail(err, errlen, "%s: field %s metadata is not an object", where, name);
        sesp_delta_field *fd = &t->fields[t->nfields++];
        fd->nullable = json_is_true(nl);
        if (!(fd->name = strdup(name))) return SESP_ERR_NOMEM;
        fd->metadata = md && json_is_object(md) ? json_dumps(md, JSON_COMPACT | JSON_SORT_KEYS) : strdup("{}");
        if (!fd->metadata) return SESP_ERR_NOMEM;
        const json_t *ty = json_object_get(f, "type");
        if (!ty) return fail(err, errlen, "%s: field %s without a type", where, name);
        char sub[256];
        snprintf(sub, sizeof(sub), "%s%s%s", where, *where ? "." : "", name);
        int rc = parse_type(ty, depth + 1, sub, &fd->type, err, errlen);
        if (rc) return rc;
    }
    return 0;
}

static int parse_type(const json_t *j, int depth, const char *where, sesp_delta_type **out, char *err, size_t errlen)
{
    *out = NULL;
    if (depth > MAX_DEPTH) return fail(err, errlen, "%s: schema nested too deeply%s", where, NULL);
    sesp_delta_type *t = calloc(1, sizeof(*t));
    if (!t) return SESP_ERR_NOMEM;
    int rc = 0;
    if (json_is_string(j)) rc = parse_prim(json_string_value(j), t, where, err, errlen);
    else if (json_is_object(j)) {
        const char *type = json_string_value(json_object_get(j, "type"));
        if (!type) rc = fail(err, errlen, "%s: complex type without a type name%s", where, NULL);
        else if (!strcmp(type, "struct")) rc = parse_struct(j, depth, where, t, err, errlen);
        else if (!strcmp(type, "array")) {
            t->kind = SESP_DT_ARRAY;
            const json_t *cn = json_object_get(j, "containsNull");
            if (!json_is_boolean(cn)) rc = fail(err, errlen, "%s: array without boolean containsNull%s", where, NULL);
            else {
                t->contains_null = json_is_true(cn);
                const json_t *et = json_object_get(j, "elementType");
                rc = et ? parse_type(et, depth + 1, where, &t->element, err, errlen)
                        : fail(err, errlen, "%s: array without elementType%s", where, NULL);
            }
        } else if (!strcmp(type, "map")) {
            t->kind = SESP_DT_MAP;
            const json_t *vn = json_object_get(j, "valueContainsNull");
            const json_t *kt = json_object_get(j, "keyType"), *vt = json_object_get(j, "valueType");
            if (!json_is_boolean(vn) || !kt || !vt) rc = fail(err, errlen, "%s: map needs keyType, valueType and valueContainsNull%s", where, NULL);
            else {
                t->value_contains_null = json_is_true(vn);
                rc = parse_type(kt, depth + 1, where, &t->key, err, errlen);
                if (!rc) rc = parse_type(vt, depth + 1, where, &t->value, err, errlen);
            }
        } else rc = fail(err, errlen, "%s: unknown complex type %s", where, type);
    } else rc = fail(err, errlen, "%s: a type must be a string or an object%s", where, NULL);
    if (rc) { sesp_delta_type_free(t); return rc; }
    *out = t;
    return 0;
}

int sesp_delta_schema_from_json(const json_t *j, sesp_delta_type **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!json_is_object(j) || !json_is_string(json_object_get(j, "type")) ||
        strcmp(json_string_value(json_object_get(j, "type")), "struct"))
        return fail(err, errlen, "schema: the top level must be a struct%s%s", NULL, NULL);
    return parse_type(j, 0, "", out, err, errlen);
}

int sesp_delta_schema_parse(const char *json, size_t len, sesp_delta_type **out, char *err, size_t errlen)
{
    *out = NULL;
    json_error_t je;
    json_t *j = json_loadb(json, len, JSON_REJECT_DUPLICATES, &je);
    if (!j) return fail(err, errlen, "schema: invalid JSON: %s%s", je.text, NULL);
    int rc = sesp_delta_schema_from_json(j, out, err, errlen);
    json_decref(j);
    return rc;
}

json_t *sesp_delta_schema_to_json(const sesp_delta_type *t)
{
    char buf[40];
    switch (t->kind) {
    case SESP_DT_DECIMAL:
        snprintf(buf, sizeof(buf), "decimal(%d,%d)", t->precision, t->scale);
        return json_string(buf);
    case SESP_DT_STRUCT: {
        json_t *fields = json_array();
        for (size_t i = 0; i < t->nfields; i++) {
            const sesp_delta_field *f = &t->fields[i];
            json_t *md = f->metadata ? json_loads(f->metadata, 0, NULL) : NULL;
            json_array_append_new(fields, json_pack("{s:s,s:o,s:b,s:o}", "name", f->name, "type",
                                                    sesp_delta_schema_to_json(f->type), "nullable", f->nullable,
                                                    "metadata", md ? md : json_object()));
        }
        return json_pack("{s:s,s:o}", "type", "struct", "fields", fields);
    }
    case SESP_DT_ARRAY:
        return json_pack("{s:s,s:o,s:b}", "type", "array", "elementType", sesp_delta_schema_to_json(t->element),
                         "containsNull", t->contains_null);
    case SESP_DT_MAP:
        return json_pack("{s:s,s:o,s:o,s:b}", "type", "map", "keyType", sesp_delta_schema_to_json(t->key),
                         "valueType", sesp_delta_schema_to_json(t->value), "valueContainsNull", t->value_contains_null);
    default:
        return json_string(names[t->kind]);
    }
}

char *sesp_delta_schema_to_string(const sesp_delta_type *t)
{
    json_t *j = sesp_delta_schema_to_json(t);
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(j);
    return s;
}

bool sesp_delta_type_equal(const sesp_delta_type *a, const sesp_delta_type *b)
{
    if (!a || !b) return a == b;
    if (a->kind != b->kind) return false;
    switch (a->kind) {
    case SESP_DT_DECIMAL: return a->precision == b->precision && a->scale == b->scale;
    case SESP_DT_STRUCT:
        if (a->nfields != b->nfields) return false;
        for (size_t i = 0; i < a->nfields; i++)
            if (strcmp(a->fields[i].name, b->fields[i].name) || a->fields[i].nullable != b->fields[i].nullable ||
                !sesp_delta_type_equal(a->fields[i].type, b->fields[i].type))
                return false;
        return true;
    case SESP_DT_ARRAY: return a->contains_null == b->contains_null && sesp_delta_type_equal(a->element, b->element);
    case SESP_DT_MAP:
        return a->value_contains_null == b->value_contains_null && sesp_delta_type_equal(a->key, b->key) &&
               sesp_delta_type_equal(a->value, b->value);
    default: return true;
    }
}

const sesp_delta_field *sesp_delta_struct_field(const sesp_delta_type *st, const char *name)
{
    if (!st || st->kind != SESP_DT_STRUCT) return NULL;
    for (size_t i = 0; i < st->nfields; i++)
        if (!strcmp(st->fields[i].name, name)) return &st->fields[i];
    return NULL;
}

int sesp_delta_int_rank(sesp_delta_kind k)
{
    switch (k) {
    case SESP_DT_BYTE: return 1;
    case SESP_DT_SHORT: return 2;
    case SESP_DT_INTEGER: return 3;
    case SESP_DT_LONG: return 4;
    default: return 0;
    }
}

typedef struct mctx {
    sesp_delta_widening widen;
    char *err;
    size_t errlen;
} mctx;

/* Merges in into dst (a clone of the table's type).  owner is the nearest
 * struct field above dst and path the way from it down to dst through array
 * elements and map keys/values: where the protocol records a type change. */
static int merge_into(sesp_delta_type *dst, const sesp_delta_type *in, mctx *c, const char *where,
                      sesp_delta_field *owner, const char *path)
{
    if (!in) return 0;   /* inference saw only nulls */
    if (dst->kind == SESP_DT_STRUCT && in->kind == SESP_DT_STRUCT) {
        for (size_t i = 0; i < in->nfields; i++) {
            const sesp_delta_field *nf = &in->fields[i];
            char sub[256];
            snprintf(sub, sizeof(sub), "%s%s%s", where, *where ? "." : "", nf->name);
            sesp_delta_field *of = NULL;
            for (size_t k = 0; k < dst->nfields; k++)
                if (!strcmp(dst->fields[k].name, nf->name)) of = &dst->fields[k];
            if (of && !of->type) {
                if (nf->type && !(of->type = sesp_delta_type_clone(nf->type))) return SESP_ERR_NOMEM;
                continue;
            }
            if (of) {
                int rc = merge_into(of->type, nf->type, c, sub, of, "");
                if (rc) return rc;
                continue;
            }
            sesp_delta_field *nfl = realloc(dst->fields, (dst->nfields + 1) * sizeof(*nfl));
            if (!nfl) return SESP_ERR_NOMEM;
            dst->fields = nfl;
            sesp_delta_field *f = &dst->fields[dst->nfields];
            memset(f, 0, sizeof(*f));
            f->nullable = true;   /* old rows have no value for it */
            f->name = strdup(nf->name);
            f->metadata = strdup("{}");
            f->type = nf->type ? sesp_delta_type_clone(nf->type) : NULL;
            dst->nfields++;
            if (!f->name || !f->metadata || (nf->type && !f->type)) return SESP_ERR_NOMEM;
        }
        return 0;
    }
    char sub[256];
    if (dst->kind == SESP_DT_ARRAY && in->kind == SESP_DT_ARRAY) {
        if (!dst->element) {
            if (in->element && !(dst->element = sesp_delta_type_clone(in->element))) return SESP_ERR_NOMEM;
            return 0;
        }
        snprintf(sub, sizeof(sub), "%s%selement", path, *path ? "." : "");
        return merge_into(dst->element, in->element, c, where, owner, sub);
    }
    if (dst->kind == SESP_DT_MAP && in->kind == SESP_DT_MAP) {
        snprintf(sub, sizeof(sub), "%s%skey", path, *path ? "." : "");
        int rc = merge_into(dst->key, in->key, c, where, owner, sub);
        snprintf(sub, sizeof(sub), "%s%svalue", path, *path ? "." : "");
        return rc ? rc : merge_into(dst->value, in->value, c, where, owner, sub);
    }
    if (sesp_delta_type_equal(dst, in)) return 0;
    /* an incoming narrower integer fits the wider table column as is */
    int rd = sesp_delta_int_rank(dst->kind), ri = sesp_delta_int_rank(in->kind);
    if (rd && ri && ri <= rd) return 0;
    if (dst->kind == SESP_DT_DOUBLE && (in->kind == SESP_DT_FLOAT || ri)) return 0;
    /* inference: rows of one batch may mix 1 and 1.5 */
    if (c->widen == SESP_DELTA_WIDEN_INFER && ((rd && ri > rd) || (dst->kind == SESP_DT_FLOAT && in->kind == SESP_DT_DOUBLE) ||
                                                (rd && (in->kind == SESP_DT_DOUBLE || in->kind == SESP_DT_FLOAT)))) {
        dst->kind = in->kind;
        return 0;
    }
    bool widens = owner && sesp_delta_type_widens(dst, in);
    if (widens && c->widen == SESP_DELTA_WIDEN_TABLE) {
        int rc = sesp_delta_record_type_change(owner, path, dst, in);
        if (rc) return rc;
        dst->kind = in->kind;
        dst->precision = in->precision;
        dst->scale = in->scale;
        return 0;
    }
    char tn[2][40];
    for (int k = 0; k < 2; k++) {
        const sesp_delta_type *x = k ? dst : in;
        if (x->kind == SESP_DT_DECIMAL) snprintf(tn[k], sizeof(tn[k]), "decimal(%d,%d)", x->precision, x->scale);
        else snprintf(tn[k], sizeof(tn[k]), "%s", sesp_delta_kind_name(x->kind));
    }
    if (c->err && c->errlen)
        snprintf(c->err, c->errlen, "column %s: cannot write %s into a %s column%s", *where ? where : "(root)", tn[0], tn[1],
                 widens ? "; to widen the column instead, set the table property delta.enableTypeWidening=true" : "");
    return SESP_ERR_INVALID_ARG;
}

int sesp_delta_schema_merge(const sesp_delta_type *table, const sesp_delta_type *incoming, sesp_delta_widening widen,
                            sesp_delta_type **merged, char *err, size_t errlen)
{
    *merged = sesp_delta_type_clone(table);
    if (!*merged) return SESP_ERR_NOMEM;
    mctx c = {widen, err, errlen};
    int rc = merge_into(*merged, incoming, &c, "", NULL, "");
    if (rc) { sesp_delta_type_free(*merged); *merged = NULL; }
    return rc;
}

/* ---- inference ---- */

static int infer_value(const json_t *v, int depth, const char *where, sesp_delta_type **out, char *err, size_t errlen);

static int infer_object(const json_t *obj, int depth, const char *where, sesp_delta_type *st, char *err, size_t errlen)
{
    const char *k;
    const json_t *v;
    json_object_foreach((json_t *)obj, k, v) {
        char sub[256];
        snprintf(sub, sizeof(sub), "%s%s%s", where, *where ? "." : "", k);
        if (!*k) return fail(err, errlen, "%s: empty column name%s", where, NULL);
        sesp_delta_type *t = NULL;
        int rc = infer_value(v, depth + 1, sub, &t, err, errlen);
        if (rc) return rc;
        sesp_delta_field *have = NULL;
        for (size_t i = 0; i < st->nfields; i++)
            if (!strcmp(st->fields[i].name, k)) have = &st->fields[i];
        if (have) {
            if (!t) continue;   /* null: no information */
            if (!have->type) { have->type = t; continue; }
            sesp_delta_type *m = NULL;
            rc = sesp_delta_schema_merge(have->type, t, SESP_DELTA_WIDEN_INFER, &m, err, errlen);
            sesp_delta_type_free(t);
            if (rc) {
                if (err && errlen) snprintf(err, errlen, "column %s: rows disagree on its type", sub);
                return rc;
            }
            sesp_delta_type_free(have->type);
            have->type = m;
            continue;
        }
        sesp_delta_field *nf = realloc(st->fields, (st->nfields + 1) * sizeof(*nf));
        if (!nf) { sesp_delta_type_free(t); return SESP_ERR_NOMEM; }
        st->fields = nf;
        sesp_delta_field *f = &st->fields[st->nfields++];
        memset(f, 0, sizeof(*f));
        f->name = strdup(k);
        f->metadata = strdup("{}");
        f->nullable = true;
        f->type = t;
        if (!f->name || !f->metadata) return SESP_ERR_NOMEM;
    }
    return 0;
}

static int infer_value(const json_t *v, int depth, const char *where, sesp_delta_type **out, char *err, size_t errlen)
{
    *out = NULL;
    if (depth > MAX_DEPTH) return fail(err, errlen, "%s: value nested too deeply%s", where, NULL);
    if (json_is_null(v)) return 0;
    sesp_delta_type *t = calloc(1, sizeof(*t));
    if (!t) return SESP_ERR_NOMEM;
    int rc = 0;
    if (json_is_integer(v)) t->kind = SESP_DT_LONG;
    else if (json_is_real(v)) t->kind = SESP_DT_DOUBLE;
    else if (json_is_string(v)) t->kind = SESP_DT_STRING;
    else if (json_is_boolean(v)) t->kind = SESP_DT_BOOLEAN;
    else if (json_is_object(v)) {
        t->kind = SESP_DT_STRUCT;
        rc = infer_object(v, depth, where, t, err, errlen);
    } else {
        t->kind = SESP_DT_ARRAY;
        t->contains_null = true;
        size_t i;
        const json_t *e;
        json_array_foreach((json_t *)v, i, e) {
            sesp_delta_type *et = NULL;
            if ((rc = infer_value(e, depth + 1, where, &et, err, errlen))) break;
            if (!et) continue;
            if (!t->element) { t->element = et; continue; }
            sesp_delta_type *m = NULL;
            rc = sesp_delta_schema_merge(t->element, et, SESP_DELTA_WIDEN_INFER, &m, err, errlen);
            if (!rc) { sesp_delta_type_free(t->element); t->element = m; }
            sesp_delta_type_free(et);
            if (rc) break;
        }
    }
    if (rc) { sesp_delta_type_free(t); return rc; }
    *out = t;
    return 0;
}

int sesp_delta_infer_type(const json_t *v, const char *where, sesp_delta_type **out, char *err, size_t errlen)
{
    return infer_value(v, 0, where, out, err, errlen);
}

/* Columns only ever seen as null (or empty arrays) default to string. */
int sesp_delta_type_fill_unknown(sesp_delta_type *t)
{
    if (t->kind == SESP_DT_STRUCT) {
        for (size_t i = 0; i < t->nfields; i++) {
            if (!t->fields[i].type) {
                if (!(t->fields[i].type = calloc(1, sizeof(sesp_delta_type)))) return SESP_ERR_NOMEM;
                t->fields[i].type->kind = SESP_DT_STRING;
            } else if (sesp_delta_type_fill_unknown(t->fields[i].type)) return SESP_ERR_NOMEM;
        }
    } else if (t->kind == SESP_DT_ARRAY) {
        if (!t->element) {
            if (!(t->element = calloc(1, sizeof(sesp_delta_type)))) return SESP_ERR_NOMEM;
            t->element->kind = SESP_DT_STRING;
        } else return sesp_delta_type_fill_unknown(t->element);
    } else if (t->kind == SESP_DT_MAP) {
        return sesp_delta_type_fill_unknown(t->value);
    }
    return 0;
}

int sesp_delta_schema_infer(const json_t *rows, sesp_delta_type **out, char *err, size_t errlen)
{
    *out = NULL;
    if (!json_is_array(rows)) return fail(err, errlen, "rows must be a JSON array%s%s", NULL, NULL);
    sesp_delta_type *st = calloc(1, sizeof(*st));
    if (!st) return SESP_ERR_NOMEM;
    st->kind = SESP_DT_STRUCT;
    size_t i;
    const json_t *row;
    int rc = 0;
    json_array_foreach((json_t *)rows, i, row) {
        if (!json_is_object(row)) { rc = fail(err, errlen, "row is not a JSON object%s%s", NULL, NULL); break; }
        if ((rc = infer_object(row, 0, "", st, err, errlen))) break;
    }
    if (!rc && !st->nfields) rc = fail(err, errlen, "cannot infer a schema from rows without columns%s%s", NULL, NULL);
    if (!rc) rc = sesp_delta_type_fill_unknown(st);
    if (rc) { sesp_delta_type_free(st); return rc; }
    *out = st;
    return 0;
}
