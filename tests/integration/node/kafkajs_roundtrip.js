// kafkajs produces keyed messages with headers under every compression codec
// (gzip built in; snappy, lz4 and zstd through pure-JS codecs registered here)
// and consumes them back exactly.  Usage: node kafkajs_roundtrip.js BOOTSTRAP
'use strict';
const { Kafka, CompressionTypes, CompressionCodecs, logLevel } = require('kafkajs');
const SnappyCodec = require('kafkajs-snappy');
const lz4 = require('lz4js');
const { ZstdCodec } = require('zstd-codec');

const boot = process.argv[2];
const N = 300;

function fail(msg) { console.error('FAIL: ' + msg); process.exit(1); }

async function registerCodecs() {
  CompressionCodecs[CompressionTypes.Snappy] = SnappyCodec;
  CompressionCodecs[CompressionTypes.LZ4] = () => ({
    async compress(encoder) { return Buffer.from(lz4.compress(encoder.buffer)); },
    async decompress(buffer) { return Buffer.from(lz4.decompress(buffer)); },
  });
  const zstd = await new Promise((resolve) => ZstdCodec.run((z) => resolve(new z.Simple())));
  CompressionCodecs[CompressionTypes.ZSTD] = () => ({
    async compress(encoder) { return Buffer.from(zstd.compress(encoder.buffer, 3)); },
    async decompress(buffer) { return Buffer.from(zstd.decompress(buffer)); },
  });
}

async function roundtrip(kafka, name, type) {
  const topic = `kjs-${name}`;
  const want = [];
  for (let i = 0; i < N; i++) {
    want.push({ key: `k${i}`, value: `kjs-${name}-${i}-` + 'y'.repeat(i % 89), headers: { n: String(i), c: name } });
  }
  const producer = kafka.producer({ allowAutoTopicCreation: true });
  await producer.connect();
  for (let i = 0; i < N; i += 50) {
    await producer.send({ topic, acks: -1, compression: type, messages: want.slice(i, i + 50) });
  }
  await producer.disconnect();

  const consumer = kafka.consumer({ groupId: `kjs-g-${name}-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const got = [];
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timeout: ${got.length}/${N} consumed`)), 60000);
    consumer.run({
      eachMessage: async ({ message }) => {
        got.push(message);
        if (got.length >= N) { clearTimeout(timer); resolve(); }
      },
    }).catch(reject);
  });
  await consumer.disconnect();
  if (got.length !== N) fail(`${name}: consumed ${got.length}, expected ${N}`);
  for (let i = 0; i < N; i++) {
    const g = got[i], w = want[i];
    if (g.key.toString() !== w.key || g.value.toString() !== w.value ||
        g.headers.n.toString() !== w.headers.n || g.headers.c.toString() !== w.headers.c ||
        g.offset !== String(i)) {
      fail(`${name}: message ${i} differs: ${g.key} ${g.value} offset ${g.offset}`);
    }
  }
  console.log(`kafkajs ${name}: ok`);
}

(async () => {
  await registerCodecs();
  const kafka = new Kafka({ clientId: 'sesp-it', brokers: [boot], logLevel: logLevel.WARN, retry: { retries: 3 } });
  for (const [name, type] of [['none', CompressionTypes.None], ['gzip', CompressionTypes.GZIP],
    ['snappy', CompressionTypes.Snappy], ['lz4', CompressionTypes.LZ4], ['zstd', CompressionTypes.ZSTD]]) {
    await roundtrip(kafka, name, type);
  }
  console.log('PASS kafkajs');
  process.exit(0);
})().catch((e) => fail(e.stack || String(e)));
