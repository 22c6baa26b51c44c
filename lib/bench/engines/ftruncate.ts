// fio's ftruncate engine: each write truncates the file to the op's offset
// (fio's FIO_FAKEIO: the block counts as written); reads and trims fail with
// EINVAL, as in fio (options.ts refuses them before the run). Synchronous
// as fio's engine: ftruncate(2) from node:fs on the job's thread, the rest
// (setup, fsync, no queue) psync's.
import * as fs from 'node:fs';
import { PsyncEngine } from './psync';
import { errnoOf } from './util';

const EINVAL = 22;

export class FtruncateEngine extends PsyncEngine {
  constructor() {
    super('ftruncate');
  }

  override queue(tag: number): number {
    const run = this.run;
    if (run.slotDir[tag] !== 1) return -EINVAL;
    try {
      fs.ftruncateSync(this.fd, run.slotOff[tag]);
      return run.slotLen[tag];
    } catch (e) {
      return -errnoOf(e);
    }
  }
}
