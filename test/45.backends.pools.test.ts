// registerBuffers on the AIO and thread-pool backends: the same BufferPool,
// mlock(2)ed on AIO (no kernel registration exists there), plain memory on
// the thread pool.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { AioContext, ThreadpoolContext, BufferPool, createContext, probe, type IoContext } from 'kaio';
import { tmpPath, directSupported, packageForAnyUser } from './helpers';

const KiB = 1024;
const MiB = 1024 * KiB;
const NOBODY = 65534;

function aioOrSkip(ctx: Mocha.Context) {
  if (!probe().aio.available) ctx.skip(); // io_setup refused here
}

describe('45 AioContext.registerBuffers', () => {
  beforeEach(function () {
    aioOrSkip(this);
  });

  it('mlocks page-aligned memory and releases it with close()', async () => {
    const ctx = new AioContext({ entries: 8 });
    const before = probe().memlock.mlockedBytes;
    const pool = ctx.registerBuffers({ count: 4, size: 64 * KiB });
    assert.ok(pool instanceof BufferPool);
    assert.equal(pool.pinning, 'mlock');
    assert.equal(pool.registered, true);
    assert.equal(pool.buffers.length, 4);
    assert.ok(probe().memlock.mlockedBytes - before >= 256 * KiB, 'counted in VmLck');
    await ctx.close();
    assert.ok(pool.released);
    assert.equal(pool.buffers[0].byteLength, 0, 'views detached');
    assert.ok(probe().memlock.mlockedBytes - before < 256 * KiB, 'unlocked');
  });

  it('pool buffers read and write byte-exact, O_DIRECT included, and count as poolOps', async function () {
    const ctx = new AioContext({ entries: 8 });
    const pool = ctx.registerBuffers({ count: 8, size: 16 * KiB });
    const data = crypto.randomBytes(128 * KiB);
    const p = tmpPath('pool');
    fs.writeFileSync(p, Buffer.alloc(128 * KiB));
    const direct = directSupported();
    const fd = fs.openSync(p, direct ? fs.constants.O_RDWR | fs.constants.O_DIRECT : 'r+');
    pool.buffers.forEach((b, i) => data.copy(b, 0, i * 16 * KiB, (i + 1) * 16 * KiB));
    const w = await Promise.all(pool.buffers.map((b, i) => ctx.write(fd, b, i * 16 * KiB)));
    assert.deepEqual(w, pool.buffers.map(() => 16 * KiB));
    assert.ok(fs.readFileSync(p).equals(data));
    for (const b of pool.buffers) b.fill(0);
    assert.equal(await ctx.readv(fd, pool.buffers.slice(0, 4), 0), 64 * KiB);
    assert.equal(await ctx.read(fd, pool.buffers[4], 64 * KiB), 16 * KiB);
    assert.ok(Buffer.concat(pool.buffers.slice(0, 5)).equals(data.subarray(0, 80 * KiB)));
    assert.equal(ctx.stats.poolOps, 10);
    fs.closeSync(fd);
    await ctx.close();
  });

  it('a pool is not released under an op: release() waits, new ops are refused', async () => {
    const ctx = new AioContext({ entries: 2 });
    const pool = ctx.registerBuffers({ count: 2, size: 4 * KiB });
    const p = tmpPath('held');
    fs.writeFileSync(p, crypto.randomBytes(64 * KiB));
    const fd = fs.openSync(p, 'r');
    // More ops than the context holds: some wait in the queue, holding the pool.
    const reads = Array.from({ length: 16 }, (_, i) => ctx.read(fd, pool.buffers[i % 2], i * 4 * KiB));
    assert.equal(pool.inUse, 16);
    const released = pool.release();
    assert.equal(pool.released, false);
    const refused = ctx.read(fd, pool.buffers[0], 0);
    await Promise.resolve();
    assert.equal(pool.released, false, 'ops still hold it');
    await assert.rejects(refused, { code: 'ERR_KAIO_POOL_RELEASED' });
    assert.ok((await Promise.all(reads)).every((n) => n === 4 * KiB));
    await released;
    assert.ok(pool.released);
    fs.closeSync(fd);
    await ctx.close();
  });

  it('rejects bad pool options and a closed context', async () => {
    const ctx = new AioContext({ entries: 2 });
    assert.throws(() => ctx.registerBuffers({ count: 0, size: 4096 }), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => ctx.registerBuffers({ count: 1, size: 100 }), { code: 'ERR_OUT_OF_RANGE', message: /page/ });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => ctx.registerBuffers({ count: 1 }), { code: 'ERR_INVALID_ARG_TYPE' });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => ctx.registerBuffers({ count: 1, size: 4096, fallbak: true }), { code: 'ERR_INVALID_ARG_VALUE' });
    await ctx.close();
    assert.throws(() => ctx.registerBuffers({ count: 1, size: 4096 }), { code: 'ERR_KAIO_CLOSED' });
  });
});

