// One instance of a job (fio's "thread"), run inside its own worker thread
// with its own ring or context: picks each I/O (direction, offset, length),
// issues it through the chosen engine, and records slat/clat/lat per
// direction in fio-bucketed histograms. Live counters go to shared memory the
// main thread samples; a shared flag stops the job (Ctrl-C).
import * as fs from 'node:fs';
import { constants as osConstants } from 'node:os';
import { performance } from 'node:perf_hooks';
import { Ring, type FixedFile } from '../ring';
import { binding, BackendCounter, BackendOp, CQE_INTS } from '../binding';
import { ThreadpoolContext } from '../threadpool';
import { alignedBuffer } from '../pool';
import type { IoContext } from '../types';
import { Histogram, type HistogramData } from './histogram';
import type { BenchJob } from './options';
import { Rand, SkewedPicker, UniformPicker, type BlockPicker } from './random';
import { checkBlock, fillBlock, type VerifyFailure } from './verify';
import { Pacer, paced } from './pace';
import { FullCyclePicker } from './lfsr';
import { runPacedQueue, runPacedSync } from './engines/paced';
import { startLine } from './control';

/** Slots of the shared progress array. */
export const P_IOS = 0; // + 2 * ddir
export const P_BYTES = 1; // + 2 * ddir
export const P_STATE = 6;
export const P_SYNC = 7;
export const P_SLOTS = 8;
/** P_STATE values. */
export const S_SETUP = 0;
export const S_RAMP = 1;
export const S_RUN = 2;
export const S_VERIFY = 3;
export const S_DONE = 4;

export interface JobSetup {
  job: BenchJob;
  jobnum: number;
  filename: string;
  /** Bytes of the target the job uses (resolved by the main thread). */
  size: number;
  blockDevice: boolean;
  progress: SharedArrayBuffer;
  stop: SharedArrayBuffer;
  /** This instance's own stop flag (exitall, steady state), notified by the main thread. */
  term?: SharedArrayBuffer;
  /** Its flow's shared counters (flow=N). */
  flow?: SharedArrayBuffer;
  /** The group's start line (control.ts): every instance starting together waits there, as fio's threads do. */
  start?: SharedArrayBuffer;
}

export interface DirOutcome {
  ios: number;
  bytes: number;
  short: number;
  slat: HistogramData | null;
  clat: HistogramData;
  lat: HistogramData;
}

/** CPU use of the job's own thread (fio reports its job threads' rusage the same way). */
export interface ThreadCpu {
  /** Seconds of user and system time. */
  usr: number;
  sys: number;
  ctx: number;
  majf: number;
  minf: number;
}

const TICK = 0.01; // USER_HZ is 100 on every Linux architecture's /proc interface

/** This thread's counters, from /proc/thread-self (undefined without procfs). */
function threadCpu(): ThreadCpu | undefined {
  try {
    const stat = fs.readFileSync('/proc/thread-self/stat', 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const status = fs.readFileSync('/proc/thread-self/status', 'utf8');
    const ctx = [...status.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)/gm)].reduce((a, m) => a + Number(m[1]), 0);
    return { usr: Number(f[11]) * TICK, sys: Number(f[12]) * TICK, ctx, majf: Number(f[9]), minf: Number(f[7]) };
  } catch {
    return undefined;
  }
}

function cpuSince(a: ThreadCpu | undefined): ThreadCpu | undefined {
  const b = threadCpu();
  if (!a || !b) return undefined;
  return { usr: b.usr - a.usr, sys: b.sys - a.sys, ctx: b.ctx - a.ctx, majf: b.majf - a.majf, minf: b.minf - a.minf };
}

export interface JobOutcome {
  dirs: [DirOutcome, DirOutcome, DirOutcome];
  sync: { ios: number; lat: HistogramData };
  /** Milliseconds of the measured part (after ramp_time). */
  runtimeMs: number;
  /** Ops in flight when each op was committed: 1, 2-3, 4-7, 8-15, 16-31, 32-63, >=64 (fio's). */
  depth: number[];
  /** Ops per submit / completions per reap: 0, 4, 8, 16, 32, 64, >=64. */
  submit: number[];
  complete: number[];
  notes: string[];
  error?: { message: string; errno: number };
  verified: number;
  fixedOps: number;
  /** The job thread's CPU use over the measured part. */
  cpu?: ThreadCpu;
  /** Wall clock (ms since the epoch) when the job's I/O started (fio's job_start). */
  jobStart: number;
  /** The queue depth the job ended at: latency_target's settled depth, else iodepth (fio's latency_depth). */
  latencyDepth: number;
}

const DIR_NAMES = ['read', 'write', 'trim'];

function errnoCode(errno: number): string {
  for (const [k, v] of Object.entries(osConstants.errno)) if (v === errno) return k;
  return `errno ${errno}`;
}

/** fio's IO depths buckets: "4" holds depths 4-7, "8" 8-15 and so on (the depth when ops are committed). */
function depthBucket(n: number): number {
  return n >= 64 ? 6 : n >= 32 ? 5 : n >= 16 ? 4 : n >= 8 ? 3 : n >= 4 ? 2 : n >= 2 ? 1 : 0;
}
function batchBucket(n: number): number {
  return n === 0 ? 0 : n <= 4 ? 1 : n <= 8 ? 2 : n <= 16 ? 3 : n <= 32 ? 4 : n <= 64 ? 5 : 6;
}

class IoError extends Error {
  constructor(
    message: string,
    readonly errno: number,
  ) {
    super(message);
  }
}

