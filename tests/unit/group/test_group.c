/*
 * Unit tests of broker/group: requests are encoded with the generated
 * encoders, posted through sesp_group_handle to a coordinator backed by real
 * __consumer_offsets logs in a temp dir, and the responses decoded.  Short
 * timeouts (initial delay 100 ms, min session 50 ms) keep rebalances quick.
 */
#include <CUnit/Basic.h>
#include <dirent.h>
#include <sys/stat.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker/group/group.h"
#include "broker/log/batch.h"
#include "broker/log/log.h"
#include "broker/protocol/generated/kmsg.h"
#include "broker/protocol/kerr.h"
#include "common/arena.h"
#include "common/err.h"

#define NPART 4
static char root[256];
static sesp_log *logs[NPART];
static sesp_group_coordinator *gc;
static sesp_group_config cfg;

static int32_t missing_part = -1;     /* a partition this node has no log of */

static sesp_log *log_fn(void *ud, int32_t p)
{
    (void)ud;
    return p >= 0 && p < NPART && p != missing_part ? logs[p] : NULL;
}

/* Loading can be held inside the log lookup of partition 0 (while hold_load). */
static pthread_mutex_t hold_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t hold_cv = PTHREAD_COND_INITIALIZER;
static bool hold_load;
static int held_calls;

static sesp_log *held_log_fn(void *ud, int32_t p)
{
    pthread_mutex_lock(&hold_mu);
    if (hold_load && p == 0) {
        held_calls++;
        pthread_cond_broadcast(&hold_cv);
        while (hold_load)
            pthread_cond_wait(&hold_cv, &hold_mu);
    }
    pthread_mutex_unlock(&hold_mu);
    return log_fn(ud, p);
}

static void open_logs(void)
{
    sesp_log_config lc;
    sesp_log_config_defaults(&lc);
    for (int p = 0; p < NPART; p++) {
        char dir[512];
        snprintf(dir, sizeof dir, "%s/__consumer_offsets-%d", root, p);
        CU_ASSERT_EQUAL_FATAL(sesp_log_open(dir, &lc, &logs[p]), 0);
    }
}

static void close_logs(void)
{
    for (int p = 0; p < NPART; p++) {
        sesp_log_close(logs[p]);
        logs[p] = NULL;
    }
}

/* ---- synchronous/asynchronous calls ---- */

typedef struct call {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
    int err;
    uint8_t *resp;
    size_t len;
} call;

static void done_cb(void *ctx, sesp_bufw *w, int err)
{
    call *c = ctx;
    pthread_mutex_lock(&c->mu);
    c->err = err;
    if (w)
        c->resp = sesp_bufw_steal(w, &c->len);
    c->done = true;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
}

static call *post_raw(int16_t key, int16_t ver, const uint8_t *body, size_t len)
{
    call *c = calloc(1, sizeof *c);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    sesp_group_handle_client(gc, key, ver, "cli", "127.0.0.1", body, len, done_cb, c);
    return c;
}

static call *post(int16_t key, int16_t ver, sesp_bufw *w)
{
    CU_ASSERT_EQUAL(w->err, 0);
    call *c = post_raw(key, ver, w->p, w->len);
    sesp_bufw_free(w);
    return c;
}

static bool wait_call(call *c, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&c->mu);
    while (!c->done)
        if (pthread_cond_timedwait(&c->cv, &c->mu, &ts) != 0)
            break;
    bool d = c->done;
    pthread_mutex_unlock(&c->mu);
    return d;
}

static bool is_done(call *c)
{
    pthread_mutex_lock(&c->mu);
    bool d = c->done;
    pthread_mutex_unlock(&c->mu);
    return d;
}

/* Decoded responses point into their buffers: keep them until teardown. */
static uint8_t **kept;
static size_t nkept;

static void call_free(call *c)
{
    if (!c)
        return;
    wait_call(c, 5000);
    uint8_t **k = realloc(kept, (nkept + 1) * sizeof *k);
    if (k) {
        kept = k;
        kept[nkept++] = c->resp;
    } else {
        free(c->resp);
    }
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
}

static sesp_arena ar; /* decoded responses live here until the test ends */

/* ---- request builders ---- */

static uint8_t sub_meta[256];
static size_t sub_meta_len;

/* ConsumerProtocolSubscription v0 for `topic`, with its int16 version prefix. */
static sesp_kbytes subscription(const char *topic)
{
    sesp_bufw w;
    sesp_bufw_init(&w, 64, 0);
    sesp_bufw_i16(&w, 0);
    sesp_kmsg_consumer_protocol_subscription s;
    sesp_kmsg_consumer_protocol_subscription_init(&s);
    sesp_kstr t = SESP_KSTR(topic);
    s.topics = &t;
    s.topics_count = 1;
    s.user_data = SESP_KBYTES_NULL;
    CU_ASSERT_EQUAL(sesp_kmsg_consumer_protocol_subscription_encode(&w, 0, &s), 0);
    memcpy(sub_meta, w.p, w.len);
    sub_meta_len = w.len;
    sesp_bufw_free(&w);
    return (sesp_kbytes){ sub_meta, (int32_t)sub_meta_len };
}

static call *join_ex(const char *gid, const char *mid, const char *inst, int16_t ver, const char *proto,
                     sesp_kbytes meta, int32_t session_ms)
{
    sesp_kmsg_join_group_request r;
    sesp_kmsg_join_group_request_init(&r);
    r.group_id = SESP_KSTR(gid);
    r.session_timeout_ms = session_ms;
    r.rebalance_timeout_ms = 2000;
    r.member_id = SESP_KSTR(mid ? mid : "");
    r.group_instance_id = inst ? SESP_KSTR(inst) : SESP_KSTR_NULL;
    r.protocol_type = SESP_KSTR("consumer");
    sesp_kmsg_join_group_request_join_group_request_protocol p = { SESP_KSTR(proto), meta };
    r.protocols = &p;
    r.protocols_count = 1;
    sesp_bufw w;
    sesp_bufw_init(&w, 128, 0);
    CU_ASSERT_EQUAL(sesp_kmsg_join_group_request_encode(&w, ver, &r), 0);
    return post(11, ver, &w);
}

static call *join(const char *gid, const char *mid, const char *inst, int16_t ver)
{
    return join_ex(gid, mid, inst, ver, "range", subscription("t1"), 10000);
}

static sesp_kmsg_join_group_response join_resp(call *c, int16_t ver)
{
    sesp_kmsg_join_group_response r;
    sesp_kmsg_join_group_response_init(&r);
    r.error_code = -100;
    CU_ASSERT_FATAL(wait_call(c, 5000));
    CU_ASSERT_EQUAL_FATAL(c->err, 0);
    sesp_bufr rd;
    sesp_bufr_init(&rd, c->resp, c->len);
    CU_ASSERT_EQUAL(sesp_kmsg_join_group_response_decode(&rd, ver, &r, &ar), 0);
    return r;
}

static char *kdup(sesp_kstr s)
{
    return s.len < 0 ? NULL : sesp_arena_strndup(&ar, s.ptr ? s.ptr : "", (size_t)s.len);
}

/* Full KIP-394 join: MEMBER_ID_REQUIRED round then the real join (parked). */
static call *join_v9(const char *gid, char **mid_out)
{
    call *c = join(gid, NULL, NULL, 9);
    sesp_kmsg_join_group_response r = join_resp(c, 9);
    CU_ASSERT_EQUAL(r.error_code, SESP_KERR_MEMBER_ID_REQUIRED);
    CU_ASSERT(r.member_id.len > 0);
    *mid_out = kdup(r.member_id);
    call_free(c);
    return join(gid, *mid_out, NULL, 9);
}

static call *sync_req(const char *gid, const char *mid, const char *inst, int32_t gen, int n, const char **mids,
                      const char **assign)
{
    sesp_kmsg_sync_group_request r;
    sesp_kmsg_sync_group_request_init(&r);
    r.group_id = SESP_KSTR(gid);
    r.generation_id = gen;
    r.member_id = SESP_KSTR(mid);
    r.group_instance_id = inst ? SESP_KSTR(inst) : SESP_KSTR_NULL;
    r.protocol_type = SESP_KSTR("consumer");
    r.protocol_name = SESP_KSTR("range");
    sesp_kmsg_sync_group_request_sync_group_request_assignment as[8];
    for (int i = 0; i < n; i++) {
        as[i].member_id = SESP_KSTR(mids[i]);
        as[i].assignment = (sesp_kbytes){ (const uint8_t *)assign[i], (int32_t)strlen(assign[i]) };
    }
    r.assignments = as;
    r.assignments_count = n;
    sesp_bufw w;
    sesp_bufw_init(&w, 128, 0);
    CU_ASSERT_EQUAL(sesp_kmsg_sync_group_request_encode(&w, 5, &r), 0);
    return post(14, 5, &w);
}

static sesp_kmsg_sync_group_response sync_resp(call *c)
{
    sesp_kmsg_sync_group_response r;
    sesp_kmsg_sync_group_response_init(&r);
    r.error_code = -100;
    CU_ASSERT_FATAL(wait_call(c, 5000));
    CU_ASSERT_EQUAL_FATAL(c->err, 0);
    sesp_bufr rd;
    sesp_bufr_init(&rd, c->resp, c->len);
    CU_ASSERT_EQUAL(sesp_kmsg_sync_group_response_decode(&rd, 5, &r, &ar), 0);
    return r;
}

