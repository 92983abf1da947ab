/*
 * Private to lakehouse/objstore (and its unit tests): where the S3 backend
 * gets its credentials, region, endpoint and addressing style, the way the
 * AWS CLI and SDKs do.  Each setting is taken from the first of
 *   1. the store options (s3.access-key-id, s3.region, ...),
 *   2. the environment (AWS_ACCESS_KEY_ID, AWS_REGION, AWS_ENDPOINT_URL, ...),
 *   3. the shared credentials file (AWS_SHARED_CREDENTIALS_FILE, default
 *      ~/.aws/credentials), section [NAME],
 *   4. the shared config file (AWS_CONFIG_FILE, default ~/.aws/config),
 *      section [profile NAME] ([default] or [profile default] for "default"),
 * where NAME is s3.profile, else AWS_PROFILE, else "default".  Keys found in
 * none of these come from the run-time providers of aws_creds.h, in the
 * SDKs' default chain order: web identity (AWS_WEB_IDENTITY_TOKEN_FILE +
 * AWS_ROLE_ARN, else web_identity_token_file + role_arn in the profile,
 * exchanged with STS), container credentials
 * (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI), then EC2 instance
 * metadata (IMDSv2, unless AWS_EC2_METADATA_DISABLED=true); such keys expire,
 * so the settings then carry their provider for the store to refresh them
 * from.  Naming a
 * profile with the s3.profile option skips the environment's keys, as an
 * SDK does for a profile chosen in code.  The files are read with a small
 * bounded INI parser; their contents (secrets) never reach an error message.
 */
#ifndef SESP_AWS_CONFIG_H
#define SESP_AWS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "objstore.h"

#define SESP_AWS_INI_MAX_LINE 16384          /* session tokens run to a few KiB */
#define SESP_AWS_INI_MAX_FILE (1u << 20)

/* Looks key up in section of the INI text [text, text+len).  section is the
 * text between the brackets with runs of blanks squeezed to one ("profile
 * dev"); key is case-insensitive, "parent.child" names a sub-property
 * (`s3 =` followed by indented `addressing_style = path`); key NULL asks
 * whether the section exists at all.  A key set twice keeps the last value.
 * Comment lines start with '#' or ';', as does anything after a blank in a
 * value; lines that are neither sections nor properties are skipped.  0 and a
 * malloc'ed *value (NULL when key is NULL), SESP_ERR_NOT_FOUND, or
 * SESP_ERR_TOO_LARGE with *bad_line set for a line over SESP_AWS_INI_MAX_LINE. */
int sesp_aws_ini_get(const char *text, size_t len, const char *section, const char *key, char **value,
                     int *bad_line);

typedef struct sesp_aws_settings {
    char *access_key_id;      /* NULL with anonymous */
    char *secret_access_key;
    char *session_token;      /* may be NULL */
    char *region;             /* never NULL after resolve: us-east-1 by default */
    char *endpoint;           /* NULL: AWS itself */
    int path_style;           /* as sesp_objstore_opts.s3_path_style */
    bool anonymous;           /* unsigned requests (s3.anonymous=true) */
    char source[256];         /* where the keys came from, for messages */
    int64_t expires_ms;       /* temporary keys from a provider: Unix ms, 0 = never */
    struct sesp_aws_provider *provider;  /* where to get fresh ones; NULL for static keys */
} sesp_aws_settings;

/* Resolves every setting for opts.  Without static keys this asks the
 * run-time providers (network: STS, the container endpoint, IMDS with a 1 s
 * connect timeout); keys from one come with out->provider and
 * out->expires_ms.  On failure err says what is missing and every place
 * that was looked at (never a secret); give it 2 KiB. */
int sesp_aws_settings_resolve(const sesp_objstore_opts *opts, sesp_aws_settings *out, char *err, size_t errcap);
void sesp_aws_settings_free(sesp_aws_settings *s);

#endif
