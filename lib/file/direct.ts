// O_DIRECT for a FileHandle opened with { direct: true }. The kernel wants
// the memory address, the file offset and the length aligned (dioAlignment());
// kaio hands an aligned request straight to the context and sends any other
// through aligned bounce memory: a read widens to the aligned blocks around
// the range and copies out; a write reads those blocks, patches them, writes
// them back and trims the file to its true end. JS cannot see a buffer's
// address, so a request aligned in offset and length goes straight out and
// falls back to the bounce when the kernel refuses it (EINVAL).
//
// The fd is opened for what this path needs, not only for what the caller
// asked (directFdFlags): read-write, since a read-modify-write reads (the
// handle still refuses reads a write-only open would refuse, with EBADF), and
// without O_APPEND, since the kernel would send a written-back block to the
// end of the file. Appends are done here instead: at the file size, one at a
// time per handle. Ops of one handle that touch blocks a read-modify-write is
// patching wait for it (and it for them), so none of them loses the other's
// bytes; the same is not true against other processes or handles.
import * as fs from 'node:fs';
import { dioAlignment } from '../dio';
import { systemError } from '../errors';
import { alignedBuffer } from '../pool';
import type { FileIo } from './file-io';
import { checkedLength, viewBuffer, viewByteOffset, viewBytes } from '../validate';

export interface DirectIo {
  read(fd: number, view: Uint8Array, at: number | bigint): Promise<number>;
  write(fd: number, view: Uint8Array, at: number | bigint): Promise<number>;
  vectored(write: boolean, fd: number, buffers: ArrayBufferView[], at: number | bigint): Promise<number>;
}

const EBADF = -9;
const EACCES = -13;
const EFAULT = -14;
const EINVAL = -22;
const isEinval = (e: unknown): boolean => (e as { errno?: number })?.errno === EINVAL;
const { O_APPEND, O_RDONLY, O_RDWR, O_WRONLY } = fs.constants;
const O_ACCMODE = 3;
const noop = (): void => undefined;

/**
 * The flags to open a direct handle's fd with, given the caller's: read-write
 * where the caller asked for write-only (the read-modify-write reads), and no
 * O_APPEND (this file does appends itself). `readWrite` false: the
 * caller's access mode as it is.
 */
export function directFdFlags(flags: number, readWrite = true): number {
  const access = readWrite && (flags & O_ACCMODE) === O_WRONLY ? O_RDWR : flags & O_ACCMODE;
  return (flags & ~(O_ACCMODE | O_APPEND)) | access;
}

function fstatSize(fd: number): Promise<number> {
  return new Promise((resolve, reject) => fs.fstat(fd, (e, st) => (e ? reject(e) : resolve(st.size))));
}

function ftruncate(fd: number, len: number): Promise<void> {
  return new Promise((resolve, reject) => fs.ftruncate(fd, len, (e) => (e ? reject(e) : resolve())));
}

/** A byte range [start, end) an op of the handle is using. */
interface Lane {
  readonly start: number;
  readonly end: number;
  /** A read-modify-write or an append: nothing else may use its range meanwhile. */
  readonly exclusive: boolean;
  /** Resolves when every earlier lane this one must wait for has left (undefined: none). */
  readonly ready: Promise<unknown> | undefined;
  left?: Promise<void>;
  wake?: () => void;
}

/**
 * Range locks of one handle, granted in call order: an op registers its range
 * when called and waits only for earlier ops it conflicts with (overlapping,
 * one of the two exclusive), so there is no deadlock and plain aligned ops
 * never wait for each other.
 */
class Lanes {
  readonly #live = new Set<Lane>();
  #exclusive = 0;

  enter(start: number, end: number, exclusive: boolean): Lane {
    let waits: Promise<void>[] | undefined;
    if (exclusive || this.#exclusive > 0) {
      for (const l of this.#live) {
        if ((exclusive || l.exclusive) && l.start < end && start < l.end) {
          l.left ??= new Promise<void>((resolve) => (l.wake = resolve));
          (waits ??= []).push(l.left);
        }
      }
    }
    const lane: Lane = { start, end, exclusive, ready: waits && Promise.all(waits) };
    this.#live.add(lane);
    if (exclusive) this.#exclusive++;
    return lane;
  }

