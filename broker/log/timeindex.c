/*
 * The time index (see timeindex.h), on top of the shared mapped index file.
 */
#include "timeindex.h"
#include "common/err.h"

#include <assert.h>
#include <string.h>

static uint64_t rd64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }

int sesp_tindex_open(const char *path, int64_t base_offset, int64_t max_bytes, sesp_tindex *ix)
{
    ix->base_offset = base_offset;
    return sesp_idxfile_open(path, SESP_TINDEX_ENTRY, max_bytes, &ix->f);
}

void sesp_tindex_entry(const sesp_tindex *ix, int32_t i, int64_t *ts, int64_t *offset)
{
    assert(i >= 0 && i < ix->f.entries);
    const uint8_t *e = ix->f.map + (size_t)i * SESP_TINDEX_ENTRY;
    *ts = (int64_t)rd64(e);
    *offset = ix->base_offset + (int32_t)rd32(e + 8);
}

int sesp_tindex_maybe_append(sesp_tindex *ix, int64_t ts, int64_t offset)
{
    if (ix->f.entries > 0) {
        int64_t lt, lo;
        sesp_tindex_entry(ix, ix->f.entries - 1, &lt, &lo);
        if (ts <= lt || offset <= lo)
            return 0;
    }
    if (sesp_idxfile_full(&ix->f))
        return SESP_ERR_TOO_LARGE;
    int64_t rel = offset - ix->base_offset;
    assert(rel >= 0 && rel <= INT32_MAX);
    uint8_t *e = ix->f.map + (size_t)ix->f.entries * SESP_TINDEX_ENTRY;
    for (int i = 0; i < 8; i++)
        e[i] = (uint8_t)((uint64_t)ts >> (56 - 8 * i));
    for (int i = 0; i < 4; i++)
        e[8 + i] = (uint8_t)((uint32_t)rel >> (24 - 8 * i));
    ix->f.entries++;
    sesp_idxfile_note_append(&ix->f);
    return 0;
}

int64_t sesp_tindex_lookup(const sesp_tindex *ix, int64_t ts)
{
    int32_t lo = 0, hi = ix->f.entries - 1, best = -1;
    while (lo <= hi) {
        int32_t mid = lo + (hi - lo) / 2;
        int64_t t, o;
        sesp_tindex_entry(ix, mid, &t, &o);
        if (t < ts) {
            best = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    if (best < 0)
        return ix->base_offset;
    int64_t t, o;
    sesp_tindex_entry(ix, best, &t, &o);
    return o;
}

bool sesp_tindex_sanitize(sesp_tindex *ix, int64_t next_offset_bound)
{
    sesp_idxfile *f = &ix->f;
    int32_t n = f->entries, good = 0;
    int64_t pt = INT64_MIN, po = -1;
    for (int32_t i = 0; i < n; i++) {
        const uint8_t *e = f->map + (size_t)i * SESP_TINDEX_ENTRY;
        int64_t t = (int64_t)rd64(e), rel = (int32_t)rd32(e + 8);
        if (rel < 0 || rel <= po || (good > 0 && t <= pt) || ix->base_offset + rel >= next_offset_bound)
            break;
        pt = t;
        po = rel;
        good++;
    }
    f->entries = good;
    if (f->file_ragged)
        return false;
    for (size_t i = (size_t)good * SESP_TINDEX_ENTRY; i < (size_t)n * SESP_TINDEX_ENTRY; i++)
        if (f->map[i])
            return false;
    return true;
}
