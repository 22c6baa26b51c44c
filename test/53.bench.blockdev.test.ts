// `kaio bench` on block devices (loop devices over temp files): read jobs never
// write to the device, the job size comes from the device, and writes to a
// mounted device are refused unless --allow_mounted_write=1.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import { once } from 'node:events';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, execFileSync, type SpawnSyncReturns } from 'node:child_process';
import { pkgRoot, skip } from './helpers';

const bin = path.join(pkgRoot, 'bin', 'kaio');
const kaio = (...args: string[]) => spawnSync(process.execPath, [bin, 'bench', ...args], { encoding: 'utf8', timeout: 60000 });

interface FioDir {
  total_ios: number;
  io_bytes: number;
}
interface FioDoc {
  jobs: Array<{ jobname: string; read: FioDir; write: FioDir; kaio: { size: number; notes: string[] } }>;
}

/** What a failed child process said (execFileSync errors carry its stderr). */
function errText(e: unknown): string {
  const err = e as { stderr?: string; message?: string };
  return String(err.stderr || err.message);
}

const MiB = 1024 * 1024;
const DEV_SIZE = 8 * MiB;
const APIS = ['batch', 'promise', 'node-promises', 'node-callback', 'node-sync'];

function run(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
}

/** sha256 of everything readable through `p` (a device is read to its end). */
function sha256(p: string): string {
  return crypto.createHash('sha256').update(fs.readFileSync(p)).digest('hex');
}

/** A known, non-zero pattern: 4 KiB block i holds sha256(i) repeated. */
function pattern(size: number): Buffer {
  const buf = Buffer.alloc(size);
  for (let off = 0; off < size; off += 4096) {
    buf.fill(crypto.createHash('sha256').update(String(off / 4096)).digest(), off, Math.min(size, off + 4096));
  }
  return buf;
}

/** The few numbers these tests check, from kaio bench's fio-shaped JSON (one job). */
function summary(doc: FioDoc) {
  const j = doc.jobs[0];
  return {
    ops: j.read.total_ios + j.write.total_ios,
    bytes: j.read.io_bytes + j.write.io_bytes,
    job: { size: j.kaio.size },
    notes: j.kaio.notes,
  };
}

/** Exit status 1 and exactly one line on stderr, with no stack trace. */
function assertOneLineError(r: SpawnSyncReturns<string>, re: RegExp, what: string): void {
  assert.equal(r.status, 1, `${what}: status ${r.status}, stderr: ${r.stderr}, stdout: ${r.stdout}`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `${what}: stderr is not one line:\n${r.stderr}`);
  assert.match(lines[0], /^kaio bench: /, what);
  assert.match(lines[0], re, what);
  assert.doesNotMatch(r.stderr, /\n\s+at /, `${what}: stack trace`);
}

