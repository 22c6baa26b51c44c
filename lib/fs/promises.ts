// kaio/fs/promises: the whole surface of node:fs/promises, so a service can
// switch one import. open/readFile/writeFile/appendFile are kaio's own
// (lib/file/); stat, lstat, unlink, rmdir, mkdir, rename, symlink and link go
// through io_uring when the default context is a Ring whose kernel has the
// op; everything else, and every call these cannot take as they are, is
// node:fs/promises itself.
//
// Arguments: a call goes to the ring only when its arguments are plainly
// valid (a path string or bytes without NUL, a file: URL, the simple option
// shapes below). Any other call is handed to node:fs/promises unchanged, so
// a bad argument gets Node's own error from Node's own checks, and an
// uncommon option (mkdir's recursive, rmdir's retries) Node's own handling.
import * as nodeFs from 'node:fs';
import * as fsp from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { types } from 'node:util';
import { STATX_BASIC_STATS, STATX_BTIME } from '../abi';
import type { Ring } from '../ring';
import { asRing, defaultContext } from '../file/open';
import { withCallerStack } from '../file/errors';
import { cPath } from '../ring/args';
import { makedev } from '../ring/statx';
import * as file from '../file';
import * as streams from './streams';

const { isProxy, isUint8Array } = types;


/** A path as the ring takes it (a string, or a Buffer path's bytes undecoded); undefined: let Node decide. */
type KernelPath = string | Buffer;

function kernelPath(value: unknown): KernelPath | undefined {
  if (typeof value === 'string') return value.includes('\0') ? undefined : value;
  if (isProxy(value)) return undefined;
  if (isUint8Array(value)) {
    // kaio's own copy, through the engine's getters (a detached view: Node's to refuse).
    let c: Buffer;
    try {
      c = cPath(value).c;
    } catch {
      return undefined;
    }
    return c.subarray(0, c.length - 1);
  }
  if (value instanceof URL && Object.getPrototypeOf(value) === URL.prototype) {
    let p: string;
    try {
      p = fileURLToPath(value);
    } catch {
      return undefined;
    }
    return kernelPath(p);
  }
  return undefined;
}

/** The text an error shows for a path the ring took. */
const shownPath = (p: KernelPath): string => (typeof p === 'string' ? p : p.toString());

/** The default context as a Ring with `op`, or undefined (then node:fs/promises does the call). */
function ringWith(op: string): Ring | undefined {
  return asRing(defaultContext(), op);
}

async function onRing<T>(op: Promise<T>): Promise<T> {
  try {
    return await op;
  } catch (e) {
    throw withCallerStack(e);
  }
}

// ── stat, lstat ──────────────────────────────────────────────────────────

const AT_SYMLINK_NOFOLLOW = 0x100;
/** What libuv asks statx for, and how (AT_STATX_SYNC_AS_STAT, 0). */
const STAT_MASK = STATX_BASIC_STATS | STATX_BTIME;

type BigIntStatsCtor = new (...fields: bigint[]) => nodeFs.BigIntStats;
let bigIntStats: BigIntStatsCtor | undefined;
/** Node's own BigIntStats class (not exported by node:fs): taken from one of its results. */
function bigIntStatsClass(): BigIntStatsCtor {
  bigIntStats ??= nodeFs.statSync('/', { bigint: true }).constructor as BigIntStatsCtor;
  return bigIntStats;
}

/**
 * The fs.Stats (or BigIntStats) Node builds from the same struct statx:
 * libuv copies the same fields, and Node makes its object with these very
 * constructors from them (ms = sec * 1000 + nsec / 1e6; ns = sec * 1e9 + nsec).
 */
function statsFromStatx(buf: Uint8Array, bigint: boolean): nodeFs.Stats | nodeFs.BigIntStats {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const u32 = (at: number): number => v.getUint32(at, true);
  const dev = makedev(u32(136), u32(140));
  const rdev = makedev(u32(128), u32(132));
  const mode = v.getUint16(28, true);
  const ino = v.getBigUint64(32, true);
  const size = v.getBigUint64(40, true);
  const blocks = v.getBigUint64(48, true);
  const sec = (at: number): bigint => v.getBigInt64(at, true);
  const nsec = (at: number): number => u32(at + 8);
  // atime, mtime, ctime, birthtime (struct statx has atime, btime, ctime, mtime)
  const times = [64, 112, 96, 80];
  if (bigint) {
    const Ctor = bigIntStatsClass();
    return new Ctor(dev, BigInt(mode), BigInt(u32(16)), BigInt(u32(20)), BigInt(u32(24)), rdev, BigInt(u32(4)), ino, size, blocks,
      ...times.map((t) => sec(t) * 1_000_000_000n + BigInt(nsec(t))));
  }
  const [a, m, c, b] = times.map((t) => Number(sec(t)) * 1000 + nsec(t) / 1e6);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const Stats = nodeFs.Stats as any;
  return new Stats(Number(dev), mode, u32(16), u32(20), u32(24), Number(rdev), u32(4), Number(ino), Number(size), Number(blocks), a, m, c, b) as nodeFs.Stats;
}

/** Node reads `options.bigint` once, after the path; null options throw its TypeError (Node's own call does that). */
function statWith(syscall: 'stat' | 'lstat', node: typeof fsp.stat, path: unknown, options: unknown): Promise<nodeFs.Stats | nodeFs.BigIntStats> {
  const p = options === null ? undefined : kernelPath(path);
  const ring = p !== undefined ? ringWith('STATX') : undefined;
  if (p === undefined || !ring) return (node as (...a: unknown[]) => Promise<nodeFs.Stats>)(path, options);
  const bigint = options === undefined ? false : Boolean((options as { bigint?: unknown }).bigint);
  const flags = syscall === 'lstat' ? AT_SYMLINK_NOFOLLOW : 0;
  return onRing(ring._statxBytes(p, flags, STAT_MASK, syscall, shownPath(p)).then((out) => statsFromStatx(out, bigint)));
}

