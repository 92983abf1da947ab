/*
 * The HTTP client shared by the S3 and WebHDFS backends: one keep-alive
 * libcurl handle per store, bounded response bodies, the few response headers
 * the backends need, and retries.  Connection errors, 5xx and 429 are
 * retried with exponential backoff and full jitter up to opts.max_attempts;
 * the caller learns how many attempts ran because a write whose first attempt
 * failed mid-flight may have landed anyway (S3 put_if_absent uses that to
 * tell its own object from a competitor's).
 */
#include <ctype.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "objstore_impl.h"

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init_once(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    sesp_http_resp *r = ud;
    size_t n = size * nmemb;
    if (r->body_max && r->body_len + n > r->body_max) return 0;   /* aborts the transfer */
    uint8_t *nb = realloc(r->body, r->body_len + n + 1);
    if (!nb) return 0;
    r->body = nb;
    memcpy(r->body + r->body_len, ptr, n);
    r->body_len += n;
    r->body[r->body_len] = 0;
    return n;
}

static void header_value(const char *line, size_t n, size_t namelen, char *out, size_t cap)
{
    const char *v = line + namelen;
    size_t vl = n - namelen;
    while (vl && (*v == ' ' || *v == '\t')) { v++; vl--; }
    while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' || v[vl - 1] == ' ')) vl--;
    if (vl >= cap) vl = cap - 1;
    memcpy(out, v, vl);
    out[vl] = 0;
}

static size_t on_header(char *line, size_t size, size_t nmemb, void *ud)
{
    sesp_http_resp *r = ud;
    size_t n = size * nmemb;
    char tmp[256];
    if (n > 5 && !strncasecmp(line, "ETag:", 5)) header_value(line, n, 5, r->etag, sizeof(r->etag));
    else if (n > 9 && !strncasecmp(line, "Location:", 9)) header_value(line, n, 9, r->location, sizeof(r->location));
    else if (n > 15 && !strncasecmp(line, "Content-Length:", 15)) {
        header_value(line, n, 15, tmp, sizeof(tmp));
        char *end;
        long long v = strtoll(tmp, &end, 10);
        if (end != tmp && v >= 0) r->content_length = v;
    } else if (n > 14 && !strncasecmp(line, "Last-Modified:", 14)) {
        header_value(line, n, 14, tmp, sizeof(tmp));
        time_t t = curl_getdate(tmp, NULL);
        if (t > 0) r->last_modified_ms = (int64_t)t * 1000;
    }
    return n;
}

void sesp_http_resp_free(sesp_http_resp *r)
{
    free(r->body);
    r->body = NULL;
    r->body_len = 0;
}

char *sesp_http_escape(const char *s, bool keep_slash)
{
    size_t n = strlen(s);
    char *out = malloc(n * 3 + 1), *o = out;
    if (!out) return NULL;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~' || (keep_slash && *p == '/')) *o++ = (char)*p;
        else { static const char hx[] = "0123456789ABCDEF"; *o++ = '%'; *o++ = hx[*p >> 4]; *o++ = hx[*p & 15]; }
    }
    *o = 0;
    return out;
}

/* Text of the first <tag>...</tag> at or after *pos inside [body, end);
 * XML entities decoded.  Advances *pos past the closing tag.  NULL if absent. */
char *sesp_http_xml_tag(const char *body, size_t len, size_t *pos, const char *tag, size_t limit_end)
{
    char open[64], close[64];
    snprintf(open, sizeof(open), "<%s>", tag);
    snprintf(close, sizeof(close), "</%s>", tag);
    size_t end = limit_end ? limit_end : len;
    const char *start = memmem(body + *pos, end - *pos, open, strlen(open));
    if (!start) return NULL;
    start += strlen(open);
    const char *stop = memmem(start, (size_t)(body + end - start), close, strlen(close));
    if (!stop) return NULL;
    size_t n = (size_t)(stop - start);
    char *out = malloc(n + 1), *o = out;
    if (!out) return NULL;
    for (const char *p = start; p < stop;) {
        if (*p != '&') { *o++ = *p++; continue; }
        const char *semi = memchr(p, ';', (size_t)(stop - p));
        if (!semi || semi - p > 10) { *o++ = *p++; continue; }
        size_t el = (size_t)(semi - p);
        if (el == 4 && !strncmp(p, "&amp", 4)) *o++ = '&';
        else if (el == 3 && !strncmp(p, "&lt", 3)) *o++ = '<';
        else if (el == 3 && !strncmp(p, "&gt", 3)) *o++ = '>';
        else if (el == 5 && !strncmp(p, "&quot", 5)) *o++ = '"';
        else if (el == 5 && !strncmp(p, "&apos", 5)) *o++ = '\'';
        else if (el > 2 && p[1] == '#') {
            long cp = p[2] == 'x' ? strtol(p + 3, NULL, 16) : strtol(p + 2, NULL, 10);
            if (cp > 0 && cp < 0x80) *o++ = (char)cp;
            else { *o++ = '?'; }
        } else { memcpy(o, p, el + 1); o += el + 1; }
        p = semi + 1;
    }
    *o = 0;
    *pos = (size_t)(stop - body) + strlen(close);
    return out;
}

