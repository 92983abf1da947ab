// An independent Delta Lake reader for the integration tests, written from
// delta-io PROTOCOL.md and sharing no code with lakehouse/: it lists
// _delta_log, picks the newest checkpoint at or below the wanted version
// (read with DuckDB), replays the later JSON commits (add/remove/txn/
// metaData/protocol) and reads the active data files with DuckDB, adding
// partition columns from the log's partitionValues.  It honours the
// typeWidening reader feature: a column whose schema field records
// delta.typeChanges is CAST to the table's current type, so files written
// before the change (narrower Parquet types) read as the wider type.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const { DuckDBInstance } = require('@duckdb/node-api');

// Stores: list(prefix) -> [{key, size}], get(key) -> Buffer, localPath(key) -> file path for DuckDB.
function localStore(root) {
  const walk = (dir, rel, out) => {
    if (!fs.existsSync(dir)) return out;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const k = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(path.join(dir, e.name), k, out);
      else if (e.isFile() && !e.name.startsWith('.sesp-tmp-')) out.push({ key: k, size: fs.statSync(path.join(dir, e.name)).size });
    }
    return out;
  };
  return {
    async list(prefix) { return walk(root, '', []).filter((o) => o.key.startsWith(prefix)).sort((a, b) => (a.key < b.key ? -1 : 1)); },
    async get(key) { return fs.readFileSync(path.join(root, key)); },
    async localPath(key) { return path.join(root, key); },
  };
}

function httpReq(method, url) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

// Anonymous S3 access (s3rver allows it), straight to the server, not through the test proxy.
function s3Store(endpoint, bucket, prefix) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'delta-s3-'));
  const full = (k) => (prefix ? `${prefix}/${k}` : k);
  const enc = (k) => k.split('/').map(encodeURIComponent).join('/');
  return {
    async list(p) {
      const out = [];
      let token = null;
      for (;;) {
        let url = `${endpoint}/${bucket}?list-type=2&prefix=${encodeURIComponent(full(p))}`;
        if (token) url += `&continuation-token=${encodeURIComponent(token)}`;
        const r = await httpReq('GET', url);
        if (r.status !== 200) throw new Error(`LIST ${r.status}`);
        const xml = r.body.toString();
        for (const m of xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)) {
          const key = m[1].match(/<Key>([\s\S]*?)<\/Key>/)[1].replace(/&amp;/g, '&').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'");
          const size = Number(m[1].match(/<Size>(\d+)<\/Size>/)[1]);
          out.push({ key: prefix ? key.slice(prefix.length + 1) : key, size });
        }
        const t = xml.match(/<NextContinuationToken>([\s\S]*?)<\/NextContinuationToken>/);
        if (!/<IsTruncated>true/.test(xml) || !t) break;
        token = t[1];
      }
      return out.sort((a, b) => (a.key < b.key ? -1 : 1));
    },
    async get(key) {
      const r = await httpReq('GET', `${endpoint}/${bucket}/${enc(full(key))}`);
      if (r.status !== 200) throw new Error(`GET ${key}: ${r.status}`);
      return r.body;
    },
    async localPath(key) {
      const p = path.join(tmp, key.replace(/\//g, '__'));
      fs.writeFileSync(p, await this.get(key));
      return p;
    },
  };
}

let duck = null;
async function conn() {
  if (!duck) duck = await (await DuckDBInstance.create(':memory:')).connect();
  return duck;
}
const sqlStr = (s) => `'${s.replace(/'/g, "''")}'`;

async function logVersions(store) {
  const commits = new Map(), checkpoints = new Set();
  for (const o of await store.list('_delta_log/')) {
    const name = o.key.slice('_delta_log/'.length);
    let m;
    if ((m = name.match(/^(\d{20})\.json$/))) commits.set(Number(m[1]), o.key);
    else if ((m = name.match(/^(\d{20})\.checkpoint\.parquet$/))) checkpoints.add(Number(m[1]));
  }
  return { commits, checkpoints };
}

// Reader features this reader implements (timestampNtz: DuckDB reads it natively).
const READER_FEATURES = new Set(['typeWidening', 'timestampNtz']);

// Returns {version, checkpoint, protocol, metaData, files: Map(path -> add), txns, commitTimestamps}
async function snapshot(store, wanted) {
  const { commits, checkpoints } = await logVersions(store);
  const all = [...commits.keys(), ...checkpoints];
  if (!all.length) throw new Error('no Delta log');
  const latest = Math.max(...all);
  const version = wanted === undefined || wanted === null ? latest : wanted;
  if (version > latest) throw new Error(`version ${version} > latest ${latest}`);
  const state = { version, checkpoint: -1, protocol: null, metaData: null, files: new Map(), txns: new Map() };
  const cps = [...checkpoints].filter((v) => v <= version).sort((a, b) => b - a);
  let start = 0;
  if (cps.length) {
    const cp = cps[0];
    const file = await store.localPath(`_delta_log/${String(cp).padStart(20, '0')}.checkpoint.parquet`);
    const c = await conn();
    const r = await c.runAndReadAll(`SELECT to_json(add) AS a, to_json(remove) AS r, to_json(metaData) AS m, to_json(protocol) AS p, to_json(txn) AS t FROM read_parquet(${sqlStr(file)})`);
    for (const row of r.getRowObjectsJson()) {
      if (row.a) { const a = JSON.parse(row.a); state.files.set(a.path, a); }
      if (row.m) state.metaData = JSON.parse(row.m);
      if (row.p) state.protocol = JSON.parse(row.p);
      if (row.t) { const t = JSON.parse(row.t); state.txns.set(t.appId, t.version); }
    }
    state.checkpoint = cp;
    start = cp + 1;
  }
  for (let v = start; v <= version; v++) {
    if (!commits.has(v)) throw new Error(`commit ${v} missing`);
    const text = (await store.get(commits.get(v))).toString();
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      const act = JSON.parse(line);
      const keys = Object.keys(act);
      if (keys.length !== 1) throw new Error(`version ${v}: action with ${keys.length} keys`);
      if (act.add) state.files.set(act.add.path, act.add);
      else if (act.remove) state.files.delete(act.remove.path);
      else if (act.metaData) state.metaData = act.metaData;
      else if (act.protocol) state.protocol = act.protocol;
      else if (act.txn) state.txns.set(act.txn.appId, act.txn.version);
    }
  }
  if (!state.metaData || !state.protocol) throw new Error('no metaData/protocol');
  const p = state.protocol;
  if (p.minReaderVersion === 3) {
    const unknown = (p.readerFeatures || []).filter((f) => !READER_FEATURES.has(f));
    if (unknown.length) throw new Error(`unsupported reader features ${unknown.join(',')}`);
  } else if (p.minReaderVersion !== 1) throw new Error(`unexpected reader version ${p.minReaderVersion}`);
  return state;
}

