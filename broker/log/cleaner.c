/*
 * The log cleaner (see cleaner.h).  A pass over one log: (1) under the log
 * mutex, take the closed segments up to the first dirty one holding a record
 * younger than min.compaction.lag.ms (dup'ed fds, so retention may delete
 * them meanwhile);
 * (2) map key -> latest offset over the dirty part (offsets >= clean_end);
 * (3) copy groups of consecutive segments (up to segment.bytes) into
 * "<base>.cleaned", keeping per batch only records that are the latest of
 * their key, re-encoding a batch only when something in it changed (same
 * base offset, lastOffsetDelta, producer fields and codec, so offsets and
 * idempotence metadata survive); (4) fsync, rename to "<base>.<end>.swap"
 * (the commit point: recovery completes a swap, discards a .cleaned), then
 * under the log mutex replace the group's segments by the new one.
 * Tombstones get a delete horizon the first time a pass keeps them (Kafka's
 * KIP-534: attribute bit 0x40, baseTimestamp = horizon, record timestamps
 * stay exact through their deltas) and are dropped by a pass after it.  A
 * batch holding the last sequence of a producer still in the producer state
 * is never dropped: with no record left it becomes an empty batch (header
 * only, as Kafka's RETAIN_EMPTY), so rebuilding the state from the log still
 * finds the producer's last sequence; once the producer expired, the next
 * pass drops it.
 */
#include "cleaner.h"
#include "batch.h"
#include "compress.h"
#include "log_internal.h"
#include "segment.h"
#include "common/arena.h"
#include "common/err.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ATTR_DELETE_HORIZON 0x40

int sesp_log_cleaner_crash_point;

/* ---- the cleaner thread and its registry ---- */

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static sesp_log **g_logs;
static int g_nlogs, g_caplogs;
static sesp_log *g_busy;            /* the log a pass is running on */
static bool g_running;
static atomic_bool g_stop;
static pthread_t g_thread;
static sesp_log_cleaner_config g_cfg = {32 << 20, 1000, (size_t)128 << 20};

void sesp_log_cleaner_config_defaults(sesp_log_cleaner_config *c)
{
    c->io_max_bytes_per_second = 32 << 20;
    c->backoff_ms = 1000;
    c->dedupe_buffer_bytes = (size_t)128 << 20;
}

void sesp_log_cleaner_register(sesp_log *l)
{
    pthread_mutex_lock(&g_mu);
    if (!l->in_cleaner) {
        if (g_nlogs == g_caplogs) {
            int ncap = g_caplogs ? g_caplogs * 2 : 16;
            sesp_log **n = realloc(g_logs, (size_t)ncap * sizeof *n);
            if (!n) {
                pthread_mutex_unlock(&g_mu);
                return;         /* not compacted until the next set_config: no harm to data */
            }
            g_logs = n;
            g_caplogs = ncap;
        }
        g_logs[g_nlogs++] = l;
        l->in_cleaner = true;
    }
    pthread_mutex_unlock(&g_mu);
}

