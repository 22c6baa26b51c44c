// The one submit/reap loop every engine runs under (fio's do_io()): picks
// each op (run.next), queues it through the engine, commits every
// iodepth_batch_submit ops, reaps iodepth_batch_complete_min..max
// completions per turn, and stamps each op as fio does. Timestamps, per op:
// after its preparation (fio's start_time: lat, slat), when the call that
// handed it to the kernel returned (issue_time: slat, clat), when it was
// reaped (clat, lat). A completion the kernel has posted but the job has not
// reaped yet waits in a queue here, as it would wait in fio's CQ.
import { performance } from 'node:perf_hooks';
import type { Run } from '../job';
import { F_EVENTLOOP, F_FAKEIO, F_ISSUES, F_NOIO, F_NOSTATS, F_SYNC, Q_BUSY, type EngineQueue, type IoEngine } from './engine';
import { errnoCode } from './util';
import { runPaced } from './paced';

/** fio's IO depths buckets: "4" holds depths 4-7, "8" 8-15 and so on (the depth when ops are committed). */
export function depthBucket(n: number): number {
  return n >= 64 ? 6 : n >= 32 ? 5 : n >= 16 ? 4 : n >= 8 ? 3 : n >= 4 ? 2 : n >= 2 ? 1 : 0;
}
function batchBucket(n: number): number {
  return n === 0 ? 0 : n <= 4 ? 1 : n <= 8 ? 2 : n <= 16 ? 3 : n <= 32 ? 4 : n <= 64 ? 5 : 6;
}

/** slotDir of an fsync in a queued loop's slot. */
const SYNC_DIR = 3;

class BatchQueue implements EngineQueue {
  /** Slots free for the next op (a stack). */
  readonly free: Int32Array;
  nFree = 0;
  /** Ops prepared and not yet taken by the kernel (fio's "queued"), in order. */
  readonly queued: Int32Array;
  qStart = 0;
  qLen = 0;
  /** Completions posted by the kernel and not reaped by the job yet (a ring). */
  readonly cTag: Int32Array;
  readonly cRes: Int32Array;
  cHead = 0;
  cLen = 0;
  readonly tPrepOn: boolean;
  readonly tSubOn: boolean;
  readonly tReapOn: boolean;
  /** The engine's queue() issues each op (F_ISSUES): no commit step, no slat. */
  readonly issues: boolean;
  /** Most completions one reap takes, before the cap at the ops in flight. */
  readonly completeMax: number;
  readonly completeMin: number;
  /** The loop's clock of this turn (what untimed completions are stamped with). */
  loopNow = 0;
  /** Turns of the loop so far (the stop flag is polled every 16th). */
  turns = 0;
  /** Who waits in waitPosted(). */
  wake: (() => void) | undefined = undefined;

  constructor(
    readonly run: Run,
    readonly datasync: boolean,
    flags: number,
  ) {
    const depth = run.depthMax;
    this.free = new Int32Array(depth);
    for (let t = depth - 1; t >= 0; t--) this.free[this.nFree++] = t;
    this.queued = new Int32Array(depth);
    this.cTag = new Int32Array(depth);
    this.cRes = new Int32Array(depth);
    this.tPrepOn = run.tLat || run.tSlat;
    this.tSubOn = run.tSlat || run.tClat;
    this.tReapOn = run.tLat || run.tClat;
    this.issues = (flags & F_ISSUES) !== 0;
    // fio: at least one; a maximum below the minimum is the minimum (0 too).
    this.completeMin = Math.max(1, run.job.batchCompleteMin);
    this.completeMax = Math.max(this.completeMin, run.job.batchCompleteMax);
  }

  /** Op `tag` is prepared (its SQE or iocb written): fio's start_time; or issued (F_ISSUES, stamped before). */
  prepared(tag: number): void {
    this.nFree--;
    if (this.issues) {
      // Handed over by queue() itself: one op per submit, depth counted at issue.
      const run = this.run;
      run.depthLevels[depthBucket(run.inFlight)]++;
      run.submitLevels[1]++;
      return;
    }
    if (this.tPrepOn) this.run.tPrep[tag] = performance.now();
    this.queued[this.qStart + this.qLen++] = tag;
  }

