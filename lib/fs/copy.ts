// copyFile of kaio/fs/promises: one native step on libuv's thread pool
// (binding.copyFile, native/core/copy_range.cc), libuv's uv_fs_copyfile
// step for step (open the source, its mode and size, open the destination
// with that mode, O_EXCL for COPYFILE_EXCL; unless exclusive: the same file
// is left alone, an existing one with bytes truncated (not an empty one: on
// ext4 that would make close write back the copy); the mode set with fchmod
// where it differs; an
// ioctl FICLONE where COPYFILE_FICLONE or COPYFILE_FICLONE_FORCE asks; the
// size of the source copied; on any failure the destination is removed).
// The data moves inside the kernel with copy_file_range(2), which io_uring
// has no op for; where it is refused (EXDEV, EINVAL, EOPNOTSUPP, ENOSYS,
// EPERM) sendfile(2), then pread/pwrite, copy the rest. One trip to the
// pool costs less than the eight or more io_uring ops and event-loop turns
// the same steps took on the ring (BENCHMARKS.md, round 7). Every error is
// Node's: "copyfile 'src' -> 'dest'" with code, errno, syscall, path and dest.
import { systemError } from '../errors';
import { binding } from '../binding';

type KernelPath = string | Buffer;

/** The ways copyFileNative's bytes went (native/core/copy_range.h's kMoved*). */
export const MOVED_CLONE = 1;
export const MOVED_COPY_RANGE = 2;
export const MOVED_SENDFILE = 4;
export const MOVED_READ_WRITE = 8;

const bytesOf = (p: KernelPath): Buffer => (typeof p === 'string' ? Buffer.from(p, 'utf8') : p);
const shown = (p: KernelPath): string => (typeof p === 'string' ? p : p.toString());

/**
 * copyFile(src, dest[, mode]) as one native step on libuv's pool (`src`,
 * `dest`: the paths as given, without NUL; mode: Node's COPYFILE_* bits,
 * an integer 0..7). Resolves to the MOVED_* bits of how the data went;
 * rejects with Node's error.
 */
export async function copyFileNative(src: KernelPath, dest: KernelPath, mode: number): Promise<number> {
  const r = await binding.copyFile(bytesOf(src), bytesOf(dest), mode);
  if (r < 0) throw systemError(r, 'copyfile', shown(src), undefined, shown(dest));
  return r;
}
