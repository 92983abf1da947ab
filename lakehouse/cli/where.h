/* The `sesp table delete --where "col OP literal"` predicate (where.c). */
#ifndef SESP_TCLI_WHERE_H
#define SESP_TCLI_WHERE_H

#include <jansson.h>
#include <stdbool.h>

typedef struct sesp_tcli_pred {
    char col[256];
    char op[3];    /* = != < <= > >= */
    json_t *lit;   /* owned */
    char *lit_num; /* owned: the literal's text when it is a plain decimal number, else NULL */
} sesp_tcli_pred;

/* Parses "col OP literal" (literal: 'quoted string', null, true, false or a
 * number); false when s is not of that form.  On success the caller frees p
 * with sesp_tcli_pred_free. */
bool sesp_tcli_pred_parse(const char *s, sesp_tcli_pred *p);

/* Whether row (a JSON object as `sesp table scan` prints it) satisfies the
 * predicate ud (a sesp_tcli_pred); the signature of a delete callback. */
bool sesp_tcli_pred_eval(void *ud, const json_t *row);

void sesp_tcli_pred_free(sesp_tcli_pred *p);

#endif
