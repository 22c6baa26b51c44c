'use strict';
// `kaio bench` against fio on the same job: 4 KiB random reads, O_DIRECT,
// one 1 GiB file, time-based; the same fio options on both sides (kaio bench
// takes fio's command line).
//
// 1. Latencies (the default): fio and kaio, io_uring and libaio, at QD 1 and
//    QD 32, every option identical on both sides (fio's defaults included:
//    iodepth_batch_submit=1, iodepth_batch_complete_min/max=1); p50 and p99
//    of slat, clat and lat (slat_percentiles=1, lat_percentiles=1), IOPS.
// 2. IOPS of kaio's engines at QD 32: io_uring (batch and promise API),
//    libaio, pvsync2 (thread pool), node:fs (promises, sync).
// 3. --jobs: the head-to-head jobs of issue 20, fio and kaio bench with io_uring on the same
//    command line: 4 KiB random read at QD 1 and QD 32, random write QD 32, 128 KiB sequential
//    read QD 8, randrw 70/30 QD 32, numjobs=2 random read QD 32 (group_reporting); IOPS and
//    clat p50/p99 of each, and kaio's over fio's.
//   node bench/bench-vs-fio.js [--rounds=3] [--runtime=3] [--lat-only] [--ab] [--jobs [--only=4,6] [--rt] [--fio-thread] [--kaio-b=DIR] [--kaio-b-args=ARGS]]
// --only: with --jobs, only these jobs (1-based, in the table's order). --rt: with --jobs, both
// tools under SCHED_FIFO (chrt -f 50), so that other load on the machine does not preempt them.
// --fio-thread: fio's jobs as threads of one process (--thread), as kaio's are: fio's default
// forks a process per job that calls setsid(), an autogroup (CPU share) of its own per job.
// --kaio-b=DIR: with --jobs, also the kaio build in checkout DIR, a third peer interleaved with the two;
// --kaio-b-args="ARGS": options added to kaio-b's command line (alone: this checkout with them).
// --ab: only the IOPS table, fio and kaio bench with io_uring.
const { execFileSync } = require('node:child_process');
const path = require('node:path');
const c = require('./common');

const file = c.dataFile('bench-1g.dat', 1 << 30);
const job = [`--filename=${file}`, '--size=1g', '--rw=randread', '--bs=4k', '--iodepth=32', '--direct=1'];
const ab = process.argv.includes('--ab');
const latOnly = process.argv.includes('--lat-only');
const kaioBin = path.join(__dirname, '..', 'bin', 'kaio');

