// The interface every `kaio bench` engine implements, shaped like fio's
// struct ioengine_ops: setup, queue (one op), commit (hand the queued ops to
// the kernel), getevents (wait for completions), cleanup, and flags saying
// what kind of engine it is. The submit/reap loop (loop.ts) owns everything
// else: the queue depth, iodepth_batch_*, per-op timestamps, the stop flag
// and the counters. A job runs in its own worker thread with one engine, so
// each call site of the loop sees one engine class (monomorphic).
import type { Run } from '../job';

/** queue() did the op and returned its result (fio's FIO_SYNCIO): depth 1, no commit, no reap. */
export const F_SYNC = 1;
/** The engine opens no file (fio's FIO_DISKLESSIO). */
export const F_NOFILE = 2;
/** No I/O at all: an op is issued at the loop's clock (fio's FIO_FAKEIO). */
export const F_FAKEIO = 4;
/**
 * queue() itself hands the op over (a promise API): nothing for commit() to
 * do, and the op's issue time is its start time, so there is no slat.
 */
export const F_ISSUES = 8;
/** Completions arrive on Node's event loop: getevents() returns a promise. */
export const F_EVENTLOOP = 16;
/**
 * The engine records its own latency samples (fio's FIO_NOSTATS: the file
 * engines time their op on the file); the loop only counts the ops.
 */
export const F_NOSTATS = 32;

/** The engine does no I/O (fio's FIO_NOIO): its ops are not counted, only its time and CPU. */
export const F_NOIO = 64;

/** queue(): the op waits for commit() (fio's FIO_Q_QUEUED). */
export const Q_QUEUED = -0x40000000;
/** queue(): no room; the loop gives the op back and reaps first (fio's FIO_Q_BUSY). */
export const Q_BUSY = -0x40000001;

/** What a queued engine tells the loop. */
export interface EngineQueue {
  /** Ops queued and not yet taken by the kernel. */
  readonly qLen: number;
  /** The kernel posted op `tag`'s completion: bytes, or -errno. */
  posted(tag: number, res: number): void;
  /** The first `n` queued ops were taken by `calls` submit calls that have just returned. */
  accepted(n: number, calls: number): void;
  /** Resolves at the next posted() (for F_EVENTLOOP engines' getevents). */
  waitPosted(): Promise<void>;
}

export interface IoEngine {
  readonly name: string;
  /** F_* bits. */
  readonly flags: number;
  /**
   * Opens what the engine needs (ring, context, file handle) for `run` on
   * `fd` (-1 with F_NOFILE or rw=nop); `q` is null for F_SYNC engines.
   */
  setup(run: Run, fd: number, q: EngineQueue | null): void | Promise<void>;
  /**
   * Op `tag` (run.slotDir/slotOff/slotLen, run.buf(tag)): F_SYNC engines do
   * it and return bytes or -errno; the others return Q_QUEUED or Q_BUSY.
   */
  queue(tag: number): number;
  /** An fsync (fdatasync with `datasync`) in slot `tag`, with queue()'s results. */
  queueSync(tag: number, datasync: boolean): number;
  /** Hands the queued ops to the kernel, reporting what it took through EngineQueue.accepted. */
  commit(): void;
  /**
   * Waits until at least `min` more completions are posted (0: takes what
   * is already there without waiting). F_EVENTLOOP engines return a promise.
   */
  getevents(min: number): void | Promise<void>;
  /** Closes everything setup() opened; runs whatever happened. */
  cleanup(): void | Promise<void>;
  /** Ops that went with registered buffers (io_uring's *_FIXED), else 0. */
  fixedOps(): number;
  /**
   * Runs the whole job in the engine's own (native) loop, after begin(); false:
   * the engine has none for this job and the shared loop runs it.
   */
  ownLoop?(): boolean;
}
