// node:fs promises (FileHandle.read/write), the in-Node baseline; O_DIRECT
// really set with direct=1 (the handle is opened with the job's flags).
import * as fs from 'node:fs';
import type { Run } from '../job';
import { F_EVENTLOOP, F_ISSUES, Q_QUEUED, type EngineQueue, type IoEngine } from './engine';
import { slotCallbacks } from './io_uring';

export class FsEngine implements IoEngine {
  readonly name = 'fs';
  readonly flags = F_ISSUES | F_EVENTLOOP;
  run!: Run;
  q!: EngineQueue;
  fh: fs.promises.FileHandle | undefined;
  readDone: Array<(v: { bytesRead: number }) => void> = [];
  writeDone: Array<(v: { bytesWritten: number }) => void> = [];
  fail: Array<(e: unknown) => void> = [];

  constructor(readonly openFlags: number) {}

  async setup(run: Run, _fd: number, q: EngineQueue | null): Promise<void> {
    this.run = run;
    this.q = q!;
    const r = slotCallbacks<{ bytesRead: number }>(run.depthMax, () => this.q, (v) => v.bytesRead);
    const w = slotCallbacks<{ bytesWritten: number }>(run.depthMax, () => this.q, (v) => v.bytesWritten);
    this.readDone = r.ok;
    this.writeDone = w.ok;
    this.fail = r.fail;
    this.fh = await fs.promises.open(run.filename, this.openFlags);
  }

  queue(tag: number): number {
    const run = this.run;
    const b = run.buf(tag);
    const fh = this.fh!;
    if (run.slotDir[tag] === 1) fh.write(b, 0, b.length, run.slotOff[tag]).then(this.writeDone[tag], this.fail[tag]);
    else fh.read(b, 0, b.length, run.slotOff[tag]).then(this.readDone[tag], this.fail[tag]);
    return Q_QUEUED;
  }

  queueSync(tag: number, datasync: boolean): number {
    const fh = this.fh!;
    (datasync ? fh.datasync() : fh.sync()).then(() => this.q.posted(tag, 0), this.fail[tag]);
    return Q_QUEUED;
  }

  commit(): void {}

  getevents(): Promise<void> {
    return this.q.waitPosted();
  }

  async cleanup(): Promise<void> {
    await this.fh?.close();
  }

  fixedOps(): number {
    return 0;
  }
}
