/* Unit tests of the run-time AWS credential providers
 * (lakehouse/objstore/aws_creds.c) against a real HTTP peer: a small server
 * on 127.0.0.1, in a thread, that plays STS (AssumeRoleWithWebIdentity, XML),
 * the container credentials endpoint (JSON behind an Authorization token),
 * IMDSv2 (session token, role name, JSON; refusing requests without the
 * token) and an S3 bucket that checks every SigV4 signature against the
 * secret it handed out.  Checked: credentials from each provider, the chain's
 * order, IMDS disabled, malformed / oversized / truncated / failing answers
 * give clear errors without the secrets, expiry triggers a refresh, a failed
 * refresh keeps valid credentials and fails once they expire. */
#include <CUnit/Basic.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "lakehouse/objstore/aws_config.h"
#include "lakehouse/objstore/aws_creds.h"
#include "lakehouse/objstore/objstore.h"

/* ---- the peer ---- */

enum { OK, MALFORMED, OVERSIZED, TRUNCATED, FAIL500, BAD_EXPIRY, NOT_JSON, NO_ROLE, IMDS_V1, MULTILINE };

typedef struct rec {
    char method[8], path[256], auth[512], imds_token[128], imds_ttl[32], sec_token[256], body[2048];
} rec;

typedef struct srv {
    int fd, port;
    volatile bool stop;
    pthread_t th;
    pthread_mutex_t mu;
    int mode;                 /* fault to inject, for every provider */
    int ttl_s;                /* Expiration = now + ttl_s */
    int delay_ms;             /* the container endpoint answers this late */
    int issued;               /* credentials handed out: AKID1, AKID2, ... */
    rec reqs[128];
    int n;
    int sts, container, imds, s3, s3_ok;
    char sig_problem[256];
} srv;

static srv *S;
static char dir[128], tokfile[300], authfile[300], conf_path[300], cred_path[300];

static const char *const VARS[] = {
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
    "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "SESP_S3_ENDPOINT",
    "AWS_S3_FORCE_PATH_STYLE", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
    "AWS_ROLE_SESSION_NAME", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_EC2_METADATA_SERVICE_ENDPOINT",
    "AWS_EC2_METADATA_DISABLED", "AWS_ENDPOINT_URL_STS", NULL,
};

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (!f) { perror(path); exit(1); }
    fputs(text, f);
    fclose(f);
}

static void iso(time_t t, char *out, size_t cap)
{
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void send_all(int c, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(c, p, n);
        if (w <= 0) return;
        p += w;
        n -= (size_t)w;
    }
}

static void reply(int c, int status, const char *ctype, const char *body)
{
    char hdr[256];
    size_t len = strlen(body);
    int n = snprintf(hdr, sizeof(hdr), "HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                     status, ctype, len);
    send_all(c, hdr, (size_t)n);
    send_all(c, body, len);
}

/* The answer for a credentials document, or a fault. */
static void creds_reply(srv *m, int c, bool xml)
{
    char body[4096], exp[40];
    iso(time(NULL) + m->ttl_s, exp, sizeof(exp));
    int k = ++m->issued;
    if (m->mode == FAIL500) { reply(c, 500, "text/plain", "busy"); return; }
    if (m->mode == OVERSIZED) {
        size_t big = 200u << 10;
        char *b = malloc(big + 1);
        memset(b, 'x', big);
        b[big] = 0;
        reply(c, 200, "text/plain", b);
        free(b);
        return;
    }
    if (m->mode == TRUNCATED) {
        /* promises more than it sends, then hangs up */
        const char *h = "HTTP/1.1 200 OK\r\nContent-Length: 400\r\nConnection: close\r\n\r\n{\"AccessKeyId\":\"AKID\",\"Secr";
        send_all(c, h, strlen(h));
        return;
    }
    const char *e = m->mode == BAD_EXPIRY ? "tomorrow-ish" : exp;
    if (xml) {
        if (m->mode == MALFORMED)
            snprintf(body, sizeof(body), "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>"
                     "<AccessKeyId>AKID%d</AccessKeyId><SessionToken>TOKEN%d</SessionToken><Expiration>%s</Expiration>"
                     "</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>", k, k, e);
        else if (m->mode == MULTILINE)   /* a header injection in the session token */
            snprintf(body, sizeof(body), "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>"
                     "<AccessKeyId>AKID%d</AccessKeyId><SecretAccessKey>SECRET%d</SecretAccessKey>"
                     "<SessionToken>TOKEN%d&#13;&#10;X-Evil: 1</SessionToken><Expiration>%s</Expiration>"
                     "</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>", k, k, k, e);
        else if (m->mode == NOT_JSON)   /* for XML: the element never closes */
            snprintf(body, sizeof(body), "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult><Credentials>"
                     "<AccessKeyId>AKID%d</AccessKeyId><SecretAccessKey>SECRET%d</SecretAccessKey>", k, k);
        else
            snprintf(body, sizeof(body), "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                     "<AssumeRoleWithWebIdentityResult><SubjectFromWebIdentityToken>sub</SubjectFromWebIdentityToken>"
                     "<Credentials><SessionToken>TOKEN%d</SessionToken><SecretAccessKey>SECRET%d</SecretAccessKey>"
                     "<Expiration>%s</Expiration><AccessKeyId>AKID%d</AccessKeyId></Credentials>"
                     "</AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>", k, k, e, k);
        reply(c, 200, "text/xml", body);
        return;
    }
    if (m->mode == MALFORMED)
        snprintf(body, sizeof(body), "{\"AccessKeyId\":\"AKID%d\",\"SecretAccessKey\":12,\"Token\":\"TOKEN%d\",\"Expiration\":\"%s\"}", k, k, e);
    else if (m->mode == NOT_JSON) snprintf(body, sizeof(body), "{\"AccessKeyId\":\"AKID%d\",\"SecretAccessKey\":\"SECRET%d\"", k, k);
    else if (m->mode == MULTILINE)
        snprintf(body, sizeof(body), "{\"AccessKeyId\":\"AKID%d\",\"SecretAccessKey\":\"SECRET%d\",\"Token\":\"TOKEN%d\\r\\nX-Evil: 1\","
                 "\"Expiration\":\"%s\"}", k, k, k, e);
    else
        snprintf(body, sizeof(body), "{\"Code\":\"Success\",\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"AKID%d\","
                 "\"SecretAccessKey\":\"SECRET%d\",\"Token\":\"TOKEN%d\",\"Expiration\":\"%s\"}", k, k, k, e);
    reply(c, 200, "application/json", body);
}

static void hex(const unsigned char *d, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) sprintf(out + 2 * i, "%02x", d[i]);
}

