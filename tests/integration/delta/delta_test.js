// Integration test of `sesp table` (lakehouse/delta + objstore) against an
// independent Delta reader (delta_reader.js + DuckDB): local tables through
// appends, checkpoints, optimize, delete, merge, time travel, restore and
// vacuum; concurrent writers; type widening (typeWidening table feature);
// and the same on S3 (s3rver) behind a failure-injecting proxy (5xx,
// SlowDown, connection resets, responses lost after the write landed) that
// also enforces `If-None-Match: *`, plus s3rver alone, which ignores it: the
// conditional-put probe must refuse to commit there without a lock file.
// The proxy also checks every request's SigV4 signature with its own
// implementation (s3rver does not check V4 signatures), stalls and trickles
// replies past `timeout-ms` (reads and writes must retry, commits land exactly
// once), and serves a table addressed virtual-hosted style
// (lake.s3.localhost) with credentials, region, endpoint and addressing
// style taken from AWS shared credentials/config files.
// Usage: node delta_test.js SESP_BIN.  Exits non-zero on any mismatch.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const net = require('net');
const crypto = require('crypto');
const { spawn } = require('child_process');
const S3rver = require('s3rver');
const reader = require('./delta_reader');
const { startFakeWebhdfs } = require('./fake_webhdfs');
const { startProxy } = require('./s3_proxy');

const SESP = process.argv[2];
if (!SESP) { console.error('usage: node delta_test.js SESP_BIN'); process.exit(2); }
let passed = 0, failed = 0;
function check(cond, what) {
  if (cond) { passed++; return; }
  failed++;
  console.error(`FAIL: ${what}`);
}

function run(args, opts = {}) {
  return new Promise((resolve) => {
    const p = spawn(SESP, ['table', ...args], { env: { ...process.env, ...(opts.env || {}) } });
    let out = '', err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    if (opts.input !== undefined) p.stdin.end(opts.input);
    else p.stdin.end();
    p.on('close', (code) => resolve({ code, out, err }));
  });
}
async function ok(args, opts) {
  const r = await run(args, opts);
  if (r.code !== 0) throw new Error(`sesp table ${args.join(' ')} exited ${r.code}: ${r.err}`);
  return r;
}

// ---- the model: what the table must contain ----
function canon(v) {
  if (Array.isArray(v)) return v.map(canon);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, canon(v[k])]));
  return v;
}
const sortRows = (rows) => rows.map(canon).sort((a, b) => a.id - b.id);
const same = (a, b) => JSON.stringify(sortRows(a)) === JSON.stringify(sortRows(b));
function diff(a, b) {
  const x = sortRows(a), y = sortRows(b);
  return `got ${x.length} rows, want ${y.length}; first got ${JSON.stringify(x.slice(0, 2))} want ${JSON.stringify(y.slice(0, 2))}`;
}

let nextId = 1;
function makeRows(n, country) {
  const rows = [];
  for (let i = 0; i < n; i++) {
    const id = nextId++;
    rows.push({ id, name: `user-${id}`, score: (id % 17) + 0.25, country: country || ['fr', 'us', 'de'][id % 3],
                tags: id % 4 ? [`t${id % 5}`, 'x'] : [], info: id % 6 ? { a: id * 10, b: `b${id}` } : null });
  }
  return rows;
}
// rows whose names are random hex: a data file of several MiB that snappy cannot shrink
function makeBigRows(n, bytes) {
  const rows = makeRows(n, 'big');
  for (const r of rows) r.name = require('crypto').randomBytes(bytes / 2).toString('hex');
  return rows;
}
const jsonl = (rows) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

async function verify(store, uri, model, label, version, opts = {}) {
  const snap = await reader.snapshot(store, version);
  const rows = await reader.readRows(store, snap);
  check(same(rows, model), `${label}: independent reader: ${same(rows, model) ? '' : diff(rows, model)}`);
  const args = ['scan', uri];
  if (version !== undefined && version !== null) args.push('--version', String(version));
  const r = await ok([...args, ...(opts.extra || [])], opts);
  const cli = r.out.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  check(same(cli, model), `${label}: sesp table scan: ${same(cli, model) ? '' : diff(cli, model)}`);
  return snap;
}

const SCHEMA = JSON.stringify({ type: 'struct', fields: [
  { name: 'id', type: 'long', nullable: false, metadata: {} },
  { name: 'name', type: 'string', nullable: true, metadata: {} },
  { name: 'score', type: 'double', nullable: true, metadata: {} },
  { name: 'country', type: 'string', nullable: true, metadata: {} },
  { name: 'tags', type: { type: 'array', elementType: 'string', containsNull: true }, nullable: true, metadata: {} },
  { name: 'info', type: { type: 'struct', fields: [
    { name: 'a', type: 'long', nullable: true, metadata: {} }, { name: 'b', type: 'string', nullable: true, metadata: {} }] }, nullable: true, metadata: {} },
] });

// The full lifecycle on one table (store = how the test reads it back).
async function lifecycle(label, uri, store, opts = {}) {
  const model = new Map();
  const history = [];   // model per version
  const rowsOf = () => [...model.values()];
  await ok(['create', uri, '--schema', SCHEMA, '--partition-by', 'country', '--config', 'delta.checkpointInterval=4', ...(opts.extra || [])], opts);
  history[0] = [];
  for (let v = 1; v <= 9; v++) {
    const rows = makeRows(5);
    await ok(['append', uri, '--input', '-', ...(opts.extra || [])], { ...opts, input: jsonl(rows) });
    for (const r of rows) model.set(r.id, r);
    history[v] = rowsOf();
  }
  let snap = await verify(store, uri, rowsOf(), `${label} after 9 appends`, null, opts);
  check(snap.checkpoint === 8, `${label}: reader started from checkpoint 8 (got ${snap.checkpoint})`);
  const lc = JSON.parse((await store.get('_delta_log/_last_checkpoint')).toString());
  check(lc.version === 8, `${label}: _last_checkpoint points at 8`);
  const filesBefore = snap.files.size;

  // OPTIMIZE: same rows, fewer files, dataChange=false
  let r = await ok(['optimize', uri, ...(opts.extra || [])], opts);
  check(JSON.parse(r.out).version === 10, `${label}: optimize is version 10`);
  history[10] = rowsOf();
  snap = await verify(store, uri, rowsOf(), `${label} after optimize`, null, opts);
  check(snap.files.size === 3, `${label}: optimize left one file per partition (${filesBefore} -> ${snap.files.size})`);
  const v10 = (await store.get('_delta_log/00000000000000000010.json')).toString();
  check(!/"dataChange":true/.test(v10), `${label}: optimize commit has dataChange=false only`);

  // DELETE (copy-on-write)
  r = await ok(['delete', uri, '--where', 'score < 5', ...(opts.extra || [])], opts);
  for (const [id, row] of model) if (row.score < 5) model.delete(id);
  check(JSON.parse(r.out).rowsDeleted > 0, `${label}: delete removed rows`);
  history[11] = rowsOf();
  await verify(store, uri, rowsOf(), `${label} after delete`, null, opts);

  // MERGE by key: two updates, one insert
  const ids = [...model.keys()].slice(0, 2);
  const upd = ids.map((id) => ({ ...model.get(id), name: `merged-${id}`, score: 99.5 }));
  const ins = makeRows(1, 'it');
  await ok(['merge', uri, '--input', '-', '--key', 'id', ...(opts.extra || [])], { ...opts, input: jsonl([...upd, ...ins]) });
  for (const row of [...upd, ...ins]) model.set(row.id, row);
  history[12] = rowsOf();
  await verify(store, uri, rowsOf(), `${label} after merge`, null, opts);

  // time travel by version (checkpoint 8 is involved for v >= 8) and by timestamp
  for (const v of [1, 5, 8, 9, 10, 11]) await verify(store, uri, history[v], `${label} version ${v}`, v, opts);
  const ts5 = await reader.commitTimestamp(store, 5);
  r = await ok(['scan', uri, '--timestamp', String(ts5), ...(opts.extra || [])], opts);
  const at5 = r.out.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  check(same(at5, history[5]), `${label}: scan --timestamp of version 5`);

  // RESTORE to version 9
  await ok(['restore', uri, '--version', '9', ...(opts.extra || [])], opts);
  model.clear();
  for (const row of history[9]) model.set(row.id, row);
  history[13] = rowsOf();
  await verify(store, uri, rowsOf(), `${label} after restore to 9`, null, opts);

  // VACUUM: dry run deletes nothing and logs nothing; below the table's
  // retention (7 days) it is refused unless the check is off; the real one
  // leaves exactly the active files and logs VACUUM START / VACUUM END
  const dataKeys = async () => (await store.list('')).map((o) => o.key).filter((k) => !k.startsWith('_delta_log/'));
  const logKeys = async () => (await store.list('_delta_log/')).map((o) => o.key).join(',');
  const before = await dataKeys();
  const logBefore = await logKeys();
  const vBefore = (await reader.snapshot(store)).version;
  r = await ok(['vacuum', uri, '--retention-hours', '0', '--no-retention-check', '--dry-run', ...(opts.extra || [])], opts);
  const dry = JSON.parse(r.out.trim().split('\n').pop());
  check(dry.files > 0 && (await dataKeys()).length === before.length, `${label}: vacuum --dry-run lists ${dry.files} files, deletes none`);
  check(await logKeys() === logBefore && dry.startVersion === -1, `${label}: vacuum --dry-run leaves the log unchanged`);
  r = await run(['vacuum', uri, '--retention-hours', '0', ...(opts.extra || [])], opts);
  check(r.code !== 0 && /deletedFileRetentionDuration/.test(r.err) && /--no-retention-check/.test(r.err),
        `${label}: vacuum below the table's retention is refused: ${r.err.trim()}`);
  check(await logKeys() === logBefore && (await dataKeys()).length === before.length, `${label}: the refused vacuum changed nothing`);
  r = await ok(['vacuum', uri, '--retention-hours', '0', '--no-retention-check', ...(opts.extra || [])], opts);
  const done = JSON.parse(r.out.trim().split('\n').pop());
  check(done.files === dry.files && done.sizeBytes === dry.sizeBytes && done.startVersion === vBefore + 1 && done.endVersion === vBefore + 2,
        `${label}: vacuum deleted what the dry run listed, as versions ${vBefore + 1} and ${vBefore + 2} (${JSON.stringify(done)})`);
  const only = async (v) => { const a = await commitActions(store, v); return a.length === 1 ? a[0].commitInfo : null; };
  const vs = await only(vBefore + 1), ve = await only(vBefore + 2);
  check(vs && vs.operation === 'VACUUM START' && vs.operationParameters.retentionCheckEnabled === false &&
        vs.operationParameters.specifiedRetentionMillis === 0 && vs.operationParameters.defaultRetentionMillis === 604800000 &&
        vs.operationMetrics.numFilesToDelete === String(dry.files) && vs.operationMetrics.sizeOfDataToDelete === String(dry.sizeBytes) &&
        vs.readVersion === vBefore, `${label}: VACUUM START commit holds only Delta's commitInfo ${JSON.stringify(vs)}`);
  check(ve && ve.operation === 'VACUUM END' && ve.operationParameters.status === 'COMPLETED' &&
        ve.operationMetrics.numDeletedFiles === String(dry.files) && ve.operationMetrics.numVacuumedDirectories === String(done.directories) &&
        done.directories >= 5, `${label}: VACUUM END commit ${JSON.stringify(ve)}`);
  const hist = (await ok(['history', uri, ...(opts.extra || [])], opts)).out.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  check(hist[0].version === vBefore + 2 && hist[0].operation === 'VACUUM END' && hist[0].operationMetrics.numDeletedFiles === String(dry.files) &&
        hist[1].version === vBefore + 1 && hist[1].operation === 'VACUUM START' && hist[1].operationParameters.retentionCheckEnabled === false &&
        hist[2].operation === 'RESTORE', `${label}: history shows VACUUM END, VACUUM START, RESTORE (${hist.slice(0, 3).map((h) => h.operation)})`);
  snap = await verify(store, uri, rowsOf(), `${label} after vacuum`, null, opts);
  const after = (await dataKeys()).sort();
  const active = [...snap.files.keys()].map(decodeURIComponent).sort();
  check(JSON.stringify(after) === JSON.stringify(active), `${label}: after vacuum only active files remain (${after.length} vs ${active.length})`);
  // a version whose files were vacuumed (the optimized files of version 10,
  // dropped by the restore) cannot be restored, and says so
  r = await run(['restore', uri, '--version', '10', ...(opts.extra || [])], opts);
  check(r.code !== 0 && /vacuum|gone/.test(r.err), `${label}: restore of a vacuumed version fails clearly`);
  return { model, rowsOf };
}

