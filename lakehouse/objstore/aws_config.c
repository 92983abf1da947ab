/*
 * S3 settings from the store options, the environment and the AWS shared
 * credentials and config files (see aws_config.h for the order).  The INI
 * dialect is the one the AWS SDKs document: [default] / [profile NAME] in the
 * config file, [NAME] in the credentials file, `key = value` properties,
 * indented sub-properties under a property with an empty value (`s3 =`
 * then `  addressing_style = path`), and `[services NAME]` sections holding
 * per-service endpoints.  The parser is bounded (line and file sizes) and
 * tolerant: unknown keys and lines it does not understand are skipped, as the
 * CLI does, because these files are shared with every other AWS tool and
 * carry settings we have no use for.  Values are secrets: error messages name
 * files and line numbers only.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "aws_config.h"
#include "aws_creds.h"

static const char *skip_blank(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t')) p++;
    return p;
}

static const char *trim_end(const char *p, const char *e)
{
    while (e > p && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) e--;
    return e;
}

/* Does the bracketed name [p, e) equal want once blank runs are squeezed? */
static bool section_is(const char *p, const char *e, const char *want)
{
    p = skip_blank(p, e);
    e = trim_end(p, e);
    const char *w = want;
    while (p < e) {
        if (*p == ' ' || *p == '\t') {
            p = skip_blank(p, e);
            if (*w++ != ' ') return false;
            continue;
        }
        if (*w++ != *p++) return false;
    }
    return *w == 0;
}

static bool key_is(const char *p, const char *e, const char *want, size_t wl)
{
    return (size_t)(e - p) == wl && !strncasecmp(p, want, wl);
}

int sesp_aws_ini_get(const char *text, size_t len, const char *section, const char *key, char **value,
                     int *bad_line)
{
    if (value) *value = NULL;
    const char *dot = key ? strchr(key, '.') : NULL;
    size_t kl = key ? (dot ? (size_t)(dot - key) : strlen(key)) : 0;
    const char *sub = dot ? dot + 1 : NULL;
    size_t sl = sub ? strlen(sub) : 0;
    bool in_section = false, found_section = false, in_parent = false;
    const char *vp = NULL, *ve = NULL;
    int line = 0;
    for (const char *p = text, *end = text + len; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        line++;
        if (le - p > SESP_AWS_INI_MAX_LINE) {
            if (bad_line) *bad_line = line;
            return SESP_ERR_TOO_LARGE;
        }
        const char *s = skip_blank(p, le);
        const char *e = trim_end(s, le);
        bool indented = s > p;
        const char *next = nl ? nl + 1 : end;
        if (s == e || *s == '#' || *s == ';') { p = next; continue; }
        if (*s == '[' && !indented) {
            const char *close = memchr(s, ']', (size_t)(e - s));
            in_section = close && section_is(s + 1, close, section);
            found_section |= in_section;
            in_parent = false;
            p = next;
            continue;
        }
        const char *eq = memchr(s, '=', (size_t)(e - s));
        if (!in_section || !eq) { p = next; continue; }
        const char *ke = trim_end(s, eq);
        const char *v = skip_blank(eq + 1, e);
        /* a comment after a value needs a blank before it: secrets may hold
         * '#' or ';' glued to other characters */
        const char *c = v;
        while (c < e && !((*c == '#' || *c == ';') && c > v && (c[-1] == ' ' || c[-1] == '\t'))) c++;
        const char *vend = trim_end(v, c);
        if (indented) {
            /* a sub-property of the last top-level property with an empty value */
            if (in_parent && sub && key_is(s, ke, sub, sl)) { vp = v; ve = vend; }
        } else {
            in_parent = sub && v == vend && key_is(s, ke, key, kl);
            if (!sub && key && key_is(s, ke, key, kl)) { vp = v; ve = vend; }
        }
        p = next;
    }
    if (!key) return found_section ? 0 : SESP_ERR_NOT_FOUND;
    if (!vp) return SESP_ERR_NOT_FOUND;
    if (!(*value = strndup(vp, (size_t)(ve - vp)))) return SESP_ERR_NOMEM;
    return 0;
}

