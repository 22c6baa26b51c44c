// `kaio bench`'s pacing and job control, as fio's: rate/rate_iops (the
// achieved rate against the limit, with fio running the same job
// alongside), io_submit_mode=offload, rate_process=poisson, thinktime,
// ratemin failing the job, wait_for ordering jobs, exitall/exit_what
// stopping siblings, flow keeping its ratio, steady state stopping a job
// early and reporting, latency_target's depth search, random_generator=lfsr.
// Every figure is what the jobs did, from the JSON each tool wrote.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FullCyclePicker } from '../dist/lib/bench/lfsr';
import { directSupported } from './helpers';
import { fioAside, haveFio, kaioAside, parse, type Ran as RanAside } from './bench-cli';

type Dir = { total_ios: number; io_bytes: number; bw_bytes: number; iops: number };
type Job = {
  jobname: string;
  groupid: number;
  job_start: number;
  error: number;
  job_runtime: number;
  read: Dir;
  write: Dir;
  latency_depth: number;
  latency_target: number;
  latency_window: number;
  latency_percentile: number;
  steadystate?: {
    ss: string;
    duration: number;
    attained: number;
    criterion: string;
    max_deviation: number;
    slope: number;
    data: { bw_mean: number; iops_mean: number; iops: number[]; bw: number[] };
  };
};
type Doc = { jobs: Job[] };

type Ran = RanAside<Doc>;
const kaio = (args: string[]): Promise<Ran> => kaioAside<Doc>(args);
const fio = (args: string[]): Promise<Ran> => fioAside<Doc>(args);

let dir: string;
let file: string;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-pace-'));
  file = path.join(dir, 'data');
  fs.writeFileSync(file, Buffer.alloc(8 << 20, 7));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

function jobFile(name: string, text: string): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, text.replace(/FILE/g, file));
  return p;
}

function job(r: Ran, name: string): Job {
  assert.ok(r.doc, `no JSON: status ${r.status}, stderr: ${r.stderr}`);
  const j = r.doc.jobs.find((x) => x.jobname === name);
  assert.ok(j, `no job ${name} in ${r.doc.jobs.map((x) => x.jobname).join(', ')}`);
  return j;
}

const within = (got: number, want: number, pct: number, what: string): void =>
  assert.ok(Math.abs(got - want) <= (want * pct) / 100, `${what}: ${got} is not within ${pct}% of ${want}`);

