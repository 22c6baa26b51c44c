'use strict';
// Interleaved A/B of two kaio trees in one process (both loaded side by
// side): CPU time (getrusage user+sys, whole process) and minor page faults
// per op, for the cases of bench/own-memory-insns.js. Rounds alternate
// A,B / B,A; medians. Page faults do not depend on the machine's load; CPU
// time does (noisy under load: prefer the instruction counts).
//   node bench/own-memory-ab.js --a=/path/to/old/kaio [--b=.] [--n=300] [--rounds=6] [--cases=stream4k,stream256k,write64k,write1k]
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const arg = (name, dflt) => {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : dflt;
};
const dirs = { a: path.resolve(arg('a', '')), b: path.resolve(arg('b', path.join(__dirname, '..'))) };
if (!arg('a', '')) throw new Error('--a=/path/to/the/other/kaio is required');
const N = Number(arg('n', 300));
const rounds = Number(arg('rounds', 6));
const cases = arg('cases', 'stream4k,stream256k,write64k,write1k').split(',');
const kaios = {};
for (const [k, d] of Object.entries(dirs)) kaios[k] = { kaio: require(d), crs: require(path.join(d, 'dist/lib/fs/promises.js')).createReadStream };
const usage = () => {
  const r = process.resourceUsage();
  return { cpu: r.userCPUTime + r.systemCPUTime, faults: r.minorPageFault };
};
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
(async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-own-ab-'));
  const ctx = {};
  for (const k of Object.keys(kaios)) ctx[k] = new kaios[k].kaio.Ring({ entries: 64 });
  try {
    for (const kind of cases) {
      const p = path.join(tmp, kind);
      if (kind.startsWith('stream')) fs.writeFileSync(p, Buffer.alloc(kind === 'stream4k' ? 4096 : 256 * 1024, 7));
      const s = 'x'.repeat(kind === 'write64k' ? 65536 : 1024);
      const res = { a: { cpu: [], faults: [] }, b: { cpu: [], faults: [] } };
      for (let r = 0; r < rounds; r++) {
        for (const k of r % 2 ? ['b', 'a'] : ['a', 'b']) {
          const { kaio, crs } = kaios[k];
          const context = ctx[k];
          const u0 = usage();
          for (let i = 0; i < N; i++) {
            if (kind.startsWith('write')) await kaio.writeFile(p, s, { context });
            else for await (const _ of crs(p, { context }));
          }
          const u1 = usage();
          res[k].cpu.push((u1.cpu - u0.cpu) / N);
          res[k].faults.push((u1.faults - u0.faults) / N);
        }
      }
      console.log(`${kind}: minor faults/op a ${med(res.a.faults).toFixed(2)} b ${med(res.b.faults).toFixed(2)}; CPU us/op a ${med(res.a.cpu).toFixed(1)} b ${med(res.b.cpu).toFixed(1)} (b/a ${(med(res.b.cpu) / med(res.a.cpu)).toFixed(3)})`);
    }
  } finally {
    for (const k of Object.keys(ctx)) await ctx[k].close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
})();
