/* libFuzzer target: the Delta commit decoder (newline-delimited JSON actions)
 * and the schemaString parser.  Anything that decodes must re-encode and
 * decode to the same actions; nothing may crash or leak. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lakehouse/delta/delta.h"

/* CHECK() is compiled out in release builds; the fuzzer needs it always */
#define CHECK(c) do { if (!(c)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sesp_arena a;
    sesp_arena_init(&a, 64u << 20);
    sesp_delta_action *acts = NULL;
    size_t n = 0;
    char err[256];
    if (sesp_delta_actions_decode(data, size, &a, &acts, &n, err, sizeof(err)) == 0) {
        sesp_bufw w;
        sesp_bufw_init(&w, 256, 0);
        for (size_t i = 0; i < n; i++) {
            int rc = sesp_delta_action_encode(&acts[i], &w);
            CHECK(rc == 0);
            if (acts[i].kind == SESP_DA_METADATA) {
                sesp_delta_type *t = NULL;
                const char *s = acts[i].u.metadata.schema_string;
                if (sesp_delta_schema_parse(s, strlen(s), &t, err, sizeof(err)) == 0) {
                    char *back = sesp_delta_schema_to_string(t);
                    sesp_delta_type *t2 = NULL;
                    CHECK(back && sesp_delta_schema_parse(back, strlen(back), &t2, err, sizeof(err)) == 0);
                    CHECK(sesp_delta_type_equal(t, t2));
                    sesp_delta_type_free(t2);
                    free(back);
                }
                sesp_delta_type_free(t);
            }
        }
        sesp_delta_action *again = NULL;
        size_t n2 = 0;
        int rc = sesp_delta_actions_decode(w.p, w.len, &a, &again, &n2, err, sizeof(err));
        CHECK(rc == 0 && n2 == n);
        for (size_t i = 0; i < n; i++) CHECK(again[i].kind == acts[i].kind);
        sesp_bufw_free(&w);
    }
    sesp_arena_free(&a);
    return 0;
}
