// fio's engines whose op is not a read or a write of data:
//  - falloc: each op a fallocate(2) (read: FALLOC_FL_KEEP_SIZE, write: mode 0,
//    trim: FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE), as IORING_OP_FALLOCATE;
//  - ftruncate: each write an ftruncate(2) of the file to the op's offset
//    (kaio's Ring has no IORING_OP_FTRUNCATE: the system call, on this thread);
//  - filecreate, filestat, filedelete, dircreate, dirstat, dirdelete: the op is
//    done when a file is opened (fio's open_file), through io_uring's OPENAT,
//    STATX, UNLINKAT and MKDIRAT; the job's blocks in the file are then counted
//    without any I/O (fio's FIO_FAKEIO), and only the open's time is a sample.
// Each is synchronous as fio's are: one op at a time, its time the op's own
// (the io_uring ones from staging the op to its completion, reaped with
// submitAndWait on this thread, not through Node's event loop).
import * as fs from 'node:fs';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Ring } from '../ring';
import { FileChooser, type PlannedFile } from './files';
import type { Run } from './job';

const FALLOC_FL_KEEP_SIZE = 0x01;
const FALLOC_FL_PUNCH_HOLE = 0x02;
const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_REMOVEDIR = 0x200;
const STATX_BASIC_STATS = 0x7ff;
const STATX_ALL = 0xfff;

/** fallocate(2) mode per direction, as fio's falloc engine. */
const FALLOC_MODE = [FALLOC_FL_KEEP_SIZE, 0, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE];

/** Runs a ring op to its completion on this thread; the promise carries its result or error. */
async function onRing<T>(ring: Ring, start: () => Promise<T>): Promise<{ t0: number; t1: number; value?: T; error?: NodeJS.ErrnoException }> {
  const t0 = performance.now();
  const p = start();
  ring.submitAndWait(1);
  const t1 = performance.now();
  try {
    return { t0, t1, value: await p };
  } catch (e) {
    return { t0, t1, error: e as NodeJS.ErrnoException };
  }
}

function errnoOf(e: NodeJS.ErrnoException): number {
  return typeof e.errno === 'number' ? Math.abs(e.errno) : 5;
}

/** fio's falloc and ftruncate engines on the job's file (fd). */
export async function runFallocTruncate(run: Run, fd: number): Promise<void> {
  const falloc = run.job.ioengine === 'falloc';
  const ring = falloc ? new Ring({ entries: 2 }) : undefined;
  try {
    run.begin();
    for (;;) {
      const now = performance.now();
      run.poll(now);
      if (!run.next(0, now)) break;
      const dir = run.slotDir[0];
      const off = run.slotOff[0];
      const len = run.slotLen[0];
      if (ring) {
        const r = await onRing(ring, () => ring.fallocate(fd, off, len, { mode: FALLOC_MODE[dir] }));
        if (run.timed) run.tPrep[0] = run.tSub[0] = r.t0;
        if (r.error) {
          run.done(0, -errnoOf(r.error), r.t1);
          break;
        }
        run.done(0, len, r.t1);
        continue;
      }
      // ftruncate: a write sets the file's size to its offset; the block counts as written (fio's FIO_FAKEIO).
      const t0 = performance.now();
      if (run.timed) run.tPrep[0] = run.tSub[0] = t0;
      let res = len;
      if (dir !== 1) res = -22; // EINVAL, as fio's engine answers a read or a trim
      else {
        try {
          fs.ftruncateSync(fd, off);
        } catch (e) {
          res = -errnoOf(e as NodeJS.ErrnoException);
        }
      }
      run.done(0, res, performance.now());
      if (res < 0) break;
    }
    run.tEnd = performance.now();
  } finally {
    await ring?.close();
  }
}

/**
 * fio's fileoperations engines over the job's file set: each file chosen
 * (file_service_type, openfiles) is opened by the engine's op, timed; then
 * its blocks are counted, one op each, until its bytes are done.
 */
