/*
 * The run-time AWS credential providers (web identity, container, EC2
 * instance metadata) and the refreshing cache the S3 store keeps them in; see
 * aws_creds.h for the order and the SDK rules followed.  Each provider talks
 * to its endpoint with its own short-lived libcurl handle rather than the
 * store's: fetches are rare, need their own (short) timeouts, and must not
 * disturb the store's keep-alive connection or error text.  Answers are
 * capped at SESP_AWS_CREDS_BODY_MAX and read field by field; what reaches an
 * error message is a URL, an HTTP status, or the service's error code and
 * message, never a key or a token.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "common/err.h"
#include "aws_creds.h"
#include "objstore_impl.h"

enum { P_WEB_IDENTITY = 1, P_CONTAINER, P_IMDS };

struct sesp_aws_provider {
    int kind;
    char *url;                /* STS endpoint, container URL, or IMDS base */
    char *role_arn, *session_name, *token_file;     /* web identity */
    char *auth_token, *auth_token_file;             /* container: auth_token is a secret */
    char name[640];
};

static int errf(char *err, size_t cap, int rc, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int errf(char *err, size_t cap, int rc, const char *fmt, ...)
{
    if (!cap) return rc;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return rc;
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void scrub_free(char *s)
{
    if (s) explicit_bzero(s, strlen(s));
    free(s);
}

void sesp_aws_creds_free(sesp_aws_creds *c)
{
    free(c->access_key_id);
    scrub_free(c->secret_access_key);
    scrub_free(c->session_token);
    memset(c, 0, sizeof(*c));
}

int sesp_aws_creds_copy(const sesp_aws_creds *from, sesp_aws_creds *to)
{
    memset(to, 0, sizeof(*to));
    to->expires_ms = from->expires_ms;
    if (!(to->access_key_id = strdup(from->access_key_id)) || !(to->secret_access_key = strdup(from->secret_access_key)) ||
        (from->session_token && !(to->session_token = strdup(from->session_token)))) {
        sesp_aws_creds_free(to);
        return SESP_ERR_NOMEM;
    }
    return 0;
}

int sesp_aws_parse_time(const char *s, int64_t *ms)
{
    /* ISO 8601 in UTC as all three services write it; anything else is
     * refused rather than guessed, since a wrong expiry means either
     * needless refreshes or requests signed with dead keys */
    int Y, M, D, h, m, sec, n = 0;
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &Y, &M, &D, &h, &m, &sec, &n) != 6 || n != 19)
        return SESP_ERR_MALFORMED;
    if (Y < 1970 || M < 1 || M > 12 || D < 1 || D > 31 || h > 23 || m > 59 || sec > 60 || h < 0 || m < 0 || sec < 0)
        return SESP_ERR_MALFORMED;
    const char *p = s + n;
    int frac = 0, digits = 0;
    if (*p == '.') {
        for (p++; isdigit((unsigned char)*p); p++, digits++)
            if (digits < 3) frac = frac * 10 + (*p - '0');
        if (!digits) return SESP_ERR_MALFORMED;
        while (digits < 3) { frac *= 10; digits++; }
    }
    if (!strcmp(p, "Z") || !strcmp(p, "+00:00")) {
        struct tm tm = {.tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D, .tm_hour = h, .tm_min = m, .tm_sec = sec};
        *ms = (int64_t)timegm(&tm) * 1000 + frac;
        return 0;
    }
    return SESP_ERR_MALFORMED;
}

/* ---- HTTP ---- */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

typedef struct fetch_req {
    const char *what;         /* for messages: "STS AssumeRoleWithWebIdentity" */
    const char *method, *url;
    const char *body;         /* may hold a secret: never printed */
    const char *const *headers;
    long connect_ms, total_ms;
    int attempts;             /* connection errors and 5xx are retried up to this */
} fetch_req;

typedef struct fetch_resp {
    long status;
    char *body;               /* NUL-terminated */
    size_t len;
    bool too_large;
} fetch_resp;

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    fetch_resp *r = ud;
    size_t n = size * nmemb;
    if (r->len + n > SESP_AWS_CREDS_BODY_MAX) { r->too_large = true; return 0; }   /* aborts the transfer */
    char *nb = realloc(r->body, r->len + n + 1);
    if (!nb) return 0;
    r->body = nb;
    memcpy(r->body + r->len, ptr, n);
    r->len += n;
    r->body[r->len] = 0;
    return n;
}

