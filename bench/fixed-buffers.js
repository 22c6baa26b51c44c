#!/usr/bin/env node
'use strict';
// Registered buffers, measured: 4 KiB random O_DIRECT reads at queue depth 32
// on one file, in interleaved rounds of
//   kaio fixed    registered buffers + registered file (READ_FIXED)
//   kaio plain    page-aligned unregistered buffers, plain fd (READ)
//   fio           --ioengine=io_uring --fixedbufs --registerfiles
//
//   node bench/fixed-buffers.js [--size 1024] [--seconds 5] [--rounds 3] [--dir .bench-data]
//
// --size is the file size in MiB; the file is made once and kept.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { performance } = require('node:perf_hooks');
const { Ring, alignedBuffer, probe } = require('..');

const QD = 32;
const BS = 4096;

function args() {
  const o = { size: 1024, seconds: 5, rounds: 3, dir: path.join(__dirname, '..', '.bench-data') };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in o)) throw new Error(`unknown option ${argv[i]} (known: ${Object.keys(o).join(', ')})`);
    o[key] = key === 'dir' ? argv[i + 1] : Number(argv[i + 1]);
  }
  return o;
}

function makeFile(file, bytes) {
  try {
    if (fs.statSync(file).size === bytes) return;
  } catch {
    // not there yet
  }
  process.stderr.write(`writing ${bytes / 2 ** 20} MiB test file ${file} ...\n`);
  const chunk = require('node:crypto').randomBytes(8 << 20);
  const fd = fs.openSync(file, 'w');
  for (let off = 0; off < bytes; off += chunk.length) {
    chunk.writeUInt32LE(off >>> 12, 0); // no two chunks alike
    fs.writeSync(fd, chunk, 0, Math.min(chunk.length, bytes - off), off);
  }
  fs.fsyncSync(fd);
  fs.closeSync(fd);
}

// xorshift32: cheap, and the same sequence for both kaio variants.
function rng(seed) {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}

async function kaio(file, fileBytes, seconds, fixed) {
  const ring = new Ring({ entries: 64 });
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_DIRECT);
  let target = fd;
  let pool;
  let bufs;
  if (fixed) {
    pool = ring.registerBuffers({ count: QD, size: BS });
    if (!pool.registered) throw new Error('pool not registered');
    bufs = pool.buffers;
    [target] = ring.registerFiles([fd]);
  } else {
    bufs = Array.from({ length: QD }, () => alignedBuffer(BS));
  }
  const blocks = Math.floor(fileBytes / BS);
  const next = rng(12345);
  let ops = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    bufs.map(async (b) => {
      while (performance.now() < end) {
        const n = await ring.read(target, b, (next() % blocks) * BS);
        if (n !== BS) throw new Error(`short read ${n}`);
        ops++;
      }
    }),
  );
  const elapsed = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const { fixedOps, enterCalls } = ring.stats;
  if (fixed && fixedOps < ops) throw new Error(`only ${fixedOps} of ${ops} reads were fixed`);
  if (!fixed && fixedOps !== 0) throw new Error('plain run used fixed ops');
  await ring.close();
  fs.closeSync(fd);
  return { iops: ops / elapsed, cpuPerIo: (cpu.user + cpu.system) / ops, fixedOps, enterCalls, ops };
}

function fio(file, fileBytes, seconds) {
  const r = spawnSync(
    'fio',
    [
      '--name=kaio-fixed-bench',
      `--filename=${file}`,
      '--ioengine=io_uring',
      '--fixedbufs',
      '--registerfiles',
      '--direct=1',
      '--rw=randread',
      `--bs=${BS}`,
      `--iodepth=${QD}`,
      `--size=${fileBytes}`,
      '--time_based',
      `--runtime=${seconds}`,
      '--norandommap',
      '--randrepeat=0',
      '--output-format=json',
    ],
    { encoding: 'utf8' },
  );
  if (r.error) return { missing: r.error.code === 'ENOENT' ? 'fio is not installed' : String(r.error) };
  if (r.status !== 0) return { missing: `fio failed: ${r.stderr.trim().split('\n').pop()}` };
  const job = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))).jobs[0];
  // usr_cpu/sys_cpu are percent of one CPU over the job's runtime.
  const cpuUs = ((job.usr_cpu + job.sys_cpu) / 100) * job.job_runtime * 1000;
  return { iops: job.read.iops, cpuPerIo: cpuUs / job.read.total_ios };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function main() {
  const o = args();
  fs.mkdirSync(o.dir, { recursive: true });
  const file = path.join(o.dir, `randread-${o.size}M.bin`);
  const bytes = o.size * 2 ** 20;
  makeFile(file, bytes);
  const results = { 'kaio fixed': [], 'kaio plain': [], fio: [] };
  const cpu = { 'kaio fixed': [], 'kaio plain': [], fio: [] };
  let fioMissing;
  // Warm up the JIT on both kaio paths; not counted.
  await kaio(file, bytes, 0.5, true);
  await kaio(file, bytes, 0.5, false);
  for (let round = 1; round <= o.rounds; round++) {
    // Rotate the order so no variant always runs first after the others.
    const order = [['kaio fixed', () => kaio(file, bytes, o.seconds, true)], ['kaio plain', () => kaio(file, bytes, o.seconds, false)], ['fio', () => fio(file, bytes, o.seconds)]];
    for (let k = 0; k < round - 1; k++) order.push(order.shift());
    for (const [name, run] of order) {
      const r = await run();
      if (r.missing) {
        fioMissing = r.missing;
        continue;
      }
      results[name].push(r.iops);
      cpu[name].push(r.cpuPerIo);
      process.stderr.write(`round ${round} ${name.padEnd(10)} ${Math.round(r.iops)} IOPS, ${r.cpuPerIo.toFixed(2)} CPU us/IO\n`);
    }
  }
  const p = probe();
  const fioIops = results.fio.length ? median(results.fio) : undefined;
  const fixedIops = median(results['kaio fixed']);
  console.log(`\n4 KiB random O_DIRECT reads, queue depth ${QD}, ${o.size} MiB file, ${o.rounds} rounds x ${o.seconds} s (median)`);
  console.log(`kernel ${p.kernel}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), node ${process.version}\n`);
  console.log('| variant | IOPS | MiB/s | IOPS vs fio | IOPS vs kaio plain | CPU µs per I/O |');
  console.log('|---|---:|---:|---:|---:|---:|');
  const plainIops = median(results['kaio plain']);
  for (const name of ['kaio fixed', 'kaio plain', 'fio']) {
    if (!results[name].length) {
      console.log(`| ${name} | ${fioMissing ?? 'no result'} | | | | |`);
      continue;
    }
    const iops = median(results[name]);
    const vsFio = fioIops ? `${(iops / fioIops).toFixed(2)}x` : 'n/a';
    const cpuPerIo = median(cpu[name]).toFixed(2);
    console.log(`| ${name} | ${Math.round(iops)} | ${((iops * BS) / 2 ** 20).toFixed(1)} | ${vsFio} | ${(iops / plainIops).toFixed(2)}x | ${cpuPerIo} |`);
  }
  console.log(`\nkaio fixed / kaio plain: IOPS ${(fixedIops / plainIops).toFixed(3)}, CPU per I/O ${(median(cpu['kaio fixed']) / median(cpu['kaio plain'])).toFixed(3)}`);
  console.log(`per round (IOPS): ${Object.entries(results).map(([k, v]) => `${k} ${v.map(Math.round).join('/')}`).join('; ')}`);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
