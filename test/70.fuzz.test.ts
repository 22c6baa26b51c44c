// The fuzzer (test/fuzz/engine.js) over every public method, short run:
// fixed seed, 200 runs, in a child process so a crash or hang is a failure of
// this test and not of mocha. Longer runs: `npm run fuzz -- --runs=N --seed=S`
// (test/fuzz/run.js). Also: one reproducer per known finding (test/fuzz/repros.js),
// skipped while the finding is listed in test/fuzz/known.js KNOWN_OPEN.
// And filesystem faults (test/fuzz/faults.js): random writes through every
// write path into a full tmpfs and under RLIMIT_FSIZE, step by step against
// node:fs/promises on a twin file; short runs here
// (`npm run fuzz -- --faults=enospc|fsize --runs=N` for longer ones).
import assert from 'node:assert';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import cp from 'node:child_process';
import { pkgRoot, skip } from './helpers';

/** How a child node process ended (test/fuzz/child-run.js). */
interface ChildEnd {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut?: boolean;
}

// The fuzzer stays plain JS (it runs as a child process); these are the parts
// of it this file uses. The paths hold from test/ (for tsc) and from
// dist-test/ (at run time).
/* eslint-disable @typescript-eslint/no-require-imports */
const childRun: {
  runScript(source: string, opts?: { timeoutMs?: number; env?: Record<string, string>; args?: string[] }): Promise<ChildEnd>;
  describeEnd(r: ChildEnd): string;
} = require('../test/fuzz/child-run');
const repros: { PRELUDE: string; REPROS: { id: number | string; title: string; script: string }[] } = require('../test/fuzz/repros');
const known: {
  skipIfOpen(ctx: Mocha.Context, id: number | string): void;
  FINDINGS: Record<string, string>;
} = require('../test/fuzz/known');
/* eslint-enable @typescript-eslint/no-require-imports */
const { runScript, describeEnd } = childRun;
const { PRELUDE, REPROS } = repros;
const { skipIfOpen, FINDINGS } = known;

/** The fuzzer child's last stdout line. */
interface FuzzResult {
  failed?: boolean;
  numRuns?: number;
  error?: string;
  unexpected?: string[];
  path?: string;
}

const SEED = 20261128;
const RUNS = 200;

describe('70 fuzz: every public method, hostile values, re-entrancy, a byte model', function () {
  this.timeout(120000);

  it(`seed ${SEED}, ${RUNS} runs: no crash, no hang, coded errors, every op settles once, the file equals the model`, async function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-fuzz-log-'));
    const log = path.join(dir, 'steps.log');
    try {
      const r = await new Promise<ChildEnd>((resolve) => {
        const child = cp.spawn(process.execPath, [path.join(pkgRoot, 'test', 'fuzz', 'child.js'), String(SEED), String(RUNS), log], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        const timer = setTimeout(() => child.kill('SIGKILL'), 100000);
        child.on('close', (status, signal) => { clearTimeout(timer); resolve({ status, signal, stdout, stderr }); });
      });
      const last = r.stdout.trim().split('\n').pop() || '{}';
      let result: FuzzResult = {};
      try { result = JSON.parse(last) as FuzzResult; } catch { /* crashed before printing */ }
      const steps = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').trim().split('\n') : [];
      const lastRun = steps.slice(steps.map((l) => l.startsWith('--- run')).lastIndexOf(true));
      assert.ok(
        r.status === 0 && !r.signal && result.failed === false && result.numRuns === RUNS,
        `fuzzer ${r.signal ? `crashed (${r.signal})` : `exit ${r.status}`}: ${result.error || ''}\n` +
          `${(result.unexpected || []).join('\n')}\nstderr: ${r.stderr.slice(-2000)}\n` +
          `steps of the last run (replay: KAIO_FUZZ_PATH=<path> node test/fuzz/child.js ${SEED} ${RUNS}; path ${result.path}):\n  ${lastRun.slice(-30).join('\n  ')}`,
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('filesystem faults: every write path against node:fs/promises on a twin file', function () {
    const FAULT_SEED = 7;
    const FAULT_RUNS = 30;
    const FSIZE = 200_000;
    for (const mode of ['enospc', 'fsize'] as const) {
      const what = mode === 'enospc' ? 'two 256 KiB tmpfs mounts (ENOSPC)' : `a child under RLIMIT_FSIZE ${FSIZE} (EFBIG)`;
      it(`${mode}: seed ${FAULT_SEED}, ${FAULT_RUNS} runs on ${what}: every step agrees (count or error code), the files equal`, async function () {
        const script = path.join(pkgRoot, 'test', 'fuzz', 'faults.js');
        const [cmd, args] = mode === 'fsize' ? ['prlimit', [`--fsize=${FSIZE}`, process.execPath, script]] : [process.execPath, [script]];
        const r = await new Promise<ChildEnd>((resolve) => {
          const child = cp.spawn(cmd, [...args, mode, String(FAULT_SEED), String(FAULT_RUNS)], { stdio: ['ignore', 'pipe', 'pipe'] });
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (d) => (stdout += d));
          child.stderr.on('data', (d) => (stderr += d));
          const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
          child.on('close', (status, signal) => { clearTimeout(timer); resolve({ status, signal, stdout, stderr }); });
          child.on('error', (e) => { clearTimeout(timer); resolve({ status: null, signal: null, stdout, stderr: e.message }); });
        });
        let result: FuzzResult & { skipped?: string; steps?: string[] } = {};
        try { result = JSON.parse(r.stdout.trim().split('\n').pop() || '{}'); } catch { /* crashed before printing */ }
        if (result.skipped) skip(this, result.skipped);
        assert.ok(
          r.status === 0 && !r.signal && result.failed === false && result.numRuns === FAULT_RUNS,
          `fault fuzzer ${r.signal ? `killed by ${r.signal}` : `exit ${r.status}`}: ${result.error || ''}\n` +
            `stderr: ${r.stderr.slice(-1500)}\nlast steps (replay: ${mode === 'fsize' ? `prlimit --fsize=${FSIZE} ` : ''}node test/fuzz/faults.js ${mode} ${FAULT_SEED} ${FAULT_RUNS}):\n  ${(result.steps || []).join('\n  ')}`,
        );
      });
    }
  });

  describe('reproducers of known findings (skipped while open, see test/fuzz/known.js)', function () {
    for (const repro of REPROS) {
      it(`${repro.id}: ${repro.title}`, async function () {
        skipIfOpen(this, repro.id);
        const r = await runScript(PRELUDE + repro.script, { timeoutMs: 20000 });
        assert.ok(r.status === 0 && !r.signal && /^OK$/m.test(r.stdout), `finding ${repro.id} (${FINDINGS[repro.id]}): ${describeEnd(r)}`);
      });
    }
  });
});
