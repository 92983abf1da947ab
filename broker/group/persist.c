/*
 * The coordinator's persistence in __consumer_offsets, byte-compatible with
 * Kafka: record keys and values each start with an int16 schema version
 * followed by the struct as Kafka's generated serde writes it
 * (OffsetCommitKey v1 / OffsetCommitValue v3 or v1 with an expire timestamp;
 * GroupMetadataKey v2 / GroupMetadataValue v3; a null value is a tombstone).
 * Writes go out as one uncompressed RecordBatch v2 per operation; start-up
 * replays each partition from its log start through its end offset.  Also
 * Kafka's partition mapping: abs(String.hashCode) % partitions.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/group/group_int.h"
#include "broker/log/batch.h"
#include "broker/log/log.h"
#include "broker/protocol/generated/kmsg.h"
#include "broker/protocol/kerr.h"
#include "common/err.h"

#define GC_LOAD_READ_BYTES (4 << 20)

/* Java's String.hashCode over the UTF-16 code units of the UTF-8 bytes Java
 * would decode (malformed bytes become U+FFFD, one per byte). */
int32_t sesp_group_partition_for(const char *group_id, size_t len, int32_t partitions)
{
    const uint8_t *s = (const uint8_t *)group_id;
    uint32_t h = 0;
    size_t i = 0;
    while (i < len) {
        uint32_t cp = 0xFFFD;
        size_t need = 0;
        uint8_t c = s[i];
        if (c < 0x80) {
            cp = c;
        } else if (c >= 0xC2 && c <= 0xDF) {
            need = 1;
            cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2;
            cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3;
            cp = c & 0x07;
        }
        size_t used = 1;
        if (need) {
            bool ok = i + need < len;
            for (size_t k = 1; ok && k <= need; k++)
                ok = (s[i + k] & 0xC0) == 0x80;
            if (ok) {
                for (size_t k = 1; k <= need; k++)
                    cp = (cp << 6) | (s[i + k] & 0x3F);
                if ((need == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
                    (need == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
                    cp = 0xFFFD;
                else
                    used = need + 1;
            } else {
                cp = 0xFFFD;
            }
        }
        i += used;
        if (cp >= 0x10000) {
            uint32_t v = cp - 0x10000;
            h = 31u * h + (0xD800u + (v >> 10));
            h = 31u * h + (0xDC00u + (v & 0x3FF));
        } else {
            h = 31u * h + cp;
        }
    }
    int32_t hv = (int32_t)h;
    int32_t a = hv == INT32_MIN ? 0 : (hv < 0 ? -hv : hv);
    return partitions > 0 ? a % partitions : 0;
}

/* ---- record encoding ---- */

static int finish(sesp_bufw *w, uint8_t **p, size_t *len, int rc)
{
    if (rc == 0 && w->err)
        rc = w->err;
    if (rc != 0) {
        sesp_bufw_free(w);
        return rc;
    }
    *p = sesp_bufw_steal(w, len);
    return *p ? 0 : SESP_ERR_NOMEM;
}

int gc_rec_offset(gc_rec *r, sesp_kstr group, const gc_offset *o, bool tombstone)
{
    memset(r, 0, sizeof *r);
    sesp_bufw w;
    sesp_bufw_init(&w, 64, 0);
    sesp_kmsg_offset_commit_key k = { group, SESP_KSTR(o->topic), o->partition };
    sesp_bufw_i16(&w, 1);
    int rc = finish(&w, &r->key, &r->key_len, sesp_kmsg_offset_commit_key_encode(&w, 1, &k));
    if (rc)
        return rc;
    r->tombstone = tombstone;
    if (tombstone)
        return 0;
    sesp_kmsg_offset_commit_value v;
    sesp_kmsg_offset_commit_value_init(&v);
    int16_t ver = o->expire_ts >= 0 ? 1 : 3;
    v.offset = o->offset;
    v.leader_epoch = o->leader_epoch;
    v.metadata = SESP_KSTR(o->metadata ? o->metadata : "");
    v.commit_timestamp = o->commit_ts;
    v.expire_timestamp = o->expire_ts;
    sesp_bufw_init(&w, 64, 0);
    sesp_bufw_i16(&w, ver);
    rc = finish(&w, &r->value, &r->value_len, sesp_kmsg_offset_commit_value_encode(&w, ver, &v));
    if (rc) {
        free(r->key);
        r->key = NULL;
    }
    return rc;
}

int gc_rec_group(gc_rec *r, const gc_group *g, bool tombstone)
{
    memset(r, 0, sizeof *r);
    sesp_bufw w;
    sesp_bufw_init(&w, 64, 0);
    sesp_kmsg_group_metadata_key k = { gc_gid(g) };
    sesp_bufw_i16(&w, 2);
    int rc = finish(&w, &r->key, &r->key_len, sesp_kmsg_group_metadata_key_encode(&w, 2, &k));
    if (rc)
        return rc;
    r->tombstone = tombstone;
    if (tombstone)
        return 0;
    sesp_kmsg_group_metadata_value v;
    sesp_kmsg_group_metadata_value_init(&v);
    v.protocol_type = SESP_KSTR(g->protocol_type ? g->protocol_type : "");
    v.generation = g->generation;
    v.protocol = g->protocol ? SESP_KSTR(g->protocol) : SESP_KSTR_NULL;
    v.leader = g->leader && g->nmembers ? SESP_KSTR(g->leader) : SESP_KSTR_NULL;
    v.current_state_timestamp = g->state_ts;
    sesp_kmsg_group_metadata_value_member_metadata *mm = calloc((size_t)g->nmembers + 1, sizeof *mm);
    if (!mm) {
        free(r->key);
        r->key = NULL;
        return SESP_ERR_NOMEM;
    }
    int i = 0;
    for (const gc_member *m = g->members; m; m = m->next, i++) {
        const gc_proto *p = NULL;
        for (int k2 = 0; k2 < m->nprotos && g->protocol; k2++)
            if (strcmp(m->protos[k2].name, g->protocol) == 0)
                p = &m->protos[k2];
        mm[i].member_id = SESP_KSTR(m->id);
        mm[i].group_instance_id = m->instance_id ? SESP_KSTR(m->instance_id) : SESP_KSTR_NULL;
        mm[i].client_id = SESP_KSTR(m->client_id ? m->client_id : "");
        mm[i].client_host = SESP_KSTR(m->client_host ? m->client_host : "");
        mm[i].rebalance_timeout = m->rebalance_timeout_ms;
        mm[i].session_timeout = m->session_timeout_ms;
        mm[i].subscription = p ? (sesp_kbytes){ p->meta, p->meta_len } : (sesp_kbytes){ NULL, 0 };
        mm[i].assignment = (sesp_kbytes){ m->assignment, m->assignment_len };
    }
    v.members = mm;
    v.members_count = g->nmembers;
    sesp_bufw_init(&w, 256, 0);
    sesp_bufw_i16(&w, 3);
    rc = finish(&w, &r->value, &r->value_len, sesp_kmsg_group_metadata_value_encode(&w, 3, &v));
    free(mm);
    if (rc) {
        free(r->key);
        r->key = NULL;
    }
    return rc;
}

void gc_rec_free(gc_rec *r, int n)
{
    for (int i = 0; i < n; i++) {
        free(r[i].key);
        free(r[i].value);
        r[i].key = r[i].value = NULL;
    }
}

/* ---- appending ---- */

int16_t gc_append(gc_t *gc, int32_t partition, gc_rec *recs, int n)
{
    if (n <= 0)
        return SESP_KERR_NONE;
    struct sesp_log *log = gc->log_fn ? gc->log_fn(gc->log_ud, partition) : NULL;
    if (!log)
        return SESP_KERR_COORDINATOR_NOT_AVAILABLE;
    sesp_batch_record_in *in = calloc((size_t)n, sizeof *in);
    if (!in)
        return SESP_KERR_UNKNOWN_SERVER_ERROR;
    int64_t now = gc_now_ms();
    for (int i = 0; i < n; i++) {
        in[i].key = recs[i].key;
        in[i].key_len = (int32_t)recs[i].key_len;
        in[i].value = recs[i].tombstone ? NULL : recs[i].value;
        in[i].value_len = recs[i].tombstone ? -1 : (int32_t)recs[i].value_len;
        in[i].timestamp = now;
    }
    sesp_batch_build_opts o;
    sesp_batch_build_opts_init(&o);
    uint8_t *buf = NULL;
    size_t len = 0;
    int rc = sesp_batch_build(&o, in, n, &buf, &len);
    free(in);
    if (rc != 0)
        return rc == SESP_ERR_TOO_LARGE ? SESP_KERR_RECORD_LIST_TOO_LARGE : SESP_KERR_UNKNOWN_SERVER_ERROR;
    sesp_log_append_info info;
    memset(&info, 0, sizeof info);
    rc = sesp_log_append(log, buf, len, now, &info);
    free(buf);
    if (rc == 0)
        return SESP_KERR_NONE;
    switch (info.kafka_error) {
    case SESP_LOG_KERR_MESSAGE_TOO_LARGE:
    case SESP_LOG_KERR_RECORD_LIST_TOO_LARGE:
        return SESP_KERR_RECORD_LIST_TOO_LARGE;
    case SESP_LOG_KERR_KAFKA_STORAGE_ERROR:
        return SESP_KERR_NOT_COORDINATOR;
    default:
        return SESP_KERR_UNKNOWN_SERVER_ERROR;
    }
}

int16_t gc_store_group(gc_t *gc, gc_group *g)
{
    gc_rec r;
    if (gc_rec_group(&r, g, false) != 0)
        return SESP_KERR_UNKNOWN_SERVER_ERROR;
    int16_t err = gc_append(gc, g->partition, &r, 1);
    gc_rec_free(&r, 1);
    /* Kafka's storeGroup maps a too-large group record to UNKNOWN_SERVER_ERROR. */
    return err == SESP_KERR_RECORD_LIST_TOO_LARGE ? SESP_KERR_UNKNOWN_SERVER_ERROR : err;
}

/* ---- replay ---- */

static gc_group *load_group(gc_t *gc, sesp_kstr id)
{
    gc_group *g = gc_group_find(gc, id);
    if (!g)
        g = gc_group_create(gc, id.ptr ? id.ptr : "", (size_t)id.len);
    return g;
}

static void apply_offset(gc_t *gc, sesp_bufr *kr, int16_t kv, const sesp_record *rec, sesp_arena *a)
{
    sesp_kmsg_offset_commit_key k;
    if (sesp_kmsg_offset_commit_key_decode(kr, kv, &k, a) != 0 || k.group.len < 0 || k.topic.len < 0)
        return;
    if (rec->value_len < 0) {
        gc_group *g = gc_group_find(gc, k.group);
        if (g)
            gc_offset_del(g, k.topic.ptr ? k.topic.ptr : "", (size_t)k.topic.len, k.partition);
        return;
    }
    sesp_bufr vr;
    sesp_bufr_init(&vr, rec->value, (size_t)rec->value_len);
    int16_t vv = sesp_bufr_i16(&vr);
    sesp_kmsg_offset_commit_value v;
    if (vr.err || sesp_kmsg_offset_commit_value_decode(&vr, vv, &v, a) != 0)
        return;
    gc_group *g = load_group(gc, k.group);
    if (!g)
        return;
    char *topic = sesp_kstr_dup(k.topic, a);
    char *meta = v.metadata.len >= 0 ? sesp_kstr_dup(v.metadata, a) : NULL;
    if (!topic)
        return;
    gc_offset o = { topic, k.partition, v.offset, v.leader_epoch, meta, v.commit_timestamp, v.expire_timestamp };
    (void)gc_offset_put(g, &o);
}

static void apply_group(gc_t *gc, sesp_bufr *kr, const sesp_record *rec, sesp_arena *a)
{
    sesp_kmsg_group_metadata_key k;
    if (sesp_kmsg_group_metadata_key_decode(kr, 2, &k, a) != 0 || k.group.len < 0)
        return;
    gc_group *g = gc_group_find(gc, k.group);
    if (rec->value_len < 0) {
        if (!g)
            return;
        /* Offsets have their own tombstones; keep the group while it has any. */
        if (g->offsets.n == 0) {
            gc_group_remove(gc, g);
            return;
        }
        gc_group_free_members(g, SESP_KERR_NOT_COORDINATOR);
        free(g->protocol);
        free(g->leader);
        free(g->protocol_type);
        g->protocol = g->leader = g->protocol_type = NULL;
        gc_transition(g, GS_EMPTY);
        return;
    }
    sesp_bufr vr;
    sesp_bufr_init(&vr, rec->value, (size_t)rec->value_len);
    int16_t vv = sesp_bufr_i16(&vr);
    sesp_kmsg_group_metadata_value v;
    if (vr.err || sesp_kmsg_group_metadata_value_decode(&vr, vv, &v, a) != 0)
        return;
    if (!g && !(g = load_group(gc, k.group)))
        return;
    gc_group_free_members(g, SESP_KERR_NOT_COORDINATOR);
    free(g->protocol);
    free(g->leader);
    free(g->protocol_type);
    g->protocol_type = v.protocol_type.len > 0 ? gc_kstrdup(v.protocol_type) : NULL;
    g->protocol = gc_kstrdup(v.protocol);
    g->leader = gc_kstrdup(v.leader);
    g->generation = v.generation;
    for (int i = 0; i < v.members_count; i++) {
        const sesp_kmsg_group_metadata_value_member_metadata *mm = &v.members[i];
        if (mm->member_id.len < 0)
            continue;
        gc_member *m = gc_member_append(g);
        if (!m)
            break;
        m->id = gc_kstrdup(mm->member_id);
        m->instance_id = gc_kstrdup(mm->group_instance_id);
        m->client_id = gc_kstrdup(mm->client_id.len >= 0 ? mm->client_id : SESP_KSTR(""));
        m->client_host = gc_kstrdup(mm->client_host.len >= 0 ? mm->client_host : SESP_KSTR(""));
        m->session_timeout_ms = mm->session_timeout > 0 ? mm->session_timeout : gc->cfg.min_session_timeout_ms;
        m->rebalance_timeout_ms = mm->rebalance_timeout > 0 ? mm->rebalance_timeout : m->session_timeout_ms;
        if (g->protocol) {
            m->protos = calloc(1, sizeof *m->protos);
            if (m->protos) {
                int32_t ml = mm->subscription.len > 0 ? mm->subscription.len : 0;
                m->protos[0].name = strdup(g->protocol);
                m->protos[0].meta = malloc(ml ? (size_t)ml : 1);
                m->protos[0].meta_len = ml;
                if (ml && m->protos[0].meta)
                    memcpy(m->protos[0].meta, mm->subscription.ptr, (size_t)ml);
                m->nprotos = 1;
            }
        }
        if (mm->assignment.len > 0) {
            m->assignment = malloc((size_t)mm->assignment.len);
            if (m->assignment) {
                memcpy(m->assignment, mm->assignment.ptr, (size_t)mm->assignment.len);
                m->assignment_len = mm->assignment.len;
            }
        }
        if (!m->id || !m->client_id || !m->client_host || (g->protocol && (!m->protos || !m->protos[0].name ||
                                                                           !m->protos[0].meta))) {
            /* Out of memory while loading: drop the member; it will rejoin. */
            gc_member **pp = &g->members;
            while (*pp != m)
                pp = &(*pp)->next;
            *pp = NULL;
            g->nmembers--;
            gc_member_free(m);
        }
    }
    if (g->leader && g->nmembers == 0) {
        free(g->leader);
        g->leader = NULL;
    }
    gc_transition(g, g->nmembers ? GS_STABLE : GS_EMPTY);
    if (v.current_state_timestamp > 0)
        g->state_ts = v.current_state_timestamp;
}

static void apply_record(gc_t *gc, const sesp_record *rec)
{
    if (rec->key_len < 2)
        return;
    sesp_arena a;
    sesp_arena_init(&a, (size_t)rec->key_len * 4 + (rec->value_len > 0 ? (size_t)rec->value_len * 4 : 0) + 4096);
    sesp_bufr kr;
    sesp_bufr_init(&kr, rec->key, (size_t)rec->key_len);
    int16_t kv = sesp_bufr_i16(&kr);
    if (kv == 0 || kv == 1)
        apply_offset(gc, &kr, kv, rec, &a);
    else if (kv == 2)
        apply_group(gc, &kr, rec, &a);
    /* Other key versions are records of the KIP-848 coordinator; not ours. */
    sesp_arena_free(&a);
}

static int read_slice(const sesp_log_slice *s, uint8_t **out)
{
    uint8_t *buf = malloc((size_t)s->length);
    if (!buf)
        return SESP_ERR_NOMEM;
    int64_t done = 0;
    while (done < s->length) {
        ssize_t n = pread(s->fd, buf + done, (size_t)(s->length - done), (off_t)(s->file_pos + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            free(buf);
            return SESP_ERR_IO;
        }
        done += n;
    }
    *out = buf;
    return 0;
}

int gc_load_partition(gc_t *gc, int32_t partition)
{
    struct sesp_log *log = gc->log_fn ? gc->log_fn(gc->log_ud, partition) : NULL;
    if (!log)
        return 0;
    int64_t off = sesp_log_start_offset(log), end = sesp_log_end_offset(log);
    int rc = 0;
    while (off < end) {
        sesp_log_slice s = { -1, 0, 0 };
        rc = sesp_log_read(log, off, GC_LOAD_READ_BYTES, true, &s);
        if (rc != 0)
            break;
        if (s.fd < 0 || s.length <= 0) {
            if (s.fd >= 0)
                close(s.fd);
            break;
        }
        uint8_t *buf = NULL;
        rc = read_slice(&s, &buf);
        close(s.fd);
        if (rc != 0)
            break;
        int64_t before = off;
        size_t pos = 0;
        while (pos + SESP_BATCH_HEADER_SIZE <= (size_t)s.length) {
            sesp_batch_header h;
            if (sesp_batch_parse_header(buf + pos, (size_t)s.length - pos, &h) != 0)
                break;
            int64_t size = sesp_batch_size(&h);
            if (size <= 0 || (int64_t)pos + size > s.length)
                break;
            if (sesp_batch_last_offset(&h) >= off && !(h.attributes & SESP_BATCH_ATTR_CONTROL)) {
                sesp_batch_iter it;
                if (sesp_batch_iter_init(&it, buf + pos, (size_t)size, 0) == 0) {
                    sesp_record rec;
                    while (sesp_batch_iter_next(&it, &rec) == 1)
                        if (rec.offset >= off)
                            apply_record(gc, &rec);
                }
                sesp_batch_iter_free(&it);
            }
            if (sesp_batch_last_offset(&h) + 1 > off)
                off = sesp_batch_last_offset(&h) + 1;
            pos += (size_t)size;
        }
        free(buf);
        if (off == before) {
            rc = SESP_ERR_CORRUPT;
            break;
        }
    }
    return rc;
}
