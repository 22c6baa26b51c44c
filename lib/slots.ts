// The slot table: each op in flight is a small integer id into parallel
// arrays holding its promise's settle functions and the memory it uses, so
// that memory stays reachable until the kernel has finished with it. Ids are
// reused through a free list; nothing is allocated per op but the promise.
import { constants } from 'node:os';
import { AbortError, systemError } from './errors';
import { Pending } from './pending';
import { abortReason, offAbort, onAbort } from './validate';

const ECANCELED = -constants.errno.ECANCELED;
const EINTR = -constants.errno.EINTR;

export type Transform = (res: number, id: number) => unknown;
/** The transform of ops that resolve to nothing (settle() knows it and does not call it). */
export const toVoid: Transform = (): undefined => undefined;
/** The syscall name of an op that resolves to its -errno instead of rejecting (kaio's internal callers). */
export const RAW_RESULT = '';

/** The reaction that gives a failed op's error its callers' frames (bound to the error). */
function throwWithCallers(this: Error): never {
  Error.captureStackTrace?.(this, throwWithCallers);
  throw this;
}

/**
 * Rejects an op's promise with `error`, its stack now the async functions
 * awaiting that promise (`at async main (app.js:12)`), as Node's fs
 * promises give. An error made where a completion is delivered has no caller
 * on its stack; V8 adds the awaiting async functions to a stack captured in
 * a promise reaction, walking from the promise that reaction settles. So the
 * op's promise is resolved with a promise whose reaction captures the stack
 * again and throws: that reaction runs (the gate opened after the resolve)
 * once the op's promise follows it, so the walk reaches the op's promise
 * and whoever awaits it. Only failures pay for this (two more promises and
 * microtasks); the success path is untouched. Callers that use .then() and
 * no async function get the error's message with no frames.
 */
export function rejectWithCallers(resolve: (value: unknown) => void, error: Error): void {
  let open!: () => void;
  const gate = new Promise<void>((r) => {
    open = r;
  });
  resolve(gate.then(throwWithCallers.bind(error)));
  open();
}

/**
 * Rejects the promise `resolve` belongs to with `error` as it is. Resolving
 * with a rejected promise settles it two microtasks later than its reject
 * function would; only failures pay.
 */
function rejectWith(resolve: (value: unknown) => void, error: unknown): void {
  resolve(promiseReject(error));
}
/** Promise.reject as it was at load (a caller's replacement of it later is not called here). */
const promiseReject = Promise.reject.bind(Promise) as (reason: unknown) => Promise<never>;

// The executor of every op's promise: one function for all (so the Promise
// constructor's call of it is a known target that the optimizing compiler
// inlines), told where to store the resolve function through these two.
let executorTable: Array<((value: any) => void) | undefined> = [];
let executorId = 0;
function executor(resolve: (value: any) => void): void {
  executorTable[executorId] = resolve;
}

/** Its count (Pending's) is the ids in use; whenIdle() waits until none is. */
export class SlotTable extends Pending {
  /**
   * Each op's resolve function, its only settle function kept: a failure
   * resolves with a rejected promise (rejectWith), so that an op stores one
   * new closure, not two (each such store into these long-lived arrays
   * costs a write barrier's slow path).
   */
  resolve: Array<((value: any) => void) | undefined> = [];
  /** Memory the kernel may touch (buffer, iovec list, path); dropped at settle. */
  keep: unknown[] = [];
  syscall: string[] = [];
  path: Array<string | undefined> = [];
  transform: Array<Transform | undefined> = [];
  signal: Array<AbortSignal | undefined> = [];
  onAbort: Array<(() => void) | undefined> = [];
  aborted: boolean[] = [];
  #free: number[] = [];


  alloc(): number {
    this.enter();
    const id = this.#free.pop();
    return id !== undefined ? id : this.#grow();
  }

