// `kaio bench` engines and job options as fio's job files use them, each
// checked against what fio 3.33 does with the same job (fio's figures are
// written down here, so fio itself is never needed): counts, files made and
// exit codes, never timings.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { pkgRoot } from './helpers';

const bin = path.join(pkgRoot, 'bin', 'kaio');

type Dir = { total_ios: number; io_bytes: number };
type Doc = { jobs: Array<{ jobname: string; read: Dir; write: Dir; iodepth_level: Record<string, number>; kaio: { ioengine: string } }> };

const kaio = (args: string[], opts: Omit<SpawnSyncOptions, 'encoding'> = {}) =>
  spawnSync(process.execPath, [bin, 'bench', ...args], { encoding: 'utf8', timeout: 60000, ...opts });

describe('56 kaio bench: fio engines', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-bench56-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('ioengine=null: no file, every op completes whole; size/bs ops as fio counts them', () => {
    // fio 3.33, --name=n --ioengine=null --size=1m --bs=4k --rw=randread: 256 reads, 1 MiB, no file made.
    for (const rw of ['randread', 'write', 'randrw']) {
      const r = kaio(['--name=n', '--ioengine=null', '--size=1m', '--bs=4k', `--rw=${rw}`, '--output-format=json'], { cwd: dir });
      assert.equal(r.status, 0, r.stderr);
      const [j] = (JSON.parse(r.stdout) as Doc).jobs;
      assert.equal(j.read.total_ios + j.write.total_ios, 256, rw);
      assert.equal(j.read.io_bytes + j.write.io_bytes, 1024 * 1024, rw);
      assert.equal(j.kaio.ioengine, 'null');
    }
    assert.deepEqual(fs.readdirSync(dir), [], 'the null engine made a file');
    // fio's example null.fio, time-bounded: runs, makes nothing.
    fs.writeFileSync(path.join(dir, 'null.fio'), '[global]\nbs=4k\ngtod_reduce=1\n\n[null]\nioengine=null\nsize=100g\nrw=randread\nnorandommap\nruntime=1\n');
    const r = kaio(['--output-format=json', 'null.fio'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.ok((JSON.parse(r.stdout) as Doc).jobs[0].read.total_ios > 0);
    assert.deepEqual(fs.readdirSync(dir), ['null.fio']);
  });

  it('ioengine=null without size=, or with verify or fsync, is refused before anything runs', () => {
    for (const extra of [[], ['--size=1m', '--verify=crc32c', '--rw=write'], ['--size=1m', '--fsync=1', '--rw=write']]) {
      const r = kaio(['--name=n', '--ioengine=null', ...extra], { cwd: dir });
      assert.equal(r.status, 2, `${extra}: ${r.stderr}`);
      assert.match(r.stderr, /^kaio bench: .*ioengine=null/);
    }
    assert.deepEqual(fs.readdirSync(dir), []);
  });

  it("psync is fio's: one pread/pwrite at a time; a deeper iodepth is capped at 1 with fio's note", () => {
    const f = path.join(dir, 'f');
    const r = kaio([`--filename=${f}`, '--name=p', '--ioengine=psync', '--iodepth=8', '--size=256k', '--rw=randread', '--output-format=json']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stderr, 'kaio bench: note: both iodepth >= 1 and synchronous I/O engine psync are selected, queue depth will be capped at 1\n');
    const [j] = (JSON.parse(r.stdout) as Doc).jobs;
    assert.equal(j.read.total_ios, 64);
    assert.equal(j.iodepth_level['1'], 100, 'more than one op was in flight');
  });
});
