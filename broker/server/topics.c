/*
 * The topic registry (see topics.h): topics and their partitions' logs,
 * per-topic config overrides (validated by topic_config.c), atomic persistence in
 * __sesp_meta/topics.json, reference counting so that a deleted topic's data
 * goes away only when no request uses it any more, and the waiter lists that
 * let a produce wake long-polling fetches.
 */
#include "topics_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker/log/log.h"
#include "common/err.h"

struct sesp_partition {
    sesp_topic *topic;
    int32_t index;
    int dir_idx;                     /* which of log.dirs holds it */
    sesp_log *log;
    pthread_mutex_t wmu;             /* guards the waiter list */
    sesp_partition_waiter *waiters;
};

typedef struct retired {
    struct retired *next;
    sesp_partition **parts;
} retired;

struct sesp_topic {
    sesp_topics *reg;                /* NULL once the registry is closed */
    char name[256];
    sesp_topic_id id;
    atomic_int refs;
    pthread_mutex_t mu;              /* guards parts/nparts and the overrides */
    sesp_partition **parts;
    int32_t nparts;
    retired *old_parts;              /* arrays replaced by growth, freed with the topic */
    char **ckeys, **cvals;           /* overrides */
    size_t nconf;
    atomic_bool deleted;
};

struct sesp_topics {
    const sesp_config *cfg;
    char *dir;
    pthread_rwlock_t lock;           /* guards topics[] and pending[] */
    sesp_topic **topics;
    size_t n, cap;
    sesp_topic **pending;            /* deleted topics still referenced (names reserved) */
    size_t npending;
};

#define bad sesp_topics_bad
#define parse_i64 sesp_topics_parse_i64

const sesp_config *sesp_topics_config(const sesp_topics *t)
{
    return t->cfg;
}

/* ---- helpers ------------------------------------------------------------- */

static int rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path) != 0 && errno != ENOENT ? -1 : 0;
}

static int rm_rf(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return errno == ENOENT ? 0 : SESP_ERR_IO;
    return nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS) == 0 ? 0 : SESP_ERR_IO;
}

static int mkdir_p(const char *path)
{
    char tmp[4096];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof tmp)
        return SESP_ERR_INVALID_ARG;
    memcpy(tmp, path, len + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return SESP_ERR_IO;
            *p = '/';
        }
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return SESP_ERR_IO;
    return 0;
}

static void hex_id(const sesp_topic_id *id, char out[33])
{
    static const char hx[] = "0123456789abcdef";
    for (int i = 0; i < 16; i++) {
        out[2 * i] = hx[id->b[i] >> 4];
        out[2 * i + 1] = hx[id->b[i] & 15];
    }
    out[32] = 0;
}

static bool parse_hex_id(const char *s, sesp_topic_id *id)
{
    if (!s || strlen(s) != 32)
        return false;
    for (int i = 0; i < 16; i++) {
        unsigned v;
        char two[3] = {s[2 * i], s[2 * i + 1], 0};
        char *end;
        v = (unsigned)strtoul(two, &end, 16);
        if (*end)
            return false;
        id->b[i] = (uint8_t)v;
    }
    return true;
}

static void random_id(sesp_topic_id *id)
{
    for (;;) {
        size_t got = 0;
        while (got < sizeof id->b) {
            ssize_t n = getrandom(id->b + got, sizeof id->b - got, 0);
            if (n > 0)
                got += (size_t)n;
        }
        id->b[6] = (uint8_t)((id->b[6] & 0x0f) | 0x40); /* version 4 */
        id->b[8] = (uint8_t)((id->b[8] & 0x3f) | 0x80);
        /* Kafka avoids ids whose base64 form starts with '-' (top 6 bits
         * 62); our v4 bits never make the all-zero or metadata id. */
        if ((id->b[0] >> 2) != 62)
            return;
    }
}

static void partition_dir(const sesp_topics *t, int d, const char *topic, int32_t i, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s/%s-%d", t->cfg->log_dirs[d], topic, (int)i);
}

/* Partitions per log dir among the topics in the registry (lock held or
 * single-threaded load). */
static void dir_tally(const sesp_topics *t, int *tally)
{
    memset(tally, 0, sizeof(int) * SESP_CONFIG_MAX_LOG_DIRS);
    for (size_t i = 0; i < t->n; i++)
        for (int32_t p = 0; p < t->topics[i]->nparts; p++)
            tally[t->topics[i]->parts[p]->dir_idx]++;
}

/* Where partition i lives: an existing directory in any of log.dirs wins
 * (unless fresh, which clears leftovers everywhere); a new one goes to the
 * dir holding the fewest partitions, as Kafka places new replicas. */
static int choose_dir(const sesp_topics *t, const char *topic, int32_t i, bool fresh, int *tally)
{
    char dir[4096];
    struct stat st;
    int nd = t->cfg->num_log_dirs;
    for (int d = 0; d < nd; d++) {
        partition_dir(t, d, topic, i, dir, sizeof dir);
        if (fresh)
            rm_rf(dir); /* data of an earlier incarnation that never made it into topics.json */
        else if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode))
            return d;
    }
    int best = 0;
    for (int d = 1; d < nd; d++)
        if (tally[d] < tally[best])
            best = d;
    return best;
}

