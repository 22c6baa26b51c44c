// kaio's worker threads (the thread-pool backend, and AIO's ops on streams)
// exit when idle for KAIO_THREADPOOL_IDLE_MS and start again for the next
// op; no op is lost when one starts as the threads time out. Each case runs
// in a child (the threads are process-wide), which counts the threads named
// kaio-offload in /proc/self/task.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fixture } from './helpers';

function run(mode: string, idleMs: number): Record<string, unknown> {
  const r = spawnSync(process.execPath, [fixture('offload-idle.js'), mode], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, KAIO_THREADPOOL_IDLE_MS: String(idleMs), KAIO_THREADPOOL_SIZE: '4' },
  });
  assert.equal(r.signal, null, r.stderr);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Record<string, unknown>;
}

describe('48 worker threads exit when idle', () => {
  it('threads start for ops, all exit once idle, and start again for the next ops (bytes as node:fs reads them)', () => {
    const report = run('cycle', 100);
    assert.equal(report.before, 0, 'no kaio-offload thread before the first op');
    const busy = report.busy as number[];
    assert.equal(busy.length, 2);
    for (const n of busy) assert.ok(n >= 1 && n <= 4 + 1, `threads while a FIFO read waits: ${n}`);
    assert.deepEqual(report.afterIdle, [0, 0]);
  });

  it('ops that start as the threads time out all complete with their bytes', () => {
    const report = run('race', 2);
    assert.equal(report.ops, 600);
    assert.ok((report.foundNone as number) > 0, `some ops found every thread gone: ${JSON.stringify(report)}`);
  });
});