export async function runFileOps(run: Run, files: PlannedFile[]): Promise<void> {
  const { job } = run;
  const engine = job.ioengine;
  const ring = new Ring({ entries: 2 });
  const fds = new Int32Array(files.length).fill(-1);
  const minOp = Math.min(...job.bs);
  const chooser = new FileChooser(
    files.map((f) => f.ioSize),
    job.fileService,
    job.openFiles || files.length,
    job.randseed + run.setup.jobnum,
    minOp,
  );
  const dir = run.dir0 === 2 ? 0 : run.dir0;
  let opError: NodeJS.ErrnoException | undefined;
  let opPath = '';
  let pending: Promise<void> = Promise.resolve();
  // The engine's op for file i (fio's open_file of the engine): false when it failed.
  const open = (i: number): boolean => {
    if (job.fileOpCalls === 'sync') return openSync(i);
    // The ring op is awaited below (between ops), its time taken around submitAndWait.
    pending = (async () => {
      const path = files[i].path;
      let r: { t0: number; t1: number; value?: unknown; error?: NodeJS.ErrnoException };
      switch (engine) {
        case 'filecreate':
          r = await onRing(ring, () => ring.openat(path, fs.constants.O_CREAT | fs.constants.O_RDWR, 0o600));
          if (!r.error) fds[i] = r.value as number;
          break;
        case 'dircreate':
          r = await onRing(ring, () => ring.mkdirat(path, 0o700));
          break;
        case 'filestat':
        case 'dirstat': {
          const flags = job.statType === 'lstat' ? AT_SYMLINK_NOFOLLOW : 0;
          const mask = job.statType === 'statx' ? STATX_ALL : STATX_BASIC_STATS;
          r = await onRing(ring, () => ring.statx(path, { flags, mask }));
          break;
        }
        case 'filedelete':
          r = await onRing(ring, () => ring.unlinkat(path));
          break;
        default:
          r = await onRing(ring, () => ring.unlinkat(path, { flags: AT_REMOVEDIR }));
      }
      if (r.error) {
        opError = r.error;
        opPath = path;
        return;
      }
      run.clatSample(dir, (r.t1 - r.t0) * 1e6, r.t1);
    })();
    return true;
  };
  // fileop_calls=sync: the system call on this thread, timed around it, as fio's engines do.
  const openSync = (i: number): boolean => {
    const path = files[i].path;
    const t0 = performance.now();
    try {
      switch (engine) {
        case 'filecreate':
          fds[i] = fs.openSync(path, fs.constants.O_CREAT | fs.constants.O_RDWR, 0o600);
          break;
        case 'dircreate':
          fs.mkdirSync(path, 0o700);
          break;
        case 'filestat':
        case 'dirstat':
          if (job.statType === 'lstat') fs.lstatSync(path);
          else fs.statSync(path);
          break;
        case 'filedelete':
          fs.unlinkSync(path);
          break;
        default:
          fs.rmdirSync(path);
      }
    } catch (e) {
      opError = e as NodeJS.ErrnoException;
      opPath = path;
      return false;
    }
    const t1 = performance.now();
    run.clatSample(dir, (t1 - t0) * 1e6, t1);
    return true;
  };
  // filecreate's fds came from io_uring's OPENAT: closed through the ring too (untimed), after the op that finished the file.
  const toClose: number[] = [];
  const close = (i: number): void => {
    if (fds[i] >= 0) {
      if (job.fileOpCalls === 'sync') fs.closeSync(fds[i]);
      else toClose.push(fds[i]);
    }
    fds[i] = -1;
  };
  const closeNow = async (): Promise<void> => {
    while (toClose.length) {
      const r = await onRing(ring, () => ring.closeFd(toClose.pop()!));
      if (r.error && !opError) {
        opError = r.error;
        opPath = 'close';
      }
    }
  };
  try {
    // Each of these ops runs on io_uring's io-wq workers, which a ring starts on its first such op:
    // one untimed statx of the files' directory starts them before the clock does (fio's setup).
    if (job.fileOpCalls === 'io_uring') await onRing(ring, () => ring.statx(dirname(resolve(files[0].path)), { mask: STATX_BASIC_STATS }));
    run.begin();
    for (;;) {
      const now = performance.now();
      run.poll(now);
      if (!run.more(now)) break;
      let i = chooser.next(open);
      await pending;
      if (opError) break;
      if (i < 0) {
        // Every file done: the next loop (time_based or loops) opens them again.
        chooser.reset(close);
        await closeNow();
        i = chooser.next(open);
        await pending;
        if (opError || i < 0) break;
      }
      if (!run.next(0, performance.now())) break;
      const len = run.slotLen[0];
      run.counted(0, performance.now());
      chooser.used(i, len, close);
      if (toClose.length) await closeNow();
    }
    run.tEnd = performance.now();
    if (opError) {
      const e = opError;
      run.error = { errno: errnoOf(e), message: `${engine} on ${opPath}: ${e.code ?? e.message}` };
    }
  } finally {
    for (let i = 0; i < fds.length; i++) close(i);
    await closeNow();
    await ring.close();
  }
}
