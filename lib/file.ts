// open(): a FileHandle look-alike of node:fs/promises whose reads and writes
// go through a kaio context (io_uring by default). Same method names,
// argument forms and result shapes as Node's, so code can switch by changing
// the import.
import * as fs from 'node:fs';
import { promisify } from 'node:util';
import { invalidArgType, outOfRange, systemError } from './errors';
import { parseOpenFlags } from './ring';
import { createContext } from './context';
import type { IoContext } from './types';
import { validateBuffer, validateBuffers, validateInteger, validateKeys, validateObject, validatePosition, MAX_RW } from './validate';

/** What a File needs from its context; every kaio backend (IoContext) provides it. */
export interface FileIo {
  readonly backend?: string;
  read(fd: number, buffer: ArrayBufferView, position?: number | bigint): Promise<number>;
  write(fd: number, buffer: ArrayBufferView, position?: number | bigint): Promise<number>;
  readv(fd: number, buffers: ArrayBufferView[], position?: number | bigint): Promise<number>;
  writev(fd: number, buffers: ArrayBufferView[], position?: number | bigint): Promise<number>;
  fsync(fd: number, options?: { datasync?: boolean }): Promise<void>;
}

export interface OpenFileOptions {
  /** The context that carries the I/O. Default: one shared createContext() per thread (io_uring where allowed). */
  context?: FileIo;
}

export interface ReadResult<T extends ArrayBufferView> {
  bytesRead: number;
  buffer: T;
}

export interface WriteResult<T> {
  bytesWritten: number;
  buffer: T;
}

const fsOpen = promisify(fs.open);
const fsClose = promisify(fs.close);
const fsFstat = promisify(fs.fstat);
const fsFtruncate = promisify(fs.ftruncate);
const fsRead = (fd: number, b: ArrayBufferView, o: number, l: number, p: null): Promise<number> =>
  new Promise((res, rej) => fs.read(fd, b as NodeJS.ArrayBufferView, o, l, p, (e, n) => (e ? rej(e) : res(n))));
const fsWrite = (fd: number, b: ArrayBufferView, o: number, l: number, p: null): Promise<number> =>
  new Promise((res, rej) => fs.write(fd, b as NodeJS.ArrayBufferView, o, l, p, (e, n) => (e ? rej(e) : res(n))));

let shared: IoContext | undefined;

/**
 * The per-thread default context (createContext() with backend 'auto'):
 * made on first use; never keeps the process alive when idle.
 */
export function defaultContext(): IoContext {
  if (!shared || shared.closed) shared = createContext();
  return shared;
}

/** Opens a file like fs.promises.open and returns a kaio File. */
export async function open(
  path: fs.PathLike,
  flags: string | number = 'r',
  mode: number = 0o666,
  options: OpenFileOptions = {},
): Promise<File> {
  const numeric = parseOpenFlags(flags);
  const m = validateInteger(mode, 'mode', 0, 0o7777);
  const o = validateObject<OpenFileOptions>(options, 'options');
  validateKeys(o, 'options', ['context']);
  const context = o.context ?? defaultContext();
  const fd = await fsOpen(path, numeric, m);
  return new File(fd, context);
}

/** A file handle; see node:fs/promises FileHandle. */
export class File {
  #fd: number;
  readonly #io: FileIo;
  #closing: Promise<void> | undefined;
  /** Ops of this handle not settled yet: close() waits for them, as Node's FileHandle does. */
  #pending = 0;
  #drained: (() => void) | undefined;

  // Linux AIO has no "current position": such reads and writes use node:fs.
  readonly #currentPosition: boolean;

  constructor(fd: number, io: FileIo) {
    this.#fd = validateInteger(fd, 'fd', 0, 0x7fffffff);
    this.#io = io;
    this.#currentPosition = io.backend !== 'aio';
  }

  /** The numeric fd, or -1 once closed (as Node's FileHandle). */
  get fd(): number {
    return this.#fd;
  }

