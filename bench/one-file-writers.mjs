// bun bench/one-file-writers.mjs FILE, or node: 32 Bun.write / node writeFile of one 20,000-byte file at once, writer k writes lens[k] bytes of k+1; 20 rounds.
import fs from 'node:fs';
const N = 32, lens = Array.from({ length: N }, (_, k) => 1000 + 397 * ((k * 7) % N));
const datas = lens.map((l, k) => Buffer.alloc(l, k + 1));
const p = process.argv[2] || 'one-file-writers.tmp';
const write = globalThis.Bun ? (d) => Bun.write(p, d) : (d) => fs.promises.writeFile(p, d);
let zeros = 0, whole = 0, bad = 0;
for (let r = 0; r < 20; r++) {
  fs.writeFileSync(p, Buffer.alloc(20000, 0xee));
  await Promise.all(datas.map(write));
  const b = fs.readFileSync(p);
  if (b.includes(0)) zeros++;
  if (datas.some((d) => d.equals(b))) whole++;
  let ok = lens.includes(b.length);
  for (let i = 0; ok && i < b.length; i++) { const w = b[i] - 1; if (w < 0 || w >= N || lens[w] <= i) ok = false; }
  if (!ok) bad++;
}
console.log(JSON.stringify({ rt: globalThis.Bun ? 'bun' : 'node', rounds: 20, withZeros: zeros, oneWholeWriter: whole, notFromWriters: bad }));