const stat = ((path: unknown, options?: unknown) => statWith('stat', fsp.stat, path, options)) as typeof fsp.stat;
const lstat = ((path: unknown, options?: unknown) => statWith('lstat', fsp.lstat, path, options)) as typeof fsp.lstat;

// ── unlink, rmdir, mkdir ─────────────────────────────────────────────────

const AT_REMOVEDIR = 0x200;

const unlink = ((path: unknown) => {
  const p = kernelPath(path);
  const ring = p !== undefined ? ringWith('UNLINKAT') : undefined;
  if (p === undefined || !ring) return (fsp.unlink as (a: unknown) => Promise<void>)(path);
  return onRing(ring.unlinkat(p));
}) as typeof fsp.unlink;

/** rmdir(path): the ring; any options (recursive, retries) are Node's to check and handle. */
const rmdir = ((path: unknown, ...rest: unknown[]) => {
  const p = rest.length === 0 || rest[0] === undefined ? kernelPath(path) : undefined;
  const ring = p !== undefined ? ringWith('UNLINKAT') : undefined;
  if (p === undefined || !ring) return (fsp.rmdir as (...a: unknown[]) => Promise<void>)(path, ...rest);
  return onRing(ring.unlinkat(p, { flags: AT_REMOVEDIR }));
}) as typeof fsp.rmdir;

/** mkdir(path[, mode]): the ring; recursive and any other option shape are Node's. */
const mkdir = ((path: unknown, ...rest: unknown[]) => {
  const options = rest[0];
  const mode = options === undefined ? 0o777 : typeof options === 'number' && Number.isInteger(options) && options >= 0 && options <= 0xffffffff ? options : -1;
  const p = mode >= 0 ? kernelPath(path) : undefined;
  const ring = p !== undefined ? ringWith('MKDIRAT') : undefined;
  if (p === undefined || !ring) return (fsp.mkdir as (...a: unknown[]) => Promise<string | undefined>)(path, ...rest);
  return onRing(ring.mkdirat(p, mode));
}) as typeof fsp.mkdir;

// ── rename, link, symlink ────────────────────────────────────────────────

const rename = ((oldPath: unknown, newPath: unknown) => {
  const from = kernelPath(oldPath);
  const to = from !== undefined ? kernelPath(newPath) : undefined;
  const ring = to !== undefined ? ringWith('RENAMEAT') : undefined;
  if (from === undefined || to === undefined || !ring) return (fsp.rename as (a: unknown, b: unknown) => Promise<void>)(oldPath, newPath);
  return onRing(ring.renameat(from, to));
}) as typeof fsp.rename;

const link = ((existingPath: unknown, newPath: unknown) => {
  const from = kernelPath(existingPath);
  const to = from !== undefined ? kernelPath(newPath) : undefined;
  const ring = to !== undefined ? ringWith('LINKAT') : undefined;
  if (from === undefined || to === undefined || !ring) return (fsp.link as (a: unknown, b: unknown) => Promise<void>)(existingPath, newPath);
  return onRing(ring.linkat(from, to));
}) as typeof fsp.link;

/** symlink(target, path[, type]): the ring; a type (it means something on Windows only) is Node's to check. */
const symlink = ((target: unknown, path: unknown, ...rest: unknown[]) => {
  const t = rest.length === 0 || rest[0] === undefined || rest[0] === null ? kernelPath(target) : undefined;
  const p = t !== undefined ? kernelPath(path) : undefined;
  const ring = p !== undefined ? ringWith('SYMLINKAT') : undefined;
  if (t === undefined || p === undefined || !ring) return (fsp.symlink as (...a: unknown[]) => Promise<void>)(target, path, ...rest);
  return onRing(ring.symlinkat(t, p));
}) as typeof fsp.symlink;

// ── kaio's own: FileHandle and whole-file calls (lib/file/) ──────────────

const open = file.open;
const readFile = file.readFile;
const writeFile = file.writeFile;
const appendFile = file.appendFile;

// ── the rest: node:fs/promises itself ─────────────────────────────────────

const access = fsp.access;
const copyFile = fsp.copyFile;
const cp = fsp.cp;
const opendir = fsp.opendir;
const truncate = fsp.truncate;
const rm = fsp.rm;
const readdir = fsp.readdir;
const readlink = fsp.readlink;
const statfs = fsp.statfs;
const chmod = fsp.chmod;
const lchmod = fsp.lchmod;
const lchown = fsp.lchown;
const chown = fsp.chown;
const utimes = fsp.utimes;
const lutimes = fsp.lutimes;
const realpath = fsp.realpath;
const mkdtemp = fsp.mkdtemp;
const watch = fsp.watch;
// kaio's own (not in node:fs/promises): node:fs's streams driven by kaio.
const createReadStream = streams.createReadStream;
const createWriteStream = streams.createWriteStream;
const constants = fsp.constants;

// module.exports is this object literal, as node:fs/promises' is: `import fs
// from` (ESM, or TypeScript with esModuleInterop) and named imports (Node
// finds the names in the literal, each a plain local name) both work.
export = {
  access, copyFile, cp, open, opendir, rename, truncate, rm, rmdir, mkdir, readdir, readlink, symlink, lstat, stat,
  statfs, link, unlink, chmod, lchmod, lchown, chown, utimes, lutimes, realpath, mkdtemp, writeFile, appendFile,
  readFile, watch, constants,
  // kaio's: node:fs's streams driven by kaio (lib/fs/streams.ts)
  createReadStream, createWriteStream,
};
