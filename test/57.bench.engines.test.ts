// `kaio bench` engines behind the one engine interface (lib/bench/engines/):
// every engine does the ops fio 3.33 does for the same fixed-size job (fio's
// figures written down here, so fio itself is never needed), and what the
// writes put in the file is checked with node:fs; fio's cpuio and exec
// engines run, burn CPU or run a program, and count no I/O.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { pkgRoot } from './helpers';
import { zeta } from '../dist/lib/bench/random';

const bin = path.join(pkgRoot, 'bin', 'kaio');

type Dir = { total_ios: number; io_bytes: number };
type Job = { jobname: string; read: Dir; write: Dir; usr_cpu: number; sys_cpu: number; job_runtime: number; error: number };
type Doc = { jobs: Job[] };

const kaio = (args: string[], opts: Omit<SpawnSyncOptions, 'encoding'> = {}) =>
  spawnSync(process.execPath, [bin, 'bench', ...args], { encoding: 'utf8', timeout: 60000, ...opts });

function json(args: string[], opts: Omit<SpawnSyncOptions, 'encoding'> = {}): Doc {
  const r = kaio([...args, '--output-format=json'], opts);
  assert.equal(r.status, 0, `kaio bench ${args.join(' ')}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Doc;
}

/** Whether process `pid` exists (kill(pid, 0)). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    assert.equal((e as NodeJS.ErrnoException).code, 'ESRCH');
    return false;
  }
}

describe('57 kaio bench engines: the same ops as fio through the engine interface', function () {
  this.timeout(120000);
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-bench57-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const engines: Array<[string, string[]]> = [
    ['io_uring (batch)', ['--ioengine=io_uring']],
    ['io_uring (promise)', ['--ioengine=io_uring', '--api=promise']],
    ['libaio', ['--ioengine=libaio']],
    ['psync', ['--ioengine=psync']],
    ['sync', ['--ioengine=sync']],
    ['pvsync2', ['--ioengine=pvsync2']],
    ['fs', ['--ioengine=fs']],
    ['fs-sync', ['--ioengine=fs-sync']],
  ];
  for (const [name, flags] of engines) {
    it(`${name}: randread size=1m bs=4k is fio's 256 reads, 1 MiB; write size=256k bs=16k is 16 writes that reach the file`, () => {
      const f = path.join(dir, 'data');
      fs.writeFileSync(f, Buffer.alloc(1 << 20));
      // fio 3.33, same options, psync/libaio/io_uring/pvsync2/sync: read 256 ios, 1048576 bytes; write 16 ios, 262144 bytes.
      const r = json([`--filename=${f}`, '--name=a', ...flags, '--iodepth=4', '--size=1m', '--bs=4k', '--rw=randread']).jobs[0];
      assert.deepEqual([r.read.total_ios, r.read.io_bytes, r.write.total_ios], [256, 1 << 20, 0]);
      const w = json([`--filename=${f}`, '--name=a', ...flags, '--iodepth=4', '--size=256k', '--bs=16k', '--rw=write']).jobs[0];
      assert.deepEqual([w.write.total_ios, w.write.io_bytes, w.read.total_ios], [16, 256 * 1024, 0]);
      // What reached the file: every 16 KiB block of the first 256 KiB was written (the file was zeros), none after.
      const data = fs.readFileSync(f);
      const zero = Buffer.alloc(16384);
      for (let off = 0; off < 256 * 1024; off += 16384) assert.ok(!data.subarray(off, off + 16384).equals(zero), `block at ${off} not written`);
      assert.ok(data.subarray(256 * 1024).equals(Buffer.alloc((1 << 20) - 256 * 1024)), 'written past the job size');
    });
  }

  it('fsync=4 through each queued engine: the writes and their fsyncs are issued, the data is in the file', () => {
    for (const flags of [['--ioengine=io_uring'], ['--ioengine=io_uring', '--api=promise'], ['--ioengine=libaio'], ['--ioengine=pvsync2'], ['--ioengine=fs'], ['--ioengine=psync']]) {
      const f = path.join(dir, `s-${flags.join('')}`);
      fs.writeFileSync(f, Buffer.alloc(64 * 1024));
      const r = kaio([`--filename=${f}`, '--name=a', ...flags, '--iodepth=4', '--size=64k', '--bs=4k', '--rw=write', '--fsync=4']);
      assert.equal(r.status, 0, r.stderr);
      // fio prints the fsync latencies of 64k/4k/4 = 4 fsyncs.
      assert.match(r.stdout, /sync \(usec\): min=|sync \(nsec\): min=|sync \(msec\): min=/, `${flags.join(' ')}: no fsync line`);
      assert.ok(!fs.readFileSync(f).equals(Buffer.alloc(64 * 1024)), `${flags.join(' ')}: nothing written`);
    }
  });
});

