// Ring: one io_uring instance with promise ops on Node's event loop.
//
// Every op takes a slot (lib/slots.ts) and is staged: six numbers in a shared
// Float64Array (see staging.ts and op-table.ts). The first op
// of a tick schedules one flush, which writes the staged SQEs with one native
// call and submits everything with one io_uring_enter. When the SQ (or the CQ
// budget) is full, ops wait in a FIFO here and go out as completions make
// room. Completions arrive in batches through one native->JS call. The batch
// API (prep*, submit, submitAndWait, onCompletion) is the same machinery
// without the promise.
import { constants as osConstants } from 'node:os';
import { binding, Counter, CQE_INTS, type NativeRing, type NativeRingInfo } from '../binding';
import { invalidArgType, outOfRange, stateError, systemError, unsupported, type ErrnoError } from '../errors';
import {
  bitNames,
  FEATURE_NAMES,
  FEAT_RW_CUR_POS,
  FEAT_SQPOLL_NONFIXED,
  SETUP_SQPOLL,
  SETUP_IOPOLL,
  FSYNC_DATASYNC,
  Kind,
  Op,
  opName,
  OP_NAMES,
  SETUP_FLAG_NAMES,
  SQE_FIXED_FILE,
  STATX_BUF_SIZE,
  STATX_DEFAULT_MASK,
} from '../abi';
import { Pending } from '../pending';
import { RAW_RESULT, toVoid } from '../slots';
import { OpQueue, type OpSink } from '../op-queue';
import { bounceFor, bounceView, giveBounce, needsBounce, pairsBytes, type Bounce } from '../bounce';
import {
  validateBoolean,
  checkedLength,
  snapshotBuffers,
  checkedMemory,
  validateInteger,
  validateKeys,
  validateObject,
  validateOptions,
  validateOffset,
  validatePosition,
} from '../validate';
import { FixedFile, fixedFileIndex, fixedFileOwner, fixedFileSlot } from './fixed-file';
import { ownPool, poolBufferIndex, type BufferPool, type BufferPoolOptions, type HeldPools } from '../pool';
import { parseStatx } from './statx';
import { fixedAt, INDEX_UNIT, Staging } from './staging';
import { HEAD_IOPRIO, HEAD_NOWAIT_DIRECT } from './op-table';
import { release } from 'node:os';
import { BatchOps, KIND_MASK } from './batch';
import { MAX_FIXED_FILES, Registration, type RegisterFilesOptions } from './registration';
import { AT_FDCWD, cPath, fileList, O_CLOEXEC, parseOpenFlags } from './args';
import type { DirfdOptions, FallocateOptions, FsyncOptions, IoContext, OpenOptions, OpOptions, RwOptions, SpliceOptions, StatxOptions, StatxResult, TwoPathOptions, UnlinkatOptions } from '../types';

/** HEAD_IOPRIO as passed with the SQE flags (staging shifts them by 8); a module-local copy for the per-op path. */
const IOPRIO_SQE_FLAG: number = HEAD_IOPRIO >>> 8;
/** _readDirect's mark, through the SQE-flags argument into Field.Head. */
const NOWAIT_DIRECT_SQE_FLAG: number = HEAD_NOWAIT_DIRECT >>> 8;
const RWF_NOWAIT = 0x8;
/** KAIO_NOWAIT_READ=0: FileHandle reads of caller memory always go through bounce memory (for A/B runs). */
const directReadsOn = process.env.KAIO_NOWAIT_READ !== '0';
let honoursNowait: boolean | undefined;
/**
 * Linux 5.10 or later: io_read completes an RWF_NOWAIT read as it is
 * (REQ_F_NOWAIT: no io-wq punt, no poll, no async buffered-read retry).
 * The oldest kernel whose read path this was checked against.
 */
function kernelHonoursNowait(): boolean {
  if (honoursNowait === undefined) {
    const m = /^(\d+)\.(\d+)/.exec(release());
    honoursNowait = m !== null && (Number(m[1]) > 5 || (Number(m[1]) === 5 && Number(m[2]) >= 10));
  }
  return honoursNowait;
}

const { errno: E } = osConstants;
const EAGAIN = -E.EAGAIN;
const EBUSY = -E.EBUSY;
const EINTR = -E.EINTR;
const EBADF = -E.EBADF;
const ECANCELED = -E.ECANCELED;
/** Linux limits for io_uring_setup (IORING_MAX_ENTRIES, IORING_MAX_CQ_ENTRIES). */
export const MAX_ENTRIES = 32768;
export const MAX_CQ_ENTRIES = 2 * MAX_ENTRIES;
/** The longest RingOptions.waitInline: one second (in microseconds). */
const MAX_WAIT_INLINE_US = 1_000_000;

export interface RingOptions {
  /** SQ size (rounded up to a power of two by the kernel). Default 256. */
  entries?: number;
  /** CQ size; default twice `entries`. */
  cqEntries?: number;
  /** Kernel thread polls the SQ (IORING_SETUP_SQPOLL). Off by default: it burns a CPU. */
  sqpoll?: boolean;
  /** Milliseconds the SQPOLL thread spins before sleeping. Default 1000. */
  sqThreadIdle?: number;
  /** Busy-poll completions (IORING_SETUP_IOPOLL); O_DIRECT files on polled devices only. */
  iopoll?: boolean;
  /** IORING_SETUP_COOP_TASKRUN where the kernel has it. Default true. */
  coopTaskrun?: boolean;
  /** IORING_SETUP_SINGLE_ISSUER where the kernel has it. Default true. */
  singleIssuer?: boolean;
  /**
   * IORING_SETUP_SUBMIT_ALL where the kernel has it (5.18): a failing op does
   * not stop the kernel from taking the ops after it. Default true; false
   * sets the ring up as older kernels do (kaio then resubmits the rest).
   */
  submitAll?: boolean;
  /**
   * Most ops per io_uring_enter when a tick's (or a submit()'s) ops go out;
   * 0 (default): all in one. Small values (1-8) ring the device's doorbell
   * more often, which keeps some virtual disks busier at depth (see docs/api.md, submitBatch).
   */
  submitBatch?: number;
  /**
   * Enter the ring through the thread's registered-ring table
   * (IORING_REGISTER_RING_FDS, 5.18; 16 slots per thread) instead of its fd.
   * Default true; kaio uses the fd where the kernel or a full table says no.
   */
  registerRingFd?: boolean;
  /**
   * IORING_SETUP_DEFER_TASKRUN where the kernel has it (6.1; needs
   * singleIssuer; not with sqpoll or iopoll), with an eventfd the event loop
   * watches: a completion finished outside the thread (a device interrupt,
   * io-wq) no longer interrupts the loop's epoll_wait (EINTR, then a second
   * epoll_wait); kaio runs the kernel's deferred work with one
   * io_uring_enter when the eventfd wakes the loop. Default false (see
   * docs/api.md for what it costs and what it saves); the ring is used only
   * from the thread that made it, as with singleIssuer.
   */
  deferTaskrun?: boolean;
  /**
   * Microseconds the event loop's thread may wait inside io_uring_enter for
   * a lone op (exactly one in flight) after submitting it, as fio does at
   * QD 1, instead of returning to the loop and being woken for it: only
   * when the loop has nothing else to do (no immediate or pending callback,
   * no timer due sooner, no fd of the loop ready). Whatever becomes ready
   * during the wait waits at most this long. 0 (default): never. Needs
   * Linux 5.11 (IORING_FEAT_EXT_ARG); ignored before that and with iopoll.
   * See docs/api.md.
   */
  waitInline?: number;
}

const RING_OPTIONS = ['entries', 'cqEntries', 'sqpoll', 'sqThreadIdle', 'iopoll', 'coopTaskrun', 'singleIssuer', 'submitAll', 'submitBatch', 'registerRingFd', 'deferTaskrun', 'waitInline'] as const;

export interface RingStats {
  /** SQEs the kernel has consumed. */
  submitted: number;
  /** CQEs reaped. */
  completed: number;
  /** Ops handed to the ring whose completion has not arrived. */
  inFlight: number;
  /** Ops waiting in JS for room in the SQ. */
  queued: number;
  /** Reads and writes issued as *_FIXED ops on registered buffers. */
  fixedOps: number;
  /** io_uring_enter(2) calls. */
  enterCalls: number;
  /** Completions reaped by an in-thread wait (RingOptions.waitInline). */
  inlineWaits: number;
}

