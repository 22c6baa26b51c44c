// Registered buffers: fixed ops really happen (stats.fixedOps) and move the
// same bytes node:fs sees, with and without O_DIRECT, whole and sub-ranges.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import crypto from 'node:crypto';
import { Ring, BufferPool, probe } from 'kaio';
import { randomFile, directSupported, tmpPath, settled, severalPoolsPerRing } from './helpers';

const KiB = 1024;

function vmPin() {
  const m = /^VmPin:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'latin1'));
  return m ? Number(m[1]) * 1024 : 0;
}

describe('30 registered buffers: fixed reads and writes', () => {
  let ring: Ring;
  beforeEach(() => {
    ring = new Ring({ entries: 64 });
  });
  afterEach(() => ring.close());

  it('makes a pool of page-aligned Buffers over registered memory', async () => {
    const before = await settled(vmPin, 0); // old kernels may still be unpinning earlier tests' pools
    const pool = ring.registerBuffers({ count: 8, size: 64 * KiB });
    assert.ok(pool instanceof BufferPool);
    assert.equal(pool.registered, true);
    assert.equal(pool.pinning, 'io_uring_register');
    assert.equal(pool.count, 8);
    assert.equal(pool.size, 64 * KiB);
    assert.equal(pool.byteLength, 8 * 64 * KiB);
    assert.equal(pool.buffers.length, 8);
    for (const [i, b] of pool.buffers.entries()) {
      assert.ok(Buffer.isBuffer(b));
      assert.equal(b.length, 64 * KiB);
      assert.equal(b.byteOffset, i * 64 * KiB);
      assert.equal(pool.indexOf(b), i);
    }
    assert.ok(pool.buffers[0].every((x) => x === 0), 'fresh memory is zeroed');
    // The kernel pinned the pages: VmPin grew by the pool's size.
    assert.equal(vmPin() - before, pool.byteLength);
    assert.equal(pool.indexOf(Buffer.alloc(10)), -1);
    assert.equal(pool.indexOf(Buffer.from(pool.buffers[0].buffer, 64 * KiB - 10, 20)), -1, 'spans two buffers');
    await pool.release();
    assert.equal(await settled(vmPin, before), before);
  });

  it('reads with READ_FIXED, whole buffers and sub-ranges, byte-exact against node:fs', async () => {
    const { path, data } = randomFile(512 * KiB);
    const fd = fs.openSync(path, 'r');
    const pool = ring.registerBuffers({ count: 4, size: 128 * KiB });
    const fixed0 = ring.stats.fixedOps;
    const n = await Promise.all(pool.buffers.map((b, i) => ring.read(fd, b, i * 128 * KiB)));
    assert.deepEqual(n, [128 * KiB, 128 * KiB, 128 * KiB, 128 * KiB]);
    for (let i = 0; i < 4; i++) assert.ok(pool.buffers[i].equals(data.subarray(i * 128 * KiB, (i + 1) * 128 * KiB)));
    assert.equal(ring.stats.fixedOps - fixed0, 4);

    // Sub-ranges, at odd offsets and lengths, and a typed array view.
    const sub = pool.buffers[2].subarray(1000, 1000 + 3333);
    assert.equal(await ring.read(fd, sub, 77), 3333);
    assert.ok(sub.equals(data.subarray(77, 77 + 3333)));
    const u32 = new Uint32Array(pool.buffers[3].buffer, pool.buffers[3].byteOffset + 4096, 256);
    assert.equal(await ring.read(fd, u32, 8192), 1024);
    assert.ok(Buffer.from(u32.buffer, u32.byteOffset, 1024).equals(data.subarray(8192, 8192 + 1024)));
    assert.equal(ring.stats.fixedOps - fixed0, 6);
    fs.closeSync(fd);
    await pool.release();
  });

  it('writes with WRITE_FIXED, whole buffers and sub-ranges, byte-exact against node:fs', async () => {
    const path = tmpPath('wfixed');
    const fd = fs.openSync(path, 'w+');
    const pool = ring.registerBuffers({ count: 2, size: 64 * KiB });
    const src = crypto.randomBytes(128 * KiB);
    src.copy(pool.buffers[0], 0, 0, 64 * KiB);
    src.copy(pool.buffers[1], 0, 64 * KiB);
    const fixed0 = ring.stats.fixedOps;
    assert.equal(await ring.write(fd, pool.buffers[0], 0), 64 * KiB);
    assert.equal(await ring.write(fd, pool.buffers[1], 64 * KiB), 64 * KiB);
    assert.ok(fs.readFileSync(path).equals(src));
    // Overwrite a sub-range of the file from a sub-range of a buffer.
    pool.buffers[1].fill(0xab, 4096, 8192);
    assert.equal(await ring.write(fd, pool.buffers[1].subarray(4096, 8192), 4096), 4096);
    const expect = Buffer.from(src);
    expect.fill(0xab, 4096, 8192);
    assert.ok(fs.readFileSync(path).equals(expect));
    assert.equal(ring.stats.fixedOps - fixed0, 3);
    fs.closeSync(fd);
    await pool.release();
  });

  it('does O_DIRECT reads and writes on pool buffers (page-aligned memory)', async function () {
    if (!directSupported()) this.skip(); // the test filesystem refuses O_DIRECT
    const { path, data } = randomFile(256 * KiB, 'direct');
    const fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_DIRECT);
    const pool = ring.registerBuffers({ count: 4, size: 64 * KiB });
    const fixed0 = ring.stats.fixedOps;
    await Promise.all(pool.buffers.map((b, i) => ring.read(fd, b, i * 64 * KiB)));
    for (let i = 0; i < 4; i++) assert.ok(pool.buffers[i].equals(data.subarray(i * 64 * KiB, (i + 1) * 64 * KiB)));
    // A 4 KiB-aligned sub-range in the middle of a buffer.
    const sub = pool.buffers[1].subarray(8192, 16384);
    sub.fill(0x5a);
    assert.equal(await ring.write(fd, sub, 128 * KiB), 8192);
    assert.equal(ring.stats.fixedOps - fixed0, 5);
    fs.closeSync(fd);
    const expect = Buffer.from(data);
    expect.fill(0x5a, 128 * KiB, 128 * KiB + 8192);
    assert.ok(fs.readFileSync(path).equals(expect));
    await pool.release();
  });

  it('readv/writev inside one registered buffer use READV_FIXED/WRITEV_FIXED where the kernel has them', async () => {
    const { path, data } = randomFile(64 * KiB, 'vec');
    const fd = fs.openSync(path, 'r+');
    const pool = ring.registerBuffers({ count: 2, size: 16 * KiB });
    const b = pool.buffers[1];
    const vecFixed = ring.supports('READV_FIXED') && ring.supports('WRITEV_FIXED');
    const fixed0 = ring.stats.fixedOps;
    // Two pieces of the same registered buffer, out of order in memory.
    const parts = [b.subarray(5000, 6000), b.subarray(100, 600)];
    assert.equal(await ring.readv(fd, parts, 300), 1500);
    assert.ok(parts[0].equals(data.subarray(300, 1300)));
    assert.ok(parts[1].equals(data.subarray(1300, 1800)));
    assert.equal(ring.stats.fixedOps - fixed0, vecFixed ? 1 : 0);

    parts[0].fill(1);
    parts[1].fill(2);
    assert.equal(await ring.writev(fd, parts, 10000), 1500);
    const after = fs.readFileSync(path);
    assert.ok(after.subarray(10000, 11000).every((x) => x === 1));
    assert.ok(after.subarray(11000, 11500).every((x) => x === 2));
    assert.equal(ring.stats.fixedOps - fixed0, vecFixed ? 2 : 0);
    fs.closeSync(fd);
    await pool.release();
  });

  it('falls back to plain ops where a fixed op cannot be used, with the same bytes', async () => {
    const { path, data } = randomFile(64 * KiB, 'mixed');
    const fd = fs.openSync(path, 'r');
    const pool = ring.registerBuffers({ count: 2, size: 16 * KiB });
    const fixed0 = ring.stats.fixedOps;
    // A view spanning two registered buffers: READ, not READ_FIXED.
    const span = Buffer.from(pool.buffers[0].buffer, 16 * KiB - 100, 200);
    assert.equal(await ring.read(fd, span, 0), 200);
    assert.ok(span.equals(data.subarray(0, 200)));
    // iovecs in two different registered buffers: plain READV.
    const parts = [pool.buffers[0].subarray(0, 10), pool.buffers[1].subarray(0, 10)];
    assert.equal(await ring.readv(fd, parts, 50), 20);
    assert.ok(Buffer.concat(parts).equals(data.subarray(50, 70)));
    // An empty iovec inside a registered buffer (READV_FIXED refuses those).
    const withEmpty = [pool.buffers[0].subarray(0, 0), pool.buffers[0].subarray(0, 30)];
    assert.equal(await ring.readv(fd, withEmpty, 90), 30);
    assert.ok(withEmpty[1].equals(data.subarray(90, 120)));
    // An ordinary Buffer.
    const plain = Buffer.alloc(100);
    assert.equal(await ring.read(fd, plain, 0), 100);
    assert.equal(ring.stats.fixedOps, fixed0);
    // A zero-length view at the start of a registered buffer is still fine.
    assert.equal(await ring.read(fd, pool.buffers[1].subarray(0, 0), 0), 0);
    fs.closeSync(fd);
    await pool.release();
  });

  it('serves several pools per ring with the right buffer indices', async function () {
    if (!severalPoolsPerRing()) this.skip(); // one registered-buffer table per ring before 5.19: a second pool gets EBUSY
    const { path, data } = randomFile(64 * KiB, 'pools');
    const fd = fs.openSync(path, 'r');
    const a = ring.registerBuffers({ count: 3, size: 4 * KiB });
    const b = ring.registerBuffers({ count: 2, size: 8 * KiB });
    const c = ring.registerBuffers({ count: 1, size: 12 * KiB });
    await a.release(); // leaves a hole at the start of the table
    const d = ring.registerBuffers({ count: 2, size: 4 * KiB });
    const fixed0 = ring.stats.fixedOps;
    const views = [...b.buffers, ...c.buffers, ...d.buffers];
    let pos = 0;
    const jobs = views.map((v) => {
      const at = pos;
      pos += v.length;
      return ring.read(fd, v, at).then((n) => [v, at, n] as const);
    });
    for (const [v, at, n] of await Promise.all(jobs)) {
      assert.equal(n, v.length);
      assert.ok(v.equals(data.subarray(at, at + v.length)));
    }
    assert.equal(ring.stats.fixedOps - fixed0, views.length);
    fs.closeSync(fd);
    await Promise.all([b.release(), c.release(), d.release()]);
  });

  it('keeps registrations per ring: another ring sees pool memory as plain buffers', async () => {
    const other = new Ring({ entries: 8 });
    const { path, data } = randomFile(8 * KiB, 'other');
    const fd = fs.openSync(path, 'r');
    const pool = ring.registerBuffers({ count: 1, size: 8 * KiB });
    assert.equal(await other.read(fd, pool.buffers[0], 0), 8 * KiB);
    assert.equal(other.stats.fixedOps, 0);
    assert.ok(pool.buffers[0].equals(data));
    fs.closeSync(fd);
    await other.close();
    await pool.release();
  });

  it('takes hugePages: huge pages where the system has free ones, ordinary pages otherwise', async () => {
    const { hugePages } = probe();
    const size = hugePages.pageSize || 2 * 1024 * KiB;
    const pool = ring.registerBuffers({ count: 1, size, hugePages: true });
    assert.equal(pool.hugePages, hugePages.free > 0);
    assert.equal(pool.registered, true);
    const { path, data } = randomFile(64 * KiB, 'huge');
    const fd = fs.openSync(path, 'r');
    assert.equal(await ring.read(fd, pool.buffers[0].subarray(0, 64 * KiB), 0), 64 * KiB);
    assert.ok(pool.buffers[0].subarray(0, 64 * KiB).equals(data));
    fs.closeSync(fd);
    await pool.release();
  });

  it('probe() reports the memlock limit and what is pinned now', async () => {
    await settled(() => probe().memlock.pinnedBytes, 0); // old kernels may still be unpinning earlier tests' pools
    const p0 = probe();
    assert.equal(typeof p0.memlock.soft, 'number');
    assert.equal(typeof p0.capIpcLock, 'boolean');
    const pool = ring.registerBuffers({ count: 4, size: 4 * KiB });
    const p1 = probe();
    assert.equal(p1.memlock.pinnedBytes - p0.memlock.pinnedBytes, 16 * KiB);
    assert.equal(p1.memlock.lockedBytes - p0.memlock.lockedBytes, 16 * KiB);
    await pool.release();
    assert.equal(await settled(() => probe().memlock.pinnedBytes, p0.memlock.pinnedBytes), p0.memlock.pinnedBytes);
  });
});
