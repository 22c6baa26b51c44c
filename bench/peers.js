'use strict';
// kaio against the other runtimes' file APIs, on the same workloads, in one run:
//   node bench/peers.js [--rounds=3] [--runtime=1.5] [--only=readfile-4k,wal,...] [--copy-mib=256] [--cold]
//   node bench/peers.js --only=writefile-options   (O_TRUNC, inPlace, rename-replace, flush)
//   node bench/peers.js --only=readfile-4k --cells='kaio,kaio no async,bun fsp'   (some cells only)
//   node bench/peers.js --only=writefile-new --fresh-fs   (each cell on a new ext4; root)
//   node bench/peers.js --only=writefile-new --cells='kaio,bun fsp' --old=../wt-x   (each kaio cell also on another build)
// Peers: node:fs/promises (node, and node with UV_USE_IO_URING=1), kaio
// (module API, FileHandle, Ring), Bun (node:fs, Bun.file/Bun.write) and Deno
// (node:fs, Deno.*). Bun and Deno are fetched from the npm registry on first
// use into .bench-data/peers/ (never dependencies of the package).
// Every cell is a fresh process running bench/peers-worker.mjs; rounds rotate
// the order of the cells of a workload; the table gives medians, and each
// kaio cell's ratio to the best non-kaio cell, the median of per-round ratios.
// --cold drops the page cache (echo 3 > /proc/sys/vm/drop_caches, root) before every cell.
// copy-sync and copy-api-sync: the copy rows again with each copy fdatasync'ed inside the
// clock (in copy and copy-api a copy that skips ext4's writeback at close, Bun.write's
// fallocate, never writes its data: the next copy's truncation drops it).
// Then the HTTP static file server rows (bench/peers-http.js, wrk; --only=http-4k,http-64k,http-large
// selects them, and --http-runtime=3 sets their seconds per cell), in the same table.
// writefile-new: each cell creates its files in a directory of its own, after
// a sync; they are removed once the workload's rounds are over, not between
// cells (ext4 scans past inodes deleted in the last 30 s when it allocates
// one, recently_deleted(): removing one cell's files made the next cell's
// creations several times dearer). --fresh-fs (root): each cell on a new ext4
// of its own instead (mkfs on a loop image in /dev/shm), free of the other
// files of the machine's disk.
const { execFileSync, spawnSync } = require('node:child_process');
const peersHttp = require('./peers-http');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');
const dataDir = path.join(root, '.bench-data', 'peers-data');
const cacheDir = path.join(root, '.bench-data', 'peers');
const worker = path.join(__dirname, 'peers-worker.mjs');

function arg(name, dflt) {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : dflt;
}
const rounds = Number(arg('rounds', 3));
const runtime = Number(arg('runtime', 1.5));
const copyMiB = Number(arg('copy-mib', 256));
const only = arg('only', '') ? arg('only', '').split(',') : undefined;
const cold = process.argv.includes('--cold');
const freshFs = process.argv.includes('--fresh-fs');
// --cells=a,b: only these cells (by name, from CELLS) of each workload, e.g. to compare two kaio variants.
const onlyCells = arg('cells', '') ? arg('cells', '').split(',') : undefined;
// --old=PATH: beside each kaio cell, the same cell on another built kaio tree (e.g. a worktree of an
// older commit), named '<cell> old', in the same rounds: an interleaved A/B of two builds.
const oldKaio = arg('old', '') ? path.resolve(arg('old', '')) : undefined;

/** The Bun and Deno binaries, installed on demand with npm into .bench-data/peers/. */
function runtimes() {
  const bun = path.join(cacheDir, 'node_modules', '@oven', 'bun-linux-x64', 'bin', 'bun');
  const deno = path.join(cacheDir, 'node_modules', '@deno', 'linux-x64-glibc', 'deno');
  if (!fs.existsSync(bun) || !fs.existsSync(deno)) {
    fs.mkdirSync(cacheDir, { recursive: true });
    execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', '--prefix', cacheDir, '@oven/bun-linux-x64', 'deno'], { stdio: 'inherit' });
  }
  const version = (bin, ...a) => execFileSync(bin, a, { encoding: 'utf8' }).split('\n')[0].trim();
  return { bun, deno, versions: { node: process.version, bun: version(bun, '--version'), deno: version(deno, '--version') } };
}

