// Argument checks that run before anything reaches the kernel.
import { invalidArgType, invalidArgValue, outOfRange } from './errors';

/** Largest transfer the kernel does in one read or write (MAX_RW_COUNT). */
export const MAX_RW = 0x7ffff000;
/** Most iovecs one readv/writev may carry (UIO_MAXIOV). */
export const IOV_MAX = 1024;
const INT64_MAX = (1n << 63n) - 1n;

/** An integer in [min, max]; -0 comes back as 0 (native code and Node's own checks reject -0). */
export function validateInteger(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value)) throw outOfRange(name, 'an integer', value);
  if (value < min || value > max) throw outOfRange(name, `>= ${min} && <= ${max}`, value);
  return value + 0;
}

export function validateBoolean(value: unknown, name: string): boolean {
  if (typeof value !== 'boolean') throw invalidArgType(name, 'of type boolean', value);
  return value;
}

export function validateObject<T extends object>(value: unknown, name: string): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw invalidArgType(name, 'of type object', value);
  return value as T;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length];
}

/** An options object (or undefined for none) with only the `allowed` keys. */
export function validateOptions<T extends object>(options: unknown, allowed: readonly string[], name = 'options'): T {
  if (options === undefined) return {} as T;
  const o = validateObject<T>(options, name);
  validateKeys(o, name, allowed);
  return o;
}

/** Rejects misspelt option names instead of ignoring them. */
export function validateKeys(options: object, name: string, allowed: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (allowed.includes(key)) continue;
    const near = allowed.find((a) => editDistance(a.toLowerCase(), key.toLowerCase()) <= 2);
    const hint = near ? ` (did you mean "${near}"?)` : `; known options: ${allowed.join(', ')}`;
    throw invalidArgValue(`${name}.${key}`, `is not a known option${hint}`);
  }
}

// A view's memory is read through the engine's own getters, captured when
// this module loads: a view whose `buffer`, `byteOffset` or `byteLength` is
// an own property, a subclass getter or a Proxy trap cannot lie to them, so
// what kaio checks is what the kernel gets.
type Getter = (self: unknown) => unknown;
function intrinsicGetter(proto: object, key: PropertyKey): Getter {
  const get = Object.getOwnPropertyDescriptor(proto, key)?.get;
  if (!get) throw new Error(`kaio: no intrinsic getter for ${String(key)}`);
  return Function.prototype.call.bind(get) as Getter;
}
const TypedArrayPrototype = Object.getPrototypeOf(Uint8Array.prototype) as object;
/** The element type's name for a TypedArray, undefined for anything else (never throws). */
const taTag = intrinsicGetter(TypedArrayPrototype, Symbol.toStringTag);
const taBuffer = intrinsicGetter(TypedArrayPrototype, 'buffer');
const taByteOffset = intrinsicGetter(TypedArrayPrototype, 'byteOffset');
const taByteLength = intrinsicGetter(TypedArrayPrototype, 'byteLength');
const dvBuffer = intrinsicGetter(DataView.prototype, 'buffer');
const dvByteOffset = intrinsicGetter(DataView.prototype, 'byteOffset');
const dvByteLength = intrinsicGetter(DataView.prototype, 'byteLength');
const isView = ArrayBuffer.isView;

/** The ArrayBuffer (or SharedArrayBuffer) under a view, as the engine sees it. */
export function viewBuffer(view: ArrayBufferView): ArrayBufferLike {
  return (taTag(view) !== undefined ? taBuffer(view) : dvBuffer(view)) as ArrayBufferLike;
}

/** Byte offset of a view in its buffer, as the engine sees it (0 once detached). */
export function viewByteOffset(view: ArrayBufferView): number {
  if (taTag(view) !== undefined) return taByteOffset(view) as number;
  try {
    return dvByteOffset(view) as number;
  } catch {
    return 0; // a DataView over a detached buffer
  }
}

/** Bytes of a view now, as the engine sees it; -1 for a DataView whose buffer is detached. */
export function viewBytes(view: ArrayBufferView): number {
  if (taTag(view) !== undefined) return taByteLength(view) as number;
  try {
    return dvByteLength(view) as number;
  } catch {
    return -1;
  }
}

/** A detached ArrayBuffer reads as zero-length; only then is it worth the check. */
function isDetached(view: ArrayBufferView, bytes: number): boolean {
  if (bytes < 0) return true;
  if (bytes !== 0) return false;
  const ab = viewBuffer(view);
  if (typeof SharedArrayBuffer !== 'undefined' && ab instanceof SharedArrayBuffer) return false;
  try {
    new Uint8Array(ab as ArrayBuffer);
    return false;
  } catch {
    return true;
  }
}

/**
 * Checks a buffer argument and returns its byte length as of now: the
 * length the op uses, even if the view's buffer is resized before the
 * kernel sees it.
 */
export function checkedLength(value: unknown, name = 'buffer'): number {
  if (!isView(value)) throw invalidArgType(name, 'an instance of Buffer, TypedArray, or DataView', value);
  const bytes = viewBytes(value);
  if (isDetached(value, bytes)) throw invalidArgValue(name, 'is detached (its ArrayBuffer was transferred)');
  if (bytes > MAX_RW) throw outOfRange(`${name}.byteLength`, `<= ${MAX_RW}`, bytes);
  return bytes;
}

