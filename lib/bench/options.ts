// fio's job options for `kaio bench`: the same names, values, units and
// defaults, from the command line (util.parseArgs) and from fio job files, so
// a job can be moved between the two tools unchanged.
import { parseArgs as nodeParseArgs } from 'node:util';
import { invalidArgValue, stateError } from '../errors';
import { checkPace, defaultPace, parseChoice, parseCount, parseTimeUs, parseTriple, type PaceOptions } from './pace';
import { checkWaitFor, defaultControl, type ControlOptions } from './control';
import { checkSteady, defaultSteady, parseSsTime, parseSteadystate, type SteadyOptions } from './steadystate';
import { headerSize, VERIFY_NAMES, type VerifyName } from './verify';
import { checkFileJob, checkFilenameFormat, parseFallocate, parseFileService, parseStatType, type FallocateMode, type FileService } from './files';
import { defaultLogOptions, type LogOptions } from './logs';
import { cmdprioOn, defaultPrioOptions, parseCmdBssplit, parsePair, type PrioOptions } from './prio';
import { defaultZoneOptions, type ZoneOptions } from './zones';

export type Rw = 'read' | 'write' | 'randread' | 'randwrite' | 'rw' | 'randrw' | 'nop' | 'trim' | 'randtrim' | 'trimwrite';
export type Engine =
  | 'io_uring'
  | 'libaio'
  | 'psync'
  | 'sync'
  | 'pvsync2'
  | 'fs'
  | 'fs-sync'
  | 'null'
  | 'falloc'
  | 'ftruncate'
  | 'filecreate'
  | 'filestat'
  | 'filedelete'
  | 'dircreate'
  | 'dirstat'
  | 'dirdelete'
  | 'cpuio'
  | 'exec';
export type Api = 'batch' | 'promise';
export type Verify = '' | VerifyName;
export type OutputFormat = 'normal' | 'json' | 'json+' | 'terse';

/** Directions, in fio's order. */
export const DDIR = ['read', 'write', 'trim'] as const;

export interface Distribution {
  kind: 'random' | 'zipf' | 'pareto' | 'normal' | 'zoned';
  /** θ for zipf, h for pareto, σ (percent of the range) for normal. */
  param: number;
  /** zoned: [percent of the accesses, percent of the range] per zone, in file order. */
  zones?: Array<[number, number]>;
}

/** One job as fio would run it, every option resolved to its value. */
export interface BenchJob {
  /** The name fio reports: name= when given, else the section (or --name). */
  name: string;
  /** The job's section in its file (or its --name): default file names derive from it, as fio's do. */
  section: string;
  /** Empty: derived from name (fio's name.jobnum.filenum, under --directory). */
  filename: string;
  directory: string;
  rw: Rw;
  rwmixread: number;
  /** Block size per direction [read, write, trim], bytes. */
  bs: [number, number, number];
  /** Per direction, [size, percent] pairs; empty when --bssplit is not given. */
  bssplit: [Array<[number, number]>, Array<[number, number]>, Array<[number, number]>];
  /** Bytes of the target the job uses; 0: not given (the file's or device's size). */
  size: number;
  /** size=N%: that share of the file or device (0: not given). */
  sizePercent: number;
  offset: number;
  iodepth: number;
  batchSubmit: number;
  batchCompleteMin: number;
  batchCompleteMax: number;
  direct: boolean;
  invalidate: boolean;
  /** Seconds; 0: no limit. */
  runtime: number;
  timeBased: boolean;
  rampTime: number;
  numjobs: number;
  /** fio's thread: instances are threads of kaio bench's process; else each is a process of its own (setsid). */
  thread: boolean;
  groupReporting: boolean;
  ioengine: Engine;
  /** io_uring only: the batch API (prep/submit/wait, like fio) or the promise API. */
  api: Api;
  fixedbufs: boolean;
  registerfiles: boolean;
  sqthreadPoll: boolean;
  hipri: boolean;
  fsync: number;
  fdatasync: number;
  endFsync: boolean;
  randrepeat: boolean;
  randseed: number;
  norandommap: boolean;
  distribution: Distribution;
  verify: Verify;
  verifyPattern: Buffer;
  doVerify: boolean;
  /** verify= was given (verify_pattern alone means fio's header + pattern). */
  verifySet: boolean;
  /** verify_interval: bytes per header; 0: fio's default (the smallest write). */
  verifyInterval: number;
  verifyOffset: number;
  verifyBacklog: number;
  verifyBacklogBatch: number;
  verifyFatal: boolean;
  verifyDump: boolean;
  verifyOnly: boolean;
  /** fill_device/fill_fs: write until ENOSPC, then stop without an error. */
  fillDevice: boolean;
  /** Buffer content (lib/bench/content.ts). refillBuffers undefined: not given. */
  compressPercentage: number;
  compressChunk: number;
  refillBuffers: boolean | undefined;
  scrambleBuffers: boolean;
  zeroBuffers: boolean;
  bufferPattern: Buffer;
  dedupePercentage: number;
  dedupeMode: 'repeat' | 'working_set';
  dedupeWorkingSetPercentage: number;
  dedupeGlobal: boolean;
  numberIos: number;
  /** Sibling n of numjobs starts at offset + n * this (fio's offset_increment). */
  offsetIncrement: number;
  /** io_size (io_limit): bytes of I/O per loop, 0: the job's size. */
  ioSize: number;
  /** Passes over the job's I/O (fio's loops). */
  loops: number;
  /** Seconds before the job starts (fio's startdelay); its runtime starts after it. */
  startDelay: number;
  /** Random offsets are multiples of this (fio's blockalign); 0: the smallest block size. */
  blockAlign: number;
  /** rw=read:8k: bytes added to each sequential offset (negative: backwards), fio's ddir_seq_add. */
  seqAdd: number;
  /** rw=randread:8: a new random offset every N ops (fio's ddir_seq_nr); 0: every op. */
  seqNr: number;
  /** What the other ops of a seqNr run do: the next offset, or the same one (fio's rw_sequencer). */
  rwSequencer: 'sequential' | 'identical';
  description: string;
  allowMountedWrite: boolean;
  stonewall: boolean;
  /** fio's new_group: a new reporting group (not a wait) from this job on. */
  newGroup: boolean;
  unlink: boolean;
  /** Ring SQ size (kaio); 0: the smallest power of two >= iodepth. */
  entries: number;
  percentileList: number[];
  /** Percentiles of the total latency (lat_ns) too, not only of clat. */
  latPercentiles: boolean;
  /** Percentiles of slat too (fio's slat_percentiles). */
  slatPercentiles: boolean;
  /** fio's gtod_reduce: disable_lat, disable_clat and disable_slat at once, and fewer clock reads. */
  gtodReduce: boolean;
  /** fio's disable_lat / disable_clat / disable_slat: that figure is not measured (no clock read for it). */
  disableLat: boolean;
  disableClat: boolean;
  disableSlat: boolean;
  /** fio's nrfiles: files per instance (a --filename list caps it at its length). */
  nrfiles: number;
  /** fio's filesize: each file's size, or a range low-high (0: not given). */
  fileSizeLow: number;
  fileSizeHigh: number;
  /** fio's openfiles: files open at once (0: all of them). */
  openFiles: number;
  fileService: FileService;
  createOnOpen: boolean;
  fallocate: FallocateMode;
  /** fio's filename_format. */
  filenameFormat: string;
  /** filestat/dirstat: the system call timed. */
  statType: 'stat' | 'lstat' | 'statx';
  /** The file engines' op: through io_uring (OPENAT, STATX, UNLINKAT, MKDIRAT) or the system call (kaio). */
  fileOpCalls: 'io_uring' | 'sync';
  /** The options as given (fio's "job options" in JSON). */
  given: Record<string, string>;
  /** ioengine=cpuio: percent of a CPU to use (0: not given), burn chunk in µs, how to burn. */
  cpuload: number;
  cpuchunks: number;
  cpumode: 'noop' | 'qsort';
  /** ioengine=exec: the program, its arguments (%r runtime, %n name), seconds from SIGTERM to SIGKILL, output to NAME.stdout/.stderr. */
  program: string;
  arguments: string;
  graceTime: number;
  stdRedirect: boolean;
  /** rate*, thinktime*, flow*, latency_*, io_submit_mode (pace.ts). */
  pace: PaceOptions;
  /** wait_for, exitall, exit_what, exitall_on_error (control.ts). */
  control: ControlOptions;
  /** steadystate/ss, ss_dur, ss_ramp, ss_interval (steadystate.ts). */
  steadystate: SteadyOptions;
  /** fio's random_generator: lfsr visits each block once per pass without a map. */
  randomGenerator: 'tausworthe' | 'lfsr' | 'tausworthe64';
  /** fio's logs (write_bw_log, write_lat_log, ...): lib/bench/logs.ts. */
  logs: LogOptions;
  /** I/O priorities (prio, prioclass, cmdprio_*): lib/bench/prio.ts. */
  prio: PrioOptions;
  /** zonemode=strided: lib/bench/zones.ts. */
  zone: ZoneOptions;
}

export interface Program {
  /** The first --output-format value. */
  format: OutputFormat;
  /** Every --output-format value (fio's list: normal,json prints both). */
  formats: OutputFormat[];
  output: string;
  eta: 'auto' | 'always' | 'never';
  /** --plot FILE.svg: IOPS over time. */
  plot: string;
  jobs: BenchJob[];
  /** No job was described at all: run the default job on a temp file, then remove it. */
  defaulted: boolean;
  /** Options of job files' [global] sections (fio's JSON "global options"). */
  globalOptions: Record<string, string>;
  /** --showcmd: the job files as one command line, printed instead of running. */
  showcmd: string;
  /** --parse-only: check the options and job files, run nothing. */
  parseOnly: boolean;
  /** What the parse changed, as fio's "note:" lines (a synchronous engine's iodepth capped at 1). */
  notes: string[];
  /** --status-interval: seconds between interim reports (0: none). */
  statusInterval: number;
}

export const DEFAULT_PERCENTILES = [1, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 99, 99.5, 99.9, 99.95, 99.99];

const ENGINES: readonly Engine[] = [
  'io_uring',
  'libaio',
  'psync',
  'pvsync2',
  'fs',
  'fs-sync',
  'sync',
  'null',
  'falloc',
  'ftruncate',
  'filecreate',
  'filestat',
  'filedelete',
  'dircreate',
  'dirstat',
  'dirdelete',
  'cpuio',
  'exec',
];
const RW_VALUES: readonly string[] = ['read', 'write', 'randread', 'randwrite', 'rw', 'readwrite', 'randrw', 'nop', 'trim', 'randtrim', 'trimwrite'];
const TRIM_RW = ['trim', 'randtrim', 'trimwrite', 'randtrimwrite'];

type Kind = 'str' | 'int' | 'size' | 'bool' | 'set' | 'time' | 'choice';
interface OptDef {
  kind: Kind;
  /** Program-wide (output) options, not job options. */
  program?: boolean;
  alias?: string;
  /** The value's shape in --help. */
  hint?: string;
  /** fio's default, as text through set(); shown in --help. */
  dflt?: string;
  help?: string;
  /** Sets the job from the option's text; `n` is --name for messages. */
  set?: (job: BenchJob, value: string, n: string) => void;
  /** The value may be left out (write_bw_log: the job's name). */
  optional?: boolean;
}

/**
 * Every option kaio bench knows, by fio name: one entry drives parsing
 * (kind, set), defaults (dflt, applied by defaults()) and --help (hint,
 * dflt, help), as fio's struct fio_option does. Aliases point to their option.
 */
