#!/usr/bin/env python3
"""Reads partition 0 of TOPIC from the beginning to its end offset with
kafka-python and prints '%o %k %s' lines; fails if the position stops short
of the end (a client stuck on a batch it cannot step over).
usage: kp_consume.py BOOTSTRAP TOPIC"""
import sys
import time

from kafka import KafkaConsumer, TopicPartition

c = KafkaConsumer(bootstrap_servers=sys.argv[1], enable_auto_commit=False,
                  auto_offset_reset="earliest", max_partition_fetch_bytes=8192)
tp = TopicPartition(sys.argv[2], 0)
c.assign([tp])
c.seek_to_beginning(tp)
end = c.end_offsets([tp])[tp]
deadline = time.time() + 60
while c.position(tp) < end and time.time() < deadline:
    for r in c.poll(timeout_ms=500).get(tp, []):
        print(r.offset, r.key.decode(), r.value.decode())
pos = c.position(tp)
c.close()
if pos < end:
    sys.exit(f"kafka-python stopped at offset {pos} of {end}")