static bool bytes_eq(sesp_kbytes b, const char *s)
{
    return b.len == (int32_t)strlen(s) && (b.len == 0 || memcmp(b.ptr, s, (size_t)b.len) == 0);
}

static call *heartbeat_post(const char *gid, const char *mid, const char *inst, int32_t gen)
{
    sesp_kmsg_heartbeat_request r;
    sesp_kmsg_heartbeat_request_init(&r);
    r.group_id = SESP_KSTR(gid);
    r.generation_id = gen;
    r.member_id = SESP_KSTR(mid);
    r.group_instance_id = inst ? SESP_KSTR(inst) : SESP_KSTR_NULL;
    sesp_bufw w;
    sesp_bufw_init(&w, 64, 0);
    CU_ASSERT_EQUAL(sesp_kmsg_heartbeat_request_encode(&w, 4, &r), 0);
    return post(12, 4, &w);
}

static int16_t heartbeat_result(call *c)
{
    CU_ASSERT_FATAL(wait_call(c, 5000));
    sesp_kmsg_heartbeat_response hr;
    sesp_bufr rd;
    sesp_bufr_init(&rd, c->resp, c->len);
    CU_ASSERT_EQUAL(sesp_kmsg_heartbeat_response_decode(&rd, 4, &hr, &ar), 0);
    call_free(c);
    return hr.error_code;
}

static int16_t heartbeat(const char *gid, const char *mid, const char *inst, int32_t gen)
{
    return heartbeat_result(heartbeat_post(gid, mid, inst, gen));
}

static int16_t leave(const char *gid, const char *mid, const char *inst)
{
    sesp_kmsg_leave_group_request r;
    sesp_kmsg_leave_group_request_init(&r);
    r.group_id = SESP_KSTR(gid);
    sesp_kmsg_leave_group_request_member_identity m;
    sesp_kmsg_leave_group_request_member_identity_init(&m);
    m.member_id = SESP_KSTR(mid ? mid : "");
    m.group_instance_id = inst ? SESP_KSTR(inst) : SESP_KSTR_NULL;
    r.members = &m;
    r.members_count = 1;
    sesp_bufw w;
    sesp_bufw_init(&w, 64, 0);
    CU_ASSERT_EQUAL(sesp_kmsg_leave_group_request_encode(&w, 5, &r), 0);
    call *c = post(13, 5, &w);
    CU_ASSERT_FATAL(wait_call(c, 5000));
    sesp_kmsg_leave_group_response lr;
    sesp_bufr rd;
    sesp_bufr_init(&rd, c->resp, c->len);
    CU_ASSERT_EQUAL(sesp_kmsg_leave_group_response_decode(&rd, 5, &lr, &ar), 0);
    call_free(c);
    CU_ASSERT_EQUAL_FATAL(lr.members_count, 1);
    CU_ASSERT_EQUAL(lr.error_code, 0);
    return lr.members[0].error_code;
}

static call *commit_post(const char *gid, const char *mid, int32_t gen, const char *topic, int32_t part, int64_t off,
                         int16_t ver)
{
    sesp_kmsg_offset_commit_request r;
    sesp_kmsg_offset_commit_request_init(&r);
    r.group_id = SESP_KSTR(gid);
    r.generation_id_or_member_epoch = gen;
    r.member_id = SESP_KSTR(mid ? mid : "");
    sesp_kmsg_offset_commit_request_offset_commit_request_partition p;
    memset(&p, 0, sizeof p);
    p.partition_index = part;
    p.committed_offset = off;
    p.committed_leader_epoch = -1;
    p.commit_timestamp = -1;
    p.committed_metadata = SESP_KSTR("meta");
    sesp_kmsg_offset_commit_request_offset_commit_request_topic t = { SESP_KSTR(topic), &p, 1 };
    r.topics = &t;
    r.topics_count = 1;
    sesp_bufw w;
    sesp_bufw_init(&w, 64, 0);
    CU_ASSERT_EQUAL(sesp_kmsg_offset_commit_request_encode(&w, ver, &r), 0);
    return post(8, ver, &w);
}

static int16_t commit_result(call *c, int16_t ver)
{
    CU_ASSERT_FATAL(wait_call(c, 5000));
    sesp_kmsg_offset_commit_response cr;
    sesp_bufr rd;
    sesp_bufr_init(&rd, c->resp, c->len);
    CU_ASSERT_EQUAL(sesp_kmsg_offset_commit_response_decode(&rd, ver, &cr, &ar), 0);
    call_free(c);
    CU_ASSERT_EQUAL_FATAL(cr.topics_count, 1);
    CU_ASSERT_EQUAL_FATAL(cr.topics[0].partitions_count, 1);
    return cr.topics[0].partitions[0].error_code;
}

static int16_t commit(const char *gid, const char *mid, int32_t gen, const char *topic, int32_t part, int64_t off,
                      int16_t ver)
{
    return commit_result(commit_post(gid, mid, gen, topic, part, off, ver), ver);
}

/* OffsetFetch v7 of one partition; returns the offset, *err the error. */
static call *fetch7_post(const char *gid, const char *topic, int32_t part)
{
    sesp_kmsg_offset_fetch_request r;
    sesp_kmsg_offset_fetch_request_init(&r);
    r.group_id = SESP_KSTR(gid);
    sesp_kmsg_offset_fetch_request_offset_fetch_request_topic t = { SESP_KSTR(topic), &part, 1 };
    r.topics = &t;
    r.topics_count = 1;
    sesp_bufw w;
    sesp_bufw_init(&w, 64, 0);
    CU_ASSERT_EQUAL(sesp_kmsg_offset_fetch_request_encode(&w, 7, &r), 0);
    return post(9, 7, &w);
}

static int64_t fetch7_result(call *c, int16_t *err)
{
    CU_ASSERT_FATAL(wait_call(c, 5000));
    sesp_kmsg_offset_fetch_response fr;
    sesp_bufr rd;
    sesp_bufr_init(&rd, c->resp, c->len);
    CU_ASSERT_EQUAL(sesp_kmsg_offset_fetch_response_decode(&rd, 7, &fr, &ar), 0);
    call_free(c);
    *err = fr.error_code;
    if (fr.error_code)
        return -2;
    CU_ASSERT_EQUAL_FATAL(fr.topics_count, 1);
    CU_ASSERT_EQUAL_FATAL(fr.topics[0].partitions_count, 1);
    if (fr.topics[0].partitions[0].error_code)
        *err = fr.topics[0].partitions[0].error_code;
    return fr.topics[0].partitions[0].committed_offset;
}

static int64_t fetch7(const char *gid, const char *topic, int32_t part, int16_t *err)
{
    return fetch7_result(fetch7_post(gid, topic, part), err);
}

static sesp_kmsg_describe_groups_response_described_group describe(const char *gid)
{
    sesp_kmsg_describe_groups_request r;
    sesp_kmsg_describe_groups_request_init(&r);
    sesp_kstr g = SESP_KSTR(gid);
    r.groups = &g;
    r.groups_count = 1;
    sesp_bufw w;
    sesp_bufw_init(&w, 64, 0);
    CU_ASSERT_EQUAL(sesp_kmsg_describe_groups_request_encode(&w, 5, &r), 0);
    call *c = post(15, 5, &w);
    CU_ASSERT_FATAL(wait_call(c, 5000));
    sesp_kmsg_describe_groups_response dr;
    sesp_bufr rd;
    sesp_bufr_init(&rd, c->resp, c->len);
    CU_ASSERT_EQUAL(sesp_kmsg_describe_groups_response_decode(&rd, 5, &dr, &ar), 0);
    call_free(c);
    CU_ASSERT_EQUAL_FATAL(dr.groups_count, 1);
    return dr.groups[0];
}

static void wait_loaded(void)
{
    for (int i = 0; i < 500; i++) {
        int16_t err;
        fetch7("probe", "t", 0, &err);
        if (err != SESP_KERR_COORDINATOR_LOAD_IN_PROGRESS)
            return;
        usleep(10000);
    }
    CU_FAIL("coordinator never finished loading");
}

static void start_gc(void)
{
    CU_ASSERT_EQUAL_FATAL(sesp_group_start(&cfg, log_fn, NULL, &gc), 0);
    wait_loaded();
}

/* A test rather than the suite's init: CUnit forbids assertions there. */
static void test_start(void)
{
    snprintf(root, sizeof root, "/tmp/sesp-group-XXXXXX");
    CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(root));
    sesp_group_config_defaults(&cfg);
    cfg.offsets_topic_partitions = NPART;
    cfg.initial_rebalance_delay_ms = 100;
    cfg.min_session_timeout_ms = 50;
    cfg.max_metadata_bytes = 64 * 1024;
    sesp_arena_init(&ar, 0);
    open_logs();
    start_gc();
}

static int teardown(void)
{
    sesp_group_stop(gc);
    close_logs();
    sesp_arena_free(&ar);
    for (size_t i = 0; i < nkept; i++)
        free(kept[i]);
    free(kept);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    return system(cmd) == 0 ? 0 : 1;
}

