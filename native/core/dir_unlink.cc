#include "dir_unlink.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace kaio {

namespace {

// struct linux_dirent64 as getdents64(2) fills it.
struct Dirent64 {
  uint64_t d_ino;
  int64_t d_off;
  unsigned short d_reclen;
  unsigned char d_type;
  char d_name[];
};

constexpr size_t kListBytes = 64 * 1024;

void Put(std::vector<uint8_t>* out, EntryKind kind, int err, const char* name, size_t len) {
  out->push_back(kind);
  for (int i = 0; i < 4; i++) out->push_back(static_cast<uint8_t>(static_cast<uint32_t>(err) >> (8 * i)));
  out->push_back(static_cast<uint8_t>(len & 0xff));
  out->push_back(static_cast<uint8_t>(len >> 8));
  out->insert(out->end(), name, name + len);
}

}  // namespace

int UnlinkEntries(const std::string& dir, bool rmdir, std::vector<uint8_t>* out, int* rmdir_result) {
  *rmdir_result = 1;
  // The caller found a directory here (lstat, or d_type): O_NOFOLLOW keeps
  // this step from unlinking through a symlink swapped in since then
  // (ENOTDIR: the caller then goes on as Node's rimraf does, by path).
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return -errno;
  // The whole listing first, then the unlinks (as Node's readdir, then its
  // rimraf of each entry): no filesystem's readdir has to cope with the
  // directory changing under it.
  std::vector<char> names;          // each name with its NUL
  std::vector<unsigned char> types;
  std::unique_ptr<char[]> buf(new char[kListBytes]);
  int result = 0;
  for (;;) {
    long n = syscall(SYS_getdents64, fd, buf.get(), kListBytes);
    if (n < 0) {
      if (errno == EINTR) continue;
      result = -errno;
      break;
    }
    if (n == 0) break;
    for (long at = 0; at < n;) {
      const Dirent64* d = reinterpret_cast<const Dirent64*>(buf.get() + at);
      at += d->d_reclen;
      const char* name = d->d_name;
      size_t len = strlen(name);
      if ((len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.')) continue;
      names.insert(names.end(), name, name + len + 1);
      types.push_back(d->d_type);
    }
  }
  for (size_t i = 0, at = 0; result == 0 && i < types.size(); i++) {
    const char* name = names.data() + at;
    size_t len = strlen(name);
    at += len + 1;
    if (dir.size() + 1 + len >= PATH_MAX) {
      // Node's rimraf calls lstat(2), then unlink(2), of "dir/name", and
      // reports the unlink's ENAMETOOLONG: the caller makes that call.
      Put(out, kEntryLong, 0, name, len);
    } else if (types[i] == DT_DIR) {
      Put(out, kEntryDir, 0, name, len);
    } else if (types[i] == DT_UNKNOWN) {
      Put(out, kEntryUnknown, 0, name, len);
    } else if (unlinkat(fd, name, 0) != 0 && errno != ENOENT) {
      Put(out, kEntryFailed, errno, name, len);
    }
  }
  close(fd);
  if (result == 0 && rmdir && out->empty()) *rmdir_result = ::rmdir(dir.c_str()) == 0 ? 0 : -errno;
  return result;
}

}  // namespace kaio
