// One instance of a job (fio's "thread"), run inside its own worker thread
// with its own ring or context: picks each I/O (direction, offset, length),
// issues it through the chosen engine, and records slat/clat/lat per
// direction in fio-bucketed histograms. Live counters go to shared memory the
// main thread samples; a shared flag stops the job (Ctrl-C).
import * as fs from 'node:fs';
import { constants as osConstants } from 'node:os';
import { performance } from 'node:perf_hooks';
import { parentPort } from 'node:worker_threads';
import { binding } from '../binding';
import { alignedBuffer } from '../pool';
import { Histogram, type HistogramData } from './histogram';
import type { BenchJob } from './options';
import { Rand, SkewedPicker, UniformPicker, type BlockPicker } from './random';
import { JobVerify, verifyFor } from './verifyrun';
import { Content, contentFor } from './content';
import { OpLog, type LogKind } from './logs';
import { cmdprioOn, jobIoprio, PrioPicker } from './prio';
import { StridedZones } from './zones';
import { F_NOFILE } from './engines/engine';
import { createEngine } from './engines/index';
import { depthBucket, runEngine } from './engines/loop';
import { errnoCode } from './engines/util';
import { Pacer, paced } from './pace';
import { FullCyclePicker } from './lfsr';
import { startLine } from './control';
import type { PlannedFile } from './files';
import { arriveAndWait } from './gate';
import { loopTags } from './engines/native-loop';
import { DataFiles, MULTI_FILE_ENGINES } from './datafiles';
import { FILE_BUSY } from './files';

/** Slots of the shared progress array. */
export const P_IOS = 0; // + 2 * ddir
export const P_BYTES = 1; // + 2 * ddir
export const P_STATE = 6;
export const P_SYNC = 7;
/** --status-interval: the main thread's request number; the job posts a snapshot when it changes. */
export const P_SNAP = 8;
export const P_SLOTS = 9;
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
  /** The job's file set (files.ts), when it has one: its files and bytes per loop. */
  files?: PlannedFile[];
  budget?: number;
  /** gate.ts: where the group's instances wait for each other before starting, and how many they are. */
  gate?: SharedArrayBuffer;
  gateTotal?: number;
  /** fio's thread number (1-based over every job instance of the run): log file names. */
  threadNumber: number;
  /** The log files this instance writes (created empty by the main thread). */
  logFiles: Array<[LogKind, string]>;
  /** Instances in the whole run (fio's thread_number count): dedupe_global spreads its working set over them. */
  threads?: number;
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
  /** The process the instance ran in (its own with thread=0). */
  pid?: number;
  /** Milliseconds per direction when they differ from runtimeMs (fio's runtime[ddir]: the verify pass is the reads'). */
  dirMs?: [number, number, number];
  fixedOps: number;
  /** The job thread's CPU use over the measured part. */
  cpu?: ThreadCpu;
  /** Wall clock (ms since the epoch) when the job's I/O started (fio's job_start). */
  jobStart: number;
  /** The queue depth the job ended at: latency_target's settled depth, else iodepth (fio's latency_depth). */
  latencyDepth: number;
  /** fio's clat_prio: per ioprio value, the completion latencies per direction (lat with lat_percentiles). */
  prios?: Array<{ ioprio: number; dirs: Array<HistogramData | null> }>;
}

const DIR_NAMES = ['read', 'write', 'trim'];

class IoError extends Error {
  constructor(
    message: string,
    readonly errno: number,
  ) {
    super(message);
  }
}

