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

}  // namespace kaio
