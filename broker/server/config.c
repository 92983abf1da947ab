/*
 * Broker configuration (see config.h): the table of known Kafka broker keys
 * with defaults, the Java properties parser, and the resolution of raw
 * strings into typed, range-checked fields.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"

typedef struct known_key {
    const char *name;
    int8_t type;
    const char *def;   /* NULL = null default */
    const char *doc;
} known_key;

/* Keys SESP uses first, then keys Kafka knows that we accept (stored and
 * reported) without acting on them, so a stock server.properties loads
 * without warnings. */
static const known_key KEYS[] = {
    {"node.id", SESP_CONFIG_TYPE_INT, "1", "The id of this node (broker.id is a synonym)."},
    {"broker.id", SESP_CONFIG_TYPE_INT, "1", "Synonym of node.id."},
    {"listeners", SESP_CONFIG_TYPE_LIST, "PLAINTEXT://127.0.0.1:9092", "Listener URIs to bind."},
    {"advertised.listeners", SESP_CONFIG_TYPE_LIST, NULL, "Listeners given to clients (default: listeners)."},
    {"log.dirs", SESP_CONFIG_TYPE_LIST, NULL, "Data directories (default: log.dir)."},
    {"log.dir", SESP_CONFIG_TYPE_STRING, "./data", "Data directory when log.dirs is unset."},
    {"num.partitions", SESP_CONFIG_TYPE_INT, "1", "Partitions of auto-created topics."},
    {"default.replication.factor", SESP_CONFIG_TYPE_INT, "1", "Replication factor of auto-created topics."},
    {"auto.create.topics.enable", SESP_CONFIG_TYPE_BOOLEAN, "true", "Create unknown topics on metadata/produce."},
    {"log.segment.bytes", SESP_CONFIG_TYPE_INT, "1073741824", "Maximum size of a segment file."},
    {"log.roll.ms", SESP_CONFIG_TYPE_LONG, NULL, "Roll a segment after this time."},
    {"log.roll.hours", SESP_CONFIG_TYPE_INT, "168", "Roll time in hours when log.roll.ms is unset."},
    {"log.retention.ms", SESP_CONFIG_TYPE_LONG, NULL, "Retention time (-1 = unlimited)."},
    {"log.retention.minutes", SESP_CONFIG_TYPE_INT, NULL, "Retention in minutes when log.retention.ms is unset."},
    {"log.retention.hours", SESP_CONFIG_TYPE_INT, "168", "Retention in hours when ms/minutes are unset."},
    {"log.retention.bytes", SESP_CONFIG_TYPE_LONG, "-1", "Maximum partition size (-1 = unlimited)."},
    {"log.retention.check.interval.ms", SESP_CONFIG_TYPE_LONG, "300000", "How often retention is applied."},
    {"message.max.bytes", SESP_CONFIG_TYPE_INT, "1048588", "Largest record batch accepted."},
    {"socket.request.max.bytes", SESP_CONFIG_TYPE_INT, "104857600", "Largest request accepted."},
    {"log.flush.interval.messages", SESP_CONFIG_TYPE_LONG, "9223372036854775807", "fsync after this many messages."},
    {"log.flush.interval.ms", SESP_CONFIG_TYPE_LONG, NULL, "fsync after this much time."},
    {"log.flush.scheduler.interval.ms", SESP_CONFIG_TYPE_LONG, "9223372036854775807", "Accepted, not used."},
    {"num.network.threads", SESP_CONFIG_TYPE_INT, "3", "Network (event loop) threads."},
    {"log.message.timestamp.type", SESP_CONFIG_TYPE_STRING, "CreateTime", "CreateTime or LogAppendTime."},
    {"connections.max.idle.ms", SESP_CONFIG_TYPE_LONG, "600000", "Close idle connections after this."},
    {"log.index.interval.bytes", SESP_CONFIG_TYPE_INT, "4096", "Bytes between offset index entries."},
    {"log.segment.index.bytes", SESP_CONFIG_TYPE_INT, "10485760", "Maximum size of an offset index."},
    {"queued.max.requests", SESP_CONFIG_TYPE_INT, "500", "In-flight requests per connection."},
    {"log.cleanup.policy", SESP_CONFIG_TYPE_LIST, "delete", "Default cleanup.policy of topics."},
    {"compression.type", SESP_CONFIG_TYPE_STRING, "producer", "Default compression.type of topics."},
    {"min.insync.replicas", SESP_CONFIG_TYPE_INT, "1", "Default min.insync.replicas of topics."},
    {"log.cleaner.delete.retention.ms", SESP_CONFIG_TYPE_LONG, "86400000", "Default delete.retention.ms."},
    {"log.cleaner.min.cleanable.ratio", SESP_CONFIG_TYPE_DOUBLE, "0.5", "Default min.cleanable.dirty.ratio."},
    {"log.cleaner.min.compaction.lag.ms", SESP_CONFIG_TYPE_LONG, "0", "Default min.compaction.lag.ms."},
    {"log.cleaner.max.compaction.lag.ms", SESP_CONFIG_TYPE_LONG, "9223372036854775807", "Default max.compaction.lag.ms."},
    {"log.cleaner.enable", SESP_CONFIG_TYPE_BOOLEAN, "true", "Run the log compaction thread."},
    {"log.cleaner.io.max.bytes.per.second", SESP_CONFIG_TYPE_DOUBLE, "1.7976931348623157E308", "Cleaner I/O bound."},
    {"log.cleaner.backoff.ms", SESP_CONFIG_TYPE_LONG, "15000", "Cleaner sleep when idle."},
    {"log.cleaner.dedupe.buffer.size", SESP_CONFIG_TYPE_LONG, "134217728", "Cleaner key map size."},
    {"producer.id.expiration.ms", SESP_CONFIG_TYPE_INT, "86400000",
     "Forget an idempotent producer this long after its last batch's timestamp."},
    {"producer.id.expiration.check.interval.ms", SESP_CONFIG_TYPE_INT, "600000",
     "How often expired producer ids are removed."},
    {"log.cleaner.threads", SESP_CONFIG_TYPE_INT, "1", "Accepted (one cleaner thread)."},
    {"log.preallocate", SESP_CONFIG_TYPE_BOOLEAN, "false", "Default preallocate."},
    {"log.message.timestamp.before.max.ms", SESP_CONFIG_TYPE_LONG, "9223372036854775807", "Default message.timestamp.before.max.ms."},
    {"log.message.timestamp.after.max.ms", SESP_CONFIG_TYPE_LONG, "9223372036854775807", "Default message.timestamp.after.max.ms."},
    {"log.message.timestamp.difference.max.ms", SESP_CONFIG_TYPE_LONG, "9223372036854775807", "Accepted, not used."},
    {"unclean.leader.election.enable", SESP_CONFIG_TYPE_BOOLEAN, "false", "Accepted, not used (one node)."},
    {"delete.topic.enable", SESP_CONFIG_TYPE_BOOLEAN, "true", "Allow DeleteTopics."},
    {"log.local.retention.ms", SESP_CONFIG_TYPE_LONG, "-2", "Accepted, not used."},
    {"log.local.retention.bytes", SESP_CONFIG_TYPE_LONG, "-2", "Accepted, not used."},
    {"num.io.threads", SESP_CONFIG_TYPE_INT, "8", "Accepted, not used."},
    {"socket.send.buffer.bytes", SESP_CONFIG_TYPE_INT, "102400", "Accepted, not used."},
    {"socket.receive.buffer.bytes", SESP_CONFIG_TYPE_INT, "102400", "Accepted, not used."},
    {"num.recovery.threads.per.data.dir", SESP_CONFIG_TYPE_INT, "1", "Accepted, not used."},
    {"offsets.topic.replication.factor", SESP_CONFIG_TYPE_SHORT, "3", "Accepted, not used."},
    {"offsets.topic.num.partitions", SESP_CONFIG_TYPE_INT, "50", "Partitions of the offsets topic."},
    {"offsets.retention.minutes", SESP_CONFIG_TYPE_INT, "10080", "Committed offset retention."},
    {"transaction.state.log.replication.factor", SESP_CONFIG_TYPE_SHORT, "3", "Accepted, not used."},
    {"transaction.state.log.min.isr", SESP_CONFIG_TYPE_INT, "2", "Accepted, not used."},
    {"group.initial.rebalance.delay.ms", SESP_CONFIG_TYPE_INT, "3000", "Delay of a group's first rebalance."},
    {"group.max.size", SESP_CONFIG_TYPE_INT, "2147483647", "Most members in one group."},
    {"offsets.retention.check.interval.ms", SESP_CONFIG_TYPE_LONG, "600000", "How often old offsets expire."},
    {"group.min.session.timeout.ms", SESP_CONFIG_TYPE_INT, "6000", "Smallest session timeout allowed."},
    {"group.max.session.timeout.ms", SESP_CONFIG_TYPE_INT, "1800000", "Largest session timeout allowed."},
    {"process.roles", SESP_CONFIG_TYPE_LIST, "", "Accepted, not used (always a combined node)."},
    {"controller.quorum.voters", SESP_CONFIG_TYPE_LIST, "", "Accepted, not used."},
    {"controller.quorum.bootstrap.servers", SESP_CONFIG_TYPE_LIST, "", "Accepted, not used."},
    {"controller.listener.names", SESP_CONFIG_TYPE_LIST, NULL, "Listeners skipped (no controller protocol)."},
    {"inter.broker.listener.name", SESP_CONFIG_TYPE_STRING, NULL, "Accepted, not used."},
    {"listener.security.protocol.map", SESP_CONFIG_TYPE_LIST,
     "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL", "Listener name to protocol."},
    {"zookeeper.connect", SESP_CONFIG_TYPE_STRING, NULL, "Accepted, not used."},
    {"cluster.id", SESP_CONFIG_TYPE_STRING, NULL, "Accepted, not used (see meta.properties)."},
};
#define NKEYS (sizeof KEYS / sizeof KEYS[0])
_Static_assert(sizeof KEYS / sizeof KEYS[0] <= SESP_CONFIG_NUM_KEYS, "raw table too small");

