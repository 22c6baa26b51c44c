// fio's exec engine: no file and no I/O; runs a program for the job's
// runtime (arguments split at spaces, %r the runtime in seconds, %n the job
// name), its stdout and stderr in NAME.stdout and NAME.stderr unless
// std_redirect=0; at the end SIGTERM, and SIGKILL grace_time seconds later
// if it is still running. A program that cannot be started is the job's
// error (fio's child would fail silently).
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { Run } from '../job';
import { F_NOFILE, F_NOIO, F_SYNC, type IoEngine } from './engine';

/** How often the job looks at the clock while the program runs (fio's 50 ms think time). */
const POLL_MS = 50;

/** fio's argument expansion: %r the runtime in whole seconds, %n the job's name. */
export function expandArguments(text: string, runtime: number, name: string): string[] {
  const expanded = text.split('%r').join(String(Math.floor(runtime))).split('%n').join(name);
  return expanded.split(' ').filter((a) => a !== '');
}

export class ExecEngine implements IoEngine {
  readonly name = 'exec';
  readonly flags = F_SYNC | F_NOFILE | F_NOIO;
  run!: Run;
  child: ChildProcess | undefined;
  exited: Promise<void> = Promise.resolve();
  fds: number[] = [];

  async setup(run: Run): Promise<void> {
    this.run = run;
    const job = run.job;
    const args = expandArguments(job.arguments, job.runtime, job.name);
    let stdio: Array<'ignore' | 'inherit' | number> = ['ignore', 'inherit', 'inherit'];
    if (job.stdRedirect) {
      this.fds.push(fs.openSync(`${job.name}.stdout`, 'w', 0o644));
      this.fds.push(fs.openSync(`${job.name}.stderr`, 'w', 0o644));
      stdio = ['ignore', this.fds[0], this.fds[1]];
    }
    const child = spawn(job.program, args, { stdio });
    this.exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (e: NodeJS.ErrnoException) => {
        reject(Object.assign(new Error(`exec: cannot run ${job.program}: ${e.code ?? e.message}`), { code: e.code, errno: e.errno }));
      });
    });
    this.child = child;
  }

  /** One look at the clock: a wait of POLL_MS, cut at the runtime's end (Ctrl-C wakes it). */
  queue(): number {
    const run = this.run;
    const ms = Math.min(POLL_MS, run.deadline - performance.now());
    if (ms > 0) Atomics.wait(run.stopFlag, 0, 0, ms);
    return 0;
  }

  queueSync(): number {
    return 0;
  }
  commit(): void {}
  getevents(): void {}

  async cleanup(): Promise<void> {
    const child = this.child;
    try {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const grace = this.run.job.graceTime * 1000;
        let timer: NodeJS.Timeout | undefined;
        const late = await Promise.race([
          this.exited.then(() => false),
          new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), grace))),
        ]);
        clearTimeout(timer);
        if (late) {
          child.kill('SIGKILL');
          await this.exited;
        }
      }
    } finally {
      for (const fd of this.fds) fs.closeSync(fd);
      this.fds = [];
    }
  }

  fixedOps(): number {
    return 0;
  }
}
