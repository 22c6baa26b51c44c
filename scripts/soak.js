#!/usr/bin/env node
'use strict';
// Soak: mixed ops on every backend against a byte model, then resources back
// to baseline.
//
//   node scripts/soak.js [--ops=10000000] [--backends=io_uring,aio,threadpool,batch]
//                        [--depth=32] [--file=1m] [--seed=1]
//   npm run soak -- --ops=10000000
//
// Per backend: a file of --file bytes (random), an in-memory copy (the model),
// --depth ops in flight at all times on distinct 4 KiB blocks (so completion
// order never matters): read / write / readv / writev (plain memory, and a
// registered pool's buffers for a quarter of them), an fsync every 64 ops.
// Every read is compared with the model when it completes; at the end the
// file must equal the model. After all contexts are closed: open fds, RSS,
// VmPin, VmLck, this process's AIO ring mappings and fs.aio-nr are printed
// against the baseline; fds/VmPin/VmLck/AIO rings must be back exactly.
// fs.aio-nr is system-wide (judged by the AIO rings instead) and RSS is
// reported, not judged.
// Exit 0 when everything held; prints one JSON line with the figures.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const kaio = require('../dist/lib');

const BLOCK = 4096;

function parseSize(s) {
  const m = /^(\d+)([kmg]?)$/i.exec(String(s));
  if (!m) throw new Error(`bad size ${s}`);
  return Number(m[1]) * { '': 1, k: 1024, m: 1 << 20, g: 1 << 30 }[m[2].toLowerCase()];
}

function status() {
  const st = fs.readFileSync('/proc/self/status', 'utf8');
  const kb = (k) => Number((new RegExp(`^${k}:\\s+(\\d+)`, 'm').exec(st) || [0, 0])[1]) * 1024;
  let aioNr = null;
  try { aioNr = Number(fs.readFileSync('/proc/sys/fs/aio-nr', 'utf8')); } catch { /* no AIO */ }
  // fs.aio-nr is system-wide (other processes move it); the AIO rings mapped
  // in this process ("/[aio]") are this process's own contexts.
  const aioMaps = fs.readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.includes('/[aio]')).length;
  return { fds: fs.readdirSync('/proc/self/fd').length, rss: kb('VmRSS'), vmPin: kb('VmPin'), vmLck: kb('VmLck'), aioMaps, aioNr };
}

function fdList() {
  return fs.readdirSync('/proc/self/fd').map((f) => { try { return `${f}:${fs.readlinkSync(`/proc/self/fd/${f}`)}`; } catch { return f; } });
}

// xorshift32: deterministic, cheap.
function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; return x; };
}

async function soakOne(backend, { ops, depth, fileSize, seed, dir }) {
  const rand = rng(seed);
  const blocks = fileSize / BLOCK;
  const p = path.join(dir, `soak-${backend}`);
  const model = Buffer.alloc(fileSize);
  for (let i = 0; i < fileSize; i += 4) model.writeUInt32LE(rand(), i);
  fs.writeFileSync(p, model);
  const fd = fs.openSync(p, 'r+');
  const ctx = backend === 'batch' ? new kaio.Ring({ entries: depth }) : kaio.createContext({ backend, entries: depth });
  const pool = ctx.registerBuffers({ count: depth, size: BLOCK, fallback: true });
  const during = status(); // the pool's pinned (VmPin) or mlocked (VmLck) bytes show here when the process is accounted
  const busy = new Uint8Array(blocks);
  const noise = Buffer.alloc(2 * BLOCK);
  for (let i = 0; i < noise.length; i += 4) noise.writeUInt32LE(rand(), i);
  const scratch = Array.from({ length: depth }, () => Buffer.alloc(BLOCK));
  const freeSlots = Array.from({ length: depth }, (_, i) => i);
  let started = 0;
  let done = 0;
  let failure = null;
  const fail = (msg) => { if (!failure) failure = new Error(`${backend}: ${msg}`); };

  // One op on a free block with a free buffer slot; `finish(res)` checks and frees.
  function plan() {
    let b;
    do b = rand() % blocks; while (busy[b]);
    busy[b] = 1;
    const slot = freeSlots.pop();
    const r = rand();
    const kind = started % 64 === 63 ? 'fsync' : ['read', 'write', 'readv', 'writev'][r & 3];
    const len = 1 + ((r >>> 2) % BLOCK);
    const off = b * BLOCK + ((r >>> 14) % (BLOCK - len + 1));
    const mem = (r >>> 28) & 3 ? scratch[slot] : pool.buffers[slot];
    const view = mem.subarray(0, len);
    const isWrite = kind === 'write' || kind === 'writev';
    if (isWrite) { const o = rand() % BLOCK; noise.copy(view, 0, o, o + len); }
    const half = len >> 1;
    const parts = half > 0 ? [view.subarray(0, half), view.subarray(half)] : [view];
    started++;
    const finish = (res) => {
      done++;
      if (res < 0) fail(`${kind} at ${off} len ${len} failed: ${res}`);
      else if (kind === 'fsync') { /* nothing to model */ } else if (res !== len) fail(`${kind} at ${off}: ${res} of ${len} bytes`);
      else if (isWrite) view.copy(model, off);
      else if (!view.equals(model.subarray(off, off + len))) fail(`${kind} at ${off} len ${len}: bytes differ from the model`);
      busy[b] = 0;
      freeSlots.push(slot);
    };
    return { kind, off, view, parts, finish };
  }

  const t0 = process.hrtime.bigint();
  if (backend === 'batch') {
    const live = new Map();
    let tag = 0;
    ctx.onCompletion((t, res) => { const f = live.get(t); live.delete(t); f(res); });
    while (done < ops && !failure) {
      while (started < ops && live.size < depth) {
        const op = plan();
        const t = tag++ >>> 0;
        live.set(t, op.finish);
        const ok = op.kind === 'fsync' ? ctx.prepFsync(fd, t)
          : op.kind === 'read' ? ctx.prepRead(fd, op.view, op.off, t)
            : op.kind === 'write' ? ctx.prepWrite(fd, op.view, op.off, t)
              : op.kind === 'readv' ? ctx.prepReadv(fd, op.parts, op.off, t) : ctx.prepWritev(fd, op.parts, op.off, t);
        if (!ok) { fail('prep returned false below depth'); break; }
      }
      ctx.submitAndWait(1);
    }
  } else {
    await new Promise((resolve) => {
      const next = () => {
        if (failure || done === ops) return resolve();
        if (started >= ops) return;
        const op = plan();
        const pr = op.kind === 'fsync' ? ctx.fsync(fd) : op.kind === 'read' || op.kind === 'write' ? ctx[op.kind](fd, op.view, op.off) : ctx[op.kind](fd, op.parts, op.off);
        pr.then((n) => { op.finish(op.kind === 'fsync' ? 0 : n); next(); }, (e) => { op.finish(-1); fail(`${op.kind}: ${e.code} ${e.message}`); resolve(); });
      };
      for (let i = 0; i < depth; i++) next();
    });
  }
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  await ctx.close();
  fs.closeSync(fd);
  const disk = fs.readFileSync(p);
  fs.rmSync(p);
  if (!failure && !disk.equals(model)) fail(`file differs from the model at byte ${disk.findIndex((x, i) => x !== model[i])}`);
  if (failure) throw failure;
  return { backend, ops: done, seconds: Number(secs.toFixed(2)), opsPerSec: Math.round(done / secs), vmPinDuring: during.vmPin, vmLckDuring: during.vmLck, registered: pool.registered };
}

