// readFile's first try for a small file: open it and read it in the calling
// thread, but only the steps that cannot wait for the disk, the same steps
// io_uring takes inline in io_uring_enter before it would hand an op to an
// io-wq worker. Anything that would wait says so (EAGAIN, a short read) and
// the caller goes to the ring. Plain C++ that speaks -errno.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kaio {

struct CachedFile {
  int fd;
  bool regular;      // S_ISREG
  bool block_fs;     // on a filesystem with a block device (stx_dev_major != 0)
  uint64_t size;     // stx_size (attributes as cached: AT_STATX_DONT_SYNC)
};

// openat2(path, O_PATH | O_CLOEXEC, RESOLVE_CACHED) (Linux 5.12), statx of
// that fd with AT_STATX_DONT_SYNC, and only for a regular file an open for
// reading of that same inode (through /proc/self/fd, so a rename in between
// cannot swap in another file): 0 with out filled (out->fd open, out->regular
// true), or -errno with nothing open (EAGAIN: the path is not all in the
// dentry cache, or it is not a regular file; ENOSYS/EINVAL: the kernel has no
// openat2/RESOLVE_CACHED, or there is no /proc). Nothing but a regular file
// is ever opened here: opening a FIFO or a device has effects of its own (a
// FIFO's writer waiting in open() is let go; a FIFO opened without waiting
// for a writer reads as empty), which are the ring's open's to have, as
// Node's. The fd is O_NONBLOCK; ClearNonblock before anything else reads it.
int OpenCached(const char* path, CachedFile* out);

// Reads the `size` bytes statx gave into buf with preadv2(RWF_NOWAIT): 1
// when all of them came back (what node:fs's read after its fstat returns),
// 0 when not (not all in the page cache, shorter, RWF_NOWAIT unsupported),
// -errno for any other failure.
int ReadCachedWhole(int fd, uint8_t* buf, uint64_t size);

// Clears O_NONBLOCK on the fd (io_uring would fail reads with EAGAIN on an
// O_NONBLOCK fd instead of waiting): 0 or -errno.
int ClearNonblock(int fd);

// A stream's read of a chunk that is in the page cache, in the calling
// thread: preadv2(fd, [buf, len], offset, RWF_NOWAIT), offset -1 reading at
// the file position (and moving it, as read(2)). Bytes read (0: end of
// file; fewer than len: the end of the file or of what is cached), or
// -errno (EAGAIN: nothing of it cached, or it would wait for a lock).
long ReadNowaitAt(int fd, uint8_t* buf, size_t len, int64_t offset);

}  // namespace kaio
