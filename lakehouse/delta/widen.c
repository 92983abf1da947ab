/*
 * Type widening, the typeWidening table feature of PROTOCOL.md: which column
 * type changes the protocol allows and SESP can read back from older files,
 * the types a batch of JSON rows needs relative to a table's (decided value
 * by value, since JSON has no byte or float: an integer beyond int32 needs
 * long, a real in an integer column needs double, a timestamp in a date
 * column needs timestamp_ntz, more integer or fraction digits need a wider
 * decimal), the delta.typeChanges history kept in the metadata of the
 * nearest ancestor struct field, and the readers' check of that history.  Whether a table may
 * widen at all (delta.enableTypeWidening) is the table layer's decision.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "delta_impl.h"

#define MAX_DEPTH 32
/* the widest decimal there is (128-bit unscaled values) */
#define MAX_WRITE_PRECISION SESP_DELTA_DEC_MAX_PRECISION

bool sesp_delta_type_widens(const sesp_delta_type *from, const sesp_delta_type *to)
{
    int rf = sesp_delta_int_rank(from->kind), rt = sesp_delta_int_rank(to->kind);
    if (rf && rt) return rf < rt;
    switch (to->kind) {
    case SESP_DT_DOUBLE:
        /* not long: doubles cannot hold every long */
        return from->kind == SESP_DT_FLOAT || (rf && rf < sesp_delta_int_rank(SESP_DT_LONG));
    case SESP_DT_TIMESTAMP_NTZ:
        return from->kind == SESP_DT_DATE;
    case SESP_DT_DECIMAL: {
        /* decimal(p,s) -> decimal(p+k1, s+k2) with k1 >= k2 >= 0: the
         * integer digits never shrink.  Older files keep their unscaled
         * values at their own scale (an integer at scale 0); readers rescale
         * them from the file's DECIMAL annotation (pq.c). */
        if (to->precision < 1 || to->precision > MAX_WRITE_PRECISION || to->scale < 0 || to->scale > to->precision) return false;
        if (from->kind == SESP_DT_DECIMAL) {
            int k1 = to->precision - from->precision, k2 = to->scale - from->scale;
            return k2 >= 0 && k1 >= k2 && k1 > 0;
        }
        /* byte, short and integer need 10 integer digits, long 20 */
        if (rf) return to->precision - to->scale >= (rf == sesp_delta_int_rank(SESP_DT_LONG) ? 20 : 10);
        return false;
    }
    default:
        return false;
    }
}

/* ---- delta.typeChanges ---- */

