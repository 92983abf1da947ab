/*
 * The predicate of `sesp table delete --where "col OP literal"`: parsing it,
 * and comparing a row's value with the literal as SQL would.  Rows carry
 * decimals as strings of their exact digits ("12.50") and longs as JSON
 * integers, so a number literal is compared with those digit by digit, never
 * through a double: `price > 0.1` on a decimal column, or `id = 9007199254740993`
 * on a long one, would otherwise match the wrong rows (and a delete would drop
 * them).  Doubles compare as doubles, strings by bytes, booleans false < true;
 * a comparison with null is never true, except `= null` / `!= null`.
 */
#include "where.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A plain decimal number: [+-]digits[.digits] or [+-].digits, nothing else. */
typedef struct dnum {
    bool neg;
    const char *ip, *fp; /* integer digits without leading zeros, fraction digits without trailing zeros */
    size_t ipn, fpn;
} dnum;

static bool dnum_parse(const char *s, size_t n, dnum *d)
{
    size_t i = 0;
    d->neg = false;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        d->neg = s[i++] == '-';
    size_t a = i;
    while (i < n && isdigit((unsigned char)s[i]))
        i++;
    size_t ae = i, b = i, be = i;
    if (i < n && s[i] == '.') {
        b = ++i;
        while (i < n && isdigit((unsigned char)s[i]))
            i++;
        be = i;
    }
    if (i != n || (ae == a && be == b))
        return false;
    while (a < ae && s[a] == '0')
        a++;
    while (be > b && s[be - 1] == '0')
        be--;
    d->ip = s + a;
    d->ipn = ae - a;
    d->fp = s + b;
    d->fpn = be - b;
    if (!d->ipn && !d->fpn)
        d->neg = false; /* -0 = 0 */
    return true;
}

static int dnum_cmp(const dnum *x, const dnum *y)
{
    if (x->neg != y->neg)
        return x->neg ? -1 : 1;
    int c = 0;
    if (x->ipn != y->ipn)
        c = x->ipn < y->ipn ? -1 : 1;
    else if (x->ipn)
        c = memcmp(x->ip, y->ip, x->ipn);
    for (size_t k = 0; !c && k < x->fpn + y->fpn; k++) {
        char a = k < x->fpn ? x->fp[k] : '0', b = k < y->fpn ? y->fp[k] : '0';
        c = (a > b) - (a < b);
    }
    c = (c > 0) - (c < 0);
    return x->neg ? -c : c;
}

bool sesp_tcli_pred_parse(const char *s, sesp_tcli_pred *p)
{
    memset(p, 0, sizeof *p);
    while (*s == ' ')
        s++;
    size_t n = 0;
    while (s[n] && !strchr(" =!<>", s[n]))
        n++;
    if (!n || n >= sizeof(p->col))
        return false;
    memcpy(p->col, s, n);
    p->col[n] = 0;
    s += n;
    while (*s == ' ')
        s++;
    static const char *const ops[] = {"<=", ">=", "!=", "<>", "=", "<", ">"};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (!strncmp(s, ops[i], strlen(ops[i]))) {
            snprintf(p->op, sizeof(p->op), "%s", !strcmp(ops[i], "<>") ? "!=" : ops[i]);
            s += strlen(ops[i]);
            break;
        }
    if (!p->op[0])
        return false;
    while (*s == ' ')
        s++;
    size_t len = strlen(s);
    while (len && s[len - 1] == ' ')
        len--;
    if (!len)
        return false;
    dnum d;
    if (*s == '\'') {
        if (len < 2 || s[len - 1] != '\'')
            return false;
        p->lit = json_stringn(s + 1, len - 2);
    } else if (dnum_parse(s, len, &d)) {
        p->lit_num = strndup(s, len);
        p->lit = p->lit_num ? json_real(strtod(p->lit_num, NULL)) : NULL;
    } else {
        p->lit = json_loadb(s, len, JSON_DECODE_ANY, NULL);
        if (!p->lit)
            p->lit = json_stringn(s, len);
    }
    if (!p->lit) {
        sesp_tcli_pred_free(p);
        return false;
    }
    return true;
}

void sesp_tcli_pred_free(sesp_tcli_pred *p)
{
    json_decref(p->lit);
    free(p->lit_num);
    p->lit = NULL;
    p->lit_num = NULL;
}

/* Compares v with a number literal exactly when v is a long or a decimal's
 * digits; *out is set and true returned only then. */
static bool exact_cmp(const json_t *v, const char *lit, int *out)
{
    char buf[32];
    const char *t;
    size_t tn;
    if (json_is_integer(v)) {
        tn = (size_t)snprintf(buf, sizeof buf, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        t = buf;
    } else if (json_is_string(v)) {
        t = json_string_value(v);
        tn = json_string_length(v);
    } else {
        return false;
    }
    dnum a, b;
    if (!dnum_parse(t, tn, &a) || !dnum_parse(lit, strlen(lit), &b))
        return false;
    *out = dnum_cmp(&a, &b);
    return true;
}

bool sesp_tcli_pred_eval(void *ud, const json_t *row)
{
    sesp_tcli_pred *p = ud;
    const json_t *v = json_object_get(row, p->col);
    if (json_is_null(p->lit)) {
        bool isnull = !v || json_is_null(v);
        return !strcmp(p->op, "=") ? isnull : !strcmp(p->op, "!=") ? !isnull : false;
    }
    if (!v || json_is_null(v))
        return false;
    int c;
    if (p->lit_num && exact_cmp(v, p->lit_num, &c)) {
        /* compared exactly */
    } else if (json_is_number(v) && json_is_number(p->lit)) {
        double a = json_number_value(v), b = json_number_value(p->lit);
        c = a < b ? -1 : a > b;
    } else if (json_is_string(v) && json_is_string(p->lit)) {
        c = strcmp(json_string_value(v), json_string_value(p->lit));
    } else if (json_is_boolean(v) && json_is_boolean(p->lit)) {
        c = json_is_true(v) - json_is_true(p->lit);
    } else {
        return false;
    }
    if (!strcmp(p->op, "="))
        return c == 0;
    if (!strcmp(p->op, "!="))
        return c != 0;
    if (!strcmp(p->op, "<"))
        return c < 0;
    if (!strcmp(p->op, "<="))
        return c <= 0;
    if (!strcmp(p->op, ">"))
        return c > 0;
    return c >= 0;
}
