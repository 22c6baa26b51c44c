// A FileHandle's "current position" (position null/-1 in Node's API). It is
// the kernel's file offset, as for read(2)/write(2), so a caller that mixes
// kaio's handle with node:fs on handle.fd, or shares the fd with a child,
// sees one position. But the ops never pass -1 to the kernel on a file that
// has an offset: io_uring's offset -1 takes no f_pos lock (two reads in
// flight both read offset 0) and leaves f_pos where it was when a write
// completes short (the next write then overwrites the start of the file).
// Instead each current-position op of a handle runs after the one before it,
// at the offset lseek(2) reports, and the offset ends past what the kernel
// says it transferred. With no other op of the handle in flight, the op goes
// out with -1 after that lseek: the kernel reads or writes at f_pos (the
// offset lseek just gave) and moves f_pos past the bytes when the op
// completes in full, which saves the lseek after each op (a stream made two
// per chunk). An op that comes back short or fails may have left f_pos
// behind (io_uring: a partial transfer retried, then an error, reports the
// partial count and, since Linux 6.6, leaves f_pos), so then the offset is
// set to where the count says, as before. (A context that refuses -1, a
// ring without IORING_FEAT_RW_CUR_POS, gets the offset and the lseek
// after.) Pipes, sockets and ttys (lseek: ESPIPE) have no
// offset: their ops go out with -1, still one at a time. Writes queued
// behind each other go out as one writev (see CurrentPosition), and in
// append mode without the lseek before it (O_APPEND picks the end).
import * as fs from 'node:fs';
import { binding } from '../binding';
import { systemError } from '../errors';
import { IOV_MAX, viewBytes } from '../validate';

const SEEK_SET = 0;
const SEEK_CUR = 1;
const SEEK_END = 2;
const ESPIPE = -29;
const O_APPEND = 0o2000;

/** The file's current offset, or -1 for a file that has none (a pipe, socket or tty). */
function currentOffset(fd: number, syscall: string): number | bigint {
  const r = binding.seek(fd, 0, SEEK_CUR);
  if (typeof r === 'number' && r < 0) {
    if (r === ESPIPE) return -1;
    throw systemError(r, syscall);
  }
  return r;
}

/** A regular file opened with O_APPEND (a block device ignores the flag: its writes land at the offset). */
function isAppend(fd: number): boolean {
  const flags = binding.statusFlags(fd);
  if (flags < 0 || (flags & O_APPEND) === 0) return false;
  try {
    return fs.fstatSync(fd).isFile();
  } catch {
    return true;
  }
}

function advance(at: number | bigint, n: number): number | bigint {
  return typeof at === 'bigint' ? at + BigInt(n) : at + n;
}

/** Writes views at `at` (one view: a plain write). */
export type WriteViews = (views: ArrayBufferView[], at: number | bigint) => Promise<number>;

/** One queued current-position op. */
interface Entry {
  /** A write's buffers (it may share one writev with its neighbours), or undefined for a read. */
  readonly views: ArrayBufferView[] | undefined;
  /** A read, run alone at the offset. */
  readonly op: ((at: number | bigint) => Promise<number>) | undefined;
  /** A read's length (what a full read returns). */
  readonly bytes: number;
  /** A write's bytes that reached the file in earlier, short writes. */
  done: number;
  resolve(n: number): void;
  reject(e: unknown): void;
}

/** Most buffers one batched writev carries (UIO_MAXIOV). */
const BATCH_IOVS = IOV_MAX;

function bytesOf(views: ArrayBufferView[]): number {
  let n = 0;
  for (const v of views) n += v.byteLength;
  return n;
}

/** The bytes views hold, as the kernel sees them (not their own byteLength properties). */
export function viewsBytes(views: readonly ArrayBufferView[]): number {
  let n = 0;
  for (const v of views) n += viewBytes(v);
  return n;
}

/** views without their first `skip` bytes. */
function skipBytes(views: ArrayBufferView[], skip: number): ArrayBufferView[] {
  const out: ArrayBufferView[] = [];
  for (const v of views) {
    if (skip >= v.byteLength) {
      skip -= v.byteLength;
      continue;
    }
    out.push(skip === 0 ? v : new Uint8Array(v.buffer, v.byteOffset + skip, v.byteLength - skip));
    skip = 0;
  }
  return out;
}

/**
 * One handle's queue of current-position ops, in call order. Writes queued
 * behind one another go to the kernel together, as one writev at the offset
 * (their bytes in call order, as one at a time would have left them); each
 * caller gets its own count. A short writev goes on from the first byte it
 * did not write, with the caller whose bytes it cut first; an error goes to
 * the first caller of the batch alone (the others then run again, the first
 * of them alone), so every caller gets what its own write(2) would have.
 */
export class CurrentPosition {
  #queue: Entry[] = [];
  #head = 0;
  #running = false;
  /** The next batch carries one write only (after a batch failed: whose error it was). */
  #solo = false;
  /** The fd is a regular file with O_APPEND: a write lands at the end, and the offset follows it there. Found at the first write. */
  #append: boolean | undefined;
  /** The fd has no offset (a pipe, socket or tty): ops go out with -1. */
  #noOffset = false;
  /** Ops at the offset go out with -1 (see the top); false once the context refused -1. */
  #kernelOffset = true;

  /**
   * Runs the read `op` at the current offset once every earlier
   * current-position op of this handle has settled, then moves the offset
   * past the bytes it read. A failed op leaves the offset where it was, as
   * read(2) does.
   */
  run(fd: number, bytes: number, op: (at: number | bigint) => Promise<number>): Promise<number> {
    return this.#enqueue(fd, undefined, op, bytes);
  }

