/*
 * Log segments (see segment.h).  Recovery never trusts the disk: every
 * header read is checked against the file size and the offsets before it, a
 * batch that fails ends the segment (the tail is truncated), and indexes that
 * do not agree with the .log are rebuilt from it.
 */
#include "segment.h"
#include "common/err.h"

#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static char *seg_file(const sesp_segment *s, const char *ext)
{
    size_t n = strlen(s->path) + strlen(ext) + 1;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s%s", s->path, ext);
    return p;
}

static int pread_full(int fd, void *buf, size_t n, int64_t pos)
{
    uint8_t *b = buf;
    while (n > 0) {
        ssize_t r = pread(fd, b, n, (off_t)pos);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return SESP_ERR_IO;
        if (r == 0)
            return SESP_ERR_TRUNCATED;
        b += r;
        n -= (size_t)r;
        pos += r;
    }
    return 0;
}

/* Walking many small batches one pread per header is slow, so header reads
 * go through a small window of the file that is refilled on a miss. */
typedef struct hdr_cache {
    int64_t start;
    size_t len;
    uint8_t buf[16384];
} hdr_cache;

/* Header of the batch at pos, checked to lie wholly inside the segment. */
static int read_header(sesp_segment *s, int64_t pos, sesp_batch_header *h, hdr_cache *c)
{
    if (pos < 0 || pos + SESP_BATCH_HEADER_SIZE > s->size)
        return SESP_ERR_CORRUPT;
    if (pos < c->start || pos + SESP_BATCH_HEADER_SIZE > c->start + (int64_t)c->len) {
        int64_t n = s->size - pos;
        if (n > (int64_t)sizeof c->buf)
            n = (int64_t)sizeof c->buf;
        c->len = 0;
        int rc = pread_full(s->fd, c->buf, (size_t)n, pos);
        if (rc)
            return rc;
        c->start = pos;
        c->len = (size_t)n;
    }
    const uint8_t *b = c->buf + (pos - c->start);
    if (sesp_batch_parse_header(b, SESP_BATCH_HEADER_SIZE, h) != 0 || sesp_batch_size(h) > s->size - pos ||
        h->last_offset_delta < 0 || h->base_offset < s->base_offset)
        return SESP_ERR_CORRUPT;
    return 0;
}

static int read_batch(sesp_segment *s, int64_t pos, const sesp_batch_header *h, uint8_t **out)
{
    size_t n = (size_t)sesp_batch_size(h);
    uint8_t *b = malloc(n);
    if (!b)
        return SESP_ERR_NOMEM;
    int rc = pread_full(s->fd, b, n, pos);
    if (rc) {
        free(b);
        return rc;
    }
    *out = b;
    return 0;
}

static void note_batch(sesp_segment *s, const sesp_batch_header *h)
{
    if (h->max_timestamp > s->max_timestamp) {
        s->max_timestamp = h->max_timestamp;
        s->offset_of_max_ts = h->base_offset;
    }
    s->next_offset = sesp_batch_last_offset(h) + 1;
}

/* Index entries for the batch about to occupy pos (Kafka's rule: one entry
 * once more than index.interval.bytes were written since the last one). */
static int index_batch(sesp_segment *s, const sesp_batch_header *h, int64_t pos, int32_t interval)
{
    int rc = 0;
    if (s->bytes_since_index >= interval || interval <= 0) {
        rc = sesp_oindex_append(&s->oix, h->base_offset, pos);
        if (!rc && s->max_timestamp >= 0)
            rc = sesp_tindex_maybe_append(&s->tix, s->max_timestamp, s->offset_of_max_ts);
        s->bytes_since_index = 0;
    }
    s->bytes_since_index += sesp_batch_size(h);
    return rc == SESP_ERR_TOO_LARGE ? 0 : rc;   /* a full index only costs scanning */
}

/* Walks batches from pos (the first must start at or after next_offset),
 * validating fully or only headers, and stops at the first bad batch; s->size
 * becomes the end of the last good one, *fsize the file's length. */
