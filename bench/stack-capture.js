'use strict';
// What caller frames on errors cost: kaio's FileHandle re-captures a kernel
// error's stack in the catch of the async method that awaited the op, so the
// success path captures nothing. This compares that with capturing a stack
// at every call (the other way to get the caller's frames), and times the
// error path.
//   node bench/stack-capture.js
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const kaio = require('..');

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-stack-'));
  const p = path.join(dir, 'f');
  fs.writeFileSync(p, Buffer.alloc(1 << 20));
  const fh = await kaio.open(p, 'r');
  const N = 200000;
  async function loop(eager) {
    const t = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        const buf = Buffer.alloc(4096);
        for (let i = 0; i < N / 32; i++) {
          if (eager) Error.captureStackTrace({});
          await fh.read(buf, 0, 4096, (i % 256) * 4096);
        }
      }),
    );
    return Number(process.hrtime.bigint() - t) / N;
  }
  const lazy = [];
  const eager = [];
  for (let r = 0; r < 5; r++) {
    lazy.push(await loop(false));
    eager.push(await loop(true));
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const M = 20000;
  const t = process.hrtime.bigint();
  for (let i = 0; i < M; i++) {
    try {
      await fh.write('x', 0);
    } catch {
      // EBADF: the handle is read-only
    }
  }
  const errNs = Number(process.hrtime.bigint() - t) / M;
  console.log(`4 KiB reads at QD 32, ns per op (median of 5): as built ${med(lazy).toFixed(0)}, with a stack captured per call ${med(eager).toFixed(0)}`);
  console.log(`a failing write (EBADF, stack re-captured): ${errNs.toFixed(0)} ns per op`);
  await fh.close();
  fs.rmSync(dir, { recursive: true, force: true });
}
main();
