/*
 * Delta types in Parquet: the type mapping of PROTOCOL.md (long -> INT64,
 * timestamp -> INT64 TIMESTAMP(MICROS, UTC), decimal -> INT32/INT64/FIXED DECIMAL,
 * array -> 3-level LIST, map -> MAP, ...) and the conversion of JSON row
 * values to and from Parquet values, whose date, timestamp and decimal
 * parsing the per-file stats share.  Conversion enforces the table schema:
 * a value of the wrong JSON type, out of range, or a null in a non-nullable
 * column is refused with an error naming the column.
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "common/err.h"
#include "delta_impl.h"

static int add_node(sesp_pq_schema *ps, int parent, const char *name, const sesp_delta_type *t, bool nullable,
                    char *err, size_t errlen)
{
    sesp_pq_repetition rep = nullable ? SESP_PQ_OPTIONAL : SESP_PQ_REQUIRED;
    sesp_pq_logical lt;
    int node, rc;
    switch (t->kind) {
    case SESP_DT_STRING: lt = sesp_pq_lt(SESP_PQ_LT_STRING); return sesp_pq_schema_add_leaf(ps, parent, name, rep, SESP_PQ_BYTE_ARRAY, &lt, 0, NULL);
    case SESP_DT_BINARY: return sesp_pq_schema_add_leaf(ps, parent, name, rep, SESP_PQ_BYTE_ARRAY, NULL, 0, NULL);
    case SESP_DT_LONG: return sesp_pq_schema_add_leaf(ps, parent, name, rep, SESP_PQ_INT64, NULL, 0, NULL);
    case SESP_DT_INTEGER: return sesp_pq_schema_add_leaf(ps, parent, name, rep, SESP_PQ_INT32, NULL, 0, NULL);
    case SESP_DT_SHORT: lt = sesp_pq_lt_int(16, true); return sesp_pq_schema_add_leaf(ps, parent, name, rep, SESP_PQ_INT32, &lt, 0, NULL);
    case SESP_DT_BYTE: lt = sesp_pq_lt_int(8, true); return sesp_pq_schema_add_leaf(ps, parent, name, rep, SESP_PQ_INT32, &lt, 0, NULL);
    case SESP_DT_FLOAT: return sesp_pq_schema_add_leaf(ps, parent, name, rep, SESP_PQ_FLOAT, NULL, 0, NULL);
    case SESP_DT_DOUBLE: return sesp_pq_schema_add_leaf(ps, parent, name, rep, SESP_PQ_DOUBLE, NULL, 0, NULL);
    case SESP_DT_BOOLEAN: return sesp_pq_schema_add_leaf(ps, parent, name, rep, SESP_PQ_BOOLEAN, NULL, 0, NULL);
    case SESP_DT_DATE: lt = sesp_pq_lt(SESP_PQ_LT_DATE); return sesp_pq_schema_add_leaf(ps, parent, name, rep, SESP_PQ_INT32, &lt, 0, NULL);
    case SESP_DT_TIMESTAMP:
    case SESP_DT_TIMESTAMP_NTZ:
        lt = sesp_pq_lt_timestamp(SESP_PQ_MICROS, t->kind == SESP_DT_TIMESTAMP);
        return sesp_pq_schema_add_leaf(ps, parent, name, rep, SESP_PQ_INT64, &lt, 0, NULL);
    case SESP_DT_DECIMAL:
        lt = sesp_pq_lt_decimal(t->precision, t->scale);
        if (t->precision > 18)
            return sesp_pq_schema_add_leaf(ps, parent, name, rep, SESP_PQ_FIXED_LEN_BYTE_ARRAY, &lt,
                                           sesp_delta_decimal_width(t->precision), NULL);
        return sesp_pq_schema_add_leaf(ps, parent, name, rep, t->precision <= 9 ? SESP_PQ_INT32 : SESP_PQ_INT64, &lt, 0, NULL);
    case SESP_DT_STRUCT:
        if ((rc = sesp_pq_schema_add_group(ps, parent, name, rep, SESP_PQ_LT_NONE, &node))) return rc;
        return sesp_delta_pq_add_fields(ps, node, t, NULL, 0, err, errlen);
    case SESP_DT_ARRAY:
        if ((rc = sesp_pq_schema_add_list(ps, parent, name, rep, &node))) return rc;
        return add_node(ps, node, "element", t->element, t->contains_null, err, errlen);
    case SESP_DT_MAP:
        if ((rc = sesp_pq_schema_add_map(ps, parent, name, rep, &node))) return rc;
        if ((rc = add_node(ps, node, "key", t->key, false, err, errlen))) return rc;
        return add_node(ps, node, "value", t->value, t->value_contains_null, err, errlen);
    }
    return SESP_ERR_INVALID_ARG;
}

int sesp_delta_pq_add_fields(sesp_pq_schema *ps, int parent, const sesp_delta_type *st,
                             const char *const *skip, size_t nskip, char *err, size_t errlen)
{
    for (size_t i = 0; i < st->nfields; i++) {
        bool skipped = false;
        for (size_t k = 0; k < nskip; k++) skipped |= !strcmp(skip[k], st->fields[i].name);
        if (skipped) continue;
        int rc = add_node(ps, parent, st->fields[i].name, st->fields[i].type, st->fields[i].nullable, err, errlen);
        if (rc) {
            if (!*err) snprintf(err, errlen, "column %s: cannot map to Parquet (%d)", st->fields[i].name, rc);
            return rc;
        }
    }
    return 0;
}

/* ---- dates and times ---- */

