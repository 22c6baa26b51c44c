// Module-level createReadStream and createWriteStream for kaio/fs/promises
// and kaio: node:fs's own ReadStream and WriteStream, driven by kaio.
//
// Node's fs.createReadStream(null, { fd: handle }) refuses a kaio
// FileHandle: it checks `instanceof` against its internal FileHandle, which
// wraps a native handle only Node's own open() makes. kaio does not fake
// that (Node's methods would then run on an empty internal handle); these
// take what fs.createReadStream/createWriteStream take, plus a kaio handle
// as the path or as options.fd.
//
// - A kaio FileHandle: FileHandle#createReadStream/createWriteStream (its
//   ops, its lifetime; closing the handle closes the stream).
// - A path: the stream opens the file with kaio's open() when it starts
//   (flags, mode and the path's errors as kaio's open gives them, on
//   'error'), reads or writes through that handle, and closes it on
//   autoClose, as Node's stream does with its fd. With autoClose false the
//   fd is the caller's to close (stream.fd), as with Node.
// - A number as options.fd: node:fs's stream over that fd, unchanged (the
//   fd is the caller's; kaio does not wrap what it does not own).
//
// kaio's own option: `context` (the kaio context to open the file with).
import * as fs from 'node:fs';
import { types } from 'node:util';
import { FileHandle, disownOnGc } from '../file/handle';
import { open } from '../file/open';
import type { FileIo } from '../file/file-io';
import { stateError } from '../errors';

type Done = (err: NodeJS.ErrnoException | null, ...rest: unknown[]) => void;
type StreamCtor<T> = new (path: unknown, options: unknown) => T;
const ReadStreamCtor = fs.ReadStream as unknown as StreamCtor<fs.ReadStream>;
const WriteStreamCtor = fs.WriteStream as unknown as StreamCtor<fs.WriteStream>;

export interface KaioStreamOptions {
  /** kaio: the context the file is opened with and read/written through (default: defaultContext()). */
  context?: FileIo;
}
export type KaioReadStreamOptions = Omit<Exclude<Parameters<typeof fs.createReadStream>[1], string | undefined>, 'fd'> & KaioStreamOptions & { fd?: number | FileHandle };
export type KaioWriteStreamOptions = Omit<Exclude<Parameters<typeof fs.createWriteStream>[1], string | undefined>, 'fd'> & KaioStreamOptions & { fd?: number | FileHandle };

/** The options as Node's getOptions takes them: a string is the encoding; own properties read once. */
function copyOptions(options: unknown): Record<string, unknown> | undefined {
  if (options === undefined || options === null) return {};
  if (typeof options === 'string') return { encoding: options };
  if (typeof options !== 'object' || types.isProxy(options)) return undefined;
  return { ...(options as Record<string, unknown>) };
}

function methodNotImplemented(): Error {
  return stateError('ERR_METHOD_NOT_IMPLEMENTED', 'The FileHandle with fs method is not implemented');
}

/**
 * The fs a path stream uses: open() opens a kaio handle (with the context
 * asked for), the reads and writes go through it, close() closes it.
 */
function pathOps(context: FileIo | undefined, autoClose: boolean): Record<string, Function> {
  let handle: FileHandle | undefined;
  const on = (done: Done, fn: (h: FileHandle) => Promise<unknown>, ...rest: unknown[]): void => {
    if (!handle) {
      done(Object.assign(new Error('EBADF: bad file descriptor'), { code: 'EBADF' }));
      return;
    }
    fn(handle).then((n) => done(null, n, ...rest), (e) => done(e));
  };
  return {
    open(path: fs.PathLike, flags: string | number, mode: number | string, done: Done) {
      open(path, flags, mode, context === undefined ? {} : { context }).then((h) => {
        handle = h;
        // autoClose false: the fd is the caller's (stream.fd), as with Node;
        // the garbage collector must not close a number the caller may have
        // closed and the kernel handed out again.
        if (!autoClose) disownOnGc(h);
        done(null, h.fd);
      }, (e) => done(e));
    },
    read(_fd: number, buf: Buffer, off: number, len: number, pos: number | undefined | null, done: Done) {
      // Node's ReadStream reads a whole Buffer of its own, at offset 0 (see FileHandle#_streamRead).
      if (handle && off === 0 && len === buf.length) {
        // The chunk: `buf`, or a Buffer kaio read into instead (see _streamRead).
        handle._streamRead(buf, pos, (e, n, chunk) => (e ? done(e as NodeJS.ErrnoException) : done(null, n, chunk ?? buf)));
        return;
      }
      on(done, (h) => h.read(buf, off, len, pos ?? null).then((r) => r.bytesRead), buf);
    },
    write(_fd: number, buf: Buffer, off: number, len: number, pos: number | undefined | null, done: Done) {
      // Node's WriteStream writes a whole chunk at offset 0 (see FileHandle#_streamWrite).
      if (handle && off === 0 && len === buf.length) {
        handle._streamWrite([buf], pos, (e, n) => (e ? done(e as NodeJS.ErrnoException) : done(null, n, buf)));
        return;
      }
      on(done, (h) => h.write(buf, off, len, pos ?? null).then((r) => r.bytesWritten), buf);
    },
    writev(_fd: number, bufs: Buffer[], pos: number | undefined | null, done: Done) {
      if (handle) {
        handle._streamWrite(bufs, pos, (e, n) => (e ? done(e as NodeJS.ErrnoException) : done(null, n, bufs)));
        return;
      }
      on(done, (h) => h.writev(bufs, pos ?? null).then((r) => r.bytesWritten), bufs);
    },
    fsync(_fd: number, done: Done) {
      on(done, (h) => h.sync());
    },
    close(_fd: number, done: Done) {
      const h = handle;
      handle = undefined;
      if (!h) {
        done(null);
        return;
      }
      h.close().then(() => done(null), (e) => done(e));
    },
  };
}

function make<T>(kind: 'read' | 'write', Ctor: StreamCtor<T>, path: unknown, options: unknown): T {
  const o = copyOptions(options);
  // Anything else (a number, a Proxy...): Node's own checks and error.
  if (o === undefined) return new Ctor(path, options);
  const context = o.context as FileIo | undefined;
  delete o.context;
  const handle = path instanceof FileHandle ? path : o.fd instanceof FileHandle ? o.fd : undefined;
  if (handle) {
    if (o.fs !== undefined && o.fs !== null) throw methodNotImplemented();
    delete o.fd;
    return (kind === 'read' ? handle.createReadStream(o) : handle.createWriteStream(o)) as unknown as T;
  }
  if (o.fd !== undefined && o.fd !== null) return new Ctor(path, o);
  // A path (Node validates it, and the flags/mode kaio's open() takes).
  // Node's own `fs` option wins: then the stream is Node's with that fs.
  if (o.fs !== undefined && o.fs !== null) return new Ctor(path, o);
  o.fs = pathOps(context, o.autoClose === undefined ? true : Boolean(o.autoClose));
  return new Ctor(path, o);
}

/** fs.createReadStream(path, options) read through kaio; path may be a kaio FileHandle, as may options.fd. */
export function createReadStream(path: fs.PathLike | FileHandle | null, options?: BufferEncoding | KaioReadStreamOptions): fs.ReadStream {
  return make('read', ReadStreamCtor, path, options);
}

/** fs.createWriteStream(path, options) written through kaio; path may be a kaio FileHandle, as may options.fd. */
export function createWriteStream(path: fs.PathLike | FileHandle | null, options?: BufferEncoding | KaioWriteStreamOptions): fs.WriteStream {
  return make('write', WriteStreamCtor, path, options);
}
