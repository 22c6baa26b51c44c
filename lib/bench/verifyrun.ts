// A job's verify as fio runs it: each write gets its headers (verify.ts)
// and is logged when it completes; verify_backlog=N reads the oldest
// verify_backlog_batch logged blocks back after every N writes, inside the
// job; after the job's writes, the verify pass reads every block still
// logged through the job's own engine and queue depth (fio's do_verify),
// and those reads are the job's read statistics. A read job with verify=
// checks every block it reads. The first bad block ends the job with fio's
// words and EILSEQ.
import { checkVerify, fillVerify, takeDumpLines, WriteLog, type Expected, type VerifySettings } from './verify';
import type { Content } from './content';
import type { JobSetup } from './job';
import type { BenchJob } from './options';

/** What the engine-independent job state (job.ts's Run) lends the verify. */
export interface VerifyHost {
  readonly slotDir: Uint8Array;
  readonly slotOff: Float64Array;
  readonly slotLen: Uint32Array;
  readonly filename: string;
  buf(tag: number): Buffer;
  stopping: boolean;
}

export class JobVerify {
  readonly log: WriteLog | undefined;
  /** Writes issued (fio's io_issues[write]: the next write's numberio). */
  #writes = 0;
  readonly #seedHi: number;
  /** Per slot: the expected write of a verify read (numberio < 0: a plain read, nothing known). */
  readonly #exp: Expected[];
  /** Per slot: the write's numberio and seed (logged when it completes). */
  readonly #wNumberio: Float64Array;
  readonly #wSeed: Uint32Array;
  /** Per slot: this read checks what it reads. */
  readonly #checks: Uint8Array;
  /** Writes completed since the last backlog read-back, and backlog reads still to issue. */
  #sinceBacklog = 0;
  #backlogLeft = 0;
  /** In the verify pass (after the job's writes). */
  inPass = false;
  verified = 0;
  failure: string | undefined;
  readonly #take = { off: 0, len: 0, numberio: 0, seedHi: 0, seedLo: 0 };

  constructor(
    readonly s: VerifySettings,
    readonly content: Content,
    slots: number,
    /** The job writes and will read back (do_verify, or verify_backlog). */
    logWrites: boolean,
    /** Every read of the job itself is checked (read/randread with verify). */
    readonly checkReads: boolean,
    readonly backlog: number,
    readonly backlogBatch: number,
    seed: number,
  ) {
    this.log = logWrites ? new WriteLog() : undefined;
    this.#seedHi = seed >>> 0;
    this.#exp = Array.from({ length: slots }, () => ({ numberio: -1, seedHi: 0, seedLo: 0 }));
    this.#wNumberio = new Float64Array(slots);
    this.#wSeed = new Uint32Array(slots);
    this.#checks = new Uint8Array(slots);
  }

  /** Whether a read-back pass follows the job's writes. */
  get passDue(): boolean {
    return !!this.log && this.log.size > 0 && !this.failure;
  }

  /** A write into slot `tag` at `off`: the verify headers over its data. */
  fillWrite(h: VerifyHost, tag: number, off: number, now: number): void {
    const numberio = this.#writes++;
    const lo = (numberio + 1) >>> 0;
    this.#wNumberio[tag] = numberio;
    this.#wSeed[tag] = lo;
    fillVerify(this.s, h.buf(tag), off, numberio, this.#seedHi, lo, this.content.fillSeeded, now);
  }

  /** Logs a completed write (the bytes the kernel took; a short one is logged as written). */
  written(tag: number, off: number, res: number): void {
    if (!this.log || res <= 0) return;
    this.log.add(off, res, this.#wNumberio[tag], this.#seedHi, this.#wSeed[tag]);
    if (this.backlog && ++this.#sinceBacklog >= this.backlog) {
      this.#sinceBacklog = 0;
      this.#backlogLeft += this.backlogBatch || this.backlog;
    }
  }

  /**
   * A verify read for slot `tag` when one is due: 1 when the slot now holds
   * one, 0 when the job's own next op goes there, -1 when the job is over
   * (the pass has nothing left).
   */
  next(h: VerifyHost, tag: number): number {
    if (h.stopping || this.failure) return this.inPass ? -1 : 0;
    if (!this.inPass && this.#backlogLeft <= 0) {
      this.#checks[tag] = this.checkReads ? 1 : 0;
      this.#exp[tag].numberio = -1;
      return 0;
    }
    if (!this.log!.take(this.#take)) {
      this.#backlogLeft = 0;
      if (this.inPass) return -1;
      this.#checks[tag] = this.checkReads ? 1 : 0;
      this.#exp[tag].numberio = -1;
      return 0;
    }
    if (!this.inPass) this.#backlogLeft--;
    const t = this.#take;
    h.slotDir[tag] = 0;
    h.slotOff[tag] = t.off;
    h.slotLen[tag] = t.len;
    const e = this.#exp[tag];
    e.numberio = t.numberio;
    e.seedHi = t.seedHi;
    e.seedLo = t.seedLo;
    this.#checks[tag] = 1;
    return 1;
  }

  /** A read completed whole into slot `tag`: checked when it is a verify read. False when it failed. */
  readDone(h: VerifyHost, tag: number, res: number): boolean {
    if (!this.#checks[tag] || this.failure) return true;
    const len = h.slotLen[tag];
    const off = h.slotOff[tag];
    const e = this.#exp[tag];
    if (res < len) {
      this.failure = `verify: short read at file ${h.filename} offset ${off + Math.max(0, res)}, length ${len - Math.max(0, res)} (requested block: offset=${off}, length=${len})`;
      return false;
    }
    const f = checkVerify(this.s, h.buf(tag), off, h.filename, e.numberio >= 0 ? e : undefined, this.content.fillSeeded);
    this.verified++;
    if (f) {
      // fio's lines, as one line (kaio bench reports an error on one line).
      this.failure = [f, ...takeDumpLines()].join('\n').replace(/\s*\n\s*/g, ' ');
      return false;
    }
    return true;
  }

  /** Starts the read-back pass. */
  startPass(): void {
    this.inPass = true;
    this.#backlogLeft = 0;
  }
}

/** The job's verify, or undefined without verify=. */
export function verifyFor(job: BenchJob, setup: JobSetup, content: Content, slots: number, writes: boolean, seed: number): JobVerify | undefined {
  if (!job.verify || job.rw === 'nop') return undefined;
  const reads = job.rw === 'read' || job.rw === 'randread';
  const mixed = job.rw === 'rw' || job.rw === 'randrw';
  const sizes = [...job.bs, ...job.bssplit.flat().map(([s]) => s)];
  const s: VerifySettings = {
    name: job.verify,
    patternWithHeader: job.verify === 'meta' && !job.verifySet,
    pattern: job.verifyPattern,
    interval: job.verifyInterval,
    offset: job.verifyOffset,
    fatal: job.verifyFatal,
    dump: job.verifyDump,
    // fio's verify_header(): numberio only for a writing job of one block size, not time_based, not verify_only.
    checkNumberio: writes && !job.bssplit.flat().length && job.bs[1] === job.bs[0] && Math.min(...sizes) === Math.max(...sizes) && !job.timeBased && !job.verifyOnly,
    // rand_seed only where fio knows it: a read/write job without verify_backlog.
    checkSeed: mixed && !job.verifyBacklog && !job.verifyOnly,
    thread: setup.threadNumber,
  };
  const logWrites = writes && (job.doVerify || job.verifyBacklog > 0);
  return new JobVerify(s, content, slots, logWrites, reads, job.verifyBacklog, job.verifyBacklogBatch, seed);
}