static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

void sesp_delta_civil_from_days(int64_t z, int *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yy + (*m <= 2));
}

static bool parse_date(const char *s, int64_t *days, int *consumed)
{
    int y, mo, d, n = 0;
    if (sscanf(s, "%5d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || mo < 1 || mo > 12 || d < 1 || d > 31) return false;
    *days = days_from_civil(y, (unsigned)mo, (unsigned)d);
    *consumed = n;
    return true;
}

bool sesp_delta_parse_timestamp(const char *s, int64_t *micros)
{
    int64_t days;
    int n;
    if (!parse_date(s, &days, &n)) return false;
    const char *p = s + n;
    int64_t us = days * 86400LL * 1000000LL;
    if (!*p) { *micros = us; return true; }
    if (*p != 'T' && *p != ' ') return false;
    int h, mi, sec, k = 0;
    if (sscanf(p + 1, "%2d:%2d:%2d%n", &h, &mi, &sec, &k) != 3 || h > 23 || mi > 59 || sec > 60) return false;
    p += 1 + k;
    us += ((int64_t)h * 3600 + mi * 60 + sec) * 1000000LL;
    if (*p == '.') {
        p++;
        int64_t frac = 0, digits = 0;
        while (*p >= '0' && *p <= '9') { if (digits < 6) { frac = frac * 10 + (*p - '0'); digits++; } p++; }
        while (digits < 6) { frac *= 10; digits++; }
        us += frac;
    }
    if (*p == 'Z') p++;
    else if (*p == '+' || *p == '-') {
        int oh, om, k2 = 0;
        if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &k2) != 2) return false;
        int64_t off = ((int64_t)oh * 3600 + om * 60) * 1000000LL;
        us += *p == '+' ? -off : off;
        p += 1 + k2;
    }
    if (*p) return false;
    *micros = us;
    return true;
}

bool sesp_delta_parse_date(const char *s, int64_t *days)
{
    int n;
    return parse_date(s, days, &n) && !s[n];
}

static json_t *date_json(int64_t days)
{
    int y;
    unsigned m, d;
    sesp_delta_civil_from_days(days, &y, &m, &d);
    char buf[32];
    snprintf(buf, sizeof(buf), "%04d-%02u-%02u", y, m, d);
    return json_string(buf);
}

static json_t *ts_json(int64_t us, bool utc)
{
    int64_t days = us >= 0 ? us / 86400000000LL : -((-us + 86400000000LL - 1) / 86400000000LL);
    int64_t rem = us - days * 86400000000LL;
    int y;
    unsigned m, d;
    sesp_delta_civil_from_days(days, &y, &m, &d);
    char buf[64];
    snprintf(buf, sizeof(buf), "%04d-%02u-%02uT%02d:%02d:%02d.%06d%s", y, m, d, (int)(rem / 3600000000LL),
             (int)(rem / 60000000LL % 60), (int)(rem / 1000000LL % 60), (int)(rem % 1000000LL), utc ? "Z" : "");
    return json_string(buf);
}

