/*
 * Delta decimals as 128-bit unscaled integers: decimal(p,s) holds up to 38
 * digits, which a signed 128-bit integer always has room for (10^38 < 2^127).
 * Parsing JSON into the unscaled value is exact (no double in between for
 * strings and integers), and values are refused rather than rounded when
 * they have more fraction digits than the scale or more digits than the
 * precision.  The Parquet encodings follow LogicalTypes.md: INT32 up to
 * precision 9, INT64 up to 18 and beyond that FIXED_LEN_BYTE_ARRAY holding
 * the big-endian two's complement value in the fewest bytes the precision
 * needs, as Spark writes it.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "delta_impl.h"

__extension__ typedef unsigned __int128 u128;

static u128 pow10_u(int n)
{
    u128 x = 1;
    for (int i = 0; i < n; i++) x *= 10;
    return x;
}

bool sesp_delta_decimal_fits(sesp_delta_dec x, int precision)
{
    if (precision < 1 || precision > SESP_DELTA_DEC_MAX_PRECISION) return false;
    u128 m = pow10_u(precision);
    u128 ux = x < 0 ? (u128)0 - (u128)x : (u128)x;
    return ux < m;
}

int sesp_delta_decimal_width(int precision)
{
    if (precision < 1 || precision > SESP_DELTA_DEC_MAX_PRECISION) return 0;
    u128 m = pow10_u(precision);
    /* the fewest n bytes whose largest value 2^(8n-1) - 1 reaches 10^p - 1 */
    for (int n = 1; n < 16; n++)
        if (((u128)1 << (8 * n - 1)) >= m) return n;
    return 16;
}

bool sesp_delta_decimal_rescale(sesp_delta_dec *x, int up, int precision)
{
    if (up < 0 || precision < 1 || precision > SESP_DELTA_DEC_MAX_PRECISION) return false;
    /* checked before multiplying: |x| < 10^(precision - up) keeps the
     * product below 10^38, inside 128 bits */
    if (up >= precision) return *x == 0;
    if (!sesp_delta_decimal_fits(*x, precision - up)) return false;
    *x *= (sesp_delta_dec)pow10_u(up);
    return true;
}

void sesp_delta_decimal_to_be(sesp_delta_dec x, uint8_t *out, int width)
{
    u128 u = (u128)x;
    for (int i = width - 1; i >= 0; i--) {
        out[i] = (uint8_t)(u & 0xFF);
        u >>= 8;
    }
}

bool sesp_delta_decimal_from_be(const uint8_t *p, size_t len, sesp_delta_dec *x)
{
    if (!len) return false;
    /* Writers may pad to a wider width than the precision needs (DuckDB
     * uses 16 bytes for every decimal above 18 digits; BYTE_ARRAY decimals
     * can be longer still): leading bytes beyond 16 must be sign extension. */
    uint8_t ext = p[0] & 0x80 ? 0xFF : 0x00;
    size_t skip = len > 16 ? len - 16 : 0;
    for (size_t i = 0; i < skip; i++)
        if (p[i] != ext) return false;
    if (skip && (p[skip] & 0x80) != (ext & 0x80)) return false;
    u128 u = ext ? ~(u128)0 : 0;
    for (size_t i = skip; i < len; i++) u = u << 8 | p[i];
    *x = (sesp_delta_dec)u;
    return true;
}

void sesp_delta_decimal_text(sesp_delta_dec x, int scale, char *out, size_t cap)
{
    char digits[SESP_DELTA_DEC_TEXT];
    size_t n = 0;
    u128 u = x < 0 ? (u128)0 - (u128)x : (u128)x;
    if (scale < 0 || scale > SESP_DELTA_DEC_MAX_PRECISION) scale = 0;
    /* least significant digit first, at least scale + 1 of them ("0.05") */
    do {
        digits[n++] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u || n < (size_t)scale + 1);
    char text[SESP_DELTA_DEC_TEXT + 4];
    size_t k = 0;
    if (x < 0) text[k++] = '-';
    for (size_t i = n; i > 0; i--) {
        if (scale && i == (size_t)scale) text[k++] = '.';
        text[k++] = digits[i - 1];
    }
    text[k] = 0;
    snprintf(out, cap, "%s", text);
}

