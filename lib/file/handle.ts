// FileHandle: node:fs/promises' FileHandle, method for method, whose reads,
// writes and syncs go through a kaio context (io_uring by default). The
// argument forms, defaults, result shapes and errors are Node 20's (its
// lib/internal/fs/promises.js is the reference), so code switches by changing
// the import. Metadata calls (stat, chmod, chown, utimes, truncate) use
// node:fs, as Node itself does.
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import type { FileIo, ReadResult, WriteResult } from './file-io';
export type { FileIo, ReadResult, WriteResult };
import type { Interface as ReadlineInterface } from 'node:readline';
import { StringDecoder } from 'node:string_decoder';
import { inspect, types } from 'node:util';
import { AbortError, invalidArgType, invalidArgValue, outOfRange, stateError, systemError } from '../errors';
import {
  fileMode,
  getOptions,
  validateBufferArray,
  validateBufferArg,
  validateInteger,
} from './args';
import type { DirectIo } from './direct';
import { asRing } from './ring-ops';
import type { Ring } from '../ring';
import { STATX_BASIC_STATS, STATX_BTIME } from '../abi';
import { statsFromStatx } from '../fs/stats';
/** What libuv's fstat asks statx for. */
const STAT_MASK = STATX_BASIC_STATS | STATX_BTIME;
import { IOV_MAX, checkedLength, viewBuffer, viewByteOffset, viewBytes } from '../validate';
import { fileClosed, withCallerStack } from './errors';
import { readLines, readStream, writeStream, type ReadStreamOptions, type WriteStreamOptions } from './streams';
import { CurrentPosition, type WriteViews } from './position';
import { Pending } from '../pending';
import { binding } from '../binding';
import { resultBuffer } from './result-buffer';
import { bounceFor, finishBounce, giveBounce, isOwnMemory, lendOwnMemory, needsBounce, unlendOwnMemory } from '../bounce';
import { dropPools, hasLivePools, holdPools } from '../pool';
import { encodeOwn, lendOwn, unlendOwn } from '../own-buffer';



export interface ReadOptions<T extends ArrayBufferView = Buffer> {
  buffer?: T;
  offset?: number | null;
  length?: number | null;
  /** null/undefined: the handle's current position (which then advances). */
  position?: number | bigint | null;
}

export interface ReadFileOptions {
  encoding?: BufferEncoding | null;
  signal?: AbortSignal;
}

export interface WriteFileOptions {
  encoding?: BufferEncoding | null;
  signal?: AbortSignal;
  mode?: number | string;
  flag?: string | number;
  flush?: boolean;
}

export type WriteFileData =
  | string
  | ArrayBufferView
  | Iterable<string | ArrayBufferView>
  | AsyncIterable<string | ArrayBufferView>;

/** Node's kReadFileBufferLength / kReadFileUnknownBufferLength / kWriteFileMaxChunkSize. */
export const READ_CHUNK = 512 * 1024;
export const READ_UNKNOWN_CHUNK = 64 * 1024;
export const WRITE_CHUNK = 512 * 1024;
/** Node's kIoMaxLength: the largest file readFile reads (2 GiB). */
export const IO_MAX = 2 ** 31 - 1;
/**
 * Streams read chunks in the page cache in the calling thread (see
 * _streamRead); KAIO_INLINE_STREAM_READ=0 sends every chunk through the context.
 */
const inlineStreamReads = process.env.KAIO_INLINE_STREAM_READ !== '0';
/** KAIO_NOWAIT_READ=0: read() of caller memory always goes through bounce memory (see #directRest; for A/B runs). */
let directReadsOn = process.env.KAIO_NOWAIT_READ !== '0';
/** Turns the first try on or off in this thread (for benchmarks' in-process A/B; not exported by the package); returns what it was. */
export function _setNowaitReads(on: boolean): boolean {
  const was = directReadsOn;
  directReadsOn = on;
  return was;
}
/** What read()'s page-cache first try (#directRest) did, in this thread (for tests; not exported by the package). */
const nowaitCounts = { tries: 0, whole: 0, part: 0, missed: 0, refused: 0 };
export function _nowaitStats(): { tries: number; whole: number; part: number; missed: number; refused: number } {
  return { ...nowaitCounts };
}
/** Reads a missing first try skips at most before it tries again (a cold file pays one failed try in this many). */
const NOWAIT_BACKOFF_MAX = 64;
const O_DIRECT_FLAG = fs.constants.O_DIRECT ?? 0o40000;
const EFAULT = -14;

const S_IFMT = 0o170000;
const S_IFREG = 0o100000;
const AT_EMPTY_PATH = 0x1000;
/** Stats from a struct statx, built on the op's completion (Ring#_statxAs). */
type MakeStats = (out: Uint8Array) => fs.Stats | fs.BigIntStats;
const numberStats: MakeStats = (out) => statsFromStatx(out, false);
const bigStats: MakeStats = (out) => statsFromStatx(out, true);
const ESPIPE = -29;
const SEEK_CUR = 1;

function cb<T>(fn: (done: (err: NodeJS.ErrnoException | null, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value as T))));
}

/** A position as Node's FileHandle takes it: a safe integer >= 0 (or, in kaio, a bigint >= 0); anything else is "current". */
function readPosition(p: unknown): number | bigint {
  if (typeof p === 'number') return Number.isSafeInteger(p) && p >= 0 ? p : -1;
  if (typeof p === 'bigint') {
    if (p < 0n) return -1;
    if (p > 0x7fffffffffffffffn) throw outOfRange('position', `>= 0n && <= ${0x7fffffffffffffffn}n`, p);
    return p <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(p) : p;
  }
  return -1;
}


/**
 * A read or write through node:fs (libuv's workers, which touch the memory
 * while the JS thread runs on) on kaio's bounce memory when `views` are the
 * caller's: a write's bytes are copied at the call, a read's copied into the
 * views at completion only if none was detached or shrunk meanwhile (else
 * EFAULT, see lib/bounce.ts). One view: read/write; several: readv/writev.
 */
function nodeRw(write: boolean, fd: number, views: ArrayBufferView[], pos: number | bigint | null): Promise<number> {
  // A pool the views lie in is held until libuv's worker is done with them
  // (pool memory goes to it as it is, with no bounce): pool.release() waits,
  // as it does for the context's own ops, instead of unmapping the memory a
  // worker may still read or write (and which the next mapping may reuse).
  let held;
  try {
    held = hasLivePools() ? holdPools(views) : undefined;
  } catch (e) {
    return Promise.reject(e);
  }
  if (held === undefined) return nodeRwHeld(write, fd, views, pos);
  const pools = held;
  let op: Promise<number>;
  try {
    op = nodeRwHeld(write, fd, views, pos);
  } catch (e) {
    dropPools(pools);
    return Promise.reject(e);
  }
  // Dropped as the op settles (before the caller's continuation runs).
  const drop = (): void => dropPools(pools);
  op.then(drop, drop);
  return op;
}

