// Where a `kaio bench` job's I/O goes, checked before any of it starts:
//  - a regular file: laid out with real data when missing or shorter than the job;
//  - a block device: never laid out; its size comes from the device; a write
//    job is refused while the device is mounted or otherwise in use;
//  - anything else (a character device, a FIFO): used as it is.
import * as fs from 'node:fs';
import { dirname, resolve } from 'node:path';

/** A failure of the run (not of its flags): the command prints its message as one line and exits 1. */
export class BenchError extends Error {
  override name = 'BenchError';
}


/** Major and minor numbers of a dev_t as glibc's gnu_dev_major/minor split it. */
export function devNumbers(rdev: bigint): { major: number; minor: number } {
  return {
    major: Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn)),
    minor: Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn)),
  };
}

function sysfsDir(major: number, minor: number): string {
  return `/sys/dev/block/${major}:${minor}`;
}

/** Bytes on the block device, from sysfs (the kernel reports 512-byte sectors whatever the block size). */
export function blockDeviceSize(path: string, major: number, minor: number): number {
  const file = `${sysfsDir(major, minor)}/size`;
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new BenchError(`cannot read the size of block device ${path} from ${file}: ${(e as NodeJS.ErrnoException).code}`);
  }
  const sectors = Number(text.trim());
  if (!Number.isSafeInteger(sectors) || sectors < 0) throw new BenchError(`unexpected size ${JSON.stringify(text.trim())} in ${file}`);
  return sectors * 512;
}

function realpath(p: string): string {
  try {
    return fs.realpathSync(p);
  } catch {
    return p;
  }
}

/** "maj:min" of the device and of each of its partitions. */
function devAndPartitions(major: number, minor: number): string[] {
  const ids = [`${major}:${minor}`];
  const dir = sysfsDir(major, minor);
  let names: string[] = [];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return ids;
  }
  for (const name of names) {
    try {
      if (!fs.existsSync(`${dir}/${name}/partition`)) continue;
      ids.push(fs.readFileSync(`${dir}/${name}/dev`, 'utf8').trim());
    } catch {
      // not a partition
    }
  }
  return ids;
}

/**
 * Why writing to this block device would hit data someone is using, or
 * undefined: a mount of it (or of one of its partitions) in this mount
 * namespace, a holder (device-mapper, md, ...), or an exclusive claim by the
 * kernel or another program (Linux refuses O_EXCL opens of a claimed device
 * with EBUSY; a mounted filesystem or active swap claims its device).
 */
export function blockDeviceInUse(path: string, major: number, minor: number): string | undefined {
  const ids = devAndPartitions(major, minor);
  const real = realpath(path);
  let mountinfo = '';
  try {
    mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    // no procfs: the O_EXCL check below still applies
  }
  for (const line of mountinfo.split('\n')) {
    // id parent maj:min root mountpoint options [optional...] - fstype source superoptions
    const fields = line.split(' ');
    if (fields.length < 5) continue;
    const dash = fields.indexOf('-', 6);
    const source = dash > 0 ? fields[dash + 2] : undefined;
    if (ids.includes(fields[2]) || (source?.startsWith('/dev/') && realpath(source) === real)) {
      const at = fields[4].replace(/\\040/g, ' ');
      return `is mounted on ${at}`;
    }
  }
  for (const id of ids) {
    try {
      const holders = fs.readdirSync(`/sys/dev/block/${id}/holders`);
      if (holders.length) return `is held by ${holders.join(', ')}`;
    } catch {
      // no sysfs entry: nothing known to hold it
    }
  }
  let fd = -1;
  try {
    fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_EXCL);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EBUSY') return 'is in use (claimed by a filesystem, swap or another program)';
    throw e;
  } finally {
    if (fd >= 0) fs.closeSync(fd);
  }
  return undefined;
}

/**
 * An exclusive claim on a block device for a write job's run, held by the
 * main thread so that the device cannot be mounted meanwhile, while the job's
 * instances (numjobs siblings, other jobs of the group) open it as fio's do,
 * without a claim of their own that would refuse the next one. Close the fd
 * when the group ends.
 */
export function claimBlockDevice(path: string): number {
  try {
    return fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_EXCL);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EBUSY')
      throw new BenchError(`refusing to write to ${path}: it is in use (claimed by a filesystem, swap or another program); --allow_mounted_write=1 to write anyway`);
    throw e;
  }
}

/** mkdir -p that reports the first directory it cannot make. */
function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); !fs.existsSync(d); d = dirname(d)) {
    missing.push(d);
    if (dirname(d) === d) break;
  }
  for (const d of missing.reverse()) fs.mkdirSync(d);
}

