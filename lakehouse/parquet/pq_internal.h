/*
 * Internal interfaces between the files of lakehouse/parquet (not part of the
 * public API; tests include it to exercise the pieces one by one): the Thrift
 * compact protocol, the footer/page-header structures, the RLE/bit-packed
 * hybrid, PLAIN and dictionary encodings, codecs, statistics and the schema
 * internals.
 */
#ifndef SESP_PQ_INTERNAL_H
#define SESP_PQ_INTERNAL_H

#include "common/arena.h"
#include "common/buf.h"
#include "lakehouse/parquet/parquet.h"

/* ---- thrift.c: compact protocol ---- */

enum {
    SESP_TC_STOP = 0, SESP_TC_TRUE = 1, SESP_TC_FALSE = 2, SESP_TC_I8 = 3, SESP_TC_I16 = 4,
    SESP_TC_I32 = 5, SESP_TC_I64 = 6, SESP_TC_DOUBLE = 7, SESP_TC_BINARY = 8, SESP_TC_LIST = 9,
    SESP_TC_SET = 10, SESP_TC_MAP = 11, SESP_TC_STRUCT = 12,
};
#define SESP_TC_MAX_DEPTH 32

typedef struct sesp_tc_reader {
    sesp_bufr r;
    int depth;
    int16_t last[SESP_TC_MAX_DEPTH];
    size_t max_list;            /* upper bound on list sizes (also bounded by bytes left) */
} sesp_tc_reader;

void sesp_tc_reader_init(sesp_tc_reader *t, const void *p, size_t len);
/* Enters a struct (bounded depth); false on error (reader poisoned). */
bool sesp_tc_struct_begin(sesp_tc_reader *t);
void sesp_tc_struct_end(sesp_tc_reader *t);
/* Next field header: returns its type (SESP_TC_STOP at the end or on error)
 * and id.  For booleans the type carries the value (TRUE/FALSE). */
int sesp_tc_field(sesp_tc_reader *t, int16_t *id);
int32_t sesp_tc_i32(sesp_tc_reader *t);      /* I8, I16, I32 as zig-zag varints (I8 raw) */
int64_t sesp_tc_i64(sesp_tc_reader *t);
bool sesp_tc_bool(sesp_tc_reader *t, int ftype);  /* field bool (ftype TRUE/FALSE) */
const uint8_t *sesp_tc_binary(sesp_tc_reader *t, uint32_t *len);
/* List header: element type and count (checked against bytes left). */
bool sesp_tc_list(sesp_tc_reader *t, int *etype, uint32_t *n);
/* Reads an i32/i16/i8 field value of the given wire type (mismatch = malformed). */
int32_t sesp_tc_int_of(sesp_tc_reader *t, int ftype);
int64_t sesp_tc_i64_of(sesp_tc_reader *t, int ftype);
bool sesp_tc_skip(sesp_tc_reader *t, int type);

typedef struct sesp_tc_writer {
    sesp_bufw *w;
    int depth;
    int16_t last[SESP_TC_MAX_DEPTH];
} sesp_tc_writer;

void sesp_tc_writer_init(sesp_tc_writer *t, sesp_bufw *w);
void sesp_tc_w_field(sesp_tc_writer *t, int type, int16_t id);
void sesp_tc_w_i32(sesp_tc_writer *t, int16_t id, int32_t v);
void sesp_tc_w_i64(sesp_tc_writer *t, int16_t id, int64_t v);
void sesp_tc_w_i8(sesp_tc_writer *t, int16_t id, int8_t v);
void sesp_tc_w_bool(sesp_tc_writer *t, int16_t id, bool v);
void sesp_tc_w_binary(sesp_tc_writer *t, int16_t id, const void *p, size_t len);
void sesp_tc_w_struct_begin(sesp_tc_writer *t, int16_t id);   /* id < 0: list element / top level */
void sesp_tc_w_struct_end(sesp_tc_writer *t);                  /* writes STOP */
void sesp_tc_w_list_begin(sesp_tc_writer *t, int16_t id, int etype, uint32_t n);
/* Raw element writers for lists. */
void sesp_tc_w_elem_i32(sesp_tc_writer *t, int32_t v);
void sesp_tc_w_elem_binary(sesp_tc_writer *t, const void *p, size_t len);

/* ---- metadata.c: footer and page headers ---- */

