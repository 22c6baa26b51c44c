// fio's per-job logs (write_bw_log, write_lat_log, write_iops_log,
// write_hist_log), in the text format fio's own tools read
// (fio_generate_plots, fiologparser.py, fiologparser_hist.py):
//   time (ms), value, ddir, bs[, offset], prio
// one line per op, or one per log_avg_msec window and direction. The job's
// thread records each op as it is reaped (OpLog.op, called only when a log is
// asked for) from the same figures its histograms get, and writes the files
// when the job ends, as fio flushes its logs.
import * as fs from 'node:fs';
import { PLAT_NR, type Histogram } from './histogram';

export interface LogOptions {
  /** The log's name prefix; undefined: no such log; '': the job's name (fio's default). */
  bw: string | undefined;
  lat: string | undefined;
  iops: string | undefined;
  hist: string | undefined;
  /** Averaging window, ms; 0: one line per op. */
  avgMsec: number;
  /** write_hist_log's window, ms. */
  histMsec: number;
  /** Adjacent histogram buckets summed, 2^this of them. */
  histCoarseness: number;
  /** 0: the window's mean, 1: its maximum, 2: both (fio's log_max_value). */
  maxValue: number;
  offset: boolean;
  prio: boolean;
  perJob: boolean;
  unixEpoch: boolean;
  alternateEpoch: boolean;
  /** clock_gettime clock of log_alternate_epoch: 0 CLOCK_REALTIME, 1 CLOCK_MONOTONIC. */
  alternateClock: number;
}

export function defaultLogOptions(): LogOptions {
  return {
    bw: undefined,
    lat: undefined,
    iops: undefined,
    hist: undefined,
    avgMsec: 0,
    histMsec: 0,
    histCoarseness: 0,
    maxValue: 0,
    offset: false,
    prio: false,
    perJob: true,
    unixEpoch: false,
    alternateEpoch: false,
    alternateClock: 0,
  };
}

export function anyLog(o: LogOptions): boolean {
  return o.bw !== undefined || o.lat !== undefined || o.iops !== undefined || o.hist !== undefined;
}

export type LogKind = 'bw' | 'clat' | 'slat' | 'lat' | 'iops' | 'clat_hist';

/**
 * The files of one job instance, by kind, as fio names them: PREFIX_KIND.N.log
 * (N: fio's thread number, 1-based over every job of the run), or
 * PREFIX_KIND.log with per_job_logs=0; PREFIX is the option's value, else
 * the job's name.
 */
export function logFiles(o: LogOptions, jobName: string, threadNumber: number): Array<[LogKind, string]> {
  const out: Array<[LogKind, string]> = [];
  const name = (prefix: string, kind: LogKind): string => {
    const p = prefix || jobName;
    return o.perJob ? `${p}_${kind}.${threadNumber}.log` : `${p}_${kind}.log`;
  };
  // fio's order: lat logs (lat, slat, clat), hist, bw, iops.
  if (o.lat !== undefined) for (const k of ['lat', 'slat', 'clat'] as const) out.push([k, name(o.lat, k)]);
  if (o.hist !== undefined) out.push(['clat_hist', name(o.hist, 'clat_hist')]);
  if (o.bw !== undefined) out.push(['bw', name(o.bw, 'bw')]);
  if (o.iops !== undefined) out.push(['iops', name(o.iops, 'iops')]);
  return out;
}

/** Creates (empties) every log file before the jobs run, so that a bad path fails first, naming the option. */
export function createLogFiles(files: Array<[LogKind, string]>): void {
  for (const [kind, file] of files) {
    try {
      fs.writeFileSync(file, '');
    } catch (e) {
      const opt = kind === 'bw' ? 'write_bw_log' : kind === 'iops' ? 'write_iops_log' : kind === 'clat_hist' ? 'write_hist_log' : 'write_lat_log';
      const err = e as NodeJS.ErrnoException;
      throw Object.assign(new Error(`${opt}: cannot create ${file}: ${err.code ?? ''} ${err.message}`.replace(/\s+/g, ' ')), { code: err.code });
    }
  }
}

/** A growable column of numbers. */
class Column {
  a: Float64Array;
  n = 0;
  constructor() {
    this.a = new Float64Array(1024);
  }
  push(v: number): void {
    if (this.n === this.a.length) {
      const b = new Float64Array(this.a.length * 2);
      b.set(this.a);
      this.a = b;
    }
    this.a[this.n++] = v;
  }
}

