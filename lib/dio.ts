// O_DIRECT alignment: what memory address, file offset and length a file
// needs for direct I/O.
import { types } from 'node:util';
import { binding } from './binding';
import { cPath } from './ring/args';
import { invalidArgType, outOfRange, systemError } from './errors';
import { PAGE_SIZE } from './pool';
import { STATX_DIOALIGN } from './abi';
import { logicalBlockSize } from './procfs';

export interface DioAlignment {
  /** Required alignment of buffer addresses (0: O_DIRECT is not supported on this file). */
  memory: number;
  /** Required alignment of file offsets and lengths (0: O_DIRECT is not supported). */
  offset: number;
  /**
   * Where the numbers come from: 'statx' (STATX_DIOALIGN, Linux 6.1+),
   * 'blockdev' (the device's logical block size), or 'default' (the page
   * size, which satisfies every device when nothing better is known).
   */
  source: 'statx' | 'blockdev' | 'default';
}


/**
 * O_DIRECT alignment of a file, by fd or path: statx(2) STATX_DIOALIGN where
 * the kernel (6.1+) and filesystem report it, else the logical block size of
 * the device the file is on, else the page size.
 */
export function dioAlignment(fdOrPath: number | string | Buffer | URL): DioAlignment {
  let info;
  let path: string | undefined;
  if (typeof fdOrPath === 'number') {
    if (!Number.isInteger(fdOrPath) || fdOrPath < 0 || fdOrPath > 0x7fffffff)
      throw outOfRange('fdOrPath', '>= 0 && <= 2147483647', fdOrPath);
    info = binding.statxDioAlign(fdOrPath);
  } else {
    if (typeof fdOrPath !== 'string' && (types.isProxy(fdOrPath) || !(types.isUint8Array(fdOrPath) || fdOrPath instanceof URL)))
      throw invalidArgType('fdOrPath', 'of type number or string or an instance of Buffer or URL', fdOrPath);
    // A Buffer's bytes as they are (a name that is not UTF-8 is the same file as in node:fs).
    const p = cPath(fdOrPath, 'fdOrPath');
    path = p.shown;
    info = binding.statxDioAlign(-1, p.c);
  }
  if (typeof info === 'number') throw systemError(info, 'statx', path);
  if (info.mask & STATX_DIOALIGN) return { memory: info.memAlign, offset: info.offsetAlign, source: 'statx' };
  const lbs = logicalBlockSize(info.devMajor, info.devMinor);
  if (lbs > 0) return { memory: lbs, offset: lbs, source: 'blockdev' };
  return { memory: PAGE_SIZE, offset: PAGE_SIZE, source: 'default' };
}
