/*
 * Per-file statistics of add actions (PROTOCOL.md, "Per-file Statistics"):
 * numRecords, a nullCount for every leaf column of the data (partition
 * columns are not in the file), and minValues/maxValues for the types Spark
 * keeps them for: byte, short, integer, long, float, double, decimal, date,
 * timestamp, timestamp_ntz and string.  Boolean, binary, arrays and maps get
 * a nullCount only, as with Spark.  Only the leaves the table's
 * delta.dataSkippingNumIndexedCols / delta.dataSkippingStatsColumns select
 * (stats_cols.c) get any of these; numRecords is always written.
 *
 * Readers skip whole files on these bounds, so a bound that is too tight
 * loses rows while a loose one only costs a read: every bound written here
 * holds for the values as stored.  Values are compared after the conversion
 * pq.c applies when writing them (never as their JSON text), and where the
 * format cannot carry the exact value the bound is widened (timestamps,
 * long strings) or left out.  The JSON text is built here rather than with
 * jansson because decimal bounds must be exact numbers, and jansson holds
 * numbers that are not integers as doubles.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/err.h"
#include "delta_impl.h"

typedef struct col_stat {
    int64_t nulls;
    char *min, *max;   /* JSON text of the bounds (malloc'ed), NULL for none */
    bool off;          /* not an indexed column (stats_cols.c): no stats at all */
} col_stat;

typedef struct stats_ctx {
    col_stat *cols;    /* one per leaf column, in schema order */
    size_t n, cap;
    int prefix;        /* string bounds keep at most this many code points */
    const sesp_delta_stats_cols *sel;   /* which leaves get stats, NULL: all */
} stats_ctx;

int sesp_delta_stats_prefix_length(const sesp_delta_map *config)
{
    const char *v = config ? sesp_delta_map_get(config, "delta.dataSkippingStringPrefixLength", NULL) : NULL;
    char *end;
    long n = v ? strtol(v, &end, 10) : 0;
    return v && *v && !*end && n > 0 && n <= 1000000 ? (int)n : SESP_DELTA_STATS_PREFIX_DEFAULT;
}

/* ---- JSON text of one bound ---- */

/* The JSON text of j (a new reference, stolen); NULL only when out of memory. */
static char *json_text(json_t *j)
{
    char *s = j ? json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT) : NULL;
    json_decref(j);
    return s;
}

static char *string_text(const char *s, size_t len) { return json_text(json_stringn(s, len)); }

/* ---- strings ---- */

/* Decodes the code point at s (n bytes left): its length, or 0 if the bytes
 * are not UTF-8 (jansson validates strings, so this is only a guard). */
static size_t utf8_next(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (!n) return 0;
    if (s[0] < 0x80) { *cp = s[0]; return 1; }
    size_t len = s[0] >= 0xF0 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC0 ? 2 : 0;
    if (!len || len > n || s[0] > 0xF4) return 0;
    uint32_t c = s[0] & (0x7F >> len);
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        c = c << 6 | (s[i] & 0x3F);
    }
    static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < least[len] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    *cp = c;
    return len;
}

