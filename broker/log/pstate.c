/*
 * Idempotent-producer state of one partition (see pstate.h): the pid hash
 * table, the sequence rules (Kafka's ProducerAppendInfo without
 * transactions), producer expiry, and the snapshot file format.  A snapshot is
 *   "SPST" u32 | version i16 | count i32 | count x entry | crc32c u32
 * with entry = pid i64, epoch i16, last_ts i64, nb i8, nb x (first_seq i32,
 * last_seq i32, first_off i64, last_off i64, timestamp i64), all big-endian;
 * the CRC covers everything before it.  Version 1 (still read) had no
 * last_ts.  A snapshot that does not parse or check is ignored.
 */
#include "pstate.h"
#include "common/crc32c.h"
#include "common/err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SNAP_MAGIC 0x53505354u /* "SPST" */
#define SNAP_VERSION 2
#define SNAP_VERSION_NO_LAST_TS 1

void sesp_pstate_init(sesp_pstate *st)
{
    st->slots = NULL;
    st->cap = 0;
    st->count = 0;
}

void sesp_pstate_free(sesp_pstate *st)
{
    free(st->slots);
    sesp_pstate_init(st);
}

void sesp_pstate_clear(sesp_pstate *st)
{
    for (size_t i = 0; i < st->cap; i++)
        st->slots[i].pid = -1;
    st->count = 0;
}

static size_t hash_pid(int64_t pid, size_t cap)
{
    uint64_t x = (uint64_t)pid * 0x9E3779B97F4A7C15ull;
    return (size_t)(x >> 17) & (cap - 1);
}

static sesp_pentry *find_slot(const sesp_pstate *st, int64_t pid)
{
    if (!st->cap)
        return NULL;
    for (size_t i = hash_pid(pid, st->cap);; i = (i + 1) & (st->cap - 1)) {
        if (st->slots[i].pid == pid || st->slots[i].pid < 0)
            return &st->slots[i];
    }
}

const sesp_pentry *sesp_pstate_get(const sesp_pstate *st, int64_t pid)
{
    const sesp_pentry *e = find_slot(st, pid);
    return e && e->pid == pid ? e : NULL;
}

/* Rehashes into a table of ncap slots (a power of two above count). */
static int resize(sesp_pstate *st, size_t ncap)
{
    sesp_pentry *n = malloc(ncap * sizeof *n);
    if (!n)
        return SESP_ERR_NOMEM;
    for (size_t i = 0; i < ncap; i++)
        n[i].pid = -1;
    sesp_pstate old = *st;
    st->slots = n;
    st->cap = ncap;
    st->count = 0;
    for (size_t i = 0; i < old.cap; i++)
        if (old.slots[i].pid >= 0) {
            *find_slot(st, old.slots[i].pid) = old.slots[i];
            st->count++;
        }
    free(old.slots);
    return 0;
}

static int grow(sesp_pstate *st)
{
    return resize(st, st->cap ? st->cap * 2 : 16);
}

/* The entry for pid, created empty (epoch -1) if missing. */
static int get_or_add(sesp_pstate *st, int64_t pid, sesp_pentry **out)
{
    sesp_pentry *e = find_slot(st, pid);
    if (e && e->pid == pid) {
        *out = e;
        return 0;
    }
    if ((st->count + 1) * 4 > st->cap * 3) {
        int rc = grow(st);
        if (rc)
            return rc;
        e = find_slot(st, pid);
    }
    if (!e) /* only with a zero-capacity table, which grow() rules out */
        return SESP_ERR_NOMEM;
    memset(e, 0, sizeof *e);
    e->pid = pid;
    e->epoch = -1;
    e->last_ts = -1;
    st->count++;
    *out = e;
    return 0;
}

int32_t sesp_pstate_last_seq(int32_t base_seq, int32_t last_offset_delta)
{
    if (base_seq > INT32_MAX - last_offset_delta)
        return last_offset_delta - (INT32_MAX - base_seq) - 1;
    return base_seq + last_offset_delta;
}

