#!/usr/bin/python3
"""kafka-python side of the capture: run by capture.sh.

Usage: kpy_clients.py BOOTSTRAP produce|group
"""
import sys
import time

from kafka import KafkaConsumer, KafkaProducer

bootstrap, phase = sys.argv[1], sys.argv[2]

if phase == "produce":
    p = KafkaProducer(bootstrap_servers=bootstrap, client_id="cap-kpy-producer", acks=1, linger_ms=100)
    for i in range(3):
        p.send("cap-kpy", key=b"key%d" % i, value=b"kpy-value-%d" % i, headers=[("h", b"v%d" % i)])
    p.flush(10)
    p.close()
elif phase == "group":
    c = KafkaConsumer(bootstrap_servers=bootstrap, client_id="cap-kpy-consumer", group_id="cap-kpy-group",
                      auto_offset_reset="earliest", enable_auto_commit=False,
                      heartbeat_interval_ms=300, session_timeout_ms=6000)
    c.subscribe(["cap-kpy"])
    got = 0
    deadline = time.time() + 20
    while got < 3 and time.time() < deadline:
        for recs in c.poll(200).values():
            got += len(recs)
    assert got == 3, got
    end = time.time() + 1.5
    while time.time() < end:
        c.poll(100)
    c.commit()
    c.close()
else:
    sys.exit("unknown phase " + phase)
