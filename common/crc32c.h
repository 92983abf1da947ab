/*
 * CRC-32C (Castagnoli), the checksum of Kafka record batches.  Uses the
 * SSE4.2 crc32 instruction when the CPU has it, else a slicing-by-8 table.
 */
#ifndef SESP_CRC32C_H
#define SESP_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/* crc is the running value (0 to start); returns the updated CRC. */
uint32_t sesp_crc32c(uint32_t crc, const void *data, size_t len);
/* The same through the table path whatever the CPU (tests and benchmarks
 * check the hardware path against it). */
uint32_t sesp_crc32c_sw(uint32_t crc, const void *data, size_t len);

#endif
