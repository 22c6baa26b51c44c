// kaio bench's native inner loop (native/core/bench_loop.cc, driven by
// lib/bench/engines/native-loop.ts) on io_uring and Linux AIO: every op
// given is done once, at the offset and with the buffer given (checked with
// node:fs), each record's stamps are in fio's order (prep <= submit <= reap),
// the counters add up to what the kernel completed, an op's error stops the
// loop, the histograms it fills hold exactly the ops' records (fio's buckets, as
// lib/bench/histogram.ts); and `kaio bench` reports the same counts and
// consistent latencies through it as through the JavaScript loop (KAIO_BENCH_LOOP=js).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { pkgRoot, randomFile } from './helpers';
import { binding } from '../dist/lib/binding';
import { alignedBuffer } from '../dist/lib/pool';
import { Histogram, PLAT_NR, bucketLow, bucketOf } from '../dist/lib/bench/histogram';

const IN = 4;
const OUT = 8;
const S = { depth: 0, submit: 7, complete: 14, inCount: 21, inPos: 22, inEnd: 23, outCount: 24, deadline: 25, stop: 26, inFlight: 27, enters: 28, done: 29 };
const sum = (a: Float64Array, from: number): number => a.slice(from, from + 7).reduce((x, y) => x + y, 0);

type Rec = { res: number; dir: number; len: number; off: number; prep: number; sub: number; reap: number; buf: number };

type Hists = { counts: Float64Array[]; stats: Float64Array };

/**
 * Runs `ops` ([offset, dir, buffer]) through a BenchLoop whose input ring holds
 * `block` ops, adding up to `chunk` each time it asks with ops in flight (else
 * all that fit), as native-loop.ts does; returns the records, the final state,
 * and the histograms it filled. An op's buffer -1: one no op holds (free again
 * once its record is back), as native-loop.ts chooses them.
 */
function drive(
  aio: boolean,
  fd: number,
  bufs: Buffer[],
  ops: Array<[number, number, number]>,
  o: { depth: number; block: number; chunk?: number; batchSubmit?: number; completeMin?: number; completeMax?: number },
) {
  const input = new Float64Array(o.block * IN);
  const output = new Float64Array(Math.max(bufs.length, 2 * o.depth) * OUT);
  const state = new Float64Array(35);
  const hists: Hists = { counts: Array.from({ length: 6 }, () => new Float64Array(PLAT_NR)), stats: new Float64Array(30) };
  for (let i = 0; i < 30; i += 5) hists.stats[i + 3] = Infinity;
  const loop = new binding.BenchLoop(
    {
      aio, depth: o.depth, entries: 8, cqEntries: 16, sqpoll: false, iopoll: false, fd, registerFile: false, fixedBuffers: false,
      batchSubmit: o.batchSubmit ?? 1, completeMin: o.completeMin ?? 1, completeMax: o.completeMax ?? 1, stampPrep: true, stampSubmit: true, stampReap: true,
      hists: hists.counts, histStats: hists.stats, scramble: false, lowWater: o.block >> 1,
    },
    input, output, state, bufs, null, null,
  );
  state[S.deadline] = Infinity;
  const recs: Rec[] = [];
  let next = 0;
  const levels = new Float64Array(21);
  let enters = 0;
  const statuses = new Map<number, number>();
  const free = bufs.map((_, i) => i).filter((i) => !ops.some((op) => op[2] === i));
  const feed = (max: number): void => {
    let count = state[S.inCount];
    const room = Math.min(max, o.block - (count - state[S.inPos]));
    for (let n = 0; n < room && next < ops.length && (ops[next][2] >= 0 || free.length); n++, next++, count++) {
      const [off, dir, want] = ops[next];
      const buf = want >= 0 ? want : free.pop()!;
      input.set([off, bufs[buf].length, dir, buf], (count % o.block) * IN);
    }
    state[S.inCount] = count;
    if (next === ops.length) state[S.inEnd] = 1;
  };
  try {
    feed(o.block);
    for (;;) {
      const s = loop.run();
      statuses.set(s, (statuses.get(s) ?? 0) + 1);
      for (let i = 0; i < state[S.outCount]; i++) {
        const b = i * OUT;
        recs.push({ res: output[b], dir: output[b + 1], len: output[b + 2], off: output[b + 3], prep: output[b + 4], sub: output[b + 5], reap: output[b + 6], buf: output[b + 7] });
        if (ops.every((op) => op[2] !== output[b + 7])) free.push(output[b + 7]);
      }
      state[S.outCount] = 0;
      for (let j = 0; j < 21; j++) {
        levels[j] += state[j];
        state[j] = 0;
      }
      enters += state[S.enters];
      state[S.enters] = 0;
      if (s === 0) break;
      if (s === 1 || s === 3) feed(state[S.inFlight] === 0 ? o.block : (o.chunk ?? o.block));
    }
  } finally {
    loop.close();
  }
  return { recs, levels, enters, state, hists, statuses };
}

