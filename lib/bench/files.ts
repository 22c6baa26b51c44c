// fio's file sets for `kaio bench`: how many files a job has (nrfiles), what
// they are called (jobname.jobnum.filenum, or filename_format), how big each
// is (filesize, or size split across them), how they are laid out
// (fallocate, create_on_open), and which file each op goes to
// (file_service_type, openfiles), with fio's semantics (filesetup.c
// setup_files, io_u.c get_next_file).
import * as fs from 'node:fs';
import { dirname, join } from 'node:path';
import { invalidArgValue } from '../errors';
import type { Distribution } from './options';
import { Rand, SkewedPicker } from './random';
import { BenchError } from './target';

export type FallocateMode = 'none' | 'native' | 'posix' | 'keep' | 'truncate';

export interface FileService {
  /** roundrobin: the next file each time; sequential: a file to its end, then the next; the others draw a file. */
  kind: 'roundrobin' | 'sequential' | 'random' | 'zipf' | 'pareto' | 'normal';
  /** roundrobin/sequential/random: ops to a file before the next choice (fio's :N). */
  nr: number;
  /** zipf θ, pareto h, normal σ (percent). */
  param: number;
}

/** Engines whose op is on the file itself (fio's fileoperations engines): one op per file open, no data. */
export const FILE_OP_ENGINES = ['filecreate', 'filestat', 'filedelete', 'dircreate', 'dirstat', 'dirdelete'] as const;
export type FileOpEngine = (typeof FILE_OP_ENGINES)[number];

export const isFileOpEngine = (e: string): e is FileOpEngine => (FILE_OP_ENGINES as readonly string[]).includes(e);

/** fio's FIO_DISKLESSIO among them: nothing is laid out; each file counts the smallest block size as its size. */
export const layoutFree = (e: string): boolean => e === 'filecreate' || e === 'dircreate' || e === 'dirstat' || e === 'dirdelete';

const bad = (name: string, why: string): Error => invalidArgValue(name, why);

/** Engines whose trims are ioctl(BLKDISCARD) on a block device, as fio's (trimwrite: the synchronous ones only). */
export const BLKDISCARD_ENGINES: readonly string[] = ['io_uring', 'libaio', 'psync', 'sync', 'fs-sync', 'pvsync2'];
export const BLKDISCARD_SYNC_ENGINES: readonly string[] = ['psync', 'sync', 'fs-sync'];

/** The data engines that take several files per job (datafiles.ts). */
export const MULTI_FILE_ENGINES: readonly string[] = ['io_uring', 'libaio', 'psync', 'sync', 'fs-sync', 'pvsync2'];

/** fio's file_service_type: random|roundrobin|sequential[:N], zipf[:θ], pareto[:h], normal|gauss[:σ]. */
export function parseFileService(text: string, n: string): FileService {
  const colon = text.indexOf(':');
  const kind = (colon < 0 ? text : text.slice(0, colon)).trim();
  const post = colon < 0 ? undefined : text.slice(colon + 1).trim();
  const num = post === undefined ? NaN : /^\d+(\.\d+)?$/.test(post) ? Number(post) : -1;
  switch (kind) {
    case 'random':
    case 'roundrobin':
    case 'sequential': {
      if (post !== undefined && !(Number.isInteger(num) && num >= 1)) throw bad(n, `${kind}:N needs N, a whole number of ops of at least 1 (got ${text})`);
      return { kind, nr: post === undefined ? 1 : num, param: 0 };
    }
    case 'zipf': {
      // fio's default θ is 1.1; θ = 1 is refused as fio refuses it.
      const theta = post === undefined ? 1.1 : num;
      if (!(theta > 0) || theta === 1) throw bad(n, `zipf:θ needs θ > 0 and θ != 1 (got ${text})`);
      return { kind, nr: 1, param: theta };
    }
    case 'pareto': {
      const h = post === undefined ? 0.2 : num;
      if (!(h > 0 && h < 1)) throw bad(n, `pareto:h needs 0 < h < 1 (got ${text})`);
      return { kind, nr: 1, param: h };
    }
    case 'normal':
    case 'gauss': {
      // fio's default deviation is 0 (all on the middle file); kaio's normal picker needs σ > 0, so 0 is the smallest σ it draws.
      const sigma = post === undefined ? 0 : num;
      if (!(sigma >= 0 && sigma <= 100)) throw bad(n, `${kind}:σ needs 0 <= σ <= 100 (percent of the files) (got ${text})`);
      return { kind: 'normal', nr: 1, param: sigma };
    }
    default:
      throw bad(n, `must be random, roundrobin, sequential (each with :N), zipf[:θ], pareto[:h] or normal[:σ] (got ${text})`);
  }
}

