// fio's steady-state detection (steadystate / ss, ss_dur, ss_ramp,
// ss_interval) for `kaio bench`, as fio's steadystate.c does it (read, not
// copied): every ss_interval the main thread measures each job's (or, with
// group_reporting, each reporting group's) IOPS and bandwidth over the last
// interval; once ss_ramp is over and ss_dur worth of intervals is held, it
// computes either the largest deviation from the window's mean (iops, bw) or
// the least-squares slope of the window (iops_slope, bw_slope), as a
// percentage of the mean when the limit ends in %; under the limit, steady
// state is attained and the job (or its whole group) is stopped. The result
// goes in fio's "steadystate" JSON section and its normal-output line.
import { invalidArgValue } from '../errors';
import { parseTimeUs } from './pace';

export type SsCriterion = 'iops' | 'iops_slope' | 'bw' | 'bw_slope';

export interface SteadyOptions {
  criterion: SsCriterion;
  limit: number;
  /** The limit is a percentage of the mean. */
  pct: boolean;
  /** Seconds of data the criterion is computed over; 0: no detection (fio's default). */
  dur: number;
  /** Seconds after the job's start before data is collected. */
  ramp: number;
  /** Seconds between measurements. */
  interval: number;
}

export function defaultSteady(): SteadyOptions {
  // fio's default criterion; nothing happens until ss_dur is given.
  return { criterion: 'iops_slope', limit: 0.01, pct: true, dur: 0, ramp: 0, interval: 1 };
}

/** ss=iops:10%, bw_slope:0.1%, iops:200 (fio's CRITERION:LIMIT[%]). */
export function parseSteadystate(ss: SteadyOptions, text: string, name: string): void {
  const m = /^(iops|iops_slope|bw|bw_slope|lat|lat_slope):\s*(\d+(?:\.\d*)?|\.\d+)\s*(%?)$/.exec(text.trim());
  if (!m) {
    if (/^(iops|iops_slope|bw|bw_slope|lat|lat_slope)$/.test(text.trim())) throw invalidArgValue(name, `needs a limit after the criterion, like ${text.trim()}:10% (fio's "steadystate threshold must be specified")`);
    throw invalidArgValue(name, `must be iops, iops_slope, bw or bw_slope, a colon and a limit (N or N%), like iops:10% (got ${JSON.stringify(text)})`);
  }
  if (m[1].startsWith('lat')) throw invalidArgValue(name, `${m[1]} (a latency criterion) is not supported by kaio bench (nor by fio 3.33); use iops, iops_slope, bw or bw_slope`);
  ss.criterion = m[1] as SsCriterion;
  ss.limit = Number(m[2]);
  ss.pct = m[3] === '%';
}

export function parseSsTime(text: string, name: string, allowZero: boolean): number {
  const us = parseTimeUs(text, name, 's');
  if (!allowZero && us < 1e6) throw invalidArgValue(name, `must be at least 1 s (got ${text})`);
  if (us % 1e6 !== 0) throw invalidArgValue(name, `must be whole seconds, as fio counts it (got ${text})`);
  return us / 1e6;
}

/** fio's checks: ss_dur a whole number of ss_interval. */
export function checkSteady(ss: SteadyOptions): void {
  if (!ss.dur) return;
  if (ss.dur % ss.interval !== 0 || ss.dur / ss.interval < 2)
    throw invalidArgValue('--ss_dur', `must be a multiple of --ss_interval (${ss.interval} s), at least two of them (got ${ss.dur} s)`);
}

/** What a job reports (fio's "steadystate" JSON object). */
export interface SteadyResult {
  ss: string;
  duration: number;
  attained: number;
  criterion: string;
  max_deviation: number;
  slope: number;
  data: { bw_mean: number; iops_mean: number; iops: number[]; bw: number[] };
}

/** One steady-state window: a job's, or a reporting group's with group_reporting. */
export class SteadyWindow {
  readonly n: number;
  readonly iops: number[] = [];
  readonly bw: number[] = [];
  attained = false;
  criterion = 0;
  deviation = 0;
  slope = 0;
  constructor(readonly o: SteadyOptions) {
    this.n = o.dur / o.interval;
  }

