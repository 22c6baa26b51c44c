// mkdir -p and rm -r of kaio/fs/promises on io_uring: Node's own algorithms
// (node_file.cc MKDirpAsync, lib/internal/fs/rimraf.js), step for step, so
// that results, errors and the tree left behind are Node's; what changes is
// how the ops reach the kernel. mkdir -p sends the missing levels as one
// chain of mkdirat SQEs (IOSQE_IO_HARDLINK: in order, a failure does not cut
// the chain) instead of one thread-pool round trip per level; rm -r lists
// each directory and unlinks its entries that are not directories in one
// native step on libuv's pool (binding.unlinkEntries: getdents64, then
// unlinkat relative to the directory, no JavaScript per file), and skips
// Node's lstat of every child (the listing's d_type says which entries are
// directories, as Node's Dirent does); the rmdirs, and what the step
// leaves, are ring ops.
import * as fsp from 'node:fs/promises';
import { constants } from 'node:os';
import { systemError, type ErrnoError } from '../errors';
import type { Ring } from '../ring';
import { STATX_BASIC_STATS } from '../abi';
import { statxType } from './stats';
import { binding } from '../binding';

const { errno: E } = constants;
const ENOENT = -E.ENOENT;
const EEXIST = -E.EEXIST;
const EACCES = -E.EACCES;
const ENOSPC = -E.ENOSPC;
const ENOTDIR = -E.ENOTDIR;
const ELOOP = -E.ELOOP;
const EPERM = -E.EPERM;
const EISDIR = -E.EISDIR;
const ENOTEMPTY = -E.ENOTEMPTY;
const S_IFDIR = 0o040000;
const S_IFLNK = 0o120000;
const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_REMOVEDIR = 0x200;

/** A kernel error's -errno; anything else (the ring closed) is thrown on. */
function errnoOf(e: unknown): number {
  const errno = (e as ErrnoError | undefined)?.errno;
  if (typeof errno !== 'number') throw e;
  return errno;
}

// ── mkdir -p ─────────────────────────────────────────────────────────────

/** stat(2) of p: 0 and whether it is a directory, or -errno. */
async function statDir(ring: Ring, p: string): Promise<[number, boolean]> {
  const st = await ring._statxBytes(p, 0, STATX_BASIC_STATS, '', p);
  return typeof st === 'number' ? [st, false] : [0, statxType(st) === S_IFDIR];
}

/** Node's parent of a path: up to its last '/' (the path itself when there is none). */
function parentOf(p: string): string {
  const i = p.lastIndexOf('/');
  return i < 0 ? p : p.slice(0, i);
}

/**
 * The levels a missing path's mkdir -p may have to make, top first, ending
 * with the path: every cut at a '/', as Node walks up. Undefined for paths
 * where Node's walk meets levels that name an existing entry ('.', '..',
 * '//', a trailing '/'): those take Node's walk one op at a time.
 */
function levelsOf(p: string): string[] | undefined {
  if (p === '' || p.endsWith('/') || p.includes('//') || /(^|\/)\.\.?(\/|$)/.test(p)) return undefined;
  const out = [p];
  for (let i = p.lastIndexOf('/'); i > 0; i = p.lastIndexOf('/', i - 1)) out.push(p.slice(0, i));
  return out.reverse();
}

/** Levels in mkdir -p's first chain: the path and its three nearest ancestors. */
const NEAR = 4;

/**
 * mkdir(path, { recursive: true }) on the ring: resolves to the first
 * directory made, or undefined; rejects as Node does (code, errno, syscall
 * 'mkdir', and the path of the level that failed).
 */
export async function mkdirp(ring: Ring, path: string, mode: number): Promise<string | undefined> {
  const mk = (p: string): Promise<number> => ring._mkdiratChain([p], mode).then((r) => r[0]);
  const stack = [path];
  let first: string | undefined;
  let chained = false;
  /** The result of the next level's mkdir when the chain already did it. */
  let known: number | undefined;
  for (;;) {
    const p = stack.pop()!;
    let err = known ?? (await mk(p));
    known = undefined;
    if (err === ENOENT && !chained && stack.length === 0) {
      // The path's parent is missing: the missing levels in one chain.
      chained = true;
      const all = levelsOf(p);
      if (all !== undefined && all.length > 1) {
        // The chain starts a few levels up (most mkdir -p calls miss one to
        // three); when even its top level's parent is missing, it is sent
        // again from the top of the path.
        let levels = all.slice(Math.max(0, all.length - NEAR));
        let res = await ring._mkdiratChain(levels, mode);
        if (res[0] === ENOENT && levels.length < all.length && res.every((r) => r === ENOENT)) {
          levels = all;
          res = await ring._mkdiratChain(levels, mode);
        }
        const k = res.findIndex((r) => r !== EEXIST);
        // Level k is the first the chain made: Node's walk up ends there, and
        // its walk down meets the states the chain met after it.
        if (k >= 0 && res[k] === 0) {
          first = levels[k];
          const j = res.findIndex((r, i) => i > k && r !== 0);
          if (j < 0) return first;
          // A level failed after the chain made some: Node's walk goes on
          // from there with that result.
          stack.length = 0;
          for (let i = levels.length - 1; i > j; i--) stack.push(levels[i]);
          stack.push(levels[j]);
          known = res[j];
          continue;
        }
        // Nothing made (a level that is a file, a dangling link, no
        // permission): the tree is as it was, Node's walk finds why.
      }
    }
    for (;;) {
      if (err === 0) {
        first ??= p;
        if (stack.length === 0) return first;
        break;
      }
      if (err === EACCES || err === ENOSPC || err === ENOTDIR || err === EPERM) throw systemError(err, 'mkdir', p);
      if (err === ENOENT) {
        const dirname = parentOf(p);
        if (dirname !== p) {
          stack.push(p, dirname);
        } else if (stack.length === 0) {
          err = EEXIST;
          continue;
        }
        break;
      }
      // Anything else: what is there (stat follows links)?
      const orig = err;
      let [serr, dir] = await statDir(ring, p);
      if (orig === EEXIST && stack.length > 0) {
        if (serr === 0 && dir) break;
        serr = ENOTDIR;
      }
      if (serr === 0 && !dir) serr = EEXIST;
      if (serr === 0) return first;
      throw systemError(serr, 'mkdir', p);
    }
  }
}