function fillFile(p, size) {
  if (fs.existsSync(p) && fs.statSync(p).size === size) return;
  const chunk = Buffer.alloc(1 << 20);
  for (let i = 0; i < chunk.length; i++) chunk[i] = (i * 2654435761) >>> 24;
  const fd = fs.openSync(p, 'w');
  for (let at = 0; at < size; at += chunk.length) fs.writeSync(fd, chunk, 0, Math.min(chunk.length, size - at), at);
  fs.closeSync(fd);
}

function fileSet(name, count, size) {
  const dir = path.join(dataDir, name);
  fs.mkdirSync(dir, { recursive: true });
  const files = [];
  for (let i = 0; i < count; i++) {
    const p = path.join(dir, `f${i}`);
    if (!fs.existsSync(p) || fs.statSync(p).size !== size) fs.writeFileSync(p, Buffer.alloc(size, i & 0xff));
    files.push(p);
  }
  return files;
}

function warm(p) {
  const fd = fs.openSync(p, 'r');
  const buf = Buffer.allocUnsafe(1 << 20);
  let at = 0;
  for (let n; (n = fs.readSync(fd, buf, 0, buf.length, at)) > 0;) at += n;
  fs.closeSync(fd);
}

// Which API of which runtime runs a cell.
const CELLS = {
  'node fsp': { rt: 'node', api: 'fsp' },
  'node fh': { rt: 'node', api: 'fsp-fh' },
  'node uring fsp': { rt: 'node', api: 'fsp', env: { UV_USE_IO_URING: '1' } },
  'node uring fh': { rt: 'node', api: 'fsp-fh', env: { UV_USE_IO_URING: '1' } },
  'node streams': { rt: 'node', api: 'fsp' },
  'kaio': { rt: 'node', api: 'kaio', kaio: true },
  'kaio no async': { rt: 'node', api: 'kaio', kaio: true, env: { KAIO_READ_ASYNC: '0' } },
  'kaio inline': { rt: 'node', api: 'kaio', kaio: true, env: { KAIO_CACHED_READ: '1' } },
  'kaio inPlace': { rt: 'node', api: 'kaio-inplace', kaio: true },
  'kaio fh': { rt: 'node', api: 'kaio-fh', kaio: true },
  // Streams with every chunk through the ring (no inline preadv2 RWF_NOWAIT of cached chunks): --cells= to compare.
  'kaio fh no inline': { rt: 'node', api: 'kaio-fh', kaio: true, env: { KAIO_INLINE_STREAM_READ: '0' } },
  'kaio ring': { rt: 'node', api: 'kaio-ring', kaio: true },
  // FileHandle.read() into caller memory without its RWF_NOWAIT first try (every read bounced): --cells= to compare.
  'kaio fh bounce': { rt: 'node', api: 'kaio-fh', kaio: true, env: { KAIO_NOWAIT_READ: '0' } },
  'bun fsp': { rt: 'bun', api: 'fsp' },
  'bun fh': { rt: 'bun', api: 'fsp-fh' },
  'bun streams': { rt: 'bun', api: 'fsp' },
  'Bun.*': { rt: 'bun', api: 'bun' },
  'node rename': { rt: 'node', api: 'fsp-rename' },
  'kaio rename': { rt: 'node', api: 'kaio-rename', kaio: true },
  'node flush': { rt: 'node', api: 'fsp-flush' },
  'kaio flush': { rt: 'node', api: 'kaio-flush', kaio: true },
  'kaio inPlace flush': { rt: 'node', api: 'kaio-inplace-flush', kaio: true },
  'node copyFile': { rt: 'node', api: 'fsp-copyfile' },
  'kaio copyFile': { rt: 'node', api: 'kaio-copyfile', kaio: true },
  'deno fsp': { rt: 'deno', api: 'fsp' },
  'deno fh': { rt: 'deno', api: 'fsp-fh' },
  'deno streams': { rt: 'deno', api: 'fsp' },
  'Deno.*': { rt: 'deno', api: 'deno' },
};

