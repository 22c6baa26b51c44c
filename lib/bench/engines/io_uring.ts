// fio's io_uring engine over kaio's Ring: the batch API (prep*, one
// io_uring_enter per commit, completions reaped by the loop), and the same
// ring's promise API (api=promise: each op a promise, the ring submits a
// tick's ops together).
import { Ring, type FixedFile } from '../../ring';
import type { Run } from '../job';
import { F_ISSUES, F_EVENTLOOP, Q_BUSY, Q_QUEUED, type EngineQueue, type IoEngine } from './engine';
import { errnoOf } from './util';
import { NativeLoop, nativeLoopFits } from './native-loop';

/** The ring, registered buffers and files for `run` (shared by both APIs). */
function openRing(run: Run, fd: number): { ring: Ring; file: number | FixedFile } {
  const { job } = run;
  const depth = run.depthMax;
  let entries = job.entries;
  if (!entries) for (entries = 8; entries < depth + 1; entries *= 2);
  const ring = new Ring({
    entries,
    cqEntries: Math.max(entries * 2, (depth + 1) * 2),
    // The batch loop commits every iodepth_batch_submit ops itself, one
    // enter each (to stamp them when it returns); the promise API lets the
    // ring split a tick's ops.
    submitBatch: job.api === 'batch' ? 0 : job.batchSubmit,
    sqpoll: job.sqthreadPoll,
    iopoll: job.hipri,
  });
  let file: number | FixedFile = fd;
  try {
    if (job.rw !== 'nop' && job.fixedbufs) {
      const pool = ring.registerBuffers({ count: depth + 1, size: Math.ceil(run.maxLen / 4096) * 4096, fallback: true });
      // The pool's own Buffers where the block size fills them: ops on those
      // go by the buffer's index, without looking at the view (lib/pool.ts).
      run.buffers = pool.buffers.map((b) => (b.length === run.maxLen ? b : b.subarray(0, run.maxLen)));
      for (const b of run.buffers) run.content.fill(b);
    }
    if (job.rw !== 'nop' && job.registerfiles) file = ring.registerFiles([fd])[0];
  } catch (e) {
    void ring.close();
    throw e;
  }
  return { ring, file };
}

/** The note when fixedbufs could not register every op's buffer. */
function fixedNote(run: Run, fixed: number): void {
  if (run.job.fixedbufs && run.job.rw !== 'nop') {
    const total = run.ios[0] + run.ios[1];
    if (fixed < total) run.notes.push(`fixedbufs: ${total - fixed} of ${total} ops were not *_FIXED (buffers could not be registered)`);
  }
}

/**
 * api=batch: queue() writes the SQE; commit() is one io_uring_enter
 * (submitAndWait(0) also takes what the CQ already holds into the loop's
 * posted completions); getevents() waits in the kernel.
 */
export class IoUringEngine implements IoEngine {
  readonly name = 'io_uring';
  readonly flags = 0;
  ring!: Ring;
  file: number | FixedFile = -1;
  fd = -1;
  run!: Run;
  q!: EngineQueue;
  nop = false;
  submittedSeen = 0;
  /** The native loop, for a job it does all of (native-loop.ts); else the ring below. */
  native: NativeLoop | undefined;

  setup(run: Run, fd: number, q: EngineQueue | null): void {
    this.run = run;
    this.q = q!;
    this.fd = fd;
    this.nop = run.nop;
    if (nativeLoopFits(run, fd)) {
      this.native = new NativeLoop(run, fd, false);
      return;
    }
    const { ring, file } = openRing(run, fd);
    this.ring = ring;
    this.file = file;
    ring.onCompletion((tag, res) => this.q.posted(tag, res));
    this.submittedSeen = ring.stats.submitted;
  }

  queue(tag: number): number {
    const run = this.run;
    // cmdprio: the op's ioprio in its SQE (0 without cmdprio: nothing more per op).
    const prio = run.prioPick !== undefined ? run.slotPrio[tag] : 0;
    // Several files per job: the op's own fd (datafiles.ts).
    const file = run.df === undefined ? this.file : run.df.slotFd[tag];
    const ok = this.nop
      ? this.ring.prepNop(tag)
      : run.slotDir[tag] === 1
        ? this.ring.prepWrite(file, run.buf(tag), run.slotOff[tag], tag, 0, prio)
        : this.ring.prepRead(file, run.buf(tag), run.slotOff[tag], tag, 0, prio);
    return ok ? Q_QUEUED : Q_BUSY;
  }

