// `kaio bench` latencies with fio's definitions, checked against what is
// known from outside the timestamps: a FIFO fed one block every D ms (each
// read waits for its data, so clat is at least D), and a closed loop at
// queue depth q (Little's law: q ops are always in the system, so
// lat x IOPS is about q; one op at a time is being submitted, so
// slat x IOPS is at most about 1, and clat holds the rest).
//   slat: from the op's preparation until the io_uring_enter / io_submit that took it returned;
//   clat: from then until the job reaped its completion;
//   lat:  from the preparation until the reap (slat + clat).
// Figures an engine cannot measure are absent, as in fio.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { pkgRoot } from './helpers';

const bin = path.join(pkgRoot, 'bin', 'kaio');

type Lat = { min: number; max: number; mean: number; stddev: number; N: number; percentile?: Record<string, number> };
type Dir = { total_ios: number; iops: number; runtime: number; slat_ns: Lat; clat_ns: Lat; lat_ns: Lat };
type Job = {
  error: number;
  read: Dir;
  iodepth_submit: Record<string, number>;
  iodepth_complete: Record<string, number>;
  kaio: { error_message?: string };
};

function bench(args: string[]): { job: Job; text?: string } {
  const r = spawnSync(process.execPath, [bin, 'bench', '--name=lat', ...args], { encoding: 'utf8', timeout: 60000 });
  assert.equal(r.status, 0, `kaio bench ${args.join(' ')}: status ${r.status}\n${r.stderr}`);
  if (!args.includes('--output-format=json')) return { job: undefined as unknown as Job, text: r.stdout };
  const job = (JSON.parse(r.stdout) as { jobs: Job[] }).jobs[0];
  assert.equal(job.error, 0, job.kaio.error_message);
  return { job };
}

const p50 = (l: Lat): number => l.percentile!['50.000000'];
const ABSENT = { min: 0, max: 0, mean: 0, stddev: 0, N: 0 };

/** Writes `n` blocks of 4 KiB into the FIFO, one every `ms` milliseconds (each sleep at least `ms`). */
function feeder(fifo: string, n: number, ms: number): ChildProcess {
  const code =
    'const fs=require("fs");const [f,n,ms]=process.argv.slice(1);const fd=fs.openSync(f,"w");' +
    'const b=Buffer.alloc(4096,7);const s=new Int32Array(new SharedArrayBuffer(4));' +
    'for(let i=0;i<Number(n);i++){Atomics.wait(s,0,0,Number(ms));fs.writeSync(fd,b);}fs.closeSync(fd);';
  return spawn(process.execPath, ['-e', code, fifo, String(n), String(ms)], { stdio: 'ignore' });
}

