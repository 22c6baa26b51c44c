// copyFile of kaio/fs/promises on io_uring: libuv's uv_fs_copyfile step for
// step (open the source, its mode and size, open the destination with that
// mode, O_EXCL for COPYFILE_EXCL; unless exclusive: the same file is left
// alone, an existing one truncated; the mode set with fchmod; the size of
// the source copied; on any failure the destination is removed), with each
// step an io_uring op: openat, statx, ftruncate (6.9), the data (from
// 256 KiB: splice through a pipe, file -> pipe -> file, so the bytes stay in
// the kernel; below, or where the file system refuses splice: read and
// write pairs), close, unlinkat. fchmod has no io_uring op: it goes to node:fs when the
// destination's mode is not already the source's. Every error is Node's:
// "copyfile 'src' -> 'dest'" with code, errno, path and dest.
import * as fs from 'node:fs';
import { constants } from 'node:os';
import { systemError, type ErrnoError } from '../errors';
import { binding } from '../binding';
import type { Ring } from '../ring';
import { STATX_BASIC_STATS } from '../abi';
import { statxPerm } from './stats';
import { closeOnRing } from '../file/open';

const { errno: E } = constants;
const EACCES = -E.EACCES;
const AT_EMPTY_PATH = 0x1000;
const O_RDONLY = 0;
const O_WRONLY = 1;
const O_CREAT = 0o100;
const O_EXCL = 0o200;
/** Bytes per read and write of a large file (two buffers in flight at most). */
const CHUNK = 1 << 20;

type KernelPath = string | Buffer;

/** What copyFile needs of a struct statx. */
interface Meta {
  perm: number;
  uid: number;
  size: number;
  dev: bigint;
  ino: bigint;
}

function metaOf(buf: Uint8Array): Meta {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  return {
    perm: statxPerm(buf),
    uid: v.getUint32(20, true),
    size: Number(v.getBigUint64(40, true)),
    dev: (BigInt(v.getUint32(136, true)) << 32n) | BigInt(v.getUint32(140, true)),
    ino: v.getBigUint64(32, true),
  };
}

function errnoOf(e: unknown): number {
  const errno = (e as ErrnoError | undefined)?.errno;
  if (typeof errno !== 'number') throw e;
  return errno;
}

const fstat = (ring: Ring, fd: number): Promise<Meta> =>
  ring._statxBytes('', AT_EMPTY_PATH, STATX_BASIC_STATS, 'fstat', undefined, fd).then(metaOf);

/** fchmod(2) through node:fs (io_uring has no op for it). */
const fchmod = (fd: number, mode: number): Promise<number> =>
  new Promise((resolve) => fs.fchmod(fd, mode, (e) => resolve(e ? (e as ErrnoError).errno : 0)));

/** An op's bytes, or its error (never a rejection: a read may be left in flight when a write fails). */
const settle = (p: Promise<number>): Promise<number | Error> => p.then((n) => n, (e: unknown) => e as Error);
const failure = (r: Error): number => errnoOf(r);

/** Copies `size` bytes from the start of src to dest: 0, or -errno. */
async function copyData(ring: Ring, src: number, dest: number, size: number): Promise<number> {
  if (size === 0) return 0;
  let cur = Buffer.allocUnsafe(Math.min(size, CHUNK));
  let spare = size > CHUNK ? Buffer.allocUnsafe(CHUNK) : undefined;
  let at = 0;
  let read = settle(ring.read(src, cur, 0));
  while (at < size) {
    const n = await read;
    if (typeof n !== 'number') return failure(n);
    // The source ended early (it shrank): what was there is copied, as libuv's loop ends.
    if (n === 0) return 0;
    const end = at + n;
    // With two buffers, the next read runs while this chunk is written.
    if (end < size && spare !== undefined) read = settle(ring.read(src, spare.subarray(0, Math.min(CHUNK, size - end)), end));
    for (let done = 0; done < n;) {
      const w = await settle(ring.write(dest, cur.subarray(done, n), at + done));
      if (typeof w !== 'number') return failure(w);
      done += w;
    }
    at = end;
    if (spare !== undefined) [cur, spare] = [spare, cur];
    else if (at < size) read = settle(ring.read(src, cur.subarray(0, size - at), at));
  }
  return 0;
}

/** Files from this size up are copied by splice through a pipe (below it, one read and one write cost less). */
export const SPLICE_MIN = 256 << 10;
/** The pipe's size asked for (the kernel may give less: /proc/sys/fs/pipe-max-size). */
const PIPE_SIZE = 1 << 20;
const EINVAL = -E.EINVAL;
const ECANCELED = -E.ECANCELED;

/**
 * Copies `size` bytes from the start of src to dest inside the kernel:
 * IORING_OP_SPLICE from the file into a pipe (the page cache's pages, not
 * copied), then from the pipe into dest. 0, -errno, or 1 when the first
 * splice is refused with EINVAL (a file system without splice): nothing was
 * written, copy with read and write.
 */
