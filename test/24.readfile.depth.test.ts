// Module readFile at depth: many readFiles in flight on one ring, where reads
// of 32 KiB and more go to io-wq workers (IOSQE_ASYNC, hard-linked to their
// close) and results of 16 KiB .. 2 MiB come from kept memory
// (core/result_memory.h). Every result is compared with node:fs's.
import assert from 'node:assert';
import cp from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import * as kaio from 'kaio';
import { packageForAnyUser, skip, type KaioError } from './helpers';

/** CPU clock ticks (user + system) of each of this process's io-wq workers (threads iou-wrk-*) alive now, by thread id. */
function workerTicks(): Map<string, number> {
  const ticks = new Map<string, number>();
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (!comm.startsWith('iou-wrk')) continue;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks.set(tid, Number(f[11]) + Number(f[12])); // utime, stime (fields 14 and 15 of stat)
    } catch {
      // the thread ended meanwhile
    }
  }
  return ticks;
}

/**
 * The clock ticks io-wq workers ran since `start` (workerTicks() then), from
 * the latest sample of each (`seen`, updated by sample()): a worker that
 * exits (idle for 5 s) takes its ticks with it, so a plain sum of the live
 * ones can fall. Each worker counts what it ran from its first sample to
 * its last; one that ends between samples loses only its last stretch.
 */
