// fio's outputs from what the jobs measured: the normal text layout, and the
// json / json+ documents with fio's field names and units (bw in KiB/s,
// latencies in ns, percentiles keyed "99.000000", runtime in ms).
import { Histogram, PLAT_NR, bucketLow, bucketValue } from './histogram';
import type { JobOutcome } from './job';
import { DDIR, type BenchJob } from './options';
import type { DiskStat, GroupResult, Instance, ProgramResult } from './run';
import { humanBytes, humanBytesSI, iopsText } from './run';
import type { SteadyResult } from './steadystate';

export const VERSION: string = (() => {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return `kaio-${(require('../../../package.json') as { version: string }).version}`;
  } catch {
    return 'kaio';
  }
})();

/** A job as reported: one instance, or a group's instances merged (group_reporting). */
export interface Reported {
  job: BenchJob;
  groupid: number;
  jobs: number;
  errno: number;
  errorMessage?: string;
  dirs: Array<{ ios: number; bytes: number; short: number; slat: Histogram; clat: Histogram; lat: Histogram; bw: number[]; iops: number[] }>;
  sync: { ios: number; lat: Histogram };
  runtimeMs: number;
  /**
   * fio's total_run_time: each instance's runtime, summed over a group's
   * instances (job_runtime and the CPU percentages), where runtimeMs and the
   * per-direction runtimes are the longest instance's (fio's runtime[ddir]).
   */
  totalRunMs: number;
  /** Per direction where the job's differ (a verify pass is the reads'). */
  dirMs: number[] | undefined;
  depth: number[];
  submit: number[];
  complete: number[];
  cpu: GroupResult['cpu'];
  notes: string[];
  filenames: string[];
  size: number;
  verified: number;
  /** Wall clock ms when the first instance started its I/O (fio's job_start). */
  jobStart: number;
  /** The first instance's process (fio prints the first job's pid). */
  pid?: number;
  /** fio's latency_depth: the depth latency_target settled on, else iodepth. */
  latencyDepth: number;
  steady?: SteadyResult;
  /** fio's clat_prio: per ioprio value (in first-seen order), a histogram per direction. */
  prios: Map<number, Histogram[]>;
}

function h(d: { counts: Float64Array; count: number; sum: number; sumSq: number; min: number; max: number }): Histogram {
  return Histogram.from({ ...d, counts: Float64Array.from(d.counts) });
}

