#!/usr/bin/python3
"""One consumer-group member for the group integration tests, on kafka-python
or confluent-kafka.  It consumes TOPIC in batches, appends every record it
handled to an event file, then commits the batch synchronously and appends
the commits that succeeded, so the driver can check coverage and that nothing
below a committed offset is consumed again.  SIGTERM = leave cleanly.

Event lines (t = wall-clock ns, comparable across processes):
  A <t> <p,p,...>     partitions assigned (after a rebalance)
  M <t> <p> <offset>  record handled
  C <t> <p> <next>    commit of next offset <next> acknowledged
Usage: member.py CLIENT BOOTSTRAP TOPIC GROUP EVENTFILE [key=value ...]
  CLIENT: kafka-python | confluent; extras: instance=ID (static membership),
  assignor=NAME (confluent partition.assignment.strategy)."""
import os
import signal
import sys
import time

client, bootstrap, topic, group, path = sys.argv[1:6]
extra = dict(a.split("=", 1) for a in sys.argv[6:])
out = open(path, "a", buffering=1)
stop = False


def on_term(*_):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)


def ev(*fields):
    out.write(" ".join(str(f) for f in fields) + "\n")


def now():
    return time.time_ns()


def assigned(parts):
    ev("A", now(), ",".join(str(p) for p in sorted(parts)) or "-")


if client == "confluent":
    from confluent_kafka import Consumer, KafkaException, TopicPartition

    conf = {
        "bootstrap.servers": bootstrap, "group.id": group, "enable.auto.commit": False,
        "auto.offset.reset": "earliest", "session.timeout.ms": 6000, "heartbeat.interval.ms": 500,
        "max.poll.interval.ms": 10000, "client.id": os.path.basename(path),
    }
    if "instance" in extra:
        conf["group.instance.id"] = extra["instance"]
    if "assignor" in extra:
        conf["partition.assignment.strategy"] = extra["assignor"]
    if "debug" in extra:
        conf["debug"] = extra["debug"]
    c = Consumer(conf)
    cooperative = extra.get("assignor") == "cooperative-sticky"
    owned = set()

    # librdkafka 2.0.2 bug: a cooperative rebalance pauses and resumes the
    # partitions a member keeps at the *fetch* position, dropping records
    # already fetched but not yet handed to the application (seen as records
    # never consumed).  So after every cooperative rebalance a member seeks
    # the partitions it kept back to its own position (or, for partitions it
    # has not read yet, to where they start).
    nxt, resync = {}, [False]

    def on_assign(cons, parts):
        if cooperative:
            cons.incremental_assign(parts)
            owned.update(p.partition for p in parts)
            # where a new partition starts: its committed offset, else the log start
            for tp in (cons.committed(parts, timeout=10) if parts else []):
                nxt[tp.partition] = tp.offset if tp.offset >= 0 else \
                    cons.get_watermark_offsets(TopicPartition(topic, tp.partition), timeout=10)[0]
            resync[0] = True
        else:
            owned.clear()
            owned.update(p.partition for p in parts)
        assigned(owned)

    def on_revoke(cons, parts):
        if cooperative:
            cons.incremental_unassign(parts)
            owned.difference_update(p.partition for p in parts)
            for p in parts:
                nxt.pop(p.partition, None)
            assigned(owned)

    c.subscribe([topic], on_assign=on_assign, on_revoke=on_revoke)
    while not stop:
        msgs = c.consume(num_messages=200, timeout=0.3)
        if resync[0]:
            resync[0] = False
            for p in owned & nxt.keys():
                try:
                    c.seek(TopicPartition(topic, p, nxt[p]))
                except KafkaException:
                    pass
        batch = {}
        for m in msgs:
            if m.error():
                continue
            if cooperative and m.partition() in nxt and m.offset() != nxt[m.partition()]:
                # fetched before the seek took effect, or a gap the seek repairs
                resync[0] = resync[0] or m.offset() > nxt[m.partition()]
                continue
            ev("M", now(), m.partition(), m.offset())
            batch[m.partition()] = m.offset() + 1
            nxt[m.partition()] = m.offset() + 1
        if not batch:
            continue
        out.flush()
        try:
            res = c.commit(offsets=[TopicPartition(topic, p, o) for p, o in batch.items()], asynchronous=False)
        except KafkaException:
            continue  # lost the partitions in a rebalance: another member redoes the batch
        t = now()
        for tp in res:
            if tp.error is None:
                ev("C", t, tp.partition, tp.offset)
    c.close()
elif client == "kafka-python":
    from kafka import KafkaConsumer, TopicPartition
    from kafka.consumer.subscription_state import ConsumerRebalanceListener
    from kafka.errors import CommitFailedError, KafkaError
    from kafka.structs import OffsetAndMetadata

    c = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                      auto_offset_reset="earliest", session_timeout_ms=6000, heartbeat_interval_ms=500,
                      max_poll_interval_ms=10000, client_id=os.path.basename(path))

    class Listener(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            pass

        def on_partitions_assigned(self, parts):
            assigned(p.partition for p in parts)

    c.subscribe([topic], listener=Listener())
    while not stop:
        recs = c.poll(timeout_ms=300, max_records=200)
        batch = {}
        for tp, lst in recs.items():
            for r in lst:
                ev("M", now(), tp.partition, r.offset)
                batch[tp.partition] = r.offset + 1
        if not batch:
            continue
        out.flush()
        try:
            c.commit({TopicPartition(topic, p): OffsetAndMetadata(o, None) for p, o in batch.items()})
        except (CommitFailedError, KafkaError):
            continue
        t = now()
        for p, o in batch.items():
            ev("C", t, p, o)
    c.close(autocommit=False)
else:
    sys.exit(f"unknown client {client}")
ev("X", now())
out.close()
