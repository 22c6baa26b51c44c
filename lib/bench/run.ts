// The main thread of `kaio bench`: lays out targets, starts every job
// instance (numjobs of each job) in its own worker thread, group by group
// (stonewall), samples their counters every 500 ms for the bw/iops samples
// and the live status line, stops them on Ctrl-C, and gathers what they
// measured with the process's CPU use and the disk's utilisation.
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import type { JobOutcome, JobSetup } from './job';
import { P_BYTES, P_IOS, P_SLOTS, P_SNAP, P_STATE, S_DONE, S_RAMP, S_RUN, S_SETUP, S_VERIFY } from './job';
import type { BenchJob, Program } from './options';
import { DISKLESS_ENGINES } from './options';
import { BenchError, claimBlockDevice, devNumbers, prepareFile, prepareFillTarget, prepareTarget } from './target';
import { prepareFileSet, usesFileSet, type PlannedFile } from './files';
import { checkDiscardTarget } from './discard';
import { newGate, openGate, whenSet } from './gate';
import { createLogFiles, logFiles, type LogKind } from './logs';
import { Flows, onJobEnd, releaseStartLine, startLineFor, terminate, type Controlled } from './control';
import { SteadyUnit, type SteadySource, type SteadyWindow } from './steadystate';
import type { FromChild, ProcSetup, ToChild } from './proc';

export interface Instance {
  job: BenchJob;
  jobnum: number;
  groupid: number;
  filename: string;
  size: number;
  blockDevice: boolean;
  progress: SharedArrayBuffer;
  /** bw (KiB/s) and iops samples per direction, one per 500 ms window. */
  bwSamples: [number[], number[], number[]];
  iopsSamples: [number[], number[], number[]];
  notes: string[];
  outcome?: JobOutcome;
  /** --status-interval: the job's latest snapshot while it runs. */
  snapshot?: JobOutcome;
  /** A failure outside the I/O (open, setup), one line. */
  failure?: string;
  /** Device "maj:min" the target lives on, for disk stats. */
  dev?: string;
  /** This instance's terminate flag (exitall, steady state): an Int32Array slot, notified. */
  term: SharedArrayBuffer;
  /** Where it is: not started (wait_for), its worker up, or ended. */
  state: 'pending' | 'running' | 'ended';
  /** performance.now() when its I/O started (after startdelay), 0 before. */
  startedAt: number;
  /** Its job's flow counters (flow=N), shared by the flow's jobs. */
  flow?: SharedArrayBuffer;
  /** Its steady-state window (steadystate with ss_dur), shared by a reporting group with group_reporting. */
  steady?: SteadyWindow;
  /** The job's file set (files.ts), when it has one. */
  files?: PlannedFile[];
  budget?: number;
  /** fio's thread number (1-based over the run's job instances). */
  threadNumber: number;
  logFiles: Array<[LogKind, string]>;
  /** thread=0: sends to the instance's process (proc.ts) while it runs. */
  post?: (m: ToChild) => void;
  /** thread=0: when the counters in progress were read in the instance's process (performance.now() of this one). */
  progressAt?: number;
}

export interface DiskStat {
  name: string;
  readIos: number;
  writeIos: number;
  readMerges: number;
  writeMerges: number;
  readTicks: number;
  writeTicks: number;
  inQueue: number;
  util: number;
}

export interface GroupResult {
  id: number;
  instances: Instance[];
  /** Wall time of the group, ms. */
  wallMs: number;
  cpu: { usr: number; sys: number; ctx: number; majf: number; minf: number };
  disks: DiskStat[];
}

export interface ProgramResult {
  groups: GroupResult[];
  interrupted: boolean;
  /** Files kaio bench made and removes (temp files of the default job). */
  cleanup: string[];
}

/** bw/iops sample window, ms (fio's bw_avg_time / iops_avg_time default). */
export const SAMPLE_MS = 500;

function readDiskStat(dev: string): number[] | undefined {
  try {
    return fs.readFileSync(`/sys/dev/block/${dev}/stat`, 'utf8').trim().split(/\s+/).map(Number);
  } catch {
    return undefined;
  }
}

function diskName(dev: string): string {
  try {
    return path.basename(fs.realpathSync(`/sys/dev/block/${dev}`));
  } catch {
    return dev;
  }
}