void sesp_log_cleaner_unregister(sesp_log *l)
{
    pthread_mutex_lock(&g_mu);
    while (g_busy == l)
        pthread_cond_wait(&g_cv, &g_mu);
    if (l->in_cleaner) {
        for (int i = 0; i < g_nlogs; i++)
            if (g_logs[i] == l) {
                g_logs[i] = g_logs[--g_nlogs];
                break;
            }
        l->in_cleaner = false;
    }
    if (g_nlogs == 0) {
        free(g_logs);
        g_logs = NULL;
        g_caplogs = 0;
    }
    pthread_mutex_unlock(&g_mu);
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Number of leading closed segments a pass may take: it stops at the first
 * dirty segment holding a record newer than min.compaction.lag.ms (Kafka's
 * firstUncleanableDirtyOffset: segments already cleaned do not hold it back). */
static int cleanable_count(const sesp_log *l, int64_t now_ms)
{
    int n = 0;
    while (n < l->nseg - 1) {
        const sesp_segment *s = l->segs[n];
        if (l->cfg.min_compaction_lag_ms > 0 && s->next_offset > l->clean_end &&
            s->max_timestamp > now_ms - l->cfg.min_compaction_lag_ms)
            break;
        n++;
    }
    return n;
}

/* Dirty ratio; *overdue when a dirty segment's first batch is older than
 * max.compaction.lag.ms (Kafka's maxCompactionDelay: the earliest first-batch
 * timestamp of the dirty segments, timestamps <= 0 ignored). */
static double ratio_locked(const sesp_log *l, int64_t now_ms, bool *overdue)
{
    int n = cleanable_count(l, now_ms);
    int64_t total = 0, dirty = 0;
    *overdue = false;
    for (int i = 0; i < n; i++) {
        sesp_segment *s = l->segs[i];
        total += s->size;
        if (s->next_offset > l->clean_end && s->size > 0) {
            dirty += s->size;
            if (l->cfg.max_compaction_lag_ms != INT64_MAX && !*overdue) {
                int64_t first = sesp_segment_first_batch_ts(s);
                if (first > 0 && first < now_ms - (l->cfg.max_compaction_lag_ms > 0 ? l->cfg.max_compaction_lag_ms : 0))
                    *overdue = true;
            }
        }
    }
    return total > 0 ? (double)dirty / (double)total : 0.0;
}

double sesp_log_dirty_ratio(sesp_log *l, int64_t now_ms)
{
    bool overdue;
    pthread_mutex_lock(&l->mu);
    double r = ratio_locked(l, now_ms, &overdue);
    pthread_mutex_unlock(&l->mu);
    return r;
}

/* Kafka's grabFilthiestCompactedLog filter: compacted, something cleanable,
 * and the ratio above min.cleanable.dirty.ratio (strictly) or overdue. */
static bool due_locked(const sesp_log *l, int64_t now_ms, double *priority)
{
    bool overdue;
    double r = ratio_locked(l, now_ms, &overdue);
    *priority = overdue ? 2.0 : r;
    return l->cfg.compact && r > 0 && (r > l->cfg.min_cleanable_dirty_ratio || overdue);
}

bool sesp_log_cleaner_due(sesp_log *l, int64_t now_ms)
{
    double prio;
    pthread_mutex_lock(&l->mu);
    bool due = due_locked(l, now_ms, &prio);
    pthread_mutex_unlock(&l->mu);
    return due;
}

static void *cleaner_main(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&g_mu);
    while (!atomic_load(&g_stop)) {
        int64_t now = wall_ms();
        sesp_log *best = NULL;
        double best_ratio = -1;
        for (int i = 0; i < g_nlogs; i++) {
            sesp_log *l = g_logs[i];
            double prio;
            pthread_mutex_lock(&l->mu);
            bool ok = due_locked(l, now, &prio);
            pthread_mutex_unlock(&l->mu);
            if (ok && prio > best_ratio) {
                best = l;
                best_ratio = prio;
            }
        }
        if (!best) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            int64_t ns = ts.tv_nsec + (g_cfg.backoff_ms % 1000) * 1000000;
            ts.tv_sec += g_cfg.backoff_ms / 1000 + ns / 1000000000;
            ts.tv_nsec = ns % 1000000000;
            pthread_cond_timedwait(&g_cv, &g_mu, &ts);
            continue;
        }
        g_busy = best;
        pthread_mutex_unlock(&g_mu);
        sesp_log_clean_stats st;
        int rc = sesp_log_clean(best, now, &st);
        if (rc < 0 && rc != SESP_ERR_STATE)
            fprintf(stderr, "sesp log cleaner: pass over %s failed: %s\n", best->dir, sesp_strerror(rc));
        pthread_mutex_lock(&g_mu);
        g_busy = NULL;
        pthread_cond_broadcast(&g_cv);
        if (rc < 0 && !atomic_load(&g_stop)) {
            /* Do not spin on a log that keeps failing. */
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_sec += 5;
            pthread_cond_timedwait(&g_cv, &g_mu, &ts);
        }
    }
    pthread_mutex_unlock(&g_mu);
    return NULL;
}

int sesp_log_cleaner_start(const sesp_log_cleaner_config *c)
{
    pthread_mutex_lock(&g_mu);
    int rc = 0;
    if (g_running) {
        rc = SESP_ERR_STATE;
        goto out;
    }
    if (c)
        g_cfg = *c;
    if (g_cfg.backoff_ms < 1)
        g_cfg.backoff_ms = 1;
    atomic_store(&g_stop, false);
    if (pthread_create(&g_thread, NULL, cleaner_main, NULL) != 0) {
        rc = SESP_ERR_NOMEM;
        goto out;
    }
    g_running = true;
out:
    pthread_mutex_unlock(&g_mu);
    return rc;
}