/* Effective log config of a topic; tp->mu held (or tp not yet shared). */
static void log_config_for(const sesp_topics *t, const sesp_topic *tp, sesp_log_config *lc)
{
    const sesp_config *c = t->cfg;
    sesp_log_config_defaults(lc);
    lc->segment_bytes = c->log_segment_bytes;
    lc->segment_ms = c->log_roll_ms;
    lc->retention_ms = c->log_retention_ms;
    lc->retention_bytes = c->log_retention_bytes;
    lc->flush_interval_messages = c->log_flush_interval_messages;
    lc->flush_interval_ms = c->log_flush_interval_ms;
    lc->max_message_bytes = c->message_max_bytes;
    lc->log_append_time = c->log_append_time;
    lc->index_interval_bytes = c->log_index_interval_bytes;
    lc->segment_index_bytes = c->log_segment_index_bytes;
    /* Broker-wide defaults of the cleanup settings (config validated them). */
    const char *v0;
    if ((v0 = sesp_config_get(c, "log.cleanup.policy"))) {
        lc->compact = strstr(v0, "compact") != NULL;
        lc->delete_retention = strstr(v0, "delete") != NULL;
    }
    int64_t n0;
    if (parse_i64(sesp_config_get(c, "log.cleaner.delete.retention.ms"), &n0))
        lc->delete_retention_ms = n0;
    if ((v0 = sesp_config_get(c, "log.cleaner.min.cleanable.ratio")))
        lc->min_cleanable_dirty_ratio = strtod(v0, NULL);
    if (parse_i64(sesp_config_get(c, "log.cleaner.min.compaction.lag.ms"), &n0))
        lc->min_compaction_lag_ms = n0;
    if (parse_i64(sesp_config_get(c, "log.cleaner.max.compaction.lag.ms"), &n0))
        lc->max_compaction_lag_ms = n0;
    for (size_t i = 0; i < tp->nconf; i++) {
        const char *k = tp->ckeys[i], *v = tp->cvals[i];
        int64_t n = 0;
        bool num = parse_i64(v, &n);
        if (strcmp(k, "segment.bytes") == 0 && num)
            lc->segment_bytes = n;
        else if (strcmp(k, "segment.ms") == 0 && num)
            lc->segment_ms = n;
        else if (strcmp(k, "retention.ms") == 0 && num)
            lc->retention_ms = n;
        else if (strcmp(k, "retention.bytes") == 0 && num)
            lc->retention_bytes = n;
        else if (strcmp(k, "flush.messages") == 0 && num)
            lc->flush_interval_messages = n;
        else if (strcmp(k, "flush.ms") == 0 && num)
            lc->flush_interval_ms = n;
        else if (strcmp(k, "max.message.bytes") == 0 && num)
            lc->max_message_bytes = (int32_t)n;
        else if (strcmp(k, "index.interval.bytes") == 0 && num)
            lc->index_interval_bytes = (int32_t)n;
        else if (strcmp(k, "segment.index.bytes") == 0 && num)
            lc->segment_index_bytes = (int32_t)n;
        else if (strcmp(k, "message.timestamp.type") == 0)
            lc->log_append_time = strcmp(v, "LogAppendTime") == 0;
        else if (strcmp(k, "cleanup.policy") == 0) {
            lc->compact = strstr(v, "compact") != NULL;
            lc->delete_retention = strstr(v, "delete") != NULL;
        } else if (strcmp(k, "delete.retention.ms") == 0 && num)
            lc->delete_retention_ms = n;
        else if (strcmp(k, "min.cleanable.dirty.ratio") == 0)
            lc->min_cleanable_dirty_ratio = strtod(v, NULL);
        else if (strcmp(k, "min.compaction.lag.ms") == 0 && num)
            lc->min_compaction_lag_ms = n;
        else if (strcmp(k, "max.compaction.lag.ms") == 0 && num)
            lc->max_compaction_lag_ms = n;
    }
}

static void free_overrides(char **keys, char **vals, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(keys[i]);
        free(vals[i]);
    }
    free(keys);
    free(vals);
}

static sesp_partition *partition_new(sesp_topic *tp, int32_t index, int dir_idx, sesp_log *log)
{
    sesp_partition *p = calloc(1, sizeof *p);
    if (!p)
        return NULL;
    p->topic = tp;
    p->index = index;
    p->dir_idx = dir_idx;
    p->log = log;
    pthread_mutex_init(&p->wmu, NULL);
    return p;
}

static void partition_free(sesp_partition *p, bool delete_data)
{
    if (!p)
        return;
    if (p->log && delete_data)
        sesp_log_delete(p->log);
    else if (p->log)
        sesp_log_close(p->log);
    pthread_mutex_destroy(&p->wmu);
    free(p);
}

static void topic_free(sesp_topic *tp, bool delete_data)
{
    for (int32_t i = 0; i < tp->nparts; i++)
        partition_free(tp->parts[i], delete_data);
    free(tp->parts);
    while (tp->old_parts) {
        retired *r = tp->old_parts;
        tp->old_parts = r->next;
        free(r->parts);
        free(r);
    }
    free_overrides(tp->ckeys, tp->cvals, tp->nconf);
    pthread_mutex_destroy(&tp->mu);
    free(tp);
}

static sesp_topic *topic_alloc(sesp_topics *t, const char *name, size_t len)
{
    sesp_topic *tp = calloc(1, sizeof *tp);
    if (!tp)
        return NULL;
    tp->reg = t;
    memcpy(tp->name, name, len);
    tp->name[len] = 0;
    atomic_init(&tp->refs, 1);
    atomic_init(&tp->deleted, false);
    pthread_mutex_init(&tp->mu, NULL);
    return tp;
}

/* Opens partitions [from, to) of tp into a new parts array; on failure every
 * log opened here is deleted again.  fresh removes leftover directories. */
static int open_partitions(sesp_topics *t, sesp_topic *tp, int32_t from, int32_t to, bool fresh,
                           sesp_partition ***out_parts, char *msg, size_t msglen)
{
    sesp_partition **parts = calloc((size_t)to, sizeof *parts);
    if (!parts)
        return SESP_ERR_NOMEM;
    for (int32_t i = 0; i < from; i++)
        parts[i] = tp->parts[i];
    sesp_log_config lc;
    log_config_for(t, tp, &lc);
    int rc = 0;
    int32_t i;
    int tally[SESP_CONFIG_MAX_LOG_DIRS];
    dir_tally(t, tally); /* counts tp's existing partitions too when it grows */
    for (i = from; i < to; i++) {
        char dir[4096];
        int d = choose_dir(t, tp->name, i, fresh, tally);
        tally[d]++;
        partition_dir(t, d, tp->name, i, dir, sizeof dir);
        sesp_log *log = NULL;
        rc = sesp_log_open(dir, &lc, &log);
        if (rc) {
            bad(msg, msglen, 0, "cannot open partition directory %s: %s", dir, sesp_strerror(rc));
            break;
        }
        if (!(parts[i] = partition_new(tp, i, d, log))) {
            sesp_log_delete(log);
            rc = SESP_ERR_NOMEM;
            break;
        }
    }
    if (rc) {
        for (int32_t j = from; j < i; j++)
            partition_free(parts[j], fresh);
        free(parts);
        return rc;
    }
    *out_parts = parts;
    return 0;
}

