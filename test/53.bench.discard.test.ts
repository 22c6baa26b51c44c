// Trims on a block device (a loop device over a temp file): rw=trim,
// randtrim and trimwrite issue ioctl(BLKDISCARD) as fio's engines do; the
// loop driver punches the range out of its backing file, so a trimmed range
// reads back as zeros and the file's blocks are freed. Counts are checked
// against fio (installed) on the same job; a read job never discards; the
// targets and values that cannot work are refused with the reason.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync, execFileSync, type SpawnSyncReturns } from 'node:child_process';
import { fio, haveFio, kaio, doc as parseDoc, refused } from './bench-cli';
import { skip } from './helpers';

type Dir = { total_ios: number; io_bytes: number; clat_ns: { N: number } };
type Doc = { jobs: Array<{ error: number; read: Dir; write: Dir; trim: Dir; kaio?: { notes: string[] } }> };
const doc = (r: SpawnSyncReturns<string>): Doc => parseDoc<Doc>(r);

const MiB = 1024 * 1024;
const DEV_SIZE = 8 * MiB;

/** A known non-zero pattern: 4 KiB block i holds sha256(i) repeated. */
function pattern(size: number): Buffer {
  const buf = Buffer.alloc(size);
  for (let off = 0; off < size; off += 4096) buf.fill(crypto.createHash('sha256').update(String(off / 4096)).digest(), off, off + 4096);
  return buf;
}
const PATTERN = pattern(DEV_SIZE);