void sesp_log_cleaner_stop(void)
{
    pthread_mutex_lock(&g_mu);
    bool running = g_running;
    g_running = false;
    atomic_store(&g_stop, true);
    pthread_cond_broadcast(&g_cv);
    pthread_mutex_unlock(&g_mu);
    if (running)
        pthread_join(g_thread, NULL);
    /* The flag only interrupts the thread's passes; direct calls run on. */
    atomic_store(&g_stop, false);
}

/* ---- the key -> latest offset map ---- */

typedef struct kentry {
    uint64_t hash;
    int64_t offset;             /* -1 = empty */
    const uint8_t *key;
    int32_t klen;
} kentry;

typedef struct kmap {
    kentry *v;
    size_t cap, count, bytes;
    sesp_arena keys;
} kmap;

static uint64_t hash_key(const uint8_t *k, int32_t n)
{
    uint64_t h = 1469598103934665603ull;   /* FNV-1a */
    for (int32_t i = 0; i < n; i++)
        h = (h ^ k[i]) * 1099511628211ull;
    return h;
}

static kentry *kmap_slot(const kmap *m, uint64_t h, const uint8_t *k, int32_t n)
{
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        kentry *e = &m->v[i];
        if (e->offset < 0 || (e->hash == h && e->klen == n && (n == 0 || memcmp(e->key, k, (size_t)n) == 0)))
            return e;
    }
}

static int kmap_put(kmap *m, const uint8_t *k, int32_t n, int64_t offset)
{
    if ((m->count + 1) * 2 > m->cap) {
        size_t ncap = m->cap ? m->cap * 2 : 1024;
        kentry *nv = malloc(ncap * sizeof *nv);
        if (!nv)
            return SESP_ERR_NOMEM;
        for (size_t i = 0; i < ncap; i++)
            nv[i].offset = -1;
        kmap old = *m;
        m->v = nv;
        m->cap = ncap;
        for (size_t i = 0; i < old.cap; i++)
            if (old.v[i].offset >= 0)
                *kmap_slot(m, old.v[i].hash, old.v[i].key, old.v[i].klen) = old.v[i];
        free(old.v);
        m->bytes += (ncap - old.cap) * sizeof(kentry);
    }
    uint64_t h = hash_key(k, n);
    kentry *e = kmap_slot(m, h, k, n);
    if (e->offset >= 0) {
        if (offset > e->offset)
            e->offset = offset;
        return 0;
    }
    uint8_t *copy = sesp_arena_alloc(&m->keys, n > 0 ? (size_t)n : 1);
    if (!copy)
        return SESP_ERR_NOMEM;
    memcpy(copy, k, (size_t)n);
    e->hash = h;
    e->offset = offset;
    e->key = copy;
    e->klen = n;
    m->count++;
    m->bytes += (size_t)n;
    return 0;
}

static int64_t kmap_get(const kmap *m, const uint8_t *k, int32_t n)
{
    if (!m->cap)
        return -1;
    kentry *e = kmap_slot(m, hash_key(k, n), k, n);
    return e->offset;
}

static void kmap_free(kmap *m)
{
    free(m->v);
    sesp_arena_free(&m->keys);
}

/* ---- a pass ---- */

typedef struct seg_snap {
    sesp_segment *ptr;          /* identity only; never dereferenced outside the log mutex */
    int64_t base, next, size;
    int fd;                     /* dup'ed */
} seg_snap;

typedef struct pass {
    sesp_log *l;
    int64_t now_ms;
    sesp_log_config cfg;
    seg_snap *segs;
    int n;                      /* segments to clean */
    int64_t end_base;           /* base of the first segment not cleaned */
    int64_t clean_end;          /* the log's clean_end when the pass started */
    kmap map;
    sesp_plast *lasts;          /* producers' last data offsets when the pass started, by pid */
    size_t nlasts;
    sesp_log_clean_stats *st;
    double t0;
    int64_t io_bytes;
} pass;

static int pread_all(int fd, void *buf, size_t n, int64_t pos)
{
    uint8_t *b = buf;
    while (n > 0) {
        ssize_t r = pread(fd, b, n, (off_t)pos);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r == 0 ? SESP_ERR_TRUNCATED : SESP_ERR_IO;
        b += r;
        n -= (size_t)r;
        pos += r;
    }
    return 0;
}