function nodeRwHeld(write: boolean, fd: number, views: ArrayBufferView[], pos: number | bigint | null): Promise<number> {
  const vectored = views.length !== 1;
  const pairs: Array<ArrayBufferView | number> = [];
  let total = 0;
  for (const v of views) {
    const n = viewBytes(v);
    pairs.push(v, n < 0 ? 0 : n);
    total += n < 0 ? 0 : n;
  }
  const direct = (): Promise<number> =>
    cb<number>((done) =>
      vectored
        ? write ? fs.writev(fd, views as NodeJS.ArrayBufferView[], pos as number | null, done) : fs.readv(fd, views as NodeJS.ArrayBufferView[], pos as number | null, done)
        : write ? fs.write(fd, views[0] as NodeJS.ArrayBufferView, 0, total, pos as number | null, done) : fs.read(fd, views[0] as NodeJS.ArrayBufferView, 0, total, pos as number | null, done));
  if (total === 0 || !needsBounce(pairs, true, 0)) return direct();
  const b = bounceFor(vectored ? pairs : views[0], vectored, total, write);
  if (!vectored) b.bytes = total;
  const mem = b.view(total);
  return cb<number>((done) =>
    vectored
      ? write ? fs.writev(fd, [mem], pos as number | null, done) : fs.readv(fd, [mem], pos as number | null, done)
      : write ? fs.write(fd, mem, 0, total, pos as number | null, done) : fs.read(fd, mem, 0, total, pos as number | null, done),
  ).then(
    (n) => {
      const r = finishBounce(b, n);
      if (r < 0) throw systemError(r, write ? (vectored ? 'writev' : 'write') : vectored ? 'readv' : 'read');
      return r;
    },
    (e) => {
      giveBounce(b);
      throw e;
    },
  );
}

/**
 * A plain Uint8Array over a caller's view, from the engine's own getters (a
 * subclass or an own `buffer` property cannot redirect it); a detached view
 * fails with ERR_INVALID_ARG_VALUE.
 */
function u8(view: ArrayBufferView, offset = 0, length?: number): Uint8Array {
  const size = checkedLength(view);
  return new Uint8Array(viewBuffer(view) as ArrayBuffer, viewByteOffset(view) + offset, length ?? size - offset);
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortError(undefined, { cause: signal.reason });
}

function isCustomIterable(data: unknown): data is Iterable<unknown> | AsyncIterable<unknown> {
  return (
    data !== null &&
    typeof data === 'object' &&
    !ArrayBuffer.isView(data) &&
    (typeof (data as Iterable<unknown>)[Symbol.iterator] === 'function' ||
      typeof (data as AsyncIterable<unknown>)[Symbol.asyncIterator] === 'function')
  );
}

/** Node's writeFile data check: string, view or (async) iterable; a string becomes bytes. */
export function writeFileData(data: unknown, encoding: BufferEncoding | null | undefined): ArrayBufferView | Iterable<unknown> | AsyncIterable<unknown> {
  if (ArrayBuffer.isView(data)) return data;
  // Not a Proxy: iterating one runs its traps while the file is written (and
  // one over a Buffer fails inside V8's iterator with an uncoded TypeError).
  if (types.isProxy(data)) throw invalidArgType('data', 'of type string or an instance of Buffer, TypedArray, or DataView', data);
  if (isCustomIterable(data)) return data;
  if (typeof data !== 'string')
    throw invalidArgType('data', 'of type string or an instance of Buffer, TypedArray, or DataView', data);
  // Encoded by kaio and never handed out: written without a bounce (lib/own-buffer.ts).
  return encodeOwn(data, encoding || 'utf8');
}

const IO_METHODS = ['read', 'write', 'readv', 'writev', 'fsync'] as const;
const DIRECT_METHODS = ['read', 'write', 'vectored'] as const;

/** An object (not a Proxy) whose named properties are functions; ERR_INVALID_ARG_TYPE otherwise. */
function validateMethods(value: unknown, name: string, what: string, methods: readonly string[]): void {
  const ok =
    value !== null &&
    typeof value === 'object' &&
    !types.isProxy(value) &&
    methods.every((m) => typeof (value as Record<string, unknown>)[m] === 'function');
  if (!ok) throw invalidArgType(name, `${what} (an object with the methods ${methods.join(', ')})`, value);
}

let gcDeprecationShown = false;

/**
 * Handles that were never closed: the garbage collector closes their fd, as
 * Node's FileHandle does, and says so in Node's words (a warning each time,
 * the deprecation once), since a handle dropped unclosed is a bug in the caller. The held
 * value is the fd number alone: nothing here keeps a handle alive. A handle
 * with ops in flight is reachable from their promises, so it is never
 * collected under them.
 */
const unclosed = new FinalizationRegistry<number>((fd) => {
  fs.close(fd, () => undefined);
  process.emitWarning(`Closing file descriptor ${fd} on garbage collection`);
  if (!gcDeprecationShown) {
    gcDeprecationShown = true;
    // Node's words for DEP0137, as for the warning above: a deprecation is
    // found by its text as much as by its code (logs, --throw-deprecation,
    // a search), and both describe what kaio's handle does.
    process.emitWarning(
      'Closing a FileHandle object on garbage collection is deprecated. Please close FileHandle objects ' +
        'explicitly using FileHandle.prototype.close(). In the future, an error will be thrown if a file ' +
        'descriptor is closed during garbage collection.',
      'DeprecationWarning',
      'DEP0137',
    );
  }
});

/**
 * @internal The handle's fd is the caller's from now on: the garbage
 * collector no longer closes it (a path stream with autoClose false, whose
 * fd the caller closes, as with Node).
 */
export function disownOnGc(handle: FileHandle): void {
  unclosed.unregister(handle);
}

/**
 * A file handle; see node:fs/promises FileHandle. Made by open().
 * Emits 'close' once its fd is closed.
 */
export class FileHandle extends EventEmitter {
  #fd: number;
  readonly #io: FileIo;
  readonly #direct: DirectIo | undefined;
  #closing: Promise<void> | undefined;
  /** Ops of this handle not settled yet: close() waits for them, as Node's FileHandle does. */
  readonly #pending = new Pending();
  #locked = false;
  /** Linux AIO has no "current position": such reads and writes go through node:fs. */
  readonly #currentPosition: boolean;
  readonly #closeFd: (fd: number) => Promise<void>;
  /** Current-position ops, one at a time at the kernel's file offset (made at the first). */
  #position: CurrentPosition | undefined;
  /** The batch writer of the current-position writes, and the fd it writes to. */
  #writeViewsFn: WriteViews | undefined;
  #writeViewsFd = -1;
  /** Streams over this handle not closed yet: a close() meanwhile waits for them (their ops go on), as Node's. */
  #streams = 0;
  /** Settles the close() that waits for the streams. */
  #afterStreams: { resolve: () => void; reject: (e: unknown) => void } | undefined;

  /**
   * @internal Made by open(). Takes ownership of fd: close() closes it, and
   * so does the garbage collector (with Node's warning) if nobody did.
   */
  constructor(fd: number, io: FileIo, direct?: DirectIo, closeFd?: (fd: number) => Promise<void>) {
    super();
    validateInteger(fd, 'fd', 0, 0x7fffffff);
    validateMethods(io, 'io', 'a kaio context', IO_METHODS);
    if (direct !== undefined) validateMethods(direct, 'direct', 'a DirectIo', DIRECT_METHODS);
    if (closeFd !== undefined && typeof closeFd !== 'function') throw invalidArgType('closeFd', 'of type function', closeFd);
    this.#fd = fd;
    this.#io = io;
    this.#direct = direct;
    this.#currentPosition = io.backend !== 'aio';
    this.#closeFd = closeFd ?? ((n) => cb<void>((done) => fs.close(n, done)));
    unclosed.register(this, fd, this);
  }

