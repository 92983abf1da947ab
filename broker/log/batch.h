/*
 * Kafka RecordBatch v2 (magic 2): header parsing, full validation (CRC32C over
 * attributes..end, record framing, records count, decompression into a bounded
 * buffer), record iteration, and a small builder used by tests and tools.
 * Layout (big-endian): baseOffset i64, batchLength i32, partitionLeaderEpoch
 * i32, magic i8, crc u32, attributes i16, lastOffsetDelta i32, baseTimestamp
 * i64, maxTimestamp i64, producerId i64, producerEpoch i16, baseSequence i32,
 * records count i32, then the records (compressed as one blob if a codec is
 * set).  batchLength counts every byte after the batchLength field.
 */
#ifndef SESP_LOG_BATCH_H
#define SESP_LOG_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define SESP_BATCH_HEADER_SIZE 61       /* bytes up to and including records count */
#define SESP_BATCH_LOG_OVERHEAD 12      /* baseOffset + batchLength */
#define SESP_BATCH_CRC_START 21         /* offset of attributes: CRC covers from here */
/* Field offsets inside a batch, for in-place rewriting. */
#define SESP_BATCH_OFF_BASE_OFFSET 0
#define SESP_BATCH_OFF_LENGTH 8
#define SESP_BATCH_OFF_LEADER_EPOCH 12
#define SESP_BATCH_OFF_MAGIC 16
#define SESP_BATCH_OFF_CRC 17
#define SESP_BATCH_OFF_ATTRIBUTES 21
#define SESP_BATCH_OFF_LAST_OFFSET_DELTA 23
#define SESP_BATCH_OFF_BASE_TIMESTAMP 27
#define SESP_BATCH_OFF_MAX_TIMESTAMP 35
#define SESP_BATCH_OFF_PRODUCER_ID 43
#define SESP_BATCH_OFF_RECORDS_COUNT 57

#define SESP_BATCH_ATTR_CODEC_MASK 0x07
#define SESP_BATCH_ATTR_LOG_APPEND_TIME 0x08
#define SESP_BATCH_ATTR_TRANSACTIONAL 0x10
#define SESP_BATCH_ATTR_CONTROL 0x20

/* Compression codecs as encoded in attributes bits 0-2. */
enum { SESP_CODEC_NONE = 0, SESP_CODEC_GZIP = 1, SESP_CODEC_SNAPPY = 2, SESP_CODEC_LZ4 = 3, SESP_CODEC_ZSTD = 4 };

/* Default bound on a batch's decompressed records during validation/iteration. */
#define SESP_BATCH_MAX_DECOMPRESSED (64u * 1024u * 1024u)

typedef struct sesp_batch_header {
    int64_t base_offset;
    int32_t batch_length;
    int32_t partition_leader_epoch;
    int8_t magic;
    uint32_t crc;
    int16_t attributes;
    int32_t last_offset_delta;
    int64_t base_timestamp, max_timestamp;
    int64_t producer_id;
    int16_t producer_epoch;
    int32_t base_sequence;
    int32_t records_count;
} sesp_batch_header;

/* Total bytes a batch occupies on disk/wire: batch_length + 12. */
static inline int64_t sesp_batch_size(const sesp_batch_header *h) { return (int64_t)h->batch_length + SESP_BATCH_LOG_OVERHEAD; }
static inline int64_t sesp_batch_last_offset(const sesp_batch_header *h) { return h->base_offset + h->last_offset_delta; }

/* Parses the fixed header; needs >= 61 bytes.  Checks only what the header
 * alone can tell (length sane, magic == 2 else SESP_ERR_UNSUPPORTED); does not
 * check the CRC. SESP_ERR_TRUNCATED if len < 61. */
int sesp_batch_parse_header(const uint8_t *p, size_t len, sesp_batch_header *h);

