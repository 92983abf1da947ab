/* libFuzzer target: the Java properties parser and config resolution of
 * broker/server/config on arbitrary text: no crash, no leak, and whatever
 * finishes successfully has a usable listener and log dir. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "broker/server/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sesp_config c;
    char err[256];
    sesp_config_init(&c);
    if (sesp_config_load_string(&c, (const char *)data, size, err, sizeof err) == 0 &&
        sesp_config_finish(&c, err, sizeof err) == 0) {
        if (c.num_listeners < 1 || c.num_log_dirs < 1 || c.num_advertised < 1)
            abort();
        for (size_t i = 0; i < sesp_config_known_count(); i++) {
            sesp_config_desc d;
            sesp_config_describe_at(&c, i, &d);
            if (!d.name)
                abort();
        }
    }
    sesp_config_free(&c);
    return 0;
}