static bool in_sequence(int32_t last, int32_t next)
{
    return next == (last == INT32_MAX ? 0 : last + 1);
}

sesp_pcheck sesp_pstate_check(const sesp_pentry *e, const sesp_batch_header *h, sesp_pbatch *dup)
{
    int32_t first = h->base_sequence;
    int32_t last = sesp_pstate_last_seq(first, h->last_offset_delta);
    if (!e || e->epoch < 0)
        return first == 0 ? SESP_PCHECK_OK : SESP_PCHECK_UNKNOWN;
    if (h->producer_epoch < e->epoch)
        return SESP_PCHECK_FENCED;
    if (h->producer_epoch > e->epoch)
        return first == 0 ? SESP_PCHECK_OK : SESP_PCHECK_OUT_OF_ORDER;
    for (int i = 0; i < e->nb; i++) {
        if (e->b[i].first_seq == first && e->b[i].last_seq == last) {
            *dup = e->b[i];
            return SESP_PCHECK_DUPLICATE;
        }
    }
    /* Its data removed by retention/DeleteRecords: any sequence continues it. */
    if (e->nb == 0)
        return SESP_PCHECK_OK;
    return in_sequence(e->b[e->nb - 1].last_seq, first) ? SESP_PCHECK_OK : SESP_PCHECK_OUT_OF_ORDER;
}

void sesp_pentry_apply(sesp_pentry *e, const sesp_batch_header *h)
{
    if (h->producer_epoch != e->epoch) {
        e->epoch = h->producer_epoch;
        e->nb = 0;
    }
    if (e->nb == SESP_PSTATE_WINDOW) {
        memmove(&e->b[0], &e->b[1], (SESP_PSTATE_WINDOW - 1) * sizeof e->b[0]);
        e->nb--;
    }
    sesp_pbatch *b = &e->b[e->nb++];
    b->first_seq = h->base_sequence;
    b->last_seq = sesp_pstate_last_seq(h->base_sequence, h->last_offset_delta);
    b->first_off = h->base_offset;
    b->last_off = sesp_batch_last_offset(h);
    b->timestamp = h->max_timestamp;
    e->last_ts = h->max_timestamp;
}

int sesp_pstate_update(sesp_pstate *st, const sesp_batch_header *h)
{
    if (h->producer_id < 0 || h->base_sequence < 0 || h->producer_epoch < 0 ||
        (h->attributes & SESP_BATCH_ATTR_CONTROL))
        return 0;
    sesp_pentry *e;
    int rc = get_or_add(st, h->producer_id, &e);
    if (rc)
        return rc;
    /* Replay trusts the log's order: an older epoch in the log cannot
     * override a newer one already seen. */
    if (h->producer_epoch < e->epoch)
        return 0;
    sesp_pentry_apply(e, h);
    return 0;
}

int sesp_pstate_put(sesp_pstate *st, const sesp_pentry *src)
{
    sesp_pentry *e;
    int rc = get_or_add(st, src->pid, &e);
    if (rc)
        return rc;
    *e = *src;
    return 0;
}

void sesp_pstate_log_start_moved(sesp_pstate *st, int64_t log_start)
{
    for (size_t i = 0; i < st->cap; i++) {
        sesp_pentry *e = &st->slots[i];
        if (e->pid < 0)
            continue;
        int keep = 0;
        for (int j = 0; j < e->nb; j++)
            if (e->b[j].last_off >= log_start)
                e->b[keep++] = e->b[j];
        e->nb = (uint8_t)keep;
    }
}

/* Empties slot i by backward-shift deletion: later entries of the same
 * probe run move up into the hole when their home slot allows it, so every
 * remaining entry stays reachable from its home without tombstones. */