static int scan(sesp_segment *s, int64_t pos, bool validate, bool reindex, int32_t interval, int64_t *fsize)
{
    struct stat st;
    if (fstat(s->fd, &st) != 0)
        return SESP_ERR_IO;
    *fsize = st.st_size;
    uint8_t *map = NULL;
    if (*fsize > 0) {
        map = mmap(NULL, (size_t)*fsize, PROT_READ, MAP_SHARED, s->fd, 0);
        if (map == MAP_FAILED)
            return SESP_ERR_IO;
    }
    int rc = 0;
    while (pos < *fsize) {
        sesp_batch_header h;
        size_t left = (size_t)(*fsize - pos);
        if ((validate ? sesp_batch_validate(map + pos, left, 0, &h) : sesp_batch_parse_header(map + pos, left, &h)) != 0)
            break;
        int64_t bsize = sesp_batch_size(&h);
        if (bsize > (int64_t)left || h.base_offset < s->next_offset || h.last_offset_delta < 0 ||
            h.base_offset > INT64_MAX - h.last_offset_delta ||
            sesp_batch_last_offset(&h) - s->base_offset > INT32_MAX || pos + bsize > INT32_MAX)
            break;
        if (reindex && (rc = index_batch(s, &h, pos, interval)) != 0)
            break;
        note_batch(s, &h);
        pos += bsize;
    }
    if (map)
        munmap(map, (size_t)*fsize);
    s->size = pos;
    return rc;
}

static int cut_tail(sesp_segment *s, int64_t fsize, bool *truncated)
{
    if (s->size == fsize)
        return 0;
    if (ftruncate(s->fd, (off_t)s->size) != 0)
        return SESP_ERR_IO;
    *truncated = true;
    return 0;
}

static void reset_state(sesp_segment *s)
{
    s->next_offset = s->base_offset;
    s->size = 0;
    s->max_timestamp = -1;
    s->offset_of_max_ts = -1;
    s->first_batch_ts = INT64_MIN;
    s->bytes_since_index = 0;
}

static int full_rebuild(sesp_segment *s, bool validate, int32_t interval, bool *truncated)
{
    reset_state(s);
    sesp_idxfile_reset(&s->oix.f);
    sesp_idxfile_reset(&s->tix.f);
    int64_t fsize;
    int rc = scan(s, 0, validate, true, interval, &fsize);
    return rc ? rc : cut_tail(s, fsize, truncated);
}

/* Clean shutdown path: trust sane indexes and only walk the tail after the
 * last entry.  Anything that does not add up sends us to full validation. */
static int load_trusting_index(sesp_segment *s, int32_t interval, bool *truncated)
{
    struct stat st;
    if (fstat(s->fd, &st) != 0)
        return SESP_ERR_IO;
    reset_state(s);
    int64_t bound = s->base_offset + (int64_t)INT32_MAX + 1;
    if (!sesp_oindex_sanitize(&s->oix, st.st_size, bound) || !sesp_tindex_sanitize(&s->tix, bound))
        return full_rebuild(s, true, interval, truncated);
    int64_t pos = 0;
    if (s->oix.f.entries > 0)
        sesp_oindex_entry(&s->oix, s->oix.f.entries - 1, &s->next_offset, &pos);
    if (s->tix.f.entries > 0)
        sesp_tindex_entry(&s->tix, s->tix.f.entries - 1, &s->max_timestamp, &s->offset_of_max_ts);
    int64_t fsize;
    int rc = scan(s, pos, false, false, interval, &fsize);
    if (rc)
        return rc;
    if (s->size != fsize || s->offset_of_max_ts >= s->next_offset || (pos > 0 && s->size == pos))
        return full_rebuild(s, true, interval, truncated);
    s->bytes_since_index = s->size - pos;
    return 0;
}

