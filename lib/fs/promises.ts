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
import { asRing, closeOnRing, defaultContext } from '../file/open';
import { withCallerStack } from '../file/errors';
import { cPath, type KernelPath } from '../ring/args';
import { statsFromStatx } from './stats';
import { mkdirp, rmTree } from './tree';
import { copyFileNative } from './copy';
import { closeAfter } from '../file/read-file';
import * as file from '../file';
import * as streams from './streams';

const { isProxy, isUint8Array } = types;


/** A path as the ring takes it (a string, or a Buffer path's bytes undecoded); undefined: let Node decide. */
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
function ringWith(...ops: string[]): Ring | undefined {
  return asRing(defaultContext(), ...ops);
}

/**
 * The function that awaits a call's ring op, one per call and named after it,
 * so that an op's error shows the call (`at access (...)`) above the caller's
 * async frames, where Node's shows `at async Object.access`: the same frames
 * for the same cost as one shared function (no second promise per call).
 */
function onRingAs(name: string): <T>(op: Promise<T>) => Promise<T> {
  const named = {
    async [name]<T>(op: Promise<T>): Promise<T> {
      try {
        return await op;
      } catch (e) {
        throw withCallerStack(e);
      }
    },
  };
  return named[name] as <T>(op: Promise<T>) => Promise<T>;
}
const onRing = {
  stat: onRingAs('stat'),
  lstat: onRingAs('lstat'),
  access: onRingAs('access'),
  unlink: onRingAs('unlink'),
  rmdir: onRingAs('rmdir'),
  mkdir: onRingAs('mkdir'),
  rm: onRingAs('rm'),
  rename: onRingAs('rename'),
  link: onRingAs('link'),
  symlink: onRingAs('symlink'),
  truncate: onRingAs('truncate'),
  copyFile: onRingAs('copyFile'),
};

// ── stat, lstat ──────────────────────────────────────────────────────────

const AT_SYMLINK_NOFOLLOW = 0x100;
/** What libuv asks statx for, and how (AT_STATX_SYNC_AS_STAT, 0). */
const STAT_MASK = STATX_BASIC_STATS | STATX_BTIME;

/** Node reads `options.bigint` once, after the path; null options throw its TypeError (Node's own call does that). */
function statWith(syscall: 'stat' | 'lstat', node: typeof fsp.stat, path: unknown, options: unknown): Promise<nodeFs.Stats | nodeFs.BigIntStats> {
  const p = options === null ? undefined : kernelPath(path);
  const ring = p !== undefined ? ringWith('STATX') : undefined;
  if (p === undefined || !ring) return (node as (...a: unknown[]) => Promise<nodeFs.Stats>)(path, options);
  const bigint = options === undefined ? false : Boolean((options as { bigint?: unknown }).bigint);
  const flags = syscall === 'lstat' ? AT_SYMLINK_NOFOLLOW : 0;
  return onRing[syscall](ring._statxAs(p, flags, STAT_MASK, syscall, shownPath(p), bigint ? bigStats : numberStats));
}

type MakeStats = (out: Uint8Array) => nodeFs.Stats | nodeFs.BigIntStats;
const numberStats: MakeStats = (out) => statsFromStatx(out, false);
const bigStats: MakeStats = (out) => statsFromStatx(out, true);

const stat = ((path: unknown, options?: unknown) => statWith('stat', fsp.stat, path, options)) as typeof fsp.stat;
const lstat = ((path: unknown, options?: unknown) => statWith('lstat', fsp.lstat, path, options)) as typeof fsp.lstat;

// ── unlink, rmdir, mkdir ─────────────────────────────────────────────────

const AT_REMOVEDIR = 0x200;

const unlink = ((path: unknown) => {
  const p = kernelPath(path);
  const ring = p !== undefined ? ringWith('UNLINKAT') : undefined;
  if (p === undefined || !ring) return (fsp.unlink as (a: unknown) => Promise<void>)(path);
  return onRing.unlink(ring.unlinkat(p));
}) as typeof fsp.unlink;

/** rmdir(path): the ring; any options (recursive, retries) are Node's to check and handle. */
const rmdir = ((path: unknown, ...rest: unknown[]) => {
  const p = rest.length === 0 || rest[0] === undefined ? kernelPath(path) : undefined;
  const ring = p !== undefined ? ringWith('UNLINKAT') : undefined;
  if (p === undefined || !ring) return (fsp.rmdir as (...a: unknown[]) => Promise<void>)(path, ...rest);
  return onRing.rmdir(ring.unlinkat(p, { flags: AT_REMOVEDIR }));
}) as typeof fsp.rmdir;

