'use strict';
// HTTP static file serving, kaio against the other runtimes, driven by wrk:
//   node bench/peers-http.js [--rounds=3] [--runtime=3] [--only=http-4k,http-64k,http-large] [--cells=...] [--cold]
//     [--connections=64] [--threads=1]
// (bench/peers.js runs it too, after its own rows, unless given --only without an http- row.)
// One server process per cell (bench/peers-http-server.mjs under node, Bun or
// Deno), serving a set of files; wrk (Debian's /usr/bin/wrk) on loopback asks
// for them in turn (a Lua script), with enough connections that the server,
// one process, saturates while wrk takes the other CPU. Reported per cell:
// requests/s (wrk), and the server's CPU per request (user + system of the
// whole server process, every thread, from /proc/<pid>/stat before and after
// the wrk run). Rounds rotate the cells' order; the ratio of the best kaio
// cell to the best other cell is the median of per-round ratios.
// Each server first gets one second of the same load, not counted (JIT
// warm-up). Before that, three GETs per row check the bytes served against the file.
// --cold drops the page cache (root) once before each cell's wrk run (each file is then read
// from the disk once, and served from the cache after).
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');
const dataDir = path.join(root, '.bench-data', 'peers-data', 'http');
const cacheDir = path.join(root, '.bench-data', 'peers');
const server = path.join(__dirname, 'peers-http-server.mjs');
const WRK = '/usr/bin/wrk';

function arg(name, dflt) {
  const hit = process.argv.find((a) => a.startsWith(`--${name}=`));
  return hit ? hit.slice(name.length + 3) : dflt;
}

const CELLS = {
  'node readFile': { rt: 'node', api: 'node-readfile' },
  'node stream': { rt: 'node', api: 'node-stream' },
  'kaio readFile': { rt: 'node', api: 'kaio-readfile', kaio: true },
  'kaio stream': { rt: 'node', api: 'kaio-stream', kaio: true },
  // Every chunk through the ring (no inline preadv2 RWF_NOWAIT of cached chunks): --cells= to compare.
  'kaio stream no inline': { rt: 'node', api: 'kaio-stream', kaio: true, env: { KAIO_INLINE_STREAM_READ: '0' } },
  'kaio sendFile': { rt: 'node', api: 'kaio-sendfile', kaio: true },
  // node:http with the bytes in memory: what node:http itself costs (not a peer; left out of the ratios).
  'node memory': { rt: 'node', api: 'node-memory', ref: true },
  'Bun.file': { rt: 'bun', api: 'bun' },
  'Deno.readFile': { rt: 'deno', api: 'deno-readfile' },
  'Deno.open': { rt: 'deno', api: 'deno-stream' },
};

function runtimes() {
  const bun = path.join(cacheDir, 'node_modules', '@oven', 'bun-linux-x64', 'bin', 'bun');
  const deno = path.join(cacheDir, 'node_modules', '@deno', 'linux-x64-glibc', 'deno');
  if (!fs.existsSync(bun) || !fs.existsSync(deno)) {
    fs.mkdirSync(cacheDir, { recursive: true });
    execFileSync('npm', ['install', '--no-save', '--no-audit', '--no-fund', '--ignore-scripts', '--prefix', cacheDir, '@oven/bun-linux-x64', 'deno'], { stdio: 'inherit' });
  }
  return { bun, deno };
}

/** count files of `size` bytes named <prefix>0..; each file's bytes depend on its index. */
function fileSet(prefix, count, size) {
  fs.mkdirSync(dataDir, { recursive: true });
  for (let i = 0; i < count; i++) {
    const p = path.join(dataDir, `${prefix}${i}`);
    if (fs.existsSync(p) && fs.statSync(p).size === size) continue;
    const b = Buffer.allocUnsafe(size);
    for (let j = 0; j < size; j++) b[j] = (j * 31 + i * 7) & 0xff;
    fs.writeFileSync(p, b);
  }
  return { prefix, count, size };
}

function warm(set) {
  for (let i = 0; i < set.count; i++) fs.readFileSync(path.join(dataDir, `${set.prefix}${i}`));
}

/** The wrk Lua script: GET /<prefix>0, /<prefix>1, ... in turn. */
function luaScript(set) {
  const p = path.join(dataDir, `${set.prefix}.lua`);
  fs.writeFileSync(p, `local n = ${set.count}\nlocal i = 0\nrequest = function()\n  i = (i + 1) % n\n  return wrk.format(nil, "/${set.prefix}" .. i)\nend\n`);
  return p;
}

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
/** User + system CPU of a whole process (all its threads), in µs. */
function cpuOf(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1e6) / CLK_TCK;
}