  /**
   * read(buffer, offset?, length?, position?) or read({ buffer, offset, length, position }).
   * A null/undefined position reads from the current file position and advances it.
   */
  async read<T extends ArrayBufferView = Buffer>(
    bufferOrOptions?: T | { buffer?: T; offset?: number; length?: number; position?: number | bigint | null },
    offset?: number | null,
    length?: number | null,
    position?: number | bigint | null,
  ): Promise<ReadResult<T>> {
    let buffer: T;
    if (bufferOrOptions === undefined || (!ArrayBuffer.isView(bufferOrOptions) && typeof bufferOrOptions === 'object')) {
      const o = (bufferOrOptions ?? {}) as { buffer?: T; offset?: number; length?: number; position?: number | bigint | null };
      buffer = o.buffer ?? (Buffer.alloc(16384) as unknown as T);
      offset = o.offset;
      length = o.length;
      position = o.position;
    } else {
      buffer = bufferOrOptions as T;
    }
    const view = this.#slice(buffer, offset, length);
    const fd = this.#open('read');
    const pos = validatePosition(position);
    const bytesRead = pos === -1 && !this.#currentPosition ? await this.#track(fsRead(fd, view, 0, view.byteLength, null)) : await this.#track(this.#io.read(fd, view, pos));
    return { bytesRead, buffer };
  }

  /** write(buffer, offset?, length?, position?) or write(string, position?, encoding?). */
  write<T extends ArrayBufferView | string>(
    data: T,
    offsetOrPosition?: number | bigint | null,
    lengthOrEncoding?: number | BufferEncoding | null,
    position?: number | bigint | null,
  ): Promise<WriteResult<T>> {
    return this.#track(this.#write(data, offsetOrPosition, lengthOrEncoding, position));
  }