/** A plain object's own data property (undefined when absent); NOT_PLAIN for a getter or a Proxy. */
const NOT_PLAIN = Symbol('not plain');
function ownData(o: object, key: string): unknown {
  const d = Object.getOwnPropertyDescriptor(o, key);
  if (d === undefined) return key in o ? NOT_PLAIN : undefined;
  return 'value' in d ? d.value : NOT_PLAIN;
}
/** An options object kaio reads without running the caller's code: a plain, non-Proxy object whose keys are all in `keys`. */
function plainOptions(o: unknown, keys: readonly string[]): Record<string, unknown> | undefined {
  if (o === null || typeof o !== 'object' || isProxy(o) || Array.isArray(o)) return undefined;
  const proto = Object.getPrototypeOf(o);
  if (proto !== Object.prototype && proto !== null) return undefined;
  const own = Reflect.ownKeys(o);
  if (!own.every((k) => typeof k === 'string' && keys.includes(k))) return undefined;
  const out: Record<string, unknown> = {};
  for (const k of keys) {
    const v = ownData(o, k);
    if (v === NOT_PLAIN) return undefined;
    out[k] = v;
  }
  return out;
}
const isMode = (m: unknown): m is number => typeof m === 'number' && Number.isInteger(m) && m >= 0 && m <= 0xffffffff;

/**
 * mkdir(path[, mode | { recursive, mode }]): the ring (recursive: every
 * missing level in one chain, lib/fs/tree.ts); any other option shape is Node's.
 */
const mkdir = ((path: unknown, ...rest: unknown[]) => {
  const options = rest[0];
  let mode = -1;
  let recursive = false;
  if (options === undefined) mode = 0o777;
  else if (isMode(options)) mode = options;
  else {
    const o = plainOptions(options, ['recursive', 'mode']);
    if (o !== undefined && (o.recursive === undefined || typeof o.recursive === 'boolean') && (o.mode === undefined || isMode(o.mode))) {
      mode = o.mode === undefined ? 0o777 : o.mode;
      recursive = o.recursive === true;
    }
  }
  const p = mode >= 0 ? kernelPath(path) : undefined;
  // Node's mkdir -p walks string paths: a Buffer one is Node's.
  const ring = p !== undefined && (!recursive || typeof p === 'string') ? ringWith('MKDIRAT', ...(recursive ? ['STATX'] : [])) : undefined;
  if (p === undefined || !ring) return (fsp.mkdir as (...a: unknown[]) => Promise<string | undefined>)(path, ...rest);
  if (recursive) return onRing.mkdir(mkdirp(ring, p as string, mode));
  return onRing.mkdir(ring.mkdirat(p, mode));
}) as typeof fsp.mkdir;

/**
 * rm(path[, { recursive, force }]): the ring (lib/fs/tree.ts); retries
 * (maxRetries, retryDelay) and any other option shape are Node's, and so is
 * the error for a directory without `recursive`.
 */
const rm = ((path: unknown, ...rest: unknown[]) => {
  const options = rest[0];
  const o = options === undefined ? {} : plainOptions(options, ['recursive', 'force', 'maxRetries', 'retryDelay']);
  const simple = o !== undefined && (o.recursive === undefined || typeof o.recursive === 'boolean') && (o.force === undefined || typeof o.force === 'boolean') &&
    (o.maxRetries === undefined || o.maxRetries === 0) && (o.retryDelay === undefined || (typeof o.retryDelay === 'number' && Number.isInteger(o.retryDelay) && o.retryDelay >= 0 && o.retryDelay <= 0x7fffffff));
  const p = simple ? kernelPath(path) : undefined;
  const ring = p !== undefined ? ringWith('STATX', 'UNLINKAT') : undefined;
  const node = (): Promise<void> => (fsp.rm as (...a: unknown[]) => Promise<void>)(path, ...rest);
  if (p === undefined || !ring) return node();
  return onRing.rm(rmTree(ring, p, o!.recursive === true, o!.force === true).then((done) => (done ? undefined : node())));
}) as typeof fsp.rm;

// ── rename, link, symlink ────────────────────────────────────────────────

const rename = ((oldPath: unknown, newPath: unknown) => {
  const from = kernelPath(oldPath);
  const to = from !== undefined ? kernelPath(newPath) : undefined;
  const ring = to !== undefined ? ringWith('RENAMEAT') : undefined;
  if (from === undefined || to === undefined || !ring) return (fsp.rename as (a: unknown, b: unknown) => Promise<void>)(oldPath, newPath);
  return onRing.rename(ring.renameat(from, to));
}) as typeof fsp.rename;

const link = ((existingPath: unknown, newPath: unknown) => {
  const from = kernelPath(existingPath);
  const to = from !== undefined ? kernelPath(newPath) : undefined;
  const ring = to !== undefined ? ringWith('LINKAT') : undefined;
  if (from === undefined || to === undefined || !ring) return (fsp.link as (a: unknown, b: unknown) => Promise<void>)(existingPath, newPath);
  return onRing.link(ring.linkat(from, to));
}) as typeof fsp.link;

