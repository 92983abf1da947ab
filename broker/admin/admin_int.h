/*
 * What the admin handlers share (not public): the handlers themselves, the
 * config resource types, manual replica assignment checks on this single
 * node, and small helpers to build responses in the request arena.
 */
#ifndef SESP_ADMIN_INT_H
#define SESP_ADMIN_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "broker/protocol/kproto.h"
#include "broker/server/server.h"

/* Kafka's ConfigResource.Type wire values. */
#define SESP_ADMIN_RES_TOPIC 2
#define SESP_ADMIN_RES_BROKER 4
#define SESP_ADMIN_RES_BROKER_LOGGER 8

void sesp_admin_h_create_topics(sesp_req *rq);
void sesp_admin_h_delete_topics(sesp_req *rq);
void sesp_admin_h_delete_records(sesp_req *rq);
void sesp_admin_h_describe_configs(sesp_req *rq);
void sesp_admin_h_alter_configs(sesp_req *rq);
void sesp_admin_h_describe_log_dirs(sesp_req *rq);
void sesp_admin_h_create_partitions(sesp_req *rq);
void sesp_admin_h_incremental_alter_configs(sesp_req *rq);
void sesp_admin_h_describe_cluster(sesp_req *rq);

/* The error message to send: null when there is no error or no text,
 * otherwise a copy of msg in the request arena. */
sesp_kstr sesp_admin_msg(sesp_req *rq, int16_t err, const char *msg);
/* printf into the request arena (never NULL: "" on OOM). */
char *sesp_admin_fmt(sesp_req *rq, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* True if the same non-null name appears at another index of names. */
bool sesp_admin_dup_name(const sesp_kstr *names, int32_t n, int32_t i);

/* One partition's manual replica list: on this node only [node_id] is a
 * valid assignment.  0 or INVALID_REPLICA_ASSIGNMENT with msg filled. */
int16_t sesp_admin_check_replicas(const int32_t *ids, int32_t n, int32_t node_id, char *msg, size_t msglen);

/* A BROKER config resource name must be this node's id, or empty for the
 * cluster-wide defaults (*is_default).  0 or INVALID_REQUEST with msg. */
int16_t sesp_admin_check_broker_name(sesp_req *rq, sesp_kstr name, bool *is_default, char *msg, size_t msglen);

/* AlterConfigs / IncrementalAlterConfigs on a BROKER resource: the name is
 * checked as above; changing any of keys is refused (no dynamic broker
 * configs), an empty change succeeds.  0 or a Kafka error with msg. */
int16_t sesp_admin_alter_broker(sesp_req *rq, sesp_kstr name, const char *const *keys, size_t n, char *msg,
                                size_t msglen);
/* 0 if the topic exists, else INVALID_TOPIC_EXCEPTION (bad name) or
 * UNKNOWN_TOPIC_OR_PARTITION, with msg filled. */
int16_t sesp_admin_topic_exists(sesp_req *rq, sesp_kstr name, char *msg, size_t msglen);

/* One config resource of an AlterConfigs-style request and its outcome. */
typedef struct sesp_admin_res {
    int8_t type;
    sesp_kstr name;  /* as requested; "" instead of null once applied, for the response */
    int16_t err;
    sesp_kstr msg;   /* the response's error message (sesp_admin_msg) */
} sesp_admin_res;

/* Applies resource i of the request ctx; 0 or a Kafka error with msg filled. */
typedef int16_t (*sesp_admin_apply_fn)(sesp_req *rq, const void *ctx, int32_t i, char *msg, size_t msglen);

/*
 * Runs apply on each of res[0..n) (type and name set by the caller) and sets
 * its err and msg; a (type, name) given twice is applied to neither and fails
 * with INVALID_REQUEST.
 */
void sesp_admin_apply_resources(sesp_req *rq, sesp_admin_res *res, int32_t n, sesp_admin_apply_fn apply,
                                const void *ctx);

/* Encodes with enc and finishes rq (closing on an encoding failure). */
#define SESP_ADMIN_RESPOND(rq, enc, v, m)                                                                  \
    do {                                                                                                   \
        sesp_bufw w_;                                                                                      \
        sesp_bufw_init(&w_, 512, 0);                                                                       \
        if (enc(&w_, (v), (m)) != 0 && !w_.err)                                                            \
            w_.err = -1;                                                                                   \
        sesp_req_respond((rq), &w_);                                                                       \
    } while (0)

#endif
