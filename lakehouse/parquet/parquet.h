/*
 * SESP's Parquet writer and reader: the whole public surface of
 * lakehouse/parquet.  A schema is a tree of groups and leaves built in code;
 * the writer shreds rows (tagged-union values mirroring the schema) or flat
 * column batches into column chunks and streams them to a write callback; the
 * reader opens a file through a random-access read callback, exposes its
 * footer (schema, row groups, column chunk statistics) and reads rows back or
 * scans flat columns.  Every byte read from a file is treated as untrusted:
 * damage yields SESP_ERR_CORRUPT / SESP_ERR_MALFORMED / SESP_ERR_TRUNCATED and
 * a message from sesp_pq_reader_error(), never a crash.
 *
 * Value representation (writer input and reader output):
 *   - a leaf holds a scalar (BOOL/INT32/INT64/FLOAT/DOUBLE/BYTES) or NULL;
 *   - a group holds GROUP with one child value per schema child, in order;
 *   - a REPEATED field (leaf or group) holds LIST whose items are the field's
 *     values one by one;
 *   - a group annotated LIST or MAP holds LIST (or NULL if it is optional):
 *     for the standard 3-level LIST (`group (LIST) { repeated group list {
 *     element } }`) the items are the element values themselves; for a MAP
 *     (`group (MAP) { repeated group key_value { key; value } }`) the items
 *     are GROUP values {key, value}.
 *   - a row is a GROUP value whose children are the root's children.
 * Writers, readers and schemas are not thread-safe; use one per thread.
 * BYTES is used for BYTE_ARRAY and FIXED_LEN_BYTE_ARRAY (length must equal
 * type_length).  DATE is INT32 days, TIMESTAMP(MICROS) INT64 micros since the
 * epoch, DECIMAL the unscaled integer (INT32/INT64) or big-endian two's
 * complement bytes (FIXED), UUID 16 raw bytes.
 */
#ifndef SESP_PARQUET_H
#define SESP_PARQUET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/arena.h"

/* ---- Types (numbers are the parquet.thrift enum values) ---- */

typedef enum sesp_pq_physical {
    SESP_PQ_BOOLEAN = 0,
    SESP_PQ_INT32 = 1,
    SESP_PQ_INT64 = 2,
    SESP_PQ_INT96 = 3,          /* read only, as 12 raw bytes */
    SESP_PQ_FLOAT = 4,
    SESP_PQ_DOUBLE = 5,
    SESP_PQ_BYTE_ARRAY = 6,
    SESP_PQ_FIXED_LEN_BYTE_ARRAY = 7,
} sesp_pq_physical;

typedef enum sesp_pq_repetition {
    SESP_PQ_REQUIRED = 0,
    SESP_PQ_OPTIONAL = 1,
    SESP_PQ_REPEATED = 2,
} sesp_pq_repetition;

typedef enum sesp_pq_logical_kind {
    SESP_PQ_LT_NONE = 0,
    SESP_PQ_LT_STRING,
    SESP_PQ_LT_MAP,
    SESP_PQ_LT_LIST,
    SESP_PQ_LT_ENUM,
    SESP_PQ_LT_DECIMAL,
    SESP_PQ_LT_DATE,
    SESP_PQ_LT_TIME,
    SESP_PQ_LT_TIMESTAMP,
    SESP_PQ_LT_INT,
    SESP_PQ_LT_JSON,
    SESP_PQ_LT_BSON,
    SESP_PQ_LT_UUID,
    SESP_PQ_LT_UNKNOWN,         /* a logical type this reader does not know */
} sesp_pq_logical_kind;

typedef enum sesp_pq_time_unit {
    SESP_PQ_MILLIS = 0,
    SESP_PQ_MICROS = 1,
    SESP_PQ_NANOS = 2,
} sesp_pq_time_unit;

typedef struct sesp_pq_logical {
    sesp_pq_logical_kind kind;
    int bit_width;              /* INT: 8, 16, 32, 64 */
    bool is_signed;             /* INT */
    int precision, scale;       /* DECIMAL */
    sesp_pq_time_unit unit;     /* TIMESTAMP, TIME */
    bool utc;                   /* TIMESTAMP, TIME: isAdjustedToUTC */
} sesp_pq_logical;

