/*
 * Codec implementations behind compress.h.  Every decoder writes into a
 * growing buffer capped at max_out + 1 bytes: reaching the extra byte proves
 * the output is over the limit without ever allocating what a bomb asks for.
 */
#include "compress.h"
#include "batch.h"
#include "common/err.h"

#include <lz4frame.h>
#include <snappy-c.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

typedef struct outbuf {
    uint8_t *p;
    size_t len, cap, max;   /* cap never exceeds max + 1 */
} outbuf;

/* Ensures at least one free byte; SESP_ERR_TOO_LARGE once past max. */
static int ob_room(outbuf *o)
{
    if (o->len > o->max)
        return SESP_ERR_TOO_LARGE;
    if (o->len < o->cap)
        return 0;
    size_t limit = o->max + 1;
    size_t ncap = o->cap ? o->cap * 2 : 64 * 1024;
    if (ncap > limit || ncap < o->cap)
        ncap = limit;
    uint8_t *np = realloc(o->p, ncap ? ncap : 1);
    if (!np)
        return SESP_ERR_NOMEM;
    o->p = np;
    o->cap = ncap;
    return 0;
}

static int ob_finish(outbuf *o, int rc, uint8_t **out, size_t *out_len)
{
    if (rc == 0 && o->len > o->max)
        rc = SESP_ERR_TOO_LARGE;
    if (rc) {
        free(o->p);
        return rc;
    }
    if (!o->p)
        o->p = malloc(1);
    if (!o->p)
        return SESP_ERR_NOMEM;
    *out = o->p;
    *out_len = o->len;
    return 0;
}

static int gunzip(const uint8_t *in, size_t in_len, outbuf *o)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, 15 + 32) != Z_OK)     /* +32: accept gzip or zlib header */
        return SESP_ERR_NOMEM;
    int rc = 0;
    zs.next_in = (Bytef *)in;
    zs.avail_in = 0;
    size_t in_left = in_len;
    for (;;) {
        if ((rc = ob_room(o)))
            break;
        if (zs.avail_in == 0 && in_left) {
            zs.avail_in = in_left > UINT32_MAX ? UINT32_MAX : (uInt)in_left;
            in_left -= zs.avail_in;
        }
        size_t room = o->cap - o->len;
        zs.next_out = o->p + o->len;
        zs.avail_out = room > UINT32_MAX ? UINT32_MAX : (uInt)room;
        uInt before = zs.avail_out;
        int zr = inflate(&zs, Z_NO_FLUSH);
        o->len += before - zs.avail_out;
        if (zr == Z_STREAM_END) {
            /* Concatenated gzip members are legal (Java's GZIPInputStream reads them). */
            if (zs.avail_in == 0 && in_left == 0)
                break;
            if (inflateReset(&zs) != Z_OK) {
                rc = SESP_ERR_CORRUPT;
                break;
            }
            continue;
        }
        if (zr == Z_BUF_ERROR && zs.avail_out != 0) {
            rc = SESP_ERR_CORRUPT;      /* input ended mid-stream */
            break;
        }
        if (zr != Z_OK && zr != Z_BUF_ERROR) {
            rc = zr == Z_MEM_ERROR ? SESP_ERR_NOMEM : SESP_ERR_CORRUPT;
            break;
        }
    }
    inflateEnd(&zs);
    return rc;
}

static int snappy_raw_into(const uint8_t *in, size_t in_len, outbuf *o)
{
    size_t ulen;
    if (snappy_uncompressed_length((const char *)in, in_len, &ulen) != SNAPPY_OK)
        return SESP_ERR_CORRUPT;
    if (ulen > o->max - o->len)
        return SESP_ERR_TOO_LARGE;
    if (o->cap - o->len < ulen || !o->p) {
        size_t ncap = o->len + ulen;
        if (ncap < o->cap * 2 && o->cap * 2 <= o->max + 1)
            ncap = o->cap * 2;
        uint8_t *np = realloc(o->p, ncap ? ncap : 1);
        if (!np)
            return SESP_ERR_NOMEM;
        o->p = np;
        o->cap = ncap;
    }
    size_t got = ulen;
    if (snappy_uncompress((const char *)in, in_len, (char *)o->p + o->len, &got) != SNAPPY_OK || got != ulen)
        return SESP_ERR_CORRUPT;
    o->len += got;
    return 0;
}