async function commitTimestamp(store, v) {
  const text = (await store.get(`_delta_log/${String(v).padStart(20, '0')}.json`)).toString();
  for (const line of text.split('\n')) if (line.includes('"commitInfo"')) return JSON.parse(line).commitInfo.timestamp;
  return null;
}

function partitionValue(type, s) {
  if (s === null || s === undefined) return null;
  if (type === 'long' || type === 'integer' || type === 'short' || type === 'byte') return Number(s);
  if (type === 'double' || type === 'float') return Number(s);
  if (type === 'boolean') return s === 'true';
  return s;
}

// The DuckDB type of a primitive Delta type, null for the others.
function duckType(t) {
  if (typeof t !== 'string') return null;
  const m = t.match(/^decimal\((\d+),\s*(\d+)\)$/);
  if (m) return `DECIMAL(${m[1]},${m[2]})`;
  return { byte: 'TINYINT', short: 'SMALLINT', integer: 'INTEGER', long: 'BIGINT', float: 'FLOAT', double: 'DOUBLE',
           date: 'DATE', timestamp_ntz: 'TIMESTAMP', timestamp: 'TIMESTAMP WITH TIME ZONE', string: 'VARCHAR', boolean: 'BOOLEAN',
           binary: 'BLOB' }[t] || null;
}
const ident = (s) => `"${s.replace(/"/g, '""')}"`;

// Column names and DuckDB types of one Parquet file.
async function fileColumns(file) {
  const r = await (await conn()).runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${sqlStr(file)}, hive_partitioning=false)`);
  return r.getRowObjectsJson().map((x) => ({ name: x.column_name, type: x.column_type }));
}

// The SELECT list reading one file as the table's schema: columns whose type
// changed (delta.typeChanges) are cast to the current type.  Checks that
// every primitive column then has the table's type, so a file the casts do
// not cover fails here instead of passing for its JSON text.
async function selectList(file, schema) {
  const widened = new Map();
  for (const f of schema.fields) {
    const changes = f.metadata && f.metadata['delta.typeChanges'];
    if (!changes || !changes.length) continue;
    if (changes.some((c) => c.fieldPath)) throw new Error(`column ${f.name}: nested type changes are not handled here`);
    const dt = duckType(f.type);
    if (!dt) throw new Error(`column ${f.name}: type change to ${JSON.stringify(f.type)}`);
    widened.set(f.name, dt);
  }
  const cols = (await fileColumns(file)).map((c) => (widened.has(c.name) ? `CAST(${ident(c.name)} AS ${widened.get(c.name)}) AS ${ident(c.name)}` : ident(c.name))).join(', ');
  const r = await (await conn()).runAndReadAll(`DESCRIBE SELECT ${cols} FROM read_parquet(${sqlStr(file)}, hive_partitioning=false)`);
  for (const c of r.getRowObjectsJson()) {
    const f = schema.fields.find((x) => x.name === c.column_name);
    const want = f && duckType(f.type);
    if (want && c.column_type !== want) throw new Error(`${file}: column ${c.column_name} reads as ${c.column_type}, the table says ${want}`);
  }
  return cols;
}

// All rows of the snapshot as plain objects.
async function readRows(store, snap) {
  const schema = JSON.parse(snap.metaData.schemaString);
  const types = Object.fromEntries(schema.fields.map((f) => [f.name, typeof f.type === 'string' ? f.type : f.type.type]));
  const c = await conn();
  const rows = [];
  for (const add of snap.files.values()) {
    const key = decodeURIComponent(add.path);
    const file = await store.localPath(key);
    const cols = await selectList(file, schema);
    const r = await c.runAndReadAll(`SELECT to_json(t) AS j FROM (SELECT ${cols} FROM read_parquet(${sqlStr(file)}, hive_partitioning=false)) t`);
    const got = r.getRowObjectsJson().map((x) => JSON.parse(x.j));
    const stats = add.stats ? JSON.parse(add.stats) : null;
    if (stats && stats.numRecords !== got.length) throw new Error(`${add.path}: stats say ${stats.numRecords} rows, file has ${got.length}`);
    for (const row of got) {
      for (const p of snap.metaData.partitionColumns) row[p] = partitionValue(types[p], add.partitionValues[p]);
      rows.push(row);
    }
  }
  return rows;
}

module.exports = { localStore, s3Store, snapshot, readRows, commitTimestamp, logVersions, fileColumns };
