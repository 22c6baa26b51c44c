// fio's psync (and sync, fs-sync): pread/pwrite through node:fs readSync /
// writeSync, one op at a time on the job's own thread (Node has no lseek, so
// sync is psync here). A trim is ioctl(BLKDISCARD) on a block device, as
// fio's do_io_u_trim; the async engines' trim jobs (rw=trim, randtrim) run
// here too, as fio's io_uring and libaio issue their trims synchronously.
import * as fs from 'node:fs';
import { binding } from '../../binding';
import type { Run } from '../job';
import { F_SYNC, type IoEngine } from './engine';
import { errnoOf } from './util';

export class PsyncEngine implements IoEngine {
  readonly flags = F_SYNC;
  run!: Run;
  fd = -1;

  constructor(
    readonly name: string,
    /** A queued engine's trim job (io_uring, libaio, pvsync2) run here. */
    readonly syncTrims = false,
  ) {}

  setup(run: Run, fd: number): void {
    this.run = run;
    this.fd = fd;
    if (this.syncTrims)
      run.notes.push(`ioengine=${run.job.ioengine}: each trim is ioctl(BLKDISCARD) on the job's thread, one at a time, as fio's engine issues trims synchronously`);
  }

  queue(tag: number): number {
    const run = this.run;
    const b = run.buf(tag);
    // Several files per job: the op's own (datafiles.ts).
    const fd = run.df === undefined ? this.fd : run.df.slotFd[tag];
    if (run.slotDir[tag] === 2) {
      const r = binding.blkDiscard(fd, run.slotOff[tag], run.slotLen[tag]);
      return r === 0 ? run.slotLen[tag] : r;
    }
    try {
      return run.slotDir[tag] === 1 ? fs.writeSync(fd, b, 0, b.length, run.slotOff[tag]) : fs.readSync(fd, b, 0, b.length, run.slotOff[tag]);
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