static int key_index(const char *key)
{
    for (size_t i = 0; i < NKEYS; i++)
        if (strcmp(KEYS[i].name, key) == 0)
            return (int)i;
    return -1;
}

void sesp_config_init(sesp_config *c)
{
    memset(c, 0, sizeof *c);
}

void sesp_config_free(sesp_config *c)
{
    for (size_t i = 0; i < SESP_CONFIG_NUM_KEYS; i++)
        free(c->raw[i]);
    for (int i = 0; i < c->num_log_dirs; i++)
        free(c->log_dirs[i]);
    for (size_t i = 0; i < c->num_unknown; i++) {
        free(c->unknown[i].key);
        free(c->unknown[i].value);
    }
    free(c->unknown);
    memset(c, 0, sizeof *c);
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return SESP_ERR_INVALID_ARG;
}

int sesp_config_set(sesp_config *c, const char *key, const char *value, char *err, size_t errlen)
{
    if (!key || !*key)
        return fail(err, errlen, "empty configuration key");
    char *v = strdup(value ? value : "");
    if (!v)
        return SESP_ERR_NOMEM;
    int i = key_index(key);
    if (i >= 0) {
        free(c->raw[i]);
        c->raw[i] = v;
        return 0;
    }
    for (size_t j = 0; j < c->num_unknown; j++) {
        if (strcmp(c->unknown[j].key, key) == 0) {
            free(c->unknown[j].value);
            c->unknown[j].value = v;
            return 0;
        }
    }
    sesp_config_unknown *u = realloc(c->unknown, (c->num_unknown + 1) * sizeof *u);
    char *k = strdup(key);
    if (!u || !k) {
        if (u)
            c->unknown = u;
        free(k);
        free(v);
        return SESP_ERR_NOMEM;
    }
    c->unknown = u;
    u[c->num_unknown].key = k;
    u[c->num_unknown].value = v;
    c->num_unknown++;
    return 0;
}

