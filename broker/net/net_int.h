/*
 * Internals shared by net.c (listeners, acceptor, loop threads, stop) and
 * conn.c (one connection's framing, ordered responses, back-pressure, idle
 * close).  Not part of the public surface; include only from broker/net.
 */
#ifndef SESP_NET_INT_H
#define SESP_NET_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "broker/net/net.h"

struct evconnlistener;

typedef struct net_loop {
    sesp_net *net;
    int idx;
    struct event_base *base;
    pthread_t thr;
    bool thr_started;
    pthread_t self;               /* set by the loop thread itself, for assertions */
    pthread_mutex_t mu;           /* guards fds: accepted sockets waiting for this loop */
    int *fds;
    size_t nfds, capfds;
    struct event *wake_ev;        /* activated (thread-safely) when fds has work */
    struct event *stop_ev;        /* activated by sesp_net_stop */
    struct event *stop_timer;     /* bounds the graceful drain */
    /* Loop-thread only below. */
    bool stopping;
    sesp_conn *conns;
    size_t nconns;
} net_loop;

struct sesp_net {
    sesp_net_config cfg;          /* with defaults applied; listeners points at our copy */
    sesp_net_listener *listeners;
    int *bound_ports;
    struct evconnlistener **evls; /* on loops[0]; freed by its thread at stop */
    int nls;
    struct event *relisten_ev;    /* re-enables accepting after EMFILE and the like */
    sesp_net_request_cb cb;
    void *ud;
    net_loop *loops;
    int nloops;
    atomic_uint rr;
    atomic_bool stopping;
};

/* Levels for net_log. */
enum { NET_LOG_ERROR = 0, NET_LOG_INFO = 1, NET_LOG_DEBUG = 2 };
void net_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

int64_t net_now_ms(void);

/* conn.c: all on the loop's thread. */
/* Wraps an accepted, non-blocking socket; closes fd on failure. */
void net_conn_accept(net_loop *l, int fd);
/* Graceful stop began: stop reading; close once in-flight answers are flushed. */
void net_conn_drain(sesp_conn *c);
/* Stop timeout: close right away, dropping unsent output. */
void net_conn_abort(sesp_conn *c);
sesp_conn *net_conn_next(sesp_conn *c);

#endif
