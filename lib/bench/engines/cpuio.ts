// fio's cpuio engine: no file and no I/O; each op burns CPU for a chunk
// (cpumode=noop: spins cpuchunks µs; qsort: sorts 256 Ki integers four ways
// and takes that time as the chunk), then the job thinks (sleeps) long
// enough that the burn is cpuload percent of the time.
import { performance } from 'node:perf_hooks';
import type { Run } from '../job';
import { F_NOFILE, F_NOIO, F_SYNC, type IoEngine } from './engine';

/** Integers sorted by cpumode=qsort (fio's size: 256 Ki of them, 1 MiB). */
const QSORT_INTS = 256 * 1024;

export class CpuioEngine implements IoEngine {
  readonly name = 'cpuio';
  readonly flags = F_SYNC | F_NOFILE | F_NOIO;
  run!: Run;
  load = 100;
  /** Microseconds of the last burn. */
  cycle = 0;
  data: Int32Array | undefined;

  setup(run: Run): void {
    this.run = run;
    this.load = run.job.cpuload;
    this.cycle = run.job.cpuchunks;
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
    }
  }

  /** Sorts up, down, by byte, down again; the time it took is the chunk. */
  #qsort(): void {
    const d = this.data!;
    const t0 = performance.now();
    d.sort();
    d.sort((a, b) => b - a);
    new Uint8Array(d.buffer, d.byteOffset, d.byteLength).sort();
    d.sort((a, b) => b - a);
    this.cycle = Math.max(1, Math.round((performance.now() - t0) * 1000));
  }

  queue(): number {
    if (this.data) this.#qsort();
    else {
      const end = performance.now() + this.cycle / 1000;
      while (performance.now() < end);
    }
    // Think: the rest of the period, cut at the runtime's end; Ctrl-C wakes it.
    const run = this.run;
    const now = performance.now();
    const ms = Math.min((this.cycle * (100 - this.load)) / this.load / 1000, run.deadline - now);
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
  }
  fixedOps(): number {
    return 0;
  }
}
