/*
 * The WebHDFS backend (webhdfs://namenode:port/path, REST over libcurl).
 * CREATE is the two-step dance of the protocol: ask the namenode (no data),
 * get a 307 to a datanode, send the bytes there.  put_if_absent is CREATE
 * with overwrite=false (the namenode refuses an existing path with
 * FileAlreadyExistsException, reported as SESP_ERR_EXISTS); put and the
 * streaming writer write a hidden temp file and RENAME it over the key, which
 * HDFS does atomically.  LISTSTATUS responses are parsed with jansson and
 * bounded in size.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "common/err.h"
#include "objstore_impl.h"

#define BODY_MAX (64u << 20)

typedef struct hdfs {
    char *base;     /* http://host:port/webhdfs/v1 */
    char *root;     /* "/path" without trailing slash ("" for /) */
    char *user;     /* "&user.name=x" or "" */
} hdfs;

typedef struct hdfs_writer {
    uint8_t *buf;
    size_t len, cap;
} hdfs_writer;

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

static char *op_url(hdfs *h, const char *key, const char *op_and_args)
{
    char *path = dupf("%s/%s", h->root, key);
    char *esc = path ? sesp_http_escape(path, true) : NULL;
    free(path);
    if (!esc) return NULL;
    char *url = dupf("%s%s?op=%s%s", h->base, esc, op_and_args, h->user);
    free(esc);
    return url;
}

static int req(sesp_objstore *s, const char *method, const char *url, const void *body, size_t len,
               sesp_http_resp *r)
{
    const char *h[] = {len || body ? "Content-Type: application/octet-stream" : NULL, NULL};
    sesp_http_req rq = {.method = method, .url = url, .body = body, .body_len = len, .headers = h};
    if (!r->body_max) r->body_max = BODY_MAX;
    return sesp_http_do(s, &rq, r, NULL);
}

static int remote_err(sesp_objstore *s, const char *what, const char *key, sesp_http_resp *r)
{
    const char *exc = "";
    json_t *j = r->body ? json_loadb((const char *)r->body, r->body_len, 0, NULL) : NULL;
    json_t *re = j ? json_object_get(j, "RemoteException") : NULL;
    const char *ename = re ? json_string_value(json_object_get(re, "exception")) : NULL;
    const char *msg = re ? json_string_value(json_object_get(re, "message")) : NULL;
    if (ename) exc = ename;
    int rc = SESP_ERR_IO;
    if (r->status == 404 || !strcmp(exc, "FileNotFoundException")) rc = SESP_ERR_NOT_FOUND;
    else if (!strcmp(exc, "FileAlreadyExistsException") || (r->status == 403 && msg && strstr(msg, "already exists")))
        rc = SESP_ERR_EXISTS;
    sesp_objstore_seterr(s, rc, "WebHDFS %s %s: HTTP %ld %s %s", what, key, r->status, exc, msg ? msg : "");
    json_decref(j);
    return rc;
}

/* CREATE: namenode step, then the data to the datanode it redirects to. */
static int create(sesp_objstore *s, const char *key, const void *data, size_t len, bool overwrite)
{
    hdfs *h = s->impl;
    char *url = op_url(h, key, overwrite ? "CREATE&overwrite=true" : "CREATE&overwrite=false");
    if (!url) return SESP_ERR_NOMEM;
    sesp_http_resp r = {0};
    int rc = req(s, "PUT", url, NULL, 0, &r);
    free(url);
    if (rc) goto out;
    if (r.status == 201) goto out;   /* a gateway that took the (empty) file directly */
    char *loc = NULL;
    if (r.status == 307 && r.location[0]) loc = strdup(r.location);
    else if (r.status == 200 && r.body) {   /* noredirect=true style answer */
        json_t *j = json_loadb((const char *)r.body, r.body_len, 0, NULL);
        const char *l = j ? json_string_value(json_object_get(j, "Location")) : NULL;
        if (l) loc = strdup(l);
        json_decref(j);
    }
    if (!loc) { rc = remote_err(s, "CREATE", key, &r); goto out; }
    if (strncmp(loc, "http://", 7) && strncmp(loc, "https://", 8)) {
        free(loc);
        rc = sesp_objstore_seterr(s, SESP_ERR_MALFORMED, "WebHDFS CREATE %s: bad redirect", key);
        goto out;
    }
    rc = req(s, "PUT", loc, data ? data : "", len, &r);
    free(loc);
    if (!rc && r.status != 201 && r.status != 200) rc = remote_err(s, "CREATE(data)", key, &r);
out:
    sesp_http_resp_free(&r);
    return rc;
}

