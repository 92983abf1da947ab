/*
 * Delta log actions <-> JSON.  Decoding treats every commit file as hostile:
 * each line must be an object with exactly one action key, every field is
 * type-checked, required fields must be present, integers must be integers,
 * and sizes are bounded.  Decoded strings live in the caller's arena.
 * Encoding writes the field names and shapes of PROTOCOL.md.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/err.h"
#include "delta.h"

#define MAX_COMMIT_BYTES (256u << 20)

typedef struct dctx {
    sesp_arena *a;
    char *err;
    size_t errlen;
    const char *action;
} dctx;

static int bad(dctx *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(dctx *c, int code, const char *fmt, ...)
{
    if (c->err && c->errlen) {
        int n = snprintf(c->err, c->errlen, "%s: ", c->action ? c->action : "action");
        if (n < 0 || (size_t)n >= c->errlen) n = 0;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(c->err + n, c->errlen - (size_t)n, fmt, ap);
        va_end(ap);
    }
    return code;
}

static const char *dup_str(dctx *c, const char *s)
{
    return sesp_arena_strndup(c->a, s, strlen(s));
}

/* required/optional string field; *out NULL when optional and absent/null */
static int get_str(dctx *c, const json_t *o, const char *name, bool required, const char **out)
{
    *out = NULL;
    const json_t *v = json_object_get(o, name);
    if (!v || json_is_null(v)) return required ? bad(c, SESP_ERR_MALFORMED, "missing required field %s", name) : 0;
    if (!json_is_string(v)) return bad(c, SESP_ERR_MALFORMED, "field %s must be a string", name);
    if (!(*out = dup_str(c, json_string_value(v)))) return SESP_ERR_NOMEM;
    return 0;
}

static int get_i64(dctx *c, const json_t *o, const char *name, bool required, bool *has, int64_t *out)
{
    const json_t *v = json_object_get(o, name);
    if (has) *has = false;
    *out = 0;
    if (!v || json_is_null(v)) return required ? bad(c, SESP_ERR_MALFORMED, "missing required field %s", name) : 0;
    if (!json_is_integer(v)) return bad(c, SESP_ERR_MALFORMED, "field %s must be an integer", name);
    *out = json_integer_value(v);
    if (has) *has = true;
    return 0;
}

static int get_bool(dctx *c, const json_t *o, const char *name, bool required, bool *out)
{
    const json_t *v = json_object_get(o, name);
    *out = false;
    if (!v || json_is_null(v)) return required ? bad(c, SESP_ERR_MALFORMED, "missing required field %s", name) : 0;
    if (!json_is_boolean(v)) return bad(c, SESP_ERR_MALFORMED, "field %s must be a boolean", name);
    *out = json_is_true(v);
    return 0;
}

static int get_map(dctx *c, const json_t *o, const char *name, bool required, sesp_delta_map *out)
{
    memset(out, 0, sizeof(*out));
    const json_t *v = json_object_get(o, name);
    if (!v || json_is_null(v)) return required ? bad(c, SESP_ERR_MALFORMED, "missing required field %s", name) : 0;
    if (!json_is_object(v)) return bad(c, SESP_ERR_MALFORMED, "field %s must be an object", name);
    size_t n = json_object_size(v);
    if (!n) return 0;
    if (!(out->items = sesp_arena_calloc(c->a, n, sizeof(*out->items)))) return SESP_ERR_NOMEM;
    const char *k;
    const json_t *val;
    json_object_foreach((json_t *)v, k, val) {
        sesp_delta_kv *kv = &out->items[out->n++];
        if (!(kv->key = dup_str(c, k))) return SESP_ERR_NOMEM;
        if (json_is_null(val)) kv->value = NULL;
        else if (json_is_string(val)) { if (!(kv->value = dup_str(c, json_string_value(val)))) return SESP_ERR_NOMEM; }
        else return bad(c, SESP_ERR_MALFORMED, "field %s.%s must be a string or null", name, k);
    }
    return 0;
}

