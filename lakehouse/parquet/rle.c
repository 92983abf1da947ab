/*
 * The RLE / bit-packed hybrid encoding of Parquet (Encodings.md), used for
 * definition and repetition levels, dictionary indices and RLE booleans:
 * a sequence of runs, each either a repeated value (header = count << 1) or
 * groups of 8 bit-packed values, LSB first (header = groups << 1 | 1).  The
 * encoder picks repeated runs of 8 or more; the decoder yields exactly the
 * number of values asked for and treats running out of input as malformed.
 * Bit-packed runs are unpacked in bulk, one loop per bit width.
 */
#include "lakehouse/parquet/pq_internal.h"

#include <string.h>

#include "common/err.h"

static void put_rle_run(sesp_bufw *w, uint32_t value, size_t count, int bw)
{
    sesp_bufw_uvarlong(w, (uint64_t)count << 1);
    int nbytes = (bw + 7) / 8;
    for (int b = 0; b < nbytes; b++)
        sesp_bufw_i8(w, (int8_t)(uint8_t)(value >> (8 * b)));
}

/* Bit-packs values [0, count) (count a multiple of 8 after zero padding). */
#define PUT_PACKED(TYPE)                                                         \
    static void put_packed_##TYPE(sesp_bufw *w, const TYPE *v, size_t count,      \
                                  size_t avail, int bw)                           \
    {                                                                             \
        size_t groups = (count + 7) / 8;                                          \
        sesp_bufw_uvarlong(w, ((uint64_t)groups << 1) | 1);                       \
        size_t nbytes = groups * (size_t)bw;                                      \
        uint8_t *o = sesp_bufw_reserve(w, nbytes);                                \
        if (!o)                                                                   \
            return;                                                               \
        uint64_t acc = 0, mask = bw >= 32 ? 0xffffffffull : (1ull << bw) - 1;     \
        int nbits = 0;                                                            \
        size_t k = 0;                                                             \
        for (size_t i = 0; i < groups * 8; i++) {                                 \
            uint64_t x = i < avail ? (uint64_t)(uint32_t)v[i] & mask : 0;         \
            acc |= x << nbits;                                                    \
            nbits += bw;                                                          \
            while (nbits >= 8) {                                                  \
                o[k++] = (uint8_t)acc;                                            \
                acc >>= 8;                                                        \
                nbits -= 8;                                                       \
            }                                                                     \
        }                                                                         \
        w->len += nbytes;                                                         \
    }

#define ENCODE(TYPE, NAME)                                                        \
    void NAME(sesp_bufw *w, const TYPE *v, size_t n, int bw)                      \
    {                                                                             \
        if (bw == 0) {                                                            \
            if (n)                                                                \
                put_rle_run(w, 0, n, 0);                                          \
            return;                                                               \
        }                                                                         \
        size_t i = 0;                                                             \
        while (i < n) {                                                           \
            size_t j = i + 1;                                                     \
            while (j < n && v[j] == v[i])                                         \
                j++;                                                              \
            if (j - i >= 8) {                                                     \
                put_rle_run(w, (uint32_t)v[i], j - i, bw);                        \
                i = j;                                                            \
                continue;                                                         \
            }                                                                     \
            size_t start = i;                                                     \
            i = start + 8 < n ? start + 8 : n;                                    \
            while (i < n) {                                                       \
                size_t r = i + 1;                                                 \
                while (r < n && r - i < 8 && v[r] == v[i])                        \
                    r++;                                                          \
                if (r - i >= 8)                                                   \
                    break;                                                        \
                i = i + 8 < n ? i + 8 : n;                                        \
            }                                                                     \
            put_packed_##TYPE(w, v + start, i - start, i - start, bw);            \
        }                                                                         \
    }

PUT_PACKED(uint32_t)
PUT_PACKED(int16_t)
ENCODE(uint32_t, sesp_pq_rle_encode)
ENCODE(int16_t, sesp_pq_rle_encode16)

/* ---- decoding ----
 * Runs are parsed once; bit-packed runs are unpacked 8 values (bw bytes) at a
 * time by a loop specialised per bit width, so the hot path has no per-value
 * bounds checks: a run's byte count is checked once before unpacking. */

static inline __attribute__((always_inline)) void unpack8(const uint8_t *in, uint32_t *out, const int bw)
{
    uint64_t w[5] = {0, 0, 0, 0, 0};
    memcpy(w, in, (size_t)bw);
    const uint64_t mask = bw == 32 ? 0xffffffffull : ((1ull << bw) - 1);
    for (int j = 0; j < 8; j++) {
        const int bit = j * bw, wi = bit >> 6, sh = bit & 63;
        uint64_t v = w[wi] >> sh;
        if (sh && sh + bw > 64)
            v |= w[wi + 1] << (64 - sh);
        out[j] = (uint32_t)(v & mask);
    }
}

void sesp_pq_unpack32(const uint8_t *in, size_t ngroups, int bw, uint32_t *out)
{
    switch (bw) {
#define CASE(B) case B: for (size_t g = 0; g < ngroups; g++) unpack8(in + g * B, out + g * 8, B); return;
    CASE(1) CASE(2) CASE(3) CASE(4) CASE(5) CASE(6) CASE(7) CASE(8)
    CASE(9) CASE(10) CASE(11) CASE(12) CASE(13) CASE(14) CASE(15) CASE(16)
    CASE(17) CASE(18) CASE(19) CASE(20) CASE(21) CASE(22) CASE(23) CASE(24)
    CASE(25) CASE(26) CASE(27) CASE(28) CASE(29) CASE(30) CASE(31) CASE(32)
#undef CASE
    default:
        memset(out, 0, ngroups * 8 * sizeof *out);
    }
}