class WorkerClock {
  readonly #start = workerTicks();
  readonly #seen = new Map(this.#start);
  sample(): void {
    for (const [tid, t] of workerTicks()) this.#seen.set(tid, t);
  }
  ran(): number {
    this.sample();
    let n = 0;
    for (const [tid, t] of this.#seen) n += t - (this.#start.get(tid) ?? 0);
    return n;
  }
}

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

function pattern(seed: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = (seed * 131 + i * 7 + (i >> 12)) & 0xff;
  return b;
}

const KiB = 1024;
const DEPTH = 64;

describe('24 module readFile at depth: io-wq reads and kept result memory', function () {
  this.timeout(120000);
  let ring: kaio.Ring;
  let dir: string;
  before(function () {
    try {
      ring = new kaio.Ring({ entries: 256 });
    } catch (e) {
      skip(this, `io_uring is not available here: ${(e as Error).message}`);
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-24-depth-'));
  });
  after(async () => {
    if (ring) await ring.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  // Sizes around the thresholds: kept memory from 16 KiB, io-wq from 32 KiB, huge pages from 2 MiB.
  const SIZES = [1, 4 * KiB, 16 * KiB - 1, 16 * KiB, 32 * KiB - 1, 32 * KiB, 32 * KiB + 1, 64 * KiB, 200 * KiB + 7, 512 * KiB, 512 * KiB + 1, 2 * 1024 * KiB - 1];

  it(`${DEPTH} in flight, every size: the bytes and the encodings of node:fs`, async function () {
    const files = SIZES.map((size, i) => {
      const p = path.join(dir, `s${size}`);
      fs.writeFileSync(p, pattern(i, size));
      return p;
    });
    const want = files.map((p) => fs.readFileSync(p));
    for (let round = 0; round < 8; round++) {
      const got = await Promise.all(Array.from({ length: DEPTH }, (_, i) => kaio.readFile(files[(i + round) % files.length], { context: ring })));
      got.forEach((b, i) => assert.ok(b.equals(want[(i + round) % files.length]), `round ${round}: ${SIZES[(i + round) % files.length]} bytes`));
    }
    const enc = ['utf8', 'base64', 'latin1', 'hex'] as const;
    const text = await Promise.all(Array.from({ length: DEPTH }, (_, i) => kaio.readFile(files[i % files.length], { context: ring, encoding: enc[i % enc.length] })));
    text.forEach((s, i) => assert.strictEqual(s, want[i % files.length].toString(enc[i % enc.length]), `${SIZES[i % files.length]} bytes as ${enc[i % enc.length]}`));
  });

  it('rings of 4, 8 and 32 entries, 256 readFiles of 40 KiB files at once: every result is its own file\'s bytes; none fails (an io-wq read and its close never reach the kernel apart)', async function () {
    // Far more readFiles than the ring has room for: ops wait for room and go
    // as completions make it. An async read went to the kernel at the end of
    // one submission, its hard-linked close in a later one, which ran first:
    // the read failed EBADF (or read the file its fd number named next).
    const files = Array.from({ length: 256 }, (_, i) => {
      const p = path.join(dir, `same${i}`);
      fs.writeFileSync(p, pattern(1000 + i, 40 * KiB));
      return p;
    });
    const want = files.map((p) => fs.readFileSync(p));
    for (const entries of [4, 8, 32]) {
      const small = new kaio.Ring({ entries });
      try {
        for (let round = 0; round < 10; round++) {
          const got = await Promise.allSettled(files.map((p) => kaio.readFile(p, { context: small })));
          got.forEach((r, i) => {
            if (r.status === 'rejected') assert.fail(`${entries} entries, round ${round}, file ${i}: ${(r.reason as Error).message}`);
            assert.ok(r.value.equals(want[i]), `${entries} entries, round ${round}: file ${i} read other bytes`);
          });
        }
      } finally {
        await small.close();
      }
    }
  });

  it(`${DEPTH} readFiles of 256 KiB files in the page cache: the copies run on io-wq workers (their CPU time grows), not all on this thread`, async function () {
    const files = Array.from({ length: DEPTH }, (_, i) => {
      const p = path.join(dir, `w${i}`);
      fs.writeFileSync(p, pattern(i, 256 * KiB));
      return p;
    });
    // Clean and cached: nothing makes io_uring punt a read to a worker on its own (a page under writeback or locked).
    for (const p of files) {
      const fd = fs.openSync(p, 'r');
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      fs.readFileSync(p);
    }
    const clock = new WorkerClock();
    for (let round = 0; round < 40; round++) {
      const got = await Promise.all(files.map((p) => kaio.readFile(p, { context: ring })));
      assert.ok(got.every((b) => b.length === 256 * KiB));
      clock.sample();
    }
    const ran = clock.ran();
    // About 640 MiB copied: tens of clock ticks wherever it runs.
    assert.ok(ran >= 3, `io-wq workers ran ${ran} clock ticks for 640 MiB of readFile copies`);
  });

  it('results in kept memory stay theirs: collected results give their memory to later ones, live results are never written', async function () {
    const n = 128;
    const files = Array.from({ length: n }, (_, i) => {
      const p = path.join(dir, `k${i}`);
      fs.writeFileSync(p, pattern(i + 7, 64 * KiB - (i % 5)));
      return p;
    });
    const held = await Promise.all(files.map((p) => kaio.readFile(p, { context: ring })));
    const copies = held.map((b) => Buffer.from(b));
    // Many rounds of results that die at once, collected, their memory reused for the next ones.
    for (let round = 0; round < 20; round++) {
      const some = await Promise.all(files.map((p, i) => kaio.readFile(files[(i + round) % n], { context: ring })));
      some.forEach((b, i) => assert.ok(b.equals(copies[(i + round) % n]), `round ${round}, file ${(i + round) % n}`));
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    held.forEach((b, i) => assert.ok(b.equals(copies[i]), `held result ${i} changed after later reads`));
  });

  it(`${DEPTH} readFiles of files that grow and shrink meanwhile: each result is one whole version, as node:fs would read it; none fails`, async function () {
    // Versions of different lengths, each byte telling its version: a result is
    // good when it is one version whole (never a mix, a cut, a hole of zeros).
    const lengths = [0, 1, 5000, 40 * KiB, 64 * KiB, 64 * KiB + 1, 100 * KiB, 300 * KiB];
    const version = (v: number): Buffer => Buffer.alloc(lengths[v], 0x41 + v);
    const names = Array.from({ length: 8 }, (_, i) => path.join(dir, `v${i}`));
    for (const p of names) fs.writeFileSync(p, version(4));
    // Another process rewrites them in place (truncate, then write): every
    // read sees some length; node:fs's readFile in this process sees the same
    // kind of states, so both are held to the same rule.
    const child = cp.spawn(process.execPath, ['-e', `
      const fs = require('fs'); const lengths = ${JSON.stringify(lengths)}; const names = ${JSON.stringify(names)};
      const fds = names.map((p) => fs.openSync(p, 'r+')); const end = Date.now() + 3000; let k = 0;
      while (Date.now() < end) { const v = k++ % lengths.length; const fd = fds[k % fds.length];
        fs.ftruncateSync(fd, 0); fs.writeSync(fd, Buffer.alloc(lengths[v], 0x41 + v), 0, lengths[v], 0); }`], { stdio: 'inherit' });
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
    let done = false;
    void exited.then(() => (done = true));
    const check = (b: Buffer, who: string): void => {
      if (b.length === 0) return;
      const v = b[0] - 0x41;
      // Between the truncate and the write a reader can see a file shorter
      // than the version, and a read racing the rewrite may copy some pages
      // before it and some after (for node:fs too): never a byte that no
      // version has (zeros, or what the memory held before).
      assert.ok(v >= 0 && v < lengths.length && b.length <= Math.max(...lengths) && b.every((x) => x >= 0x41 && x < 0x41 + lengths.length), `${who}: ${b.length} bytes starting ${b[0]} hold a byte no version has`);
    };
    let reads = 0;
    while (!done) {
      const got = await Promise.all(Array.from({ length: DEPTH }, (_, i) => kaio.readFile(names[i % names.length], { context: ring })));
      got.forEach((b) => check(b, 'kaio'));
      check(await fsp.readFile(names[reads % names.length]), 'node:fs');
      reads += got.length;
    }
    assert.strictEqual(await exited, 0);
    assert.ok(reads > DEPTH, `${reads} reads`);
  });

  it('a file truncated while 64 readFiles of it are in flight: each gives the old bytes, a prefix of them, or the new, as node:fs; none fails', async function () {
    const p = path.join(dir, 'cut');
    const old = pattern(3, 256 * KiB);
    for (let round = 0; round < 20; round++) {
      fs.writeFileSync(p, old);
      const reads = Array.from({ length: DEPTH }, () => kaio.readFile(p, { context: ring }));
      const cutAt = (round * 13 * KiB) % (256 * KiB);
      fs.truncateSync(p, cutAt);
      for (const b of await Promise.all(reads)) assert.ok(b.equals(old.subarray(0, b.length)), `round ${round}: ${b.length} bytes are not a prefix of the file`);
    }
  });

  it(`EISDIR, ENOENT and an abort among ${DEPTH} readFiles in flight: the errors of node:fs, and the other reads unharmed`, async function () {
    const file = path.join(dir, 'ok');
    const data = pattern(5, 64 * KiB);
    fs.writeFileSync(file, data);
    const missing = path.join(dir, 'missing');
    const shape = (e: KaioError | NodeJS.ErrnoException | undefined) => e && [e.name, e.code, e.errno, e.syscall, e.path];
    const mine = await Promise.all(Array.from({ length: DEPTH }, (_, i) => {
      const p = i % 3 === 0 ? dir : i % 3 === 1 ? missing : file;
      return kaio.readFile(p, { context: ring }).then((b) => b, (e: KaioError) => e);
    }));
    const node = [await fsp.readFile(dir).catch((e: NodeJS.ErrnoException) => e), await fsp.readFile(missing).catch((e: NodeJS.ErrnoException) => e)];
    mine.forEach((r, i) => {
      if (i % 3 === 2) assert.ok(Buffer.isBuffer(r) && r.equals(data), `read ${i}`);
      else assert.deepStrictEqual(shape(r as KaioError), shape(node[i % 3] as NodeJS.ErrnoException), `read ${i}`);
    });
    // An abort while they are in flight: those asked to stop reject as node:fs's (AbortError), the rest read.
    const ac = new AbortController();
    const aborted = Array.from({ length: DEPTH }, (_, i) => kaio.readFile(file, { context: ring, signal: i % 2 ? ac.signal : undefined }).then((b) => b, (e: Error) => e));
    ac.abort();
    const theirs = await fsp.readFile(file, { signal: ac.signal }).catch((e: Error) => e);
    for (const [i, r] of (await Promise.all(aborted)).entries()) {
      if (Buffer.isBuffer(r)) assert.ok(r.equals(data), `read ${i}`);
      else {
        assert.ok(i % 2 === 1, `read ${i} had no signal and failed: ${String(r)}`);
        assert.deepStrictEqual([r.name, (r as KaioError).code], [(theirs as Error).name, (theirs as KaioError).code]);
      }
    }
  });

  it('as an unprivileged user (nobody), 64 in flight: EACCES for a file closed to it, as node:fs, and its own files read whole', function () {
    if (process.getuid?.() !== 0) skip(this, 'needs root to start a child as nobody');
    const open = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-24-depth-perm-'));
    try {
      fs.chmodSync(open, 0o755);
      fs.writeFileSync(path.join(open, 'closed'), pattern(1, 64 * KiB), { mode: 0o600 });
      fs.chmodSync(path.join(open, 'closed'), 0o600);
      fs.writeFileSync(path.join(open, 'public'), pattern(2, 64 * KiB), { mode: 0o644 });
      fs.chmodSync(path.join(open, 'public'), 0o644);
      const pkg = packageForAnyUser();
      const script = `
        const fsp = require('fs/promises'); const kfs = require(${JSON.stringify(path.join(pkg, 'dist/lib/fs/promises.js'))});
        const kaio = require(${JSON.stringify(pkg)}); const dir = ${JSON.stringify(open)};
        const shape = (e) => ({ message: e.message, code: e.code, errno: e.errno, syscall: e.syscall, path: e.path });
        const digest = (b) => b.length + ' ' + require('crypto').createHash('sha256').update(b).digest('hex');
        (async () => {
          const names = Array.from({ length: 64 }, (_, i) => dir + (i % 2 ? '/closed' : '/public'));
          const k = await Promise.all(names.map((p) => kfs.readFile(p).then(digest, (e) => shape(e))));
          const n = await Promise.all(names.map((p) => fsp.readFile(p).then(digest, (e) => shape(e))));
          console.log(JSON.stringify({ k, n }));
          await kaio.defaultContext().close();
        })().catch((e) => { console.error(e); process.exit(1); });`;
      const r = cp.spawnSync(process.execPath, ['-e', script], { uid: 65534, gid: 65534, encoding: 'utf8' });
      assert.strictEqual(r.status, 0, `${r.signal ?? ''} ${r.error ?? ''} ${r.stderr}`);
      const { k, n } = JSON.parse(r.stdout) as { k: unknown[]; n: unknown[] };
      assert.deepStrictEqual(k, n);
      assert.strictEqual((n[1] as { code: string }).code, 'EACCES');
      assert.strictEqual(n[0], `${64 * KiB} ${createHash('sha256').update(pattern(2, 64 * KiB)).digest('hex')}`);
    } finally {
      fs.rmSync(open, { recursive: true, force: true });
    }
  });
});
