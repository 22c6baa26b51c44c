'use strict';
// Streams, A/B in one process: two kaio checkouts loaded side by side
// (KAIO_OLD, KAIO_NEW; default: this checkout for both), rounds interleaved,
// medians of getrusage CPU per MiB:
//   KAIO_OLD=/path/to/other/kaio node bench/streams-ab.js fh:old,fh:new,node,ro:old,ro:new,nodero 7 1
// fh: pipeline(src.createReadStream(), dst.createWriteStream()) on kaio handles (dst opened 'w');
// ro: for await over src.createReadStream(); path: kaio's createReadStream(path) into
// createWriteStream(path); node, nodero: node:fs's. SRC: the file (256 MiB made in os.tmpdir()).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pipeline } = require('node:stream/promises');
const here = path.join(__dirname, '..');
const K = { old: require(process.env.KAIO_OLD || here), new: require(process.env.KAIO_NEW || here) };
const src = process.env.SRC || path.join(os.tmpdir(), 'kaio-streams-ab-src');
const dst = `${src}-dst`;
if (!fs.existsSync(src) || (!process.env.SRC && fs.statSync(src).size !== 256 << 20)) {
  const chunk = Buffer.alloc(1 << 20);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 2654435761) >>> 24;
  const fd = fs.openSync(src, 'w');
  for (let i = 0; i < 256; i++) fs.writeSync(fd, chunk);
  fs.closeSync(fd);
}
const MIB = fs.statSync(src).size / 1048576;
const [modesArg, roundsArg, perArg] = process.argv.slice(2);
const modes = modesArg.split(',');
const rounds = Number(roundsArg || 5), per = Number(perArg || 1);
async function one(mode) {
  let [what, which] = mode.split(':');
  if (what === 'node') return pipeline(fs.createReadStream(src), fs.createWriteStream(dst));
  if (what === 'nodero') { for await (const c of fs.createReadStream(src)) {} return; }
  const kaio = K[which];
  if (what === 'path') return pipeline(kaio.createReadStream(src), kaio.createWriteStream(dst));
  const s = await kaio.open(src, 'r');
  if (what === 'ro') { for await (const c of s.createReadStream()) {} return s.close(); }
  const d = await kaio.open(dst, 'w');
  if (what === 'fh') return pipeline(s.createReadStream(), d.createWriteStream());
  if (what === 'fh0') return pipeline(s.createReadStream({ start: 0 }), d.createWriteStream({ start: 0 }));
}
const res = {};
(async () => {
  for (const m of modes) await one(m); // warm
  for (let r = 0; r < rounds; r++) for (const m of (r % 2 ? [...modes].reverse() : modes)) {
    const ru0 = process.resourceUsage(); const t0 = performance.now();
    for (let i = 0; i < per; i++) await one(m);
    const ms = performance.now() - t0; const ru = process.resourceUsage();
    const mib = MIB * per;
    (res[m] ??= []).push([mib / ms * 1000, (ru.userCPUTime - ru0.userCPUTime) / mib, (ru.systemCPUTime - ru0.systemCPUTime) / mib, (ru.minorPageFault - ru0.minorPageFault) / mib]);
  }
  const med = (a) => a.sort((x, y) => x - y)[a.length >> 1];
  for (const [m, rows] of Object.entries(res)) console.log(m.padEnd(10), 'MiB/s', med(rows.map((r) => r[0])).toFixed(0).padStart(5), ' user/MiB', med(rows.map((r) => r[1])).toFixed(0).padStart(5), ' sys/MiB', med(rows.map((r) => r[2])).toFixed(0).padStart(5), ' cpu/MiB', med(rows.map((r) => r[1] + r[2])).toFixed(0).padStart(5), ' flt/MiB', med(rows.map((r) => r[3])).toFixed(1));
  console.log('load', require('os').loadavg()[0].toFixed(1));
})();
