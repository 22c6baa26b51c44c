// What AioContext and ThreadpoolContext share: the IoContext ops over a
// native context that holds at most `entries` ops at a time, on the one
// promise layer (op-queue.ts) that Ring uses too.
import { constants as osConstants } from 'node:os';
import { BackendCounter, BackendOp, CQE_INTS, type NativeBackend } from './binding';
import type { ContextStats, FsyncOptions, RwOptions } from './types';
import { invalidArgType, outOfRange, stateError, unsupported } from './errors';
import { fixedFileSlot } from './ring/fixed-file';
import { OpQueue, type OpSink } from './op-queue';
import { bounceFor, giveBounce, needsBounce, pairsBytes, type Bounce } from './bounce';
import { toVoid, type Transform } from './slots';
import { createPool, poolOf, type BufferPool, type BufferPoolOptions, type Pinner } from './pool';
import { checkedMemory, validateBoolean, validateInteger, validateOptions, validatePosition } from './validate';

const EAGAIN = -osConstants.errno.EAGAIN;
const NO_OPTIONS: RwOptions = Object.freeze({});

const SYSCALL = ['read', 'write', 'readv', 'writev', 'fsync', 'fdatasync'];

/** Most ops one AIO or thread-pool context holds at once. */
export const MAX_CONTEXT_ENTRIES = 65536;

export interface BackendTraits {
  /** Context name in messages ("AioContext"). */
  name: string;
  /** The backend reads at the file's current position for position -1. */
  currentPosition: boolean;
  /** Why position -1 is refused, when it is. */
  currentPositionWhy?: string;
  /**
   * Native hands the caller's memory to the kernel as it is (AIO): reads and
   * writes on it go through bounce memory here (lib/bounce.ts). False where
   * native copies every op through its own bounce buffers (the thread pool).
   */
  bounce?: boolean;
}

export type NativeFactory = (
  onComplete: (count: number) => void,
  completions: Int32Array,
  counters: Float64Array,
) => NativeBackend;

export function validateEntries(value: unknown, dflt: number): number {
  return value === undefined ? dflt : validateInteger(value, 'options.entries', 1, MAX_CONTEXT_ENTRIES);
}