/** fio's fallocate values: none|native|posix|keep|truncate, and the old 0 (none) and 1 (posix). */
export function parseFallocate(text: string, n: string): FallocateMode {
  const t = text.trim();
  if (t === '0') return 'none';
  if (t === '1') return 'posix';
  if (t === 'none' || t === 'native' || t === 'posix' || t === 'keep' || t === 'truncate') return t;
  throw bad(n, `must be none, native, posix, keep, truncate, 0 or 1 (got ${text})`);
}

/** fio's stat_type of the filestat and dirstat engines. */
export function parseStatType(text: string, n: string): 'stat' | 'lstat' | 'statx' {
  const t = text.trim();
  if (t === 'stat' || t === 'lstat' || t === 'statx') return t;
  throw bad(n, `must be stat, lstat or statx (got ${text})`);
}

/**
 * fio's filename_format: $jobname, $jobnum, $filenum (any case) replaced;
 * $clientuid is the local client's, none here: refused rather than guessed.
 */
export function checkFilenameFormat(text: string, n: string): string {
  if (!text.trim()) throw bad(n, 'is empty');
  if (/\$clientuid/i.test(text)) throw bad(n, '$clientuid names a client of fio --client; kaio bench has no clients');
  return text;
}

export const DEFAULT_FORMAT = '$jobname.$jobnum.$filenum';

/** The name of file `filenum` of instance `jobnum` (fio's make_filename). */
export function fileName(format: string, jobname: string, jobnum: number, filenum: number): string {
  if (!format) return `${jobname}.${jobnum}.${filenum}`;
  return format.replace(/\$jobname|\$jobnum|\$filenum/gi, (k) => {
    const key = k.toLowerCase();
    return key === '$jobname' ? jobname : key === '$jobnum' ? String(jobnum) : String(filenum);
  });
}

/** One file of a job instance, sized as fio's setup_files sizes it. */
export interface PlannedFile {
  path: string;
  /** Where the job's region in it starts (offset + jobnum * offset_increment). */
  offset: number;
  /** Bytes of I/O the job does in it per loop (fio's io_size), from offset on. */
  ioSize: number;
  /** Bytes it must hold before the job (0: nothing laid out). */
  layout: number;
}

export interface FilePlanInput {
  jobname: string;
  jobnum: number;
  /** The files named by --filename (':' separated), else empty. */
  names: string[];
  directory: string;
  format: string;
  nrfiles: number;
  /** 0: not given. */
  size: number;
  fileSizeLow: number;
  fileSizeHigh: number;
  offset: number;
  /** The smallest block size (fio's td_min_bs). */
  minBs: number;
  ioengine: string;
  createOnOpen: boolean;
  seed: number;
}

/**
 * The files of one instance and the job's bytes per loop. As fio: a
 * --filename list is the file set (nrfiles is capped at its length); else
 * nrfiles files named by filename_format; with filesize each file gets that
 * size (a range: a random size in it, a multiple of the smallest block), an
 * existing file within the range keeps its own; without filesize, size is
 * split evenly with the first files a block bigger for what does not divide.
 */