static const uint8_t xerial_magic[8] = {0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0};

static int unsnappy(const uint8_t *in, size_t in_len, outbuf *o)
{
    if (in_len < 16 || memcmp(in, xerial_magic, sizeof xerial_magic) != 0)
        return snappy_raw_into(in, in_len, o);
    sesp_bufr r;
    sesp_bufr_init(&r, in, in_len);
    sesp_bufr_skip(&r, 16);     /* magic, version, min compatible version */
    while (sesp_bufr_left(&r) > 0) {
        int32_t n = sesp_bufr_i32(&r);
        if (n < 0)
            return SESP_ERR_CORRUPT;
        const uint8_t *chunk = sesp_bufr_take(&r, (size_t)n);
        if (!chunk)
            return SESP_ERR_CORRUPT;
        int rc = snappy_raw_into(chunk, (size_t)n, o);
        if (rc)
            return rc;
    }
    return r.err ? SESP_ERR_CORRUPT : 0;
}

static int unlz4(const uint8_t *in, size_t in_len, outbuf *o)
{
    LZ4F_dctx *dctx;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
        return SESP_ERR_NOMEM;
    int rc = 0;
    size_t pos = 0;
    size_t hint = 1;
    while (hint != 0) {
        if ((rc = ob_room(o)))
            break;
        size_t dst = o->cap - o->len, src = in_len - pos;
        hint = LZ4F_decompress(dctx, o->p + o->len, &dst, in + pos, &src, NULL);
        if (LZ4F_isError(hint)) {
            rc = SESP_ERR_CORRUPT;
            break;
        }
        pos += src;
        o->len += dst;
        if (hint != 0 && src == 0 && dst == 0) {
            rc = SESP_ERR_CORRUPT;      /* input ended before the frame did */
            break;
        }
    }
    if (!rc && pos != in_len)
        rc = SESP_ERR_CORRUPT;          /* trailing bytes after the frame */
    LZ4F_freeDecompressionContext(dctx);
    return rc;
}

static int unzstd(const uint8_t *in, size_t in_len, outbuf *o)
{
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    if (!dctx)
        return SESP_ERR_NOMEM;
    int rc = 0;
    ZSTD_inBuffer ib = {in, in_len, 0};
    size_t ret = 1;
    for (;;) {
        if ((rc = ob_room(o)))
            break;
        ZSTD_outBuffer ob = {o->p + o->len, o->cap - o->len, 0};
        size_t before_in = ib.pos;
        ret = ZSTD_decompressStream(dctx, &ob, &ib);
        if (ZSTD_isError(ret)) {
            rc = SESP_ERR_CORRUPT;
            break;
        }
        o->len += ob.pos;
        if (ret == 0 && ib.pos == ib.size)
            break;                      /* frame(s) complete */
        if (ib.pos == ib.size && ob.pos < ob.size && ib.pos == before_in) {
            rc = SESP_ERR_CORRUPT;      /* truncated frame */
            break;
        }
    }
    ZSTD_freeDCtx(dctx);
    return rc;
}

static int decode(int codec, const uint8_t *in, size_t in_len, outbuf *o)
{
    switch (codec) {
    case SESP_CODEC_GZIP: return gunzip(in, in_len, o);
    case SESP_CODEC_SNAPPY: return unsnappy(in, in_len, o);
    case SESP_CODEC_LZ4: return unlz4(in, in_len, o);
    case SESP_CODEC_ZSTD: return unzstd(in, in_len, o);
    default: return SESP_ERR_UNSUPPORTED;
    }
}

int sesp_decompress(int codec, const uint8_t *in, size_t in_len, size_t max_out, uint8_t **out, size_t *out_len)
{
    outbuf o = {NULL, 0, 0, max_out};
    return ob_finish(&o, decode(codec, in, in_len, &o), out, out_len);
}

int sesp_decompress_into(int codec, const uint8_t *in, size_t in_len, size_t max_out, uint8_t **buf, size_t *cap,
                         size_t *out_len)
{
    /* ob_room's invariant: the capacity never exceeds max + 1. */
    outbuf o = {*buf, 0, *cap <= max_out ? *cap : max_out + 1, max_out};
    int rc = decode(codec, in, in_len, &o);
    if (rc == 0 && o.len > o.max)
        rc = SESP_ERR_TOO_LARGE;
    *buf = o.p;
    *cap = o.cap;
    *out_len = rc ? 0 : o.len;
    return rc;
}

