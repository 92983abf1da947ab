/*
 * meta.properties: the cluster id (and this node's id) recorded in every
 * data directory, as Kafka does, so the cluster id is stable across
 * restarts.  Written once, atomically (temp + fsync + rename).
 */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"

static void new_cluster_id(char *out, size_t len)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint8_t u[18] = {0};
    size_t got = 0;
    while (got < 16) {
        ssize_t n = getrandom(u + got, 16 - got, 0);
        if (n > 0)
            got += (size_t)n;
    }
    u[6] = (uint8_t)((u[6] & 0x0f) | 0x40);
    u[8] = (uint8_t)((u[8] & 0x3f) | 0x80);
    /* URL-safe base64 without padding: 16 bytes -> 22 chars. */
    char s[32];
    size_t o = 0;
    for (size_t i = 0; i < 16; i += 3) {
        uint32_t v = (uint32_t)u[i] << 16 | (uint32_t)u[i + 1] << 8 | u[i + 2];
        s[o++] = b64[(v >> 18) & 63];
        s[o++] = b64[(v >> 12) & 63];
        if (i + 1 < 16)
            s[o++] = b64[(v >> 6) & 63];
        if (i + 2 < 16)
            s[o++] = b64[v & 63];
    }
    s[o] = 0;
    snprintf(out, len, "%s", s);
}

int sesp_server_load_meta(const char *dir, int32_t node_id, char *cluster_id, size_t len)
{
    char path[4200], tmp[4300];
    snprintf(path, sizeof path, "%s/meta.properties", dir);
    FILE *f = fopen(path, "r");
    if (f) {
        char line[512];
        bool found = false;
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "cluster.id=", 11) == 0) {
                char *v = line + 11;
                v[strcspn(v, "\r\n")] = 0;
                if (*v && strlen(v) < len) {
                    memcpy(cluster_id, v, strlen(v) + 1);
                    found = true;
                }
            }
        }
        fclose(f);
        if (found)
            return 0;
        fprintf(stderr, "sesp broker: %s has no cluster.id\n", path);
        return SESP_ERR_CORRUPT;
    }
    if (errno != ENOENT)
        return SESP_ERR_IO;
    if (!*cluster_id)
        new_cluster_id(cluster_id, len);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return SESP_ERR_IO;
    char text[512];
    time_t now = time(NULL);
    int n = snprintf(text, sizeof text, "#\n#%s#\ncluster.id=%s\nnode.id=%d\nversion=1\n", ctime(&now), cluster_id,
                     (int)node_id);
    bool ok = n > 0 && write(fd, text, (size_t)n) == n && fsync(fd) == 0;
    close(fd);
    if (!ok || rename(tmp, path) != 0)
        return SESP_ERR_IO;
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    return 0;
}