enum { SESP_PQ_ENC_PLAIN = 0, SESP_PQ_ENC_PLAIN_DICTIONARY = 2, SESP_PQ_ENC_RLE = 3,
       SESP_PQ_ENC_BIT_PACKED = 4, SESP_PQ_ENC_DELTA_BINARY_PACKED = 5,
       SESP_PQ_ENC_DELTA_LENGTH_BYTE_ARRAY = 6, SESP_PQ_ENC_DELTA_BYTE_ARRAY = 7,
       SESP_PQ_ENC_RLE_DICTIONARY = 8, SESP_PQ_ENC_BYTE_STREAM_SPLIT = 9 };
enum { SESP_PQ_PAGE_DATA = 0, SESP_PQ_PAGE_INDEX = 1, SESP_PQ_PAGE_DICTIONARY = 2,
       SESP_PQ_PAGE_DATA_V2 = 3 };

typedef struct sesp_pq_md_stats {
    bool has_max, has_min, has_max_value, has_min_value, has_null_count, has_distinct_count;
    sesp_pq_bytes max, min, max_value, min_value;
    int64_t null_count, distinct_count;
} sesp_pq_md_stats;

typedef struct sesp_pq_md_schema {
    const char *name;
    int type;                   /* -1 = group */
    int type_length;
    int repetition;             /* -1 = unset (root) */
    int num_children;           /* -1 = unset (leaf) */
    int converted_type;         /* -1 */
    int scale, precision;       /* -1 */
    int field_id;               /* -1 */
    sesp_pq_logical logical;    /* kind NONE if unset */
} sesp_pq_md_schema;

typedef struct sesp_pq_md_column {
    int type;
    uint32_t encodings;         /* bitmask */
    const char **path;
    uint32_t npath;
    int codec;
    int64_t num_values, total_uncompressed_size, total_compressed_size;
    int64_t data_page_offset, index_page_offset, dictionary_page_offset;  /* -1 = unset */
    bool has_stats;
    sesp_pq_md_stats stats;
} sesp_pq_md_column;

typedef struct sesp_pq_md_chunk {
    const char *file_path;
    int64_t file_offset;
    bool has_meta;
    sesp_pq_md_column meta;
} sesp_pq_md_chunk;

typedef struct sesp_pq_md_row_group {
    sesp_pq_md_chunk *columns;
    uint32_t ncolumns;
    int64_t total_byte_size, num_rows;
    int64_t file_offset, total_compressed_size;   /* -1 = unset */
    int ordinal;                                   /* -1 = unset */
} sesp_pq_md_row_group;

typedef struct sesp_pq_md_file {
    int32_t version;
    sesp_pq_md_schema *schema;
    uint32_t nschema;
    int64_t num_rows;
    sesp_pq_md_row_group *row_groups;
    uint32_t nrow_groups;
    sesp_pq_kv *kv;
    uint32_t nkv;
    const char *created_by;
    bool write_column_orders;   /* writer: one TYPE_ORDER per leaf */
} sesp_pq_md_file;

typedef struct sesp_pq_md_page {
    int type;
    int32_t uncompressed_page_size, compressed_page_size;
    bool has_crc;
    int32_t crc;
    bool has_data, has_dict, has_v2;
    struct { int32_t num_values; int encoding, def_encoding, rep_encoding;
             bool has_stats; sesp_pq_md_stats stats; } data;
    struct { int32_t num_values; int encoding; bool is_sorted; } dict;
    struct { int32_t num_values, num_nulls, num_rows; int encoding;
             int32_t def_len, rep_len; bool is_compressed;
             bool has_stats; sesp_pq_md_stats stats; } v2;
} sesp_pq_md_page;

/* Decoders allocate strings/arrays in the arena; return 0 or SESP_ERR_*. */
int sesp_pq_md_file_decode(const uint8_t *p, size_t len, sesp_arena *a, sesp_pq_md_file *out);
void sesp_pq_md_file_encode(const sesp_pq_md_file *f, sesp_bufw *w);
/* Decodes a page header at the start of p; *used = its length. */
int sesp_pq_md_page_decode(const uint8_t *p, size_t len, sesp_pq_md_page *out, size_t *used);
void sesp_pq_md_page_encode(const sesp_pq_md_page *h, sesp_bufw *w);

/* ---- schema.c internals ---- */