async function soak({ ops = 1e7, backends = ['io_uring', 'aio', 'threadpool', 'batch'], depth = 32, fileSize = 1 << 20, seed = 1, log = () => {} } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-soak-'));
  // Warm-up: the lazily created default context and libuv's threads are not leaks.
  const warm = kaio.createContext({ backend: 'threadpool' });
  await warm.close();
  if (global.gc) global.gc();
  const before = status();
  const fdsBefore = fdList();
  const results = [];
  try {
    for (const backend of backends) {
      const per = Math.ceil(ops / backends.length);
      const r = await soakOne(backend, { ops: per, depth, fileSize, seed: seed + results.length, dir });
      log(`${backend}: ${r.ops} ops, ${r.opsPerSec} ops/s`);
      results.push(r);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  // Closing is asynchronous in places (GC, libuv's close callbacks): give it up to ~1 s.
  let after;
  let leaks;
  for (let i = 0; i < 50; i++) {
    if (global.gc) global.gc();
    await new Promise((r) => setTimeout(r, 20));
    after = status();
    leaks = [];
    for (const k of ['fds', 'vmPin', 'vmLck', 'aioMaps']) if (after[k] !== null && after[k] > before[k]) leaks.push(`${k} ${before[k]} -> ${after[k]}`);
    if (!leaks.length) break;
  }
  if (leaks.length) leaks.push(`open fds now: ${fdList().join(', ')}; at start: ${fdsBefore.join(', ')}`);
  return { results, before, after, leaks };
}

module.exports = { soak, status };

if (require.main === module) {
  const opt = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
  // Printed before the baseline is taken: Node's first write to a piped stdout opens an fd of its own.
  console.log(`soak: ${opt.ops || 1e7} ops, ${global.gc ? 'with' : 'without'} --expose-gc`);
  soak({
    ops: Number(opt.ops || 1e7),
    backends: (opt.backends || 'io_uring,aio,threadpool,batch').split(','),
    depth: Number(opt.depth || 32),
    fileSize: parseSize(opt.file || '1m'),
    seed: Number(opt.seed || 1),
    log: (l) => console.log(l),
  }).then((r) => {
    console.log(JSON.stringify(r));
    if (r.leaks.length) { console.log(`NOT back to baseline: ${r.leaks.join(', ')}`); process.exitCode = 1; }
    else console.log(`OK: ${r.results.reduce((a, x) => a + x.ops, 0)} ops, file equals model on every backend; fds, VmPin, VmLck, AIO rings back to baseline (fs.aio-nr ${r.before.aioNr} -> ${r.after.aioNr}, system-wide; RSS ${r.before.rss} -> ${r.after.rss})`);
  }, (e) => { console.log(`FAILED: ${e.stack}`); process.exitCode = 1; });
}
