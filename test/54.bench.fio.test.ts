// `kaio bench` as a fio stand-in: fio's options and job files, fio's JSON
// shape (checked against a fio 3.33 document kept in test/fixtures/, so fio
// itself is never needed), verify, numjobs, rwmix, Ctrl-C, and every bad
// input. Results are never timed: only counts, shapes and exit codes.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
// The bench internals (not part of the package's API) from their built
// declarations; the paths hold from test/ (for tsc) and from dist-test/.
import { DEFAULT_PERCENTILES } from '../dist/lib/bench/options';
import { Histogram, bucketOf, bucketValue, PLAT_NR } from '../dist/lib/bench/histogram';
import { Rand, UniformPicker, SkewedPicker } from '../dist/lib/bench/random';
import { pkgRoot, fixture, flipByte, skip, waitFor, type KaioError } from './helpers';
import { json, kaio, parse, refused } from './bench-cli';

const bin = path.join(pkgRoot, 'bin', 'kaio');

/** The parts of fio's JSON (and kaio's additions) these tests read. */
type FioLat = { min: number; N: number; percentile: Record<string, number>; bins: Record<string, number> };
type FioDir = {
  total_ios: number;
  io_bytes: number;
  io_kbytes: number;
  bw: number;
  bw_bytes: number;
  iops_samples: number;
  clat_ns: FioLat;
  lat_ns: FioLat;
  slat_ns: FioLat;
};
type FioJob = {
  jobname: string;
  groupid: number;
  error: number;
  read: FioDir;
  write: FioDir;
  sync: { total_ios: number };
  iodepth_level: Record<string, number>;
  'job options': Record<string, string>;
  kaio: { jobs: number; ioengine: string; api?: string; size: number; notes: string[]; verified_blocks: number };
};
type FioDoc = { jobs: FioJob[]; 'global options': Record<string, string>; disk_util: Record<string, unknown>[] };
describe('54 kaio bench: fio options on the command line', () => {
  it("defaults are fio's (rw=read, bs=4k, iodepth=1, invalidate=1, randrepeat=1, rwmixread=50, fio's percentile list)", () => {
    const [job] = parse(['--name=a', '--filename=f']).jobs;
    assert.equal(job.rw, 'read');
    assert.deepEqual(job.bs, [4096, 4096, 4096]);
    assert.equal(job.iodepth, 1);
    assert.equal(job.invalidate, true);
    assert.equal(job.randrepeat, true);
    assert.equal(job.rwmixread, 50);
    assert.equal(job.direct, false);
    assert.equal(job.timeBased, false);
    assert.equal(job.numjobs, 1);
    assert.deepEqual(job.percentileList, [1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.5, 99.9, 99.95, 99.99]);
    assert.deepEqual(DEFAULT_PERCENTILES, job.percentileList);
  });

  it('--opt=value and --opt value mean the same; bool options stand alone or take 0/1', () => {
    const a = parse(['--name=a', '--rw=randread', '--bs=8k', '--iodepth=16', '--direct=1', '--time_based', '--runtime=2', '--norandommap']).jobs[0];
    const b = parse(['--name', 'a', '--rw', 'randread', '--bs', '8k', '--iodepth', '16', '--direct', '1', '--time_based', '--runtime', '2', '--norandommap']).jobs[0];
    for (const k of ['rw', 'bs', 'iodepth', 'direct', 'timeBased', 'runtime', 'norandommap'] as const) assert.deepEqual(a[k], b[k], k);
    assert.equal(parse(['--name=a', '--direct']).jobs[0].direct, true);
    assert.equal(parse(['--name=a', '--direct', '0']).jobs[0].direct, false);
    assert.equal(parse(['--name=a', '--invalidate=0']).jobs[0].invalidate, false);
    assert.equal(parse(['--name=a', '--fixedbufs', '--registerfiles']).jobs[0].registerfiles, true);
  });

  it("fio's units: sizes in powers of 1024, times in seconds with us/ms/s/m/h suffixes", () => {
    const j = parse(['--name=a', '--size=1g', '--offset=4KiB', '--bs=1m', '--runtime=2m', '--ramp_time=500ms']).jobs[0];
    assert.equal(j.size, 1024 ** 3);
    assert.equal(j.offset, 4096);
    assert.deepEqual(j.bs, [1048576, 1048576, 1048576]);
    assert.equal(j.runtime, 120);
    assert.equal(j.rampTime, 0.5);
    assert.equal(parse(['--name=a', '--runtime=30']).jobs[0].runtime, 30);
    assert.equal(parse(['--name=a', '--runtime=1h']).jobs[0].runtime, 3600);
  });

  it('per-direction bs (read,write[,trim]), bssplit with shared remainders, rwmixwrite', () => {
    assert.deepEqual(parse(['--name=a', '--bs=4k,64k']).jobs[0].bs, [4096, 65536, 65536]);
    assert.deepEqual(parse(['--name=a', '--bs=,64k']).jobs[0].bs, [4096, 65536, 65536]);
    const split = parse(['--name=a', '--bssplit=4k/10:64k/:32k/']).jobs[0].bssplit;
    assert.deepEqual(split[0], [[4096, 10], [65536, 45], [32768, 45]]);
    const dirs = parse(['--name=a', '--bssplit=4k/100,8k/50:16k/50']).jobs[0].bssplit;
    assert.deepEqual(dirs[0], [[4096, 100]]);
    assert.deepEqual(dirs[1], [[8192, 50], [16384, 50]]);
    assert.equal(parse(['--name=a', '--rw=randrw', '--rwmixwrite=30']).jobs[0].rwmixread, 70);
    assert.equal(parse(['--name=a', '--readwrite=rw']).jobs[0].rw, 'rw');
    assert.equal(parse(['--name=a', '--rw=readwrite']).jobs[0].rw, 'rw');
  });

  it('random_distribution, verify_pattern, percentile_list and the engines parse', () => {
    assert.deepEqual(parse(['--name=a', '--random_distribution=zipf:1.2']).jobs[0].distribution, { kind: 'zipf', param: 1.2 });
    assert.deepEqual(parse(['--name=a', '--random_distribution=pareto:0.9']).jobs[0].distribution, { kind: 'pareto', param: 0.9 });
    assert.deepEqual(parse(['--name=a', '--random_distribution=normal:5']).jobs[0].distribution, { kind: 'normal', param: 5 });
    const v = parse(['--name=a', '--verify=pattern', '--verify_pattern=0xdeadbeef']).jobs[0];
    assert.equal(v.verify, 'pattern');
    assert.deepEqual([...v.verifyPattern], [0xde, 0xad, 0xbe, 0xef]);
    assert.deepEqual([...parse(['--name=a', '--verify_pattern="ab"']).jobs[0].verifyPattern], [0x61, 0x62]);
    assert.deepEqual(parse(['--name=a', '--percentile_list=50:99:99.9']).jobs[0].percentileList, [50, 99, 99.9]);
    for (const e of ['io_uring', 'libaio', 'psync', 'pvsync2', 'fs', 'fs-sync']) assert.equal(parse(['--name=a', `--ioengine=${e}`]).jobs[0].ioengine, e);
    assert.equal(parse(['--name=a', '--api=promise']).jobs[0].api, 'promise');
    assert.equal(parse(['--readonly', '--thread', '--name=a', '--rw=randread']).jobs[0].rw, 'randread');
  });

  it('options before the first --name are global; each --name starts a job; job options are kept as given', () => {
    const p = parse(['--size=1m', '--bs=8k', '--name=one', '--rw=write', '--name=two', '--rw=randread', '--bs=16k', '--output-format=json']);
    assert.equal(p.format, 'json');
    assert.deepEqual(p.jobs.map((j) => [j.name, j.rw, j.bs[0], j.size]), [['one', 'write', 8192, 1048576], ['two', 'randread', 16384, 1048576]]);
    assert.deepEqual(p.jobs[1].given, { name: 'two', size: '1m', bs: '16k', rw: 'randread' });
  });

  it('no arguments at all: the default job (4k randread, QD 32, O_DIRECT, 256 MiB, 5 s) on a temp file', () => {
    const p = parse([]);
    assert.equal(p.defaulted, true);
    const [j] = p.jobs;
    assert.deepEqual([j.rw, j.bs[0], j.iodepth, j.direct, j.size, j.runtime, j.timeBased], ['randread', 4096, 32, true, 256 * 1048576, 5, true]);
    assert.equal(j.filename, '');
  });
});