/** The state of one job instance, which the loop (engines/loop.ts) and the engine share. */
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
  // The region, blocks and picker of the file being used (with several files, datafiles.ts swaps them per file).
  start: number;
  end: number;
  readonly unit: number;
  blocks: number;
  picker: BlockPicker | undefined;
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
  /** rw=trimwrite: each trim is followed by a write of the same block. */
  readonly trimWrite: boolean;
  /** trimwrite: the write of the block just trimmed is next. */
  writeTrimmed = false;
  readonly rwmixread: number;
  /** Block size per direction without a bssplit; 0 where a bssplit draws it. */
  readonly fixedLen: [number, number, number];
  /** An fsync (or fdatasync) after every this many writes; 0: none. */
  readonly syncEvery: number;
  /** verify=: headers on writes, checks on reads, the read-back pass (verifyrun.ts). */
  readonly vr: JobVerify | undefined;
  /** What writes carry (content.ts). */
  readonly content: Content;
  /** verify_only's dry run: ops are chosen and logged, none is issued or filled. */
  dry = false;
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
  lastLen = 0;
  writesSinceSync = 0;
  /** fsyncs due (fsync=N / fdatasync=N) and not yet issued. */
  syncPending = 0;
  inFlight = 0;
  seq = 0;
  /** The engine records its own latency samples (F_NOSTATS); done() only counts. */
  noStats = false;
  /** Depth levels are counted at submit (batch API), else at issue. */
  batched = false;
  /** scramble_buffers is done at each write's prep by the native loop (native-loop.ts), not when the op is chosen. */
  scrambleAtPrep = false;
  ramping: boolean;
  cpu0: ThreadCpu | undefined;
  cpu: ThreadCpu | undefined;
  t0 = 0;
  tEnd = 0;
  deadline: number;
  rampEnd: number;
  stopping = false;
  error: { message: string; errno: number } | undefined;
  readonly notes: string[] = [];
  dirMs: [number, number, number] | undefined;
  /** The job's logs (write_*_log): undefined when none is asked for, the one check per op. */
  log: OpLog | undefined;
  /** cmdprio: each op's ioprio and its clat_prio index (undefined: every op has the thread's). */
  readonly prioPick: PrioPicker | undefined;
  readonly slotPrio: Uint16Array;
  readonly slotPrioIdx: Uint8Array;
  /** Per direction, per clat_prio index. */
  readonly prioHist: Histogram[][] | undefined;
  readonly zones: StridedZones | undefined;
  /** Several files per job on a data engine (datafiles.ts): each op's file and fd; undefined with one file. */
  readonly df: DataFiles | undefined;

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
    // Trims (rw=trim, randtrim, trimwrite) take the trim block size; trimwrite writes the block it trimmed.
    const trims = job.rw === 'trim' || job.rw === 'randtrim' || job.rw === 'trimwrite';
    const usedLens = (trims ? [2] : [0, 1].filter((d) => used[d])).flatMap((d) => (job.bssplit[d].length ? job.bssplit[d].map(([s]) => s) : [job.bs[d]]));
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
    this.random = job.rw === 'randread' || job.rw === 'randwrite' || job.rw === 'randrw' || job.rw === 'randtrim';
    this.mixed = job.rw === 'rw' || job.rw === 'randrw';
    this.dir0 = job.rw === 'write' || job.rw === 'randwrite' ? 1 : trims ? 2 : 0;
    this.trimWrite = job.rw === 'trimwrite';
    this.rwmixread = job.rwmixread;
    this.fixedLen = [0, 1, 2].map((d) => (job.bssplit[d].length ? 0 : job.bs[d])) as [number, number, number];
    this.syncEvery = job.fsync || job.fdatasync;
    this.content = contentFor(job, setup, this.maxLen);
    // Slots: the depth's, or the native loop's buffers (engines/native-loop.ts).
    const d = loopTags(job.ioengine, this.depthMax, this.maxLen);
    this.vr = verifyFor(job, setup, this.content, d, used[1], seed);
    this.nop = job.rw === 'nop';
    this.tLat = !job.disableLat;
    this.tClat = !job.disableClat;
    this.tSlat = !job.disableSlat;
    this.timed = this.tLat || this.tClat || this.tSlat;
    this.limitIos = job.numberIos || Infinity;
    // fio: io_size bytes (else the size) per loop, loops times; number_ios can only stop the job sooner.
    this.limitBytes = job.timeBased ? Infinity : (job.ioSize || setup.budget || setup.size) * job.loops;
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
    this.slotDir = new Uint8Array(d);
    this.slotOff = new Float64Array(d);
    this.slotLen = new Uint32Array(d);
    this.tPrep = new Float64Array(d);
    this.tSub = new Float64Array(d);
    this.cursor = this.start;
    this.ramping = job.rampTime > 0;
    this.rampEnd = 0;
    this.deadline = Infinity;
    this.slotPrio = new Uint16Array(d);
    this.slotPrioIdx = new Uint8Array(d);
    if (cmdprioOn(job.prio)) {
      this.prioPick = new PrioPicker(job.prio, seed);
      const n = this.prioPick.values.length;
      this.prioHist = [0, 1, 2].map(() => Array.from({ length: n }, () => new Histogram()));
    } else if (job.prio.jobSet) this.slotPrio.fill(jobIoprio(job.prio));
    if (job.zone.mode === 'strided') this.zones = new StridedZones(job.zone, this.start, this.end, this.unit);
    if (setup.files !== undefined && setup.files.length > 1 && MULTI_FILE_ENGINES.includes(job.ioengine))
      this.df = new DataFiles({
        files: setup.files,
        service: job.fileService,
        openFiles: job.openFiles,
        seed: job.randseed + setup.jobnum,
        flags: openFlags(this),
        unit: this.unit,
        minOp: Math.min(...(usedLens.length ? usedLens : lens)),
        random: this.random
          ? { rand: this.rand, lfsr: job.randomGenerator === 'lfsr', distribution: job.distribution, randommap: !job.norandommap, seed }
          : undefined,
        slots: d,
      });
  }

  /** The op's file becomes file i of the set (its region, position and random map become the job's); -1: none (see choose). */
  #toFile(): number {
    const df = this.df!;
    const i = df.choose(this.inFlight);
    // The file chosen waits for a file still closing: reap first (fio's EBUSY), the job goes on.
    if (i === FILE_BUSY) return -1;
    if (i < 0) {
      this.error ??= df.openError ?? { errno: 5, message: `no file of ${this.filename}'s set could be chosen` };
      this.stopping = true;
      return -1;
    }
    if (i !== df.cur) {
      if (df.cur >= 0) {
        const c = df.cursors[df.cur];
        c.cursor = this.cursor;
        c.seqLeft = this.seqLeft;
        c.lastOff = this.lastOff;
        c.lastLen = this.lastLen;
      }
      const c = df.cursors[i];
      this.start = c.start;
      this.end = c.end;
      this.blocks = c.blocks;
      this.picker = c.picker;
      this.cursor = c.cursor;
      this.seqLeft = c.seqLeft;
      this.lastOff = c.lastOff;
      this.lastLen = c.lastLen;
      df.cur = i;
    }
    return i;
  }

  directionsUsed(): [boolean, boolean] {
    const rw = this.job.rw;
    const mixed = rw === 'rw' || rw === 'randrw';
    // A trim changes the file as a write does (it needs the file open for writing).
    const trims = rw === 'trim' || rw === 'randtrim' || rw === 'trimwrite';
    return [rw === 'read' || rw === 'randread' || (mixed && this.job.rwmixread > 0), rw === 'write' || rw === 'randwrite' || trims || (mixed && this.job.rwmixread < 100)];
  }

  /** A latency the engine measured itself (fio's add_clat_sample from a file engine's open), ns. */
  clatSample(dir: number, ns: number, now: number): void {
    if (this.ramping && now >= this.rampEnd) this.endRamp(now);
    if (!this.ramping && this.tClat) this.hist[dir].clat.record(ns);
  }

  begin(): void {
    // fio starts a group's jobs together: wait for the siblings to be set up too
    if (this.setup.start) startLine(this.setup.start, this.stopFlag, this.termFlag);
    const now = performance.now();
    if (this.vr?.inPass) {
      // The read-back pass: its own clock; the job's deadline still holds, as in fio.
      this.t0 = now;
      this.progress[P_STATE] = S_VERIFY;
      return;
    }
    this.t0 = now;
    this.cpu0 = threadCpu();
    this.rampEnd = now + this.job.rampTime * 1000;
    if (this.job.runtime) this.deadline = this.rampEnd + this.job.runtime * 1000;
    this.progress[P_STATE] = this.ramping ? S_RAMP : S_RUN;
    this.jobStart = Date.now();
    if (this.pace !== null) this.pace.begin(now);
    if (this.setup.logFiles.length) {
      this.log = new OpLog({
        options: this.job.logs,
        files: this.setup.logFiles,
        epoch: now,
        slat: this.tSlat && this.slatMeasured,
        clat: this.tClat,
        lat: this.tLat,
      });
    }
  }

  /** The last --status-interval request answered. */
  snapSeen = 0;

  /** --status-interval: what was measured so far, posted to the main thread (structured clone copies it now). */
  #snapshot(): void {
    this.snapSeen = this.progress[P_SNAP];
    parentPort?.postMessage({ snapshot: this.outcome(0), seq: this.snapSeen });
  }

  /** Ramp over (or latency_target's final window): forget what was measured, start the clock. */
  endRamp(now: number): void {
    this.ramping = false;
    for (const h of this.hist) {
      h.slat.reset();
      h.clat.reset();
      h.lat.reset();
    }
    if (this.prioHist) for (const l of this.prioHist) for (const h of l) h.reset();
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
    if (this.progress[P_SNAP] !== this.snapSeen) this.#snapshot();
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
    if (this.vr !== undefined) {
      const r = this.vr.next(this, tag);
      if (r !== 0) {
        if (r < 0) return false;
        this.inFlight++;
        if (!this.batched) this.depthLevels[depthBucket(this.inFlight)]++;
        return true;
      }
    }
    // trimwrite: a trimmed block is written even when the trim was the budget's last op (fio writes it too).
    if (this.writeTrimmed && !this.stopping) return this.#writeTrimmed(tag);
    if (!this.more(now)) return false;
    let dir = this.mixed ? (this.mixRand.next() * 100 < this.rwmixread ? 0 : 1) : this.dir0;
    if (this.pace !== null) {
      // Not now (a rate, think, flow or depth hold): the paced loop waits as the pacer says.
      dir = this.pace.admit(dir, tag, now, this);
      if (dir < 0) return false;
    }
    const fi = this.df !== undefined ? this.#toFile() : 0;
    if (fi < 0) return false;
    const len = this.fixedLen[dir] || this.#len(dir);
    let off: number;
    const { seqNr, seqAdd } = this.job;
    if (this.prioPick !== undefined) {
      this.slotPrio[tag] = this.prioPick.pick(dir, len);
      this.slotPrioIdx[tag] = this.prioPick.index;
    }
    if (this.zones !== undefined) {
      // zonemode=strided: as in fio, skipped bytes do not count toward the size (a pass wraps around).
      off = this.zones.next(len, this.random ? this.rand : undefined);
      this.cursor = off + len;
    } else if (this.random && seqNr && this.seqLeft > 0 && (this.job.rwSequencer === 'identical' || this.cursor + len <= this.end)) {
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
    this.lastLen = len;
    if (this.trimWrite) this.writeTrimmed = true;
    if (this.df !== undefined) {
      this.df.assign(tag, fi);
      // trimwrite: the block's bytes count when its write is issued (the file stays open for it).
      if (!this.trimWrite) this.df.used(fi, len);
    }
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
      if (this.dry) {
        // verify_only: nothing is written; the write is only logged.
      } else if (this.vr !== undefined) this.vr.fillWrite(this, tag, off, now);
      else if (this.content.refill) this.content.fill(this.buf(tag));
      else if (this.content.scramble && !this.scrambleAtPrep) this.content.scrambleWrite(this.buf(tag), off, now);
    }
    this.inFlight++;
    if (!this.batched) this.depthLevels[depthBucket(this.inFlight)]++;
    return true;
  }

  /** trimwrite's write: the block the last trim punched, whole. */
  #writeTrimmed(tag: number): boolean {
    this.writeTrimmed = false;
    this.slotDir[tag] = 1;
    this.slotOff[tag] = this.lastOff;
    this.slotLen[tag] = this.lastLen;
    if (this.df !== undefined) {
      this.df.assign(tag, this.df.cur);
      this.df.used(this.df.cur, this.lastLen);
    }
    // As fio: the write of a trimmed block is not counted against the job's size (trimwrite does size twice).
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
    if (this.log !== undefined && !this.ramping)
      this.log.slat(now, this.slotDir[tag], this.slotLen[tag], this.slotOff[tag], this.slotPrio[tag], (now - this.tPrep[tag]) * 1e6);
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
      this.df?.done(tag);
      return;
    }
    if (this.df !== undefined) this.df.done(tag);
    if (this.ramping && now >= this.rampEnd) this.endRamp(now);
    // An engine that times its own ops (F_NOSTATS: the file engines) gives its samples through clatSample().
    if (this.tClat && !this.noStats) this.hist[dir].clat.record((now - this.tSub[tag]) * 1e6);
    if (this.tLat && !this.noStats) this.hist[dir].lat.record((now - this.tPrep[tag]) * 1e6);
    if (this.prioHist !== undefined) this.#prioSample(tag, dir, now);
    if (this.log !== undefined && !this.ramping) this.#logOp(tag, dir, res, now);
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
    if (this.vr !== undefined) {
      if (dir === 1) this.vr.written(tag, this.slotOff[tag], res);
      else if (!this.vr.readDone(this, tag, res)) this.stopping = true;
    }
  }

  /** fio's clat_prio: the op's clat (its lat with lat_percentiles) in its ioprio's histogram. */
  #prioSample(tag: number, dir: number, now: number): void {
    const lat = this.job.latPercentiles;
    if (lat ? !this.tLat : !this.tClat) return;
    this.prioHist![dir][this.slotPrioIdx[tag]].record((now - (lat ? this.tPrep[tag] : this.tSub[tag])) * 1e6);
  }

  /** The op's log records: the same clat and lat its histograms got. */
  #logOp(tag: number, dir: number, res: number, now: number): void {
    const log = this.log!;
    log.op(now, dir, res, this.slotOff[tag], this.slotPrio[tag], this.tClat ? (now - this.tSub[tag]) * 1e6 : NaN, this.tLat ? (now - this.tPrep[tag]) * 1e6 : NaN);
    if (log.want.clat_hist) log.hist(now, dir, res, this.hist[dir].clat);
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

  fail(tag: number, errno: number): void {
    if (this.job.fillDevice && this.slotDir[tag] === 1 && (errno === osConstants.errno.ENOSPC || errno === osConstants.errno.EDQUOT)) {
      // fill_device: the device is full, the job is done (fio clears the error).
      this.stopping = true;
      return;
    }
    if (!this.error) {
      const dir = DIR_NAMES[this.slotDir[tag]];
      this.error = {
        errno,
        message: `io error on ${this.df !== undefined ? this.df.pathOf(tag) : this.filename}: ${errnoCode(errno)}: ${dir} offset=${this.slotOff[tag]}, buflen=${this.slotLen[tag]}`,
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
      pid: process.pid,
      dirs,
      sync: { ios: this.syncIos, lat: this.syncLat.toJSON() },
      runtimeMs: Math.max(0, (this.tEnd || performance.now()) - this.t0),
      depth: Array.from(this.depthLevels),
      submit: Array.from(this.submitLevels),
      complete: Array.from(this.completeLevels),
      notes: this.notes,
      error: this.error,
      verified: this.vr?.verified ?? 0,
      fixedOps,
      cpu: this.cpu,
      jobStart: this.jobStart,
      latencyDepth: this.pace !== null && this.pace.latOn ? this.pace.qd : this.depthMax,
      dirMs: this.dirMs,
      prios: this.prioHist
        ? this.prioPick!.values.map((ioprio, i) => ({ ioprio, dirs: this.prioHist!.map((l) => (l[i].count ? l[i].toJSON() : null)) }))
        : undefined,
    };
  }
}