const char *sesp_config_get(const sesp_config *c, const char *key)
{
    int i = key_index(key);
    if (i >= 0)
        return c->raw[i];
    for (size_t j = 0; j < c->num_unknown; j++)
        if (strcmp(c->unknown[j].key, key) == 0)
            return c->unknown[j].value;
    return NULL;
}

/* ---- Java properties ---------------------------------------------------- */

static bool is_ws(char ch) { return ch == ' ' || ch == '\t' || ch == '\f'; }

/* Appends the escape-decoded characters of [p, e) to out; used for keys and
 * values.  \t \n \r \f and \uXXXX (ASCII/UTF-8 encoded) as in Java. */
static int unescape_append(char **out, size_t *olen, size_t *ocap, const char *p, const char *e)
{
    while (p < e) {
        if (*olen + 4 >= *ocap) {
            size_t nc = *ocap ? *ocap * 2 : 64;
            char *n = realloc(*out, nc);
            if (!n)
                return SESP_ERR_NOMEM;
            *out = n;
            *ocap = nc;
        }
        char ch = *p++;
        if (ch == '\\' && p < e) {
            ch = *p++;
            switch (ch) {
            case 't': ch = '\t'; break;
            case 'n': ch = '\n'; break;
            case 'r': ch = '\r'; break;
            case 'f': ch = '\f'; break;
            case 'u':
                if (e - p >= 4) {
                    char hex[5] = {p[0], p[1], p[2], p[3], 0};
                    char *end;
                    unsigned long cp = strtoul(hex, &end, 16);
                    if (*end == 0) {
                        p += 4;
                        if (cp < 0x80) {
                            (*out)[(*olen)++] = (char)cp;
                        } else if (cp < 0x800) {
                            (*out)[(*olen)++] = (char)(0xc0 | (cp >> 6));
                            (*out)[(*olen)++] = (char)(0x80 | (cp & 0x3f));
                        } else {
                            (*out)[(*olen)++] = (char)(0xe0 | (cp >> 12));
                            (*out)[(*olen)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
                            (*out)[(*olen)++] = (char)(0x80 | (cp & 0x3f));
                        }
                        continue;
                    }
                }
                break;
            default: break;
            }
        }
        (*out)[(*olen)++] = ch;
    }
    return 0;
}

/* Joins a logical line (physical lines ending in an odd number of
 * backslashes continue, leading whitespace of the continuation dropped). */
int sesp_config_load_string(sesp_config *c, const char *text, size_t len, char *err, size_t errlen)
{
    const char *p = text, *end = text + len;
    char *line = NULL;
    size_t cap = 0;
    int rc = 0, lineno = 0;
    while (p < end) {
        size_t ll = 0;
        bool first = true;
        int start_line = lineno + 1;
        for (;;) {
            const char *nl = p;
            while (nl < end && *nl != '\n' && *nl != '\r')
                nl++;
            lineno++;
            const char *s = p;
            if (!first)
                while (s < nl && is_ws(*s))
                    s++;
            size_t seg = (size_t)(nl - s);
            if (ll + seg + 1 > cap) {
                size_t nc = (ll + seg + 1) * 2;
                char *n = realloc(line, nc);
                if (!n) {
                    rc = SESP_ERR_NOMEM;
                    goto out;
                }
                line = n;
                cap = nc;
            }
            memcpy(line + ll, s, seg);
            ll += seg;
            p = nl;
            if (p < end && *p == '\r')
                p++;
            if (p < end && *p == '\n')
                p++;
            /* Comment lines never continue. */
            size_t k = 0;
            while (k < ll && is_ws(line[k]))
                k++;
            bool comment = first && k < ll && (line[k] == '#' || line[k] == '!');
            size_t bs = 0;
            while (bs < ll && line[ll - 1 - bs] == '\\')
                bs++;
            first = false;
            if (!comment && bs % 2 == 1 && p < end) {
                ll--; /* drop the continuation backslash */
                continue;
            }
            if (!comment && bs % 2 == 1)
                ll--;
            break;
        }
        /* Parse key [sep] value. */
        size_t i = 0;
        while (i < ll && is_ws(line[i]))
            i++;
        if (i == ll || line[i] == '#' || line[i] == '!')
            continue;
        size_t ks = i;
        while (i < ll && line[i] != '=' && line[i] != ':' && !is_ws(line[i])) {
            if (line[i] == '\\' && i + 1 < ll)
                i++;
            i++;
        }
        size_t ke = i;
        while (i < ll && is_ws(line[i]))
            i++;
        if (i < ll && (line[i] == '=' || line[i] == ':')) {
            i++;
            while (i < ll && is_ws(line[i]))
                i++;
        }
        size_t ve = ll;
        while (ve > i && is_ws(line[ve - 1]))
            ve--; /* Kafka trims values */
        char *key = NULL, *val = NULL;
        size_t kl = 0, kc = 0, vl = 0, vc = 0;
        if ((rc = unescape_append(&key, &kl, &kc, line + ks, line + ke)) ||
            (rc = unescape_append(&val, &vl, &vc, line + i, line + ve))) {
            free(key);
            free(val);
            goto out;
        }
        if (!key || kl == 0) {
            free(key);
            free(val);
            rc = fail(err, errlen, "line %d: empty key", start_line);
            goto out;
        }
        key[kl] = 0;
        if (!val) {
            val = strdup("");
            if (!val) {
                free(key);
                rc = SESP_ERR_NOMEM;
                goto out;
            }
        } else {
            val[vl] = 0;
        }
        rc = sesp_config_set(c, key, val, err, errlen);
        free(key);
        free(val);
        if (rc)
            goto out;
    }
out:
    free(line);
    return rc;
}

int sesp_config_load_file(sesp_config *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(err, errlen, "cannot open config file %s: %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (len + 4096 > cap) {
            if (cap > ((size_t)16 << 20)) {
                rc = fail(err, errlen, "config file %s is larger than 16 MiB", path);
                goto out;
            }
            size_t nc = cap ? cap * 2 : 8192;
            char *n = realloc(buf, nc);
            if (!n) {
                rc = SESP_ERR_NOMEM;
                goto out;
            }
            buf = n;
            cap = nc;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) {
            if (ferror(f))
                rc = fail(err, errlen, "reading %s: %s", path, strerror(errno));
            break;
        }
    }
    if (!rc)
        rc = sesp_config_load_string(c, buf ? buf : "", len, err, errlen);
out:
    free(buf);
    fclose(f);
    return rc;
}

