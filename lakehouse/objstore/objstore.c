/*
 * The object store front end: parses the root URI, picks the backend, checks
 * keys (no "..", no absolute keys, no NUL) so a hostile key from a Delta log
 * cannot escape the table root, and keeps the last error message.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/err.h"
#include "objstore_impl.h"

int sesp_objstore_seterr(sesp_objstore *s, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->err, sizeof(s->err), fmt, ap);
    va_end(ap);
    return code;
}

const char *sesp_objstore_error(const sesp_objstore *s) { return s->err[0] ? s->err : "no error"; }
const char *sesp_objstore_uri(const sesp_objstore *s) { return s->uri; }

static int parse_bool(const char *v, bool *out)
{
    if (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes")) { *out = true; return 0; }
    if (!strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "no")) { *out = false; return 0; }
    return SESP_ERR_INVALID_ARG;
}

static int parse_long(const char *v, long long lo, long long hi, long long *out)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) return SESP_ERR_INVALID_ARG;
    *out = x;
    return 0;
}

int sesp_objstore_opts_set(sesp_objstore_opts *o, const char *key, const char *value)
{
    long long n;
    bool b;
    if (!strcmp(key, "s3.endpoint")) o->s3_endpoint = value;
    else if (!strcmp(key, "s3.region")) o->s3_region = value;
    else if (!strcmp(key, "s3.path-style")) {
        if (parse_bool(value, &b)) return SESP_ERR_INVALID_ARG;
        o->s3_path_style = b ? 1 : 2;
    } else if (!strcmp(key, "s3.conditional-put")) {
        if (!strcmp(value, "auto")) o->s3_conditional_put = SESP_S3_CONDITIONAL_PUT_AUTO;
        else if (!strcmp(value, "supported")) o->s3_conditional_put = SESP_S3_CONDITIONAL_PUT_SUPPORTED;
        else if (!strcmp(value, "unsupported")) o->s3_conditional_put = SESP_S3_CONDITIONAL_PUT_UNSUPPORTED;
        else return SESP_ERR_INVALID_ARG;
    } else if (!strcmp(key, "s3.lock-path")) o->s3_lock_path = value;
    else if (!strcmp(key, "s3.access-key-id")) o->s3_access_key_id = value;
    else if (!strcmp(key, "s3.secret-access-key")) o->s3_secret_access_key = value;
    else if (!strcmp(key, "s3.session-token")) o->s3_session_token = value;
    else if (!strcmp(key, "s3.profile")) o->s3_profile = value;
    else if (!strcmp(key, "s3.anonymous")) {
        if (parse_bool(value, &b)) return SESP_ERR_INVALID_ARG;
        o->s3_anonymous = b;
    }
    else if (!strcmp(key, "s3.sts-endpoint")) o->s3_sts_endpoint = value;
    else if (!strcmp(key, "s3.credentials-refresh-margin-ms")) {
        if (parse_long(value, 1, 86400000, &n)) return SESP_ERR_INVALID_ARG;
        o->s3_credentials_refresh_margin_ms = (long)n;
    }
    else if (!strcmp(key, "webhdfs.user")) o->webhdfs_user = value;
    else if (!strcmp(key, "retry.max-attempts")) {
        if (parse_long(value, 1, 100, &n)) return SESP_ERR_INVALID_ARG;
        o->max_attempts = (int)n;
    } else if (!strcmp(key, "retry.base-ms")) {
        if (parse_long(value, 1, 60000, &n)) return SESP_ERR_INVALID_ARG;
        o->retry_base_ms = (int)n;
    } else if (!strcmp(key, "retry.max-ms")) {
        if (parse_long(value, 1, 600000, &n)) return SESP_ERR_INVALID_ARG;
        o->retry_max_ms = (int)n;
    } else if (!strcmp(key, "timeout-ms")) {
        if (parse_long(value, 1, 3600000, &n)) return SESP_ERR_INVALID_ARG;
        o->timeout_ms = (long)n;
    } else if (!strcmp(key, "part-size")) {
        if (parse_long(value, 1, (long long)1 << 32, &n)) return SESP_ERR_INVALID_ARG;
        o->part_size = (size_t)n;
    } else return SESP_ERR_INVALID_ARG;
    return 0;
}

int sesp_objstore_open(const char *uri, const sesp_objstore_opts *opts, sesp_objstore **out)
{
    *out = NULL;
    if (!uri || !*uri) return SESP_ERR_INVALID_ARG;
    sesp_objstore *s = calloc(1, sizeof(*s));
    if (!s) return SESP_ERR_NOMEM;
    if (opts) s->opts = *opts;
    if (!s->opts.max_attempts) s->opts.max_attempts = 6;
    if (!s->opts.retry_base_ms) s->opts.retry_base_ms = 100;
    if (!s->opts.retry_max_ms) s->opts.retry_max_ms = 5000;
    if (!s->opts.timeout_ms) s->opts.timeout_ms = 60000;
    if (!s->opts.part_size) s->opts.part_size = 8u << 20;
    if (!s->opts.max_object_bytes) s->opts.max_object_bytes = (size_t)1 << 30;
    s->uri = strdup(uri);
    if (!s->uri) { free(s); return SESP_ERR_NOMEM; }
    size_t ul = strlen(s->uri);
    while (ul > 1 && s->uri[ul - 1] == '/') s->uri[--ul] = 0;
    int rc;
    if (!strncmp(uri, "file://", 7)) rc = sesp_objstore_local_open(s, uri + 7);
    else if (!strncmp(uri, "s3://", 5) || !strncmp(uri, "s3a://", 6))
        rc = sesp_objstore_s3_open(s, strchr(uri, ':') + 3);
    else if (!strncmp(uri, "webhdfs://", 10)) rc = sesp_objstore_webhdfs_open(s, uri + 10, false);
    else if (!strncmp(uri, "webhdfss://", 11)) rc = sesp_objstore_webhdfs_open(s, uri + 11, true);
    else if (strstr(uri, "://")) rc = sesp_objstore_seterr(s, SESP_ERR_UNSUPPORTED, "unsupported URI scheme in %s", uri);
    else rc = sesp_objstore_local_open(s, uri);
    if (rc) {
        fprintf(stderr, "objstore: %s\n", s->err);
        if (s->ops && s->impl) s->ops->close(s);
        if (s->curl) curl_easy_cleanup(s->curl);
        free(s->uri);
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

void sesp_objstore_close(sesp_objstore *s)
{
    if (!s) return;
    s->ops->close(s);
    if (s->curl) curl_easy_cleanup(s->curl);
    free(s->uri);
    free(s);
}

/* Keys come from logs on untrusted storage: refuse anything that could leave
 * the root or confuse a backend. */
