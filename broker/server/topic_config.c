/*
 * Topic configs (see topics.h): the table of every topic config Kafka 3.9
 * knows with its type, range and the broker key that gives its default;
 * validation with Kafka's messages; and the describe view (value, default or
 * not, source).  The overrides themselves live with each topic in topics.c.
 */
#include "topics_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"

#define bad sesp_topics_bad
#define parse_i64 sesp_topics_parse_i64

/* ---- topic config table -------------------------------------------------- */

enum { V_NONE, V_CLEANUP, V_COMPRESSION, V_TSTYPE, V_RATIO };

typedef struct topic_key {
    const char *name;
    int8_t type;
    const char *synonym; /* broker key giving the default */
    const char *def;     /* default when there is no synonym */
    int64_t min, max;    /* for numeric types */
    int vkind;
    const char *doc;
} topic_key;

#define LMAX INT64_MAX
static const topic_key TKEYS[] = {
    {"cleanup.policy", SESP_CONFIG_TYPE_LIST, "log.cleanup.policy", NULL, 0, 0, V_CLEANUP, "delete and/or compact"},
    {"compression.type", SESP_CONFIG_TYPE_STRING, "compression.type", NULL, 0, 0, V_COMPRESSION, "Stored codec (not enforced)."},
    {"delete.retention.ms", SESP_CONFIG_TYPE_LONG, "log.cleaner.delete.retention.ms", NULL, 0, LMAX, V_NONE, "Tombstone retention."},
    {"file.delete.delay.ms", SESP_CONFIG_TYPE_LONG, NULL, "60000", 0, LMAX, V_NONE, "Accepted, not used."},
    {"flush.messages", SESP_CONFIG_TYPE_LONG, "log.flush.interval.messages", NULL, 1, LMAX, V_NONE, "fsync after N messages."},
    {"flush.ms", SESP_CONFIG_TYPE_LONG, "log.flush.interval.ms", NULL, 0, LMAX, V_NONE, "fsync after this time."},
    {"follower.replication.throttled.replicas", SESP_CONFIG_TYPE_LIST, NULL, "", 0, 0, V_NONE, "Accepted, not used."},
    {"index.interval.bytes", SESP_CONFIG_TYPE_INT, "log.index.interval.bytes", NULL, 0, INT32_MAX, V_NONE, "Index density."},
    {"leader.replication.throttled.replicas", SESP_CONFIG_TYPE_LIST, NULL, "", 0, 0, V_NONE, "Accepted, not used."},
    {"local.retention.bytes", SESP_CONFIG_TYPE_LONG, "log.local.retention.bytes", NULL, -2, LMAX, V_NONE, "Accepted, not used."},
    {"local.retention.ms", SESP_CONFIG_TYPE_LONG, "log.local.retention.ms", NULL, -2, LMAX, V_NONE, "Accepted, not used."},
    {"max.compaction.lag.ms", SESP_CONFIG_TYPE_LONG, "log.cleaner.max.compaction.lag.ms", NULL, 1, LMAX, V_NONE, "Clean a dirty segment once its first batch is older."},
    {"max.message.bytes", SESP_CONFIG_TYPE_INT, "message.max.bytes", NULL, 0, INT32_MAX, V_NONE, "Largest record batch."},
    {"message.downconversion.enable", SESP_CONFIG_TYPE_BOOLEAN, NULL, "true", 0, 0, V_NONE, "Accepted, not used."},
    {"message.format.version", SESP_CONFIG_TYPE_STRING, NULL, "3.0-IV1", 0, 0, V_NONE, "Accepted, not used."},
    {"message.timestamp.after.max.ms", SESP_CONFIG_TYPE_LONG, "log.message.timestamp.after.max.ms", NULL, 0, LMAX, V_NONE, "Stored, not enforced."},
    {"message.timestamp.before.max.ms", SESP_CONFIG_TYPE_LONG, "log.message.timestamp.before.max.ms", NULL, 0, LMAX, V_NONE, "Stored, not enforced."},
    {"message.timestamp.difference.max.ms", SESP_CONFIG_TYPE_LONG, "log.message.timestamp.difference.max.ms", NULL, 0, LMAX, V_NONE, "Stored, not enforced."},
    {"message.timestamp.type", SESP_CONFIG_TYPE_STRING, "log.message.timestamp.type", NULL, 0, 0, V_TSTYPE, "CreateTime or LogAppendTime."},
    {"min.cleanable.dirty.ratio", SESP_CONFIG_TYPE_DOUBLE, "log.cleaner.min.cleanable.ratio", NULL, 0, 0, V_RATIO, "Clean when the dirty share is above it."},
    {"min.compaction.lag.ms", SESP_CONFIG_TYPE_LONG, "log.cleaner.min.compaction.lag.ms", NULL, 0, LMAX, V_NONE, "Records younger than this stay uncompacted."},
    {"min.insync.replicas", SESP_CONFIG_TYPE_INT, "min.insync.replicas", NULL, 1, INT32_MAX, V_NONE, "Stored (one node)."},
    {"preallocate", SESP_CONFIG_TYPE_BOOLEAN, "log.preallocate", NULL, 0, 0, V_NONE, "Accepted, not used."},
    {"remote.storage.enable", SESP_CONFIG_TYPE_BOOLEAN, NULL, "false", 0, 0, V_NONE, "Accepted, not used."},
    {"retention.bytes", SESP_CONFIG_TYPE_LONG, "log.retention.bytes", NULL, INT64_MIN, LMAX, V_NONE, "Partition size bound."},
    {"retention.ms", SESP_CONFIG_TYPE_LONG, "log.retention.ms", NULL, -1, LMAX, V_NONE, "Retention time."},
    {"segment.bytes", SESP_CONFIG_TYPE_INT, "log.segment.bytes", NULL, 14, INT32_MAX, V_NONE, "Segment size."},
    {"segment.index.bytes", SESP_CONFIG_TYPE_INT, "log.segment.index.bytes", NULL, 4, INT32_MAX, V_NONE, "Index size."},
    {"segment.jitter.ms", SESP_CONFIG_TYPE_LONG, NULL, "0", 0, LMAX, V_NONE, "Accepted, not used."},
    {"segment.ms", SESP_CONFIG_TYPE_LONG, "log.roll.ms", NULL, 1, LMAX, V_NONE, "Segment roll time."},
    {"unclean.leader.election.enable", SESP_CONFIG_TYPE_BOOLEAN, "unclean.leader.election.enable", NULL, 0, 0, V_NONE, "Accepted, not used."},
};
#define NTKEYS (sizeof TKEYS / sizeof TKEYS[0])