/* ---- resolution --------------------------------------------------------- */

static const char *effective(const sesp_config *c, const char *key)
{
    int i = key_index(key);
    if (i < 0)
        return NULL;
    return c->raw[i] ? c->raw[i] : KEYS[i].def;
}

static bool parse_i64(const char *s, int64_t *out)
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

static int get_long(const sesp_config *c, const char *key, int64_t min, int64_t max, int64_t *out, char *err,
                    size_t errlen)
{
    const char *s = effective(c, key);
    int64_t v;
    if (!parse_i64(s, &v))
        return fail(err, errlen, "invalid value '%s' for configuration %s: not a number", s ? s : "", key);
    if (v < min || v > max)
        return fail(err, errlen, "invalid value %lld for configuration %s: must be in [%lld, %lld]", (long long)v, key,
                    (long long)min, (long long)max);
    *out = v;
    return 0;
}

static int get_int(const sesp_config *c, const char *key, int64_t min, int64_t max, int32_t *out, char *err,
                   size_t errlen)
{
    int64_t v;
    int rc = get_long(c, key, min, max, &v, err, errlen);
    if (!rc)
        *out = (int32_t)v;
    return rc;
}

static int get_bool(const sesp_config *c, const char *key, bool *out, char *err, size_t errlen)
{
    const char *s = effective(c, key);
    if (s && strcasecmp(s, "true") == 0)
        *out = true;
    else if (s && strcasecmp(s, "false") == 0)
        *out = false;
    else
        return fail(err, errlen, "invalid value '%s' for configuration %s: expected true or false", s ? s : "", key);
    return 0;
}

