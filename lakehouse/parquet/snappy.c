/*
 * Snappy raw-block decompression for Parquet pages (the SNAPPY codec; the
 * format is google/snappy's format_description.txt: a varint32 length, then
 * literal and back-reference tags).  Why SESP decodes snappy itself:
 * Debian 12's libsnappy 1.1.9 sends every tag through an out-of-line MemMove
 * (a PLT call plus libc's memmove dispatch), and a Parquet page of short
 * strings is one tag every few bytes, so a snappy scan spent over 40% of its
 * time in those calls.  This decoder makes the same checks with inline
 * fixed-size copies when there is room for them and exact copies near the
 * ends of the buffers.  Compression stays with libsnappy; the unit tests and
 * a differential fuzz target (tests/fuzz/parquet/fuzz_snappy.c) hold this
 * decoder to libsnappy's answer, success or failure, on every input.
 */
#include "lakehouse/parquet/pq_internal.h"

#include <stdbool.h>
#include <string.h>

#include "common/err.h"

/* The uncompressed length: at most five bytes and 32 bits, as libsnappy. */
static bool read_length(const uint8_t **pp, const uint8_t *end, uint32_t *out)
{
    const uint8_t *p = *pp;
    uint32_t v = 0;
    for (unsigned shift = 0; shift < 35; shift += 7) {
        if (p == end)
            return false;
        uint8_t b = *p++;
        if (shift == 28 && b > 0x0f)
            return false;
        v |= (uint32_t)(b & 0x7f) << shift;
        if (b < 0x80) {
            *out = v;
            *pp = p;
            return true;
        }
    }
    return false;
}

static inline void copy16(uint8_t *d, const uint8_t *s)
{
    memcpy(d, s, 16);
}

int sesp_pq_snappy_uncompress(const uint8_t *src, size_t n, uint8_t *dst, size_t expect)
{
    const uint8_t *ip = src, *iend = src + n;
    uint32_t declared;
    if (!read_length(&ip, iend, &declared) || declared != expect)
        return SESP_ERR_CORRUPT;
    uint8_t *op = dst, *const oend = dst + expect;
    while (ip < iend) {
        const uint8_t tag = *ip++;
        size_t len, off;
        if ((tag & 3) == 0) {
            len = (size_t)(tag >> 2) + 1;
            /* Short literals (most of them) copy a whole 16 or 64 bytes when
             * both buffers have that much left; the excess output is
             * overwritten by the tags that follow. */
            if (len <= 16 && iend - ip >= 16 && oend - op >= 16) {
                copy16(op, ip);
                op += len;
                ip += len;
                continue;
            }
            if (len > 60) {
                size_t nb = len - 60, l = 0;
                if ((size_t)(iend - ip) < nb)
                    return SESP_ERR_CORRUPT;
                for (size_t k = 0; k < nb; k++)
                    l |= (size_t)ip[k] << (8 * k);
                ip += nb;
                /* 32-bit, as libsnappy: a stored 0xffffffff is an empty literal. */
                len = (uint32_t)(l + 1);
            }
            if ((size_t)(iend - ip) < len || (size_t)(oend - op) < len)
                return SESP_ERR_CORRUPT;
            if (len <= 64 && iend - ip >= 64 && oend - op >= 64) {
                copy16(op, ip);
                copy16(op + 16, ip + 16);
                copy16(op + 32, ip + 32);
                copy16(op + 48, ip + 48);
            } else {
                memcpy(op, ip, len);
            }
            op += len;
            ip += len;
            continue;
        }
        if ((tag & 3) == 1) {
            if (ip == iend)
                return SESP_ERR_CORRUPT;
            len = 4 + ((tag >> 2) & 7);
            off = ((size_t)(tag >> 5) << 8) | ip[0];
            ip += 1;
        } else if ((tag & 3) == 2) {
            if (iend - ip < 2)
                return SESP_ERR_CORRUPT;
            len = (size_t)(tag >> 2) + 1;
            off = (size_t)ip[0] | (size_t)ip[1] << 8;
            ip += 2;
        } else {
            if (iend - ip < 4)
                return SESP_ERR_CORRUPT;
            len = (size_t)(tag >> 2) + 1;
            off = (size_t)ip[0] | (size_t)ip[1] << 8 | (size_t)ip[2] << 16 | (size_t)ip[3] << 24;
            ip += 4;
        }
        if (off == 0 || off > (size_t)(op - dst) || len > (size_t)(oend - op))
            return SESP_ERR_CORRUPT;
        const uint8_t *from = op - off;
        if (oend - op >= 64) {
            /* len <= 64, so there is room to round the copy up to whole
             * 16- or 8-byte steps; each step reads only bytes already
             * written, because the distance it copies across is at least
             * its own size.  A distance under 8 (a run) first writes 8 bytes
             * one at a time, then copies across the smallest multiple of
             * off that is >= 8, which repeats the same pattern. */
            if (off >= 16) {
                copy16(op, from);
                if (len > 16) {
                    copy16(op + 16, from + 16);
                    if (len > 32) {
                        copy16(op + 32, from + 32);
                        copy16(op + 48, from + 48);
                    }
                }
            } else {
                size_t d = off, k = 0;
                if (off < 8) {
                    for (; k < 8; k++)
                        op[k] = from[k];
                    d = off * ((8 + off - 1) / off);
                }
                for (; k < len; k += 8)
                    memcpy(op + k, op + k - d, 8);
            }
            op += len;
            continue;
        }
        uint8_t *stop = op + len;
        while (op < stop)
            *op++ = *from++;
    }
    return op == oend ? 0 : SESP_ERR_CORRUPT;
}
