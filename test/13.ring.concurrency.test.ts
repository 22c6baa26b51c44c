import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { Ring } from 'kaio';
import { randomFile, fixture } from './helpers';


describe('13 Ring: concurrency, batching and back-pressure', () => {
  it('100,000 ops started at once on a ring of 8 entries all complete correctly', async () => {
    const { path: p, data } = randomFile(1 << 16);
    const fd = fs.openSync(p, 'r');
    const ring = new Ring({ entries: 8 });
    const N = 100000;
    const bufs = new Array(N);
    const ops = new Array(N);
    for (let i = 0; i < N; i++) {
      const off = (i * 37) % (data.length - 8);
      bufs[i] = Buffer.alloc(8);
      ops[i] = i % 5 === 0 ? ring.nop().then(() => 8) : ring.read(fd, bufs[i], off);
    }
    assert.ok(ring.stats.queued > 0, 'most ops wait in the JS queue');
    const results = await Promise.all(ops);
    for (let i = 0; i < N; i++) {
      assert.equal(results[i], 8);
      if (i % 5 === 0) continue;
      const off = (i * 37) % (data.length - 8);
      if (!bufs[i].equals(data.subarray(off, off + 8))) assert.fail(`op ${i} read wrong bytes`);
    }
    const s = ring.stats;
    assert.equal(s.completed, N);
    assert.equal(s.inFlight, 0);
    assert.equal(s.queued, 0);
    fs.closeSync(fd);
    await ring.close();
  });

  it('1,000 ops started in one tick need only a handful of io_uring_enter calls', async () => {
    const ring = new Ring({ entries: 1024 });
    const before = ring.stats.enterCalls;
    const ops = [];
    for (let i = 0; i < 1000; i++) ops.push(ring.nop());
    assert.equal(ring.stats.enterCalls, before, 'nothing is submitted synchronously');
    await Promise.all(ops);
    const used = ring.stats.enterCalls - before;
    assert.ok(used >= 1 && used <= 4, `${used} io_uring_enter calls for 1000 ops`);
    assert.equal(ring.stats.submitted, 1000);
    await ring.close();
  });

  it('ops issued across many awaits in one tick are still batched', async () => {
    const ring = new Ring({ entries: 256 });
    const before = ring.stats.enterCalls;
    // 100 async "tasks", each doing 5 sequential nops: one enter per wave.
    await Promise.all(Array.from({ length: 100 }, async () => {
      for (let i = 0; i < 5; i++) await ring.nop();
    }));
    const used = ring.stats.enterCalls - before;
    assert.ok(used <= 20, `${used} enters for 500 ops in 5 waves`);
    await ring.close();
  });

  it('many rings at once', async () => {
    const { path: p, data } = randomFile(65536);
    const fd = fs.openSync(p, 'r');
    const rings = Array.from({ length: 32 }, () => new Ring({ entries: 4 }));
    const got = await Promise.all(rings.map(async (ring, i) => {
      const b = Buffer.alloc(1024);
      await Promise.all([ring.nop(), ring.read(fd, b, i * 1024), ring.nop()]);
      return b;
    }));
    got.forEach((b, i) => assert.ok(b.equals(data.subarray(i * 1024, i * 1024 + 1024))));
    await Promise.all(rings.map((r) => r.close()));
    fs.closeSync(fd);
  });

  it('rings in worker threads, alongside the main thread', async () => {
    const { path: p, data } = randomFile(1 << 20);
    const results = await Promise.all(
      [0, 1, 2].map(
        (k) =>
          new Promise<{ k: number; sum: number; n: number }>((resolve, reject) => {
            const w = new Worker(fixture('worker-read.js'), { workerData: { path: p, k } });
            let msg: { k: number; sum: number; n: number } | undefined;
            w.once('message', (m) => (msg = m));
            w.once('error', reject);
            // The worker ends by itself once it has sent its result.
            w.once('exit', (code) => (code === 0 && msg ? resolve(msg) : reject(new Error(`worker ${k} exited ${code}, message ${JSON.stringify(msg)}`))));
          }),
      ),
    );
    for (const { k, sum, n } of results) {
      assert.equal(n, 500);
      let want = 0;
      for (let i = k * 1000; i < k * 1000 + n; i++) want = (want + data[i]) >>> 0;
      assert.equal(sum, want);
    }
    const ring = new Ring({ entries: 8 });
    await ring.nop();
    await ring.close();
  });

  it('a worker that ends with ops in flight does not crash the process', async () => {
    for (const mode of ['terminate', 'exit']) {
      const w = new Worker(fixture('worker-inflight.js'), { workerData: { mode } });
      const [stats, code] = await new Promise<[{ inFlight: number; queued: number }, number]>((resolve, reject) => {
        let busy: { inFlight: number; queued: number };
        w.once('message', (m) => {
          busy = m;
          if (mode === 'terminate') void w.terminate();
        });
        w.once('exit', (c) => resolve([busy, c]));
        w.once('error', reject);
      });
      // It ended with ops in the kernel and in its queue, as it was told to:
      // terminate() gives exit code 1, the worker's process.exit(0) gives 0.
      assert.equal(stats.inFlight, 8, `${mode}: ${JSON.stringify(stats)}`);
      assert.ok(stats.queued > 0, `${mode}: ${JSON.stringify(stats)}`);
      assert.equal(code, mode === 'terminate' ? 1 : 0, mode);
    }
    const ring = new Ring({ entries: 4 });
    await ring.nop();
    await ring.close();
  });

  it('process.exit() with ops in flight exits cleanly (child process)', () => {
    const r = spawnSync(process.execPath, [fixture('exit-inflight.js')], { encoding: 'utf8', timeout: 30000 });
    assert.equal(r.signal, null, r.stderr);
    assert.equal(r.status, 7, r.stderr);
    assert.match(r.stdout, /started \d+ ops/);
  });

  it('an idle ring does not keep the process alive; a busy one does (child process)', () => {
    const idle = spawnSync(process.execPath, ['-e', `const { Ring } = require(${JSON.stringify(path.resolve(__dirname, '..'))}); global.r = new Ring(); r.nop().then(() => console.log('done'));`], { encoding: 'utf8', timeout: 30000 });
    assert.equal(idle.status, 0, idle.stderr);
    assert.equal(idle.stdout.trim(), 'done', 'the loop stayed alive for the op, then exited');
  });

  it('a busy ring dropped without close() is kept alive by its ops; an idle one is collected (child process)', () => {
    const r = spawnSync(process.execPath, ['--expose-gc', fixture('gc-ring.js')], { encoding: 'utf8', timeout: 60000 });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /ops ok/);
    assert.match(r.stdout, /collected/);
  });
});