async function concurrentWriters(label, uri, store, opts, model) {
  const jobs = [];
  const expect = [];
  for (let w = 0; w < 3; w++) {
    jobs.push((async () => {
      for (let i = 0; i < 4; i++) {
        const rows = makeRows(2, `w${w}`);
        const r = await run(['append', uri, '--input', '-', ...(opts.extra || [])], { ...opts, input: jsonl(rows) });
        if (r.code === 0) expect.push(...rows);
        else check(r.code === 3, `${label}: a failed concurrent append must be a conflict (exit ${r.code}: ${r.err.trim()})`);
      }
    })());
  }
  const v0 = (await reader.snapshot(store)).version;
  await Promise.all(jobs);
  for (const row of expect) model.set(row.id, row);
  const snap = await verify(store, uri, [...model.values()], `${label} after concurrent writers`, null, opts);
  const commits = snap.version - v0;
  check(commits === expect.length / 2, `${label}: one commit per successful append (${commits} vs ${expect.length / 2})`);
  if (commits !== expect.length / 2) {
    for (let v = v0 + 1; v <= snap.version; v++) {
      const text = (await store.get(`_delta_log/${String(v).padStart(20, '0')}.json`)).toString();
      console.error(`  version ${v}: ${text.split('\n').filter((l) => l.includes('"add"')).map((l) => JSON.parse(l).add.path).join(' ')}`);
    }
  }
}

// ---- type widening ----
const WSCHEMA = JSON.stringify({ type: 'struct', fields: [
  { name: 'id', type: 'long', nullable: false, metadata: {} },
  { name: 'n', type: 'integer', nullable: true, metadata: {} },
  { name: 's', type: 'short', nullable: true, metadata: {} },
  { name: 'f', type: 'float', nullable: true, metadata: {} },
  { name: 'x', type: 'integer', nullable: true, metadata: {} },
  { name: 'd', type: 'date', nullable: true, metadata: {} },
  { name: 'country', type: 'string', nullable: true, metadata: {} },
] });
// dates and timestamps as "YYYY-MM-DD HH:MM:SS" whoever printed them (model, sesp, DuckDB)
function normTime(rows) {
  return rows.map((r) => {
    if (typeof r.d !== 'string') return r;
    let d = r.d.replace('T', ' ').replace(/\.0+$/, '');
    if (d.length === 10) d += ' 00:00:00';
    return { ...r, d };
  });
}
async function wverify(store, uri, model, label, version) {
  const snap = await reader.snapshot(store, version);
  const rows = normTime(await reader.readRows(store, snap));
  const want = normTime(model);
  check(same(rows, want), `${label}: independent reader: ${same(rows, want) ? '' : diff(rows, want)}`);
  const args = ['scan', uri];
  if (version !== undefined && version !== null) args.push('--version', String(version));
  const cli = normTime((await ok(args)).out.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l)));
  check(same(cli, want), `${label}: sesp table scan: ${same(cli, want) ? '' : diff(cli, want)}`);
  return snap;
}
const fieldOf = (metaData, name) => JSON.parse(metaData.schemaString).fields.find((f) => f.name === name);
const commitActions = async (store, v) => (await store.get(`_delta_log/${String(v).padStart(20, '0')}.json`)).toString()
  .split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));

async function typeWidening(tmp) {
  const dir = path.join(tmp, 'widening');
  const uri = `file://${dir}`;
  const store = reader.localStore(dir);
  const model = new Map();
  const put = (rows) => { for (const r of rows) model.set(r.id, r); };
  await ok(['create', uri, '--schema', WSCHEMA, '--partition-by', 'country', '--config', 'delta.enableTypeWidening=true',
            '--config', 'delta.checkpointInterval=3']);
  let proto = JSON.parse((await ok(['describe', uri])).out).protocol;
  check(proto.minReaderVersion === 3 && proto.minWriterVersion === 7 && proto.readerFeatures.includes('typeWidening') &&
        proto.writerFeatures.includes('typeWidening'), `widening: the table is created with the typeWidening feature ${JSON.stringify(proto)}`);
  const narrow = [{ id: 1, n: 5, s: 3, f: 1.5, x: 7, d: '2024-01-01', country: 'fr' },
                  { id: 2, n: -6, s: -300, f: -2.25, x: 0, d: '1999-12-31', country: 'us' }];
  await ok(['append', uri, '--input', '-'], { input: jsonl(narrow) });
  put(narrow);
  const v1 = [...model.values()];
  await wverify(store, uri, v1, 'widening: narrow append');
  // values that need wider columns: integer -> long, short -> integer, float -> double, integer -> double, date -> timestamp_ntz
  const wide = [{ id: 3, n: 3000000000, s: 70000, f: 1e300, x: 2.5, d: '2024-01-02T03:04:05', country: 'fr' }];
  let r = await ok(['append', uri, '--input', '-'], { input: jsonl(wide) });
  check(JSON.parse(r.out).version === 2, 'widening: the wide append is version 2');
  put(wide);
  const acts = await commitActions(store, 2);
  const md = acts.find((a) => a.metaData);
  const want = { n: ['integer', 'long'], s: ['short', 'integer'], f: ['float', 'double'], x: ['integer', 'double'], d: ['date', 'timestamp_ntz'] };
  for (const [col, [from, to]] of Object.entries(want)) {
    const f = md && fieldOf(md.metaData, col);
    const tc = f && f.metadata['delta.typeChanges'];
    check(f && f.type === to && tc && tc.length === 1 && tc[0].fromType === from && tc[0].toType === to && !tc[0].fieldPath,
          `widening: version 2 widens ${col} ${from} -> ${to} and records it (${JSON.stringify(f)})`);
  }
  check(md && !fieldOf(md.metaData, 'id').metadata['delta.typeChanges'], 'widening: unchanged columns record nothing');
  const p2 = acts.find((a) => a.protocol);
  check(p2 && p2.protocol.readerFeatures.includes('timestampNtz') && p2.protocol.readerFeatures.includes('typeWidening') &&
        p2.protocol.writerFeatures.includes('appendOnly'), `widening: version 2 adds timestampNtz, keeps the rest ${JSON.stringify(p2)}`);
  check(acts.some((a) => a.add) && acts.some((a) => a.commitInfo && a.commitInfo.isBlindAppend === false), 'widening: data in the same commit');
  await wverify(store, uri, [...model.values()], 'widening: after the wide append');
  // another narrow append is version 3: a checkpoint, read back by both readers
  const more = [{ id: 4, n: 8, s: 1, f: 0.5, x: 3, d: '2024-01-03', country: 'us' }];
  await ok(['append', uri, '--input', '-'], { input: jsonl(more) });
  put(more);
  let snap = await wverify(store, uri, [...model.values()], 'widening: from checkpoint 3');
  check(snap.checkpoint === 3, `widening: the reader started from checkpoint 3 (${snap.checkpoint})`);
  // OPTIMIZE rewrites the old files with the wide types
  await ok(['optimize', uri]);
  snap = await wverify(store, uri, [...model.values()], 'widening: after optimize');
  const fr = [...snap.files.values()].find((a) => a.partitionValues.country === 'fr');
  const cols = fr ? await reader.fileColumns(await store.localPath(decodeURIComponent(fr.path))) : [];
  const typeOf = (c) => (cols.find((x) => x.name === c) || {}).type;
  check(typeOf('n') === 'BIGINT' && typeOf('s') === 'INTEGER' && typeOf('f') === 'DOUBLE' && typeOf('x') === 'DOUBLE' && typeOf('d') === 'TIMESTAMP',
        `widening: the optimized file has the wide types ${JSON.stringify(cols)}`);
  // DELETE on a widened column, MERGE with a value that widens s again (integer -> long)
  await ok(['delete', uri, '--where', 'n > 100']);
  model.delete(3);
  await wverify(store, uri, [...model.values()], 'widening: after delete');
  const upd = [{ id: 2, n: -6, s: 5000000000, f: -2.25, x: 1.25, d: '2000-01-01T12:00:00', country: 'us' }];
  await ok(['merge', uri, '--input', '-', '--key', 'id'], { input: jsonl(upd) });
  put(upd);
  snap = await wverify(store, uri, [...model.values()], 'widening: after merge');
  const tc = fieldOf(snap.metaData, 's').metadata['delta.typeChanges'];
  check(tc.length === 2 && tc[1].fromType === 'integer' && tc[1].toType === 'long', `widening: s has two recorded changes ${JSON.stringify(tc)}`);
  // time travel to before the change: the narrow schema, no casts
  await wverify(store, uri, v1, 'widening: version 1', 1);

  // without the property the write is refused and names the column
  const dir2 = path.join(tmp, 'no-widening');
  const uri2 = `file://${dir2}`;
  await ok(['create', uri2, '--schema', WSCHEMA]);
  await ok(['append', uri2, '--input', '-'], { input: jsonl(narrow) });
  r = await run(['append', uri2, '--input', '-'], { input: jsonl([{ id: 9, n: 3000000000, country: 'fr' }]) });
  check(r.code !== 0 && /column n/.test(r.err) && /delta\.enableTypeWidening/.test(r.err), `widening: refused without the property: ${r.err.trim()}`);
  const d2 = JSON.parse((await ok(['describe', uri2])).out);
  check(d2.version === 1 && d2.protocol.minReaderVersion === 1, 'widening: the refused write committed nothing');
  // ... until the property is set
  await ok(['set-properties', uri2, '--config', 'delta.enableTypeWidening=true']);
  await ok(['append', uri2, '--input', '-'], { input: jsonl([{ id: 9, n: 3000000000, country: 'fr' }]) });
  await wverify(reader.localStore(dir2), uri2, [...narrow, { id: 9, n: 3000000000, s: null, f: null, x: null, d: null, country: 'fr' }],
                'widening: after set-properties');
}

