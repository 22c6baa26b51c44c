// Lifecycle, short versions (the long ones: scripts/soak.js and
// scripts/lifecycle.js, see docs/reliability.md): a mixed-op soak against a
// byte model with resources back to baseline, SIGKILL during write+fsync with
// acknowledged data checked, worker termination and process exit with ops in
// flight, GC of dropped objects. Known findings of this area are skipped while
// listed in test/fuzz/known.js.
import assert from 'node:assert';
import cp from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pkgRoot, skip } from './helpers';

/** How a child node process ended (scripts/lifecycle.js and test/fuzz/child-run.js). */
interface ChildEnd {
  status: number | string | null | undefined;
  signal: NodeJS.Signals | null | undefined;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

// The long-run scripts and the fuzzer's helpers stay plain JS (they run as
// child processes too); these are the parts of them this file uses. The
// paths hold from test/ (for tsc) and from dist-test/ (at run time).
/* eslint-disable @typescript-eslint/no-require-imports */
const lifecycle: {
  killOnce(backend: string, opts: { dir: string; afterAcks?: number; jitterMs?: number; seed?: number }): Promise<{ acked: number; records: number }>;
  child(source: string, opts?: { args?: string[]; timeoutMs?: number }): Promise<ChildEnd>;
  terminateSource(rounds: number): string;
  exitSource(afterCompletions: number): string;
  gcSource(objects: number): string;
  BACKENDS: string[];
} = require('../scripts/lifecycle');
const childRun: {
  runScript(source: string, opts?: { timeoutMs?: number; env?: Record<string, string>; args?: string[] }): Promise<ChildEnd>;
  describeEnd(r: ChildEnd): string;
} = require('../test/fuzz/child-run');
const repros: { PRELUDE: string } = require('../test/fuzz/repros');
const known: { skipIfOpen(ctx: Mocha.Context, id: number | string): void } = require('../test/fuzz/known');
/* eslint-enable @typescript-eslint/no-require-imports */
const { killOnce, child, terminateSource, exitSource, gcSource, BACKENDS } = lifecycle;
const { runScript, describeEnd } = childRun;
const { PRELUDE } = repros;
const { skipIfOpen } = known;

const ROOT = pkgRoot;

describe('71 lifecycle: soak, SIGKILL, worker termination, exit, GC', function () {
  this.timeout(120000);

  it('soak: 100,000 mixed ops over io_uring, aio, threadpool and the batch API agree with a byte model; fds, VmPin, VmLck, AIO rings back to baseline', async function () {
    const r = await new Promise<{ err: cp.ExecFileException | null; stdout: string; stderr: string }>((resolve) => {
      cp.execFile(process.execPath, ['--expose-gc', path.join(ROOT, 'scripts', 'soak.js'), '--ops=100000', '--depth=16', '--file=256k'], (err, stdout, stderr) => resolve({ err, stdout, stderr }));
    });
    assert.ok(!r.err && /^OK: 100000 ops/m.test(r.stdout), `soak failed: ${r.err && (r.err.signal || r.err.code)}\n${r.stdout}\n${r.stderr}`);
  });

  it('SIGKILL during write+fsync: every acknowledged record is intact and no record holds foreign bytes (2 kills per backend)', async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-kill-'));
    try {
      for (const backend of BACKENDS) {
        for (let k = 0; k < 2; k++) {
          const r = await killOnce(backend, { dir, afterAcks: 8 + 16 * k, jitterMs: 10, seed: k + 1 });
          assert.ok(r.acked >= 8, `${backend}: only ${r.acked} records acknowledged before the kill`);
        }
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('worker.terminate() with ops in flight on every backend and a pool: the process goes on and exits 0 (4 rounds)', async function () {
    const r = await child(terminateSource(4));
    assert.ok(r.status === 0 && !r.signal && /OK 4 terminations/.test(r.stdout), `terminate: ${describeEnd(r)}`);
  });

  it('process.exit() with ops in flight on every backend: exit status 0, no signal (3 points)', async function () {
    for (const after of [0, 17, 150]) {
      const r = await child(exitSource(after));
      assert.ok(r.status === 0 && !r.signal, `exit after ${after} completions: ${describeEnd(r)}`);
    }
  });

  it('GC: 150 contexts, rings, pools and aligned buffers dropped without close(); fds, AIO rings, VmPin, VmLck back to baseline', async function () {
    const r = await child(gcSource(150), { args: ['--expose-gc'] });
    assert.ok(r.status === 0 && !r.signal && /^OK$/m.test(r.stdout), `gc: ${describeEnd(r)}`);
  });

  describe('known findings of this area (skipped while open, see test/fuzz/known.js)', function () {
    it('3: worker.terminate() with a thread-pool op stuck for more than 10 s does not abort the process (takes > 10 s)', async function () {
      skipIfOpen(this, 3);
      if (!process.env.KAIO_SLOW_TESTS) skip(this, 'takes > 10 s; KAIO_SLOW_TESTS=1 runs it');
      const r = await runScript(PRELUDE + `
const { Worker } = require('node:worker_threads');
const fd = fifo();
const w = new Worker("const k = require(" + JSON.stringify(KAIO) + "); const c = new k.ThreadpoolContext(); c.read(" + fd + ", Buffer.alloc(16), -1); require('node:worker_threads').parentPort.postMessage('stuck');", { eval: true });
const blocked = () => fs.readdirSync('/proc/self/task').some((t) => { try { return /pipe_(read|wait)/.test(fs.readFileSync('/proc/self/task/' + t + '/wchan', 'utf8')); } catch { return false; } });
// The window is the point: the op must stay stuck past the 10 s a terminating worker waits for it.
w.once('message', async () => { await until(blocked, 'the pool thread to block in the read'); await w.terminate(); await new Promise((r) => setTimeout(r, 12000)); fs.writeSync(fd, Buffer.alloc(16)); await until(() => !blocked(), 'the stuck read to return'); console.log('OK'); });`, { timeoutMs: 40000 });
      assert.ok(r.status === 0 && !r.signal && /^OK$/m.test(r.stdout), describeEnd(r));
    });

    it('4: FileHandle close() with writes still queued: no byte of them lands in the file opened next', async function () {
      skipIfOpen(this, 4);
      const r = await runScript(PRELUDE + `
(async () => {
  for (const backend of ['io_uring', 'aio', 'threadpool']) {
    const ctx = kaio.createContext({ backend, entries: 1 });
    const a = path.join(tmp, 'a-' + backend), b = path.join(tmp, 'b-' + backend);
    const fh = await kaio.open(a, 'w+', 0o644, { context: ctx });
    const writes = [];
    // close() waits for the handle's ops (README): every write lands in a, whole.
    for (let i = 0; i < 64; i++) writes.push(fh.write(Buffer.alloc(4096, 0x41), 0, 4096, i * 4096).then((r) => r.bytesWritten));
    await fh.close();
    const fdB = fs.openSync(b, 'w+');   // takes the fd number fh had
    const done = await Promise.all(writes);
    await ctx.close();
    const size = fs.fstatSync(fdB).size;
    fs.closeSync(fdB);
    if (size !== 0) throw new Error(backend + ': ' + size + ' bytes of writes queued on a closed FileHandle landed in the next opened file');
    if (done.some((n) => n !== 4096)) throw new Error(backend + ': writes gave ' + done);
    if (!fs.readFileSync(a).equals(Buffer.alloc(64 * 4096, 0x41))) throw new Error(backend + ': a does not hold the 64 writes');
  }
  console.log('OK');
})();`);
      assert.ok(r.status === 0 && !r.signal && /^OK$/m.test(r.stdout), describeEnd(r));
    });

    it('7: AIO on a FIFO does not block the event loop (refused with a code, or asynchronous)', async function () {
      skipIfOpen(this, 7);
      const r = await runScript(PRELUDE + `
(async () => {
  const ctx = new kaio.AioContext();
  const fd = fifo();
  let outcome;
  const op = ctx.read(fd, Buffer.alloc(16), 0).then((n) => (outcome = 'read ' + n), (e) => { coded(e, 'aio fifo read'); return (outcome = 'refused'); });
  // A timer runs while the read waits for data nobody has written: the loop
  // is not blocked (if it were, this would never run: the watchdog kills the child).
  await new Promise((r) => setTimeout(r, 0));
  if (outcome !== undefined) throw new Error('the read of an empty FIFO settled first: ' + outcome);
  fs.writeSync(fd, Buffer.alloc(16));
  if (await op !== 'read 16') throw new Error('aio fifo read: ' + outcome);
  await ctx.close();
  console.log('OK');
})();`, { timeoutMs: 5000 });
      assert.ok(r.status === 0 && !r.signal && /^OK$/m.test(r.stdout), describeEnd(r));
    });

    it('8: dropped contexts never exhaust fds: 2,000 rings dropped without close() under ulimit -n 256 (the loop yields every 10)', async function () {
      skipIfOpen(this, 8);
      const script = `const kaio = require(${JSON.stringify(path.join(ROOT, 'dist', 'lib'))});
(async () => { let made = 0;
  try { for (let i = 0; i < 2000; i++) { new kaio.Ring({ entries: 8 }); made++; if (i % 10 === 0) await new Promise((r) => setImmediate(r)); } console.log('OK'); }
  catch (e) { console.log('after ' + made + ' dropped rings: ' + e.code + ' ' + e.message); process.exitCode = 1; } })();`;
      const r = await new Promise<ChildEnd>((resolve) => {
        cp.execFile('bash', ['-c', `ulimit -n 256 && exec "${process.execPath}" -e "$0"`, script], (err, stdout, stderr) => resolve({ status: err ? err.code : 0, signal: err && err.signal, stdout, stderr, timedOut: false }));
      });
      assert.ok(r.status === 0 && !r.signal && /^OK$/m.test(r.stdout), describeEnd(r));
    });

    it('N7: a worker that alone loaded kaio, terminated with an idle context, does not crash the process (SIGSEGV in uv__finish_close)', async function () {
      skipIfOpen(this, 'N7');
      const r = await runScript(`
const { Worker } = require('node:worker_threads');
(async () => {
  for (const backend of ['threadpool', 'aio', 'io_uring']) {
    for (let i = 0; i < 5; i++) {
      const w = new Worker('const k = require(' + JSON.stringify(KAIO) + '); k.createContext({ backend: ' + JSON.stringify(backend) + ' }); require("node:worker_threads").parentPort.postMessage(1);', { eval: true });
      await new Promise((r) => w.once('message', r));
      await w.terminate();
    }
  }
  console.log('OK');
})();`);
      assert.ok(r.status === 0 && !r.signal && /^OK$/m.test(r.stdout), describeEnd(r));
    });
  });
});
