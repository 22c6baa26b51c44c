// fio-like job options for `kaio bench`: the same flag names and units fio
// takes, so a command line can be moved between the two.
import { invalidArgValue } from '../errors';

export type Rw = 'randread' | 'read' | 'randwrite' | 'write' | 'nop';
export type Api = 'batch' | 'promise' | 'node-promises' | 'node-callback' | 'node-sync';

export interface BenchJob {
  rw: Rw;
  /** Block size in bytes. */
  bs: number;
  iodepth: number;
  direct: boolean;
  /**
   * Bytes of the target to use; 0 when --size is not given: all of a block
   * device, or 1 GiB of a file. A regular file is laid out (with real data)
   * if missing or shorter; a block device or other special file never is.
   */
  size: number;
  /** Seconds; the run stops at whichever of runtime and numberIos comes first. */
  runtime: number;
  /** Ops to issue; 0 for no limit. */
  numberIos: number;
  filename: string;
  fixedbufs: boolean;
  registerfiles: boolean;
  api: Api;
  /** Batch API: completions to wait for per submitAndWait (fio's iodepth_batch_complete_min). */
  batchCompleteMin: number;
  /** Most ops per io_uring_enter (fio's iodepth_batch_submit; Ring's submitBatch). 0: all at once. */
  batchSubmit: number;
  /** Record each op's latency (default: on at iodepth 1). */
  lat: boolean;
  /** Ring SQ size; 0: the smallest power of two >= iodepth (at least 8). */
  entries: number;
  json: boolean;
  /** Write jobs may write to a block device that is mounted or in use (fio's allow_mounted_write). */
  allowMountedWrite: boolean;
}

const RW: readonly Rw[] = ['randread', 'read', 'randwrite', 'write', 'nop'];
const APIS: readonly Api[] = ['batch', 'promise', 'node-promises', 'node-callback', 'node-sync'];