const OPTS: Record<string, OptDef> = {
  name: {
    kind: 'str',
    hint: 'STR',
    help: 'start a job (options before the first --name are global defaults)',
    set: (job, value) => {
      job.name = value;
    },
  },
  filename: {
    kind: 'str',
    hint: 'PATH',
    help: 'file or block device (default: SECTION.JOBNUM.0 under --directory, or a temp file)',
    set: (job, value) => {
      job.filename = value;
    },
  },
  directory: {
    kind: 'str',
    hint: 'DIR',
    help: 'where SECTION.JOBNUM.0 files go',
    set: (job, value) => {
      job.directory = value;
    },
  },
  rw: {
    kind: 'choice',
    hint: 'read|write|randread|randwrite|rw|randrw|trim|randtrim|trimwrite[:N]',
    dflt: 'read',
    help: 'direction and pattern; :N holes/backwards (sequential) or N ops per random offset',
    set: (job, value, n) => {
      // fio's suffix: rw=read:8k adds 8k to each sequential offset (holes; negative: backwards),
      // rw=randread:8 takes a new random offset every 8 ops.
      const colon = value.indexOf(':');
      const suffix = colon < 0 ? '' : value.slice(colon + 1).trim();
      value = colon < 0 ? value : value.slice(0, colon).trim();
      if (value === 'randtrimwrite') throw bad(n, `randtrimwrite is not supported (trim, randtrim and trimwrite are)`);
      if (!RW_VALUES.includes(value)) throw bad(n, `must be one of read, write, randread, randwrite, rw, readwrite, randrw, trim, randtrim, trimwrite (got ${value})`);
      job.rw = (value === 'readwrite' ? 'rw' : value) as Rw;
      job.seqAdd = 0;
      job.seqNr = 0;
      if (suffix) {
        if (job.rw.startsWith('rand')) job.seqNr = parseIntIn(suffix, n, 1, 2 ** 31);
        else if (job.rw === 'nop') throw bad(n, `nop takes no suffix (got ${value}:${suffix})`);
        else job.seqAdd = suffix.startsWith('-') ? -parseSize(suffix.slice(1), n) : parseSize(suffix, n, true);
      }
    },
  },
  readwrite: { kind: 'choice', alias: 'rw' },
  rwmixread: {
    kind: 'int',
    hint: 'PCT',
    dflt: '50',
    help: 'share of reads in rw/randrw',
    set: (job, value, n) => {
      job.rwmixread = parseIntIn(value, n, 0, 100);
    },
  },
  rwmixwrite: {
    kind: 'int',
    hint: 'PCT',
    dflt: '50',
    help: 'share of writes in rw/randrw',
    set: (job, value, n) => {
      job.rwmixread = 100 - parseIntIn(value, n, 0, 100);
    },
  },
  bs: {
    kind: 'str',
    hint: 'SIZE[,SIZE]',
    dflt: '4k',
    help: 'block size (read,write)',
    set: (job, value, n) => {
      job.bs = parsePerDir(value, n, (s) => parseSize(s, n), 4096);
    },
  },
  blocksize: { kind: 'str', alias: 'bs' },
  bssplit: {
    kind: 'str',
    hint: 'SIZE/PCT:...',
    help: 'block sizes by share, per direction after a comma',
    set: (job, value, n) => {
      job.bssplit = parsePerDir(value, n, (s) => parseSplit(s, n), [] as Array<[number, number]>);
    },
  },
  bsrange: {
    kind: 'str',
    hint: 'MIN-MAX',
    help: 'block sizes drawn between MIN and MAX as fio draws them',
    set: (job, value, n) => {
      // fio: a size drawn as min + max * U[0,1), rounded down to a multiple of min, at most max;
      // so each multiple of min below max has min/max of the ops and max takes the rest.
      const ranges = parsePerDir(value, n, (r) => {
        const m = /^([^-]+)-([^-]+)$/.exec(r.trim());
        if (!m) throw bad(n, `must be MIN-MAX, like 1k-64k (got ${r})`);
        const lo = parseSize(m[1], n);
        const hi = parseSize(m[2], n);
        if (hi < lo) throw bad(n, `max ${m[2]} is below min ${m[1]}`);
        return [lo, hi] as [number, number];
      }, [4096, 4096] as [number, number]);
      ranges.forEach(([lo, hi], d) => {
        job.bs[d] = lo;
        const split: Array<[number, number]> = [];
        if (hi > lo) {
          let left = 100;
          for (let s = lo; s < hi; s += lo) {
            const share = (Math.min(lo, hi - (s - lo)) / hi) * 100;
            split.push([s, share]);
            left -= share;
          }
          if (left > 1e-9) split.push([hi, left]);
        }
        job.bssplit[d] = split;
      });
    },
  },
  blocksize_range: { kind: 'str', alias: 'bsrange' },
  size: {
    kind: 'size',
    hint: 'SIZE|N%',
    help: 'bytes of the target the job uses (default: the file or device size)',
    set: (job, value, n) => {
      const pct = /^(\d+(?:\.\d+)?)%$/.exec(value.trim());
      if (pct) {
        const p = Number(pct[1]);
        if (!(p > 0 && p <= 100)) throw bad(n, `a percentage must be in (0, 100] (got ${value})`);
        job.sizePercent = p;
        job.size = 0;
      } else {
        job.size = parseSize(value, n);
        job.sizePercent = 0;
      }
    },
  },
  offset: {
    kind: 'size',
    hint: 'SIZE',
    dflt: '0',
    help: 'where the job region starts',
    set: (job, value, n) => {
      job.offset = parseSize(value, n, true);
    },
  },
  offset_increment: {
    kind: 'size',
    hint: 'SIZE',
    dflt: '0',
    help: 'sibling N of numjobs starts N times this further',
    set: (job, value, n) => {
      job.offsetIncrement = parseSize(value, n, true);
    },
  },
  iodepth: {
    kind: 'int',
    hint: 'N',
    dflt: '1',
    help: 'ops in flight',
    set: (job, value, n) => {
      job.iodepth = parseIntIn(value, n, 1, 65536);
    },
  },
  iodepth_batch_submit: {
    kind: 'int',
    hint: 'N',
    dflt: '1',
    help: 'ops prepared before one submit (0: all free slots)',
    set: (job, value, n) => {
      job.batchSubmit = parseIntIn(value, n, 0, 65536);
    },
  },
  iodepth_batch: { kind: 'int', alias: 'iodepth_batch_submit' },
  iodepth_batch_complete_min: {
    kind: 'int',
    hint: 'N',
    dflt: '1',
    help: 'completions waited for at once',
    set: (job, value, n) => {
      job.batchCompleteMin = parseIntIn(value, n, 0, 65536);
    },
  },
  iodepth_batch_complete: { kind: 'int', alias: 'iodepth_batch_complete_min' },
  iodepth_batch_complete_max: {
    kind: 'int',
    hint: 'N',
    dflt: '0',
    help: 'accepted; the batch loop takes every ready completion',
    set: (job, value, n) => {
      job.batchCompleteMax = parseIntIn(value, n, 0, 65536);
    },
  },
  direct: {
    kind: 'bool',
    hint: '0|1',
    dflt: '0',
    help: 'O_DIRECT',
    set: (job, value, n) => {
      job.direct = parseBool(value, n);
    },
  },
  buffered: {
    kind: 'bool',
    hint: '0|1',
    dflt: '1',
    help: 'the opposite of --direct',
    set: (job, value, n) => {
      job.direct = !parseBool(value, n);
    },
  },
  invalidate: {
    kind: 'bool',
    hint: '0|1',
    dflt: '1',
    help: `drop the file's pages from the page cache before the job`,
    set: (job, value, n) => {
      job.invalidate = parseBool(value, n);
    },
  },
  runtime: {
    kind: 'time',
    hint: 'TIME',
    dflt: '0',
    help: 'stop after this long (0: no limit)',
    set: (job, value, n) => {
      job.runtime = parseTime(value, n);
    },
  },
  timeout: { kind: 'time', alias: 'runtime' },
  time_based: {
    kind: 'set',
    hint: '',
    help: 'run for --runtime, going over the region again',
    set: (job, value, n) => {
      job.timeBased = parseBool(value, n);
    },
  },
  ramp_time: {
    kind: 'time',
    hint: 'TIME',
    dflt: '0',
    help: 'run this long before measuring',
    set: (job, value, n) => {
      job.rampTime = parseTime(value, n);
    },
  },
  numjobs: {
    kind: 'int',
    hint: 'N',
    dflt: '1',
    help: 'instances of the job, each in its own thread',
    set: (job, value, n) => {
      job.numjobs = parseIntIn(value, n, 1, 256);
    },
  },
  group_reporting: {
    kind: 'set',
    hint: '',
    help: `report a job's instances as one`,
    set: (job, value, n) => {
      job.groupReporting = parseBool(value, n);
    },
  },
  ioengine: {
    kind: 'choice',
    hint: 'io_uring|libaio|psync|pvsync2|fs|fs-sync|sync|null|falloc|ftruncate|filecreate|filestat|filedelete|dircreate|dirstat|dirdelete|cpuio|exec',
    dflt: 'io_uring',
    help: `engine (fio's default is psync)`,
    set: (job, value, n) => {
      if (!ENGINES.includes(value as Engine)) {
        throw bad(n, `${JSON.stringify(value)} is not available (kaio bench has ${ENGINES.join(', ')})`);
      }
      job.ioengine = value as Engine;
    },
  },
  api: {
    kind: 'choice',
    hint: 'batch|promise',
    dflt: 'batch',
    help: `io_uring through kaio's batch or promise API`,
    set: (job, value, n) => {
      // kaio 0.1's --api=node-* name the node:fs engines.
      if (value === 'node-promises' || value === 'node-callback') job.ioengine = 'fs';
      else if (value === 'node-sync') job.ioengine = 'fs-sync';
      else if (value === 'batch' || value === 'promise') job.api = value;
      else throw bad(n, `must be batch or promise (got ${value})`);
    },
  },
  fixedbufs: {
    kind: 'bool',
    hint: '0|1',
    dflt: '0',
    help: 'registered buffers (io_uring)',
    set: (job, value, n) => {
      job.fixedbufs = parseBool(value, n);
    },
  },
  registerfiles: {
    kind: 'bool',
    hint: '0|1',
    dflt: '0',
    help: 'registered file (io_uring)',
    set: (job, value, n) => {
      job.registerfiles = parseBool(value, n);
    },
  },
  sqthread_poll: {
    kind: 'bool',
    hint: '0|1',
    dflt: '0',
    help: 'SQPOLL ring (io_uring)',
    set: (job, value, n) => {
      job.sqthreadPoll = parseBool(value, n);
    },
  },
  hipri: {
    kind: 'bool',
    hint: '0|1',
    dflt: '0',
    help: 'polled completions (io_uring, pvsync2; needs --direct=1)',
    set: (job, value, n) => {
      job.hipri = parseBool(value, n);
    },
  },
  fsync: {
    kind: 'int',
    hint: 'N',
    dflt: '0',
    help: 'fsync after every N writes',
    set: (job, value, n) => {
      job.fsync = parseIntIn(value, n, 0, 2 ** 31);
    },
  },
  fdatasync: {
    kind: 'int',
    hint: 'N',
    dflt: '0',
    help: 'fdatasync after every N writes',
    set: (job, value, n) => {
      job.fdatasync = parseIntIn(value, n, 0, 2 ** 31);
    },
  },
  end_fsync: {
    kind: 'bool',
    hint: '0|1',
    dflt: '0',
    help: 'fsync when the job ends',
    set: (job, value, n) => {
      job.endFsync = parseBool(value, n);
    },
  },
  randrepeat: {
    kind: 'bool',
    hint: '0|1',
    dflt: '1',
    help: 'the same random sequence on every run',
    set: (job, value, n) => {
      job.randrepeat = parseBool(value, n);
    },
  },
  randseed: {
    kind: 'int',
    hint: 'N',
    dflt: '137',
    help: 'seed of the random sequence',
    set: (job, value, n) => {
      job.randseed = parseIntIn(value, n, 0, Number.MAX_SAFE_INTEGER);
    },
  },
  norandommap: {
    kind: 'set',
    hint: '',
    help: 'random offsets may repeat within a pass',
    set: (job, value, n) => {
      job.norandommap = parseBool(value, n);
    },
  },
  random_distribution: {
    kind: 'str',
    hint: 'random|zipf:T|pareto:H|normal:S|zoned:A/R:...',
    dflt: 'random',
    help: 'how random offsets spread',
    set: (job, value) => {
      job.distribution = parseDistribution(value);
    },
  },
  verify: {
    kind: 'choice',
    hint: 'md5|crc64|crc32c|sha256|meta|pattern|...',
    help: 'check the data written (fio\'s header and digest per verify_interval)',
    set: (job, value, n) => {
      if (value === '0' || value === 'null') job.verify = '';
      else if ((VERIFY_NAMES as readonly string[]).includes(value) && value !== 'null') job.verify = value as VerifyName;
      else throw bad(n, `must be one of ${VERIFY_NAMES.filter((v) => v !== 'null').join(', ')} (got ${value})`);
      job.verifySet = true;
    },
  },
  verify_pattern: {
    kind: 'str',
    hint: '0xHEX|N|"text"',
    help: 'pattern for --verify=pattern|meta (alone: header and pattern)',
    set: (job, value) => {
      job.verifyPattern = parsePattern(value);
    },
  },
  do_verify: {
    kind: 'bool',
    hint: '0|1',
    dflt: '1',
    help: 'read back and check after a write job',
    set: (job, value, n) => {
      job.doVerify = parseBool(value, n);
    },
  },
  number_ios: {
    kind: 'int',
    hint: 'N',
    help: 'stop after this many ops (never more than size)',
    set: (job, value, n) => {
      job.numberIos = parseIntIn(value, n, 1, Number.MAX_SAFE_INTEGER);
    },
  },
  io_size: {
    kind: 'size',
    hint: 'SIZE',
    help: 'bytes of I/O per loop (default: --size)',
    set: (job, value, n) => {
      job.ioSize = parseSize(value, n);
    },
  },
  io_limit: { kind: 'size', alias: 'io_size' },
  loops: {
    kind: 'int',
    hint: 'N',
    dflt: '1',
    help: 'passes over the job',
    set: (job, value, n) => {
      job.loops = parseIntIn(value, n, 1, 2 ** 31);
    },
  },
  startdelay: {
    kind: 'time',
    hint: 'TIME',
    dflt: '0',
    help: 'wait this long before starting',
    set: (job, value, n) => {
      job.startDelay = parseTime(value, n);
    },
  },
  blockalign: {
    kind: 'str',
    hint: 'SIZE',
    help: 'random offsets are multiples of this (default: the smallest block)',
    set: (job, value, n) => {
      const [r, w, t] = parsePerDir(value, n, (v) => parseSize(v, n), 0);
      if (r !== w || w !== t) throw bad(n, `one alignment for every direction only (got ${value})`);
      job.blockAlign = r;
    },
  },
  ba: { kind: 'str', alias: 'blockalign' },
  rw_sequencer: {
    kind: 'choice',
    hint: 'sequential|identical',
    dflt: 'sequential',
    help: 'what the ops after a random offset of rw=randX:N do',
    set: (job, value, n) => {
      if (value !== 'sequential' && value !== 'identical') throw bad(n, `must be sequential or identical (got ${value})`);
      job.rwSequencer = value;
    },
  },
  description: {
    kind: 'str',
    hint: 'STR',
    help: 'text printed with the job',
    set: (job, value) => {
      job.description = value;
    },
  },
  allow_mounted_write: {
    kind: 'bool',
    hint: '0|1',
    dflt: '0',
    help: 'write to a block device in use',
    set: (job, value, n) => {
      job.allowMountedWrite = parseBool(value, n);
    },
  },
  stonewall: {
    kind: 'set',
    hint: '',
    help: 'wait for the jobs before this one (a new group)',
    set: (job, value, n) => {
      job.stonewall = parseBool(value, n);
    },
  },
  wait_for_previous: { kind: 'set', alias: 'stonewall' },
  new_group: {
    kind: 'set',
    hint: '',
    help: 'start a new reporting group with this job (the jobs still run together unless stonewall)',
    set: (job, value, n) => {
      job.newGroup = parseBool(value, n);
    },
  },
  unlink: {
    kind: 'bool',
    hint: '0|1',
    dflt: '0',
    help: `remove the job's file afterwards`,
    set: (job, value, n) => {
      job.unlink = parseBool(value, n);
    },
  },
  entries: {
    kind: 'int',
    hint: 'N',
    help: 'ring SQ size (kaio; default: iodepth rounded up to a power of two)',
    set: (job, value, n) => {
      job.entries = parseIntIn(value, n, 1, 32768);
    },
  },
  percentile_list: {
    kind: 'str',
    hint: 'P:P:...',
    help: `clat percentiles reported (default: fio's)`,
    set: (job, value) => {
      job.percentileList = parsePercentiles(value);
    },
  },
  lat_percentiles: {
    kind: 'bool',
    hint: '0|1',
    dflt: '0',
    help: 'percentiles of lat too',
    set: (job, value, n) => {
      job.latPercentiles = parseBool(value, n);
    },
  },
  slat_percentiles: {
    kind: 'bool',
    hint: '0|1',
    dflt: '0',
    help: 'percentiles of slat too',
    set: (job, value, n) => {
      job.slatPercentiles = parseBool(value, n);
    },
  },
  gtod_reduce: {
    kind: 'bool',
    hint: '0|1',
    dflt: '0',
    help: 'no per-op latency (disable_lat, disable_clat and disable_slat at once)',
    set: (job, value, n) => {
      job.gtodReduce = parseBool(value, n);
      // As fio: gtod_reduce=1 sets the three (=0 leaves them alone; a later disable_* may clear one).
      if (job.gtodReduce) job.disableLat = job.disableClat = job.disableSlat = true;
    },
  },
  disable_lat: {
    kind: 'bool',
    hint: '0|1',
    dflt: '0',
    help: 'do not measure lat (it is left out, as in fio)',
    set: (job, value, n) => {
      job.disableLat = parseBool(value, n);
    },
  },
  disable_clat: {
    kind: 'bool',
    hint: '0|1',
    dflt: '0',
    help: 'do not measure clat (it is left out, as in fio)',
    set: (job, value, n) => {
      job.disableClat = parseBool(value, n);
    },
  },
  disable_slat: {
    kind: 'bool',
    hint: '0|1',
    dflt: '0',
    help: 'do not measure slat (it is left out, as in fio)',
    set: (job, value, n) => {
      job.disableSlat = parseBool(value, n);
    },
  },
  lat: {
    kind: 'bool',
    hint: '0|1',
    help: 'accepted (kaio 0.1; latencies are always kept)',
    set: (job, value, n) => {
      parseBool(value, n);
    },
  },
  'output-format': {
    kind: 'str',
    program: true,
    hint: 'normal|json|json+[,...]',
    dflt: 'normal',
    help: 'report format; several, comma-separated, print each',
  },
  output: {
    kind: 'str',
    program: true,
    hint: 'FILE',
    help: 'write the report to FILE',
  },
  eta: {
    kind: 'str',
    program: true,
    hint: 'auto|always|never',
    dflt: 'auto',
    help: 'the live status line on stderr',
  },
  plot: {
    kind: 'str',
    program: true,
    hint: 'FILE.svg',
    help: 'draw IOPS over time',
  },
  readonly: {
    kind: 'set',
    program: true,
    hint: '',
    help: 'refuse any job that writes',
  },
  showcmd: {
    kind: 'set',
    program: true,
    hint: '',
    help: 'print the job files as one command line',
  },
  'parse-only': {
    kind: 'set',
    program: true,
    hint: '',
    help: 'check options and job files, run nothing',
  },
  section: {
    kind: 'str',
    program: true,
    hint: 'NAME',
    help: 'run only this section of the job files (repeatable)',
  },
  thread: {
    kind: 'set',
    hint: '',
    help: 'run each job instance as a thread of this process (default: a process of its own, in its own session)',
    set: (job, value, n) => {
      job.thread = parseBool(value, n);
    },
  },  cpuload: {
    kind: 'int',
    hint: 'INT',
    help: 'ioengine=cpuio: percent of a CPU to use (over 100 is 100)',
    set: (job, value, n) => {
      job.cpuload = parseIntIn(value, n, 0, 2 ** 31 - 1);
    },
  },
  cpuchunks: {
    kind: 'int',
    hint: 'USEC',
    dflt: '50000',
    help: 'ioengine=cpuio: microseconds of each CPU burn (cpumode=noop)',
    set: (job, value, n) => {
      job.cpuchunks = parseIntIn(value, n, 1, 2 ** 31 - 1);
    },
  },
  cpumode: {
    kind: 'choice',
    hint: 'noop|qsort',
    dflt: 'noop',
    help: 'ioengine=cpuio: burn by spinning (noop) or by sorting 256 Ki random integers (qsort)',
    set: (job, value, n) => {
      if (value !== 'noop' && value !== 'qsort') throw bad(n, `must be noop or qsort (got ${value})`);
      job.cpumode = value;
    },
  },
  program: {
    kind: 'str',
    hint: 'PATH',
    help: 'ioengine=exec: the program to run for the runtime',
    set: (job, value) => {
      job.program = value;
    },
  },
  arguments: {
    kind: 'str',
    hint: 'STR',
    help: 'ioengine=exec: its arguments, split at spaces; %r is the runtime in seconds, %n the job name',
    set: (job, value) => {
      job.arguments = value;
    },
  },
  grace_time: {
    kind: 'int',
    hint: 'SEC',
    dflt: '1',
    help: 'ioengine=exec: seconds from SIGTERM to SIGKILL at the end',
    set: (job, value, n) => {
      job.graceTime = parseIntIn(value, n, 0, 2 ** 31 - 1);
    },
  },
  std_redirect: {
    kind: 'bool',
    hint: '0|1',
    dflt: '1',
    help: "ioengine=exec: the program's stdout and stderr to NAME.stdout and NAME.stderr",
    set: (job, value, n) => {
      job.stdRedirect = parseBool(value, n);
    },
  },

  // ── pacing (pace.ts) ──
  rate: {
    kind: 'str',
    hint: 'RATE[,RATE]',
    help: 'bytes/s cap per direction (read,write; ",1m" writes only), k/m/g units',
    set: (job, value, n) => {
      job.pace.rate = parseTriple(value, n, true);
    },
  },
  rate_iops: {
    kind: 'str',
    hint: 'N[,N]',
    help: 'IOPS cap per direction',
    set: (job, value, n) => {
      job.pace.rateIops = parseTriple(value, n, false);
    },
  },
  rate_min: {
    kind: 'str',
    hint: 'RATE[,RATE]',
    help: 'fail the job (EIO) when a rate_cycle falls below this bytes/s (after 2 s)',
    set: (job, value, n) => {
      job.pace.rateMin = parseTriple(value, n, true);
    },
  },
  ratemin: { kind: 'str', alias: 'rate_min' },
  rate_iops_min: {
    kind: 'str',
    hint: 'N[,N]',
    help: 'fail the job (EIO) when a rate_cycle falls below this IOPS (after 2 s)',
    set: (job, value, n) => {
      job.pace.rateIopsMin = parseTriple(value, n, false);
    },
  },
  rate_cycle: {
    kind: 'int',
    hint: 'MS',
    dflt: '1000',
    help: 'window of the ratemin/rate_iops_min check',
    set: (job, value, n) => {
      job.pace.rateCycle = parseCount(value, n, 1, 2 ** 31);
    },
  },
  ratecycle: { kind: 'int', alias: 'rate_cycle' },
  rate_process: {
    kind: 'choice',
    hint: 'linear|poisson',
    dflt: 'linear',
    help: 'evenly spaced ops, or exponential gaps (a Poisson arrival process)',
    set: (job, value, n) => {
      job.pace.rateProcess = parseChoice(value, n, ['linear', 'poisson'] as const);
    },
  },
  rate_ignore_thinktime: {
    kind: 'bool',
    hint: '0|1',
    dflt: '0',
    help: 'thinktime does not slow the rate (the job catches up after a think)',
    set: (job, value, n) => {
      job.pace.rateIgnoreThinktime = parseBool(value, n);
    },
  },
  io_submit_mode: {
    kind: 'choice',
    hint: 'inline|offload',
    dflt: 'inline',
    help: 'rate waits drain the queue first (inline), or submit on the clock alone (offload)',
    set: (job, value, n) => {
      job.pace.submitMode = parseChoice(value, n, ['inline', 'offload'] as const);
    },
  },
  thinktime: {
    kind: 'str',
    hint: 'TIME',
    dflt: '0',
    help: 'pause between ops (µs unless a unit is given), after draining the queue',
    set: (job, value, n) => {
      job.pace.thinktime = parseTimeUs(value, n, 'us');
    },
  },
  thinktime_spin: {
    kind: 'str',
    hint: 'TIME',
    dflt: '0',
    help: 'spend this much of each thinktime spinning on the CPU (µs)',
    set: (job, value, n) => {
      job.pace.thinktimeSpin = parseTimeUs(value, n, 'us');
    },
  },
  thinktime_blocks: {
    kind: 'int',
    hint: 'N',
    help: 'ops between thinktimes (1 when not given)',
    set: (job, value, n) => {
      job.pace.thinktimeBlocks = parseCount(value, n, 1, 2 ** 31);
      job.pace.thinktimeBlocksSet = true;
    },
  },
  thinktime_blocks_type: {
    kind: 'choice',
    hint: 'complete|issue',
    dflt: 'complete',
    help: 'thinktime_blocks counts completed or issued ops',
    set: (job, value, n) => {
      job.pace.thinktimeBlocksType = parseChoice(value, n, ['complete', 'issue'] as const);
    },
  },
  thinktime_iotime: {
    kind: 'str',
    hint: 'TIME',
    dflt: '0',
    help: 'think after this much time of I/O (s unless a unit is given)',
    set: (job, value, n) => {
      job.pace.thinktimeIotime = parseTimeUs(value, n, 's');
    },
  },
  flow_id: {
    kind: 'int',
    hint: 'N',
    dflt: '0',
    help: 'the flow this job shares ops with',
    set: (job, value, n) => {
      job.pace.flowId = parseCount(value, n, 0, 2 ** 31);
    },
  },
  flow: {
    kind: 'int',
    hint: 'WEIGHT',
    dflt: '0',
    help: `this job's weight in its flow: jobs of a flow do ops in the ratio of their weights`,
    set: (job, value, n) => {
      job.pace.flow = parseCount(value, n, 0, 1024);
    },
  },
  flow_sleep: {
    kind: 'int',
    hint: 'USEC',
    dflt: '0',
    help: 'sleep after the flow held the job back (0: try again at once)',
    set: (job, value, n) => {
      job.pace.flowSleep = parseCount(value, n, 0, 2 ** 31);
    },
  },
  flow_watermark: {
    kind: 'str',
    hint: 'N',
    help: 'accepted and ignored (deprecated in fio, which ignores it too)',
    set: () => {},
  },
  latency_target: {
    kind: 'str',
    hint: 'TIME',
    help: 'find the deepest queue (up to iodepth) whose latencies meet this (µs unless a unit is given)',
    set: (job, value, n) => {
      job.pace.latencyTarget = parseTimeUs(value, n, 'us') * 1000;
    },
  },
  latency_window: {
    kind: 'str',
    hint: 'TIME',
    help: 'how long each queue depth is tried (µs unless a unit is given)',
    set: (job, value, n) => {
      job.pace.latencyWindow = parseTimeUs(value, n, 'us');
    },
  },
  latency_percentile: {
    kind: 'str',
    hint: 'PCT',
    dflt: '100',
    help: 'share of the ops that must meet latency_target',
    set: (job, value, n) => {
      const v = /^\d+(?:\.\d*)?$|^\.\d+$/.test(value.trim()) ? Number(value) : NaN;
      if (!(v >= 0 && v <= 100)) throw bad(n, `must be a percentage from 0 to 100 (got ${value})`);
      job.pace.latencyPercentile = v;
    },
  },
  latency_run: {
    kind: 'bool',
    hint: '0|1',
    dflt: '0',
    help: 'keep adjusting the depth for the whole run (not stop once it settles)',
    set: (job, value, n) => {
      job.pace.latencyRun = parseBool(value, n);
    },
  },
  random_generator: {
    kind: 'choice',
    hint: 'tausworthe|lfsr|tausworthe64',
    dflt: 'tausworthe',
    help: `random offsets: kaio's generator (either tausworthe), or lfsr: each block once per pass, no map`,
    set: (job, value, n) => {
      job.randomGenerator = parseChoice(value, n, ['tausworthe', 'lfsr', 'tausworthe64'] as const);
    },
  },
  // ── job control (control.ts) ──
  wait_for: {
    kind: 'str',
    hint: 'NAME',
    help: 'start when the job NAME (defined before this one) has finished',
    set: (job, value) => {
      job.control.waitFor = value.trim();
    },
  },
  exitall: {
    kind: 'set',
    hint: '',
    help: `when any job ends, stop the jobs its exit_what names (program-wide, as in fio)`,
    set: (job, value, n) => {
      job.control.exitall = parseBool(value, n);
    },
  },
  exit_what: {
    kind: 'choice',
    hint: 'group|stonewall|all',
    dflt: 'group',
    help: `what exitall stops: the job's reporting group, every running job, or everything`,
    set: (job, value, n) => {
      job.control.exitWhat = parseChoice(value, n, ['group', 'stonewall', 'all'] as const);
    },
  },
  exitall_on_error: {
    kind: 'set',
    hint: '',
    help: 'like exitall, only when a job ends in error',
    set: (job, value, n) => {
      job.control.exitallOnError = parseBool(value, n);
    },
  },
  threads: {
    kind: 'int',
    hint: 'N',
    help: `accepted and ignored: fio's tiobench-profile option, no effect on a job (fio ignores it too)`,
    set: (job, value, n) => {
      parseCount(value, n, 0, 2 ** 31);
    },
  },
  // ── steady state (steadystate.ts) ──
  steadystate: {
    kind: 'str',
    hint: 'iops|iops_slope|bw|bw_slope:N[%]',
    dflt: 'iops_slope:0.01%',
    help: 'stop the job once this criterion holds over ss_dur (needs ss_dur)',
    set: (job, value, n) => {
      parseSteadystate(job.steadystate, value, n);
    },
  },
  ss: { kind: 'str', alias: 'steadystate' },
  steadystate_duration: {
    kind: 'str',
    hint: 'TIME',
    dflt: '0',
    help: 'the window steady state is judged over (s unless a unit is given; 0: off)',
    set: (job, value, n) => {
      job.steadystate.dur = parseSsTime(value, n, true);
    },
  },
  ss_dur: { kind: 'str', alias: 'steadystate_duration' },
  steadystate_ramp_time: {
    kind: 'str',
    hint: 'TIME',
    dflt: '0',
    help: 'collect steady-state data only after this long (s)',
    set: (job, value, n) => {
      job.steadystate.ramp = parseSsTime(value, n, true);
    },
  },
  ss_ramp: { kind: 'str', alias: 'steadystate_ramp_time' },
  steadystate_check_interval: {
    kind: 'str',
    hint: 'TIME',
    dflt: '1',
    help: 'one steady-state measurement every this long (s)',
    set: (job, value, n) => {
      job.steadystate.interval = parseSsTime(value, n, false);
    },
  },
  ss_interval: { kind: 'str', alias: 'steadystate_check_interval' },
  verify_interval: {
    kind: 'int',
    hint: 'SIZE',
    help: 'a verify header every SIZE bytes of a write (default: the smallest write)',
    set: (job, value, n) => {
      job.verifyInterval = parseSize(value, n);
      if (job.verifyInterval < 80) throw bad(n, `must be at least 80 (twice fio's 40-byte header) (got ${value})`);
    },
  },
  verify_offset: {
    kind: 'int',
    hint: 'SIZE',
    help: 'put the verify header this many bytes into each interval',
    set: (job, value, n) => {
      job.verifyOffset = parseSize(value, n, true);
      if (job.verifyOffset && job.verifyOffset < 40) throw bad(n, `must be at least 40 (fio's header) (got ${value})`);
    },
  },
  verify_backlog: {
    kind: 'int',
    hint: 'N',
    help: 'read back and check written blocks after every N writes, during the job',
    set: (job, value, n) => {
      job.verifyBacklog = parseIntIn(value, n, 0, Number.MAX_SAFE_INTEGER);
    },
  },
  verify_backlog_batch: {
    kind: 'int',
    hint: 'N',
    help: 'blocks read back each time (default: verify_backlog)',
    set: (job, value, n) => {
      job.verifyBacklogBatch = parseIntIn(value, n, 0, Number.MAX_SAFE_INTEGER);
    },
  },
  verify_fatal: {
    kind: 'bool',
    hint: '0|1',
    dflt: '0',
    help: 'stop at the first bad interval of a block (else each one is reported)',
    set: (job, value, n) => {
      job.verifyFatal = parseBool(value, n);
    },
  },
  verify_dump: {
    kind: 'bool',
    hint: '0|1',
    dflt: '0',
    help: 'write a bad block as read and as expected to FILE.OFFSET.received/.expected',
    set: (job, value, n) => {
      job.verifyDump = parseBool(value, n);
    },
  },
  verify_only: {
    kind: 'set',
    hint: '',
    help: 'do not write: read back what the job would have written and check it',
    set: (job, value, n) => {
      job.verifyOnly = parseBool(value, n);
    },
  },
  verify_async: {
    kind: 'int',
    hint: '0',
    dflt: '0',
    help: 'only 0: blocks are checked by the job\'s own thread',
    set: (job, value, n) => {
      if (parseIntIn(value, n, 0, 2 ** 31) !== 0) throw bad(n, `verifier threads are not supported: blocks are checked on the job's thread, as with fio's 0 (got ${value})`);
    },
  },
  verify_state_save: {
    kind: 'bool',
    hint: '0',
    help: 'only 0: no verify state file is written',
    set: (job, value, n) => {
      if (parseBool(value, n)) throw bad(n, 'verify state files are not written (only 0 is supported)');
    },
  },
  fill_device: {
    kind: 'bool',
    hint: '0|1',
    dflt: '0',
    help: 'write until the device or filesystem is full (ENOSPC), then stop without an error',
    set: (job, value, n) => {
      job.fillDevice = parseBool(value, n);
    },
  },
  fill_fs: { kind: 'bool', alias: 'fill_device' },
  create_serialize: {
    kind: 'bool',
    hint: '0|1',
    dflt: '1',
    help: 'accepted: files are laid out one after another before the jobs start',
    set: (job, value, n) => {
      parseBool(value, n);
    },
  },
  buffer_compress_percentage: {
    kind: 'int',
    hint: 'PCT',
    dflt: '0',
    help: 'make writes compressible: this share of each chunk is zeros (or buffer_pattern)',
    set: (job, value, n) => {
      job.compressPercentage = parseIntIn(value, n, 0, 100);
    },
  },
  buffer_compress_chunk: {
    kind: 'int',
    hint: 'SIZE',
    dflt: '512',
    help: 'the unit buffer_compress_percentage applies to',
    set: (job, value, n) => {
      job.compressChunk = parseSize(value, n, true);
    },
  },
  refill_buffers: {
    kind: 'set',
    hint: '',
    help: 'new buffer content for every write (implied by compression and verify)',
    set: (job, value, n) => {
      job.refillBuffers = parseBool(value, n);
    },
  },
  scramble_buffers: {
    kind: 'bool',
    hint: '0|1',
    dflt: '1',
    help: 'stamp each 512-byte block of a write with its offset and time (when not refilled)',
    set: (job, value, n) => {
      job.scrambleBuffers = parseBool(value, n);
    },
  },
  zero_buffers: {
    kind: 'set',
    hint: '',
    help: 'write zeros',
    set: (job, value, n) => {
      job.zeroBuffers = parseBool(value, n);
    },
  },
  buffer_pattern: {
    kind: 'str',
    hint: '0xHEX|N|"text"',
    help: 'write this pattern (and fill the compressible part with it)',
    set: (job, value) => {
      job.bufferPattern = parsePattern(value);
    },
  },
  dedupe_percentage: {
    kind: 'int',
    hint: 'PCT',
    dflt: '0',
    help: 'this share of writes repeat an earlier buffer',
    set: (job, value, n) => {
      job.dedupePercentage = parseIntIn(value, n, 0, 100);
    },
  },
  dedupe_mode: {
    kind: 'choice',
    hint: 'repeat|working_set',
    dflt: 'repeat',
    help: 'a repeated write copies the last unique buffer, or one of a working set',
    set: (job, value, n) => {
      if (value !== 'repeat' && value !== 'working_set') throw bad(n, `must be repeat or working_set (got ${value})`);
      job.dedupeMode = value;
    },
  },
  dedupe_working_set_percentage: {
    kind: 'int',
    hint: 'PCT',
    dflt: '5',
    help: 'the working set: this share of the job\'s size, in unique buffers',
    set: (job, value, n) => {
      job.dedupeWorkingSetPercentage = parseIntIn(value, n, 0, 100);
    },
  },
  dedupe_global: {
    kind: 'bool',
    hint: '0|1',
    dflt: '0',
    help: 'the working set spans every job with dedupe_global (repeats across jobs)',
    set: (job, value, n) => {
      job.dedupeGlobal = parseBool(value, n);
    },
  },
  nrfiles: {
    kind: 'int',
    hint: 'N',
    dflt: '1',
    help: 'files per job instance (SECTION.JOBNUM.FILENUM), the job split across them',
    set: (job, value, n) => {
      job.nrfiles = parseIntIn(value, n, 1, 1 << 24);
    },
  },
  nr_files: { kind: 'int', alias: 'nrfiles' },
  filesize: {
    kind: 'size',
    hint: 'SIZE|LOW-HIGH',
    help: 'size of each file (a range: a random size in it per file)',
    set: (job, value, n) => {
      const m = /^([^-]+)(?:-([^-]+))?$/.exec(value.trim());
      if (!m) throw bad(n, `must be a size or LOW-HIGH (got ${value})`);
      const lo = parseSize(m[1], n);
      const hi = m[2] === undefined ? lo : parseSize(m[2], n);
      if (hi < lo) throw bad(n, `high ${m[2]} is below low ${m[1]}`);
      job.fileSizeLow = lo;
      job.fileSizeHigh = hi;
    },
  },
  openfiles: {
    kind: 'int',
    hint: 'N',
    help: 'files open at once (default: nrfiles)',
    set: (job, value, n) => {
      job.openFiles = parseIntIn(value, n, 0, 1 << 24);
    },
  },
  open_files: { kind: 'int', alias: 'openfiles' },
  file_service_type: {
    kind: 'str',
    hint: 'roundrobin|sequential|random[:N]|zipf|pareto|normal[:P]',
    dflt: 'roundrobin',
    help: 'which file the next op goes to',
    set: (job, value, n) => {
      job.fileService = parseFileService(value, n);
    },
  },
  create_on_open: {
    kind: 'bool',
    hint: '0|1',
    dflt: '0',
    help: 'create files when the job opens them, not before it starts',
    set: (job, value, n) => {
      job.createOnOpen = parseBool(value, n);
    },
  },
  fallocate: {
    kind: 'choice',
    hint: 'none|native|posix|keep|truncate',
    dflt: 'native',
    help: 'how a laid-out file is preallocated',
    set: (job, value, n) => {
      job.fallocate = parseFallocate(value, n);
    },
  },
  filename_format: {
    kind: 'str',
    hint: 'FMT',
    dflt: '$jobname.$jobnum.$filenum',
    help: 'file names from $jobname, $jobnum and $filenum',
    set: (job, value, n) => {
      job.filenameFormat = checkFilenameFormat(value, n);
    },
  },
  fileop_calls: {
    kind: 'choice',
    hint: 'io_uring|sync',
    dflt: 'io_uring',
    help: `file engines: their op through io_uring, or the system call on the job's thread as fio (kaio)`,
    set: (job, value, n) => {
      if (value !== 'io_uring' && value !== 'sync') throw bad(n, `must be io_uring or sync (got ${value})`);
      job.fileOpCalls = value;
    },
  },
  stat_type: {
    kind: 'choice',
    hint: 'stat|lstat|statx',
    dflt: 'stat',
    help: 'the call the filestat and dirstat engines time',
    set: (job, value, n) => {
      job.statType = parseStatType(value, n);
    },
  },
  write_bw_log: {
    kind: 'str',
    optional: true,
    hint: '[PREFIX]',
    help: 'bandwidth log PREFIX_bw.N.log (fio format; PREFIX: the job name when not given)',
    set: (job, value) => {
      job.logs.bw = value;
    },
  },
  write_lat_log: {
    kind: 'str',
    optional: true,
    hint: '[PREFIX]',
    help: 'latency logs PREFIX_lat.N.log, PREFIX_slat.N.log, PREFIX_clat.N.log',
    set: (job, value) => {
      job.logs.lat = value;
    },
  },
  write_iops_log: {
    kind: 'str',
    optional: true,
    hint: '[PREFIX]',
    help: 'IOPS log PREFIX_iops.N.log',
    set: (job, value) => {
      job.logs.iops = value;
    },
  },
  write_hist_log: {
    kind: 'str',
    optional: true,
    hint: '[PREFIX]',
    help: 'clat histogram log PREFIX_clat_hist.N.log, every --log_hist_msec',
    set: (job, value) => {
      job.logs.hist = value;
    },
  },
  log_avg_msec: {
    kind: 'int',
    hint: 'MS',
    dflt: '0',
    help: 'one log line per window of MS per direction (0: one per op)',
    set: (job, value, n) => {
      job.logs.avgMsec = parseIntIn(value, n, 0, 2 ** 31);
    },
  },
  log_hist_msec: {
    kind: 'int',
    hint: 'MS',
    dflt: '0',
    help: 'window of the histogram log',
    set: (job, value, n) => {
      job.logs.histMsec = parseIntIn(value, n, 0, 2 ** 31);
    },
  },
  log_hist_coarseness: {
    kind: 'int',
    hint: '0-6',
    dflt: '0',
    help: 'histogram log: 2^N adjacent buckets summed',
    set: (job, value, n) => {
      job.logs.histCoarseness = parseIntIn(value, n, 0, 6);
    },
  },
  log_max_value: {
    kind: 'int',
    hint: '0|1|2',
    dflt: '0',
    help: 'averaged logs: the window mean (0), maximum (1) or both (2)',
    set: (job, value, n) => {
      job.logs.maxValue = parseIntIn(value, n, 0, 2);
    },
  },
  log_offset: {
    kind: 'bool',
    hint: '0|1',
    dflt: '0',
    help: "logs: each op's offset too",
    set: (job, value, n) => {
      job.logs.offset = parseBool(value, n);
    },
  },
  log_prio: {
    kind: 'bool',
    hint: '0|1',
    dflt: '0',
    help: "logs: each op's ioprio value (0xHHHH) instead of 1/0 for the RT class",
    set: (job, value, n) => {
      job.logs.prio = parseBool(value, n);
    },
  },
  per_job_logs: {
    kind: 'bool',
    hint: '0|1',
    dflt: '1',
    help: 'one log file per job instance (0: jobs of one name share it)',
    set: (job, value, n) => {
      job.logs.perJob = parseBool(value, n);
    },
  },
  log_unix_epoch: {
    kind: 'bool',
    hint: '0|1',
    dflt: '0',
    help: 'log times in ms since the Unix epoch',
    set: (job, value, n) => {
      job.logs.unixEpoch = parseBool(value, n);
    },
  },
  log_alternate_epoch: {
    kind: 'bool',
    hint: '0|1',
    dflt: '0',
    help: 'log times in ms of --log_alternate_epoch_clock_id',
    set: (job, value, n) => {
      job.logs.alternateEpoch = parseBool(value, n);
    },
  },
  log_alternate_epoch_clock_id: {
    kind: 'int',
    hint: '0|1',
    dflt: '0',
    help: 'clock of log_alternate_epoch: 0 CLOCK_REALTIME, 1 CLOCK_MONOTONIC',
    set: (job, value, n) => {
      job.logs.alternateClock = parseIntIn(value, n, 0, 1);
    },
  },
  prio: {
    kind: 'int',
    hint: '0-7',
    help: "the job thread's I/O priority level (ioprio_set)",
    set: (job, value, n) => {
      job.prio.prio = parseIntIn(value, n, 0, 7);
      job.prio.jobSet = true;
    },
  },
  prioclass: {
    kind: 'int',
    hint: '1-3',
    help: "the job thread's I/O priority class: 1 RT, 2 BE, 3 IDLE (ioprio_set)",
    set: (job, value, n) => {
      job.prio.prioclass = parseIntIn(value, n, 0, 3);
      job.prio.jobSet = true;
    },
  },
  priohint: {
    kind: 'int',
    hint: '0-1023',
    help: "the job thread's I/O priority hint (ioprio_set)",
    set: (job, value, n) => {
      job.prio.priohint = parseIntIn(value, n, 0, 1023);
      job.prio.jobSet = true;
    },
  },
  cmdprio_percentage: {
    kind: 'str',
    hint: 'PCT[,PCT]',
    dflt: '0',
    help: 'share of ops (read,write) sent with the cmdprio_class/cmdprio priority (io_uring, libaio)',
    set: (job, value, n) => {
      job.prio.cmdPercentage = parsePair(value, 0, 100, (w) => bad(n, w));
    },
  },
  cmdprio_class: {
    kind: 'str',
    hint: 'N[,N]',
    dflt: '1',
    help: 'class of the per-op priority: 1 RT, 2 BE, 3 IDLE',
    set: (job, value, n) => {
      job.prio.cmdClass = parsePair(value, 1, 3, (w) => bad(n, w));
    },
  },
  cmdprio: {
    kind: 'str',
    hint: 'N[,N]',
    dflt: '0',
    help: 'level of the per-op priority',
    set: (job, value, n) => {
      job.prio.cmdLevel = parsePair(value, 0, 7, (w) => bad(n, w));
    },
  },
  cmdprio_hint: {
    kind: 'str',
    hint: 'N[,N]',
    dflt: '0',
    help: 'hint of the per-op priority',
    set: (job, value, n) => {
      job.prio.cmdHint = parsePair(value, 0, 1023, (w) => bad(n, w));
    },
  },
  cmdprio_bssplit: {
    kind: 'str',
    hint: 'BS/PCT[/CLASS/LEVEL[/HINT]]:...[,...]',
    help: 'per-op priority by block size (read,write)',
    set: (job, value, n) => {
      job.prio.cmdBssplit = parseCmdBssplit(value, (s) => parseSize(s, n), (w) => bad(n, w));
    },
  },
  zonemode: {
    kind: 'choice',
    hint: 'none|strided',
    dflt: 'none',
    help: 'strided: zonesize bytes of I/O per zonerange, then skip zoneskip',
    set: (job, value, n) => {
      if (value !== 'none' && value !== 'strided') throw bad(n, `must be none or strided (got ${value}${value === 'zbd' ? ': zoned block devices are not supported' : ''})`);
      job.zone.mode = value;
    },
  },
  zonesize: {
    kind: 'size',
    hint: 'SIZE',
    dflt: '0',
    help: 'bytes of I/O in each zone (zonemode=strided)',
    set: (job, value, n) => {
      job.zone.size = parseSize(value, n, true);
    },
  },
  zonerange: {
    kind: 'size',
    hint: 'SIZE',
    dflt: '0',
    help: "a zone's extent (0: zonesize)",
    set: (job, value, n) => {
      job.zone.range = parseSize(value, n, true);
    },
  },
  zoneskip: {
    kind: 'size',
    hint: 'SIZE',
    dflt: '0',
    help: 'bytes skipped after each zone',
    set: (job, value, n) => {
      job.zone.skip = parseSize(value, n, true);
    },
  },
  'status-interval': {
    kind: 'time',
    program: true,
    hint: 'TIME',
    help: 'print the full report every TIME while the jobs run, in every --output-format',
  },
  minimal: {
    kind: 'set',
    program: true,
    hint: '',
    help: 'the terse output (--output-format=terse)',
  },
  'terse-version': {
    kind: 'int',
    program: true,
    hint: '3',
    dflt: '3',
    help: 'terse output version (3 only)',
  },
};