/** The state of one job instance shared by every engine loop. */
export class Run {
  readonly job: BenchJob;
  readonly depthMax: number;
  readonly progress: Float64Array;
  readonly stopFlag: Int32Array;
  /** This instance's own stop flag (exitall, steady state). */
  readonly termFlag: Int32Array;
  /** rate, thinktime, flow, latency_target (pace.ts); null for a job without them, whose loop never looks further. */
  readonly pace: Pacer | null;
  jobStart = 0;
  readonly start: number;
  readonly end: number;
  readonly unit: number;
  readonly blocks: number;
  readonly picker: BlockPicker | undefined;
  readonly rand: Rand;
  readonly mixRand: Rand;
  readonly bsRand: Rand;
  readonly random: boolean;
  readonly maxLen: number;
  // The job's per-op settings, read once (not from the options object per op).
  /** rw or randrw: each op's direction drawn from rwmixread. */
  readonly mixed: boolean;
  /** The direction of every op when not mixed. */
  readonly dir0: number;
  readonly rwmixread: number;
  /** Block size per direction without a bssplit; 0 where a bssplit draws it. */
  readonly fixedLen: [number, number, number];
  /** An fsync (or fdatasync) after every this many writes; 0: none. */
  readonly syncEvery: number;
  readonly verifyOn: boolean;
  /** Verify reads check what they read (read or randread with verify). */
  readonly verifyReads: boolean;
  readonly nop: boolean;
  /**
   * Which figures are measured (fio's disable_lat/disable_clat/disable_slat;
   * gtod_reduce sets all three). lat: preparation to reap; clat: submission
   * (the kernel took the op) to reap; slat: preparation to submission.
   */
  readonly tLat: boolean;
  readonly tClat: boolean;
  readonly tSlat: boolean;
  /** Some figure is measured: ops are timed at all. */
  readonly timed: boolean;
  /**
   * The engine sees when the kernel took each op (io_uring's batch loop,
   * libaio): slat exists. Else an op's issue is the call that starts it, and
   * there is no slat, as with fio's sync engines.
   */
  slatMeasured = false;
  /** Budget outside ramp: number_ios, else size (bytes) unless time_based. */
  readonly limitIos: number;
  readonly limitBytes: number;
  readonly hist: Array<{ slat: Histogram; clat: Histogram; lat: Histogram }>;
  readonly syncLat = new Histogram();
  // Counters in typed arrays (no elements-kind checks or Smi tagging per op).
  readonly ios = new Float64Array(3);
  readonly bytes = new Float64Array(3);
  readonly shorts = new Float64Array(3);
  syncIos = 0;
  readonly depthLevels = new Float64Array(7);
  readonly submitLevels = new Float64Array(7);
  readonly completeLevels = new Float64Array(7);
  // per slot
  readonly slotDir: Uint8Array;
  readonly slotOff: Float64Array;
  readonly slotLen: Uint32Array;
  readonly tPrep: Float64Array;
  readonly tSub: Float64Array;
  buffers: Buffer[] = [];
  cursor: number;
  issued = 0;
  issuedBytes = 0;
  /** rw=randread:N: ops left before the next random offset; the last op's offset. */
  seqLeft = 0;
  lastOff = 0;
  writesSinceSync = 0;
  /** fsyncs due (fsync=N / fdatasync=N) and not yet issued. */
  syncPending = 0;
  inFlight = 0;
  seq = 0;
  /** Depth levels are counted at submit (batch API), else at issue. */
  batched = false;
  ramping: boolean;
  cpu0: ThreadCpu | undefined;
  cpu: ThreadCpu | undefined;
  t0 = 0;
  tEnd = 0;
  deadline: number;
  rampEnd: number;
  stopping = false;
  error: { message: string; errno: number } | undefined;
  verifyFail: VerifyFailure | undefined;
  verified = 0;
  readonly written: Map<number, number> | undefined;
  readonly notes: string[] = [];

  constructor(
    readonly setup: JobSetup,
    readonly filename: string,
  ) {
    const job = (this.job = setup.job);
    this.depthMax = job.ioengine === 'fs-sync' || job.ioengine === 'psync' || job.ioengine === 'sync' || job.ioengine === 'null' ? 1 : job.iodepth;
    this.progress = new Float64Array(setup.progress);
    this.stopFlag = new Int32Array(setup.stop);
    this.termFlag = new Int32Array(setup.term ?? new SharedArrayBuffer(4));
    this.start = job.offset + setup.jobnum * job.offsetIncrement;
    this.end = this.start + setup.size;
    const lens = [...job.bs, ...job.bssplit.flat().map(([s]) => s)];
    const used = this.directionsUsed();
    const usedLens = [0, 1].filter((d) => used[d]).flatMap((d) => (job.bssplit[d].length ? job.bssplit[d].map(([s]) => s) : [job.bs[d]]));
    this.maxLen = Math.max(...(usedLens.length ? usedLens : lens));
    // With verify, random ops are aligned to the largest block, so two writes never half-overlap
    // (a block read back is always one write's, whole).
    this.unit = job.verify ? this.maxLen : job.blockAlign || Math.min(...(usedLens.length ? usedLens : lens));
    if (this.end - this.start < this.maxLen) throw new IoError(`job region (offset ${this.start}, size ${setup.size}) is smaller than the block size ${this.maxLen}`, 22);
    this.blocks = Math.floor((this.end - this.start) / this.unit);
    const seed = (job.randrepeat ? job.randseed : (Math.random() * 2 ** 32) >>> 0) + setup.jobnum * 0x9e37;
    this.rand = new Rand(seed);
    this.mixRand = new Rand(seed ^ 0x5bd1e995);
    this.bsRand = new Rand(seed ^ 0x27d4eb2f);
    this.random = job.rw === 'randread' || job.rw === 'randwrite' || job.rw === 'randrw';
    this.mixed = job.rw === 'rw' || job.rw === 'randrw';
    this.dir0 = job.rw === 'write' || job.rw === 'randwrite' ? 1 : 0;
    this.rwmixread = job.rwmixread;
    this.fixedLen = [0, 1, 2].map((d) => (job.bssplit[d].length ? 0 : job.bs[d])) as [number, number, number];
    this.syncEvery = job.fsync || job.fdatasync;
    this.verifyOn = !!job.verify;
    this.verifyReads = !!job.verify && (job.rw === 'read' || job.rw === 'randread');
    this.nop = job.rw === 'nop';
    this.tLat = !job.disableLat;
    this.tClat = !job.disableClat;
    this.tSlat = !job.disableSlat;
    this.timed = this.tLat || this.tClat || this.tSlat;
    this.limitIos = job.numberIos || Infinity;
    // fio: io_size bytes (else the size) per loop, loops times; number_ios can only stop the job sooner.
    this.limitBytes = job.timeBased ? Infinity : (job.ioSize || setup.size) * job.loops;
    const splitMin = [0, 1, 2].map((d) => (job.bssplit[d].length ? Math.min(...job.bssplit[d].map(([s]) => s)) : 0)) as [number, number, number];
    const mixRand = new Rand(seed ^ 0x2545f491);
    this.pace = paced(job.pace)
      ? new Pacer(job.pace, job.name, job.bs, splitMin, [job.bssplit[0].length > 0, job.bssplit[1].length > 0], this.depthMax, this.mixed ? job.rwmixread : -1, setup.flow, () => mixRand.next())
      : null;
    if (this.random && job.randomGenerator === 'lfsr' && job.distribution.kind === 'random') this.picker = new FullCyclePicker(this.blocks, seed);
    else if (this.random)
      this.picker =
        job.distribution.kind === 'random'
          ? new UniformPicker(this.blocks, this.rand, !job.norandommap)
          : new SkewedPicker(this.blocks, this.rand, job.distribution);
    this.hist = [0, 1, 2].map(() => ({ slat: new Histogram(), clat: new Histogram(), lat: new Histogram() }));
    const d = this.depthMax + 1;
    this.slotDir = new Uint8Array(d);
    this.slotOff = new Float64Array(d);
    this.slotLen = new Uint32Array(d);
    this.tPrep = new Float64Array(d);
    this.tSub = new Float64Array(d);
    this.cursor = this.start;
    this.ramping = job.rampTime > 0;
    this.rampEnd = 0;
    this.deadline = Infinity;
    this.written = job.verify && used[1] && job.doVerify ? new Map() : undefined;
  }