async function spliceData(ring: Ring, src: number, dest: number, size: number): Promise<number> {
  let pipe: [number, number, number];
  try {
    pipe = binding.pipe(PIPE_SIZE);
  } catch (e) {
    return errnoOf(e);
  }
  const [r, w, cap] = pipe;
  let result = 0;
  try {
    for (let at = 0; at < size;) {
      // file -> pipe linked to pipe -> file: one submission, and the kernel
      // runs the second right after the first moved the whole chunk.
      const want = Math.min(cap, size - at);
      const inP = settle(ring._spliceLinked(src, at, w, -1, want));
      const outP = settle(ring.splice(r, -1, dest, at, want));
      const n = await inP;
      const out = await outP;
      if (typeof n !== 'number') {
        result = failure(n);
        if (result === EINVAL && at === 0) result = 1;
        break;
      }
      // The source ended early (it shrank): what was there is copied, as libuv's loop ends.
      if (n === 0) break;
      let done = 0;
      if (typeof out === 'number') done = out;
      // A short first splice cancels the second (ECANCELED): the pipe still holds the n bytes.
      else if (n === want || failure(out) !== ECANCELED) return (result = failure(out));
      for (; done < n;) {
        const m = await settle(ring.splice(r, -1, dest, at + done, n - done));
        if (typeof m !== 'number') return (result = failure(m));
        // A pipe holding n - done bytes gives at least one: 0 would be a kernel fault.
        if (m === 0) return (result = -E.EIO);
        done += m;
      }
      at += n;
    }
  } finally {
    await closeOnRing(ring, w).catch(() => undefined);
    await closeOnRing(ring, r).catch(() => undefined);
  }
  return result;
}

/** KAIO_COPY_SPLICE=0 copies with read and write whatever the size (bench/peers.js compares the two). */
const SPLICE_ON = process.env.KAIO_COPY_SPLICE !== '0';

/** Copies `size` bytes: by splice when the ring has it and the file is large enough, else read/write. */
async function copyBytes(ring: Ring, src: number, dest: number, size: number): Promise<number> {
  if (SPLICE_ON && size >= SPLICE_MIN && ring.supports('SPLICE')) {
    const r = await spliceData(ring, src, dest, size);
    if (r !== 1) return r;
  }
  return copyData(ring, src, dest, size);
}

/**
 * copyFile(src, dest[, COPYFILE_EXCL]) on the ring. `src`/`dest` are the
 * paths as given (their text goes into errors).
 */
export async function copyFileRing(ring: Ring, src: KernelPath, dest: KernelPath, excl: boolean): Promise<void> {
  const error = (errno: number): ErrnoError =>
    systemError(errno, 'copyfile', typeof src === 'string' ? src : src.toString(), undefined, typeof dest === 'string' ? dest : dest.toString());
  let srcFd: number;
  try {
    srcFd = await ring.openat(src, O_RDONLY);
  } catch (e) {
    throw error(errnoOf(e));
  }
  let destFd = -1;
  let result = 0;
  /** A failure that is no kernel error (the ring closed under the copy: ERR_KAIO_CLOSED): thrown after the cleanup. */
  let thrown: unknown;
  try {
    const from = await fstat(ring, srcFd);
    destFd = await ring.openat(dest, O_WRONLY | O_CREAT | (excl ? O_EXCL : 0), from.perm);
    let to: Meta | undefined;
    let same = false;
    if (!excl) {
      to = await fstat(ring, destFd);
      same = to.dev === from.dev && to.ino === from.ino;
      if (!same) {
        const t = await ring.ftruncate(destFd, 0).then(() => 0, errnoOf);
        // As libuv: a filesystem that refuses to truncate a new, empty file it
        // made read-only (ceph-fuse) is no failure.
        if (t !== 0 && (t !== EACCES || to.size > 0)) result = t;
      }
    }
    if (!same && result === 0) {
      // fchmod to the source's mode, skipped where it would change nothing:
      // the destination already has that mode, holds no set-id bits to lose,
      // and belongs to this user (so fchmod could not fail either).
      const euid = process.geteuid?.() ?? -1;
      const have = to ? to.perm : from.perm & ~process.umask();
      const owner = to ? to.uid === euid || euid === 0 : true;
      if (have !== from.perm || (from.perm & 0o7000) !== 0 || !owner) result = await fchmod(destFd, from.perm);
      if (result === 0) result = await copyBytes(ring, srcFd, destFd, from.size);
    }
  } catch (e) {
    if (typeof (e as ErrnoError | undefined)?.errno === 'number') result = (e as ErrnoError).errno;
    else {
      thrown = e;
      result = -E.EIO;
    }
  }
  if (destFd >= 0) {
    const c = await closeOnRing(ring, destFd).then(() => 0, errnoOf);
    if (result === 0) result = c;
    // As libuv: a failed copy leaves no destination behind (the unlink's own result is ignored).
    if (result !== 0) await (ring.closed ? fs.promises.unlink(dest) : ring.unlinkat(dest)).catch(() => undefined);
  }
  const c = await closeOnRing(ring, srcFd).then(() => 0, errnoOf);
  if (result === 0) result = c;
  if (thrown !== undefined) throw thrown;
  if (result !== 0) throw error(result);
}
