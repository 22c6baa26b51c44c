// kaio bench's native inner loop for io_uring's batch API and libaio (the common case):
// JavaScript chooses the ops (run.next, as the JavaScript loop does) into a
// ring of input, each with a buffer of its own from a free list (a write's data
// and verify headers are written into it then; a read is checked in it when
// its record comes back; the buffer returns to the list after that);
// native/core/bench_loop.cc preps, commits, reaps and stamps them per op with
// CLOCK_MONOTONIC by fio's definitions (slat: prep until the enter that took
// the op returned; clat: from then until the reap; lat: both), turning once
// per op at fio's defaults as the JavaScript loop (loop.ts) does, and puts
// each reaped op's samples into the job's histograms (fio's buckets, the
// Histogram objects' own arrays) and counts. What JavaScript reads back per
// op is its result and buffer (the record has its stamps too). The loop gives the thread back when no op waits for it
// (nothing in flight, or about to wait for a completion), and JavaScript then
// adds a few ops (CHUNK) at a time, so that a completion seldom waits while
// JavaScript works, and not long; a full block only when nothing is in flight. A job with any option this loop does not do (nativeLoopFits) runs
// the JavaScript loop instead. KAIO_BENCH_LOOP=js in the environment forces
// the JavaScript loop (to compare the two).
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { binding, type NativeBenchLoop } from '../../binding';
import { alignedBuffer } from '../../pool';
import type { Run } from '../job';

// bench_loop.h: kBenchInStride, kBenchOutStride, kBenchHistStats, BenchState, BenchStatus.
const IN = 4;
const OUT = 8;
const HS = 5;
const S_DEPTH = 0;
const S_SUBMIT = 7;
const S_COMPLETE = 14;
const S_IN_COUNT = 21;
const S_IN_POS = 22;
const S_IN_END = 23;
const S_OUT_COUNT = 24;
const S_DEADLINE = 25;
const S_STOP = 26;
const S_IN_FLIGHT = 27;
const S_DONE = 29;
const S_SLOTS = 35;
const DONE = 0;
const NEED_INPUT = 1;
const WANT_INPUT = 3;
/** Ops chosen per turn of JavaScript's while ops are in flight (a few µs of run.next). */
const CHUNK = 32;

/**
 * Ops chosen per block: up to 256, fewer for large blocks (their buffers,
 * block + iodepth of them, stay under about 8 MiB beyond the depth's own).
 */
export function blockOps(maxLen: number): number {
  return Math.max(1, Math.min(256, Math.floor((8 << 20) / Math.max(1, maxLen))));
}

/** Tags (slots of run.slot*, buffers, verify state) a job needs: its depth's, or the native loop's buffers. */
export function loopTags(ioengine: string, depthMax: number, maxLen: number): number {
  return ioengine === 'io_uring' || ioengine === 'libaio' ? Math.max(depthMax + 1, blockOps(maxLen) + depthMax + 1) : depthMax + 1;
}

/** Whether an fd is one io_submit does not block on: a regular file or a block device. */
function aioAsync(fd: number): boolean {
  try {
    const st = fs.fstatSync(fd);
    return st.isFile() || st.isBlockDevice();
  } catch {
    return false;
  }
}

/**
 * Whether the native loop does all that `run` asks on `fd` (else the
 * JavaScript loop runs it). libaio only on a regular file or a block device:
 * io_submit does an op on a pipe or character device inline, blocking, where
 * the JavaScript engine's context hands it to a thread.
 */
export function nativeLoopFits(run: Run, fd: number): boolean {
  const job = run.job;
  return (
    process.env.KAIO_BENCH_LOOP !== 'js' &&
    ((job.ioengine === 'io_uring' && job.api === 'batch') || job.ioengine === 'libaio') &&
    !run.nop &&
    run.pace === null &&
    run.prioPick === undefined &&
    run.syncEvery === 0 &&
    !run.trimWrite &&
    run.dir0 !== 2 &&
    job.rampTime === 0 &&
    run.setup.logFiles.length === 0 &&
    run.df === undefined &&
    !run.dry &&
    run.depthMax <= 65535 &&
    run.slotDir.length >= blockOps(run.maxLen) + run.depthMax + 1 &&
    (job.ioengine !== 'libaio' || aioAsync(fd))
  );
}

