/*
 * A partition's log (see log.h): the ordered segments, offset assignment,
 * append/read, rolling, retention, flushing, checkpoints and recovery at
 * open.  One mutex serialises every operation on a log; reads hand out a
 * dup()'ed fd so the bytes can be sent after the lock is released, even if
 * retention deletes the segment meanwhile.
 */
#include "log.h"
#include "batch.h"
#include "cleaner.h"
#include "log_internal.h"
#include "pstate.h"
#include "segment.h"
#include "common/err.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CLEAN_MARKER ".sesp_cleanshutdown"
#define START_CHECKPOINT "log-start-offset-checkpoint"
#define RECOVERY_CHECKPOINT "recovery-point-offset-checkpoint"


void sesp_log_config_defaults(sesp_log_config *c)
{
    c->segment_bytes = 1073741824;
    c->segment_ms = 604800000;
    c->retention_ms = 604800000;
    c->retention_bytes = -1;
    c->flush_interval_messages = INT64_MAX;
    c->flush_interval_ms = INT64_MAX;
    c->max_message_bytes = 1048588;
    c->log_append_time = false;
    c->index_interval_bytes = 4096;
    c->segment_index_bytes = 10485760;
    c->compact = false;
    c->delete_retention = true;
    c->delete_retention_ms = 86400000;
    c->min_cleanable_dirty_ratio = 0.5;
    c->min_compaction_lag_ms = 0;
    c->max_compaction_lag_ms = INT64_MAX;
}

static sesp_segment *active(sesp_log *l) { return l->segs[l->nseg - 1]; }
static int find_segment(const sesp_log *l, int64_t offset);

static char *dir_file(const sesp_log *l, const char *name)
{
    size_t n = strlen(l->dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s/%s", l->dir, name);
    return p;
}

int sesp_log_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return SESP_ERR_IO;
    int rc = fsync(fd) == 0 ? 0 : SESP_ERR_IO;
    close(fd);
    return rc;
}

/* Checkpoints are one decimal offset; written to a temp file, fsync'ed, renamed. */
static int write_checkpoint(sesp_log *l, const char *name, int64_t v)
{
    char tmpname[128];
    snprintf(tmpname, sizeof tmpname, "%s.tmp", name);
    char *tmp = dir_file(l, tmpname), *dst = dir_file(l, name);
    int rc = SESP_ERR_NOMEM;
    if (!tmp || !dst)
        goto out;
    rc = SESP_ERR_IO;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        goto out;
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%" PRId64 "\n", v);
    bool ok = write(fd, buf, (size_t)n) == n && fsync(fd) == 0;
    close(fd);
    if (!ok || rename(tmp, dst) != 0)
        goto out;
    rc = 0;
out:
    free(tmp);
    free(dst);
    return rc;
}

/* -1 when missing or unreadable: a checkpoint is a hint, never trusted blindly. */
static int64_t read_checkpoint(sesp_log *l, const char *name)
{
    char *p = dir_file(l, name);
    if (!p)
        return -1;
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    free(p);
    if (fd < 0)
        return -1;
    char buf[32];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    char *end;
    errno = 0;
    long long v = strtoll(buf, &end, 10);
    if (errno || end == buf || (*end != '\n' && *end != 0) || v < 0)
        return -1;
    return v;
}

static int add_segment(sesp_log *l, sesp_segment *s)
{
    if (l->nseg == l->capseg) {
        int ncap = l->capseg ? l->capseg * 2 : 8;
        sesp_segment **n = realloc(l->segs, (size_t)ncap * sizeof *n);
        if (!n)
            return SESP_ERR_NOMEM;
        l->segs = n;
        l->capseg = ncap;
    }
    l->segs[l->nseg++] = s;
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

/* Base offsets of the NNNNNNNNNNNNNNNNNNNN.log files in dir, sorted. */
static int list_segments(const char *dir, int64_t **out, int *n)
{
    DIR *d = opendir(dir);
    if (!d)
        return SESP_ERR_IO;
    int64_t *v = NULL;
    int cnt = 0, cap = 0, rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *nm = e->d_name;
        if (strlen(nm) != 24 || strcmp(nm + 20, ".log") != 0)
            continue;
        int64_t base = 0;
        bool ok = true;
        for (int i = 0; i < 20; i++) {
            if (nm[i] < '0' || nm[i] > '9' || base > (INT64_MAX - 9) / 10) {
                ok = false;
                break;
            }
            base = base * 10 + (nm[i] - '0');
        }
        if (!ok || base > INT64_MAX - INT32_MAX)
            continue;
        if (cnt == cap) {
            cap = cap ? cap * 2 : 16;
            int64_t *nv = realloc(v, (size_t)cap * sizeof *nv);
            if (!nv) {
                rc = SESP_ERR_NOMEM;
                break;
            }
            v = nv;
        }
        v[cnt++] = base;
    }
    closedir(d);
    if (rc) {
        free(v);
        return rc;
    }
    if (cnt > 1)
        qsort(v, (size_t)cnt, sizeof *v, cmp_i64);
    *out = v;
    *n = cnt;
    return 0;
}