typedef enum sesp_pq_codec {
    SESP_PQ_UNCOMPRESSED = 0,
    SESP_PQ_SNAPPY = 1,
    SESP_PQ_GZIP = 2,
    SESP_PQ_ZSTD = 6,
    SESP_PQ_LZ4_RAW = 7,
} sesp_pq_codec;

const char *sesp_pq_codec_name(sesp_pq_codec c);

/* ---- Schema ---- */

typedef struct sesp_pq_schema sesp_pq_schema;

/* A schema node; read-only view.  Node 0 is the root (a REQUIRED group). */
typedef struct sesp_pq_node {
    const char *name;
    bool is_group;
    sesp_pq_repetition repetition;
    sesp_pq_physical physical;  /* leaves */
    int type_length;            /* FIXED_LEN_BYTE_ARRAY */
    sesp_pq_logical logical;
    int converted_type;         /* parquet ConvertedType or -1 */
    int field_id;               /* -1 if unset */
    int parent;                 /* -1 for the root */
    int nchildren;
    const int *children;        /* node ids */
    int column;                 /* leaves: column index; groups: -1 */
    int max_def, max_rep;       /* levels at this node */
} sesp_pq_node;

int sesp_pq_schema_new(sesp_pq_schema **out);
void sesp_pq_schema_free(sesp_pq_schema *s);
/* Adds a group under parent (0 = root).  logical is SESP_PQ_LT_NONE, LIST or
 * MAP.  Returns 0 and the new node id in *node_out (may be NULL). */
int sesp_pq_schema_add_group(sesp_pq_schema *s, int parent, const char *name,
                             sesp_pq_repetition rep, sesp_pq_logical_kind logical,
                             int *node_out);
/* Adds a leaf.  logical may be NULL (none).  type_length is for FIXED only;
 * precision/scale come from logical (DECIMAL).  The logical type is checked
 * against the physical type (e.g. STRING needs BYTE_ARRAY, UUID FIXED(16),
 * DECIMAL INT32 precision <= 9, INT64 <= 18, FIXED fits). */
int sesp_pq_schema_add_leaf(sesp_pq_schema *s, int parent, const char *name,
                            sesp_pq_repetition rep, sesp_pq_physical physical,
                            const sesp_pq_logical *logical, int type_length,
                            int *node_out);
/* Standard 3-level LIST: `<rep> group name (LIST) { repeated group list {} }`.
 * *list_node_out is the inner repeated group: add exactly one child named
 * "element" to it (leaf or group). */
int sesp_pq_schema_add_list(sesp_pq_schema *s, int parent, const char *name,
                            sesp_pq_repetition rep, int *list_node_out);
/* Standard MAP: `<rep> group name (MAP) { repeated group key_value {} }`.
 * Add a REQUIRED child "key" then a child "value" to *kv_node_out. */
int sesp_pq_schema_add_map(sesp_pq_schema *s, int parent, const char *name,
                           sesp_pq_repetition rep, int *kv_node_out);
int sesp_pq_schema_set_field_id(sesp_pq_schema *s, int node, int field_id);

int sesp_pq_schema_node_count(const sesp_pq_schema *s);
/* NULL if id is out of range.  The pointer is valid until the schema is
 * modified (adding nodes may move them) or freed. */
const sesp_pq_node *sesp_pq_schema_node(const sesp_pq_schema *s, int id);
int sesp_pq_schema_column_count(const sesp_pq_schema *s);
/* Node id of leaf column i, or -1. */
int sesp_pq_schema_column_node(const sesp_pq_schema *s, int column);
/* Child of a group by name, or -1. */
int sesp_pq_schema_find_child(const sesp_pq_schema *s, int parent, const char *name);

/* Logical type helpers for schema building. */
sesp_pq_logical sesp_pq_lt(sesp_pq_logical_kind kind);                  /* STRING, DATE, UUID, JSON, ... */
sesp_pq_logical sesp_pq_lt_int(int bit_width, bool is_signed);
sesp_pq_logical sesp_pq_lt_decimal(int precision, int scale);
sesp_pq_logical sesp_pq_lt_timestamp(sesp_pq_time_unit unit, bool utc);

/* ---- Values ---- */

typedef enum sesp_pq_value_kind {
    SESP_PQV_NULL = 0,
    SESP_PQV_BOOL,
    SESP_PQV_INT32,
    SESP_PQV_INT64,
    SESP_PQV_FLOAT,
    SESP_PQV_DOUBLE,
    SESP_PQV_BYTES,
    SESP_PQV_GROUP,
    SESP_PQV_LIST,
} sesp_pq_value_kind;

