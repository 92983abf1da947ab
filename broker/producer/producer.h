/*
 * Idempotent producers, broker side (broker/producer): the InitProducerId API
 * (non-transactional) and the producer-id allocator behind it.  Ids come from
 * a counter persisted in <log.dirs[0]>/producer-id-block: the allocator
 * reserves blocks of ids by writing the block's end to the file (temp file,
 * fsync, rename) before handing out any id of the block, so an id is never
 * issued twice, even after a crash.  Sequence checking itself lives in the
 * partition logs (broker/log).
 */
#ifndef SESP_PRODUCER_H
#define SESP_PRODUCER_H

#include <stdint.h>

typedef struct sesp_server sesp_server;

/* Registers the InitProducerId handler (replacing the built-in one) with an
 * allocator over the server's first log dir.  Call from the ext hook.
 * 0 or SESP_ERR_*. */
int sesp_producer_register(sesp_server *s);
/* Releases what sesp_producer_register set up (after the server stopped;
 * optional: also done by the next register). */
void sesp_producer_unregister(void);

typedef struct sesp_pid_alloc sesp_pid_alloc;

#define SESP_PID_BLOCK_FILE "producer-id-block"
#define SESP_PID_BLOCK_SIZE 1000

/* Opens the allocator over dir/producer-id-block.  A missing file starts at
 * first_if_missing (the broker passes a clock-derived value so that losing
 * the file cannot reissue ids still present in partition logs); a corrupt one
 * is an error (SESP_ERR_CORRUPT), never silently reset. */
int sesp_pid_alloc_open(const char *dir, int32_t block_size, int64_t first_if_missing, sesp_pid_alloc **out);
/* The next id; reserves (and persists) a new block when needed.  Thread-safe. */
int sesp_pid_alloc_next(sesp_pid_alloc *a, int64_t *pid);
/* True if pid was issued by this allocator or an earlier run over its file. */
int sesp_pid_alloc_issued(sesp_pid_alloc *a, int64_t pid);
void sesp_pid_alloc_close(sesp_pid_alloc *a);

#endif