static int mkdirs(const char *dir)
{
    char *p = strdup(dir);
    if (!p)
        return SESP_ERR_NOMEM;
    for (char *q = p + 1; *q; q++) {
        if (*q != '/')
            continue;
        *q = 0;
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            free(p);
            return SESP_ERR_IO;
        }
        *q = '/';
    }
    int rc = (mkdir(p, 0755) != 0 && errno != EEXIST) ? SESP_ERR_IO : 0;
    free(p);
    return rc;
}

static void free_log(sesp_log *l)
{
    sesp_pstate_free(&l->ps);
    for (int i = 0; i < l->nseg; i++)
        sesp_segment_close(l->segs[i]);
    free(l->segs);
    free(l->dir);
    pthread_mutex_destroy(&l->mu);
    free(l);
}

/* Drops the files of a segment that recovery cannot keep. */
static void remove_segment_files(const char *dir, int64_t base)
{
    const char *exts[] = {".log", ".index", ".timeindex"};
    for (size_t i = 0; i < 3; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%020" PRId64 "%s", dir, base, exts[i]);
        unlink(p);
    }
}

static int replay_batch(void *ud, const sesp_batch_header *h, int64_t pos)
{
    (void)pos;
    return sesp_pstate_update(ud, h);
}

/* Producer state = the newest usable snapshot + the batches after it. */
static int rebuild_pstate(sesp_log *l)
{
    int64_t end = active(l)->next_offset, snap;
    int rc = sesp_pstate_load_latest(&l->ps, l->dir, end, &snap);
    if (rc)
        return rc;
    int64_t from = snap < 0 ? 0 : snap;
    for (int i = find_segment(l, from); i < l->nseg; i++)
        if ((rc = sesp_segment_walk(l->segs[i], from, replay_batch, &l->ps)) != 0)
            return rc;
    sesp_pstate_log_start_moved(&l->ps, l->log_start);
    return 0;
}

int sesp_log_open(const char *dir, const sesp_log_config *cfg, sesp_log **out)
{
    int rc = 0;
    int64_t *bases = NULL;
    int nb = 0;
    char *marker = NULL;
    sesp_log *l = calloc(1, sizeof *l);
    if (!l)
        return SESP_ERR_NOMEM;
    pthread_mutex_init(&l->mu, NULL);
    sesp_pstate_init(&l->ps);
    l->cfg = *cfg;
    l->dir = strdup(dir);
    if (!l->dir) {
        rc = SESP_ERR_NOMEM;
        goto out;
    }
    if ((rc = mkdirs(dir)) != 0 || (rc = sesp_log_cleaner_recover_dir(dir)) != 0 ||
        (rc = list_segments(dir, &bases, &nb)) != 0)
        goto out;
    marker = dir_file(l, CLEAN_MARKER);
    if (!marker) {
        rc = SESP_ERR_NOMEM;
        goto out;
    }
    bool clean = access(marker, F_OK) == 0;
    /* From here on a crash must count as unclean. */
    if (clean && (unlink(marker) != 0 || sesp_log_fsync_dir(dir) != 0)) {
        rc = SESP_ERR_IO;
        goto out;
    }
    int64_t recovery_point = clean ? INT64_MAX : read_checkpoint(l, RECOVERY_CHECKPOINT);
    if (recovery_point < 0)
        recovery_point = 0;
    for (int i = 0; i < nb; i++) {
        /* Data at or past the recovery point may be torn: validate it fully. */
        int64_t seg_end = i + 1 < nb ? bases[i + 1] : INT64_MAX;
        sesp_seg_trust trust = clean ? SESP_SEG_TRUST_INDEX
                             : seg_end > recovery_point ? SESP_SEG_VALIDATE : SESP_SEG_SCAN_HEADERS;
        sesp_segment *s;
        bool truncated = false;
        if ((rc = sesp_segment_open(dir, bases[i], &l->cfg, trust, &truncated, &s)) != 0)
            goto out;
        bool overlaps = l->nseg > 0 && active(l)->next_offset > s->base_offset;
        if (overlaps) {
            /* A segment starting inside its predecessor's offsets cannot be
             * trusted; it and everything after it go, as after a torn tail. */
            sesp_segment_close(s);
            for (int j = i; j < nb; j++)
                remove_segment_files(dir, bases[j]);
            break;
        }
        if ((rc = add_segment(l, s)) != 0) {
            sesp_segment_close(s);
            goto out;
        }
        if (truncated && i + 1 < nb) {
            /* A hole in the middle of the log: what follows it is unreachable. */
            for (int j = i + 1; j < nb; j++)
                remove_segment_files(dir, bases[j]);
            break;
        }
    }
    /* Empty non-active segments are dropped so the active one is the only empty segment. */
    for (int i = 0; i + 1 < l->nseg;) {
        if (l->segs[i]->size == 0) {
            sesp_segment_remove(l->segs[i]);
            memmove(&l->segs[i], &l->segs[i + 1], (size_t)(l->nseg - i - 1) * sizeof *l->segs);
            l->nseg--;
        } else {
            i++;
        }
    }
    int64_t start_cp = read_checkpoint(l, START_CHECKPOINT);
    if (l->nseg == 0) {
        sesp_segment *s;
        bool truncated;
        int64_t base = start_cp > 0 && start_cp <= INT64_MAX - INT32_MAX ? start_cp : 0;
        if ((rc = sesp_segment_open(dir, base, &l->cfg, SESP_SEG_VALIDATE, &truncated, &s)) != 0)
            goto out;
        if ((rc = add_segment(l, s)) != 0) {
            sesp_segment_close(s);
            goto out;
        }
        sesp_log_fsync_dir(dir);
    }
    int64_t end = active(l)->next_offset;
    l->log_start = l->segs[0]->base_offset;
    if (start_cp > l->log_start)
        l->log_start = start_cp < end ? start_cp : end;
    l->recovery_point = end;
    l->last_flush_ms = -1;
    if ((rc = rebuild_pstate(l)) != 0)
        goto out;
out:
    free(bases);
    free(marker);
    if (rc) {
        int e = errno;
        free_log(l);
        errno = e;
        return rc;
    }
    if (l->cfg.compact)
        sesp_log_cleaner_register(l);
    *out = l;
    return 0;
}

