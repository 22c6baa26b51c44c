// What a write carries, fio's way (fill_io_buffer): random bytes, or a
// compressible mix (buffer_compress_percentage of each buffer_compress_chunk
// zeros or buffer_pattern), or a copy of an earlier buffer
// (dedupe_percentage: the last unique buffer, or one of a working set of
// unique buffers, shared between jobs with dedupe_global), or the pattern,
// or zeros. refill_buffers makes each write new bytes; otherwise the buffers
// are filled once and scramble_buffers stamps each 512-byte block of a write
// with its offset and time, so that no two blocks dedupe.
import { binding } from '../binding';
import { fillPattern } from './verify';
import type { JobSetup } from './job';
import type { BenchJob } from './options';

export interface ContentSettings {
  /** buffer_compress_percentage (100 becomes zero_buffers, as in fio). */
  compressPercentage: number;
  /** buffer_compress_chunk; 0: the whole write. */
  compressChunk: number;
  /** Resolved: each write is filled anew (refill_buffers, implied by compression or verify). */
  refill: boolean;
  scramble: boolean;
  zero: boolean;
  pattern: Buffer;
  dedupePercentage: number;
  dedupeMode: 'repeat' | 'working_set';
  dedupeWorkingSetPercentage: number;
  dedupeGlobal: boolean;
}

/** A 32-bit mix (murmur3's finaliser) of a value: seeds that differ in one bit differ everywhere. */
function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

/** A small, seeded generator for the dedupe decisions (xorshift32). */
class Draw {
  #x: number;
  constructor(seed: number) {
    this.#x = mix(seed) || 1;
  }
  /** In [0, 1). */
  next(): number {
    let x = this.#x;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#x = x >>> 0;
    return this.#x / 2 ** 32;
  }
}

export class Content {
  readonly #s: ContentSettings;
  /** Unique buffers this job made so far (the next one's number). */
  #unique = 0;
  /** The last unique buffer: [job, number]. */
  #lastJob = 0;
  #lastUnique = -1;
  readonly #draw: Draw;
  readonly #pick: Draw;
  /** Working-set pages (fio: size * dedupe_working_set_percentage / 100 / the smallest write). */
  readonly #pages: number;
  /** With dedupe_global, pages per job before the set moves to the next job's buffers. */
  readonly #perJob: number;
  #plain = 0;

  /**
   * `seed` is the run's (the same for every job, so dedupe_global can make
   * another job's buffers), `thread` the job's 0-based number among the
   * `threads` of the run, `size` its size, `minWrite` its smallest write.
   */
  constructor(
    s: ContentSettings,
    readonly seed: number,
    readonly thread: number,
    readonly threads: number,
    size: number,
    readonly minWrite: number,
  ) {
    this.#s = s;
    this.#draw = new Draw(seed ^ mix(thread + 0x51));
    this.#pick = new Draw(seed ^ mix(thread + 0x77));
    this.#pages = s.dedupePercentage && s.dedupeMode === 'working_set' ? Math.max(1, Math.floor((size * s.dedupeWorkingSetPercentage) / 100 / minWrite)) : 0;
    this.#perJob = Math.max(1, Math.floor(this.#pages / Math.max(1, threads)));
  }

  /** Whether writes need new content each (else the buffers keep what fillInitial put there). */
  get refill(): boolean {
    return this.#s.refill;
  }

  get scramble(): boolean {
    return this.#s.scramble && !this.#s.refill && !this.#s.compressPercentage;
  }

  /** fio's __fill_random_buf_percentage over one segment: random, then zeros or the pattern. */
  #percent(buf: Buffer, from: number, to: number, hi: number, lo: number): void {
    const perc = this.#s.compressPercentage;
    const len = to - from;
    const rnd = perc >= 100 ? 0 : Math.floor((len * (100 - perc)) / 100);
    if (rnd) binding.fillRandom(buf, from, from + rnd, hi, lo);
    if (rnd < len) {
      if (this.#s.pattern.length) fillPattern(buf, from + rnd, to, this.#s.pattern);
      else buf.fill(0, from + rnd, to);
    }
  }

  /** The data of a verify write: one segment from the header's seed (fio's __fill_buffer). */
  readonly fillSeeded = (buf: Buffer, hi: number, lo: number): void => {
    this.#percent(buf, 0, buf.length, hi, lo);
  };

