/*
 * The Kafka API table and the generic round-trip helpers live in the
 * generated code; this header gives them a stable include path next to
 * kproto.h, header.h and kerr.h.
 */
#ifndef SESP_KAPI_TABLE_FWD_H
#define SESP_KAPI_TABLE_FWD_H

#include "broker/protocol/generated/api_table.h"

#endif
