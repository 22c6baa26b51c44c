// fio's cpuio engine: no file and no I/O; each op burns CPU for a chunk
// (cpumode=noop: spins for cpuchunks µs of CPU time; qsort: sorts 256 Ki
// random integers, then their bytes), then the job sleeps until the chunk is cpuload
// percent of the time since the op began. The chunk is counted in the
// thread's own CPU time (/proc/thread-self/schedstat) where the kernel has
// it, so that on a busy machine the job still uses cpuload percent when it
// can get that much (fio spins by the wall clock and uses less there).
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Run } from '../job';
import { F_NOFILE, F_NOIO, F_SYNC, type IoEngine } from './engine';

/** Integers sorted by cpumode=qsort (fio's size: 256 Ki of them, 1 MiB). */
const QSORT_INTS = 256 * 1024;

/** This thread's CPU time in ms, or -1 without schedstat. */
function threadCpuMs(): number {
  try {
    const text = fs.readFileSync('/proc/thread-self/schedstat', 'latin1');
    return Number(text.slice(0, text.indexOf(' '))) / 1e6;
  } catch {
    return -1;
  }
}

export class CpuioEngine implements IoEngine {
  readonly name = 'cpuio';
  readonly flags = F_SYNC | F_NOFILE | F_NOIO;
  run!: Run;
  load = 100;
  /** Microseconds of the last burn. */
  cycle = 0;
  data: Int32Array | undefined;
  work: Int32Array | undefined;
  /** The chunk is counted in thread CPU time (schedstat), else in wall time. */
  cpuClock = false;

  setup(run: Run): void {
    this.run = run;
    this.load = run.job.cpuload;
    this.cycle = run.job.cpuchunks;
    this.cpuClock = threadCpuMs() >= 0;
    if (run.job.cpumode === 'qsort') {
      // Multiply-with-carry numbers from a fixed seed: the same data every run.
      const d = new Int32Array(QSORT_INTS);
      let z = 362436069;
      let w = 521288629;
      for (let i = 0; i < d.length; i++) {
        z = (36969 * (z & 0xffff) + (z >>> 16)) >>> 0;
        w = (18000 * (w & 0xffff) + (w >>> 16)) >>> 0;
        d[i] = ((z << 16) + w) | 0;
      }
      this.data = d;
      this.work = new Int32Array(QSORT_INTS);
    }
  }

  /** Sorts the random integers, then their bytes (a fresh copy each time: sorted input would cost nothing). */
  #qsort(): void {
    const d = this.work!;
    d.set(this.data!);
    d.sort();
    new Uint8Array(d.buffer, d.byteOffset, d.byteLength).sort();
  }

  queue(): number {
    const t0 = performance.now();
    const c0 = this.cpuClock ? threadCpuMs() : t0;
    let used: number;
    if (this.data) {
      this.#qsort();
      used = (this.cpuClock ? threadCpuMs() : performance.now()) - c0;
    } else {
      // Spin until the chunk's CPU time is spent (the wall clock without
      // schedstat), or the runtime is over, or Ctrl-C.
      const chunk = this.cycle / 1000;
      const now = this.cpuClock ? threadCpuMs : (): number => performance.now();
      const deadline = this.run.deadline;
      const stop = this.run.stopFlag;
      do used = now() - c0;
      while (used < chunk && performance.now() < deadline && Atomics.load(stop, 0) === 0);
    }
    // Sleep the rest of the period (the chunk is cpuload % of it), cut at the runtime's end; Ctrl-C wakes it.
    const run = this.run;
    const t = performance.now();
    const ms = Math.min((used * 100) / this.load - (t - t0), run.deadline - t);
    if (ms > 0) Atomics.wait(run.stopFlag, 0, 0, ms);
    return 0;
  }

  queueSync(): number {
    return 0;
  }
  commit(): void {}
  getevents(): void {}
  cleanup(): void {
    this.data = undefined;
    this.work = undefined;
  }
  fixedOps(): number {
    return 0;
  }
}
