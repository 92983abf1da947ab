#!/usr/bin/env bash
# Committed offsets survive broker restarts: kafka-python commits, the broker
# is stopped with SIGTERM and restarted on the same data, and a confluent-kafka
# consumer in the group resumes exactly at the committed offsets; its own
# commits survive a second restart (then a kafkajs member finds nothing new).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../lib.sh"
start_broker --set group.initial.rebalance.delay.ms=0
"$SESP_BIN" topic create rs --partitions 3 -b "$BOOTSTRAP" >/dev/null
for p in 0 1 2; do
  seq 0 29 | sed "s/^/p$p-/" | "$SESP_BIN" produce rs -p $p -b "$BOOTSTRAP" || fail "produce"
done

# kafka-python consumes everything (commit after processing) but commits 10/20/5.
/usr/bin/python3 - "$BOOTSTRAP" <<'PY' || fail "kafka-python commit"
import sys
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata
c = KafkaConsumer("rs", bootstrap_servers=sys.argv[1], group_id="rs-g", enable_auto_commit=False,
                  auto_offset_reset="earliest", session_timeout_ms=6000, consumer_timeout_ms=10000)
seen = {}
for r in c:
    seen[r.partition] = seen.get(r.partition, 0) + 1
    if sum(seen.values()) == 90:
        break
assert seen == {0: 30, 1: 30, 2: 30}, seen
want = {0: 10, 1: 20, 2: 5}
c.commit({TopicPartition("rs", p): OffsetAndMetadata(o, "meta-%d" % p) for p, o in want.items()})
got = {p: c.committed(TopicPartition("rs", p)) for p in want}
assert got == want, got
c.close()
PY
log "restart: committed 10/20/5, restarting the broker"
stop_broker TERM
start_broker --set group.initial.rebalance.delay.ms=0

out=$("$SESP_BIN" group describe rs-g -b "$BOOTSTRAP") || fail "describe after restart"
for row in "rs 0 10 30 20" "rs 1 20 30 10" "rs 2 5 30 25"; do
  echo "$out" | awk '{print $1, $2, $3, $4, $5}' | grep -qx "$row" || fail "after restart, describe lacks '$row':
$out"
done

# confluent-kafka resumes at the committed offsets and commits the end.
/usr/bin/python3 - "$BOOTSTRAP" <<'PY' || fail "confluent-kafka resume"
import sys, time
from confluent_kafka import Consumer, TopicPartition
c = Consumer({"bootstrap.servers": sys.argv[1], "group.id": "rs-g", "enable.auto.commit": False,
              "auto.offset.reset": "earliest", "session.timeout.ms": 6000})
c.subscribe(["rs"])
first, n, deadline = {}, 0, time.time() + 30
while n < 55 and time.time() < deadline:
    m = c.poll(0.5)
    if m is None or m.error():
        continue
    first.setdefault(m.partition(), m.offset())
    assert m.value() == b"p%d-%d" % (m.partition(), m.offset()), (m.partition(), m.offset(), m.value())
    n += 1
    c.commit(message=m, asynchronous=False)
assert first == {0: 10, 1: 20, 2: 5}, f"resumed at {first}, expected 10/20/5"
assert n == 55, f"consumed {n} of the 55 uncommitted records"
got = {tp.partition: tp.offset for tp in c.committed([TopicPartition("rs", p) for p in range(3)], timeout=10)}
assert got == {0: 30, 1: 30, 2: 30}, got
c.close()
PY
log "restart: confluent-kafka resumed at 10/20/5; restarting again"
stop_broker TERM
start_broker --set group.initial.rebalance.delay.ms=0
out=$("$SESP_BIN" group describe rs-g -b "$BOOTSTRAP") || fail "describe after the second restart"
for p in 0 1 2; do
  echo "$out" | awk '{print $1, $2, $3, $4, $5}' | grep -qx "rs $p 30 30 0" || fail "after the second restart: $out"
done
# A new record after the restart is all a kafkajs member of the group gets.
echo "p1-30" | "$SESP_BIN" produce rs -p 1 -b "$BOOTSTRAP"
NODE_MODULES="$here/../node/node_modules" node - "$BOOTSTRAP" <<'JS' || fail "kafkajs after restart"
const path = require('path');
const { Kafka, logLevel } = require(path.join(process.env.NODE_MODULES, 'kafkajs'));
const kafka = new Kafka({ brokers: [process.argv[2]], logLevel: logLevel.NOTHING });
const c = kafka.consumer({ groupId: 'rs-g', sessionTimeout: 6000, heartbeatInterval: 500 });
(async () => {
  await c.connect();
  await c.subscribe({ topic: 'rs', fromBeginning: true });
  const got = [];
  const done = new Promise((resolve) => {
    c.run({ eachMessage: async ({ partition, message }) => { got.push(`${partition}:${message.offset}:${message.value}`); resolve(); } });
  });
  await Promise.race([done, new Promise((_, rej) => setTimeout(() => rej(new Error('timeout')), 30000))]);
  await new Promise((r) => setTimeout(r, 1000)); // anything else would arrive in this second
  await c.disconnect();
  if (got.length !== 1 || got[0] !== '1:30:p1-30') throw new Error(`got ${JSON.stringify(got)}`);
  process.exit(0); // without waiting for the timeout timer
})().catch((e) => { console.error(e); process.exit(1); });
JS
stop_broker TERM
echo "PASS test_restart"
