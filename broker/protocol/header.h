/*
 * Kafka request and response headers.  The header version is not on the wire:
 * it follows from the API key and version (flexible APIs use request header v2
 * and response header v1; ControlledShutdown v0 uses request header v0;
 * ApiVersions responses always use header v0 so that any client can read the
 * version list), so decoding looks the API up in the generated api table.
 */
#ifndef SESP_KHEADER_H
#define SESP_KHEADER_H

#include "broker/protocol/kproto.h"

typedef struct {
    int16_t api_key, api_version;
    int32_t correlation_id;
    sesp_kstr client_id; /* null (len -1) in header v0 or when the client sent null */
} sesp_kreq_header;

/* Decodes the request header (v0: no client id; v1: nullable int16 string
 * client id; v2: v1 + tagged fields), leaving r at the start of the body.
 * Unknown api keys/versions: still decodes api_key, api_version and
 * correlation_id (so the broker can reply or close) and returns
 * SESP_ERR_UNSUPPORTED.  Otherwise 0, SESP_ERR_TRUNCATED or SESP_ERR_MALFORMED. */
int sesp_kreq_header_decode(sesp_bufr *r, sesp_kreq_header *h);
/* Request header version for a known API/version, -1 if unknown. */
int16_t sesp_kreq_header_version(int16_t api_key, int16_t api_version);
/* Response header version; ApiVersions responses are ALWAYS header v0.  For an
 * unknown API/version 0 (what a client of an old version would expect). */
int16_t sesp_kresp_header_version(int16_t api_key, int16_t api_version);
/* v0: correlation id; v1: + empty tagged fields. */
void sesp_kresp_header_encode(sesp_bufw *w, int16_t api_key, int16_t api_version, int32_t correlation_id);
/* Encodes a request header (for clients and tests); 0 or SESP_ERR_*. */
int sesp_kreq_header_encode(sesp_bufw *w, const sesp_kreq_header *h);

#endif
