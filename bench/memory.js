'use strict';
// 10 million ops through each API; reports heap and RSS growth (after a
// forced GC at both ends). Flat means no per-op leak.
//   node bench/memory.js [--ops=10000000]
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const c = require('./common');

const ops = Number(process.argv.find((a) => a.startsWith('--ops='))?.slice(6) || 1e7);
const file = c.dataFile('bench-1g.dat', 1 << 30);
const kaioBin = path.join(__dirname, '..', 'bin', 'kaio');
const runs = [
  ['batch API, NOP', ['--rw=nop', '--iodepth=128', '--api=batch']],
  ['promise API, NOP', ['--rw=nop', '--iodepth=128', '--api=promise']],
  ['batch API, 4 KiB page-cache read', [`--filename=${file}`, '--size=1g', '--rw=randread', '--iodepth=32', '--api=batch']],
  ['promise API, 4 KiB page-cache read', [`--filename=${file}`, '--size=1g', '--rw=randread', '--iodepth=32', '--api=promise']],
];
const lines = [c.header(`Memory over ${ops.toLocaleString('en')} ops per API`), '| run | ops | seconds | heap growth | RSS growth | heap after | RSS after |', '|---|---|---|---|---|---|---|'];
const kib = (n) => `${n >= 0 ? '+' : ''}${(n / 1024).toFixed(0)} KiB`;
for (const [name, flags] of runs) {
  const r = JSON.parse(execFileSync(process.execPath, [kaioBin, 'bench', ...flags, `--number_ios=${ops}`, '--runtime=600', '--output-format=json'], { encoding: 'utf8' }));
  const m = r.memory;
  lines.push(`| ${name} | ${r.ops} | ${r.seconds.toFixed(1)} | ${kib(m.heapAfter - m.heapBefore)} | ${kib(m.rssAfter - m.rssBefore)} | ${(m.heapAfter / 1048576).toFixed(1)} MiB | ${(m.rssAfter / 1048576).toFixed(1)} MiB |`);
  process.stderr.write(`${name}: done\n`);
}
console.log(lines.join('\n').replace('interleaved rounds', 'rounds (n/a here)'));