static int get_str_array(dctx *c, const json_t *o, const char *name, bool required, bool *has,
                         const char ***out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (has) *has = false;
    const json_t *v = json_object_get(o, name);
    if (!v || json_is_null(v)) return required ? bad(c, SESP_ERR_MALFORMED, "missing required field %s", name) : 0;
    if (!json_is_array(v)) return bad(c, SESP_ERR_MALFORMED, "field %s must be an array", name);
    if (has) *has = true;
    size_t cnt = json_array_size(v);
    if (!cnt) return 0;
    if (!(*out = sesp_arena_calloc(c->a, cnt, sizeof(**out)))) return SESP_ERR_NOMEM;
    for (size_t i = 0; i < cnt; i++) {
        const json_t *e = json_array_get(v, i);
        if (!json_is_string(e)) return bad(c, SESP_ERR_MALFORMED, "field %s must hold strings", name);
        if (!((*out)[i] = dup_str(c, json_string_value(e)))) return SESP_ERR_NOMEM;
    }
    *n = cnt;
    return 0;
}

static int dec_protocol(dctx *c, const json_t *o, sesp_delta_protocol *p)
{
    int64_t r, w;
    int rc;
    if ((rc = get_i64(c, o, "minReaderVersion", true, NULL, &r))) return rc;
    if ((rc = get_i64(c, o, "minWriterVersion", true, NULL, &w))) return rc;
    if (r < 1 || r > 3 || w < 1 || w > 7) return bad(c, SESP_ERR_MALFORMED, "protocol versions out of range (%lld, %lld)", (long long)r, (long long)w);
    p->min_reader = (int32_t)r;
    p->min_writer = (int32_t)w;
    if ((rc = get_str_array(c, o, "readerFeatures", false, &p->has_reader_features, &p->reader_features, &p->n_reader_features))) return rc;
    return get_str_array(c, o, "writerFeatures", false, &p->has_writer_features, &p->writer_features, &p->n_writer_features);
}

static int dec_metadata(dctx *c, const json_t *o, sesp_delta_metadata *m)
{
    int rc;
    if ((rc = get_str(c, o, "id", true, &m->id))) return rc;
    if ((rc = get_str(c, o, "name", false, &m->name))) return rc;
    if ((rc = get_str(c, o, "description", false, &m->description))) return rc;
    const json_t *fmt = json_object_get(o, "format");
    if (!json_is_object(fmt)) return bad(c, SESP_ERR_MALFORMED, "missing required object format");
    if ((rc = get_str(c, fmt, "provider", true, &m->format_provider))) return rc;
    if ((rc = get_map(c, fmt, "options", false, &m->format_options))) return rc;
    if ((rc = get_str(c, o, "schemaString", true, &m->schema_string))) return rc;
    if ((rc = get_str_array(c, o, "partitionColumns", true, NULL, &m->partition_columns, &m->npartition_columns))) return rc;
    if ((rc = get_map(c, o, "configuration", false, &m->configuration))) return rc;
    return get_i64(c, o, "createdTime", false, &m->has_created_time, &m->created_time);
}

static int dec_path(dctx *c, const json_t *o, const char **path)
{
    int rc = get_str(c, o, "path", true, path);
    if (rc) return rc;
    if (!**path) return bad(c, SESP_ERR_MALFORMED, "empty path");
    if (strlen(*path) > 4096) return bad(c, SESP_ERR_MALFORMED, "path too long");
    return 0;
}

