/*
 * The time index of a segment (internal to broker/log): 12-byte entries of
 * (max timestamp so far int64, offset of that timestamp as a relative int32),
 * appended alongside offset-index entries when the maximum timestamp grew, and
 * once more on roll/close so the last entry holds the segment's maximum.
 */
#ifndef SESP_LOG_TIMEINDEX_H
#define SESP_LOG_TIMEINDEX_H

#include "index.h"

typedef struct sesp_tindex {
    sesp_idxfile f;
    int64_t base_offset;
} sesp_tindex;

#define SESP_TINDEX_ENTRY 12
int sesp_tindex_open(const char *path, int64_t base_offset, int64_t max_bytes, sesp_tindex *ix);
/* Appends if ts is larger than the last entry's timestamp (else no-op). */
int sesp_tindex_maybe_append(sesp_tindex *ix, int64_t ts, int64_t offset);
void sesp_tindex_entry(const sesp_tindex *ix, int32_t i, int64_t *ts, int64_t *offset);
/* Offset of the last entry with timestamp < ts, or the base offset: every
 * record before it has a smaller timestamp, so a search can start there. */
int64_t sesp_tindex_lookup(const sesp_tindex *ix, int64_t ts);
/* As sesp_oindex_sanitize: timestamps and offsets must increase, offsets stay below next_offset_bound. */
bool sesp_tindex_sanitize(sesp_tindex *ix, int64_t next_offset_bound);

#endif
