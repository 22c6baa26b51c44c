// The only untyped boundary: loads the addon and describes what it exports.
// Nothing outside lib/ sees these types.
import * as path from 'node:path';

export interface NativeRingOptions {
  entries: number;
  cqEntries: number;
  sqpoll: boolean;
  sqThreadIdle: number;
  iopoll: boolean;
  coopTaskrun: boolean;
  singleIssuer: boolean;
  submitAll: boolean;
  /** IORING_REGISTER_RING_FDS where the kernel and the thread's table allow. */
  registerRingFd: boolean;
  /** IORING_SETUP_DEFER_TASKRUN with an eventfd, where the kernel has it. */
  deferTaskrun: boolean;
  /** Most staged SQEs per io_uring_enter; 0: all. */
  submitBatch: number;
}

export interface NativeRingInfo {
  fd: number;
  sqEntries: number;
  cqEntries: number;
  features: number;
  setupFlags: number;
  /** The ring fd is in the thread's registered-ring table (IORING_REGISTER_RING_FDS). */
  ringFdRegistered: boolean;
  /** ops[opcode] is 1 when IORING_REGISTER_PROBE says the kernel has it. */
  ops: Uint8Array;
}

export interface NativeRing {
  info(): NativeRingInfo;
  /**
   * Registers `count` buffers of `size` bytes at the start of `memory` (an
   * ArrayBuffer from pinnedAlloc) in the ring's buffer table. Returns the
   * first buffer index, or -errno (-ENOSPC: no room left in the table).
   */
  registerBuffers(memory: ArrayBuffer, size: number, count: number): number;
  /** Clears the table slots of the region starting at firstIndex. 0 or -errno. */
  unregisterBuffers(firstIndex: number): number;
  /** IORING_REGISTER_FILES: fd -1 leaves a slot empty. 0 or -errno. */
  registerFiles(fds: Int32Array): number;
  /** IORING_REGISTER_FILES_UPDATE from offset. Slots updated, or -errno. */
  updateFiles(offset: number, fds: Int32Array): number;
  /** IORING_UNREGISTER_FILES. 0 or -errno. */
  unregisterFiles(): number;
  /**
   * Submitted count or -errno. On an error other than EAGAIN/EBUSY/EINTR the
   * ops the kernel did not consume are taken back and come out of the next
   * reap() as completions with that error.
   */
  submit(): number;
  /**
   * Submits the SQ and waits (SQPOLL: up to a second) until the kernel has
   * consumed every SQE written so far. 0; -EBUSY when some are still in the
   * SQ; another -errno when the enter failed and the SQ is empty all the same
   * (the SQEs taken back, as submit() does: they come out of the next reap()).
   */
  drainSq(): number;
  /**
   * Writes an IORING_OP_ASYNC_CANCEL for promise op `id` (sent with the next
   * submit). 1; 0 when the SQ is full; -1 when the CQ has no room for its
   * completion until some arrive. May go one CQ slot beyond the op budget.
   */
  cancel(id: number): number;
  /** Copies failed submissions and ready CQEs into the completion array; returns how many. */
  reap(): number;
  close(): void;
  /** The batch API's staging area: STAGE_FIELDS doubles per op, and their buffers. */
  setStaging(ops: Float64Array, buffers: unknown[]): void;
  /** Writes the first count staged ops into the SQ, all or none: 1, or 0 when there is no room. */
  /** enter 1: submit() follows at once (direct reads keep the caller's address until it; see native KeepDirect). */
  fillStaged(count: number, enter?: number): number;
  /**
   * With the ring's waitInline: waits inside io_uring_enter for a lone op
   * in flight while the loop has nothing else to do; returns the
   * completions reaped into the shared array (0: none, deliver nothing).
   */
  waitLone(): number;
  /**
   * fillStaged(count) + submitAndWait(minComplete) + reap() in one call:
   * 2 * reaped + (1 if the staged ops were filled), or -errno.
   */
  submitAndReap(count: number, minComplete: number): number;
}

