/*
 * Internal types of the group coordinator, shared by its files:
 * coordinator.c (thread, queue, loading, retention), membership.c (the
 * rebalance state machine), offsets.c, admin.c, persist.c (the
 * __consumer_offsets records) and gmap.c (a byte-keyed hash map).  Everything
 * here is touched only on the coordinator thread with gc->mu held.
 */
#ifndef SESP_GROUP_INT_H
#define SESP_GROUP_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "broker/group/group.h"
#include "broker/protocol/kproto.h"
#include "common/arena.h"

/* ---- byte-keyed hash map (gmap.c) ---- */
typedef struct gmap_ent {
    struct gmap_ent *next;
    uint64_t h;
    size_t klen;
    void *val;
    uint8_t key[];
} gmap_ent;

typedef struct gmap {
    gmap_ent **b;
    size_t nb, n;
} gmap;

void *gmap_get(const gmap *m, const void *k, size_t klen);
int gmap_put(gmap *m, const void *k, size_t klen, void *val); /* 0 or SESP_ERR_NOMEM; replaces */
void *gmap_del(gmap *m, const void *k, size_t klen);           /* the removed value or NULL */
void gmap_free(gmap *m, void (*free_val)(void *));
#define GMAP_EACH(m, e, nx)                                                                                          \
    for (size_t gmap_i_ = 0; gmap_i_ < (m)->nb; gmap_i_++)                                                          \
        for (gmap_ent *e = (m)->b[gmap_i_], *nx = e ? e->next : NULL; e; e = nx, nx = e ? e->next : NULL)

/* ---- groups ---- */
typedef enum { GS_EMPTY, GS_PREPARING, GS_COMPLETING, GS_STABLE, GS_DEAD } gc_state;
const char *gc_state_name(gc_state s);

typedef struct gc_reply {      /* a parked JoinGroup/SyncGroup response */
    bool active;
    int16_t version;
    sesp_group_done_fn done;
    void *ctx;
} gc_reply;

typedef struct gc_proto {
    char *name;
    uint8_t *meta;
    int32_t meta_len;
} gc_proto;

typedef struct gc_group gc_group;
typedef struct sesp_group_coordinator gc_t;

typedef struct gc_member {
    struct gc_member *next;    /* join order */
    gc_group *g;
    char *id, *instance_id, *client_id, *client_host;
    int32_t session_timeout_ms, rebalance_timeout_ms;
    gc_proto *protos;
    int nprotos;
    uint8_t *assignment;
    int32_t assignment_len;
    gc_reply join, sync;
    bool pending_sync;         /* joined this generation, has not synced yet */
    struct event *hb_ev;       /* session timeout */
} gc_member;

typedef struct gc_pending {    /* member id handed out with MEMBER_ID_REQUIRED */
    struct gc_pending *next;
    gc_group *g;
    char *id;
    struct event *ev;
} gc_pending;

typedef struct gc_offset {
    char *topic;
    int32_t partition;
    int64_t offset;
    int32_t leader_epoch;
    char *metadata;
    int64_t commit_ts, expire_ts;
} gc_offset;

struct gc_group {
    gc_t *gc;
    char *id;                  /* may hold NULs: use gc_gid() */
    size_t id_len;
    int32_t partition;
    gc_state state;
    int64_t state_ts;          /* wall clock of the last transition */
    int32_t generation;
    char *protocol_type, *protocol, *leader;
    gc_member *members;
    int nmembers, n_awaiting_join;
    gc_pending *pending;
    struct event *timer_ev;    /* join (delay/rebalance timeout) or sync timeout */
    enum { GT_NONE, GT_INITIAL, GT_JOIN, GT_SYNC } timer_kind;
    bool new_member_added;
    int64_t initial_remaining_ms;
    gmap offsets;              /* topic bytes + be32 partition -> gc_offset */
};

typedef struct gc_job {
    struct gc_job *next;
    int16_t api_key, version;
    sesp_group_done_fn done;
    void *ctx;
    char *client_id, *client_host;
    size_t len;
    uint8_t body[];
} gc_job;

struct sesp_group_coordinator {
    sesp_group_config cfg;
    sesp_group_log_fn log_fn;
    void *log_ud;
    struct event_base *base;
    pthread_t thr;
    bool thr_started;
    pthread_mutex_t mu;        /* coordinator state */
    pthread_mutex_t qmu;       /* job queue */
    gc_job *qhead, *qtail;
    struct event *q_ev, *load_ev, *retention_ev, *stop_ev;
    bool loading, stopping;    /* stopping: under qmu */
    bool draining;             /* thread joined; answering what is left */
    int32_t load_next;
    gmap groups;               /* id -> gc_group */
};

