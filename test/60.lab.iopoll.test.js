'use strict';
// IOPOLL rings on a polled block device (the kernel lab's VMs make one:
// qemu's NVMe with nvme.poll_queues, null_blk with poll_queues). O_DIRECT
// reads and writes must complete through the promise API and the batch API.
// Runs only where KAIO_LAB_POLLED_DEV names such devices (comma-separated);
// the tests WRITE to them, so never point it at a disk that holds data.
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

const devices = (process.env.KAIO_LAB_POLLED_DEV || '').split(',').filter(Boolean);
const child = path.join(__dirname, 'fixtures', 'lab-iopoll.js');
const HANG_MS = 20_000;

function run(dev, api, offset) {
  const r = spawnSync(process.execPath, [child, dev, api, String(offset)], { encoding: 'utf8', timeout: HANG_MS });
  if (r.error && r.error.code === 'ETIMEDOUT')
    assert.fail(`${api} API on ${dev}: no completion within ${HANG_MS / 1000} s (child killed)`);
  assert.equal(r.stderr, '', `child stderr: ${r.stderr}`);
  const line = r.stdout.trim().split('\n').pop();
  const out = JSON.parse(line);
  assert.equal(out.error, undefined, `${api} API on ${dev}: ${out.error}`);
  return out;
}

describe('60 lab: IOPOLL on a polled block device', () => {
  if (!devices.length) {
    it('needs a polled device from the kernel lab', function () {
      this.skip(); // KAIO_LAB_POLLED_DEV is not set: only the kernel lab (npm run test:kernels) prepares one
    });
    return;
  }
  for (const dev of devices) {
    describe(dev, () => {
      before(function () {
        const name = path.basename(fs.realpathSync(dev));
        const poll = fs.readFileSync(`/sys/block/${name}/queue/io_poll`, 'utf8').trim();
        assert.equal(poll, '1', `${dev} has no poll queues`);
      });

      it('promise API: O_DIRECT writes then reads complete with the right bytes', () => {
        const out = run(dev, 'promise', 1 << 20);
        assert.ok(out.setupFlags.includes('IOPOLL'), `setupFlags: ${out.setupFlags}`);
        assert.deepEqual(out.wrote, Array(8).fill(4096));
        assert.deepEqual(out.read, Array(8).fill(4096));
        assert.equal(out.same, true);
      });

      it('batch API (prepWrite/prepRead + submitAndWait): the same', () => {
        const out = run(dev, 'batch', 2 << 20);
        assert.ok(out.setupFlags.includes('IOPOLL'), `setupFlags: ${out.setupFlags}`);
        assert.deepEqual(out.wrote, Array(8).fill(4096));
        assert.deepEqual(out.read, Array(8).fill(4096));
        assert.equal(out.same, true);
      });
    });
  }
});
