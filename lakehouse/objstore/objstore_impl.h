/*
 * Private to lakehouse/objstore: the backend vtable behind sesp_objstore, and
 * the libcurl helper (retries with backoff and jitter) that the S3 and WebHDFS
 * backends share.  Not part of the public surface.
 */
#ifndef SESP_OBJSTORE_IMPL_H
#define SESP_OBJSTORE_IMPL_H

#include <stdarg.h>
#include <curl/curl.h>
#include "objstore.h"

typedef struct sesp_objstore_ops {
    int (*put)(sesp_objstore *s, const char *key, const void *data, size_t len, bool if_absent);
    int (*get_range)(sesp_objstore *s, const char *key, uint64_t off, size_t len, bool whole,
                     uint8_t **data, size_t *got);
    int (*head)(sesp_objstore *s, const char *key, sesp_obj_info *out);
    int (*list)(sesp_objstore *s, const char *prefix, sesp_obj_list *out);
    int (*del)(sesp_objstore *s, const char *key);
    int (*w_open)(sesp_objwriter *w);
    int (*w_write)(sesp_objwriter *w, const void *data, size_t len);
    int (*w_commit)(sesp_objwriter *w);
    void (*w_abort)(sesp_objwriter *w);
    void (*close)(sesp_objstore *s);
} sesp_objstore_ops;

struct sesp_objstore {
    const sesp_objstore_ops *ops;
    sesp_objstore_opts opts;
    char *uri;
    char err[2048];          /* the S3 "no credentials" message lists every place looked at */
    void *impl;
    CURL *curl;               /* reused between requests (keep-alive) */
    unsigned rng;             /* retry jitter */
};

struct sesp_objwriter {
    sesp_objstore *s;
    char *key;
    uint64_t size;
    void *impl;
};

int sesp_objstore_seterr(sesp_objstore *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Appends a key to a growing list (key copied). */
int sesp_obj_list_push(sesp_obj_list *l, size_t *cap, const char *key, uint64_t size, int64_t mtime_ms);
void sesp_obj_list_sort(sesp_obj_list *l);

int sesp_objstore_local_open(sesp_objstore *s, const char *path);
int sesp_objstore_s3_open(sesp_objstore *s, const char *bucket_and_prefix);
int sesp_objstore_webhdfs_open(sesp_objstore *s, const char *hostport_path, bool tls);

/* ---- HTTP over libcurl ---- */

typedef struct sesp_http_resp {
    long status;
    uint8_t *body;            /* NUL-terminated, malloc'ed */
    size_t body_len;
    size_t body_max;          /* request: refuse larger bodies (0 = unlimited) */
    char etag[256];
    char location[2048];
    int64_t content_length;   /* -1 if absent */
    int64_t last_modified_ms; /* 0 if absent */
} sesp_http_resp;

typedef struct sesp_http_req {
    const char *method;       /* GET, PUT, POST, DELETE, HEAD */
    const char *url;
    const void *body;
    size_t body_len;
    const char *const *headers; /* NULL-terminated "Name: value" */
    const char *sigv4;        /* "aws:amz:REGION:s3" or NULL */
    const char *userpwd;      /* access:secret */
    bool no_retry_on_status;  /* caller handles 5xx itself */
} sesp_http_req;

/* Performs req with retries on connection errors, 5xx and 429 (bounded, with
 * exponential backoff and full jitter).  *attempts_out (may be NULL) tells
 * how many attempts ran, so a caller can spot an ambiguous retried write.
 * Returns 0 when an HTTP status was received (any status), SESP_ERR_IO after
 * the last failed attempt. */
int sesp_http_do(sesp_objstore *s, const sesp_http_req *req, sesp_http_resp *resp, int *attempts_out);
void sesp_http_resp_free(sesp_http_resp *r);
/* Percent-encodes s into a malloc'ed string; keep_slash leaves '/' as is. */
char *sesp_http_escape(const char *s, bool keep_slash);

/* Text of the first <tag>...</tag> at or after *pos in body[0, limit_end or
 * len), with the XML entities decoded; *pos moves past the closing tag.
 * malloc'ed, NULL when absent (or out of memory).  Bounded by the body: the
 * callers' bodies are untrusted and capped by body_max. */
char *sesp_http_xml_tag(const char *body, size_t len, size_t *pos, const char *tag, size_t limit_end);

#endif
