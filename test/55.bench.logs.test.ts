// `kaio bench`'s fio logs and reports against fio 3.33 running the same job:
// log file names, line format and counts (per op and log_avg_msec windows),
// --status-interval reports, terse v3 fields, zonemode=strided offsets (read
// back from log_offset), cmdprio (the ioprio reaches the kernel: an invalid
// class is refused by it; per-prio clat split), and the refusals.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { Ring } from 'kaio';
import { pkgRoot, skip } from './helpers';
import { binding } from '../dist/lib/binding';
import { OpLog, defaultLogOptions } from '../dist/lib/bench/logs';

const bin = path.join(pkgRoot, 'bin', 'kaio');
const haveFio = spawnSync('fio', ['--version'], { encoding: 'utf8' }).status === 0;

const dirs: string[] = [];
function dir(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-logs-'));
  dirs.push(d);
  return d;
}

function kaio(cwd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync(process.execPath, [bin, 'bench', '--eta=never', ...args], { cwd, encoding: 'utf8', timeout: 60000 });
}

function fio(cwd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  return spawnSync('fio', args, { cwd, encoding: 'utf8', timeout: 60000 });
}

function lines(file: string): string[][] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(', '));
}

function logsOf(d: string): string[] {
  return fs
    .readdirSync(d)
    .filter((f) => f.endsWith('.log'))
    .sort();
}