  directionsUsed(): [boolean, boolean] {
    const rw = this.job.rw;
    const mixed = rw === 'rw' || rw === 'randrw';
    return [rw === 'read' || rw === 'randread' || (mixed && this.job.rwmixread > 0), rw === 'write' || rw === 'randwrite' || (mixed && this.job.rwmixread < 100)];
  }

  begin(): void {
    // fio starts a group's jobs together: wait for the siblings to be set up too
    if (this.setup.start) startLine(this.setup.start);
    const now = performance.now();
    this.t0 = now;
    this.cpu0 = threadCpu();
    this.rampEnd = now + this.job.rampTime * 1000;
    if (this.job.runtime) this.deadline = this.rampEnd + this.job.runtime * 1000;
    this.progress[P_STATE] = this.ramping ? S_RAMP : S_RUN;
    this.jobStart = Date.now();
    if (this.pace !== null) this.pace.begin(now);
  }

  /** Ramp over (or latency_target's final window): forget what was measured, start the clock. */
  endRamp(now: number): void {
    this.ramping = false;
    for (const h of this.hist) {
      h.slat.reset();
      h.clat.reset();
      h.lat.reset();
    }
    this.syncLat.reset();
    this.ios.fill(0);
    this.bytes.fill(0);
    this.shorts.fill(0);
    this.syncIos = 0;
    this.depthLevels.fill(0);
    this.submitLevels.fill(0);
    this.completeLevels.fill(0);
    for (let i = 0; i < 6; i++) this.progress[i] = 0;
    this.progress[P_SYNC] = 0;
    this.t0 = now;
    this.cpu0 = threadCpu();
    this.progress[P_STATE] = S_RUN;
  }

  /**
   * Whether the job goes on: not past the runtime, not stopped (Ctrl-C), no
   * error. The loops call it once per turn (batch) or per clock read, not per
   * op: the shared stop flag is an atomic load.
   */
  poll(now: number): boolean {
    if (this.stopping) return false;
    if (now >= this.deadline || Atomics.load(this.stopFlag, 0) !== 0 || Atomics.load(this.termFlag, 0) !== 0) this.stopping = true;
    return !this.stopping;
  }

  /** Whether another op may start (budget, runtime, an error; the stop flag as of the last poll()). */
  more(now: number): boolean {
    if (this.stopping) return false;
    if (now >= this.deadline) {
      this.stopping = true;
      return false;
    }
    return this.ramping || (this.issued < this.limitIos && this.issuedBytes < this.limitBytes);
  }

