// Pool lifetime: release waits for the ops that use the pool, views are
// detached afterwards (never dangling), closing a ring releases its pools,
// and workers or the garbage collector can end with pools alive.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { once } from 'node:events';
import { Ring } from 'kaio';
import { fixture, randomFile, tmpPath, pkgRoot, settled, severalPoolsPerRing } from './helpers';

const pkg = pkgRoot;

function vmPin() {
  const m = /^VmPin:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'latin1'));
  return m ? Number(m[1]) * 1024 : 0;
}

/** A FIFO opened read-write: reads on it stay in flight until we write. */
function fifo() {
  const p = tmpPath('fifo');
  const r = spawnSync('mkfifo', [p]);
  if (r.status !== 0) return undefined;
  return fs.openSync(p, fs.constants.O_RDWR);
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('33 registered buffers: release, close and lifetime', () => {
  let ring: Ring;
  beforeEach(() => {
    ring = new Ring({ entries: 8 });
  });
  afterEach(() => ring.close());

  it('release() waits for ops in flight, refusing new ones meanwhile', async function () {
    const fd = fifo();
    if (fd === undefined) this.skip(); // no mkfifo here
    const pool = ring.registerBuffers({ count: 2, size: 4096 });
    const reading = ring.read(fd, pool.buffers[1], 0);
    await tick();
    assert.equal(pool.inUse, 1);
    const released = pool.release();
    assert.equal(pool.release(), released, 'idempotent');
    assert.equal(pool.releasing, true);
    await tick();
    assert.equal(pool.released, false, 'still waiting for the read');
    assert.equal(pool.buffers[1].length, 4096, 'views stay valid while the kernel may use them');
    await assert.rejects(ring.read(fd, pool.buffers[0], 0), { code: 'ERR_KAIO_POOL_RELEASED' });
    await assert.rejects(ring.writev(fd, [Buffer.alloc(1), pool.buffers[0]], 0), { code: 'ERR_KAIO_POOL_RELEASED' });
    fs.writeSync(fd, 'hello');
    assert.equal(await reading, 5);
    assert.equal(pool.buffers[1].toString('latin1', 0, 5), 'hello');
    await released;
    assert.equal(pool.released, true);
    assert.equal(pool.inUse, 0);
    assert.equal(pool.buffers[1].length, 0);
    fs.closeSync(fd);
  });

  it('after release every view is detached: length 0, no bytes, ops refuse them', async () => {
    const before = await settled(vmPin, 0); // old kernels may still be unpinning earlier tests' pools
    const pool = ring.registerBuffers({ count: 3, size: 8192 });
    const sub = pool.buffers[2].subarray(100, 200);
    const u16 = new Uint16Array(pool.buffers[0].buffer, 4096, 16);
    const dv = new DataView(pool.buffers[1].buffer, 8192, 64);
    pool.buffers[0].fill(9);
    await pool.release();
    assert.equal(await settled(vmPin, before), before, 'VmPin back at the baseline');
    for (const b of pool.buffers) {
      assert.equal(b.byteLength, 0);
      assert.equal(b.buffer.byteLength, 0);
      assert.equal(b[0], undefined);
    }
    assert.equal(sub.byteLength, 0);
    assert.equal(u16.length, 0);
    assert.throws(() => dv.getUint8(0), TypeError);
    assert.equal(pool.indexOf(sub), -1);
    const { path: p } = randomFile(4096);
    const fd = fs.openSync(p, 'r+');
    await assert.rejects(ring.read(fd, pool.buffers[0], 0), { code: 'ERR_INVALID_ARG_VALUE', message: /detached/ });
    await assert.rejects(ring.write(fd, sub, 0), { code: 'ERR_INVALID_ARG_VALUE' });
    await assert.rejects(ring.readv(fd, [pool.buffers[1]], 0), { code: 'ERR_INVALID_ARG_VALUE' });
    fs.closeSync(fd);
    await pool.release(); // again: nothing happens
  });

  it('pool memory cannot be transferred away (postMessage, structuredClone)', async () => {
    const pool = ring.registerBuffers({ count: 1, size: 4096 });
    pool.buffers[0].fill(7);
    const ab = pool.buffers[0].buffer as ArrayBuffer;
    try {
      const copy = structuredClone(ab, { transfer: [ab] });
      assert.notEqual(copy, ab);
    } catch (e) {
      assert.equal((e as Error).name, 'DataCloneError');
    }
    const { port1, port2 } = new MessageChannel();
    try {
      port1.postMessage(pool.buffers[0], [ab]);
    } catch (e) {
      assert.equal((e as Error).name, 'DataCloneError');
    }
    port1.close();
    port2.close();
    assert.equal(pool.buffers[0].length, 4096, 'still attached');
    assert.equal(pool.buffers[0][4095], 7);
    await pool.release();
  });

  it('an op aborted while queued stops holding its pool', async () => {
    const small = new Ring({ entries: 1, cqEntries: 1 });
    const { path: p } = randomFile(64 * 1024);
    const fd = fs.openSync(p, 'r');
    const pool = small.registerBuffers({ count: 4, size: 4096 });
    const ac = new AbortController();
    const first = small.read(fd, pool.buffers[0], 0);
    const queued = small.read(fd, pool.buffers[1], 0, { signal: ac.signal });
    assert.equal(small.stats.queued, 1);
    assert.equal(pool.inUse, 2);
    ac.abort();
    await assert.rejects(queued, { name: 'AbortError' });
    assert.equal(pool.inUse, 1);
    assert.equal(await first, 4096);
    assert.equal(pool.inUse, 0);
    await pool.release();
    fs.closeSync(fd);
    await small.close();
  });

  it('an op using two pools holds both', async function () {
    if (!severalPoolsPerRing()) this.skip(); // one registered-buffer table per ring before 5.19: a second pool gets EBUSY
    const { path: p, data } = randomFile(8192);
    const fd = fs.openSync(p, 'r');
    const a = ring.registerBuffers({ count: 1, size: 4096 });
    const b = ring.registerBuffers({ count: 1, size: 4096 });
    const reading = ring.readv(fd, [a.buffers[0].subarray(0, 10), b.buffers[0].subarray(0, 10)], 0);
    assert.equal(a.inUse, 1);
    assert.equal(b.inUse, 1);
    assert.equal(await reading, 20);
    assert.equal(a.inUse + b.inUse, 0);
    assert.ok(Buffer.concat([a.buffers[0].subarray(0, 10), b.buffers[0].subarray(0, 10)]).equals(data.subarray(0, 20)));
    fs.closeSync(fd);
    await Promise.all([a.release(), b.release()]);
  });

  it('ring.close() waits for ops, then releases the ring\'s pools', async function () {
    if (!severalPoolsPerRing()) this.skip(); // one registered-buffer table per ring before 5.19: a second pool gets EBUSY
    const fd = fifo();
    if (fd === undefined) this.skip();
    const before = await settled(vmPin, 0); // old kernels may still be unpinning earlier tests' pools
    const r = new Ring({ entries: 4 });
    const a = r.registerBuffers({ count: 2, size: 64 * 1024 });
    const b = r.registerBuffers({ count: 1, size: 4096, fallback: true });
    const reading = r.read(fd, a.buffers[0], 0);
    const closing = r.close();
    await tick();
    assert.equal(a.released, false);
    fs.writeSync(fd, 'x');
    assert.equal(await reading, 1);
    await closing;
    assert.equal(a.released, true);
    assert.equal(b.released, true);
    assert.equal(a.buffers[0].length, 0);
    assert.equal(await settled(vmPin, before), before);
    fs.closeSync(fd);
  });

  it('a worker can end (exit or terminate) with pools and ops in flight', async function () {
    if (!severalPoolsPerRing()) this.skip(); // one registered-buffer table per ring before 5.19: a second pool gets EBUSY
    const fd = fifo();
    if (fd === undefined) this.skip();
    for (const how of ['exit', 'terminate']) {
      const worker: Worker = new Worker(
        `const { Ring } = require(${JSON.stringify(pkg)});
         const { parentPort, workerData } = require('node:worker_threads');
         const ring = new Ring({ entries: 4 });
         const pool = ring.registerBuffers({ count: 4, size: 64 * 1024 });
         const fallback = ring.registerBuffers({ count: 1, size: 4096, fallback: true });
         ring.read(workerData.fd, pool.buffers[0], 0);     // never completes
         ring.read(workerData.fd, fallback.buffers[0], 0); // nor this
         setImmediate(() => {
           parentPort.postMessage(ring.stats.inFlight); // both in the kernel now
           if (workerData.how === 'exit') process.exit(0);
         });`,
        { eval: true, workerData: { fd, how } },
      );
      const exited = once(worker, 'exit');
      const [inFlight]: unknown[] = await once(worker, 'message');
      assert.equal(inFlight, 2, `${how}: the worker's reads were in flight`);
      if (how === 'terminate') await worker.terminate();
      const [code] = await exited;
      assert.equal(code, how === 'terminate' ? 1 : 0, how);
    }
    // This thread goes on working; the worker's reads were cancelled.
    fs.writeSync(fd, 'ok');
    const buf = Buffer.alloc(2);
    assert.equal(await ring.read(fd, buf, 0), 2);
    assert.equal(buf.toString(), 'ok');
    fs.closeSync(fd);
  });

  it('memory dropped without release is unmapped by the garbage collector; dropped rings do no harm', function () {
    if (!severalPoolsPerRing()) this.skip(); // one registered-buffer table per ring before 5.19: a second pool gets EBUSY
    const r = spawnSync(
      process.execPath,
      [
        '--expose-gc',
        '-e',
        `const { Ring, alignedBuffer } = require(${JSON.stringify(pkg)});
         const fs = require('node:fs');
         const vm = (k) => Number(new RegExp(k + ':\\\\s+(\\\\d+)').exec(fs.readFileSync('/proc/self/status', 'latin1'))[1]);
         const collect = async () => { for (let i = 0; i < 5; i++) { global.gc(); await new Promise((r) => setImmediate(r)); } };
         (async () => {
           await collect();
           const base = vm('VmSize');
           let keep = [];
           for (let i = 0; i < 64; i++) keep.push(alignedBuffer(1024 * 1024));
           const ring = new Ring({ entries: 4 });
           for (let i = 0; i < 8; i++) keep.push(ring.registerBuffers({ count: 1, size: 1024 * 1024, fallback: true }).buffers[0]);
           const grown = vm('VmSize') - base;
           keep = null;
           for (let i = 0; i < 10; i++) {
             const r = new Ring({ entries: 4 });
             r.registerBuffers({ count: 2, size: 64 * 1024, fallback: true }).buffers[0].fill(1);
             await r.nop();
           }
           await collect();
           process.stdout.write(JSON.stringify({ grown, left: vm('VmSize') - base }));
         })();`,
      ],
      { encoding: 'utf8', timeout: 20000 },
    );
    assert.equal(r.status, 0, r.stderr);
    const { grown, left } = JSON.parse(r.stdout);
    if (process.env.KAIO_DEBUG) console.log(grown, left);
    assert.ok(grown >= 72 * 1024, `mapped ${grown} kB`);
    assert.ok(left < grown / 2, `${left} kB of ${grown} kB still mapped after GC`);
  });

  // ArrayBuffer.prototype.transfer() (Node 22; Node 20 under
  // --harmony-rab-gsab-transfer) moves kaio's memory to a new ArrayBuffer,
  // markAsUntransferable or not. The mapping then lives as long as the new
  // one: collecting the old ArrayBuffer, or releasing its pool, unmaps
  // nothing. (Before: the new ArrayBuffer read other memory or SIGSEGV.)
  describe('memory moved to a new ArrayBuffer by transfer()', () => {
    const native = typeof (ArrayBuffer.prototype as { transfer?: unknown }).transfer === 'function';
    const flags = ['--expose-gc', ...(native ? [] : ['--harmony-rab-gsab-transfer'])];

    function child(mode: string): string {
      const r = spawnSync(process.execPath, [...flags, fixture('transfer-pinned.js'), mode], { encoding: 'utf8', timeout: 60000 });
      assert.equal(r.signal, null, `the child died by ${r.signal}: ${r.stdout}${r.stderr}`);
      assert.equal(r.status, 0, `${r.stdout}${r.stderr}`);
      assert.match(r.stdout, /^done$/m);
      return r.stdout;
    }

    it('alignedBuffer(): the old ArrayBuffer collected, the new one keeps its bytes and takes writes', () => {
      const out = child('aligned');
      assert.match(out, /^ok aligned transferred/m);
      assert.match(out, /^collected 1$/m, 'the old ArrayBuffer was collected (else this tests nothing)');
    });

    it('a pool: transferred, then released and collected; the new ArrayBuffer keeps the memory', () => {
      const out = child('pool');
      assert.match(out, /^ok pool released after its memory was transferred$/m);
      assert.match(out, /^ok pool collected$/m);
      assert.match(out, /^collected 1$/m);
    });

    it('a read in flight into a pool buffer whose memory is transferred: the data reaches the new owner (io_uring), nothing is freed', () => {
      const out = child('inflight');
      assert.match(out, /^ok io_uring read in flight while transferred \(9\)$/m);
      // AIO on a FIFO and the thread pool copy out on the JS thread: EFAULT into a detached view, the new owner untouched.
      for (const b of ['aio', 'threadpool']) assert.match(out, new RegExp(`^(ok ${b} read in flight while transferred \\((9|EFAULT)\\)|skip ${b}: .*)$`, 'm'));
    });
  });
});
