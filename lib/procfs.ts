// Facts the kernel publishes under /proc and /sys: pinned and locked memory
// of this process, huge pages, the system-wide AIO event limit, a block
// device's logical block size. Reads only; each returns a neutral value
// where the file is missing (no /proc in a sandbox).
import { readFileSync } from 'node:fs';

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'latin1');
  } catch {
    return undefined;
  }
}

/** One Vm* field of /proc/self/status in bytes (VmPin: io_uring/RDMA pins, VmLck: mlock). */
export function vmBytes(key: 'VmPin' | 'VmLck'): number {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(read('/proc/self/status') ?? '');
  return m ? Number(m[1]) * 1024 : 0;
}

/** Bytes this process has locked or pinned now (VmLck + VmPin). */
export function lockedBytes(): number {
  return vmBytes('VmLck') + vmBytes('VmPin');
}

/** Huge pages (from /proc/meminfo): size in bytes, how many exist and are free. */
export function hugePageInfo(): { pageSize: number; total: number; free: number } {
  const info = read('/proc/meminfo') ?? '';
  const num = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(info)?.[1] ?? 0);
  return { pageSize: num('Hugepagesize') * 1024, total: num('HugePages_Total'), free: num('HugePages_Free') };
}

function sysctl(name: string): number | undefined {
  const text = read(`/proc/sys/fs/${name}`);
  return text === undefined ? undefined : Number(text.trim());
}

/** fs.aio-max-nr and fs.aio-nr: the system-wide AIO event limit and its use. */
export function aioLimits(): { maxNr?: number; nr?: number } {
  return { maxNr: sysctl('aio-max-nr'), nr: sysctl('aio-nr') };
}

/** Logical block size of the block device major:minor (a partition's is its disk's), 0 if unknown. */
export function logicalBlockSize(major: number, minor: number): number {
  for (const rel of ['queue/logical_block_size', '../queue/logical_block_size']) {
    const n = Number(read(`/sys/dev/block/${major}:${minor}/${rel}`)?.trim());
    if (Number.isInteger(n) && n > 0) return n;
  }
  return 0;
}
