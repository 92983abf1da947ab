// An independent Delta Lake reader for the integration tests, written from
// delta-io PROTOCOL.md and sharing no code with lakehouse/: it lists
// _delta_log, picks the newest checkpoint at or below the wanted version
// (read with DuckDB), replays the later JSON commits (add/remove/txn/
// metaData/protocol) and reads the active data files with DuckDB, adding
// partition columns from the log's partitionValues and checking each file's
// stats (numRecords, nullCount, minValues/maxValues) against what DuckDB
// reads from it.  It honours the typeWidening reader feature: every
// delta.typeChanges entry (top-level columns, struct fields, array elements,
// map keys and values) is checked, and a column with one anywhere inside it
// is CAST to the table's current type, so files written before the change
// (narrower Parquet types) read as the wider type.
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

// opts.decimalsAsText: a decimal as its exact text at the column's scale
// (a file committed before a scale increase has its value at the older one).
function partitionValue(type, s, opts = {}) {
  if (s === null || s === undefined) return null;
  if (type === 'long' || type === 'integer' || type === 'short' || type === 'byte') return Number(s);
  if (type === 'double' || type === 'float') return Number(s);
  if (type === 'boolean') return s === 'true';
  const d = decOf(type);
  if (d && opts.decimalsAsText) return decText(unscaled(s, d.s), d.s);
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

// ---- type widening (PROTOCOL.md "Type Widening", "Type Change Metadata") ----
// A struct field's metadata may hold delta.typeChanges: [{fromType, toType,
// fieldPath?}], oldest first, for the field itself or, with fieldPath
// ("element", "key", "value", joined with dots), for a type inside the
// field's arrays and maps.  Each entry must be a widening the protocol
// allows, the entries of one path must chain (each fromType the previous
// toType), and the last toType must be the type the schema has there.  Files
// written before a change hold the narrower type: every primitive a file
// holds must be the schema's type or one of the recorded fromTypes of that
// place, and is read cast to the schema's type.

const INT_RANK = { byte: 1, short: 2, integer: 3, long: 4 };
const INT_DIGITS = { byte: 3, short: 5, integer: 10, long: 20 };
const decOf = (t) => { const m = typeof t === 'string' && t.match(/^decimal\((\d+),\s*(\d+)\)$/); return m && { p: Number(m[1]), s: Number(m[2]) }; };

// Whether the protocol lets a column of type `from` become `to`.
function widens(from, to) {
  if (INT_RANK[from] && INT_RANK[to]) return INT_RANK[from] < INT_RANK[to];
  if (from === 'float' && to === 'double') return true;
  if (INT_RANK[from] && INT_RANK[from] < 4 && to === 'double') return true;
  if (from === 'date' && to === 'timestamp_ntz') return true;
  const a = decOf(from), b = decOf(to);
  if (a && b) return b.p >= a.p && b.s >= a.s && b.p - b.s >= a.p - a.s && (b.p > a.p || b.s > a.s);
  if (INT_RANK[from] && b) return b.p - b.s >= INT_DIGITS[from];
  return false;
}

// The type under t at fieldPath parts ("element", "key", "value").
function typeAt(t, parts, where) {
  for (const p of parts) {
    const k = { element: 'elementType', key: 'keyType', value: 'valueType' }[p];
    const want = p === 'element' ? 'array' : 'map';
    if (!k || !t || typeof t !== 'object' || t.type !== want) throw new Error(`${where}: fieldPath part ${p} does not lead anywhere`);
    t = t[k];
  }
  return t;
}

// Checks every delta.typeChanges of the schema; returns Map(place -> Set of
// older types), place = "col.sub" struct path plus "#element.key..." for the
// fieldPath ("#" alone for the field itself).
function typeChanges(fields, prefix = '', out = new Map()) {
  const inner = (t, name) => {
    if (!t || typeof t !== 'object') return;
    if (t.type === 'struct') typeChanges(t.fields, name, out);
    else if (t.type === 'array') inner(t.elementType, name);
    else if (t.type === 'map') { inner(t.keyType, name); inner(t.valueType, name); }
  };
  for (const f of fields) {
    const name = prefix ? `${prefix}.${f.name}` : f.name;
    const changes = f.metadata && f.metadata['delta.typeChanges'];
    if (changes !== undefined) {
      if (!Array.isArray(changes)) throw new Error(`column ${name}: delta.typeChanges is not a list`);
      const last = new Map();
      for (const c of changes) {
        if (typeof c.fromType !== 'string' || typeof c.toType !== 'string' || (c.fieldPath !== undefined && typeof c.fieldPath !== 'string'))
          throw new Error(`column ${name}: malformed delta.typeChanges entry ${JSON.stringify(c)}`);
        const where = `column ${name}${c.fieldPath ? ` (${c.fieldPath})` : ''}`;
        if (!widens(c.fromType, c.toType)) throw new Error(`${where}: ${c.fromType} -> ${c.toType} is not a type widening`);
        const place = `${name}#${c.fieldPath || ''}`;
        if (last.has(place) && last.get(place) !== c.fromType) throw new Error(`${where}: change from ${c.fromType} follows one to ${last.get(place)}`);
        last.set(place, c.toType);
        if (!out.has(place)) out.set(place, new Set());
        out.get(place).add(c.fromType);
      }
      for (const [place, to] of last) {
        const fp = place.slice(place.indexOf('#') + 1);
        const now = typeAt(f.type, fp ? fp.split('.') : [], `column ${name}`);
        if (JSON.stringify(now) !== JSON.stringify(to)) throw new Error(`column ${name}${fp ? ` (${fp})` : ''}: last recorded change is to ${to}, the schema has ${JSON.stringify(now)}`);
      }
    }
    inner(f.type, name);
  }
  return out;
}

// The DuckDB type of any Delta type (null when a primitive has none).
function duckTypeFull(t) {
  if (typeof t === 'string') return duckType(t);
  if (t.type === 'struct') {
    const fs = t.fields.map((f) => { const x = duckTypeFull(f.type); return x && `${ident(f.name)} ${x}`; });
    return fs.every(Boolean) ? `STRUCT(${fs.join(', ')})` : null;
  }
  if (t.type === 'array') { const e = duckTypeFull(t.elementType); return e && `${e}[]`; }
  if (t.type === 'map') { const k = duckTypeFull(t.keyType), v = duckTypeFull(t.valueType); return k && v && `MAP(${k}, ${v})`; }
  return null;
}

// Every primitive under column expression e of Delta type t: [{expr, type, place}],
// expr giving a value of that primitive's type (typeof() names it even for NULL).
function primitives(e, t, name, fp = []) {
  if (typeof t === 'string') return [{ expr: e, type: t, place: `${name}#${fp.join('.')}` }];
  if (t.type === 'struct') return t.fields.flatMap((f) => primitives(`struct_extract(${e}, ${sqlStr(f.name)})`, f.type, `${name}.${f.name}`));
  if (t.type === 'array') return primitives(`(${e})[1]`, t.elementType, name, [...fp, 'element']);
  if (t.type === 'map') return [...primitives(`map_keys(${e})[1]`, t.keyType, name, [...fp, 'key']),
                                ...primitives(`map_values(${e})[1]`, t.valueType, name, [...fp, 'value'])];
  return [];
}

const hasChange = (name, older) => [...older.keys()].some((p) => p.startsWith(`${name}#`) || p.startsWith(`${name}.`));

// The DuckDB types of prims in one file (null for a struct field the file
// does not have: added to the schema after the file was written).
async function fileTypes(file, prims) {
  const c = await conn();
  const q = (xs) => `SELECT ${xs.map((x, i) => `typeof(${x.expr}) AS t${i}`).join(', ')} FROM read_parquet(${sqlStr(file)}, hive_partitioning=false) LIMIT 1`;
  try {
    const row = (await c.runAndReadAll(q(prims))).getRowObjectsJson()[0] || {};
    return prims.map((x, i) => row[`t${i}`]);
  } catch (e) {
    const out = [];
    for (const x of prims) {
      try {
        out.push(((await c.runAndReadAll(q([x]))).getRowObjectsJson()[0] || {}).t0);
      } catch (e2) {
        if (!/not found|does not exist|Could not find/i.test(String(e2.message))) throw e2;
        out.push(null);
      }
    }
    return out;
  }
}

// The SELECT list reading one file as the table's schema.  Every primitive
// inside a nested column, and every column with recorded type changes, must
// have in the file the schema's type or one of the recorded older ones at
// that place; a column with changes is CAST whole to the schema's type.
// Top-level primitives must then read as the schema's type, so a file the
// recorded changes do not cover fails here instead of passing for its JSON
// text.
async function selectList(file, schema) {
  const older = typeChanges(schema.fields);
  const c = await conn();
  const fileCols = await fileColumns(file);
  const byName = new Map(schema.fields.map((f) => [f.name, f]));
  const casts = new Map();
  for (const col of fileCols) {
    const f = byName.get(col.name);
    const changed = f && hasChange(f.name, older);
    if (!f || (!changed && typeof f.type === 'string')) continue;
    const prims = primitives(ident(f.name), f.type, f.name).filter((x) => duckType(x.type));
    const got = await fileTypes(file, prims);
    prims.forEach((x, i) => {
      if (got[i] === null) return;
      const ok = new Set([x.type, ...(older.get(x.place) || [])].map(duckType));
      if (!ok.has(got[i])) throw new Error(`${file}: ${x.place.replace(/#$/, '')} is ${got[i]} in the file; the table allows ${[...ok].join(' or ')}`);
    });
    if (!changed) continue;
    const full = duckTypeFull(f.type);
    if (!full) throw new Error(`column ${f.name}: type change inside ${JSON.stringify(f.type)}`);
    casts.set(f.name, full);
  }
  const cols = fileCols.map((x) => (casts.has(x.name) ? `CAST(${ident(x.name)} AS ${casts.get(x.name)}) AS ${ident(x.name)}` : ident(x.name))).join(', ');
  const r = await c.runAndReadAll(`DESCRIBE SELECT ${cols} FROM read_parquet(${sqlStr(file)}, hive_partitioning=false)`);
  for (const x of r.getRowObjectsJson()) {
    const f = byName.get(x.column_name);
    const want = f && duckType(f.type);
    if (want && x.column_type !== want) throw new Error(`${file}: column ${x.column_name} reads as ${x.column_type}, the table says ${want}`);
  }
  return cols;
}

// ---- per-file stats (PROTOCOL.md "Per-file Statistics") ----
// Every bound a file's stats give must hold for every value DuckDB reads
// from that file (minValues <= value <= maxValues, compared as the column's
// type: instants, exact decimals, UTF-8 byte order), and nullCount must be
// the number of nulls.  Bounds may be missing; numbers are kept as their
// JSON text so 18-digit decimals and longs are compared exactly.

// A JSON number kept as its text.
class Num { constructor(text) { this.num = text; } }

// JSON.parse, but numbers come back as Num.
function parseJsonRaw(text) {
  let i = 0;
  const ws = () => { while (i < text.length && ' \t\r\n'.includes(text[i])) i++; };
  const val = () => {
    ws();
    const ch = text[i];
    if (ch === '{') {
      i++;
      const o = {};
      ws();
      if (text[i] === '}') { i++; return o; }
      for (;;) {
        ws();
        const k = val();
        ws();
        if (text[i++] !== ':') throw new Error(`stats JSON: ':' expected at ${i}`);
        o[k] = val();
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i++] === '}') return o;
        throw new Error(`stats JSON: ',' or '}' expected at ${i}`);
      }
    }
    if (ch === '[') {
      i++;
      const a = [];
      ws();
      if (text[i] === ']') { i++; return a; }
      for (;;) {
        a.push(val());
        ws();
        if (text[i] === ',') { i++; continue; }
        if (text[i++] === ']') return a;
        throw new Error(`stats JSON: ',' or ']' expected at ${i}`);
      }
    }
    if (ch === '"') {
      let j = i + 1;
      while (text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      const str = JSON.parse(text.slice(i, j + 1));
      i = j + 1;
      return str;
    }
    const m = /^(?:true|false|null|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/.exec(text.slice(i, i + 400));
    if (!m) throw new Error(`stats JSON: bad token at ${i}`);
    i += m[0].length;
    if (m[0] === 'true') return true;
    if (m[0] === 'false') return false;
    if (m[0] === 'null') return null;
    return new Num(m[0]);
  };
  const out = val();
  ws();
  if (i !== text.length) throw new Error('stats JSON: trailing text');
  return out;
}

// Unscaled BigInt at scale -> exact decimal text with scale fraction digits.
function decText(u, scale) {
  const neg = u < 0n, digits = (neg ? -u : u).toString().padStart(scale + 1, '0');
  return (neg ? '-' : '') + (scale ? `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}` : digits);
}

// A SQL expression turning every decimal inside e (of Delta type t) into
// its exact text (DuckDB prints a DECIMAL(p,s) with s fraction digits), so
// to_json keeps digits a double would lose.
function decimalsAsText(e, t) {
  if (typeof t === 'string') return decOf(t) ? `CAST(${e} AS VARCHAR)` : e;
  if (t.type === 'struct') {
    const fs = t.fields.map((f) => `${ident(f.name)} := ${decimalsAsText(`struct_extract(${e}, ${sqlStr(f.name)})`, f.type)}`);
    return `CASE WHEN (${e}) IS NULL THEN NULL ELSE struct_pack(${fs.join(', ')}) END`;
  }
  if (t.type === 'array') return `list_transform(${e}, (x) -> ${decimalsAsText('x', t.elementType)})`;
  if (t.type === 'map') {
    return `map_from_entries(list_transform(map_entries(${e}), (kv) -> struct_pack(key := ${decimalsAsText('kv.key', t.keyType)}, ` +
           `value := ${decimalsAsText('kv.value', t.valueType)})))`;
  }
  return e;
}

// Exact decimal text ("-12.5", "1E-7") -> unscaled BigInt at scale.
function unscaled(text, scale) {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(text);
  if (!m) throw new Error(`not a decimal: ${text}`);
  const frac = m[3] || '';
  const shift = scale - frac.length + Number(m[4] || 0);
  let v = BigInt(m[2] + frac);
  if (shift >= 0) v *= 10n ** BigInt(shift);
  else {
    const d = 10n ** BigInt(-shift);
    if (v % d) throw new Error(`${text} has more than ${scale} decimals`);
    v /= d;
  }
  return m[1] ? -v : v;
}

// "YYYY-MM-DD[THH:MM:SS[.f]][Z|+hh:mm]" -> microseconds since the epoch (BigInt).
function isoMicros(text) {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:\d{2})?$/.exec(text);
  if (!m) throw new Error(`not a timestamp: ${text}`);
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4] || 0), Number(m[5] || 0), Number(m[6] || 0));
  let us = BigInt(ms) * 1000n + BigInt(((m[7] || '') + '000000').slice(0, 6));
  if (m[8] && m[8] !== 'Z') {
    const off = BigInt((Number(m[8].slice(1, 3)) * 60 + Number(m[8].slice(4, 6))) * 60) * 1000000n;
    us += m[8][0] === '+' ? -off : off;
  }
  return us;
}