  #len(dir: number): number {
    const split = this.job.bssplit[dir];
    let r = this.bsRand.next() * 100;
    for (const [s, p] of split) {
      if (r < p) return s;
      r -= p;
    }
    return split[split.length - 1][0];
  }

  /** Chooses the next op for slot `tag`; false when the job is done. */
  next(tag: number, now: number): boolean {
    if (!this.more(now)) return false;
    let dir = this.mixed ? (this.mixRand.next() * 100 < this.rwmixread ? 0 : 1) : this.dir0;
    if (this.pace !== null) {
      // Not now (a rate, think, flow or depth hold): the paced loop waits as the pacer says.
      dir = this.pace.admit(dir, tag, now, this);
      if (dir < 0) return false;
    }
    const len = this.fixedLen[dir] || this.#len(dir);
    let off: number;
    const { seqNr, seqAdd } = this.job;
    if (this.random && seqNr && this.seqLeft > 0 && (this.job.rwSequencer === 'identical' || this.cursor + len <= this.end)) {
      // rw=randread:N: the N-1 ops after a random one go on from it (or repeat it, rw_sequencer=identical).
      this.seqLeft--;
      off = this.job.rwSequencer === 'identical' ? this.lastOff : this.cursor;
      this.cursor = off + len;
    } else if (this.random) {
      off = this.start + this.picker!.next() * this.unit;
      if (off + len > this.end) off = this.start + Math.floor((this.end - this.start - len) / this.unit) * this.unit;
      this.cursor = off + len;
      this.seqLeft = seqNr - 1;
    } else if (seqAdd) {
      // rw=read:8k (fio's ddir_seq_add): each offset is the previous op's end plus the suffix;
      // past the end a forward job wraps to the start, a backward one to the end.
      let pos = this.cursor - this.start;
      if (pos !== 0) {
        pos += seqAdd;
        if (pos < 0 || pos + len > this.end - this.start) pos = seqAdd > 0 ? 0 : Math.max(0, this.end - this.start + seqAdd);
      }
      off = this.start + pos;
      this.cursor = off + len;
    } else {
      if (this.cursor + len > this.end) this.cursor = this.start;
      off = this.cursor;
      this.cursor += len;
    }
    this.lastOff = off;
    this.slotDir[tag] = dir;
    this.slotOff[tag] = off;
    this.slotLen[tag] = len;
    this.issued++;
    this.issuedBytes += len;
    if (dir === 1) {
      if (this.syncEvery && ++this.writesSinceSync >= this.syncEvery) {
        // fio: an fsync after every N writes issued
        this.writesSinceSync = 0;
        this.syncPending++;
      }
      const verify = this.verifyOn ? this.job.verify : '';
      if (verify) fillBlock(verify, this.buf(tag), off, ++this.seq, this.job.verifyPattern);
    }
    this.inFlight++;
    if (!this.batched) this.depthLevels[depthBucket(this.inFlight)]++;
    return true;
  }

  buf(tag: number): Buffer {
    const b = this.buffers[tag];
    const len = this.slotLen[tag];
    return len === b.length ? b : b.subarray(0, len);
  }

  /**
   * The kernel took op `tag` at `now` (the io_uring_enter or io_submit that
   * consumed it has returned): fio's issue time; its slat is recorded now,
   * as fio does, once the ramp is over.
   */
  submitted(tag: number, now: number): void {
    this.tSub[tag] = now;
    if (!this.tSlat) return;
    if (this.ramping) {
      if (now < this.rampEnd) return;
      this.endRamp(now);
    }
    this.hist[this.slotDir[tag]].slat.record((now - this.tPrep[tag]) * 1e6);
  }

  /**
   * One op finished, reaped at `now`: res is bytes or -errno; times in ms
   * (performance.now()), the op's own in tPrep (after its preparation) and
   * tSub (submission).
   */
  done(tag: number, res: number, now: number): void {
    this.inFlight--;
    const dir = this.slotDir[tag];
    const len = this.slotLen[tag];
    if (res < 0) {
      this.fail(tag, -res);
      return;
    }
    if (this.ramping && now >= this.rampEnd) this.endRamp(now);
    if (this.tClat) this.hist[dir].clat.record((now - this.tSub[tag]) * 1e6);
    if (this.tLat) this.hist[dir].lat.record((now - this.tPrep[tag]) * 1e6);
    this.ios[dir]++;
    this.bytes[dir] += res;
    if (res < len && !this.nop) this.shorts[dir]++;
    if (!this.batched) {
      // The batch loop publishes once per reap instead (publish()).
      this.progress[2 * dir]++; // P_IOS + 2 * dir
      this.progress[2 * dir + 1] += res; // P_BYTES + 2 * dir
      // One op per call each way, as fio counts an engine without a commit step.
      this.submitLevels[1]++;
      this.completeLevels[1]++;
    }
    if (this.verifyOn) {
      if (dir === 1) this.written?.set(this.slotOff[tag], len);
      else if (this.verifyReads) this.check(this.buf(tag), this.slotOff[tag]);
    }
  }

  /**
   * Copies the op counters to the shared progress array (they are equal to
   * it: both count from the same point, both reset at the end of the ramp).
   * The batch loop calls it after each reap, whose completions all arrive
   * at once, rather than writing shared memory per op.
   */
  publish(): void {
    const p = this.progress;
    for (let d = 0; d < 3; d++) {
      p[P_IOS + 2 * d] = this.ios[d];
      p[P_BYTES + 2 * d] = this.bytes[d];
    }
  }

  check(buf: Buffer, off: number): void {
    const job = this.job;
    if (!job.verify || this.verifyFail) return;
    const f = checkBlock(job.verify, buf, off, job.verifyPattern);
    this.verified++;
    if (f) {
      this.verifyFail = f;
      this.stopping = true;
    }
  }

  fail(tag: number, errno: number): void {
    if (!this.error) {
      const dir = DIR_NAMES[this.slotDir[tag]];
      this.error = {
        errno,
        message: `io error on ${this.filename}: ${errnoCode(errno)}: ${dir} offset=${this.slotOff[tag]}, buflen=${this.slotLen[tag]}`,
      };
    }
    this.stopping = true;
  }

  syncDue(): boolean {
    return this.syncPending > 0;
  }

  syncDone(t: number, now: number): void {
    this.syncIos++;
    this.syncLat.record((now - t) * 1e6);
    this.progress[P_SYNC]++;
  }

  outcome(fixedOps: number): JobOutcome {
    const dirs = this.hist.map((h, d) => ({
      ios: this.ios[d],
      bytes: this.bytes[d],
      short: this.shorts[d],
      slat: h.slat.count ? h.slat.toJSON() : null,
      clat: h.clat.toJSON(),
      lat: h.lat.toJSON(),
    })) as JobOutcome['dirs'];
    return {
      dirs,
      sync: { ios: this.syncIos, lat: this.syncLat.toJSON() },
      runtimeMs: Math.max(0, (this.tEnd || performance.now()) - this.t0),
      depth: Array.from(this.depthLevels),
      submit: Array.from(this.submitLevels),
      complete: Array.from(this.completeLevels),
      notes: this.notes,
      error: this.error,
      verified: this.verified,
      fixedOps,
      cpu: this.cpu,
      jobStart: this.jobStart,
      latencyDepth: this.pace !== null && this.pace.latOn ? this.pace.qd : this.depthMax,
    };
  }
}

function openFlags(run: Run): number {
  const { job } = run;
  const [, writes] = run.directionsUsed();
  const write = writes || job.rw === 'nop' ? writes : false;
  // No O_EXCL here: the main thread holds the exclusive claim on a block
  // device for the whole group (run.ts), so siblings share the device as fio's do.
  return (write ? fs.constants.O_RDWR : fs.constants.O_RDONLY) | (job.direct ? fs.constants.O_DIRECT : 0);
}

function openTarget(run: Run): number {
  const flags = openFlags(run);
  try {
    return fs.openSync(run.filename, flags);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (run.job.direct && err.code === 'EINVAL')
      throw new Error(`--direct=1: ${run.filename} is on a filesystem that does not support O_DIRECT (open: EINVAL)`);
    throw e;
  }
}

function fillRandom(bufs: Buffer[], seed: number): void {
  let x = seed | 1;
  for (const b of bufs) {
    let i = 0;
    for (; i + 4 <= b.length; i += 4) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      b.writeInt32LE(x, i);
    }
  }
}

