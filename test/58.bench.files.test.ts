// `kaio bench` file sets and file engines against the real kernel: files
// made, named and sized as fio makes them (nrfiles, filesize, size split,
// filename_format), the file engines' ops reaching the filesystem
// (filecreate, filestat, filedelete, dir*, ftruncate, falloc), trims that
// punch holes, which file each op goes to (file_service_type, openfiles),
// and the failures. Where fio (installed) runs the same job, its files and
// counts are the reference.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { parseCommandLine } from '../dist/lib/bench/options';
import { FileChooser, fileName, planFiles } from '../dist/lib/bench/files';
import { pkgRoot, mountTmpfs, skip } from './helpers';

const bin = path.join(pkgRoot, 'bin', 'kaio');

type Dir = { total_ios: number; io_bytes: number; clat_ns: { N: number }; lat_ns: { N: number } };
type Doc = { jobs: Array<{ jobname: string; error: number; read: Dir; write: Dir; trim: Dir }> };

const kaio = (args: string[], cwd?: string): SpawnSyncReturns<string> =>
  spawnSync(process.execPath, [bin, 'bench', '--eta=never', ...args], { encoding: 'utf8', timeout: 60000, cwd });
const haveFio = spawnSync('fio', ['--version'], { encoding: 'utf8' }).status === 0;
const fio = (args: string[], cwd?: string): SpawnSyncReturns<string> => spawnSync('fio', args, { encoding: 'utf8', timeout: 60000, cwd });
const doc = (r: SpawnSyncReturns<string>): Doc => {
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
};
const parse = (args: string[]) => parseCommandLine(args, () => {
  throw Object.assign(new Error('no file'), { code: 'ENOENT' });
});
const scratch = (): string => fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-58-'));
/** name -> [size, mode & 0o777, isDirectory] of what a directory holds. */
const listing = (dir: string): Record<string, [number, number, boolean]> =>
  Object.fromEntries(
    fs.readdirSync(dir).sort().map((f) => {
      const st = fs.statSync(path.join(dir, f));
      return [f, [st.isDirectory() ? 0 : st.size, st.mode & 0o777, st.isDirectory()]];
    }),
  );
/** One line on stderr, "kaio bench: ...", the given exit status, no stack. */
function refused(r: SpawnSyncReturns<string>, status: number, re: RegExp): void {
  assert.equal(r.status, status, r.stderr);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^kaio bench: /);
  assert.match(lines[0], re);
}

