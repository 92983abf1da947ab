/*
 * The RLE / bit-packed hybrid encoding of Parquet (Encodings.md), used for
 * definition and repetition levels, dictionary indices and RLE booleans:
 * a sequence of runs, each either a repeated value (header = count << 1) or
 * groups of 8 bit-packed values, LSB first (header = groups << 1 | 1).  The
 * encoder picks repeated runs of 8 or more; the decoder yields exactly the
 * number of values asked for and treats running out of input as malformed.
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

/* Decodes into out (uint32_t or int16_t) with an optional max check. */
static int decode(const uint8_t *p, size_t len, int bw, void *out, bool wide, size_t n, int64_t max)
{
    if (bw < 0 || bw > 32)
        return SESP_ERR_MALFORMED;
    sesp_bufr r;
    sesp_bufr_init(&r, p, len);
    size_t got = 0;
    int vbytes = (bw + 7) / 8;
    uint64_t mask = bw == 32 ? 0xffffffffull : ((1ull << bw) - 1);
    while (got < n) {
        uint64_t h = sesp_bufr_uvarlong(&r);
        if (r.err)
            return SESP_ERR_MALFORMED;
        if (h & 1) {
            uint64_t groups = h >> 1;
            if (groups == 0 || groups > (1ull << 31))
                return SESP_ERR_MALFORMED;
            uint64_t want = groups * 8;
            size_t nbytes = (size_t)groups * (size_t)bw;
            size_t avail = sesp_bufr_left(&r);
            if (nbytes > avail) {
                /* Tolerate a final run cut short after the last real value. */
                nbytes = avail;
            }
            const uint8_t *b = sesp_bufr_take(&r, nbytes);
            if (!b && nbytes)
                return SESP_ERR_MALFORMED;
            uint64_t acc = 0;
            int nbits = 0;
            size_t k = 0;
            for (uint64_t i = 0; i < want && got < n; i++) {
                while (nbits < bw) {
                    if (k >= nbytes)
                        return SESP_ERR_MALFORMED;
                    acc |= (uint64_t)b[k++] << nbits;
                    nbits += 8;
                }
                uint64_t x = acc & mask;
                acc >>= bw;
                nbits -= bw;
                if (max >= 0 && x > (uint64_t)max)
                    return SESP_ERR_MALFORMED;
                if (wide)
                    ((uint32_t *)out)[got++] = (uint32_t)x;
                else
                    ((int16_t *)out)[got++] = (int16_t)x;
            }
        } else {
            uint64_t count = h >> 1;
            const uint8_t *b = sesp_bufr_take(&r, (size_t)vbytes);
            if (!b && vbytes)
                return SESP_ERR_MALFORMED;
            if (count == 0)
                return SESP_ERR_MALFORMED;
            uint64_t x = 0;
            for (int i = 0; i < vbytes; i++)
                x |= (uint64_t)b[i] << (8 * i);
            if (x > mask || (max >= 0 && x > (uint64_t)max))
                return SESP_ERR_MALFORMED;
            size_t take = count < n - got ? (size_t)count : n - got;
            if (wide) {
                uint32_t *o = (uint32_t *)out + got;
                for (size_t i = 0; i < take; i++)
                    o[i] = (uint32_t)x;
            } else {
                int16_t *o = (int16_t *)out + got;
                for (size_t i = 0; i < take; i++)
                    o[i] = (int16_t)x;
            }
            got += take;
        }
    }
    return 0;
}

int sesp_pq_rle_decode(const uint8_t *p, size_t len, int bw, uint32_t *out, size_t n)
{
    return decode(p, len, bw, out, true, n, -1);
}

int sesp_pq_rle_decode16(const uint8_t *p, size_t len, int bw, int16_t *out, size_t n, int max)
{
    if (bw > 16)
        return SESP_ERR_MALFORMED;
    return decode(p, len, bw, out, false, n, max);
}
