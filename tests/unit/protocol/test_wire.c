/*
 * Byte-exact tests of the Kafka codecs against frames captured from real
 * clients (librdkafka 2.0.2 via kcat, kafka-python 2.0.2) talking to a tiny
 * fake broker, plus hand-built malformed inputs: lying lengths, nulls where
 * the version forbids them, tagged-field ordering, arena caps, headers, the
 * api table and Kafka error names.
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker/protocol/generated/kmsg.h"
#include "broker/protocol/header.h"
#include "broker/protocol/kerr.h"

/* Request frames without the 4-byte size prefix. */
/* kcat -L: ApiVersions v3 (flexible body, request header v2). */
static const char *RDK_APIVERSIONS_V3 =
    "0012000300000001000772646b61666b61000b6c696272646b61666b6106322e302e3200";
/* kcat -L: Metadata v4, all topics (null array), allow auto creation. */
static const char *RDK_METADATA_V4_ALL = "0003000400000003000772646b61666b61ffffffff01";
/* kcat -P -t sesptest: Metadata v4 for one topic. */
static const char *RDK_METADATA_V4_TOPIC =
    "0003000400000002000772646b61666b61000000010008736573707465737401";
/* kcat -P -t sesptest -k key1: Produce v7 carrying one record batch (key1 / hello-sesp). */
static const char *RDK_PRODUCE_V7 =
    "0000000700000003000772646b61666b61ffffffff000075300000000100087365737074657374000000010000"
    "000000000052000000000000000000000046000000000259f74772000000000000000001a22050f447000001a2"
    "2050f447ffffffffffffffffffffffffffff0000000128000000086b6579311468656c6c6f2d7365737000";
/* kafka-python: ApiVersions v0 (header v1, empty body), Metadata v0 (no topics), Metadata v1 (null = all). */
static const char *KPY_APIVERSIONS_V0 = "0012000000000001000a6b70792d636c69656e74";
static const char *KPY_METADATA_V0 = "0003000000000002000a6b70792d636c69656e7400000000";
static const char *KPY_METADATA_V1 = "0003000100000003000a6b70792d636c69656e74ffffffff";

static uint8_t *unhex(const char *h, size_t *len)
{
    size_t n = strlen(h) / 2;
    uint8_t *p = malloc(n ? n : 1);
    for (size_t i = 0; i < n; i++) {
        unsigned b;
        sscanf(h + 2 * i, "%2x", &b);
        p[i] = (uint8_t)b;
    }
    *len = n;
    return p;
}

/* Decodes a captured frame's header; leaves r at the body. */
static uint8_t *open_frame(const char *hex, sesp_bufr *r, sesp_kreq_header *h, size_t *len)
{
    uint8_t *p = unhex(hex, len);
    sesp_bufr_init(r, p, *len);
    CU_ASSERT_EQUAL_FATAL(sesp_kreq_header_decode(r, h), 0);
    return p;
}

/* Re-encodes header + body and compares with the captured bytes. */
static void assert_reencodes(const uint8_t *frame, size_t len, const sesp_kreq_header *h,
                             int (*enc)(sesp_bufw *, int16_t, const void *), const void *m)
{
    sesp_bufw w;
    sesp_bufw_init(&w, 0, 0);
    CU_ASSERT_EQUAL(sesp_kreq_header_encode(&w, h), 0);
    CU_ASSERT_EQUAL(enc(&w, h->api_version, m), 0);
    CU_ASSERT_EQUAL(w.len, len);
    CU_ASSERT(w.len == len && memcmp(w.p, frame, len) == 0);
    sesp_bufw_free(&w);
}

static int enc_apiv_req(sesp_bufw *w, int16_t v, const void *m) { return sesp_kmsg_api_versions_request_encode(w, v, m); }
static int enc_md_req(sesp_bufw *w, int16_t v, const void *m) { return sesp_kmsg_metadata_request_encode(w, v, m); }
static int enc_produce_req(sesp_bufw *w, int16_t v, const void *m) { return sesp_kmsg_produce_request_encode(w, v, m); }