/* SigV4 as AWS documents it, for the S3 role: NULL when the request is
 * signed by the secret matching its access key (AKIDn -> SECRETn) and its
 * session token (TOKENn) is sent and signed. */
static const char *sigv4_problem(const char *method, const char *target, char *hdrs, const char *body, size_t blen)
{
    static char why[200];
    char auth[512] = "", date[32] = "", sha[80] = "", tok[256] = "", host[128] = "";
    for (char *l = strtok(hdrs, "\r\n"); l; l = strtok(NULL, "\r\n")) {
        char *colon = strchr(l, ':');
        if (!colon) continue;
        *colon = 0;
        char *v = colon + 1;
        while (*v == ' ') v++;
        if (!strcasecmp(l, "authorization")) snprintf(auth, sizeof(auth), "%s", v);
        else if (!strcasecmp(l, "x-amz-date")) snprintf(date, sizeof(date), "%s", v);
        else if (!strcasecmp(l, "x-amz-content-sha256")) snprintf(sha, sizeof(sha), "%s", v);
        else if (!strcasecmp(l, "x-amz-security-token")) snprintf(tok, sizeof(tok), "%s", v);
        else if (!strcasecmp(l, "host")) snprintf(host, sizeof(host), "%s", v);
    }
    int k = 0;
    char scope_date[16], region[32], service[16], signed_h[256], sig[80];
    if (sscanf(auth, "AWS4-HMAC-SHA256 Credential=AKID%d/%8[0-9]/%31[^/]/%15[^/]/aws4_request, SignedHeaders=%255[^,], Signature=%64s",
               &k, scope_date, region, service, signed_h, sig) != 6)
        return "no SigV4 Authorization with an AKIDn key";
    char want_tok[32];
    snprintf(want_tok, sizeof(want_tok), "TOKEN%d", k);
    if (strcmp(tok, want_tok) || !strstr(signed_h, "x-amz-security-token")) return "session token missing, wrong or unsigned";
    unsigned char md[32];
    char mdhex[65];
    SHA256((const unsigned char *)body, blen, md);
    hex(md, 32, mdhex);
    if (strcmp(mdhex, sha)) return "x-amz-content-sha256 is not the payload hash";
    /* canonical request: only host, x-amz-* and content-type are signed here */
    char canon[4096], path[512], query[512] = "";
    snprintf(path, sizeof(path), "%s", target);
    char *q = strchr(path, '?');
    if (q) { snprintf(query, sizeof(query), "%s", q + 1); *q = 0; }
    int n = snprintf(canon, sizeof(canon), "%s\n%s\n%s\n", method, path, query);
    char sh[256];
    snprintf(sh, sizeof(sh), "%s", signed_h);
    for (char *h = strtok(sh, ";"); h; h = strtok(NULL, ";")) {
        const char *v = !strcmp(h, "host") ? host : !strcmp(h, "x-amz-date") ? date : !strcmp(h, "x-amz-content-sha256") ? sha
                      : !strcmp(h, "x-amz-security-token") ? tok : !strcmp(h, "content-type") ? "application/octet-stream" : NULL;
        if (!v) { snprintf(why, sizeof(why), "unexpected signed header %s", h); return why; }
        n += snprintf(canon + n, sizeof(canon) - (size_t)n, "%s:%s\n", h, v);
    }
    snprintf(canon + n, sizeof(canon) - (size_t)n, "\n%s\n%s", signed_h, sha);
    SHA256((const unsigned char *)canon, strlen(canon), md);
    hex(md, 32, mdhex);
    char sts[512], key[64];
    snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s", date, scope_date, region, service, mdhex);
    unsigned char kb[32];
    unsigned int kl = 32;
    snprintf(key, sizeof(key), "AWS4SECRET%d", k);
    HMAC(EVP_sha256(), key, (int)strlen(key), (const unsigned char *)scope_date, strlen(scope_date), kb, &kl);
    HMAC(EVP_sha256(), kb, 32, (const unsigned char *)region, strlen(region), kb, &kl);
    HMAC(EVP_sha256(), kb, 32, (const unsigned char *)service, strlen(service), kb, &kl);
    HMAC(EVP_sha256(), kb, 32, (const unsigned char *)"aws4_request", 12, kb, &kl);
    HMAC(EVP_sha256(), kb, 32, (const unsigned char *)sts, strlen(sts), kb, &kl);
    char got[65];
    hex(kb, 32, got);
    return strcmp(got, sig) ? "signature mismatch" : NULL;
}

