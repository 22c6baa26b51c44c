// Entry of a job instance's own process (fio's default, thread=0): the
// parent forks it with detached: true, so it calls setsid() and is a session
// (and a CPU autogroup) of its own, as each of fio's job processes is. The
// job runs in a worker thread here exactly as it does under thread=1; this
// thread relays between the worker's shared memory and the parent's pipe:
//  - to the parent: the progress counters (every RELAY_MS, before every
//    other message, and when the job's I/O is done), the arrival at the
//    group's gate, the snapshots, the outcome or error;
//  - from the parent: stop (Ctrl-C), term (exitall, steady state), open (the
//    group's gate), start (a wait_for job's start line), snap (a
//    --status-interval request).
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { JobSetup } from './job';
import { P_SLOTS, P_SNAP, P_STATE, S_DONE } from './job';
import { ARRIVED, newGate, openGate, whenSet } from './gate';
import { releaseStartLine, startLineFor } from './control';

/** How often the progress counters go to the parent while they change, ms. */
export const RELAY_MS = 50;

/** The first message: the instance's setup without its shared memory, which this process makes anew. */
export interface ProcSetup {
  setup: Omit<JobSetup, 'progress' | 'stop' | 'term' | 'flow' | 'start' | 'gate' | 'gateTotal'>;
  /** It waits at a start line of its own (wait_for). */
  start: boolean;
}

export type ToChild = { stop: true } | { term: true } | { open: true } | { start: true } | { snap: number };

export interface FromChild {
  /** Progress counters, and when they were read (performance.timeOrigin + performance.now(), ms). */
  p?: number[];
  t?: number;
  arrived?: true;
  outcome?: unknown;
  snapshot?: unknown;
  error?: { message: string; code?: string };
}

/** Messages handed to process.send whose bytes are not all in the pipe yet. */
let unsent = 0;
/** Called once every message sent so far is in the pipe (or the pipe is gone). */
let whenSent: (() => void) | undefined;

function send(m: FromChild): void {
  if (!process.connected) return;
  unsent++;
  // A parent slow to read (stopped with Ctrl-Z, busy) leaves a message in
  // this process's write queue: disconnect() would drop it (Node closes the
  // channel without flushing), so the end waits for this callback.
  process.send!(m, undefined, undefined, () => {
    if (--unsent === 0 && whenSent) whenSent();
  });
}

/** Disconnects once the last message has left (the outcome must reach the parent, however late it reads). */
function disconnectWhenSent(): void {
  whenSent = () => {
    whenSent = undefined;
    if (process.connected) process.disconnect();
  };
  if (unsent === 0) whenSent();
}

process.once('message', (first: ProcSetup) => {
  const progress = new SharedArrayBuffer(P_SLOTS * 8);
  const stop = new SharedArrayBuffer(4);
  const term = new SharedArrayBuffer(4);
  const gate = newGate();
  // The parent opens the gate (it counts every instance's arrival): it never opens here by count.
  const never = 2 ** 31 - 1;
  const start = first.start ? startLineFor(never) : undefined;
  const setup: JobSetup = { ...first.setup, progress, stop, term, gate, gateTotal: never, start };
  const p = new Float64Array(progress);
  // Sent even when unchanged: a stalled job's window is a sample of zero, as in fio.
  const relay = (): void => send({ p: Array.from(p), t: performance.timeOrigin + performance.now() });
  const flag = (sab: SharedArrayBuffer): void => {
    const a = new Int32Array(sab);
    Atomics.store(a, 0, 1);
    Atomics.notify(a, 0);
  };
  process.on('message', (m: ToChild) => {
    if ('stop' in m) flag(stop);
    else if ('term' in m) flag(term);
    else if ('open' in m) openGate(gate);
    else if ('start' in m && start) releaseStartLine(start);
    else if ('snap' in m) p[P_SNAP] = m.snap;
  });
  // The parent is gone (killed, or its pipe closed): the job stops as on Ctrl-C.
  process.on('disconnect', () => flag(stop));
  // The worker's arrival at the gate (gate.ts notifies the count).
  const g = new Int32Array(gate);
  let ended = false;
  const w = new Worker(path.join(__dirname, 'worker.js'), { workerData: setup });
  whenSet(g, ARRIVED, () => {
    if (!ended) send({ arrived: true });
  });
  const timer = setInterval(relay, RELAY_MS);
  w.on('message', (m: FromChild & { done?: true }) => {
    relay();
    if (!m.done) send(m);
  });
  w.on('error', (e) => {
    relay();
    send({ error: { message: e.message.replace(/\s*\n\s*/g, ' ') } });
  });
  w.on('exit', (code) => {
    clearInterval(timer);
    ended = true;
    if (p[P_STATE] !== S_DONE && code !== 0) p[P_STATE] = S_DONE;
    relay();
    process.exitCode = code;
    disconnectWhenSent();
  });
});