// ── rm -r ────────────────────────────────────────────────────────────────

type KernelPath = string | Buffer;
const shown = (p: KernelPath): string => (typeof p === 'string' ? p : p.toString());
const SEP = Buffer.from('/');

/** A failed op's error, as Node's callback fs would give it. */
const fail = (errno: number, syscall: string, p: KernelPath): ErrnoError => systemError(errno, syscall, shown(p));

/**
 * Node's rimraf (retries off): removes p, whatever it is; a missing entry is
 * no error. `isDir`: what lstat (or the parent's readdir) said p is.
 */
async function rimraf(ring: Ring, p: KernelPath, isDir: boolean, root: number): Promise<void> {
  try {
    if (isDir) return await rmdirThenChildren(ring, p, undefined, root);
    const r = await ring._unlinkatLinked(p, 0, false);
    if (r === 0) return;
    if (r === EISDIR || r === EPERM) return await rmdirThenChildren(ring, p, fail(r, 'unlink', p), root);
    throw fail(r, 'unlink', p);
  } catch (e) {
    if ((e as ErrnoError).code === 'ENOENT') return;
    throw e;
  }
}

/** Node's _rmdir: rmdir(p); a directory that is not empty loses its children first. */
async function rmdirThenChildren(ring: Ring, p: KernelPath, originalErr: ErrnoError | undefined, root: number): Promise<void> {
  const r = await ring._unlinkatLinked(p, AT_REMOVEDIR, false);
  if (r === 0) return;
  if (r === ENOTEMPTY || r === EEXIST || r === EPERM) return rmChildren(ring, p, root);
  if (r === ENOTDIR) {
    if (originalErr !== undefined) throw originalErr;
    return;
  }
  throw fail(r, 'rmdir', p);
}

/** Most unlinkat ops in one hard-linked chain (one io-wq work item runs a chain, one op after the other). */
const CHAIN = 1024;

/** Node's rimraf of a child that readdir says is not a directory, from its unlinkat's result. */
async function afterUnlink(ring: Ring, p: Buffer, r: number, root: number): Promise<void> {
  if (r === 0 || r === ENOENT) return;
  try {
    if (r === EISDIR || r === EPERM) return await rmdirThenChildren(ring, p, fail(r, 'unlink', p), root);
  } catch (e) {
    if ((e as ErrnoError).code === 'ENOENT') return;
    throw e;
  }
  throw fail(r, 'unlink', p);
}

/**
 * Node's _rmchildren: every entry at once, then the directory. First the
 * native step (rmLeftEntries); when it could not list the directory, as
 * before it: Node's readdir (its error is Node's), and the entries
 * that are not directories are unlinked by hard-linked chains of unlinkat
 * SQEs in one submission: one io-wq worker runs each chain, so the
 * directory's lock is not fought over by a worker per entry. When the chain
 * holds every entry, the directory's rmdir ends it; that result is used
 * only if it succeeded (the directory was empty then, as Node's rmdir after
 * its children finds it), else the rmdir is done again after the entries,
 * as Node does it. The first failure rejects; the other entries go on, as
 * Node's do.
 */