/* ---- tests ---- */

/* A stop right after start, before the coordinator thread has entered its
 * loop, must not hang (a loopbreak issued that early is lost by libevent). */
static void test_stop_right_after_start(void)
{
    for (int i = 0; i < 50; i++) {
        sesp_group_coordinator *g = NULL;
        CU_ASSERT_EQUAL_FATAL(sesp_group_start(&cfg, log_fn, NULL, &g), 0);
        sesp_group_stop(g);
    }
}

static void test_partition_for(void)
{
    /* Expected values from Java's String.hashCode (computed independently). */
    CU_ASSERT_EQUAL(sesp_group_partition_for("test-group", 10, 50), 12);
    CU_ASSERT_EQUAL(sesp_group_partition_for("my-group", 8, 50), 12);
    CU_ASSERT_EQUAL(sesp_group_partition_for("console-consumer-12345", 22, 50), 6);
    const char *u = "gr\xc3\xbcppe-\xf0\x9f\x98\x80"; /* "grüppe-😀": a surrogate pair in UTF-16 */
    CU_ASSERT_EQUAL(sesp_group_partition_for(u, strlen(u), 50), 14);
    CU_ASSERT_EQUAL(sesp_group_partition_for("", 0, 50), 0);
    CU_ASSERT_EQUAL(sesp_group_partition_for("a", 1, 50), 47);
    CU_ASSERT(sesp_group_handles(11) && sesp_group_handles(47) && !sesp_group_handles(0) && !sesp_group_handles(10));
}

static void test_single_member_cycle(void)
{
    char *mid;
    call *c = join_v9("g1", &mid);
    usleep(30000);
    CU_ASSERT_FALSE(is_done(c)); /* held for the initial rebalance delay */
    sesp_kmsg_join_group_response r = join_resp(c, 9);
    CU_ASSERT_EQUAL(r.error_code, 0);
    CU_ASSERT_EQUAL(r.generation_id, 1);
    CU_ASSERT(sesp_kstr_eq(r.leader, mid));
    CU_ASSERT(sesp_kstr_eq(r.member_id, mid));
    CU_ASSERT(sesp_kstr_eq(r.protocol_name, "range"));
    CU_ASSERT(sesp_kstr_eq(r.protocol_type, "consumer"));
    CU_ASSERT_EQUAL(r.members_count, 1);
    CU_ASSERT(strncmp(mid, "cli-", 4) == 0);
    call_free(c);

    CU_ASSERT_EQUAL(heartbeat("g1", mid, NULL, 1), 0); /* CompletingRebalance accepts heartbeats */
    const char *mids[] = { mid };
    const char *as[] = { "A1" };
    c = sync_req("g1", mid, NULL, 1, 1, mids, as);
    sesp_kmsg_sync_group_response s = sync_resp(c);
    CU_ASSERT_EQUAL(s.error_code, 0);
    CU_ASSERT(bytes_eq(s.assignment, "A1"));
    call_free(c);
    CU_ASSERT_EQUAL(heartbeat("g1", mid, NULL, 1), 0);
    CU_ASSERT_EQUAL(heartbeat("g1", mid, NULL, 7), SESP_KERR_ILLEGAL_GENERATION);
    CU_ASSERT_EQUAL(heartbeat("g1", "nobody", NULL, 1), SESP_KERR_UNKNOWN_MEMBER_ID);
    CU_ASSERT_EQUAL(heartbeat("nogroup", mid, NULL, 1), SESP_KERR_UNKNOWN_MEMBER_ID);
    /* A follower-style rejoin of the leader with the same metadata rebalances (leader). */
    sesp_kmsg_describe_groups_response_described_group d = describe("g1");
    CU_ASSERT(sesp_kstr_eq(d.group_state, "Stable"));
    CU_ASSERT(sesp_kstr_eq(d.protocol_data, "range"));
    CU_ASSERT_EQUAL_FATAL(d.members_count, 1);
    CU_ASSERT(bytes_eq(d.members[0].member_assignment, "A1"));
    CU_ASSERT(sesp_kstr_eq(d.members[0].client_host, "127.0.0.1"));
    /* Sync with a wrong generation and an unknown member. */
    c = sync_req("g1", mid, NULL, 3, 0, NULL, NULL);
    CU_ASSERT_EQUAL(sync_resp(c).error_code, SESP_KERR_ILLEGAL_GENERATION);
    call_free(c);
    c = sync_req("g1", "zz", NULL, 1, 0, NULL, NULL);
    CU_ASSERT_EQUAL(sync_resp(c).error_code, SESP_KERR_UNKNOWN_MEMBER_ID);
    call_free(c);
    CU_ASSERT_EQUAL(leave("g1", mid, NULL), 0);
    usleep(20000);
    d = describe("g1");
    CU_ASSERT(sesp_kstr_eq(d.group_state, "Empty"));
}

/* Brings n dynamic members of gid to Stable; returns the generation. */
static int32_t three_stable(const char *gid, int n, char **mids)
{
    call *c[8];
    for (int i = 0; i < n; i++)
        c[i] = join_v9(gid, &mids[i]);
    sesp_kmsg_join_group_response r[8];
    int leader = -1;
    for (int i = 0; i < n; i++) {
        r[i] = join_resp(c[i], 9);
        CU_ASSERT_EQUAL(r[i].error_code, 0);
        if (sesp_kstr_eq(r[i].leader, mids[i]))
            leader = i;
    }
    CU_ASSERT_FATAL(leader >= 0);
    int32_t gen = r[0].generation_id;
    for (int i = 0; i < n; i++) {
        CU_ASSERT_EQUAL(r[i].generation_id, gen);
        CU_ASSERT_EQUAL(r[i].members_count, i == leader ? n : 0);
        call_free(c[i]);
    }
    /* Followers first: they park until the leader's assignment arrives. */
    call *s[8];
    for (int i = 0; i < n; i++)
        if (i != leader)
            s[i] = sync_req(gid, mids[i], NULL, gen, 0, NULL, NULL);
    usleep(20000);
    for (int i = 0; i < n; i++)
        if (i != leader)
            CU_ASSERT_FALSE(is_done(s[i]));
    const char *as[8];
    char buf[8][32];
    for (int i = 0; i < n; i++) {
        snprintf(buf[i], sizeof buf[i], "assign-%d", i);
        as[i] = buf[i];
    }
    s[leader] = sync_req(gid, mids[leader], NULL, gen, n, (const char **)mids, as);
    for (int i = 0; i < n; i++) {
        sesp_kmsg_sync_group_response sr = sync_resp(s[i]);
        CU_ASSERT_EQUAL(sr.error_code, 0);
        CU_ASSERT(bytes_eq(sr.assignment, as[i]));
        call_free(s[i]);
    }
    return gen;
}

static void test_three_members_and_leave(void)
{
    char *m[3];
    int32_t gen = three_stable("g3", 3, m);
    CU_ASSERT_EQUAL(gen, 1);
    sesp_kmsg_describe_groups_response_described_group d = describe("g3");
    CU_ASSERT(sesp_kstr_eq(d.group_state, "Stable"));
    CU_ASSERT_EQUAL(d.members_count, 3);
    /* One leaves: the others learn through heartbeats and rejoin. */
    CU_ASSERT_EQUAL(leave("g3", m[2], NULL), 0);
    CU_ASSERT_EQUAL(leave("g3", m[2], NULL), SESP_KERR_UNKNOWN_MEMBER_ID);
    CU_ASSERT_EQUAL(heartbeat("g3", m[0], NULL, gen), SESP_KERR_REBALANCE_IN_PROGRESS);
    CU_ASSERT_EQUAL(heartbeat("g3", m[1], NULL, gen), SESP_KERR_REBALANCE_IN_PROGRESS);
    call *j0 = join("g3", m[0], NULL, 9);
    usleep(20000);
    CU_ASSERT_FALSE(is_done(j0)); /* waits for m[1] */
    call *j1 = join("g3", m[1], NULL, 9);
    sesp_kmsg_join_group_response r0 = join_resp(j0, 9), r1 = join_resp(j1, 9);
    CU_ASSERT_EQUAL(r0.error_code, 0);
    CU_ASSERT_EQUAL(r1.error_code, 0);
    CU_ASSERT_EQUAL(r0.generation_id, 2);
    CU_ASSERT_EQUAL(r1.generation_id, 2);
    CU_ASSERT_EQUAL(r0.members_count + r1.members_count, 2);
    call_free(j0);
    call_free(j1);
    /* Old generation is now illegal. */
    CU_ASSERT_EQUAL(heartbeat("g3", m[0], NULL, 1), SESP_KERR_ILLEGAL_GENERATION);
    /* A second rebalance right away (cooperative-sticky rejoins twice). */
    const char *mm[] = { m[0], m[1] };
    const char *as[] = { "x", "y" };
    call *s0 = sync_req("g3", m[0], NULL, 2, 2, mm, as), *s1 = sync_req("g3", m[1], NULL, 2, 2, mm, as);
    CU_ASSERT_EQUAL(sync_resp(s0).error_code, 0);
    CU_ASSERT_EQUAL(sync_resp(s1).error_code, 0);
    call_free(s0);
    call_free(s1);
    j0 = join_ex("g3", m[0], NULL, 9, "range", subscription("t2"), 10000); /* metadata changed */
    usleep(20000);
    CU_ASSERT_EQUAL(heartbeat("g3", m[1], NULL, 2), SESP_KERR_REBALANCE_IN_PROGRESS);
    j1 = join("g3", m[1], NULL, 9);
    r0 = join_resp(j0, 9);
    r1 = join_resp(j1, 9);
    CU_ASSERT_EQUAL(r0.generation_id, 3);
    CU_ASSERT_EQUAL(r1.generation_id, 3);
    call_free(j0);
    call_free(j1);
    s0 = sync_req("g3", m[0], NULL, 3, 2, mm, as);
    s1 = sync_req("g3", m[1], NULL, 3, 2, mm, as);
    CU_ASSERT_EQUAL(sync_resp(s0).error_code, 0);
    CU_ASSERT_EQUAL(sync_resp(s1).error_code, 0);
    call_free(s0);
    call_free(s1);
    CU_ASSERT_EQUAL(heartbeat("g3", m[0], NULL, 3), 0);
}