/* ---- persistence --------------------------------------------------------- */

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0)
        return SESP_ERR_IO;
    int rc = fsync(fd) == 0 ? 0 : SESP_ERR_IO;
    close(fd);
    return rc;
}

/* Writes topics.json (temp + fsync + rename + dir fsync).  Registry write
 * lock held. */
static int persist(sesp_topics *t)
{
    int rc = SESP_ERR_NOMEM;
    json_t *root = json_object(), *arr = json_array();
    char *text = NULL;
    if (!root || !arr) {
        json_decref(arr);
        goto out;
    }
    json_object_set_new(root, "version", json_integer(1));
    json_object_set_new(root, "topics", arr);
    for (size_t i = 0; i < t->n; i++) {
        sesp_topic *tp = t->topics[i];
        char hid[33];
        hex_id(&tp->id, hid);
        json_t *o = json_object(), *cfg = json_object();
        if (!o || !cfg) {
            json_decref(o);
            json_decref(cfg);
            goto out;
        }
        pthread_mutex_lock(&tp->mu);
        json_object_set_new(o, "name", json_string(tp->name));
        json_object_set_new(o, "id", json_string(hid));
        json_object_set_new(o, "partitions", json_integer(tp->nparts));
        for (size_t j = 0; j < tp->nconf; j++)
            json_object_set_new(cfg, tp->ckeys[j], json_string(tp->cvals[j]));
        pthread_mutex_unlock(&tp->mu);
        json_object_set_new(o, "configs", cfg);
        json_array_append_new(arr, o);
    }
    text = json_dumps(root, JSON_INDENT(1) | JSON_SORT_KEYS);
    if (!text)
        goto out;
    char meta[4096], tmp[4200], final[4200];
    snprintf(meta, sizeof meta, "%s/__sesp_meta", t->dir);
    snprintf(tmp, sizeof tmp, "%s/topics.json.tmp", meta);
    snprintf(final, sizeof final, "%s/topics.json", meta);
    if ((rc = mkdir_p(meta)))
        goto out;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = SESP_ERR_IO;
        goto out;
    }
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    rc = (off == len && fsync(fd) == 0) ? 0 : SESP_ERR_IO;
    close(fd);
    if (!rc && rename(tmp, final) != 0)
        rc = SESP_ERR_IO;
    if (!rc)
        rc = fsync_dir(meta);
out:
    if (rc)
        fprintf(stderr, "sesp broker: cannot persist topic registry in %s: %s\n", t->dir, strerror(errno));
    free(text);
    json_decref(root);
    return rc;
}

static int load(sesp_topics *t, char *err, size_t errlen)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/__sesp_meta/topics.json", t->dir);
    if (access(path, F_OK) != 0)
        return 0;
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) {
        snprintf(err, errlen, "%s: %s (line %d)", path, je.text, je.line);
        return SESP_ERR_CORRUPT;
    }
    int rc = 0;
    json_t *arr = json_object_get(root, "topics");
    if (!json_is_array(arr)) {
        snprintf(err, errlen, "%s: no topics array", path);
        rc = SESP_ERR_CORRUPT;
        goto out;
    }
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o) {
        const char *name = json_string_value(json_object_get(o, "name"));
        const char *hid = json_string_value(json_object_get(o, "id"));
        json_t *np = json_object_get(o, "partitions");
        json_t *cfg = json_object_get(o, "configs");
        sesp_topic_id id;
        char m[SESP_TOPICS_MSG_LEN];
        if (!name || sesp_topics_validate_name(name, strlen(name), m, sizeof m) || !parse_hex_id(hid, &id) ||
            !json_is_integer(np) || json_integer_value(np) < 1 || json_integer_value(np) > SESP_TOPICS_MAX_PARTITIONS ||
            (cfg && !json_is_object(cfg))) {
            snprintf(err, errlen, "%s: malformed topic entry %zu", path, i);
            rc = SESP_ERR_CORRUPT;
            goto out;
        }
        sesp_topic *tp = topic_alloc(t, name, strlen(name));
        if (!tp) {
            rc = SESP_ERR_NOMEM;
            goto out;
        }
        tp->id = id;
        const char *k;
        json_t *v;
        size_t nc = cfg ? json_object_size(cfg) : 0;
        tp->ckeys = calloc(nc + 1, sizeof *tp->ckeys);
        tp->cvals = calloc(nc + 1, sizeof *tp->cvals);
        if (!tp->ckeys || !tp->cvals) {
            topic_free(tp, false);
            rc = SESP_ERR_NOMEM;
            goto out;
        }
        if (cfg) {
            json_object_foreach(cfg, k, v) {
                const char *s = json_string_value(v);
                if (!s || sesp_topic_config_validate(k, s, m, sizeof m)) {
                    fprintf(stderr, "sesp broker: warning: topic %s: dropping stored config %s (%s)\n", name, k,
                            s ? m : "not a string");
                    continue;
                }
                tp->ckeys[tp->nconf] = strdup(k);
                tp->cvals[tp->nconf] = strdup(s);
                tp->nconf++;
                if (!tp->ckeys[tp->nconf - 1] || !tp->cvals[tp->nconf - 1]) {
                    topic_free(tp, false);
                    rc = SESP_ERR_NOMEM;
                    goto out;
                }
            }
        }
        sesp_partition **parts;
        int32_t n = (int32_t)json_integer_value(np);
        if ((rc = open_partitions(t, tp, 0, n, false, &parts, err, errlen))) {
            topic_free(tp, false);
            goto out;
        }
        tp->parts = parts;
        tp->nparts = n;
        if (t->n == t->cap) {
            size_t nc2 = t->cap ? t->cap * 2 : 16;
            sesp_topic **nt = realloc(t->topics, nc2 * sizeof *nt);
            if (!nt) {
                topic_free(tp, false);
                rc = SESP_ERR_NOMEM;
                goto out;
            }
            t->topics = nt;
            t->cap = nc2;
        }
        t->topics[t->n++] = tp;
    }