static bool is_set(const sesp_config *c, const char *key)
{
    int i = key_index(key);
    return i >= 0 && c->raw[i] != NULL;
}

/* Copies the trimmed i-th comma-separated element of list into buf. */
static const char *next_item(const char *p, char *buf, size_t buflen, bool *ok)
{
    while (*p == ' ' || *p == '\t' || *p == ',')
        p++;
    const char *s = p;
    while (*p && *p != ',')
        p++;
    const char *e = p;
    while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    size_t n = (size_t)(e - s);
    *ok = n < buflen;
    if (*ok) {
        memcpy(buf, s, n);
        buf[n] = 0;
    }
    return p;
}

static bool list_contains(const char *list, const char *item)
{
    char buf[256];
    bool ok;
    const char *p = list ? list : "";
    while (*p) {
        p = next_item(p, buf, sizeof buf, &ok);
        if (ok && *buf && strcmp(buf, item) == 0)
            return true;
    }
    return false;
}

/* Protocol of a listener name per listener.security.protocol.map. */
static bool listener_protocol(const sesp_config *c, const char *name, char *proto, size_t plen)
{
    char buf[256];
    bool ok;
    const char *p = effective(c, "listener.security.protocol.map");
    while (p && *p) {
        p = next_item(p, buf, sizeof buf, &ok);
        char *colon = ok ? strchr(buf, ':') : NULL;
        if (colon) {
            *colon = 0;
            if (strcmp(buf, name) == 0) {
                snprintf(proto, plen, "%s", colon + 1);
                return true;
            }
        }
    }
    return false;
}

