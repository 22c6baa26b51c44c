// The batch API on registered buffers and files: staged ops still go out as
// READ_FIXED/WRITE_FIXED with IOSQE_FIXED_FILE.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { FixedFile, Ring, type BufferPool } from 'kaio';
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

  it('prepReadv/prepWritev of a list mixing caller and pool buffers (bounced) hold the pool until the CQE, as the promise API', async function () {
    const { path, data } = randomFile(8192);
    const fd = fs.openSync(path, 'r');
    const out = tmpPath();
    const wfd = fs.openSync(out, 'w+');
    const ring = new Ring({ entries: 8 });
    const pool = ring.registerBuffers({ count: 2, size: 4096, fallback: true });
    const got: [number, number][] = [];
    ring.onCompletion((tag, res) => got.push([tag, res]));
    const mine = Buffer.alloc(4096);
    const buf = pool.buffers[1];
    assert.ok(ring.prepReadv(fd, [mine, buf], 0, 7));
    assert.equal(pool.inUse, 1, 'the readv holds the pool its list names');
    let released = false;
    const release = pool.release().then(() => (released = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(released, false, 'release waits for the prepared readv');
    assert.equal(buf.length, 4096, 'not detached while in use');
    while (got.length < 1) ring.submitAndWait(1);
    assert.deepEqual(got, [[7, 8192]]);
    assert.deepEqual(mine, data.subarray(0, 4096));
    assert.deepEqual(Buffer.from(buf), data.subarray(4096), 'the pool buffer got its share');
    await release;
    assert.equal(pool.inUse, 0);
    // A writev naming a pool being released is refused at the call, as a write on its buffer is.
    const pool2 = ring.registerBuffers({ count: 1, size: 4096, fallback: true });
    pool2.buffers[0].fill(0x61);
    assert.ok(ring.prepWritev(wfd, [Buffer.from('b'), pool2.buffers[0]], 0, 8));
    assert.equal(pool2.inUse, 1, 'the writev holds the pool its list names');
    const release2 = pool2.release();
    assert.throws(() => ring.prepWritev(wfd, [Buffer.from('c'), pool2.buffers[0]], 0, 9), { code: 'ERR_KAIO_POOL_RELEASED' });
    while (got.length < 2) ring.submitAndWait(1);
    assert.deepEqual(got[1], [8, 4097]);
    await release2;
    assert.deepEqual(fs.readFileSync(out), Buffer.concat([Buffer.from('b'), Buffer.alloc(4096, 0x61)]));
    fs.closeSync(fd);
    fs.closeSync(wfd);
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

  it("refusing a FixedFile of another ring, or an unregistered one, reads none of its properties (its message names the slot it was made for)", async () => {
    const a = new Ring({ entries: 2 });
    const b = new Ring({ entries: 2 });
    a.onCompletion(() => {});
    b.onCompletion(() => {});
    const [, file] = a.registerFiles([0, 0]);
    let reads = 0;
    Object.defineProperty(file, 'index', {
      get: () => {
        reads++;
        return 7;
      },
    });
    assert.throws(() => b.prepRead(file, Buffer.alloc(1), 0, 1), { code: 'ERR_KAIO_FIXED_FILE', message: /FixedFile 1 belongs to another ring/ });
    a.unregisterFiles();
    assert.throws(() => a.prepRead(file, Buffer.alloc(1), 0, 1), { code: 'ERR_KAIO_FIXED_FILE', message: /FixedFile 1 was unregistered/ });
    assert.equal(reads, 0);
    await Promise.all([a.close(), b.close()]);
  });

  it('a FixedFile made with the exported constructor is refused: no op reaches a slot it names', async () => {
    const a = randomFile(4096);
    const b = randomFile(4096);
    const fa = fs.openSync(a.path, 'r');
    const fb = fs.openSync(b.path, 'r');
    const ring = new Ring({ entries: 8 });
    ring.registerFiles([fa, fb]);
    const got = new Map<number, number>();
    ring.onCompletion((tag, res) => got.set(tag, res));
    const Ctor = FixedFile as unknown as new (...args: unknown[]) => FixedFile;
    // 1.5 would truncate to slot 1 (the other file); 99999 lies past the table.
    for (const index of [1.5, 99999, 0]) {
      let forged: FixedFile | undefined;
      try {
        forged = new Ctor(ring, index, fa);
      } catch (e) {
        assert.equal((e as { code?: string }).code, 'ERR_ILLEGAL_CONSTRUCTOR');
        continue;
      }
      assert.throws(() => ring.prepRead(forged!, Buffer.alloc(4096), 0, 1), { code: 'ERR_INVALID_ARG_TYPE' }, `slot ${index} accepted`);
      await assert.rejects(ring.read(forged, Buffer.alloc(16), 0), { code: 'ERR_INVALID_ARG_TYPE' });
    }
    assert.equal(got.size, 0);
    fs.closeSync(fa);
    fs.closeSync(fb);
    await ring.close();
  });

  it('a pool buffer with redefined buffer/byteLength/byteOffset or a foreign prototype: the bytes land in that buffer only, on its own ring (fixed) and another (plain)', async function () {
    const { path, data } = randomFile(4 * 4096);
    const fd = fs.openSync(path, 'r');
    const a = new Ring({ entries: 8 });
    const b = new Ring({ entries: 8 });
    const pool = a.registerBuffers({ count: 4, size: 4096, fallback: true });
    const ga = new Map<number, number>();
    const gb = new Map<number, number>();
    a.onCompletion((tag, res) => ga.set(tag, res));
    b.onCompletion((tag, res) => gb.set(tag, res));
    const bufs = pool.buffers.slice();
    const whole = Buffer.from(bufs[0].buffer, 0, pool.byteLength); // a plain view of all the pool's memory
    const other = Buffer.alloc(4096);
    for (const [k, v] of [['buffer', other.buffer], ['byteLength', 8], ['byteOffset', 4096], ['length', 8]] as const)
      Object.defineProperty(bufs[1], k, { value: v });
    let ran = 0;
    class Evil extends Buffer {
      override get byteLength(): number { ran++; return 1; }
      override get byteOffset(): number { ran++; return 0; }
      override get buffer(): ArrayBuffer { ran++; return other.buffer; }
    }
    Object.setPrototypeOf(bufs[2], Evil.prototype);
    const fixedA = a.stats.fixedOps;
    const fixedB = b.stats.fixedOps;
    assert.ok(a.prepRead(fd, bufs[1], 4096, 1));
    assert.ok(a.prepRead(fd, bufs[2], 8192, 2));
    assert.ok(b.prepRead(fd, bufs[3], 12288, 3));
    assert.ok(b.prepRead(fd, bufs[1], 4096, 4)); // the same bytes as tag 1: the order of the two does not matter
    assert.equal(pool.inUse, 4);
    while (ga.size < 2) a.submitAndWait(1);
    while (gb.size < 2) b.submitAndWait(1);
    assert.deepEqual([ga.get(1), ga.get(2), gb.get(3), gb.get(4)], [4096, 4096, 4096, 4096]);
    if (pool.registered) assert.equal(a.stats.fixedOps - fixedA, 2);
    assert.equal(b.stats.fixedOps - fixedB, 0, 'plain ops on the ring that did not register the pool');
    assert.equal(ran, 0, 'no getter of the caller ran');
    assert.ok(other.every((x) => x === 0), 'the lying buffer is untouched');
    assert.ok(whole.subarray(0, 4096).every((x) => x === 0), 'pool buffer 0 is untouched');
    assert.deepEqual(whole.subarray(4096), data.subarray(4096), 'each read landed in its own pool buffer');
    assert.equal(pool.inUse, 0);
    fs.closeSync(fd);
    await Promise.all([a.close(), b.close()]);
  });

  it('a pool released while a fixed op is prepared waits for it; the next pool in the same table slots gets the next op', async function () {
    const { path, data } = randomFile(8192);
    const fd = fs.openSync(path, 'r');
    const ring = new Ring({ entries: 8 });
    const got = new Map<number, number>();
    const snap = new Map<number, Buffer>();
    const p1 = ring.registerBuffers({ count: 4, size: 4096, fallback: true });
    if (!p1.registered) this.skip();
    const old = p1.buffers[3];
    ring.onCompletion((tag, res) => {
      got.set(tag, res);
      snap.set(tag, Buffer.from(tag === 1 ? old : p2!.buffers[3]));
    });
    assert.ok(ring.prepRead(fd, old, 0, 1));
    let released = false;
    const release = p1.release().then(() => (released = true));
    assert.throws(() => ring.prepRead(fd, p1.buffers[2], 0, 2), { code: 'ERR_KAIO_POOL_RELEASED' });
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert.equal(released, false);
    while (!got.has(1)) ring.submitAndWait(1);
    await release;
    assert.deepEqual(snap.get(1), data.subarray(0, 4096));
    let p2: typeof p1 | undefined;
    p2 = ring.registerBuffers({ count: 4, size: 4096 });
    const fixed0 = ring.stats.fixedOps;
    assert.ok(ring.prepRead(fd, p2.buffers[3], 4096, 3));
    assert.throws(() => ring.prepRead(fd, old, 0, 4), { code: 'ERR_INVALID_ARG_VALUE' });
    while (!got.has(3)) ring.submitAndWait(1);
    assert.equal(ring.stats.fixedOps - fixed0, 1);
    assert.deepEqual(snap.get(3), data.subarray(4096));
    assert.equal(p2.inUse, 0);
    fs.closeSync(fd);
    await ring.close();
    assert.ok(p2.released);
  });

  it('fixed ops at table indexes above 2^12 (several pools) land in the right buffer; close() delivers prepared fixed ops', async function () {
    const { path, data } = randomFile(8 * 4096);
    const fd = fs.openSync(path, 'r');
    const ring = new Ring({ entries: 8 });
    const got = new Map<number, number>();
    ring.onCompletion((tag, res) => got.set(tag, res));
    const pools: BufferPool[] = [];
    for (let i = 0; i < 3; i++) {
      const p = ring.registerBuffers({ count: 2048, size: 4096, fallback: true });
      if (!p.registered) this.skip(); // RLIMIT_MEMLOCK below 24 MiB here
      pools.push(p);
    }
    const picks: Array<[number, number]> = [[0, 0], [1, 2047], [2, 2047], [2, 5]];
    const fixed0 = ring.stats.fixedOps;
    picks.forEach(([p, i], k) => assert.ok(ring.prepRead(fd, pools[p].buffers[i], k * 4096, k)));
    while (got.size < picks.length) ring.submitAndWait(1);
    assert.equal(ring.stats.fixedOps - fixed0, picks.length);
    picks.forEach(([p, i], k) => assert.deepEqual(pools[p].buffers[i], data.subarray(k * 4096, (k + 1) * 4096), `pool ${p} buffer ${i}`));
    assert.ok(pools[2].buffers[2046].every((x) => x === 0) && pools[2].buffers[4].every((x) => x === 0), 'neighbours untouched');
    // Prepared, never submitted: close() sends them and delivers them before it releases the pools.
    const seen = new Map<number, Buffer>();
    ring.onCompletion((tag, res) => {
      got.set(tag, res);
      seen.set(tag, Buffer.from(pools[2].buffers[tag - 10]));
    });
    for (let k = 0; k < 4; k++) assert.ok(ring.prepRead(fd, pools[2].buffers[k], (4 + k) * 4096, 10 + k));
    assert.equal(pools[2].inUse, 4);
    await ring.close();
    for (let k = 0; k < 4; k++) assert.deepEqual(seen.get(10 + k), data.subarray((4 + k) * 4096, (5 + k) * 4096));
    for (const p of pools) {
      assert.equal(p.inUse, 0);
      assert.ok(p.released);
    }
    fs.closeSync(fd);
  });
});