out:
    json_decref(root);
    return rc;
}

/* ---- registry ------------------------------------------------------------ */

int sesp_topics_open(const sesp_config *cfg, sesp_topics **out, char *err, size_t errlen)
{
    sesp_topics *t = calloc(1, sizeof *t);
    if (!t)
        return SESP_ERR_NOMEM;
    t->cfg = cfg;
    pthread_rwlock_init(&t->lock, NULL);
    int rc;
    if (!(t->dir = strdup(cfg->log_dirs[0]))) {
        rc = SESP_ERR_NOMEM;
        goto fail;
    }
    if ((rc = mkdir_p(t->dir))) {
        snprintf(err, errlen, "cannot create log directory %s: %s", t->dir, strerror(errno));
        goto fail;
    }
    if ((rc = load(t, err, errlen)))
        goto fail;
    *out = t;
    return 0;
fail:
    sesp_topics_close(t);
    return rc;
}

typedef struct close_job {
    sesp_log **logs;
    size_t n;
    atomic_size_t next;
} close_job;

static void *close_worker(void *arg)
{
    close_job *j = arg;
    for (size_t i; (i = atomic_fetch_add(&j->next, 1)) < j->n;)
        sesp_log_close(j->logs[i]);
    return NULL;
}

#define CLOSE_THREADS 8

/* Closing a log flushes and fsyncs it: done for many partitions at once, a
 * shutdown takes one fsync round instead of one per partition.  Only topics
 * nobody else references are closed here (lock held). */
static void close_logs_parallel(sesp_topics *t)
{
    close_job j = {0};
    size_t total = 0;
    for (size_t i = 0; i < t->n; i++)
        if (atomic_load(&t->topics[i]->refs) == 1)
            total += (size_t)t->topics[i]->nparts;
    if (total < 2 || !(j.logs = calloc(total, sizeof *j.logs)))
        return;
    for (size_t i = 0; i < t->n; i++) {
        sesp_topic *tp = t->topics[i];
        if (atomic_load(&tp->refs) != 1)
            continue;
        for (int32_t p = 0; p < tp->nparts; p++) {
            j.logs[j.n++] = tp->parts[p]->log;
            tp->parts[p]->log = NULL; /* partition_free's close is then a no-op */
        }
    }
    atomic_init(&j.next, 0);
    pthread_t th[CLOSE_THREADS];
    int started = 0;
    for (int i = 0; i < CLOSE_THREADS && (size_t)i < j.n; i++)
        if (pthread_create(&th[started], NULL, close_worker, &j) == 0)
            started++;
    close_worker(&j);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    free(j.logs);
}

void sesp_topics_close(sesp_topics *t)
{
    if (!t)
        return;
    pthread_rwlock_wrlock(&t->lock);
    close_logs_parallel(t);
    for (size_t i = 0; i < t->n; i++) {
        sesp_topic *tp = t->topics[i];
        tp->reg = NULL;
        sesp_topic_release(tp);
    }
    pthread_rwlock_unlock(&t->lock);
    /* A late release of a deleted topic must not touch the freed registry
     * (the server closes the registry only after every user stopped). */
    for (size_t i = 0; i < t->npending; i++)
        t->pending[i]->reg = NULL;
    free(t->pending);
    free(t->topics);
    free(t->dir);
    pthread_rwlock_destroy(&t->lock);
    free(t);
}

const char *sesp_topics_log_dir(const sesp_topics *t)
{
    return t->dir;
}

int16_t sesp_topics_validate_name(const char *name, size_t len, char *msg, size_t msglen)
{
    const int16_t E = SESP_TOPICS_KERR_INVALID_TOPIC;
    if (!name || len == 0)
        return bad(msg, msglen, E, "Topic name is illegal, it can't be empty");
    if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.'))
        return bad(msg, msglen, E, "Topic name cannot be \".\" or \"..\"");
    if (len > 249)
        return bad(msg, msglen, E, "Topic name is illegal, it can't be longer than 249 characters");
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '-'))
            return bad(msg, msglen, E,
                       "Topic name \"%.*s\" is illegal, it contains a character other than ASCII alphanumerics, '.', "
                       "'_' and '-'", (int)len, name);
    }
    return 0;
}

/* Registry lock held. */
static sesp_topic *find_locked(sesp_topics *t, const char *name, size_t len)
{
    for (size_t i = 0; i < t->n; i++)
        if (strlen(t->topics[i]->name) == len && memcmp(t->topics[i]->name, name, len) == 0)
            return t->topics[i];
    return NULL;
}

static bool pending_locked(sesp_topics *t, const char *name, size_t len)
{
    for (size_t i = 0; i < t->npending; i++)
        if (strlen(t->pending[i]->name) == len && memcmp(t->pending[i]->name, name, len) == 0)
            return true;
    return false;
}

/* Kafka forbids names that differ only by '.' vs '_' (metric names collide). */
static sesp_topic *collision_locked(sesp_topics *t, const char *name, size_t len)
{
    for (size_t i = 0; i < t->n; i++) {
        const char *o = t->topics[i]->name;
        if (strlen(o) != len)
            continue;
        size_t j;
        for (j = 0; j < len; j++) {
            char a = name[j] == '.' ? '_' : name[j], b = o[j] == '.' ? '_' : o[j];
            if (a != b)
                break;
        }
        if (j == len)
            return t->topics[i];
    }
    return NULL;
}

