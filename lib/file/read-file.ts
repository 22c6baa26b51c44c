// Module-level readFile, writeFile and appendFile, with node:fs/promises'
// arguments, options, results and errors.
//
// readFile of a path on io_uring: with KAIO_CACHED_READ=1, first, in the
// calling thread and only where nothing can wait for the disk, open + statx +
// read of a file in the page cache (readCached, below); otherwise, or when
// that cannot finish, the ring:
// openat and statx go out in one submission,
// then the read, sized from statx, and the close go out together in the next
// (the read is ahead of the close in the SQ and holds its own reference to
// the file, so the close cannot pull the file from under it). Two trips to
// the kernel for a file of any size up to 512 KiB, where node:fs makes four
// (open, fstat, read, close, each a thread-pool round trip). One linked
// submission (openat into a direct descriptor -> read -> close) was built and
// measured no faster here (0.70x at depth 32; without COOP_TASKRUN 1.01x,
// and 0.61x at depth 1; see BENCHMARKS.md): each link step runs as task
// work after io_uring_enter has
// returned and reaped, so its completions wait for the next event-loop turn,
// where the unlinked ops complete inside the enter.
import { STATX_BASIC_STATS } from '../abi';
import { RAW_RESULT } from '../slots';
import { AbortError, invalidArgType } from '../errors';
import type { Ring } from '../ring';
import type { KernelPath } from '../ring/args';
import { getOptions, openFlags, validatePath } from './args';
import { withCallerStack } from './errors';
import { checkedLength, viewBuffer, viewByteOffset } from '../validate';
import * as nodeFs from 'node:fs';
import * as os from 'node:os';
import { binding } from '../binding';
import { FileHandle, IO_MAX, READ_CHUNK, WRITE_CHUNK, aioFallback, writeAllAt, renameSyscall, fileTooLarge, readLoop, writeFileData, type FileIo, type WriteFileData } from './handle';
import { fileMode } from './args';
import { asRing, closeOnRing, defaultContext, openWith } from './open';
import { RESULT_MEMORY_FROM, RESULT_READ_STEP, resultBuffer } from './result-buffer';

export interface KaioReadFileOptions {
  encoding?: BufferEncoding | null;
  flag?: string | number;
  signal?: AbortSignal;
  /** kaio: the context to read through (default: defaultContext()). */
  context?: FileIo;
}

export interface KaioWriteFileOptions {
  encoding?: BufferEncoding | null;
  flag?: string | number;
  mode?: number | string;
  signal?: AbortSignal;
  flush?: boolean;
  /** kaio: the context to write through (default: defaultContext()). */
  context?: FileIo;
  /**
   * kaio, writeFile with a truncating flag ('w', 'w+'): open without O_TRUNC,
   * write the data from offset 0 over the old bytes, then cut the file to the
   * data's length (ftruncate). Faster over existing files on ext4 (no
   * auto_da_alloc flush at close), but readers may see old bytes after the
   * new ones until the cut, and a crash may leave old and new bytes mixed.
   * See the README. Default false (O_TRUNC, as node:fs).
   */
  inPlace?: boolean;
}

type PathOrHandle = nodeFs.PathLike | FileHandle;

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
}

const noop = (): void => undefined;

/** Reads a whole file: a Buffer, or a string with an encoding. */
export function readFile(path: PathOrHandle, options?: { encoding?: null; flag?: string | number; signal?: AbortSignal; context?: FileIo } | null): Promise<Buffer>;
export function readFile(path: PathOrHandle, options: { encoding: BufferEncoding; flag?: string | number; signal?: AbortSignal; context?: FileIo } | BufferEncoding): Promise<string>;
export function readFile(path: PathOrHandle, options?: KaioReadFileOptions | BufferEncoding | null): Promise<string | Buffer>;
export function readFile(path: PathOrHandle, options?: KaioReadFileOptions | BufferEncoding | null): Promise<string | Buffer> {
  // Not async itself (a bad argument rejects): on the ring, ringReadFile's
  // promise is the result, one async frame fewer per call.
  let o: KaioReadFileOptions;
  let flags: number;
  let p: KernelPath;
  let context: FileIo;
  try {
    o = getOptions(options, { flag: 'r' } as KaioReadFileOptions);
    if (path instanceof FileHandle) return path.readFile(o);
    flags = openFlags(o.flag || 'r');
    p = validatePath(path);
    checkAborted(o.signal);
    context = o.context ?? defaultContext();
  } catch (e) {
    return Promise.reject(e);
  }
  const encoding = o.encoding ?? undefined;
  const ring = flags === 0 ? readRing(context) : undefined;
  if (ring) return ringReadFile(ring, p, encoding, o.signal);
  return plainReadFileOf(context, p, flags, encoding, o.signal);
}

/** plainReadFile, its errors with the caller's stack. */
async function plainReadFileOf(io: FileIo, p: KernelPath, flags: number, encoding: BufferEncoding | undefined, signal: AbortSignal | undefined): Promise<string | Buffer> {
  try {
    return await plainReadFile(io, p, flags, encoding, signal);
  } catch (e) {
    throw withCallerStack(e);
  }
}