  /** The numeric fd, or -1 once closed (as Node's FileHandle). */
  get fd(): number {
    return this.#fd;
  }

  // ── reads ──────────────────────────────────────────────────────────────

  /**
   * read(buffer, offset?, length?, position?), read(buffer, { offset, length, position })
   * or read({ buffer, offset, length, position }). A position that is not an
   * integer >= 0 (null, undefined) reads from the current file position and
   * advances it. Resolves to { bytesRead, buffer }.
   */
  read<T extends ArrayBufferView = Buffer>(buffer: T, offset?: number | null, length?: number | null, position?: number | bigint | null): Promise<ReadResult<T>>;
  read<T extends ArrayBufferView = Buffer>(buffer: T, options?: ReadOptions<T>): Promise<ReadResult<T>>;
  read<T extends ArrayBufferView = Buffer>(options?: ReadOptions<T>): Promise<ReadResult<T>>;
  async read<T extends ArrayBufferView>(
    bufferOrOptions?: T | ReadOptions<T> | null,
    offsetOrOptions?: number | null | ReadOptions<T>,
    length?: number | null,
    position?: number | bigint | null,
  ): Promise<ReadResult<T>> {
    const fd = this.#check('read');
    let buffer: T;
    let lent: Buffer | undefined;
    let offset: unknown = offsetOrOptions;
    let len: unknown = length;
    let pos: unknown = position;
    if (!ArrayBuffer.isView(bufferOrOptions)) {
      if (bufferOrOptions !== undefined && bufferOrOptions !== null && typeof bufferOrOptions !== 'object')
        throw invalidArgType('options', 'of type object', bufferOrOptions);
      if (Array.isArray(bufferOrOptions)) throw invalidArgType('options', 'of type object', bufferOrOptions);
      const o = (bufferOrOptions ?? {}) as ReadOptions<T>;
      const given = o.buffer;
      // Node's default: 16 KiB of zeros, kaio's own until returned (read without a bounce).
      if (given === undefined) lent = lendOwn(16384, true);
      buffer = given === undefined ? (lent as unknown as T) : given;
      offset = o.offset;
      if (offset === undefined) offset = 0;
      validateBufferArg(buffer);
      len = o.length;
      if (len === undefined) len = checkedLength(buffer, 'buffer') - (offset as number);
      pos = o.position;
      if (pos === undefined) pos = null;
    } else {
      buffer = bufferOrOptions;
    }
    const size = checkedLength(buffer, 'buffer');
    if (offset !== null && typeof offset === 'object') {
      const o = offset as ReadOptions<T>;
      offset = o.offset;
      if (offset === undefined) offset = 0;
      len = o.length;
      if (len === undefined) len = size - (offset as number);
      pos = o.position;
      if (pos === undefined) pos = null;
    }
    if (offset === undefined || offset === null) offset = 0;
    else validateInteger(offset, 'offset', 0);
    const off = offset as number;
    if (len === undefined || len === null) len = size - off;
    if (len === 0) {
      if (lent !== undefined) unlendOwn(lent);
      return { __proto__: null, bytesRead: 0, buffer } as unknown as ReadResult<T>;
    }
    if (size === 0) throw invalidArgValue('buffer', `is empty and cannot be written. Received ${inspectShort(buffer)}`);
    if (typeof len !== 'number') throw invalidArgType('length', 'of type number', len);
    if (len < 0) throw outOfRange('length', '>= 0', len);
    if (off + len > size) throw outOfRange('length', `<= ${size - off}`, len);
    const view = off === 0 && len === size ? buffer : u8(buffer, off, len);
    const at = readPosition(pos);
    let ring = directReadsOn && lent === undefined && typeof at === 'number' && at >= 0 && this.#skipNowait === 0 ? this.#directRing(fd) : undefined;
    if (ring !== undefined && isOwnMemory(view)) ring = undefined;
    if (ring === undefined && this.#skipNowait > 0) this.#skipNowait--;
    this.#pending.enter();
    try {
      let bytesRead: number;
      if (ring === undefined) {
        bytesRead = await this.#read(fd, view, at);
      } else {
        // The page-cache first try (see #directRest); one await when it has it all.
        nowaitCounts.tries++;
        let failed: unknown;
        try {
          bytesRead = await ring._readDirect(fd, view, at as number, len);
        } catch (e) {
          failed = e;
          bytesRead = -1;
        }
        if (bytesRead === len || bytesRead === 0) {
          nowaitCounts.whole++;
          this.#nowaitBackoff = 1;
        } else {
          bytesRead = await this.#directRest(fd, view, at as number, len, bytesRead, failed);
        }
      }
      return { __proto__: null, bytesRead, buffer } as unknown as ReadResult<T>;
    } catch (e) {
      throw withCallerStack(e);
    } finally {
      if (lent !== undefined) unlendOwn(lent);
      this.#settled();
    }
  }

  /**
   * @internal The read of this handle's streams (streams.ts): all of `view`
   * (a Buffer the stream made) at `position` (not a number: the current
   * position), the count or the error to `done`, in a later event-loop turn.
   * A chunk in the page cache is read here, in this thread (preadv2 with
   * RWF_NOWAIT: the copy io_uring would make inline in io_uring_enter,
   * without the ring's round trip, the lseek and the promises). What is not
   * cached, the rest of a chunk cached in part, and every error go through
   * the context as read() does. At the current position only when no
   * current-position op of the handle is queued (else it queues behind them).
   * A whole chunk read through the context lands in a Buffer kaio makes
   * (lib/own-buffer.ts: no caller can reach it while the read is in flight,
   * so no bounce copy; `view` is anyone's), given to `done` as the chunk.
   */
  _streamRead(view: Uint8Array, position: number | null | undefined, done: (err: unknown, bytesRead?: number, chunk?: Uint8Array) => void): void {
    let fd: number;
    try {
      fd = this.#check('read');
    } catch (e) {
      setImmediate(done, e);
      return;
    }
    const at = typeof position === 'number' ? position : -1;
    const len = viewBytes(view);
    this.#pending.enter();
    let first = 0;
    // Only after a full chunk: a stream's first read (all of a small file,
    // read short) goes through the context, where the reads of many
    // streams share one io_uring_enter (an HTTP server's 64 in flight);
    // the chunks of a long stream after it come from here.
    const inline = this.#streamFull;
    this.#streamFull = false;
    const settle = (n: number): number => {
      this.#streamFull = n === len;
      return n;
    };
    if (inline && inlineStreamReads && !this.#direct && len > 0 && (at !== -1 || this.#position === undefined || this.#position.idle)) {
      let got = binding.readNowait(fd, view, at);
      // Short (got > 0): a pipe, socket or tty gives what it had, as read(2)
      // (the context's read of the rest would wait for more). A regular file
      // was at its end, or at the end of what is cached: one more try
      // tells (0: the end; EAGAIN: the rest from the context). The file
      // position, at -1, has moved past what was read.
      if (got > 0 && got < len && this.#isRegular(fd)) {
        while (got < len) {
          const more = binding.readNowait(fd, view.subarray(got), at === -1 ? -1 : at + got);
          if (more <= 0) {
            if (more < 0) first = got;
            break;
          }
          got += more;
        }
      }
      if (got >= 0 && first === 0) {
        // All of it, the end of the file, or what a pipe had.
        settle(got);
        setImmediate(() => {
          this.#settled();
          done(null, got);
        });
        return;
      }
      // An error: the context's read reports it, as it would have.
    }
    // (An O_DIRECT handle keeps the stream's memory: its alignment decides, as Node's would.)
    const own = first === 0 && !this.#direct && len > 0 ? lendOwn(len) : undefined;
    const rest = own !== undefined ? own : first === 0 ? view : view.subarray(first);
    this.#read(fd, rest, at === -1 ? -1 : at + first).then(
      (n) => {
        this.#settled();
        if (own !== undefined) unlendOwn(own);
        done(null, settle(first + n), own);
      },
      (e) => {
        if (own !== undefined) unlendOwn(own);
        this.#settled();
        // Bytes read before the error: the count, as read(2) gives it; the next read meets the error.
        if (first > 0) done(null, first);
        else done(withCallerStack(e));
      },
    );
  }