int sesp_segment_open(const char *dir, int64_t base, const sesp_log_config *cfg, sesp_seg_trust trust,
                      bool *truncated, sesp_segment **out)
{
    int rc = 0;
    char *lp = NULL, *ip = NULL, *tp = NULL;
    *truncated = false;
    sesp_segment *s = calloc(1, sizeof *s);
    if (!s)
        return SESP_ERR_NOMEM;
    s->fd = -1;
    s->oix.f.fd = -1;
    s->tix.f.fd = -1;
    s->base_offset = base;
    s->rolling_base_ms = -1;
    reset_state(s);
    size_t n = strlen(dir) + 32;
    s->path = malloc(n);
    if (!s->path) {
        rc = SESP_ERR_NOMEM;
        goto out;
    }
    snprintf(s->path, n, "%s/%020" PRId64, dir, base);
    lp = seg_file(s, ".log");
    ip = seg_file(s, ".index");
    tp = seg_file(s, ".timeindex");
    if (!lp || !ip || !tp) {
        rc = SESP_ERR_NOMEM;
        goto out;
    }
    s->fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (s->fd < 0) {
        rc = SESP_ERR_IO;
        goto out;
    }
    if ((rc = sesp_oindex_open(ip, base, cfg->segment_index_bytes, &s->oix)) != 0 ||
        (rc = sesp_tindex_open(tp, base, cfg->segment_index_bytes, &s->tix)) != 0)
        goto out;
    if (trust == SESP_SEG_TRUST_INDEX)
        rc = load_trusting_index(s, cfg->index_interval_bytes, truncated);
    else
        rc = full_rebuild(s, trust == SESP_SEG_VALIDATE, cfg->index_interval_bytes, truncated);
    if (rc)
        goto out;
    struct stat st;
    if (s->size > 0 && fstat(s->fd, &st) == 0)
        s->rolling_base_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
out:
    free(lp);
    free(ip);
    free(tp);
    if (rc) {
        int e = errno;
        sesp_segment_close(s);
        errno = e;
        return rc;
    }
    *out = s;
    return 0;
}

int sesp_segment_append(sesp_segment *s, const uint8_t *data, size_t len, int32_t index_interval, int64_t now_ms)
{
    assert(s->size + (int64_t)len <= INT32_MAX);
    size_t done = 0;
    while (done < len) {
        ssize_t w = pwrite(s->fd, data + done, len - done, (off_t)(s->size + (int64_t)done));
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = errno;
            /* Leave no partial batch behind; recovery would cut it anyway. */
            if (ftruncate(s->fd, (off_t)s->size) != 0) {
                /* nothing more to do: the size we track still excludes it */
            }
            errno = e;
            return SESP_ERR_IO;
        }
        done += (size_t)w;
    }
    if (s->rolling_base_ms < 0)
        s->rolling_base_ms = now_ms;
    size_t off = 0;
    while (off < len) {
        sesp_batch_header h;
        int rc = sesp_batch_parse_header(data + off, len - off, &h);
        assert(rc == 0 && h.base_offset >= s->next_offset);
        (void)rc;
        index_batch(s, &h, s->size + (int64_t)off, index_interval);
        note_batch(s, &h);
        off += (size_t)sesp_batch_size(&h);
    }
    s->size += (int64_t)len;
    s->dirty = true;
    return 0;
}

static hdr_cache *cache_new(void)
{
    hdr_cache *c = malloc(sizeof *c);
    if (c) {
        c->start = 0;
        c->len = 0;
    }
    return c;
}

static int find_cached(sesp_segment *s, int64_t offset, int64_t *pos, sesp_batch_header *h, hdr_cache *c)
{
    if (offset >= s->next_offset)
        return SESP_ERR_NOT_FOUND;
    int64_t p = sesp_oindex_lookup(&s->oix, offset);
    bool from_index = p != 0;
    int64_t prev_next = s->base_offset;
    while (p < s->size) {
        int rc = read_header(s, p, h, c);
        if (rc == 0 && h->base_offset < prev_next)
            rc = SESP_ERR_CORRUPT;
        if (rc == 0 && from_index && h->base_offset > offset)
            rc = SESP_ERR_CORRUPT;      /* index entry past the target */
        if (rc) {
            if (!from_index || rc == SESP_ERR_IO)
                return rc;
            /* A wrong index entry costs a scan from the start, never a wrong answer. */
            from_index = false;
            p = 0;
            prev_next = s->base_offset;
            continue;
        }
        from_index = false;
        if (sesp_batch_last_offset(h) >= offset) {
            *pos = p;
            return 0;
        }
        prev_next = sesp_batch_last_offset(h) + 1;
        p += sesp_batch_size(h);
    }
    return SESP_ERR_NOT_FOUND;
}