  leave(lane: Lane): void {
    if (!this.#live.delete(lane)) return;
    if (lane.exclusive) this.#exclusive--;
    lane.wake?.();
  }

  /** fn() holding [start, end). */
  async hold<T>(start: number, end: number, exclusive: boolean, fn: () => Promise<T>): Promise<T> {
    const lane = this.enter(start, end, exclusive);
    try {
      if (lane.ready) await lane.ready;
      return await fn();
    } finally {
      this.leave(lane);
    }
  }
}

class Direct implements DirectIo {
  readonly #io: FileIo;
  readonly #mem: number;
  readonly #off: number;
  /** What the caller's flags allow (the fd may allow more). */
  readonly #readable: boolean;
  readonly #writable: boolean;
  readonly #append: boolean;
  /** The fd can read (false only where a read-write open was refused and the caller's write-only open was used). */
  readonly #fdReads: boolean;
  /**
   * A regular file: it has a size to append at and to trim to. Anything else
   * (a block device) has neither: the kernel ignores O_APPEND on a block
   * device, and its end is fixed (a write past it is short, then ENOSPC).
   */
  readonly #regular: boolean;
  /** The handle's current position: kept here, since the direct path always passes explicit offsets. */
  #pos = 0;
  /** The tail of the chain current-position ops run on, one at a time in call order. */
  #turn: Promise<unknown> = Promise.resolve();
  readonly #lanes = new Lanes();

  constructor(io: FileIo, mem: number, off: number, flags: number, fdReads: boolean, regular: boolean) {
    this.#io = io;
    this.#mem = mem;
    this.#off = off;
    const access = flags & O_ACCMODE;
    this.#readable = access === O_RDONLY || access === O_RDWR;
    this.#writable = access === O_WRONLY || access === O_RDWR;
    this.#append = (flags & O_APPEND) !== 0 && regular;
    this.#fdReads = fdReads;
    this.#regular = regular;
  }

  #aligned(at: number, len: number): boolean {
    return at % this.#off === 0 && len % this.#off === 0;
  }

