// sendFile(target, file, options?): a file's bytes to a connected
// net.Socket (or a node:http response's) without the bytes entering JS or user memory: IORING_OP_SPLICE
// from the file into a pipe (the page cache's pages, by reference), then
// from the pipe into the socket. For a node:http response: write the head
// (res.writeHead(...) with the Content-Length), `await sendFile(res, ...)`
// (which flushes the head and waits for the response's socket), then
// res.end().
//
// The socket stays Node's: kaio waits until everything written to it before
// has reached the kernel, then sends through a duplicate of its fd (so the
// fd number can never be closed and reused under an op on its way to the
// kernel), and nothing else may write to the socket until the promise
// settles. A socket that cannot take more (EAGAIN: its fd is non-blocking,
// libuv's) is waited on with IORING_OP_POLL_ADD, so back-pressure costs no
// thread. When the socket closes during the send (the peer went away and
// Node destroyed it, or the program did), the op in flight is cancelled and
// the promise rejects with ERR_KAIO_SOCKET_CLOSED; a peer reset seen by the
// splice itself rejects with the kernel's EPIPE/ECONNRESET. A file that ends
// before the bytes asked for were sent rejects with ERR_KAIO_FILE_TRUNCATED
// (what was sent is in the error's `bytesSent`): the response is then
// shorter than its Content-Length, and the caller must destroy the socket.
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { binding } from '../binding';
import { constants as osConstants } from 'node:os';
import { AbortError, invalidArgType, outOfRange, stateError, systemError, unsupported, type ErrnoError } from '../errors';
import { FileHandle } from '../file/handle';
import { defaultContext } from '../file/open';
import { asRing } from '../file/ring-ops';
import { Ring } from '../ring';
import { isAborted, validateInteger, validateOptions, validateSignal } from '../validate';

export interface SendFileOptions {
  /** The file offset to send from (default 0). */
  start?: number;
  /** Bytes to send (default: from `start` to the end of the file, its size when the send starts). */
  length?: number;
  /** Aborting cancels the op in flight; the promise rejects with an AbortError. */
  signal?: AbortSignal;
  /** The Ring to run the ops on (default: defaultContext(), which must be a Ring). */
  context?: Ring;
}

/** What ERR_KAIO_FILE_TRUNCATED and ERR_KAIO_SOCKET_CLOSED carry besides code and message. */
export interface SendFileError extends Error {
  code: string;
  /** Bytes that reached the socket before the send stopped. */
  bytesSent: number;
}

const POLLOUT = 0x4;
const EAGAIN = -osConstants.errno.EAGAIN;
const ECANCELED = -osConstants.errno.ECANCELED;

/** An op's result, or its error (never a rejection: both of a linked pair are awaited). */
const settle = (p: Promise<number>): Promise<number | Error> => p.then((n) => n, (e: unknown) => e as Error);
const PIPE_SIZE = 1 << 20;
/** libuv's handles on a kernel socket fd. */
const PLAIN_HANDLES = new Set(['TCP', 'Pipe']);
const EMPTY = Buffer.alloc(0);

interface SocketHandle {
  fd?: number;
  writeQueueSize?: number;
}

/** The fd of a socket on libuv's TCP or Pipe handle; -1 for any other (closed, or a stream wrapped in JS). */
function socketFd(socket: net.Socket): number {
  const handle = (socket as unknown as { _handle?: SocketHandle | null })._handle;
  if (!handle || !PLAIN_HANDLES.has(handle.constructor?.name)) return -1;
  const fd = handle.fd;
  return typeof fd === 'number' ? fd : -1;
}

function tlsError(): Error {
  return unsupported('sendFile', 'on a TLS socket (the file\'s bytes would bypass the encryption)');
}

function truncatedError(at: number, length: number, sent: number): SendFileError {
  return Object.assign(stateError('ERR_KAIO_FILE_TRUNCATED', `The file ended at offset ${at}, before the ${length} bytes asked for were sent (${sent} sent)`), { bytesSent: sent });
}

/** The size of the open file now (fstat of kaio's own fd). */
function fileSize(fd: number): number {
  return fs.fstatSync(fd).size;
}