describe('54 kaio bench: fio job files', () => {
  const file = `
; a comment
# another
[global]
size=2m
bs=8k
include common.fio

[seq-read]
rw=read
iodepth=4

[rand]
stonewall
rw=randread
numjobs=2
group_reporting
`;
  it('[global], several jobs, include, stonewall, numjobs, group_reporting', () => {
    const p = parse(['job.fio'], { 'job.fio': file, 'common.fio': 'direct=1\nrandseed=7\n' });
    assert.deepEqual(p.jobs.map((j) => j.name), ['seq-read', 'rand']);
    const [a, b] = p.jobs;
    assert.equal(a.size, 2 * 1048576);
    assert.equal(a.bs[0], 8192);
    assert.equal(a.direct, true, 'from the included file');
    assert.equal(a.randseed, 7);
    assert.equal(a.iodepth, 4);
    assert.equal(a.stonewall, false);
    assert.equal(b.stonewall, true);
    assert.equal(b.numjobs, 2);
    assert.equal(b.groupReporting, true);
    assert.equal(b.iodepth, 1);
  });

  it("as in fio, command-line options are defaults that the file's [global] and sections override", () => {
    // fio 3.33 on this file with --bs=64k --iodepth=2 --rw=write: bs 8k (file [global]) and iodepth 4 in
    // [seq-read] (its own), iodepth 2 in [rand] (the command line's, not overridden), rw as each section says.
    const p = parse(['--bs=64k', '--iodepth=2', '--rw=write', 'job.fio'], { 'job.fio': file, 'common.fio': 'direct=1\n' });
    assert.deepEqual(p.jobs.map((j) => [j.name, j.bs[0], j.iodepth, j.rw]), [['seq-read', 8192, 4, 'read'], ['rand', 8192, 2, 'randread']]);
    // Options after the file on the command line are defaults too (fio reads the command line first).
    const q = parse(['job.fio', '--bs=64k', '--numjobs=3'], { 'job.fio': file, 'common.fio': '' });
    assert.deepEqual(q.jobs.map((j) => [j.bs[0], j.numjobs]), [[8192, 3], [8192, 2]]);
  });

  it("as in fio, a [global] section holds for the sections after it, in later job files too; --name jobs come first", () => {
    const files = { 'one.fio': '[a]\nsize=1m\n[global]\nbs=16k\n[b]\nsize=1m\n', 'two.fio': '[c]\nsize=1m\n' };
    const p = parse(['--name=cmd', '--size=1m', 'one.fio', 'two.fio'], files);
    assert.deepEqual(p.jobs.map((j) => [j.name, j.bs[0], j.stonewall]), [['cmd', 4096, false], ['a', 4096, false], ['b', 16384, false], ['c', 16384, true]]);
  });

  it('as in fio, the job is named by its section; name= changes the reported name, not the file names', () => {
    const p = parse(['j.fio'], { 'j.fio': '[sec1]\nname=foo\nsize=1m\n[sec2]\nsize=1m\n' });
    assert.deepEqual(p.jobs.map((j) => [j.name, j.section]), [['foo', 'sec1'], ['sec2', 'sec2']]);
  });

  it("as in fio, '; comment' and '# comment' end a line, after a value too", () => {
    const p = parse(['j.fio'], { 'j.fio': '[a] ; the job\nbs=8k ; small blocks\nsize=1m# no blank before\nrw=randread  #\niodepth=4;\n' });
    const [j] = p.jobs;
    assert.deepEqual([j.name, j.bs[0], j.size, j.rw, j.iodepth], ['a', 8192, 1048576, 'randread', 4]);
  });

  it('every option kaio bench lacks is named at once, with its file and line, and bad values with them', () => {
    const text = '[a]\nrw=read\nfrobnicate=1\n[b]\nwobble=2\nbs=zz\n';
    assert.throws(
      () => parse(['j.fio'], { 'j.fio': text }),
      (e: KaioError) => {
        assert.equal(e.code, 'ERR_INVALID_ARG_VALUE');
        assert.match(e.message, /2 options kaio bench does not support: frobnicate \(j\.fio:3\), wobble \(j\.fio:5\)/);
        assert.match(e.message, /j\.fio \[b\]: .*--bs/);
        return true;
      },
    );
    assert.throws(() => parse(['--frob=1', '--wob', '--name=a']), /'--frob, --wob' are not known options/);
  });

  it("as in fio, an option outside of a [] section is refused; --section runs only the sections named", () => {
    assert.throws(() => parse(['j.fio'], { 'j.fio': 'rw=read\n[a]\nsize=1m\n' }), /j\.fio:1: option "rw=read" outside of a \[\] job section/);
    const files = { 'j.fio': '[global]\nsize=1m\n[a]\n[b]\n[c]\n' };
    assert.deepEqual(parse(['--section=c', '--section=a', 'j.fio'], files).jobs.map((j) => [j.name, j.size]), [['a', 1048576], ['c', 1048576]]);
    assert.throws(() => parse(['--section=zz', 'j.fio'], files), /describes no job named zz/);
  });

  it('an unknown option in a file is named with file and line; a file without jobs is refused', () => {
    assert.throws(() => parse(['j.fio'], { 'j.fio': '[a]\nrw=read\nfrobnicate=1\n' }), /j\.fio:3/);
    assert.throws(() => parse(['j.fio'], { 'j.fio': '[global]\nrw=read\n' }), /describes no job/);
    assert.throws(() => parse(['j.fio'], { 'j.fio': '[a]\ninclude missing.fio\n' }), /cannot read/);
    assert.throws(() => parse(['j.fio'], { 'j.fio': '[a]\n--eta=never\n' }), /j\.fio:2/);
    assert.throws(() => parse(['j.fio'], { 'j.fio': '[a]\nrw read\n' }), /cannot parse/);
    assert.throws(() => parse(['j.fio'], { 'j.fio': '[a]\ninclude inc.fio\n', 'inc.fio': '[b]\n' }), /cannot start a section/);
  });

  it("--showcmd prints the job file as fio's command line; --parse-only checks it and runs nothing", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-bench54-'));
    try {
      const job = path.join(dir, 'a.fio');
      fs.writeFileSync(job, '[global]\nrw=randread\nbs=8k ; a comment\nsize=1m # another\n[sec1]\nname=foo\niodepth=2\n[sec2]\nbs=16k\nstonewall\n');
      // fio 3.33 --showcmd --bs=4k on this file: "fio --bs=4k --rw=randread --bs=8k --size=1m --name=sec1 --name=foo --iodepth=2 --name=sec2 --bs=16k --stonewall"
      const r = kaio(['--showcmd', '--bs=4k', job]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'kaio bench --bs=4k --rw=randread --bs=8k --size=1m --name=sec1 --name=foo --iodepth=2 --name=sec2 --bs=16k --stonewall\n');
      assert.deepEqual(fs.readdirSync(dir), ['a.fio'], 'showcmd made files');
      const p = kaio(['--parse-only', job]);
      assert.deepEqual([p.status, p.stdout, p.stderr], [0, '', '']);
      assert.deepEqual(fs.readdirSync(dir), ['a.fio'], 'parse-only made files');
      fs.appendFileSync(job, 'bogus=1\ncgroup=x\n');
      const q = kaio(['--parse-only', job]);
      refused(q, 2, /2 options kaio bench does not support: bogus \(.*a\.fio:11\), cgroup \(.*a\.fio:12\)/, 'parse-only, bad file');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs a job file end to end: stonewall makes two groups, group_reporting merges numjobs', function () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-bench54-'));
    try {
      const data = path.join(dir, 'data');
      fs.writeFileSync(path.join(dir, 'job.fio'), `[global]\nfilename=${data}\nsize=1m\nnumber_ios=100\n[a]\nrw=read\n[b]\nstonewall\nrw=randread\nnumjobs=3\ngroup_reporting\n`);
      const r = kaio([path.join(dir, 'job.fio'), '--output-format=json']);
      assert.equal(r.status, 0, r.stderr);
      const doc = json<FioDoc>(r.stdout);
      assert.deepEqual(doc.jobs.map((j) => [j.jobname, j.groupid, j.read.total_ios]), [['a', 0, 100], ['b', 1, 300]]);
      assert.equal(doc.jobs[1].kaio.jobs, 3);
      // fio's JSON: the file's [global] under "global options", each job's own section under "job options".
      assert.deepEqual(doc['global options'], { filename: data, size: '1m', number_ios: '100' });
      // As fio 3.33 prints this file: the section name is not a job option, nor are options without a value.
      assert.deepEqual(doc.jobs[1]['job options'], { rw: 'randread', numjobs: '3' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** Every key of fio's object, recursively, with the same JSON type in ours. */
function assertShape(fio: Record<string, unknown>, ours: Record<string, unknown>, where: string, skipKeys = new Set<string>()): void {
  for (const [k, v] of Object.entries(fio)) {
    const at = `${where}.${k}`;
    if (skipKeys.has(k)) continue;
    assert.ok(Object.prototype.hasOwnProperty.call(ours, k), `${at} missing`);
    const tf = Array.isArray(v) ? 'array' : typeof v;
    const to = Array.isArray(ours[k]) ? 'array' : typeof ours[k];
    assert.equal(to, tf, `${at}: ${to}, fio has ${tf}`);
    if (tf === 'object' && v !== null) assertShape(v as Record<string, unknown>, ours[k] as Record<string, unknown>, at, skipKeys);
  }
}

describe("54 kaio bench: output in fio's shape", () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-bench54-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('--output-format=json has every field of a fio 3.33 document, same types and units', () => {
    const sample = json<FioDoc>(fs.readFileSync(fixture('fio-3.33-randrw.json'), 'utf8'));
    const r = kaio([`--filename=${path.join(dir, 'j')}`, '--name=sample', '--size=2m', '--rw=randrw', '--rwmixread=70', '--iodepth=4',
      '--number_ios=400', '--output-format=json']);
    assert.equal(r.status, 0, r.stderr);
    const ours = json<FioDoc>(r.stdout);
    // 'job options' holds what was given, so its keys differ by design.
    const { jobs: [fioJob], disk_util: fioDisks, ...top } = sample;
    assertShape(top, ours, '$');
    assertShape(fioJob, ours.jobs[0], '$.jobs[0]', new Set(['job options']));
    if (ours.disk_util.length) assertShape(fioDisks[0], ours.disk_util[0], '$.disk_util[0]');
    const j = ours.jobs[0];
    // fio's units: KiB/s, bytes, ms, ns, percentiles keyed with 6 decimals.
    assert.equal(j.read.bw, Math.floor(j.read.bw_bytes / 1024));
    assert.equal(j.read.io_kbytes, Math.floor(j.read.io_bytes / 1024));
    assert.equal(j.read.total_ios + j.write.total_ios, 400);
    assert.equal(j.read.io_bytes, j.read.total_ios * 4096);
    assert.deepEqual(Object.keys(j.read.clat_ns.percentile), Object.keys(fioJob.read.clat_ns.percentile));
    assert.ok(j.read.clat_ns.percentile['99.000000'] >= j.read.clat_ns.percentile['50.000000']);
    assert.ok(j.read.lat_ns.min >= j.read.clat_ns.min);
    assert.equal(j.read.clat_ns.N, j.read.total_ios);
    assert.deepEqual(j['job options'], { name: 'sample', filename: path.join(dir, 'j'), size: '2m', rw: 'randrw', rwmixread: '70', iodepth: '4', number_ios: '400' });
    assert.deepEqual(Object.keys(j.iodepth_level), Object.keys(fioJob.iodepth_level));
    assert.ok(Math.abs(Object.values(j.iodepth_level).reduce((a, b) => a + b, 0) - 100) < 0.1);
  });

  it('json+ adds clat_ns.bins like fio, keyed by bucket start in ns, counting every op', () => {
    const sample = json<FioDoc>(fs.readFileSync(fixture('fio-3.33-randread.jsonplus.json'), 'utf8'));
    const r = kaio([`--filename=${path.join(dir, 'j')}`, '--name=p', '--size=2m', '--rw=randread', '--iodepth=4', '--number_ios=500', '--output-format=json+']);
    assert.equal(r.status, 0, r.stderr);
    const j = json<FioDoc>(r.stdout).jobs[0];
    assertShape(sample.jobs[0].read.clat_ns, j.read.clat_ns, 'clat_ns', new Set(['bins', 'percentile']));
    const bins = j.read.clat_ns.bins;
    assert.equal(Object.values(bins).reduce((a, b) => a + b, 0), 500);
    for (const k of Object.keys(bins)) assert.equal(String(Number(k)), k);
  });

  it('normal output follows fio: job line, IOPS/BW, slat/clat/lat, percentiles, IO depths, run status group', () => {
    const r = kaio([`--filename=${path.join(dir, 'j')}`, '--name=txt', '--size=1m', '--rw=randrw', '--iodepth=4', '--number_ios=300']);
    assert.equal(r.status, 0, r.stderr);
    const t = r.stdout;
    assert.match(t, /^txt: \(g=0\): rw=randrw, bs=\(R\) 4096B-4096B, \(W\) 4096B-4096B, \(T\) 4096B-4096B, ioengine=io_uring/m);
    assert.match(t, /^txt: \(groupid=0, jobs=1\): err= 0: pid=\d+: /m);
    assert.match(t, /^ {2}read: IOPS=[\d.]+k?, BW=[\d.]+[KMG]?i?B\/s \([\d.]+[kMG]?B\/s\)\([\d.]+[KMG]?i?B\/\d+msec\)$/m);
    assert.match(t, /^ {2}write: IOPS=/m);
    assert.match(t, /^ {4}slat \((nsec|usec|msec)\): min=/m);
    assert.match(t, /^ {4}clat percentiles \((nsec|usec|msec)\):\n {5}\| {2}1\.00th=\[ *\d+\], {2}5\.00th=/m);
    assert.match(t, /^ {5}\| 99\.99th=\[ *\d+\]$/m);
    assert.match(t, /^ {2}IO depths {4}: 1=[\d.]+%, 2=[\d.]+%, 4=[\d.]+%, 8=[\d.]+%, 16=[\d.]+%, 32=[\d.]+%, >=64=[\d.]+%$/m);
    assert.match(t, /^ {5}issued rwts: total=\d+,\d+,0,0 short=0,0,0,0 dropped=0,0,0,0$/m);
    assert.match(t, /^Run status group 0 \(all jobs\):\n {3}READ: bw=.*, io=.*, run=\d+-\d+msec\n {2}WRITE: bw=/m);
  });

  it('--output FILE holds only the document; stdout stays empty', () => {
    const out = path.join(dir, 'out.json');
    const r = kaio([`--filename=${path.join(dir, 'j')}`, '--name=o', '--size=1m', '--number_ios=50', '--output-format=json', `--output=${out}`]);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout, '');
    assert.equal(json<FioDoc>(fs.readFileSync(out, 'utf8')).jobs[0].read.total_ios, 50);
  });

  it('--plot FILE.svg draws IOPS over time: one line per job and direction, one point per 500 ms sample', () => {
    const svg = path.join(dir, 'p.svg');
    const r = kaio([`--filename=${path.join(dir, 'j')}`, '--name=pl', '--size=1m', '--rw=randrw', '--time_based', '--runtime=1s',
      `--plot=${svg}`, '--output-format=json']);
    assert.equal(r.status, 0, r.stderr);
    const j = json<FioDoc>(r.stdout).jobs[0];
    const text = fs.readFileSync(svg, 'utf8');
    assert.match(text, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*>[\s\S]*<\/svg>\n$/);
    const lines = [...text.matchAll(/<polyline [^>]*points="([^"]*)"><title>([^<]*)<\/title>/g)];
    assert.deepEqual(lines.map((m) => m[2]), ['pl.0 read (g0)', 'pl.0 write (g0)']);
    assert.equal(lines[0][1].split(' ').length, j.read.iops_samples);
    assert.equal(kaio(['--plot=x.png']).status, 2);
  });

  it('the batch API publishes its progress: every 500 ms sample of a time-based batch job counted ops (nop and reads)', () => {
    for (const args of [['--rw=nop', '--iodepth=64', '--iodepth_batch_submit=16', '--iodepth_batch_complete_min=16'],
      [`--filename=${path.join(dir, 'j')}`, '--size=1m', '--rw=randread', '--iodepth=8', '--iodepth_batch_complete_min=4']]) {
      const r = kaio(['--name=pb', '--api=batch', '--time_based', '--runtime=1s', ...args, '--output-format=json']);
      assert.equal(r.status, 0, r.stderr);
      const d = json<FioDoc>(r.stdout).jobs[0].read as FioDir & { iops_min: number; bw_samples: number };
      assert.ok(d.total_ios > 0, args[0]);
      assert.ok(d.iops_samples >= 1 && d.bw_samples === d.iops_samples, `${args[0]}: ${d.iops_samples} samples`);
      assert.ok(d.iops_min > 0, `${args[0]}: a sample without ops (iops_min ${d.iops_min})`);
    }
  });

  it('--help prints usage on stdout and exits 0; --version prints the version', () => {
    const h = kaio(['--help']);
    assert.equal(h.status, 0);
    assert.match(h.stdout, /^usage: kaio bench/);
    assert.match(h.stdout, /--ioengine=io_uring\|libaio\|psync\|pvsync2\|fs\|fs-sync/);
    assert.equal(h.stderr, '');
    const v = kaio(['--version']);
    assert.equal(v.status, 0);
    assert.match(v.stdout, /^kaio-\d+\.\d+\.\d+\n$/);
  });
});

describe('54 kaio bench: what the jobs do', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-bench54-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('every engine reads and writes the same op count, with clat percentiles (all at once: one job per engine, one worker each)', () => {
    const f = path.join(dir, 'engines');
    const engines: [string, string?][] = [['io_uring', 'batch'], ['io_uring', 'promise'], ['libaio'], ['psync'], ['pvsync2'], ['fs'], ['fs-sync']];
    const args = [`--filename=${f}`, '--size=1m', '--rw=randrw', '--iodepth=4', '--number_ios=200', '--output-format=json'];
    for (const [e, api] of engines) args.push(`--name=${e}-${api || ''}`, `--ioengine=${e}`, ...(api ? [`--api=${api}`] : []));
    const r = kaio(args);
    assert.equal(r.status, 0, r.stderr);
    const jobs = json<FioDoc>(r.stdout).jobs;
    assert.equal(jobs.length, engines.length);
    jobs.forEach((j, i) => {
      const [e, api] = engines[i];
      assert.equal(j.kaio.ioengine, e);
      assert.equal(j.kaio.api, api);
      assert.equal(j.groupid, 0, 'no stonewall: one group, run together');
      assert.equal(j.read.total_ios + j.write.total_ios, 200, e);
      assert.equal(j.read.io_bytes + j.write.io_bytes, 200 * 4096, e);
      assert.ok(j.read.total_ios > 0 && j.write.total_ios > 0, e);
      assert.ok(j.read.clat_ns.percentile['50.000000'] > 0, e);
      assert.equal(j.read.clat_ns.N, j.read.total_ios, e);
      if (e === 'io_uring' && api === 'batch') assert.equal(j.read.slat_ns.N, j.read.total_ios, 'the batch API measures slat');
    });
  });

  it('--direct=1 really opens O_DIRECT with every engine (the flags of the open file, from /proc/PID/fdinfo)', async function () {
    const f = path.join(dir, 'direct');
    fs.writeFileSync(f, Buffer.alloc(1 << 20, 1));
    try {
      fs.closeSync(fs.openSync(f, fs.constants.O_RDONLY | fs.constants.O_DIRECT));
    } catch (e) {
      skip(this, `${os.tmpdir()} does not support O_DIRECT (${(e as KaioError).code})`);
    }
    /** kaio bench and its job processes (thread=0, the default: each job opens the file in its own). */
    const family = (pid: number | undefined): number[] => {
      const kids = fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)).filter((n) => {
        try {
          const st = fs.readFileSync(`/proc/${n}/stat`, 'utf8');
          return Number(st.slice(st.lastIndexOf(')') + 2).split(' ')[1]) === pid;
        } catch {
          return false;
        }
      });
      return [pid!, ...kids.map(Number)];
    };
    /** Flags of every fd of `pid` (or its children) open on `f`. */
    const openFlags = (pid: number | undefined) => {
      const flags: number[] = [];
      for (const [p, fd] of family(pid).flatMap((p) => {
        try {
          return fs.readdirSync(`/proc/${p}/fd`).map((fd) => [p, fd] as const);
        } catch {
          return [];
        }
      })) {
        try {
          if (fs.readlinkSync(`/proc/${p}/fd/${fd}`) !== f) continue;
          flags.push(parseInt(/^flags:\s+([0-7]+)/m.exec(fs.readFileSync(`/proc/${p}/fdinfo/${fd}`, 'utf8'))![1], 8));
        } catch {
          // closed meanwhile
        }
      }
      return flags;
    };
    // One run per setting, one job per engine (each in its own process, each opening the file).
    for (const [direct, engines] of [[1, ['io_uring', 'libaio', 'psync', 'pvsync2', 'fs', 'fs-sync']], [0, ['io_uring', 'libaio', 'fs']]] as [number, string[]][]) {
      const args = [`--filename=${f}`, '--size=1m', `--direct=${direct}`, '--rw=randread', '--time_based', '--runtime=60', '--output-format=json'];
      for (const e of engines) args.push(`--name=${e}`, `--ioengine=${e}`);
      const child = spawn(process.execPath, [bin, 'bench', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      let out = '';
      child.stderr.on('data', (d) => (err += d));
      child.stdout.on('data', (d) => (out += d));
      let done = false;
      const exited = new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c))).finally(() => (done = true));
      let flags: number[] = [];
      // Each job opens its target in its worker once the file is checked.
      while (!done && (flags = openFlags(child.pid)).length < engines.length) await new Promise((r) => setTimeout(r, 10));
      child.kill('SIGINT');
      assert.equal(await exited, 130, err);
      assert.ok(flags.length >= engines.length, `every job has the target open: ${flags.length} fds`);
      for (const fl of flags) assert.equal((fl & fs.constants.O_DIRECT) !== 0, direct === 1, `direct=${direct}: flags 0${fl.toString(8)}`);
      assert.deepEqual(json<FioDoc>(out).jobs.map((j) => j.kaio.ioengine), engines);
    }
  });

  it('randrw keeps the rwmixread ratio within a few percent', () => {
    const f = path.join(dir, 'mix');
    for (const [mix, args] of [[70, ['--rwmixread=70']], [25, ['--rwmixwrite=75']]] as [number, string[]][]) {
      const r = kaio([`--filename=${f}`, '--name=m', '--size=1m', '--rw=randrw', ...args, '--iodepth=8', '--number_ios=10000', '--output-format=json']);
      assert.equal(r.status, 0, r.stderr);
      const j = json<FioDoc>(r.stdout).jobs[0];
      const share = (j.read.total_ios / (j.read.total_ios + j.write.total_ios)) * 100;
      assert.ok(Math.abs(share - mix) < 3, `rwmixread=${mix}: ${share.toFixed(1)}% reads`);
    }
  });

  it('bssplit and per-direction bs pick the sizes asked for', () => {
    const f = path.join(dir, 'bs');
    let r = kaio([`--filename=${f}`, '--name=b', '--size=1m', '--rw=randrw', '--bs=4k,16k', '--number_ios=400', '--output-format=json']);
    assert.equal(r.status, 0, r.stderr);
    let j = json<FioDoc>(r.stdout).jobs[0];
    assert.equal(j.read.io_bytes, j.read.total_ios * 4096);
    assert.equal(j.write.io_bytes, j.write.total_ios * 16384);
    r = kaio([`--filename=${f}`, '--name=b', '--size=1m', '--rw=randread', '--bssplit=4k/50:8k/50', '--number_ios=2000', '--output-format=json']);
    j = json<FioDoc>(r.stdout).jobs[0];
    const avg = j.read.io_bytes / j.read.total_ios;
    assert.ok(avg > 5500 && avg < 6800, `mean block ${avg}`);
  });

  it('numjobs runs each job instance on its own (own counts, own file without --filename)', () => {
    const r = kaio([`--directory=${dir}`, '--name=nj', '--size=512k', '--rw=randread', '--numjobs=3', '--iodepth=2', '--number_ios=100',
      '--output-format=json']);
    assert.equal(r.status, 0, r.stderr);
    const doc = json<FioDoc>(r.stdout);
    assert.deepEqual(doc.jobs.map((j) => [j.jobname, j.read.total_ios]), [['nj', 100], ['nj', 100], ['nj', 100]]);
    for (let n = 0; n < 3; n++) assert.equal(fs.statSync(path.join(dir, `nj.${n}.0`)).size, 512 * 1024, "fio's name.jobnum.filenum");
    const g = json<FioDoc>(kaio([`--directory=${dir}`, '--name=nj', '--size=512k', '--numjobs=3', '--number_ios=100', '--group_reporting',
      '--output-format=json']).stdout);
    assert.equal(g.jobs.length, 1);
    assert.equal(g.jobs[0].read.total_ios, 300);
    assert.equal(g.jobs[0].read.clat_ns.N, 300);
  });

  it('fsync=N issues an fsync after every N writes; end_fsync adds one at the end', () => {
    const f = path.join(dir, 'sync');
    const engines = ['io_uring', 'libaio', 'psync', 'fs', 'fs-sync'];
    const args = [`--filename=${f}`, '--size=256k', '--rw=randwrite', '--fsync=8', '--number_ios=64', '--iodepth=4', '--output-format=json'];
    for (const e of engines) args.push(`--name=${e}`, `--ioengine=${e}`);
    args.push('--name=end', '--rw=write', '--fsync=0', '--end_fsync=1', '--number_ios=16');
    const r = kaio(args);
    assert.equal(r.status, 0, r.stderr);
    const jobs = json<FioDoc>(r.stdout).jobs;
    engines.forEach((e, i) => assert.equal(jobs[i].sync.total_ios, 8, e));
    assert.equal(jobs[engines.length].sync.total_ios, 1, 'end_fsync');
  });

  it("a buffered run drops the file's pages from the page cache first (fio's invalidate=1); --invalidate=0 keeps them", function () {
    const f = path.join(dir, 'cached');
    fs.writeFileSync(f, Buffer.alloc(4 << 20, 7));
    fs.readFileSync(f); // now in the page cache (dirty or not)
    const cached = () => {
      const r = spawnSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', f], { encoding: 'utf8' });
      return r.status === 0 ? Number(r.stdout.trim()) : undefined;
    };
    if (cached() === undefined) skip(this, 'fincore (util-linux) is not installed');
    assert.equal(cached(), 4 << 20);
    // One 4 KiB read at offset 0: afterwards only what it read (plus readahead) is cached.
    let r = kaio([`--filename=${f}`, '--name=i', '--rw=read', '--number_ios=1', '--output-format=json']);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(cached()! < 4 << 20, `still cached: ${cached()}`);
    assert.deepEqual(json<FioDoc>(r.stdout).jobs[0].kaio.notes, []);
    fs.readFileSync(f);
    r = kaio([`--filename=${f}`, '--name=i', '--rw=read', '--number_ios=1', '--invalidate=0']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(cached(), 4 << 20);
  });

  it('size=N% takes that share of an existing file; a missing file is an error', () => {
    const f = path.join(dir, 'pct');
    fs.writeFileSync(f, Buffer.alloc(1 << 20, 3));
    let r = kaio([`--filename=${f}`, '--name=p', '--size=25%', '--rw=read', '--bs=4k', '--output-format=json']);
    assert.equal(r.status, 0, r.stderr);
    const j = json<FioDoc>(r.stdout).jobs[0];
    assert.equal(j.read.io_bytes, 256 * 1024);
    assert.equal(j.kaio.size, 256 * 1024);
    r = kaio([`--filename=${path.join(dir, 'nope')}`, '--name=p', '--size=25%']);
    refused(r, 1, /percentage needs an existing file/, 'missing file');
    assert.throws(() => parse(['--size=0%']), /percentage/);
  });

  it('sequential jobs cover the region in order; size ends the job when neither runtime nor number_ios is given', () => {
    const f = path.join(dir, 'seq');
    const r = kaio([`--filename=${f}`, '--name=s', '--size=1m', '--offset=256k', '--rw=read', '--bs=64k', '--output-format=json']);
    assert.equal(r.status, 0, r.stderr);
    const j = json<FioDoc>(r.stdout).jobs[0];
    assert.equal(j.read.total_ios, 16);
    assert.equal(j.read.io_bytes, 1024 * 1024);
  });
});