static int write_all(int fd, const void *buf, size_t n)
{
    const uint8_t *b = buf;
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return SESP_ERR_IO;
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* The bytes/s budget: sleeps until the pass is back under it. */
static void throttle(pass *p, int64_t bytes)
{
    p->io_bytes += bytes;
    int64_t rate = g_cfg.io_max_bytes_per_second;
    if (rate <= 0)
        return;
    double ahead = (double)p->io_bytes / (double)rate - (mono_s() - p->t0);
    if (ahead > 0.001) {
        struct timespec ts = {(time_t)ahead, (long)((ahead - (double)(time_t)ahead) * 1e9)};
        nanosleep(&ts, NULL);
    }
}

/* Reads the batch at pos of segment s: header checked against the segment. */
static int read_batch(const seg_snap *s, int64_t pos, sesp_batch_header *h, uint8_t **buf, size_t *cap)
{
    uint8_t hb[SESP_BATCH_HEADER_SIZE];
    if (pos + SESP_BATCH_HEADER_SIZE > s->size)
        return SESP_ERR_CORRUPT;
    int rc = pread_all(s->fd, hb, sizeof hb, pos);
    if (rc)
        return rc;
    if ((rc = sesp_batch_parse_header(hb, sizeof hb, h)) != 0)
        return rc;
    int64_t size = sesp_batch_size(h);
    if (size > s->size - pos)
        return SESP_ERR_CORRUPT;
    if ((size_t)size > *cap) {
        uint8_t *n = realloc(*buf, (size_t)size);
        if (!n)
            return SESP_ERR_NOMEM;
        *buf = n;
        *cap = (size_t)size;
    }
    return pread_all(s->fd, *buf, (size_t)size, pos);
}

static int build_map(pass *p)
{
    uint8_t *buf = NULL;
    size_t cap = 0;
    int rc = 0, mapped = 0;
    for (int i = 0; i < p->n && !rc; i++) {
        seg_snap *s = &p->segs[i];
        if (s->next <= p->clean_end) {
            mapped = i + 1;
            continue;
        }
        /* Bounded memory: clean only up to the segments the map fully covers. */
        if (p->map.bytes + p->map.keys.total > g_cfg.dedupe_buffer_bytes && mapped > 0)
            break;
        for (int64_t pos = 0; pos < s->size && !rc;) {
            sesp_batch_header h;
            if ((rc = read_batch(s, pos, &h, &buf, &cap)) != 0)
                break;
            pos += sesp_batch_size(&h);
            if (h.attributes & SESP_BATCH_ATTR_CONTROL)
                continue;
            sesp_batch_iter it;
            sesp_record rec;
            if ((rc = sesp_batch_iter_init(&it, buf, (size_t)sesp_batch_size(&h), 0)) == 0) {
                while ((rc = sesp_batch_iter_next(&it, &rec)) == 1)
                    if (rec.key && rec.offset >= p->clean_end && (rc = kmap_put(&p->map, rec.key, rec.key_len, rec.offset)) != 0)
                        break;
            }
            sesp_batch_iter_free(&it);
            if (atomic_load(&g_stop))
                rc = SESP_ERR_STATE;
            throttle(p, sesp_batch_size(&h));
        }
        p->st->bytes_read += s->size;
        mapped = i + 1;
    }
    free(buf);
    if (!rc && mapped < p->n) {
        for (int i = mapped; i < p->n; i++)
            close(p->segs[i].fd);
        p->n = mapped;
    }
    return rc;
}

static void put_bytes(sesp_bufw *w, const uint8_t *b, int32_t n)
{
    sesp_bufw_varint(w, b ? n : -1);
    if (b && n > 0)
        sesp_bufw_put(w, b, (size_t)n);
}

/* A v2 batch header for h's offsets and producer fields, with the given
 * attributes, base timestamp, records count and records byte length. */
static void put_header(sesp_bufw *out, const sesp_batch_header *h, int16_t attrs, int64_t base_ts, int32_t n,
                       size_t plen)
{
    sesp_bufw_i64(out, h->base_offset);
    sesp_bufw_i32(out, (int32_t)(SESP_BATCH_HEADER_SIZE - SESP_BATCH_LOG_OVERHEAD + plen));
    sesp_bufw_i32(out, h->partition_leader_epoch);
    sesp_bufw_i8(out, 2);
    sesp_bufw_u32(out, 0);
    sesp_bufw_i16(out, attrs);
    sesp_bufw_i32(out, h->last_offset_delta);
    sesp_bufw_i64(out, base_ts);
    sesp_bufw_i64(out, h->max_timestamp);
    sesp_bufw_i64(out, h->producer_id);
    sesp_bufw_i16(out, h->producer_epoch);
    sesp_bufw_i32(out, h->base_sequence);
    sesp_bufw_i32(out, n);
}

/* A batch keeping only recs[0..n) (in order), with the same base offset,
 * lastOffsetDelta, producer fields and codec. */
static int encode_batch(const sesp_batch_header *h, const sesp_record *recs, int n, bool set_horizon,
                        int64_t horizon, sesp_bufw *out)
{
    sesp_bufw body;
    sesp_bufw_init(&body, 256, 0);
    int16_t attrs = h->attributes;
    int64_t base_ts = h->base_timestamp;
    if (set_horizon) {
        attrs |= ATTR_DELETE_HORIZON;
        base_ts = horizon;
    }
    for (int i = 0; i < n && !body.err; i++) {
        const sesp_record *r = &recs[i];
        sesp_bufw rb;
        sesp_bufw_init(&rb, 64, 0);
        sesp_bufw_i8(&rb, r->attributes);
        sesp_bufw_varlong(&rb, (int64_t)((uint64_t)r->timestamp - (uint64_t)base_ts));
        sesp_bufw_varint(&rb, (int32_t)(r->offset - h->base_offset));
        put_bytes(&rb, r->key, r->key_len);
        put_bytes(&rb, r->value, r->value_len);
        sesp_bufw_varint(&rb, r->header_count);
        if (r->headers_len)
            sesp_bufw_put(&rb, r->headers, r->headers_len);
        if (rb.err)
            body.err = rb.err;
        sesp_bufw_varint(&body, (int32_t)rb.len);
        sesp_bufw_put(&body, rb.p, rb.len);
        sesp_bufw_free(&rb);
    }
    int rc = body.err;
    uint8_t *z = NULL;
    const uint8_t *payload = body.p;
    size_t plen = body.len;
    int codec = h->attributes & SESP_BATCH_ATTR_CODEC_MASK;
    if (!rc && codec != SESP_CODEC_NONE) {
        rc = sesp_compress(codec, 0, body.p, body.len, &z, &plen);
        payload = z;
    }
    if (!rc) {
        size_t start = out->len;
        put_header(out, h, attrs, base_ts, n, plen);
        sesp_bufw_put(out, payload, plen);
        rc = out->err;
        if (!rc)
            sesp_batch_update_crc(out->p + start, out->len - start);
    }
    free(z);
    sesp_bufw_free(&body);
    return rc;
}

/* The header alone of a batch whose records are all gone, as Kafka writes
 * it (writeEmptyHeader): no codec (there is nothing to decompress), no
 * delete horizon, no base timestamp, the max timestamp kept; offsets and
 * producer fields unchanged so replay recovers the producer's sequence. */
static int encode_empty(const sesp_batch_header *h, sesp_bufw *out)
{
    int16_t keep = SESP_BATCH_ATTR_LOG_APPEND_TIME | SESP_BATCH_ATTR_TRANSACTIONAL | SESP_BATCH_ATTR_CONTROL;
    size_t start = out->len;
    put_header(out, h, (int16_t)(h->attributes & keep), -1, 0, 0);
    if (!out->err)
        sesp_batch_update_crc(out->p + start, out->len - start);
    return out->err;
}

/* Whether the batch holds the last sequence of a producer the state still
 * knows (Kafka's isBatchLastRecordOfProducer without transactions). */
static bool last_of_producer(const pass *p, const sesp_batch_header *h)
{
    if (h->producer_id < 0)
        return false;
    size_t lo = 0, hi = p->nlasts;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p->lasts[mid].pid < h->producer_id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < p->nlasts && p->lasts[lo].pid == h->producer_id &&
           p->lasts[lo].last_off == sesp_batch_last_offset(h);
}

/* Filters one batch into out (appends nothing when no record survives). */
static int clean_batch(pass *p, const uint8_t *b, const sesp_batch_header *h, sesp_record **recs, int *reccap,
                       sesp_bufw *out)
{
    if (h->attributes & SESP_BATCH_ATTR_CONTROL) {
        sesp_bufw_put(out, b, (size_t)sesp_batch_size(h));
        return out->err;
    }
    bool has_horizon = (h->attributes & ATTR_DELETE_HORIZON) != 0;
    bool horizon_passed = has_horizon && p->now_ms >= h->base_timestamp;
    sesp_batch_iter it;
    sesp_record rec;
    int rc = sesp_batch_iter_init(&it, b, (size_t)sesp_batch_size(h), 0);
    int kept = 0, total = 0;
    bool kept_tombstone = false;
    while (!rc && (rc = sesp_batch_iter_next(&it, &rec)) == 1) {
        rc = 0;
        total++;
        if (rec.key) {
            int64_t latest = kmap_get(&p->map, rec.key, rec.key_len);
            if (latest > rec.offset) {
                p->st->records_dropped++;
                continue;
            }
        }
        if (!rec.value && horizon_passed) {
            p->st->tombstones_dropped++;
            p->st->records_dropped++;
            continue;
        }
        if (!rec.value)
            kept_tombstone = true;
        if (kept == *reccap) {
            int ncap = *reccap ? *reccap * 2 : 64;
            sesp_record *n = realloc(*recs, (size_t)ncap * sizeof *n);
            if (!n) {
                rc = SESP_ERR_NOMEM;
                break;
            }
            *recs = n;
            *reccap = ncap;
        }
        (*recs)[kept++] = rec;
    }
    if (rc == 0) {
        p->st->records_kept += kept;
        bool set_horizon = kept_tombstone && !has_horizon;
        if (kept == 0 && !last_of_producer(p, h)) {
            /* Dropped whole; so is an empty batch whose producer expired. */
        } else if (kept == total && !set_horizon)
            sesp_bufw_put(out, b, (size_t)sesp_batch_size(h));
        else if (kept == 0)
            rc = encode_empty(h, out);
        else
            rc = encode_batch(h, *recs, kept, set_horizon, p->now_ms + p->cfg.delete_retention_ms, out);
        if (!rc)
            rc = out->err;
    }
    sesp_batch_iter_free(&it);
    return rc;
}

static void seg_name(char *buf, size_t n, const char *dir, int64_t base, const char *ext)
{
    snprintf(buf, n, "%s/%020" PRId64 "%s", dir, base, ext);
}

static void swap_name(char *buf, size_t n, const char *dir, int64_t base, int64_t end)
{
    snprintf(buf, n, "%s/%020" PRId64 ".%020" PRId64 ".swap", dir, base, end);
}

static void unlink_segment_files(const char *dir, int64_t base)
{
    const char *exts[] = {".log", ".index", ".timeindex"};
    char p[4200];
    for (int i = 0; i < 3; i++) {
        seg_name(p, sizeof p, dir, base, exts[i]);
        unlink(p);
    }
}

/* Commit of group [gi, gj): under the log mutex, the group's segments are
 * replaced by the swap file (renamed to <base>.log) in one step for readers. */
static int install(pass *p, int gi, int gj, const char *swap, int64_t out_size)
{
    sesp_log *l = p->l;
    const char *dir = l->dir;
    pthread_mutex_lock(&l->mu);
    int at = -1;
    for (int i = 0; i < l->nseg; i++)
        if (l->segs[i] == p->segs[gi].ptr && l->segs[i]->base_offset == p->segs[gi].base) {
            at = i;
            break;
        }
    bool same = at >= 0 && at + (gj - gi) < l->nseg;
    for (int k = 0; same && k < gj - gi; k++)
        same = l->segs[at + k] == p->segs[gi + k].ptr && l->segs[at + k]->base_offset == p->segs[gi + k].base;
    if (!same) {
        /* Retention or DeleteRecords took segments meanwhile: this work is void. */
        pthread_mutex_unlock(&l->mu);
        unlink(swap);
        return SESP_ERR_CONFLICT;
    }
    int rc = 0;
    for (int k = 0; k < gj - gi; k++) {
        sesp_segment *s = l->segs[at + k];
        if (sesp_segment_remove(s) != 0 && !rc)
            rc = SESP_ERR_IO;
    }
    memmove(&l->segs[at], &l->segs[at + (gj - gi)], (size_t)(l->nseg - at - (gj - gi)) * sizeof *l->segs);
    l->nseg -= gj - gi;
    char lp[4200];
    seg_name(lp, sizeof lp, dir, p->segs[gi].base, ".log");
    if (out_size == 0) {
        unlink(swap);
    } else if (rename(swap, lp) != 0) {
        rc = SESP_ERR_IO;
    } else {
        sesp_segment *ns;
        bool truncated;
        int orc = sesp_segment_open(dir, p->segs[gi].base, &l->cfg, SESP_SEG_SCAN_HEADERS, &truncated, &ns);
        if (orc == 0) {
            sesp_segment_seal(ns);
            /* The array has room: it just lost gj - gi >= 1 entries. */
            memmove(&l->segs[at + 1], &l->segs[at], (size_t)(l->nseg - at) * sizeof *l->segs);
            l->segs[at] = ns;
            l->nseg++;
        } else if (!rc) {
            rc = orc;       /* on disk and complete: back at the next open */
        }
    }
    sesp_log_fsync_dir(dir);
    pthread_mutex_unlock(&l->mu);
    return rc;
}

/* Cleans segments [gi, gj) into one. */
static int clean_group(pass *p, int gi, int gj)
{
    const char *dir = p->l->dir;
    char cleaned[4200], swap[4200];
    seg_name(cleaned, sizeof cleaned, dir, p->segs[gi].base, ".cleaned");
    int64_t end = gj < p->n ? p->segs[gj].base : p->end_base;
    swap_name(swap, sizeof swap, dir, p->segs[gi].base, end);
    int fd = open(cleaned, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return SESP_ERR_IO;
    uint8_t *buf = NULL;
    size_t cap = 0;
    sesp_record *recs = NULL;
    int reccap = 0, rc = 0;
    int64_t written = 0;
    sesp_bufw out;
    sesp_bufw_init(&out, 1 << 20, 0);
    for (int i = gi; i < gj && !rc; i++) {
        seg_snap *s = &p->segs[i];
        for (int64_t pos = 0; pos < s->size && !rc;) {
            sesp_batch_header h;
            if ((rc = read_batch(s, pos, &h, &buf, &cap)) != 0)
                break;
            pos += sesp_batch_size(&h);
            if ((rc = clean_batch(p, buf, &h, &recs, &reccap, &out)) != 0)
                break;
            if (out.len >= (1 << 20)) {
                rc = write_all(fd, out.p, out.len);
                written += (int64_t)out.len;
                throttle(p, (int64_t)out.len);
                sesp_bufw_reset(&out);
            }
            throttle(p, sesp_batch_size(&h));
            if (atomic_load(&g_stop))
                rc = SESP_ERR_STATE;
        }
        p->st->bytes_read += s->size;
        p->st->segments_in++;
    }
    if (!rc && out.len) {
        rc = write_all(fd, out.p, out.len);
        written += (int64_t)out.len;
    }
    if (!rc && fsync(fd) != 0)
        rc = SESP_ERR_IO;
    close(fd);
    sesp_bufw_free(&out);
    free(buf);
    free(recs);
    if (rc) {
        unlink(cleaned);
        return rc;
    }
    if (sesp_log_cleaner_crash_point == 1)
        return SESP_ERR_STATE;
    if (rename(cleaned, swap) != 0 || sesp_log_fsync_dir(dir) != 0) {
        unlink(cleaned);
        return SESP_ERR_IO;
    }
    if (sesp_log_cleaner_crash_point == 2)
        return SESP_ERR_STATE;
    p->st->bytes_written += written;
    if (written > 0)
        p->st->segments_out++;
    return install(p, gi, gj, swap, written);
}

int sesp_log_clean(sesp_log *l, int64_t now_ms, sesp_log_clean_stats *stats)
{
    sesp_log_clean_stats local;
    pass p;
    memset(&p, 0, sizeof p);
    p.st = stats ? stats : &local;
    memset(p.st, 0, sizeof *p.st);
    p.l = l;
    p.now_ms = now_ms;
    p.t0 = mono_s();
    sesp_arena_init(&p.map.keys, 0);
    int rc = 0;
    pthread_mutex_lock(&l->mu);
    p.cfg = l->cfg;
    p.clean_end = l->clean_end;
    int n = cleanable_count(l, now_ms);
    p.segs = n > 0 ? calloc((size_t)n, sizeof *p.segs) : NULL;
    if (n > 0 && !p.segs) {
        pthread_mutex_unlock(&l->mu);
        return SESP_ERR_NOMEM;
    }
    for (int i = 0; i < n; i++) {
        sesp_segment *s = l->segs[i];
        p.segs[i] = (seg_snap){s, s->base_offset, s->next_offset, s->size, fcntl(s->fd, F_DUPFD_CLOEXEC, 0)};
        if (p.segs[i].fd < 0) {
            rc = SESP_ERR_IO;
            n = i;
            break;
        }
    }
    p.n = n;
    p.end_base = l->segs[n < l->nseg ? n : l->nseg - 1]->base_offset;
    if (!rc)
        rc = sesp_pstate_last_offsets(&l->ps, &p.lasts, &p.nlasts);
    pthread_mutex_unlock(&l->mu);
    if (rc || n == 0)
        goto out;
    if ((rc = build_map(&p)) != 0)
        goto out;
    if (p.n < n)
        p.end_base = p.segs[p.n].base;
    /* Groups of consecutive segments whose input fits one segment. */
    for (int gi = 0; gi < p.n && !rc;) {
        int gj = gi + 1;
        int64_t sz = p.segs[gi].size;
        while (gj < p.n && sz + p.segs[gj].size <= p.cfg.segment_bytes &&
               p.segs[gj].next - p.segs[gi].base <= INT32_MAX) {
            sz += p.segs[gj].size;
            gj++;
        }
        rc = clean_group(&p, gi, gj);
        gi = gj;
        /* Leave the CPU to producers between groups. */
        sched_yield();
    }
    if (!rc) {
        pthread_mutex_lock(&l->mu);
        int64_t done = p.n > 0 ? p.segs[p.n - 1].next : l->clean_end;
        if (done > l->clean_end)
            l->clean_end = done;
        pthread_mutex_unlock(&l->mu);
        rc = 1;
    }
out:
    for (int i = 0; i < n; i++)
        if (p.segs[i].fd >= 0)
            close(p.segs[i].fd);
    free(p.segs);
    free(p.lasts);
    kmap_free(&p.map);
    return rc;
}

/* ---- recovery at open ---- */

static bool parse_digits(const char *s, int64_t *v)
{
    int64_t x = 0;
    for (int i = 0; i < 20; i++) {
        if (s[i] < '0' || s[i] > '9' || x > (INT64_MAX - 9) / 10)
            return false;
        x = x * 10 + (s[i] - '0');
    }
    *v = x;
    return true;
}

int sesp_log_cleaner_recover_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return SESP_ERR_IO;
    int rc = 0;
    struct dirent *e;
    char p[4200];
    /* Names are collected first: renaming while readdir runs is unspecified. */
    char (*names)[64] = NULL;
    int n = 0, cap = 0;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        bool cleaned = len == 28 && strcmp(e->d_name + 20, ".cleaned") == 0;
        bool swap = len == 46 && e->d_name[20] == '.' && strcmp(e->d_name + 41, ".swap") == 0;
        if (!cleaned && !swap)
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            char (*nn)[64] = realloc(names, (size_t)cap * sizeof *nn);
            if (!nn) {
                rc = SESP_ERR_NOMEM;
                break;
            }
            names = nn;
        }
        memcpy(names[n], e->d_name, len + 1);
        n++;
    }
    closedir(d);
    for (int i = 0; i < n && !rc; i++) {
        const char *nm = names[i];
        snprintf(p, sizeof p, "%s/%s", dir, nm);
        int64_t base, end;
        if (strlen(nm) == 28) {
            unlink(p);          /* never committed */
            continue;
        }
        if (!parse_digits(nm, &base) || !parse_digits(nm + 21, &end) || end < base) {
            unlink(p);
            continue;
        }
        /* Committed: finish it.  The originals are the segments in [base, end). */
        DIR *d2 = opendir(dir);
        if (!d2) {
            rc = SESP_ERR_IO;
            break;
        }
        int64_t *olds = NULL;
        int no = 0, oc = 0;
        while ((e = readdir(d2)) != NULL) {
            int64_t b;
            if (strlen(e->d_name) == 24 && strcmp(e->d_name + 20, ".log") == 0 && parse_digits(e->d_name, &b) &&
                b >= base && b < end) {
                if (no == oc) {
                    oc = oc ? oc * 2 : 8;
                    int64_t *x = realloc(olds, (size_t)oc * sizeof *x);
                    if (!x) {
                        rc = SESP_ERR_NOMEM;
                        break;
                    }
                    olds = x;
                }
                olds[no++] = b;
            }
        }
        closedir(d2);
        for (int k = 0; k < no && !rc; k++)
            unlink_segment_files(dir, olds[k]);
        free(olds);
        if (rc)
            break;
        char lp[4200];
        seg_name(lp, sizeof lp, dir, base, ".log");
        if (rename(p, lp) != 0)
            rc = SESP_ERR_IO;
    }
    free(names);
    if (!rc && n > 0)
        rc = sesp_log_fsync_dir(dir);
    return rc;
}