int sesp_delta_record_type_change(sesp_delta_field *owner, const char *field_path, const sesp_delta_type *from,
                                  const sesp_delta_type *to)
{
    json_t *md = owner->metadata ? json_loads(owner->metadata, 0, NULL) : NULL;
    if (!json_is_object(md)) {
        json_decref(md);
        md = json_object();
    }
    json_t *changes = json_object_get(md, "delta.typeChanges");
    if (!json_is_array(changes)) {
        changes = json_array();
        json_object_set_new(md, "delta.typeChanges", changes);
    }
    json_t *e = json_object();
    json_object_set_new(e, "fromType", sesp_delta_schema_to_json(from));
    json_object_set_new(e, "toType", sesp_delta_schema_to_json(to));
    if (field_path && *field_path) json_object_set_new(e, "fieldPath", json_string(field_path));
    char *s = json_array_append_new(changes, e) ? NULL : json_dumps(md, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(md);
    if (!s) return SESP_ERR_NOMEM;
    free(owner->metadata);
    owner->metadata = s;
    return 0;
}

static int check_field_changes(const sesp_delta_field *f, const char *col, char *err, size_t errlen)
{
    if (!f->metadata || !strstr(f->metadata, "delta.typeChanges")) return 0;
    json_t *md = json_loads(f->metadata, 0, NULL);
    const json_t *changes = json_object_get(md, "delta.typeChanges");
    int rc = 0;
    if (!changes) goto out;
    if (!json_is_array(changes)) {
        snprintf(err, errlen, "column %s: delta.typeChanges is not a list", col);
        rc = SESP_ERR_MALFORMED;
        goto out;
    }
    size_t i;
    const json_t *e;
    json_array_foreach(changes, i, e) {
        const char *from = json_string_value(json_object_get(e, "fromType"));
        const char *to = json_string_value(json_object_get(e, "toType"));
        const json_t *path = json_object_get(e, "fieldPath");
        if (!from || !to || (path && !json_is_string(path))) {
            snprintf(err, errlen, "column %s: delta.typeChanges entry %zu needs string fromType and toType", col, i);
            rc = SESP_ERR_MALFORMED;
            goto out;
        }
        sesp_delta_type a = {0}, b = {0};
        char sub[128];
        if (sesp_delta_parse_primitive(from, &a, sub, sizeof(sub)) || sesp_delta_parse_primitive(to, &b, sub, sizeof(sub)) ||
            !sesp_delta_type_widens(&a, &b)) {
            snprintf(err, errlen, "column %s%s%s: type change %s -> %s (delta.typeChanges) is not supported by SESP", col,
                     path ? "." : "", path ? json_string_value(path) : "", from, to);
            rc = SESP_ERR_UNSUPPORTED;
            goto out;
        }
    }
out:
    json_decref(md);
    return rc;
}

static int check_changes(const sesp_delta_type *t, const char *where, int depth, char *err, size_t errlen)
{
    if (!t || depth > MAX_DEPTH) return 0;
    for (size_t i = 0; i < t->nfields; i++) {
        char sub[256];
        snprintf(sub, sizeof(sub), "%s%s%s", where, *where ? "." : "", t->fields[i].name);
        int rc = check_field_changes(&t->fields[i], sub, err, errlen);
        if (!rc) rc = check_changes(t->fields[i].type, sub, depth + 1, err, errlen);
        if (rc) return rc;
    }
    int rc = check_changes(t->element, where, depth + 1, err, errlen);
    if (!rc) rc = check_changes(t->key, where, depth + 1, err, errlen);
    if (!rc) rc = check_changes(t->value, where, depth + 1, err, errlen);
    return rc;
}

int sesp_delta_schema_check_type_changes(const sesp_delta_type *schema, char *err, size_t errlen)
{
    return check_changes(schema, "", 0, err, errlen);
}

bool sesp_delta_schema_has_type_changes(const sesp_delta_type *t)
{
    if (!t) return false;
    for (size_t i = 0; i < t->nfields; i++)
        if ((t->fields[i].metadata && strstr(t->fields[i].metadata, "delta.typeChanges")) ||
            sesp_delta_schema_has_type_changes(t->fields[i].type))
            return true;
    return sesp_delta_schema_has_type_changes(t->element) || sesp_delta_schema_has_type_changes(t->key) ||
           sesp_delta_schema_has_type_changes(t->value);
}

/* ---- what rows need ---- */

static sesp_delta_kind int_kind_of(json_int_t x)
{
    if (x >= INT8_MIN && x <= INT8_MAX) return SESP_DT_BYTE;
    if (x >= INT16_MIN && x <= INT16_MAX) return SESP_DT_SHORT;
    if (x >= INT32_MIN && x <= INT32_MAX) return SESP_DT_INTEGER;
    return SESP_DT_LONG;
}

/* Widens the leaf cur (a copy of the table's type t) so that v fits, as far
 * as t may widen; a value no allowed type holds leaves cur alone, and the
 * write's validation refuses it with its usual message. */
static void fit_leaf(sesp_delta_type *cur, const sesp_delta_type *t, const json_t *v)
{
    int r = sesp_delta_int_rank(t->kind);
    if (r && t->kind != SESP_DT_LONG) {
        if (json_is_integer(v)) {
            sesp_delta_kind k = int_kind_of(json_integer_value(v));
            int rc = sesp_delta_int_rank(cur->kind);
            /* a double (after a real) already holds any integer */
            if (rc && sesp_delta_int_rank(k) > rc) cur->kind = k;
        } else if (json_is_real(v)) cur->kind = SESP_DT_DOUBLE;
    } else if (t->kind == SESP_DT_FLOAT) {
        /* a float column takes any number it can approximate; only its range is a limit */
        if (json_is_number(v) && fabs(json_number_value(v)) > FLT_MAX) cur->kind = SESP_DT_DOUBLE;
    } else if (t->kind == SESP_DT_DATE) {
        int64_t x;
        if (json_is_string(v) && !sesp_delta_parse_date(json_string_value(v), &x) &&
            sesp_delta_parse_timestamp(json_string_value(v), &x))
            cur->kind = SESP_DT_TIMESTAMP_NTZ;
    } else if (t->kind == SESP_DT_DECIMAL) {
        /* As many integer digits as the widest value so far, as many
         * fraction digits too: both only grow from the table's, which keeps
         * decimal(p,s) -> decimal(p+k1, s+k2) with k1 >= k2.  A value that
         * would take it past 38 digits changes nothing (and is refused). */
        int ip, fp;
        if (!sesp_delta_decimal_digits(v, &ip, &fp)) return;
        int is = cur->precision - cur->scale, fs = cur->scale;
        if (ip > is) is = ip;
        if (fp > fs) fs = fp;
        if (is + fs <= MAX_WRITE_PRECISION) {
            cur->precision = is + fs;
            cur->scale = fs;
        }
    }
}

static int fit_value(sesp_delta_type *cur, const sesp_delta_type *t, const json_t *v, bool add_columns, int depth,
                     const char *where, char *err, size_t errlen);

/* A column that is not in the table: inferred from v and merged with what
 * earlier rows said about it.  A null says nothing yet (the column is added
 * untyped and becomes a string if nothing else comes, as in inference). */
static int fit_new_column(sesp_delta_type *cur, const char *name, const json_t *v, const char *where, char *err,
                          size_t errlen)
{
    /* parts only nulls or empty arrays have shown stay untyped until the end,
     * so that a later row can still type them */
    sesp_delta_type *vt = NULL;
    char sub[256];
    snprintf(sub, sizeof(sub), "%s%s%s", where, *where ? "." : "", name);
    int rc = sesp_delta_infer_type(v, sub, &vt, err, errlen);
    if (rc) return rc;
    sesp_delta_field *f = (sesp_delta_field *)sesp_delta_struct_field(cur, name);
    if (f && !f->type) { f->type = vt; return 0; }
    if (f) {
        if (!vt) return 0;
        sesp_delta_type *merged = NULL;
        rc = sesp_delta_schema_merge(f->type, vt, SESP_DELTA_WIDEN_INFER, &merged, err, errlen);
        sesp_delta_type_free(vt);
        if (rc) {
            snprintf(err, errlen, "column %s: rows disagree on its type", sub);
            return rc;
        }
        sesp_delta_type_free(f->type);
        f->type = merged;
        return 0;
    }
    sesp_delta_field *nf = realloc(cur->fields, (cur->nfields + 1) * sizeof(*nf));
    if (!nf) { sesp_delta_type_free(vt); return SESP_ERR_NOMEM; }
    cur->fields = nf;
    f = &cur->fields[cur->nfields++];
    memset(f, 0, sizeof(*f));
    f->nullable = true;
    f->type = vt;
    f->name = strdup(name);
    f->metadata = strdup("{}");
    return f->name && f->metadata ? 0 : SESP_ERR_NOMEM;
}

static int fit_value(sesp_delta_type *cur, const sesp_delta_type *t, const json_t *v, bool add_columns, int depth,
                     const char *where, char *err, size_t errlen)
{
    if (!v || json_is_null(v)) return 0;
    if (depth > MAX_DEPTH) {
        snprintf(err, errlen, "%s: value nested too deeply", where);
        return SESP_ERR_MALFORMED;
    }
    int rc = 0;
    switch (t->kind) {
    case SESP_DT_STRUCT: {
        if (!json_is_object(v)) return 0;
        const char *k;
        const json_t *x;
        json_object_foreach((json_t *)v, k, x) {
            const sesp_delta_field *tf = sesp_delta_struct_field(t, k);
            char sub[256];
            snprintf(sub, sizeof(sub), "%s%s%s", where, *where ? "." : "", k);
            if (tf) {
                sesp_delta_field *cf = (sesp_delta_field *)sesp_delta_struct_field(cur, k);
                rc = fit_value(cf->type, tf->type, x, add_columns, depth + 1, sub, err, errlen);
            } else if (add_columns) rc = fit_new_column(cur, k, x, where, err, errlen);
            if (rc) return rc;
        }
        return 0;
    }
    case SESP_DT_ARRAY: {
        if (!json_is_array(v)) return 0;
        size_t i;
        const json_t *x;
        json_array_foreach((json_t *)v, i, x) if ((rc = fit_value(cur->element, t->element, x, add_columns, depth + 1, where, err, errlen))) return rc;
        return 0;
    }
    case SESP_DT_MAP: {
        if (!json_is_object(v)) return 0;
        const char *k;
        const json_t *x;
        json_object_foreach((json_t *)v, k, x) if ((rc = fit_value(cur->value, t->value, x, add_columns, depth + 1, where, err, errlen))) return rc;
        return 0;
    }
    default:
        fit_leaf(cur, t, v);
        return 0;
    }
}

int sesp_delta_schema_fit(const sesp_delta_type *table, const json_t *rows, bool add_columns, sesp_delta_type **out,
                          char *err, size_t errlen)
{
    *out = NULL;
    if (!json_is_array(rows) || table->kind != SESP_DT_STRUCT) {
        snprintf(err, errlen, "rows must be a JSON array");
        return SESP_ERR_INVALID_ARG;
    }
    sesp_delta_type *cur = sesp_delta_type_clone(table);
    if (!cur) return SESP_ERR_NOMEM;
    size_t i;
    const json_t *row;
    int rc = 0;
    json_array_foreach((json_t *)rows, i, row) if ((rc = fit_value(cur, table, row, add_columns, 0, "", err, errlen))) break;
    if (!rc) rc = sesp_delta_type_fill_unknown(cur);
    if (rc) {
        sesp_delta_type_free(cur);
        return rc;
    }
    *out = cur;
    return 0;
}
