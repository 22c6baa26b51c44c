'use strict';
// kaio/fs/promises against node:fs/promises on the calls issue 22 names:
//   stat of 10,000 files; mkdir -p of 1,000 three-level trees (t/a/b);
//   rm -r of one tree of 10,000 files (100 directories of 100);
//   copyFile of 1,000 files of 64 KiB; and (--jobs=fstat, not run by
//   default) FileHandle#stat: 100,000 calls over 64 open handles.
//   node bench/fs-ops.js [--rounds=5] [--qd=64] [--jobs=stat,mkdir,copy,rm,fstat] [--backend=io_uring|aio|threadpool] [--dir=PATH]
// --qd: calls in flight (a service's concurrency); --qd=1 is a sequential
// await loop. rm -r is one call whatever --qd says. Each measurement is a
// fresh process on a fresh ext4 tree under .bench-data/ (the files written and
// then read once, so warm in the page cache), after an untimed warm-up pass
// of the same job on a tree of its own; peers run in rotating order
// round after round (common.js), ratios paired by round. The result is
// calls per second and CPU per call (user + system of the whole process,
// io_uring's io-wq workers included: they are threads of it).
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const c = require('./common');

const qdArg = process.argv.find((a) => a.startsWith('--qd='));
const QD = qdArg ? Number(qdArg.slice(5)) : 64;
const backendArg = process.argv.find((a) => a.startsWith('--backend='));
const backend = backendArg ? backendArg.slice(10) : undefined;
const jobsArg = process.argv.find((a) => a.startsWith('--jobs='));
const JOBS = jobsArg ? jobsArg.slice(7).split(',') : ['stat', 'mkdir', 'copy', 'rm'];
// --dir: where the trees go (default .bench-data/fs-ops, on the worktree's
// filesystem); e.g. a tmpfs, to see the calls without a disk filesystem's
// inode allocation, which dominates mkdir and copyFile on ext4.
const dirArg = process.argv.find((a) => a.startsWith('--dir='));
const dataRoot = dirArg ? path.resolve(dirArg.slice(6)) : path.join(__dirname, '..', '.bench-data', 'fs-ops');
// Every child's trees stay until the whole run is over (the parent removes
// runRoot last): an ext4 without a journal (this machine's) makes each new
// inode skip past the inodes freed in the last 60 s (360 s while their inode
// table block is dirty; fs/ext4/ialloc.c recently_deleted()), so a child that
// created its trees just after the previous child deleted its own measured
// that scan, growing round after round (mkdir -p: 190 to 1,700 µs of CPU per
// tree within one minute), on both sides. rm -r, which must delete, runs last.
// A child run by hand (--child=JOB:kaio|node [--run=ID]) leaves its trees in
// run-ID (its pid without --run) for whoever runs it to remove.
const runArg = process.argv.find((a) => a.startsWith('--run='));
const runRoot = path.join(dataRoot, `run-${runArg ? runArg.slice(6) : process.pid}`);

const STAT_FILES = 10000;
const TREES = 1000;
const RM_DIRS = 100;
const RM_FILES_PER_DIR = 100;
const COPIES = 1000;
const COPY_SIZE = 64 * 1024;
const FSTATS = 100000;
const FSTAT_HANDLES = 64;

/** The job's tree, made before the clock starts; returns what the timed part needs. */
function setup(job, dir) {
  fs.mkdirSync(dir, { recursive: true });
  if (job === 'stat') {
    const names = [];
    for (let i = 0; i < STAT_FILES; i++) {
      const p = path.join(dir, `f${i}`);
      if (!fs.existsSync(p)) fs.writeFileSync(p, 'x');
      names.push(p);
    }
    for (const p of names) fs.statSync(p);
    return names;
  }
  if (job === 'fstat') {
    const names = [];
    for (let i = 0; i < FSTAT_HANDLES; i++) {
      const p = path.join(dir, `f${i}`);
      fs.writeFileSync(p, 'x');
      names.push(p);
    }
    return names;
  }
  if (job === 'mkdir') return Array.from({ length: TREES }, (_, i) => path.join(dir, `t${i}`, 'a', 'b'));
  if (job === 'rm') {
    const root = path.join(dir, 'tree');
    for (let d = 0; d < RM_DIRS; d++) {
      fs.mkdirSync(path.join(root, `d${d}`), { recursive: true });
      for (let f = 0; f < RM_FILES_PER_DIR; f++) fs.writeFileSync(path.join(root, `d${d}`, `f${f}`), '');
    }
    return [root];
  }
  const srcDir = path.join(dataRoot, 'copy-src');
  fs.mkdirSync(srcDir, { recursive: true });
  const pairs = [];
  for (let i = 0; i < COPIES; i++) {
    const src = path.join(srcDir, `s${i}`);
    if (!fs.existsSync(src) || fs.statSync(src).size !== COPY_SIZE) fs.writeFileSync(src, Buffer.alloc(COPY_SIZE, i & 0xff));
    fs.readFileSync(src);
    pairs.push([src, path.join(dir, `c${i}`)]);
  }
  return pairs;
}

