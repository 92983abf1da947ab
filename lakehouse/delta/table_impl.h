/*
 * Private to lakehouse/delta: the table handle and the helpers table.c
 * shares with rewrite.c (writing rows into data files, reading one file,
 * discarding files of a failed commit).
 */
#ifndef SESP_DELTA_TABLE_IMPL_H
#define SESP_DELTA_TABLE_IMPL_H

#include "delta_impl.h"

struct sesp_delta_table {
    sesp_objstore *s;
    sesp_delta_table_opts opts;
    char err[2048];          /* the S3 "no credentials" message lists every place looked at */
};

int sesp_delta_table_seterr(sesp_delta_table *t, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int64_t sesp_delta_table_now(const sesp_delta_table *t);
void sesp_delta_uuid(char out[37]);
/* Validates rows against schema (snap's, or the one a write evolves it to),
 * groups them by snap's partition columns and writes data files of at most
 * max_rows_per_file rows (0 = table default), with stats as snap's table
 * properties ask.  Add actions (strings in a) in *adds_out. */
int sesp_delta_write_rows(sesp_delta_table *t, const sesp_delta_snapshot *snap, const sesp_delta_type *schema,
                          json_t *const *rows, size_t nrows, bool data_change, size_t max_rows_per_file,
                          sesp_arena *a, sesp_delta_add **adds_out, size_t *nadds_out);
/* Calls fn with each row of one data file (partition columns filled in). */
int sesp_delta_read_file(sesp_delta_table *t, const sesp_delta_snapshot *snap, const sesp_delta_add *add,
                         sesp_delta_row_fn fn, void *ud);
/* Refuses writes to tables whose writer protocol or properties SESP cannot
 * honour; removes_data: the operation removes rows (appendOnly forbids it). */
int sesp_delta_check_writable(sesp_delta_table *t, const sesp_delta_snapshot *snap, bool removes_data);
/* The protocol a table with this schema and configuration needs: cur plus
 * the reader-writer features they use (timestampNtz, typeWidening), moving
 * to reader 3 / writer 7 with the features a legacy writer version implied
 * kept in the list.  Lists are allocated in a; *changed if out != cur. */
int sesp_delta_protocol_for(const sesp_delta_protocol *cur, const sesp_delta_type *schema, const sesp_delta_map *config,
                            sesp_arena *a, sesp_delta_protocol *out, bool *changed);
/* Schema evolution for writing rows: the table's schema widened where the
 * values need it (if delta.enableTypeWidening is true, else an error naming
 * the column) and, with add_columns, with new nullable columns.  When it
 * changes, *schema_out is the new schema (caller frees) and acts[0..*nacts)
 * the protocol upgrade (if needed) and metaData actions to commit with the
 * data (strings in a). */
int sesp_delta_evolve_schema(sesp_delta_table *t, const sesp_delta_snapshot *snap, const json_t *rows, bool add_columns,
                             sesp_arena *a, sesp_delta_type **schema_out, sesp_delta_action acts[2], size_t *nacts);
/* Deletes the data files of a commit that did not happen (best effort). */
void sesp_delta_discard_files(sesp_delta_table *t, const sesp_delta_add *adds, size_t n);

#endif