/* Exact decimal text of a double: the shortest digits that read back as the
 * same double.  A number written as 0.1 arrives here as the nearest double
 * (0.1000000000000000055...); printing it at the scale would make those
 * excess digits real, while the shortest round trip gives back what was
 * written for any literal of up to 15 significant digits. */
static void real_text(double d, char *buf, size_t cap)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, d);
        if (strtod(buf, NULL) == d) return;
    }
}

/* A decimal literal ([+-]digits[.digits][e[+-]digits]) split into its
 * significant digits (no leading or trailing zeros, at most 38: no decimal
 * holds more) and the power of ten they are multiplied by. */
typedef struct dec_lit {
    bool neg;
    int nsig;
    char sig[SESP_DELTA_DEC_MAX_PRECISION];
    long e;
} dec_lit;

static bool scan(const char *s, dec_lit *d)
{
    memset(d, 0, sizeof(*d));
    d->neg = *s == '-';
    if (*s == '-' || *s == '+') s++;
    int nfrac = 0;
    long zeros = 0;              /* zeros after the last nonzero digit */
    bool any = false, dot = false;
    for (; *s && *s != 'e' && *s != 'E'; s++) {
        if (*s == '.' && !dot) { dot = true; continue; }
        if (*s < '0' || *s > '9') return false;
        any = true;
        if (dot) nfrac++;
        if (*s == '0') {
            if (d->nsig) zeros++;
            continue;
        }
        /* zeros between nonzero digits are significant */
        for (; zeros; zeros--) {
            if (d->nsig == SESP_DELTA_DEC_MAX_PRECISION) return false;
            d->sig[d->nsig++] = '0';
        }
        if (d->nsig == SESP_DELTA_DEC_MAX_PRECISION) return false;
        d->sig[d->nsig++] = *s;
    }
    if (!any) return false;
    long exp = 0;
    if (*s) {
        s++;
        bool eneg = *s == '-';
        if (*s == '-' || *s == '+') s++;
        if (!*s) return false;
        for (; *s; s++) {
            if (*s < '0' || *s > '9') return false;
            if (exp < 100000) exp = exp * 10 + (*s - '0');
        }
        if (eneg) exp = -exp;
    }
    d->e = zeros - nfrac + exp;
    return true;
}

/* The literal as an unscaled value at scale within precision; false if it
 * does not fit.  Digits past the scale are refused, not rounded: the last
 * significant digit is never zero, so a negative shift always cuts one. */
static bool to_unscaled(const dec_lit *d, int precision, int scale, sesp_delta_dec *out)
{
    if (!d->nsig) { *out = 0; return true; }
    long shift = d->e + scale;
    if (shift < 0 || d->nsig + shift > precision) return false;
    u128 u = 0;
    for (int i = 0; i < d->nsig; i++) u = u * 10 + (u128)(d->sig[i] - '0');
    u *= pow10_u((int)shift);
    *out = d->neg ? -(sesp_delta_dec)u : (sesp_delta_dec)u;
    return true;
}

/* The text a JSON value stands for as a decimal, in buf if it is a number. */
static const char *literal_of(const json_t *v, char *buf, size_t cap)
{
    if (json_is_string(v)) return json_string_value(v);
    if (json_is_integer(v)) { snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(v)); return buf; }
    if (json_is_real(v)) { real_text(json_real_value(v), buf, cap); return buf; }
    return NULL;
}

bool sesp_delta_json_to_decimal(const json_t *v, int precision, int scale, sesp_delta_dec *unscaled)
{
    char buf[64];
    const char *str = literal_of(v, buf, sizeof(buf));
    dec_lit d;
    if (precision < 1 || precision > SESP_DELTA_DEC_MAX_PRECISION || scale < 0 || scale > precision) return false;
    return str && scan(str, &d) && to_unscaled(&d, precision, scale, unscaled);
}

bool sesp_delta_decimal_digits(const json_t *v, int *ip, int *fp)
{
    char buf[64];
    const char *str = literal_of(v, buf, sizeof(buf));
    dec_lit d;
    if (!str || !scan(str, &d)) return false;
    if (!d.nsig) { *ip = *fp = 0; return true; }
    long i = d.nsig + d.e, f = -d.e;
    if (i > 1000 || f > 1000) return false;   /* no decimal holds it anyway */
    *ip = i > 0 ? (int)i : 0;
    *fp = f > 0 ? (int)f : 0;
    return true;
}
