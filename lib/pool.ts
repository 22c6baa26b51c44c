// BufferPool: page-aligned memory owned by kaio, handed out as Buffer views,
// and pinned by whichever backend made the pool.
//
// ── For backends ───────────────────────────────────────────────────────────
// A backend makes pools with createPool(options, pinner). The Pinner says how
// the memory is held in RAM; everything else (argument checks, the
// RLIMIT_MEMLOCK check before pinning, the ENOMEM error with numbers and
// advice, `{ fallback: true }`, views, release and detaching) is shared:
//
//   io_uring  pinner.method 'io_uring_register': pin() registers the memory in
//             the ring's buffer table (charged to VmPin / user->locked_vm).
//   aio       mlockPinner(): pin() is mlock(2) (charged to VmLck).
//   none      unpinnedPinner: plain aligned memory (thread pool).
//
// Every op that reads or writes a caller's buffer must bracket the kernel's
// use of it:
//
//   const held = hasLivePools() ? holdPools(bufferOrArrayOfBuffers) : undefined;
//   ... submit; when the kernel is done with the memory (completion):
//   if (held !== undefined) dropPools(held);
//
// holdPools throws ERR_KAIO_POOL_RELEASED for a pool being released, so call
// it before taking any resource for the op. pool.release() waits until no
// op holds the pool, then calls pinner.unpin() and unmaps; so memory is never
// unmapped under an op, whichever backend issued it.
import { constants as bufferConstants } from 'node:buffer';
import { constants as osConstants } from 'node:os';
import { markAsUntransferable } from 'node:worker_threads';
import { markOwnMemory } from './bounce';
import { binding } from './binding';
import { illegalConstructor, invalidArgType, invalidArgValue, outOfRange, stateError, systemError, type ErrnoError } from './errors';
import { Pending } from './pending';
import { vmBytes } from './procfs';
import { validateBoolean, validateInteger, validateKeys, validateObject, viewBuffer, viewByteOffset, viewBytes } from './validate';

const { errno: E } = osConstants;

/** The kernel's limits on registered buffers (io_uring/rsrc.c). */
export const MAX_POOL_BUFFERS = 16384;
export const MAX_BUFFER_SIZE = 1024 * 1024 * 1024;
export const PAGE_SIZE: number = binding.pageSize;

export interface BufferPoolOptions {
  /** Number of buffers, 1–16,384. */
  count: number;
  /** Bytes per buffer: a whole number of pages, at most 1 GiB. */
  size: number;
  /**
   * When the memory cannot be pinned (RLIMIT_MEMLOCK, or the kernel says
   * ENOMEM/EPERM), make the pool unpinned instead of throwing. Default false.
   */
  fallback?: boolean;
  /** Back the pool with huge pages (MAP_HUGETLB) when the system has free ones. Default false. */
  hugePages?: boolean;
}

const POOL_OPTIONS = ['count', 'size', 'fallback', 'hugePages'] as const;

/** How a backend holds pool memory in RAM. */
export interface Pinner {
  /** The syscall named in errors, and what pinning means: 'io_uring_register', 'mlock' or 'none'. */
  readonly method: 'io_uring_register' | 'mlock' | 'none';
  /** Bytes of this process already counted against RLIMIT_MEMLOCK by this kind of pinning. */
  lockedBytes(): number;
  /** Buffers this pinner can still take (the ring's table has 16,384 slots); Infinity if unbounded. */
  freeBuffers(): number;
  /** Pins `count` buffers of `size` bytes at the start of memory. Returns 0 or -errno (or throws its own error). */
  pin(memory: ArrayBuffer, size: number, count: number): number;
  /** Undoes pin(). Called once, when no op holds the pool. */
  unpin(memory: ArrayBuffer): void;
  /** Told when a pool of this pinner is gone (released). */
  forget?(pool: BufferPool): void;
}

/** The memory is only page-aligned; nothing pins it. */
export const unpinnedPinner: Pinner = {
  method: 'none',
  lockedBytes: () => 0,
  freeBuffers: () => Infinity,
  pin: () => 0,
  unpin: () => undefined,
};