static void remove_at(sesp_pstate *st, size_t i)
{
    size_t mask = st->cap - 1;
    for (size_t j = (i + 1) & mask; st->slots[j].pid >= 0; j = (j + 1) & mask) {
        size_t home = hash_pid(st->slots[j].pid, st->cap);
        /* The entry may move to i only if i lies on its probe path [home, j]. */
        if (((j - home) & mask) >= ((j - i) & mask)) {
            st->slots[i] = st->slots[j];
            i = j;
        }
    }
    st->slots[i].pid = -1;
    st->count--;
}

bool sesp_pstate_remove(sesp_pstate *st, int64_t pid)
{
    sesp_pentry *e = find_slot(st, pid);
    if (!e || e->pid != pid)
        return false;
    remove_at(st, (size_t)(e - st->slots));
    return true;
}

size_t sesp_pstate_expire(sesp_pstate *st, int64_t now_ms, int64_t expiration_ms)
{
    if (st->count == 0)
        return 0;
    size_t mask = st->cap - 1, start = 0, removed = 0;
    /* Walk from a free slot: backward shifts then only move entries into
     * slots not yet visited (or the current one, checked again), and no
     * probe run wraps past the start.  The load bound keeps a free slot. */
    while (st->slots[start].pid >= 0)
        start++;
    for (size_t k = 1; k < st->cap; k++) {
        size_t i = (start + k) & mask;
        while (st->slots[i].pid >= 0) {
            sesp_pentry *e = &st->slots[i];
            if (e->last_ts < 0)
                e->last_ts = now_ms;
            /* Kafka's test: idle for expiration_ms or longer (a timestamp
             * in the future is not idle; checked first, the difference
             * cannot overflow). */
            if (e->last_ts > now_ms || now_ms - e->last_ts < expiration_ms)
                break;
            remove_at(st, i);
            removed++;
        }
    }
    /* Give memory back after a burst of short-lived producers; a failed
     * shrink leaves a valid, merely roomy table. */
    if (removed && st->cap > 16 && st->count * 8 < st->cap) {
        size_t ncap = 16;
        while (ncap < st->count * 2)
            ncap *= 2;
        resize(st, ncap);
    }
    return removed;
}

static int cmp_plast(const void *a, const void *b)
{
    int64_t x = ((const sesp_plast *)a)->pid, y = ((const sesp_plast *)b)->pid;
    return x < y ? -1 : x > y;
}

int sesp_pstate_last_offsets(const sesp_pstate *st, sesp_plast **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    size_t cnt = 0;
    for (size_t i = 0; i < st->cap; i++)
        cnt += st->slots[i].pid >= 0 && st->slots[i].nb > 0;
    if (cnt == 0)
        return 0;
    sesp_plast *v = malloc(cnt * sizeof *v);
    if (!v)
        return SESP_ERR_NOMEM;
    size_t k = 0;
    for (size_t i = 0; i < st->cap; i++) {
        const sesp_pentry *e = &st->slots[i];
        if (e->pid >= 0 && e->nb > 0)
            v[k++] = (sesp_plast){e->pid, e->b[e->nb - 1].last_off};
    }
    qsort(v, cnt, sizeof *v, cmp_plast);
    *out = v;
    *n = cnt;
    return 0;
}

/* ---- snapshots ---- */

static bool parse_snapshot_name(const char *nm, int64_t *off)
{
    if (strlen(nm) != 29 || strcmp(nm + 20, ".snapshot") != 0)
        return false;
    int64_t v = 0;
    for (int i = 0; i < 20; i++) {
        if (nm[i] < '0' || nm[i] > '9' || v > (INT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (nm[i] - '0');
    }
    *off = v;
    return true;
}

static int cmp_desc(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x > y ? -1 : x < y;
}

/* Snapshot offsets in dir, newest first. */
static int list_snapshots(const char *dir, int64_t **out, int *n)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d)
        return SESP_ERR_IO;
    int64_t *v = NULL;
    int cnt = 0, cap = 0, rc = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        int64_t off;
        if (!parse_snapshot_name(de->d_name, &off))
            continue;
        if (cnt == cap) {
            cap = cap ? cap * 2 : 8;
            int64_t *nv = realloc(v, (size_t)cap * sizeof *nv);
            if (!nv) {
                rc = SESP_ERR_NOMEM;
                break;
            }
            v = nv;
        }
        v[cnt++] = off;
    }
    closedir(d);
    if (rc) {
        free(v);
        return rc;
    }
    if (cnt > 1)
        qsort(v, (size_t)cnt, sizeof *v, cmp_desc);
    *out = v;
    *n = cnt;
    return 0;
}