  /** Unique buffer `n` of job `job`, chunk `c`: its seed halves. */
  #seedOf(job: number, n: number, c: number): [number, number] {
    return [mix(this.seed ^ mix(job * 0x9e3779b1 + 1)), mix(n * 0x85ebca6b + c * 0x27d4eb2f + mix(job + 0x3c))];
  }

  /** Fills a write's buffer (fio's fill_io_buffer). */
  fill(buf: Buffer): void {
    const s = this.#s;
    if (s.compressPercentage || s.dedupePercentage) {
      let job = this.thread;
      let n: number;
      const dup = s.dedupePercentage >= 100 || (s.dedupePercentage > 0 && this.#draw.next() * 100 < s.dedupePercentage);
      if (dup && s.dedupeMode === 'repeat' && this.#lastUnique >= 0) {
        job = this.#lastJob;
        n = this.#lastUnique;
      } else if (dup && s.dedupeMode === 'working_set') {
        const i = Math.floor(this.#pick.next() * this.#pages);
        if (s.dedupeGlobal && this.threads > 1) {
          // The set's pages go round the jobs, perJob of each job's first unique buffers.
          job = (this.thread + Math.floor(i / this.#perJob)) % this.threads;
          n = i < this.#perJob ? i : i % this.#perJob;
        } else n = i;
      } else {
        n = this.#unique++;
        this.#lastJob = job;
        this.#lastUnique = n;
      }
      const chunk = Math.min(this.minWrite, s.compressChunk || this.minWrite);
      for (let from = 0, c = 0; from < buf.length; from += chunk, c++) {
        const [hi, lo] = this.#seedOf(job, n, c);
        this.#percent(buf, from, Math.min(buf.length, from + chunk), hi, lo);
      }
    } else if (s.pattern.length) fillPattern(buf, 0, buf.length, s.pattern);
    else if (s.zero) buf.fill(0);
    else binding.fillRandom(buf, 0, buf.length, mix(this.seed ^ 0xa5a5) ^ this.thread, this.#plain++);
  }

  /**
   * fio's small_content_scramble: in each 512-byte block, one 64-byte line
   * (chosen by the offset and time) gets the block's offset and the time.
   */
  scrambleWrite(buf: Buffer, off: number, nowMs: number): void {
    const ns = Math.floor(nowMs * 1e6);
    const line = ((ns ^ (off / 512)) & 7) * 64;
    const lo = ns >>> 0;
    const hi = Math.floor(ns / 2 ** 32) >>> 0;
    for (let p = 0; p + 512 <= buf.length; p += 512) {
      const at = p + line;
      const bo = off + p;
      buf.writeUInt32LE(bo % 2 ** 32, at);
      buf.writeUInt32LE(Math.floor(bo / 2 ** 32), at + 4);
      buf.writeUInt32LE(lo, at + 8);
      buf.writeUInt32LE(hi, at + 12);
    }
  }
}

/** The job's content settings, resolved as fio's fixup_options does. */
export function contentFor(job: BenchJob, setup: JobSetup, maxLen: number): Content {
  const s: ContentSettings = {
    compressPercentage: job.compressPercentage,
    compressChunk: job.compressChunk,
    // fio: compression, dedupe and verify refill each write unless refill_buffers was given.
    refill: job.refillBuffers ?? (job.compressPercentage > 0 || job.dedupePercentage > 0 || !!job.verify),
    scramble: job.scrambleBuffers && !job.zeroBuffers && !job.verify,
    zero: job.zeroBuffers,
    pattern: job.bufferPattern,
    dedupePercentage: job.dedupePercentage,
    dedupeMode: job.dedupeMode,
    dedupeWorkingSetPercentage: job.dedupeWorkingSetPercentage,
    dedupeGlobal: job.dedupeGlobal,
  };
  const ws = job.bssplit[1].length ? job.bssplit[1].map(([x]) => x) : [job.bs[1]];
  const minWrite = Math.min(maxLen, ...ws);
  const thread = setup.threadNumber - 1;
  return new Content(s, job.randrepeat ? job.randseed : (Math.random() * 2 ** 32) >>> 0, thread, setup.threads ?? job.numjobs, setup.size, minWrite);
}