describe('58 kaio bench: file-set options', () => {
  it("parses fio's values: nrfiles/nr_files, filesize ranges, openfiles, file_service_type, fallocate, filename_format, stat_type", () => {
    const [a] = parse(['--name=a', '--ioengine=filestat', '--nr_files=8', '--filesize=8k-64k', '--openfiles=2', '--file_service_type=random:4', '--fallocate=keep', '--stat_type=lstat']).jobs;
    assert.equal(a.nrfiles, 8);
    assert.deepEqual([a.fileSizeLow, a.fileSizeHigh], [8192, 65536]);
    assert.equal(a.openFiles, 2);
    assert.deepEqual(a.fileService, { kind: 'random', nr: 4, param: 0 });
    assert.equal(a.fallocate, 'keep');
    assert.equal(a.statType, 'lstat');
    const [b] = parse(['--name=b', '--file_service_type=zipf', '--fallocate=1', '--filename_format=x.$JOBNUM.$filenum']).jobs;
    // fio's defaults: zipf θ 1.1; fallocate=1 is posix.
    assert.deepEqual(b.fileService, { kind: 'zipf', nr: 1, param: 1.1 });
    assert.equal(b.fallocate, 'posix');
    assert.equal(fileName(b.filenameFormat, 'b', 3, 7), 'x.3.7');
    const [c] = parse(['--name=c']).jobs;
    // fio's defaults: one file, roundrobin, fallocate=native, stat.
    assert.equal(c.nrfiles, 1);
    assert.deepEqual(c.fileService, { kind: 'roundrobin', nr: 1, param: 0 });
    assert.equal(c.fallocate, 'native');
    assert.equal(c.statType, 'stat');
    assert.equal(parse(['--name=d', '--file_service_type=gauss:5']).jobs[0].fileService.kind, 'normal');
  });

  it('refuses nrfiles=0, a bad file_service_type, zipf:1, a bad fallocate and filesize range, in one line, exit 2', () => {
    refused(kaio(['--name=a', '--nrfiles=0', '--size=1m']), 2, /--nrfiles.*from 1/);
    refused(kaio(['--name=a', '--file_service_type=bogus', '--size=1m']), 2, /--file_service_type.*bogus/);
    refused(kaio(['--name=a', '--file_service_type=zipf:1', '--size=1m']), 2, /θ != 1/);
    refused(kaio(['--name=a', '--file_service_type=roundrobin:0', '--size=1m']), 2, /at least 1/);
    refused(kaio(['--name=a', '--fallocate=always', '--size=1m']), 2, /--fallocate/);
    refused(kaio(['--name=a', '--filesize=64k-8k']), 2, /below low/);
    refused(kaio(['--name=a', '--stat_type=fstat', '--ioengine=filestat', '--size=1m']), 2, /--stat_type/);
  });

  it('sizes files as fio: size split evenly, filesize per file, a range drawn per file in blocks, an existing file within the range kept', () => {
    const dir = scratch();
    const base = { jobname: 'j', jobnum: 1, names: [], directory: dir, format: '', offset: 0, minBs: 4096, ioengine: 'psync', createOnOpen: false, seed: 1 };
    const even = planFiles({ ...base, nrfiles: 4, size: 1 << 20, fileSizeLow: 0, fileSizeHigh: 0 });
    assert.deepEqual(even.files.map((f) => path.basename(f.path)), ['j.1.0', 'j.1.1', 'j.1.2', 'j.1.3']);
    assert.deepEqual(even.files.map((f) => f.ioSize), [262144, 262144, 262144, 262144]);
    assert.equal(even.budget, 1 << 20);
    const fixed = planFiles({ ...base, nrfiles: 3, size: 0, fileSizeLow: 65536, fileSizeHigh: 65536 });
    assert.deepEqual(fixed.files.map((f) => f.layout), [65536, 65536, 65536]);
    assert.equal(fixed.budget, 3 * 65536);
    // size below the files' total caps the job's bytes, not the files.
    assert.equal(planFiles({ ...base, nrfiles: 3, size: 65536, fileSizeLow: 65536, fileSizeHigh: 65536 }).budget, 65536);
    const ranged = planFiles({ ...base, nrfiles: 32, size: 0, fileSizeLow: 8192, fileSizeHigh: 65536 });
    for (const f of ranged.files) {
      assert.ok(f.ioSize >= 8192 && f.ioSize <= 65536 && f.ioSize % 4096 === 0, String(f.ioSize));
    }
    assert.ok(new Set(ranged.files.map((f) => f.ioSize)).size > 4, 'sizes drawn, not one size');
    fs.writeFileSync(path.join(dir, 'j.1.0'), Buffer.alloc(20480));
    const kept = planFiles({ ...base, nrfiles: 1, size: 0, fileSizeLow: 8192, fileSizeHigh: 65536 });
    assert.deepEqual([kept.files[0].ioSize, kept.files[0].layout], [20480, 0]);
    fs.rmSync(dir, { recursive: true });
  });

  it('file_service_type: roundrobin, sequential, random:N keeps N ops, openfiles caps the open files, zipf favours some files', () => {
    const opened: number[] = [];
    const run = (kind: 'roundrobin' | 'sequential' | 'random' | 'zipf', nr: number, open: number, n = 4, per = 3): number[] => {
      const c = new FileChooser(Array(n).fill(per * 4096), { kind, nr, param: kind === 'zipf' ? 1.2 : 0 }, open, 7, 4096);
      const seq: number[] = [];
      opened.length = 0;
      for (let i = c.next((f) => (opened.push(f), true)); i >= 0; i = c.next((f) => (opened.push(f), true))) {
        assert.ok(c.nOpen <= open, `${c.nOpen} open, at most ${open}`);
        seq.push(i);
        c.used(i, 4096, () => undefined);
      }
      return seq;
    };
    assert.deepEqual(run('roundrobin', 1, 4), [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3]);
    assert.deepEqual(run('sequential', 1, 4), [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
    // openfiles=1: a file is done before the next opens, whatever the service type.
    assert.deepEqual(run('roundrobin', 1, 1), [0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3]);
    const r = run('random', 3, 4, 8, 6);
    assert.equal(r.length, 48);
    for (let i = 0; i < r.length; i += 3) assert.ok(r[i] === r[i + 1] && r[i] === r[i + 2], `random:3 changes files only every 3 ops: ${r}`);
    assert.deepEqual([...opened].sort(), [0, 1, 2, 3, 4, 5, 6, 7], 'each file opened once');
    // zipf restarts a done file (fio resets it): count ops per file over a fixed number of choices.
    const c = new FileChooser(Array(16).fill(4096), { kind: 'zipf', nr: 1, param: 1.2 }, 16, 7, 4096);
    const hits = new Array(16).fill(0);
    for (let k = 0; k < 4000; k++) {
      const i = c.next(() => true);
      hits[i]++;
      c.used(i, 4096, () => undefined);
    }
    const sorted = [...hits].sort((a, b) => b - a);
    assert.ok(sorted[0] > 4 * sorted[8], `zipf: ${hits}`);
  });
});

describe('58 kaio bench: file engines on the real filesystem', function () {
  this.timeout(120000);

  it('filecreate with create_on_open: nrfiles files per instance named SECTION.JOBNUM.FILENUM, empty, 0600; one op and one clat sample per file (as fio)', function () {
    const job = ['--name=fc', '--ioengine=filecreate', '--nrfiles=12', '--filesize=4k', '--openfiles=1', '--create_on_open=1', '--fallocate=none', '--numjobs=2', '--output-format=json'];
    const kd = scratch();
    const k = doc(kaio([...job, `--directory=${kd}`]));
    const names = Object.keys(listing(kd));
    assert.equal(names.length, 24);
    assert.deepEqual(names.filter((n) => n.startsWith('fc.1.')).length, 12);
    for (const [, [size, mode]] of Object.entries(listing(kd))) assert.deepEqual([size, mode], [0, 0o600]);
    for (const j of k.jobs) assert.deepEqual([j.read.total_ios, j.read.io_bytes, j.read.clat_ns.N, j.read.lat_ns.N], [12, 12 * 4096, 12, 0]);
    if (!haveFio) skip(this, 'fio is not installed: its files and counts not compared');
    const fd = scratch();
    const f = doc(fio([...job, `--directory=${fd}`]));
    assert.deepEqual(listing(kd), listing(fd));
    assert.deepEqual(
      k.jobs.map((j) => [j.read.total_ios, j.read.io_bytes, j.read.clat_ns.N]),
      f.jobs.map((j) => [j.read.total_ios, j.read.io_bytes, j.read.clat_ns.N]),
    );
    fs.rmSync(kd, { recursive: true });
    fs.rmSync(fd, { recursive: true });
  });

  for (const statType of ['stat', 'lstat', 'statx']) {
    it(`filestat (stat_type=${statType}): files laid out at filesize, each stated once, blocks counted per file (as fio)`, function () {
      const job = ['--name=st', '--ioengine=filestat', '--nrfiles=6', '--filesize=8k', `--stat_type=${statType}`, '--output-format=json'];
      const kd = scratch();
      const k = doc(kaio([...job, `--directory=${kd}`]));
      assert.deepEqual(Object.values(listing(kd)).map(([s]) => s), Array(6).fill(8192));
      assert.deepEqual([k.jobs[0].read.total_ios, k.jobs[0].read.io_bytes, k.jobs[0].read.clat_ns.N], [12, 6 * 8192, 6]);
      if (!haveFio || statType !== 'stat') return; // fio 3.33 has no stat_type
      const fd = scratch();
      const f = doc(fio([...job.filter((a) => !a.startsWith('--stat_type')), `--directory=${fd}`]));
      assert.deepEqual(Object.keys(listing(kd)), Object.keys(listing(fd)));
      assert.deepEqual([f.jobs[0].read.total_ios, f.jobs[0].read.clat_ns.N], [k.jobs[0].read.total_ios, k.jobs[0].read.clat_ns.N]);
      fs.rmSync(kd, { recursive: true });
      fs.rmSync(fd, { recursive: true });
    });
  }

  it('filedelete: the laid-out files are gone after the job, one clat sample each; fileop_calls=sync does the same with the system calls', function () {
    for (const calls of ['io_uring', 'sync']) {
      const kd = scratch();
      const k = doc(kaio(['--name=del', '--ioengine=filedelete', '--nrfiles=10', '--filesize=4k', '--unlink=0', `--fileop_calls=${calls}`, `--directory=${kd}`, '--output-format=json']));
      assert.deepEqual(fs.readdirSync(kd), [], calls);
      assert.deepEqual([k.jobs[0].read.total_ios, k.jobs[0].read.clat_ns.N], [10, 10], calls);
      fs.rmSync(kd, { recursive: true });
    }
  });

  it('filedelete of a file that is not there fails the job with ENOENT (exit 1, the op named)', () => {
    const kd = scratch();
    // filestat lays the files out; a job of the next group deletes them twice (the second pass finds none).
    const r = kaio(['--name=del', '--ioengine=filedelete', '--nrfiles=2', '--filesize=4k', '--loops=2', `--directory=${kd}`]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout + r.stderr, /filedelete on .*del\.0\.0: ENOENT/);
    fs.rmSync(kd, { recursive: true });
  });

  it('dircreate, dirstat, dirdelete: directories made, stated, removed', () => {
    const kd = scratch();
    const c = doc(kaio(['--name=d', '--ioengine=dircreate', '--nrfiles=5', `--directory=${kd}`, '--output-format=json']));
    assert.deepEqual(Object.values(listing(kd)).map(([, , isDir]) => isDir), Array(5).fill(true));
    assert.equal(c.jobs[0].read.clat_ns.N, 5);
    const s = doc(kaio(['--name=d', '--ioengine=dirstat', '--nrfiles=5', `--directory=${kd}`, '--output-format=json']));
    assert.equal(s.jobs[0].read.clat_ns.N, 5);
    const d = doc(kaio(['--name=d', '--ioengine=dirdelete', '--nrfiles=5', `--directory=${kd}`, '--output-format=json']));
    assert.equal(d.jobs[0].read.clat_ns.N, 5);
    assert.deepEqual(fs.readdirSync(kd), []);
    fs.rmSync(kd, { recursive: true });
  });

  it("ftruncate: each write truncates the file to its offset; the file's final size is the last op's offset (as fio)", function () {
    const job = ['--name=tr', '--ioengine=ftruncate', '--filename=tf', '--size=64k', '--bs=4k', '--rw=write', '--output-format=json'];
    const kd = scratch();
    const k = doc(kaio(job, kd));
    assert.equal(fs.statSync(path.join(kd, 'tf')).size, 60 * 1024);
    assert.deepEqual([k.jobs[0].write.total_ios, k.jobs[0].write.io_bytes, k.jobs[0].write.clat_ns.N], [16, 65536, 16]);
    refused(kaio(['--name=tr', '--ioengine=ftruncate', '--filename=tf', '--size=64k', '--rw=read'], kd), 2, /ftruncate truncates on writes only/);
    if (!haveFio) skip(this, 'fio is not installed: not compared');
    const fd = scratch();
    const f = doc(fio(job, fd));
    assert.equal(fs.statSync(path.join(fd, 'tf')).size, fs.statSync(path.join(kd, 'tf')).size);
    assert.deepEqual([f.jobs[0].write.total_ios, f.jobs[0].write.io_bytes], [k.jobs[0].write.total_ios, k.jobs[0].write.io_bytes]);
    fs.rmSync(kd, { recursive: true });
    fs.rmSync(fd, { recursive: true });
  });
});

describe('58 kaio bench: trims', function () {
  this.timeout(120000);
  const blocks = (f: string): number => fs.statSync(f).blocks;

  it('falloc rw=trim punches holes: st_blocks drops by the trimmed bytes, they read back as zeros, the rest is untouched; trim lines in the output', function () {
    const dir = scratch();
    const file = path.join(dir, 'data');
    const data = Buffer.alloc(4 << 20);
    for (let i = 0; i < data.length; i++) data[i] = (i * 7 + 3) & 0xff || 1;
    fs.writeFileSync(file, data);
    fs.closeSync(fs.openSync(file, 'r+'));
    const before = blocks(file);
    const r = kaio(['--name=t', '--ioengine=falloc', `--filename=${file}`, '--rw=trim', '--bs=64k', '--size=1m', '--offset=1m']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^ {2}trim: IOPS=[\d.]+k?, BW=.*\(1024KiB\//m);
    assert.match(r.stdout, /^ {4}clat /m);
    assert.match(r.stdout, /^ {3}TRIM: bw=.* io=1024KiB /m);
    assert.match(r.stdout, /issued rwts: total=0,0,16,0/);
    const after = fs.readFileSync(file);
    assert.equal(after.length, data.length, 'KEEP_SIZE: the size stays');
    assert.ok(after.subarray(1 << 20, 2 << 20).every((b) => b === 0), 'the trimmed range reads back as zeros');
    assert.ok(after.subarray(0, 1 << 20).equals(data.subarray(0, 1 << 20)) && after.subarray(2 << 20).equals(data.subarray(2 << 20)), 'the rest is untouched');
    assert.equal(before - blocks(file), (1 << 20) / 512, `st_blocks ${before} -> ${blocks(file)}`);
    fs.rmSync(dir, { recursive: true });
  });

  it('falloc randtrim and trimwrite: counts per direction as fio counts them on the same job', function () {
    const dir = scratch();
    const file = path.join(dir, 'data');
    const jobs = [
      ['--name=rt', '--ioengine=falloc', '--filename=data', '--rw=randtrim', '--bs=16k', '--size=1m', '--output-format=json'],
      ['--name=tw', '--ioengine=falloc', '--filename=data', '--rw=trimwrite', '--bs=16k', '--size=1m', '--output-format=json'],
    ];
    for (const job of jobs) {
      fs.writeFileSync(file, Buffer.alloc(1 << 20, 0x5a));
      const k = doc(kaio(job, dir));
      const kc = ['read', 'write', 'trim'].map((d) => [k.jobs[0][d as 'read'].total_ios, k.jobs[0][d as 'read'].io_bytes]);
      if (job[3] === '--rw=randtrim') {
        assert.deepEqual(kc, [[0, 0], [0, 0], [64, 1 << 20]]);
        assert.ok(fs.readFileSync(file).every((b) => b === 0), 'every block trimmed once (random map)');
      } else {
        // trimwrite: each block trimmed, then written (falloc's write is fallocate(0): allocated again, zeros);
        // as in fio, the writes are not counted against size (the job does size twice).
        assert.deepEqual(kc, [[0, 0], [64, 1 << 20], [64, 1 << 20]]);
      }
      if (!haveFio) continue;
      fs.writeFileSync(file, Buffer.alloc(1 << 20, 0x5a));
      const f = doc(fio(job, dir));
      assert.deepEqual(['read', 'write', 'trim'].map((d) => [f.jobs[0][d as 'read'].total_ios, f.jobs[0][d as 'read'].io_bytes]), kc, job[3]);
    }
    if (!haveFio) skip(this, 'fio is not installed: counts not compared');
    fs.rmSync(dir, { recursive: true });
  });

  it('refuses a trim where kaio bench has no trim op, and fails with the kernel\'s reason on a target that cannot punch holes', () => {
    // io_uring, libaio, psync, sync, fs-sync and pvsync2 trim a block device (test 53 discard); the others have no trim op.
    refused(kaio(['--name=t', '--rw=trim', '--ioengine=fs', '--size=1m']), 2, /trim.*BLKDISCARD.*or punches holes with falloc; fs has no trim op/);
    refused(kaio(['--name=t', '--rw=randtrim', '--ioengine=null', '--size=1m']), 2, /null has no trim op/);
    // --readonly refuses a trim as it refuses a write.
    refused(kaio(['--readonly', '--name=t', '--ioengine=falloc', '--rw=trim', '--filename=/dev/zero', '--size=64k']), 2, /--readonly.*writes \(rw=trim\)/);
    // /dev/zero is no file: fallocate(2) answers ENODEV, as it does to fio.
    const r = kaio(['--name=t', '--ioengine=falloc', '--filename=/dev/zero', '--rw=trim', '--size=64k']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout + r.stderr, /ENODEV: trim offset=0, buflen=4096/);
  });
});

describe('58 kaio bench: layout failures', function () {
  this.timeout(60000);
  it('filesize larger than the free space: ENOSPC while laying out, the file named, exit 1 (fallocate=native and none)', function () {
    const t = mountTmpfs('1m');
    if (!t.mounted) skip(this, `cannot mount a tmpfs: ${t.why}`);
    try {
      for (const mode of ['native', 'none']) {
        const r = kaio(['--name=big', '--ioengine=psync', '--rw=read', '--filesize=4m', `--fallocate=${mode}`, `--directory=${t.dir}`]);
        refused(r, 1, /ENOSPC on laying out .*big\.0\.0 \(4194304 bytes/);
      }
    } finally {
      t.unmount();
    }
  });

  it('fallocate modes lay out a write job\'s file as fio: native allocates the size, keep allocates at size 0, truncate sets the size sparse, none leaves it empty', () => {
    const dir = scratch();
    // After the layout, one falloc write (fallocate mode 0 of the first 4k): [size, blocks] as fio leaves them.
    const want: Record<string, (st: fs.Stats) => boolean> = {
      native: (st) => st.size === 1 << 20 && st.blocks >= 2048,
      keep: (st) => st.size === 4096 && st.blocks >= 2048,
      truncate: (st) => st.size === 1 << 20 && st.blocks === 8,
      none: (st) => st.size === 4096 && st.blocks === 8,
    };
    for (const [mode, ok] of Object.entries(want)) {
      const r = kaio(['--name=fa', '--ioengine=falloc', '--rw=write', '--filesize=1m', `--fallocate=${mode}`, '--number_ios=1', '--bs=4k', `--directory=${dir}`, `--filename_format=g.${mode}`]);
      assert.equal(r.status, 0, r.stderr);
      const st = fs.statSync(path.join(dir, `g.${mode}`));
      assert.ok(ok(st), `${mode}: size ${st.size}, blocks ${st.blocks}`);
    }
    fs.rmSync(dir, { recursive: true });
  });
});

describe('58 kaio bench: a group starts together', function () {
  this.timeout(60000);
  it('an instance whose setup fails before the start does not hold its group: the others run, the failure is reported, exit 1', () => {
    const dir = scratch();
    const job = path.join(dir, 'g.fio');
    // /dev/zero refuses O_DIRECT: job a fails in its worker before the group's start; b (null engine) must still run.
    fs.writeFileSync(job, '[a]\nfilename=/dev/zero\ndirect=1\nsize=64k\n[b]\nioengine=null\nsize=1m\n');
    const r = kaio(['--output-format=json', job]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /\/dev\/zero .*O_DIRECT/);
    const d = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as Doc;
    assert.deepEqual(d.jobs.map((j) => [j.jobname, j.read.total_ios]), [['a', 0], ['b', 256]]);
    fs.rmSync(dir, { recursive: true });
  });
});
