/*
 * Microbenchmark of the per-byte and per-field costs on the produce path:
 * CRC-32C (sesp_crc32c) over 1 KiB and 1 MiB buffers next to memcpy of the
 * same buffers in the same run (memcpy is the yardstick: a checksum that runs
 * near memcpy speed no longer matters next to the page-cache copy), and
 * zig-zag varint decoding through the shared reader (sesp_bufr_varint) for
 * the value sizes record framing uses.  Never run by the test suite.
 *
 *   ./build-perf/bin/sesp-bench-crc [total MiB per case, default 2048]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/buf.h"
#include "common/crc32c.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Keeps results alive so the compiler cannot drop the work. */
static volatile uint64_t sink;

static double bench_crc(uint32_t (*fn)(uint32_t, const void *, size_t), const uint8_t *buf, size_t size,
                        size_t total)
{
    size_t iters = total / size;
    uint32_t c = 0;
    double t0 = now_s();
    for (size_t i = 0; i < iters; i++)
        c = fn(c, buf, size);
    double dt = now_s() - t0;
    sink += c;
    return (double)iters * (double)size / dt / 1e9;
}

static double bench_memcpy(uint8_t *dst, const uint8_t *src, size_t size, size_t total)
{
    size_t iters = total / size;
    double t0 = now_s();
    for (size_t i = 0; i < iters; i++) {
        memcpy(dst, src, size);
        /* An opaque barrier: without it the copies of one iteration could be merged. */
        __asm__ volatile("" : : "r"(dst) : "memory");
    }
    double dt = now_s() - t0;
    sink += dst[size - 1];
    return (double)iters * (double)size / dt / 1e9;
}

/* Million varints per second decoding n zig-zag values of magnitude < limit. */
static double bench_varint(uint32_t limit, size_t n, int rounds)
{
    sesp_bufw w;
    sesp_bufw_init(&w, 0, 0);
    uint64_t s = 88172645463325252u;
    for (size_t i = 0; i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        int32_t v = (int32_t)(s % limit);
        sesp_bufw_varint(&w, (s >> 40) & 1 ? -v : v);
    }
    double t0 = now_s();
    int64_t acc = 0;
    for (int k = 0; k < rounds; k++) {
        sesp_bufr r;
        sesp_bufr_init(&r, w.p, w.len);
        for (size_t i = 0; i < n; i++)
            acc += sesp_bufr_varint(&r);
        if (r.err || sesp_bufr_left(&r)) {
            fprintf(stderr, "varint decode failed\n");
            exit(1);
        }
    }
    double dt = now_s() - t0;
    sink += (uint64_t)acc;
    sesp_bufw_free(&w);
    return (double)n * rounds / dt / 1e6;
}

int main(int argc, char **argv)
{
    size_t total = (size_t)(argc > 1 ? atol(argv[1]) : 2048) << 20;
    if (total == 0) {
        fprintf(stderr, "usage: %s [MiB per case]\n", argv[0]);
        return 2;
    }
    static const size_t sizes[] = {1024, 1 << 20};
    uint8_t *src = malloc(1 << 20), *dst = malloc(1 << 20);
    if (!src || !dst)
        return 1;
    for (size_t i = 0; i < (1 << 20); i++)
        src[i] = (uint8_t)(i * 2654435761u >> 13);
    sesp_crc32c(0, src, 1); /* one-time table set-up outside the clock */

    printf("buffer   |  crc32c GB/s  memcpy GB/s  crc/memcpy");
#ifndef CRC_BENCH_NO_SW
    printf("  table GB/s");
#endif
    printf("\n");
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t sz = sizes[k];
        double mc = bench_memcpy(dst, src, sz, total);
        double crc = bench_crc(sesp_crc32c, src, sz, total);
        printf("%-8zu |  %11.2f  %11.2f  %9.0f%%", sz, crc, mc, 100.0 * crc / mc);
#ifndef CRC_BENCH_NO_SW
        printf("  %10.2f", bench_crc(sesp_crc32c_sw, src, sz, total / 4));
#endif
        printf("\n");
    }
    printf("varint   |  Mvalues/s\n");
    static const uint32_t limits[] = {64, 8192, 1u << 20};
    static const char *names[] = {"1 byte", "<=2 B", "<=3 B"};
    for (int k = 0; k < 3; k++)
        printf("%-8s |  %9.0f\n", names[k], bench_varint(limits[k], 1 << 20, (int)(total >> 24) + 1));
    free(src);
    free(dst);
    return 0;
}