static int flush_locked(sesp_log *l)
{
    int rc = 0;
    for (int i = 0; i < l->nseg; i++) {
        int r = sesp_segment_flush(l->segs[i]);
        if (r && !rc)
            rc = r;
    }
    int64_t end = active(l)->next_offset;
    if (!rc && end != l->recovery_point) {
        rc = write_checkpoint(l, RECOVERY_CHECKPOINT, end);
        if (!rc)
            l->recovery_point = end;
    }
    if (!rc)
        l->unflushed = 0;
    return rc;
}

void sesp_log_close(sesp_log *l)
{
    if (!l)
        return;
    sesp_log_cleaner_unregister(l);
    pthread_mutex_lock(&l->mu);
    int rc = flush_locked(l);
    for (int i = 0; i < l->nseg; i++)
        if (sesp_segment_seal(l->segs[i]) != 0)
            rc = SESP_ERR_IO;
    for (int i = 0; i < l->nseg && !rc; i++)
        if (sesp_idxfile_sync(&l->segs[i]->oix.f) != 0 || sesp_idxfile_sync(&l->segs[i]->tix.f) != 0)
            rc = SESP_ERR_IO;
    /* With a snapshot at the end offset a restart replays nothing. */
    if (!rc && sesp_pstate_write_snapshot(&l->ps, l->dir, active(l)->next_offset) != 0)
        rc = SESP_ERR_IO;
    if (!rc)
        sesp_pstate_prune_snapshots(l->dir, 2);
    if (!rc) {
        /* Only a log whose data and trimmed indexes are on disk may skip recovery. */
        char *m = dir_file(l, CLEAN_MARKER);
        int fd = m ? open(m, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644) : -1;
        if (fd >= 0) {
            fsync(fd);
            close(fd);
            sesp_log_fsync_dir(l->dir);
        }
        free(m);
    }
    pthread_mutex_unlock(&l->mu);
    free_log(l);
}

int sesp_log_delete(sesp_log *l)
{
    if (!l)
        return SESP_ERR_INVALID_ARG;
    sesp_log_cleaner_unregister(l);
    char *dir = strdup(l->dir);
    pthread_mutex_lock(&l->mu);
    pthread_mutex_unlock(&l->mu);
    free_log(l);
    if (!dir)
        return SESP_ERR_NOMEM;
    int rc = 0;
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            char p[4096];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            if (unlink(p) != 0 && errno != ENOENT)
                rc = SESP_ERR_IO;
        }
        closedir(d);
    }
    if (rmdir(dir) != 0 && errno != ENOENT)
        rc = SESP_ERR_IO;
    free(dir);
    return rc;
}

