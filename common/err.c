/* Human-readable text for SESP's internal error codes (see err.h). */
#include "err.h"

const char *sesp_strerror(int err)
{
    switch (err) {
    case SESP_OK: return "success";
    case SESP_ERR_NOMEM: return "out of memory";
    case SESP_ERR_TRUNCATED: return "input truncated";
    case SESP_ERR_MALFORMED: return "malformed input";
    case SESP_ERR_TOO_LARGE: return "size limit exceeded";
    case SESP_ERR_IO: return "I/O error";
    case SESP_ERR_NOT_FOUND: return "not found";
    case SESP_ERR_EXISTS: return "already exists";
    case SESP_ERR_CORRUPT: return "corrupt data (checksum mismatch)";
    case SESP_ERR_UNSUPPORTED: return "unsupported";
    case SESP_ERR_INVALID_ARG: return "invalid argument";
    case SESP_ERR_CONFLICT: return "concurrent modification conflict";
    case SESP_ERR_RANGE: return "out of range";
    case SESP_ERR_TIMEOUT: return "timed out";
    case SESP_ERR_STATE: return "invalid state";
    default: return "unknown error";
    }
}
