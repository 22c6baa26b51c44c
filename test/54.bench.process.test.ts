// thread=0: each job instance in a process of its own that leads its own
// session (fio's default: its job processes call setsid()). Seen from outside
// while the run goes on (/proc), and compared with fio on the same job; the
// relays that replace shared memory between threads (the gate, wait_for,
// exitall, Ctrl-C, --status-interval, the bw/iops samples) each checked.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { pkgRoot, skip } from './helpers';
import { doc, haveFio, json, kaio, fio } from './bench-cli';

const bin = path.join(pkgRoot, 'bin', 'kaio');

interface Stat {
  pid: number;
  ppid: number;
  sid: number;
}

/** pid, parent and session of a process from /proc (undefined once it is gone). */
function stat(pid: number): Stat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // "pid (comm) state ppid pgrp session ...": comm may hold spaces, so split after its ')'.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return { pid, ppid: Number(f[1]), sid: Number(f[3]) };
}

function childrenOf(pid: number): Stat[] {
  const out: Stat[] = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = stat(Number(name));
    if (s && s.ppid === pid) out.push(s);
  }
  return out;
}

/**
 * Starts a command; resolves with its children once `want` of them exist and
 * each leads its own session (or with what there is when it exits). A child is
 * seen from its fork on, before it has called setsid(): its session is its
 * parent's for that moment, so one look is not enough.
 */
function runWatching(cmd: string, args: string[], want: number): { child: ChildProcess; seen: Promise<Stat[]>; done: Promise<{ status: number | null; stdout: string; stderr: string }> } {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
  let exited = false;
  child.on('exit', () => (exited = true));
  const seen = new Promise<Stat[]>((resolve) => {
    const look = (): void => {
      const kids = childrenOf(child.pid!);
      if ((kids.length >= want && kids.every((k) => k.sid === k.pid)) || exited) return resolve(kids);
      setTimeout(look, 10);
    };
    look();
  });
  return { child, seen, done };
}


/** A /proc/<pid>/io counter (0 once the process is gone). */
function ioCount(pid: number, key: string): number {
  try {
    return Number(new RegExp(`${key}: (\\d+)`).exec(fs.readFileSync(`/proc/${pid}/io`, 'utf8'))![1]);
  } catch {
    return 0;
  }
}

/** The process's threads, without io_uring's workers (iou-*); -1 once it is gone. */
function threadCount(pid: number): number {
  let tasks: string[];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return -1;
  }
  let n = 0;
  for (const t of tasks) {
    try {
      if (!fs.readFileSync(`/proc/${pid}/task/${t}/comm`, 'utf8').startsWith('iou-')) n++;
    } catch {
      // the thread ended meanwhile
    }
  }
  return n;
}

/** Resolves once cond() holds, looking every 10 ms. */
function until(cond: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const look = (): void => (cond() ? resolve() : void setTimeout(look, 10));
    look();
  });
}

type Job = { jobname: string; job_start: number; elapsed: number; job_runtime: number; error: number; read: { total_ios: number; io_bytes: number; iops: number; iops_mean: number; iops_samples: number; bw_samples: number }; write: { total_ios: number; io_bytes: number } };
type Doc = { jobs: Job[] };

