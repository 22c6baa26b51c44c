// `kaio bench` engines and job options as fio's job files use them, each
// checked against what fio 3.33 does with the same job (fio's figures are
// written down here, so fio itself is never needed): counts, files made and
// exit codes, never timings.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { once } from 'node:events';
import { parseCommandLine } from '../dist/lib/bench/options';
import { pkgRoot } from './helpers';

const bin = path.join(pkgRoot, 'bin', 'kaio');

type Dir = { total_ios: number; io_bytes: number };
type Doc = {
  jobs: Array<{
    jobname: string;
    read: Dir;
    write: Dir;
    iodepth_level: Record<string, number>;
    'job options': Record<string, string>;
    desc?: string;
    kaio: { ioengine: string };
  }>;
};

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

/** Which 4 KiB blocks of a file hold anything but zeros: "x" written, "." not. */
function blockMap(file: string): string {
  const d = fs.readFileSync(file);
  let out = '';
  for (let i = 0; i < d.length; i += 4096) out += d.subarray(i, i + 4096).some((b) => b !== 0) ? 'x' : '.';
  return out;
}

describe("56 kaio bench: fio's everyday job options", () => {
  let dir: string;
  let file: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-bench56-'));
    file = path.join(dir, 'z');
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** Runs a write job over a 64 KiB file of zeros; the blocks it wrote and its op count. */
  function writeMap(...args: string[]): { map: string; ios: number } {
    fs.writeFileSync(file, Buffer.alloc(64 * 1024));
    const r = kaio(['--name=t', `--filename=${file}`, '--size=64k', '--bs=4k', '--output-format=json', ...args]);
    assert.equal(r.status, 0, r.stderr);
    return { map: blockMap(file), ios: (JSON.parse(r.stdout) as Doc).jobs[0].write.total_ios };
  }

  it('rw=write:4k leaves holes, rw=write:-8k goes backwards, as fio 3.33 places them', () => {
    // fio 3.33, same job on a 64 KiB file of zeros: 16 writes each, these block maps.
    assert.deepEqual(writeMap('--rw=write:4k'), { map: 'x.x.x.x.x.x.x.x.', ios: 16 });
    assert.deepEqual(writeMap('--rw=write:-8k'), { map: 'xxxxxxxxxxxxxxx.', ios: 16 });
    assert.deepEqual(writeMap('--rw=write'), { map: 'xxxxxxxxxxxxxxxx', ios: 16 });
    assert.equal(parse1(['--rw=read:-8k']).seqAdd, -8192);
    assert.equal(parse1(['--rw=randread:8']).seqNr, 8);
  });

  it('rw=randwrite:8 with rw_sequencer=identical: each random offset 8 times (fio: 2 blocks of 16 written)', () => {
    const { map, ios } = writeMap('--rw=randwrite:8', '--rw_sequencer=identical');
    assert.equal(ios, 16);
    assert.equal(map.replace(/\./g, '').length, 2, map);
    // rw_sequencer=sequential (the default): runs of 8 ops from each random offset.
    const seq = writeMap('--rw=randwrite:8', '--norandommap');
    assert.equal(seq.ios, 16);
  });

  it('random_distribution=zoned: each zone gets its share of the accesses, in file order (as fio 3.33 places them)', () => {
    // fio: zoned:100/25 wrote blocks 0-3 only; zoned:0/50:100/ wrote the second half only.
    const first = writeMap('--rw=randwrite', '--norandommap', '--random_distribution=zoned:100/25');
    assert.match(first.map, /^[x.]{4}\.{12}$/);
    assert.ok(first.map.startsWith('x') || first.map.slice(0, 4).includes('x'));
    const second = writeMap('--rw=randwrite', '--norandommap', '--random_distribution=zoned:0/50:100/');
    assert.match(second.map, /^\.{8}[x.]{8}$/);
    assert.ok(second.map.includes('x'));
    // fio's example rand-zones.fio: the zone without a range takes the rest.
    assert.deepEqual(parse1(['--random_distribution=zoned:50/5:30/15:20/']).distribution.zones, [[50, 5], [30, 15], [20, 80]]);
    for (const bad of ['zoned:50/5', 'zoned:60/50:50/60', 'zoned:50/5:30/15:20/,50/10:50/90', 'zoned:x/5']) {
      assert.throws(() => parse1([`--random_distribution=${bad}`]), /random_distribution/, bad);
    }
  });

  it('blockalign=16k: random offsets on 16 KiB boundaries only (fio: x...x...x...x...)', () => {
    assert.deepEqual(writeMap('--rw=randwrite', '--blockalign=16k'), { map: 'x...x...x...x...', ios: 16 });
  });

  it('offset_increment: sibling N starts N increments further, on a shared file and on own files (as fio 3.33)', () => {
    // fio: numjobs=4 size=4k offset_increment=16k on one 64 KiB file writes blocks 0, 4, 8, 12.
    assert.deepEqual(writeMap('--size=4k', '--rw=write', '--numjobs=4', '--offset_increment=16k'), { map: 'x...x...x...x...', ios: 1 });
    // fio: own files t.0.0 and t.1.0 laid out to offset + N * increment + size: 12 KiB and 20 KiB.
    const r = kaio(['--name=t', '--size=8k', '--offset=4k', '--bs=4k', '--rw=write', '--numjobs=2', '--offset_increment=8k', '--output-format=json'], { cwd: dir });
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual([fs.statSync(path.join(dir, 't.0.0')).size, fs.statSync(path.join(dir, 't.1.0')).size], [12288, 20480]);
  });

  it('loops=3 and io_size=256k: as many ops as fio (48 and 64 over 64 KiB)', () => {
    fs.writeFileSync(file, Buffer.alloc(64 * 1024, 1));
    for (const [args, want] of [[['--rw=read', '--loops=3'], 48], [['--rw=randread', '--io_size=256k'], 64], [['--rw=read', '--io_limit=128k', '--loops=2'], 64]] as Array<[string[], number]>) {
      const r = kaio(['--name=t', `--filename=${file}`, '--size=64k', '--bs=4k', '--output-format=json', ...args]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as Doc).jobs[0].read.total_ios, want, args.join(' '));
    }
  });

  it('number_ios only stops a job sooner; it never does more I/O than size (fio: 16 ops over 64 KiB)', () => {
    fs.writeFileSync(file, Buffer.alloc(64 * 1024, 1));
    for (const [n, want] of [[1000, 16], [5, 5]]) {
      const r = kaio(['--name=t', `--filename=${file}`, '--size=64k', '--bs=4k', '--rw=randread', `--number_ios=${n}`, '--output-format=json']);
      assert.equal(r.status, 0, r.stderr);
      assert.equal((JSON.parse(r.stdout) as Doc).jobs[0].read.total_ios, want, `number_ios=${n}`);
    }
  });

  it('bsrange=1k-4k: sizes drawn as fio draws them (mean within 5% of fio 3.33\'s 2491 bytes, sequential, 100 MiB)', () => {
    fs.writeFileSync(file, Buffer.alloc(1024 * 1024, 1));
    const r = kaio(['--name=t', `--filename=${file}`, '--size=1m', '--rw=read', '--bsrange=1k-4k', '--io_size=100m', '--output-format=json']);
    assert.equal(r.status, 0, r.stderr);
    const { read } = (JSON.parse(r.stdout) as Doc).jobs[0];
    const mean = read.io_bytes / read.total_ios;
    assert.ok(Math.abs(mean - 2491) / 2491 < 0.05, `mean block ${mean}`);
    assert.deepEqual(parse1(['--bsrange=4k-4k']).bs, [4096, 4096, 4096]);
    assert.deepEqual(parse1(['--bsrange=4k-10k']).bssplit[0], [[4096, 40], [8192, 40], [10240, 20]]);
  });

  it('description= is in the job options and, as in fio, "desc" in JSON and "Description  : [..]" in text', () => {
    fs.writeFileSync(file, Buffer.alloc(64 * 1024, 1));
    const args = ['--name=t', `--filename=${file}`, '--size=64k', '--description=a b'];
    const j = (JSON.parse(kaio([...args, '--output-format=json']).stdout) as Doc).jobs[0];
    assert.equal(j.desc, 'a b');
    assert.equal(j['job options'].description, 'a b');
    const text = kaio(args).stdout;
    assert.match(text, /\nt: \(groupid=0, jobs=1\).*\n {2}Description {2}: \[a b\]\n/);
  });

  it('new_group: a new reporting group as fio numbers them, without a wait; group_reporting merges by it', () => {
    fs.writeFileSync(file, Buffer.alloc(64 * 1024, 1));
    const jobFile = path.join(dir, 'ng.fio');
    const groups = (text: string) => {
      fs.writeFileSync(jobFile, `[global]\nfilename=${file}\nsize=64k\nbs=4k\nrw=read\n${text}`);
      const r = kaio(['--output-format=json', jobFile]);
      assert.equal(r.status, 0, r.stderr);
      return (JSON.parse(r.stdout) as Doc).jobs.map((j) => `${j.jobname}:${(j as unknown as { groupid: number }).groupid}:${j.read.total_ios}`).join(' ');
    };
    // fio 3.33 on the same files: a:0 b:1 c:1 d:2 (new_group on the first job, or
    // with stonewall, starts one group, not two); with group_reporting a:0 (16 ops) b:1 (b and c, 32).
    assert.equal(groups('[a]\nnew_group\n[b]\nnew_group\n[c]\n[d]\nstonewall\nnew_group\n'), 'a:0:16 b:1:16 c:1:16 d:2:16');
    assert.equal(groups('group_reporting\n[a]\n[b]\nnew_group\n[c]\n'), 'a:0:16 b:1:32');
    // The text report has one "Run status group" per group.
    fs.writeFileSync(jobFile, `[global]\nfilename=${file}\nsize=64k\nbs=4k\nrw=read\n[a]\n[b]\nnew_group\n`);
    const r = kaio([jobFile]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(r.stdout.match(/^Run status group \d+/gm), ['Run status group 0', 'Run status group 1']);
  });

  it('new_group does not wait: two time_based 2 s jobs in two groups run at once, stonewall makes the second wait', () => {
    fs.writeFileSync(file, Buffer.alloc(64 * 1024, 1));
    const jobFile = path.join(dir, 'ng.fio');
    // When each job's I/O started and how long it ran (fio's job_start, job_runtime: ms), from the
    // JSON: the process's start-up, however slow on a loaded machine, is not in them.
    const spans = (sep: string) => {
      fs.writeFileSync(jobFile, `[global]\nfilename=${file}\nsize=64k\nbs=4k\nrw=read\ntime_based\nruntime=2\n[a]\n[b]\n${sep}\n`);
      const r = kaio(['--output-format=json', jobFile]);
      assert.equal(r.status, 0, r.stderr);
      const jobs = (JSON.parse(r.stdout) as { jobs: Array<{ jobname: string; job_start: number; job_runtime: number }> }).jobs;
      const [a, b] = ['a', 'b'].map((n) => jobs.find((j) => j.jobname === n)!);
      assert.ok(a.job_runtime >= 2000 && b.job_runtime >= 2000, `runtimes ${a.job_runtime}, ${b.job_runtime}`);
      return { a, b };
    };
    const ng = spans('new_group');
    assert.ok(Math.abs(ng.b.job_start - ng.a.job_start) < 1000, `new_group: b started ${ng.b.job_start - ng.a.job_start} ms after a: they waited for each other`);
    const sw = spans('stonewall');
    assert.ok(sw.b.job_start >= sw.a.job_start + sw.a.job_runtime, `stonewall: b started ${sw.b.job_start - sw.a.job_start} ms after a, which ran ${sw.a.job_runtime} ms`);
  });

  it('startdelay=1: the job starts a second later', function () {
    fs.writeFileSync(file, Buffer.alloc(64 * 1024, 1));
    const t0 = Date.now();
    const r = kaio(['--name=t', `--filename=${file}`, '--size=64k', '--startdelay=1', '--output-format=json']);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(Date.now() - t0 >= 1000, 'finished before its start delay');
    assert.equal((JSON.parse(r.stdout) as Doc).jobs[0].read.total_ios, 16);
  });

  it('Ctrl-C during a startdelay=60 ends the job at once (exit 130), no I/O done', async () => {
    fs.writeFileSync(file, Buffer.alloc(64 * 1024, 1));
    const child = spawn(process.execPath, [bin, 'bench', '--name=t', `--filename=${file}`, '--size=64k', '--startdelay=60', '--eta=always', '--output-format=json'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = once(child, 'exit');
    // The live status line: the job is waiting out its delay.
    await new Promise<void>((resolve) => child.stderr.on('data', (d: Buffer) => /Jobs: /.test(d.toString()) && resolve()));
    const t0 = Date.now();
    child.kill('SIGINT');
    const [code] = await exited;
    assert.equal(code, 130);
    assert.ok(Date.now() - t0 < 30000, 'the start delay was waited out');
    assert.equal((JSON.parse(out) as Doc).jobs[0].read.total_ios, 0);
  });

  it("ioengine=sync: one op at a time on the job's thread, capped at iodepth 1, with a note on pread/pwrite", () => {
    const r = kaio([`--filename=${file}`, '--name=s', '--ioengine=sync', '--iodepth=4', '--size=64k', '--rw=write', '--output-format=json']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, /note: ioengine=sync: each op is a pread\/pwrite here/);
    assert.match(r.stderr, /queue depth will be capped at 1/);
    const [j] = (JSON.parse(r.stdout) as Doc).jobs;
    assert.equal(j.write.total_ios, 16);
    assert.equal(j.iodepth_level['1'], 100);
    assert.equal(blockMap(file), 'x'.repeat(16));
  });

  it('bad values are refused: rw suffix on nop, blockalign per direction, rw_sequencer, suffix with verify', () => {
    for (const args of [['--rw=read:zz'], ['--blockalign=4k,8k'], ['--rw_sequencer=odd'], ['--rw=write:4k', '--verify=crc32c'], ['--direct=1', '--blockalign=100'], ['--loops=0'], ['--bsrange=8k-4k'], ['--bsrange=4k']]) {
      const r = kaio(['--name=t', `--filename=${file}`, '--size=64k', ...args]);
      assert.equal(r.status, 2, `${args}: ${r.stderr}`);
    }
    assert.equal(fs.existsSync(file), false);
  });
});

/** One job from the command line (the bench internals from their built declarations, as test 54 reads them). */
function parse1(args: string[]) {
  return parseCommandLine(['--name=a', '--size=1m', ...args], () => '').jobs[0];
}

describe('56 kaio bench: one option table', () => {
  it('--help comes from the table: every job option it lists parses, and giving its shown default changes nothing', () => {
    const h = kaio(['--help']);
    assert.equal(h.status, 0, h.stderr);
    const jobPart = h.stdout.slice(h.stdout.indexOf('Job options'), h.stdout.indexOf('Command-line options'));
    const shown = [...jobPart.matchAll(/^ {2}--([a-z_]+)(?:=\S+)?(?:\n {34}| +)(.*)$/gm)].map((m) => ({ key: m[1], rest: m[2] }));
    assert.ok(shown.length >= 50, `only ${shown.length} options in --help`);
    const base = parse1([]);
    for (const { key, rest } of shown) {
      const d = /\(default ([^)]+)\)/.exec(rest)?.[1];
      if (d === undefined || key === 'name') continue;
      const job = parse1([`--${key}=${d}`]);
      assert.deepEqual({ ...job, given: {} }, { ...base, given: {} }, `--${key}=${d} is not the default`);
    }
    for (const alias of ['readwrite', 'blocksize', 'timeout', 'io_limit', 'iodepth_batch']) assert.match(h.stdout, new RegExp(`also --(?:[a-z_]+, --)*${alias}\\b`));
  });
});
