// Several files per job for the data engines (io_uring, libaio, psync,
// sync, fs-sync, pvsync2), as fio's get_next_file and per-file offsets do:
// files.ts's FileChooser picks each op's file (file_service_type,
// openfiles); each file keeps its own region, sequential position and
// random map, which the job's offset logic (job.ts Run.next) uses while
// that file is the current one. A file is opened when first chosen, with
// the job's open flags, and closed when its bytes for the loop are done,
// but only once no op on it is still in flight (an fd number is not reused
// under an op the kernel or a pool thread has yet to start).
import * as fs from 'node:fs';
import { FILE_BUSY, FileChooser, type FileService, type PlannedFile } from './files';
export { MULTI_FILE_ENGINES } from './files';
import { UniformPicker, SkewedPicker, type BlockPicker, type Rand } from './random';
import type { Distribution } from './options';
import { FullCyclePicker } from './lfsr';
import { errnoCode } from './engines/util';

/** What of the job's offset state is per file (the fields Run.next reads and moves). */
export interface FileCursor {
  start: number;
  end: number;
  blocks: number;
  picker: BlockPicker | undefined;
  cursor: number;
  seqLeft: number;
  lastOff: number;
  lastLen: number;
}

export interface DataFilesInput {
  files: PlannedFile[];
  service: FileService;
  /** 0: all open at once. */
  openFiles: number;
  seed: number;
  /** The job's open(2) flags. */
  flags: number;
  /** The offset unit (Run.unit) and the smallest op. */
  unit: number;
  minOp: number;
  /** Random offsets: each file gets its own picker over its blocks. */
  random: { rand: Rand; lfsr: boolean; distribution: Distribution; randommap: boolean; seed: number } | undefined;
  /** Slots (ops in flight at most, + 1). */
  slots: number;
}

export class DataFiles {
  readonly files: PlannedFile[];
  readonly fds: Int32Array;
  /** Ops in flight per file. */
  readonly inflight: Int32Array;
  /** The file was done while ops were in flight on it: closed when the last one completes. */
  readonly closing: Uint8Array;
  readonly chooser: FileChooser;
  readonly cursors: FileCursor[];
  /** Per slot: the file of the op in it, and its fd. */
  readonly slotFile: Int32Array;
  readonly slotFd: Int32Array;
  /** The file whose cursor Run holds now (-1: none yet). */
  cur = -1;
  readonly flags: number;
  /** Why an open failed (the job's error). */
  openError: { message: string; errno: number } | undefined;
  readonly openFile = (i: number): boolean => this.#open(i);
  readonly closeFile = (i: number): boolean => this.#close(i);

  constructor(p: DataFilesInput) {
    this.files = p.files;
    const n = p.files.length;
    this.flags = p.flags;
    this.fds = new Int32Array(n).fill(-1);
    this.inflight = new Int32Array(n);
    this.closing = new Uint8Array(n);
    this.slotFile = new Int32Array(p.slots).fill(-1);
    this.slotFd = new Int32Array(p.slots).fill(-1);
    this.chooser = new FileChooser(
      p.files.map((f) => f.ioSize),
      p.service,
      p.openFiles || n,
      p.seed,
      p.minOp,
    );
    this.cursors = p.files.map((f, i): FileCursor => {
      const blocks = Math.floor(f.ioSize / p.unit);
      let picker: BlockPicker | undefined;
      const r = p.random;
      if (r && blocks > 0) {
        if (r.lfsr && r.distribution.kind === 'random') picker = new FullCyclePicker(blocks, r.seed + i * 0x9e37);
        else picker = r.distribution.kind === 'random' ? new UniformPicker(blocks, r.rand, r.randommap) : new SkewedPicker(blocks, r.rand, r.distribution);
      }
      return { start: f.offset, end: f.offset + f.ioSize, blocks, picker, cursor: f.offset, seqLeft: 0, lastOff: 0, lastLen: 0 };
    });
  }

  #open(i: number): boolean {
    if (this.fds[i] >= 0) {
      // Chosen again before its last op completed: the pending close is off.
      this.closing[i] = 0;
      return true;
    }
    try {
      this.fds[i] = fs.openSync(this.files[i].path, this.flags, 0o644);
      return true;
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      const errno = typeof err.errno === 'number' ? Math.abs(err.errno) : 5;
      this.openError ??= { errno, message: `open ${this.files[i].path}: ${err.code ?? errnoCode(errno)}` };
      return false;
    }
  }

  /** Closes file i, or, with ops in flight on it, marks it to close after the last (false). */
  #close(i: number): boolean {
    if (this.fds[i] < 0) return true;
    if (this.inflight[i] > 0) {
      this.closing[i] = 1;
      return false;
    }
    fs.closeSync(this.fds[i]);
    this.fds[i] = -1;
    if (this.closing[i]) {
      this.closing[i] = 0;
      this.chooser.closed(i);
    }
    return true;
  }

  /**
   * The file for the next op (a new pass over the files when every one is
   * done: loops, time_based; the files' positions start over then); -1
   * when an open failed; FILE_BUSY when the file chosen cannot be opened
   * before a file still closing is closed and ops are in flight (`inFlight`):
   * the job reaps and asks again, as fio does on EBUSY (the choice has
   * moved on meanwhile, as fio's). With nothing in flight it asks again now.
   */
  choose(inFlight: number): number {
    let i = this.chooser.next(this.openFile, true);
    for (let tries = this.files.length; i === FILE_BUSY && tries > 0; tries--) {
      if (inFlight > 0) return FILE_BUSY;
      i = this.chooser.next(this.openFile, true);
    }
    if (i === FILE_BUSY) i = this.chooser.next(this.openFile);
    if (i < 0 && this.openError === undefined) {
      this.chooser.reset(this.closeFile);
      for (const c of this.cursors) {
        c.cursor = c.start;
        c.seqLeft = 0;
      }
      // The job's copy of the current file's position is stale now: the next op loads its file afresh.
      this.cur = -1;
      i = this.chooser.next(this.openFile);
    }
    return i;
  }

  /** Op in `tag` goes to file i: its fd, one more op in flight there. */
  assign(tag: number, i: number): void {
    this.slotFile[tag] = i;
    this.slotFd[tag] = this.fds[i];
    this.inflight[i]++;
  }

  /** `bytes` of file i were issued (the chooser's count; a done file is closed once idle). */
  used(i: number, bytes: number): void {
    this.chooser.used(i, bytes, this.closeFile);
  }

  /** The op in `tag` completed. */
  done(tag: number): void {
    const i = this.slotFile[tag];
    if (i < 0) return;
    this.slotFile[tag] = -1;
    if (--this.inflight[i] === 0 && this.closing[i]) this.#close(i);
  }

  pathOf(tag: number): string {
    const i = this.slotFile[tag];
    return i >= 0 ? this.files[i].path : this.files[0].path;
  }

  /** end_fsync: every file of the set, opened for it if need be (fio syncs each file at the end). */
  fsyncAll(): void {
    for (let i = 0; i < this.files.length; i++) {
      const open = this.fds[i] >= 0;
      const fd = open ? this.fds[i] : fs.openSync(this.files[i].path, this.flags & ~fs.constants.O_DIRECT);
      try {
        fs.fsyncSync(fd);
      } finally {
        if (!open) fs.closeSync(fd);
      }
    }
  }

  closeAll(): void {
    for (let i = 0; i < this.fds.length; i++) {
      if (this.fds[i] >= 0) fs.closeSync(this.fds[i]);
      this.fds[i] = -1;
    }
  }
}
