'use strict';
// 10 million ops through each API; reports heap and RSS growth. Each API
// runs in a fresh process: half as many ops warm up (V8 grows its young
// generation to its maximum, about 32 MiB of heapTotal, and the slot and
// keep tables reach their working size), then GC and a snapshot, then 10
// million more ops, GC and a second snapshot. A leak of even one byte per op
// would show as ~10 MB.
//   node bench/memory.js [--ops=10000000]
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const c = require('./common');

const ops = Number(process.argv.find((a) => a.startsWith('--ops='))?.slice(6) || 1e7);

if (process.argv[2] === '--child') {
  // The job runs right here (not in a worker thread as `kaio bench` runs it), so this heap is its heap.
  const { runJobInstance } = require('../dist/lib/bench/job.js');
  const { parseCommandLine } = require('../dist/lib/bench/options.js');
  const flags = JSON.parse(process.argv[3]);
  const n = Number(process.argv[4]);
  const run = (ios) => {
    const job = parseCommandLine(['--name=memory', '--norandommap', ...flags, `--number_ios=${ios}`], () => '').jobs[0];
    return runJobInstance({
      job,
      jobnum: 0,
      filename: job.filename,
      size: job.size || 1 << 30,
      blockDevice: false,
      progress: new SharedArrayBuffer(64),
      stop: new SharedArrayBuffer(4),
    });
  };
  (async () => {
    await run(Math.max(1, Math.floor(n / 2)));
    global.gc();
    const m0 = process.memoryUsage();
    const r = await run(n);
    global.gc();
    const m1 = process.memoryUsage();
    process.stdout.write(JSON.stringify({ ops: r.dirs[0].ios + r.dirs[1].ios, seconds: r.runtimeMs / 1000, m0, m1 }));
  })();
  return;
}

const file = c.dataFile('bench-1g.dat', 1 << 30);
c.warm(file);
const runs = [
  ['batch API, NOP', ['--rw=nop', '--iodepth=128', '--api=batch']],
  ['promise API, NOP', ['--rw=nop', '--iodepth=128', '--api=promise']],
  ['batch API, 4 KiB page-cache read', [`--filename=${file}`, '--size=1g', '--rw=randread', '--iodepth=32', '--api=batch']],
  ['promise API, 4 KiB page-cache read', [`--filename=${file}`, '--size=1g', '--rw=randread', '--iodepth=32', '--api=promise']],
  // Registered buffers and files: the staged buffer-index path.
  ['batch API, 4 KiB read, fixed buffers + files', [`--filename=${file}`, '--size=1g', '--rw=randread', '--iodepth=32', '--api=batch', '--fixedbufs', '--registerfiles']],
  ['promise API, 4 KiB read, fixed buffers + files', [`--filename=${file}`, '--size=1g', '--rw=randread', '--iodepth=32', '--api=promise', '--fixedbufs', '--registerfiles']],
];
const kib = (n) => `${n >= 0 ? '+' : ''}${(n / 1024).toFixed(0)} KiB`;
const lines = [
  c.header(`Memory: ${ops.toLocaleString('en')} ops per API after a warm-up of half as many`).replace(/ · \d+ interleaved rounds.*$/m, ''),
  '| run | ops | seconds | heapUsed growth | heapTotal growth | RSS growth | heapUsed after | RSS after |',
  '|---|---|---|---|---|---|---|---|',
];
for (const [name, flags] of runs) {
  const out = execFileSync(process.execPath, ['--expose-gc', __filename, '--child', JSON.stringify(flags), String(ops)], { encoding: 'utf8' });
  const { ops: n, seconds, m0, m1 } = JSON.parse(out);
  lines.push(`| ${name} | ${n.toLocaleString('en')} | ${seconds.toFixed(1)} | ${kib(m1.heapUsed - m0.heapUsed)} | ${kib(m1.heapTotal - m0.heapTotal)} | ${kib(m1.rss - m0.rss)} | ${(m1.heapUsed / 1048576).toFixed(1)} MiB | ${(m1.rss / 1048576).toFixed(1)} MiB |`);
  process.stderr.write(`${name}: done\n`);
}
console.log(lines.join('\n'));