/** The last context found to have openat, statx, close and read (what a ring supports never changes). */
let lastReadRing: Ring | undefined;
function readRing(context: FileIo): Ring | undefined {
  if (context === lastReadRing && !lastReadRing.closed) return lastReadRing;
  const ring = asRing(context, 'OPENAT', 'STATX', 'CLOSE', 'READ');
  if (ring) lastReadRing = ring;
  return ring;
}

const WRITE_DEFAULTS: KaioWriteFileOptions = { encoding: 'utf8', mode: 0o666, flag: 'w', flush: false };
const APPEND_DEFAULTS: KaioWriteFileOptions = { encoding: 'utf8', mode: 0o666, flag: 'a' };

/** Writes data to a file (replacing it, with the default flag 'w'). */
export function writeFile(path: PathOrHandle, data: WriteFileData, options?: KaioWriteFileOptions | BufferEncoding | null): Promise<void> {
  // Not async itself: writeWith's promise is the result (one async frame
  // per call, not two); writeWith rejects for every bad argument.
  return writeWith(path, data, options, WRITE_DEFAULTS, 'w');
}

/** Appends data to a file (flag 'a' by default), creating it. */
export function appendFile(path: PathOrHandle, data: WriteFileData, options?: KaioWriteFileOptions | BufferEncoding | null): Promise<void> {
  return writeWith(path, data, options, APPEND_DEFAULTS, 'a');
}

const { O_TRUNC, O_APPEND, O_RDONLY, O_CREAT, O_EXCL } = nodeFs.constants;
const O_ACCMODE = 3;

/** What writeFile/appendFile of a path will do, every argument checked. */
interface WriteJob {
  o: KaioWriteFileOptions;
  bytes: ArrayBufferView | Iterable<unknown> | AsyncIterable<unknown>;
  p: KernelPath;
  mode: number;
  context: FileIo;
  inPlace: boolean;
  flush: boolean;
  openAs: number;
  /** One buffer on io_uring: the ring and the buffer's bytes (checked view). */
  ring?: Ring;
  data?: Uint8Array;
}

/**
 * writeFile/appendFile: the arguments checked in the calling turn (a bad one
 * rejects), then writeOnRing or writeThroughHandle, one async frame per call.
 */
function writeWith(path: PathOrHandle, data: WriteFileData, options: KaioWriteFileOptions | BufferEncoding | null | undefined, defaults: KaioWriteFileOptions, dfltFlag: string): Promise<void> {
  let job: WriteJob | Promise<void>;
  try {
    job = writeJob(path, data, options, defaults, dfltFlag);
  } catch (e) {
    return Promise.reject(e);
  }
  if (!('o' in job)) return job;
  const { ring, data: view } = job;
  if (!ring || !view) return writeThroughHandle(job);
  return writeOnRing(job, ring, view);
}

function writeJob(path: PathOrHandle, data: WriteFileData, options: KaioWriteFileOptions | BufferEncoding | null | undefined, defaults: KaioWriteFileOptions, dfltFlag: string): WriteJob | Promise<void> {
  const o = getOptions(options, defaults);
  const flag = o.flag || dfltFlag;
  const flush = o.flush ?? false;
  if (typeof flush !== 'boolean') throw invalidArgType('options.flush', 'of type boolean', flush);
  const inPlaceAsked = o.inPlace ?? false;
  if (typeof inPlaceAsked !== 'boolean') throw invalidArgType('options.inPlace', 'of type boolean', inPlaceAsked);
  const bytes = writeFileData(data, o.encoding);
  if (path instanceof FileHandle) return path.writeFile(bytes as WriteFileData, o);
  const flags = openFlags(flag);
  const p = validatePath(path);
  const mode = fileMode(o.mode, 'mode', 0o666);
  checkAborted(o.signal);
  const context = o.context ?? defaultContext();
  // In place: only for a flag that truncates, writes, and does not append.
  const inPlace = inPlaceAsked && (flags & O_TRUNC) !== 0 && (flags & O_APPEND) === 0 && (flags & O_ACCMODE) !== O_RDONLY;
  const openAs = inPlace ? flags & ~O_TRUNC : flags;
  const job: WriteJob = { o, bytes, p, mode, context, inPlace, flush, openAs };
  const ring = ArrayBuffer.isView(bytes) ? writeRing(context) : undefined;
  if (ring) {
    // The view's memory through the engine's getters (a subclass or an
    // own `buffer` property cannot redirect it), its length checked now.
    const view = bytes as ArrayBufferView;
    job.ring = ring;
    job.data = new Uint8Array(viewBuffer(view) as ArrayBuffer, viewByteOffset(view), checkedLength(view));
  }
  return job;
}