static void snap_path(char *buf, size_t n, const char *dir, int64_t off, const char *suffix)
{
    snprintf(buf, n, "%s/%020" PRId64 ".snapshot%s", dir, off, suffix);
}

int sesp_pstate_write_snapshot(const sesp_pstate *st, const char *dir, int64_t offset)
{
    sesp_bufw w;
    sesp_bufw_init(&w, 64 + st->count * 40, 0);
    sesp_bufw_u32(&w, SNAP_MAGIC);
    sesp_bufw_i16(&w, SNAP_VERSION);
    sesp_bufw_i32(&w, (int32_t)st->count);
    for (size_t i = 0; i < st->cap; i++) {
        const sesp_pentry *e = &st->slots[i];
        if (e->pid < 0)
            continue;
        sesp_bufw_i64(&w, e->pid);
        sesp_bufw_i16(&w, e->epoch);
        sesp_bufw_i64(&w, e->last_ts);
        sesp_bufw_i8(&w, (int8_t)e->nb);
        for (int j = 0; j < e->nb; j++) {
            sesp_bufw_i32(&w, e->b[j].first_seq);
            sesp_bufw_i32(&w, e->b[j].last_seq);
            sesp_bufw_i64(&w, e->b[j].first_off);
            sesp_bufw_i64(&w, e->b[j].last_off);
            sesp_bufw_i64(&w, e->b[j].timestamp);
        }
    }
    if (!w.err)
        sesp_bufw_u32(&w, sesp_crc32c(0, w.p, w.len));
    if (w.err) {
        int e = w.err;
        sesp_bufw_free(&w);
        return e;
    }
    char tmp[4200], dst[4200];
    snap_path(tmp, sizeof tmp, dir, offset, ".tmp");
    snap_path(dst, sizeof dst, dir, offset, "");
    int rc = SESP_ERR_IO;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        size_t done = 0;
        while (done < w.len) {
            ssize_t n = write(fd, w.p + done, w.len - done);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            done += (size_t)n;
        }
        bool ok = done == w.len && fsync(fd) == 0;
        close(fd);
        if (ok && rename(tmp, dst) == 0) {
            int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dfd >= 0) {
                fsync(dfd);
                close(dfd);
            }
            rc = 0;
        } else {
            unlink(tmp);
        }
    }
    sesp_bufw_free(&w);
    return rc;
}

