'use strict';
// fio's examples/basic-verify.fio (4 KiB randwrite, libaio, QD 16,
// verify=crc32c, then the read-back pass) through fio and `kaio bench`,
// interleaved, on a 32 MiB file:
//   node bench/verify-vs-fio.js [--rounds=5] [--dir=DIR] [--direct=1] [--verify=crc32c] [--rt]
// Prints per round each tool's write and read IOPS (the read-back pass is
// the reads, in both) and their total, and kaio's total over fio's; then
// the median ratio. --direct=0 --dir=/dev/shm measures the CPU per op (the
// page cache, no disk); --verify=0 the same job without verify; --rt runs
// both under SCHED_FIFO (chrt -f 1) so that other load on the machine does
// not decide the result.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const arg = (name, dflt) => {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`) || a === `--${name}`);
  if (!hit) return dflt;
  return hit.includes('=') ? hit.slice(name.length + 3) : '1';
};
const rounds = Number(arg('rounds', 5));
const base = arg('dir', os.tmpdir());
const direct = arg('direct', '1');
const verify = arg('verify', 'crc32c');
const rt = arg('rt', '') === '1';
const tmp = fs.mkdtempSync(path.join(base, 'kaio-verify-ab-'));
const file = path.join(tmp, 'dev');
const job = path.join(tmp, 'job.fio');
fs.writeFileSync(
  job,
  ['[write-and-verify]', 'rw=randwrite', 'bs=4k', `direct=${direct}`, 'ioengine=libaio', 'iodepth=16', ...(verify === '0' ? [] : [`verify=${verify}`]), `filename=${file}`, 'size=32m', ''].join('\n'),
);
const kaioBin = path.join(__dirname, '..', 'bin', 'kaio');

function run(cmd, args) {
  fs.rmSync(file, { force: true });
  const full = rt ? ['chrt', ['-f', '1', cmd, ...args]] : [cmd, args];
  // In the temp dir: fio leaves its verify state file (local-*-verify.state) in its working directory.
  const r = spawnSync(full[0], full[1], { encoding: 'utf8', timeout: 120000, cwd: tmp });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
  const doc = JSON.parse(r.stdout.slice(r.stdout.indexOf('{')));
  const j = doc.jobs[0];
  return { w: j.write.iops, r: j.read.iops, total: j.write.iops + j.read.iops };
}

const ratios = [];
try {
  console.log(`job: ${fs.readFileSync(job, 'utf8').trim().split('\n').join(' ')}${rt ? ' (SCHED_FIFO)' : ''}`);
  for (let i = 0; i < rounds; i++) {
    const f = run('fio', ['--output-format=json', job]);
    const k = run(process.execPath, [kaioBin, 'bench', '--eta=never', '--output-format=json', job]);
    ratios.push(k.total / f.total);
    const fmt = (x) => `w ${Math.round(x.w)} r ${Math.round(x.r)} total ${Math.round(x.total)}`;
    console.log(`round ${i + 1}: fio ${fmt(f)} | kaio ${fmt(k)} | ratio ${(k.total / f.total).toFixed(2)}`);
  }
  ratios.sort((a, b) => a - b);
  console.log(`median kaio/fio: ${ratios[Math.floor(ratios.length / 2)].toFixed(2)} (min ${ratios[0].toFixed(2)}, max ${ratios[ratios.length - 1].toFixed(2)})`);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