static int16_t check_configs(const sesp_topic_kv *kv, size_t n, char *msg, size_t msglen)
{
    for (size_t i = 0; i < n; i++) {
        int16_t e = sesp_topic_config_validate(kv[i].key, kv[i].value, msg, msglen);
        if (e)
            return e;
        for (size_t j = 0; j < i; j++)
            if (strcmp(kv[i].key, kv[j].key) == 0)
                return bad(msg, msglen, SESP_TOPICS_KERR_INVALID_REQUEST, "Duplicate config key %s", kv[i].key);
    }
    return 0;
}

/* Registry write lock held. */
static int16_t create_locked(sesp_topics *t, const char *name, size_t len, int32_t np, int16_t rf,
                             const sesp_topic_kv *kv, size_t nkv, bool validate_only, sesp_topic **out,
                             sesp_topic_id *out_id, char *msg, size_t msglen)
{
    int16_t e = sesp_topics_validate_name(name, len, msg, msglen);
    if (e)
        return e;
    if (find_locked(t, name, len))
        return bad(msg, msglen, SESP_TOPICS_KERR_TOPIC_ALREADY_EXISTS, "Topic '%.*s' already exists.", (int)len, name);
    if (pending_locked(t, name, len))
        return bad(msg, msglen, SESP_TOPICS_KERR_TOPIC_ALREADY_EXISTS, "Topic '%.*s' is marked for deletion.",
                   (int)len, name);
    sesp_topic *col = collision_locked(t, name, len);
    if (col)
        return bad(msg, msglen, SESP_TOPICS_KERR_INVALID_TOPIC, "Topic '%.*s' collides with existing topic: %s",
                   (int)len, name, col->name);
    if (np == -1)
        np = t->cfg->num_partitions;
    if (np <= 0)
        return bad(msg, msglen, SESP_TOPICS_KERR_INVALID_PARTITIONS, "Number of partitions must be larger than 0.");
    if (np > SESP_TOPICS_MAX_PARTITIONS)
        return bad(msg, msglen, SESP_TOPICS_KERR_INVALID_PARTITIONS, "Number of partitions must be at most %d.",
                   SESP_TOPICS_MAX_PARTITIONS);
    if (rf == -1)
        rf = t->cfg->default_replication_factor;
    if (rf <= 0)
        return bad(msg, msglen, SESP_TOPICS_KERR_INVALID_REPLICATION_FACTOR,
                   "Replication factor must be larger than 0.");
    if (rf > 1)
        return bad(msg, msglen, SESP_TOPICS_KERR_INVALID_REPLICATION_FACTOR,
                   "Unable to replicate the partition %d time(s): The target replication factor of %d cannot be "
                   "reached because only 1 broker(s) are registered.", rf, rf);
    if ((e = check_configs(kv, nkv, msg, msglen)))
        return e;
    if (validate_only)
        return 0;

    sesp_topic *tp = topic_alloc(t, name, len);
    if (!tp)
        return bad(msg, msglen, SESP_TOPICS_KERR_UNKNOWN_SERVER_ERROR, "out of memory");
    random_id(&tp->id);
    for (size_t i = 0; i < t->n; i++)
        if (memcmp(&t->topics[i]->id, &tp->id, sizeof tp->id) == 0)
            random_id(&tp->id); /* astronomically unlikely */
    tp->ckeys = calloc(nkv + 1, sizeof *tp->ckeys);
    tp->cvals = calloc(nkv + 1, sizeof *tp->cvals);
    if (!tp->ckeys || !tp->cvals)
        goto nomem;
    for (size_t i = 0; i < nkv; i++) {
        tp->ckeys[i] = strdup(kv[i].key);
        tp->cvals[i] = strdup(kv[i].value);
        tp->nconf++;
        if (!tp->ckeys[i] || !tp->cvals[i])
            goto nomem;
    }
    if (t->n == t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 16;
        sesp_topic **nt = realloc(t->topics, nc * sizeof *nt);
        if (!nt)
            goto nomem;
        t->topics = nt;
        t->cap = nc;
    }
    sesp_partition **parts;
    char m2[SESP_TOPICS_MSG_LEN] = "";
    if (open_partitions(t, tp, 0, np, true, &parts, m2, sizeof m2)) {
        topic_free(tp, false);
        return bad(msg, msglen, SESP_TOPICS_KERR_KAFKA_STORAGE_ERROR, "%s", m2);
    }
    tp->parts = parts;
    tp->nparts = np;
    t->topics[t->n++] = tp;
    if (persist(t)) {
        t->n--;
        topic_free(tp, true);
        return bad(msg, msglen, SESP_TOPICS_KERR_KAFKA_STORAGE_ERROR, "cannot persist the topic registry");
    }
    if (out_id)
        *out_id = tp->id;
    if (out) {
        sesp_topic_ref(tp);
        *out = tp;
    }
    return 0;
nomem:
    topic_free(tp, false);
    return bad(msg, msglen, SESP_TOPICS_KERR_UNKNOWN_SERVER_ERROR, "out of memory");
}

int16_t sesp_topics_create(sesp_topics *t, const char *name, size_t name_len, int32_t num_partitions,
                           int16_t replication_factor, const sesp_topic_kv *configs, size_t nconfigs,
                           bool validate_only, sesp_topic_id *out_id, char *msg, size_t msglen)
{
    if (msg && msglen)
        msg[0] = 0;
    pthread_rwlock_wrlock(&t->lock);
    int16_t e = create_locked(t, name, name_len, num_partitions, replication_factor, configs, nconfigs, validate_only,
                              NULL, out_id, msg, msglen);
    pthread_rwlock_unlock(&t->lock);
    return e;
}