  queueSync(tag: number, datasync: boolean): number {
    return this.ring.prepFsync(this.file, tag, datasync) ? Q_QUEUED : Q_BUSY;
  }

  /**
   * One io_uring_enter per commit (the ring is set up with submitBatch 0).
   * How many ops the kernel took is the ring's count of consumed SQEs. A
   * submit the kernel takes part of is repeated; one it refuses for want of
   * resources (EAGAIN) or that finds no room waits for a completion, whose
   * enter takes the rest.
   */
  commit(): void {
    const ring = this.ring;
    const q = this.q;
    while (q.qLen !== 0) {
      ring.submitAndWait(0);
      const s = ring.stats.submitted;
      const r = s - this.submittedSeen;
      this.submittedSeen = s;
      if (r > 0) {
        q.accepted(r, 1);
        continue;
      }
      ring.submitAndWait(1);
      const s2 = ring.stats.submitted;
      const r2 = s2 - this.submittedSeen;
      this.submittedSeen = s2;
      q.accepted(r2, 1);
    }
  }

  getevents(min: number): void {
    this.ring.submitAndWait(min);
  }

  ownLoop(): boolean {
    if (this.native === undefined) return false;
    this.native.loop();
    return true;
  }

  async cleanup(): Promise<void> {
    if (this.native !== undefined) {
      this.native.close();
      fixedNote(this.run, this.native.native.fixedOps());
      return;
    }
    if (!this.ring) return;
    fixedNote(this.run, this.ring.stats.fixedOps);
    this.ring.onCompletion(null);
    await this.ring.close();
  }

  fixedOps(): number {
    if (this.native !== undefined) return this.native.native.fixedOps();
    return this.ring ? this.ring.stats.fixedOps : 0;
  }
}

/** Builds the per-slot completion callbacks once (no closure per op). */
export function slotCallbacks<T>(
  depth: number,
  q: () => EngineQueue,
  result: (v: T, tag: number) => number,
): { ok: Array<(v: T) => void>; fail: Array<(e: unknown) => void> } {
  const ok: Array<(v: T) => void> = [];
  const fail: Array<(e: unknown) => void> = [];
  for (let tag = 0; tag < depth; tag++) {
    ok.push((v: T) => q().posted(tag, result(v, tag)));
    fail.push((e: unknown) => q().posted(tag, -errnoOf(e)));
  }
  return { ok, fail };
}

/** api=promise: each op is one of the Ring's promises (kaio's everyday API). */
export class IoUringPromiseEngine implements IoEngine {
  readonly name = 'io_uring';
  readonly flags = F_ISSUES | F_EVENTLOOP;
  ring!: Ring;
  file: number | FixedFile = -1;
  fd = -1;
  run!: Run;
  q!: EngineQueue;
  nop = false;
  ok: Array<(v: number | void) => void> = [];
  fail: Array<(e: unknown) => void> = [];

  setup(run: Run, fd: number, q: EngineQueue | null): void {
    this.run = run;
    this.q = q!;
    this.fd = fd;
    this.nop = run.nop;
    const cbs = slotCallbacks<number | void>(run.depthMax, () => this.q, (v) => (typeof v === 'number' ? v : 0));
    this.ok = cbs.ok;
    this.fail = cbs.fail;
    const { ring, file } = openRing(run, fd);
    this.ring = ring;
    this.file = file;
  }

  queue(tag: number): number {
    const run = this.run;
    const file = run.df === undefined ? this.file : run.df.slotFd[tag];
    const p: Promise<number | void> = this.nop
      ? this.ring.nop()
      : run.slotDir[tag] === 1
        ? this.ring.write(file, run.buf(tag), run.slotOff[tag])
        : this.ring.read(file, run.buf(tag), run.slotOff[tag]);
    p.then(this.ok[tag], this.fail[tag]);
    return Q_QUEUED;
  }

  queueSync(tag: number, datasync: boolean): number {
    this.ring.fsync(this.fd, { datasync }).then(this.ok[tag], this.fail[tag]);
    return Q_QUEUED;
  }

  commit(): void {}

  getevents(): Promise<void> {
    return this.q.waitPosted();
  }

  async cleanup(): Promise<void> {
    if (!this.ring) return;
    fixedNote(this.run, this.ring.stats.fixedOps);
    await this.ring.close();
  }

  fixedOps(): number {
    return this.ring ? this.ring.stats.fixedOps : 0;
  }
}
