#include "sysinfo.h"

#include "abi.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>

namespace kaio {

size_t PageSize() { return static_cast<size_t>(sysconf(_SC_PAGESIZE)); }

int SetThreadIoprio(int ioprio) {
  constexpr int kIoprioWhoProcess = 1;  // with who 0: the calling thread
  long r = syscall(SYS_ioprio_set, kIoprioWhoProcess, 0, ioprio);
  return r < 0 ? -errno : 0;
}

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

int64_t Seek(int fd, int64_t offset, int whence) {
  off_t r = lseek(fd, static_cast<off_t>(offset), whence);
  return r < 0 ? -errno : static_cast<int64_t>(r);
}

int StatusFlags(int fd) {
  int r = fcntl(fd, F_GETFL);
  return r < 0 ? -errno : r;
}

int StatxDioAlign(int fd, const char* path, DioInfo* out) {
  abi::Statx st;
  std::memset(&st, 0, sizeof(st));
  long r = path ? syscall(SYS_statx, AT_FDCWD, path, 0, abi::kStatxDioalign, &st)
                : syscall(SYS_statx, fd, "", abi::kAtEmptyPath, abi::kStatxDioalign, &st);
  if (r < 0) return -errno;
  out->mask = st.stx_mask;
  bool dio = st.stx_mask & abi::kStatxDioalign;
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