describe('55 kaio bench: fio logs and reports', function () {
  this.timeout(120000);
  before(function () {
    if (!haveFio) skip(this, 'fio is not installed');
  });
  after(() => {
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });

  it('per-op logs: the same files, line counts and columns as fio; bw is bytes over clat of the same op', () => {
    const job = ['--name=j', '--size=2m', '--bs=4k', '--rw=randrw', '--ioengine=libaio', '--iodepth=4', '--numjobs=2', '--write_bw_log=b', '--write_lat_log=l', '--write_iops_log=i', '--log_offset=1'];
    const a = dir();
    const b = dir();
    const rf = fio(a, [...job, '--filename=data', '--output=/dev/null']);
    assert.equal(rf.status, 0, rf.stderr);
    const rk = kaio(b, [...job, '--filename=data', '--output=/dev/null']);
    assert.equal(rk.status, 0, rk.stderr);
    assert.deepEqual(logsOf(b), logsOf(a));
    assert.deepEqual(logsOf(b), ['b_bw.1.log', 'b_bw.2.log', 'i_iops.1.log', 'i_iops.2.log', 'l_clat.1.log', 'l_clat.2.log', 'l_lat.1.log', 'l_lat.2.log', 'l_slat.1.log', 'l_slat.2.log']);
    for (const f of logsOf(a)) {
      const fl = lines(path.join(a, f));
      const kl = lines(path.join(b, f));
      assert.equal(kl.length, fl.length, f);
      assert.equal(kl.length, 512, f);
      for (const l of kl) {
        assert.equal(l.length, 6, `${f}: ${l.join(', ')}`);
        assert.ok(l.every((x) => /^\d+$/.test(x)), `${f}: ${l.join(', ')}`);
        assert.ok(l[2] === '0' || l[2] === '1');
        assert.equal(l[3], '4096');
        assert.equal(Number(l[4]) % 4096, 0);
        assert.ok(Number(l[4]) < 2 * 1024 * 1024);
        assert.equal(l[5], '0');
      }
    }
    const clat = lines(path.join(b, 'l_clat.1.log'));
    const bw = lines(path.join(b, 'b_bw.1.log'));
    const iops = lines(path.join(b, 'i_iops.1.log'));
    clat.forEach((c, i) => {
      assert.deepEqual([bw[i][0], bw[i][2], bw[i][4]], [c[0], c[2], c[4]]);
      assert.equal(Number(bw[i][1]), Math.floor((4096 * 1e6) / Number(c[1])));
      assert.equal(iops[i][1], '1');
    });
    // Every offset of the job, once each (randrw with a random map covers the region).
    const offs = new Set([...clat, ...lines(path.join(b, 'l_clat.2.log'))].map((l) => l[4]));
    assert.ok(offs.size > 256);
  });

  it('log_avg_msec: one line per window and direction, mean of the window, as many windows as fio', () => {
    const job = ['--name=w', '--size=16m', '--bs=4k', '--rw=randread', '--ioengine=psync', '--time_based', '--runtime=1', '--log_avg_msec=200', '--write_bw_log=w', '--write_lat_log=w', '--write_iops_log=w'];
    const a = dir();
    const b = dir();
    assert.equal(fio(a, [...job, '--filename=data', '--output=/dev/null']).status, 0);
    const rk = kaio(b, [...job, '--filename=data', '--output=/dev/null']);
    assert.equal(rk.status, 0, rk.stderr);
    assert.deepEqual(logsOf(b), logsOf(a));
    for (const f of ['w_bw.1.log', 'w_iops.1.log', 'w_clat.1.log', 'w_lat.1.log']) {
      const kl = lines(path.join(b, f));
      const fl = lines(path.join(a, f));
      assert.ok(Math.abs(kl.length - fl.length) <= 2, `${f}: kaio ${kl.length} lines, fio ${fl.length}`);
      assert.ok(kl.length >= 3 && kl.length <= 7, `${f}: ${kl.length}`);
      // value, mean-or-max, direction, bs (0 on an averaged line, as fio's), prio: fio's columns
      for (const l of kl) assert.deepEqual(l.slice(2), fl[0].slice(2), `${f}: ${l.join(', ')} against fio's ${fl[0].join(', ')}`);
      // fio's windows (the test below checks them at chosen times): the first starts at the job's start; a
      // window closes at the first sample at or past its end (bw and iops: within 1 ms of it), and the next
      // starts at the last multiple of 200 ms before that sample. The job's end closes the open latency
      // window (a line at or past the runtime).
      const slack = f.includes('lat') ? 0 : 1;
      const t = kl.map((l) => Number(l[0]));
      assert.ok(t[0] >= 200 - slack, `${f}: first window closed at ${t[0]} ms`);
      for (let i = 1; i < t.length; i++) {
        const end = t[i - 1] - (t[i - 1] % 200) + 200 - slack;
        const last = i === t.length - 1 && slack === 0;
        assert.ok(t[i] >= end || (last && t[i] >= 1000 && t[i] >= t[i - 1]), `${f}: windows ${t[i - 1]} then ${t[i]}`);
      }
    }
    // psync has no slat, in fio as in kaio: the file exists and is empty.
    assert.equal(fs.readFileSync(path.join(b, 'w_slat.1.log'), 'utf8'), '');
    assert.equal(fs.readFileSync(path.join(a, 'w_slat.1.log'), 'utf8'), '');
  });

  it('log_avg_msec windows at chosen times, by fio\'s add_log_sample and finalize_logs', () => {
    const d = dir();
    const files: Array<['bw' | 'iops' | 'clat', string]> = [['bw', path.join(d, 'bw.log')], ['iops', path.join(d, 'iops.log')], ['clat', path.join(d, 'clat.log')]];
    const log = new OpLog({ options: { ...defaultLogOptions(), avgMsec: 200, bw: 'x', lat: 'x', iops: 'x' }, files, epoch: 1000, slat: false, clat: true, lat: false });
    // Reads of 4 KiB (clat in ns) reaped at these ms since the job's start.
    const ops: Array<[number, number]> = [[10, 100e3], [150, 300e3], [199.9, 500e3], [200, 700e3], [399, 900e3], [650, 1100e3], [700, 1300e3]];
    for (const [t, clat] of ops) log.op(1000 + t, 0, 4096, 0, 0, clat, NaN);
    log.finish(1000 + 1001.5);
    const read = (f: string): string[] => fs.readFileSync(f, 'utf8').trimEnd().split('\n');
    // clat: the first window is [0, 200) from the job's start (not from the first op) and closes with the op at
    // 200 (the four ops' mean); 399 is inside [200, 400) and closes nothing; 650 closes it; the job's end
    // closes [600, ...) with the op at 700.
    assert.deepEqual(read(files[2][1]), ['200, 400000, 0, 0, 0', '650, 1000000, 0, 0, 0', '1001, 1300000, 0, 0, 0']);
    // bw and iops: a rate over what was done since the last rate sample, taken once 199 ms have passed
    // (fio's LOG_MSEC_SLACK); its window closes within 1 ms of its end: 199.9 (floored to 199) closes
    // [0, 200) with 3 ops over 199 ms; 399 closes [0, 400) from 199 with 2 ops in 200 ms; 650 closes [200, ...)
    // from 399 with 1 op in 251 ms. 700 is left in the open window: the job's end does not close a bw/iops
    // window (fio's finalize_logs leaves these logs as they are). No bs on an averaged line.
    const kib = (ios: number, ms: number): number => Math.floor(Math.floor((ios * 4096 * 1000) / ms) / 1024);
    assert.deepEqual(read(files[0][1]), [`199, ${kib(3, 199)}, 0, 0, 0`, `399, ${kib(2, 200)}, 0, 0, 0`, `650, ${kib(1, 251)}, 0, 0, 0`]);
    assert.deepEqual(read(files[1][1]), [`199, ${Math.floor(3000 / 199)}, 0, 0, 0`, `399, ${Math.floor(2000 / 200)}, 0, 0, 0`, `650, ${Math.floor(1000 / 251)}, 0, 0, 0`]);
  });

  it('--status-interval: a report per interval in each format, then the final one, as fio', () => {
    const job = ['--name=s', '--filename=data', '--size=16m', '--rw=randread', '--time_based', '--runtime=3', '--status-interval=1'];
    const a = dir();
    const b = dir();
    // fio 3.33: 4 (3 interim, 1 final) for this job.
    const fj = fio(a, [...job, '--output-format=json']).stdout.split('"fio version"').length - 1;
    const t0 = Date.now();
    const r = kaio(b, [...job, '--output-format=json,normal']);
    const wall = Date.now() - t0;
    assert.equal(r.status, 0, r.stderr);
    const kj = r.stdout.split('"fio version"').length - 1;
    const kn = r.stdout.split('groupid=').length - 1;
    // At least one per second of the 3 s of I/O, at most one per second of the whole run, plus the final one.
    assert.ok(kj >= 3 && kj <= Math.floor(wall / 1000) + 1, `kaio printed ${kj} JSON reports in ${wall} ms (fio ${fj})`);
    assert.equal(kn, kj);
    // Each is cumulative: the reads reported never go down, and the last is the final report.
    const docs = [...r.stdout.matchAll(/^\{\n[^]*?\n\}$/gm)].map((m) => m[0]);
    assert.equal(docs.length, kj);
    const ios = docs.map((t) => (JSON.parse(t) as { jobs: Array<{ read: { total_ios: number } }> }).jobs[0].read.total_ios);
    for (let i = 1; i < ios.length; i++) assert.ok(ios[i] >= ios[i - 1], ios.join(' '));
  });

  it('terse v3: fio field count and order', () => {
    const job = ['--name=t', '--filename=data', '--size=8m', '--rw=randread', '--ioengine=psync', '--description=hello'];
    const a = dir();
    const b = dir();
    const f = fio(a, [...job, '--minimal']).stdout.trim().split(';');
    const r = kaio(b, [...job, '--output-format=terse', '--terse-version=3']);
    assert.equal(r.status, 0, r.stderr);
    const k = r.stdout.trim().split(';');
    assert.equal(k.length, f.length, `${k.length} fields, fio ${f.length}`);
    assert.deepEqual([k[0], k[2], k[3], k[4], k[k.length - 1]], ['3', 't', '0', '0', 'hello']);
    const shape = (x: string): string => (/%=/.test(x) ? 'pct' : /%$/.test(x) ? 'share' : /^-?\d+$/.test(x) ? 'int' : /^-?\d+\.\d+$/.test(x) ? 'float' : 'text');
    // Same kind of field at each place (an integer and 0 count as one kind).
    const kinds = (l: string[]): string[] => l.map(shape).map((s) => (s === 'float' || s === 'int' ? 'num' : s));
    assert.deepEqual(kinds(k).slice(5, -1), kinds(f).slice(5, -1));
    const m = kaio(b, [...job, '--minimal']);
    assert.equal(m.status, 0, m.stderr);
    assert.equal(m.stdout.trim().split('\n').length, 1);
    assert.equal(m.stdout.trim().split(';').length, f.length);
  });

  it('zonemode=strided: the offsets fio reads (zonesize, zonerange, zoneskip), from log_offset', () => {
    const base = ['--name=z', '--filename=data', '--size=1m', '--bs=4k', '--rw=read', '--zonemode=strided', '--write_iops_log=z', '--log_offset=1', '--output=/dev/null'];
    for (const zone of [
      ['--zonesize=16k', '--zoneskip=48k'],
      ['--zonesize=32k', '--zonerange=16k', '--zoneskip=16k'],
    ]) {
      const a = dir();
      const b = dir();
      fs.writeFileSync(path.join(a, 'data'), Buffer.alloc(1 << 20));
      fs.writeFileSync(path.join(b, 'data'), Buffer.alloc(1 << 20));
      assert.equal(fio(a, [...base, ...zone]).status, 0);
      const r = kaio(b, [...base, ...zone]);
      assert.equal(r.status, 0, r.stderr);
      const fo = lines(path.join(a, 'z_iops.1.log')).map((l) => Number(l[4]));
      const ko = lines(path.join(b, 'z_iops.1.log')).map((l) => Number(l[4]));
      assert.deepEqual(ko, fo, zone.join(' '));
    }
  });

  it('cmdprio: the SQE ioprio reaches the kernel (an invalid class is refused by it, EINVAL)', async function () {
    const d = dir();
    const file = path.join(d, 'f');
    fs.writeFileSync(file, Buffer.alloc(8192, 1));
    const fd = fs.openSync(file, 'r');
    const ring = new Ring({ entries: 8 });
    try {
      const got = new Map<number, number>();
      ring.onCompletion((tag, res) => got.set(tag, res));
      const buf = Buffer.alloc(4096);
      assert.ok(ring.prepRead(fd, buf, 0, 1, 0, 0));
      assert.ok(ring.prepRead(fd, Buffer.alloc(4096), 0, 2, 0, (1 << 13) | 4)); // RT, level 4
      assert.ok(ring.prepRead(fd, Buffer.alloc(4096), 0, 3, 0, 7 << 13)); // no class 7
      ring.submit();
      while (got.size < 3) ring.submitAndWait(1);
      assert.equal(got.get(1), 4096);
      assert.equal(got.get(2), 4096);
      assert.equal(got.get(3), -os.constants.errno.EINVAL);
      assert.throws(() => ring.prepRead(fd, buf, 0, 4, 0, 0x10000), { code: 'ERR_OUT_OF_RANGE' });
    } finally {
      await ring.close();
      fs.closeSync(fd);
    }
  });

  it('cmdprio on libaio: aio_reqprio with IOCB_FLAG_IOPRIO reaches the kernel (an invalid class is refused by it, EINVAL)', async () => {
    const d = dir();
    const file = path.join(d, 'f');
    fs.writeFileSync(file, Buffer.alloc(8192, 1));
    const fd = fs.openSync(file, 'r');
    const { backendOps, backendCounters, completionInts } = binding.contract;
    const out = new Int32Array(8 * completionInts);
    const got = new Map<number, number>();
    let wake: (() => void) | undefined;
    const take = (n: number): void => {
      for (let i = 0; i < n; i++) got.set(out[i * completionInts], out[i * completionInts + 2]);
      wake?.();
    };
    const aio = binding.Aio ? new binding.Aio({ entries: 8, userRing: true }, take, out, new Float64Array(backendCounters.Slots)) : undefined;
    assert.ok(aio);
    try {
      // Buffered reads: done inside io_submit (the refused one too, as a completion with -EINVAL).
      assert.equal(aio.prep(backendOps.Read, fd, Buffer.alloc(4096), 0, 0, 1, 4096), 1);
      assert.equal(aio.prep(backendOps.Read, fd, Buffer.alloc(4096), 0, 0, 2, 4096, (1 << 13) | 4), 1);
      assert.equal(aio.prep(backendOps.Read, fd, Buffer.alloc(4096), 0, 0, 3, 4096, 7 << 13), 1);
      const r = aio.submit();
      if (r > 0) take(r);
      while (got.size < 3) await new Promise<void>((resolve) => (wake = resolve));
      assert.deepEqual([got.get(1), got.get(2), got.get(3)], [4096, 4096, -os.constants.errno.EINVAL]);
    } finally {
      aio.close();
      fs.closeSync(fd);
    }
  });

  for (const engine of ['libaio', 'io_uring']) {
    it(`cmdprio_percentage (${engine}): ops split by ioprio as fio's, in the json prios, the normal output and log_prio`, () => {
      const job = ['--name=p', '--filename=data', '--size=8m', '--bs=16k', '--rw=randread', `--ioengine=${engine}`, '--iodepth=8', '--prioclass=3', '--cmdprio_percentage=20', '--cmdprio_class=1', '--write_lat_log=p', '--log_prio=1'];
      const b = dir();
      const r = kaio(b, [...job, '--output-format=json,normal']);
      assert.equal(r.status, 0, r.stderr);
      const doc = JSON.parse(r.stdout.slice(0, r.stdout.lastIndexOf('}') + 1).slice(r.stdout.indexOf('{'))) as { jobs: Array<{ read: { total_ios: number; prios: Array<{ prioclass: number; prio: number; clat_ns: { N: number } }> } }> };
      const rd = doc.jobs[0].read;
      assert.deepEqual(rd.prios.map((p) => [p.prioclass, p.prio]), [[3, 0], [1, 0]]);
      const n = rd.prios.map((p) => p.clat_ns.N);
      assert.equal(n[0] + n[1], rd.total_ios);
      assert.ok(n[1] > rd.total_ios * 0.1 && n[1] < rd.total_ios * 0.3, `RT ops ${n[1]} of ${rd.total_ios}`);
      assert.match(r.stdout, /clat prio 1\/0 \(usec\): min=/);
      assert.match(r.stdout, /clat prio 3\/0 \(\d+\.\d\d% of IOs\) percentiles/);
      const prios = lines(path.join(b, 'p_clat.1.log')).map((l) => l[4]);
      assert.equal(prios.filter((p) => p === '0x2000').length, n[1]);
      assert.equal(prios.filter((p) => p === '0x6000').length, n[0]);
    });
  }

  it('refuses bad values and an unwritable log path, before running', () => {
    const b = dir();
    const bad = (args: string[], re: RegExp, status = 2): void => {
      const r = kaio(b, ['--name=x', '--filename=data', '--size=1m', ...args]);
      assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
    };
    bad(['--log_avg_msec=-1'], /log_avg_msec/);
    bad(['--log_max_value=3'], /log_max_value/);
    bad(['--cmdprio_percentage=101', '--ioengine=libaio'], /cmdprio_percentage/);
    bad(['--cmdprio_bssplit=64k/60/1/0:64k/50/2/0', '--ioengine=libaio'], /more than 100/);
    bad(['--cmdprio_percentage=10', '--cmdprio_bssplit=4k/10', '--ioengine=libaio'], /cannot be used together/);
    bad(['--cmdprio_percentage=10', '--ioengine=psync'], /per-op priorities need/);
    bad(['--zonemode=zbd'], /zonemode/);
    bad(['--zonemode=strided'], /zonesize/);
    bad(['--write_hist_log=h'], /log_hist_msec/);
    bad(['--terse-version=2'], /terse-version/);
    bad(['--status-interval=0'], /status-interval/);
    bad(['--write_bw_log=/nonexistent-kaio-dir/x'], /write_bw_log: cannot create \/nonexistent-kaio-dir\/x_bw\.1\.log: ENOENT/, 1);
    assert.equal(fs.existsSync(path.join(b, 'data')), false);
  });
});