export interface RingParams {
  sqEntries: number;
  cqEntries: number;
  /** IORING_FEAT_* names the kernel reported. */
  features: string[];
  /** IORING_SETUP_* flags the ring was created with. */
  setupFlags: string[];
  /** io_uring_enter goes through the thread's registered-ring table (see RingOptions.registerRingFd). */
  registeredRingFd: boolean;
}

export type Fd = number | FixedFile;


/**
 * An io_uring instance. See io_uring(7).
 *
 * ```ts
 * const ring = new Ring({ entries: 256 });
 * const n = await ring.read(fd, buf, 0);
 * await ring.close();
 * ```
 */
export class Ring implements IoContext {
  readonly backend = 'io_uring' as const;
  readonly #native: NativeRing;
  readonly #info: NativeRingInfo;
  /** An SQPOLL ring on a kernel before 5.11 takes registered files only. */
  readonly #fixedFilesOnly: boolean;
  /** See _directReads. */
  readonly #directReads: boolean;
  readonly #cq: Int32Array;
  readonly #counters: Float64Array;
  /** Registered buffers and files. */
  #registration!: Registration;
  /** How the promise layer hands ops to this ring. */
  readonly #sink: OpSink = {
    tryStart: (id, op, fd, sqeFlags, mem, offset, len, opFlags, aux) => {
      // A read or write on one of pool.buffers: #rw found its registered
      // index in this ring (-1: none) and passes it as aux, which these ops
      // use for nothing else here.
      if ((op === Op.READ || op === Op.WRITE) && typeof aux === 'number')
        return this.#staging.add(op, fd, sqeFlags, mem, offset, len, opFlags, undefined, id, 0, aux < 0 ? -1 : aux * INDEX_UNIT);
      if (mem === undefined) return this.#staging.add(op, fd, sqeFlags, mem, offset, len, opFlags, aux, id, 0, -1);
      return this.#stageWithMemory(id, op, fd, sqeFlags, mem, offset, len, opFlags, aux);
    },
    // (The errors are made out of line, so that this stays small enough to
    // be inlined into every op's path.)
    refuse: (op, syscall) => (this.#closing || this.#info.ops[op] !== 1 ? this.#refusal(op, syscall) : undefined),
    flush: () => {
      // (Nothing between the fill and the submit: see Staging.fill's `enter`.)
      this.#staging.fill(1);
      this.#afterSubmit(this.#native.submit());
      // waitInline: a lone op may be waited for here (native decides).
      if (this.#waitInline && this.#counters[Counter.InFlight] === 1) {
        const n = this.#native.waitLone();
        if (n > 0) {
          this.#inlineWaits += n;
          this.#dispatch(n);
        }
      }
    },
    cancel: (id) => {
      // The op's SQE goes first (it may still be staged), so the cancel
      // follows it into the kernel; no room for it yet: try again later.
      if (!this.#staging.fill()) return false;
      // A cancel may go one CQ slot beyond the op budget (see native
      // Cancel), so only a full SQ or a cancel already in that slot stops it.
      let r = this.#native.cancel(id);
      if (r === 0) {
        // The SQ is full of SQEs not submitted yet: submit them, then retry.
        this.#afterSubmit(this.#native.submit());
        r = this.#native.cancel(id);
        // Still full (EAGAIN, or an SQPOLL thread yet to consume): OpQueue
        // keeps the cancel and offers it again at this next flush.
        if (r === 0) setImmediate(() => this.#ops.scheduleFlush());
      }
      // -1: a cancel holds the extra CQ slot; its completion, which comes
      // soon, makes OpQueue offer this one again.
      return r === 1;
    },
    successorGone: () => this.#staging.successorGone(),
  };
  readonly #ops = new OpQueue(this.#sink);
  #closing = false;
  #closed: Promise<void> | undefined;
  /** RingOptions.waitInline is on (and the kernel can). */
  #waitInline = false;
  #inlineWaits = 0;
  /** The batch API's handler and the memory its ops hold (batch.ts). */
  readonly #batch = new BatchOps();
  /**
   * Ops of any kind in the ring or staged: native's count plus the staged
   * ones, taken over after each batch of completions (#countBusy).
   */
  readonly #busy = new Pending();
  /** Ops written into the SQ by one native call per tick (see staging.ts). */
  #staging!: Staging;

  constructor(options: RingOptions = {}) {
    const o = validateObject<RingOptions>(options, 'options');
    validateKeys(o, 'options', RING_OPTIONS);
    const entries = o.entries === undefined ? 256 : validateInteger(o.entries, 'options.entries', 1, MAX_ENTRIES);
    const cqEntries =
      o.cqEntries === undefined ? 0 : validateInteger(o.cqEntries, 'options.cqEntries', entries, MAX_CQ_ENTRIES);
    const sqThreadIdle =
      o.sqThreadIdle === undefined ? 1000 : validateInteger(o.sqThreadIdle, 'options.sqThreadIdle', 0, 2 ** 32 - 1);
    const flag = (v: unknown, name: string, dflt: boolean): boolean =>
      v === undefined ? dflt : validateBoolean(v, `options.${name}`);
    const nativeOptions = {
      entries,
      cqEntries,
      sqpoll: flag(o.sqpoll, 'sqpoll', false),
      sqThreadIdle,
      iopoll: flag(o.iopoll, 'iopoll', false),
      coopTaskrun: flag(o.coopTaskrun, 'coopTaskrun', true),
      singleIssuer: flag(o.singleIssuer, 'singleIssuer', true),
      submitAll: flag(o.submitAll, 'submitAll', true),
      registerRingFd: flag(o.registerRingFd, 'registerRingFd', true),
      deferTaskrun: flag(o.deferTaskrun, 'deferTaskrun', false),
      submitBatch: o.submitBatch === undefined ? 0 : validateInteger(o.submitBatch, 'options.submitBatch', 0, MAX_ENTRIES),
      waitInline: o.waitInline === undefined ? 0 : validateInteger(o.waitInline, 'options.waitInline', 0, MAX_WAIT_INLINE_US),
    };
    // The CQ can never hold more than MAX_CQ_ENTRIES; size the array for that
    // bound lazily from what the kernel granted.
    const cqCapacity = Math.max(cqEntries, entries * 2, 8);
    this.#cq = new Int32Array(Math.min(cqCapacity, MAX_CQ_ENTRIES) * CQE_INTS);
    this.#counters = new Float64Array(Counter.Slots);
    try {
      this.#native = new binding.Ring(nativeOptions, this.#onComplete, this.#cq, this.#counters);
    } catch (e) {
      throw ringSetupError(e);
    }
    this.#info = this.#native.info();
    this.#waitInline = nativeOptions.waitInline > 0;
    this.#fixedFilesOnly = (this.#info.setupFlags & SETUP_SQPOLL) !== 0 && (this.#info.features & FEAT_SQPOLL_NONFIXED) === 0;
    this.#directReads = directReadsOn && (this.#info.setupFlags & (SETUP_SQPOLL | SETUP_IOPOLL)) === 0 && kernelHonoursNowait();
    this.#staging = new Staging(this.#native, this.#info, this.#counters, () => this.#ops.nextWaiting());
    liveRings++;
    ringGone.register(this, undefined, this);
    this.#registration = new Registration(this.#native, this);
  }

  /** Sizes, features and setup flags the kernel granted. */
  get params(): RingParams {
    return {
      sqEntries: this.#info.sqEntries,
      cqEntries: this.#info.cqEntries,
      features: bitNames(this.#info.features, FEATURE_NAMES),
      setupFlags: bitNames(this.#info.setupFlags, SETUP_FLAG_NAMES),
      registeredRingFd: this.#info.ringFdRegistered,
    };
  }

  /** True when IORING_REGISTER_PROBE says this kernel has the op (IORING_OP_ name or number). */
  supports(op: string | number): boolean {
    if (typeof op !== 'string' && typeof op !== 'number') throw invalidArgType('op', 'of type string or number', op);
    const code = typeof op === 'number' ? op : OP_CODES.get(op.replace(/^IORING_OP_/, '').toUpperCase());
    return code !== undefined && this.#info.ops[code] === 1;
  }

  get stats(): RingStats {
    const c = this.#counters;
    return {
      submitted: c[Counter.Submitted],
      completed: c[Counter.Completed],
      inFlight: c[Counter.InFlight],
      queued: this.#ops.queued,
      fixedOps: c[Counter.FixedOps],
      enterCalls: c[Counter.EnterCalls],
      inlineWaits: this.#inlineWaits,
    };
  }

  get closed(): boolean {
    return this.#closing;
  }

  // ── ops ────────────────────────────────────────────────────────────────

  /** read(2)/pread(2) as IORING_OP_READ (READ_FIXED on registered buffers). Resolves to bytes read. */
  read(fd: Fd, buffer: ArrayBufferView, position: number | bigint = -1, options?: RwOptions): Promise<number> {
    return this.#rw(Op.READ, 'read', fd, buffer, false, position, options);
  }

  /** write(2)/pwrite(2) as IORING_OP_WRITE (WRITE_FIXED on registered buffers). Resolves to bytes written. */
  write(fd: Fd, buffer: ArrayBufferView, position: number | bigint = -1, options?: RwOptions): Promise<number> {
    return this.#rw(Op.WRITE, 'write', fd, buffer, false, position, options);
  }

  /** preadv2(2) as IORING_OP_READV. */
  readv(fd: Fd, buffers: ArrayBufferView[], position: number | bigint = -1, options?: RwOptions): Promise<number> {
    return this.#rw(Op.READV, 'readv', fd, buffers, true, position, options);
  }

  /** pwritev2(2) as IORING_OP_WRITEV. */
  writev(fd: Fd, buffers: ArrayBufferView[], position: number | bigint = -1, options?: RwOptions): Promise<number> {
    return this.#rw(Op.WRITEV, 'writev', fd, buffers, true, position, options);
  }

  /** fsync(2), or fdatasync(2) with `{ datasync: true }` (IORING_OP_FSYNC). */
  fsync(fd: Fd, options?: FsyncOptions): Promise<void> {
    try {
      const o = validateOptions<FsyncOptions>(options, ['datasync', 'signal']);
      const datasync = o.datasync === undefined ? false : validateBoolean(o.datasync, 'options.datasync');
      const syscall = datasync ? 'fdatasync' : 'fsync';
      return this.#ops.start(Op.FSYNC, this.#fd(fd), sqeFlagsOf(fd), undefined, 0, 0, datasync ? FSYNC_DATASYNC : 0, undefined, syscall, undefined, undefined, o.signal, toVoid);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** fallocate(2) as IORING_OP_FALLOCATE (5.6). */
  fallocate(fd: Fd, offset: number | bigint, length: number | bigint, options?: FallocateOptions): Promise<void> {
    try {
      const o = validateOptions<FallocateOptions>(options, ['mode', 'signal']);
      const off = validateOffset(offset, 'offset');
      const len = validateOffset(length, 'length');
      if (len === 0) throw outOfRange('length', '> 0', len);
      const mode = o.mode === undefined ? 0 : validateInteger(o.mode, 'options.mode', 0, 0xff);
      return this.#ops.start(Op.FALLOCATE, this.#fd(fd), sqeFlagsOf(fd), undefined, off, mode, 0, len, 'fallocate', undefined, undefined, o.signal, toVoid);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** ftruncate(2) as IORING_OP_FTRUNCATE (6.9): the file's size becomes `length`. */
  ftruncate(fd: Fd, length: number | bigint, options?: OpOptions): Promise<void> {
    try {
      const o = validateOptions<OpOptions>(options, ['signal']);
      const len = validateOffset(length, 'length');
      return this.#ops.start(Op.FTRUNCATE, this.#fd(fd), sqeFlagsOf(fd), undefined, len, 0, 0, undefined, 'ftruncate', undefined, undefined, o.signal, toVoid);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * splice(2) as IORING_OP_SPLICE (5.7): moves up to `length` bytes from
   * `fdIn` at `offIn` to `fdOut` at `offOut`, one of them a pipe, whose
   * offset is -1 (for a file, -1 is its current position). Plain fds only.
   * Resolves to the bytes moved (0: the input is at its end, or a pipe
   * without writers). The kernel runs it on an io-wq worker.
   */
  splice(fdIn: number, offIn: number, fdOut: number, offOut: number, length: number, options?: SpliceOptions): Promise<number> {
    try {
      validateInteger(fdIn, 'fdIn', 0, 0x7fffffff);
      validateInteger(offIn, 'offIn', -1, Number.MAX_SAFE_INTEGER);
      validateInteger(fdOut, 'fdOut', 0, 0x7fffffff);
      validateInteger(offOut, 'offOut', -1, Number.MAX_SAFE_INTEGER);
      validateInteger(length, 'length', 0, 0x7fffffff);
      const o = validateOptions<SpliceOptions>(options, ['flags', 'signal']);
      const flags = o.flags === undefined ? 0 : validateInteger(o.flags, 'options.flags', 0, 0xf);
      return this.#ops.start(Op.SPLICE, fdOut, 0, fdIn, offOut, length, flags, offIn, 'splice', undefined, undefined, o.signal);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * splice() whose SQE is IOSQE_IO_LINK-ed to the op started next (in the
   * same tick, so in the same submission): the kernel starts that one only
   * after this one moved all `length` bytes, else cancels it (ECANCELED).
   * Plain numbers, checked by the caller. For copyFile.
   * @internal
   */
  _spliceLinked(fdIn: number, offIn: number, fdOut: number, offOut: number, length: number): Promise<number> {
    return this.#ops.start(Op.SPLICE, fdOut, SQE_IO_LINK, fdIn, offOut, length, 0, offIn, 'splice', undefined, undefined, undefined);
  }

  /** IORING_OP_POLL_ADD, one shot: resolves to the poll events of `events` (POLLOUT...) that `fd` has, once it has one (kaio's sendFile). */
  _pollAdd(fd: number, events: number, signal?: AbortSignal): Promise<number> {
    return this.#ops.start(Op.POLL_ADD, fd, 0, undefined, 0, 0, events, undefined, 'poll', undefined, undefined, signal);
  }

  /** IORING_OP_NOP: a round trip through the kernel that does nothing. */
  nop(options?: OpOptions): Promise<void> {
    try {
      // No options object made up per call when none is given.
      if (options === undefined) return this.#ops.startBare(Op.NOP, -1, 0, 0, 0, 'nop', toVoid);
      const signal = validateOptions<OpOptions>(options, ['signal']).signal;
      return this.#ops.start(Op.NOP, -1, 0, undefined, 0, 0, 0, undefined, 'nop', undefined, undefined, signal, toVoid);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** openat(2) as IORING_OP_OPENAT (5.6). Resolves to the new fd (close-on-exec). */
  openat(path: string | Buffer | URL, flags?: string | number, mode = 0o666, options?: OpenOptions): Promise<number> {
    try {
      const p = cPath(path);
      const f = parseOpenFlags(flags) | O_CLOEXEC;
      validateInteger(mode, 'mode', 0, 0o7777);
      const o = validateOptions<OpenOptions>(options, ['dirfd', 'signal']);
      const dirfd = o.dirfd === undefined ? AT_FDCWD : validateInteger(o.dirfd, 'options.dirfd', -100, 0x7fffffff);
      return this.#ops.start(Op.OPENAT, dirfd, 0, p.c, 0, mode, f, undefined, 'open', p.shown, p.c, o.signal);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** close(2) of a file descriptor as IORING_OP_CLOSE (5.6). Not to be confused with close(), which closes the ring. */
  closeFd(fd: number, options?: OpOptions): Promise<void> {
    try {
      validateInteger(fd, 'fd', 0, 0x7fffffff);
      const o = validateOptions<OpOptions>(options, ['signal']);
      return this.#ops.start(Op.CLOSE, fd, 0, undefined, 0, 0, 0, undefined, 'close', undefined, undefined, o.signal, toVoid);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** statx(2) as IORING_OP_STATX (5.6). */
  statx(path: string | Buffer | URL, options?: StatxOptions): Promise<StatxResult> {
    try {
      const p = cPath(path);
      const o = validateOptions<StatxOptions>(options, ['dirfd', 'flags', 'mask', 'signal']);
      const dirfd = o.dirfd === undefined ? AT_FDCWD : validateInteger(o.dirfd, 'options.dirfd', -100, 0x7fffffff);
      const flags = o.flags === undefined ? 0 : validateInteger(o.flags, 'options.flags', 0, 0x7fffffff);
      const mask = o.mask === undefined ? STATX_DEFAULT_MASK : validateInteger(o.mask, 'options.mask', 0, 0xffffffff);
      const out = new Uint8Array(STATX_BUF_SIZE);
      return this.#ops.start(Op.STATX, dirfd, 0, p.c, 0, mask, flags, out, 'statx', p.shown, [p.c, out], o.signal, () => parseStatx(out));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * statx(2) as IORING_OP_STATX, resolving to the kernel's 256-byte struct
   * statx itself (for kaio/fs/promises, which builds Node's Stats from it).
   * @internal
   */
  /** With syscall RAW_RESULT (''): resolves to -errno instead of rejecting. */
  _statxBytes(path: string | Buffer | URL, flags: number, mask: number, syscall: '', shown: string | undefined, dirfd?: number, link?: boolean): Promise<Uint8Array | number>;
  _statxBytes(path: string | Buffer | URL, flags: number, mask: number, syscall: string, shown: string | undefined, dirfd?: number, link?: boolean): Promise<Uint8Array>;
  _statxBytes(path: string | Buffer | URL, flags: number, mask: number, syscall: string, shown: string | undefined, dirfd = AT_FDCWD, link = false): Promise<Uint8Array | number> {
    try {
      const c = path === '' ? EMPTY_CPATH : cPath(path).c;
      const out = new Uint8Array(STATX_BUF_SIZE);
      return this.#ops.start(Op.STATX, dirfd, link ? SQE_IO_HARDLINK : 0, c, 0, mask, flags, out, syscall, shown, [c, out], undefined, () => out);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * readFile's first trip: openat(path, O_RDONLY | O_CLOEXEC) and statx of
   * the same path (mask `mask`) in one submission, from one C string of the
   * path. The open resolves to the fd or rejects as openat does; the statx
   * resolves to the kernel's struct statx bytes, or to -errno (never rejects
   * for a kernel error) in `out` (STATX_BUF_SIZE bytes, which the caller
   * must not touch until then). (An openat sent to io-wq with IOSQE_ASYNC
   * at depth measured no faster for 4 KiB files: the lookup stays inline.)
   * @internal
   */
  _openStatx(path: string | Buffer, mask: number, out: Uint8Array): [Promise<number>, Promise<Uint8Array | number>] {
    try {
      const { c, shown } = cPath(path);
      if (out.byteLength !== STATX_BUF_SIZE) throw outOfRange('out.byteLength', `${STATX_BUF_SIZE}`, out.byteLength);
      const opened = this.#ops.start<number>(Op.OPENAT, AT_FDCWD, 0, c, 0, 0, O_CLOEXEC, undefined, 'open', shown, c, undefined);
      const statted = this.#ops.start<Uint8Array | number>(Op.STATX, AT_FDCWD, 0, c, 0, mask, 0, out, RAW_RESULT, shown, [c, out], undefined, () => out);
      return [opened, statted];
    } catch (e) {
      return [Promise.reject(e), Promise.resolve(-E.EINVAL)];
    }
  }

  /**
   * 256 bytes for one struct statx, cut from a slab of STATX_SLAB of them: a
   * view of an ArrayBuffer made per stat (its backing store, its
   * bookkeeping, the GC's work) cost more than the stat's JavaScript.
   * Never handed out twice: a full slab is replaced, not reused, and lives
   * until the last of its views (each held by its op until it completes,
   * then read once by `make`) is garbage.
   */
  #statxOut(): Uint8Array {
    let at = this.#statxAt;
    if (at === STATX_SLAB * STATX_BUF_SIZE) {
      this.#statxSlab = new Uint8Array(STATX_SLAB * STATX_BUF_SIZE);
      at = 0;
    }
    this.#statxAt = at + STATX_BUF_SIZE;
    return this.#statxSlab.subarray(at, at + STATX_BUF_SIZE);
  }
  #statxSlab = new Uint8Array(0);
  #statxAt = STATX_SLAB * STATX_BUF_SIZE;

  /**
   * statx(2) as IORING_OP_STATX at AT_FDCWD, resolving to `make(struct
   * statx)`, called on the completion (kaio/fs/promises' stat and lstat build
   * Node's Stats there: no second promise per call). With path '' and
   * `dirfd`, statx(dirfd, "", flags) (FileHandle#stat's fstat: flags then
   * hold AT_EMPTY_PATH).
   * @internal
   */
  _statxAs<T>(path: string | Buffer | URL, flags: number, mask: number, syscall: string, shown: string | undefined, make: (out: Uint8Array) => T, dirfd = AT_FDCWD): Promise<T> {
    try {
      const c = path === '' ? EMPTY_CPATH : cPath(path).c;
      const out = this.#statxOut();
      return this.#ops.start(Op.STATX, dirfd, 0, c, 0, mask, flags, out, syscall, shown, [c, out], undefined, () => make(out));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * mkdirat(2) of each path in order, in one submission, each SQE
   * IOSQE_IO_HARDLINK-ed to the next: the kernel runs them one after the
   * other and a failure does not cut the chain. Resolves to each one's
   * result (0 or -errno). For kaio/fs/promises' mkdir -p.
   * @internal
   */
  _mkdiratChain(paths: readonly (string | Buffer)[], mode: number): Promise<number[]> {
    const results: Promise<number>[] = [];
    for (let i = 0; i < paths.length; i++) {
      const { c, shown } = cPath(paths[i]);
      const flags = i < paths.length - 1 ? SQE_IO_HARDLINK : 0;
      results.push(this.#ops.start<number>(Op.MKDIRAT, AT_FDCWD, flags, c, 0, mode, 0, undefined, RAW_RESULT, shown, c, undefined));
    }
    return Promise.all(results);
  }

  /**
   * unlinkat(2) of a path (AT_FDCWD), resolving to 0 or -errno; `link`
   * sets IOSQE_IO_HARDLINK, so that the next op started runs after this one
   * in the same io-wq work item. For kaio/fs/promises' rm -r.
   * @internal
   */
  _unlinkatLinked(path: string | Buffer, flags: number, link: boolean): Promise<number> {
    try {
      const { c, shown } = cPath(path);
      return this.#ops.start<number>(Op.UNLINKAT, AT_FDCWD, link ? SQE_IO_HARDLINK : 0, c, 0, 0, flags, undefined, RAW_RESULT, shown, c, undefined);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** unlinkat(2) as IORING_OP_UNLINKAT (5.11); `AT_REMOVEDIR` in options.flags removes a directory. */
  unlinkat(path: string | Buffer | URL, options?: UnlinkatOptions): Promise<void> {
    try {
      const o = validateOptions<UnlinkatOptions>(options, ['dirfd', 'flags', 'signal']);
      const p = cPath(path);
      const flags = o.flags === undefined ? 0 : validateInteger(o.flags, 'options.flags', 0, 0x7fffffff);
      const syscall = flags & AT_REMOVEDIR ? 'rmdir' : 'unlink';
      return this.#ops.start(Op.UNLINKAT, dirfdOf(o), 0, p.c, 0, 0, flags, undefined, syscall, p.shown, p.c, o.signal, toVoid);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** mkdirat(2) as IORING_OP_MKDIRAT (5.15). */
  mkdirat(path: string | Buffer | URL, mode = 0o777, options?: DirfdOptions): Promise<void> {
    try {
      const o = validateOptions<DirfdOptions>(options, ['dirfd', 'signal']);
      const p = cPath(path);
      validateInteger(mode, 'mode', 0, 0xffffffff);
      return this.#ops.start(Op.MKDIRAT, dirfdOf(o), 0, p.c, 0, mode, 0, undefined, 'mkdir', p.shown, p.c, o.signal, toVoid);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** renameat2(2) as IORING_OP_RENAMEAT (5.11): options.flags takes RENAME_NOREPLACE/EXCHANGE/WHITEOUT. */
  renameat(oldPath: string | Buffer | URL, newPath: string | Buffer | URL, options?: TwoPathOptions): Promise<void> {
    return this.#twoPaths(Op.RENAMEAT, 'rename', oldPath, newPath, options);
  }

  /** linkat(2) as IORING_OP_LINKAT (5.15): options.flags takes AT_SYMLINK_FOLLOW. */
  linkat(oldPath: string | Buffer | URL, newPath: string | Buffer | URL, options?: TwoPathOptions): Promise<void> {
    return this.#twoPaths(Op.LINKAT, 'link', oldPath, newPath, options);
  }

  /** symlinkat(2) as IORING_OP_SYMLINKAT (5.15): a symlink at `path` whose content is `target`. */
  symlinkat(target: string | Buffer | URL, path: string | Buffer | URL, options?: DirfdOptions): Promise<void> {
    try {
      const o = validateOptions<DirfdOptions>(options, ['dirfd', 'signal']);
      const t = cPath(target, 'target');
      const p = cPath(path);
      return this.#ops.start<void>(Op.SYMLINKAT, dirfdOf(o), 0, t.c, 0, 0, 0, p.c, 'symlink', undefined, [t.c, p.c], o.signal, toVoid).catch(withDest(t.shown, p.shown));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  #twoPaths(op: number, syscall: string, oldPath: string | Buffer | URL, newPath: string | Buffer | URL, options: TwoPathOptions | undefined): Promise<void> {
    try {
      const o = validateOptions<TwoPathOptions>(options, ['oldDirfd', 'newDirfd', 'flags', 'signal']);
      const from = cPath(oldPath, 'oldPath');
      const to = cPath(newPath, 'newPath');
      const oldDirfd = o.oldDirfd === undefined ? AT_FDCWD : validateInteger(o.oldDirfd, 'options.oldDirfd', -100, 0x7fffffff);
      const newDirfd = o.newDirfd === undefined ? AT_FDCWD : validateInteger(o.newDirfd, 'options.newDirfd', -100, 0x7fffffff);
      const flags = o.flags === undefined ? 0 : validateInteger(o.flags, 'options.flags', 0, 0x7fffffff);
      // len carries the new dirfd; the kernel reads it as an int (AT_FDCWD is negative).
      return this.#ops.start<void>(op, oldDirfd, 0, from.c, 0, newDirfd >>> 0, flags, to.c, syscall, undefined, [from.c, to.c], o.signal, toVoid).catch(withDest(from.shown, to.shown));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  // ── batch API ──────────────────────────────────────────────────────────
  //
  // prep* only writes an SQE (no promise, no closure, no object per op);
  // submit() hands everything prepared to the kernel with one io_uring_enter;
  // each completion goes to the onCompletion handler as (tag, res, flags).
  // The memory of an op is held (batch.ts) until its CQE arrives, by a small
  // id carried in the user_data high word next to the kind.

  /**
   * Sets the function that receives every completion of a prep* op:
   * `handler(tag, res, flags)`, `res` being bytes transferred or -errno.
   * Called synchronously, in batches: from Node's event loop, or from
   * submitAndWait() before it returns. `null` removes it.
   */
  onCompletion(handler: ((tag: number, res: number, flags: number) => void) | null): void {
    if (handler !== null && typeof handler !== 'function')
      throw invalidArgType('handler', 'of type function or null', handler);
    this.#batch.handler = handler ?? undefined;
  }

  /**
   * Queues IORING_OP_READ (READ_FIXED on registered memory). False when the
   * SQ or CQ budget is full. `ioprio` (0: none, the thread's) goes in the
   * SQE's ioprio field: class << 13 | hint << 3 | level, as ioprio_set(2).
   */
  prepRead(fd: Fd, buffer: ArrayBufferView, position: number | bigint, tag: number, flags = 0, ioprio = 0): boolean {
    return this.#prepRw(Op.READ, fd, buffer, position, tag, flags, ioprio);
  }

  /** Queues IORING_OP_WRITE (WRITE_FIXED on registered memory); `ioprio` as prepRead's. False when full. */
  prepWrite(fd: Fd, buffer: ArrayBufferView, position: number | bigint, tag: number, flags = 0, ioprio = 0): boolean {
    return this.#prepRw(Op.WRITE, fd, buffer, position, tag, flags, ioprio);
  }

  /** Queues IORING_OP_READV. The array and its buffers must stay unchanged until the completion. */
  prepReadv(fd: Fd, buffers: ArrayBufferView[], position: number | bigint, tag: number, flags = 0): boolean {
    return this.#prepRwv(Op.READV, fd, buffers, position, tag, flags);
  }

  /** Queues IORING_OP_WRITEV. The array and its buffers must stay unchanged until the completion. */
  prepWritev(fd: Fd, buffers: ArrayBufferView[], position: number | bigint, tag: number, flags = 0): boolean {
    return this.#prepRwv(Op.WRITEV, fd, buffers, position, tag, flags);
  }

  /** Queues IORING_OP_FSYNC (fdatasync(2) semantics with datasync). False when full. */
  prepFsync(fd: Fd, tag: number, datasync = false): boolean {
    this.#prepCheck(tag);
    if (typeof datasync !== 'boolean') throw invalidArgType('datasync', 'of type boolean', datasync);
    const rawFd = this.#fd(fd);
    const sqeFlags = sqeFlagsOf(fd);
    return this.#prepUser(Op.FSYNC, rawFd, sqeFlags, undefined, 0, 0, datasync ? FSYNC_DATASYNC : 0, tag);
  }

  /** Queues IORING_OP_NOP. False when full. */
  prepNop(tag: number): boolean {
    this.#prepCheck(tag);
    return this.#prepUser(Op.NOP, -1, 0, undefined, 0, 0, 0, tag);
  }

  /**
   * Hands every prepared SQE (batch and promise ops alike) to the kernel with
   * one io_uring_enter. Returns how many the kernel took; 0 when it is short
   * of resources (EAGAIN/EBUSY) and the SQEs stay queued for the next call.
   */
  submit(): number {
    this.#staging.fill();
    const r = this.#native.submit();
    if (r >= 0) return r;
    if (r === EBADF) throw this.#enterError(r);
    // The ops the kernel refused arrive as completions with -errno.
    this.#afterSubmit(r);
    return 0;
  }

  /**
   * Submits like submit(), then blocks the thread until at least minComplete
   * completions are ready (capped at the number of ops in flight, so it never
   * waits for ops that do not exist), reaps every ready completion and
   * delivers them — onCompletion is called for each before this returns;
   * promise ops among them settle (their callbacks run as usual, later).
   * Returns how many completions of prep* ops were delivered.
   * Not allowed inside the onCompletion handler.
   */
  submitAndWait(minComplete = 1): number {
    if (typeof minComplete !== 'number' || (minComplete >>> 0) !== minComplete)
      validateInteger(minComplete, 'minComplete', 0, 2 ** 32 - 1);
    if (this.#batch.dispatching) throw stateError('ERR_KAIO_REENTRANT', 'submitAndWait() cannot be called from a completion handler');
    // One native call: fill what is staged, enter, reap.
    const ready = this.#staging.ready;
    const r = this.#native.submitAndReap(ready, minComplete);
    if (r < 0) throw this.#enterError(r);
    if (r & 1) this.#staging.filled(ready);
    else if (this.#staging.count !== 0) this.#staging.stalled = true;
    const n = r >>> 1;
    return n === 0 ? 0 : this.#dispatch(n);
  }

  #prepRw(op: number, fd: Fd, buffer: ArrayBufferView, position: number | bigint, tag: number, flags: number, ioprio: number): boolean {
    this.#prepCheck(tag);
    // One of pool.buffers: its size is known while the pool lives (it is
    // never detached before release), so the view is not asked.
    const pool = ownPool(buffer);
    const bytes = pool === undefined ? checkedLength(buffer) : pool.size;
    const pos = typeof position === 'number' && position >= 0 && position <= Number.MAX_SAFE_INTEGER && Number.isInteger(position)
      ? position
      : this.#position(position);
    if (flags !== 0) validateInteger(flags, 'flags', 0, 0x7fffffff);
    // An ioprio rides in the head (HEAD_IOPRIO, above the SQE flags) and Field.Addr.
    let prio: number | undefined;
    let headIoprio = 0;
    if (ioprio !== 0) {
      validateInteger(ioprio, 'ioprio', 0, 0xffff);
      prio = ioprio;
      headIoprio = IOPRIO_SQE_FLAG;
    }
    const rawFd = this.#fd(fd);
    const sqeFlags = sqeFlagsOf(fd) | headIoprio;
    if (pool !== undefined && typeof pos === 'number') {
      const first = pool._fixedFirst(this);
      if (first >= 0) {
        // Registered with this ring: staged as its table index, no memory
        // kept per op (the pool, held, keeps it).
        if (this.#info.ops[op] !== 1) throw unsupported(`IORING_OP_${opName(op)}`, 'by this kernel (see probe())');
        const index = first + poolBufferIndex(buffer);
        const high = this.#batch.holdFixed(pool, index);
        if (this.#staging.add(op, rawFd, sqeFlags, undefined, pos, bytes, flags, prio, tag, high, index * INDEX_UNIT)) return true;
        pool._drop();
        return false;
      }
    }
    if (pool === undefined && needsBounce(buffer, false, bytes)) {
      const b = bounceFor(buffer, false, bytes, op === Op.WRITE);
      return this.#prepUser(op, rawFd, sqeFlags, b.view(bytes), bytes, pos, flags, tag, prio, b);
    }
    return this.#prepUser(op, rawFd, sqeFlags, buffer, bytes, pos, flags, tag, prio);
  }

  #prepRwv(op: number, fd: Fd, buffers: ArrayBufferView[], position: number | bigint, tag: number, flags: number): boolean {
    this.#prepCheck(tag);
    const list = snapshotBuffers(buffers);
    const pos = this.#position(position);
    if (flags !== 0) validateInteger(flags, 'flags', 0, 0x7fffffff);
    const rawFd = this.#fd(fd);
    const sqeFlags = sqeFlagsOf(fd);
    // Again: reading the list ran the caller's code (a getter, a Proxy
    // trap), which may have closed the ring.
    this.#prepCheck(tag);
    if (needsBounce(list.pairs, true, 0)) {
      const b = bounceFor(list.pairs, true, list.bytes, op === Op.WRITEV);
      return this.#prepUser(op, rawFd, sqeFlags, [b.view(list.bytes), list.bytes], 0, pos, flags, tag, undefined, b, list.pairs);
    }
    return this.#prepUser(op, rawFd, sqeFlags, list.pairs, 0, pos, flags, tag);
  }

  #enterError(r: number): Error {
    if (r === EBADF && this.#closing) return stateError('ERR_KAIO_CLOSED', 'Ring is closed');
    return systemError(r, 'io_uring_enter');
  }

  #prepCheck(tag: number): void {
    if (typeof tag !== 'number' || (tag >>> 0) !== tag) validateInteger(tag, 'tag', 0, 2 ** 32 - 1);
    if (this.#closing) throw stateError('ERR_KAIO_CLOSED', 'Ring is closed');
    if (this.#batch.handler === undefined)
      throw stateError('ERR_KAIO_NO_HANDLER', 'Set ring.onCompletion(handler) before prep*(): completions would be lost');
  }

  /**
   * Stages one batch op. `mem`
   * is a view with its checked byte length, or kaio's [view, length, ...]
   * copy of a readv/writev list; it is held until the op's completion.
   */
  #prepUser(op: number, fd: number, sqeFlags: number, mem: unknown, bytes: number, pos: number | bigint, opFlags: number, tag: number, ioprio?: number, bounce?: Bounce, named?: unknown): boolean {
    // The caller checked the state after its arguments (only a readv/writev
    // list runs the caller's code: views, fds and FixedFiles are checked
    // through intrinsics and brands).
    if (this.#info.ops[op] !== 1) {
      if (bounce !== undefined) giveBounce(bounce);
      throw unsupported(`IORING_OP_${opName(op)}`, 'by this kernel (see probe())');
    }
    // A registered pool cannot be released while an op uses its memory.
    let high: number;
    try {
      high = this.#batch.hold(mem, Kind.Batch, bounce, named ?? mem);
    } catch (e) {
      if (bounce !== undefined) giveBounce(bounce);
      throw e;
    }
    const fixed = typeof pos === 'number' ? this.#fixedAt(op, this.#batch.lastHeld, mem, bytes) : -1;
    if (this.#staging.add(op, fd, sqeFlags, mem, pos, bytes, opFlags, ioprio, tag, high, fixed)) return true;
    // Not staged: nothing was read, and the bounce buffer goes back.
    this.#batch.release(high, -1);
    return false;
  }

  // ── lifetime ───────────────────────────────────────────────────────────

  /**
   * Stops new ops (they reject with ERR_KAIO_CLOSED), waits for the ones
   * queued or in flight, then tears the ring down. Idempotent.
   */
  close(): Promise<void> {
    if (this.#closed) return this.#closed;
    this.#closing = true;
    // Batch ops prepared but never submitted must reach the kernel to finish.
    this.#staging.fill();
    if (this.#counters[Counter.InFlight] !== 0) this.#ops.scheduleFlush();
    this.#closed = (async () => {
      await this.#ops.whenIdle();
      this.#countBusy();
      await this.#busy.whenIdle();
      await this.#registration.releasePools();
      this.#native.close();
      if (ringGone.unregister(this)) liveRings--;
      this.#registration.disownFiles();
    })();
    return this.#closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ── internals ──────────────────────────────────────────────────────────

  /** The sink's tryStart for an op that names memory #rw did not look at. */
  #stageWithMemory(id: number, op: number, fd: number, sqeFlags: number, mem: unknown, offset: number | bigint, len: number, opFlags: number, aux: unknown): boolean {
    const held = this.#ops.heldBy(id);
    // A splice's fd_in travels in Field.Fixed (it names no memory).
    const fixed = op === Op.SPLICE ? (mem as number) : held === undefined ? -1 : this.#fixedAt(op, held, mem, len);
    return this.#staging.add(op, fd, sqeFlags, mem, offset, len, opFlags, aux, id, 0, fixed);
  }

  /** Why the sink refuses op `op` (see its refuse). */
  #refusal(op: number, syscall: string): Error {
    if (this.#closing) return stateError('ERR_KAIO_CLOSED', `Ring is closed (${syscall})`);
    return unsupported(`IORING_OP_${opName(op)}`, 'by this kernel (see probe())');
  }

  /** Staging field [7] of a read or write whose memory lies in `held` (see staging.ts fixedAt). */
  #fixedAt(op: number, held: HeldPools | undefined, mem: unknown, bytes: number): number {
    if (held === undefined || (op !== Op.READ && op !== Op.WRITE) || Array.isArray(held)) return -1;
    return fixedAt(held, this, mem as ArrayBufferView, bytes);
  }

  /** checkedMemory()'s second result, without an object per op. */
  readonly #checked = { bytes: 0 };

  #rw(op: number, syscall: string, fd: Fd, data: unknown, vectored: boolean, position: unknown, options?: RwOptions): Promise<number> {
    try {
      // What is checked here is what the kernel gets: a list is copied in
      // one pass, and a buffer's length is fixed now (see lib/validate.ts).
      // One of pool.buffers: its size is known while the pool lives (it is
      // never detached before release), so the view is not asked.
      const pool = vectored ? undefined : ownPool(data);
      if (pool !== undefined && options === undefined && typeof position === 'number' && position >= 0 && position <= Number.MAX_SAFE_INTEGER && Number.isInteger(position)) {
        // The commonest op, and the bar's loop: one of pool.buffers, a plain
        // position, no options. Its registered index in this ring (or -1) is
        // found here once, and the pool it lies in is not looked up again.
        // (Passed on as the buffer's index, a small integer: its Field.Fixed,
        // index * INDEX_UNIT, would be a heap number through the calls.)
        const first = pool._fixedFirst(this);
        const index = first < 0 ? -1 : first + poolBufferIndex(data as object);
        return this.#ops.start(op, this.#fd(fd), sqeFlagsOf(fd), data, position, pool.size, 0, index, syscall, undefined, data, undefined, undefined, pool);
      }
      const mem = pool === undefined ? checkedMemory(data, vectored, this.#checked) : data;
      const bytes = pool === undefined ? this.#checked.bytes : pool.size;
      const pos = typeof position === 'number' && position >= 0 && position <= Number.MAX_SAFE_INTEGER && Number.isInteger(position)
        ? position
        : this.#position(position);
      const o = options === undefined ? NO_OPTIONS : validateOptions<RwOptions>(options, ['flags', 'signal']);
      const rwFlags = o.flags === undefined ? 0 : validateInteger(o.flags, 'options.flags', 0, 0x7fffffff);
      const rawFd = this.#fd(fd);
      if (pool === undefined && !vectored) {
        // The caller's memory: the kernel gets kaio's (lib/bounce.ts).
        const b = bounceView(mem as ArrayBufferView, bytes, op === Op.WRITE);
        if (b !== undefined) {
          const own = b.view(bytes);
          return this.#ops.start(op, rawFd, sqeFlagsOf(fd), own, pos, bytes, rwFlags, undefined, syscall, undefined, mem, o.signal, undefined, undefined, b);
        }
      } else if (pool === undefined && needsBounce(mem, vectored, bytes)) {
        const b = bounceFor(mem, vectored, vectored ? pairsBytes(mem as Array<ArrayBufferView | number>) : bytes, op === Op.WRITE || op === Op.WRITEV);
        const own = vectored ? [b.view(pairsBytes(mem as Array<ArrayBufferView | number>)), pairsBytes(mem as Array<ArrayBufferView | number>)] : b.view(bytes);
        // (The op keeps the caller's memory too: a pool a list also names is
        // held, so pool.release() waits and a released one is refused.)
        return this.#ops.start(op, rawFd, sqeFlagsOf(fd), own, pos, bytes, rwFlags, undefined, syscall, undefined, mem, o.signal, undefined, undefined, b);
      }
      return this.#ops.start(op, rawFd, sqeFlagsOf(fd), mem, pos, bytes, rwFlags, undefined, syscall, undefined, mem, o.signal, undefined, pool);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * readFile's read (internal): `buffer` (a Buffer readFile just allocated)
   * from `position` of a plain fd, with IOSQE_ASYNC when `async`: the kernel
   * hands the read to an io-wq worker instead of trying it inline in the
   * submitting io_uring_enter, so a cached file's copy runs on another CPU.
   * An async read is IOSQE_IO_HARDLINK-ed to the op started next (readFile's
   * close of the fd): the worker takes its file only when it runs the read,
   * and a close in the same submission would run inline before it.
   * @internal
   */
  _readFileRead(fd: number, buffer: Buffer, position: number, async: boolean): Promise<number> {
    try {
      const mem = checkedMemory(buffer, false, this.#checked);
      return this.#ops.start(Op.READ, this.#fd(fd), async ? SQE_ASYNC | SQE_IO_HARDLINK : 0, mem, position, this.#checked.bytes, 0, undefined, 'read', undefined, mem, undefined, undefined, undefined);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * FileHandle's page-cache first try (internal): `bytes` bytes of
   * `view` (caller memory, checked by the caller) from `position` of `fd`,
   * a regular file or block device opened without O_DIRECT, with
   * RWF_NOWAIT straight into the view: no bounce memory. Native keeps the
   * view's address in the SQE only inside the io_uring_enter of this
   * tick's flush (KeepDirect in native/napi/js_ring.cc); anything else
   * (a view detached before the flush, a link or drain around it, an enter
   * that left it in the SQ) fails EFAULT. Resolves to the kernel's count
   * (short: the end of the file, or of what is cached); rejects with
   * EAGAIN (nothing cached), EFAULT, EOPNOTSUPP or the read's error: the
   * caller then reads the rest through the usual path. Only where
   * `directReads` is true.
   * @internal
   */
  _readDirect(fd: number, view: ArrayBufferView, position: number, bytes: number): Promise<number> {
    return this.#ops.start(Op.READ, fd, NOWAIT_DIRECT_SQE_FLAG, view, position, bytes, RWF_NOWAIT, undefined, 'read', undefined, view, undefined);
  }

  /**
   * Whether _readDirect can keep the caller's memory on this ring: not
   * SQPOLL or IOPOLL (their reads are issued outside io_uring_enter, or
   * polled), and a kernel whose io_uring read honours RWF_NOWAIT (5.10+).
   * @internal
   */
  get _directReads(): boolean {
    return this.#directReads;
  }

  #position(position: unknown): number | bigint {
    const pos = validatePosition(position);
    if (pos === -1 && !(this.#info.features & FEAT_RW_CUR_POS))
      throw unsupported('position -1 (current file position)', 'by this kernel (needs IORING_FEAT_RW_CUR_POS, 5.6)');
    return pos;
  }

  /** The fd, or a FixedFile's index in this ring's table; throws for anything else. */
  #fd(fd: Fd): number {
    if (typeof fd === 'number' && (fd | 0) === fd && fd >= 0 && !this.#fixedFilesOnly) return fd;
    const slot = fixedFileSlot(fd, this);
    if (slot >= 0) return slot;
    return this.#fdError(fd, slot);
  }

  /** #fd's refusals, kept out of it so that the per-op paths that inline it stay small. */
  #fdError(fd: unknown, slot: number): never {
    if (typeof fd === 'number') {
      if ((fd | 0) !== fd || fd < 0) throw outOfRange('fd', '>= 0 && <= 2147483647', fd);
      throw unsupported('a plain fd on an SQPOLL ring', 'by this kernel (IORING_FEAT_SQPOLL_NONFIXED, 5.11): register the file with registerFiles() and pass the FixedFile');
    }
    if (slot === -2) {
      const owner = fixedFileOwner(fd as FixedFile);
      throw stateError(
        'ERR_KAIO_FIXED_FILE',
        owner === undefined
          ? `FixedFile ${fixedFileIndex(fd as FixedFile)} was unregistered`
          : `FixedFile ${fixedFileIndex(fd as FixedFile)} belongs to another ring`,
      );
    }
    throw invalidArgType('fd', 'of type number or an instance of FixedFile', fd);
  }

  /**
   * What a submit's result asks for. EAGAIN/EBUSY: the kernel is short of
   * resources and completions will free some, so try again later. Any other
   * error: native took back the ops the kernel did not consume and fails
   * them with it; reap those (never inside a completion batch, whose array
   * the reap would overwrite).
   */
  #afterSubmit(r: number): void {
    if (r >= 0) return;
    if (r === EAGAIN || r === EBUSY || r === EINTR) setImmediate(() => this.#ops.scheduleFlush());
    else this.#scheduleReap();
  }

  #reapScheduled = false;

  #scheduleReap(): void {
    if (this.#reapScheduled) return;
    this.#reapScheduled = true;
    setImmediate(() => {
      this.#reapScheduled = false;
      const n = this.#native.reap();
      if (n > 0) this.#dispatch(n);
    });
  }

  /** Called by native once per completion batch; must never throw. */
  readonly #onComplete = (count: number): void => {
    this.#dispatch(count);
  };

  /** Delivers `count` reaped CQEs; returns how many were batch (kind 1) ops. */
  #dispatch(count: number): number {
    const cq = this.#cq;
    const ops = this.#ops;
    let user = 0;
    const batch = this.#batch;
    const staging = this.#staging;
    // A chain sent cut (staging.ts): whether this batch has its last op's completion.
    const cutAt = staging.cutId < 0 ? -1 : this.#cutAt(count);
    const cutRes = cutAt < 0 ? 0 : cq[cutAt + 2];
    batch.dispatching = true;
    for (let i = 0, base = 0; i < count; i++, base += CQE_INTS) {
      const high = cq[base + 1];
      const kind = high & KIND_MASK;
      if (kind === Kind.Promise) {
        ops.complete(cq[base], cq[base + 2]);
      } else if (kind === Kind.BatchFixed) {
        batch.releaseFixed(high);
        user++;
        batch.deliver(cq[base] >>> 0, cq[base + 2], cq[base + 3] >>> 0);
      } else if (kind === Kind.Batch) {
        // (A read on bounce memory is copied to the caller's view here, or fails with EFAULT.)
        const res = batch.release(high, cq[base + 2]);
        user++;
        batch.deliver(cq[base] >>> 0, res, cq[base + 3] >>> 0);
      }
    }
    batch.dispatching = false;
    if (staging.cutId < 0 || cutAt >= 0) {
      if (cutAt >= 0) {
        // The op the cut chain's next op waited for is done: a soft link
        // it failed (an error, or a short count) cancels what followed it.
        if (staging.cutSoft && (cutRes < 0 || (staging.cutLen >= 0 && cutRes !== staging.cutLen))) ops.cancelLinkedWaiting(ECANCELED);
        staging.cutId = -1;
      }
      ops.startWaiting();
    } else {
      // The FIFO waits for it; cancels do not.
      ops.retryCancels();
    }
    // Staged ops that found no room at the last flush (or that close() is
    // waiting for) go out now that completions made some; so do batch ops
    // the handler prepared, when promise ops still wait behind them for room.
    if ((this.#staging.count !== 0 && (this.#staging.stalled || this.#closing)) || ops.queued !== 0) ops.scheduleFlush();
    this.#countBusy();
    return user;
  }

  /**
   * Where the completion of the cut chain's last op sent (staging.cutId) is
   * among the `count` CQEs just reaped (its index in #cq), or -1. (While
   * that op is in flight its slot id is no other op's.)
   */
  #cutAt(count: number): number {
    const cq = this.#cq;
    const id = this.#staging.cutId;
    for (let base = 0, end = count * CQE_INTS; base < end; base += CQE_INTS) {
      if ((cq[base + 1] & KIND_MASK) === Kind.Promise && cq[base] === id) return base;
    }
    return -1;
  }

  // ── registered buffers and files (registration.ts) ─────────────────────

  /**
   * Allocates `count` page-aligned buffers of `size` bytes and registers them
   * with the kernel (IORING_REGISTER_BUFFERS2/_UPDATE; 5.13, several pools per
   * ring from 5.19). Reads and writes on any view inside them then go out as
   * READ_FIXED / WRITE_FIXED (READV_FIXED / WRITEV_FIXED on 6.15+) by
   * themselves. The pages are pinned and charged to RLIMIT_MEMLOCK: see
   * docs/registered-memory.md. Throws synchronously.
   */
  registerBuffers(options: BufferPoolOptions): BufferPool {
    if (this.#closing) throw stateError('ERR_KAIO_CLOSED', 'Ring is closed (registerBuffers)');
    return this.#registration.registerBuffers(options);
  }

  /**
   * Registers a file table (IORING_REGISTER_FILES) and returns one FixedFile
   * per slot, usable wherever an fd is. The table holds its own reference to
   * each file: closing the fd does not unregister it. With `size`, the
   * slots past fds.length start empty (fd -1) for updateFiles(). One table
   * per ring; unregisterFiles() drops it.
   */
  registerFiles(fds: readonly number[], options?: RegisterFilesOptions): FixedFile[] {
    if (this.#closing) throw stateError('ERR_KAIO_CLOSED', 'Ring is closed (registerFiles)');
    return this.#registration.registerFiles(fds, options);
  }

  /**
   * Replaces slots offset.. of the file table (IORING_REGISTER_FILES_UPDATE);
   * fd -1 empties a slot. Returns the new handles; the old handles of those
   * slots stop working (ERR_KAIO_FIXED_FILE).
   */
  updateFiles(offset: number, fds: readonly number[]): FixedFile[] {
    if (this.#closing) throw stateError('ERR_KAIO_CLOSED', 'Ring is closed (updateFiles)');
    const list = fileList(fds, 'fds');
    validateInteger(offset, 'offset', 0, MAX_FIXED_FILES - 1);
    this.#beforeFileSlotsChange(offset, list.length);
    return this.#registration.updateFiles(offset, list);
  }

  /** Drops the file table (IORING_UNREGISTER_FILES); every FixedFile of it stops working. */
  unregisterFiles(): void {
    if (!this.#registration.hasFiles) return;
    this.#beforeFileSlotsChange(0, MAX_FIXED_FILES);
    this.#registration.unregisterFiles();
  }

  /**
   * Before table slots [first, first + count) change: every op already
   * started goes to the kernel now, which binds it to the file the slot
   * holds today; ops still waiting here for room on those slots fail (they
   * would reach whichever file the slot holds next).
   */
  #beforeFileSlotsChange(first: number, count: number): void {
    for (let i = 0; i < 2 && this.#staging.count !== 0; i++) {
      this.#afterSubmit(this.#native.submit());
      this.#staging.fill();
    }
    if (this.#staging.count !== 0)
      throw stateError('ERR_KAIO_BUSY', 'Ops started on this ring have no room in the kernel yet; change the file table after some complete');
    // Submitting is not enough: the kernel binds an op to a registered file
    // when it consumes the SQE, which an SQPOLL thread does on its own time
    // and an enter that answered EAGAIN/EBUSY did not do at all. Change
    // nothing until every SQE written so far is consumed.
    const r = this.#native.drainSq();
    if (r === EBUSY) {
      // Left in the SQ: the next flushes keep offering them to the kernel.
      setImmediate(() => this.#ops.scheduleFlush());
      throw stateError('ERR_KAIO_BUSY', 'Ops started on this ring are not consumed by the kernel yet; change the file table after some complete');
    }
    // Any other error took the SQEs back (they fail with it): none is left.
    this.#afterSubmit(r);
    this.#ops.failWaiting(
      (fd, sqeFlags) => (sqeFlags & SQE_FIXED_FILE) !== 0 && fd >= first && fd < first + count,
      () => stateError('ERR_KAIO_FIXED_FILE', 'The FixedFile\'s table slot changed before the op reached the kernel'),
    );
  }

  /** Takes over the count of ops in the ring or staged; wakes close() at none. */
  #countBusy(): void {
    this.#busy.set(this.#counters[Counter.InFlight] + this.#staging.count);
  }
}

const NO_OPTIONS: RwOptions = Object.freeze({});
/** IOSQE_FIXED_FILE for a registered file's index (checked by Ring#fd), else 0. */
const sqeFlagsOf = (fd: Fd): number => (typeof fd === 'number' ? 0 : SQE_FIXED_FILE);

const AT_REMOVEDIR = 0x200;
/** The empty path of a statx on an fd (AT_EMPTY_PATH). */
const EMPTY_CPATH = Buffer.from('\0');
/** struct statx buffers per slab (see #statxOut). */
const STATX_SLAB = 64;
/** IOSQE_IO_HARDLINK: the next SQE runs after this one, whatever its result (5.5). */
const SQE_IO_HARDLINK = 1 << 3;
const SQE_IO_LINK = 1 << 2;
/** IOSQE_ASYNC: always to an io-wq worker, never tried inline (5.6). */
const SQE_ASYNC = 1 << 4;

function dirfdOf(o: DirfdOptions): number {
  return o.dirfd === undefined ? AT_FDCWD : validateInteger(o.dirfd, 'options.dirfd', -100, 0x7fffffff);
}

/** A two-path op's kernel error as Node words it: `rename 'a' -> 'b'`, with path and dest. */
function withDest(path: string, dest: string): (e: unknown) => never {
  return (e: unknown): never => {
    const errno = (e as ErrnoError | undefined)?.errno;
    if (typeof errno !== 'number' || (e as ErrnoError).path !== undefined) throw e;
    throw systemError(errno, (e as ErrnoError).syscall, path, undefined, dest);
  };
}
const OP_CODES = new Map<string, number>(OP_NAMES.map((name, code) => [name, code]));

/** Rings made and not closed (or collected) in this thread, for the EMFILE message. */
let liveRings = 0;
const ringGone = new FinalizationRegistry<void>(() => void liveRings--);

function ringSetupError(e: unknown): unknown {
  const err = e as { code?: string; message?: string };
  if (err && err.code === 'EPERM') {
    err.message +=
      '\nio_uring is blocked here (kernel.io_uring_disabled, a seccomp profile such as Docker\'s default, or a sandbox).' +
      " createContext({ backend: 'auto' }) falls back to Linux AIO or the thread pool.";
  } else if (err && err.code === 'ENOMEM') {
    err.message += '\nThe ring\'s memory counts against RLIMIT_MEMLOCK on kernels before 5.12; try fewer entries or raise `ulimit -l`.';
  } else if (err && (err.code === 'EMFILE' || err.code === 'ENFILE')) {
    err.message +=
      `\nEvery ring holds an fd until it is closed; ${liveRings} ring(s) of this thread are not closed yet.` +
      ' close() rings you are done with: one dropped without close() is freed only after the garbage collector runs, and Node finishes that only after the current task.';
  }
  return e;
}
