/*
 * The classic group membership state machine, as Kafka's GroupCoordinator
 * runs it: JoinGroup (KIP-394 member-id-required round, static membership
 * with fencing and rebalance-free replacement), SyncGroup (the leader's
 * assignments relayed as opaque bytes and persisted), Heartbeat, LeaveGroup
 * (batch and by group.instance.id), and the timers behind them: the initial
 * rebalance delay, the rebalance (join) timeout, the pending-sync timeout and
 * per-member session timeouts.  Parked JoinGroup/SyncGroup responses live in
 * the member (gc_reply) and are answered exactly once.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "broker/group/group_int.h"
#include "broker/protocol/generated/kmsg.h"
#include "broker/protocol/kerr.h"
#include "common/err.h"

static void timer_cb(evutil_socket_t fd, short what, void *arg);
static void hb_cb(evutil_socket_t fd, short what, void *arg);
static void pending_cb(evutil_socket_t fd, short what, void *arg);
static void prepare_rebalance(gc_group *g);
static void maybe_complete_join(gc_group *g);

static sesp_kstr kstr_or(const char *s, const char *dflt)
{
    if (s)
        return SESP_KSTR(s);
    return dflt ? SESP_KSTR(dflt) : SESP_KSTR_NULL;
}

static void arm(struct event *ev, int64_t ms)
{
    if (ms < 0)
        ms = 0;
    struct timeval tv = { (time_t)(ms / 1000), (suseconds_t)((ms % 1000) * 1000) };
    event_add(ev, &tv);
}

static void group_arm(gc_group *g, int kind, int64_t ms)
{
    event_assign(g->timer_ev, g->gc->base, -1, 0, timer_cb, g);
    g->timer_kind = kind;
    arm(g->timer_ev, ms);
}

static void group_disarm(gc_group *g)
{
    event_del(g->timer_ev);
    g->timer_kind = GT_NONE;
}

static char *new_member_id(const char *prefix)
{
    uint8_t u[16];
    if (getrandom(u, sizeof u, 0) != (ssize_t)sizeof u) {
        /* getrandom on Linux does not fail for 16 bytes once the pool is up;
         * fall back to something unique enough rather than abort. */
        static uint64_t ctr;
        uint64_t t = (uint64_t)gc_now_ms() ^ (++ctr << 40);
        memcpy(u, &t, 8);
        memcpy(u + 8, &ctr, 8);
    }
    u[6] = (u[6] & 0x0f) | 0x40;
    u[8] = (u[8] & 0x3f) | 0x80;
    size_t n = strlen(prefix) + 38;
    char *s = malloc(n);
    if (!s)
        return NULL;
    snprintf(s, n, "%s-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", prefix, u[0], u[1], u[2],
             u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
    return s;
}

/* ---- responses ---- */

static const gc_proto *member_proto(const gc_member *m, const char *name)
{
    if (!name)
        return NULL;
    for (int i = 0; i < m->nprotos; i++)
        if (strcmp(m->protos[i].name, name) == 0)
            return &m->protos[i];
    return NULL;
}

static void send_join(int16_t version, sesp_group_done_fn done, void *ctx, gc_group *g, const char *member_id,
                      int16_t err, bool with_members, bool skip)
{
    sesp_kmsg_join_group_response r;
    sesp_kmsg_join_group_response_init(&r);
    sesp_kmsg_join_group_response_join_group_response_member *mem = NULL;
    r.error_code = err;
    r.member_id = kstr_or(member_id, "");
    r.leader = SESP_KSTR("");
    r.protocol_name = version >= 7 ? SESP_KSTR_NULL : SESP_KSTR("");
    if (g && err == SESP_KERR_NONE) {
        r.generation_id = g->generation;
        r.protocol_type = kstr_or(g->protocol_type, NULL);
        r.protocol_name = kstr_or(g->protocol, version >= 7 ? NULL : "");
        r.leader = kstr_or(g->leader, "");
        r.skip_assignment = skip && version >= 9;
        if (with_members && g->nmembers > 0) {
            mem = calloc((size_t)g->nmembers, sizeof *mem);
            if (!mem) {
                done(ctx, NULL, SESP_ERR_NOMEM);
                return;
            }
            int i = 0;
            for (gc_member *m = g->members; m; m = m->next, i++) {
                const gc_proto *p = member_proto(m, g->protocol);
                mem[i].member_id = SESP_KSTR(m->id);
                mem[i].group_instance_id = kstr_or(m->instance_id, NULL);
                mem[i].metadata = p ? (sesp_kbytes){ p->meta, p->meta_len } : (sesp_kbytes){ NULL, 0 };
            }
            r.members = mem;
            r.members_count = g->nmembers;
        }
    }
    sesp_bufw w;
    sesp_bufw_init(&w, 256, 0);
    int rc = sesp_kmsg_join_group_response_encode(&w, version, &r);
    free(mem);
    gc_send(done, ctx, &w, rc);
}

static void send_sync(int16_t version, sesp_group_done_fn done, void *ctx, gc_group *g, int16_t err,
                      const uint8_t *assign, int32_t assign_len)
{
    sesp_kmsg_sync_group_response r;
    sesp_kmsg_sync_group_response_init(&r);
    r.error_code = err;
    r.assignment = (sesp_kbytes){ assign_len > 0 ? assign : NULL, err ? 0 : (assign_len > 0 ? assign_len : 0) };
    if (g && err == SESP_KERR_NONE) {
        r.protocol_type = kstr_or(g->protocol_type, NULL);
        r.protocol_name = kstr_or(g->protocol, NULL);
    }
    sesp_bufw w;
    sesp_bufw_init(&w, 64 + (assign_len > 0 ? (size_t)assign_len : 0), 0);
    gc_send(done, ctx, &w, sesp_kmsg_sync_group_response_encode(&w, version, &r));
}

