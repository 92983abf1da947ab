/*
 * `sesp broker`: parses the configuration (--config FILE, --set key=value),
 * starts the server, runs the periodic retention / flush / producer-expiry
 * timer on the main thread and shuts down gracefully on SIGTERM/SIGINT (in-flight requests
 * answered, logs closed cleanly, exit 0).
 */
#include "broker.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "broker/admin/admin.h"
#include "broker/log/cleaner.h"
#include "broker/producer/producer.h"
#include "broker/server/config.h"
#include "broker/server/server.h"
#include "common/err.h"

typedef struct main_state {
    sesp_server *srv;
    struct event_base *base;
    int64_t retention_every_ms, last_retention;
    int64_t pid_expiry_every_ms, last_pid_expiry;
} main_state;

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    main_state *m = arg;
    fprintf(stderr, "sesp broker: %s, shutting down\n", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    event_base_loopbreak(m->base);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    main_state *m = arg;
    int64_t now = sesp_server_now_ms();
    bool retention = now - m->last_retention >= m->retention_every_ms;
    if (retention)
        m->last_retention = now;
    sesp_server_tick(m->srv, now, retention);
    /* Producer ids expire on their own interval, as in Kafka. */
    if (now - m->last_pid_expiry >= m->pid_expiry_every_ms) {
        m->last_pid_expiry = now;
        sesp_server_expire_producers(m->srv, now);
    }
}

/* The modules beyond the core APIs: admin APIs and consumer groups. */
static int attach_modules(sesp_server *s, void *ud, char *err, size_t errlen)
{
    (void)ud;
    int rc = sesp_producer_register(s);
    if (rc) {
        snprintf(err, errlen, "cannot register InitProducerId: %s", sesp_strerror(rc));
        return rc;
    }
    rc = sesp_admin_register(s);
    if (rc) {
        snprintf(err, errlen, "cannot register the admin APIs: %s", sesp_strerror(rc));
        return rc;
    }
    return sesp_server_attach_groups(s, err, errlen);
}

static int parse_args(sesp_config *cfg, int argc, char **argv)
{
    char err[512];
    /* The file first, then every --set in order, whatever the argv order. */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            sesp_config_usage(stdout);
            return 1;
        }
        if (strcmp(a, "--config") == 0 || strncmp(a, "--config=", 9) == 0) {
            const char *path = a[8] == '=' ? a + 9 : (i + 1 < argc ? argv[++i] : NULL);
            if (!path) {
                fprintf(stderr, "sesp broker: --config needs a file\n");
                return 2;
            }
            if (sesp_config_load_file(cfg, path, err, sizeof err)) {
                fprintf(stderr, "sesp broker: %s\n", err);
                return 2;
            }
        } else if (strcmp(a, "--set") == 0 || strcmp(a, "--override") == 0 || strncmp(a, "--set=", 6) == 0) {
            if (strncmp(a, "--set=", 6) != 0)
                i++;
        } else if (i == 1 && a[0] != '-') {
            /* Kafka style: `kafka-server-start server.properties`. */
            if (sesp_config_load_file(cfg, a, err, sizeof err)) {
                fprintf(stderr, "sesp broker: %s\n", err);
                return 2;
            }
        } else {
            fprintf(stderr, "sesp broker: unknown option '%s' (see --help)\n", a);
            return 2;
        }
    }
    for (int i = 1; i < argc; i++) {
        const char *kv = NULL;
        if (strcmp(argv[i], "--set") == 0 || strcmp(argv[i], "--override") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "sesp broker: %s needs key=value\n", argv[i]);
                return 2;
            }
            kv = argv[++i];
        } else if (strncmp(argv[i], "--set=", 6) == 0) {
            kv = argv[i] + 6;
        } else if (strcmp(argv[i], "--config") == 0) {
            i++;
        }
        if (!kv)
            continue;
        const char *eq = strchr(kv, '=');
        if (!eq || eq == kv) {
            fprintf(stderr, "sesp broker: --set expects key=value, got '%s'\n", kv);
            return 2;
        }
        char key[256];
        size_t kl = (size_t)(eq - kv);
        if (kl >= sizeof key) {
            fprintf(stderr, "sesp broker: key too long in '%s'\n", kv);
            return 2;
        }
        memcpy(key, kv, kl);
        key[kl] = 0;
        if (sesp_config_set(cfg, key, eq + 1, err, sizeof err)) {
            fprintf(stderr, "sesp broker: %s\n", err);
            return 2;
        }
    }
    if (sesp_config_finish(cfg, err, sizeof err)) {
        fprintf(stderr, "sesp broker: %s\n", err);
        return 2;
    }
    return 0;
}