void sesp_log_set_config(sesp_log *l, const sesp_log_config *cfg)
{
    pthread_mutex_lock(&l->mu);
    l->cfg = *cfg;
    pthread_mutex_unlock(&l->mu);
    if (cfg->compact)
        sesp_log_cleaner_register(l);
    else
        sesp_log_cleaner_unregister(l);
}

/* Seals the active segment and opens a fresh one at the end offset. */
static int roll_locked(sesp_log *l, int64_t now_ms)
{
    sesp_segment *old = active(l);
    if (old->size == 0)
        return 0;
    sesp_segment_seal(old);
    sesp_segment *s;
    bool truncated;
    /* A leftover file at the new base (e.g. from a crash mid-roll) is validated, never trusted. */
    int rc = sesp_segment_open(l->dir, old->next_offset, &l->cfg, SESP_SEG_VALIDATE, &truncated, &s);
    if (rc)
        return rc;
    if (s->size != 0) {
        sesp_segment_remove(s);
        rc = sesp_segment_open(l->dir, old->next_offset, &l->cfg, SESP_SEG_VALIDATE, &truncated, &s);
        if (rc)
            return rc;
    }
    if ((rc = add_segment(l, s)) != 0) {
        sesp_segment_remove(s);
        return rc;
    }
    sesp_log_fsync_dir(l->dir);
    /* Best effort: without it recovery replays more of the log, nothing worse. */
    if (sesp_pstate_write_snapshot(&l->ps, l->dir, s->base_offset) == 0)
        sesp_pstate_prune_snapshots(l->dir, 2);
    return 0;
}

static bool time_to_roll(const sesp_log *l, const sesp_segment *s, int64_t now_ms)
{
    return s->size > 0 && s->rolling_base_ms >= 0 && now_ms - s->rolling_base_ms >= l->cfg.segment_ms;
}

static int fail(sesp_log_append_info *info, int rc, int16_t kerr, const char *msg)
{
    info->kafka_error = kerr;
    info->error_message = msg;
    return rc;
}

/* Validates all batches of a produce request; fills the first batch's header. */
static int validate_records(const sesp_log_config *cfg, const uint8_t *p, size_t len, int32_t *count, sesp_log_append_info *info)
{
    size_t pos = 0;
    int32_t total = 0;
    if (len == 0)
        return fail(info, SESP_ERR_MALFORMED, SESP_LOG_KERR_CORRUPT_MESSAGE, "empty record set");
    if ((int64_t)len > cfg->segment_bytes)
        return fail(info, SESP_ERR_TOO_LARGE, SESP_LOG_KERR_RECORD_LIST_TOO_LARGE,
                    "record set larger than the segment size");
    while (pos < len) {
        sesp_batch_header h;
        int rc = sesp_batch_validate(p + pos, len - pos, cfg->max_message_bytes, &h);
        switch (rc) {
        case 0: break;
        case SESP_ERR_UNSUPPORTED:
            return fail(info, rc, SESP_LOG_KERR_UNSUPPORTED_FOR_MESSAGE_FORMAT, "only record batch v2 (magic 2) is supported");
        case SESP_ERR_TOO_LARGE:
            return fail(info, rc, SESP_LOG_KERR_MESSAGE_TOO_LARGE, "record batch larger than max.message.bytes");
        case SESP_ERR_CORRUPT:
            return fail(info, rc, SESP_LOG_KERR_CORRUPT_MESSAGE, "record batch CRC mismatch or undecodable compression");
        case SESP_ERR_INVALID_ARG:
            return fail(info, rc, SESP_LOG_KERR_INVALID_RECORD, "records do not match the batch header");
        case SESP_ERR_NOMEM:
            return fail(info, rc, SESP_LOG_KERR_KAFKA_STORAGE_ERROR, "out of memory validating records");
        default:
            return fail(info, rc, SESP_LOG_KERR_CORRUPT_MESSAGE, "malformed record batch");
        }
        /* Producers send dense batches: offsets 0..n-1, nothing else. */
        if (h.records_count < 1 || h.last_offset_delta != h.records_count - 1)
            return fail(info, SESP_ERR_INVALID_ARG, SESP_LOG_KERR_INVALID_RECORD,
                        "record batch offsets are not consecutive");
        if (total > INT32_MAX - h.records_count)
            return fail(info, SESP_ERR_TOO_LARGE, SESP_LOG_KERR_RECORD_LIST_TOO_LARGE, "too many records");
        total += h.records_count;
        pos += (size_t)sesp_batch_size(&h);
    }
    *count = total;
    return 0;
}

