'use strict';
// The fuzzer's filesystem faults (issue 19): random sequences of writes and
// truncates through every kaio write path, run step by step on a file that
// runs into a fault, and the same steps through node:fs/promises on a twin
// file in the same state. Every step must agree (the same count, or the same
// error code), and so must the two files, byte for byte, after every step.
//   enospc: the twins sit on two private tmpfs mounts of the same small size
//           (mounted and unmounted here; needs root);
//   fsize:  this process runs under RLIMIT_FSIZE (started by `prlimit
//           --fsize=N`, SIGXFSZ ignored as Node does at startup).
// Usage: node test/fuzz/faults.js <enospc|fsize> <seed> <runs>
// (npm run fuzz -- --faults=enospc --runs=N). Prints one JSON line:
// { mode, seed, numRuns, failed, error, steps } or { skipped: reason }.
const cp = require('node:child_process');
const fs = require('node:fs');
const fsp = require('node:fs/promises');
const os = require('node:os');
const path = require('node:path');
const fc = require('fast-check');
const kaio = require('../../dist/lib');

const TMPFS_SIZE = 256 * 1024;
// KAIO_FUZZ_BACKENDS=aio,threadpool: only these (to look past a finding on one backend).
const BACKENDS = process.env.KAIO_FUZZ_BACKENDS ? process.env.KAIO_FUZZ_BACKENDS.split(',') : ['io_uring', 'aio', 'threadpool'];
const FLAGS = ['r+', 'a+', 'w+'];
const VIAS = ['ctx.write', 'ctx.writev', 'fh.write', 'fh.writev', 'fh.writeFile', 'fh.appendFile', 'writeFile', 'appendFile', 'stream', 'truncate'];

/** The RLIMIT_FSIZE soft limit of this process (bytes), or Infinity. */
function fsizeLimit() {
  const m = /^Max file size\s+(\S+)/m.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
  return !m || m[1] === 'unlimited' ? Infinity : Number(m[1]);
}