static void test_librdkafka_api_versions_v3(void)
{
    sesp_bufr r;
    sesp_kreq_header h;
    size_t len;
    uint8_t *p = open_frame(RDK_APIVERSIONS_V3, &r, &h, &len);
    CU_ASSERT_EQUAL(h.api_key, 18);
    CU_ASSERT_EQUAL(h.api_version, 3);
    CU_ASSERT_EQUAL(h.correlation_id, 1);
    CU_ASSERT(sesp_kstr_eq(h.client_id, "rdkafka"));
    CU_ASSERT_EQUAL(sesp_kreq_header_version(h.api_key, h.api_version), 2);
    sesp_arena a;
    sesp_arena_init(&a, 0);
    sesp_kmsg_api_versions_request m;
    CU_ASSERT_EQUAL(sesp_kmsg_api_versions_request_decode(&r, h.api_version, &m, &a), 0);
    CU_ASSERT_EQUAL(sesp_bufr_left(&r), 0);
    CU_ASSERT(sesp_kstr_eq(m.client_software_name, "librdkafka"));
    CU_ASSERT(sesp_kstr_eq(m.client_software_version, "2.0.2"));
    /* Zero-copy: the string points into the frame. */
    CU_ASSERT(m.client_software_name.ptr > (const char *)p && m.client_software_name.ptr < (const char *)p + len);
    assert_reencodes(p, len, &h, enc_apiv_req, &m);
    sesp_arena_free(&a);
    free(p);
}

static void test_librdkafka_metadata_v4(void)
{
    sesp_bufr r;
    sesp_kreq_header h;
    size_t len;
    sesp_arena a;
    sesp_kmsg_metadata_request m;
    sesp_arena_init(&a, 0);

    uint8_t *p = open_frame(RDK_METADATA_V4_ALL, &r, &h, &len);
    CU_ASSERT_EQUAL(h.api_key, 3);
    CU_ASSERT_EQUAL(h.api_version, 4);
    CU_ASSERT_EQUAL(h.correlation_id, 3);
    CU_ASSERT(sesp_kstr_eq(h.client_id, "rdkafka"));
    CU_ASSERT_EQUAL(sesp_kmsg_metadata_request_decode(&r, h.api_version, &m, &a), 0);
    CU_ASSERT_EQUAL(sesp_bufr_left(&r), 0);
    CU_ASSERT_EQUAL(m.topics_count, -1);
    CU_ASSERT_EQUAL(m.allow_auto_topic_creation, true);
    assert_reencodes(p, len, &h, enc_md_req, &m);
    free(p);

    p = open_frame(RDK_METADATA_V4_TOPIC, &r, &h, &len);
    CU_ASSERT_EQUAL(h.correlation_id, 2);
    CU_ASSERT_EQUAL(sesp_kmsg_metadata_request_decode(&r, h.api_version, &m, &a), 0);
    CU_ASSERT_EQUAL(sesp_bufr_left(&r), 0);
    CU_ASSERT_EQUAL_FATAL(m.topics_count, 1);
    CU_ASSERT(sesp_kstr_eq(m.topics[0].name, "sesptest"));
    assert_reencodes(p, len, &h, enc_md_req, &m);
    free(p);
    sesp_arena_free(&a);
}