/* The conversions json_to_pq applies, shared with the per-file stats so
 * that both accept exactly the same inputs and agree on their values. */
bool sesp_delta_json_to_days(const json_t *v, int64_t *days)
{
    int64_t x;
    if (json_is_integer(v)) x = json_integer_value(v);
    else if (!json_is_string(v) || !sesp_delta_parse_date(json_string_value(v), &x)) return false;
    if (x < INT32_MIN || x > INT32_MAX) return false;
    *days = x;
    return true;
}

bool sesp_delta_json_to_micros(const json_t *v, int64_t *micros)
{
    if (json_is_integer(v)) { *micros = json_integer_value(v); return true; }
    return json_is_string(v) && sesp_delta_parse_timestamp(json_string_value(v), micros);
}

static json_t *decimal_json(sesp_delta_dec x, int scale)
{
    char out[SESP_DELTA_DEC_TEXT];
    sesp_delta_decimal_text(x, scale, out, sizeof(out));
    return json_string(out);
}

static int wrong(char *err, size_t errlen, const char *col, const sesp_delta_type *t, const char *why)
{
    snprintf(err, errlen, "column %s: %s (column type %s)", col, why, sesp_delta_kind_name(t->kind));
    return SESP_ERR_INVALID_ARG;
}

int sesp_delta_json_to_pq(const sesp_delta_type *t, bool nullable, const json_t *v, const char *col,
                          sesp_arena *a, sesp_pq_value *out, char *err, size_t errlen)
{
    if (!v || json_is_null(v)) {
        if (!nullable) return wrong(err, errlen, col, t, "null in a non-nullable column");
        *out = sesp_pqv_null();
        return 0;
    }
    int64_t x;
    switch (t->kind) {
    case SESP_DT_STRING:
        if (!json_is_string(v)) return wrong(err, errlen, col, t, "expected a string");
        *out = sesp_pqv_bytes(json_string_value(v), json_string_length(v));
        return 0;
    case SESP_DT_BINARY: {
        if (!json_is_string(v)) return wrong(err, errlen, col, t, "expected a base64 string");
        size_t n = json_string_length(v);
        uint8_t *buf = sesp_arena_alloc(a, n / 4 * 3 + 4);
        if (!buf) return SESP_ERR_NOMEM;
        int got = n ? EVP_DecodeBlock(buf, (const unsigned char *)json_string_value(v), (int)n) : 0;
        if (got < 0 || n % 4) return wrong(err, errlen, col, t, "invalid base64");
        const char *s = json_string_value(v);
        if (n >= 1 && s[n - 1] == '=') got--;
        if (n >= 2 && s[n - 2] == '=') got--;
        *out = sesp_pqv_bytes(buf, (size_t)got);
        return 0;
    }
    case SESP_DT_LONG:
    case SESP_DT_INTEGER:
    case SESP_DT_SHORT:
    case SESP_DT_BYTE: {
        if (!json_is_integer(v)) return wrong(err, errlen, col, t, "expected an integer");
        x = json_integer_value(v);
        int64_t lo = t->kind == SESP_DT_INTEGER ? INT32_MIN : t->kind == SESP_DT_SHORT ? INT16_MIN : t->kind == SESP_DT_BYTE ? INT8_MIN : INT64_MIN;
        int64_t hi = t->kind == SESP_DT_INTEGER ? INT32_MAX : t->kind == SESP_DT_SHORT ? INT16_MAX : t->kind == SESP_DT_BYTE ? INT8_MAX : INT64_MAX;
        if (x < lo || x > hi) return wrong(err, errlen, col, t, "integer out of range");
        *out = t->kind == SESP_DT_LONG ? sesp_pqv_i64(x) : sesp_pqv_i32((int32_t)x);
        return 0;
    }
    case SESP_DT_FLOAT:
    case SESP_DT_DOUBLE:
        if (!json_is_number(v)) return wrong(err, errlen, col, t, "expected a number");
        if (t->kind == SESP_DT_FLOAT && fabs(json_number_value(v)) > FLT_MAX) return wrong(err, errlen, col, t, "number out of range");
        *out = t->kind == SESP_DT_FLOAT ? sesp_pqv_float((float)json_number_value(v)) : sesp_pqv_double(json_number_value(v));
        return 0;
    case SESP_DT_BOOLEAN:
        if (!json_is_boolean(v)) return wrong(err, errlen, col, t, "expected a boolean");
        *out = sesp_pqv_bool(json_is_true(v));
        return 0;
    case SESP_DT_DATE:
        /* a five-digit year stays far inside int32 days: only integers overflow */
        if (!sesp_delta_json_to_days(v, &x))
            return wrong(err, errlen, col, t, json_is_integer(v) ? "date out of range" : "expected a YYYY-MM-DD date");
        *out = sesp_pqv_i32((int32_t)x);
        return 0;
    case SESP_DT_TIMESTAMP:
    case SESP_DT_TIMESTAMP_NTZ:
        if (!sesp_delta_json_to_micros(v, &x)) return wrong(err, errlen, col, t, "expected an ISO-8601 timestamp or microseconds");
        *out = sesp_pqv_i64(x);
        return 0;
    case SESP_DT_DECIMAL: {
        sesp_delta_dec d;
        if (!sesp_delta_json_to_decimal(v, t->precision, t->scale, &d)) {
            snprintf(err, errlen, "column %s: not a decimal that fits decimal(%d,%d) (at most %d integer and %d fraction digits, no rounding)",
                     col, t->precision, t->scale, t->precision - t->scale, t->scale);
            return SESP_ERR_INVALID_ARG;
        }
        if (t->precision <= 9) *out = sesp_pqv_i32((int32_t)d);
        else if (t->precision <= 18) *out = sesp_pqv_i64((int64_t)d);
        else {
            int w = sesp_delta_decimal_width(t->precision);
            uint8_t *be = sesp_arena_alloc(a, (size_t)w);
            if (!be) return SESP_ERR_NOMEM;
            sesp_delta_decimal_to_be(d, be, w);
            *out = sesp_pqv_bytes(be, (size_t)w);
        }
        return 0;
    }
    case SESP_DT_STRUCT: {
        if (!json_is_object(v)) return wrong(err, errlen, col, t, "expected an object");
        const char *k;
        const json_t *cv;
        json_object_foreach((json_t *)v, k, cv) {
            if (!sesp_delta_struct_field(t, k)) {
                snprintf(err, errlen, "column %s%s%s is not in the table schema", col, *col ? "." : "", k);
                return SESP_ERR_INVALID_ARG;
            }
        }
        sesp_pq_value *kids = sesp_arena_calloc(a, t->nfields + 1, sizeof(*kids));
        if (!kids) return SESP_ERR_NOMEM;
        for (size_t i = 0; i < t->nfields; i++) {
            char sub[256];
            snprintf(sub, sizeof(sub), "%s%s%s", col, *col ? "." : "", t->fields[i].name);
            int rc = sesp_delta_json_to_pq(t->fields[i].type, t->fields[i].nullable, json_object_get(v, t->fields[i].name), sub, a, &kids[i], err, errlen);
            if (rc) return rc;
        }
        *out = sesp_pqv_group(kids, t->nfields);
        return 0;
    }
    case SESP_DT_ARRAY: {
        if (!json_is_array(v)) return wrong(err, errlen, col, t, "expected an array");
        size_t n = json_array_size(v);
        sesp_pq_value *items = sesp_arena_calloc(a, n + 1, sizeof(*items));
        if (!items) return SESP_ERR_NOMEM;
        for (size_t i = 0; i < n; i++) {
            int rc = sesp_delta_json_to_pq(t->element, t->contains_null, json_array_get(v, i), col, a, &items[i], err, errlen);
            if (rc) return rc;
        }
        *out = sesp_pqv_list(items, n);
        return 0;
    }
    case SESP_DT_MAP: {
        if (!json_is_object(v)) return wrong(err, errlen, col, t, "expected an object");
        if (t->key->kind != SESP_DT_STRING) return wrong(err, errlen, col, t, "only string map keys can come from JSON");
        size_t n = json_object_size(v), i = 0;
        sesp_pq_value *items = sesp_arena_calloc(a, n + 1, sizeof(*items));
        sesp_pq_value *kv = sesp_arena_calloc(a, 2 * n + 2, sizeof(*kv));
        if (!items || !kv) return SESP_ERR_NOMEM;
        const char *k;
        const json_t *cv;
        json_object_foreach((json_t *)v, k, cv) {
            kv[2 * i] = sesp_pqv_bytes(k, strlen(k));
            int rc = sesp_delta_json_to_pq(t->value, t->value_contains_null, cv, col, a, &kv[2 * i + 1], err, errlen);
            if (rc) return rc;
            items[i] = sesp_pqv_group(&kv[2 * i], 2);
            i++;
        }
        *out = sesp_pqv_list(items, n);
        return 0;
    }
    }
    return SESP_ERR_INVALID_ARG;
}

