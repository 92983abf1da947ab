/*
 * The network layer's skeleton: binds the listeners, runs num.network.threads
 * libevent loops, accepts on the first loop and hands each socket round-robin
 * to a loop through a mutex-guarded queue plus an event activated across
 * threads, and stops gracefully (stop accepting, let every loop drain its
 * connections within a deadline, join).  Per-connection work is in conn.c.
 */
#include <assert.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/thread.h>

#include "broker/net/net_int.h"
#include "common/err.h"

#define NET_DEFAULT_THREADS 3
#define NET_DEFAULT_MAX_REQUEST 104857600
#define NET_DEFAULT_IDLE_MS 600000
#define NET_DEFAULT_MAX_UNSENT (16u * 1024 * 1024)
#define NET_DEFAULT_MAX_INFLIGHT 128
#define NET_DEFAULT_STOP_MS 5000
#define NET_MAX_THREADS 256
#define NET_MAX_INFLIGHT 65536
#define NET_BACKLOG 1024
#define NET_RELISTEN_MS 100

static atomic_int g_log_level = NET_LOG_INFO;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

void sesp_net_set_log_level(int level) { atomic_store(&g_log_level, level); }

void net_log(int level, const char *fmt, ...)
{
    if (level > atomic_load(&g_log_level))
        return;
    char line[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "sesp net: %s\n", line);
}

int64_t net_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void net_global_init(void)
{
    /* Bases and the cross-thread event_active calls need libevent's locks. */
    evthread_use_pthreads();
    const char *lv = getenv("SESP_NET_LOG");
    if (lv && *lv)
        sesp_net_set_log_level(atoi(lv));
}

void sesp_net_config_defaults(sesp_net_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->num_threads = NET_DEFAULT_THREADS;
    cfg->max_request_size = NET_DEFAULT_MAX_REQUEST;
    cfg->idle_ms = NET_DEFAULT_IDLE_MS;
    cfg->max_unsent_bytes = NET_DEFAULT_MAX_UNSENT;
    cfg->max_inflight = NET_DEFAULT_MAX_INFLIGHT;
    cfg->stop_timeout_ms = NET_DEFAULT_STOP_MS;
}

/* ---- accepting ---- */

static void net_wake_cb(evutil_socket_t unused, short what, void *arg)
{
    net_loop *l = arg;
    pthread_mutex_lock(&l->mu);
    int *fds = l->fds;
    size_t nfds = l->nfds;
    l->fds = NULL;
    l->nfds = l->capfds = 0;
    pthread_mutex_unlock(&l->mu);
    for (size_t i = 0; i < nfds; i++) {
        if (l->stopping)
            close(fds[i]);
        else
            net_conn_accept(l, fds[i]);
    }
    free(fds);
}

static void net_accept_cb(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *sa, int salen,
                          void *arg)
{
    sesp_net *n = arg;
    if (atomic_load(&n->stopping)) {
        close(fd);
        return;
    }
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
        net_log(NET_LOG_DEBUG, "TCP_NODELAY: %s", strerror(errno));
    /* Finds peers that vanished without a FIN (Kafka sets it too). */
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    net_loop *l = &n->loops[atomic_fetch_add(&n->rr, 1) % (unsigned)n->nloops];
    bool queued = false;
    pthread_mutex_lock(&l->mu);
    if (l->nfds == l->capfds) {
        size_t cap = l->capfds ? l->capfds * 2 : 16;
        int *p = realloc(l->fds, cap * sizeof *p);
        if (p) {
            l->fds = p;
            l->capfds = cap;
        }
    }
    if (l->nfds < l->capfds) {
        l->fds[l->nfds++] = fd;
        queued = true;
    }
    pthread_mutex_unlock(&l->mu);
    if (!queued) {
        net_log(NET_LOG_ERROR, "dropping an accepted connection: out of memory");
        close(fd);
        return;
    }
    event_active(l->wake_ev, EV_TIMEOUT, 0);
}

static void net_relisten_cb(evutil_socket_t unused, short what, void *arg)
{
    sesp_net *n = arg;
    if (atomic_load(&n->stopping))
        return;
    for (int i = 0; i < n->nls; i++)
        if (n->evls[i])
            evconnlistener_enable(n->evls[i]);
}

/* accept() failed for a reason other than a vanished peer (typically EMFILE):
 * a level-triggered listener would spin, so pause all listeners briefly. */
static void net_accept_error_cb(struct evconnlistener *evl, void *arg)
{
    sesp_net *n = arg;
    net_log(NET_LOG_ERROR, "accept: %s; pausing accepts for %d ms", strerror(EVUTIL_SOCKET_ERROR()),
            NET_RELISTEN_MS);
    for (int i = 0; i < n->nls; i++)
        if (n->evls[i])
            evconnlistener_disable(n->evls[i]);
    struct timeval tv = {0, NET_RELISTEN_MS * 1000};
    evtimer_add(n->relisten_ev, &tv);
}