export abstract class QueuedContext {
  readonly #native: NativeBackend;
  readonly #traits: BackendTraits;
  readonly #out: Int32Array;
  readonly #counters: Float64Array;
  readonly #sink: OpSink = {
    tryStart: (id, op, fd, _sqeFlags, mem, offset, len, opFlags) =>
      this.#native.prep(op as BackendOp, fd, mem, offset, opFlags, id, len) !== 0,
    flush: () => {
      if (this.#counters[BackendCounter.InFlight] === 0) return;
      const r = this.#native.submit();
      if (r > 0) this.#onComplete(r);
      else if (r === EAGAIN) setImmediate(() => this.#ops.scheduleFlush());
    },
    // Neither AIO (io_cancel does not apply to file I/O) nor a worker thread
    // can stop an op once handed over: only ops still queued abort.
    cancel: () => true,
  };
  readonly #ops = new OpQueue(this.#sink);
  /** Pools made by registerBuffers() and not released yet. */
  readonly #pools = new Set<BufferPool>();
  #poolOps = 0;
  #closing = false;
  #closed: Promise<void> | undefined;

  protected constructor(traits: BackendTraits, entries: number, create: NativeFactory) {
    this.#traits = traits;
    this.#out = new Int32Array(entries * CQE_INTS);
    this.#counters = new Float64Array(BackendCounter.Slots);
    this.#native = create(this.#onComplete, this.#out, this.#counters);
  }

  get closed(): boolean {
    return this.#closing;
  }

  get stats(): ContextStats {
    const c = this.#counters;
    return {
      submitted: c[BackendCounter.Submitted],
      completed: c[BackendCounter.Completed],
      inFlight: c[BackendCounter.InFlight] - c[BackendCounter.Pending],
      queued: this.#ops.queued + c[BackendCounter.Pending],
    };
  }

  /** @internal Reads and writes whose memory lay in a BufferPool. */
  protected get _poolOps(): number {
    return this.#poolOps;
  }

  /** @internal How this backend holds pool memory in RAM. */
  protected abstract _pinner(): Pinner;

  /**
   * `count` page-aligned buffers of `size` bytes (see BufferPool), held in
   * RAM the way this backend can: AioContext mlock(2)s them (Linux AIO has
   * no kernel registration), ThreadpoolContext leaves them unpinned. Throws
   * synchronously; ENOMEM explains RLIMIT_MEMLOCK unless `fallback: true`.
   */
  registerBuffers(options: BufferPoolOptions): BufferPool {
    if (this.#closing) throw stateError('ERR_KAIO_CLOSED', `${this.#traits.name} is closed (registerBuffers)`);
    const pinner = this._pinner();
    const pool = createPool(options, { ...pinner, forget: (p) => void this.#pools.delete(p) });
    this.#pools.add(pool);
    return pool;
  }

  /** @internal Raw counters for subclasses' stats. */
  protected _counter(index: BackendCounter): number {
    return this.#counters[index];
  }

  /** pread(2) semantics. Resolves to bytes read (0 at end of file). */
  read(fd: number, buffer: ArrayBufferView, position: number | bigint = -1, options?: RwOptions): Promise<number> {
    return this.#rw(BackendOp.Read, fd, buffer, false, position, options);
  }

  /** pwrite(2) semantics. Resolves to bytes written. */
  write(fd: number, buffer: ArrayBufferView, position: number | bigint = -1, options?: RwOptions): Promise<number> {
    return this.#rw(BackendOp.Write, fd, buffer, false, position, options);
  }

  /** preadv2(2) semantics. */
  readv(fd: number, buffers: ArrayBufferView[], position: number | bigint = -1, options?: RwOptions): Promise<number> {
    return this.#rw(BackendOp.Readv, fd, buffers, true, position, options);
  }

  /** pwritev2(2) semantics. */
  writev(fd: number, buffers: ArrayBufferView[], position: number | bigint = -1, options?: RwOptions): Promise<number> {
    return this.#rw(BackendOp.Writev, fd, buffers, true, position, options);
  }

  /** fsync(2), or fdatasync(2) with `{ datasync: true }`. */
  fsync(fd: number, options?: FsyncOptions): Promise<void> {
    try {
      const o = validateOptions<FsyncOptions>(options, ['datasync', 'signal']);
      const datasync = o.datasync === undefined ? false : validateBoolean(o.datasync, 'options.datasync');
      const op = datasync ? BackendOp.Fdatasync : BackendOp.Fsync;
      return this.#start<void>(op, this.#fd(fd), undefined, 0, 0, 0, undefined, o.signal, toVoid);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * Stops new ops (they reject with ERR_KAIO_CLOSED), waits for the ones
   * queued or in flight, then releases the context. Idempotent.
   */
  close(): Promise<void> {
    if (this.#closed) return this.#closed;
    this.#closing = true;
    this.#closed = (async () => {
      await this.#ops.whenIdle();
      for (const pool of [...this.#pools]) await pool.release();
      this.#native.close();
    })();
    return this.#closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ── internals ──────────────────────────────────────────────────────────

  /** checkedMemory()'s second result, without an object per op. */
  readonly #checked = { bytes: 0 };

  #rw(op: BackendOp, fd: unknown, data: unknown, vectored: boolean, position: unknown, options: RwOptions | undefined): Promise<number> {
    try {
      // What is checked here is what native uses (see lib/validate.ts): a
      // list is copied in one pass, a buffer's length is fixed now.
      const mem = checkedMemory(data, vectored, this.#checked);
      const bytes = this.#checked.bytes;
      const pos = validatePosition(position);
      if (pos === -1 && !this.#traits.currentPosition)
        throw unsupported('position -1 (current file position)', this.#traits.currentPositionWhy ?? `on ${this.#traits.name}`);
      const o = options === undefined ? NO_OPTIONS : validateOptions<RwOptions>(options, ['flags', 'signal']);
      const rwFlags = o.flags === undefined ? 0 : validateInteger(o.flags, 'options.flags', 0, 0x7fffffff);
      const rawFd = this.#fd(fd);
      if (this.#traits.bounce && needsBounce(mem, vectored, bytes)) {
        const total = vectored ? pairsBytes(mem as Array<ArrayBufferView | number>) : bytes;
        const b = bounceFor(mem, vectored, total, op === BackendOp.Write || op === BackendOp.Writev);
        const own = vectored ? [b.view(total), total] : b.view(bytes);
        return this.#start<number>(op, rawFd, own, pos, bytes, rwFlags, mem, o.signal, undefined, b);
      }
      return this.#start<number>(op, rawFd, mem, pos, bytes, rwFlags, mem, o.signal);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  #fd(fd: unknown): number {
    if (typeof fd === 'number') {
      if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) throw outOfRange('fd', '>= 0 && <= 2147483647', fd);
      return fd | 0;
    }
    // A brand check (fixedFileSlot -1: not a FixedFile), not instanceof: a Proxy's traps do not run.
    if (fixedFileSlot(fd, this) !== -1) throw unsupported('FixedFile (registered files)', `on ${this.#traits.name}; pass the plain fd`);
    throw invalidArgType('fd', 'of type number', fd);
  }

  #start<T>(
    op: BackendOp,
    fd: number,
    mem: unknown,
    pos: number | bigint,
    bytes: number,
    rwFlags: number,
    keep: unknown,
    signal: AbortSignal | undefined,
    transform?: Transform,
    bounce?: Bounce,
  ): Promise<T> {
    const syscall = SYSCALL[op];
    // Last: checking the arguments may have run the caller's code (a getter).
    if (this.#closing) {
      if (bounce !== undefined) giveBounce(bounce);
      return Promise.reject(stateError('ERR_KAIO_CLOSED', `${this.#traits.name} is closed (${syscall})`));
    }
    if (bounce === undefined && keep !== undefined && this.#countsPoolOp(keep)) this.#poolOps++;
    return this.#ops.start<T>(op, fd, 0, mem, pos, bytes, rwFlags, undefined, syscall, undefined, keep, signal, transform, undefined, bounce);
  }

  #countsPoolOp(keep: unknown): boolean {
    if (ArrayBuffer.isView(keep)) return poolOf(keep) !== undefined;
    if (Array.isArray(keep)) for (const v of keep) if (ArrayBuffer.isView(v) && poolOf(v) !== undefined) return true;
    return false;
  }

  /** Called by native once per completion batch (and by flush); never throws. */
  readonly #onComplete = (count: number): void => {
    const out = this.#out;
    const ops = this.#ops;
    for (let i = 0, base = 0; i < count; i++, base += CQE_INTS) ops.complete(out[base], out[base + 2]);
    ops.startWaiting();
    if (this.#counters[BackendCounter.Pending] > 0) ops.scheduleFlush();
  };
}
