/*
 * A small chained hash map with byte-string keys (FNV-1a), used for the
 * coordinator's groups and each group's committed offsets.  It doubles when
 * the load factor passes 1; keys are copied into the entry.
 */
#include <stdlib.h>
#include <string.h>

#include "broker/group/group_int.h"
#include "common/err.h"

static uint64_t hash_bytes(const void *k, size_t n)
{
    const uint8_t *p = k;
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

static gmap_ent **find_slot(const gmap *m, const void *k, size_t klen, uint64_t h)
{
    if (!m->nb)
        return NULL;
    gmap_ent **pp = &m->b[h & (m->nb - 1)];
    for (; *pp; pp = &(*pp)->next)
        if ((*pp)->h == h && (*pp)->klen == klen && memcmp((*pp)->key, k, klen) == 0)
            return pp;
    return NULL;
}

void *gmap_get(const gmap *m, const void *k, size_t klen)
{
    gmap_ent **pp = find_slot(m, k, klen, hash_bytes(k, klen));
    return pp ? (*pp)->val : NULL;
}

static int grow(gmap *m)
{
    size_t nb = m->nb ? m->nb * 2 : 16;
    gmap_ent **b = calloc(nb, sizeof *b);
    if (!b)
        return SESP_ERR_NOMEM;
    for (size_t i = 0; i < m->nb; i++) {
        gmap_ent *e = m->b[i], *nx;
        for (; e; e = nx) {
            nx = e->next;
            e->next = b[e->h & (nb - 1)];
            b[e->h & (nb - 1)] = e;
        }
    }
    free(m->b);
    m->b = b;
    m->nb = nb;
    return 0;
}

int gmap_put(gmap *m, const void *k, size_t klen, void *val)
{
    uint64_t h = hash_bytes(k, klen);
    gmap_ent **pp = find_slot(m, k, klen, h);
    if (pp) {
        (*pp)->val = val;
        return 0;
    }
    if (m->n >= m->nb && grow(m) != 0)
        return SESP_ERR_NOMEM;
    gmap_ent *e = malloc(sizeof *e + klen);
    if (!e)
        return SESP_ERR_NOMEM;
    e->h = h;
    e->klen = klen;
    e->val = val;
    if (klen)
        memcpy(e->key, k, klen);
    e->next = m->b[h & (m->nb - 1)];
    m->b[h & (m->nb - 1)] = e;
    m->n++;
    return 0;
}

void *gmap_del(gmap *m, const void *k, size_t klen)
{
    gmap_ent **pp = find_slot(m, k, klen, hash_bytes(k, klen));
    if (!pp)
        return NULL;
    gmap_ent *e = *pp;
    void *v = e->val;
    *pp = e->next;
    free(e);
    m->n--;
    return v;
}

void gmap_free(gmap *m, void (*free_val)(void *))
{
    for (size_t i = 0; i < m->nb; i++) {
        gmap_ent *e = m->b[i], *nx;
        for (; e; e = nx) {
            nx = e->next;
            if (free_val)
                free_val(e->val);
            free(e);
        }
    }
    free(m->b);
    memset(m, 0, sizeof *m);
}
