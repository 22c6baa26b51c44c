// One measurement of bench/peers.js, run by node, Bun or Deno:
//   <runtime> peers-worker.mjs <workload> <api> <seconds> <params-json>
// prints one JSON line: { ops, seconds, cpuUs (user+system, every thread), bytes }.
// The same source for every runtime: node:fs/promises ('fsp', 'fsp-fh'),
// kaio ('kaio', 'kaio-fh', 'kaio-ring', 'kaio-inplace'; node only, loaded by
// path), Bun.file/Bun.write ('bun'), Deno.* ('deno'); for writeFile, also
// rename-replace and flush variants.
import fsp from 'node:fs/promises';
import fs from 'node:fs';
import path from 'node:path';
import process from 'node:process';
import { pipeline } from 'node:stream/promises';
import { createRequire } from 'node:module';

const [workload, api, secondsArg, paramsArg] = process.argv.slice(2);
const seconds = Number(secondsArg);
const P = JSON.parse(paramsArg);
const kaio = api.startsWith('kaio') ? createRequire(import.meta.url)(P.kaioPath) : undefined;
const kaioFsp = api.startsWith('kaio') ? createRequire(import.meta.url)(path.join(P.kaioPath, 'fs', 'promises')) : undefined;

// Random 4 KiB-block offsets, the same sequence in every runtime.
let seed = 12345;
const rand = (n) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);

/** Runs `lanes` async loops of `op(lane)` until the deadline; counts the ops. */
async function lanes(count, op) {
  const end = performance.now() + seconds * 1000;
  let ops = 0;
  const lane = async (i) => {
    while (performance.now() < end) {
      await op(i);
      ops++;
    }
  };
  await Promise.all(Array.from({ length: count }, (_, i) => lane(i)));
  return ops;
}

const readers = {
  fsp: (p) => fsp.readFile(p),
  kaio: (p) => kaio.readFile(p),
  bun: (p) => globalThis.Bun.file(p).bytes(),
  deno: (p) => globalThis.Deno.readFile(p),
};

const writers = {
  fsp: (p, d) => fsp.writeFile(p, d),
  kaio: (p, d) => kaio.writeFile(p, d),
  'kaio-inplace': (p, d) => kaio.writeFile(p, d, { inPlace: true }),
  bun: (p, d) => globalThis.Bun.write(p, d),
  deno: (p, d) => globalThis.Deno.writeFile(p, d),
  // The other ways to replace a file's content (writefile-options).
  'fsp-rename': async (p, d) => { const t = `${p}.${process.pid}.tmp`; await fsp.writeFile(t, d); await fsp.rename(t, p); },
  'kaio-rename': async (p, d) => { const t = `${p}.${process.pid}.tmp`; await kaio.writeFile(t, d); await fsp.rename(t, p); },
  'fsp-flush': (p, d) => fsp.writeFile(p, d, { flush: true }),
  'kaio-flush': (p, d) => kaio.writeFile(p, d, { flush: true }),
  'kaio-inplace-flush': (p, d) => kaio.writeFile(p, d, { inPlace: true, flush: true }),
};

const appenders = {
  fsp: (p, d) => fsp.appendFile(p, d),
  kaio: (p, d) => kaio.appendFile(p, d),
  deno: (p, d) => globalThis.Deno.writeFile(p, d, { append: true }),
};

/** An fd-like handle with pread/append/datasync/close for the handle-based rows. */
async function openHandle(p, flags) {
  if (api === 'fsp-fh') {
    const fh = await fsp.open(p, flags);
    return { pread: (b, at) => fh.read(b, 0, b.length, at), write: (b) => fh.write(b), datasync: () => fh.datasync(), close: () => fh.close() };
  }
  if (api === 'kaio-fh') {
    const fh = await kaio.open(p, flags);
    return { pread: (b, at) => fh.read(b, 0, b.length, at), write: (b) => fh.write(b), datasync: () => fh.datasync(), close: () => fh.close() };
  }
  if (api === 'kaio-ring') {
    const ring = new kaio.Ring({ entries: 256 });
    const fd = fs.openSync(p, flags);
    return {
      pread: (b, at) => ring.read(fd, b, at),
      write: (b) => ring.write(fd, b, -1),
      datasync: () => ring.fsync(fd, { datasync: true }),
      close: async () => { fs.closeSync(fd); await ring.close(); },
    };
  }
  throw new Error(`no handle api ${api}`);
}

async function pread(qd) {
  const size = fs.statSync(P.bigFile).size;
  const blocks = Math.floor(size / 4096);
  const bufs = Array.from({ length: qd }, () => Buffer.alloc(4096));
  if (api === 'bun') {
    const f = globalThis.Bun.file(P.bigFile);
    return lanes(qd, async () => { const at = rand(blocks) * 4096; await f.slice(at, at + 4096).bytes(); });
  }
  if (api === 'deno') {
    // Deno.FsFile has no pread: one file (own position) per lane, seek + read.
    const files = await Promise.all(bufs.map(() => globalThis.Deno.open(P.bigFile, { read: true })));
    const ops = await lanes(qd, async (i) => {
      await files[i].seek(rand(blocks) * 4096, globalThis.Deno.SeekMode.Start);
      await files[i].read(bufs[i]);
    });
    for (const f of files) f.close();
    return ops;
  }
  if (api === 'fsp') {
    const fh = await fsp.open(P.bigFile, 'r');
    const ops = await lanes(qd, (i) => fh.read(bufs[i], 0, 4096, rand(blocks) * 4096));
    await fh.close();
    return ops;
  }
  const h = await openHandle(P.bigFile, 'r');
  const ops = await lanes(qd, (i) => h.pread(bufs[i], rand(blocks) * 4096));
  await h.close();
  return ops;
}