  /**
   * read()'s page-cache first try, for caller memory at a position: one
   * io_uring read with RWF_NOWAIT straight into `view`, with no bounce
   * memory (Ring._readDirect). It is safe because the kernel can fill the
   * view only inside the io_uring_enter of this tick's flush, while this
   * thread is in that system call: no JS runs then, so nothing can detach
   * or free the memory, and RWF_NOWAIT leaves nothing for later (native
   * KeepDirect lists what the kernel's read path does with such a read,
   * and refuses every case where it would be issued elsewhere). What the
   * page cache did not have comes back as EAGAIN (nothing) or a short
   * count (part): this reads the rest as before, through bounce memory, and
   * the caller sees one read with the whole count (`got`: the first try's
   * count, or -1 when it failed with `failed`). A view detached before
   * the flush fails EFAULT, as the bounce path's does.
   */
  #directRest(fd: number, view: ArrayBufferView, at: number, len: number, got: number, failed: unknown): Promise<number> {
    if (got < 0) {
      const code = (failed as { code?: unknown }).code;
      if (code === 'EAGAIN') {
        // Not cached: the context's read waits for it. Misses in a row
        // send the next reads straight there (1, 2, 4, ... up to 64).
        nowaitCounts.missed++;
        this.#skipNowait = this.#nowaitBackoff;
        if (this.#nowaitBackoff < NOWAIT_BACKOFF_MAX) this.#nowaitBackoff *= 2;
      } else {
        nowaitCounts.refused++;
        // A file without RWF_NOWAIT support: never again on this fd.
        // Anything else (native refused the try: the fd number may name
        // another file now, opened with O_DIRECT): the next read looks at the fd again.
        if (code === 'EOPNOTSUPP') this.#directOk = false;
        else this.#directFd = -1;
      }
      // The view detached or shrunk since the call: EFAULT, as the bounce
      // path gives it. Any other error is the usual read's to meet and report.
      if (viewBytes(view) < len) return Promise.reject(systemError(EFAULT, 'read'));
      return this.#read(fd, view, at);
    }
    // Short: the end of the file, or of what is cached.
    this.#nowaitBackoff = 1;
    nowaitCounts.part++;
    if (viewBytes(view) < len) return Promise.reject(systemError(EFAULT, 'read'));
    return this.#readRest(fd, u8(view), at, got);
  }

  /**
   * The rest of a read whose first `first` bytes are in: the context reads
   * it (into bounce memory). The count is first + what it read; an error
   * after those bytes gives just them, as read(2) does.
   */
  async #readRest(fd: number, view: Uint8Array, at: number, first: number): Promise<number> {
    try {
      return first + (await this.#read(fd, view.subarray(first), at + first));
    } catch (e) {
      // (A view detached meanwhile: its EFAULT, as a bounced read's.)
      if (viewBytes(view) === 0) throw e;
      return first;
    }
  }

  /**
   * The ring read()'s first try goes through, or undefined: a Ring that
   * keeps the caller's memory for it (Ring._directReads: no SQPOLL or
   * IOPOLL, Linux 5.10+), and an fd that is a regular file or block device
   * without O_DIRECT (fstat and F_GETFL once per fd). An O_DIRECT read
   * returns -EIOCBQUEUED inside the kernel and the device writes the memory
   * later, after io_uring_enter returned: never here. Pipes, sockets and
   * ttys are left out too. The fd can have O_DIRECT by a later read (the
   * caller closed the handle's fd behind its back and a file opened with
   * O_DIRECT took the number; fcntl(F_SETFL) from a native addon): native
   * looks at O_DIRECT again in each flush, just before the enter
   * (BufferedFd in js_ring.cc), and refuses the try; this then looks at
   * the fd again. (Another thread changing the fd between that look and
   * the enter is not covered.)
   */
  #directRing(fd: number): Ring | undefined {
    if (this.#directFd !== fd) {
      let ok = false;
      const ring = !this.#direct ? asRing(this.#io) : undefined;
      if (ring !== undefined && ring._directReads) {
        const flags = binding.statusFlags(fd);
        try {
          const st = fs.fstatSync(fd);
          ok = flags >= 0 && (flags & O_DIRECT_FLAG) === 0 && (st.isFile() || st.isBlockDevice());
        } catch {
          // not known: the usual read
        }
      }
      this.#directOk = ok;
      this.#directFd = fd;
    }
    if (!this.#directOk) return undefined;
    const ring = this.#io as Ring;
    return ring.closed ? undefined : ring;
  }

  #directOk = false;
  #directFd = -1;
  /** Reads left to send straight to the usual path after a first try missed. */
  #skipNowait = 0;
  /** What the next miss sets #skipNowait to (doubles per miss, back to 1 on a hit). */
  #nowaitBackoff = 1;

  /**
   * @internal The write of this handle's streams (streams.ts): all of
   * `views` (the stream's Buffers) at `position` (not a number: the current
   * position), the count or the error to `done`, after the op settles. As
   * write()/writev() with those arguments, without their promise: at the
   * current position with no current-position op of the handle queued, the
   * chunk goes out at once (CurrentPosition#lone: the same lseek and write
   * the queue would make, none of its JS). Anything else (a direct handle,
   * a closed one, an empty or detached view, the fd's first write) takes
   * write()/writev().
   */
  _streamWrite(views: Uint8Array[], position: number | null | undefined, done: (err: unknown, bytesWritten?: number) => void): void {
    const fd = this.#fd;
    let bytes = 0;
    let ok = fd !== -1 && !this.#direct && views.length <= IOV_MAX;
    for (let i = 0; ok && i < views.length; i++) {
      const n = viewBytes(views[i]);
      ok = n > 0;
      bytes += n;
    }
    const at = typeof position === 'number' ? readPosition(position) : -1;
    let op: Promise<number> | undefined;
    if (ok) {
      this.#pending.enter();
      try {
        if (at !== -1) op = views.length === 1 ? this.#write(fd, views[0], at) : this.#vectored(true, fd, views, at);
        else if (this.#position !== undefined) op = this.#position.lone(fd, views, bytes, this.#writeViews(fd));
      } catch (e) {
        op = Promise.reject(e);
      }
      if (op === undefined) this.#settled();
    }
    if (op === undefined) {
      const p = views.length === 1 ? this.write(views[0], 0, viewBytes(views[0]), position ?? null) : this.writev(views, position ?? null);
      p.then((r) => done(null, r.bytesWritten), (e) => done(e));
      return;
    }
    op.then(
      (n) => {
        this.#settled();
        done(null, n);
      },
      (e) => {
        this.#settled();
        done(withCallerStack(views.length === 1 ? e : renameSyscall(e, 'writev', 'write')));
      },
    );
  }

  /** Whether fd is a regular file (fstat once per fd; false when fstat fails). */
  #isRegular(fd: number): boolean {
    if (this.#regularFd !== fd) {
      let regular = false;
      try {
        regular = fs.fstatSync(fd).isFile();
      } catch {
        // not known: treated as not regular (a short read is delivered as it is)
      }
      this.#regular = regular;
      this.#regularFd = fd;
    }
    return this.#regular;
  }

