// Argument checks of the fs.promises surface, with Node's own codes and
// messages (lib/internal/fs/utils.js), so a caller switching imports sees the
// same errors before anything reaches the kernel.
import { constants as fsConstants } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { types } from 'node:util';
import { invalidArgType, invalidArgValue, outOfRange, received } from '../errors';
import { checkedLength, validateSignal, viewBuffer, viewByteOffset } from '../validate';
import { nulInPath, OPEN_FLAGS, type KernelPath } from '../ring/args';

const { isProxy, isUint8Array } = types;

const shown = received;

/**
 * A path as Node takes it (string, Buffer/Uint8Array, file: URL), as the
 * kernel gets it: text, or a Uint8Array's bytes as they are (kaio's own
 * copy; a name that is not UTF-8 names the same file as in node:fs).
 */
export function validatePath(value: unknown, name = 'path'): KernelPath {
  let p: string;
  if (typeof value === 'string') p = value;
  else if (isProxy(value)) {
    // instanceof would run its traps, and the engine's getters refuse it.
    throw invalidArgType(name, 'of type string or an instance of Buffer or URL', value);
  } else if (isUint8Array(value)) {
    const length = checkedLength(value, name);
    const bytes = Buffer.from(Buffer.from(viewBuffer(value) as ArrayBuffer, viewByteOffset(value), length));
    if (bytes.includes(0)) throw nulInPath(name, value, bytes);
    return bytes;
  } else if (value instanceof URL) {
    p = fileURLToPath(value);
  } else {
    throw invalidArgType(name, 'of type string or an instance of Buffer or URL', value);
  }
  if (p.includes('\0')) throw nulInPath(name, value);
  return p;
}

const FLAGS = OPEN_FLAGS;

/** Node's stringToFlags. */
export function openFlags(flags: unknown, name = 'flags'): number {
  if (typeof flags === 'number') return validateInt32(flags, name);
  if (flags === undefined || flags === null) return fsConstants.O_RDONLY;
  const v = typeof flags === 'string' ? FLAGS[flags] : undefined;
  if (v === undefined) throw invalidArgValue(name, `is invalid. ${shown(flags)}`);
  return v;
}

/** Node's parseFileMode: an integer or an octal string. */
export function fileMode(value: unknown, name: string, dflt: number): number {
  if (value === undefined || value === null) return dflt;
  let v = value;
  if (typeof v === 'string') {
    if (!/^[0-7]+$/.test(v)) throw invalidArgValue(name, `must be a 32-bit unsigned integer or an octal string. ${shown(value)}`);
    v = parseInt(v, 8);
  }
  return validateInteger(v, name, 0, 2 ** 32 - 1);
}

export function validateInt32(value: unknown, name: string, min = -(2 ** 31), max = 2 ** 31 - 1): number {
  return validateInteger(value, name, min, max);
}

/** Node's validateInteger messages ("an integer", ">= a && <= b"). */
export function validateInteger(value: unknown, name: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isInteger(value)) throw outOfRange(name, 'an integer', value);
  if (value < min || value > max) throw outOfRange(name, `>= ${min} && <= ${max}`, value);
  return value;
}

/** Node's assertEncoding. */
export function validateEncoding(encoding: unknown, name = 'encoding'): BufferEncoding | undefined {
  if (encoding === undefined || encoding === null || encoding === '' || encoding === 'buffer') return undefined;
  if (typeof encoding !== 'string' || !Buffer.isEncoding(encoding)) throw invalidArgValue(name, `is invalid encoding. ${shown(encoding)}`);
  return encoding;
}

/** Node's getOptions: a string is the encoding; null/undefined are the defaults. */
export function getOptions<T extends object>(options: unknown, defaults: T): T & { encoding?: BufferEncoding | null; signal?: AbortSignal } {
  if (options === undefined || options === null || typeof options === 'function') return { ...defaults };
  let o: Record<string, unknown>;
  if (typeof options === 'string') o = { ...defaults, encoding: options };
  else if (typeof options === 'object') o = options as Record<string, unknown>;
  else throw invalidArgType('options', 'one of type string or object', options);
  if (o.encoding !== 'buffer') validateEncoding(o.encoding);
  if (o.signal !== undefined) validateAbortSignal(o.signal, 'options.signal');
  return o as T;
}

/** A real AbortSignal (the engine's brand check, not its shape). */
export function validateAbortSignal(signal: unknown, name: string): AbortSignal | undefined {
  return validateSignal(signal, name);
}

export function validateBufferArray(buffers: unknown, name = 'buffers'): ArrayBufferView[] {
  if (!Array.isArray(buffers)) throw invalidArgType(name, 'an ArrayBufferView[]', buffers);
  // A copy, each element read once: what was checked is what is used, even
  // when the op waits its turn (current position) and the caller's array
  // changes meanwhile.
  const n = buffers.length;
  const list: ArrayBufferView[] = new Array(n);
  for (let i = 0; i < n; i++) {
    const b: unknown = buffers[i];
    if (!ArrayBuffer.isView(b)) throw invalidArgType(name, 'an ArrayBufferView[]', buffers);
    list[i] = b;
  }
  return list;
}

export function validateBufferArg(buffer: unknown, name = 'buffer'): ArrayBufferView {
  if (!ArrayBuffer.isView(buffer)) throw invalidArgType(name, 'an instance of Buffer, TypedArray, or DataView', buffer);
  return buffer;
}