// ---- type widening inside structs, arrays and maps ----
const NSCHEMA = JSON.stringify({ type: 'struct', fields: [
  { name: 'id', type: 'long', nullable: false, metadata: {} },
  { name: 'st', type: { type: 'struct', fields: [
    { name: 'a', type: 'integer', nullable: true, metadata: {} },
    { name: 'd', type: 'date', nullable: true, metadata: {} },
    { name: 'inner', type: { type: 'struct', fields: [{ name: 'b', type: 'short', nullable: true, metadata: {} }] }, nullable: true, metadata: {} }] },
    nullable: true, metadata: {} },
  { name: 'arr', type: { type: 'array', elementType: 'integer', containsNull: true }, nullable: true, metadata: {} },
  { name: 'm', type: { type: 'map', keyType: 'string', valueType: 'integer', valueContainsNull: true }, nullable: true, metadata: {} },
  { name: 'aos', type: { type: 'array', elementType: { type: 'struct', fields: [{ name: 'v', type: 'integer', nullable: true, metadata: {} }] },
                         containsNull: true }, nullable: true, metadata: {} },
] });
// nested dates and timestamps as "YYYY-MM-DD HH:MM:SS" whoever printed them
function normNested(rows) {
  return rows.map((r) => {
    if (!r.st || typeof r.st.d !== 'string') return r;
    let d = r.st.d.replace('T', ' ').replace(/\.0+$/, '');
    if (d.length === 10) d += ' 00:00:00';
    return { ...r, st: { ...r.st, d } };
  });
}
async function nestedWidening(tmp) {
  const dir = path.join(tmp, 'widening-nested');
  const uri = `file://${dir}`;
  const store = reader.localStore(dir);
  const label = 'nested widening';
  const check2 = async (what, model, version) => {
    const snap = await reader.snapshot(store, version);
    const rows = normNested(await reader.readRows(store, snap));
    const want = normNested(model);
    check(same(rows, want), `${label} ${what}: independent reader: ${same(rows, want) ? '' : diff(rows, want)}`);
    const args = ['scan', uri];
    if (version !== undefined) args.push('--version', String(version));
    const cli = normNested((await ok(args)).out.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l)));
    check(same(cli, want), `${label} ${what}: sesp table scan: ${same(cli, want) ? '' : diff(cli, want)}`);
  };
  await ok(['create', uri, '--schema', NSCHEMA, '--config', 'delta.enableTypeWidening=true']);
  const narrow = [{ id: 1, st: { a: 5, d: '2024-01-01', inner: { b: 3 } }, arr: [1, 2], m: { k: 7 }, aos: [{ v: 1 }] },
                  { id: 2, st: null, arr: null, m: null, aos: [] }];
  await ok(['append', uri, '--input', '-'], { input: jsonl(narrow) });
  const wide = [{ id: 3, st: { a: 3000000000, d: '2024-01-02T03:04:05', inner: { b: 70000 } }, arr: [3000000000, null],
                  m: { k: 3000000000, j: null }, aos: [{ v: 3000000000 }, null] }];
  await ok(['append', uri, '--input', '-'], { input: jsonl(wide) });
  const md = (await commitActions(store, 2)).find((a) => a.metaData);
  const sch = md && JSON.parse(md.metaData.schemaString);
  const f = (name) => sch.fields.find((x) => x.name === name);
  const tc = (field) => JSON.stringify((field && field.metadata['delta.typeChanges']) || null);
  const st = f('st');
  check(st && tc(st) === 'null' && tc(st.type.fields[0]) === JSON.stringify([{ fromType: 'integer', toType: 'long' }]) &&
        tc(st.type.fields[1]) === JSON.stringify([{ fromType: 'date', toType: 'timestamp_ntz' }]) &&
        tc(st.type.fields[2].type.fields[0]) === JSON.stringify([{ fromType: 'short', toType: 'integer' }]),
        `${label}: struct fields record their own changes ${JSON.stringify(st)}`);
  check(tc(f('arr')) === JSON.stringify([{ fieldPath: 'element', fromType: 'integer', toType: 'long' }]) && f('arr').type.elementType === 'long',
        `${label}: an array element's change is recorded on the array's field with fieldPath element ${JSON.stringify(f('arr'))}`);
  check(tc(f('m')) === JSON.stringify([{ fieldPath: 'value', fromType: 'integer', toType: 'long' }]),
        `${label}: a map value's change has fieldPath value ${JSON.stringify(f('m'))}`);
  check(tc(f('aos')) === 'null' && tc(f('aos').type.elementType.fields[0]) === JSON.stringify([{ fromType: 'integer', toType: 'long' }]),
        `${label}: a struct inside an array records on its own field ${JSON.stringify(f('aos'))}`);
  check(reader.typeChanges(sch.fields).size === 6, `${label}: the reader sees 6 changed places`);
  await check2('after the wide append', [...narrow, ...wide]);
  await check2('version 1 (before the change)', narrow, 1);
  await ok(['optimize', uri]);
  await check2('after optimize', [...narrow, ...wide]);

  // the reader refuses type change records that do not hold; each case is a
  // copy of the table with one more metaData commit
  const cases = [
    ['a narrowing', (s2) => { s2.fields[1].type.fields[0].metadata['delta.typeChanges'] = [{ fromType: 'long', toType: 'integer' }]; },
     /not a type widening/],
    ['a last toType that is not the schema\'s', (s2) => { s2.fields[2].metadata['delta.typeChanges'] = [{ fieldPath: 'element', fromType: 'short', toType: 'integer' }]; },
     /last recorded change/],
    ['a fieldPath leading nowhere', (s2) => { s2.fields[3].metadata['delta.typeChanges'] = [{ fieldPath: 'element', fromType: 'integer', toType: 'long' }]; },
     /does not lead anywhere/],
    ['changes that do not chain', (s2) => { s2.fields[3].metadata['delta.typeChanges'] = [{ fieldPath: 'value', fromType: 'byte', toType: 'short' },
                                                                                       { fieldPath: 'value', fromType: 'integer', toType: 'long' }]; },
     /follows one to short/],
    ['a map value change that is not recorded', (s2) => { delete s2.fields[3].metadata['delta.typeChanges']; }, /m#value is INTEGER in the file/],
    ['a nested struct field change that is not recorded', (s2) => { delete s2.fields[1].type.fields[2].type.fields[0].metadata['delta.typeChanges']; },
     /st\.inner\.b.* is SMALLINT in the file/],
  ];
  const latest = (await reader.snapshot(store)).version;
  let n = 0;
  for (const [what, mutate, re] of cases) {
    const copy = path.join(tmp, `widening-nested-bad-${++n}`);
    fs.cpSync(dir, copy, { recursive: true });
    for (const cp of fs.readdirSync(path.join(copy, '_delta_log')).filter((x) => /checkpoint|_last/.test(x))) fs.rmSync(path.join(copy, '_delta_log', cp));
    const snap = await reader.snapshot(reader.localStore(copy));
    const s2 = JSON.parse(snap.metaData.schemaString);
    mutate(s2);
    // the files of version 1 (narrow types) again, so the data needs the records
    const v1 = (await commitActions(store, 1)).filter((a) => a.add).map((a) => JSON.stringify(a));
    const next = [JSON.stringify({ commitInfo: { operation: 'TEST' } }), JSON.stringify({ metaData: { ...snap.metaData, schemaString: JSON.stringify(s2) } }), ...v1];
    fs.writeFileSync(path.join(copy, '_delta_log', `${String(latest + 1).padStart(20, '0')}.json`), next.join('\n') + '\n');
    let err = '';
    try { await reader.readRows(reader.localStore(copy), await reader.snapshot(reader.localStore(copy))); } catch (e) { err = String(e.message); }
    check(re.test(err), `${label}: the reader refuses ${what}: ${err}`);
  }
}

// ---- per-file stats: timestamps, decimals, long strings ----
const STSCHEMA = JSON.stringify({ type: 'struct', fields: [
  { name: 'id', type: 'long', nullable: false, metadata: {} },
  { name: 'p', type: 'string', nullable: true, metadata: {} },
  { name: 'ts', type: 'timestamp', nullable: true, metadata: {} },
  { name: 'ntz', type: 'timestamp_ntz', nullable: true, metadata: {} },
  { name: 'd', type: 'decimal(18,4)', nullable: true, metadata: {} },
  { name: 'small', type: 'decimal(5,2)', nullable: true, metadata: {} },
  { name: 's', type: 'string', nullable: true, metadata: {} },
  { name: 'dt', type: 'date', nullable: true, metadata: {} },
  { name: 'flag', type: 'boolean', nullable: true, metadata: {} },
  { name: 'st', type: { type: 'struct', fields: [
    { name: 't', type: 'timestamp', nullable: true, metadata: {} },
    { name: 'u', type: 'string', nullable: true, metadata: {} }] }, nullable: true, metadata: {} },
] });
// microseconds -> "YYYY-MM-DDTHH:MM:SS.ffffff" (UTC, no zone)
function isoUs(us) {
  const ms = us / 1000n - (us % 1000n < 0n ? 1n : 0n);
  return new Date(Number(ms)).toISOString().slice(0, 23) + String(((us % 1000n) + 1000n) % 1000n).padStart(3, '0');
}
// Rows of partition p whose true values (micros, unscaled decimals) go to truth.
let statsId = 0;
function statsRows(n, p, truth) {
  const strs = [
    (i) => 'é'.repeat(31) + 'ü' + `-${i}-` + 'x'.repeat(40),          // two-byte letters across the cut
    (i) => '😀'.repeat(20 + (i % 20)) + `${i}`,                         // four-byte
    (i) => 'x' + '\uffff'.repeat(40) + `${i}`,                           // U+FFFF cannot be raised
    (i) => `short ${i}`,
    (i) => '漢字'.repeat(25) + `${i}`,                                     // three-byte
    (i) => 'z'.repeat(32),                                                // exactly the prefix
    () => null,
  ];
  const rows = [];
  for (let k = 0; k < n; k++) {
    const id = ++statsId, i = id;
    const tsUs = 1704164645123456n + BigInt(i) * 1000777n * (i % 2 ? 1n : -1n);   // sub-millisecond digits
    let ts;
    switch (i % 5) {
      case 0: ts = isoUs(tsUs) + 'Z'; break;
      case 1: ts = Number(tsUs); break;                                            // microseconds
      case 2: ts = isoUs(tsUs + 7200000000n) + '+02:00'; break;                   // an offset: same instant
      case 3: ts = isoUs(-123456789n - BigInt(i)) + 'Z'; break;                   // before 1970
      default: ts = null;
    }
    const tsTrue = ts === null ? null : i % 5 === 3 ? -123456789n - BigInt(i) : tsUs;
    const ntzUs = 1700000000000001n + BigInt(i) * 999999n;
    const dU = (i % 2 ? -1n : 1n) * (999999999999999999n - BigInt(i) * 3n);       // 18 digits
    const dStr = (dU < 0n ? '-' : '') + (dU < 0n ? -dU : dU).toString().replace(/(\d{4})$/, '.$1');
    const small = ((i * 37) % 20000) - 10000;
    const sv = strs[i % strs.length](i);
    rows.push({ id, p, ts, ntz: isoUs(ntzUs).replace('T', ' '), d: i % 6 === 5 ? null : dStr,
                small: i % 3 ? (small / 100).toFixed(2) : small / 100, s: sv,
                dt: i % 2 ? `20${10 + (i % 15)}-0${1 + (i % 9)}-1${i % 10}` : 15000 + i, flag: i % 2 === 0,
                st: i % 4 === 3 ? null : { t: isoUs(tsUs) + 'Z', u: sv } });
    truth.set(id, { ts: tsTrue, ntz: ntzUs, d: i % 6 === 5 ? null : dU, s: sv });
  }
  return rows;
}
const cps = (s) => [...s];
async function statsTable(tmp) {
  const dir = path.join(tmp, 'stats');
  const uri = `file://${dir}`;
  const store = reader.localStore(dir);
  const truth = new Map();
  await ok(['create', uri, '--schema', STSCHEMA, '--partition-by', 'p', '--config', 'delta.checkpointInterval=3']);
  for (const batch of [['a', 'b', 'c'], ['a', 'c'], ['nul', 'top']]) {
    const rows = batch.flatMap((p) => statsRows(p.length === 1 ? 23 : 5, p, truth));
    for (const r of rows) {
      const t = truth.get(r.id);
      // a file whose ts and s are all null; one whose greatest string has no upper bound within the prefix
      if (r.p === 'nul') r.ts = r.s = t.ts = t.s = null;
      if (r.p === 'top') r.s = t.s = r.id % 2 ? 'x' + '\uffff'.repeat(40) + r.id : '\u{10ffff}'.repeat(40) + r.id;
    }
    await ok(['append', uri, '--input', '-'], { input: jsonl(rows) });
  }
  // each read checks every file's bounds and null counts against DuckDB
  const label = 'stats';
  const check1 = async (what) => {
    const before = reader.statsChecked();
    const snap = await reader.snapshot(store);
    const rows = await reader.readRows(store, snap);
    check(rows.length === truth.size, `${label} ${what}: ${rows.length} rows, want ${truth.size}`);
    check(reader.statsChecked() - before > snap.files.size * 15, `${label} ${what}: bounds checked (${reader.statsChecked() - before})`);
    // and the bounds are the tightest the format allows, from the values written
    for (const add of snap.files.values()) {
      const st = reader.parseJsonRaw(add.stats);
      const ids = await reader.fileIds(await store.localPath(decodeURIComponent(add.path)));
      const vals = (k) => ids.map((id) => truth.get(id)[k]).filter((v) => v !== null);
      const big = (a) => a.reduce((x, y) => (y < x ? y : x));
      const bigMax = (a) => a.reduce((x, y) => (y > x ? y : x));
      const floorMs = (us) => us / 1000n * 1000n - (us % 1000n < 0n ? 1000n : 0n);
      const ceilMs = (us) => -floorMs(-us);
      const where = `${label} ${what} ${add.partitionValues.p}`;
      const tsv = vals('ts');
      if (tsv.length) {
        check(st.minValues.ts && reader.isoMicros(st.minValues.ts) === floorMs(big(tsv)) && st.minValues.ts.endsWith('Z'),
              `${where}: ts min ${st.minValues.ts} is the least value truncated to ms (${big(tsv)})`);
        check(st.maxValues.ts && reader.isoMicros(st.maxValues.ts) === ceilMs(bigMax(tsv)),
              `${where}: ts max ${st.maxValues.ts} is the greatest value rounded up to ms (${bigMax(tsv)})`);
      } else {
        check(!('ts' in st.minValues) && !('ts' in st.maxValues) && Number(st.nullCount.ts.num) === ids.length,
              `${where}: an all-null ts has no bounds and nullCount ${ids.length} (${add.stats})`);
      }
      const ntz = vals('ntz');
      check(st.minValues.ntz && !st.minValues.ntz.endsWith('Z') && reader.isoMicros(st.minValues.ntz) === floorMs(big(ntz)) &&
            reader.isoMicros(st.maxValues.ntz) === ceilMs(bigMax(ntz)), `${where}: ntz bounds ${st.minValues.ntz} .. ${st.maxValues.ntz}`);
      const dv = vals('d');
      if (dv.length) {
        check(st.minValues.d && reader.unscaled(st.minValues.d.num, 4) === big(dv) && reader.unscaled(st.maxValues.d.num, 4) === bigMax(dv),
              `${where}: decimal bounds ${st.minValues.d && st.minValues.d.num} .. ${st.maxValues.d && st.maxValues.d.num} are exact`);
      }
      const sv = vals('s');
      if (sv.length) {
        const lo = sv.reduce((x, y) => (Buffer.compare(Buffer.from(y), Buffer.from(x)) < 0 ? y : x));
        const hi = sv.reduce((x, y) => (Buffer.compare(Buffer.from(y), Buffer.from(x)) > 0 ? y : x));
        check(st.minValues.s === cps(lo).slice(0, 32).join(''), `${where}: string min is the least value's first 32 code points`);
        const mx = st.maxValues.s;
        if (cps(hi).slice(0, 33).every((ch) => ch === '\u{10ffff}')) {
          check(mx === undefined, `${where}: no string max when nothing sorts above the greatest value's prefix (${JSON.stringify(mx)})`);
        } else {
          check(typeof mx === 'string' && cps(mx).length <= 32 && Buffer.compare(Buffer.from(mx), Buffer.from(hi)) >= 0 &&
                (cps(hi).length > 32 || mx === hi), `${where}: string max ${JSON.stringify(mx)} bounds ${JSON.stringify(hi.slice(0, 40))}`);
        }
      }
      check(!('flag' in st.minValues) && 'flag' in st.nullCount, `${where}: boolean has a nullCount only`);
    }
    return snap;
  };
  let snap = await check1('after appends');
  check(snap.checkpoint === 3, `${label}: read from checkpoint 3 (${snap.checkpoint})`);
  // Spark's checkpoints may also carry the stats typed, as add.stats_parsed:
  // rewrite checkpoint 3 so with DuckDB, and SESP must read past it
  const ts = 'TIMESTAMP WITH TIME ZONE';
  const bounds = { ts, ntz: 'TIMESTAMP', d: 'DECIMAL(18,4)', small: 'DECIMAL(5,2)', s: 'VARCHAR', dt: 'DATE', st: { t: ts, u: 'VARCHAR' } };
  const nulls = Object.fromEntries(Object.entries(bounds).map(([k, v]) => [k, typeof v === 'string' ? 'BIGINT' : { t: 'BIGINT', u: 'BIGINT' }]));
  nulls.flag = 'BIGINT';
  const shape = JSON.stringify({ numRecords: 'BIGINT', minValues: bounds, maxValues: bounds, nullCount: nulls });
  const cpFile = await store.localPath('_delta_log/00000000000000000003.checkpoint.parquet');
  const db = await reader.conn();
  await db.run(`COPY (SELECT * REPLACE (CASE WHEN add IS NULL THEN NULL ELSE struct_insert(add, stats_parsed := json_transform(add.stats, '${shape}')) END AS add)
                FROM read_parquet('${cpFile}')) TO '${cpFile}.tmp' (FORMAT PARQUET)`);
  fs.renameSync(`${cpFile}.tmp`, cpFile);
  const parsed = (await db.runAndReadAll(`SELECT count(*) AS n FROM read_parquet('${cpFile}') WHERE add.stats_parsed.minValues.ts IS NOT NULL`)).getRowObjectsJson();
  check(Number(parsed[0].n) > 0, `${label}: checkpoint 3 now has add.stats_parsed (${JSON.stringify(parsed)})`);
  const sc = await ok(['scan', uri]);
  const scanned = sc.out.split('\n').filter((l) => l.trim()).length;
  check(scanned === truth.size && !/checkpoint/.test(sc.err),
        `${label}: sesp scans the table from a checkpoint with stats_parsed (${scanned} rows) ${sc.err.trim()}`);
  await ok(['optimize', uri]);
  await check1('after optimize');
  // DELETE rewrites the a and b files without their rows below id 30
  const r = await ok(['delete', uri, '--where', 'id < 30']);
  check(JSON.parse(r.out).rowsDeleted === 29, `${label}: delete removed 29 rows (${r.out.trim()})`);
  for (const id of [...truth.keys()]) if (id < 30) truth.delete(id);
  await check1('after delete');
}

