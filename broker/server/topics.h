/*
 * The topic registry: every topic's name, id (random UUID), partitions (each
 * owning a sesp_log under <one of log.dirs>/<topic>-<partition>/) and per-topic
 * config overrides, persisted atomically in <log.dirs[0]>/__sesp_meta/
 * topics.json and reloaded (with log recovery) at start.  Thread-safe: an
 * rwlock guards the registry; topics are reference-counted so a handler that
 * looked one up can keep using it (and its partitions' logs) while another
 * thread deletes it: a deleted topic's logs are closed and its directories
 * removed when the last reference goes.  Partitions only ever grow while a
 * topic lives, and a partition pointer stays valid until the topic is freed.
 *
 * Mutating calls return a Kafka error code (0 = NONE) and fill msg with the
 * ErrorMessage to send.
 */
#ifndef SESP_SERVER_TOPICS_H
#define SESP_SERVER_TOPICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/server/config.h"

typedef struct sesp_log sesp_log;
typedef struct sesp_topics sesp_topics;
typedef struct sesp_topic sesp_topic;
typedef struct sesp_partition sesp_partition;

/* Kafka error codes the registry returns. */
#define SESP_TOPICS_KERR_NONE 0
#define SESP_TOPICS_KERR_UNKNOWN_TOPIC_OR_PARTITION 3
#define SESP_TOPICS_KERR_INVALID_TOPIC 17
#define SESP_TOPICS_KERR_TOPIC_ALREADY_EXISTS 36
#define SESP_TOPICS_KERR_INVALID_PARTITIONS 37
#define SESP_TOPICS_KERR_INVALID_REPLICATION_FACTOR 38
#define SESP_TOPICS_KERR_INVALID_REQUEST 42
#define SESP_TOPICS_KERR_INVALID_CONFIG 40
#define SESP_TOPICS_KERR_POLICY_VIOLATION 44
#define SESP_TOPICS_KERR_KAFKA_STORAGE_ERROR 56
#define SESP_TOPICS_KERR_UNKNOWN_SERVER_ERROR (-1)
#define SESP_TOPICS_KERR_TOPIC_DELETION_DISABLED 73
#define SESP_TOPICS_KERR_UNKNOWN_TOPIC_ID 100

#define SESP_TOPICS_MAX_PARTITIONS 100000 /* per topic, bounds what a request can make us open */
#define SESP_TOPICS_MSG_LEN 256

typedef struct sesp_topic_id {
    uint8_t b[16]; /* same layout as sesp_kuuid */
} sesp_topic_id;

/* A config key/value pair; value NULL means "remove the override". */
typedef struct sesp_topic_kv {
    const char *key;
    const char *value;
} sesp_topic_kv;

/* Opens the registry: reads topics.json (and meta.properties is the caller's
 * business), opens every partition's log (recovery).  cfg must outlive the
 * registry.  Fails with SESP_ERR_* and err filled. */
int sesp_topics_open(const sesp_config *cfg, sesp_topics **out, char *err, size_t errlen);
/* Closes every log (clean shutdown).  Call it once nothing uses the registry
 * any more (after the network stopped); a topic still referenced then is
 * freed on its last release.  NULL is a no-op. */
void sesp_topics_close(sesp_topics *t);

/* Kafka topic name rules: 1..249 chars of [a-zA-Z0-9._-], not "." or "..".
 * Returns 0 or INVALID_TOPIC with msg filled. */
int16_t sesp_topics_validate_name(const char *name, size_t len, char *msg, size_t msglen);

/* Creates a topic.  num_partitions / replication_factor -1 = broker default
 * (num.partitions / default.replication.factor).  replication_factor must be
 * 1 on this single node (INVALID_REPLICATION_FACTOR otherwise).  Configs are
 * validated (INVALID_CONFIG).  validate_only checks everything and creates
 * nothing.  *out_id (optional) gets the new topic id. */
int16_t sesp_topics_create(sesp_topics *t, const char *name, size_t name_len, int32_t num_partitions,
                           int16_t replication_factor, const sesp_topic_kv *configs, size_t nconfigs,
                           bool validate_only, sesp_topic_id *out_id, char *msg, size_t msglen);
/* Deletes a topic by name (UNKNOWN_TOPIC_OR_PARTITION) or, when name is NULL,
 * by id (UNKNOWN_TOPIC_ID).  *out_id / out_name (optional, >= 250 bytes) get
 * the deleted topic's id / name. */
int16_t sesp_topics_delete(sesp_topics *t, const char *name, size_t name_len, const sesp_topic_id *id,
                           sesp_topic_id *out_id, char *out_name, char *msg, size_t msglen);
/* Grows a topic to new_total partitions (INVALID_PARTITIONS if not larger). */
int16_t sesp_topics_create_partitions(sesp_topics *t, const char *name, size_t name_len, int32_t new_total,
                                      bool validate_only, char *msg, size_t msglen);

/* Looks a topic up and returns it with a reference taken (release it with
 * sesp_topic_release), or NULL. */
sesp_topic *sesp_topics_get(sesp_topics *t, const char *name, size_t name_len);
sesp_topic *sesp_topics_get_by_id(sesp_topics *t, const sesp_topic_id *id);
/* Like sesp_topics_get but creates it with the broker defaults when
 * auto.create.topics.enable is true and allow is true.  *err gets
 * UNKNOWN_TOPIC_OR_PARTITION / INVALID_TOPIC / ... when NULL is returned. */
