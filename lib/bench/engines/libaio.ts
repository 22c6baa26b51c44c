// fio's libaio engine over kaio's native AIO context: queue() writes an
// iocb, commit() is one io_submit, completions come from the context's
// eventfd on Node's loop. Buffered AIO does the I/O inside io_submit, so
// there slat holds the I/O and clat the reap, as in fio.
import { binding, BackendCounter, BackendOp, CQE_INTS, type NativeAio } from '../../binding';
import type { Run } from '../job';
import { F_EVENTLOOP, Q_BUSY, Q_QUEUED, type EngineQueue, type IoEngine } from './engine';
import { errnoCode } from './util';
import { NativeLoop, nativeLoopFits } from './native-loop';

export class LibaioEngine implements IoEngine {
  readonly name = 'libaio';
  readonly flags = F_EVENTLOOP;
  run!: Run;
  q!: EngineQueue;
  fd = -1;
  native: NativeAio | undefined;
  out = new Int32Array(0);
  counters = new Float64Array(BackendCounter.Slots);
  seenSubmitted = 0;
  seenCalls = 0;
  onComplete: ((count: number) => void) | undefined;

  /** The native loop, for a job it does all of (native-loop.ts); else the context below. */
  loop: NativeLoop | undefined;

  setup(run: Run, fd: number, q: EngineQueue | null): void {
    this.run = run;
    this.q = q!;
    this.fd = fd;
    if (nativeLoopFits(run, fd)) {
      this.loop = new NativeLoop(run, fd, true);
      return;
    }
    const entries = Math.max(run.job.iodepth, 8);
    this.out = new Int32Array(entries * CQE_INTS);
    // The context holds its callback weakly while idle: the engine holds it.
    this.onComplete = (count: number): void => this.completed(count);
    this.native = new binding.Aio({ entries, userRing: true }, this.onComplete, this.out, this.counters);
  }

  /** Ops the context handed to the kernel since last looked (io_submit may run again while it reaps). */
  took(): void {
    const c = this.counters;
    const n = c[BackendCounter.Submitted] - this.seenSubmitted;
    if (n === 0) return;
    const calls = c[BackendCounter.SubmitCalls] - this.seenCalls;
    this.seenSubmitted += n;
    this.seenCalls += calls;
    this.q.accepted(n, calls);
  }

  completed(count: number): void {
    this.took();
    const out = this.out;
    for (let i = 0, base = 0; i < count; i++, base += CQE_INTS) this.q.posted(out[base], out[base + 2]);
  }

  queue(tag: number): number {
    const run = this.run;
    const op = run.slotDir[tag] === 1 ? BackendOp.Write : BackendOp.Read;
    // Several files per job: the op's own fd (datafiles.ts).
    const fd = run.df === undefined ? this.fd : run.df.slotFd[tag];
    // cmdprio: the op's ioprio in aio_reqprio (IOCB_FLAG_IOPRIO); without it, the call is as before.
    if (run.prioPick !== undefined) return this.native!.prep(op, fd, run.buf(tag), run.slotOff[tag], 0, tag, run.slotLen[tag], run.slotPrio[tag]) !== 0 ? Q_QUEUED : Q_BUSY;
    return this.native!.prep(op, fd, run.buf(tag), run.slotOff[tag], 0, tag, run.slotLen[tag]) !== 0 ? Q_QUEUED : Q_BUSY;
  }

  queueSync(tag: number, datasync: boolean): number {
    return this.native!.prep(datasync ? BackendOp.Fdatasync : BackendOp.Fsync, this.fd, undefined, 0, 0, tag, 0) !== 0 ? Q_QUEUED : Q_BUSY;
  }

  /** One io_submit for the queued iocbs (more only when the kernel takes part of them). */
  commit(): void {
    const r = this.native!.submit();
    this.took();
    if (r > 0) this.completed(r);
    // EAGAIN here: nothing in the kernel could make room, no completion will come.
    else if (r < 0) throw Object.assign(new Error(`io_submit: ${errnoCode(-r)}`), { errno: -r });
  }

  getevents(): Promise<void> {
    return this.q.waitPosted();
  }

  ownLoop(): boolean {
    if (this.loop === undefined) return false;
    this.loop.loop();
    return true;
  }

  cleanup(): void {
    this.loop?.close();
    this.native?.close();
    this.native = undefined;
  }

  fixedOps(): number {
    return 0;
  }
}
