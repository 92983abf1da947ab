/*
 * What topics.c and topic_config.c share (not public): the registry's
 * config and two small helpers.
 */
#ifndef SESP_SERVER_TOPICS_INT_H
#define SESP_SERVER_TOPICS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "broker/server/topics.h"

const sesp_config *sesp_topics_config(const sesp_topics *t);
/* Strict decimal int64 (whole string); false for NULL, "" or junk. */
bool sesp_topics_parse_i64(const char *s, int64_t *out);
/* Formats msg (if any) and returns code. */
int16_t sesp_topics_bad(char *msg, size_t msglen, int16_t code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
