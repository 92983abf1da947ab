/*
 * `sesp table`: the command-line face of lakehouse/delta.
 *   create URI --schema JSON [--partition-by a,b] [--config k=v]... [--name N]
 *   set-properties URI --config k=v...           ALTER TABLE SET TBLPROPERTIES
 *   append URI --input FILE|- [--partition-by a,b] [--app-id ID --txn-version N] [--merge-schema]
 *   scan URI [--version N | --timestamp T]      rows as JSON lines
 *   describe URI [--version N]                   schema, partitions, files, sizes
 *   history URI                                  one JSON line per commit
 *   optimize URI [--target-size BYTES]
 *   vacuum URI [--retention-hours H] [--no-retention-check] [--dry-run]
 *                                                logged as VACUUM START / VACUUM END commits
 *   restore URI --version N
 *   delete URI --where "col OP literal"          OP: = != < <= > >=
 *   merge URI --input FILE|- --key a,b
 * Common: --store-opt key=value (object store options, see objstore.h),
 * --max-rows-per-file N.  Mutating commands print a JSON summary line.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/err.h"
#include "lakehouse/delta/delta.h"
#include "json_numbers.h"
#include "table_cli.h"
#include "where.h"

#define MAX_INPUT_BYTES ((size_t)1 << 30)
#define MAX_LIST 64

typedef struct cli {
    const char *cmd, *uri, *schema, *input, *app_id, *where, *name;
    char *part_buf, *key_buf;
    const char *part[MAX_LIST], *keys[MAX_LIST];
    size_t npart, nkeys;
    sesp_delta_kv config[MAX_LIST];
    size_t nconfig;
    int64_t version, txn_version, ts_ms;
    bool has_version, has_txn, has_ts, dry_run, merge_schema, no_retention_check;
    double retention_hours;     /* < 0: the table's delta.deletedFileRetentionDuration */
    uint64_t target_size;
    sesp_delta_table_opts opts;
} cli;

static void usage(void)
{
    fprintf(stderr,
            "usage: sesp table COMMAND URI [options]\n"
            "  create URI --schema JSON [--partition-by a,b] [--config k=v]... [--name N]\n"
            "  set-properties URI --config k=v...\n"
            "  append URI --input FILE|- [--partition-by a,b] [--app-id ID --txn-version N] [--merge-schema]\n"
            "  scan URI [--version N | --timestamp MS|ISO-8601]\n"
            "  describe URI [--version N]\n"
            "  history URI\n"
            "  optimize URI [--target-size BYTES]\n"
            "  vacuum URI [--retention-hours H] [--no-retention-check] [--dry-run]\n"
            "  restore URI --version N\n"
            "  delete URI --where \"col OP literal\"\n"
            "  merge URI --input FILE|- --key a,b\n"
            "options for all: --store-opt key=value, --max-rows-per-file N\n"
            "URI: file:///path, /path, s3://bucket/prefix, webhdfs://host:port/path\n");
}

static size_t split_list(char *s, const char **out)
{
    size_t n = 0;
    for (char *tok = strtok(s, ","); tok && n < MAX_LIST; tok = strtok(NULL, ",")) out[n++] = tok;
    return n;
}

static bool parse_i64(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end) return false;
    *out = v;
    return true;
}

static bool parse_ts(const char *s, int64_t *ms)
{
    if (parse_i64(s, ms)) return true;
    int Y, M, D, h = 0, m = 0, sec = 0, n = 0;
    if (sscanf(s, "%4d-%2d-%2d%n", &Y, &M, &D, &n) != 3) return false;
    const char *p = s + n;
    int frac_ms = 0;
    if (*p == 'T' || *p == ' ') {
        int k = 0;
        if (sscanf(p + 1, "%2d:%2d:%2d%n", &h, &m, &sec, &k) != 3) return false;
        p += 1 + k;
        if (*p == '.') {
            p++;
            int digits = 0;
            while (*p >= '0' && *p <= '9') { if (digits < 3) { frac_ms = frac_ms * 10 + (*p - '0'); digits++; } p++; }
            while (digits < 3) { frac_ms *= 10; digits++; }
        }
    }
    if (*p == 'Z') p++;
    if (*p) return false;
    struct tm tm = {.tm_year = Y - 1900, .tm_mon = M - 1, .tm_mday = D, .tm_hour = h, .tm_min = m, .tm_sec = sec};
    *ms = (int64_t)timegm(&tm) * 1000 + frac_ms;
    return true;
}