// ---- which columns get stats: delta.dataSkippingNumIndexedCols / delta.dataSkippingStatsColumns ----
// 30 longs, then a struct: with the partition column p left out and struct
// leaves counted one by one, the default 32 ends inside the struct.
const LIMSCHEMA = JSON.stringify({ type: 'struct', fields: [
  { name: 'id', type: 'long', nullable: false, metadata: {} },
  { name: 'p', type: 'string', nullable: true, metadata: {} },
  ...Array.from({ length: 30 }, (_, i) => ({ name: `c${i + 1}`, type: 'long', nullable: true, metadata: {} })),
  { name: 'st', type: { type: 'struct', fields: [
    { name: 'x', type: 'long', nullable: true, metadata: {} }, { name: 'y', type: 'string', nullable: true, metadata: {} },
    { name: 'z', type: 'date', nullable: true, metadata: {} }] }, nullable: true, metadata: {} },
  { name: 'tail', type: 'string', nullable: true, metadata: {} },
  { name: 'flag', type: 'boolean', nullable: true, metadata: {} },
] });
let limId = 0;
function limRows(n) {
  return Array.from({ length: n }, () => {
    const id = ++limId;
    const r = { id, p: ['a', 'b'][id % 2] };
    for (let i = 1; i <= 30; i++) r[`c${i}`] = id % 7 === 0 ? null : id * 100 + i;
    r.st = id % 5 === 0 ? null : { x: -id, y: `y${id}`, z: `2024-01-${String(1 + (id % 28)).padStart(2, '0')}` };
    r.tail = id % 3 ? `t${id}` : null;
    r.flag = id % 2 === 0;
    return r;
  });
}
// The leaf paths a stats section names ("c1", "st.x").
function statPaths(o, prefix = '') {
  if (!o) return [];
  return Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' && !(v instanceof reader.Num) && !Array.isArray(v)
    ? statPaths(v, `${prefix}${k}.`) : [`${prefix}${k}`]));
}
async function statsLimits(tmp) {
  const dir = path.join(tmp, 'stats-limits');
  const uri = `file://${dir}`;
  const store = reader.localStore(dir);
  const model = new Map();
  const label = 'stats limits';
  await ok(['create', uri, '--schema', LIMSCHEMA, '--partition-by', 'p']);
  // checks at create and set-properties, as Delta does
  const bad = [['delta.dataSkippingNumIndexedCols=-2', /dataSkippingNumIndexedCols.*-1/],
               ['delta.dataSkippingNumIndexedCols=ten', /dataSkippingNumIndexedCols/],
               ['delta.dataSkippingStatsColumns=nope', /column nope does not exist/],
               ['delta.dataSkippingStatsColumns=p', /partition column/],
               ['delta.dataSkippingStatsColumns=flag', /flag has type boolean/],
               ['delta.dataSkippingStatsColumns=st.x,ST.X', /more than once/],
               ['delta.dataSkippingStatsColumns=c1 c2', /comma-separated/]];
  for (const [cfg, re] of bad) {
    const r1 = await run(['create', path.join(tmp, 'stats-limits-bad'), '--schema', LIMSCHEMA, '--partition-by', 'p', '--config', cfg]);
    check(r1.code !== 0 && re.test(r1.err) && !fs.existsSync(path.join(tmp, 'stats-limits-bad', '_delta_log', '00000000000000000000.json')),
          `${label}: create refuses ${cfg}: ${r1.err.trim()}`);
    const r2 = await run(['set-properties', uri, '--config', cfg]);
    check(r2.code !== 0 && re.test(r2.err), `${label}: set-properties refuses ${cfg}: ${r2.err.trim()}`);
  }
  check((await reader.snapshot(store)).version === 0, `${label}: the refused property changes committed nothing`);
  const leaves = ['id', ...Array.from({ length: 30 }, (_, i) => `c${i + 1}`), 'st.x', 'st.y', 'st.z', 'tail', 'flag'];
  const bounded = (l) => l !== 'flag';
  // each step: the configuration, then the leaves the new files must have stats for
  const steps = [
    [null, leaves.slice(0, 32)],                                                      // the default: id, c1..c30, st.x
    ['delta.dataSkippingNumIndexedCols=-1', leaves],
    ['delta.dataSkippingNumIndexedCols=3', ['id', 'c1', 'c2']],
    ['delta.dataSkippingStatsColumns=tail, `St`.z ,c30', ['c30', 'st.z', 'tail']],  // overrides NumIndexedCols
    ['delta.dataSkippingStatsColumns=st', ['st.x', 'st.y', 'st.z']],
    ['delta.dataSkippingStatsColumns=', []],
  ];
  for (const [cfg, want] of steps) {
    if (cfg) await ok(['set-properties', uri, '--config', cfg]);
    const v0 = (await reader.snapshot(store)).version;
    const rows = limRows(9);
    await ok(['append', uri, '--input', '-'], { input: jsonl(rows) });
    for (const r of rows) model.set(r.id, r);
    const adds = (await commitActions(store, v0 + 1)).filter((a) => a.add).map((a) => a.add);
    check(adds.length === 2, `${label} ${cfg}: two files (${adds.length})`);
    for (const a of adds) {
      const st = reader.parseJsonRaw(a.stats);
      const nulls = statPaths(st.nullCount).sort(), mins = statPaths(st.minValues).sort(), maxs = statPaths(st.maxValues).sort();
      const wantNulls = [...want].sort(), wantMins = want.filter(bounded).sort();
      check(st.numRecords instanceof reader.Num && JSON.stringify(nulls) === JSON.stringify(wantNulls) &&
            JSON.stringify(mins) === JSON.stringify(wantMins) && JSON.stringify(maxs) === JSON.stringify(wantMins) &&
            (want.length > 0 || Object.keys(st).join() === 'numRecords'),
            `${label} ${cfg}: stats for exactly ${want.join(',') || 'nothing'}: ${a.stats}`);
    }
  }
  // the independent reader checks every bound that exists against the data
  const before = reader.statsChecked();
  let snap = await verify(store, uri, [...model.values()], `${label} after appends`);
  check(reader.statsChecked() - before > 100, `${label}: bounds checked (${reader.statsChecked() - before})`);
  // OPTIMIZE writes its files under the current rule (no columns at all)
  await ok(['set-properties', uri, '--config', 'delta.dataSkippingStatsColumns=c5,st.y']);
  await ok(['optimize', uri]);
  snap = await verify(store, uri, [...model.values()], `${label} after optimize`);
  check(snap.files.size === 2, `${label}: optimize left one file per partition (${snap.files.size})`);
  for (const a of snap.files.values()) {
    const st = reader.parseJsonRaw(a.stats);
    check(JSON.stringify(statPaths(st.nullCount).sort()) === JSON.stringify(['c5', 'st.y']) && Number(st.numRecords.num) === 27,
          `${label}: the optimized file has stats for c5 and st.y only: ${a.stats}`);
  }
}