/** mlock(2)s pool memory: what Linux AIO, which has no registration, can do. */
export function mlockPinner(): Pinner {
  return {
    method: 'mlock',
    lockedBytes: () => vmBytes('VmLck'),
    freeBuffers: () => Infinity,
    pin: (memory) => binding.pinnedLock(memory),
    unpin: (memory) => void binding.pinnedUnlock(memory),
  };
}

/** The ENOMEM error of a pool that could not be pinned. */
export interface MemlockError extends ErrnoError {
  /** Bytes the pool asked to pin. */
  bytes: number;
  /** RLIMIT_MEMLOCK soft limit (Infinity when unlimited). */
  limit: number;
  /** Bytes this process had pinned/locked already. */
  lockedBytes: number;
}

function mib(n: number): string {
  if (n === Infinity) return 'unlimited';
  if (n === 0) return '0 bytes';
  const m = n / (1024 * 1024);
  return `${Number.isInteger(m) ? m : m.toFixed(2)} MiB (${n} bytes)`;
}

/**
 * Builds the error thrown when memory cannot be pinned: the bytes asked, the
 * limit, what is pinned now, and how to raise the limit.
 */
export function memlockError(
  errno: number,
  syscall: string,
  bytes: number,
  limit: number,
  locked: number,
  byKernel = false,
): MemlockError {
  const what = syscall === 'mlock' ? 'lock' : 'pin';
  const err = systemError(-E.ENOMEM, syscall) as MemlockError;
  const kb = Math.ceil((bytes + locked) / 1024);
  let why = '';
  if (byKernel) {
    why =
      ` (the kernel refused${errno === -E.EPERM ? ' with EPERM' : ''}` +
      (syscall === 'io_uring_register' ? '; it counts the pins of every process of this user' : '') +
      ')';
  }
  err.message =
    `ENOMEM: cannot ${what} ${mib(bytes)} of buffers${why}: RLIMIT_MEMLOCK allows ${mib(limit)} ` +
    `and this process has ${mib(locked)} pinned or locked already, ${syscall}\n` +
    `Raise the limit for the process that runs node: \`ulimit -l ${kb}\` (or \`ulimit -l unlimited\`) in its shell, ` +
    '`LimitMEMLOCK=infinity` in its systemd unit, `docker run --ulimit memlock=-1:-1` for a container ' +
    '(or grant CAP_IPC_LOCK); or pass { fallback: true } to use the pool without pinning.';
  err.bytes = bytes;
  err.limit = limit;
  err.lockedBytes = locked;
  return err;
}

function isMemlockErrno(r: number): boolean {
  return r === -E.ENOMEM || r === -E.EPERM;
}

/** Only createPool makes pools. */
const MAKE_POOL = Symbol('kaio.BufferPool');

// Pools by their memory, so any op can tell whether a buffer lies in one.
const poolByMemory = new WeakMap<ArrayBuffer, BufferPool>();
let livePools = 0;

/** What holdPools() returns and dropPools() takes. */
export type HeldPools = BufferPool | BufferPool[];

/** True while some pool exists in this thread (so holdPools is worth calling). */
export function hasLivePools(): boolean {
  return livePools !== 0;
}

// A pool's own Buffers (pool.buffers) carry their pool and index in private
// fields, put there through a base constructor that returns the Buffer: an
// op on one finds its pool with a brand check, not a WeakMap lookup, and the
// mark can be neither read nor forged from outside (a Proxy has none).
class ReturnsView {
  constructor(view: object) {
    return view;
  }
}
class PoolBuffer extends ReturnsView {
  readonly #pool: BufferPool;
  readonly #index: number;
  constructor(view: Buffer, pool: BufferPool, index: number) {
    super(view);
    this.#pool = pool;
    this.#index = index;
  }
  static poolOf(view: object): BufferPool | undefined {
    return #pool in view ? (view as PoolBuffer).#pool : undefined;
  }
  static indexOf(view: object): number {
    return #index in view ? (view as PoolBuffer).#index : -1;
  }
}

/** For one of pool.buffers itself, its pool while not released; otherwise undefined. */
export function ownPool(view: unknown): BufferPool | undefined {
  if (typeof view !== 'object' || view === null) return undefined;
  const pool = PoolBuffer.poolOf(view);
  return pool === undefined || pool.released ? undefined : pool;
}