/** The native loop of one job instance: the ring, its arrays, what comes back. */
export class NativeLoop {
  readonly block: number;
  readonly input: Float64Array;
  readonly output: Float64Array;
  readonly state = new Float64Array(S_SLOTS);
  /** Per histogram (read slat, clat, lat, write slat, clat, lat): count, sum, sumSq, min, max since the last take. */
  readonly histStats = new Float64Array(6 * HS);
  readonly native: NativeBenchLoop;
  /** Buffers (tags) no op holds: not in the input, in flight or not yet taken back. */
  readonly free: Int32Array;
  nFree = 0;
  /** Where the next op goes in the input ring (state[S_IN_COUNT] modulo the ring, kept as an integer). */
  inAt = 0;

  constructor(
    readonly run: Run,
    fd: number,
    aio: boolean,
  ) {
    const { job } = run;
    const depth = run.depthMax;
    this.block = blockOps(run.maxLen);
    const tags = this.block + depth;
    this.input = new Float64Array(this.block * IN);
    // A record per tag: every op chosen ends as one, and none is taken back before its tag is free.
    this.output = new Float64Array(Math.max(tags, 2 * depth) * OUT);
    // job.ts made depth + 1 buffers (none with io_uring's fixedbufs, left to the engine): the rest here.
    while (run.buffers.length < tags) {
      const b = alignedBuffer(Math.ceil(run.maxLen / 4096) * 4096).subarray(0, run.maxLen);
      run.content.fill(b);
      run.buffers.push(b);
    }
    this.free = new Int32Array(tags);
    for (let t = tags - 1; t >= 0; t--) this.free[this.nFree++] = t;
    this.clearStats();
    // scramble_buffers at the prep, as fio (the JavaScript loop's run.next does it when choosing).
    const scramble = run.vr === undefined && run.content.scramble;
    run.scrambleAtPrep = scramble;
    const timed = (d: number): (Float64Array | null)[] => {
      const h = run.hist[d];
      return [run.tSlat ? h.slat.counts : null, run.tClat ? h.clat.counts : null, run.tLat ? h.lat.counts : null] as (Float64Array | null)[];
    };
    let entries = job.entries;
    // libaio: the context holds the depth (as the JavaScript engine's).
    if (aio) entries = Math.max(depth, 8);
    else if (!entries) for (entries = 8; entries < depth + 1; entries *= 2);
    this.native = new binding.BenchLoop(
      {
        aio,
        depth,
        entries,
        cqEntries: Math.max(entries * 2, (depth + 1) * 2),
        sqpoll: job.sqthreadPoll,
        iopoll: job.hipri,
        fd,
        registerFile: job.registerfiles,
        fixedBuffers: job.fixedbufs,
        batchSubmit: Math.max(1, job.batchSubmit),
        completeMin: Math.max(1, job.batchCompleteMin),
        completeMax: Math.max(1, job.batchCompleteMin, job.batchCompleteMax),
        stampPrep: run.tLat || run.tSlat,
        stampSubmit: run.tSlat || run.tClat,
        stampReap: run.tLat || run.tClat,
        hists: [...timed(0), ...timed(1)],
        histStats: this.histStats,
        scramble,
        // Top up while half the ring is left: it does not run dry between two waits.
        lowWater: Math.max(1, this.block >> 1),
      },
      this.input,
      this.output,
      this.state,
      run.buffers.slice(0, tags),
      run.stopFlag,
      run.termFlag,
    );
  }

  clearStats(): void {
    const hs = this.histStats;
    for (let i = 0; i < 6 * HS; i += HS) {
      hs[i] = hs[i + 1] = hs[i + 2] = hs[i + 4] = 0;
      hs[i + 3] = Infinity;
    }
  }

