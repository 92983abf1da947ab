// Cross-checks SESP's Parquet writer and reader against DuckDB.
//   node check.js ours DIR           DuckDB reads every DIR/X.parquet written by
//                                    pq_gen and must see exactly DIR/X.jsonl;
//   node check.js duck DIR PQ_GEN    DuckDB writes files (every codec it has,
//                                    row-group and page-version variants) and
//                                    `PQ_GEN read` must print exactly the values
//                                    DuckDB reads back.
// Values are compared structurally against pq_gen's canonical typed form
// ("i:", "f:", "s:", "x:", "d:", "t:", "m:", "u:", lists, [k, v] maps, structs).
// Exits non-zero on any mismatch.
'use strict';
const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const duckdb = require('@duckdb/node-api');

function hex(bytes) {
  return Buffer.from(bytes).toString('hex');
}

function sameFloat(exp, act) {
  let e;
  if (exp === 'inf') e = Infinity;
  else if (exp === '-inf') e = -Infinity;
  else e = Number(exp);
  if (Number.isNaN(e)) return typeof act === 'number' && Number.isNaN(act);
  return typeof act === 'number' && e === act;
}

// Returns null if equal, else a description of the first difference.
function cmp(exp, act, where) {
  if (exp === null) return act === null || act === undefined ? null : `${where}: expected null, got ${show(act)}`;
  if (act === null || act === undefined) return `${where}: expected ${JSON.stringify(exp)}, got null`;
  if (typeof exp === 'boolean') return act === exp ? null : `${where}: expected ${exp}, got ${show(act)}`;
  if (Array.isArray(exp)) {
    if (act instanceof duckdb.DuckDBMapValue) {
      if (act.entries.length !== exp.length) return `${where}: map of ${act.entries.length} entries, expected ${exp.length}`;
      for (let i = 0; i < exp.length; i++) {
        const d = cmp(exp[i][0], act.entries[i].key, `${where}{${i}}.key`) || cmp(exp[i][1], act.entries[i].value, `${where}{${i}}.value`);
        if (d) return d;
      }
      return null;
    }
    if (!(act instanceof duckdb.DuckDBListValue)) return `${where}: expected a list, got ${show(act)}`;
    if (act.items.length !== exp.length) return `${where}: list of ${act.items.length} items, expected ${exp.length}`;
    for (let i = 0; i < exp.length; i++) {
      const d = cmp(exp[i], act.items[i], `${where}[${i}]`);
      if (d) return d;
    }
    return null;
  }
  if (typeof exp === 'object') {
    if (!(act instanceof duckdb.DuckDBStructValue)) return `${where}: expected a struct, got ${show(act)}`;
    const ek = Object.keys(exp), ak = Object.keys(act.entries);
    if (ek.join(',') !== ak.join(',')) return `${where}: struct fields ${ak} expected ${ek}`;
    for (const k of ek) {
      const d = cmp(exp[k], act.entries[k], `${where}.${k}`);
      if (d) return d;
    }
    return null;
  }
  const tag = exp.slice(0, 2), body = exp.slice(2);
  let ok;
  switch (tag) {
    case 'i:': ok = (typeof act === 'number' && Number.isInteger(act) || typeof act === 'bigint') && BigInt(act) === BigInt(body); break;
    case 'f:': ok = sameFloat(body, act); break;
    case 's:': ok = typeof act === 'string' && act === body; break;
    case 'x:': ok = act instanceof duckdb.DuckDBBlobValue && hex(act.bytes) === body; break;
    case 'd:': ok = act instanceof duckdb.DuckDBDateValue && act.days === Number(body); break;
    case 't:': ok = (act instanceof duckdb.DuckDBTimestampValue || act instanceof duckdb.DuckDBTimestampTZValue) && act.micros === BigInt(body); break;
    case 'm:': {
      const [u, s] = body.split('/');
      ok = act instanceof duckdb.DuckDBDecimalValue && act.value === BigInt(u) && act.scale === Number(s);
      break;
    }
    case 'u:': ok = act instanceof duckdb.DuckDBUUIDValue && act.toString() === body; break;
    default: return `${where}: unknown expected form ${exp}`;
  }
  return ok ? null : `${where}: expected ${exp}, got ${show(act)}`;
}

function show(v) {
  if (typeof v === 'bigint') return `${v}n`;
  if (v instanceof duckdb.DuckDBBlobValue) return `blob:${hex(v.bytes)}`;
  if (v && typeof v === 'object' && v.toString !== Object.prototype.toString) return `${v.constructor.name}(${v.toString()})`;
  try { return JSON.stringify(v); } catch { return String(v); }
}

async function readWithDuck(conn, file) {
  const r = await conn.runAndReadAll(`SELECT * FROM read_parquet('${file}')`);
  const names = r.columnNames();
  return { names, rows: r.getRows() };
}