static int parse_listeners(const sesp_config *c, const char *key, const char *list, sesp_config_listener *out,
                           int *n, char *err, size_t errlen)
{
    char item[512];
    bool ok;
    const char *controllers = effective(c, "controller.listener.names");
    *n = 0;
    const char *p = list;
    while (*p) {
        p = next_item(p, item, sizeof item, &ok);
        if (!ok)
            return fail(err, errlen, "configuration %s: listener too long", key);
        if (!*item)
            continue;
        char *sep = strstr(item, "://");
        if (!sep)
            return fail(err, errlen, "configuration %s: listener '%s' is not NAME://host:port", key, item);
        *sep = 0;
        const char *name = item, *hp = sep + 3;
        for (const char *q = name; *q; q++)
            if (!isalnum((unsigned char)*q) && *q != '_' && *q != '-')
                return fail(err, errlen, "configuration %s: bad listener name '%s'", key, name);
        if (controllers && list_contains(controllers, name))
            continue; /* SESP has no controller protocol to serve there */
        char proto[64];
        if (!listener_protocol(c, name, proto, sizeof proto))
            return fail(err, errlen, "configuration %s: listener name '%s' is not in listener.security.protocol.map",
                        key, name);
        if (strcmp(proto, "PLAINTEXT") != 0)
            return fail(err, errlen, "configuration %s: listener '%s' uses %s; only PLAINTEXT is supported", key,
                        name, proto);
        const char *colon = strrchr(hp, ':');
        if (!colon)
            return fail(err, errlen, "configuration %s: listener '%s://%s' lacks a port", key, name, hp);
        size_t hl = (size_t)(colon - hp);
        const char *hs = hp;
        if (hl >= 2 && hs[0] == '[' && hs[hl - 1] == ']') {
            hs++;
            hl -= 2;
        }
        int64_t port;
        if (!parse_i64(colon + 1, &port) || port < 0 || port > 65535)
            return fail(err, errlen, "configuration %s: listener '%s://%s' has an invalid port", key, name, hp);
        if (*n >= SESP_CONFIG_MAX_LISTENERS)
            return fail(err, errlen, "configuration %s: more than %d listeners", key, SESP_CONFIG_MAX_LISTENERS);
        if (hl >= sizeof out[*n].host || strlen(name) >= sizeof out[*n].name)
            return fail(err, errlen, "configuration %s: listener host too long", key);
        for (int j = 0; j < *n; j++)
            if (strcmp(out[j].name, name) == 0)
                return fail(err, errlen, "configuration %s: listener name '%s' appears twice", key, name);
        memcpy(out[*n].name, name, strlen(name) + 1);
        memcpy(out[*n].host, hs, hl);
        out[*n].host[hl] = 0;
        out[*n].port = (int)port;
        (*n)++;
    }
    return 0;
}

