// The S3 side of the Delta integration test: a proxy in front of s3rver that
// injects failures, stalls and trickles replies, and verifies every SigV4
// signature (and, for temporary keys, the session token) from the spec.
'use strict';
const http = require('http');
const crypto = require('crypto');

// SigV4 as AWS documents it, written here from the spec (curl signs on the
// other side): null when req carries a valid signature by one of secrets.
const rfc3986 = (x) => encodeURIComponent(x).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
const sha256hex = (b) => crypto.createHash('sha256').update(b).digest('hex');
const hmac = (k, d) => crypto.createHmac('sha256', k).update(d).digest();
// tokens: access key -> the session token its requests must carry (signed,
// as every x-amz-* header is)
function sigv4Problem(req, body, secrets, tokens = {}) {
  const auth = req.headers.authorization;
  if (!auth) return 'unsigned request';
  const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(auth);
  if (!m) return `malformed Authorization ${auth}`;
  const [, akid, date, region, service, signed, sig] = m;
  if (!(akid in secrets)) return `unknown access key ${akid}`;
  if (akid in tokens && req.headers['x-amz-security-token'] !== tokens[akid]) return `access key ${akid} without its session token`;
  const names = signed.split(';');
  for (const h of ['host', 'x-amz-date', 'x-amz-content-sha256']) if (!names.includes(h)) return `${h} is not signed`;
  // S3: Content-Type and every x-amz-* header sent must be signed, and a
  // signed header must be sent
  for (const h of Object.keys(req.headers)) if ((h === 'content-type' || h.startsWith('x-amz-')) && !names.includes(h)) return `${h} sent unsigned`;
  for (const h of names) if (req.headers[h] === undefined) return `${h} signed but not sent`;
  if (req.headers['x-amz-content-sha256'] !== sha256hex(body)) return 'x-amz-content-sha256 is not the payload hash';
  const [rawPath, rawQuery] = req.url.split('?');
  const canonUri = rawPath.split('/').map((seg) => rfc3986(decodeURIComponent(seg))).join('/');
  const canonQuery = (rawQuery ? rawQuery.split('&') : []).map((kv) => {
    const i = kv.indexOf('=');
    return [rfc3986(decodeURIComponent(i < 0 ? kv : kv.slice(0, i))), rfc3986(decodeURIComponent(i < 0 ? '' : kv.slice(i + 1)))];
  }).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join('&');
  const canonHeaders = names.map((h) => `${h}:${String(req.headers[h]).trim().replace(/\s+/g, ' ')}\n`).join('');
  const creq = [req.method, canonUri, canonQuery, canonHeaders, signed, req.headers['x-amz-content-sha256']].join('\n');
  const scope = `${date}/${region}/${service}/aws4_request`;
  const sts = ['AWS4-HMAC-SHA256', req.headers['x-amz-date'], scope, sha256hex(creq)].join('\n');
  const key = hmac(hmac(hmac(hmac('AWS4' + secrets[akid], date), region), service), 'aws4_request');
  return hmac(key, sts).toString('hex') === sig ? null : `signature mismatch for ${req.method} ${req.url}`;
}