describe('54 kaio bench: verify', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-bench54-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const kind of ['crc32c', 'md5', 'pattern']) {
    it(`verify=${kind}: a write job checks its blocks; a byte flipped on disk is found, by offset, and fails the read-back (exit 1)`, () => {
      const f = path.join(dir, `v-${kind}`);
      const extra = kind === 'pattern' ? ['--verify_pattern=0x5aa5c33c'] : [];
      let r = kaio([`--filename=${f}`, '--name=v', '--size=256k', '--rw=randwrite', '--bs=4k', '--iodepth=4', `--verify=${kind}`, '--invalidate=0', ...extra,
        '--output-format=json']);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(json<FioDoc>(r.stdout).jobs[0].kaio.verified_blocks, 64, 'every block written was read back and checked');
      // Read back: clean (once; the other kinds go straight to the flipped byte).
      if (kind === 'crc32c') r = kaio([`--filename=${f}`, '--name=v', '--size=256k', '--rw=read', '--bs=4k', `--verify=${kind}`, '--invalidate=0', ...extra, '--output-format=json']);
      assert.equal(r.status, 0, r.stderr);
      // Flip one byte in the middle of block 37's payload.
      flipByte(f, 37 * 4096 + 1000);
      r = kaio([`--filename=${f}`, '--name=v', '--size=256k', '--rw=read', '--bs=4k', `--verify=${kind}`, '--invalidate=0', ...extra]);
      // fio's words: the bad interval's file offset and length, the requested block; the digests or the bad byte.
      const where = `verify failed at file .* offset ${37 * 4096}, length 4096 \\(requested block: offset=${37 * 4096}, length=4096\\)`;
      refused(r, 1, new RegExp(kind === 'pattern' ? `bad pattern block offset 1000 pattern: ${where}` : `${kind}: ${where} Expected CRC: [0-9a-f]+ Received CRC: [0-9a-f]+`), kind);
      assert.match(r.stdout, /err=84/, 'the job reports the error');
    });
  }

  it('verify on data never written with a verify header fails with the block offset', () => {
    const f = path.join(dir, 'plain');
    const r = kaio([`--filename=${f}`, '--name=v', '--size=64k', '--rw=read', '--verify=crc32c', '--invalidate=0']);
    refused(r, 1, /verify: bad magic header [0-9a-f]+, wanted acca at file .* offset 0, length 4096 \(requested block: offset=0, length=4096\)/, 'plain data');
  });
});

