#!/usr/bin/env node
'use strict';
// Lifecycle checks, long versions (short ones run in test/71.lifecycle.test.ts):
//
//   node scripts/lifecycle.js kill [--kills=200] [--backends=io_uring,aio,threadpool,batch]
//       SIGKILL a writer during write+fsync at a random point, then check every
//       acknowledged record (fsync resolved and reported before the kill) is
//       intact and every other record is either absent (zeros) or intact.
//   node scripts/lifecycle.js terminate [--rounds=100]
//       worker.terminate() with ops in flight on every backend, in a child; the
//       child must exit 0 (no crash, no abort).
//   node scripts/lifecycle.js exit [--rounds=100]
//       process.exit() with ops in flight on every backend; exit status 0.
//   node scripts/lifecycle.js gc [--objects=2000]
//       contexts, pools and aligned buffers dropped without close(); after GC
//       fds, AIO rings, VmPin and VmLck are back to baseline.
const cp = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const BACKENDS = ['io_uring', 'aio', 'threadpool', 'batch'];

/** The 4 KiB record i of a run: a header and a pattern from (i, seed). */
function record(i, seed = 1) {
  const b = Buffer.alloc(4096);
  let x = (i * 2654435761 + seed * 97 + 1) >>> 0;
  for (let k = 0; k < 4096; k += 4) { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; b.writeUInt32LE(x, k); }
  b.write(`kaio-record ${i} seed ${seed}\n`, 0, 'latin1');
  return b;
}

/**
 * One kill: starts a writer on `backend`, kills it with SIGKILL once it has
 * acknowledged at least `afterAcks` records (plus a random delay up to
 * `jitterMs`), then checks the file. Resolves to { acked, records, intact }.
 */
function killOnce(backend, { dir, afterAcks = 8, jitterMs = 5, seed = 1 } = {}) {
  return new Promise((resolve, reject) => {
    const file = path.join(dir, `kill-${backend}-${seed}`);
    const child = cp.spawn(process.execPath, [path.join(__dirname, 'kill-writer.js'), backend, file, String(seed)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let acked = 0;
    let out = '';
    let err = '';
    let killing = false;
    child.stderr.on('data', (d) => (err += d));
    child.stdout.on('data', (d) => {
      out += d;
      const lines = out.split('\n');
      out = lines.pop();
      for (const l of lines) { const m = /^ack (\d+)$/.exec(l); if (m) acked = Number(m[1]); }
      if (!killing && acked >= afterAcks) {
        killing = true;
        setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * jitterMs));
      }
    });
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${backend}: writer acknowledged only ${acked} records in 20 s; stderr: ${err}`)); }, 20000);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') return reject(new Error(`${backend}: writer ended by itself (${status}/${signal}): ${err}`));
      // Every "ack" line written before the kill is now in `out`/acked (the pipe is drained before close).
      for (const l of out.split('\n')) { const m = /^ack (\d+)$/.exec(l); if (m) acked = Number(m[1]); }
      const data = fs.readFileSync(file);
      fs.rmSync(file);
      const records = Math.ceil(data.length / 4096);
      const zero = Buffer.alloc(4096);
      for (let i = 0; i < Math.max(records, acked); i++) {
        const got = data.subarray(i * 4096, i * 4096 + 4096);
        const want = record(i, seed);
        if (i < acked) {
          if (!got.equals(want)) return reject(new Error(`${backend}: acknowledged record ${i} of ${acked} is ${got.length < 4096 ? `short (${got.length} bytes)` : 'corrupt'} after SIGKILL`));
        } else if (!(got.equals(want) || got.equals(zero.subarray(0, got.length)))) {
          return reject(new Error(`${backend}: unacknowledged record ${i} holds bytes that were never written there`));
        }
      }
      resolve({ acked, records });
    });
  });
}

/** Runs `source` in a child node; resolves to { status, signal, stdout, stderr }. */
function child(source, { args = [], timeoutMs = 30000 } = {}) {
  return new Promise((resolve) => {
    const c = cp.spawn(process.execPath, [...args, '-e', `const KAIO = ${JSON.stringify(path.resolve(__dirname, '..', 'dist', 'lib'))};\n${source}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d) => (stdout += d));
    c.stderr.on('data', (d) => (stderr += d));
    const t = setTimeout(() => c.kill('SIGKILL'), timeoutMs);
    c.on('close', (status, signal) => { clearTimeout(t); resolve({ status, signal, stdout, stderr, timedOut: signal === 'SIGKILL' }); });
  });
}