static bool tracked(const sesp_batch_header *h)
{
    return h->producer_id >= 0 && h->producer_epoch >= 0 && h->base_sequence >= 0 &&
           !(h->attributes & SESP_BATCH_ATTR_CONTROL);
}

/* Checks every idempotent batch of a record set (about to get offsets from
 * next) against the producer state, in order, using scratch copies of the
 * entries so later batches see earlier ones.  0: all new, *out and *nout are the
 * updated entries to store after the write; 1: a duplicate (info filled);
 * <0: refused (info filled). */
static int check_producers(sesp_log *l, const uint8_t *records, size_t len, int64_t next, int64_t now_ms,
                           sesp_pentry **out, int *nout, sesp_log_append_info *info)
{
    sesp_pentry *sc = NULL;
    int n = 0, cap = 0;
    for (size_t pos = 0; pos < len;) {
        sesp_batch_header h;
        sesp_batch_parse_header(records + pos, len - pos, &h);
        pos += (size_t)sesp_batch_size(&h);
        h.base_offset = next;
        next += h.records_count;
        if (!tracked(&h))
            continue;
        /* The state remembers the timestamp the log will hold (expiry and
         * replay see the same one). */
        if (l->cfg.log_append_time)
            h.max_timestamp = now_ms;
        int k = 0;
        while (k < n && sc[k].pid != h.producer_id)
            k++;
        if (k == n) {
            if (n == cap) {
                cap = cap ? cap * 2 : 2;
                sesp_pentry *ns = realloc(sc, (size_t)cap * sizeof *ns);
                if (!ns) {
                    free(sc);
                    return fail(info, SESP_ERR_NOMEM, SESP_LOG_KERR_KAFKA_STORAGE_ERROR, "out of memory");
                }
                sc = ns;
            }
            const sesp_pentry *cur = sesp_pstate_get(&l->ps, h.producer_id);
            if (cur) {
                sc[n] = *cur;
            } else {
                memset(&sc[n], 0, sizeof sc[n]);
                sc[n].pid = h.producer_id;
                sc[n].epoch = -1;
                sc[n].last_ts = -1;
            }
            n++;
        }
        sesp_pbatch dup;
        switch (sesp_pstate_check(&sc[k], &h, &dup)) {
        case SESP_PCHECK_OK:
            sesp_pentry_apply(&sc[k], &h);
            continue;
        case SESP_PCHECK_DUPLICATE:
            /* As Kafka: the whole request is answered with the stored batch. */
            free(sc);
            info->duplicate = true;
            info->base_offset = dup.first_off;
            info->last_offset = dup.last_off;
            info->record_count = (int32_t)(dup.last_off - dup.first_off + 1);
            return 1;
        case SESP_PCHECK_FENCED:
            free(sc);
            return fail(info, SESP_ERR_STATE, SESP_LOG_KERR_INVALID_PRODUCER_EPOCH,
                        "producer epoch is older than the current one (fenced)");
        case SESP_PCHECK_OUT_OF_ORDER:
            free(sc);
            return fail(info, SESP_ERR_STATE, SESP_LOG_KERR_OUT_OF_ORDER_SEQUENCE_NUMBER,
                        "out of order sequence number");
        case SESP_PCHECK_UNKNOWN:
            free(sc);
            return fail(info, SESP_ERR_STATE, SESP_LOG_KERR_UNKNOWN_PRODUCER_ID,
                        "unknown producer id with a non-zero sequence");
        }
    }
    *out = sc;
    *nout = n;
    return 0;
}

static void put64(uint8_t *p, int64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)((uint64_t)v >> (56 - 8 * i));
}

static void put32(uint8_t *p, int32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)((uint32_t)v >> (24 - 8 * i));
}