static void backoff(sesp_objstore *s, int attempt)
{
    long cap = (long)s->opts.retry_base_ms << (attempt < 16 ? attempt : 16);
    if (cap > s->opts.retry_max_ms) cap = s->opts.retry_max_ms;
    if (!s->rng) s->rng = (unsigned)time(NULL) ^ (unsigned)getpid() ^ (unsigned)(uintptr_t)s;
    long ms = (long)(rand_r(&s->rng) % (unsigned)(cap + 1));
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

int sesp_http_do(sesp_objstore *s, const sesp_http_req *req, sesp_http_resp *resp, int *attempts_out)
{
    pthread_once(&curl_once, curl_init_once);
    if (!s->curl && !(s->curl = curl_easy_init())) return sesp_objstore_seterr(s, SESP_ERR_NOMEM, "curl_easy_init failed");
    CURL *c = s->curl;
    size_t body_max = resp->body_max;
    int attempt = 0, rc = SESP_ERR_IO;
    for (;;) {
        attempt++;
        sesp_http_resp_free(resp);
        memset(resp, 0, sizeof(*resp));
        resp->body_max = body_max;
        resp->content_length = -1;
        curl_easy_reset(c);
        curl_easy_setopt(c, CURLOPT_URL, req->url);
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, s->opts.timeout_ms);
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, s->opts.timeout_ms < 10000 ? s->opts.timeout_ms : 10000L);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        if (!strcmp(req->method, "HEAD")) curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
        else if (strcmp(req->method, "GET")) curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, req->method);
        if (req->body || !strcmp(req->method, "PUT") || !strcmp(req->method, "POST")) {
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, req->body ? (const char *)req->body : "");
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        }
        struct curl_slist *hl = NULL;
        if (req->sigv4) {
            /* libcurl before 8.3 signs a header the list disables ("Expect:")
             * as if it were sent empty, and a store that checks SignedHeaders
             * against the request refuses that (curl issue 11664).  So with
             * SigV4 nothing is disabled: a body gets a real, signed
             * Content-Type instead of curl's unsigned form-urlencoded one,
             * and curl may add an unsigned Expect: 100-continue to a large
             * body, which S3 does not require to be signed. */
            if (req->body || !strcmp(req->method, "PUT") || !strcmp(req->method, "POST"))
                hl = curl_slist_append(hl, "Content-Type: application/octet-stream");
        } else {
            /* curl would otherwise add these for a POSTFIELDS body */
            hl = curl_slist_append(hl, "Content-Type:");
            hl = curl_slist_append(hl, "Expect:");
        }
        for (const char *const *h = req->headers; h && *h; h++) hl = curl_slist_append(hl, *h);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
        if (req->sigv4) curl_easy_setopt(c, CURLOPT_AWS_SIGV4, req->sigv4);
        if (req->userpwd) curl_easy_setopt(c, CURLOPT_USERPWD, req->userpwd);
        CURLcode cc = curl_easy_perform(c);
        curl_slist_free_all(hl);
        bool retry;
        if (cc == CURLE_OK) {
            curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
            retry = !req->no_retry_on_status && (resp->status >= 500 || resp->status == 429);
            rc = 0;
            if (retry) sesp_objstore_seterr(s, SESP_ERR_IO, "%s %s: HTTP %ld", req->method, req->url, resp->status);
        } else if (cc == CURLE_WRITE_ERROR && body_max && resp->body_len + CURL_MAX_WRITE_SIZE > body_max) {
            rc = sesp_objstore_seterr(s, SESP_ERR_TOO_LARGE, "%s %s: response over %zu bytes", req->method, req->url, body_max);
            break;
        } else {
            retry = true;
            rc = sesp_objstore_seterr(s, SESP_ERR_IO, "%s %s: %s", req->method, req->url, curl_easy_strerror(cc));
        }
        if (!retry || attempt >= s->opts.max_attempts) break;
        backoff(s, attempt);
    }
    if (attempts_out) *attempts_out = attempt;
    if (rc == 0 && !req->no_retry_on_status && (resp->status >= 500 || resp->status == 429)) rc = SESP_ERR_IO;
    return rc;
}