// A worker that keeps ops in flight on every backend (and a pool) until terminated.
const WORKER_BODY = `
const { parentPort, workerData } = require('node:worker_threads');
const kaio = require(workerData.kaio); const fs = require('node:fs');
const fd = fs.openSync(workerData.file, 'r+');
const ctxs = ['io_uring', 'aio', 'threadpool'].map((backend) => kaio.createContext({ backend, entries: 16 }));
const pools = ctxs.map((c) => c.registerBuffers({ count: 16, size: 4096, fallback: true }));
const ring = new kaio.Ring({ entries: 16 }); ring.onCompletion(() => {});
let n = 0;
function loop(c, pool) {
  const i = n++ % 16;
  const p = (i & 1) ? c.read(fd, pool.buffers[i], i * 4096) : c.write(fd, pool.buffers[i], i * 4096);
  p.then(() => { if (n === 200) parentPort.postMessage('busy'); loop(c, pool); }, () => {});
}
for (let k = 0; k < 8; k++) ctxs.forEach((c, j) => loop(c, pools[j]));
for (let t = 0; t < 8; t++) ring.prepRead(fd, Buffer.alloc(4096), t * 4096, t);
ring.submit();
`;

/** worker.terminate() with ops in flight, `rounds` times, in a child. */
function terminateSource(rounds) {
  return `
// The main thread loads kaio too: a worker that is the only loader of kaio
// crashes on terminate() for another reason (new finding N7, see test/fuzz/known.js).
require(KAIO);
const { Worker } = require('node:worker_threads'); const fs = require('node:fs'); const os = require('node:os'); const path = require('node:path');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-term-')); const file = path.join(dir, 'f'); fs.writeFileSync(file, Buffer.alloc(65536, 1));
(async () => {
  for (let r = 0; r < ${rounds}; r++) {
    const w = new Worker(${JSON.stringify(WORKER_BODY)}, { eval: true, workerData: { kaio: KAIO, file } });
    await new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); });
    await new Promise((res) => setTimeout(res, Math.random() * 5));
    await w.terminate();
  }
  fs.rmSync(dir, { recursive: true, force: true });
  console.log('OK ${rounds} terminations');
})().catch((e) => { console.log('FAILED ' + e.stack); process.exit(1); });`;
}

/** process.exit() with ops in flight on every backend. */
function exitSource(afterCompletions) {
  return `
const kaio = require(KAIO); const fs = require('node:fs'); const os = require('node:os'); const path = require('node:path');
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-exit-')); const file = path.join(dir, 'f'); fs.writeFileSync(file, Buffer.alloc(65536, 1));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
const fd = fs.openSync(file, 'r+');
let done = 0;
for (const backend of ['io_uring', 'aio', 'threadpool']) {
  const c = kaio.createContext({ backend, entries: 8 });
  const pool = c.registerBuffers({ count: 16, size: 4096, fallback: true });
  for (let i = 0; i < 200; i++) c[i & 1 ? 'read' : 'write'](fd, pool.buffers[i % 16], (i % 16) * 4096).then(() => { if (++done === ${afterCompletions}) process.exit(0); }, () => {});
}
const ring = new kaio.Ring({ entries: 8 }); ring.onCompletion(() => {});
for (let t = 0; t < 8; t++) ring.prepRead(fd, Buffer.alloc(4096), t * 4096, t);
ring.submit();
if (${afterCompletions} === 0) process.exit(0);`;
}