static void test_session_expiry(void)
{
    /* v3 joins (no member-id round) with short sessions. */
    call *a = join_ex("gs2", NULL, NULL, 3, "range", subscription("t1"), 300);
    call *b = join_ex("gs2", NULL, NULL, 3, "range", subscription("t1"), 300);
    sesp_kmsg_join_group_response ra = join_resp(a, 3), rb = join_resp(b, 3);
    CU_ASSERT_EQUAL(ra.error_code, 0);
    CU_ASSERT_EQUAL(rb.error_code, 0);
    char *ida = kdup(ra.member_id), *idb = kdup(rb.member_id);
    call_free(a);
    call_free(b);
    const char *mm[] = { ida, idb };
    const char *as[] = { "a", "b" };
    call *sa = sync_req("gs2", ida, NULL, 1, 2, mm, as), *sb = sync_req("gs2", idb, NULL, 1, 2, mm, as);
    CU_ASSERT_EQUAL(sync_resp(sa).error_code, 0);
    CU_ASSERT_EQUAL(sync_resp(sb).error_code, 0);
    call_free(sa);
    call_free(sb);
    /* Only a heartbeats; b's session expires and the group rebalances. */
    int16_t err = 0;
    for (int i = 0; i < 20 && err == 0; i++) {
        usleep(50000);
        err = heartbeat("gs2", ida, NULL, 1);
    }
    CU_ASSERT_EQUAL(err, SESP_KERR_REBALANCE_IN_PROGRESS);
    CU_ASSERT_EQUAL(heartbeat("gs2", idb, NULL, 1), SESP_KERR_UNKNOWN_MEMBER_ID);
    a = join_ex("gs2", ida, NULL, 3, "range", subscription("t1"), 300);
    ra = join_resp(a, 3);
    CU_ASSERT_EQUAL(ra.error_code, 0);
    CU_ASSERT_EQUAL(ra.generation_id, 2);
    CU_ASSERT_EQUAL(ra.members_count, 1);
    call_free(a);
    /* Invalid session timeout. */
    a = join_ex("gs2", NULL, NULL, 3, "range", subscription("t1"), 10);
    CU_ASSERT_EQUAL(join_resp(a, 3).error_code, SESP_KERR_INVALID_SESSION_TIMEOUT);
    call_free(a);
    /* Inconsistent protocol type / protocols. */
    a = join_ex("gs2", NULL, NULL, 3, "other", subscription("t1"), 1000);
    CU_ASSERT_EQUAL(join_resp(a, 3).error_code, SESP_KERR_INCONSISTENT_GROUP_PROTOCOL);
    call_free(a);
    /* A parked JoinGroup's member id that was never confirmed expires too. */
    CU_ASSERT_EQUAL(leave("gs2", ida, NULL), 0);
}

static void test_static_member(void)
{
    call *c = join("gst", NULL, "inst-1", 9); /* static: no MEMBER_ID_REQUIRED round */
    sesp_kmsg_join_group_response r = join_resp(c, 9);
    CU_ASSERT_EQUAL(r.error_code, 0);
    CU_ASSERT_EQUAL(r.generation_id, 1);
    char *old = kdup(r.member_id);
    CU_ASSERT(strncmp(old, "inst-1-", 7) == 0);
    call_free(c);
    const char *mm[] = { old };
    const char *as[] = { "static-assign" };
    c = sync_req("gst", old, "inst-1", 1, 1, mm, as);
    CU_ASSERT_EQUAL(sync_resp(c).error_code, 0);
    call_free(c);
    /* Restarted instance: unknown member id, same instance id and metadata. */
    c = join("gst", NULL, "inst-1", 9);
    CU_ASSERT(wait_call(c, 50)); /* answered at once: no rebalance */
    r = join_resp(c, 9);
    CU_ASSERT_EQUAL(r.error_code, 0);
    CU_ASSERT_EQUAL(r.generation_id, 1);
    CU_ASSERT(r.skip_assignment); /* it is the leader */
    char *nw = kdup(r.member_id);
    CU_ASSERT(strcmp(nw, old) != 0);
    call_free(c);
    c = sync_req("gst", nw, "inst-1", 1, 0, NULL, NULL);
    sesp_kmsg_sync_group_response s = sync_resp(c);
    CU_ASSERT_EQUAL(s.error_code, 0);
    CU_ASSERT(bytes_eq(s.assignment, "static-assign"));
    call_free(c);
    CU_ASSERT_EQUAL(heartbeat("gst", old, "inst-1", 1), SESP_KERR_FENCED_INSTANCE_ID);
    CU_ASSERT_EQUAL(heartbeat("gst", nw, "inst-1", 1), 0);
    CU_ASSERT_EQUAL(commit("gst", old, 1, "t1", 0, 5, 8), SESP_KERR_UNKNOWN_MEMBER_ID);
    CU_ASSERT_EQUAL(commit("gst", nw, 1, "t1", 0, 5, 8), 0);
    sesp_kmsg_describe_groups_response_described_group d = describe("gst");
    CU_ASSERT(sesp_kstr_eq(d.group_state, "Stable"));
    CU_ASSERT_EQUAL_FATAL(d.members_count, 1);
    CU_ASSERT(sesp_kstr_eq(d.members[0].group_instance_id, "inst-1"));
    /* Static leave by instance id alone. */
    CU_ASSERT_EQUAL(leave("gst", NULL, "inst-1"), 0);
    usleep(20000);
    d = describe("gst");
    CU_ASSERT(sesp_kstr_eq(d.group_state, "Empty"));
}

static void test_offsets(void)
{
    /* Standalone consumer: generation -1, no member id. */
    CU_ASSERT_EQUAL(commit("simple", NULL, -1, "t1", 0, 42, 2), 0);
    CU_ASSERT_EQUAL(commit("simple", NULL, -1, "t1", 1, 43, 8), 0);
    CU_ASSERT_EQUAL(commit("simple", NULL, -1, "t2", 0, 7, 0), 0);
    int16_t err;
    CU_ASSERT_EQUAL(fetch7("simple", "t1", 0, &err), 42);
    CU_ASSERT_EQUAL(err, 0);
    CU_ASSERT_EQUAL(fetch7("simple", "t1", 1, &err), 43);
    CU_ASSERT_EQUAL(fetch7("simple", "t1", 9, &err), -1);
    CU_ASSERT_EQUAL(err, 0);
    CU_ASSERT_EQUAL(fetch7("unknown-group", "t1", 0, &err), -1);
    CU_ASSERT_EQUAL(sesp_group_committed_offset(gc, "simple", "t2", 0), 7);
    CU_ASSERT_EQUAL(sesp_group_committed_offset(gc, "simple", "t9", 0), -1);
    /* A generation >= 0 for an unknown group is illegal. */
    CU_ASSERT_EQUAL(commit("ghost", "m", 3, "t1", 0, 1, 8), SESP_KERR_ILLEGAL_GENERATION);
    /* The record went to the group's __consumer_offsets partition. */
    int32_t p = sesp_group_partition_for("simple", 6, NPART);
    CU_ASSERT(sesp_log_end_offset(logs[p]) >= 3);

    /* v8 multi-group fetch with all topics (null) for "simple". */
    sesp_kmsg_offset_fetch_request r;
    sesp_kmsg_offset_fetch_request_init(&r);
    sesp_kmsg_offset_fetch_request_offset_fetch_request_group gs[2];
    memset(gs, 0, sizeof gs);
    gs[0].group_id = SESP_KSTR("simple");
    gs[0].topics = NULL;
    gs[0].topics_count = -1;
    gs[0].member_id = SESP_KSTR_NULL;
    int32_t part0 = 0;
    sesp_kmsg_offset_fetch_request_offset_fetch_request_topics tt = { SESP_KSTR("t1"), &part0, 1 };
    gs[1].group_id = SESP_KSTR("nope");
    gs[1].topics = &tt;
    gs[1].topics_count = 1;
    gs[1].member_id = SESP_KSTR_NULL;
    r.groups = gs;
    r.groups_count = 2;
    sesp_bufw w;
    sesp_bufw_init(&w, 64, 0);
    CU_ASSERT_EQUAL(sesp_kmsg_offset_fetch_request_encode(&w, 8, &r), 0);
    call *c = post(9, 8, &w);
    CU_ASSERT_FATAL(wait_call(c, 5000));
    sesp_kmsg_offset_fetch_response fr;
    sesp_bufr rd;
    sesp_bufr_init(&rd, c->resp, c->len);
    CU_ASSERT_EQUAL_FATAL(sesp_kmsg_offset_fetch_response_decode(&rd, 8, &fr, &ar), 0);
    call_free(c);
    CU_ASSERT_EQUAL_FATAL(fr.groups_count, 2);
    CU_ASSERT_EQUAL_FATAL(fr.groups[0].topics_count, 2);
    CU_ASSERT(sesp_kstr_eq(fr.groups[0].topics[0].name, "t1"));
    CU_ASSERT_EQUAL_FATAL(fr.groups[0].topics[0].partitions_count, 2);
    CU_ASSERT_EQUAL(fr.groups[0].topics[0].partitions[1].committed_offset, 43);
    CU_ASSERT(sesp_kstr_eq(fr.groups[0].topics[0].partitions[1].metadata, "meta"));
    CU_ASSERT_EQUAL(fr.groups[0].topics[1].partitions[0].committed_offset, 7);
    CU_ASSERT_EQUAL_FATAL(fr.groups[1].topics_count, 1);
    CU_ASSERT_EQUAL(fr.groups[1].topics[0].partitions[0].committed_offset, -1);

    /* Members commit with their generation; wrong ones are refused. */
    char *m[2];
    int32_t gen = three_stable("gc1", 2, m);
    CU_ASSERT_EQUAL(commit("gc1", m[0], gen, "t1", 0, 100, 8), 0);
    CU_ASSERT_EQUAL(commit("gc1", m[0], gen + 5, "t1", 0, 101, 8), SESP_KERR_ILLEGAL_GENERATION);
    CU_ASSERT_EQUAL(commit("gc1", "stranger", gen, "t1", 0, 101, 8), SESP_KERR_UNKNOWN_MEMBER_ID);
    CU_ASSERT_EQUAL(commit("gc1", NULL, -1, "t1", 0, 101, 8), SESP_KERR_UNKNOWN_MEMBER_ID);
    CU_ASSERT_EQUAL(fetch7("gc1", "t1", 0, &err), 100);
}