function fromInstances(insts: Instance[], cpu: GroupResult['cpu']): Reported {
  const first = insts[0];
  const r: Reported = {
    job: first.job,
    groupid: first.groupid,
    jobs: insts.length,
    errno: 0,
    dirs: DDIR.map(() => ({ ios: 0, bytes: 0, short: 0, slat: new Histogram(), clat: new Histogram(), lat: new Histogram(), bw: [], iops: [] })),
    sync: { ios: 0, lat: new Histogram() },
    runtimeMs: 0,
    totalRunMs: 0,
    dirMs: undefined,
    depth: new Array(7).fill(0),
    submit: new Array(7).fill(0),
    complete: new Array(7).fill(0),
    cpu: { usr: cpu.usr * insts.length, sys: cpu.sys * insts.length, ctx: cpu.ctx * insts.length, majf: cpu.majf * insts.length, minf: cpu.minf * insts.length },
    notes: [],
    filenames: [...new Set(insts.map((i) => i.filename).filter(Boolean))],
    size: first.size,
    verified: 0,
    jobStart: 0,
    latencyDepth: first.job.iodepth,
    steady: insts.find((i) => i.steady)?.steady?.result(),
    prios: new Map(),
  };
  const threadCpu: Array<NonNullable<JobOutcome['cpu']> & { ms: number }> = [];
  for (const inst of insts) {
    r.notes.push(...inst.notes);
    const o: JobOutcome | undefined = inst.outcome;
    if (inst.failure) {
      r.errno ||= 5;
      r.errorMessage ??= inst.failure;
    }
    if (!o) continue;
    r.pid ??= o.pid;
    if (o.error) {
      r.errno ||= o.error.errno;
      r.errorMessage ??= o.error.message;
    }
    r.runtimeMs = Math.max(r.runtimeMs, o.runtimeMs);
    r.totalRunMs += o.runtimeMs;
    if (o.jobStart && (!r.jobStart || o.jobStart < r.jobStart)) r.jobStart = o.jobStart;
    if (o.latencyDepth) r.latencyDepth = o.latencyDepth;
    if (o.dirMs) r.dirMs = (r.dirMs ?? [0, 0, 0]).map((v, k) => Math.max(v, o.dirMs![k]));
    if (o.cpu) threadCpu.push({ ...o.cpu, ms: o.runtimeMs });
    r.verified += o.verified;
    o.dirs.forEach((d, k) => {
      const t = r.dirs[k];
      t.ios += d.ios;
      t.bytes += d.bytes;
      t.short += d.short;
      if (d.slat) t.slat.add(h(d.slat));
      t.clat.add(h(d.clat));
      t.lat.add(h(d.lat));
    });
    r.sync.ios += o.sync.ios;
    r.sync.lat.add(h(o.sync.lat));
    for (const p of o.prios ?? []) {
      let l = r.prios.get(p.ioprio);
      if (!l) r.prios.set(p.ioprio, (l = [new Histogram(), new Histogram(), new Histogram()]));
      p.dirs.forEach((d, k) => {
        if (d) l![k].add(h(d));
      });
    }
    for (let i = 0; i < 7; i++) {
      r.depth[i] += o.depth[i];
      r.submit[i] += o.submit[i];
      r.complete[i] += o.complete[i];
    }
  }
  // CPU: each job thread's own (/proc/thread-self), as fio reports its threads'
  // rusage; the process's, shared evenly, where that is not available.
  if (threadCpu.length === insts.length && threadCpu.length) {
    // fio sums the threads' CPU times and their runtimes (sum_thread_stats): the group's share of one CPU over its job-time.
    const ms = threadCpu.reduce((a, c) => a + c.ms, 0) || 1;
    const sum = (k: 'usr' | 'sys' | 'ctx' | 'majf' | 'minf'): number => threadCpu.reduce((a, c) => a + c[k], 0);
    r.cpu = { usr: (sum('usr') * 1e5) / ms, sys: (sum('sys') * 1e5) / ms, ctx: sum('ctx'), majf: sum('majf'), minf: sum('minf') };
  }
  // bw/iops samples: summed across instances window by window (fio's aggregate view).
  for (let k = 0; k < 3; k++) {
    const len = Math.max(0, ...insts.map((i) => i.bwSamples[k].length));
    for (let s = 0; s < len; s++) {
      let bw = 0;
      let io = 0;
      for (const i of insts) {
        bw += i.bwSamples[k][s] ?? 0;
        io += i.iopsSamples[k][s] ?? 0;
      }
      r.dirs[k].bw.push(bw);
      r.dirs[k].iops.push(io);
    }
  }
  return r;
}

export function reportedJobs(res: ProgramResult): Reported[] {
  const out: Reported[] = [];
  for (const g of res.groups) {
    if (g.instances.length && g.instances.every((i) => i.job.groupReporting)) out.push(fromInstances(g.instances, g.cpu));
    else for (const i of g.instances) out.push(fromInstances([i], g.cpu));
  }
  return out;
}

export function stats(list: number[]): { min: number; max: number; mean: number; dev: number } {
  if (!list.length) return { min: 0, max: 0, mean: 0, dev: 0 };
  const mean = list.reduce((a, b) => a + b, 0) / list.length;
  const dev = list.length > 1 ? Math.sqrt(list.reduce((a, b) => a + (b - mean) ** 2, 0) / (list.length - 1)) : 0;
  return { min: Math.min(...list), max: Math.max(...list), mean, dev };
}

function pctKey(p: number): string {
  return p.toFixed(6);
}

function latJson(hist: Histogram, percentiles: number[] | undefined, plus: boolean): Record<string, unknown> {
  const o: Record<string, unknown> = {
    min: hist.count ? Math.round(hist.min) : 0,
    max: hist.count ? Math.round(hist.max) : 0,
    mean: hist.mean,
    stddev: hist.stddev,
    N: hist.count,
  };
  if (percentiles && hist.count) {
    const vals = hist.percentiles(percentiles);
    const p: Record<string, number> = {};
    percentiles.forEach((q, i) => (p[pctKey(q)] = Math.round(vals[i])));
    o.percentile = p;
    if (plus) {
      const bins: Record<string, number> = {};
      for (let i = 0; i < PLAT_NR; i++) if (hist.counts[i]) bins[String(bucketLow(i))] = hist.counts[i];
      o.bins = bins;
    }
  }
  return o;
}