static int check_key(sesp_objstore *s, const char *key, bool allow_empty)
{
    if (!key) return SESP_ERR_INVALID_ARG;
    size_t n = strlen(key);
    if (!n) return allow_empty ? 0 : sesp_objstore_seterr(s, SESP_ERR_INVALID_ARG, "empty key");
    if (n > 1024) return sesp_objstore_seterr(s, SESP_ERR_INVALID_ARG, "key too long");
    if (key[0] == '/') return sesp_objstore_seterr(s, SESP_ERR_INVALID_ARG, "absolute key %s", key);
    const char *p = key;
    while (*p) {
        const char *e = strchr(p, '/');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if ((l == 2 && !strncmp(p, "..", 2)) || (l == 1 && p[0] == '.'))
            return sesp_objstore_seterr(s, SESP_ERR_INVALID_ARG, "key %s has a . or .. segment", key);
        if (!e) break;
        if (l == 0 && !allow_empty) return sesp_objstore_seterr(s, SESP_ERR_INVALID_ARG, "key %s has an empty segment", key);
        p = e + 1;
    }
    for (p = key; *p; p++)
        if ((unsigned char)*p < 0x20) return sesp_objstore_seterr(s, SESP_ERR_INVALID_ARG, "control character in key");
    return 0;
}

int sesp_objstore_put(sesp_objstore *s, const char *key, const void *data, size_t len)
{
    int rc = check_key(s, key, false);
    return rc ? rc : s->ops->put(s, key, data, len, false);
}