static void test_admin(void)
{
    char *m[2];
    int32_t gen = three_stable("gadm", 2, m);
    CU_ASSERT_EQUAL(commit("gadm", m[0], gen, "t1", 0, 10, 8), 0);
    CU_ASSERT_EQUAL(commit("gadm", m[0], gen, "other", 0, 11, 8), 0);
    /* ListGroups v4 with a states filter. */
    sesp_kmsg_list_groups_request lr;
    sesp_kmsg_list_groups_request_init(&lr);
    sesp_kstr st = SESP_KSTR("Stable");
    lr.states_filter = &st;
    lr.states_filter_count = 1;
    sesp_bufw w;
    sesp_bufw_init(&w, 64, 0);
    CU_ASSERT_EQUAL(sesp_kmsg_list_groups_request_encode(&w, 4, &lr), 0);
    call *c = post(16, 4, &w);
    CU_ASSERT_FATAL(wait_call(c, 5000));
    sesp_kmsg_list_groups_response lres;
    sesp_bufr rd;
    sesp_bufr_init(&rd, c->resp, c->len);
    CU_ASSERT_EQUAL_FATAL(sesp_kmsg_list_groups_response_decode(&rd, 4, &lres, &ar), 0);
    call_free(c);
    bool found = false;
    for (int i = 0; i < lres.groups_count; i++) {
        CU_ASSERT(sesp_kstr_eq(lres.groups[i].group_state, "Stable"));
        found |= sesp_kstr_eq(lres.groups[i].group_id, "gadm");
        CU_ASSERT_FALSE(sesp_kstr_eq(lres.groups[i].group_id, "simple")); /* Empty */
    }
    CU_ASSERT(found);

    /* DeleteGroups of a non-empty and of an unknown group. */
    sesp_kmsg_delete_groups_request dr;
    sesp_kstr names[2] = { SESP_KSTR("gadm"), SESP_KSTR("missing") };
    dr.groups_names = names;
    dr.groups_names_count = 2;
    sesp_bufw_init(&w, 64, 0);
    CU_ASSERT_EQUAL(sesp_kmsg_delete_groups_request_encode(&w, 2, &dr), 0);
    c = post(42, 2, &w);
    CU_ASSERT_FATAL(wait_call(c, 5000));
    sesp_kmsg_delete_groups_response dres;
    sesp_bufr_init(&rd, c->resp, c->len);
    CU_ASSERT_EQUAL_FATAL(sesp_kmsg_delete_groups_response_decode(&rd, 2, &dres, &ar), 0);
    call_free(c);
    CU_ASSERT_EQUAL_FATAL(dres.results_count, 2);
    CU_ASSERT_EQUAL(dres.results[0].error_code, SESP_KERR_NON_EMPTY_GROUP);
    CU_ASSERT_EQUAL(dres.results[1].error_code, SESP_KERR_GROUP_ID_NOT_FOUND);

    /* OffsetDelete: the subscribed topic t1 is refused, "other" is deleted. */
    sesp_kmsg_offset_delete_request od;
    sesp_kmsg_offset_delete_request_init(&od);
    od.group_id = SESP_KSTR("gadm");
    sesp_kmsg_offset_delete_request_offset_delete_request_partition pz = { 0 };
    sesp_kmsg_offset_delete_request_offset_delete_request_topic ot[2] = { { SESP_KSTR("t1"), &pz, 1 },
                                                                         { SESP_KSTR("other"), &pz, 1 } };
    od.topics = ot;
    od.topics_count = 2;
    sesp_bufw_init(&w, 64, 0);
    CU_ASSERT_EQUAL(sesp_kmsg_offset_delete_request_encode(&w, 0, &od), 0);
    c = post(47, 0, &w);
    CU_ASSERT_FATAL(wait_call(c, 5000));
    sesp_kmsg_offset_delete_response ores;
    sesp_bufr_init(&rd, c->resp, c->len);
    CU_ASSERT_EQUAL_FATAL(sesp_kmsg_offset_delete_response_decode(&rd, 0, &ores, &ar), 0);
    call_free(c);
    CU_ASSERT_EQUAL(ores.error_code, 0);
    CU_ASSERT_EQUAL_FATAL(ores.topics_count, 2);
    CU_ASSERT_EQUAL(ores.topics[0].partitions[0].error_code, SESP_KERR_GROUP_SUBSCRIBED_TO_TOPIC);
    CU_ASSERT_EQUAL(ores.topics[1].partitions[0].error_code, 0);
    CU_ASSERT_EQUAL(sesp_group_committed_offset(gc, "gadm", "other", 0), -1);
    CU_ASSERT_EQUAL(sesp_group_committed_offset(gc, "gadm", "t1", 0), 10);

    /* Everyone leaves: the group is Empty and can be deleted. */
    CU_ASSERT_EQUAL(leave("gadm", m[0], NULL), 0);
    CU_ASSERT_EQUAL(leave("gadm", m[1], NULL), 0);
    usleep(20000);
    CU_ASSERT(sesp_kstr_eq(describe("gadm").group_state, "Empty"));
    dr.groups_names_count = 1;
    sesp_bufw_init(&w, 64, 0);
    CU_ASSERT_EQUAL(sesp_kmsg_delete_groups_request_encode(&w, 0, &dr), 0);
    c = post(42, 0, &w);
    CU_ASSERT_FATAL(wait_call(c, 5000));
    sesp_bufr_init(&rd, c->resp, c->len);
    CU_ASSERT_EQUAL_FATAL(sesp_kmsg_delete_groups_response_decode(&rd, 0, &dres, &ar), 0);
    call_free(c);
    CU_ASSERT_EQUAL(dres.results[0].error_code, 0);
    CU_ASSERT(sesp_kstr_eq(describe("gadm").group_state, "Dead"));
    CU_ASSERT_EQUAL(sesp_group_committed_offset(gc, "gadm", "t1", 0), -1);
}

static void test_bad_input(void)
{
    /* Oversized protocol metadata: an error, not a crash or a giant group. */
    size_t big = (size_t)cfg.max_metadata_bytes + 1;
    uint8_t *meta = calloc(1, big);
    call *c = join_ex("gbig", NULL, NULL, 3, "range", (sesp_kbytes){ meta, (int32_t)big }, 10000);
    sesp_kmsg_join_group_response r = join_resp(c, 3);
    CU_ASSERT_EQUAL(r.error_code, SESP_KERR_INVALID_REQUEST);
    call_free(c);
    free(meta);
    CU_ASSERT(sesp_kstr_eq(describe("gbig").group_state, "Dead")); /* nothing left behind */
    /* Truncated bodies are malformed; an unsupported version is refused. */
    uint8_t junk[5] = { 0, 3, 'a', 'b', 'c' };
    for (int16_t k = 0; k < 50; k++) {
        if (!sesp_group_handles(k) || k == 16) /* ListGroups v0 has an empty body */
            continue;
        c = post_raw(k, 0, junk, 3);
        CU_ASSERT_FATAL(wait_call(c, 5000));
        CU_ASSERT_EQUAL(c->err, SESP_ERR_MALFORMED);
        CU_ASSERT_PTR_NULL(c->resp);
        call_free(c);
    }
    c = post_raw(11, 42, junk, 5);
    CU_ASSERT_FATAL(wait_call(c, 5000));
    CU_ASSERT_EQUAL(c->err, SESP_ERR_UNSUPPORTED);
    call_free(c);
    /* A JoinGroup with a non-empty unknown member id. */
    c = join("gnew", "made-up", NULL, 9);
    CU_ASSERT_EQUAL(join_resp(c, 9).error_code, SESP_KERR_UNKNOWN_MEMBER_ID);
    call_free(c);
}

