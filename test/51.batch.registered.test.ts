// The batch API on registered buffers and files: staged ops still go out as
// READ_FIXED/WRITE_FIXED with IOSQE_FIXED_FILE.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Ring } from 'kaio';
import { randomFile, tmpPath } from './helpers';

describe('51 batch API with registered buffers and files', () => {
  it('prepRead/prepWrite into pool buffers are *_FIXED ops, on a FixedFile too', async function () {
    const { path, data } = randomFile(64 * 1024);
    const fd = fs.openSync(path, 'r');
    const out = tmpPath();
    const wfd = fs.openSync(out, 'w+');
    const ring = new Ring({ entries: 16 });
    const pool = ring.registerBuffers({ count: 4, size: 4096, fallback: true });
    if (!pool.registered) this.skip(); // could not register here: no fixed ops to observe
    const [file] = ring.registerFiles([fd]);
    const got = new Map();
    ring.onCompletion((tag, res) => got.set(tag, res));
    const fixed0 = ring.stats.fixedOps;
    for (let i = 0; i < 4; i++) assert.ok(ring.prepRead(i % 2 ? file : fd, pool.buffers[i], i * 4096, i));
    while (got.size < 4) ring.submitAndWait(1);
    assert.equal(ring.stats.fixedOps - fixed0, 4);
    for (let i = 0; i < 4; i++) {
      assert.equal(got.get(i), 4096);
      assert.deepEqual(pool.buffers[i], data.subarray(i * 4096, (i + 1) * 4096));
    }
    assert.ok(ring.prepWrite(wfd, pool.buffers[2], 0, 10));
    while (!got.has(10)) ring.submitAndWait(1);
    assert.equal(got.get(10), 4096);
    assert.equal(ring.stats.fixedOps - fixed0, 5);
    assert.deepEqual(fs.readFileSync(out), data.subarray(8192, 12288));
    await pool.release();
    fs.closeSync(fd);
    fs.closeSync(wfd);
    await ring.close();
  });

  it('a FixedFile of another ring is refused before the kernel', async () => {
    const a = new Ring({ entries: 4 });
    const b = new Ring({ entries: 4 });
    const [file] = a.registerFiles([0]);
    b.onCompletion(() => {});
    assert.throws(() => b.prepRead(file, Buffer.alloc(8), 0, 1), { code: 'ERR_KAIO_FIXED_FILE' });
    assert.throws(() => b.prepFsync(file, 1), { code: 'ERR_KAIO_FIXED_FILE' });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => b.prepRead({}, Buffer.alloc(8), 0, 1), { code: 'ERR_INVALID_ARG_TYPE' });
    await Promise.all([a.close(), b.close()]);
  });

  it('a pool in use by a batch op is released only after the op completes', async function () {
    const { path, data } = randomFile(8192);
    const fd = fs.openSync(path, 'r');
    const ring = new Ring({ entries: 8 });
    const pool = ring.registerBuffers({ count: 2, size: 4096, fallback: true });
    const got: [number, number][] = [];
    ring.onCompletion((tag, res) => got.push([tag, res]));
    const buf = pool.buffers[1];
    assert.ok(ring.prepRead(fd, buf, 4096, 7));
    assert.equal(pool.inUse, 1);
    let released = false;
    const release = pool.release().then(() => (released = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(released, false, 'waits for the prepared op');
    assert.equal(buf.length, 4096, 'not detached while in use');
    ring.submit();
    while (got.length < 1) ring.submitAndWait(1);
    assert.deepEqual(got, [[7, 4096]]);
    assert.deepEqual(Buffer.from(buf), data.subarray(4096));
    await release;
    assert.equal(pool.inUse, 0);
    assert.equal(buf.length, 0, 'detached after release');
    assert.throws(() => ring.prepRead(fd, pool.buffers[0], 0, 8), { code: 'ERR_INVALID_ARG_VALUE' });
    fs.closeSync(fd);
    await ring.close();
  });

  it('ops use the slot a FixedFile was made with, whatever its `index` property says; a Proxy of one is refused without running its traps', async function () {
    const a = randomFile(4096);
    const b = randomFile(4096);
    const fa = fs.openSync(a.path, 'r');
    const fb = fs.openSync(b.path, 'r');
    const ring = new Ring({ entries: 8 });
    const [fileA] = ring.registerFiles([fa, fb]);
    const got = new Map<number, number>();
    ring.onCompletion((tag, res) => got.set(tag, res));
    let reads = 0;
    Object.defineProperty(fileA, 'index', {
      get: () => {
        reads++;
        return 1; // the other file's slot
      },
    });
    const buf = Buffer.alloc(4096);
    assert.ok(ring.prepRead(fileA, buf, 0, 1));
    while (!got.has(1)) ring.submitAndWait(1);
    assert.equal(got.get(1), 4096);
    assert.deepEqual(buf, a.data, 'read from the slot fileA was registered in');
    assert.equal(reads, 0, 'index property never read');
    let traps = 0;
    const proxy = new Proxy(fileA, {
      getPrototypeOf: (t) => (traps++, Reflect.getPrototypeOf(t)),
      get: (t, k) => (traps++, Reflect.get(t, k)),
      has: (t, k) => (traps++, Reflect.has(t, k)),
    });
    assert.throws(() => ring.prepRead(proxy, buf, 0, 2), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.equal(traps, 0);
    fs.closeSync(fa);
    fs.closeSync(fb);
    await ring.close();
  });

  it("pool.buffers of another ring's pool, or of a pool being released, take the checked path or are refused", async function () {
    const { path, data } = randomFile(8192);
    const fd = fs.openSync(path, 'r');
    const a = new Ring({ entries: 8 });
    const b = new Ring({ entries: 8 });
    const pool = a.registerBuffers({ count: 2, size: 4096, fallback: true });
    const got = new Map<number, number>();
    b.onCompletion((tag, res) => got.set(tag, res));
    const fixed0 = b.stats.fixedOps;
    assert.ok(b.prepRead(fd, pool.buffers[0], 4096, 1));
    assert.equal(pool.inUse, 1, 'held by the op on the other ring');
    while (!got.has(1)) b.submitAndWait(1);
    assert.equal(b.stats.fixedOps, fixed0, 'a plain READ on ring b');
    assert.deepEqual(Buffer.from(pool.buffers[0]), data.subarray(4096));
    assert.equal(pool.inUse, 0);
    // Changing the array changes nothing: ops go by the Buffer itself.
    const own = pool.buffers[1];
    (pool.buffers as Buffer[])[1] = Buffer.alloc(4096);
    a.onCompletion((tag, res) => got.set(tag, res));
    const fixedA = a.stats.fixedOps;
    assert.ok(a.prepRead(fd, own, 0, 2));
    while (!got.has(2)) a.submitAndWait(1);
    assert.equal(a.stats.fixedOps - fixedA, 1);
    assert.deepEqual(Buffer.from(own), data.subarray(0, 4096));
    const release = pool.release();
    assert.throws(() => a.prepRead(fd, own, 0, 3), { code: 'ERR_KAIO_POOL_RELEASED' });
    assert.throws(() => b.prepRead(fd, own, 0, 3), { code: 'ERR_KAIO_POOL_RELEASED' });
    await release;
    assert.throws(() => a.prepRead(fd, own, 0, 3), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.equal(got.has(3), false);
    fs.closeSync(fd);
    await Promise.all([a.close(), b.close()]);
  });
});