static void header(const char *hdrs, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    for (const char *l = hdrs; l && *l; l = strstr(l, "\r\n"), l = l ? l + 2 : NULL)
        if (!strncasecmp(l, name, nl) && l[nl] == ':') {
            const char *v = l + nl + 1;
            while (*v == ' ') v++;
            size_t vl = strcspn(v, "\r\n");
            if (vl >= cap) vl = cap - 1;
            memcpy(out, v, vl);
            out[vl] = 0;
            return;
        }
}

static void serve(srv *m, int c)
{
    static char buf[1 << 16];
    size_t got = 0;
    char *end = NULL;
    while (!end && got < sizeof(buf) - 1) {
        ssize_t r = read(c, buf + got, sizeof(buf) - 1 - got);
        if (r <= 0) return;
        got += (size_t)r;
        buf[got] = 0;
        end = strstr(buf, "\r\n\r\n");
    }
    if (!end) return;
    end[2] = 0;
    char method[8], target[256];
    if (sscanf(buf, "%7s %255s", method, target) != 2) return;
    char *hdrs = strstr(buf, "\r\n") + 2, cl[32] = "", expect[32] = "";
    header(hdrs, "Content-Length", cl, sizeof(cl));
    header(hdrs, "Expect", expect, sizeof(expect));
    if (*expect) send_all(c, "HTTP/1.1 100 Continue\r\n\r\n", 25);
    size_t clen = strtoul(cl, NULL, 10);
    char *body = end + 4;
    size_t have = got - (size_t)(body - buf);
    while (have < clen && (size_t)(body - buf) + clen < sizeof(buf) - 1) {
        ssize_t r = read(c, body + have, clen - have);
        if (r <= 0) return;
        have += (size_t)r;
    }
    body[have] = 0;
    pthread_mutex_lock(&m->mu);
    rec *rq = m->n < 128 ? &m->reqs[m->n++] : &m->reqs[127];
    memset(rq, 0, sizeof(*rq));
    snprintf(rq->method, sizeof(rq->method), "%s", method);
    snprintf(rq->path, sizeof(rq->path), "%s", target);
    header(hdrs, "Authorization", rq->auth, sizeof(rq->auth));
    header(hdrs, "X-aws-ec2-metadata-token", rq->imds_token, sizeof(rq->imds_token));
    header(hdrs, "X-aws-ec2-metadata-token-ttl-seconds", rq->imds_ttl, sizeof(rq->imds_ttl));
    header(hdrs, "x-amz-security-token", rq->sec_token, sizeof(rq->sec_token));
    snprintf(rq->body, sizeof(rq->body), "%s", body);
    if (!strcmp(method, "POST") && !strcmp(target, "/sts/")) {
        m->sts++;
        if (!strstr(body, "WebIdentityToken=WEBTOKEN")) reply(c, 400, "text/xml",
            "<ErrorResponse><Error><Type>Sender</Type><Code>InvalidIdentityToken</Code>"
            "<Message>Couldn't retrieve verification key from your identity provider</Message></Error></ErrorResponse>");
        else creds_reply(m, c, true);
    } else if (!strncmp(target, "/creds", 6)) {
        m->container++;
        if (m->delay_ms) usleep((useconds_t)m->delay_ms * 1000);
        if (strcmp(rq->auth, "AUTHTOKEN")) reply(c, 401, "text/plain", "no");
        else creds_reply(m, c, false);
    } else if (!strcmp(method, "PUT") && !strcmp(target, "/latest/api/token")) {
        m->imds++;
        if (m->mode == IMDS_V1) reply(c, 405, "text/plain", "");   /* IMDSv1 only */
        else if (!*rq->imds_ttl) reply(c, 400, "text/plain", "ttl header missing");
        else reply(c, 200, "text/plain", "IMDSSESSIONTOKEN");
    } else if (!strncmp(target, "/latest/meta-data/iam/security-credentials/", 43)) {
        m->imds++;
        if (m->mode != IMDS_V1 && strcmp(rq->imds_token, "IMDSSESSIONTOKEN")) reply(c, 401, "text/plain", "");
        else if (m->mode == NO_ROLE) reply(c, 404, "text/plain", "");
        else if (!target[43]) reply(c, 200, "text/plain", "sesp-role\n");
        else if (!strcmp(target + 43, "sesp-role")) creds_reply(m, c, false);
        else reply(c, 404, "text/plain", "");
    } else if (!strncmp(target, "/bucket/", 8)) {
        m->s3++;
        const char *why = sigv4_problem(method, target, hdrs, body, have);
        if (why) {
            snprintf(m->sig_problem, sizeof(m->sig_problem), "%s", why);
            reply(c, 403, "application/xml", "<Error><Code>SignatureDoesNotMatch</Code></Error>");
        } else {
            m->s3_ok++;
            reply(c, 200, "text/plain", "");
        }
    } else reply(c, 404, "text/plain", "");
    pthread_mutex_unlock(&m->mu);
}

static void *loop(void *arg)
{
    srv *m = arg;
    while (!m->stop) {
        struct pollfd p = {m->fd, POLLIN, 0};
        if (poll(&p, 1, 50) <= 0) continue;
        int c = accept(m->fd, NULL, NULL);
        if (c < 0) continue;
        serve(m, c);
        close(c);
    }
    return NULL;
}

static void srv_start(void)
{
    S = calloc(1, sizeof(*S));
    pthread_mutex_init(&S->mu, NULL);
    S->ttl_s = 3600;
    S->fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof(a);
    if (bind(S->fd, (struct sockaddr *)&a, sizeof(a)) || listen(S->fd, 16)) { perror("test peer"); exit(1); }
    getsockname(S->fd, (struct sockaddr *)&a, &al);
    S->port = ntohs(a.sin_port);
    pthread_create(&S->th, NULL, loop, S);
}

