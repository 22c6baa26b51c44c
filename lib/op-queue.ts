// The promise layer of every backend: an op takes a slot, is handed to
// native at once or waits in a FIFO until native has room, is submitted with
// the rest of its tick in one flush, may be aborted while it waits, and on
// completion settles its promise before it lets go of what it held (so the
// continuation sees its bytes before a waiting pool.release() detaches them).
// Sits on slots.ts and pool.ts; Ring, AioContext and ThreadpoolContext sit on it.
import { AbortError } from './errors';
import { finishBounce, giveBounce, type Bounce } from './bounce';
import { dropPools, hasLivePools, holdPools, type BufferPool, type HeldPools } from './pool';
import { IdQueue, SlotTable, type Transform } from './slots';
import { abortReason, isAborted, validateSignal } from './validate';

/** IOSQE_IO_LINK | IOSQE_IO_HARDLINK: an op linked to the one started after it. */
const LINKS = (1 << 2) | (1 << 3);

/** Taken once at load (see scheduleFlush). */
const nextTick = process.nextTick;

/** What a backend's native side does for the promise layer. */
export interface OpSink {
  /**
   * Hands op `id` to native; false when native has no room now (the op then
   * waits here and is offered again after completions). Throwing fails this
   * op alone. The fields are the backend's description of the op (for the
   * ring: lib/ring/op-table.ts; `aux` is the one value a few ops add).
   */
  tryStart(id: number, op: number, fd: number, sqeFlags: number, mem: unknown, offset: number | bigint, len: number, opFlags: number, aux: unknown): boolean;
  /**
   * Why the backend refuses op `op` now (closed, or an op this kernel
   * lacks), checked before anything is taken; undefined when it takes it.
   */
  refuse?(op: number, syscall: string): Error | undefined;
  /** Submits what tryStart took since the last flush (once per tick). */
  flush(): void;
  /**
   * The op started right after the ones native holds left the FIFO without
   * reaching native (aborted, or failed, while it waited): native ends a
   * link chain it holds open for it (lib/ring/staging.ts).
   */
  successorGone?(): void;
  /**
   * Asks native to cancel an op it already holds. False when there is no
   * room for the cancel now: OpQueue keeps it and calls again at the next
   * flush and after the next completions (retryCancels), until it is taken.
   */
  cancel(id: number): boolean;
}

export class OpQueue {
  readonly slots = new SlotTable();
  readonly #sink: OpSink;
  /** Pools an op uses (released only after it settles), by slot. */
  readonly #held: Array<HeldPools | undefined> = [];
  /** Bounce memory an op uses in place of its caller's (lib/bounce.ts), by slot. */
  readonly #bounce: Array<Bounce | undefined> = [];
  /** Ops holding a bounce buffer: at 0 (pool memory only) complete() does not look. */
  #bounced = 0;
  /**
   * Slots whose op waits here for room (native never saw it; abort settles
   * it here). Set only on that path and cleared when the op leaves the
   * queue, so an op native takes at once costs no store here.
   */
  readonly #waiting: boolean[] = [];
  // Ops waiting for room, FIFO; their arguments wait in the q* arrays.
  readonly #queue = new IdQueue();
  readonly #qOp: number[] = [];
  readonly #qFd: number[] = [];
  readonly #qSqeFlags: number[] = [];
  readonly #qMem: unknown[] = [];
  readonly #qOffset: Array<number | bigint> = [];
  readonly #qLen: number[] = [];
  readonly #qOpFlags: number[] = [];
  readonly #qAux: unknown[] = [];
  #flushScheduled = false;
  /** Aborted ops whose cancel native had no room for yet, oldest first. */
  #cancels: number[] = [];

  constructor(sink: OpSink) {
    this.#sink = sink;
  }

