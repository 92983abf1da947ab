/*
 * One client connection: cuts Kafka frames (4-byte big-endian size, then the
 * body) out of the bufferevent's input, numbers them and hands them to the
 * request callback; keeps a ring of response slots so answers that arrive out
 * of order are still written in request order; pauses reading while too many
 * requests are in flight or too much output is unsent; closes idle
 * connections; and implements the two ways a connection ends gracefully (a
 * handler asked to close after some slot, or the whole layer is stopping).
 * A large frame (a produce request) is read from the socket straight into
 * the buffer handed to the callback rather than through the bufferevent's
 * input, which would cost one more copy of every byte plus its buffer chains.
 * Everything here runs on the connection's loop thread except ref/unref.
 */
#include <assert.h>
#include <pthread.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "broker/net/net_int.h"

enum { SLOT_FREE, SLOT_PENDING, SLOT_READY, SLOT_NONE, SLOT_CLOSE };

typedef struct conn_slot {
    int state;
    struct evbuffer *body;   /* SLOT_READY only */
} conn_slot;

/* Socket reads per readiness event; larger than libevent's 4 KiB default so a
 * big produce request does not cost thousands of callbacks. */
#define CONN_MAX_SINGLE_READ (256 * 1024)
/* Frames at least this large that are not yet wholly buffered are read
 * directly into their own buffer. */
#define CONN_DIRECT_MIN (64 * 1024)
/* Bytes read directly per readiness event, so one connection streaming a
 * huge frame does not starve the others on its loop. */
#define CONN_DIRECT_MAX_PER_EVENT (8 * 1024 * 1024)
/* Bytes discarded before a graceful close so unread input does not turn the
 * close into a reset that could destroy responses still in flight to the peer. */
#define CONN_LINGER_DRAIN (1024 * 1024)

struct sesp_conn {
    net_loop *loop;
    struct bufferevent *bev;
    struct event *kick_ev;   /* deferred work: parse buffered input, or finish a close */
    struct event *idle_ev;
    struct event *rx_ev;     /* EV_READ on the socket while a frame is read directly */
    uint8_t *rx_frame;       /* the frame being read directly, NULL otherwise */
    size_t rx_len, rx_got;
    atomic_int refs;         /* the loop's reference while open, plus handlers' */
    atomic_bool closed;
    bool closing;            /* a SLOT_CLOSE reached the head: flush, then close */
    bool draining;           /* layer stopping: answer what is in flight, then close */
    bool close_asked;        /* some slot is SLOT_CLOSE: dispatch nothing after it */
    bool paused;             /* EV_READ disabled for back-pressure */
    bool in_input;           /* parse_input is on the stack */
    size_t read_low;         /* current read low watermark */
    uint64_t next_seq;       /* seq of the next frame to dispatch */
    uint64_t write_seq;      /* oldest slot not yet written */
    conn_slot *slots;        /* ring of max_inflight slots indexed by seq */
    size_t nslots;
    int64_t last_active_ms;
    sesp_conn *prev, *next;  /* loop->conns */
    char peer[INET6_ADDRSTRLEN + 16];
};

static void conn_close_now(sesp_conn *c, bool graceful);

static const sesp_net_config *conn_cfg(const sesp_conn *c) { return &c->loop->net->cfg; }

static bool conn_over_limits(sesp_conn *c)
{
    const sesp_net_config *cfg = conn_cfg(c);
    if (c->next_seq - c->write_seq >= c->nslots)
        return true;
    return evbuffer_get_length(bufferevent_get_output(c->bev)) > cfg->max_unsent_bytes;
}

/* Whether the connection has nothing left to send and may now be closed. */
static bool conn_may_finish(sesp_conn *c)
{
    if (!c->closing && !(c->draining && c->write_seq == c->next_seq))
        return false;
    return evbuffer_get_length(bufferevent_get_output(c->bev)) == 0;
}

static void conn_kick(sesp_conn *c) { event_active(c->kick_ev, EV_TIMEOUT, 0); }

/* Turns reading on or off to match limits and state.  Resuming never parses
 * synchronously (that could re-enter the request callback from inside a
 * handler's sesp_conn_respond); it schedules the kick instead. */