/** A direction's runtime: its own where the job kept one (fio's runtime[ddir]), else the job's. */
function dirMs(r: Reported, k: number): number {
  return r.dirMs?.[k] ?? r.runtimeMs;
}

/** The ioprio values with samples in direction k, when there are two or more (fio prints per-prio stats only then). */
export function priosOf(r: Reported, k: number): Array<[number, Histogram]> {
  const list = [...r.prios].filter(([, l]) => l[k].count > 0).map(([v, l]): [number, Histogram] => [v, l[k]]);
  return list.length >= 2 ? list : [];
}

function dirJson(r: Reported, k: number, plus: boolean, groupBytes: number): Record<string, unknown> {
  const d = r.dirs[k];
  const ms = dirMs(r, k);
  const bwBytes = ms > 0 ? Math.floor((d.bytes * 1000) / ms) : 0;
  const bw = stats(d.bw);
  const iops = stats(d.iops);
  const percentiles = r.job.percentileList;
  return {
    io_bytes: d.bytes,
    io_kbytes: Math.floor(d.bytes / 1024),
    bw_bytes: bwBytes,
    bw: Math.floor(bwBytes / 1024),
    iops: ms > 0 ? (d.ios * 1000) / ms : 0,
    runtime: d.ios ? Math.round(ms) : 0,
    total_ios: d.ios,
    short_ios: d.short,
    drop_ios: 0,
    slat_ns: latJson(d.slat, r.job.slatPercentiles ? percentiles : undefined, plus && r.job.slatPercentiles),
    clat_ns: latJson(d.clat, percentiles, plus),
    lat_ns: latJson(d.lat, r.job.latPercentiles ? percentiles : undefined, plus && r.job.latPercentiles),
    ...(priosOf(r, k).length
      ? {
          prios: priosOf(r, k).map(([v, hist]) => ({
            prioclass: v >>> 13,
            prio: v & 7,
            [r.job.latPercentiles ? 'lat_ns' : 'clat_ns']: latJson(hist, percentiles, plus),
          })),
        }
      : {}),
    bw_min: Math.round(bw.min),
    bw_max: Math.round(bw.max),
    bw_agg: groupBytes > 0 ? (d.bytes / groupBytes) * 100 : 0,
    bw_mean: bw.mean,
    bw_dev: bw.dev,
    bw_samples: d.bw.length,
    iops_min: Math.round(iops.min),
    iops_max: Math.round(iops.max),
    iops_mean: iops.mean,
    iops_stddev: iops.dev,
    iops_samples: d.iops.length,
  };
}

function percentMap(keys: string[], counts: number[]): Record<string, number> {
  const total = counts.reduce((a, b) => a + b, 0);
  const o: Record<string, number> = {};
  keys.forEach((k, i) => (o[k] = total ? Math.round((counts[i] / total) * 10000) / 100 : 0));
  return o;
}

const LAT_NS = [2, 4, 10, 20, 50, 100, 250, 500, 750, 1000];
const LAT_MS = [...LAT_NS, 2000];

/** Completion latency (clat) of every op, in fio's ns / us / ms buckets (percent of all ops), as fio counts them. */
export function latencyBuckets(r: Reported): { ns: number[]; us: number[]; ms: number[] } {
  const ns = new Array<number>(LAT_NS.length).fill(0);
  const us = new Array<number>(LAT_NS.length).fill(0);
  const ms = new Array<number>(LAT_MS.length + 1).fill(0);
  let total = 0;
  for (const d of r.dirs) {
    total += d.clat.count;
    for (let i = 0; i < PLAT_NR; i++) {
      const c = d.clat.counts[i];
      if (!c) continue;
      const v = bucketValue(i);
      if (v <= 1000) ns[LAT_NS.findIndex((b) => v <= b)] += c;
      else if (v <= 1e6) us[LAT_NS.findIndex((b) => v / 1000 <= b)] += c;
      else {
        const j = LAT_MS.findIndex((b) => v / 1e6 <= b);
        ms[j < 0 ? LAT_MS.length : j] += c;
      }
    }
  }
  const pct = (a: number[]): number[] => a.map((c) => (total ? (c / total) * 100 : 0));
  return { ns: pct(ns), us: pct(us), ms: pct(ms) };
}

