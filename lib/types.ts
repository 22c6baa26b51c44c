// Types shared across the layers, and nothing else: the IoContext interface
// every backend implements, its stats, the op option types, statx's result.
// It sits on pool.ts (an IoContext hands out BufferPools); everything above
// takes its types from here, so no backend imports the chooser.
import type { BufferPool, BufferPoolOptions } from './pool';

export interface OpOptions {
  /** Aborting asks the kernel to cancel (IORING_OP_ASYNC_CANCEL); an op it already finished keeps its result. */
  signal?: AbortSignal;
}

export interface SpliceOptions extends OpOptions {
  /** SPLICE_F_* flags (SPLICE_F_MOVE 1, SPLICE_F_NONBLOCK 2, SPLICE_F_MORE 4); default 0. */
  flags?: number;
}

export interface RwOptions extends OpOptions {
  /** RWF_* flags for preadv2/pwritev2 semantics (RWF_HIPRI, RWF_DSYNC, RWF_NOWAIT, ...). */
  flags?: number;
}

export interface FsyncOptions extends OpOptions {
  /** fdatasync(2) instead of fsync(2). */
  datasync?: boolean;
}

export interface FallocateOptions extends OpOptions {
  /** fallocate(2) mode bits (FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, ...). Default 0. */
  mode?: number;
}

export interface OpenOptions extends OpOptions {
  /** Directory fd the path is relative to. Default: the current directory. */
  dirfd?: number;
}

export interface StatxOptions extends OpOptions {
  dirfd?: number;
  /** AT_* flags, e.g. AT_SYMLINK_NOFOLLOW (0x100) or AT_EMPTY_PATH (0x1000). */
  flags?: number;
  /** STATX_* mask of fields wanted. Default basic stats, birth time and DIO alignment. */
  mask?: number;
}

/** mkdirat, symlinkat: the directory a relative path starts from (default: the current directory). */
export interface DirfdOptions extends OpOptions {
  dirfd?: number;
}

export interface UnlinkatOptions extends DirfdOptions {
  /** unlinkat(2) flags: AT_REMOVEDIR (0x200) removes a directory. */
  flags?: number;
}

/** renameat, linkat: where each relative path starts, and the syscall's flags. */
export interface TwoPathOptions extends OpOptions {
  oldDirfd?: number;
  newDirfd?: number;
  /** renameat2(2) RENAME_NOREPLACE (1), RENAME_EXCHANGE (2), RENAME_WHITEOUT (4); linkat(2) AT_SYMLINK_FOLLOW (0x400). */
  flags?: number;
}

export type Backend = 'io_uring' | 'aio' | 'threadpool';

export interface ContextStats {
  /** Ops handed to the kernel (or to the thread pool). */
  submitted: number;
  /** Ops whose completion has been delivered. */
  completed: number;
  /** Ops submitted whose completion has not arrived. */
  inFlight: number;
  /** Ops waiting for room (back-pressure). */
  queued: number;
}

/**
 * What every backend does. Ops a backend cannot do reject with
 * code 'ERR_KAIO_UNSUPPORTED'.
 */
export interface IoContext {
  /** Which backend this is. */
  readonly backend: Backend;
  /** close() has been called. */
  readonly closed: boolean;
  readonly stats: ContextStats;
  /** pread(2): resolves to bytes read. position -1: the file's current position (not on 'aio'). */
  read(fd: number, buffer: ArrayBufferView, position?: number | bigint, options?: RwOptions): Promise<number>;
  /** pwrite(2): resolves to bytes written. */
  write(fd: number, buffer: ArrayBufferView, position?: number | bigint, options?: RwOptions): Promise<number>;
  /** preadv2(2). */
  readv(fd: number, buffers: ArrayBufferView[], position?: number | bigint, options?: RwOptions): Promise<number>;
  /** pwritev2(2). */
  writev(fd: number, buffers: ArrayBufferView[], position?: number | bigint, options?: RwOptions): Promise<number>;
  /** fsync(2), or fdatasync(2) with `{ datasync: true }`. */
  fsync(fd: number, options?: FsyncOptions): Promise<void>;
  /**
   * Page-aligned buffers held in RAM as this backend can: registered with
   * io_uring, mlock(2)ed on 'aio', plain memory on 'threadpool'.
   */
  registerBuffers(options: BufferPoolOptions): BufferPool;
  /** Waits for ops in flight, then releases the context (and its pools). Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

export interface StatxResult {
  /** STATX_* bits the filesystem filled in. */
  mask: number;
  dev: number;
  ino: bigint;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: bigint;
  blksize: number;
  blocks: bigint;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
  birthtimeMs: number;
  /** Required alignment of memory for O_DIRECT (0 when not reported). */
  dioMemAlign: number;
  /** Required alignment of file offsets and lengths for O_DIRECT (0 when not reported). */
  dioOffsetAlign: number;
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