#define SESP_PQ_MAX_SCHEMA_DEPTH 64
#define SESP_PQ_MAX_SCHEMA_NODES 100000

typedef struct sesp_pq_node_priv {
    char *name;
    int *kids;
    int kcap;
    /* For a group holding a LIST value (LIST/MAP annotated, one repeated
     * child): 1 = items are the repeated child's values, 2 = items are the
     * repeated child's single field (3-level LIST, unwrapped). */
    int list_mode;
} sesp_pq_node_priv;

struct sesp_pq_schema {
    sesp_pq_node *nodes;
    sesp_pq_node_priv *priv;
    int n, cap;
    int *columns;               /* leaf node ids in depth-first order */
    int ncolumns;
};

/* Builds a schema from footer elements (validating the tree), and flattens a
 * schema into elements (names point into the schema). */
int sesp_pq_schema_from_md(const sesp_pq_md_schema *el, uint32_t n, sesp_pq_schema **out,
                           char *errbuf, size_t errlen);
int sesp_pq_schema_to_md(const sesp_pq_schema *s, sesp_arena *a, sesp_pq_md_schema **out,
                         uint32_t *n);
int sesp_pq_schema_clone(const sesp_pq_schema *s, sesp_pq_schema **out);
/* Dotted path of a leaf column into an arena (and path components). */
const char **sesp_pq_schema_column_path(const sesp_pq_schema *s, int column, sesp_arena *a,
                                        uint32_t *n);

/* ---- rle.c: RLE / bit-packed hybrid ---- */

static inline int sesp_pq_bit_width(uint64_t max) { int w = 0; while (max) { w++; max >>= 1; } return w; }
/* Appends the hybrid encoding of n values of the given bit width (no length prefix). */
void sesp_pq_rle_encode(sesp_bufw *w, const uint32_t *v, size_t n, int bit_width);
void sesp_pq_rle_encode16(sesp_bufw *w, const int16_t *v, size_t n, int bit_width);
/* Decodes exactly n values; values above max (if max >= 0) are malformed. */
int sesp_pq_rle_decode(const uint8_t *p, size_t len, int bit_width, uint32_t *out, size_t n);
int sesp_pq_rle_decode16(const uint8_t *p, size_t len, int bit_width, int16_t *out, size_t n,
                         int max);
/* Levels (bit_width <= 16, values <= max <= 0xffff): decodes n entries and
 * counts those equal to max into *nmax (may be NULL). */
int sesp_pq_levels_decode(const uint8_t *p, size_t len, int bit_width, int16_t *out, size_t n, int max,
                          size_t *nmax);
/* Unpacks ngroups groups of 8 bit-packed values (bw bytes each, 0 <= bw <= 32). */
void sesp_pq_unpack32(const uint8_t *in, size_t ngroups, int bw, uint32_t *out);

/* ---- encoding.c: PLAIN and dictionary ---- */

size_t sesp_pq_plain_width(sesp_pq_physical t, int type_length);   /* 0 for BYTE_ARRAY */
/* Decodes n PLAIN values into out: uint8_t (BOOLEAN), int32_t, int64_t, float,
 * double, or sesp_pq_str slices of p (BYTE_ARRAY, FIXED, INT96). */
int sesp_pq_plain_decode(sesp_pq_physical t, int type_length, const uint8_t *p, size_t len,
                         size_t n, void *out, size_t *used);

/* LSB-first bitmap of n bits -> n bytes of 0/1. */
void sesp_pq_unpack_bools(const uint8_t *p, size_t n, uint8_t *out);

/* DELTA_BINARY_PACKED: decodes exactly n values (the header's count must be
 * n) of value_bits 32 or 64; *used = bytes consumed. */
int sesp_pq_delta_decode(const uint8_t *p, size_t len, int value_bits, int64_t *out, size_t n, size_t *used);

/* A per-column-chunk hash dictionary of distinct PLAIN-encoded values. */
typedef struct sesp_pq_dict {
    sesp_pq_physical type;
    int type_length;
    sesp_bufw plain;            /* PLAIN encoding of the entries, in index order */
    uint32_t *offsets;          /* entry i starts at offsets[i] in plain (value bytes) */
    uint32_t *lens;
    uint32_t n, cap_entries;
    uint64_t *slots;            /* open addressing: hash high bits << 32 | index+1; 0 = empty */
    uint32_t nslots;
} sesp_pq_dict;

