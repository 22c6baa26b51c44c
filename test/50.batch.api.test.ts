import assert from 'node:assert/strict';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { Ring } from 'kaio';
import { randomFile, tmpPath, type KaioError } from './helpers';

const errno = os.constants.errno;

/** Collects completions as [tag, res, flags]. */
function collector(ring: Ring) {
  const got: [number, number, number][] = [];
  ring.onCompletion((tag, res, flags) => got.push([tag, res, flags]));
  return got;
}

/** Reaps until `n` completions were delivered (blocking, like a bench loop). */
function drain(ring: Ring, got: unknown[], n: number) {
  while (got.length < n) ring.submitAndWait(1);
}

describe('50 batch API: prep*, submit, submitAndWait, onCompletion', () => {
  it('delivers each completion with its tag and result', async () => {
    const { path, data } = randomFile(64 * 1024);
    const fd = fs.openSync(path, 'r');
    const ring = new Ring({ entries: 32 });
    const got = collector(ring);
    const bufs = Array.from({ length: 16 }, () => Buffer.alloc(4096));
    for (let i = 0; i < 16; i++) assert.equal(ring.prepRead(fd, bufs[i], i * 4096, 1000 + i), true);
    assert.equal(got.length, 0, 'prep alone does not complete anything');
    assert.equal(ring.submit(), 16);
    drain(ring, got, 16);
    const byTag = new Map(got.map(([tag, res]) => [tag, res]));
    for (let i = 0; i < 16; i++) {
      assert.equal(byTag.get(1000 + i), 4096);
      assert.deepEqual(bufs[i], data.subarray(i * 4096, (i + 1) * 4096));
    }
    fs.closeSync(fd);
    await ring.close();
  });

  it('carries the full uint32 tag range, and short reads at EOF', async () => {
    const { path, data } = randomFile(100);
    const fd = fs.openSync(path, 'r');
    const ring = new Ring({ entries: 8 });
    const got = collector(ring);
    const a = Buffer.alloc(64);
    const b = Buffer.alloc(64);
    ring.prepRead(fd, a, 0, 0);
    ring.prepRead(fd, b, 80, 2 ** 32 - 1);
    ring.prepNop(0x80000000);
    drain(ring, got, 3);
    got.sort((x, y) => x[0] - y[0]);
    assert.deepEqual(got.map((g) => g.slice(0, 2)), [[0, 64], [0x80000000, 0], [2 ** 32 - 1, 20]]);
    assert.deepEqual(b.subarray(0, 20), data.subarray(80));
    fs.closeSync(fd);
    await ring.close();
  });

  it('writes, writev, readv and fsync round-trip through the file', async () => {
    const path = tmpPath();
    const fd = fs.openSync(path, 'w+');
    const ring = new Ring({ entries: 8 });
    const got = collector(ring);
    assert.ok(ring.prepWrite(fd, Buffer.from('hello '), 0, 1));
    assert.ok(ring.prepWritev(fd, [Buffer.from('io_'), Buffer.from('uring')], 6, 2));
    drain(ring, got, 2);
    assert.ok(ring.prepFsync(fd, 3));
    assert.ok(ring.prepFsync(fd, 4, true));
    drain(ring, got, 4);
    const x = Buffer.alloc(6);
    const y = Buffer.alloc(8);
    assert.ok(ring.prepReadv(fd, [x, y], 0, 5));
    drain(ring, got, 5);
    assert.deepEqual(new Map(got.map(([t, r]) => [t, r])), new Map([[1, 6], [2, 8], [3, 0], [4, 0], [5, 14]]));
    assert.equal(x.toString() + y.toString(), 'hello io_uring');
    assert.equal(fs.readFileSync(path, 'utf8'), 'hello io_uring');
    fs.closeSync(fd);
    await ring.close();
  });

  it('reports kernel errors as negative res, not as exceptions', async () => {
    const { path } = randomFile(4096);
    const ro = fs.openSync(path, 'r');
    const closed = 0x7ffffff0; // never open
    const dir = fs.openSync(os.tmpdir(), 'r');
    const ring = new Ring({ entries: 8 });
    const got = collector(ring);
    ring.prepWrite(ro, Buffer.alloc(16), 0, 1);
    ring.prepRead(closed, Buffer.alloc(16), 0, 2);
    ring.prepRead(dir, Buffer.alloc(16), 0, 3);
    drain(ring, got, 3);
    const byTag = new Map(got.map(([t, r]) => [t, r]));
    assert.equal(byTag.get(1), -errno.EBADF);
    assert.equal(byTag.get(2), -errno.EBADF);
    assert.equal(byTag.get(3), -errno.EISDIR);
    fs.closeSync(ro);
    fs.closeSync(dir);
    await ring.close();
  });

  it('back-pressure: prep* returns false when the SQ is full, true again after submit()', async () => {
    const ring = new Ring({ entries: 8, cqEntries: 64 });
    const got = collector(ring);
    let n = 0;
    while (ring.prepNop(n)) n++;
    assert.equal(n, 8, 'the SQ holds 8');
    assert.equal(ring.submit(), 8);
    assert.equal(ring.prepNop(n++), true);
    drain(ring, got, 9);
    assert.deepEqual(got.map((g) => g[0]).sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    await ring.close();
  });

  it('back-pressure: prep* returns false while as many ops are in flight as the CQ holds, until they are reaped', async () => {
    const ring = new Ring({ entries: 8, cqEntries: 16 });
    const got = collector(ring);
    let n = 0;
    for (;;) {
      if (ring.prepNop(n)) {
        n++;
        continue;
      }
      if (ring.submit() === 0) break; // SQ empty yet nothing fits: the CQ budget is used up
    }
    assert.equal(n, 16);
    assert.equal(ring.stats.inFlight, 16);
    assert.equal(ring.prepNop(99), false);
    assert.equal(ring.submitAndWait(16), 16);
    assert.equal(got.length, 16);
    assert.equal(ring.prepNop(99), true);
    drain(ring, got, 17);
    await ring.close();
  });

  it('submitAndWait delivers completions synchronously, returns their count, and caps minComplete at what is in flight', async () => {
    const ring = new Ring({ entries: 8 });
    const got = collector(ring);
    assert.equal(ring.submitAndWait(5), 0, 'nothing in flight: returns at once');
    ring.prepNop(1);
    ring.prepNop(2);
    ring.prepNop(3);
    const n = ring.submitAndWait(100);
    assert.equal(n, 3);
    assert.equal(got.length, 3, 'handler ran before submitAndWait returned');
    assert.equal(ring.stats.inFlight, 0);
    // Promise ops reaped here settle; only batch completions are counted.
    const p = ring.nop();
    ring.prepNop(4);
    assert.equal(ring.submitAndWait(2), 1);
    await p;
    await ring.close();
  });

  it('submitAndWait(0) submits and reaps only what is ready', async () => {
    const ring = new Ring({ entries: 8 });
    const got = collector(ring);
    ring.prepNop(7);
    let total = ring.submitAndWait(0);
    while (total < 1) total += ring.submitAndWait(0);
    assert.deepEqual(got.map((g) => g[0]), [7]);
    await ring.close();
  });

  it('completions also arrive from the event loop without submitAndWait', async () => {
    const ring = new Ring({ entries: 8 });
    const done = new Promise((resolve) => ring.onCompletion((tag, res) => resolve([tag, res])));
    ring.prepNop(42);
    ring.submit();
    assert.deepEqual(await done, [42, 0]);
    await ring.close();
  });

  it('the handler may prep more ops (and submit) but not submitAndWait', async () => {
    const ring = new Ring({ entries: 8 });
    let count = 0;
    let reentrant;
    ring.onCompletion((tag) => {
      count++;
      if (tag < 5) {
        ring.prepNop(tag + 1);
        ring.submit();
      } else {
        try {
          ring.submitAndWait(1);
        } catch (e) {
          reentrant = e as KaioError;
        }
      }
    });
    ring.prepNop(0);
    while (count < 6) ring.submitAndWait(1);
    assert.equal((reentrant as KaioError | undefined)?.code, 'ERR_KAIO_REENTRANT'); // set in the callback
    await ring.close();
  });

  it('a promise op waiting for room is not starved by batch ops the handler prepared without submit() (fuzz seed 777)', async () => {
    const ring = new Ring({ entries: 1 });
    const got: number[] = [];
    ring.onCompletion((tag) => {
      got.push(tag);
      if (tag === 1) assert.ok(ring.prepNop(2)); // fills the one SQ entry the waiting nop() needs
    });
    assert.ok(ring.prepNop(1));
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`hang: ${JSON.stringify(ring.stats)}`)), 5000);
    });
    try {
      await Promise.race([ring.nop(), hang]); // queued behind tag 1, then behind tag 2
    } catch (e) {
      ring.submit(); // let the ring drain, so that close() ends and the failure does not hang the suite
      await ring.close();
      throw e;
    } finally {
      clearTimeout(timer);
    }
    assert.deepEqual(got, [1, 2]);
    await ring.close();
  });

  it('close() submits what was prepared, waits for it, then refuses prep*', async () => {
    const ring = new Ring({ entries: 8 });
    const got = collector(ring);
    ring.prepNop(1);
    ring.prepNop(2);
    await ring.close();
    assert.equal(got.length, 2);
    assert.throws(() => ring.prepNop(3), { code: 'ERR_KAIO_CLOSED' });
    assert.throws(() => ring.submit(), { code: 'ERR_KAIO_CLOSED' });
  });

  it('rejects bad arguments before the kernel', async () => {
    const ring = new Ring({ entries: 8 });
    const buf = Buffer.alloc(16);
    assert.throws(() => ring.prepNop(1), { code: 'ERR_KAIO_NO_HANDLER' });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => ring.onCompletion('x'), { code: 'ERR_INVALID_ARG_TYPE' });
    collector(ring);
    for (const tag of [-1, 1.5, 2 ** 32, NaN]) assert.throws(() => ring.prepNop(tag), { code: 'ERR_OUT_OF_RANGE' }, String(tag));
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => ring.prepNop('1'), { code: 'ERR_INVALID_ARG_TYPE' });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => ring.prepNop(), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => ring.prepRead(-1, buf, 0, 1), { code: 'ERR_OUT_OF_RANGE' });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => ring.prepRead('3', buf, 0, 1), { code: 'ERR_INVALID_ARG_TYPE' });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => ring.prepRead(0, 'buf', 0, 1), { code: 'ERR_INVALID_ARG_TYPE' });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => ring.prepRead(0, [buf], 0, 1), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => ring.prepRead(0, buf, -2, 1), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => ring.prepRead(0, buf, 1.5, 1), { code: 'ERR_OUT_OF_RANGE' });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => ring.prepRead(0, buf, '0', 1), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => ring.prepRead(0, buf, 0, 1, -1), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => ring.prepReadv(0, [], 0, 1), { code: 'ERR_OUT_OF_RANGE' });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => ring.prepWritev(0, [buf, 'x'], 0, 1), { code: 'ERR_INVALID_ARG_TYPE' });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => ring.prepFsync(0, 1, 'yes'), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => ring.submitAndWait(-1), { code: 'ERR_OUT_OF_RANGE' });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => ring.submitAndWait('1'), { code: 'ERR_INVALID_ARG_TYPE' });
    const ab = new ArrayBuffer(16);
    const view = new Uint8Array(ab);
    structuredClone(ab, { transfer: [ab] });
    assert.throws(() => ring.prepRead(0, view, 0, 1), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.equal(ring.stats.inFlight, 0, 'nothing reached the ring');
    ring.onCompletion(null);
    assert.throws(() => ring.prepNop(1), { code: 'ERR_KAIO_NO_HANDLER' });
    await ring.close();
  });

  it('keeps a buffer reachable until its completion, then lets it go', function () {
    // GC needs --expose-gc: run in a child.
    const script = `
      const v8 = require('node:v8'); v8.setFlagsFromString('--expose-gc');
      const gc = require('node:vm').runInNewContext('gc');
      const fs = require('node:fs');
      const { Ring } = require(${JSON.stringify(require.resolve('..'))});
      const ring = new Ring({ entries: 8 });
      let done = 0;
      ring.onCompletion((tag, res) => { if (res !== 4096) throw new Error('res ' + res); done++; });
      const fd = fs.openSync('/dev/zero', 'r');
      let ref;
      (function () { const b = Buffer.alloc(4096, 1); ref = new WeakRef(b.buffer); ring.prepRead(fd, b, 0, 1); })();
      gc(); gc();
      const keptWhilePrepared = ref.deref() !== undefined;
      while (done < 1) ring.submitAndWait(1);
      setImmediate(() => {
        gc(); gc();
        console.log(JSON.stringify({ keptWhilePrepared, releasedAfter: ref.deref() === undefined }));
        ring.close();
      });`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
    assert.deepEqual(out, { keptWhilePrepared: true, releasedAfter: true });
  });

  it('a throwing handler is reported as uncaught and does not lose the rest of the batch', function () {
    const script = `
      const { Ring } = require(${JSON.stringify(require.resolve('..'))});
      const ring = new Ring({ entries: 8 });
      const seen = [];
      let uncaught = 0;
      process.on('uncaughtException', (e) => { if (e.message === 'boom') uncaught++; });
      ring.onCompletion((tag) => { seen.push(tag); if (tag === 1) throw new Error('boom'); });
      for (let i = 0; i < 4; i++) ring.prepNop(i);
      ring.submit();
      // 'beforeExit': the loop has nothing left (the ring keeps it alive while
      // ops are in flight), so every completion and error has been delivered.
      process.once('beforeExit', () => { console.log(JSON.stringify({ seen: seen.sort(), uncaught })); ring.close(); });`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' }));
    assert.deepEqual(out, { seen: [0, 1, 2, 3], uncaught: 1 });
  });

  it('process exit with batch ops prepared or in flight does not crash', function () {
    const script = `
      const fs = require('node:fs');
      const { Ring } = require(${JSON.stringify(require.resolve('..'))});
      const ring = new Ring({ entries: 64 });
      ring.onCompletion(() => {});
      const fd = fs.openSync('/dev/zero', 'r');
      for (let i = 0; i < 32; i++) ring.prepRead(fd, Buffer.alloc(65536), 0, i);
      ring.submit();
      for (let i = 0; i < 16; i++) ring.prepNop(i);
      process.exit(7);`;
    let status;
    try {
      execFileSync(process.execPath, ['-e', script], { stdio: 'pipe' });
    } catch (e) {
      status = (e as { status: number }).status;
    }
    assert.equal(status, 7);
  });

  it('batch and promise ops share one ring; many more ops than the SQ holds all complete', async () => {
    const { path, data } = randomFile(1 << 20);
    const fd = fs.openSync(path, 'r');
    const ring = new Ring({ entries: 8, cqEntries: 16 });
    const got = collector(ring);
    const reads = [];
    const accepted = [];
    for (let i = 0; i < 2000; i++) {
      const b = Buffer.alloc(512);
      const pos = (i * 4096) % (1 << 20);
      reads.push(ring.read(fd, b, pos).then((n) => assert.deepEqual(b.subarray(0, n), data.subarray(pos, pos + 512))));
      // Promise ops take the room first: prepNop may answer false here.
      if (i % 100 === 0 && ring.prepNop(i)) accepted.push(i);
    }
    assert.ok(accepted.length >= 1);
    ring.submit();
    await Promise.all(reads);
    while (got.length < accepted.length) await new Promise((r) => setImmediate(r));
    assert.deepEqual(got.map((g) => g[0]).sort((a, b) => a - b), accepted);
    assert.equal(ring.stats.inFlight, 0);
    fs.closeSync(fd);
    await ring.close();
  });

  it('submitBatch splits one submit into several io_uring_enter calls, and is validated', async () => {
    assert.throws(() => new Ring({ submitBatch: -1 }), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => new Ring({ submitBatch: 1.5 }), { code: 'ERR_OUT_OF_RANGE' });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => new Ring({ submitBatch: '4' }), { code: 'ERR_INVALID_ARG_TYPE' });
    const ring = new Ring({ entries: 32, submitBatch: 4 });
    const got = collector(ring);
    for (let i = 0; i < 16; i++) assert.ok(ring.prepNop(i));
    const before = ring.stats.enterCalls;
    ring.submit();
    assert.equal(ring.stats.enterCalls - before, 4, '16 ops in chunks of 4');
    drain(ring, got, 16);
    assert.equal(ring.stats.submitted, 16);
    await ring.close();
  });

  it('works in a worker thread (the blocking loop it is meant for), and a worker ending with ops prepared does not crash', async () => {
    const { path, data } = randomFile(64 * 1024);
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const fs = require('node:fs');
      const { Ring } = require(${JSON.stringify(require.resolve('..'))});
      const ring = new Ring({ entries: 16 });
      const fd = fs.openSync(workerData.path, 'r');
      const bufs = Array.from({ length: 16 }, () => Buffer.alloc(4096));
      let done = 0, bytes = 0;
      ring.onCompletion((tag, res) => { done++; bytes += res; });
      for (let i = 0; i < 16; i++) ring.prepRead(fd, bufs[i], i * 4096, i);
      while (done < 16) ring.submitAndWait(4);
      parentPort.postMessage({ done, bytes, first: bufs[0].toString('hex', 0, 8) });
      for (let i = 0; i < 8; i++) ring.prepRead(fd, bufs[i], 0, i);   // left prepared
      ring.submit();
      for (let i = 0; i < 4; i++) ring.prepNop(i);                     // and staged`;
    const w = new Worker(code, { eval: true, workerData: { path } });
    const msg = await new Promise((resolve, reject) => {
      w.once('message', resolve);
      w.once('error', reject);
    });
    assert.deepEqual(msg, { done: 16, bytes: 65536, first: data.toString('hex', 0, 8) });
    const [exitCode] = await once(w, 'exit');
    assert.equal(exitCode, 0, 'the worker ended by itself, without an error');
  });
});
