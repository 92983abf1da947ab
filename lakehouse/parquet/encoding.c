/*
 * Value encodings: PLAIN decoding for every physical type (the writer appends
 * PLAIN bytes inline on its hot path) and the per-column-chunk dictionary used
 * by RLE_DICTIONARY: an open-addressing hash table over the distinct values,
 * whose entries are kept PLAIN-encoded in insertion order so the dictionary
 * page is the buffer itself.
 */
#include "lakehouse/parquet/pq_internal.h"

#include <stdlib.h>
#include <string.h>

#include "common/err.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "lakehouse/parquet assumes a little-endian host (Parquet PLAIN is little-endian)"
#endif

size_t sesp_pq_plain_width(sesp_pq_physical t, int type_length)
{
    switch (t) {
    case SESP_PQ_INT32: case SESP_PQ_FLOAT: return 4;
    case SESP_PQ_INT64: case SESP_PQ_DOUBLE: return 8;
    case SESP_PQ_INT96: return 12;
    case SESP_PQ_FIXED_LEN_BYTE_ARRAY: return (size_t)type_length;
    default: return 0;
    }
}

/* Spreads the 8 bits of b to the low bit of 8 bytes (bit k -> byte k). */
static inline uint64_t spread_bits(uint64_t b)
{
    b = (b | (b << 28)) & 0x0000000F0000000Full;
    b = (b | (b << 14)) & 0x0003000300030003ull;
    b = (b | (b << 7)) & 0x0101010101010101ull;
    return b;
}

void sesp_pq_unpack_bools(const uint8_t *p, size_t n, uint8_t *out)
{
    size_t full = n / 8;
    for (size_t i = 0; i < full; i++) {
        uint64_t x = spread_bits(p[i]);
        memcpy(out + i * 8, &x, 8);
    }
    for (size_t i = full * 8; i < n; i++)
        out[i] = (p[i >> 3] >> (i & 7)) & 1;
}

int sesp_pq_plain_decode(sesp_pq_physical t, int type_length, const uint8_t *p, size_t len,
                         size_t n, void *out, size_t *used)
{
    switch (t) {
    case SESP_PQ_BOOLEAN: {
        if ((n + 7) / 8 > len)
            return SESP_ERR_MALFORMED;
        sesp_pq_unpack_bools(p, n, out);
        *used = (n + 7) / 8;
        return 0;
    }
    case SESP_PQ_INT32: case SESP_PQ_FLOAT: case SESP_PQ_INT64: case SESP_PQ_DOUBLE: {
        size_t w = sesp_pq_plain_width(t, type_length);
        if (n > len / w)
            return SESP_ERR_MALFORMED;
        if (n)
            memcpy(out, p, n * w);
        *used = n * w;
        return 0;
    }
    case SESP_PQ_INT96: case SESP_PQ_FIXED_LEN_BYTE_ARRAY: {
        size_t w = sesp_pq_plain_width(t, type_length);
        if (w == 0 || n > len / w || len > UINT32_MAX)
            return SESP_ERR_MALFORMED;
        sesp_pq_str *o = out;
        for (size_t i = 0; i < n; i++) {
            o[i].off = (uint32_t)(i * w);
            o[i].len = (uint32_t)w;
        }
        *used = n * w;
        return 0;
    }
    case SESP_PQ_BYTE_ARRAY: {
        if (len > UINT32_MAX)
            return SESP_ERR_MALFORMED;
        sesp_pq_str *o = out;
        size_t pos = 0;
        for (size_t i = 0; i < n; i++) {
            uint32_t l;
            /* One check per value: the length word and the bytes it announces. */
            if (len - pos < 4 || (memcpy(&l, p + pos, 4), l > len - pos - 4))
                return SESP_ERR_MALFORMED;
            o[i].off = (uint32_t)(pos + 4);
            o[i].len = l;
            pos += 4 + (size_t)l;
        }
        *used = pos;
        return 0;
    }
    }
    return SESP_ERR_MALFORMED;
}

/* ---- dictionary ---- */

static inline uint64_t hash_bytes(const uint8_t *p, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15ull ^ (n * 0xff51afd7ed558ccdull);
    while (n >= 8) {
        uint64_t x;
        memcpy(&x, p, 8);
        h = (h ^ (x * 0x87c37b91114253d5ull)) * 0x4cf5ad432745937full;
        h ^= h >> 29;
        p += 8;
        n -= 8;
    }
    if (n) {
        uint64_t x = 0;
        memcpy(&x, p, n);
        h = (h ^ (x * 0x87c37b91114253d5ull)) * 0x4cf5ad432745937full;
    }
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ull;
    h ^= h >> 32;
    return h;
}

void sesp_pq_dict_init(sesp_pq_dict *d, sesp_pq_physical t, int type_length)
{
    memset(d, 0, sizeof *d);
    d->type = t;
    d->type_length = type_length;
    sesp_bufw_init(&d->plain, 0, 0);
}

void sesp_pq_dict_free(sesp_pq_dict *d)
{
    sesp_bufw_free(&d->plain);
    free(d->offsets);
    free(d->lens);
    free(d->slots);
    memset(d, 0, sizeof *d);
}

void sesp_pq_dict_reset(sesp_pq_dict *d)
{
    sesp_bufw_reset(&d->plain);
    d->n = 0;
    if (d->slots)
        memset(d->slots, 0, d->nslots * sizeof *d->slots);
}

