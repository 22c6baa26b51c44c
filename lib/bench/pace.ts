// fio's pacing options for `kaio bench`, and the per-job pacer that applies
// them inside a job's submit loop: how much (rate, rate_iops, and the
// ratemin/rate_iops_min floor checked every rate_cycle), how often
// (thinktime and its spin/blocks/iotime variants), how jobs share a flow
// (flow, flow_id, flow_sleep: a counter shared by every job of a flow id),
// and the latency-target profiler (latency_target/window/percentile/run,
// which searches the deepest queue whose latencies meet the target).
//
// Semantics follow fio's backend.c, io_u.c, flow.c (read, not copied):
//  - rate: an op of direction d may start once the bytes issued in d so far
//    divided by the rate have elapsed since the job started (linear), or
//    after an exponential gap of mean 1/iops (poisson). With
//    io_submit_mode=inline a job ahead of its rate first waits for every op
//    in flight (fio's io_u_quiesce), then sleeps; offload keeps submitting
//    on the clock while completions are reaped as they come.
//  - ratemin: after 2 s, every rate_cycle ms, the rate of the last cycle
//    must reach the floor, else the job fails with EIO, as fio's does.
//  - thinktime: after every thinktime_blocks ops (completed, or issued with
//    thinktime_blocks_type=issue), or every thinktime_iotime of I/O, the job
//    drains its queue, spins thinktime_spin µs, and sleeps the rest.
import { performance } from 'node:perf_hooks';
import { invalidArgValue } from '../errors';

export type Triple = [number, number, number];

export interface PaceOptions {
  /** Bytes/s per direction (read, write, trim); 0: no limit. */
  rate: Triple;
  rateIops: Triple;
  rateMin: Triple;
  rateIopsMin: Triple;
  /** ms: the window ratemin/rate_iops_min are measured over. */
  rateCycle: number;
  rateProcess: 'linear' | 'poisson';
  rateIgnoreThinktime: boolean;
  submitMode: 'inline' | 'offload';
  /** µs. */
  thinktime: number;
  thinktimeSpin: number;
  thinktimeBlocks: number;
  /** thinktime_blocks was given (fio: with thinktime_iotime, only then are blocks counted too). */
  thinktimeBlocksSet: boolean;
  thinktimeBlocksType: 'complete' | 'issue';
  /** µs of I/O between thinks; 0: off. */
  thinktimeIotime: number;
  /** Weight in its flow; 0: not in a flow. */
  flow: number;
  flowId: number;
  /** µs slept when the flow holds the job back. */
  flowSleep: number;
  /** ns; 0: no latency target. */
  latencyTarget: number;
  /** µs. */
  latencyWindow: number;
  latencyPercentile: number;
  latencyRun: boolean;
}

export function defaultPace(): PaceOptions {
  return {
    rate: [0, 0, 0],
    rateIops: [0, 0, 0],
    rateMin: [0, 0, 0],
    rateIopsMin: [0, 0, 0],
    rateCycle: 1000,
    rateProcess: 'linear',
    rateIgnoreThinktime: false,
    submitMode: 'inline',
    thinktime: 0,
    thinktimeSpin: 0,
    thinktimeBlocks: 1,
    thinktimeBlocksSet: false,
    thinktimeBlocksType: 'complete',
    thinktimeIotime: 0,
    flow: 0,
    flowId: 0,
    flowSleep: 0,
    latencyTarget: 0,
    latencyWindow: 0,
    latencyPercentile: 100,
    latencyRun: false,
  };
}

/** Whether a job needs the paced loop at all (fio's should_check_rate, thinktime, flow, latency_target). */
export function paced(p: PaceOptions): boolean {
  const any = (t: Triple): boolean => t[0] + t[1] + t[2] > 0;
  return any(p.rate) || any(p.rateIops) || any(p.rateMin) || any(p.rateIopsMin) || p.thinktime > 0 || p.flow > 0 || p.latencyTarget > 0;
}

const bad = (name: string, why: string): Error => invalidArgValue(name, why);

const SIZE_UNITS = 'kmgtp';