/** One run of fio or kaio bench with exactly these options: IOPS and slat/clat/lat p50/p99 in µs. */
function latRun(tool, flags) {
  const args = ['--name=lat', ...flags, '--rw=randread', '--bs=4k', '--direct=1', `--filename=${file}`, '--size=1g', '--time_based',
    `--runtime=${c.settings.runtime}`, '--norandommap', '--randrepeat=0', '--invalidate=0', '--slat_percentiles=1', '--lat_percentiles=1',
    '--output-format=json'];
  const out = tool === 'fio'
    ? execFileSync('fio', args, { encoding: 'utf8', maxBuffer: 1 << 24 })
    : execFileSync(process.execPath, [kaioBin, 'bench', ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  const j = JSON.parse(out.slice(out.indexOf('{'))).jobs[0];
  if (j.error) throw new Error(`${tool} ${flags.join(' ')}: error ${j.error}`);
  const r = j.read;
  const pct = (l, p) => (l.N && l.percentile ? l.percentile[p] / 1000 : undefined);
  const res = { iops: r.iops };
  for (const k of ['slat', 'clat', 'lat']) {
    res[`${k}50`] = pct(r[`${k}_ns`], '50.000000');
    res[`${k}99`] = pct(r[`${k}_ns`], '99.000000');
  }
  return res;
}

const KEYS = ['iops', 'slat50', 'slat99', 'clat50', 'clat99', 'lat50', 'lat99'];

/** Every peer `rounds` times, interleaved; the median of each figure. */
function latRounds(peers) {
  const key = (p) => `${p.qd} ${p.name}`;
  const samples = new Map(peers.map((p) => [key(p), []]));
  for (let r = 0; r < c.settings.rounds; r++) {
    for (let i = 0; i < peers.length; i++) {
      const p = peers[(i + r) % peers.length];
      if (p.skip) continue;
      const res = p.run();
      samples.get(key(p)).push(res);
      process.stderr.write(`round ${r + 1}/${c.settings.rounds} QD ${p.qd} ${p.name}: ${c.fmtOps(res.iops)} IOPS, clat p50 ${res.clat50} µs\n`);
    }
  }
  return peers.map((p) => {
    const s = samples.get(key(p));
    if (!s.length) return { name: p.name, qd: p.qd, missing: p.skip };
    const row = { name: p.name, qd: p.qd };
    for (const k of KEYS) row[k] = s.every((x) => x[k] !== undefined) ? c.median(s.map((x) => x[k])) : undefined;
    return row;
  });
}

function latTable(rows) {
  const fmt = (v) => (v === undefined ? '—' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
  const lines = [
    '### Latency, kaio bench vs fio: 4 KiB random read, O_DIRECT (µs, medians of the rounds)',
    '',
    '| QD | tool, engine | IOPS | slat p50 | slat p99 | clat p50 | clat p99 | lat p50 | lat p99 |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    if (r.missing) {
      lines.push(`| ${r.qd} | ${r.name} | ${r.missing} | | | | | | |`);
      continue;
    }
    lines.push(`| ${r.qd} | ${r.name} | ${c.fmtOps(r.iops)} | ${KEYS.slice(1).map((k) => fmt(r[k])).join(' | ')} |`);
  }
  return lines.join('\n');
}

const headToHead = process.argv.includes('--jobs');
const rtJobs = process.argv.includes('--rt');
const fioThread = process.argv.includes('--fio-thread');
const onlyJobs = (process.argv.find((a) => a.startsWith('--only=')) ?? '').slice(7).split(',').filter(Boolean).map(Number);
// --kaio-b=DIR: with --jobs, a second kaio checkout (built) run as a third peer, interleaved,
// so that two builds are compared in one run.
// --kaio-b-args="A B": extra options for kaio-b (without --kaio-b: this checkout's build), e.g.
// --kaio-b-args=--thread=0 to set kaio's jobs as processes against its threads.
const kaioBArgs = (process.argv.find((a) => a.startsWith('--kaio-b-args=')) ?? '').slice(14).split(' ').filter(Boolean);
const kaioB = (process.argv.find((a) => a.startsWith('--kaio-b=')) ?? '').slice(9) || (kaioBArgs.length ? path.join(__dirname, '..') : '');
const kaioBinOf = { kaio: kaioBin, 'kaio-b': kaioB ? path.resolve(kaioB, 'bin', 'kaio') : '' };

/** One run of `tool` on a head-to-head job: IOPS of every direction, clat p50/p99 (µs) of the first that ran. */
function jobRun(tool, flags) {
  const args = ['--name=h2h', ...flags, '--ioengine=io_uring', '--direct=1', `--filename=${file}`, '--size=1g', '--time_based',
    `--runtime=${c.settings.runtime}`, '--randrepeat=0', '--invalidate=0', '--group_reporting', '--output-format=json'];
  const extra = tool === 'kaio-b' ? kaioBArgs : [];
  const [cmd, argv] = tool === 'fio' ? ['fio', fioThread ? [...args, '--thread'] : args] : [process.execPath, [kaioBinOf[tool], 'bench', ...args, ...extra]];
  const out = rtJobs
    ? execFileSync('chrt', ['-f', '50', cmd, ...argv], { encoding: 'utf8', maxBuffer: 1 << 24 })
    : execFileSync(cmd, argv, { encoding: 'utf8', maxBuffer: 1 << 24 });
  const j = JSON.parse(out.slice(out.indexOf('{'))).jobs[0];
  if (j.error) throw new Error(`${tool} ${flags.join(' ')}: error ${j.error}`);
  const dir = j.read.io_bytes > 0 ? j.read : j.write;
  const pct = (p) => (dir.clat_ns.N && dir.clat_ns.percentile ? dir.clat_ns.percentile[p] / 1000 : undefined);
  return { iops: j.read.iops + j.write.iops, clat50: pct('50.000000'), clat99: pct('99.000000') };
}

if (headToHead) {
  const ALL = [
    ['4 KiB randread QD 1', ['--rw=randread', '--bs=4k', '--iodepth=1']],
    ['4 KiB randread QD 32', ['--rw=randread', '--bs=4k', '--iodepth=32']],
    ['4 KiB randwrite QD 32', ['--rw=randwrite', '--bs=4k', '--iodepth=32']],
    ['128 KiB read QD 8', ['--rw=read', '--bs=128k', '--iodepth=8']],
    ['4 KiB randrw 70/30 QD 32', ['--rw=randrw', '--rwmixread=70', '--bs=4k', '--iodepth=32']],
    ['4 KiB randread QD 32 numjobs=2', ['--rw=randread', '--bs=4k', '--iodepth=32', '--numjobs=2']],
  ];
  const JOBS = onlyJobs.length ? ALL.filter((_, i) => onlyJobs.includes(i + 1)) : ALL;
  const tools = kaioB ? ['fio', 'kaio', 'kaio-b'] : ['fio', 'kaio'];
  const samples = JOBS.map(() => ({ fio: [], kaio: [], 'kaio-b': [] }));
  for (let r = 0; r < c.settings.rounds; r++) {
    JOBS.forEach(([name, flags], i) => {
      const order = tools.map((_, j) => tools[(j + r + i) % tools.length]);
      for (const tool of order) {
        const res = jobRun(tool, flags);
        samples[i][tool].push(res);
        process.stderr.write(`round ${r + 1}/${c.settings.rounds} ${name} ${tool}: ${c.fmtOps(res.iops)} IOPS, clat p50 ${res.clat50} µs p99 ${res.clat99} µs\n`);
      }
    });
  }
  const med = (xs, k) => c.median(xs.map((x) => x[k]));
  const fmt = (v) => (v >= 100 ? v.toFixed(0) : v.toFixed(1));
  const range = (xs) => `${fmt(Math.min(...xs.map((x) => x.clat99)))}-${fmt(Math.max(...xs.map((x) => x.clat99)))}`;
  console.log(c.header('kaio bench vs fio: head-to-head jobs (io_uring, O_DIRECT)'));
  console.log('Both tools: `--ioengine=io_uring --direct=1 --size=1g --filename=.bench-data/bench-1g.dat --time_based ' +
    `--runtime=${c.settings.runtime} --randrepeat=0 --invalidate=0 --group_reporting\` plus the job's options; medians of ${c.settings.rounds} interleaved rounds.\n`);
  if (rtJobs) console.log('Both tools under SCHED_FIFO (chrt -f 50).\n');
  if (fioThread) console.log('fio with --thread (its jobs threads of one process, as kaio\'s).\n');
  if (kaioB) console.log(`kaio-b: the build in ${path.relative(process.cwd(), kaioB) || '.'}${kaioBArgs.length ? `, with ${kaioBArgs.join(' ')}` : ''}.\n`);
  const bHead = kaioB ? ' kaio-b IOPS | kaio-b/fio | kaio-b clat p50 / p99 (µs) |' : '';
  console.log(`| job | fio IOPS | kaio IOPS | kaio/fio | fio clat p50 / p99 (µs) | kaio clat p50 / p99 (µs) | fio p99 range over rounds | kaio p99 range |${bHead}`);
  console.log(`|---|---|---|---|---|---|---|---|${kaioB ? '---|---|---|' : ''}`);
  JOBS.forEach(([name], i) => {
    const f = samples[i].fio;
    const k = samples[i].kaio;
    const b = samples[i]['kaio-b'];
    const bCols = kaioB ? ` ${c.fmtOps(med(b, 'iops'))} | ${(med(b, 'iops') / med(f, 'iops')).toFixed(2)}x | ${fmt(med(b, 'clat50'))} / ${fmt(med(b, 'clat99'))} |` : '';
    console.log(`| ${name} | ${c.fmtOps(med(f, 'iops'))} | ${c.fmtOps(med(k, 'iops'))} | ${(med(k, 'iops') / med(f, 'iops')).toFixed(2)}x | ` +
      `${fmt(med(f, 'clat50'))} / ${fmt(med(f, 'clat99'))} | ${fmt(med(k, 'clat50'))} / ${fmt(med(k, 'clat99'))} | ` +
      `${range(f)} | ${range(k)} |${bCols}`);
  });
  process.exit(0);
}

if (!ab) {
  const latPeers = [];
  for (const qd of [1, 32]) {
    for (const engine of ['io_uring', 'libaio']) {
      const flags = [`--ioengine=${engine}`, `--iodepth=${qd}`];
      latPeers.push({ qd, name: `fio ${engine}`, skip: c.fioVersion ? undefined : c.FIO_MISSING, run: () => latRun('fio', flags) });
      latPeers.push({ qd, name: `kaio bench ${engine}`, run: () => latRun('kaio', flags) });
    }
  }
  const rows = latRounds(latPeers);
  console.log(c.header('kaio bench vs fio: latencies at QD 1 and QD 32'));
  console.log('Job (both tools, identical): `--rw=randread --bs=4k --direct=1 --size=1g --filename=.bench-data/bench-1g.dat --ioengine=E --iodepth=QD ' +
    `--time_based --runtime=${c.settings.runtime} --norandommap --randrepeat=0 --invalidate=0 --slat_percentiles=1 --lat_percentiles=1\`\n`);
  console.log(latTable(rows));
  console.log('');
}

if (!latOnly) {
  const peers = [
    { name: 'fio --ioengine=io_uring', skip: c.fioVersion ? undefined : c.FIO_MISSING, run: () => c.fio(job, { lat: true }) },
    { name: 'fio --ioengine=libaio', skip: c.fioVersion ? undefined : c.FIO_MISSING, run: () => c.fio([...job, '--ioengine=libaio'], { lat: true }) },
    { name: 'kaio bench --ioengine=io_uring (batch API)', run: () => c.kaio([...job, '--ioengine=io_uring'], { lat: true }) },
    { name: 'kaio bench --ioengine=io_uring --api=promise', run: () => c.kaio([...job, '--ioengine=io_uring', '--api=promise'], { lat: true }) },
    { name: 'kaio bench --ioengine=libaio', run: () => c.kaio([...job, '--ioengine=libaio'], { lat: true }) },
    { name: 'kaio bench --ioengine=pvsync2 (thread pool)', run: () => c.kaio([...job, '--ioengine=pvsync2'], { lat: true }) },
    { name: 'kaio bench --ioengine=fs (fs.promises, O_DIRECT)', run: () => c.kaio([...job, '--ioengine=fs'], { lat: true }) },
    { name: 'kaio bench --ioengine=fs-sync (readSync, QD 1)', run: () => c.kaio([...job, '--ioengine=fs-sync'], { lat: true }) },
  ];
  const rows = c.rounds(ab ? [peers[0], peers[2]] : peers);
  console.log(c.header('kaio bench vs fio: 4 KiB random read, O_DIRECT, QD 32'));
  console.log(`Job (both tools): \`${job.join(' ').replace(file, '.bench-data/bench-1g.dat')} --time_based --runtime=N --norandommap --randrepeat=0 --invalidate=0\`\n`);
  console.log(c.table('IOPS', rows, ['fio --ioengine=io_uring']));
}
