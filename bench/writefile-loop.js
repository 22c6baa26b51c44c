'use strict';
// N writeFiles of 4 KiB over bench/peers.js's 512 existing files, 32 in flight, for callgrind:
//   valgrind --tool=callgrind node bench/writefile-loop.js N [inplace|default]
// or (new DIR) to N new files in DIR, a directory made for the run (peers' writefile-new):
//   valgrind --tool=callgrind node bench/writefile-loop.js N new DIR
// (instructions per writeFile: the difference of two N, divided by their difference).
const path = require('node:path');
const kaio = require(process.env.KAIO_PATH || path.join(__dirname, '..'));
const N = Number(process.argv[2]);
const mode = process.argv[3] || 'inplace';
const opts = mode === 'inplace' ? { inPlace: true } : undefined;
const dir = mode === 'new' ? process.argv[4] : path.join(__dirname, '..', '.bench-data', 'peers-data', 'existing-4k');
const files = mode === 'new' ? Array.from({ length: N }, (_, i) => path.join(dir, `n${i}`)) : Array.from({ length: 512 }, (_, i) => path.join(dir, `f${i}`));
const data = Buffer.alloc(4096, 0x61);
let next = 0;
let done = 0;
(async () => {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < N) await kaio.writeFile(files[next++ % files.length], data, opts).then(() => done++);
  }));
  const c = process.cpuUsage(c0);
  const s = (performance.now() - t0) / 1000;
  console.log(JSON.stringify({ done, perSec: Math.round(done / s), userUs: c.user / done, sysUs: c.system / done }));
})();
