#include "result_memory.h"

#include "sysinfo.h"

#include <sys/mman.h>

#include <cstdint>

namespace kaio {

namespace {

constexpr size_t kHugeAlign = 2 * 1024 * 1024;

size_t RoundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

}  // namespace

bool ResultAlloc(size_t length, ResultChunk* out) {
  if (length == 0) return false;
  // The length in whole pages (the tail past the last 2 MiB boundary is
  // ordinary pages, so no huge page is filled for a few bytes), at a 2 MiB
  // boundary: map the slack too and give back what lies before and after.
  size_t mapped = RoundUp(length, PageSize());
  if (mapped < length) return false;
  void* p = mmap(nullptr, mapped + kHugeAlign, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return false;
  uintptr_t start = reinterpret_cast<uintptr_t>(p);
  uintptr_t aligned = RoundUp(start, kHugeAlign);
  if (aligned > start) munmap(p, aligned - start);
  size_t tail = start + kHugeAlign - aligned;
  if (tail) munmap(reinterpret_cast<void*>(aligned + mapped), tail);
  // Where transparent huge pages are off (or absent) this fails, and the
  // mapping stays one of ordinary pages, as Node's would be.
  madvise(reinterpret_cast<void*>(aligned), mapped, MADV_HUGEPAGE);
  out->base = reinterpret_cast<void*>(aligned);
  out->mapped = mapped;
  return true;
}

void ResultFree(const ResultChunk& chunk) {
  if (chunk.base) munmap(chunk.base, chunk.mapped);
}

}  // namespace kaio
