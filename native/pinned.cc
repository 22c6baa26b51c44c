#include "pinned.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace kaio {

namespace {

size_t RoundUp(size_t n, size_t to) { return (n + to - 1) / to * to; }

// struct statx (include/uapi/linux/stat.h); the build's headers may predate
// the DIO fields.
struct StatxTimestamp {
  int64_t tv_sec;
  uint32_t tv_nsec;
  int32_t reserved;
};
struct Statx {
  uint32_t stx_mask, stx_blksize;
  uint64_t stx_attributes;
  uint32_t stx_nlink, stx_uid, stx_gid;
  uint16_t stx_mode, spare0;
  uint64_t stx_ino, stx_size, stx_blocks, stx_attributes_mask;
  StatxTimestamp stx_atime, stx_btime, stx_ctime, stx_mtime;
  uint32_t stx_rdev_major, stx_rdev_minor, stx_dev_major, stx_dev_minor;
  uint64_t stx_mnt_id;
  uint32_t stx_dio_mem_align, stx_dio_offset_align;
  uint64_t spare3[12];
};
static_assert(sizeof(Statx) == 256, "struct statx");
static_assert(offsetof(Statx, stx_dio_mem_align) == 152, "statx.stx_dio_mem_align");

constexpr unsigned kStatxDioalign = 0x2000;  // 6.1
constexpr int kAtEmptyPath = 0x1000;

}  // namespace

size_t PageSize() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

size_t HugePageSize() {
  FILE* f = fopen("/proc/meminfo", "re");
  if (!f) return 0;
  char line[128];
  size_t kb = 0;
  while (fgets(line, sizeof(line), f)) {
    if (sscanf(line, "Hugepagesize: %zu kB", &kb) == 1) break;
  }
  fclose(f);
  return kb * 1024;
}

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

int StatxDioAlign(int fd, const char* path, DioInfo* out) {
  Statx st;
  std::memset(&st, 0, sizeof(st));
  long r = path ? syscall(SYS_statx, AT_FDCWD, path, 0, kStatxDioalign, &st)
                : syscall(SYS_statx, fd, "", kAtEmptyPath, kStatxDioalign, &st);
  if (r < 0) return -errno;
  out->mask = st.stx_mask;
  bool dio = st.stx_mask & kStatxDioalign;
  out->mem_align = dio ? st.stx_dio_mem_align : 0;
  out->offset_align = dio ? st.stx_dio_offset_align : 0;
  out->dev_major = st.stx_dev_major;
  out->dev_minor = st.stx_dev_minor;
  out->blksize = st.stx_blksize;
  return 0;
}

MemlockInfo GetMemlockInfo() {
  MemlockInfo info = {UINT64_MAX, UINT64_MAX, false};
  rlimit lim;
  if (getrlimit(RLIMIT_MEMLOCK, &lim) == 0) {
    info.soft = lim.rlim_cur == RLIM_INFINITY ? UINT64_MAX : lim.rlim_cur;
    info.hard = lim.rlim_max == RLIM_INFINITY ? UINT64_MAX : lim.rlim_max;
  }
  // capget(2), _LINUX_CAPABILITY_VERSION_3: two 32-bit words per set.
  struct {
    uint32_t version;
    int pid;
  } header = {0x20080522, 0};
  struct {
    uint32_t effective, permitted, inheritable;
  } data[2] = {};
  constexpr int kCapIpcLock = 14;
  if (syscall(SYS_capget, &header, data) == 0)
    info.cap_ipc_lock = data[kCapIpcLock / 32].effective & (1u << (kCapIpcLock % 32));
  return info;
}

}  // namespace kaio