void sesp_pq_dict_init(sesp_pq_dict *d, sesp_pq_physical t, int type_length);
void sesp_pq_dict_free(sesp_pq_dict *d);
void sesp_pq_dict_reset(sesp_pq_dict *d);
/* Index of the value (adding it if new) or -1 on OOM. */
int64_t sesp_pq_dict_insert(sesp_pq_dict *d, const void *val, size_t len);

/* ---- compress.c ---- */

bool sesp_pq_codec_supported(int codec);
size_t sesp_pq_compress_bound(int codec, size_t n);
/* Compresses src into dst (capacity from compress_bound); *out_len. */
int sesp_pq_compress(int codec, int level, const uint8_t *src, size_t n, uint8_t *dst,
                     size_t cap, size_t *out_len);
/* Decompresses exactly expect bytes. */
int sesp_pq_decompress(int codec, const uint8_t *src, size_t n, uint8_t *dst, size_t expect);
/* A raw snappy block into exactly expect bytes at dst (snappy.c);
 * SESP_ERR_CORRUPT unless it decodes to exactly that many. */
int sesp_pq_snappy_uncompress(const uint8_t *src, size_t n, uint8_t *dst, size_t expect);

/* ---- stats.c ---- */

typedef enum { SESP_PQ_ORDER_SIGNED, SESP_PQ_ORDER_UNSIGNED, SESP_PQ_ORDER_UNDEFINED } sesp_pq_sort_order;
sesp_pq_sort_order sesp_pq_sort_order_of(const sesp_pq_node *n);

typedef struct sesp_pq_stats {
    sesp_pq_physical type;
    int type_length;
    sesp_pq_sort_order order;
    bool has;                   /* min/max set */
    int64_t null_count;
    union { int32_t i32; int64_t i64; float f; double d; bool b; } min, max;
    sesp_bufw minb, maxb;       /* byte arrays */
} sesp_pq_stats;

void sesp_pq_stats_init(sesp_pq_stats *s, const sesp_pq_node *n);
void sesp_pq_stats_free(sesp_pq_stats *s);
void sesp_pq_stats_reset(sesp_pq_stats *s);
void sesp_pq_stats_i32(sesp_pq_stats *s, int32_t v);
void sesp_pq_stats_i64(sesp_pq_stats *s, int64_t v);
void sesp_pq_stats_float(sesp_pq_stats *s, float v);
void sesp_pq_stats_double(sesp_pq_stats *s, double v);
void sesp_pq_stats_bool(sesp_pq_stats *s, bool v);
void sesp_pq_stats_bytes(sesp_pq_stats *s, const uint8_t *p, size_t len);
void sesp_pq_stats_merge(sesp_pq_stats *into, const sesp_pq_stats *from);
/* Fills md (min/max pointing into s or scratch) for writing. */
void sesp_pq_stats_to_md(const sesp_pq_stats *s, uint8_t scratch[16], sesp_pq_md_stats *md);
/* Compares two PLAIN-encoded stat values by the order (for tests/pruning). */
int sesp_pq_stats_compare(sesp_pq_physical t, sesp_pq_sort_order o, sesp_pq_bytes a, sesp_pq_bytes b);

/* ---- reader.c internals shared with scan.c ---- */

struct sesp_pq_reader {
    sesp_pq_source src;
    sesp_pq_reader_options opt;
    char errmsg[256];
    sesp_arena arena;
    sesp_pq_md_file md;
    sesp_pq_schema *schema;
    sesp_pq_column_chunk_info *infos;   /* nrow_groups * ncolumns */
    uint64_t data_end;                  /* first byte of the footer */
    uint8_t *footer;                    /* kept: statistics point into it */
    int *first_col, *ncol_under;
    /* row iteration */
    int cur_rg;                         /* -1 = none loaded */
    int row_err;                        /* sticky: a failed next_row stays failed */
    int64_t row_in_rg;
    struct sesp_pq_column *cols;
    size_t *lpos, *vpos;
};

/* Sets the reader's error message; returns err. */
int sesp_pq_rd_fail(sesp_pq_reader *r, int err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Reads len bytes at off, checked against the file size. */
int sesp_pq_rd_read(sesp_pq_reader *r, uint64_t off, void *buf, size_t len);

#endif
