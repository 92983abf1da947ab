/*
 * Object stores: one interface over local disk (file://), S3 (s3://) and
 * WebHDFS (webhdfs://).  A store is opened on a root URI; every key is a
 * '/'-separated path relative to that root ("_delta_log/00..0.json").  The
 * Delta log relies on put_if_absent being atomic: exactly one of several
 * racing writers of the same key wins and the others get SESP_ERR_EXISTS.
 * Large files go through the streaming writer (multipart on S3), which makes
 * the object visible only on commit.  Errors are SESP_ERR_*; a human-readable
 * description of the last failure is available from sesp_objstore_error().
 * A handle is not thread-safe: open one per thread.
 */
#ifndef SESP_OBJSTORE_H
#define SESP_OBJSTORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sesp_objstore sesp_objstore;
typedef struct sesp_objwriter sesp_objwriter;

/* s3_conditional_put: AUTO (default) probes the store on the first
 * put_if_absent of a handle; a store found to ignore If-None-Match is then
 * treated as UNSUPPORTED: put_if_absent needs s3_lock_path, or fails with
 * SESP_ERR_UNSUPPORTED.  SUPPORTED trusts the store without probing. */
enum { SESP_S3_CONDITIONAL_PUT_AUTO = 0, SESP_S3_CONDITIONAL_PUT_UNSUPPORTED = 1, SESP_S3_CONDITIONAL_PUT_SUPPORTED = 2 };

/* Tunables.  Zero/NULL means "default, environment or AWS config files".
 * S3 takes each setting from these options, else the environment
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION /
 * AWS_DEFAULT_REGION, AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL /
 * SESP_S3_ENDPOINT, AWS_S3_FORCE_PATH_STYLE=true), else the profile
 * (s3_profile, AWS_PROFILE or "default") in the shared credentials file
 * (AWS_SHARED_CREDENTIALS_FILE, ~/.aws/credentials), else in the shared config
 * file (AWS_CONFIG_FILE, ~/.aws/config); without keys there, from the
 * run-time providers (web identity, container credentials, EC2 instance
 * metadata: see aws_creds.h), whose temporary credentials are refreshed
 * before they expire.  Opening an S3 store without any credentials fails
 * unless s3_anonymous is set. */
typedef struct sesp_objstore_opts {
    const char *s3_endpoint;      /* e.g. http://127.0.0.1:4568 */
    const char *s3_region;
    int s3_path_style;            /* -1/0 = auto (path style for custom endpoints), 1 = force, 2 = virtual-hosted */
    int s3_conditional_put;       /* SESP_S3_CONDITIONAL_PUT_*: does the store enforce If-None-Match: * ? */
    const char *s3_lock_path;     /* local lock file serialising put_if_absent when it does not */
    const char *s3_access_key_id; /* with s3_secret_access_key: before the environment and the files */
    const char *s3_secret_access_key;
    const char *s3_session_token;
    const char *s3_profile;       /* profile in the AWS files; naming one skips the environment's keys */
    bool s3_anonymous;            /* unsigned requests (public buckets) */
    const char *s3_sts_endpoint;  /* STS for web identity credentials (default https://sts.REGION.amazonaws.com) */
    long s3_credentials_refresh_margin_ms; /* refresh temporary credentials this long before they expire, 0 = 300000 */
    int max_attempts;             /* 0 = 6 */
    int retry_base_ms;            /* 0 = 100 */
    int retry_max_ms;             /* 0 = 5000 */
    long timeout_ms;              /* per request, 0 = 60000 */
    size_t part_size;             /* multipart part size, 0 = 8 MiB (min 5 MiB on S3) */
    size_t max_object_bytes;      /* get() refuses larger objects, 0 = 1 GiB */
    const char *webhdfs_user;     /* user.name for WebHDFS (default $HADOOP_USER_NAME or none) */
    bool local_no_fsync;          /* tests only: skip fsync on the local backend */
} sesp_objstore_opts;

/* Sets one option from "key=value" text: s3.endpoint, s3.region,
 * s3.path-style (true|false), s3.conditional-put (auto|supported|unsupported),
 * s3.lock-path, s3.access-key-id, s3.secret-access-key, s3.session-token,
 * s3.profile, s3.anonymous (true|false), s3.sts-endpoint,
 * s3.credentials-refresh-margin-ms, retry.max-attempts, retry.base-ms, retry.max-ms, timeout-ms,
 * part-size, webhdfs.user.  Strings are borrowed (must outlive the store). */
int sesp_objstore_opts_set(sesp_objstore_opts *o, const char *key, const char *value);

typedef struct sesp_obj_info {
    char *key;                    /* relative to the root */
    uint64_t size;
    int64_t mtime_ms;
} sesp_obj_info;

typedef struct sesp_obj_list {
    sesp_obj_info *items;         /* sorted by key (bytewise) */
    size_t n;
} sesp_obj_list;

/* Opens file:///abs/path (or a plain absolute/relative path), s3://bucket[/prefix],
 * webhdfs://host:port/path (http) or webhdfss:// (https). */
int sesp_objstore_open(const char *uri, const sesp_objstore_opts *opts, sesp_objstore **out);
void sesp_objstore_close(sesp_objstore *s);
const char *sesp_objstore_error(const sesp_objstore *s);
/* The URI the store was opened on, normalised (no trailing '/'). */
const char *sesp_objstore_uri(const sesp_objstore *s);

/* Creates or replaces key atomically (readers see the old or the new object). */
int sesp_objstore_put(sesp_objstore *s, const char *key, const void *data, size_t len);
/* Creates key only if it does not exist: SESP_ERR_EXISTS otherwise. */
int sesp_objstore_put_if_absent(sesp_objstore *s, const char *key, const void *data, size_t len);
/* Whole object into a malloc'ed buffer (caller frees); SESP_ERR_NOT_FOUND. */
int sesp_objstore_get(sesp_objstore *s, const char *key, uint8_t **data, size_t *len);
/* Reads up to len bytes at offset into buf; *got is what was read (short at EOF). */
int sesp_objstore_get_range(sesp_objstore *s, const char *key, uint64_t offset, size_t len,
                            void *buf, size_t *got);
/* Size and mtime of one object. */
int sesp_objstore_head(sesp_objstore *s, const char *key, sesp_obj_info *out);
/* Every object whose key starts with prefix ("" = all), recursively. */
int sesp_objstore_list(sesp_objstore *s, const char *prefix, sesp_obj_list *out);
void sesp_obj_list_free(sesp_obj_list *l);
void sesp_obj_info_free(sesp_obj_info *i);
/* Deletes key; deleting a missing key is not an error. */
int sesp_objstore_delete(sesp_objstore *s, const char *key);

/* Streaming writer: the object appears atomically at commit (or never). */
int sesp_objwriter_open(sesp_objstore *s, const char *key, sesp_objwriter **out);
int sesp_objwriter_write(sesp_objwriter *w, const void *data, size_t len);
uint64_t sesp_objwriter_size(const sesp_objwriter *w);
/* Both free w. */
int sesp_objwriter_commit(sesp_objwriter *w);
void sesp_objwriter_abort(sesp_objwriter *w);

#endif
