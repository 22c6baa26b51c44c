'use strict';
// Stream copies in fresh processes, two kaio builds alternating (A/B, one run):
//   node bench/copy-first-ab.js OLD_TREE [runs=6] [copies=3] [mode=fh|fh0|path]
// Each run starts one process per build (order alternating); the process copies
// a 256 MiB file `copies` times in a row (pipeline of handle streams, dst 'w';
// fh0: both streams with start: 0; path: kaio's createReadStream/createWriteStream
// of paths) and prints CPU µs per MiB of each copy (total and user). Medians per
// copy number. SRC: the file (made in os.tmpdir() when missing).
const cp = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const [oldTree, runsArg, copiesArg, modeArg] = process.argv.slice(2);
if (!oldTree) throw new Error('usage: copy-first-ab.js OLD_TREE [runs] [copies] [mode]');
const trees = { old: path.resolve(oldTree), new: path.join(__dirname, '..') };
const runs = Number(runsArg || 6), copies = Number(copiesArg || 3), mode = modeArg || 'fh';
const src = process.env.SRC || path.join(os.tmpdir(), 'kaio-copy-first-src');
if (!fs.existsSync(src)) {
  const chunk = Buffer.alloc(1 << 20);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 2654435761) >>> 24;
  const fd = fs.openSync(src, 'w');
  for (let i = 0; i < 256; i++) fs.writeSync(fd, chunk);
  fs.closeSync(fd);
}
const child = `
  const kaio = require(process.argv[1]);
  const { pipeline } = require('node:stream/promises');
  const [src, dst, mode, copies] = process.argv.slice(2);
  const mib = require('node:fs').statSync(src).size / 1048576;
  (async () => {
    const out = [];
    for (let i = 0; i < Number(copies); i++) {
      const ru0 = process.resourceUsage();
      if (mode === 'path') await pipeline(kaio.createReadStream(src), kaio.createWriteStream(dst));
      else {
        const s = await kaio.open(src, 'r');
        const d = await kaio.open(dst, 'w');
        const o = mode === 'fh0' ? { start: 0 } : {};
        await pipeline(s.createReadStream(o), d.createWriteStream(o));
      }
      const ru = process.resourceUsage();
      const user = ru.userCPUTime - ru0.userCPUTime;
      out.push([(user + ru.systemCPUTime - ru0.systemCPUTime) / mib, user / mib]);
    }
    process.stdout.write(JSON.stringify(out));
  })();
`;
const res = { old: [], new: [] };
for (let r = 0; r < runs; r++) {
  for (const which of r % 2 ? ['new', 'old'] : ['old', 'new']) {
    const dst = `${src}-dst-${process.pid}`;
    const out = cp.execFileSync(process.execPath, ['-e', child, trees[which], src, dst, mode, String(copies)], { encoding: 'utf8' });
    fs.rmSync(dst, { force: true });
    res[which].push(JSON.parse(out));
  }
}
const med = (a) => [...a].sort((x, y) => x - y)[a.length >> 1];
console.log(`mode ${mode}, ${runs} runs, CPU µs per MiB total (user), median per copy; load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}`);
for (const which of ['old', 'new']) {
  const cols = [];
  for (let c = 0; c < copies; c++) cols.push(`${med(res[which].map((x) => x[c][0])).toFixed(0)} (${med(res[which].map((x) => x[c][1])).toFixed(0)})`);
  console.log(`${which.padEnd(4)} ${cols.join(' | ')}`);
}
for (let c = 0; c < copies; c++) {
  const ratios = res.new.map((x, i) => x[c][1] / res.old[i][c][1]);
  console.log(`copy ${c + 1}: user new/old per run ${ratios.map((x) => x.toFixed(2)).join(' ')}`);
}