// ctl.stall / ctl.trickle: probabilities of a reply that stalls (a GET's
// headers arrive and its body never does; any other request gets nothing)
// or trickles its body a byte every 150 ms, both after the request reached
// s3rver; stallNextCommit / trickleNextLogRead force one on the next commit
// PUT / _delta_log JSON GET.  Stalled sockets are closed after ctl.stallMs.
function startProxy(upstream) {
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const ctl = { fail: 0.15, reset: 0.05, dropAfter: 0.05, failCommits: false, injected: 0,
                stall: 0, trickle: 0, stallMs: 3000, stallNextCommit: false, trickleNextLogRead: false, stalls: 0, trickles: 0,
                secrets: { S3RVER: 'S3RVER' }, tokens: {}, signed: 0, signedBy: {}, sigProblems: [], vhost: 0, pathStyle: 0 };
  let condChain = Promise.resolve();
  const forward = (req, body) => new Promise((resolve, reject) => {
    const u = http.request({ host: '127.0.0.1', port: upstream, method: req.method, path: req.url, headers: req.headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    u.on('error', reject);
    u.end(body);
  });
  // the Host header goes along: s3rver finds a virtual-hosted bucket there
  const head = (req) => new Promise((resolve, reject) => {
    const u = http.request({ host: '127.0.0.1', port: upstream, method: 'HEAD', path: req.url.split('?')[0], headers: { host: req.headers.host } }, (res) => { res.resume(); resolve(res.statusCode); });
    u.on('error', reject);
    u.end();
  });
  const hold = (res) => setTimeout(() => res.socket && res.socket.destroy(), ctl.stallMs);
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const problem = sigv4Problem(req, body, ctl.secrets, ctl.tokens);
      if (problem) { if (ctl.sigProblems.length < 5) ctl.sigProblems.push(problem); } else {
        ctl.signed++;
        const akid = /Credential=([^/]+)\//.exec(req.headers.authorization)[1];
        ctl.signedBy[akid] = (ctl.signedBy[akid] || 0) + 1;
        // s3rver knows only its own key: a temporary key checked here goes
        // on as an anonymous request, which s3rver serves
        if (akid in ctl.tokens) {
          for (const h of ['authorization', 'x-amz-date', 'x-amz-content-sha256', 'x-amz-security-token']) delete req.headers[h];
        }
      }
      if (/^lake\.s3\.localhost(:\d+)?$/.test(req.headers.host || '')) ctl.vhost++; else ctl.pathStyle++;
      try {
        if (ctl.failCommits && req.method === 'PUT' && /_delta_log\/\d{20}\.json/.test(req.url)) {
          ctl.injected++;
          res.writeHead(503); res.end('<Error><Code>ServiceUnavailable</Code></Error>');
          return;
        }
        const isCommitPut = req.method === 'PUT' && /_delta_log\/\d{20}\.json$/.test(req.url.split('?')[0]);
        const isLogRead = req.method === 'GET' && /_delta_log\/\d{20}\.json$/.test(req.url.split('?')[0]);
        let slow = null;
        if (ctl.stallNextCommit && isCommitPut) { ctl.stallNextCommit = false; slow = 'stall'; }
        else if (ctl.trickleNextLogRead && isLogRead) { ctl.trickleNextLogRead = false; slow = 'trickle'; }
        const r = rand();
        if (!slow && r < ctl.fail) {
          ctl.injected++;
          const slowDown = r < ctl.fail / 2;
          res.writeHead(slowDown ? 503 : 500, { 'Content-Type': 'application/xml' });
          res.end(`<Error><Code>${slowDown ? 'SlowDown' : 'InternalError'}</Code><Message>injected</Message></Error>`);
          return;
        }
        if (!slow && r < ctl.fail + ctl.reset) { ctl.injected++; req.socket.destroy(); return; }
        const drop = !slow && r < ctl.fail + ctl.reset + ctl.dropAfter;
        if (!slow) {
          const r2 = rand();
          if (r2 < ctl.stall) slow = 'stall';
          else if (r2 < ctl.stall + ctl.trickle) slow = 'trickle';
        }
        let up;
        if (req.method === 'PUT' && req.headers['if-none-match'] === '*') {
          // s3rver ignores If-None-Match: enforce it here, one conditional put at a time
          const p = condChain.then(async () => ((await head(req)) === 200 ? { status: 412, headers: {}, body: Buffer.from('<Error><Code>PreconditionFailed</Code></Error>') } : forward(req, body)));
          condChain = p.catch(() => {});
          up = await p;
        } else up = await forward(req, body);
        if (drop) { ctl.injected++; req.socket.destroy(); return; }   // the write landed, the answer is lost
        if (slow === 'stall') {
          // the request did its work; the reply hangs past the client's timeout
          ctl.stalls++;
          if (up.body.length && req.method !== 'HEAD') { res.writeHead(up.status, up.headers); res.flushHeaders(); }
          hold(res);
          return;
        }
        if (slow === 'trickle' && up.body.length > 1 && req.method !== 'HEAD') {
          ctl.trickles++;
          res.writeHead(up.status, up.headers);
          let i = 0;
          const t = setInterval(() => {
            if (res.destroyed || !res.socket || res.socket.destroyed) { clearInterval(t); return; }
            if (i >= up.body.length) { clearInterval(t); res.end(); return; }
            res.write(up.body.subarray(i, i + 1));
            i++;
          }, 150);
          return;
        }
        res.writeHead(up.status, up.headers);
        res.end(up.body);
      } catch (e) {
        res.writeHead(502); res.end(String(e));
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ port: server.address().port, ctl, server })));
}

module.exports = { sigv4Problem, startProxy };