/** Runs one job instance to its end (or to the stop flag) and reports what it measured. */
export async function runJobInstance(setup: JobSetup): Promise<JobOutcome> {
  const run = new Run(setup, setup.filename);
  const { job } = run;
  const nop = job.rw === 'nop';
  const fd = nop || job.ioengine === 'null' ? -1 : openTarget(run);
  let fixedOps = 0;
  const progress = run.progress;
  try {
    // fio's startdelay: the job starts (and its runtime begins) that much later; Ctrl-C ends the wait.
    for (const until = performance.now() + job.startDelay * 1000; performance.now() < until && Atomics.load(run.stopFlag, 0) === 0 && Atomics.load(run.termFlag, 0) === 0; )
      Atomics.wait(run.termFlag, 0, 0, Math.min(100, until - performance.now()));
    if (job.ioengine !== 'io_uring' || !job.fixedbufs) {
      run.buffers = Array.from({ length: run.depthMax + 1 }, () => alignedBuffer(Math.ceil(run.maxLen / 4096) * 4096).subarray(0, run.maxLen));
      fillRandom(run.buffers, setup.jobnum + 1);
    }
    switch (job.ioengine) {
      case 'io_uring':
        fixedOps = await runRing(run, fd);
        break;
      case 'libaio':
        await runAio(run, fd);
        break;
      case 'psync':
      case 'sync':
        // fio's psync: pread/pwrite, one op at a time on the job's own thread (sync: the same, Node has no lseek).
        runFsSync(run, fd);
        break;
      case 'null':
        runNull(run);
        break;
      case 'pvsync2': {
        const ctx = new ThreadpoolContext({ entries: job.iodepth });
        await runWithContext(run, fd, ctx, job.hipri ? 1 /* RWF_HIPRI */ : 0);
        break;
      }
      case 'fs':
        await runFsPromises(run, fd);
        break;
      case 'fs-sync':
        runFsSync(run, fd);
        break;
    }
    run.tEnd = performance.now();
    run.cpu = cpuSince(run.cpu0);
    if (!run.error && !run.verifyFail && job.endFsync && fd >= 0 && run.directionsUsed()[1]) {
      const t = performance.now();
      fs.fsyncSync(fd);
      run.syncDone(t, performance.now());
    }
    if (!run.error && !run.verifyFail && run.written && run.written.size && Atomics.load(run.stopFlag, 0) === 0) {
      progress[P_STATE] = S_VERIFY;
      verifyWritten(run, fd);
    }
  } finally {
    if (fd >= 0) fs.closeSync(fd);
    progress[P_STATE] = S_DONE;
  }
  const out = run.outcome(fixedOps);
  if (run.verifyFail) {
    const f = run.verifyFail;
    out.error = {
      errno: 84, // EILSEQ, as fio reports a verify failure
      message: `verify: ${job.verify} failed on ${run.filename} at offset ${f.at} (block offset=${f.block}, len=${f.len}): ${f.why}`,
    };
  }
  return out;
}

/** Reads back every block the job wrote (sync, after the timed part) and checks it. */
function verifyWritten(run: Run, fd: number): void {
  const offs = [...run.written!.keys()].sort((a, b) => a - b);
  const buf = alignedBuffer(Math.ceil(run.maxLen / 4096) * 4096);
  let rfd = fd;
  for (const off of offs) {
    const len = run.written!.get(off)!;
    const b = buf.subarray(0, len);
    let n: number;
    try {
      n = fs.readSync(rfd, b, 0, len, off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EBADF' && rfd === fd) {
        rfd = fs.openSync(run.filename, fs.constants.O_RDONLY | (run.job.direct ? fs.constants.O_DIRECT : 0));
        n = fs.readSync(rfd, b, 0, len, off);
      } else throw e;
    }
    if (n !== len) {
      run.verifyFail = { at: off + n, block: off, len, why: `short read (${n} of ${len} bytes)` };
      break;
    }
    run.check(b, off);
    if (run.verifyFail) break;
  }
  if (rfd !== fd) fs.closeSync(rfd);
}

/** io_uring through kaio's Ring: the batch API (like fio's engine) or the promise API. */
async function runRing(run: Run, fd: number): Promise<number> {
  const { job } = run;
  const depth = run.depthMax;
  let entries = job.entries;
  if (!entries) for (entries = 8; entries < depth + 1; entries *= 2);
  const ring = new Ring({
    entries,
    cqEntries: Math.max(entries * 2, (depth + 1) * 2),
    // The batch loop commits every iodepth_batch_submit ops itself, one
    // enter each (to stamp them when it returns); the promise API lets the
    // ring split a tick's ops.
    submitBatch: job.api === 'batch' ? 0 : job.batchSubmit,
    sqpoll: job.sqthreadPoll,
    iopoll: job.hipri,
  });
  try {
    let file: number | FixedFile = fd;
    if (job.rw !== 'nop' && job.fixedbufs) {
      const pool = ring.registerBuffers({ count: depth + 1, size: Math.ceil(run.maxLen / 4096) * 4096, fallback: true });
      // The pool's own Buffers where the block size fills them: ops on those
      // go by the buffer's index, without looking at the view (lib/pool.ts).
      run.buffers = pool.buffers.map((b) => (b.length === run.maxLen ? b : b.subarray(0, run.maxLen)));
      fillRandom(run.buffers, run.setup.jobnum + 1);
    }
    if (job.rw !== 'nop' && job.registerfiles) file = ring.registerFiles([fd])[0];
    if (job.api === 'batch') await runBatch(run, ring, file);
    else await runPromiseLoops(run, (tag) => ringOp(run, ring, file, tag), () => ring.fsync(fd, { datasync: job.fdatasync > 0 }));
    const fixed = ring.stats.fixedOps;
    if (job.fixedbufs && job.rw !== 'nop') {
      const total = run.ios[0] + run.ios[1];
      if (fixed < total) run.notes.push(`fixedbufs: ${total - fixed} of ${total} ops were not *_FIXED (buffers could not be registered)`);
    }
    return fixed;
  } finally {
    ring.onCompletion(null);
    await ring.close();
  }
}

/** One op through the promise API; a NOP resolves to undefined (counted as 0 bytes). */
function ringOp(run: Run, ring: Ring, file: number | FixedFile, tag: number): Promise<number | void> {
  if (run.nop) return ring.nop();
  const off = run.slotOff[tag];
  return run.slotDir[tag] === 1 ? ring.write(file, run.buf(tag), off) : ring.read(file, run.buf(tag), off);
}

/**
 * What the batch loops (io_uring, libaio) share, fio's way: ops are prepared
 * until the queue is full, handed to the kernel every iodepth_batch_submit
 * ops (one io_uring_enter / io_submit each), then completions are reaped,
 * iodepth_batch_complete_min at least and iodepth_batch_complete_max at most
 * per reap. Timestamps, per op: after its preparation (lat, slat), when the
 * call that handed it to the kernel returned (slat, clat), when it was
 * reaped (clat, lat). A completion the kernel has posted but the job has not
 * reaped yet waits in a queue here, as it would wait in fio's CQ.
 */