async function rmChildren(ring: Ring, p: KernelPath, root = 0): Promise<void> {
  const dir = typeof p === 'string' ? Buffer.from(p) : p;
  const listed = await binding.unlinkEntries(dir, true, root);
  // No longer a directory (O_NOFOLLOW): a symlink put there since the rmdir
  // said ENOTEMPTY. Node's readdir, below, would follow the link, and rm
  // would empty its target, outside the tree: the link itself is removed
  // instead, as rimraf removes a symlink it meets. Anything else that is
  // not a directory: readdir's error, without a readdir.
  if (listed === ENOTDIR || listed === ELOOP) {
    const st = await ring._statxBytes(dir, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, '', undefined);
    if (typeof st === 'number') throw fail(st, 'scandir', p);
    if (statxType(st) !== S_IFLNK) throw fail(listed, 'scandir', p);
    const r = await ring._unlinkatLinked(p, 0, false);
    if (r !== 0 && r !== ENOENT) throw fail(r, 'unlink', p);
    return;
  }
  // Not listed (the directory went, or cannot be read): Node's readdir,
  // below, gives Node's error (or the listing, if the directory is back).
  if (typeof listed !== 'number') return rmLeftEntries(ring, p, dir, listed[0], listed[1], root);
  const entries = await fsp.readdir(dir, { encoding: 'buffer', withFileTypes: true });
  const prefix = Buffer.concat([dir, SEP]);
  const work: Promise<void>[] = [];
  const files: Buffer[] = [];
  for (const d of entries) {
    const child = Buffer.concat([prefix, d.name as unknown as Buffer]);
    if (d.isDirectory()) work.push(rimraf(ring, child, true, root));
    else files.push(child);
  }
  const closing = files.length !== 0 && files.length < CHAIN && work.length === 0;
  for (let i = 0; i < files.length; i++) {
    const link = closing || ((i + 1) % CHAIN !== 0 && i + 1 < files.length);
    const child = files[i];
    work.push(ring._unlinkatLinked(child, 0, link).then((r) => afterUnlink(ring, child, r, root)));
  }
  const early = closing ? ring._unlinkatLinked(p, AT_REMOVEDIR, false).catch(() => -1) : undefined;
  await Promise.all(work);
  if (early !== undefined && (await early) === 0) return;
  const r = await ring._unlinkatLinked(p, AT_REMOVEDIR, false);
  if (r !== 0) throw fail(r, 'rmdir', p);
}

/** rmChildren for tests (the step after rmdir's ENOTEMPTY; `root`: the byte length of the path rm was given): not part of the API. */
export const _rmChildren = rmChildren;

/** Entry kinds of binding.unlinkEntries' list (native/core/dir_unlink.h). */
const ENTRY_DIR = 0;
const ENTRY_UNKNOWN = 1;
const ENTRY_LONG = 2;

/** Node's _rimraf of an entry whose type readdir did not give: lstat, then a directory's rmdir or an unlink (also when lstat failed). */
async function rimrafUnknown(ring: Ring, p: Buffer, root: number): Promise<void> {
  const st = await ring._statxBytes(p, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, '', undefined);
  if (st === ENOENT) return;
  return rimraf(ring, p, typeof st !== 'number' && statxType(st) === S_IFDIR, root);
}

/**
 * The rest of Node's _rmchildren after binding.unlinkEntries listed p and
 * unlinked its entries that are not directories (in libuv's pool, relative
 * to the directory: no JavaScript per file, no path walk per file): the
 * entries it left (directories, entries of unknown type, paths too long,
 * failed unlinks, each as Node's rimraf of that child goes on), then p's
 * rmdir, which the native step made already when it left nothing.
 */
async function rmLeftEntries(ring: Ring, p: KernelPath, dir: Buffer, rmdirResult: number, left: Buffer, root: number): Promise<void> {
  if (rmdirResult === 0) return;
  if (rmdirResult !== 1) throw fail(rmdirResult, 'rmdir', p);
  const prefix = Buffer.concat([dir, SEP]);
  const work: Promise<void>[] = [];
  for (let at = 0; at < left.length;) {
    const kind = left[at];
    const errno = left.readInt32LE(at + 1);
    const len = left.readUInt16LE(at + 5);
    const child = Buffer.concat([prefix, left.subarray(at + 7, at + 7 + len)]);
    at += 7 + len;
    if (kind === ENTRY_DIR) work.push(rimraf(ring, child, true, root));
    else if (kind === ENTRY_UNKNOWN) work.push(rimrafUnknown(ring, child, root));
    else if (kind === ENTRY_LONG) work.push(rimraf(ring, child, false, root));
    else work.push(afterUnlink(ring, child, -errno, root));
  }
  await Promise.all(work);
  const r = await ring._unlinkatLinked(p, AT_REMOVEDIR, false);
  if (r !== 0) throw fail(r, 'rmdir', p);
}

/**
 * rm(path, { recursive, force }) on the ring. Node first lstats the path
 * (force: a missing one is no error); a directory without `recursive` is
 * Node's ERR_FS_EISDIR, which this leaves to Node (returns false).
 */
export async function rmTree(ring: Ring, path: KernelPath, recursive: boolean, force: boolean): Promise<boolean> {
  let isDir: boolean;
  try {
    const st = await ring._statxBytes(path, AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, 'lstat', shown(path));
    isDir = statxType(st) === S_IFDIR;
  } catch (e) {
    if (force && errnoOf(e) === ENOENT) return true;
    throw e;
  }
  if (isDir && !recursive) return false;
  // Below this path's bytes, the native step follows no symlink (dir_unlink.h).
  const root = typeof path === 'string' ? Buffer.byteLength(path) : path.length;
  await rimraf(ring, path, isDir, root);
  return true;
}
