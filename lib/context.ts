// One interface over the three backends, and the choice between them:
// io_uring where a ring can be set up and has the ops, else Linux AIO, else
// libuv's thread pool. KAIO_BACKEND forces one.
import { AioContext } from './aio';
import { binding } from './binding';
import { invalidArgValue } from './errors';
import { Ring } from './ring';
import type { Backend, IoContext } from './types';
import { ThreadpoolContext } from './threadpool';
import { validateInteger, validateKeys, validateObject } from './validate';

export const BACKENDS: readonly Backend[] = ['io_uring', 'aio', 'threadpool'];

export interface ContextOptions {
  /** 'auto' (default) picks the first that works of io_uring, aio, threadpool. */
  backend?: Backend | 'auto';
  /** Ops the context holds at once (Ring: SQ entries). Default: the backend's own. */
  entries?: number;
}

const CONTEXT_OPTIONS = ['backend', 'entries'] as const;

/** IORING_OP_* a ring needs for the IoContext ops (READ and WRITE are 5.6). */
const NEEDED_URING_OPS = ['READ', 'WRITE', 'READV', 'WRITEV', 'FSYNC'];

function parseBackend(value: unknown, name: string): Backend | 'auto' {
  if (value === 'auto' || BACKENDS.includes(value as Backend)) return value as Backend | 'auto';
  throw invalidArgValue(name, `must be one of 'auto', ${BACKENDS.map((b) => `'${b}'`).join(', ')}. Received ${JSON.stringify(value)}`);
}

/** KAIO_BACKEND from the environment, or undefined when unset or 'auto'. */
export function forcedBackend(): Backend | undefined {
  const env = process.env.KAIO_BACKEND;
  if (env === undefined || env === '') return undefined;
  const b = parseBackend(env, 'KAIO_BACKEND');
  return b === 'auto' ? undefined : b;
}

function describe(e: unknown, fallback: string): string {
  const err = e as { code?: string; syscall?: string };
  if (err && typeof err.code === 'string') return `${err.syscall ?? fallback}: ${err.code}`;
  return `${fallback}: ${String((e as Error)?.message ?? e)}`;
}

export interface BackendChoice {
  backend: Backend;
  /** Why: 'io_uring available', or what ruled out the ones before it. */
  reason: string;
}

function makeRing(entries: number | undefined): Ring {
  return entries === undefined ? new Ring() : new Ring({ entries: Math.min(entries, 32768) });
}

function makeContext(backend: Backend, entries: number | undefined): IoContext {
  const o = entries === undefined ? {} : { entries };
  switch (backend) {
    case 'io_uring':
      return makeRing(entries);
    case 'aio':
      return new AioContext(o);
    case 'threadpool':
      return new ThreadpoolContext(o);
  }
}

/** A ring lacking an op the interface needs, or undefined. */
function missingUringOp(has: (op: string) => boolean): string | undefined {
  return NEEDED_URING_OPS.find((op) => !has(op));
}

/** Tries each backend in order; the first that sets up wins. */
function autoContext(entries: number | undefined): { ctx: IoContext; reason: string } {
  const why: string[] = [];
  try {
    const ring = makeRing(entries);
    const missing = missingUringOp((op) => ring.supports(op));
    if (missing === undefined) return { ctx: ring, reason: 'io_uring available' };
    void ring.close();
    why.push(`io_uring lacks IORING_OP_${missing}`);
  } catch (e) {
    why.push(describe(e, 'io_uring_setup'));
  }
  try {
    return { ctx: new AioContext(entries === undefined ? {} : { entries }), reason: why.join('; ') };
  } catch (e) {
    why.push(describe(e, 'io_setup'));
  }
  return { ctx: new ThreadpoolContext(entries === undefined ? {} : { entries }), reason: why.join('; ') };
}

/**
 * Creates an I/O context on the chosen backend.
 *
 * ```ts
 * const ctx = createContext();   // io_uring, else aio, else threadpool
 * ctx.backend;                   // which one
 * ```
 *
 * With `backend: 'auto'` (the default), KAIO_BACKEND=io_uring|aio|threadpool
 * forces one. A forced or named backend that cannot be set up throws its
 * setup error; there is no fallback then.
 */
export function createContext(options: ContextOptions = {}): IoContext {
  const o = validateObject<ContextOptions>(options, 'options');
  validateKeys(o, 'options', CONTEXT_OPTIONS);
  const asked = o.backend === undefined ? 'auto' : parseBackend(o.backend, 'options.backend');
  const entries = o.entries === undefined ? undefined : validateInteger(o.entries, 'options.entries', 1, 65536);
  const backend = asked === 'auto' ? forcedBackend() : asked;
  if (backend !== undefined) return makeContext(backend, entries);
  return autoContext(entries).ctx;
}

/**
 * What createContext() would pick here and why, from what probe() sees,
 * without keeping anything set up.
 */
export function chooseBackend(ioUring: { available: boolean; error?: { code: string }; ops: string[] }): BackendChoice {
  const forced = forcedBackend();
  if (forced) return { backend: forced, reason: 'forced by KAIO_BACKEND' };
  const why: string[] = [];
  if (!ioUring.available) why.push(`io_uring_setup: ${ioUring.error?.code ?? 'failed'}`);
  else {
    const missing = missingUringOp((op) => ioUring.ops.includes(op));
    if (missing === undefined) return { backend: 'io_uring', reason: 'io_uring available' };
    why.push(`io_uring lacks IORING_OP_${missing}`);
  }
  const aio = binding.aioProbe();
  if (aio === 0) return { backend: 'aio', reason: why.join('; ') };
  why.push(`io_setup: ${aio.code}`);
  return { backend: 'threadpool', reason: why.join('; ') };
}