/** Drops `objects` contexts/pools/buffers without close(); after GC, resources are back. */
function gcSource(objects) {
  return `
const kaio = require(KAIO); const fs = require('node:fs');
function status() {
  const st = fs.readFileSync('/proc/self/status', 'utf8');
  const kb = (k) => Number((new RegExp('^' + k + ':\\\\s+(\\\\d+)', 'm').exec(st) || [0, 0])[1]);
  const aio = fs.readFileSync('/proc/self/maps', 'utf8').split('\\n').filter((l) => l.includes('/[aio]')).length;
  return { fds: fs.readdirSync('/proc/self/fd').length, aioRings: aio, vmPinKb: kb('VmPin'), vmLckKb: kb('VmLck') };
}
const settle = async () => { for (let i = 0; i < 6; i++) { global.gc(); await new Promise((r) => setTimeout(r, 10)); } };
(async () => {
  const w = kaio.createContext({ backend: 'threadpool' }); await w.close(); await settle();
  const before = status();
  // Made in a plain function: a const inside the async function's body would stay
  // reachable from its suspended frame across the awaits.
  function drop(i) {
    const kind = i % 6;
    // AIO contexts are paced (one in six, and a GC every 50 objects): this guest's
    // io_destroy stalls when contexts are set up and torn down in a tight loop.
    if (kind === 0) { const c = new kaio.AioContext({ entries: 8 }); if (i % 12 === 0) c.registerBuffers({ count: 2, size: 4096, fallback: true }); }
    else if (kind === 1) { const r = new kaio.Ring({ entries: 8 }); if (i % 2) r.registerBuffers({ count: 2, size: 4096 }); }
    else if (kind === 2) new kaio.ThreadpoolContext({ entries: 4 });
    else if (kind === 3) kaio.alignedBuffer(8192);
    else if (kind === 4) { const r = new kaio.Ring({ entries: 4 }); r.onCompletion(() => {}); }
    else kaio.createContext({ backend: 'io_uring', entries: 4 });
  }
  for (let i = 0; i < ${objects}; i++) {
    drop(i);
    if (i % 50 === 49) await settle();
  }
  await settle();
  const after = status();
  const worse = Object.keys(before).filter((k) => after[k] > before[k]);
  console.log(JSON.stringify({ before, after }));
  console.log(worse.length ? 'LEAK ' + worse.join(',') : 'OK');
})();`;
}

module.exports = { record, killOnce, child, terminateSource, exitSource, gcSource, BACKENDS };

if (require.main === module) {
  const [what = 'kill', ...rest] = process.argv.slice(2);
  const opt = Object.fromEntries(rest.map((a) => a.replace(/^--/, '').split('=')));
  (async () => {
    if (what === 'kill') {
      const kills = Number(opt.kills || 200);
      const backends = (opt.backends || BACKENDS.join(',')).split(',');
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-kill-'));
      let acked = 0;
      try {
        for (let k = 0; k < kills; k++) {
          const backend = backends[k % backends.length];
          const r = await killOnce(backend, { dir, afterAcks: 8 * (1 + (k % 16)), jitterMs: 20, seed: k + 1 });
          acked += r.acked;
          if ((k + 1) % 20 === 0) console.log(`${k + 1} kills survived, ${acked} acknowledged records checked`);
        }
      } finally { fs.rmSync(dir, { recursive: true, force: true }); }
      console.log(`OK: ${kills} SIGKILLs during write+fsync on ${backends.join(', ')}; ${acked} acknowledged records intact, no foreign bytes`);
    } else if (what === 'terminate' || what === 'exit' || what === 'gc') {
      const n = Number(opt.rounds || opt.objects || (what === 'gc' ? 2000 : 100));
      if (what === 'exit') {
        for (let r = 0; r < n; r++) {
          const res = await child(exitSource(r % 50));
          if (res.status !== 0 || res.signal) { console.log(`FAILED at round ${r}: ${res.signal || res.status}\n${res.stderr}`); process.exitCode = 1; return; }
        }
        console.log(`OK: ${n} process.exit() calls with ops in flight, all exit 0`);
      } else {
        const res = await child(what === 'gc' ? gcSource(n) : terminateSource(n), { args: what === 'gc' ? ['--expose-gc'] : [], timeoutMs: 600000 });
        console.log(res.stdout.trim(), res.stderr.trim());
        if (res.status !== 0 || res.signal || !/OK/.test(res.stdout)) { console.log(`FAILED: ${res.signal || res.status}`); process.exitCode = 1; }
      }
    } else {
      console.log('usage: node scripts/lifecycle.js kill|terminate|exit|gc [--kills=N|--rounds=N|--objects=N]');
      process.exitCode = 2;
    }
  })().catch((e) => { console.log(`FAILED: ${e.stack}`); process.exitCode = 1; });
}