int sesp_segment_find(sesp_segment *s, int64_t offset, int64_t *pos, sesp_batch_header *h)
{
    hdr_cache *c = cache_new();
    if (!c)
        return SESP_ERR_NOMEM;
    int rc = find_cached(s, offset, pos, h, c);
    free(c);
    return rc;
}

int sesp_segment_walk(sesp_segment *s, int64_t from_offset, sesp_segment_hdr_fn cb, void *ud)
{
    if (from_offset >= s->next_offset || s->size == 0)
        return 0;
    hdr_cache *c = cache_new();
    if (!c)
        return SESP_ERR_NOMEM;
    int64_t pos;
    sesp_batch_header h;
    int rc = find_cached(s, from_offset < s->base_offset ? s->base_offset : from_offset, &pos, &h, c);
    if (rc == SESP_ERR_NOT_FOUND)
        rc = 0;
    else
        while (rc == 0) {
            if ((rc = cb(ud, &h, pos)) != 0)
                break;
            pos += sesp_batch_size(&h);
            if (pos >= s->size)
                break;
            rc = read_header(s, pos, &h, c);
        }
    free(c);
    return rc;
}

int sesp_segment_skip_empty(sesp_segment *s, int64_t pos, int64_t *out)
{
    hdr_cache *c = cache_new();
    if (!c)
        return SESP_ERR_NOMEM;
    int rc = SESP_ERR_NOT_FOUND;
    while (pos < s->size) {
        sesp_batch_header h;
        int r = read_header(s, pos, &h, c);
        if (r) {
            rc = r;
            break;
        }
        if (h.records_count != 0) {
            *out = pos;
            rc = 0;
            break;
        }
        pos += sesp_batch_size(&h);
    }
    free(c);
    return rc;
}

int sesp_segment_slice_len(sesp_segment *s, int64_t pos, int32_t max_bytes, bool min_one, int64_t *len)
{
    hdr_cache *c = cache_new();
    if (!c)
        return SESP_ERR_NOMEM;
    sesp_batch_header h;
    int rc = read_header(s, pos, &h, c);
    if (rc)
        goto out;
    int64_t total = sesp_batch_size(&h);
    if (total > max_bytes) {
        *len = min_one ? total : 0;
        goto out;
    }
    while (pos + total < s->size) {
        if ((rc = read_header(s, pos + total, &h, c)) != 0)
            goto out;
        if (total + sesp_batch_size(&h) > max_bytes)
            break;
        total += sesp_batch_size(&h);
    }
    *len = total;
out:
    free(c);
    return rc;
}

/* First record at or after min_offset with timestamp >= ts in the batch at pos: 1 found, 0 not, <0 error. */
static int search_batch(sesp_segment *s, int64_t pos, const sesp_batch_header *h, int64_t ts, int64_t min_offset,
                        int64_t *offset, int64_t *rec_ts)
{
    uint8_t *b;
    int rc = read_batch(s, pos, h, &b);
    if (rc)
        return rc;
    sesp_batch_iter it;
    sesp_record rec;
    rc = sesp_batch_iter_init(&it, b, (size_t)sesp_batch_size(h), 0);
    if (rc == 0) {
        while ((rc = sesp_batch_iter_next(&it, &rec)) == 1) {
            if (rec.timestamp >= ts && rec.offset >= min_offset) {
                *offset = rec.offset;
                *rec_ts = rec.timestamp;
                break;
            }
        }
    }
    sesp_batch_iter_free(&it);
    free(b);
    return rc;
}

