// Page-aligned anonymous memory that kaio owns and the kernel may pin:
// registered with io_uring, mlock(2)ed for Linux AIO, or left alone.
// Plain C++ that speaks -errno and knows nothing of JavaScript.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kaio {

struct PinnedMapping {
  void* base = nullptr;
  size_t length = 0;         // bytes the caller asked for
  size_t mapped_length = 0;  // bytes mmap'ed (rounded to the page or huge page size)
  bool huge = false;         // backed by hugetlbfs pages (MAP_HUGETLB)
  bool locked = false;       // mlock(2)ed
};

size_t PageSize();
// Default huge page size (Hugepagesize in /proc/meminfo), 0 when unknown.
size_t HugePageSize();

// Maps `length` zeroed bytes at a multiple of `alignment` (a power of two;
// the page size or less means page-aligned). With `want_huge`, tries
// MAP_HUGETLB first and falls back to normal pages (with MADV_HUGEPAGE) when
// no huge page is free. Returns 0 or -errno.
int PinnedAlloc(size_t length, bool want_huge, size_t alignment, PinnedMapping* out);
// mlock(2) / munlock(2) the whole mapping. Return 0 or -errno.
int PinnedLock(PinnedMapping* m);
int PinnedUnlock(PinnedMapping* m);
// Unmaps (which also unlocks). Safe to call twice.
void PinnedFree(PinnedMapping* m);

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

// RLIMIT_MEMLOCK (soft, hard; UINT64_MAX when unlimited) and whether the
// process may pin without limit (CAP_IPC_LOCK in its effective set).
struct MemlockInfo {
  uint64_t soft;
  uint64_t hard;
  bool cap_ipc_lock;
};
MemlockInfo GetMemlockInfo();

}  // namespace kaio