/* Full validation of exactly one batch starting at p (len may extend past it;
 * the batch is batch_length+12 bytes): header, batch size <= max_bytes
 * (SESP_ERR_TOO_LARGE; max_bytes <= 0 means no limit), CRC (SESP_ERR_CORRUPT),
 * decompression bounded by SESP_BATCH_MAX_DECOMPRESSED, each record's varint
 * framing (SESP_ERR_MALFORMED; undecodable compressed data SESP_ERR_CORRUPT),
 * and record semantics (SESP_ERR_INVALID_ARG): records count == records
 * present, offset deltas strictly increasing and within lastOffsetDelta.
 * Magic 0/1 -> SESP_ERR_UNSUPPORTED. */
int sesp_batch_validate(const uint8_t *p, size_t len, int32_t max_bytes, sesp_batch_header *h);

/* Recomputes and stores the CRC of a batch of `size` bytes (after in-place edits). */
void sesp_batch_update_crc(uint8_t *p, size_t size);

/* One record header (key is a UTF-8 string, value may be NULL with len -1). */
typedef struct sesp_record_hdr {
    const uint8_t *key;
    int32_t key_len;
    const uint8_t *value;
    int32_t value_len;          /* -1 = null */
} sesp_record_hdr;

/* One decoded record; pointers are valid until the next sesp_batch_iter_next/free. */
typedef struct sesp_record {
    int64_t offset;             /* base_offset + offsetDelta */
    int64_t timestamp;          /* base_timestamp + timestampDelta (or maxTimestamp with LogAppendTime) */
    int8_t attributes;
    const uint8_t *key;
    int32_t key_len;            /* -1 = null */
    const uint8_t *value;
    int32_t value_len;          /* -1 = null */
    int32_t header_count;
    const uint8_t *headers;     /* raw headers area; decode with sesp_record_next_header */
    size_t headers_len;
} sesp_record;

typedef struct sesp_batch_iter {
    sesp_batch_header h;
    uint8_t *owned;             /* decompressed records, if compressed */
    struct scratch *lent;       /* the thread's buffer owned points into, if borrowed */
    sesp_bufr r;
    int32_t remaining;
    int32_t prev_delta;         /* offsetDelta of the previous record */
    int err;
} sesp_batch_iter;

/* Starts iterating one batch (verifies CRC, decompresses with the bound
 * max_decompressed, 0 = SESP_BATCH_MAX_DECOMPRESSED).  Always call _free. */
int sesp_batch_iter_init(sesp_batch_iter *it, const uint8_t *p, size_t len, size_t max_decompressed);
/* 1 = *rec filled, 0 = end of batch (checks nothing is left over), <0 = SESP_ERR_*. */
int sesp_batch_iter_next(sesp_batch_iter *it, sesp_record *rec);
void sesp_batch_iter_free(sesp_batch_iter *it);
/* Reads the next header of a record: init r over rec->headers/headers_len and
 * call header_count times. 0 or SESP_ERR_*. */
int sesp_record_next_header(sesp_bufr *r, sesp_record_hdr *out);

/* ---- builder (batch_build.c) ---- */
typedef struct sesp_batch_record_in {
    const void *key;
    int32_t key_len;            /* -1 = null */
    const void *value;
    int32_t value_len;          /* -1 = null */
    int64_t timestamp;          /* absolute; the builder derives deltas */
    const sesp_record_hdr *headers;
    int32_t header_count;
} sesp_batch_record_in;

typedef struct sesp_batch_build_opts {
    int codec;                  /* SESP_CODEC_* */
    bool snappy_xerial;         /* with SNAPPY: use the Java client's xerial framing */
    int64_t base_offset;
    int32_t partition_leader_epoch;
    int64_t producer_id;        /* -1 if none */
    int16_t producer_epoch;     /* -1 if none */
    int32_t base_sequence;      /* -1 if none */
    bool transactional;
    bool control;
    bool log_append_time;
} sesp_batch_build_opts;

/* Sensible defaults: no codec, offset 0, no producer id. */
void sesp_batch_build_opts_init(sesp_batch_build_opts *o);
/* Builds one v2 batch with n >= 1 records into a malloc'ed buffer (*out, free()). */
int sesp_batch_build(const sesp_batch_build_opts *o, const sesp_batch_record_in *recs, int n,
                     uint8_t **out, size_t *out_len);

#endif
