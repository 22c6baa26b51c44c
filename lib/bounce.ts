// Bounce memory: what the kernel touches in place of a caller's memory.
//
// A caller's ArrayBuffer can be transferred (structuredClone/postMessage
// with a transfer list, ArrayBuffer.prototype.transfer) or detached while an
// op on it is in flight: its memory then belongs to a new owner, which may
// free it, and a kernel that still writes there corrupts the heap (a write
// sends whatever lies there now). So an op whose memory is the caller's gets
// kaio's own memory instead: a write's bytes are copied in at the call (the
// file receives them as they were then), and a read lands here and is copied
// into the caller's view when it completes, on the JS thread, after the view
// is asked again through the engine's own getters: detached or shrunk since
// the call, nothing is copied and the op fails with EFAULT.
//
// kaio's own memory (a BufferPool's, alignedBuffer()'s, this module's) is
// untransferable (markAsUntransferable) and its mapping lives as long as
// some ArrayBuffer uses it (native/napi/js_pinned.cc: freed with the backing
// store, so a transfer() moves it safely), which an op in flight ensures
// (through the view it holds): it goes to the kernel as it is, with no copy.
//
// Bounce buffers are page-aligned (so O_DIRECT takes them), in power-of-two
// sizes from 4 KiB, and recycled per thread: an op takes one from a free
// list, so the steady state maps nothing. Below 64 KiB they are cut from
// 64 KiB mappings. An op of more than KEEP_BYTES gets a mapping of its own
// size (page-rounded, not the next power of two), unmapped as soon as the
// op is done: a thread keeps at most KEEP_BYTES, plus one buffer of each
// size up to KEEP_BYTES, whatever sizes its ops had.
import { binding } from './binding';
import { systemError } from './errors';
import { viewBuffer, viewByteOffset, viewBytes } from './validate';

const U8 = Uint8Array;
const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object;
function intrinsic<F>(key: PropertyKey, getter = false): F {
  const d = Object.getOwnPropertyDescriptor(TypedArrayPrototype, key)!;
  return Function.prototype.call.bind((getter ? d.get : d.value) as (...a: unknown[]) => unknown) as F;
}
const taTag = intrinsic<(v: unknown) => string | undefined>(Symbol.toStringTag, true);
const taByteLength = intrinsic<(v: unknown) => number>('byteLength', true);
const taSet = intrinsic<(target: unknown, source: Uint8Array) => void>('set');

/** Memory kaio made and owns for its whole life (see above); weak, so nothing is kept alive by it. */
const ownMemory = new WeakSet<object>();

/** Records `memory` (an ArrayBuffer kaio allocated, untransferable) as kaio's own. */
export function markOwnMemory(memory: ArrayBufferLike): void {
  ownMemory.add(memory);
}

/**
 * Lends kaio's trust to `memory` (a fresh ArrayBuffer no caller can reach,
 * e.g. readFile's result before it is returned) until unlend(): its reads
 * go to the kernel without a bounce. Only for memory kaio reads into one op
 * at a time and hands out after the last one settled.
 */
export function lendOwnMemory(memory: ArrayBufferLike): void {
  ownMemory.add(memory);
}

export function unlendOwnMemory(memory: ArrayBufferLike): void {
  ownMemory.delete(memory);
}

/** True when `view` lies in memory kaio owns (no bounce needed). */
export function isOwnMemory(view: ArrayBufferView): boolean {
  return ownMemory.has(viewBuffer(view));
}

const MIN_SHIFT = 12; // 4 KiB
const CHUNK = 64 * 1024;
/** Bytes of free bounce buffers kept for reuse per thread (one of each size up to this is always kept). */
const KEEP_BYTES = 16 * 1024 * 1024;
/** The class of a buffer larger than KEEP_BYTES: its own mapping, never kept. */
const UNKEPT = -1;
const PAGE = 4096;
const EFAULT = -14;

/** One bounce buffer: page-aligned memory of `capacity` bytes, and its last exact-length view. */
export class Bounce {
  readonly full: Uint8Array;
  readonly cls: number;
  readonly capacity: number;
  /** Where the op's bytes start: the caller's memory's offset within a page (see pageOffsetOf). */
  at = 0;
  /** A view of `cutBytes` bytes from `cutAt` (the op's), kept for the next op of that shape. */
  cut: Uint8Array;
  cutBytes: number;
  cutAt = 0;
  /** While a read uses it: the caller's view (or [view, length, ...] list) to fill, and its checked bytes. */
  target: unknown = undefined;
  bytes = 0;
  constructor(full: Uint8Array, cls: number, capacity: number) {
    this.full = full;
    this.cls = cls;
    this.capacity = capacity;
    this.cut = full;
    this.cutBytes = capacity;
  }

  /** The op's `bytes` bytes from `at`, as the view handed to native. */
  view(bytes: number): Uint8Array {
    if (this.cutBytes !== bytes || this.cutAt !== this.at) {
      this.cut = bytes === this.capacity ? this.full : new U8(this.full.buffer, this.full.byteOffset + this.at, bytes);
      this.cutBytes = bytes;
      this.cutAt = this.at;
    }
    return this.cut;
  }