  /** A new id, past the ones made so far (kept out of alloc() so that alloc stays small enough to inline). */
  #grow(): number {
    const fresh = this.resolve.length;
    this.resolve.push(undefined);
    this.keep.push(undefined);
    this.syscall.push('');
    this.path.push(undefined);
    this.transform.push(undefined);
    this.signal.push(undefined);
    this.onAbort.push(undefined);
    this.aborted.push(false);
    return fresh;
  }

  /** Makes the promise of slot id. */
  promise<T>(id: number): Promise<T> {
    executorTable = this.resolve;
    executorId = id;
    return new Promise<T>(executor);
  }

  /** Fills the bookkeeping for an op; returns its promise. */
  start<T>(id: number, syscall: string, keep: unknown, path?: string, transform?: Transform): Promise<T> {
    this.syscall[id] = syscall;
    // free() left keep, path and transform undefined: only what an op has
    // is stored (a NOP keeps no memory).
    if (keep !== undefined) this.keep[id] = keep;
    if (path !== undefined) this.path[id] = path;
    if (transform !== undefined) this.transform[id] = transform;
    return this.promise<T>(id);
  }

  /**
   * Watches signal for slot id. onAbort runs once if it fires first; it
   * should cancel the op in the kernel (or settle it if not submitted yet).
   */
  watch(id: number, signal: AbortSignal, cancel: () => void): void {
    this.signal[id] = signal;
    const listener = (): void => {
      this.aborted[id] = true;
      cancel();
    };
    this.onAbort[id] = listener;
    onAbort(signal, listener);
  }

  /** Settles slot id with a kernel result (res >= 0 or -errno) and frees it. */
  settle(id: number, res: number): void {
    // The common case first, small enough for the optimizing compiler to
    // inline into the completion loop: a result, no signal, no transform but
    // toVoid. Everything else (and every failure) goes through #settleRare.
    const resolve = this.resolve[id];
    const transform = this.transform[id];
    if (resolve !== undefined && res >= 0 && this.signal[id] === undefined && (transform === undefined || transform === toVoid)) {
      // free(id), knowing what the checks above found: no signal to unwatch,
      // a transform only when toVoid, and aborted false (only a signal's
      // listener sets it, and its slot keeps the signal until free()).
      this.resolve[id] = undefined;
      if (this.keep[id] !== undefined) this.keep[id] = undefined;
      if (this.path[id] !== undefined) this.path[id] = undefined;
      if (transform !== undefined) this.transform[id] = undefined;
      this.#free.push(id);
      this.leave();
      resolve(transform === undefined ? res : undefined);
      return;
    }
    this.#settleRare(id, res, resolve);
  }

  /**
   * Settles slot id with a result the kernel would have given (res >= 0 or
   * -errno) but keeps the id taken, as rejectEarly does: for an op that
   * waits in a queue, which frees the id when it drops it.
   */
  settleEarly(id: number, res: number): void {
    const resolve = this.resolve[id];
    if (resolve !== undefined) this.#settleRare(id, res, resolve, true);
  }

  #settleRare(id: number, res: number, resolve: ((value: any) => void) | undefined, early = false): void {
    if (resolve === undefined) {
      // Rejected early (aborted while still queued): only the id is left.
      this.free(id);
      return;
    }
    const aborted = this.aborted[id];
    const signal = this.signal[id];
    let value: unknown = res;
    let error: unknown;
    if (aborted && (res === ECANCELED || res === EINTR)) {
      error = new AbortError(undefined, { cause: abortReason(signal) });
    } else if (res < 0) {
      // RAW_RESULT: kaio's own callers that only branch on the errno get it
      // as the value, without an Error (and its stack) made per op.
      if (this.syscall[id] === RAW_RESULT) value = res;
      else error = systemError(res, this.syscall[id], this.path[id]);
    } else {
      const transform = this.transform[id];
      if (transform) {
        try {
          value = transform(res, id);
        } catch (e) {
          error = e;
        }
      }
    }
    if (early) this.#release(id);
    else this.free(id);
    if (error === undefined) resolve(value);
    else if (error instanceof Error) rejectWithCallers(resolve, error);
    else rejectWith(resolve, error);
  }

  /** Settles slot id with an error that did not come from the kernel, and frees it. */
  fail(id: number, error: unknown): void {
    const resolve = this.resolve[id];
    this.free(id);
    if (resolve !== undefined) rejectWith(resolve, error);
  }

  /**
   * Rejects slot id now but keeps the id taken: something (a queue) still
   * refers to it, and settle() frees it when that is done.
   */
  rejectEarly(id: number, error: unknown): void {
    const resolve = this.resolve[id];
    this.resolve[id] = undefined;
    this.keep[id] = undefined;
    this.#unwatch(id);
    if (resolve !== undefined) rejectWith(resolve, error);
  }

  isSettled(id: number): boolean {
    return this.resolve[id] === undefined;
  }

  #unwatch(id: number): void {
    const signal = this.signal[id];
    const listener = this.onAbort[id];
    if (signal && listener) offAbort(signal, listener);
    this.signal[id] = undefined;
    this.onAbort[id] = undefined;
  }

  free(id: number): void {
    this.#release(id);
    this.#free.push(id);
    this.leave();
  }

  /** What free() clears, the id kept taken. */
  #release(id: number): void {
    // Only what an op set is cleared (a store costs more than a load).
    if (this.signal[id] !== undefined) this.#unwatch(id);
    this.resolve[id] = undefined;
    this.keep[id] = undefined;
    if (this.path[id] !== undefined) this.path[id] = undefined;
    if (this.transform[id] !== undefined) this.transform[id] = undefined;
    if (this.aborted[id]) this.aborted[id] = false;
  }
}

/**
 * Ids of ops waiting for room in the kernel's queue, first in first out.
 * Popping from the front is O(1): the array is compacted only now and then.
 */
export class IdQueue {
  #ids: number[] = [];
  #head = 0;

  get length(): number {
    return this.#ids.length - this.#head;
  }

  /** The oldest waiting id, or -1. */
  first(): number {
    return this.#head < this.#ids.length ? this.#ids[this.#head] : -1;
  }

  /** Calls fn for each waiting id, oldest first. */
  forEach(fn: (id: number) => void): void {
    for (let i = this.#head; i < this.#ids.length; i++) fn(this.#ids[i]);
  }

  push(id: number): void {
    this.#ids.push(id);
  }

  /**
   * Starts queued ops in order while start(id) says it could; an op whose
   * slot was settled while it waited (aborted) is only discarded (which
   * frees its id). Returns how many were started.
   */
  drain(slots: SlotTable, start: (id: number) => boolean, discard: (id: number) => void): number {
    const q = this.#ids;
    let head = this.#head;
    let started = 0;
    while (head < q.length) {
      const id = q[head];
      if (slots.isSettled(id)) {
        discard(id);
      } else if (start(id)) {
        started++;
      } else {
        break;
      }
      head++;
    }
    if (head === q.length) {
      q.length = 0;
      head = 0;
    } else if (head > 4096 && head * 2 > q.length) {
      q.splice(0, head);
      head = 0;
    }
    this.#head = head;
    return started;
  }
}