static void resp_free(fetch_resp *r)
{
    /* the body of a successful answer holds the secret key */
    if (r->body) explicit_bzero(r->body, r->len);
    free(r->body);
    memset(r, 0, sizeof(*r));
}

/* 0 when an HTTP status arrived (any status); SESP_ERR_IO / TOO_LARGE /
 * TIMEOUT with err set otherwise. */
static int fetch(const fetch_req *q, fetch_resp *r, char *err, size_t cap)
{
    pthread_once(&curl_once, curl_init_once);
    CURL *c = curl_easy_init();
    if (!c) return errf(err, cap, SESP_ERR_NOMEM, "%s: curl_easy_init failed", q->what);
    struct curl_slist *hl = NULL;
    /* a credential endpoint gets exactly the headers given: no form
     * content type or Expect from curl */
    hl = curl_slist_append(hl, "Expect:");
    for (const char *const *h = q->headers; h && *h; h++) hl = curl_slist_append(hl, *h);
    int rc = SESP_ERR_IO;
    for (int attempt = 1;; attempt++) {
        resp_free(r);
        curl_easy_reset(c);
        curl_easy_setopt(c, CURLOPT_URL, q->url);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, q->connect_ms);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, q->total_ms);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        /* a redirect could carry the Authorization header elsewhere */
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
        if (strcmp(q->method, "GET")) curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
        if (q->body || !strcmp(q->method, "PUT") || !strcmp(q->method, "POST")) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->body ? q->body : "");
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(q->body ? strlen(q->body) : 0));
        }
        CURLcode cc = curl_easy_perform(c);
        bool retry = false;
        if (cc == CURLE_OK) {
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
            rc = 0;
            retry = r->status >= 500 || r->status == 429;
        } else if (r->too_large) {
            rc = errf(err, cap, SESP_ERR_TOO_LARGE, "%s at %s: response over %u bytes, refused", q->what, q->url,
                      SESP_AWS_CREDS_BODY_MAX);
            break;
        } else {
            rc = errf(err, cap, cc == CURLE_OPERATION_TIMEDOUT ? SESP_ERR_TIMEOUT : SESP_ERR_IO, "%s at %s: %s", q->what,
                      q->url, curl_easy_strerror(cc));
            retry = true;
        }
        if (!retry || attempt >= q->attempts) break;
        struct timespec ts = {0, 100000000L * attempt};
        nanosleep(&ts, NULL);
    }
    curl_slist_free_all(hl);
    curl_easy_cleanup(c);
    return rc;
}

/* Printable ASCII of at most 200 bytes: service error text is untrusted. */
static void tame(char *s)
{
    if (!s) return;
    size_t i = 0;
    for (; s[i] && i < 200; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e) s[i] = '?';
    s[i] = 0;
}

/* A small file holding a token: bounded, trailing blanks and newlines cut.
 * The caller scrubs and frees *out. */
static int read_token_file(const char *path, const char *what, char **out, char *err, size_t cap)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errf(err, cap, SESP_ERR_IO, "%s %s: %s", what, path, strerror(errno));
    int rc = 0;
    char *buf = malloc(SESP_AWS_CREDS_TOKEN_FILE_MAX + 2);
    size_t len = 0;
    if (!buf) { rc = SESP_ERR_NOMEM; goto out; }
    for (;;) {
        ssize_t n = read(fd, buf + len, SESP_AWS_CREDS_TOKEN_FILE_MAX + 1 - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) { rc = errf(err, cap, SESP_ERR_IO, "%s %s: %s", what, path, strerror(errno)); goto out; }
        if (n == 0) break;
        len += (size_t)n;
        if (len > SESP_AWS_CREDS_TOKEN_FILE_MAX) {
            rc = errf(err, cap, SESP_ERR_TOO_LARGE, "%s %s: over %u bytes, not a token", what, path,
                      SESP_AWS_CREDS_TOKEN_FILE_MAX);
            goto out;
        }
    }
    while (len && isspace((unsigned char)buf[len - 1])) len--;
    buf[len] = 0;
    if (!len) { rc = errf(err, cap, SESP_ERR_MALFORMED, "%s %s is empty", what, path); goto out; }
    if (memchr(buf, 0, len) || strpbrk(buf, "\r\n")) {
        rc = errf(err, cap, SESP_ERR_MALFORMED, "%s %s holds more than one line or a NUL", what, path);
        goto out;
    }
    *out = buf;
    buf = NULL;