/* Binds one listener; on success returns the listening socket and its port. */
static int net_bind_one(const sesp_net_listener *li, int *fd_out, int *port_out)
{
    const char *host = li->host[0] ? li->host : NULL;
    char port[16];
    snprintf(port, sizeof port, "%d", li->port);
    struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_NUMERICSERV, .ai_family = AF_UNSPEC,
                             .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    int gai = getaddrinfo(host, port, &hints, &res);
    if (gai != 0) {
        net_log(NET_LOG_ERROR, "listener %s:%d: %s", li->host, li->port, gai_strerror(gai));
        errno = EADDRNOTAVAIL;
        return SESP_ERR_IO;
    }
    /* With no host, prefer one dual-stack IPv6 socket (it takes IPv4 too),
     * falling back to IPv4 where IPv6 is unavailable. */
    int err = EADDRNOTAVAIL;
    int fd = -1;
    for (int pass = 0; pass < 2 && fd < 0; pass++) {
        for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next) {
            if (!host && (pass == 0) != (ai->ai_family == AF_INET6))
                continue;
            if (host && pass == 1)
                break;
            int s = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (s < 0) {
                err = errno;
                continue;
            }
            int one = 1, zero = 0;
            setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            if (ai->ai_family == AF_INET6 && !host)
                setsockopt(s, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero);
            if (bind(s, ai->ai_addr, ai->ai_addrlen) != 0 || listen(s, NET_BACKLOG) != 0) {
                err = errno;
                close(s);
                continue;
            }
            fd = s;
        }
    }
    freeaddrinfo(res);
    if (fd < 0) {
        net_log(NET_LOG_ERROR, "cannot listen on %s:%d: %s", li->host, li->port, strerror(err));
        errno = err;
        return SESP_ERR_IO;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0) {
        err = errno;
        close(fd);
        errno = err;
        return SESP_ERR_IO;
    }
    *port_out = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                              : ((struct sockaddr_in *)&ss)->sin_port);
    *fd_out = fd;
    return 0;
}

/* ---- loops and stopping ---- */

static void net_free_listeners(sesp_net *n)
{
    for (int i = 0; i < n->nls; i++) {
        if (n->evls[i])
            evconnlistener_free(n->evls[i]);
        n->evls[i] = NULL;
    }
    if (n->relisten_ev) {
        event_free(n->relisten_ev);
        n->relisten_ev = NULL;
    }
}

static void net_stop_timer_cb(evutil_socket_t unused, short what, void *arg)
{
    net_loop *l = arg;
    sesp_conn *c = l->conns;
    while (c) {
        sesp_conn *next = net_conn_next(c);
        net_conn_abort(c);
        c = next;
    }
    event_base_loopexit(l->base, NULL);
}

static void net_stop_cb(evutil_socket_t unused, short what, void *arg)
{
    net_loop *l = arg;
    sesp_net *n = l->net;
    l->stopping = true;
    if (l->idx == 0)
        net_free_listeners(n);
    net_wake_cb(-1, 0, l); /* closes sockets still queued for us */
    sesp_conn *c = l->conns;
    while (c) {
        sesp_conn *next = net_conn_next(c);
        net_conn_drain(c);
        c = next;
    }
    if (l->nconns == 0) {
        event_base_loopexit(l->base, NULL);
        return;
    }
    int64_t ms = n->cfg.stop_timeout_ms;
    struct timeval tv = {.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};
    evtimer_add(l->stop_timer, &tv);
}

static void *net_loop_main(void *arg)
{
    net_loop *l = arg;
    l->self = pthread_self();
    if (event_base_loop(l->base, EVLOOP_NO_EXIT_ON_EMPTY) < 0)
        net_log(NET_LOG_ERROR, "loop %d failed", l->idx);
    return NULL;
}

static void net_free(sesp_net *n)
{
    net_free_listeners(n);
    for (int i = 0; i < n->nloops; i++) {
        net_loop *l = &n->loops[i];
        assert(!l->thr_started);
        for (size_t k = 0; k < l->nfds; k++)
            close(l->fds[k]);
        free(l->fds);
        /* A loop that never ran its stop event may still own connections. */
        while (l->conns)
            net_conn_abort(l->conns);
        if (l->wake_ev)
            event_free(l->wake_ev);
        if (l->stop_ev)
            event_free(l->stop_ev);
        if (l->stop_timer)
            event_free(l->stop_timer);
        if (l->base)
            event_base_free(l->base);
        pthread_mutex_destroy(&l->mu);
    }
    free(n->loops);
    free(n->evls);
    free(n->bound_ports);
    free(n->listeners);
    free(n);
}

static void net_join(sesp_net *n)
{
    atomic_store(&n->stopping, true);
    for (int i = 0; i < n->nloops; i++)
        if (n->loops[i].thr_started)
            event_active(n->loops[i].stop_ev, EV_TIMEOUT, 0);
    for (int i = 0; i < n->nloops; i++) {
        if (n->loops[i].thr_started) {
            pthread_join(n->loops[i].thr, NULL);
            n->loops[i].thr_started = false;
        }
    }
}

