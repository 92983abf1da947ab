/*
 * Request/response header codec (see header.h).  The client id is the one
 * string that stays a classic int16-length string even in header v2, which
 * is why it is hand-written rather than generated.
 */
#include "broker/protocol/header.h"

#include "broker/protocol/api_table.h"

enum { API_CONTROLLED_SHUTDOWN = 7, API_API_VERSIONS = 18 };

int16_t sesp_kreq_header_version(int16_t api_key, int16_t api_version)
{
    const sesp_kapi_info *api = sesp_kapi_lookup(api_key);
    if (!api || api_version < api->min_version || api_version > api->max_version)
        return -1;
    if (api_key == API_CONTROLLED_SHUTDOWN && api_version == 0)
        return 0;
    if (api->first_flexible >= 0 && api_version >= api->first_flexible)
        return 2;
    return 1;
}

int16_t sesp_kresp_header_version(int16_t api_key, int16_t api_version)
{
    if (api_key == API_API_VERSIONS)
        return 0;
    const sesp_kapi_info *api = sesp_kapi_lookup(api_key);
    if (!api || api_version < api->min_version || api_version > api->max_version)
        return 0;
    if (api->first_flexible >= 0 && api_version >= api->first_flexible)
        return 1;
    return 0;
}

static void skip_tags(sesp_bufr *r)
{
    uint32_t n;
    if (!sesp_kp_rd_tag_count(r, &n))
        return;
    int64_t prev = -1;
    for (uint32_t i = 0; i < n && !r->err; i++) {
        uint32_t tag;
        sesp_bufr sub;
        sesp_kp_rd_tag(r, &prev, &tag, &sub);
    }
}

int sesp_kreq_header_decode(sesp_bufr *r, sesp_kreq_header *h)
{
    h->api_key = sesp_bufr_i16(r);
    h->api_version = sesp_bufr_i16(r);
    h->correlation_id = sesp_bufr_i32(r);
    h->client_id = SESP_KSTR_NULL;
    if (r->err)
        return r->err;
    int16_t hv = sesp_kreq_header_version(h->api_key, h->api_version);
    if (hv < 0)
        return SESP_ERR_UNSUPPORTED;
    if (hv >= 1)
        sesp_kp_rd_str(r, false, true, &h->client_id);
    if (hv >= 2)
        skip_tags(r);
    return r->err;
}

int sesp_kreq_header_encode(sesp_bufw *w, const sesp_kreq_header *h)
{
    int16_t hv = sesp_kreq_header_version(h->api_key, h->api_version);
    if (hv < 0)
        return SESP_ERR_UNSUPPORTED;
    sesp_bufw_i16(w, h->api_key);
    sesp_bufw_i16(w, h->api_version);
    sesp_bufw_i32(w, h->correlation_id);
    if (hv >= 1) {
        int rc = sesp_kp_wr_str(w, false, true, h->client_id);
        if (rc)
            return rc;
    }
    if (hv >= 2)
        sesp_bufw_uvarint(w, 0);
    return w->err;
}

void sesp_kresp_header_encode(sesp_bufw *w, int16_t api_key, int16_t api_version, int32_t correlation_id)
{
    sesp_bufw_i32(w, correlation_id);
    if (sesp_kresp_header_version(api_key, api_version) >= 1)
        sesp_bufw_uvarint(w, 0);
}