static json_t *b64_json(const sesp_pq_bytes *b)
{
    char *out = malloc((size_t)b->len / 3 * 4 + 8);
    if (!out) return NULL;
    EVP_EncodeBlock((unsigned char *)out, b->p, (int)b->len);
    json_t *j = json_string(out);
    free(out);
    return j;
}

/* ---- files written before a type change ---- */

/* The node holding the items of list or map node id, as the Parquet reader
 * assembles them (LogicalTypes.md, with its backward-compatibility rules):
 * the element of a 3-level list, else the repeated node itself (a map's
 * key_value group, a 2-level list's element, a bare repeated field); -1 for
 * anything else. */
static int items_node(const sesp_pq_schema *ps, int id)
{
    const sesp_pq_node *n = id >= 0 ? sesp_pq_schema_node(ps, id) : NULL;
    if (!n) return -1;
    if (n->repetition == SESP_PQ_REPEATED) return id;
    if (!n->is_group || n->nchildren != 1 || (n->logical.kind != SESP_PQ_LT_LIST && n->logical.kind != SESP_PQ_LT_MAP)) return -1;
    const sesp_pq_node *c = sesp_pq_schema_node(ps, n->children[0]);
    if (!c || c->repetition != SESP_PQ_REPEATED) return -1;
    if (n->logical.kind == SESP_PQ_LT_LIST && c->is_group && c->nchildren == 1 && strcmp(c->name, "array")) {
        char tuple[512];
        snprintf(tuple, sizeof(tuple), "%s_tuple", n->name);
        if (strcmp(c->name, tuple)) return c->children[0];
    }
    return n->children[0];
}