/** The device a path's data lives on ("maj:min"), when sysfs knows it. */
function deviceOf(file: string, blockDevice: boolean): string | undefined {
  try {
    const st = fs.statSync(file, { bigint: true });
    const { major, minor } = devNumbers(blockDevice ? st.rdev : st.dev);
    const id = `${major}:${minor}`;
    return fs.existsSync(`/sys/dev/block/${id}/stat`) ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Drops the file's pages from the page cache before a buffered run, as fio's
 * invalidate=1 does with posix_fadvise(POSIX_FADV_DONTNEED). Node has no
 * fadvise, so GNU dd does it (iflag=nocache count=0 advises DONTNEED over the
 * whole file); only this file's pages, never a global drop_caches.
 */
function invalidate(file: string): string | undefined {
  try {
    // Dirty pages are not dropped: write them back first.
    const fd = fs.openSync(file, fs.constants.O_RDONLY);
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    execFileSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none'], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 30000 });
    return undefined;
  } catch (e) {
    const err = e as { stderr?: Buffer; code?: string; message: string };
    return `invalidate: page cache of ${file} not dropped (${err.code === 'ENOENT' ? 'no dd(1) to call posix_fadvise' : String(err.stderr ?? err.message).trim()})`;
  }
}

function directWorks(file: string): boolean {
  try {
    fs.closeSync(fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_DIRECT));
    return true;
  } catch {
    return false;
  }
}

function maxBs(job: BenchJob): number {
  return Math.max(...job.bs, ...job.bssplit.flat().map(([s]) => s));
}

function writes(job: BenchJob): boolean {
  // A trim changes the target as a write does (a block device in use is refused for both).
  const trims = job.rw === 'trim' || job.rw === 'randtrim' || job.rw === 'trimwrite';
  return job.rw === 'write' || job.rw === 'randwrite' || trims || ((job.rw === 'rw' || job.rw === 'randrw') && job.rwmixread < 100);
}

export interface RunHooks {
  /** Called every second while jobs run, with a fio-like status line. */
  status?: (line: string) => void;
  /** Set by the caller (SIGINT): stop every job, keep what was measured. */
  stop: SharedArrayBuffer;
  /** Told about the temp dir of the default job, so a forced exit can remove it. */
  tempDir?: (dir: string) => void;
  /** --status-interval: seconds between interim reports, and what receives each (the run so far). */
  statusInterval?: number;
  interim?: (sofar: ProgramResult) => void;
}

/** Runs every group of the program in order; throws BenchError for a target that cannot be used. */
export async function runProgram(program: Program, hooks: RunHooks): Promise<ProgramResult> {
  const result: ProgramResult = { groups: [], interrupted: false, cleanup: [] };
  threadCount = program.jobs.reduce((n, j) => n + j.numjobs, 0);
  const stop = new Int32Array(hooks.stop);
  const unlinkAfter: string[] = [];
  let tmpDir = '';
  const tmp = (): string => {
    if (!tmpDir) {
      tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-bench-'));
      hooks.tempDir?.(tmpDir);
    }
    return tmpDir;
  };
  // Group jobs: a job with stonewall waits for every job before it.
  const groups: BenchJob[][] = [];
  // fio adds every job's flow weight when it sets the jobs up, before any runs.
  const flows = new Flows();
  const flowOf = new Map<BenchJob, SharedArrayBuffer>();
  for (const job of program.jobs) if (job.pace.flow > 0) for (let n = 0; n < job.numjobs; n++) flowOf.set(job, flows.join(job.pace.flowId, job.pace.flow));
  const ctl: ProgramControl = { exitall: program.jobs.some((j) => j.control.exitall), stopAll: false };
  // Reporting groups, fio's way: stonewall or new_group starts the next one
  // when the current one has jobs; new_group alone does not wait.
  const reportGroup = new Map<BenchJob, number>();
  let rid = 0;
  let ridJobs = 0;
  let threadNumber = 0;
  for (const job of program.jobs) {
    if (!groups.length || job.stonewall) groups.push([]);
    groups[groups.length - 1].push(job);
    if ((job.stonewall || job.newGroup) && ridJobs) {
      rid++;
      ridJobs = 0;
    }
    reportGroup.set(job, rid);
    ridJobs += job.numjobs;
  }
  try {
    for (let g = 0; g < groups.length; g++) {
      if (Atomics.load(stop, 0)) {
        result.interrupted = true;
        break;
      }
      const instances: Instance[] = [];
      const claims: number[] = [];
      const laidOut = new Map<string, { size: number; blockDevice: boolean; notes: string[] }>();
      for (const job of groups[g]) {
        for (let n = 0; n < job.numjobs; n++) {
          // The logs first: a path that cannot be written fails before any target is laid out.
          const files = logFiles(job.logs, job.name, ++threadNumber);
          try {
            createLogFiles(files);
          } catch (e) {
            throw new BenchError((e as Error).message);
          }
          if (usesFileSet(job)) {
            checkDiscardTarget(job, job.filename && !job.filename.includes(':') ? job.filename : undefined);
            // nrfiles, filesize, the file engines...: files.ts plans and lays out the instance's files.
            const set = await prepareFileSet(job, n, {
              blockDevice: (file) => {
                const st = fs.statSync(file, { throwIfNoEntry: false });
                if (!st?.isBlockDevice()) return undefined;
                const t = prepareTarget({ job: job.name, filename: file, size: job.size, bs: maxBs(job), write: writes(job), allowMountedWrite: job.allowMountedWrite });
                return { size: t.size, notes: t.notes };
              },
              fill: prepareFile,
              invalidate,
            });
            if (job.unlink) unlinkAfter.push(...set.files.map((f) => f.path));
            instances.push({
              threadNumber,
              logFiles: files,
              job,
              jobnum: n,
              groupid: reportGroup.get(job)!,
              filename: set.files[0].path,
              size: Math.max(set.files[0].ioSize, maxBs(job)),
              blockDevice: set.blockDevice,
              progress: new SharedArrayBuffer(P_SLOTS * 8),
              bwSamples: [[], [], []],
              iopsSamples: [[], [], []],
              notes: set.notes,
              dev: deviceOf(set.blockDevice ? set.files[0].path : path.dirname(path.resolve(set.files[0].path)), set.blockDevice),
              files: set.files,
              budget: set.budget,
              term: new SharedArrayBuffer(4),
              state: 'pending',
              startedAt: 0,
              flow: flowOf.get(job),
            });
            continue;
          }
          let filename = job.filename;
          const diskless = job.rw === 'nop' || DISKLESS_ENGINES.includes(job.ioengine);
          if (!filename && !diskless) {
            const base = `${job.section || job.name}.${n}.0`;
            if (program.defaulted) {
              filename = path.join(tmp(), base);
              result.cleanup.push(filename);
            } else filename = path.join(job.directory || '.', base);
          }
          if (!diskless) checkDiscardTarget(job, filename);
          let size = job.size || 1024 ** 3;
          // fio's offset_increment: sibling n starts n increments further.
          const instOffset = job.offset + n * job.offsetIncrement;
          let blockDevice = false;
          const notes: string[] = [];
          if (!diskless) {
            let t = laidOut.get(filename);
            if (!t) {
              const st = fs.statSync(filename, { throwIfNoEntry: false });
              if (job.sizePercent && !st)
                throw new BenchError(`--size=${job.sizePercent}%: ${filename} does not exist; a percentage needs an existing file or device`);
              const have = st && st.isFile() && !job.size ? st.size : 0;
              const fillFile = job.fillDevice && !job.size && (!st || st.isFile());
              const target = fillFile ? prepareFillTarget(filename, maxBs(job)) : prepareTarget({
                job: job.name,
                filename,
                // the default job's temp file: 256 MiB unless --size says otherwise
                // offset_increment: a shared file holds every sibling's region, an own file its sibling's.
                size: job.size ? (job.filename ? job.offset + (job.numjobs - 1) * job.offsetIncrement : instOffset) + job.size : have || (program.defaulted ? 256 * 1024 ** 2 : 0),
                bs: maxBs(job),
                write: writes(job),
                allowMountedWrite: job.allowMountedWrite,
              });
              t = { size: target.size, blockDevice: target.blockDevice, notes: target.notes };
              if (program.defaulted && job.direct && !directWorks(filename)) {
                // Only the job kaio made up itself changes; a --direct=1 the user gave fails instead.
                job.direct = false;
                t.notes.push(`${path.dirname(filename)} does not support O_DIRECT: the default job runs buffered`);
              }
              laidOut.set(filename, t);
              if (target.blockDevice && writes(job) && !job.allowMountedWrite) claims.push(claimBlockDevice(filename));
              if (job.invalidate && !job.direct && (st?.isFile() || target.blockDevice || !st)) {
                const why = invalidate(filename);
                if (why) t.notes.push(why);
              }
            }
            size = job.size || t.size - instOffset;
            if (job.sizePercent) {
              const bs = maxBs(job);
              size = Math.min(size, Math.floor((t.size * job.sizePercent) / 100 / bs) * bs);
            }
            if (size < maxBs(job)) throw new BenchError(`${filename}: --offset=${instOffset} leaves ${Math.max(0, size)} bytes, less than one block (${maxBs(job)})`);
            blockDevice = t.blockDevice;
            if (n === 0) notes.push(...t.notes);
          }
          instances.push({
            threadNumber,
            logFiles: files,
            job,
            jobnum: n,
            groupid: reportGroup.get(job)!,
            filename,
            size,
            blockDevice,
            progress: new SharedArrayBuffer(P_SLOTS * 8),
            bwSamples: [[], [], []],
            iopsSamples: [[], [], []],
            notes,
            dev: diskless ? undefined : deviceOf(filename, blockDevice),
            term: new SharedArrayBuffer(4),
            state: 'pending',
            startedAt: 0,
            flow: flowOf.get(job),
          });
        }
      }
      // exit_what=all: a job's end stopped every job, the later groups too
      // (they start stopped: fio reports them, with nothing done).
      if (ctl.stopAll) for (const inst of instances) Atomics.store(new Int32Array(inst.term), 0, 1);
      // --status-interval: the groups done so far and this one's snapshots, as one run.
      const interim = hooks.interim
        ? (ran: GroupResult): void => {
            const cur: GroupResult[] = [];
            const ids = [...new Set(ran.instances.map((i) => i.groupid))];
            for (const id of ids) cur.push({ ...ran, id, instances: ran.instances.filter((i) => i.groupid === id) });
            hooks.interim!({ groups: [...result.groups, ...cur], interrupted: false, cleanup: [] });
          }
        : undefined;
      try {
        const ran = await runGroup(g, instances, hooks, ctl, interim);
        // One result per reporting group of the jobs that ran together (their
        // disks once, with the first).
        const ids = [...new Set(instances.map((i) => i.groupid))];
        ids.forEach((id, k) => result.groups.push({ ...ran, id, instances: ran.instances.filter((i) => i.groupid === id), disks: k === 0 ? ran.disks : [] }));
      } finally {
        for (const fd of claims) fs.closeSync(fd);
      }
      if (Atomics.load(stop, 0)) result.interrupted = true;
      if (instances.some((i) => i.failure || i.outcome?.error)) break;
    }
  } finally {
    for (const g of groups) for (const job of g) if (job.unlink && job.filename) fs.rmSync(job.filename, { force: true });
    // unlink=1 on a file set: each of its files (or directories, for the dir engines).
    for (const f of unlinkAfter) fs.rmSync(f, { force: true, recursive: true });
    if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
  }
  return result;
}

/** Program-wide job control: exitall is set for all when any job sets it (fio's exitall_on_terminate). */
interface ProgramControl {
  exitall: boolean;
  /** A job with exit_what=all ended: nothing more runs. */
  stopAll: boolean;
}

/** The main thread's view of an instance for steady-state checks. */
function steadySource(inst: Instance): SteadySource {
  const p = new Float64Array(inst.progress);
  return {
    started: () => inst.startedAt,
    totals: () => [p[P_IOS] + p[P_IOS + 2] + p[P_IOS + 4], p[P_BYTES] + p[P_BYTES + 2] + p[P_BYTES + 4]],
    terminate: () => terminate(controlled(inst)),
    running: () => inst.state === 'running' && (p[P_STATE] === S_RUN || p[P_STATE] === S_RAMP),
  };
}

const controlledOf = new WeakMap<Instance, Controlled>();
function controlled(inst: Instance): Controlled {
  let c = controlledOf.get(inst);
  if (!c) {
    c = {
      job: inst.job,
      groupid: inst.groupid,
      term: new Int32Array(inst.term),
      get state() {
        // fio stops "running" jobs for exit_what=stonewall: past their startdelay, doing I/O.
        const st = new Float64Array(inst.progress)[P_STATE];
        return inst.state === 'running' && st === S_SETUP ? 'pending' : inst.state;
      },
    };
    controlledOf.set(inst, c);
  }
  return c;
}

/**
 * Starts a group's instances, each when its wait_for job (if any) has
 * ended; stops others as exitall/exit_what/exitall_on_error say when one
 * ends; runs the steady-state checks.
 */
function startAll(instances: Instance[], hooks: RunHooks, ctl: ProgramControl, answered: (inst: Instance) => void, gate: SharedArrayBuffer): Promise<void> {
  const ended = new Map<Instance, Promise<void>>();
  const units: SteadyUnit[] = [];
  const byUnit = new Map<string, Instance[]>();
  for (const inst of instances) {
    const ss = inst.job.steadystate;
    if (!ss.dur) continue;
    const key = inst.job.groupReporting ? `g${inst.groupid}` : `i${instances.indexOf(inst)}`;
    byUnit.set(key, [...(byUnit.get(key) ?? []), inst]);
  }
  for (const members of byUnit.values()) {
    const unit = new SteadyUnit(members[0].job.steadystate, members.map(steadySource));
    units.push(unit);
    for (const m of members) m.steady = unit.window;
  }
  const timers = [...new Set(units.map((u) => u.o.interval))].map((secs) =>
    setInterval(() => {
      const now = performance.now();
      for (const u of units) if (u.o.interval === secs) u.tick(now);
    }, secs * 1000),
  );
  const all = instances.map(controlled);
  for (const inst of instances) {
    const w = inst.job.control.waitFor;
    const waitees = w ? instances.filter((o) => o.job.name === w && o !== inst) : [];
    // fio's waitee_running(): a job with wait_for starts once every job of that
    // name has exited. Its worker is set up at once (as fio's thread exists) and
    // waits at a gate of its own, so that it starts as soon as the waitees end.
    const waitGate = waitees.length ? startLineFor(2 ** 31 - 1) : undefined;
    if (waitGate) {
      // open when every waitee's I/O is done (its worker's teardown need not be waited for)
      const done = (): boolean => waitees.every((o) => o.state === 'ended' || new Float64Array(o.progress)[P_STATE] === S_DONE);
      const poll = setInterval(() => {
        if (!done()) return;
        clearInterval(poll);
        releaseStartLine(waitGate);
      }, 5);
      void Promise.all(waitees.map((o) => ended.get(o))).then(() => {
        clearInterval(poll);
        releaseStartLine(waitGate);
      });
    }
    const p = (async (): Promise<void> => {
      inst.state = 'running';
      // Polled until the instance leaves setup, then stopped: a timer left running
      // for the whole job wakes this thread 50 times a second, which on a machine
      // with as many CPUs as jobs takes a CPU from a job thread each time.
      const watch = setInterval(() => {
        if (inst.startedAt || new Float64Array(inst.progress)[P_STATE] === S_SETUP) return;
        inst.startedAt = performance.now();
        clearInterval(watch);
      }, 20);
      try {
        // every instance comes to the group's gate (gate.ts) once set up; one with
        // wait_for then waits at its own gate too, just before its I/O starts
        await startInstance(inst, hooks.stop, answered, gate, instances.length, waitGate);
      } finally {
        clearInterval(watch);
        inst.state = 'ended';
      }
      const failed = !!(inst.failure || inst.outcome?.error);
      if (onJobEnd(controlled(inst), failed, ctl.exitall, all)) ctl.stopAll = true;
    })();
    ended.set(inst, p);
  }
  return Promise.all(ended.values()).then(
    () => timers.forEach(clearInterval),
    (e) => {
      timers.forEach(clearInterval);
      throw e;
    },
  );
}

async function runGroup(id: number, instances: Instance[], hooks: RunHooks, ctl: ProgramControl, interim?: (sofar: GroupResult) => void): Promise<GroupResult> {
  const devs = [...new Set(instances.map((i) => i.dev).filter((d): d is string => !!d))];
  const disk0 = devs.map(readDiskStat);
  const ru0 = process.resourceUsage();
  const t0 = performance.now();
  const last = instances.map(() => ({ t: 0, v: new Float64Array(P_SLOTS) }));
  const sample = (final: boolean): void => {
    const wall = performance.now();
    instances.forEach((inst, k) => {
      // A job process's counters: when it read them, not when they arrived.
      const now = inst.progressAt ?? wall;
      const p = new Float64Array(inst.progress);
      const state = p[P_STATE];
      const l = last[k];
      if (state === S_RUN && l.t === 0) {
        // first look at a running job (or just after ramp): start its window
        l.t = now;
        l.v.set(p);
        return;
      }
      if (l.t === 0 || (state !== S_RUN && !final)) return;
      const dt = (now - l.t) / 1000;
      if (dt < (final ? SAMPLE_MS / 2000 : 0.001)) return;
      for (let d = 0; d < 3; d++) {
        const ios = p[P_IOS + 2 * d] - l.v[P_IOS + 2 * d];
        const bytes = p[P_BYTES + 2 * d] - l.v[P_BYTES + 2 * d];
        if (ios < 0) continue; // ramp reset
        if (inst.job.rw === 'nop' && d === 1) continue;
        inst.iopsSamples[d].push(ios / dt);
        inst.bwSamples[d].push(bytes / 1024 / dt);
      }
      l.t = state === S_RUN ? now : 0;
      l.v.set(p);
    });
  };
  const timer = setInterval(() => sample(false), SAMPLE_MS);
  let statusTimer: NodeJS.Timeout | undefined;
  if (hooks.status) {
    const prev = new Float64Array(6);
    let tPrev = performance.now();
    statusTimer = setInterval(() => {
      const now = performance.now();
      const sum = new Float64Array(6);
      let running = 0;
      const letters: string[] = [];
      for (const inst of instances) {
        const p = new Float64Array(inst.progress);
        for (let i = 0; i < 6; i++) sum[i] += p[i];
        const st = p[P_STATE];
        if (st !== S_DONE) running++;
        letters.push(st === S_DONE ? '_' : st === S_RAMP ? '/' : st === S_VERIFY ? 'V' : statusLetter(inst.job));
      }
      const dt = (now - tPrev) / 1000;
      const bw = [0, 1].map((d) => (sum[P_BYTES + 2 * d] - prev[P_BYTES + 2 * d]) / dt);
      const iops = [0, 1].map((d) => (sum[P_IOS + 2 * d] - prev[P_IOS + 2 * d]) / dt);
      prev.set(sum);
      tPrev = now;
      const job = instances[0].job;
      const total = job.runtime ? (job.rampTime + job.runtime) * 1000 : 0;
      const elapsed = now - t0;
      const pct = total ? Math.min(100, (elapsed / total) * 100) : NaN;
      const eta = total ? Math.max(0, Math.round((total - elapsed) / 1000)) : NaN;
      const rates = [0, 1].filter((d) => bw[d] > 0 || iops[d] > 0 || (d === 0 && !bw[1]));
      hooks.status!(
        `Jobs: ${running} (f=${running}): [${letters.join('')}]` +
          `[${Number.isNaN(pct) ? '-.-' : pct.toFixed(1)}%]` +
          `[${rates.map((d) => `${'rw'[d]}=${bytesRate(bw[d])}`).join(',')}]` +
          `[${rates.map((d) => `${'rw'[d]}=${iopsText(iops[d])}`).join(',')} IOPS]` +
          `[eta ${Number.isNaN(eta) ? '--m:--s' : `${String(Math.floor(eta / 60)).padStart(2, '0')}m:${String(eta % 60).padStart(2, '0')}s`}]`,
      );
    }, 1000);
  }
  // --status-interval: each tick asks every running job for a snapshot (P_SNAP) and reports once all answered or ended.
  let snapTimer: NodeJS.Timeout | undefined;
  let waiting: Set<Instance> | undefined;
  let seq = 0;
  const answered = (inst: Instance): void => {
    if (!waiting || !waiting.delete(inst) || waiting.size) return;
    waiting = undefined;
    const zero = { usr: 0, sys: 0, ctx: 0, majf: 0, minf: 0 };
    const view = instances.map((i) => ({ ...i, outcome: i.outcome ?? i.snapshot, bwSamples: i.bwSamples, iopsSamples: i.iopsSamples }));
    interim!({ id, instances: view.filter((i) => i.outcome), wallMs: performance.now() - t0, cpu: zero, disks: [] });
  };
  if (interim && hooks.statusInterval) {
    snapTimer = setInterval(() => {
      if (waiting) return; // the last request is still being answered
      const running = instances.filter((i) => !i.outcome && !i.failure);
      if (!running.length) return;
      waiting = new Set(running);
      seq++;
      for (const i of running) {
        new Float64Array(i.progress)[P_SNAP] = seq;
        i.post?.({ snap: seq });
      }
    }, hooks.statusInterval * 1000);
  }
  try {
    const gate = newGate();
    await startAll(instances, hooks, ctl, answered, gate);
  } finally {
    clearInterval(timer);
    if (statusTimer) clearInterval(statusTimer);
    if (snapTimer) clearInterval(snapTimer);
  }
  sample(true);
  const wallMs = performance.now() - t0;
  const ru = process.resourceUsage();
  const disk1 = devs.map(readDiskStat);
  const disks: DiskStat[] = [];
  devs.forEach((dev, i) => {
    const a = disk0[i];
    const b = disk1[i];
    if (!a || !b || a.length < 11) return;
    const d = (k: number): number => b[k] - a[k];
    disks.push({
      name: diskName(dev),
      readIos: d(0),
      readMerges: d(1),
      readTicks: d(3),
      writeIos: d(4),
      writeMerges: d(5),
      writeTicks: d(7),
      inQueue: d(10),
      util: Math.min(100, (d(9) / wallMs) * 100),
    });
  });
  const n = instances.length;
  const secs = wallMs / 1000;
  const cpu = {
    // The process's use (Node has no per-thread rusage), shared evenly among the group's jobs.
    usr: ((ru.userCPUTime - ru0.userCPUTime) / 1e4 / secs) / n,
    sys: ((ru.systemCPUTime - ru0.systemCPUTime) / 1e4 / secs) / n,
    ctx: Math.round((ru.voluntaryContextSwitches + ru.involuntaryContextSwitches - ru0.voluntaryContextSwitches - ru0.involuntaryContextSwitches) / n),
    majf: Math.round((ru.majorPageFault - ru0.majorPageFault) / n),
    minf: Math.round((ru.minorPageFault - ru0.minorPageFault) / n),
  };
  return { id, instances, wallMs, cpu, disks };
}

function statusLetter(job: BenchJob): string {
  return { read: 'R', randread: 'r', write: 'W', randwrite: 'w', rw: 'M', randrw: 'm', nop: 'N', trim: 'D', randtrim: 'd', trimwrite: 'T' }[job.rw];
}

/** Instances in the run (fio's thread_number count): dedupe_global spreads its working set over them. */
let threadCount = 1;

function startInstance(inst: Instance, stop: SharedArrayBuffer, answered: (inst: Instance) => void, gate: SharedArrayBuffer, gateTotal: number, start?: SharedArrayBuffer): Promise<void> {
  const setup: JobSetup = {
    job: inst.job,
    jobnum: inst.jobnum,
    filename: inst.filename,
    size: inst.size,
    blockDevice: inst.blockDevice,
    progress: inst.progress,
    stop,
    term: inst.term,
    flow: inst.flow,
    start,
    threadNumber: inst.threadNumber,
    logFiles: inst.logFiles,
    files: inst.files,
    budget: inst.budget,
    gate,
    gateTotal,
    threads: threadCount,
  };
  const onMessage = (m: { outcome?: JobOutcome; snapshot?: JobOutcome; error?: { message: string } }): void => {
    if (m.snapshot) {
      inst.snapshot = m.snapshot;
      answered(inst);
    } else if (m.outcome) {
      inst.outcome = m.outcome;
      inst.notes.push(...m.outcome.notes);
    } else if (m.error) inst.failure = m.error.message;
  };
  const onExit = (code: number | string | null, resolve: () => void): void => {
    // An instance that ended before the gate (its setup failed) must not hold the others there.
    openGate(gate);
    if (!inst.outcome && !inst.failure) inst.failure = `job ${inst.job.name} (${inst.jobnum}) ended without a result (exit code ${code})`;
    answered(inst);
    resolve();
  };
  if (inProcess(inst)) return startProcess(inst, setup, onMessage, onExit);
  return new Promise((resolve) => {
    const w = new Worker(path.join(__dirname, 'worker.js'), { workerData: setup });
    w.on('message', onMessage);
    w.on('error', (e) => {
      inst.failure ??= e.message.replace(/\s*\n\s*/g, ' ');
    });
    w.on('exit', (code) => onExit(code, resolve));
  });
}

/**
 * thread=0 (fio's default): the instance runs in a process of its own. Not for a
 * job of a flow (flow=N): its counters are memory the flow's jobs share.
 */
function inProcess(inst: Instance): boolean {
  return !inst.job.thread && !inst.flow;
}

/** Job processes still running: killed if kaio bench exits before they end (a second Ctrl-C). */
const liveChildren = new Set<ChildProcess>();
let exitHook = false;

/**
 * Forks proc.js with detached: true (a new session, as fio's job processes
 * call setsid()), sends it the setup, and mirrors the shared memory the
 * instance would have shared as a thread: the parent's copies of the stop,
 * term, gate and start flags are watched and passed on; the progress
 * counters the child sends are written into inst.progress, so that the
 * sampling, status line, steady state and wait_for read them as they read a
 * thread's.
 */
function startProcess(
  inst: Instance,
  setup: JobSetup,
  onMessage: (m: { outcome?: JobOutcome; snapshot?: JobOutcome; error?: { message: string } }) => void,
  onExit: (code: number | string | null, resolve: () => void) => void,
): Promise<void> {
  const { progress, stop, term, flow, start, gate, gateTotal, ...rest } = setup;
  void flow;
  return new Promise((resolve) => {
    const child = fork(path.join(__dirname, 'proc.js'), [], {
      detached: true,
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    liveChildren.add(child);
    if (!exitHook) {
      exitHook = true;
      process.on('exit', () => {
        for (const c of liveChildren) c.kill('SIGKILL');
      });
    }
    let ended = false;
    const post = (m: ToChild): void => {
      if (!ended && child.connected) child.send(m);
    };
    inst.post = post;
    const mirror = new Float64Array(progress);
    const first: ProcSetup = { setup: rest, start: !!start };
    child.send(first);
    child.on('message', (m: FromChild) => {
      if (m.p) {
        // P_SNAP is the parent's to set: a copy never takes back a request not yet seen.
        const snap = mirror[P_SNAP];
        mirror.set(m.p);
        mirror[P_SNAP] = Math.max(snap, m.p[P_SNAP]);
        inst.progressAt = m.t! - performance.timeOrigin;
      }
      if (m.arrived) {
        const g = new Int32Array(gate!);
        if (Atomics.add(g, 0, 1) + 1 >= gateTotal!) openGate(gate!);
      }
      onMessage(m as { outcome?: JobOutcome; snapshot?: JobOutcome; error?: { message: string } });
    });
    whenSet(new Int32Array(stop), 0, () => post({ stop: true }));
    if (term) whenSet(new Int32Array(term), 0, () => post({ term: true }));
    if (gate) whenSet(new Int32Array(gate), 1, () => post({ open: true }));
    if (start) whenSet(new Int32Array(start), 1, () => post({ start: true }));
    child.on('error', (e) => {
      inst.failure ??= `job process: ${e.message}`;
    });
    child.on('exit', (code, signal) => {
      ended = true;
      liveChildren.delete(child);
      inst.post = undefined;
      // Its last counters came before it exited; a child killed by a signal says so.
      mirror[P_STATE] = S_DONE;
      onExit(code ?? signal, resolve);
    });
  });
}

/** 73.1MiB/s style. */
export function bytesRate(bps: number): string {
  return `${humanBytes(bps)}/s`;
}

/** fio's num2str: at most 4 digits, 1024-based units for bytes. */
export function humanBytes(n: number): string {
  return scaled(n, 1024, ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']);
}

/** 1000-based, for bytes as MB. */
export function humanBytesSI(n: number): string {
  return scaled(n, 1000, ['B', 'kB', 'MB', 'GB', 'TB', 'PB']);
}

export function iopsText(n: number): string {
  return scaled(n, 1000, ['', 'k', 'M', 'G']);
}

function scaled(n: number, base: number, units: string[]): string {
  let u = 0;
  let v = n;
  while (v >= 10000 && u < units.length - 1) {
    v /= base;
    u++;
  }
  let s: string;
  if (Number.isInteger(v) || v >= 100) s = Math.round(v).toString();
  else if (v >= 10) s = v.toFixed(1);
  else s = v.toFixed(2);
  return `${s}${units[u]}`;
}
