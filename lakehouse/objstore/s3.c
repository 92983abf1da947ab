/*
 * The S3 backend over libcurl: SigV4 signing by curl (CURLOPT_AWS_SIGV4),
 * path-style or virtual-hosted addressing, ListObjectsV2 with continuation
 * tokens (the XML is read with a small bounded tag scanner, never trusted
 * further than "text between two tags"), multipart upload for the streaming
 * writer, and put_if_absent through `If-None-Match: *` (412 = someone else's
 * object).  Some S3-compatible stores accept that header and ignore it, which
 * would let two writers both "create" the same Delta commit.  So by default
 * (s3.conditional-put = auto) the first put_if_absent of a handle probes the
 * store once: it writes a uniquely named object next to the key (plainly, so
 * a retried request cannot meet its own object), puts it again with
 * If-None-Match, expects 412, deletes it and remembers the answer.  A store
 * that ignores the header (or that declared so: s3.conditional-put =
 * unsupported) gets put_if_absent only with a lock file (s3.lock-path), which
 * serialises writers on this host around a HEAD + PUT; without one it is
 * refused with an error saying why.  s3.conditional-put = supported skips the
 * probe.  A conditional put whose first attempt failed mid-flight and whose
 * retry gets 412 may be our own object: it is read back and compared before
 * reporting EXISTS, so a retried Delta commit is neither lost nor doubled.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>
#include <openssl/sha.h>

#include "common/err.h"
#include "aws_config.h"
#include "aws_creds.h"
#include "objstore_impl.h"

#define LIST_BODY_MAX (16u << 20)
#define SMALL_BODY_MAX (1u << 20)

typedef struct s3 {
    char *bucket;
    char *prefix;      /* "" or "dir/sub" without slashes at the ends */
    char *base;        /* URL up to and including the bucket (path style) or host */
    char *sigv4;
    char *userpwd;
    char *token_hdr;
    sesp_aws_creds_cache *creds;  /* temporary credentials from a provider (else userpwd/token_hdr are fixed) */
    int cas;           /* conditional puts, from the probe: CAS_UNKNOWN, CAS_ENFORCED, CAS_IGNORED */
} s3;

enum { CAS_UNKNOWN, CAS_ENFORCED, CAS_IGNORED };

typedef struct s3_writer {
    uint8_t *buf;
    size_t len, cap;
    char *upload_id;
    char **etags;
    int nparts;
} s3_writer;

static char *dupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *dupf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *out = NULL;
    if (vasprintf(&out, fmt, ap) < 0) out = NULL;
    va_end(ap);
    return out;
}

/* URL of an object (key relative to the store root) plus optional query. */
static char *obj_url(s3 *b, const char *key, const char *query)
{
    char *full = dupf("%s%s%s", b->prefix, *b->prefix ? "/" : "", key);
    if (!full) return NULL;
    char *esc = sesp_http_escape(full, true);
    free(full);
    if (!esc) return NULL;
    char *url = dupf("%s/%s%s%s", b->base, esc, query ? "?" : "", query ? query : "");
    free(esc);
    return url;
}

static const char **hdrs(const char *token_hdr, const char *extra, const char *extra2, const char **arr)
{
    int i = 0;
    if (token_hdr) arr[i++] = token_hdr;
    if (extra) arr[i++] = extra;
    if (extra2) arr[i++] = extra2;
    arr[i] = NULL;
    return arr;
}

