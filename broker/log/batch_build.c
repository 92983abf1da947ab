/*
 * A small RecordBatch v2 builder: tests need batches with every codec and
 * tools need to write records without a Kafka client.  The broker itself never
 * builds batches from scratch; it stores what producers send.
 */
#include "batch.h"
#include "compress.h"
#include "common/crc32c.h"
#include "common/err.h"

#include <stdlib.h>
#include <string.h>

void sesp_batch_build_opts_init(sesp_batch_build_opts *o)
{
    memset(o, 0, sizeof *o);
    o->producer_id = -1;
    o->producer_epoch = -1;
    o->base_sequence = -1;
    o->partition_leader_epoch = -1;
}

static void put_bytes(sesp_bufw *w, const void *p, int32_t len)
{
    sesp_bufw_varint(w, len < 0 ? -1 : len);
    if (len > 0)
        sesp_bufw_put(w, p, (size_t)len);
}

static void put_record(sesp_bufw *w, const sesp_batch_record_in *rec, int32_t delta, int64_t base_ts)
{
    sesp_bufw body;
    sesp_bufw_init(&body, 64, 0);
    sesp_bufw_i8(&body, 0);
    sesp_bufw_varlong(&body, (int64_t)((uint64_t)rec->timestamp - (uint64_t)base_ts));
    sesp_bufw_varint(&body, delta);
    put_bytes(&body, rec->key, rec->key ? rec->key_len : -1);
    put_bytes(&body, rec->value, rec->value ? rec->value_len : -1);
    sesp_bufw_varint(&body, rec->header_count);
    for (int32_t i = 0; i < rec->header_count; i++) {
        put_bytes(&body, rec->headers[i].key, rec->headers[i].key_len);
        put_bytes(&body, rec->headers[i].value, rec->headers[i].value ? rec->headers[i].value_len : -1);
    }
    if (body.err) {
        w->err = body.err;
    } else {
        sesp_bufw_varint(w, (int32_t)body.len);
        sesp_bufw_put(w, body.p, body.len);
    }
    sesp_bufw_free(&body);
}

int sesp_batch_build(const sesp_batch_build_opts *o, const sesp_batch_record_in *recs, int n,
                     uint8_t **out, size_t *out_len)
{
    if (n < 1 || !recs)
        return SESP_ERR_INVALID_ARG;
    int rc = 0;
    uint8_t *z = NULL;
    size_t zlen = 0;
    sesp_bufw recw, w;
    sesp_bufw_init(&recw, 256, 0);
    sesp_bufw_init(&w, 0, 0);
    int64_t base_ts = recs[0].timestamp, max_ts = recs[0].timestamp;
    for (int i = 1; i < n; i++)
        if (recs[i].timestamp > max_ts)
            max_ts = recs[i].timestamp;
    for (int i = 0; i < n; i++)
        put_record(&recw, &recs[i], i, base_ts);
    if ((rc = recw.err))
        goto out;
    const uint8_t *body = recw.p;
    size_t body_len = recw.len;
    if (o->codec != SESP_CODEC_NONE) {
        rc = sesp_compress(o->codec, o->snappy_xerial ? SESP_COMPRESS_SNAPPY_XERIAL : 0, recw.p, recw.len, &z, &zlen);
        if (rc)
            goto out;
        body = z;
        body_len = zlen;
    }
    int16_t attrs = (int16_t)(o->codec & SESP_BATCH_ATTR_CODEC_MASK);
    if (o->log_append_time)
        attrs |= SESP_BATCH_ATTR_LOG_APPEND_TIME;
    if (o->transactional)
        attrs |= SESP_BATCH_ATTR_TRANSACTIONAL;
    if (o->control)
        attrs |= SESP_BATCH_ATTR_CONTROL;
    sesp_bufw_i64(&w, o->base_offset);
    sesp_bufw_i32(&w, (int32_t)(SESP_BATCH_HEADER_SIZE - SESP_BATCH_LOG_OVERHEAD + body_len));
    sesp_bufw_i32(&w, o->partition_leader_epoch);
    sesp_bufw_i8(&w, 2);
    sesp_bufw_u32(&w, 0);       /* CRC, patched below */
    sesp_bufw_i16(&w, attrs);
    sesp_bufw_i32(&w, n - 1);
    sesp_bufw_i64(&w, base_ts);
    sesp_bufw_i64(&w, max_ts);
    sesp_bufw_i64(&w, o->producer_id);
    sesp_bufw_i16(&w, o->producer_epoch);
    sesp_bufw_i32(&w, o->base_sequence);
    sesp_bufw_i32(&w, n);
    sesp_bufw_put(&w, body, body_len);
    if ((rc = w.err))
        goto out;
    sesp_batch_update_crc(w.p, w.len);
    *out = sesp_bufw_steal(&w, out_len);
out:
    free(z);
    sesp_bufw_free(&recw);
    sesp_bufw_free(&w);
    return rc;
}