/** A usage problem: the command prints it as one line and exits 2. */
function bad(name: string, why: string): Error {
  return invalidArgValue(name, why);
}

/** 4k, 1m, 1g, 512, 4KiB (fio's units: powers of 1024). */
export function parseSize(text: string, name: string, allowZero = false): number {
  const m = /^(\d+(?:\.\d+)?)\s*(?:([kmgtp])(?:i?b)?|b)?$/i.exec(text.trim());
  if (!m) throw bad(name, `must be a size like 4k, 1m or 1g (got ${JSON.stringify(text)})`);
  const unit = m[2] ? 1024 ** ('kmgtp'.indexOf(m[2].toLowerCase()) + 1) : 1;
  const v = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(v) || v < 0 || (v === 0 && !allowZero)) throw bad(name, `must be a positive size (got ${text})`);
  return v;
}

/** Seconds (fio's default unit), with us, ms, s, m, h, d suffixes. */
export function parseTime(text: string, name: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(us|usec|ms|msec|s|sec|m|min|h|d)?$/i.exec(text.trim());
  if (!m) throw bad(name, `must be a time like 10, 10s, 500ms or 2m (got ${JSON.stringify(text)})`);
  const scale: Record<string, number> = { us: 1e-6, usec: 1e-6, ms: 1e-3, msec: 1e-3, s: 1, sec: 1, m: 60, min: 60, h: 3600, d: 86400 };
  return Number(m[1]) * (m[2] ? scale[m[2].toLowerCase()] : 1);
}

