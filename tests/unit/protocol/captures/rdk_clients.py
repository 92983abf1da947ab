#!/usr/bin/python3
"""librdkafka (through confluent-kafka) side of the capture: run by capture.sh.

Usage: rdk_clients.py BOOTSTRAP admin|idempotent|group
"""
import sys
import time

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic

bootstrap, phase = sys.argv[1], sys.argv[2]

if phase == "admin":
    a = AdminClient({"bootstrap.servers": bootstrap, "client.id": "cap-rdk-admin"})
    fs = a.create_topics([NewTopic("cap-rdk", 3, 1, config={"retention.ms": "86400000"}),
                          NewTopic("cap-kpy", 1, 1), NewTopic("cap-kjs", 2, 1)],
                         operation_timeout=10)
    for t, f in fs.items():
        f.result()
    fs = a.describe_configs([ConfigResource("topic", "cap-rdk")])
    for r, f in fs.items():
        cfg = f.result()
        assert cfg["retention.ms"].value == "86400000", cfg["retention.ms"].value
elif phase == "idempotent":
    p = Producer({"bootstrap.servers": bootstrap, "client.id": "cap-rdk-idem",
                  "enable.idempotence": True, "linger.ms": 100})
    for i in range(3):
        p.produce("cap-rdk", key=b"key%d" % i, value=b"rdk-value-%d" % i, partition=0,
                  headers=[("h", b"v%d" % i)])
    assert p.flush(10) == 0
elif phase == "group":
    c = Consumer({"bootstrap.servers": bootstrap, "client.id": "cap-rdk-consumer",
                  "group.id": "cap-rdk-group", "auto.offset.reset": "earliest",
                  "enable.auto.commit": False, "heartbeat.interval.ms": 300,
                  "session.timeout.ms": 6000})
    c.subscribe(["cap-rdk"])
    got = []
    deadline = time.time() + 20
    while len(got) < 3 and time.time() < deadline:
        m = c.poll(0.2)
        if m is not None and not m.error():
            got.append(m)
    assert len(got) == 3, len(got)
    end = time.time() + 1.5  # let a few heartbeats go out
    while time.time() < end:
        c.poll(0.1)
    c.commit(asynchronous=False)
    c.close()
else:
    sys.exit("unknown phase " + phase)