static int dec_add(dctx *c, const json_t *o, sesp_delta_add *a)
{
    int rc;
    if ((rc = dec_path(c, o, &a->path))) return rc;
    if ((rc = get_map(c, o, "partitionValues", true, &a->partition_values))) return rc;
    if ((rc = get_i64(c, o, "size", true, NULL, &a->size))) return rc;
    if (a->size < 0) return bad(c, SESP_ERR_MALFORMED, "negative size");
    if ((rc = get_i64(c, o, "modificationTime", true, NULL, &a->modification_time))) return rc;
    if ((rc = get_bool(c, o, "dataChange", true, &a->data_change))) return rc;
    if ((rc = get_str(c, o, "stats", false, &a->stats))) return rc;
    if ((rc = get_map(c, o, "tags", false, &a->tags))) return rc;
    const json_t *dv = json_object_get(o, "deletionVector");
    if (dv && !json_is_null(dv)) return bad(c, SESP_ERR_UNSUPPORTED, "deletion vectors are not supported (file %s)", a->path);
    return 0;
}

static int dec_remove(dctx *c, const json_t *o, sesp_delta_remove *r)
{
    int rc;
    if ((rc = dec_path(c, o, &r->path))) return rc;
    if ((rc = get_i64(c, o, "deletionTimestamp", false, &r->has_deletion_timestamp, &r->deletion_timestamp))) return rc;
    if ((rc = get_bool(c, o, "dataChange", true, &r->data_change))) return rc;
    if ((rc = get_bool(c, o, "extendedFileMetadata", false, &r->extended_file_metadata))) return rc;
    if ((rc = get_map(c, o, "partitionValues", false, &r->partition_values))) return rc;
    if ((rc = get_i64(c, o, "size", false, &r->has_size, &r->size))) return rc;
    if (r->has_size && r->size < 0) return bad(c, SESP_ERR_MALFORMED, "negative size");
    const json_t *dv = json_object_get(o, "deletionVector");
    if (dv && !json_is_null(dv)) return bad(c, SESP_ERR_UNSUPPORTED, "deletion vectors are not supported (file %s)", r->path);
    return 0;
}

static int dec_txn(dctx *c, const json_t *o, sesp_delta_txn *t)
{
    int rc;
    if ((rc = get_str(c, o, "appId", true, &t->app_id))) return rc;
    if ((rc = get_i64(c, o, "version", true, NULL, &t->version))) return rc;
    return get_i64(c, o, "lastUpdated", false, &t->has_last_updated, &t->last_updated);
}

static int dec_commit_info(dctx *c, const json_t *o, sesp_delta_commit_info *ci)
{
    char *s = json_dumps(o, JSON_COMPACT);
    if (!s) return SESP_ERR_NOMEM;
    ci->json = dup_str(c, s);
    free(s);
    if (!ci->json) return SESP_ERR_NOMEM;
    const json_t *ts = json_object_get(o, "timestamp");
    if (json_is_integer(ts)) { ci->has_timestamp = true; ci->timestamp = json_integer_value(ts); }
    const json_t *op = json_object_get(o, "operation");
    if (json_is_string(op) && !(ci->operation = dup_str(c, json_string_value(op)))) return SESP_ERR_NOMEM;
    return 0;
}