  /**
   * Writes views at the current offset after every earlier current-position
   * op of this handle, in one writev with the writes queued next to it
   * (`writev`), and moves the offset past what the kernel wrote (to the end
   * of the file in append mode). Resolves with this caller's bytes written.
   */
  write(fd: number, views: ArrayBufferView[], writev: WriteViews): Promise<number> {
    this.#writev = writev;
    return this.#enqueue(fd, views, undefined, 0);
  }

  #writev: WriteViews | undefined;

  /** No current-position op of this handle is queued or running. */
  get idle(): boolean {
    return !this.#running && this.#head === this.#queue.length;
  }

  #enqueue(fd: number, views: ArrayBufferView[] | undefined, op: ((at: number | bigint) => Promise<number>) | undefined, bytes: number): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      this.#queue.push({ views, op, bytes, done: 0, resolve, reject });
      if (this.#running) return;
      this.#running = true;
      // One microtask later: the calls of this turn's synchronous code queue first, and go together.
      queueMicrotask(() => {
        this.#pump(fd).catch((e) => this.#failAll(e));
      });
    });
  }

  /** Never expected: a bug in the pump; no caller is left waiting. */
  #failAll(e: unknown): void {
    const rest = this.#queue.slice(this.#head);
    this.#queue = [];
    this.#head = 0;
    this.#running = false;
    for (const entry of rest) entry.reject(e);
  }

  #shift(): void {
    this.#head++;
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
  }

  async #pump(fd: number): Promise<void> {
    while (this.#head < this.#queue.length) {
      const first = this.#queue[this.#head];
      if (first.views === undefined) await this.#read(fd, first);
      else await this.#writeBatch(fd);
    }
    this.#running = false;
  }

  async #read(fd: number, entry: Entry): Promise<void> {
    this.#shift();
    try {
      const at = currentOffset(fd, 'read');
      const n = await this.#atOffset(fd, at, entry.bytes, entry.op!);
      entry.resolve(n);
    } catch (e) {
      entry.reject(e);
    }
  }

  /**
   * op at `at`, the offset lseek gave (-1: the fd has none), leaving the
   * offset past the bytes the op says it transferred (where it was if it
   * failed). `bytes`: what a full op transfers.
   */
  async #atOffset(fd: number, at: number | bigint, bytes: number, op: (at: number | bigint) => Promise<number>): Promise<number> {
    if (at === -1) return op(-1);
    if (this.#kernelOffset) {
      let n: number;
      try {
        n = await op(-1);
      } catch (e) {
        if ((e as { code?: unknown } | null)?.code === 'ERR_KAIO_UNSUPPORTED') {
          // Refused before it started: this context takes the offset.
          this.#kernelOffset = false;
          return this.#atOffset(fd, at, bytes, op);
        }
        // Nothing transferred (a partial transfer reports its count): the
        // offset goes back to where the op started, whatever the kernel did.
        binding.seek(fd, at, SEEK_SET);
        throw e;
      }
      // In full: the kernel moved f_pos past the bytes. Short: set it.
      if (n !== bytes) binding.seek(fd, advance(at, n), SEEK_SET);
      return n;
    }
    const n = await op(at);
    // Cannot fail on the fd the op just used (close() waits for the op); if
    // it did, the next op's lseek reports it, and this op's count stays true.
    if (n > 0) binding.seek(fd, advance(at, n), SEEK_SET);
    return n;
  }

  async #writeBatch(fd: number): Promise<void> {
    const q = this.#queue;
    const first = q[this.#head];
    // The writes queued next to each other, up to one writev's iovecs.
    const batch: Entry[] = [];
    const lengths: number[] = [];
    let iovs: ArrayBufferView[] = [];
    for (let i = this.#head; i < q.length; i++) {
      const e = q[i];
      if (e.views === undefined) break;
      const views = e.done === 0 ? e.views : skipBytes(e.views, e.done);
      if (batch.length > 0 && (this.#solo || iovs.length + views.length > BATCH_IOVS)) break;
      batch.push(e);
      lengths.push(bytesOf(views));
      iovs = batch.length === 1 ? views : iovs.concat(views);
    }
    this.#solo = false;
    let n: number;
    try {
      let at: number | bigint;
      if (this.#noOffset) at = -1;
      else if (this.#append) at = 0; // O_APPEND: the kernel writes at the end whatever the offset
      else {
        at = currentOffset(fd, 'write');
        if (at === -1) this.#noOffset = true;
        else this.#append ??= isAppend(fd);
      }
      if (at === -1 || this.#append) {
        n = await this.#writev!(iovs, at);
        if (at !== -1 && n > 0) binding.seek(fd, 0, SEEK_END);
      } else {
        n = await this.#atOffset(fd, at, viewsBytes(iovs), (p) => this.#writev!(iovs, p));
      }
    } catch (e) {
      if (batch.length > 1) {
        // Whose error: the first write again, alone.
        this.#solo = true;
        return;
      }
      this.#shift();
      if (first.done > 0) first.resolve(first.done);
      else first.reject(e);
      return;
    }
    if (n <= 0) {
      // Nothing written and no error: the first caller gets what it has, as its write(2) would.
      this.#shift();
      first.resolve(first.done);
      return;
    }
    for (let i = 0; i < batch.length; i++) {
      const e = batch[i];
      if (n >= lengths[i]) {
        n -= lengths[i];
        e.done += lengths[i];
        this.#shift();
        e.resolve(e.done);
      } else {
        // Cut short: this caller's rest goes first in the next writev.
        e.done += n;
        return;
      }
    }
  }
}