static int gzip_c(const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return SESP_ERR_NOMEM;
    size_t cap = deflateBound(&zs, (uLong)in_len) + 32;
    uint8_t *p = malloc(cap);
    if (!p) {
        deflateEnd(&zs);
        return SESP_ERR_NOMEM;
    }
    zs.next_in = (Bytef *)in;
    zs.avail_in = (uInt)in_len;
    zs.next_out = p;
    zs.avail_out = (uInt)cap;
    int zr = deflate(&zs, Z_FINISH);
    size_t n = cap - zs.avail_out;
    deflateEnd(&zs);
    if (zr != Z_STREAM_END) {
        free(p);
        return SESP_ERR_NOMEM;
    }
    *out = p;
    *out_len = n;
    return 0;
}

static int snappy_c(const uint8_t *in, size_t in_len, bool xerial, uint8_t **out, size_t *out_len)
{
    const size_t block = 32 * 1024;     /* the Java client's default xerial block size */
    size_t nblocks = xerial ? (in_len + block - 1) / block : 1;
    size_t cap = xerial ? 16 : 0;
    if (xerial) {
        for (size_t i = 0; i < nblocks; i++) {
            size_t n = in_len - i * block < block ? in_len - i * block : block;
            cap += 4 + snappy_max_compressed_length(n);
        }
    } else {
        cap = snappy_max_compressed_length(in_len);
    }
    uint8_t *p = malloc(cap ? cap : 1);
    if (!p)
        return SESP_ERR_NOMEM;
    size_t pos = 0;
    if (!xerial) {
        size_t n = cap;
        if (snappy_compress((const char *)in, in_len, (char *)p, &n) != SNAPPY_OK)
            goto fail;
        pos = n;
    } else {
        memcpy(p, xerial_magic, 8);
        static const uint8_t ver[8] = {0, 0, 0, 1, 0, 0, 0, 1};
        memcpy(p + 8, ver, 8);
        pos = 16;
        for (size_t i = 0; i < nblocks; i++) {
            size_t n_in = in_len - i * block < block ? in_len - i * block : block;
            size_t n = cap - pos - 4;
            if (snappy_compress((const char *)in + i * block, n_in, (char *)p + pos + 4, &n) != SNAPPY_OK)
                goto fail;
            p[pos] = (uint8_t)(n >> 24);
            p[pos + 1] = (uint8_t)(n >> 16);
            p[pos + 2] = (uint8_t)(n >> 8);
            p[pos + 3] = (uint8_t)n;
            pos += 4 + n;
        }
    }
    *out = p;
    *out_len = pos;
    return 0;
fail:
    free(p);
    return SESP_ERR_MALFORMED;
}

static int lz4_c(const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len)
{
    LZ4F_preferences_t prefs;
    memset(&prefs, 0, sizeof prefs);
    size_t cap = LZ4F_compressFrameBound(in_len, &prefs);
    uint8_t *p = malloc(cap);
    if (!p)
        return SESP_ERR_NOMEM;
    size_t n = LZ4F_compressFrame(p, cap, in, in_len, &prefs);
    if (LZ4F_isError(n)) {
        free(p);
        return SESP_ERR_MALFORMED;
    }
    *out = p;
    *out_len = n;
    return 0;
}

static int zstd_c(const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len)
{
    size_t cap = ZSTD_compressBound(in_len);
    uint8_t *p = malloc(cap);
    if (!p)
        return SESP_ERR_NOMEM;
    size_t n = ZSTD_compress(p, cap, in, in_len, 3);
    if (ZSTD_isError(n)) {
        free(p);
        return SESP_ERR_MALFORMED;
    }
    *out = p;
    *out_len = n;
    return 0;
}

int sesp_compress(int codec, int flags, const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len)
{
    switch (codec) {
    case SESP_CODEC_GZIP: return gzip_c(in, in_len, out, out_len);
    case SESP_CODEC_SNAPPY: return snappy_c(in, in_len, (flags & SESP_COMPRESS_SNAPPY_XERIAL) != 0, out, out_len);
    case SESP_CODEC_LZ4: return lz4_c(in, in_len, out, out_len);
    case SESP_CODEC_ZSTD: return zstd_c(in, in_len, out, out_len);
    default: return SESP_ERR_UNSUPPORTED;
    }
}