export interface NativeRingConstructor {
  new (
    options: NativeRingOptions,
    onComplete: (count: number) => void,
    completions: Int32Array,
    counters: Float64Array,
  ): NativeRing;
}

export interface NativeProbe {
  kernel?: string;
  machine?: string;
  ioUring: {
    available: boolean;
    error?: Error & { code: string; errno: number; syscall: string };
    features?: number;
    setupFlags?: number;
    ops?: number[];
  };
  memlock: { soft?: number; hard?: number };
  capIpcLock: boolean;
}

export interface NativeDioInfo {
  mask: number;
  memAlign: number;
  offsetAlign: number;
  devMajor: number;
  devMinor: number;
  blksize: number;
}

/** The numbers lib/ and native/ share, as native has them (native/napi/js_ring.cc RingContract; test 08 compares). */
export interface NativeContract {
  ops: Record<string, number>;
  stage: Record<string, number>;
  counters: Record<string, number>;
  backendOps: Record<string, number>;
  backendCounters: Record<string, number>;
  completionInts: number;
  sqeFixedFile: number;
  fsyncDatasync: number;
  featRwCurPos: number;
  cancelUserData: number;
}

export interface Binding {
  Ring: NativeRingConstructor;
  contract: NativeContract;
  probe(): NativeProbe;
  /** ioprio_set(2) on the calling thread (IOPRIO_WHO_PROCESS, 0): 0 or -errno. */
  ioprioSet(ioprio: number): number;
  /** pipe2(O_CLOEXEC) grown with F_SETPIPE_SZ toward `size` bytes: [read fd, write fd, capacity]; throws the errno error. */
  pipe(size: number): [number, number, number];
  /** fcntl(fd, F_DUPFD_CLOEXEC): a second fd for the same open file; throws the errno error. */
  dupFd(fd: number): number;
  /** ioctl(fd, BLKDISCARD, [offset, length]) on the calling thread: 0 or -errno (js_blkdev.cc). */
  blkDiscard(fd: number, offset: number, length: number): number;
  /** kaio bench's verify digests (native/core/digest.h): kind's digest of src[start, end), little-endian into dst at dstOffset. */
  digestInto(kind: number, src: Uint8Array, start: number, end: number, dst: Uint8Array, dstOffset: number): void;
  /** fio's CRC-32C (starts at ~0, no final inversion) of src[start, end). */
  crc32c(src: Uint8Array, start: number, end: number): number;
  /** Deterministic bytes from a 64-bit seed (two 32-bit halves) into buf[start, end). */
  fillRandom(buf: Uint8Array, start: number, end: number, seedHigh: number, seedLow: number): void;
  /** fio's verify headers (and native digests) over every interval of buf[0, len) (native/core/digest.h VerifyFillHeaders). */
  verifyHeaders(buf: Uint8Array, len: number, interval: number, hdrSize: number, type: number, digestKind: number, verifyOffset: number,
    offset: number, seedHigh: number, seedLow: number, numberio: number, thread: number, sec: number, nsec: number): void;
  /** Checks every interval of buf[0, len): -1 when good, else the first bad interval (VerifyCheck). */
  verifyCheck(buf: Uint8Array, len: number, interval: number, hdrSize: number, type: number, digestKind: number, verifyOffset: number,
    offset: number, numberio: number, checkSeed: boolean, seedHigh: number, seedLow: number, pattern?: Uint8Array): number;
  /** Whether crc32c uses the CPU's CRC instruction. */
  readonly crc32cHardware: boolean;
  /** Page-aligned (or `alignment`-aligned) anonymous memory as an external ArrayBuffer, or -errno. */
  pinnedAlloc(length: number, hugePages: boolean, alignment?: number): ArrayBuffer | number;
  /** mlock(2)/munlock(2) of a pinnedAlloc mapping: 0 or -errno. */
  pinnedLock(memory: ArrayBuffer): number;
  pinnedUnlock(memory: ArrayBuffer): number;
  /** Detaches the ArrayBuffer (every view becomes length 0) and unmaps. False if already released. */
  pinnedRelease(memory: ArrayBuffer): boolean;
  pinnedInfo(memory: ArrayBuffer): { huge: boolean; locked: boolean; mappedLength: number } | undefined;
  /** The address of an ArrayBuffer's memory modulo 4096, or -1 (detached or empty). */
  pageOffset(memory: ArrayBufferLike): number;
  /** statx(2) STATX_DIOALIGN of an fd, or of path when given: info or -errno. */
  /** path: text, or a NUL-terminated Buffer of the path's bytes. */
  statxDioAlign(fd: number, path?: string | Buffer): NativeDioInfo | number;
  /** lseek(2): the new offset (a bigint past 2^53) or -errno. */
  seek(fd: number, offset: number | bigint, whence: number): number | bigint;
  /** fcntl(F_GETFL): the fd's status flags, or -errno. */
  statusFlags(fd: number): number;
  memlockInfo(): { soft: number; hard: number; capIpcLock: boolean };
  /**
   * readFile's inline first try (native/core/cached_read.h): a Buffer of
   * the file's `size` bytes (closed); [that
   * Buffer, fd] (read, the fd still to close); [fd, size] (opened, not read,
   * O_NONBLOCK cleared; size -1: not a regular file); or -errno (nothing open).
   */
  readCached(path: string, max: number): Buffer | [Buffer, number] | [number, number] | number;
  /** preadv2(fd, view, position, RWF_NOWAIT) in this thread (-1: the file position): bytes or -errno. */
  readNowait(fd: number, view: Uint8Array, position: number): number;
  /**
   * A Buffer of `length` (>= 1) uninitialized bytes over a 2 MiB-aligned
   * mapping with transparent huge pages asked for (native/core/result_memory.h),
   * unmapped when the Buffer is collected; undefined when none was mapped.
   */
  resultBuffer(length: number): Buffer | undefined;
  keptBuffer(length: number): Buffer | undefined;
  /**
   * rm -r below `dir` (its path's bytes), a directory whose rmdir said
   * ENOTEMPTY, EEXIST or EPERM (native/core/dir_unlink.h): Node's
   * _rmchildren of it, then its rmdir, on libuv's thread pool, every op
   * relative to its parent directory's fd (openat O_NOFOLLOW | O_DIRECTORY,
   * unlinkat). rmChildrenBegin opens and lists `dir` and removes its entries
   * that are not directories; it resolves to 0 (done), a failure
   * [-errno, syscall (0 rmdir, 1 unlink, 2 scandir), its path's bytes], or
   * [held directory, its subdirectories' names, 0 or the first failure]:
   * then rmSubtree of each name (in parallel), then rmChildrenEnd (its
   * rmdir when `rmdir`; closes it either way).
   */
  rmChildrenBegin(dir: Buffer): Promise<0 | [number, number, Buffer] | [object, Buffer[], 0 | [number, number, Buffer]]>;
  rmSubtree(held: object, name: Buffer): Promise<0 | [number, number, Buffer]>;
  rmChildrenEnd(held: object, rmdir: boolean): Promise<0 | [number, number, Buffer]>;
  /** Test hook of rmChildren's walk (native/core/dir_unlink.h SetRmHook): not part of the API. */
  _rmHook(when: number, name: string, from: string, to: string, link: string): void;
  /**
   * copyFile as one native step (native/core/copy_range.h), on libuv's
   * thread pool: `src` and `dest` are the paths' bytes (no NUL), mode
   * Node's COPYFILE_* bits. Resolves to -errno, or (done) the ways the
   * bytes went: 1 FICLONE, 2 copy_file_range, 4 sendfile, 8 pread/pwrite.
   */
  copyFile(src: Buffer, dest: Buffer, mode: number): Promise<number>;
  pageSize: number;
  hugePageSize: number;
  Aio: NativeBackendConstructor<NativeAioOptions, NativeAio>;
  aioProbe(): 0 | (Error & { code: string; errno: number; syscall: string });
  Threadpool: NativeBackendConstructor<NativeThreadpoolOptions, NativeBackend>;
  /** kaio bench's native io_uring loop (native/core/bench_loop.h; lib/bench/engines/native-loop.ts). */
  BenchLoop: new (
    options: NativeBenchLoopOptions,
    input: Float64Array,
    output: Float64Array,
    state: Float64Array,
    buffers: Uint8Array[],
    stopFlag: Int32Array | null,
    termFlag: Int32Array | null,
  ) => NativeBenchLoop;
  /** CLOCK_MONOTONIC in ns: the bench loop's clock. */
  benchNow(): number;
  /** Records samples (ns) into fio's histogram buckets and stats [count, sum, sumSq, min, max] as the bench loop does (for tests). */
  benchHistRecord(counts: Float64Array, stats: Float64Array, samples: Float64Array): void;
}