/**
 * One buffer on io_uring: the ring's openat, writes and close, no FileHandle
 * in between (what it adds, current-position order and a GC guard, a fd
 * nobody else sees does not need).
 */
async function writeOnRing(job: WriteJob, ring: Ring, data: Uint8Array): Promise<void> {
  if (job.inPlace && !job.flush && data.byteLength > 0 && data.byteLength <= WRITE_CHUNK) return replaceOnRing(job, ring, data);
  try {
    const opened = await ringOpen(ring, job.p, job.openAs, job.mode & 0o7777);
    const close = (): Promise<void> => closeOnRing(ring, opened);
    const signal = job.o.signal;
    await closeAfter(writeBody(job.context, opened, (cursor) => ringWriteAll(ring, opened, data, signal, cursor), () => ring.fsync(opened), job.inPlace, job.flush), close);
  } catch (e) {
    throw withCallerStack(e);
  }
}

/**
 * inPlace of one buffer of at most WRITE_CHUNK bytes, without flush (what a
 * service rewriting small files does): writeOnRing, writeBody and closeAfter
 * in one async frame, the same steps and results. The first write goes
 * straight to the ring; a short one, a pipe (ESPIPE) or an abort continue
 * in writeAllAt as on the general path.
 */
async function replaceOnRing(job: WriteJob, ring: Ring, data: Uint8Array): Promise<void> {
  let fd: number;
  try {
    fd = await ringOpen(ring, job.p, job.openAs, job.mode & 0o7777);
  } catch (e) {
    throw withCallerStack(e);
  }
  const { context } = job;
  const signal = job.o.signal;
  const seen = sizeSeen(context, fd);
  const cursor = { at: 0 };
  let failed = false;
  let error: unknown;
  try {
    try {
      checkAborted(signal);
      let n = -1;
      try {
        n = await ring.write(fd, data, 0);
      } catch (e) {
        if ((e as { errno?: number })?.errno !== ESPIPE) throw e;
      }
      if (n < 0) {
        await ringWriteAll(ring, fd, data, signal, cursor);
      } else {
        cursor.at = n;
        if (n < data.byteLength) await ringWriteAll(ring, fd, data.subarray(n), signal, cursor);
        else checkAborted(signal);
      }
    } catch (e) {
      // As writeBody: the file keeps the new bytes that reached it, not the old ones after them.
      const { key } = await seen;
      if (cursor.at >= 0) await shrinkTo(context, fd, cursor.at, key()).catch(noop);
      throw e;
    }
    const { size, key } = await seen;
    if (cursor.at >= 0 && size > cursor.at) await shrinkTo(context, fd, cursor.at, key());
  } catch (e) {
    failed = true;
    error = e;
  }
  if (failed) {
    // closeAfter's rule: both errors when the close fails too.
    let closeFailed = false;
    let closeError: unknown;
    await closeOnRing(ring, fd).catch((c: unknown) => {
      closeFailed = true;
      closeError = c;
    });
    throw withCallerStack(closeFailed ? bothFailed(error, closeError) : error);
  }
  try {
    await closeOnRing(ring, fd);
  } catch (e) {
    throw withCallerStack(e);
  }
}

/** Iterables, strings on AIO and the thread pool: through a FileHandle. */
async function writeThroughHandle(job: WriteJob): Promise<void> {
  try {
    const { o, bytes } = job;
    const handle = await openWith(job.context, job.p, job.openAs, job.mode, false);
    const work = writeBody(job.context, handle.fd, (cursor) => handle.writeAll(handle.fd, bytes, o.signal, o.encoding ?? undefined, cursor.at, cursor), () => handle.sync(), job.inPlace, job.flush);
    await closeAfter(work, () => handle.close());
  } catch (e) {
    throw withCallerStack(e);
  }
}

/** The last context found to have openat, write and close (what a ring supports never changes). */
let lastWriteRing: Ring | undefined;
function writeRing(context: FileIo): Ring | undefined {
  if (context === lastWriteRing && !lastWriteRing.closed) return lastWriteRing;
  const ring = asRing(context, 'OPENAT', 'WRITE', 'CLOSE');
  if (ring) lastWriteRing = ring;
  return ring;
}

/**
 * openat on the ring for writeFile/appendFile. io_uring runs an openat with
 * O_CREAT or O_TRUNC on an io-wq worker thread, never inline (Linux 6.18,
 * io_openat2); without them, a path in the dentry cache opens inline, in the
 * submitting call. So a file that exists (the common case of 'a', and of 'w'
 * with inPlace) is first opened without O_CREAT, and only an ENOENT tries
 * again with it: O_CREAT on a file that exists changes nothing, and a file
 * removed in between is created, as one O_CREAT open a moment later would.
 * O_EXCL ('wx', 'ax') keeps its one exclusive open, and O_TRUNC (plain 'w')
 * its one open: it goes to io-wq anyway. A FIFO without a reader (ENXIO
 * inline) is opened again the same way, to wait for one as open(2) does.
 */