function jobJson(r: Reported, plus: boolean, groupBytes: number[]): Record<string, unknown> {
  const lb = latencyBuckets(r);
  const keyed = (keys: Array<number | string>, vals: number[]): Record<string, number> => {
    const o: Record<string, number> = {};
    keys.forEach((k, i) => (o[String(k)] = vals[i]));
    return o;
  };
  const secs = r.runtimeMs / 1000;
  return {
    jobname: r.job.name,
    groupid: r.groupid,
    job_start: r.jobStart,
    error: r.errno,
    eta: 0,
    elapsed: Math.max(1, Math.round(secs)),
    'job options': r.job.given,
    read: dirJson(r, 0, plus, groupBytes[0]),
    write: dirJson(r, 1, plus, groupBytes[1]),
    trim: dirJson(r, 2, plus, groupBytes[2]),
    sync: { total_ios: r.sync.ios, lat_ns: latJson(r.sync.lat, r.sync.ios ? r.job.percentileList : undefined, plus) },
    job_runtime: Math.round(r.totalRunMs),
    usr_cpu: r.cpu.usr,
    sys_cpu: r.cpu.sys,
    ctx: r.cpu.ctx,
    majf: r.cpu.majf,
    minf: r.cpu.minf,
    iodepth_level: percentMap(['1', '2', '4', '8', '16', '32', '>=64'], r.depth),
    iodepth_submit: percentMap(['0', '4', '8', '16', '32', '64', '>=64'], r.submit),
    iodepth_complete: percentMap(['0', '4', '8', '16', '32', '64', '>=64'], r.complete),
    latency_ns: keyed(LAT_NS, lb.ns),
    latency_us: keyed(LAT_NS, lb.us),
    latency_ms: keyed([...LAT_MS, '>=2000'], lb.ms),
    latency_depth: r.latencyDepth,
    latency_target: r.job.pace.latencyTarget,
    latency_percentile: r.job.pace.latencyPercentile,
    latency_window: r.job.pace.latencyWindow,
    ...(r.steady ? { steadystate: r.steady } : {}),
    // fio adds the job's description= last, as "desc", when there is one.
    ...(r.job.description ? { desc: r.job.description } : {}),
    kaio: {
      ioengine: r.job.ioengine,
      api: r.job.ioengine === 'io_uring' ? r.job.api : undefined,
      jobs: r.jobs,
      filenames: r.filenames,
      size: r.size,
      verified_blocks: r.verified,
      notes: r.notes,
      error_message: r.errorMessage,
    },
  };
}

export function groupBytesOf(res: ProgramResult, groupid: number): number[] {
  const g = res.groups.find((x) => x.id === groupid);
  const out = [0, 0, 0];
  for (const i of g?.instances ?? []) i.outcome?.dirs.forEach((d, k) => (out[k] += d.bytes));
  return out;
}

function diskJson(d: DiskStat): Record<string, unknown> {
  return {
    name: d.name,
    read_ios: d.readIos,
    write_ios: d.writeIos,
    read_merges: d.readMerges,
    write_merges: d.writeMerges,
    read_ticks: d.readTicks,
    write_ticks: d.writeTicks,
    in_queue: d.inQueue,
    util: d.util,
  };
}

export function toJson(res: ProgramResult, plus: boolean, started: Date, globalOptions: Record<string, string> = {}): Record<string, unknown> {
  const disks = new Map<string, DiskStat>();
  for (const g of res.groups) for (const d of g.disks) if (!disks.has(d.name)) disks.set(d.name, d);
  return {
    'fio version': VERSION,
    timestamp: Math.floor(started.getTime() / 1000),
    timestamp_ms: started.getTime(),
    time: ctime(started),
    ...(Object.keys(globalOptions).length ? { 'global options': globalOptions } : {}),
    jobs: reportedJobs(res).map((r) => jobJson(r, plus, groupBytesOf(res, r.groupid))),
    disk_util: [...disks.values()].map(diskJson),
  };
}

// ── normal text ──────────────────────────────────────────────────────────

/** fio's ctime()-style date: "Sat Nov 28 10:41:53 2026". */
export function ctime(d: Date): string {
  const [wd, mon, day, year, time] = d.toString().split(' ');
  return `${wd} ${mon} ${day} ${time} ${year}`;
}