  /** Runs the job (after run.begin()) to its end. */
  loop(): void {
    const run = this.run;
    const st = this.state;
    // performance.now() and the loop's clock are both CLOCK_MONOTONIC: their offset, in ns.
    const a = performance.now();
    const ns = binding.benchNow();
    const b = performance.now();
    const offset = ns - ((a + b) / 2) * 1e6;
    st[S_DEADLINE] = run.deadline === Infinity ? Infinity : run.deadline * 1e6 + offset;
    if (!run.poll(performance.now())) st[S_STOP] = 1;
    this.refill(this.block);
    for (;;) {
      const s = this.native.run();
      this.take();
      if (s === DONE) break;
      // With ops in flight, a few at a time: a completion that comes meanwhile waits for JavaScript.
      if (s === NEED_INPUT || s === WANT_INPUT) this.refill(st[S_IN_FLIGHT] === 0 ? this.block : CHUNK);
      if (!run.poll(performance.now())) st[S_STOP] = 1;
    }
    // Ops chosen but never started (the runtime or a stop came first) are not issued.
    for (let i = st[S_IN_POS]; i < st[S_IN_COUNT]; i++) {
      run.issued--;
      run.issuedBytes -= this.input[(i % this.block) * IN + 1];
    }
    if (st[S_STOP] !== 0) run.stopping = true;
    // The job's time ends with its last reap, as fio's (not with the ring's or context's teardown).
    run.tEnd = performance.now();
  }

  /** Up to `max` more ops into the input ring: run.next into a free buffer's tag, as the JavaScript loop chooses them. */
  refill(max: number): void {
    const run = this.run;
    const st = this.state;
    const input = this.input;
    if (st[S_STOP] !== 0 || st[S_IN_END] !== 0) {
      st[S_IN_END] = 1;
      return;
    }
    const now = performance.now();
    const room = Math.min(max, this.block - (st[S_IN_COUNT] - st[S_IN_POS]));
    let n = 0;
    let at = this.inAt;
    for (; n < room && this.nFree !== 0; n++) {
      const tag = this.free[this.nFree - 1];
      if (!run.next(tag, now)) {
        st[S_IN_END] = 1;
        break;
      }
      this.nFree--;
      // The native loop counts its ops in flight itself.
      run.inFlight--;
      const b = at * IN;
      input[b] = run.slotOff[tag];
      input[b + 1] = run.slotLen[tag];
      input[b + 2] = run.slotDir[tag];
      input[b + 3] = tag;
      if (++at === this.block) at = 0;
    }
    this.inAt = at;
    st[S_IN_COUNT] += n;
  }

  /**
   * What the loop reaped since the last call: the buffers back to the free
   * list, an error to the job, a verify's read checked; the counts and the
   * histograms' stats (their buckets are filled in place) added to the job's.
   */
  take(): void {
    const run = this.run;
    const st = this.state;
    const out = this.output;
    const n = st[S_OUT_COUNT];
    const vr = run.vr;
    for (let i = 0, b = 0; i < n; i++, b += OUT) {
      const res = out[b];
      const tag = out[b + 7];
      this.free[this.nFree++] = tag;
      if (res < 0) run.fail(tag, -res);
      else if (vr !== undefined) {
        if (run.slotDir[tag] === 1) vr.written(tag, run.slotOff[tag], res);
        else if (!vr.readDone(run, tag, res)) run.stopping = true;
      }
    }
    st[S_OUT_COUNT] = 0;
    const { ios, bytes, shorts } = run;
    for (let d = 0; d < 2; d++) {
      const o = S_DONE + 3 * d;
      if (st[o] === 0 && st[o + 2] === 0) continue;
      ios[d] += st[o];
      bytes[d] += st[o + 1];
      shorts[d] += st[o + 2];
      st[o] = st[o + 1] = st[o + 2] = 0;
    }
    const hs = this.histStats;
    for (let k = 0; k < 6; k++) {
      const i = k * HS;
      if (hs[i] === 0) continue;
      const h = run.hist[k < 3 ? 0 : 1];
      const hist = k % 3 === 0 ? h.slat : k % 3 === 1 ? h.clat : h.lat;
      hist.count += hs[i];
      hist.sum += hs[i + 1];
      hist.sumSq += hs[i + 2];
      if (hs[i + 3] < hist.min) hist.min = hs[i + 3];
      if (hs[i + 4] > hist.max) hist.max = hs[i + 4];
      hs[i] = hs[i + 1] = hs[i + 2] = hs[i + 4] = 0;
      hs[i + 3] = Infinity;
    }
    for (let j = 0; j < 7; j++) {
      run.depthLevels[j] += st[S_DEPTH + j];
      run.submitLevels[j] += st[S_SUBMIT + j];
      run.completeLevels[j] += st[S_COMPLETE + j];
      st[S_DEPTH + j] = st[S_SUBMIT + j] = st[S_COMPLETE + j] = 0;
    }
    run.publish();
    if (run.stopping) st[S_STOP] = 1;
  }

  close(): void {
    this.native.close();
  }
}