int sesp_objstore_put_if_absent(sesp_objstore *s, const char *key, const void *data, size_t len)
{
    int rc = check_key(s, key, false);
    return rc ? rc : s->ops->put(s, key, data, len, true);
}

int sesp_objstore_get(sesp_objstore *s, const char *key, uint8_t **data, size_t *len)
{
    *data = NULL;
    *len = 0;
    int rc = check_key(s, key, false);
    return rc ? rc : s->ops->get_range(s, key, 0, 0, true, data, len);
}

int sesp_objstore_get_range(sesp_objstore *s, const char *key, uint64_t offset, size_t len,
                            void *buf, size_t *got)
{
    *got = 0;
    int rc = check_key(s, key, false);
    if (rc) return rc;
    if (!len) return 0;
    uint8_t *p = buf;
    return s->ops->get_range(s, key, offset, len, false, &p, got);
}

int sesp_objstore_head(sesp_objstore *s, const char *key, sesp_obj_info *out)
{
    memset(out, 0, sizeof(*out));
    int rc = check_key(s, key, false);
    return rc ? rc : s->ops->head(s, key, out);
}

int sesp_objstore_list(sesp_objstore *s, const char *prefix, sesp_obj_list *out)
{
    memset(out, 0, sizeof(*out));
    int rc = check_key(s, prefix ? prefix : "", true);
    if (rc) return rc;
    rc = s->ops->list(s, prefix ? prefix : "", out);
    if (rc) { sesp_obj_list_free(out); return rc; }
    sesp_obj_list_sort(out);
    return 0;
}

int sesp_objstore_delete(sesp_objstore *s, const char *key)
{
    int rc = check_key(s, key, false);
    return rc ? rc : s->ops->del(s, key);
}

void sesp_obj_info_free(sesp_obj_info *i)
{
    if (i) { free(i->key); i->key = NULL; }
}

void sesp_obj_list_free(sesp_obj_list *l)
{
    if (!l) return;
    for (size_t i = 0; i < l->n; i++) free(l->items[i].key);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

int sesp_obj_list_push(sesp_obj_list *l, size_t *cap, const char *key, uint64_t size, int64_t mtime_ms)
{
    if (l->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 64;
        sesp_obj_info *ni = realloc(l->items, nc * sizeof(*ni));
        if (!ni) return SESP_ERR_NOMEM;
        l->items = ni;
        *cap = nc;
    }
    char *k = strdup(key);
    if (!k) return SESP_ERR_NOMEM;
    l->items[l->n++] = (sesp_obj_info){k, size, mtime_ms};
    return 0;
}

static int cmp_info(const void *a, const void *b)
{
    return strcmp(((const sesp_obj_info *)a)->key, ((const sesp_obj_info *)b)->key);
}

void sesp_obj_list_sort(sesp_obj_list *l)
{
    if (l->n > 1) qsort(l->items, l->n, sizeof(*l->items), cmp_info);
}

int sesp_objwriter_open(sesp_objstore *s, const char *key, sesp_objwriter **out)
{
    *out = NULL;
    int rc = check_key(s, key, false);
    if (rc) return rc;
    sesp_objwriter *w = calloc(1, sizeof(*w));
    if (!w) return SESP_ERR_NOMEM;
    w->s = s;
    w->key = strdup(key);
    if (!w->key) { free(w); return SESP_ERR_NOMEM; }
    rc = s->ops->w_open(w);
    if (rc) { free(w->key); free(w); return rc; }
    *out = w;
    return 0;
}

int sesp_objwriter_write(sesp_objwriter *w, const void *data, size_t len)
{
    if (!len) return 0;
    int rc = w->s->ops->w_write(w, data, len);
    if (!rc) w->size += len;
    return rc;
}

uint64_t sesp_objwriter_size(const sesp_objwriter *w) { return w->size; }

int sesp_objwriter_commit(sesp_objwriter *w)
{
    int rc = w->s->ops->w_commit(w);
    free(w->key);
    free(w);
    return rc;
}

void sesp_objwriter_abort(sesp_objwriter *w)
{
    if (!w) return;
    w->s->ops->w_abort(w);
    free(w->key);
    free(w);
}