static void conn_update_read(sesp_conn *c)
{
    bool want = !c->closing && !c->draining && !c->close_asked && !c->rx_frame && !conn_over_limits(c);
    if (want && c->paused) {
        c->paused = false;
        bufferevent_enable(c->bev, EV_READ);
        if (evbuffer_get_length(bufferevent_get_input(c->bev)) >= 4)
            conn_kick(c);
    } else if (!want && !c->paused) {
        c->paused = true;
        bufferevent_disable(c->bev, EV_READ);
    }
}

static void conn_set_read_low(sesp_conn *c, size_t low)
{
    if (c->read_low != low) {
        c->read_low = low;
        bufferevent_setwatermark(c->bev, EV_READ, low, 0);
    }
}

/* Gives one whole frame (ownership included) to the request callback. */
static void conn_dispatch(sesp_conn *c, uint8_t *frame, size_t size)
{
    sesp_net *n = c->loop->net;
    uint64_t seq = c->next_seq++;
    conn_slot *s = &c->slots[seq % c->nslots];
    assert(s->state == SLOT_FREE);
    s->state = SLOT_PENDING;
    c->last_active_ms = net_now_ms();
    n->cb(c, seq, frame, size, n->ud);
}

/* Drops a frame being read directly and stops reading it. */
static void conn_rx_stop(sesp_conn *c)
{
    if (c->rx_ev)
        event_del(c->rx_ev);
    free(c->rx_frame);
    c->rx_frame = NULL;
    c->rx_len = c->rx_got = 0;
}