export interface NativeBenchLoopOptions {
  /** Linux AIO instead of io_uring. */
  aio: boolean;
  depth: number;
  entries: number;
  cqEntries: number;
  sqpoll: boolean;
  iopoll: boolean;
  fd: number;
  registerFile: boolean;
  fixedBuffers: boolean;
  batchSubmit: number;
  completeMin: number;
  completeMax: number;
  stampPrep: boolean;
  stampSubmit: boolean;
  stampReap: boolean;
  /** [read slat, clat, lat, write slat, clat, lat]: fio's buckets (Histogram.counts), or null for a figure not timed. */
  hists: (Float64Array | null)[];
  /** Per histogram: count, sum, sumSq, min, max since JavaScript last took them. */
  histStats: Float64Array;
  /** fio's scramble_buffers, done at each write's prep. */
  scramble: boolean;
  /** Returns 3 (more input wanted) when the input holds fewer ops than this. */
  lowWater: number;
}

export interface NativeBenchLoop {
  /**
   * Turns the loop until it needs input (1), its records must be taken or it polls (2),
   * it would take more input (3) or the job is over (0); throws a failed enter.
   */
  run(): number;
  /** Waits for the ops in flight, closes the ring. */
  close(): void;
  fixedOps(): number;
}

/** The AIO and thread-pool contexts (native/napi/js_aio.cc, native/napi/js_threadpool.cc). */
export interface NativeBackend {
  /**
   * Takes one op: 1, or 0 when all `entries` places are taken and the caller
   * must queue. `buf` is a view (read/write, `len` its checked byte length)
   * or kaio's [view, length, ...] copy of a readv/writev list.
   */
  prep(op: BackendOp, fd: number, buf: unknown, position: number | bigint, rwFlags: number, id: number, len: number, ioprio?: number): number;
  /** Submits what prep() took; returns completions copied to the shared array, or -errno. */
  submit(): number;
  close(): void;
}

