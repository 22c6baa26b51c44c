'use strict';
// readFile's rate and CPU per file after a warm-up, in one process: the peers
// cells (bench/peers.js) are fresh 1.5 s processes, whose figure for kaio
// includes its JavaScript's warm-up (see BENCHMARKS.md, "readFile of 64 KiB files").
//   node bench/readfile-warm.js <kaio|node> <dir of files> [warm s = 3] [measured s = 3] [in flight = 64]
//   bun bench/readfile-warm.js node <dir> ...     (Bun's node:fs/promises)
// Prints {"rate": files per second, "cpu": µs of CPU (user + system) per file}.
const fs = require('node:fs');
const path = require('node:path');

const [impl, dir, warmS = '3', measS = '3', inFlight = '64'] = process.argv.slice(2);
if (!dir || (impl !== 'kaio' && impl !== 'node')) {
  console.error('usage: node bench/readfile-warm.js <kaio|node> <dir> [warm s] [measured s] [in flight]');
  process.exit(2);
}
const fsp = impl === 'kaio' ? require(path.join(__dirname, '..', 'dist', 'lib', 'fs', 'promises.js')) : require('node:fs/promises');
const files = fs.readdirSync(dir).map((f) => path.join(dir, f));
let n = 0;
let next = 0;
let stop = false;
let t0;
let u0;
let n0;
async function lane() {
  while (!stop) {
    await fsp.readFile(files[next++ % files.length]);
    n++;
  }
}
setTimeout(() => {
  t0 = process.hrtime.bigint();
  u0 = process.cpuUsage();
  n0 = n;
  setTimeout(() => (stop = true), Number(measS) * 1000);
}, Number(warmS) * 1000);
Promise.all(Array.from({ length: Number(inFlight) }, lane)).then(() => {
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(u0);
  const k = n - n0;
  console.log(JSON.stringify({ rate: k / seconds, cpu: (cpu.user + cpu.system) / k }));
});