/* Child i of group node id (structs are matched by position, as values
 * are), or -1. */
static int child_node(const sesp_pq_schema *ps, int id, size_t i)
{
    const sesp_pq_node *n = id >= 0 ? sesp_pq_schema_node(ps, id) : NULL;
    return n && n->is_group && i < (size_t)n->nchildren ? n->children[i] : -1;
}

/* The scale of a decimal column's unscaled values in a file: its DECIMAL
 * annotation's (older than a scale increase: smaller than the table's), 0
 * for plain signed integers (a column widened from byte, short, integer or
 * long); -1 when the file's type holds no decimal. */
static int file_scale(const sesp_pq_schema *ps, int id)
{
    const sesp_pq_node *n = id >= 0 ? sesp_pq_schema_node(ps, id) : NULL;
    if (!n || n->is_group) return -1;
    if (n->logical.kind == SESP_PQ_LT_DECIMAL) return n->logical.scale;
    bool plain = n->logical.kind == SESP_PQ_LT_NONE || (n->logical.kind == SESP_PQ_LT_INT && n->logical.is_signed);
    return plain && (n->physical == SESP_PQ_INT32 || n->physical == SESP_PQ_INT64) ? 0 : -1;
}

static int check_type(const sesp_delta_type *t, const sesp_pq_schema *ps, int node, const char *col, int depth,
                      char *err, size_t errlen)
{
    if (node < 0 || !t || depth > 64) return 0;   /* nothing of the file is read there */
    char sub[256];
    switch (t->kind) {
    case SESP_DT_DECIMAL: {
        const sesp_pq_node *n = sesp_pq_schema_node(ps, node);
        int fs = file_scale(ps, node);
        if (fs < 0) {
            snprintf(err, errlen, "column %s: the file's %s is not a decimal or an integer (column type decimal(%d,%d))", col,
                     n && n->is_group ? "group" : "column", t->precision, t->scale);
            return SESP_ERR_MALFORMED;
        }
        if (fs > t->scale) {
            /* no type change lowers a scale: rescaling would cut digits */
            snprintf(err, errlen, "column %s: the file holds decimals of scale %d, above the column's decimal(%d,%d)", col,
                     fs, t->precision, t->scale);
            return SESP_ERR_MALFORMED;
        }
        return 0;
    }
    case SESP_DT_STRUCT:
        for (size_t i = 0; i < t->nfields; i++) {
            snprintf(sub, sizeof(sub), "%s.%s", col, t->fields[i].name);
            int rc = check_type(t->fields[i].type, ps, child_node(ps, node, i), sub, depth + 1, err, errlen);
            if (rc) return rc;
        }
        return 0;
    case SESP_DT_ARRAY:
        return check_type(t->element, ps, items_node(ps, node), col, depth + 1, err, errlen);
    case SESP_DT_MAP: {
        int kv = items_node(ps, node);
        int rc = check_type(t->key, ps, child_node(ps, kv, 0), col, depth + 1, err, errlen);
        return rc ? rc : check_type(t->value, ps, child_node(ps, kv, 1), col, depth + 1, err, errlen);
    }
    default:
        return 0;
    }
}