/** A count or byte rate: 500, 500k, 1m, 1.5g (powers of 1024, as fio's rate), 0 allowed. */
function parseAmount(text: string, name: string, units: boolean): number {
  const m = (units ? /^(\d+(?:\.\d+)?)\s*(?:([kmgtp])(?:i?b)?(?:\/s)?|b)?$/i : /^(\d+)$/).exec(text.trim());
  if (!m) throw bad(name, units ? `must be a rate in bytes/s like 500k or 1m (got ${JSON.stringify(text)})` : `must be a whole number (got ${JSON.stringify(text)})`);
  const v = Math.round(Number(m[1]) * (m[2] ? 1024 ** (SIZE_UNITS.indexOf(m[2].toLowerCase()) + 1) : 1));
  if (!Number.isSafeInteger(v)) throw bad(name, `is too large (got ${text})`);
  return v;
}

/** fio's per-direction list: "1m" (every direction), "1m,500k" (read, write), ",1m" (write only). */
export function parseTriple(text: string, name: string, units: boolean): Triple {
  const parts = text.split(',');
  if (parts.length > 3) throw bad(name, `takes at most 3 comma-separated values (read,write,trim), got ${text}`);
  if (parts.length === 1) {
    const v = parseAmount(parts[0], name, units);
    return [v, v, v];
  }
  const out: Triple = [0, 0, 0];
  parts.forEach((p, i) => {
    if (p.trim() !== '') out[i] = parseAmount(p, name, units);
  });
  return out;
}

const TIME_SCALE_US: Record<string, number> = { us: 1, usec: 1, ms: 1e3, msec: 1e3, s: 1e6, sec: 1e6, m: 60e6, min: 60e6, h: 3600e6, d: 86400e6 };

/**
 * A time as fio reads its time options: a bare number is in `unit` (µs for
 * thinktime and latency_*, s for thinktime_iotime and the ss_* times); a
 * suffix (us, ms, s, m, h, d) says otherwise. Returns µs.
 */
export function parseTimeUs(text: string, name: string, unit: 'us' | 's'): number {
  const m = /^(\d+(?:\.\d+)?)\s*(us|usec|ms|msec|s|sec|m|min|h|d)?$/i.exec(text.trim());
  if (!m) throw bad(name, `must be a time like ${unit === 'us' ? '500, 500us, 2ms' : '10, 10s, 500ms'} or 1s (got ${JSON.stringify(text)})`);
  const v = Math.round(Number(m[1]) * (m[2] ? TIME_SCALE_US[m[2].toLowerCase()] : unit === 'us' ? 1 : 1e6));
  if (!Number.isSafeInteger(v)) throw bad(name, `is too large (got ${text})`);
  return v;
}

export function parseCount(text: string, name: string, min: number, max: number): number {
  const t = text.trim();
  const v = /^\d+$/.test(t) ? Number(t) : NaN;
  if (!Number.isSafeInteger(v) || v < min || v > max) throw bad(name, `must be an integer from ${min} to ${max} (got ${text})`);
  return v;
}

export function parseChoice<T extends string>(text: string, name: string, values: readonly T[]): T {
  const t = text.trim() as T;
  if (!values.includes(t)) throw bad(name, `must be ${values.slice(0, -1).join(', ')} or ${values[values.length - 1]} (got ${text})`);
  return t;
}

/** fio's fixup_options checks of the pacing options (its messages). */
export function checkPace(p: PaceOptions, bs: Triple, bssplitMin: Triple): void {
  const sum = (t: Triple): number => t[0] + t[1] + t[2];
  if ((sum(p.rate) && sum(p.rateIops)) || (sum(p.rateMin) && sum(p.rateIopsMin))) throw bad('--rate', 'and --rate_iops are mutually exclusive (so are --ratemin and --rate_iops_min), as in fio');
  for (let d = 0; d < 3; d++) {
    if ((p.rate[d] && p.rate[d] < p.rateMin[d]) || (p.rateIops[d] && p.rateIops[d] < p.rateIopsMin[d]))
      throw bad('--ratemin', `exceeds --rate for ${['reads', 'writes', 'trims'][d]}, as fio refuses ("minimum rate exceeds rate")`);
    const minBs = bssplitMin[d] || bs[d];
    if ((p.rate[d] || p.rateIops[d]) && p.rate[d] === 0 && p.rateIops[d] * minBs === 0) throw bad('--rate_iops', 'is lower than supported');
  }
  if (p.thinktimeSpin > p.thinktime && p.thinktime > 0) throw bad('--thinktime_spin', `(${p.thinktimeSpin} µs) is longer than --thinktime (${p.thinktime} µs)`);
}