out:
    if (buf) { explicit_bzero(buf, len); free(buf); }
    close(fd);
    return rc;
}

/* ---- web identity: STS AssumeRoleWithWebIdentity ---- */

/* A credential value goes into a request header: one bounded line. */
static bool cred_value_ok(const char *v)
{
    return v && *v && strlen(v) <= 8192 && !strpbrk(v, "\r\n");
}

static int xml_field(const char *body, size_t len, size_t from, size_t to, const char *tag, char **out)
{
    size_t pos = from;
    *out = sesp_http_xml_tag(body, len, &pos, tag, to);
    return cred_value_ok(*out) ? 0 : SESP_ERR_MALFORMED;
}

static int web_identity_fetch(sesp_aws_provider *p, sesp_aws_creds *out, char *err, size_t cap)
{
    char *token = NULL, *etok = NULL, *earn = NULL, *ename = NULL, *body = NULL, *exp = NULL;
    char *code = NULL, *msg = NULL;
    fetch_resp r = {0};
    int rc = read_token_file(p->token_file, "web identity token file", &token, err, cap);
    if (rc) goto out;
    etok = sesp_http_escape(token, false);
    earn = sesp_http_escape(p->role_arn, false);
    ename = sesp_http_escape(p->session_name, false);
    if (!etok || !earn || !ename ||
        asprintf(&body, "Action=AssumeRoleWithWebIdentity&RoleArn=%s&RoleSessionName=%s&Version=2011-06-15&WebIdentityToken=%s",
                 earn, ename, etok) < 0) {
        body = NULL;
        rc = SESP_ERR_NOMEM;
        goto out;
    }
    static const char *const hdrs[] = {"Content-Type: application/x-www-form-urlencoded; charset=utf-8",
                                       "Accept: text/xml", NULL};
    fetch_req q = {.what = "STS AssumeRoleWithWebIdentity", .method = "POST", .url = p->url, .body = body,
                   .headers = hdrs, .connect_ms = 5000, .total_ms = 30000, .attempts = 3};
    if ((rc = fetch(&q, &r, err, cap))) goto out;
    if (r.status != 200) {
        size_t pos = 0;
        code = r.body ? sesp_http_xml_tag(r.body, r.len, &pos, "Code", 0) : NULL;
        pos = 0;
        msg = r.body ? sesp_http_xml_tag(r.body, r.len, &pos, "Message", 0) : NULL;
        tame(code);
        tame(msg);
        rc = errf(err, cap, SESP_ERR_IO, "STS AssumeRoleWithWebIdentity at %s for %s: HTTP %ld%s%s%s%s", p->url,
                  p->role_arn, r.status, code ? " " : "", code ? code : "", msg ? ": " : "", msg ? msg : "");
        goto out;
    }
    /* the four fields must sit inside one <Credentials> element */
    const char *cs = r.body ? memmem(r.body, r.len, "<Credentials>", 13) : NULL;
    const char *ce = cs ? memmem(cs, r.len - (size_t)(cs - r.body), "</Credentials>", 14) : NULL;
    if (!ce) {
        rc = errf(err, cap, SESP_ERR_MALFORMED, "STS AssumeRoleWithWebIdentity at %s: the answer (HTTP 200, %zu bytes) has no "
                  "complete <Credentials> element", p->url, r.len);
        goto out;
    }
    size_t from = (size_t)(cs - r.body), to = (size_t)(ce - r.body);
    const char *missing = NULL;
    if (xml_field(r.body, r.len, from, to, "AccessKeyId", &out->access_key_id)) missing = "AccessKeyId";
    else if (xml_field(r.body, r.len, from, to, "SecretAccessKey", &out->secret_access_key)) missing = "SecretAccessKey";
    else if (xml_field(r.body, r.len, from, to, "SessionToken", &out->session_token)) missing = "SessionToken";
    else if (xml_field(r.body, r.len, from, to, "Expiration", &exp)) missing = "Expiration";
    if (missing) {
        rc = errf(err, cap, SESP_ERR_MALFORMED, "STS AssumeRoleWithWebIdentity at %s: no usable %s in the answer's <Credentials> "
                  "(missing, empty, over 8 KiB or more than one line)", p->url, missing);
        goto out;
    }
    if (sesp_aws_parse_time(exp, &out->expires_ms)) {
        tame(exp);
        rc = errf(err, cap, SESP_ERR_MALFORMED, "STS AssumeRoleWithWebIdentity at %s: bad Expiration \"%.40s\"", p->url, exp);
    }
out:
    if (rc) sesp_aws_creds_free(out);
    scrub_free(token);
    scrub_free(etok);
    scrub_free(body);
    free(earn);
    free(ename);
    free(exp);
    free(code);
    free(msg);
    resp_free(&r);
    return rc;
}