static int read_file(const char *path, uint8_t **out, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return SESP_ERR_IO;
    off_t sz = lseek(fd, 0, SEEK_END);
    /* A snapshot holds at most MAX_PRODUCERS full entries. */
    if (sz < 0 || sz > (off_t)SESP_PSTATE_MAX_PRODUCERS * 200) {
        close(fd);
        return SESP_ERR_TOO_LARGE;
    }
    uint8_t *b = malloc((size_t)sz + 1);
    if (!b) {
        close(fd);
        return SESP_ERR_NOMEM;
    }
    size_t done = 0;
    while (done < (size_t)sz) {
        ssize_t n = pread(fd, b + done, (size_t)sz - done, (off_t)done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    close(fd);
    if (done != (size_t)sz) {
        free(b);
        return SESP_ERR_IO;
    }
    *out = b;
    *len = done;
    return 0;
}

static int parse_snapshot(sesp_pstate *st, const uint8_t *p, size_t len)
{
    if (len < 14)
        return SESP_ERR_CORRUPT;
    sesp_bufr cr;
    sesp_bufr_init(&cr, p + len - 4, 4);
    if (sesp_crc32c(0, p, len - 4) != sesp_bufr_u32(&cr))
        return SESP_ERR_CORRUPT;
    sesp_bufr r;
    sesp_bufr_init(&r, p, len - 4);
    uint32_t magic = sesp_bufr_u32(&r);
    int16_t ver = sesp_bufr_i16(&r);
    int32_t count = sesp_bufr_i32(&r);
    if (r.err || magic != SNAP_MAGIC || (ver != SNAP_VERSION && ver != SNAP_VERSION_NO_LAST_TS) || count < 0 ||
        count > SESP_PSTATE_MAX_PRODUCERS)
        return SESP_ERR_CORRUPT;
    for (int32_t i = 0; i < count && !r.err; i++) {
        sesp_pentry e;
        memset(&e, 0, sizeof e);
        e.pid = sesp_bufr_i64(&r);
        e.epoch = sesp_bufr_i16(&r);
        e.last_ts = ver == SNAP_VERSION_NO_LAST_TS ? -1 : sesp_bufr_i64(&r);
        int8_t nb = sesp_bufr_i8(&r);
        if (r.err || e.pid < 0 || nb < 0 || nb > SESP_PSTATE_WINDOW)
            return SESP_ERR_CORRUPT;
        e.nb = (uint8_t)nb;
        for (int j = 0; j < nb; j++) {
            e.b[j].first_seq = sesp_bufr_i32(&r);
            e.b[j].last_seq = sesp_bufr_i32(&r);
            e.b[j].first_off = sesp_bufr_i64(&r);
            e.b[j].last_off = sesp_bufr_i64(&r);
            e.b[j].timestamp = sesp_bufr_i64(&r);
        }
        if (r.err)
            return SESP_ERR_CORRUPT;
        if (ver == SNAP_VERSION_NO_LAST_TS && nb > 0)
            e.last_ts = e.b[nb - 1].timestamp;
        int rc = sesp_pstate_put(st, &e);
        if (rc)
            return rc;
    }
    if (r.err || sesp_bufr_left(&r) != 0)
        return SESP_ERR_CORRUPT;
    return 0;
}

int sesp_pstate_load_latest(sesp_pstate *st, const char *dir, int64_t max_offset, int64_t *offset)
{
    *offset = -1;
    sesp_pstate_clear(st);
    int64_t *offs;
    int n;
    int rc = list_snapshots(dir, &offs, &n);
    if (rc)
        return rc;
    char path[4200];
    for (int i = 0; i < n; i++) {
        snap_path(path, sizeof path, dir, offs[i], "");
        if (offs[i] > max_offset) {
            /* State past the end of the (recovered) log describes lost data. */
            unlink(path);
            continue;
        }
        uint8_t *buf;
        size_t len;
        rc = read_file(path, &buf, &len);
        if (rc == SESP_ERR_NOMEM)
            break;
        if (rc == 0) {
            rc = parse_snapshot(st, buf, len);
            free(buf);
        }
        if (rc == 0) {
            *offset = offs[i];
            break;
        }
        if (rc == SESP_ERR_NOMEM)
            break;
        sesp_pstate_clear(st);
        unlink(path);
        rc = 0;
    }
    free(offs);
    if (rc)
        sesp_pstate_clear(st);
    return rc;
}

void sesp_pstate_prune_snapshots(const char *dir, int keep)
{
    int64_t *offs;
    int n;
    if (list_snapshots(dir, &offs, &n) != 0)
        return;
    char path[4200];
    for (int i = keep; i < n; i++) {
        snap_path(path, sizeof path, dir, offs[i], "");
        unlink(path);
    }
    free(offs);
}
