/*
 * The preallocated memory-mapped index file shared by both index kinds, and
 * the offset index (see index.h).  Entries are big-endian so index files are
 * byte-compatible in layout with Kafka's.
 */
#include "index.h"
#include "common/err.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static int map_file(sesp_idxfile *f, size_t len)
{
    if (f->map)
        munmap(f->map, f->map_len);
    f->map = NULL;
    f->map_len = 0;
    if (len == 0)
        return 0;
    void *m = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, f->fd, 0);
    if (m == MAP_FAILED)
        return SESP_ERR_IO;
    f->map = m;
    f->map_len = len;
    return 0;
}

int sesp_idxfile_open(const char *path, size_t entry_size, int64_t max_bytes, sesp_idxfile *f)
{
    memset(f, 0, sizeof *f);
    f->entry_size = entry_size;
    f->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (f->fd < 0)
        return SESP_ERR_IO;
    struct stat st;
    if (fstat(f->fd, &st) != 0)
        goto fail;
    if (max_bytes < (int64_t)entry_size)
        max_bytes = (int64_t)entry_size;
    if (max_bytes > INT32_MAX)
        max_bytes = INT32_MAX;
    f->max_entries = (int32_t)(max_bytes / (int64_t)entry_size);
    int64_t flen = st.st_size;
    f->file_ragged = flen % (int64_t)entry_size != 0;
    int64_t fe = flen / (int64_t)entry_size;
    f->file_entries = fe > f->max_entries ? f->max_entries : (int32_t)fe;
    size_t want = (size_t)f->max_entries * entry_size;
    /* An existing larger file (index size lowered by config) is mapped as is. */
    if ((int64_t)want < flen)
        want = (size_t)fe * entry_size, f->max_entries = (int32_t)fe;
    if ((int64_t)want != flen && ftruncate(f->fd, (off_t)want) != 0)
        goto fail;
    if (map_file(f, want))
        goto fail;
    /* Only what the file held before preallocation can be non-zero:
     * ftruncate extends with zeroes. */
    f->dirty_len = (int64_t)want < flen ? want : (size_t)flen;
    f->entries = f->file_entries;
    return 0;
fail:;
    int e = errno;
    sesp_idxfile_close(f);
    errno = e;
    return SESP_ERR_IO;
}

void sesp_idxfile_reset(sesp_idxfile *f)
{
    /* Clearing the whole preallocated map would touch (and later write
     * back) every page of it on each new segment, though a fresh file is
     * all zeroes; only the possibly written prefix needs it. */
    size_t used = (size_t)f->entries * f->entry_size;
    size_t n = f->dirty_len > used ? f->dirty_len : used;
    if (n > f->map_len)
        n = f->map_len;
    if (f->map && n > 0)
        memset(f->map, 0, n);
    f->dirty_len = 0;
    f->entries = 0;
}

int sesp_idxfile_trim(sesp_idxfile *f)
{
    if (f->fd < 0)
        return 0;
    size_t len = (size_t)f->entries * f->entry_size;
    if (len == f->map_len)
        return 0;
    if (f->map)
        munmap(f->map, f->map_len);
    f->map = NULL;
    f->map_len = 0;
    if (ftruncate(f->fd, (off_t)len) != 0)
        return SESP_ERR_IO;
    f->max_entries = f->entries;
    if (f->dirty_len > len)
        f->dirty_len = len;
    return map_file(f, len);
}

int sesp_idxfile_sync(sesp_idxfile *f)
{
    if (f->map && msync(f->map, f->map_len, MS_SYNC) != 0)
        return SESP_ERR_IO;
    if (f->fd >= 0 && fdatasync(f->fd) != 0)
        return SESP_ERR_IO;
    return 0;
}

void sesp_idxfile_close(sesp_idxfile *f)
{
    if (f->map)
        munmap(f->map, f->map_len);
    if (f->fd >= 0)
        close(f->fd);
    f->map = NULL;
    f->map_len = 0;
    f->fd = -1;
}

static uint32_t rd32(const uint8_t *p) { return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3]; }
static void wr32(uint8_t *p, uint32_t v) { p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v; }

int sesp_oindex_open(const char *path, int64_t base_offset, int64_t max_bytes, sesp_oindex *ix)
{
    ix->base_offset = base_offset;
    return sesp_idxfile_open(path, SESP_OINDEX_ENTRY, max_bytes, &ix->f);
}

void sesp_oindex_entry(const sesp_oindex *ix, int32_t i, int64_t *offset, int64_t *position)
{
    assert(i >= 0 && i < ix->f.entries);
    const uint8_t *e = ix->f.map + (size_t)i * SESP_OINDEX_ENTRY;
    *offset = ix->base_offset + (int32_t)rd32(e);
    *position = (int32_t)rd32(e + 4);
}

int sesp_oindex_append(sesp_oindex *ix, int64_t offset, int64_t position)
{
    if (sesp_idxfile_full(&ix->f))
        return SESP_ERR_TOO_LARGE;
    int64_t rel = offset - ix->base_offset;
    assert(rel >= 0 && rel <= INT32_MAX && position >= 0 && position <= INT32_MAX);
    if (ix->f.entries > 0) {
        int64_t lo, lp;
        sesp_oindex_entry(ix, ix->f.entries - 1, &lo, &lp);
        assert(offset > lo && position > lp);
    }
    uint8_t *e = ix->f.map + (size_t)ix->f.entries * SESP_OINDEX_ENTRY;
    wr32(e, (uint32_t)rel);
    wr32(e + 4, (uint32_t)position);
    ix->f.entries++;
    sesp_idxfile_note_append(&ix->f);
    return 0;
}

int64_t sesp_oindex_lookup(const sesp_oindex *ix, int64_t target)
{
    int32_t lo = 0, hi = ix->f.entries - 1, best = -1;
    while (lo <= hi) {
        int32_t mid = lo + (hi - lo) / 2;
        int64_t o, p;
        sesp_oindex_entry(ix, mid, &o, &p);
        if (o <= target) {
            best = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    if (best < 0)
        return 0;
    int64_t o, p;
    sesp_oindex_entry(ix, best, &o, &p);
    return p;
}

static bool all_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

bool sesp_oindex_sanitize(sesp_oindex *ix, int64_t log_size, int64_t next_offset_bound)
{
    sesp_idxfile *f = &ix->f;
    int32_t n = f->entries, good = 0;
    int64_t po = -1, pp = -1;
    for (int32_t i = 0; i < n; i++) {
        const uint8_t *e = f->map + (size_t)i * SESP_OINDEX_ENTRY;
        int64_t rel = (int32_t)rd32(e), pos = (int32_t)rd32(e + 4);
        if (rel < 0 || pos < 0 || rel <= po || pos <= pp || pos >= log_size || ix->base_offset + rel >= next_offset_bound)
            break;
        po = rel;
        pp = pos;
        good++;
    }
    f->entries = good;
    if (f->file_ragged)
        return false;
    return all_zero(f->map + (size_t)good * SESP_OINDEX_ENTRY, (size_t)(n - good) * SESP_OINDEX_ENTRY);
}