int sesp_net_start(const sesp_net_config *cfg, sesp_net_request_cb cb, void *ud, sesp_net **out)
{
    int rc = 0;
    *out = NULL;
    if (!cfg || !cb || cfg->num_listeners < 0 || (cfg->num_listeners > 0 && !cfg->listeners))
        return SESP_ERR_INVALID_ARG;
    pthread_once(&g_once, net_global_init);
    sesp_net *n = calloc(1, sizeof *n);
    if (!n)
        return SESP_ERR_NOMEM;
    sesp_net_config d;
    sesp_net_config_defaults(&d);
    n->cfg = *cfg;
    if (n->cfg.num_threads <= 0)
        n->cfg.num_threads = d.num_threads;
    if (n->cfg.num_threads > NET_MAX_THREADS)
        n->cfg.num_threads = NET_MAX_THREADS;
    if (n->cfg.max_request_size <= 0)
        n->cfg.max_request_size = d.max_request_size;
    if (n->cfg.idle_ms == 0)
        n->cfg.idle_ms = d.idle_ms;
    if (n->cfg.max_unsent_bytes == 0)
        n->cfg.max_unsent_bytes = d.max_unsent_bytes;
    if (n->cfg.max_inflight <= 0)
        n->cfg.max_inflight = d.max_inflight;
    if (n->cfg.max_inflight > NET_MAX_INFLIGHT)
        n->cfg.max_inflight = NET_MAX_INFLIGHT;
    if (n->cfg.stop_timeout_ms <= 0)
        n->cfg.stop_timeout_ms = d.stop_timeout_ms;
    n->cb = cb;
    n->ud = ud;
    n->nls = cfg->num_listeners;
    n->nloops = n->cfg.num_threads;
    atomic_init(&n->rr, 0);
    atomic_init(&n->stopping, false);
    n->listeners = calloc((size_t)n->nls + 1, sizeof *n->listeners);
    n->bound_ports = calloc((size_t)n->nls + 1, sizeof *n->bound_ports);
    n->evls = calloc((size_t)n->nls + 1, sizeof *n->evls);
    n->loops = calloc((size_t)n->nloops, sizeof *n->loops);
    if (!n->listeners || !n->bound_ports || !n->evls || !n->loops) {
        free(n->listeners);
        free(n->bound_ports);
        free(n->evls);
        free(n->loops);
        free(n);
        return SESP_ERR_NOMEM;
    }
    memcpy(n->listeners, cfg->listeners, (size_t)n->nls * sizeof *n->listeners);
    n->cfg.listeners = n->listeners;
    for (int i = 0; i < n->nloops; i++) {
        net_loop *l = &n->loops[i];
        l->net = n;
        l->idx = i;
        pthread_mutex_init(&l->mu, NULL);
        l->base = event_base_new();
        if (!l->base || !(l->wake_ev = event_new(l->base, -1, 0, net_wake_cb, l)) ||
            !(l->stop_ev = event_new(l->base, -1, 0, net_stop_cb, l)) ||
            !(l->stop_timer = evtimer_new(l->base, net_stop_timer_cb, l))) {
            rc = SESP_ERR_NOMEM;
            goto out;
        }
    }
    if (!(n->relisten_ev = evtimer_new(n->loops[0].base, net_relisten_cb, n))) {
        rc = SESP_ERR_NOMEM;
        goto out;
    }
    for (int i = 0; i < n->nls; i++) {
        int fd;
        if ((rc = net_bind_one(&n->listeners[i], &fd, &n->bound_ports[i])) != 0)
            goto out;
        n->evls[i] = evconnlistener_new(n->loops[0].base, net_accept_cb, n, LEV_OPT_CLOSE_ON_FREE, -1, fd);
        if (!n->evls[i]) {
            close(fd);
            rc = SESP_ERR_NOMEM;
            goto out;
        }
        evconnlistener_set_error_cb(n->evls[i], net_accept_error_cb);
        net_log(NET_LOG_INFO, "listening on %s:%d", n->listeners[i].host[0] ? n->listeners[i].host : "*",
                n->bound_ports[i]);
    }
    /* Loop threads take no process signals: SIGPIPE from a write to a reset
     * socket becomes EPIPE, and SIGINT/SIGTERM go to the application's thread. */
    sigset_t block, old;
    sigemptyset(&block);
    int sigs[] = {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD, SIGALRM};
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaddset(&block, sigs[i]);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    for (int i = 0; i < n->nloops; i++) {
        int e = pthread_create(&n->loops[i].thr, NULL, net_loop_main, &n->loops[i]);
        if (e != 0) {
            errno = e;
            rc = SESP_ERR_IO;
            break;
        }
        n->loops[i].thr_started = true;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
out:
    if (rc != 0) {
        int e = errno;
        net_join(n);
        net_free(n);
        errno = e;
        return rc;
    }
    *out = n;
    return 0;
}

int sesp_net_bound_port(sesp_net *n, int listener_index)
{
    if (!n || listener_index < 0 || listener_index >= n->nls)
        return -1;
    return n->bound_ports[listener_index];
}

void sesp_net_stop(sesp_net *n)
{
    if (!n)
        return;
    net_join(n);
    net_free(n);
}