/**
 * Creates (or extends) a regular file with incompressible, fully allocated
 * data until it holds `size` bytes. Bytes already there are kept. Anything
 * that is not a regular file (a block device above all) is refused, never
 * written.
 */
export function prepareFile(path: string, size: number): void {
  const st = fs.statSync(path, { throwIfNoEntry: false });
  if (st && !st.isFile()) throw new BenchError(`${path} is not a regular file; kaio bench lays data out only into regular files`);
  if (st && st.size >= size) return;
  if (!st) makeDirs(dirname(path));
  const fd = fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_CREAT, 0o644);
  try {
    const now = fs.fstatSync(fd);
    // The path may have changed between the stat above and the open.
    if (!now.isFile()) throw new BenchError(`${path} is not a regular file; kaio bench lays data out only into regular files`);
    let have = now.size;
    if (have >= size) return;
    const chunk = Buffer.allocUnsafe(1 << 20);
    // xorshift fill: cheap and not all zeros (no hole, no compression).
    let x = 0x9e3779b9;
    for (let i = 0; i < chunk.length; i += 4) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      chunk.writeInt32LE(x | 0, i);
    }
    while (have < size) {
      const n = Math.min(chunk.length, size - have);
      have += fs.writeSync(fd, chunk, 0, n, have);
    }
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function mib(bytes: number): string {
  const m = bytes / 1024 ** 2;
  return `${Number.isInteger(m) ? m : m.toFixed(1)} MiB`;
}

export interface Target {
  /** Bytes of the target the job uses. */
  size: number;
  blockDevice: boolean;
  notes: string[];
}

/**
 * Checks the job's target and gets it ready: the job size (--size, else the
 * block device's size, else the existing file's size), data laid out into a
 * regular file, and refusal of writes to a block device in use. As fio does,
 * a job without a size on anything else (a new or empty file, a character
 * device) is refused: "NAME: you need to specify size=".
 */
export function prepareTarget(opts: {
  /** The job's name, for fio's message. */
  job?: string;
  filename: string;
  /** 0: not given. */
  size: number;
  bs: number;
  write: boolean;
  allowMountedWrite: boolean;
}): Target {
  const { filename: path, bs } = opts;
  const st = fs.statSync(path, { bigint: true, throwIfNoEntry: false });
  const noSize = (why: string): BenchError =>
    new BenchError(`${opts.job ? `${opts.job}: ` : ''}you need to specify size= (${path} ${why}), as fio requires`);
  if (!st || st.isFile()) {
    if (!opts.size) throw noSize(st ? 'is empty' : 'does not exist');
    prepareFile(path, opts.size);
    return { size: opts.size, blockDevice: false, notes: [] };
  }
  if (st.isDirectory()) throw new BenchError(`${path} is a directory; --filename needs a file or a block device`);
  if (!st.isBlockDevice()) {
    if (!opts.size) throw noSize('is neither a regular file nor a block device, so has no size of its own');
    return { size: opts.size, blockDevice: false, notes: [] };
  }

  const { major, minor } = devNumbers(st.rdev);
  const devSize = blockDeviceSize(path, major, minor);
  if (opts.size > devSize) throw new BenchError(`--size (${opts.size} bytes) is larger than block device ${path} (${devSize} bytes)`);
  const size = opts.size || devSize;
  if (size < bs) throw new BenchError(`block device ${path} (${devSize} bytes) is smaller than --bs=${bs}`);
  if (opts.write && !opts.allowMountedWrite) {
    const why = blockDeviceInUse(path, major, minor);
    if (why) throw new BenchError(`refusing to write to ${path}: it ${why}; --allow_mounted_write=1 to write anyway`);
  }
  const notes = opts.size ? [] : [`size: ${mib(devSize)} (${devSize} bytes), all of block device ${path}`];
  return { size, blockDevice: true, notes };
}

/**
 * fill_device on a file without size=: the file is created (not laid out)
 * and may grow by all the space its filesystem has free; the job writes
 * until ENOSPC. The size is what is there plus the free space and a block.
 */
export function prepareFillTarget(path: string, bs: number): Target {
  const st = fs.statSync(path, { throwIfNoEntry: false });
  if (st && !st.isFile()) throw new BenchError(`${path} is not a regular file; kaio bench lays data out only into regular files`);
  if (!st) {
    makeDirs(dirname(path));
    fs.closeSync(fs.openSync(path, fs.constants.O_WRONLY | fs.constants.O_CREAT, 0o644));
  }
  const fsst = fs.statfsSync(dirname(resolve(path)));
  const free = fsst.bavail * fsst.bsize;
  // Rounded up, and a block more: the job ends at ENOSPC (a short last write included), not at this size.
  const size = (Math.ceil(((st?.size ?? 0) + free) / bs) + 1) * bs;
  return { size, blockDevice: false, notes: [] };
}
