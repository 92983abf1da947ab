// kafkajs side of the capture: run by capture.sh with NODE_PATH pointing at
// tests/integration/node/node_modules.  Usage: node kjs_clients.js BOOTSTRAP
'use strict';
const { Kafka, logLevel } = require('kafkajs');

async function main() {
  const kafka = new Kafka({ clientId: 'cap-kjs', brokers: [process.argv[2]], logLevel: logLevel.NOTHING });
  const producer = kafka.producer();
  await producer.connect();
  await producer.send({
    topic: 'cap-kjs',
    messages: [0, 1, 2].map((i) => ({ key: 'key' + i, value: 'kjs-value-' + i, partition: 0, headers: { h: 'v' + i } })),
  });
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: 'cap-kjs-group', heartbeatInterval: 300, sessionTimeout: 6000 });
  await consumer.connect();
  await consumer.subscribe({ topic: 'cap-kjs', fromBeginning: true });
  let got = 0;
  const done = new Promise((resolve) => {
    consumer.run({
      autoCommit: true,
      eachMessage: async () => { if (++got === 3) resolve(); },
    });
  });
  const timer = setTimeout(() => { console.error('timeout, got ' + got); process.exit(1); }, 20000);
  await done;
  clearTimeout(timer);
  await new Promise((r) => setTimeout(r, 1500));
  await consumer.disconnect();
}

main().catch((e) => { console.error(e); process.exit(1); });