sesp_topic *sesp_topics_get(sesp_topics *t, const char *name, size_t name_len)
{
    pthread_rwlock_rdlock(&t->lock);
    sesp_topic *tp = find_locked(t, name, name_len);
    if (tp)
        sesp_topic_ref(tp);
    pthread_rwlock_unlock(&t->lock);
    return tp;
}

sesp_topic *sesp_topics_get_by_id(sesp_topics *t, const sesp_topic_id *id)
{
    pthread_rwlock_rdlock(&t->lock);
    sesp_topic *tp = NULL;
    for (size_t i = 0; i < t->n; i++) {
        if (memcmp(&t->topics[i]->id, id, sizeof *id) == 0) {
            tp = t->topics[i];
            sesp_topic_ref(tp);
            break;
        }
    }
    pthread_rwlock_unlock(&t->lock);
    return tp;
}

sesp_topic *sesp_topics_get_or_create(sesp_topics *t, const char *name, size_t name_len, bool allow, int16_t *err)
{
    *err = 0;
    sesp_topic *tp = sesp_topics_get(t, name, name_len);
    if (tp)
        return tp;
    /* Internal topics are created by their owners with their own partition
     * counts, never by a client's metadata request. */
    bool internal = (name_len == 18 && memcmp(name, "__consumer_offsets", 18) == 0) ||
                    (name_len == 19 && memcmp(name, "__transaction_state", 19) == 0);
    if (!allow || !t->cfg->auto_create_topics || internal) {
        *err = SESP_TOPICS_KERR_UNKNOWN_TOPIC_OR_PARTITION;
        return NULL;
    }
    pthread_rwlock_wrlock(&t->lock);
    tp = find_locked(t, name, name_len);
    if (tp) {
        sesp_topic_ref(tp);
    } else {
        char msg[SESP_TOPICS_MSG_LEN];
        *err = create_locked(t, name, name_len, -1, -1, NULL, 0, false, &tp, NULL, msg, sizeof msg);
        if (*err == SESP_TOPICS_KERR_TOPIC_ALREADY_EXISTS) /* marked for deletion */
            *err = SESP_TOPICS_KERR_UNKNOWN_TOPIC_OR_PARTITION;
        if (*err)
            tp = NULL;
    }
    pthread_rwlock_unlock(&t->lock);
    return tp;
}

void sesp_topic_ref(sesp_topic *tp)
{
    atomic_fetch_add(&tp->refs, 1);
}

void sesp_topic_release(sesp_topic *tp)
{
    if (!tp || atomic_fetch_sub(&tp->refs, 1) != 1)
        return;
    bool del = atomic_load(&tp->deleted);
    sesp_topics *t = tp->reg;
    /* Data first: the name stays reserved until the directories are gone,
     * so a new topic of the same name never shares them. */
    for (int32_t i = 0; i < tp->nparts; i++)
        partition_free(tp->parts[i], del);
    tp->nparts = 0;
    if (del && t) {
        pthread_rwlock_wrlock(&t->lock);
        for (size_t i = 0; i < t->npending; i++) {
            if (t->pending[i] == tp) {
                t->pending[i] = t->pending[--t->npending];
                break;
            }
        }
        pthread_rwlock_unlock(&t->lock);
    }
    topic_free(tp, false);
}

int16_t sesp_topics_delete(sesp_topics *t, const char *name, size_t name_len, const sesp_topic_id *id,
                           sesp_topic_id *out_id, char *out_name, char *msg, size_t msglen)
{
    if (msg && msglen)
        msg[0] = 0;
    const char *del_ok = sesp_config_get(t->cfg, "delete.topic.enable");
    if (del_ok && strcasecmp(del_ok, "false") == 0)
        return bad(msg, msglen, SESP_TOPICS_KERR_TOPIC_DELETION_DISABLED, "Topic deletion is disabled.");
    pthread_rwlock_wrlock(&t->lock);
    size_t i;
    for (i = 0; i < t->n; i++) {
        sesp_topic *tp = t->topics[i];
        if (name ? (strlen(tp->name) == name_len && memcmp(tp->name, name, name_len) == 0)
                 : memcmp(&tp->id, id, sizeof *id) == 0)
            break;
    }
    if (i == t->n) {
        pthread_rwlock_unlock(&t->lock);
        if (name)
            return bad(msg, msglen, SESP_TOPICS_KERR_UNKNOWN_TOPIC_OR_PARTITION,
                       "This server does not host this topic-partition.");
        return bad(msg, msglen, SESP_TOPICS_KERR_UNKNOWN_TOPIC_ID, "This server does not host this topic ID.");
    }
    sesp_topic *tp = t->topics[i];
    sesp_topic **np = realloc(t->pending, (t->npending + 1) * sizeof *np);
    if (!np) {
        pthread_rwlock_unlock(&t->lock);
        return bad(msg, msglen, SESP_TOPICS_KERR_UNKNOWN_SERVER_ERROR, "out of memory");
    }
    t->pending = np;
    memmove(&t->topics[i], &t->topics[i + 1], (t->n - i - 1) * sizeof *t->topics);
    t->n--;
    if (persist(t)) {
        /* Keep the topic: the registry on disk still lists it. */
        memmove(&t->topics[i + 1], &t->topics[i], (t->n - i) * sizeof *t->topics);
        t->topics[i] = tp;
        t->n++;
        pthread_rwlock_unlock(&t->lock);
        return bad(msg, msglen, SESP_TOPICS_KERR_KAFKA_STORAGE_ERROR, "cannot persist the topic registry");
    }
    t->pending[t->npending++] = tp;
    atomic_store(&tp->deleted, true);
    if (out_id)
        *out_id = tp->id;
    if (out_name)
        memcpy(out_name, tp->name, strlen(tp->name) + 1); /* names are <= 249 chars */
    pthread_rwlock_unlock(&t->lock);
    /* Wake long-polls so they let go of the topic promptly. */
    pthread_mutex_lock(&tp->mu);
    for (int32_t p = 0; p < tp->nparts; p++)
        sesp_partition_notify(tp->parts[p]);
    pthread_mutex_unlock(&tp->mu);
    sesp_topic_release(tp);
    return 0;
}

