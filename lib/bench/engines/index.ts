// The engines by ioengine= name (fio's load_ioengine): one class per engine.
import type { BenchJob } from '../options';
import type { IoEngine } from './engine';
import { CpuioEngine } from './cpuio';
import { ExecEngine } from './exec';
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
  // A trim job on the queued engines: fio's io_uring, libaio and pvsync2 trim synchronously
  // (BLKDISCARD in their queue step, FIO_ASYNCIO_SYNC_TRIM); kaio bench does the same ops through psync's loop.
  if ((job.rw === 'trim' || job.rw === 'randtrim') && (job.ioengine === 'io_uring' || job.ioengine === 'libaio' || job.ioengine === 'pvsync2'))
    return new PsyncEngine(job.ioengine, true);
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
    case 'cpuio':
      return new CpuioEngine();
    case 'exec':
      return new ExecEngine();
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
