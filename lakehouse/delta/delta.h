/*
 * SESP's Delta Lake implementation: the whole public surface of
 * lakehouse/delta.  Layers, bottom up:
 *   - schema: Spark StructType JSON (metaData.schemaString) <-> a type tree,
 *     and its Parquet mapping;
 *   - actions: protocol, metaData, add, remove, txn, commitInfo decoded from
 *     and encoded to newline-delimited JSON, every field from disk validated;
 *   - log + snapshot: commits `_delta_log/%020d.json` written put-if-absent
 *     with optimistic concurrency and conflict checks; table state rebuilt from
 *     the newest Parquet checkpoint plus later commits, at a version or a time;
 *   - table: create, append rows (JSON objects, schema enforcement/evolution
 *     and type widening, Hive partition directories, per-file stats,
 *     idempotent txn), scan, OPTIMIZE, VACUUM, DELETE, MERGE, RESTORE, table
 *     properties, history.
 * Memory: decoded actions live in an arena owned by whoever decoded them (a
 * snapshot owns its own).  Functions return 0 or a negative SESP_ERR_*; a
 * description of the last failure is in sesp_delta_table_error().
 */
#ifndef SESP_DELTA_H
#define SESP_DELTA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "common/arena.h"
#include "common/buf.h"
#include "lakehouse/objstore/objstore.h"

/* ---- Schema ---- */

typedef enum sesp_delta_kind {
    SESP_DT_STRING, SESP_DT_LONG, SESP_DT_INTEGER, SESP_DT_SHORT, SESP_DT_BYTE,
    SESP_DT_FLOAT, SESP_DT_DOUBLE, SESP_DT_BOOLEAN, SESP_DT_BINARY, SESP_DT_DATE,
    SESP_DT_TIMESTAMP, SESP_DT_TIMESTAMP_NTZ, SESP_DT_DECIMAL,
    SESP_DT_STRUCT, SESP_DT_ARRAY, SESP_DT_MAP,
} sesp_delta_kind;

typedef struct sesp_delta_type sesp_delta_type;
typedef struct sesp_delta_field {
    char *name;
    sesp_delta_type *type;
    bool nullable;
    char *metadata;             /* the field's metadata object as JSON text ("{}" if none) */
} sesp_delta_field;

struct sesp_delta_type {
    sesp_delta_kind kind;
    int precision, scale;       /* DECIMAL */
    sesp_delta_field *fields;   /* STRUCT */
    size_t nfields;
    sesp_delta_type *element;   /* ARRAY */
    bool contains_null;
    sesp_delta_type *key, *value; /* MAP */
    bool value_contains_null;
};

/* Parses a schemaString (must be a struct).  err gets a message on failure. */
int sesp_delta_schema_parse(const char *json, size_t len, sesp_delta_type **out, char *err, size_t errlen);
int sesp_delta_schema_from_json(const json_t *j, sesp_delta_type **out, char *err, size_t errlen);
/* Serialises to the schemaString JSON (malloc'ed). */
char *sesp_delta_schema_to_string(const sesp_delta_type *t);
json_t *sesp_delta_schema_to_json(const sesp_delta_type *t);
void sesp_delta_type_free(sesp_delta_type *t);
sesp_delta_type *sesp_delta_type_clone(const sesp_delta_type *t);
const char *sesp_delta_kind_name(sesp_delta_kind k);
bool sesp_delta_type_equal(const sesp_delta_type *a, const sesp_delta_type *b);
/* Field of a struct by name, or NULL. */
const sesp_delta_field *sesp_delta_struct_field(const sesp_delta_type *st, const char *name);
/* What sesp_delta_schema_merge does with an incoming type wider than the
 * table's. */
typedef enum sesp_delta_widening {
    SESP_DELTA_WIDEN_NEVER,     /* an error naming the column (saying when the table could widen it) */
    SESP_DELTA_WIDEN_TABLE,     /* typeWidening: the changes sesp_delta_type_widens allows, each recorded
                                   in delta.typeChanges of the nearest struct field */
    SESP_DELTA_WIDEN_INFER,     /* schema inference: integers widen up to long, any number to double */
} sesp_delta_widening;
/* Schema evolution: a table schema plus an incoming one gives the merged
 * schema.  New columns (anywhere in nested structs) must be nullable and are
 * appended; values of a narrower type fit a wider column (integer into
 * long, any number into double); a wider incoming type is handled as widen
 * says.  Anything else is an error naming the column. */