describe('54 kaio bench: errors, Ctrl-C and the default job', () => {
  it('every bad input: one line on stderr, exit 2, nothing run', () => {
    const bad: [string[], RegExp][] = [
      [['--rw=sideways'], /--rw/],
      [['--rw=trim', '--ioengine=fs'], /fs has no trim op/],
      [['--rw=trimwrite'], /trimwrite.*io_uring cannot mix/],
      [['--bs=4q'], /--bs/],
      [['--bs=4k,8k,4k,1k'], /at most 3/],
      [['--bssplit=4k/60:8k/60'], /120/],
      [['--bssplit=4k/50:8k/40'], /not 100/],
      [['--iodepth=0'], /--iodepth/],
      [['--iodepth', 'x'], /--iodepth/],
      [['--numjobs=0'], /--numjobs/],
      [['--rwmixread=101'], /--rwmixread/],
      [['--size=0'], /--size/],
      [['--runtime=soon'], /--runtime/],
      [['--time_based'], /needs --runtime/],
      [['--direct=2'], /--direct/],
      [['--direct=1', '--bs=1000'], /multiple of 512/],
      [['--ioengine=posixaio'], /posixaio.*io_uring, libaio, psync, pvsync2, fs, fs-sync, sync, null/],
      [['--ioengine=fs', '--fixedbufs'], /--fixedbufs.*io_uring/],
      [['--ioengine=libaio', '--registerfiles'], /--registerfiles/],
      [['--ioengine=psync', '--sqthread_poll'], /--sqthread_poll/],
      [['--ioengine=fs', '--hipri', '--direct=1'], /--hipri/],
      [['--hipri'], /--direct=1/],
      [['--ioengine=libaio', '--api=promise'], /--api/],
      [['--ioengine=fs', '--rw=nop'], /nop/],
      [['--api=fast'], /--api/],
      [['--random_distribution=zipf:1'], /zipf/],
      [['--random_distribution=pareto:2'], /pareto/],
      [['--random_distribution=gauss'], /random_distribution/],
      [['--verify=xxhash'], /--verify/],
      [['--verify=pattern'], /verify_pattern/],
      [['--verify=crc32c', '--bs=32'], /header/],
      [['--verify_pattern=zz'], /verify_pattern/],
      [['--percentile_list=0:50'], /percentile_list/],
      [['--output-format=xml'], /output-format/],
      [['--eta=sometimes'], /--eta/],
      [['--allow_mounted_write=2'], /--allow_mounted_write/],
      [['--readonly', '--name=w', '--rw=randwrite'], /--readonly.*job w writes/],
      [['--readonly', '--name=m', '--rw=randrw', '--rwmixread=90'], /--readonly/],
      [['--nope=1'], /--nope/],
      [['-x'], /-x/],
      [['--name'], /--name/],
      [['kaio-no-such-job-file.fio'], /cannot read/],
    ];
    // Each is refused by the parser with a Node error code (in-process: fast) ...
    for (const [args, re] of bad) {
      assert.throws(() => parse(args), (e: KaioError) => {
        assert.match(String(e.code), /^ERR_(INVALID_ARG_VALUE|PARSE_ARGS_\w+)$/, args.join(' '));
        assert.match(e.message, re, args.join(' '));
        assert.doesNotMatch(e.message, /\n/, args.join(' '));
        return true;
      }, args.join(' '));
    }
    // ... and the command turns that into one line and exit 2, before any I/O.
    const viaCli = ['--rw=sideways', '--ioengine=posixaio', '--ioengine=fs --fixedbufs', '-x', 'kaio-no-such-job-file.fio', '--readonly --name=w --rw=randwrite'];
    const picked = bad.filter(([args]) => viaCli.includes(args.join(' ')));
    assert.equal(picked.length, viaCli.length);
    for (const [args, re] of picked) {
      const r = kaio(args);
      refused(r, 2, re, args.join(' '));
      assert.equal(r.stdout, '', args.join(' '));
    }
  });

  it('an I/O error is one line naming file, op, offset and length (exit 1)', () => {
    // /dev/full takes no writes: ENOSPC on the first one.
    const r = kaio(['--filename=/dev/full', '--name=full', '--rw=write', '--size=64k', '--number_ios=4', '--output-format=json']);
    refused(r, 1, /io error on \/dev\/full: ENOSPC: write offset=0, buflen=4096/, '/dev/full');
    assert.equal(json<FioDoc>(r.stdout).jobs[0].error, 28);
  });

  it('SIGINT stops the jobs and prints what they did so far (exit 130), in JSON too', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-bench54-'));
    try {
      const child = spawn(process.execPath, [bin, 'bench', `--filename=${path.join(dir, 'f')}`, '--name=int', '--size=1m', '--rw=randread',
        '--time_based', '--runtime=60', '--eta=always', '--output-format=json'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d) => (out += d));
      // The status line (every second while a job runs) gives the reads of
      // the last second: send SIGINT once one shows reads done (a slow
      // machine, such as the kernel lab under TCG, may show 0 IOPS first).
      await new Promise<void>((resolve, reject) => {
        child.stderr.on('data', (d) => {
          err += d;
          if (/Jobs: 1 .*\[r=(?!0 IOPS\])[\d.]+[kMG]? IOPS\]/.test(err)) resolve();
        });
        child.on('exit', () => reject(new Error(`exited early: ${err}`)));
      });
      child.kill('SIGINT');
      const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      assert.equal(code, 130, err);
      assert.match(err, /terminating on signal SIGINT/);
      const j = json<FioDoc>(out).jobs[0];
      assert.ok(j.read.total_ios > 0);
      assert.equal(j.read.clat_ns.N, j.read.total_ios);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('with no arguments it runs the default job on a temp file in os.tmpdir() and removes it (even on Ctrl-C)', async () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-bench54-tmpdir-'));
    try {
      const child = spawn(process.execPath, [bin, 'bench'], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: tmp } });
      let out = '';
      let err = '';
      child.stderr.on('data', (d) => (err += d));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on('data', (d) => {
          out += d;
          if (/Starting 1 process/.test(out)) resolve();
        });
        child.on('exit', () => reject(new Error(`exited early: ${err}`)));
      });
      // Wait until the temp file is fully laid out (256 MiB): the job starts right after, so a
      // SIGINT from then on stops a running job (it may have done no I/O yet: no timing is assumed).
      const laidOut = () => {
        const [d] = fs.readdirSync(tmp);
        if (!d) return false;
        const [f] = fs.readdirSync(path.join(tmp, d));
        return f !== undefined && fs.statSync(path.join(tmp, d, f)).size === 256 * 1024 * 1024;
      };
      let exited = false;
      child.once('exit', () => (exited = true));
      await waitFor(() => exited || laidOut(), 'the 256 MiB temp file to be laid out', 30000, 10);
      assert.ok(!exited, `exited early: ${err}`);
      assert.equal(fs.readdirSync(tmp).length, 1, 'one temp dir made under os.tmpdir()');
      child.kill('SIGINT');
      const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
      assert.equal(code, 130, err);
      assert.match(out, /^kaio-default: \(g=0\): rw=randread, bs=\(R\) 4096B-4096B.*iodepth=32$/m);
      assert.match(out, /^kaio-default: \(groupid=0, jobs=1\)/m);
      assert.deepEqual(fs.readdirSync(tmp), [], 'temp file left behind');
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});