  /** Runs fn after every current-position op called before it has settled. */
  #inTurn<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#turn.then(fn);
    this.#turn = run.then(noop, noop);
    return run;
  }

  read(fd: number, view: Uint8Array, at: number | bigint): Promise<number> {
    // As read(2) on an fd opened write-only.
    if (!this.#readable) return Promise.reject(systemError(EBADF, 'read'));
    // The length checked at the call: a view shrunk or detached since reads as shorter, and fails with EFAULT.
    const len = viewBytes(view);
    if (at !== -1) return this.#readAt(fd, view, Number(at), len);
    return this.#inTurn(async () => {
      const n = await this.#readAt(fd, view, this.#pos, len);
      this.#pos += n;
      return n;
    });
  }

  /**
   * An aligned op straight to the kernel, in its lane; undefined when the
   * offset or length is not aligned, or the kernel said EINVAL (the buffer's
   * address was not, which JS cannot see): then the bounce path does it.
   */
  async #straight(write: boolean, fd: number, view: Uint8Array, at: number, len: number): Promise<number | undefined> {
    if (!this.#aligned(at, len)) return undefined;
    const lane = this.#lanes.enter(at, at + len, false);
    try {
      if (lane.ready) await lane.ready;
      intact(view, len, write);
      return await (write ? this.#io.write(fd, view, at) : this.#io.read(fd, view, at));
    } catch (e) {
      if (!isEinval(e)) throw e;
      return undefined;
    } finally {
      this.#lanes.leave(lane);
    }
  }

  async #readAt(fd: number, view: Uint8Array, at: number, len: number): Promise<number> {
    if (len === 0) return 0;
    const n = await this.#straight(false, fd, view, at, len);
    if (n !== undefined) return n;
    const start = at - (at % this.#off);
    const end = Math.ceil((at + len) / this.#off) * this.#off;
    return this.#lanes.hold(start, end, false, async () => {
      const bounce = alignedBuffer(end - start, Math.max(this.#mem, this.#off));
      const got = await this.#io.read(fd, bounce, start);
      const n = Math.max(0, Math.min(got - (at - start), len));
      intact(view, len, false);
      if (n > 0) view.set(bounce.subarray(at - start, at - start + n));
      return n;
    });
  }

  write(fd: number, view: Uint8Array, at: number | bigint): Promise<number> {
    // As write(2) on an fd opened read-only.
    if (!this.#writable) return Promise.reject(systemError(EBADF, 'write'));
    const len = viewBytes(view);
    if (this.#append) {
      // O_APPEND: every write goes to the end, whatever the position (as
      // pwrite(2) on Linux); one at the current position moves it there.
      if (at !== -1) return this.#appendWrite(fd, view, len);
      return this.#inTurn(async () => {
        const { end, n } = await this.#appendAt(fd, view, len);
        if (n > 0) this.#pos = end;
        return n;
      });
    }
    if (at !== -1) return this.#writeAt(fd, view, Number(at), len);
    return this.#inTurn(async () => {
      const n = await this.#writeAt(fd, view, this.#pos, len);
      this.#pos += n;
      return n;
    });
  }

  async #appendWrite(fd: number, view: Uint8Array, len: number): Promise<number> {
    return (await this.#appendAt(fd, view, len)).n;
  }

  /**
   * An append: at the file size, holding the whole file, so two appends of
   * this handle never pick the same end. Resolves the count and where it ended.
   */
  #appendAt(fd: number, view: Uint8Array, len: number): Promise<{ end: number; n: number }> {
    return this.#lanes.hold(0, Infinity, true, async () => {
      if (len === 0) return { end: 0, n: 0 };
      const size = await fstatSize(fd);
      const n = this.#aligned(size, len) ? await this.#alignedOrPatch(fd, view, size, len) : await this.#patch(fd, view, size, len);
      return { end: size + n, n };
    });
  }

  async #writeAt(fd: number, view: Uint8Array, at: number, len: number): Promise<number> {
    if (len === 0) return 0;
    const n = await this.#straight(true, fd, view, at, len);
    if (n !== undefined) return n;
    // From the first block to the end of the file: the write-back may pad
    // the file past its end until the trim, which later ops must not see
    // (nor extend the file meanwhile, to be cut by the trim).
    const start = at - (at % this.#off);
    return this.#lanes.hold(start, Infinity, true, () => this.#patch(fd, view, at, len));
  }

  /** An aligned write (the caller holds its range), through the bounce if the kernel refuses the memory. */
  async #alignedOrPatch(fd: number, view: Uint8Array, at: number, len: number): Promise<number> {
    try {
      intact(view, len, true);
      return await this.#io.write(fd, view, at);
    } catch (e) {
      if (!isEinval(e)) throw e;
    }
    return this.#patch(fd, view, at, len);
  }

  /**
   * The read-modify-write of view at `at` (the caller holds [first block,
   * end of file) exclusively). Resolves the count of view's bytes that
   * reached the file, from its first: a short or failed write-back resolves
   * what it wrote of view (the error only when that is nothing), and the
   * file is trimmed to the old size or the end of those bytes, whichever is
   * further, so it never keeps padding.
   */
  async #patch(fd: number, view: Uint8Array, at: number, len: number): Promise<number> {
    // Not a regular file: read the old blocks wherever they are, trim nothing.
    const size = this.#regular ? await fstatSize(fd) : Infinity;
    const start = at - (at % this.#off);
    const end = Math.ceil((at + len) / this.#off) * this.#off;
    const bounce = alignedBuffer(end - start, Math.max(this.#mem, this.#off));
    // The blocks' old bytes where the file has them (zeros past its end).
    const old = Math.min(end, size) - start;
    if (old > 0) {
      if (!this.#fdReads)
        throw systemError(
          EACCES,
          'read',
          undefined,
          'An unaligned write on a { direct: true } handle reads the blocks around it, and this file can only be opened write-only.',
        );
      let got = 0;
      try {
        while (got < old) {
          const n = await this.#io.read(fd, bounce.subarray(got), start + got);
          if (n === 0) break;
          got += n;
        }
      } catch (e) {
        // The caller asked for a write, which wrote nothing: its error, as
        // write(2) would report it (EIO, ...), named after the write.
        throw asWriteError(e);
      }
    }
    // The caller's bytes as checked at the call: shrunk or detached since,
    // they are gone, and the old blocks must not be written back as if they
    // were them (EFAULT, nothing written, as write(2)).
    intact(view, len, true);
    bounce.set(view, at - start);
    let done = 0;
    let failure: unknown;
    try {
      while (done < bounce.byteLength) {
        const n = await this.#io.write(fd, bounce.subarray(done), start + done);
        if (n === 0) break;
        done += n;
      }
    } catch (e) {
      failure = e;
    }
    const reached = Math.max(0, Math.min(at + len, start + done) - at);
    const trueEnd = Math.max(size, at + reached);
    if (start + done > trueEnd) await ftruncate(fd, trueEnd);
    if (reached === 0 && failure !== undefined) throw failure;
    return reached;
  }

  async vectored(write: boolean, fd: number, buffers: ArrayBufferView[], at: number | bigint): Promise<number> {
    // One bounce for the whole list; each view's memory and length as they are now, at the call.
    const parts = buffers.map((b, i) => new Uint8Array(viewBuffer(b) as ArrayBuffer, viewByteOffset(b), checkedLength(b, `buffers[${i}]`)));
    const lengths = parts.map((v) => viewBytes(v));
    const total = lengths.reduce((s, n) => s + n, 0);
    const flat = new Uint8Array(total);
    if (write) {
      let o = 0;
      for (const v of parts) {
        flat.set(v, o);
        o += viewBytes(v);
      }
      return this.write(fd, flat, at);
    }
    const n = await this.read(fd, flat, at);
    // A view resized or detached since the call cannot take its share (EFAULT, as readv(2)).
    for (let i = 0; i < parts.length; i++) if (viewBytes(parts[i]) !== lengths[i]) throw systemError(EFAULT, 'read');
    let o = 0;
    for (let i = 0; i < parts.length && o < n; i++) {
      const take = Math.min(lengths[i], n - o);
      parts[i].set(flat.subarray(o, o + take));
      o += take;
    }
    return n;
  }
}

/**
 * The O_DIRECT path of a handle the caller opened with `flags`, on `fd`
 * (opened with directFdFlags(flags); `fdReads` false where that was refused
 * and `flags`' own write-only access was used instead).
 */
export async function makeDirect(io: FileIo, fd: number, flags: number, fdReads = true): Promise<DirectIo> {
  const a = dioAlignment(fd);
  const mode = await new Promise<number>((resolve, reject) => fs.fstat(fd, (e, st) => (e ? reject(e) : resolve(st.mode))));
  return new Direct(io, a.memory || 4096, a.offset || 4096, flags, fdReads, (mode & fs.constants.S_IFMT) === fs.constants.S_IFREG);
}

/**
 * The caller's memory still has the length checked at the call: a view
 * shrunk or detached since cannot give or take its bytes (EFAULT, as
 * read(2)/write(2) with such memory), and must never be used at another length.
 */
function intact(view: Uint8Array, len: number, write: boolean): void {
  if (viewBytes(view) !== len) throw systemError(EFAULT, write ? 'write' : 'read');
}

/** An error of the read half of a read-modify-write, reported as the write's (same code and errno). */
function asWriteError(e: unknown): unknown {
  const err = e as { syscall?: string; message?: string };
  if (err && err.syscall === 'read') {
    err.syscall = 'write';
    if (typeof err.message === 'string') err.message = err.message.replace(/, read$/, ', write');
  }
  return e;
}