int sesp_delta_action_from_json(const json_t *obj, sesp_arena *a, sesp_delta_action *out, char *err, size_t errlen)
{
    dctx c = {a, err, errlen, NULL};
    memset(out, 0, sizeof(*out));
    if (!json_is_object(obj)) return bad(&c, SESP_ERR_MALFORMED, "an action must be a JSON object");
    if (json_object_size(obj) != 1) return bad(&c, SESP_ERR_MALFORMED, "an action object must have exactly one key, not %zu", json_object_size(obj));
    const char *key = json_object_iter_key(json_object_iter((json_t *)obj));
    const json_t *body = json_object_iter_value(json_object_iter((json_t *)obj));
    c.action = key;
    bool known = !strcmp(key, "protocol") || !strcmp(key, "metaData") || !strcmp(key, "add") || !strcmp(key, "remove") ||
                 !strcmp(key, "txn") || !strcmp(key, "commitInfo");
    if (known && !json_is_object(body)) return bad(&c, SESP_ERR_MALFORMED, "the action body must be an object");
    if (!strcmp(key, "protocol")) { out->kind = SESP_DA_PROTOCOL; return dec_protocol(&c, body, &out->u.protocol); }
    if (!strcmp(key, "metaData")) { out->kind = SESP_DA_METADATA; return dec_metadata(&c, body, &out->u.metadata); }
    if (!strcmp(key, "add")) { out->kind = SESP_DA_ADD; return dec_add(&c, body, &out->u.add); }
    if (!strcmp(key, "remove")) { out->kind = SESP_DA_REMOVE; return dec_remove(&c, body, &out->u.remove); }
    if (!strcmp(key, "txn")) { out->kind = SESP_DA_TXN; return dec_txn(&c, body, &out->u.txn); }
    if (!strcmp(key, "commitInfo")) { out->kind = SESP_DA_COMMIT_INFO; return dec_commit_info(&c, body, &out->u.commit_info); }
    out->kind = SESP_DA_OTHER;
    char *s = json_dumps(obj, JSON_COMPACT);
    if (!s) return SESP_ERR_NOMEM;
    out->u.other_json = dup_str(&c, s);
    free(s);
    return out->u.other_json ? 0 : SESP_ERR_NOMEM;
}

int sesp_delta_actions_decode(const void *data, size_t len, sesp_arena *a, sesp_delta_action **out,
                              size_t *nout, char *err, size_t errlen)
{
    *out = NULL;
    *nout = 0;
    if (len > MAX_COMMIT_BYTES) {
        if (err && errlen) snprintf(err, errlen, "commit of %zu bytes exceeds the limit", len);
        return SESP_ERR_TOO_LARGE;
    }
    const char *p = data, *end = p + len;
    size_t lines = 1;
    for (const char *q = p; q < end; q++) lines += *q == '\n';
    sesp_delta_action *acts = sesp_arena_calloc(a, lines, sizeof(*acts));
    if (!acts) return SESP_ERR_NOMEM;
    size_t n = 0, lineno = 0;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        lineno++;
        const char *s = p;
        while (s < le && (*s == ' ' || *s == '\t' || *s == '\r')) s++;
        if (s < le) {
            json_error_t je;
            json_t *j = json_loadb(p, (size_t)(le - p), JSON_REJECT_DUPLICATES, &je);
            if (!j) {
                if (err && errlen) snprintf(err, errlen, "line %zu: invalid JSON: %s", lineno, je.text);
                return SESP_ERR_MALFORMED;
            }
            char sub[400] = "";
            int rc = sesp_delta_action_from_json(j, a, &acts[n], sub, sizeof(sub));
            json_decref(j);
            if (rc) {
                if (err && errlen) snprintf(err, errlen, "line %zu: %s", lineno, sub);
                return rc;
            }
            n++;
        }
        p = nl ? nl + 1 : end;
    }
    *out = acts;
    *nout = n;
    return 0;
}

/* ---- encoding ---- */

static json_t *map_json(const sesp_delta_map *m)
{
    json_t *o = json_object();
    for (size_t i = 0; i < m->n; i++)
        json_object_set_new(o, m->items[i].key, m->items[i].value ? json_string(m->items[i].value) : json_null());
    return o;
}

static json_t *str_array(const char **s, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++) json_array_append_new(a, json_string(s[i]));
    return a;
}