export function planFiles(p: FilePlanInput): { files: PlannedFile[]; budget: number } {
  const names = p.names.length ? p.names : Array.from({ length: p.nrfiles }, (_, i) => fileName(p.format, p.jobname, p.jobnum, i));
  const paths = names.map((f) => (p.directory && !f.startsWith('/') ? join(p.directory, f) : f));
  const rand = new Rand(p.seed ^ 0x2545f491);
  const n = paths.length;
  const evenShare = !p.fileSizeLow && p.size ? Math.floor(p.size / n) : 0;
  let extra = !p.fileSizeLow && p.size ? Math.floor((p.size - evenShare * n) / p.minBs) : 0;
  const diskless = layoutFree(p.ioengine);
  const files = paths.map((path): PlannedFile => {
    const st = diskless ? undefined : fs.statSync(path, { throwIfNoEntry: false });
    // fio: the engines that make their own files count each as one smallest block.
    const real = diskless ? p.minBs : st && st.isFile() ? st.size : 0;
    let ioSize: number;
    if (!p.fileSizeLow) {
      ioSize = evenShare;
      if (extra > 0) {
        extra--;
        ioSize += p.minBs;
      }
      if (!ioSize) ioSize = Math.max(0, real - p.offset);
    } else if (!st || real < p.fileSizeLow || real > p.fileSizeHigh) {
      let want = p.fileSizeLow;
      if (p.fileSizeHigh > p.fileSizeLow) {
        want = p.fileSizeLow + Math.floor((p.fileSizeHigh - p.fileSizeLow) * rand.next());
        want -= want % p.minBs;
      }
      if (p.offset > want) throw new BenchError(`${path}: offset ${p.offset} is past its size ${want}`);
      ioSize = want - p.offset;
    } else ioSize = real - p.offset;
    // fio extends a regular file shorter than offset + io_size, unless the engine makes its files itself.
    const layout = !diskless && !p.createOnOpen && (!st || st.isFile()) && p.offset + ioSize > real ? p.offset + ioSize : 0;
    return { path, offset: p.offset, ioSize, layout };
  });
  const total = files.reduce((t, f) => t + f.ioSize, 0);
  return { files, budget: !p.size || (total && p.size > total) ? total : p.size };
}

const FALLOC_FL_KEEP_SIZE = 1;

/** Creates the directories a file needs, as fio's create_work_dirs. */
function makeDirs(path: string): void {
  fs.mkdirSync(dirname(path), { recursive: true });
}

/**
 * Lays out the files that need it, as fio's extend_file: the file made
 * anew, fallocate first (native/posix: fallocate(0); keep:
 * FALLOC_FL_KEEP_SIZE; truncate: ftruncate; none), then, for a job that
 * reads (`data`), `fill(path, size)` writes its data; a job that only
 * writes or trims gets the allocation alone, as in fio. ENOSPC stops the
 * layout with a BenchError naming the file, as fio stops. `fallocate` is
 * Ring.fallocate (Node has no fallocate(2)).
 */
export async function layOutFiles(
  files: PlannedFile[],
  mode: FallocateMode,
  data: boolean,
  fallocate: (fd: number, mode: number, length: number) => Promise<void>,
  fill: (path: string, size: number) => void,
): Promise<string[]> {
  const notes: string[] = [];
  for (const f of files) {
    if (!f.layout) continue;
    makeDirs(f.path);
    fs.rmSync(f.path, { force: true });
    const fd = fs.openSync(f.path, fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_TRUNC, 0o644);
    try {
      if (mode === 'truncate') fs.ftruncateSync(fd, f.layout);
      else if (mode !== 'none') {
        try {
          await fallocate(fd, mode === 'keep' ? FALLOC_FL_KEEP_SIZE : 0, f.layout);
        } catch (e) {
          const err = e as NodeJS.ErrnoException;
          // fio: native falls back to none silently; posix and keep report; no room is fatal either way.
          if (err.code === 'ENOSPC' || err.code === 'EDQUOT')
            throw new BenchError(`${err.code} on laying out ${f.path} (${f.layout} bytes, fallocate=${mode}), stopping, as fio stops`);
          if (mode !== 'native') notes.push(`fallocate=${mode} on ${f.path}: ${err.code ?? err.message}; laid out without it`);
        }
      }
    } finally {
      fs.closeSync(fd);
    }
    if (!data) continue;
    try {
      fill(f.path, f.layout);
    } catch (e) {
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'ENOSPC' || err.code === 'EDQUOT') throw new BenchError(`${err.code} on laying out ${f.path} (${f.layout} bytes), stopping, as fio stops`);
      throw e;
    }
  }
  return notes;
}

/** FileChooser.next with `busy`: the file chosen is not open and the openfiles limit is reached. */
export const FILE_BUSY = -3;

/**
 * Which file the next op goes to (fio's get_next_file): file_service_type
 * decides, a file whose bytes are done for this loop is skipped (a skewed
 * choice starts a done file over instead, as fio resets it), and at most
 * `openFiles` files are open at once. Files open lazily when first chosen.
 */
export class FileChooser {
  readonly left: Float64Array;
  readonly open: Uint8Array;
  readonly done: Uint8Array;
  nOpen = 0;
  nDone = 0;
  #next = 0;
  #cur = -1;
  #curLeft = 0;
  readonly #picker: { next(): number } | undefined;
  readonly #rand: Rand;
  readonly #skewed: boolean;