int sesp_delta_schema_merge(const sesp_delta_type *table, const sesp_delta_type *incoming, sesp_delta_widening widen,
                            sesp_delta_type **merged, char *err, size_t errlen);
/* True if the typeWidening feature lets a column of type from become type to
 * (SESP reads files written before any of them): byte -> short -> integer
 * -> long, float -> double, byte/short/integer -> double, date ->
 * timestamp_ntz, decimal(p,s) -> decimal(p+k1, s+k2) with k1 >= k2 >= 0,
 * byte/short/integer -> decimal(10+k1, k2) and long -> decimal(20+k1, k2)
 * with k1 >= k2 >= 0, up to precision 38. */
bool sesp_delta_type_widens(const sesp_delta_type *from, const sesp_delta_type *to);
/* The types rows need: table with every column widened, within what
 * sesp_delta_type_widens allows, as far as its values need (an integer beyond
 * int32 needs long, a real in an integer column double, a float beyond
 * float's range double, a timestamp in a date column timestamp_ntz, more
 * integer or fraction digits a wider decimal (precision and scale grow
 * together, up to precision 38), plus, with add_columns, new nullable
 * columns inferred from the rows.  Values no allowed type holds are left to
 * the write's validation to refuse. */
int sesp_delta_schema_fit(const sesp_delta_type *table, const json_t *rows, bool add_columns, sesp_delta_type **out,
                          char *err, size_t errlen);
/* Readers' check of every delta.typeChanges entry in schema: MALFORMED for a
 * bad entry, UNSUPPORTED for a change SESP cannot read (message names the
 * column). */
int sesp_delta_schema_check_type_changes(const sesp_delta_type *schema, char *err, size_t errlen);
bool sesp_delta_schema_has_type_changes(const sesp_delta_type *schema);
/* Infers a schema from JSON rows (objects): integers -> long, reals ->
 * double, strings -> string, booleans -> boolean, objects -> struct, arrays
 * -> array; every column nullable.  Conflicting types are an error (long and
 * double merge to double). */
int sesp_delta_schema_infer(const json_t *rows, sesp_delta_type **out, char *err, size_t errlen);

/* ---- Actions ---- */

typedef struct sesp_delta_kv {
    const char *key;
    const char *value;          /* NULL means JSON null */
} sesp_delta_kv;

typedef struct sesp_delta_map {
    sesp_delta_kv *items;
    size_t n;
} sesp_delta_map;

const char *sesp_delta_map_get(const sesp_delta_map *m, const char *key, bool *present);

typedef struct sesp_delta_protocol {
    int32_t min_reader, min_writer;
    const char **reader_features; size_t n_reader_features; bool has_reader_features;
    const char **writer_features; size_t n_writer_features; bool has_writer_features;
} sesp_delta_protocol;

typedef struct sesp_delta_metadata {
    const char *id, *name, *description;
    const char *format_provider;
    sesp_delta_map format_options;
    const char *schema_string;
    const char **partition_columns;
    size_t npartition_columns;
    sesp_delta_map configuration;
    bool has_created_time;
    int64_t created_time;
} sesp_delta_metadata;

typedef struct sesp_delta_add {
    const char *path;           /* as in the log: a relative, URL-encoded URI */
    sesp_delta_map partition_values;
    int64_t size;
    int64_t modification_time;
    bool data_change;
    const char *stats;          /* JSON text or NULL */
    sesp_delta_map tags;
} sesp_delta_add;

typedef struct sesp_delta_remove {
    const char *path;
    bool has_deletion_timestamp;
    int64_t deletion_timestamp;
    bool data_change;
    bool extended_file_metadata;
    sesp_delta_map partition_values;
    bool has_size;
    int64_t size;
} sesp_delta_remove;

typedef struct sesp_delta_txn {
    const char *app_id;
    int64_t version;
    bool has_last_updated;
    int64_t last_updated;
} sesp_delta_txn;

