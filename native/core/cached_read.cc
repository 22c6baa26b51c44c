#include "cached_read.h"

#include "abi.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#ifndef SYS_openat2
#define SYS_openat2 437  // the same number on x86_64 and arm64
#endif

namespace kaio {

namespace {

struct OpenHow {  // struct open_how (linux/openat2.h)
  uint64_t flags;
  uint64_t mode;
  uint64_t resolve;
};
constexpr uint64_t kResolveCached = 0x20;  // RESOLVE_CACHED, 5.12
constexpr int kRwfNowait = 0x8;            // RWF_NOWAIT, 4.14 (reads)
constexpr int kAtStatxDontSync = 0x4000;   // AT_STATX_DONT_SYNC
constexpr unsigned kStatxType = 0x1;
constexpr unsigned kStatxSize = 0x200;
constexpr unsigned kStatxIno = 0x100;

// preadv2 as a raw system call (musl before 1.2.5 has no wrapper); the
// offset's high half is ignored on 64-bit targets.
ssize_t ReadNowait(int fd, iovec* iov, uint64_t offset) {
  return syscall(SYS_preadv2, fd, iov, 1, static_cast<long>(offset), 0L, kRwfNowait);
}

}  // namespace

int OpenCached(const char* path, CachedFile* out) {
  OpenHow how{static_cast<uint64_t>(O_PATH | O_CLOEXEC), 0, kResolveCached};
  long where = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
  if (where < 0) return -errno;
  abi::Statx st;
  std::memset(&st, 0, sizeof(st));
  int e = 0;
  constexpr unsigned kWant = kStatxType | kStatxSize | kStatxIno;
  if (syscall(SYS_statx, static_cast<int>(where), "", abi::kAtEmptyPath | kAtStatxDontSync, kWant, &st) < 0) {
    e = errno;
  } else if ((st.stx_mask & kWant) != kWant || !S_ISREG(st.stx_mode)) {
    e = EAGAIN;  // not a regular file (or no type or size): the ring's open
  }
  int fd = -1;
  if (!e) {
    char self[40];
    std::snprintf(self, sizeof(self), "/proc/self/fd/%d", static_cast<int>(where));
    fd = open(self, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
      e = errno == ENOENT ? ENOSYS : errno;  // ENOENT: no /proc here
    } else {
      // Only procfs's magic link reopens the inode itself: under a /proc
      // that is something else (a tmpfs mounted there, a directory of plain
      // files) the name is just a name, and the file it gives is another
      // one. Then there is no /proc to use (ENOSYS: never again).
      struct stat same;
      if (fstat(fd, &same) != 0 || same.st_ino != st.stx_ino || major(same.st_dev) != st.stx_dev_major ||
          minor(same.st_dev) != st.stx_dev_minor) {
        close(fd);
        fd = -1;
        e = ENOSYS;
      }
    }
  }
  close(static_cast<int>(where));
  if (e) return -e;
  out->fd = fd;
  out->regular = true;
  out->block_fs = st.stx_dev_major != 0;
  out->size = st.stx_size;
  return 0;
}

int ReadCachedWhole(int fd, uint8_t* buf, uint64_t size) {
  // Exactly `size` bytes, as node:fs reads `size` bytes after its fstat of
  // the same fd: the statx above is of this inode, so a full read is the
  // file as Node would return it (a file that grew since gives its first
  // `size` bytes, as Node's). With RWF_NOWAIT a read also stops short where
  // a page is not cached: short, the ring reads it.
  iovec iov{buf, static_cast<size_t>(size)};
  ssize_t n = ReadNowait(fd, &iov, 0);
  if (n < 0) return errno == EAGAIN || errno == EOPNOTSUPP ? 0 : -errno;
  return static_cast<uint64_t>(n) == size ? 1 : 0;
}

int ClearNonblock(int fd) {
  int flags = fcntl(fd, F_GETFL);
  if (flags < 0) return -errno;
  if ((flags & O_NONBLOCK) && fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) return -errno;
  return 0;
}

}  // namespace kaio
