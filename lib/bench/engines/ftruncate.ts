// fio's ftruncate engine: each write truncates the file to the op's offset
// (fio's FIO_FAKEIO: the block counts as written); reads and trims fail with
// EINVAL, as in fio (options.ts refuses them before the run). ftruncate(2)
// from node:fs on the job's thread: kaio's Ring has no IORING_OP_FTRUNCATE.
import * as fs from 'node:fs';
import type { Run } from '../job';
import { F_SYNC, type IoEngine } from './engine';
import { errnoOf } from './util';

const EINVAL = 22;

export class FtruncateEngine implements IoEngine {
  readonly name = 'ftruncate';
  readonly flags = F_SYNC;
  run!: Run;
  fd = -1;

  setup(run: Run, fd: number): void {
    this.run = run;
    this.fd = fd;
  }

  queue(tag: number): number {
    const run = this.run;
    if (run.slotDir[tag] !== 1) return -EINVAL;
    try {
      fs.ftruncateSync(this.fd, run.slotOff[tag]);
      return run.slotLen[tag];
    } catch (e) {
      return -errnoOf(e);
    }
  }

  queueSync(_tag: number, datasync: boolean): number {
    try {
      if (datasync) fs.fdatasyncSync(this.fd);
      else fs.fsyncSync(this.fd);
      return 0;
    } catch (e) {
      return -errnoOf(e);
    }
  }

  commit(): void {}
  getevents(): void {}
  cleanup(): void {}
  fixedOps(): number {
    return 0;
  }
}