typedef struct sesp_delta_commit_info {
    const char *json;           /* the whole commitInfo object as JSON text */
    bool has_timestamp;
    int64_t timestamp;
    const char *operation;      /* or NULL */
} sesp_delta_commit_info;

typedef enum sesp_delta_action_kind {
    SESP_DA_PROTOCOL, SESP_DA_METADATA, SESP_DA_ADD, SESP_DA_REMOVE, SESP_DA_TXN,
    SESP_DA_COMMIT_INFO, SESP_DA_OTHER,   /* cdc, domainMetadata, ...: kept as raw JSON */
} sesp_delta_action_kind;

typedef struct sesp_delta_action {
    sesp_delta_action_kind kind;
    union {
        sesp_delta_protocol protocol;
        sesp_delta_metadata metadata;
        sesp_delta_add add;
        sesp_delta_remove remove;
        sesp_delta_txn txn;
        sesp_delta_commit_info commit_info;
        const char *other_json;
    } u;
} sesp_delta_action;

/* Decodes one commit file (newline-delimited JSON) into an array allocated in
 * a.  Every line must be a JSON object with exactly one action key; fields
 * are type-checked and required ones must be present.  Errors: MALFORMED
 * (with a message naming the line and field), TOO_LARGE, UNSUPPORTED (e.g. a
 * deletion vector). */
int sesp_delta_actions_decode(const void *data, size_t len, sesp_arena *a, sesp_delta_action **out,
                              size_t *nout, char *err, size_t errlen);
/* Decodes one action from a JSON object. */
int sesp_delta_action_from_json(const json_t *obj, sesp_arena *a, sesp_delta_action *out, char *err, size_t errlen);
/* Encodes one action as a JSON object (new reference) / as a line plus '\n'. */
json_t *sesp_delta_action_to_json(const sesp_delta_action *act);
int sesp_delta_action_encode(const sesp_delta_action *act, sesp_bufw *w);

/* ---- Snapshots ---- */

typedef struct sesp_delta_snapshot {
    int64_t version;
    int64_t timestamp_ms;       /* commit timestamp of version */
    sesp_delta_protocol protocol;
    sesp_delta_metadata metadata;
    sesp_delta_type *schema;    /* parsed metadata.schema_string */
    sesp_delta_add **files;     /* active files, sorted by path */
    size_t nfiles;
    sesp_delta_remove **tombstones;
    size_t ntombstones;
    sesp_delta_txn *txns;       /* latest version per appId */
    size_t ntxns;
    int64_t checkpoint_version; /* the checkpoint it was built from, -1 if none */
    sesp_arena arena;
} sesp_delta_snapshot;

/* version < 0 = latest.  NOT_FOUND if there is no table (or no such version). */
int sesp_delta_snapshot_load(sesp_objstore *s, int64_t version, sesp_delta_snapshot **out, char *err, size_t errlen);
/* The latest version whose commit timestamp is <= ts_ms (commitInfo.timestamp,
 * else the commit file's mtime).  RANGE if ts_ms precedes the first commit. */
int sesp_delta_snapshot_load_at(sesp_objstore *s, int64_t ts_ms, sesp_delta_snapshot **out, char *err, size_t errlen);
void sesp_delta_snapshot_free(sesp_delta_snapshot *snap);
/* Version recorded for appId, or -1. */
int64_t sesp_delta_snapshot_txn_version(const sesp_delta_snapshot *snap, const char *app_id);
const char *sesp_delta_snapshot_config(const sesp_delta_snapshot *snap, const char *key);

/* ---- Log ---- */

typedef struct sesp_delta_version_info {
    int64_t version;
    int64_t mtime_ms;
    uint64_t size;
    bool has_json, has_checkpoint;
} sesp_delta_version_info;

/* Versions present in _delta_log (sorted); caller frees *out with free(). */
int sesp_delta_log_versions(sesp_objstore *s, sesp_delta_version_info **out, size_t *n, char *err, size_t errlen);

/* What a transaction read, for conflict detection against winners. */
typedef struct sesp_delta_txn_read {
    bool blind_append;          /* read nothing: only metadata/txn/removed-file conflicts */
    bool read_whole_table;      /* DELETE/MERGE/RESTORE: any concurrent data change conflicts */
} sesp_delta_txn_read;