/** For pool.buffers[i] itself, i (the same whatever else views that memory); otherwise -1. */
export function poolBufferIndex(view: object): number {
  return PoolBuffer.indexOf(view);
}

// Views already found in a pool. A view's ArrayBuffer never changes, and
// asking for it is a call into the engine's C++ (JSTypedArray::GetBuffer),
// dearer than this lookup; only hits are kept, so plain buffers add nothing.
const poolByView = new WeakMap<ArrayBufferView, BufferPool>();

/** The pool whose memory holds view, if any (none once the pool is released). */
export function poolOf(view: ArrayBufferView): BufferPool | undefined {
  const own = PoolBuffer.poolOf(view);
  if (own !== undefined) return own.released ? undefined : own;
  const seen = poolByView.get(view);
  if (seen !== undefined) return seen.released ? undefined : seen;
  const pool = poolByMemory.get(viewBuffer(view) as ArrayBuffer);
  if (pool !== undefined) poolByView.set(view, pool);
  return pool;
}

/**
 * Marks the pools `keep` (a view or an array of views) lies in as used by one
 * more op. Throws ERR_KAIO_POOL_RELEASED if one is being released.
 */
export function holdPools(keep: unknown): HeldPools | undefined {
  if (ArrayBuffer.isView(keep)) {
    const pool = poolOf(keep);
    if (pool === undefined) return undefined;
    pool._hold();
    return pool;
  }
  if (!Array.isArray(keep)) return undefined;
  let held: BufferPool[] | undefined;
  for (const v of keep) {
    if (!ArrayBuffer.isView(v)) continue;
    const pool = poolOf(v);
    if (pool === undefined || held?.includes(pool)) continue;
    (held ??= []).push(pool);
  }
  if (held === undefined) return undefined;
  for (let i = 0; i < held.length; i++) {
    try {
      held[i]._hold();
    } catch (e) {
      for (let j = 0; j < i; j++) held[j]._drop();
      throw e;
    }
  }
  return held.length === 1 ? held[0] : held;
}

export function dropPools(held: HeldPools): void {
  if (Array.isArray(held)) for (const p of held) p._drop();
  else held._drop();
}

/**
 * Registered (pinned) memory as `count` page-aligned Buffers of `size` bytes.
 * Made by ring.registerBuffers() (or another backend); see docs/api.md and docs/registered-memory.md.
 */
export class BufferPool {
  /** Views of the pool's memory, one per buffer. Detached (length 0) after release. */
  readonly buffers: readonly Buffer[];
  readonly count: number;
  readonly size: number;
  /** count × size. */
  readonly byteLength: number;
  /** The memory is pinned by the backend (registered with io_uring, or mlocked). */
  readonly registered: boolean;
  /** How: 'io_uring_register', 'mlock', or 'none' (fallback or a backend that does not pin). */
  readonly pinning: 'io_uring_register' | 'mlock' | 'none';
  /** Backed by huge pages (MAP_HUGETLB). */
  readonly hugePages: boolean;
  /** With `fallback: true`: why the pool could not be pinned. */
  readonly pinError: MemlockError | ErrnoError | undefined;
  readonly #memory: ArrayBuffer;
  readonly #pinner: Pinner;
  /** Ops (of any ring or context) using the pool. */
  readonly #uses = new Pending();
  #releasing: Promise<void> | undefined;
  #released = false;
  /** The ring whose buffer table holds this pool, and the pool's first index there. */
  #fixedRing: object | undefined;
  #fixedFirst = -1;

