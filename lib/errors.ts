// Errors shaped like Node's own: argument errors carry Node's codes, kernel
// failures look like SystemError (code, errno, syscall, message).
import { getSystemErrorMap } from 'node:util';
import { inspect, types } from 'node:util';

const { isProxy } = types;

export interface ErrnoError extends Error {
  code: string;
  errno: number;
  syscall: string;
  path?: string;
  dest?: string;
}

export interface CodedError extends Error {
  code: string;
}

let errnoMap: Map<number, [string, string]> | undefined;

/** Name and message of a negative errno, as Node prints them. */
export function errnoName(errno: number): [code: string, message: string] {
  errnoMap ??= getSystemErrorMap();
  return errnoMap.get(errno) ?? [`Unknown system error ${errno}`, 'unknown error'];
}

/** `EBADF: bad file descriptor, read` with code, errno (negative), syscall, path (and dest: `rename 'a' -> 'b'`). */
export function systemError(errno: number, syscall: string, path?: string, hint?: string, dest?: string): ErrnoError {
  const [code, text] = errnoName(errno);
  let message = `${code}: ${text}, ${syscall}`;
  if (path !== undefined) message += ` '${path}'`;
  if (dest !== undefined) message += ` -> '${dest}'`;
  if (hint) message += `\n${hint}`;
  const err = new Error(message) as ErrnoError;
  err.errno = errno;
  err.code = code;
  err.syscall = syscall;
  if (path !== undefined) err.path = path;
  if (dest !== undefined) err.dest = dest;
  Error.captureStackTrace?.(err, systemError);
  return err;
}

function coded<T extends Error>(err: T, code: string): T & CodedError {
  Object.defineProperty(err, 'code', { value: code, enumerable: true, writable: true, configurable: true });
  // Node puts the code in the name shown by inspect: "TypeError [ERR_X]: ...".
  Object.defineProperty(err, 'name', { value: `${err.name} [${code}]`, configurable: true, writable: true });
  err.stack; // materialize the stack with the decorated name
  Object.defineProperty(err, 'name', { value: err.constructor.name, configurable: true, writable: true });
  return err as T & CodedError;
}

/** The name of the class `value` is an instance of, read from data properties only. */
function constructorName(value: object): string | undefined {
  for (let o: object | null = value; o !== null; o = Object.getPrototypeOf(o)) {
    if (isProxy(o)) return undefined;
    const c = Object.getOwnPropertyDescriptor(o, 'constructor');
    if (c === undefined) continue;
    return typeof c.value === 'function' ? functionName(c.value) : undefined;
  }
  return undefined;
}

/** A function's own `name`, read from a data property only (not from a Proxy, not through a static getter). */
function functionName(fn: object): string | undefined {
  if (isProxy(fn)) return undefined;
  const n = Object.getOwnPropertyDescriptor(fn, 'name');
  return typeof n?.value === 'string' && n.value !== '' ? n.value : undefined;
}

function describe(value: unknown): string {
  if (value === null) return 'Received null';
  if (value === undefined) return 'Received undefined';
  if (typeof value === 'function') return `Received function ${functionName(value) ?? '<anonymous>'}`;
  if (typeof value === 'object') {
    // Describing a bad argument runs none of its code: no Proxy trap, no getter.
    if (isProxy(value)) return 'Received a Proxy';
    const name = constructorName(value as object);
    if (name) return `Received an instance of ${name}`;
    // Not inspect(): it reads Symbol.toStringTag (a getter) and walks the
    // prototype chain (a Proxy in it traps).
    return Object.getPrototypeOf(value) === null ? 'Received [Object: null prototype]' : 'Received an object of an unnamed class';
  }
  let shown = inspect(value, { colors: false });
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`;
  return `Received type ${typeof value} (${shown})`;
}

/** `Received <value>` for an ERR_INVALID_ARG_VALUE message: inspect() for a primitive, describe() for an object or function (inspect would run its code, or throw for a detached DataView). */
export function received(value: unknown): string {
  return (typeof value === 'object' && value !== null) || typeof value === 'function' ? describe(value) : `Received ${inspect(value)}`;
}

/** ERR_INVALID_ARG_TYPE: `The "fd" argument must be of type number. Received ...` */
export function invalidArgType(name: string, expected: string, actual: unknown): TypeError & CodedError {
  const what = name.includes('.') ? `"${name}" property` : `"${name}" argument`;
  return coded(new TypeError(`The ${what} must be ${expected}. ${describe(actual)}`), 'ERR_INVALID_ARG_TYPE');
}

/** ERR_OUT_OF_RANGE: `The value of "position" is out of range. It must be >= -1. Received -2` */
export function outOfRange(name: string, range: string, actual: unknown): RangeError & CodedError {
  const shown = typeof actual === 'bigint' ? `${actual}n` : inspect(actual);
  return coded(
    new RangeError(`The value of "${name}" is out of range. It must be ${range}. Received ${shown}`),
    'ERR_OUT_OF_RANGE',
  );
}

/** ERR_INVALID_ARG_VALUE: `The argument 'buffer' is detached.` */
export function invalidArgValue(name: string, reason: string): TypeError & CodedError {
  return coded(new TypeError(`The argument '${name}' ${reason}`), 'ERR_INVALID_ARG_VALUE');
}

/** Any other coded error (state errors like a closed ring). */
export function stateError(code: string, message: string): Error & CodedError {
  return coded(new Error(message), code);
}

/** What an op rejects with when its AbortSignal fires (Node's AbortError shape). */
export class AbortError extends Error {
  readonly code = 'ABORT_ERR';
  constructor(message = 'The operation was aborted', options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'AbortError';
  }
}

/** An op the running kernel (or this backend) does not have. */
export function unsupported(what: string, why: string): Error & CodedError {
  return coded(new Error(`${what} is not supported ${why}`), 'ERR_KAIO_UNSUPPORTED');
}

/** ERR_ILLEGAL_CONSTRUCTOR, as Node's own classes throw it. */
export function illegalConstructor(what: string): TypeError & CodedError {
  return coded(new TypeError(`Illegal constructor: ${what}`), 'ERR_ILLEGAL_CONSTRUCTOR');
}
