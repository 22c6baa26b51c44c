// Limits are checked before anything is allocated or pinned, with errors
// that name the limit.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Ring, MAX_POOL_BUFFERS, MAX_BUFFER_SIZE, probe } from 'kaio';
import { severalPoolsPerRing } from './helpers';

const GiB = 1024 * 1024 * 1024;

/** Whether this process may pin `bytes` more (CAP_IPC_LOCK, or room under RLIMIT_MEMLOCK). */
function canPin(bytes: number) {
  const { capIpcLock, memlock } = probe();
  return capIpcLock || memlock.soft - memlock.lockedBytes >= bytes;
}

function vmPin() {
  const m = /^VmPin:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'latin1'));
  return m ? Number(m[1]) * 1024 : 0;
}

describe('31 registered buffers: limits and bad arguments', () => {
  let ring: Ring;
  beforeEach(() => {
    ring = new Ring({ entries: 8 });
  });
  afterEach(() => ring.close());

  it('exports the kernel limits', () => {
    assert.equal(MAX_POOL_BUFFERS, 16384);
    assert.equal(MAX_BUFFER_SIZE, GiB);
  });

  it('refuses 16,385 buffers, naming the limit', () => {
    assert.throws(() => ring.registerBuffers({ count: 16385, size: 4096 }), {
      name: 'RangeError',
      code: 'ERR_OUT_OF_RANGE',
      message: /"options\.count".*<= 16384.*Received 16385/,
    });
  });

  it('refuses a 1 GiB + 4 KiB buffer, naming the 1 GiB limit, without allocating', () => {
    const before = vmPin();
    assert.throws(() => ring.registerBuffers({ count: 1, size: GiB + 4096 }), {
      name: 'RangeError',
      code: 'ERR_OUT_OF_RANGE',
      message: /"options\.size".*1 GiB.*Received 1073745920/,
    });
    assert.equal(vmPin(), before);
  });

  it('refuses size 0, sizes that are not whole pages, and non-integers', () => {
    const bad = [0, -4096, 100, 4097, 6144, 4096.5, NaN, Infinity];
    for (const size of bad)
      assert.throws(() => ring.registerBuffers({ count: 1, size }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }, `size ${size}`);
    assert.throws(() => ring.registerBuffers({ count: 1, size: 4097 }), { message: /whole number of pages/ });
    for (const count of [0, -1, 1.5, NaN])
      assert.throws(() => ring.registerBuffers({ count, size: 4096 }), { name: 'RangeError', code: 'ERR_OUT_OF_RANGE' }, `count ${count}`);
  });

  it('refuses wrong types and unknown options with Node codes', () => {
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => ring.registerBuffers(), { code: 'ERR_INVALID_ARG_TYPE' });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => ring.registerBuffers(64), { code: 'ERR_INVALID_ARG_TYPE' });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => ring.registerBuffers({ size: 4096 }), { code: 'ERR_INVALID_ARG_TYPE', message: /options\.count/ });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => ring.registerBuffers({ count: 1 }), { code: 'ERR_INVALID_ARG_TYPE', message: /options\.size/ });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => ring.registerBuffers({ count: '1', size: 4096 }), { code: 'ERR_INVALID_ARG_TYPE' });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => ring.registerBuffers({ count: 1, size: 4096n }), { code: 'ERR_INVALID_ARG_TYPE' });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => ring.registerBuffers({ count: 1, size: 4096, fallback: 'yes' }), { code: 'ERR_INVALID_ARG_TYPE' });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => ring.registerBuffers({ count: 1, size: 4096, hugePages: 1 }), { code: 'ERR_INVALID_ARG_TYPE' });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => ring.registerBuffers({ count: 1, size: 4096, Size: 1 }), {
      code: 'ERR_INVALID_ARG_VALUE',
      message: /did you mean "size"/,
    });
  });

  it('counts buffers across pools: at most 16,384 per ring', async function () {
    if (!canPin(65 * 1024 * 1024)) this.skip(); // pins 64 MiB: needs CAP_IPC_LOCK or ulimit -l
    if (!severalPoolsPerRing()) this.skip(); // one registered-buffer table per ring before 5.19: a second pool gets EBUSY
    const big = ring.registerBuffers({ count: 16380, size: 4096 });
    assert.throws(() => ring.registerBuffers({ count: 5, size: 4096 }), {
      code: 'ERR_OUT_OF_RANGE',
      message: /<= 4 \(at most 16384 registered buffers per ring; 16380 are registered\)/,
    });
    const small = ring.registerBuffers({ count: 4, size: 4096 });
    assert.equal(small.registered, true);
    await big.release();
    const again = ring.registerBuffers({ count: 100, size: 4096 });
    assert.equal(again.registered, true);
    await Promise.all([small.release(), again.release()]);
  });

  it('says so when released pools left free slots but no run long enough', async function () {
    if (!canPin(65 * 1024 * 1024)) this.skip(); // pins 64 MiB: needs CAP_IPC_LOCK or ulimit -l
    if (!severalPoolsPerRing()) this.skip(); // one registered-buffer table per ring before 5.19: a second pool gets EBUSY
    const pools = [];
    for (let i = 0; i < 4; i++) pools.push(ring.registerBuffers({ count: 4096, size: 4096 }));
    await Promise.all([pools[0].release(), pools[2].release()]); // 8192 free, in two runs of 4096
    const before = vmPin();
    assert.throws(() => ring.registerBuffers({ count: 5000, size: 4096 }), {
      code: 'ERR_OUT_OF_RANGE',
      message: /released pools left no 5000 in a row/,
    });
    assert.equal(vmPin(), before);
    const fits = ring.registerBuffers({ count: 4096, size: 4096 });
    assert.equal(fits.registered, true);
    await Promise.all([pools[1].release(), pools[3].release(), fits.release()]);
  });

  it('refuses to register on a closed ring', async () => {
    await ring.close();
    assert.throws(() => ring.registerBuffers({ count: 1, size: 4096 }), { code: 'ERR_KAIO_CLOSED' });
  });
});