/** Lines of one log file, as fio formats them. */
class Lines {
  readonly time = new Column();
  readonly val = new Column();
  readonly val2 = new Column();
  readonly dir = new Column();
  readonly bs = new Column();
  readonly off = new Column();
  readonly prio = new Column();
  add(t: number, v: number, v2: number, dir: number, bs: number, off: number, prio: number): void {
    this.time.push(t);
    this.val.push(v);
    this.val2.push(v2);
    this.dir.push(dir);
    this.bs.push(bs);
    this.off.push(off);
    this.prio.push(prio);
  }
}

/** fio's ioprio_value_is_class_rt: the prio column without log_prio. */
const isRt = (ioprio: number): number => (ioprio >>> 13 === 1 ? 1 : 0);

/** A log_avg_msec window of one direction (fio's avg_window): mean and max of its samples. */
class Window {
  n = 0;
  mean = 0;
  max = 0;
  /** Start of the window, ms since the job's epoch (fio's avg_last, which starts at 0). */
  last = 0;
  add(v: number): void {
    this.n++;
    this.mean += (v - this.mean) / this.n;
    if (v > this.max) this.max = v;
  }
  reset(): void {
    this.n = 0;
    this.mean = 0;
    this.max = 0;
  }
}

/** fio's LOG_MSEC_SLACK: a window this close to its end is closed. */
const SLACK_MS = 1;

/**
 * One averaged log: a window per direction (fio's add_log_sample with
 * log_avg_msec). A window closes at the first sample at or past its end, or,
 * for a log fed from outside the op path (`slack`: the bw and iops logs, fio's
 * non-inline logs), within SLACK_MS of it; the next one starts at the last
 * multiple of the window before that sample.
 */
class AvgLog {
  readonly lines = new Lines();
  readonly win = [new Window(), new Window(), new Window()];
  constructor(
    readonly avg: number,
    readonly maxValue: number,
    readonly slack = 0,
  ) {}
  sample(elapsed: number, dir: number, v: number): void {
    const w = this.win[dir];
    w.add(v);
    const spent = elapsed - w.last;
    if (spent < this.avg && (this.slack === 0 || this.avg - spent > this.slack)) return;
    this.close(elapsed, dir);
    w.last = elapsed - (elapsed % this.avg);
  }
  close(elapsed: number, dir: number): void {
    const w = this.win[dir];
    if (w.n) {
      const mean = Math.floor(w.mean + 0.5);
      if (this.maxValue === 1) this.lines.add(elapsed, w.max, 0, dir, 0, 0, 0);
      else this.lines.add(elapsed, mean, w.max, dir, 0, 0, 0);
    }
    w.reset();
  }
}

export interface OpLogSetup {
  options: LogOptions;
  files: Array<[LogKind, string]>;
  /** performance.now() of the job's start (fio's td->epoch). */
  epoch: number;
  /** The job measures slat / clat / lat. */
  slat: boolean;
  clat: boolean;
  lat: boolean;
}

/**
 * The sample records of one job instance. op() and slat() are called per op
 * only when some log is asked for (the job's loop checks once, `log !==
 * undefined`); they keep what each file needs and nothing else.
 */
export class OpLog {
  readonly o: LogOptions;
  readonly epoch: number;
  /** Added to every time stamp: log_unix_epoch / log_alternate_epoch (ms). */
  readonly timeBase: number;
  readonly files: Array<[LogKind, string]>;
  readonly perOp: boolean;
  readonly want: Record<LogKind, boolean>;
  // Per-op mode: one record per op (and one per slat), lines derived when written.
  readonly opLines: Lines | undefined;
  readonly opClat = new Column();
  readonly opLat = new Column();
  readonly slatLines: Lines | undefined;
  // Averaged mode.
  readonly avg: Partial<Record<'clat' | 'slat' | 'lat', AvgLog>> = {};
  /** log_avg_msec: the bw and iops windows their rate samples are averaged in (fio's avg_window of those logs). */
  readonly rateAvg: Record<'bw' | 'iops', AvgLog> | undefined;
  readonly rateBytes = new Float64Array(3);
  readonly rateIos = new Float64Array(3);
  rateLast = 0;
  // Histogram log.
  readonly histLines: Array<{ t: number; dir: number; bs: number; counts: Float64Array }> = [];
  readonly histPrev: Float64Array[] = [new Float64Array(PLAT_NR), new Float64Array(PLAT_NR), new Float64Array(PLAT_NR)];
  readonly histLast = [-1, -1, -1];

