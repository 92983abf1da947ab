/* libFuzzer target, differential: SESP's snappy decompressor
 * (lakehouse/parquet/snappy.c) against libsnappy.  The input is taken as a
 * compressed block, which both must decode to the same bytes or both refuse,
 * and as data that libsnappy compresses and SESP must decode back exactly.
 * The output buffer is exactly the declared size, so ASan sees any write
 * past it.  Any crash, sanitizer report or disagreement is a bug. */
#include <snappy-c.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lakehouse/parquet/pq_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t l;
    if (snappy_uncompressed_length((const char *)data, size, &l) == SNAPPY_OK && l <= (4u << 20)) {
        uint8_t *ref = malloc(l + 1), *got = malloc(l ? l : 1);
        if (!ref || !got)
            abort();
        size_t rl = l;
        int ref_ok = snappy_uncompress((const char *)data, size, (char *)ref, &rl) == SNAPPY_OK && rl == l;
        int ours_ok = sesp_pq_snappy_uncompress(data, size, got, l) == 0;
        if (ref_ok != ours_ok || (ref_ok && memcmp(ref, got, l) != 0))
            abort();
        /* Any other length is refused. */
        if (sesp_pq_snappy_uncompress(data, size, got, l ? l - 1 : 0) == 0 && l)
            abort();
        free(ref);
        free(got);
    }

    size_t cap = snappy_max_compressed_length(size), cl = cap;
    uint8_t *c = malloc(cap ? cap : 1), *back = malloc(size ? size : 1);
    if (!c || !back || snappy_compress((const char *)data, size, (char *)c, &cl) != SNAPPY_OK)
        abort();
    if (sesp_pq_snappy_uncompress(c, cl, back, size) != 0 || memcmp(back, data, size) != 0)
        abort();
    free(c);
    free(back);
    return 0;
}