int sesp_log_append(sesp_log *l, uint8_t *records, size_t len, int64_t now_ms, sesp_log_append_info *info)
{
    memset(info, 0, sizeof *info);
    info->base_offset = -1;
    info->last_offset = -1;
    info->log_append_time = -1;
    int32_t count = 0;
    sesp_pentry *pents = NULL;
    int npents = 0;
    /* Validation (CRC, decompression) runs outside the lock so producers to
     * one partition only serialise on the write itself. */
    pthread_mutex_lock(&l->mu);
    sesp_log_config cfg = l->cfg;
    pthread_mutex_unlock(&l->mu);
    int rc = validate_records(&cfg, records, len, &count, info);
    pthread_mutex_lock(&l->mu);
    info->log_start_offset = l->log_start;
    if (rc)
        goto out;
    sesp_segment *s = active(l);
    int64_t next = s->next_offset;
    bool rel_overflow = next + count - 1 - s->base_offset > INT32_MAX;
    if (s->size > 0 && (s->size + (int64_t)len > l->cfg.segment_bytes || s->size + (int64_t)len > INT32_MAX ||
                        time_to_roll(l, s, now_ms) || rel_overflow || sesp_segment_index_full(s))) {
        if ((rc = roll_locked(l, now_ms)) != 0) {
            fail(info, rc, SESP_LOG_KERR_KAFKA_STORAGE_ERROR, "cannot roll log segment");
            goto out;
        }
        s = active(l);
    }
    if (next > INT64_MAX - count) {
        rc = fail(info, SESP_ERR_RANGE, SESP_LOG_KERR_KAFKA_STORAGE_ERROR, "offset space exhausted");
        goto out;
    }
    int pc = check_producers(l, records, len, next, now_ms, &pents, &npents, info);
    if (pc != 0) {
        rc = pc < 0 ? pc : 0;
        goto out;
    }
    /* Assign offsets and the leader epoch in the caller's buffer; both are
     * outside the CRC. */
    info->base_offset = next;
    for (size_t pos = 0; pos < len;) {
        sesp_batch_header h;
        sesp_batch_parse_header(records + pos, len - pos, &h);
        size_t bsize = (size_t)sesp_batch_size(&h);
        put64(records + pos + SESP_BATCH_OFF_BASE_OFFSET, next);
        put32(records + pos + SESP_BATCH_OFF_LEADER_EPOCH, SESP_LOG_LEADER_EPOCH);
        if (l->cfg.log_append_time) {
            uint16_t attrs = (uint16_t)h.attributes | SESP_BATCH_ATTR_LOG_APPEND_TIME;
            records[pos + SESP_BATCH_OFF_ATTRIBUTES] = (uint8_t)(attrs >> 8);
            records[pos + SESP_BATCH_OFF_ATTRIBUTES + 1] = (uint8_t)attrs;
            put64(records + pos + SESP_BATCH_OFF_MAX_TIMESTAMP, now_ms);
            sesp_batch_update_crc(records + pos, bsize);
        }
        next += h.records_count;
        pos += bsize;
    }
    if ((rc = sesp_segment_append(s, records, len, l->cfg.index_interval_bytes, now_ms)) != 0) {
        fail(info, rc, SESP_LOG_KERR_KAFKA_STORAGE_ERROR, "write to log segment failed");
        info->base_offset = -1;
        goto out;
    }
    for (int i = 0; i < npents; i++)
        if (sesp_pstate_put(&l->ps, &pents[i]) != 0) {
            /* The data is written but not remembered: a retry would be stored
             * twice.  Refusing further appends would be worse; say so. */
            fprintf(stderr, "sesp log %s: out of memory recording producer state\n", l->dir);
        }
    info->last_offset = next - 1;
    info->record_count = count;
    if (l->cfg.log_append_time)
        info->log_append_time = now_ms;
    l->unflushed += count;
    if (l->unflushed >= l->cfg.flush_interval_messages) {
        /* Only the data must be durable now; indexes are rebuilt by recovery. */
        if (fdatasync(s->fd) != 0) {
            rc = fail(info, SESP_ERR_IO, SESP_LOG_KERR_KAFKA_STORAGE_ERROR, "fsync of log segment failed");
            goto out;
        }
        s->dirty = false;
        l->unflushed = 0;
        if (l->nseg > 1 && l->segs[l->nseg - 2]->dirty)
            flush_locked(l);
    }
out:
    pthread_mutex_unlock(&l->mu);
    free(pents);
    return rc;
}