static int fail(sesp_delta_table *t, const char *what, int rc)
{
    /* SESP_ERR_CORRUPT's generic text speaks of checksums; for a table it
     * also means commits or a checkpoint missing from the log */
    fprintf(stderr, "sesp table %s: %s (%s)\n", what, t ? sesp_delta_table_error(t) : "",
            rc == SESP_ERR_CORRUPT ? "corrupt or incomplete table" : sesp_strerror(rc));
    return rc == SESP_ERR_CONFLICT ? 3 : 1;
}

/* Reads JSON lines into an array of objects, number literals kept exact
 * for t's decimal columns (json_numbers.c). */
static json_t *read_rows(const char *path, sesp_delta_table *t)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "rb") : stdin;
    if (!f) { fprintf(stderr, "sesp table: %s: %s\n", path, strerror(errno)); return NULL; }
    json_t *rows = json_array();
    char *line = NULL;
    size_t cap = 0, total = 0, lineno = 0;
    ssize_t n;
    bool ok = true, any_marked = false;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        total += (size_t)n;
        if (total > MAX_INPUT_BYTES) { fprintf(stderr, "sesp table: input over %zu bytes\n", MAX_INPUT_BYTES); ok = false; break; }
        char *p = line;
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
        if (!*p) continue;
        json_error_t je;
        char *marked = NULL;
        size_t mlen = 0;
        int mrc = sesp_tcli_mark_numbers(line, (size_t)n, &marked, &mlen);
        if (mrc) {
            fprintf(stderr, "sesp table: %s line %zu: %s\n", path, lineno,
                    mrc == SESP_ERR_NOMEM ? "out of memory" : "\\u0000 in a string of a line with numbers beyond int64 or double");
            ok = false;
            break;
        }
        json_t *j = marked ? json_loadb(marked, mlen, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &je)
                           : json_loadb(line, (size_t)n, JSON_REJECT_DUPLICATES, &je);
        free(marked);
        any_marked |= marked != NULL;
        if (!j || !json_is_object(j)) {
            fprintf(stderr, "sesp table: %s line %zu: %s\n", path, lineno, j ? "not a JSON object" : je.text);
            json_decref(j);
            ok = false;
            break;
        }
        json_array_append_new(rows, j);
    }
    free(line);
    if (f != stdin) fclose(f);
    if (ok && any_marked) {
        /* the table's schema says which markers are decimals (none: new table) */
        sesp_delta_snapshot *snap = NULL;
        const sesp_delta_type *schema = sesp_delta_table_snapshot(t, -1, &snap) ? NULL : snap->schema;
        size_t i;
        json_t *row;
        json_array_foreach(rows, i, row) if (sesp_tcli_resolve_numbers(row, schema)) ok = false;
        if (!ok) fprintf(stderr, "sesp table: out of memory\n");
        sesp_delta_snapshot_free(snap);
    }
    if (!ok) { json_decref(rows); return NULL; }
    return rows;
}

static void print_result(const char *op, const sesp_delta_result *r)
{
    printf("{\"operation\":\"%s\",\"version\":%lld,\"skipped\":%s,\"filesAdded\":%zu,\"filesRemoved\":%zu,"
           "\"rowsWritten\":%lld,\"rowsDeleted\":%lld}\n",
           op, (long long)r->version, r->skipped ? "true" : "false", r->files_added, r->files_removed,
           (long long)r->rows_written, (long long)r->rows_deleted);
}

static int print_row(void *ud, const json_t *row)
{
    (void)ud;
    char *s = json_dumps(row, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(17));
    if (!s) return SESP_ERR_NOMEM;
    puts(s);
    free(s);
    return 0;
}

static int load_snapshot(cli *c, sesp_delta_table *t, sesp_delta_snapshot **snap)
{
    if (c->has_ts) return sesp_delta_table_snapshot_at(t, c->ts_ms, snap);
    return sesp_delta_table_snapshot(t, c->has_version ? c->version : -1, snap);
}