/** What a batch engine does with an fsync's completion: its time, or the job's error. */
function syncCompletion(run: Run, datasync: boolean): (tag: number, res: number, now: number) => void {
  return (tag, res, now) => {
    if (res < 0) {
      run.error ??= { errno: -res, message: `io error on ${run.filename}: ${errnoCode(-res)}: ${datasync ? 'fdatasync' : 'fsync'}` };
      run.stopping = true;
    } else run.syncDone(run.tPrep[tag], now);
  };
}

class BatchQueue {
  /** Slots free for the next op (a stack). */
  readonly free: Int32Array;
  nFree = 0;
  /** Ops prepared and not yet taken by the kernel (fio's "queued"), in order. */
  readonly queued: Int32Array;
  qStart = 0;
  qLen = 0;
  /** Completions posted by the kernel and not reaped by the job yet (a ring). */
  readonly cTag: Int32Array;
  readonly cRes: Int32Array;
  cHead = 0;
  cLen = 0;
  readonly tPrepOn: boolean;
  readonly tSubOn: boolean;
  readonly tReapOn: boolean;
  /** Most completions one reap takes, before the cap at the ops in flight. */
  readonly completeMax: number;
  readonly completeMin: number;
  /** The loop's clock of this turn (what untimed completions are stamped with). */
  loopNow = 0;
  /** Turns of the loop so far (the stop flag is polled every 16th). */
  turns = 0;

  constructor(
    readonly run: Run,
    readonly onSync: (tag: number, res: number, now: number) => void,
  ) {
    const depth = run.depthMax;
    this.free = new Int32Array(depth);
    for (let t = depth - 1; t >= 0; t--) this.free[this.nFree++] = t;
    this.queued = new Int32Array(depth);
    this.cTag = new Int32Array(depth);
    this.cRes = new Int32Array(depth);
    this.tPrepOn = run.tLat || run.tSlat;
    this.tSubOn = run.tSlat || run.tClat;
    this.tReapOn = run.tLat || run.tClat;
    // fio: at least one; a maximum below the minimum is the minimum (0 too).
    this.completeMin = Math.max(1, run.job.batchCompleteMin);
    this.completeMax = Math.max(this.completeMin, run.job.batchCompleteMax);
  }

  /** Op `tag` is prepared (its SQE or iocb written): fio's start_time. */
  prepared(tag: number): void {
    this.nFree--;
    if (this.tPrepOn) this.run.tPrep[tag] = performance.now();
    this.queued[this.qStart + this.qLen++] = tag;
  }

  /** The first `n` queued ops were taken by `calls` submit calls that returned at `now`. */
  accepted(n: number, calls: number, now: number): void {
    const run = this.run;
    if (n > this.qLen) n = this.qLen;
    if (n <= 0) return;
    if (calls <= 1) run.submitLevels[batchBucket(n)]++;
    else for (let c = 0; c < calls; c++) run.submitLevels[batchBucket(Math.ceil(n / calls))]++;
    const t = this.tSubOn ? now : 0;
    for (let i = 0; i < n; i++) {
      const tag = this.queued[this.qStart + i];
      if (run.slotDir[tag] === SYNC_DIR) run.tSub[tag] = t;
      else run.submitted(tag, t);
    }
    this.qStart += n;
    this.qLen -= n;
    if (this.qLen === 0) this.qStart = 0;
  }

  /** A completion the kernel posted (called from the engine's completion callback). */
  posted(tag: number, res: number): void {
    const cap = this.cTag.length;
    const i = (this.cHead + this.cLen) % cap;
    this.cTag[i] = tag;
    this.cRes[i] = res;
    this.cLen++;
  }

  /** fio's min_evts for this reap: iodepth_batch_complete_min, at most the ops in flight, at least 1. */
  reapMin(): number {
    return Math.max(1, Math.min(this.completeMin, this.run.inFlight));
  }

  /** Reaps up to iodepth_batch_complete_max of the posted completions, stamped with one clock read. */
  reap(): void {
    const run = this.run;
    const k = Math.min(this.cLen, Math.max(this.completeMax > run.inFlight ? run.inFlight : this.completeMax, this.reapMin()));
    if (k === 0) return;
    const now = this.tReapOn ? performance.now() : this.loopNow;
    const cap = this.cTag.length;
    const nop = run.nop;
    for (let j = 0; j < k; j++) {
      const tag = this.cTag[this.cHead];
      const res = this.cRes[this.cHead];
      this.cHead = this.cHead + 1 === cap ? 0 : this.cHead + 1;
      this.cLen--;
      this.free[this.nFree++] = tag;
      if (run.slotDir[tag] === SYNC_DIR) {
        run.inFlight--;
        this.onSync(tag, res, now);
      } else run.done(tag, nop ? 0 : res, now);
    }
    run.completeLevels[batchBucket(k)]++;
    run.publish();
  }
}

/** slotDir of an fsync in a batch loop's slot. */
const SYNC_DIR = 3;

/**
 * Fills the queue: the next op (or an fsync due after fsync=N writes) into
 * each free slot, `prep` writing its SQE or iocb, a commit every
 * iodepth_batch_submit ops and one for the rest. False when the job has
 * nothing left in flight.
 */
function fillAndCommit(
  q: BatchQueue,
  prep: (tag: number) => boolean,
  prepSync: (tag: number) => boolean,
  commit: () => void,
): void {
  const run = q.run;
  const now = (q.loopNow = performance.now());
  // The stop flag (Ctrl-C, a sibling's end) is an atomic load: looked at on
  // the first turn and every 16th after, which at one op per turn is still
  // microseconds; the runtime is checked per op (run.more()).
  if ((q.turns++ & 15) === 0) run.poll(now);
  const batchSubmit = run.job.batchSubmit;
  while (q.nFree !== 0) {
    const tag = q.free[q.nFree - 1];
    if (run.syncPending > 0 && !run.stopping) {
      run.slotDir[tag] = SYNC_DIR;
      if (!prepSync(tag)) break;
      run.syncPending--;
      run.inFlight++;
      q.prepared(tag);
    } else {
      if (!run.next(tag, now)) break;
      if (!prep(tag)) {
        // Queue full: give the op back (rare; the ring or context is sized for iodepth).
        run.inFlight--;
        run.issued--;
        run.issuedBytes -= run.slotLen[tag];
        break;
      }
      q.prepared(tag);
    }
    if (q.qLen >= batchSubmit) {
      // fio counts the depth at each commit, for the ops it commits.
      run.depthLevels[depthBucket(run.inFlight)] += q.qLen;
      commit();
    }
  }
  if (q.qLen !== 0) {
    run.depthLevels[depthBucket(run.inFlight)] += q.qLen;
    commit();
  }
}