  constructor(s: OpLogSetup) {
    this.o = s.options;
    this.epoch = s.epoch;
    this.files = s.files;
    const kinds = new Set(s.files.map(([k]) => k));
    this.want = {
      bw: kinds.has('bw'),
      iops: kinds.has('iops'),
      clat: kinds.has('clat') && s.clat,
      slat: kinds.has('slat') && s.slat,
      lat: kinds.has('lat') && s.lat,
      clat_hist: kinds.has('clat_hist') && s.clat && this.o.histMsec > 0,
    };
    this.perOp = this.o.avgMsec === 0;
    if (this.perOp) {
      if (this.want.bw || this.want.iops || this.want.clat || this.want.lat) this.opLines = new Lines();
      if (this.want.slat) this.slatLines = new Lines();
    } else {
      for (const k of ['clat', 'slat', 'lat'] as const) if (this.want[k]) this.avg[k] = new AvgLog(this.o.avgMsec, this.o.maxValue);
      this.rateAvg = { bw: new AvgLog(this.o.avgMsec, this.o.maxValue, SLACK_MS), iops: new AvgLog(this.o.avgMsec, this.o.maxValue, SLACK_MS) };
    }
    let base = 0;
    if (this.o.alternateEpoch) base = this.o.alternateClock === 1 ? Math.floor(Number(process.hrtime.bigint() / 1000000n) - (performance.now() - s.epoch)) : Math.floor(performance.timeOrigin + s.epoch);
    else if (this.o.unixEpoch) base = Math.floor(performance.timeOrigin + s.epoch);
    this.timeBase = base;
  }

  /**
   * One op reaped at `now` (ms, performance.now()): its direction, bytes
   * done, offset, ioprio, and the clat and lat it was recorded with (ns; NaN
   * where not measured).
   */
  op(now: number, dir: number, bytes: number, off: number, ioprio: number, clatNs: number, latNs: number): void {
    const elapsed = Math.floor(now - this.epoch);
    if (this.perOp) {
      const l = this.opLines;
      if (l !== undefined) {
        l.add(elapsed, 0, 0, dir, bytes, off, ioprio);
        this.opClat.push(clatNs);
        this.opLat.push(latNs);
      }
    } else {
      if (this.avg.clat !== undefined) this.avg.clat.sample(elapsed, dir, Math.round(clatNs));
      if (this.avg.lat !== undefined) this.avg.lat.sample(elapsed, dir, Math.round(latNs));
      if (this.want.bw || this.want.iops) this.#rate(elapsed, dir, bytes);
    }
  }

  /** An op's slat, recorded when the kernel took it at `now`. */
  slat(now: number, dir: number, bytes: number, off: number, ioprio: number, slatNs: number): void {
    const elapsed = Math.floor(now - this.epoch);
    if (this.slatLines !== undefined) this.slatLines.add(elapsed, Math.round(slatNs), 0, dir, bytes, off, ioprio);
    else if (this.avg.slat !== undefined) this.avg.slat.sample(elapsed, dir, Math.round(slatNs));
  }

  /** write_hist_log: the clat histogram's buckets since the last line, every log_hist_msec per direction. */
  hist(now: number, dir: number, bytes: number, h: Histogram): void {
    const elapsed = Math.floor(now - this.epoch);
    if (this.histLast[dir] < 0) this.histLast[dir] = elapsed;
    const win = elapsed - this.histLast[dir];
    if (win < this.o.histMsec) return;
    const prev = this.histPrev[dir];
    const diff = new Float64Array(PLAT_NR);
    for (let i = 0; i < PLAT_NR; i++) diff[i] = h.counts[i] - prev[i];
    prev.set(h.counts);
    this.histLines.push({ t: elapsed, dir, bs: bytes, counts: diff });
    this.histLast[dir] = elapsed - (win - this.o.histMsec);
  }

