// Parquet benchmark: SESP's writer/reader (pq_bench) vs DuckDB, single-threaded,
// on the same 10 M rows x 8 columns, per codec.  Usage:
//   node bench.js PQ_BENCH [NROWS] [WORKDIR]
// Needs @duckdb/node-api (resolved from tests/integration/parquet/node_modules).
'use strict';
const path = require('path');
const fs = require('fs');
const { execFileSync } = require('child_process');
const duckdb = require(path.join(__dirname, '../../tests/integration/parquet/node_modules/@duckdb/node-api'));

const [pqBench, nrowsArg, workArg] = process.argv.slice(2);
const NROWS = Number(nrowsArg || 10000000);
const WORK = workArg || fs.mkdtempSync('/tmp/pqbench-');

const TABLE = `
CREATE TABLE t AS SELECT
  ((i * 7) % 1000000)::INTEGER AS c_i32,
  (i * 1000003)::BIGINT AS c_i64,
  (i / 3.0)::DOUBLE AS c_d1,
  ((i % 1000) * 0.25)::DOUBLE AS c_d2,
  'k' || (i % 1000) AS c_short,
  'value-' || i || '-lorem-ipsum-dolor-sit-amet' AS c_long,
  make_timestamptz(1700000000000000 + i * 1000) AS c_ts,
  (i % 3 = 0) AS c_flag
FROM range(0, ${NROWS}) r(i)`;

const FINGERPRINT = (f) => `SELECT count(*), sum(hash(c_i32, c_i64, c_d1, c_d2, c_short, c_long, epoch_us(c_ts), c_flag))::VARCHAR FROM read_parquet('${f}')`;
const SCAN = (f) => `SELECT min(c_i32), sum(c_i64), sum(c_d1), sum(c_d2), max(c_short), max(c_long), max(c_ts), count_if(c_flag) FROM read_parquet('${f}')`;

async function timed(conn, sql) {
  const t0 = process.hrtime.bigint(), c0 = process.cpuUsage();
  const r = await conn.runAndReadAll(sql);
  const c = process.cpuUsage(c0);
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, cpu: (c.user + c.system) / 1e6, rows: r.getRows() };
}

// DuckDB's aggregate row as strings/numbers comparable with pq_bench scan's "result".
function norm(row) {
  return row.map((v) => (typeof v === 'bigint' ? v.toString()
    : v && typeof v === 'object' && 'micros' in v ? v.micros.toString()
      : typeof v === 'number' ? v : String(v)));
}

function sameAggregates(ours, theirs) {
  return ours.length === theirs.length && ours.every((x, k) => {
    const y = theirs[k];
    if (typeof x === 'number' || typeof y === 'number') {
      const a = Number(x), b = Number(y);
      return Math.abs(a - b) <= 1e-9 * Math.max(Math.abs(a), Math.abs(b), 1);
    }
    return String(x) === String(y);
  });
}

// Best of REPS scans of one file by each side, alternating; both compute the
// same 8 aggregates (SCAN) and must agree on them.
const REPS = 3;
async function scanBoth(conn, file) {
  let s = Infinity, d = Infinity, sc = Infinity, dc = Infinity, ours, theirs;
  for (let k = 0; k < REPS; k++) {
    const o = JSON.parse(execFileSync(pqBench, ['scan', file], { encoding: 'utf8' }));
    s = Math.min(s, o.seconds);
    sc = Math.min(sc, o.cpu);
    ours = o.result;
    const t = await timed(conn, SCAN(file));
    d = Math.min(d, t.seconds);
    dc = Math.min(dc, t.cpu);
    theirs = norm(t.rows[0]);
  }
  return { s, d, sc, dc, same: sameAggregates(ours, theirs), ours, theirs };
}

async function main() {
  const inst = await duckdb.DuckDBInstance.create(':memory:');
  const conn = await inst.connect();
  await conn.run('SET threads = 1');
  await conn.run("SET TimeZone = 'UTC'");
  await conn.run(TABLE);
  console.log(`rows: ${NROWS}, work dir: ${WORK}`);
  console.log('Write (wall s) and size:');
  console.log('codec         | SESP write s | DuckDB write s | DuckDB/SESP | SESP MB | DuckDB MB | same rows');
  const scans = [];
  let ok = true;
  for (const codec of ['uncompressed', 'snappy', 'gzip', 'zstd', 'lz4_raw']) {
    const ours = path.join(WORK, `sesp_${codec}.parquet`), theirs = path.join(WORK, `duck_${codec}.parquet`);
    const w = JSON.parse(execFileSync(pqBench, ['write', ours, codec, String(NROWS)], { encoding: 'utf8' }));
    const d = await timed(conn, `COPY t TO '${theirs}' (FORMAT parquet, COMPRESSION ${codec})`);
    const dsize = fs.statSync(theirs).size;
    const so = await scanBoth(conn, ours);
    const st = await scanBoth(conn, theirs);
    const fa = (await conn.runAndReadAll(FINGERPRINT(ours))).getRows()[0].join('/');
    const fb = (await conn.runAndReadAll(FINGERPRINT(theirs))).getRows()[0].join('/');
    const f2 = (x) => x.toFixed(2);
    console.log([codec.padEnd(13), f2(w.seconds).padStart(12), f2(d.seconds).padStart(14),
      f2(d.seconds / w.seconds).padStart(11), (w.bytes / 1e6).toFixed(1).padStart(7),
      (dsize / 1e6).toFixed(1).padStart(9), fa === fb ? 'yes' : `NO (${fa} vs ${fb})`].join(' | '));
    for (const [which, r] of [['SESP', so], ['DuckDB', st]]) {
      scans.push([codec.padEnd(13), which.padEnd(6), f2(r.s).padStart(6), f2(r.d).padStart(8), f2(r.d / r.s).padStart(11),
        f2(r.sc).padStart(10), f2(r.dc).padStart(10), f2(r.dc / r.sc).padStart(15),
        r.same ? 'yes' : `NO (${JSON.stringify([r.ours, r.theirs])})`].join(' | '));
    }
    ok = ok && fa === fb && so.same && st.same;
    fs.rmSync(ours);
    fs.rmSync(theirs);
  }
  console.log(`\nScan (same file, same 8 aggregates, best of ${REPS}; wall s and CPU s = user + system):`);
  console.log('codec         | file   | SESP s | DuckDB s | DuckDB/SESP | SESP cpu s | DuckDB cpu | DuckDB/SESP cpu | same aggregates');
  for (const l of scans) console.log(l);
  if (!ok) process.exitCode = 1;
}

main().catch((e) => { console.error(e); process.exit(1); });