int16_t sesp_topics_create_partitions(sesp_topics *t, const char *name, size_t name_len, int32_t new_total,
                                      bool validate_only, char *msg, size_t msglen)
{
    if (msg && msglen)
        msg[0] = 0;
    pthread_rwlock_wrlock(&t->lock);
    int16_t e = 0;
    sesp_topic *tp = find_locked(t, name, name_len);
    if (!tp) {
        e = bad(msg, msglen, SESP_TOPICS_KERR_UNKNOWN_TOPIC_OR_PARTITION, "The topic '%.*s' does not exist.",
                (int)name_len, name);
        goto out;
    }
    int32_t cur = tp->nparts;
    if (new_total < cur) {
        e = bad(msg, msglen, SESP_TOPICS_KERR_INVALID_PARTITIONS,
                "Topic currently has %d partitions, which is higher than the requested %d.", cur, new_total);
        goto out;
    }
    if (new_total == cur) {
        e = bad(msg, msglen, SESP_TOPICS_KERR_INVALID_PARTITIONS, "Topic already has %d partitions.", cur);
        goto out;
    }
    if (new_total > SESP_TOPICS_MAX_PARTITIONS) {
        e = bad(msg, msglen, SESP_TOPICS_KERR_INVALID_PARTITIONS, "Number of partitions must be at most %d.",
                SESP_TOPICS_MAX_PARTITIONS);
        goto out;
    }
    if (validate_only)
        goto out;
    retired *r = calloc(1, sizeof *r);
    sesp_partition **parts = NULL;
    char m2[SESP_TOPICS_MSG_LEN] = "";
    pthread_mutex_lock(&tp->mu);
    int rc = r ? open_partitions(t, tp, cur, new_total, true, &parts, m2, sizeof m2) : SESP_ERR_NOMEM;
    if (rc) {
        pthread_mutex_unlock(&tp->mu);
        free(r);
        e = bad(msg, msglen, SESP_TOPICS_KERR_KAFKA_STORAGE_ERROR, "%s", *m2 ? m2 : "out of memory");
        goto out;
    }
    /* Readers may still hold the old array: keep it until the topic dies. */
    r->parts = tp->parts;
    r->next = tp->old_parts;
    tp->old_parts = r;
    tp->parts = parts;
    tp->nparts = new_total;
    pthread_mutex_unlock(&tp->mu);
    if (persist(t))
        e = bad(msg, msglen, SESP_TOPICS_KERR_KAFKA_STORAGE_ERROR, "cannot persist the topic registry");
out:
    pthread_rwlock_unlock(&t->lock);
    return e;
}

int sesp_topics_list(sesp_topics *t, sesp_topic ***out, size_t *n)
{
    pthread_rwlock_rdlock(&t->lock);
    sesp_topic **l = calloc(t->n + 1, sizeof *l);
    if (!l) {
        pthread_rwlock_unlock(&t->lock);
        return SESP_ERR_NOMEM;
    }
    for (size_t i = 0; i < t->n; i++) {
        l[i] = t->topics[i];
        sesp_topic_ref(l[i]);
    }
    *n = t->n;
    pthread_rwlock_unlock(&t->lock);
    /* Insertion sort by name: registries are small and mostly sorted. */
    for (size_t i = 1; i < *n; i++) {
        sesp_topic *x = l[i];
        size_t j = i;
        while (j > 0 && strcmp(l[j - 1]->name, x->name) > 0) {
            l[j] = l[j - 1];
            j--;
        }
        l[j] = x;
    }
    *out = l;
    return 0;
}

void sesp_topics_list_free(sesp_topic **list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        sesp_topic_release(list[i]);
    free(list);
}

const char *sesp_topic_name(const sesp_topic *tp) { return tp->name; }
const sesp_topic_id *sesp_topic_id_of(const sesp_topic *tp) { return &tp->id; }
bool sesp_topic_is_deleted(sesp_topic *tp) { return atomic_load(&tp->deleted); }

int32_t sesp_topic_partition_count(sesp_topic *tp)
{
    pthread_mutex_lock(&tp->mu);
    int32_t n = tp->nparts;
    pthread_mutex_unlock(&tp->mu);
    return n;
}

sesp_partition *sesp_topic_partition(sesp_topic *tp, int32_t i)
{
    pthread_mutex_lock(&tp->mu);
    sesp_partition *p = (i >= 0 && i < tp->nparts) ? tp->parts[i] : NULL;
    pthread_mutex_unlock(&tp->mu);
    return p;
}

sesp_log *sesp_topic_log(sesp_topic *tp, int32_t i)
{
    sesp_partition *p = sesp_topic_partition(tp, i);
    return p ? p->log : NULL;
}

sesp_log *sesp_partition_log(sesp_partition *p) { return p->log; }
const char *sesp_partition_log_dir(const sesp_topics *t, const sesp_partition *p)
{
    return t->cfg->log_dirs[p->dir_idx];
}
int32_t sesp_partition_index(const sesp_partition *p) { return p->index; }
sesp_topic *sesp_partition_topic(sesp_partition *p) { return p->topic; }

void sesp_partition_add_waiter(sesp_partition *p, sesp_partition_waiter *w)
{
    pthread_mutex_lock(&p->wmu);
    w->on = p;
    w->prev = NULL;
    w->next = p->waiters;
    if (p->waiters)
        p->waiters->prev = w;
    p->waiters = w;
    pthread_mutex_unlock(&p->wmu);
}

void sesp_partition_remove_waiter(sesp_partition_waiter *w)
{
    sesp_partition *p = w->on;
    if (!p)
        return;
    pthread_mutex_lock(&p->wmu);
    if (w->prev)
        w->prev->next = w->next;
    else
        p->waiters = w->next;
    if (w->next)
        w->next->prev = w->prev;
    w->prev = w->next = NULL;
    w->on = NULL;
    pthread_mutex_unlock(&p->wmu);
}

