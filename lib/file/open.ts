// open() and the per-thread default context: node:fs/promises' open over a
// kaio context (openat on the ring where it has the op).
import * as fs from 'node:fs';
import { createContext } from '../context';
import { validateKeys, validateObject } from '../validate';
import { invalidArgType } from '../errors';
import type { IoContext } from '../types';
import { asRing } from './ring-ops';
import type { KernelPath } from '../ring/args';
import { fileMode, openFlags, validatePath } from './args';
import { withCallerStack } from './errors';
import { FileHandle, type FileIo } from './handle';
import { directFdFlags, makeDirect } from './direct';

export { asRing } from './ring-ops';

export interface OpenFileOptions {
  /** The context that carries the I/O. Default: one shared createContext() per thread (io_uring where allowed). */
  context?: FileIo;
  /**
   * Open with O_DIRECT (bypass the page cache). kaio aligns for the caller:
   * unaligned buffers, offsets and lengths go through aligned bounce memory.
   */
  direct?: boolean;
}

export const fsClose = (fd: number): Promise<void> =>
  new Promise((resolve, reject) => fs.close(fd, (e) => (e ? reject(e) : resolve())));

/**
 * Closes an fd kaio opened on `ring`: on the ring, or through node:fs once
 * the ring is closing (it refuses new ops then: an fd opened before must
 * still be closed, not leaked, when its context closes under the op).
 */
export const closeOnRing = (ring: { readonly closed: boolean; closeFd(fd: number): Promise<void> }, fd: number): Promise<void> =>
  ring.closed ? fsClose(fd) : ring.closeFd(fd);

let shared: IoContext | undefined;

/**
 * The per-thread default context (createContext() with backend 'auto'):
 * made on first use; never keeps the process alive when idle.
 */
export function defaultContext(): IoContext {
  if (!shared || shared.closed) shared = createContext();
  return shared;
}

const O_DIRECT = fs.constants.O_DIRECT ?? 0o40000;

/** Opens a file like fs.promises.open and returns a kaio FileHandle. */
export async function open(path: fs.PathLike, flags: string | number = 'r', mode: number | string = 0o666, options: OpenFileOptions = {}): Promise<FileHandle> {
  const p = validatePath(path);
  let f = openFlags(flags);
  const m = fileMode(mode, 'mode', 0o666);
  const o = validateObject<OpenFileOptions>(options, 'options');
  validateKeys(o, 'options', ['context', 'direct']);
  if (o.direct !== undefined && typeof o.direct !== 'boolean') throw invalidArgType('options.direct', 'of type boolean', o.direct);
  const context = o.context ?? defaultContext();
  if (o.direct) f |= O_DIRECT;
  try {
    return await openWith(context, p, f, m, o.direct === true);
  } catch (e) {
    throw withCallerStack(e);
  }
}

/** @internal open() without the argument checks. */
export async function openWith(context: FileIo, p: KernelPath, flags: number, mode: number, direct: boolean): Promise<FileHandle> {
  const ring = asRing(context, 'OPENAT');
  const openAs = (f: number): Promise<number> =>
    ring ? ring.openat(p, f, mode & 0o7777) : new Promise<number>((resolve, reject) => fs.open(p, f, mode, (e, fd) => (e ? reject(e) : resolve(fd))));
  // A direct handle's fd is opened for what its path needs (read-write, no
  // O_APPEND; see direct.ts). Where read access is refused (a file the
  // caller may write but not read), the caller's own write-only open is used.
  const fdFlags = direct ? directFdFlags(flags) : flags;
  let fdReads = true;
  let fd: number;
  try {
    fd = await openAs(fdFlags);
  } catch (e) {
    const asked = directFdFlags(flags, false);
    if (!direct || asked === fdFlags || (e as { code?: string })?.code !== 'EACCES') throw e;
    fd = await openAs(asked);
    fdReads = false;
  }
  const closeFd = ring && ring.supports('CLOSE') ? (n: number) => closeOnRing(ring, n) : undefined;
  try {
    return new FileHandle(fd, context, direct ? await makeDirect(context, fd, flags, fdReads) : undefined, closeFd);
  } catch (e) {
    fs.close(fd, () => undefined);
    throw e;
  }
}
