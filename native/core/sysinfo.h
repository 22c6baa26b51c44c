// Facts about this system and process that kaio's choices depend on: page
// sizes, RLIMIT_MEMLOCK and CAP_IPC_LOCK, a file's O_DIRECT alignment.
// Plain C++ that speaks -errno and knows nothing of JavaScript.
#pragma once

#include <cstddef>
#include <time.h>

#include <cstdint>

namespace kaio {

size_t PageSize();
// Default huge page size (Hugepagesize in /proc/meminfo), 0 when unknown.
size_t HugePageSize();

// RLIMIT_MEMLOCK (soft, hard; UINT64_MAX when unlimited) and whether the
// process may pin without limit (CAP_IPC_LOCK in its effective set).
struct MemlockInfo {
  uint64_t soft;
  uint64_t hard;
  bool cap_ipc_lock;
};
MemlockInfo GetMemlockInfo();

// statx(2) with STATX_DIOALIGN (6.1) of an fd (path null) or a path.
struct DioInfo {
  uint32_t mask;          // STATX_* the filesystem filled in
  uint32_t mem_align;     // 0 when not reported
  uint32_t offset_align;  // 0 when not reported (or O_DIRECT unsupported)
  uint32_t dev_major;
  uint32_t dev_minor;
  uint32_t blksize;
};
int StatxDioAlign(int fd, const char* path, DioInfo* out);

// lseek(2): the fd's new file offset, or -errno (ESPIPE: a pipe, socket or
// other stream with no offset). A FileHandle keeps its "current position" in
// the kernel's file offset, as read(2)/write(2) would, and passes it to each
// op explicitly: io_uring's offset -1 neither serialises ops on one file nor
// moves the offset after a short write.
int64_t Seek(int fd, int64_t offset, int whence);

// fcntl(F_GETFL): the fd's status flags (O_APPEND, O_DIRECT, access mode), or -errno.
int StatusFlags(int fd);

// ioprio_set(IOPRIO_WHO_PROCESS, 0, ioprio): the calling thread's I/O priority. 0 or -errno.
int SetThreadIoprio(int ioprio);

// Milliseconds on the monotonic clock.
inline int64_t MonotonicMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000ll + ts.tv_nsec / 1000000;
}

}  // namespace kaio
