/*
 * A partition's log: the public surface of broker/log.  A log is a directory
 * (<log.dirs>/<topic>-<partition>/) of segments named by their base offset
 * (20-digit zero-padded, as Kafka): NNN.log holds RecordBatch v2 bytes as
 * produced (with baseOffset assigned), NNN.index the sparse offset index,
 * NNN.timeindex the time index.  Offsets are assigned here; all calls are
 * thread-safe (one mutex per log).  A log-start-offset checkpoint file keeps
 * DeleteRecords/retention across restarts, and a clean-shutdown marker lets
 * recovery skip full validation after an orderly close.
 */
#ifndef SESP_LOG_H
#define SESP_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Kafka error codes the log reports in sesp_log_append_info.kafka_error. */
#define SESP_LOG_KERR_NONE 0
#define SESP_LOG_KERR_CORRUPT_MESSAGE 2
#define SESP_LOG_KERR_MESSAGE_TOO_LARGE 10
#define SESP_LOG_KERR_RECORD_LIST_TOO_LARGE 18
#define SESP_LOG_KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT 43
#define SESP_LOG_KERR_KAFKA_STORAGE_ERROR 56
#define SESP_LOG_KERR_INVALID_RECORD 87
#define SESP_LOG_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER 45
#define SESP_LOG_KERR_INVALID_PRODUCER_EPOCH 47
#define SESP_LOG_KERR_UNKNOWN_PRODUCER_ID 59

typedef struct sesp_log sesp_log;

typedef struct sesp_log_config {
    int64_t segment_bytes;          /* log.segment.bytes / segment.bytes, default 1073741824 */
    int64_t segment_ms;             /* log.roll.ms / segment.ms, default 604800000 */
    int64_t retention_ms;           /* log.retention.ms / retention.ms, default 604800000; -1 = infinite */
    int64_t retention_bytes;        /* -1 = infinite (default) */
    int64_t flush_interval_messages;/* log.flush.interval.messages; default INT64_MAX (page cache); 1 = fsync every append */
    int64_t flush_interval_ms;      /* default INT64_MAX */
    int32_t max_message_bytes;      /* message.max.bytes / max.message.bytes, default 1048588: the max size of one record batch */
    bool log_append_time;           /* message.timestamp.type=LogAppendTime */
    int32_t index_interval_bytes;   /* default 4096 */
    int32_t segment_index_bytes;    /* default 10485760 */
    /* cleanup.policy: "delete" -> delete_retention only (default), "compact"
     * -> compact only, "compact,delete" -> both. */
    bool compact;
    bool delete_retention;          /* retention.ms / retention.bytes delete old segments */
    int64_t delete_retention_ms;    /* delete.retention.ms: tombstone lifetime after first cleaned, default 86400000 */
    double min_cleanable_dirty_ratio;   /* min.cleanable.dirty.ratio, default 0.5 */
    int64_t min_compaction_lag_ms;  /* min.compaction.lag.ms, default 0 */
    int64_t max_compaction_lag_ms;  /* max.compaction.lag.ms, default INT64_MAX */
} sesp_log_config;

void sesp_log_config_defaults(sesp_log_config *c);

/* Opens (creating if missing) the partition directory and runs recovery: every
 * segment's batches after the last flushed checkpoint are validated (a
 * clean-shutdown marker file lets it skip full validation) and a torn or
 * corrupt tail is truncated; indexes are rebuilt if missing/corrupt. */
int sesp_log_open(const char *dir, const sesp_log_config *cfg, sesp_log **out);
/* Flush, trim indexes, write the clean-shutdown marker, free.  NULL is a no-op. */
void sesp_log_close(sesp_log *l);
/* Close and remove the directory (DeleteTopics). */
int sesp_log_delete(sesp_log *l);
/* AlterConfigs at runtime. */
void sesp_log_set_config(sesp_log *l, const sesp_log_config *cfg);

typedef struct sesp_log_append_info {
    int64_t base_offset;        /* first offset assigned */
    int64_t last_offset;
    int64_t log_append_time;    /* -1 unless LogAppendTime */
    int64_t log_start_offset;
    int32_t record_count;
    bool duplicate;             /* an idempotent retry of a stored batch: nothing appended,
                                   offsets are the original ones */
    int16_t kafka_error;        /* SESP_LOG_KERR_* when rc != 0 */
    const char *error_message;  /* static string, for the response's ErrorMessage */
} sesp_log_append_info;

