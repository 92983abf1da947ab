/*
 * The `sesp produce|consume|topic` commands run in-process against
 * librdkafka's built-in mock cluster: records produced under every codec come
 * back byte-exactly through --format, start offsets, --count, -e, groups and
 * the error paths (broker down, bad partition, bad arguments) behave.  The
 * mock has no CreateTopics/DescribeConfigs, so topic administration proper is
 * covered by tests/integration/cli against the real broker.
 */
#include <CUnit/Basic.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "clients/cli/cli.h"

static rd_kafka_t *mock_rk;
static rd_kafka_mock_cluster_t *mock;
static char boot[256];
static char dir[] = "/tmp/sesp-cli-unit.XXXXXX";
static char in_path[300], out_path[300];

static int setup(void)
{
    char err[256];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "0", err, sizeof err);
    if (!(mock_rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err)))
        return 1;
    if (!(mock = rd_kafka_mock_cluster_new(mock_rk, 1)))
        return 1;
    snprintf(boot, sizeof boot, "%s", rd_kafka_mock_cluster_bootstraps(mock));
    if (!mkdtemp(dir))
        return 1;
    snprintf(in_path, sizeof in_path, "%s/in", dir);
    snprintf(out_path, sizeof out_path, "%s/out", dir);
    return 0;
}

static int teardown(void)
{
    rd_kafka_mock_cluster_destroy(mock);
    rd_kafka_destroy(mock_rk);
    unlink(in_path);
    unlink(out_path);
    rmdir(dir);
    return 0;
}

