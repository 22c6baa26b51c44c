// An op once started is the op the kernel runs (issue 19, items 7, 8, 11):
// an abort always reaches the kernel, a file-table update never changes the
// file a started op reaches, and submitAndWait() never waits for ops the
// kernel refused. Each case here failed (hung, or wrote into the wrong file)
// before the fix.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { setMaxListeners } from 'node:events';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { Ring } from 'kaio';
import { tmpPath, fixture, skip, fifoPair, tick, type KaioError } from './helpers';

const fifo = fifoPair;


/** Resolves to 'rejected:<name>' or 'resolved:<value>' once p settles. */
const outcome = (p: Promise<unknown>) =>
  p.then((v) => `resolved:${String(v)}`, (e: KaioError) => `rejected:${e.name}`);

describe('17 ring: started ops', () => {
  let ring: Ring | undefined;
  afterEach(async () => {
    if (ring) await ring.close();
    ring = undefined;
  });

  describe('an abort always reaches the kernel', () => {
    it('a full completion budget of reads blocked on a pipe, all aborted: every one rejects with AbortError', async function () {
      this.timeout(10000);
      ring = new Ring({ entries: 8 }); // SQ 8, CQ 16: 16 ops in flight at most
      assert.equal(ring.params.cqEntries, 16);
      const f = fifo();
      const ac = new AbortController();
      setMaxListeners(32, ac.signal);
      const reads: Promise<string>[] = [];
      // Eight fill the SQ; once they are in the kernel eight more fill the CQ budget.
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < 8; i++) reads.push(outcome(ring.read(f.r, Buffer.alloc(1), -1, { signal: ac.signal })));
        await tick();
      }
      assert.equal(ring.stats.inFlight, 16);
      // Four more wait in JavaScript for room: they never reached the kernel.
      for (let i = 0; i < 4; i++) reads.push(outcome(ring.read(f.r, Buffer.alloc(1), -1, { signal: ac.signal })));
      assert.equal(ring.stats.queued, 4);
      ac.abort();
      assert.deepEqual(await Promise.all(reads), Array(20).fill('rejected:AbortError'));
      assert.equal(ring.stats.inFlight, 0);
      // Nothing was read: the pipe's next byte goes to the next read.
      fs.writeSync(f.w, 'x');
      const b = Buffer.alloc(1);
      assert.equal(await ring.read(f.r, b, -1), 1);
      assert.equal(b.toString(), 'x');
      f.close();
    });

    it('aborts while the SQ is full (the ops not submitted yet) reject; the others read on', async function () {
      this.timeout(10000);
      ring = new Ring({ entries: 8 });
      const f = fifo();
      const controllers = Array.from({ length: 8 }, () => new AbortController());
      // One tick: eight ops taken by the ring (staged), none submitted. The
      // first abort writes their SQEs, which fills the 8-entry SQ, so its
      // cancel finds no room until they are submitted.
      const reads = controllers.map((ac) => outcome(ring!.read(f.r, Buffer.alloc(1), -1, { signal: ac.signal })));
      assert.equal(ring.stats.queued, 0);
      assert.equal(ring.stats.submitted, 0);
      for (let i = 0; i < 8; i += 2) controllers[i].abort();
      await tick();
      fs.writeSync(f.w, 'abcd');
      const got = await Promise.all(reads);
      assert.deepEqual(got, Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? 'rejected:AbortError' : 'resolved:1')));
      assert.equal(ring.stats.inFlight, 0);
      f.close();
    });

    it('aborting ops still queued in JavaScript rejects them at once, with no cancel sent to the kernel', async function () {
      this.timeout(10000);
      ring = new Ring({ entries: 8 });
      const f = fifo();
      const blocked: Promise<number>[] = [];
      for (let round = 0; round < 2; round++) {
        for (let i = 0; i < 8; i++) blocked.push(ring.read(f.r, Buffer.alloc(1), -1));
        await tick();
      }
      const ac = new AbortController();
      const queued = Array.from({ length: 4 }, () => outcome(ring!.read(f.r, Buffer.alloc(1), -1, { signal: ac.signal })));
      assert.equal(ring.stats.queued, 4);
      const submitted = ring.stats.submitted;
      ac.abort();
      // Rejected while the sixteen reads in the kernel are still blocked.
      assert.deepEqual(await Promise.all(queued), Array(4).fill('rejected:AbortError'));
      await tick();
      assert.equal(ring.stats.submitted, submitted, 'no SQE (no cancel) went to the kernel');
      assert.equal(ring.stats.inFlight, 16);
      fs.writeSync(f.w, 'x'.repeat(16));
      assert.deepEqual(await Promise.all(blocked), Array(16).fill(1));
      f.close();
    });
  });

  describe('a file-table update never changes what a started op reaches', () => {
    it('SQPOLL: a write started just before updateFiles() lands in the old file, in every one of 80 rounds', async function () {
      this.timeout(30000);
      try {
        ring = new Ring({ entries: 8, sqpoll: true, sqThreadIdle: 50 });
      } catch (e) {
        skip(this, `SQPOLL not allowed here: ${(e as KaioError).code}`);
      }
      const rounds = 80;
      const a = tmpPath('old');
      const b = tmpPath('new');
      fs.writeFileSync(a, '');
      fs.writeFileSync(b, '');
      const fdA = fs.openSync(a, 'r+');
      const fdB = fs.openSync(b, 'r+');
      let [slot] = ring.registerFiles([fdA]);
      // ERR_KAIO_BUSY (the kernel thread did not consume the SQE within a
      // second: a starved CPU) keeps the rule too: nothing changed.
      let busy = 0;
      for (let i = 0; i < rounds; i++) {
        const write: Promise<number> = ring.write(slot, Buffer.from(`round ${String(i).padStart(3, '0')}\n`), i * 10);
        try {
          ring.updateFiles(0, [fdB]);
        } catch (e) {
          if ((e as KaioError).code !== 'ERR_KAIO_BUSY') throw e;
          busy++;
        }
        assert.equal(await write, 10);
        [slot] = ring.updateFiles(0, [fdA]);
      }
      assert.ok(busy < rounds / 2, `updateFiles() was busy in ${busy} of ${rounds} rounds`);
      const old = fs.readFileSync(a, 'utf8');
      const wrong = fs.readFileSync(b, 'utf8').split('\n').filter((l) => l.replace(/\0/g, '') !== '');
      assert.equal(wrong.length, 0, `${wrong.length} of ${rounds} writes reached the file swapped in after they started`);
      assert.equal(old, Array.from({ length: rounds }, (_, i) => `round ${String(i).padStart(3, '0')}\n`).join(''));
      fs.closeSync(fdA);
      fs.closeSync(fdB);
    });

    it('SQPOLL, the kernel thread on this process\'s CPU (taskset): 0 of 80 writes reach the file swapped in after they started', function () {
      // The worst case of the race: the SQ thread runs only when this
      // process gives up the CPU, i.e. after the update, unless kaio waits.
      const cpu = /^Cpus_allowed_list:\s*(\d+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1];
      if (cpu === undefined || spawnSync('taskset', ['--version']).error) skip(this, 'no taskset (util-linux) here');
      const r = spawnSync('taskset', ['-c', cpu, process.execPath, fixture('sqpoll-update.js'), '80', '50'], { encoding: 'utf8', timeout: 30000 });
      const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}');
      if (out.code === 'EPERM' || out.code === 'EINVAL') skip(this, `SQPOLL not allowed here: ${out.code}`);
      assert.equal(r.status, 0, `${r.error?.message ?? ''} ${r.stderr} ${r.stdout}`);
      assert.ok(out.busy < 40, `updateFiles() was busy in ${out.busy} of 80 rounds`);
      assert.deepEqual(out, { rounds: 80, wrong: 0, busy: out.busy, lost: 0 });
    });

    it('after an io_uring_enter that left SQEs unconsumed (EAGAIN), updateFiles() throws ERR_KAIO_BUSY and the write reaches the old file', function () {
      const a = tmpPath('old');
      const b = tmpPath('new');
      fs.writeFileSync(a, '');
      fs.writeFileSync(b, '');
      const r = spawnSync('python3', [fixture('seccomp-exec.py'), 'io_uring_enter:EAGAIN@1=1', '--', process.execPath, fixture('enter-eagain-update.js'), a, b], {
        encoding: 'utf8',
        timeout: 20000,
      });
      if (r.status === 77 || (r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') skip(this, 'no python3 or no seccomp here');
      assert.equal(r.status, 0, `${r.error?.message ?? ''} ${r.stderr} ${r.stdout}`);
      const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
      assert.deepEqual(out, { update: 'ERR_KAIO_BUSY', written: 25, a: 'started before the update', b: '' });
    });
  });

  it('submitAndWait() right after an enter error delivers the ops the kernel refused instead of waiting for them', function () {
    const r = spawnSync('python3', [fixture('seccomp-exec.py'), 'io_uring_enter:EPERM@1!=0', '--', process.execPath, fixture('enter-wait-retracted.js')], {
      encoding: 'utf8',
      timeout: 20000,
    });
    if (r.status === 77 || (r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') skip(this, 'no python3 or no seccomp here');
    assert.equal(r.status, 0, `${r.error?.message ?? ''} (signal ${r.signal}) ${r.stderr} ${r.stdout}`);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
    assert.deepEqual(out, { submitted: 0, delivered: 2, got: [[1, -1], [2, -1]], closed: true });
  });
});