function parseIntIn(text: string, name: string, min: number, max: number): number {
  const v = /^-?\d+$/.test(text.trim()) ? Number(text) : /^0x[0-9a-f]+$/i.test(text.trim()) ? Number(text) : NaN;
  if (!Number.isSafeInteger(v) || v < min || v > max) throw bad(name, `must be an integer from ${min} to ${max} (got ${text})`);
  return v;
}

function parseBool(text: string, name: string): boolean {
  const t = text.trim().toLowerCase();
  if (t === '1' || t === 'true' || t === 'on' || t === 'yes') return true;
  if (t === '0' || t === 'false' || t === 'off' || t === 'no') return false;
  throw bad(name, `must be 0 or 1 (got ${text})`);
}

/** "4k" (all directions) or "4k,8k[,16k]" (read, write, trim; an empty field keeps the default). */
function parsePerDir<T>(text: string, name: string, one: (s: string) => T, dflt: T): [T, T, T] {
  const parts = text.split(',');
  if (parts.length > 3) throw bad(name, `takes at most 3 comma-separated values (read,write,trim), got ${text}`);
  if (parts.length === 1) {
    const v = one(parts[0]);
    return [v, v, v];
  }
  const out: [T, T, T] = [dflt, dflt, dflt];
  parts.forEach((p, i) => {
    if (p.trim() !== '') out[i] = one(p);
  });
  if (parts.length === 2) out[2] = out[1];
  return out;
}

