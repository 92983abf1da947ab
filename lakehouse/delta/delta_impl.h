/*
 * Private to lakehouse/delta: helpers shared between its files (log file
 * names, the Parquet mapping of Delta types, JSON row <-> Parquet value
 * conversion, per-file stats, the pieces of schema handling that widen.c
 * shares).  Not part of the public surface.
 */
#ifndef SESP_DELTA_IMPL_H
#define SESP_DELTA_IMPL_H

#include "delta.h"
#include "lakehouse/parquet/parquet.h"

#define SESP_DELTA_LOG_DIR "_delta_log/"
#define SESP_DELTA_ENGINE "sesp/" SESP_VERSION

/* "_delta_log/%020lld.json" / ".checkpoint.parquet" into buf. */
void sesp_delta_commit_key(int64_t version, char *buf, size_t cap);
void sesp_delta_checkpoint_key(int64_t version, char *buf, size_t cap);
int64_t sesp_delta_now_ms(void);

/* 1 byte, 2 short, 3 integer, 4 long, 0 for the other kinds. */
int sesp_delta_int_rank(sesp_delta_kind k);
/* A primitive type name ("long", "decimal(10,2)") into t. */
int sesp_delta_parse_primitive(const char *s, sesp_delta_type *t, char *err, size_t errlen);
/* The inferred type of one JSON value, without defaulting: NULL for null,
 * and untyped parts (only nulls, empty arrays) stay NULL inside. */
int sesp_delta_infer_type(const json_t *v, const char *where, sesp_delta_type **out, char *err, size_t errlen);
/* Gives fields still without a type (only nulls seen) the type string. */
int sesp_delta_type_fill_unknown(sesp_delta_type *t);
/* Appends {fromType, toType[, fieldPath]} to owner's delta.typeChanges. */
int sesp_delta_record_type_change(sesp_delta_field *owner, const char *field_path, const sesp_delta_type *from,
                                  const sesp_delta_type *to);
/* Whole-string YYYY-MM-DD into days since the epoch. */
bool sesp_delta_parse_date(const char *s, int64_t *days);
/* ISO-8601 date or date-time (optional fraction and offset) into microseconds. */
bool sesp_delta_parse_timestamp(const char *s, int64_t *micros);
/* Days since the epoch -> proleptic Gregorian year, month, day. */
void sesp_delta_civil_from_days(int64_t days, int *y, unsigned *m, unsigned *d);
/* ---- decimals (decimal.c) ---- */

/* The unscaled value of a decimal: 38 digits need 127 bits plus the sign.
 * (__int128 is a GCC/clang extension; only decimal code uses it.) */
__extension__ typedef __int128 sesp_delta_dec;
#define SESP_DELTA_DEC_MAX_PRECISION 38
/* room for the text of any decimal: sign, 38 digits, point, "0." and NUL */
#define SESP_DELTA_DEC_TEXT 48
/* Unscaled decimal x at scale as plain digits ("-12.50"); SESP_DELTA_DEC_TEXT
 * bytes always suffice. */
void sesp_delta_decimal_text(sesp_delta_dec x, int scale, char *out, size_t cap);
/* Whether |x| < 10^precision. */
bool sesp_delta_decimal_fits(sesp_delta_dec x, int precision);
/* x (unscaled at some scale) to the unscaled value at that scale + up,
 * for a value of a file written before its column's scale grew; false when
 * the result does not fit precision (up < 0 too). */
bool sesp_delta_decimal_rescale(sesp_delta_dec *x, int up, int precision);
/* Bytes of the FIXED_LEN_BYTE_ARRAY Spark stores decimal(precision, _) in
 * above precision 18: the fewest that hold every value (9 for 19 and 20,
 * 16 for 38); 0 for a precision out of 1..38. */
int sesp_delta_decimal_width(int precision);
/* x as width big-endian two's complement bytes (width <= 16). */
void sesp_delta_decimal_to_be(sesp_delta_dec x, uint8_t *out, int width);
/* Big-endian two's complement bytes (any length; beyond 16 bytes only sign
 * extension) into *x; false for none or too large. */
bool sesp_delta_decimal_from_be(const uint8_t *p, size_t len, sesp_delta_dec *x);
/* Integer and fraction digits of a decimal JSON value (leading and trailing
 * zeros not counted); false if v is not a decimal literal. */
bool sesp_delta_decimal_digits(const json_t *v, int *ip, int *fp);