typedef struct sesp_pq_bytes {
    const uint8_t *p;
    uint32_t len;
} sesp_pq_bytes;

typedef struct sesp_pq_value {
    sesp_pq_value_kind kind;
    union {
        bool b;
        int32_t i32;
        int64_t i64;
        float f;
        double d;
        sesp_pq_bytes bytes;
        struct { const struct sesp_pq_value *v; size_t n; } group;  /* GROUP */
        struct { const struct sesp_pq_value *v; size_t n; } list;   /* LIST */
    } u;
} sesp_pq_value;

/* Convenience constructors (compound literals are fine too). */
static inline sesp_pq_value sesp_pqv_null(void) { sesp_pq_value v = {.kind = SESP_PQV_NULL}; return v; }
static inline sesp_pq_value sesp_pqv_bool(bool b) { sesp_pq_value v = {.kind = SESP_PQV_BOOL, .u.b = b}; return v; }
static inline sesp_pq_value sesp_pqv_i32(int32_t x) { sesp_pq_value v = {.kind = SESP_PQV_INT32, .u.i32 = x}; return v; }
static inline sesp_pq_value sesp_pqv_i64(int64_t x) { sesp_pq_value v = {.kind = SESP_PQV_INT64, .u.i64 = x}; return v; }
static inline sesp_pq_value sesp_pqv_float(float x) { sesp_pq_value v = {.kind = SESP_PQV_FLOAT, .u.f = x}; return v; }
static inline sesp_pq_value sesp_pqv_double(double x) { sesp_pq_value v = {.kind = SESP_PQV_DOUBLE, .u.d = x}; return v; }
static inline sesp_pq_value sesp_pqv_bytes(const void *p, size_t len) { sesp_pq_value v = {.kind = SESP_PQV_BYTES, .u.bytes = {(const uint8_t *)p, (uint32_t)len}}; return v; }
static inline sesp_pq_value sesp_pqv_group(const sesp_pq_value *c, size_t n) { sesp_pq_value v = {.kind = SESP_PQV_GROUP, .u.group = {c, n}}; return v; }
static inline sesp_pq_value sesp_pqv_list(const sesp_pq_value *c, size_t n) { sesp_pq_value v = {.kind = SESP_PQV_LIST, .u.list = {c, n}}; return v; }

/* ---- Writer ---- */

/* Appends len bytes to the output; returns 0 or a negative SESP_ERR_*. */
typedef int (*sesp_pq_write_fn)(void *ctx, const void *p, size_t len);
typedef struct sesp_pq_sink {
    sesp_pq_write_fn write;
    void *ctx;
} sesp_pq_sink;

typedef struct sesp_pq_kv {
    const char *key;
    const char *value;          /* may be NULL */
} sesp_pq_kv;

typedef struct sesp_pq_writer_options {
    sesp_pq_codec codec;            /* default UNCOMPRESSED */
    int compression_level;          /* 0 = codec default (zstd 3, gzip 4) */
    size_t row_group_bytes;         /* 0 = 128 MiB (buffered, uncompressed estimate) */
    size_t page_bytes;              /* 0 = 1 MiB */
    bool disable_dictionary;        /* default: dictionary on */
    size_t dictionary_page_limit;   /* 0 = 1 MiB; beyond it a column falls back to PLAIN */
    bool data_page_v2;              /* default: data page v1 */
    bool disable_page_statistics;   /* default: statistics in every data page header too */
    const char *created_by;         /* NULL = "SESP version <SESP_VERSION> (build <date>)" */
    const sesp_pq_kv *kv;           /* footer key-value metadata */
    size_t nkv;
} sesp_pq_writer_options;

typedef struct sesp_pq_writer sesp_pq_writer;

/* The schema is copied; options may be NULL (defaults). */
int sesp_pq_writer_open(const sesp_pq_schema *schema, const sesp_pq_writer_options *opts,
                        sesp_pq_sink sink, sesp_pq_writer **out);
/* row is a GROUP value whose children are the root's children.  A value that
 * does not match the schema gives SESP_ERR_INVALID_ARG and writes nothing of
 * that row. */
int sesp_pq_writer_write_row(sesp_pq_writer *w, const sesp_pq_value *row);

/* Columnar fast path for flat schemas (every column a REQUIRED or OPTIONAL
 * leaf directly under the root).  One batch per column, all nrows long. */