  #regular = false;
  #regularFd = -1;
  /** The last stream read of this handle filled its buffer: the next may be read in the calling thread. */
  #streamFull = false;

  /** readv(buffers, position?): scatter read; a non-number position reads at the current position. */
  async readv<T extends readonly ArrayBufferView[]>(buffers: T, position?: number | bigint | null): Promise<{ bytesRead: number; buffers: T }> {
    const fd = this.#check('readv');
    const list = validateBufferArray(buffers);
    const at = typeof position === 'number' || typeof position === 'bigint' ? readPosition(position) : -1;
    this.#pending.enter();
    try {
      // readv(2) of no buffers: Node passes it to the kernel, which says EINVAL.
      if (list.length === 0) throw systemError(-22, 'read');
      const bytesRead = await this.#vectored(false, fd, list, at);
      return { __proto__: null, bytesRead, buffers } as unknown as { bytesRead: number; buffers: T };
    } catch (e) {
      throw withCallerStack(renameSyscall(e, 'readv', 'read'));
    } finally {
      this.#settled();
    }
  }

  /**
   * Reads from the current position to the end: a Buffer, or a string with
   * an encoding. Sized from fstat for regular files, as Node's.
   */
  readFile(options?: { encoding?: null; signal?: AbortSignal } | null): Promise<Buffer>;
  readFile(options: { encoding: BufferEncoding; signal?: AbortSignal } | BufferEncoding): Promise<string>;
  readFile(options?: ReadFileOptions | BufferEncoding | null): Promise<string | Buffer>;
  async readFile(options?: ReadFileOptions | BufferEncoding | null): Promise<string | Buffer> {
    const fd = this.#check('readFile');
    const o = getOptions(options, {} as ReadFileOptions);
    this.#pending.enter();
    try {
      return await this.#readAll(fd, o.encoding ?? undefined, o.signal, -1);
    } catch (e) {
      throw withCallerStack(e);
    } finally {
      this.#settled();
    }
  }

  /** @internal readFile's loop, from `from` (-1: the current position). */
  async #readAll(fd: number, encoding: BufferEncoding | undefined, signal: AbortSignal | undefined, from: number): Promise<string | Buffer> {
    checkAborted(signal);
    const size = await this.#regularSize(fd);
    checkAborted(signal);
    if (size > IO_MAX) throw fileTooLarge(size);
    return readLoop((view, at) => this.#read(fd, view, at), size, encoding, signal, from);
  }

  /** The size of a regular file, else 0 (fstat; statx on the ring where it has the op). */
  async #regularSize(fd: number): Promise<number> {
    const ring = asRing(this.#io, 'STATX');
    if (ring) {
      try {
        const st = await ring.statx('', { dirfd: fd, flags: AT_EMPTY_PATH, mask: STATX_BASIC_STATS });
        return st.isFile() ? Number(st.size) : 0;
      } catch (e) {
        throw renameSyscall(e, 'statx', 'fstat');
      }
    }
    const st = await cb<fs.Stats>((done) => fs.fstat(fd, done));
    return (st.mode & S_IFMT) === S_IFREG ? st.size : 0;
  }

  // ── writes ─────────────────────────────────────────────────────────────

  /**
   * write(buffer, offset?, length?, position?), write(buffer, { offset, length, position })
   * or write(string, position?, encoding?). A position that is not a number
   * (null, undefined) writes at the current position (the end in append mode).
   */
  write<T extends ArrayBufferView>(buffer: T, offset?: number | null, length?: number | null, position?: number | bigint | null): Promise<WriteResult<T>>;
  write<T extends ArrayBufferView>(buffer: T, options?: { offset?: number; length?: number; position?: number | bigint | null }): Promise<WriteResult<T>>;
  write(data: string, position?: number | bigint | null, encoding?: BufferEncoding | null): Promise<WriteResult<string>>;
  async write<T extends ArrayBufferView | string>(
    data: T,
    offsetOrOptions?: unknown,
    lengthOrEncoding?: unknown,
    position?: unknown,
  ): Promise<WriteResult<T>> {
    const fd = this.#check('write');
    if (ArrayBuffer.isView(data) && viewBytes(data) === 0) return { __proto__: null, bytesWritten: 0, buffer: data } as unknown as WriteResult<T>;
    let view: ArrayBufferView;
    let at: number | bigint;
    if (ArrayBuffer.isView(data)) {
      const size = checkedLength(data, 'buffer');
      let offset = offsetOrOptions;
      let length = lengthOrEncoding;
      let pos = position;
      if (typeof offset === 'object') {
        const o = (offsetOrOptions ?? {}) as { offset?: number; length?: number; position?: number | bigint | null };
        offset = o.offset;
        if (offset === undefined) offset = 0;
        length = o.length;
        if (length === undefined) length = size - (offset as number);
        pos = o.position;
        if (pos === undefined) pos = null;
      }
      if (offset === undefined || offset === null) offset = 0;
      else validateInteger(offset, 'offset', 0);
      const off = offset as number;
      if (typeof length !== 'number') length = size - off;
      const len = length as number;
      if (off > size) throw outOfRange('offset', `<= ${size}`, off);
      if (len > size - off) throw outOfRange('length', `<= ${size - off}`, len);
      if (len < 0) throw outOfRange('length', '>= 0', len);
      validateInteger(len, 'length', 0, 2 ** 31 - 1);
      view = off === 0 && len === size ? data : u8(data, off, len);
      at = typeof pos === 'number' || typeof pos === 'bigint' ? readPosition(pos) : -1;
    } else {
      if (typeof data !== 'string')
        throw invalidArgType('buffer', 'of type string or an instance of Buffer, TypedArray, or DataView', data);
      // As Node: an unknown encoding writes UTF-8; odd-length hex is refused.
      const encoding = typeof lengthOrEncoding === 'string' && Buffer.isEncoding(lengthOrEncoding) ? lengthOrEncoding : 'utf8';
      if (encoding.toLowerCase() === 'hex' && data.length % 2 !== 0)
        throw invalidArgValue('encoding', `is invalid for data of length ${data.length}. Received ${inspect(lengthOrEncoding)}`);
      view = encodeOwn(data, encoding); // kaio's, never handed out: no bounce
      at = typeof offsetOrOptions === 'number' || typeof offsetOrOptions === 'bigint' ? readPosition(offsetOrOptions) : -1;
    }
    this.#pending.enter();
    try {
      const bytesWritten = await this.#write(fd, view, at);
      return { __proto__: null, bytesWritten, buffer: data } as unknown as WriteResult<T>;
    } catch (e) {
      throw withCallerStack(e);
    } finally {
      this.#settled();
    }
  }