  constructor(
    readonly sizes: readonly number[],
    readonly service: FileService,
    readonly openFiles: number,
    seed: number,
    /** Smallest op: a file with less than this left is done. */
    readonly minOp: number,
  ) {
    const n = sizes.length;
    this.left = Float64Array.from(sizes);
    this.open = new Uint8Array(n);
    this.done = new Uint8Array(n);
    this.#rand = new Rand(seed ^ 0x68e31da4);
    this.#skewed = service.kind === 'zipf' || service.kind === 'pareto' || service.kind === 'normal';
    if (this.#skewed) {
      // As fio: the distribution over nrfiles << 10 values, cut back to a file.
      const dist: Distribution = { kind: service.kind as 'zipf' | 'pareto' | 'normal', param: service.kind === 'normal' ? Math.max(service.param, 1e-9) : service.param };
      // fio draws a file with the hash disabled: the ranks in order, rotated by a random offset.
      this.#picker = new SkewedPicker(n * 1024, this.#rand, dist, true);
    }
    for (let i = 0; i < n; i++) if (this.left[i] < minOp) this.#finish(i);
  }

  #finish(i: number): void {
    if (!this.done[i]) {
      this.done[i] = 1;
      this.nDone++;
    }
  }

  /** Every file's bytes are done (the loop is over). */
  get finished(): boolean {
    return this.nDone >= this.sizes.length;
  }

  /**
   * The file for the next op, or -1 when every file is done. `openFile(i)`
   * is called when a file is first used (fio's open_file: where the file
   * engines do their op); a false return means it failed and the job stops.
   * With `busy`, a chosen file that cannot be opened for the openfiles
   * limit ends the choice at once with FILE_BUSY, the choice having moved
   * on (fio's get_next_file returns EBUSY: the job reaps, then chooses again).
   */
  next(openFile: (i: number) => boolean, busy = false): number {
    if (this.finished) return -1;
    const cur = this.#cur;
    if (cur >= 0 && this.open[cur] && !this.done[cur]) {
      if (this.service.kind === 'sequential') return cur;
      if (this.#curLeft > 0) {
        this.#curLeft--;
        return cur;
      }
    }
    const n = this.sizes.length;
    for (let tries = 0; tries < 64 * n + 64; tries++) {
      let i: number;
      if (this.service.kind === 'roundrobin' || this.service.kind === 'sequential') {
        i = this.#next;
        this.#next = (this.#next + 1) % n;
      } else if (this.#picker) i = Math.floor(this.#picker.next() / 1024);
      else i = Math.floor(this.#rand.next() * n);
      const got = this.#take(i, openFile);
      if (got !== -2) return got;
      if (busy && !this.done[i]) return FILE_BUSY;
    }
    // A draw that keeps missing the files left (a very skewed one near the end): the first one left.
    for (let i = 0; i < n; i++) {
      const got = this.#take(i, openFile);
      if (got !== -2) return got;
    }
    return -1;
  }

  /** File i if it can take the next op (opened now if need be); -2: not this one; -1: its open failed. */
  #take(i: number, openFile: (i: number) => boolean): number {
    if (this.done[i]) return -2;
    if (!this.open[i]) {
      if (this.nOpen >= this.openFiles) return -2;
      if (!openFile(i)) return -1;
      this.open[i] = 1;
      this.nOpen++;
    }
    this.#cur = i;
    this.#curLeft = this.service.nr - 1;
    return i;
  }

  /**
   * `bytes` of file i were used. A file with less than one op left is done
   * and `closeFile(i)` is called for it; a skewed choice starts it over
   * instead (fio resets such a file and keeps it open).
   */
  used(i: number, bytes: number, closeFile: (i: number) => void | boolean): void {
    this.left[i] -= bytes;
    if (this.left[i] >= this.minOp) return;
    if (this.#skewed) {
      this.left[i] = this.sizes[i];
      return;
    }
    this.#finish(i);
    if (this.open[i]) {
      // false: closed later (ops in flight on it), by closed(i); until then it counts as open (fio's nr_open_files).
      if (closeFile(i) === false) return;
      this.open[i] = 0;
      this.nOpen--;
    }
  }

  /** A file whose close was put off (used()'s closeFile returned false) is closed now. */
  closed(i: number): void {
    if (!this.open[i]) return;
    this.open[i] = 0;
    this.nOpen--;
  }

  /** A new loop over the files (time_based, loops): every file full again, nothing open. */
  reset(closeFile: (i: number) => void): void {
    for (let i = 0; i < this.sizes.length; i++) {
      if (this.open[i]) closeFile(i);
      this.open[i] = 0;
      this.done[i] = 0;
      this.left[i] = this.sizes[i];
    }
    this.nOpen = 0;
    this.nDone = 0;
    this.#next = 0;
    this.#cur = -1;
    for (let i = 0; i < this.sizes.length; i++) if (this.left[i] < this.minOp) this.#finish(i);
  }
}

