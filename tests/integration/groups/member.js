// One kafkajs consumer-group member for the group integration tests; the same
// event file protocol as member.py (A/M/C lines with wall-clock ns), manual
// commits after each batch, SIGTERM = disconnect (leave the group) and exit.
// Usage: node member.js BOOTSTRAP TOPIC GROUP EVENTFILE
'use strict';
const fs = require('fs');
const path = require('path');
const { Kafka, logLevel } = require(path.join(__dirname, '../node/node_modules/kafkajs'));

const [bootstrap, topic, group, file] = process.argv.slice(2);
const fd = fs.openSync(file, 'a');
const now = () => (BigInt(Math.round((performance.timeOrigin + performance.now()) * 1000)) * 1000n).toString();
const ev = (...f) => fs.writeSync(fd, f.join(' ') + '\n');

const kafka = new Kafka({ clientId: path.basename(file), brokers: [bootstrap], logLevel: logLevel.NOTHING });
const consumer = kafka.consumer({
  groupId: group, sessionTimeout: 6000, heartbeatInterval: 500, rebalanceTimeout: 10000,
  retry: { retries: 20 },
});
consumer.on(consumer.events.GROUP_JOIN, (e) => {
  const parts = (e.payload.memberAssignment[topic] || []).slice().sort((a, b) => a - b);
  ev('A', now(), parts.length ? parts.join(',') : '-');
});

let stopping = false;
async function main() {
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      let next = null;
      for (const m of batch.messages) {
        if (!isRunning() || isStale()) break;
        ev('M', now(), batch.partition, m.offset);
        resolveOffset(m.offset);
        next = (BigInt(m.offset) + 1n).toString();
      }
      if (next === null) return;
      try {
        await consumer.commitOffsets([{ topic, partition: batch.partition, offset: next }]);
        ev('C', now(), batch.partition, next);
      } catch (e) {
        // lost the partition in a rebalance: another member redoes the batch
      }
      await heartbeat();
    },
  });
}

async function stop() {
  if (stopping) return;
  stopping = true;
  try { await consumer.disconnect(); } catch (e) { /* exiting anyway */ }
  ev('X', now());
  fs.closeSync(fd);
  process.exit(0);
}
process.on('SIGTERM', stop);
main().catch((e) => { console.error('member failed:', e); process.exit(1); });
