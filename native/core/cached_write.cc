#include "cached_write.h"

#include "abi.h"
#include "cached_read.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
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
constexpr int kAtStatxDontSync = 0x4000;   // AT_STATX_DONT_SYNC
constexpr unsigned kStatxType = 0x1;
constexpr unsigned kStatxUid = 0x8;
constexpr unsigned kStatxSize = 0x200;
constexpr unsigned kWanted = kStatxType | kStatxUid | kStatxSize;

uint64_t NowNs() {  // the vDSO's clock: no system call
  timespec t{};
  clock_gettime(CLOCK_MONOTONIC, &t);
  return static_cast<uint64_t>(t.tv_sec) * 1'000'000'000u + static_cast<uint64_t>(t.tv_nsec);
}


// The calling thread's voluntary context switches so far (it slept), or -1.
long SleepsSoFar() {
  rusage ru{};
  return getrusage(RUSAGE_THREAD, &ru) < 0 ? -1 : ru.ru_nvcsw;
}

}  // namespace

int WriteInPlaceCached(const char* path, int accmode, long euid, const uint8_t* data, size_t len, CachedWrite* out) {
  OpenHow how{static_cast<uint64_t>(accmode | O_NONBLOCK | O_CLOEXEC), 0, kResolveCached};
  long opened = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof(how));
  if (opened < 0) return -errno;
  const int fd = static_cast<int>(opened);
  const uint64_t start = NowNs();
  abi::Statx st;
  std::memset(&st, 0, sizeof(st));
  if (syscall(SYS_statx, fd, "", abi::kAtEmptyPath | kAtStatxDontSync, kWanted, &st) < 0 || (st.stx_mask & kWanted) != kWanted) {
    // No size to go by: the ring's path, which cuts whenever it cannot tell.
    st.stx_mode = 0;
  }
  if (euid >= 0 && (st.stx_mask & kStatxUid) && st.stx_uid != static_cast<uint64_t>(euid)) {
    // Not the caller's file: the ring's open decides (fs.protected_regular).
    // Closing a file that was only opened has no effect on it.
    close(fd);
    return -EAGAIN;
  }
  if (!S_ISREG(st.stx_mode) || st.stx_dev_major == 0) {
    // A FIFO, a device, or a file on tmpfs, NFS, FUSE, overlayfs (a close
    // that may flush): opened once, here, and written on the ring.
    int r = ClearNonblock(fd);
    if (r < 0) {
      close(fd);
      return r;
    }
    out->outcome = CachedWrite::kOpened;
    return fd;
  }
  const long sleeps = SleepsSoFar();
  int e = 0;
  size_t done = 0;
  while (done < len) {
    ssize_t n = pwrite(fd, data + done, len - done, static_cast<off_t>(done));
    if (n < 0) {
      if (errno == EINTR) continue;
      e = errno;
      break;
    }
    done += static_cast<size_t>(n);
  }
  if (e) {
    // As the ring path: the file keeps the new bytes that reached it, cut
    // there (not the old bytes after them); the write's error is reported.
    while (ftruncate(fd, static_cast<off_t>(done)) < 0 && errno == EINTR) {
    }
    out->syscall = "write";
  } else if (st.stx_size > len) {
    // Our write only extends the file up to len: a size not beyond it means
    // nothing to cut (the ring path's rule, see lib/file/read-file.ts).
    int r;
    while ((r = ftruncate(fd, static_cast<off_t>(len))) < 0 && errno == EINTR) {
    }
    if (r < 0) {
      e = errno;
      out->syscall = "ftruncate";
    }
  }
  // close frees the fd whatever it returns; its error counts only when all
  // else went well (Node's handleFdClose).
  if (close(fd) < 0 && !e) {
    e = errno;
    out->syscall = "close";
  }
  // Slow: it took long and the thread slept meanwhile (preempted alone, it
  // did not: on a loaded machine that is common and says nothing of the
  // write).
  out->slow = NowNs() - start > kCachedWriteSlowNs && SleepsSoFar() != sleeps;
  out->outcome = e ? CachedWrite::kFailed : CachedWrite::kDone;
  return -e;
}

}  // namespace kaio