static void srv_stop(void)
{
    S->stop = true;
    pthread_join(S->th, NULL);
    close(S->fd);
    pthread_mutex_destroy(&S->mu);
    free(S);
}

/* a clean slate: no variables, no files, a fresh peer record */
static void reset(void)
{
    for (int i = 0; VARS[i]; i++) unsetenv(VARS[i]);
    setenv("HOME", dir, 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", cred_path, 1);
    setenv("AWS_CONFIG_FILE", conf_path, 1);
    unlink(cred_path);
    unlink(conf_path);
    pthread_mutex_lock(&S->mu);
    S->mode = OK;
    S->ttl_s = 3600;
    S->delay_ms = 0;
    S->n = S->issued = S->sts = S->container = S->imds = S->s3 = S->s3_ok = 0;
    S->sig_problem[0] = 0;
    pthread_mutex_unlock(&S->mu);
}

static char url_buf[4][128];
static const char *url(int i, const char *path)
{
    snprintf(url_buf[i], sizeof(url_buf[i]), "http://127.0.0.1:%d%s", S->port, path);
    return url_buf[i];
}

static void web_identity_env(void)
{
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tokfile, 1);
    setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/sesp-irsa", 1);
    setenv("AWS_ROLE_SESSION_NAME", "sesp-test", 1);
    setenv("AWS_ENDPOINT_URL_STS", url(0, "/sts/"), 1);
}

static void container_env(void)
{
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url(1, "/creds/v1"), 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "AUTHTOKEN", 1);
}

static void imds_env(void) { setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url(2, ""), 1); }

static int resolve(sesp_aws_settings *s, char *err, size_t cap)
{
    sesp_objstore_opts o = {0};
    return sesp_aws_settings_resolve(&o, s, err, cap);
}

/* no secret handed out by the peer, nor any token, in a message */
static void assert_no_secret(const char *err)
{
    for (const char *p = err; (p = strstr(p, "SECRET")); p++) CU_ASSERT(p[6] < '0' || p[6] > '9');
    CU_ASSERT_PTR_NULL(strstr(err, "SECRETENV"));
    CU_ASSERT_PTR_NULL(strstr(err, "TOKEN1"));
    CU_ASSERT_PTR_NULL(strstr(err, "WEBTOKEN"));
    CU_ASSERT_PTR_NULL(strstr(err, "AUTHTOKEN"));
    CU_ASSERT_PTR_NULL(strstr(err, "IMDSSESSIONTOKEN"));
}

/* ---- tests ---- */

static void test_parse_time(void)
{
    int64_t ms = 0;
    CU_ASSERT_EQUAL(sesp_aws_parse_time("1970-01-01T00:00:10Z", &ms), 0);
    CU_ASSERT_EQUAL(ms, 10000);
    CU_ASSERT_EQUAL(sesp_aws_parse_time("2026-11-29T04:05:06.25Z", &ms), 0);
    CU_ASSERT_EQUAL(ms % 1000, 250);
    CU_ASSERT_EQUAL(sesp_aws_parse_time("2026-11-29T04:05:06+00:00", &ms), 0);
    CU_ASSERT_EQUAL(sesp_aws_parse_time("2026-11-29T04:05:06", &ms), SESP_ERR_MALFORMED);
    CU_ASSERT_EQUAL(sesp_aws_parse_time("2026-11-29T04:05:06+02:00", &ms), SESP_ERR_MALFORMED);
    CU_ASSERT_EQUAL(sesp_aws_parse_time("2026-13-29T04:05:06Z", &ms), SESP_ERR_MALFORMED);
    CU_ASSERT_EQUAL(sesp_aws_parse_time("soon", &ms), SESP_ERR_MALFORMED);
    CU_ASSERT_EQUAL(sesp_aws_parse_time("2026-11-29T04:05:06.Z", &ms), SESP_ERR_MALFORMED);
}

