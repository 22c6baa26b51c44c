import assert from 'node:assert/strict';
import fs from 'node:fs';
import crypto from 'node:crypto';
import { Ring } from 'kaio';
import { tmpPath, randomFile } from './helpers';

// Deterministic "random" sizes and offsets so a failure can be replayed.
function rng(seed: number) {
  let s = seed >>> 0;
  return (n: number) => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s % n;
  };
}

describe('11 Ring: reads and writes agree byte for byte with node:fs', () => {
  let ring: Ring;
  before(() => {
    ring = new Ring({ entries: 64 });
  });
  after(() => ring.close());

  it('data written by kaio at random offsets and sizes (1 B to 1 MiB) reads back identically with fs', async () => {
    const p = tmpPath();
    const size = 4 << 20;
    const model = Buffer.alloc(size);
    fs.writeFileSync(p, model);
    const fd = fs.openSync(p, 'r+');
    const r = rng(1);
    const sizes = [1, 511, 512, 4096, 4097, 65536, 1 << 20];
    for (let i = 0; i < 60; i++) {
      const len = i < sizes.length ? sizes[i] : 1 + r(1 << 20);
      const off = i % 3 === 0 ? r(size - len) & ~4095 : r(size - len);
      const chunk = crypto.randomBytes(len);
      const n = await ring.write(fd, chunk, off);
      assert.equal(n, len);
      chunk.copy(model, off);
    }
    assert.ok(fs.readFileSync(p).equals(model));
    fs.closeSync(fd);
  });

  it('data written by fs reads back identically with kaio, many reads in flight at once', async () => {
    const { path: p, data } = randomFile(3 << 20);
    const fd = fs.openSync(p, 'r');
    const r = rng(2);
    const jobs = [];
    for (let i = 0; i < 200; i++) {
      const len = 1 + r(1 << 20);
      const off = r(data.length - len);
      const buf = Buffer.alloc(len);
      jobs.push(ring.read(fd, buf, off).then((n) => ({ n, buf, off, len })));
    }
    for (const { n, buf, off, len } of await Promise.all(jobs)) {
      assert.equal(n, len);
      assert.ok(buf.equals(data.subarray(off, off + len)), `mismatch at ${off}+${len}`);
    }
    fs.closeSync(fd);
  });

  it('reads into any ArrayBufferView (TypedArray, DataView, sub-ranges)', async () => {
    const { path: p, data } = randomFile(8192);
    const fd = fs.openSync(p, 'r');
    const u32 = new Uint32Array(16);
    assert.equal(await ring.read(fd, u32, 100), 64);
    assert.ok(Buffer.from(u32.buffer).equals(data.subarray(100, 164)));
    const big = new ArrayBuffer(1024);
    const dv = new DataView(big, 10, 20);
    assert.equal(await ring.read(fd, dv, 0), 20);
    assert.ok(Buffer.from(big, 10, 20).equals(data.subarray(0, 20)));
    const backing = Buffer.alloc(100, 0xee);
    assert.equal(await ring.read(fd, backing.subarray(10, 30), 7000), 20);
    assert.ok(backing.subarray(10, 30).equals(data.subarray(7000, 7020)));
    assert.equal(backing[9], 0xee);
    assert.equal(backing[30], 0xee);
    fs.closeSync(fd);
  });

  it('bigint positions work like numbers', async () => {
    const { path: p, data } = randomFile(4096);
    const fd = fs.openSync(p, 'r');
    const buf = Buffer.alloc(10);
    assert.equal(await ring.read(fd, buf, 4000n), 10);
    assert.ok(buf.equals(data.subarray(4000, 4010)));
    fs.closeSync(fd);
  });

  it('readv/writev with uneven buffer lists', async () => {
    const p = tmpPath();
    fs.writeFileSync(p, Buffer.alloc(0));
    const fd = fs.openSync(p, 'r+');
    const parts = [1, 4096, 3, 65536, 0, 777, 12345].map((n) => crypto.randomBytes(n));
    const total = parts.reduce((a, b) => a + b.length, 0);
    assert.equal(await ring.writev(fd, parts, 100), total);
    const onDisk = fs.readFileSync(p);
    assert.equal(onDisk.length, 100 + total);
    assert.ok(onDisk.subarray(100).equals(Buffer.concat(parts)));

    const outs = [7, 1, 9000, 2, 70000].map((n) => Buffer.alloc(n));
    const want = Math.min(outs.reduce((a, b) => a + b.length, 0), total);
    assert.equal(await ring.readv(fd, outs, 100), want);
    assert.ok(Buffer.concat(outs).subarray(0, want).equals(Buffer.concat(parts).subarray(0, want)));
    fs.closeSync(fd);
  });

  it('short read at EOF returns the short count; read past EOF returns 0', async () => {
    const { path: p, data } = randomFile(1000);
    const fd = fs.openSync(p, 'r');
    const buf = Buffer.alloc(4096);
    assert.equal(await ring.read(fd, buf, 900), 100);
    assert.ok(buf.subarray(0, 100).equals(data.subarray(900)));
    assert.equal(await ring.read(fd, buf, 1000), 0);
    assert.equal(await ring.read(fd, buf, 1 << 30), 0);
    assert.equal(await ring.readv(fd, [Buffer.alloc(50), Buffer.alloc(100)], 950), 50);
    fs.closeSync(fd);
  });

  it('position -1 (the default) uses and advances the file position', async () => {
    const p = tmpPath();
    const fd = fs.openSync(p, 'w+');
    assert.equal(await ring.write(fd, Buffer.from('abc')), 3);
    assert.equal(await ring.write(fd, Buffer.from('def'), -1), 3);
    assert.equal(fs.readFileSync(p, 'utf8'), 'abcdef');
    const rfd = fs.openSync(p, 'r');
    const b = Buffer.alloc(2);
    await ring.read(rfd, b);
    assert.equal(b.toString(), 'ab');
    await ring.read(rfd, b, -1n);
    assert.equal(b.toString(), 'cd');
    fs.closeSync(fd);
    fs.closeSync(rfd);
  });

  it('zero-length reads and writes complete with 0', async () => {
    const { path: p } = randomFile(10);
    const fd = fs.openSync(p, 'r+');
    assert.equal(await ring.read(fd, Buffer.alloc(0), 0), 0);
    assert.equal(await ring.write(fd, new Uint8Array(0), 0), 0);
    fs.closeSync(fd);
  });
});