function openFlags(run: Run): number {
  const { job } = run;
  const [, writes] = run.directionsUsed();
  const write = writes || job.rw === 'nop' ? writes : false;
  // No O_EXCL here: the main thread holds the exclusive claim on a block
  // device for the whole group (run.ts), so siblings share the device as fio's do.
  // fio's falloc engine opens read-write whatever the direction (fallocate needs a writable fd);
  // create_on_open: the file is made by this open, not laid out before.
  const rdwr = write || job.ioengine === 'falloc';
  const create = job.ioengine === 'falloc' || job.createOnOpen ? fs.constants.O_CREAT : 0;
  return (rdwr ? fs.constants.O_RDWR : fs.constants.O_RDONLY) | create | (job.direct ? fs.constants.O_DIRECT : 0);
}

function openTarget(run: Run): number {
  const flags = openFlags(run);
  try {
    return fs.openSync(run.filename, flags, 0o644);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (run.job.direct && err.code === 'EINVAL')
      throw new Error(`--direct=1: ${run.filename} is on a filesystem that does not support O_DIRECT (open: EINVAL)`);
    throw e;
  }
}

/** Runs one job instance to its end (or to the stop flag) and reports what it measured. */
export async function runJobInstance(setup: JobSetup): Promise<JobOutcome> {
  const run = new Run(setup, setup.filename);
  const { job } = run;
  const nop = job.rw === 'nop';
  const engine = createEngine(job, openFlags(run));
  // Several files (datafiles.ts): each opened when first chosen, none here.
  const fd = nop || engine.flags & F_NOFILE || run.df !== undefined ? -1 : openTarget(run);
  let fixedOps = 0;
  const progress = run.progress;
  try {
    // Every instance of the group set up before any starts (fio's start of a group's jobs).
    if (setup.gate) arriveAndWait(setup.gate, setup.gateTotal ?? 1, setup.stop);
    // fio's startdelay: the job starts (and its runtime begins) that much later; Ctrl-C ends the wait.
    for (const until = performance.now() + job.startDelay * 1000; performance.now() < until && Atomics.load(run.stopFlag, 0) === 0 && Atomics.load(run.termFlag, 0) === 0; )
      Atomics.wait(run.termFlag, 0, 0, Math.min(100, until - performance.now()));
    if (job.prio.jobSet) {
      // fio: ioprio_set on the job's thread before its engine starts.
      const r = binding.ioprioSet(jobIoprio(job.prio));
      if (r < 0) throw Object.assign(new Error(`ioprio_set(class ${job.prio.prioclass}, level ${job.prio.prio}): ${errnoCode(-r)}`), { errno: -r });
    }
    if (job.ioengine !== 'io_uring' || !job.fixedbufs) {
      run.buffers = Array.from({ length: run.depthMax + 1 }, () => alignedBuffer(Math.ceil(run.maxLen / 4096) * 4096).subarray(0, run.maxLen));
      for (const b of run.buffers) run.content.fill(b);
    }
    // verify_only on a writing job: the writes are only chosen and logged (fio's do_dry_run).
    if (job.verifyOnly && run.directionsUsed()[1]) runDry(run);
    else fixedOps = await runEngine(run, engine, fd);
    // An engine may have ended the clock itself, before its own cleanup (a ring's close).
    if (!run.tEnd) run.tEnd = performance.now();
    run.cpu = cpuSince(run.cpu0);
    const mainMs = run.tEnd - run.t0;
    if (!run.error && !run.vr?.failure && job.endFsync && (fd >= 0 || run.df !== undefined) && run.directionsUsed()[1] && !run.dry) {
      const t = performance.now();
      if (run.df !== undefined) run.df.fsyncAll();
      else fs.fsyncSync(fd);
      run.syncDone(t, performance.now());
    }
    // fio's do_verify: after the writes, unless the job was stopped (runtime, Ctrl-C) or failed;
    // through the job's engine again (a fresh instance of it), at its depth.
    let passMs = 0;
    if (!run.error && run.vr?.passDue && !run.stopping && Atomics.load(run.stopFlag, 0) === 0) {
      if (fd >= 0 && !run.dry) fs.fsyncSync(fd);
      run.vr.startPass();
      run.dry = false;
      run.tEnd = 0;
      fixedOps += await runEngine(run, createEngine(job, openFlags(run)), fd);
      if (!run.tEnd) run.tEnd = performance.now();
      passMs = run.tEnd - run.t0;
      run.cpu = cpuSince(run.cpu0);
    }
    if (run.vr) {
      // fio's runtime per direction: the job's for what it did, the pass's added to the reads'.
      const ms: [number, number, number] = [0, 0, 0];
      const [r, w] = run.directionsUsed();
      if (r && !run.dry) ms[0] = mainMs;
      if (w && !job.verifyOnly) ms[1] = mainMs;
      ms[0] += passMs;
      run.dirMs = ms;
      run.t0 = run.tEnd - (job.verifyOnly && w ? passMs : mainMs + passMs);
    }
    // fio's finalize_logs: the open windows close now, after the loop saw the runtime out
    run.log?.finish(performance.now());
  } finally {
    if (fd >= 0) fs.closeSync(fd);
    run.df?.closeAll();
    progress[P_STATE] = S_DONE;
    // A job process (proc.ts) passes its counters on at once: a wait_for job starts on this.
    parentPort?.postMessage({ done: true });
  }
  const out = run.outcome(fixedOps);
  if (run.vr?.failure) out.error = { errno: osConstants.errno.EILSEQ, message: run.vr.failure };
  return out;
}

/** verify_only's dry run: the job's writes chosen in order and logged, none issued. */
function runDry(run: Run): void {
  run.dry = true;
  run.begin();
  for (;;) {
    const now = performance.now();
    if (!run.next(0, now)) break;
    run.inFlight--;
    if (run.slotDir[0] === 1) run.vr?.written(0, run.slotOff[0], run.slotLen[0]);
  }
}
