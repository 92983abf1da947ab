/* libFuzzer target: the input is decoded as a FileMetaData footer (then as a
 * schema), as a page header, and framed as a whole Parquet file
 * ("PAR1" + input + length + "PAR1") that the reader opens and reads rows
 * from and scans column by column, with small limits.  Any crash, leak or sanitizer report is a bug. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lakehouse/parquet/parquet.h"
#include "lakehouse/parquet/pq_internal.h"

typedef struct memsrc { const uint8_t *p; size_t len; } memsrc;

static int mem_read(void *ctx, uint64_t off, void *buf, size_t len)
{
    memsrc *m = ctx;
    if (off > m->len || len > m->len - off)
        return -2;
    memcpy(buf, m->p + off, len);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    sesp_arena a;
    sesp_arena_init(&a, 32u << 20);
    sesp_pq_md_file f;
    if (sesp_pq_md_file_decode(data, size, &a, &f) == 0) {
        sesp_pq_schema *s;
        if (sesp_pq_schema_from_md(f.schema, f.nschema, &s, NULL, 0) == 0)
            sesp_pq_schema_free(s);
    }
    sesp_arena_free(&a);

    sesp_pq_md_page h;
    size_t used;
    (void)sesp_pq_md_page_decode(data, size, &h, &used);

    /* An input starting with "PAR1" is taken as a whole file (seeds are real
     * files); anything else is framed with its second half as the footer. */
    uint8_t *file = malloc(size + 12);
    if (!file)
        return 0;
    size_t flen = size;
    if (size >= 4 && memcmp(data, "PAR1", 4) == 0) {
        memcpy(file, data, size);
    } else {
        uint32_t l = (uint32_t)(size / 2);
        memcpy(file, "PAR1", 4);
        memcpy(file + 4, data, size);
        memcpy(file + 4 + size, &l, 4);
        memcpy(file + 8 + size, "PAR1", 4);
        flen = size + 12;
    }
    memsrc m = {file, flen};
    sesp_pq_source src = {mem_read, &m, flen};
    sesp_pq_reader_options o = {.max_footer_bytes = 1 << 20, .max_page_bytes = 1 << 20,
                                .max_row_group_bytes = 4 << 20};
    sesp_pq_reader *r = NULL;
    if (sesp_pq_reader_open(src, &o, &r) == 0) {
        sesp_arena ra;
        sesp_arena_init(&ra, 16u << 20);
        const sesp_pq_value *row;
        for (int i = 0; i < 64; i++)
            if (sesp_pq_reader_next_row(r, &ra, &row) || !row)
                break;
        sesp_arena_free(&ra);
        /* The streaming scan of every column, all row groups. */
        const sesp_pq_schema *s = sesp_pq_reader_schema(r);
        for (int c = 0; c < sesp_pq_schema_column_count(s) && c < 16; c++) {
            sesp_pq_scan *sc;
            if (sesp_pq_scan_open(r, c, -1, &sc))
                continue;
            uint64_t sum = 0;
            for (int k = 0; k < 256; k++) {
                sesp_pq_batch b;
                if (sesp_pq_scan_next(sc, &b) || !b.n)
                    break;
                /* Touch everything the batch points at. */
                for (size_t i = 0; b.def && i < b.n; i++)
                    sum += (uint16_t)b.def[i];
                for (size_t i = 0; b.rep && i < b.n; i++)
                    sum += (uint16_t)b.rep[i];
                for (size_t i = 0; b.strs && i < b.nvalues; i++)
                    sum += b.strs[i].len ? b.base[b.strs[i].off] + b.base[b.strs[i].off + b.strs[i].len - 1] : 0;
                if (b.values && b.nvalues)
                    sum += ((const uint8_t *)b.values)[0];
            }
            sesp_pq_scan_close(sc);
            __asm__ volatile("" : : "r"(sum));
        }
    }
    sesp_pq_reader_close(r);
    free(file);
    return 0;
}