/* ---- resolution ---- */

typedef struct ini_file {
    char path[1024];
    char *text;               /* NULL when the file is absent */
    size_t len;
    const char *state;        /* for messages: "read", "not found" */
} ini_file;

typedef struct resolver {
    const char *profile;
    char cred_section[300], conf_section[300];
    ini_file cred, conf;
    char *err;
    size_t errcap;
} resolver;

static int fail(resolver *r, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(resolver *r, int rc, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->err, r->errcap, fmt, ap);
    va_end(ap);
    return rc;
}

static const char *env(const char *name)
{
    const char *v = getenv(name);
    return v && *v ? v : NULL;
}

/* The file named by env_name (a leading ~/ is the home directory, as the CLI
 * reads it), else ~/.aws/<base>.  An absent file is not an error. */
static int load(resolver *r, ini_file *f, const char *env_name, const char *base)
{
    const char *named = env(env_name), *home = env("HOME");
    f->state = "not found";
    if (named && named[0] == '~' && named[1] == '/' && home) snprintf(f->path, sizeof(f->path), "%s%s", home, named + 1);
    else if (named) snprintf(f->path, sizeof(f->path), "%s", named);
    else if (home) snprintf(f->path, sizeof(f->path), "%s/.aws/%s", home, base);
    else { snprintf(f->path, sizeof(f->path), "~/.aws/%s", base); f->state = "no HOME"; return 0; }
    int rc = 0, fd = open(f->path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT || errno == ENOTDIR) return 0;
        return fail(r, SESP_ERR_IO, "%s: %s", f->path, strerror(errno));
    }
    struct stat st;
    if (fstat(fd, &st)) { rc = fail(r, SESP_ERR_IO, "%s: %s", f->path, strerror(errno)); goto out; }
    if (!S_ISREG(st.st_mode)) { rc = fail(r, SESP_ERR_INVALID_ARG, "%s: not a regular file", f->path); goto out; }
    if (st.st_size > (off_t)SESP_AWS_INI_MAX_FILE) {
        rc = fail(r, SESP_ERR_TOO_LARGE, "%s: over %u bytes, not an AWS config file", f->path, SESP_AWS_INI_MAX_FILE);
        goto out;
    }
    if (!(f->text = malloc((size_t)st.st_size + 1))) { rc = SESP_ERR_NOMEM; goto out; }
    while (f->len < (size_t)st.st_size) {
        ssize_t n = read(fd, f->text + f->len, (size_t)st.st_size - f->len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) { rc = fail(r, SESP_ERR_IO, "%s: %s", f->path, strerror(errno)); goto out; }
        if (n == 0) break;
        f->len += (size_t)n;
    }
    f->text[f->len] = 0;
    f->state = "read";
    /* a line too long for the parser is refused once here, for every lookup */
    int bad = 0;
    if (sesp_aws_ini_get(f->text, f->len, "", NULL, NULL, &bad) == SESP_ERR_TOO_LARGE)
        rc = fail(r, SESP_ERR_TOO_LARGE, "%s: line %d is longer than %d bytes", f->path, bad, SESP_AWS_INI_MAX_LINE);
out:
    close(fd);
    return rc;
}

/* key in the profile: credentials file first, then the config file. */
static int lookup(resolver *r, const char *key, char **out)
{
    *out = NULL;
    int rc = SESP_ERR_NOT_FOUND;
    if (r->cred.text) rc = sesp_aws_ini_get(r->cred.text, r->cred.len, r->cred_section, key, out, NULL);
    if (rc == SESP_ERR_NOT_FOUND && r->conf.text) {
        rc = sesp_aws_ini_get(r->conf.text, r->conf.len, r->conf_section, key, out, NULL);
        /* the config file may also call the default profile [default] */
        if (rc == SESP_ERR_NOT_FOUND && !strcmp(r->profile, "default"))
            rc = sesp_aws_ini_get(r->conf.text, r->conf.len, "default", key, out, NULL);
    }
    return rc == SESP_ERR_NOT_FOUND ? 0 : rc;
}