async function ringOpen(ring: Ring, p: KernelPath, flags: number, mode: number): Promise<number> {
  if ((flags & O_CREAT) === 0 || (flags & (O_EXCL | O_TRUNC)) !== 0) return ring.openat(p, flags, mode);
  let fd: number;
  try {
    fd = await ring.openat(p, flags & ~O_CREAT, mode);
  } catch (e) {
    // ENXIO: io_uring's inline try opens with O_NONBLOCK, and a FIFO with no
    // reader yet refuses a non-blocking writer (fifo(7)) where open(2)
    // waits for one, as node:fs does. The O_CREAT open runs on io-wq,
    // blocking, and waits likewise (a socket or absent device: ENXIO again).
    const code = (e as { code?: string })?.code;
    if (code !== 'ENOENT' && code !== 'ENXIO') throw e;
    return ring.openat(p, flags, mode);
  }
  // fs.protected_regular / protected_fifos: an O_CREAT open of a file
  // someone else owns in a sticky world-writable directory (/tmp) is
  // refused, so that a file planted there is not written into. Without
  // O_CREAT the kernel does not check: where the protection is on, a file
  // that is not ours is opened again with O_CREAT, for the kernel to decide.
  if (createProtected()) {
    const mine = await ring.statx('', { dirfd: fd, flags: AT_EMPTY_PATH, mask: STATX_BASIC_STATS }).then(
      (st) => st.uid === process.geteuid?.(),
      () => false,
    );
    if (!mine) {
      await closeOnRing(ring, fd).catch(noop);
      return ring.openat(p, flags, mode);
    }
  }
  return fd;
}

let protectedCreate: boolean | undefined;

/** Whether fs.protected_regular or fs.protected_fifos is on (read once; unreadable counts as on). */
function createProtected(): boolean {
  if (protectedCreate === undefined) {
    try {
      protectedCreate = ['protected_regular', 'protected_fifos'].some((n) => nodeFs.readFileSync(`/proc/sys/fs/${n}`, 'utf8').trim() !== '0');
    } catch {
      protectedCreate = true;
    }
  }
  return protectedCreate;
}

/**
 * What writeFile and appendFile do on the fd they opened: write all the data
 * (writeAll moves the cursor past what reached the file), then for inPlace
 * cut what the old file had beyond it, then sync for `flush`.
 *
 * Offsets are named from 0, also in append mode: a fresh fd is at offset 0,
 * and O_APPEND puts every write at the end of a regular file whatever its
 * offset (pwrite(2)); a device that ignores O_APPEND is written from 0, where
 * write(2) on the fresh fd would write. So no current-position bookkeeping
 * (lseek, fcntl, fstat) per appendFile. A pipe refuses offsets (ESPIPE):
 * writeAll then writes it in order (cursor.at -1).
 */
async function writeBody(context: FileIo, fd: number, writeAll: (cursor: { at: number }) => Promise<void>, sync: () => Promise<void>, inPlace: boolean, flush: boolean): Promise<void> {
  const cursor = { at: 0 };
  if (!inPlace) {
    await writeAll(cursor);
  } else {
    const seen = sizeSeen(context, fd);
    try {
      await writeAll(cursor);
    } catch (e) {
      // The file keeps what reached it, as with O_TRUNC: the new bytes up
      // to the failure, not the old bytes after them.
      const { key } = await seen;
      if (cursor.at >= 0) await shrinkTo(context, fd, cursor.at, key()).catch(noop);
      throw e;
    }
    // Our writes only ever extend the file up to cursor.at: a size seen at
    // any time before the cut that is not beyond it means the old file was
    // not longer, and there is nothing to cut.
    const { size, key } = await seen;
    if (cursor.at >= 0 && size > cursor.at) await shrinkTo(context, fd, cursor.at, key());
  }
  if (flush) await sync();
}

/** The FileHandle's write loop for one buffer, straight on the ring (see FileHandle #writeChunks). */
function ringWriteAll(ring: Ring, fd: number, bytes: Uint8Array, signal: AbortSignal | undefined, cursor: { at: number }): Promise<void> {
  checkAborted(signal);
  return writeAllAt((chunk, at) => ring.write(fd, chunk, at), bytes, signal, cursor);
}

const ftruncate = (fd: number, length: number): Promise<void> => fsCall<void>((done) => nodeFs.ftruncate(fd, length, done));

/** What sizeSeen tells: the file's size, and (lazily, for shrinkTo) which inode it is. */
interface SizeSeen {
  size: number;
  /** The inode's key for shrinkTo (device and inode number), '' where unknown. */
  key(): string;
}

const unknownSize: SizeSeen = { size: Infinity, key: () => '' };
const STATX_TYPE = 0x1;
const STATX_INO = 0x100;
const STATX_SIZE = 0x200;
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

