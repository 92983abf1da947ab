/*
 * SESP's internal error codes.  Functions that can fail return 0 or a negative
 * SESP_ERR_* value; Kafka error codes travel separately (broker/protocol) since
 * they are part of the wire contract, not of our internal API.
 */
#ifndef SESP_ERR_H
#define SESP_ERR_H

enum {
    SESP_OK = 0,
    SESP_ERR_NOMEM = -1,
    SESP_ERR_TRUNCATED = -2,   /* input ended before a complete value */
    SESP_ERR_MALFORMED = -3,   /* input is structurally invalid */
    SESP_ERR_TOO_LARGE = -4,   /* a size limit was exceeded */
    SESP_ERR_IO = -5,          /* errno holds the cause */
    SESP_ERR_NOT_FOUND = -6,
    SESP_ERR_EXISTS = -7,
    SESP_ERR_CORRUPT = -8,     /* checksum mismatch or on-disk damage */
    SESP_ERR_UNSUPPORTED = -9,
    SESP_ERR_INVALID_ARG = -10,
    SESP_ERR_CONFLICT = -11,   /* optimistic concurrency lost */
    SESP_ERR_RANGE = -12,      /* offset / index out of range */
    SESP_ERR_TIMEOUT = -13,
    SESP_ERR_STATE = -14,      /* operation not valid in the current state */
};

const char *sesp_strerror(int err);

#endif
