// kaio bench's native inner loop for io_uring's batch API and libaio (the common case):
// JavaScript chooses the ops in blocks (run.next, as the JavaScript loop
// does, into the input array); native/core/bench_loop.cc preps, commits,
// reaps and stamps them per op with CLOCK_MONOTONIC by fio's definitions
// (slat: prep until the enter that took the op returned; clat: from then
// until the reap; lat: both), turning once per op at fio's defaults as the
// JavaScript loop (loop.ts) does; the records of reaped ops are folded into
// the histograms and counters here, in bulk. A job with any option this
// loop does not do (nativeLoopFits) runs the JavaScript loop instead.
// KAIO_BENCH_LOOP=js in the environment forces the JavaScript loop (to
// compare the two).
import { performance } from 'node:perf_hooks';
import { binding, type NativeBenchLoop } from '../../binding';
import { alignedBuffer } from '../../pool';
import type { Run } from '../job';

// bench_loop.h: kBenchInStride, kBenchOutStride, BenchState, BenchStatus.
const IN = 3;
const OUT = 7;
const S_DEPTH = 0;
const S_SUBMIT = 7;
const S_COMPLETE = 14;
const S_IN_COUNT = 21;
const S_IN_POS = 22;
const S_IN_END = 23;
const S_OUT_COUNT = 24;
const S_DEADLINE = 25;
const S_STOP = 26;
const S_CLOCK = 29;
const S_SLOTS = 30;
const DONE = 0;
const NEED_INPUT = 1;

/** Ops chosen per block. */
const BLOCK = 256;

/** Whether the native loop does all that `run` asks (else the JavaScript loop runs it). */
export function nativeLoopFits(run: Run): boolean {
  const job = run.job;
  return (
    process.env.KAIO_BENCH_LOOP !== 'js' &&
    ((job.ioengine === 'io_uring' && job.api === 'batch') || job.ioengine === 'libaio') &&
    !run.nop &&
    run.pace === null &&
    run.vr === undefined &&
    run.prioPick === undefined &&
    run.syncEvery === 0 &&
    !run.trimWrite &&
    run.dir0 !== 2 &&
    job.rampTime === 0 &&
    // Writes filled anew per op (refill_buffers) stay with the JavaScript loop; scramble_buffers is native.
    !(run.content.refill && run.directionsUsed()[1]) &&
    run.setup.logFiles.length === 0 &&
    run.depthMax <= 65535
  );
}

/** The native loop of one job instance: the ring, its arrays, the fold. */
export class NativeLoop {
  readonly input = new Float64Array(BLOCK * IN);
  readonly output: Float64Array;
  readonly state = new Float64Array(S_SLOTS);
  readonly native: NativeBenchLoop;
  readonly spare: number;

  constructor(
    readonly run: Run,
    fd: number,
    aio: boolean,
  ) {
    const { job } = run;
    const depth = run.depthMax;
    this.spare = depth;
    this.output = new Float64Array(Math.max(64, 4 * depth) * OUT);
    if (run.buffers.length === 0) {
      // fixedbufs: job.ts left the buffers to the engine (its registered pool).
      run.buffers = Array.from({ length: depth + 1 }, () => alignedBuffer(Math.ceil(run.maxLen / 4096) * 4096).subarray(0, run.maxLen));
      for (const b of run.buffers) run.content.fill(b);
    }
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
        scramble: run.content.scramble && run.directionsUsed()[1],
      },
      this.input,
      this.output,
      this.state,
      run.buffers.slice(0, depth),
      run.stopFlag,
      run.termFlag,
    );
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
    st[S_CLOCK] = offset;
    if (!run.poll(performance.now())) st[S_STOP] = 1;
    this.refill();
    for (;;) {
      const s = this.native.run();
      this.fold();
      if (s === DONE) break;
      if (s === NEED_INPUT) this.refill();
      if (!run.poll(performance.now())) st[S_STOP] = 1;
    }
    // Ops chosen but never started (the runtime or a stop came first) are not issued.
    for (let i = st[S_IN_POS]; i < st[S_IN_COUNT]; i++) {
      run.issued--;
      run.issuedBytes -= this.input[i * IN + 1];
    }
    if (st[S_STOP] !== 0) run.stopping = true;
  }

  /** The next block of ops (run.next into the spare slot, as the JavaScript loop chooses them). */
  refill(): void {
    const run = this.run;
    const st = this.state;
    const input = this.input;
    const spare = this.spare;
    const now = performance.now();
    let n = 0;
    if (st[S_STOP] === 0) {
      for (; n < BLOCK; n++) {
        if (!run.next(spare, now)) {
          st[S_IN_END] = 1;
          break;
        }
        // The loop counts its ops in flight itself.
        run.inFlight--;
        input[n * IN] = run.slotOff[spare];
        input[n * IN + 1] = run.slotLen[spare];
        input[n * IN + 2] = run.slotDir[spare];
      }
    } else st[S_IN_END] = 1;
    st[S_IN_COUNT] = n;
    st[S_IN_POS] = 0;
  }

  /** The reaped ops into the histograms and counters (run.submitted and run.done's work, in bulk). */
  fold(): void {
    const run = this.run;
    const st = this.state;
    const out = this.output;
    const n = st[S_OUT_COUNT];
    const { tSlat, tClat, tLat, hist, ios, bytes, shorts } = run;
    for (let i = 0, b = 0; i < n; i++, b += OUT) {
      const res = out[b];
      const dir = out[b + 1];
      const h = hist[dir];
      if (tSlat) h.slat.record(out[b + 5] - out[b + 4]);
      if (res < 0) {
        const spare = this.spare;
        run.slotDir[spare] = dir;
        run.slotLen[spare] = out[b + 2];
        run.slotOff[spare] = out[b + 3];
        run.fail(spare, -res);
        continue;
      }
      if (tClat) h.clat.record(out[b + 6] - out[b + 5]);
      if (tLat) h.lat.record(out[b + 6] - out[b + 4]);
      ios[dir]++;
      bytes[dir] += res;
      if (res < out[b + 2]) shorts[dir]++;
    }
    st[S_OUT_COUNT] = 0;
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