  accepted(n: number, calls: number): void {
    const run = this.run;
    if (n > this.qLen) n = this.qLen;
    if (n <= 0) return;
    if (calls <= 1) run.submitLevels[batchBucket(n)]++;
    else for (let c = 0; c < calls; c++) run.submitLevels[batchBucket(Math.ceil(n / calls))]++;
    const t = this.tSubOn ? performance.now() : 0;
    for (let i = 0; i < n; i++) {
      const tag = this.queued[this.qStart + i];
      if (run.slotDir[tag] === SYNC_DIR) run.tSub[tag] = t;
      else run.submitted(tag, t);
    }
    this.qStart += n;
    this.qLen -= n;
    if (this.qLen === 0) this.qStart = 0;
  }

  posted(tag: number, res: number): void {
    const cap = this.cTag.length;
    const i = (this.cHead + this.cLen) % cap;
    this.cTag[i] = tag;
    this.cRes[i] = res;
    this.cLen++;
    if (this.wake !== undefined) {
      const w = this.wake;
      this.wake = undefined;
      w();
    }
  }

  waitPosted(): Promise<void> {
    return new Promise<void>((resolve) => (this.wake = resolve));
  }

  /** fio's min_evts for this reap: iodepth_batch_complete_min, at most the ops in flight, at least 1. */
  reapMin(): number {
    return Math.max(1, Math.min(this.completeMin, this.run.inFlight));
  }

  /** Reaps up to iodepth_batch_complete_max of the posted completions, stamped with one clock read. */
  reap(): void {
    const run = this.run;
    const k = Math.min(this.cLen, Math.max(this.completeMax > run.inFlight ? run.inFlight : this.completeMax, this.reapMin()));
    if (k === 0) return;
    const now = this.tReapOn ? performance.now() : this.loopNow;
    const cap = this.cTag.length;
    const nop = run.nop;
    for (let j = 0; j < k; j++) {
      const tag = this.cTag[this.cHead];
      const res = this.cRes[this.cHead];
      this.cHead = this.cHead + 1 === cap ? 0 : this.cHead + 1;
      this.cLen--;
      this.free[this.nFree++] = tag;
      if (run.slotDir[tag] === SYNC_DIR) {
        run.inFlight--;
        this.syncCompleted(tag, res, now);
      } else run.done(tag, nop ? 0 : res, now);
    }
    run.completeLevels[batchBucket(k)]++;
    run.publish();
  }

  /** An fsync's completion: its time, or the job's error. */
  syncCompleted(tag: number, res: number, now: number): void {
    const run = this.run;
    if (res < 0) syncFailed(run, -res, this.datasync);
    else run.syncDone(run.tPrep[tag], now);
  }
}

function syncFailed(run: Run, errno: number, datasync: boolean): void {
  run.error ??= { errno, message: `io error on ${run.filename}: ${errnoCode(errno)}: ${datasync ? 'fdatasync' : 'fsync'}` };
  run.stopping = true;
}

/**
 * Fills the queue: the next op (or an fsync due after fsync=N writes) into
 * each free slot, a commit every iodepth_batch_submit ops and one for the rest.
 */
function fillAndCommit(q: BatchQueue, engine: IoEngine): void {
  const run = q.run;
  const now = (q.loopNow = performance.now());
  // The stop flag (Ctrl-C, a sibling's end) is an atomic load: looked at on
  // the first turn and every 16th after, which at one op per turn is still
  // microseconds; the runtime is checked per op (run.more()).
  if ((q.turns++ & 15) === 0) run.poll(now);
  const batchSubmit = run.job.batchSubmit;
  const issues = q.issues;
  while (q.nFree !== 0) {
    const tag = q.free[q.nFree - 1];
    if (run.syncPending > 0 && !run.stopping) {
      run.slotDir[tag] = SYNC_DIR;
      run.tPrep[tag] = performance.now();
      if (engine.queueSync(tag, q.datasync) === Q_BUSY) break;
      run.syncPending--;
      run.inFlight++;
      q.prepared(tag);
    } else {
      if (!run.next(tag, now)) break;
      // An engine whose queue() issues the op: its start and issue time are
      // one, taken just before the call (no step between them reaches the kernel).
      if (issues && run.timed) run.tPrep[tag] = run.tSub[tag] = performance.now();
      if (engine.queue(tag) === Q_BUSY) {
        // Queue full: give the op back (rare; the ring or context is sized for iodepth).
        run.inFlight--;
        run.issued--;
        run.issuedBytes -= run.slotLen[tag];
        break;
      }
      q.prepared(tag);
    }
    if (q.qLen >= batchSubmit) {
      // fio counts the depth at each commit, for the ops it commits.
      run.depthLevels[depthBucket(run.inFlight)] += q.qLen;
      engine.commit();
    }
  }
  if (q.qLen !== 0) {
    run.depthLevels[depthBucket(run.inFlight)] += q.qLen;
    engine.commit();
  }
}

