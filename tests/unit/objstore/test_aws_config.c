/* Unit tests of the S3 settings resolution (lakehouse/objstore/aws_config.c):
 * the bounded INI parser on its own (comments, blanks, sub-properties,
 * oversize lines), then the order store options > environment > shared
 * credentials file > shared config file for keys, region, endpoint and
 * addressing style, profile selection, and the errors when nothing is found,
 * which must name where they looked and never a secret.  Every test runs
 * with HOME pointing at a fresh directory and the AWS_* variables cleared. */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/err.h"
#include "lakehouse/objstore/aws_config.h"
#include "lakehouse/objstore/objstore.h"

static char home[128], cred_path[300], conf_path[300];

static const char *const VARS[] = {
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
    "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "SESP_S3_ENDPOINT",
    "AWS_S3_FORCE_PATH_STYLE", "AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE",
    "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN", "AWS_ROLE_SESSION_NAME",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_EC2_METADATA_SERVICE_ENDPOINT", "AWS_ENDPOINT_URL_STS", NULL,
};

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    CU_ASSERT_FATAL(f != NULL);
    fputs(text, f);
    fclose(f);
}

/* a clean slate: no variables, no files */
static void reset(void)
{
    for (int i = 0; VARS[i]; i++) unsetenv(VARS[i]);
    /* the run-time providers are test_aws_creds' business: no IMDS probe here */
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    setenv("HOME", home, 1);
    unlink(cred_path);
    unlink(conf_path);
}

static char *get(const char *text, const char *section, const char *key)
{
    char *v = NULL;
    int rc = sesp_aws_ini_get(text, strlen(text), section, key, &v, NULL);
    CU_ASSERT(rc == 0 || rc == SESP_ERR_NOT_FOUND);
    return v;
}

#define CHECK_STR(got, want)                                                   \
    do {                                                                       \
        char *g_ = (got);                                                      \
        const char *w_ = (want);                                               \
        if (w_) { CU_ASSERT(g_ && !strcmp(g_, w_)); }                          \
        else { CU_ASSERT_PTR_NULL(g_); }                                       \
        if (w_ && (!g_ || strcmp(g_, w_))) fprintf(stderr, "got %s want %s\n", g_ ? g_ : "(null)", w_); \
        free(g_);                                                              \
    } while (0)

static void test_ini_parser(void)
{
    const char *t =
        "# a comment\n"
        "; another\n"
        "\n"
        "[default]\n"
        "aws_access_key_id = AKIDDEFAULT\n"
        "  \t\n"
        "aws_secret_access_key=se#cr;et   # trailing comment\n"
        "region = eu-west-1 ; comment\n"
        "Region_Upper = x\n"
        "this line has no equals sign\n"
        "unknown_key = ignored\n"
        "[profile   dev]   ; comment after a section\n"
        "region = us-west-2\r\n"
        "s3 =\n"
        "  addressing_style = virtual\n"
        "  endpoint_url = http://dev.example\n"
        "other =\n"
        "  addressing_style = path\n"
        "region = ap-south-1\n"
        "[services mine]\n"
        "s3 =\n"
        "  endpoint_url = http://svc.example:9000\n"
        "[default]\n"
        "empty =\n"
        "last = no newline at the end";
    CHECK_STR(get(t, "default", "aws_access_key_id"), "AKIDDEFAULT");
    CHECK_STR(get(t, "default", "aws_secret_access_key"), "se#cr;et");   /* '#' needs a blank before it */
    CHECK_STR(get(t, "default", "region"), "eu-west-1");
    CHECK_STR(get(t, "default", "REGION_upper"), "x");                   /* keys are case-insensitive */
    CHECK_STR(get(t, "default", "unknown"), NULL);
    CHECK_STR(get(t, "default", "empty"), "");
    CHECK_STR(get(t, "default", "last"), "no newline at the end");       /* sections may repeat */
    CHECK_STR(get(t, "profile dev", "region"), "ap-south-1");            /* the last value wins, CR dropped */
    CHECK_STR(get(t, "profile dev", "s3.addressing_style"), "virtual");
    CHECK_STR(get(t, "profile dev", "s3.endpoint_url"), "http://dev.example");
    CHECK_STR(get(t, "profile dev", "addressing_style"), NULL);          /* sub-properties are not top-level */
    CHECK_STR(get(t, "services mine", "s3.endpoint_url"), "http://svc.example:9000");
    CHECK_STR(get(t, "dev", "region"), NULL);                            /* [profile dev] is not [dev] */
    CU_ASSERT_EQUAL(sesp_aws_ini_get(t, strlen(t), "profile dev", NULL, NULL, NULL), 0);
    CU_ASSERT_EQUAL(sesp_aws_ini_get(t, strlen(t), "profile nope", NULL, NULL, NULL), SESP_ERR_NOT_FOUND);
    /* a length, not a NUL, bounds the text */
    char *v = NULL;
    CU_ASSERT_EQUAL(sesp_aws_ini_get("[a]\nk = v1\nk = v2\n", 11, "a", "k", &v, NULL), 0);
    CU_ASSERT(v && !strcmp(v, "v1"));
    free(v);

    /* an oversize line is refused with its number, wherever it is */
    size_t n = SESP_AWS_INI_MAX_LINE + 64;
    char *big = malloc(n + 64);
    int off = snprintf(big, 64, "[default]\nregion = x\nk = ");
    memset(big + off, 'a', n);
    big[off + n] = 0;
    int line = 0;
    v = NULL;
    CU_ASSERT_EQUAL(sesp_aws_ini_get(big, strlen(big), "default", "region", &v, &line), SESP_ERR_TOO_LARGE);
    CU_ASSERT_EQUAL(line, 3);
    CU_ASSERT_PTR_NULL(v);
    free(big);
}