int sesp_delta_pq_check_file_type(const sesp_delta_type *t, const sesp_pq_schema *ps, int node, const char *col,
                                  char *err, size_t errlen)
{
    return check_type(t, ps, node, col, 0, err, errlen);
}

json_t *sesp_delta_pq_to_json(const sesp_delta_type *t, const sesp_pq_schema *ps, int node, const sesp_pq_value *v)
{
    if (!v || v->kind == SESP_PQV_NULL) return json_null();
    switch (t->kind) {
    case SESP_DT_STRING:
        if (v->kind != SESP_PQV_BYTES) break;
        {
            json_t *s = json_stringn((const char *)v->u.bytes.p, v->u.bytes.len);
            return s ? s : json_null();   /* invalid UTF-8 in the file */
        }
    case SESP_DT_BINARY:
        if (v->kind != SESP_PQV_BYTES) break;
        return b64_json(&v->u.bytes);
    case SESP_DT_LONG:
    case SESP_DT_TIMESTAMP:
    case SESP_DT_TIMESTAMP_NTZ:
        if (v->kind == SESP_PQV_INT64) return t->kind == SESP_DT_LONG ? json_integer(v->u.i64) : ts_json(v->u.i64, t->kind == SESP_DT_TIMESTAMP);
        /* a widened column read from a file older than the change: byte,
         * short or integer into long, a date into timestamp_ntz (midnight) */
        if (v->kind == SESP_PQV_INT32 && t->kind == SESP_DT_LONG) return json_integer(v->u.i32);
        if (v->kind == SESP_PQV_INT32 && t->kind == SESP_DT_TIMESTAMP_NTZ) return ts_json((int64_t)v->u.i32 * 86400000000LL, false);
        break;
    case SESP_DT_INTEGER:
    case SESP_DT_SHORT:
    case SESP_DT_BYTE:
        if (v->kind == SESP_PQV_INT32) return json_integer(v->u.i32);
        break;
    case SESP_DT_FLOAT:
    case SESP_DT_DOUBLE:
        if (v->kind == SESP_PQV_FLOAT) return isfinite(v->u.f) ? json_real(v->u.f) : json_null();
        if (v->kind == SESP_PQV_DOUBLE) return isfinite(v->u.d) ? json_real(v->u.d) : json_null();
        /* widened from byte, short or integer: older files hold INT32 */
        if (v->kind == SESP_PQV_INT32 && t->kind == SESP_DT_DOUBLE) return json_real(v->u.i32);
        break;
    case SESP_DT_BOOLEAN:
        if (v->kind == SESP_PQV_BOOL) return json_boolean(v->u.b);
        break;
    case SESP_DT_DATE:
        if (v->kind == SESP_PQV_INT32) return date_json(v->u.i32);
        break;
    case SESP_DT_DECIMAL: {
        /* The unscaled value is at the file's scale: the table's, or a
         * smaller one in a file older than a scale increase (0 for an
         * integer column widened to decimal), raised to the table's.  A value
         * beyond the precision (a corrupt or mislabelled file) is not one of
         * the column's values; sesp_delta_pq_check_file_type has already
         * refused files whose scale cannot be right. */
        int fs = file_scale(ps, node);
        sesp_delta_dec d;
        if (fs < 0 || fs > t->scale) break;
        if (v->kind == SESP_PQV_INT32) d = v->u.i32;
        else if (v->kind == SESP_PQV_INT64) d = v->u.i64;
        else if (v->kind != SESP_PQV_BYTES || !sesp_delta_decimal_from_be(v->u.bytes.p, v->u.bytes.len, &d)) break;
        if (!sesp_delta_decimal_rescale(&d, t->scale - fs, t->precision)) break;
        return decimal_json(d, t->scale);
    }
    case SESP_DT_STRUCT: {
        if (v->kind != SESP_PQV_GROUP) break;
        json_t *o = json_object();
        for (size_t i = 0; i < t->nfields; i++)
            json_object_set_new(o, t->fields[i].name,
                                i < v->u.group.n ? sesp_delta_pq_to_json(t->fields[i].type, ps, child_node(ps, node, i), &v->u.group.v[i]) : json_null());
        return o;
    }
    case SESP_DT_ARRAY: {
        if (v->kind != SESP_PQV_LIST) break;
        json_t *arr = json_array();
        int en = items_node(ps, node);
        for (size_t i = 0; i < v->u.list.n; i++) json_array_append_new(arr, sesp_delta_pq_to_json(t->element, ps, en, &v->u.list.v[i]));
        return arr;
    }
    case SESP_DT_MAP: {
        if (v->kind != SESP_PQV_LIST) break;
        json_t *o = json_object();
        int kvn = items_node(ps, node), kn = child_node(ps, kvn, 0), vn = child_node(ps, kvn, 1);
        for (size_t i = 0; i < v->u.list.n; i++) {
            const sesp_pq_value *kv = &v->u.list.v[i];
            if (kv->kind != SESP_PQV_GROUP || kv->u.group.n != 2) continue;
            json_t *k = sesp_delta_pq_to_json(t->key, ps, kn, &kv->u.group.v[0]);
            if (json_is_string(k)) json_object_set_new(o, json_string_value(k), sesp_delta_pq_to_json(t->value, ps, vn, &kv->u.group.v[1]));
            json_decref(k);
        }
        return o;
    }
    }
    return json_null();   /* the file's value does not match the table type */
}