/* ---- container credentials and IMDS: the same JSON document ---- */

static int json_creds(const char *what, const char *url, const fetch_resp *r, sesp_aws_creds *out, char *err, size_t cap)
{
    json_error_t je;
    json_t *doc = r->body ? json_loadb(r->body, r->len, JSON_REJECT_DUPLICATES, &je) : NULL;
    int rc = 0;
    if (!json_is_object(doc)) {
        /* je.text may quote the document: only the position is reported */
        rc = errf(err, cap, SESP_ERR_MALFORMED, "%s at %s: the answer (HTTP 200, %zu bytes) is not a JSON object%s", what,
                  url, r->len, doc ? "" : " (does not parse, or is cut short)");
        goto out;
    }
    const char *code = json_string_value(json_object_get(doc, "Code"));
    if (code && strcmp(code, "Success")) {
        char c[64];
        snprintf(c, sizeof(c), "%s", code);
        tame(c);
        rc = errf(err, cap, SESP_ERR_IO, "%s at %s: Code \"%s\"", what, url, c);
        goto out;
    }
    static const char *const names[] = {"AccessKeyId", "SecretAccessKey", "Token", "Expiration"};
    const char *v[4];
    for (int i = 0; i < 4; i++) {
        json_t *f = json_object_get(doc, names[i]);
        v[i] = json_string_value(f);
        /* Token and Expiration are optional: long-term keys have neither */
        if ((f && !json_is_string(f)) || (i < 2 && (!v[i] || !*v[i]))) {
            rc = errf(err, cap, SESP_ERR_MALFORMED, "%s at %s: %s is %s", what, url, names[i], f ? "not a string" : "missing");
            goto out;
        }
        if (v[i] && *v[i] && !cred_value_ok(v[i])) {
            rc = errf(err, cap, SESP_ERR_MALFORMED, "%s at %s: %s is not a credential value", what, url, names[i]);
            goto out;
        }
    }
    if (v[3] && sesp_aws_parse_time(v[3], &out->expires_ms)) {
        char t[48];
        snprintf(t, sizeof(t), "%s", v[3]);
        tame(t);
        rc = errf(err, cap, SESP_ERR_MALFORMED, "%s at %s: bad Expiration \"%s\"", what, url, t);
        goto out;
    }
    if (!(out->access_key_id = strdup(v[0])) || !(out->secret_access_key = strdup(v[1])) ||
        (v[2] && *v[2] && !(out->session_token = strdup(v[2]))))
        rc = SESP_ERR_NOMEM;
out:
    if (rc) sesp_aws_creds_free(out);
    json_decref(doc);
    return rc;
}

