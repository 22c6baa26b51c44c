// fio's file engines (its fileoperations engines): filecreate, filestat,
// filedelete, dircreate, dirstat, dirdelete. Their op is done when the job
// opens a file (fio's open_file): openat(O_CREAT), statx, unlinkat, mkdirat
// or unlinkat(AT_REMOVEDIR), through io_uring (or, with fileop_calls=sync,
// the system call on the job's thread, as fio). The op's time is the job's
// one latency sample for that file; the file's blocks are then counted as
// ops without any I/O (fio's FIO_FAKEIO | FIO_NOSTATS). Which file comes
// next is files.ts's FileChooser (file_service_type, openfiles).
import * as fs from 'node:fs';
import { dirname, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Ring } from '../../ring';
import { FileChooser, type PlannedFile } from '../files';
import type { Run } from '../job';
import { F_EVENTLOOP, F_ISSUES, F_NOFILE, F_NOSTATS, F_SYNC, Q_QUEUED, type EngineQueue, type IoEngine } from './engine';
import { errnoCode, errnoOf } from './util';

const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_REMOVEDIR = 0x200;
const STATX_BASIC_STATS = 0x7ff;
const STATX_ALL = 0xfff;

type Timed = { t0: number; t1: number; p: Promise<unknown> };

export class FileOpsEngine implements IoEngine {
  readonly flags: number;
  readonly sync: boolean;
  ring: Ring | undefined;
  run!: Run;
  q: EngineQueue | null = null;
  files: PlannedFile[] = [];
  fds = new Int32Array(0);
  chooser!: FileChooser;
  /** The direction the op's sample goes to: read when the job reads, else write (fio's stat_ddir). */
  dir = 0;
  /** The io_uring op started by the last open, until queue() hands its result on. */
  pending: Timed | undefined;
  pendingPath = '';
  readonly openFile = (i: number): boolean => (this.sync ? this.opSync(i) : this.opRing(i));
  readonly closeFile = (i: number): void => this.close(i);

  constructor(
    readonly name: string,
    calls: 'io_uring' | 'sync',
  ) {
    this.sync = calls === 'sync';
    this.flags = F_NOFILE | F_NOSTATS | (this.sync ? F_SYNC : F_ISSUES | F_EVENTLOOP);
  }

  async setup(run: Run, _fd: number, q: EngineQueue | null): Promise<void> {
    this.run = run;
    this.q = q;
    this.files = run.setup.files ?? [];
    this.fds = new Int32Array(this.files.length).fill(-1);
    const { job } = run;
    this.chooser = new FileChooser(
      this.files.map((f) => f.ioSize),
      job.fileService,
      job.openFiles || this.files.length,
      job.randseed + run.setup.jobnum,
      Math.min(...job.bs),
    );
    this.dir = run.dir0 === 1 ? 1 : 0;
    if (this.sync) return;
    this.ring = new Ring({ entries: 4 });
    // These ops run on io_uring's io-wq workers, which a ring starts on its first such op:
    // one untimed statx of the files' directory starts them before the clock does.
    const warm = this.ring.statx(dirname(resolve(this.files[0].path)), { mask: STATX_BASIC_STATS });
    this.ring.submitAndWait(1);
    await warm;
  }

  /** The op on file i through the ring, reaped at once on this thread. */
  opRing(i: number): boolean {
    const ring = this.ring!;
    const path = this.files[i].path;
    const job = this.run.job;
    const t0 = performance.now();
    let p: Promise<unknown>;
    switch (this.name) {
      case 'filecreate':
        p = ring.openat(path, fs.constants.O_CREAT | fs.constants.O_RDWR, 0o600).then((fd) => (this.fds[i] = fd));
        break;
      case 'dircreate':
        p = ring.mkdirat(path, 0o700);
        break;
      case 'filestat':
      case 'dirstat':
        p = ring.statx(path, { flags: job.statType === 'lstat' ? AT_SYMLINK_NOFOLLOW : 0, mask: job.statType === 'statx' ? STATX_ALL : STATX_BASIC_STATS });
        break;
      case 'filedelete':
        p = ring.unlinkat(path);
        break;
      default:
        p = ring.unlinkat(path, { flags: AT_REMOVEDIR });
    }
    ring.submitAndWait(1);
    this.pending = { t0, t1: performance.now(), p };
    this.pendingPath = path;
    return true;
  }

  /** The op on file i as a system call on this thread (fileop_calls=sync). */
  opSync(i: number): boolean {
    const path = this.files[i].path;
    const t0 = performance.now();
    try {
      switch (this.name) {
        case 'filecreate':
          this.fds[i] = fs.openSync(path, fs.constants.O_CREAT | fs.constants.O_RDWR, 0o600);
          break;
        case 'dircreate':
          fs.mkdirSync(path, 0o700);
          break;
        case 'filestat':
        case 'dirstat':
          if (this.run.job.statType === 'lstat') fs.lstatSync(path);
          else fs.statSync(path);
          break;
        case 'filedelete':
          fs.unlinkSync(path);
          break;
        default:
          fs.rmdirSync(path);
      }
    } catch (e) {
      this.opFailed(path, e);
      return false;
    }
    const t1 = performance.now();
    this.run.clatSample(this.dir, (t1 - t0) * 1e6, t1);
    return true;
  }

  opFailed(path: string, e: unknown): number {
    const errno = errnoOf(e);
    this.run.error ??= { errno, message: `${this.name} on ${path}: ${errnoCode(errno)}` };
    return -errno;
  }

  close(i: number): void {
    const fd = this.fds[i];
    this.fds[i] = -1;
    if (fd < 0) return;
    if (this.sync) {
      fs.closeSync(fd);
      return;
    }
    // An fd from io_uring's OPENAT goes back through the ring (untimed), done before the next op.
    this.ring!.closeFd(fd).catch(() => undefined);
    this.ring!.submitAndWait(1);
  }

  /** The next file (a new pass over the files when all are done: loops, time_based); -1 when the op failed. */
  pick(): number {
    let i = this.chooser.next(this.openFile);
    if (i < 0 && !this.run.error) {
      this.chooser.reset(this.closeFile);
      i = this.chooser.next(this.openFile);
    }
    return i;
  }

  queue(tag: number): number {
    const run = this.run;
    const len = run.slotLen[tag];
    const i = this.pick();
    if (this.sync) {
      if (i < 0) return -(run.error?.errno ?? 5);
      this.chooser.used(i, len, this.closeFile);
      return len;
    }
    const q = this.q!;
    const op = this.pending;
    this.pending = undefined;
    if (!op) {
      this.chooser.used(i, len, this.closeFile);
      q.posted(tag, len);
      return Q_QUEUED;
    }
    const path = this.pendingPath;
    op.p.then(
      () => {
        run.clatSample(this.dir, (op.t1 - op.t0) * 1e6, op.t1);
        this.chooser.used(i, len, this.closeFile);
        q.posted(tag, len);
      },
      (e: unknown) => q.posted(tag, this.opFailed(path, e)),
    );
    return Q_QUEUED;
  }

  queueSync(): number {
    return -22; // EINVAL: options.ts refuses fsync with these engines
  }

  commit(): void {}

  getevents(): Promise<void> | void {
    return this.q?.waitPosted();
  }

  async cleanup(): Promise<void> {
    this.run.tEnd ||= performance.now();
    for (let i = 0; i < this.fds.length; i++) this.close(i);
    await this.ring?.close();
  }

  fixedOps(): number {
    return 0;
  }
}