int sesp_segment_find_time(sesp_segment *s, int64_t ts, int64_t min_offset, int64_t *offset, int64_t *rec_ts)
{
    if (s->max_timestamp < ts || min_offset >= s->next_offset)
        return SESP_ERR_NOT_FOUND;
    int64_t start = sesp_tindex_lookup(&s->tix, ts);
    if (start < min_offset)
        start = min_offset;
    if (start < s->base_offset)
        start = s->base_offset;
    hdr_cache *c = cache_new();
    if (!c)
        return SESP_ERR_NOMEM;
    int64_t pos;
    sesp_batch_header h;
    int rc = find_cached(s, start, &pos, &h, c);
    while (rc == 0) {
        if (h.max_timestamp >= ts && sesp_batch_last_offset(&h) >= min_offset) {
            rc = search_batch(s, pos, &h, ts, min_offset, offset, rec_ts);
            if (rc == 1) {
                rc = 0;
                goto out;
            }
            if (rc < 0)
                goto out;
        }
        pos += sesp_batch_size(&h);
        if (pos >= s->size)
            break;
        rc = read_header(s, pos, &h, c);
    }
    if (rc == 0)
        rc = SESP_ERR_NOT_FOUND;
out:
    free(c);
    return rc;
}

int sesp_segment_max_ts_offset(sesp_segment *s, int64_t *offset)
{
    if (s->max_timestamp < 0)
        return SESP_ERR_NOT_FOUND;
    int64_t o, t;
    int rc = sesp_segment_find_time(s, s->max_timestamp, s->offset_of_max_ts, &o, &t);
    if (rc == SESP_ERR_NOT_FOUND)
        rc = sesp_segment_find_time(s, s->max_timestamp, s->base_offset, &o, &t);
    if (rc == 0)
        *offset = o;
    return rc;
}

int64_t sesp_segment_first_batch_ts(sesp_segment *s)
{
    if (s->first_batch_ts != INT64_MIN)
        return s->first_batch_ts;
    uint8_t hb[SESP_BATCH_HEADER_SIZE];
    sesp_batch_header h;
    if (s->size < SESP_BATCH_HEADER_SIZE || pread_full(s->fd, hb, sizeof hb, 0) != 0 ||
        sesp_batch_parse_header(hb, sizeof hb, &h) != 0)
        return -1;      /* not cached: an empty segment may still get its first batch */
    s->first_batch_ts = h.max_timestamp;
    return s->first_batch_ts;
}

int sesp_segment_seal(sesp_segment *s)
{
    if (s->max_timestamp >= 0)
        sesp_tindex_maybe_append(&s->tix, s->max_timestamp, s->offset_of_max_ts);
    int rc = sesp_idxfile_trim(&s->oix.f);
    int rc2 = sesp_idxfile_trim(&s->tix.f);
    return rc ? rc : rc2;
}

int sesp_segment_flush(sesp_segment *s)
{
    if (s->dirty) {
        if (fdatasync(s->fd) != 0)
            return SESP_ERR_IO;
        s->dirty = false;
    }
    int rc = sesp_idxfile_sync(&s->oix.f);
    int rc2 = sesp_idxfile_sync(&s->tix.f);
    return rc ? rc : rc2;
}

void sesp_segment_close(sesp_segment *s)
{
    if (!s)
        return;
    sesp_idxfile_close(&s->oix.f);
    sesp_idxfile_close(&s->tix.f);
    if (s->fd >= 0)
        close(s->fd);
    free(s->path);
    free(s);
}

int sesp_segment_remove(sesp_segment *s)
{
    int rc = 0;
    const char *exts[] = {".log", ".index", ".timeindex"};
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++) {
        char *p = seg_file(s, exts[i]);
        if (!p || (unlink(p) != 0 && errno != ENOENT))
            rc = p ? SESP_ERR_IO : SESP_ERR_NOMEM;
        free(p);
    }
    sesp_segment_close(s);
    return rc;
}