/* Commits actions as version read_version+1 (or later if others won and no
 * conflict).  A commitInfo is prepended if actions carry none.  Returns the
 * version written in *version_out.  CONFLICT with a message on a logical
 * conflict or after max_attempts. */
int sesp_delta_commit(sesp_objstore *s, int64_t read_version, const sesp_delta_action *actions, size_t n,
                      const sesp_delta_txn_read *read, const char *operation, json_t *operation_params,
                      int64_t *version_out, char *err, size_t errlen);
/* The same with commitInfo.operationMetrics (may be NULL): an object whose
 * values are strings, as Delta writes them. */
int sesp_delta_commit_metrics(sesp_objstore *s, int64_t read_version, const sesp_delta_action *actions, size_t n,
                              const sesp_delta_txn_read *read, const char *operation, json_t *operation_params,
                              json_t *operation_metrics, int64_t *version_out, char *err, size_t errlen);

/* ---- Checkpoints ---- */

/* Writes `%020d.checkpoint.parquet` for the snapshot and `_last_checkpoint`. */
int sesp_delta_checkpoint_write(sesp_objstore *s, const sesp_delta_snapshot *snap, char *err, size_t errlen);
/* Reads a classic checkpoint's actions into a. */
int sesp_delta_checkpoint_read(sesp_objstore *s, int64_t version, sesp_arena *a, sesp_delta_action **out,
                               size_t *n, char *err, size_t errlen);
/* Deletes commits and checkpoints older than the retention (delta.
 * logRetentionDuration, default 30 days) that precede the newest checkpoint
 * (so every retained version stays reconstructable).  Returns files deleted. */
int sesp_delta_log_cleanup(sesp_objstore *s, const sesp_delta_snapshot *snap, int64_t now_ms, int *deleted,
                           char *err, size_t errlen);
/* "interval 30 days" style durations (also "1 hour", "10 minutes") in ms. */
int sesp_delta_parse_interval(const char *s, int64_t *ms_out);

/* ---- Tables ---- */

typedef struct sesp_delta_table sesp_delta_table;

typedef struct sesp_delta_table_opts {
    sesp_objstore_opts store;
    size_t target_file_rows;    /* a data file is closed after this many rows, 0 = 1,000,000 */
    int max_commit_attempts;    /* 0 = 20 */
    int64_t now_ms;             /* tests: fixed clock, 0 = real time */
} sesp_delta_table_opts;

int sesp_delta_table_open(const char *uri, const sesp_delta_table_opts *opts, sesp_delta_table **out);
void sesp_delta_table_close(sesp_delta_table *t);
const char *sesp_delta_table_error(const sesp_delta_table *t);
sesp_objstore *sesp_delta_table_store(sesp_delta_table *t);

/* Creates version 0.  schema is a Spark StructType JSON; configuration may be
 * NULL.  EXISTS if the table exists. */
int sesp_delta_table_create(sesp_delta_table *t, const char *schema_json, const char *const *partition_cols,
                            size_t npart, const sesp_delta_map *configuration, const char *name);

typedef struct sesp_delta_append_opts {
    const char *app_id;         /* with txn_version: idempotent streaming write */
    int64_t txn_version;
    bool create_if_missing;     /* infer the schema from the rows, version 0 */
    const char *const *partition_cols;   /* for create_if_missing */
    size_t npartition_cols;
    bool merge_schema;          /* allow adding nullable columns */
} sesp_delta_append_opts;

typedef struct sesp_delta_result {
    int64_t version;            /* committed version, -1 if nothing committed */
    bool skipped;               /* txn already applied */
    size_t files_added, files_removed;
    int64_t rows_written, rows_deleted;
} sesp_delta_result;

/* ALTER TABLE SET TBLPROPERTIES: sets (or replaces) configuration keys in a
 * metaData commit, upgrading the protocol when a property turns a table
 * feature on (delta.enableTypeWidening=true adds typeWidening). */
int sesp_delta_table_set_properties(sesp_delta_table *t, const sesp_delta_map *props, sesp_delta_result *res);

/* rows: a JSON array of objects (column name -> value).  A value wider than
 * its column (see sesp_delta_schema_fit) widens the column in the same commit
 * when the table property delta.enableTypeWidening is true, and is refused
 * otherwise; MERGE does the same. */