describe('54 kaio bench: thread=0, a process per job instance in its own session (fio\'s default)', function () {
  this.timeout(120000);
  let dir = '';
  beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-54p-'))));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  const job = (d: string, extra: string[] = []): string[] => [
    '--name=p',
    `--filename=${path.join(d, 'data')}`,
    '--size=4m',
    '--rw=randread',
    '--bs=4k',
    '--ioengine=psync',
    '--numjobs=2',
    '--time_based',
    '--runtime=2',
    // no dd(1) child for the page cache's invalidation: the job processes are the only children
    '--invalidate=0',
    ...extra,
  ];

  it('each instance is a child process that leads a session of its own, as fio\'s job processes do; with --thread none is', async function () {
    const k = runWatching(process.execPath, [bin, 'bench', '--eta=never', '--thread=0', ...job(dir)], 2);
    const kids = await k.seen;
    const r = await k.done;
    assert.equal(r.status, 0, r.stderr);
    assert.equal(kids.length, 2, `children of kaio bench: ${JSON.stringify(kids)}`);
    const own = stat(process.pid)!;
    for (const c of kids) {
      assert.equal(c.sid, c.pid, `child ${c.pid} leads its session`);
      assert.notEqual(c.sid, own.sid);
    }
    // fio's header and job line: processes, and the job's pid is its process's, not kaio's.
    assert.match(r.stdout, /^Starting 2 processes$/m);
    const pids = [...r.stdout.matchAll(/: pid=(\d+):/g)].map((m) => Number(m[1]));
    assert.equal(pids.length, 2);
    for (const p of pids) assert.ok(kids.some((c) => c.pid === p), `pid=${p} is one of the job processes ${kids.map((c) => c.pid)}`);

    const t = runWatching(process.execPath, [bin, 'bench', '--eta=never', '--thread', ...job(dir)], 1);
    const tk = await t.seen;
    const tr = await t.done;
    assert.equal(tr.status, 0, tr.stderr);
    assert.deepEqual(tk, [], 'no child process with --thread');
    assert.match(tr.stdout, /^Starting 2 threads$/m);

    if (!haveFio) skip(this, 'fio is not installed (the reference)');
    const f = runWatching('fio', job(dir), 2);
    const fk = await f.seen;
    const fr = await f.done;
    assert.equal(fr.status, 0, fr.stderr);
    assert.equal(fk.length, 2, `fio's job processes: ${JSON.stringify(fk)}`);
    for (const c of fk) assert.equal(c.sid, c.pid, `fio's job process ${c.pid} leads its session`);
    assert.match(fr.stdout, /^Starting 2 processes$/m);
  });

  it('writes through a job process reach the file: every byte as buffer_pattern says, read back with node:fs', () => {
    const file = path.join(dir, 'w');
    const r = doc<Doc>(kaio(['--thread=0', '--name=w', `--filename=${file}`, '--size=1m', '--rw=write', '--bs=64k', '--ioengine=io_uring', '--iodepth=4', '--buffer_pattern=0x5aa5c33c', '--scramble_buffers=0', '--output-format=json']));
    assert.equal(r.jobs[0].error, 0);
    assert.equal(r.jobs[0].write.total_ios, 16);
    assert.equal(r.jobs[0].write.io_bytes, 1 << 20);
    const data = fs.readFileSync(file);
    assert.equal(data.length, 1 << 20);
    const want = Buffer.alloc(1 << 20);
    for (let i = 0; i < want.length; i += 4) want.writeUInt32BE(0x5aa5c33c, i);
    assert.ok(data.equals(want), 'file content');
  });

  it('the bw/iops samples come from the job process\'s counters: one per 500 ms window, and their mean is the job\'s IOPS', () => {
    const r = doc<Doc>(kaio(['--thread=0', ...job(dir, ['--numjobs=1', '--runtime=3', '--output-format=json'])]));
    const j = r.jobs[0];
    assert.ok(j.read.total_ios > 0);
    // 3 s in 500 ms windows: 5 or 6 samples (the last, partial one counted when at least half a window).
    assert.ok(j.read.iops_samples >= 5 && j.read.iops_samples <= 7, `iops samples ${j.read.iops_samples}`);
    assert.equal(j.read.bw_samples, j.read.iops_samples);
    // Windows timed by the job process's clock: their mean is the job's rate within a loaded machine's noise.
    assert.ok(j.read.iops_mean > j.read.iops * 0.6 && j.read.iops_mean < j.read.iops * 1.4, `iops_mean ${j.read.iops_mean}, iops ${j.read.iops}`);
  });

  it('the group\'s gate and wait_for across processes: b starts when a has ended, a and a\'s sibling together', () => {
    const r = doc<Doc>(
      kaio([
        '--thread=0',
        '--output-format=json',
        ...job(dir, ['--runtime=1']),
        '--name=b',
        `--filename=${path.join(dir, 'data')}`,
        '--size=4m',
        '--rw=read',
        '--ioengine=psync',
        '--numjobs=1',
        '--wait_for=p',
        '--runtime=1',
        '--time_based',
      ]),
    );
    const [a0, a1, b] = r.jobs;
    assert.deepEqual(r.jobs.map((j) => j.jobname), ['p', 'p', 'b']);
    // Started at one gate: within 100 ms of each other (each process is set up before either starts).
    assert.ok(Math.abs(a0.job_start - a1.job_start) < 100, `job_start ${a0.job_start} ${a1.job_start}`);
    // b waits for both of p's instances (1 s each) to end.
    assert.ok(b.job_start >= Math.max(a0.job_start, a1.job_start) + 1000, `b started at ${b.job_start}, p at ${a0.job_start}`);
    for (const j of r.jobs) assert.ok(j.read.total_ios > 0, j.jobname);
  });

  it('exitall: the first job to end stops the other\'s process (runtime 30 s) at once', () => {
    const t0 = Date.now();
    const r = doc<Doc>(
      kaio([
        '--thread=0',
        '--exitall',
        '--output-format=json',
        ...job(dir, ['--numjobs=1', '--runtime=1']),
        '--name=long',
        `--filename=${path.join(dir, 'data')}`,
        '--size=4m',
        '--rw=read',
        '--ioengine=psync',
        '--time_based',
        '--runtime=30',
      ]),
    );
    assert.ok(Date.now() - t0 < 15000, `took ${Date.now() - t0} ms`);
    assert.equal(r.jobs.length, 2);
    assert.ok(r.jobs[1].job_runtime < 10000, `long ran ${r.jobs[1].job_runtime} ms`);
  });

  it('--status-interval: each interim report has the job processes\' snapshots', () => {
    const r = kaio(['--thread=0', '--status-interval=1', '--output-format=json', ...job(dir, ['--runtime=3'])]);
    assert.equal(r.status, 0, r.stderr);
    const docs = r.stdout.split(/\n(?=\{)/).filter((s) => s.startsWith('{')).map((s) => json<Doc>(s));
    assert.ok(docs.length >= 3, `${docs.length} reports`);
    const interim = docs.slice(0, -1);
    for (const d of interim) assert.equal(d.jobs.length, 2);
    // The counts grow from one report to the next, up to the final one.
    const total = (d: Doc): number => d.jobs.reduce((n, j) => n + j.read.total_ios, 0);
    for (let i = 1; i < docs.length; i++) assert.ok(total(docs[i]) > total(docs[i - 1]), `report ${i}: ${total(docs[i])} <= ${total(docs[i - 1])}`);
  });

  it('Ctrl-C reaches the job processes (in sessions of their own, the terminal\'s signal does not): results, and none left running', async () => {
    const k = runWatching(process.execPath, [bin, 'bench', '--eta=never', '--thread=0', '--output-format=json', ...job(dir, ['--runtime=60'])], 2);
    const kids = await k.seen;
    assert.equal(kids.length, 2);
    // The signal may come while the processes are still setting up: the stop is relayed whatever their stage.
    const t0 = Date.now();
    k.child.kill('SIGINT');
    const r = await k.done;
    // Stopped, not run to the end of its 60 s.
    assert.ok(Date.now() - t0 < 20000, `ended ${Date.now() - t0} ms after the signal`);
    // 130 as for threads: interrupted, with the results so far
    assert.equal(r.status, 130, r.stderr);
    assert.match(r.stderr, /terminating on signal SIGINT/);
    assert.equal(json<Doc>(r.stdout).jobs.length, 2);
    for (const c of kids) assert.equal(stat(c.pid), undefined, `job process ${c.pid} still there`);
  });

  it('kaio bench killed (SIGKILL): its job processes see their pipe close and stop', async () => {
    const k = runWatching(process.execPath, [bin, 'bench', '--eta=never', '--thread=0', ...job(dir, ['--runtime=60'])], 2);
    const kids = await k.seen;
    assert.equal(kids.length, 2);
    k.child.kill('SIGKILL');
    await k.done;
    // Each stops its job and exits: polled until gone, up to 20 s (the runtime is 60 s).
    const until = Date.now() + 20000;
    while (kids.some((c) => stat(c.pid)) && Date.now() < until) await new Promise((res) => setTimeout(res, 50));
    for (const c of kids) assert.equal(stat(c.pid), undefined, `job process ${c.pid} still running`);
  });

  /** Starts the 2-instance job for 12 s, stops kaio bench (SIGSTOP) once both run their I/O, and resolves once each job's worker thread (or process) has ended. */
  async function stoppedUntilJobsEnd(): Promise<{ k: ReturnType<typeof runWatching>; kids: Stat[] }> {
    // 12 s of progress messages the stopped parent does not read fill the
    // IPC socket, so the outcome waits in the job process's write queue.
    const k = runWatching(process.execPath, [bin, 'bench', '--eta=never', '--thread=0', '--output-format=json', ...job(dir, ['--runtime=12'])], 2);
    const kids = await k.seen;
    assert.equal(kids.length, 2);
    // Stopped once both run their I/O (the group's gate is the parent's to open).
    const base = kids.map((c) => ioCount(c.pid, 'syscr'));
    await until(() => kids.every((c, i) => ioCount(c.pid, 'syscr') - base[i] > 2000));
    process.kill(k.child.pid!, 'SIGSTOP');
    // Each job's worker thread ends (the thread count drops from its peak), or the process does.
    const peak = kids.map((c) => threadCount(c.pid));
    await until(() =>
      kids.every((c, i) => {
        const n = threadCount(c.pid);
        peak[i] = Math.max(peak[i], n);
        return n < peak[i];
      }),
    );
    return { k, kids };
  }

  it('kaio bench stopped (SIGSTOP, as Ctrl-Z stops it but not its job processes) until its jobs have ended: each job\'s outcome still reaches it', async function () {
    const { k } = await stoppedUntilJobsEnd();
    process.kill(k.child.pid!, 'SIGCONT');
    const r = await k.done;
    assert.equal(r.status, 0, r.stderr);
    const d = json<Doc>(r.stdout);
    assert.equal(d.jobs.length, 2);
    for (const j of d.jobs) {
      assert.equal(j.error, 0);
      assert.ok(j.read.total_ios > 0);
    }
  });

  it('kaio bench killed while stopped, its job processes\' last messages unread: they exit all the same', async function () {
    const { k, kids } = await stoppedUntilJobsEnd();
    k.child.kill('SIGKILL');
    await k.done;
    // Polled until gone, up to 20 s.
    const end = Date.now() + 20000;
    while (kids.some((c) => stat(c.pid)) && Date.now() < end) await new Promise((res) => setTimeout(res, 50));
    for (const c of kids) assert.equal(stat(c.pid), undefined, `job process ${c.pid} still running`);
  });

  it('a failure in the job process comes back as the job\'s error, as with threads (verify of data it did not write)', () => {
    const file = path.join(dir, 'v');
    fs.writeFileSync(file, Buffer.alloc(1 << 20, 7));
    for (const thread of ['0', '1']) {
      const r = kaio([`--thread=${thread}`, '--name=v', `--filename=${file}`, '--size=1m', '--rw=read', '--bs=4k', '--ioengine=psync', '--verify=crc32c', '--output-format=json']);
      const j = json<Doc>(r.stdout).jobs[0];
      assert.equal(j.error, 84, `thread=${thread}: error ${j.error}, ${r.stderr}`);
      assert.notEqual(r.status, 0);
    }
  });
});