  /** `n` bytes from `from` past the op's start. */
  part(from: number, n: number): Uint8Array {
    return new U8(this.full.buffer, this.full.byteOffset + this.at + from, n);
  }
}

const free: Bounce[][] = [];
const stats = { taken: 0 };
let keptBytes = 0;

/** Bounce buffers taken so far in this thread (for tests; not exported by the package). */
export function _bounceStats(): { taken: number } {
  return { taken: stats.taken };
}

function classOf(bytes: number): number {
  return bytes <= 1 << MIN_SHIFT ? 0 : 32 - Math.clz32(bytes - 1) - MIN_SHIFT;
}

function refill(cls: number): Bounce {
  const capacity = 2 ** (cls + MIN_SHIFT);
  const mapped = capacity < CHUNK ? CHUNK : capacity;
  const memory = binding.pinnedAlloc(mapped, false, PAGE);
  if (typeof memory === 'number') throw systemError(memory, 'mmap');
  ownMemory.add(memory);
  const list = (free[cls] ??= []);
  for (let at = capacity; at < mapped; at += capacity) {
    list.push(new Bounce(new U8(memory, at, capacity), cls, capacity));
    keptBytes += capacity;
  }
  return new Bounce(new U8(memory, 0, capacity), cls, capacity);
}

/**
 * A bounce buffer for `bytes` (> 0) bytes starting `at` bytes into a page.
 * Throws (mmap's error) only when memory runs out.
 */
export function takeBounce(bytes: number, at = 0): Bounce {
  stats.taken++;
  if (bytes + at > KEEP_BYTES) {
    // Never kept (giveBounce unmaps it): mapped at its size, rounded to pages.
    const capacity = Math.ceil((bytes + at) / PAGE) * PAGE;
    const memory = binding.pinnedAlloc(capacity, false, PAGE);
    if (typeof memory === 'number') throw systemError(memory, 'mmap');
    ownMemory.add(memory);
    const big = new Bounce(new U8(memory, 0, capacity), UNKEPT, capacity);
    big.at = at;
    return big;
  }
  const cls = classOf(bytes + at);
  const list = free[cls];
  let b = list === undefined ? undefined : list.pop();
  if (b === undefined) b = refill(cls);
  else keptBytes -= b.capacity;
  b.at = at;
  return b;
}

// Each ArrayBuffer's memory's offset within a page, asked of native once.
const baseOffsets = new WeakMap<object, number>();

/**
 * Where a view's memory starts within a page (its address modulo 4096).
 * Bounce memory starts at the same offset, so O_DIRECT (which wants the
 * address aligned) refuses the op with EINVAL exactly when it would have
 * refused the caller's memory, and takes it when it would have.
 */
function pageOffsetOf(view: ArrayBufferView, ab: ArrayBufferLike = viewBuffer(view)): number {
  let base = baseOffsets.get(ab);
  if (base === undefined) {
    base = binding.pageOffset(ab);
    if (base < 0) return 0;
    baseOffsets.set(ab, base);
  }
  return (base + viewByteOffset(view)) & (PAGE - 1);
}

/** Gives a bounce buffer back once no op can touch it. */
export function giveBounce(b: Bounce): void {
  b.target = undefined;
  if (b.cls === UNKEPT) {
    // Unmapped now: kept, it would hold its pages (as many as the largest op
    // touched) for the thread's life. Its mapping is this buffer's alone,
    // and no op uses it any more: detached, the views of it read as empty.
    binding.pinnedRelease(b.full.buffer as ArrayBuffer);
    return;
  }
  const list = (free[b.cls] ??= []);
  if (list.length !== 0 && keptBytes + b.capacity > KEEP_BYTES) return; // the GC unmaps it
  list.push(b);
  keptBytes += b.capacity;
}

/** The bytes of a caller's view (validated at `bytes`) as a Uint8Array, or undefined when it is now shorter. */
function bytesOf(view: ArrayBufferView, bytes: number): Uint8Array | undefined {
  if (taTag(view) === 'Uint8Array') return taByteLength(view) >= bytes ? (view as Uint8Array) : undefined;
  const now = viewBytes(view);
  if (now < bytes) return undefined;
  return new U8(viewBuffer(view) as ArrayBuffer, viewByteOffset(view), bytes);
}

/**
 * Bounce memory for an op on `mem`: a view of `bytes` bytes, or kaio's
 * [view, length, ...] copy of a readv/writev list (`bytes`: their total).
 * A write's (copy) bytes are copied in now; a read's target is recorded.
 */