/* Socket readable while a large frame is read directly into its buffer. */
static void conn_rx_cb(evutil_socket_t fd, short what, void *arg)
{
    sesp_conn *c = arg;
    (void)what;
    if (atomic_load(&c->closed) || !c->rx_frame)
        return;
    size_t budget = CONN_DIRECT_MAX_PER_EVENT;
    while (c->rx_got < c->rx_len && budget > 0) {
        size_t want = c->rx_len - c->rx_got;
        if (want > budget)
            want = budget;
        ssize_t r = recv(fd, c->rx_frame + c->rx_got, want, 0);
        if (r > 0) {
            c->rx_got += (size_t)r;
            budget -= (size_t)r;
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (r == 0)
            net_log(NET_LOG_DEBUG, "%s disconnected in the middle of a request", c->peer);
        else
            net_log(NET_LOG_DEBUG, "%s: socket error: %s", c->peer, strerror(errno));
        conn_close_now(c, false);
        return;
    }
    c->last_active_ms = net_now_ms();
    if (c->rx_got < c->rx_len)
        return;
    uint8_t *frame = c->rx_frame;
    size_t len = c->rx_len;
    c->rx_frame = NULL;
    c->rx_len = c->rx_got = 0;
    event_del(c->rx_ev);
    if (c->closing || c->draining || c->close_asked) {
        free(frame);
        return;
    }
    sesp_conn_ref(c);
    conn_dispatch(c, frame, len);
    /* Back to the bufferevent for what follows (the handler may already have
     * resumed it through sesp_conn_respond). */
    if (!atomic_load(&c->closed))
        conn_update_read(c);
    sesp_conn_unref(c);
}

/* Dispatches every complete frame in the input while limits allow. */
static void conn_parse_input(sesp_conn *c)
{
    if (c->in_input)
        return;
    c->in_input = true;
    sesp_conn_ref(c);
    sesp_net *n = c->loop->net;
    struct evbuffer *in = bufferevent_get_input(c->bev);
    while (!atomic_load(&c->closed) && !c->closing && !c->draining && !c->close_asked && !c->rx_frame) {
        if (conn_over_limits(c)) {
            conn_update_read(c);
            break;
        }
        size_t avail = evbuffer_get_length(in);
        if (avail < 4) {
            conn_set_read_low(c, 0);
            break;
        }
        uint8_t hdr[4];
        evbuffer_copyout(in, hdr, 4);
        int32_t size = (int32_t)((uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 |
                                 (uint32_t)hdr[2] << 8 | hdr[3]);
        if (size < 0 || size > n->cfg.max_request_size) {
            net_log(NET_LOG_INFO, "closing %s: request size %d outside [0, %d]", c->peer, size,
                    n->cfg.max_request_size);
            conn_close_now(c, false);
            break;
        }
        bool direct = avail - 4 < (size_t)size && size >= CONN_DIRECT_MIN;
        if (avail - 4 < (size_t)size && !direct) {
            /* Wake only once the whole frame is here. */
            conn_set_read_low(c, 4 + (size_t)size);
            break;
        }
        conn_set_read_low(c, 0);
        uint8_t *frame = malloc(size ? (size_t)size : 1);
        if (!frame) {
            net_log(NET_LOG_ERROR, "closing %s: out of memory for a %d-byte request", c->peer, size);
            conn_close_now(c, false);
            break;
        }
        evbuffer_drain(in, 4);
        if (direct) {
            /* The input holds no more than this frame's start: move it over
             * and read the rest from the socket in conn_rx_cb. */
            c->rx_got = avail - 4;
            int got = evbuffer_remove(in, frame, c->rx_got);
            assert(got >= 0 && (size_t)got == c->rx_got);
            (void)got;
            c->rx_frame = frame;
            c->rx_len = (size_t)size;
            conn_update_read(c);
            event_add(c->rx_ev, NULL);
            break;
        }
        int got = evbuffer_remove(in, frame, (size_t)size);
        assert(got == size);
        (void)got;
        conn_dispatch(c, frame, (size_t)size);
    }
    c->in_input = false;
    sesp_conn_unref(c);
}

/* Writes answered slots at the head of the ring, in order. */
static void conn_pump(sesp_conn *c)
{
    struct evbuffer *out = bufferevent_get_output(c->bev);
    while (c->write_seq < c->next_seq) {
        conn_slot *s = &c->slots[c->write_seq % c->nslots];
        if (s->state == SLOT_PENDING)
            break;
        if (s->state == SLOT_CLOSE) {
            c->closing = true;
            break;
        }
        if (s->state == SLOT_READY) {
            size_t len = evbuffer_get_length(s->body);
            uint8_t hdr[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};
            if (len > INT32_MAX || evbuffer_add(out, hdr, 4) != 0 || evbuffer_add_buffer(out, s->body) != 0) {
                net_log(NET_LOG_ERROR, "closing %s: cannot queue a %zu-byte response", c->peer, len);
                evbuffer_free(s->body);
                s->body = NULL;
                s->state = SLOT_FREE;
                c->write_seq++;
                c->closing = true;
                break;
            }
            evbuffer_free(s->body);
            s->body = NULL;
        }
        s->state = SLOT_FREE;
        c->write_seq++;
        c->last_active_ms = net_now_ms();
    }
    conn_update_read(c);
    if (conn_may_finish(c))
        conn_kick(c);
}

static void conn_kick_cb(evutil_socket_t fd, short what, void *arg)
{
    sesp_conn *c = arg;
    if (atomic_load(&c->closed))
        return;
    if (conn_may_finish(c))
        conn_close_now(c, true);
    else
        conn_parse_input(c);
}

static void conn_read_cb(struct bufferevent *bev, void *arg)
{
    sesp_conn *c = arg;
    c->last_active_ms = net_now_ms();
    conn_parse_input(c);
}

static void conn_write_cb(struct bufferevent *bev, void *arg)
{
    sesp_conn *c = arg;
    c->last_active_ms = net_now_ms();
    if (conn_may_finish(c))
        conn_close_now(c, true);
    else
        conn_update_read(c);
}

static void conn_event_cb(struct bufferevent *bev, short what, void *arg)
{
    sesp_conn *c = arg;
    if (what & BEV_EVENT_EOF)
        net_log(NET_LOG_DEBUG, "%s disconnected", c->peer);
    else if (what & BEV_EVENT_ERROR)
        net_log(NET_LOG_DEBUG, "%s: socket error: %s", c->peer, strerror(EVUTIL_SOCKET_ERROR()));
    conn_close_now(c, false);
}

static void conn_idle_arm(sesp_conn *c, int64_t ms)
{
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(c->idle_ev, &tv);
}

static void conn_idle_cb(evutil_socket_t fd, short what, void *arg)
{
    sesp_conn *c = arg;
    int64_t idle_ms = conn_cfg(c)->idle_ms;
    if (atomic_load(&c->closed))
        return;
    bool busy = c->write_seq != c->next_seq ||
                evbuffer_get_length(bufferevent_get_output(c->bev)) > 0;
    int64_t quiet = net_now_ms() - c->last_active_ms;
    if (busy) {
        conn_idle_arm(c, idle_ms);
    } else if (quiet < idle_ms) {
        conn_idle_arm(c, idle_ms - quiet);
    } else {
        net_log(NET_LOG_DEBUG, "closing %s: idle for %lld ms", c->peer, (long long)quiet);
        conn_close_now(c, true);
    }
}

static void conn_free_slots(sesp_conn *c)
{
    for (size_t i = 0; i < c->nslots; i++)
        if (c->slots[i].body)
            evbuffer_free(c->slots[i].body);
    free(c->slots);
    c->slots = NULL;
}

/* Ends the connection and drops the loop's reference.  Only from libevent
 * callbacks (never inside a public call) so a handler's pointer stays valid
 * for the rest of its call even when it holds no reference. */
static void conn_close_now(sesp_conn *c, bool graceful)
{
    if (atomic_exchange(&c->closed, true))
        return;
    net_loop *l = c->loop;
    evutil_socket_t fd = bufferevent_getfd(c->bev);
    if (graceful && fd >= 0) {
        shutdown(fd, SHUT_WR);
        char sink[4096];
        size_t drained = 0;
        while (drained < CONN_LINGER_DRAIN) {
            ssize_t r = recv(fd, sink, sizeof sink, MSG_DONTWAIT);
            if (r <= 0)
                break;
            drained += (size_t)r;
        }
    }
    conn_rx_stop(c);
    if (c->rx_ev) {
        event_free(c->rx_ev);
        c->rx_ev = NULL;
    }
    bufferevent_free(c->bev);
    c->bev = NULL;
    event_free(c->kick_ev);
    c->kick_ev = NULL;
    if (c->idle_ev) {
        event_free(c->idle_ev);
        c->idle_ev = NULL;
    }
    conn_free_slots(c);
    if (c->prev)
        c->prev->next = c->next;
    else
        l->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    l->nconns--;
    if (l->stopping && l->nconns == 0)
        event_base_loopexit(l->base, NULL);
    sesp_conn_unref(c);
}

void net_conn_accept(net_loop *l, int fd)
{
    const sesp_net_config *cfg = &l->net->cfg;
    sesp_conn *c = calloc(1, sizeof *c);
    if (!c)
        goto fail;
    c->nslots = (size_t)cfg->max_inflight;
    c->slots = calloc(c->nslots, sizeof *c->slots);
    if (!c->slots)
        goto fail;
    c->loop = l;
    atomic_init(&c->refs, 1);
    atomic_init(&c->closed, false);
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    char host[INET6_ADDRSTRLEN], port[8];
    if (getpeername(fd, (struct sockaddr *)&ss, &sl) == 0 &&
        getnameinfo((struct sockaddr *)&ss, sl, host, sizeof host, port, sizeof port,
                    NI_NUMERICHOST | NI_NUMERICSERV) == 0)
        snprintf(c->peer, sizeof c->peer, ss.ss_family == AF_INET6 ? "[%s]:%s" : "%s:%s", host, port);
    else
        snprintf(c->peer, sizeof c->peer, "fd %d", fd);
    c->bev = bufferevent_socket_new(l->base, fd, BEV_OPT_CLOSE_ON_FREE);
    if (!c->bev)
        goto fail;
    c->rx_ev = event_new(l->base, fd, EV_READ | EV_PERSIST, conn_rx_cb, c);
    fd = -1; /* owned by the bufferevent now */
    c->kick_ev = event_new(l->base, -1, 0, conn_kick_cb, c);
    if (!c->kick_ev || !c->rx_ev)
        goto fail;
    if (cfg->idle_ms > 0 && !(c->idle_ev = evtimer_new(l->base, conn_idle_cb, c)))
        goto fail;
    bufferevent_setcb(c->bev, conn_read_cb, conn_write_cb, conn_event_cb, c);
    bufferevent_setwatermark(c->bev, EV_WRITE, cfg->max_unsent_bytes / 2, 0);
    bufferevent_set_max_single_read(c->bev, CONN_MAX_SINGLE_READ);
    if (bufferevent_enable(c->bev, EV_READ | EV_WRITE) != 0)
        goto fail;
    c->last_active_ms = net_now_ms();
    if (c->idle_ev)
        conn_idle_arm(c, cfg->idle_ms);
    c->next = l->conns;
    if (l->conns)
        l->conns->prev = c;
    l->conns = c;
    l->nconns++;
    net_log(NET_LOG_DEBUG, "accepted %s on loop %d", c->peer, l->idx);
    return;
fail:
    net_log(NET_LOG_ERROR, "dropping an accepted connection: out of memory");
    if (c) {
        if (c->rx_ev)
            event_free(c->rx_ev);
        if (c->idle_ev)
            event_free(c->idle_ev);
        if (c->kick_ev)
            event_free(c->kick_ev);
        if (c->bev)
            bufferevent_free(c->bev);
        free(c->slots);
        free(c);
    }
    if (fd >= 0)
        close(fd);
}

void net_conn_drain(sesp_conn *c)
{
    c->draining = true;
    conn_rx_stop(c); /* a request still arriving is not in flight */
    conn_update_read(c);
    if (conn_may_finish(c))
        conn_close_now(c, true);
}

void net_conn_abort(sesp_conn *c)
{
    net_log(NET_LOG_INFO, "closing %s: stop timeout with %llu request(s) unanswered", c->peer,
            (unsigned long long)(c->next_seq - c->write_seq));
    conn_close_now(c, false);
}

sesp_conn *net_conn_next(sesp_conn *c) { return c->next; }

/* Marks slot seq with a final state; shared by the three public answers. */
static void conn_settle(sesp_conn *c, uint64_t seq, int state, struct evbuffer *body)
{
    if (atomic_load(&c->closed)) {
        if (body)
            evbuffer_free(body);
        return;
    }
    assert(pthread_equal(pthread_self(), c->loop->self)); /* answered off the conn's loop thread */
    assert(seq >= c->write_seq && seq < c->next_seq);     /* answered twice, or never issued */
    conn_slot *s = &c->slots[seq % c->nslots];
    assert(s->state == SLOT_PENDING);
    s->state = state;
    s->body = body;
    if (state == SLOT_CLOSE) {
        c->close_asked = true;
        conn_update_read(c);
    }
    if (seq == c->write_seq)
        conn_pump(c);
}

void sesp_conn_respond(sesp_conn *c, uint64_t seq, struct evbuffer *body)
{
    assert(body);
    conn_settle(c, seq, SLOT_READY, body);
}

void sesp_conn_respond_none(sesp_conn *c, uint64_t seq) { conn_settle(c, seq, SLOT_NONE, NULL); }

void sesp_conn_close(sesp_conn *c, uint64_t seq) { conn_settle(c, seq, SLOT_CLOSE, NULL); }

struct event_base *sesp_conn_base(sesp_conn *c) { return c->loop->base; }

void sesp_conn_ref(sesp_conn *c) { atomic_fetch_add(&c->refs, 1); }

void sesp_conn_unref(sesp_conn *c)
{
    if (atomic_fetch_sub(&c->refs, 1) == 1) {
        assert(atomic_load(&c->closed));
        free(c);
    }
}

bool sesp_conn_is_closed(sesp_conn *c) { return atomic_load(&c->closed); }

const char *sesp_conn_peer(sesp_conn *c) { return c->peer; }

struct evbuffer *sesp_net_body_new(void)
{
    struct evbuffer *b = evbuffer_new();
    if (b)
        evbuffer_set_flags(b, EVBUFFER_FLAG_DRAINS_TO_FD);
    return b;
}
