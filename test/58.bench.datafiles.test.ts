// Several files per job on the data engines (io_uring, libaio, psync, sync,
// pvsync2): which file each op goes to is fio's file_service_type and
// openfiles, checked on the files themselves after the job (the blocks each
// file had written, the pages each file had read into the page cache)
// against fio (installed) running the same job; and the failures.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { fio, haveFio, kaio, doc as parseDoc, refused } from './bench-cli';
import { mountTmpfs, skip } from './helpers';

type Dir = { total_ios: number; io_bytes: number };
type Doc = { jobs: Array<{ jobname: string; error: number; read: Dir; write: Dir }> };

const doc = (r: SpawnSyncReturns<string>): Doc => parseDoc<Doc>(r);
/** Per file of the set, the 4 KiB blocks holding anything but zeros (the blocks a write job wrote). */
function written(dir: string, n: number): number[] {
  return Array.from({ length: n }, (_, i) => {
    const b = fs.readFileSync(path.join(dir, `m.0.${i}`));
    let w = 0;
    for (let k = 0; k < b.length; k += 4096) if (b.subarray(k, k + 4096).some((x) => x !== 0)) w++;
    return w;
  });
}

describe('58 kaio bench: several files per job on the data engines (nrfiles, file_service_type, openfiles)', () => {
  let dir = '';
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-58d-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  // 4 files of 256 KiB, 384 KiB of 4 KiB writes: how they spread tells the file choice apart.
  const job = (d: string, extra: string[], ioSize = ['--io_size=384k']): string[] => [
    '--name=m',
    `--directory=${d}`,
    '--nrfiles=4',
    '--size=1m',
    ...ioSize,
    '--bs=4k',
    '--iodepth=8',
    '--output-format=json',
    ...extra,
  ];
  const cases: Array<[string, string[], number[]]> = [
    // fio: the next file each op; 96 blocks, 24 per file.
    ['roundrobin', ['--rw=write', '--file_service_type=roundrobin'], [24, 24, 24, 24]],
    // a file to the end of its bytes, then the next
    ['sequential', ['--rw=write', '--file_service_type=sequential'], [64, 32, 0, 0]],
    // two open at once: the first two take every op until one is done
    ['roundrobin, openfiles=2', ['--rw=write', '--openfiles=2'], [48, 48, 0, 0]],
    // 8 ops to a file before the next; random offsets in each file (its own random map)
    ['roundrobin:8 with randwrite', ['--rw=randwrite', '--file_service_type=roundrobin:8'], [24, 24, 24, 24]],
    // fio's get_next_file: file 0 is done but still open while its last ops are in flight, so file 1,
    // chosen next, cannot open (EBUSY); the choice has moved on when fio chooses again after reaping.
    ['sequential with randwrite, openfiles=1, iodepth=8', ['--rw=randwrite', '--file_service_type=sequential', '--openfiles=1'], [64, 0, 32, 0]],
    // one op at a time: file 0 is closed before the next choice
    ['sequential with randwrite, openfiles=1, psync', ['--rw=randwrite', '--file_service_type=sequential', '--openfiles=1', '--ioengine=psync'], [64, 32, 0, 0]],
  ];
  for (const [what, extra, want] of cases) {
    it(`${what}: each file gets the blocks fio gives it (${want.join(', ')})`, function () {
      const k = doc(kaio(job(dir, ['--ioengine=io_uring', ...extra]))).jobs[0];
      assert.equal(k.error, 0);
      assert.equal(k.write.io_bytes, 384 * 1024);
      assert.deepEqual(written(dir, 4), want);
      if (!haveFio) skip(this, 'fio is not installed (the reference for the same job)');
      const fd = path.join(dir, 'fio');
      fs.mkdirSync(fd);
      const f = doc(fio(job(fd, ['--ioengine=io_uring', ...extra]))).jobs[0];
      assert.equal(f.write.io_bytes, k.write.io_bytes);
      assert.deepEqual(written(fd, 4), written(dir, 4));
    });
  }

  for (const engine of ['libaio', 'psync', 'sync', 'pvsync2', 'io_uring --api=promise']) {
    it(`${engine}: the same spread (roundrobin, openfiles=2)`, () => {
      const k = doc(kaio(job(dir, [`--ioengine=${engine.split(' ')[0]}`, ...engine.split(' ').slice(1), '--rw=write', '--openfiles=2']))).jobs[0];
      assert.equal(k.error, 0);
      assert.equal(k.write.total_ios, 96);
      assert.deepEqual(written(dir, 4), [48, 48, 0, 0]);
    });
  }

  it('file_service_type=random: every op in some file, none past a file\'s bytes, every file used (as fio)', function () {
    const k = doc(kaio(job(dir, ['--ioengine=io_uring', '--rw=randwrite', '--file_service_type=random']))).jobs[0];
    const w = written(dir, 4);
    assert.equal(k.write.total_ios, 96);
    assert.equal(w.reduce((a, b) => a + b), 96, String(w));
    assert.ok(w.every((x) => x > 0 && x <= 64), String(w));
    if (!haveFio) skip(this, 'fio is not installed');
    const fd = path.join(dir, 'fio');
    fs.mkdirSync(fd);
    const f = doc(fio(job(fd, ['--ioengine=io_uring', '--rw=randwrite', '--file_service_type=random']))).jobs[0];
    assert.equal(f.write.total_ios, k.write.total_ios);
    assert.equal(written(fd, 4).reduce((a, b) => a + b), 96);
  });

  it('file_service_type=zipf:1.2 and pareto:0.1: as in fio, one file takes most ops (the hot ranks in file order, rotated), not spread', function () {
    for (const svc of ['zipf:1.2', 'pareto:0.1']) {
      const args = ['--ioengine=io_uring', '--rw=randwrite', `--file_service_type=${svc}`];
      const k = doc(kaio(job(dir, args))).jobs[0];
      assert.equal(k.write.total_ios, 96);
      // A file whose 64 blocks are all written starts over (a skewed choice resets it, as fio's): at most 64.
      const w = written(dir, 4);
      assert.ok(Math.max(...w) >= 48, `${svc}: kaio ${w}`);
      for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f), { recursive: true });
      if (!haveFio) continue;
      const fd = path.join(dir, 'fio');
      fs.mkdirSync(fd);
      doc(fio(job(fd, args)));
      const fw = written(fd, 4);
      assert.ok(Math.max(...fw) >= 48, `${svc}: fio ${fw}`);
      fs.rmSync(fd, { recursive: true });
    }
    if (!haveFio) skip(this, 'fio is not installed (the reference for the same jobs)');
  });

  it('reads go to the files chosen: openfiles=2 reads the first two files only (their pages cached, the others none), bytes as fio', function () {
    if (spawnSync('fincore', ['--version']).status !== 0) skip(this, 'no fincore(1) to see the page cache');
    const args = ['--ioengine=io_uring', '--rw=randread', '--openfiles=2'];
    const k = doc(kaio(job(dir, args))).jobs[0];
    assert.equal(k.read.io_bytes, 384 * 1024);
    const cached = (d: string): number[] =>
      Array.from({ length: 4 }, (_, i) => Number(spawnSync('fincore', ['-b', '-n', '-r', '-o', 'RES', path.join(d, `m.0.${i}`)], { encoding: 'utf8' }).stdout.trim()));
    const c = cached(dir);
    // The laid-out files were dropped from the cache (invalidate=1) before the reads.
    assert.ok(c[0] >= 48 * 4096 && c[1] >= 48 * 4096, `cached ${c}`);
    assert.deepEqual(c.slice(2), [0, 0], `cached ${c}`);
    if (!haveFio) skip(this, 'fio is not installed');
    const fd = path.join(dir, 'fio');
    fs.mkdirSync(fd);
    const f = doc(fio(job(fd, args))).jobs[0];
    assert.equal(f.read.io_bytes, k.read.io_bytes);
    assert.deepEqual(cached(fd).slice(2), [0, 0]);
  });

  it('time_based goes over the files again and again (a new pass when all are done); loops=2 does each file twice', () => {
    const t = doc(kaio(job(dir, ['--ioengine=io_uring', '--rw=read', '--time_based', '--runtime=1', '--size=256k'], []))).jobs[0];
    assert.equal(t.error, 0);
    assert.ok(t.read.io_bytes > 256 * 1024, `${t.read.io_bytes} bytes in 1 s`);
    const l = doc(kaio(job(dir, ['--ioengine=psync', '--rw=read', '--loops=2', '--size=256k'], []))).jobs[0];
    assert.equal(l.read.io_bytes, 2 * 256 * 1024);
  });

  it('end_fsync syncs every file; a filename list is the set (nrfiles is its length)', () => {
    const names = ['a', 'b', 'c'].map((n) => path.join(dir, n));
    const k = doc(kaio(['--name=l', `--filename=${names.join(':')}`, '--size=96k', '--rw=write', '--bs=4k', '--end_fsync=1', '--ioengine=libaio', '--output-format=json'])).jobs[0];
    assert.equal(k.write.io_bytes, 96 * 1024);
    for (const n of names) assert.equal(fs.statSync(n).size, 32 * 1024, n);
  });

  it('refuses at once, exit 2, every option it cannot combine with several files; an engine without them names the ones with', () => {
    refused(kaio(job(dir, ['--rw=write', '--fsync=4', '--fdatasync=2', '--registerfiles', '--fixedbufs'])), 2, /--fsync.*--fdatasync.*--registerfiles/);
    refused(kaio(job(dir, ['--ioengine=fs'])), 2, /--nrfiles.*io_uring, libaio, psync.*fs takes one file/);
    refused(kaio(job(dir, ['--rw=write', '--verify=crc32c'])), 2, /--verify.*several files/);
  });

  it('a file of the set that cannot be opened fails the job naming it (EISDIR), exit 1', () => {
    const d = path.join(dir, 'sub');
    fs.mkdirSync(d);
    const f = path.join(dir, 'f');
    const r = kaio(['--name=e', `--filename=${f}:${d}`, '--size=64k', '--rw=read', '--bs=4k', '--ioengine=io_uring', '--output-format=json']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr + r.stdout, new RegExp(`${d.replace(/[/.]/g, '\\$&')}.*EISDIR|EISDIR.*${d.replace(/[/.]/g, '\\$&')}`));
  });

  it('no room on the filesystem: ENOSPC on the file the write hit, exit 1', function () {
    const t = mountTmpfs('256k');
    if (!t.mounted) skip(this, `cannot mount a tmpfs: ${t.why}`);
    try {
      // fallocate=none: nothing laid out, the writes find the filesystem full.
      const r = kaio(['--name=m', `--directory=${t.dir}`, '--nrfiles=4', '--size=1m', '--rw=write', '--bs=4k', '--fallocate=none', '--ioengine=io_uring', '--iodepth=4', '--output-format=json']);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr + r.stdout, /ENOSPC/);
      assert.match(r.stderr + r.stdout, /m\.0\.[0-3]/);
    } finally {
      t.unmount();
    }
  });
});