  /** writev(buffers, position?): gather write; a non-number position writes at the current position. */
  async writev<T extends readonly ArrayBufferView[]>(buffers: T, position?: number | bigint | null): Promise<{ bytesWritten: number; buffers: T }> {
    const fd = this.#check('writev');
    const list = validateBufferArray(buffers);
    const at = typeof position === 'number' || typeof position === 'bigint' ? readPosition(position) : -1;
    if (list.length === 0) return { __proto__: null, bytesWritten: 0, buffers } as unknown as { bytesWritten: number; buffers: T };
    this.#pending.enter();
    try {
      const bytesWritten = await this.#vectored(true, fd, list, at);
      return { __proto__: null, bytesWritten, buffers } as unknown as { bytesWritten: number; buffers: T };
    } catch (e) {
      throw withCallerStack(renameSyscall(e, 'writev', 'write'));
    } finally {
      this.#settled();
    }
  }

  /**
   * Writes data (string, buffer, or an (async) iterable of them) at the
   * current position, as Node's handle.writeFile: it does not truncate; a
   * handle opened with 'w' was truncated by open, one opened with 'a' appends.
   */
  async writeFile(data: WriteFileData, options?: WriteFileOptions | BufferEncoding | null): Promise<void> {
    const fd = this.#check('writeFile');
    return this.#writeFileOn(fd, data, options);
  }

  /** Same as writeFile (Node's appendFile on a handle: appending is the open flag's business). */
  async appendFile(data: WriteFileData, options?: WriteFileOptions | BufferEncoding | null): Promise<void> {
    const fd = this.#check('writeFile');
    return this.#writeFileOn(fd, data, options);
  }

