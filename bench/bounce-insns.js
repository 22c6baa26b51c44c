'use strict';
// User-space instructions per 4 KiB page-cache pread through ring.read at
// queue depth 1, by the memory the read lands in: a caller's Buffer.alloc
// (bounced since kaio copies caller memory, lib/bounce.ts), one of a
// registered pool's buffers (READ_FIXED, zero copy) and alignedBuffer()
// memory (kaio's own, zero copy). Load-independent: callgrind counts
// instructions. Each case runs twice, A and B reads; per op = (B - A) / (B - A
// reads), all threads of the process. The file: bench/peers.js's 256 MiB one.
//   node bench/bounce-insns.js [--kaio=/path/to/kaio] [--a=5000] [--b=25000] [--cases=alloc,pool,aligned,fh,fh32] [--file=a 256 MiB file]
// fh, fh32: FileHandle.read() into Buffer.alloc(4096), 1 or 32 in flight
// (KAIO_NOWAIT_READ=0 in the environment turns its RWF_NOWAIT first try off).
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const arg = (name, dflt) => {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : dflt;
};
const kaioDir = path.resolve(arg('kaio', path.join(__dirname, '..')));
const A = Number(arg('a', 5000));
const B = Number(arg('b', 25000));
const cases = arg('cases', 'alloc,pool,aligned').split(',');
const file = arg('file', path.join(__dirname, '..', '.bench-data', 'peers-data', 'big-256m'));
if (!fs.existsSync(file)) throw new Error(`${file} is missing: run bench/peers.js --only=pread-qd1 once to make it`);

if (process.argv[2] === '--child') {
  const [, , , dir, kind, n] = process.argv;
  const kaio = require(dir);
  (async () => {
    if (kind === 'fh' || kind === 'fh32') {
      // FileHandle.read() into a caller's Buffer.alloc, 1 or 32 in flight
      // (KAIO_NOWAIT_READ=0 in the environment: without the RWF_NOWAIT first try).
      const ring = new kaio.Ring({ entries: 64 });
      const fh = await kaio.open(file, 'r', 0o666, { context: ring });
      const lanes = kind === 'fh' ? 1 : 32;
      const blocks = (256 << 20) / 4096;
      let left = Number(n);
      const lane = async (seed) => {
        const b = Buffer.alloc(4096);
        let x = seed;
        while (left-- > 0) {
          x = (x * 1103515245 + 12345) >>> 0;
          await fh.read(b, 0, 4096, (x % blocks) * 4096);
        }
      };
      await Promise.all(Array.from({ length: lanes }, (_, i) => lane(12345 + i)));
      await fh.close();
      await ring.close();
      return;
    }
    const ring = new kaio.Ring({ entries: 8 });
    const fd = fs.openSync(file, 'r');
    const pool = kind === 'pool' ? ring.registerBuffers({ count: 1, size: 4096, fallback: true }) : undefined;
    const buf = kind === 'pool' ? pool.buffers[0] : kind === 'aligned' ? kaio.alignedBuffer(4096) : Buffer.alloc(4096);
    const blocks = (256 << 20) / 4096;
    let x = 12345;
    for (let i = 0; i < Number(n); i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      await ring.read(fd, buf, (x % blocks) * 4096);
    }
    fs.closeSync(fd);
    if (pool) await pool.release();
    await ring.close();
  })();
  return;
}

function insns(kind, n) {
  const r = spawnSync('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath, __filename, '--child', kaioDir, kind, String(n), `--file=${file}`], { encoding: 'utf8' });
  const m = /Collected : (\d+)/.exec(r.stderr);
  if (!m) throw new Error(`callgrind: ${r.stderr.slice(-2000)}`);
  return Number(m[1]);
}
fs.readFileSync(file);
for (const kind of cases) {
  const a = insns(kind, A);
  const b = insns(kind, B);
  console.log(`${kaioDir} ${kind}: ${Math.round((b - a) / (B - A))} instructions per read`);
}
