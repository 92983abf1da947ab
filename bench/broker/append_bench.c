/*
 * The broker's produce path without a client: record batches built here
 * (every codec, 100 B and 1 KiB records, about 1 MiB of records per batch as
 * librdkafka sends with batch.size=1000000) are validated and appended to a
 * partition log with sesp_log_append, the call the Produce handler makes.
 * Reports CPU seconds per GB of record bytes for validation alone and for the
 * whole append (validation, offsets, write into the page cache, indexes).
 * Useful because librdkafka before 2.10 never compresses against a broker
 * whose ApiVersions start Produce at v3, so the client benchmark cannot
 * exercise the codecs.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "broker/log/batch.h"
#include "broker/log/log.h"

static double thread_cpu_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* One batch of n records of size bytes each, text-like so codecs have work. */
static uint8_t *build(int codec, size_t size, int n, uint64_t seed, size_t *len)
{
    sesp_batch_record_in *recs = calloc((size_t)n, sizeof *recs);
    char *vals = malloc(size * (size_t)n);
    for (int i = 0; i < n; i++) {
        char *v = vals + (size_t)i * size;
        for (size_t j = 0; j < size; j++)
            v[j] = (char)('a' + (j * 7 + j / 13 + (size_t)i) % 26);
        seed = seed * 6364136223846793005u + 1442695040888963407u;
        memcpy(v, &seed, size < 8 ? size : 8); /* a little entropy per record */
        recs[i].key_len = -1;
        recs[i].value = v;
        recs[i].value_len = (int32_t)size;
        recs[i].timestamp = 1700000000000 + i;
    }
    sesp_batch_build_opts o;
    sesp_batch_build_opts_init(&o);
    o.codec = codec;
    uint8_t *out = NULL;
    if (sesp_batch_build(&o, recs, n, &out, len) != 0) {
        fprintf(stderr, "cannot build a batch with codec %d\n", codec);
        exit(1);
    }
    free(recs);
    free(vals);
    return out;
}

int main(int argc, char **argv)
{
    double mib = argc > 1 ? atof(argv[1]) : 256; /* record bytes per scenario */
    static const struct { int codec; const char *name; } codecs[] = {
        {SESP_CODEC_NONE, "none"}, {SESP_CODEC_LZ4, "lz4"}, {SESP_CODEC_ZSTD, "zstd"},
        {SESP_CODEC_SNAPPY, "snappy"}, {SESP_CODEC_GZIP, "gzip"},
    };
    static const size_t sizes[] = {100, 1024};
    enum { NB = 8 }; /* distinct batches, cycled */
    char tmpl[] = "/tmp/sesp-append-bench.XXXXXX";
    if (!mkdtemp(tmpl))
        return 1;
    printf("CPU s per GB of record bytes (%.0f MiB per row); wire = batch bytes / record bytes\n", mib);
    printf("%-5s %-6s | %6s | %10s | %10s\n", "size", "codec", "wire", "validate", "append");
    int rc = 0;
    for (size_t si = 0; si < sizeof sizes / sizeof sizes[0]; si++) {
        for (size_t ci = 0; ci < sizeof codecs / sizeof codecs[0]; ci++) {
            size_t size = sizes[si];
            int n = (int)(1000000 / (size + 8)); /* records per ~1 MB batch */
            uint8_t *b[NB];
            size_t bl[NB], wire = 0;
            for (int k = 0; k < NB; k++) {
                b[k] = build(codecs[ci].codec, size, n, (uint64_t)k + 1, &bl[k]);
                wire += bl[k];
            }
            double per_batch = (double)size * n;
            size_t batches = (size_t)(mib * 1048576 / per_batch) + 1;
            /* Validation alone. */
            double c0 = thread_cpu_s();
            for (size_t i = 0; i < batches; i++) {
                sesp_batch_header h;
                if (sesp_batch_validate(b[i % NB], bl[i % NB], 0, &h) != 0) {
                    fprintf(stderr, "validation failed\n");
                    return 1;
                }
            }
            double validate = thread_cpu_s() - c0;
            /* The whole append. */
            char dir[128];
            snprintf(dir, sizeof dir, "%s/t-%zu-%s-0", tmpl, size, codecs[ci].name);
            sesp_log_config cfg;
            sesp_log_config_defaults(&cfg);
            sesp_log *l;
            if (sesp_log_open(dir, &cfg, &l) != 0) {
                fprintf(stderr, "cannot open a log in %s\n", dir);
                return 1;
            }
            c0 = thread_cpu_s();
            for (size_t i = 0; i < batches; i++) {
                sesp_log_append_info info;
                if (sesp_log_append(l, b[i % NB], bl[i % NB], 1700000000000, &info) != 0) {
                    fprintf(stderr, "append failed: %s\n", info.error_message ? info.error_message : "?");
                    rc = 1;
                    break;
                }
            }
            double append = thread_cpu_s() - c0;
            sesp_log_delete(l);
            double gb = per_batch * (double)batches / 1e9;
            printf("%-5zu %-6s | %5.0f%% | %10.3f | %10.3f\n", size, codecs[ci].name,
                   100.0 * (double)wire / (per_batch * NB), validate / gb, append / gb);
            fflush(stdout);
            for (int k = 0; k < NB; k++)
                free(b[k]);
        }
    }
    rmdir(tmpl);
    return rc;
}
