// The benchmark engine behind `kaio bench`: runs one fio-like job through
// one API (kaio's batch or promise API, or node:fs as a peer) and measures
// ops, bytes, latency, CPU and memory growth.
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Ring } from '../ring';
import { alignedBuffer } from '../pool';
import type { FixedFile } from '../ring';
import { Histogram } from './histogram';
import type { BenchJob } from './options';
import { BenchError, prepareTarget } from './target';

export { BenchError, prepareFile } from './target';

export interface BenchResult {
  job: BenchJob;
  ops: number;
  bytes: number;
  seconds: number;
  iops: number;
  /** MiB/s */
  bw: number;
  /** Microseconds; undefined unless latencies were recorded. */
  lat?: { p50: number; p99: number; p999: number; mean: number; min: number; max: number };
  /** CPU time over wall time, percent (100 = one core busy). */
  cpu: { user: number; sys: number };
  /** Growth over the run, bytes (after a forced GC where available). */
  memory: { heapBefore: number; heapAfter: number; rssBefore: number; rssAfter: number };
  /** What could not be done as asked (e.g. fixedbufs that could not be pinned). */
  notes: string[];
  error?: { code: string; errno: number };
}

const O_DIRECT = fs.constants.O_DIRECT;

/** `count` page-aligned buffers of `size` bytes (O_DIRECT accepts them). */
export function alignedBuffers(count: number, size: number): Buffer[] {
  return Array.from({ length: count }, () => alignedBuffer(size));
}

