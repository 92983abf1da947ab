/*
 * RecordBatch v2 parsing, validation and record iteration (see batch.h).
 * Validation is iteration: sesp_batch_validate walks every record with the
 * same decoder that readers use, so what we accept is exactly what we can
 * later decode.
 */
#include "batch.h"
#include "compress.h"
#include "common/crc32c.h"
#include "common/err.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Each thread keeps one decompression buffer for the iterators it runs, so
 * validating a compressed batch on the produce path neither allocates nor
 * faults in fresh pages: that cost was as large as the decompression
 * itself.  An iterator borrows the buffer for its lifetime (a second
 * iterator on the same thread meanwhile gets its own), and only buffers up
 * to SCRATCH_KEEP are kept for the next one. */
#define SCRATCH_KEEP ((size_t)8 << 20)

typedef struct scratch {
    uint8_t *p;
    size_t cap;
    bool lent;
} scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static bool scratch_ok;

static void scratch_destroy(void *v)
{
    scratch *sc = v;
    free(sc->p);
    free(sc);
}

static void scratch_init(void) { scratch_ok = pthread_key_create(&scratch_key, scratch_destroy) == 0; }

/* This thread's buffer if it is free (NULL otherwise: use a private one). */
static scratch *scratch_borrow(void)
{
    pthread_once(&scratch_once, scratch_init);
    if (!scratch_ok)
        return NULL;
    scratch *sc = pthread_getspecific(scratch_key);
    if (!sc) {
        if (!(sc = calloc(1, sizeof *sc)) || pthread_setspecific(scratch_key, sc) != 0) {
            free(sc);
            return NULL;
        }
    }
    if (sc->lent)
        return NULL;
    sc->lent = true;
    return sc;
}

int sesp_batch_parse_header(const uint8_t *p, size_t len, sesp_batch_header *h)
{
    memset(h, 0, sizeof *h);
    /* The magic byte sits at offset 16 in every message format version, so an
     * old-format message is recognised even when shorter than a v2 header. */
    if (len > SESP_BATCH_OFF_MAGIC && p[SESP_BATCH_OFF_MAGIC] != 2) {
        h->magic = (int8_t)p[SESP_BATCH_OFF_MAGIC];
        return (h->magic == 0 || h->magic == 1) ? SESP_ERR_UNSUPPORTED : SESP_ERR_MALFORMED;
    }
    if (len < SESP_BATCH_HEADER_SIZE)
        return SESP_ERR_TRUNCATED;
    sesp_bufr r;
    sesp_bufr_init(&r, p, len);
    h->base_offset = sesp_bufr_i64(&r);
    h->batch_length = sesp_bufr_i32(&r);
    h->partition_leader_epoch = sesp_bufr_i32(&r);
    h->magic = sesp_bufr_i8(&r);
    h->crc = sesp_bufr_u32(&r);
    h->attributes = sesp_bufr_i16(&r);
    h->last_offset_delta = sesp_bufr_i32(&r);
    h->base_timestamp = sesp_bufr_i64(&r);
    h->max_timestamp = sesp_bufr_i64(&r);
    h->producer_id = sesp_bufr_i64(&r);
    h->producer_epoch = sesp_bufr_i16(&r);
    h->base_sequence = sesp_bufr_i32(&r);
    h->records_count = sesp_bufr_i32(&r);
    if (r.err)
        return r.err;
    if (h->batch_length < SESP_BATCH_HEADER_SIZE - SESP_BATCH_LOG_OVERHEAD)
        return SESP_ERR_MALFORMED;
    return 0;
}

void sesp_batch_update_crc(uint8_t *p, size_t size)
{
    uint32_t c = sesp_crc32c(0, p + SESP_BATCH_CRC_START, size - SESP_BATCH_CRC_START);
    p[SESP_BATCH_OFF_CRC] = (uint8_t)(c >> 24);
    p[SESP_BATCH_OFF_CRC + 1] = (uint8_t)(c >> 16);
    p[SESP_BATCH_OFF_CRC + 2] = (uint8_t)(c >> 8);
    p[SESP_BATCH_OFF_CRC + 3] = (uint8_t)c;
}

int sesp_batch_iter_init(sesp_batch_iter *it, const uint8_t *p, size_t len, size_t max_decompressed)
{
    memset(it, 0, sizeof *it);
    int rc = sesp_batch_parse_header(p, len, &it->h);
    if (rc)
        goto out;
    size_t size = (size_t)sesp_batch_size(&it->h);
    if (size > len) {
        rc = SESP_ERR_TRUNCATED;
        goto out;
    }
    if (sesp_crc32c(0, p + SESP_BATCH_CRC_START, size - SESP_BATCH_CRC_START) != it->h.crc) {
        rc = SESP_ERR_CORRUPT;
        goto out;
    }
    /* base_offset + last_offset_delta names the last record's offset; a
     * header where that overflows cannot be a batch of ours or a client's */
    if (it->h.records_count < 0 || it->h.last_offset_delta < 0 || it->h.base_offset > INT64_MAX - it->h.last_offset_delta) {
        rc = SESP_ERR_INVALID_ARG;
        goto out;
    }
    const uint8_t *body = p + SESP_BATCH_HEADER_SIZE;
    size_t body_len = size - SESP_BATCH_HEADER_SIZE;
    int codec = it->h.attributes & SESP_BATCH_ATTR_CODEC_MASK;
    if (codec != SESP_CODEC_NONE) {
        size_t n, cap = 0;
        it->lent = scratch_borrow();
        if (it->lent) {
            it->owned = it->lent->p;
            cap = it->lent->cap;
        }
        rc = sesp_decompress_into(codec, body, body_len,
                                  max_decompressed ? max_decompressed : SESP_BATCH_MAX_DECOMPRESSED, &it->owned, &cap, &n);
        if (it->lent) {
            it->lent->p = it->owned; /* realloc may have moved it */
            it->lent->cap = cap;
        }
        if (rc)
            goto out;
        sesp_bufr_init(&it->r, it->owned, n);
    } else {
        sesp_bufr_init(&it->r, body, body_len);
    }
    it->remaining = it->h.records_count;
out:
    it->err = rc;
    return rc;
}