static void test_restart(void)
{
    char *m[2];
    int32_t gen = three_stable("grs", 2, m);
    CU_ASSERT_EQUAL(commit("grs", m[0], gen, "t1", 3, 333, 8), 0);
    CU_ASSERT_EQUAL(commit("persist-simple", NULL, -1, "tx", 1, 77, 8), 0);
    CU_ASSERT_EQUAL(commit("persist-simple", NULL, -1, "tx", 1, 78, 8), 0);
    /* A parked join is answered when the coordinator stops. */
    call *parked = join("grs-parked", NULL, NULL, 3);
    usleep(20000);
    sesp_group_stop(gc);
    gc = NULL;
    CU_ASSERT(is_done(parked));
    call_free(parked);
    close_logs();
    open_logs();
    start_gc();
    int16_t err;
    CU_ASSERT_EQUAL(fetch7("grs", "t1", 3, &err), 333);
    CU_ASSERT_EQUAL(err, 0);
    CU_ASSERT_EQUAL(sesp_group_committed_offset(gc, "persist-simple", "tx", 1), 78);
    CU_ASSERT_EQUAL(sesp_group_committed_offset(gc, "simple", "t1", 1), 43);
    CU_ASSERT_EQUAL(sesp_group_committed_offset(gc, "gadm", "t1", 0), -1); /* deleted before */
    sesp_kmsg_describe_groups_response_described_group d = describe("grs");
    CU_ASSERT(sesp_kstr_eq(d.group_state, "Stable"));
    CU_ASSERT_EQUAL(d.members_count, 2);
    CU_ASSERT(sesp_kstr_eq(describe("gadm").group_state, "Dead"));
    /* Members carry on with their generation after the restart. */
    CU_ASSERT_EQUAL(heartbeat("grs", m[0], NULL, gen), 0);
    call *c = sync_req("grs", m[1], NULL, gen, 0, NULL, NULL);
    sesp_kmsg_sync_group_response s = sync_resp(c);
    CU_ASSERT_EQUAL(s.error_code, 0);
    CU_ASSERT(s.assignment.len > 0);
    call_free(c);
    /* The static group survived with its member. */
    CU_ASSERT(sesp_kstr_eq(describe("gst").group_state, "Empty"));
}


/* Compaction leaves empty batches (header only) for idempotent producers'
 * last sequences; the loader must step over one and read what follows. */
static void test_load_past_empty_batch(void)
{
    int32_t p = sesp_group_partition_for("persist-simple", 14, NPART);
    int64_t end = sesp_log_end_offset(logs[p]);
    sesp_group_stop(gc);
    gc = NULL;
    close_logs();
    /* The empty batch spans offsets end..end+2 at the tail of the newest segment. */
    sesp_bufw w;
    sesp_bufw_init(&w, 64, 0);
    sesp_bufw_i64(&w, end);
    sesp_bufw_i32(&w, SESP_BATCH_HEADER_SIZE - SESP_BATCH_LOG_OVERHEAD);
    sesp_bufw_i32(&w, 0);
    sesp_bufw_i8(&w, 2);
    sesp_bufw_u32(&w, 0);
    sesp_bufw_i16(&w, 0);
    sesp_bufw_i32(&w, 2);
    sesp_bufw_i64(&w, -1);
    sesp_bufw_i64(&w, 1000);
    sesp_bufw_i64(&w, 5);
    sesp_bufw_i16(&w, 0);
    sesp_bufw_i32(&w, 0);
    sesp_bufw_i32(&w, 0);
    CU_ASSERT_EQUAL_FATAL(w.err, 0);
    sesp_batch_update_crc(w.p, w.len);
    char dir[512], path[1024], newest[64] = "";
    snprintf(dir, sizeof dir, "%s/__consumer_offsets-%d", root, p);
    DIR *d = opendir(dir);
    CU_ASSERT_PTR_NOT_NULL_FATAL(d);
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strlen(e->d_name) == 24 && strcmp(e->d_name + 20, ".log") == 0 && strcmp(e->d_name, newest) > 0)
            snprintf(newest, sizeof newest, "%.24s", e->d_name);
    closedir(d);
    snprintf(path, sizeof path, "%s/%s", dir, newest);
    FILE *f = fopen(path, "ab");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fwrite(w.p, 1, w.len, f), w.len);
    fclose(f);
    sesp_bufw_free(&w);
    open_logs();
    CU_ASSERT_EQUAL(sesp_log_end_offset(logs[p]), end + 3);
    start_gc();
    CU_ASSERT_EQUAL(sesp_group_committed_offset(gc, "persist-simple", "tx", 1), 78);
    /* A commit after it, then another restart: loaded from past the batch. */
    CU_ASSERT_EQUAL(commit("persist-simple", NULL, -1, "tx", 1, 79, 8), 0);
    sesp_group_stop(gc);
    gc = NULL;
    close_logs();
    open_logs();
    start_gc();
    CU_ASSERT_EQUAL(sesp_group_committed_offset(gc, "persist-simple", "tx", 1), 79);
    CU_ASSERT_EQUAL(sesp_group_committed_offset(gc, "grs", "t1", 3), 333);
}

static void test_retention(void)
{
    sesp_group_stop(gc);
    gc = NULL;
    cfg.offsets_retention_ms = 300;
    cfg.offsets_retention_check_ms = 100;
    start_gc();
    CU_ASSERT_EQUAL(commit("expiring", NULL, -1, "t1", 0, 5, 8), 0);
    CU_ASSERT_EQUAL(sesp_group_committed_offset(gc, "expiring", "t1", 0), 5);
    /* A member keeps its group's offsets while the group is Stable. */
    char *m[1];
    int32_t gen = three_stable("kept", 1, m);
    CU_ASSERT_EQUAL(commit("kept", m[0], gen, "t1", 0, 9, 8), 0);
    for (int i = 0; i < 10; i++) {
        usleep(100000);
        CU_ASSERT_EQUAL(heartbeat("kept", m[0], NULL, gen), 0);
    }
    CU_ASSERT_EQUAL(sesp_group_committed_offset(gc, "expiring", "t1", 0), -1);
    CU_ASSERT(sesp_kstr_eq(describe("expiring").group_state, "Dead"));
    CU_ASSERT_EQUAL(sesp_group_committed_offset(gc, "kept", "t1", 0), 9);
    /* The expiry is durable: tombstones were written. */
    sesp_group_stop(gc);
    gc = NULL;
    cfg.offsets_retention_ms = 10080LL * 60000LL;
    start_gc();
    CU_ASSERT_EQUAL(sesp_group_committed_offset(gc, "expiring", "t1", 0), -1);
    CU_ASSERT_EQUAL(sesp_group_committed_offset(gc, "kept", "t1", 0), 9);
}

/* ---- LeaveGroup v3+ batches, rebalance timeout, coordinator errors ---- */

static call *join_rt(const char *gid, const char *mid, const char *inst, int16_t ver, int32_t rebalance_ms)
{
    sesp_kmsg_join_group_request r;
    sesp_kmsg_join_group_request_init(&r);
    r.group_id = SESP_KSTR(gid);
    r.session_timeout_ms = 10000;
    r.rebalance_timeout_ms = rebalance_ms;
    r.member_id = SESP_KSTR(mid ? mid : "");
    r.group_instance_id = inst ? SESP_KSTR(inst) : SESP_KSTR_NULL;
    r.protocol_type = SESP_KSTR("consumer");
    sesp_kmsg_join_group_request_join_group_request_protocol p = { SESP_KSTR("range"), subscription("t1") };
    r.protocols = &p;
    r.protocols_count = 1;
    sesp_bufw w;
    sesp_bufw_init(&w, 128, 0);
    CU_ASSERT_EQUAL(sesp_kmsg_join_group_request_encode(&w, ver, &r), 0);
    return post(11, ver, &w);
}

