// Ring set-up levers found at run time: the registered ring fd
// (IORING_REGISTER_RING_FDS, 5.18) with its fallback to the plain fd, and
// IORING_SETUP_NO_SQARRAY (6.6) in the setup flag ladder.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Ring, type BufferPool } from 'kaio';
import { randomFile, pkgRoot, skip, kernelAtLeast, directSupported, fifoPair, tmpPath, type KaioError } from './helpers';

// One op of each path through a ring: a staged read, a prep() op (openat is
// never staged), a NOP.
async function exercise(ring: Ring, fd: number, data: Buffer): Promise<void> {
  const buf = Buffer.alloc(4096);
  assert.equal(await ring.read(fd, buf, 4096), 4096);
  assert.deepEqual(buf, data.subarray(4096, 8192));
  await ring.nop();
  const fd2 = await ring.openat('/dev/null', 'r');
  await ring.closeFd(fd2);
}

describe('18 Ring: set-up levers discovered at run time', () => {
  let file: { path: string; data: Buffer };
  let fd: number;
  before(() => {
    file = randomFile(64 * 1024);
    fd = fs.openSync(file.path, 'r');
  });
  after(() => {
    fs.closeSync(fd);
  });

  it('registers the ring fd where it can, falls back to the fd when the thread table is full, and every ring works', async function () {
    const first = new Ring({ entries: 8 });
    if (!first.params.registeredRingFd) {
      await first.close();
      skip(this, 'kernel before 5.18 (or the table is full already): nothing to compare');
    }
    // The kernel gives each thread 16 slots; open rings until one falls back.
    const rings = [first];
    while (rings.length < 40 && rings[rings.length - 1].params.registeredRingFd) rings.push(new Ring({ entries: 8 }));
    const registered = rings.filter((r) => r.params.registeredRingFd).length;
    assert.ok(rings.length < 40, 'the registered-ring table never filled');
    assert.equal(rings[rings.length - 1].params.registeredRingFd, false);
    assert.ok(registered >= 1 && registered <= 16, `registered ${registered}`);
    for (const r of rings) await exercise(r, fd, file.data);
    await Promise.all(rings.map((r) => r.close()));

    // Closing gave the slots back (and let the kernel free the rings).
    const again: Ring[] = [];
    for (let i = 0; i < registered; i++) again.push(new Ring({ entries: 8 }));
    assert.equal(again.filter((r) => r.params.registeredRingFd).length, registered);
    await Promise.all(again.map((r) => r.close()));
  });

  it('registerRingFd: false enters through the fd', async () => {
    const ring = new Ring({ entries: 8, registerRingFd: false });
    assert.equal(ring.params.registeredRingFd, false);
    await exercise(ring, fd, file.data);
    // The batch API's blocking path enters too.
    const seen: [number, number][] = [];
    ring.onCompletion((tag, res) => seen.push([tag, res]));
    assert.equal(ring.prepNop(7), true);
    assert.equal(ring.submitAndWait(1), 1);
    assert.deepEqual(seen, [[7, 0]]);
    await ring.close();
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => new Ring({ registerRingFd: 1 }), { code: 'ERR_INVALID_ARG_TYPE' });
  });

  it('a ring in a worker thread uses that thread\'s own table', async () => {
    const code = `
      const { parentPort } = require('node:worker_threads');
      const { Ring } = require(${JSON.stringify(pkgRoot)});
      (async () => {
        const ring = new Ring({ entries: 8 });
        await ring.nop();
        const registered = ring.params.registeredRingFd;
        await ring.close();
        parentPort.postMessage(registered);
      })();`;
    const main = new Ring({ entries: 8 });
    const w = new Worker(code, { eval: true });
    const [registered, exitCode] = await new Promise<[unknown, number]>((resolve, reject) => {
      let msg: unknown;
      w.once('message', (m) => (msg = m));
      w.once('error', reject);
      w.once('exit', (c) => resolve([msg, c])); // it ends by itself after closing its ring
    });
    assert.equal(exitCode, 0, 'the worker exited cleanly');
    // The worker's table is empty: it gets a slot whatever the main thread holds.
    assert.equal(registered, kernelAtLeast(5, 18));
    await main.nop();
    await main.close();
  });

  it('sets the ring up without the SQ index array on 6.6+ (NO_SQARRAY), and ops still go through every path', async function () {
    const ring = new Ring({ entries: 8, submitAll: false });
    if (kernelAtLeast(6, 6)) assert.ok(ring.params.setupFlags.includes('NO_SQARRAY'));
    else assert.ok(!ring.params.setupFlags.includes('NO_SQARRAY'));
    // More ops than the SQ holds: queued ones go out as completions make room.
    const bufs = Array.from({ length: 40 }, () => Buffer.alloc(512));
    const n = await Promise.all(bufs.map((b, i) => ring.read(fd, b, i * 512)));
    assert.deepEqual(n, bufs.map(() => 512));
    bufs.forEach((b, i) => assert.deepEqual(b, file.data.subarray(i * 512, i * 512 + 512)));
    // A failing op in the middle of a batch (without SUBMIT_ALL the kernel
    // stops there and kaio enters again for the rest).
    const bad = ring.read(1_000_000, Buffer.alloc(8), 0);
    const good = ring.read(fd, Buffer.alloc(8), 0);
    await assert.rejects(bad, { code: 'EBADF' });
    assert.equal(await good, 8);
    await ring.close();
  });
});