/** The parts of a job that its file set and file engines decide on (options.ts's BenchJob). */
export interface FileJob {
  rw: string;
  ioengine: string;
  verify: string;
  fsync: number;
  fdatasync: number;
  endFsync: boolean;
  nrfiles: number;
  filename: string;
  registerfiles: boolean;
  zone: { mode: string };
}

const TRIMS = ['trim', 'randtrim', 'trimwrite'];

/** What a job asks of its files and engine that kaio bench cannot do, refused before anything runs. */
export function checkFileJob(job: FileJob): void {
  const e = job.ioengine;
  const trims = TRIMS.includes(job.rw);
  if (trims && e !== 'falloc' && !(job.rw === 'trimwrite' ? BLKDISCARD_SYNC_ENGINES : BLKDISCARD_ENGINES).includes(e))
    throw bad(
      '--rw',
      job.rw === 'trimwrite'
        ? `trimwrite: kaio bench trims a block device (BLKDISCARD) and writes it with ${BLKDISCARD_SYNC_ENGINES.join(', ')}, or punches holes with falloc; ${e} cannot mix its queued writes with the synchronous trims`
        : `${job.rw}: kaio bench trims a block device (BLKDISCARD) with ${BLKDISCARD_ENGINES.join(', ')}, or punches holes with falloc; ${e} has no trim op`,
    );
  if (isFileOpEngine(e)) {
    if (trims || job.rw === 'nop') throw bad('--rw', `${job.rw} means nothing to --ioengine=${e} (its op is on the file, read or write only names the direction reported)`);
    if (job.verify) throw bad('--verify', `cannot check data with --ioengine=${e} (no data is read or written)`);
    if (job.fsync || job.fdatasync || job.endFsync) throw bad('--fsync', `has no file to sync with --ioengine=${e}`);
  }
  if (e === 'ftruncate' && job.rw !== 'write' && job.rw !== 'randwrite')
    throw bad('--rw', `--ioengine=ftruncate truncates on writes only (rw=write or randwrite); fio fails its ${job.rw} ops with EINVAL`);
  if ((e === 'falloc' || e === 'ftruncate') && job.verify) throw bad('--verify', `cannot check data with --ioengine=${e} (no data is written)`);
  const listed = job.filename ? job.filename.split(':').length : 0;
  const files = listed || job.nrfiles;
  if (files > 1 && !isFileOpEngine(e) && !MULTI_FILE_ENGINES.includes(e))
    throw bad('--nrfiles', `${files} files per job: kaio bench spreads ops over several files with ${MULTI_FILE_ENGINES.join(', ')} and the file engines (filecreate, filestat, filedelete, dir*); ${e} takes one file`);
  if (files > 1 && MULTI_FILE_ENGINES.includes(e)) {
    // Every option kaio bench cannot combine with several files, named at once.
    const no: string[] = [];
    if (job.fsync) no.push('--fsync (fio syncs the file of the next op; kaio bench has end_fsync only with several files)');
    if (job.fdatasync) no.push('--fdatasync (likewise)');
    if (job.registerfiles) no.push('--registerfiles (files open and close as file_service_type picks them)');
    if (job.zone.mode === 'strided') no.push('--zonemode=strided');
    if (no.length) throw bad('--nrfiles', `${files} files per job cannot go with ${no.join(', ')}`);
  }
}

/** The parts of a job its file set is made from (options.ts's BenchJob). */
export interface FileSetJob extends FileJob {
  name: string;
  section: string;
  directory: string;
  filenameFormat: string;
  size: number;
  fileSizeLow: number;
  fileSizeHigh: number;
  offset: number;
  offsetIncrement: number;
  bs: number[];
  bssplit: Array<Array<[number, number]>>;
  createOnOpen: boolean;
  fallocate: FallocateMode;
  randseed: number;
  allowMountedWrite: boolean;
  invalidate: boolean;
  direct: boolean;
}

