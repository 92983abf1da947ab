/*
 * One log segment (internal to broker/log): the .log file of whole
 * RecordBatch v2 batches plus its offset and time indexes.  A segment knows
 * its base offset (from its name), next offset, size and max timestamp; it
 * can recover itself (validate batches, truncate a torn tail, rebuild indexes)
 * and answer "which batch holds offset X / timestamp T".  Not thread-safe:
 * the owning sesp_log serialises access.
 */
#ifndef SESP_LOG_SEGMENT_H
#define SESP_LOG_SEGMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "batch.h"
#include "index.h"
#include "log.h"
#include "timeindex.h"

typedef struct sesp_segment {
    int64_t base_offset;
    int64_t next_offset;        /* last offset + 1; base_offset when empty */
    int64_t size;               /* bytes of whole batches in the .log */
    int fd;
    sesp_oindex oix;
    sesp_tindex tix;
    int64_t max_timestamp;      /* -1 when empty */
    int64_t offset_of_max_ts;   /* base offset of the first batch holding max_timestamp */
    int64_t first_batch_ts;     /* max timestamp of the first batch; INT64_MIN = not read yet */
    int64_t rolling_base_ms;    /* wall clock when it started taking data (segment.ms), -1 = empty */
    int64_t bytes_since_index;
    bool dirty;                 /* written since the last fsync */
    char *path;                 /* "<dir>/<20-digit base offset>" without extension */
} sesp_segment;

/* How much of the on-disk state sesp_segment_open may trust. */
typedef enum {
    SESP_SEG_TRUST_INDEX,       /* clean shutdown: check indexes, scan only the tail */
    SESP_SEG_SCAN_HEADERS,      /* flushed data: walk batch headers, rebuild indexes if doubtful */
    SESP_SEG_VALIDATE,          /* after the recovery point: CRC and records of every batch */
} sesp_seg_trust;

/* Opens (creating if missing) the segment at base in dir.  *truncated is set
 * when recovery cut a torn or corrupt tail off the .log. */
int sesp_segment_open(const char *dir, int64_t base, const sesp_log_config *cfg, sesp_seg_trust trust,
                      bool *truncated, sesp_segment **out);
/* Appends whole, validated batches whose offsets follow next_offset. */
int sesp_segment_append(sesp_segment *s, const uint8_t *data, size_t len, int32_t index_interval, int64_t now_ms);
/* Position and header of the first batch whose last offset >= offset;
 * SESP_ERR_NOT_FOUND when offset >= next_offset. */
int sesp_segment_find(sesp_segment *s, int64_t offset, int64_t *pos, sesp_batch_header *h);
/* Calls cb for every batch header from the batch holding from_offset to the
 * end (pos = its byte position); a non-zero cb result stops and is returned. */
typedef int (*sesp_segment_hdr_fn)(void *ud, const sesp_batch_header *h, int64_t pos);
int sesp_segment_walk(sesp_segment *s, int64_t from_offset, sesp_segment_hdr_fn cb, void *ud);
/* Position of the first batch at or after the one at pos that holds
 * records (compaction leaves header-only batches); SESP_ERR_NOT_FOUND when
 * none until the end of the segment. */
int sesp_segment_skip_empty(sesp_segment *s, int64_t pos, int64_t *out);
/* Bytes of whole batches from pos fitting max_bytes (KIP-74 min_one). */
int sesp_segment_slice_len(sesp_segment *s, int64_t pos, int32_t max_bytes, bool min_one, int64_t *len);
/* First record with timestamp >= ts and offset >= min_offset; SESP_ERR_NOT_FOUND if none. */
int sesp_segment_find_time(sesp_segment *s, int64_t ts, int64_t min_offset, int64_t *offset, int64_t *rec_ts);
/* Offset of the first record carrying the segment's max timestamp. */
int sesp_segment_max_ts_offset(sesp_segment *s, int64_t *offset);
/* The first batch's max timestamp (Kafka's getFirstBatchTimestamp, what
 * max.compaction.lag.ms is measured from); -1 when the segment is empty or
 * unreadable.  Read once from the file, then cached. */
int64_t sesp_segment_first_batch_ts(sesp_segment *s);
/* Roll/close: write the final time-index entry and trim both indexes. */
int sesp_segment_seal(sesp_segment *s);
int sesp_segment_flush(sesp_segment *s);
static inline bool sesp_segment_index_full(const sesp_segment *s)
{
    return sesp_idxfile_full(&s->oix.f) || sesp_idxfile_full(&s->tix.f);
}
void sesp_segment_close(sesp_segment *s);
/* Closes and unlinks the segment's files. */
int sesp_segment_remove(sesp_segment *s);

#endif
