/*
 * The broker configuration: Kafka's server.properties key names and defaults,
 * read from a Java properties file (--config) and --set key=value overrides.
 * Values are kept as the strings the operator gave (for DescribeConfigs) and
 * resolved once, by sesp_config_finish, into the typed fields below, applying
 * Kafka's precedence rules (log.retention.ms over .minutes over .hours,
 * node.id or broker.id, advertised.listeners defaulting to listeners).
 * Unknown keys are remembered and reported as a warning, as Kafka does;
 * malformed values are fatal with a message naming the key.
 */
#ifndef SESP_SERVER_CONFIG_H
#define SESP_SERVER_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define SESP_CONFIG_MAX_LISTENERS 8
#define SESP_CONFIG_MAX_LOG_DIRS 8

typedef struct sesp_config_listener {
    char name[64];    /* listener name, e.g. PLAINTEXT */
    char host[256];   /* "" = every interface */
    int port;         /* 0 = any free port (tests) */
} sesp_config_listener;

/* Kafka's ConfigSource and ConfigType numbers (DescribeConfigs wire values). */
enum {
    SESP_CONFIG_SRC_DYNAMIC_TOPIC = 1,
    SESP_CONFIG_SRC_STATIC_BROKER = 4,
    SESP_CONFIG_SRC_DEFAULT = 5,
};
enum {
    SESP_CONFIG_TYPE_BOOLEAN = 1,
    SESP_CONFIG_TYPE_STRING = 2,
    SESP_CONFIG_TYPE_INT = 3,
    SESP_CONFIG_TYPE_SHORT = 4,
    SESP_CONFIG_TYPE_LONG = 5,
    SESP_CONFIG_TYPE_DOUBLE = 6,
    SESP_CONFIG_TYPE_LIST = 7,
    SESP_CONFIG_TYPE_PASSWORD = 9,
};

typedef struct sesp_config_unknown {
    char *key, *value;
} sesp_config_unknown;

#define SESP_CONFIG_NUM_KEYS 96 /* capacity of the raw value table (>= known keys) */

typedef struct sesp_config {
    /* Resolved by sesp_config_finish. */
    int32_t node_id;
    sesp_config_listener listeners[SESP_CONFIG_MAX_LISTENERS];
    int num_listeners;
    sesp_config_listener advertised[SESP_CONFIG_MAX_LISTENERS];
    int num_advertised;
    char *log_dirs[SESP_CONFIG_MAX_LOG_DIRS];
    int num_log_dirs;
    int32_t num_partitions;
    int16_t default_replication_factor;
    bool auto_create_topics;
    int64_t log_segment_bytes;
    int64_t log_roll_ms;
    int64_t log_retention_ms;          /* -1 = unlimited */
    int64_t log_retention_bytes;       /* -1 = unlimited */
    int64_t log_retention_check_interval_ms;
    int64_t producer_id_expiration_ms;                  /* Kafka's default: one day */
    int64_t producer_id_expiration_check_interval_ms;   /* default 600000 */
    int32_t message_max_bytes;
    int32_t socket_request_max_bytes;
    int64_t log_flush_interval_messages;
    int64_t log_flush_interval_ms;     /* INT64_MAX when unset */
    int32_t num_network_threads;
    bool log_append_time;              /* log.message.timestamp.type=LogAppendTime */
    int64_t connections_max_idle_ms;
    int32_t log_index_interval_bytes;
    int32_t log_segment_index_bytes;
    int32_t queued_max_requests;       /* per-connection in-flight cap */

    /* Raw strings as given, indexed like the internal known-key table. */
    char *raw[SESP_CONFIG_NUM_KEYS];
    sesp_config_unknown *unknown;
    size_t num_unknown;
} sesp_config;

/* Every key unset (defaults). */
void sesp_config_init(sesp_config *c);
void sesp_config_free(sesp_config *c);

/* Sets one key (a later set wins).  Unknown keys are accepted and remembered.
 * Returns 0, or SESP_ERR_INVALID_ARG with err filled for an empty key. */
int sesp_config_set(sesp_config *c, const char *key, const char *value, char *err, size_t errlen);
/* Parses a Java properties file and sets every key in it. */
int sesp_config_load_file(sesp_config *c, const char *path, char *err, size_t errlen);
/* Parses properties text (same syntax as the file). */
int sesp_config_load_string(sesp_config *c, const char *text, size_t len, char *err, size_t errlen);
/* Resolves and validates every value into the typed fields.  On failure
 * returns SESP_ERR_INVALID_ARG and err names the offending key. */
int sesp_config_finish(sesp_config *c, char *err, size_t errlen);
/* Writes one warning line per unknown key. */
void sesp_config_warn_unknown(const sesp_config *c, FILE *f);

/* The raw string the operator gave for a key (known or unknown), or NULL. */
const char *sesp_config_get(const sesp_config *c, const char *key);

/* The broker keys with their effective value, for DescribeConfigs(BROKER). */
typedef struct sesp_config_desc {
    const char *name;
    const char *value;   /* NULL = null (e.g. log.flush.interval.ms unset) */
    bool is_default;
    int8_t source;       /* SESP_CONFIG_SRC_STATIC_BROKER or _DEFAULT */
    int8_t type;         /* SESP_CONFIG_TYPE_* */
    bool sensitive;
    const char *doc;
} sesp_config_desc;
/* Number of known broker keys; describe_at(i) for i below it fills out. */
size_t sesp_config_known_count(void);
void sesp_config_describe_at(const sesp_config *c, size_t i, sesp_config_desc *out);
/* Fills out for one key by name; false if it is not a known broker key. */
bool sesp_config_describe(const sesp_config *c, const char *key, sesp_config_desc *out);

/* Text for --help (the options and the main keys). */
void sesp_config_usage(FILE *f);

#endif