// ---- decimals of 19 to 38 digits: FIXED_LEN_BYTE_ARRAY, exact both ways ----
// JSON and DuckDB's to_json carry decimals as doubles, so values are compared
// as text here: sesp scan prints strings, DuckDB casts to VARCHAR.
const DSCHEMA = JSON.stringify({ type: 'struct', fields: [
  { name: 'id', type: 'long', nullable: false, metadata: {} },
  { name: 'big', type: 'decimal(38,18)', nullable: true, metadata: {} },
  { name: 'mid', type: 'decimal(20,0)', nullable: true, metadata: {} },
  { name: 'x10', type: 'decimal(38,10)', nullable: true, metadata: {} },
  { name: 'st', type: { type: 'struct', fields: [{ name: 'v', type: 'decimal(25,5)', nullable: true, metadata: {} }] }, nullable: true, metadata: {} },
  { name: 'arr', type: { type: 'array', elementType: 'decimal(19,2)', containsNull: true }, nullable: true, metadata: {} },
  { name: 'p', type: 'string', nullable: true, metadata: {} },
] });
// unscaled BigInt at scale -> the text both readers print ("-0.050")
function decStr(u, scale) {
  const neg = u < 0n, digits = (neg ? -u : u).toString().padStart(scale + 1, '0');
  return (neg ? '-' : '') + (scale ? `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}` : digits);
}
const max = (digits) => 10n ** BigInt(digits) - 1n;
function wideDecimalRows(first, n, p) {
  const rows = [];
  for (let id = first; id < first + n; id++) {
    const k = BigInt(id), sign = id % 2 ? -1n : 1n;
    // the extremes of each precision on the first rows, then values that differ only past digit 18
    const big = id === 1 ? max(38) : id === 2 ? -max(38) : id % 7 === 3 ? null : sign * (12345678901234567890123456789n * k + k);
    const mid = id === 1 ? -max(20) : id === 2 ? max(20) : id % 5 === 4 ? null : sign * (max(20) - k * 1000003n);
    const x10 = id === 3 ? max(38) : id === 4 ? -max(38) : sign * k * 10n ** 20n + k;
    const v = id % 6 === 5 ? null : id === 1 ? -max(25) : sign * (k * 98765432109876543n);
    const arr = id % 4 === 3 ? null : id % 4 === 2 ? [] : [max(19) - k, null, -k * 3n];
    rows.push({ id, big: big === null ? null : decStr(big, 18), mid: mid === null ? null : decStr(mid, 0), x10: decStr(x10, 10),
                st: id % 9 === 8 ? null : { v: v === null ? null : decStr(v, 5) }, arr: arr && arr.map((x) => (x === null ? null : decStr(x, 2))), p });
  }
  return rows;
}
// every row of every active file, as DuckDB reads it, cast to text
async function duckDecimalRows(store, snap) {
  const db = await reader.conn();
  const out = [];
  for (const add of snap.files.values()) {
    const file = await store.localPath(decodeURIComponent(add.path));
    const r = await db.runAndReadAll(`SELECT id, big::VARCHAR AS big, mid::VARCHAR AS mid, x10::VARCHAR AS x10,
        CASE WHEN st IS NULL THEN NULL ELSE to_json({'v': st.v::VARCHAR}) END AS st, to_json(list_transform(arr, (x) -> x::VARCHAR)) AS arr
        FROM read_parquet('${file}', hive_partitioning=false)`);
    for (const row of r.getRowObjectsJson()) {
      out.push({ id: Number(row.id), big: row.big, mid: row.mid, x10: row.x10, st: row.st === null ? null : JSON.parse(row.st),
                 arr: row.arr === null ? null : JSON.parse(row.arr), p: add.partitionValues.p });
    }
  }
  return out;
}
async function wideDecimals(tmp) {
  const dir = path.join(tmp, 'wide-decimals');
  const uri = `file://${dir}`;
  const store = reader.localStore(dir);
  await ok(['create', uri, '--schema', DSCHEMA, '--partition-by', 'p']);
  const model = [...wideDecimalRows(1, 40, 'a'), ...wideDecimalRows(41, 9, 'b')];
  // and JSON numbers (not strings) beyond int64 and beyond a double's digits, kept exact
  const raw = '{"id":50,"big":12345678901234567890.123456789012345678,"mid":-99999999999999999999,"x10":0.1,"p":"b"}\n';
  await ok(['append', uri, '--input', '-'], { input: jsonl(model) + raw });
  model.push({ id: 50, big: '12345678901234567890.123456789012345678', mid: '-99999999999999999999', x10: '0.1000000000', st: null, arr: null, p: 'b' });
  const check2 = async (what) => {
    const snap = await reader.snapshot(store);
    const before = reader.statsChecked();
    await reader.readRows(store, snap);   // checks every file's stats against what DuckDB reads
    check(reader.statsChecked() - before >= snap.files.size * 6, `wide decimals ${what}: bounds checked (${reader.statsChecked() - before})`);
    const duck = await duckDecimalRows(store, snap);
    check(same(duck, model), `wide decimals ${what}: DuckDB reads the exact values: ${same(duck, model) ? '' : diff(duck, model)}`);
    const cli = (await ok(['scan', uri])).out.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
    check(same(cli, model), `wide decimals ${what}: sesp table scan prints the exact values: ${same(cli, model) ? '' : diff(cli, model)}`);
    // the stats bounds are the exact extremes of each file's values
    for (const add of snap.files.values()) {
      const st = reader.parseJsonRaw(add.stats);
      const inFile = model.filter((r) => r.p === add.partitionValues.p);
      for (const [col, scale] of [['big', 18], ['mid', 0], ['x10', 10]]) {
        const vals = inFile.map((r) => r[col]).filter((x) => x !== null).map((x) => reader.unscaled(x, scale));
        const lo = vals.reduce((x, y) => (y < x ? y : x)), hi = vals.reduce((x, y) => (y > x ? y : x));
        check(st.minValues[col] && reader.unscaled(st.minValues[col].num, scale) === lo && reader.unscaled(st.maxValues[col].num, scale) === hi,
              `wide decimals ${what} ${add.partitionValues.p}: ${col} bounds ${st.minValues[col] && st.minValues[col].num} .. ${st.maxValues[col] && st.maxValues[col].num} are exact`);
      }
    }
    return snap;
  };
  const snap = await check2('as written');
  // Spark's physical layout: FIXED_LEN_BYTE_ARRAY in the fewest bytes for the precision
  const one = await store.localPath(decodeURIComponent([...snap.files.values()][0].path));
  const pschema = (await (await reader.conn()).runAndReadAll(`SELECT name, type, type_length FROM parquet_schema('${one}')`)).getRowObjectsJson();
  const width = (n) => pschema.filter((x) => x.name === n).map((x) => `${x.type}/${x.type_length}`).join(',');
  check(width('big') === 'FIXED_LEN_BYTE_ARRAY/16' && width('mid') === 'FIXED_LEN_BYTE_ARRAY/9' && width('v') === 'FIXED_LEN_BYTE_ARRAY/11' &&
        width('element') === 'FIXED_LEN_BYTE_ARRAY/9', `wide decimals: minimal FIXED widths ${JSON.stringify(pschema)}`);
  // values that do not fit are refused, naming the column; nothing is committed
  for (const [row, col] of [[{ id: 99, mid: '100000000000000000000', p: 'a' }, 'mid'], [{ id: 99, big: '1.0000000000000000001', p: 'a' }, 'big'],
                            [{ id: 99, st: { v: '12345678901234567890.123456' }, p: 'a' }, 'st.v'], [{ id: 99, arr: ['0.001'], p: 'a' }, 'arr']]) {
    const r = await run(['append', uri, '--input', '-'], { input: jsonl([row]) });
    check(r.code !== 0 && r.err.includes(`column ${col}`), `wide decimals: ${JSON.stringify(row)} refused naming ${col}: ${r.err.trim()}`);
  }
  // SESP reads files DuckDB wrote (16-byte FIXED for every precision above 18)
  for (const add of snap.files.values()) {
    const f = await store.localPath(decodeURIComponent(add.path));
    await (await reader.conn()).run(`COPY (SELECT * FROM read_parquet('${f}', hive_partitioning=false)) TO '${f}.tmp' (FORMAT PARQUET)`);
    fs.renameSync(`${f}.tmp`, f);
  }
  const dschema = (await (await reader.conn()).runAndReadAll(`SELECT name, type_length FROM parquet_schema('${one}') WHERE name = 'mid'`)).getRowObjectsJson();
  console.error(`  wide decimals: DuckDB rewrote the files (mid: ${JSON.stringify(dschema)})`);
  const cli = (await ok(['scan', uri])).out.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  check(same(cli, model), `wide decimals: sesp reads DuckDB's files exactly: ${same(cli, model) ? '' : diff(cli, model)}`);

  // DELETE --where with a number literal compares decimals by value and
  // exactly: a row one unit (at scale 10) above id 12's survives `x10 = <id 12's>`,
  // which no double could tell apart; `mid < 0` removes every negative mid.
  const twin = { id: 51, big: null, mid: null, x10: '1200000000000.0000000013', st: null, arr: null, p: 'a' };
  await ok(['append', uri, '--input', '-'], { input: jsonl([twin]) });
  model.push(twin);
  await ok(['delete', uri, '--where', 'x10 = 1200000000000.0000000012']);
  await ok(['delete', uri, '--where', 'mid < 0']);
  const kept = model.filter((r) => r.x10 !== '1200000000000.0000000012' && !(r.mid !== null && r.mid.startsWith('-')));
  check(kept.length > 10 && kept.length < model.length - 10 && kept.some((r) => r.id === 51),
        `wide decimals: the deletes keep ${kept.length} of ${model.length} rows, the twin among them`);
  const dsnap = await reader.snapshot(store);
  const dduck = await duckDecimalRows(store, dsnap);
  check(same(dduck, kept), `wide decimals: after delete --where, DuckDB + independent reader: ${same(dduck, kept) ? '' : diff(dduck, kept)}`);
  const dcli = (await ok(['scan', uri])).out.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  check(same(dcli, kept), `wide decimals: after delete --where, sesp table scan: ${same(dcli, kept) ? '' : diff(dcli, kept)}`);

  // widening across 18 digits: an INT64 decimal(18,2) file read as decimal(30,2) (and by DuckDB, cast)
  const wdir = path.join(tmp, 'wide-decimal-widening');
  const wuri = `file://${wdir}`;
  await ok(['create', wuri, '--schema', JSON.stringify({ type: 'struct', fields: [
    { name: 'id', type: 'long', nullable: false, metadata: {} }, { name: 'd', type: 'decimal(18,2)', nullable: true, metadata: {} }] }),
  '--config', 'delta.enableTypeWidening=true']);
  const w1 = [{ id: 1, d: '-9999999999999999.99' }, { id: 2, d: '0.05' }];
  const w2 = [{ id: 3, d: '-9999999999999999999999999999.99' }, { id: 4, d: null }];
  await ok(['append', wuri, '--input', '-'], { input: jsonl(w1) });
  await ok(['append', wuri, '--input', '-'], { input: jsonl(w2) });
  const wstore = reader.localStore(wdir);
  const wsnap = await reader.snapshot(wstore);
  const df = fieldOf(wsnap.metaData, 'd');
  check(df.type === 'decimal(30,2)' && df.metadata['delta.typeChanges'][0].fromType === 'decimal(18,2)',
        `wide decimals: decimal(18,2) widened to ${df.type} and recorded ${JSON.stringify(df.metadata)}`);
  await reader.readRows(wstore, wsnap);   // the stats of both files hold for the cast values
  const wduck = [];
  for (const add of wsnap.files.values()) {
    const f = await wstore.localPath(decodeURIComponent(add.path));
    const r = await (await reader.conn()).runAndReadAll(`SELECT id, CAST(d AS DECIMAL(30,2))::VARCHAR AS d FROM read_parquet('${f}')`);
    for (const row of r.getRowObjectsJson()) wduck.push({ id: Number(row.id), d: row.d });
  }
  check(same(wduck, [...w1, ...w2]), `wide decimals: widened table read by DuckDB: ${same(wduck, [...w1, ...w2]) ? '' : diff(wduck, [...w1, ...w2])}`);
  const wcli = (await ok(['scan', wuri])).out.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  check(same(wcli, [...w1, ...w2]), `wide decimals: widened table read by sesp: ${same(wcli, [...w1, ...w2]) ? '' : diff(wcli, [...w1, ...w2])}`);
}

