'use strict';
// CPU per stat in one process: node:fs/promises and/or kaio/fs/promises stat
// 10,000 cached files, 64 in flight, one warm-up pass then PASSES (default 5)
// interleaved passes; medians of the rate, user and system CPU per stat
// (process.resourceUsage(), io-wq and thread-pool threads included) and
// context switches per stat.
//   node bench/stat-cpu.js [both|node|kaio] [DIR]
// KAIO_DIST=path/to/dist/lib/fs/promises.js compares another build;
// UV_THREADPOOL_SIZE sets node's pool. For callgrind, instructions per stat
// by difference: PASSES=1 and PASSES=3, kaio only, (I3 - I1) / 20,000.
const fs = require('node:fs');
const path = require('node:path');

const who = process.argv[2] || 'both';
const dir = path.resolve(process.argv[3] || path.join(__dirname, '..', '.bench-data', 'stat-cpu'));
const N = 10000;
const QD = 64;
const PASSES = Number(process.env.PASSES) || 5;
fs.mkdirSync(dir, { recursive: true });
const names = [];
for (let i = 0; i < N; i++) {
  const p = path.join(dir, `f${i}`);
  if (!fs.existsSync(p)) fs.writeFileSync(p, 'x');
  names.push(p);
}
const kaio = require(process.env.KAIO_DIST || '../dist/lib/fs/promises.js');
const nodefs = require('node:fs/promises');

async function pass(fsp) {
  let next = 0;
  const worker = async () => {
    while (next < N) await fsp.stat(names[next++]);
  };
  await Promise.all(Array.from({ length: QD }, worker));
}

(async () => {
  const sides = who === 'both' ? [['node', nodefs], ['kaio', kaio]] : [[who, who === 'kaio' ? kaio : nodefs]];
  for (const [, f] of sides) await pass(f);
  const res = {};
  for (let r = 0; r < PASSES; r++) {
    for (const [n, f] of sides) {
      const ru0 = process.resourceUsage();
      const t0 = process.hrtime.bigint();
      await pass(f);
      const ns = Number(process.hrtime.bigint() - t0);
      const ru = process.resourceUsage();
      (res[n] ??= []).push({
        rate: (N / ns) * 1e9,
        u: (ru.userCPUTime - ru0.userCPUTime) / N,
        s: (ru.systemCPUTime - ru0.systemCPUTime) / N,
        vcs: (ru.voluntaryContextSwitches - ru0.voluntaryContextSwitches) / N,
      });
    }
  }
  const med = (a) => a.slice().sort((x, y) => x - y)[a.length >> 1];
  for (const [n, a] of Object.entries(res)) {
    console.log(`${n}: ${med(a.map((x) => x.rate)).toFixed(0)} stats/s; CPU µs per stat ${med(a.map((x) => x.u + x.s)).toFixed(2)} (user ${med(a.map((x) => x.u)).toFixed(2)}, system ${med(a.map((x) => x.s)).toFixed(2)}); voluntary context switches per stat ${med(a.map((x) => x.vcs)).toFixed(3)}`);
  }
  process.exit(0);
})();