static void reply_join(gc_member *m, int16_t err, bool with_members, bool skip)
{
    if (!m->join.active)
        return;
    gc_reply rep = m->join;
    m->join.active = false;
    m->g->n_awaiting_join--;
    send_join(rep.version, rep.done, rep.ctx, m->g, m->id, err, with_members, skip);
}

static void reply_sync(gc_member *m, int16_t err)
{
    if (!m->sync.active)
        return;
    gc_reply rep = m->sync;
    m->sync.active = false;
    send_sync(rep.version, rep.done, rep.ctx, m->g, err, m->assignment, m->assignment_len);
}

static void park_join(gc_member *m, gc_job *j)
{
    if (m->join.active) /* a duplicate JoinGroup: the newer one wins */
        reply_join(m, SESP_KERR_REBALANCE_IN_PROGRESS, false, false);
    m->join = (gc_reply){ true, j->version, j->done, j->ctx };
    m->g->n_awaiting_join++;
}

/* ---- members ---- */

gc_member *gc_member_find(gc_group *g, sesp_kstr id)
{
    for (gc_member *m = g->members; m; m = m->next)
        if (gc_str_eq(m->id, id))
            return m;
    return NULL;
}

gc_member *gc_member_by_instance(gc_group *g, sesp_kstr instance_id)
{
    if (instance_id.len < 0)
        return NULL;
    for (gc_member *m = g->members; m; m = m->next)
        if (m->instance_id && gc_str_eq(m->instance_id, instance_id))
            return m;
    return NULL;
}

void gc_member_touch(gc_member *m)
{
    arm(m->hb_ev, m->session_timeout_ms);
}

static void free_protos(gc_proto *p, int n)
{
    for (int i = 0; i < n; i++) {
        free(p[i].name);
        free(p[i].meta);
    }
    free(p);
}

void gc_member_free(gc_member *m)
{
    if (m->hb_ev)
        event_free(m->hb_ev);
    free(m->id);
    free(m->instance_id);
    free(m->client_id);
    free(m->client_host);
    free_protos(m->protos, m->nprotos);
    free(m->assignment);
    free(m);
}

static void pending_free(gc_pending *p)
{
    if (p->ev)
        event_free(p->ev);
    free(p->id);
    free(p);
}

void gc_group_free_members(gc_group *g, int16_t err)
{
    while (g->members) {
        gc_member *m = g->members;
        reply_join(m, err, false, false);
        reply_sync(m, err);
        g->members = m->next;
        gc_member_free(m);
    }
    g->nmembers = 0;
    while (g->pending) {
        gc_pending *p = g->pending;
        g->pending = p->next;
        pending_free(p);
    }
}

gc_member *gc_member_append(gc_group *g)
{
    gc_member *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->g = g;
    m->hb_ev = evtimer_new(g->gc->base, hb_cb, m);
    if (!m->hb_ev) {
        free(m);
        return NULL;
    }
    gc_member **pp = &g->members;
    while (*pp)
        pp = &(*pp)->next;
    *pp = m;
    g->nmembers++;
    return m;
}

static int copy_protos(const sesp_kmsg_join_group_request *req, gc_proto **out, int *nout)
{
    int n = req->protocols_count > 0 ? req->protocols_count : 0;
    gc_proto *p = calloc(n ? (size_t)n : 1, sizeof *p);
    if (!p)
        return SESP_ERR_NOMEM;
    for (int i = 0; i < n; i++) {
        const sesp_kmsg_join_group_request_join_group_request_protocol *q = &req->protocols[i];
        int32_t ml = q->metadata.len > 0 ? q->metadata.len : 0;
        p[i].name = gc_kstrdup(q->name.len >= 0 ? q->name : SESP_KSTR(""));
        p[i].meta = malloc(ml ? (size_t)ml : 1);
        p[i].meta_len = ml;
        if (!p[i].name || !p[i].meta) {
            free_protos(p, i + 1);
            return SESP_ERR_NOMEM;
        }
        if (ml)
            memcpy(p[i].meta, q->metadata.ptr, (size_t)ml);
    }
    *out = p;
    *nout = n;
    return 0;
}

/* Same protocols, same order, same metadata bytes (Kafka's MemberMetadata.matches). */
static bool protos_match(const gc_member *m, const sesp_kmsg_join_group_request *req)
{
    int n = req->protocols_count > 0 ? req->protocols_count : 0;
    if (n != m->nprotos)
        return false;
    for (int i = 0; i < n; i++) {
        const sesp_kmsg_join_group_request_join_group_request_protocol *q = &req->protocols[i];
        int32_t ml = q->metadata.len > 0 ? q->metadata.len : 0;
        if (!gc_str_eq(m->protos[i].name, q->name) || ml != m->protos[i].meta_len ||
            (ml && memcmp(m->protos[i].meta, q->metadata.ptr, (size_t)ml) != 0))
            return false;
    }
    return true;
}