// ---- decimal scale increases: decimal(p,s) -> decimal(p+k1, s+k2), integer -> decimal ----
// Files written before a change hold their unscaled values at the older
// scale (an integer column's plain integers at 0).  The independent reader
// casts them to the table's type in DuckDB (from delta.typeChanges) and
// must see the same exact text as `sesp table scan`.
const DSSCHEMA = JSON.stringify({ type: 'struct', fields: [
  { name: 'id', type: 'long', nullable: false, metadata: {} },
  { name: 'd', type: 'decimal(5,2)', nullable: true, metadata: {} },
  { name: 'n', type: 'integer', nullable: true, metadata: {} },
  { name: 'st', type: { type: 'struct', fields: [{ name: 'v', type: 'decimal(5,2)', nullable: true, metadata: {} }] }, nullable: true, metadata: {} },
  { name: 'arr', type: { type: 'array', elementType: 'decimal(5,2)', containsNull: true }, nullable: true, metadata: {} },
  { name: 'm', type: { type: 'map', keyType: 'string', valueType: 'decimal(5,2)', valueContainsNull: true }, nullable: true, metadata: {} },
  { name: 'pd', type: 'decimal(4,1)', nullable: true, metadata: {} },
] });
async function decimalScaleWidening(tmp) {
  const dir = path.join(tmp, 'decimal-scale');
  const uri = `file://${dir}`;
  const store = reader.localStore(dir);
  const label = 'decimal scale widening';
  const check2 = async (what, want, version) => {
    const snap = await reader.snapshot(store, version);
    const rows = await reader.readRows(store, snap, { decimalsAsText: true });   // stats of old files checked too
    check(same(rows, want), `${label} ${what}: DuckDB + independent reader: ${same(rows, want) ? '' : diff(rows, want)}`);
    const args = ['scan', uri];
    if (version !== undefined) args.push('--version', String(version));
    const cli = (await ok(args)).out.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
    check(same(cli, want), `${label} ${what}: sesp table scan: ${same(cli, want) ? '' : diff(cli, want)}`);
    check(same(cli, rows), `${label} ${what}: both readers agree`);
    return snap;
  };
  await ok(['create', uri, '--schema', DSSCHEMA, '--partition-by', 'pd', '--config', 'delta.enableTypeWidening=true',
            '--config', 'delta.checkpointInterval=2']);
  await ok(['append', uri, '--input', '-'], { input: jsonl([
    { id: 1, d: '123.45', n: 7, st: { v: '-1.5' }, arr: ['0.01', '-999.99', null], m: { k: '2.5' }, pd: '1.5' },
    { id: 2, d: -0.01, n: -2147483648, st: null, arr: [], m: { z: null }, pd: '1.5' }]) });
  const v1 = [{ id: 1, d: '123.45', n: 7, st: { v: '-1.50' }, arr: ['0.01', '-999.99', null], m: { k: '2.50' }, pd: '1.5' },
              { id: 2, d: '-0.01', n: -2147483648, st: null, arr: [], m: { z: null }, pd: '1.5' }];
  await check2('as written', v1);
  // more fraction (and integer) digits widen d, st.v, arr's element and pd in the append's commit
  await ok(['append', uri, '--input', '-'], { input: jsonl([
    { id: 3, d: '123456.7891', st: { v: '0.125' }, arr: ['1.0001'], m: { k: '0.5' }, pd: '-2.25' }]) });
  const md = (await commitActions(store, 2)).find((a) => a.metaData);
  const sch = md && JSON.parse(md.metaData.schemaString);
  const f = (name) => sch && sch.fields.find((x) => x.name === name);
  const tc = (field) => JSON.stringify((field && field.metadata['delta.typeChanges']) || null);
  check(f('d').type === 'decimal(10,4)' && tc(f('d')) === JSON.stringify([{ fromType: 'decimal(5,2)', toType: 'decimal(10,4)' }]),
        `${label}: d widened to decimal(10,4) and recorded ${JSON.stringify(f('d'))}`);
  check(tc(f('st').type.fields[0]) === JSON.stringify([{ fromType: 'decimal(5,2)', toType: 'decimal(6,3)' }]),
        `${label}: st.v widened to decimal(6,3) ${JSON.stringify(f('st'))}`);
  check(tc(f('arr')) === JSON.stringify([{ fieldPath: 'element', fromType: 'decimal(5,2)', toType: 'decimal(7,4)' }]),
        `${label}: arr's element widened to decimal(7,4) ${JSON.stringify(f('arr'))}`);
  check(f('pd').type === 'decimal(5,2)', `${label}: the partition column widened too ${JSON.stringify(f('pd'))}`);
  let model = [{ id: 1, d: '123.4500', n: 7, st: { v: '-1.500' }, arr: ['0.0100', '-999.9900', null], m: { k: '2.50' }, pd: '1.50' },
               { id: 2, d: '-0.0100', n: -2147483648, st: null, arr: [], m: { z: null }, pd: '1.50' },
               { id: 3, d: '123456.7891', n: null, st: { v: '0.125' }, arr: ['1.0001'], m: { k: '0.50' }, pd: '-2.25' }];
  const snap2 = await check2('after the widening append (from checkpoint 2)', model);
  check(snap2.checkpoint === 2, `${label}: the reader started from checkpoint 2 (${snap2.checkpoint})`);
  await check2('version 1 (before the change)', v1, 1);
  // an explicit change another writer commits (ALTER COLUMN): integer -> decimal(12,2), the map value -> decimal(9,6)
  const latest = snap2.version;
  const s2 = JSON.parse(snap2.metaData.schemaString);
  const fn = s2.fields.find((x) => x.name === 'n'), fm = s2.fields.find((x) => x.name === 'm');
  fn.type = 'decimal(12,2)';
  fn.metadata['delta.typeChanges'] = [{ fromType: 'integer', toType: 'decimal(12,2)' }];
  fm.type.valueType = 'decimal(9,6)';
  fm.metadata['delta.typeChanges'] = [{ fieldPath: 'value', fromType: 'decimal(5,2)', toType: 'decimal(9,6)' }];
  fs.writeFileSync(path.join(dir, '_delta_log', `${String(latest + 1).padStart(20, '0')}.json`),
                   [JSON.stringify({ commitInfo: { operation: 'CHANGE COLUMN', timestamp: Date.now() } }),
                    JSON.stringify({ metaData: { ...snap2.metaData, schemaString: JSON.stringify(s2) } })].join('\n') + '\n');
  await ok(['append', uri, '--input', '-'], { input: jsonl([{ id: 4, d: '-0.0001', n: '1234567890.25', m: { q: '-999.123456' }, pd: '1.5' }]) });
  model = [{ id: 1, d: '123.4500', n: '7.00', st: { v: '-1.500' }, arr: ['0.0100', '-999.9900', null], m: { k: '2.500000' }, pd: '1.50' },
           { id: 2, d: '-0.0100', n: '-2147483648.00', st: null, arr: [], m: { z: null }, pd: '1.50' },
           { id: 3, d: '123456.7891', n: null, st: { v: '0.125' }, arr: ['1.0001'], m: { k: '0.500000' }, pd: '-2.25' },
           { id: 4, d: '-0.0001', n: '1234567890.25', st: null, arr: null, m: { q: '-999.123456' }, pd: '1.50' }];
  await check2('after integer -> decimal(12,2)', model);
  // OPTIMIZE bins the old "1.5" file with the new "1.50" one, DELETE rewrites it: both at the new scales
  await ok(['optimize', uri]);
  let snap = await check2('after optimize', model);
  await ok(['delete', uri, '--where', 'id = 2']);
  model = model.filter((r) => r.id !== 2);
  snap = await check2('after delete', model);
  check(snap.files.size === 2, `${label}: one file per partition after optimize (${snap.files.size})`);
  for (const add of snap.files.values()) {
    const cols = await reader.fileColumns(await store.localPath(decodeURIComponent(add.path)));
    const typeOf = (c) => (cols.find((x) => x.name === c) || {}).type;
    const rewritten = add.partitionValues.pd === '1.50';
    check(typeOf('d') === 'DECIMAL(10,4)' && typeOf('n') === (rewritten ? 'DECIMAL(12,2)' : 'INTEGER'),
          `${label}: file of pd=${add.partitionValues.pd} has ${rewritten ? 'the new types' : 'its own'} ${JSON.stringify(cols)}`);
  }
  // a schema whose scale is below the files' (no type change leads there): both readers refuse, naming the column
  const copy = path.join(tmp, 'decimal-scale-narrowed');
  fs.cpSync(dir, copy, { recursive: true });
  const narrowed = JSON.parse(snap.metaData.schemaString);
  const fd = narrowed.fields.find((x) => x.name === 'd');
  fd.type = 'decimal(10,1)';
  delete fd.metadata['delta.typeChanges'];
  fs.writeFileSync(path.join(copy, '_delta_log', `${String(snap.version + 1).padStart(20, '0')}.json`),
                   [JSON.stringify({ commitInfo: { operation: 'TEST', timestamp: Date.now() } }),
                    JSON.stringify({ metaData: { ...snap.metaData, schemaString: JSON.stringify(narrowed) } })].join('\n') + '\n');
  const r = await run(['scan', `file://${copy}`]);
  check(r.code !== 0 && /column d: the file holds decimals of scale 4, above the column's decimal\(10,1\)/.test(r.err),
        `${label}: sesp refuses a file scale above the table's: ${r.err.trim()}`);
  let err = '';
  try { await reader.readRows(reader.localStore(copy), await reader.snapshot(reader.localStore(copy)), { decimalsAsText: true }); } catch (e) { err = String(e.message); }
  check(/column d reads as DECIMAL\(10,4\)/.test(err), `${label}: the independent reader refuses it too: ${err}`);
}

// ---- S3: s3rver + failure-injecting proxy ----
// ---- partition values in paths, the CLI's history/describe/--input FILE, a lost checkpoint ----

// Hive-style escaping of a partition value in a directory name, from the
// Hive/Spark rules (not from SESP's code): these ASCII characters and the
// controls become %XX, everything else (UTF-8 included) stays as it is.
function hiveEscape(s) {
  const out = [];
  for (const b of Buffer.from(s, 'utf8')) {
    if (b < 0x20 || b === 0x7f || '"#%\'*/:=?\\{[]^'.includes(String.fromCharCode(b))) {
      out.push(...Buffer.from('%' + b.toString(16).toUpperCase().padStart(2, '0')));
    } else out.push(b);
  }
  return Buffer.from(out).toString('utf8');
}

const PSCHEMA = JSON.stringify({ type: 'struct', fields: [
  { name: 'id', type: 'long', nullable: false, metadata: {} },
  { name: 'v', type: 'string', nullable: true, metadata: {} },
  { name: 'p', type: 'string', nullable: true, metadata: {} }] });

// add.path is "a URI as specified by RFC 2396 ... which needs to be decoded to
// get the data file path" and partitionValues hold the raw values, "an empty
// string for any type translates to a null partition value" (PROTOCOL.md).
async function partitionPaths(tmp) {
  const dir = path.join(tmp, 'escaped');
  const uri = `file://${dir}`;
  const store = reader.localStore(dir);
  const values = ['plain', 'a b', '100%', 'x/y', 'k=v', 'a#b', 'é', '日本', 'ü ?:*/=%#[]^', '', null];
  await ok(['create', uri, '--schema', PSCHEMA, '--partition-by', 'p', '--config', 'delta.checkpointInterval=2']);
  const model = new Map();
  let id = 1;
  const batch = () => values.map((p) => ({ id: id++, v: `row-${id}`, p }));
  const want = (rows) => rows.map((r) => ({ ...r, p: r.p === '' ? null : r.p }));
  // --input with a file path (the other tests use stdin)
  const rows1 = batch();
  const file = path.join(tmp, 'escaped-rows.jsonl');
  fs.writeFileSync(file, jsonl(rows1));
  let r = await ok(['append', uri, '--input', file]);
  check(JSON.parse(r.out).version === 1, `partitions: append --input FILE is version 1 (${r.out.trim()})`);
  for (const row of want(rows1)) model.set(row.id, row);
  const adds = (await commitActions(store, 1)).filter((a) => a.add).map((a) => a.add);
  check(adds.length === values.length - 1, `partitions: one file per distinct value, '' and null together (${adds.length})`);
  const seen = new Set();
  for (const a of adds) {
    const raw = a.partitionValues.p;
    check(/^[A-Za-z0-9\-._~/=%]+$/.test(a.path), `partitions: add.path is URI-encoded ASCII: ${a.path}`);
    const key = decodeURIComponent(a.path);
    const dirName = key.slice(0, key.lastIndexOf('/'));
    const expectDir = `p=${raw === null ? '__HIVE_DEFAULT_PARTITION__' : hiveEscape(raw)}`;
    check(dirName === expectDir, `partitions: ${JSON.stringify(raw)} lives in ${JSON.stringify(expectDir)} (decoded path ${JSON.stringify(key)})`);
    check(fs.existsSync(path.join(dir, key)), `partitions: the file of ${JSON.stringify(raw)} exists at the decoded path ${key}`);
    check(raw === null || values.includes(raw), `partitions: partitionValues hold the raw value ${JSON.stringify(raw)}`);
    seen.add(raw);
  }
  check(seen.size === values.length - 1 && seen.has(null) && !seen.has(''), `partitions: every value seen once, '' as null (${[...seen].map((x) => JSON.stringify(x)).join(' ')})`);
  await verify(store, uri, [...model.values()], 'partitions: after append --input FILE');
  // a second append, then a checkpoint holds the same paths (DuckDB reads them back from it)
  const rows2 = batch();
  await ok(['append', uri, '--input', '-'], { input: jsonl(rows2) });
  for (const row of want(rows2)) model.set(row.id, row);
  const snap = await verify(store, uri, [...model.values()], 'partitions: from checkpoint 2');
  check(snap.checkpoint === 2, `partitions: checkpoint 2 used (${snap.checkpoint})`);
  // rewrites keep the partition directories: optimize, delete, merge
  await ok(['optimize', uri]);
  await verify(store, uri, [...model.values()], 'partitions: after optimize');
  await ok(['delete', uri, '--where', 'id = 3']);
  model.delete(3);
  await verify(store, uri, [...model.values()], 'partitions: after delete');
  const upd = [{ id: 4, v: 'merged', p: values[3] }, { id: 1000, v: 'new', p: '日本' }];
  await ok(['merge', uri, '--input', '-', '--key', 'id'], { input: jsonl(upd) });
  for (const row of upd) model.set(row.id, row);
  const fin = await verify(store, uri, [...model.values()], 'partitions: after merge');
  for (const [p, a] of fin.files) {
    const key = decodeURIComponent(p);
    const raw = a.partitionValues.p;
    check(key.startsWith(`p=${raw === null ? '__HIVE_DEFAULT_PARTITION__' : hiveEscape(raw)}/`) && fs.existsSync(path.join(dir, key)),
          `partitions: rewritten file ${key} is in its partition's directory`);
  }
  return { dir, uri, store };
}

