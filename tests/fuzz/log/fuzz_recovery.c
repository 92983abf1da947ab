/* libFuzzer target: the input becomes a segment .log file (optionally with a
 * clean-shutdown marker and a garbage index, picked by the first byte); the
 * log is opened (recovery), read end to end, appended to and closed.
 * Recovery must never crash and the recovered log must stay consistent. */
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker/log/batch.h"
#include "broker/log/log.h"

static char root[64];

static void put_file(const char *dir, const char *name, const uint8_t *p, size_t n)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0)
        abort();
    if (n && write(fd, p, n) != (ssize_t)n)
        abort();
    close(fd);
}

/* Empties (or creates) the partition directory between runs. */
static void clear_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.' && (!e->d_name[1] || (e->d_name[1] == '.' && !e->d_name[2])))
                continue;
            char p[512];
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    } else if (mkdir(dir, 0755) != 0) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!root[0]) {
        /* tmpfs when available: recovery fsyncs a lot and disk fsyncs would dominate. */
        strcpy(root, access("/dev/shm", W_OK) == 0 ? "/dev/shm/sesp-fuzzlog-XXXXXX" : "/tmp/sesp-fuzzlog-XXXXXX");
        if (!mkdtemp(root))
            abort();
    }
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    char dir[128];
    snprintf(dir, sizeof dir, "%s/t-0", root);
    clear_dir(dir);
    put_file(dir, "00000000000000000000.log", data, size);
    if (mode & 1)
        put_file(dir, ".sesp_cleanshutdown", NULL, 0);
    if (mode & 2)   /* the input's tail doubles as an index file */
        put_file(dir, "00000000000000000000.index", data + size / 2, size - size / 2);
    if (mode & 4)
        put_file(dir, "00000000000000000000.timeindex", data + size / 3, size - size / 3);
    if (mode & 8)
        put_file(dir, "log-start-offset-checkpoint", data, size < 20 ? size : 20);

    sesp_log_config cfg;
    sesp_log_config_defaults(&cfg);
    cfg.index_interval_bytes = 64;
    cfg.segment_index_bytes = 1024;
    sesp_log *l;
    if (sesp_log_open(dir, &cfg, &l) != 0)
        return 0;
    int64_t start = sesp_log_start_offset(l), end = sesp_log_end_offset(l);
    if (start > end)
        abort();
    for (int64_t off = start; off < end;) {
        sesp_log_slice s;
        if (sesp_log_read(l, off, 1, true, &s) != 0 || s.fd < 0)
            abort();            /* every offset in range must be readable */
        uint8_t *b = malloc((size_t)s.length);
        if (!b || pread(s.fd, b, (size_t)s.length, s.file_pos) != s.length)
            abort();
        close(s.fd);
        sesp_batch_header h;
        if (sesp_batch_parse_header(b, (size_t)s.length, &h) != 0 || sesp_batch_last_offset(&h) < off)
            abort();
        free(b);
        off = sesp_batch_last_offset(&h) + 1;
    }
    int64_t o, t;
    sesp_log_offset_for_time(l, 0, &o, &t);
    sesp_log_offset_for_time(l, SESP_LOG_TS_MAX_TIMESTAMP, &o, &t);
    sesp_batch_record_in rec = {.key = "k", .key_len = 1, .value = "v", .value_len = 1, .timestamp = 42};
    sesp_batch_build_opts opts;
    sesp_batch_build_opts_init(&opts);
    uint8_t *b;
    size_t n;
    if (sesp_batch_build(&opts, &rec, 1, &b, &n) != 0)
        abort();
    sesp_log_append_info info;
    if (sesp_log_append(l, b, n, 1000, &info) != 0 || info.base_offset != end)
        abort();
    free(b);
    sesp_log_close(l);
    return 0;
}