static bool all_support(const gc_group *g, const char *name, size_t len)
{
    for (const gc_member *m = g->members; m; m = m->next) {
        bool found = false;
        for (int i = 0; i < m->nprotos && !found; i++)
            found = strlen(m->protos[i].name) == len && memcmp(m->protos[i].name, name, len) == 0;
        if (!found)
            return false;
    }
    return true;
}

/* Kafka's GroupMetadata.supportsProtocols. */
static bool supports_protocols(const gc_group *g, const sesp_kmsg_join_group_request *req)
{
    if (g->nmembers == 0)
        return req->protocol_type.len > 0 && req->protocols_count > 0;
    if (!gc_str_eq(g->protocol_type, req->protocol_type))
        return false;
    for (int i = 0; i < req->protocols_count; i++) {
        sesp_kstr n = req->protocols[i].name;
        if (n.len >= 0 && all_support(g, n.ptr ? n.ptr : "", (size_t)n.len))
            return true;
    }
    return false;
}

/* Kafka's selectProtocol: among the protocols every member supports, each
 * member votes for the first it lists; most votes wins (ties: the earliest
 * candidate in the first member's order). */
static const char *select_protocol(const gc_group *g)
{
    const gc_member *first = g->members;
    if (!first)
        return NULL;
    const char *best = NULL;
    int best_votes = -1;
    for (int i = 0; i < first->nprotos; i++) {
        const char *cand = first->protos[i].name;
        if (!all_support(g, cand, strlen(cand)))
            continue;
        int votes = 0;
        for (const gc_member *m = g->members; m; m = m->next) {
            for (int k = 0; k < m->nprotos; k++) {
                if (all_support(g, m->protos[k].name, strlen(m->protos[k].name))) {
                    votes += strcmp(m->protos[k].name, cand) == 0;
                    break;
                }
            }
        }
        if (votes > best_votes) {
            best = cand;
            best_votes = votes;
        }
    }
    return best ? best : (first->nprotos ? first->protos[0].name : NULL);
}

static int32_t max_rebalance_timeout(const gc_group *g)
{
    int32_t t = 0;
    for (const gc_member *m = g->members; m; m = m->next)
        if (m->rebalance_timeout_ms > t)
            t = m->rebalance_timeout_ms;
    return t;
}

static bool is_leader(const gc_group *g, const gc_member *m)
{
    return g->leader && strcmp(g->leader, m->id) == 0;
}

static void set_leader(gc_group *g, const char *id)
{
    free(g->leader);
    g->leader = id ? strdup(id) : NULL;
}

/* Unlinks and frees m; its parked requests get UNKNOWN_MEMBER_ID. */
static void remove_member(gc_group *g, gc_member *m)
{
    reply_join(m, SESP_KERR_UNKNOWN_MEMBER_ID, false, false);
    reply_sync(m, SESP_KERR_UNKNOWN_MEMBER_ID);
    for (gc_member **pp = &g->members; *pp; pp = &(*pp)->next) {
        if (*pp == m) {
            *pp = m->next;
            break;
        }
    }
    g->nmembers--;
    if (is_leader(g, m))
        set_leader(g, g->members ? g->members->id : NULL);
    gc_member_free(m);
}

static void remove_member_and_update(gc_group *g, gc_member *m)
{
    remove_member(g, m);
    switch (g->state) {
    case GS_STABLE:
    case GS_COMPLETING:
        prepare_rebalance(g);
        break;
    case GS_PREPARING:
        maybe_complete_join(g);
        break;
    default:
        break;
    }
}

static void reset_and_propagate(gc_group *g, int16_t err)
{
    for (gc_member *m = g->members; m; m = m->next) {
        free(m->assignment);
        m->assignment = NULL;
        m->assignment_len = 0;
        reply_sync(m, err);
    }
}

static void prepare_rebalance(gc_group *g)
{
    gc_t *gc = g->gc;
    if (g->state == GS_COMPLETING)
        reset_and_propagate(g, SESP_KERR_REBALANCE_IN_PROGRESS);
    group_disarm(g);
    for (gc_member *m = g->members; m; m = m->next)
        m->pending_sync = false;
    int64_t rt = max_rebalance_timeout(g);
    if (g->state == GS_EMPTY) {
        int64_t d = gc->cfg.initial_rebalance_delay_ms > 0 ? gc->cfg.initial_rebalance_delay_ms : 0;
        g->initial_remaining_ms = rt - d > 0 ? rt - d : 0;
        g->new_member_added = false;
        gc_transition(g, GS_PREPARING);
        group_arm(g, GT_INITIAL, d);
    } else {
        gc_transition(g, GS_PREPARING);
        group_arm(g, GT_JOIN, rt);
    }
}

static void maybe_prepare_rebalance(gc_group *g)
{
    if (g->state == GS_STABLE || g->state == GS_COMPLETING || g->state == GS_EMPTY)
        prepare_rebalance(g);
}

static void complete_join(gc_group *g)
{
    group_disarm(g);
    /* Members that did not rejoin within the rebalance timeout are out. */
    for (gc_member *m = g->members, *nx; m; m = nx) {
        nx = m->next;
        if (!m->join.active)
            remove_member(g, m);
    }
    if (g->leader == NULL && g->members)
        set_leader(g, g->members->id);
    g->generation++;
    free(g->protocol);
    g->protocol = NULL;
    if (g->nmembers == 0) {
        gc_transition(g, GS_EMPTY);
        (void)gc_store_group(g->gc, g);
        return;
    }
    const char *sel = select_protocol(g);
    g->protocol = sel ? strdup(sel) : NULL;
    gc_transition(g, GS_COMPLETING);
    for (gc_member *m = g->members; m; m = m->next) {
        m->pending_sync = true;
        bool leader = is_leader(g, m);
        reply_join(m, SESP_KERR_NONE, leader, false);
        gc_member_touch(m);
    }
    group_arm(g, GT_SYNC, max_rebalance_timeout(g));
}