function compareRows(label, expLines, duck) {
  if (expLines.length !== duck.rows.length) {
    console.log(`FAIL ${label}: ${duck.rows.length} rows, expected ${expLines.length}`);
    return false;
  }
  for (let i = 0; i < expLines.length; i++) {
    const exp = JSON.parse(expLines[i]);
    const keys = Object.keys(exp);
    if (keys.join(',') !== duck.names.join(',')) {
      console.log(`FAIL ${label}: columns ${duck.names} expected ${keys}`);
      return false;
    }
    for (let c = 0; c < keys.length; c++) {
      const d = cmp(exp[keys[c]], duck.rows[i][c], `row ${i}.${keys[c]}`);
      if (d) {
        console.log(`FAIL ${label}: ${d}`);
        return false;
      }
    }
  }
  console.log(`ok   ${label} (${expLines.length} rows)`);
  return true;
}

function lines(text) {
  return text.split('\n').filter((l) => l.length > 0);
}

const DUCK_SELECT = `
SELECT
  i::INTEGER AS c_int,
  (i * 1000003 - 5000000000)::BIGINT AS c_bigint,
  (i % 200 - 100)::TINYINT AS c_tiny,
  (i % 60000 - 30000)::SMALLINT AS c_small,
  (i % 250)::UTINYINT AS c_utiny,
  (i * 7919)::UINTEGER AS c_uint,
  (i * 1234567890123)::UBIGINT AS c_ubig,
  CASE WHEN i % 7 = 3 THEN NULL ELSE i / 3.0 END::DOUBLE AS c_double,
  CASE WHEN i % 11 = 0 THEN 'nan'::FLOAT ELSE (i / 7.0)::FLOAT END AS c_float,
  CASE WHEN i % 5 = 0 THEN NULL ELSE 'str_' || (i % 100) END AS c_str,
  'long ' || repeat('x\u00e9', i % 40) || i AS c_long,
  (i % 3 = 0) AS c_bool,
  CASE WHEN i % 13 = 0 THEN NULL ELSE (i % 2 = 0) END AS c_nbool,
  DATE '2020-01-01' + (i % 3000)::INTEGER - 1500 AS c_date,
  TIMESTAMP '2021-06-01 00:00:00' + to_microseconds(i * 1000003) AS c_ts,
  TIMESTAMPTZ '2021-06-01 00:00:00+00' + to_microseconds(i * 77) AS c_tstz,
  (i * 1.25 - 5000)::DECIMAL(9,2) AS c_dec9,
  (i * 12345.6789 - 1e8)::DECIMAL(18,4) AS c_dec18,
  (i::HUGEINT * 10000000000000::HUGEINT - 7)::DECIMAL(38,0) AS c_dec38,
  (i % 200 * 3.5 - 10)::DECIMAL(4,1) AS c_dec4,
  CASE WHEN i % 10 = 0 THEN NULL WHEN i = 1 THEN '9999999999999999999999999999.9999999999' WHEN i = 2 THEN '-9999999999999999999999999999.9999999999'
       ELSE ((i - 6000) * 123456789012345678901::HUGEINT)::VARCHAR || '.' || lpad((i * 7919 % 10000000000)::VARCHAR, 10, '0') END::DECIMAL(38,10) AS c_dec38s,
  CASE WHEN i % 10 = 0 THEN NULL WHEN i = 1 THEN '9999999999999999.9999' WHEN i = 2 THEN '-9999999999999999.9999'
       ELSE ((i - 6000) * 1234567890123::HUGEINT)::VARCHAR || '.' || lpad((i % 10000)::VARCHAR, 4, '0') END::DECIMAL(20,4) AS c_dec20,
  ('00000000-0000-4000-8000-' || lpad(i::VARCHAR, 12, '0'))::UUID AS c_uuid,
  ('blob' || i)::BLOB AS c_blob,
  [i, i + 1, NULL] AS c_ilist,
  CASE WHEN i % 4 = 0 THEN NULL WHEN i % 4 = 1 THEN [] ELSE ['a' || i, NULL, 'b'] END AS c_slist,
  {'x': i, 'y': 'v' || i, 'z': [i * 1.5, NULL]} AS c_struct,
  CASE WHEN i % 6 = 0 THEN NULL ELSE MAP {('k' || (i % 3)): i, 'fixed': NULL} END AS c_map,
  [{'a': i, 'b': [i, NULL]}, NULL] AS c_los
FROM range(0, 12000) t(i)`;

