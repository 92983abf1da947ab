/*
 * Fetch response encoding by hand (see fetch_encode.h).  Fields and their
 * versions follow FetchResponse.json (Kafka 3.9): v7+ error code and session
 * id, v11+ preferred read replica, v12+ flexible (compact lengths, tagged
 * fields), v13+ topic ids instead of names.  No tagged fields are emitted.
 */
#include "fetch_encode.h"

#include <event2/buffer.h>
#include <unistd.h>

#include "broker/protocol/header.h"
#include "common/buf.h"
#include "common/err.h"

static void put_len(sesp_bufw *w, bool flex, int64_t n) /* n = -1 for null */
{
    if (flex)
        sesp_bufw_uvarint(w, (uint32_t)(n + 1));
    else
        sesp_bufw_i32(w, (int32_t)n);
}

static int flush(struct evbuffer *out, sesp_bufw *w)
{
    if (w->err)
        return w->err;
    if (w->len && evbuffer_add(out, w->p, w->len) != 0)
        return SESP_ERR_NOMEM;
    sesp_bufw_reset(w);
    return 0;
}

int sesp_fetch_encode(struct evbuffer *out, int16_t version, int32_t correlation_id, int16_t error,
                      int32_t session_id, sesp_fetch_topic_out *topics, int32_t ntopics)
{
    const bool flex = version >= 12;
    int rc = 0;
    sesp_bufw w;
    sesp_bufw_init(&w, 4096, 0);
    sesp_kresp_header_encode(&w, 1, version, correlation_id);
    sesp_bufw_i32(&w, 0); /* throttle_time_ms */
    if (version >= 7) {
        sesp_bufw_i16(&w, error);
        sesp_bufw_i32(&w, session_id);
    }
    put_len(&w, flex, ntopics);
    for (int32_t t = 0; t < ntopics; t++) {
        sesp_fetch_topic_out *to = &topics[t];
        if (version >= 13) {
            sesp_bufw_put(&w, to->id, 16);
        } else {
            if (flex)
                sesp_bufw_uvarint(&w, (uint32_t)to->name_len + 1);
            else
                sesp_bufw_i16(&w, (int16_t)to->name_len);
            sesp_bufw_put(&w, to->name, (size_t)to->name_len);
        }
        put_len(&w, flex, to->nparts);
        for (int32_t p = 0; p < to->nparts; p++) {
            sesp_fetch_part_out *po = &to->parts[p];
            sesp_bufw_i32(&w, po->partition);
            sesp_bufw_i16(&w, po->error);
            sesp_bufw_i64(&w, po->high_watermark);
            sesp_bufw_i64(&w, po->last_stable_offset);
            if (version >= 5)
                sesp_bufw_i64(&w, po->log_start_offset);
            put_len(&w, flex, po->aborted_empty ? 0 : -1);
            if (version >= 11)
                sesp_bufw_i32(&w, -1); /* preferred_read_replica */
            bool has = po->fd >= 0 && po->length > 0 && !rc;
            put_len(&w, flex, has ? po->length : 0);
            if (has) {
                if ((rc = flush(out, &w)) == 0) {
                    /* evbuffer_add_file owns (and closes) the fd from here. */
                    if (evbuffer_add_file(out, po->fd, po->file_pos, po->length) != 0)
                        rc = SESP_ERR_IO;
                    po->fd = -1;
                }
            }
            if (po->fd >= 0) {
                close(po->fd);
                po->fd = -1;
            }
            if (flex)
                sesp_bufw_uvarint(&w, 0); /* partition tagged fields */
        }
        if (flex)
            sesp_bufw_uvarint(&w, 0); /* topic tagged fields */
    }
    if (flex)
        sesp_bufw_uvarint(&w, 0); /* response tagged fields */
    if (!rc)
        rc = flush(out, &w);
    sesp_bufw_free(&w);
    return rc;
}