function closedError(sent: number): SendFileError {
  return Object.assign(stateError('ERR_KAIO_SOCKET_CLOSED', `The socket is closed or not writable (${sent} bytes of the file sent)`), { bytesSent: sent });
}

/** Resolves once everything written to the socket before has reached the kernel. */
function flushed(socket: net.Socket): Promise<void> {
  const handle = (socket as unknown as { _handle?: SocketHandle | null })._handle;
  if (socket.writableLength === 0 && !handle?.writeQueueSize) return Promise.resolve();
  // Writes complete in order: an empty one completes after every earlier one.
  return new Promise((resolve, reject) => {
    socket.write(EMPTY, (e) => (e ? reject(e) : resolve()));
  });
}

/**
 * A response's head flushed, and its socket: a response to a request that
 * came while an earlier response on the connection is still going has none
 * until that one ends (node:http then emits 'socket').
 */
async function responseSocket(res: http.ServerResponse): Promise<net.Socket> {
  if (res.destroyed || res.writableEnded) throw closedError(0);
  // (headersSent is true from writeHead() on, before anything was written.)
  res.flushHeaders();
  if (res.socket) return res.socket;
  return new Promise((resolve, reject) => {
    const onSocket = (s: net.Socket): void => {
      res.off('close', onClose);
      resolve(s);
    };
    const onClose = (): void => {
      res.off('socket', onSocket);
      reject(closedError(0));
    };
    res.once('socket', onSocket);
    res.once('close', onClose);
  });
}

/**
 * Sends `length` bytes of `file` from `start` to `socket` by splice(2)
 * through a pipe on io_uring; resolves to the bytes sent.
 */
