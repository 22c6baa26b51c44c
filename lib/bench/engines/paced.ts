// The submit/reap loop of a paced job (rate, rate_iops, ratemin,
// thinktime, flow, latency_target: pace.ts), on any engine. A job without
// pacing never comes here (runEngine picks its loop once), so pacing costs
// the plain loops nothing but the one check in Run.next().
//
// When the pacer holds the next op back, this loop does what fio does:
//  - Quiesce (io_submit_mode=inline rate waits, thinktime, flow): wait for
//    every op in flight (fio's io_u_quiesce), then think or sleep until the
//    op's time;
//  - Clock (io_submit_mode=offload): keep reaping completions as they come
//    until the op's time, without draining the queue; fio submits from
//    worker threads and reaps there, kaio from the same thread between
//    completions (each completion is reaped when it arrives on the event
//    loop, so its clat holds no wait for the clock);
//  - Reap (latency_target's depth): reap, then ask again.
import { performance } from 'node:perf_hooks';
import type { Run } from '../job';
import { Hold, sleepUntil, type Pacer } from '../pace';
import { F_EVENTLOOP, F_FAKEIO, type IoEngine } from './engine';

const SYNC_DIR = 3;

/** The loop's queue of posted completions, as the paced loop sees it. */
export interface PacedQueue {
  readonly run: Run;
  readonly cTag: Int32Array;
  readonly cHead: number;
  readonly cLen: number;
  reap(): void;
  reapMin(): number;
}

/** How the paced loop reaches the engine. */
export interface PaceIo {
  q: PacedQueue;
  /** Fills the queue and commits (the plain loop's fill step). */
  fill(): void;
  /** Waits until at least `min` completions are posted. */
  events(min: number): void | Promise<void>;
  /** Takes what the kernel has posted, without waiting. */
  poll(): void;
}

/** An op as fio's lat_fatal names it: file, direction, offset, length. */
function opText(run: Run, tag: number): string {
  return `${run.filename} ${['read', 'write', 'trim'][run.slotDir[tag]]} ${run.slotOff[tag]} ${run.slotLen[tag]}`;
}

/** Reaps what is posted, telling the pacer each op's latency when latency_target is on. */
function reapPaced(q: PacedQueue, p: Pacer): void {
  const run = q.run;
  if (!p.latOn || !run.tLat) {
    q.reap();
    return;
  }
  const cap = q.cTag.length;
  const head = q.cHead;
  const before = q.cLen;
  q.reap();
  const now = performance.now();
  for (let j = 0, n = before - q.cLen; j < n; j++) {
    const tag = q.cTag[(head + j) % cap];
    if (run.slotDir[tag] === SYNC_DIR) continue;
    const lat = (now - run.tPrep[tag]) * 1e6;
    if (p.completed(lat)) p.fatalLatency(lat, opText(run, tag));
  }
}

/** Waits for every op in flight and reaps them (fio's io_u_quiesce). */
async function quiesce(io: PaceIo, p: Pacer): Promise<void> {
  const q = io.q;
  const run = q.run;
  while (run.inFlight > 0) {
    if (q.cLen < run.inFlight) await io.events(run.inFlight);
    reapPaced(q, p);
  }
}

/**
 * Until `until`, reaps completions as they are posted (offload's wait for
 * the clock): looks every millisecond (a timer on the event loop, where
 * event-loop engines' completions arrive meanwhile).
 */
async function reapUntil(io: PaceIo, p: Pacer, until: number): Promise<void> {
  const q = io.q;
  const run = q.run;
  for (;;) {
    io.poll();
    if (q.cLen > 0) reapPaced(q, p);
    const now = performance.now();
    const left = until - now;
    if (left <= 0 || !run.poll(now)) return;
    if (run.inFlight === 0) {
      sleepUntil(until, 0, run.termFlag, run.stopFlag);
      return;
    }
    await new Promise<void>((r) => setTimeout(r, Math.min(1, left)));
  }
}

/** Does what the pacer asked for before the next op. */
async function hold(io: PaceIo, p: Pacer): Promise<void> {
  const q = io.q;
  const run = q.run;
  switch (p.hold) {
    case Hold.Reap:
      p.hold = Hold.None;
      if (run.inFlight > 0) {
        if (q.cLen < q.reapMin()) await io.events(q.reapMin());
        reapPaced(q, p);
      }
      return;
    case Hold.Quiesce: {
      await quiesce(io, p);
      const now = performance.now();
      if (p.thinkPending >= 0) p.think(now, run.deadline - now);
      if (p.latNewCycle) {
        if (p.resetStats) {
          p.resetStats = false;
          run.endRamp(now);
        }
        p.newCycle(now, run.ios[0] + run.ios[1]);
      }
      if (p.until > now || p.spinUs > 0) sleepUntil(Math.min(Math.max(p.until, now), run.deadline), p.spinUs, run.termFlag, run.stopFlag);
      p.rested(performance.now());
      return;
    }
    case Hold.Clock: {
      const until = Math.min(p.until, run.deadline);
      if (until > performance.now()) await reapUntil(io, p, until);
      // flow_sleep=0: fio tries again at once; give the event loop a turn meanwhile
      else await new Promise<void>((r) => setImmediate(r));
      p.rested(performance.now());
      return;
    }
  }
}