static int simple_op(sesp_objstore *s, const char *method, const char *key, const char *op, json_t **out)
{
    hdfs *h = s->impl;
    char *url = op_url(h, key, op);
    if (!url) return SESP_ERR_NOMEM;
    sesp_http_resp r = {0};
    int rc = req(s, method, url, NULL, 0, &r);
    free(url);
    if (!rc && r.status != 200) rc = remote_err(s, op, key, &r);
    if (!rc && out) {
        json_error_t je;
        *out = r.body ? json_loadb((const char *)r.body, r.body_len, JSON_REJECT_DUPLICATES, &je) : NULL;
        if (!*out) rc = sesp_objstore_seterr(s, SESP_ERR_MALFORMED, "WebHDFS %s %s: bad JSON", op, key);
    }
    sesp_http_resp_free(&r);
    return rc;
}

static int mkdirs_for(sesp_objstore *s, const char *key)
{
    const char *slash = strrchr(key, '/');
    if (!slash) return 0;
    char *dir = strndup(key, (size_t)(slash - key));
    if (!dir) return SESP_ERR_NOMEM;
    int rc = simple_op(s, "PUT", dir, "MKDIRS", NULL);
    free(dir);
    return rc;
}

static int rename_over(sesp_objstore *s, const char *from, const char *to)
{
    hdfs *h = s->impl;
    char *dst = dupf("%s/%s", h->root, to);
    char *edst = dst ? sesp_http_escape(dst, true) : NULL;
    char *op = edst ? dupf("RENAME&destination=%s", edst) : NULL;
    free(dst);
    free(edst);
    if (!op) return SESP_ERR_NOMEM;
    /* HDFS RENAME does not replace: remove the old object first (readers may
     * briefly miss it; only data files and _last_checkpoint take this path) */
    simple_op(s, "DELETE", to, "DELETE", NULL);
    json_t *j = NULL;
    int rc = simple_op(s, "PUT", from, op, &j);
    free(op);
    if (!rc && !json_is_true(json_object_get(j, "boolean")))
        rc = sesp_objstore_seterr(s, SESP_ERR_IO, "WebHDFS RENAME %s -> %s refused", from, to);
    json_decref(j);
    return rc;
}

static char *temp_key(const char *key)
{
    const char *slash = strrchr(key, '/');
    size_t dl = slash ? (size_t)(slash - key + 1) : 0;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return dupf("%.*s.sesp-tmp-%d-%lx-%s", (int)dl, key, (int)getpid(), (unsigned long)ts.tv_nsec, key + dl);
}

static int h_put(sesp_objstore *s, const char *key, const void *data, size_t len, bool if_absent)
{
    int rc = mkdirs_for(s, key);
    if (rc) return rc;
    if (if_absent) return create(s, key, data, len, false);
    char *tmp = temp_key(key);
    if (!tmp) return SESP_ERR_NOMEM;
    rc = create(s, tmp, data, len, true);
    if (!rc) rc = rename_over(s, tmp, key);
    if (rc) simple_op(s, "DELETE", tmp, "DELETE", NULL);
    free(tmp);
    return rc;
}

