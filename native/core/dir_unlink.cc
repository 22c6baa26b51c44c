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

#ifndef SYS_openat2
#define SYS_openat2 437  // the same number on x86_64 and arm64
#endif

struct OpenHow {  // struct open_how (linux/openat2.h)
  uint64_t flags;
  uint64_t mode;
  uint64_t resolve;
};
constexpr uint64_t kResolveNoSymlinks = 0x04;  // RESOLVE_NO_SYMLINKS, 5.6

constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

// dir, a directory rm -r found below the root it was asked for (its first
// root_len bytes, then '/'): the root as the path names it, then the rest
// with no symlink followed on the way (openat2 RESOLVE_NO_SYMLINKS: ELOOP).
// Every level below the root was a directory when its parent was listed; a
// level swapped for a symlink since must not lead the unlinks out of the
// tree (open(2) of the whole path follows every symlink but the last).
// Without openat2 (before 5.6, or refused), the whole path as before.
int OpenBelow(const std::string& dir, size_t root_len) {
  if (root_len == 0 || root_len + 1 >= dir.size() || dir[root_len] != '/') return open(dir.c_str(), kDirFlags);
  std::string root = dir.substr(0, root_len);
  int r = open(root.c_str(), kDirFlags);
  if (r < 0) return -1;
  OpenHow how{static_cast<uint64_t>(kDirFlags), 0, kResolveNoSymlinks};
  long fd = syscall(SYS_openat2, r, dir.c_str() + root_len + 1, &how, sizeof(how));
  int err = errno;
  close(r);
  if (fd < 0 && (err == ENOSYS || err == EPERM || err == E2BIG)) return open(dir.c_str(), kDirFlags);
  errno = err;
  return static_cast<int>(fd);
}

void Put(std::vector<uint8_t>* out, EntryKind kind, int err, const char* name, size_t len) {
  out->push_back(kind);
  for (int i = 0; i < 4; i++) out->push_back(static_cast<uint8_t>(static_cast<uint32_t>(err) >> (8 * i)));
  out->push_back(static_cast<uint8_t>(len & 0xff));
  out->push_back(static_cast<uint8_t>(len >> 8));
  out->insert(out->end(), name, name + len);
}

}  // namespace

int UnlinkEntries(const std::string& dir, size_t root_len, bool rmdir, std::vector<uint8_t>* out, int* rmdir_result) {
  *rmdir_result = 1;
  // The caller found a directory here (lstat, or d_type): O_NOFOLLOW keeps
  // this step from unlinking through a symlink swapped in since then
  // (ENOTDIR), and below the root no level may be a symlink (ELOOP).
  int fd = OpenBelow(dir, root_len);
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
