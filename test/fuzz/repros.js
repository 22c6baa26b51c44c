'use strict';
// Minimal reproducers of the known findings (see known.js), each a script run
// in a child process (child-run.js). A reproducer prints "OK" and exits 0
// when kaio behaves; a crash, a hang, an error without code or wrong bytes
// make it fail. Shared prelude: `kaio`, `fs`, `tmp` (a fresh temp dir),
// `coded(e)` (throws unless e is Node-shaped), `fifo()` (an O_RDWR fd of a
// new FIFO, so reads on it block until written).
const PRELUDE = `
const kaio = require(KAIO); const fs = require('node:fs'); const os = require('node:os'); const path = require('node:path');
const assert = require('node:assert');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-repro-'));
process.on('exit', () => fs.rmSync(tmp, { recursive: true, force: true }));
function coded(e, what) {
  if (!(e instanceof Error) || typeof e.code !== 'string') throw new Error(what + ': error without code: ' + (e && e.stack));
  if ((e instanceof TypeError || e instanceof RangeError) && !e.code.startsWith('ERR_')) throw new Error(what + ': ' + e.code);
}
function fifo() { const p = path.join(tmp, 'fifo' + Math.random()); require('node:child_process').execSync('mkfifo ' + p); return fs.openSync(p, fs.constants.O_RDWR); }
function file(bytes) { const p = path.join(tmp, 'f' + Math.random()); fs.writeFileSync(p, bytes); return { p, fd: fs.openSync(p, 'r+') }; }
async function outcome(what, f) { try { return { value: await f() }; } catch (e) { coded(e, what); return { error: e }; } }
async function until(cond, what, ms = 10000) { const end = Date.now() + ms; while (!cond()) { if (Date.now() > end) throw new Error('timed out waiting for ' + what); await new Promise((r) => setTimeout(r, 2)); } }
`;