static const topic_key *tkey(const char *name)
{
    for (size_t i = 0; i < NTKEYS; i++)
        if (strcmp(TKEYS[i].name, name) == 0)
            return &TKEYS[i];
    return NULL;
}

bool sesp_topic_config_is_known(const char *key)
{
    return key && tkey(key) != NULL;
}

bool sesp_topics_parse_i64(const char *s, int64_t *out)
{
    if (!s || !*s)
        return false;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

int16_t sesp_topics_bad(char *msg, size_t msglen, int16_t code, const char *fmt, ...)
{
    if (msg && msglen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, msglen, fmt, ap);
        va_end(ap);
    }
    return code;
}

static bool in_list(const char *v, const char *const *allowed)
{
    for (; *allowed; allowed++)
        if (strcmp(v, *allowed) == 0)
            return true;
    return false;
}

int16_t sesp_topic_config_validate(const char *key, const char *value, char *msg, size_t msglen)
{
    const int16_t E = SESP_TOPICS_KERR_INVALID_CONFIG;
    const topic_key *k = key ? tkey(key) : NULL;
    if (!k)
        return bad(msg, msglen, E, "Unknown topic config name: %s", key ? key : "(null)");
    if (!value)
        return bad(msg, msglen, E, "Null value not supported for topic config %s", key);
    int64_t v;
    switch (k->type) {
    case SESP_CONFIG_TYPE_INT:
    case SESP_CONFIG_TYPE_LONG:
        if (!parse_i64(value, &v))
            return bad(msg, msglen, E, "Invalid value %s for configuration %s: Not a number", value, key);
        if (v < k->min || v > k->max)
            return bad(msg, msglen, E, "Invalid value %s for configuration %s: Value must be at least %lld", value, key,
                       (long long)k->min);
        break;
    case SESP_CONFIG_TYPE_BOOLEAN:
        if (strcasecmp(value, "true") != 0 && strcasecmp(value, "false") != 0)
            return bad(msg, msglen, E, "Invalid value %s for configuration %s: Expected value to be either true or false",
                       value, key);
        break;
    case SESP_CONFIG_TYPE_DOUBLE: {
        char *end;
        errno = 0;
        double d = strtod(value, &end);
        if (errno || end == value || *end || (k->vkind == V_RATIO && (d < 0 || d > 1)))
            return bad(msg, msglen, E, "Invalid value %s for configuration %s: must be a number in [0,1]", value, key);
        break;
    }
    default: break;
    }
    if (k->vkind == V_CLEANUP) {
        /* A comma list of delete/compact (possibly empty in Kafka 3.9: no). */
        static const char *const ok[] = {"delete", "compact", NULL};
        const char *p = value;
        int items = 0;
        while (*p) {
            while (*p == ' ' || *p == ',')
                p++;
            const char *s = p;
            while (*p && *p != ',')
                p++;
            const char *e = p;
            while (e > s && e[-1] == ' ')
                e--;
            if (e == s)
                continue;
            char item[32];
            if ((size_t)(e - s) >= sizeof item)
                return bad(msg, msglen, E, "Invalid value %s for configuration %s", value, key);
            memcpy(item, s, (size_t)(e - s));
            item[e - s] = 0;
            if (!in_list(item, ok))
                return bad(msg, msglen, E, "Invalid value %s for configuration %s: String must be one of: compact, delete",
                           item, key);
            items++;
        }
        if (items == 0)
            return bad(msg, msglen, E, "Invalid value %s for configuration %s: empty list", value, key);
    } else if (k->vkind == V_COMPRESSION) {
        static const char *const ok[] = {"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer", NULL};
        if (!in_list(value, ok))
            return bad(msg, msglen, E,
                       "Invalid value %s for configuration %s: String must be one of: uncompressed, zstd, lz4, snappy, "
                       "gzip, producer", value, key);
    } else if (k->vkind == V_TSTYPE) {
        static const char *const ok[] = {"CreateTime", "LogAppendTime", NULL};
        if (!in_list(value, ok))
            return bad(msg, msglen, E,
                       "Invalid value %s for configuration %s: String must be one of: CreateTime, LogAppendTime", value,
                       key);
    }
    return 0;
}