static void test_librdkafka_produce_v7(void)
{
    sesp_bufr r;
    sesp_kreq_header h;
    size_t len;
    sesp_arena a;
    sesp_kmsg_produce_request m;
    sesp_arena_init(&a, 0);
    uint8_t *p = open_frame(RDK_PRODUCE_V7, &r, &h, &len);
    CU_ASSERT_EQUAL(h.api_key, 0);
    CU_ASSERT_EQUAL(h.api_version, 7);
    CU_ASSERT_EQUAL(sesp_kmsg_produce_request_decode(&r, h.api_version, &m, &a), 0);
    CU_ASSERT_EQUAL(sesp_bufr_left(&r), 0);
    CU_ASSERT_EQUAL(m.transactional_id.len, -1);
    CU_ASSERT_EQUAL(m.acks, -1);
    CU_ASSERT_EQUAL(m.timeout_ms, 30000);
    CU_ASSERT_EQUAL_FATAL(m.topic_data_count, 1);
    CU_ASSERT(sesp_kstr_eq(m.topic_data[0].name, "sesptest"));
    CU_ASSERT_EQUAL_FATAL(m.topic_data[0].partition_data_count, 1);
    const sesp_kmsg_produce_request_partition_produce_data *pd = &m.topic_data[0].partition_data[0];
    CU_ASSERT_EQUAL(pd->index, 0);
    CU_ASSERT_EQUAL_FATAL(pd->records.len, 82);
    /* Record batch v2: base offset 0, batch length 70 (= 82 - 12), magic 2 at byte 16. */
    CU_ASSERT_EQUAL(pd->records.ptr[11], 70);
    CU_ASSERT_EQUAL(pd->records.ptr[16], 2);
    CU_ASSERT(memmem(pd->records.ptr, 82, "hello-sesp", 10) != NULL);
    CU_ASSERT(memmem(pd->records.ptr, 82, "key1", 4) != NULL);
    assert_reencodes(p, len, &h, enc_produce_req, &m);

    /* The generic helper used by the fuzzer gives the same bytes back. */
    sesp_bufr hr;
    sesp_kreq_header h2;
    sesp_bufr_init(&hr, p, len);
    CU_ASSERT_EQUAL(sesp_kreq_header_decode(&hr, &h2), 0);
    sesp_bufw w;
    sesp_bufw_init(&w, 0, 0);
    CU_ASSERT_EQUAL(sesp_kmsg_request_roundtrip(0, 7, p + hr.pos, len - hr.pos, &w, &a), 0);
    CU_ASSERT(w.len == len - hr.pos && memcmp(w.p, p + hr.pos, w.len) == 0);
    sesp_bufw_reset(&w);
    /* A trailing byte after a complete body is malformed for the round-trip helper. */
    uint8_t *longer = malloc(len + 1);
    memcpy(longer, p, len);
    longer[len] = 0;
    CU_ASSERT_EQUAL(sesp_kmsg_request_roundtrip(0, 7, longer + hr.pos, len + 1 - hr.pos, &w, &a), SESP_ERR_MALFORMED);
    CU_ASSERT_EQUAL(sesp_kmsg_request_roundtrip(999, 0, longer, len, &w, &a), SESP_ERR_UNSUPPORTED);
    CU_ASSERT_EQUAL(sesp_kmsg_request_roundtrip(0, 12, longer, len, &w, &a), SESP_ERR_UNSUPPORTED);
    free(longer);
    sesp_bufw_free(&w);
    free(p);
    sesp_arena_free(&a);
}

static void test_kafka_python_frames(void)
{
    sesp_bufr r;
    sesp_kreq_header h;
    size_t len;
    sesp_arena a;
    sesp_arena_init(&a, 0);

    uint8_t *p = open_frame(KPY_APIVERSIONS_V0, &r, &h, &len);
    CU_ASSERT_EQUAL(h.api_key, 18);
    CU_ASSERT_EQUAL(h.api_version, 0);
    CU_ASSERT_EQUAL(h.correlation_id, 1);
    CU_ASSERT(sesp_kstr_eq(h.client_id, "kpy-client"));
    CU_ASSERT_EQUAL(sesp_kreq_header_version(18, 0), 1);
    sesp_kmsg_api_versions_request av;
    CU_ASSERT_EQUAL(sesp_kmsg_api_versions_request_decode(&r, 0, &av, &a), 0);
    CU_ASSERT_EQUAL(sesp_bufr_left(&r), 0);
    /* Fields of later versions keep their defaults. */
    CU_ASSERT_EQUAL(av.client_software_name.len, 0);
    assert_reencodes(p, len, &h, enc_apiv_req, &av);
    free(p);

    sesp_kmsg_metadata_request md;
    p = open_frame(KPY_METADATA_V0, &r, &h, &len);
    CU_ASSERT_EQUAL(h.api_version, 0);
    CU_ASSERT_EQUAL(sesp_kmsg_metadata_request_decode(&r, 0, &md, &a), 0);
    CU_ASSERT_EQUAL(md.topics_count, 0);
    CU_ASSERT_EQUAL(md.allow_auto_topic_creation, true); /* JSON default */
    assert_reencodes(p, len, &h, enc_md_req, &md);
    free(p);

    p = open_frame(KPY_METADATA_V1, &r, &h, &len);
    CU_ASSERT_EQUAL(h.api_version, 1);
    CU_ASSERT_EQUAL(sesp_kmsg_metadata_request_decode(&r, 1, &md, &a), 0);
    CU_ASSERT_EQUAL(md.topics_count, -1);
    assert_reencodes(p, len, &h, enc_md_req, &md);
    free(p);
    sesp_arena_free(&a);
}