/* Index of the segment holding offset (the last with base <= offset). */
static int find_segment(const sesp_log *l, int64_t offset)
{
    int lo = 0, hi = l->nseg - 1, best = 0;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (l->segs[mid]->base_offset <= offset) {
            best = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return best;
}

int sesp_log_read(sesp_log *l, int64_t offset, int32_t max_bytes, bool min_one, sesp_log_slice *out)
{
    out->fd = -1;
    out->file_pos = 0;
    out->length = 0;
    pthread_mutex_lock(&l->mu);
    int rc = 0;
    int64_t end = active(l)->next_offset;
    if (offset < l->log_start || offset > end) {
        rc = SESP_ERR_RANGE;
        goto out;
    }
    if (offset == end)
        goto out;
    /* Batches with no records left (compaction keeps them for producers'
     * last sequences) are skipped at the start of a read when records
     * follow: a reply made of them alone crashes kafka-python up to 2.0.2,
     * one starting later reads as a compaction gap to every client.  When
     * nothing but them follows they are sent, as Kafka does, so clients
     * move their position to the end. */
    sesp_segment *only_empty = NULL;
    int64_t only_empty_pos = 0;
    for (int i = find_segment(l, offset); i < l->nseg; i++) {
        sesp_segment *s = l->segs[i];
        int64_t pos, len;
        sesp_batch_header h;
        rc = sesp_segment_find(s, offset, &pos, &h);
        if (rc == SESP_ERR_NOT_FOUND) {
            rc = 0;
            continue;               /* offset in a gap: the next segment starts after it */
        }
        if (rc == 0 && h.records_count == 0) {
            if (!only_empty) {
                only_empty = s;
                only_empty_pos = pos;
            }
            rc = sesp_segment_skip_empty(s, pos, &pos);
            if (rc == SESP_ERR_NOT_FOUND) {
                rc = 0;
                continue;
            }
        }
        if (rc || (rc = sesp_segment_slice_len(s, pos, max_bytes < 0 ? 0 : max_bytes, min_one, &len)) != 0)
            goto out;
        if (len == 0)
            goto out;
        out->fd = fcntl(s->fd, F_DUPFD_CLOEXEC, 0);
        if (out->fd < 0) {
            rc = SESP_ERR_IO;
            goto out;
        }
        out->file_pos = pos;
        out->length = len;
        goto out;
    }
    if (only_empty) {
        int64_t len;
        rc = sesp_segment_slice_len(only_empty, only_empty_pos, max_bytes < 0 ? 0 : max_bytes, min_one, &len);
        if (rc || len == 0)
            goto out;
        out->fd = fcntl(only_empty->fd, F_DUPFD_CLOEXEC, 0);
        if (out->fd < 0) {
            rc = SESP_ERR_IO;
            goto out;
        }
        out->file_pos = only_empty_pos;
        out->length = len;
    }
out:
    pthread_mutex_unlock(&l->mu);
    return rc;
}

int64_t sesp_log_start_offset(sesp_log *l)
{
    pthread_mutex_lock(&l->mu);
    int64_t v = l->log_start;
    pthread_mutex_unlock(&l->mu);
    return v;
}

int64_t sesp_log_end_offset(sesp_log *l)
{
    pthread_mutex_lock(&l->mu);
    int64_t v = active(l)->next_offset;
    pthread_mutex_unlock(&l->mu);
    return v;
}

int64_t sesp_log_size_bytes(sesp_log *l)
{
    pthread_mutex_lock(&l->mu);
    int64_t v = 0;
    for (int i = 0; i < l->nseg; i++)
        v += l->segs[i]->size;
    pthread_mutex_unlock(&l->mu);
    return v;
}

int sesp_log_segment_count(sesp_log *l)
{
    pthread_mutex_lock(&l->mu);
    int v = l->nseg;
    pthread_mutex_unlock(&l->mu);
    return v;
}

int sesp_log_offset_for_time(sesp_log *l, int64_t ts, int64_t *offset, int64_t *timestamp)
{
    *offset = -1;
    *timestamp = -1;
    int rc = 0;
    pthread_mutex_lock(&l->mu);
    if (ts == SESP_LOG_TS_EARLIEST) {
        *offset = l->log_start;
    } else if (ts == SESP_LOG_TS_LATEST) {
        *offset = active(l)->next_offset;
    } else if (ts == SESP_LOG_TS_MAX_TIMESTAMP) {
        int best = -1;
        for (int i = 0; i < l->nseg; i++)
            if (l->segs[i]->max_timestamp >= 0 && l->segs[i]->next_offset > l->log_start &&
                (best < 0 || l->segs[i]->max_timestamp > l->segs[best]->max_timestamp))
                best = i;
        if (best >= 0) {
            int64_t o;
            rc = sesp_segment_max_ts_offset(l->segs[best], &o);
            if (rc == 0) {
                *offset = o;
                *timestamp = l->segs[best]->max_timestamp;
            } else if (rc == SESP_ERR_NOT_FOUND) {
                rc = 0;
            }
        }
    } else if (ts < 0) {
        rc = SESP_ERR_INVALID_ARG;
    } else {
        for (int i = find_segment(l, l->log_start); i < l->nseg; i++) {
            int64_t o, t;
            rc = sesp_segment_find_time(l->segs[i], ts, l->log_start, &o, &t);
            if (rc == 0) {
                *offset = o;
                *timestamp = t;
                break;
            }
            if (rc != SESP_ERR_NOT_FOUND)
                break;
            rc = 0;
        }
    }
    pthread_mutex_unlock(&l->mu);
    return rc;
}

/* Removes the oldest segment (never the only one). */
static int drop_oldest(sesp_log *l)
{
    assert(l->nseg > 1);
    int rc = sesp_segment_remove(l->segs[0]);
    memmove(&l->segs[0], &l->segs[1], (size_t)(l->nseg - 1) * sizeof *l->segs);
    l->nseg--;
    if (l->log_start < l->segs[0]->base_offset)
        l->log_start = l->segs[0]->base_offset;
    return rc;
}

static bool expired(const sesp_log *l, const sesp_segment *s, int64_t now_ms)
{
    if (l->cfg.retention_ms < 0 || s->size == 0)
        return false;
    int64_t t = s->max_timestamp;
    if (t < 0)
        t = s->rolling_base_ms;
    return t >= 0 && now_ms - t > l->cfg.retention_ms;
}

int sesp_log_apply_retention(sesp_log *l, int64_t now_ms)
{
    pthread_mutex_lock(&l->mu);
    int rc = 0, deleted = 0;
    int64_t start_before = l->log_start;
    if (time_to_roll(l, active(l), now_ms) && (rc = roll_locked(l, now_ms)) != 0)
        goto out;
    int64_t total = 0;
    for (int i = 0; i < l->nseg; i++)
        total += l->segs[i]->size;
    /* Retention deletes a prefix of the log, oldest first, as Kafka does.  An
     * expired active segment is rolled first so it can go too. */
    for (;;) {
        sesp_segment *s = l->segs[0];
        bool by_time = l->cfg.delete_retention && expired(l, s, now_ms);
        bool by_size = l->cfg.delete_retention && l->cfg.retention_bytes >= 0 && s->size > 0 && total - s->size >= l->cfg.retention_bytes;
        bool below_start = s->size > 0 && s->next_offset <= l->log_start;
        if (!by_time && !by_size && !below_start)
            break;
        if (l->nseg == 1 && (rc = roll_locked(l, now_ms)) != 0)
            goto out;
        if (l->nseg == 1)
            break;
        total -= s->size;
        if ((rc = drop_oldest(l)) != 0)
            goto out;
        deleted++;
    }
    if (l->log_start != start_before) {
        sesp_pstate_log_start_moved(&l->ps, l->log_start);
        rc = write_checkpoint(l, START_CHECKPOINT, l->log_start);
    }
out:
    pthread_mutex_unlock(&l->mu);
    return rc ? rc : deleted;
}

int sesp_log_expire_producers(sesp_log *l, int64_t now_ms, int64_t expiration_ms)
{
    pthread_mutex_lock(&l->mu);
    size_t n = sesp_pstate_expire(&l->ps, now_ms, expiration_ms);
    pthread_mutex_unlock(&l->mu);
    return n > INT32_MAX ? INT32_MAX : (int)n;
}

int sesp_log_flush(sesp_log *l)
{
    pthread_mutex_lock(&l->mu);
    int rc = flush_locked(l);
    pthread_mutex_unlock(&l->mu);
    return rc;
}

int sesp_log_maybe_flush_time(sesp_log *l, int64_t now_ms)
{
    pthread_mutex_lock(&l->mu);
    int rc = 0;
    if (l->last_flush_ms < 0)
        l->last_flush_ms = now_ms;
    if (l->cfg.flush_interval_ms != INT64_MAX && now_ms - l->last_flush_ms >= l->cfg.flush_interval_ms) {
        rc = flush_locked(l);
        l->last_flush_ms = now_ms;
    }
    pthread_mutex_unlock(&l->mu);
    return rc;
}

int sesp_log_truncate_prefix(sesp_log *l, int64_t new_start)
{
    pthread_mutex_lock(&l->mu);
    int rc = 0;
    if (new_start > active(l)->next_offset) {
        rc = SESP_ERR_RANGE;
        goto out;
    }
    if (new_start <= l->log_start)
        goto out;
    l->log_start = new_start;
    sesp_pstate_log_start_moved(&l->ps, new_start);
    /* The checkpoint first: after a crash the start must not move back. */
    if ((rc = write_checkpoint(l, START_CHECKPOINT, new_start)) != 0)
        goto out;
    if (active(l)->size > 0 && active(l)->next_offset <= new_start && (rc = roll_locked(l, 0)) != 0)
        goto out;
    while (l->nseg > 1 && l->segs[0]->next_offset <= new_start)
        if ((rc = drop_oldest(l)) != 0)
            goto out;
    sesp_log_fsync_dir(l->dir);
out:
    pthread_mutex_unlock(&l->mu);
    return rc;
}
