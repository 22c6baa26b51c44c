// Streams over a FileHandle: node:fs's own ReadStream and WriteStream (so
// start/end/highWaterMark/encoding/autoClose/emitClose/flush/signal, events
// and back-pressure are Node's), given the handle's fd and an `fs` whose
// read/write/close are the handle's, so the bytes go through the kaio context
// and close() waits for the stream's ops.
import * as fs from 'node:fs';
import { createInterface, type Interface } from 'node:readline';
import type { EventEmitter } from 'node:events';
import type { ReadResult, WriteResult } from './file-io';

/** What the streams use of a FileHandle (kept here so streams.ts does not import the handle). */
export interface StreamHandle extends Pick<EventEmitter, 'on' | 'off'> {
  readonly fd: number;
  read(buffer: Buffer, offset: number, length: number, position: number | bigint | null): Promise<ReadResult<Buffer>>;
  write(buffer: Buffer, offset: number, length: number, position: number | bigint | null): Promise<WriteResult<Buffer>>;
  writev(buffers: Buffer[], position: number | bigint | null): Promise<{ bytesWritten: number; buffers: Buffer[] }>;
  sync(): Promise<void>;
  close(): Promise<void>;
  /** FileHandle's read for streams (whole buffer, a later turn); without it, read(). */
  _streamRead?(view: Uint8Array, position: number | null | undefined, done: (err: unknown, bytesRead?: number, chunk?: Uint8Array) => void): void;
  /** FileHandle's write for streams (whole buffers, no promise of its own); without it, write()/writev(). */
  _streamWrite?(views: Uint8Array[], position: number | null | undefined, done: (err: unknown, bytesWritten?: number) => void): void;
}

export interface ReadStreamOptions {
  encoding?: BufferEncoding | null;
  autoClose?: boolean;
  emitClose?: boolean;
  start?: number;
  end?: number;
  highWaterMark?: number;
  signal?: AbortSignal;
}

export interface WriteStreamOptions {
  encoding?: BufferEncoding | null;
  autoClose?: boolean;
  emitClose?: boolean;
  start?: number;
  highWaterMark?: number;
  flush?: boolean;
  signal?: AbortSignal;
}

type Done = (err: NodeJS.ErrnoException | null, ...rest: unknown[]) => void;

/** A stream holds its handle open (+1) until the stream has closed (-1): see FileHandle#close. */
export type StreamHold = (by: 1 | -1) => void;

function handleOps(handle: StreamHandle, hold: StreamHold | undefined): Record<string, Function> {
  let held = hold !== undefined;
  hold?.(1);
  const release = (): void => {
    if (held) {
      held = false;
      hold!(-1);
    }
  };
  return {
    open(_path: unknown, _flags: unknown, _mode: unknown, done: Done) {
      done(null, handle.fd);
    },
    read(_fd: number, buf: Buffer, off: number, len: number, pos: number | undefined | null, done: Done) {
      // Node's ReadStream reads a whole Buffer of its own, at offset 0.
      if (off === 0 && len === buf.length && handle._streamRead !== undefined) {
        // The chunk: `buf`, or a Buffer kaio read into instead (see _streamRead).
        handle._streamRead(buf, pos, (e, n, chunk) => (e ? done(e as NodeJS.ErrnoException) : done(null, n, chunk ?? buf)));
        return;
      }
      handle.read(buf, off, len, pos ?? null).then((r) => done(null, r.bytesRead, buf), (e) => done(e));
    },
    write(_fd: number, buf: Buffer, off: number, len: number, pos: number | undefined | null, done: Done) {
      // Node's WriteStream writes a whole chunk (what is left of it after a short write: a new Buffer), at offset 0.
      if (off === 0 && len === buf.length && handle._streamWrite !== undefined) {
        handle._streamWrite([buf], pos, (e, n) => (e ? done(e as NodeJS.ErrnoException) : done(null, n, buf)));
        return;
      }
      handle.write(buf, off, len, pos ?? null).then((r) => done(null, r.bytesWritten, buf), (e) => done(e));
    },
    writev(_fd: number, bufs: Buffer[], pos: number | undefined | null, done: Done) {
      if (handle._streamWrite !== undefined) {
        handle._streamWrite(bufs, pos, (e, n) => (e ? done(e as NodeJS.ErrnoException) : done(null, n, bufs)));
        return;
      }
      handle.writev(bufs, pos ?? null).then((r) => done(null, r.bytesWritten, bufs), (e) => done(e));
    },
    fsync(_fd: number, done: Done) {
      handle.sync().then(() => done(null), (e) => done(e));
    },
    close(_fd: number, done: Done) {
      release();
      handle.close().then(() => done(null), (e) => done(e));
    },
    release,
  };
}

/** Ties a stream to its handle as Node does: closing the handle closes the stream. */
function follow<T extends fs.ReadStream | fs.WriteStream>(handle: StreamHandle, stream: T): T {
  const s = stream as unknown as NodeJS.EventEmitter & { close(): void };
  const onClose = (): void => {
    s.close();
  };
  handle.on('close', onClose);
  s.once('close', () => handle.off('close', onClose));
  return stream;
}

// fs.ReadStream/WriteStream constructors take (path, options); @types declares no arguments.
type StreamCtor<T> = new (path: unknown, options: unknown) => T;
const ReadStreamCtor = fs.ReadStream as unknown as StreamCtor<fs.ReadStream>;
const WriteStreamCtor = fs.WriteStream as unknown as StreamCtor<fs.WriteStream>;

export function readStream(handle: StreamHandle, options?: ReadStreamOptions, hold?: StreamHold): fs.ReadStream {
  return make(ReadStreamCtor, handle, options, hold);
}

export function writeStream(handle: StreamHandle, options?: WriteStreamOptions, hold?: StreamHold): fs.WriteStream {
  return make(WriteStreamCtor, handle, options, hold);
}

function make<T extends fs.ReadStream | fs.WriteStream>(Ctor: StreamCtor<T>, handle: StreamHandle, options: object | undefined, hold: StreamHold | undefined): T {
  const ops = handleOps(handle, hold);
  let stream: T;
  try {
    stream = new Ctor(undefined, { ...(options ?? {}), fd: handle.fd, fs: ops });
  } catch (e) {
    // A bad option: no stream, no hold.
    (ops.release as () => void)();
    throw e;
  }
  return follow(handle, stream);
}

export function readLines(handle: StreamHandle, options?: ReadStreamOptions, hold?: StreamHold): Interface {
  return createInterface({ input: readStream(handle, options, hold), crlfDelay: Infinity });
}