function f2(n: number): string {
  return n.toFixed(2);
}

/** Scales ns values like fio: nsec, usec once the minimum passes 1000, msec likewise. */
function latLine(label: string, hist: Histogram): string {
  let unit = 'nsec';
  let div = 1;
  if (hist.min >= 1000) {
    unit = 'usec';
    div = 1000;
    if (hist.min / 1000 >= 1000) {
      unit = 'msec';
      div = 1e6;
    }
  }
  const big = (v: number): string => (v >= 1e5 ? `${Math.round(v / 1000)}k` : `${Math.round(v)}`);
  return `${label} (${unit}): min=${big(hist.min / div)}, max=${big(hist.max / div)}, avg=${f2(hist.mean / div).padStart(5)}, stdev=${f2(hist.stddev / div)}`;
}

function percentileBlock(name: string, hist: Histogram, list: number[]): string[] {
  const vals = hist.percentiles(list);
  // nsec unless the values are all large: then usec, or msec.
  let unit = 'nsec';
  let div = 1;
  const lo = Math.min(...vals);
  const hi = Math.max(...vals);
  if (lo > 2e6 && hi > 99999e3) {
    unit = 'msec';
    div = 1e6;
  } else if (lo > 2000 && hi > 99999) {
    unit = 'usec';
    div = 1000;
  }
  const scaled = vals.map((v) => Math.round(v / div));
  const width = Math.max(5, ...scaled.map((v) => String(v).length));
  const cells = list.map((p, i) => `${f2(p).padStart(5)}th=[${String(scaled[i]).padStart(width)}]`);
  const lines = [`    ${name} percentiles (${unit}):`];
  for (let i = 0; i < cells.length; i += 4) lines.push(`     | ${cells.slice(i, i + 4).join(', ')}${i + 4 < cells.length ? ',' : ''}`);
  return lines;
}

function pctText(v: number): string {
  return v > 0 && v < 0.01 ? '0.01%' : `${f2(v)}%`;
}