/** A flow's shared counters: [ops counted in the flow (starts at 1), total weight of its jobs], per flow id. */
export const FLOW_COUNTER = 0;
export const FLOW_WEIGHT = 1;

/** What the job's loop must do before its next op, when Pacer.admit() says "not now". */
export const enum Hold {
  /** Nothing: go on. */
  None = 0,
  /** Reap what is in flight, then ask again (latency_target's depth limit). */
  Reap = 1,
  /** Wait for every op in flight, then wait until `until` (inline rate, thinktime, flow). */
  Quiesce = 2,
  /** Wait until `until`, reaping completions as they come (offload rate). */
  Clock = 3,
}

/** What the pacer reads of the job's state. */
export interface PacedRun {
  readonly inFlight: number;
  readonly issued: number;
  readonly slotDir: Uint8Array;
  readonly slotLen: Uint32Array;
}

const ETIMEDOUT = 110;
const EIO = 5;

/**
 * The pacing of one job instance. The loop asks admit(dir) before each op
 * (with the direction it drew), tells issued() about each op it started,
 * completed() about each latency when latency_target is on, and calls
 * check() after each reap. All times are performance.now() ms.
 */
export class Pacer {
  readonly o: PaceOptions;
  /** Bytes/s per direction (rate, or rate_iops times the smallest block), 0: not limited. */
  readonly bps = new Float64Array(2);
  readonly minBs: [number, number];
  /** rate_iops with a bssplit: the gap is 1/iops, not bytes/rate (fio's usec_for_io). */
  readonly iopsGap: [boolean, boolean];
  readonly rated: boolean;
  readonly mixedDirs: boolean;
  /** µs since the job's start before which the next op of each direction may not start. */
  readonly nextUs = new Float64Array(2);
  readonly issueBytes = new Float64Array(2);
  readonly lastUs = new Float64Array(2);
  readonly poisson: boolean;
  epoch = 0;
  /** The direction the last wait was for: taken as is once the wait is over (fio's rate_ddir). */
  forced = -1;
  /** The slot of the op admitted last, accounted (issued()) at the next admit. */
  pendingTag = -1;
  /** Set with a hold: until when (ms), how to wait, and µs to spin first (thinktime_spin). */
  until = 0;
  hold: Hold = Hold.None;
  spinUs = 0;
  // thinktime
  readonly thinkOn: boolean;
  lastThinkBlocks = 0;
  lastThink = 0;
  /** The hold being waited out is a think (not a rate or flow wait). */
  thinking = false;
  /** A thinktime whose drain has not been done yet: the blocks count it was decided on. */
  thinkPending = -1;
  // ratemin
  readonly minOn: boolean;
  readonly lastCheckBytes = new Float64Array(2);
  readonly lastCheckIos = new Float64Array(2);
  readonly lastCheckTime = new Float64Array(2);
  // flow
  readonly flow: BigInt64Array | undefined;
  flowOwn = 0;
  // latency target
  readonly latOn: boolean;
  qd: number;
  qdHigh = 0;
  qdLow = 1;
  latStable = 0;
  latEndRun = false;
  latStart = 0;
  latIos = 0;
  latFailed = 0;
  /** The latency profile is settled (its final window is over): the job ends. */
  latDone = false;
  /** What check() or completed() found fatal: the job fails with it. */
  failure: { errno: number; message: string } | undefined;
  readonly rand: () => number;

  constructor(
    o: PaceOptions,
    readonly name: string,
    bs: Triple,
    bssplitMin: Triple,
    bssplitOn: [boolean, boolean],
    readonly depth: number,
    /** Share of reads when both directions are drawn (fio's rwmix), else -1. */
    readonly rwmixRead: number,
    flow: SharedArrayBuffer | undefined,
    rand: () => number,
  ) {
    this.o = o;
    this.rand = rand;
    this.minBs = [bssplitMin[0] || bs[0], bssplitMin[1] || bs[1]];
    for (let d = 0; d < 2; d++) this.bps[d] = o.rate[d] || o.rateIops[d] * this.minBs[d];
    this.iopsGap = [!o.rate[0] && bssplitOn[0], !o.rate[1] && bssplitOn[1]];
    this.rated = this.bps[0] + this.bps[1] + o.rateMin[0] + o.rateMin[1] + o.rateIopsMin[0] + o.rateIopsMin[1] > 0;
    this.mixedDirs = rwmixRead > 0 && rwmixRead < 100;
    this.poisson = o.rateProcess === 'poisson';
    this.thinkOn = o.thinktime > 0;
    this.minOn = o.rateMin[0] + o.rateMin[1] + o.rateIopsMin[0] + o.rateIopsMin[1] > 0;
    this.flow = o.flow > 0 && flow ? new BigInt64Array(flow) : undefined;
    this.latOn = o.latencyTarget > 0;
    this.qd = depth;
  }