  /** Not for users: use ring.registerBuffers() or ctx.registerBuffers(). (Not marked internal: stripped from the .d.ts, it would leave a public no-argument constructor.) */
  constructor(token: symbol, memory: ArrayBuffer, size: number, count: number, pinner: Pinner, registered: boolean, pinError?: ErrnoError) {
    if (token !== MAKE_POOL) throw illegalConstructor('a BufferPool is made by registerBuffers() of a Ring or context');
    this.#memory = memory;
    this.#pinner = pinner;
    this.size = size;
    this.count = count;
    this.byteLength = size * count;
    this.registered = registered;
    this.pinning = registered ? pinner.method : 'none';
    this.hugePages = binding.pinnedInfo(memory)?.huge ?? false;
    this.pinError = pinError as MemlockError | undefined;
    const buffers: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      const view = Buffer.from(memory, i * size, size);
      new PoolBuffer(view, this, i);
      buffers.push(view);
    }
    // A plain array: V8 (11.x) loads elements of a frozen one through a
    // generic path, about 5× dearer in a hot loop. Ops never read it back
    // (each Buffer carries its own mark), so changing it changes nothing.
    this.buffers = buffers;
    // postMessage/structuredClone must never move the memory out from under us.
    markAsUntransferable(memory);
    markOwnMemory(memory);
    poolByMemory.set(memory, this);
    livePools++;
  }

  /** True once release() has begun; new ops on the pool are refused. */
  get releasing(): boolean {
    return this.#releasing !== undefined;
  }

  /** True once the memory is unpinned and unmapped. */
  get released(): boolean {
    return this.#released;
  }

  /** Ops (of any ring or context) using the pool now. */
  get inUse(): number {
    return this.#uses.count;
  }

  /** Index of the buffer `view` lies in, or -1 (also -1 for a view spanning two buffers). */
  indexOf(view: ArrayBufferView): number {
    if (!ArrayBuffer.isView(view)) throw invalidArgType('view', 'an instance of Buffer, TypedArray, or DataView', view);
    const bytes = viewBytes(view);
    if (bytes < 0 || viewBuffer(view) !== this.#memory || this.#released) return -1;
    const offset = viewByteOffset(view);
    const i = Math.floor(offset / this.size);
    return offset + bytes <= (i + 1) * this.size ? i : -1;
  }

  /**
   * Waits until no op uses the pool (new ones are refused meanwhile with
   * ERR_KAIO_POOL_RELEASED), then unpins and unmaps it: every view of the pool
   * becomes detached (byteLength 0). Idempotent.
   */
  release(): Promise<void> {
    if (this.#releasing) return this.#releasing;
    // Freed a macrotask after the last op let go: the promise chains that op
    // settled (a FileHandle's read around a ring's read, say) finish first
    // and see the bytes they read, whatever number of awaits they take.
    this.#releasing = this.#uses.whenIdle().then(() => new Promise<void>((resolve) => setImmediate(resolve))).then(() => this.#free());
    return this.#releasing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.release();
  }

  #free(): void {
    if (this.#released) return;
    this.#released = true;
    try {
      if (this.registered) this.#pinner.unpin(this.#memory);
    } finally {
      binding.pinnedRelease(this.#memory);
      poolByMemory.delete(this.#memory);
      livePools--;
      this.#pinner.forget?.(this);
    }
  }

  /** @internal */
  _hold(): void {
    if (this.#releasing) throw stateError('ERR_KAIO_POOL_RELEASED', 'The buffer lies in a BufferPool that is being released');
    this.#uses.enter();
  }

  /** @internal */
  _drop(): void {
    this.#uses.leave();
  }

  /** @internal Set by the ring that registered the pool: its first index in that ring's table (undefined ring: none). */
  _setFixed(ring: object | undefined, first: number): void {
    this.#fixedRing = ring;
    this.#fixedFirst = first;
  }

  /** @internal The pool's first index in `ring`'s buffer table, or -1 when that ring did not register it. */
  _fixedFirst(ring: object): number {
    return this.#fixedRing === ring ? this.#fixedFirst : -1;
  }

  /** @internal The pool's memory, for the backend's native side. */
  get _memory(): ArrayBuffer {
    return this.#memory;
  }
}

/** Checks pool options; RangeErrors name the kernel limit. */
export function validatePoolOptions(options: unknown, freeBuffers = Infinity): Required<BufferPoolOptions> {
  const o = validateObject<BufferPoolOptions>(options, 'options');
  validateKeys(o, 'options', POOL_OPTIONS);
  if (o.count === undefined) throw invalidArgType('options.count', 'of type number', o.count);
  if (o.size === undefined) throw invalidArgType('options.size', 'of type number', o.size);
  const count = validateInteger(o.count, 'options.count', 1, MAX_POOL_BUFFERS);
  if (typeof o.size !== 'number') throw invalidArgType('options.size', 'of type number', o.size);
  const size = o.size;
  if (!Number.isInteger(size)) throw outOfRange('options.size', `a whole number of pages (multiple of ${PAGE_SIZE})`, size);
  if (size < PAGE_SIZE) throw outOfRange('options.size', `>= ${PAGE_SIZE} (one page)`, size);
  if (size > MAX_BUFFER_SIZE)
    throw outOfRange('options.size', `<= ${MAX_BUFFER_SIZE} (1 GiB, the kernel's limit per registered buffer)`, size);
  if (size % PAGE_SIZE !== 0) throw outOfRange('options.size', `a whole number of pages (multiple of ${PAGE_SIZE})`, size);
  if (count > freeBuffers) {
    const used = MAX_POOL_BUFFERS - freeBuffers;
    throw outOfRange(
      'options.count',
      `<= ${freeBuffers} (at most ${MAX_POOL_BUFFERS} registered buffers per ring; ${used} are registered)`,
      count,
    );
  }
  const fallback = o.fallback === undefined ? false : validateBoolean(o.fallback, 'options.fallback');
  const hugePages = o.hugePages === undefined ? false : validateBoolean(o.hugePages, 'options.hugePages');
  return { count, size, fallback, hugePages };
}

/**
 * Allocates and pins a pool. Throws a MemlockError (code ENOMEM) when
 * RLIMIT_MEMLOCK or the kernel refuses, unless options.fallback is true.
 */
export function createPool(options: unknown, pinner: Pinner): BufferPool {
  const { count, size, fallback, hugePages } = validatePoolOptions(options, pinner.freeBuffers());
  const bytes = count * size;
  let pinError: ErrnoError | undefined;
  let pin = pinner.method !== 'none';
  if (pin) {
    const { soft, capIpcLock } = binding.memlockInfo();
    const locked = pinner.lockedBytes();
    // The kernel only checks the limit without CAP_IPC_LOCK; io_uring counts
    // the whole user's pins, so this check can pass and the kernel still say no.
    if (!capIpcLock && bytes + locked > soft) {
      pinError = memlockError(-E.ENOMEM, pinner.method, bytes, soft, locked);
      if (!fallback) throw pinError;
      pin = false;
    }
  }
  const memory = binding.pinnedAlloc(bytes, hugePages);
  if (typeof memory === 'number')
    throw systemError(memory, 'mmap', undefined, `Could not map ${mib(bytes)} for a BufferPool.`);
  if (pin) {
    const locked = pinner.lockedBytes();
    let r: number;
    try {
      r = pinner.pin(memory, size, count);
    } catch (e) {
      binding.pinnedRelease(memory);
      throw e;
    }
    if (r < 0) {
      if (isMemlockErrno(r)) {
        pinError = memlockError(r, pinner.method, bytes, binding.memlockInfo().soft, locked, true);
      } else {
        pinError = systemError(r, pinner.method);
      }
      if (!fallback || !isMemlockErrno(r)) {
        binding.pinnedRelease(memory);
        throw pinError;
      }
      pin = false;
    }
  }
  return new BufferPool(MAKE_POOL, memory, size, count, pinner, pin, pinError);
}

/**
 * Unregistered memory aligned for O_DIRECT: a Buffer of `size` bytes whose
 * address is a multiple of `alignment` (a power of two; default the page
 * size). Freed by the garbage collector like any Buffer.
 */
export function alignedBuffer(size: number, alignment: number = PAGE_SIZE): Buffer {
  validateInteger(size, 'size', 1, bufferConstants.MAX_LENGTH);
  validateInteger(alignment, 'alignment', 1, MAX_BUFFER_SIZE);
  if ((alignment & (alignment - 1)) !== 0) throw invalidArgValue('alignment', `must be a power of two. Received ${alignment}`);
  const memory = binding.pinnedAlloc(size, false, alignment);
  if (typeof memory === 'number') throw systemError(memory, 'mmap');
  markAsUntransferable(memory);
  markOwnMemory(memory);
  return Buffer.from(memory, 0, size);
}