  async #write<T extends ArrayBufferView | string>(
    data: T,
    offsetOrPosition?: number | bigint | null,
    lengthOrEncoding?: number | BufferEncoding | null,
    position?: number | bigint | null,
  ): Promise<WriteResult<T>> {
    const fd = this.#open('write');
    if (typeof data === 'string') {
      const encoding = (typeof lengthOrEncoding === 'string' ? lengthOrEncoding : 'utf8') as BufferEncoding;
      if (!Buffer.isEncoding(encoding)) throw invalidArgType('encoding', 'a valid encoding', encoding);
      const bytes = Buffer.from(data, encoding);
      const n = await this.#writeAll(fd, bytes, validatePosition(offsetOrPosition));
      return { bytesWritten: n, buffer: data };
    }
    if (!ArrayBuffer.isView(data)) throw invalidArgType('buffer', 'of type string or an instance of Buffer, TypedArray, or DataView', data);
    const offset = offsetOrPosition === undefined || offsetOrPosition === null ? undefined : validateInteger(offsetOrPosition, 'offset', 0, data.byteLength);
    const length = typeof lengthOrEncoding === 'number' ? lengthOrEncoding : undefined;
    const view = this.#slice(data, offset, length);
    const pos = validatePosition(position);
    const n = pos === -1 && !this.#currentPosition ? await this.#track(fsWrite(fd, view, 0, view.byteLength, null)) : await this.#track(this.#io.write(fd, view, pos));
    return { bytesWritten: n, buffer: data };
  }

  async readv<T extends ArrayBufferView[]>(buffers: T, position?: number | bigint | null): Promise<{ bytesRead: number; buffers: T }> {
    validateBuffers(buffers);
    const bytesRead = await this.#track(this.#io.readv(this.#open('readv'), buffers, validatePosition(position)));
    return { bytesRead, buffers };
  }

  async writev<T extends ArrayBufferView[]>(buffers: T, position?: number | bigint | null): Promise<{ bytesWritten: number; buffers: T }> {
    validateBuffers(buffers);
    const bytesWritten = await this.#track(this.#io.writev(this.#open('writev'), buffers, validatePosition(position)));
    return { bytesWritten, buffers };
  }

  /** Reads the whole file from its start (ignores the current position, unlike Node for non-zero positions). */
  readFile(options?: { encoding?: BufferEncoding | null } | BufferEncoding | null): Promise<Buffer | string> {
    return this.#track(this.#readFile(options));
  }

  async #readFile(options?: { encoding?: BufferEncoding | null } | BufferEncoding | null): Promise<Buffer | string> {
    const encoding = typeof options === 'string' ? options : options?.encoding ?? null;
    const fd = this.#open('read');
    const chunks: Buffer[] = [];
    let pos = 0;
    let size = Number((await fsFstat(fd)).size) || 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(Math.max(size - pos, 65536), MAX_RW));
      const n = await this.#track(this.#io.read(fd, chunk, pos));
      if (n === 0) break;
      chunks.push(n === chunk.length ? chunk : chunk.subarray(0, n));
      pos += n;
      if (pos >= size) size = pos + 65536; // file grew or size unknown: keep going
    }
    const all = Buffer.concat(chunks, pos);
    return encoding ? all.toString(encoding) : all;
  }

  /** Replaces the file's contents (truncates, then writes from offset 0). */
  writeFile(data: string | ArrayBufferView, options?: { encoding?: BufferEncoding } | BufferEncoding): Promise<void> {
    return this.#track(this.#writeFile(data, options));
  }

  async #writeFile(data: string | ArrayBufferView, options?: { encoding?: BufferEncoding } | BufferEncoding): Promise<void> {
    const encoding = (typeof options === 'string' ? options : options?.encoding) ?? 'utf8';
    const fd = this.#open('write');
    const bytes = typeof data === 'string' ? Buffer.from(data, encoding) : validateBuffer(data, 'data');
    await this.#track(fsFtruncate(fd, 0));
    await this.#writeAll(fd, bytes, 0);
  }

  stat(opts?: { bigint?: boolean }): Promise<fs.Stats | fs.BigIntStats> {
    return this.#track(promisify(fs.fstat)(this.#open('fstat'), opts ?? {}) as Promise<fs.Stats | fs.BigIntStats>);
  }

  truncate(len = 0): Promise<void> {
    return this.#track(fsFtruncate(this.#open('ftruncate'), len));
  }

  sync(): Promise<void> {
    return this.#track(this.#io.fsync(this.#open('fsync')));
  }

  datasync(): Promise<void> {
    return this.#track(this.#io.fsync(this.#open('fdatasync'), { datasync: true }));
  }

  /**
   * Closes the fd once every op of this handle has settled (so no queued
   * write can reach a file that reuses the number). Idempotent.
   */
  close(): Promise<void> {
    if (!this.#closing) {
      const fd = this.#fd;
      this.#fd = -1;
      const idle = this.#pending === 0 ? Promise.resolve() : new Promise<void>((resolve) => (this.#drained = resolve));
      this.#closing = fd < 0 ? Promise.resolve() : idle.then(() => fsClose(fd));
    }
    return this.#closing;
  }

  /** Counts op as pending until it settles. */
  #track<T>(op: Promise<T>): Promise<T> {
    this.#pending++;
    const done = (): void => {
      if (--this.#pending === 0 && this.#drained) {
        const wake = this.#drained;
        this.#drained = undefined;
        wake();
      }
    };
    op.then(done, done);
    return op;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #open(syscall: string): number {
    if (this.#fd < 0) throw systemError(-9 /* EBADF */, syscall);
    return this.#fd;
  }

  #slice<T extends ArrayBufferView>(buffer: T, offset?: number | null, length?: number | null): ArrayBufferView {
    validateBuffer(buffer);
    const size = buffer.byteLength;
    const off = offset === undefined || offset === null ? 0 : validateInteger(offset, 'offset', 0, size);
    const len = length === undefined || length === null ? size - off : validateInteger(length, 'length', 0, size - off);
    if (off + len > size) throw outOfRange('length', `<= ${size - off}`, len);
    if (off === 0 && len === size) return buffer;
    return new Uint8Array(buffer.buffer, buffer.byteOffset + off, len);
  }

  async #writeAll(fd: number, bytes: ArrayBufferView, position: number | bigint): Promise<number> {
    let done = 0;
    const u8 = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    while (done < u8.length) {
      const at = position === -1 ? -1 : typeof position === 'bigint' ? position + BigInt(done) : position + done;
      const chunk = u8.subarray(done);
      const n = await this.#track(at === -1 && !this.#currentPosition ? fsWrite(fd, chunk, 0, chunk.byteLength, null) : this.#io.write(fd, chunk, at));
      if (n === 0) break;
      done += n;
    }
    return done;
  }
}