static void maybe_complete_join(gc_group *g)
{
    if (g->state == GS_PREPARING && g->timer_kind == GT_JOIN && g->n_awaiting_join == g->nmembers && !g->pending)
        complete_join(g);
}

/* Members that never sent SyncGroup for the current generation are removed
 * and the group rebalances (Kafka's pending-sync timeout). */
static void sync_expired(gc_group *g)
{
    g->timer_kind = GT_NONE;
    if (g->state != GS_COMPLETING && g->state != GS_STABLE)
        return;
    bool removed = false;
    for (gc_member *m = g->members, *nx; m; m = nx) {
        nx = m->next;
        if (m->pending_sync) {
            remove_member(g, m);
            removed = true;
        }
    }
    if (removed)
        prepare_rebalance(g);
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
    gc_group *g = arg;
    gc_t *gc = g->gc;
    (void)fd;
    (void)what;
    pthread_mutex_lock(&gc->mu);
    switch (g->timer_kind) {
    case GT_INITIAL:
        if (g->new_member_added && g->initial_remaining_ms > 0) {
            int64_t d = gc->cfg.initial_rebalance_delay_ms;
            if (d > g->initial_remaining_ms)
                d = g->initial_remaining_ms;
            g->new_member_added = false;
            g->initial_remaining_ms -= d;
            group_arm(g, GT_INITIAL, d);
        } else {
            complete_join(g);
        }
        break;
    case GT_JOIN:
        complete_join(g);
        break;
    case GT_SYNC:
        sync_expired(g);
        break;
    default:
        break;
    }
    pthread_mutex_unlock(&gc->mu);
}

static void hb_cb(evutil_socket_t fd, short what, void *arg)
{
    gc_member *m = arg;
    gc_t *gc = m->g->gc;
    (void)fd;
    (void)what;
    pthread_mutex_lock(&gc->mu);
    /* A member parked in JoinGroup is covered by the rebalance timeout. */
    if (!m->join.active)
        remove_member_and_update(m->g, m);
    pthread_mutex_unlock(&gc->mu);
}

static void pending_cb(evutil_socket_t fd, short what, void *arg)
{
    gc_pending *p = arg;
    gc_group *g = p->g;
    gc_t *gc = g->gc;
    (void)fd;
    (void)what;
    pthread_mutex_lock(&gc->mu);
    for (gc_pending **pp = &g->pending; *pp; pp = &(*pp)->next) {
        if (*pp == p) {
            *pp = p->next;
            break;
        }
    }
    pending_free(p);
    maybe_complete_join(g);
    pthread_mutex_unlock(&gc->mu);
}

static gc_pending *pending_find(gc_group *g, sesp_kstr id, gc_pending ***where)
{
    for (gc_pending **pp = &g->pending; *pp; pp = &(*pp)->next) {
        if (gc_str_eq((*pp)->id, id)) {
            if (where)
                *where = pp;
            return *pp;
        }
    }
    return NULL;
}

/* ---- JoinGroup ---- */

typedef struct join_ctx {
    gc_t *gc;
    gc_job *j;
    const sesp_kmsg_join_group_request *req;
    int32_t rebalance_timeout;
} join_ctx;

static void set_member_from_req(gc_member *m, const join_ctx *c, gc_proto *protos, int nprotos)
{
    free_protos(m->protos, m->nprotos);
    m->protos = protos;
    m->nprotos = nprotos;
    m->session_timeout_ms = c->req->session_timeout_ms;
    m->rebalance_timeout_ms = c->rebalance_timeout;
    if (c->j->client_id) {
        free(m->client_id);
        m->client_id = strdup(c->j->client_id);
    }
    if (c->j->client_host) {
        free(m->client_host);
        m->client_host = strdup(c->j->client_host);
    }
}

static int16_t add_member_and_rebalance(join_ctx *c, gc_group *g, char *id /* taken */)
{
    gc_member *m = calloc(1, sizeof *m);
    gc_proto *protos = NULL;
    int np = 0;
    if (!m || copy_protos(c->req, &protos, &np) != 0) {
        free(m);
        free(id);
        return SESP_KERR_UNKNOWN_SERVER_ERROR;
    }
    m->g = g;
    m->id = id;
    m->instance_id = gc_kstrdup(c->req->group_instance_id);
    m->client_id = strdup(c->j->client_id ? c->j->client_id : "");
    m->client_host = strdup(c->j->client_host ? c->j->client_host : "");
    m->hb_ev = evtimer_new(c->gc->base, hb_cb, m);
    if (!m->hb_ev || !m->client_id || !m->client_host) {
        free_protos(protos, np);
        gc_member_free(m);
        return SESP_KERR_UNKNOWN_SERVER_ERROR;
    }
    set_member_from_req(m, c, protos, np);
    if (g->nmembers == 0) {
        free(g->protocol_type);
        g->protocol_type = gc_kstrdup(c->req->protocol_type);
    }
    gc_member **pp = &g->members;
    while (*pp)
        pp = &(*pp)->next;
    *pp = m;
    g->nmembers++;
    if (!g->leader)
        set_leader(g, m->id);
    park_join(m, c->j);
    if (g->timer_kind == GT_INITIAL)
        g->new_member_added = true;
    gc_member_touch(m);
    maybe_prepare_rebalance(g);
    maybe_complete_join(g);
    return SESP_KERR_NONE;
}

