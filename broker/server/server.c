/*
 * The broker server's lifecycle: start (data directories, meta.properties,
 * topic registry with log recovery, API table, listeners), periodic
 * retention/flush/producer expiry, and graceful stop in the order that lets every in-flight
 * request finish before the logs are closed.
 */
#include "server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"

static int mkdirs(const char *path)
{
    char tmp[4096];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof tmp)
        return SESP_ERR_INVALID_ARG;
    memcpy(tmp, path, len + 1);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return SESP_ERR_IO;
            *p = '/';
        }
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return SESP_ERR_IO;
    return 0;
}

int sesp_server_bound_port(sesp_server *s, int i)
{
    return s->net ? sesp_net_bound_port(s->net, i) : -1;
}

int sesp_server_start(sesp_config *cfg, sesp_server_ext_fn ext, void *ext_ud, sesp_server **out, char *err,
                      size_t errlen)
{
    int rc;
    sesp_server *s = calloc(1, sizeof *s);
    sesp_net_listener *ls = NULL;
    if (!s)
        return SESP_ERR_NOMEM;
    s->cfg = cfg;
    s->node_id = cfg->node_id;
    sesp_fetch_reset();
    for (int i = 0; i < cfg->num_log_dirs; i++) {
        if ((rc = mkdirs(cfg->log_dirs[i]))) {
            snprintf(err, errlen, "cannot create log directory %s: %s", cfg->log_dirs[i], strerror(errno));
            goto fail;
        }
    }
    if ((rc = sesp_server_load_meta(cfg->log_dirs[0], s->node_id, s->cluster_id, sizeof s->cluster_id))) {
        snprintf(err, errlen, "cannot read or write %s/meta.properties: %s", cfg->log_dirs[0], sesp_strerror(rc));
        goto fail;
    }
    /* Every data dir records the cluster id; one from another cluster is
     * refused, as Kafka does. */
    for (int i = 1; i < cfg->num_log_dirs; i++) {
        char other[sizeof s->cluster_id];
        memcpy(other, s->cluster_id, sizeof other);
        if ((rc = sesp_server_load_meta(cfg->log_dirs[i], s->node_id, other, sizeof other))) {
            snprintf(err, errlen, "cannot read or write %s/meta.properties: %s", cfg->log_dirs[i],
                     sesp_strerror(rc));
            goto fail;
        }
        if (strcmp(other, s->cluster_id) != 0) {
            snprintf(err, errlen, "log dir %s belongs to cluster %s, not %s", cfg->log_dirs[i], other,
                     s->cluster_id);
            rc = SESP_ERR_INVALID_ARG;
            goto fail;
        }
    }
    if ((rc = sesp_topics_open(cfg, &s->topics, err, errlen)))
        goto fail;
    sesp_server_init_apis(s);
    if (ext && (rc = ext(s, ext_ud, err, errlen)))
        goto fail;

    ls = calloc((size_t)cfg->num_listeners, sizeof *ls);
    if (!ls) {
        rc = SESP_ERR_NOMEM;
        goto fail;
    }
    for (int i = 0; i < cfg->num_listeners; i++) {
        memcpy(ls[i].host, cfg->listeners[i].host, sizeof ls[i].host);
        ls[i].port = cfg->listeners[i].port;
    }
    sesp_net_config nc;
    sesp_net_config_defaults(&nc);
    nc.listeners = ls;
    nc.num_listeners = cfg->num_listeners;
    nc.num_threads = cfg->num_network_threads;
    nc.max_request_size = cfg->socket_request_max_bytes;
    nc.idle_ms = cfg->connections_max_idle_ms;
    nc.max_inflight = cfg->queued_max_requests < 128 ? cfg->queued_max_requests : 128;
    if ((rc = sesp_net_start(&nc, sesp_server_on_request, s, &s->net))) {
        snprintf(err, errlen, "cannot listen on %s:%d: %s", cfg->listeners[0].host, cfg->listeners[0].port,
                 rc == SESP_ERR_IO ? strerror(errno) : sesp_strerror(rc));
        goto fail;
    }
    free(ls);
    ls = NULL;

    /* What clients are told: the first advertised listener; port 0 means
     * "the port we were given", host "" / 0.0.0.0 this machine's name. */
    const sesp_config_listener *adv = &cfg->advertised[0];
    if (!adv->host[0] || strcmp(adv->host, "0.0.0.0") == 0 || strcmp(adv->host, "::") == 0) {
        if (gethostname(s->adv_host, sizeof s->adv_host - 1) != 0 || !s->adv_host[0])
            snprintf(s->adv_host, sizeof s->adv_host, "localhost");
    } else {
        memcpy(s->adv_host, adv->host, sizeof s->adv_host);
    }
    s->adv_port = adv->port;
    if (s->adv_port == 0) {
        int idx = 0;
        for (int i = 0; i < cfg->num_listeners; i++)
            if (strcmp(cfg->listeners[i].name, adv->name) == 0)
                idx = i;
        s->adv_port = sesp_net_bound_port(s->net, idx);
    }
    *out = s;
    return 0;
fail:
    free(ls);
    if (s->ext_stop)
        s->ext_stop(s);
    sesp_topics_close(s->topics);
    free(s);
    return rc;
}

void sesp_server_tick(sesp_server *s, int64_t now_ms, bool retention)
{
    if (retention)
        sesp_topics_apply_retention(s->topics, now_ms);
    sesp_topics_flush_time(s->topics, now_ms);
}

void sesp_server_expire_producers(sesp_server *s, int64_t now_ms)
{
    sesp_topics_expire_producers(s->topics, now_ms, s->cfg->producer_id_expiration_ms);
}

void sesp_server_stop(sesp_server *s)
{
    if (!s)
        return;
    sesp_fetch_wake_all();
    /* Modules answer what they hold while the loops still deliver it. */
    if (s->ext_stop)
        s->ext_stop(s);
    sesp_net_stop(s->net);
    s->net = NULL;
    sesp_topics_close(s->topics);
    free(s);
}
