#include "pinned.h"

#include "sysinfo.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace kaio {

namespace {

size_t RoundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

}  // namespace

int PinnedAlloc(size_t length, bool want_huge, size_t alignment, PinnedMapping* out) {
  *out = PinnedMapping();
  if (length == 0 || (alignment & (alignment - 1))) return -EINVAL;
  if (alignment > PageSize()) {
    // Map the slack too, then give back what lies before and after the
    // aligned range.
    size_t len = RoundUp(length, PageSize());
    void* p = mmap(nullptr, len + alignment, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return -errno;
    uintptr_t start = reinterpret_cast<uintptr_t>(p);
    uintptr_t aligned = RoundUp(start, alignment);
    if (aligned > start) munmap(p, aligned - start);
    size_t tail = start + len + alignment - (aligned + len);
    if (tail) munmap(reinterpret_cast<void*>(aligned + len), tail);
    out->base = reinterpret_cast<void*>(aligned);
    out->length = length;
    out->mapped_length = len;
    return 0;
  }
  size_t huge = want_huge ? HugePageSize() : 0;
  if (huge) {
    size_t len = RoundUp(length, huge);
    void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB, -1, 0);
    if (p != MAP_FAILED) {
      out->base = p;
      out->length = length;
      out->mapped_length = len;
      out->huge = true;
      return 0;
    }
    // No huge page reserved or free: ordinary pages below.
  }
  size_t len = RoundUp(length, PageSize());
  void* p = mmap(nullptr, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return -errno;
  // Transparent huge pages still let the kernel map a registered buffer
  // with fewer, larger segments.
  if (want_huge) madvise(p, len, MADV_HUGEPAGE);
  out->base = p;
  out->length = length;
  out->mapped_length = len;
  return 0;
}

int PinnedLock(PinnedMapping* m) {
  if (!m->base) return -EINVAL;
  if (m->locked) return 0;
  if (mlock(m->base, m->mapped_length) != 0) return -errno;
  m->locked = true;
  return 0;
}

int PinnedUnlock(PinnedMapping* m) {
  if (!m->base || !m->locked) return 0;
  if (munlock(m->base, m->mapped_length) != 0) return -errno;
  m->locked = false;
  return 0;
}

void PinnedFree(PinnedMapping* m) {
  if (m->base) munmap(m->base, m->mapped_length);
  m->base = nullptr;
  m->locked = false;
}

}  // namespace kaio
