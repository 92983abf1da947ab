/*
 * Segment indexes (internal to broker/log).  Both index kinds are
 * preallocated, memory-mapped files of fixed-size big-endian entries, grown
 * to their maximum size while the segment is active and trimmed to the used
 * length when it is rolled or closed, as Kafka does.  sesp_idxfile is that
 * shared mechanism; the offset index (8-byte entries: relative offset int32 +
 * physical position int32) lives in index.c, the time index in timeindex.c.
 * Indexes are derived data: anything doubtful on disk is rebuilt from the log.
 */
#ifndef SESP_LOG_INDEX_H
#define SESP_LOG_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sesp_idxfile {
    int fd;
    uint8_t *map;           /* NULL when map_len == 0 */
    size_t map_len;
    size_t entry_size;
    int32_t entries;        /* used entries */
    int32_t max_entries;    /* entries that fit in the preallocated file */
    int32_t file_entries;   /* file length / entry_size at open (before preallocation) */
    bool file_ragged;       /* file length was not a multiple of entry_size */
    size_t dirty_len;       /* prefix of the map that may hold non-zero bytes (the
                               rest is preallocation, zero): what reset must clear */
} sesp_idxfile;

/* Opens or creates path and maps it, preallocated to max_bytes (rounded down
 * to entries).  entries is set to file_entries (capped); callers check them
 * with their own validator and call sesp_idxfile_reset to rebuild. */
int sesp_idxfile_open(const char *path, size_t entry_size, int64_t max_bytes, sesp_idxfile *f);
/* Empties the index (zeroes what may be non-zero, so a crash leaves no stale entries behind). */
void sesp_idxfile_reset(sesp_idxfile *f);
/* Appenders call this after writing entry number f->entries - 1. */
static inline void sesp_idxfile_note_append(sesp_idxfile *f)
{
    size_t used = (size_t)f->entries * f->entry_size;
    if (used > f->dirty_len)
        f->dirty_len = used;
}
/* Shrinks the file to the used entries (roll/close); further appends fail. */
int sesp_idxfile_trim(sesp_idxfile *f);
int sesp_idxfile_sync(sesp_idxfile *f);
void sesp_idxfile_close(sesp_idxfile *f);
static inline bool sesp_idxfile_full(const sesp_idxfile *f) { return f->entries >= f->max_entries; }

/* Offset index. */
typedef struct sesp_oindex {
    sesp_idxfile f;
    int64_t base_offset;
} sesp_oindex;

#define SESP_OINDEX_ENTRY 8
int sesp_oindex_open(const char *path, int64_t base_offset, int64_t max_bytes, sesp_oindex *ix);
/* Appends (offset, position); offsets and positions must increase. */
int sesp_oindex_append(sesp_oindex *ix, int64_t offset, int64_t position);
/* Position of the last entry whose offset <= target (0 if none). */
int64_t sesp_oindex_lookup(const sesp_oindex *ix, int64_t target);
void sesp_oindex_entry(const sesp_oindex *ix, int32_t i, int64_t *offset, int64_t *position);
/* Keeps the longest valid prefix of entries (strictly increasing, below
 * log_size / next_offset); false if anything but zero padding follows it,
 * meaning the index is corrupt and must be rebuilt. */
bool sesp_oindex_sanitize(sesp_oindex *ix, int64_t log_size, int64_t next_offset_bound);

#endif