static int16_t update_member_and_rebalance(join_ctx *c, gc_group *g, gc_member *m)
{
    gc_proto *protos = NULL;
    int np = 0;
    if (copy_protos(c->req, &protos, &np) != 0)
        return SESP_KERR_UNKNOWN_SERVER_ERROR;
    set_member_from_req(m, c, protos, np);
    park_join(m, c->j);
    maybe_prepare_rebalance(g);
    maybe_complete_join(g);
    return SESP_KERR_NONE;
}

/* A known group.instance.id joined with an unknown member id: the new id
 * replaces the old one (fenced from now on).  In a Stable group whose
 * selected protocol and this member's metadata stay the same there is no
 * rebalance: the group is re-persisted and the member gets the current
 * generation, then its current assignment through SyncGroup. */
static int16_t replace_static_member(join_ctx *c, gc_group *g, gc_member *m, char *new_id /* taken */)
{
    gc_proto *protos = NULL;
    int np = 0;
    if (copy_protos(c->req, &protos, &np) != 0) {
        free(new_id);
        return SESP_KERR_UNKNOWN_SERVER_ERROR;
    }
    reply_join(m, SESP_KERR_FENCED_INSTANCE_ID, false, false);
    reply_sync(m, SESP_KERR_FENCED_INSTANCE_ID);
    bool leader = is_leader(g, m);
    char *old_id = m->id;
    gc_proto *old_protos = m->protos;
    int old_np = m->nprotos;
    int32_t old_st = m->session_timeout_ms, old_rt = m->rebalance_timeout_ms;
    m->id = new_id;
    if (leader)
        set_leader(g, new_id);
    m->protos = protos;
    m->nprotos = np;
    m->session_timeout_ms = c->req->session_timeout_ms;
    m->rebalance_timeout_ms = c->rebalance_timeout;
    gc_member_touch(m);

    if (g->state == GS_STABLE) {
        const char *sel = select_protocol(g);
        const gc_proto *np_ = member_proto(m, g->protocol);
        const gc_proto *op_ = NULL;
        for (int i = 0; i < old_np; i++)
            if (g->protocol && strcmp(old_protos[i].name, g->protocol) == 0)
                op_ = &old_protos[i];
        bool same = sel && g->protocol && strcmp(sel, g->protocol) == 0 && np_ && op_ &&
                    np_->meta_len == op_->meta_len && memcmp(np_->meta, op_->meta, (size_t)np_->meta_len) == 0;
        if (same) {
            int16_t err = gc_store_group(c->gc, g);
            if (err) {
                m->id = old_id;
                if (leader)
                    set_leader(g, old_id);
                free(new_id);
                free_protos(m->protos, m->nprotos);
                m->protos = old_protos;
                m->nprotos = old_np;
                m->session_timeout_ms = old_st;
                m->rebalance_timeout_ms = old_rt;
                return err;
            }
            free(old_id);
            free_protos(old_protos, old_np);
            send_join(c->j->version, c->j->done, c->j->ctx, g, m->id, SESP_KERR_NONE, leader, leader);
            return SESP_KERR_NONE;
        }
    }
    free(old_id);
    free_protos(old_protos, old_np);
    park_join(m, c->j);
    if (g->state == GS_STABLE || g->state == GS_COMPLETING)
        prepare_rebalance(g);
    maybe_complete_join(g);
    return SESP_KERR_NONE;
}

static bool metadata_too_large(const gc_t *gc, const sesp_kmsg_join_group_request *req)
{
    int64_t total = 0;
    for (int i = 0; i < req->protocols_count; i++) {
        int32_t l = req->protocols[i].metadata.len;
        if (l > gc->cfg.max_metadata_bytes)
            return true;
        total += l > 0 ? l : 0;
    }
    return total > (int64_t)gc->cfg.max_metadata_bytes * 4;
}