static int resolve(const sesp_objstore_opts *o, sesp_aws_settings *s, char *err, size_t cap)
{
    return sesp_aws_settings_resolve(o, s, err, cap);
}

static const char *CRED =
    "[default]\n"
    "aws_access_key_id = AKIDCRED\n"
    "aws_secret_access_key = SECRETCRED\n"
    "aws_session_token = TOKENCRED\n"
    "[dev]\n"
    "aws_access_key_id = AKIDDEVCRED\n"
    "aws_secret_access_key = SECRETDEVCRED\n";

static const char *CONF =
    "[default]\n"
    "aws_access_key_id = AKIDCONF\n"
    "aws_secret_access_key = SECRETCONF\n"
    "region = eu-central-1\n"
    "[profile dev]\n"
    "region = us-west-2\n"
    "endpoint_url = http://global.example\n"
    "services = local\n"
    "s3 =\n"
    "  addressing_style = virtual\n"
    "[dev]\n"
    "region = never-read\n"
    "[profile onlyconf]\n"
    "aws_access_key_id = AKIDONLYCONF\n"
    "aws_secret_access_key = SECRETONLYCONF\n"
    "[services local]\n"
    "s3 =\n"
    "  endpoint_url = http://s3.local.example:9000\n";

static void test_precedence(void)
{
    sesp_objstore_opts o = {0};
    sesp_aws_settings s;
    char err[1024];

    /* config file alone */
    reset();
    write_file(conf_path, CONF);
    CU_ASSERT_EQUAL_FATAL(resolve(&o, &s, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(s.access_key_id, "AKIDCONF");
    CU_ASSERT_STRING_EQUAL(s.secret_access_key, "SECRETCONF");
    CU_ASSERT_PTR_NULL(s.session_token);
    CU_ASSERT_STRING_EQUAL(s.region, "eu-central-1");
    CU_ASSERT_PTR_NULL(s.endpoint);
    CU_ASSERT_EQUAL(s.path_style, 0);
    sesp_aws_settings_free(&s);

    /* the credentials file beats the config file, key by key */
    write_file(cred_path, CRED);
    CU_ASSERT_EQUAL_FATAL(resolve(&o, &s, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(s.access_key_id, "AKIDCRED");
    CU_ASSERT_STRING_EQUAL(s.secret_access_key, "SECRETCRED");
    CU_ASSERT_STRING_EQUAL(s.session_token, "TOKENCRED");
    CU_ASSERT_STRING_EQUAL(s.region, "eu-central-1");   /* only the config file has it */
    CU_ASSERT_PTR_NOT_NULL(strstr(s.source, "profile \"default\""));
    sesp_aws_settings_free(&s);

    /* the environment beats both, and its keys come as a set: no file token */
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "SECRETENV", 1);
    setenv("AWS_REGION", "sa-east-1", 1);
    CU_ASSERT_EQUAL_FATAL(resolve(&o, &s, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(s.access_key_id, "AKIDENV");
    CU_ASSERT_STRING_EQUAL(s.secret_access_key, "SECRETENV");
    CU_ASSERT_PTR_NULL(s.session_token);
    CU_ASSERT_STRING_EQUAL(s.region, "sa-east-1");
    CU_ASSERT_STRING_EQUAL(s.source, "environment");
    sesp_aws_settings_free(&s);
    setenv("AWS_SESSION_TOKEN", "TOKENENV", 1);
    unsetenv("AWS_REGION");
    setenv("AWS_DEFAULT_REGION", "ca-central-1", 1);
    CU_ASSERT_EQUAL_FATAL(resolve(&o, &s, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(s.session_token, "TOKENENV");
    CU_ASSERT_STRING_EQUAL(s.region, "ca-central-1");
    sesp_aws_settings_free(&s);

    /* half a key pair in the environment is skipped, as the SDKs do */
    unsetenv("AWS_SECRET_ACCESS_KEY");
    CU_ASSERT_EQUAL_FATAL(resolve(&o, &s, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(s.access_key_id, "AKIDCRED");
    CU_ASSERT_STRING_EQUAL(s.session_token, "TOKENCRED");
    sesp_aws_settings_free(&s);
    setenv("AWS_SECRET_ACCESS_KEY", "SECRETENV", 1);

    /* the store options beat everything */
    o.s3_access_key_id = "AKIDOPT";
    o.s3_secret_access_key = "SECRETOPT";
    o.s3_region = "me-south-1";
    CU_ASSERT_EQUAL_FATAL(resolve(&o, &s, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(s.access_key_id, "AKIDOPT");
    CU_ASSERT_STRING_EQUAL(s.secret_access_key, "SECRETOPT");
    CU_ASSERT_PTR_NULL(s.session_token);
    CU_ASSERT_STRING_EQUAL(s.region, "me-south-1");
    CU_ASSERT_STRING_EQUAL(s.source, "store options");
    sesp_aws_settings_free(&s);
    o.s3_secret_access_key = NULL;   /* half a pair in the options is a mistake */
    CU_ASSERT_EQUAL(resolve(&o, &s, err, sizeof(err)), SESP_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "s3.secret-access-key"));
    o = (sesp_objstore_opts){0};

    /* AWS_PROFILE picks [dev] / [profile dev]; the environment's keys still win */
    setenv("AWS_PROFILE", "dev", 1);
    unsetenv("AWS_DEFAULT_REGION");
    CU_ASSERT_EQUAL_FATAL(resolve(&o, &s, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(s.access_key_id, "AKIDENV");
    CU_ASSERT_STRING_EQUAL(s.region, "us-west-2");
    CU_ASSERT_STRING_EQUAL(s.endpoint, "http://s3.local.example:9000");   /* [services local] before endpoint_url */
    CU_ASSERT_EQUAL(s.path_style, 2);                                     /* s3 = addressing_style = virtual */
    sesp_aws_settings_free(&s);
    /* ... while s3.profile, chosen explicitly, skips them */
    o.s3_profile = "dev";
    CU_ASSERT_EQUAL_FATAL(resolve(&o, &s, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(s.access_key_id, "AKIDDEVCRED");
    CU_ASSERT_STRING_EQUAL(s.secret_access_key, "SECRETDEVCRED");
    CU_ASSERT_PTR_NULL(s.session_token);
    sesp_aws_settings_free(&s);
    o.s3_profile = "onlyconf";
    CU_ASSERT_EQUAL_FATAL(resolve(&o, &s, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(s.access_key_id, "AKIDONLYCONF");
    CU_ASSERT_STRING_EQUAL(s.region, "us-east-1");                        /* the default region */
    sesp_aws_settings_free(&s);
    o.s3_profile = NULL;

    /* endpoints: environment over files, the options over everything, and
     * ignore_configured_endpoint_urls drops all but the options */
    setenv("AWS_ENDPOINT_URL", "http://env-global.example", 1);
    CU_ASSERT_EQUAL_FATAL(resolve(&o, &s, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(s.endpoint, "http://env-global.example");
    sesp_aws_settings_free(&s);
    setenv("AWS_ENDPOINT_URL_S3", "http://env-s3.example", 1);
    CU_ASSERT_EQUAL_FATAL(resolve(&o, &s, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(s.endpoint, "http://env-s3.example");
    sesp_aws_settings_free(&s);
    setenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true", 1);
    CU_ASSERT_EQUAL_FATAL(resolve(&o, &s, err, sizeof(err)), 0);
    CU_ASSERT_PTR_NULL(s.endpoint);
    sesp_aws_settings_free(&s);
    o.s3_endpoint = "http://opt.example";
    CU_ASSERT_EQUAL_FATAL(resolve(&o, &s, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(s.endpoint, "http://opt.example");
    sesp_aws_settings_free(&s);
    o.s3_endpoint = NULL;
    unsetenv("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    unsetenv("AWS_ENDPOINT_URL_S3");
    unsetenv("AWS_ENDPOINT_URL");
    /* the profile's global endpoint_url when it names no services section */
    write_file(conf_path, "[profile dev]\nendpoint_url = http://global.example\n");
    CU_ASSERT_EQUAL_FATAL(resolve(&o, &s, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(s.endpoint, "http://global.example");
    CU_ASSERT_EQUAL(s.path_style, 0);
    sesp_aws_settings_free(&s);
    /* addressing style: AWS_S3_FORCE_PATH_STYLE over the file, the option over both */
    write_file(conf_path, "[profile dev]\ns3 =\n  addressing_style = virtual\n");
    setenv("AWS_S3_FORCE_PATH_STYLE", "true", 1);
    CU_ASSERT_EQUAL_FATAL(resolve(&o, &s, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(s.path_style, 1);
    sesp_aws_settings_free(&s);
    o.s3_path_style = 2;
    CU_ASSERT_EQUAL_FATAL(resolve(&o, &s, err, sizeof(err)), 0);
    CU_ASSERT_EQUAL(s.path_style, 2);
    sesp_aws_settings_free(&s);
    o = (sesp_objstore_opts){0};

    /* the files may be elsewhere, ~/ included */
    reset();
    char alt[300];
    snprintf(alt, sizeof(alt), "%s/alt-creds", home);
    write_file(alt, "[default]\naws_access_key_id=AKIDALT\naws_secret_access_key=SECRETALT\n");
    setenv("AWS_SHARED_CREDENTIALS_FILE", "~/alt-creds", 1);
    CU_ASSERT_EQUAL_FATAL(resolve(&o, &s, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(s.access_key_id, "AKIDALT");
    sesp_aws_settings_free(&s);
    unlink(alt);
    reset();
}

static void test_errors(void)
{
    sesp_objstore_opts o = {0};
    sesp_aws_settings s;
    char err[1024];

    /* nothing anywhere: the message names every place */
    reset();
    CU_ASSERT_EQUAL(resolve(&o, &s, err, sizeof(err)), SESP_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "no AWS credentials"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "s3.access-key-id"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "AWS_ACCESS_KEY_ID"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, cred_path));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, conf_path));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not found"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "s3.anonymous"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "AWS_WEB_IDENTITY_TOKEN_FILE"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "disabled by AWS_EC2_METADATA_DISABLED"));
    CU_ASSERT_PTR_NULL(s.access_key_id);
    /* ... unless unsigned requests are asked for */
    o.s3_anonymous = true;
    CU_ASSERT_EQUAL_FATAL(resolve(&o, &s, err, sizeof(err)), 0);
    CU_ASSERT_PTR_NULL(s.access_key_id);
    CU_ASSERT_STRING_EQUAL(s.region, "us-east-1");
    sesp_aws_settings_free(&s);
    o.s3_anonymous = false;

    /* half a pair in the files: said so, and the secret never printed */
    write_file(cred_path, "[default]\naws_secret_access_key = VERYSECRET\n");
    setenv("AWS_SECRET_ACCESS_KEY", "ENVSECRET", 1);
    CU_ASSERT_EQUAL(resolve(&o, &s, err, sizeof(err)), SESP_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "only one of"));
    CU_ASSERT_PTR_NULL(strstr(err, "VERYSECRET"));
    CU_ASSERT_PTR_NULL(strstr(err, "ENVSECRET"));
    unsetenv("AWS_SECRET_ACCESS_KEY");

    /* a profile asked for by name must exist */
    setenv("AWS_PROFILE", "typo", 1);
    CU_ASSERT_EQUAL(resolve(&o, &s, err, sizeof(err)), SESP_ERR_NOT_FOUND);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "\"typo\""));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "AWS_PROFILE"));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, cred_path));
    unsetenv("AWS_PROFILE");
    o.s3_profile = "x]";
    CU_ASSERT_EQUAL(resolve(&o, &s, err, sizeof(err)), SESP_ERR_INVALID_ARG);
    o.s3_profile = NULL;

    /* an oversize line: the file and the line number, not the text */
    size_t n = SESP_AWS_INI_MAX_LINE + 10;
    char *big = malloc(n + 64);
    int off = snprintf(big, 64, "[default]\naws_secret_access_key = ");
    memset(big + off, 'S', n);
    strcpy(big + off + n, "\n");
    write_file(cred_path, big);
    free(big);
    CU_ASSERT_EQUAL(resolve(&o, &s, err, sizeof(err)), SESP_ERR_TOO_LARGE);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, cred_path));
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "line 2"));
    CU_ASSERT_PTR_NULL(strstr(err, "SSSS"));

    /* not a file */
    setenv("AWS_CONFIG_FILE", home, 1);
    unlink(cred_path);
    CU_ASSERT_EQUAL(resolve(&o, &s, err, sizeof(err)), SESP_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a regular file"));
    reset();

    /* through the store: opening fails with the same explanation */
    sesp_objstore *st = NULL;
    o.s3_endpoint = "http://127.0.0.1:9";
    CU_ASSERT_EQUAL(sesp_objstore_open("s3://bucket/p", &o, &st), SESP_ERR_INVALID_ARG);
    CU_ASSERT_PTR_NULL(st);
    /* and store options set as text reach the resolution */
    CU_ASSERT_EQUAL(sesp_objstore_opts_set(&o, "s3.access-key-id", "AKIDTEXT"), 0);
    CU_ASSERT_EQUAL(sesp_objstore_opts_set(&o, "s3.secret-access-key", "SECRETTEXT"), 0);
    CU_ASSERT_EQUAL(sesp_objstore_opts_set(&o, "s3.session-token", "TOKENTEXT"), 0);
    CU_ASSERT_EQUAL(sesp_objstore_opts_set(&o, "s3.profile", "p1"), 0);
    CU_ASSERT_EQUAL(sesp_objstore_opts_set(&o, "s3.anonymous", "maybe"), SESP_ERR_INVALID_ARG);
    CU_ASSERT_EQUAL(sesp_objstore_opts_set(&o, "s3.anonymous", "false"), 0);
    CU_ASSERT_STRING_EQUAL(o.s3_profile, "p1");
    write_file(conf_path, "[profile p1]\nregion = eu-north-1\n");
    CU_ASSERT_EQUAL_FATAL(resolve(&o, &s, err, sizeof(err)), 0);
    CU_ASSERT_STRING_EQUAL(s.access_key_id, "AKIDTEXT");
    CU_ASSERT_STRING_EQUAL(s.session_token, "TOKENTEXT");
    CU_ASSERT_STRING_EQUAL(s.region, "eu-north-1");
    sesp_aws_settings_free(&s);
    CU_ASSERT_EQUAL(sesp_objstore_open("s3://bucket/p", &o, &st), 0);
    sesp_objstore_close(st);
    reset();
}

int main(void)
{
    snprintf(home, sizeof(home), "/tmp/sesp-aws-config-test-%d", (int)getpid());
    mkdir(home, 0700);
    char dir[200];
    snprintf(dir, sizeof(dir), "%s/.aws", home);
    mkdir(dir, 0700);
    snprintf(cred_path, sizeof(cred_path), "%s/credentials", dir);
    snprintf(conf_path, sizeof(conf_path), "%s/config", dir);
    CU_initialize_registry();
    CU_pSuite su = CU_add_suite("aws_config", NULL, NULL);
    CU_add_test(su, "ini_parser", test_ini_parser);
    CU_add_test(su, "precedence", test_precedence);
    CU_add_test(su, "errors", test_errors);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned fails = CU_get_number_of_failures();
    CU_cleanup_registry();
    unlink(cred_path);
    unlink(conf_path);
    rmdir(dir);
    rmdir(home);
    return fails ? 1 : 0;
}
