// fio starts the jobs of a group together: each sets itself up, then waits
// until every one has, so that no job's measured time overlaps another's
// start (a worker thread loading and compiling kaio takes milliseconds to
// seconds on a busy machine, long against a job of a few ms). A gate is two
// Int32 slots in shared memory: how many instances arrived, and whether it is open.
export const ARRIVED = 0;
const OPEN = 1;

export function newGate(): SharedArrayBuffer {
  return new SharedArrayBuffer(8);
}

/**
 * An instance is set up: counts it, and opens the gate if it was the last
 * of `total`; else waits until the gate opens (or the stop flag is set).
 */
export function arriveAndWait(gate: SharedArrayBuffer, total: number, stop: SharedArrayBuffer): void {
  const g = new Int32Array(gate);
  const s = new Int32Array(stop);
  const arrived = Atomics.add(g, ARRIVED, 1) + 1;
  // A job's own process (proc.ts) waits for the count to tell its parent.
  Atomics.notify(g, ARRIVED);
  if (arrived >= total) {
    openGate(gate);
    return;
  }
  while (Atomics.load(g, OPEN) === 0 && Atomics.load(s, 0) === 0) Atomics.wait(g, OPEN, 0, 100);
}

/** Opens the gate (the main thread does when an instance ended before arriving: the others go on). */
export function openGate(gate: SharedArrayBuffer): void {
  const g = new Int32Array(gate);
  Atomics.store(g, OPEN, 1);
  Atomics.notify(g, OPEN);
}

// Atomics.waitAsync (Node 16+; not in this project's TypeScript lib).
type WaitAsync = (a: Int32Array, index: number, value: number) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

/**
 * Calls `fire` once, when slot `index` of `a` is non-zero and notified (at
 * once if it already is). A wait still pending keeps nothing alive.
 */
export function whenSet(a: Int32Array, index: number, fire: () => void): void {
  const loop = (): void => {
    if (Atomics.load(a, index) !== 0) return fire();
    const r = waitAsync(a, index, 0);
    if (r.async) void (r.value as Promise<string>).then(loop);
    else loop();
  };
  loop();
}
