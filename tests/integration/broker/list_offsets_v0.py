#!/usr/bin/python3
"""ListOffsets v0 against a real broker whose log has several segments:
kafka-python 2.0.2 pinned to api_version (0, 10, 0) asks for the beginning
and end offsets with v0 (the test checks it sent v0), then raw v0 requests
check Kafka's legacy answer: the end offset and segment base offsets,
newest first, capped at max_num_offsets, and by time the segments whose
.log file was modified at or before it (the test sets the files' mtimes).
Usage: list_offsets_v0.py HOST PORT LOG_DIR"""
import glob
import os
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

import kwire

HOST, PORT, DATA = sys.argv[1], int(sys.argv[2]), sys.argv[3]
TOPIC, N = "lo-v0", 12


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


# One batch per send; log.segment.bytes=1024 holds two of them per segment.
p = KafkaProducer(bootstrap_servers=f"{HOST}:{PORT}", acks="all", linger_ms=0)
for i in range(N):
    p.send(TOPIC, value=b"%03d" % i + b"x" * 300).get(timeout=10)
p.close()
bases = sorted(int(os.path.basename(f)[:-4]) for f in glob.glob(f"{DATA}/{TOPIC}-0/*.log"))
if len(bases) < 4 or bases[0] != 0:
    fail(f"expected several segments from 0, got bases {bases}")
print(f"{N} records in {len(bases)} segments, bases {bases}")

# A real client on v0.
c = KafkaConsumer(bootstrap_servers=f"{HOST}:{PORT}", api_version=(0, 10, 0), request_timeout_ms=11000)
sent = []
orig_send = c._client.send


def spy(node_id, request, **kw):
    sent.append((request.API_KEY, request.API_VERSION))
    return orig_send(node_id, request, **kw)


c._client.send = spy
tp = TopicPartition(TOPIC, 0)
end, begin = c.end_offsets([tp]), c.beginning_offsets([tp])
c.close()
if end != {tp: N} or begin != {tp: 0}:
    fail(f"kafka-python (0,10,0): end {end} begin {begin}, expected {N} and 0")
lo = {v for k, v in sent if k == 2}
if lo != {0}:
    fail(f"kafka-python sent ListOffsets versions {lo}, expected only v0")
print(f"kafka-python api_version=(0,10,0): ListOffsets v0 end {N}, beginning 0")

corr = [100]


def ask(parts, topic=TOPIC):
    s = kwire.connect(HOST, PORT)
    corr[0] += 1
    s.sendall(kwire.request(2, 0, corr[0], kwire.list_offsets_v0(topic, parts)))
    resp = kwire.read_frame(s, 10)
    s.close()
    if resp is None:
        fail("connection closed on ListOffsets v0")
    return kwire.parse_list_offsets_v0(resp, corr[0])


def expect(ts, mx, want, part=0, err=0, topic=TOPIC):
    got = ask([(part, ts, mx)], topic)[(topic, part)]
    if got != (err, want):
        fail(f"ts {ts} max {mx} partition {part}: got {got}, expected {(err, want)}")
    print(f"ts {ts} max {mx}: error {err} offsets {want}")


desc = sorted(bases, reverse=True)
expect(-1, 100, [N] + desc)
expect(-1, 3, ([N] + desc)[:3])
expect(-1, 1, [N])
expect(-2, 100, [0])
# By time: segment i last modified at T0 + 1000 i seconds.
T0 = 1_600_000_000
for i, b in enumerate(bases):
    os.utime(f"{DATA}/{TOPIC}-0/{b:020d}.log", (T0 + 1000 * i, T0 + 1000 * i))
expect((T0 + 2500) * 1000, 100, [bases[2], bases[1], bases[0]])
expect((T0 + 2000) * 1000, 2, [bases[2], bases[1]])
expect(T0 * 1000 - 1, 100, [])
# After "now" the end offset comes first, as if the active segment were
# stamped now (Kafka's extra entry for a non-empty active segment).
expect(int(time.time() + 3600) * 1000, 100, [N] + desc)
expect(-1, 1, [], part=7, err=3)
expect(-1, 1, [], topic="lo-v0-missing", err=3)
print("PASS list_offsets_v0")
