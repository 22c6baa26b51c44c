'use strict';
// User-space instructions per op for memory kaio makes for its own ops
// (lib/own-buffer.ts: no bounce copy since round 8) against the same op
// before (bounced): writeFile of a string, and a read stream of a small
// file and of a 256 KiB file (the first chunk through the context), on
// io_uring, files in the page cache (tmpfs or ext4, os.tmpdir()).
// Load-independent: callgrind counts instructions. Each case runs twice, A
// and B ops; per op = (B - A) / (B - A ops), all threads of the process.
//   node bench/own-memory-insns.js [--kaio=/path/to/kaio] [--a=300] [--b=1500] [--cases=write64k,write1k,stream4k,stream256k]
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const arg = (name, dflt) => {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : dflt;
};
const kaioDir = path.resolve(arg('kaio', path.join(__dirname, '..')));
const A = Number(arg('a', 300));
const B = Number(arg('b', 1500));
const cases = arg('cases', 'write64k,write1k,stream4k,stream256k').split(',');

if (process.argv[2] === '--child') {
  const [, , , dir, kind, n, tmp] = process.argv;
  const kaio = require(dir);
  const { createReadStream } = require(path.join(dir, 'dist/lib/fs/promises.js'));
  (async () => {
    const context = new kaio.Ring({ entries: 64 });
    const p = path.join(tmp, kind);
    if (kind.startsWith('write')) {
      const s = 'x'.repeat(kind === 'write64k' ? 65536 : 1024);
      for (let i = 0; i < Number(n); i++) await kaio.writeFile(p, s, { context });
    } else {
      fs.writeFileSync(p, Buffer.alloc(kind === 'stream4k' ? 4096 : 256 * 1024, 7));
      for (let i = 0; i < Number(n); i++) {
        // eslint-disable-next-line no-unused-vars
        for await (const _ of createReadStream(p, { context }));
      }
    }
    await context.close();
  })();
  return;
}

function insns(kind, n, tmp) {
  const r = spawnSync('valgrind', ['--tool=callgrind', '--callgrind-out-file=/dev/null', process.execPath, __filename, '--child', kaioDir, kind, String(n), tmp], { encoding: 'utf8' });
  const m = /Collected : (\d+)/.exec(r.stderr);
  if (!m) throw new Error(`callgrind: ${r.stderr.slice(-2000)}`);
  return Number(m[1]);
}
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-own-'));
try {
  for (const kind of cases) {
    const a = insns(kind, A, tmp);
    const b = insns(kind, B, tmp);
    console.log(`${kaioDir} ${kind}: ${Math.round((b - a) / (B - A))} instructions per op`);
  }
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
