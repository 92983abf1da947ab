/*
 * Exact JSON numbers for `sesp table append|merge` input.  jansson holds an
 * integer as int64 (and refuses the whole line beyond that) and any other
 * number as a double, but a decimal(38,18) column needs the digits as
 * written: 12345678901234567890.123456789 would arrive rounded.  So number
 * literals that jansson cannot hold exactly are turned, before parsing, into
 * marker strings (a NUL, which jansson only lets through when asked, then
 * the literal), and once the rows are parsed each marker becomes what the
 * table's column needs: the literal as a string for decimal columns (which
 * take decimal strings), a double anywhere else, as jansson would have
 * given it (an integer beyond int64 then fails the column's own type check
 * instead of the whole line's parse).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "json_numbers.h"

#define MAX_DEPTH 64

/* The digits of literal s without sign, leading or trailing zeros, and the
 * power of ten they stand at, as "digits e" text for comparison. */
static void normalize(const char *s, size_t n, char *out, size_t cap)
{
    char dig[64];
    size_t nd = 0;
    long frac = 0, exp = 0;
    bool dot = false;
    size_t i = 0;
    if (i < n && (s[i] == '-' || s[i] == '+')) i++;
    for (; i < n && s[i] != 'e' && s[i] != 'E'; i++) {
        if (s[i] == '.') { dot = true; continue; }
        if (dot) frac++;
        if (nd == 0 && s[i] == '0') continue;
        if (nd == sizeof(dig) - 1) {
            /* more digits than any double prints: never the double's text */
            snprintf(out, cap, "long");
            return;
        }
        dig[nd++] = s[i];
    }
    if (i < n) {
        /* clamped: strtol saturates at LONG_MIN/MAX, and the arithmetic below
         * must not overflow (a double's exponent is within +-400 anyway) */
        exp = strtol(s + i + 1, NULL, 10);
        if (exp > 100000) exp = 100000;
        if (exp < -100000) exp = -100000;
    }
    while (nd && dig[nd - 1] == '0') { nd--; exp++; }
    dig[nd] = 0;
    snprintf(out, cap, "%s%s e%ld", s[0] == '-' && nd ? "-" : "", dig, nd ? exp - frac : 0);
}

/* Whether s[0..n) is a JSON number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?
 * Anything else is left for jansson to refuse. */
static bool json_number(const char *s, size_t n)
{
    size_t i = 0, d;
    if (i < n && s[i] == '-') i++;
    if (i < n && s[i] == '0') i++;
    else {
        for (d = i; i < n && s[i] >= '0' && s[i] <= '9'; i++) {}
        if (i == d) return false;
    }
    if (i < n && s[i] == '.') {
        for (d = ++i; i < n && s[i] >= '0' && s[i] <= '9'; i++) {}
        if (i == d) return false;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        for (d = i; i < n && s[i] >= '0' && s[i] <= '9'; i++) {}
        if (i == d) return false;
    }
    return i == n;
}

/* Whether jansson would hold the number literal s[0..n) exactly. */
static bool exact_in_jansson(const char *s, size_t n)
{
    char lit[400], text[40], a[100], b[100];
    if (n >= sizeof(lit)) return false;
    memcpy(lit, s, n);
    lit[n] = 0;
    if (!memchr(s, '.', n) && !memchr(s, 'e', n) && !memchr(s, 'E', n)) {
        errno = 0;
        (void)strtoll(lit, NULL, 10);
        return errno != ERANGE;
    }
    double d = strtod(lit, NULL);
    if (!isfinite(d)) return false;
    /* the shortest text that reads back as d is what a decimal column gets */
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(text, sizeof(text), "%.*g", prec, d);
        if (strtod(text, NULL) == d) break;
    }
    normalize(lit, n, a, sizeof(a));
    normalize(text, strlen(text), b, sizeof(b));
    return !strcmp(a, b);
}

