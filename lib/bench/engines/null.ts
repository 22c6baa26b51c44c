// fio's null engine: every op completes at once and whole, with no system call and no file.
import type { Run } from '../job';
import { F_FAKEIO, F_NOFILE, F_SYNC, type IoEngine } from './engine';

export class NullEngine implements IoEngine {
  readonly name = 'null';
  readonly flags = F_SYNC | F_NOFILE | F_FAKEIO;
  slotLen: Uint32Array = new Uint32Array(0);

  setup(run: Run): void {
    this.slotLen = run.slotLen;
  }

  queue(tag: number): number {
    return this.slotLen[tag];
  }

  queueSync(): number {
    return 0;
  }

  commit(): void {}
  getevents(): void {}
  cleanup(): void {}
  fixedOps(): number {
    return 0;
  }
}
