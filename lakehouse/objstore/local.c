/*
 * The local-disk backend (file://).  put writes a temp file in the target
 * directory, fsyncs it, renames it over the key and fsyncs the directory, so
 * a reader sees the old or the new object, never a torn one.  put_if_absent
 * links the fsynced temp file to the key: link(2) fails with EEXIST when the
 * key exists, which makes exactly one of several racing writers win (the
 * Delta commit protocol depends on it).  Temp files start with ".sesp-tmp-"
 * and are hidden from list.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/err.h"
#include "objstore_impl.h"

#define TMP_PREFIX ".sesp-tmp-"

typedef struct local {
    char root[PATH_MAX];
} local;

typedef struct local_writer {
    int fd;
    char tmp[PATH_MAX];
    char dst[PATH_MAX];
} local_writer;

static int full_path(sesp_objstore *s, const char *key, char *out, size_t cap)
{
    local *l = s->impl;
    int n = snprintf(out, cap, "%s/%s", l->root, key);
    if (n < 0 || (size_t)n >= cap) return sesp_objstore_seterr(s, SESP_ERR_INVALID_ARG, "path too long for %s", key);
    return 0;
}

static int io_err(sesp_objstore *s, const char *what, const char *path)
{
    int e = errno;
    if (e == ENOENT) return sesp_objstore_seterr(s, SESP_ERR_NOT_FOUND, "%s %s: %s", what, path, strerror(e));
    if (e == EEXIST) return sesp_objstore_seterr(s, SESP_ERR_EXISTS, "%s %s: %s", what, path, strerror(e));
    sesp_objstore_seterr(s, SESP_ERR_IO, "%s %s: %s", what, path, strerror(e));
    errno = e;
    return SESP_ERR_IO;
}

/* mkdir -p of the directory part of path. */
static int mkdirs_for(sesp_objstore *s, const char *path)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s", path);
    char *slash = strrchr(tmp, '/');
    if (!slash || slash == tmp) return 0;
    *slash = 0;
    struct stat st;
    if (stat(tmp, &st) == 0) return S_ISDIR(st.st_mode) ? 0 : sesp_objstore_seterr(s, SESP_ERR_IO, "%s is not a directory", tmp);
    for (char *p = tmp + 1; *p; p++) {
        if (*p != '/') continue;
        *p = 0;
        if (mkdir(tmp, 0755) && errno != EEXIST) return io_err(s, "mkdir", tmp);
        *p = '/';
    }
    if (mkdir(tmp, 0755) && errno != EEXIST) return io_err(s, "mkdir", tmp);
    return 0;
}

static int fsync_dir_of(sesp_objstore *s, const char *path)
{
    if (s->opts.local_no_fsync) return 0;
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) *slash = 0;
    else snprintf(dir, sizeof(dir), "%s", slash ? "/" : ".");
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return io_err(s, "open dir", dir);
    int rc = fsync(fd) ? io_err(s, "fsync dir", dir) : 0;
    close(fd);
    return rc;
}

static int make_temp(sesp_objstore *s, const char *dst, char *tmp, size_t cap, int *fd_out)
{
    int rc = mkdirs_for(s, dst);
    if (rc) return rc;
    const char *slash = strrchr(dst, '/');
    size_t dirlen = slash ? (size_t)(slash - dst) : 0;
    static unsigned counter;
    for (int i = 0; i < 100; i++) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        unsigned c = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
        int n = snprintf(tmp, cap, "%.*s/" TMP_PREFIX "%d-%u-%lx", (int)dirlen, dst, (int)getpid(), c,
                         (unsigned long)ts.tv_nsec);
        if (n < 0 || (size_t)n >= cap) return sesp_objstore_seterr(s, SESP_ERR_INVALID_ARG, "path too long");
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd >= 0) { *fd_out = fd; return 0; }
        if (errno != EEXIST) return io_err(s, "create", tmp);
    }
    return sesp_objstore_seterr(s, SESP_ERR_IO, "could not create a temp file next to %s", dst);
}

static int write_all(int fd, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) { if (errno == EINTR) continue; return -1; }
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Moves the finished temp file to dst: rename (replace) or link (if absent). */
static int publish(sesp_objstore *s, const char *tmp, const char *dst, bool if_absent)
{
    int rc = 0;
    if (if_absent) {
        if (link(tmp, dst)) rc = io_err(s, "link", dst);
        unlink(tmp);
    } else if (rename(tmp, dst)) {
        rc = io_err(s, "rename", dst);
        unlink(tmp);
    }
    if (!rc) rc = fsync_dir_of(s, dst);
    return rc;
}