static int container_fetch(sesp_aws_provider *p, sesp_aws_creds *out, char *err, size_t cap)
{
    char *tok = NULL, *hdr = NULL;
    fetch_resp r = {0};
    int rc = 0;
    if (p->auth_token_file && (rc = read_token_file(p->auth_token_file, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", &tok, err, cap)))
        goto out;
    const char *t = tok ? tok : p->auth_token;
    if (t && asprintf(&hdr, "Authorization: %s", t) < 0) { hdr = NULL; rc = SESP_ERR_NOMEM; goto out; }
    const char *hdrs[] = {"Accept: application/json", hdr, NULL};
    fetch_req q = {.what = "container credentials", .method = "GET", .url = p->url, .headers = hdrs,
                   .connect_ms = 2000, .total_ms = 5000, .attempts = 3};
    if ((rc = fetch(&q, &r, err, cap))) goto out;
    if (r.status != 200) {
        rc = errf(err, cap, r.status == 401 || r.status == 403 ? SESP_ERR_INVALID_ARG : SESP_ERR_IO,
                  "container credentials at %s: HTTP %ld%s", p->url, r.status,
                  r.status == 401 || r.status == 403 ? " (is the authorization token right?)" : "");
        goto out;
    }
    rc = json_creds("container credentials", p->url, &r, out, err, cap);
out:
    scrub_free(tok);
    scrub_free(hdr);
    resp_free(&r);
    return rc;
}

/* IMDS: SESP_ERR_NOT_FOUND when the service is absent or has no role, so the
 * chain can report it among the places looked at. */
static int imds_fetch(sesp_aws_provider *p, sesp_aws_creds *out, char *err, size_t cap)
{
    char url[1200], tokhdr[600] = "", *role = NULL;
    fetch_resp r = {0};
    int rc;
    snprintf(url, sizeof(url), "%s/latest/api/token", p->url);
    static const char *const put_hdrs[] = {"X-aws-ec2-metadata-token-ttl-seconds: 21600", NULL};
    fetch_req q = {.what = "EC2 instance metadata", .method = "PUT", .url = url, .headers = put_hdrs,
                   .connect_ms = 1000, .total_ms = 2000, .attempts = 1};
    if ((rc = fetch(&q, &r, err, cap))) { rc = SESP_ERR_NOT_FOUND; goto out; }
    if (r.status == 200) {
        size_t n = r.len;
        while (n && isspace((unsigned char)r.body[n - 1])) n--;
        if (!n || n > 512 || memchr(r.body, '\r', n) || memchr(r.body, '\n', n) || memchr(r.body, 0, n)) {
            rc = errf(err, cap, SESP_ERR_MALFORMED, "EC2 instance metadata at %s: the session token answer is not a token", url);
            goto out;
        }
        snprintf(tokhdr, sizeof(tokhdr), "X-aws-ec2-metadata-token: %.*s", (int)n, r.body);
    } else if (r.status != 403 && r.status != 404 && r.status != 405) {
        /* 403/404/405 mean IMDSv1 only, where the SDKs go on without a token */
        rc = errf(err, cap, SESP_ERR_NOT_FOUND, "EC2 instance metadata at %s: HTTP %ld", url, r.status);
        goto out;
    }
    const char *hdrs[] = {tokhdr[0] ? tokhdr : NULL, NULL};
    snprintf(url, sizeof(url), "%s/latest/meta-data/iam/security-credentials/", p->url);
    q.method = "GET";
    q.headers = hdrs;
    if ((rc = fetch(&q, &r, err, cap))) { rc = SESP_ERR_NOT_FOUND; goto out; }
    if (r.status == 404) { rc = errf(err, cap, SESP_ERR_NOT_FOUND, "EC2 instance metadata at %s: no IAM role attached", url); goto out; }
    if (r.status != 200) { rc = errf(err, cap, SESP_ERR_IO, "EC2 instance metadata at %s: HTTP %ld", url, r.status); goto out; }
    /* the first line names the role; IAM names are [\w+=,.@-]{1,64} */
    size_t n = 0;
    while (n < r.len && r.body[n] != '\n' && r.body[n] != '\r') n++;
    bool ok = n > 0 && n <= 128;
    for (size_t i = 0; ok && i < n; i++) ok = isalnum((unsigned char)r.body[i]) || strchr("+=,.@_-", r.body[i]);
    if (!ok) { rc = errf(err, cap, SESP_ERR_MALFORMED, "EC2 instance metadata at %s: the answer is not an IAM role name", url); goto out; }
    if (!(role = strndup(r.body, n))) { rc = SESP_ERR_NOMEM; goto out; }
    snprintf(url, sizeof(url), "%s/latest/meta-data/iam/security-credentials/%s", p->url, role);
    if ((rc = fetch(&q, &r, err, cap))) goto out;
    if (r.status != 200) { rc = errf(err, cap, SESP_ERR_IO, "EC2 instance metadata at %s: HTTP %ld", url, r.status); goto out; }
    rc = json_creds("EC2 instance metadata", url, &r, out, err, cap);
out:
    explicit_bzero(tokhdr, sizeof(tokhdr));
    free(role);
    resp_free(&r);
    return rc;
}

int sesp_aws_provider_fetch(sesp_aws_provider *p, sesp_aws_creds *out, char *err, size_t errcap)
{
    memset(out, 0, sizeof(*out));
    switch (p->kind) {
    case P_WEB_IDENTITY: return web_identity_fetch(p, out, err, errcap);
    case P_CONTAINER: return container_fetch(p, out, err, errcap);
    case P_IMDS: return imds_fetch(p, out, err, errcap);
    }
    return errf(err, errcap, SESP_ERR_STATE, "unknown credential provider");
}

const char *sesp_aws_provider_name(const sesp_aws_provider *p) { return p->name; }

void sesp_aws_provider_free(sesp_aws_provider *p)
{
    if (!p) return;
    free(p->url);
    free(p->role_arn);
    free(p->session_name);
    free(p->token_file);
    scrub_free(p->auth_token);
    free(p->auth_token_file);
    free(p);
}

/* ---- the chain ---- */

/* The host of an AWS_CONTAINER_CREDENTIALS_FULL_URI that may be plain http:
 * loopback, or the ECS (169.254.170.2) and EKS Pod Identity
 * (169.254.170.23, fd00:ec2::23) agents.  Anything else could be a server
 * that the environment's author did not mean to hand the token to. */
static bool container_host_ok(const char *host)
{
    static const char *const agents[] = {"169.254.170.2", "169.254.170.23", "[fd00:ec2::23]", "localhost", "[::1]", NULL};
    for (int i = 0; agents[i]; i++)
        if (!strcasecmp(host, agents[i])) return true;
    unsigned a, b, c, d;
    char tail;
    return sscanf(host, "%u.%u.%u.%u%c", &a, &b, &c, &d, &tail) == 4 && a == 127 && b < 256 && c < 256 && d < 256;
}

static int container_url(char **out, char *err, size_t cap)
{
    *out = NULL;
    const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"), *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    if (rel) {
        if (rel[0] != '/' || strpbrk(rel, " \r\n"))
            return errf(err, cap, SESP_ERR_INVALID_ARG, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must be a path starting with /");
        return asprintf(out, "http://169.254.170.2%s", rel) < 0 ? (*out = NULL, SESP_ERR_NOMEM) : 0;
    }
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    int rc = 0;
    if (!u) return SESP_ERR_NOMEM;
    if (curl_url_set(u, CURLUPART_URL, full, 0) || curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
        curl_url_get(u, CURLUPART_HOST, &host, 0)) {
        rc = errf(err, cap, SESP_ERR_INVALID_ARG, "AWS_CONTAINER_CREDENTIALS_FULL_URI %s is not a URL", full);
        goto out;
    }
    if (strcasecmp(scheme, "https") && (strcasecmp(scheme, "http") || !container_host_ok(host))) {
        rc = errf(err, cap, SESP_ERR_INVALID_ARG,
                  "AWS_CONTAINER_CREDENTIALS_FULL_URI %s: host %s is not allowed over %s; use https, a loopback address, "
                  "or the ECS/EKS agent (169.254.170.2, 169.254.170.23, fd00:ec2::23)", full, host, scheme);
        goto out;
    }
    if (!(*out = strdup(full))) rc = SESP_ERR_NOMEM;
out:
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return rc;
}

static sesp_aws_provider *provider_new(int kind)
{
    sesp_aws_provider *p = calloc(1, sizeof(*p));
    if (p) p->kind = kind;
    return p;
}

static int make_web_identity(const sesp_aws_chain_cfg *cfg, sesp_aws_provider **out, char *err, size_t cap)
{
    if (!cfg->role_arn)
        return errf(err, cap, SESP_ERR_INVALID_ARG, "web identity credentials (from %s): a token file is set but no role ARN "
                    "(AWS_ROLE_ARN or role_arn)", cfg->web_identity_from);
    sesp_aws_provider *p = provider_new(P_WEB_IDENTITY);
    if (!p) return SESP_ERR_NOMEM;
    int rc = 0;
    if (cfg->sts_endpoint) {
        p->url = strdup(cfg->sts_endpoint);   /* as given: libcurl asks for "/" when it has no path */
    } else {
        /* the regional endpoint, as current SDKs default to */
        const char *r = cfg->region ? cfg->region : "us-east-1";
        if (asprintf(&p->url, "https://sts.%s.amazonaws.com%s/", r, strncmp(r, "cn-", 3) ? "" : ".cn") < 0) p->url = NULL;
    }
    char sess[64];
    snprintf(sess, sizeof(sess), "sesp-%lld", (long long)now_ms());
    p->role_arn = strdup(cfg->role_arn);
    p->session_name = strdup(cfg->role_session_name ? cfg->role_session_name : sess);
    p->token_file = strdup(cfg->web_identity_token_file);
    if (!p->url || !p->role_arn || !p->session_name || !p->token_file) { rc = SESP_ERR_NOMEM; goto out; }
    snprintf(p->name, sizeof(p->name), "web identity (STS AssumeRoleWithWebIdentity at %.200s for %.200s, from %.60s)", p->url,
             p->role_arn, cfg->web_identity_from);
out:
    if (rc) sesp_aws_provider_free(p);
    else *out = p;
    return rc;
}

static int make_container(sesp_aws_provider **out, char *err, size_t cap)
{
    sesp_aws_provider *p = provider_new(P_CONTAINER);
    if (!p) return SESP_ERR_NOMEM;
    int rc = container_url(&p->url, err, cap);
    if (rc) goto out;
    const char *tf = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"), *t = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    if (tf && !(p->auth_token_file = strdup(tf))) { rc = SESP_ERR_NOMEM; goto out; }
    if (!tf && t) {
        if (strpbrk(t, "\r\n")) {
            rc = errf(err, cap, SESP_ERR_INVALID_ARG, "AWS_CONTAINER_AUTHORIZATION_TOKEN holds a line break");
            goto out;
        }
        if (!(p->auth_token = strdup(t))) { rc = SESP_ERR_NOMEM; goto out; }
    }
    snprintf(p->name, sizeof(p->name), "container credentials (%.400s)", p->url);
out:
    if (rc) sesp_aws_provider_free(p);
    else *out = p;
    return rc;
}

static bool truthy(const char *v) { return v && (!strcasecmp(v, "true") || !strcmp(v, "1")); }

int sesp_aws_chain_resolve(const sesp_aws_chain_cfg *cfg, sesp_aws_provider **out, sesp_aws_creds *creds, char *err,
                           size_t errcap)
{
    *out = NULL;
    memset(creds, 0, sizeof(*creds));
    sesp_aws_provider *p = NULL;
    char why[700];
    int rc;
    /* 1 and 2: configured means meant, so a failure is the answer */
    if (cfg->web_identity_token_file || cfg->role_arn) {
        if (!cfg->web_identity_token_file) goto container;   /* a role_arn alone belongs to source_profile setups */
        if ((rc = make_web_identity(cfg, &p, err, errcap))) return rc;
        if ((rc = sesp_aws_provider_fetch(p, creds, why, sizeof(why)))) goto failed;
        goto found;
    }
container:
    if (env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") || env("AWS_CONTAINER_CREDENTIALS_FULL_URI")) {
        if ((rc = make_container(&p, err, errcap))) return rc;
        if ((rc = sesp_aws_provider_fetch(p, creds, why, sizeof(why)))) goto failed;
        goto found;
    }
    /* 3: only asked when nothing else is configured, with short timeouts */
    const char *imds = env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    char imds_state[800];
    if (truthy(env("AWS_EC2_METADATA_DISABLED"))) {
        snprintf(imds_state, sizeof(imds_state), "disabled by AWS_EC2_METADATA_DISABLED");
    } else {
        if (!(p = provider_new(P_IMDS))) return SESP_ERR_NOMEM;
        size_t n = imds ? strlen(imds) : 0;
        while (n && imds[n - 1] == '/') n--;
        if (!(p->url = imds ? strndup(imds, n) : strdup("http://169.254.169.254"))) { sesp_aws_provider_free(p); return SESP_ERR_NOMEM; }
        snprintf(p->name, sizeof(p->name), "EC2 instance metadata (%.400s)", p->url);
        rc = sesp_aws_provider_fetch(p, creds, why, sizeof(why));
        if (!rc) goto found;
        if (rc == SESP_ERR_NOMEM) goto failed;
        snprintf(imds_state, sizeof(imds_state), "%s", why);
        sesp_aws_provider_free(p);
        p = NULL;
    }
    return errf(err, errcap, SESP_ERR_NOT_FOUND,
                "web identity (AWS_WEB_IDENTITY_TOKEN_FILE, web_identity_token_file: not set), container credentials "
                "(AWS_CONTAINER_CREDENTIALS_RELATIVE_URI, AWS_CONTAINER_CREDENTIALS_FULL_URI: not set), EC2 instance metadata (%s)",
                imds_state);
failed:
    errf(err, errcap, rc, "%s: %s", p->name, why);
    sesp_aws_provider_free(p);
    return rc;
found:
    *out = p;
    return 0;
}

/* ---- the refreshing cache ---- */

struct sesp_aws_creds_cache {
    pthread_mutex_t mu;
    pthread_cond_t done;      /* a refresh finished */
    bool refreshing;          /* one fetch at a time, run outside mu */
    sesp_aws_provider *p;     /* immutable after creation: fetched from without mu */
    sesp_aws_creds cur;
    int64_t fetched_ms, margin_ms, next_try_ms;
    int fetches;
    char last_err[900];
};

int sesp_aws_creds_cache_new(sesp_aws_provider *p, sesp_aws_creds *first, int64_t margin_ms, sesp_aws_creds_cache **out)
{
    sesp_aws_creds_cache *c = calloc(1, sizeof(*c));
    if (!c) return SESP_ERR_NOMEM;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->done, NULL);
    c->p = p;
    c->cur = *first;
    memset(first, 0, sizeof(*first));
    c->fetched_ms = now_ms();
    c->margin_ms = margin_ms > 0 ? margin_ms : SESP_AWS_CREDS_DEFAULT_MARGIN_MS;
    *out = c;
    return 0;
}

/* When to refresh: margin before expiry, but never in the first half of the
 * credentials' life, so short-lived ones are not fetched on every request. */
static int64_t refresh_at(const sesp_aws_creds_cache *c)
{
    int64_t life = c->cur.expires_ms - c->fetched_ms, m = c->margin_ms;
    if (life > 0 && m > life / 2) m = life / 2;
    return c->cur.expires_ms - m;
}

/* Called with mu held by the one thread that set refreshing; drops mu
 * around the network so the other threads keep signing with the current
 * (still valid) credentials meanwhile. */
static int refresh(sesp_aws_creds_cache *c, int64_t now)
{
    sesp_aws_creds fresh;
    char why[sizeof(c->last_err)];
    c->fetches++;
    pthread_mutex_unlock(&c->mu);
    int rc = sesp_aws_provider_fetch(c->p, &fresh, why, sizeof(why));
    pthread_mutex_lock(&c->mu);
    if (!rc) {
        sesp_aws_creds_free(&c->cur);
        c->cur = fresh;
        c->fetched_ms = now;
        c->next_try_ms = 0;
        c->last_err[0] = 0;
    } else {
        /* the old credentials still work until they expire: keep them,
         * and give the endpoint a second before asking again */
        memcpy(c->last_err, why, sizeof(why));
        c->next_try_ms = now_ms() + 1000;
    }
    c->refreshing = false;
    pthread_cond_broadcast(&c->done);
    return rc == SESP_ERR_NOMEM ? rc : 0;
}

int sesp_aws_creds_cache_get(sesp_aws_creds_cache *c, sesp_aws_creds *out, char *err, size_t errcap)
{
    int rc = 0;
    pthread_mutex_lock(&c->mu);
    int64_t now = now_ms();
    if (c->cur.expires_ms && now >= refresh_at(c) && now >= c->next_try_ms && !c->refreshing) {
        c->refreshing = true;
        rc = refresh(c, now);
        now = now_ms();
    }
    /* expired while another thread refreshes: wait for its answer */
    while (!rc && c->refreshing && c->cur.expires_ms && now >= c->cur.expires_ms) {
        pthread_cond_wait(&c->done, &c->mu);
        now = now_ms();
    }
    if (!rc && c->cur.expires_ms && now >= c->cur.expires_ms)
        rc = errf(err, errcap, SESP_ERR_IO, "the credentials from %s expired and refreshing them failed: %s",
                  sesp_aws_provider_name(c->p), c->last_err[0] ? c->last_err : "(no answer yet)");
    if (!rc) rc = sesp_aws_creds_copy(&c->cur, out);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

int sesp_aws_creds_cache_refreshes(sesp_aws_creds_cache *c)
{
    pthread_mutex_lock(&c->mu);
    int n = c->fetches;
    pthread_mutex_unlock(&c->mu);
    return n;
}

void sesp_aws_creds_cache_free(sesp_aws_creds_cache *c)
{
    if (!c) return;
    sesp_aws_creds_free(&c->cur);
    sesp_aws_provider_free(c->p);
    pthread_cond_destroy(&c->done);
    pthread_mutex_destroy(&c->mu);
    free(c);
}
