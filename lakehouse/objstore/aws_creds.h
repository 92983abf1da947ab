/*
 * Private to lakehouse/objstore (and its unit tests): the AWS credential
 * providers that hand out temporary credentials at run time, tried after the
 * static sources of aws_config.h (store options, environment, shared files)
 * found no keys, in the order of the AWS SDKs' default chain:
 *   1. web identity (EKS IRSA): AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN
 *      (+ AWS_ROLE_SESSION_NAME), else web_identity_token_file / role_arn /
 *      role_session_name in the profile; the token file is read on every
 *      fetch (EKS rotates it) and exchanged with STS AssumeRoleWithWebIdentity
 *      (an unsigned POST to https://sts.REGION.amazonaws.com, or s3.sts-endpoint,
 *      AWS_ENDPOINT_URL_STS, AWS_ENDPOINT_URL);
 *   2. container credentials (ECS, EKS Pod Identity):
 *      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on http://169.254.170.2), else
 *      AWS_CONTAINER_CREDENTIALS_FULL_URI, which must be https or name a
 *      loopback host or one of the ECS/EKS agent addresses (169.254.170.2,
 *      169.254.170.23, fd00:ec2::23), as the SDKs require;
 *      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (read on every fetch), else
 *      AWS_CONTAINER_AUTHORIZATION_TOKEN, is sent as the Authorization header;
 *   3. EC2 instance metadata (IMDSv2): a session token from PUT
 *      /latest/api/token, then the role name and its credentials under
 *      /latest/meta-data/iam/security-credentials/ on http://169.254.169.254
 *      (AWS_EC2_METADATA_SERVICE_ENDPOINT); AWS_EC2_METADATA_DISABLED=true
 *      skips it.  Timeouts are short (1 s to connect) so a machine outside
 *      EC2 does not hang.
 * A provider that is configured (1 or 2) and fails is an error, as in the
 * SDKs: falling through to another identity would hide the misconfiguration.
 * Every response is untrusted: bounded in size and parsed field by field.
 * Secrets (keys, tokens) never reach an error message.
 */
#ifndef SESP_AWS_CREDS_H
#define SESP_AWS_CREDS_H

#include <stddef.h>
#include <stdint.h>

#define SESP_AWS_CREDS_BODY_MAX (64u << 10)       /* STS/container/IMDS answers are a few KiB */
#define SESP_AWS_CREDS_TOKEN_FILE_MAX (64u << 10)  /* a web identity JWT is a few KiB */
#define SESP_AWS_CREDS_DEFAULT_MARGIN_MS (5 * 60 * 1000)

typedef struct sesp_aws_creds {
    char *access_key_id;
    char *secret_access_key;
    char *session_token;      /* NULL for long-term keys */
    int64_t expires_ms;       /* Unix ms; 0 = does not expire */
} sesp_aws_creds;

void sesp_aws_creds_free(sesp_aws_creds *c);
/* Deep copy; 0 or SESP_ERR_NOMEM. */
int sesp_aws_creds_copy(const sesp_aws_creds *from, sesp_aws_creds *to);

/* What the runtime providers need from the resolved settings (borrowed). */
typedef struct sesp_aws_chain_cfg {
    const char *region;                  /* for the STS endpoint */
    const char *sts_endpoint;            /* NULL: https://sts.REGION.amazonaws.com */
    const char *web_identity_token_file; /* from the environment or the profile */
    const char *role_arn;
    const char *role_session_name;       /* NULL: sesp-<ms> */
    const char *web_identity_from;       /* for messages: "the environment", "profile \"x\"" */
} sesp_aws_chain_cfg;

typedef struct sesp_aws_provider sesp_aws_provider;

/* Runs the chain.  0: *out is the provider that answered and *creds its first
 * credentials.  SESP_ERR_NOT_FOUND: no provider applies, err lists each one
 * and why it did not ("..., EC2 instance metadata (...)"), to be appended to
 * the static sources' message.  Anything else: a configured provider failed,
 * err says which and why. */
int sesp_aws_chain_resolve(const sesp_aws_chain_cfg *cfg, sesp_aws_provider **out, sesp_aws_creds *creds,
                           char *err, size_t errcap);
/* Fetches fresh credentials from the provider (network). */
int sesp_aws_provider_fetch(sesp_aws_provider *p, sesp_aws_creds *out, char *err, size_t errcap);
/* "web identity (STS AssumeRoleWithWebIdentity, role ARN)", "container credentials (URL)", ... */
const char *sesp_aws_provider_name(const sesp_aws_provider *p);
void sesp_aws_provider_free(sesp_aws_provider *p);

/* Credentials shared by the threads using one store, refreshed from their
 * provider before they expire: when less than min(margin, half their
 * lifetime) is left, the next get fetches new ones.  One thread fetches at
 * a time, without holding the lock: the others go on with the current
 * credentials while they are valid, and wait for the fetch once they are
 * not.  A failed refresh keeps the old credentials while they are valid
 * (and waits a second before trying again); past their expiry get fails with
 * the refresh's error. */
typedef struct sesp_aws_creds_cache sesp_aws_creds_cache;

/* Takes ownership of p and of *first (emptied). margin_ms 0 = 5 minutes. */
int sesp_aws_creds_cache_new(sesp_aws_provider *p, sesp_aws_creds *first, int64_t margin_ms,
                             sesp_aws_creds_cache **out);
/* A copy of the current credentials (refreshed first when due) in *out. */
int sesp_aws_creds_cache_get(sesp_aws_creds_cache *c, sesp_aws_creds *out, char *err, size_t errcap);
/* How many fetches ran since the cache was made (tests, diagnostics). */
int sesp_aws_creds_cache_refreshes(sesp_aws_creds_cache *c);
void sesp_aws_creds_cache_free(sesp_aws_creds_cache *c);

/* "2026-11-29T04:05:06Z" or with fractional seconds to Unix ms: 0 or
 * SESP_ERR_MALFORMED (exposed for the unit tests). */
int sesp_aws_parse_time(const char *s, int64_t *ms);

#endif
