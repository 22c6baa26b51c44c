// mkdir -p and rm -r of kaio/fs/promises on io_uring: Node's own algorithms
// (node_file.cc MKDirpAsync, lib/internal/fs/rimraf.js), step for step, so
// that results, errors and the tree left behind are Node's; what changes is
// how the ops reach the kernel. mkdir -p sends the missing levels as one
// chain of mkdirat SQEs (IOSQE_IO_HARDLINK: in order, a failure does not cut
// the chain) instead of one thread-pool round trip per level. rm -r takes
// the path it was given on the ring (lstat, rmdir or unlink); below it, one
// native walk on libuv's pool (binding.rmChildren) removes the tree with
// every op relative to its parent directory's fd (openat O_NOFOLLOW, then
// getdents64 and unlinkat: no JavaScript, no path walk per entry, and no
// op that a level swapped for a symlink or renamed could lead outside the
// tree), skipping Node's lstat of every child (the listing's d_type says
// which entries are directories, as Node's Dirent does).
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
const EPERM = -E.EPERM;
const EISDIR = -E.EISDIR;
const ENOTEMPTY = -E.ENOTEMPTY;
const S_IFDIR = 0o040000;
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

/** A failed op's error, as Node's callback fs would give it. */
const fail = (errno: number, syscall: string, p: KernelPath): ErrnoError => systemError(errno, syscall, shown(p));

/**
 * Node's rimraf (retries off) of the path rm was given: removes p, whatever
 * it is; a missing entry is no error. `isDir`: what lstat said p is.
 */
async function rimraf(ring: Ring, p: KernelPath, isDir: boolean): Promise<void> {
  try {
    if (isDir) return await rmdirThenChildren(ring, p, undefined);
    const r = await ring._unlinkatLinked(p, 0, false);
    if (r === 0) return;
    if (r === EISDIR || r === EPERM) return await rmdirThenChildren(ring, p, fail(r, 'unlink', p));
    throw fail(r, 'unlink', p);
  } catch (e) {
    if ((e as ErrnoError).code === 'ENOENT') return;
    throw e;
  }
}

/** Node's _rmdir: rmdir(p); a directory that is not empty loses its children first. */
async function rmdirThenChildren(ring: Ring, p: KernelPath, originalErr: ErrnoError | undefined): Promise<void> {
  const r = await ring._unlinkatLinked(p, AT_REMOVEDIR, false);
  if (r === 0) return;
  if (r === ENOTEMPTY || r === EEXIST || r === EPERM) return rmChildren(ring, p);
  if (r === ENOTDIR) {
    if (originalErr !== undefined) throw originalErr;
    return;
  }
  throw fail(r, 'rmdir', p);
}

const SYSCALLS = ['rmdir', 'unlink', 'scandir'];
type WalkError = [number, number, Buffer];
const walkError = (e: WalkError): ErrnoError => fail(e[0], SYSCALLS[e[1]], e[2]);

/**
 * Node's _rmchildren of p, then its rmdir, natively on libuv's pool
 * (binding.rmChildrenBegin, native/core/dir_unlink.h), every op below p
 * relative to its parent directory's fd (openat O_NOFOLLOW | O_DIRECTORY,
 * then getdents64 and unlinkat), Node's steps and errors: a level swapped
 * for a symlink or renamed while it runs makes an op fail or go on in the
 * directory it opened, never reach outside the tree. p's subdirectories go
 * in parallel (one pool work each, each walking its subtree), as Node's
 * rimraf runs its children at once. The first failure rejects, once the
 * other entries are done (Node's go on after its rejection).
 */
async function rmChildren(_ring: Ring, p: KernelPath): Promise<void> {
  const r = await binding.rmChildrenBegin(typeof p === 'string' ? Buffer.from(p) : p);
  if (r === 0) return;
  if (typeof r[0] === 'number') throw walkError(r as WalkError);
  const [held, dirs, early] = r as [object, Buffer[], 0 | WalkError];
  let first: WalkError | undefined = early === 0 ? undefined : early;
  try {
    await Promise.all(dirs.map((name) => binding.rmSubtree(held, name).then((e) => {
      if (e !== 0) first ??= e;
    })));
  } finally {
    const e = await binding.rmChildrenEnd(held, first === undefined);
    if (e !== 0) first ??= e;
  }
  if (first !== undefined) throw walkError(first);
}

/** rmChildren for tests (the step after rmdir's ENOTEMPTY on the path rm was given): not part of the API. */
export const _rmChildren = rmChildren;

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
  await rimraf(ring, path, isDir);
  return true;
}