const REPROS = [
  {
    id: 1,
    title: 'prepReadv/prepWritev: list element getters that submit, close or throw never corrupt memory and errors are coded',
    script: `
const { fd } = file(Buffer.alloc(8192, 0x61));
for (const act of ['submit', 'close', 'throw', 'grow']) {
  const ring = new kaio.Ring({ entries: 4 });
  ring.onCompletion((tag, res) => { if (tag === 7 && res >= 0 && res !== 8192 && act !== 'grow') throw new Error(act + ': res ' + res); });
  const list = [Buffer.alloc(4096), Buffer.alloc(4096)];
  Object.defineProperty(list, 1, { get() {
    if (act === 'submit') ring.submit();
    if (act === 'close') ring.close();
    if (act === 'throw') throw Object.assign(new Error('getter'), { code: 'GETTER' });
    if (act === 'grow') for (let i = 0; i < 64; i++) list.push(Buffer.alloc(4096));
    return Buffer.alloc(4096);
  } });
  try { ring.prepReadv(fd, list, 0, 7); ring.submit(); } catch (e) { coded(e, act); }
  try { ring.submitAndWait(0); } catch (e) { coded(e, act); }
  ring.close();
}
console.log('OK');`,
  },
  {
    id: 2,
    title: 'a pool view with a lying `buffer` (own property, subclass getter) still counts the pool in use: release() waits for the op',
    script: `
(async () => {
  for (const how of ['own', 'subclass']) {
    for (const backend of ['io_uring', 'aio', 'threadpool']) {
      const ctx = kaio.createContext({ backend });
      const pool = ctx.registerBuffers({ count: 1, size: 4096, fallback: true });
      const real = pool.buffers[0];
      let v;
      if (how === 'own') { v = new Uint8Array(real.buffer, real.byteOffset, 4096); Object.defineProperty(v, 'buffer', { value: new ArrayBuffer(4096) }); }
      else { const other = new ArrayBuffer(4096); class L extends Uint8Array { get buffer() { return other; } } v = new L(real.buffer, real.byteOffset, 4096); }
      const fd = fifo();
      let op;
      try { op = ctx.read(fd, v, backend === 'aio' ? 0 : -1); } catch (e) { coded(e, how); continue; }
      const order = [];
      op = op.then((n) => { order.push('op'); return n; }, (e) => { coded(e, how + ' read'); order.push('op'); return 'rejected'; });
      // Release once the backend holds the read (or has refused it).
      await until(() => order.length > 0 || ctx.stats.inFlight > 0, how + ' ' + backend + ': the read to reach the backend');
      if (order.length > 0) { if (await op !== 'rejected') throw new Error(how + ' ' + backend + ': read of an empty FIFO resolved'); await pool.release(); await ctx.close(); fs.closeSync(fd); continue; }
      let released = false;
      const rel = pool.release().then(() => { released = true; order.push('release'); });
      // The window is the point: release() must not resolve while the read
      // is pending, however long it waits. 50 ms gives a release that does
      // not wait the time to show it.
      await new Promise((r) => setTimeout(r, 50));
      if (released) throw new Error(how + ' ' + backend + ': pool released while an op on its memory was pending (inUse ' + pool.inUse + ')');
      fs.writeSync(fd, Buffer.alloc(4096, 1));
      const n = await op; await rel;
      if (n !== 4096 || order.join() !== 'op,release') throw new Error(how + ' ' + backend + ': read ' + n + ', settled in the order ' + order.join());
      await ctx.close(); fs.closeSync(fd);
    }
  }
  console.log('OK');
})();`,
  },
  {
    id: 5,
    title: 'readv/writev with a list that changes between validation and submission: coded error or the validated bytes, never more',
    script: `
process.on('uncaughtException', (e) => { console.log('uncaught: ' + e.message); process.exit(3); });
(async () => {
  const { p, fd } = file(Buffer.alloc(16384, 0x62));
  for (const backend of ['io_uring', 'aio', 'threadpool']) {
    const ctx = kaio.createContext({ backend });
    for (const op of ['writev', 'readv']) {
      for (const variant of ['huge', 'notview']) {
        let gets = 0;
        const bufs = [Buffer.alloc(16, 0x63), Buffer.alloc(16, 0x63)];
        // Element 0 is a 16-byte Buffer when validated, something else afterwards.
        const lying = new Proxy(bufs, { get(t, k) { if (k === '0' && gets++ >= 1) return variant === 'huge' ? Buffer.alloc(1 << 20, 0x64) : {}; return Reflect.get(t, k); } });
        const r = await outcome(op, () => ctx[op](fd, lying, 0));
        if ('value' in r && r.value > 32) throw new Error(backend + ' ' + op + ' ' + variant + ': ' + r.value + ' bytes, more than the 32 validated');
      }
    }
    await ctx.close();
  }
  if (fs.statSync(p).size !== 16384) throw new Error('file grew to ' + fs.statSync(p).size);
  console.log('OK');
})();`,
  },
  {
    id: 6,
    title: 'a signal-like object { aborted: false, addEventListener() {} } is refused (ERR_INVALID_ARG_TYPE) or works; no crash at completion',
    script: `
process.on('uncaughtException', (e) => { console.log('uncaught: ' + e.message); process.exit(3); });
const t = setTimeout(() => { console.log('an op never settled'); process.exit(2); }, 5000);
(async () => {
  const { fd } = file(Buffer.alloc(4096));
  for (const backend of ['io_uring', 'aio', 'threadpool']) {
    const ctx = kaio.createContext({ backend });
    const signal = { aborted: false, addEventListener() {} };
    await outcome(backend, () => ctx.read(fd, Buffer.alloc(16), 0, { signal }));
    await outcome(backend, () => ctx.write(fd, Buffer.alloc(16), 0, { signal }));
    await ctx.close();
  }
  clearTimeout(t);
  console.log('OK');
})();`,
  },
  {
    id: 9,
    title: 'lengths are fixed when an op is started: a resizable ArrayBuffer grown before the next tick, a batch list changed after prep*',
    script: `
(async () => {
  for (const backend of ['io_uring', 'aio', 'threadpool']) {
    const { p, fd } = file(Buffer.alloc(0));
    const ctx = kaio.createContext({ backend });
    const ab = new ArrayBuffer(16, { maxByteLength: 1 << 20 });
    const u = new Uint8Array(ab).fill(0x41);
    const w = outcome(backend, () => ctx.write(fd, u, 0));
    ab.resize(1 << 20);
    const r = await w;
    if ('value' in r && r.value !== 16) throw new Error(backend + ': write resolved ' + r.value + ', 16 bytes were asked');
    if (fs.statSync(p).size > 16) throw new Error(backend + ': file is ' + fs.statSync(p).size + ' bytes after a 16-byte write');
    await ctx.close();
  }
  const { p, fd } = file(Buffer.alloc(0));
  const ring = new kaio.Ring();
  let res;
  ring.onCompletion((tag, r) => { res = r; });
  const list = [Buffer.alloc(16, 0x42)];
  ring.prepWritev(fd, list, 0, 1);
  list[0] = Buffer.alloc(1 << 20); list.push(Buffer.alloc(1 << 20));
  ring.submitAndWait(1);
  if (res !== 16 || fs.statSync(p).size !== 16) throw new Error('batch writev after the list changed: res ' + res + ', file ' + fs.statSync(p).size + ' bytes');
  await ring.close();
  console.log('OK');
})();`,
  },
  {
    id: 10,
    title: 'an io_uring_enter error rejects the ops it concerned; it is never thrown from process.nextTick',
    script: `
process.on('uncaughtException', (e) => { console.log('uncaught: ' + e.message); process.exit(3); });
(async () => {
  // (Closing the ring's own fd under it is not tried: libuv aborts when an fd
  // it watches is closed behind its back, whatever kaio does.)
  // Without touching the fd: a handler that submit()s (allowed), promise and batch
  // ops mixed, submitAndWait(0); a flush then runs after close() closed the fd
  // (EBADF from io_uring_enter in #flush, uncaught; ~2 runs in 3 on main).
  const { fd } = file('');
  for (let round = 0; round < 5; round++) {
    for (const entries of [4, 8]) {
      const r = new kaio.Ring({ entries });
      r.onCompletion(() => r.submit());
      const ps = [];
      for (let i = 0; i < 6; i++) { r.prepWrite(fd, Buffer.alloc(512), i * 512, i) || r.submit(); ps.push(r.write(fd, Buffer.alloc(512), 8192 + i * 512)); }
      r.submit();
      r.submitAndWait(0);
      await Promise.all(ps);
      await r.close();
    }
  }
  // OK only once nothing is left to run: a flush thrown from process.nextTick
  // after close() (the finding) exits 3 before this.
  process.once('beforeExit', () => console.log('OK'));
})();`,
  },
  {
    id: 11,
    title: "open(p, 'r', -0) and open(p, -0) (flags) do not abort the process",
    script: `
(async () => {
  const { p } = file('x');
  const r = await outcome('open mode -0', () => kaio.open(p, 'r', -0));
  if (r.value) await r.value.close();
  const r2 = await outcome('open flags -0', () => kaio.open(p, -0));
  if (r2.value) await r2.value.close();
  console.log('OK');
})();`,
  },
  {
    id: 12,
    title: 'errors have a code: detached DataView, ring.supports({}), pool.indexOf(undefined), write(buf, Object.create(null)), open(p, f, m, null)',
    script: `
(async () => {
  const { p, fd } = file('x');
  const ring = new kaio.Ring();
  const pool = ring.registerBuffers({ count: 1, size: 4096, fallback: true });
  const ab = new ArrayBuffer(8); const dv = new DataView(ab); structuredClone(ab, { transfer: [ab] });
  await outcome('read(detached DataView)', () => ring.read(fd, dv, 0));
  await outcome('supports({})', () => ring.supports({}));
  await outcome('pool.indexOf(undefined)', () => pool.indexOf(undefined));
  const fh = await kaio.open(p, 'r+');
  await outcome('fh.write(buf, Object.create(null))', () => fh.write(Buffer.alloc(1), Object.create(null)));
  await outcome('open(p, f, m, null)', async () => { const h = await kaio.open(p, 'r', 0o644, null); await h.close(); });
  await fh.close(); await ring.close();
  console.log('OK');
})();`,
  },
  {
    id: 13,
    title: 'BufferPool cannot be constructed by callers (not exported, or a coded error)',
    script: `
if (typeof kaio.BufferPool === 'function') {
  for (const args of [[], [{}], [null, {}], [{ count: 1, size: 4096 }]]) {
    let made;
    try { made = new kaio.BufferPool(...args); } catch (e) { coded(e, 'new BufferPool'); continue; }
    throw new Error('new BufferPool(' + JSON.stringify(args) + ') made a pool');
  }
}
console.log('OK');`,
  },
  {
    id: 'N1',
    title: 'FileHandle truncate(fn) / stat(fn) settle (a function is not taken as the callback)',
    script: `
(async () => {
  const { p } = file('xyz');
  const fh = await kaio.open(p, 'r+');
  const t = setTimeout(() => { console.log('hang'); process.exit(2); }, 3000);
  await outcome('truncate(fn)', () => fh.truncate(function f() {}));
  await outcome('stat(fn)', () => fh.stat(function f() {}));
  clearTimeout(t); await fh.close();
  console.log('OK');
})();`,
  },
  {
    id: 'N2',
    title: 'a promise op is not starved by batch ops prepared (not submitted) that fill the SQ',
    script: `
const ring = new kaio.Ring({ entries: 1 });
ring.onCompletion(() => {});
ring.prepNop(1);
const t = setTimeout(() => { console.log('hang', JSON.stringify(ring.stats)); process.exit(2); }, 3000);
ring.nop().then(() => { clearTimeout(t); return ring.close(); }).then(() => console.log('OK'));`,
  },
  {
    id: 'N3',
    title: "an op's continuation still sees its bytes when a pool release waits for it (every backend)",
    script: `
(async () => {
  const { fd } = file(Buffer.alloc(8192, 7));
  for (const backend of ['io_uring', 'aio', 'threadpool']) {
    const ring = new kaio.Ring();
    const pool = ring.registerBuffers({ count: 2, size: 4096, fallback: true });
    const other = kaio.createContext({ backend });
    const view = pool.buffers[1].subarray(0, 1000);
    const seen = other.read(fd, view, 100).then((n) => ({ n, len: view.length, first: view[0] }));
    const closing = ring.close();
    const s = await seen;
    if (s.len !== 1000 || s.first !== 7) throw new Error(backend + ': continuation saw ' + JSON.stringify(s));
    await closing; await other.close();
  }
  console.log('OK');
})();`,
  },
  {
    id: 'N4',
    title: 'FileHandle writes the bytes of the view it was given, whatever its `buffer` property says',
    script: `
(async () => {
  const { p } = file('');
  const fh = await kaio.open(p, 'w+');
  const data = new Uint8Array(8).fill(0x41);
  Object.defineProperty(data, 'buffer', { value: new Uint8Array(8).fill(0x42).buffer });
  await outcome('writeFile', () => fh.writeFile(data));
  const small = new Uint8Array(4096); Object.defineProperty(small, 'buffer', { value: new ArrayBuffer(1) });
  await outcome('write', () => fh.write(small, 0, 4096, 100));
  await fh.close();
  const got = fs.readFileSync(p).subarray(0, 8).toString('latin1');
  if (got.includes('B')) throw new Error('wrote the bytes of another ArrayBuffer: ' + JSON.stringify(got));
  console.log('OK');
})();`,
  },
  {
    id: 'N5',
    title: 'FileHandle write(buf, x) with x a Symbol or a detached typed array: a coded error',
    script: `
(async () => {
  const { p } = file('x');
  const fh = await kaio.open(p, 'r+');
  const ab = new ArrayBuffer(8); const det = new Uint8Array(ab); structuredClone(ab, { transfer: [ab] });
  await outcome('write(buf, Symbol())', () => fh.write(Buffer.alloc(1), Symbol('s')));
  await outcome('write(buf, 0, 64, detached)', () => fh.write(Buffer.alloc(64), det, 64, 0));
  await fh.close();
  console.log('OK');
})();`,
  },
  {
    id: 'N6',
    title: 'open(detached Buffer) fails with a coded error',
    script: `
(async () => {
  const ab = new ArrayBuffer(8); const det = Buffer.from(ab); structuredClone(ab, { transfer: [ab] });
  await outcome('open(detached)', () => kaio.open(det, 'r'));
  console.log('OK');
})();`,
  },
  {
    id: 'N8',
    title: 'an op on a FixedFile started before updateFiles() never writes into the file that takes the slot',
    script: `
(async () => {
  const a = file(''), b = file('');
  const ring = new kaio.Ring();
  const [fa] = ring.registerFiles([a.fd]);
  const w = outcome('write', () => ring.write(fa, Buffer.from('meant for a'), 0));
  ring.updateFiles(0, [b.fd]);              // same tick: slot 0 now names b
  await w;
  ring.onCompletion(() => {});
  const [fb] = ring.updateFiles(0, [a.fd]);  // and the batch API: prep on the old handle, swap, submit
  ring.prepWrite(fb, Buffer.from('meant for b'), 100, 1);
  ring.updateFiles(0, [b.fd]);
  try { ring.submitAndWait(1); } catch (e) { coded(e, 'submitAndWait'); }
  await ring.close();
  const inB = fs.readFileSync(b.p, 'latin1');
  if (inB.includes('meant for a')) throw new Error('bytes of a write on the old FixedFile landed in the file that took its slot: b = ' + JSON.stringify(inB.replace(/\\0/g, '')));
  console.log('OK');
})();`,
  },
  {
    id: 'N9',
    title: 'FileHandle write(detached DataView, offset, length, position) fails with a coded error',
    script: `
(async () => {
  const { p } = file('x');
  const fh = await kaio.open(p, 'r+');
  const ab = new ArrayBuffer(8); const dv = new DataView(ab); structuredClone(ab, { transfer: [ab] });
  await outcome('write(dv, 0, 1, 0)', () => fh.write(dv, 0, 1, 0));
  await outcome('write(dv, 0)', () => fh.write(dv, 0));
  await fh.close();
  console.log('OK');
})();`,
  },
  {
    id: 'N10',
    title: "FileHandle.read into a pool view still sees its bytes when the pool's ring closes meanwhile (every backend)",
    script: `
(async () => {
  const { p } = file(Buffer.alloc(8192, 7));
  for (const backend of ['io_uring', 'aio', 'threadpool']) {
    const ring = new kaio.Ring();
    const pool = ring.registerBuffers({ count: 2, size: 4096, fallback: true });
    const other = kaio.createContext({ backend });
    const fh = await kaio.open(p, 'r', 0o644, { context: other });
    const view = pool.buffers[1].subarray(0, 1000);
    const seen = fh.read(view, 0, 1000, 100).then((r) => ({ n: r.bytesRead, len: r.buffer.length, first: r.buffer[0] }));
    const closing = ring.close();
    const s = await seen;
    if (s.len !== 1000 || s.first !== 7) throw new Error(backend + ': fh.read result ' + JSON.stringify(s));
    await closing; await fh.close(); await other.close();
  }
  console.log('OK');
})();`,
  },
];

module.exports = { PRELUDE, REPROS };