  /** The job starts now (its epoch: rate times count from here, as fio's td->epoch). */
  begin(now: number): void {
    this.epoch = now;
    this.lastThink = now;
    if (this.latOn) {
      // fio's lat_target_init: start at depth 1, search up to iodepth.
      this.qd = 1;
      this.qdHigh = this.depth;
      this.qdLow = 1;
      this.latStart = now;
      this.latIos = 0;
    }
  }

  /**
   * May an op start now? `dir` is the direction drawn for slot `tag`;
   * returns the direction to issue (the other one when only it is behind
   * its rate), or -1 with `hold` saying what the loop must do first.
   */
  admit(dir: number, tag: number, now: number, run: PacedRun): number {
    if (this.pendingTag >= 0) {
      // the op admitted last time was started: its bytes set the next op's time
      this.issued(run.slotDir[this.pendingTag], run.slotLen[this.pendingTag]);
      this.pendingTag = -1;
    }
    const issuedOps = run.issued;
    const completedOps = issuedOps - run.inFlight;
    if (this.thinkOn && this.thinkPending < 0 && this.#thinkDue(now, completedOps, issuedOps)) {
      this.thinkPending = this.o.thinktimeBlocksType === 'issue' ? issuedOps : completedOps;
      this.hold = Hold.Quiesce;
      this.until = 0;
      return -1;
    }
    if (this.hold !== Hold.None) return -1;
    if (this.latOn && run.inFlight >= this.qd) {
      this.hold = Hold.Reap;
      return -1;
    }
    if (this.flow !== undefined && this.#flowHeld(now)) return -1;
    if (this.forced >= 0) {
      dir = this.forced;
      this.forced = -1;
    } else if (this.bps[0] + this.bps[1] !== 0 && dir < 2) {
      const nowUs = (now - this.epoch) * 1000;
      if (this.nextUs[dir] > nowUs) {
        let wait = this.nextUs[dir];
        let odir = -1;
        if (this.mixedDirs) {
          odir = dir ^ 1;
          if (this.nextUs[odir] <= nowUs) wait = -1;
          else if (this.nextUs[odir] < wait) {
            wait = this.nextUs[odir];
            dir = odir;
          }
        }
        if (wait < 0) dir = odir;
        else {
          this.forced = dir;
          this.until = this.epoch + wait / 1000;
          this.hold = this.o.submitMode === 'inline' ? Hold.Quiesce : Hold.Clock;
          return -1;
        }
      }
    }
    this.pendingTag = tag;
    return dir;
  }

  #thinkDue(now: number, completedOps: number, issuedOps: number): boolean {
    const o = this.o;
    if (o.thinktimeIotime > 0) {
      if ((now - this.lastThink) * 1000 >= o.thinktimeIotime) return true;
      // fio: with thinktime_iotime and no thinktime_blocks given, only the time counts.
      if (!o.thinktimeBlocksSet) return false;
    }
    const b = o.thinktimeBlocksType === 'issue' ? issuedOps : completedOps;
    return b >= this.lastThinkBlocks + o.thinktimeBlocks;
  }

  /**
   * The queue is drained for a pending thinktime: returns the hold to sleep
   * (until, spinUs), fio's handle_thinktime after io_u_quiesce.
   */
  think(now: number, runtimeLeftMs: number): void {
    const o = this.o;
    let spin = o.thinktimeSpin;
    let total = o.thinktime;
    if (runtimeLeftMs < total / 1000) total = Math.max(0, runtimeLeftMs * 1000);
    if (spin > total) spin = total;
    this.spinUs = spin;
    this.until = now + total / 1000;
    this.hold = Hold.Quiesce;
    this.thinking = true;
    this.lastThinkBlocks = this.thinkPending;
    this.thinkPending = -1;
    if (o.rateIgnoreThinktime && total > 0) {
      // fio: the bytes the job would have done while thinking count as
      // issued, less one block, so that it goes on at once after the think.
      for (let d = 0; d < 2; d++) {
        const bps = this.bps[d];
        if (!bps) continue;
        const bs = this.minBs[d];
        const missed = (bps * total) / 1e6;
        const perOp = (bs * 1e6) / bps;
        this.issueBytes[d] += missed - (perOp <= total ? bs : 0);
        this.lastUs[d] += total;
      }
    }
  }

