/*
 * Page compression codecs: UNCOMPRESSED, SNAPPY (raw, libsnappy's C API to
 * compress, snappy.c to decompress),
 * GZIP (zlib with a gzip header), ZSTD and LZ4_RAW (an LZ4 block without
 * framing).  Decompression always targets the exact uncompressed size the
 * page header promises, so a lying header is an error, not an overflow.
 */
#include "lakehouse/parquet/pq_internal.h"

#include <lz4.h>
#include <snappy-c.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#include "common/err.h"

const char *sesp_pq_codec_name(sesp_pq_codec c)
{
    switch (c) {
    case SESP_PQ_UNCOMPRESSED: return "uncompressed";
    case SESP_PQ_SNAPPY: return "snappy";
    case SESP_PQ_GZIP: return "gzip";
    case SESP_PQ_ZSTD: return "zstd";
    case SESP_PQ_LZ4_RAW: return "lz4_raw";
    }
    return "unknown";
}

bool sesp_pq_codec_supported(int codec)
{
    return codec == SESP_PQ_UNCOMPRESSED || codec == SESP_PQ_SNAPPY || codec == SESP_PQ_GZIP ||
           codec == SESP_PQ_ZSTD || codec == SESP_PQ_LZ4_RAW;
}

size_t sesp_pq_compress_bound(int codec, size_t n)
{
    switch (codec) {
    case SESP_PQ_SNAPPY: return snappy_max_compressed_length(n);
    case SESP_PQ_GZIP: return compressBound((uLong)n) + 32;
    case SESP_PQ_ZSTD: return ZSTD_compressBound(n);
    case SESP_PQ_LZ4_RAW: return n > LZ4_MAX_INPUT_SIZE ? 0 : (size_t)LZ4_compressBound((int)n);
    default: return n;
    }
}

static int gzip_compress(int level, const uint8_t *src, size_t n, uint8_t *dst, size_t cap,
                         size_t *out_len)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, level ? level : 4, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        return SESP_ERR_NOMEM;
    z.next_in = (Bytef *)src;
    z.avail_in = (uInt)n;
    z.next_out = dst;
    z.avail_out = (uInt)cap;
    int rc = deflate(&z, Z_FINISH);
    *out_len = z.total_out;
    deflateEnd(&z);
    return rc == Z_STREAM_END ? 0 : SESP_ERR_TOO_LARGE;
}

static int gzip_decompress(const uint8_t *src, size_t n, uint8_t *dst, size_t expect)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 32) != Z_OK)
        return SESP_ERR_NOMEM;
    z.next_in = (Bytef *)src;
    z.avail_in = (uInt)n;
    z.next_out = dst;
    z.avail_out = (uInt)expect;
    int rc = inflate(&z, Z_FINISH);
    size_t got = z.total_out;
    inflateEnd(&z);
    if (rc != Z_STREAM_END || got != expect)
        return SESP_ERR_CORRUPT;
    return 0;
}

int sesp_pq_compress(int codec, int level, const uint8_t *src, size_t n, uint8_t *dst,
                     size_t cap, size_t *out_len)
{
    static const uint8_t empty[1];
    if (n > INT32_MAX)
        return SESP_ERR_TOO_LARGE;
    if (n == 0)
        src = empty;        /* an empty page (all nulls) still gets a valid frame */
    switch (codec) {
    case SESP_PQ_UNCOMPRESSED:
        if (cap < n)
            return SESP_ERR_TOO_LARGE;
        memcpy(dst, src, n);
        *out_len = n;
        return 0;
    case SESP_PQ_SNAPPY: {
        size_t l = cap;
        if (snappy_compress((const char *)src, n, (char *)dst, &l) != SNAPPY_OK)
            return SESP_ERR_TOO_LARGE;
        *out_len = l;
        return 0;
    }
    case SESP_PQ_GZIP:
        return gzip_compress(level, src, n, dst, cap, out_len);
    case SESP_PQ_ZSTD: {
        size_t l = ZSTD_compress(dst, cap, src, n, level ? level : 3);
        if (ZSTD_isError(l))
            return SESP_ERR_TOO_LARGE;
        *out_len = l;
        return 0;
    }
    case SESP_PQ_LZ4_RAW: {
        int l = LZ4_compress_default((const char *)src, (char *)dst, (int)n, (int)(cap > INT32_MAX ? INT32_MAX : cap));
        if (l <= 0 && n > 0)
            return SESP_ERR_TOO_LARGE;
        *out_len = (size_t)l;
        return 0;
    }
    }
    return SESP_ERR_UNSUPPORTED;
}

int sesp_pq_decompress(int codec, const uint8_t *src, size_t n, uint8_t *dst, size_t expect)
{
    static const uint8_t empty[1];
    if (n == 0)
        src = empty;
    switch (codec) {
    case SESP_PQ_UNCOMPRESSED:
        if (n != expect)
            return SESP_ERR_CORRUPT;
        memcpy(dst, src, n);
        return 0;
    case SESP_PQ_SNAPPY:
        return sesp_pq_snappy_uncompress(src, n, dst, expect);
    case SESP_PQ_GZIP:
        return gzip_decompress(src, n, dst, expect);
    case SESP_PQ_ZSTD: {
        /* A page may hold several concatenated frames; ZSTD_decompress handles that. */
        size_t l = ZSTD_decompress(dst, expect, src, n);
        if (ZSTD_isError(l) || l != expect)
            return SESP_ERR_CORRUPT;
        return 0;
    }
    case SESP_PQ_LZ4_RAW: {
        if (n > INT32_MAX || expect > INT32_MAX)
            return SESP_ERR_TOO_LARGE;
        int l = LZ4_decompress_safe((const char *)src, (char *)dst, (int)n, (int)expect);
        if (l < 0 || (size_t)l != expect)
            return SESP_ERR_CORRUPT;
        return 0;
    }
    }
    return SESP_ERR_UNSUPPORTED;
}