/** symlink(target, path[, type]): the ring; a type (it means something on Windows only) is Node's to check. */
const symlink = ((target: unknown, path: unknown, ...rest: unknown[]) => {
  const t = rest.length === 0 || rest[0] === undefined || rest[0] === null ? kernelPath(target) : undefined;
  const p = t !== undefined ? kernelPath(path) : undefined;
  const ring = p !== undefined ? ringWith('SYMLINKAT') : undefined;
  if (t === undefined || p === undefined || !ring) return (fsp.symlink as (...a: unknown[]) => Promise<void>)(target, path, ...rest);
  return onRing.symlink(ring.symlinkat(t, p));
}) as typeof fsp.symlink;

// ── access, truncate, copyFile ───────────────────────────────────────────

const AT_NO_AUTOMOUNT = 0x800;
const STATX_TYPE = 1;
let credsKey = '';
let credsExact = false;
/**
 * Whether statx answers access(F_OK) exactly for this process: faccessat(2)
 * walks the path with the real uid and gid, and with the capabilities
 * reduced (none for a non-root real uid, the permitted set for root), where
 * statx uses the effective ones. Equal when the ids are equal and the
 * effective capabilities are what faccessat would use.
 */
function accessByStatxExact(): boolean {
  const uid = process.getuid?.();
  const euid = process.geteuid?.();
  const gid = process.getgid?.();
  const egid = process.getegid?.();
  if (uid === undefined || uid !== euid || gid !== egid) return false;
  const key = `${uid}:${gid}`;
  if (key !== credsKey) {
    credsKey = key;
    credsExact = false;
    try {
      const status = nodeFs.readFileSync('/proc/self/status', 'latin1');
      const cap = (name: string): bigint | undefined => {
        const m = new RegExp(`^${name}:\\s*([0-9a-f]+)$`, 'm').exec(status);
        return m ? BigInt(`0x${m[1]}`) : undefined;
      };
      const eff = cap('CapEff');
      const prm = cap('CapPrm');
      credsExact = eff !== undefined && (uid === 0 ? eff === prm : eff === 0n);
    } catch {
      credsExact = false;
    }
  }
  return credsExact;
}

/** access(path[, F_OK]): a statx on the ring where that is exact (above); R_OK, W_OK, X_OK are Node's. */
const access = ((path: unknown, ...rest: unknown[]) => {
  const mode = rest[0];
  const p = mode === undefined || mode === null || mode === nodeFs.constants.F_OK ? kernelPath(path) : undefined;
  const ring = p !== undefined && accessByStatxExact() ? ringWith('STATX') : undefined;
  if (p === undefined || !ring) return (fsp.access as (...a: unknown[]) => Promise<void>)(path, ...rest);
  return onRing.access(ring._statxBytes(p, AT_NO_AUTOMOUNT, STATX_TYPE, 'access', shownPath(p)).then(() => undefined));
}) as typeof fsp.access;

/**
 * truncate(path[, len]): as Node's (open 'r+', ftruncate, close; the close's
 * error joins the ftruncate's in an AggregateError), each an io_uring op.
 */
const truncate = ((path: unknown, ...rest: unknown[]) => {
  const len = rest[0];
  const n = len === undefined ? 0 : typeof len === 'number' && Number.isSafeInteger(len) ? Math.max(0, len) : -1;
  const p = n >= 0 ? kernelPath(path) : undefined;
  const ring = p !== undefined ? ringWith('OPENAT', 'FTRUNCATE', 'CLOSE') : undefined;
  if (p === undefined || !ring) return (fsp.truncate as (...a: unknown[]) => Promise<void>)(path, ...rest);
  return onRing.truncate(ring.openat(p, 'r+').then((fd) => closeAfter(ring.ftruncate(fd, n), () => closeOnRing(ring, fd))));
}) as typeof fsp.truncate;

/**
 * copyFile(src, dest[, mode]): libuv's copy as one native step on libuv's
 * pool, whatever the backend (lib/fs/copy.ts): the data by copy_file_range,
 * COPYFILE_FICLONE and COPYFILE_FICLONE_FORCE by an ioctl FICLONE first, as
 * libuv does. A mode that is not an integer 0..7 goes to Node's (its errors).
 */
const copyFile = ((src: unknown, dest: unknown, ...rest: unknown[]) => {
  const mode = rest[0] === undefined ? 0 : rest[0];
  const ok = typeof mode === 'number' && Number.isInteger(mode) && mode >= 0 && mode <= 7;
  const s = ok ? kernelPath(src) : undefined;
  const d = s !== undefined ? kernelPath(dest) : undefined;
  if (s === undefined || d === undefined) return (fsp.copyFile as (...a: unknown[]) => Promise<void>)(src, dest, ...rest);
  return onRing.copyFile(copyFileNative(s, d, mode as number).then(() => undefined));
}) as typeof fsp.copyFile;

// ── kaio's own: FileHandle and whole-file calls (lib/file/) ──────────────

const open = file.open;
const readFile = file.readFile;
const writeFile = file.writeFile;
const appendFile = file.appendFile;

// ── the rest: node:fs/promises itself ─────────────────────────────────────

const cp = fsp.cp;
const opendir = fsp.opendir;
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
