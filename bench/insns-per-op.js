'use strict';
// User-space instructions per op of fio and `kaio bench` on the same
// page-cache job (load-independent: callgrind counts instructions, not time).
//   node bench/insns-per-op.js [--rw=randread] [--iodepth=32] [--engine=io_uring] [--tool=both|fio|kaio] [--extra='--gtod_reduce=1'] [--loop=js]
// --loop=js runs kaio bench's JavaScript loop (KAIO_BENCH_LOOP=js) instead of its native one.
// Each tool runs the job twice under callgrind, with number_ios=A and B
// (20,000 and 100,000; time_based, so the file's size does not end it); per
// op = (instructions(B) - instructions(A)) / (B - A), on the thread that
// does the I/O (the one whose count grows most), and over all threads
// (fio: its job process; kaio: the job's worker thread).
// The file is .bench-data/pc.dat (256 MiB, created and read into the page
// cache if missing). Slow (valgrind): about a minute per run.
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const arg = (name, dflt) => {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : dflt;
};
const rw = arg('rw', 'randread');
const depth = arg('iodepth', '32');
const engine = arg('engine', 'io_uring');
const tool = arg('tool', 'both');
const extra = arg('extra', '').split(' ').filter(Boolean);
const A = Number(arg('a', 20000));
const B = Number(arg('b', 100000));
const root = path.join(__dirname, '..');
const file = path.join(root, '.bench-data', 'pc.dat');
if (!fs.existsSync(file)) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, 'w');
  const chunk = Buffer.alloc(1 << 20);
  for (let i = 0; i < 256; i++) fs.writeSync(fd, require('node:crypto').randomFillSync(chunk));
  fs.closeSync(fd);
}
fs.readFileSync(file); // into the page cache

const job = (n) => ['--name=x', `--filename=${file}`, '--size=256m', `--rw=${rw}`, '--bs=4k', `--iodepth=${depth}`, `--ioengine=${engine}`, `--number_ios=${n}`, '--time_based', '--runtime=3600', '--invalidate=0', '--norandommap', '--randrepeat=0', '--output-format=json', ...extra];

function callgrind(cmd, args) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-insns-'));
  const env = arg('loop', '') === 'js' ? { ...process.env, KAIO_BENCH_LOOP: 'js' } : process.env;
  const r = spawnSync('valgrind', ['--tool=callgrind', '--separate-threads=yes', '--trace-children=yes', `--callgrind-out-file=${dir}/cg.%p`, cmd, ...args], { encoding: 'utf8', cwd: root, env, maxBuffer: 1 << 26 });
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr.slice(-2000)}`);
  const threads = [];
  for (const f of fs.readdirSync(dir)) {
    const text = fs.readFileSync(path.join(dir, f), 'utf8');
    const m = /^(?:summary|totals): (\d+)/m.exec(text);
    if (m) threads.push({ name: f, ir: Number(m[1]) });
  }
  fs.rmSync(dir, { recursive: true, force: true });
  return threads;
}

function perOp(cmd, argsOf) {
  const a = callgrind(cmd, argsOf(A));
  const b = callgrind(cmd, argsOf(B));
  const sum = (t) => t.reduce((s, x) => s + x.ir, 0);
  const all = (sum(b) - sum(a)) / (B - A);
  // The same thread in both runs: callgrind numbers a process's threads in order of creation (cg.PID-NN).
  const byThread = (t) => new Map(t.map((x) => [x.name.replace(/^cg\.\d+/, ''), x.ir]));
  const ta = byThread(a);
  let io = 0;
  for (const [k, ir] of byThread(b)) io = Math.max(io, (ir - (ta.get(k) ?? 0)) / (B - A));
  return { all: Math.round(all), ioThread: Math.round(io) };
}

const out = {};
if (tool !== 'kaio') out.fio = perOp('fio', (n) => [...job(n)]);
if (tool !== 'fio') out.kaio = perOp(process.execPath, (n) => ['--no-concurrent-recompilation', path.join(root, 'bin', 'kaio'), 'bench', ...job(n)]);
console.log(JSON.stringify({ job: job('N').join(' '), ...out }, null, 1));
