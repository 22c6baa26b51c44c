// O_DIRECT for a FileHandle opened with { direct: true }. The kernel wants
// the memory address, the file offset and the length aligned (dioAlignment());
// kaio hands an aligned request straight to the context and sends any other
// through aligned bounce memory: a read widens to the aligned blocks around
// the range and copies out; a write reads those blocks, patches them, writes
// them back and trims the file to its true end. JS cannot see a buffer's
// address, so a request aligned in offset and length goes straight out and
// falls back to the bounce when the kernel refuses it (EINVAL).
// Such read-modify-writes are not atomic against concurrent writes to the
// same blocks (the page cache would not make them atomic either).
import * as fs from 'node:fs';
import { dioAlignment } from '../dio';
import { alignedBuffer } from '../pool';
import type { FileIo } from './file-io';

export interface DirectIo {
  read(fd: number, view: Uint8Array, at: number | bigint): Promise<number>;
  write(fd: number, view: Uint8Array, at: number | bigint): Promise<number>;
  vectored(write: boolean, fd: number, buffers: ArrayBufferView[], at: number | bigint): Promise<number>;
}

const EINVAL = -22;
const isEinval = (e: unknown): boolean => (e as { errno?: number })?.errno === EINVAL;

function fstatSize(fd: number): Promise<number> {
  return new Promise((resolve, reject) => fs.fstat(fd, (e, st) => (e ? reject(e) : resolve(st.size))));
}

function ftruncate(fd: number, len: number): Promise<void> {
  return new Promise((resolve, reject) => fs.ftruncate(fd, len, (e) => (e ? reject(e) : resolve())));
}

class Direct implements DirectIo {
  readonly #io: FileIo;
  readonly #mem: number;
  readonly #off: number;
  readonly #append: boolean;
  /** The handle's current position: kept here, since the direct path always passes explicit offsets. */
  #pos = 0;

  constructor(io: FileIo, mem: number, off: number, append: boolean) {
    this.#io = io;
    this.#mem = mem;
    this.#off = off;
    this.#append = append;
  }

  #aligned(at: number, len: number): boolean {
    return at % this.#off === 0 && len % this.#off === 0;
  }

  async read(fd: number, view: Uint8Array, at: number | bigint): Promise<number> {
    const current = at === -1;
    const pos = current ? this.#pos : Number(at);
    const n = await this.#readAt(fd, view, pos);
    if (current) this.#pos += n;
    return n;
  }

  async #readAt(fd: number, view: Uint8Array, at: number): Promise<number> {
    if (this.#aligned(at, view.byteLength)) {
      try {
        return await this.#io.read(fd, view, at);
      } catch (e) {
        if (!isEinval(e)) throw e;
      }
    }
    const start = at - (at % this.#off);
    const end = Math.ceil((at + view.byteLength) / this.#off) * this.#off;
    const bounce = alignedBuffer(end - start, Math.max(this.#mem, this.#off));
    const got = await this.#io.read(fd, bounce, start);
    const n = Math.max(0, Math.min(got - (at - start), view.byteLength));
    if (n > 0) view.set(bounce.subarray(at - start, at - start + n));
    return n;
  }

  async write(fd: number, view: Uint8Array, at: number | bigint): Promise<number> {
    const current = at === -1;
    let pos: number;
    if (this.#append) pos = await fstatSize(fd);
    else pos = current ? this.#pos : Number(at);
    const n = await this.#writeAt(fd, view, pos);
    if (current) this.#pos = pos + n;
    return n;
  }

  async #writeAt(fd: number, view: Uint8Array, at: number): Promise<number> {
    if (this.#aligned(at, view.byteLength) && !this.#append) {
      try {
        return await this.#io.write(fd, view, at);
      } catch (e) {
        if (!isEinval(e)) throw e;
      }
    }
    const size = await fstatSize(fd);
    const start = at - (at % this.#off);
    const end = Math.ceil((at + view.byteLength) / this.#off) * this.#off;
    const bounce = alignedBuffer(end - start, Math.max(this.#mem, this.#off));
    // The blocks' old bytes where the file has them (zeros past its end).
    if (start < size) await this.#io.read(fd, bounce, start);
    bounce.set(view, at - start);
    let done = 0;
    while (done < bounce.byteLength) {
      const n = await this.#io.write(fd, bounce.subarray(done), start + done);
      if (n === 0) break;
      done += n;
    }
    const trueEnd = Math.max(size, at + view.byteLength);
    if (start + done > trueEnd) await ftruncate(fd, trueEnd);
    return view.byteLength;
  }

  async vectored(write: boolean, fd: number, buffers: ArrayBufferView[], at: number | bigint): Promise<number> {
    // One bounce for the whole list.
    const total = buffers.reduce((s, b) => s + b.byteLength, 0);
    const flat = new Uint8Array(total);
    if (write) {
      let o = 0;
      for (const b of buffers) {
        flat.set(new Uint8Array(b.buffer, b.byteOffset, b.byteLength), o);
        o += b.byteLength;
      }
      return this.write(fd, flat, at);
    }
    const n = await this.read(fd, flat, at);
    let o = 0;
    for (const b of buffers) {
      if (o >= n) break;
      const take = Math.min(b.byteLength, n - o);
      new Uint8Array(b.buffer, b.byteOffset, take).set(flat.subarray(o, o + take));
      o += take;
    }
    return n;
  }
}

/** The O_DIRECT path of a handle just opened with `flags` on `fd`. */
export async function makeDirect(io: FileIo, fd: number, flags: number): Promise<DirectIo> {
  const a = dioAlignment(fd);
  return new Direct(io, a.memory || 4096, a.offset || 4096, (flags & fs.constants.O_APPEND) !== 0);
}