const readCells = ['node fsp', 'node uring fsp', 'kaio', 'kaio no async', 'kaio inline', 'bun fsp', 'Bun.*', 'deno fsp', 'Deno.*'];
const preadCells = ['node fh', 'node uring fh', 'kaio fh', 'kaio ring', 'bun fh', 'Bun.*', 'deno fh', 'Deno.*'];
const writeCells = ['node fsp', 'node uring fsp', 'kaio', 'kaio inPlace', 'bun fsp', 'Bun.*', 'deno fsp', 'Deno.*'];

function workloads() {
  fs.mkdirSync(dataDir, { recursive: true });
  // Only the data files of the workloads asked for (--only) are made.
  const wanted = (...names) => !only || names.some((n) => only.includes(n));
  const big = path.join(dataDir, 'big-256m');
  if (wanted('pread-qd1', 'pread-qd32')) fillFile(big, 256 << 20);
  const mid = path.join(dataDir, 'mid-64m');
  if (wanted('readfile-64m')) fillFile(mid, 64 << 20);
  const src = path.join(dataDir, `copy-src-${copyMiB}m`);
  if (wanted('copy', 'copy-hwm', 'copy-api', 'copy-sync', 'copy-api-sync')) fillFile(src, copyMiB << 20);
  const small4 = wanted('readfile-4k') ? fileSet('files-4k', 2000, 4096) : [];
  const small64 = wanted('readfile-64k') ? fileSet('files-64k', 2000, 65536) : [];
  const existing = wanted('writefile-existing', 'writefile-options') ? fileSet('existing-4k', 512, 4096) : [];
  // This run's own (another run's done() must not remove the directories of this one's cells).
  const scratch = path.join(dataDir, `scratch-${process.pid}`);
  const dest = path.join(dataDir, `copy-dest-${process.pid}`);
  // In the stream copy rows, measured and shown but not the peer kaio's streams are compared with:
  // neither passes the chunks through JavaScript. Bun.write(dst, Bun.file(src)) is one
  // copy_file_range in the kernel (its copy function, as in copy-api); Deno's
  // FsFile.readable.pipeTo(FsFile.writable) copies between the two files in Deno's own threads
  // (read/write, up to 16 MiB a time), the chunks never in JavaScript. See BENCHMARKS.md
  // "Stream copy: what each peer does".
  const notStreams = ['Bun.*', 'Deno.*'];
  return [
    { name: 'readfile-4k', label: 'readFile, 2,000 files of 4 KiB, 64 in flight', cells: readCells, params: { files: small4, inFlight: 64 }, warm: small4 },
    { name: 'readfile-64k', label: 'readFile, 2,000 files of 64 KiB, 64 in flight', cells: readCells, params: { files: small64, inFlight: 64 }, warm: small64 },
    { name: 'readfile-64m', label: 'readFile of one 64 MiB file (MiB/s)', cells: readCells, params: { files: [mid], inFlight: 1 }, warm: [mid], mib: 64 },
    { name: 'pread-qd1', label: '4 KiB pread, 256 MiB file, 1 in flight', cells: preadCells, params: { bigFile: big }, warm: [big] },
    { name: 'pread-qd32', label: '4 KiB pread, 256 MiB file, 32 in flight', cells: preadCells, params: { bigFile: big }, warm: [big] },
    {
      name: 'writefile-new', label: 'writeFile 4 KiB to new files, 32 in flight', cells: writeCells,
      params: { size: 4096, inFlight: 32, fresh: true },
      before: () => ({ dir: newFilesDir(scratch) }),
      after: () => (freshFs ? freshFsDone() : undefined),
      done: () => fs.rmSync(scratch, { recursive: true, force: true }),
    },
    { name: 'writefile-existing', label: 'writeFile 4 KiB over 512 existing files, 32 in flight', cells: writeCells, params: { files: existing, size: 4096, inFlight: 32 } },
    {
      // Only with --only=writefile-options: the ways to replace a file's content, side by side.
      name: 'writefile-options', label: 'replace 4 KiB files: O_TRUNC, inPlace, rename-replace, with and without flush', optional: true,
      cells: ['node fsp', 'kaio', 'kaio inPlace', 'Bun.*', 'node rename', 'kaio rename', 'node flush', 'kaio flush', 'kaio inPlace flush'],
      params: { files: existing, size: 4096, inFlight: 32 },
    },
    {
      name: 'append-64', label: 'appendFile of 128 B lines to one log, 64 producers', cells: ['node fsp', 'node fh', 'node uring fsp', 'kaio', 'kaio fh', 'bun fsp', 'bun fh', 'deno fsp', 'Deno.*'],
      params: { log: path.join(dataDir, 'append.log'), producers: 64, line: 128 }, after: () => fs.rmSync(path.join(dataDir, 'append.log'), { force: true }),
    },
    {
      name: 'wal', label: 'WAL: 256 B records, 64 producers, write + fdatasync group commit', cells: ['node fh', 'node uring fh', 'kaio fh', 'kaio ring', 'bun fh', 'deno fh', 'Deno.*'],
      params: { log: path.join(dataDir, 'wal.log'), producers: 64, record: 256 }, after: () => fs.rmSync(path.join(dataDir, 'wal.log'), { force: true }),
    },
    {
      name: 'copy', label: `stream copy of a ${copyMiB} MiB file (MiB/s)`, cells: ['node streams', 'node uring fsp', 'kaio fh', 'kaio fh no inline', 'bun streams', 'Bun.*', 'deno streams', 'Deno.*'],
      aside: notStreams,
      params: { src, dest }, warm: [src], mib: copyMiB,
      after: () => fs.rmSync(dest, { force: true }),
    },
    {
      // Only with --only=copy-hwm: the stream copy with 1 MiB chunks (highWaterMark on both streams), Node's stream API in every runtime.
      name: 'copy-hwm', label: `stream copy of a ${copyMiB} MiB file, highWaterMark 1 MiB (MiB/s)`, optional: true,
      cells: ['node streams', 'kaio fh', 'bun streams', 'deno streams'],
      params: { src, dest, hwm: 1 << 20 }, warm: [src], mib: copyMiB,
      after: () => fs.rmSync(dest, { force: true }),
    },
    {
      name: 'copy-api', label: `copy of a ${copyMiB} MiB file, each runtime's copy function (MiB/s)`, cells: ['node copyFile', 'kaio copyFile', 'Bun.*', 'Deno.*'],
      params: { src, dest }, warm: [src], mib: copyMiB,
      after: () => fs.rmSync(dest, { force: true }),
    },
    // The two copies again, each then made durable (fdatasync of the
    // destination inside the clock). Above, each copy's O_TRUNC or ftruncate
    // of the destination throws away the last copy's dirty pages before they
    // are written back: a copy whose close does not start writeback (Bun.write
    // fallocates, so ext4's auto_da_alloc flush on close finds no delayed
    // blocks) never writes its data to the disk in that loop, while node's,
    // kaio's and Deno's (truncate, then delayed allocation: flush on close)
    // write each copy. Here every cell writes every copy.
    {
      name: 'copy-sync', label: `stream copy of a ${copyMiB} MiB file, then fdatasync (MiB/s)`, cells: ['node streams', 'kaio fh', 'bun streams', 'Bun.*', 'deno streams', 'Deno.*'],
      aside: notStreams,
      params: { src, dest, sync: true }, warm: [src], mib: copyMiB,
      after: () => fs.rmSync(dest, { force: true }),
    },
    {
      name: 'copy-api-sync', label: `copy of a ${copyMiB} MiB file, each runtime's copy function, then fdatasync (MiB/s)`, cells: ['node copyFile', 'kaio copyFile', 'Bun.*', 'Deno.*'],
      params: { src, dest, sync: true }, warm: [src], mib: copyMiB,
      after: () => fs.rmSync(dest, { force: true }),
    },
  ].filter((w) => (only ? only.includes(w.name) : !w.optional))
    .map((w) => (onlyCells ? { ...w, cells: onlyCells.filter((c) => CELLS[c]) } : w))
    .map((w) => (oldKaio ? { ...w, cells: w.cells.flatMap((c) => (CELLS[c].kaio ? [c, oldCell(c)] : [c])) } : w));
}