describe('18 Ring: deferTaskrun (IORING_SETUP_DEFER_TASKRUN with an eventfd)', () => {
  let file: { path: string; data: Buffer };
  let fd: number;
  before(() => {
    file = randomFile(256 * 1024);
    fd = fs.openSync(file.path, 'r');
  });
  after(() => fs.closeSync(fd));

  it('sets the ring up with DEFER_TASKRUN on 6.1+ only when asked, never without SINGLE_ISSUER; validated', async () => {
    const on = new Ring({ entries: 8, deferTaskrun: true });
    assert.equal(on.params.setupFlags.includes('DEFER_TASKRUN'), kernelAtLeast(6, 1));
    if (kernelAtLeast(6, 1)) assert.ok(on.params.setupFlags.includes('SINGLE_ISSUER'));
    await exercise(on, fd, file.data);
    await on.close();
    const off = new Ring({ entries: 8 });
    assert.ok(!off.params.setupFlags.includes('DEFER_TASKRUN'), 'off by default');
    await off.close();
    // The kernel takes DEFER_TASKRUN only with SINGLE_ISSUER: kaio does not ask.
    const plain = new Ring({ entries: 8, deferTaskrun: true, singleIssuer: false });
    assert.ok(!plain.params.setupFlags.includes('DEFER_TASKRUN'));
    await exercise(plain, fd, file.data);
    await plain.close();
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => new Ring({ deferTaskrun: 'yes' }), { code: 'ERR_INVALID_ARG_TYPE' });
  });

  for (const deferTaskrun of [true, false]) {
    describe(`completions that arrive while the loop sleeps wake it (deferTaskrun: ${deferTaskrun})`, () => {
      let ring: Ring;
      beforeEach(() => {
        ring = new Ring({ entries: 64, deferTaskrun });
      });
      afterEach(async () => {
        await ring.close();
      });

      it('a read the kernel finishes from a poll wake-up (a FIFO written later, from a timer)', async () => {
        const f = fifoPair();
        try {
          const bufs = [Buffer.alloc(3), Buffer.alloc(3)];
          const first = ring.read(f.r, bufs[0], -1);
          // The loop has nothing else to do until the timer writes.
          setTimeout(() => fs.writeSync(f.w, 'abc'), 30);
          assert.equal(await first, 3);
          assert.equal(bufs[0].toString(), 'abc');
          // Again, the loop idle in between (a second wake-up of the same ring).
          const second = ring.read(f.r, bufs[1], -1);
          setTimeout(() => fs.writeSync(f.w, 'xyz'), 30);
          assert.equal(await second, 3);
          assert.equal(bufs[1].toString(), 'xyz');
        } finally {
          f.close();
        }
      });

      it('ops io-wq finishes (statx and openat of many paths at once)', async () => {
        const paths = Array.from({ length: 48 }, (_, i) => (i % 2 ? file.path : '/dev/null'));
        const sizes = await Promise.all(paths.map((p) => ring.statx(p).then((st) => Number(st.size))));
        assert.deepEqual(sizes, paths.map((p) => (p === file.path ? file.data.length : 0)));
        const fds = await Promise.all(paths.map((p) => ring.openat(p, 'r')));
        await Promise.all(fds.map((d) => ring.closeFd(d)));
      });

      it('O_DIRECT reads the device completes by interrupt: one at a time, and 64 at once (more than one enter runs)', async function () {
        const dir = path.dirname(tmpPath('dio'));
        if (!directSupported(dir)) skip(this, 'O_DIRECT is not supported on the test directory');
        const dfd = fs.openSync(file.path, fs.constants.O_RDONLY | fs.constants.O_DIRECT);
        const pool = ring.registerBuffers({ count: 64, size: 4096 });
        try {
          for (let i = 0; i < 20; i++) {
            const at = (i * 7) % 64;
            assert.equal(await ring.read(dfd, pool.buffers[0], at * 4096), 4096);
            assert.deepEqual(pool.buffers[0], file.data.subarray(at * 4096, at * 4096 + 4096));
          }
          const n = await Promise.all(pool.buffers.map((b, i) => ring.read(dfd, b, ((i * 5) % 64) * 4096)));
          assert.deepEqual(n, pool.buffers.map(() => 4096));
          pool.buffers.forEach((b, i) => {
            const at = ((i * 5) % 64) * 4096;
            assert.deepEqual(b, file.data.subarray(at, at + 4096));
          });
        } finally {
          await pool.release();
          fs.closeSync(dfd);
        }
      });

      it('the batch API waits in the kernel for such completions', async () => {
        const f = fifoPair();
        try {
          const seen: [number, number][] = [];
          ring.onCompletion((tag, res) => seen.push([tag, res]));
          assert.equal(ring.prepRead(f.r, Buffer.alloc(2), -1, 5), true);
          assert.equal(ring.submit(), 1);
          assert.equal(ring.submitAndWait(0), 0);
          fs.writeSync(f.w, 'hi');
          assert.equal(ring.submitAndWait(1), 1);
          assert.deepEqual(seen, [[5, 2]]);
        } finally {
          f.close();
        }
      });
    });
  }

  it('a deferTaskrun ring in a worker thread: its ops complete and the worker ends by itself', async () => {
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      const fs = require('node:fs');
      const { Ring } = require(${JSON.stringify(pkgRoot)});
      (async () => {
        const ring = new Ring({ entries: 8, deferTaskrun: true });
        const fd = fs.openSync(workerData, 'r');
        const buf = Buffer.alloc(4096);
        let total = 0;
        for (let i = 0; i < 16; i++) total += await ring.read(fd, buf, i * 4096);
        const st = await ring.statx(workerData);
        parentPort.postMessage({ total, size: Number(st.size), flags: ring.params.setupFlags });
        // Left in flight and staged at the end: the worker still ends.
        ring.read(fd, buf, 0);
        ring.nop();
      })();`;
    const w = new Worker(code, { eval: true, workerData: file.path });
    const [msg, exitCode] = await new Promise<[{ total: number; size: number; flags: string[] }, number]>((resolve, reject) => {
      let m: { total: number; size: number; flags: string[] };
      w.once('message', (x) => (m = x));
      w.once('error', reject);
      w.once('exit', (c) => resolve([m, c]));
    });
    assert.equal(exitCode, 0);
    assert.equal(msg.total, 16 * 4096);
    assert.equal(msg.size, file.data.length);
    assert.equal(msg.flags.includes('DEFER_TASKRUN'), kernelAtLeast(6, 1));
  });
});

describe('18 Ring: waitInline (a lone op waited for inside io_uring_enter)', () => {
  // A FIFO read completes when something writes: outside this thread (a
  // worker) or from this loop (a timer, an immediate), whichever the test needs.
  /**
   * A thread that, once told 'go', writes `text` to `wfd` as soon as this
   * process's main thread sleeps inside io_uring_enter (syscall 426, state
   * S in /proc): the event the test waits for, not a delay. It gives up
   * looking after 20 s and writes anyway (the test then fails on its count).
   */
  function writerThread(wfd: number, text: string): Worker {
    return new Worker(
      `const { workerData: d, parentPort } = require('node:worker_threads');
       const fs = require('node:fs');
       const task = '/proc/self/task/' + d.tid;
       const asleepInEnter = () => {
         try {
           const state = fs.readFileSync(task + '/stat', 'latin1').replace(/^.*\\) /s, '')[0];
           return state === 'S' && fs.readFileSync(task + '/syscall', 'latin1').split(' ')[0] === '426';
         } catch { return false; }
       };
       parentPort.once('message', () => {
         const tick = new Int32Array(new SharedArrayBuffer(4));
         for (let i = 0; i < 20000 && !asleepInEnter(); i++) Atomics.wait(tick, 0, 0, 1);
         fs.writeSync(d.wfd, d.text);
       });`,
      { eval: true, workerData: { wfd, text, tid: process.pid } },
    );
  }

  /** A ring with waitInline: 1 s over a FIFO pair, both closed after `body` (skipped before 5.11: IORING_FEAT_EXT_ARG). */
  async function onWaitRing(ctx: Mocha.Context, body: (ring: Ring, f: ReturnType<typeof fifoPair>) => Promise<void>): Promise<void> {
    if (!kernelAtLeast(5, 11)) skip(ctx, 'IORING_FEAT_EXT_ARG needs Linux 5.11');
    const ring = new Ring({ entries: 8, waitInline: 1_000_000 });
    const f = fifoPair();
    try {
      await body(ring, f);
    } finally {
      f.close();
      await ring.close();
    }
  }

  it('is validated: microseconds, 0 to 1,000,000; 0 (default) never waits', async () => {
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => new Ring({ waitInline: '5' }), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => new Ring({ waitInline: -1 }), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => new Ring({ waitInline: 1.5 }), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => new Ring({ waitInline: 1_000_001 }), { code: 'ERR_OUT_OF_RANGE' });
    const ring = new Ring({ entries: 8 });
    const f = fifoPair();
    try {
      const buf = Buffer.alloc(3);
      const p = ring.read(f.r, buf, -1);
      setTimeout(() => fs.writeSync(f.w, 'abc'), 20);
      assert.equal(await p, 3);
      assert.equal(ring.stats.inlineWaits, 0);
    } finally {
      f.close();
      await ring.close();
    }
  });

  it('a lone read another thread completes is reaped by the wait, with its bytes; the loop goes on after it', async function () {
    if (!kernelAtLeast(5, 11)) skip(this, 'IORING_FEAT_EXT_ARG needs Linux 5.11');
    const ring = new Ring({ entries: 8, waitInline: 1_000_000 });
    const f = fifoPair();
    // It writes once this thread sleeps in the wait.
    const w = writerThread(f.w, 'abc');
    try {
      await new Promise((resolve) => w.once('online', resolve));
      // The worker's start-up messages are handled: the loop has nothing else to do.
      await new Promise((resolve) => setImmediate(resolve));
      w.postMessage('go');
      // From a timer's callback: an immediate's would find Node's immediate
      // handle still active, and the loop busy.
      await new Promise((resolve) => setTimeout(resolve, 5));
      const buf = Buffer.alloc(3);
      const t0 = performance.now();
      assert.equal(await ring.read(f.r, buf, -1), 3);
      assert.equal(buf.toString(), 'abc');
      assert.ok(performance.now() - t0 < 1000, 'completed by the write, not by the bound');
      assert.equal(ring.stats.inlineWaits, 1);
      assert.equal(ring.stats.inFlight, 0);
      // Ops that complete at submit (a NOP) are never waited for.
      await ring.nop();
      assert.equal(ring.stats.inlineWaits, 1);
    } finally {
      await w.terminate();
      f.close();
      await ring.close();
    }
  });

  it('a timer due sooner than waitInline cuts the wait: the timer runs on time, and the op completes through the loop', async function () {
    await onWaitRing(this, async (ring, f) => {
      const buf = Buffer.alloc(3);
      const t0 = performance.now();
      let late = -1;
      setTimeout(() => {
        late = performance.now() - t0 - 50;
        fs.writeSync(f.w, 'xyz');
      }, 50);
      assert.equal(await ring.read(f.r, buf, -1), 3);
      assert.equal(buf.toString(), 'xyz');
      // Without the cut, the timer would run after the whole second's wait.
      assert.ok(late >= -1 && late < 400, `timer late by ${late} ms`);
      assert.equal(ring.stats.inlineWaits, 0);
    });
  });

  it('never waits while the loop has work: an immediate pending runs at once (here it writes what the op reads)', async function () {
    await onWaitRing(this, async (ring, f) => {
      const buf = Buffer.alloc(3);
      const t0 = performance.now();
      let ranAfter = -1;
      setImmediate(() => {
        ranAfter = performance.now() - t0;
        fs.writeSync(f.w, 'imm');
      });
      assert.equal(await ring.read(f.r, buf, -1), 3);
      assert.equal(buf.toString(), 'imm');
      assert.ok(ranAfter >= 0 && ranAfter < 500, `immediate ran after ${ranAfter} ms`);
      assert.equal(ring.stats.inlineWaits, 0);
    });
  });

  it('O_DIRECT reads at QD 1 in a chain: right bytes, and a timer of the loop still runs on time meanwhile', async function () {
    if (!kernelAtLeast(5, 11)) skip(this, 'IORING_FEAT_EXT_ARG needs Linux 5.11');
    const dir = path.dirname(tmpPath('dio'));
    if (!directSupported(dir)) skip(this, 'O_DIRECT is not supported on the test directory');
    const file = randomFile(256 * 1024);
    const ring = new Ring({ entries: 8, waitInline: 1_000_000 });
    const dfd = fs.openSync(file.path, fs.constants.O_RDONLY | fs.constants.O_DIRECT);
    const pool = ring.registerBuffers({ count: 1, size: 4096 });
    try {
      const lateness: number[] = [];
      let stop = false;
      // A 5 ms interval timer: each run is measured against when it was due.
      let due = performance.now() + 5;
      const timer = setInterval(() => {
        const now = performance.now();
        lateness.push(now - due);
        due = now + 5;
      }, 5);
      const t0 = performance.now();
      let n = 0;
      while (!stop) {
        const at = ((n * 7) % 64) * 4096;
        assert.equal(await ring.read(dfd, pool.buffers[0], at), 4096);
        assert.deepEqual(pool.buffers[0], file.data.subarray(at, at + 4096));
        n++;
        if (performance.now() - t0 > 300) stop = true;
      }
      clearInterval(timer);
      assert.ok(lateness.length >= 10, `the interval ran ${lateness.length} times in 300 ms`);
      // Not the waits' bound (1 s): at most a device read late, plus this machine's scheduling.
      lateness.sort((a, b) => a - b);
      assert.ok(lateness[lateness.length >> 1] < 50, `median lateness ${lateness[lateness.length >> 1]} ms`);
    } finally {
      await pool.release();
      fs.closeSync(dfd);
      await ring.close();
    }
  });
});

describe('18 Ring: registered memory staged as a buffer index and offset', () => {
  let file: { path: string; data: Buffer };
  let fd: number;
  before(() => {
    file = randomFile(64 * 1024);
    fd = fs.openSync(file.path, 'r');
  });
  after(() => fs.closeSync(fd));

  it("reads into any view of a pool buffer as READ_FIXED at the right place, on both APIs; spanning views and other rings' pools go out plain", async function () {
    const ring = new Ring({ entries: 8 });
    const other = new Ring({ entries: 8 });
    let pool: BufferPool;
    let foreign: BufferPool;
    try {
      pool = ring.registerBuffers({ count: 4, size: 4096 });
      foreign = other.registerBuffers({ count: 1, size: 4096 });
    } catch (e) {
      await Promise.all([ring.close(), other.close()]);
      const code = (e as KaioError).code;
      if (code === 'ENOMEM' || code === 'EPERM') skip(this, `cannot register buffers here (${code})`);
      throw e;
    }
    const mem = Buffer.from(pool.buffers[0].buffer, pool.buffers[0].byteOffset, pool.byteLength);
    mem.fill(0xee);
    const fixed0 = ring.stats.fixedOps;

    // Buffer 2, bytes 100..600: index 2, offset 100.
    const view = pool.buffers[2].subarray(100, 600);
    assert.equal(await ring.read(fd, view, 1000), 500);
    assert.deepEqual(view, file.data.subarray(1000, 1500));
    assert.equal(ring.stats.fixedOps, fixed0 + 1);
    // Nothing around it was written.
    assert.ok(mem.subarray(0, 2 * 4096 + 100).every((b) => b === 0xee));
    assert.ok(mem.subarray(2 * 4096 + 600).every((b) => b === 0xee));

    // The batch API, on a Uint32Array view (byteOffset counts bytes).
    const words = new Uint32Array(pool.buffers[0].buffer, pool.buffers[0].byteOffset + 3 * 4096 + 64, 16);
    const seen: [number, number][] = [];
    ring.onCompletion((tag, res) => seen.push([tag, res]));
    assert.equal(ring.prepRead(fd, words, 2048, 9), true);
    assert.equal(ring.submitAndWait(1), 1);
    assert.deepEqual(seen, [[9, 64]]);
    assert.deepEqual(Buffer.from(words.buffer, words.byteOffset, 64), file.data.subarray(2048, 2112));
    assert.equal(ring.stats.fixedOps, fixed0 + 2);
    ring.onCompletion(null);

    // A view across buffers 0 and 1 is no one registered buffer: a plain READ.
    const span = Buffer.from(pool.buffers[0].buffer, pool.buffers[0].byteOffset + 4000, 200);
    assert.equal(await ring.read(fd, span, 0), 200);
    assert.deepEqual(span, file.data.subarray(0, 200));
    // Another ring's pool: plain on this ring, fixed on its own.
    assert.equal(await ring.read(fd, foreign.buffers[0], 4096), 4096);
    assert.deepEqual(foreign.buffers[0], file.data.subarray(4096, 8192));
    assert.equal(ring.stats.fixedOps, fixed0 + 2);
    assert.equal(await other.read(fd, foreign.buffers[0].subarray(10, 20), 0), 10);
    assert.equal(other.stats.fixedOps, 1);

    // Released: its views are detached and refused before anything is staged.
    await pool.release();
    await assert.rejects(ring.read(fd, view, 0), { code: 'ERR_INVALID_ARG_VALUE' });
    await Promise.all([ring.close(), other.close()]);
  });
});
