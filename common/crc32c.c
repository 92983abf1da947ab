/*
 * CRC-32C for record batches.  Produce and recovery checksum every byte that
 * enters the log, so the hardware path matters.  The crc32 instruction has a
 * latency of 3 cycles but a throughput of one per cycle, so a single dependent
 * chain runs at a third of what the CPU can do: we cut each block into three
 * lanes, run one chain per lane in the same loop, and join the lane CRCs with
 * a "shift by n zero bytes" operator (linear over GF(2), so a 4 x 256 table per
 * shift distance, built once).  The table path keeps us portable to CPUs
 * without SSE4.2.
 */
#include "crc32c.h"

#include <pthread.h>
#include <string.h>

#define POLY 0x82F63B78u

static uint32_t table[8][256];
static int have_sse42;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Lane lengths of the 3-way path, longest first: long lanes amortise the
 * join, short ones keep 1 KiB inputs off the single chain.  Multiples of 8. */
#define NLEVELS 3
static const size_t lane_len[NLEVELS] = {4096, 512, 64};

/* shift[l][0] advances a raw CRC register over lane_len[l] zero bytes,
 * shift[l][1] over twice that. */
static uint32_t shift[NLEVELS][2][4][256];

static uint32_t crc_sw(uint32_t crc, const uint8_t *p, size_t len)
{
    while (len >= 8) {
        uint32_t lo, hi;
        memcpy(&lo, p, 4);
        memcpy(&hi, p + 4, 4);
        lo ^= crc;
        crc = table[7][lo & 0xff] ^ table[6][(lo >> 8) & 0xff] ^ table[5][(lo >> 16) & 0xff] ^
              table[4][lo >> 24] ^ table[3][hi & 0xff] ^ table[2][(hi >> 8) & 0xff] ^
              table[1][(hi >> 16) & 0xff] ^ table[0][hi >> 24];
        p += 8;
        len -= 8;
    }
    while (len--)
        crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
    return crc;
}

static uint32_t zeros_sw(uint32_t crc, size_t n)
{
    static const uint8_t z[64];
    while (n) {
        size_t k = n < sizeof z ? n : sizeof z;
        crc = crc_sw(crc, z, k);
        n -= k;
    }
    return crc;
}

/* The operator is linear, so its value on the 32 unit vectors spans it. */
static void build_shift(uint32_t t[4][256], size_t n)
{
    uint32_t basis[32];
    for (int i = 0; i < 32; i++)
        basis[i] = zeros_sw(1u << i, n);
    for (int k = 0; k < 4; k++)
        for (uint32_t b = 0; b < 256; b++) {
            uint32_t v = 0;
            for (int i = 0; i < 8; i++)
                if (b & (1u << i))
                    v ^= basis[8 * k + i];
            t[k][b] = v;
        }
}

static inline uint32_t apply_shift(const uint32_t t[4][256], uint32_t c)
{
    return t[0][c & 0xff] ^ t[1][(c >> 8) & 0xff] ^ t[2][(c >> 16) & 0xff] ^ t[3][c >> 24];
}

static void init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
        table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++)
        for (int t = 1; t < 8; t++)
            table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    have_sse42 = __builtin_cpu_supports("sse4.2");
    if (have_sse42)
        for (int l = 0; l < NLEVELS; l++) {
            build_shift(shift[l][0], lane_len[l]);
            build_shift(shift[l][1], 2 * lane_len[l]);
        }
#endif
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
__attribute__((target("sse4.2"))) static inline uint64_t ld64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc, const uint8_t *p, size_t len)
{
    for (int l = 0; l < NLEVELS; l++) {
        const size_t n = lane_len[l];
        while (len >= 3 * n) {
            uint64_t a = crc, b = 0, c = 0;
            const uint8_t *pb = p + n, *pc = p + 2 * n;
            for (size_t i = 0; i < n; i += 8) {
                a = __builtin_ia32_crc32di(a, ld64(p + i));
                b = __builtin_ia32_crc32di(b, ld64(pb + i));
                c = __builtin_ia32_crc32di(c, ld64(pc + i));
            }
            crc = apply_shift(shift[l][1], (uint32_t)a) ^ apply_shift(shift[l][0], (uint32_t)b) ^ (uint32_t)c;
            p += 3 * n;
            len -= 3 * n;
        }
    }
    uint64_t c = crc;
    while (len >= 8) {
        c = __builtin_ia32_crc32di(c, ld64(p));
        p += 8;
        len -= 8;
    }
    uint32_t c32 = (uint32_t)c;
    while (len--)
        c32 = __builtin_ia32_crc32qi(c32, *p++);
    return c32;
}
#endif

uint32_t sesp_crc32c(uint32_t crc, const void *data, size_t len)
{
    pthread_once(&once, init);
    crc = ~crc;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (have_sse42)
        return ~crc_hw(crc, data, len);
#endif
    return ~crc_sw(crc, data, len);
}

uint32_t sesp_crc32c_sw(uint32_t crc, const void *data, size_t len)
{
    pthread_once(&once, init);
    return ~crc_sw(~crc, data, len);
}
