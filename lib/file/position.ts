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
import { IOV_MAX, checkedLength, viewBuffer, viewByteOffset, viewBytes } from '../validate';

const SEEK_SET = 0;
const SEEK_CUR = 1;
const SEEK_END = 2;
const ESPIPE = -29;
const O_APPEND = 0o2000;
const EFAULT = -14;

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
  /**
   * The op's memory as validated at the call: a fixed-length Uint8Array per
   * view over the view's own buffer and offset (intrinsics, never the
   * caller's getters), and its byte length then. What the op later uses, and
   * all it uses: a resizable buffer grown meanwhile still gives the checked
   * bytes; one shrunk or detached meanwhile fails the op with EFAULT, as an
   * op at an explicit position does (docs/api.md).
   */
  readonly parts: Uint8Array[];
  readonly lengths: number[];
  readonly bytes: number;
  /** A write (it may share one writev with its neighbours); a read runs alone. */
  readonly write: boolean;
  /** A read, run alone at the offset with `parts`. */
  readonly op: ((at: number | bigint, views: Uint8Array[]) => Promise<number>) | undefined;
  /** A write's bytes that reached the file in earlier, short writes. */
  done: number;
  resolve(n: number): void;
  reject(e: unknown): void;
}

/** Most buffers one batched writev carries (UIO_MAXIOV). */
const BATCH_IOVS = IOV_MAX;

/** The views pinned at the call: each view's buffer, offset and length as the engine sees them now. */
function pin(views: ArrayBufferView[], list: boolean): { parts: Uint8Array[]; lengths: number[]; bytes: number } {
  const parts: Uint8Array[] = new Array(views.length);
  const lengths: number[] = new Array(views.length);
  let bytes = 0;
  for (let i = 0; i < views.length; i++) {
    const v = views[i];
    const n = checkedLength(v, list ? `buffers[${i}]` : 'buffer');
    parts[i] = new Uint8Array(viewBuffer(v) as ArrayBuffer, viewByteOffset(v), n);
    lengths[i] = n;
    bytes += n;
  }
  return { parts, lengths, bytes };
}

/** Every pinned view still has its bytes (not shrunk out of bounds or detached since the call). */
function intact(entry: Entry): boolean {
  for (let i = 0; i < entry.parts.length; i++) if (viewBytes(entry.parts[i]) !== entry.lengths[i]) return false;
  return true;
}