static void test_web_identity(void)
{
    sesp_aws_settings s;
    char err[2048];
    reset();
    web_identity_env();
    CU_ASSERT_EQUAL_FATAL(resolve(&s, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(s.access_key_id, "AKID1");
    CU_ASSERT_STRING_EQUAL(s.secret_access_key, "SECRET1");
    CU_ASSERT_STRING_EQUAL(s.session_token, "TOKEN1");
    CU_ASSERT(s.expires_ms > (int64_t)time(NULL) * 1000 + 3500 * 1000);
    CU_ASSERT_PTR_NOT_NULL(s.provider);
    CU_ASSERT_PTR_NOT_NULL(strstr(s.source, "web identity"));
    sesp_aws_settings_free(&s);
    /* one unsigned POST carrying the token, the role and the session name */
    CU_ASSERT_EQUAL(S->sts, 1);
    CU_ASSERT_STRING_EQUAL(S->reqs[0].method, "POST");
    CU_ASSERT_STRING_EQUAL(S->reqs[0].auth, "");
    CU_ASSERT_PTR_NOT_NULL(strstr(S->reqs[0].body, "Action=AssumeRoleWithWebIdentity"));
    CU_ASSERT_PTR_NOT_NULL(strstr(S->reqs[0].body, "Version=2011-06-15"));
    CU_ASSERT_PTR_NOT_NULL(strstr(S->reqs[0].body, "RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fsesp-irsa"));
    CU_ASSERT_PTR_NOT_NULL(strstr(S->reqs[0].body, "RoleSessionName=sesp-test"));
    CU_ASSERT_PTR_NOT_NULL(strstr(S->reqs[0].body, "WebIdentityToken=WEBTOKEN"));

    /* the same from the profile, with the STS endpoint as a store option */
    reset();
    char conf[600];
    snprintf(conf, sizeof(conf), "[default]\nregion = eu-west-1\nweb_identity_token_file = %s\n"
             "role_arn = arn:aws:iam::123456789012:role/from-profile\n", tokfile);
    write_file(conf_path, conf);
    sesp_objstore_opts o = {0};
    o.s3_sts_endpoint = url(0, "/sts/");
    CU_ASSERT_EQUAL_FATAL(sesp_aws_settings_resolve(&o, &s, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(s.access_key_id, "AKID1");
    CU_ASSERT_PTR_NOT_NULL(strstr(s.source, "profile \"default\""));
    sesp_aws_settings_free(&s);
    CU_ASSERT_PTR_NOT_NULL(strstr(S->reqs[0].body, "role%2Ffrom-profile"));
    CU_ASSERT_PTR_NOT_NULL(strstr(S->reqs[0].body, "RoleSessionName=sesp-"));

    /* STS refuses the token: its code and message, never the token */
    reset();
    web_identity_env();
    char bad[320];
    snprintf(bad, sizeof(bad), "%s.bad", tokfile);
    write_file(bad, "NOTTHEWEBTOKEN\n");
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", bad, 1);
    CU_ASSERT_EQUAL(resolve(&s, err, sizeof(err)), SESP_ERR_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "InvalidIdentityToken"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "HTTP 400"));
    CU_ASSERT_PTR_NULL(strstr(err, "NOTTHEWEBTOKEN"));
    /* an oversized or empty token file is refused before any request */
    char *huge = malloc(SESP_AWS_CREDS_TOKEN_FILE_MAX + 10);
    memset(huge, 'A', SESP_AWS_CREDS_TOKEN_FILE_MAX + 9);
    huge[SESP_AWS_CREDS_TOKEN_FILE_MAX + 9] = 0;
    write_file(bad, huge);
    free(huge);
    int before = S->sts;
    CU_ASSERT_EQUAL(resolve(&s, err, sizeof(err)), SESP_ERR_TOO_LARGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a token"));
    write_file(bad, "\n");
    CU_ASSERT_EQUAL(resolve(&s, err, sizeof(err)), SESP_ERR_MALFORMED);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "is empty"));
    CU_ASSERT_EQUAL(S->sts, before);
    unlink(bad);
    /* a token file without a role, and a missing token file */
    unsetenv("AWS_ROLE_ARN");
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tokfile, 1);
    CU_ASSERT_EQUAL(resolve(&s, err, sizeof(err)), SESP_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "AWS_ROLE_ARN"));
    setenv("AWS_ROLE_ARN", "arn:aws:iam::1:role/x", 1);
    setenv("AWS_WEB_IDENTITY_TOKEN_FILE", "/nonexistent/token", 1);
    CU_ASSERT_EQUAL(resolve(&s, err, sizeof(err)), SESP_ERR_IO);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/token"));
}

static void test_container(void)
{
    sesp_aws_settings s;
    char err[2048];
    reset();
    container_env();
    CU_ASSERT_EQUAL_FATAL(resolve(&s, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(s.access_key_id, "AKID1");
    CU_ASSERT_STRING_EQUAL(s.session_token, "TOKEN1");
    CU_ASSERT_PTR_NOT_NULL(strstr(s.source, "container credentials"));
    sesp_aws_settings_free(&s);
    CU_ASSERT_EQUAL(S->container, 1);
    CU_ASSERT_STRING_EQUAL(S->reqs[0].auth, "AUTHTOKEN");
    CU_ASSERT_STRING_EQUAL(S->reqs[0].path, "/creds/v1");

    /* the token file wins over the variable (EKS Pod Identity rotates it) */
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "WRONG", 1);
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", authfile, 1);
    CU_ASSERT_EQUAL_FATAL(resolve(&s, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(s.access_key_id, "AKID2");
    sesp_aws_settings_free(&s);
    /* a wrong token: the status, never the token */
    unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    CU_ASSERT_EQUAL(resolve(&s, err, sizeof(err)), SESP_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "HTTP 401"));
    CU_ASSERT_PTR_NULL(strstr(err, "WRONG"));
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "AUTH\r\nX-Evil: 1", 1);
    CU_ASSERT_EQUAL(resolve(&s, err, sizeof(err)), SESP_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "line break"));
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "AUTHTOKEN", 1);

    /* plain http only to loopback or the ECS/EKS agents */
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/creds", 1);
    CU_ASSERT_EQUAL(resolve(&s, err, sizeof(err)), SESP_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not allowed"));
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1.example.com/creds", 1);
    CU_ASSERT_EQUAL(resolve(&s, err, sizeof(err)), SESP_ERR_INVALID_ARG);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "ftp://127.0.0.1/creds", 1);
    CU_ASSERT_EQUAL(resolve(&s, err, sizeof(err)), SESP_ERR_INVALID_ARG);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "not a url", 1);
    CU_ASSERT_EQUAL(resolve(&s, err, sizeof(err)), SESP_ERR_INVALID_ARG);
    /* a relative URI goes to the ECS agent's address and wins over FULL_URI */
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url(1, "/creds/v1"), 1);
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "no-slash", 1);
    CU_ASSERT_EQUAL(resolve(&s, err, sizeof(err)), SESP_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "RELATIVE_URI"));
}