// `history` and `describe` against what the log says.
async function historyAndDescribe({ dir, uri, store }) {
  // the table of partitionPaths: create, write, write, optimize, delete, merge; now a restore
  await ok(['restore', uri, '--version', '2']);
  const hist = (await ok(['history', uri])).out.split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
  const ops = ['CREATE TABLE', 'WRITE', 'WRITE', 'OPTIMIZE', 'DELETE', 'MERGE', 'RESTORE'];
  check(JSON.stringify(hist.map((h) => h.version)) === JSON.stringify([6, 5, 4, 3, 2, 1, 0]), `history: one line per version, newest first (${hist.map((h) => h.version)})`);
  for (const h of hist) {
    const acts = await commitActions(store, h.version);
    const ci = acts.find((a) => a.commitInfo).commitInfo;
    check(h.operation === ops[h.version], `history: version ${h.version} is ${ops[h.version]} (${h.operation})`);
    check(h.timestamp === ci.timestamp && h.timestamp > 1.7e12, `history: version ${h.version} timestamp ${h.timestamp} is the commit's ${ci.timestamp}`);
    check(h.numAddedFiles === acts.filter((a) => a.add).length && h.numRemovedFiles === acts.filter((a) => a.remove).length,
          `history: version ${h.version} counts ${h.numAddedFiles} adds / ${h.numRemovedFiles} removes as in the log`);
  }
  for (let i = 1; i < hist.length; i++) check(hist[i - 1].timestamp >= hist[i].timestamp, `history: timestamps do not go back (${hist[i].version})`);
  check(hist[4].operationParameters && hist[6].operationParameters, 'history: operation parameters are shown');
  // describe, now and at version 4, against the independent reader's snapshot and the files on disk
  for (const v of [null, 4]) {
    const args = ['describe', uri];
    if (v !== null) args.push('--version', String(v));
    const d = JSON.parse((await ok(args)).out);
    const snap = await reader.snapshot(store, v);
    const rows = await reader.readRows(store, snap);
    const label = `describe${v === null ? '' : ' --version ' + v}`;
    const adds = [...snap.files.values()];
    const total = adds.reduce((s, a) => s + a.size, 0);
    check(d.version === snap.version, `${label}: version ${d.version}`);
    check(d.numFiles === adds.length && d.files.length === adds.length, `${label}: ${d.numFiles} files, the log has ${adds.length}`);
    check(d.sizeBytes === total, `${label}: total size ${d.sizeBytes}, the log says ${total}`);
    const onDisk = adds.reduce((s, a) => s + fs.statSync(path.join(dir, decodeURIComponent(a.path))).size, 0);
    check(d.sizeBytes === onDisk, `${label}: total size ${d.sizeBytes} is what the files take on disk (${onDisk})`);
    check(d.numRecords === rows.length, `${label}: ${d.numRecords} records, the reader found ${rows.length}`);
    check(JSON.stringify(d.partitionColumns) === '["p"]', `${label}: partition columns ${JSON.stringify(d.partitionColumns)}`);
    check(JSON.stringify(d.files.map((f) => f.path).sort()) === JSON.stringify(adds.map((a) => a.path).sort()), `${label}: the files are the log's`);
    for (const f of d.files) {
      const a = snap.files.get(f.path);
      check(a && f.size === a.size && f.partitionValues.p === a.partitionValues.p && f.numRecords === JSON.parse(a.stats).numRecords,
            `${label}: ${f.path} size/partition/records as in the log`);
    }
    // partition layout: per partition value, file count and bytes
    const layout = new Map();
    for (const a of adds) {
      const k = JSON.stringify(a.partitionValues.p);
      const e = layout.get(k) || { files: 0, size: 0 };
      e.files++; e.size += a.size;
      layout.set(k, e);
    }
    check(d.partitions.length === layout.size, `${label}: ${d.partitions.length} partitions, the log has ${layout.size}`);
    for (const p of d.partitions) {
      const e = layout.get(JSON.stringify(p.partitionValues.p));
      check(e && e.files === p.files && e.size === p.sizeBytes, `${label}: partition ${JSON.stringify(p.partitionValues)} has ${p.files} files / ${p.sizeBytes} bytes`);
    }
  }
}

// After clean-up removed the commits a checkpoint covers, a deleted or damaged
// checkpoint is an error naming it, from scan, describe and append alike.
async function lostCheckpoint(tmp) {
  for (const how of ['deleted', 'garbled']) {
    const dir = path.join(tmp, `lostcp-${how}`);
    const uri = `file://${dir}`;
    await ok(['create', uri, '--schema', PSCHEMA, '--config', 'delta.checkpointInterval=2',
              '--config', 'delta.logRetentionDuration=interval 1 millisecond']);
    for (let i = 1; i <= 4; i++) {
      await new Promise((res) => setTimeout(res, 5));
      await ok(['append', uri, '--input', '-'], { input: jsonl([{ id: i, v: 'x', p: 'a' }]) });
    }
    const log = path.join(dir, '_delta_log');
    const cp = path.join(log, '00000000000000000004.checkpoint.parquet');
    check(!fs.existsSync(path.join(log, '00000000000000000000.json')) && fs.existsSync(cp), `lost checkpoint (${how}): clean-up left checkpoint 4 only`);
    if (how === 'deleted') fs.unlinkSync(cp);
    else fs.writeFileSync(cp, Buffer.alloc(fs.statSync(cp).size, 0x5a));
    for (const args of [['scan', uri], ['describe', uri], ['scan', uri, '--version', '4']]) {
      const r = await run(args);
      check(r.code !== 0 && r.code !== null && /checkpoint 4/.test(r.err) && /version 0/.test(r.err) && !/checksum/.test(r.err) && r.out === '',
            `lost checkpoint (${how}): ${args[0]} fails naming checkpoint 4 and version 0 (exit ${r.code}): ${r.err.trim()}`);
    }
    const r = await run(['append', uri, '--input', '-'], { input: jsonl([{ id: 9, v: 'x', p: 'a' }]) });
    check(r.code !== 0 && r.code !== null && /checkpoint 4/.test(r.err), `lost checkpoint (${how}): append refused: ${r.err.trim()}`);
    check(!fs.existsSync(path.join(log, '00000000000000000005.json')), `lost checkpoint (${how}): nothing committed on top`);
  }
}

function freePort() {
  return new Promise((resolve) => { const s = net.createServer(); s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => resolve(p)); }); });
}

