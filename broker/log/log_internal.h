/*
 * The sesp_log structure, shared by log.c and the cleaner (internal to
 * broker/log).  Every field is guarded by mu unless noted.
 */
#ifndef SESP_LOG_INTERNAL_H
#define SESP_LOG_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "log.h"
#include "pstate.h"
#include "segment.h"

struct sesp_log {
    pthread_mutex_t mu;
    char *dir;
    sesp_log_config cfg;
    sesp_segment **segs;        /* ascending base offset; the last is active */
    int nseg, capseg;
    int64_t log_start;
    int64_t recovery_point;     /* offsets below are fsync'ed */
    int64_t unflushed;          /* records appended since the last flush */
    int64_t last_flush_ms;
    sesp_pstate ps;             /* idempotent producers, complete up to the end offset */
    int64_t clean_end;          /* offsets below were compacted by the last cleaning pass */
    bool in_cleaner;            /* registered with the cleaner (cleaner's lock) */
};

int sesp_log_fsync_dir(const char *dir);

#endif