/**
 * The size of the open file, from statx of its fd on the ring (in the same
 * submission as the first write, no thread-pool trip), or Infinity where it
 * is unknown (no ring, statx failed, the filesystem gave no size): then
 * inPlace always cuts. A file that is not regular gives -1: it ignores
 * O_TRUNC, so inPlace does not cut it. Only the type, size and inode are
 * asked for and read out of the kernel's struct statx (no Stats object, no
 * bigints: this runs once per inPlace writeFile).
 */
function sizeSeen(context: FileIo, fd: number): Promise<SizeSeen> {
  const ring = asRing(context, 'STATX');
  if (!ring) return Promise.resolve(unknownSize);
  return ring._statxBytes('', AT_EMPTY_PATH, STATX_TYPE | STATX_SIZE | STATX_INO, RAW_RESULT, undefined, fd).then(decodeSize, () => unknownSize);
}

function decodeSize(out: Uint8Array | number): SizeSeen {
  if (typeof out === 'number') return unknownSize;
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  const got = v.getUint32(0, true);
  if ((got & (STATX_TYPE | STATX_SIZE)) !== (STATX_TYPE | STATX_SIZE)) return unknownSize;
  const size = (v.getUint16(28, true) & S_IFMT) !== S_IFREG ? -1 : v.getUint32(40, true) + v.getUint32(44, true) * 2 ** 32;
  // stx_ino at 32, stx_dev_major/minor at 136/140.
  return { size, key: () => ((got & STATX_INO) === 0 ? '' : `${v.getUint32(136, true)}:${v.getUint32(140, true)}:${v.getUint32(32, true)}:${v.getUint32(36, true)}`) };
}

/** Each inode's last shrinkTo, for the next one to wait on (deleted when the last is done). */
const shrinking = new Map<string, Promise<void>>();

/**
 * inPlace's cut: ftruncate(length), but only while the file is longer than
 * `length`, checked just before, and one cut of an inode at a time in this
 * thread. ftruncate also lengthens a file: two writeFiles of one file at once
 * (A writes 10,000 bytes, B writes 1,000 and cuts to 1,000, then A, which
 * saw the old file longer, cuts "to" 10,000) would otherwise leave bytes
 * 1,000-9,999 as zeros, which neither wrote (test 25). Serialised per inode
 * (`key`, '' for unknown), a check and its cut have no other cut of this
 * thread between them, so a cut here never lengthens the file. (Another
 * process cutting the same file between the check and the cut still can:
 * inPlace is for files one writer owns.)
 */
function shrinkTo(context: FileIo, fd: number, length: number, key: string): Promise<void> {
  const before = shrinking.get(key);
  const mine = before ? before.then(() => shrinkNow(context, fd, length)) : shrinkNow(context, fd, length);
  const settled = mine.then(noop, noop);
  shrinking.set(key, settled);
  void settled.then(() => {
    if (shrinking.get(key) === settled) shrinking.delete(key);
  });
  return mine;
}

async function shrinkNow(context: FileIo, fd: number, length: number): Promise<void> {
  let { size } = await sizeSeen(context, fd);
  if (size === Infinity) {
    // No statx on the ring: fstat on the thread pool (a failure: cut, as before).
    size = await fsCall<nodeFs.Stats>((done) => nodeFs.fstat(fd, done)).then((st) => (st.isFile() ? st.size : -1), () => Infinity);
  }
  if (size > length) await cutTo(fd, length);
}

/**
 * inPlace's ftruncate to the data's length. A FIFO, tty or device refuses it
 * (EINVAL) where it ignores O_TRUNC: there, as with O_TRUNC, nothing to cut.
 */
async function cutTo(fd: number, length: number): Promise<void> {
  try {
    await ftruncate(fd, length);
  } catch (e) {
    if ((e as { code?: string })?.code !== 'EINVAL') throw e;
    if ((await fsCall<nodeFs.Stats>((done) => nodeFs.fstat(fd, done))).isFile()) throw e;
  }
}

/**
 * Node's handleFdClose, for writeFile/appendFile and readFile of a path:
 * close's error surfaces when the op succeeded; when both fail, an
 * AggregateError holds the op's error, then close's, with the op's message
 * and code (Node's aggregateTwoErrors).
 */
export async function closeAfter<T>(op: Promise<T>, close: () => Promise<void>): Promise<T> {
  let result: T;
  try {
    result = await op;
  } catch (e) {
    let closeFailed = false;
    let closeError: unknown;
    await close().catch((c: unknown) => {
      closeFailed = true;
      closeError = c;
    });
    throw closeFailed ? bothFailed(e, closeError) : e;
  }
  await close();
  return result;
}

export function bothFailed(opError: unknown, closeError: unknown): unknown {
  if (!opError || !closeError || opError === closeError) return closeError || opError;
  const errors = (opError as { errors?: unknown }).errors;
  if (Array.isArray(errors)) {
    errors.push(closeError);
    return opError;
  }
  const err = new AggregateError([opError, closeError], (opError as Error).message) as AggregateError & { code?: unknown };
  err.code = (opError as { code?: unknown }).code;
  return err;
}