void gc_handle_join(gc_t *gc, gc_job *j, sesp_arena *a)
{
    sesp_kmsg_join_group_request req;
    sesp_bufr r;
    sesp_bufr_init(&r, j->body, j->len);
    if (sesp_kmsg_join_group_request_decode(&r, j->version, &req, a) != 0) {
        j->done(j->ctx, NULL, SESP_ERR_MALFORMED);
        return;
    }
    char *mid_req = gc_kstrdup(req.member_id.len >= 0 ? req.member_id : SESP_KSTR(""));
    int16_t err = gc_gate(gc);
    gc_group *g = NULL;
    bool created = false;
    join_ctx c = { gc, j, &req, j->version >= 1 ? req.rebalance_timeout_ms : req.session_timeout_ms };
    if (err)
        goto out;
    if (req.group_id.len <= 0) {
        err = SESP_KERR_INVALID_GROUP_ID;
        goto out;
    }
    if (req.session_timeout_ms < gc->cfg.min_session_timeout_ms ||
        req.session_timeout_ms > gc->cfg.max_session_timeout_ms) {
        err = SESP_KERR_INVALID_SESSION_TIMEOUT;
        goto out;
    }
    if (c.rebalance_timeout <= 0)
        c.rebalance_timeout = req.session_timeout_ms;
    if (metadata_too_large(gc, &req)) {
        /* Kafka would fail later when the group record exceeds the segment
         * limits; refusing up front keeps one member from bloating the group. */
        err = SESP_KERR_INVALID_REQUEST;
        goto out;
    }
    bool unknown = req.member_id.len <= 0;
    g = gc_group_find(gc, req.group_id);
    if (!g) {
        if (!unknown) {
            err = SESP_KERR_UNKNOWN_MEMBER_ID;
            goto out;
        }
        g = gc_group_create(gc, req.group_id.ptr, (size_t)req.group_id.len);
        if (!g) {
            err = SESP_KERR_UNKNOWN_SERVER_ERROR;
            goto out;
        }
        created = true;
    }
    if (g->state == GS_DEAD) {
        err = SESP_KERR_COORDINATOR_NOT_AVAILABLE;
        goto out;
    }
    gc_member *known = unknown ? NULL : gc_member_find(g, req.member_id);
    gc_member *stat = gc_member_by_instance(g, req.group_instance_id);
    bool accepted = known || (unknown && stat) || (!unknown && pending_find(g, req.member_id, NULL)) ||
                    g->nmembers < gc->cfg.max_group_size;
    if (!accepted) {
        err = SESP_KERR_GROUP_MAX_SIZE_REACHED;
        goto out;
    }
    if (!supports_protocols(g, &req)) {
        err = SESP_KERR_INCONSISTENT_GROUP_PROTOCOL;
        goto out;
    }
    if (unknown) {
        const char *prefix = req.group_instance_id.len >= 0 ? NULL : (j->client_id ? j->client_id : "");
        char *inst = NULL;
        if (!prefix) {
            inst = gc_kstrdup(req.group_instance_id);
            prefix = inst ? inst : "";
        }
        char *nid = new_member_id(prefix);
        free(inst);
        if (!nid) {
            err = SESP_KERR_UNKNOWN_SERVER_ERROR;
            goto out;
        }
        if (req.group_instance_id.len >= 0) {
            err = stat ? replace_static_member(&c, g, stat, nid) : add_member_and_rebalance(&c, g, nid);
        } else if (j->version >= 4) {
            gc_pending *p = calloc(1, sizeof *p);
            if (!p) {
                free(nid);
                err = SESP_KERR_UNKNOWN_SERVER_ERROR;
                goto out;
            }
            p->g = g;
            p->id = nid;
            p->ev = evtimer_new(gc->base, pending_cb, p);
            if (!p->ev) {
                pending_free(p);
                err = SESP_KERR_UNKNOWN_SERVER_ERROR;
                goto out;
            }
            p->next = g->pending;
            g->pending = p;
            arm(p->ev, req.session_timeout_ms);
            free(mid_req);
            mid_req = strdup(nid);
            err = SESP_KERR_MEMBER_ID_REQUIRED;
            created = false;
            goto out;
        } else {
            err = add_member_and_rebalance(&c, g, nid);
        }
        if (!err)
            created = false;
        goto done;
    }
    gc_pending **where = NULL;
    gc_pending *p = pending_find(g, req.member_id, &where);
    if (p) {
        *where = p->next;
        char *id = p->id;
        p->id = NULL;
        pending_free(p);
        err = add_member_and_rebalance(&c, g, id);
        goto done;
    }
    if (stat && !gc_str_eq(stat->id, req.member_id)) {
        err = SESP_KERR_FENCED_INSTANCE_ID;
        goto out;
    }
    if (!known) {
        err = SESP_KERR_UNKNOWN_MEMBER_ID;
        goto out;
    }
    switch (g->state) {
    case GS_PREPARING:
        err = update_member_and_rebalance(&c, g, known);
        break;
    case GS_COMPLETING:
        if (protos_match(known, &req)) {
            send_join(j->version, j->done, j->ctx, g, known->id, SESP_KERR_NONE, is_leader(g, known), false);
            err = SESP_KERR_NONE;
        } else {
            err = update_member_and_rebalance(&c, g, known);
        }
        break;
    case GS_STABLE:
        if (is_leader(g, known) || !protos_match(known, &req)) {
            err = update_member_and_rebalance(&c, g, known);
        } else {
            gc_member_touch(known);
            send_join(j->version, j->done, j->ctx, g, known->id, SESP_KERR_NONE, false, false);
            err = SESP_KERR_NONE;
        }
        break;
    default:
        err = SESP_KERR_UNKNOWN_MEMBER_ID;
        break;
    }
done:
    if (!err) {
        free(mid_req);
        return;
    }
out:
    send_join(j->version, j->done, j->ctx, NULL, mid_req, err, false, false);
    if (created && g && g->nmembers == 0 && !g->pending && g->offsets.n == 0)
        gc_group_remove(gc, g);
    free(mid_req);
}

/* ---- SyncGroup ---- */