void sesp_partition_notify(sesp_partition *p)
{
    pthread_mutex_lock(&p->wmu);
    for (sesp_partition_waiter *w = p->waiters; w; w = w->next)
        w->cb(w, w->ud);
    pthread_mutex_unlock(&p->wmu);
}

/* ---- configs ------------------------------------------------------------- */

char *sesp_topic_config_get_override(sesp_topic *tp, const char *key)
{
    char *v = NULL;
    pthread_mutex_lock(&tp->mu);
    for (size_t i = 0; i < tp->nconf; i++)
        if (strcmp(tp->ckeys[i], key) == 0) {
            v = strdup(tp->cvals[i]);
            break;
        }
    pthread_mutex_unlock(&tp->mu);
    return v;
}

int16_t sesp_topics_alter_configs(sesp_topics *t, const char *name, size_t name_len, const sesp_topic_kv *kv,
                                  size_t n, bool replace_all, bool validate_only, char *msg, size_t msglen)
{
    if (msg && msglen)
        msg[0] = 0;
    for (size_t i = 0; i < n; i++) {
        int16_t e = kv[i].value || replace_all
                        ? sesp_topic_config_validate(kv[i].key, kv[i].value, msg, msglen)
                        : (sesp_topic_config_is_known(kv[i].key)
                               ? 0
                               : bad(msg, msglen, SESP_TOPICS_KERR_INVALID_CONFIG, "Unknown topic config name: %s",
                                     kv[i].key));
        if (e)
            return e;
        for (size_t j = 0; j < i; j++)
            if (strcmp(kv[i].key, kv[j].key) == 0)
                return bad(msg, msglen, SESP_TOPICS_KERR_INVALID_REQUEST, "Duplicate config key %s", kv[i].key);
    }
    pthread_rwlock_wrlock(&t->lock);
    int16_t e = 0;
    sesp_topic *tp = find_locked(t, name, name_len);
    if (!tp) {
        e = bad(msg, msglen, SESP_TOPICS_KERR_UNKNOWN_TOPIC_OR_PARTITION, "The topic '%.*s' does not exist.",
                (int)name_len, name);
        goto out;
    }
    if (validate_only)
        goto out;
    pthread_mutex_lock(&tp->mu);
    /* Build the new override set, then swap. */
    size_t cap = tp->nconf + n + 1, cnt = 0;
    char **nk = calloc(cap, sizeof *nk), **nv = calloc(cap, sizeof *nv);
    bool oom = !nk || !nv;
    if (!replace_all) {
        for (size_t i = 0; !oom && i < tp->nconf; i++) {
            bool touched = false;
            for (size_t j = 0; j < n; j++)
                touched |= strcmp(kv[j].key, tp->ckeys[i]) == 0;
            if (touched)
                continue;
            nk[cnt] = strdup(tp->ckeys[i]);
            nv[cnt] = strdup(tp->cvals[i]);
            oom = !nk[cnt] || !nv[cnt];
            cnt++;
        }
    }
    for (size_t j = 0; !oom && j < n; j++) {
        if (!kv[j].value)
            continue;
        nk[cnt] = strdup(kv[j].key);
        nv[cnt] = strdup(kv[j].value);
        oom = !nk[cnt] || !nv[cnt];
        cnt++;
    }
    if (oom) {
        pthread_mutex_unlock(&tp->mu);
        if (nk && nv)
            free_overrides(nk, nv, cnt);
        else {
            free(nk);
            free(nv);
        }
        e = bad(msg, msglen, SESP_TOPICS_KERR_UNKNOWN_SERVER_ERROR, "out of memory");
        goto out;
    }
    free_overrides(tp->ckeys, tp->cvals, tp->nconf);
    tp->ckeys = nk;
    tp->cvals = nv;
    tp->nconf = cnt;
    sesp_log_config lc;
    log_config_for(t, tp, &lc);
    for (int32_t p = 0; p < tp->nparts; p++)
        sesp_log_set_config(tp->parts[p]->log, &lc);
    pthread_mutex_unlock(&tp->mu);
    if (persist(t))
        e = bad(msg, msglen, SESP_TOPICS_KERR_KAFKA_STORAGE_ERROR, "cannot persist the topic registry");
out:
    pthread_rwlock_unlock(&t->lock);
    return e;
}

/* ---- periodic work ------------------------------------------------------- */

static int for_each_log(sesp_topics *t, int64_t now_ms, bool retention)
{
    sesp_topic **l;
    size_t n;
    if (sesp_topics_list(t, &l, &n))
        return 0;
    int total = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t np = sesp_topic_partition_count(l[i]);
        for (int32_t p = 0; p < np; p++) {
            sesp_log *log = sesp_topic_log(l[i], p);
            int rc = retention ? sesp_log_apply_retention(log, now_ms) : sesp_log_maybe_flush_time(log, now_ms);
            if (rc > 0)
                total += rc;
        }
    }
    sesp_topics_list_free(l, n);
    return total;
}

int sesp_topics_apply_retention(sesp_topics *t, int64_t now_ms)
{
    return for_each_log(t, now_ms, true);
}

int sesp_topics_flush_time(sesp_topics *t, int64_t now_ms)
{
    return for_each_log(t, now_ms, false);
}

int sesp_topics_expire_producers(sesp_topics *t, int64_t now_ms, int64_t expiration_ms)
{
    sesp_topic **l;
    size_t n;
    if (sesp_topics_list(t, &l, &n))
        return 0;
    int total = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t np = sesp_topic_partition_count(l[i]);
        for (int32_t p = 0; p < np; p++) {
            int rc = sesp_log_expire_producers(sesp_topic_log(l[i], p), now_ms, expiration_ms);
            if (rc > 0 && total <= INT32_MAX - rc)
                total += rc;
        }
    }
    sesp_topics_list_free(l, n);
    return total;
}
