'use strict';
// Quick comparison of the three backends on one workload:
//   node bench/backends.js [--direct] [--ops N] [--qd N] [--bs BYTES]
// Random reads from a 64 MiB file, `qd` ops kept in flight, through
// createContext({ backend }). Prints ops/s and MiB/s per backend.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');
const { createContext } = require('..');

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i < 0 ? dflt : Number(args[i + 1]);
};
const direct = args.includes('--direct');
const total = opt('ops', 50_000);
const qd = opt('qd', 32);
const bs = opt('bs', 4096);
const fileSize = 64 * 1024 * 1024;

async function run(backend, file) {
  let ctx;
  try {
    ctx = createContext({ backend, entries: qd });
  } catch (e) {
    return `${backend.padEnd(10)} unavailable: ${e.code}`;
  }
  const fd = fs.openSync(file, direct ? fs.constants.O_RDONLY | fs.constants.O_DIRECT : 'r');
  const pool = ctx.registerBuffers({ count: qd, size: Math.max(bs, 4096), fallback: true });
  const blocks = fileSize / bs;
  let started = 0;
  const t0 = process.hrtime.bigint();
  async function worker(i) {
    const buf = pool.buffers[i].subarray(0, bs);
    while (started < total) {
      started++;
      await ctx.read(fd, buf, Math.floor(Math.random() * blocks) * bs);
    }
  }
  await Promise.all(Array.from({ length: qd }, (_, i) => worker(i)));
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  fs.closeSync(fd);
  await ctx.close();
  const iops = total / s;
  return `${backend.padEnd(10)} ${Math.round(iops).toString().padStart(8)} ops/s ${((iops * bs) / 1048576).toFixed(1).padStart(8)} MiB/s  (pool: ${pool.pinning})`;
}

(async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-bench-'));
  const file = path.join(dir, 'data');
  try {
    fs.writeFileSync(file, crypto.randomBytes(fileSize));
    console.log(`${total} random ${bs}-byte reads, qd ${qd}, ${direct ? 'O_DIRECT' : 'buffered (page cache)'}, ${os.cpus().length} CPUs`);
    for (const backend of ['io_uring', 'aio', 'threadpool']) console.log(await run(backend, file));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
})();
