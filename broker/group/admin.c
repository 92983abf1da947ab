/*
 * Group administration: ListGroups (v4+ states filter, v5 types filter; every
 * group here is "classic"), DescribeGroups (member metadata and assignments
 * only for Stable groups, as Kafka; an unknown group is described as Dead),
 * and DeleteGroups (Empty groups only: tombstones for every offset and the
 * group metadata, then the group is gone; NON_EMPTY_GROUP otherwise).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "broker/group/group_int.h"
#include "broker/protocol/generated/kmsg.h"
#include "broker/protocol/kerr.h"
#include "common/err.h"

static bool kstr_ieq(sesp_kstr s, const char *c)
{
    size_t n = strlen(c);
    return s.len >= 0 && (size_t)s.len == n && (n == 0 || strncasecmp(s.ptr, c, n) == 0);
}

void gc_handle_list_groups(gc_t *gc, gc_job *j, sesp_arena *a)
{
    sesp_kmsg_list_groups_request req;
    sesp_bufr r;
    sesp_bufr_init(&r, j->body, j->len);
    if (sesp_kmsg_list_groups_request_decode(&r, j->version, &req, a) != 0) {
        j->done(j->ctx, NULL, SESP_ERR_MALFORMED);
        return;
    }
    sesp_kmsg_list_groups_response resp;
    sesp_kmsg_list_groups_response_init(&resp);
    resp.error_code = gc_gate(gc);
    if (!resp.error_code) {
        bool classic_ok = req.types_filter_count <= 0;
        for (int i = 0; i < req.types_filter_count; i++)
            classic_ok |= kstr_ieq(req.types_filter[i], "classic");
        resp.groups = sesp_arena_calloc(a, gc->groups.n + 1, sizeof *resp.groups);
        if (!resp.groups) {
            j->done(j->ctx, NULL, SESP_ERR_NOMEM);
            return;
        }
        int n = 0;
        GMAP_EACH(&gc->groups, e, nx) {
            gc_group *g = e->val;
            if (!classic_ok || g->state == GS_DEAD)
                continue;
            bool state_ok = req.states_filter_count <= 0;
            for (int i = 0; i < req.states_filter_count; i++)
                state_ok |= kstr_ieq(req.states_filter[i], gc_state_name(g->state));
            if (!state_ok)
                continue;
            resp.groups[n].group_id = gc_gid(g);
            resp.groups[n].protocol_type = SESP_KSTR(g->protocol_type ? g->protocol_type : "");
            resp.groups[n].group_state = SESP_KSTR(gc_state_name(g->state));
            resp.groups[n].group_type = SESP_KSTR("classic");
            n++;
        }
        resp.groups_count = n;
    }
    sesp_bufw w;
    sesp_bufw_init(&w, 256, 0);
    gc_send(j->done, j->ctx, &w, sesp_kmsg_list_groups_response_encode(&w, j->version, &resp));
}

/* READ, DESCRIBE, DELETE of AclOperation (3, 8, 6): what a group allows. */
#define GC_GROUP_AUTHORIZED_OPS ((1 << 3) | (1 << 6) | (1 << 8))