static bool grow_slots(sesp_pq_dict *d)
{
    uint32_t ns = d->nslots ? d->nslots * 2 : 1024;
    uint64_t *s = calloc(ns, sizeof *s);
    if (!s)
        return false;
    for (uint32_t i = 0; i < d->n; i++) {
        uint64_t h = hash_bytes(d->plain.p + d->offsets[i], d->lens[i]);
        uint32_t k = (uint32_t)h & (ns - 1);
        while (s[k])
            k = (k + 1) & (ns - 1);
        s[k] = (h & 0xffffffff00000000ull) | (i + 1);
    }
    free(d->slots);
    d->slots = s;
    d->nslots = ns;
    return true;
}

static inline bool same_value(const sesp_pq_dict *d, uint32_t e, const void *val, size_t len)
{
    const uint8_t *p = d->plain.p + d->offsets[e];
    if (d->lens[e] != len)
        return false;
    /* Fixed-width values compare as integers: no memcmp call on the hot path. */
    if (len == 8) { uint64_t a, b; memcpy(&a, p, 8); memcpy(&b, val, 8); return a == b; }
    if (len == 4) { uint32_t a, b; memcpy(&a, p, 4); memcpy(&b, val, 4); return a == b; }
    return len == 0 || memcmp(p, val, len) == 0;
}

int64_t sesp_pq_dict_insert(sesp_pq_dict *d, const void *val, size_t len)
{
    if ((uint64_t)(d->n + 1) * 2 > d->nslots && !grow_slots(d))
        return -1;
    uint64_t h = hash_bytes(val, len);
    uint64_t tag = h & 0xffffffff00000000ull;
    uint32_t mask = d->nslots - 1;
    uint32_t k = (uint32_t)h & mask;
    for (;;) {
        uint64_t sl = d->slots[k];
        if (!sl)
            break;
        if ((sl & 0xffffffff00000000ull) == tag) {
            uint32_t e = (uint32_t)sl - 1;
            if (same_value(d, e, val, len))
                return e;
        }
        k = (k + 1) & mask;
    }
    if (d->n == d->cap_entries) {
        uint32_t nc = d->cap_entries ? d->cap_entries * 2 : 1024;
        uint32_t *o = realloc(d->offsets, nc * sizeof *o);
        if (!o)
            return -1;
        d->offsets = o;
        uint32_t *l = realloc(d->lens, nc * sizeof *l);
        if (!l)
            return -1;
        d->lens = l;
        d->cap_entries = nc;
    }
    if (d->type == SESP_PQ_BYTE_ARRAY)
        sesp_bufw_u32le(&d->plain, (uint32_t)len);
    size_t off = d->plain.len;
    if (len)
        sesp_bufw_put(&d->plain, val, len);
    if (d->plain.err || off > UINT32_MAX)
        return -1;
    d->offsets[d->n] = (uint32_t)off;
    d->lens[d->n] = (uint32_t)len;
    d->slots[k] = tag | (d->n + 1);
    return d->n++;
}

/* ---- DELTA_BINARY_PACKED (read side; used by DELTA_LENGTH_BYTE_ARRAY and
 * DELTA_BYTE_ARRAY too) ---- */

int sesp_pq_delta_decode(const uint8_t *p, size_t len, int value_bits, int64_t *out, size_t n, size_t *used)
{
    sesp_bufr r;
    sesp_bufr_init(&r, p, len);
    uint64_t block = sesp_bufr_uvarlong(&r);
    uint64_t mblocks = sesp_bufr_uvarlong(&r);
    uint64_t total = sesp_bufr_uvarlong(&r);
    int64_t first = sesp_bufr_varlong(&r);
    if (r.err || block == 0 || block % 128 || block > (1u << 20) || mblocks == 0 || block % mblocks ||
        (block / mblocks) % 32 || total != n)
        return SESP_ERR_MALFORMED;
    uint64_t per_mb = block / mblocks;
    uint64_t mask = value_bits == 32 ? 0xffffffffull : ~0ull;
    uint64_t cur = (uint64_t)first & mask;
    size_t got = 0;
    if (n > 0)
        out[got++] = value_bits == 32 ? (int64_t)(int32_t)(uint32_t)cur : (int64_t)cur;
    uint8_t widths[256];
    if (mblocks > sizeof widths)
        return SESP_ERR_MALFORMED;
    while (got < n) {
        int64_t min_delta = sesp_bufr_varlong(&r);
        const uint8_t *wb = sesp_bufr_take(&r, (size_t)mblocks);
        if (!wb)
            return SESP_ERR_MALFORMED;
        memcpy(widths, wb, (size_t)mblocks);
        for (uint64_t m = 0; m < mblocks && got < n; m++) {
            int bw = widths[m];
            if (bw > value_bits)
                return SESP_ERR_MALFORMED;
            size_t nbytes = (size_t)(per_mb * (uint64_t)bw / 8);
            const uint8_t *b = sesp_bufr_take(&r, nbytes);
            if (!b && nbytes)
                return SESP_ERR_MALFORMED;
            uint64_t acc = 0;
            int nbits = 0;
            size_t k = 0;
            for (uint64_t i = 0; i < per_mb && got < n; i++) {
                uint64_t x = 0;
                if (bw) {
                    /* bw may be up to 64: gather bit by byte */
                    int have = 0;
                    while (have < bw) {
                        if (nbits == 0) {
                            if (k >= nbytes)
                                return SESP_ERR_MALFORMED;
                            acc = b[k++];
                            nbits = 8;
                        }
                        int take = bw - have < nbits ? bw - have : nbits;
                        x |= (acc & ((1ull << take) - 1)) << have;
                        acc >>= take;
                        nbits -= take;
                        have += take;
                    }
                }
                cur = (cur + (uint64_t)min_delta + x) & mask;
                out[got++] = value_bits == 32 ? (int64_t)(int32_t)(uint32_t)cur : (int64_t)cur;
            }
        }
        if (r.err)
            return SESP_ERR_MALFORMED;
    }
    *used = r.pos;
    return 0;
}
