/*
 * The consumer group coordinator (Kafka's classic group protocol on a single
 * node): JoinGroup/SyncGroup/Heartbeat/LeaveGroup membership with rebalances,
 * static membership and session/rebalance timeouts; committed offsets
 * (OffsetCommit/OffsetFetch/OffsetDelete); group administration (ListGroups,
 * DescribeGroups, DeleteGroups).  State is persisted as Kafka's own records in
 * the compacted __consumer_offsets topic and replayed at start-up.  The
 * coordinator runs on its own thread with its own libevent base; requests are
 * queued to it in FIFO order and answered through a callback.
 */
#ifndef SESP_GROUP_H
#define SESP_GROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

typedef struct sesp_group_coordinator sesp_group_coordinator;
struct sesp_log;

typedef struct sesp_group_config {
    int32_t node_id;
    int32_t offsets_topic_partitions;         /* offsets.topic.num.partitions, 50 */
    int64_t initial_rebalance_delay_ms;       /* group.initial.rebalance.delay.ms, 3000 */
    int32_t min_session_timeout_ms, max_session_timeout_ms; /* 6000, 1800000 */
    int32_t max_group_size;                   /* group.max.size, INT32_MAX */
    int64_t offsets_retention_ms;             /* offsets.retention.minutes * 60000 */
    int64_t offsets_retention_check_ms;       /* offsets.retention.check.interval.ms, 600000 */
    int32_t max_metadata_bytes;               /* bound on one member's protocol metadata/assignment, e.g. 1 MiB */
} sesp_group_config;

void sesp_group_config_defaults(sesp_group_config *c);

/* Gives the coordinator the sesp_log of __consumer_offsets partition p (the
 * server creates the topic).  Called on the coordinator thread; may return
 * NULL (the partition is then skipped at load and writes to it fail with
 * COORDINATOR_NOT_AVAILABLE). */
typedef struct sesp_log *(*sesp_group_log_fn)(void *ud, int32_t partition);

/* Starts the coordinator thread, which first replays every __consumer_offsets
 * partition; until that is done requests get COORDINATOR_LOAD_IN_PROGRESS.
 * Calls evthread_use_pthreads().  0 or SESP_ERR_*. */
int sesp_group_start(const sesp_group_config *cfg, sesp_group_log_fn log_fn, void *log_ud,
                     sesp_group_coordinator **out);
/* Stops the thread; requests still queued or parked (JoinGroup/SyncGroup
 * waiting for a rebalance) are answered with NOT_COORDINATOR first, so every
 * `done` has been called when this returns.  NULL is a no-op. */
void sesp_group_stop(sesp_group_coordinator *gc);

/* True for the API keys this module answers: 11 JoinGroup, 14 SyncGroup, 12
 * Heartbeat, 13 LeaveGroup, 8 OffsetCommit, 9 OffsetFetch, 16 ListGroups, 15
 * DescribeGroups, 42 DeleteGroups, 47 OffsetDelete. */
bool sesp_group_handles(int16_t api_key);

/* `body` is the request body after the request header; the coordinator copies
 * what it needs before returning.  `done` is called exactly once (possibly
 * later, on the coordinator thread) with the encoded response BODY (no
 * response header) in `resp`; `done` takes ownership of resp's buffer
 * (sesp_bufw_steal or sesp_bufw_free).  A body that fails to decode ->
 * done(ctx, NULL, SESP_ERR_MALFORMED); a version this module does not
 * implement -> done(ctx, NULL, SESP_ERR_UNSUPPORTED); in both cases the glue
 * should close the connection as Kafka does. */
typedef void (*sesp_group_done_fn)(void *ctx, sesp_bufw *resp, int err);
void sesp_group_handle(sesp_group_coordinator *gc, int16_t api_key, int16_t version, const uint8_t *body, size_t len,
                       sesp_group_done_fn done, void *ctx);
/* Same, with the request header's client id and the peer's host (either may
 * be NULL): used for member ids ("<client id>-<uuid>" as Kafka) and shown by
 * DescribeGroups. */
void sesp_group_handle_client(sesp_group_coordinator *gc, int16_t api_key, int16_t version, const char *client_id,
                              const char *client_host, const uint8_t *body, size_t len, sesp_group_done_fn done,
                              void *ctx);

/* For the CLI/admin: committed offset of a group partition (-1 if none).
 * Thread-safe; must not be called from inside a `done` callback. */
int64_t sesp_group_committed_offset(sesp_group_coordinator *gc, const char *group, const char *topic, int32_t partition);

/* __consumer_offsets partition of a group id: abs(Java String.hashCode) %
 * partitions, the same mapping as Kafka. */
int32_t sesp_group_partition_for(const char *group_id, size_t len, int32_t partitions);

#endif