function jobText(r: Reported, res: ProgramResult, pid: number, when: Date): string[] {
  const lines: string[] = [];
  lines.push(`${r.job.name}: (groupid=${r.groupid}, jobs=${r.jobs}): err=${String(r.errno).padStart(2)}: pid=${pid}: ${ctime(when)}`);
  if (r.job.description) lines.push(`  Description  : [${r.job.description}]`);
  const groupBytes = groupBytesOf(res, r.groupid);
  DDIR.forEach((name, k) => {
    const d = r.dirs[k];
    if (!d.ios) return;
    const secs = dirMs(r, k) / 1000;
    const bw = secs > 0 ? d.bytes / secs : 0;
    lines.push(
      `  ${name}: IOPS=${iopsText(secs > 0 ? d.ios / secs : 0)}, BW=${humanBytes(bw)}/s (${humanBytesSI(bw)}/s)(${humanBytes(d.bytes)}/${Math.round(secs * 1000)}msec)` +
        (k === 1 ? '; 0 zone resets' : ''),
    );
    // As fio: a figure that was not measured (slat on an engine that has
    // none, or disabled by disable_*/gtod_reduce) has no line.
    if (d.slat.count > 0) lines.push(latLine('    slat', d.slat));
    if (d.clat.count > 0) lines.push(latLine('    clat', d.clat));
    if (d.lat.count > 0) lines.push(latLine('     lat', d.lat));
    // fio's clat_prio: per ioprio value ("class/level") when two or more have samples.
    const prios = priosOf(r, k);
    const ptype = r.job.latPercentiles ? 'lat' : 'clat';
    for (const [v, hist] of prios) lines.push(latLine(`    ${ptype} prio ${v >>> 13}/${v & 7}`, hist));
    if (d.slat.count > 0 && r.job.slatPercentiles) lines.push(...percentileBlock('slat', d.slat, r.job.percentileList));
    if (d.clat.count > 0) lines.push(...percentileBlock('clat', d.clat, r.job.percentileList));
    else if (d.lat.count > 0 && r.job.latPercentiles) lines.push(...percentileBlock('lat', d.lat, r.job.percentileList));
    const all = r.job.latPercentiles ? d.lat.count : d.clat.count;
    for (const [v, hist] of prios)
      lines.push(...percentileBlock(`${ptype} prio ${v >>> 13}/${v & 7} (${f2((hist.count / all) * 100)}% of IOs)`, hist, r.job.percentileList));
    const b = stats(d.bw);
    const io = stats(d.iops);
    const per = groupBytes[k] ? (d.bytes / groupBytes[k]) * 100 : 0;
    // Like fio, no bw/iops lines without samples (a run shorter than one 500 ms window).
    if (d.bw.length) {
      lines.push(`   bw (  KiB/s): min=${Math.round(b.min)}, max=${Math.round(b.max)}, per=${f2(per)}%, avg=${f2(b.mean)}, stdev=${f2(b.dev)}, samples=${d.bw.length}`);
      lines.push(`   iops        : min=${String(Math.round(io.min)).padStart(5)}, max=${String(Math.round(io.max)).padStart(5)}, avg=${f2(io.mean)}, stdev=${f2(io.dev)}, samples=${d.iops.length}`);
    }
  });
  if (r.sync.ios) {
    lines.push(`  fsync/fdatasync/sync_file_range:`);
    lines.push(`    sync (${'nsec'}): min=${Math.round(r.sync.lat.min)}, max=${Math.round(r.sync.lat.max)}, avg=${f2(r.sync.lat.mean)}, stdev=${f2(r.sync.lat.stddev)}`);
  }
  const lb = latencyBuckets(r);
  const distLines = (unit: string, keys: Array<number | string>, vals: number[]): void => {
    const cells = keys.map((k, i) => [k, vals[i]] as const).filter(([, v]) => v > 0).map(([k, v]) => `${k}=${pctText(v)}`);
    for (let i = 0; i < cells.length; i += 5) lines.push(`  lat (${unit})   : ${cells.slice(i, i + 5).join(', ')}`);
  };
  distLines('nsec', LAT_NS, lb.ns);
  distLines('usec', LAT_NS, lb.us);
  distLines('msec', [...LAT_MS, '>=2000'], lb.ms);
  lines.push(`  cpu          : usr=${f2(r.cpu.usr)}%, sys=${f2(r.cpu.sys)}%, ctx=${r.cpu.ctx}, majf=${r.cpu.majf}, minf=${r.cpu.minf}`);
  const pm = (keys: string[], counts: number[]): string => {
    const m = percentMap(keys, counts);
    return keys.map((k) => `${k}=${m[k].toFixed(1)}%`).join(', ');
  };
  lines.push(`  IO depths    : ${pm(['1', '2', '4', '8', '16', '32', '>=64'], r.depth)}`);
  lines.push(`     submit    : ${pm(['0', '4', '8', '16', '32', '64', '>=64'], r.submit)}`);
  lines.push(`     complete  : ${pm(['0', '4', '8', '16', '32', '64', '>=64'], r.complete)}`);
  lines.push(
    `     issued rwts: total=${r.dirs.map((d) => d.ios).join(',')},0 short=${r.dirs.map((d) => d.short).join(',')},0 dropped=0,0,0,0`,
  );
  const p = r.job.pace;
  lines.push(`     latency   : target=${p.latencyTarget ? scaledNs(p.latencyTarget) : '0'}, window=${p.latencyWindow ? scaledNs(p.latencyWindow * 1000) : '0'}, percentile=${f2(p.latencyPercentile)}%, depth=${r.latencyDepth}`);
  if (r.steady) {
    // fio's show_ss_normal line
    const s = r.steady;
    const pct = s.ss.endsWith('%');
    const kind = s.ss.startsWith('iops') ? 'iops' : 'bw';
    const slope = s.ss.includes('_slope');
    lines.push(
      `  steadystate  : attained=${s.attained ? 'yes' : 'no'}, bw=${humanBytes(s.data.bw_mean)}/s (${humanBytesSI(s.data.bw_mean)}/s), iops=${iopsText(s.data.iops_mean)}, ${kind}${slope ? ' slope' : ' mean dev'}=${parseFloat(s.criterion).toFixed(3)}${pct ? '%' : ''}`,
    );
  }
  if (r.verified) lines.push(`     verify    : ${r.verified} blocks checked (${r.job.verify})`);
  return lines;
}

