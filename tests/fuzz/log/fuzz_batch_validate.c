/* libFuzzer target: sesp_batch_validate and record iteration on arbitrary
 * bytes.  The first input byte picks a codec to force into the attributes
 * (with the CRC fixed up) so decompressors are reached, not just the CRC check. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/log/batch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    sesp_batch_header h;
    sesp_batch_validate(data, size, 1 << 20, &h);
    if (size < SESP_BATCH_HEADER_SIZE || !(mode & 0x80))
        return 0;
    uint8_t *b = malloc(size);
    if (!b)
        return 0;
    memcpy(b, data, size);
    b[SESP_BATCH_OFF_MAGIC] = 2;
    b[SESP_BATCH_OFF_ATTRIBUTES + 1] = (uint8_t)((b[SESP_BATCH_OFF_ATTRIBUTES + 1] & ~7) | (mode % 5));
    uint32_t blen = (uint32_t)(size - SESP_BATCH_LOG_OVERHEAD);
    b[8] = (uint8_t)(blen >> 24);
    b[9] = (uint8_t)(blen >> 16);
    b[10] = (uint8_t)(blen >> 8);
    b[11] = (uint8_t)blen;
    sesp_batch_update_crc(b, size);
    sesp_batch_iter it;
    if (sesp_batch_iter_init(&it, b, size, 1 << 20) == 0) {
        sesp_record r;
        while (sesp_batch_iter_next(&it, &r) == 1) {
            if (r.header_count > 0) {
                sesp_bufr hr;
                sesp_record_hdr hd;
                sesp_bufr_init(&hr, r.headers, r.headers_len);
                for (int32_t i = 0; i < r.header_count; i++)
                    if (sesp_record_next_header(&hr, &hd))
                        abort();        /* the iterator already validated them */
            }
        }
    }
    sesp_batch_iter_free(&it);
    free(b);
    return 0;
}