/** The entry's views without their first `skip` bytes. */
function skipBytes(entry: Entry, skip: number): Uint8Array[] {
  if (skip === 0) return entry.parts;
  const out: Uint8Array[] = [];
  for (let i = 0; i < entry.parts.length; i++) {
    const len = entry.lengths[i];
    if (skip >= len) {
      skip -= len;
      continue;
    }
    const v = entry.parts[i];
    out.push(skip === 0 ? v : new Uint8Array(viewBuffer(v) as ArrayBuffer, viewByteOffset(v) + skip, len - skip));
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

  /** No current-position op of this handle is queued or running. */
  get idle(): boolean {
    return !this.#running && this.#head === this.#queue.length;
  }

  /**
   * Runs the read `op` at the current offset once every earlier
   * current-position op of this handle has settled, then moves the offset
   * past the bytes it read. A failed op leaves the offset where it was, as
   * read(2) does.
   */
  run(fd: number, views: ArrayBufferView[], list: boolean, op: (at: number | bigint, views: Uint8Array[]) => Promise<number>): Promise<number> {
    return this.#enqueue(fd, false, views, list, op);
  }

  /**
   * Writes views at the current offset after every earlier current-position
   * op of this handle, in one writev with the writes queued next to it
   * (`writev`), and moves the offset past what the kernel wrote (to the end
   * of the file in append mode). Resolves with this caller's bytes written.
   */
  write(fd: number, views: ArrayBufferView[], list: boolean, writev: WriteViews): Promise<number> {
    this.#writev = writev;
    return this.#enqueue(fd, true, views, list, undefined);
  }

  #writev: WriteViews | undefined;

  /**
   * A write at the current offset with nothing of this handle's queued or
   * running (a write stream's chunk: its next comes after this one's
   * callback), without the queue: no entry, no microtask, no async steps.
   * The kernel sees what the queue would give it (the lseek, then the
   * write with -1 or, in append mode, the write and the lseek to the end),
   * and the offset ends where the queue would leave it. Ops that come
   * meanwhile queue behind it. `views`: the caller's, not pinned (as a
   * write at an explicit position). Undefined when it cannot go this way
   * (something queued, the first write of the fd, no offset, a context
   * that refuses -1): then write().
   */
  lone(fd: number, views: Uint8Array[], bytes: number, writev: WriteViews): Promise<number> | undefined {
    const append = this.#append;
    if (this.#running || this.#head !== this.#queue.length || append === undefined || this.#noOffset || !this.#kernelOffset) return undefined;
    let at: number | bigint = 0;
    if (!append) {
      at = currentOffset(fd, 'write'); // throws (EBADF...) before anything runs
      if (at === -1) {
        this.#noOffset = true;
        return undefined;
      }
    }
    this.#running = true;
    let op: Promise<number>;
    try {
      op = writev(views, append ? 0 : -1);
    } catch (e) {
      this.#loneDone(fd);
      throw e;
    }
    return op.then(
      (n) => {
        if (append) {
          if (n > 0) binding.seek(fd, 0, SEEK_END);
        } else if (n !== bytes) binding.seek(fd, advance(at, n), SEEK_SET);
        this.#loneDone(fd);
        return n;
      },
      (e) => {
        if (!append) binding.seek(fd, at, SEEK_SET);
        if (append || (e as { code?: unknown } | null)?.code !== 'ERR_KAIO_UNSUPPORTED') {
          this.#loneDone(fd);
          throw e;
        }
        // Refused before it started: this context takes the offset. The
        // write goes again the queue's way, ahead of what queued meanwhile.
        this.#kernelOffset = false;
        this.#writev = writev;
        return new Promise<number>((resolve, reject) => {
          let pinned: ReturnType<typeof pin>;
          try {
            pinned = pin(views, true);
          } catch (err) {
            this.#loneDone(fd);
            reject(err);
            return;
          }
          this.#queue.splice(this.#head, 0, { ...pinned, write: true, op: undefined, done: 0, resolve, reject });
          this.#loneDone(fd);
        });
      },
    );
  }

  /** The lone write has settled: ops queued meanwhile run now. */
  #loneDone(fd: number): void {
    this.#running = false;
    if (this.#head === this.#queue.length) return;
    this.#running = true;
    this.#pump(fd).catch((e) => this.#failAll(e));
  }

  #enqueue(fd: number, write: boolean, views: ArrayBufferView[], list: boolean, op: ((at: number | bigint, views: Uint8Array[]) => Promise<number>) | undefined): Promise<number> {
    const { parts, lengths, bytes } = pin(views, list); // throws (a detached view) before anything is queued
    return new Promise<number>((resolve, reject) => {
      this.#queue.push({ parts, lengths, bytes, write, op, done: 0, resolve, reject });
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
      if (!first.write) await this.#read(fd, first);
      else await this.#writeBatch(fd);
    }
    this.#running = false;
  }

  async #read(fd: number, entry: Entry): Promise<void> {
    this.#shift();
    try {
      if (!intact(entry)) throw systemError(EFAULT, 'read');
      const at = currentOffset(fd, 'read');
      const n = await this.#atOffset(fd, at, entry.bytes, (p) => entry.op!(p, entry.parts));
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
    let iovs: Uint8Array[] = [];
    for (let i = this.#head; i < q.length; i++) {
      const e = q[i];
      if (!e.write) break;
      if (!intact(e)) {
        // Shrunk or detached since the call: EFAULT for it alone, as its own write(2) would (bytes an earlier short write took stay counted).
        if (batch.length > 0) break;
        this.#shift();
        if (e.done > 0) e.resolve(e.done);
        else e.reject(systemError(EFAULT, 'write'));
        return;
      }
      let views = skipBytes(e, e.done);
      if (batch.length > 0 && (this.#solo || iovs.length + views.length > BATCH_IOVS)) break;
      // One writev(buffers) of more buffers than a writev takes: its first
      // IOV_MAX now, the rest in the next trips (as libuv loops over them).
      if (views.length > BATCH_IOVS) views = views.slice(0, BATCH_IOVS);
      batch.push(e);
      lengths.push(e.bytes - e.done);
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
        let bytes = 0;
        for (const v of iovs) bytes += viewBytes(v);
        n = await this.#atOffset(fd, at, bytes, (p) => this.#writev!(iovs, p));
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
