// Hostile-environment cases for the AIO and thread-pool backends (issue 9):
// a pool released under a pending read, ops blocked on FIFOs, worker
// termination with such ops, and contexts dropped without close().
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync, execFileSync } from 'node:child_process';
import { Ring, AioContext, ThreadpoolContext, probe, type IoContext } from 'kaio';
import { randomFile, fixture, skip } from './helpers';

function makers(): [string, () => IoContext, boolean][] {
  const p = probe();
  return [
    ['io_uring', () => new Ring({ entries: 4 }), p.ioUring.available],
    ['aio', () => new AioContext({ entries: 4 }), p.aio.available],
    ['threadpool', () => new ThreadpoolContext({ entries: 4 }), true],
  ];
}

describe('46 a pool released while a read on it is pending', () => {
  for (const [name, make, available] of makers()) {
    it(`${name}: the read's continuation sees the data, then the view detaches`, async function () {
      if (!available) skip(this, 'this backend is refused here (see probe())');
      const { path: file, data } = randomFile(4096, 'pool-release');
      const fd = fs.openSync(file, 'r');
      const ctx = make();
      try {
        const pool = ctx.registerBuffers({ count: 1, size: 4096, fallback: true });
        const view = pool.buffers[0];
        const reading = ctx.read(fd, view, 0);
        const releasing = pool.release();
        const n = await reading;
        assert.equal(n, 4096);
        assert.equal(view.byteLength, 4096, 'view detached before the read continuation ran');
        assert.ok(view.equals(data));
        await releasing;
        assert.equal(view.byteLength, 0);
        assert.equal(pool.released, true);
      } finally {
        await ctx.close();
        fs.closeSync(fd);
      }
    });
  }
});

describe('46 an op blocked on a FIFO nobody writes to', () => {
  const script = fixture('blocked-fifo.js');
  const run = (backend: string, mode: string) =>
    spawnSync(process.execPath, [script, backend, mode], { encoding: 'utf8', timeout: 30_000 });

  for (const backend of ['threadpool', 'aio']) {
    it(`${backend}: the event loop keeps running while the read waits; a write resolves it`, function () {
      if (backend === 'aio' && !probe().aio.available) skip(this, 'io_setup refused here');
      const r = run(backend, 'loop');
      assert.equal(r.signal, null, `killed (the read blocked the loop?) ${r.stderr}`);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /^immediate, timer, read 5; data hello$/m);
    });

    it(`${backend}: worker.terminate() of a worker blocked that way completes, the process exits cleanly`, function () {
      if (backend === 'aio' && !probe().aio.available) skip(this, 'io_setup refused here');
      const r = run(backend, 'terminate');
      assert.equal(r.signal, null, `killed or aborted: ${r.stderr}`);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /terminated 1\ndone/);
    });
  }
});