static int decode_produce_hex(const char *hex, int16_t v, sesp_arena *a, sesp_kmsg_produce_request *m)
{
    size_t len;
    uint8_t *p = unhex(hex, &len);
    sesp_bufr r;
    sesp_bufr_init(&r, p, len);
    int rc = sesp_kmsg_produce_request_decode(&r, v, m, a);
    free(p);
    return rc;
}

static void test_lying_lengths(void)
{
    sesp_arena a;
    sesp_kmsg_produce_request m;
    sesp_arena_init(&a, 0);
    /* v3: null txn id, acks 1, timeout 3000, topic count 0x7fffffff and nothing else. */
    CU_ASSERT_EQUAL(decode_produce_hex("ffff000100000bb87fffffff", 3, &a, &m), SESP_ERR_MALFORMED);
    CU_ASSERT_EQUAL(decode_produce_hex("ffff000100000bb87fffffff0000", 3, &a, &m), SESP_ERR_MALFORMED);
    /* Two topics claimed, one byte left. */
    CU_ASSERT_EQUAL(decode_produce_hex("ffff000100000bb80000000200", 3, &a, &m), SESP_ERR_MALFORMED);
    /* v9 (flexible): compact array count uvarint 0xfffffffe. */
    CU_ASSERT_EQUAL(decode_produce_hex("00000100000bb8feffffff0f00", 9, &a, &m), SESP_ERR_MALFORMED);
    CU_ASSERT_EQUAL(a.total, 0); /* nothing was allocated for the lying counts */
    /* Null topic name (non-nullable) and a -2 length. */
    CU_ASSERT_EQUAL(decode_produce_hex("ffff000100000bb800000001ffff00000000", 3, &a, &m), SESP_ERR_MALFORMED);
    CU_ASSERT_EQUAL(decode_produce_hex("ffff000100000bb800000001fffe00000000", 3, &a, &m), SESP_ERR_MALFORMED);
    /* A plausible count whose elements run out. */
    CU_ASSERT_EQUAL(decode_produce_hex("ffff000100000bb8000000010000", 3, &a, &m), SESP_ERR_TRUNCATED);
    /* String length past the end. */
    CU_ASSERT_EQUAL(decode_produce_hex("ffff000100000bb8000000010010616263", 3, &a, &m), SESP_ERR_TRUNCATED);
    /* Overlong varint (more than 5 bytes for a 32-bit length). */
    CU_ASSERT_EQUAL(decode_produce_hex("00000100000bb8ffffffffff0f", 9, &a, &m), SESP_ERR_MALFORMED);
    /* Nullable records: null in v3 is fine. */
    CU_ASSERT_EQUAL(decode_produce_hex("ffff000100000bb8000000010001740000000100000007ffffffff", 3, &a, &m), 0);
    CU_ASSERT_EQUAL(m.topic_data[0].partition_data[0].index, 7);
    CU_ASSERT_EQUAL(m.topic_data[0].partition_data[0].records.len, -1);
    sesp_arena_free(&a);
}

