#include "result_memory.h"

#include "sysinfo.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <mutex>
#include <vector>

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

namespace {

// Size classes of whole pages: class n holds chunks of n pages.
struct Kept {
  std::mutex lock;
  std::vector<std::vector<void*>> free_by_pages;
  size_t bytes = 0;
};

Kept& KeptState() {
  static Kept* kept = new Kept();  // never destroyed: a finalizer may run at exit
  return *kept;
}

}  // namespace

bool KeptAlloc(size_t length, ResultChunk* out) {
  if (length == 0 || length >= kResultHugeFrom) return false;
  size_t page = PageSize();
  size_t pages = RoundUp(length, page) / page;
  size_t size = pages * page;
  Kept& k = KeptState();
  {
    std::lock_guard<std::mutex> hold(k.lock);
    if (pages < k.free_by_pages.size() && !k.free_by_pages[pages].empty()) {
      out->base = k.free_by_pages[pages].back();
      k.free_by_pages[pages].pop_back();
      k.bytes -= size;
      out->mapped = size;
      return true;
    }
  }
  void* p = std::malloc(size);
  if (p == nullptr) return false;
  out->base = p;
  out->mapped = size;
  return true;
}

void KeptFree(const ResultChunk& chunk) {
  if (chunk.base == nullptr) return;
  size_t pages = chunk.mapped / PageSize();
  Kept& k = KeptState();
  {
    std::lock_guard<std::mutex> hold(k.lock);
    if (k.bytes + chunk.mapped <= kKeptBytes) {
      try {
        if (k.free_by_pages.size() <= pages) k.free_by_pages.resize(pages + 1);
        k.free_by_pages[pages].push_back(chunk.base);
        k.bytes += chunk.mapped;
        return;
      } catch (...) {
        // no room to keep it: free it
      }
    }
  }
  std::free(chunk.base);
}

}  // namespace kaio