static int h_get_range(sesp_objstore *s, const char *key, uint64_t off, size_t len, bool whole,
                       uint8_t **data, size_t *got)
{
    hdfs *h = s->impl;
    char args[96];
    if (whole) snprintf(args, sizeof(args), "OPEN");
    else snprintf(args, sizeof(args), "OPEN&offset=%llu&length=%zu", (unsigned long long)off, len);
    char *url = op_url(h, key, args);
    if (!url) return SESP_ERR_NOMEM;
    sesp_http_resp r = {.body_max = whole ? s->opts.max_object_bytes : len + 1};
    /* OPEN redirects to a datanode: follow it (GET only, so safe) */
    int rc = 0;
    for (int hop = 0; hop < 3; hop++) {
        rc = req(s, "GET", url, NULL, 0, &r);
        if (rc || r.status != 307 || !r.location[0]) break;
        free(url);
        url = strdup(r.location);
        if (!url) { rc = SESP_ERR_NOMEM; break; }
    }
    free(url);
    if (!rc && r.status != 200) rc = remote_err(s, "OPEN", key, &r);
    if (!rc) {
        if (whole) {
            if (!r.body) r.body = calloc(1, 1);
            if (!r.body) rc = SESP_ERR_NOMEM;
            else { *data = r.body; *got = r.body_len; r.body = NULL; }
        } else {
            size_t n = r.body_len < len ? r.body_len : len;
            if (n) memcpy(*data, r.body, n);
            *got = n;
        }
    }
    sesp_http_resp_free(&r);
    return rc;
}

static int h_head(sesp_objstore *s, const char *key, sesp_obj_info *out)
{
    json_t *j = NULL;
    int rc = simple_op(s, "GET", key, "GETFILESTATUS", &j);
    if (rc) return rc;
    json_t *fs = json_object_get(j, "FileStatus");
    const char *type = json_string_value(json_object_get(fs, "type"));
    if (!type || strcmp(type, "FILE")) rc = sesp_objstore_seterr(s, SESP_ERR_NOT_FOUND, "%s is not a file", key);
    else {
        out->key = strdup(key);
        out->size = (uint64_t)json_integer_value(json_object_get(fs, "length"));
        out->mtime_ms = json_integer_value(json_object_get(fs, "modificationTime"));
        if (!out->key) rc = SESP_ERR_NOMEM;
    }
    json_decref(j);
    return rc;
}