json_t *sesp_delta_action_to_json(const sesp_delta_action *act)
{
    json_t *b = json_object();
    const char *key = NULL;
    switch (act->kind) {
    case SESP_DA_PROTOCOL: {
        const sesp_delta_protocol *p = &act->u.protocol;
        key = "protocol";
        json_object_set_new(b, "minReaderVersion", json_integer(p->min_reader));
        json_object_set_new(b, "minWriterVersion", json_integer(p->min_writer));
        if (p->has_reader_features) json_object_set_new(b, "readerFeatures", str_array(p->reader_features, p->n_reader_features));
        if (p->has_writer_features) json_object_set_new(b, "writerFeatures", str_array(p->writer_features, p->n_writer_features));
        break;
    }
    case SESP_DA_METADATA: {
        const sesp_delta_metadata *m = &act->u.metadata;
        key = "metaData";
        json_object_set_new(b, "id", json_string(m->id));
        if (m->name) json_object_set_new(b, "name", json_string(m->name));
        if (m->description) json_object_set_new(b, "description", json_string(m->description));
        json_object_set_new(b, "format", json_pack("{s:s,s:o}", "provider", m->format_provider ? m->format_provider : "parquet",
                                                   "options", map_json(&m->format_options)));
        json_object_set_new(b, "schemaString", json_string(m->schema_string));
        json_object_set_new(b, "partitionColumns", str_array(m->partition_columns, m->npartition_columns));
        json_object_set_new(b, "configuration", map_json(&m->configuration));
        if (m->has_created_time) json_object_set_new(b, "createdTime", json_integer(m->created_time));
        break;
    }
    case SESP_DA_ADD: {
        const sesp_delta_add *a = &act->u.add;
        key = "add";
        json_object_set_new(b, "path", json_string(a->path));
        json_object_set_new(b, "partitionValues", map_json(&a->partition_values));
        json_object_set_new(b, "size", json_integer(a->size));
        json_object_set_new(b, "modificationTime", json_integer(a->modification_time));
        json_object_set_new(b, "dataChange", json_boolean(a->data_change));
        if (a->stats) json_object_set_new(b, "stats", json_string(a->stats));
        if (a->tags.n) json_object_set_new(b, "tags", map_json(&a->tags));
        break;
    }
    case SESP_DA_REMOVE: {
        const sesp_delta_remove *r = &act->u.remove;
        key = "remove";
        json_object_set_new(b, "path", json_string(r->path));
        if (r->has_deletion_timestamp) json_object_set_new(b, "deletionTimestamp", json_integer(r->deletion_timestamp));
        json_object_set_new(b, "dataChange", json_boolean(r->data_change));
        if (r->extended_file_metadata) {
            json_object_set_new(b, "extendedFileMetadata", json_true());
            json_object_set_new(b, "partitionValues", map_json(&r->partition_values));
        }
        if (r->has_size) json_object_set_new(b, "size", json_integer(r->size));
        break;
    }
    case SESP_DA_TXN: {
        const sesp_delta_txn *t = &act->u.txn;
        key = "txn";
        json_object_set_new(b, "appId", json_string(t->app_id));
        json_object_set_new(b, "version", json_integer(t->version));
        if (t->has_last_updated) json_object_set_new(b, "lastUpdated", json_integer(t->last_updated));
        break;
    }
    case SESP_DA_COMMIT_INFO:
        json_decref(b);
        key = "commitInfo";
        b = act->u.commit_info.json ? json_loads(act->u.commit_info.json, 0, NULL) : json_object();
        if (!b) return NULL;
        break;
    case SESP_DA_OTHER:
        json_decref(b);
        return act->u.other_json ? json_loads(act->u.other_json, 0, NULL) : NULL;
    }
    json_t *o = json_object();
    json_object_set_new(o, key, b);
    return o;
}

int sesp_delta_action_encode(const sesp_delta_action *act, sesp_bufw *w)
{
    json_t *j = sesp_delta_action_to_json(act);
    if (!j) return SESP_ERR_NOMEM;
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!s) return SESP_ERR_NOMEM;
    sesp_bufw_put(w, s, strlen(s));
    sesp_bufw_put(w, "\n", 1);
    free(s);
    return w->err;
}

const char *sesp_delta_map_get(const sesp_delta_map *m, const char *key, bool *present)
{
    if (present) *present = false;
    for (size_t i = 0; i < m->n; i++)
        if (!strcmp(m->items[i].key, key)) {
            if (present) *present = true;
            return m->items[i].value;
        }
    return NULL;
}
