// The promise layer shared by AioContext and ThreadpoolContext: the same
// slot table, per-tick flush and FIFO back-pressure as Ring, over a native
// context that takes at most `entries` ops at a time.
import { constants as osConstants } from 'node:os';
import { BackendCounter, BackendOp, CQE_INTS, type NativeBackend } from './binding';
import type { ContextStats } from './context';
import { AbortError, invalidArgType, outOfRange, stateError, unsupported } from './errors';
import { FixedFile } from './fixed-file';
import {
  createPool,
  dropPools,
  hasLivePools,
  holdPools,
  type BufferPool,
  type BufferPoolOptions,
  type HeldPools,
  type Pinner,
} from './pool';
import type { FsyncOptions, RwOptions } from './ring';
import { IdQueue, SlotTable } from './slots';
import {
  validateBoolean,
  validateBuffer,
  validateBuffers,
  validateInteger,
  validateKeys,
  validateObject,
  validatePosition,
  validateSignal,
} from './validate';

const EAGAIN = -osConstants.errno.EAGAIN;
const NO_OPTIONS: RwOptions = Object.freeze({});
const toVoid = (): void => undefined;
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
}

export type NativeFactory = (
  onComplete: (count: number) => void,
  completions: Int32Array,
  counters: Float64Array,
) => NativeBackend;

function opOptions<T extends object>(options: unknown, allowed: readonly string[]): T {
  if (options === undefined) return {} as T;
  const o = validateObject<T>(options, 'options');
  validateKeys(o, 'options', allowed);
  return o;
}

export function validateEntries(value: unknown, dflt: number): number {
  return value === undefined ? dflt : validateInteger(value, 'options.entries', 1, MAX_CONTEXT_ENTRIES);
}