describe('45 ThreadpoolContext.registerBuffers', () => {
  it('gives plain page-aligned memory that works like any buffer', async () => {
    const ctx = new ThreadpoolContext({ entries: 4 });
    const before = probe().memlock.lockedBytes;
    const pool = ctx.registerBuffers({ count: 2, size: 8 * KiB });
    assert.equal(pool.pinning, 'none');
    assert.equal(pool.registered, false);
    assert.equal(probe().memlock.lockedBytes, before, 'nothing locked');
    const p = tmpPath('tp-pool');
    const data = crypto.randomBytes(16 * KiB);
    fs.writeFileSync(p, data);
    const fd = fs.openSync(p, 'r');
    // Type: pool.buffers is readonly Buffer[], readv() wants a mutable array.
    assert.equal(await ctx.readv(fd, pool.buffers as Buffer[], 0), 16 * KiB);
    assert.ok(Buffer.concat(pool.buffers).equals(data));
    assert.equal(ctx.stats.poolOps, 1);
    fs.closeSync(fd);
    await ctx.close();
    assert.ok(pool.released);
  });
});

describe('45 registerBuffers through IoContext', () => {
  for (const backend of ['io_uring', 'aio', 'threadpool'] as const) {
    it(`${backend}: same call, same BufferPool`, async function () {
      let ctx: IoContext;
      try {
        ctx = createContext({ backend, entries: 4 });
      } catch (e) {
        // Skipped only where the kernel or a sandbox refuses the backend
        // (what probe() reports); any other error fails the test.
        const code = (e as { code?: string }).code;
        if (code !== 'EPERM' && code !== 'ENOSYS' && code !== 'EAGAIN') throw e;
        if (this.test) this.test.title += ` (skipped: ${backend} refused here: ${code})`;
        this.skip();
      }
      const pool = ctx.registerBuffers({ count: 2, size: 4096 });
      assert.ok(pool instanceof BufferPool);
      assert.equal(pool.pinning, { io_uring: 'io_uring_register', aio: 'mlock', threadpool: 'none' }[backend]);
      const p = tmpPath('ioctx-pool');
      fs.writeFileSync(p, 'hello pools');
      const fd = fs.openSync(p, 'r');
      assert.equal(await ctx.read(fd, pool.buffers[1], 0), 11);
      assert.equal(pool.buffers[1].toString('latin1', 0, 11), 'hello pools');
      fs.closeSync(fd);
      await ctx.close();
      assert.ok(pool.released);
    });
  }
});

describe('45 AIO pools under RLIMIT_MEMLOCK, unprivileged', function () {
  const pkg = packageForAnyUser();
  let dir: string | undefined;
  before(function () {
    if (process.getuid!() !== 0) this.skip(); // needs root to start children as another user
    if (!probe().aio.available) this.skip(); // io_setup refused here
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-aio-memlock-'));
    fs.chmodSync(dir, 0o777);
  });
  after(() => dir && fs.rmSync(dir, { recursive: true, force: true }));

  function child(script: string) {
    const prelude = `const kaio = require(${JSON.stringify(pkg)}); const fs = require('node:fs');
      const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');`;
    const r = spawnSync('/bin/sh', ['-c', 'ulimit -l 8192 && exec "$0" -e "$1"', process.execPath, prelude + script], {
      uid: NOBODY,
      gid: NOBODY,
      cwd: dir,
      encoding: 'utf8',
      timeout: 20_000,
    });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim().split('\n').pop()!);
  }

  it('beyond the limit: ENOMEM from mlock that says how much, the limit, and how to raise it', () => {
    const r = child(`const ctx = new kaio.AioContext({ entries: 2 });
      try { ctx.registerBuffers({ count: 16, size: 1024 * 1024 }); out({ ok: true }); }
      catch (e) { out({ code: e.code, errno: e.errno, syscall: e.syscall, message: e.message, bytes: e.bytes, limit: e.limit,
                        locked: kaio.probe().memlock.mlockedBytes, cap: kaio.probe().capIpcLock }); }`);
    assert.equal(r.cap, false);
    assert.equal(r.code, 'ENOMEM');
    assert.equal(r.syscall, 'mlock');
    assert.equal(r.bytes, 16 * MiB);
    assert.equal(r.limit, 8 * MiB);
    assert.match(r.message, /cannot lock 16 MiB/);
    assert.match(r.message, /RLIMIT_MEMLOCK allows 8 MiB/);
    assert.match(r.message, /ulimit -l/);
    assert.match(r.message, /fallback: true/);
    assert.equal(r.locked, 0, 'nothing stays locked');
  });

  it('within the limit it locks; with fallback: true beyond it, the pool works unlocked', () => {
    const r = child(`(async () => {
      const ctx = new kaio.AioContext({ entries: 4 });
      const small = ctx.registerBuffers({ count: 4, size: 1024 * 1024 });
      const locked = kaio.probe().memlock.mlockedBytes;
      const big = ctx.registerBuffers({ count: 16, size: 1024 * 1024, fallback: true });
      fs.writeFileSync('f', Buffer.alloc(8192, 7));
      const fd = fs.openSync('f', 'r');
      const n = await ctx.read(fd, big.buffers[3].subarray(0, 8192), 0);
      out({ small: small.pinning, locked, big: big.pinning, registered: big.registered, pinError: big.pinError && big.pinError.code,
            n, ok: big.buffers[3][8191] === 7 });
      await ctx.close();
    })()`);
    assert.equal(r.small, 'mlock');
    assert.ok(r.locked >= 4 * MiB);
    assert.equal(r.big, 'none');
    assert.equal(r.registered, false);
    assert.equal(r.pinError, 'ENOMEM');
    assert.equal(r.n, 8192);
    assert.equal(r.ok, true);
  });
});