// A container credentials endpoint (AWS_CONTAINER_CREDENTIALS_FULL_URI on
// the loopback) handing out a fresh session key, behind an authorization
// token read from AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE; `sesp table`
// writes and reads a table with it through the SigV4-checking proxy.
async function containerCredentials(tmp, proxy, s3port, baseEnv, extra) {
  const akid = 'ASIACONTAINER' + crypto.randomBytes(4).toString('hex').toUpperCase();
  const secret = crypto.randomBytes(20).toString('base64');
  const token = 'SESSION' + crypto.randomBytes(48).toString('base64');
  const auth = 'pod-identity-' + crypto.randomBytes(8).toString('hex');
  const asked = { ok: 0, refused: 0 };
  const server = http.createServer((req, res) => {
    if (req.url !== '/v1/credentials' || req.headers.authorization !== auth) {
      asked.refused++;
      res.writeHead(401); res.end();
      return;
    }
    asked.ok++;
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ AccessKeyId: akid, SecretAccessKey: secret, Token: token,
                             Expiration: new Date(Date.now() + 3600e3).toISOString().replace(/\.\d+Z$/, 'Z'), RoleArn: 'arn:aws:iam::1:role/x' }));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const tokenFile = path.join(tmp, 'container-token');
  fs.writeFileSync(tokenFile, auth + '\n');
  proxy.ctl.secrets[akid] = secret;
  proxy.ctl.tokens[akid] = token;
  const env = { ...baseEnv, AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:${server.address().port}/v1/credentials`,
                AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: tokenFile, AWS_REGION: 'us-east-1' };
  const cExtra = [...extra, '--store-opt', `s3.endpoint=http://127.0.0.1:${proxy.port}`];
  const uri = 's3://lake/tables/container';
  const store = reader.s3Store(`http://127.0.0.1:${s3port}`, 'lake', 'tables/container');
  try {
    const model = new Map();
    const problemsBefore = proxy.ctl.sigProblems.length;
    await ok(['create', uri, '--schema', SCHEMA, ...cExtra], { env });
    for (let i = 0; i < 2; i++) {
      const rows = makeRows(5);
      await ok(['append', uri, '--input', '-', ...cExtra], { env, input: jsonl(rows) });
      for (const row of rows) model.set(row.id, row);
    }
    await verify(store, uri, [...model.values()], 's3 with container credentials', null, { env, extra: cExtra });
    check(asked.ok >= 3 && asked.refused === 0, `container credentials: fetched by each process with the token (${asked.ok} fetches, ${asked.refused} refused)`);
    check((proxy.ctl.signedBy[akid] || 0) > 10 && proxy.ctl.sigProblems.length === problemsBefore,
          `container credentials: ${proxy.ctl.signedBy[akid] || 0} requests signed with the fetched key and its session token: ${proxy.ctl.sigProblems.slice(problemsBefore).join('; ')}`);
    console.log(`  container credentials: ${asked.ok} fetches, ${proxy.ctl.signedBy[akid] || 0} requests signed with the session key`);
    // a wrong token: a clear error, no secret and no token printed
    fs.writeFileSync(tokenFile, 'not-the-token\n');
    const r = await run(['scan', uri, ...cExtra], { env });
    check(r.code !== 0 && /container credentials/.test(r.err) && /HTTP 401/.test(r.err) && !r.err.includes('not-the-token') && !r.err.includes(auth),
          `container credentials: a refused token fails clearly: ${r.err.trim().split('\n').pop()}`);
  } finally {
    delete proxy.ctl.tokens[akid];
    server.close();
  }
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'sesp-delta-it-'));
  try {
    // local
    const local = path.join(tmp, 'local_table');
    const lstore = reader.localStore(local);
    const { model } = await lifecycle('local', `file://${local}`, lstore);
    await concurrentWriters('local', `file://${local}`, lstore, {}, model);

    // append with schema inference on a new table, then enforcement
    const inf = path.join(tmp, 'inferred');
    await ok(['append', inf, '--input', '-'], { input: '{"k": 1, "f": 1.5, "s": "x", "b": true, "o": {"n": 2}, "a": [1, 2]}\n' });
    const d = JSON.parse((await ok(['describe', inf])).out);
    const types = Object.fromEntries(d.schema.fields.map((f) => [f.name, typeof f.type === 'string' ? f.type : f.type.type]));
    check(types.k === 'long' && types.f === 'double' && types.s === 'string' && types.b === 'boolean' && types.o === 'struct' && types.a === 'array',
          `inferred schema ${JSON.stringify(types)}`);
    const bad = await run(['append', inf, '--input', '-'], { input: '{"k": "not a number"}\n' });
    check(bad.code !== 0 && /column k/.test(bad.err), `schema enforcement names the column: ${bad.err.trim()}`);

    await typeWidening(tmp);
    await nestedWidening(tmp);
    await statsTable(tmp);
    await statsLimits(tmp);
    await historyAndDescribe(await partitionPaths(tmp));
    await lostCheckpoint(tmp);
    await wideDecimals(tmp);
    await decimalScaleWidening(tmp);

    // WebHDFS (fake namenode/datanode over a directory, read back directly)
    const hdfsRoot = path.join(tmp, 'hdfs');
    fs.mkdirSync(hdfsRoot);
    const hdfs = await startFakeWebhdfs(hdfsRoot);
    try {
      const huri = `webhdfs://127.0.0.1:${hdfs.port}/warehouse/t1`;
      const hstore = reader.localStore(path.join(hdfsRoot, 'warehouse/t1'));
      const hm = new Map();
      await ok(['create', huri, '--schema', SCHEMA, '--partition-by', 'country', '--config', 'delta.checkpointInterval=2']);
      for (let i = 0; i < 3; i++) {
        const rows = makeRows(4);
        await ok(['append', huri, '--input', '-'], { input: jsonl(rows) });
        for (const r of rows) hm.set(r.id, r);
      }
      const hs = await verify(hstore, huri, [...hm.values()], 'webhdfs after appends');
      check(hs.checkpoint === 2, `webhdfs: checkpoint 2 used (${hs.checkpoint})`);
      await ok(['delete', huri, '--where', 'score >= 10']);
      for (const [id, row] of hm) if (row.score >= 10) hm.delete(id);
      await ok(['optimize', huri]);
      await verify(hstore, huri, [...hm.values()], 'webhdfs after delete + optimize');
      await concurrentWriters('webhdfs', huri, hstore, {}, hm);
    } finally {
      hdfs.server.close();
    }

    // S3
    const s3port = await freePort();
    const s3dir = path.join(tmp, 's3rver');
    fs.mkdirSync(s3dir);
    // serviceEndpoint 'localhost': s3rver takes the bucket from a Host of
    // <bucket>.s3.localhost (curl resolves *.localhost to the loopback itself)
    const s3 = new S3rver({ port: s3port, address: '127.0.0.1', silent: true, directory: s3dir, configureBuckets: [{ name: 'lake' }],
                            serviceEndpoint: 'localhost' });
    await s3.run();
    const proxy = await startProxy(s3port);
    const env = { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', AWS_REGION: 'us-east-1' };
    const extra = ['--store-opt', `s3.endpoint=http://127.0.0.1:${proxy.port}`, '--store-opt', 'retry.base-ms=5',
                   '--store-opt', 'retry.max-ms=50', '--store-opt', 'retry.max-attempts=10'];
    const s3store = reader.s3Store(`http://127.0.0.1:${s3port}`, 'lake', 'tables/t1');
    const s3uri = 's3://lake/tables/t1';
    try {
      // auto (the default): each process probes the store once; the proxy
      // enforces If-None-Match, so no lock is needed
      const res = await lifecycle('s3', s3uri, s3store, { env, extra });
      check(proxy.ctl.injected > 20, `the proxy injected failures (${proxy.ctl.injected})`);
      const probes = (await s3store.list('_delta_log/')).filter((o) => o.key.includes('.sesp-cas-probe-'));
      check(probes.length === 0, `conditional-put probes are deleted (${probes.map((o) => o.key).join(',')})`);
      check(proxy.ctl.signed > 100 && proxy.ctl.sigProblems.length === 0,
            `the proxy verified ${proxy.ctl.signed} SigV4 signatures: ${proxy.ctl.sigProblems.join('; ')}`);
      await concurrentWriters('s3', s3uri, s3store, { env, extra }, res.model);
      // a 12 MiB data file goes up as a multipart upload (5 MiB parts), through the failures
      const big = makeBigRows(12000, 1000);
      const rb = await ok(['append', s3uri, '--input', '-', ...extra, '--store-opt', 'part-size=5242880'], { env, input: jsonl(big) });
      for (const row of big) res.model.set(row.id, row);
      const bigSnap = await verify(s3store, s3uri, [...res.model.values()], 's3 after a multipart append', null, { env, extra });
      const bigFile = [...bigSnap.files.values()].find((a) => a.partitionValues.country === 'big');
      check(bigFile && bigFile.size > 10 * 1024 * 1024, `multipart data file is ${bigFile && bigFile.size} bytes (${rb.out.trim()})`);
      // a commit that cannot be written leaves no version and no data files behind
      const before = await reader.snapshot(s3store);
      const keysBefore = (await s3store.list('')).map((o) => o.key).join(',');
      proxy.ctl.failCommits = true;
      const r = await run(['append', s3uri, '--input', '-', ...extra], { env, input: jsonl(makeRows(3)) });
      proxy.ctl.failCommits = false;
      check(r.code !== 0, 'append fails when its commit cannot be written');
      const afterSnap = await reader.snapshot(s3store);
      check(afterSnap.version === before.version, `failed commit left no new version (${before.version} -> ${afterSnap.version})`);
      check((await s3store.list('')).map((o) => o.key).join(',') === keysBefore, 'failed commit left no data files behind');
      await verify(s3store, s3uri, [...res.model.values()], 's3 after failed commit', null, { env, extra });
      // a store without conditional puts refuses to commit unless told how to lock
      const r2 = await run(['append', s3uri, '--input', '-', ...extra, '--store-opt', 's3.conditional-put=unsupported'], { env, input: jsonl(makeRows(1)) });
      check(r2.code !== 0 && /conditional/.test(r2.err), `unsupported conditional put fails clearly: ${r2.err.trim().split('\n').pop()}`);
      // without conditional puts, a lock file serialises the writers
      const lockUri = 's3://lake/tables/locked';
      const lockStore = reader.s3Store(`http://127.0.0.1:${s3port}`, 'lake', 'tables/locked');
      const lockExtra = ['--store-opt', `s3.endpoint=http://127.0.0.1:${s3port}`, '--store-opt', 's3.conditional-put=unsupported',
                         '--store-opt', `s3.lock-path=${path.join(tmp, 's3.lock')}`];
      await ok(['create', lockUri, '--schema', SCHEMA, ...lockExtra], { env });
      await concurrentWriters('s3 with lock file', lockUri, lockStore, { env, extra: lockExtra }, new Map());
      // straight at s3rver, which ignores If-None-Match: auto mode finds out
      // and refuses to commit without a lock, leaving nothing behind ...
      const rawExtra = ['--store-opt', `s3.endpoint=http://127.0.0.1:${s3port}`];
      const noLockStore = reader.s3Store(`http://127.0.0.1:${s3port}`, 'lake', 'tables/nolock');
      const r3 = await run(['create', 's3://lake/tables/nolock', '--schema', SCHEMA, ...rawExtra], { env });
      check(r3.code !== 0 && /ignores If-None-Match/.test(r3.err) && /s3\.lock-path/.test(r3.err),
            `auto mode on a store ignoring If-None-Match fails clearly: ${r3.err.trim().split('\n').pop()}`);
      const left = (await noLockStore.list('')).map((o) => o.key);
      check(left.length === 0, `the refused commit left nothing (${left.join(',')})`);
      const r4 = await run(['append', 's3://lake/tables/nolock', '--input', '-', ...rawExtra], { env, input: jsonl(makeRows(1)) });
      check(r4.code !== 0 && /ignores If-None-Match/.test(r4.err), `auto mode refuses appends there too: ${r4.err.trim().split('\n').pop()}`);
      // ... and with a lock file commits through it
      const autoUri = 's3://lake/tables/autolock';
      const autoStore = reader.s3Store(`http://127.0.0.1:${s3port}`, 'lake', 'tables/autolock');
      const autoExtra = [...rawExtra, '--store-opt', `s3.lock-path=${path.join(tmp, 's3-auto.lock')}`];
      await ok(['create', autoUri, '--schema', SCHEMA, ...autoExtra], { env });
      await concurrentWriters('s3 auto mode with lock file', autoUri, autoStore, { env, extra: autoExtra }, new Map());
      check((await autoStore.list('_delta_log/')).every((o) => !o.key.includes('.sesp-cas-probe-')), 'auto mode with lock: probes deleted');

      // replies that stall or trickle past timeout-ms, on reads and writes:
      // every command still succeeds by retrying, and each commit lands once
      const slowUri = 's3://lake/tables/slow';
      const slowStore = reader.s3Store(`http://127.0.0.1:${s3port}`, 'lake', 'tables/slow');
      const slowExtra = [...extra, '--store-opt', 'timeout-ms=500', '--store-opt', 's3.conditional-put=supported'];
      const saved = { fail: proxy.ctl.fail, reset: proxy.ctl.reset, dropAfter: proxy.ctl.dropAfter };
      Object.assign(proxy.ctl, { fail: 0, reset: 0, dropAfter: 0, stall: 0.06, trickle: 0.06, stallMs: 2000 });
      const slowModel = new Map();
      const t0 = Date.now();
      await ok(['create', slowUri, '--schema', SCHEMA, ...slowExtra], { env });
      let commits = 1;
      for (let i = 0; i < 4; i++) {
        if (i === 1) proxy.ctl.stallNextCommit = true;      // the commit lands, its reply hangs
        if (i === 2) proxy.ctl.trickleNextLogRead = true;   // a log read crawls past the timeout
        const rows = makeRows(3);
        await ok(['append', slowUri, '--input', '-', ...slowExtra], { env, input: jsonl(rows) });
        commits++;
        for (const row of rows) slowModel.set(row.id, row);
      }
      check(!proxy.ctl.stallNextCommit && !proxy.ctl.trickleNextLogRead, 'the forced commit stall and log-read trickle happened');
      const slowSnap = await verify(slowStore, slowUri, [...slowModel.values()], 's3 with stalled and trickling replies', null, { env, extra: slowExtra });
      const slowVersions = (await slowStore.list('_delta_log/')).filter((o) => /^_delta_log\/\d{20}\.json$/.test(o.key)).length;
      check(slowSnap.version === commits - 1 && slowVersions === commits,
            `each of ${commits} commits landed exactly once through slow replies (version ${slowSnap.version}, ${slowVersions} commit files)`);
      check(proxy.ctl.stalls >= 2 && proxy.ctl.trickles >= 2,
            `the proxy stalled ${proxy.ctl.stalls} and trickled ${proxy.ctl.trickles} replies (${Date.now() - t0} ms)`);
      Object.assign(proxy.ctl, saved, { stall: 0, trickle: 0 });

      // virtual-hosted addressing (Host: lake.s3.localhost:PORT), with the
      // keys, region, endpoint and addressing style all from the AWS shared
      // files of a named profile; the proxy checks every signature against
      // the profile's secret, so the file's keys must have been used
      const awsDir = path.join(tmp, 'aws');
      fs.mkdirSync(awsDir);
      fs.writeFileSync(path.join(awsDir, 'credentials'),
        '# written by delta_test.js\n[default]\naws_access_key_id = NOTTHIS\naws_secret_access_key = NOTTHIS\n\n[itest]\n' +
        'aws_access_key_id = S3RVER\n  ; an indented comment\naws_secret_access_key = S3RVER   # trailing comment\n');
      fs.writeFileSync(path.join(awsDir, 'config'),
        `[default]\nregion = us-east-1\n[profile itest]\nregion = eu-west-1\nendpoint_url = http://s3.localhost:${proxy.port}\n` +
        's3 =\n  addressing_style = virtual\nunknown_setting = ignored\n');
      const noEnv = { AWS_ACCESS_KEY_ID: '', AWS_SECRET_ACCESS_KEY: '', AWS_SESSION_TOKEN: '', AWS_REGION: '', AWS_DEFAULT_REGION: '',
                      AWS_ENDPOINT_URL: '', AWS_ENDPOINT_URL_S3: '', SESP_S3_ENDPOINT: '', AWS_S3_FORCE_PATH_STYLE: '', AWS_PROFILE: '',
                      AWS_WEB_IDENTITY_TOKEN_FILE: '', AWS_ROLE_ARN: '', AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: '',
                      AWS_CONTAINER_CREDENTIALS_FULL_URI: '', AWS_CONTAINER_AUTHORIZATION_TOKEN: '',
                      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: '', AWS_EC2_METADATA_DISABLED: 'true' };
      const fileEnv = { ...noEnv, AWS_SHARED_CREDENTIALS_FILE: path.join(awsDir, 'credentials'), AWS_CONFIG_FILE: path.join(awsDir, 'config'), AWS_PROFILE: 'itest' };
      const vExtra = ['--store-opt', 'retry.base-ms=5', '--store-opt', 'retry.max-ms=50', '--store-opt', 'retry.max-attempts=10'];
      const vUri = 's3://lake/tables/vhost';
      const vStore = reader.s3Store(`http://127.0.0.1:${s3port}`, 'lake', 'tables/vhost');
      const before2 = { vhost: proxy.ctl.vhost, pathStyle: proxy.ctl.pathStyle, signed: proxy.ctl.signed };
      const vModel = new Map();
      await ok(['create', vUri, '--schema', SCHEMA, '--partition-by', 'country', '--config', 'delta.checkpointInterval=2', ...vExtra], { env: fileEnv });
      for (let i = 0; i < 3; i++) {
        const rows = makeRows(4);
        await ok(['append', vUri, '--input', '-', ...vExtra], { env: fileEnv, input: jsonl(rows) });
        for (const row of rows) vModel.set(row.id, row);
      }
      await ok(['optimize', vUri, ...vExtra], { env: fileEnv });
      const vSnap = await verify(vStore, vUri, [...vModel.values()], 's3 virtual-hosted, settings from AWS files', null, { env: fileEnv, extra: vExtra });
      check(vSnap.checkpoint === 4, `virtual-hosted: checkpoint 4 used (${vSnap.checkpoint})`);
      check(proxy.ctl.vhost - before2.vhost > 30 && proxy.ctl.pathStyle === before2.pathStyle,
            `virtual-hosted requests only: ${proxy.ctl.vhost - before2.vhost} with Host lake.s3.localhost, ${proxy.ctl.pathStyle - before2.pathStyle} path-style`);
      check(proxy.ctl.sigProblems.length === 0 && proxy.ctl.signed - before2.signed === proxy.ctl.vhost - before2.vhost,
            `every virtual-hosted request carried a valid SigV4 signature by the profile's key (${proxy.ctl.signed - before2.signed}): ${proxy.ctl.sigProblems.join('; ')}`);
      // no credentials anywhere: a clear error naming where it looked
      const emptyHome = path.join(tmp, 'empty-home');
      fs.mkdirSync(emptyHome);
      const r5 = await run(['scan', vUri, ...vExtra, '--store-opt', `s3.endpoint=http://127.0.0.1:${proxy.port}`],
                           { env: { ...noEnv, HOME: emptyHome, AWS_SHARED_CREDENTIALS_FILE: '', AWS_CONFIG_FILE: '' } });
      check(r5.code !== 0 && /no AWS credentials/.test(r5.err) && r5.err.includes(path.join(emptyHome, '.aws/credentials')) &&
            r5.err.includes(path.join(emptyHome, '.aws/config')) && /AWS_ACCESS_KEY_ID/.test(r5.err),
            `no credentials: a clear error naming where it looked: ${r5.err.trim().split('\n').pop()}`);
      const r6 = await run(['scan', vUri, ...vExtra], { env: { ...fileEnv, AWS_PROFILE: 'nosuch' } });
      check(r6.code !== 0 && /"nosuch"/.test(r6.err) && !/S3RVER|NOTTHIS/.test(r6.err), `an unknown profile is named, no secret printed: ${r6.err.trim().split('\n').pop()}`);

      // temporary credentials from a container credentials endpoint (ECS,
      // EKS Pod Identity) served here: no keys anywhere else, the proxy
      // knows this key only from the endpoint and checks every signature
      // and the session token
      await containerCredentials(tmp, proxy, s3port, { ...noEnv, HOME: emptyHome, AWS_SHARED_CREDENTIALS_FILE: '', AWS_CONFIG_FILE: '' }, vExtra);
    } finally {
      proxy.server.close();
      await s3.close();
    }
  } catch (e) {
    failed++;
    console.error(`FAIL: ${e.stack || e}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  console.log(`delta integration: ${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}
main();
