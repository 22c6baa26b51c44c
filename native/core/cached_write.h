// writeFile's inline path for { inPlace: true } of a small buffer over a
// file that exists: open, write from offset 0, cut to the data's length and
// close in the calling thread, as Bun's writeFile does, but only where the
// open cannot wait for the disk (the path all in the dentry cache) and only
// for a regular file on a filesystem with a block device (ext4, XFS): there
// close calls no ->flush, and nothing but the write itself can wait
// (dirty-page throttling, which the caller watches through `slow`). A file
// opened that is not for this path (not regular, no block device) is handed
// back open, unwritten, for the ring to go on with. Plain C++ that speaks
// -errno.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kaio {

struct CachedWrite {
  // The outcome, with the function's result r:
  //  kNothing: r = -errno, nothing open or written (EAGAIN: the path is not
  //    all in the dentry cache, or the file is not the caller's; ENOENT;
  //    ENXIO: a FIFO without a reader; ENOSYS/EINVAL/EPERM: no openat2 or
  //    RESOLVE_CACHED): the ring's turn, from the open.
  //  kOpened: r = the fd, O_NONBLOCK cleared, nothing written: not a regular
  //    file on a block device; the caller writes and closes it.
  //  kDone: r = 0, the data written whole, the file cut to it, closed.
  //  kFailed: r = -errno of `syscall` ("write", "ftruncate", "close"),
  //    nothing open; the file holds the data's bytes that reached it (cut
  //    there after a failed write).
  enum Outcome { kNothing, kOpened, kDone, kFailed } outcome = kNothing;
  const char* syscall = "";
  // kDone/kFailed: more than kCachedWriteSlowNs of wall-clock time passed
  // from the open's return to the close's, and the thread slept meanwhile
  // (a voluntary context switch: dirty-page throttling, a lock), not only
  // preempted.
  bool slow = false;
};

constexpr uint64_t kCachedWriteSlowNs = 2'000'000;

// openat2(path, accmode | O_NONBLOCK | O_CLOEXEC, RESOLVE_CACHED) (never
// O_CREAT or O_TRUNC; O_NONBLOCK: a FIFO opens or fails with ENXIO rather
// than wait for a reader), statx of the fd (AT_STATX_DONT_SYNC: type, size,
// owner, device); when `euid` >= 0 a file not owned by it is closed (the
// ring applies fs.protected_regular). A regular file on a block-device
// filesystem: pwrite of `data` from offset 0 until all of it is in,
// ftruncate(len) when statx's size was larger, close.
int WriteInPlaceCached(const char* path, int accmode, long euid, const uint8_t* data, size_t len, CachedWrite* out);

}  // namespace kaio