static void write_file(const char *path, const void *data, size_t len)
{
    FILE *f = fopen(path, "wb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    CU_ASSERT_EQUAL(fwrite(data, 1, len, f), len);
    fclose(f);
}

/* Runs a command main with argv (NULL-terminated), stdin from `input`, stdout captured. */
static int run(int (*fn)(int, char **), const void *input, size_t in_len, char **out, size_t *out_len, ...)
{
    char *argv[64];
    int argc = 0;
    va_list ap;
    va_start(ap, out_len);
    const char *a;
    while ((a = va_arg(ap, const char *)) && argc < 62)
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;

    write_file(in_path, input ? input : "", in_len);
    CU_ASSERT_PTR_NOT_NULL_FATAL(freopen(in_path, "rb", stdin));
    fflush(stdout);
    int saved = dup(1);
    int fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    CU_ASSERT_FATAL(saved >= 0 && fd >= 0);
    dup2(fd, 1);
    close(fd);
    int rc = fn(argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);

    FILE *f = fopen(out_path, "rb");
    CU_ASSERT_PTR_NOT_NULL_FATAL(f);
    char *buf = NULL;
    size_t cap = 0;
    FILE *m = open_memstream(&buf, &cap);
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        fwrite(chunk, 1, n, m);
    fclose(f);
    fclose(m);
    if (out) {
        *out = buf;
        *out_len = cap;
    } else {
        free(buf);
    }
    return rc;
}

static int cmp_line(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorts the lines of a NUL-free buffer in place (records from several partitions interleave). */
static char *sorted_lines(const char *s)
{
    char *copy = strdup(s), *lines[512], *save = NULL;
    int n = 0;
    for (char *l = strtok_r(copy, "\n", &save); l && n < 512; l = strtok_r(NULL, "\n", &save))
        lines[n++] = l;
    qsort(lines, (size_t)n, sizeof *lines, cmp_line);
    size_t cap = strlen(s) + 2, len = 0;
    char *out = calloc(1, cap);
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(out + len, cap - len, "%s\n", lines[i]);
    free(copy);
    return out;
}

static void test_codecs_roundtrip(void)
{
    const char *codecs[] = {"none", "gzip", "snappy", "lz4", "zstd"};
    const char input[] = "k1::v 1 50%\nk2::\nno separator\nk1::v::with::seps\n\n";
    const char expect[] = "|0|no separator|c=CODEC,h2=x=y\n"
                          "|0||c=CODEC,h2=x=y\n"
                          "k1|2|v 1 50%|c=CODEC,h2=x=y\n"
                          "k1|2|v::with::seps|c=CODEC,h2=x=y\n"
                          "k2|2||c=CODEC,h2=x=y\n";
    for (size_t i = 0; i < sizeof codecs / sizeof codecs[0]; i++) {
        char topic[64], hdr[64];
        snprintf(topic, sizeof topic, "codec-%s", codecs[i]);
        snprintf(hdr, sizeof hdr, "c=%s", codecs[i]);
        CU_ASSERT_EQUAL_FATAL(rd_kafka_mock_topic_create(mock, topic, 3, 1), 0);
        int rc = run(sesp_cli_produce_main, input, strlen(input), NULL, NULL, "produce", topic, "-b", boot,
                     "--key-separator", "::", "-H", hdr, "--header", "h2=x=y", "--compression", codecs[i], NULL);
        CU_ASSERT_EQUAL(rc, 0);
        char *out;
        size_t len;
        rc = run(sesp_cli_consume_main, NULL, 0, &out, &len, "consume", topic, "-b", boot, "--from-beginning",
                 "-e", "--format", "%k|%K|%s|%h\\n", NULL);
        CU_ASSERT_EQUAL(rc, 0);
        char *got = sorted_lines(out);
        /* %K is the key size: -1 for a null key; patch the expectation per codec. */
        char want[512];
        size_t w = 0;
        for (const char *p = expect; *p; p++) {
            if (!strncmp(p, "CODEC", 5)) {
                w += (size_t)snprintf(want + w, sizeof want - w, "%s", codecs[i]);
                p += 4;
            } else if (!strncmp(p, "|0|", 3) && (p == expect || p[-1] == '\n')) {
                w += (size_t)snprintf(want + w, sizeof want - w, "|-1|");
                p += 2;
            } else {
                want[w++] = *p;
            }
        }
        want[w] = '\0';
        char *want_sorted = sorted_lines(want);
        CU_ASSERT_STRING_EQUAL(got, want_sorted);
        if (strcmp(got, want_sorted))
            fprintf(stderr, "codec %s\n got:\n%s want:\n%s", codecs[i], got, want_sorted);
        free(want_sorted);
        free(got);
        free(out);
    }
}

static void test_binary_exact(void)
{
    static const char input[] = {'a', '\0', 'b', '\r', '\n', (char)0xff, (char)0xfe, '\n', '\n', 'l', 'a', 's', 't'};
    /* The last line has no newline: it is still a record, and the default format adds one. */
    static const char want[] = {'a', '\0', 'b', '\r', '\n', (char)0xff, (char)0xfe, '\n', '\n', 'l', 'a', 's', 't', '\n'};
    CU_ASSERT_EQUAL_FATAL(rd_kafka_mock_topic_create(mock, "binary", 1, 1), 0);
    CU_ASSERT_EQUAL(run(sesp_cli_produce_main, input, sizeof input, NULL, NULL, "produce", "binary", "-b", boot, NULL), 0);
    char *out;
    size_t len;
    CU_ASSERT_EQUAL(run(sesp_cli_consume_main, NULL, 0, &out, &len, "consume", "binary", "-b", boot,
                        "--from-beginning", "-e", NULL), 0);
    CU_ASSERT_EQUAL(len, sizeof want);
    CU_ASSERT(len == sizeof want && !memcmp(out, want, len));
    free(out);
}

static void test_offsets_count_partition(void)
{
    CU_ASSERT_EQUAL_FATAL(rd_kafka_mock_topic_create(mock, "offsets", 2, 1), 0);
    const char *in = "v0\nv1\nv2\nv3\nv4\n";
    CU_ASSERT_EQUAL(run(sesp_cli_produce_main, in, strlen(in), NULL, NULL, "produce", "offsets", "-b", boot,
                        "-p", "1", NULL), 0);
    char *out;
    size_t len;
    CU_ASSERT_EQUAL(run(sesp_cli_consume_main, NULL, 0, &out, &len, "consume", "offsets", "-b", boot, "--offset", "3",
                        "-e", "-f", "%p:%o:%s\\n", NULL), 0);
    CU_ASSERT_STRING_EQUAL(out, "1:3:v3\n1:4:v4\n");
    free(out);
    CU_ASSERT_EQUAL(run(sesp_cli_consume_main, NULL, 0, &out, &len, "consume", "offsets", "-b", boot, "-o", "-2",
                        "-e", NULL), 0);
    CU_ASSERT_STRING_EQUAL(out, "v3\nv4\n");
    free(out);
    CU_ASSERT_EQUAL(run(sesp_cli_consume_main, NULL, 0, &out, &len, "consume", "offsets", "-b", boot,
                        "--from-beginning", "-p", "1", "-c", "2", NULL), 0);
    CU_ASSERT_STRING_EQUAL(out, "v0\nv1\n");
    free(out);
    /* Partition 0 is empty: -e still ends, with nothing printed. */
    CU_ASSERT_EQUAL(run(sesp_cli_consume_main, NULL, 0, &out, &len, "consume", "offsets", "-b", boot,
                        "--from-beginning", "--partition", "0", "-e", NULL), 0);
    CU_ASSERT_EQUAL(len, 0);
    free(out);
    /* Default start is the end. */
    CU_ASSERT_EQUAL(run(sesp_cli_consume_main, NULL, 0, &out, &len, "consume", "offsets", "-b", boot, "-e", NULL), 0);
    CU_ASSERT_EQUAL(len, 0);
    free(out);
    /* A partition the topic does not have. */
    CU_ASSERT_EQUAL(run(sesp_cli_consume_main, NULL, 0, NULL, NULL, "consume", "offsets", "-b", boot, "-p", "5",
                        "-e", NULL), 1);
    CU_ASSERT_EQUAL(run(sesp_cli_produce_main, "x\n", 2, NULL, NULL, "produce", "offsets", "-b", boot, "-p", "5",
                        "-X", "message.timeout.ms=3000", NULL), 1);
}

static void test_group(void)
{
    CU_ASSERT_EQUAL_FATAL(rd_kafka_mock_topic_create(mock, "grouped", 2, 1), 0);
    const char *in = "a:1\nb:2\nc:3\nd:4\n";
    CU_ASSERT_EQUAL(run(sesp_cli_produce_main, in, strlen(in), NULL, NULL, "produce", "grouped", "-b", boot, "-K", ":",
                        "--acks", "1", "--idempotent", NULL), 1 /* idempotence needs acks=all */);
    CU_ASSERT_EQUAL(run(sesp_cli_produce_main, in, strlen(in), NULL, NULL, "produce", "grouped", "-b", boot, "-K", ":",
                        "--acks", "all", "--idempotent", NULL), 0);
    char *out;
    size_t len;
    CU_ASSERT_EQUAL(run(sesp_cli_consume_main, NULL, 0, &out, &len, "consume", "grouped", "-b", boot, "-g", "g1",
                        "--from-beginning", "-e", "-f", "%k=%s\\n", NULL), 0);
    char *got = sorted_lines(out);
    CU_ASSERT_STRING_EQUAL(got, "a=1\nb=2\nc=3\nd=4\n");
    free(got);
    free(out);
}

static void test_topic_metadata(void)
{
    CU_ASSERT_EQUAL_FATAL(rd_kafka_mock_topic_create(mock, "listed", 4, 1), 0);
    char *out;
    size_t len;
    CU_ASSERT_EQUAL(run(sesp_cli_topic_main, NULL, 0, &out, &len, "topic", "list", "-b", boot, NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "\nlisted\n") ? strstr(out, "\nlisted\n") : (!strncmp(out, "listed\n", 7) ? out : NULL));
    free(out);
}

static void test_usage_errors(void)
{
    CU_ASSERT_EQUAL(run(sesp_cli_consume_main, NULL, 0, NULL, NULL, "consume", NULL), 2);
    CU_ASSERT_EQUAL(run(sesp_cli_consume_main, NULL, 0, NULL, NULL, "consume", "t", "--format", "%z", NULL), 2);
    CU_ASSERT_EQUAL(run(sesp_cli_consume_main, NULL, 0, NULL, NULL, "consume", "t", "--from-beginning", "-o", "1", NULL), 2);
    CU_ASSERT_EQUAL(run(sesp_cli_consume_main, NULL, 0, NULL, NULL, "consume", "t", "-g", "g", "-p", "1", NULL), 2);
    CU_ASSERT_EQUAL(run(sesp_cli_consume_main, NULL, 0, NULL, NULL, "consume", "t", "--count", "0", NULL), 2);
    CU_ASSERT_EQUAL(run(sesp_cli_produce_main, NULL, 0, NULL, NULL, "produce", "t", "--compression", "brotli", NULL), 2);
    CU_ASSERT_EQUAL(run(sesp_cli_produce_main, NULL, 0, NULL, NULL, "produce", "t", "-H", "novalue", NULL), 2);
    CU_ASSERT_EQUAL(run(sesp_cli_produce_main, NULL, 0, NULL, NULL, "produce", "t", "-X", "no.such.property=1", NULL), 2);
    CU_ASSERT_EQUAL(run(sesp_cli_produce_main, NULL, 0, NULL, NULL, "produce", "t", "--bogus", NULL), 2);
    CU_ASSERT_EQUAL(run(sesp_cli_topic_main, NULL, 0, NULL, NULL, "topic", "frobnicate", NULL), 2);
    CU_ASSERT_EQUAL(run(sesp_cli_topic_main, NULL, 0, NULL, NULL, "topic", "create", NULL), 2);
    CU_ASSERT_EQUAL(run(sesp_cli_topic_main, NULL, 0, NULL, NULL, "topic", "list", "--partitions", "3", NULL), 2);
    CU_ASSERT_EQUAL(run(sesp_cli_topic_main, NULL, 0, NULL, NULL, "topic", "alter", "t", "--config", "novalue", NULL), 2);
    char *out;
    size_t len;
    CU_ASSERT_EQUAL(run(sesp_cli_consume_main, NULL, 0, &out, &len, "consume", "--help", NULL), 0);
    CU_ASSERT_PTR_NOT_NULL(strstr(out, "--from-beginning"));
    free(out);
}

static void test_broker_down(void)
{
    /* Nothing listens on port 1: every command gives up after --timeout with exit 1. */
    CU_ASSERT_EQUAL(run(sesp_cli_topic_main, NULL, 0, NULL, NULL, "topic", "list", "-b", "127.0.0.1:1",
                        "--timeout", "500", NULL), 1);
    CU_ASSERT_EQUAL(run(sesp_cli_produce_main, "x\n", 2, NULL, NULL, "produce", "t", "-b", "127.0.0.1:1",
                        "--timeout", "500", NULL), 1);
    CU_ASSERT_EQUAL(run(sesp_cli_consume_main, NULL, 0, NULL, NULL, "consume", "t", "-b", "127.0.0.1:1",
                        "--timeout", "500", NULL), 1);
}

int main(void)
{
    if (CU_initialize_registry() != CUE_SUCCESS)
        return 1;
    CU_pSuite s = CU_add_suite("cli_mock", setup, teardown);
    CU_add_test(s, "every codec round trip", test_codecs_roundtrip);
    CU_add_test(s, "binary exact", test_binary_exact);
    CU_add_test(s, "offsets, count, partition", test_offsets_count_partition);
    CU_add_test(s, "group", test_group);
    CU_add_test(s, "topic list", test_topic_metadata);
    CU_add_test(s, "usage errors", test_usage_errors);
    CU_add_test(s, "broker down", test_broker_down);
    CU_basic_set_mode(CU_BRM_VERBOSE);
    CU_basic_run_tests();
    unsigned failed = CU_get_number_of_failures();
    CU_cleanup_registry();
    return failed ? 1 : 0;
}