void gc_handle_describe_groups(gc_t *gc, gc_job *j, sesp_arena *a)
{
    sesp_kmsg_describe_groups_request req;
    sesp_bufr r;
    sesp_bufr_init(&r, j->body, j->len);
    if (sesp_kmsg_describe_groups_request_decode(&r, j->version, &req, a) != 0) {
        j->done(j->ctx, NULL, SESP_ERR_MALFORMED);
        return;
    }
    sesp_kmsg_describe_groups_response resp;
    sesp_kmsg_describe_groups_response_init(&resp);
    int n = req.groups_count > 0 ? req.groups_count : 0;
    resp.groups = sesp_arena_calloc(a, (size_t)n + 1, sizeof *resp.groups);
    if (!resp.groups)
        goto oom;
    resp.groups_count = n;
    int16_t gate = gc_gate(gc);
    for (int i = 0; i < n; i++) {
        sesp_kmsg_describe_groups_response_described_group *d = &resp.groups[i];
        sesp_kmsg_describe_groups_response_described_group_init(d);
        d->group_id = req.groups[i].len >= 0 ? req.groups[i] : SESP_KSTR("");
        d->group_state = SESP_KSTR("");
        d->protocol_type = SESP_KSTR("");
        d->protocol_data = SESP_KSTR("");
        d->members_count = 0;
        d->members = NULL;
        if (req.include_authorized_operations)
            d->authorized_operations = GC_GROUP_AUTHORIZED_OPS;
        if (gate) {
            d->error_code = gate;
            continue;
        }
        gc_group *g = gc_group_find(gc, req.groups[i]);
        if (!g) {
            d->group_state = SESP_KSTR("Dead");
            continue;
        }
        d->group_state = SESP_KSTR(gc_state_name(g->state));
        d->protocol_type = SESP_KSTR(g->protocol_type ? g->protocol_type : "");
        bool stable = g->state == GS_STABLE;
        d->protocol_data = SESP_KSTR(stable && g->protocol ? g->protocol : "");
        d->members = sesp_arena_calloc(a, (size_t)g->nmembers + 1, sizeof *d->members);
        if (!d->members)
            goto oom;
        int k = 0;
        for (gc_member *m = g->members; m; m = m->next, k++) {
            sesp_kmsg_describe_groups_response_described_group_member *dm = &d->members[k];
            dm->member_id = SESP_KSTR(m->id);
            dm->group_instance_id = m->instance_id ? SESP_KSTR(m->instance_id) : SESP_KSTR_NULL;
            dm->client_id = SESP_KSTR(m->client_id ? m->client_id : "");
            dm->client_host = SESP_KSTR(m->client_host ? m->client_host : "");
            dm->member_metadata = (sesp_kbytes){ NULL, 0 };
            dm->member_assignment = (sesp_kbytes){ NULL, 0 };
            if (stable) {
                for (int p = 0; p < m->nprotos; p++)
                    if (g->protocol && strcmp(m->protos[p].name, g->protocol) == 0)
                        dm->member_metadata = (sesp_kbytes){ m->protos[p].meta, m->protos[p].meta_len };
                dm->member_assignment = (sesp_kbytes){ m->assignment, m->assignment_len };
            }
        }
        d->members_count = g->nmembers;
    }
    sesp_bufw w;
    sesp_bufw_init(&w, 256, 0);
    gc_send(j->done, j->ctx, &w, sesp_kmsg_describe_groups_response_encode(&w, j->version, &resp));
    return;
oom:
    j->done(j->ctx, NULL, SESP_ERR_NOMEM);
}

static int16_t delete_group(gc_t *gc, sesp_kstr id)
{
    gc_group *g = gc_group_find(gc, id);
    if (!g || g->state == GS_DEAD)
        return SESP_KERR_GROUP_ID_NOT_FOUND;
    if (g->state != GS_EMPTY || g->nmembers > 0)
        return SESP_KERR_NON_EMPTY_GROUP;
    size_t n = g->offsets.n + 1;
    gc_rec *recs = calloc(n, sizeof *recs);
    if (!recs)
        return SESP_KERR_UNKNOWN_SERVER_ERROR;
    int nrec = 0;
    int16_t err = SESP_KERR_NONE;
    GMAP_EACH(&g->offsets, e, nx) {
        if (gc_rec_offset(&recs[nrec], gc_gid(g), e->val, true) != 0) {
            err = SESP_KERR_UNKNOWN_SERVER_ERROR;
            break;
        }
        nrec++;
    }
    if (!err && gc_rec_group(&recs[nrec], g, true) == 0)
        nrec++;
    else if (!err)
        err = SESP_KERR_UNKNOWN_SERVER_ERROR;
    if (!err)
        err = gc_append(gc, g->partition, recs, nrec);
    gc_rec_free(recs, nrec);
    free(recs);
    if (!err)
        gc_group_remove(gc, g);
    return err;
}

void gc_handle_delete_groups(gc_t *gc, gc_job *j, sesp_arena *a)
{
    sesp_kmsg_delete_groups_request req;
    sesp_bufr r;
    sesp_bufr_init(&r, j->body, j->len);
    if (sesp_kmsg_delete_groups_request_decode(&r, j->version, &req, a) != 0) {
        j->done(j->ctx, NULL, SESP_ERR_MALFORMED);
        return;
    }
    sesp_kmsg_delete_groups_response resp;
    sesp_kmsg_delete_groups_response_init(&resp);
    int n = req.groups_names_count > 0 ? req.groups_names_count : 0;
    resp.results = sesp_arena_calloc(a, (size_t)n + 1, sizeof *resp.results);
    if (!resp.results) {
        j->done(j->ctx, NULL, SESP_ERR_NOMEM);
        return;
    }
    resp.results_count = n;
    int16_t gate = gc_gate(gc);
    for (int i = 0; i < n; i++) {
        resp.results[i].group_id = req.groups_names[i].len >= 0 ? req.groups_names[i] : SESP_KSTR("");
        if (gate)
            resp.results[i].error_code = gate;
        else if (req.groups_names[i].len < 0)
            resp.results[i].error_code = SESP_KERR_INVALID_GROUP_ID;
        else
            resp.results[i].error_code = delete_group(gc, req.groups_names[i]);
    }
    sesp_bufw w;
    sesp_bufw_init(&w, 64, 0);
    gc_send(j->done, j->ctx, &w, sesp_kmsg_delete_groups_response_encode(&w, j->version, &resp));
}