export function bounceFor(mem: unknown, vectored: boolean, bytes: number, copy: boolean): Bounce {
  let at: number;
  if (!vectored) {
    at = pageOffsetOf(mem as ArrayBufferView);
  } else {
    // One bounce iovec for the list: it is misaligned (at its lowest set
    // bit) when any of the list's addresses or lengths was.
    const pairs = mem as Array<ArrayBufferView | number>;
    let mis = 0;
    for (let i = 0; i < pairs.length; i += 2) {
      const n = pairs[i + 1] as number;
      if (n !== 0) mis |= pageOffsetOf(pairs[i] as ArrayBufferView) | (n & (PAGE - 1));
    }
    at = mis & -mis;
  }
  const b = takeBounce(bytes, at);
  if (!copy) {
    b.target = mem;
    b.bytes = bytes;
    return b;
  }
  if (!vectored) {
    const src = bytesOf(mem as ArrayBufferView, bytes);
    if (src === undefined) return writeFault(b, 'write');
    taSet(b.view(bytes), src.length === bytes ? src : new U8(src.buffer, src.byteOffset, bytes));
    return b;
  }
  const pairs = mem as Array<ArrayBufferView | number>;
  for (let i = 0, at = 0; i < pairs.length; i += 2) {
    const n = pairs[i + 1] as number;
    if (n === 0) continue;
    const src = bytesOf(pairs[i] as ArrayBufferView, n);
    if (src === undefined) return writeFault(b, 'writev');
    taSet(b.part(at, n), src.length === n ? src : new U8(src.buffer, src.byteOffset, n));
    at += n;
  }
  return b;
}

/**
 * A write whose view was detached or shrunk between its check and its copy
 * (the caller's code ran in between: an options getter, a later element's
 * getter in a list): nothing is sent, the op fails with EFAULT, as a read
 * whose view went away does (and as the thread pool's own copy does).
 */
function writeFault(b: Bounce, syscall: string): never {
  giveBounce(b);
  throw systemError(EFAULT, syscall);
}

/** Total bytes of a [view, length, ...] list. */
export function pairsBytes(pairs: Array<ArrayBufferView | number>): number {
  let total = 0;
  for (let i = 1; i < pairs.length; i += 2) total += pairs[i] as number;
  return total;
}


/**
 * A read's completion: copies the first `res` bytes of `b` into `target` (a
 * view of `bytes` bytes, or a [view, length, ...] list) and returns res; or,
 * when a view the data would reach is detached or shorter than it was at the
 * call, copies nothing and returns -EFAULT.
 */
export function copyBack(b: Bounce, target: unknown, bytes: number, res: number): number {
  if (res <= 0) return res;
  if (!Array.isArray(target)) {
    const dst = bytesOf(target as ArrayBufferView, bytes);
    if (dst === undefined) return EFAULT;
    taSet(dst, res === bytes ? b.view(bytes) : b.part(0, res));
    return res;
  }
  const pairs = target as Array<ArrayBufferView | number>;
  const dsts: Uint8Array[] = [];
  for (let i = 0, left = res; i < pairs.length && left > 0; i += 2) {
    const n = pairs[i + 1] as number;
    if (n === 0) continue;
    const dst = bytesOf(pairs[i] as ArrayBufferView, n);
    if (dst === undefined) return EFAULT;
    dsts.push(dst);
    left -= n < left ? n : left;
  }
  for (let i = 0, j = 0, at = 0; j < dsts.length; i += 2) {
    const n = pairs[i + 1] as number;
    if (n === 0) continue;
    const take = res - at < n ? res - at : n;
    taSet(dsts[j++], b.part(at, take));
    at += take;
  }
  return res;
}

/**
 * Whether an op's memory needs bounce memory: a view of `bytes` (> 0) bytes
 * or a [view, length, ...] list with some caller memory in it.
 */
export function needsBounce(mem: unknown, vectored: boolean, bytes: number): boolean {
  if (!vectored) return bytes !== 0 && !isOwnMemory(mem as ArrayBufferView);
  const pairs = mem as Array<ArrayBufferView | number>;
  for (let i = 0; i < pairs.length; i += 2) if ((pairs[i + 1] as number) !== 0 && !isOwnMemory(pairs[i] as ArrayBufferView)) return true;
  return false;
}

/**
 * Settles a bounced op's memory at its completion (res: the kernel's
 * result): a read's data copied into the caller's memory (or -EFAULT, see
 * copyBack), the bounce buffer given back. Returns the op's result.
 */
export function finishBounce(b: Bounce, res: number): number {
  const target = b.target;
  if (target !== undefined) res = copyBack(b, target, b.bytes, res);
  giveBounce(b);
  return res;
}

/**
 * The one-view form of needsBounce + bounceFor, asking the engine for the
 * view's ArrayBuffer once: undefined for kaio's own memory (or no bytes).
 */
export function bounceView(view: ArrayBufferView, bytes: number, copy: boolean): Bounce | undefined {
  if (bytes === 0) return undefined;
  const ab = viewBuffer(view);
  if (ownMemory.has(ab)) return undefined;
  const b = takeBounce(bytes, pageOffsetOf(view, ab));
  if (!copy) {
    b.target = view;
    b.bytes = bytes;
    return b;
  }
  const src = bytesOf(view, bytes);
  if (src === undefined) return writeFault(b, 'write');
  taSet(b.view(bytes), src.length === bytes ? src : new U8(src.buffer, src.byteOffset, bytes));
  return b;
}
