/*
 * Record-batch compression codecs (Kafka attributes bits 0-2): gzip (zlib),
 * snappy (raw, and the Java client's xerial framing, auto-detected on
 * decompression), lz4 frame (lz4frame), zstd (streaming).  Decompression
 * always takes an output limit so a decompression bomb fails cleanly with
 * SESP_ERR_TOO_LARGE instead of exhausting memory.
 */
#ifndef SESP_LOG_COMPRESS_H
#define SESP_LOG_COMPRESS_H

#include <stddef.h>
#include <stdint.h>

#define SESP_COMPRESS_SNAPPY_XERIAL 0x1   /* flag for sesp_compress with SNAPPY */

/* Decompresses in[0..in_len) with codec (SESP_CODEC_*) into a malloc'ed
 * buffer (*out, free()); more than max_out bytes -> SESP_ERR_TOO_LARGE, bad
 * input -> SESP_ERR_CORRUPT, unknown codec -> SESP_ERR_UNSUPPORTED. */
int sesp_decompress(int codec, const uint8_t *in, size_t in_len, size_t max_out, uint8_t **out, size_t *out_len);
/* As sesp_decompress, into a caller's buffer kept across calls (*buf
 * malloc'ed or NULL, *cap its size): it is grown with realloc as needed and
 * stays the caller's, whatever the result.  On the produce path this spares
 * a fresh allocation, and its page faults, per batch. */
int sesp_decompress_into(int codec, const uint8_t *in, size_t in_len, size_t max_out, uint8_t **buf, size_t *cap,
                         size_t *out_len);
/* Compresses into a malloc'ed buffer; flags: SESP_COMPRESS_*. */
int sesp_compress(int codec, int flags, const uint8_t *in, size_t in_len, uint8_t **out, size_t *out_len);

#endif
