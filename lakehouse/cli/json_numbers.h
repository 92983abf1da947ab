/* Exact JSON number literals for `sesp table` input (see json_numbers.c). */
#ifndef SESP_TCLI_JSON_NUMBERS_H
#define SESP_TCLI_JSON_NUMBERS_H

#include <stddef.h>

#include "lakehouse/delta/delta.h"

/* Rewrites the number literals of line[0..n) that jansson cannot hold
 * exactly (integers beyond int64, reals whose double is not the literal)
 * into marker strings.  *out: the new line (malloc'ed, NUL-terminated; parse
 * it with JSON_ALLOW_NUL), or NULL when nothing needed it.
 * SESP_ERR_INVALID_ARG if a literal needs it but the line holds a \u0000 of
 * its own. */
int sesp_tcli_mark_numbers(const char *line, size_t n, char **out, size_t *outlen);

/* Replaces the markers in row by what the table's column takes: the literal
 * as a string in decimal columns, a double elsewhere (schema NULL: no table
 * yet, doubles everywhere). */
int sesp_tcli_resolve_numbers(json_t *row, const sesp_delta_type *schema);

#endif
