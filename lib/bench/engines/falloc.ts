// fio's falloc engine: each op a fallocate(2) of its range, through io_uring's
// FALLOCATE: a read is FALLOC_FL_KEEP_SIZE, a write mode 0 (the size may grow),
// a trim FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE. fio's engine is
// synchronous: here each op is staged and reaped on the job's thread at once
// (submitAndWait), so its time is the op's own; the result reaches the loop
// through the op's promise.
import { performance } from 'node:perf_hooks';
import { Ring } from '../../ring';
import type { Run } from '../job';
import { F_EVENTLOOP, F_ISSUES, Q_QUEUED, type EngineQueue, type IoEngine } from './engine';
import { errnoOf } from './util';

const FALLOC_FL_KEEP_SIZE = 0x01;
const FALLOC_FL_PUNCH_HOLE = 0x02;
/** fallocate(2) mode per direction (read, write, trim), as fio's engine. */
const MODE = [FALLOC_FL_KEEP_SIZE, 0, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE];

export class FallocEngine implements IoEngine {
  readonly name = 'falloc';
  readonly flags = F_ISSUES | F_EVENTLOOP;
  ring: Ring | undefined;
  run!: Run;
  q!: EngineQueue;
  fd = -1;

  setup(run: Run, fd: number, q: EngineQueue | null): void {
    this.run = run;
    this.q = q!;
    this.fd = fd;
    this.ring = new Ring({ entries: 2 });
  }

  queue(tag: number): number {
    const run = this.run;
    const ring = this.ring!;
    const len = run.slotLen[tag];
    const q = this.q;
    const p = ring.fallocate(this.fd, run.slotOff[tag], len, { mode: MODE[run.slotDir[tag]] });
    ring.submitAndWait(1);
    p.then(
      () => q.posted(tag, len),
      (e: unknown) => q.posted(tag, -errnoOf(e)),
    );
    return Q_QUEUED;
  }

  queueSync(tag: number, datasync: boolean): number {
    const q = this.q;
    const p = this.ring!.fsync(this.fd, { datasync });
    this.ring!.submitAndWait(1);
    p.then(
      () => q.posted(tag, 0),
      (e: unknown) => q.posted(tag, -errnoOf(e)),
    );
    return Q_QUEUED;
  }

  commit(): void {}

  getevents(): Promise<void> {
    return this.q.waitPosted();
  }

  async cleanup(): Promise<void> {
    // The clock stops before the ring's close, which may take milliseconds.
    this.run.tEnd ||= performance.now();
    await this.ring?.close();
  }

  fixedOps(): number {
    return 0;
  }
}
