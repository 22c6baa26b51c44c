// Path and open-flag arguments of the ring's file ops (openat, statx) and
// the fd lists of registerFiles, checked and converted before the kernel.
import { constants as fsConstants } from 'node:fs';
import { inspect, types } from 'node:util';
import { invalidArgType, invalidArgValue, received } from '../errors';
import { checkedLength, validateInteger, viewBuffer, viewByteOffset } from '../validate';

/** A path as the kernel takes it: text, or bytes as they are. */
export type KernelPath = string | Buffer;

/** openat(2)'s "relative to the current directory". */
export const AT_FDCWD = -100;
export const O_CLOEXEC = 0o2000000;

/**
 * Node's string open flags, as fs.open takes them (no prototype: 'toString'
 * or 'constructor' is not a flag).
 */
export const OPEN_FLAGS: Readonly<Record<string, number>> = (() => {
  const { O_RDONLY, O_WRONLY, O_RDWR, O_CREAT, O_TRUNC, O_APPEND, O_EXCL, O_SYNC } = fsConstants;
  return Object.freeze(Object.assign(Object.create(null) as Record<string, number>, {
    r: O_RDONLY,
    rs: O_RDONLY | O_SYNC,
    sr: O_RDONLY | O_SYNC,
    'r+': O_RDWR,
    'rs+': O_RDWR | O_SYNC,
    'sr+': O_RDWR | O_SYNC,
    w: O_TRUNC | O_CREAT | O_WRONLY,
    wx: O_TRUNC | O_CREAT | O_WRONLY | O_EXCL,
    xw: O_TRUNC | O_CREAT | O_WRONLY | O_EXCL,
    'w+': O_TRUNC | O_CREAT | O_RDWR,
    'wx+': O_TRUNC | O_CREAT | O_RDWR | O_EXCL,
    'xw+': O_TRUNC | O_CREAT | O_RDWR | O_EXCL,
    a: O_APPEND | O_CREAT | O_WRONLY,
    ax: O_APPEND | O_CREAT | O_WRONLY | O_EXCL,
    xa: O_APPEND | O_CREAT | O_WRONLY | O_EXCL,
    as: O_APPEND | O_CREAT | O_WRONLY | O_SYNC,
    sa: O_APPEND | O_CREAT | O_WRONLY | O_SYNC,
    'a+': O_APPEND | O_CREAT | O_RDWR,
    'ax+': O_APPEND | O_CREAT | O_RDWR | O_EXCL,
    'xa+': O_APPEND | O_CREAT | O_RDWR | O_EXCL,
    'as+': O_APPEND | O_CREAT | O_RDWR | O_SYNC,
    'sa+': O_APPEND | O_CREAT | O_RDWR | O_SYNC,
  }));
})();

export function parseOpenFlags(flags: unknown): number {
  if (flags === undefined) return fsConstants.O_RDONLY;
  if (typeof flags === 'number') return validateInteger(flags, 'flags', 0, 0x7fffffff);
  if (typeof flags === 'string') {
    const value = OPEN_FLAGS[flags];
    if (value === undefined) throw invalidArgType('flags', `one of ${Object.keys(OPEN_FLAGS).join(', ')}`, flags);
    return value;
  }
  throw invalidArgType('flags', 'of type string or number', flags);
}

/**
 * ERR_INVALID_ARG_VALUE for a path holding a NUL byte, as Node's path check
 * words it; `bytes`: a Uint8Array path's bytes, already read (shown as
 * Node shows a plain Buffer or Uint8Array; any other class by name only,
 * so no caller code runs).
 */
export function nulInPath(name: string, value: unknown, bytes?: Buffer): TypeError {
  let shown = received(value);
  if (bytes !== undefined) {
    const proto = Object.getPrototypeOf(value);
    if (proto === Buffer.prototype) shown = `Received ${inspect(Buffer.from(bytes))}`;
    else if (proto === Uint8Array.prototype) shown = `Received ${inspect(new Uint8Array(bytes))}`;
  }
  return invalidArgValue(name, `must be a string, Uint8Array, or URL without null bytes. ${shown}`);
}

/** A Uint8Array path's bytes (kaio's own copy, read through the engine's getters, not a toString or a `buffer` property a subclass could fake). */
function pathBytes(value: Uint8Array, name: string): Buffer {
  const bytes = Buffer.from(Buffer.from(viewBuffer(value) as ArrayBuffer, viewByteOffset(value), checkedLength(value, name)));
  if (bytes.includes(0)) throw nulInPath(name, value, bytes);
  return bytes;
}

/** A path as text (a Uint8Array's bytes decoded as UTF-8): for what only takes text. */
export function pathArg(value: unknown, name = 'path'): string {
  if (typeof value === 'string') {
    if (value.includes('\0')) throw nulInPath(name, value);
    return value;
  }
  // A Proxy is refused before anything runs its traps (instanceof would).
  if (types.isProxy(value)) throw invalidArgType(name, 'of type string or an instance of Buffer or URL', value);
  if (value instanceof URL) {
    if (value.protocol !== 'file:') throw invalidArgType(name, 'a file: URL', value.href);
    const p = decodeURIComponent(value.pathname);
    if (p.includes('\0')) throw nulInPath(name, value);
    return p;
  }
  if (types.isUint8Array(value)) return pathBytes(value, name).toString();
  throw invalidArgType(name, 'of type string or an instance of Buffer or URL', value);
}

/**
 * A path as the kernel takes it: kaio's own NUL-terminated copy (a
 * Uint8Array's bytes as they are, not decoded: a name that is not UTF-8
 * reaches the kernel unchanged) and the text errors show.
 */
export function cPath(value: unknown, name = 'path'): { c: Buffer; shown: string } {
  if (types.isUint8Array(value) && !types.isProxy(value)) {
    const bytes = pathBytes(value, name);
    const c = Buffer.alloc(bytes.length + 1);
    bytes.copy(c);
    return { c, shown: bytes.toString() };
  }
  const p = pathArg(value, name);
  return { c: Buffer.from(`${p}\0`), shown: p };
}

/** A list of fds (integers >= -1; -1 leaves a table slot empty), copied in one pass. */
export function fileList(value: unknown, name: string): number[] {
  if (!Array.isArray(value)) throw invalidArgType(name, 'an array of file descriptors', value);
  const n = value.length;
  const out: number[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = validateInteger(value[i], `${name}[${i}]`, -1, 0x7fffffff);
  return out;
}
