/*
 * pq_bench: times SESP's Parquet writer (columnar fast path) and reader.
 *   pq_bench write FILE CODEC NROWS   writes NROWS rows x 8 columns (the same
 *                                     formulas bench.js gives DuckDB) and
 *                                     prints {"seconds":..,"bytes":..};
 *   pq_bench scan FILE                streams every column (sesp_pq_scan_*)
 *                                     computing bench.js's DuckDB aggregates
 *                                     and prints {"seconds":..,"cpu":..,
 *                                     "rows":..,"result":[8 aggregates]};
 *   pq_bench scan-chunks FILE         the same columns through read_column
 *                                     (whole chunks), with a checksum.
 * Row generation is excluded from the write time (batches are generated
 * between timed write calls).
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
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

/* CPU seconds (user + system) of this process: less disturbed than wall time
 * by other load on a shared machine. */
static double cpu_now(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
           (double)ru.ru_stime.tv_usec / 1e6;
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

static int open_file(const char *path, int *fd, sesp_pq_reader **r)
{
    struct stat st;
    *fd = open(path, O_RDONLY);
    if (*fd < 0 || fstat(*fd, &st)) {
        perror(path);
        return 1;
    }
    sesp_pq_source src = {sesp_pq_source_fd_read, fd, (uint64_t)st.st_size};
    if (sesp_pq_reader_open(src, NULL, r)) {
        fprintf(stderr, "%s: %s\n", path, sesp_pq_reader_error(*r));
        sesp_pq_reader_close(*r);
        close(*fd);
        return 1;
    }
    return 0;
}

/* The aggregates of bench.js's DuckDB query, one per column:
 *   min(c_i32), sum(c_i64), sum(c_d1), sum(c_d2), max(c_short), max(c_long),
 *   max(c_ts), count_if(c_flag)
 * computed over the batches of a streaming scan (nulls skipped as in SQL). */
enum { AGG_MIN_I32, AGG_SUM_I64, AGG_SUM_D, AGG_MAX_STR, AGG_MAX_I64, AGG_COUNT_TRUE };

typedef struct agg {
    int kind;
    bool any;
    int64_t i;                  /* min/max */
    unsigned __int128 s;        /* sum of int64 (two's complement, wide) */
    double d;
    uint8_t *str;               /* max string, copied */
    uint32_t slen, scap;
    uint64_t sprefix;           /* its first 8 bytes, big-endian, zero padded */
} agg;

static inline uint64_t prefix8(const uint8_t *p, uint32_t len)
{
    uint64_t x = 0;
    memcpy(&x, p, len < 8 ? len : 8);
    return __builtin_bswap64(x);
}

static void agg_batch(agg *a, const sesp_pq_batch *b)
{
    size_t n = b->nvalues;
    if (!n)
        return;
    switch (a->kind) {
    case AGG_MIN_I32: {
        const int32_t *v = b->values;
        int32_t m = a->any ? (int32_t)a->i : INT32_MAX;
        for (size_t i = 0; i < n; i++)
            m = v[i] < m ? v[i] : m;
        a->i = m;
        break;
    }
    case AGG_MAX_I64: {
        const int64_t *v = b->values;
        int64_t m = a->any ? a->i : INT64_MIN;
        for (size_t i = 0; i < n; i++)
            m = v[i] > m ? v[i] : m;
        a->i = m;
        break;
    }
    case AGG_SUM_I64: {
        const int64_t *v = b->values;
        __int128 s = 0;
        for (size_t i = 0; i < n; i++)
            s += v[i];
        a->s += (unsigned __int128)s;
        break;
    }
    case AGG_SUM_D: {
        const double *v = b->values;
        double s = a->d;
        for (size_t i = 0; i < n; i++)
            s += v[i];
        a->d = s;
        break;
    }
    case AGG_COUNT_TRUE: {
        const uint8_t *v = b->values;
        int64_t c = 0;
        for (size_t i = 0; i < n; i++)
            c += v[i];
        a->i += c;
        break;
    }
    case AGG_MAX_STR: {
        for (size_t i = 0; i < n; i++) {
            const uint8_t *p = b->base + b->strs[i].off;
            uint32_t l = b->strs[i].len;
            if (a->any) {
                uint64_t pre = prefix8(p, l);
                if (pre < a->sprefix)
                    continue;           /* strictly smaller: no need for memcmp */
                uint32_t m = l < a->slen ? l : a->slen;
                int c = memcmp(p, a->str, m);
                if (c < 0 || (c == 0 && l <= a->slen))
                    continue;
            }
            if (l > a->scap) {
                free(a->str);
                a->scap = l * 2 + 16;
                a->str = malloc(a->scap);
            }
            memcpy(a->str, p, l);
            a->slen = l;
            a->sprefix = prefix8(p, l);
            a->any = true;
        }
        break;
    }
    }
    a->any = true;
}

static void print_u128(unsigned __int128 u, bool negative)
{
    char buf[48];
    int k = sizeof buf;
    buf[--k] = 0;
    if (negative)
        u = ~u + 1;
    do {
        buf[--k] = (char)('0' + (int)(u % 10));
        u /= 10;
    } while (u);
    if (negative)
        buf[--k] = '-';
    printf("\"%s\"", buf + k);
}

static int cmd_scan(const char *path)
{
    static const struct { const char *name; int kind; } cols[] = {
        {"c_i32", AGG_MIN_I32}, {"c_i64", AGG_SUM_I64}, {"c_d1", AGG_SUM_D}, {"c_d2", AGG_SUM_D},
        {"c_short", AGG_MAX_STR}, {"c_long", AGG_MAX_STR}, {"c_ts", AGG_MAX_I64}, {"c_flag", AGG_COUNT_TRUE},
    };
    double t0 = now(), c0 = cpu_now();
    int fd;
    sesp_pq_reader *r;
    if (open_file(path, &fd, &r))
        return 1;
    const sesp_pq_schema *s = sesp_pq_reader_schema(r);
    agg aggs[8];
    memset(aggs, 0, sizeof aggs);
    for (int k = 0; k < 8; k++) {
        int c = 0;
        while (c < sesp_pq_schema_column_count(s) &&
               strcmp(sesp_pq_schema_node(s, sesp_pq_schema_column_node(s, c))->name, cols[k].name) != 0)
            c++;
        if (c == sesp_pq_schema_column_count(s)) {
            fprintf(stderr, "%s: no column %s\n", path, cols[k].name);
            return 1;
        }
        aggs[k].kind = cols[k].kind;
        sesp_pq_scan *sc;
        int rc = sesp_pq_scan_open(r, c, -1, &sc);
        for (;;) {
            sesp_pq_batch b;
            if (rc || (rc = sesp_pq_scan_next(sc, &b))) {
                fprintf(stderr, "%s: %s\n", path, sesp_pq_reader_error(r));
                return 1;
            }
            if (!b.n)
                break;
            agg_batch(&aggs[k], &b);
        }
        sesp_pq_scan_close(sc);
    }
    long long rows = sesp_pq_reader_num_rows(r);
    sesp_pq_reader_close(r);
    close(fd);
    double secs = now() - t0, cpu = cpu_now() - c0;
    printf("{\"seconds\":%.4f,\"cpu\":%.4f,\"rows\":%lld,\"result\":[", secs, cpu, rows);
    for (int k = 0; k < 8; k++) {
        agg *a = &aggs[k];
        if (k)
            printf(",");
        if (!a->any && a->kind != AGG_COUNT_TRUE) {
            printf("null");
            continue;
        }
        switch (a->kind) {
        case AGG_MIN_I32: case AGG_MAX_I64: case AGG_COUNT_TRUE: printf("\"%lld\"", (long long)a->i); break;
        case AGG_SUM_I64: print_u128(a->s, (__int128)a->s < 0); break;
        case AGG_SUM_D: printf("%.17g", a->d); break;
        case AGG_MAX_STR:
            printf("\"");
            for (uint32_t i = 0; i < a->slen; i++)
                printf(a->str[i] == '"' || a->str[i] == '\\' ? "\\%c" : a->str[i] < 0x20 ? "?" : "%c", a->str[i]);
            printf("\"");
            break;
        }
        free(a->str);
    }
    printf("]}\n");
    return 0;
}

/* The previous scan: whole column chunks through sesp_pq_reader_read_column
 * (kept for comparison; a checksum instead of the aggregates). */
static int cmd_scan_chunks(const char *path)
{
    double t0 = now();
    int fd;
    sesp_pq_reader *r;
    if (open_file(path, &fd, &r))
        return 1;
    const sesp_pq_schema *s = sesp_pq_reader_schema(r);
    uint64_t sum = 0;
    long long rows = 0;
    for (int g = 0; g < sesp_pq_reader_num_row_groups(r); g++) {
        rows += sesp_pq_reader_row_group_rows(r, g);
        for (int c = 0; c < sesp_pq_schema_column_count(s); c++) {
            sesp_pq_column col;
            if (sesp_pq_reader_read_column(r, g, c, &col)) {
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
    if (argc == 3 && strcmp(argv[1], "scan-chunks") == 0)
        return cmd_scan_chunks(argv[2]);
    fprintf(stderr, "usage: pq_bench write FILE CODEC NROWS | pq_bench scan FILE | pq_bench scan-chunks FILE\n");
    return 2;
}