static void test_nullability_by_version(void)
{
    sesp_arena a;
    sesp_arena_init(&a, 0);
    sesp_kmsg_metadata_request m;
    uint8_t null_arr[] = { 0xff, 0xff, 0xff, 0xff };
    sesp_bufr r;
    sesp_bufr_init(&r, null_arr, sizeof null_arr);
    CU_ASSERT_EQUAL(sesp_kmsg_metadata_request_decode(&r, 0, &m, &a), SESP_ERR_MALFORMED);
    sesp_bufr_init(&r, null_arr, sizeof null_arr);
    CU_ASSERT_EQUAL(sesp_kmsg_metadata_request_decode(&r, 1, &m, &a), 0);
    CU_ASSERT_EQUAL(m.topics_count, -1);

    /* Encoding null where the version forbids it is refused. */
    sesp_bufw w;
    sesp_bufw_init(&w, 0, 0);
    sesp_kmsg_metadata_request_init(&m);
    m.topics_count = -1;
    CU_ASSERT_EQUAL(sesp_kmsg_metadata_request_encode(&w, 0, &m), SESP_ERR_INVALID_ARG);
    sesp_bufw_reset(&w);
    CU_ASSERT_EQUAL(sesp_kmsg_metadata_request_encode(&w, 1, &m), 0);
    CU_ASSERT_EQUAL(w.len, 4);

    sesp_kmsg_produce_request pr;
    sesp_kmsg_produce_request_topic_produce_data td;
    sesp_kmsg_produce_request_init(&pr);
    sesp_kmsg_produce_request_topic_produce_data_init(&td);
    td.name = SESP_KSTR_NULL;
    pr.topic_data = &td;
    pr.topic_data_count = 1;
    sesp_bufw_reset(&w);
    CU_ASSERT_EQUAL(sesp_kmsg_produce_request_encode(&w, 3, &pr), SESP_ERR_INVALID_ARG);
    td.name = SESP_KSTR("t");
    pr.topic_data = NULL; /* count 1 with no array */
    sesp_bufw_reset(&w);
    CU_ASSERT_EQUAL(sesp_kmsg_produce_request_encode(&w, 3, &pr), SESP_ERR_INVALID_ARG);
    pr.topic_data = &td;
    sesp_bufw_reset(&w);
    CU_ASSERT_EQUAL(sesp_kmsg_produce_request_encode(&w, 3, &pr), 0);
    /* null txn id, acks 0, timeout 0, [ "t", [] ] */
    static const uint8_t want[] = { 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1, 't', 0, 0, 0, 0 };
    CU_ASSERT(w.len == sizeof want && memcmp(w.p, want, sizeof want) == 0);
    sesp_bufw_free(&w);
    sesp_arena_free(&a);
}

static void test_tagged_fields(void)
{
    sesp_arena a;
    sesp_arena_init(&a, 0);
    sesp_bufw w;
    sesp_bufw_init(&w, 0, 0);
    sesp_kmsg_api_versions_response m;
    sesp_kmsg_api_versions_response_init(&m);
    CU_ASSERT_EQUAL(m.finalized_features_epoch, -1);
    CU_ASSERT_EQUAL(sesp_kmsg_api_versions_response_encode(&w, 3, &m), 0);
    /* error 0, empty compact array, throttle 0, no tagged fields */
    static const uint8_t plain[] = { 0, 0, 1, 0, 0, 0, 0, 0 };
    CU_ASSERT(w.len == sizeof plain && memcmp(w.p, plain, sizeof plain) == 0);

    m.finalized_features_epoch = 5;
    sesp_bufw_reset(&w);
    CU_ASSERT_EQUAL(sesp_kmsg_api_versions_response_encode(&w, 3, &m), 0);
    static const uint8_t tagged[] = { 0, 0, 1, 0, 0, 0, 0, 1, 1, 8, 0, 0, 0, 0, 0, 0, 0, 5 };
    CU_ASSERT(w.len == sizeof tagged && memcmp(w.p, tagged, sizeof tagged) == 0);
    sesp_bufr r;
    sesp_bufr_init(&r, w.p, w.len);
    sesp_kmsg_api_versions_response d;
    CU_ASSERT_EQUAL(sesp_kmsg_api_versions_response_decode(&r, 3, &d, &a), 0);
    CU_ASSERT_EQUAL(d.finalized_features_epoch, 5);
    CU_ASSERT_EQUAL(d.zk_migration_ready, false);

    /* Unknown tag 9 is skipped and not re-emitted. */
    static const uint8_t unknown[] = { 0, 0, 1, 0, 0, 0, 0, 2, 1, 8, 0, 0, 0, 0, 0, 0, 0, 7, 9, 2, 0xaa, 0xbb };
    sesp_bufr_init(&r, unknown, sizeof unknown);
    CU_ASSERT_EQUAL(sesp_kmsg_api_versions_response_decode(&r, 3, &d, &a), 0);
    CU_ASSERT_EQUAL(sesp_bufr_left(&r), 0);
    CU_ASSERT_EQUAL(d.finalized_features_epoch, 7);
    sesp_bufw_reset(&w);
    CU_ASSERT_EQUAL(sesp_kmsg_api_versions_response_encode(&w, 3, &d), 0);
    CU_ASSERT_EQUAL(w.len, sizeof tagged);

    /* Tags out of order, duplicated, or with a payload size that does not match. */
    static const uint8_t desc[] = { 0, 0, 1, 0, 0, 0, 0, 2, 3, 1, 1, 1, 8, 0, 0, 0, 0, 0, 0, 0, 7 };
    sesp_bufr_init(&r, desc, sizeof desc);
    CU_ASSERT_EQUAL(sesp_kmsg_api_versions_response_decode(&r, 3, &d, &a), SESP_ERR_MALFORMED);
    static const uint8_t dup[] = { 0, 0, 1, 0, 0, 0, 0, 2, 3, 1, 1, 3, 1, 0 };
    sesp_bufr_init(&r, dup, sizeof dup);
    CU_ASSERT_EQUAL(sesp_kmsg_api_versions_response_decode(&r, 3, &d, &a), SESP_ERR_MALFORMED);
    static const uint8_t shortpl[] = { 0, 0, 1, 0, 0, 0, 0, 1, 1, 4, 0, 0, 0, 7 };
    sesp_bufr_init(&r, shortpl, sizeof shortpl);
    CU_ASSERT_EQUAL(sesp_kmsg_api_versions_response_decode(&r, 3, &d, &a), SESP_ERR_MALFORMED);
    static const uint8_t longpl[] = { 0, 0, 1, 0, 0, 0, 0, 1, 3, 2, 1, 0 };
    sesp_bufr_init(&r, longpl, sizeof longpl);
    CU_ASSERT_EQUAL(sesp_kmsg_api_versions_response_decode(&r, 3, &d, &a), SESP_ERR_MALFORMED);
    /* Tag count larger than the bytes left. */
    static const uint8_t many[] = { 0, 0, 1, 0, 0, 0, 0, 0x7f };
    sesp_bufr_init(&r, many, sizeof many);
    CU_ASSERT_EQUAL(sesp_kmsg_api_versions_response_decode(&r, 3, &d, &a), SESP_ERR_MALFORMED);
    /* The same body is not flexible in v2: the tag section is just trailing bytes. */
    sesp_bufw_free(&w);
    sesp_arena_free(&a);
}