function startServer(bins, cellName) {
  const cell = CELLS[cellName];
  const bin = cell.rt === 'node' ? process.execPath : bins[cell.rt];
  const pre = cell.rt === 'deno' ? ['run', '--allow-all', '--quiet'] : [];
  const child = spawn(bin, [...pre, server, cell.api, JSON.stringify({ dir: dataDir, kaioPath: root })], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...(cell.env || {}) } });
  let err = '';
  child.stderr.on('data', (d) => { err += d; });
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d) => {
      out += d;
      const m = /listening (\d+)/.exec(out);
      if (m) {
        child.stdout.off('data', onData);
        child.stdout.resume();
        resolve({ child, port: Number(m[1]), stderr: () => err });
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${cellName}: server exited ${code} before listening\n${err}`)));
  });
}

function get(port, urlPath) {
  return new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: urlPath, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    }).on('error', reject);
  });
}

function wrk(port, script, seconds, connections, threads) {
  return new Promise((resolve, reject) => {
    const w = spawn(WRK, [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, '--timeout', '30s', '-s', script, `http://127.0.0.1:${port}/`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    w.stdout.on('data', (d) => { out += d; });
    w.stderr.on('data', (d) => { out += d; });
    w.once('exit', (code) => {
      const rps = /Requests\/sec:\s+([\d.]+)/.exec(out);
      const total = /(\d+) requests in/.exec(out);
      const bad = /Non-2xx or 3xx responses: (\d+)/.exec(out);
      const sockErr = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      if (code !== 0 || !rps || !total) return reject(new Error(`wrk failed (${code}):\n${out}`));
      if (bad) return reject(new Error(`wrk: ${bad[1]} error responses:\n${out}`));
      resolve({ rps: Number(rps[1]), requests: Number(total[1]), socketErrors: sockErr ? sockErr.slice(1).map(Number).reduce((a, b) => a + b, 0) : 0 });
    });
  });
}