/** xorshift32: a fast, allocation-free source of random block numbers. */
function makeRandom(seed = 0x2545f491): () => number {
  let x = seed | 0;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

interface Ctx {
  job: BenchJob;
  fd: number;
  blocks: number;
  buffers: Buffer[];
  hist: Histogram | undefined;
  notes: string[];
  nextOffset: () => number;
  deadline: number;
  maxOps: number;
  /** ring.stats.fixedOps at the end (kaio APIs). */
  fixedOps: number;
}

type Counts = { ops: number; bytes: number; error?: { code: string; errno: number } };

function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/**
 * Runs one job. Problems with the target (a block device too small or in
 * use, a path that cannot be created) throw BenchError or a Node system
 * error before any I/O; errors from the I/O itself land in result.error.
 */
export async function runJob(jobIn: BenchJob): Promise<BenchResult> {
  const notes: string[] = [];
  const isWrite = jobIn.rw === 'randwrite' || jobIn.rw === 'write';
  let job = jobIn;
  let fd = -1;
  let blocks = 0;
  if (job.rw !== 'nop') {
    const target = prepareTarget({
      filename: job.filename,
      size: job.size,
      bs: job.bs,
      write: isWrite,
      allowMountedWrite: job.allowMountedWrite,
    });
    job = { ...job, size: target.size };
    notes.push(...target.notes);
    // A write job on a block device holds an exclusive claim for the run
    // (unless told to write to it in use), so it cannot be mounted meanwhile.
    const excl = target.blockDevice && isWrite && !job.allowMountedWrite ? fs.constants.O_EXCL : 0;
    const flags = (isWrite ? fs.constants.O_RDWR : fs.constants.O_RDONLY) | (job.direct ? O_DIRECT : 0) | excl;
    try {
      fd = fs.openSync(job.filename, flags);
    } catch (e) {
      if (excl && (e as NodeJS.ErrnoException).code === 'EBUSY')
        throw new BenchError(`refusing to write to ${job.filename}: it is in use; --allow_mounted_write=1 to write anyway`);
      throw e;
    }
    blocks = Math.floor(job.size / job.bs);
  }
  const random = makeRandom();
  let seq = 0;
  const nextOffset =
    job.rw === 'randread' || job.rw === 'randwrite'
      ? () => Math.floor(random() * blocks) * job.bs
      : () => {
          const off = seq * job.bs;
          seq = seq + 1 === blocks ? 0 : seq + 1;
          return off;
        };
  const depth = job.api === 'node-sync' ? 1 : job.iodepth;
  const ctx: Ctx = {
    job,
    fd,
    blocks,
    buffers: [],
    hist: job.lat ? new Histogram() : undefined,
    notes,
    nextOffset,
    deadline: 0,
    maxOps: job.numberIos || Infinity,
    fixedOps: 0,
  };
  if (job.rw !== 'nop' && !job.api.startsWith('node') && job.fixedbufs) {
    // buffers come from the ring's registered pool; see runKaio
  } else if (job.rw !== 'nop') {
    ctx.buffers = job.direct ? alignedBuffers(depth, job.bs) : Array.from({ length: depth }, () => Buffer.alloc(job.bs));
    if (isWrite) for (const b of ctx.buffers) b.fill(0x5a);
  }

  gc();
  const mem0 = process.memoryUsage();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  ctx.deadline = t0 + job.runtime * 1000;
  let counts: Counts;
  try {
    switch (job.api) {
      case 'batch':
      case 'promise':
        counts = await runKaio(ctx, isWrite);
        break;
      case 'node-promises':
        counts = await runNodePromises(ctx, isWrite);
        break;
      case 'node-callback':
        counts = await runNodeCallback(ctx, isWrite);
        break;
      case 'node-sync':
        counts = runNodeSync(ctx, isWrite);
        break;
    }
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  gc();
  const mem1 = process.memoryUsage();
  const h = ctx.hist;
  if (job.fixedbufs && !job.api.startsWith('node') && job.rw !== 'nop' && ctx.fixedOps < counts.ops)
    notes.push(`fixedbufs: ${counts.ops - ctx.fixedOps} of ${counts.ops} ops were not *_FIXED (pool not pinned?)`);
  return {
    job,
    ops: counts.ops,
    bytes: counts.bytes,
    seconds,
    iops: counts.ops / seconds,
    bw: counts.bytes / seconds / 1024 / 1024,
    lat:
      h && h.count
        ? {
            p50: h.percentile(50) / 1000,
            p99: h.percentile(99) / 1000,
            p999: h.percentile(99.9) / 1000,
            mean: h.sum / h.count / 1000,
            min: h.min / 1000,
            max: h.max / 1000,
          }
        : undefined,
    cpu: { user: (cpu.user / 1e4) / seconds, sys: (cpu.system / 1e4) / seconds },
    memory: { heapBefore: mem0.heapUsed, heapAfter: mem1.heapUsed, rssBefore: mem0.rss, rssAfter: mem1.rss },
    notes,
    error: counts.error,
  };
}

/** kaio: batch (blocking submitAndWait loop, like fio) or promise (async workers on the event loop). */
async function runKaio(ctx: Ctx, isWrite: boolean): Promise<Counts> {
  const { job } = ctx;
  const depth = job.iodepth;
  let entries = job.entries;
  if (!entries) for (entries = 8; entries < depth; entries *= 2);
  const ring = new Ring({ entries, cqEntries: Math.max(entries * 2, depth * 2), submitBatch: job.batchSubmit });
  let file: number | FixedFile = ctx.fd;
  if (job.rw !== 'nop' && job.fixedbufs) {
    // Registered (pinned) buffers: reads and writes go out as READ_FIXED/WRITE_FIXED.
    const page = 4096;
    const pool = ring.registerBuffers({ count: depth, size: Math.ceil(job.bs / page) * page, fallback: true });
    ctx.buffers = pool.buffers.map((b) => b.subarray(0, job.bs));
    if (isWrite) for (const b of ctx.buffers) b.fill(0x5a);
  }
  if (job.rw !== 'nop' && job.registerfiles) file = ring.registerFiles([ctx.fd])[0];
  try {
    return job.api === 'batch' ? runBatch(ctx, ring, file, isWrite) : await runPromise(ctx, ring, file, isWrite);
  } finally {
    ctx.fixedOps = ring.stats.fixedOps;
    await ring.close();
  }
}

function runBatch(ctx: Ctx, ring: Ring, file: number | FixedFile, isWrite: boolean): Counts {
  const { job, buffers, hist, nextOffset, maxOps, deadline } = ctx;
  const depth = job.iodepth;
  const nop = job.rw === 'nop';
  const start = new Float64Array(depth);
  let issued = 0;
  let ops = 0;
  let bytes = 0;
  let inFlight = 0;
  let stopping = false;
  let error: Counts['error'];
  const issue = (tag: number): boolean => {
    if (hist) start[tag] = performance.now();
    const ok = nop
      ? ring.prepNop(tag)
      : isWrite
        ? ring.prepWrite(file, buffers[tag], nextOffset(), tag)
        : ring.prepRead(file, buffers[tag], nextOffset(), tag);
    if (ok) {
      issued++;
      inFlight++;
    }
    return ok;
  };
  // Tags whose op could not be prepared yet (SQ full): retried after a submit.
  const spare: number[] = [];
  ring.onCompletion((tag, res) => {
    inFlight--;
    if (res < 0) {
      error ??= { code: `errno ${res}`, errno: res };
      stopping = true;
      return;
    }
    ops++;
    bytes += res;
    if (hist) hist.record((performance.now() - start[tag]) * 1e6);
    if (stopping || issued >= maxOps) return;
    if (!issue(tag)) spare.push(tag);
  });
  for (let tag = 0; tag < depth && issued < maxOps; tag++) if (!issue(tag)) spare.push(tag);
  const min = Math.max(1, job.batchCompleteMin);
  let loops = 0;
  while (inFlight > 0 || spare.length) {
    ring.submitAndWait(Math.min(min, inFlight));
    while (spare.length && !stopping && issued < maxOps) {
      if (!issue(spare[spare.length - 1])) break;
      spare.pop();
    }
    if (stopping || issued >= maxOps) spare.length = 0;
    if ((++loops & 63) === 0 && performance.now() >= deadline) stopping = true;
  }
  ring.onCompletion(null);
  return { ops, bytes, error };
}

/**
 * iodepth async loops, each awaiting one op (buffer i) at a time until the
 * deadline or the op budget: how a promise user keeps a queue depth. The
 * same driver runs kaio's promise API and node:fs's, so they compare fairly.
 */
async function runAwaitLoops(ctx: Ctx, op: (buf: Buffer) => Promise<number | void>): Promise<Counts> {
  const { job, buffers, hist, maxOps } = ctx;
  let issued = 0;
  let ops = 0;
  let bytes = 0;
  let stopping = false;
  let error: Counts['error'];
  const timer = setTimeout(() => (stopping = true), Math.max(0, ctx.deadline - performance.now()));
  const worker = async (i: number): Promise<void> => {
    const buf = buffers[i];
    while (!stopping && issued < maxOps) {
      issued++;
      const t = hist ? performance.now() : 0;
      try {
        const n = await op(buf);
        if (n !== undefined) bytes += n;
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        error ??= { code: String(err.code), errno: Number(err.errno) };
        stopping = true;
        return;
      }
      ops++;
      if (hist) hist.record((performance.now() - t) * 1e6);
    }
  };
  const workers: Promise<void>[] = [];
  for (let i = 0; i < job.iodepth; i++) workers.push(worker(i));
  await Promise.all(workers);
  clearTimeout(timer);
  return { ops, bytes, error };
}

function runPromise(ctx: Ctx, ring: Ring, file: number | FixedFile, isWrite: boolean): Promise<Counts> {
  const { nextOffset } = ctx;
  if (ctx.job.rw === 'nop') return runAwaitLoops(ctx, () => ring.nop());
  return runAwaitLoops(ctx, (buf) => (isWrite ? ring.write(file, buf, nextOffset()) : ring.read(file, buf, nextOffset())));
}

async function runNodePromises(ctx: Ctx, isWrite: boolean): Promise<Counts> {
  const { job, nextOffset } = ctx;
  if (job.rw === 'nop') throw new Error('--rw=nop needs --api=batch or --api=promise');
  const fh = await fs.promises.open(job.filename, isWrite ? 'r+' : 'r');
  const counts = await runAwaitLoops(ctx, async (buf) =>
    isWrite
      ? (await fh.write(buf, 0, buf.length, nextOffset())).bytesWritten
      : (await fh.read(buf, 0, buf.length, nextOffset())).bytesRead,
  );
  await fh.close();
  return counts;
}

function runNodeCallback(ctx: Ctx, isWrite: boolean): Promise<Counts> {
  const { job, buffers, hist, nextOffset, maxOps, fd } = ctx;
  if (job.rw === 'nop') throw new Error('--rw=nop needs --api=batch or --api=promise');
  return new Promise((resolve) => {
    let issued = 0;
    let ops = 0;
    let bytes = 0;
    let inFlight = 0;
    let stopping = false;
    let error: Counts['error'];
    const start = new Float64Array(job.iodepth);
    const timer = setTimeout(() => (stopping = true), Math.max(0, ctx.deadline - performance.now()));
    const callbacks = buffers.map((_, i) => (err: NodeJS.ErrnoException | null, n: number): void => {
      inFlight--;
      if (err) {
        error ??= { code: String(err.code), errno: Number(err.errno) };
        stopping = true;
      } else {
        ops++;
        bytes += n;
        if (hist) hist.record((performance.now() - start[i]) * 1e6);
        if (!stopping && issued < maxOps) return issue(i);
      }
      if (inFlight === 0) {
        clearTimeout(timer);
        resolve({ ops, bytes, error });
      }
    });
    const issue = (i: number): void => {
      issued++;
      inFlight++;
      if (hist) start[i] = performance.now();
      const buf = buffers[i];
      if (isWrite) fs.write(fd, buf, 0, buf.length, nextOffset(), callbacks[i]);
      else fs.read(fd, buf, 0, buf.length, nextOffset(), callbacks[i]);
    };
    for (let i = 0; i < job.iodepth && issued < maxOps; i++) issue(i);
  });
}

function runNodeSync(ctx: Ctx, isWrite: boolean): Counts {
  const { job, buffers, hist, nextOffset, maxOps, fd, deadline } = ctx;
  if (job.rw === 'nop') throw new Error('--rw=nop needs --api=batch or --api=promise');
  const buf = buffers[0];
  let ops = 0;
  let bytes = 0;
  while (ops < maxOps) {
    const t = hist ? performance.now() : 0;
    bytes += isWrite ? fs.writeSync(fd, buf, 0, buf.length, nextOffset()) : fs.readSync(fd, buf, 0, buf.length, nextOffset());
    ops++;
    if (hist) hist.record((performance.now() - t) * 1e6);
    if ((ops & 255) === 0 && performance.now() >= deadline) break;
  }
  return { ops, bytes };
}