describe('59 kaio bench: pacing and job control', function () {
  this.timeout(60000);

  describe("fio's option values", () => {
    it('rate and rate_iops per direction, with units; the pacing times in their units', () => {
      const [a] = parse(['--name=a', '--filename=f', '--rate=1m', '--rate_iops_min=5', '--thinktime=2000', '--thinktime_spin=1ms', '--thinktime_iotime=2', '--latency_target=500ms', '--latency_window=5s']).jobs;
      assert.deepEqual(a.pace.rate, [1 << 20, 1 << 20, 1 << 20]);
      assert.deepEqual(a.pace.rateIopsMin, [5, 5, 5]);
      assert.equal(a.pace.thinktime, 2000);
      assert.equal(a.pace.thinktimeSpin, 1000);
      assert.equal(a.pace.thinktimeIotime, 2e6, 'thinktime_iotime: seconds by default');
      assert.equal(a.pace.latencyTarget, 500e6, 'latency_target in ns');
      assert.equal(a.pace.latencyWindow, 5e6, 'latency_window in µs');
      const [c] = parse(['--name=c', '--filename=f', '--rate=,500k', '--ratemin=,1k', '--rate_process=poisson', '--io_submit_mode=offload']).jobs;
      assert.deepEqual(c.pace.rate, [0, 500 * 1024, 0], 'rate=,500k: writes only');
      assert.deepEqual(c.pace.rateMin, [0, 1024, 0]);
      assert.equal(c.pace.rateProcess, 'poisson');
      assert.equal(c.pace.submitMode, 'offload');
      const [d] = parse(['--name=d', '--filename=f', '--rate_iops=100,200']).jobs;
      assert.deepEqual(d.pace.rateIops, [100, 200, 0]);
    });

    it('steadystate, exit_what, wait_for, flow and threads as fio reads them', () => {
      const p = parse(['x.fio'], {
        'x.fio': '[global]\nthreads=1\nfilename=f\nsize=1m\n[a]\nss=bw_slope:0.5%\nss_dur=10s\nss_ramp=5\nexitall\nexit_what=stonewall\nflow=3\nflow_sleep=100\n[b]\nwait_for=a\nsteadystate=iops:200\nss_dur=4\nss_interval=2\n',
      });
      const [a, b] = p.jobs;
      assert.deepEqual(a.steadystate, { criterion: 'bw_slope', limit: 0.5, pct: true, dur: 10, ramp: 5, interval: 1 });
      assert.deepEqual(b.steadystate, { criterion: 'iops', limit: 200, pct: false, dur: 4, ramp: 0, interval: 2 });
      assert.equal(a.control.exitall, true);
      assert.equal(a.control.exitWhat, 'stonewall');
      assert.equal(b.control.waitFor, 'a');
      assert.equal(a.pace.flow, 3);
      assert.equal(a.pace.flowSleep, 100);
    });

    it('bad values are refused with a Node-style error naming the option', () => {
      const bad: Array<[string[], RegExp]> = [
        [['--rate=fast'], /--rate.*must be a rate/],
        [['--rate=1m', '--rate_iops=10'], /mutually exclusive/],
        [['--rate=1m', '--ratemin=2m'], /exceeds --rate/],
        [['--rate_process=burst'], /linear or poisson/],
        [['--io_submit_mode=threads'], /inline or offload/],
        [['--exit_what=some'], /group, stonewall or all/],
        [['--thinktime=soon'], /--thinktime.*must be a time/],
        [['--thinktime=100', '--thinktime_spin=200'], /thinktime_spin/],
        [['--latency_percentile=101'], /percentage from 0 to 100/],
        [['--ss=iops'], /needs a limit/],
        [['--ss=lat:5%'], /latency criterion.*not supported/],
        [['--ss=iops:5%', '--ss_dur=3', '--ss_interval=2'], /multiple of --ss_interval/],
        [['--random_generator=mt'], /tausworthe, lfsr or tausworthe64/],
      ];
      for (const [args, re] of bad) {
        assert.throws(
          () => parse(['--name=a', '--filename=f', ...args]),
          (e: NodeJS.ErrnoException) => e.code === 'ERR_INVALID_ARG_VALUE' && re.test(e.message),
          args.join(' '),
        );
      }
    });

    it("wait_for: a job defined before, not itself, one of that name (fio's refusals)", () => {
      const t = (text: string, re: RegExp): void =>
        assert.throws(() => parse(['w.fio'], { 'w.fio': `[global]\nfilename=f\nsize=1m\n${text}` }), (e: NodeJS.ErrnoException) => e.code === 'ERR_INVALID_ARG_VALUE' && re.test(e.message));
      t('[a]\n[b]\nwait_for=nope\n', /b: waitee job nope unknown/);
      t('[a]\nwait_for=a\n', /a: a job cannot wait for itself/);
      t('[b]\nwait_for=a\n[a]\n', /b: waitee job a unknown/);
      t('[a]\n[a]\n[b]\nwait_for=a\n', /multiple waitees a/);
    });

    it('the command line refuses an unknown waitee in one line, exit 1 (fio exits 1 too)', async () => {
      const r = await kaio(['--name=a', `--filename=${file}`, '--size=1m', '--name=b', '--wait_for=nope', `--filename=${file}`, '--size=1m']);
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /waitee job nope unknown/);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
      if (haveFio) {
        const f = await fio(['--name=a', `--filename=${file}`, '--size=1m', '--name=b', '--wait_for=nope', `--filename=${file}`, '--size=1m']);
        assert.equal(f.status, 1);
        assert.match(f.stderr, /waitee job nope unknown/);
      }
    });
  });

  describe('rate', () => {
    it('rate=2m: the achieved bandwidth is the limit, as with fio running the same job alongside', async function () {
      const args = ['--name=r', `--filename=${file}`, '--rw=read', '--bs=4k', '--rate=2m', '--runtime=3', '--time_based', '--ioengine=psync'];
      const [k, f] = await Promise.all([kaio(args), haveFio ? fio(args) : Promise.resolve(undefined)]);
      const kj = job(k, 'r');
      assert.equal(k.status, 0, k.stderr);
      within(kj.read.bw_bytes, 2 << 20, 3, 'kaio bw_bytes');
      if (!f) this.skip();
      within(job(f, 'r').read.bw_bytes, 2 << 20, 3, 'fio bw_bytes');
    });

    it('rate_iops=400 at iodepth 8 (libaio, inline): the IOPS are the limit, as fio', async () => {
      const args = ['--name=i', `--filename=${file}`, '--rw=randread', '--bs=4k', '--rate_iops=400', '--iodepth=8', '--ioengine=libaio', '--runtime=2', '--time_based'];
      const [k, f] = await Promise.all([kaio(args), haveFio ? fio(args) : Promise.resolve(undefined)]);
      within(job(k, 'i').read.iops, 400, 3, 'kaio iops');
      if (f) within(job(f, 'i').read.iops, 400, 3, 'fio iops');
    });

    // fio 3.33 here does no I/O at all with io_submit_mode=offload (it waits
    // until killed), so these two are checked against the limit alone.
    it('io_submit_mode=offload (fio example fixed-rate-submission): the rate holds', async () => {
      const r = await kaio(['--name=o', `--filename=${file}`, '--rw=read', '--bs=4k', '--rate_iops=400', '--io_submit_mode=offload', '--iodepth=32', '--ioengine=libaio', '--runtime=2', '--time_based']);
      assert.equal(r.status, 0, r.stderr);
      within(job(r, 'o').read.iops, 400, 3, 'kaio iops');
    });

    it('rate_process=poisson (fio example poisson-rate-submission): the mean rate holds', async () => {
      const r = await kaio(['--name=p', `--filename=${file}`, '--rw=randread', '--bs=4k', '--rate_iops=300', '--rate_process=poisson', '--io_submit_mode=offload', '--iodepth=32', '--ioengine=libaio', '--runtime=2', '--time_based']);
      assert.equal(r.status, 0, r.stderr);
      // 600 exponential gaps: the count's own spread is about 4%
      within(job(r, 'p').read.iops, 300, 15, 'kaio iops');
    });

    it('ratemin not met: the job fails with EIO and fio\'s message, after the 2 s settle', async () => {
      const args = ['--name=m', `--filename=${file}`, '--rw=read', '--ratemin=100g', '--runtime=6', '--time_based', '--ioengine=psync'];
      const [k, f] = await Promise.all([kaio(args), haveFio ? fio(args) : Promise.resolve(undefined)]);
      assert.equal(k.status, 1);
      assert.match(k.stderr, /m: rate_min=107374182400B\/s not met, got \d+B\/s/);
      const kj = job(k, 'm');
      assert.equal(kj.error, 5);
      assert.ok(kj.job_runtime >= 2000 && kj.job_runtime < 4500, `failed after ${kj.job_runtime} ms`);
      if (f) {
        assert.equal(f.status, 1);
        assert.match(f.stderr, /m: rate_min=107374182400B\/s not met, got \d+B\/s/);
        assert.equal(job(f, 'm').error, 5);
      }
    });
  });

  it('thinktime lowers the IOPS as fio does (2 ms after each op, or after every 4)', async () => {
    // the null engine: no disk, so the think alone sets the pace
    const base = ['--ioengine=null', '--size=1g', '--rw=randread', '--bs=4k', '--runtime=1', '--time_based', '--thinktime=2ms'];
    const one = ['--name=t1', ...base];
    const four = ['--name=t4', ...base, '--thinktime_blocks=4'];
    const [k1, k4, f1] = await Promise.all([kaio(one), kaio(four), haveFio ? fio(one) : Promise.resolve(undefined)]);
    const i1 = job(k1, 't1').read.iops;
    const i4 = job(k4, 't4').read.iops;
    // at most one op per 2 ms think, or four; a sleep is never shorter than asked, often a little longer
    assert.ok(i1 <= 500 && i1 > 150, `thinktime=2ms: ${i1} IOPS`);
    assert.ok(i4 <= 2000 && i4 > 2 * i1, `thinktime_blocks=4: ${i4} IOPS against ${i1}`);
    // fio under the same bound (the two differ by how late each one's sleeps wake on a busy machine)
    if (f1) assert.ok(job(f1, 't1').read.iops <= 500, 'fio: at most one op per think');
  });

  it('wait_for: the waiting job starts when its waitee has ended (job_start in the JSON)', async () => {
    // first runs for about 800 ms (40 thinks of 20 ms): third, set free with it, starts well inside
    // that even when a loaded machine is slow to schedule its thread.
    const jf = jobFile('wait.fio', '[global]\nfilename=FILE\nbs=4k\nioengine=psync\n[first]\nrw=read\nnumber_ios=40\nthinktime=20ms\n[second]\nwait_for=first\nrw=read\nnumber_ios=10\n[third]\nrw=read\nnumber_ios=10\n');
    const r = await kaio([jf]);
    assert.equal(r.status, 0, r.stderr);
    const [a, b, c] = ['first', 'second', 'third'].map((n) => job(r, n));
    assert.ok(b.job_start >= a.job_start + a.job_runtime, `second started at +${b.job_start - a.job_start} ms, first ran ${a.job_runtime} ms`);
    assert.ok(c.job_start < a.job_start + a.job_runtime / 2, 'third (no wait_for) runs alongside first');
  });

  describe('exitall', () => {
    it("exit_what=group: a job's end stops its group's siblings; exit_what=all stops the next group too (reported with nothing done)", async () => {
      const jf = jobFile(
        'exit.fio',
        '[global]\nfilename=FILE\nbs=4k\nioengine=psync\nexitall\n[slow]\nrw=read\nnumber_ios=5\nthinktime=20ms\nexit_what=all\n[fast]\nrw=randread\ntime_based\nruntime=30\n[next]\nstonewall\nrw=read\ntime_based\nruntime=30\n',
      );
      const [k, f] = await Promise.all([kaio([jf]), haveFio ? fio([jf]) : Promise.resolve(undefined)]);
      assert.equal(k.status, 0, k.stderr);
      const [slow, fast, next] = ['slow', 'fast', 'next'].map((n) => job(k, n));
      assert.equal(slow.read.total_ios, 5);
      assert.ok(fast.job_runtime < slow.job_runtime + 500, `fast ran ${fast.job_runtime} ms, slow ${slow.job_runtime} ms`);
      assert.equal(next.read.total_ios, 0, 'the next group is stopped before it does anything');
      if (f) {
        assert.equal(job(f, 'next').read.total_ios, 0);
        assert.ok(job(f, 'fast').job_runtime < 5000);
      }
    });

    it('exit_what=stonewall stops the running jobs; the next stonewall group still runs', async () => {
      const jf = jobFile(
        'exit2.fio',
        '[global]\nfilename=FILE\nbs=4k\nioengine=psync\n[slow]\nexitall\nrw=read\nnumber_ios=5\nthinktime=20ms\nexit_what=stonewall\nnew_group\n[fast]\nnew_group\nrw=randread\ntime_based\nruntime=30\n[next]\nstonewall\nrw=read\nnumber_ios=20\n',
      );
      const r = await kaio([jf]);
      assert.equal(r.status, 0, r.stderr);
      const [slow, fast, next] = ['slow', 'fast', 'next'].map((n) => job(r, n));
      assert.notEqual(slow.groupid, fast.groupid, 'another reporting group: exit_what=group would not stop it');
      assert.ok(fast.job_runtime < slow.job_runtime + 500, `fast ran ${fast.job_runtime} ms`);
      assert.equal(next.read.total_ios, 20);
    });
  });

  it('flow: two jobs of weights 1 and 4 share their ops 1:4, as with fio', async function () {
    // O_DIRECT reads: each op reaches the disk, so the few ops one job does
    // alone after the other has ended (fio's jobs too) stay few
    if (!directSupported(dir)) this.skip();
    const jf = jobFile('flow.fio', '[global]\nfilename=FILE\ndirect=1\nioengine=psync\nrw=randread\nbs=4k\nruntime=1\ntime_based\nflow_sleep=100\n[w1]\nflow=1\n[w4]\nflow=4\n');
    const k = await kaio([jf]);
    assert.equal(k.status, 0, k.stderr);
    // the job that ends last runs alone (unheld) for the moments between the two ends, in fio too
    within(job(k, 'w4').read.total_ios / job(k, 'w1').read.total_ios, 4, 25, 'kaio w4/w1');
    if (haveFio) {
      const f = await fio([jf]);
      within(job(f, 'w4').read.total_ios / job(f, 'w1').read.total_ios, 4, 25, 'fio w4/w1');
    }
  });

  it('steadystate: a steady job stops once the criterion holds over ss_dur, and reports as fio does', async () => {
    const args = ['--name=s', '--ioengine=null', '--size=1g', '--rw=read', '--rate_iops=2000', '--time_based', '--runtime=30', '--ss=iops:20%', '--ss_dur=2', '--ss_ramp=1'];
    const [k, f] = await Promise.all([kaio(args), haveFio ? fio(args) : Promise.resolve(undefined)]);
    assert.equal(k.status, 0, k.stderr);
    const s = job(k, 's');
    assert.ok(s.job_runtime < 8000, `stopped after ${s.job_runtime} ms of 30 s`);
    assert.ok(s.steadystate, 'steadystate section');
    assert.equal(s.steadystate.ss, 'iops:20.000000%');
    assert.equal(s.steadystate.duration, 2);
    assert.equal(s.steadystate.attained, 1);
    assert.equal(s.steadystate.data.iops.length, 2);
    for (const v of s.steadystate.data.iops) within(v, 2000, 10, 'an interval\'s IOPS');
    assert.match(s.steadystate.criterion, /^\d+\.\d{6}%$/);
    if (f) {
      const fs_ = job(f, 's').steadystate!;
      assert.equal(fs_.ss, s.steadystate.ss);
      assert.equal(fs_.attained, 1);
      assert.deepEqual(Object.keys(fs_).sort(), Object.keys(s.steadystate).sort());
      assert.deepEqual(Object.keys(fs_.data).sort(), Object.keys(s.steadystate.data).sort());
    }
  });

  describe('latency_target', () => {
    it('settles on the deepest queue that meets the target, ends after its final window, and reports it', async () => {
      const args = ['--name=l', `--filename=${file}`, '--rw=randread', '--bs=4k', '--ioengine=io_uring', '--iodepth=16', '--latency_target=1s', '--latency_window=100ms', '--runtime=20', '--time_based'];
      const r = await kaio(args);
      assert.equal(r.status, 0, r.stderr);
      const l = job(r, 'l');
      assert.equal(l.latency_depth, 16, 'every depth meets 1 s');
      assert.equal(l.latency_target, 1e9);
      assert.equal(l.latency_window, 100000);
      assert.equal(l.latency_percentile, 100);
      assert.ok(l.job_runtime < 5000, `the profile ends once settled (${l.job_runtime} ms)`);
    });

    it('a target missed at depth 1 fails the job with ETIMEDOUT, as fio', async () => {
      const args = ['--name=l1', `--filename=${file}`, '--rw=randread', '--bs=4k', '--ioengine=psync', '--latency_target=1', '--runtime=5', '--time_based'];
      const [k, f] = await Promise.all([kaio(args), haveFio ? fio(args) : Promise.resolve(undefined)]);
      assert.equal(k.status, 1);
      assert.equal(job(k, 'l1').error, 110);
      assert.match(k.stderr, /latency of \d+ nsec exceeds specified max \(1000 nsec\)/);
      if (f) assert.equal(job(f, 'l1').error, 110);
    });
  });

  it('random_generator=lfsr: every block exactly once per pass, without a map', () => {
    for (const n of [1, 2, 3, 7, 1000, 4097, 65536]) {
      const p = new FullCyclePicker(n, 12345);
      const seen = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        const b = p.next();
        assert.ok(b >= 0 && b < n);
        assert.equal(seen[b], 0, `block ${b} twice in one pass of ${n}`);
        seen[b] = 1;
      }
      // the next pass covers them all again
      const again = new Uint8Array(n);
      for (let i = 0; i < n; i++) again[p.next()] = 1;
      assert.equal(again.reduce((a, v) => a + v, 0), n);
    }
    const [j] = parse(['--name=a', '--filename=f', '--random_generator=lfsr']).jobs;
    assert.equal(j.randomGenerator, 'lfsr');
  });
});
