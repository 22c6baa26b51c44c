// The ring's registered-buffer table: which index a piece of memory has, and
// where a new pool fits. Plain C++ over Uring::Register, speaking -errno.
// See io_uring_register(2): IORING_REGISTER_BUFFERS2 / _BUFFERS_UPDATE.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "uring.h"

namespace kaio {

class BufferTable {
 public:
  // Registers `count` buffers of `size` bytes from `base` (5.13; several
  // pools per ring from 5.19, one at a time before). Returns the first
  // table index, or -errno (-ENOSPC: no run of `count` free slots,
  // -EBUSY: an old kernel's table holds a pool already).
  int Register(Uring& ring, void* base, size_t size, unsigned count);
  // Empties the slots of the pool whose first index is `first`. New ops stop
  // using it at once; ops in flight keep their pages until they finish.
  int Unregister(Uring& ring, unsigned first);
  // The index of the one registered buffer that holds [addr, addr + len), or -1.
  int Find(uintptr_t addr, size_t len) const {
    for (const Region& r : regions_) {
      if (addr < r.base || addr >= r.base + r.size * r.count) continue;
      size_t i = (addr - r.base) / r.size;
      if (addr + len > r.base + (i + 1) * r.size) return -1;  // spans two buffers
      return static_cast<int>(r.first_index + i);
    }
    return -1;
  }
  // The address of [off, off + len) in registered buffer `index`, or 0 when
  // that index is empty or the range does not fit in its buffer.
  uintptr_t At(unsigned index, size_t off, size_t len) const {
    for (const Region& r : regions_) {
      if (index < r.first_index || index - r.first_index >= r.count) continue;
      if (off > r.size || len > r.size - off) return 0;
      return r.base + (index - r.first_index) * r.size + off;
    }
    return 0;
  }
  bool empty() const { return regions_.empty(); }
  // The ring's fd was closed: the kernel dropped the table with it.
  void Forget() {
    regions_.clear();
    kind_ = Kind::kNone;
  }

 private:
  struct Region {
    uintptr_t base;
    size_t size;
    unsigned count;
    unsigned first_index;
  };
  int Ensure(Uring& ring, const iovec* first, unsigned count);
  int FreeRun(unsigned count) const;
  int Update(Uring& ring, unsigned offset, const iovec* iov, unsigned count);

  std::vector<Region> regions_;  // sorted by first_index
  // None yet, a sparse table of kMaxRegisteredBuffers slots (5.19+), or the
  // first pool's buffers alone (older kernels: one pool at a time).
  enum class Kind { kNone, kSparse, kSingle } kind_ = Kind::kNone;
};

}  // namespace kaio