const O_RDONLY_CLOEXEC = 0;
const { ENOSYS, EINVAL, EPERM, ESPIPE } = os.constants.errno;

const AT_EMPTY_PATH = 0x1000;
/** Fast-path attempts before readFile falls back to sizing the file from its fd. */
const HINT_TRIES = 2;

/**
 * A readFile read of at least ASYNC_READ_FROM bytes goes to an io-wq worker
 * (IOSQE_ASYNC, see Ring#_readFileRead) while at least ASYNC_READ_DEPTH
 * readFiles are in flight in this thread. Inline in io_uring_enter, every
 * cached read's copy runs on the thread that submits, the event loop's, so
 * 64 readFiles of 64 KiB used ~1.2 of 2 CPUs (BENCHMARKS.md, peers); on
 * workers the copies run beside the JavaScript. Below these, a worker's
 * wake-up costs more than the copy it moves: a lone 64 KiB readFile took
 * 2.3x longer async, 64 of 16 KiB gained little (BENCHMARKS.md, "readFile
 * of 64 KiB files"). KAIO_READ_ASYNC=1 sends every such read to a worker,
 * 0 none.
 */
const ASYNC_READ_FROM = 32 * 1024;
const ASYNC_READ_DEPTH = 32;
const asyncReads: 'auto' | 'always' | 'never' = process.env.KAIO_READ_ASYNC === '1' ? 'always' : process.env.KAIO_READ_ASYNC === '0' ? 'never' : 'auto';
/** readFiles of a path on a ring, started and not settled. */
let readFilesInFlight = 0;

/**
 * readFile's read of a whole file of `size` bytes (`buffer` is size + 1)
 * from offset 0, async as said above. An async read is hard-linked to the op
 * started next, which must be its close (see Ring#_readFileRead).
 */
function wholeRead(ring: Ring, fd: number, buffer: Buffer, size: number): Promise<number> {
  const async = asyncReads === 'always' || (asyncReads === 'auto' && size >= ASYNC_READ_FROM && readFilesInFlight >= ASYNC_READ_DEPTH);
  return ring._readFileRead(fd, buffer, 0, async);
}

/**
 * readFile of a path on the ring, counted in readFilesInFlight while it runs
 * (in this frame: no reaction and no async frame of its own); its errors get
 * the caller's stack.
 */
async function ringReadFile(ring: Ring, p: KernelPath, encoding: BufferEncoding | undefined, signal: AbortSignal | undefined): Promise<string | Buffer> {
  readFilesInFlight++;
  try {
    // (The inline try takes text: a Buffer path goes to the ring as its bytes.)
    if (cachedReads && typeof p === 'string') {
      const r = binding.readCached(p, READ_CHUNK);
      if (typeof r === 'number') {
        // Nothing open. Without openat2 or RESOLVE_CACHED (before 5.12), or
        // where seccomp refuses it, never again; every other failure goes to
        // the ring, which makes the error readFile reports (EAGAIN: the path
        // was not all in the dentry cache).
        if (r === -ENOSYS || r === -EINVAL || r === -EPERM) cachedReads = false;
      } else if (!Array.isArray(r) || typeof r[0] !== 'number') {
        return await cachedResult(ring, r as Buffer | [Buffer, number], encoding);
      } else {
        // Opened, not read: the ring reads and closes that fd.
        const [fd, size] = r as [number, number];
        if (signal?.aborted) return await closeAfter(Promise.reject(new AbortError(undefined, { cause: signal.reason })), () => closeOnRing(ring, fd));
        if (size <= 0 || size > READ_CHUNK) return await readAndClose(ring, fd, encoding, signal);
        const data = await readSizedAndClose(ring, fd, size, encoding);
        if (data !== undefined) return data;
        // It grew or shrank since its statx: from the start, as the hinted path does.
      }
    }
    for (let attempt = 0; attempt < HINT_TRIES; attempt++) {
      const data = await ringReadFileHinted(ring, p, encoding, signal);
      if (data !== undefined) return data;
    }
    return await ringReadFileSized(ring, p, encoding, signal);
  } catch (e) {
    throw withCallerStack(e);
  } finally {
    readFilesInFlight--;
  }
}

/** statx out memory of hinted paths that completed, for the next ones (a 256-byte typed array is its own malloc'd ArrayBuffer). */
const statxOut: Uint8Array[] = [];
const STATX_OUT_KEPT = 256;
const STATX_BUF_SIZE = 256;

/** STATX_TYPE | STATX_SIZE: what the hinted path needs of its statx. */
const STATX_TYPE_SIZE = 0x1 | 0x200;

/**
 * The size in a struct statx's bytes (stx_size, at 40) of a regular file
 * (stx_mode, at 28), else 0; a size of 4 GiB and more as Infinity (the
 * hinted path sends anything above READ_CHUNK to readAndClose anyway).
 */