sesp_topic *sesp_topics_get_or_create(sesp_topics *t, const char *name, size_t name_len, bool allow, int16_t *err);
void sesp_topic_ref(sesp_topic *tp);
void sesp_topic_release(sesp_topic *tp);

/* Every live topic, sorted by name, each referenced; free with
 * sesp_topics_list_free.  Returns 0 or SESP_ERR_NOMEM. */
int sesp_topics_list(sesp_topics *t, sesp_topic ***out, size_t *n);
void sesp_topics_list_free(sesp_topic **list, size_t n);

const char *sesp_topic_name(const sesp_topic *tp);   /* NUL-terminated */
const sesp_topic_id *sesp_topic_id_of(const sesp_topic *tp);
int32_t sesp_topic_partition_count(sesp_topic *tp);
bool sesp_topic_is_deleted(sesp_topic *tp);
/* Partition i, or NULL if out of range.  Valid while tp is referenced. */
sesp_partition *sesp_topic_partition(sesp_topic *tp, int32_t i);
/* The partition's log, or NULL if out of range. */
sesp_log *sesp_topic_log(sesp_topic *tp, int32_t i);
sesp_log *sesp_partition_log(sesp_partition *p);
/* The log.dirs entry holding the partition (new partitions go to the dir
 * with the fewest; the registry itself lives in log.dirs[0]). */
const char *sesp_partition_log_dir(const sesp_topics *t, const sesp_partition *p);
int32_t sesp_partition_index(const sesp_partition *p);
sesp_topic *sesp_partition_topic(sesp_partition *p);

/* Waiters on a partition (long-poll fetch): a produce that appended calls
 * sesp_partition_notify, which calls every registered waiter's cb (on the
 * producing thread, with the partition's waiter lock held: the callback must
 * only schedule work, e.g. event_active, and must not add/remove waiters).
 * A waiter must be removed before it is freed. */
typedef struct sesp_partition_waiter {
    void (*cb)(struct sesp_partition_waiter *w, void *ud);
    void *ud;
    struct sesp_partition_waiter *prev, *next; /* owned by the partition */
    sesp_partition *on;                       /* set while registered */
} sesp_partition_waiter;
void sesp_partition_add_waiter(sesp_partition *p, sesp_partition_waiter *w);
void sesp_partition_remove_waiter(sesp_partition_waiter *w); /* no-op if not registered */
void sesp_partition_notify(sesp_partition *p);

/* ---- topic configs ------------------------------------------------------ */

typedef struct sesp_topic_config_desc {
    const char *name;
    char *value;          /* malloc'ed; NULL = null value */
    bool is_default;      /* no topic override */
    int8_t source;        /* SESP_CONFIG_SRC_DYNAMIC_TOPIC / _STATIC_BROKER / _DEFAULT */
    int8_t type;          /* SESP_CONFIG_TYPE_* */
    bool sensitive, read_only;
    const char *synonym;  /* the broker key providing the default (e.g. log.retention.ms), or NULL */
    const char *doc;
} sesp_topic_config_desc;

/* Every topic config Kafka knows with its effective value for tp.  Free with
 * sesp_topic_configs_free.  Returns 0 or SESP_ERR_NOMEM. */
int sesp_topic_configs_describe(sesp_topics *t, sesp_topic *tp, sesp_topic_config_desc **out, size_t *n);
void sesp_topic_configs_free(sesp_topic_config_desc *d, size_t n);
/* The override value of one key for tp as a malloc'ed string, or NULL when
 * not overridden. */
char *sesp_topic_config_get_override(sesp_topic *tp, const char *key);
/* Whether key is a topic config we know (others: INVALID_CONFIG). */
bool sesp_topic_config_is_known(const char *key);
/* Validates one key=value; 0 or INVALID_CONFIG with msg filled. */
int16_t sesp_topic_config_validate(const char *key, const char *value, char *msg, size_t msglen);
/* Changes overrides atomically: replace_all (AlterConfigs) drops every
 * override not in kv; otherwise (IncrementalAlterConfigs SET/DELETE) only the
 * given keys change, value NULL deleting one.  Everything is validated first;
 * nothing changes on error or with validate_only.  Applies the new log
 * config to every partition and persists. */
int16_t sesp_topics_alter_configs(sesp_topics *t, const char *name, size_t name_len, const sesp_topic_kv *kv,
                                  size_t n, bool replace_all, bool validate_only, char *msg, size_t msglen);

/* The registry's data directory (log.dirs[0]); partitions may live in any
 * of log.dirs (sesp_partition_log_dir). */
const char *sesp_topics_log_dir(const sesp_topics *t);
/* Applies retention to every partition and time-based flush (the broker's
 * periodic task).  Returns segments deleted. */
int sesp_topics_apply_retention(sesp_topics *t, int64_t now_ms);
int sesp_topics_flush_time(sesp_topics *t, int64_t now_ms);
/* Forgets, in every partition, the idempotent producers idle for
 * expiration_ms (producer.id.expiration.ms).  Returns producers forgotten. */
int sesp_topics_expire_producers(sesp_topics *t, int64_t now_ms, int64_t expiration_ms);

#endif