/** After each reap: ratemin, the latency window; a failure ends the job in error. */
function checks(run: Run, p: Pacer): void {
  p.check(performance.now(), run.t0, run.bytes, run.ios, run.ios[0] + run.ios[1]);
  if (p.failure !== undefined) {
    run.error ??= p.failure;
    run.stopping = true;
  } else if (p.latDone) run.stopping = true;
}

/** The paced loop for queued engines (io_uring's batch API, libaio). */
export async function runPacedQueue(io: PaceIo, p: Pacer): Promise<void> {
  const q = io.q;
  const run = q.run;
  try {
    for (;;) {
      io.fill();
      if (p.hold !== Hold.None && !run.stopping) {
        await hold(io, p);
        checks(run, p);
        continue;
      }
      if (run.inFlight === 0) break;
      const min = q.reapMin();
      if (q.cLen < min) await io.events(min);
      reapPaced(q, p);
      checks(run, p);
    }
  } finally {
    p.leaveFlow();
  }
}

/**
 * The paced loop for one-op-at-a-time engines (psync, sync, fs-sync, null):
 * `op` does slot 0's op and returns bytes or -errno; `sync` an fsync (0 or -errno).
 */
export function runPacedSync(run: Run, p: Pacer, op: () => number, sync: () => number, fake: boolean): void {
  try {
    for (;;) {
      while (run.syncDue() && !run.stopping) {
        run.syncPending--;
        const t = performance.now();
        const r = sync();
        if (r < 0) {
          run.error ??= { errno: -r, message: `io error on ${run.filename}: fsync` };
          run.stopping = true;
          break;
        }
        run.syncDone(t, performance.now());
      }
      const now = performance.now();
      run.poll(now);
      if (!run.next(0, now)) {
        if (p.hold !== Hold.None && !run.stopping) {
          // one op at a time: nothing is ever in flight here, so a hold is a wait
          const t = performance.now();
          if (p.thinkPending >= 0) p.think(t, run.deadline - t);
          if (p.latNewCycle) {
            if (p.resetStats) {
              p.resetStats = false;
              run.endRamp(t);
            }
            p.newCycle(t, run.ios[0] + run.ios[1]);
          }
          if (p.hold !== Hold.Reap && (p.until > t || p.spinUs > 0)) sleepUntil(Math.min(Math.max(p.until, t), run.deadline), p.spinUs, run.termFlag, run.stopFlag);
          p.rested(performance.now());
          checks(run, p);
          continue;
        }
        if (run.syncDue() && !run.stopping) continue;
        break;
      }
      if (run.timed) run.tPrep[0] = run.tSub[0] = fake ? now : performance.now();
      const res = op();
      const end = performance.now();
      if (res < 0) {
        run.inFlight--;
        run.fail(0, -res);
        break;
      }
      run.done(0, res, end);
      if (p.latOn && run.tLat) {
        const lat = (end - run.tPrep[0]) * 1e6;
        if (p.completed(lat)) p.fatalLatency(lat, opText(run, 0));
      }
      checks(run, p);
    }
  } finally {
    p.leaveFlow();
  }
}

/** Runs a paced job on `engine`: its queue `q` (null for a one-op-at-a-time engine), `fill` the plain loop's fill step. */
export async function runPaced<Q extends PacedQueue & { waitPosted(): Promise<void> }>(run: Run, p: Pacer, engine: IoEngine, q: Q | null, fill: (q: Q) => void): Promise<void> {
  const datasync = run.job.fdatasync > 0;
  if (q === null) {
    runPacedSync(run, p, () => engine.queue(0), () => engine.queueSync(0, datasync), (engine.flags & F_FAKEIO) !== 0);
    return;
  }
  const eventLoop = (engine.flags & F_EVENTLOOP) !== 0;
  await runPacedQueue(
    {
      q,
      fill: () => fill(q),
      events: eventLoop
        ? async (min) => {
            while (q.cLen < min) await engine.getevents(min - q.cLen);
          }
        : (min) => {
            if (q.cLen < min) engine.getevents(min - q.cLen);
          },
      // event-loop engines' completions arrive on their own while the loop awaits
      poll: eventLoop ? () => {} : () => void engine.getevents(0),
    },
    p,
  );
}