describe('53 kaio bench on block devices', function () {
  let dir: string | undefined;
  const loops: string[] = [];
  const mounts: string[] = [];
  let reason: string | undefined;

  /** A loop device over a fresh DEV_SIZE temp file filled with the pattern. */
  function loopDevice(name: string): string {
    const img = path.join(dir as string, `${name}.img`);
    fs.writeFileSync(img, pattern(DEV_SIZE));
    const dev = run('losetup', ['--find', '--show', img]);
    loops.push(dev);
    return dev;
  }

  before(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-blockdev-'));
    if (process.platform !== 'linux') reason = 'loop devices are Linux-only';
    else if (process.getuid?.() !== 0) reason = 'losetup needs root';
    else {
      try {
        loopDevice('probe');
      } catch (e) {
        reason = `losetup failed: ${errText(e).trim()}`;
      }
    }
  });

  beforeEach(function () {
    if (reason) skip(this, reason);
  });

  after(() => {
    for (const m of mounts.splice(0)) {
      try {
        run('umount', [m]);
      } catch (e) {
        console.error(`umount ${m}: ${errText(e)}`);
      }
    }
    for (const dev of loops.splice(0)) {
      try {
        run('losetup', ['-d', dev]);
      } catch (e) {
        console.error(`losetup -d ${dev}: ${errText(e)}`);
      }
    }
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('read jobs through every API leave the device byte-for-byte unchanged (with and without --size)', function () {
    // Eleven runs of kaio bench, each a Node start and a job process's: over a minute on a busy machine.
    this.timeout(180000);
    const dev = loopDevice('reads');
    const before = sha256(dev);
    assert.equal(before, crypto.createHash('sha256').update(pattern(DEV_SIZE)).digest('hex'));
    for (const api of APIS) {
      for (const [size, rw] of [['4m', 'read'], [undefined, 'randread']] as [string | undefined, string][]) {
        {
          const what = `${api} ${rw} size=${size}`;
          const args = [`--filename=${dev}`, `--rw=${rw}`, '--bs=4k', '--iodepth=4', `--api=${api}`, '--number_ios=64',
            '--runtime=30', '--output-format=json'];
          if (size) args.push(`--size=${size}`);
          const r = kaio(...args);
          assert.equal(r.status, 0, `${what}: ${r.stderr}`);
          const res = summary(JSON.parse(r.stdout));
          assert.equal(res.ops, 64, what);
          assert.equal(res.bytes, 64 * 4096, what);
          assert.equal(sha256(dev), before, `${what} changed the device`);
        }
      }
    }
    // O_DIRECT reads too.
    const r = kaio(`--filename=${dev}`, '--rw=randread', '--direct=1', '--api=batch', '--number_ios=64', '--runtime=30');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(sha256(dev), before, 'direct read changed the device');
  });

  it('the job size defaults to the device size; --size smaller is used, larger is a one-line error', () => {
    const dev = loopDevice('size');
    const before = sha256(dev);
    let r = kaio(`--filename=${dev}`, '--rw=read', '--bs=1m', '--iodepth=1', '--number_ios=8', '--runtime=30', '--output-format=json');
    assert.equal(r.status, 0, r.stderr);
    let res = summary(JSON.parse(r.stdout));
    assert.equal(res.job.size, DEV_SIZE);
    assert.equal(res.bytes, DEV_SIZE);
    assert.ok(res.notes.some((n) => /block device/.test(n) && /8 MiB/.test(n)), res.notes.join('; '));

    r = kaio(`--filename=${dev}`, '--rw=read', '--bs=1m', '--iodepth=1', '--number_ios=8', '--runtime=30', '--size=2m', '--output-format=json');
    assert.equal(r.status, 0, r.stderr);
    res = summary(JSON.parse(r.stdout));
    assert.equal(res.job.size, 2 * MiB);

    r = kaio(`--filename=${dev}`, '--rw=randwrite', '--size=16m', '--number_ios=8', '--runtime=30');
    assertOneLineError(r, /larger than/, '--size=16m');
    // A device smaller than one block cannot hold the job either.
    r = kaio(`--filename=${dev}`, '--rw=read', '--bs=16m', '--number_ios=1', '--runtime=30');
    assertOneLineError(r, /smaller than --bs|larger than/, '--bs=16m');
    assert.equal(sha256(dev), before);
  });

  it('a write job on a mounted device is refused with one line (exit 1) and the device is untouched', function () {
    const dev = loopDevice('mounted');
    try {
      run('mkfs.ext4', ['-q', '-E', 'lazy_itable_init=0,lazy_journal_init=0', dev]);
    } catch (e) {
      skip(this, `mkfs.ext4 failed: ${errText(e).trim()}`);
    }
    const mnt = fs.mkdtempSync(path.join(dir as string, 'mnt-'));
    try {
      // Read-only, so the filesystem itself writes nothing and the checksum holds still.
      run('mount', ['-o', 'ro', dev, mnt]);
    } catch (e) {
      skip(this, `mount failed: ${errText(e).trim()}`);
    }
    mounts.unshift(mnt);
    const before = sha256(dev);
    for (const [api, size] of [['batch', undefined], ['node-sync', '1m']] as [string, string | undefined][]) {
      {
        const args = [`--filename=${dev}`, '--rw=randwrite', `--api=${api}`, '--number_ios=16', '--runtime=30'];
        if (size) args.push(`--size=${size}`);
        const r = kaio(...args);
        assertOneLineError(r, /mounted|in use/, `${api} size=${size}`);
        assert.match(r.stderr, /--allow_mounted_write=1/);
      }
    }
    assert.equal(sha256(dev), before, 'the mounted device was written');
    // Reads of a mounted device are fine and change nothing.
    const r = kaio(`--filename=${dev}`, '--rw=randread', '--number_ios=16', '--runtime=30');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(sha256(dev), before);
  });

  it('a write job on a device another process holds open with O_EXCL is refused; the device is untouched', async () => {
    const dev = loopDevice('claimed');
    const before = sha256(dev);
    const holder = spawn(process.execPath, ['-e', `
      const fs = require('node:fs');
      fs.openSync(${JSON.stringify(dev)}, fs.constants.O_RDONLY | fs.constants.O_EXCL);
      process.stdout.write('ready\\n');
      setInterval(() => {}, 1000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout.once('data', (d) => (String(d) === 'ready\n' ? resolve() : reject(new Error(`holder said ${d}`))));
        holder.once('exit', (code) => reject(new Error(`holder exited with ${code}`)));
      });
      const r = kaio(`--filename=${dev}`, '--rw=write', '--number_ios=16', '--runtime=30');
      assertOneLineError(r, /in use/, 'claimed device');
      assert.equal(sha256(dev), before, 'the claimed device was written');
    } finally {
      if (holder.exitCode === null && holder.signalCode === null) {
        const gone = once(holder, 'exit');
        holder.kill();
        await gone;
      }
    }
  });

  it('a write job on an unmounted device runs (and with --allow_mounted_write=1)', () => {
    const dev = loopDevice('write');
    const before = sha256(dev);
    for (const allow of [[], ['--allow_mounted_write=1']] as string[][]) {
      const r = kaio(`--filename=${dev}`, '--rw=randwrite', '--bs=4k', '--api=batch', '--number_ios=32', '--runtime=30',
        '--output-format=json', ...allow);
      assert.equal(r.status, 0, `${allow}: ${r.stderr}`);
      const res = summary(JSON.parse(r.stdout));
      assert.equal(res.ops, 32);
      assert.equal(res.job.size, DEV_SIZE);
    }
    assert.notEqual(sha256(dev), before, 'the write job wrote nothing');
  });

  it('numjobs=2 writes to one device: the siblings share it as fio\'s do (one claim for the run, not one each)', () => {
    const dev = loopDevice('numjobs');
    const before = sha256(dev);
    for (const engine of ['io_uring', 'libaio', 'psync']) {
      const r = kaio(`--filename=${dev}`, '--name=w', '--rw=randwrite', '--bs=4k', `--ioengine=${engine}`, '--numjobs=2',
        '--number_ios=32', '--runtime=30', '--output-format=json');
      assert.equal(r.status, 0, `${engine}: ${r.stderr}`);
      const doc = JSON.parse(r.stdout) as FioDoc;
      assert.deepEqual(doc.jobs.map((j) => j.write.total_ios), [32, 32], engine);
    }
    assert.notEqual(sha256(dev), before, 'the write jobs wrote nothing');
  });

  it('while a write job runs, the device stays claimed: an O_EXCL open (what mount does) gets EBUSY', async () => {
    const dev = loopDevice('held');
    const child = spawn(process.execPath, [bin, 'bench', `--filename=${dev}`, '--name=w', '--rw=randwrite', '--numjobs=2',
      '--time_based', '--runtime=20', '--eta=always', '--output-format=json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = once(child, 'exit');
    try {
      // The live status line on stderr: the jobs are running.
      await new Promise<void>((resolve, reject) => {
        child.stderr.on('data', (d: Buffer) => {
          if (/Jobs: /.test(d.toString())) resolve();
        });
        child.once('exit', (code) => reject(new Error(`kaio bench exited with ${code}`)));
      });
      assert.throws(() => fs.openSync(dev, fs.constants.O_RDONLY | fs.constants.O_EXCL), { code: 'EBUSY' });
    } finally {
      child.kill('SIGINT');
      await exited;
    }
    // The claim ends with the run.
    fs.closeSync(fs.openSync(dev, fs.constants.O_RDONLY | fs.constants.O_EXCL));
  });

  it('--allow_mounted_write takes 0 or 1 only', () => {
    const r = kaio('--filename=/dev/null', '--rw=write', '--allow_mounted_write=2');
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--allow_mounted_write/);
  });
});

describe('53 kaio bench targets that are not regular files', () => {
  it('a read job on a path that cannot be created fails with one line, exit 1', () => {
    const r = kaio('--filename=/proc/kaio-no-such-dir/f', '--rw=read', '--size=64k', '--number_ios=4', '--runtime=30');
    assertOneLineError(r, /kaio-no-such-dir/, 'uncreatable path');
  });

  it('a read job on a directory fails with one line, exit 1', () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-blockdev-dir-'));
    try {
      const r = kaio(`--filename=${d}`, '--rw=read', '--size=64k', '--number_ios=4', '--runtime=30');
      assertOneLineError(r, /directory/, 'directory');
      assert.deepEqual(fs.readdirSync(d), []);
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });

  it('a read job on a character device (/dev/zero) lays nothing out and runs', () => {
    const r = kaio('--filename=/dev/zero', '--rw=read', '--size=64k', '--number_ios=16', '--runtime=30', '--output-format=json');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(summary(JSON.parse(r.stdout)).ops, 16);
  });

  it('as in fio, a job without size= on a new or empty file or a character device is refused (exit 1), nothing is made', () => {
    // fio 3.33: "x: you need to specify size=" and exit status 1, for each of these.
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-blockdev-nosize-'));
    try {
      const missing = path.join(d, 'new');
      const empty = path.join(d, 'empty');
      fs.writeFileSync(empty, '');
      for (const f of [missing, empty, '/dev/zero']) {
        const r = kaio('--name=x', `--filename=${f}`, '--rw=read', '--number_ios=4');
        assertOneLineError(r, /^kaio bench: x: you need to specify size=/, f);
      }
      assert.deepEqual(fs.readdirSync(d), ['empty']);
      assert.equal(fs.statSync(empty).size, 0);
      // Without --filename the file is NAME.0.0 in --directory: refused the same way.
      const r = kaio('--name=y', `--directory=${d}`, '--rw=read', '--number_ios=4');
      assertOneLineError(r, /^kaio bench: y: you need to specify size=/, 'directory');
      assert.deepEqual(fs.readdirSync(d), ['empty']);
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });

  it('an existing file without size= is used at its own size, not extended', () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-blockdev-own-'));
    try {
      const f = path.join(d, 'f');
      fs.writeFileSync(f, Buffer.alloc(64 * 1024, 2));
      const r = kaio(`--filename=${f}`, '--rw=read', '--output-format=json');
      assert.equal(r.status, 0, r.stderr);
      const res = summary(JSON.parse(r.stdout));
      assert.equal(res.bytes, 64 * 1024);
      assert.equal(fs.statSync(f).size, 64 * 1024);
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });

  it('a read job on a short regular file still extends it with real data', () => {
    const d = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-blockdev-file-'));
    try {
      const f = path.join(d, 'f');
      fs.writeFileSync(f, Buffer.alloc(4096, 1));
      const r = kaio(`--filename=${f}`, '--rw=randread', '--size=256k', '--number_ios=16', '--runtime=30');
      assert.equal(r.status, 0, r.stderr);
      assert.equal(fs.statSync(f).size, 256 * 1024);
      assert.equal(fs.readFileSync(f).subarray(0, 4096).every((b) => b === 1), true, 'existing data was overwritten');
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });
});