/* coordinator.c */
/* 0 when serving; COORDINATOR_LOAD_IN_PROGRESS while loading; NOT_COORDINATOR once stopping. */
int16_t gc_gate(gc_t *gc);
int64_t gc_now_ms(void);
void gc_send(sesp_group_done_fn done, void *ctx, sesp_bufw *w, int enc_rc);
gc_group *gc_group_find(gc_t *gc, sesp_kstr id);
gc_group *gc_group_create(gc_t *gc, const char *id, size_t len); /* NULL on OOM */
void gc_group_remove(gc_t *gc, gc_group *g);                      /* unlinks and frees */
void gc_transition(gc_group *g, gc_state s);
char *gc_strndup(const char *s, size_t n);
static inline char *gc_kstrdup(sesp_kstr s) { return s.len < 0 ? NULL : gc_strndup(s.ptr ? s.ptr : "", (size_t)s.len); }
static inline sesp_kstr gc_gid(const gc_group *g) { return (sesp_kstr){ g->id, (int32_t)g->id_len }; }
static inline bool gc_str_eq(const char *a, sesp_kstr b) { return a && b.len >= 0 && sesp_kstr_eq(b, a); }

/* membership.c */
void gc_handle_join(gc_t *gc, gc_job *j, sesp_arena *a);
void gc_handle_sync(gc_t *gc, gc_job *j, sesp_arena *a);
void gc_handle_heartbeat(gc_t *gc, gc_job *j, sesp_arena *a);
void gc_handle_leave(gc_t *gc, gc_job *j, sesp_arena *a);
gc_member *gc_member_find(gc_group *g, sesp_kstr id);
gc_member *gc_member_by_instance(gc_group *g, sesp_kstr instance_id);
void gc_member_touch(gc_member *m);          /* restart the session timer */
void gc_group_free_members(gc_group *g, int16_t err); /* answers parked replies with err */
void gc_member_free(gc_member *m);
/* A zeroed member with its session timer, appended to g (loading). */
gc_member *gc_member_append(gc_group *g);
/* Subscribed topics of a "consumer" group (union over members), for
 * OffsetDelete / retention; NULL-terminated array in arena memory. */
const char **gc_subscribed_topics(gc_group *g, sesp_arena *a, bool *is_consumer);

/* offsets.c */
void gc_handle_offset_commit(gc_t *gc, gc_job *j, sesp_arena *a);
void gc_handle_offset_fetch(gc_t *gc, gc_job *j, sesp_arena *a);
void gc_handle_offset_delete(gc_t *gc, gc_job *j, sesp_arena *a);
gc_offset *gc_offset_get(gc_group *g, const char *topic, size_t tlen, int32_t partition);
int gc_offset_put(gc_group *g, const gc_offset *src);  /* copies; 0 or SESP_ERR_NOMEM */
void gc_offset_del(gc_group *g, const char *topic, size_t tlen, int32_t partition);
void gc_offset_free(void *p);
void gc_expire_offsets(gc_t *gc, int64_t now);

/* admin.c */
void gc_handle_list_groups(gc_t *gc, gc_job *j, sesp_arena *a);
void gc_handle_describe_groups(gc_t *gc, gc_job *j, sesp_arena *a);
void gc_handle_delete_groups(gc_t *gc, gc_job *j, sesp_arena *a);

/* persist.c */
typedef struct gc_rec {        /* one record to append; value NULL = tombstone */
    uint8_t *key;
    size_t key_len;
    uint8_t *value;
    size_t value_len;
    bool tombstone;
} gc_rec;
int gc_rec_offset(gc_rec *r, sesp_kstr group, const gc_offset *o, bool tombstone);
int gc_rec_group(gc_rec *r, const gc_group *g, bool tombstone);
void gc_rec_free(gc_rec *r, int n);
/* Appends the records as one RecordBatch to the group's partition; returns a
 * Kafka error code (0 on success) as the coordinator maps append failures. */
int16_t gc_append(gc_t *gc, int32_t partition, gc_rec *recs, int n);
int16_t gc_store_group(gc_t *gc, gc_group *g);
/* Replays one partition into gc->groups.  0 or SESP_ERR_*. */
int gc_load_partition(gc_t *gc, int32_t partition);

#endif