function regularSize(st: Uint8Array): number {
  if (((st[28] | (st[29] << 8)) & 0o170000) !== 0o100000) return 0;
  if ((st[44] | st[45] | st[46] | st[47]) !== 0) return Infinity;
  return (st[40] | (st[41] << 8) | (st[42] << 16) | (st[43] << 24)) >>> 0;
}

/**
 * The fast path: openat and statx of the path in one submission, then the
 * read and the close in the next. statx's size is only a hint: the path may
 * name another file by the time openat runs (a rename-replace), and the
 * bytes must all come from the file that was opened. So the read asks for
 * one byte more than the hint, and the result is taken only when it is
 * exactly the hint: the fd's file has that many bytes and ends there (a
 * buffered read of a regular file comes back short only at its end).
 * Anything else (the file grew, shrank or was replaced) gives undefined and
 * the caller starts again. Files larger than one read chunk, or not regular,
 * go to the path that sizes the file from its fd. One async frame: the
 * close's error counts as Node's handleFdClose counts it (closeAfter's
 * rules, written out here).
 */
async function ringReadFileHinted(ring: Ring, p: KernelPath, encoding: BufferEncoding | undefined, signal: AbortSignal | undefined): Promise<string | Buffer | undefined> {
  // statx's kernel errors resolve (-errno); it rejects only when the ring refuses it.
  const stOut = statxOut.pop() ?? new Uint8Array(STATX_BUF_SIZE);
  const [opened, statted] = ring._openStatx(p, STATX_TYPE_SIZE, stOut);
  let fd: number;
  try {
    fd = await opened;
  } catch (e) {
    statted.catch(noop);
    throw e;
  }
  let hint = 0;
  try {
    const st = await statted;
    // statx failed where openat did not (a race with rename): size it from the fd
    if (typeof st !== 'number') {
      hint = regularSize(st);
      // The kernel is done with it: the next hinted path's statx writes it.
      if (statxOut.length < STATX_OUT_KEPT) statxOut.push(st);
    }
  } catch {
    // refused by the ring: readAndClose reports what the ring says, and closes
  }
  if (hint === 0 || hint > READ_CHUNK) return readAndClose(ring, fd, encoding, signal);
  if (signal?.aborted) return closeAfter(Promise.reject(new AbortError(undefined, { cause: signal.reason })), () => closeOnRing(ring, fd));
  // The read and the close in one submission, the read first (inline, it
  // takes its own reference to the file before the close runs; sent to
  // io-wq, it is hard-linked to the close, see wholeRead).
  const buffer = resultBuffer(hint + 1);
  let n: number;
  let closing: Promise<void> | undefined;
  try {
    const read = wholeRead(ring, fd, buffer, hint);
    closing = closeOnRing(ring, fd);
    closing.catch(noop);
    n = await read;
  } catch (e) {
    let closeFailed = false;
    let closeError: unknown;
    await (closing ?? closeOnRing(ring, fd)).catch((c: unknown) => {
      closeFailed = true;
      closeError = c;
    });
    throw closeFailed ? bothFailed(e, closeError) : e;
  }
  await closing;
  if (n !== hint) return undefined;
  const out = buffer.subarray(0, n);
  return encoding ? out.toString(encoding) : out;
}

/** The sure path: openat, then statx of the fd it gave, then Node's read loop. */
async function ringReadFileSized(ring: Ring, p: KernelPath, encoding: BufferEncoding | undefined, signal: AbortSignal | undefined): Promise<string | Buffer> {
  return readAndClose(ring, await ring.openat(p, O_RDONLY_CLOEXEC), encoding, signal);
}

/** readOpened on the ring, then the close, whose error counts as Node's handleFdClose counts it (closeAfter). */
function readAndClose(ring: Ring, fd: number, encoding: BufferEncoding | undefined, signal: AbortSignal | undefined): Promise<string | Buffer> {
  return closeAfter(readOpened(ring, fd, encoding, signal), () => closeOnRing(ring, fd));
}

/**
 * The hinted path's second trip for an fd opened inline: the read of size + 1
 * and the close in one submission (see ringReadFileHinted); undefined when the
 * file no longer has `size` bytes.
 */
function readSizedAndClose(ring: Ring, fd: number, size: number, encoding: BufferEncoding | undefined): Promise<string | Buffer | undefined> {
  const buffer = resultBuffer(size + 1);
  const read = wholeRead(ring, fd, buffer, size);
  const closing = closeOnRing(ring, fd);
  closing.catch(noop);
  const data = read.then((n) => {
    if (n !== size) return undefined;
    const out = buffer.subarray(0, n);
    return encoding ? out.toString(encoding) : out;
  });
  return closeAfter(data, () => closing);
}

