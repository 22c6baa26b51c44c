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
});