static void test_nullable_struct(void)
{
    sesp_arena a;
    sesp_arena_init(&a, 0);
    sesp_bufw w;
    sesp_bufw_init(&w, 0, 0);
    sesp_kmsg_consumer_group_heartbeat_response m, d;
    sesp_kmsg_consumer_group_heartbeat_response_init(&m);
    CU_ASSERT_FALSE(m.assignment_present);
    CU_ASSERT_EQUAL(m.heartbeat_interval_ms, 0);
    CU_ASSERT_EQUAL(sesp_kmsg_consumer_group_heartbeat_response_encode(&w, 0, &m), 0);
    sesp_bufr r;
    sesp_bufr_init(&r, w.p, w.len);
    CU_ASSERT_EQUAL(sesp_kmsg_consumer_group_heartbeat_response_decode(&r, 0, &d, &a), 0);
    CU_ASSERT_FALSE(d.assignment_present);
    CU_ASSERT_EQUAL(w.p[w.len - 2], 0xff); /* null marker, then empty tag section */

    m.assignment_present = true;
    sesp_bufw_reset(&w);
    CU_ASSERT_EQUAL(sesp_kmsg_consumer_group_heartbeat_response_encode(&w, 0, &m), 0);
    sesp_bufr_init(&r, w.p, w.len);
    CU_ASSERT_EQUAL(sesp_kmsg_consumer_group_heartbeat_response_decode(&r, 0, &d, &a), 0);
    CU_ASSERT_TRUE(d.assignment_present);
    CU_ASSERT_EQUAL(d.assignment.topic_partitions_count, 0);
    /* A presence byte other than -1/1 is malformed. */
    size_t at = w.len - 4; /* 1, empty array, empty tags, empty tags */
    CU_ASSERT_EQUAL(w.p[at], 1);
    w.p[at] = 2;
    sesp_bufr_init(&r, w.p, w.len);
    CU_ASSERT_EQUAL(sesp_kmsg_consumer_group_heartbeat_response_decode(&r, 0, &d, &a), SESP_ERR_MALFORMED);
    sesp_bufw_free(&w);
    sesp_arena_free(&a);
}

