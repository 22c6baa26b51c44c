// Argument checks that run before anything reaches the kernel.
import { invalidArgType, invalidArgValue, outOfRange } from './errors';

/** Largest transfer the kernel does in one read or write (MAX_RW_COUNT). */
export const MAX_RW = 0x7ffff000;
/** Most iovecs one readv/writev may carry (UIO_MAXIOV). */
export const IOV_MAX = 1024;
const INT64_MAX = (1n << 63n) - 1n;

export function validateInteger(value: unknown, name: string, min: number, max: number): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value)) throw outOfRange(name, 'an integer', value);
  if (value < min || value > max) throw outOfRange(name, `>= ${min} && <= ${max}`, value);
  return value;
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

/** Rejects misspelt option names instead of ignoring them. */
export function validateKeys(options: object, name: string, allowed: readonly string[]): void {
  for (const key of Object.keys(options)) {
    if (allowed.includes(key)) continue;
    const near = allowed.find((a) => editDistance(a.toLowerCase(), key.toLowerCase()) <= 2);
    const hint = near ? ` (did you mean "${near}"?)` : `; known options: ${allowed.join(', ')}`;
    throw invalidArgValue(`${name}.${key}`, `is not a known option${hint}`);
  }
}

/** A detached ArrayBuffer reads as zero-length; only then is it worth the check. */
function isDetached(view: ArrayBufferView): boolean {
  if (view.byteLength !== 0) return false;
  const ab = view.buffer;
  if (ab.byteLength !== 0) return false;
  if (typeof SharedArrayBuffer !== 'undefined' && ab instanceof SharedArrayBuffer) return false;
  try {
    new Uint8Array(ab as ArrayBuffer);
    return false;
  } catch {
    return true;
  }
}

export function validateBuffer(value: unknown, name = 'buffer'): ArrayBufferView {
  if (!ArrayBuffer.isView(value))
    throw invalidArgType(name, 'an instance of Buffer, TypedArray, or DataView', value);
  if (isDetached(value)) throw invalidArgValue(name, 'is detached (its ArrayBuffer was transferred)');
  if (value.byteLength > MAX_RW) throw outOfRange(`${name}.byteLength`, `<= ${MAX_RW}`, value.byteLength);
  return value;
}

export function validateBuffers(value: unknown, name = 'buffers'): ArrayBufferView[] {
  if (!Array.isArray(value))
    throw invalidArgType(name, 'an array of Buffer, TypedArray, or DataView', value);
  if (value.length === 0 || value.length > IOV_MAX)
    throw outOfRange(`${name}.length`, `>= 1 && <= ${IOV_MAX}`, value.length);
  let total = 0;
  for (let i = 0; i < value.length; i++) total += validateBuffer(value[i], `${name}[${i}]`).byteLength;
  if (total > MAX_RW) throw outOfRange(`total length of ${name}`, `<= ${MAX_RW}`, total);
  return value as ArrayBufferView[];
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

export function validateSignal(value: unknown, name = 'options.signal'): AbortSignal | undefined {
  if (value === undefined) return undefined;
  if (value === null || typeof value !== 'object' || !('aborted' in value) || typeof (value as AbortSignal).addEventListener !== 'function')
    throw invalidArgType(name, 'an instance of AbortSignal', value);
  return value as AbortSignal;
}
