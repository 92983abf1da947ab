/*
 * Wire primitives of the Kafka protocol shared by every generated codec (see
 * kproto.h): classic vs flexible lengths, nullability, tagged-field framing.
 * Every length read here is compared with what is left in the reader before
 * anything is taken or allocated.
 */
#include "broker/protocol/kproto.h"


bool sesp_kstr_eq(sesp_kstr s, const char *c)
{
    if (s.len < 0 || !c)
        return false;
    size_t n = strlen(c);
    return (size_t)s.len == n && (n == 0 || memcmp(s.ptr, c, n) == 0);
}

char *sesp_kstr_dup(sesp_kstr s, sesp_arena *a)
{
    if (s.len < 0)
        return NULL;
    return sesp_arena_strndup(a, s.len ? s.ptr : "", (size_t)s.len);
}

/* Returns the decoded length, -1 for null, or -2 after poisoning r. */
static int64_t rd_len(sesp_bufr *r, bool flex, bool wide)
{
    int64_t n;
    if (flex) {
        uint32_t u = sesp_bufr_uvarint(r);
        if (r->err)
            return -2;
        n = (int64_t)u - 1;
    } else {
        n = wide ? sesp_bufr_i32(r) : sesp_bufr_i16(r);
        if (r->err)
            return -2;
    }
    if (n < -1) {
        sesp_bufr_fail(r, SESP_ERR_MALFORMED);
        return -2;
    }
    if (n > INT32_MAX) {
        sesp_bufr_fail(r, SESP_ERR_MALFORMED);
        return -2;
    }
    return n;
}

static const uint8_t *rd_blob(sesp_bufr *r, bool flex, bool wide, bool nullable, int32_t *len)
{
    int64_t n = rd_len(r, flex, wide);
    *len = -1;
    if (n == -2)
        return NULL;
    if (n == -1) {
        if (!nullable)
            sesp_bufr_fail(r, SESP_ERR_MALFORMED);
        return NULL;
    }
    const uint8_t *p = sesp_bufr_take(r, (size_t)n);
    if (!p)
        return NULL;
    *len = (int32_t)n;
    return p;
}

bool sesp_kp_rd_str(sesp_bufr *r, bool flex, bool nullable, sesp_kstr *out)
{
    int32_t len;
    const uint8_t *p = rd_blob(r, flex, false, nullable, &len);
    out->ptr = (const char *)p;
    out->len = len;
    return !r->err;
}

bool sesp_kp_rd_bytes(sesp_bufr *r, bool flex, bool nullable, sesp_kbytes *out)
{
    int32_t len;
    const uint8_t *p = rd_blob(r, flex, true, nullable, &len);
    out->ptr = p;
    out->len = len;
    return !r->err;
}

bool sesp_kp_rd_arrlen(sesp_bufr *r, bool flex, bool nullable, size_t min_elem, int32_t *out)
{
    int64_t n = rd_len(r, flex, true);
    *out = 0;
    if (n == -2)
        return false;
    if (n == -1) {
        if (!nullable) {
            sesp_bufr_fail(r, SESP_ERR_MALFORMED);
            return false;
        }
        *out = -1;
        return true;
    }
    if (min_elem == 0)
        min_elem = 1;
    if ((uint64_t)n > sesp_bufr_left(r) / min_elem) {
        sesp_bufr_fail(r, SESP_ERR_MALFORMED);
        return false;
    }
    *out = (int32_t)n;
    return true;
}

void sesp_kp_rd_uuid(sesp_bufr *r, sesp_kuuid *out)
{
    const uint8_t *p = sesp_bufr_take(r, 16);
    if (p)
        memcpy(out->b, p, 16);
    else
        memset(out->b, 0, 16);
}

bool sesp_kp_rd_bool(sesp_bufr *r)
{
    return sesp_bufr_i8(r) != 0;
}

void *sesp_kp_alloc(sesp_bufr *r, sesp_arena *a, size_t n, size_t sz)
{
    if (r->err)
        return NULL;
    void *p = sesp_arena_calloc(a, n, sz);
    if (!p) {
        bool capped = a->max_total && (n > a->max_total || (sz && n * sz > a->max_total - a->total));
        sesp_bufr_fail(r, capped ? SESP_ERR_TOO_LARGE : SESP_ERR_NOMEM);
    }
    return p;
}