/** "4k/10:64k/50:32k/" — the percents add to 100; empty ones share what is left. */
function parseSplit(text: string, name: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  const open: number[] = [];
  let sum = 0;
  for (const item of text.split(':')) {
    const [s, p] = item.split('/');
    const size = parseSize(s, name);
    if (p === undefined || p.trim() === '') {
      open.push(out.length);
      out.push([size, 0]);
      continue;
    }
    const pct = Number(p);
    if (!(pct >= 0 && pct <= 100)) throw bad(name, `percent must be 0-100 (got ${p} in ${text})`);
    sum += pct;
    out.push([size, pct]);
  }
  if (sum > 100) throw bad(name, `percents add up to ${sum}, more than 100`);
  for (const i of open) out[i][1] = (100 - sum) / open.length;
  if (!open.length && Math.abs(sum - 100) > 1e-9) throw bad(name, `percents add up to ${sum}, not 100`);
  return out.filter(([, p]) => p > 0);
}

function parseDistribution(text: string): Distribution {
  const [kind, p] = text.split(':');
  const param = p === undefined ? NaN : Number(p);
  const name = '--random_distribution';
  switch (kind) {
    case 'random':
      return { kind, param: 0 };
    case 'zipf':
      if (!(param > 0) || param === 1) throw bad(name, `zipf:θ needs θ > 0 and θ != 1 (got ${text})`);
      return { kind, param };
    case 'pareto':
      if (!(param > 0 && param < 1)) throw bad(name, `pareto:h needs 0 < h < 1 (got ${text})`);
      return { kind, param };
    case 'normal':
      if (!(param > 0 && param <= 100)) throw bad(name, `normal:σ needs 0 < σ <= 100 (percent of the range) (got ${text})`);
      return { kind, param };
    case 'zoned': {
      // fio: zoned:60/10:30/20:10/ — 60% of the accesses to the first 10% of the range, ...;
      // a zone without a range takes what the others leave.
      const body = text.slice(text.indexOf(':') + 1);
      if (body.includes(',')) throw bad(name, `zoned with separate read/write zones is not supported (got ${text})`);
      // As fio checks them: the accesses add up to 100, the ranges to at most 100 (the rest of
      // the range is never touched), and the zones without a range share what is left.
      const zones: Array<[number, number]> = [];
      const open: number[] = [];
      for (const item of body.split(':')) {
        const [a, r] = item.split('/');
        const access = /^\d+$/.test(a.trim()) ? Number(a) : NaN;
        const range = r === undefined || r.trim() === '' ? NaN : /^\d+$/.test(r.trim()) ? Number(r) : -1;
        if (!(access >= 0 && access <= 100) || range < 0 || range > 100) throw bad(name, `zoned takes ACCESS%/RANGE% pairs separated by ':' (got ${text})`);
        if (Number.isNaN(range)) open.push(zones.length);
        zones.push([access, Number.isNaN(range) ? 0 : range]);
      }
      const sum = (i: 0 | 1): number => zones.reduce((t, z) => t + z[i], 0);
      if (sum(0) > 100 || sum(1) > 100) throw bad(name, `zoned: percentages add up to more than 100 (got ${text})`);
      if (sum(0) < 100) throw bad(name, `zoned: the accesses add up to ${sum(0)}, not 100 (got ${text})`);
      const rest = Math.floor((100 - sum(1)) / (open.length || 1));
      for (const i of open) zones[i][1] = rest;
      return { kind, param: 0, zones };
    }
    default:
      throw bad(name, `must be random, zipf:θ, pareto:h, normal:σ or zoned:A/R:... (got ${text})`);
  }
}