static int do_req(sesp_objstore *s, const char *method, const char *url, const void *body, size_t len,
                  const char *h1, const char *h2, sesp_http_resp *r, int *attempts)
{
    s3 *b = s->impl;
    const char *arr[5];
    const char *userpwd = b->userpwd, *token_hdr = b->token_hdr;
    char *tmp_userpwd = NULL, *tmp_token = NULL;
    if (b->creds) {
        /* temporary credentials: the current ones, refreshed when due; a
         * copy, since another thread may replace them meanwhile */
        sesp_aws_creds c;
        char why[1600];
        int rc = sesp_aws_creds_cache_get(b->creds, &c, why, sizeof(why));
        if (rc) return rc == SESP_ERR_NOMEM ? rc : sesp_objstore_seterr(s, rc, "S3 store %s: %s", s->uri, why);
        tmp_userpwd = dupf("%s:%s", c.access_key_id, c.secret_access_key);
        tmp_token = c.session_token ? dupf("x-amz-security-token: %s", c.session_token) : NULL;
        bool nomem = !tmp_userpwd || (c.session_token && !tmp_token);
        sesp_aws_creds_free(&c);
        if (nomem) {
            if (tmp_userpwd) explicit_bzero(tmp_userpwd, strlen(tmp_userpwd));
            free(tmp_userpwd);
            free(tmp_token);
            return SESP_ERR_NOMEM;
        }
        userpwd = tmp_userpwd;
        token_hdr = tmp_token;
    }
    /* S3 wants the payload hash as a header; older libcurl does not add it */
    uint8_t md[SHA256_DIGEST_LENGTH];
    SHA256(body ? body : (const void *)"", len, md);
    char sha[64 + 32] = "x-amz-content-sha256: ";
    size_t o = strlen(sha);
    for (int i = 0; i < SHA256_DIGEST_LENGTH; i++) o += (size_t)snprintf(sha + o, sizeof(sha) - o, "%02x", md[i]);
    hdrs(token_hdr, h1, h2, arr);
    size_t i = 0;
    while (arr[i]) i++;
    if (b->sigv4) { arr[i++] = sha; arr[i] = NULL; }
    sesp_http_req req = {.method = method, .url = url, .body = body, .body_len = len,
                         .headers = arr, .sigv4 = b->sigv4, .userpwd = userpwd};
    int rc = sesp_http_do(s, &req, r, attempts);
    if (tmp_userpwd) explicit_bzero(tmp_userpwd, strlen(tmp_userpwd));
    if (tmp_token) explicit_bzero(tmp_token, strlen(tmp_token));
    free(tmp_userpwd);
    free(tmp_token);
    return rc;
}