int sesp_tcli_mark_numbers(const char *line, size_t n, char **out, size_t *outlen)
{
    *out = NULL;
    *outlen = 0;
    char *buf = NULL;
    size_t len = 0, done = 0;   /* line[0..done) is copied into buf */
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        char c = line[i];
        if (in_str) {
            if (c == '\\') {
                /* a NUL of the input itself would pass as a marker */
                if (i + 5 < n && line[i + 1] == 'u' && !strncmp(line + i + 2, "0000", 4)) goto refuse;
                i++;
            } else if (c == '"') in_str = false;
            continue;
        }
        if (c == '"') { in_str = true; continue; }
        if (c != '-' && (c < '0' || c > '9')) continue;
        size_t j = i + 1;
        while (j < n && ((line[j] >= '0' && line[j] <= '9') || line[j] == '.' || line[j] == 'e' || line[j] == 'E' ||
                         line[j] == '+' || line[j] == '-'))
            j++;
        if (json_number(line + i, j - i) && !exact_in_jansson(line + i, j - i)) {
            /* worst case every byte becomes a marker: "\u0000" plus quotes */
            if (!buf && !(buf = malloc(n * 9 + 1))) return SESP_ERR_NOMEM;
            memcpy(buf + len, line + done, i - done);
            len += i - done;
            memcpy(buf + len, "\"\\u0000", 7);
            len += 7;
            memcpy(buf + len, line + i, j - i);
            len += j - i;
            buf[len++] = '"';
            done = j;
        }
        i = j - 1;
    }
    if (!buf) return 0;
    memcpy(buf + len, line + done, n - done);
    len += n - done;
    buf[len] = 0;
    *out = buf;
    *outlen = len;
    return 0;
refuse:
    free(buf);
    return SESP_ERR_INVALID_ARG;
}

static bool is_marker(const json_t *v) { return json_is_string(v) && json_string_length(v) > 1 && json_string_value(v)[0] == 0; }

/* The value a marker becomes in a column of type t (NULL: not in the table). */
static json_t *resolve(const json_t *v, const sesp_delta_type *t)
{
    const char *lit = json_string_value(v) + 1;
    if (t && t->kind == SESP_DT_DECIMAL) return json_string(lit);
    json_t *r = json_real(strtod(lit, NULL));
    /* beyond a double: the literal as text, which the column then refuses by name */
    return r ? r : json_string(lit);
}

static int walk(json_t *v, const sesp_delta_type *t, int depth)
{
    if (depth > MAX_DEPTH) return 0;   /* the table layer refuses such depth by itself */
    if (json_is_object(v)) {
        const char *k;
        json_t *x;
        json_object_foreach(v, k, x) {
            const sesp_delta_type *sub = NULL;
            if (t && t->kind == SESP_DT_STRUCT) {
                const sesp_delta_field *f = sesp_delta_struct_field(t, k);
                sub = f ? f->type : NULL;
            } else if (t && t->kind == SESP_DT_MAP) sub = t->value;
            if (is_marker(x)) {
                json_t *r = resolve(x, sub);
                if (!r || json_object_set_new(v, k, r)) return SESP_ERR_NOMEM;
            } else {
                int rc = walk(x, sub, depth + 1);
                if (rc) return rc;
            }
        }
    } else if (json_is_array(v)) {
        const sesp_delta_type *sub = t && t->kind == SESP_DT_ARRAY ? t->element : NULL;
        for (size_t i = 0; i < json_array_size(v); i++) {
            json_t *x = json_array_get(v, i);
            if (is_marker(x)) {
                json_t *r = resolve(x, sub);
                if (!r || json_array_set_new(v, i, r)) return SESP_ERR_NOMEM;
            } else {
                int rc = walk(x, sub, depth + 1);
                if (rc) return rc;
            }
        }
    }
    return 0;
}

int sesp_tcli_resolve_numbers(json_t *row, const sesp_delta_type *schema) { return walk(row, schema, 0); }