static void test_imds(void)
{
    sesp_aws_settings s;
    char err[2048];
    reset();
    imds_env();
    CU_ASSERT_EQUAL_FATAL(resolve(&s, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(s.access_key_id, "AKID1");
    CU_ASSERT_STRING_EQUAL(s.secret_access_key, "SECRET1");
    CU_ASSERT_STRING_EQUAL(s.session_token, "TOKEN1");
    CU_ASSERT_PTR_NOT_NULL(strstr(s.source, "EC2 instance metadata"));
    sesp_aws_settings_free(&s);
    /* IMDSv2: a session token first, then both GETs carry it */
    CU_ASSERT_EQUAL_FATAL(S->imds, 3);
    CU_ASSERT_STRING_EQUAL(S->reqs[0].method, "PUT");
    CU_ASSERT_STRING_EQUAL(S->reqs[0].imds_ttl, "21600");
    CU_ASSERT_STRING_EQUAL(S->reqs[1].path, "/latest/meta-data/iam/security-credentials/");
    CU_ASSERT_STRING_EQUAL(S->reqs[1].imds_token, "IMDSSESSIONTOKEN");
    CU_ASSERT_STRING_EQUAL(S->reqs[2].path, "/latest/meta-data/iam/security-credentials/sesp-role");
    CU_ASSERT_STRING_EQUAL(S->reqs[2].imds_token, "IMDSSESSIONTOKEN");

    /* an IMDSv1-only service (405 to the token PUT): on without a token, as the SDKs do */
    reset();
    imds_env();
    S->mode = IMDS_V1;
    CU_ASSERT_EQUAL_FATAL(resolve(&s, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(s.access_key_id, "AKID1");
    sesp_aws_settings_free(&s);
    CU_ASSERT_EQUAL(S->imds, 3);
    CU_ASSERT_STRING_EQUAL(S->reqs[2].imds_token, "");

    /* disabled: not asked at all, and the error says so */
    reset();
    imds_env();
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    CU_ASSERT_EQUAL(resolve(&s, err, sizeof(err)), SESP_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "no AWS credentials"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "disabled by AWS_EC2_METADATA_DISABLED"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "s3.anonymous"));
    CU_ASSERT_EQUAL(S->n, 0);
    /* ... anonymous still opens */
    sesp_objstore_opts o = {0};
    o.s3_anonymous = true;
    CU_ASSERT_EQUAL(sesp_aws_settings_resolve(&o, &s, err, sizeof(err)), 0);
    sesp_aws_settings_free(&s);

    /* no role attached, and nothing listening: the chain ends with a clear error */
    reset();
    imds_env();
    S->mode = NO_ROLE;
    CU_ASSERT_EQUAL(resolve(&s, err, sizeof(err)), SESP_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "no IAM role attached"));
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1", 1);
    CU_ASSERT_EQUAL(resolve(&s, err, sizeof(err)), SESP_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "EC2 instance metadata"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "127.0.0.1:1"));
}

static void test_order(void)
{
    sesp_aws_settings s;
    char err[2048];
    /* static keys first: no provider is asked */
    reset();
    web_identity_env();
    container_env();
    imds_env();
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "SECRETENV", 1);
    CU_ASSERT_EQUAL_FATAL(resolve(&s, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(s.access_key_id, "AKIDENV");
    CU_ASSERT_PTR_NULL(s.provider);
    sesp_aws_settings_free(&s);
    CU_ASSERT_EQUAL(S->n, 0);
    /* ... also from the shared files */
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    write_file(cred_path, "[default]\naws_access_key_id = AKIDFILE\naws_secret_access_key = SECRETFILE\n");
    CU_ASSERT_EQUAL_FATAL(resolve(&s, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(s.access_key_id, "AKIDFILE");
    sesp_aws_settings_free(&s);
    CU_ASSERT_EQUAL(S->n, 0);
    unlink(cred_path);
    /* then web identity before the container and IMDS */
    CU_ASSERT_EQUAL_FATAL(resolve(&s, err, sizeof(err)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(s.source, "web identity"));
    sesp_aws_settings_free(&s);
    CU_ASSERT(S->sts == 1 && S->container == 0 && S->imds == 0);
    /* then the container before IMDS */
    unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");
    CU_ASSERT_EQUAL_FATAL(resolve(&s, err, sizeof(err)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(s.source, "container"));
    sesp_aws_settings_free(&s);
    CU_ASSERT(S->sts == 1 && S->container == 1 && S->imds == 0);
    /* a configured provider that fails is the answer: no fall-through to IMDS */
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "WRONG", 1);
    CU_ASSERT_NOT_EQUAL(resolve(&s, err, sizeof(err)), 0);
    CU_ASSERT(S->imds == 0);
    /* IMDS last */
    unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    CU_ASSERT_EQUAL_FATAL(resolve(&s, err, sizeof(err)), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(s.source, "EC2 instance metadata"));
    sesp_aws_settings_free(&s);
    CU_ASSERT_EQUAL(S->imds, 3);
}

/* Every provider, every fault: an error naming the fault, no crash, no secret. */
static void test_bad_answers(void)
{
    static const struct { int mode; const char *says; } faults[] = {
        {MALFORMED, NULL}, {OVERSIZED, "over 65536 bytes"}, {TRUNCATED, NULL}, {FAIL500, "HTTP 500"},
        {BAD_EXPIRY, "bad Expiration"}, {NOT_JSON, NULL}, {MULTILINE, NULL},
    };
    static const char *const malformed_says[] = {"no usable SecretAccessKey", "SecretAccessKey is not a string", "SecretAccessKey is not a string"};
    static const char *const multiline_says[] = {"no usable SessionToken", "Token is not a credential value", "Token is not a credential value"};
    static const char *const cut_says[] = {"no complete <Credentials>", "not a JSON object", "not a JSON object"};
    for (int prov = 0; prov < 3; prov++) {
        for (size_t f = 0; f < sizeof(faults) / sizeof(faults[0]); f++) {
            sesp_aws_settings s;
            char err[2048];
            reset();
            if (prov == 0) web_identity_env();
            else if (prov == 1) container_env();
            else imds_env();
            S->mode = faults[f].mode;
            int rc = resolve(&s, err, sizeof(err));
            CU_ASSERT_NOT_EQUAL(rc, 0);
            if (!rc) { sesp_aws_settings_free(&s); continue; }
            const char *says = faults[f].says ? faults[f].says
                             : faults[f].mode == MALFORMED ? malformed_says[prov]
                             : faults[f].mode == NOT_JSON ? cut_says[prov]
                             : faults[f].mode == MULTILINE ? multiline_says[prov] : NULL;
            if (says && !strstr(err, says)) fprintf(stderr, "provider %d fault %d: want \"%s\" in: %s\n", prov, faults[f].mode, says, err);
            if (says) CU_ASSERT_PTR_NOT_NULL(strstr(err, says));
            if (faults[f].mode == TRUNCATED) CU_ASSERT(strstr(err, "partial") || strstr(err, "not a JSON object") || strstr(err, "Credentials"));
            /* IMDS failures end the chain with "no credentials", the rest name themselves */
            CU_ASSERT_PTR_NOT_NULL(strstr(err, prov == 0 ? "web identity" : prov == 1 ? "container credentials" : "EC2 instance metadata"));
            assert_no_secret(err);
        }
    }
}

static sesp_objstore *open_store(int64_t margin_ms)
{
    static char endpoint[64];
    snprintf(endpoint, sizeof(endpoint), "http://127.0.0.1:%d", S->port);
    sesp_objstore_opts o = {0};
    o.s3_endpoint = endpoint;
    o.s3_region = "us-east-1";
    o.max_attempts = 1;
    o.s3_credentials_refresh_margin_ms = (long)margin_ms;
    sesp_objstore *st = NULL;
    int rc = sesp_objstore_open("s3://bucket/t", &o, &st);
    CU_ASSERT_EQUAL(rc, 0);
    return rc ? NULL : st;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static void test_s3_signed_and_refreshed(void)
{
    /* end to end: a put signed with the container's keys and token */
    reset();
    container_env();
    sesp_objstore *st = open_store(0);
    CU_ASSERT_FATAL(st != NULL);
    CU_ASSERT_EQUAL(sesp_objstore_put(st, "a.json", "{}", 2), 0);
    if (S->sig_problem[0]) fprintf(stderr, "signature: %s\n", S->sig_problem);
    CU_ASSERT_EQUAL(S->s3_ok, 1);
    CU_ASSERT_STRING_EQUAL(S->reqs[S->n - 1].sec_token, "TOKEN1");
    CU_ASSERT_PTR_NOT_NULL(strstr(S->reqs[S->n - 1].auth, "Credential=AKID1/"));
    sesp_objstore_close(st);

    /* credentials 5 s from expiry with a 2 s margin: used, then refreshed */
    reset();
    container_env();
    S->ttl_s = 5;
    st = open_store(2000);
    CU_ASSERT_FATAL(st != NULL);
    CU_ASSERT_EQUAL(sesp_objstore_put(st, "b.json", "1", 1), 0);
    CU_ASSERT_EQUAL(sesp_objstore_put(st, "b.json", "2", 1), 0);
    CU_ASSERT_EQUAL(S->container, 1);
    CU_ASSERT_PTR_NOT_NULL(strstr(S->reqs[S->n - 1].auth, "Credential=AKID1/"));
    sleep_ms(3100);
    CU_ASSERT_EQUAL(sesp_objstore_put(st, "b.json", "3", 1), 0);
    CU_ASSERT_EQUAL(S->container, 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(S->reqs[S->n - 1].auth, "Credential=AKID2/"));
    CU_ASSERT_STRING_EQUAL(S->reqs[S->n - 1].sec_token, "TOKEN2");
    CU_ASSERT_EQUAL(S->s3_ok, 3);

    /* the endpoint fails while AKID2 is still valid: AKID2 goes on */
    S->mode = FAIL500;
    sleep_ms(3100);
    CU_ASSERT_EQUAL(sesp_objstore_put(st, "b.json", "4", 1), 0);
    CU_ASSERT(S->container > 2);
    CU_ASSERT_PTR_NOT_NULL(strstr(S->reqs[S->n - 1].auth, "Credential=AKID2/"));
    CU_ASSERT_EQUAL(S->s3_ok, 4);
    /* ... until they expire: then the request is refused with the reason */
    sleep_ms(2300);
    int before = S->s3;
    CU_ASSERT_NOT_EQUAL(sesp_objstore_put(st, "b.json", "5", 1), 0);
    const char *e = sesp_objstore_error(st);
    CU_ASSERT_PTR_NOT_NULL(strstr(e, "expired"));
    CU_ASSERT_PTR_NOT_NULL(strstr(e, "HTTP 500"));
    assert_no_secret(e);
    CU_ASSERT_EQUAL(S->s3, before);
    /* and the endpoint back: new credentials, requests work again */
    S->mode = OK;
    sleep_ms(1100);
    CU_ASSERT_EQUAL(sesp_objstore_put(st, "b.json", "6", 1), 0);
    CU_ASSERT_EQUAL(S->s3_ok, 5);
    sesp_objstore_close(st);
}

/* Several threads over one cache: one refresh, everyone signs with valid keys. */
typedef struct worker { sesp_aws_creds_cache *c; int bad; } worker;

static void *work(void *arg)
{
    worker *w = arg;
    for (int i = 0; i < 200; i++) {
        sesp_aws_creds cr;
        char err[512];
        if (sesp_aws_creds_cache_get(w->c, &cr, err, sizeof(err))) { w->bad++; continue; }
        /* a key and its secret come from the same fetch */
        if (strncmp(cr.access_key_id, "AKID", 4) || strcmp(cr.access_key_id + 4, cr.secret_access_key + 6)) w->bad++;
        sesp_aws_creds_free(&cr);
        if (i % 50 == 0) sleep_ms(5);
    }
    return NULL;
}

static void test_cache_threads(void)
{
    reset();
    container_env();
    S->ttl_s = 2;
    sesp_aws_settings s;
    char err[2048];
    CU_ASSERT_EQUAL_FATAL(resolve(&s, err, sizeof(err)), 0);
    sesp_aws_creds first = {.access_key_id = s.access_key_id, .secret_access_key = s.secret_access_key,
                            .session_token = s.session_token, .expires_ms = s.expires_ms};
    sesp_aws_creds_cache *c = NULL;
    CU_ASSERT_EQUAL_FATAL(sesp_aws_creds_cache_new(s.provider, &first, 60000, &c), 0);
    s.provider = NULL;
    s.access_key_id = s.secret_access_key = s.session_token = NULL;
    sesp_aws_settings_free(&s);
    sleep_ms(1200);   /* past half the life: due */
    worker w[4] = {{c, 0}, {c, 0}, {c, 0}, {c, 0}};
    pthread_t th[4];
    for (int i = 0; i < 4; i++) pthread_create(&th[i], NULL, work, &w[i]);
    for (int i = 0; i < 4; i++) pthread_join(th[i], NULL);
    for (int i = 0; i < 4; i++) CU_ASSERT_EQUAL(w[i].bad, 0);
    CU_ASSERT_EQUAL(sesp_aws_creds_cache_refreshes(c), 1);
    sesp_aws_creds_cache_free(c);
}

typedef struct getter { sesp_aws_creds_cache *c; char akid[32]; int rc; } getter;

static void *get_one(void *arg)
{
    getter *g = arg;
    sesp_aws_creds cr;
    char err[512];
    if (!(g->rc = sesp_aws_creds_cache_get(g->c, &cr, err, sizeof(err)))) {
        snprintf(g->akid, sizeof(g->akid), "%s", cr.access_key_id);
        sesp_aws_creds_free(&cr);
    }
    return NULL;
}

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A slow refresh holds up nobody while the current keys are valid. */
static void test_cache_slow_refresh(void)
{
    reset();
    container_env();
    S->ttl_s = 4;
    sesp_aws_settings s;
    char err[2048];
    CU_ASSERT_EQUAL_FATAL(resolve(&s, err, sizeof(err)), 0);
    sesp_aws_creds first = {.access_key_id = s.access_key_id, .secret_access_key = s.secret_access_key,
                            .session_token = s.session_token, .expires_ms = s.expires_ms};
    sesp_aws_creds_cache *c = NULL;
    CU_ASSERT_EQUAL_FATAL(sesp_aws_creds_cache_new(s.provider, &first, 60000, &c), 0);
    s.provider = NULL;
    s.access_key_id = s.secret_access_key = s.session_token = NULL;
    sesp_aws_settings_free(&s);
    sleep_ms(2100);   /* due (half of a 3-4 s life), still valid for a second or more */
    S->delay_ms = 800;
    getter slow = {c, "", 0}, quick = {c, "", 0};
    pthread_t th;
    pthread_create(&th, NULL, get_one, &slow);
    sleep_ms(150);    /* the refresh is under way */
    int64_t t0 = mono_ms();
    get_one(&quick);
    int64_t took = mono_ms() - t0;
    pthread_join(th, NULL);
    CU_ASSERT_EQUAL(quick.rc, 0);
    CU_ASSERT_STRING_EQUAL(quick.akid, "AKID1");
    CU_ASSERT(took < 400);
    CU_ASSERT_EQUAL(slow.rc, 0);
    CU_ASSERT_STRING_EQUAL(slow.akid, "AKID2");
    CU_ASSERT_EQUAL(sesp_aws_creds_cache_refreshes(c), 1);
    sesp_aws_creds_cache_free(c);
}

int main(void)
{
    snprintf(dir, sizeof(dir), "/tmp/sesp-aws-creds-test-%d", (int)getpid());
    mkdir(dir, 0700);
    snprintf(tokfile, sizeof(tokfile), "%s/web-identity-token", dir);
    snprintf(authfile, sizeof(authfile), "%s/container-auth-token", dir);
    snprintf(conf_path, sizeof(conf_path), "%s/config", dir);
    snprintf(cred_path, sizeof(cred_path), "%s/credentials", dir);
    write_file(tokfile, "WEBTOKEN\n");
    write_file(authfile, "AUTHTOKEN\n");
    srv_start();
    CU_initialize_registry();
    CU_pSuite su = CU_add_suite("aws_creds", NULL, NULL);
    CU_add_test(su, "parse_time", test_parse_time);
    CU_add_test(su, "web_identity", test_web_identity);
    CU_add_test(su, "container", test_container);
    CU_add_test(su, "imds", test_imds);
    CU_add_test(su, "order", test_order);
    CU_add_test(su, "bad_answers", test_bad_answers);
    CU_add_test(su, "s3_signed_and_refreshed", test_s3_signed_and_refreshed);
    CU_add_test(su, "cache_threads", test_cache_threads);
    CU_add_test(su, "cache_slow_refresh", test_cache_slow_refresh);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned fails = CU_get_number_of_failures();
    CU_cleanup_registry();
    srv_stop();
    unlink(tokfile);
    unlink(authfile);
    unlink(conf_path);
    unlink(cred_path);
    rmdir(dir);
    return fails ? 1 : 0;
}