export async function sendFile(target: net.Socket | http.ServerResponse, file: string | Buffer | URL | FileHandle, options?: SendFileOptions): Promise<number> {
  const res = target instanceof http.ServerResponse ? target : undefined;
  if (!res && !(target instanceof net.Socket)) throw invalidArgType('socket', 'an instance of net.Socket or http.ServerResponse', target);
  const isHandle = file instanceof FileHandle;
  if (!isHandle && typeof file !== 'string' && !Buffer.isBuffer(file) && !(file instanceof URL)) {
    throw invalidArgType('file', 'of type string or an instance of Buffer, URL or FileHandle', file);
  }
  const o = validateOptions<SendFileOptions>(options, ['start', 'length', 'signal', 'context']);
  const optStart = o.start;
  const optLength = o.length;
  const optSignal = o.signal;
  const optContext = o.context;
  const start = optStart === undefined ? 0 : validateInteger(optStart, 'options.start', 0, Number.MAX_SAFE_INTEGER);
  let length = optLength === undefined ? -1 : validateInteger(optLength, 'options.length', 0, Number.MAX_SAFE_INTEGER);
  const signal = validateSignal(optSignal);
  if (optContext !== undefined && !(optContext instanceof Ring)) throw invalidArgType('options.context', 'an instance of Ring', optContext);
  const ring = asRing(optContext ?? defaultContext(), 'SPLICE', 'POLL_ADD', 'OPENAT');
  if (!ring) throw unsupported('sendFile', 'without a Ring that has IORING_OP_SPLICE, POLL_ADD and OPENAT (5.7)');
  if (signal !== undefined && isAborted(signal)) throw new AbortError();
  if (isHandle && file.fd < 0) throw systemError(-osConstants.errno.EBADF, 'sendfile');
  // The bytes go to the kernel's socket as they are: never under TLS (they
  // would bypass the encryption), nor any socket not on a plain fd.
  if (target instanceof tls.TLSSocket || res?.socket instanceof tls.TLSSocket) throw tlsError();
  const socket = res ? await responseSocket(res) : (target as net.Socket);
  if (socket instanceof tls.TLSSocket) throw tlsError();
  if (socket.destroyed || !socket.writable || socketFd(socket) < 0) throw closedError(0);

  await flushed(socket);
  if (socket.destroyed || !socket.writable || socketFd(socket) < 0) throw closedError(0);
  // From here on the ops use kaio's own fds: the socket's and the file's
  // numbers may be closed (and reused) by anyone without reaching them.
  const fds: number[] = [];
  const ac = new AbortController();
  const onClose = (): void => ac.abort();
  const onAbort = (): void => ac.abort();
  socket.once('close', onClose);
  signal?.addEventListener('abort', onAbort, { once: true });
  let sent = 0;
  try {
    const sock = binding.dupFd(socketFd(socket));
    fds.push(sock);
    let src: number;
    if (isHandle) {
      src = binding.dupFd(file.fd);
      fds.push(src);
    } else {
      src = await ring.openat(file, 'r');
      fds.push(src);
    }
    if (length < 0) {
      const size = fs.fstatSync(src).size;
      if (start > size) throw outOfRange('options.start', `<= the file's size (${size})`, start);
      length = size - start;
    }
    const length0 = length;
    /** Where the file was found cut (its new end) while its bytes waited in the pipe, or -1. */
    let cutAt = -1;
    const [r, w, cap] = binding.pipe(PIPE_SIZE);
    fds.push(r, w);
    const opSignal = ac.signal;
    let pos = start;
    let inPipe = 0;
    while (sent < length) {
      if (opSignal.aborted) break;
      let out: number | Error;
      if (inPipe === 0) {
        // file -> pipe linked to pipe -> socket: one submission, one turn.
        const want = Math.min(cap, length - sent);
        const inP = settle(ring._spliceLinked(src, pos, w, -1, want));
        const outP = settle(ring.splice(r, -1, sock, -1, want, { signal: opSignal }));
        const n = await inP;
        out = await outP;
        if (typeof n !== 'number') throw n;
        if (n === 0) throw truncatedError(pos, length, sent);
        pos += n;
        inPipe = n;
        // A short first splice cancelled the second: send what the pipe holds.
        if (typeof out !== 'number' && n < want && (out as ErrnoError).errno === ECANCELED) continue;
      } else {
        // The pipe's bytes waited (the socket took part of them, or none):
        // a truncate meanwhile zeroes the file's pages past its new end, and
        // the pipe holds those pages, not copies. Only the bytes still inside
        // the file go out; then the send fails as the file ended.
        const inside = Math.max(0, Math.min(inPipe, fileSize(src) - (pos - inPipe)));
        if (inside < inPipe) {
          cutAt = pos - inPipe + inside;
          length = sent + inside;
          if (inside === 0) break;
        }
        out = await settle(ring.splice(r, -1, sock, -1, Math.min(inPipe, length - sent), { signal: opSignal }));
      }
      if (typeof out !== 'number') {
        if ((out as ErrnoError).errno !== EAGAIN) throw out;
        // The socket's buffer is full: wait until it takes more.
        await ring._pollAdd(sock, POLLOUT, opSignal);
        continue;
      }
      sent += out;
      inPipe -= out;
    }
    if (cutAt < 0 && sent < length) throw opSignal.aborted && !signal?.aborted ? closedError(sent) : new AbortError();
    // The socket's buffer holds the last bytes as the file's pages too (TCP
    // takes spliced pages by reference): a file cut below what was sent
    // before this point may have zeroed bytes not yet on the wire, so it
    // fails as a file that ended early.
    if (cutAt < 0) {
      const size = fileSize(src);
      if (size < start + length) cutAt = Math.max(size, start);
    }
    if (cutAt >= 0) throw truncatedError(cutAt, length0, sent);
    return sent;
  } catch (e) {
    if ((e as Error).name === 'AbortError') {
      // Cancelled: the socket closed, or the caller's signal.
      if (signal !== undefined && isAborted(signal)) throw Object.assign(new AbortError(), { bytesSent: sent });
      throw closedError(sent);
    }
    if (e && typeof e === 'object' && !('bytesSent' in e)) Object.assign(e, { bytesSent: sent });
    throw e;
  } finally {
    socket.off('close', onClose);
    signal?.removeEventListener('abort', onAbort);
    for (const fd of fds) fs.closeSync(fd);
  }
}
