#!/usr/bin/env node
// `kaio bench` through two builds, interleaved, on the engine-bound jobs
// (page cache, so the CPU per op is the engine's and the loop's):
//   node bench/engines-ab.js [--rounds=3] [--ops=200000] OLD_KAIO_BIN NEW_KAIO_BIN
// e.g. node bench/engines-ab.js /work/main/bin/kaio bin/kaio
// Prints IOPS and CPU µs per op ((usr_cpu + sys_cpu) x runtime / ios) per run.
'use strict';
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const args = process.argv.slice(2);
const opt = (n, d) => Number((args.find((a) => a.startsWith(`--${n}=`)) || `=${d}`).split('=')[1]);
const rounds = opt('rounds', 3);
const ops = opt('ops', 200000);
const bins = args.filter((a) => !a.startsWith('--'));
if (bins.length !== 2) throw new Error('usage: engines-ab.js [--rounds=N] [--ops=N] OLD_BIN NEW_BIN');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-engines-ab-'));
const data = path.join(dir, 'pc.dat');
const fd = fs.openSync(data, 'w');
const chunk = Buffer.alloc(1 << 20);
for (let i = 0; i < 256; i++) fs.writeSync(fd, require('node:crypto').randomFillSync(chunk));
fs.closeSync(fd);
fs.readFileSync(data); // into the page cache

const common = ['--name=x', '--rw=randread', '--bs=4k', '--invalidate=0', '--norandommap', '--randrepeat=0', '--output-format=json'];
const file = [`--filename=${data}`, '--size=256m'];
const jobs = {
  'io_uring QD32 batch': [...file, '--ioengine=io_uring', '--iodepth=32', `--number_ios=${ops}`],
  'io_uring QD32 promise': [...file, '--ioengine=io_uring', '--api=promise', '--iodepth=32', `--number_ios=${ops}`],
  'libaio QD32': [...file, '--ioengine=libaio', '--iodepth=32', `--number_ios=${ops}`],
  'psync QD1': [...file, '--ioengine=psync', `--number_ios=${ops}`],
  null: ['--ioengine=null', '--size=100g', `--number_ios=${ops * 10}`],
};
try {
  for (const [name, j] of Object.entries(jobs)) {
    for (let r = 0; r < rounds; r++) {
      const row = [];
      for (const bin of bins) {
        const out = JSON.parse(execFileSync(process.execPath, [bin, 'bench', ...common, ...j], { encoding: 'utf8' }));
        const jj = out.jobs[0];
        const ios = jj.read.total_ios;
        const us = ((jj.usr_cpu + jj.sys_cpu) / 100) * jj.job_runtime * 1000 / ios;
        row.push(`${Math.round(jj.read.iops / 1000)}k IOPS ${us.toFixed(2)} µs/op`);
      }
      console.log(`${name.padEnd(22)} ${r + 1}: old ${row[0].padEnd(26)} new ${row[1]}`);
    }
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
