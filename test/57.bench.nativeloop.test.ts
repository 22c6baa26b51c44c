// kaio bench's native inner loop (native/core/bench_loop.cc, driven by
// lib/bench/engines/native-loop.ts) on io_uring and Linux AIO: every op
// given is done once, at the offset and with the buffer given (checked with
// node:fs), each record's stamps are in fio's order (prep <= submit <= reap),
// the counters add up to what the kernel completed, an op's error stops the
// loop; and `kaio bench` reports the same counts and consistent latencies
// through it as through the JavaScript loop (KAIO_BENCH_LOOP=js).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { pkgRoot, randomFile } from './helpers';
import { binding } from '../dist/lib/binding';
import { alignedBuffer } from '../dist/lib/pool';

const IN = 4;
const OUT = 8;
const S = { depth: 0, submit: 7, complete: 14, inCount: 21, inPos: 22, inEnd: 23, outCount: 24, deadline: 25, stop: 26, inFlight: 27, enters: 28 };
const sum = (a: Float64Array, from: number): number => a.slice(from, from + 7).reduce((x, y) => x + y, 0);

type Rec = { res: number; dir: number; len: number; off: number; prep: number; sub: number; reap: number; buf: number };

/** Runs `ops` ([offset, dir, buffer]) through a BenchLoop in blocks of `block`; returns the records and the final state. */
function drive(aio: boolean, fd: number, bufs: Buffer[], ops: Array<[number, number, number]>, o: { depth: number; block: number; batchSubmit?: number; completeMin?: number; completeMax?: number }) {
  const input = new Float64Array(o.block * IN);
  const output = new Float64Array(Math.max(64, 4 * o.depth) * OUT);
  const state = new Float64Array(29);
  const loop = new binding.BenchLoop(
    {
      aio, depth: o.depth, entries: 8, cqEntries: 16, sqpoll: false, iopoll: false, fd, registerFile: false, fixedBuffers: false,
      batchSubmit: o.batchSubmit ?? 1, completeMin: o.completeMin ?? 1, completeMax: o.completeMax ?? 1, stampPrep: true, stampSubmit: true, stampReap: true,
    },
    input, output, state, bufs, null, null,
  );
  state[S.deadline] = Infinity;
  const recs: Rec[] = [];
  let next = 0;
  const levels = new Float64Array(21);
  let enters = 0;
  const feed = (): void => {
    let n = 0;
    for (; n < o.block && next < ops.length; n++, next++) {
      const [off, dir, buf] = ops[next];
      input.set([off, bufs[buf].length, dir, buf], n * IN);
    }
    state[S.inCount] = n;
    state[S.inPos] = 0;
    if (next === ops.length) state[S.inEnd] = 1;
  };
  try {
    feed();
    for (;;) {
      const s = loop.run();
      for (let i = 0; i < state[S.outCount]; i++) {
        const b = i * OUT;
        recs.push({ res: output[b], dir: output[b + 1], len: output[b + 2], off: output[b + 3], prep: output[b + 4], sub: output[b + 5], reap: output[b + 6], buf: output[b + 7] });
      }
      state[S.outCount] = 0;
      for (let j = 0; j < 21; j++) {
        levels[j] += state[j];
        state[j] = 0;
      }
      enters += state[S.enters];
      state[S.enters] = 0;
      if (s === 0) break;
      if (s === 1) feed();
    }
  } finally {
    loop.close();
  }
  return { recs, levels, enters, state };
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