/**
 * One turn of a loop whose engine waits in getevents() itself (io_uring's
 * batch API): fill, submit, reap. A function of its own, so that it is
 * optimised as soon as it is hot, not only by on-stack replacement of a loop
 * that turns once per iodepth ops. False when the job is over.
 */
function turn(q: BatchQueue, engine: IoEngine): boolean {
  fillAndCommit(q, engine);
  const run = q.run;
  if (run.inFlight === 0) return false;
  // Like fio: take what is already posted (the commit took what was there
  // when it returned; look again only when that is enough for this reap and
  // more could be taken), wait in the kernel only for what is missing.
  const min = q.reapMin();
  if (q.cLen < min) engine.getevents(min - q.cLen);
  else if (q.cLen < q.completeMax && q.cLen < run.inFlight) engine.getevents(0);
  q.reap();
  return true;
}

/** The same turn for engines whose completions arrive on Node's event loop. */
async function runEventLoop(q: BatchQueue, engine: IoEngine): Promise<void> {
  const run = q.run;
  for (;;) {
    fillAndCommit(q, engine);
    if (run.inFlight === 0) break;
    const min = q.reapMin();
    while (q.cLen < min) await engine.getevents(min - q.cLen);
    q.reap();
  }
}

/** fio's sync engines (F_SYNC): one op at a time on the job's thread, done when queue() returns. */
function runSync(run: Run, engine: IoEngine): void {
  const datasync = run.job.fdatasync > 0;
  const fake = (engine.flags & F_FAKEIO) !== 0;
  const noio = (engine.flags & F_NOIO) !== 0;
  const timed = run.timed || noio;
  let clock = 0;
  let last = -Infinity;
  let every = 1;
  let left = 1;
  for (;;) {
    while (run.syncDue() && !run.stopping) {
      run.syncPending--;
      const t = performance.now();
      const r = engine.queueSync(0, datasync);
      if (r < 0) {
        syncFailed(run, -r, datasync);
        break;
      }
      run.syncDone(t, performance.now());
    }
    // Nothing timed (gtod_reduce): the clock is read (and the stop flag
    // polled) once per up to 64 ops, as long as that many take under 50 µs;
    // else per op, so the runtime is never overshot by more than that.
    let now: number;
    if (timed || --left === 0) {
      now = clock = performance.now();
      run.poll(now);
      if (!timed) {
        every = now - last < 0.05 ? (every < 64 ? every * 2 : 64) : 1;
        left = every;
        last = now;
      }
    } else now = clock;
    if (!run.next(0, now)) {
      if (run.syncDue() && !run.stopping) continue; // the last writes' fsync
      break;
    }
    // fio's sync engines: the issue time is taken just before the call (no slat);
    // an engine without I/O takes the loop's.
    if (run.timed) run.tPrep[0] = run.tSub[0] = fake ? now : performance.now();
    const res = engine.queue(0);
    if (noio) {
      // Nothing was read or written: the op is not counted (fio's FIO_NOIO).
      run.inFlight--;
      run.issued--;
      run.issuedBytes -= run.slotLen[0];
      if (res < 0) {
        run.fail(0, -res);
        break;
      }
      continue;
    }
    // done() counts a negative result as the op's error and stops the job.
    run.done(0, res, timed ? performance.now() : now);
    if (res < 0) break;
  }
}

/**
 * Runs `run` on `engine` from setup to cleanup (cleanup whatever happens);
 * returns the engine's count of ops with registered buffers.
 */
export async function runEngine(run: Run, engine: IoEngine, fd: number): Promise<number> {
  const flags = engine.flags;
  const q = flags & F_SYNC ? null : new BatchQueue(run, run.job.fdatasync > 0, flags);
  try {
    await engine.setup(run, fd, q);
    run.batched = q !== null;
    run.noStats = (flags & F_NOSTATS) !== 0;
    run.slatMeasured = q !== null && !q.issues;
    run.begin();
    // A paced job (rate, thinktime, flow, latency_target) has its own loop; the others never look.
    if (run.pace !== null) await runPaced(run, run.pace, engine, q, (bq) => fillAndCommit(bq, engine));
    else if (engine.ownLoop?.()) return engine.fixedOps();
    else if (q === null) runSync(run, engine);
    else if (flags & F_EVENTLOOP) await runEventLoop(q, engine);
    else while (turn(q, engine));
    return engine.fixedOps();
  } finally {
    await engine.cleanup();
  }
}