/* Inline so the validation loop pays no call per header. */
static inline int next_header(sesp_bufr *r, sesp_record_hdr *out)
{
    out->key_len = sesp_bufr_varint(r);
    if (!r->err && out->key_len < 0)
        sesp_bufr_fail(r, SESP_ERR_MALFORMED);     /* header keys are never null */
    out->key = r->err ? NULL : sesp_bufr_take(r, (size_t)out->key_len);
    out->value_len = sesp_bufr_varint(r);
    if (!r->err && out->value_len < -1)
        sesp_bufr_fail(r, SESP_ERR_MALFORMED);
    out->value = (r->err || out->value_len < 0) ? NULL : sesp_bufr_take(r, (size_t)out->value_len);
    return r->err ? SESP_ERR_MALFORMED : 0;
}

static const int64_t no_prev_delta = -1;

int sesp_batch_iter_next(sesp_batch_iter *it, sesp_record *rec)
{
    if (it->err)
        return it->err;
    if (it->remaining == 0) {
        /* Bytes after the last counted record mean the count lies. */
        if (sesp_bufr_left(&it->r) != 0)
            return it->err = SESP_ERR_INVALID_ARG;
        return 0;
    }
    sesp_bufr *r = &it->r;
    if (sesp_bufr_left(r) == 0)
        return it->err = SESP_ERR_INVALID_ARG;     /* fewer records than counted */
    int32_t rlen = sesp_bufr_varint(r);
    if (r->err || rlen < 1 || (size_t)rlen > sesp_bufr_left(r))
        return it->err = SESP_ERR_MALFORMED;
    sesp_bufr rr;
    sesp_bufr_init(&rr, sesp_bufr_take(r, (size_t)rlen), (size_t)rlen);
    memset(rec, 0, sizeof *rec);
    const uint8_t *attr = sesp_bufr_take(&rr, 1);
    rec->attributes = attr ? (int8_t)*attr : 0;
    int64_t ts_delta = sesp_bufr_varlong(&rr);
    int32_t off_delta = sesp_bufr_varint(&rr);
    rec->key_len = sesp_bufr_varint(&rr);
    if (rec->key_len < -1)
        sesp_bufr_fail(&rr, SESP_ERR_MALFORMED);
    if (rec->key_len >= 0)
        rec->key = sesp_bufr_take(&rr, (size_t)rec->key_len);
    rec->value_len = sesp_bufr_varint(&rr);
    if (rec->value_len < -1)
        sesp_bufr_fail(&rr, SESP_ERR_MALFORMED);
    if (rec->value_len >= 0)
        rec->value = sesp_bufr_take(&rr, (size_t)rec->value_len);
    rec->header_count = sesp_bufr_varint(&rr);
    if (rec->header_count < 0)
        sesp_bufr_fail(&rr, SESP_ERR_MALFORMED);
    size_t hstart = rr.pos;
    for (int32_t i = 0; i < rec->header_count && !rr.err; i++) {
        sesp_record_hdr hd;
        int hrc = next_header(&rr, &hd);
        if (hrc)
            sesp_bufr_fail(&rr, hrc);
    }
    if (rr.err || sesp_bufr_left(&rr) != 0)
        return it->err = SESP_ERR_MALFORMED;
    rec->headers = rr.p + hstart;
    rec->headers_len = rr.pos - hstart;
    /* Offset deltas must increase and stay within lastOffsetDelta. */
    int64_t prev = it->remaining == it->h.records_count ? no_prev_delta : it->prev_delta;
    if (off_delta < 0 || off_delta <= prev || off_delta > it->h.last_offset_delta)
        return it->err = SESP_ERR_INVALID_ARG;
    it->prev_delta = off_delta;
    rec->offset = it->h.base_offset + off_delta;
    if (it->h.attributes & SESP_BATCH_ATTR_LOG_APPEND_TIME)
        rec->timestamp = it->h.max_timestamp;
    else
        rec->timestamp = (int64_t)((uint64_t)it->h.base_timestamp + (uint64_t)ts_delta);
    it->remaining--;
    return 1;
}

void sesp_batch_iter_free(sesp_batch_iter *it)
{
    scratch *sc = it->lent;
    if (sc) {
        sc->lent = false;
        if (sc->cap > SCRATCH_KEEP) {
            free(sc->p);
            sc->p = NULL;
            sc->cap = 0;
        }
    } else {
        free(it->owned);
    }
    it->owned = NULL;
    it->lent = NULL;
}

int sesp_record_next_header(sesp_bufr *r, sesp_record_hdr *out) { return next_header(r, out); }

int sesp_batch_validate(const uint8_t *p, size_t len, int32_t max_bytes, sesp_batch_header *h)
{
    int rc = sesp_batch_parse_header(p, len, h);
    if (rc)
        return rc;
    /* Size first: an oversized batch is MESSAGE_TOO_LARGE even if it is also cut short. */
    if (max_bytes > 0 && sesp_batch_size(h) > max_bytes)
        return SESP_ERR_TOO_LARGE;
    sesp_batch_iter it;
    rc = sesp_batch_iter_init(&it, p, len, 0);
    if (rc)
        goto out;
    sesp_record rec;
    while ((rc = sesp_batch_iter_next(&it, &rec)) == 1)
        ;
out:
    sesp_batch_iter_free(&it);
    return rc;
}