static int l_put(sesp_objstore *s, const char *key, const void *data, size_t len, bool if_absent)
{
    char dst[PATH_MAX], tmp[PATH_MAX];
    int fd = -1, rc = full_path(s, key, dst, sizeof(dst));
    if (rc) return rc;
    if (if_absent && access(dst, F_OK) == 0)   /* cheap early answer; link() decides */
        return sesp_objstore_seterr(s, SESP_ERR_EXISTS, "%s already exists", key);
    rc = make_temp(s, dst, tmp, sizeof(tmp), &fd);
    if (rc) return rc;
    if (write_all(fd, data, len) || (!s->opts.local_no_fsync && fsync(fd))) {
        rc = io_err(s, "write", tmp);
        close(fd);
        unlink(tmp);
        return rc;
    }
    close(fd);
    return publish(s, tmp, dst, if_absent);
}

static int l_get_range(sesp_objstore *s, const char *key, uint64_t off, size_t len, bool whole,
                       uint8_t **data, size_t *got)
{
    char path[PATH_MAX];
    int rc = full_path(s, key, path, sizeof(path));
    if (rc) return rc;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return io_err(s, "open", path);
    struct stat st;
    if (fstat(fd, &st)) { rc = io_err(s, "stat", path); goto out; }
    if (!S_ISREG(st.st_mode)) { rc = sesp_objstore_seterr(s, SESP_ERR_NOT_FOUND, "%s is not a file", key); goto out; }
    if (whole) {
        if ((uint64_t)st.st_size > s->opts.max_object_bytes) {
            rc = sesp_objstore_seterr(s, SESP_ERR_TOO_LARGE, "%s is %lld bytes, over the limit", key, (long long)st.st_size);
            goto out;
        }
        off = 0;
        len = (size_t)st.st_size;
        *data = malloc(len + 1);
        if (!*data) { rc = SESP_ERR_NOMEM; goto out; }
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = pread(fd, *data + done, len - done, (off_t)(off + done));
        if (n < 0) { if (errno == EINTR) continue; rc = io_err(s, "read", path); break; }
        if (n == 0) break;
        done += (size_t)n;
    }
    if (rc && whole) { free(*data); *data = NULL; }
    if (!rc) { *got = done; if (whole) (*data)[done] = 0; }
out:
    close(fd);
    return rc;
}

static int l_head(sesp_objstore *s, const char *key, sesp_obj_info *out)
{
    char path[PATH_MAX];
    int rc = full_path(s, key, path, sizeof(path));
    if (rc) return rc;
    struct stat st;
    if (stat(path, &st)) return io_err(s, "stat", path);
    if (!S_ISREG(st.st_mode)) return sesp_objstore_seterr(s, SESP_ERR_NOT_FOUND, "%s is not a file", key);
    out->key = strdup(key);
    if (!out->key) return SESP_ERR_NOMEM;
    out->size = (uint64_t)st.st_size;
    out->mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
    return 0;
}

/* Walks dir (relative key rel) recursively, keeping files whose key starts
 * with prefix; directories that cannot hold such keys are pruned. */
static int walk(sesp_objstore *s, const char *dir, const char *rel, const char *prefix,
                sesp_obj_list *out, size_t *cap, int depth)
{
    if (depth > 64) return sesp_objstore_seterr(s, SESP_ERR_TOO_LARGE, "directory tree too deep at %s", dir);
    DIR *d = opendir(dir);
    if (!d) return errno == ENOENT || errno == ENOTDIR ? 0 : io_err(s, "opendir", dir);
    int rc = 0;
    struct dirent *de;
    size_t plen = strlen(prefix);
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..")) continue;
        if (!strncmp(de->d_name, TMP_PREFIX, strlen(TMP_PREFIX))) continue;
        char path[PATH_MAX], key[PATH_MAX];
        if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path)) continue;
        if (snprintf(key, sizeof(key), "%s%s%s", rel, *rel ? "/" : "", de->d_name) >= (int)sizeof(key)) continue;
        struct stat st;
        if (lstat(path, &st)) continue;   /* raced with a delete */
        size_t klen = strlen(key);
        if (S_ISDIR(st.st_mode)) {
            /* descend only if key/ is a prefix of prefix or prefix of key/ */
            size_t m = klen < plen ? klen : plen;
            if (strncmp(key, prefix, m)) continue;
            rc = walk(s, path, key, prefix, out, cap, depth + 1);
            if (rc) break;
        } else if (S_ISREG(st.st_mode)) {
            if (strncmp(key, prefix, plen)) continue;
            rc = sesp_obj_list_push(out, cap, key, (uint64_t)st.st_size,
                                    (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000);
            if (rc) break;
        }
    }
    closedir(d);
    return rc;
}

