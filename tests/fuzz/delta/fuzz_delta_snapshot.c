/* libFuzzer target: snapshot reconstruction from a hostile log.  The input
 * is split on 0xFF into up to four commit files (versions 0..3) of a local
 * table; loading the latest snapshot, an older one and one by timestamp must
 * fail cleanly or give a consistent state, never crash or leak. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lakehouse/delta/delta.h"

#define CHECK(c) do { if (!(c)) abort(); } while (0)

static sesp_objstore *store;
static char dir[96];

static void cleanup(void)
{
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    if (system(cmd)) {}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!store) {
        char uri[128];
        snprintf(dir, sizeof(dir), "/tmp/sesp-fuzz-delta-%d", (int)getpid());
        snprintf(uri, sizeof(uri), "file://%s", dir);
        atexit(cleanup);
        sesp_objstore_opts o = {0};
        o.local_no_fsync = true;
        if (sesp_objstore_open(uri, &o, &store)) abort();
    }
    char key[64];
    for (int v = 0; v < 4; v++) {
        snprintf(key, sizeof(key), "_delta_log/%020d.json", v);
        sesp_objstore_delete(store, key);
    }
    size_t start = 0;
    int v = 0;
    for (size_t i = 0; i <= size && v < 4; i++) {
        if (i == size || data[i] == 0xFF) {
            snprintf(key, sizeof(key), "_delta_log/%020d.json", v++);
            CHECK(sesp_objstore_put(store, key, data + start, i - start) == 0);
            start = i + 1;
        }
    }
    char err[512];
    sesp_delta_snapshot *s = NULL;
    if (sesp_delta_snapshot_load(store, -1, &s, err, sizeof(err)) == 0) {
        CHECK(s->schema && s->schema->kind == SESP_DT_STRUCT);
        for (size_t i = 1; i < s->nfiles; i++) CHECK(strcmp(s->files[i - 1]->path, s->files[i]->path) < 0);
        for (size_t i = 0; i < s->nfiles; i++) free(sesp_delta_path_to_key(s->files[i]->path));
        sesp_delta_snapshot_free(s);
    }
    if (sesp_delta_snapshot_load(store, 0, &s, err, sizeof(err)) == 0) sesp_delta_snapshot_free(s);
    if (sesp_delta_snapshot_load_at(store, 1700000000000LL, &s, err, sizeof(err)) == 0) sesp_delta_snapshot_free(s);
    return 0;
}
