#!/usr/bin/env python3
"""Idempotent producer for test_idempotence.sh: sends N numbered messages
(value = the number) through BOOTSTRAP with enable.idempotence and acks=all,
retrying through connection cuts and broker restarts; exits 0 when every
message was acknowledged.  usage: idem_producer.py BOOTSTRAP TOPIC N"""
import sys
from confluent_kafka import Producer

bootstrap, topic, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
errors = []
acked = [0]


def on_delivery(err, msg):
    if err is not None:
        errors.append(str(err))
    else:
        acked[0] += 1


p = Producer({
    "bootstrap.servers": bootstrap,
    "enable.idempotence": True,
    "acks": "all",
    "message.timeout.ms": 300000,
    "linger.ms": 5,
    "batch.num.messages": 200,
    "max.in.flight.requests.per.connection": 5,
    "reconnect.backoff.ms": 50,
    "reconnect.backoff.max.ms": 500,
})
for i in range(n):
    while True:
        try:
            p.produce(topic, value=str(i).encode(), key=b"k", on_delivery=on_delivery)
            break
        except BufferError:
            p.poll(0.1)
    p.poll(0)
left = p.flush(300)
if left or errors or acked[0] != n:
    print(f"producer: left={left} acked={acked[0]} errors={errors[:5]}", file=sys.stderr)
    sys.exit(1)
print(f"producer: {n} acknowledged", file=sys.stderr)