/** fio's io_uring engine loop over kaio's batch API (prep*, submit, submitAndWait). */
function runBatch(run: Run, ring: Ring, file: number | FixedFile): void | Promise<void> {
  const { job } = run;
  const nop = run.nop;
  const datasync = job.fdatasync > 0;
  const q = new BatchQueue(run, syncCompletion(run, datasync));
  ring.onCompletion((tag, res) => q.posted(tag, res));
  const prep = (tag: number): boolean =>
    nop
      ? ring.prepNop(tag)
      : run.slotDir[tag] === 1
        ? ring.prepWrite(file, run.buf(tag), run.slotOff[tag], tag, 0)
        : ring.prepRead(file, run.buf(tag), run.slotOff[tag], tag, 0);
  const prepSync = (tag: number): boolean => {
    run.tPrep[tag] = performance.now();
    return ring.prepFsync(file, tag, datasync);
  };
  // One io_uring_enter per commit (the ring is set up with submitBatch 0),
  // and one native call: submitAndWait(0) writes the staged SQEs, enters
  // without waiting and takes whatever the CQ already holds into the
  // queue's posted completions (reaped, and stamped, by q.reap() as fio's
  // getevents would). The ops are stamped when it returns; how many the
  // kernel took is the ring's count of consumed SQEs. A submit the kernel
  // takes part of is repeated; one it refuses for want of resources
  // (EAGAIN) or that finds no room waits for a completion, whose enter
  // takes the rest.
  let submittedSeen = ring.stats.submitted;
  const commit = (): void => {
    while (q.qLen !== 0) {
      ring.submitAndWait(0);
      const now = q.tSubOn ? performance.now() : 0;
      const s = ring.stats.submitted;
      const r = s - submittedSeen;
      submittedSeen = s;
      if (r > 0) {
        q.accepted(r, 1, now);
        continue;
      }
      ring.submitAndWait(1);
      const s2 = ring.stats.submitted;
      const r2 = s2 - submittedSeen;
      submittedSeen = s2;
      q.accepted(r2, 1, q.tSubOn ? performance.now() : 0);
    }
  };
  run.batched = true;
  run.slatMeasured = true;
  run.begin();
  if (run.pace !== null)
    return runPacedQueue(
      {
        q,
        fill: () => fillAndCommit(q, prep, prepSync, commit),
        events: (min) => {
          if (q.cLen < min) ring.submitAndWait(min - q.cLen);
        },
        poll: () => {
          ring.submitAndWait(0);
        },
      },
      run.pace,
    );
  // One turn (fill, submit, reap) is a function of its own, so that it is
  // optimised as soon as it is hot, not only by on-stack replacement of a
  // loop that turns once per iodepth ops. False when the job is over.
  const turn = (): boolean => {
    fillAndCommit(q, prep, prepSync, commit);
    if (run.inFlight === 0) return false;
    // Like fio: take what is already in the CQ (the commit's call took what
    // was there when it returned; look again only when that is enough for
    // this reap and more could be taken), enter the kernel only to wait.
    const min = q.reapMin();
    if (q.cLen < min) ring.submitAndWait(min - q.cLen);
    else if (q.cLen < q.completeMax && q.cLen < run.inFlight) ring.submitAndWait(0);
    q.reap();
    return true;
  };
  while (turn());
}

/** iodepth async loops, each with one op in flight: how a promise user keeps a queue depth. */
async function runPromiseLoops(run: Run, op: (tag: number) => Promise<number | void>, sync: () => Promise<void>): Promise<void> {
  run.begin();
  /** Issues the fsyncs due; false after an error. */
  const syncs = async (): Promise<boolean> => {
    while (run.syncDue() && !run.stopping) {
      run.syncPending--;
      const t = performance.now();
      try {
        await sync();
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        run.error ??= { errno: Number(err.errno) || 5, message: `io error on ${run.filename}: ${err.code}: fsync` };
        run.stopping = true;
        return false;
      }
      run.syncDone(t, performance.now());
    }
    return true;
  };
  // Nothing timed (gtod_reduce): read the clock once per 64 ops (for the deadline), not per op.
  const gtod = !run.timed;
  const timed = run.timed;
  let clock = performance.now();
  let ticks = 0;
  // The stop flag is polled whenever the clock is read.
  const now = (): number => {
    if (gtod && (++ticks & 63) !== 0) return clock;
    clock = performance.now();
    run.poll(clock);
    return clock;
  };
  const loop = async (tag: number): Promise<void> => {
    // The clock of the last completion serves the next op's deadline check.
    let t = now();
    for (;;) {
      // An await only when an fsync is due: one per op would cost a promise.
      if (run.syncDue()) {
        if (!(await syncs())) return;
        t = now();
      }
      if (!run.next(tag, t)) {
        // the last writes' fsync may be due still
        await syncs();
        return;
      }
      // The op is issued by this call: its start and issue time are one
      // (no step between them reaches the kernel), so there is no slat.
      if (timed) run.tPrep[tag] = run.tSub[tag] = performance.now();
      let res: number | void;
      try {
        res = await op(tag);
      } catch (e) {
        const err = e as NodeJS.ErrnoException;
        const errno = typeof err.errno === 'number' ? Math.abs(err.errno) : 5;
        run.inFlight--;
        run.fail(tag, errno);
        return;
      }
      t = now();
      run.done(tag, res ?? 0, t);
    }
  };
  const loops: Promise<void>[] = [];
  for (let t = 0; t < run.depthMax; t++) loops.push(loop(t));
  await Promise.all(loops);
}

/** psync/pvsync2 (ThreadpoolContext): kaio's promise API over the thread pool. */
async function runWithContext(run: Run, fd: number, ctx: IoContext, rwFlags: number): Promise<void> {
  const opts = rwFlags ? { flags: rwFlags } : undefined;
  try {
    await runPromiseLoops(
      run,
      (tag) => (run.slotDir[tag] === 1 ? ctx.write(fd, run.buf(tag), run.slotOff[tag], opts) : ctx.read(fd, run.buf(tag), run.slotOff[tag], opts)),
      () => ctx.fsync(fd, { datasync: run.job.fdatasync > 0 }),
    );
  } finally {
    await ctx.close();
  }
}

