#!/usr/bin/env node
'use strict';
// A smoke check of an installed kaio on whatever Node runs it (scripts/check-arm64.sh runs
// it under qemu-user): which backend createContext() picks and why, a real read through it,
// through each backend named explicitly, and through a Ring; which kaio.node was loaded.
// Exit code 1 when the read through createContext() fails or returns the wrong bytes.
//   node scripts/smoke.js [path-or-name-of-kaio]
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const kaio = require(process.argv[2] ? path.resolve(process.argv[2]) : 'kaio');

function why(e) {
  return `${e.code ?? ''} ${e.syscall ?? ''}: ${String(e.message).split('\n')[0]}`;
}

async function readThrough(ctx, fd, data) {
  const buf = Buffer.alloc(4000);
  const n = await ctx.read(fd, buf, 5000);
  return n === 4000 && buf.equals(data.subarray(5000, 9000));
}

async function main() {
  console.log(`node ${process.version} ${process.platform}-${process.arch} N-API ${process.versions.napi}`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-smoke-'));
  const data = crypto.randomBytes(10000);
  fs.writeFileSync(path.join(dir, 'data'), data);
  const fd = fs.openSync(path.join(dir, 'data'), 'r');
  let failed = false;
  try {
    const p = kaio.probe();
    console.log(`probe(): kernel ${p.kernel}, io_uring ${p.ioUring.available ? 'available' : `unavailable (${why(p.ioUring.error ?? {})})`}`);
    console.log(`probe().backend: ${JSON.stringify(p.backend)}`);

    const ctx = kaio.createContext();
    const ok = await readThrough(ctx, fd, data);
    await ctx.close();
    console.log(`createContext(): backend ${ctx.backend}, read 4000 bytes at 5000: ${ok ? 'ok' : 'WRONG'}`);
    failed = !ok;

    for (const backend of ['io_uring', 'aio', 'threadpool']) {
      try {
        const c = kaio.createContext({ backend });
        const good = await readThrough(c, fd, data);
        await c.close();
        console.log(`createContext({ backend: '${backend}' }): read ${good ? 'ok' : 'WRONG'}`);
      } catch (e) {
        console.log(`createContext({ backend: '${backend}' }): ${why(e)}`);
      }
    }
    try {
      const ring = new kaio.Ring({ entries: 8 });
      const good = await readThrough(ring, fd, data);
      await ring.close();
      console.log(`new Ring(): read ${good ? 'ok' : 'WRONG'}`);
    } catch (e) {
      console.log(`new Ring(): ${why(e)}`);
    }
    const natives = process.report.getReport().sharedObjects.filter((s) => s.endsWith('.node'));
    console.log(`native addon: ${natives.join(', ')}`);
  } finally {
    fs.closeSync(fd);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return failed ? 1 : 0;
}

main().then((code) => { process.exitCode = code; }, (e) => { console.error(e); process.exitCode = 1; });