json_t *sesp_delta_partition_value_to_json(const sesp_delta_type *type, const char *value)
{
    if (!value) return json_null();
    char *end;
    switch (type->kind) {
    case SESP_DT_LONG:
    case SESP_DT_INTEGER:
    case SESP_DT_SHORT:
    case SESP_DT_BYTE: {
        long long x = strtoll(value, &end, 10);
        return *value && !*end ? json_integer(x) : json_null();
    }
    case SESP_DT_FLOAT:
    case SESP_DT_DOUBLE: {
        double d = strtod(value, &end);
        return *value && !*end ? json_real(d) : json_null();
    }
    case SESP_DT_BOOLEAN: return !strcmp(value, "true") ? json_true() : !strcmp(value, "false") ? json_false() : json_null();
    case SESP_DT_TIMESTAMP:
    case SESP_DT_TIMESTAMP_NTZ: {
        int64_t us;
        return sesp_delta_parse_timestamp(value, &us) ? ts_json(us, type->kind == SESP_DT_TIMESTAMP) : json_string(value);
    }
    case SESP_DT_DECIMAL: {
        /* at the column's scale, as data values are: a file committed
         * before a scale increase (or while the column was an integer) has
         * its value written at the older scale */
        json_t *s = json_string(value);
        sesp_delta_dec d;
        bool ok = s && sesp_delta_json_to_decimal(s, type->precision, type->scale, &d);
        json_decref(s);
        return ok ? decimal_json(d, type->scale) : json_string(value);
    }
    default: return json_string(value);
    }
}