function fill(seed, len) {
  const b = Buffer.allocUnsafe(len);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

function stepArb(span) {
  return fc.record({
    via: fc.constantFrom(...VIAS),
    at: fc.oneof(fc.constant(null), fc.integer({ min: 0, max: span })),
    len: fc.integer({ min: 1, max: Math.floor(span / 2) }),
    seed: fc.integer({ min: 1, max: 1e6 }),
  });
}

function runArb(span) {
  return fc.record({
    backend: fc.constantFrom(...BACKENDS),
    flag: fc.constantFrom(...FLAGS),
    old: fc.integer({ min: 0, max: Math.floor(span / 2) }),
    steps: fc.array(stepArb(span), { minLength: 1, maxLength: 12 }),
  });
}

async function settle(p) {
  try {
    const v = await p;
    return { ok: v };
  } catch (e) {
    return { code: e && e.code, message: e && String(e.message).slice(0, 200) };
  }
}

/**
 * Writes through a stream over the handle, then destroys it (autoClose false:
 * the fd stays open; a stream not destroyed keeps the handle's close()
 * waiting, in node:fs as in kaio). 'finish' resolves bytesWritten, 'error' rejects.
 */
function streamWrite(fh, data, at) {
  return new Promise((resolve, reject) => {
    const ws = fh.createWriteStream({ autoClose: false, ...(at === null ? {} : { start: at }) });
    let outcome;
    ws.on('error', (e) => {
      outcome ??= () => reject(e);
      ws.destroy();
    });
    ws.on('finish', () => {
      outcome ??= () => resolve(ws.bytesWritten);
      ws.destroy();
    });
    ws.on('close', () => (outcome ?? (() => reject(new Error('closed without finish or error'))))());
    for (let i = 0; i < data.length; i += 32 * 1024) ws.write(data.subarray(i, i + 32 * 1024));
    ws.end();
  });
}

/**
 * One step on one side. `side`: { fh, p, kaio: boolean, io }. Raw context
 * calls at the current position on AIO (refused up front: Linux AIO has no
 * current position) are made positional at 0 on both sides.
 */
function doStep(side, s) {
  const data = fill(s.seed, s.len);
  const halves = [data.subarray(0, data.length >> 1), data.subarray(data.length >> 1)];
  const { fh, p } = side;
  let at = s.at;
  if (side.aio && at === null && s.via.startsWith('ctx.')) at = 0;
  switch (s.via) {
    case 'ctx.write':
      return side.kaio ? side.io.write(fh.fd, data, at ?? -1) : new Promise((res, rej) => fs.write(fh.fd, data, 0, data.length, at, (e, n) => (e ? rej(e) : res(n))));
    case 'ctx.writev':
      return side.kaio ? side.io.writev(fh.fd, halves, at ?? -1) : new Promise((res, rej) => fs.writev(fh.fd, halves, at, (e, n) => (e ? rej(e) : res(n))));
    case 'fh.write':
      return fh.write(data, 0, data.length, at).then((r) => r.bytesWritten);
    case 'fh.writev':
      return fh.writev(halves, at).then((r) => r.bytesWritten);
    case 'fh.writeFile':
      return fh.writeFile(data).then(() => data.length);
    case 'fh.appendFile':
      return fh.appendFile(data).then(() => data.length);
    case 'writeFile':
      return (side.kaio ? kaio.writeFile(p, data, { flag: at === null ? 'w' : 'a', context: side.io }) : fsp.writeFile(p, data, { flag: at === null ? 'w' : 'a' })).then(() => data.length);
    case 'appendFile':
      return (side.kaio ? kaio.appendFile(p, data, { context: side.io }) : fsp.appendFile(p, data)).then(() => data.length);
    case 'stream':
      return streamWrite(fh, data, at);
    case 'truncate':
      return fh.truncate(at ?? 0).then(() => 0);
    default:
      throw new Error(`unknown step ${s.via}`);
  }
}

async function oneRun(run, dirs, log, contexts) {
  const io = contexts[run.backend];
  const sides = [];
  const old = fill(7, run.old);
  for (const [i, dir] of dirs.entries()) {
    const p = path.join(dir, 'f');
    fs.rmSync(p, { force: true });
    fs.writeFileSync(p, old);
    const isKaio = i === 0;
    const fh = isKaio ? await kaio.open(p, run.flag, 0o666, { context: io }) : await fsp.open(p, run.flag);
    sides.push({ fh, p, kaio: isKaio, io, aio: run.backend === 'aio' });
  }
  log(`--- run ${JSON.stringify({ backend: run.backend, flag: run.flag, old: run.old })}`);
  try {
    for (const [i, s] of run.steps.entries()) {
      log(`step ${i} ${JSON.stringify(s)}: kaio...`);
      const k = await settle(doStep(sides[0], s));
      log(`step ${i}: kaio ${JSON.stringify(k)}; node:fs...`);
      const n = await settle(doStep(sides[1], s));
      const [dk, dn] = [fs.readFileSync(sides[0].p), fs.readFileSync(sides[1].p)];
      log(`step ${i} ${JSON.stringify(s)}: kaio ${JSON.stringify(k)} node ${JSON.stringify(n)} sizes ${dk.length}/${dn.length}`);
      if (k.ok !== n.ok || k.code !== n.code)
        throw new Error(`step ${i} ${s.via} at ${s.at} len ${s.len} (${run.backend}, '${run.flag}'): kaio ${k.code ?? `resolved ${k.ok}`}${k.message ? ` (${k.message})` : ''}, node:fs ${n.code ?? `resolved ${n.ok}`}`);
      if (!dk.equals(dn)) {
        let d = 0;
        while (d < Math.min(dk.length, dn.length) && dk[d] === dn[d]) d++;
        throw new Error(`step ${i} ${s.via} at ${s.at} len ${s.len} (${run.backend}, '${run.flag}'): the files differ (kaio ${dk.length} bytes, node:fs ${dn.length}, first difference at ${d})`);
      }
    }
  } finally {
    for (const s of sides) await s.fh.close();
  }
}

function mountTwins() {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-fuzz-faults-'));
  const dirs = [path.join(base, 'kaio'), path.join(base, 'node')];
  const mounted = [];
  const cleanup = () => {
    for (const d of mounted) cp.spawnSync('umount', [d]);
    fs.rmSync(base, { recursive: true, force: true });
  };
  for (const d of dirs) {
    fs.mkdirSync(d);
    const r = cp.spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE},mode=0700`, 'tmpfs', d], { encoding: 'utf8' });
    if (r.status !== 0) {
      cleanup();
      return { skipped: `cannot mount tmpfs: ${(r.stderr || (r.error && r.error.message) || `exit ${r.status}`).trim()}` };
    }
    mounted.push(d);
  }
  return { dirs, cleanup };
}

const lastSteps = [];
/** The mounts and dirs of the running main(), for the exit handler when a hang empties the loop. */
let pendingCleanup;

async function main(mode, seed, numRuns) {
  let target;
  let span;
  if (mode === 'enospc') {
    target = mountTwins();
    span = TMPFS_SIZE + TMPFS_SIZE / 2;
  } else if (mode === 'fsize') {
    const limit = fsizeLimit();
    if (!Number.isFinite(limit)) return { skipped: 'RLIMIT_FSIZE is unlimited: start this under prlimit --fsize=N' };
    const base = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-fuzz-fsize-'));
    const dirs = [path.join(base, 'kaio'), path.join(base, 'node')];
    for (const d of dirs) fs.mkdirSync(d);
    target = { dirs, cleanup: () => fs.rmSync(base, { recursive: true, force: true }) };
    span = limit + limit / 2;
  } else {
    return { skipped: `unknown mode ${mode}` };
  }
  if (target.skipped) return target;
  pendingCleanup = target.cleanup;
  const contexts = Object.fromEntries(BACKENDS.map((b) => [b, kaio.createContext({ backend: b })]));
  const steps = lastSteps;
  const log = (line) => {
    if (line.startsWith('--- run')) steps.length = 0;
    steps.push(line);
  };
  try {
    const details = await fc.check(fc.asyncProperty(runArb(span), (run) => oneRun(run, target.dirs, log, contexts)), { seed, numRuns, endOnFailure: true });
    const out = { mode, seed, numRuns: details.numRuns, failed: details.failed };
    if (details.failed) {
      out.error = String(details.errorInstance && details.errorInstance.message);
      out.steps = steps.slice(-14);
    }
    return out;
  } finally {
    for (const c of Object.values(contexts)) await c.close();
    pendingCleanup = undefined;
    target.cleanup();
  }
}

if (require.main === module) {
  const [mode, seed, runs] = [process.argv[2], Number(process.argv[3] || 1), Number(process.argv[4] || 20)];
  let printed = false;
  // An op that never settles and holds nothing open lets the loop empty: a hang, reported as one.
  process.on('exit', () => {
    if (pendingCleanup) pendingCleanup(); // synchronous: umount and rm
    if (!printed) {
      process.stdout.write(JSON.stringify({ mode, seed, failed: true, error: 'hang: the event loop emptied while a step was pending (an op never settled)', steps: lastSteps.slice(-14) }) + '\n');
      process.exitCode = 1;
    }
  });
  main(mode, seed, runs).then(
    (out) => {
      printed = true;
      process.stdout.write(JSON.stringify(out) + '\n');
      process.exitCode = out.failed ? 1 : 0;
    },
    (e) => {
      printed = true;
      process.stdout.write(JSON.stringify({ mode, seed, failed: true, error: String(e && e.stack) }) + '\n');
      process.exitCode = 1;
    },
  );
}

module.exports = { main, fsizeLimit };