int sesp_delta_table_append(sesp_delta_table *t, const json_t *rows, const sesp_delta_append_opts *o,
                            sesp_delta_result *res);

/* Calls fn for each row (a JSON object, borrowed) of the snapshot; fn
 * returns non-zero to stop (that value is returned). */
typedef int (*sesp_delta_row_fn)(void *ud, const json_t *row);
int sesp_delta_table_scan(sesp_delta_table *t, const sesp_delta_snapshot *snap, sesp_delta_row_fn fn, void *ud);
/* Latest (version < 0) or given version; caller frees. */
int sesp_delta_table_snapshot(sesp_delta_table *t, int64_t version, sesp_delta_snapshot **out);
int sesp_delta_table_snapshot_at(sesp_delta_table *t, int64_t ts_ms, sesp_delta_snapshot **out);

/* DELETE: removes rows for which pred returns true (copy-on-write). */
typedef bool (*sesp_delta_pred_fn)(void *ud, const json_t *row);
int sesp_delta_table_delete(sesp_delta_table *t, sesp_delta_pred_fn pred, void *ud, sesp_delta_result *res);
/* MERGE by key: rows whose key columns match an existing row replace it, the
 * others are inserted (last duplicate in rows wins). */
int sesp_delta_table_merge(sesp_delta_table *t, const json_t *rows, const char *const *keys, size_t nkeys,
                           sesp_delta_result *res);
/* OPTIMIZE: per partition, bin-packs files smaller than target_bytes into
 * files of about target_bytes (dataChange=false). */
int sesp_delta_table_optimize(sesp_delta_table *t, uint64_t target_bytes, sesp_delta_result *res);
/* VACUUM: deletes the files under the table (hidden ones aside) that the
 * latest snapshot does not reference and that are older than the retention,
 * counted for removed files from their removal.  As Delta does, it first
 * commits "VACUUM START" (operationParameters retentionCheckEnabled,
 * specifiedRetentionMillis when given, defaultRetentionMillis;
 * operationMetrics numFilesToDelete, sizeOfDataToDelete), then deletes, then
 * commits "VACUUM END" (status COMPLETED with numDeletedFiles and
 * numVacuumedDirectories, or FAILED when a delete failed): commits that hold
 * only a commitInfo, retried past concurrent appends like any other.  A dry
 * run only reports and logs nothing. */
typedef struct sesp_delta_vacuum_opts {
    int64_t retention_ms;       /* < 0: the table's delta.deletedFileRetentionDuration (default 7 days) */
    bool dry_run;
    /* Delta refuses a retention below the table's unless its
     * spark.databricks.delta.retentionDurationCheck.enabled is false: this is
     * that switch (recorded as retentionCheckEnabled) */
    bool no_retention_check;
    void (*fn)(void *ud, const char *path, uint64_t size);   /* each file deleted (or that would be), may be NULL */
    void *ud;
} sesp_delta_vacuum_opts;
typedef struct sesp_delta_vacuum_result {
    size_t files;               /* deleted (dry run: that would be) */
    uint64_t bytes;
    size_t dirs;                /* directories looked through, the table's root included */
    int64_t start_version, end_version;   /* the VACUUM START / END commits, -1 if none */
} sesp_delta_vacuum_result;
int sesp_delta_table_vacuum(sesp_delta_table *t, const sesp_delta_vacuum_opts *o, sesp_delta_vacuum_result *res);
/* RESTORE to an older version: adds back its files, removes the others. */
int sesp_delta_table_restore(sesp_delta_table *t, int64_t version, sesp_delta_result *res);
/* After a commit: writes a checkpoint when due and cleans the log. */
int sesp_delta_table_maintain(sesp_delta_table *t, int64_t version);

/* Parses a Hive/Delta partition value string back into JSON for the column
 * type (a decimal as text at the column's scale, whatever scale it was
 * written at). */
json_t *sesp_delta_partition_value_to_json(const sesp_delta_type *type, const char *value);
/* Percent-decodes a log path into a store key (malloc'ed), NULL if invalid. */
char *sesp_delta_path_to_key(const char *path);

#endif
