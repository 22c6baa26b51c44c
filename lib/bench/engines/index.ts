// The engines by ioengine= name (fio's load_ioengine): one class per engine.
import type { BenchJob } from '../options';
import type { IoEngine } from './engine';
import { FallocEngine } from './falloc';
import { FileOpsEngine } from './fileops';
import { FsEngine } from './fs';
import { FtruncateEngine } from './ftruncate';
import { IoUringEngine, IoUringPromiseEngine } from './io_uring';
import { LibaioEngine } from './libaio';
import { NullEngine } from './null';
import { PsyncEngine } from './psync';
import { Pvsync2Engine } from './pvsync2';

/** The engine for `job`; `openFlags` are the flags the job's file is opened with (for engines that open their own). */
export function createEngine(job: BenchJob, openFlags: number): IoEngine {
  switch (job.ioengine) {
    case 'io_uring':
      return job.api === 'batch' ? new IoUringEngine() : new IoUringPromiseEngine();
    case 'libaio':
      return new LibaioEngine();
    case 'psync':
    case 'sync':
    case 'fs-sync':
      return new PsyncEngine(job.ioengine);
    case 'pvsync2':
      return new Pvsync2Engine();
    case 'fs':
      return new FsEngine(openFlags);
    case 'null':
      return new NullEngine();
    case 'falloc':
      return new FallocEngine();
    case 'ftruncate':
      return new FtruncateEngine();
    case 'filecreate':
    case 'filestat':
    case 'filedelete':
    case 'dircreate':
    case 'dirstat':
    case 'dirdelete':
      return new FileOpsEngine(job.ioengine, job.fileOpCalls);
  }
}
