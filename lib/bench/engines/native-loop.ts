// kaio bench's native inner loop for io_uring's batch API and libaio (the common case):
// JavaScript chooses the ops in blocks (run.next, as the JavaScript loop
// does, into the input array), each with a buffer of its own from a free
// list (a write's data and verify headers are written into it then; a read
// is checked in it when its record comes back; the buffer returns to the
// list after that); native/core/bench_loop.cc preps, commits,
// reaps and stamps them per op with CLOCK_MONOTONIC by fio's definitions
// (slat: prep until the enter that took the op returned; clat: from then
// until the reap; lat: both), turning once per op at fio's defaults as the
// JavaScript loop (loop.ts) does; the records of reaped ops are folded into
// the histograms and counters here, in bulk. A job with any option this
// loop does not do (nativeLoopFits) runs the JavaScript loop instead.
// KAIO_BENCH_LOOP=js in the environment forces the JavaScript loop (to
// compare the two).
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { binding, type NativeBenchLoop } from '../../binding';
import { alignedBuffer } from '../../pool';
import type { Run } from '../job';

// bench_loop.h: kBenchInStride, kBenchOutStride, BenchState, BenchStatus.
const IN = 4;
const OUT = 8;
const S_DEPTH = 0;
const S_SUBMIT = 7;
const S_COMPLETE = 14;
const S_IN_COUNT = 21;
const S_IN_POS = 22;
const S_IN_END = 23;
const S_OUT_COUNT = 24;
const S_DEADLINE = 25;
const S_STOP = 26;
const S_SLOTS = 29;
const DONE = 0;
const NEED_INPUT = 1;

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

/** The native loop of one job instance: the ring, its arrays, the fold. */
export class NativeLoop {
  readonly block: number;
  readonly input: Float64Array;
  readonly output: Float64Array;
  readonly state = new Float64Array(S_SLOTS);
  readonly native: NativeBenchLoop;
  /** Buffers (tags) no op holds: not in the input, in flight or unfolded. */
  readonly free: Int32Array;
  nFree = 0;

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
    this.output = new Float64Array(Math.max(64, 4 * depth) * OUT);
    // job.ts made depth + 1 buffers (none with io_uring's fixedbufs, left to the engine): the rest here.
    while (run.buffers.length < tags) {
      const b = alignedBuffer(Math.ceil(run.maxLen / 4096) * 4096).subarray(0, run.maxLen);
      run.content.fill(b);
      run.buffers.push(b);
    }
    this.free = new Int32Array(tags);
    for (let t = tags - 1; t >= 0; t--) this.free[this.nFree++] = t;
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
      },
      this.input,
      this.output,
      this.state,
      run.buffers.slice(0, tags),
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
    // The job's time ends with its last reap, as fio's (not with the ring's or context's teardown).
    run.tEnd = performance.now();
  }

  /** The next block of ops: run.next into a free buffer's tag, as the JavaScript loop chooses them. */
  refill(): void {
    const run = this.run;
    const st = this.state;
    const input = this.input;
    const now = performance.now();
    let n = 0;
    if (st[S_STOP] === 0) {
      for (; n < this.block && this.nFree !== 0; n++) {
        const tag = this.free[this.nFree - 1];
        if (!run.next(tag, now)) {
          st[S_IN_END] = 1;
          break;
        }
        this.nFree--;
        // The native loop counts its ops in flight itself.
        run.inFlight--;
        const b = n * IN;
        input[b] = run.slotOff[tag];
        input[b + 1] = run.slotLen[tag];
        input[b + 2] = run.slotDir[tag];
        input[b + 3] = tag;
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
    const { tSlat, tClat, tLat, hist, ios, bytes, shorts, vr } = run;
    for (let i = 0, b = 0; i < n; i++, b += OUT) {
      const res = out[b];
      const dir = out[b + 1];
      const tag = out[b + 7];
      this.free[this.nFree++] = tag;
      const h = hist[dir];
      if (tSlat) h.slat.record(out[b + 5] - out[b + 4]);
      if (res < 0) {
        run.fail(tag, -res);
        continue;
      }
      if (tClat) h.clat.record(out[b + 6] - out[b + 5]);
      if (tLat) h.lat.record(out[b + 6] - out[b + 4]);
      ios[dir]++;
      bytes[dir] += res;
      if (res < out[b + 2]) shorts[dir]++;
      if (vr !== undefined) {
        if (dir === 1) vr.written(tag, run.slotOff[tag], res);
        else if (!vr.readDone(run, tag, res)) run.stopping = true;
      }
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
