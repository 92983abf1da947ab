/*
 * The hand-written Fetch response encoder (v4..v17): the one response not
 * produced by the generated encoder, because its records are not copied into
 * memory: each partition's records are a byte range of a segment file that
 * is appended to the output evbuffer by reference (sendfile on the way out).
 */
#ifndef SESP_SERVER_FETCH_ENCODE_H
#define SESP_SERVER_FETCH_ENCODE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct evbuffer;

typedef struct sesp_fetch_part_out {
    int32_t partition;
    int16_t error;
    int64_t high_watermark, last_stable_offset, log_start_offset;
    bool aborted_empty;   /* true: empty aborted list (READ_COMMITTED), false: null */
    int fd;               /* records file, -1 = no records; ownership passes to the evbuffer */
    int64_t file_pos, length;
} sesp_fetch_part_out;

typedef struct sesp_fetch_topic_out {
    const char *name;     /* v4-12 */
    int32_t name_len;
    uint8_t id[16];       /* v13+ */
    sesp_fetch_part_out *parts;
    int32_t nparts;
} sesp_fetch_topic_out;

/* Appends response header + body to out.  Every part's fd is consumed
 * (handed to out, or closed on error).  0 or SESP_ERR_*. */
int sesp_fetch_encode(struct evbuffer *out, int16_t version, int32_t correlation_id, int16_t error,
                      int32_t session_id, sesp_fetch_topic_out *topics, int32_t ntopics);

#endif