async function child(peer) {
  const [job, who] = peer.split(':');
  const fsp = who === 'kaio' ? require('../dist/lib/fs/promises.js') : require('node:fs/promises');
  const call = {
    stat: (p) => fsp.stat(p),
    mkdir: (p) => fsp.mkdir(p, { recursive: true }),
    rm: (p) => fsp.rm(p, { recursive: true }),
    copy: ([s, d]) => fsp.copyFile(s, d),
    fstat: (fh) => fh.stat(),
  }[job];
  const qd = job === 'rm' ? 1 : QD;
  const pass = async (items) => {
    let next = 0;
    const worker = async () => {
      while (next < items.length) await call(items[next++]);
    };
    await Promise.all(Array.from({ length: qd }, worker));
  };
  // A warm-up pass of the same job on a tree of its own, outside the clock:
  // a service is a long-running process (JIT-compiled code, the ring and its
  // io-wq workers, Node's thread pool all up).
  const warmDir = path.join(runRoot, `${job}-${who}-${process.pid}-warm`);
  // fstat: FSTATS calls spread over FSTAT_HANDLES handles opened by the module measured.
  const handlesOf = async (names) => {
    const fhs = await Promise.all(names.map((p) => fsp.open(p, 'r')));
    return Array.from({ length: FSTATS }, (_, i) => fhs[i % fhs.length]);
  };
  const prepare = (d) => (job === 'fstat' ? handlesOf(setup(job, d)) : setup(job, d));
  const closeAll = (items) => (job === 'fstat' ? Promise.all([...new Set(items)].map((fh) => fh.close())) : undefined);
  const warmItems = await prepare(warmDir);
  await pass(warmItems);
  await closeAll(warmItems);
  const dir = path.join(runRoot, `${job}-${who}-${process.pid}`);
  const items = await prepare(dir);
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  await pass(items);
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  // What the job must have done, checked after the clock.
  if (job === 'rm' && fs.existsSync(items[0])) throw new Error('rm -r left the tree');
  if (job === 'mkdir' && !fs.statSync(items[items.length - 1]).isDirectory()) throw new Error('mkdir -p made no tree');
  if (job === 'copy' && fs.statSync(items[0][1]).size !== COPY_SIZE) throw new Error('copyFile copied nothing');
  if (job === 'fstat' && (await items[0].stat()).size !== 1) throw new Error('fstat: wrong size');
  await closeAll(items);
  const calls = job === 'rm' ? RM_DIRS * RM_FILES_PER_DIR : items.length;
  if (who === 'kaio') await require('..').defaultContext().close();
  process.stdout.write(JSON.stringify({ iops: calls / secs, cpuus: (cpu.user + cpu.system) / calls, userus: cpu.user / calls, sysus: cpu.system / calls }));
}

function run(peer) {
  const out = execFileSync(process.execPath, [__filename, `--child=${peer}`, `--run=${process.pid}`, ...(dirArg ? [dirArg] : [])], {
    encoding: 'utf8',
    env: { ...process.env, ...(backend ? { KAIO_BACKEND: backend } : {}) },
  });
  return JSON.parse(out);
}

const TITLES = {
  stat: `stat of ${STAT_FILES} files, ${QD} in flight (stats/s)`,
  mkdir: `mkdir -p of ${TREES} three-level trees (t/a/b, all three missing), ${QD} in flight (trees/s)`,
  rm: `rm -r of one tree of ${RM_DIRS * RM_FILES_PER_DIR} files in ${RM_DIRS} directories (files removed/s)`,
  copy: `copyFile of ${COPIES} files of 64 KiB, ${QD} in flight (copies/s)`,
  fstat: `FileHandle#stat, ${FSTATS} calls over ${FSTAT_HANDLES} open handles, ${QD} in flight (stats/s)`,
};

const childArg = process.argv.find((a) => a.startsWith('--child='));
if (childArg) {
  child(childArg.slice(8)).catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  const tables = [];
  const loadAtStart = os.loadavg().map((x) => x.toFixed(1)).join(' ');
  for (const job of JOBS) {
    const rows = c.rounds([
      { name: `kaio ${job}`, run: () => run(`${job}:kaio`) },
      { name: `fs.promises ${job}`, run: () => run(`${job}:node`) },
    ]);
    // Where each side's CPU goes: user (JavaScript, libuv, the addon) and
    // system (the kernel, io-wq workers included), medians over the rounds.
    const split = rows.filter((r) => !r.missing).map((r) =>
      `${r.name} ${c.median(r.rawAll.map((x) => x.userus)).toFixed(1)} + ${c.median(r.rawAll.map((x) => x.sysus)).toFixed(1)}`);
    tables.push(`${c.table(TITLES[job], rows, [`fs.promises ${job}`])}\n\nCPU µs/call, user + system: ${split.join('; ')}`);
  }
  const load = os.loadavg().map((x) => x.toFixed(1)).join(' ');
  console.log(c.header(`kaio/fs/promises vs node:fs/promises (kaio on ${backend || 'its default context'}), --qd=${QD}`));
  console.log(`Load average at the start: ${loadAtStart}; at the end: ${load}. Command: node bench/fs-ops.js ${process.argv.slice(2).join(' ')}\n`);
  console.log(tables.join('\n\n'));
  fs.rmSync(runRoot, { recursive: true, force: true });
}
