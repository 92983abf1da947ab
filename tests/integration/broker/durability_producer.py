#!/usr/bin/python3
"""Produces numbered messages with acks=all until the broker dies, writing
each value whose delivery was acknowledged to ACKED_FILE (flushed per line).
Usage: durability_producer.py BOOTSTRAP TOPIC ACKED_FILE SECONDS"""
import sys
import time

from confluent_kafka import Producer

boot, topic, acked_path, seconds = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
acked = open(acked_path, "w")


def on_delivery(err, msg):
    if err is None:
        acked.write(msg.value().decode() + "\n")
        acked.flush()


p = Producer({"bootstrap.servers": boot, "acks": "all", "linger.ms": 1,
              "message.timeout.ms": 5000, "retries": 0,
              "reconnect.backoff.max.ms": 500})
end = time.time() + seconds
i = 0
while time.time() < end:
    try:
        p.produce(topic, value=f"m{i}".encode(), on_delivery=on_delivery)
        i += 1
    except BufferError:
        pass
    p.poll(0.001 if i % 50 == 0 else 0)
p.flush(10)
acked.close()
