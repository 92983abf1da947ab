/*
 * pq_bench: times SESP's Parquet writer (columnar fast path) and reader.
 *   pq_bench write FILE CODEC NROWS   writes NROWS rows x 8 columns (the same
 *                                     formulas bench.js gives DuckDB) and
 *                                     prints {"seconds":..,"bytes":..};
 *   pq_bench scan FILE                decodes every column chunk and prints
 *                                     {"seconds":..,"rows":..,"checksum":..}.
 * Row generation is excluded from the write time (batches are generated
 * between timed write calls).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "lakehouse/parquet/parquet.h"

#define BATCH 65536

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int codec_of(const char *s, sesp_pq_codec *c)
{
    static const sesp_pq_codec all[] = {SESP_PQ_UNCOMPRESSED, SESP_PQ_SNAPPY, SESP_PQ_GZIP, SESP_PQ_ZSTD,
                                        SESP_PQ_LZ4_RAW};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (strcmp(s, sesp_pq_codec_name(all[i])) == 0) {
            *c = all[i];
            return 0;
        }
    return -1;
}

static int cmd_write(const char *path, const char *codec, long long nrows)
{
    sesp_pq_codec c;
    if (codec_of(codec, &c)) {
        fprintf(stderr, "unknown codec %s\n", codec);
        return 2;
    }
    sesp_pq_schema *s;
    sesp_pq_schema_new(&s);
    sesp_pq_logical str = sesp_pq_lt(SESP_PQ_LT_STRING), ts = sesp_pq_lt_timestamp(SESP_PQ_MICROS, true);
    sesp_pq_schema_add_leaf(s, 0, "c_i32", SESP_PQ_OPTIONAL, SESP_PQ_INT32, NULL, 0, NULL);
    sesp_pq_schema_add_leaf(s, 0, "c_i64", SESP_PQ_OPTIONAL, SESP_PQ_INT64, NULL, 0, NULL);
    sesp_pq_schema_add_leaf(s, 0, "c_d1", SESP_PQ_OPTIONAL, SESP_PQ_DOUBLE, NULL, 0, NULL);
    sesp_pq_schema_add_leaf(s, 0, "c_d2", SESP_PQ_OPTIONAL, SESP_PQ_DOUBLE, NULL, 0, NULL);
    sesp_pq_schema_add_leaf(s, 0, "c_short", SESP_PQ_OPTIONAL, SESP_PQ_BYTE_ARRAY, &str, 0, NULL);
    sesp_pq_schema_add_leaf(s, 0, "c_long", SESP_PQ_OPTIONAL, SESP_PQ_BYTE_ARRAY, &str, 0, NULL);
    sesp_pq_schema_add_leaf(s, 0, "c_ts", SESP_PQ_OPTIONAL, SESP_PQ_INT64, &ts, 0, NULL);
    sesp_pq_schema_add_leaf(s, 0, "c_flag", SESP_PQ_OPTIONAL, SESP_PQ_BOOLEAN, NULL, 0, NULL);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        return 1;
    }
    static char fbuf[1 << 20];
    setvbuf(f, fbuf, _IOFBF, sizeof fbuf);
    sesp_pq_writer_options o = {.codec = c};
    sesp_pq_writer *w;
    double t0 = now();
    int rc = sesp_pq_writer_open(s, &o, (sesp_pq_sink){sesp_pq_sink_stdio_write, f}, &w);
    double spent = now() - t0;
    sesp_pq_schema_free(s);
    if (rc)
        return 1;
    int32_t *i32 = malloc(BATCH * 4);
    int64_t *i64 = malloc(BATCH * 8), *tsv = malloc(BATCH * 8);
    double *d1 = malloc(BATCH * 8), *d2 = malloc(BATCH * 8);
    uint8_t *flag = malloc(BATCH);
    sesp_pq_bytes *sh = malloc(BATCH * sizeof *sh), *lg = malloc(BATCH * sizeof *lg);
    char *shs = malloc(BATCH * 8), *lgs = malloc(BATCH * 64);
    for (long long base = 0; base < nrows; base += BATCH) {
        size_t n = nrows - base < BATCH ? (size_t)(nrows - base) : BATCH;
        for (size_t k = 0; k < n; k++) {
            long long i = base + (long long)k;
            i32[k] = (int32_t)((i * 7) % 1000000);
            i64[k] = i * 1000003;
            d1[k] = (double)i / 3.0;
            d2[k] = (double)(i % 1000) * 0.25;
            int l = snprintf(shs + k * 8, 8, "k%lld", i % 1000);
            sh[k] = (sesp_pq_bytes){(const uint8_t *)shs + k * 8, (uint32_t)l};
            l = snprintf(lgs + k * 64, 64, "value-%lld-lorem-ipsum-dolor-sit-amet", i);
            lg[k] = (sesp_pq_bytes){(const uint8_t *)lgs + k * 64, (uint32_t)l};
            tsv[k] = 1700000000000000ll + i * 1000;
            flag[k] = i % 3 == 0;
        }
        sesp_pq_column_batch cb[8] = {{NULL, i32, NULL}, {NULL, i64, NULL}, {NULL, d1, NULL}, {NULL, d2, NULL},
                                      {NULL, NULL, sh}, {NULL, NULL, lg}, {NULL, tsv, NULL}, {NULL, flag, NULL}};
        t0 = now();
        rc = sesp_pq_writer_write_column_batch(w, cb, n);
        spent += now() - t0;
        if (rc) {
            fprintf(stderr, "write: %s (%s)\n", sesp_strerror(rc), sesp_pq_writer_error(w));
            return 1;
        }
    }
    uint64_t size;
    t0 = now();
    rc = sesp_pq_writer_close(w, &size);
    fflush(f);
    spent += now() - t0;
    fclose(f);
    if (rc)
        return 1;
    printf("{\"seconds\":%.4f,\"bytes\":%llu}\n", spent, (unsigned long long)size);
    free(i32); free(i64); free(tsv); free(d1); free(d2); free(flag); free(sh); free(lg); free(shs); free(lgs);
    return 0;
}

static int cmd_scan(const char *path)
{
    double t0 = now();
    int fd = open(path, O_RDONLY);
    struct stat st;
    if (fd < 0 || fstat(fd, &st)) {
        perror(path);
        return 1;
    }
    sesp_pq_source src = {sesp_pq_source_fd_read, &fd, (uint64_t)st.st_size};
    sesp_pq_reader *r;
    int rc = sesp_pq_reader_open(src, NULL, &r);
    if (rc) {
        fprintf(stderr, "%s\n", sesp_pq_reader_error(r));
        return 1;
    }
    const sesp_pq_schema *s = sesp_pq_reader_schema(r);
    uint64_t sum = 0;
    long long rows = 0;
    for (int g = 0; g < sesp_pq_reader_num_row_groups(r); g++) {
        rows += sesp_pq_reader_row_group_rows(r, g);
        for (int c = 0; c < sesp_pq_schema_column_count(s); c++) {
            sesp_pq_column col;
            if ((rc = sesp_pq_reader_read_column(r, g, c, &col))) {
                fprintf(stderr, "%s\n", sesp_pq_reader_error(r));
                return 1;
            }
            switch (col.physical) {
            case SESP_PQ_INT32: for (size_t i = 0; i < col.nvalues; i++) sum += (uint32_t)((int32_t *)col.values)[i]; break;
            case SESP_PQ_INT64: for (size_t i = 0; i < col.nvalues; i++) sum += (uint64_t)((int64_t *)col.values)[i]; break;
            case SESP_PQ_DOUBLE: for (size_t i = 0; i < col.nvalues; i++) sum += (uint64_t)((double *)col.values)[i]; break;
            case SESP_PQ_BOOLEAN: for (size_t i = 0; i < col.nvalues; i++) sum += ((uint8_t *)col.values)[i]; break;
            default: for (size_t i = 0; i < col.nvalues; i++) sum += ((sesp_pq_bytes *)col.values)[i].len; break;
            }
            sesp_pq_column_free(&col);
        }
    }
    sesp_pq_reader_close(r);
    close(fd);
    printf("{\"seconds\":%.4f,\"rows\":%lld,\"checksum\":%llu}\n", now() - t0, rows, (unsigned long long)sum);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "write") == 0)
        return cmd_write(argv[2], argv[3], atoll(argv[4]));
    if (argc == 3 && strcmp(argv[1], "scan") == 0)
        return cmd_scan(argv[2]);
    fprintf(stderr, "usage: pq_bench write FILE CODEC NROWS | pq_bench scan FILE\n");
    return 2;
}