int sesp_broker_main(int argc, char **argv)
{
    sesp_config cfg;
    sesp_config_init(&cfg);
    int rc = parse_args(&cfg, argc, argv);
    if (rc) {
        sesp_config_free(&cfg);
        return rc == 1 ? 0 : rc;
    }
    sesp_config_warn_unknown(&cfg, stderr);
    evthread_use_pthreads();
    signal(SIGPIPE, SIG_IGN);

    char err[512] = "";
    main_state m = {0};
    bool cleaner_started = false;
    /* Signals first: a SIGTERM during start-up (log recovery can take a
     * while) stops the broker cleanly as soon as it is up. */
    m.base = event_base_new();
    struct event *sigterm = m.base ? evsignal_new(m.base, SIGTERM, on_signal, &m) : NULL;
    struct event *sigint = m.base ? evsignal_new(m.base, SIGINT, on_signal, &m) : NULL;
    struct event *tick = m.base ? event_new(m.base, -1, EV_PERSIST, on_tick, &m) : NULL;
    if (!sigterm || !sigint || !tick || evsignal_add(sigterm, NULL) || evsignal_add(sigint, NULL)) {
        fprintf(stderr, "sesp broker: cannot set up the main loop\n");
        rc = 1;
        goto out;
    }
    rc = sesp_server_start(&cfg, attach_modules, NULL, &m.srv, err, sizeof err);
    if (rc) {
        fprintf(stderr, "sesp broker: %s\n", *err ? err : sesp_strerror(rc));
        rc = 1;
        goto out;
    }
    /* Compacted logs registered themselves while the topics opened; the
     * cleaner thread picks them up from here on. */
    sesp_log_cleaner_config ccfg;
    sesp_log_cleaner_config_defaults(&ccfg);
    /* The log module's own defaults unless the operator set Kafka's keys
     * (values were checked by sesp_config_finish). */
    const char *cv;
    if ((cv = sesp_config_get(&cfg, "log.cleaner.io.max.bytes.per.second"))) {
        double bps = strtod(cv, NULL);
        ccfg.io_max_bytes_per_second = bps >= 9.2e18 ? 0 : (int64_t)bps;
    }
    if ((cv = sesp_config_get(&cfg, "log.cleaner.backoff.ms")))
        ccfg.backoff_ms = strtoll(cv, NULL, 10);
    if ((cv = sesp_config_get(&cfg, "log.cleaner.dedupe.buffer.size")) && strtoll(cv, NULL, 10) > 0)
        ccfg.dedupe_buffer_bytes = (size_t)strtoll(cv, NULL, 10);
    cv = sesp_config_get(&cfg, "log.cleaner.enable");
    bool cleaner_on = !cv || strcasecmp(cv, "false") != 0;
    if (cleaner_on && sesp_log_cleaner_start(&ccfg) == 0)
        cleaner_started = true;
    m.retention_every_ms = cfg.log_retention_check_interval_ms;
    m.last_retention = sesp_server_now_ms();
    m.pid_expiry_every_ms = cfg.producer_id_expiration_check_interval_ms;
    /* The first check runs at the first tick: Kafka drops expired producers
     * while loading a log's snapshot, and recovery here may have brought
     * back producers that expired before the restart. */
    m.last_pid_expiry = m.last_retention - m.pid_expiry_every_ms;
    /* Retention at its interval; time-based flush needs a finer tick. */
    int64_t every = cfg.log_retention_check_interval_ms;
    if (cfg.log_flush_interval_ms < every)
        every = cfg.log_flush_interval_ms;
    if (cfg.producer_id_expiration_check_interval_ms < every)
        every = cfg.producer_id_expiration_check_interval_ms;
    if (every > 1000)
        every = 1000;
    if (every < 10)
        every = 10;
    struct timeval tv = {every / 1000, (every % 1000) * 1000};
    event_add(tick, &tv);
    printf("sesp broker listening on %s:%d (node %d, data %s)\n",
           cfg.listeners[0].host[0] ? cfg.listeners[0].host : "0.0.0.0", sesp_server_bound_port(m.srv, 0),
           (int)cfg.node_id, cfg.log_dirs[0]);
    fflush(stdout);
    event_base_dispatch(m.base);
    rc = 0;
out:
    if (cleaner_started)
        sesp_log_cleaner_stop();
    sesp_server_stop(m.srv);
    sesp_producer_unregister();
    if (tick)
        event_free(tick);
    if (sigterm)
        event_free(sigterm);
    if (sigint)
        event_free(sigint);
    if (m.base)
        event_base_free(m.base);
    sesp_config_free(&cfg);
    if (rc == 0)
        fprintf(stderr, "sesp broker: stopped\n");
    return rc;
}
