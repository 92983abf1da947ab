/*
 * The persisted producer-id allocator (see producer.h).  The file holds one
 * decimal number: the first id NOT yet reserved.  Ids below it may have been
 * issued by some run; the current run issues from its reserved block only.
 */
#include "producer.h"
#include "common/err.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct sesp_pid_alloc {
    pthread_mutex_t mu;
    char *path, *dir;
    int32_t block;
    int64_t next;               /* next id to issue */
    int64_t reserved_end;       /* first id not reserved on disk */
};

static int read_counter(const char *path, int64_t *v)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? SESP_ERR_NOT_FOUND : SESP_ERR_IO;
    char buf[40];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return SESP_ERR_CORRUPT;
    buf[n] = 0;
    char *end;
    errno = 0;
    long long x = strtoll(buf, &end, 10);
    if (errno || end == buf || (*end != '\n' && *end != 0) || x < 0)
        return SESP_ERR_CORRUPT;
    *v = x;
    return 0;
}

static int write_counter(const sesp_pid_alloc *a, int64_t v)
{
    size_t n = strlen(a->path) + 8;
    char *tmp = malloc(n);
    if (!tmp)
        return SESP_ERR_NOMEM;
    snprintf(tmp, n, "%s.tmp", a->path);
    int rc = SESP_ERR_IO;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        char buf[32];
        int len = snprintf(buf, sizeof buf, "%" PRId64 "\n", v);
        bool ok = write(fd, buf, (size_t)len) == len && fsync(fd) == 0;
        close(fd);
        if (ok && rename(tmp, a->path) == 0) {
            int dfd = open(a->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
            if (dfd >= 0) {
                ok = fsync(dfd) == 0;
                close(dfd);
            }
            rc = ok ? 0 : SESP_ERR_IO;
        } else {
            unlink(tmp);
        }
    }
    free(tmp);
    return rc;
}

int sesp_pid_alloc_open(const char *dir, int32_t block_size, int64_t first_if_missing, sesp_pid_alloc **out)
{
    if (block_size < 1 || first_if_missing < 0)
        return SESP_ERR_INVALID_ARG;
    sesp_pid_alloc *a = calloc(1, sizeof *a);
    if (!a)
        return SESP_ERR_NOMEM;
    pthread_mutex_init(&a->mu, NULL);
    a->block = block_size;
    a->dir = strdup(dir);
    size_t n = strlen(dir) + sizeof SESP_PID_BLOCK_FILE + 2;
    a->path = malloc(n);
    int rc = 0;
    if (!a->dir || !a->path) {
        rc = SESP_ERR_NOMEM;
        goto out;
    }
    snprintf(a->path, n, "%s/%s", dir, SESP_PID_BLOCK_FILE);
    int64_t v;
    rc = read_counter(a->path, &v);
    if (rc == SESP_ERR_NOT_FOUND) {
        v = first_if_missing;
        rc = 0;
    }
    if (rc)
        goto out;
    a->next = v;
    a->reserved_end = v;        /* nothing reserved by this run yet */
out:
    if (rc) {
        sesp_pid_alloc_close(a);
        return rc;
    }
    *out = a;
    return 0;
}

int sesp_pid_alloc_next(sesp_pid_alloc *a, int64_t *pid)
{
    pthread_mutex_lock(&a->mu);
    int rc = 0;
    if (a->next >= a->reserved_end) {
        if (a->next > INT64_MAX - a->block) {
            rc = SESP_ERR_RANGE;
            goto out;
        }
        /* Persist first: a crash after handing out an id must not reissue it. */
        if ((rc = write_counter(a, a->next + a->block)) != 0)
            goto out;
        a->reserved_end = a->next + a->block;
    }
    *pid = a->next++;
out:
    pthread_mutex_unlock(&a->mu);
    return rc;
}

int sesp_pid_alloc_issued(sesp_pid_alloc *a, int64_t pid)
{
    pthread_mutex_lock(&a->mu);
    int r = pid >= 0 && pid < a->next;
    pthread_mutex_unlock(&a->mu);
    return r;
}

void sesp_pid_alloc_close(sesp_pid_alloc *a)
{
    if (!a)
        return;
    pthread_mutex_destroy(&a->mu);
    free(a->path);
    free(a->dir);
    free(a);
}