  /** bw and iops windows of log_avg_msec (fio's add_bw_samples/add_iops_samples: KiB/s and IOPS over the window). */
  #rate(elapsed: number, dir: number, bytes: number): void {
    this.rateBytes[dir] += bytes;
    this.rateIos[dir]++;
    const spent = elapsed - this.rateLast;
    if (spent < this.o.avgMsec && this.o.avgMsec - spent > SLACK_MS) return;
    for (let d = 0; d < 3; d++) {
      const b = this.rateBytes[d];
      if (!b && !this.rateIos[d]) continue;
      if (spent > 0) {
        // fio's __add_samples: a rate since the last sample, averaged into the log's window (whose line has no bs).
        this.rateAvg!.bw.sample(elapsed, d, Math.floor(Math.floor((b * 1000) / spent) / 1024));
        this.rateAvg!.iops.sample(elapsed, d, Math.floor((this.rateIos[d] * 1000) / spent));
      }
      this.rateBytes[d] = 0;
      this.rateIos[d] = 0;
    }
    this.rateLast = elapsed;
  }

  /** The job ended at `now`: the open latency windows are closed (fio's finalize_logs) and every file written. */
  finish(now: number): void {
    const elapsed = Math.floor(now - this.epoch);
    // (not the bw and iops windows: fio's finalize_logs leaves a log_avg_msec bw/iops log as it is)
    for (const a of Object.values(this.avg)) for (let d = 0; d < 3; d++) a.close(elapsed, d);
    for (const [kind, file] of this.files) {
      const text = this.#text(kind);
      if (this.o.perJob) fs.writeFileSync(file, text);
      else fs.appendFileSync(file, text);
    }
  }

  #text(kind: LogKind): string {
    const o = this.o;
    if (kind === 'clat_hist') {
      if (!this.want.clat_hist) return '';
      const stride = 2 ** o.histCoarseness;
      const out: string[] = [];
      for (const l of this.histLines) {
        const sums: number[] = [];
        for (let j = 0; j < PLAT_NR; j += stride) {
          let s = 0;
          for (let k = 0; k < stride && j + k < PLAT_NR; k++) s += l.counts[j + k];
          sums.push(s);
        }
        out.push(`${l.t + this.timeBase}, ${l.dir}, ${l.bs}, ${sums.join(', ')}\n`);
      }
      return out.join('');
    }
    if (!this.want[kind]) return '';
    let lines: Lines | undefined;
    let value: ((i: number) => number) | undefined;
    let both = false;
    if (this.perOp) {
      if (kind === 'slat') lines = this.slatLines;
      else {
        lines = this.opLines;
        const clat = this.opClat.a;
        const lat = this.opLat.a;
        const bs = lines!.bs.a;
        // fio's per-op bw: the op's bytes over its clat (bytes * 10^6 / ns).
        value =
          kind === 'clat'
            ? (i) => Math.round(clat[i])
            : kind === 'lat'
              ? (i) => Math.round(lat[i])
              : kind === 'bw'
                ? (i) => (clat[i] > 0 ? Math.floor((bs[i] * 1e6) / Math.round(clat[i])) : 0)
                : () => 1;
      }
    } else {
      // fio prints the window's max beside its mean on every averaged log (log_max_value=2)
      lines = kind === 'bw' || kind === 'iops' ? this.rateAvg?.[kind].lines : this.avg[kind]?.lines;
      both = o.maxValue === 2;
    }
    if (!lines) return '';
    const n = lines.time.n;
    const t = lines.time.a;
    const v = lines.val.a;
    const v2 = lines.val2.a;
    const dir = lines.dir.a;
    const bs = lines.bs.a;
    const off = lines.off.a;
    const prio = lines.prio.a;
    const base = this.timeBase;
    const chunks: string[] = [];
    let buf = '';
    for (let i = 0; i < n; i++) {
      const val = value ? value(i) : v[i];
      const p = o.prio ? `0x${prio[i].toString(16).padStart(4, '0')}` : `${isRt(prio[i])}`;
      buf += `${t[i] + base}, ${val}${both ? `, ${v2[i]}` : ''}, ${dir[i]}, ${bs[i]}${o.offset ? `, ${off[i]}` : ''}, ${p}\n`;
      if (buf.length > 1 << 16) {
        chunks.push(buf);
        buf = '';
      }
    }
    chunks.push(buf);
    return chunks.join('');
  }
}