/** 0xdeadbeef, a decimal number, or a quoted string ("abc" or 'abc'). */
function parsePattern(text: string): Buffer {
  const t = text.trim();
  const q = /^(["'])(.*)\1$/.exec(t);
  if (q) {
    if (!q[2]) throw bad('--verify_pattern', 'is empty');
    return Buffer.from(q[2]);
  }
  if (/^0x[0-9a-f]+$/i.test(t)) {
    const hex = t.slice(2);
    return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex');
  }
  if (/^\d+$/.test(t)) {
    let n = BigInt(t);
    const bytes: number[] = [];
    do {
      bytes.push(Number(n & 0xffn));
      n >>= 8n;
    } while (n > 0n);
    return Buffer.from(bytes);
  }
  throw bad('--verify_pattern', `must be 0xHEX, a number or a quoted string (got ${text})`);
}

function parsePercentiles(text: string): number[] {
  const list = text.split(':').map((s) => Number(s));
  if (!list.length || list.length > 20 || list.some((p) => !(p > 0 && p <= 100)))
    throw bad('--percentile_list', `must be up to 20 numbers in (0, 100] separated by ':' (got ${text})`);
  return list;
}

function defaults(): BenchJob {
  // Every field typed; the option table's dflt values are applied on top.
  const job: BenchJob = {
    name: '',
    section: '',
    filename: '',
    directory: '',
    rw: 'read',
    rwmixread: 50,
    bs: [4096, 4096, 4096],
    bssplit: [[], [], []],
    size: 0,
    sizePercent: 0,
    offset: 0,
    iodepth: 1,
    // fio's default: each op goes to the kernel as soon as it is ready (0: all of a fill at once)
    batchSubmit: 1,
    batchCompleteMin: 1,
    batchCompleteMax: 0,
    direct: false,
    invalidate: true,
    runtime: 0,
    timeBased: false,
    rampTime: 0,
    numjobs: 1,
    thread: false,
    groupReporting: false,
    ioengine: 'io_uring',
    api: 'batch',
    fixedbufs: false,
    registerfiles: false,
    sqthreadPoll: false,
    hipri: false,
    fsync: 0,
    fdatasync: 0,
    endFsync: false,
    randrepeat: true,
    randseed: 0x89,
    norandommap: false,
    distribution: { kind: 'random', param: 0 },
    verify: '',
    verifyPattern: Buffer.alloc(0),
    doVerify: true,
    verifySet: false,
    verifyInterval: 0,
    verifyOffset: 0,
    verifyBacklog: 0,
    verifyBacklogBatch: 0,
    verifyFatal: false,
    verifyDump: false,
    verifyOnly: false,
    fillDevice: false,
    compressPercentage: 0,
    compressChunk: 512,
    refillBuffers: undefined,
    scrambleBuffers: true,
    zeroBuffers: false,
    bufferPattern: Buffer.alloc(0),
    dedupePercentage: 0,
    dedupeMode: 'repeat',
    dedupeWorkingSetPercentage: 5,
    dedupeGlobal: false,
    numberIos: 0,
    ioSize: 0,
    offsetIncrement: 0,
    loops: 1,
    startDelay: 0,
    blockAlign: 0,
    seqAdd: 0,
    seqNr: 0,
    rwSequencer: 'sequential',
    description: '',
    allowMountedWrite: false,
    stonewall: false,
    newGroup: false,
    unlink: false,
    entries: 0,
    percentileList: DEFAULT_PERCENTILES,
    latPercentiles: false,
    slatPercentiles: false,
    gtodReduce: false,
    disableLat: false,
    disableClat: false,
    disableSlat: false,
    nrfiles: 1,
    fileSizeLow: 0,
    fileSizeHigh: 0,
    openFiles: 0,
    fileService: { kind: 'roundrobin', nr: 1, param: 0 },
    createOnOpen: false,
    fallocate: 'native',
    filenameFormat: '$jobname.$jobnum.$filenum',
    statType: 'stat',
    fileOpCalls: 'io_uring',
    given: {},
    cpuload: 0,
    cpuchunks: 50000,
    cpumode: 'noop',
    program: '',
    arguments: '',
    graceTime: 1,
    stdRedirect: true,
    pace: defaultPace(),
    control: defaultControl(),
    steadystate: defaultSteady(),
    randomGenerator: 'tausworthe',
    logs: defaultLogOptions(),
    prio: defaultPrioOptions(),
    zone: defaultZoneOptions(),
  };
  // fio's defaults come from the option table, through each option's own parser.
  for (const [key, def] of Object.entries(OPTS)) if (def.dflt !== undefined && def.set) def.set(job, def.dflt, `--${key}`);
  return job;
}

/** Canonical option name (aliases resolved), or throws for an unknown one. */
function canonical(key: string, where: string): string {
  const def = OPTS[key];
  if (!def) {
    if (TRIM_RW.includes(key)) throw bad(`--${key}`, 'is not an option');
    throw bad(`--${key}`, `is not a known option${where}; see kaio bench --help`);
  }
  return def.alias ?? key;
}

/** Applies one option (already canonical) to a job, through its table entry. */
function apply(job: BenchJob, key: string, value: string): void {
  const n = `--${key}`;
  const def = OPTS[key];
  if (def.kind !== 'set' && def.kind !== 'bool' && value === '' && !def.optional) throw bad(n, 'needs a value');
  if (!def.set) throw bad(n, 'is not a job option');
  def.set(job, value, n);
}

/** Engines that do one op at a time on the job's thread (fio's synchronous engines). */
export const SYNC_ENGINES: readonly Engine[] = ['psync', 'sync', 'fs-sync', 'falloc', 'ftruncate', 'filecreate', 'filestat', 'filedelete', 'dircreate', 'dirstat', 'dirdelete', 'cpuio', 'exec'];

/** Engines without a file (fio's FIO_DISKLESSIO): null, and cpuio and exec, which do no I/O at all. */
export const DISKLESS_ENGINES: readonly Engine[] = ['null', 'cpuio', 'exec'];

/** verify's and the buffer options' checks, as fio's fixup_options makes them. */
function finishVerify(job: BenchJob): void {
  // verify_pattern alone: fio's VERIFY_PATTERN (a header, then the pattern).
  if (job.verifyPattern.length && !job.verify) job.verify = 'meta';
  if (job.verify === 'pattern' && !job.verifyPattern.length) throw bad('--verify', 'pattern needs --verify_pattern');
  if (job.compressPercentage === 100) {
    // fio: 100% compressible is zeros.
    job.zeroBuffers = true;
    job.compressPercentage = 0;
  }
  if (!job.verify || job.rw === 'nop') return;
  if (job.nrfiles > 1 || job.filename.includes(':')) throw bad('--verify', 'with several files per job (nrfiles, a filename list) is not supported');
  const ws = job.bssplit[1].length ? job.bssplit[1].map(([s]) => s) : [job.bs[1]];
  const rs = job.bssplit[0].length ? job.bssplit[0].map(([s]) => s) : [job.bs[0]];
  const minW = Math.min(...ws);
  // fio: the interval is at most the smallest write (or read, for a reading job) and divides every write size.
  let iv = job.verifyInterval || minW;
  if (iv > minW) iv = minW;
  else if ((job.rw === 'read' || job.rw === 'randread' || job.rw === 'rw' || job.rw === 'randrw') && iv > Math.min(...rs)) iv = Math.min(...rs);
  const gcd = (a: number, b: number): number => (b ? gcd(b, a % b) : a);
  if (ws.some((w) => w % iv !== 0)) iv = ws.reduce(gcd);
  job.verifyInterval = iv;
  const hdr = headerSize(job.verify);
  if (hdr && iv <= hdr) throw bad('--verify', `${job.verify} needs intervals larger than its ${hdr}-byte header (verify_interval/bs ${iv})`);
  if (job.verifyOffset && job.verifyOffset + hdr > iv) throw bad('--verify_offset', `${job.verifyOffset} + the ${hdr}-byte header does not fit in the ${iv}-byte interval`);
}

/** Checks a job as a whole: what an engine cannot do is an error, never silently changed. */
function finish(job: BenchJob, notes: string[] = []): BenchJob {
  const e = job.ioengine;
  if (e === 'sync' && !notes.some((n) => n.startsWith('ioengine=sync'))) {
    // Node has no lseek(2): the same one-at-a-time ops at the same offsets, by offset.
    notes.push('ioengine=sync: each op is a pread/pwrite here (Node has no lseek); fio\'s sync engine seeks and reads/writes');
  }
  if (SYNC_ENGINES.includes(e) && job.iodepth > 1) {
    // fio caps a synchronous engine's depth and says so.
    if (!notes.some((n) => n.startsWith('both') && n.includes(` engine ${e} `))) notes.push(`both iodepth >= 1 and synchronous I/O engine ${e} are selected, queue depth will be capped at 1`);
    job.iodepth = 1;
  }
  if (e === 'null') {
    // fio's null engine: no file, each op completes at once, whole.
    if (job.rw === 'nop') throw bad('--rw', 'nop needs --ioengine=io_uring');
    if (!job.size) throw bad('--size', 'is needed with --ioengine=null (it has no file to take a size from)');
    if (job.verify) throw bad('--verify', 'cannot check data with --ioengine=null (nothing is read or written)');
    if (job.fsync || job.fdatasync || job.endFsync) throw bad('--fsync', 'has nothing to sync with --ioengine=null');
  }
  if (e === 'cpuio' || e === 'exec') {
    // No I/O: only the runtime ends them (fio's cpuio and exec run until it).
    if (!job.runtime) throw bad('--runtime', `is needed with --ioengine=${e} (it does no I/O; the runtime ends it)`);
    job.timeBased = true;
    if (job.rw === 'nop') throw bad('--rw', 'nop needs --ioengine=io_uring');
    if (job.verify) throw bad('--verify', `cannot check data with --ioengine=${e} (nothing is read or written)`);
    if (job.fsync || job.fdatasync || job.endFsync) throw bad('--fsync', `has nothing to sync with --ioengine=${e}`);
    // fio: "cpu thread needs rate (cpuload=)"; above 100 is 100.
    if (e === 'cpuio' && !job.cpuload) throw bad('--cpuload', 'is needed with --ioengine=cpuio (a percentage of a CPU, 1 to 100)');
    if (job.cpuload > 100) job.cpuload = 100;
    if (e === 'exec' && !job.program) throw bad('--program', 'is needed with --ioengine=exec');
  }
  if (job.cpuload && e !== 'cpuio') throw bad('--cpuload', `applies to --ioengine=cpuio only (got ${e})`);
  if ((job.program || job.arguments) && e !== 'exec') throw bad(job.program ? '--program' : '--arguments', `applies to --ioengine=exec only (got ${e})`);
  checkFileJob(job);
  const kaioRing = e === 'io_uring';
  const nop = job.rw === 'nop';
  if (nop && !kaioRing) throw bad('--rw', 'nop needs --ioengine=io_uring');
  if (job.api === 'promise' && !kaioRing) throw bad('--api', `promise applies to --ioengine=io_uring only (got ${e})`);
  if (job.fixedbufs && !kaioRing) throw bad('--fixedbufs', `needs --ioengine=io_uring (${e} has no registered buffers)`);
  if (job.registerfiles && !kaioRing) throw bad('--registerfiles', `needs --ioengine=io_uring (got ${e})`);
  if (job.sqthreadPoll && !kaioRing) throw bad('--sqthread_poll', `needs --ioengine=io_uring (got ${e})`);
  if (job.hipri && !(kaioRing || e === 'pvsync2')) throw bad('--hipri', `needs --ioengine=io_uring or pvsync2 (got ${e})`);
  if (job.hipri && !job.direct) throw bad('--hipri', 'needs --direct=1 (polled I/O is O_DIRECT only)');
  if (job.fixedbufs && job.api === 'promise' && kaioRing) {
    // The promise API picks *_FIXED by itself when a buffer is in a registered pool: fine.
  }
  const sizes = [...job.bs, ...job.bssplit.flat().map(([s]) => s)];
  if (job.direct && sizes.some((s) => s % 512 !== 0)) throw bad('--bs', 'must be a multiple of 512 with --direct=1');
  if (job.direct && job.offset % 512 !== 0) throw bad('--offset', 'must be a multiple of 512 with --direct=1');
  if (job.direct && job.offsetIncrement % 512 !== 0) throw bad('--offset_increment', 'must be a multiple of 512 with --direct=1');
  finishVerify(job);
  if (job.timeBased && !job.runtime) throw bad('--time_based', 'needs --runtime');
  if (job.direct && job.blockAlign % 512 !== 0) throw bad('--blockalign', 'must be a multiple of 512 with --direct=1');
  if (job.verify && (job.seqAdd || job.seqNr)) throw bad('--rw', `an offset suffix with --verify is not supported (blocks would be written over out of order)`);
  if (job.verify && job.blockAlign) throw bad('--blockalign', 'with --verify is not supported (verify aligns random ops to the largest block)');
  if (job.rampTime && job.timeBased && job.rampTime >= job.runtime + job.rampTime) throw bad('--ramp_time', 'leaves no runtime');
  if (job.size && job.size < Math.max(...job.bs)) throw bad('--size', 'must be at least --bs');
  checkLogsPrioZones(job);
  if (job.batchCompleteMin > job.iodepth) job.batchCompleteMin = job.iodepth;
  if (job.batchSubmit > job.iodepth || job.batchSubmit === 0) job.batchSubmit = job.iodepth;
  checkPace(job.pace, job.bs, [0, 1, 2].map((d) => (job.bssplit[d].length ? Math.min(...job.bssplit[d].map(([s]) => s)) : 0)) as [number, number, number]);
  checkSteady(job.steadystate);
  return job;
}

/** What the logs, priorities and zones need of the rest of the job. */
function checkLogsPrioZones(job: BenchJob): void {
  const p = job.prio;
  if (p.cmdBssplit && (p.cmdPercentage[0] || p.cmdPercentage[1])) throw bad('--cmdprio_bssplit', 'and --cmdprio_percentage cannot be used together (as in fio)');
  if (cmdprioOn(p) && !(job.ioengine === 'libaio' || (job.ioengine === 'io_uring' && job.api === 'batch' && job.rw !== 'nop')))
    throw bad('--cmdprio_percentage', `per-op priorities need --ioengine=libaio or io_uring with the batch API (got ${job.ioengine}${job.ioengine === 'io_uring' ? `, --api=${job.api}` : ''})`);
  if (job.zone.mode === 'strided') {
    if (!job.zone.size) throw bad('--zonesize', 'is needed with --zonemode=strided');
    if (job.direct && (job.zone.size % 512 || job.zone.range % 512 || job.zone.skip % 512)) throw bad('--zonesize', 'zonesize, zonerange and zoneskip must be multiples of 512 with --direct=1');
    if (job.verify) throw bad('--zonemode', 'strided with --verify is not supported');
  }
  if (job.logs.hist !== undefined && !job.logs.histMsec) throw bad('--write_hist_log', 'needs --log_hist_msec (the window of each line)');
}

function normalize(argv: readonly string[]): string[] {
  // util.parseArgs takes every option as a string; options fio allows without
  // a value (set and bool options) get "=1", and "--opt 0|1" is joined.
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const m = /^--([A-Za-z0-9_-]+)$/.exec(a);
    const def = m ? OPTS[m[1]] : undefined;
    if (m && def && (def.kind === 'set' || def.kind === 'bool')) {
      const next = argv[i + 1];
      if (next !== undefined && /^(0|1|true|false|on|off|yes|no)$/i.test(next)) {
        out.push(`${a}=${next}`);
        i++;
      } else out.push(`${a}=1`);
    } else out.push(a);
  }
  return out;
}

interface Section {
  name: string;
  /** key, value as written ('' when none), file:line. */
  opts: Array<[string, string, string]>;
}

/**
 * A job-file line as fio's parser reads it: everything from the first ';' or
 * '#' on is a comment (after a value too: "bs=8k ; small"), and blanks around
 * what is left are dropped.
 */
export function stripComment(line: string): string {
  const cut = line.search(/[;#]/);
  return (cut < 0 ? line : line.slice(0, cut)).trim();
}

/** What is wrong with a command line or job files, gathered so that one message names all of it. */
class Problems {
  readonly unknown: string[] = [];
  readonly other: string[] = [];
  add(e: unknown, prefix = ''): void {
    this.other.push(`${prefix}${e instanceof Error ? e.message : String(e)}`);
  }
  throwIfAny(): void {
    const parts: string[] = [];
    if (this.unknown.length)
      parts.push(`${this.unknown.length === 1 ? 'an option' : `${this.unknown.length} options`} kaio bench does not support: ${this.unknown.join(', ')}`);
    parts.push(...this.other);
    if (parts.length) throw stateError('ERR_INVALID_ARG_VALUE', parts.join('; '));
  }
}

/**
 * A fio job file: [section]s of key=value lines, ; and # comments (whole
 * lines or after a value), include FILE inside a section. As in fio, an
 * option before the first section is refused, and an included file adds
 * lines to the section it is included from (it cannot start sections).
 * Options kaio bench does not know are gathered in `problems`, all of them.
 */
export function parseJobFile(text: string, file: string, readFile: (p: string) => string, problems = new Problems(), depth = 0, into?: Section): Section[] {
  if (depth > 8) throw bad('include', `nesting too deep at ${file}`);
  const sections: Section[] = [];
  let cur = into;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = stripComment(lines[i]);
    if (!line) continue;
    const where = `${file}:${i + 1}`;
    const sec = /^\[([^\]]+)\]$/.exec(line);
    if (sec) {
      if (into) throw bad('include', `${where}: an included file cannot start a section (${line}), as in fio`);
      cur = { name: sec[1].trim(), opts: [] };
      sections.push(cur);
      continue;
    }
    if (!cur) throw bad('job file', `${where}: option ${JSON.stringify(line)} outside of a [] job section`);
    const inc = /^include\s+(.+)$/.exec(line);
    if (inc) {
      // fio: the name as given if it exists, else relative to the including file.
      const name = inc[1].trim();
      const { dirname, resolve } = require('node:path') as typeof import('node:path');
      let sub: string | undefined;
      let p = name;
      try {
        sub = readFile(p);
      } catch {
        p = resolve(dirname(file), name);
        try {
          sub = readFile(p);
        } catch (e) {
          throw bad('include', `${where}: cannot read ${name}: ${(e as NodeJS.ErrnoException).code ?? e}`);
        }
      }
      parseJobFile(sub, p, readFile, problems, depth + 1, cur);
      continue;
    }
    const kv = /^([A-Za-z0-9_-]+)\s*(?:=\s*(.*))?$/.exec(line);
    if (!kv) throw bad('job file', `${where}: cannot parse ${JSON.stringify(line)}`);
    const key = kv[1];
    if (!OPTS[key]) {
      problems.unknown.push(`${key} (${where})`);
      continue;
    }
    if (OPTS[key].program) {
      problems.other.push(`${where}: ${key} is a command-line option, not a job option`);
      continue;
    }
    cur.opts.push([key, (kv[2] ?? '').trim(), where]);
  }
  return sections;
}

/** fio's [global] test: any section whose name starts with "global". */
const isGlobal = (name: string): boolean => name.startsWith('global');

/** A set or bool option written without a value means 1. */
const valueOf = (key: string, value: string): string => (value === '' && (OPTS[key].kind === 'set' || OPTS[key].kind === 'bool') ? '1' : value);

/**
 * The whole command line: program options, then jobs. As in fio:
 *  - options before the first --name are defaults for every job, and so are
 *    a job file's [global] sections, for the sections after them (in that
 *    file and the files after it); a job's own options override both, so a
 *    job file's options override the command line's;
 *  - each --name starts a job; those jobs come before the files' jobs;
 *  - a file's section name names the job and its files; name= changes only
 *    the name reported;
 *  - the first job of each job file after the first waits for the jobs
 *    before it (a stonewall), and --section=NAME runs only the named sections.
 * Every option kaio bench does not support is named in one error.
 */
export function parseCommandLine(argv: readonly string[], readFile: (p: string) => string): Program {
  const options: Record<string, { type: 'string'; multiple: true }> = {};
  for (const k of Object.keys(OPTS)) options[k] = { type: 'string', multiple: true };
  const unknownArgs = argv.map((a) => /^--([^=]+)/.exec(a)?.[1]).filter((k): k is string => k !== undefined && !OPTS[k]);
  if (unknownArgs.length > 1) throw bad(unknownArgs.map((k) => `--${k}`).join(', '), 'are not known options; see kaio bench --help');
  let tokens;
  try {
    ({ tokens } = nodeParseArgs({ args: normalize(argv), options, strict: true, allowPositionals: true, tokens: true }));
  } catch (e) {
    const err = e as Error & { code?: string };
    const m = /Unknown option '(-[^']+)'/.exec(err.message);
    if (m) throw bad(m[1], 'is not a known option; see kaio bench --help');
    throw Object.assign(new Error(err.message.replace(/\s*\n\s*/g, ' ')), { code: err.code ?? 'ERR_INVALID_ARG_VALUE' });
  }
  const program: Program = {
    format: 'normal',
    formats: ['normal'],
    output: '',
    eta: 'auto',
    plot: '',
    jobs: [],
    defaulted: false,
    globalOptions: {},
    showcmd: '',
    parseOnly: false,
    notes: [],
    statusInterval: 0,
  };
  const global: Array<[string, string]> = [];
  const cmdJobs: Array<{ name: string; opts: Array<[string, string]> }> = [];
  const shown: string[] = [];
  const wanted: string[] = [];
  let readonly = false;
  let showcmd = false;
  const files: string[] = [];
  for (const t of tokens ?? []) {
    if (t.kind === 'positional') {
      files.push(t.value);
      continue;
    }
    if (t.kind !== 'option') continue;
    const value = t.value ?? '';
    const def = OPTS[t.name];
    if (def.program) {
      if (t.name === 'output-format') {
        const list = value.split(',');
        for (const f of list) if (f !== 'normal' && f !== 'json' && f !== 'json+' && f !== 'terse') throw bad('--output-format', `must be normal, json, json+ or terse, or several of them separated by commas (got ${value})`);
        program.formats = [...new Set(list as OutputFormat[])];
        program.format = program.formats[0];
      } else if (t.name === 'status-interval') {
        program.statusInterval = parseTime(value, '--status-interval');
        if (!(program.statusInterval > 0)) throw bad('--status-interval', `must be a time above 0 (got ${value})`);
      } else if (t.name === 'minimal') {
        // fio's --minimal: the terse output, alone.
        if (parseBool(value || '1', '--minimal')) {
          program.formats = ['terse'];
          program.format = 'terse';
        }
      } else if (t.name === 'terse-version') {
        if (value.trim() !== '3') throw bad('--terse-version', `only version 3 is supported (got ${value})`);
      } else if (t.name === 'output') {
        if (!value) throw bad('--output', 'needs a file name');
        program.output = value;
      } else if (t.name === 'readonly') {
        readonly = parseBool(value || '1', '--readonly');
      } else if (t.name === 'showcmd') {
        showcmd = parseBool(value || '1', '--showcmd');
      } else if (t.name === 'parse-only') {
        program.parseOnly = parseBool(value || '1', '--parse-only');
      } else if (t.name === 'section') {
        if (!value) throw bad('--section', 'needs a section name');
        wanted.push(value);
      } else if (t.name === 'plot') {
        if (!value.endsWith('.svg')) throw bad('--plot', `needs a file name ending in .svg (got ${JSON.stringify(value)})`);
        program.plot = value;
      } else if (t.name === 'eta') {
        if (value !== 'auto' && value !== 'always' && value !== 'never') throw bad('--eta', `must be auto, always or never (got ${value})`);
        program.eta = value;
      }
      continue;
    }
    const key = canonical(t.name, '');
    shown.push(`--${t.name}=${value}`);
    if (key === 'name') cmdJobs.push({ name: value, opts: [] });
    const target = cmdJobs.length ? cmdJobs[cmdJobs.length - 1].opts : global;
    if (key !== 'name') target.push([key, value]);
  }

  const problems = new Problems();
  /** A job from option layers, later ones winning; "job options" shows layers from `shown` on. */
  const build = (section: string, layers: Array<Array<[string, string]>>, shownFrom: number, prefix: string): BenchJob | undefined => {
    const job = defaults();
    job.name = section;
    job.section = section;
    let ok = true;
    layers.forEach((layer, i) => {
      for (const [rawKey, value] of layer) {
        try {
          const key = canonical(rawKey, '');
          apply(job, key, valueOf(rawKey, value));
        } catch (e) {
          ok = false;
          problems.add(e, `${prefix}${rawKey}=${value}: `);
        }
        // fio's "job options" leave out options written without a value (stonewall, group_reporting).
        if (i >= shownFrom && value !== '') job.given[rawKey] = value;
      }
    });
    if (!ok) return undefined;
    try {
      return finish(job, program.notes);
    } catch (e) {
      problems.add(e, prefix);
      return undefined;
    }
  };

  for (const j of cmdJobs) {
    const job = build(j.name, [[['name', j.name]], global, j.opts], 0, '');
    if (job) program.jobs.push(job);
  }
  // fio's def_thread: the command line's globals, then every [global] section met so far.
  let defaultsSoFar: Array<[string, string]> = [...global];
  for (const [k, v] of global) program.globalOptions[k] = valueOf(k, v);
  const cmdline: string[] = ['kaio bench', ...shown];
  files.forEach((file, fileNo) => {
    let text: string;
    try {
      text = readFile(file);
    } catch (e) {
      throw bad('job file', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? e}`);
    }
    const sections = parseJobFile(text, file, readFile, problems);
    let stonewall = fileNo > 0;
    for (const s of sections) {
      const global = isGlobal(s.name);
      if (!global && wanted.length && !wanted.includes(s.name)) continue;
      if (!global) cmdline.push(`--name=${s.name}`);
      for (const [k, v] of s.opts) cmdline.push(v === '' ? `--${k}` : `--${k}=${v}`);
      const own = s.opts.map(([k, v]): [string, string] => [k, v]);
      if (global) {
        defaultsSoFar = [...defaultsSoFar, ...own];
        for (const [k, v] of own) program.globalOptions[k] = valueOf(k, v);
        continue;
      }
      // fio's JSON lists the [global]s under "global options", the section's own under "job options".
      const job = build(s.name, [defaultsSoFar, own], 1, `${file} [${s.name}]: `);
      if (job && stonewall) job.stonewall = true;
      stonewall = false;
      if (job) program.jobs.push(job);
    }
  });
  problems.throwIfAny();
  checkWaitFor(program.jobs);
  if (showcmd) program.showcmd = cmdline.join(' ');
  if (!program.jobs.length) {
    if (files.length) throw bad('job file', `${files.join(', ')} describes no job${wanted.length ? ` named ${wanted.join(', ')}` : ''}`);
    // No --name and no job file: one job from the command line's options
    // (fio would insist on --name; kaio names it and, without --filename,
    // runs it on a temp file it removes afterwards).
    const given = new Set(global.map(([k]) => k));
    const layers: Array<Array<[string, string]>> = [];
    if (!given.size) {
      program.defaulted = true;
      layers.push([
        ['rw', 'randread'],
        ['bs', '4k'],
        ['iodepth', '32'],
        ['direct', '1'],
        ['size', '256m'],
        ['runtime', '5'],
        ['time_based', '1'],
      ]);
    }
    layers.push(global);
    const job = build(given.size ? 'kaio' : 'kaio-default', layers, 0, '');
    problems.throwIfAny();
    if (!job) throw bad('job', 'cannot be built');
    if (!job.filename) program.defaulted = true;
    program.jobs.push(job);
  }
  if (readonly) {
    const w = program.jobs.find((j) => j.rw === 'write' || j.rw === 'randwrite' || TRIM_RW.includes(j.rw) || ((j.rw === 'rw' || j.rw === 'randrw') && j.rwmixread < 100));
    if (w) throw bad('--readonly', `job ${w.name} writes (rw=${w.rw})`);
  }
  return program;
}

/** --help, from the option table: each option with its value's shape, its default and its aliases. */
export const USAGE = ((): string => {
  const aliases = new Map<string, string[]>();
  for (const [k, d] of Object.entries(OPTS)) if (d.alias) aliases.set(d.alias, [...(aliases.get(d.alias) ?? []), k]);
  const line = (k: string, d: OptDef): string => {
    const left = `  --${k}${d.hint ? `=${d.hint}` : ''}`;
    const also = aliases.get(k);
    const right = `${d.help ?? ''}${d.dflt !== undefined ? ` (default ${d.dflt})` : ''}${also ? `; also --${also.join(', --')}` : ''}`;
    return left.length < 34 ? `${left.padEnd(34)}${right}` : `${left}\n${' '.repeat(34)}${right}`;
  };
  const entries = Object.entries(OPTS).filter(([, d]) => !d.alias);
  return [
    'usage: kaio bench [options] [jobfile ...]',
    "  fio's option names, values and units; --opt=value or --opt value.",
    '  With no arguments: a 5 s O_DIRECT 4k random read at iodepth 32 on a 256 MiB temp file (removed after).',
    '',
    'Job options (command line or job file):',
    ...entries.filter(([, d]) => !d.program).map(([k, d]) => line(k, d)),
    '',
    'Command-line options:',
    ...entries.filter(([, d]) => d.program).map(([k, d]) => line(k, d)),
    '  --help --version',
    '',
    '  Job files (INI), read as fio reads them: [global] and [job] sections, include FILE,',
    '  ; and # comments; command-line options before --name are defaults that the',
    "  files' [global] and job sections override.",
  ].join('\n');
})();