typedef struct run {
    bool packed;
    size_t take;                /* values of this run to use */
    uint32_t value;             /* RLE run */
    const uint8_t *bytes;       /* packed run: at least (take * bw + 7) / 8 bytes */
    size_t nbytes;              /* packed bytes available (may be a cut-short final run) */
} run;

/* Parses the next run header (and an RLE run's value) for up to want values. */
static inline int next_run(const uint8_t **pp, const uint8_t *end, int bw, size_t want, run *r)
{
    const uint8_t *p = *pp;
    uint64_t h = 0;
    for (int sh = 0;; sh += 7) {
        if (p >= end || sh > 63)
            return SESP_ERR_MALFORMED;
        uint8_t b = *p++;
        h |= (uint64_t)(b & 0x7f) << sh;
        if (!(b & 0x80))
            break;
    }
    size_t left = (size_t)(end - p);
    if (h & 1) {
        uint64_t groups = h >> 1;
        if (groups == 0 || groups > (1ull << 31))
            return SESP_ERR_MALFORMED;
        uint64_t nvals = groups * 8;
        size_t take = nvals < want ? (size_t)nvals : want;
        size_t nbytes = (size_t)groups * (size_t)bw;
        /* Tolerate a final run cut short after the last value used. */
        if (nbytes > left)
            nbytes = left;
        if ((take * (size_t)bw + 7) / 8 > nbytes)
            return SESP_ERR_MALFORMED;
        r->packed = true;
        r->take = take;
        r->bytes = p;
        r->nbytes = nbytes;
        *pp = p + nbytes;
        return 0;
    }
    uint64_t count = h >> 1;
    size_t vbytes = (size_t)(bw + 7) / 8;
    if (count == 0 || vbytes > left)
        return SESP_ERR_MALFORMED;
    uint64_t x = 0;
    for (size_t i = 0; i < vbytes; i++)
        x |= (uint64_t)p[i] << (8 * i);
    if (bw < 32 && x >> bw)
        return SESP_ERR_MALFORMED;
    r->packed = false;
    r->take = count < want ? (size_t)count : want;
    r->value = (uint32_t)x;
    *pp = p + vbytes;
    return 0;
}

/* Unpacks the first r->take values of a packed run. */
static inline void unpack_run(const run *r, int bw, uint32_t *out)
{
    size_t full = r->take / 8, rem = r->take % 8;
    sesp_pq_unpack32(r->bytes, full, bw, out);
    if (rem) {
        uint8_t tail[32] = {0};
        uint32_t t[8];
        size_t have = r->nbytes - full * (size_t)bw;
        memcpy(tail, r->bytes + full * (size_t)bw, have < (size_t)bw ? have : (size_t)bw);
        sesp_pq_unpack32(tail, 1, bw, t);
        memcpy(out + full * 8, t, rem * sizeof *t);
    }
}

int sesp_pq_rle_decode(const uint8_t *p, size_t len, int bw, uint32_t *out, size_t n)
{
    if (bw < 0 || bw > 32)
        return SESP_ERR_MALFORMED;
    const uint8_t *end = p + len;
    size_t got = 0;
    while (got < n) {
        run r;
        if (next_run(&p, end, bw, n - got, &r))
            return SESP_ERR_MALFORMED;
        if (r.packed) {
            unpack_run(&r, bw, out + got);
        } else {
            uint32_t *o = out + got;
            for (size_t i = 0; i < r.take; i++)
                o[i] = r.value;
        }
        got += r.take;
    }
    return 0;
}

int sesp_pq_levels_decode(const uint8_t *p, size_t len, int bw, int16_t *out, size_t n, int max,
                          size_t *nmax)
{
    if (bw < 0 || bw > 16 || max < 0 || max > 0xffff)
        return SESP_ERR_MALFORMED;
    const uint8_t *end = p + len;
    size_t got = 0, cnt = 0;
    uint32_t tmp[512];
    while (got < n) {
        run r;
        if (next_run(&p, end, bw, n - got, &r))
            return SESP_ERR_MALFORMED;
        if (!r.packed) {
            if (r.value > (uint32_t)max)
                return SESP_ERR_MALFORMED;
            int16_t v = (int16_t)r.value;
            int16_t *o = out + got;
            for (size_t i = 0; i < r.take; i++)
                o[i] = v;
            if (r.value == (uint32_t)max)
                cnt += r.take;
            got += r.take;
            continue;
        }
        /* Unpack in slices of whole groups so tmp stays in L1. */
        for (size_t done = 0; done < r.take;) {
            size_t k = r.take - done < 512 ? r.take - done : 512;
            run s = r;
            s.bytes = r.bytes + done / 8 * (size_t)bw;
            s.nbytes = r.nbytes - done / 8 * (size_t)bw;
            s.take = k;
            unpack_run(&s, bw, tmp);
            uint32_t hi = 0;
            size_t c = 0;
            int16_t *o = out + got;
            for (size_t i = 0; i < k; i++) {
                hi = tmp[i] > hi ? tmp[i] : hi;
                c += tmp[i] == (uint32_t)max;
                o[i] = (int16_t)tmp[i];
            }
            if (hi > (uint32_t)max)
                return SESP_ERR_MALFORMED;
            cnt += c;
            got += k;
            done += k;
        }
    }
    if (nmax)
        *nmax = cnt;
    return 0;
}

int sesp_pq_rle_decode16(const uint8_t *p, size_t len, int bw, int16_t *out, size_t n, int max)
{
    if (max < 0)
        max = bw < 0 || bw > 16 ? 0 : (1 << bw) - 1;
    return sesp_pq_levels_decode(p, len, bw, out, n, max, NULL);
}
