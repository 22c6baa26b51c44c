// Path and open-flag arguments of the ring's file ops (openat, statx) and
// the fd lists of registerFiles, checked and converted before the kernel.
import { constants as fsConstants } from 'node:fs';
import { types } from 'node:util';
import { invalidArgType } from '../errors';
import { checkedLength, validateInteger, viewBuffer, viewByteOffset } from '../validate';

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

export function pathArg(value: unknown, name = 'path'): string {
  if (typeof value === 'string') {
    if (value.includes('\0')) throw invalidArgType(name, 'a string without null bytes', value);
    return value;
  }
  // A Proxy is refused before anything runs its traps (instanceof would).
  if (types.isProxy(value)) throw invalidArgType(name, 'of type string or an instance of Buffer or URL', value);
  if (value instanceof URL) {
    if (value.protocol !== 'file:') throw invalidArgType(name, 'a file: URL', value.href);
    return decodeURIComponent(value.pathname);
  }
  // The bytes themselves, through the engine's getters (not a toString or
  // a `buffer` property a subclass could fake).
  if (types.isUint8Array(value)) {
    const bytes = Buffer.from(viewBuffer(value) as ArrayBuffer, viewByteOffset(value), checkedLength(value, name));
    return pathArg(bytes.toString(), name);
  }
  throw invalidArgType(name, 'of type string or an instance of Buffer or URL', value);
}

/**
 * A path as the kernel takes it: kaio's own NUL-terminated copy (a Buffer's
 * bytes as they are, not decoded) and the text errors show.
 */
export function cPath(value: unknown, name = 'path'): { c: Buffer; shown: string } {
  if (types.isUint8Array(value) && !types.isProxy(value)) {
    const bytes = Buffer.from(viewBuffer(value) as ArrayBuffer, viewByteOffset(value), checkedLength(value, name));
    if (bytes.includes(0)) throw invalidArgType(name, 'a string without null bytes', bytes.toString());
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
