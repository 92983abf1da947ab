/*
 * The output format of `sesp consume --format`: a kcat-like template compiled
 * once and rendered per record with exact bytes (keys, values and header
 * values are written as-is, binary-safe).
 *   %s value  %k key  %h headers as k=v,k=v  %p partition  %o offset
 *   %T timestamp (ms)  %t topic  %S value size  %K key size  %%  literal %
 *   \n \t \r \\ \0 escapes
 */
#ifndef SESP_CLI_FORMAT_H
#define SESP_CLI_FORMAT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct sesp_cli_hdr {
    const char *name;
    const void *value;   /* NULL for a null header value */
    size_t value_len;
} sesp_cli_hdr;

typedef struct sesp_cli_record {
    const char *topic;
    int32_t partition;
    int64_t offset;
    int64_t timestamp;   /* ms, -1 if unknown */
    const void *key;     /* NULL for a null key */
    size_t key_len;
    const void *value;   /* NULL for a null value */
    size_t value_len;
    const sesp_cli_hdr *headers;
    size_t header_cnt;
} sesp_cli_record;

typedef struct sesp_cli_fmt sesp_cli_fmt;

#define SESP_CLI_DEFAULT_FORMAT "%s\\n"

/* 0 or SESP_ERR_MALFORMED / SESP_ERR_NOMEM with a reason in errbuf. */
int sesp_cli_fmt_compile(const char *spec, sesp_cli_fmt **out, char *errbuf, size_t errlen);
/* 0 or SESP_ERR_IO (errno set by stdio). */
int sesp_cli_fmt_write(const sesp_cli_fmt *f, const sesp_cli_record *r, FILE *out);
void sesp_cli_fmt_free(sesp_cli_fmt *f);

#endif
