/*
 * Compiles and renders the consume --format template.  The template is split
 * once into literal runs (escapes already resolved) and field references, so
 * rendering a record is a handful of fwrite calls with no parsing.
 */
#include "format.h"

#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

enum seg_kind { SEG_LITERAL, SEG_FIELD };

typedef struct seg {
    enum seg_kind kind;
    char field;        /* SEG_FIELD: the letter after % */
    size_t off, len;   /* SEG_LITERAL: bytes in lit */
} seg;

struct sesp_cli_fmt {
    seg *segs;
    size_t nsegs;
    char *lit;
    size_t lit_len;
};

static int add_seg(sesp_cli_fmt *f, seg s)
{
    /* Merge adjacent literal bytes into one run. */
    if (s.kind == SEG_LITERAL && f->nsegs && f->segs[f->nsegs - 1].kind == SEG_LITERAL &&
        f->segs[f->nsegs - 1].off + f->segs[f->nsegs - 1].len == s.off) {
        f->segs[f->nsegs - 1].len += s.len;
        return 0;
    }
    seg *n = realloc(f->segs, (f->nsegs + 1) * sizeof *n);
    if (!n)
        return SESP_ERR_NOMEM;
    f->segs = n;
    f->segs[f->nsegs++] = s;
    return 0;
}

static int add_byte(sesp_cli_fmt *f, char c)
{
    /* lit was sized for the whole spec, and output never exceeds input length. */
    size_t off = f->lit_len;
    f->lit[f->lit_len++] = c;
    return add_seg(f, (seg){SEG_LITERAL, 0, off, 1});
}

int sesp_cli_fmt_compile(const char *spec, sesp_cli_fmt **out, char *errbuf, size_t errlen)
{
    int rc = 0;
    sesp_cli_fmt *f = calloc(1, sizeof *f);
    if (!f || !(f->lit = malloc(strlen(spec) + 1))) {
        rc = SESP_ERR_NOMEM;
        snprintf(errbuf, errlen, "out of memory");
        goto out;
    }
    for (const char *p = spec; *p && !rc; p++) {
        if (*p == '%') {
            char c = p[1];
            if (!c) {
                snprintf(errbuf, errlen, "format ends with a lone '%%'");
                rc = SESP_ERR_MALFORMED;
                break;
            }
            p++;
            if (c == '%')
                rc = add_byte(f, '%');
            else if (strchr("skhpoTtSK", c))
                rc = add_seg(f, (seg){SEG_FIELD, c, 0, 0});
            else {
                snprintf(errbuf, errlen, "unknown format field '%%%c' (known: %%s %%k %%h %%p %%o %%T %%t %%S %%K %%%%)", c);
                rc = SESP_ERR_MALFORMED;
            }
        } else if (*p == '\\') {
            char c = p[1], b;
            switch (c) {
            case 'n': b = '\n'; break;
            case 't': b = '\t'; break;
            case 'r': b = '\r'; break;
            case '0': b = '\0'; break;
            case '\\': b = '\\'; break;
            default:
                if (!c)
                    snprintf(errbuf, errlen, "format ends with a lone '\\'");
                else
                    snprintf(errbuf, errlen, "unknown escape '\\%c' (known: \\n \\t \\r \\0 \\\\)", c);
                rc = SESP_ERR_MALFORMED;
                continue;
            }
            p++;
            rc = add_byte(f, b);
        } else {
            rc = add_byte(f, *p);
        }
    }
    if (rc == SESP_ERR_NOMEM)
        snprintf(errbuf, errlen, "out of memory");
out:
    if (rc) {
        sesp_cli_fmt_free(f);
        return rc;
    }
    *out = f;
    return 0;
}

static int put(const void *p, size_t n, FILE *out)
{
    return n == 0 || fwrite(p, 1, n, out) == n ? 0 : SESP_ERR_IO;
}

static int put_i64(int64_t v, FILE *out)
{
    return fprintf(out, "%" PRId64, v) < 0 ? SESP_ERR_IO : 0;
}

static int put_headers(const sesp_cli_record *r, FILE *out)
{
    int rc = 0;
    for (size_t i = 0; i < r->header_cnt && !rc; i++) {
        const sesp_cli_hdr *h = &r->headers[i];
        if (i)
            rc = put(",", 1, out);
        if (!rc)
            rc = put(h->name, strlen(h->name), out);
        if (!rc)
            rc = put("=", 1, out);
        if (!rc && h->value)
            rc = put(h->value, h->value_len, out);
    }
    return rc;
}

int sesp_cli_fmt_write(const sesp_cli_fmt *f, const sesp_cli_record *r, FILE *out)
{
    int rc = 0;
    for (size_t i = 0; i < f->nsegs && !rc; i++) {
        const seg *s = &f->segs[i];
        if (s->kind == SEG_LITERAL) {
            rc = put(f->lit + s->off, s->len, out);
            continue;
        }
        switch (s->field) {
        case 's': rc = r->value ? put(r->value, r->value_len, out) : 0; break;
        case 'k': rc = r->key ? put(r->key, r->key_len, out) : 0; break;
        case 'h': rc = put_headers(r, out); break;
        case 'p': rc = put_i64(r->partition, out); break;
        case 'o': rc = put_i64(r->offset, out); break;
        case 'T': rc = put_i64(r->timestamp, out); break;
        case 't': rc = r->topic ? put(r->topic, strlen(r->topic), out) : 0; break;
        case 'S': rc = put_i64(r->value ? (int64_t)r->value_len : -1, out); break;
        case 'K': rc = put_i64(r->key ? (int64_t)r->key_len : -1, out); break;
        default: assert(!"field letter not admitted by sesp_cli_fmt_compile"); rc = SESP_ERR_INVALID_ARG; break;
        }
    }
    return rc;
}

void sesp_cli_fmt_free(sesp_cli_fmt *f)
{
    if (!f)
        return;
    free(f->segs);
    free(f->lit);
    free(f);
}
