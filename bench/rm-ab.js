'use strict';
// Interleaved A/B of rm -r through bench/fs-ops.js's child runs: kaio built in
// another tree (OLD: a copy of a worktree with its build and dist), kaio here,
// node; rotating order per round, medians and ratios paired by round.
//   node bench/rm-ab.js OLD_TREE [rounds=5]
const { execFileSync } = require('node:child_process');
const os = require('node:os');
const path = require('node:path');
const OLD = process.argv[2];
if (!OLD) throw new Error('usage: node bench/rm-ab.js OLD_TREE [rounds]');
const R = Number(process.argv[3] || 5);
const peers = [
  ['old', path.join(OLD, 'bench', 'fs-ops.js'), 'rm:kaio'],
  ['new', path.join(__dirname, 'fs-ops.js'), 'rm:kaio'],
  ['node', path.join(__dirname, 'fs-ops.js'), 'rm:node'],
];
const res = { old: [], new: [], node: [] };
console.log('load at start', os.loadavg().map((x) => x.toFixed(1)).join(' '));
for (let r = 0; r < R; r++) {
  for (let i = 0; i < peers.length; i++) {
    const [name, script, peer] = peers[(i + r) % peers.length];
    const out = JSON.parse(execFileSync(process.execPath, [script, `--child=${peer}`], { encoding: 'utf8' }));
    res[name].push(out);
    console.log(r, name, Math.round(out.iops), 'files/s', out.cpuus.toFixed(2), 'us CPU/file', out.userus.toFixed(2), 'user', out.sysus.toFixed(2), 'sys');
  }
}
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[s.length >> 1]; };
for (const k of Object.keys(res)) console.log(k, 'median', Math.round(med(res[k].map((x) => x.iops))), 'files/s', med(res[k].map((x) => x.cpuus)).toFixed(2), 'us CPU/file');
for (const k of ['old', 'new']) console.log(k, '/ node paired-by-round median rate ratio', med(res[k].map((x, i) => x.iops / res.node[i].iops)).toFixed(2), 'CPU ratio', med(res[k].map((x, i) => x.cpuus / res.node[i].cpuus)).toFixed(2));
console.log('new/old paired median rate ratio', med(res.new.map((x, i) => x.iops / res.old[i].iops)).toFixed(2), 'CPU ratio', med(res.new.map((x, i) => x.cpuus / res.old[i].cpuus)).toFixed(2));
console.log('load at end', os.loadavg().map((x) => x.toFixed(1)).join(' '));