/** The '<cell> old' twin of a kaio cell (--old). */
function oldCell(c) {
  const name = `${c} old`;
  CELLS[name] = { ...CELLS[c], kaioPath: oldKaio };
  return name;
}

let newFilesCell = 0;
let freshMount;
const freshImage = '/dev/shm/kaio-peers-fresh.img';

/** A new empty directory for one writefile-new cell (see the header), after a sync. */
function newFilesDir(scratch) {
  if (freshFs) {
    freshMount = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-peers-fs-'));
    fs.rmSync(freshImage, { force: true });
    execFileSync('truncate', ['-s', '4G', freshImage]);
    execFileSync('mkfs.ext4', ['-q', '-F', '-N', '1000000', '-E', 'lazy_itable_init=0,lazy_journal_init=0', freshImage]);
    execFileSync('mount', ['-o', 'loop', freshImage, freshMount]);
    return freshMount;
  }
  const dir = path.join(scratch, `cell${newFilesCell++}`);
  fs.mkdirSync(dir, { recursive: true });
  execFileSync('sync');
  return dir;
}

function freshFsDone() {
  execFileSync('umount', [freshMount]);
  fs.rmdirSync(freshMount);
  fs.rmSync(freshImage, { force: true });
}

function runCell(bins, w, cellName) {
  const cell = CELLS[cellName];
  const bin = cell.rt === 'node' ? process.execPath : bins[cell.rt];
  const pre = cell.rt === 'deno' ? ['run', '--allow-all', '--quiet'] : [];
  const extra = w.before ? w.before() : undefined;
  const params = JSON.stringify({ ...w.params, ...extra, kaioPath: cell.kaioPath || root });
  if (cold) fs.writeFileSync('/proc/sys/vm/drop_caches', '3');
  else for (const f of w.warm || []) warm(f);
  const r = spawnSync(bin, [...pre, worker, w.name, cell.api, String(runtime), params], {
    encoding: 'utf8', env: { ...process.env, ...(cell.env || {}) }, maxBuffer: 1 << 24,
  });
  if (w.after) w.after();
  const line = r.stdout.trim().split('\n').pop();
  if (r.status !== 0 || !line.startsWith('{')) throw new Error(`${cellName} ${w.name}: exit ${r.status}\n${r.stderr}`);
  const out = JSON.parse(line);
  // CPU time per op, or per MiB on the MiB/s rows.
  return { rate: (out.ops * (w.mib || 1)) / out.seconds, cpuUs: out.cpuUs / (out.ops * (w.mib || 1)) };
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

function fmt(rate) {
  if (rate >= 1e6) return `${(rate / 1e6).toFixed(2)}M`;
  if (rate >= 1e4) return `${Math.round(rate / 1e3)}k`;
  if (rate >= 1e3) return `${(rate / 1e3).toFixed(1)}k`;
  return rate.toFixed(rate >= 100 ? 0 : 1);
}

async function main() {
  const bins = runtimes();
  const list = workloads();
  const load0 = os.loadavg();
  console.log(`# peers: ${os.cpus().length} CPUs, Linux ${os.release()}, node ${bins.versions.node}, bun ${bins.versions.bun}, ${bins.versions.deno}; ` +
    `${rounds} rounds of ${runtime} s per cell${cold ? ', page cache dropped before every cell' : ', warm page cache'}; load average ${load0.map((x) => x.toFixed(2)).join(' ')}`);
  const results = [];
  for (const w of list) {
    const per = Object.fromEntries(w.cells.map((c) => [c, []]));
    for (let r = 0; r < rounds; r++) {
      const order = w.cells.map((_, i) => w.cells[(i + r) % w.cells.length]);
      for (const c of order) per[c].push(runCell(bins, w, c));
    }
    if (w.done) w.done();
    const others = w.cells.filter((c) => !CELLS[c].kaio);
    const compared = others.filter((c) => !(w.aside || []).includes(c));
    const peers = compared.length ? compared : others;
    const bestPeer = peers.reduce((a, b) => (median(per[a].map((x) => x.rate)) >= median(per[b].map((x) => x.rate)) ? a : b));
    const row = { w, per, bestPeer, ratios: {} };
    for (const c of w.cells.filter((x) => CELLS[x].kaio)) {
      row.ratios[c] = median(per[c].map((x, i) => x.rate / per[bestPeer][i].rate));
    }
    results.push(row);
    const cells = w.cells.map((c) => `${c} ${fmt(median(per[c].map((x) => x.rate)))} (${median(per[c].map((x) => x.cpuUs)).toFixed(w.mib ? 0 : 1)} µs CPU)`).join(' | ');
    console.log(`${w.name}: ${cells}`);
    console.log(`  rounds: ${w.cells.map((c) => `${c} ${per[c].map((x) => fmt(x.rate)).join('/')}`).join(' | ')}`);
    console.log(`  best peer ${bestPeer}${w.aside ? ` (not compared: ${w.aside.join(', ')})` : ''}; kaio: ${Object.entries(row.ratios).map(([c, x]) => `${c} ${x.toFixed(2)}x`).join(', ')}`);
  }
  const httpOnly = only?.filter((n) => peersHttp.HTTP_ROWS.includes(n));
  const httpRows = !only || httpOnly.length ? await peersHttp.runHttp({
    ...peersHttp.optionsFromArgv(), runtime: Number(arg('http-runtime', 3)), only: httpOnly, cells: onlyCells,
  }) : [];
  const load1 = os.loadavg();
  console.log(`\nload average at the end: ${load1.map((x) => x.toFixed(2)).join(' ')}\n`);
  // The markdown table: one row per workload, median rate per cell, CPU µs per op.
  console.log('| workload | best peer | best kaio | kaio / best peer | all cells: median rate (CPU µs per op, or per MiB) |');
  console.log('|---|---|---|---|---|');
  for (const { w, per, bestPeer, ratios } of results) {
    const [bestKaio, ratio] = Object.entries(ratios).reduce((a, b) => (b[1] > a[1] ? b : a));
    const aside = (c) => ((w.aside || []).includes(c) ? ', not compared' : '');
    const cells = w.cells.map((c) => `${c} ${fmt(median(per[c].map((x) => x.rate)))} (${median(per[c].map((x) => x.cpuUs)).toFixed(w.mib ? 0 : 1)}${aside(c)})`).join('; ');
    console.log(`| ${w.label} | ${bestPeer} ${fmt(median(per[bestPeer].map((x) => x.rate)))} | ${bestKaio} ${fmt(median(per[bestKaio].map((x) => x.rate)))} | **${ratio.toFixed(2)}×** | ${cells} |`);
  }
  // HTTP rows: req/s, and the server's CPU µs per request.
  for (const r of httpRows) console.log(r);
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
