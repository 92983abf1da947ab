/*
 * libFuzzer target for the Kafka request codecs.  Input: 2 bytes api key, 2
 * bytes version, then a request body, fed to the generic decode + re-encode
 * helper; the raw input is also decoded as a request header.  A successful
 * decode must re-encode, and the re-encoding must itself decode to the same
 * bytes (encode/decode agree on every field the decoder accepted).
 */
#include <stdlib.h>
#include <string.h>

#include "broker/protocol/generated/kmsg.h"
#include "broker/protocol/header.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sesp_bufr r;
    sesp_kreq_header h;
    sesp_bufr_init(&r, data, size);
    (void)sesp_kreq_header_decode(&r, &h);

    if (size < 4)
        return 0;
    int16_t api_key = (int16_t)((data[0] << 8) | data[1]);
    int16_t version = (int16_t)((data[2] << 8) | data[3]);
    sesp_arena a;
    sesp_bufw w1, w2;
    sesp_arena_init(&a, 16u << 20);
    sesp_bufw_init(&w1, 0, 64u << 20);
    sesp_bufw_init(&w2, 0, 64u << 20);
    int rc = sesp_kmsg_request_roundtrip(api_key, version, data + 4, size - 4, &w1, &a);
    if (rc == 0) {
        /* Unknown tagged fields are dropped, so compare second and third generations. */
        int rc2 = sesp_kmsg_request_roundtrip(api_key, version, w1.p, w1.len, &w2, &a);
        if (rc2 != 0 || w1.len != w2.len || (w1.len && memcmp(w1.p, w2.p, w1.len) != 0))
            abort();
    }
    sesp_bufw_free(&w1);
    sesp_bufw_free(&w2);
    sesp_arena_free(&a);
    return 0;
}