  /** Ops waiting for room. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Starts one op. The caller has checked its arguments and its own state
   * (closed, supported); `keep` is everything the kernel may touch, held
   * until the op completes. `pool`: keep is one of that pool's own buffers
   * (ownPool() said so), which spares looking it up again. `bounce`: mem
   * is that bounce buffer's, standing in for the caller's memory (a read's
   * data is copied out at completion, see lib/bounce.ts). Rejects (never
   * throws).
   */
  start<T>(
    op: number,
    fd: number,
    sqeFlags: number,
    mem: unknown,
    offset: number | bigint,
    len: number,
    opFlags: number,
    aux: unknown,
    syscall: string,
    path: string | undefined,
    keep: unknown,
    signal: AbortSignal | undefined,
    transform?: Transform,
    pool?: BufferPool,
    bounce?: Bounce,
  ): Promise<T> {
    let held: HeldPools | undefined;
    try {
      const refused = this.#sink.refuse?.(op, syscall);
      if (refused !== undefined) {
        if (bounce !== undefined) giveBounce(bounce);
        return Promise.reject(refused);
      }
      if (signal !== undefined) {
        validateSignal(signal);
        if (isAborted(signal)) {
          if (bounce !== undefined) giveBounce(bounce);
          return Promise.reject(new AbortError(undefined, { cause: abortReason(signal) }));
        }
      }
      // Throws for a pool being released, before anything is taken.
      if (pool !== undefined) {
        pool._hold();
        held = pool;
      } else {
        held = hasLivePools() ? holdPools(keep) : undefined;
      }
    } catch (e) {
      if (bounce !== undefined) giveBounce(bounce);
      return Promise.reject(e);
    }
    const slots = this.slots;
    const id = slots.alloc();
    // A free slot's entry is undefined already (#drop): an op that holds no
    // pool (a NOP, fsync, most fs calls) costs no store here.
    if (held !== undefined) this.#held[id] = held;
    if (bounce !== undefined) {
      this.#bounce[id] = bounce;
      this.#bounced++;
    }
    const promise = slots.start<T>(id, syscall, keep, path, transform);
    let started = false;
    if (this.#queue.length === 0) {
      try {
        started = this.#sink.tryStart(id, op, fd, sqeFlags, mem, offset, len, opFlags, aux);
      } catch (e) {
        this.#fail(id, e);
        return promise;
      }
    }
    if (started) {
      this.scheduleFlush();
    } else {
      this.#qOp[id] = op;
      this.#qFd[id] = fd;
      this.#qSqeFlags[id] = sqeFlags;
      this.#qMem[id] = mem;
      this.#qOffset[id] = offset;
      this.#qLen[id] = len;
      this.#qOpFlags[id] = opFlags;
      this.#qAux[id] = aux;
      this.#waiting[id] = true;
      this.#queue.push(id);
      // What fills native may be ops no flush would submit otherwise (the
      // batch API's prepared SQEs): submit them, so completions make room.
      this.scheduleFlush();
    }
    if (signal !== undefined) slots.watch(id, signal, () => this.#abort(id));
    return promise;
  }

  /**
   * start() for an op that names no memory and has no signal (a NOP, an
   * fsync, a close without options): nothing to hold, watch or keep, so
   * none of start()'s checks for them, and fewer arguments through the
   * call (the NOP loop's per-op path). Rejects (never throws).
   */
  startBare<T>(op: number, fd: number, sqeFlags: number, len: number, opFlags: number, syscall: string, transform: Transform | undefined): Promise<T> {
    const refused = this.#sink.refuse?.(op, syscall);
    if (refused !== undefined) return Promise.reject(refused);
    const slots = this.slots;
    const id = slots.alloc();
    const promise = slots.start<T>(id, syscall, undefined, undefined, transform);
    let started = false;
    if (this.#queue.length === 0) {
      try {
        started = this.#sink.tryStart(id, op, fd, sqeFlags, undefined, 0, len, opFlags, undefined);
      } catch (e) {
        this.#fail(id, e);
        return promise;
      }
    }
    if (!started) {
      this.#qOp[id] = op;
      this.#qFd[id] = fd;
      this.#qSqeFlags[id] = sqeFlags;
      this.#qMem[id] = undefined;
      this.#qOffset[id] = 0;
      this.#qLen[id] = len;
      this.#qOpFlags[id] = opFlags;
      this.#qAux[id] = undefined;
      this.#waiting[id] = true;
      this.#queue.push(id);
    }
    this.scheduleFlush();
    return promise;
  }

  /**
   * The SQE flags of the oldest op waiting for room (the op started right
   * after the ones native holds), or -1 when none waits or it was settled
   * while it waited (it will only be dropped).
   */
  nextWaiting(): number {
    const id = this.#queue.first();
    return id < 0 || this.slots.isSettled(id) ? -1 : this.#qSqeFlags[id];
  }

  /**
   * The oldest op waiting for room settles as the kernel settles an op whose
   * soft-linked predecessor failed (-ECANCELED), and so does each waiting op
   * it was linked to in turn: their predecessor's link was cut by the SQ's
   * size (lib/ring/staging.ts), so the kernel cannot do it.
   */
  cancelLinkedWaiting(ecanceled: number): void {
    let more = true;
    this.#queue.forEach((id) => {
      if (!more) return;
      // One aborted meanwhile never reached the kernel: the chain ended there.
      if (this.slots.isSettled(id)) {
        more = false;
        return;
      }
      more = (this.#qSqeFlags[id] & LINKS) !== 0;
      this.#qMem[id] = undefined;
      this.#qAux[id] = undefined;
      if (this.#held[id] !== undefined) this.#drop(id);
      this.#unbounce(id);
      this.slots.settleEarly(id, ecanceled);
    });
  }

  /** The pools op `id` holds (what holdPools() gave for its memory). */
  heldBy(id: number): HeldPools | undefined {
    return this.#held[id];
  }

  /** A completion from native: settles the op, then drops what it held. */
  complete(id: number, res: number): void {
    if (this.#bounced !== 0) {
      const b = this.#bounce[id];
      if (b !== undefined) {
        // The kernel is done with it: a read's data goes to the caller now.
        this.#bounce[id] = undefined;
        this.#bounced--;
        res = finishBounce(b, res);
      }
    }
    this.slots.settle(id, res);
    if (this.#held[id] !== undefined) this.#drop(id);
  }

  /**
   * After a batch of completions: cancels waiting for room go first (an op
   * that may never complete must not wait behind new ops), then waiting ops
   * take the room they made.
   */
  startWaiting(): void {
    if (this.#cancels.length !== 0) this.retryCancels();
    if (this.#queue.length !== 0 && this.#queue.drain(this.slots, this.#startQueued, this.#discardQueued) > 0) this.scheduleFlush();
  }

  /** One flush per tick, however many ops the tick started. */
  scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    // nextTick taken once at load: `process.nextTick` read here cost a
    // global and a property load through V8's generic ICs (about 360
    // instructions) on every tick that starts ops.
    nextTick(this.#flush);
  }

  /**
   * Fails the waiting ops `pick(fd, sqeFlags)` selects with `error` (e.g. ops
   * on a registered file slot that is about to be replaced). Returns how many.
   */
  failWaiting(pick: (fd: number, sqeFlags: number) => boolean, error: () => unknown): number {
    let n = 0;
    this.#queue.forEach((id) => {
      if (this.slots.isSettled(id) || !pick(this.#qFd[id], this.#qSqeFlags[id])) return;
      this.#qMem[id] = undefined;
      this.#qAux[id] = undefined;
      if (this.#held[id] !== undefined) this.#drop(id);
      this.#unbounce(id);
      this.slots.rejectEarly(id, error());
      n++;
    });
    return n;
  }

  /** Resolves once no op is queued or in flight. */
  whenIdle(): Promise<void> {
    return this.slots.whenIdle();
  }

  /**
   * Offers the cancels native had no room for again, in order; returns how
   * many still wait. An op that settled meanwhile needs none (its slot may
   * already belong to another op, which is cancelled only if it was aborted
   * too, and would then be anyway).
   */
  retryCancels(): number {
    const waiting = this.#cancels;
    this.#cancels = [];
    let sent = false;
    for (let i = 0; i < waiting.length; i++) {
      const id = waiting[i];
      if (this.#waiting[id] || !this.slots.aborted[id] || this.slots.isSettled(id)) continue;
      if (this.#cancels.length === 0 && this.#sink.cancel(id)) {
        sent = true;
        continue;
      }
      this.#cancels.push(id);
    }
    if (sent) this.scheduleFlush();
    return this.#cancels.length;
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    // Cancels that found no room go out with this submit if they fit now.
    if (this.#cancels.length !== 0) this.retryCancels();
    this.#sink.flush();
  };

  readonly #startQueued = (id: number): boolean => {
    let started: boolean;
    try {
      started = this.#sink.tryStart(
        id, this.#qOp[id], this.#qFd[id], this.#qSqeFlags[id], this.#qMem[id], this.#qOffset[id],
        this.#qLen[id], this.#qOpFlags[id], this.#qAux[id],
      );
    } catch (e) {
      // Runs inside a completion batch: fail this op, never the batch.
      this.#waiting[id] = false;
      this.#fail(id, e);
      return true;
    }
    if (!started) return false;
    this.#qMem[id] = undefined;
    this.#qAux[id] = undefined;
    this.#waiting[id] = false;
    return true;
  };

  /** A waiting op settled meanwhile (aborted, or failed by failWaiting) leaves the queue: its id is free again. */
  readonly #discardQueued = (id: number): void => {
    this.#waiting[id] = false;
    this.slots.free(id);
    // It was the op started after the ones native took before it in this drain (or earlier).
    this.#sink.successorGone?.();
  };

  #abort(id: number): void {
    if (!this.#waiting[id]) {
      // A cancel never gets lost: kept here until native has room for it.
      if (this.#cancels.length === 0 && this.#sink.cancel(id)) this.scheduleFlush();
      else this.#cancels.push(id);
      return;
    }
    // Still waiting here: native never saw it.
    this.#qMem[id] = undefined;
    this.#qAux[id] = undefined;
    if (this.#held[id] !== undefined) this.#drop(id);
    this.#unbounce(id);
    this.slots.rejectEarly(id, new AbortError(undefined, { cause: abortReason(this.slots.signal[id]) }));
  }

  #fail(id: number, error: unknown): void {
    if (this.#held[id] !== undefined) this.#drop(id);
    this.#unbounce(id);
    this.slots.fail(id, error);
  }

  /** Gives back the bounce buffer of an op native never took (nothing was read). */
  #unbounce(id: number): void {
    if (this.#bounced === 0) return;
    const b = this.#bounce[id];
    if (b === undefined) return;
    this.#bounce[id] = undefined;
    this.#bounced--;
    giveBounce(b);
  }

  #drop(id: number): void {
    const held = this.#held[id];
    this.#held[id] = undefined;
    if (held !== undefined) dropPools(held);
  }
}