export function validateBuffer(value: unknown, name = 'buffer'): ArrayBufferView {
  checkedLength(value, name);
  return value as ArrayBufferView;
}

/**
 * A readv/writev list, read once: each element is fetched and checked in
 * one pass (a getter or Proxy runs here and only here), and the result is
 * kaio's own copy. `pairs` is [view, byteLength, view, byteLength, ...], the
 * form native code takes; `views` the views alone.
 */
export interface ViewList {
  views: ArrayBufferView[];
  pairs: Array<ArrayBufferView | number>;
  bytes: number;
}

export function snapshotBuffers(value: unknown, name = 'buffers'): ViewList {
  if (!Array.isArray(value))
    throw invalidArgType(name, 'an array of Buffer, TypedArray, or DataView', value);
  const n = value.length;
  if (typeof n !== 'number' || n === 0 || n > IOV_MAX) throw outOfRange(`${name}.length`, `>= 1 && <= ${IOV_MAX}`, n);
  const views: ArrayBufferView[] = new Array(n);
  const pairs: Array<ArrayBufferView | number> = new Array(2 * n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const v: unknown = value[i];
    const bytes = checkedLength(v, `${name}[${i}]`);
    total += bytes;
    views[i] = v as ArrayBufferView;
    pairs[2 * i] = v as ArrayBufferView;
    pairs[2 * i + 1] = bytes;
  }
  if (total > MAX_RW) throw outOfRange(`total length of ${name}`, `<= ${MAX_RW}`, total);
  return { views, pairs, bytes: total };
}

/**
 * The memory argument of a read or write, as native takes it: the view
 * itself (its checked length goes to `checked.bytes`), or for a vectored op
 * kaio's [view, length, ...] copy of the list (`checked.bytes` = 0).
 */
export function checkedMemory(data: unknown, vectored: boolean, checked: { bytes: number }): unknown {
  if (vectored) {
    checked.bytes = 0;
    return snapshotBuffers(data).pairs;
  }
  checked.bytes = checkedLength(data);
  return data;
}

export function validateBuffers(value: unknown, name = 'buffers'): ArrayBufferView[] {
  return snapshotBuffers(value, name).views;
}

/** number | bigint, -1 for "the file's current position". */
export function validatePosition(value: unknown, name = 'position'): number | bigint {
  if (value === undefined || value === null) return -1;
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw outOfRange(name, 'an integer', value);
    if (value < -1 || value > Number.MAX_SAFE_INTEGER)
      throw outOfRange(name, `>= -1 && <= ${Number.MAX_SAFE_INTEGER}`, value);
    return value;
  }
  if (typeof value === 'bigint') {
    if (value < -1n || value > INT64_MAX) throw outOfRange(name, `>= -1n && <= ${INT64_MAX}n`, value);
    return value >= -1n && value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  }
  throw invalidArgType(name, 'of type number or bigint', value);
}

/** A non-negative file offset or length (number or bigint). */
export function validateOffset(value: unknown, name: string): number | bigint {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw outOfRange(name, 'an integer', value);
    if (value < 0 || value > Number.MAX_SAFE_INTEGER)
      throw outOfRange(name, `>= 0 && <= ${Number.MAX_SAFE_INTEGER}`, value);
    return value;
  }
  if (typeof value === 'bigint') {
    if (value < 0n || value > INT64_MAX) throw outOfRange(name, `>= 0n && <= ${INT64_MAX}n`, value);
    return value <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(value) : value;
  }
  throw invalidArgType(name, 'of type number or bigint', value);
}

const signalAborted = intrinsicGetter(AbortSignal.prototype, 'aborted');
const signalReason = intrinsicGetter(AbortSignal.prototype, 'reason');
const addListener = Function.prototype.call.bind(EventTarget.prototype.addEventListener) as (
  target: unknown, type: string, listener: () => void, options?: { once?: boolean }) => void;
const removeListener = Function.prototype.call.bind(EventTarget.prototype.removeEventListener) as (
  target: unknown, type: string, listener: () => void) => void;

/** A real AbortSignal (checked by the engine's own brand check, not by its shape). */
export function validateSignal(value: unknown, name = 'options.signal'): AbortSignal | undefined {
  if (value === undefined) return undefined;
  try {
    signalAborted(value);
  } catch {
    throw invalidArgType(name, 'an instance of AbortSignal', value);
  }
  return value as AbortSignal;
}

/** signal.aborted through the intrinsic getter (a subclass cannot override it). */
export function isAborted(signal: AbortSignal): boolean {
  return signalAborted(signal) as boolean;
}

export function abortReason(signal: AbortSignal | undefined): unknown {
  return signal === undefined ? undefined : signalReason(signal);
}

/** Listens for 'abort' once, through EventTarget's own methods. */
export function onAbort(signal: AbortSignal, listener: () => void): void {
  addListener(signal, 'abort', listener, { once: true });
}

export function offAbort(signal: AbortSignal, listener: () => void): void {
  try {
    removeListener(signal, 'abort', listener);
  } catch {
    // the signal is gone or was never listened to: nothing to remove
  }
}