async function runCell(bins, w, cellName, o) {
  const s = await startServer(bins, cellName);
  try {
    // The bytes served are the file's (first, last and a middle file of the set).
    for (const i of new Set([0, w.set.count >> 1, w.set.count - 1])) {
      const name = `${w.set.prefix}${i}`;
      const r = await get(s.port, `/${name}`);
      const want = fs.readFileSync(path.join(dataDir, name));
      if (r.status !== 200 || !r.body.equals(want) || Number(r.headers['content-length']) !== want.length) {
        throw new Error(`${cellName} ${w.name}: /${name} served status ${r.status}, ${r.body.length} bytes, content-length ${r.headers['content-length']}: not the file`);
      }
    }
    // Warm-up (JIT, connection pools): one second of the same load, not counted.
    await wrk(s.port, w.script, 1, w.connections ?? o.connections, o.threads);
    if (o.cold) fs.writeFileSync('/proc/sys/vm/drop_caches', '3');
    else warm(w.set);
    const cpu0 = cpuOf(s.child.pid);
    const r = await wrk(s.port, w.script, o.runtime, w.connections ?? o.connections, o.threads);
    const cpu = cpuOf(s.child.pid) - cpu0;
    return { rate: r.rps, cpuUs: r.requests ? cpu / r.requests : NaN, mibps: (r.rps * w.set.size) / (1 << 20), socketErrors: r.socketErrors };
  } finally {
    const exited = new Promise((resolve) => s.child.once('exit', resolve));
    s.child.kill('SIGKILL');
    await exited;
  }
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

function workloads(o) {
  const large = Number(o.largeMiB) << 20;
  return [
    { name: 'http-4k', label: 'HTTP GET of 1,000 files of 4 KiB (req/s)', set: fileSet('s', 1000, 4096) },
    { name: 'http-64k', label: 'HTTP GET of 1,000 files of 64 KiB (req/s)', set: fileSet('m', 1000, 65536) },
    { name: 'http-large', label: `HTTP GET of one ${o.largeMiB} MiB file (req/s)`, set: fileSet('l', 1, large), connections: 2 },
  ].filter((w) => !o.only || o.only.includes(w.name))
    .map((w) => ({ ...w, script: luaScript(w.set), cells: o.cells ? o.cells.filter((c) => CELLS[c]) : Object.keys(CELLS) }));
}

/**
 * Runs the HTTP rows; returns markdown table rows (the same columns as
 * bench/peers.js's table). Options: rounds, runtime (s), only, cells, cold,
 * connections, threads, largeMiB.
 */
async function runHttp(o) {
  const bins = runtimes();
  const rows = [];
  for (const w of workloads(o)) {
    const per = Object.fromEntries(w.cells.map((c) => [c, []]));
    for (let r = 0; r < o.rounds; r++) {
      const order = w.cells.map((_, i) => w.cells[(i + r) % w.cells.length]);
      for (const c of order) per[c].push(await runCell(bins, w, c, o));
    }
    const peers = w.cells.filter((c) => !CELLS[c].kaio && !CELLS[c].ref);
    const kaios = w.cells.filter((c) => CELLS[c].kaio);
    const med = (c, k) => median(per[c].map((x) => x[k]));
    const cellsText = w.cells.map((c) => `${c} ${fmt(med(c, 'rate'))} (${med(c, 'cpuUs').toFixed(1)})`).join('; ');
    console.log(`${w.name}: ${w.cells.map((c) => `${c} ${fmt(med(c, 'rate'))}/s (${med(c, 'cpuUs').toFixed(1)} µs CPU/req, ${med(c, 'mibps').toFixed(0)} MiB/s)`).join(' | ')}`);
    if (!peers.length || !kaios.length) {
      rows.push(`| ${w.label} | | | | ${cellsText} |`);
      continue;
    }
    const bestPeer = peers.reduce((a, b) => (med(a, 'rate') >= med(b, 'rate') ? a : b));
    const ratios = kaios.map((c) => [c, median(per[c].map((x, i) => x.rate / per[bestPeer][i].rate))]);
    const [bestKaio, ratio] = ratios.reduce((a, b) => (b[1] > a[1] ? b : a));
    // Server CPU per request: the same comparison, lower is better.
    const bestPeerCpu = peers.reduce((a, b) => (med(a, 'cpuUs') <= med(b, 'cpuUs') ? a : b));
    const cpuRatio = median(per[bestPeerCpu].map((x, i) => x.cpuUs / per[bestKaio][i].cpuUs));
    console.log(`  best peer ${bestPeer}; kaio: ${ratios.map(([c, x]) => `${c} ${x.toFixed(2)}x`).join(', ')}; CPU per request, ${bestPeerCpu} / ${bestKaio}: ${cpuRatio.toFixed(2)}x`);
    rows.push(`| ${w.label} | ${bestPeer} ${fmt(med(bestPeer, 'rate'))} | ${bestKaio} ${fmt(med(bestKaio, 'rate'))} | **${ratio.toFixed(2)}×** | ${cellsText} |`);
  }
  return rows;
}

function optionsFromArgv() {
  return {
    rounds: Number(arg('rounds', 3)),
    runtime: Number(arg('runtime', 3)),
    only: arg('only', '') ? arg('only', '').split(',') : undefined,
    cells: arg('cells', '') ? arg('cells', '').split(',') : undefined,
    cold: process.argv.includes('--cold'),
    connections: Number(arg('connections', 64)),
    threads: Number(arg('threads', 1)),
    largeMiB: Number(arg('large-mib', 16)),
  };
}

module.exports = { runHttp, optionsFromArgv, HTTP_ROWS: ['http-4k', 'http-64k', 'http-large'] };

if (require.main === module) {
  const o = optionsFromArgv();
  const load0 = os.loadavg();
  console.log(`# peers-http: ${os.cpus().length} CPUs, Linux ${os.release()}, wrk -t${o.threads} -c${o.connections} (large file: -c2), ` +
    `${o.rounds} rounds of ${o.runtime} s per cell${o.cold ? ', page cache dropped before every cell' : ', warm page cache'}; load average ${load0.map((x) => x.toFixed(2)).join(' ')}`);
  runHttp(o).then((rows) => {
    console.log(`\nload average at the end: ${os.loadavg().map((x) => x.toFixed(2)).join(' ')}\n`);
    console.log('| workload | best peer | best kaio | kaio / best peer | all cells: median req/s (server CPU µs per request) |');
    console.log('|---|---|---|---|---|');
    for (const r of rows) console.log(r);
  }, (e) => {
    console.error(e);
    process.exitCode = 1;
  });
}