/* LeaveGroup (v3+) of n members {mids[i], insts[i]} (NULL mid = "", NULL inst = null). */
static sesp_kmsg_leave_group_response leave_batch(const char *gid, int16_t ver, int n, const char **mids,
                                                  const char **insts)
{
    sesp_kmsg_leave_group_request r;
    sesp_kmsg_leave_group_request_init(&r);
    r.group_id = SESP_KSTR(gid);
    sesp_kmsg_leave_group_request_member_identity m[8];
    for (int i = 0; i < n; i++) {
        sesp_kmsg_leave_group_request_member_identity_init(&m[i]);
        m[i].member_id = SESP_KSTR(mids[i] ? mids[i] : "");
        m[i].group_instance_id = insts[i] ? SESP_KSTR(insts[i]) : SESP_KSTR_NULL;
    }
    r.members = m;
    r.members_count = n;
    sesp_bufw w;
    sesp_bufw_init(&w, 128, 0);
    CU_ASSERT_EQUAL(sesp_kmsg_leave_group_request_encode(&w, ver, &r), 0);
    call *c = post(13, ver, &w);
    CU_ASSERT_FATAL(wait_call(c, 5000));
    sesp_kmsg_leave_group_response lr;
    sesp_kmsg_leave_group_response_init(&lr);
    sesp_bufr rd;
    sesp_bufr_init(&rd, c->resp, c->len);
    CU_ASSERT_EQUAL(sesp_kmsg_leave_group_response_decode(&rd, ver, &lr, &ar), 0);
    call_free(c);
    return lr;
}

/* Brings static members insts[0..n) of gid to Stable; returns the generation. */
static int32_t static_stable(const char *gid, int n, const char **insts, char **mids)
{
    call *c[8];
    for (int i = 0; i < n; i++)
        c[i] = join(gid, NULL, insts[i], 9);
    sesp_kmsg_join_group_response r[8];
    int leader = -1;
    for (int i = 0; i < n; i++) {
        r[i] = join_resp(c[i], 9);
        CU_ASSERT_EQUAL(r[i].error_code, 0);
        mids[i] = kdup(r[i].member_id);
        if (sesp_kstr_eq(r[i].leader, mids[i]))
            leader = i;
        call_free(c[i]);
    }
    CU_ASSERT_FATAL(leader >= 0);
    int32_t gen = r[0].generation_id;
    const char *as[8];
    for (int i = 0; i < n; i++)
        as[i] = insts[i];
    call *s[8];
    for (int i = 0; i < n; i++)
        s[i] = sync_req(gid, mids[i], insts[i], gen, i == leader ? n : 0, (const char **)mids, as);
    for (int i = 0; i < n; i++) {
        sesp_kmsg_sync_group_response sr = sync_resp(s[i]);
        CU_ASSERT_EQUAL(sr.error_code, 0);
        CU_ASSERT(bytes_eq(sr.assignment, insts[i]));
        call_free(s[i]);
    }
    return gen;
}

/* KIP-345: one LeaveGroup v5 removes several static members, by instance id
 * alone or with their member id, and answers per member (FENCED_INSTANCE_ID
 * for a member id that is not the instance's, UNKNOWN_MEMBER_ID for an
 * unknown instance or a member already gone); the rest rebalance once. */