static int cmd_describe(cli *c, sesp_delta_table *t)
{
    sesp_delta_snapshot *snap = NULL;
    int rc = load_snapshot(c, t, &snap);
    if (rc) return fail(t, "describe", rc);
    json_t *parts = json_array(), *files = json_array(), *layout = json_object();
    int64_t total = 0, rows = 0;
    bool rows_known = true;
    for (size_t k = 0; k < snap->metadata.npartition_columns; k++) json_array_append_new(parts, json_string(snap->metadata.partition_columns[k]));
    for (size_t i = 0; i < snap->nfiles; i++) {
        const sesp_delta_add *a = snap->files[i];
        total += a->size;
        json_t *st = a->stats ? json_loads(a->stats, 0, NULL) : NULL;
        json_t *nr = json_object_get(st, "numRecords");
        if (json_is_integer(nr)) rows += json_integer_value(nr);
        else rows_known = false;
        json_t *pv = json_object();
        for (size_t k = 0; k < a->partition_values.n; k++)
            json_object_set_new(pv, a->partition_values.items[k].key, a->partition_values.items[k].value ? json_string(a->partition_values.items[k].value) : json_null());
        char *pk = json_dumps(pv, JSON_COMPACT | JSON_SORT_KEYS);
        json_t *entry = json_object_get(layout, pk);
        if (!entry) { entry = json_pack("{s:O,s:i,s:I}", "partitionValues", pv, "files", 0, "sizeBytes", (json_int_t)0); json_object_set_new(layout, pk, entry); }
        json_object_set_new(entry, "files", json_integer(json_integer_value(json_object_get(entry, "files")) + 1));
        json_object_set_new(entry, "sizeBytes", json_integer(json_integer_value(json_object_get(entry, "sizeBytes")) + a->size));
        free(pk);
        json_array_append_new(files, json_pack("{s:s,s:I,s:o,s:O}", "path", a->path, "size", (json_int_t)a->size, "partitionValues", pv,
                                               "numRecords", nr ? nr : json_null()));
        json_decref(st);
    }
    json_t *playout = json_array();
    const char *k;
    json_t *v;
    json_object_foreach(layout, k, v) json_array_append(playout, v);
    json_decref(layout);
    json_t *config = json_object();
    for (size_t i = 0; i < snap->metadata.configuration.n; i++)
        json_object_set_new(config, snap->metadata.configuration.items[i].key,
                            snap->metadata.configuration.items[i].value ? json_string(snap->metadata.configuration.items[i].value) : json_null());
    json_t *proto = json_pack("{s:i,s:i}", "minReaderVersion", snap->protocol.min_reader, "minWriterVersion", snap->protocol.min_writer);
    if (snap->protocol.has_reader_features) {
        json_t *l = json_array();
        for (size_t i = 0; i < snap->protocol.n_reader_features; i++) json_array_append_new(l, json_string(snap->protocol.reader_features[i]));
        json_object_set_new(proto, "readerFeatures", l);
    }
    if (snap->protocol.has_writer_features) {
        json_t *l = json_array();
        for (size_t i = 0; i < snap->protocol.n_writer_features; i++) json_array_append_new(l, json_string(snap->protocol.writer_features[i]));
        json_object_set_new(proto, "writerFeatures", l);
    }
    json_t *out = json_pack("{s:I,s:s,s:o,s:o,s:o,s:o,s:I,s:I,s:o,s:o,s:o}",
                            "version", (json_int_t)snap->version, "id", snap->metadata.id,
                            "schema", sesp_delta_schema_to_json(snap->schema), "partitionColumns", parts,
                            "protocol", proto,
                            "configuration", config, "numFiles", (json_int_t)snap->nfiles, "sizeBytes", (json_int_t)total,
                            "numRecords", rows_known ? json_integer(rows) : json_null(), "partitions", playout, "files", files);
    char *s = json_dumps(out, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
    if (s) puts(s);
    free(s);
    json_decref(out);
    sesp_delta_snapshot_free(snap);
    return 0;
}

static int cmd_history(cli *c, sesp_delta_table *t)
{
    (void)c;
    sesp_objstore *s = sesp_delta_table_store(t);
    sesp_delta_version_info *v = NULL;
    size_t nv = 0;
    char err[512] = "";
    int rc = sesp_delta_log_versions(s, &v, &nv, err, sizeof(err));
    if (rc) { fprintf(stderr, "sesp table history: %s\n", err); return 1; }
    if (!nv) { fprintf(stderr, "sesp table history: no Delta table at %s\n", c->uri); free(v); return 1; }
    for (size_t i = nv; i-- > 0;) {
        if (!v[i].has_json) continue;
        char key[64];
        snprintf(key, sizeof(key), "_delta_log/%020lld.json", (long long)v[i].version);
        uint8_t *data = NULL;
        size_t len = 0;
        if ((rc = sesp_objstore_get(s, key, &data, &len))) { fprintf(stderr, "sesp table history: %s\n", sesp_objstore_error(s)); break; }
        sesp_arena a;
        sesp_arena_init(&a, 0);
        sesp_delta_action *acts = NULL;
        size_t n = 0;
        rc = sesp_delta_actions_decode(data, len, &a, &acts, &n, err, sizeof(err));
        free(data);
        if (rc) { fprintf(stderr, "sesp table history: version %lld: %s\n", (long long)v[i].version, err); sesp_arena_free(&a); break; }
        json_t *line = NULL;
        size_t adds = 0, removes = 0;
        for (size_t k = 0; k < n; k++) {
            if (acts[k].kind == SESP_DA_COMMIT_INFO && !line) line = json_loads(acts[k].u.commit_info.json, 0, NULL);
            adds += acts[k].kind == SESP_DA_ADD;
            removes += acts[k].kind == SESP_DA_REMOVE;
        }
        if (!line) line = json_pack("{s:I}", "timestamp", (json_int_t)v[i].mtime_ms);
        json_t *out = json_pack("{s:I}", "version", (json_int_t)v[i].version);
        json_object_update(out, line);
        json_object_set_new(out, "numAddedFiles", json_integer((json_int_t)adds));
        json_object_set_new(out, "numRemovedFiles", json_integer((json_int_t)removes));
        print_row(NULL, out);
        json_decref(out);
        json_decref(line);
        sesp_arena_free(&a);
    }
    free(v);
    return rc ? 1 : 0;
}

static void print_vacuum(void *ud, const char *path, uint64_t size)
{
    bool dry = *(bool *)ud;
    printf("{\"%s\":\"%s\",\"size\":%llu}\n", dry ? "wouldDelete" : "deleted", path, (unsigned long long)size);
}

static int run(cli *c)
{
    sesp_delta_table *t = NULL;
    int rc = sesp_delta_table_open(c->uri, &c->opts, &t);
    if (rc) { fprintf(stderr, "sesp table: cannot open %s (%s)\n", c->uri, sesp_strerror(rc)); return 1; }
    int exit_code = 0;
    sesp_delta_result res;
    if (!strcmp(c->cmd, "create")) {
        if (!c->schema) { fprintf(stderr, "sesp table create: --schema is required\n"); exit_code = 2; goto out; }
        sesp_delta_map cfg = {c->config, c->nconfig};
        rc = sesp_delta_table_create(t, c->schema, c->part, c->npart, &cfg, c->name);
        if (rc) exit_code = fail(t, "create", rc);
        else printf("{\"operation\":\"CREATE TABLE\",\"version\":0}\n");
    } else if (!strcmp(c->cmd, "set-properties")) {
        if (!c->nconfig) { fprintf(stderr, "sesp table set-properties: --config k=v is required\n"); exit_code = 2; goto out; }
        sesp_delta_map cfg = {c->config, c->nconfig};
        rc = sesp_delta_table_set_properties(t, &cfg, &res);
        if (rc) exit_code = fail(t, "set-properties", rc);
        else print_result("SET TBLPROPERTIES", &res);
    } else if (!strcmp(c->cmd, "append") || !strcmp(c->cmd, "merge")) {
        if (!c->input) { fprintf(stderr, "sesp table %s: --input is required\n", c->cmd); exit_code = 2; goto out; }
        json_t *rows = read_rows(c->input, t);
        if (!rows) { exit_code = 1; goto out; }
        if (!strcmp(c->cmd, "append")) {
            sesp_delta_append_opts o = {.app_id = c->app_id, .txn_version = c->txn_version, .create_if_missing = true,
                                        .partition_cols = c->part, .npartition_cols = c->npart, .merge_schema = c->merge_schema};
            rc = sesp_delta_table_append(t, rows, &o, &res);
        } else {
            if (!c->nkeys) { fprintf(stderr, "sesp table merge: --key is required\n"); json_decref(rows); exit_code = 2; goto out; }
            rc = sesp_delta_table_merge(t, rows, c->keys, c->nkeys, &res);
        }
        json_decref(rows);
        if (rc) exit_code = fail(t, c->cmd, rc);
        else print_result(!strcmp(c->cmd, "append") ? "WRITE" : "MERGE", &res);
    } else if (!strcmp(c->cmd, "scan")) {
        sesp_delta_snapshot *snap = NULL;
        if ((rc = load_snapshot(c, t, &snap))) { exit_code = fail(t, "scan", rc); goto out; }
        rc = sesp_delta_table_scan(t, snap, print_row, NULL);
        sesp_delta_snapshot_free(snap);
        if (rc) exit_code = fail(t, "scan", rc);
    } else if (!strcmp(c->cmd, "describe")) {
        exit_code = cmd_describe(c, t);
    } else if (!strcmp(c->cmd, "history")) {
        exit_code = cmd_history(c, t);
    } else if (!strcmp(c->cmd, "optimize")) {
        rc = sesp_delta_table_optimize(t, c->target_size, &res);
        if (rc) exit_code = fail(t, "optimize", rc);
        else print_result("OPTIMIZE", &res);
    } else if (!strcmp(c->cmd, "vacuum")) {
        bool dry = c->dry_run;
        sesp_delta_vacuum_opts vo = {.retention_ms = c->retention_hours < 0 ? -1 : (int64_t)(c->retention_hours * 3600000.0),
                                     .dry_run = dry, .no_retention_check = c->no_retention_check, .fn = print_vacuum, .ud = &dry};
        sesp_delta_vacuum_result vr;
        rc = sesp_delta_table_vacuum(t, &vo, &vr);
        if (rc) exit_code = fail(t, "vacuum", rc);
        else
            printf("{\"operation\":\"VACUUM\",\"dryRun\":%s,\"files\":%zu,\"sizeBytes\":%llu,\"directories\":%zu,"
                   "\"startVersion\":%lld,\"endVersion\":%lld}\n",
                   dry ? "true" : "false", vr.files, (unsigned long long)vr.bytes, vr.dirs, (long long)vr.start_version,
                   (long long)vr.end_version);
    } else if (!strcmp(c->cmd, "restore")) {
        if (!c->has_version) { fprintf(stderr, "sesp table restore: --version is required\n"); exit_code = 2; goto out; }
        rc = sesp_delta_table_restore(t, c->version, &res);
        if (rc) exit_code = fail(t, "restore", rc);
        else print_result("RESTORE", &res);
    } else if (!strcmp(c->cmd, "delete")) {
        sesp_tcli_pred p;
        if (!c->where || !sesp_tcli_pred_parse(c->where, &p)) {
            fprintf(stderr, "sesp table delete: --where \"col OP literal\" is required (OP: = != < <= > >=)\n");
            exit_code = 2;
            goto out;
        }
        rc = sesp_delta_table_delete(t, sesp_tcli_pred_eval, &p, &res);
        sesp_tcli_pred_free(&p);
        if (rc) exit_code = fail(t, "delete", rc);
        else print_result("DELETE", &res);
    } else {
        usage();
        exit_code = 2;
    }
out:
    sesp_delta_table_close(t);
    return exit_code;
}

int sesp_table_main(int argc, char **argv)
{
    if (argc < 3 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage();
        return argc < 2 ? 2 : (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) ? 0 : 2;
    }
    cli c = {.cmd = argv[1], .uri = argv[2], .retention_hours = -1};
    static const struct option longopts[] = {
        {"schema", required_argument, 0, 's'}, {"partition-by", required_argument, 0, 'p'},
        {"config", required_argument, 0, 'c'}, {"name", required_argument, 0, 'n'},
        {"input", required_argument, 0, 'i'}, {"app-id", required_argument, 0, 'a'},
        {"txn-version", required_argument, 0, 'x'}, {"merge-schema", no_argument, 0, 'm'},
        {"version", required_argument, 0, 'v'}, {"timestamp", required_argument, 0, 't'},
        {"target-size", required_argument, 0, 'T'}, {"retention-hours", required_argument, 0, 'r'},
        {"dry-run", no_argument, 0, 'd'}, {"where", required_argument, 0, 'w'},
        {"no-retention-check", no_argument, 0, 'N'},
        {"key", required_argument, 0, 'k'}, {"store-opt", required_argument, 0, 'o'},
        {"max-rows-per-file", required_argument, 0, 'R'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0},
    };
    optind = 3;
    opterr = 1;
    int ch, code = 0;
    char *eq;
    while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1 && !code) {
        switch (ch) {
        case 's': c.schema = optarg; break;
        case 'p': c.part_buf = strdup(optarg); c.npart = c.part_buf ? split_list(c.part_buf, c.part) : 0; break;
        case 'k': c.key_buf = strdup(optarg); c.nkeys = c.key_buf ? split_list(c.key_buf, c.keys) : 0; break;
        case 'c':
            eq = strchr(optarg, '=');
            if (!eq || c.nconfig == MAX_LIST) { fprintf(stderr, "sesp table: --config wants key=value\n"); code = 2; break; }
            *eq = 0;
            c.config[c.nconfig++] = (sesp_delta_kv){optarg, eq + 1};
            break;
        case 'o':
            eq = strchr(optarg, '=');
            if (!eq) { fprintf(stderr, "sesp table: --store-opt wants key=value\n"); code = 2; break; }
            *eq = 0;
            if (sesp_objstore_opts_set(&c.opts.store, optarg, eq + 1)) { fprintf(stderr, "sesp table: bad store option %s\n", optarg); code = 2; }
            break;
        case 'n': c.name = optarg; break;
        case 'i': c.input = optarg; break;
        case 'a': c.app_id = optarg; break;
        case 'x':
            if (!parse_i64(optarg, &c.txn_version) || c.txn_version < 0) { fprintf(stderr, "sesp table: bad --txn-version\n"); code = 2; }
            c.has_txn = true;
            break;
        case 'm': c.merge_schema = true; break;
        case 'v':
            if (!parse_i64(optarg, &c.version) || c.version < 0) { fprintf(stderr, "sesp table: bad --version\n"); code = 2; }
            c.has_version = true;
            break;
        case 't':
            if (!parse_ts(optarg, &c.ts_ms)) { fprintf(stderr, "sesp table: bad --timestamp (ms or ISO-8601)\n"); code = 2; }
            c.has_ts = true;
            break;
        case 'T': {
            int64_t v;
            if (!parse_i64(optarg, &v) || v <= 0) { fprintf(stderr, "sesp table: bad --target-size\n"); code = 2; }
            else c.target_size = (uint64_t)v;
            break;
        }
        case 'r': {
            char *end;
            c.retention_hours = strtod(optarg, &end);
            if (end == optarg || *end || c.retention_hours < 0) { fprintf(stderr, "sesp table: bad --retention-hours\n"); code = 2; }
            break;
        }
        case 'R': {
            int64_t v;
            if (!parse_i64(optarg, &v) || v <= 0) { fprintf(stderr, "sesp table: bad --max-rows-per-file\n"); code = 2; }
            else c.opts.target_file_rows = (size_t)v;
            break;
        }
        case 'd': c.dry_run = true; break;
        case 'N': c.no_retention_check = true; break;
        case 'w': c.where = optarg; break;
        case 'h': usage(); code = -1; break;
        default: usage(); code = 2; break;
        }
    }
    if (!code && optind < argc) { fprintf(stderr, "sesp table: unexpected argument %s\n", argv[optind]); code = 2; }
    if (!code && c.has_version && c.has_ts) { fprintf(stderr, "sesp table: --version and --timestamp are exclusive\n"); code = 2; }
    if (!code && (c.app_id != NULL) != c.has_txn) { fprintf(stderr, "sesp table: --app-id and --txn-version go together\n"); code = 2; }
    if (!code) code = run(&c);
    free(c.part_buf);
    free(c.key_buf);
    return code < 0 ? 0 : code;
}