describe('46 contexts dropped without close() are collected before they exhaust the system', () => {
  const script = fixture('dropped-contexts.js');
  type Outcome = { failed: number; firstError?: string; peakAlive: number; alive: number; end: number };
  // --expose-gc only for the final check: during the loop GC runs by itself.
  const run = (kind: string, count: number, entries: number): Outcome => {
    const r = spawnSync(process.execPath, ['--expose-gc', script, kind, String(count), String(entries)], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as Outcome;
  };

  it('aio: 60 dropped contexts of 64 entries never hold 5% of fs.aio-max-nr, none fails with EAGAIN', function () {
    if (!probe().aio.available) skip(this, 'io_setup refused here');
    // Each AioContext's io_destroy waits about an RCU grace period (~30 ms),
    // so the count stays small. fs.aio-nr is system-wide: what this process
    // holds is counted by the contexts it has not yet collected.
    const { maxNr } = probe().aio;
    const r = run('aio', 60, 64);
    assert.equal(r.failed, 0, r.firstError);
    assert.ok(r.peakAlive * 64 < 0.05 * (maxNr ?? 65536), `${r.peakAlive} contexts of 64 entries alive at once`);
    assert.equal(r.alive, 0, 'contexts left after gc');
  });

  it('threadpool: 2000 dropped contexts are collected as they go', () => {
    const r = run('threadpool', 2000, 64);
    assert.equal(r.failed, 0, r.firstError);
    assert.ok(r.peakAlive < 1000, `${r.peakAlive} contexts alive at once`);
    assert.equal(r.alive, 0, 'contexts left after gc');
  });

  // A Ring's fd weighs on the collector (its external cost, scaled by
  // RLIMIT_NOFILE; test 71 runs this under ulimit -n 256).
  it('io_uring: 2000 dropped Rings of 4 entries do not pile up fds', () => {
    const r = run('ring', 2000, 4);
    assert.equal(r.failed, 0, r.firstError);
    assert.ok(r.peakAlive < 600, `${r.peakAlive} rings alive at once`);
    assert.ok(r.end < 50, `${r.end} fds more than at the start`);
  });
});

describe('46 thread-pool ops go through kaio-owned memory', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-bounce-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const backend of ['threadpool', 'aio']) {
    it(`${backend}: a read whose view is detached while it waits (on a FIFO) rejects with EFAULT`, async function () {
      if (backend === 'aio' && !probe().aio.available) skip(this, 'io_setup refused here');
      const fifo = path.join(dir, `fifo-${backend}`);
      execFileSync('mkfifo', [fifo]);
      const fd = fs.openSync(fifo, fs.constants.O_RDWR);
      const ctx = backend === 'aio' ? new AioContext({ entries: 2 }) : new ThreadpoolContext({ entries: 2 });
      try {
        const view = new Uint8Array(16);
        const reading = ctx.read(fd, view, backend === 'aio' ? 0 : -1);
        await new Promise(setImmediate);
        structuredClone(view.buffer, { transfer: [view.buffer] });
        assert.equal(view.byteLength, 0);
        fs.writeSync(fd, 'hello');
        await assert.rejects(reading, { code: 'EFAULT' });
      } finally {
        await ctx.close();
        fs.closeSync(fd);
      }
    });
  }

  it('threadpool: a read whose (resizable) buffer shrank while it waits rejects with EFAULT', async () => {
    const fifo = path.join(dir, 'fifo-shrink');
    execFileSync('mkfifo', [fifo]);
    const fd = fs.openSync(fifo, fs.constants.O_RDWR);
    const ctx = new ThreadpoolContext({ entries: 2 });
    try {
      const memory = new ArrayBuffer(16, { maxByteLength: 16 });
      const view = new Uint8Array(memory); // tracks the buffer's length
      const reading = ctx.read(fd, view, -1);
      await new Promise(setImmediate);
      memory.resize(4);
      fs.writeSync(fd, 'hello');
      await assert.rejects(reading, { code: 'EFAULT' });
      assert.deepEqual([...view], [0, 0, 0, 0]);
    } finally {
      await ctx.close();
      fs.closeSync(fd);
    }
  });

  it('aio: reads and writes on character devices run off io_submit and behave as on a file', async function () {
    if (!probe().aio.available) skip(this, 'io_setup refused here');
    const zero = fs.openSync('/dev/zero', 'r');
    const nul = fs.openSync('/dev/null', 'w');
    const ctx = new AioContext({ entries: 2 });
    try {
      const buf = Buffer.alloc(4096, 1);
      assert.equal(await ctx.read(zero, buf, 0), 4096);
      assert.ok(buf.every((b) => b === 0));
      assert.equal(await ctx.write(nul, Buffer.from('gone'), 0), 4);
      assert.equal(ctx.stats.submitCalls, 0, 'no io_submit for a character device');
    } finally {
      await ctx.close();
      fs.closeSync(zero);
      fs.closeSync(nul);
    }
  });

  it('threadpool: write() takes the bytes when it is called; later changes to the buffer are not written', async () => {
    const file = path.join(dir, 'snapshot');
    const fd = fs.openSync(file, 'w+');
    const ctx = new ThreadpoolContext({ entries: 2 });
    try {
      const buf = Buffer.from('abcdefgh');
      const writing = ctx.write(fd, buf, 0);
      buf.fill(0);
      assert.equal(await writing, 8);
      assert.equal(fs.readFileSync(file, 'latin1'), 'abcdefgh');
    } finally {
      await ctx.close();
      fs.closeSync(fd);
    }
  });
});

describe('46 FixedFile arguments on the AIO and thread-pool contexts', () => {
  for (const [name, make, available] of makers().filter(([n]) => n !== 'io_uring')) {
    it(`${name}: a FixedFile is refused as unsupported, a Proxy of one as a wrong type, and no trap runs`, async function () {
      if (!available) skip(this, 'this backend is refused here (see probe())');
      const ring = new Ring({ entries: 4 });
      const ctx = make();
      try {
        const [file] = ring.registerFiles([0]);
        await assert.rejects(ctx.read(file as unknown as number, Buffer.alloc(8), 0), { code: 'ERR_KAIO_UNSUPPORTED' });
        let traps = 0;
        const count = <T>(v: T): T => (traps++, v);
        const proxy = new Proxy(file, {
          getPrototypeOf: (t) => count(Reflect.getPrototypeOf(t)),
          get: (t, k) => count(Reflect.get(t, k)),
          has: (t, k) => count(Reflect.has(t, k)),
          getOwnPropertyDescriptor: (t, k) => count(Reflect.getOwnPropertyDescriptor(t, k)),
        });
        await assert.rejects(ctx.read(proxy as unknown as number, Buffer.alloc(8), 0), { code: 'ERR_INVALID_ARG_TYPE' });
        assert.equal(traps, 0);
      } finally {
        await Promise.all([ctx.close(), ring.close()]);
      }
    });
  }
});