describe('57 kaio bench native loop: ops, stamps and counts', function () {
  this.timeout(120000);

  for (const aio of [false, true]) {
    const name = aio ? 'libaio' : 'io_uring';
    it(`${name}: 96 random 4 KiB reads at depth 4 (blocks of 10) each done once, into its own buffer, stamped prep <= submit <= reap`, () => {
      const f = randomFile(1 << 20);
      const fd = fs.openSync(f.path, 'r');
      try {
        const bufs = Array.from({ length: 96 }, () => alignedBuffer(4096));
        const ops: Array<[number, number, number]> = bufs.map((_, i) => [((i * 37) % 256) * 4096, 0, i]);
        const before = binding.benchNow();
        const { recs, levels, enters, state } = drive(aio, fd, bufs, ops, { depth: 4, block: 10 });
        const after = binding.benchNow();
        assert.equal(recs.length, 96);
        assert.deepEqual(recs.map((r) => r.buf).sort((a, b) => a - b), bufs.map((_, i) => i));
        for (const r of recs) {
          assert.equal(r.res, 4096);
          assert.equal(r.off, ops[r.buf][0]);
          assert.ok(before <= r.prep && r.prep <= r.sub && r.sub <= r.reap && r.reap <= after, JSON.stringify(r));
          assert.ok(bufs[r.buf].equals(f.data.subarray(r.off, r.off + 4096)), `buffer ${r.buf} holds the file at ${r.off}`);
        }
        // fio's counters: 96 ops committed one per call (batch_submit=1), reaped one per turn, at depth 4.
        assert.equal(sum(levels, S.depth), 96);
        assert.equal(levels[S.depth + 2], 96 - 3, 'depth 4 once the queue is full');
        assert.equal(levels[S.submit + 1], 96);
        assert.equal(levels[S.complete + 1], 96);
        assert.equal(state[S.inFlight], 0);
        assert.ok(enters >= 96, `one enter (io_submit) per commit at least: ${enters}`);
      } finally {
        fs.closeSync(fd);
      }
    });

    it(`${name}: writes reach the file (node:fs reads them back); iodepth_batch_submit=4, complete_min=2, complete_max=4`, () => {
      const f = randomFile(256 * 1024);
      const fd = fs.openSync(f.path, 'r+');
      try {
        const bufs = Array.from({ length: 64 }, (_, i) => {
          const b = alignedBuffer(4096);
          b.fill(i + 1);
          return b;
        });
        const ops: Array<[number, number, number]> = bufs.map((_, i) => [i * 4096, 1, i]);
        const { recs, levels } = drive(aio, fd, bufs, ops, { depth: 8, block: 16, batchSubmit: 4, completeMin: 2, completeMax: 4 });
        assert.equal(recs.length, 64);
        for (const r of recs) assert.ok(r.res === 4096 && r.dir === 1 && r.prep <= r.sub && r.sub <= r.reap);
        const data = fs.readFileSync(f.path);
        for (let i = 0; i < 64; i++) assert.ok(data.subarray(i * 4096, (i + 1) * 4096).equals(bufs[i]), `block ${i}`);
        // 64 ops in commits of up to 4 (a turn that frees fewer slots commits what it filled), reaps of 2 to 4.
        const commits = sum(levels, S.submit);
        assert.equal(levels[S.submit + 1], commits);
        assert.ok(commits >= 16 && commits <= 64, `commits: ${commits}`);
        let reaped = 0;
        for (const r of recs) reaped += r.res > 0 ? 1 : 0;
        assert.equal(reaped, 64);
        assert.equal(sum(levels, S.complete) >= 16 && sum(levels, S.complete) <= 32, true, `reaps of 2..4: ${sum(levels, S.complete)}`);
      } finally {
        fs.closeSync(fd);
      }
    });

    it(`${name}: an op's error (a read on a write-only fd: EBADF) is its record, and no op starts after it`, () => {
      const f = randomFile(64 * 1024);
      const fd = fs.openSync(f.path, 'w');
      try {
        const bufs = Array.from({ length: 16 }, () => alignedBuffer(4096));
        const ops: Array<[number, number, number]> = bufs.map((_, i) => [i * 4096, 0, i]);
        const { recs, state } = drive(aio, fd, bufs, ops, { depth: 1, block: 16 });
        assert.equal(recs.length, 1);
        assert.equal(recs[0].res, -os.constants.errno.EBADF);
        assert.equal(state[S.stop], 1);
        assert.equal(state[S.inPos], 1);
      } finally {
        fs.closeSync(fd);
      }
    });
  }

  /** The records folded as the JavaScript loop folds them (histogram.ts): slat always, clat and lat for an op that did not fail. */
  const foldRecords = (recs: Rec[]): Histogram[] => {
    const h = Array.from({ length: 6 }, () => new Histogram());
    for (const r of recs) {
      h[3 * r.dir].record(r.sub - r.prep);
      if (r.res < 0) continue;
      h[3 * r.dir + 1].record(r.reap - r.sub);
      h[3 * r.dir + 2].record(r.reap - r.prep);
    }
    return h;
  };
  const sameHistogram = (what: string, native: Float64Array, stats: Float64Array, at: number, js: Histogram): void => {
    // Bucket by bucket: an op dropped, counted twice or put in another bucket shows.
    for (let i = 0; i < PLAT_NR; i++) if (native[i] !== js.counts[i]) assert.fail(`${what}: bucket ${i} (from ${bucketLow(i)} ns) holds ${native[i]}, the records ${js.counts[i]}`);
    assert.equal(stats[at], js.count, `${what}: count`);
    assert.equal(stats[at + 1], js.sum, `${what}: sum`);
    assert.equal(stats[at + 2], js.sumSq, `${what}: sum of squares`);
    assert.equal(stats[at + 3], js.count ? js.min : Infinity, `${what}: min`);
    assert.equal(stats[at + 4], js.max, `${what}: max`);
  };

  it('fio\'s buckets: the native fold puts every sample where histogram.ts does (0 to past 17 s, each bucket edge), with the same stats', () => {
    const samples: number[] = [-5, 0, 0.4, 1, 63.9, 64, 127, 127.99, 128, 129, 1234.7, 1e12, 2 ** 40, 5e15];
    for (let v = 0; v < 300; v++) samples.push(v);
    for (let k = 7; k < 45; k++) for (const d of [-1, 0, 1]) samples.push(2 ** k + d);
    // every bucket's low edge and the value just under it
    for (let i = 0; i < PLAT_NR; i++) samples.push(bucketLow(i), bucketLow(i) - 0.5);
    // a skewed spread, as latencies are
    let x = 12345;
    for (let i = 0; i < 20000; i++) {
      x = (x * 1103515245 + 12345) % 2 ** 31;
      samples.push(Math.floor(20000 * Math.exp((x / 2 ** 31) * 8)));
    }
    const counts = new Float64Array(PLAT_NR);
    const stats = new Float64Array([0, 0, 0, Infinity, 0]);
    binding.benchHistRecord(counts, stats, Float64Array.from(samples));
    const js = new Histogram();
    for (const v of samples) js.record(v);
    sameHistogram('benchHistRecord', counts, stats, 0, js);
    assert.equal(counts[PLAT_NR - 1], samples.filter((v) => bucketOf(v) === PLAT_NR - 1).length);
    assert.ok(counts[PLAT_NR - 1] >= 3, 'values past the last group go to the last bucket');
    const p = [1, 50, 90, 99, 99.9, 100];
    assert.deepEqual(Histogram.from({ counts, count: stats[0], sum: stats[1], sumSq: stats[2], min: stats[3], max: stats[4] }).percentiles(p), js.percentiles(p));
  });

  for (const aio of [false, true]) {
    const name = aio ? 'libaio' : 'io_uring';
    it(`${name}: the histograms the loop fills hold exactly its ops' records (slat, clat, lat per direction), and its counts their results`, () => {
      const f = randomFile(1 << 20);
      const fd = fs.openSync(f.path, 'r+');
      try {
        const bufs = Array.from({ length: 48 }, () => alignedBuffer(4096));
        // reads and writes mixed; 160 ops through 48 buffers (reused once their records are back)
        const ops: Array<[number, number, number]> = [];
        for (let i = 0; i < 160; i++) ops.push([((i * 53) % 256) * 4096, i % 3 === 0 ? 1 : 0, -1]);
        const { recs, state, hists, statuses } = drive(aio, fd, bufs, ops, { depth: 8, block: 24, chunk: 5 });
        assert.equal(recs.length, 160);
        assert.ok((statuses.get(1) ?? 0) + (statuses.get(3) ?? 0) >= 160 / 24, `the loop asked for input: ${JSON.stringify([...statuses])}`);
        const js = foldRecords(recs);
        const names = ['read slat', 'read clat', 'read lat', 'write slat', 'write clat', 'write lat'];
        for (let k = 0; k < 6; k++) sameHistogram(names[k], hists.counts[k], hists.stats, 5 * k, js[k]);
        for (const dir of [0, 1]) {
          const mine = recs.filter((r) => r.dir === dir);
          assert.equal(state[S.done + 3 * dir], mine.length, 'ios');
          assert.equal(state[S.done + 3 * dir + 1], mine.length * 4096, 'bytes');
          assert.equal(state[S.done + 3 * dir + 2], 0, 'short ios');
          assert.equal(hists.stats[5 * (3 * dir + 1)], mine.length, 'one clat sample per op');
        }
      } finally {
        fs.closeSync(fd);
      }
    });
  }

  const bin = path.join(pkgRoot, 'bin', 'kaio');
  type Lat = { N: number; mean: number; min: number; max: number };
  type Dir = { total_ios: number; io_bytes: number; slat_ns: Lat; clat_ns: Lat; lat_ns: Lat };
  type Job = { read: Dir; write: Dir; iodepth_level: Record<string, number>; iodepth_submit: Record<string, number>; iodepth_complete: Record<string, number> };
  const bench = (args: string[], js: boolean): Job => {
    const env = { ...process.env, KAIO_BENCH_LOOP: js ? 'js' : '' };
    const r = spawnSync(process.execPath, [bin, 'bench', ...args, '--output-format=json'], { encoding: 'utf8', timeout: 60000, env });
    assert.equal(r.status, 0, r.stderr);
    return (JSON.parse(r.stdout) as { jobs: Job[] }).jobs[0];
  };

  for (const engine of ['io_uring', 'libaio']) {
    it(`kaio bench --ioengine=${engine}: the native loop counts what the JavaScript loop counts, every op timed once, lat = slat + clat`, () => {
      const f = randomFile(4 << 20);
      const args = [`--name=n`, `--filename=${f.path}`, '--size=4m', '--rw=randrw', '--bs=4k', '--iodepth=8', `--ioengine=${engine}`, '--iodepth_batch_submit=2', '--iodepth_batch_complete_max=4'];
      for (const js of [false, true]) {
        const j = bench(args, js);
        const total = j.read.total_ios + j.write.total_ios;
        assert.equal(total, 1024, `${js ? 'js' : 'native'}: 4 MiB in 4 KiB ops`);
        assert.equal(j.read.io_bytes + j.write.io_bytes, 4 << 20);
        for (const d of [j.read, j.write]) {
          assert.equal(d.slat_ns.N, d.total_ios);
          assert.equal(d.clat_ns.N, d.total_ios);
          assert.equal(d.lat_ns.N, d.total_ios);
          // Per op lat is slat + clat: so are the sums (the means), up to rounding.
          assert.ok(Math.abs(d.lat_ns.mean - (d.slat_ns.mean + d.clat_ns.mean)) <= 1 + d.lat_ns.mean * 1e-9, `${d.lat_ns.mean} vs ${d.slat_ns.mean} + ${d.clat_ns.mean}`);
          assert.ok(d.lat_ns.min >= d.clat_ns.min && d.lat_ns.max >= d.clat_ns.max && d.lat_ns.min > 0);
        }
        // Commits of 2: 512 of them, each counted in fio's 1-4 bucket (100 %).
        assert.equal(j.iodepth_submit['4'], 100);
      }
    });
  }

  it('kaio bench through the native loop: each latency\'s json+ bins hold one sample per op; min, max and p100 sit in the first and last bins', () => {
    const f = randomFile(4 << 20);
    for (const engine of ['io_uring', 'libaio']) {
      const r = spawnSync(process.execPath, [bin, 'bench', '--name=h', `--filename=${f.path}`, '--size=4m', '--rw=randrw', '--bs=4k', '--iodepth=16', `--ioengine=${engine}`,
        '--lat_percentiles=1', '--slat_percentiles=1', '--percentile_list=1:50:99:100', '--output-format=json+'], { encoding: 'utf8', timeout: 60000, env: { ...process.env, KAIO_BENCH_LOOP: '' } });
      assert.equal(r.status, 0, r.stderr);
      const j = (JSON.parse(r.stdout) as { jobs: Array<Record<string, Dir & Record<string, { bins: Record<string, number>; percentile: Record<string, number> }>>> }).jobs[0];
      let total = 0;
      for (const dir of ['read', 'write']) {
        const d = j[dir] as unknown as Dir & Record<string, Lat & { bins: Record<string, number>; percentile: Record<string, number> }>;
        total += d.total_ios;
        for (const k of ['slat_ns', 'clat_ns', 'lat_ns']) {
          const l = d[k];
          const bins = Object.entries(l.bins).map(([low, n]) => [Number(low), n] as const).sort((a, b) => a[0] - b[0]);
          assert.equal(l.N, d.total_ios, `${engine} ${dir} ${k}: N`);
          assert.equal(bins.reduce((a, [, n]) => a + n, 0), d.total_ios, `${engine} ${dir} ${k}: one sample per op in the bins`);
          assert.equal(bucketOf(l.max), bucketOf(bins[bins.length - 1][0]), `${engine} ${dir} ${k}: the max in the last bin`);
          assert.equal(bucketOf(l.min), bucketOf(bins[0][0]), `${engine} ${dir} ${k}: the min in the first bin`);
          assert.equal(bucketOf(l.percentile['100.000000']), bucketOf(l.max), `${engine} ${dir} ${k}: p100 is the max's bucket`);
          assert.ok(l.min <= l.mean && l.mean <= l.max);
        }
      }
      assert.equal(total, 1024);
    }
  });

  it('kaio bench verify=crc32c (libaio, QD 16) through the native loop: every block written is read back and checked', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-bench57n-'));
    try {
      const r = spawnSync(process.execPath, [bin, 'bench', '--name=v', `--filename=${path.join(dir, 'f')}`, '--size=2m', '--rw=randwrite', '--bs=4k', '--iodepth=16', '--ioengine=libaio', '--verify=crc32c'], { encoding: 'utf8', timeout: 60000 });
      assert.equal(r.status, 0, r.stderr);
      assert.match(r.stdout, /verify\s*: 512 blocks checked \(crc32c\)/);
      assert.match(r.stdout, /issued rwts: total=512,512,/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
