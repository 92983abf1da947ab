/*
 * The broker's network layer: TCP listeners, one acceptor and
 * num.network.threads libevent loops, Kafka framing (a 4-byte big-endian size
 * then that many bytes) with pipelining.  Each complete frame is handed to the
 * request callback on its connection's loop thread with a sequence number;
 * answers may arrive in any order but are written in request order.  The layer
 * also owns back-pressure (stop reading a connection whose output or in-flight
 * count is too high), idle close (connections.max.idle.ms) and graceful stop.
 * It knows nothing of Kafka's APIs beyond the frame.
 */
#ifndef SESP_NET_H
#define SESP_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct evbuffer;

typedef struct sesp_net sesp_net;
typedef struct sesp_conn sesp_conn;

typedef struct sesp_net_listener {
    char host[256];   /* "" = every interface (IPv6 dual-stack, else IPv4); else a name or literal */
    int port;         /* 0 = any free port; see sesp_net_bound_port */
} sesp_net_listener;

typedef struct sesp_net_config {
    const sesp_net_listener *listeners;
    int num_listeners;
    int num_threads;                 /* num.network.threads, default 3 */
    int32_t max_request_size;        /* socket.request.max.bytes, default 104857600 */
    int64_t idle_ms;                 /* connections.max.idle.ms, default 600000; < 0 disables */
    size_t max_unsent_bytes;         /* back-pressure threshold, default 16 MiB */
    int max_inflight;                /* pipelined requests per connection before pausing reads, default 128 */
    int64_t stop_timeout_ms;         /* graceful-stop bound, default 5000 */
} sesp_net_config;

/* Fills the defaults above (listeners left NULL / 0).  Fields left 0 in a
 * config passed to sesp_net_start also take these defaults. */
void sesp_net_config_defaults(sesp_net_config *cfg);

/* Called on the connection's loop thread for each complete frame. `frame`
 * (without the 4-byte size) is malloc'ed and OWNED BY THE CALLEE (free() it
 * when done; never NULL, even when len is 0). `seq` identifies the response slot. The
 * callee must eventually call exactly one of sesp_conn_respond,
 * sesp_conn_respond_none or sesp_conn_close for this seq (possibly later,
 * asynchronously). */
typedef void (*sesp_net_request_cb)(sesp_conn *c, uint64_t seq, uint8_t *frame, size_t len, void *ud);

/* Binds every listener, starts the threads.  Fails (SESP_ERR_IO, errno set;
 * SESP_ERR_INVALID_ARG for a bad config) if a port can't be bound. */
int sesp_net_start(const sesp_net_config *cfg, sesp_net_request_cb cb, void *ud, sesp_net **out);
/* The port listener_index is bound to (useful with port 0), or -1. */
int sesp_net_bound_port(sesp_net *n, int listener_index);
/* Graceful: stops accepting and reading, lets in-flight requests be answered
 * and output flushed (bounded by stop_timeout_ms), closes, joins, frees.
 * Must not be called from a loop thread.  NULL is a no-op. */
void sesp_net_stop(sesp_net *n);

/* All of the following must be called on the connection's own loop thread
 * (the thread the callback ran on, or from an event scheduled on
 * sesp_conn_base(c)). */

/* Queues the response body for slot seq; `body` is an evbuffer holding
 * everything AFTER the 4-byte size (the net layer prepends the size). Takes
 * ownership of body (may contain file segments added with
 * evbuffer_add_file_segment: they are sent with sendfile, not copied). */
void sesp_conn_respond(sesp_conn *c, uint64_t seq, struct evbuffer *body);
/* A new, empty response body on which file segments stay file references all
 * the way to the socket, where they go out with sendfile(2).  (On a plain
 * evbuffer_new() buffer libevent maps or reads a segment when it is added.)
 * Such a body must only be appended to and handed to sesp_conn_respond, not
 * read back.  NULL on out-of-memory. */
struct evbuffer *sesp_net_body_new(void);
/* acks=0 produce: slot consumed, nothing sent. */
void sesp_conn_respond_none(sesp_conn *c, uint64_t seq);
/* Closes the connection after flushing the responses of slots before seq
 * (Kafka closes on an unsupported API/version). */
void sesp_conn_close(sesp_conn *c, uint64_t seq);
/* The connection's loop; usable (also after the peer disconnected) until
 * sesp_net_stop returns, never after. */
struct event_base *sesp_conn_base(sesp_conn *c);
/* Handlers that answer later (long-poll fetch) hold a reference so the conn
 * memory stays valid; after the peer disconnects, respond/close on it are
 * no-ops and sesp_conn_is_closed returns true.  ref/unref are thread-safe. */
void sesp_conn_ref(sesp_conn *c);
void sesp_conn_unref(sesp_conn *c);
bool sesp_conn_is_closed(sesp_conn *c);
/* "ip:port" of the peer, for logs. */
const char *sesp_conn_peer(sesp_conn *c);

/* Diagnostics for the layer's own messages (stderr): 0 = errors only,
 * 1 = info (default), 2 = debug.  Also read from SESP_NET_LOG at start. */
void sesp_net_set_log_level(int level);

#endif