  async #writeFileOn(fd: number, data: WriteFileData, options?: WriteFileOptions | BufferEncoding | null): Promise<void> {
    const o = getOptions(options, { encoding: 'utf8' } as WriteFileOptions);
    const bytes = writeFileData(data, o.encoding);
    this.#pending.enter();
    try {
      await this.writeAll(fd, bytes, o.signal, o.encoding ?? undefined);
    } catch (e) {
      throw withCallerStack(e);
    } finally {
      this.#settled();
    }
  }

  /**
   * @internal writeFile's loop, shared with the module-level writeFile: at
   * the current position, or (`from` >= 0, a fresh fd not in append mode) at
   * offsets from `from`, which every backend (AIO too) does itself. `cursor`
   * (given by the caller) ends at the offset after the last byte that reached
   * the file, also when a write failed (-1: the fd's own position was used).
   */
  async writeAll(fd: number, data: ArrayBufferView | Iterable<unknown> | AsyncIterable<unknown>, signal: AbortSignal | undefined, encoding: BufferEncoding | undefined, from = -1, cursor = { at: from }): Promise<void> {
    checkAborted(signal);
    if (!ArrayBuffer.isView(data)) {
      for await (const item of data as AsyncIterable<unknown>) {
        checkAborted(signal);
        const chunk = ArrayBuffer.isView(item) ? u8(item) : encodeOwn(item as string, encoding || 'utf8');
        await this.#writeChunks(fd, chunk, signal, cursor);
      }
      return;
    }
    await this.#writeChunks(fd, u8(data), signal, cursor);
  }

  async #writeChunks(fd: number, bytes: Uint8Array, signal: AbortSignal | undefined, cursor: { at: number }): Promise<void> {
    return writeAllAt((chunk, at) => this.#write(fd, chunk, at), bytes, signal, cursor);
  }

  // ── metadata and syncs ─────────────────────────────────────────────────

  stat(options?: { bigint?: false }): Promise<fs.Stats>;
  stat(options: { bigint: true }): Promise<fs.BigIntStats>;
  stat(options?: fs.StatOptions): Promise<fs.Stats | fs.BigIntStats>;
  async stat(options?: fs.StatOptions): Promise<fs.Stats | fs.BigIntStats> {
    const fd = this.#check('fstat');
    const bigint = options?.bigint === true;
    // fstat(2) as statx(fd, "", AT_EMPTY_PATH) on the ring, where it has the op.
    const ring = asRing(this.#io, 'STATX');
    // The Stats are built on the completion (no second promise), in a slab's
    // 256 bytes, as kaio/fs/promises' stat.
    if (ring) return this.#onRing(ring._statxAs('', AT_EMPTY_PATH, STAT_MASK, 'fstat', undefined, bigint ? bigStats : numberStats, fd));
    return this.#meta((done) => fs.fstat(fd, { bigint }, done as never));
  }

  /** ftruncate(2) (IORING_OP_FTRUNCATE on the ring, 6.9); len defaults to 0, negative counts as 0 (as Node). */
  async truncate(len: number = 0): Promise<void> {
    const fd = this.#check('ftruncate');
    validateInteger(len, 'len');
    const ring = asRing(this.#io, 'FTRUNCATE');
    if (ring) return this.#onRing(ring.ftruncate(fd, Math.max(0, len)));
    return this.#meta<void>((done) => fs.ftruncate(fd, Math.max(0, len), done));
  }

  /** #meta for a ring op: the handle stays busy until it settles; errors get the caller's frames. */
  async #onRing<T>(op: Promise<T>): Promise<T> {
    this.#pending.enter();
    try {
      return await op;
    } catch (e) {
      throw withCallerStack(e);
    } finally {
      this.#settled();
    }
  }

  async chmod(mode: number | string): Promise<void> {
    const fd = this.#check('fchmod');
    const m = fileMode(mode, 'mode', NaN);
    return this.#meta<void>((done) => fs.fchmod(fd, m, done));
  }

  async chown(uid: number, gid: number): Promise<void> {
    const fd = this.#check('fchown');
    validateInteger(uid, 'uid', -1, 2 ** 32 - 1);
    validateInteger(gid, 'gid', -1, 2 ** 32 - 1);
    return this.#meta<void>((done) => fs.fchown(fd, uid, gid, done));
  }

  async utimes(atime: fs.TimeLike, mtime: fs.TimeLike): Promise<void> {
    const fd = this.#check('futimes');
    return this.#meta<void>((done) => fs.futimes(fd, atime, mtime, done));
  }

  /** fsync(2) through the context. */
  async sync(): Promise<void> {
    const fd = this.#check('fsync');
    this.#pending.enter();
    try {
      await this.#io.fsync(fd);
    } catch (e) {
      throw withCallerStack(e);
    } finally {
      this.#settled();
    }
  }

  /** fdatasync(2) through the context. */
  async datasync(): Promise<void> {
    const fd = this.#check('fdatasync');
    this.#pending.enter();
    try {
      await this.#io.fsync(fd, { datasync: true });
    } catch (e) {
      throw withCallerStack(e);
    } finally {
      this.#settled();
    }
  }

  // ── streams ────────────────────────────────────────────────────────────

  /** A node:fs ReadStream over this handle (start, end, highWaterMark, encoding, autoClose, emitClose, signal). */
  createReadStream(options?: ReadStreamOptions): fs.ReadStream {
    return readStream(this, options, (by) => this.#holdForStream(by));
  }

  /** A node:fs WriteStream over this handle (start, highWaterMark, encoding, autoClose, emitClose, flush, signal). */
  createWriteStream(options?: WriteStreamOptions): fs.WriteStream {
    return writeStream(this, options, (by) => this.#holdForStream(by));
  }

  /** A readline Interface over createReadStream(options), one line per iteration. */
  readLines(options?: ReadStreamOptions): ReadlineInterface {
    return readLines(this, options, (by) => this.#holdForStream(by));
  }

  /** A stream over this handle starts (+1) or has closed (-1); the last to close lets a waiting close() go on. */
  #holdForStream(by: 1 | -1): void {
    this.#streams += by;
    const waiting = this.#afterStreams;
    if (this.#streams === 0 && waiting) {
      this.#afterStreams = undefined;
      this.#closeNow(false).then(waiting.resolve, waiting.reject);
    }
  }

  /**
   * A web ReadableStream of the bytes from the current position (a byte
   * stream: BYOB readers work too). Locks the handle to the stream.
   */
  readableWebStream(options: { type?: 'bytes' } = {}): ReadableStream<Uint8Array> {
    if (this.#fd === -1) throw stateError('ERR_INVALID_STATE', 'Invalid state: The FileHandle is closed');
    if (this.#closing) throw stateError('ERR_INVALID_STATE', 'Invalid state: The FileHandle is closing');
    if (this.#locked) throw stateError('ERR_INVALID_STATE', 'Invalid state: The FileHandle is locked');
    if (options.type !== undefined && typeof options.type !== 'string') throw invalidArgType('options.type', 'of type string', options.type);
    // Locked for good, as Node's: the stream owns the handle's position.
    this.#locked = true;
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const handle = this;
    return new ReadableStream({
      type: 'bytes',
      autoAllocateChunkSize: 16384,
      async pull(controller: ReadableByteStreamController) {
        const view = controller.byobRequest!.view!;
        const { bytesRead } = await handle.read(view, 0, view.byteLength);
        if (bytesRead === 0) controller.close();
        controller.byobRequest!.respond(bytesRead);
      },
    }) as ReadableStream<Uint8Array>;
  }

  // ── lifetime ───────────────────────────────────────────────────────────

  /**
   * Closes the fd once every op of this handle has settled (so no queued
   * write can reach a file that reuses the number), then emits 'close'.
   * Idempotent.
   */
  close(): Promise<void> {
    if (!this.#closing) {
      if (this.#fd < 0) return Promise.resolve();
      if (this.#streams > 0) {
        // Streams over this handle, as with Node's: 'close' now (each
        // stream closes on it), the fd once the last has closed; their ops
        // in flight meanwhile finish on the open fd, not with EBADF.
        this.#closing = new Promise<void>((resolve, reject) => {
          this.#afterStreams = { resolve, reject };
        });
        this.emit('close');
        return this.#closing;
      }
      this.#closing = this.#closeNow(true);
    }
    return this.#closing;
  }

  /** Closes the fd once every op of this handle has settled; emits 'close' after, unless it was emitted already. */
  #closeNow(emit: boolean): Promise<void> {
    const fd = this.#fd;
    this.#fd = -1;
    unclosed.unregister(this);
    return this.#pending
      .whenIdle()
      .then(() => this.#closeFd(fd))
      .then(() => {
        if (emit) this.emit('close');
      });
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // ── internals ──────────────────────────────────────────────────────────

  /** The fd, or Node's "file closed" error named after the syscall. */
  #check(syscall: string): number {
    if (this.#fd === -1) throw fileClosed(syscall);
    return this.#fd;
  }

  #settled(): void {
    this.#pending.leave();
  }

  async #meta<T>(fn: (done: (err: NodeJS.ErrnoException | null, value?: T) => void) => void): Promise<T> {
    this.#pending.enter();
    try {
      return await cb<T>(fn);
    } catch (e) {
      throw withCallerStack(e);
    } finally {
      this.#settled();
    }
  }

  /**
   * One read at `at` (-1: the current position, in call order; see
   * position.ts). A direct handle keeps its own position and order
   * (direct.ts): it opens without O_APPEND and appends itself.
   */
  #read(fd: number, view: ArrayBufferView, at: number | bigint): Promise<number> {
    if (at === -1 && !this.#direct) return (this.#position ??= new CurrentPosition()).run(fd, [view], false, (p, v) => this.#readAt(fd, v[0], p));
    if (this.#noOffset(fd)) return Promise.reject(systemError(ESPIPE, 'read'));
    return this.#readAt(fd, view, at);
  }

  /**
   * An explicit position on a file that has no offset (a pipe, FIFO, socket
   * or tty: lseek says ESPIPE) is pread's ESPIPE, as Node's: io_uring and
   * AIO ignore the offset there and would read or write the stream at
   * whatever point it is (lseek once per fd; a direct handle is a regular
   * file or device).
   */
  #noOffset(fd: number): boolean {
    if (this.#direct) return false;
    if (this.#seekFd !== fd) {
      this.#seekless = binding.seek(fd, 0, SEEK_CUR) === ESPIPE;
      this.#seekFd = fd;
    }
    return this.#seekless;
  }

  #seekless = false;
  #seekFd = -1;

  /** One read at `at` (-1 only on a file with no offset: a pipe, socket or tty). */
  #readAt(fd: number, view: ArrayBufferView, at: number | bigint): Promise<number> {
    if (this.#direct) return this.#direct.read(fd, u8(view), at);
    if (at === -1 && !this.#currentPosition)
      return nodeRw(false, fd, [view], null);
    const op = this.#io.read(fd, view, at);
    return this.#currentPosition ? op : op.catch((e) => aioFallback(e, fd, view, at, false));
  }

  /**
   * One write at `at` (-1: the current position, in call order, batched
   * with the current-position writes queued next to it; see position.ts).
   */
  #write(fd: number, view: ArrayBufferView, at: number | bigint): Promise<number> {
    if (at === -1 && !this.#direct) return (this.#position ??= new CurrentPosition()).write(fd, [view], false, this.#writeViews(fd));
    if (this.#noOffset(fd)) return Promise.reject(systemError(ESPIPE, 'write'));
    return this.#writeAt(fd, view, at);
  }

  /** One write at `at` (-1 only on a file with no offset). */
  #writeAt(fd: number, view: ArrayBufferView, at: number | bigint): Promise<number> {
    if (this.#direct) return this.#direct.write(fd, u8(view), at);
    if (at === -1 && !this.#currentPosition)
      return nodeRw(true, fd, [view], null);
    const op = this.#io.write(fd, view, at);
    return this.#currentPosition ? op : op.catch((e) => aioFallback(e, fd, view, at, true));
  }

  /** The batch writer of this handle's current-position writes on fd (one made per fd). */
  #writeViews(fd: number): WriteViews {
    if (this.#writeViewsFd !== fd || !this.#writeViewsFn)
      this.#writeViewsFn = (views, at) => (views.length === 1 ? this.#writeAt(fd, views[0], at) : this.#vectoredAt(true, fd, views, at));
    this.#writeViewsFd = fd;
    return this.#writeViewsFn;
  }

  #vectored(write: boolean, fd: number, buffers: ArrayBufferView[], at: number | bigint): Promise<number> {
    if (at !== -1 && this.#noOffset(fd)) return Promise.reject(systemError(ESPIPE, write ? 'write' : 'read'));
    // As libuv: a readv(2) takes IOV_MAX buffers at most (the rest are not
    // read: a short read), and a writev of more goes on over all of them
    // (at the current position, the queue does; a direct handle's one
    // bounce buffer takes any number).
    if (buffers.length > IOV_MAX) {
      if (!write) buffers = buffers.slice(0, IOV_MAX);
      else if (at !== -1 && !this.#direct) return this.#writevAll(fd, buffers, at);
    }
    if (at === -1 && !this.#direct) {
      const position = (this.#position ??= new CurrentPosition());
      return write ? position.write(fd, buffers, true, this.#writeViews(fd)) : position.run(fd, buffers, true, (p, v) => this.#vectoredAt(false, fd, v, p));
    }
    return this.#vectoredAt(write, fd, buffers, at);
  }

  /**
   * A writev of more than IOV_MAX buffers at `at`, in writevs of IOV_MAX,
   * each going on from the first byte the one before did not write, until
   * all are written or one writes nothing or fails (its error only when
   * nothing was written), as libuv's loop. The views' memory as checked now.
   * (Not for a direct handle, nor at the current position: see #vectored.)
   */
  async #writevAll(fd: number, buffers: ArrayBufferView[], at: number | bigint): Promise<number> {
    let rest = buffers.map((v, i) => new Uint8Array(viewBuffer(v) as ArrayBuffer, viewByteOffset(v), checkedLength(v, `buffers[${i}]`)));
    let total = 0;
    while (rest.length > 0) {
      const chunk = rest.slice(0, IOV_MAX);
      let n: number;
      try {
        n = await this.#vectoredAt(true, fd, chunk, typeof at === 'bigint' ? at + BigInt(total) : at + total);
      } catch (e) {
        if (total === 0) throw e;
        return total;
      }
      if (n <= 0) break;
      total += n;
      let i = 0;
      while (i < rest.length && n >= viewBytes(rest[i])) n -= viewBytes(rest[i++]);
      rest = rest.slice(i);
      if (n > 0) rest[0] = rest[0].subarray(n);
    }
    return total;
  }

  #vectoredAt(write: boolean, fd: number, buffers: ArrayBufferView[], at: number | bigint): Promise<number> {
    if (this.#direct) return this.#direct.vectored(write, fd, buffers, at);
    if (at === -1 && !this.#currentPosition)
      return nodeRw(write, fd, buffers, null);
    return write ? this.#io.writev(fd, buffers, at) : this.#io.readv(fd, buffers, at);
  }
}

/**
 * Writes all of bytes at cursor.at (-1: the current position) through
 * `write`, moving the cursor. A short write goes on from where it stopped,
 * so a full disk ends in the kernel's error, never in a count larger than
 * what reached the file. A pipe or tty refuses an offset (ESPIPE, before
 * writing anything): then, as Node's writeFile, it is written at its current
 * position. In chunks of WRITE_CHUNK, checking `signal` between them.
 */
export async function writeAllAt(write: (chunk: Uint8Array, at: number) => Promise<number>, bytes: Uint8Array, signal: AbortSignal | undefined, cursor: { at: number }): Promise<void> {
  let done = 0;
  while (done < bytes.byteLength) {
    checkAborted(signal);
    const chunk = bytes.subarray(done, done + Math.min(WRITE_CHUNK, bytes.byteLength - done));
    let n: number;
    try {
      n = await write(chunk, cursor.at);
    } catch (e) {
      if (cursor.at === -1 || (e as { errno?: number })?.errno !== ESPIPE) throw e;
      cursor.at = -1;
      continue;
    }
    done += n;
    if (cursor.at !== -1) cursor.at += n;
    checkAborted(signal);
  }
}

/** libuv names a failed readv/writev after read/write; so does Node's error. */
export function renameSyscall(e: unknown, from: string, to: string): unknown {
  const err = e as { syscall?: string; message?: string; path?: string };
  if (err && err.syscall === from) {
    err.syscall = to;
    // statx(fd, "", AT_EMPTY_PATH) standing for fstat(fd): Node's fstat error names no path.
    if (err.path === '' && typeof err.message === 'string' && err.message.endsWith(`, ${from} ''`)) {
      delete err.path;
      err.message = `${err.message.slice(0, -` ${from} ''`.length)} ${to}`;
      return e;
    }
    if (typeof err.message === 'string') err.message = err.message.replace(`, ${from}`, `, ${to}`);
  }
  return e;
}

/**
 * Linux AIO refuses files it cannot do asynchronously (procfs, sysfs, some
 * character devices) with EINVAL where pread(2)/pwrite(2) would work, and a
 * directory with EINVAL where read(2) says EISDIR: report what the syscall
 * would, going through node:fs for such files.
 */
export async function aioFallback(e: unknown, fd: number, view: ArrayBufferView, at: number | bigint, write: boolean): Promise<number> {
  if ((e as { errno?: number })?.errno !== -22) throw e;
  const st = await cb<fs.Stats>((done) => fs.fstat(fd, done)).catch(() => undefined);
  if (st?.isDirectory()) throw systemError(-21, write ? 'write' : 'read');
  return nodeRw(write, fd, [view], at); // node:fs takes a bigint position too
}

/** Node's ERR_FS_FILE_TOO_LARGE. */
export function fileTooLarge(size: number): RangeError {
  const err = new RangeError(`File size (${size}) is greater than 2 GiB`) as RangeError & { code: string };
  err.code = 'ERR_FS_FILE_TOO_LARGE';
  return err;
}

/**
 * readFile's loop, as Node's readFileHandle: a regular file of known size is
 * read into one buffer (in 512 KiB steps, or `step`, checking the signal
 * between them; a file of 2 MiB or more into huge pages, see resultBuffer);
 * otherwise 64 KiB chunks until a read returns 0. `from` -1 reads at the
 * current position; >= 0 at explicit offsets from there.
 */
export async function readLoop(
  read: (view: Uint8Array, at: number) => Promise<number>,
  size: number,
  encoding: BufferEncoding | undefined,
  signal: AbortSignal | undefined,
  from: number,
  step = READ_CHUNK,
): Promise<string | Buffer> {
  let at = from;
  const next = (n: number): void => {
    if (at !== -1) at += n;
  };
  if (size > 0) {
    const buffer = resultBuffer(size);
    // Nobody else can reach it until it is returned, and each read settles
    // before the next starts: it is read into without a bounce (lib/bounce.ts).
    const memory = viewBuffer(buffer);
    lendOwnMemory(memory);
    let total = 0;
    try {
      while (total < size) {
        checkAborted(signal);
        const n = await read(buffer.subarray(total, Math.min(size, total + step)), at);
        if (n === 0) break;
        total += n;
        next(n);
        if (size <= READ_CHUNK && n !== size) break; // a short single read: the file shrank
      }
    } finally {
      unlendOwnMemory(memory);
    }
    const out = total === size ? buffer : buffer.subarray(0, total);
    return encoding ? out.toString(encoding) : out;
  }
  const chunks: Buffer[] = [];
  let total = 0;
  const decoder = encoding ? new StringDecoder(encoding) : undefined;
  let text = '';
  for (;;) {
    checkAborted(signal);
    const chunk = lendOwn(READ_UNKNOWN_CHUNK);
    let n: number;
    try {
      n = await read(chunk, at);
    } finally {
      unlendOwn(chunk);
    }
    if (n === 0) break;
    next(n);
    total += n;
    const got = n === chunk.length ? chunk : chunk.subarray(0, n);
    if (decoder) text += decoder.write(got);
    else chunks.push(got);
  }
  if (decoder) return text + decoder.end();
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
}

function inspectShort(v: unknown): string {
  return inspect(v);
}