static int walk(sesp_objstore *s, const char *dir, const char *prefix, sesp_obj_list *out, size_t *cap, int depth)
{
    if (depth > 64) return sesp_objstore_seterr(s, SESP_ERR_TOO_LARGE, "directory tree too deep");
    json_t *j = NULL;
    int rc = simple_op(s, "GET", dir, "LISTSTATUS", &j);
    if (rc == SESP_ERR_NOT_FOUND) return 0;
    if (rc) return rc;
    json_t *arr = json_object_get(json_object_get(j, "FileStatuses"), "FileStatus");
    size_t i, plen = strlen(prefix);
    json_t *fs;
    json_array_foreach(arr, i, fs) {
        const char *name = json_string_value(json_object_get(fs, "pathSuffix"));
        const char *type = json_string_value(json_object_get(fs, "type"));
        if (!name || !type || !*name || strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..")) continue;
        if (!strncmp(name, ".sesp-tmp-", 10)) continue;
        char *key = dupf("%s%s%s", dir, *dir ? "/" : "", name);
        if (!key) { rc = SESP_ERR_NOMEM; break; }
        size_t kl = strlen(key), m = kl < plen ? kl : plen;
        if (!strcmp(type, "DIRECTORY")) {
            if (!strncmp(key, prefix, m)) rc = walk(s, key, prefix, out, cap, depth + 1);
        } else if (!strncmp(key, prefix, plen)) {
            json_int_t len = json_integer_value(json_object_get(fs, "length"));
            rc = sesp_obj_list_push(out, cap, key, len > 0 ? (uint64_t)len : 0,
                                    json_integer_value(json_object_get(fs, "modificationTime")));
        }
        free(key);
        if (rc) break;
    }
    json_decref(j);
    return rc;
}

static int h_list(sesp_objstore *s, const char *prefix, sesp_obj_list *out)
{
    size_t cap = 0;
    const char *slash = strrchr(prefix, '/');
    char *dir = strndup(prefix, slash ? (size_t)(slash - prefix) : 0);
    if (!dir) return SESP_ERR_NOMEM;
    int rc = walk(s, dir, prefix, out, &cap, 0);
    free(dir);
    return rc;
}

static int h_del(sesp_objstore *s, const char *key)
{
    int rc = simple_op(s, "DELETE", key, "DELETE", NULL);
    return rc == SESP_ERR_NOT_FOUND ? 0 : rc;
}

static int hw_open(sesp_objwriter *w)
{
    hdfs_writer *hw = calloc(1, sizeof(*hw));
    if (!hw) return SESP_ERR_NOMEM;
    w->impl = hw;
    return 0;
}

/* Buffered: WebHDFS APPEND is not atomic and often disabled, so the object
 * is sent whole at commit through the temp + RENAME path. */
static int hw_write(sesp_objwriter *w, const void *data, size_t len)
{
    hdfs_writer *hw = w->impl;
    if (hw->len + len > w->s->opts.max_object_bytes)
        return sesp_objstore_seterr(w->s, SESP_ERR_TOO_LARGE, "WebHDFS object %s over the size limit", w->key);
    if (hw->len + len > hw->cap) {
        size_t nc = hw->cap ? hw->cap : 1 << 16;
        while (nc < hw->len + len) nc *= 2;
        uint8_t *nb = realloc(hw->buf, nc);
        if (!nb) return SESP_ERR_NOMEM;
        hw->buf = nb;
        hw->cap = nc;
    }
    memcpy(hw->buf + hw->len, data, len);
    hw->len += len;
    return 0;
}

static int hw_commit(sesp_objwriter *w)
{
    hdfs_writer *hw = w->impl;
    int rc = h_put(w->s, w->key, hw->buf, hw->len, false);
    free(hw->buf);
    free(hw);
    return rc;
}

static void hw_abort(sesp_objwriter *w)
{
    hdfs_writer *hw = w->impl;
    free(hw->buf);
    free(hw);
}

static void h_close(sesp_objstore *s)
{
    hdfs *h = s->impl;
    if (!h) return;
    free(h->base);
    free(h->root);
    free(h->user);
    free(h);
}

static const sesp_objstore_ops hdfs_ops = {
    h_put, h_get_range, h_head, h_list, h_del, hw_open, hw_write, hw_commit, hw_abort, h_close,
};

int sesp_objstore_webhdfs_open(sesp_objstore *s, const char *hp, bool tls)
{
    s->ops = &hdfs_ops;
    hdfs *h = calloc(1, sizeof(*h));
    if (!h) return SESP_ERR_NOMEM;
    s->impl = h;
    const char *slash = strchr(hp, '/');
    size_t hl = slash ? (size_t)(slash - hp) : strlen(hp);
    if (!hl) return sesp_objstore_seterr(s, SESP_ERR_INVALID_ARG, "no namenode in %s", s->uri);
    for (size_t i = 0; i < hl; i++)
        if (hp[i] == '@' || hp[i] == '?' || hp[i] == '#' || (unsigned char)hp[i] <= ' ')
            return sesp_objstore_seterr(s, SESP_ERR_INVALID_ARG, "bad namenode address in %s", s->uri);
    h->base = dupf("%s://%.*s/webhdfs/v1", tls ? "https" : "http", (int)hl, hp);
    h->root = strdup(slash ? slash : "");
    const char *user = s->opts.webhdfs_user ? s->opts.webhdfs_user : getenv("HADOOP_USER_NAME");
    char *euser = user ? sesp_http_escape(user, false) : NULL;
    h->user = euser ? dupf("&user.name=%s", euser) : strdup("");
    free(euser);
    if (!h->base || !h->root || !h->user) return SESP_ERR_NOMEM;
    size_t rl = strlen(h->root);
    while (rl && h->root[rl - 1] == '/') h->root[--rl] = 0;
    return 0;
}
