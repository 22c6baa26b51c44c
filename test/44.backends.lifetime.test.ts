// Leaving with ops in flight must not crash or let the kernel (or a worker
// thread) write memory that was freed: process exit, worker exit and
// terminate, and GC of a context that still has ops.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fixture } from './helpers';
import { probe } from 'kaio';

const exitFixture = fixture('backend-exit.js');

function run(backend: string, mode: string, flags: string[] = []) {
  return spawnSync(process.execPath, [...flags, exitFixture, backend, mode], { encoding: 'utf8', timeout: 30_000 });
}

for (const backend of ['aio', 'threadpool']) {
  describe(`44 ${backend}: leaving with ops in flight`, function () {
    before(function () {
      if (backend === 'aio' && !probe().aio.available) this.skip(); // io_setup refused here
    });

    it('process.exit() with ops in flight exits cleanly', () => {
      const r = run(backend, 'exit');
      assert.equal(r.signal, null, r.stderr);
      assert.equal(r.status, 0, r.stderr);
    });

    it('a worker calling process.exit() with ops in flight ends cleanly', () => {
      const r = run(backend, 'worker-exit');
      assert.equal(r.signal, null, r.stderr);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /worker exited 3/);
    });

    it('worker.terminate() with ops in flight ends cleanly', () => {
      const r = run(backend, 'worker-terminate');
      assert.equal(r.signal, null, r.stderr);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /worker exited 1/);
    });

    it('a context dropped with ops in flight finishes them, then can be collected', () => {
      const r = run(backend, 'gc', ['--expose-gc']);
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /all 2048 done, collected true/);
    });
  });
}