static int64_t parse_iso8601_ms(const char *t)
{
    int Y, M, D, h, m, sec, n = 0;
    if (sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d%n", &Y, &M, &D, &h, &m, &sec, &n) != 6) return 0;
    struct tm tm = {.tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D, .tm_hour = h, .tm_min = m, .tm_sec = sec};
    int64_t ms = (int64_t)timegm(&tm) * 1000;
    if (t[n] == '.') ms += strtol(t + n + 1, NULL, 10) % 1000;
    return ms;
}

static int status_err(sesp_objstore *s, const char *what, const char *key, sesp_http_resp *r)
{
    char *code = NULL, *msg = NULL;
    size_t pos = 0;
    if (r->body) {
        code = sesp_http_xml_tag((char *)r->body, r->body_len, &pos, "Code", 0);
        pos = 0;
        msg = sesp_http_xml_tag((char *)r->body, r->body_len, &pos, "Message", 0);
    }
    int rc = r->status == 404 ? SESP_ERR_NOT_FOUND : r->status == 412 ? SESP_ERR_EXISTS
           : r->status == 403 || r->status == 401 ? SESP_ERR_IO : SESP_ERR_IO;
    sesp_objstore_seterr(s, rc, "S3 %s %s: HTTP %ld %s %s", what, key, r->status, code ? code : "", msg ? msg : "");
    free(code);
    free(msg);
    return rc;
}

static int s3_get_whole(sesp_objstore *s, const char *key, uint8_t **data, size_t *len);

static int s3_put_plain(sesp_objstore *s, const char *key, const void *data, size_t len, const char *cond, int *attempts)
{
    s3 *b = s->impl;
    char *url = obj_url(b, key, NULL);
    if (!url) return SESP_ERR_NOMEM;
    sesp_http_resp r = {.body_max = SMALL_BODY_MAX};
    int rc = do_req(s, "PUT", url, data, len, cond, NULL, &r, attempts);
    if (!rc && r.status / 100 != 2) rc = status_err(s, "PUT", key, &r);
    sesp_http_resp_free(&r);
    free(url);
    return rc;
}

static int s3_head(sesp_objstore *s, const char *key, sesp_obj_info *out);

static int put_locked(sesp_objstore *s, const char *key, const void *data, size_t len)
{
    int fd = open(s->opts.s3_lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return sesp_objstore_seterr(s, SESP_ERR_IO, "lock file %s: %s", s->opts.s3_lock_path, strerror(errno));
    while (flock(fd, LOCK_EX) && errno == EINTR) {}
    sesp_obj_info info;
    int rc = s3_head(s, key, &info);
    if (rc == 0) {
        sesp_obj_info_free(&info);
        rc = sesp_objstore_seterr(s, SESP_ERR_EXISTS, "%s already exists", key);
    } else if (rc == SESP_ERR_NOT_FOUND) {
        rc = s3_put_plain(s, key, data, len, NULL, NULL);
    }
    flock(fd, LOCK_UN);
    close(fd);
    return rc;
}

static int s3_del(sesp_objstore *s, const char *key);

/* Does the store enforce If-None-Match: * ?  Sets b->cas, or fails with the
 * store's error (the answer is then asked again next time). */
static int probe_cas(sesp_objstore *s, const char *key)
{
    s3 *b = s->impl;
    uint8_t rnd[8];
    if (RAND_bytes(rnd, sizeof(rnd)) != 1)
        for (size_t i = 0; i < sizeof(rnd); i++) rnd[i] = (uint8_t)rand();
    /* next to the key: the caller can write there, and for a Delta commit it
     * is _delta_log/, whose readers skip names that are not versions */
    const char *slash = strrchr(key, '/');
    char *probe = dupf("%.*s.sesp-cas-probe-%02x%02x%02x%02x%02x%02x%02x%02x", slash ? (int)(slash - key + 1) : 0, key,
                       rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6], rnd[7]);
    char *url = probe ? obj_url(b, probe, NULL) : NULL;
    static const char body[] = "sesp: does this store enforce If-None-Match: * ?\n";
    int rc = url ? s3_put_plain(s, probe, body, sizeof(body) - 1, NULL, NULL) : SESP_ERR_NOMEM;
    for (int tries = 0; !rc && b->cas == CAS_UNKNOWN; tries++) {
        /* The object exists now, so every attempt of this request, retries
         * included, must get 412 from a store that enforces the header. */
        sesp_http_resp r = {.body_max = SMALL_BODY_MAX};
        rc = do_req(s, "PUT", url, body, sizeof(body) - 1, "If-None-Match: *", NULL, &r, NULL);
        if (r.status == 412) {
            b->cas = CAS_ENFORCED;
            rc = 0;
        } else if (r.status / 100 == 2 || r.status == 501) {   /* 501: the header is not implemented */
            b->cas = CAS_IGNORED;
            rc = 0;
        } else if (r.status == 409 && tries < 5) {
            /* "a conditional request is in progress": not on a fresh name, but ask again */
            struct timespec ts = {0, 50000000L * (tries + 1)};
            nanosleep(&ts, NULL);
            rc = 0;
        } else if (!rc) rc = status_err(s, "PUT (conditional put probe)", probe, &r);
        sesp_http_resp_free(&r);
    }
    if (probe) {
        char saved[sizeof(s->err)];
        memcpy(saved, s->err, sizeof(saved));
        s3_del(s, probe);   /* best effort: a leftover probe is a small hidden object */
        memcpy(s->err, saved, sizeof(saved));
    }
    if (rc && rc != SESP_ERR_NOMEM) {
        char why[sizeof(s->err)];
        memcpy(why, s->err, sizeof(why));
        sesp_objstore_seterr(s, rc, "probing whether the S3 store enforces If-None-Match: %s", why);
    }
    free(url);
    free(probe);
    return rc;
}

static int s3_put(sesp_objstore *s, const char *key, const void *data, size_t len, bool if_absent)
{
    if (!if_absent) return s3_put_plain(s, key, data, len, NULL, NULL);
    s3 *b = s->impl;
    int mode = s->opts.s3_conditional_put;
    if (mode == SESP_S3_CONDITIONAL_PUT_AUTO && b->cas == CAS_UNKNOWN) {
        int rc = probe_cas(s, key);
        if (rc) return rc;
    }
    if (mode == SESP_S3_CONDITIONAL_PUT_UNSUPPORTED || (mode == SESP_S3_CONDITIONAL_PUT_AUTO && b->cas == CAS_IGNORED)) {
        if (s->opts.s3_lock_path) return put_locked(s, key, data, len);
        if (mode == SESP_S3_CONDITIONAL_PUT_UNSUPPORTED)
            return sesp_objstore_seterr(s, SESP_ERR_UNSUPPORTED,
                                        "this S3 store is configured without conditional puts (s3.conditional-put="
                                        "unsupported) and no s3.lock-path is set: refusing an unsafe put-if-absent of %s", key);
        return sesp_objstore_seterr(s, SESP_ERR_UNSUPPORTED,
                                    "the S3 store at %s ignores If-None-Match: * (a probe's conditional put over an existing "
                                    "object succeeded), so concurrent writers could both create %s: set s3.lock-path to a "
                                    "lock file shared by all writers (one host only), or s3.conditional-put=supported if "
                                    "the store does enforce it", s->uri, key);
    }
    int attempts = 0, rc = 0;
    for (int conflict_tries = 0; conflict_tries < 5; conflict_tries++) {
        rc = s3_put_plain(s, key, data, len, "If-None-Match: *", &attempts);
        if (rc == SESP_ERR_EXISTS) {
            /* An earlier attempt may have written it and lost the answer;
             * libcurl even retries a dead keep-alive connection by itself,
             * so the attempt count cannot tell.  Commits carry a timestamp
             * and unique file names, so equal bytes mean it is ours. */
            uint8_t *cur = NULL;
            size_t cl = 0;
            char saved[sizeof(s->err)];
            memcpy(saved, s->err, sizeof(saved));
            if (s3_get_whole(s, key, &cur, &cl) == 0 && cl == len && (!len || !memcmp(cur, data, len))) rc = 0;
            else memcpy(s->err, saved, sizeof(saved));
            free(cur);
        }
        /* 409: a concurrent conditional write is in progress; ask again */
        if (rc != SESP_ERR_IO || !strstr(s->err, "HTTP 409")) break;
        struct timespec ts = {0, 50000000L * (conflict_tries + 1)};
        nanosleep(&ts, NULL);
    }
    return rc;
}

static int s3_get_whole(sesp_objstore *s, const char *key, uint8_t **data, size_t *len)
{
    s3 *b = s->impl;
    char *url = obj_url(b, key, NULL);
    if (!url) return SESP_ERR_NOMEM;
    sesp_http_resp r = {.body_max = s->opts.max_object_bytes};
    int rc = do_req(s, "GET", url, NULL, 0, NULL, NULL, &r, NULL);
    if (!rc && r.status != 200) rc = status_err(s, "GET", key, &r);
    if (!rc) {
        if (!r.body) r.body = calloc(1, 1);
        if (!r.body) rc = SESP_ERR_NOMEM;
        else { *data = r.body; *len = r.body_len; r.body = NULL; }
    }
    sesp_http_resp_free(&r);
    free(url);
    return rc;
}

static int s3_get_range(sesp_objstore *s, const char *key, uint64_t off, size_t len, bool whole,
                        uint8_t **data, size_t *got)
{
    if (whole) return s3_get_whole(s, key, data, got);
    s3 *b = s->impl;
    char *url = obj_url(b, key, NULL);
    if (!url) return SESP_ERR_NOMEM;
    char range[96];
    snprintf(range, sizeof(range), "Range: bytes=%llu-%llu", (unsigned long long)off,
             (unsigned long long)(off + len - 1));
    sesp_http_resp r = {.body_max = len + 1024};
    int rc = do_req(s, "GET", url, NULL, 0, range, NULL, &r, NULL);
    if (!rc) {
        if (r.status == 416) *got = 0;
        else if (r.status == 206 || (r.status == 200 && off == 0)) {
            size_t n = r.body_len < len ? r.body_len : len;
            if (n) memcpy(*data, r.body, n);
            *got = n;
        } else rc = status_err(s, "GET", key, &r);
    }
    sesp_http_resp_free(&r);
    free(url);
    return rc;
}

static int s3_head(sesp_objstore *s, const char *key, sesp_obj_info *out)
{
    s3 *b = s->impl;
    char *url = obj_url(b, key, NULL);
    if (!url) return SESP_ERR_NOMEM;
    sesp_http_resp r = {.body_max = SMALL_BODY_MAX};
    int rc = do_req(s, "HEAD", url, NULL, 0, NULL, NULL, &r, NULL);
    if (!rc && r.status != 200) rc = status_err(s, "HEAD", key, &r);
    if (!rc) {
        out->key = strdup(key);
        if (!out->key) rc = SESP_ERR_NOMEM;
        out->size = r.content_length > 0 ? (uint64_t)r.content_length : 0;
        out->mtime_ms = r.last_modified_ms;
    }
    sesp_http_resp_free(&r);
    free(url);
    return rc;
}

static int s3_list(sesp_objstore *s, const char *prefix, sesp_obj_list *out)
{
    s3 *b = s->impl;
    size_t cap = 0, skip = *b->prefix ? strlen(b->prefix) + 1 : 0;
    char *full = dupf("%s%s%s", b->prefix, *b->prefix ? "/" : "", prefix);
    char *eprefix = full ? sesp_http_escape(full, false) : NULL;
    free(full);
    if (!eprefix) return SESP_ERR_NOMEM;
    char *token = NULL;
    int rc = 0;
    for (int page = 0; page < 100000; page++) {
        char *etok = token ? sesp_http_escape(token, false) : NULL;
        /* query parameters in sorted order: SigV4 signs the canonical query */
        char *url = token ? dupf("%s?continuation-token=%s&list-type=2&prefix=%s", b->base, etok, eprefix)
                          : dupf("%s?list-type=2&prefix=%s", b->base, eprefix);
        free(etok);
        if (!url) { rc = SESP_ERR_NOMEM; break; }
        sesp_http_resp r = {.body_max = LIST_BODY_MAX};
        rc = do_req(s, "GET", url, NULL, 0, NULL, NULL, &r, NULL);
        free(url);
        if (!rc && r.status != 200) rc = status_err(s, "LIST", prefix, &r);
        if (rc) { sesp_http_resp_free(&r); break; }
        const char *body = (const char *)r.body;
        size_t blen = r.body_len, pos = 0;
        while (body) {
            const char *c = memmem(body + pos, blen - pos, "<Contents>", 10);
            if (!c) break;
            const char *ce = memmem(c, (size_t)(body + blen - c), "</Contents>", 11);
            if (!ce) { rc = sesp_objstore_seterr(s, SESP_ERR_MALFORMED, "S3 LIST: unterminated <Contents>"); break; }
            size_t p = (size_t)(c - body), lim = (size_t)(ce - body);
            char *k = sesp_http_xml_tag(body, blen, &p, "Key", lim);
            p = (size_t)(c - body);
            char *sz = sesp_http_xml_tag(body, blen, &p, "Size", lim);
            p = (size_t)(c - body);
            char *lm = sesp_http_xml_tag(body, blen, &p, "LastModified", lim);
            if (k && strlen(k) >= skip && !strncmp(k, b->prefix, skip ? skip - 1 : 0))
                rc = sesp_obj_list_push(out, &cap, k + skip, sz ? strtoull(sz, NULL, 10) : 0, lm ? parse_iso8601_ms(lm) : 0);
            free(k);
            free(sz);
            free(lm);
            if (rc) break;
            pos = lim + 11;
        }
        size_t p = 0;
        char *trunc = body ? sesp_http_xml_tag(body, blen, &p, "IsTruncated", 0) : NULL;
        p = 0;
        free(token);
        token = body ? sesp_http_xml_tag(body, blen, &p, "NextContinuationToken", 0) : NULL;
        bool more = trunc && !strcmp(trunc, "true") && token && *token;
        free(trunc);
        sesp_http_resp_free(&r);
        if (rc || !more) break;
    }
    free(token);
    free(eprefix);
    return rc;
}

static int s3_del(sesp_objstore *s, const char *key)
{
    s3 *b = s->impl;
    char *url = obj_url(b, key, NULL);
    if (!url) return SESP_ERR_NOMEM;
    sesp_http_resp r = {.body_max = SMALL_BODY_MAX};
    int rc = do_req(s, "DELETE", url, NULL, 0, NULL, NULL, &r, NULL);
    if (!rc && r.status / 100 != 2 && r.status != 404) rc = status_err(s, "DELETE", key, &r);
    sesp_http_resp_free(&r);
    free(url);
    return rc;
}

static int w_open(sesp_objwriter *w)
{
    s3_writer *sw = calloc(1, sizeof(*sw));
    if (!sw) return SESP_ERR_NOMEM;
    w->impl = sw;
    return 0;
}

static size_t part_size(sesp_objstore *s) { return s->opts.part_size < (5u << 20) ? (5u << 20) : s->opts.part_size; }

static int upload_part(sesp_objwriter *w)
{
    sesp_objstore *s = w->s;
    s3 *b = s->impl;
    s3_writer *sw = w->impl;
    int rc = 0;
    sesp_http_resp r = {.body_max = SMALL_BODY_MAX};
    if (!sw->upload_id) {
        char *url = obj_url(b, w->key, "uploads=");
        if (!url) return SESP_ERR_NOMEM;
        rc = do_req(s, "POST", url, NULL, 0, NULL, NULL, &r, NULL);
        free(url);
        if (!rc && r.status != 200) rc = status_err(s, "CreateMultipartUpload", w->key, &r);
        size_t p = 0;
        if (!rc && !(sw->upload_id = r.body ? sesp_http_xml_tag((char *)r.body, r.body_len, &p, "UploadId", 0) : NULL))
            rc = sesp_objstore_seterr(s, SESP_ERR_MALFORMED, "CreateMultipartUpload %s: no UploadId", w->key);
        sesp_http_resp_free(&r);
        if (rc) return rc;
    }
    char **ne = realloc(sw->etags, (size_t)(sw->nparts + 1) * sizeof(*ne));
    if (!ne) return SESP_ERR_NOMEM;
    sw->etags = ne;
    char *eid = sesp_http_escape(sw->upload_id, false);
    char *q = eid ? dupf("partNumber=%d&uploadId=%s", sw->nparts + 1, eid) : NULL;
    char *url = q ? obj_url(b, w->key, q) : NULL;
    free(eid);
    free(q);
    if (!url) return SESP_ERR_NOMEM;
    rc = do_req(s, "PUT", url, sw->buf, sw->len, NULL, NULL, &r, NULL);
    free(url);
    if (!rc && r.status != 200) rc = status_err(s, "UploadPart", w->key, &r);
    if (!rc && !r.etag[0]) rc = sesp_objstore_seterr(s, SESP_ERR_MALFORMED, "UploadPart %s: no ETag", w->key);
    if (!rc && !(sw->etags[sw->nparts] = strdup(r.etag))) rc = SESP_ERR_NOMEM;
    if (!rc) { sw->nparts++; sw->len = 0; }
    sesp_http_resp_free(&r);
    return rc;
}

static int w_write(sesp_objwriter *w, const void *data, size_t len)
{
    s3_writer *sw = w->impl;
    size_t ps = part_size(w->s);
    const uint8_t *p = data;
    while (len) {
        if (sw->cap < ps) {
            uint8_t *nb = realloc(sw->buf, ps);
            if (!nb) return SESP_ERR_NOMEM;
            sw->buf = nb;
            sw->cap = ps;
        }
        size_t n = ps - sw->len < len ? ps - sw->len : len;
        memcpy(sw->buf + sw->len, p, n);
        sw->len += n;
        p += n;
        len -= n;
        if (sw->len == ps) {
            int rc = upload_part(w);
            if (rc) return rc;
        }
    }
    return 0;
}

static void w_free(s3_writer *sw)
{
    for (int i = 0; i < sw->nparts; i++) free(sw->etags[i]);
    free(sw->etags);
    free(sw->upload_id);
    free(sw->buf);
    free(sw);
}

static void w_abort(sesp_objwriter *w)
{
    s3_writer *sw = w->impl;
    if (sw->upload_id) {
        char *eid = sesp_http_escape(sw->upload_id, false);
        char *q = eid ? dupf("uploadId=%s", eid) : NULL;
        char *url = q ? obj_url(w->s->impl, w->key, q) : NULL;
        if (url) {
            sesp_http_resp r = {.body_max = SMALL_BODY_MAX};
            do_req(w->s, "DELETE", url, NULL, 0, NULL, NULL, &r, NULL);
            sesp_http_resp_free(&r);
        }
        free(url);
        free(q);
        free(eid);
    }
    w_free(sw);
}

static int w_commit(sesp_objwriter *w)
{
    s3_writer *sw = w->impl;
    int rc;
    if (!sw->upload_id) {
        rc = s3_put_plain(w->s, w->key, sw->buf, sw->len, NULL, NULL);
        w_free(sw);
        return rc;
    }
    if (sw->len && (rc = upload_part(w))) { w_abort(w); return rc; }
    size_t cap = 128 + (size_t)sw->nparts * 400, n = 0;
    char *xml = malloc(cap);
    if (!xml) { w_abort(w); return SESP_ERR_NOMEM; }
    n += (size_t)snprintf(xml + n, cap - n, "<CompleteMultipartUpload>");
    for (int i = 0; i < sw->nparts; i++)
        n += (size_t)snprintf(xml + n, cap - n, "<Part><PartNumber>%d</PartNumber><ETag>%.300s</ETag></Part>", i + 1, sw->etags[i]);
    n += (size_t)snprintf(xml + n, cap - n, "</CompleteMultipartUpload>");
    char *eid = sesp_http_escape(sw->upload_id, false);
    char *q = eid ? dupf("uploadId=%s", eid) : NULL;
    char *url = q ? obj_url(w->s->impl, w->key, q) : NULL;
    free(eid);
    free(q);
    sesp_http_resp r = {.body_max = SMALL_BODY_MAX};
    rc = url ? do_req(w->s, "POST", url, xml, n, NULL, NULL, &r, NULL) : SESP_ERR_NOMEM;
    free(url);
    free(xml);
    /* S3 may answer 200 with an <Error> body */
    if (!rc && (r.status != 200 || (r.body && strstr((char *)r.body, "<Error>"))))
        rc = status_err(w->s, "CompleteMultipartUpload", w->key, &r);
    if (rc && r.status == 404 && r.body && strstr((char *)r.body, "NoSuchUpload")) {
        /* a retry after a completion whose answer was lost: the upload is
         * gone because it became the object */
        sesp_obj_info info;
        if (s3_head(w->s, w->key, &info) == 0) {
            if (info.size == w->size) rc = 0;
            sesp_obj_info_free(&info);
        }
    }
    sesp_http_resp_free(&r);
    if (rc) w_abort(w);
    else w_free(sw);
    return rc;
}

static void s3_close(sesp_objstore *s)
{
    s3 *b = s->impl;
    if (!b) return;
    free(b->bucket);
    free(b->prefix);
    free(b->base);
    free(b->sigv4);
    if (b->userpwd) explicit_bzero(b->userpwd, strlen(b->userpwd));   /* holds the secret key */
    free(b->userpwd);
    if (b->token_hdr) explicit_bzero(b->token_hdr, strlen(b->token_hdr));
    free(b->token_hdr);
    sesp_aws_creds_cache_free(b->creds);
    free(b);
}

static const sesp_objstore_ops s3_ops = {
    s3_put, s3_get_range, s3_head, s3_list, s3_del, w_open, w_write, w_commit, w_abort, s3_close,
};

int sesp_objstore_s3_open(sesp_objstore *s, const char *bp)
{
    s->ops = &s3_ops;
    s3 *b = calloc(1, sizeof(*b));
    if (!b) return SESP_ERR_NOMEM;
    s->impl = b;
    const char *slash = strchr(bp, '/');
    size_t blen = slash ? (size_t)(slash - bp) : strlen(bp);
    if (!blen || blen > 63) return sesp_objstore_seterr(s, SESP_ERR_INVALID_ARG, "bad S3 bucket in %s", s->uri);
    for (size_t i = 0; i < blen; i++) {
        char c = bp[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '.' || (c >= 'A' && c <= 'Z') || c == '_'))
            return sesp_objstore_seterr(s, SESP_ERR_INVALID_ARG, "bad S3 bucket name in %s", s->uri);
    }
    b->bucket = strndup(bp, blen);
    const char *pre = slash ? slash + 1 : "";
    while (*pre == '/') pre++;
    b->prefix = strdup(pre);
    if (!b->bucket || !b->prefix) return SESP_ERR_NOMEM;
    size_t pl = strlen(b->prefix);
    while (pl && b->prefix[pl - 1] == '/') b->prefix[--pl] = 0;

    /* options, environment, then the AWS credentials and config files */
    sesp_aws_settings cfg;
    char why[sizeof(s->err)];
    int rc = sesp_aws_settings_resolve(&s->opts, &cfg, why, sizeof(why));
    if (rc == SESP_ERR_NOMEM) return rc;
    if (rc) return sesp_objstore_seterr(s, rc, "S3 store %s: %s", s->uri, why);
    const char *region = cfg.region, *endpoint = cfg.endpoint;
    int style = cfg.path_style;
    if (endpoint) {
        size_t el = strlen(endpoint);
        while (el && endpoint[el - 1] == '/') el--;
        if (style == 2) {
            const char *hs = strstr(endpoint, "://");
            if (!hs) { rc = sesp_objstore_seterr(s, SESP_ERR_INVALID_ARG, "bad S3 endpoint %s", endpoint); goto out; }
            b->base = dupf("%.*s%s.%.*s", (int)(hs + 3 - endpoint), endpoint, b->bucket,
                           (int)(el - (size_t)(hs + 3 - endpoint)), hs + 3);
        } else b->base = dupf("%.*s/%s", (int)el, endpoint, b->bucket);
    } else if (style == 1) b->base = dupf("https://s3.%s.amazonaws.com/%s", region, b->bucket);
    else b->base = dupf("https://%s.s3.%s.amazonaws.com", b->bucket, region);
    if (!b->base) { rc = SESP_ERR_NOMEM; goto out; }

    if (!cfg.anonymous) {
        b->sigv4 = dupf("aws:amz:%s:s3", region);
        if (!b->sigv4) { rc = SESP_ERR_NOMEM; goto out; }
        if (cfg.provider) {
            /* temporary credentials: kept with their provider, refreshed
             * before they expire (see do_req) */
            sesp_aws_creds first = {.access_key_id = cfg.access_key_id, .secret_access_key = cfg.secret_access_key,
                                    .session_token = cfg.session_token, .expires_ms = cfg.expires_ms};
            rc = sesp_aws_creds_cache_new(cfg.provider, &first, s->opts.s3_credentials_refresh_margin_ms, &b->creds);
            if (rc) goto out;
            cfg.provider = NULL;
            cfg.access_key_id = cfg.secret_access_key = cfg.session_token = NULL;
            goto out;
        }
        b->userpwd = dupf("%s:%s", cfg.access_key_id, cfg.secret_access_key);
        if (cfg.session_token) b->token_hdr = dupf("x-amz-security-token: %s", cfg.session_token);
        if (!b->userpwd || (cfg.session_token && !b->token_hdr)) rc = SESP_ERR_NOMEM;
    }
out:
    sesp_aws_settings_free(&cfg);
    return rc;
}