static void test_arena_cap(void)
{
    /* Metadata v4 asking for 2000 topics: the decoded array needs far more than 1 KiB. */
    sesp_bufw w;
    sesp_bufw_init(&w, 0, 0);
    sesp_bufw_i32(&w, 2000);
    for (int i = 0; i < 2000; i++) {
        sesp_bufw_i16(&w, 1);
        sesp_bufw_i8(&w, 'a' + i % 26);
    }
    sesp_bufw_i8(&w, 1);
    sesp_arena a;
    sesp_arena_init(&a, 1024);
    sesp_bufr r;
    sesp_bufr_init(&r, w.p, w.len);
    sesp_kmsg_metadata_request m;
    CU_ASSERT_EQUAL(sesp_kmsg_metadata_request_decode(&r, 4, &m, &a), SESP_ERR_TOO_LARGE);
    CU_ASSERT(a.total <= 1024);
    sesp_arena_free(&a);
    sesp_arena_init(&a, 0);
    sesp_bufr_init(&r, w.p, w.len);
    CU_ASSERT_EQUAL(sesp_kmsg_metadata_request_decode(&r, 4, &m, &a), 0);
    CU_ASSERT_EQUAL(m.topics_count, 2000);
    CU_ASSERT(sesp_kstr_eq(m.topics[27].name, "b"));
    sesp_arena_free(&a);
    sesp_bufw_free(&w);
}

static void test_headers(void)
{
    CU_ASSERT_EQUAL(sesp_kreq_header_version(0, 8), 1);
    CU_ASSERT_EQUAL(sesp_kreq_header_version(0, 9), 2);
    CU_ASSERT_EQUAL(sesp_kreq_header_version(7, 0), 0);
    CU_ASSERT_EQUAL(sesp_kreq_header_version(7, 3), 2);
    CU_ASSERT_EQUAL(sesp_kreq_header_version(999, 0), -1);
    CU_ASSERT_EQUAL(sesp_kresp_header_version(18, 3), 0);
    CU_ASSERT_EQUAL(sesp_kresp_header_version(3, 9), 1);
    CU_ASSERT_EQUAL(sesp_kresp_header_version(3, 8), 0);

    /* Unknown API key: correlation id still decoded. */
    static const uint8_t unk[] = { 0x03, 0xe7, 0, 0, 0, 0, 0x12, 0x34, 0, 1, 'x' };
    sesp_bufr r;
    sesp_kreq_header h;
    sesp_bufr_init(&r, unk, sizeof unk);
    CU_ASSERT_EQUAL(sesp_kreq_header_decode(&r, &h), SESP_ERR_UNSUPPORTED);
    CU_ASSERT_EQUAL(h.api_key, 999);
    CU_ASSERT_EQUAL(h.correlation_id, 0x1234);
    /* Known API, too new a version (ApiVersions v99). */
    static const uint8_t newv[] = { 0, 18, 0, 99, 0, 0, 0, 9 };
    sesp_bufr_init(&r, newv, sizeof newv);
    CU_ASSERT_EQUAL(sesp_kreq_header_decode(&r, &h), SESP_ERR_UNSUPPORTED);
    CU_ASSERT_EQUAL(h.api_version, 99);
    CU_ASSERT_EQUAL(h.correlation_id, 9);
    /* Truncated headers. */
    for (size_t cut = 0; cut < 8; cut++) {
        sesp_bufr_init(&r, newv, cut);
        CU_ASSERT_EQUAL(sesp_kreq_header_decode(&r, &h), SESP_ERR_TRUNCATED);
    }
    /* Header v2 with a tagged field is skipped. */
    static const uint8_t v2[] = { 0, 18, 0, 3, 0, 0, 0, 5, 0xff, 0xff, 1, 4, 1, 0x55, 0x66 };
    sesp_bufr_init(&r, v2, sizeof v2);
    CU_ASSERT_EQUAL(sesp_kreq_header_decode(&r, &h), 0);
    CU_ASSERT_EQUAL(h.client_id.len, -1);
    CU_ASSERT_EQUAL(sesp_bufr_left(&r), 1);
    /* Client id length past the end. */
    static const uint8_t badcid[] = { 0, 3, 0, 1, 0, 0, 0, 5, 0, 9, 'a' };
    sesp_bufr_init(&r, badcid, sizeof badcid);
    CU_ASSERT_EQUAL(sesp_kreq_header_decode(&r, &h), SESP_ERR_TRUNCATED);

    sesp_bufw w;
    sesp_bufw_init(&w, 0, 0);
    sesp_kresp_header_encode(&w, 18, 3, 77);
    CU_ASSERT_EQUAL(w.len, 4);
    sesp_bufw_reset(&w);
    sesp_kresp_header_encode(&w, 3, 12, 77);
    static const uint8_t v1[] = { 0, 0, 0, 77, 0 };
    CU_ASSERT(w.len == 5 && memcmp(w.p, v1, 5) == 0);
    sesp_bufw_free(&w);
}