/** Jobs whose files files.ts plans (the others keep run.ts's one-file path, unchanged). */
export function usesFileSet(job: FileSetJob): boolean {
  return (
    job.nrfiles > 1 ||
    job.fileSizeLow > 0 ||
    job.createOnOpen ||
    job.filenameFormat !== DEFAULT_FORMAT ||
    job.filename.includes(':') ||
    isFileOpEngine(job.ioengine) ||
    job.ioengine === 'falloc' ||
    job.ioengine === 'ftruncate'
  );
}

/**
 * Plans the files of instance `jobnum` and gets them ready as fio's
 * setup_files does: laid out (fallocate, then data) where the job needs
 * them, directories made for dirstat/dirdelete, nothing for the engines
 * that make their files themselves (filecreate, dircreate) or with
 * create_on_open. A block device is used as it is, checked by target.ts.
 */
export async function prepareFileSet(
  job: FileSetJob,
  jobnum: number,
  hooks: {
    /** target.ts prepareTarget, for a block device. */
    blockDevice: (path: string) => { size: number; notes: string[] } | undefined;
    /** Writes data into a regular file up to size bytes (target.ts prepareFile). */
    fill: (path: string, size: number) => void;
    /** Drops the file's cached pages (invalidate=1); returns why it could not, if so. */
    invalidate: (path: string) => string | undefined;
  },
): Promise<{ files: PlannedFile[]; budget: number; notes: string[]; blockDevice: boolean }> {
  const names = job.filename ? job.filename.split(':').filter((f) => f !== '') : [];
  const sizes = [...job.bs, ...job.bssplit.flat().map(([s]) => s)];
  const minBs = Math.min(...sizes);
  const offset = job.offset + jobnum * job.offsetIncrement;
  const engine = job.ioengine;
  if (names.length === 1) {
    const dev = hooks.blockDevice(names[0]);
    if (dev) {
      const ioSize = (job.size || dev.size) - offset;
      if (ioSize < minBs) throw new BenchError(`${names[0]}: --offset=${offset} leaves less than one block`);
      return { files: [{ path: names[0], offset, ioSize, layout: 0 }], budget: ioSize, notes: dev.notes, blockDevice: true };
    }
  }
  const plan = planFiles({
    jobname: job.section || job.name,
    jobnum,
    names,
    directory: job.directory,
    format: job.filenameFormat,
    nrfiles: job.nrfiles,
    size: job.size,
    fileSizeLow: job.fileSizeLow,
    fileSizeHigh: job.fileSizeHigh,
    offset,
    minBs,
    ioengine: engine,
    createOnOpen: job.createOnOpen,
    seed: job.randseed + jobnum,
  });
  // fio: no size from anywhere (no size=, no filesize=, no existing file) is refused.
  if (!isFileOpEngine(engine) && !job.createOnOpen && plan.budget < minBs)
    throw new BenchError(`${job.name}: you need to specify size= (${plan.files[0].path} ${fs.existsSync(plan.files[0].path) ? 'is empty' : 'does not exist'}), as fio requires`);
  if (engine === 'dirstat' || engine === 'dirdelete') {
    for (const f of plan.files) {
      try {
        fs.mkdirSync(f.path, { mode: 0o700, recursive: false });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new BenchError(`${engine}: cannot create directory ${f.path}: ${(e as NodeJS.ErrnoException).code}`);
      }
    }
  }
  const notes: string[] = [];
  if (plan.files.some((f) => f.layout)) {
    const { Ring } = await import('../ring');
    const ring = new Ring({ entries: 2 });
    try {
      // fio writes data into a job's files only when the job reads (td_read); the file engines' default rw is read.
      const reads = job.rw === 'read' || job.rw === 'randread' || job.rw === 'rw' || job.rw === 'randrw';
      notes.push(...(await layOutFiles(plan.files, job.fallocate, reads, (fd, mode, length) => ring.fallocate(fd, 0, length, { mode }), hooks.fill)));
    } finally {
      await ring.close();
    }
  }
  // Data engines read what was laid out: as fio, from the disk (invalidate=1), not from the page cache.
  if (job.invalidate && !job.direct && !isFileOpEngine(engine)) {
    for (const f of plan.files) {
      if (!fs.existsSync(f.path)) continue;
      const why = hooks.invalidate(f.path);
      if (why) notes.push(why);
    }
  }
  return { ...plan, notes, blockDevice: false };
}
