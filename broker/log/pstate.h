/*
 * Per-partition idempotent-producer state (internal to broker/log; Kafka's
 * ProducerStateManager without transactions): for every producer id the
 * current epoch and the last SESP_PSTATE_WINDOW batches' sequence and offset
 * ranges, so a retried batch is recognised and answered with its original
 * offsets, a gap or an old epoch is refused.  Snapshots (NNN.snapshot, NNN =
 * the log offset the state is complete up to) let recovery replay only the
 * batches after them.  Producers idle for producer.id.expiration.ms are
 * forgotten (Kafka's removeExpiredProducers).  Not thread-safe: the owning
 * sesp_log serialises access.
 */
#ifndef SESP_LOG_PSTATE_H
#define SESP_LOG_PSTATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "batch.h"

#define SESP_PSTATE_WINDOW 5
/* Upper bound on producers loaded from a snapshot (untrusted count). */
#define SESP_PSTATE_MAX_PRODUCERS (1 << 22)

typedef struct sesp_pbatch {
    int32_t first_seq, last_seq;
    int64_t first_off, last_off;
    int64_t timestamp;
} sesp_pbatch;

typedef struct sesp_pentry {
    int64_t pid;                /* -1 = free slot */
    int16_t epoch;
    /* Max timestamp of the producer's last appended batch (Kafka's
     * lastTimestamp); outlives b[] when retention removes the batches.
     * -1 = unknown: expiry then counts from the first check that sees it. */
    int64_t last_ts;
    uint8_t nb;                 /* batches in b[], oldest first; 0 = known producer whose data was removed */
    sesp_pbatch b[SESP_PSTATE_WINDOW];
} sesp_pentry;

typedef struct sesp_pstate {
    sesp_pentry *slots;         /* open addressing, linear probing, power-of-two capacity */
    size_t cap, count;
} sesp_pstate;

/* Outcome of checking one batch against the state. */
typedef enum {
    SESP_PCHECK_OK = 0,
    SESP_PCHECK_DUPLICATE,      /* *dup holds the original batch */
    SESP_PCHECK_FENCED,         /* epoch older than the current one: INVALID_PRODUCER_EPOCH */
    SESP_PCHECK_OUT_OF_ORDER,   /* OUT_OF_ORDER_SEQUENCE_NUMBER */
    SESP_PCHECK_UNKNOWN,        /* UNKNOWN_PRODUCER_ID */
} sesp_pcheck;

void sesp_pstate_init(sesp_pstate *st);
void sesp_pstate_free(sesp_pstate *st);
void sesp_pstate_clear(sesp_pstate *st);
/* NULL when unknown. */
const sesp_pentry *sesp_pstate_get(const sesp_pstate *st, int64_t pid);

/* Last sequence of a batch (sequences wrap from INT32_MAX to 0). */
int32_t sesp_pstate_last_seq(int32_t base_seq, int32_t last_offset_delta);

/* Checks a batch header (producer_id >= 0) against entry e (NULL = unknown
 * producer).  Pure: changes nothing. */
sesp_pcheck sesp_pstate_check(const sesp_pentry *e, const sesp_batch_header *h, sesp_pbatch *dup);
/* Applies an appended batch (its base_offset assigned) to entry e in place;
 * e->pid must be set.  Used for scratch copies during a multi-batch append. */
void sesp_pentry_apply(sesp_pentry *e, const sesp_batch_header *h);
/* Records an appended batch in the state (recovery and append). */
int sesp_pstate_update(sesp_pstate *st, const sesp_batch_header *h);
/* Stores a whole entry (after a multi-batch append). */
int sesp_pstate_put(sesp_pstate *st, const sesp_pentry *e);
/* The log start moved: batches wholly below it are forgotten (the producer
 * stays known with its epoch, and may continue at any sequence, as Kafka). */
void sesp_pstate_log_start_moved(sesp_pstate *st, int64_t log_start);
/* Forgets one producer; false when it was not known. */
bool sesp_pstate_remove(sesp_pstate *st, int64_t pid);
/* Forgets every producer whose last_ts is expiration_ms or more before
 * now_ms (producer.id.expiration.ms); an unknown last_ts (-1) becomes now_ms.
 * Returns the number removed.  May shrink the table; never fails. */
size_t sesp_pstate_expire(sesp_pstate *st, int64_t now_ms, int64_t expiration_ms);

/* A producer's last data offset: the last offset of its newest batch still
 * in the log (Kafka's lastDataOffset), for the cleaner. */
typedef struct sesp_plast {
    int64_t pid, last_off;
} sesp_plast;
/* Every producer with a batch left, sorted by pid; *out is malloc'ed (NULL
 * when *n is 0).  0 or SESP_ERR_NOMEM. */
int sesp_pstate_last_offsets(const sesp_pstate *st, sesp_plast **out, size_t *n);

/* Snapshot files "<dir>/<20-digit offset>.snapshot": written to .tmp,
 * fsync'ed, renamed, directory fsync'ed. */
int sesp_pstate_write_snapshot(const sesp_pstate *st, const char *dir, int64_t offset);
/* Loads the newest valid snapshot whose offset <= max_offset into st
 * (cleared first); *offset = its offset, or -1 (st empty) when none.
 * Corrupt or too-new snapshots are deleted. */
int sesp_pstate_load_latest(sesp_pstate *st, const char *dir, int64_t max_offset, int64_t *offset);
/* Deletes all snapshots except the `keep` newest. */
void sesp_pstate_prune_snapshots(const char *dir, int keep);

#endif
