// A FileHandle's "current position" (position null/-1 in Node's API). It is
// the kernel's file offset, as for read(2)/write(2), so a caller that mixes
// kaio's handle with node:fs on handle.fd, or shares the fd with a child,
// sees one position. But the ops never pass -1 to the kernel on a file that
// has an offset: io_uring's offset -1 takes no f_pos lock (two reads in
// flight both read offset 0) and leaves f_pos where it was when a write
// completes short (the next write then overwrites the start of the file).
// Instead each current-position op of a handle runs after the one before it,
// at the offset lseek(2) reports, and moves the offset past what the kernel
// says it transferred. Pipes, sockets and ttys (lseek: ESPIPE) have no
// offset: their ops go out with -1, still one at a time.
import * as fs from 'node:fs';
import { binding } from '../binding';
import { systemError } from '../errors';

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

/** One handle's queue of current-position ops, in call order. */
export class CurrentPosition {
  #tail: Promise<unknown> | undefined;
  #waiting = 0;
  /** The fd is a regular file with O_APPEND: a write lands at the end, and the offset follows it there. Found at the first write. */
  #append: boolean | undefined;

  /**
   * Runs `op` at the current offset once every earlier current-position op
   * of this handle has settled, then moves the offset past the bytes the op
   * transferred (to the end of the file after an append). A failed op
   * leaves the offset where it was, as read(2)/write(2) do.
   */
  run(fd: number, write: boolean, op: (at: number | bigint) => Promise<number>): Promise<number> {
    const go = (): Promise<number> => this.#step(fd, write, op);
    const p = this.#waiting === 0 ? go() : this.#tail!.then(go, go);
    this.#waiting++;
    this.#tail = p;
    const done = (): void => {
      this.#waiting--;
    };
    p.then(done, done);
    return p;
  }

  async #step(fd: number, write: boolean, op: (at: number | bigint) => Promise<number>): Promise<number> {
    const at = currentOffset(fd, write ? 'write' : 'read');
    const append = write && at !== -1 && (this.#append ??= isAppend(fd));
    const n = await op(at);
    // Cannot fail on the fd the op just used (close() waits for the op); if
    // it did, the next op's lseek reports it, and this op's count stays true.
    if (at !== -1) binding.seek(fd, append ? 0 : advance(at, n), append ? SEEK_END : SEEK_SET);
    return n;
  }
}