static bool profile_exists(resolver *r)
{
    if (r->cred.text && !sesp_aws_ini_get(r->cred.text, r->cred.len, r->cred_section, NULL, NULL, NULL)) return true;
    if (!r->conf.text) return false;
    if (!sesp_aws_ini_get(r->conf.text, r->conf.len, r->conf_section, NULL, NULL, NULL)) return true;
    return !strcmp(r->profile, "default") && !sesp_aws_ini_get(r->conf.text, r->conf.len, "default", NULL, NULL, NULL);
}

static int set_str(char **dst, const char *v)
{
    if (!v) return 0;
    return (*dst = strdup(v)) ? 0 : SESP_ERR_NOMEM;
}

static bool truthy(const char *v) { return v && (!strcasecmp(v, "true") || !strcmp(v, "1")); }

static int resolve_endpoint(resolver *r, const sesp_objstore_opts *o, sesp_aws_settings *out)
{
    if (o->s3_endpoint) return set_str(&out->endpoint, o->s3_endpoint);
    char *ignore = NULL;
    int rc = lookup(r, "ignore_configured_endpoint_urls", &ignore);
    bool ign = truthy(env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) || truthy(ignore);
    free(ignore);
    if (rc || ign) return rc;
    const char *e = env("AWS_ENDPOINT_URL_S3");
    if (!e) e = env("AWS_ENDPOINT_URL");
    if (!e) e = env("SESP_S3_ENDPOINT");
    if (e) return set_str(&out->endpoint, e);
    /* a service-specific endpoint ([services NAME] s3 = endpoint_url = ...)
     * before the profile's global one, as the SDKs order them */
    char *services = NULL;
    if ((rc = lookup(r, "services", &services))) return rc;
    if (services && r->conf.text) {
        char sect[300];
        snprintf(sect, sizeof(sect), "services %s", services);
        rc = sesp_aws_ini_get(r->conf.text, r->conf.len, sect, "s3.endpoint_url", &out->endpoint, NULL);
        if (rc == SESP_ERR_NOT_FOUND) rc = 0;
    }
    free(services);
    if (rc || out->endpoint) return rc;
    return lookup(r, "endpoint_url", &out->endpoint);
}

/* Web identity settings (each from the environment, else the profile, as
 * botocore reads them; the environment is skipped when s3.profile names the
 * profile), the STS endpoint, then the chain of aws_creds.h.
 * SESP_ERR_NOT_FOUND with err listing the providers when none applies. */