// Unscaled integer text at scale -> exact decimal text ("-1234", 2 -> "-12.34").
function decText(t, scale) {
  const neg = t.startsWith('-'), digits = (neg ? t.slice(1) : t).padStart(scale + 1, '0');
  return `${neg ? '-' : ''}${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
}

// Range filters that DuckDB answers with the help of our row-group/page
// statistics: wrong min/max would silently drop rows.
async function checkPruning(conn, file, expLines) {
  const rows = expLines.map((l) => JSON.parse(l));
  const probes = [
    ['c_int64', (v) => BigInt(v.slice(2)), (t) => `${t}::BIGINT`],
    ['c_int32', (v) => BigInt(v.slice(2)), (t) => `${t}::INTEGER`],
    ['c_string', (v) => v.slice(2), (t) => `'${t.replace(/'/g, "''")}'`],
    ['c_date', (v) => BigInt(v.slice(2)), (t) => `(DATE '1970-01-01' + ${t}::INTEGER)`],
    // FIXED decimals: bounds in signed order (negatives are 0xff.. bytes)
    ['c_dec20', (v) => BigInt(v.slice(2).split('/')[0]), (t) => `'${decText(t, 2)}'::DECIMAL(20,2)`],
    ['c_decfx', (v) => BigInt(v.slice(2).split('/')[0]), (t) => `'${decText(t, 6)}'::DECIMAL(38,6)`],
  ];
  for (const [col, conv, lit] of probes) {
    for (const at of [17, 1234, 4321]) {
      const pivot = rows[at][col];
      if (pivot === null) continue;
      const t = conv(pivot);
      const want = rows.filter((r) => r[col] !== null && conv(r[col]) >= t).length;
      const cmpUtf8 = col === 'c_string';
      const sql = `SELECT count(*) FROM read_parquet('${file}') WHERE ${col} >= ${lit(String(t))}`;
      const got = Number((await conn.runAndReadAll(sql)).getRows()[0][0]);
      let expect = want;
      if (cmpUtf8) {
        // JS compares UTF-16 code units; recount with UTF-8 byte order.
        const tb = Buffer.from(t, 'utf8');
        expect = rows.filter((r) => r[col] !== null && Buffer.compare(Buffer.from(conv(r[col]), 'utf8'), tb) >= 0).length;
      }
      if (got !== expect) {
        console.log(`FAIL pruning ${path.basename(file)}: ${col} >= ${t}: DuckDB counts ${got}, expected ${expect}`);
        return false;
      }
    }
  }
  return true;
}

async function main() {
  const [mode, dir, pqGen] = process.argv.slice(2);
  const inst = await duckdb.DuckDBInstance.create(':memory:');
  const conn = await inst.connect();
  await conn.run('SET threads = 1');
  let ok = true;
  if (mode === 'ours') {
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.parquet')).sort();
    if (files.length === 0) throw new Error(`no parquet files in ${dir}`);
    for (const f of files) {
      const base = f.slice(0, -'.parquet'.length);
      const expLines = lines(fs.readFileSync(path.join(dir, base + '.jsonl'), 'utf8'));
      let duck;
      try {
        duck = await readWithDuck(conn, path.join(dir, f));
      } catch (e) {
        console.log(`FAIL ${f}: DuckDB cannot read it: ${e.message}`);
        ok = false;
        continue;
      }
      ok = compareRows(`DuckDB reads ${f}`, expLines, duck) && ok;
      if (base.startsWith('sesp_flat_')) ok = (await checkPruning(conn, path.join(dir, f), expLines)) && ok;
    }
  } else if (mode === 'duck') {
    fs.mkdirSync(dir, { recursive: true });
    const variants = [];
    for (const codec of ['uncompressed', 'snappy', 'gzip', 'zstd', 'lz4', 'lz4_raw']) variants.push({ name: codec, opts: `COMPRESSION ${codec}` });
    variants.push({ name: 'zstd_smallrg', opts: 'COMPRESSION zstd, ROW_GROUP_SIZE 2048' });
    variants.push({ name: 'snappy_v2', opts: 'COMPRESSION snappy, PARQUET_VERSION V2' });
    variants.push({ name: 'zstd_v2', opts: 'COMPRESSION zstd, PARQUET_VERSION V2, ROW_GROUP_SIZE 5000' });
    for (const v of variants) {
      const file = path.join(dir, `duck_${v.name}.parquet`);
      try {
        await conn.run(`COPY (${DUCK_SELECT}) TO '${file}' (FORMAT parquet, ${v.opts})`);
      } catch (e) {
        const optional = v.name.startsWith('lz4');
        console.log(`${optional ? 'skip' : 'FAIL'} duck_${v.name}: DuckDB cannot write it: ${e.message.split('\n')[0]}`);
        if (!optional) ok = false;
        continue;
      }
      let out;
      try {
        out = execFileSync(pqGen, ['read', file], { maxBuffer: 1 << 30, encoding: 'utf8' });
      } catch (e) {
        console.log(`FAIL duck_${v.name}: SESP reader failed: ${(e.stderr || e.message).toString().trim()}`);
        ok = false;
        continue;
      }
      const duck = await readWithDuck(conn, file);
      ok = compareRows(`SESP reads duck_${v.name}.parquet`, lines(out), duck) && ok;
    }
  } else {
    console.error('usage: check.js ours DIR | check.js duck DIR PQ_GEN');
    process.exit(2);
  }
  process.exit(ok ? 0 : 1);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
