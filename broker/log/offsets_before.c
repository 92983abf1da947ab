/*
 * ListOffsets v0's answer: the offsets a partition had "before" a time, as
 * Kafka's legacyFetchOffsetsBefore computes them.  Clients of the 0.8-0.10
 * era ask for it; there is no timestamp index behind it, only segment
 * boundaries, so the answer is coarse by design.
 */
#include <stdlib.h>
#include <sys/stat.h>

#include "common/err.h"
#include "log_internal.h"

/* The segment's .log mtime in ms, what Kafka's LogSegment.lastModified
 * reads.  Kafka kept the file time here (not the largest record timestamp)
 * and clients of v0 were written against that, so we do the same. */
static int seg_mtime_ms(const sesp_segment *s, int64_t *ms)
{
    struct stat st;
    if (fstat(s->fd, &st) != 0)
        return SESP_ERR_IO;
    *ms = (int64_t)st.st_mtim.tv_sec * 1000 + st.st_mtim.tv_nsec / 1000000;
    return 0;
}

int sesp_log_offsets_before(sesp_log *l, int64_t ts, int32_t max, int64_t now_ms, int64_t **out, int32_t *n)
{
    *out = NULL;
    *n = 0;
    if (max < 0)
        return SESP_ERR_INVALID_ARG;
    int rc = 0;
    int64_t *off = NULL, *when = NULL, *res = NULL;
    pthread_mutex_lock(&l->mu);
    /* One (offset, time) pair per segment, oldest first: its base offset
     * (the log start for the first) and its mtime; then, if the active
     * segment holds data, the end offset stamped "now", so LATEST and a
     * recent time both give the end offset first. */
    sesp_segment *act = l->segs[l->nseg - 1];
    int len = l->nseg + (act->size > 0 ? 1 : 0);
    off = malloc((size_t)len * sizeof *off);
    when = malloc((size_t)len * sizeof *when);
    if (!off || !when) {
        rc = SESP_ERR_NOMEM;
        goto out;
    }
    for (int i = 0; i < l->nseg; i++) {
        off[i] = l->segs[i]->base_offset > l->log_start ? l->segs[i]->base_offset : l->log_start;
        if ((rc = seg_mtime_ms(l->segs[i], &when[i])) != 0)
            goto out;
    }
    if (len > l->nseg) {
        off[len - 1] = act->next_offset;
        when[len - 1] = now_ms;
    }
    /* The newest pair to report: the last for LATEST, the first for
     * EARLIEST, else the last whose time is at or before ts (none for a
     * time before every segment, or any other negative value). */
    int start;
    if (ts == SESP_LOG_TS_LATEST) {
        start = len - 1;
    } else if (ts == SESP_LOG_TS_EARLIEST) {
        start = 0;
    } else {
        for (start = len - 1; start >= 0 && when[start] > ts; start--)
            ;
    }
    int32_t cnt = start + 1 < max ? start + 1 : max;
    if (cnt > 0) {
        res = malloc((size_t)cnt * sizeof *res);
        if (!res) {
            rc = SESP_ERR_NOMEM;
            goto out;
        }
        for (int32_t j = 0; j < cnt; j++)
            res[j] = off[start - j];
        /* Already descending unless the log start passed a later segment's
         * base; Kafka sorts its answer, so sort too (a handful of entries). */
        for (int32_t j = 1; j < cnt; j++)
            for (int32_t k = j; k > 0 && res[k - 1] < res[k]; k--) {
                int64_t t = res[k];
                res[k] = res[k - 1];
                res[k - 1] = t;
            }
    }
    *out = res;
    *n = cnt;
    res = NULL;
out:
    pthread_mutex_unlock(&l->mu);
    free(res);
    free(off);
    free(when);
    return rc;
}