/** 4k, 1m, 1g, 512 (fio units: powers of 1024). */
export function parseSize(text: string, name: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([kmgt]?)i?b?$/i.exec(text.trim());
  if (!m) throw invalidArgValue(name, `must be a size like 4k, 1m or 1g (got ${JSON.stringify(text)})`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[m[2].toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const v = Math.round(Number(m[1]) * unit);
  if (!Number.isSafeInteger(v) || v <= 0) throw invalidArgValue(name, `must be a positive size (got ${text})`);
  return v;
}

/** Seconds; fio's default unit is seconds, "ms"/"m" suffixes accepted. */
export function parseTime(text: string, name: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m)?$/.exec(text.trim());
  if (!m) throw invalidArgValue(name, `must be a time like 10, 10s or 500ms (got ${JSON.stringify(text)})`);
  const v = Number(m[1]) * (m[2] === 'ms' ? 0.001 : m[2] === 'm' ? 60 : 1);
  if (!(v > 0)) throw invalidArgValue(name, `must be > 0 (got ${text})`);
  return v;
}

function parseInt32(text: string, name: string, min: number, max: number): number {
  const v = Number(text);
  if (!Number.isInteger(v) || v < min || v > max) throw invalidArgValue(name, `must be an integer from ${min} to ${max} (got ${text})`);
  return v;
}

function parseBool(text: string | undefined, name: string): boolean {
  if (text === undefined || text === '1' || text === 'true') return true;
  if (text === '0' || text === 'false') return false;
  throw invalidArgValue(name, `must be 0 or 1 (got ${text})`);
}

export const USAGE = `usage: kaio bench [--rw=randread|read|randwrite|write|nop] [--bs=4k] [--iodepth=32]
                  [--direct=0|1] [--size=1g] [--runtime=5] [--number_ios=N]
                  [--filename=PATH] [--fixedbufs] [--registerfiles]
                  [--api=batch|promise|node-promises|node-callback|node-sync]
                  [--iodepth_batch_submit=0] [--iodepth_batch_complete_min=1]
                  [--lat] [--entries=N] [--allow_mounted_write=0|1]
                  [--output-format=normal|json]`;

export function parseArgs(argv: readonly string[]): BenchJob {
  const job: BenchJob = {
    rw: 'randread',
    bs: 4096,
    iodepth: 32,
    direct: false,
    size: 0,
    runtime: 5,
    numberIos: 0,
    filename: '',
    fixedbufs: false,
    registerfiles: false,
    api: 'batch',
    batchCompleteMin: 1,
    batchSubmit: 0,
    lat: false,
    entries: 0,
    json: false,
    allowMountedWrite: false,
  };
  let lat: boolean | undefined;
  for (const arg of argv) {
    const m = /^--([a-z_-]+)(?:=(.*))?$/.exec(arg);
    if (!m) throw invalidArgValue('argument', `${JSON.stringify(arg)} is not a --flag[=value]\n${USAGE}`);
    const [, key, value] = m;
    const need = (): string => {
      if (value === undefined || value === '') throw invalidArgValue(`--${key}`, 'needs a value');
      return value;
    };
    switch (key) {
      case 'rw':
      case 'readwrite':
        if (!RW.includes(need() as Rw)) throw invalidArgValue('--rw', `must be one of ${RW.join(', ')}`);
        job.rw = value as Rw;
        break;
      case 'bs':
        job.bs = parseSize(need(), '--bs');
        break;
      case 'iodepth':
        job.iodepth = parseInt32(need(), '--iodepth', 1, 32768);
        break;
      case 'direct':
        job.direct = parseBool(value, '--direct');
        break;
      case 'size':
        job.size = parseSize(need(), '--size');
        break;
      case 'runtime':
        job.runtime = parseTime(need(), '--runtime');
        break;
      case 'number_ios':
        job.numberIos = parseInt32(need(), '--number_ios', 1, Number.MAX_SAFE_INTEGER);
        break;
      case 'filename':
        job.filename = need();
        break;
      case 'fixedbufs':
        job.fixedbufs = parseBool(value, '--fixedbufs');
        break;
      case 'registerfiles':
        job.registerfiles = parseBool(value, '--registerfiles');
        break;
      case 'api':
        if (!APIS.includes(need() as Api)) throw invalidArgValue('--api', `must be one of ${APIS.join(', ')}`);
        job.api = value as Api;
        break;
      case 'iodepth_batch_complete_min':
        job.batchCompleteMin = parseInt32(need(), '--iodepth_batch_complete_min', 0, 32768);
        break;
      case 'iodepth_batch_submit':
      case 'iodepth_batch':
        job.batchSubmit = parseInt32(need(), '--iodepth_batch_submit', 0, 32768);
        break;
      case 'lat':
        lat = parseBool(value, '--lat');
        break;
      case 'entries':
        job.entries = parseInt32(need(), '--entries', 1, 32768);
        break;
      case 'output-format':
        if (value !== 'json' && value !== 'normal') throw invalidArgValue('--output-format', 'must be normal or json');
        job.json = value === 'json';
        break;
      case 'allow_mounted_write':
        job.allowMountedWrite = parseBool(value, '--allow_mounted_write');
        break;
      case 'ioengine':
      case 'name':
        break; // accepted for fio command-line compatibility
      default:
        throw invalidArgValue(`--${key}`, `is not a known flag\n${USAGE}`);
    }
  }
  if (job.rw !== 'nop' && !job.filename) throw invalidArgValue('--filename', `is required for --rw=${job.rw}`);
  if (job.direct && (job.bs % 512 !== 0)) throw invalidArgValue('--bs', 'must be a multiple of 512 with --direct=1');
  if (job.rw === 'nop' && job.api.startsWith('node')) throw invalidArgValue('--rw', 'is nop, which needs --api=batch or --api=promise');
  if (job.rw !== 'nop' && job.size && job.size < job.bs) throw invalidArgValue('--size', 'must be at least --bs');
  if (job.batchCompleteMin > job.iodepth) job.batchCompleteMin = job.iodepth;
  job.lat = lat ?? job.iodepth === 1;
  return job;
}