bool sesp_kp_rd_tag_count(sesp_bufr *r, uint32_t *out)
{
    uint32_t n = sesp_bufr_uvarint(r);
    *out = 0;
    if (r->err)
        return false;
    if (n > sesp_bufr_left(r) / 2) {
        sesp_bufr_fail(r, SESP_ERR_MALFORMED);
        return false;
    }
    *out = n;
    return true;
}

bool sesp_kp_rd_tag(sesp_bufr *r, int64_t *prev_tag, uint32_t *tag, sesp_bufr *sub)
{
    uint32_t t = sesp_bufr_uvarint(r);
    uint32_t size = sesp_bufr_uvarint(r);
    if (r->err)
        return false;
    if ((int64_t)t <= *prev_tag) {
        sesp_bufr_fail(r, SESP_ERR_MALFORMED);
        return false;
    }
    const uint8_t *p = sesp_bufr_take(r, size);
    if (!p)
        return false;
    *prev_tag = t;
    *tag = t;
    sesp_bufr_init(sub, p, size);
    return true;
}

bool sesp_kp_end_sub(sesp_bufr *r, sesp_bufr *sub)
{
    if (sub->err)
        sesp_bufr_fail(r, sub->err == SESP_ERR_TRUNCATED ? SESP_ERR_MALFORMED : sub->err);
    else if (sub->pos != sub->len)
        sesp_bufr_fail(r, SESP_ERR_MALFORMED);
    return !r->err;
}

static int wr_len(sesp_bufw *w, bool flex, bool wide, bool nullable, int64_t n)
{
    if (n < -1 || (n == -1 && !nullable))
        return SESP_ERR_INVALID_ARG;
    if (flex) {
        sesp_bufw_uvarint(w, (uint32_t)(n + 1));
    } else if (wide) {
        sesp_bufw_i32(w, (int32_t)n);
    } else {
        if (n > INT16_MAX)
            return SESP_ERR_INVALID_ARG;
        sesp_bufw_i16(w, (int16_t)n);
    }
    return 0;
}

int sesp_kp_wr_str(sesp_bufw *w, bool flex, bool nullable, sesp_kstr s)
{
    int rc = wr_len(w, flex, false, nullable, s.len);
    if (rc)
        return rc;
    if (s.len > 0) {
        if (!s.ptr)
            return SESP_ERR_INVALID_ARG;
        sesp_bufw_put(w, s.ptr, (size_t)s.len);
    }
    return 0;
}

int sesp_kp_wr_bytes(sesp_bufw *w, bool flex, bool nullable, sesp_kbytes b)
{
    int rc = wr_len(w, flex, true, nullable, b.len);
    if (rc)
        return rc;
    if (b.len > 0) {
        if (!b.ptr)
            return SESP_ERR_INVALID_ARG;
        sesp_bufw_put(w, b.ptr, (size_t)b.len);
    }
    return 0;
}

int sesp_kp_wr_arrlen(sesp_bufw *w, bool flex, bool nullable, int32_t count, const void *ptr)
{
    if (count > 0 && !ptr)
        return SESP_ERR_INVALID_ARG;
    return wr_len(w, flex, true, nullable, count);
}

void sesp_kp_wr_uuid(sesp_bufw *w, const sesp_kuuid *u)
{
    sesp_bufw_put(w, u->b, 16);
}

int sesp_kp_wr_tag(sesp_bufw *w, uint32_t tag, sesp_bufw *sub)
{
    int rc = sub->err;
    if (!rc && sub->len > UINT32_MAX)
        rc = SESP_ERR_TOO_LARGE;
    if (!rc) {
        sesp_bufw_uvarint(w, tag);
        sesp_bufw_uvarint(w, (uint32_t)sub->len);
        if (sub->len)
            sesp_bufw_put(w, sub->p, sub->len);
    }
    sesp_bufw_free(sub);
    return rc;
}