  /** Adds one interval's measurement; true when steady state is attained. */
  add(iops: number, bw: number): boolean {
    this.iops.push(Math.floor(iops));
    this.bw.push(Math.floor(bw));
    if (this.iops.length > this.n) {
      this.iops.shift();
      this.bw.shift();
    }
    if (this.iops.length < this.n) return false;
    const y = this.o.criterion.startsWith('iops') ? this.iops : this.bw;
    const n = this.n;
    const mean = y.reduce((a, b) => a + b, 0) / n;
    if (this.o.criterion.endsWith('_slope')) {
      // least squares over x = 0..n-1, the intervals taken as equally spaced (as fio does)
      const sx = (n * (n - 1)) / 2;
      const sxx = ((n - 1) * n * (2 * n - 1)) / 6;
      let sxy = 0;
      y.forEach((v, i) => (sxy += i * v));
      const sy = mean * n;
      this.slope = (sxy - (sx * sy) / n) / (sxx - (sx * sx) / n);
      this.criterion = this.o.pct ? (mean ? (100 * this.slope) / mean : Infinity) : this.slope;
      this.attained = Math.abs(this.criterion) < this.o.limit;
    } else {
      this.deviation = Math.max(...y.map((v) => Math.abs(v - mean)));
      this.criterion = this.o.pct ? (mean ? (100 * this.deviation) / mean : Infinity) : this.deviation;
      this.attained = this.criterion < this.o.limit;
    }
    return this.attained;
  }

  result(): SteadyResult {
    const o = this.o;
    const mean = (a: number[]): number => (a.length ? Math.floor(a.reduce((s, v) => s + v, 0) / this.n) : 0);
    // fio prints the whole window, zeros where no interval was measured yet
    const pad = (a: number[]): number[] => [...a, ...new Array(Math.max(0, this.n - a.length)).fill(0)];
    const f = (v: number): string => (Number.isFinite(v) ? v.toFixed(6) : String(v));
    return {
      ss: `${o.criterion}:${o.limit.toFixed(6)}${o.pct ? '%' : ''}`,
      duration: o.dur,
      attained: this.attained ? 1 : 0,
      criterion: `${f(this.criterion)}${o.pct ? '%' : ''}`,
      max_deviation: this.deviation,
      slope: this.slope,
      data: { bw_mean: mean(this.bw), iops_mean: mean(this.iops), iops: pad(this.iops), bw: pad(this.bw) },
    };
  }
}

/** Progress counters the main thread samples: ios and bytes summed over directions, and whether the job has started. */
export interface SteadySource {
  started(): number;
  totals(): [ios: number, bytes: number];
  /** Stops the job (its terminate flag). */
  terminate(): void;
  running(): boolean;
}

/**
 * The main thread's checker: call tick() every interval with the current
 * time; members of a unit (one job, or one reporting group) are summed.
 */
export class SteadyUnit {
  readonly window: SteadyWindow;
  prevTime = 0;
  readonly prev: Array<[number, number]>;
  rampOver = false;
  constructor(
    readonly o: SteadyOptions,
    readonly members: SteadySource[],
  ) {
    this.window = new SteadyWindow(o);
    this.prev = members.map(() => [0, 0]);
    // fio: without ss_ramp, data is taken from the first interval on
    this.rampOver = o.ramp === 0;
  }

  tick(now: number): void {
    if (this.window.attained) return;
    const live = this.members.filter((m) => m.running());
    if (!live.length) return;
    const epoch = Math.min(...live.map((m) => m.started()).filter((t) => t > 0));
    if (!Number.isFinite(epoch)) return;
    const ms = this.o.interval * 1000;
    if (!this.rampOver && now - epoch >= (this.o.ramp + this.o.interval) * 1000) this.rampOver = true;
    const rateTime = this.prevTime ? now - this.prevTime : ms;
    this.prevTime = now;
    let iops = 0;
    let bw = 0;
    this.members.forEach((m, i) => {
      const [ios, bytes] = m.totals();
      // counters restart at the end of ramp_time: count from zero then
      const dIos = ios >= this.prev[i][0] ? ios - this.prev[i][0] : ios;
      const dBytes = bytes >= this.prev[i][1] ? bytes - this.prev[i][1] : bytes;
      this.prev[i] = [ios, bytes];
      // fio scales each interval's count by its length against the nominal interval
      iops += (rateTime * dIos) / ((ms * ms) / 1000);
      bw += (rateTime * dBytes) / ((ms * ms) / 1000);
    });
    if (!this.rampOver) return;
    if (this.window.add(iops, bw)) for (const m of this.members) m.terminate();
  }
}
