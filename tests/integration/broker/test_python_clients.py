#!/usr/bin/python3
"""kafka-python and confluent-kafka (Debian's python3-kafka and
python3-confluent-kafka) each produce keyed messages with headers under every
compression codec to a real broker and consume them back exactly.
Usage: test_python_clients.py BOOTSTRAP"""
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from kafka import KafkaConsumer, KafkaProducer

BOOT = sys.argv[1]
N = 300
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]


def expected(tag, codec):
    return [(f"k{i}".encode(), f"{tag}-{codec}-{i}-".encode() + b"x" * (i % 97),
             [("n", str(i).encode()), ("c", codec.encode())]) for i in range(N)]


def fail(msg):
    print("FAIL:", msg)
    sys.exit(1)


def check(got, want, what):
    if len(got) != len(want):
        fail(f"{what}: consumed {len(got)} messages, expected {len(want)}")
    for i, (g, w) in enumerate(zip(got, want)):
        if g != w:
            fail(f"{what}: message {i} is {g!r}, expected {w!r}")


def kafka_python(codec):
    topic = f"kp-{codec}"
    want = expected("kp", codec)
    p = KafkaProducer(bootstrap_servers=BOOT, acks="all",
                      compression_type=None if codec == "none" else codec, linger_ms=5)
    futs = [p.send(topic, key=k, value=v, headers=h) for k, v, h in want]
    for f in futs:
        f.get(timeout=30)
    p.close()
    c = KafkaConsumer(bootstrap_servers=BOOT, auto_offset_reset="earliest",
                      enable_auto_commit=False, consumer_timeout_ms=3000)
    tp = __import__("kafka").TopicPartition(topic, 0)
    c.assign([tp])
    c.seek_to_beginning(tp)
    got = []
    deadline = time.time() + 30
    while len(got) < N and time.time() < deadline:
        for recs in c.poll(timeout_ms=1000).values():
            for r in recs:
                got.append((r.key, r.value, [(k, v) for k, v in r.headers]))
    c.close()
    check(got, want, f"kafka-python {codec}")


def confluent(codec):
    topic = f"ck-{codec}"
    want = expected("ck", codec)
    errors = []
    p = Producer({"bootstrap.servers": BOOT, "acks": "all", "compression.type": codec,
                  "linger.ms": 5})
    for k, v, h in want:
        p.produce(topic, key=k, value=v, headers=h,
                  on_delivery=lambda err, msg: err and errors.append(err))
        p.poll(0)
    if p.flush(30) != 0 or errors:
        fail(f"confluent-kafka {codec}: delivery failed: {errors[:3]}")
    c = Consumer({"bootstrap.servers": BOOT, "group.id": f"g-{codec}-{time.time()}",
                  "enable.auto.commit": False, "enable.partition.eof": True})
    c.assign([TopicPartition(topic, 0, 0)])
    got = []
    deadline = time.time() + 30
    while time.time() < deadline:
        m = c.poll(1.0)
        if m is None:
            continue
        if m.error():
            if m.error().code() == -191:  # _PARTITION_EOF
                break
            fail(f"confluent-kafka consume error {m.error()}")
        got.append((m.key(), m.value(), list(m.headers() or [])))
    c.close()
    check(got, want, f"confluent-kafka {codec}")


for codec in CODECS:
    kafka_python(codec)
    print(f"kafka-python {codec}: ok")
    confluent(codec)
    print(f"confluent-kafka {codec}: ok")
print("PASS test_python_clients")