describe('53 kaio bench: trims on a block device are discards (BLKDISCARD), as fio issues them', function () {
  let dir = '';
  let reason: string | undefined;
  const loops: string[] = [];
  /** img path -> loop device */
  function loopDevice(name: string): { dev: string; img: string } {
    const img = path.join(dir, `${name}.img`);
    fs.writeFileSync(img, PATTERN);
    const dev = execFileSync('losetup', ['--find', '--show', img], { encoding: 'utf8' }).trim();
    loops.push(dev);
    return { dev, img };
  }
  const content = (dev: string): Buffer => fs.readFileSync(dev);
  const zeros = (b: Buffer, from: number, to: number): boolean => b.subarray(from, to).every((x) => x === 0);
  const same = (b: Buffer, from: number, to: number): boolean => b.subarray(from, to).equals(PATTERN.subarray(from, to));

  before(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-53d-'));
    if (process.getuid?.() !== 0) reason = 'losetup needs root';
    else {
      try {
        const { dev } = loopDevice('probe');
        const max = Number(fs.readFileSync(`/sys/block/${path.basename(dev)}/queue/discard_max_bytes`, 'utf8'));
        if (!max) reason = `the loop device does not discard here (its backing filesystem cannot punch holes)`;
      } catch (e) {
        reason = `losetup failed: ${(e as Error).message}`;
      }
    }
  });
  beforeEach(function () {
    if (reason) skip(this, reason);
  });
  after(() => {
    for (const dev of loops.splice(0)) spawnSync('losetup', ['-d', dev]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const engine of ['io_uring', 'libaio', 'psync', 'sync', 'pvsync2']) {
    it(`${engine} rw=trim: the range reads back as zeros, its blocks are freed in the backing file, the rest is untouched; counts as fio's`, function () {
      const { dev, img } = loopDevice(`trim-${engine}`);
      const blocks0 = fs.statSync(img).blocks;
      const job = [`--filename=${dev}`, '--name=t', '--rw=trim', '--bs=64k', '--offset=1m', '--size=2m', `--ioengine=${engine}`, '--iodepth=8', '--output-format=json'];
      const k = doc(kaio(job)).jobs[0];
      assert.equal(k.error, 0);
      assert.deepEqual([k.trim.total_ios, k.trim.io_bytes, k.read.total_ios, k.write.total_ios], [32, 2 * MiB, 0, 0]);
      assert.equal(k.trim.clat_ns.N, 32);
      const b = content(dev);
      assert.ok(zeros(b, MiB, 3 * MiB), 'the trimmed range reads back as zeros');
      assert.ok(same(b, 0, MiB) && same(b, 3 * MiB, DEV_SIZE), 'outside the range the device is unchanged');
      // The loop driver punched the range out of its file: 2 MiB fewer 512-byte blocks.
      assert.equal(blocks0 - fs.statSync(img).blocks, (2 * MiB) / 512);
      if (!haveFio) skip(this, 'fio is not installed (the reference for the counts)');
      fs.writeFileSync(img, PATTERN);
      const f = doc(fio(job)).jobs[0];
      assert.deepEqual([f.trim.total_ios, f.trim.io_bytes, f.read.total_ios, f.write.total_ios], [k.trim.total_ios, k.trim.io_bytes, 0, 0]);
    });
  }

  it('randtrim: every block of the region once (random map), all zeros after; counts as fio\'s', function () {
    const { dev } = loopDevice('randtrim');
    const job = [`--filename=${dev}`, '--name=t', '--rw=randtrim', '--bs=16k', '--offset=4m', '--size=1m', '--ioengine=io_uring', '--output-format=json'];
    const k = doc(kaio(job)).jobs[0];
    assert.deepEqual([k.trim.total_ios, k.trim.io_bytes], [64, MiB]);
    const b = content(dev);
    assert.ok(zeros(b, 4 * MiB, 5 * MiB) && same(b, 0, 4 * MiB) && same(b, 5 * MiB, DEV_SIZE));
    if (!haveFio) skip(this, 'fio is not installed');
    const f = doc(fio(job)).jobs[0];
    assert.deepEqual([f.trim.total_ios, f.trim.io_bytes], [k.trim.total_ios, k.trim.io_bytes]);
  });

  it('trimwrite (psync): each block discarded, then written: the range holds the job\'s data, not zeros; counts as fio\'s', function () {
    const { dev } = loopDevice('trimwrite');
    const job = [`--filename=${dev}`, '--name=t', '--rw=trimwrite', '--bs=64k', '--offset=2m', '--size=1m', '--ioengine=psync', '--output-format=json'];
    const k = doc(kaio(job)).jobs[0];
    assert.deepEqual([k.trim.total_ios, k.write.total_ios, k.trim.io_bytes, k.write.io_bytes], [16, 16, MiB, MiB]);
    const b = content(dev);
    for (let off = 2 * MiB; off < 3 * MiB; off += 64 * 1024) assert.ok(!zeros(b, off, off + 64 * 1024), `block at ${off} was written after its trim`);
    assert.ok(!same(b, 2 * MiB, 3 * MiB) && same(b, 0, 2 * MiB) && same(b, 3 * MiB, DEV_SIZE));
    if (!haveFio) skip(this, 'fio is not installed');
    const f = doc(fio(job)).jobs[0];
    assert.deepEqual([f.trim.total_ios, f.write.total_ios, f.trim.io_bytes, f.write.io_bytes], [16, 16, MiB, MiB]);
  });

  it('a read job never discards: the device and its backing file\'s blocks unchanged', () => {
    const { dev, img } = loopDevice('reads');
    const blocks0 = fs.statSync(img).blocks;
    for (const rw of ['read', 'randread']) {
      const k = doc(kaio([`--filename=${dev}`, '--name=r', `--rw=${rw}`, '--bs=64k', '--size=2m', '--ioengine=io_uring', '--iodepth=4', '--output-format=json'])).jobs[0];
      assert.deepEqual([k.read.io_bytes, k.trim.total_ios, k.write.total_ios], [2 * MiB, 0, 0]);
    }
    assert.ok(content(dev).equals(PATTERN));
    assert.equal(fs.statSync(img).blocks, blocks0);
  });

  it('refuses a device that does not discard (a loop device over ramfs, which cannot punch holes): fio fails its trims with EOPNOTSUPP', function () {
    const mnt = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-53d-ramfs-'));
    if (spawnSync('mount', ['-t', 'ramfs', 'ramfs', mnt]).status !== 0) {
      fs.rmdirSync(mnt);
      skip(this, 'cannot mount a ramfs');
    }
    let dev = '';
    try {
      fs.writeFileSync(path.join(mnt, 'img'), Buffer.alloc(MiB, 7));
      dev = execFileSync('losetup', ['--find', '--show', path.join(mnt, 'img')], { encoding: 'utf8' }).trim();
      assert.equal(fs.readFileSync(`/sys/block/${path.basename(dev)}/queue/discard_max_bytes`, 'utf8').trim(), '0');
      const job = [`--filename=${dev}`, '--name=t', '--rw=trim', '--size=64k', '--ioengine=psync'];
      refused(kaio(job), 1, /does not discard.*discard_max_bytes is 0.*EOPNOTSUPP/);
      assert.ok(fs.readFileSync(dev).every((x) => x === 7));
      if (haveFio) assert.match(fio(job).stdout, /err=95/);
    } finally {
      if (dev) spawnSync('losetup', ['-d', dev]);
      spawnSync('umount', [mnt]);
      fs.rmdirSync(mnt);
    }
  });

  it('refuses a trim on a regular file (BLKDISCARD needs a block device), trimwrite on a queued engine, and names the kernel\'s EINVAL for a misaligned range', () => {
    const file = path.join(dir, 'plain');
    fs.writeFileSync(file, Buffer.alloc(MiB, 1));
    refused(kaio([`--filename=${file}`, '--name=t', '--rw=trim', '--size=1m', '--ioengine=libaio']), 1, /not one.*ENOTTY.*falloc/);
    // nothing was trimmed
    assert.ok(fs.readFileSync(file).every((x) => x === 1));
    refused(kaio([`--filename=${file}`, '--name=t', '--rw=trimwrite', '--size=1m', '--ioengine=io_uring']), 2, /trimwrite.*psync, sync, fs-sync.*io_uring/);
    refused(kaio([`--filename=${file}`, '--name=t', '--rw=trim', '--size=1m', '--ioengine=fs']), 2, /--rw.*trim.*fs has no trim op/);
    const { dev } = loopDevice('misaligned');
    const r = kaio([`--filename=${dev}`, '--name=t', '--rw=trim', '--bs=4k', '--offset=1000', '--size=64k', '--ioengine=psync']);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr + r.stdout, new RegExp(`${dev}.*EINVAL.*trim offset=1000, buflen=4096`));
    assert.ok(content(dev).equals(PATTERN));
  });
});
