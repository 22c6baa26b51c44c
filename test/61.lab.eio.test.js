'use strict';
// Injected I/O errors (the kernel lab's VMs make a device-mapper device whose
// sectors KAIO_LAB_FAULTY_SECTORS=<start>:<count> use dm's error target).
// On every backend a read or write that the device fails rejects with EIO
// (code, errno, syscall), the ops around it go on, and writes acknowledged
// before the failure are intact. Runs only where KAIO_LAB_FAULTY_DEV is set;
// the tests WRITE to that device.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const crypto = require('node:crypto');
const { Ring, AioContext, ThreadpoolContext, alignedBuffer, probe } = require('..');

const dev = process.env.KAIO_LAB_FAULTY_DEV;
const [badStart, badCount] = (process.env.KAIO_LAB_FAULTY_SECTORS || '').split(':').map(Number);
const BS = 4096;
const EIO = -5;

function randomAligned(n = BS) {
  const b = alignedBuffer(n);
  crypto.randomFillSync(b);
  return b;
}

const backends = [
  ['io_uring (Ring)', () => new Ring({ entries: 8 })],
  ['aio (AioContext)', () => new AioContext({ entries: 8 })],
  ['threadpool (ThreadpoolContext)', () => new ThreadpoolContext({ entries: 8 })],
];

describe('61 lab: injected I/O errors (dm error target)', () => {
  if (!dev || !(badCount > 0)) {
    it('needs a faulty device from the kernel lab', function () {
      this.skip(); // KAIO_LAB_FAULTY_DEV/KAIO_LAB_FAULTY_SECTORS are not set: only the kernel lab (npm run test:kernels) prepares one
    });
    return;
  }
  const bad = badStart * 512; // first failing byte
  const afterBad = (badStart + badCount) * 512; // first good byte past the bad zone
  let fd;
  before(() => {
    assert.ok(bad >= backends.length * 2 * 65536, 'room for the good writes before the bad zone');
    fd = fs.openSync(dev, fs.constants.O_RDWR | fs.constants.O_DIRECT);
  });
  after(() => fd !== undefined && fs.closeSync(fd));

  backends.forEach(([name, make], k) => {
    it(`${name}: a failed read and write reject with EIO, later ops go on, acknowledged writes are intact`, async function () {
      if (name.startsWith('aio') && !probe().aio.available) this.skip(); // io_setup refused here
      const ctx = make();
      try {
        const mine = k * 65536; // each backend its own good blocks
        const before = randomAligned();
        assert.equal(await ctx.write(fd, before, mine), BS);

        const isEio = (syscall) => (e) => {
          assert.equal(e.code, 'EIO', `${e.code} ${e.message}`);
          assert.equal(e.errno, EIO);
          assert.equal(e.syscall, syscall);
          return true;
        };
        await assert.rejects(ctx.read(fd, alignedBuffer(BS), bad + k * BS), isEio('read'));
        await assert.rejects(ctx.write(fd, randomAligned(), bad + k * BS), isEio('write'));

        // Good and failing ops in one batch: only the failing ones reject.
        const later = randomAligned();
        const back = alignedBuffer(BS);
        const settled = await Promise.allSettled([
          ctx.write(fd, later, mine + BS),
          ctx.read(fd, alignedBuffer(BS), bad + BS * 8 + k * BS),
          ctx.read(fd, back, mine),
          ctx.write(fd, randomAligned(), bad + BS * 16 + k * BS),
          ctx.write(fd, randomAligned(), afterBad + k * BS),
        ]);
        assert.deepEqual(settled.map((s) => s.status), ['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
        assert.equal(settled[1].reason.code, 'EIO');
        assert.equal(settled[3].reason.code, 'EIO');
        assert.ok(back.equals(before), 'the write acknowledged before the failures reads back intact');

        const check = alignedBuffer(2 * BS);
        assert.equal(await ctx.read(fd, check, mine), 2 * BS);
        assert.ok(check.subarray(0, BS).equals(before));
        assert.ok(check.subarray(BS).equals(later));
        // A read that runs into the bad zone fails whole or stops short of it, never returns its bytes.
        const straddle = alignedBuffer(2 * BS);
        try {
          const n = await ctx.read(fd, straddle, bad - BS);
          assert.ok(n <= BS, `read ${n} bytes across the bad zone`);
        } catch (e) {
          assert.equal(e.code, 'EIO');
        }
      } finally {
        await ctx.close();
      }
    });
  });

  it('Ring batch API: a failed op completes with res -EIO, the rest of the batch goes on', () => {
    const ring = new Ring({ entries: 8 });
    try {
      const res = new Map();
      ring.onCompletion((tag, r) => res.set(tag, r));
      const data = randomAligned();
      const mine = 3 * 65536;
      ring.prepWrite(fd, data, mine, 1);
      ring.prepRead(fd, alignedBuffer(BS), bad + 4 * BS, 2);
      ring.prepWrite(fd, randomAligned(), bad + 5 * BS, 3);
      ring.prepWrite(fd, randomAligned(), afterBad + 4 * BS, 4);
      while (res.size < 4) ring.submitAndWait(1);
      assert.deepEqual([1, 2, 3, 4].map((t) => res.get(t)), [BS, EIO, EIO, BS]);
      const back = alignedBuffer(BS);
      ring.prepRead(fd, back, mine, 5);
      while (res.size < 5) ring.submitAndWait(1);
      assert.equal(res.get(5), BS);
      assert.ok(back.equals(data));
    } finally {
      ring.close();
    }
  });
});