int sesp_config_finish(sesp_config *c, char *err, size_t errlen)
{
    int rc;
    const int64_t LMAX = INT64_MAX;
    for (int i = 0; i < c->num_log_dirs; i++)
        free(c->log_dirs[i]);
    c->num_log_dirs = 0;

    /* node.id wins over broker.id when both are given; they must agree. */
    int32_t nid = 1, bid = 1;
    if ((rc = get_int(c, "node.id", 0, INT32_MAX, &nid, err, errlen)) ||
        (rc = get_int(c, "broker.id", -1, INT32_MAX, &bid, err, errlen)))
        return rc;
    if (is_set(c, "node.id") && is_set(c, "broker.id") && bid >= 0 && nid != bid)
        return fail(err, errlen, "node.id (%d) and broker.id (%d) disagree", nid, bid);
    c->node_id = is_set(c, "node.id") ? nid : (is_set(c, "broker.id") && bid >= 0 ? bid : 1);

    if ((rc = parse_listeners(c, "listeners", effective(c, "listeners"), c->listeners, &c->num_listeners, err,
                              errlen)))
        return rc;
    if (c->num_listeners == 0)
        return fail(err, errlen, "configuration listeners: no PLAINTEXT listener");
    if (is_set(c, "advertised.listeners")) {
        if ((rc = parse_listeners(c, "advertised.listeners", effective(c, "advertised.listeners"), c->advertised,
                                  &c->num_advertised, err, errlen)))
            return rc;
        for (int i = 0; i < c->num_advertised; i++)
            if (c->advertised[i].port == 0)
                return fail(err, errlen, "configuration advertised.listeners: port 0 cannot be advertised");
    } else {
        memcpy(c->advertised, c->listeners, sizeof c->listeners);
        c->num_advertised = c->num_listeners;
    }
    if (c->num_advertised == 0)
        return fail(err, errlen, "configuration advertised.listeners: no PLAINTEXT listener");

    const char *dirs = is_set(c, "log.dirs") ? effective(c, "log.dirs") : effective(c, "log.dir");
    const char *p = dirs ? dirs : "";
    char item[4096];
    bool ok;
    while (*p) {
        p = next_item(p, item, sizeof item, &ok);
        if (!ok)
            return fail(err, errlen, "configuration log.dirs: path too long");
        if (!*item)
            continue;
        if (c->num_log_dirs >= SESP_CONFIG_MAX_LOG_DIRS)
            return fail(err, errlen, "configuration log.dirs: more than %d directories", SESP_CONFIG_MAX_LOG_DIRS);
        if (!(c->log_dirs[c->num_log_dirs++] = strdup(item)))
            return SESP_ERR_NOMEM;
    }
    if (c->num_log_dirs == 0)
        return fail(err, errlen, "configuration log.dirs: no directory given");

    int32_t rf;
    int64_t v;
    if ((rc = get_int(c, "num.partitions", 1, 1000000, &c->num_partitions, err, errlen)) ||
        (rc = get_int(c, "default.replication.factor", 1, INT16_MAX, &rf, err, errlen)) ||
        (rc = get_bool(c, "auto.create.topics.enable", &c->auto_create_topics, err, errlen)) ||
        (rc = get_long(c, "log.segment.bytes", 14, INT32_MAX, &c->log_segment_bytes, err, errlen)) ||
        (rc = get_long(c, "log.retention.bytes", -1, LMAX, &c->log_retention_bytes, err, errlen)) ||
        (rc = get_long(c, "log.retention.check.interval.ms", 1, LMAX, &c->log_retention_check_interval_ms, err,
                       errlen)) ||
        (rc = get_long(c, "producer.id.expiration.ms", 1, INT32_MAX, &c->producer_id_expiration_ms, err, errlen)) ||
        (rc = get_long(c, "producer.id.expiration.check.interval.ms", 1, INT32_MAX,
                       &c->producer_id_expiration_check_interval_ms, err, errlen)) ||
        (rc = get_int(c, "message.max.bytes", 0, INT32_MAX, &c->message_max_bytes, err, errlen)) ||
        (rc = get_int(c, "socket.request.max.bytes", 1, INT32_MAX, &c->socket_request_max_bytes, err, errlen)) ||
        (rc = get_long(c, "log.flush.interval.messages", 1, LMAX, &c->log_flush_interval_messages, err, errlen)) ||
        (rc = get_int(c, "num.network.threads", 1, 256, &c->num_network_threads, err, errlen)) ||
        (rc = get_long(c, "connections.max.idle.ms", -1, LMAX, &c->connections_max_idle_ms, err, errlen)) ||
        (rc = get_int(c, "log.index.interval.bytes", 0, INT32_MAX, &c->log_index_interval_bytes, err, errlen)) ||
        (rc = get_int(c, "log.segment.index.bytes", 4, INT32_MAX, &c->log_segment_index_bytes, err, errlen)) ||
        (rc = get_int(c, "queued.max.requests", 1, 1000000, &c->queued_max_requests, err, errlen)))
        return rc;
    c->default_replication_factor = (int16_t)rf;

    if (is_set(c, "log.roll.ms")) {
        if ((rc = get_long(c, "log.roll.ms", 1, LMAX, &c->log_roll_ms, err, errlen)))
            return rc;
    } else {
        if ((rc = get_long(c, "log.roll.hours", 1, INT32_MAX, &v, err, errlen)))
            return rc;
        c->log_roll_ms = v * 3600000;
    }
    /* -1 (any negative in Kafka) means unlimited retention at every unit. */
    if (is_set(c, "log.retention.ms")) {
        if ((rc = get_long(c, "log.retention.ms", -1, LMAX, &c->log_retention_ms, err, errlen)))
            return rc;
    } else if (is_set(c, "log.retention.minutes")) {
        if ((rc = get_long(c, "log.retention.minutes", -1, INT32_MAX, &v, err, errlen)))
            return rc;
        c->log_retention_ms = v < 0 ? -1 : v * 60000;
    } else {
        if ((rc = get_long(c, "log.retention.hours", -1, INT32_MAX, &v, err, errlen)))
            return rc;
        c->log_retention_ms = v < 0 ? -1 : v * 3600000;
    }
    if (is_set(c, "log.flush.interval.ms")) {
        if ((rc = get_long(c, "log.flush.interval.ms", 0, LMAX, &c->log_flush_interval_ms, err, errlen)))
            return rc;
    } else {
        c->log_flush_interval_ms = LMAX;
    }
    const char *tt = effective(c, "log.message.timestamp.type");
    if (strcmp(tt, "CreateTime") == 0)
        c->log_append_time = false;
    else if (strcmp(tt, "LogAppendTime") == 0)
        c->log_append_time = true;
    else
        return fail(err, errlen, "invalid value '%s' for configuration log.message.timestamp.type: expected "
                                 "CreateTime or LogAppendTime", tt);

    /* Enumerated values. */
    const char *cp = effective(c, "log.cleanup.policy");
    {
        char item[64];
        bool ok2;
        int items = 0;
        const char *q = cp;
        while (*q) {
            q = next_item(q, item, sizeof item, &ok2);
            if (!*item)
                continue;
            if (!ok2 || (strcmp(item, "delete") != 0 && strcmp(item, "compact") != 0))
                return fail(err, errlen, "invalid value '%s' for configuration log.cleanup.policy: expected delete "
                                         "and/or compact", cp);
            items++;
        }
        if (!items)
            return fail(err, errlen, "configuration log.cleanup.policy: empty list");
    }
    static const char *const codecs[] = {"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer", NULL};
    const char *ct = effective(c, "compression.type");
    bool known = false;
    for (int i = 0; codecs[i]; i++)
        known |= strcmp(ct, codecs[i]) == 0;
    if (!known)
        return fail(err, errlen, "invalid value '%s' for configuration compression.type", ct);

    /* Keys we accept without acting on still have to be well-formed. */
    for (size_t i = 0; i < NKEYS; i++) {
        if (!c->raw[i])
            continue;
        int64_t tmp;
        bool btmp;
        switch (KEYS[i].type) {
        case SESP_CONFIG_TYPE_INT:
        case SESP_CONFIG_TYPE_SHORT:
            if ((rc = get_long(c, KEYS[i].name, KEYS[i].type == SESP_CONFIG_TYPE_SHORT ? INT16_MIN : INT32_MIN,
                               KEYS[i].type == SESP_CONFIG_TYPE_SHORT ? INT16_MAX : INT32_MAX, &tmp, err, errlen)))
                return rc;
            break;
        case SESP_CONFIG_TYPE_LONG:
            if ((rc = get_long(c, KEYS[i].name, INT64_MIN, LMAX, &tmp, err, errlen)))
                return rc;
            break;
        case SESP_CONFIG_TYPE_BOOLEAN:
            if ((rc = get_bool(c, KEYS[i].name, &btmp, err, errlen)))
                return rc;
            break;
        case SESP_CONFIG_TYPE_DOUBLE: {
            char *end;
            errno = 0;
            strtod(c->raw[i], &end);
            if (errno || end == c->raw[i] || *end)
                return fail(err, errlen, "invalid value '%s' for configuration %s: not a number", c->raw[i],
                            KEYS[i].name);
            break;
        }
        default: break;
        }
    }
    return 0;
}