describe('55 kaio bench latencies: true slat/clat/lat (fio definitions)', function () {
  this.timeout(120000);
  let dir: string;
  let data: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-bench55-'));
    data = path.join(dir, 'data');
    // 16 MiB, read once so that the page-cache jobs below never wait for the disk.
    fs.writeFileSync(data, Buffer.alloc(16 << 20, 1));
    fs.readFileSync(data);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const D = 5; // ms between two blocks of the FIFO
  const N = 40; // blocks
  for (const engine of ['io_uring', 'libaio']) {
    for (const q of [1, 8]) {
      it(`${engine}, QD ${q}, a FIFO fed every ${D} ms: clat >= ${D} ms (${q > 1 ? `mean ~${q} x ${D} ms by Little's law` : 'each read waits for its block'}), slat small and present, lat = slat + clat`, async () => {
        const fifo = path.join(dir, `fifo-${engine}-${q}`);
        const mk = spawnSync('mkfifo', [fifo]);
        assert.equal(mk.status, 0, `mkfifo: ${mk.stderr}`);
        const child = feeder(fifo, N, D);
        const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
        let job: Job;
        try {
          ({ job } = bench([`--filename=${fifo}`, '--rw=read', '--bs=4k', `--size=${N * 4}k`, `--iodepth=${q}`, `--ioengine=${engine}`, '--output-format=json']));
        } finally {
          child.kill();
        }
        assert.equal(await exited, 0);
        const r = job.read;
        assert.equal(r.total_ios, N);
        assert.equal(r.clat_ns.N, N);
        assert.equal(r.lat_ns.N, N);
        assert.equal(r.slat_ns.N, N, `${engine} measures slat: every op has one`);
        const ms = 1e6;
        assert.ok(p50(r.clat_ns) >= 0.9 * D * ms, `clat p50 ${p50(r.clat_ns) / ms} ms < ${D} ms`);
        if (q > 1) assert.ok(r.clat_ns.mean >= 0.6 * q * D * ms, `clat mean ${r.clat_ns.mean / ms} ms, Little's law wants ~${q * D} ms`);
        assert.ok(r.slat_ns.mean < D * ms * 0.2, `slat mean ${r.slat_ns.mean / ms} ms is not small`);
        assert.ok(Math.abs(r.lat_ns.mean - (r.slat_ns.mean + r.clat_ns.mean)) <= 1000 + r.lat_ns.mean * 0.001, 'lat = slat + clat');
      });
    }
  }

  for (const engine of ['io_uring', 'libaio']) {
    it(`${engine}, QD 8, a closed loop (page cache, 128 KiB): lat x IOPS ~ 8, slat x IOPS <= ~1 (one op submitted at a time), clat x IOPS the rest; one op per submit and per reap`, () => {
      const q = 8;
      const { job } = bench([`--filename=${data}`, '--size=16m', '--rw=randread', '--bs=128k', `--iodepth=${q}`, `--ioengine=${engine}`,
        '--invalidate=0', '--time_based', '--runtime=1', '--output-format=json']);
      const r = job.read;
      const iops = r.iops;
      assert.ok(r.total_ios > 100);
      assert.equal(r.slat_ns.N, r.clat_ns.N);
      const inSystem = (l: Lat): number => (l.mean / 1e9) * iops;
      // Little's law: q ops from preparation to reap at every moment, but for the reap-to-prepare gap.
      assert.ok(inSystem(r.lat_ns) > 0.6 * q && inSystem(r.lat_ns) < 1.1 * q, `lat mean x IOPS = ${inSystem(r.lat_ns).toFixed(2)}, want ~${q}`);
      // fio's defaults: iodepth_batch_submit=1, iodepth_batch_complete_max=1: one op per enter, whose
      // preparation-to-return intervals do not overlap; the others wait, submitted, for their reap.
      assert.ok(inSystem(r.slat_ns) < 1.3, `slat mean x IOPS = ${inSystem(r.slat_ns).toFixed(2)}: slats overlap, stamped late`);
      assert.ok(inSystem(r.clat_ns) > 0.5 * (q - 1), `clat mean x IOPS = ${inSystem(r.clat_ns).toFixed(2)}: clat near 0 at QD ${q}`);
      assert.ok(r.clat_ns.mean > r.slat_ns.mean, `clat mean ${r.clat_ns.mean} ns <= slat mean ${r.slat_ns.mean} ns`);
      assert.equal(job.iodepth_submit['4'], 100, JSON.stringify(job.iodepth_submit));
      assert.ok(job.iodepth_complete['4'] > 99.9, JSON.stringify(job.iodepth_complete));
    });
  }

  it('io_uring, QD 8, iodepth_batch_submit=8 and iodepth_batch_complete_min=8: one enter per 8 ops, 8 reaped at once; ops done inside the enter have slat > clat (means)', () => {
    const { job } = bench([`--filename=${data}`, '--size=16m', '--rw=randread', '--bs=128k', '--iodepth=8', '--iodepth_batch_submit=8',
      '--iodepth_batch_complete_min=8', '--invalidate=0', '--loops=32', '--output-format=json']);
    const r = job.read;
    assert.equal(r.total_ios, 4096);
    assert.equal(job.iodepth_submit['8'], 100, JSON.stringify(job.iodepth_submit));
    assert.equal(job.iodepth_complete['8'], 100, JSON.stringify(job.iodepth_complete));
    // (slat has no percentiles: fio prints them only with slat_percentiles=1.)
    assert.ok(r.slat_ns.mean > r.clat_ns.mean, `slat mean ${r.slat_ns.mean} ns <= clat mean ${r.clat_ns.mean} ns`);
  });

  const base = (): string[] => [`--filename=${data}`, '--size=16m', '--rw=randread', '--bs=4k', '--invalidate=0', '--number_ios=300'];
  const engines: Array<[string, string[]]> = [
    ['pvsync2 (thread pool)', ['--ioengine=pvsync2', '--iodepth=4']],
    ['io_uring --api=promise', ['--ioengine=io_uring', '--api=promise', '--iodepth=4']],
    ['fs (node:fs promises)', ['--ioengine=fs', '--iodepth=4']],
    ['fs-sync', ['--ioengine=fs-sync']],
  ];
  for (const [name, flags] of engines) {
    it(`${name}: no slat (the op is issued by the call that starts it): fio's empty slat_ns in JSON, no slat line; clat and lat measured`, () => {
      const { job } = bench([...base(), ...flags, '--output-format=json']);
      const r = job.read;
      assert.equal(r.total_ios, 300);
      assert.deepEqual(r.slat_ns, ABSENT);
      assert.equal(r.clat_ns.N, 300);
      assert.equal(r.lat_ns.N, 300);
      assert.ok(r.clat_ns.percentile);
      assert.equal(job.iodepth_submit['4'], 100);
      const { text } = bench([...base(), ...flags]);
      assert.doesNotMatch(text!, /^ +slat /m);
      assert.match(text!, /^ {4}clat \((nsec|usec|msec)\): min=/m);
      assert.match(text!, /^ {5}lat \((nsec|usec|msec)\): min=/m);
    });
  }

  const toggles: Array<[string, { slat: boolean; clat: boolean; lat: boolean }]> = [
    ['--disable_slat=1', { slat: false, clat: true, lat: true }],
    ['--disable_clat=1', { slat: true, clat: false, lat: true }],
    ['--disable_lat=1', { slat: true, clat: true, lat: false }],
    ['--gtod_reduce=1', { slat: false, clat: false, lat: false }],
  ];
  for (const engine of ['io_uring', 'libaio']) {
    for (const [flag, want] of toggles) {
      it(`${engine} ${flag}: only that figure is gone (fio's empty object in JSON, no line), the others are measured`, () => {
        const { job } = bench([...base(), `--ioengine=${engine}`, '--iodepth=4', flag, '--output-format=json']);
        const r = job.read;
        assert.equal(r.total_ios, 300);
        for (const k of ['slat', 'clat', 'lat'] as const) {
          const l = r[`${k}_ns`];
          if (want[k]) assert.equal(l.N, 300, `${k}_ns.N`);
          else assert.deepEqual(l, ABSENT, `${k}_ns`);
        }
        const { text } = bench([...base(), `--ioengine=${engine}`, '--iodepth=4', flag]);
        for (const [k, re] of [['slat', /^ {4}slat \(/m], ['clat', /^ {4}clat \(/m], ['lat', /^ {5}lat \(/m]] as const) {
          if (want[k]) assert.match(text!, re, k);
          else assert.doesNotMatch(text!, re, k);
        }
      });
    }
  }
});

describe('55 kaio bench output: a closed pipe, several formats (as fio)', function () {
  this.timeout(60000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-bench55o-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('output into a pipe closed by its reader (| head): killed by SIGPIPE like fio, nothing on stderr (no EPIPE stack trace)', async () => {
    const child = spawn(process.execPath, [bin, 'bench', '--name=p', `--filename=${path.join(dir, 'p')}`, '--size=1m', '--number_ios=2000'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d));
    // The reader goes away after the first bytes (the header), before the results are written.
    child.stdout!.once('data', () => child.stdout!.destroy());
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (c, s) => resolve([c, s])));
    assert.equal(stderr, '');
    assert.deepEqual([code, signal], [null, 'SIGPIPE']);
  });

  it('--output-format=normal,json prints both (the header, the JSON document, then the text), json,json+ one json+ document', () => {
    const args = ['bench', '--name=m', `--filename=${path.join(dir, 'm')}`, '--size=1m', '--number_ios=100'];
    const r = spawnSync(process.execPath, [bin, ...args, '--output-format=normal,json'], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split('\n');
    const open = lines.indexOf('{');
    const close = lines.indexOf('}');
    assert.ok(open > 0 && close > open, r.stdout);
    assert.match(lines.slice(0, open).join('\n'), /^m: \(g=0\): rw=read/);
    const doc = JSON.parse(lines.slice(open, close + 1).join('\n')) as { jobs: Job[] };
    assert.equal(doc.jobs[0].read.total_ios, 100);
    assert.match(lines.slice(close + 1).join('\n'), /^m: \(groupid=0, jobs=1\): err= 0:[^]*^Run status group 0 \(all jobs\):/m);
    const p = spawnSync(process.execPath, [bin, ...args, '--output-format=json,json+'], { encoding: 'utf8' });
    assert.equal(p.status, 0, p.stderr);
    const plus = JSON.parse(p.stdout) as { jobs: Array<{ read: { clat_ns: { bins?: object } } }> };
    assert.ok(plus.jobs[0].read.clat_ns.bins, 'json+ bins');
    const bad = spawnSync(process.execPath, [bin, ...args, '--output-format=normal,xml'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^kaio bench: .*output-format.*xml/);
  });
});
