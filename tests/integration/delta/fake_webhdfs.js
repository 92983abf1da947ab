// A minimal WebHDFS server over a local directory, enough for the SESP
// WebHDFS backend: CREATE (namenode 307 redirect, then the data on the
// "datanode" URL; overwrite=false refuses existing files), OPEN (with
// offset/length, via a redirect), GETFILESTATUS, LISTSTATUS, MKDIRS, RENAME,
// DELETE.  Errors use the RemoteException JSON of the real thing.
'use strict';
const fs = require('fs');
const path = require('path');
const http = require('http');

function startFakeWebhdfs(root) {
  const remote = (res, status, exception, message) => {
    res.writeHead(status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ RemoteException: { exception, javaClassName: `org.apache.hadoop.${exception}`, message } }));
  };
  const json = (res, obj) => { res.writeHead(200, { 'Content-Type': 'application/json' }); res.end(JSON.stringify(obj)); };
  const status = (p, name) => {
    const st = fs.statSync(p);
    return { pathSuffix: name, type: st.isDirectory() ? 'DIRECTORY' : 'FILE', length: st.isDirectory() ? 0 : st.size,
             modificationTime: Math.floor(st.mtimeMs), permission: '644', owner: 'sesp', group: 'sesp', replication: 1, blockSize: 134217728 };
  };
  let port = 0;
  const server = http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url, 'http://x');
      if (!u.pathname.startsWith('/webhdfs/v1/')) return remote(res, 404, 'FileNotFoundException', 'bad prefix');
      const hp = decodeURIComponent(u.pathname.slice('/webhdfs/v1'.length));
      if (hp.split('/').includes('..')) return remote(res, 400, 'IllegalArgumentException', 'bad path');
      const p = path.join(root, hp);
      const op = (u.searchParams.get('op') || '').toUpperCase();
      try {
        if (op === 'CREATE' && req.method === 'PUT') {
          const overwrite = u.searchParams.get('overwrite') === 'true';
          if (!u.searchParams.get('datanode')) {
            if (!overwrite && fs.existsSync(p)) return remote(res, 403, 'FileAlreadyExistsException', `${hp} already exists`);
            res.writeHead(307, { Location: `http://127.0.0.1:${port}${u.pathname}?${u.searchParams}&datanode=true` });
            return res.end();
          }
          fs.mkdirSync(path.dirname(p), { recursive: true });
          try {
            fs.writeFileSync(p, Buffer.concat(chunks), { flag: overwrite ? 'w' : 'wx' });
          } catch (e) {
            if (e.code === 'EEXIST') return remote(res, 403, 'FileAlreadyExistsException', `${hp} already exists`);
            throw e;
          }
          res.writeHead(201, { Location: `hdfs://${hp}` });
          return res.end();
        }
        if (op === 'OPEN' && req.method === 'GET') {
          if (!u.searchParams.get('datanode')) {
            if (!fs.existsSync(p)) return remote(res, 404, 'FileNotFoundException', `File ${hp} does not exist.`);
            res.writeHead(307, { Location: `http://127.0.0.1:${port}${u.pathname}?${u.searchParams}&datanode=true` });
            return res.end();
          }
          const data = fs.readFileSync(p);
          const off = Number(u.searchParams.get('offset') || 0);
          const len = u.searchParams.has('length') ? Number(u.searchParams.get('length')) : data.length - off;
          res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
          return res.end(data.subarray(off, off + len));
        }
        if (op === 'GETFILESTATUS') {
          if (!fs.existsSync(p)) return remote(res, 404, 'FileNotFoundException', `File does not exist: ${hp}`);
          return json(res, { FileStatus: status(p, '') });
        }
        if (op === 'LISTSTATUS') {
          if (!fs.existsSync(p)) return remote(res, 404, 'FileNotFoundException', `File ${hp} does not exist.`);
          const names = fs.statSync(p).isDirectory() ? fs.readdirSync(p) : [''];
          return json(res, { FileStatuses: { FileStatus: names.map((n) => status(path.join(p, n), n)) } });
        }
        if (op === 'MKDIRS' && req.method === 'PUT') { fs.mkdirSync(p, { recursive: true }); return json(res, { boolean: true }); }
        if (op === 'RENAME' && req.method === 'PUT') {
          const dst = path.join(root, u.searchParams.get('destination'));
          if (!fs.existsSync(p) || fs.existsSync(dst)) return json(res, { boolean: false });
          fs.mkdirSync(path.dirname(dst), { recursive: true });
          fs.renameSync(p, dst);
          return json(res, { boolean: true });
        }
        if (op === 'DELETE' && req.method === 'DELETE') {
          if (!fs.existsSync(p)) return json(res, { boolean: false });
          fs.rmSync(p, { recursive: true });
          return json(res, { boolean: true });
        }
        return remote(res, 400, 'IllegalArgumentException', `unsupported op ${op} ${req.method}`);
      } catch (e) {
        return remote(res, 500, 'IOException', String(e));
      }
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => { port = server.address().port; resolve({ port, server }); }));
}

module.exports = { startFakeWebhdfs };
