#include "buffer_table.h"

#include <cerrno>

namespace kaio {

// Slots are found first-fit; regions_ is sorted by index.
int BufferTable::FreeRun(unsigned count) const {
  unsigned next = 0;
  for (const Region& r : regions_) {
    if (r.first_index - next >= count) return static_cast<int>(next);
    next = r.first_index + r.count;
  }
  if (abi::kMaxRegisteredBuffers - next >= count) return static_cast<int>(next);
  return -ENOSPC;
}

// IORING_REGISTER_BUFFERS_UPDATE (5.13). The kernel pins (and charges to
// RLIMIT_MEMLOCK) each buffer; an iovec {0, 0} empties a slot.
int BufferTable::Update(Uring& ring, unsigned offset, const iovec* iov, unsigned count) {
  abi::RsrcUpdate2 up = {};
  up.offset = offset;
  up.data = reinterpret_cast<uintptr_t>(iov);
  up.nr = count;
  int r = ring.Register(abi::kRegisterBuffersUpdate, &up, sizeof(up));
  if (r < 0 || static_cast<unsigned>(r) == count) return r;
  // Part went in before the kernel stopped (out of memory or memlock): take
  // those back out, a pool is all or nothing.
  std::vector<iovec> empty(r, iovec{nullptr, 0});
  up.data = reinterpret_cast<uintptr_t>(empty.data());
  up.nr = static_cast<uint32_t>(r);
  ring.Register(abi::kRegisterBuffersUpdate, &up, sizeof(up));
  return -ENOMEM;
}

// The first pool creates the table. Returns 1 when it had to register `first`
// as the whole table (before 5.19 there is no sparse table), 0 when it made
// the sparse table, or -errno.
int BufferTable::Ensure(Uring& ring, const iovec* first, unsigned count) {
  abi::RsrcRegister reg = {};
  reg.nr = abi::kMaxRegisteredBuffers;
  reg.flags = abi::kRsrcRegisterSparse;
  int r = ring.Register(abi::kRegisterBuffers2, &reg, sizeof(reg));
  if (r >= 0) {
    kind_ = Kind::kSparse;
    return 0;
  }
  if (r != -EINVAL) return r;
  r = ring.Register(abi::kRegisterBuffers, first, count);
  if (r < 0) return r;
  kind_ = Kind::kSingle;
  return 1;
}

int BufferTable::Register(Uring& ring, void* base, size_t size, unsigned count) {
  if (size == 0 || count == 0 || count > abi::kMaxRegisteredBuffers) return -EINVAL;
  if (kind_ == Kind::kSingle) return -EBUSY;
  std::vector<iovec> iov(count);
  for (unsigned i = 0; i < count; i++) iov[i] = iovec{static_cast<char*>(base) + i * size, size};
  int index = 0;
  int made = kind_ == Kind::kNone ? Ensure(ring, iov.data(), count) : 0;
  if (made < 0) return made;
  if (made == 0) {
    index = FreeRun(count);
    if (index < 0) return index;
    int r = Update(ring, static_cast<unsigned>(index), iov.data(), count);
    if (r < 0) return r;
  }
  Region region = {reinterpret_cast<uintptr_t>(base), size, count, static_cast<unsigned>(index)};
  auto at = regions_.begin();
  while (at != regions_.end() && at->first_index < region.first_index) ++at;
  regions_.insert(at, region);
  return index;
}

int BufferTable::Unregister(Uring& ring, unsigned first) {
  auto it = regions_.begin();
  while (it != regions_.end() && it->first_index != first) ++it;
  if (it == regions_.end()) return -ENOENT;
  unsigned count = it->count;
  regions_.erase(it);
  if (!ring.is_open()) return 0;
  if (kind_ == Kind::kSingle) {
    int r = ring.Register(abi::kUnregisterBuffers, nullptr, 0);
    if (r >= 0) kind_ = Kind::kNone;
    return r < 0 ? r : 0;
  }
  std::vector<iovec> empty(count, iovec{nullptr, 0});
  int r = Update(ring, first, empty.data(), count);
  return r < 0 ? r : 0;
}

}  // namespace kaio
