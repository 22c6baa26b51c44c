#include "copy_range.h"

#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <climits>

#ifndef FICLONE
#define FICLONE _IOW(0x94, 9, int)
#endif

namespace kaio {

namespace {

// The most one call is asked for: the kernel moves at most MAX_RW_COUNT
// (INT_MAX rounded down to a page) per call anyway.
constexpr int64_t kMaxCall = INT_MAX & ~int64_t{4095};

// Errors after which another way of copying can still succeed: no
// copy_file_range in this kernel or under this seccomp filter (ENOSYS,
// EPERM), none between these two filesystems (EXDEV), none on this
// filesystem or for this kind of file (EINVAL, EOPNOTSUPP). EPERM is also
// what an immutable or append-only destination gives: the other way then
// fails with its own EPERM.
bool Refusal(int err) {
  return err == ENOSYS || err == EXDEV || err == EINVAL || err == EOPNOTSUPP || err == EPERM;
}

}  // namespace

int CopyRange(int src, int dst, int64_t size, bool clone, bool clone_force, int64_t* copied, int* refused) {
  *copied = 0;
  *refused = 0;
  if (clone || clone_force) {
    if (ioctl(dst, FICLONE, src) == 0) {
      *copied = size;
      return kCopyDone;
    }
    if (clone_force) return -errno;
  }
#ifdef SYS_copy_file_range
  // Explicit offsets: the fds' own positions stay where they are.
  loff_t in = 0;
  loff_t out = 0;
  while (*copied < size) {
    int64_t want = size - *copied < kMaxCall ? size - *copied : kMaxCall;
    long n = syscall(SYS_copy_file_range, src, &in, dst, &out, static_cast<size_t>(want), 0u);
    if (n < 0) {
      int err = errno;
      if (err == EINTR) continue;
      if (Refusal(err)) {
        *refused = err;
        return kCopyFallback;
      }
      return -err;
    }
    // The source ends before the size it had: what there was is copied.
    if (n == 0) break;
    *copied += n;
    // The kernel moved both offsets by n; they stay equal to *copied.
    in = out = *copied;
  }
  return kCopyDone;
#else
  *refused = ENOSYS;
  return kCopyFallback;
#endif
}

}  // namespace kaio