/**
 * Whether readFile tries binding.readCached first (native/core/cached_read.h):
 * openat2 with RESOLVE_CACHED, statx of the fd, and a preadv2 with
 * RWF_NOWAIT of its size, in the calling thread. These are the steps
 * io_uring itself takes inline, in the submitting io_uring_enter, before it
 * hands an op to an io-wq worker: nothing here waits for the disk (a path
 * not in the dentry cache or a page not in the page cache says EAGAIN, and
 * the ring takes over). A file in the page cache then costs no trip through
 * the ring (and its result settles in the next turn, see cachedResult).
 *
 * Off unless KAIO_CACHED_READ=1. Measured in one process, alternating with
 * the ring path every 200 ms (BENCHMARKS.md, "readFile of 64 KiB files"):
 * the inline try made fewer files per second and used more CPU per file
 * at every size tried (4, 16, 32 and 64 KiB) and depth (1 and 64): its six
 * system calls per file, one of them an open through /proc/self/fd, cost
 * more than the ring's share of an io_uring_enter, and its copy runs on the
 * event loop's thread where the ring's can go to a worker (wholeRead).
 */
let cachedReads: boolean = process.env.KAIO_CACHED_READ === '1';

/** Turns the inline try on or off in this thread (tests); returns what it was. Not part of the API. */
export function _setCachedReads(on: boolean): boolean {
  const was = cachedReads;
  cachedReads = on;
  return was;
}

let waiting: (() => void)[] = [];
const wakeAll = (): void => {
  const now = waiting;
  waiting = [];
  for (const wake of now) wake();
};
/** Resolves in the check phase of the event loop's current or next turn (one setImmediate for every caller until then). */
function nextTurn(): Promise<void> {
  return new Promise((resolve) => {
    if (waiting.push(resolve) === 1) setImmediate(wakeAll);
  });
}

/**
 * The data of a whole-file inline read; its close on the ring when native
 * left it open (see readCached). Delivered no earlier than the event loop's
 * next turn, as from the ring: `while (!stop) await readFile(p)` must let
 * timers and I/O callbacks run (settled in the same turn, such a loop would
 * starve them). The results of one turn share one setImmediate.
 */
async function cachedResult(ring: Ring, r: Buffer | [Buffer, number], encoding: BufferEncoding | undefined): Promise<string | Buffer> {
  let buffer: Buffer;
  if (Array.isArray(r)) {
    buffer = r[0];
    await closeOnRing(ring, r[1]);
  } else {
    buffer = r;
    await nextTurn();
  }
  return encoding ? buffer.toString(encoding) : buffer;
}

/** Reads an open fd to its end, sized by statx of that fd (not of any path). */
async function readOpened(ring: Ring, fd: number, encoding: BufferEncoding | undefined, signal: AbortSignal | undefined): Promise<string | Buffer> {
  let size = 0;
  try {
    const st = await ring.statx('', { dirfd: fd, flags: AT_EMPTY_PATH, mask: STATX_BASIC_STATS });
    size = st.isFile() ? Number(st.size) : 0;
  } catch (e) {
    throw renameSyscall(e, 'statx', 'fstat');
  }
  if (size > IO_MAX) throw fileTooLarge(size);
  checkAborted(signal);
  // On the ring, a buffer of huge pages is read a huge page per trip.
  const step = size >= RESULT_MEMORY_FROM ? RESULT_READ_STEP : READ_CHUNK;
  return readLoop((view, at) => ring.read(fd, view, at), size, encoding, signal, 0, step);
}

function fsCall<T>(fn: (done: (err: NodeJS.ErrnoException | null, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));
}

/**
 * How plainReadFile reads: at offsets for a file that has them; a pipe,
 * FIFO, socket or tty (pread: ESPIPE) in order at its current position, as
 * Node does (AIO has no such op: node:fs reads those).
 */
function plainReader(io: FileIo, fd: number, st: nodeFs.Stats): (view: Uint8Array, at: number) => Promise<number> {
  const aio = io.backend === 'aio';
  if (!st.isFile() && !st.isBlockDevice()) {
    if (aio) return (view) => fsCall<number>((done) => nodeFs.read(fd, view, 0, view.byteLength, null, done));
    return (view) => io.read(fd, view, -1);
  }
  if (aio) return (view, at) => io.read(fd, view, at).catch((e) => aioFallback(e, fd, view, at, false));
  return (view, at) => io.read(fd, view, at);
}

/**
 * readFile of a path on AIO or the thread pool: open, fstat and close on
 * node:fs (neither backend has them), the reads through the context at
 * offsets from 0 (a fresh fd's position), no FileHandle in between.
 */
async function plainReadFile(io: FileIo, p: KernelPath, flags: number, encoding: BufferEncoding | undefined, signal: AbortSignal | undefined): Promise<string | Buffer> {
  const fd = await fsCall<number>((done) => nodeFs.open(p, flags, 0o666, done));
  const body = async (): Promise<string | Buffer> => {
    const st = await fsCall<nodeFs.Stats>((done) => nodeFs.fstat(fd, done));
    const size = st.isFile() ? st.size : 0;
    if (size > IO_MAX) throw fileTooLarge(size);
    return readLoop(plainReader(io, fd, st), size, encoding, signal, 0);
  };
  return closeAfter(body(), () => fsCall<void>((done) => nodeFs.close(fd, done)));
}