const utf8cmp = (a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
const num = (j) => { if (!(j instanceof Num)) throw new Error(`${JSON.stringify(j)} is not a number`); return j.num; };
const str = (j) => { if (typeof j !== 'string') throw new Error(`${JSON.stringify(j)} is not a string`); return j; };

// How one primitive type's values are read (SQL over column expression e)
// and compared, stats side and file side.
function statKind(type) {
  const dec = typeof type === 'string' && type.match(/^decimal\((\d+),\s*(\d+)\)$/);
  const big = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
  if (dec) {
    const scale = Number(dec[2]);
    return { sql: (e) => `CAST(${e} AS VARCHAR)`, file: (v) => unscaled(v, scale), stat: (j) => unscaled(num(j), scale), cmp: big };
  }
  switch (type) {
    case 'byte': case 'short': case 'integer': case 'long':
      return { sql: (e) => `CAST(${e} AS VARCHAR)`, file: (v) => BigInt(v), stat: (j) => BigInt(num(j)), cmp: big };
    case 'float': case 'double':
      return { sql: (e) => `CAST(${e} AS DOUBLE)`, file: Number, stat: (j) => Number(num(j)), cmp: (a, b) => a - b };
    case 'date':
      return { sql: (e) => `CAST((${e}) - DATE '1970-01-01' AS VARCHAR)`, file: (v) => BigInt(v) * 86400000000n, stat: (j) => isoMicros(str(j)), cmp: big };
    case 'timestamp': case 'timestamp_ntz':
      return { sql: (e) => `CAST(epoch_us(${e}) AS VARCHAR)`, file: (v) => BigInt(v), stat: (j) => isoMicros(str(j)), cmp: big };
    case 'string':
      return { sql: (e) => e, file: (v) => v, stat: str, cmp: utf8cmp };
    default:
      return null;   // boolean, binary, arrays, maps: nullCount only
  }
}

// Leaf columns through structs: [{path: [names], type}]
function leaves(fields, prefix = []) {
  const out = [];
  for (const f of fields) {
    if (f.type && typeof f.type === 'object' && f.type.type === 'struct') out.push(...leaves(f.type.fields, [...prefix, f.name]));
    else out.push({ path: [...prefix, f.name], type: f.type });
  }
  return out;
}
const dig = (o, path) => path.reduce((x, k) => (x && typeof x === 'object' && !(x instanceof Num) && Object.hasOwn(x, k) ? x[k] : undefined), o);

let statsChecked = 0;   // bounds and null counts checked so far

// Throws if a stats bound or null count of the file at `file` (read through
// the select list cols) does not hold.
async function checkFileStats(file, cols, schema, partitionColumns, addPath, statsText) {
  const stats = parseJsonRaw(statsText);
  const ls = leaves(schema.fields).filter((l) => !(l.path.length === 1 && partitionColumns.includes(l.path[0])));
  if (!ls.length) return;
  const expr = (p) => p.slice(1).reduce((e, k) => `struct_extract(${e}, ${sqlStr(k)})`, ident(p[0]));
  const sel = ls.map((l, i) => {
    const k = statKind(l.type);
    return `${k ? k.sql(expr(l.path)) : `(${expr(l.path)}) IS NULL`} AS c${i}`;
  }).join(', ');
  const r = await (await conn()).runAndReadAll(`SELECT ${sel} FROM (SELECT ${cols} FROM read_parquet(${sqlStr(file)}, hive_partitioning=false)) t`);
  const rows = r.getRowObjectsJson();
  ls.forEach((l, i) => {
    const name = l.path.join('.');
    const k = statKind(l.type);
    const isNull = (row) => (k ? row[`c${i}`] === null : row[`c${i}`] === true);
    const nc = dig(stats.nullCount, l.path);
    if (nc !== undefined) {
      const nulls = rows.filter(isNull).length;
      if (!(nc instanceof Num) || BigInt(nc.num) !== BigInt(nulls)) throw new Error(`${addPath}: nullCount of ${name} is ${nc && nc.num}, the file has ${nulls} nulls`);
      statsChecked++;
    }
    if (!k) return;
    for (const [which, sign] of [['minValues', 1], ['maxValues', -1]]) {
      const b = dig(stats[which], l.path);
      if (b === undefined || b === null) continue;
      const bound = k.stat(b);
      for (const row of rows) {
        if (isNull(row)) continue;
        const v = k.file(row[`c${i}`]);
        if (sign * k.cmp(bound, v) > 0) throw new Error(`${addPath}: ${which}.${name} = ${JSON.stringify(b)} does not bound the value ${row[`c${i}`]}`);
      }
      statsChecked++;
    }
  });
}

// The id column of one data file, as numbers.
async function fileIds(file) {
  const r = await (await conn()).runAndReadAll(`SELECT CAST(id AS VARCHAR) AS id FROM read_parquet(${sqlStr(file)}, hive_partitioning=false)`);
  return r.getRowObjectsJson().map((x) => Number(x.id));
}

// All rows of the snapshot as plain objects; opts.decimalsAsText: decimals
// (nested ones too) as exact text at the table's scale, older files' values
// cast to it.
async function readRows(store, snap, opts = {}) {
  const schema = JSON.parse(snap.metaData.schemaString);
  const types = Object.fromEntries(schema.fields.map((f) => [f.name, typeof f.type === 'string' ? f.type : f.type.type]));
  const c = await conn();
  const rows = [];
  for (const add of snap.files.values()) {
    const key = decodeURIComponent(add.path);
    const file = await store.localPath(key);
    const cols = await selectList(file, schema);
    let sel = `SELECT ${cols} FROM read_parquet(${sqlStr(file)}, hive_partitioning=false)`;
    if (opts.decimalsAsText) {
      const names = (await fileColumns(file)).map((x) => x.name);
      const byName = new Map(schema.fields.map((f) => [f.name, f]));
      sel = `SELECT ${names.map((n) => `${byName.has(n) ? decimalsAsText(ident(n), byName.get(n).type) : ident(n)} AS ${ident(n)}`).join(', ')} FROM (${sel}) s`;
    }
    const r = await c.runAndReadAll(`SELECT to_json(t) AS j FROM (${sel}) t`);
    const got = r.getRowObjectsJson().map((x) => JSON.parse(x.j));
    const stats = add.stats ? JSON.parse(add.stats) : null;
    if (stats && stats.numRecords !== got.length) throw new Error(`${add.path}: stats say ${stats.numRecords} rows, file has ${got.length}`);
    if (stats) await checkFileStats(file, cols, schema, snap.metaData.partitionColumns, add.path, add.stats);
    for (const row of got) {
      for (const p of snap.metaData.partitionColumns) row[p] = partitionValue(types[p], add.partitionValues[p], opts);
      rows.push(row);
    }
  }
  return rows;
}

module.exports = { localStore, s3Store, snapshot, readRows, commitTimestamp, logVersions, fileColumns, fileIds, parseJsonRaw, isoMicros, unscaled, conn,
                   typeChanges, widens, Num,
                   statsChecked: () => statsChecked };
