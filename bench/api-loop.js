'use strict';
// One minimal loop over kaio's public API, in this process, printed as JSON:
// what an application written against the library gets, without `kaio
// bench`'s fio bookkeeping. bench/api.js runs these against t/io_uring and fio.
//   node bench/api-loop.js <loop> <seconds> [file]
// KAIO_LOOP_OPS=N: run N ops (after a warm-up of KAIO_LOOP_WARM, default 100,000) instead of for a time, so
// that user-space instructions per op can be counted (valgrind --tool=callgrind).
// loops: pagecache-batch, pagecache-promise (4 KiB random reads, QD 32, fixed
// buffers and files), nop-batch, nop-promise (depth 128), qd1-batch,
// qd1-promise (4 KiB random O_DIRECT reads at QD 1, latency of every op).
// A loop name ending in -defer runs on a ring with deferTaskrun: true; one
// ending in -inline on a ring with waitInline: 1000 (µs).
const fs = require('node:fs');
const { Ring } = require('..');

const [loopArg, secondsArg, file] = process.argv.slice(2);
const deferTaskrun = loopArg.endsWith('-defer');
const waitInline = loopArg.endsWith('-inline') ? 1000 : 0;
const loop = loopArg.replace(/-(defer|inline)$/, '');
const seconds = Number(secondsArg);
const BS = 4096;

/** xorshift32: block numbers in [0, n). */
function picker(n) {
  let s = (Math.random() * 0xffffffff) >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return ((s >>> 0) % n) * BS;
  };
}

/** Runs `body(until)` (it returns the ops done) once to warm up, then timed. */
const limit = Number(process.env.KAIO_LOOP_OPS) || Infinity;

async function measure(body) {
  await body(limit === Infinity ? performance.now() + 200 : Infinity, limit === Infinity ? Infinity : Number(process.env.KAIO_LOOP_WARM) || 100000);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const ops = await body(limit === Infinity ? t0 + seconds * 1000 : Infinity, limit);
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  return { ops, seconds: wall, iops: ops / wall, cpuus: (cpu.user + cpu.system) / ops, userus: cpu.user / ops };
}

/** Batch API: keep `depth` ops in flight, submit and wait for `batch` at a time (t/io_uring's -s/-c). */
function batchLoop(ring, depth, batch, prep) {
  let done = 0;
  let inFlight = 0;
  const free = [];
  ring.onCompletion((tag, res) => {
    if (res < 0) throw new Error(`op failed: ${res}`);
    free.push(tag);
    done++;
    inFlight--;
  });
  // One turn: refill, submit, wait for `batch`; a function of its own so it
  // is optimised like an application's code, not only by on-stack replacement.
  const turn = () => {
    while (free.length !== 0) {
      prep(free.pop());
      inFlight++;
    }
    ring.submitAndWait(Math.min(batch, inFlight));
  };
  return (until, max) => {
    done = 0;
    free.length = 0;
    for (let t = 0; t < depth; t++) free.push(t);
    // the clock once per 64 turns, as t/io_uring reads it once a second
    for (let checks = 1; done < max && ((checks & 63) !== 0 || performance.now() < until); checks++) turn();
    while (inFlight > 0) ring.submitAndWait(1);
    return done;
  };
}

/** Promise API: `depth` async loops, each with one op in flight. */
function promiseLoops(depth, op) {
  return async (until, max) => {
    let done = 0;
    let stop = false;
    const timer = until === Infinity ? undefined : setTimeout(() => (stop = true), Math.max(0, until - performance.now()));
    const one = async (tag) => {
      while (!stop) {
        await op(tag);
        if (++done >= max) stop = true;
      }
    };
    await Promise.all(Array.from({ length: depth }, (_, t) => one(t)));
    clearTimeout(timer);
    return done;
  };
}

/** t/io_uring opens its files with O_NOATIME (no atime update per read); so do these loops, where allowed. */
function openLikeTIoUring(path, flags) {
  try {
    return fs.openSync(path, flags | fs.constants.O_NOATIME);
  } catch (e) {
    if (e.code !== 'EPERM') throw e;
    return fs.openSync(path, flags);
  }
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function main() {
  if (loop.startsWith('nop-')) {
    const ring = new Ring({ entries: 256, deferTaskrun });
    const body = loop === 'nop-batch'
      ? batchLoop(ring, 128, 32, (tag) => ring.prepNop(tag))
      : promiseLoops(128, () => ring.nop());
    const r = await measure(body);
    await ring.close();
    return r;
  }
  if (loop.startsWith('pagecache-')) {
    const fd = openLikeTIoUring(file, fs.constants.O_RDONLY);
    const blocks = Math.floor(fs.fstatSync(fd).size / BS);
    const ring = new Ring({ entries: 64, deferTaskrun });
    const pool = ring.registerBuffers({ count: 32, size: BS });
    const [ff] = ring.registerFiles([fd]);
    const next = picker(blocks);
    const bufs = pool.buffers;
    const body = loop === 'pagecache-batch'
      ? batchLoop(ring, 32, 8, (tag) => ring.prepRead(ff, bufs[tag], next(), tag))
      : promiseLoops(32, (tag) => ring.read(ff, bufs[tag], next()));
    const r = await measure(body);
    await ring.close();
    fs.closeSync(fd);
    return r;
  }
  if (loop.startsWith('qd1-')) {
    const fd = openLikeTIoUring(file, fs.constants.O_RDONLY | fs.constants.O_DIRECT);
    const blocks = Math.floor(fs.fstatSync(fd).size / BS);
    const ring = new Ring({ entries: 8, deferTaskrun, waitInline });
    const pool = ring.registerBuffers({ count: 1, size: BS });
    const [ff] = ring.registerFiles([fd]);
    const next = picker(blocks);
    const buf = pool.buffers[0];
    const lat = [];
    let body;
    if (loop === 'qd1-batch') {
      ring.onCompletion((_tag, res) => {
        if (res < 0) throw new Error(`read failed: ${res}`);
      });
      body = (until, max) => {
        lat.length = 0;
        let n = 0;
        for (let now = performance.now(); now < until && n < max; n++) {
          ring.prepRead(ff, buf, next(), 0);
          ring.submitAndWait(1);
          const t = performance.now();
          lat.push(t - now);
          now = t;
        }
        return n;
      };
    } else {
      body = async (until, max) => {
        lat.length = 0;
        let n = 0;
        for (let now = performance.now(); now < until && n < max; n++) {
          await ring.read(ff, buf, next());
          const t = performance.now();
          lat.push(t - now);
          now = t;
        }
        return n;
      };
    }
    const r = await measure(body);
    lat.sort((a, b) => a - b);
    r.lat = { p50: percentile(lat, 50) * 1000, p99: percentile(lat, 99) * 1000, mean: (lat.reduce((a, b) => a + b, 0) / lat.length) * 1000 };
    await ring.close();
    fs.closeSync(fd);
    return r;
  }
  throw new Error(`unknown loop ${loop}`);
}

main().then(
  (r) => process.stdout.write(`${JSON.stringify(r)}\n`),
  (e) => {
    console.error(e);
    process.exit(1);
  },
);
