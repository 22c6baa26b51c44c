// fio's terse output, version 3 (--output-format=terse, --minimal): one line
// per reported job, fields separated by ';' in fio's order (stat.c's terse
// writer): version, fio version, name, group, error; for read then write:
// KiB, KiB/s, IOPS, runtime ms, slat, clat (min, max, mean, stdev in usec),
// 20 clat percentiles ("P%=usec", unused ones "0%=0"), lat, bw (min, max,
// share of the group, mean, stdev); cpu (usr%, sys%, ctx, majf, minf); IO
// depths (7); clat distribution in usec (10) and msec (12); each disk's
// name, ios, merges, ticks (read and write), in_queue and util; the
// description when there is one.
import type { Histogram } from './histogram';
import { groupBytesOf, latencyBuckets, reportedJobs, stats, VERSION, type Reported } from './report';
import type { ProgramResult } from './run';

const PCT_SLOTS = 20;

/** printf's %f. */
const f6 = (n: number): string => n.toFixed(6);

function latFields(h: Histogram): string {
  if (!h.count) return ';0;0;0.000000;0.000000';
  return `;${Math.floor(h.min / 1000)};${Math.floor(h.max / 1000)};${f6(h.mean / 1000)};${f6(h.stddev / 1000)}`;
}

function dirFields(r: Reported, k: number, groupBytes: number): string {
  const d = r.dirs[k];
  const ms = Math.round(d.ios ? r.runtimeMs : 0);
  const bw = ms ? Math.floor(Math.floor((1000 * d.bytes) / ms) / 1024) : 0;
  const iops = ms ? Math.floor((1000 * d.ios) / ms) : 0;
  let out = `;${Math.floor(d.bytes / 1024)};${bw};${iops};${ms}`;
  out += latFields(d.slat);
  out += latFields(d.clat);
  const list = r.job.percentileList;
  const h = r.job.latPercentiles ? d.lat : d.clat;
  // fio prints the list with zeros for a direction without samples.
  const vals = h.count ? h.percentiles(list) : list.map(() => 0);
  for (let i = 0; i < PCT_SLOTS; i++) out += i < vals.length ? `;${f6(list[i])}%=${Math.floor(vals[i] / 1000)}` : ';0%=0';
  out += latFields(d.lat);
  if (d.bw.length) {
    const b = stats(d.bw);
    const agg = groupBytes > 0 && r.runtimeMs > 0 ? Math.min(100, (b.mean * 100) / ((groupBytes * 1000) / r.runtimeMs / 1024)) : 100;
    out += `;${Math.round(b.min)};${Math.round(b.max)};${f6(agg)}%;${f6(b.mean)};${f6(b.dev)}`;
  } else out += ';0;0;0.000000%;0.000000;0.000000';
  return out;
}

/** The terse v3 lines of a run, one per reported job. */
export function toTerse(res: ProgramResult): string {
  const disks = new Map<string, ProgramResult['groups'][number]['disks'][number]>();
  for (const g of res.groups) for (const d of g.disks) if (!disks.has(d.name)) disks.set(d.name, d);
  const lines: string[] = [];
  for (const r of reportedJobs(res)) {
    const gb = groupBytesOf(res, r.groupid);
    let line = `3;${VERSION};${r.job.name};${r.groupid};${r.errno}`;
    line += dirFields(r, 0, gb[0]);
    line += dirFields(r, 1, gb[1]);
    line += `;${f6(r.cpu.usr)}%;${f6(r.cpu.sys)}%;${r.cpu.ctx};${r.cpu.majf};${r.cpu.minf}`;
    const total = r.depth.reduce((a, b) => a + b, 0);
    for (const c of r.depth) line += `;${(total ? (c / total) * 100 : 0).toFixed(1)}%`;
    const lb = latencyBuckets(r);
    // fio's "nu" list: the nanosecond buckets fall in the first microsecond one.
    const us = lb.us.slice();
    us[0] += lb.ns.reduce((a, b) => a + b, 0);
    for (const v of us) line += `;${v.toFixed(2)}%`;
    for (const v of lb.ms) line += `;${v.toFixed(2)}%`;
    for (const d of disks.values())
      line += `;${d.name};${d.readIos};${d.writeIos};${d.readMerges};${d.writeMerges};${d.readTicks};${d.writeTicks};${d.inQueue};${d.util.toFixed(2)}%`;
    if (r.job.description) line += `;${r.job.description}`;
    lines.push(line);
  }
  return lines.length ? `${lines.join('\n')}\n` : '';
}