  /** The think (or rate wait) is over at `now`. */
  rested(now: number): void {
    this.hold = Hold.None;
    this.until = 0;
    this.spinUs = 0;
    if (this.thinking && this.o.thinktimeIotime > 0) this.lastThink = now;
    this.thinking = false;
  }

  /** An op of `dir` and `len` bytes was started: the next op's time (fio's usec_for_io). */
  issued(dir: number, len: number): void {
    if (dir > 1) return;
    const bps = this.bps[dir];
    if (bps === 0) return;
    this.issueBytes[dir] += len;
    if (this.poisson) {
      const iops = Math.floor(bps / this.minBs[dir]);
      if (iops > 0) this.lastUs[dir] += Math.floor(1e6 / iops) * -Math.log(1 - this.rand());
      this.nextUs[dir] = this.lastUs[dir];
    } else if (this.iopsGap[dir]) {
      const iops = Math.floor(bps / this.minBs[dir]);
      if (iops > 0) this.lastUs[dir] += Math.floor(1e6 / iops);
      this.nextUs[dir] = this.lastUs[dir];
    } else this.nextUs[dir] = (this.issueBytes[dir] * 1e6) / bps;
  }

  /** fio's flow_threshold_exceeded: held back while this job's share of the flow's ops is above its weight's share. */
  #flowHeld(now: number): boolean {
    const f = this.flow!;
    const counter = Number(Atomics.load(f, FLOW_COUNTER));
    const weight = Number(Atomics.load(f, FLOW_WEIGHT));
    if (weight > 0 && this.flowOwn / counter > this.o.flow / weight) {
      this.until = now + this.o.flowSleep / 1000;
      this.hold = this.o.flowSleep > 0 ? Hold.Quiesce : Hold.Clock;
      return true;
    }
    Atomics.add(f, FLOW_COUNTER, 1n);
    this.flowOwn++;
    return false;
  }

  /** The job leaves its flow (fio's flow_exit_job): its ops and weight leave the shared counters. */
  leaveFlow(): void {
    if (this.flow === undefined) return;
    Atomics.sub(this.flow, FLOW_COUNTER, BigInt(this.flowOwn));
    Atomics.sub(this.flow, FLOW_WEIGHT, BigInt(this.o.flow));
    this.flowOwn = 0;
  }

  /**
   * One op's total latency (ns) with latency_target on. True when it is
   * fatal (over the target at depth 1 with latency_percentile=100): the
   * caller fails the job with fatalLatency().
   */
  completed(latNs: number): boolean {
    if (latNs <= this.o.latencyTarget) return false;
    if (this.o.latencyPercentile < 100) {
      this.latFailed++;
      return false;
    }
    if (this.qd === 1) return true;
    this.#rampDown();
    return false;
  }

  /** fio's lat_fatal message for an op of `latNs` described by `what` (file, direction, offset, length). */
  fatalLatency(latNs: number, what: string): void {
    this.failure ??= { errno: ETIMEDOUT, message: `latency of ${Math.round(latNs)} nsec exceeds specified max (${this.o.latencyTarget} nsec): ${what}` };
  }

  #rampDown(): void {
    this.qdHigh = this.qd;
    if (this.qd === this.qdLow) this.qdLow--;
    this.qd = Math.max(1, Math.floor((this.qd + this.qdLow) / 2));
    this.latStable = 0;
    // fio drains the queue after a ramp down, so the deeper ops do not count against the new depth.
    this.hold = Hold.Quiesce;
    this.until = 0;
    this.latNewCycle = true;
  }

  /** A new latency window starts once the loop has drained (set by a ramp down or up). */
  latNewCycle = false;
  /** The loop must reset the job's statistics (the final run at the settled depth begins). */
  resetStats = false;

  /**
   * After each reap: ratemin/rate_iops_min (job failure), the latency
   * window. `bytes`/`ios` are the job's completed counts per direction
   * (since the ramp), `start` when they started counting.
   */
  check(now: number, start: number, bytes: Float64Array, ios: Float64Array, totalIos: number): void {
    if (this.minOn && now - start >= 2000) this.#checkMin(now, bytes, ios);
    if (this.latOn) {
      if (this.latNewCycle) return;
      if ((now - this.latStart) * 1000 < this.o.latencyWindow) return;
      const n = totalIos - this.latIos;
      // fio looks only once ops have completed (a window without any says nothing)
      if (n <= 0) return;
      const ok = ((n - this.latFailed) / n) * 100;
      if (ok >= this.o.latencyPercentile) this.#rampUp(now, totalIos);
      else if (this.qd === 1) this.failure ??= { errno: ETIMEDOUT, message: `latency target of ${this.o.latencyTarget} nsec not met at ${this.o.latencyPercentile}% at queue depth 1` };
      else this.#rampDown();
    }
  }

  /** The loop drained the queue after a ramp: the latency window restarts. */
  newCycle(now: number, totalIos: number): void {
    this.latNewCycle = false;
    this.latStart = now;
    this.latIos = totalIos;
    this.latFailed = 0;
  }

  #rampUp(now: number, totalIos: number): void {
    const qd0 = this.qd;
    this.qdLow = this.qd;
    if (this.qd + 1 === this.qdHigh && ++this.latStable >= 3) {
      this.qdHigh++;
      this.latStable = 0;
    }
    this.qd = this.qdHigh !== this.depth ? Math.floor((this.qd + this.qdHigh) / 2) : this.qd * 2;
    if (this.qd > this.depth) this.qd = this.depth;
    if (!this.o.latencyRun && this.qd === qd0) {
      if (this.latEndRun) {
        this.latDone = true;
        return;
      }
      // Settled: drain, forget what was measured, and run one more window at this depth.
      this.latEndRun = true;
      this.resetStats = true;
      this.hold = Hold.Quiesce;
      this.until = 0;
      this.latNewCycle = true;
      return;
    }
    this.newCycle(now, totalIos);
  }

  #checkMin(now: number, bytes: Float64Array, ios: Float64Array): void {
    const o = this.o;
    for (let d = 0; d < 2; d++) {
      if (!o.rateMin[d] && !o.rateIopsMin[d]) continue;
      if (bytes[d] === 0) continue;
      if (bytes[d] < this.lastCheckBytes[d] || (this.lastCheckBytes[d] === 0 && this.lastCheckIos[d] === 0)) {
        // first look (or the counters restarted after the ramp): the cycle starts here
        this.lastCheckBytes[d] = bytes[d];
        this.lastCheckIos[d] = ios[d];
        this.lastCheckTime[d] = now;
        continue;
      }
      const spent = Math.floor(now - this.lastCheckTime[d]);
      if (spent < o.rateCycle || spent === 0) continue;
      if (o.rateMin[d]) {
        const got = Math.floor(((bytes[d] - this.lastCheckBytes[d]) * 1000) / spent);
        if (got < o.rateMin[d]) {
          this.failure ??= { errno: EIO, message: `${this.name}: rate_min=${o.rateMin[d]}B/s not met, got ${got}B/s` };
          return;
        }
      } else {
        const got = Math.floor(((ios[d] - this.lastCheckIos[d]) * 1000) / spent);
        if (got < o.rateIopsMin[d]) {
          this.failure ??= { errno: EIO, message: `${this.name}: rate_iops_min=${o.rateIopsMin[d]} not met, got ${got} IOPS` };
          return;
        }
      }
      this.lastCheckBytes[d] = bytes[d];
      this.lastCheckIos[d] = ios[d];
      this.lastCheckTime[d] = now;
    }
  }
}

/**
 * Blocks the job's thread until `until` (performance.now() ms), spinning
 * the first `spinUs` µs (thinktime_spin). Wakes early when `term` (this
 * job's terminate flag, notified) or `stop` (Ctrl-C, looked at every 100 ms)
 * is set.
 */
export function sleepUntil(until: number, spinUs: number, term: Int32Array, stop: Int32Array): void {
  if (spinUs > 0) {
    const spinEnd = performance.now() + spinUs / 1000;
    while (performance.now() < spinEnd);
  }
  for (;;) {
    const left = until - performance.now();
    if (left <= 0 || Atomics.load(term, 0) !== 0 || Atomics.load(stop, 0) !== 0) return;
    Atomics.wait(term, 0, 0, Math.min(left, 100));
  }
}