/* A JSON row value as json_to_pq reads it (false where it would refuse the
 * value): a date (YYYY-MM-DD or days) as days since the epoch, a timestamp
 * (ISO-8601 or microseconds) as microseconds, a decimal (string or number)
 * as its unscaled value at scale within precision. */
bool sesp_delta_json_to_days(const json_t *v, int64_t *days);
bool sesp_delta_json_to_micros(const json_t *v, int64_t *micros);
bool sesp_delta_json_to_decimal(const json_t *v, int precision, int scale, sesp_delta_dec *unscaled);

/* Spark's default string prefix for stats (spark.databricks.io.skipping.stringPrefixLength). */
#define SESP_DELTA_STATS_PREFIX_DEFAULT 32
/* The table property delta.dataSkippingStringPrefixLength (a positive
 * integer) of config, else the default. */
int sesp_delta_stats_prefix_length(const sesp_delta_map *config);
/* The stats JSON of an add action for a data file holding rows[0..n)
 * (validated against schema), partition columns part[] left out, string
 * bounds cut to prefix code points.  *out: malloc'ed text. */
int sesp_delta_file_stats(const sesp_delta_type *schema, const char *const *part, size_t npart, json_t *const *rows,
                          size_t n, int prefix, char **out);

/* Which leaf columns of a table's data files get stats (stats_cols.c): the
 * leaves in schema order, nested struct leaves one by one, arrays and maps
 * one leaf each, partition columns left out.  leaf == NULL: all of them. */
typedef struct sesp_delta_stats_cols {
    bool *leaf;
    size_t nleaves;
} sesp_delta_stats_cols;
/* delta.dataSkippingNumIndexedCols when the table does not set it. */
#define SESP_DELTA_NUM_INDEXED_DEFAULT 32
/* The selection config asks for (delta.dataSkippingStatsColumns, else
 * delta.dataSkippingNumIndexedCols); values the check below refuses widen
 * it or fall back to the default.  Free with sesp_delta_stats_cols_free. */
int sesp_delta_stats_cols_for(const sesp_delta_type *schema, const char *const *part, size_t npart,
                              const sesp_delta_map *config, sesp_delta_stats_cols *out);
void sesp_delta_stats_cols_free(sesp_delta_stats_cols *c);
/* Delta's check of those two properties in config against the table's
 * schema and partition columns: INVALID_ARG with a message naming the
 * property and the column. */
int sesp_delta_stats_config_check(const sesp_delta_type *schema, const char *const *part, size_t npart,
                                  const sesp_delta_map *config, char *err, size_t errlen);
/* sesp_delta_file_stats for the leaves cols selects (NULL: all): numRecords
 * always, minValues/maxValues/nullCount only for those leaves, and left out
 * when there are none. */
int sesp_delta_file_stats_cols(const sesp_delta_type *schema, const char *const *part, size_t npart,
                               const sesp_delta_stats_cols *cols, json_t *const *rows, size_t n, int prefix, char **out);

/* Adds the Parquet schema of a Delta struct's fields (skipping names in
 * skip[]) under parquet node parent. */
int sesp_delta_pq_add_fields(sesp_pq_schema *ps, int parent, const sesp_delta_type *st,
                             const char *const *skip, size_t nskip, char *err, size_t errlen);
/* JSON value -> Parquet value for type t (allocated in a).  Missing/null for a
 * non-nullable column is an error naming the column. */
int sesp_delta_json_to_pq(const sesp_delta_type *t, bool nullable, const json_t *v, const char *col,
                          sesp_arena *a, sesp_pq_value *out, char *err, size_t errlen);
/* Parquet value -> JSON for type t (new reference, json_null() for NULL).
 * node is v's node in the file's schema ps (-1: unknown), whose type says
 * how older files hold widened columns (a decimal's scale). */
json_t *sesp_delta_pq_to_json(const sesp_delta_type *t, const sesp_pq_schema *ps, int node, const sesp_pq_value *v);
/* Whether the file's node (schema ps) can be read as type t: every decimal
 * inside must be a DECIMAL of at most t's scale or a plain integer (a
 * column widened from byte..long).  MALFORMED with a message naming col. */
int sesp_delta_pq_check_file_type(const sesp_delta_type *t, const sesp_pq_schema *ps, int node, const char *col,
                                  char *err, size_t errlen);

#endif
