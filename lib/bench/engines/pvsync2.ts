// fio's pvsync2 in kaio's terms: preadv2/pwritev2 (RWF_HIPRI with hipri)
// through kaio's thread-pool context, iodepth ops in flight.
import { ThreadpoolContext } from '../../threadpool';
import type { Run } from '../job';
import { F_EVENTLOOP, F_ISSUES, Q_QUEUED, type EngineQueue, type IoEngine } from './engine';
import { slotCallbacks } from './io_uring';

export class Pvsync2Engine implements IoEngine {
  readonly name = 'pvsync2';
  readonly flags = F_ISSUES | F_EVENTLOOP;
  run!: Run;
  q!: EngineQueue;
  fd = -1;
  ctx: ThreadpoolContext | undefined;
  opts: { flags: number } | undefined;
  ok: Array<(v: number) => void> = [];
  fail: Array<(e: unknown) => void> = [];

  setup(run: Run, fd: number, q: EngineQueue | null): void {
    this.run = run;
    this.q = q!;
    this.fd = fd;
    this.opts = run.job.hipri ? { flags: 1 /* RWF_HIPRI */ } : undefined;
    const cbs = slotCallbacks<number>(run.depthMax, () => this.q, (v) => v);
    this.ok = cbs.ok;
    this.fail = cbs.fail;
    this.ctx = new ThreadpoolContext({ entries: run.job.iodepth });
  }

  queue(tag: number): number {
    const run = this.run;
    const ctx = this.ctx!;
    // Several files per job: the op's own fd (datafiles.ts).
    const fd = run.df === undefined ? this.fd : run.df.slotFd[tag];
    const p = run.slotDir[tag] === 1 ? ctx.write(fd, run.buf(tag), run.slotOff[tag], this.opts) : ctx.read(fd, run.buf(tag), run.slotOff[tag], this.opts);
    p.then(this.ok[tag], this.fail[tag]);
    return Q_QUEUED;
  }

  queueSync(tag: number, datasync: boolean): number {
    this.ctx!.fsync(this.fd, { datasync }).then(() => this.ok[tag](0), this.fail[tag]);
    return Q_QUEUED;
  }

  commit(): void {}

  getevents(): Promise<void> {
    return this.q.waitPosted();
  }

  async cleanup(): Promise<void> {
    await this.ctx?.close();
  }

  fixedOps(): number {
    return 0;
  }
}