void sesp_config_warn_unknown(const sesp_config *c, FILE *f)
{
    for (size_t i = 0; i < c->num_unknown; i++)
        fprintf(f, "sesp broker: warning: unknown configuration '%s' (ignored)\n", c->unknown[i].key);
}

size_t sesp_config_known_count(void)
{
    return NKEYS;
}

void sesp_config_describe_at(const sesp_config *c, size_t i, sesp_config_desc *out)
{
    memset(out, 0, sizeof *out);
    if (i >= NKEYS)
        return;
    out->name = KEYS[i].name;
    out->value = c->raw[i] ? c->raw[i] : KEYS[i].def;
    out->is_default = c->raw[i] == NULL;
    out->source = c->raw[i] ? SESP_CONFIG_SRC_STATIC_BROKER : SESP_CONFIG_SRC_DEFAULT;
    out->type = KEYS[i].type;
    out->doc = KEYS[i].doc;
}

bool sesp_config_describe(const sesp_config *c, const char *key, sesp_config_desc *out)
{
    int i = key_index(key);
    if (i < 0)
        return false;
    sesp_config_describe_at(c, (size_t)i, out);
    return true;
}

void sesp_config_usage(FILE *f)
{
    fprintf(f,
            "usage: sesp broker [--config FILE] [--set key=value]... [--help]\n"
            "\n"
            "Runs a single-node Kafka-compatible broker.\n"
            "  --config FILE     read a Java properties file (Kafka server.properties keys)\n"
            "  --set key=value   override one key (repeatable, applied after --config)\n"
            "  --help            show this text\n"
            "\n"
            "Main keys (default):\n");
    for (size_t i = 0; i < NKEYS && i < 28; i++)
        fprintf(f, "  %-34s %s (%s)\n", KEYS[i].name, KEYS[i].doc, KEYS[i].def ? KEYS[i].def : "null");
}