static int resolve_chain(resolver *r, const sesp_objstore_opts *o, sesp_aws_settings *out, bool env_skipped, char *err,
                         size_t errcap)
{
    static const char *const envs[] = {"AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME"};
    static const char *const keys[] = {"web_identity_token_file", "role_arn", "role_session_name"};
    char *v[3] = {NULL, NULL, NULL}, *ignore = NULL, from[300];
    int rc = 0;
    bool any_env = false;
    for (int i = 0; i < 3; i++) {
        const char *e = env_skipped ? NULL : env(envs[i]);
        if (e) { any_env = true; rc = set_str(&v[i], e); }
        else rc = lookup(r, keys[i], &v[i]);
        if (rc) goto out;
    }
    if (any_env) snprintf(from, sizeof(from), "the environment");
    else snprintf(from, sizeof(from), "profile \"%.200s\"", r->profile);
    const char *sts = o->s3_sts_endpoint;
    if (!sts) {
        if ((rc = lookup(r, "ignore_configured_endpoint_urls", &ignore))) goto out;
        if (!truthy(env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")) && !truthy(ignore)) {
            sts = env("AWS_ENDPOINT_URL_STS");
            if (!sts) sts = env("AWS_ENDPOINT_URL");
        }
    }
    sesp_aws_chain_cfg cfg = {.region = out->region, .sts_endpoint = sts, .web_identity_token_file = v[0],
                              .role_arn = v[1], .role_session_name = v[2], .web_identity_from = from};
    sesp_aws_creds c;
    if ((rc = sesp_aws_chain_resolve(&cfg, &out->provider, &c, err, errcap))) goto out;
    out->access_key_id = c.access_key_id;
    out->secret_access_key = c.secret_access_key;
    out->session_token = c.session_token;
    out->expires_ms = c.expires_ms;
    snprintf(out->source, sizeof(out->source), "%s", sesp_aws_provider_name(out->provider));
out:
    for (int i = 0; i < 3; i++) free(v[i]);
    free(ignore);
    return rc;
}

static int resolve_keys(resolver *r, const sesp_objstore_opts *o, sesp_aws_settings *out, const char *chosen_by)
{
    int rc;
    if (o->s3_access_key_id || o->s3_secret_access_key) {
        if (!o->s3_access_key_id || !o->s3_secret_access_key)
            return fail(r, SESP_ERR_INVALID_ARG, "s3.access-key-id and s3.secret-access-key must be given together");
        snprintf(out->source, sizeof(out->source), "store options");
        if ((rc = set_str(&out->access_key_id, o->s3_access_key_id)) || (rc = set_str(&out->secret_access_key, o->s3_secret_access_key)))
            return rc;
        return set_str(&out->session_token, o->s3_session_token);
    }
    const char *eak = env("AWS_ACCESS_KEY_ID"), *esk = env("AWS_SECRET_ACCESS_KEY");
    bool env_skipped = o->s3_profile != NULL;
    if (!env_skipped && eak && esk) {
        snprintf(out->source, sizeof(out->source), "environment");
        if ((rc = set_str(&out->access_key_id, eak)) || (rc = set_str(&out->secret_access_key, esk))) return rc;
        return set_str(&out->session_token, env("AWS_SESSION_TOKEN"));
    }
    if ((rc = lookup(r, "aws_access_key_id", &out->access_key_id)) ||
        (rc = lookup(r, "aws_secret_access_key", &out->secret_access_key)))
        return rc;
    if (out->access_key_id && out->secret_access_key) {
        snprintf(out->source, sizeof(out->source), "profile \"%.200s\" in the AWS credentials/config files", r->profile);
        return lookup(r, "aws_session_token", &out->session_token);
    }
    bool in_files = out->access_key_id || out->secret_access_key;
    free(out->access_key_id);
    if (out->secret_access_key) explicit_bzero(out->secret_access_key, strlen(out->secret_access_key));
    free(out->secret_access_key);
    out->access_key_id = out->secret_access_key = NULL;

    /* no static keys: the run-time providers, in the SDKs' order */
    char chain_err[1500];
    rc = resolve_chain(r, o, out, env_skipped, chain_err, sizeof(chain_err));
    if (rc != SESP_ERR_NOT_FOUND) {
        if (rc && rc != SESP_ERR_NOMEM) fail(r, rc, "%s", chain_err);
        return rc;
    }
    char envpart[160];
    if (env_skipped) snprintf(envpart, sizeof(envpart), "the environment was not used because s3.profile names a profile");
    else snprintf(envpart, sizeof(envpart), "the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY: %s)",
                  eak || esk ? "only one of them is set" : "not set");
    return fail(r, SESP_ERR_INVALID_ARG,
                "no AWS credentials found: looked in the store options (s3.access-key-id, s3.secret-access-key: not set), "
                "%s, profile \"%s\" (%s) in %s (%s) and in %s (%s)%s, %s; set one of them, or s3.anonymous=true for unsigned requests",
                envpart, r->profile, chosen_by, r->cred.path, r->cred.state, r->conf.path, r->conf.state,
                in_files ? ": the profile has only one of aws_access_key_id and aws_secret_access_key" : "", chain_err);
}

int sesp_aws_settings_resolve(const sesp_objstore_opts *o, sesp_aws_settings *out, char *err, size_t errcap)
{
    memset(out, 0, sizeof(*out));
    resolver r = {.err = err, .errcap = errcap};
    if (errcap) err[0] = 0;
    const char *chosen_by = "s3.profile";
    r.profile = o->s3_profile;
    if (!r.profile && (r.profile = env("AWS_PROFILE"))) chosen_by = "AWS_PROFILE";
    if (!r.profile && (r.profile = env("AWS_DEFAULT_PROFILE"))) chosen_by = "AWS_DEFAULT_PROFILE";
    if (!r.profile) { r.profile = "default"; chosen_by = "the default"; }
    if (strlen(r.profile) > 256 || strpbrk(r.profile, "[]\n\r"))
        return fail(&r, SESP_ERR_INVALID_ARG, "bad AWS profile name (from %s)", chosen_by);
    snprintf(r.cred_section, sizeof(r.cred_section), "%s", r.profile);
    snprintf(r.conf_section, sizeof(r.conf_section), "profile %s", r.profile);

    int rc = 0;
    char *v = NULL;
    if ((rc = load(&r, &r.cred, "AWS_SHARED_CREDENTIALS_FILE", "credentials"))) goto out;
    if ((rc = load(&r, &r.conf, "AWS_CONFIG_FILE", "config"))) goto out;
    /* a profile asked for by name must exist: a typo would otherwise fall
     * back to other credentials silently */
    if (strcmp(chosen_by, "the default") && !profile_exists(&r)) {
        rc = fail(&r, SESP_ERR_NOT_FOUND, "AWS profile \"%s\" (from %s) is in neither %s (%s) nor %s (%s)", r.profile,
                  chosen_by, r.cred.path, r.cred.state, r.conf.path, r.conf.state);
        goto out;
    }

    const char *region = o->s3_region ? o->s3_region : env("AWS_REGION");
    if (!region) region = env("AWS_DEFAULT_REGION");
    if ((rc = set_str(&out->region, region))) goto out;
    if (!out->region && (rc = lookup(&r, "region", &out->region))) goto out;
    if (!out->region && (rc = set_str(&out->region, "us-east-1"))) goto out;

    if ((rc = resolve_endpoint(&r, o, out))) goto out;

    out->path_style = o->s3_path_style;
    const char *fps = env("AWS_S3_FORCE_PATH_STYLE");
    if (out->path_style <= 0 && fps) out->path_style = truthy(fps) ? 1 : 0;
    if (out->path_style <= 0 && !fps) {
        if ((rc = lookup(&r, "s3.addressing_style", &v))) goto out;
        if (v && !strcasecmp(v, "path")) out->path_style = 1;
        else if (v && !strcasecmp(v, "virtual")) out->path_style = 2;
    }

    out->anonymous = o->s3_anonymous;
    if (!out->anonymous) rc = resolve_keys(&r, o, out, chosen_by);
out:
    free(v);
    /* the file texts hold secrets too */
    if (r.cred.text) explicit_bzero(r.cred.text, r.cred.len);
    if (r.conf.text) explicit_bzero(r.conf.text, r.conf.len);
    free(r.cred.text);
    free(r.conf.text);
    if (rc) sesp_aws_settings_free(out);
    return rc;
}

void sesp_aws_settings_free(sesp_aws_settings *s)
{
    /* scrub the secrets before handing the memory back */
    if (s->secret_access_key) explicit_bzero(s->secret_access_key, strlen(s->secret_access_key));
    if (s->session_token) explicit_bzero(s->session_token, strlen(s->session_token));
    free(s->access_key_id);
    free(s->secret_access_key);
    free(s->session_token);
    sesp_aws_provider_free(s->provider);
    s->provider = NULL;
    s->expires_ms = 0;
    free(s->region);
    free(s->endpoint);
    s->access_key_id = s->secret_access_key = s->session_token = s->region = s->endpoint = NULL;
}