/**
 * fio's libaio engine loop over kaio's native AIO context (io_submit,
 * completions from its eventfd on Node's loop): the same batch loop as
 * io_uring's, each io_submit's ops stamped when it returns. Buffered AIO does
 * the I/O inside io_submit, so there slat holds the I/O and clat the reap,
 * as in fio.
 */
async function runAio(run: Run, fd: number): Promise<void> {
  const { job } = run;
  const entries = Math.max(job.iodepth, 8);
  const out = new Int32Array(entries * CQE_INTS);
  const counters = new Float64Array(BackendCounter.Slots);
  const datasync = job.fdatasync > 0;
  const q = new BatchQueue(run, syncCompletion(run, datasync));
  let wake: (() => void) | undefined;
  let seenSubmitted = 0;
  let seenCalls = 0;
  /** Ops the context handed to the kernel since last looked (io_submit may run again while it reaps). */
  const took = (): void => {
    const n = counters[BackendCounter.Submitted] - seenSubmitted;
    if (n === 0) return;
    const calls = counters[BackendCounter.SubmitCalls] - seenCalls;
    seenSubmitted += n;
    seenCalls += calls;
    q.accepted(n, calls, q.tSubOn ? performance.now() : 0);
  };
  const onComplete = (count: number): void => {
    took();
    for (let i = 0, base = 0; i < count; i++, base += CQE_INTS) q.posted(out[base], out[base + 2]);
    if (wake !== undefined) {
      const w = wake;
      wake = undefined;
      w();
    }
  };
  const native = new binding.Aio({ entries, userRing: true }, onComplete, out, counters);
  try {
    const rwFlags = 0;
    const prep = (tag: number): boolean =>
      native.prep(run.slotDir[tag] === 1 ? BackendOp.Write : BackendOp.Read, fd, run.buf(tag), run.slotOff[tag], rwFlags, tag, run.slotLen[tag]) !== 0;
    const prepSync = (tag: number): boolean => {
      run.tPrep[tag] = performance.now();
      return native.prep(datasync ? BackendOp.Fdatasync : BackendOp.Fsync, fd, undefined, 0, 0, tag, 0) !== 0;
    };
    // One io_submit for the queued iocbs (more only when the kernel takes part of them).
    const commit = (): void => {
      const r = native.submit();
      took();
      if (r > 0) onComplete(r);
      // EAGAIN here: nothing in the kernel could make room, no completion will come.
      else if (r < 0) throw Object.assign(new Error(`io_submit: ${errnoCode(-r)}`), { errno: -r });
    };
    run.batched = true;
    run.slatMeasured = true;
    run.begin();
    if (run.pace !== null) {
      await runPacedQueue(
        {
          q,
          fill: () => fillAndCommit(q, prep, prepSync, commit),
          events: async (min) => {
            while (q.cLen < min) await new Promise<void>((resolve) => (wake = resolve));
          },
          poll: () => {},
        },
        run.pace,
      );
      return;
    }
    for (;;) {
      fillAndCommit(q, prep, prepSync, commit);
      if (run.inFlight === 0) break;
      const min = q.reapMin();
      while (q.cLen < min) await new Promise<void>((resolve) => (wake = resolve));
      q.reap();
    }
  } finally {
    native.close();
  }
}

/** node:fs promises (FileHandle.read/write), the in-Node baseline; O_DIRECT really set with --direct=1. */
async function runFsPromises(run: Run, fd: number): Promise<void> {
  const fh = await fs.promises.open(run.filename, openFlags(run));
  void fd;
  try {
    await runPromiseLoops(
      run,
      async (tag) => {
        const b = run.buf(tag);
        return run.slotDir[tag] === 1
          ? (await fh.write(b, 0, b.length, run.slotOff[tag])).bytesWritten
          : (await fh.read(b, 0, b.length, run.slotOff[tag])).bytesRead;
      },
      () => (run.job.fdatasync ? fh.datasync() : fh.sync()),
    );
  } finally {
    await fh.close();
  }
}

/** fio's null engine: every op completes at once and whole, with no system call and no file. */
function runNull(run: Run): void {
  run.begin();
  if (run.pace !== null) return runPacedSync(run, run.pace, () => run.slotLen[0], () => 0, true);
  for (;;) {
    const now = performance.now();
    run.poll(now);
    if (!run.next(0, now)) break;
    // No kernel: the op is issued and done at once (no slat).
    if (run.timed) run.tPrep[0] = run.tSub[0] = now;
    run.done(0, run.slotLen[0], performance.now());
  }
}

/** node:fs readSync/writeSync (pread/pwrite): one op at a time on the calling thread. */
function runFsSync(run: Run, fd: number): void {
  run.begin();
  const fsync = run.job.fdatasync ? fs.fdatasyncSync : fs.fsyncSync;
  if (run.pace !== null) {
    const errno = (e: unknown): number => {
      const n = (e as NodeJS.ErrnoException).errno;
      return typeof n === 'number' ? -Math.abs(n) : -5;
    };
    return runPacedSync(
      run,
      run.pace,
      () => {
        const b = run.buf(0);
        try {
          return run.slotDir[0] === 1 ? fs.writeSync(fd, b, 0, b.length, run.slotOff[0]) : fs.readSync(fd, b, 0, b.length, run.slotOff[0]);
        } catch (e) {
          return errno(e);
        }
      },
      () => {
        try {
          fsync(fd);
          return 0;
        } catch (e) {
          return errno(e);
        }
      },
      false,
    );
  }
  for (;;) {
    while (run.syncDue() && !run.stopping) {
      run.syncPending--;
      const t = performance.now();
      fsync(fd);
      run.syncDone(t, performance.now());
    }
    const now = performance.now();
    run.poll(now);
    if (!run.next(0, now)) {
      if (run.syncDue()) continue; // the last writes' fsync
      break;
    }
    const b = run.buf(0);
    // fio's sync engines: the issue time is taken just before the call (no slat).
    if (run.timed) run.tPrep[0] = run.tSub[0] = performance.now();
    let res: number;
    try {
      res = run.slotDir[0] === 1 ? fs.writeSync(fd, b, 0, b.length, run.slotOff[0]) : fs.readSync(fd, b, 0, b.length, run.slotOff[0]);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      run.inFlight--;
      run.fail(0, typeof err.errno === 'number' ? Math.abs(err.errno) : 5);
      break;
    }
    run.done(0, res, performance.now());
  }
}
