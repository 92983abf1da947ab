#!/usr/bin/env python3
"""Consumes TOPIC partition 0 from the start directly from the broker and
checks it holds exactly the values 0..N-1, each once, in order.
usage: idem_check.py BOOTSTRAP TOPIC N"""
import sys
from confluent_kafka import Consumer, TopicPartition

bootstrap, topic, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
c = Consumer({"bootstrap.servers": bootstrap, "group.id": "idem-check", "enable.auto.commit": False,
              "auto.offset.reset": "earliest"})
c.assign([TopicPartition(topic, 0, 0)])
got = []
idle = 0
while idle < 20:
    m = c.poll(0.5)
    if m is None:
        idle += 1
        continue
    if m.error():
        continue
    idle = 0
    got.append(int(m.value()))
c.close()
dups = len(got) - len(set(got))
if got != list(range(n)):
    missing = sorted(set(range(n)) - set(got))
    print(f"check: {len(got)} messages, {dups} duplicates, {len(missing)} missing (first {missing[:5]}), "
          f"in order: {got == sorted(got)}", file=sys.stderr)
    sys.exit(1)
print(f"check: {n} messages exactly once, in order", file=sys.stderr)