describe('54 kaio bench internals: histogram and block pickers', () => {
  it("fio's log-linear buckets: exact below 128, then 64 buckets per power of two (< 1/64 relative error)", () => {
    for (let v = 0; v < 128; v++) assert.equal(bucketValue(bucketOf(v)), v);
    let prev = -1;
    for (let v = 128; v < 2 ** 33; v = Math.floor(v * 1.07) + 1) {
      const i = bucketOf(v);
      assert.ok(i >= prev, 'monotonic');
      prev = i;
      assert.ok(Math.abs(bucketValue(i) - v) / v <= 1 / 64, `${v} -> ${bucketValue(i)}`);
    }
    assert.equal(PLAT_NR, 29 * 64);
    assert.equal(bucketOf(2 ** 40), PLAT_NR - 1, 'values beyond the last group land in the last bucket');
  });

  it('percentiles walk the buckets like fio; histograms add', () => {
    const h = new Histogram();
    for (let v = 1; v <= 100; v++) h.record(v);
    assert.deepEqual(h.percentiles([1, 50, 99, 100]), [1, 50, 99, 100]);
    assert.equal(h.mean, 50.5);
    assert.equal(h.min, 1);
    assert.equal(h.max, 100);
    const g = new Histogram();
    for (let v = 101; v <= 200; v++) g.record(v * 1000);
    h.add(g);
    assert.equal(h.count, 200);
    assert.ok(Math.abs(h.percentile(75) - 150000) / 150000 < 1 / 64);
  });

  it('the random map hits every block once per pass; zipf/pareto are skewed, normal is centred', () => {
    const p = new UniformPicker(1000, new Rand(1), true);
    const seen = new Set<number>();
    for (let i = 0; i < 1000; i++) seen.add(p.next());
    assert.equal(seen.size, 1000);
    const n = 10000;
    for (const dist of [{ kind: 'zipf', param: 1.2 }, { kind: 'pareto', param: 0.2 }] as const) {
      const counts = new Map<number, number>();
      const s = new SkewedPicker(n, new Rand(2), dist);
      for (let i = 0; i < 50000; i++) {
        const b = s.next();
        assert.ok(b >= 0 && b < n);
        counts.set(b, (counts.get(b) || 0) + 1);
      }
      const top = [...counts.values()].sort((a, b) => b - a).slice(0, n / 100).reduce((a, b) => a + b, 0);
      assert.ok(top > 50000 * 0.2, `${dist.kind}: the hottest 1% of blocks got ${top} of 50000`);
    }
    const s = new SkewedPicker(n, new Rand(3), { kind: 'normal', param: 5 });
    let inside = 0;
    for (let i = 0; i < 10000; i++) if (Math.abs(s.next() - n / 2) <= n * 0.1) inside++;
    assert.ok(inside > 9000, `${inside} of 10000 within 2σ`);
  });
});