export interface NativeAio extends NativeBackend {
  info(): { entries: number; eventfd: number; userRing: boolean };
}

export interface NativeAioOptions {
  entries: number;
  userRing: boolean;
}

export interface NativeThreadpoolOptions {
  entries: number;
}

export interface NativeBackendConstructor<O, T> {
  new (options: O, onComplete: (count: number) => void, completions: Int32Array, counters: Float64Array): T;
}

/** Op codes of the AIO and thread-pool contexts (native/core/backend_op.h). */
export const enum BackendOp {
  Read = 0,
  Write = 1,
  Readv = 2,
  Writev = 3,
  Fsync = 4,
  Fdatasync = 5,
}

/** Counters of the AIO and thread-pool contexts (native/napi/js_context.h). */
export const enum BackendCounter {
  Submitted = 0,
  Completed = 1,
  SubmitCalls = 2,
  LockedOps = 3,
  InFlight = 4,
  GeteventsCalls = 5,
  Pending = 6,
  Slots = 8,
}

/** Indices of the counters native keeps in a Float64Array shared with JS. */
export const enum Counter {
  Submitted = 0,
  Completed = 1,
  EnterCalls = 2,
  FixedOps = 3,
  InFlight = 4,
  Slots = 8,
}

/** Each CQE arrives as four int32: user_data low, user_data high, res, flags. */
export const CQE_INTS = 4;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const load = require('node-gyp-build') as (dir: string) => unknown;

export const binding = load(path.join(__dirname, '..', '..')) as Binding;