typedef struct sesp_pq_column_batch {
    const uint8_t *valid;       /* LSB-first bitmap, bit set = not null; NULL = all valid */
    const void *values;         /* BOOLEAN: uint8_t (0/1); INT32: int32_t; INT64: int64_t;
                                   FLOAT: float; DOUBLE: double -- indexed by row */
    const sesp_pq_bytes *bytes; /* BYTE_ARRAY / FIXED: indexed by row */
} sesp_pq_column_batch;
int sesp_pq_writer_write_column_batch(sesp_pq_writer *w, const sesp_pq_column_batch *cols,
                                      size_t nrows);
/* Ends the current row group now (normally automatic past row_group_bytes). */
int sesp_pq_writer_flush_row_group(sesp_pq_writer *w);
/* Adds footer key-value metadata (copied) before close. */
int sesp_pq_writer_add_kv(sesp_pq_writer *w, const char *key, const char *value);
/* Writes the footer and frees w (also on error).  file_size_out may be NULL. */
int sesp_pq_writer_close(sesp_pq_writer *w, uint64_t *file_size_out);
/* Frees without writing a footer (after an error or to abandon the file). */
void sesp_pq_writer_abort(sesp_pq_writer *w);
/* The message of the last error (including a rejected row), never NULL. */
const char *sesp_pq_writer_error(const sesp_pq_writer *w);

/* How much the writer holds and has written: streaming shows as bytes_written
 * growing at every row group while buffered_bytes stays near row_group_bytes. */
typedef struct sesp_pq_writer_stats {
    uint64_t bytes_written;         /* handed to the sink so far */
    uint32_t row_groups;            /* row groups written to the sink so far */
    size_t buffered_bytes;          /* the current row group's data (the estimate compared with
                                       row_group_bytes: pages, chunks, dictionaries) */
    size_t peak_buffered_bytes;     /* the most buffered_bytes has been */
    size_t buffer_capacity;         /* bytes allocated for page, level, chunk, dictionary and
                                       statistics buffers; they are reused, not freed, between
                                       row groups, so this is their high-water mark */
} sesp_pq_writer_stats;
void sesp_pq_writer_get_stats(const sesp_pq_writer *w, sesp_pq_writer_stats *out);

/* A sink that writes to a FILE* (ctx is the FILE*). */
int sesp_pq_sink_stdio_write(void *ctx, const void *p, size_t len);

/* ---- Reader ---- */

/* Reads exactly len bytes at offset into buf; returns 0 or a negative SESP_ERR_*. */
typedef int (*sesp_pq_read_fn)(void *ctx, uint64_t offset, void *buf, size_t len);
typedef struct sesp_pq_source {
    sesp_pq_read_fn read;
    void *ctx;
    uint64_t size;              /* file size */
} sesp_pq_source;

typedef struct sesp_pq_statistics {
    bool has_min, has_max;
    sesp_pq_bytes min, max;     /* PLAIN-encoded value (min_value/max_value, or legacy min/max
                                   when their sort order is known to be right) */
    bool has_null_count;
    int64_t null_count;
    bool has_distinct_count;
    int64_t distinct_count;
} sesp_pq_statistics;

typedef struct sesp_pq_column_chunk_info {
    const char *path;           /* dotted path, e.g. "a.list.element" */
    sesp_pq_physical physical;
    sesp_pq_codec codec;
    int64_t num_values;
    int64_t total_compressed_size, total_uncompressed_size;
    int64_t data_page_offset;
    int64_t dictionary_page_offset; /* -1 if none */
    uint32_t encodings;         /* bit (1 << parquet Encoding) per encoding used */
    bool has_statistics;
    sesp_pq_statistics stats;
} sesp_pq_column_chunk_info;

typedef struct sesp_pq_reader_options {
    size_t max_footer_bytes;    /* 0 = 64 MiB */
    size_t max_page_bytes;      /* 0 = 256 MiB (uncompressed) */
    size_t max_row_group_bytes; /* 0 = 2 GiB (decoded, per column chunk) */
} sesp_pq_reader_options;

typedef struct sesp_pq_reader sesp_pq_reader;

/* On failure *out is still set (unless allocation failed: then NULL) so that
 * sesp_pq_reader_error() can say why; always sesp_pq_reader_close() it. */
int sesp_pq_reader_open(sesp_pq_source src, const sesp_pq_reader_options *opts,
                        sesp_pq_reader **out);
