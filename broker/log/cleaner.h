/*
 * Log compaction (broker/log/cleaner.c): a background thread that keeps, in
 * the closed segments of logs with cleanup.policy=compact, only the latest
 * record of each key (offsets preserved), drops tombstones delete.retention.ms
 * after the pass that first saw them, and swaps cleaned segments in
 * crash-safely.  Logs register themselves (open / set_config) and unregister
 * on close; these calls are the cleaner's whole public surface.
 */
#ifndef SESP_LOG_CLEANER_H
#define SESP_LOG_CLEANER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

typedef struct sesp_log_cleaner_config {
    int64_t io_max_bytes_per_second;    /* log.cleaner.io.max.bytes.per.second; <= 0 = unlimited */
    int64_t backoff_ms;                 /* log.cleaner.backoff.ms: sleep when nothing is cleanable */
    size_t dedupe_buffer_bytes;         /* log.cleaner.dedupe.buffer.size: bound of the key map */
} sesp_log_cleaner_config;

/* Defaults: 32 MiB/s (reads + writes; leaves produce latency alone on two
 * cores), backoff 1000 ms, 128 MiB key map. */
void sesp_log_cleaner_config_defaults(sesp_log_cleaner_config *c);
/* Starts the cleaner thread (one per process).  0 or SESP_ERR_* (STATE if running). */
int sesp_log_cleaner_start(const sesp_log_cleaner_config *c);
/* Stops and joins the thread; a pass in progress stops at its next batch. */
void sesp_log_cleaner_stop(void);

typedef struct sesp_log_clean_stats {
    int segments_in, segments_out;
    int64_t bytes_read, bytes_written;
    int64_t records_kept, records_dropped, tombstones_dropped;
} sesp_log_clean_stats;

/* One cleaning pass over l now, whatever the dirty ratio (tests, tools; the
 * thread calls it too).  1 = cleaned, 0 = nothing cleanable, <0 SESP_ERR_*.
 * stats may be NULL. */
int sesp_log_clean(sesp_log *l, int64_t now_ms, sesp_log_clean_stats *stats);
/* The fraction of the cleanable part of the log not yet cleaned (0..1). */
double sesp_log_dirty_ratio(sesp_log *l, int64_t now_ms);
/* Whether the cleaner thread would pick l at now_ms: cleanup.policy has
 * compact, some closed segment is dirty, and the dirty ratio is above
 * min.cleanable.dirty.ratio or a dirty segment's first batch is older than
 * max.compaction.lag.ms.  The thread decides with it (on the wall clock). */
bool sesp_log_cleaner_due(sesp_log *l, int64_t now_ms);

/* Test hook: 1 = a pass stops (SESP_ERR_STATE) right after writing and
 * fsyncing the .cleaned file, 2 = right after renaming it to .swap, as if the
 * broker crashed there.  0 = normal. */
extern int sesp_log_cleaner_crash_point;

/* ---- used by log.c ---- */
void sesp_log_cleaner_register(sesp_log *l);
/* Waits for a pass on l to finish. */
void sesp_log_cleaner_unregister(sesp_log *l);
/* At open, before the segments are listed: completes an interrupted swap
 * (".swap" files) and deletes abandoned ".cleaned" files.  0 or SESP_ERR_IO. */
int sesp_log_cleaner_recover_dir(const char *dir);

#endif