export abstract class QueuedContext {
  readonly #native: NativeBackend;
  readonly #traits: BackendTraits;
  readonly #out: Int32Array;
  readonly #counters: Float64Array;
  readonly #slots = new SlotTable();
  // Ops waiting for a free place in the native context, FIFO.
  readonly #queue = new IdQueue();
  #qOp: BackendOp[] = [];
  #qFd: number[] = [];
  #qBuf: unknown[] = [];
  #qPos: Array<number | bigint> = [];
  #qFlags: number[] = [];
  /** Slots handed to native (abort can no longer take them back). */
  #inNative: boolean[] = [];
  /** Pools an op uses (they cannot be released under it), by slot. */
  #held: Array<HeldPools | undefined> = [];
  /** Pools made by registerBuffers() and not released yet. */
  readonly #pools = new Set<BufferPool>();
  #poolOps = 0;
  #flushScheduled = false;
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
      queued: this.#queue.length + c[BackendCounter.Pending],
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
    try {
      const buf = validateBuffer(buffer);
      return this.#rw(BackendOp.Read, fd, buf, position, options, buf);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** pwrite(2) semantics. Resolves to bytes written. */
  write(fd: number, buffer: ArrayBufferView, position: number | bigint = -1, options?: RwOptions): Promise<number> {
    try {
      const buf = validateBuffer(buffer);
      return this.#rw(BackendOp.Write, fd, buf, position, options, buf);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** preadv2(2) semantics. */
  readv(fd: number, buffers: ArrayBufferView[], position: number | bigint = -1, options?: RwOptions): Promise<number> {
    try {
      // Copy the list: the caller may change their array before submission.
      const list = validateBuffers(buffers).slice();
      return this.#rw(BackendOp.Readv, fd, list, position, options, list);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** pwritev2(2) semantics. */
  writev(fd: number, buffers: ArrayBufferView[], position: number | bigint = -1, options?: RwOptions): Promise<number> {
    try {
      const list = validateBuffers(buffers).slice();
      return this.#rw(BackendOp.Writev, fd, list, position, options, list);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** fsync(2), or fdatasync(2) with `{ datasync: true }`. */
  fsync(fd: number, options?: FsyncOptions): Promise<void> {
    try {
      const o = opOptions<FsyncOptions>(options, ['datasync', 'signal']);
      const datasync = o.datasync === undefined ? false : validateBoolean(o.datasync, 'options.datasync');
      const op = datasync ? BackendOp.Fdatasync : BackendOp.Fsync;
      return this.#start<void>(op, this.#fd(fd), undefined, 0, 0, undefined, o.signal, toVoid);
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
      await this.#slots.whenIdle();
      for (const pool of [...this.#pools]) await pool.release();
      this.#native.close();
    })();
    return this.#closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ── internals ──────────────────────────────────────────────────────────

  #rw(op: BackendOp, fd: unknown, buf: unknown, position: unknown, options: RwOptions | undefined, keep: unknown): Promise<number> {
    const pos = validatePosition(position);
    if (pos === -1 && !this.#traits.currentPosition)
      throw unsupported('position -1 (current file position)', this.#traits.currentPositionWhy ?? `on ${this.#traits.name}`);
    const o = options === undefined ? NO_OPTIONS : opOptions<RwOptions>(options, ['flags', 'signal']);
    const rwFlags = o.flags === undefined ? 0 : validateInteger(o.flags, 'options.flags', 0, 0x7fffffff);
    return this.#start<number>(op, this.#fd(fd), buf, pos, rwFlags, keep, o.signal);
  }

  #fd(fd: unknown): number {
    if (typeof fd === 'number') {
      if (!Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) throw outOfRange('fd', '>= 0 && <= 2147483647', fd);
      return fd;
    }
    if (fd instanceof FixedFile) throw unsupported('FixedFile (registered files)', `on ${this.#traits.name}; pass the plain fd`);
    throw invalidArgType('fd', 'of type number', fd);
  }

  #start<T>(
    op: BackendOp,
    fd: number,
    buf: unknown,
    pos: number | bigint,
    rwFlags: number,
    keep: unknown,
    signal: AbortSignal | undefined,
    transform?: () => unknown,
  ): Promise<T> {
    const syscall = SYSCALL[op];
    if (this.#closing) return Promise.reject(stateError('ERR_KAIO_CLOSED', `${this.#traits.name} is closed (${syscall})`));
    if (signal !== undefined) {
      validateSignal(signal);
      if (signal.aborted) return Promise.reject(new AbortError(undefined, { cause: signal.reason }));
    }
    // Throws for a pool being released, before anything is taken.
    const held = hasLivePools() ? holdPools(keep) : undefined;
    if (held !== undefined) this.#poolOps++;
    const slots = this.#slots;
    const id = slots.alloc();
    this.#held[id] = held;
    const promise = slots.start<T>(id, syscall, keep, undefined, transform);
    if (this.#queue.length === 0 && this.#native.prep(op, fd, buf, pos, rwFlags, id)) {
      this.#inNative[id] = true;
      this.#scheduleFlush();
    } else {
      this.#qOp[id] = op;
      this.#qFd[id] = fd;
      this.#qBuf[id] = buf;
      this.#qPos[id] = pos;
      this.#qFlags[id] = rwFlags;
      this.#inNative[id] = false;
      this.#queue.push(id);
    }
    if (signal !== undefined) slots.watch(id, signal, () => this.#abort(id));
    return promise;
  }

  #abort(id: number): void {
    // Neither AIO (io_cancel does not apply to file I/O) nor a worker thread
    // can stop an op once handed over: only ops still queued here abort.
    if (this.#inNative[id]) return;
    this.#dropHeld(id);
    this.#slots.rejectEarly(id, new AbortError(undefined, { cause: this.#slots.signal[id]?.reason }));
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    process.nextTick(this.#flush);
  }

  readonly #flush = (): void => {
    this.#flushScheduled = false;
    if (this.#counters[BackendCounter.InFlight] === 0 && this.#queue.length === 0) return;
    const r = this.#native.submit();
    if (r > 0) this.#onComplete(r);
    else if (r === EAGAIN) setImmediate(() => this.#scheduleFlush());
  };

  #dropHeld(id: number): void {
    const held = this.#held[id];
    if (held === undefined) return;
    this.#held[id] = undefined;
    dropPools(held);
  }

  /** Moves queued ops into the native context while it has room. */
  #pump(): void {
    if (this.#queue.drain(this.#slots, this.#startQueued) > 0) this.#scheduleFlush();
  }

  /** Hands one queued op to the kernel; false when there is still no room. */
  readonly #startQueued = (id: number): boolean => {
    if (!this.#native.prep(this.#qOp[id], this.#qFd[id], this.#qBuf[id], this.#qPos[id], this.#qFlags[id], id)) return false;
    this.#qBuf[id] = undefined;
    this.#inNative[id] = true;
    return true;
  };

  /** Called by native once per completion batch (and by flush); never throws. */
  readonly #onComplete = (count: number): void => {
    const out = this.#out;
    const slots = this.#slots;
    for (let i = 0, base = 0; i < count; i++, base += CQE_INTS) {
      const id = out[base];
      this.#inNative[id] = false;
      // Settle first, then drop the pool hold: a pending pool.release()
      // detaches the memory only after the op's continuation has run.
      slots.settle(id, out[base + 2]);
      if (this.#held[id] !== undefined) this.#dropHeld(id);
    }
    if (this.#queue.length !== 0) this.#pump();
    if (this.#counters[BackendCounter.Pending] > 0) this.#scheduleFlush();
  };
}