static void test_api_table_and_errors(void)
{
    const sesp_kapi_info *p = sesp_kapi_lookup(0);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_STRING_EQUAL(p->name, "Produce");
    CU_ASSERT_EQUAL(p->min_version, 0);
    CU_ASSERT_EQUAL(p->max_version, 11);
    CU_ASSERT_EQUAL(p->first_flexible, 9);
    p = sesp_kapi_lookup(SESP_KAPI_API_VERSIONS);
    CU_ASSERT_PTR_NOT_NULL_FATAL(p);
    CU_ASSERT_STRING_EQUAL(p->name, "ApiVersions");
    CU_ASSERT_EQUAL(p->max_version, 4);
    CU_ASSERT_EQUAL(p->first_flexible, 3);
    CU_ASSERT_PTR_NULL(sesp_kapi_lookup(-1));
    CU_ASSERT_PTR_NULL(sesp_kapi_lookup(30000));
    size_t n;
    const sesp_kapi_info *all = sesp_kapi_all(&n);
    CU_ASSERT(n > 70);
    for (size_t i = 1; i < n; i++)
        CU_ASSERT(all[i - 1].api_key < all[i].api_key);

    CU_ASSERT_EQUAL(SESP_KERR_NOT_COORDINATOR, 16);
    CU_ASSERT_EQUAL(SESP_KERR_UNSUPPORTED_VERSION, 35);
    CU_ASSERT_STRING_EQUAL(sesp_kerr_name(0), "NONE");
    CU_ASSERT_STRING_EQUAL(sesp_kerr_name(3), "UNKNOWN_TOPIC_OR_PARTITION");
    CU_ASSERT_STRING_EQUAL(sesp_kerr_name(-1), "UNKNOWN_SERVER_ERROR");
    CU_ASSERT_STRING_EQUAL(sesp_kerr_name(SESP_KERR_VOTER_NOT_FOUND), "VOTER_NOT_FOUND");
    CU_ASSERT_STRING_EQUAL(sesp_kerr_name(500), "UNKNOWN");
    CU_ASSERT_STRING_EQUAL(sesp_kerr_name(-7), "UNKNOWN");
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("protocol_wire", NULL, NULL);
    CU_add_test(s, "librdkafka ApiVersions v3", test_librdkafka_api_versions_v3);
    CU_add_test(s, "librdkafka Metadata v4", test_librdkafka_metadata_v4);
    CU_add_test(s, "librdkafka Produce v7 with a record batch", test_librdkafka_produce_v7);
    CU_add_test(s, "kafka-python ApiVersions v0 and Metadata v0/v1", test_kafka_python_frames);
    CU_add_test(s, "lying lengths and counts", test_lying_lengths);
    CU_add_test(s, "nullability by version", test_nullability_by_version);
    CU_add_test(s, "tagged fields", test_tagged_fields);
    CU_add_test(s, "nullable struct", test_nullable_struct);
    CU_add_test(s, "arena cap", test_arena_cap);
    CU_add_test(s, "request/response headers", test_headers);
    CU_add_test(s, "api table and Kafka error names", test_api_table_and_errors);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned fails = CU_get_number_of_failures();
    CU_cleanup_registry();
    return fails ? 1 : 0;
}