describe('57 kaio bench: fio engine cpuio', function () {
  this.timeout(120000);
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-bench57c-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const cpu = (j: Job): number => ((j.usr_cpu + j.sys_cpu) / 100) * j.job_runtime;

  it('burns cpuload percent of the runtime in CPU time (less only when the machine cannot give it), and issues no I/O (no file made)', () => {
    // The chunk is the thread's own CPU time: a low cpuload is met even on a busy machine; a high one as far as the CPU share allows.
    const lo = json(['--name=lo', '--ioengine=cpuio', '--cpuload=2', '--cpuchunks=20000', '--runtime=2'], { cwd: dir }).jobs[0];
    const hi = json(['--name=hi', '--ioengine=cpuio', '--cpuload=60', '--cpuchunks=20000', '--runtime=2'], { cwd: dir }).jobs[0];
    for (const j of [lo, hi]) {
      assert.deepEqual([j.read.total_ios, j.read.io_bytes, j.write.total_ios, j.write.io_bytes, j.error], [0, 0, 0, 0, 0]);
      assert.ok(j.job_runtime >= 1900 && j.job_runtime < 4000, `runtime ${j.job_runtime} ms`);
    }
    // CPU ms (10 ms ticks): 2 % of ~2 s is ~40 ms; 60 % at most ~1200 ms, and far above 2 %'s.
    assert.ok(cpu(lo) >= 20 && cpu(lo) <= 0.02 * lo.job_runtime + 50, `cpuload=2 used ${cpu(lo)} ms of ${lo.job_runtime}`);
    assert.ok(cpu(hi) <= 0.6 * hi.job_runtime + 100, `cpuload=60 used ${cpu(hi)} ms of ${hi.job_runtime}`);
    assert.ok(cpu(hi) > 4 * cpu(lo), `cpuload=60 used ${cpu(hi)} ms, cpuload=2 ${cpu(lo)} ms`);
    assert.deepEqual(fs.readdirSync(dir), [], 'cpuio made a file');
  });

  it("fio's cpuio.fio (runtime cut to 1 s): two noop burners, then after a stonewall two qsort burners, no I/O", () => {
    const file = path.join(dir, 'cpuio.fio');
    fs.writeFileSync(
      file,
      '[global]\nioengine=cpuio\ntime_based\nruntime=1\n\n[burn_2x50_noop]\ncpuload=50\nnumjobs=2\ncpumode=noop\n\n[burn_2x50%_qsort]\nstonewall\ncpuload=50\nnumjobs=2\ncpumode=qsort\n',
    );
    const doc = json([file], { cwd: dir });
    assert.deepEqual(
      doc.jobs.map((j) => j.jobname),
      ['burn_2x50_noop', 'burn_2x50_noop', 'burn_2x50%_qsort', 'burn_2x50%_qsort'],
    );
    for (const j of doc.jobs) {
      assert.deepEqual([j.read.total_ios, j.write.total_ios, j.error], [0, 0, 0]);
      assert.ok(cpu(j) > 0, `${j.jobname} used no CPU`);
    }
    assert.deepEqual(fs.readdirSync(dir), ['cpuio.fio']);
  });

  it('a missing, zero or non-numeric cpuload, a bad cpumode, no runtime, or cpuload on another engine: refused before anything runs (exit 2)', () => {
    const cases: Array<[string[], RegExp]> = [
      [['--ioengine=cpuio', '--runtime=1'], /--cpuload.*is needed/],
      [['--ioengine=cpuio', '--runtime=1', '--cpuload=0'], /--cpuload.*is needed/],
      [['--ioengine=cpuio', '--runtime=1', '--cpuload=abc'], /--cpuload.*integer/],
      [['--ioengine=cpuio', '--runtime=1', '--cpuload=-5'], /--cpuload.*integer/],
      [['--ioengine=cpuio', '--runtime=1', '--cpuload=50', '--cpumode=spin'], /--cpumode.*noop or qsort/],
      [['--ioengine=cpuio', '--cpuload=50'], /--runtime.*is needed with --ioengine=cpuio/],
      [['--ioengine=psync', '--cpuload=50', '--size=4k'], /--cpuload.*cpuio only/],
    ];
    for (const [args, re] of cases) {
      const r = kaio(['--name=c', ...args], { cwd: dir });
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re, args.join(' '));
    }
    assert.deepEqual(fs.readdirSync(dir), []);
  });
});