static void test_batch_leave_static(void)
{
    const char *insts[] = { "bl-a", "bl-b", "bl-c", "bl-d" };
    char *m[4];
    int32_t gen = static_stable("gbl", 4, insts, m);
    CU_ASSERT_EQUAL(gen, 1);
    const char *lm[] = { NULL, m[1], "bogus-member", m[0], NULL, "nobody" };
    const char *li[] = { "bl-a", "bl-b", "bl-c", "bl-a", "bl-none", NULL };
    sesp_kmsg_leave_group_response lr = leave_batch("gbl", 5, 6, lm, li);
    CU_ASSERT_EQUAL(lr.error_code, 0);
    CU_ASSERT_EQUAL_FATAL(lr.members_count, 6);
    const int16_t want[] = { SESP_KERR_NONE, SESP_KERR_NONE, SESP_KERR_FENCED_INSTANCE_ID, SESP_KERR_UNKNOWN_MEMBER_ID,
                             SESP_KERR_UNKNOWN_MEMBER_ID, SESP_KERR_UNKNOWN_MEMBER_ID };
    for (int i = 0; i < 6; i++) {
        CU_ASSERT_EQUAL(lr.members[i].error_code, want[i]);
        CU_ASSERT(sesp_kstr_eq(lr.members[i].member_id, lm[i] ? lm[i] : ""));
        if (li[i]) {
            CU_ASSERT(sesp_kstr_eq(lr.members[i].group_instance_id, li[i]));
        } else {
            CU_ASSERT_EQUAL(lr.members[i].group_instance_id.len, -1);
        }
    }
    /* a and b are gone, c and d stay and must rejoin. */
    sesp_kmsg_describe_groups_response_described_group d = describe("gbl");
    CU_ASSERT(sesp_kstr_eq(d.group_state, "PreparingRebalance"));
    CU_ASSERT_EQUAL(d.members_count, 2);
    CU_ASSERT_EQUAL(heartbeat("gbl", m[0], "bl-a", gen), SESP_KERR_UNKNOWN_MEMBER_ID);
    CU_ASSERT_EQUAL(heartbeat("gbl", m[1], "bl-b", gen), SESP_KERR_UNKNOWN_MEMBER_ID);
    CU_ASSERT_EQUAL(heartbeat("gbl", m[2], "bl-c", gen), SESP_KERR_REBALANCE_IN_PROGRESS);
    CU_ASSERT_EQUAL(heartbeat("gbl", m[3], "bl-d", gen), SESP_KERR_REBALANCE_IN_PROGRESS);
    call *jc = join("gbl", m[2], "bl-c", 9), *jd = join("gbl", m[3], "bl-d", 9);
    sesp_kmsg_join_group_response rc = join_resp(jc, 9), rd = join_resp(jd, 9);
    CU_ASSERT_EQUAL(rc.error_code, 0);
    CU_ASSERT_EQUAL(rd.error_code, 0);
    CU_ASSERT_EQUAL(rc.generation_id, gen + 1);     /* one rebalance for the whole batch */
    CU_ASSERT_EQUAL(rd.generation_id, gen + 1);
    sesp_kmsg_join_group_response *lead = rc.members_count ? &rc : &rd;
    CU_ASSERT_EQUAL_FATAL(lead->members_count, 2);
    CU_ASSERT_EQUAL(rc.members_count + rd.members_count, 2);
    bool seen_c = false, seen_d = false;
    for (int i = 0; i < 2; i++) {
        seen_c |= sesp_kstr_eq(lead->members[i].group_instance_id, "bl-c") && sesp_kstr_eq(lead->members[i].member_id, m[2]);
        seen_d |= sesp_kstr_eq(lead->members[i].group_instance_id, "bl-d") && sesp_kstr_eq(lead->members[i].member_id, m[3]);
    }
    CU_ASSERT(seen_c && seen_d);
    call_free(jc);
    call_free(jd);
    /* v3 (not flexible): the two others leave together, one with its member id. */
    const char *lm3[] = { m[2], NULL };
    const char *li3[] = { "bl-c", "bl-d" };
    lr = leave_batch("gbl", 3, 2, lm3, li3);
    CU_ASSERT_EQUAL(lr.error_code, 0);
    CU_ASSERT_EQUAL_FATAL(lr.members_count, 2);
    CU_ASSERT_EQUAL(lr.members[0].error_code, 0);
    CU_ASSERT_EQUAL(lr.members[1].error_code, 0);
    usleep(20000);
    d = describe("gbl");
    CU_ASSERT(sesp_kstr_eq(d.group_state, "Empty"));
    CU_ASSERT_EQUAL(d.members_count, 0);
    /* An unknown group: every member UNKNOWN_MEMBER_ID, no top-level error. */
    lr = leave_batch("gbl-none", 5, 2, lm3, li3);
    CU_ASSERT_EQUAL(lr.error_code, 0);
    CU_ASSERT_EQUAL_FATAL(lr.members_count, 2);
    CU_ASSERT_EQUAL(lr.members[0].error_code, SESP_KERR_UNKNOWN_MEMBER_ID);
    CU_ASSERT_EQUAL(lr.members[1].error_code, SESP_KERR_UNKNOWN_MEMBER_ID);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A member that does not rejoin within the rebalance timeout (its session,
 * 10 s, still alive) is removed when the timeout fires, and the rebalance
 * completes with the members that did rejoin. */
static void test_rebalance_timeout(void)
{
    call *c[3];
    for (int i = 0; i < 3; i++)
        c[i] = join_rt("grt", NULL, NULL, 3, 500);
    sesp_kmsg_join_group_response r[3];
    char *m[3];
    int leader = -1;
    for (int i = 0; i < 3; i++) {
        r[i] = join_resp(c[i], 3);
        CU_ASSERT_EQUAL(r[i].error_code, 0);
        m[i] = kdup(r[i].member_id);
        if (sesp_kstr_eq(r[i].leader, m[i]))
            leader = i;
        call_free(c[i]);
    }
    CU_ASSERT_FATAL(leader >= 0);
    int32_t gen = r[0].generation_id;
    const char *as[] = { "a0", "a1", "a2" };
    call *s[3];
    for (int i = 0; i < 3; i++)
        s[i] = sync_req("grt", m[i], NULL, gen, i == leader ? 3 : 0, (const char **)m, as);
    for (int i = 0; i < 3; i++) {
        CU_ASSERT_EQUAL(sync_resp(s[i]).error_code, 0);
        call_free(s[i]);
    }
    /* m[0] and m[2] rejoin; m[1] only heartbeats. */
    double t0 = now_s();
    call *j0 = join_rt("grt", m[0], NULL, 3, 500);
    usleep(20000);
    call *j2 = join_rt("grt", m[2], NULL, 3, 500);
    CU_ASSERT_EQUAL(heartbeat("grt", m[1], NULL, gen), SESP_KERR_REBALANCE_IN_PROGRESS);
    usleep(200000);
    CU_ASSERT_FALSE(is_done(j0));        /* still waiting for m[1] */
    CU_ASSERT_FALSE(is_done(j2));
    sesp_kmsg_join_group_response r0 = join_resp(j0, 3), r2 = join_resp(j2, 3);
    double took = now_s() - t0;
    CU_ASSERT(took >= 0.45);
    CU_ASSERT(took < 2.0);
    CU_ASSERT_EQUAL(r0.error_code, 0);
    CU_ASSERT_EQUAL(r2.error_code, 0);
    CU_ASSERT_EQUAL(r0.generation_id, gen + 1);
    CU_ASSERT_EQUAL(r2.generation_id, gen + 1);
    sesp_kmsg_join_group_response *lead = r0.members_count ? &r0 : &r2;
    CU_ASSERT_EQUAL(r0.members_count + r2.members_count, 2);
    CU_ASSERT_EQUAL_FATAL(lead->members_count, 2);
    bool seen0 = false, seen2 = false;
    for (int i = 0; i < 2; i++) {
        seen0 |= sesp_kstr_eq(lead->members[i].member_id, m[0]);
        seen2 |= sesp_kstr_eq(lead->members[i].member_id, m[2]);
    }
    CU_ASSERT(seen0 && seen2);
    CU_ASSERT(sesp_kstr_eq(lead->leader, m[0]) || sesp_kstr_eq(lead->leader, m[2]));
    call_free(j0);
    call_free(j2);
    /* m[1] is out: its heartbeat and a late rejoin with its id are refused. */
    CU_ASSERT_EQUAL(heartbeat("grt", m[1], NULL, gen), SESP_KERR_UNKNOWN_MEMBER_ID);
    call *late = join_rt("grt", m[1], NULL, 3, 500);
    CU_ASSERT_EQUAL(join_resp(late, 3).error_code, SESP_KERR_UNKNOWN_MEMBER_ID);
    call_free(late);
    sesp_kmsg_describe_groups_response_described_group d = describe("grt");
    CU_ASSERT_EQUAL(d.members_count, 2);
}

/* NOT_COORDINATOR and COORDINATOR_LOAD_IN_PROGRESS on a single node: a write
 * to the group's __consumer_offsets partition failing with a storage error
 * (the partition is unusable here: clients look the coordinator up again),
 * requests parked in the coordinator when it stops, and every request
 * while the partitions are being loaded. */
static void test_coordinator_errors(void)
{
    /* 1. Storage error on the offsets partition -> NOT_COORDINATOR. */
    const char *gid = "gnc";
    int32_t p = sesp_group_partition_for(gid, strlen(gid), NPART);
    CU_ASSERT_EQUAL(commit(gid, NULL, -1, "t1", 0, 10, 8), 0);
    sesp_log_config lc;
    sesp_log_config_defaults(&lc);
    sesp_log_config roll = lc;
    roll.segment_ms = 1;
    sesp_log_set_config(logs[p], &roll);
    char blocker[600];
    snprintf(blocker, sizeof blocker, "%s/__consumer_offsets-%d/%020lld.log", root, p,
             (long long)sesp_log_end_offset(logs[p]));
    CU_ASSERT_EQUAL_FATAL(mkdir(blocker, 0755), 0);   /* the next segment cannot be created */
    usleep(5000);
    CU_ASSERT_EQUAL(commit(gid, NULL, -1, "t1", 0, 11, 8), SESP_KERR_NOT_COORDINATOR);
    CU_ASSERT_EQUAL(commit(gid, NULL, -1, "t1", 0, 12, 2), SESP_KERR_NOT_COORDINATOR);
    int16_t err;
    CU_ASSERT_EQUAL(fetch7(gid, "t1", 0, &err), 10);  /* nothing was committed */
    CU_ASSERT_EQUAL(err, 0);
    CU_ASSERT_EQUAL(rmdir(blocker), 0);
    sesp_log_set_config(logs[p], &lc);
    CU_ASSERT_EQUAL(commit(gid, NULL, -1, "t1", 0, 13, 8), 0);
    CU_ASSERT_EQUAL(fetch7(gid, "t1", 0, &err), 13);
    /* No log for the partition at all: writes get COORDINATOR_NOT_AVAILABLE
     * (group.h; clients treat it as NOT_COORDINATOR: look up and retry). */
    missing_part = p;
    CU_ASSERT_EQUAL(commit(gid, NULL, -1, "t1", 0, 15, 8), SESP_KERR_COORDINATOR_NOT_AVAILABLE);
    missing_part = -1;
    CU_ASSERT_EQUAL(fetch7(gid, "t1", 0, &err), 13);

    /* 2. Requests parked when the coordinator stops -> NOT_COORDINATOR. */
    call *a = join_rt("gnc2", NULL, NULL, 3, 5000);
    sesp_kmsg_join_group_response ra = join_resp(a, 3);
    CU_ASSERT_EQUAL_FATAL(ra.error_code, 0);
    char *ida = kdup(ra.member_id);
    call_free(a);
    const char *mm[] = { ida };
    const char *as[] = { "x" };
    call *sa = sync_req("gnc2", ida, NULL, ra.generation_id, 1, mm, as);
    CU_ASSERT_EQUAL(sync_resp(sa).error_code, 0);
    call_free(sa);
    call *b = join_rt("gnc2", NULL, NULL, 3, 5000);   /* parked until ida rejoins */
    usleep(50000);
    CU_ASSERT_FALSE(is_done(b));
    sesp_group_stop(gc);
    gc = NULL;
    CU_ASSERT_EQUAL(join_resp(b, 3).error_code, SESP_KERR_NOT_COORDINATOR);
    call_free(b);

    /* 3. While loading -> COORDINATOR_LOAD_IN_PROGRESS, then served. */
    pthread_mutex_lock(&hold_mu);
    hold_load = true;
    held_calls = 0;
    pthread_mutex_unlock(&hold_mu);
    CU_ASSERT_EQUAL_FATAL(sesp_group_start(&cfg, held_log_fn, NULL, &gc), 0);
    pthread_mutex_lock(&hold_mu);
    for (int i = 0; i < 500 && held_calls == 0; i++) {
        pthread_mutex_unlock(&hold_mu);
        usleep(10000);
        pthread_mutex_lock(&hold_mu);
    }
    CU_ASSERT(held_calls > 0);
    pthread_mutex_unlock(&hold_mu);
    call *f = fetch7_post(gid, "t1", 0);
    call *cm = commit_post(gid, NULL, -1, "t1", 0, 14, 8);
    call *j = join_rt("gnc3", NULL, NULL, 3, 5000);
    call *h = heartbeat_post("gnc2", ida, NULL, ra.generation_id);
    usleep(50000);
    CU_ASSERT_FALSE(is_done(f));           /* the coordinator is busy loading */
    pthread_mutex_lock(&hold_mu);
    hold_load = false;
    pthread_cond_broadcast(&hold_cv);
    pthread_mutex_unlock(&hold_mu);
    CU_ASSERT_EQUAL(fetch7_result(f, &err), -2);
    CU_ASSERT_EQUAL(err, SESP_KERR_COORDINATOR_LOAD_IN_PROGRESS);
    CU_ASSERT_EQUAL(commit_result(cm, 8), SESP_KERR_COORDINATOR_LOAD_IN_PROGRESS);
    CU_ASSERT_EQUAL(join_resp(j, 3).error_code, SESP_KERR_COORDINATOR_LOAD_IN_PROGRESS);
    call_free(j);
    CU_ASSERT_EQUAL(heartbeat_result(h), SESP_KERR_COORDINATOR_LOAD_IN_PROGRESS);
    wait_loaded();
    CU_ASSERT_EQUAL(fetch7(gid, "t1", 0, &err), 13);
    CU_ASSERT_EQUAL(err, 0);
}

int main(void)
{
    CU_initialize_registry();
    CU_pSuite s = CU_add_suite("group", NULL, teardown);
    CU_add_test(s, "start", test_start);
    CU_add_test(s, "stop right after start", test_stop_right_after_start);
    CU_add_test(s, "partition_for", test_partition_for);
    CU_add_test(s, "single member cycle", test_single_member_cycle);
    CU_add_test(s, "three members, leave, rebalances", test_three_members_and_leave);
    CU_add_test(s, "session expiry", test_session_expiry);
    CU_add_test(s, "static member", test_static_member);
    CU_add_test(s, "offsets", test_offsets);
    CU_add_test(s, "admin", test_admin);
    CU_add_test(s, "bad input", test_bad_input);
    CU_add_test(s, "restart", test_restart);
    CU_add_test(s, "load past an empty batch", test_load_past_empty_batch);
    CU_add_test(s, "retention", test_retention);
    CU_add_test(s, "LeaveGroup batch of static members", test_batch_leave_static);
    CU_add_test(s, "rebalance timeout removes a member that does not rejoin", test_rebalance_timeout);
    CU_add_test(s, "NOT_COORDINATOR and COORDINATOR_LOAD_IN_PROGRESS", test_coordinator_errors);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned fails = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
    CU_cleanup_registry();
    return fails ? 1 : 0;
}