/* The broker-level default of a topic key as a string (malloc'ed), with the
 * source it comes from. */
static char *broker_default(const sesp_config *cfg, const topic_key *k, int8_t *source)
{
    char buf[64];
    *source = SESP_CONFIG_SRC_DEFAULT;
    if (!k->synonym)
        return strdup(k->def);
    /* Keys whose broker value is derived from several keys. */
    if (strcmp(k->name, "retention.ms") == 0) {
        if (sesp_config_get(cfg, "log.retention.ms") || sesp_config_get(cfg, "log.retention.minutes") ||
            sesp_config_get(cfg, "log.retention.hours"))
            *source = SESP_CONFIG_SRC_STATIC_BROKER;
        snprintf(buf, sizeof buf, "%lld", (long long)cfg->log_retention_ms);
        return strdup(buf);
    }
    if (strcmp(k->name, "segment.ms") == 0) {
        if (sesp_config_get(cfg, "log.roll.ms") || sesp_config_get(cfg, "log.roll.hours"))
            *source = SESP_CONFIG_SRC_STATIC_BROKER;
        snprintf(buf, sizeof buf, "%lld", (long long)cfg->log_roll_ms);
        return strdup(buf);
    }
    if (strcmp(k->name, "flush.ms") == 0) {
        if (sesp_config_get(cfg, "log.flush.interval.ms"))
            *source = SESP_CONFIG_SRC_STATIC_BROKER;
        snprintf(buf, sizeof buf, "%lld", (long long)cfg->log_flush_interval_ms);
        return strdup(buf);
    }
    sesp_config_desc d;
    if (!sesp_config_describe(cfg, k->synonym, &d))
        return k->def ? strdup(k->def) : NULL;
    if (!d.is_default)
        *source = SESP_CONFIG_SRC_STATIC_BROKER;
    return d.value ? strdup(d.value) : NULL;
}

int sesp_topic_configs_describe(sesp_topics *t, sesp_topic *tp, sesp_topic_config_desc **out, size_t *n)
{
    sesp_topic_config_desc *d = calloc(NTKEYS, sizeof *d);
    if (!d)
        return SESP_ERR_NOMEM;
    for (size_t i = 0; i < NTKEYS; i++) {
        const topic_key *k = &TKEYS[i];
        d[i].name = k->name;
        d[i].type = k->type;
        d[i].synonym = k->synonym;
        d[i].doc = k->doc;
        d[i].value = sesp_topic_config_get_override(tp, k->name);
        if (d[i].value) {
            d[i].source = SESP_CONFIG_SRC_DYNAMIC_TOPIC;
        } else {
            d[i].is_default = true;
            d[i].value = broker_default(sesp_topics_config(t), k, &d[i].source);
        }
    }
    *out = d;
    *n = NTKEYS;
    return 0;
}

void sesp_topic_configs_free(sesp_topic_config_desc *d, size_t n)
{
    for (size_t i = 0; d && i < n; i++)
        free(d[i].value);
    free(d);
}

