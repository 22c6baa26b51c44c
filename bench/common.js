'use strict';
// Shared by the comparison scripts: runs each peer in a fresh process on the
// same file, interleaved round by round, and prints medians with ratios.
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');
const dataDir = path.join(root, '.bench-data');
const kaioBin = path.join(root, 'bin', 'kaio');

function arg(name, dflt) {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : dflt;
}

const settings = {
  rounds: Number(arg('rounds', process.env.KAIO_BENCH_ROUNDS || 3)),
  runtime: Number(arg('runtime', process.env.KAIO_BENCH_RUNTIME || 3)),
};

/** A data file of `size` bytes under .bench-data/, written with real data once. */
function dataFile(name, size) {
  const { prepareFile } = require('../dist/lib/bench/target.js');
  const p = path.join(dataDir, name);
  prepareFile(p, size);
  return p;
}

/** Reads the whole file once so page-cache benchmarks start warm. */
function warm(p) {
  const fd = fs.openSync(p, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let pos = 0;
  while (fs.readSync(fd, buf, 0, buf.length, pos) > 0) pos += buf.length;
  fs.closeSync(fd);
}

function findFio() {
  const r = spawnSync('fio', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

const fioVersion = findFio();
const tIoUring = process.env.KAIO_T_IO_URING && fs.existsSync(process.env.KAIO_T_IO_URING) ? process.env.KAIO_T_IO_URING : undefined;

/**
 * Runs `kaio bench` with flags, time-based like the fio peer (and, like it,
 * no random map, a random seed, no cache drop); returns { iops, bw (MiB/s), lat }
 * from its fio-shaped JSON.
 */
function kaio(flags, { lat = false } = {}) {
  // Throughput runs time no op (fio's gtod_reduce, given to fio as well):
  // t/io_uring times none either, and per-op clocks and histograms cost
  // more than a NOP. Latency runs time every op, on both sides.
  const out = execFileSync(process.execPath, [kaioBin, 'bench', '--name=kaio-peer', '--time_based', `--runtime=${settings.runtime}`,
    '--norandommap', '--randrepeat=0', '--invalidate=0', ...(lat ? ['--lat_percentiles=1'] : ['--gtod_reduce=1']),
    // kaio's own batching (every op started in a tick, or one batch loop
    // turn, in one io_uring_enter) unless a row asks for fio's per-op default.
    ...(flags.some((f) => f.startsWith('--iodepth_batch_submit')) ? [] : ['--iodepth_batch_submit=0']),
    ...flags, '--output-format=json'], {
    encoding: 'utf8',
    maxBuffer: 1 << 24,
  });
  const job = JSON.parse(out).jobs[0];
  if (job.error) throw new Error(`kaio bench ${flags.join(' ')}: ${job.kaio.error_message}`);
  const io = job.write.total_ios > job.read.total_ios ? job.write : job.read;
  const pct = io.lat_ns && io.lat_ns.percentile;
  return {
    iops: io.iops,
    bw: io.bw_bytes / 1048576,
    lat: pct ? { p50: pct['50.000000'] / 1000, p99: pct['99.000000'] / 1000, mean: io.lat_ns.mean / 1000 } : undefined,
    notes: job.kaio.notes,
    cpu: { user: job.usr_cpu, sys: job.sys_cpu },
    // CPU time (user + system, every thread) per op: what a busy shared
    // machine changes far less than it changes the rate.
    cpuus: io.iops ? ((job.usr_cpu + job.sys_cpu) / 100 / io.iops) * 1e6 : undefined,
  };
}

/**
 * Runs fio (io_uring engine) with flags; returns { iops, bw, lat } or
 * undefined when fio is missing. Total-latency percentiles (submit to
 * completion, like kaio's) only with lat: they cost fio extra clock reads.
 * invalidate=0: fio would otherwise drop the file from the page cache first.
 */
function fio(flags, { lat = false } = {}) {
  if (!fioVersion) return undefined;
  const out = execFileSync(
    'fio',
    ['--name=kaio-peer', '--ioengine=io_uring', '--time_based', `--runtime=${settings.runtime}`, '--norandommap', '--randrepeat=0',
      '--invalidate=0', ...(lat ? ['--lat_percentiles=1'] : ['--gtod_reduce=1']), '--output-format=json', ...flags],
    { encoding: 'utf8', maxBuffer: 1 << 24 },
  );
  const job = JSON.parse(out.slice(out.indexOf('{'))).jobs[0];
  const io = job.read.io_bytes > 0 ? job.read : job.write;
  const pct = lat && io.lat_ns && io.lat_ns.percentile;
  const seconds = job.job_runtime / 1000;
  return {
    iops: io.iops,
    cpuus: io.total_ios ? (((job.usr_cpu + job.sys_cpu) / 100) * seconds / io.total_ios) * 1e6 : undefined,
    bw: io.bw_bytes / 1048576,
    lat: pct ? { p50: pct['50.000000'] / 1000, p99: pct['99.000000'] / 1000, mean: io.lat_ns.mean / 1000 } : undefined,
  };
}

/** Runs Axboe's t/io_uring (KAIO_T_IO_URING) with flags; median of its per-second IOPS lines. */
function tio(flags, file) {
  if (!tIoUring) return undefined;
  const cpu0 = childCpuSeconds();
  const t0 = process.hrtime.bigint();
  const r = spawnSync(tIoUring, [...flags, `-r${settings.runtime + 1}`, ...(file ? [file] : [])], { encoding: 'utf8' });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = childCpuSeconds() - cpu0;
  const per = [...r.stdout.matchAll(/^IOPS=([\d.]+)([KM]?)/gm)].map((m) => Number(m[1]) * (m[2] === 'M' ? 1e6 : m[2] === 'K' ? 1e3 : 1));
  if (!per.length) throw new Error(`t/io_uring ${flags.join(' ')}: no IOPS lines\n${r.stdout}\n${r.stderr}`);
  const steady = per.length > 2 ? per.slice(1) : per;
  // It prints the rate once a second but not for the last second: its ops
  // are about the mean rate times the time it ran.
  const ops = (per.reduce((a, b) => a + b, 0) / per.length) * wall;
  return { iops: median(steady), bw: undefined, cpuus: cpu > 0 ? (cpu / ops) * 1e6 : undefined };
}

/** CPU seconds (user + system) of this process's waited-for children so far (/proc/self/stat). */
function childCpuSeconds() {
  try {
    const stat = fs.readFileSync('/proc/self/stat', 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // Fields 16 and 17 (cutime, cstime), counted from after the command name.
    return (Number(f[13]) + Number(f[14])) / 100;
  } catch {
    return 0;
  }
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Runs every peer `rounds` times, interleaved (peer order rotates each
 * round), and returns rows with the median of each measure.
 * peer: { name, run: () => result | undefined, missing?: string }
 */
function rounds(peers) {
  const samples = new Map(peers.map((p) => [p.name, []]));
  for (let r = 0; r < settings.rounds; r++) {
    const order = peers.map((_, i) => peers[(i + r) % peers.length]);
    for (const p of order) {
      if (p.skip) continue;
      const res = p.run();
      if (res) samples.get(p.name).push(res);
      process.stderr.write(`round ${r + 1}/${settings.rounds} ${p.name}: ${res ? fmtOps(res.iops) : 'n/a'}\n`);
    }
  }
  return peers.map((p) => {
    const s = samples.get(p.name);
    if (!s.length) return { name: p.name, missing: p.skip || p.missing || 'not available' };
    const pick = (f) => (s.every((x) => f(x) !== undefined) ? median(s.map(f)) : undefined);
    return {
      name: p.name,
      iops: pick((x) => x.iops),
      bw: pick((x) => x.bw),
      p50: pick((x) => x.lat && x.lat.p50),
      p99: pick((x) => x.lat && x.lat.p99),
      cpuus: pick((x) => x.cpuus),
      all: s.map((x) => x.iops),
      rawAll: s,
      notes: [...new Set(s.flatMap((x) => x.notes || []))],
      memory: s[s.length - 1].memory,
    };
  });
}

function fmtOps(n) {
  if (n === undefined) return '';
  if (n >= 1e6) return `${(n / 1e6).toPrecision(3)}M`;
  if (n >= 1e3) return `${(n / 1e3).toPrecision(3)}k`;
  return n.toFixed(0);
}

/**
 * The median over rounds of row/ref measured in the same round (the machine
 * drifts between rounds, so pairs are fairer than a ratio of medians).
 */
function pairedRatio(r, ref) {
  if (r.all.length !== ref.all.length) return (r.iops / ref.iops).toFixed(2);
  return median(r.all.map((x, i) => x / ref.all[i])).toFixed(2);
}

/** The median over rounds of row's CPU per op over ref's, paired by round (below 1: row uses less CPU per op). */
function pairedCpu(r, ref) {
  const a = r.rawAll.map((x) => x.cpuus);
  const b = ref.rawAll.map((x) => x.cpuus);
  if (a.length !== b.length || a.some((x) => x === undefined) || b.some((x) => x === undefined)) return (r.cpuus / ref.cpuus).toFixed(2);
  return median(a.map((x, i) => x / b[i])).toFixed(2);
}

/** Prints a markdown table: each row's median and its ratio (paired by round) to each reference row. */
function table(title, rows, refs, { latency = false } = {}) {
  const byName = new Map(rows.map((r) => [r.name, r]));
  const head = ['peer', latency ? 'p50 µs' : 'IOPS (median)', latency ? 'p99 µs' : 'MiB/s'];
  for (const ref of refs) head.push(`× ${ref}`);
  head.push('CPU µs/op', `CPU/op ${refs[0] ? `÷ ${refs[0]}'s` : ''}`.trim());
  head.push('rounds');
  const lines = [`### ${title}`, '', `| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`];
  for (const r of rows) {
    if (r.missing) {
      lines.push(`| ${r.name} | ${r.missing} |${' |'.repeat(head.length - 2)}`);
      continue;
    }
    const cells = [r.name];
    if (latency) cells.push(r.p50 !== undefined ? r.p50.toFixed(1) : '', r.p99 !== undefined ? r.p99.toFixed(1) : '');
    else cells.push(fmtOps(r.iops), r.bw !== undefined ? r.bw.toFixed(0) : '');
    for (const refName of refs) {
      const ref = byName.get(refName);
      if (!ref || ref.missing) cells.push('—');
      else if (latency) cells.push(`${(r.p50 / ref.p50).toFixed(2)} / ${(r.p99 / ref.p99).toFixed(2)}`);
      else cells.push(pairedRatio(r, ref));
    }
    cells.push(r.cpuus !== undefined ? r.cpuus.toPrecision(3) : '');
    const ref0 = refs[0] && byName.get(refs[0]);
    cells.push(r.cpuus !== undefined && ref0 && !ref0.missing && ref0.cpuus !== undefined ? pairedCpu(r, ref0) : '—');
    cells.push(r.all.map(fmtOps).join(', '));
    lines.push(`| ${cells.join(' | ')} |`);
  }
  const notes = rows.flatMap((r) => (r.notes || []).map((n) => `${r.name}: ${n}`));
  if (notes.length) lines.push('', ...notes.map((n) => `- ${n}`));
  return lines.join('\n');
}

function header(what) {
  const cpu = os.cpus()[0];
  return [
    `## ${what}`,
    '',
    `${new Date().toISOString()} · Linux ${os.release()} · node ${process.version} · ${os.cpus().length}× ${cpu ? cpu.model : '?'} · ` +
      `${fioVersion || 'fio not installed'} · t/io_uring ${tIoUring ? 'at ' + tIoUring : 'not available (set KAIO_T_IO_URING)'} · ` +
      `${settings.rounds} interleaved rounds × ${settings.runtime}s, medians`,
    '',
  ].join('\n');
}

const FIO_MISSING = 'fio not installed';
const TIO_MISSING = 't/io_uring not available (set KAIO_T_IO_URING=/path/to/fio/t/io_uring)';

module.exports = { settings, dataFile, warm, kaio, fio, tio, rounds, table, header, fioVersion, tIoUring, FIO_MISSING, TIO_MISSING, fmtOps, median };
