// fio's job control for `kaio bench`: wait_for (a job starts when the
// named job has finished), exitall / exit_what / exitall_on_error (a job's
// end stops others), and the shared counters of flow (flow_id). Semantics
// from fio's init.c, backend.c and libfio.c (read, not copied):
//  - wait_for=NAME names a job defined before this one, not the job itself,
//    and only one job of that name, else fio refuses the job file;
//  - exitall is program-wide in fio (any job that sets it sets it for all):
//    when any job ends, the jobs its exit_what names are stopped: group
//    (its reporting group), stonewall (every job running now; the next
//    stonewall group still runs), all (every job, started or not);
//  - exitall_on_error does the same only when the job ends in error.
import { invalidArgValue } from '../errors';
import { FLOW_COUNTER, FLOW_WEIGHT } from './pace';

export type ExitWhat = 'group' | 'stonewall' | 'all';

export interface ControlOptions {
  waitFor: string;
  exitall: boolean;
  exitWhat: ExitWhat;
  exitallOnError: boolean;
}

export function defaultControl(): ControlOptions {
  return { waitFor: '', exitall: false, exitWhat: 'group', exitallOnError: false };
}

/** fio's wait_for_ok over the jobs in file order: an earlier job, not itself, not ambiguous. */
export function checkWaitFor(jobs: ReadonlyArray<{ name: string; control: ControlOptions }>): void {
  const problems: string[] = [];
  jobs.forEach((job, i) => {
    const w = job.control.waitFor;
    if (!w) return;
    if (w === job.name) problems.push(`${job.name}: a job cannot wait for itself (wait_for=${w})`);
    else {
      const n = jobs.slice(0, i).filter((j) => j.name === w).length;
      if (n === 0) problems.push(`${job.name}: waitee job ${w} unknown (wait_for names a job defined before it, as in fio)`);
      else if (n > 1) problems.push(`${job.name}: multiple waitees ${w} found (wait_for needs one job of that name)`);
    }
  });
  if (problems.length) throw invalidArgValue('--wait_for', problems.join('; '));
}

/** What the main thread knows of each running instance, for termination. */
export interface Controlled {
  job: { name: string; control: ControlOptions };
  groupid: number;
  /** Its terminate flag (Int32Array over a SharedArrayBuffer), notified. */
  term: Int32Array;
  /** Started (its worker is up) and not yet ended. */
  state: 'pending' | 'running' | 'ended';
}

/** Sets an instance's terminate flag and wakes it (startdelay, rate or think waits). */
export function terminate(c: Controlled): void {
  Atomics.store(c.term, 0, 1);
  Atomics.notify(c.term, 0);
}

/**
 * When instance `ended` ends (failed: in error): stops the instances fio's
 * exit_what names. Returns true when every job of the program is to stop
 * (exit_what=all: later groups do not start).
 */
export function onJobEnd(ended: Controlled, failed: boolean, exitall: boolean, current: Controlled[]): boolean {
  const c = ended.job.control;
  if (!exitall && !(c.exitallOnError && failed)) return false;
  for (const o of current) {
    if (o === ended || o.state === 'ended') continue;
    if (c.exitWhat === 'all' || (c.exitWhat === 'group' && o.groupid === ended.groupid) || (c.exitWhat === 'stonewall' && o.state === 'running')) terminate(o);
  }
  return c.exitWhat === 'all';
}

/** Shared flow counters, one SharedArrayBuffer per flow_id: [ops counted (from 1), total weight]. */
export class Flows {
  readonly #byId = new Map<number, SharedArrayBuffer>();

  /** Joins a job of weight `weight` to flow `id` (fio adds every job's weight when the job is set up). */
  join(id: number, weight: number): SharedArrayBuffer {
    let sab = this.#byId.get(id);
    if (!sab) {
      sab = new SharedArrayBuffer(16);
      Atomics.store(new BigInt64Array(sab), FLOW_COUNTER, 1n);
      this.#byId.set(id, sab);
    }
    Atomics.add(new BigInt64Array(sab), FLOW_WEIGHT, BigInt(weight));
    return sab;
  }

  /** A job that never ran leaves its flow (one that ran leaves it itself, with its ops). */
  leave(sab: SharedArrayBuffer, weight: number): void {
    Atomics.sub(new BigInt64Array(sab), FLOW_WEIGHT, BigInt(weight));
  }
}

/**
 * A group's start line: [arrived, go, expected]. fio starts a group's jobs
 * together (each thread waits until all are set up); kaio's workers come up
 * one by one, so each waits here, set up, until the last one arrives (or
 * the main thread lets them go: one ended before arriving). A wait_for job
 * waits at a gate of its own, opened when its waitees have ended.
 */
export function startLineFor(expected: number): SharedArrayBuffer {
  const sab = new SharedArrayBuffer(12);
  Atomics.store(new Int32Array(sab), 2, expected);
  return sab;
}

export function releaseStartLine(sab: SharedArrayBuffer): void {
  const a = new Int32Array(sab);
  Atomics.store(a, 1, 1);
  Atomics.notify(a, 1);
}

export function startLine(sab: SharedArrayBuffer, stop: Int32Array, term: Int32Array): void {
  const a = new Int32Array(sab);
  if (Atomics.add(a, 0, 1) + 1 >= Atomics.load(a, 2)) {
    releaseStartLine(sab);
    return;
  }
  // The main thread lets everyone go when one ends early; Ctrl-C and exitall end the wait too.
  while (Atomics.load(a, 1) === 0 && Atomics.load(stop, 0) === 0 && Atomics.load(term, 0) === 0) Atomics.wait(a, 1, 0, 100);
}