/** fio's scale_down_ns: 500.00msec style. */
function scaledNs(ns: number): string {
  if (ns >= 1e9) return `${f2(ns / 1e9)}sec`;
  if (ns >= 1e6) return `${f2(ns / 1e6)}msec`;
  if (ns >= 1e3) return `${f2(ns / 1e3)}usec`;
  return `${f2(ns)}nsec`;
}

export function toText(res: ProgramResult, started: Date): string {
  const out: string[] = [];
  const reported = reportedJobs(res);
  const byGroup = new Map<number, Reported[]>();
  for (const r of reported) byGroup.set(r.groupid, [...(byGroup.get(r.groupid) ?? []), r]);
  for (const g of res.groups) {
    for (const r of byGroup.get(g.id) ?? []) {
      out.push('');
      out.push(...jobText(r, res, r.pid ?? process.pid, started));
    }
  }
  for (const g of res.groups) {
    out.push('');
    out.push(`Run status group ${g.id} (all jobs):`);
    DDIR.forEach((name, k) => {
      const per = g.instances.filter((i) => i.outcome && i.outcome.dirs[k].ios > 0);
      if (!per.length) return;
      const bytes = per.reduce((a, i) => a + i.outcome!.dirs[k].bytes, 0);
      const msOf = (o: JobOutcome): number => o.dirMs?.[k] ?? o.runtimeMs;
      const runs = per.map((i) => Math.round(msOf(i.outcome!)));
      const rates = per.map((i) => (msOf(i.outcome!) > 0 ? (i.outcome!.dirs[k].bytes * 1000) / msOf(i.outcome!) : 0));
      const maxRun = Math.max(...runs);
      const agg = maxRun > 0 ? (bytes * 1000) / maxRun : 0;
      const lo = Math.min(...rates);
      const hi = Math.max(...rates);
      out.push(
        `${name.toUpperCase().padStart(7)}: bw=${humanBytes(agg)}/s (${humanBytesSI(agg)}/s), ` +
          `${humanBytes(lo)}/s-${humanBytes(hi)}/s (${humanBytesSI(lo)}/s-${humanBytesSI(hi)}/s), ` +
          `io=${humanBytes(bytes)} (${humanBytesSI(bytes)}), run=${Math.min(...runs)}-${maxRun}msec`,
      );
    });
  }
  const disks = res.groups.flatMap((g) => g.disks);
  if (disks.length) {
    out.push('');
    out.push('Disk stats (read/write):');
    for (const d of disks) {
      out.push(
        `  ${d.name}: ios=${d.readIos}/${d.writeIos}, merge=${d.readMerges}/${d.writeMerges}, ticks=${d.readTicks}/${d.writeTicks}, in_queue=${d.inQueue}, util=${f2(d.util)}%`,
      );
    }
  }
  return `${out.join('\n')}\n`;
}

/** fio's first lines: each job's description, the version, how many threads start. */
export function headerText(jobs: BenchJob[]): string {
  const lines: string[] = [];
  let g = -1;
  let threads = 0;
  let procs = 0;
  for (const job of jobs) {
    if (g < 0 || job.stonewall) g++;
    // A job of a flow runs as threads whatever thread says (run.ts: its counters are shared memory).
    if (job.thread || job.pace.flow > 0) threads += job.numjobs;
    else procs += job.numjobs;
    const bs = job.bs
      .map((b, i) => {
        const sizes = job.bssplit[i].length ? job.bssplit[i].map(([x]) => x) : [b];
        return `(${'RWT'[i]}) ${Math.min(...sizes)}B-${Math.max(...sizes)}B`;
      })
      .join(', ');
    lines.push(
      `${job.name}: (g=${g}): rw=${job.rw}, bs=${bs}, ioengine=${job.ioengine}${job.ioengine === 'io_uring' ? `(${job.api})` : ''}, iodepth=${job.iodepth}`,
    );
    if (job.numjobs > 1) lines.push('...');
  }
  lines.push(VERSION);
  // fio's wording: "Starting 2 threads", "Starting 1 thread and 2 processes".
  const parts: string[] = [];
  if (threads) parts.push(`${threads} thread${threads > 1 ? 's' : ''}`);
  if (procs) parts.push(`${procs} process${procs > 1 ? 'es' : ''}`);
  lines.push(`Starting ${parts.join(' and ')}`);
  return `${lines.join('\n')}\n`;
}
