/*
 * The broker server's shared state and the request plumbing every API
 * handler uses: the per-request context (connection, slot, decoded header,
 * frame, arena), the handler table that routes requests and is also the
 * source of the ApiVersions answer, and the ways to finish a request
 * (respond, respond with nothing, close), synchronously on the connection's
 * loop or later from any thread.  Modules outside server/ (admin APIs, the
 * group coordinator glue) add their handlers with sesp_server_add_api before
 * the network starts.
 */
#ifndef SESP_SERVER_H
#define SESP_SERVER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/net/net.h"
#include "broker/protocol/header.h"
#include "broker/server/config.h"
#include "broker/server/topics.h"
#include "common/arena.h"
#include "common/buf.h"

typedef struct sesp_server sesp_server;
typedef struct sesp_req sesp_req;

/* A handler owns rq and must finish it exactly once (sesp_req_respond*,
 * sesp_req_close), now or later. */
typedef void (*sesp_api_fn)(sesp_req *rq);

typedef struct sesp_api_def {
    int16_t api_key, min_version, max_version;
    sesp_api_fn fn;
} sesp_api_def;

#define SESP_SERVER_MAX_APIS 96

struct sesp_server {
    sesp_config *cfg;
    sesp_topics *topics;
    int32_t node_id;
    char cluster_id[64];
    char adv_host[256];         /* first advertised listener */
    int adv_port;               /* resolved to the bound port when configured as 0 */
    sesp_net *net;
    sesp_api_def apis[SESP_SERVER_MAX_APIS];
    size_t napis;
    atomic_int pending_fetches; /* parked long-polls (for shutdown) */
    void *ext;                  /* for glue modules (e.g. the group coordinator) */
    void (*ext_stop)(sesp_server *s); /* called at stop before the network drains: must answer
                                         everything pending (the loops still run) */
};

/* Called by sesp_server_start once the topics are open and the built-in
 * APIs registered, before the network starts: register more APIs
 * (sesp_server_add_api), start modules, set ext/ext_stop.  0 or SESP_ERR_*. */
typedef int (*sesp_server_ext_fn)(sesp_server *s, void *ud, char *err, size_t errlen);

/* Starts a broker on a finished config (which must outlive it): creates the
 * data directories, reads/writes meta.properties, opens the topics (log
 * recovery), runs ext, binds the listeners.  0 or SESP_ERR_* with err. */
int sesp_server_start(sesp_config *cfg, sesp_server_ext_fn ext, void *ext_ud, sesp_server **out, char *err,
                      size_t errlen);
/* Creates __consumer_offsets if needed, starts the group coordinator and
 * routes the group APIs to it; for use from the ext hook.  Sets ext_stop. */
int sesp_server_attach_groups(sesp_server *s, char *err, size_t errlen);

/* The port listener i is bound to. */
int sesp_server_bound_port(sesp_server *s, int i);
/* Periodic work: retention and time-based flush. */
void sesp_server_tick(sesp_server *s, int64_t now_ms, bool retention);
/* Periodic work at producer.id.expiration.check.interval.ms: forgets the
 * idempotent producers idle for producer.id.expiration.ms. */
void sesp_server_expire_producers(sesp_server *s, int64_t now_ms);
/* Graceful stop: parked fetches answered, network drained, logs closed
 * cleanly; frees s.  NULL is a no-op. */
void sesp_server_stop(sesp_server *s);

struct sesp_req {
    sesp_server *srv;
    sesp_conn *conn;
    uint64_t seq;
    sesp_kreq_header hdr;
    uint8_t *frame;             /* malloc'ed; owned by the request */
    size_t len;
    sesp_bufr body;             /* positioned at the request body */
    sesp_arena arena;           /* freed with the request */
    int64_t received_ms;
};

/* Registers the built-in handlers (ApiVersions, Metadata, Produce, Fetch,
 * ListOffsets, FindCoordinator, InitProducerId, OffsetForLeaderEpoch). */
void sesp_server_init_apis(sesp_server *s);
/* Adds or replaces the handler of def->api_key.  The versions must be within
 * what broker/protocol can decode.  0 or SESP_ERR_INVALID_ARG / _TOO_LARGE. */
int sesp_server_add_api(sesp_server *s, const sesp_api_def *def);
const sesp_api_def *sesp_server_find_api(const sesp_server *s, int16_t api_key);

/* The sesp_net request callback (ud = the sesp_server). */
void sesp_server_on_request(sesp_conn *c, uint64_t seq, uint8_t *frame, size_t len, void *ud);

/* On the connection's loop thread: */
/* Sends the response header + body (the encoded response body in w, which is
 * freed) and frees rq.  A poisoned w (encoding failed) closes instead. */
void sesp_req_respond(sesp_req *rq, sesp_bufw *w);
/* Sends an evbuffer that already holds header + body (ownership taken). */
void sesp_req_respond_evbuf(sesp_req *rq, struct evbuffer *full);
void sesp_req_respond_none(sesp_req *rq);
void sesp_req_close(sesp_req *rq);
/* From any thread: moves the response (w's buffer is taken; NULL closes the
 * connection) to the connection's loop and finishes rq there. */
void sesp_req_respond_async(sesp_req *rq, sesp_bufw *w);
/* Frees rq without answering (only when the slot was answered otherwise). */
void sesp_req_free(sesp_req *rq);

/* Milliseconds since the epoch (wall clock, as Kafka timestamps). */
int64_t sesp_server_now_ms(void);
/* A NUL-terminated copy of a Kafka string in the request arena ("" for null). */
char *sesp_req_str(sesp_req *rq, sesp_kstr s);

/* Built-in handlers. */
void sesp_h_api_versions(sesp_req *rq);
void sesp_h_metadata(sesp_req *rq);
void sesp_h_produce(sesp_req *rq);
void sesp_h_fetch(sesp_req *rq);
void sesp_h_list_offsets(sesp_req *rq);
void sesp_h_find_coordinator(sesp_req *rq);
void sesp_h_init_producer_id(sesp_req *rq);
void sesp_h_offset_for_leader_epoch(sesp_req *rq);

/* Shutdown: completes every parked long-poll fetch now and makes new ones
 * answer at once; reset re-arms (tests that start several brokers). */
void sesp_fetch_wake_all(void);
void sesp_fetch_reset(void);

/* The ApiVersions v0 body with error UNSUPPORTED_VERSION and our API list
 * (KIP-511), used for an ApiVersions request of a version we do not know. */
void sesp_api_versions_encode(const sesp_server *s, int16_t version, int16_t error, sesp_bufw *w);

/* cluster id: read <dir>/meta.properties or create it with a new random id
 * (Kafka's 22-char URL-safe base64 of a UUID).  0 or SESP_ERR_*. */
int sesp_server_load_meta(const char *dir, int32_t node_id, char *cluster_id, size_t len);

#endif