/* Validates every batch in `records` (one produce partition's Records field:
 * one or more RecordBatch v2), assigns offsets (rewrites baseOffset in place in
 * the caller's buffer; with LogAppendTime also rewrites maxTimestamp + the
 * timestamp-type bit and recomputes the CRC), appends, updates indexes, rolls
 * segments by size/time, applies the flush policy.  Nothing is appended unless
 * every batch is valid.  Magic 0/1 -> UNSUPPORTED_FOR_MESSAGE_FORMAT.
 * Batches with a producer id are checked against the partition's producer
 * state (idempotence): a retry of one of the producer's last 5 batches
 * succeeds with the original offsets and duplicate set; an old epoch gives
 * INVALID_PRODUCER_EPOCH, a sequence gap OUT_OF_ORDER_SEQUENCE_NUMBER, an
 * unknown producer not starting at sequence 0 UNKNOWN_PRODUCER_ID.
 * Returns 0 or a SESP_ERR_* with info->kafka_error set. */
int sesp_log_append(sesp_log *l, uint8_t *records, size_t len, int64_t now_ms, sesp_log_append_info *info);

typedef struct sesp_log_slice {
    int fd;             /* dup()'ed fd of the segment file, owned by the caller (close it), -1 if empty */
    int64_t file_pos;   /* byte position in the file */
    int64_t length;     /* bytes to send; always whole batches */
} sesp_log_slice;

/* Locates `offset` and returns up to max_bytes of whole batches from ONE
 * segment starting at the batch containing offset; if the first batch is
 * larger than max_bytes it is still returned whole when min_one is true
 * (KIP-74); otherwise an empty slice.  Leading batches with no records
 * (left by compaction) are skipped when a batch with records follows.
 * offset == end offset -> empty slice (fd -1).  offset < log start or > end
 * -> SESP_ERR_RANGE. */
int sesp_log_read(sesp_log *l, int64_t offset, int32_t max_bytes, bool min_one, sesp_log_slice *out);

int64_t sesp_log_start_offset(sesp_log *l);
int64_t sesp_log_end_offset(sesp_log *l);      /* next offset to assign (= high watermark on our single node) */
int64_t sesp_log_size_bytes(sesp_log *l);
int sesp_log_segment_count(sesp_log *l);

/* ListOffsets: ts -2 earliest, -1 latest, -3 max timestamp (offset and
 * timestamp of the record with the largest timestamp), else the first offset
 * whose timestamp >= ts (via the time index); not found -> *offset = -1.
 * *timestamp is -1 when not meaningful. */
/* A single node is the only leader a partition ever has, so its leader
 * epoch never moves from the first one.  Appends stamp it into every batch
 * and Metadata/ListOffsets/OffsetForLeaderEpoch report it, so clients that
 * validate positions by epoch (KIP-320) find one consistent history. */
#define SESP_LOG_LEADER_EPOCH 0

#define SESP_LOG_TS_EARLIEST (-2)
#define SESP_LOG_TS_LATEST (-1)
#define SESP_LOG_TS_MAX_TIMESTAMP (-3)
int sesp_log_offset_for_time(sesp_log *l, int64_t ts, int64_t *offset, int64_t *timestamp);

/* ListOffsets v0 (Kafka's legacyFetchOffsetsBefore), at most max offsets in
 * descending order: ts -1 gives the end offset then every segment's base
 * offset (the first one's raised to the log start), -2 the log start
 * offset, any other ts the base offsets of the segments whose .log file was
 * last modified at or before ts (the end offset first when the active
 * segment holds data and ts >= now_ms).  *out is malloc'ed (NULL when *n is
 * 0), the caller frees it.  max < 0 -> SESP_ERR_INVALID_ARG. */
int sesp_log_offsets_before(sesp_log *l, int64_t ts, int32_t max, int64_t now_ms, int64_t **out, int32_t *n);

/* Deletes whole closed segments past retention.ms (by the segment's max
 * timestamp) or past retention.bytes; also rolls the active segment when
 * segment.ms elapsed.  Returns segments deleted (>= 0) or SESP_ERR_*. */
int sesp_log_apply_retention(sesp_log *l, int64_t now_ms);
/* Forgets the idempotent producers whose last batch's max timestamp is
 * expiration_ms (producer.id.expiration.ms) or more before now_ms, as
 * Kafka's removeExpiredProducers; their next batch must start a new
 * sequence (0), anything else gets UNKNOWN_PRODUCER_ID.  Snapshots written
 * later no longer hold them.  Returns the number forgotten. */
int sesp_log_expire_producers(sesp_log *l, int64_t now_ms, int64_t expiration_ms);
int sesp_log_flush(sesp_log *l);               /* fsync data + indexes */
int sesp_log_maybe_flush_time(sesp_log *l, int64_t now_ms); /* for log.flush.interval.ms */
/* Moves the log start offset forward (DeleteRecords); deletes segments wholly
 * below it.  new_start > end offset -> SESP_ERR_RANGE; <= start is a no-op. */
int sesp_log_truncate_prefix(sesp_log *l, int64_t new_start);

#endif