describe('57 kaio bench: fio engine exec', function () {
  this.timeout(120000);
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-bench57e-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** A shell script recording its arguments and pid; on SIGTERM it notes it, and exits unless `stubborn`. */
  function script(stubborn: boolean): string {
    const s = path.join(dir, 'prog.sh');
    fs.writeFileSync(
      s,
      [
        'out="$1"',
        'echo "$@" > "$out/args"',
        'echo to-stdout',
        'echo to-stderr >&2',
        stubborn ? `trap 'echo TERM >> "$out/term"' TERM` : `trap 'echo TERM >> "$out/term"; exit 0' TERM`,
        'echo $$ > "$out/pid"',
        'while :; do sleep 0.05; done',
        '',
      ].join('\n'),
    );
    return s;
  }

  it('runs the program for the runtime with %r and %n expanded, its output in NAME.stdout/.stderr, then SIGTERM ends it', () => {
    const s = script(false);
    const t0 = Date.now();
    const doc = json(['--name=mon', '--ioengine=exec', '--program=/bin/sh', `--arguments=${s} ${dir} %r %n`, '--runtime=2'], { cwd: dir });
    const took = Date.now() - t0;
    const j = doc.jobs[0];
    assert.deepEqual([j.read.total_ios, j.write.total_ios, j.error], [0, 0, 0]);
    assert.ok(took >= 2000, `kaio ended after ${took} ms, before the runtime`);
    assert.equal(fs.readFileSync(path.join(dir, 'args'), 'utf8'), `${dir} 2 mon\n`);
    assert.equal(fs.readFileSync(path.join(dir, 'mon.stdout'), 'utf8'), 'to-stdout\n');
    assert.equal(fs.readFileSync(path.join(dir, 'mon.stderr'), 'utf8'), 'to-stderr\n');
    assert.equal(fs.readFileSync(path.join(dir, 'term'), 'utf8'), 'TERM\n');
    assert.equal(alive(Number(fs.readFileSync(path.join(dir, 'pid'), 'utf8'))), false, 'the program still runs');
  });

  it('a program that ignores SIGTERM is killed (SIGKILL) grace_time seconds later; std_redirect=0 leaves no files', () => {
    const s = script(true);
    const t0 = Date.now();
    const r = kaio(['--name=stub', '--ioengine=exec', '--program=/bin/sh', `--arguments=${s} ${dir}`, '--runtime=1', '--grace_time=2', '--std_redirect=0', '--output-format=json'], {
      cwd: dir,
    });
    const took = Date.now() - t0;
    assert.equal(r.status, 0, r.stderr);
    assert.ok(took >= 3000, `kaio ended after ${took} ms: no grace time before SIGKILL`);
    assert.equal(fs.readFileSync(path.join(dir, 'term'), 'utf8'), 'TERM\n');
    assert.equal(alive(Number(fs.readFileSync(path.join(dir, 'pid'), 'utf8'))), false, 'the program survived SIGKILL');
    assert.ok(!fs.existsSync(path.join(dir, 'stub.stdout')) && !fs.existsSync(path.join(dir, 'stub.stderr')));
    // Its output went to kaio's own stdout and stderr instead.
    assert.match(r.stdout, /^to-stdout$/m);
    assert.match(r.stderr, /^to-stderr$/m);
  });

  it('a program that cannot be started is the job error (exit 1, ENOENT/EACCES named); no program, or program on another engine: refused (exit 2)', () => {
    const r = kaio(['--name=e', '--ioengine=exec', `--program=${path.join(dir, 'missing')}`, '--runtime=1'], { cwd: dir });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /exec: cannot run .*missing: ENOENT/);
    const noexec = path.join(dir, 'noexec');
    fs.writeFileSync(noexec, 'not a program', { mode: 0o644 });
    const r2 = kaio(['--name=e', '--ioengine=exec', `--program=${noexec}`, '--runtime=1'], { cwd: dir });
    assert.equal(r2.status, 1, r2.stderr);
    assert.match(r2.stderr, /exec: cannot run .*noexec: EACCES/);
    for (const [args, re] of [
      [['--ioengine=exec', '--runtime=1'], /--program.*is needed/],
      [['--ioengine=exec', '--program=/bin/true'], /--runtime.*is needed with --ioengine=exec/],
      [['--ioengine=psync', '--program=/bin/true', '--size=4k'], /--program.*exec only/],
      [['--ioengine=exec', '--program=/bin/true', '--runtime=1', '--grace_time=-1'], /--grace_time.*integer/],
    ] as Array<[string[], RegExp]>) {
      const b = kaio(['--name=e', ...args], { cwd: dir });
      assert.equal(b.status, 2, `${args.join(' ')}: ${b.stderr}`);
      assert.match(b.stderr, re);
    }
  });
});

describe('57 kaio bench: zipf set-up (random_distribution=zipf:θ)', () => {
  it("zeta(n, θ), the sum over n blocks that Gray's zipf generator needs, equals the direct sum (1e-12) without n powers", () => {
    for (const theta of [0.1, 0.5, 0.99, 1.2, 2]) {
      for (const n of [1, 10, 1024, 1025, 8192, 327680, 3_000_000]) {
        let direct = 0;
        for (let i = 1; i <= n; i++) direct += 1 / i ** theta;
        const z = zeta(n, theta);
        assert.ok(Math.abs(z - direct) / direct < 1e-12, `zeta(${n}, ${theta}) = ${z}, direct sum ${direct}`);
      }
    }
  });
});