void sesp_pq_reader_close(sesp_pq_reader *r);
/* A human-readable description of the last error (never NULL). */
const char *sesp_pq_reader_error(const sesp_pq_reader *r);

const sesp_pq_schema *sesp_pq_reader_schema(const sesp_pq_reader *r);
int64_t sesp_pq_reader_num_rows(const sesp_pq_reader *r);
int sesp_pq_reader_num_row_groups(const sesp_pq_reader *r);
int64_t sesp_pq_reader_row_group_rows(const sesp_pq_reader *r, int rg);
/* NULL if rg/column are out of range. */
const sesp_pq_column_chunk_info *sesp_pq_reader_column_chunk(const sesp_pq_reader *r, int rg, int column);
const char *sesp_pq_reader_created_by(const sesp_pq_reader *r);   /* may be NULL */
int sesp_pq_reader_kv_count(const sesp_pq_reader *r);
const sesp_pq_kv *sesp_pq_reader_kv(const sesp_pq_reader *r, int i);

/* Row-oriented read: the next row, allocated in arena a (the caller frees or
 * reuses the arena).  Returns 0 with *row_out = NULL at the end of the file. */
int sesp_pq_reader_next_row(sesp_pq_reader *r, sesp_arena *a, const sesp_pq_value **row_out);

/* Columnar read of one column chunk, any schema: level arrays plus the
 * non-null values (byte arrays point into buffers owned by the column, valid
 * until sesp_pq_column_free).  For a flat column (max_rep 0) entry i is row i, null iff
 * def[i] < max_def. */
typedef struct sesp_pq_column {
    sesp_pq_physical physical;
    size_t n;                   /* level entries */
    size_t nvalues;             /* non-null values */
    int16_t *def;               /* n entries, NULL if max_def == 0 */
    int16_t *rep;               /* n entries, NULL if max_rep == 0 */
    void *values;               /* nvalues of: uint8_t (BOOLEAN), int32_t, int64_t, float, double,
                                   or sesp_pq_bytes (BYTE_ARRAY, FIXED, INT96) */
    void *priv_;                /* owned buffers */
} sesp_pq_column;
int sesp_pq_reader_read_column(sesp_pq_reader *r, int rg, int column, sesp_pq_column *out);
void sesp_pq_column_free(sesp_pq_column *c);

/* Streaming columnar scan: one column, page by page, across row groups.
 * This is the fast path: pages are decoded straight into typed vectors whose
 * buffers are reused from batch to batch, so a batch (and everything it points
 * to) is valid only until the next sesp_pq_scan_next() or _close() call.
 * Byte arrays are slices of base (the decompressed page, or the dictionary),
 * never copied.  Errors are reported as for the other reader calls
 * (sesp_pq_reader_error) and are sticky: a failed scan stays failed.  The
 * reader must outlive its scans; several scans may share one reader. */
typedef struct sesp_pq_str {
    uint32_t off, len;          /* bytes [base + off, base + off + len) */
} sesp_pq_str;

typedef struct sesp_pq_batch {
    sesp_pq_physical physical;
    int row_group;
    size_t n;                   /* level entries (rows, for a flat column) */
    size_t nvalues;             /* non-null values */
    const int16_t *def;         /* n entries, NULL if max_def == 0 */
    const int16_t *rep;         /* n entries, NULL if max_rep == 0 */
    const void *values;         /* nvalues of uint8_t (BOOLEAN, 0/1), int32_t, int64_t, float or
                                   double; NULL for BYTE_ARRAY, FIXED, INT96 */
    const sesp_pq_str *strs;    /* nvalues slices of base for BYTE_ARRAY, FIXED, INT96 */
    const uint8_t *base;
} sesp_pq_batch;

typedef struct sesp_pq_scan sesp_pq_scan;
/* Scans column `column` of row group rg, or of every row group if rg < 0. */
int sesp_pq_scan_open(sesp_pq_reader *r, int column, int rg, sesp_pq_scan **out);
/* The next batch (one data page); 0 with b->n == 0 at the end. */
int sesp_pq_scan_next(sesp_pq_scan *s, sesp_pq_batch *b);
void sesp_pq_scan_close(sesp_pq_scan *s);

/* A source over a file descriptor (ctx is a pointer to an int fd). */
int sesp_pq_source_fd_read(void *ctx, uint64_t offset, void *buf, size_t len);

#endif