static size_t utf8_put(uint32_t c, char *out)
{
    if (c < 0x80) { out[0] = (char)c; return 1; }
    if (c < 0x800) { out[0] = (char)(0xC0 | c >> 6); out[1] = (char)(0x80 | (c & 0x3F)); return 2; }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | c >> 12);
        out[1] = (char)(0x80 | (c >> 6 & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | c >> 18);
    out[1] = (char)(0x80 | (c >> 12 & 0x3F));
    out[2] = (char)(0x80 | (c >> 6 & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* Byte length of the first max_cp code points of s; SIZE_MAX if s is not
 * UTF-8 within them. */
static size_t utf8_prefix(const char *s, size_t len, int max_cp)
{
    size_t off = 0;
    for (int i = 0; i < max_cp && off < len; i++) {
        uint32_t c;
        size_t k = utf8_next((const unsigned char *)s + off, len - off, &c);
        if (!k) return SIZE_MAX;
        off += k;
    }
    return off;
}

/* The lower bound of strings whose least is s: its first prefix code points
 * (a prefix never sorts after the string). */
static int string_lower(const char *s, size_t len, int prefix, char **out)
{
    size_t cut = utf8_prefix(s, len, prefix);
    if (cut == SIZE_MAX) return 0;
    return (*out = string_text(s, cut)) ? 0 : SESP_ERR_NOMEM;
}

/* The upper bound of strings whose greatest is s.  Up to prefix code points
 * it is s itself.  Past that, the last code point c of the prefix that can
 * be increased becomes c + 1 and the rest is dropped: equal up to c and
 * greater at c, the bound sorts after s.  Spark instead appends U+FFFD, which
 * holds in UTF-16 order but not in UTF-8 byte order (the one Spark's own
 * string comparison and most readers use) when the next character is above
 * U+FFFF.  Increasing c keeps both orders right as long as c + 1 stays on
 * the same side of U+FFFF, so U+FFFF and U+10FFFF are never increased (and
 * U+D7FF moves to U+E000, past the surrogates).  A prefix made only of those
 * two gets no bound at all. */
static int string_upper(const char *s, size_t len, int prefix, char **out)
{
    size_t off = 0, at = SIZE_MAX;
    uint32_t last = 0;
    for (int i = 0; i < prefix && off < len; i++) {
        uint32_t c;
        size_t k = utf8_next((const unsigned char *)s + off, len - off, &c);
        if (!k) return 0;
        if (c != 0xFFFF && c != 0x10FFFF) { at = off; last = c; }
        off += k;
    }
    if (off == len) return (*out = string_text(s, len)) ? 0 : SESP_ERR_NOMEM;
    if (at == SIZE_MAX) return 0;
    char *buf = malloc(at + 4);
    if (!buf) return SESP_ERR_NOMEM;
    memcpy(buf, s, at);
    size_t n = at + utf8_put(last == 0xD7FF ? 0xE000 : last + 1, buf + at);
    *out = string_text(buf, n);
    free(buf);
    return *out ? 0 : SESP_ERR_NOMEM;
}

/* UTF-8 byte order, which is code point order; strings may hold NULs. */
static int cmp_bytes(const char *a, size_t al, const char *b, size_t bl)
{
    int c = memcmp(a, b, al < bl ? al : bl);
    return c ? c : (al > bl) - (al < bl);
}

static int string_bounds(const json_t *const *vals, size_t n, int prefix, col_stat *cs)
{
    const json_t *lo = NULL, *hi = NULL;
    for (size_t i = 0; i < n; i++) {
        const json_t *v = vals[i];
        if (!v || json_is_null(v)) continue;
        if (!json_is_string(v)) return 0;
        if (!lo || cmp_bytes(json_string_value(v), json_string_length(v), json_string_value(lo), json_string_length(lo)) < 0) lo = v;
        if (!hi || cmp_bytes(json_string_value(v), json_string_length(v), json_string_value(hi), json_string_length(hi)) > 0) hi = v;
    }
    if (!lo) return 0;
    int rc = string_lower(json_string_value(lo), json_string_length(lo), prefix, &cs->min);
    return rc ? rc : string_upper(json_string_value(hi), json_string_length(hi), prefix, &cs->max);
}

/* ---- floating point ---- */

static int real_bounds(const sesp_delta_type *ty, const json_t *const *vals, size_t n, col_stat *cs)
{
    double lo = 0, hi = 0;
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        const json_t *v = vals[i];
        if (!v || json_is_null(v)) continue;
        if (!json_is_number(v)) return 0;
        double d = json_number_value(v);
        /* the bound of what the file holds: 0.1 is stored as the float
         * 0.100000001490116..., above the double 0.1 */
        if (ty->kind == SESP_DT_FLOAT) d = (double)(float)d;
        if (!any || d < lo) lo = d;
        if (!any || d > hi) hi = d;
        any = true;
    }
    if (!any) return 0;
    /* %.17g round-trips a double exactly, so the bound is the stored value */
    if (!(cs->min = json_text(json_real(lo))) || !(cs->max = json_text(json_real(hi)))) return SESP_ERR_NOMEM;
    return 0;
}

/* ---- integers, decimals, dates, timestamps: compared as integers ---- */

/* The value as pq.c stores it: the integer, the unscaled decimal, days since
 * the epoch or microseconds since the epoch.  128 bits, for the unscaled
 * values of decimals of up to 38 digits. */
static bool int_key(const sesp_delta_type *ty, const json_t *v, sesp_delta_dec *k)
{
    int64_t x;
    switch (ty->kind) {
    case SESP_DT_DECIMAL: return sesp_delta_json_to_decimal(v, ty->precision, ty->scale, k);
    case SESP_DT_DATE:
        if (!sesp_delta_json_to_days(v, &x)) return false;
        *k = x;
        return true;
    case SESP_DT_TIMESTAMP:
    case SESP_DT_TIMESTAMP_NTZ:
        if (!sesp_delta_json_to_micros(v, &x)) return false;
        *k = x;
        return true;
    case SESP_DT_LONG:
    case SESP_DT_INTEGER:
    case SESP_DT_SHORT:
    case SESP_DT_BYTE:
        if (!json_is_integer(v)) return false;
        *k = json_integer_value(v);
        return true;
    default: return false;
    }
}

static int64_t floor_div(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

/* Readers parse dates and timestamps in stats as four-digit years: outside
 * 0001-9999 no bound is written. */
static bool civil_in_range(int64_t days, int *y, unsigned *m, unsigned *d)
{
    if (days < -719162 || days > 2932896) return false;   /* 0001-01-01, 9999-12-31 */
    sesp_delta_civil_from_days(days, y, m, d);
    return true;
}

/* Timestamp bounds as Spark writes them: milliseconds, "Z" for timestamp,
 * no zone for timestamp_ntz.  Spark truncates both bounds to milliseconds
 * (PROTOCOL.md: "Timestamp columns are truncated down to milliseconds"), so
 * a max of 03:04:05.123456 reads as .123, below the value; Delta's own
 * reader makes up for it by adding 1 ms to every max it reads, but other
 * readers may not.  Rounding the max up to the next millisecond instead is
 * right for both: it is a true upper bound by itself, and one that is 1 ms
 * looser for Delta. */
static int timestamp_text(int64_t us, bool upper, bool utc, char **out)
{
    int64_t ms = floor_div(us, 1000);
    if (upper && us % 1000) ms++;
    int64_t days = floor_div(ms, 86400000), rem = ms - days * 86400000;
    int y;
    unsigned m, d;
    if (!civil_in_range(days, &y, &m, &d)) return 0;
    char buf[48];
    snprintf(buf, sizeof(buf), "\"%04d-%02u-%02uT%02d:%02d:%02d.%03d%s\"", y, m, d, (int)(rem / 3600000), (int)(rem / 60000 % 60),
             (int)(rem / 1000 % 60), (int)(rem % 1000), utc ? "Z" : "");
    return (*out = strdup(buf)) ? 0 : SESP_ERR_NOMEM;
}

/* The JSON text of bound k of a column of type ty (upper: the max). */
static int int_text(const sesp_delta_type *ty, sesp_delta_dec k, bool upper, char **out)
{
    char buf[96];
    int y;
    unsigned m, d;
    switch (ty->kind) {
    case SESP_DT_TIMESTAMP:
    case SESP_DT_TIMESTAMP_NTZ: return timestamp_text((int64_t)k, upper, ty->kind == SESP_DT_TIMESTAMP, out);
    case SESP_DT_DATE:
        if (!civil_in_range((int64_t)k, &y, &m, &d)) return 0;
        snprintf(buf, sizeof(buf), "\"%04d-%02u-%02u\"", y, m, d);
        break;
    case SESP_DT_DECIMAL:
        /* a JSON number with the column's scale ("12.50"), as exact as the column */
        sesp_delta_decimal_text(k, ty->scale, buf, sizeof(buf));
        break;
    default: snprintf(buf, sizeof(buf), "%" PRId64, (int64_t)k); break;
    }
    return (*out = strdup(buf)) ? 0 : SESP_ERR_NOMEM;
}

static int int_bounds(const sesp_delta_type *ty, const json_t *const *vals, size_t n, col_stat *cs)
{
    sesp_delta_dec lo = 0, hi = 0;
    bool any = false;
    for (size_t i = 0; i < n; i++) {
        const json_t *v = vals[i];
        sesp_delta_dec k;
        if (!v || json_is_null(v)) continue;
        if (!int_key(ty, v, &k)) return 0;   /* rows are validated first: only a guard */
        if (!any || k < lo) lo = k;
        if (!any || k > hi) hi = k;
        any = true;
    }
    if (!any) return 0;
    int rc = int_text(ty, lo, false, &cs->min);
    return rc ? rc : int_text(ty, hi, true, &cs->max);
}

/* ---- collection ---- */

static int leaf_stats(stats_ctx *c, const sesp_delta_type *ty, const json_t *const *vals, size_t n)
{
    if (c->n == c->cap) {
        size_t nc = c->cap ? c->cap * 2 : 16;
        col_stat *ncols = realloc(c->cols, nc * sizeof(*ncols));
        if (!ncols) return SESP_ERR_NOMEM;
        c->cols = ncols;
        c->cap = nc;
    }
    col_stat *cs = &c->cols[c->n++];
    memset(cs, 0, sizeof(*cs));
    /* leaves are numbered here in the order stats_cols.c numbers them */
    if (c->sel && c->sel->leaf && (c->n > c->sel->nleaves || !c->sel->leaf[c->n - 1])) {
        cs->off = true;
        return 0;
    }
    for (size_t i = 0; i < n; i++) cs->nulls += !vals[i] || json_is_null(vals[i]);
    switch (ty->kind) {
    case SESP_DT_STRING: return string_bounds(vals, n, c->prefix, cs);
    case SESP_DT_FLOAT:
    case SESP_DT_DOUBLE: return real_bounds(ty, vals, n, cs);
    case SESP_DT_LONG:
    case SESP_DT_INTEGER:
    case SESP_DT_SHORT:
    case SESP_DT_BYTE:
    case SESP_DT_DECIMAL:
    case SESP_DT_DATE:
    case SESP_DT_TIMESTAMP:
    case SESP_DT_TIMESTAMP_NTZ: return int_bounds(ty, vals, n, cs);
    default: return 0;   /* boolean, binary, array, map: Spark keeps no bounds either */
    }
}

static bool skipped(const char *const *part, size_t npart, const char *name)
{
    for (size_t k = 0; k < npart; k++)
        if (!strcmp(part[k], name)) return true;
    return false;
}

/* vals[i]: row i's value of struct st (NULL or not an object: all fields null). */
static int collect(stats_ctx *c, const sesp_delta_type *st, const char *const *part, size_t npart,
                   const json_t *const *vals, size_t n)
{
    const json_t **sub = malloc((n + 1) * sizeof(*sub));
    if (!sub) return SESP_ERR_NOMEM;
    int rc = 0;
    for (size_t f = 0; f < st->nfields && !rc; f++) {
        const sesp_delta_field *fd = &st->fields[f];
        if (skipped(part, npart, fd->name)) continue;
        for (size_t i = 0; i < n; i++) sub[i] = json_is_object(vals[i]) ? json_object_get(vals[i], fd->name) : NULL;
        rc = fd->type->kind == SESP_DT_STRUCT ? collect(c, fd->type, NULL, 0, sub, n) : leaf_stats(c, fd->type, sub, n);
    }
    free(sub);
    return rc;
}

/* ---- the JSON text ---- */

enum section { SEC_MIN, SEC_MAX, SEC_NULLS };

static void put_str(sesp_bufw *w, const char *s) { sesp_bufw_put(w, s, strlen(s)); }

static void put_key(sesp_bufw *w, size_t count, const char *name)
{
    if (count) put_str(w, ",");
    char *k = string_text(name, strlen(name));
    if (!k) { w->err = SESP_ERR_NOMEM; return; }
    put_str(w, k);
    put_str(w, ":");
    free(k);
}

/* Writes the members of struct st for one section; *idx walks c->cols in the
 * order collect() filled it.  Returns the number of members written: structs
 * without any member are left out, as Spark does (without any bound from
 * minValues/maxValues, without any indexed leaf from all three). */
static size_t emit(const stats_ctx *c, const sesp_delta_type *st, const char *const *part, size_t npart,
                   enum section sec, size_t *idx, sesp_bufw *w)
{
    size_t count = 0;
    for (size_t f = 0; f < st->nfields; f++) {
        const sesp_delta_field *fd = &st->fields[f];
        if (skipped(part, npart, fd->name)) continue;
        if (fd->type->kind == SESP_DT_STRUCT) {
            sesp_bufw sub;
            sesp_bufw_init(&sub, 64, 0);
            size_t k = emit(c, fd->type, NULL, 0, sec, idx, &sub);
            if (sub.err) w->err = sub.err;
            if (k) {
                put_key(w, count++, fd->name);
                put_str(w, "{");
                sesp_bufw_put(w, sub.p, sub.len);
                put_str(w, "}");
            }
            sesp_bufw_free(&sub);
            continue;
        }
        const col_stat *cs = &c->cols[(*idx)++];
        if (cs->off) continue;
        if (sec == SEC_NULLS) {
            char num[32];
            snprintf(num, sizeof(num), "%" PRId64, cs->nulls);
            put_key(w, count++, fd->name);
            put_str(w, num);
        } else if (sec == SEC_MIN ? cs->min : cs->max) {
            put_key(w, count++, fd->name);
            put_str(w, sec == SEC_MIN ? cs->min : cs->max);
        }
    }
    return count;
}

int sesp_delta_file_stats(const sesp_delta_type *schema, const char *const *part, size_t npart, json_t *const *rows,
                          size_t n, int prefix, char **out)
{
    return sesp_delta_file_stats_cols(schema, part, npart, NULL, rows, n, prefix, out);
}

int sesp_delta_file_stats_cols(const sesp_delta_type *schema, const char *const *part, size_t npart,
                               const sesp_delta_stats_cols *cols, json_t *const *rows, size_t n, int prefix, char **out)
{
    *out = NULL;
    stats_ctx c = {.prefix = prefix > 0 ? prefix : SESP_DELTA_STATS_PREFIX_DEFAULT, .sel = cols};
    sesp_bufw w;
    sesp_bufw_init(&w, 256, 0);
    int rc = collect(&c, schema, part, npart, (const json_t *const *)rows, n);
    if (rc) goto out;
    char head[64];
    snprintf(head, sizeof(head), "{\"numRecords\":%zu", n);
    put_str(&w, head);
    static const char *const names[] = {",\"minValues\":{", ",\"maxValues\":{", ",\"nullCount\":{"};
    /* no indexed leaf at all: numRecords alone, as Spark writes it */
    bool any = false;
    for (size_t i = 0; i < c.n && !any; i++) any = !c.cols[i].off;
    for (int sec = SEC_MIN; sec <= SEC_NULLS && any; sec++) {
        size_t idx = 0;
        put_str(&w, names[sec]);
        emit(&c, schema, part, npart, (enum section)sec, &idx, &w);
        put_str(&w, "}");
    }
    put_str(&w, "}");
    sesp_bufw_put(&w, "", 1);
    if (w.err) { rc = SESP_ERR_NOMEM; goto out; }
    *out = (char *)sesp_bufw_steal(&w, NULL);
    if (!*out) rc = SESP_ERR_NOMEM;
out:
    for (size_t i = 0; i < c.n; i++) {
        free(c.cols[i].min);
        free(c.cols[i].max);
    }
    free(c.cols);
    sesp_bufw_free(&w);
    return rc;
}