async function readFiles() {
  const read = readers[api];
  let next = 0;
  return lanes(P.inFlight, () => read(P.files[next++ % P.files.length]));
}

async function writeFiles() {
  const write = writers[api];
  const data = Buffer.alloc(P.size, 0x61);
  let next = 0;
  if (P.fresh) return lanes(P.inFlight, () => write(path.join(P.dir, `n${next++}`), data));
  return lanes(P.inFlight, () => write(P.files[next++ % P.files.length], data));
}

/** 64 producers, each line its own append (appendFile), or through one handle opened 'a'. */
async function appendLog() {
  const line = Buffer.from(`${'x'.repeat(P.line - 1)}\n`);
  if (appenders[api]) {
    const append = appenders[api];
    return lanes(P.producers, () => append(P.log, line));
  }
  const h = await openHandle(P.log, 'a');
  const ops = await lanes(P.producers, () => h.write(line));
  await h.close();
  return ops;
}

/**
 * A write-ahead log: producers each wait for their record to be durable; one
 * committer writes every pending record in one append and fdatasyncs, then
 * resolves them (group commit). Counts committed records.
 */
async function wal() {
  let h;
  if (api === 'deno') {
    const f = await globalThis.Deno.open(P.log, { append: true, create: true });
    h = { write: (b) => f.write(b), datasync: () => f.syncData(), close: async () => f.close() };
  } else if (api === 'bun') {
    // Bun's own API has no fdatasync on a writer: node:fs's fd calls under Bun.
    const fd = fs.openSync(P.log, 'a');
    h = { write: async (b) => fs.writeSync(fd, b), datasync: async () => fs.fdatasyncSync(fd), close: async () => fs.closeSync(fd) };
  } else {
    h = await openHandle(P.log, 'a');
  }
  const record = Buffer.alloc(P.record, 0x72);
  let pending = [];
  let wake;
  let stopping = false;
  const committer = (async () => {
    while (!stopping || pending.length) {
      if (!pending.length) {
        await new Promise((r) => (wake = r));
        continue;
      }
      const batch = pending;
      pending = [];
      let buf = Buffer.concat(batch.map(() => record));
      while (buf.length) {
        const n = await h.write(buf);
        const written = typeof n === 'number' ? n : n.bytesWritten;
        buf = buf.subarray(written);
      }
      await h.datasync();
      extra.commits = (extra.commits ?? 0) + 1;
      for (const done of batch) done();
    }
  })();
  const ops = await lanes(P.producers, () => new Promise((resolve) => {
    pending.push(resolve);
    if (wake) { const w = wake; wake = undefined; w(); }
  }));
  stopping = true;
  if (wake) wake();
  await committer;
  await h.close();
  return ops;
}

/**
 * Stream copy of one file, or (copy-api) each runtime's copy function (ops = copies).
 * copy-sync, copy-api-sync: each copy then made durable, the destination's
 * data on the disk (node:fs openSync, fdatasyncSync, closeSync: the same
 * calls in every runtime), inside the clock.
 */
async function copy() {
  // copy-hwm: both streams' highWaterMark (default: each stream's own, 64 KiB and 16 KiB).
  const hwm = P.hwm ? { highWaterMark: P.hwm } : undefined;
  const end = performance.now() + seconds * 1000;
  let ops = 0;
  do {
    if (api === 'bun') {
      await globalThis.Bun.write(P.dest, globalThis.Bun.file(P.src));
    } else if (api === 'deno' && workload.startsWith('copy-api')) {
      await globalThis.Deno.copyFile(P.src, P.dest);
    } else if (api === 'deno') {
      const src = await globalThis.Deno.open(P.src, { read: true });
      const dst = await globalThis.Deno.open(P.dest, { write: true, create: true, truncate: true });
      await src.readable.pipeTo(dst.writable);
    } else if (api === 'fsp-copyfile') {
      await fsp.copyFile(P.src, P.dest);
    } else if (api === 'kaio-copyfile') {
      await kaioFsp.copyFile(P.src, P.dest);
    } else if (api === 'kaio-fh') {
      const src = await kaio.open(P.src, 'r');
      const dst = await kaio.open(P.dest, 'w');
      await pipeline(src.createReadStream(hwm), dst.createWriteStream(hwm));
    } else {
      await pipeline(fs.createReadStream(P.src, hwm), fs.createWriteStream(P.dest, hwm));
    }
    if (P.sync) {
      const fd = fs.openSync(P.dest, 'r+');
      fs.fdatasyncSync(fd);
      fs.closeSync(fd);
    }
    ops++;
  } while (performance.now() < end);
  return ops;
}

const workloads = {
  'readfile-4k': readFiles,
  'readfile-64k': readFiles,
  'readfile-64m': readFiles,
  'pread-qd1': () => pread(1),
  'pread-qd32': () => pread(32),
  'writefile-new': writeFiles,
  'writefile-existing': writeFiles,
  'writefile-options': writeFiles,
  'append-64': appendLog,
  wal,
  copy,
  'copy-hwm': copy,
  'copy-api': copy,
  'copy-sync': copy,
  'copy-api-sync': copy,
};

/** Workload facts beside the rate (wal: commits, i.e. fdatasyncs). */
const extra = {};

const cpu0 = process.cpuUsage();
const t0 = performance.now();
const ops = await workloads[workload]();
const elapsed = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
process.stdout.write(`${JSON.stringify({ ops, seconds: elapsed, cpuUs: cpu.user + cpu.system, ...extra })}\n`);
process.exit(0);
