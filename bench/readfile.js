'use strict';
// kaio's node:fs/promises surface against node:fs/promises itself:
//   readFile of 10,000 small files (1-16 KiB), 32 at a time;
//   4 KiB random reads through one FileHandle, 32 at a time (page cache).
//   node bench/readfile.js [--rounds=3] [--runtime=3] [--backend=io_uring|aio|threadpool] [--qd=32]
// Each peer runs in a fresh process, rounds interleaved (see common.js).
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const c = require('./common');

const FILES = 10000;
const qdArg = process.argv.find((a) => a.startsWith('--qd='));
const QD = qdArg ? Number(qdArg.slice(5)) : 32;
const backendArg = process.argv.find((a) => a.startsWith('--backend='));
const backend = backendArg ? backendArg.slice(10) : undefined;
const smallDir = path.join(__dirname, '..', '.bench-data', 'small-files');

function smallFiles() {
  const names = [];
  let seed = 12345;
  const rand = () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32);
  fs.mkdirSync(smallDir, { recursive: true });
  for (let i = 0; i < FILES; i++) {
    const p = path.join(smallDir, `f${i}`);
    const size = 1024 + Math.floor(rand() * 15 * 1024);
    if (!fs.existsSync(p) || fs.statSync(p).size !== size) fs.writeFileSync(p, Buffer.alloc(size, i & 0xff));
    names.push(p);
  }
  return names;
}

async function child(peer, runtimeS) {
  const kaio = require('..');
  const fsp = require('node:fs/promises');
  const deadline = process.hrtime.bigint() + BigInt(Math.round(runtimeS * 1e9));
  let ops = 0;
  let worker;
  let done;
  if (peer.startsWith('readFile')) {
    const names = Array.from({ length: FILES }, (_, i) => path.join(smallDir, `f${i}`));
    const readFile = peer === 'readFile:kaio' ? kaio.readFile : fsp.readFile;
    let next = 0;
    worker = async () => {
      while (process.hrtime.bigint() < deadline) {
        await readFile(names[next++ % FILES]);
        ops++;
      }
    };
  } else {
    const file = process.env.KAIO_BENCH_FILE;
    const size = fs.statSync(file).size;
    const blocks = Math.floor(size / 4096);
    const fh = peer === 'randread:kaio' ? await kaio.open(file, 'r') : await fsp.open(file, 'r');
    worker = async () => {
      const buf = Buffer.alloc(4096);
      while (process.hrtime.bigint() < deadline) {
        await fh.read(buf, 0, 4096, Math.floor(Math.random() * blocks) * 4096);
        ops++;
      }
    };
    done = () => fh.close();
  }
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: QD }, worker));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  if (done) await done();
  process.stdout.write(JSON.stringify({ iops: ops / secs }));
}

function run(peer, file) {
  const out = execFileSync(process.execPath, [__filename, `--child=${peer}`, `--runtime=${c.settings.runtime}`], {
    encoding: 'utf8',
    env: { ...process.env, KAIO_BENCH_FILE: file, ...(backend ? { KAIO_BACKEND: backend } : {}) },
  });
  return JSON.parse(out);
}

const childArg = process.argv.find((a) => a.startsWith('--child='));
if (childArg) {
  child(childArg.slice(8), c.settings.runtime).catch((e) => {
    console.error(e);
    process.exit(1);
  });
} else {
  smallFiles();
  const file = c.dataFile('bench-256m.dat', 256 << 20);
  c.warm(file);
  for (const n of fs.readdirSync(smallDir)) fs.readFileSync(path.join(smallDir, n)); // warm
  const rf = c.rounds([
    { name: 'kaio readFile', run: () => run('readFile:kaio', file) },
    { name: 'fs.promises readFile', run: () => run('readFile:node', file) },
  ]);
  const rr = c.rounds([
    { name: 'kaio FileHandle.read', run: () => run('randread:kaio', file) },
    { name: 'fs.promises FileHandle.read', run: () => run('randread:node', file) },
  ]);
  console.log(c.header(`node:fs/promises drop-in: readFile and FileHandle.read (kaio on ${backend || 'its default context'})`));
  console.log(c.table(`readFile of ${FILES} files of 1-16 KiB, ${QD} at a time (files/s)`, rf, ['fs.promises readFile']));
  console.log('');
  console.log(c.table(`4 KiB random reads through one FileHandle, QD ${QD}, page cache`, rr, ['fs.promises FileHandle.read']));
}