static int l_list(sesp_objstore *s, const char *prefix, sesp_obj_list *out)
{
    local *l = s->impl;
    size_t cap = 0;
    /* start at the deepest directory named by the prefix */
    char rel[PATH_MAX], dir[PATH_MAX];
    snprintf(rel, sizeof(rel), "%s", prefix);
    char *slash = strrchr(rel, '/');
    if (slash) *slash = 0;
    else rel[0] = 0;
    if (snprintf(dir, sizeof(dir), "%s%s%s", l->root, *rel ? "/" : "", rel) >= (int)sizeof(dir))
        return sesp_objstore_seterr(s, SESP_ERR_INVALID_ARG, "prefix too long");
    return walk(s, dir, rel, prefix, out, &cap, 0);
}

static int l_del(sesp_objstore *s, const char *key)
{
    char path[PATH_MAX];
    int rc = full_path(s, key, path, sizeof(path));
    if (rc) return rc;
    if (unlink(path) && errno != ENOENT) return io_err(s, "unlink", path);
    return 0;
}

static int l_w_open(sesp_objwriter *w)
{
    local_writer *lw = calloc(1, sizeof(*lw));
    if (!lw) return SESP_ERR_NOMEM;
    int rc = full_path(w->s, w->key, lw->dst, sizeof(lw->dst));
    if (!rc) rc = make_temp(w->s, lw->dst, lw->tmp, sizeof(lw->tmp), &lw->fd);
    if (rc) { free(lw); return rc; }
    w->impl = lw;
    return 0;
}

static int l_w_write(sesp_objwriter *w, const void *data, size_t len)
{
    local_writer *lw = w->impl;
    return write_all(lw->fd, data, len) ? io_err(w->s, "write", lw->tmp) : 0;
}

static int l_w_commit(sesp_objwriter *w)
{
    local_writer *lw = w->impl;
    int rc = 0;
    if (!w->s->opts.local_no_fsync && fsync(lw->fd)) rc = io_err(w->s, "fsync", lw->tmp);
    close(lw->fd);
    if (rc) unlink(lw->tmp);
    else rc = publish(w->s, lw->tmp, lw->dst, false);
    free(lw);
    return rc;
}

static void l_w_abort(sesp_objwriter *w)
{
    local_writer *lw = w->impl;
    close(lw->fd);
    unlink(lw->tmp);
    free(lw);
}

static void l_close(sesp_objstore *s) { free(s->impl); }

static const sesp_objstore_ops local_ops = {
    l_put, l_get_range, l_head, l_list, l_del, l_w_open, l_w_write, l_w_commit, l_w_abort, l_close,
};

int sesp_objstore_local_open(sesp_objstore *s, const char *path)
{
    s->ops = &local_ops;
    local *l = calloc(1, sizeof(*l));
    if (!l) return SESP_ERR_NOMEM;
    s->impl = l;
    if (!*path) return sesp_objstore_seterr(s, SESP_ERR_INVALID_ARG, "empty local path");
    int n;
    if (path[0] == '/') n = snprintf(l->root, sizeof(l->root), "%s", path);
    else {
        char cwd[PATH_MAX];
        if (!getcwd(cwd, sizeof(cwd))) return io_err(s, "getcwd", ".");
        n = snprintf(l->root, sizeof(l->root), "%s/%s", cwd, path);
    }
    if (n < 0 || (size_t)n >= sizeof(l->root) - 64) return sesp_objstore_seterr(s, SESP_ERR_INVALID_ARG, "path too long");
    size_t len = strlen(l->root);
    while (len > 1 && l->root[len - 1] == '/') l->root[--len] = 0;
    return 0;
}