void gc_handle_sync(gc_t *gc, gc_job *j, sesp_arena *a)
{
    sesp_kmsg_sync_group_request req;
    sesp_bufr r;
    sesp_bufr_init(&r, j->body, j->len);
    if (sesp_kmsg_sync_group_request_decode(&r, j->version, &req, a) != 0) {
        j->done(j->ctx, NULL, SESP_ERR_MALFORMED);
        return;
    }
    int16_t err = gc_gate(gc);
    gc_group *g = NULL;
    gc_member *m = NULL;
    if (err)
        goto out;
    if (req.group_id.len <= 0) {
        err = SESP_KERR_INVALID_GROUP_ID;
        goto out;
    }
    g = gc_group_find(gc, req.group_id);
    if (!g) {
        err = SESP_KERR_UNKNOWN_MEMBER_ID;
        goto out;
    }
    gc_member *stat = gc_member_by_instance(g, req.group_instance_id);
    m = gc_member_find(g, req.member_id);
    if (g->state == GS_DEAD)
        err = SESP_KERR_COORDINATOR_NOT_AVAILABLE;
    else if (stat && stat != m)
        err = SESP_KERR_FENCED_INSTANCE_ID;
    else if (!m)
        err = SESP_KERR_UNKNOWN_MEMBER_ID;
    else if (req.generation_id != g->generation)
        err = SESP_KERR_ILLEGAL_GENERATION;
    else if ((req.protocol_type.len >= 0 && !gc_str_eq(g->protocol_type, req.protocol_type)) ||
             (req.protocol_name.len >= 0 && !gc_str_eq(g->protocol, req.protocol_name)))
        err = SESP_KERR_INCONSISTENT_GROUP_PROTOCOL;
    else if (g->state == GS_EMPTY)
        err = SESP_KERR_UNKNOWN_MEMBER_ID;
    else if (g->state == GS_PREPARING)
        err = SESP_KERR_REBALANCE_IN_PROGRESS;
    if (err)
        goto out;
    if (g->state == GS_STABLE) {
        m->pending_sync = false;
        gc_member_touch(m);
        send_sync(j->version, j->done, j->ctx, g, SESP_KERR_NONE, m->assignment, m->assignment_len);
        return;
    }
    /* CompletingRebalance: park until the leader's assignment is stored. */
    assert(g->state == GS_COMPLETING);
    if (m->sync.active)
        reply_sync(m, SESP_KERR_REBALANCE_IN_PROGRESS);
    m->sync = (gc_reply){ true, j->version, j->done, j->ctx };
    m->pending_sync = false;
    gc_member_touch(m);
    if (!is_leader(g, m))
        return;
    for (int i = 0; i < req.assignments_count; i++) {
        if (req.assignments[i].assignment.len > gc->cfg.max_metadata_bytes) {
            reset_and_propagate(g, SESP_KERR_UNKNOWN_SERVER_ERROR);
            prepare_rebalance(g);
            return;
        }
    }
    for (gc_member *x = g->members; x; x = x->next) {
        const sesp_kbytes *b = NULL;
        for (int i = 0; i < req.assignments_count; i++)
            if (gc_str_eq(x->id, req.assignments[i].member_id))
                b = &req.assignments[i].assignment;
        free(x->assignment);
        x->assignment = NULL;
        x->assignment_len = 0;
        if (b && b->len > 0) {
            x->assignment = malloc((size_t)b->len);
            if (!x->assignment) {
                reset_and_propagate(g, SESP_KERR_UNKNOWN_SERVER_ERROR);
                prepare_rebalance(g);
                return;
            }
            memcpy(x->assignment, b->ptr, (size_t)b->len);
            x->assignment_len = b->len;
        }
    }
    int16_t serr = gc_store_group(gc, g);
    if (serr) {
        reset_and_propagate(g, serr);
        prepare_rebalance(g);
        return;
    }
    gc_transition(g, GS_STABLE);
    bool any_pending = false;
    for (gc_member *x = g->members; x; x = x->next) {
        reply_sync(x, SESP_KERR_NONE);
        any_pending |= x->pending_sync;
    }
    if (!any_pending && g->timer_kind == GT_SYNC)
        group_disarm(g);
    return;
out:
    send_sync(j->version, j->done, j->ctx, NULL, err, NULL, 0);
}

/* ---- Heartbeat ---- */

static void send_simple_heartbeat(gc_job *j, int16_t err)
{
    sesp_kmsg_heartbeat_response resp;
    sesp_kmsg_heartbeat_response_init(&resp);
    resp.error_code = err;
    sesp_bufw w;
    sesp_bufw_init(&w, 16, 0);
    gc_send(j->done, j->ctx, &w, sesp_kmsg_heartbeat_response_encode(&w, j->version, &resp));
}

void gc_handle_heartbeat(gc_t *gc, gc_job *j, sesp_arena *a)
{
    sesp_kmsg_heartbeat_request req;
    sesp_bufr r;
    sesp_bufr_init(&r, j->body, j->len);
    if (sesp_kmsg_heartbeat_request_decode(&r, j->version, &req, a) != 0) {
        j->done(j->ctx, NULL, SESP_ERR_MALFORMED);
        return;
    }
    int16_t err = gc_gate(gc);
    if (err) {
        send_simple_heartbeat(j, err);
        return;
    }
    if (req.group_id.len <= 0) {
        send_simple_heartbeat(j, SESP_KERR_INVALID_GROUP_ID);
        return;
    }
    gc_group *g = gc_group_find(gc, req.group_id);
    if (!g) {
        send_simple_heartbeat(j, SESP_KERR_UNKNOWN_MEMBER_ID);
        return;
    }
    gc_member *stat = gc_member_by_instance(g, req.group_instance_id);
    gc_member *m = gc_member_find(g, req.member_id);
    if (g->state == GS_DEAD)
        err = SESP_KERR_COORDINATOR_NOT_AVAILABLE;
    else if (stat && stat != m)
        err = SESP_KERR_FENCED_INSTANCE_ID;
    else if (!m)
        err = SESP_KERR_UNKNOWN_MEMBER_ID;
    else if (req.generation_id != g->generation)
        err = SESP_KERR_ILLEGAL_GENERATION;
    else if (g->state == GS_EMPTY)
        err = SESP_KERR_UNKNOWN_MEMBER_ID;
    else {
        gc_member_touch(m);
        if (g->state == GS_PREPARING)
            err = SESP_KERR_REBALANCE_IN_PROGRESS;
    }
    send_simple_heartbeat(j, err);
}

