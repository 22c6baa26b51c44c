'use strict';
// Child of the SIGKILL test (scripts/lifecycle.js): writes 4 KiB records
// through one backend, `depth` in flight, then fsync; after each fsync has
// resolved it reports "ack N" (records 0..N-1 are written and synced) on
// stdout with a synchronous write, so an acknowledgement the parent saw was
// really made before any kill.  Usage: node kill-writer.js <backend> <file> [seed]
const fs = require('node:fs');
const kaio = require('../dist/lib');
const { record } = require('./lifecycle');

const [backend, file, seed = '1'] = process.argv.slice(2);
const depth = 8;
const fd = fs.openSync(file, 'w+');
const ctx = backend === 'batch' ? new kaio.Ring({ entries: depth }) : kaio.createContext({ backend, entries: depth });
const pending = new Map();
if (backend === 'batch') ctx.onCompletion((tag, res) => { const k = tag === 0xffffffff ? -1 : tag; const f = pending.get(k); pending.delete(k); f(res); });
(async () => {
  const pool = backend === 'io_uring' ? ctx.registerBuffers({ count: depth, size: 4096, fallback: true }) : null;
  for (let n = 0; ; n += depth) {
    const ops = [];
    for (let i = n; i < n + depth; i++) {
      const buf = pool ? pool.buffers[i % depth] : Buffer.alloc(4096);
      record(i, Number(seed)).copy(buf);
      if (backend === 'batch') {
        ops.push(new Promise((resolve, reject) => { pending.set(i, (res) => (res === 4096 ? resolve() : reject(new Error(`res ${res}`)))); }));
        ctx.prepWrite(fd, buf, i * 4096, i);
      } else ops.push(ctx.write(fd, buf, i * 4096).then((w) => { if (w !== 4096) throw new Error(`short write ${w}`); }));
    }
    if (backend === 'batch') ctx.submit();
    await Promise.all(ops);
    if (backend === 'batch') { await new Promise((resolve) => { pending.set(-1, resolve); ctx.prepFsync(fd, 0xffffffff); ctx.submit(); }); }
    else await ctx.fsync(fd);
    fs.writeSync(1, `ack ${n + depth}\n`);
  }
})().catch((e) => { fs.writeSync(2, `writer failed: ${e.stack}\n`); process.exit(1); });