/* ---- LeaveGroup ---- */

static int16_t leave_one(gc_group *g, sesp_kstr member_id, sesp_kstr instance_id)
{
    if (g->state == GS_DEAD)
        return SESP_KERR_COORDINATOR_NOT_AVAILABLE;
    gc_member *m;
    if (member_id.len <= 0 && instance_id.len >= 0) {
        m = gc_member_by_instance(g, instance_id);
        if (!m)
            return SESP_KERR_UNKNOWN_MEMBER_ID;
    } else {
        gc_member *stat = gc_member_by_instance(g, instance_id);
        m = gc_member_find(g, member_id);
        if (stat && stat != m)
            return SESP_KERR_FENCED_INSTANCE_ID;
        if (!m) {
            gc_pending **where = NULL;
            gc_pending *p = pending_find(g, member_id, &where);
            if (!p)
                return SESP_KERR_UNKNOWN_MEMBER_ID;
            *where = p->next;
            pending_free(p);
            maybe_complete_join(g);
            return SESP_KERR_NONE;
        }
    }
    remove_member_and_update(g, m);
    return SESP_KERR_NONE;
}

void gc_handle_leave(gc_t *gc, gc_job *j, sesp_arena *a)
{
    sesp_kmsg_leave_group_request req;
    sesp_bufr r;
    sesp_bufr_init(&r, j->body, j->len);
    if (sesp_kmsg_leave_group_request_decode(&r, j->version, &req, a) != 0) {
        j->done(j->ctx, NULL, SESP_ERR_MALFORMED);
        return;
    }
    sesp_kmsg_leave_group_response resp;
    sesp_kmsg_leave_group_response_init(&resp);
    int n = j->version >= 3 ? (req.members_count > 0 ? req.members_count : 0) : 1;
    sesp_kmsg_leave_group_response_member_response *mr = sesp_arena_calloc(a, (size_t)(n ? n : 1), sizeof *mr);
    if (!mr) {
        j->done(j->ctx, NULL, SESP_ERR_NOMEM);
        return;
    }
    int16_t top = gc_gate(gc);
    gc_group *g = NULL;
    if (!top && req.group_id.len <= 0)
        top = SESP_KERR_INVALID_GROUP_ID;
    if (!top)
        g = gc_group_find(gc, req.group_id);
    for (int i = 0; i < n; i++) {
        sesp_kstr mid = j->version >= 3 ? req.members[i].member_id : req.member_id;
        sesp_kstr iid = j->version >= 3 ? req.members[i].group_instance_id : SESP_KSTR_NULL;
        mr[i].member_id = mid.len >= 0 ? mid : SESP_KSTR("");
        mr[i].group_instance_id = iid;
        if (top)
            mr[i].error_code = top;
        else if (!g)
            mr[i].error_code = SESP_KERR_UNKNOWN_MEMBER_ID;
        else
            mr[i].error_code = leave_one(g, mid, iid);
    }
    if (j->version >= 3) {
        resp.error_code = top;
        resp.members = mr;
        resp.members_count = n;
    } else {
        resp.error_code = mr[0].error_code;
    }
    sesp_bufw w;
    sesp_bufw_init(&w, 64, 0);
    gc_send(j->done, j->ctx, &w, sesp_kmsg_leave_group_response_encode(&w, j->version, &resp));
}

/* ---- helpers for offsets/admin ---- */

const char **gc_subscribed_topics(gc_group *g, sesp_arena *a, bool *is_consumer)
{
    *is_consumer = g->protocol_type && strcmp(g->protocol_type, "consumer") == 0;
    size_t cap = 1, n = 0;
    const char **out = sesp_arena_calloc(a, cap, sizeof *out);
    if (!out || !*is_consumer)
        return out;
    for (gc_member *m = g->members; m; m = m->next) {
        const gc_proto *p = member_proto(m, g->protocol);
        if (!p && m->nprotos == 1)
            p = &m->protos[0];
        if (!p || p->meta_len < 2)
            continue;
        sesp_bufr r;
        sesp_bufr_init(&r, p->meta, (size_t)p->meta_len);
        int16_t v = sesp_bufr_i16(&r);
        if (v < 0)
            continue;
        if (v > 3)
            v = 3; /* newer versions only append fields */
        sesp_kmsg_consumer_protocol_subscription sub;
        if (sesp_kmsg_consumer_protocol_subscription_decode(&r, v, &sub, a) != 0)
            continue;
        for (int i = 0; i < sub.topics_count; i++) {
            if (sub.topics[i].len < 0)
                continue;
            if (n + 1 >= cap) {
                const char **nw = sesp_arena_calloc(a, cap * 2 + 4, sizeof *nw);
                if (!nw)
                    return out;
                memcpy(nw, out, n * sizeof *nw);
                out = nw;
                cap = cap * 2 + 4;
            }
            char *t = sesp_kstr_dup(sub.topics[i], a);
            if (t)
                out[n++] = t;
        }
    }
    out[n] = NULL;
    return out;
}
