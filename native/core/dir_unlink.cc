#include "dir_unlink.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <vector>

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
constexpr int kDirFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

struct Hook {
  std::mutex mu;
  int when = 0;
  std::string name, from, to, link;
};
Hook g_hook;
std::atomic<bool> g_hook_armed{false};

void MaybeHook(int when, const char* name) {
  if (!g_hook_armed.load(std::memory_order_acquire)) return;
  std::lock_guard<std::mutex> lock(g_hook.mu);
  if (g_hook.name.empty() || g_hook.when != when || g_hook.name != name) return;
  g_hook.name.clear();
  g_hook_armed.store(false, std::memory_order_release);
  if (!g_hook.from.empty() && rename(g_hook.from.c_str(), g_hook.to.c_str()) != 0) return;
  if (!g_hook.link.empty()) (void)symlink(g_hook.link.c_str(), g_hook.from.c_str());
}

bool Fail(RmError* e, int err, RmSyscall syscall, const std::string& path) {
  e->err = err;
  e->syscall = syscall;
  e->path = path;
  return false;
}

class Walk {
 public:
  // Node's rimraf of the entry `name` of the directory open as dfd (path:
  // its whole path; type: the listing's d_type); a missing entry is no error.
  bool Rimraf(int dfd, const std::string& path, const char* name, unsigned char type, RmError* e) {
    if (RimrafEntry(dfd, path, name, type, e)) return true;
    return e->err == ENOENT;
  }

  // Node's _rmchildren of the directory `name` in pfd, then its rmdir.
  bool Children(int pfd, const std::string& path, const char* name, RmError* e) {
    int fd = -1;
    int opened = Open(pfd, path, name, &fd, e);
    if (opened != kOpened) return opened == kDone;
    bool ok = Entries(fd, path, nullptr, e);
    close(fd);
    return ok && FinalRmdir(pfd, path, name, e);
  }

  enum { kDone = 0, kFailed = 1, kOpened = 2 };

  // The directory `name` in pfd, opened to be listed: kOpened (*fd), or
  // kDone / kFailed (*e) when it is no longer a directory.
  int Open(int pfd, const std::string& path, const char* name, int* fd, RmError* e) {
    MaybeHook(kRmHookBeforeOpen, name);
    *fd = openat(pfd, name, kDirFlags);
    if (*fd >= 0) return kOpened;
    int err = errno;
    // Not a directory now (it was one when its rmdir said ENOTEMPTY): a
    // symlink put there is removed, as rimraf removes a link it meets
    // (Node's readdir would follow it out of the tree); anything else is
    // readdir's error.
    if (err != ENOTDIR && err != ELOOP) return Fail(e, err, kRmScandir, path), kFailed;
    struct stat st;
    if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return Fail(e, errno, kRmScandir, path), kFailed;
    if (!S_ISLNK(st.st_mode)) return Fail(e, err, kRmScandir, path), kFailed;
    if (unlinkat(pfd, name, 0) == 0 || errno == ENOENT) return kDone;
    return Fail(e, errno, kRmUnlink, path), kFailed;
  }

  // Lists the directory open as fd (path: its whole path), then Node's
  // rimraf of each entry; with dirs, the entries the listing says are
  // directories are put there instead (the caller removes them). Every
  // entry is done even after one fails (Node's rimraf goes on with those
  // under way); *e: the first failure.
  bool Entries(int fd, const std::string& path, std::vector<std::string>* dirs, RmError* e) {
    // The whole listing first, then the removals (as Node's readdir, then
    // its rimraf of each entry): no filesystem's readdir has to cope with
    // the directory changing under it.
    std::vector<char> names;  // each name with its NUL
    std::vector<unsigned char> types;
    if (!buf_) buf_.reset(new char[kListBytes]);
    for (;;) {
      long n = syscall(SYS_getdents64, fd, buf_.get(), kListBytes);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Fail(e, errno, kRmScandir, path);
      }
      if (n == 0) break;
      for (long at = 0; at < n;) {
        const Dirent64* d = reinterpret_cast<const Dirent64*>(buf_.get() + at);
        at += d->d_reclen;
        const char* entry = d->d_name;
        size_t len = strlen(entry);
        if ((len == 1 && entry[0] == '.') || (len == 2 && entry[0] == '.' && entry[1] == '.')) continue;
        names.insert(names.end(), entry, entry + len + 1);
        types.push_back(d->d_type);
      }
    }
    bool ok = true;
    std::string child = path;
    child.push_back('/');
    for (size_t i = 0, at = 0; i < types.size(); i++) {
      const char* entry = names.data() + at;
      size_t len = strlen(entry);
      at += len + 1;
      if (dirs != nullptr && types[i] == DT_DIR) {
        dirs->emplace_back(entry, len);
        continue;
      }
      child.resize(path.size() + 1);
      child.append(entry, len);
      RmError ce;
      if (!Rimraf(fd, child, entry, types[i], &ce) && ok) {
        ok = false;
        *e = std::move(ce);
      }
    }
    return ok;
  }

  // The directory's own rmdir once its entries are gone.
  bool FinalRmdir(int pfd, const std::string& path, const char* name, RmError* e) {
    MaybeHook(kRmHookBeforeFinalRmdir, name);
    if (unlinkat(pfd, name, AT_REMOVEDIR) == 0) return true;
    return Fail(e, errno, kRmRmdir, path);
  }

 private:
  // Node's _rimraf: lstat (here the listing's d_type, fstatat when it gives
  // none), then a directory's _rmdir, or an unlink.
  bool RimrafEntry(int dfd, const std::string& path, const char* name, unsigned char type, RmError* e) {
    // Node's lstat, then unlink, of the whole path: ENAMETOOLONG.
    if (path.size() >= PATH_MAX) return Fail(e, ENAMETOOLONG, kRmUnlink, path);
    bool dir = type == DT_DIR;
    if (type == DT_UNKNOWN) {
      struct stat st;
      if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) dir = S_ISDIR(st.st_mode);
      else if (errno == ENOENT) return true;
    }
    if (dir) return Rmdir(dfd, path, name, nullptr, e);
    if (unlinkat(dfd, name, 0) == 0) return true;
    int err = errno;
    if (err == ENOENT) return true;
    MaybeHook(kRmHookAfterFailedUnlink, name);
    if (err == EISDIR || err == EPERM) {
      RmError orig;
      orig.err = err;
      orig.syscall = kRmUnlink;
      orig.path = path;
      return Rmdir(dfd, path, name, &orig, e);
    }
    return Fail(e, err, kRmUnlink, path);
  }

  // Node's _rmdir: rmdir; a directory that is not empty loses its children first.
  bool Rmdir(int dfd, const std::string& path, const char* name, const RmError* orig, RmError* e) {
    if (unlinkat(dfd, name, AT_REMOVEDIR) == 0) return true;
    int err = errno;
    if (err == ENOTEMPTY || err == EEXIST || err == EPERM) return Children(dfd, path, name, e);
    if (err == ENOTDIR) {
      if (orig == nullptr) return true;
      *e = *orig;
      return false;
    }
    return Fail(e, err, kRmRmdir, path);
  }

  std::unique_ptr<char[]> buf_;  // one listing buffer for the whole walk (each listing ends before the walk goes down)
};

}  // namespace

int RemoveChildrenBegin(const std::string& dir, RmDirHandle* h, std::vector<std::string>* dirs, RmError* e) {
  // dir's parent, by its path (as rmdir(dir) would resolve it), held for
  // dir's open and its final rmdir; a path whose last part is not a plain
  // name ('/', '.', '..', a trailing '/') is used whole.
  h->pfd = AT_FDCWD;
  h->fd = -1;
  h->path = dir;
  h->name = dir;
  size_t slash = dir.rfind('/');
  std::string last = slash == std::string::npos ? dir : dir.substr(slash + 1);
  if (!last.empty() && last != "." && last != "..") {
    if (slash != std::string::npos) {
      std::string parent = slash == 0 ? std::string("/") : dir.substr(0, slash);
      int fd = open(parent.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
      if (fd >= 0) {
        h->pfd = fd;
        h->name = last;
      }
    } else {
      h->name = last;
    }
  }
  Walk walk;
  int opened = walk.Open(h->pfd, h->path, h->name.c_str(), &h->fd, e);
  if (opened == Walk::kOpened) {
    bool ok = walk.Entries(h->fd, h->path, dirs, e);
    // Nothing left for the caller: the directory's rmdir now (after a failure, none).
    if (dirs->empty()) return RemoveChildrenEnd(h, ok, e) && ok ? kRmDone : kRmFailed;
    return kRmHeld;
  }
  CloseRmDir(h);
  return opened == Walk::kDone ? kRmDone : kRmFailed;
}

bool RemoveSubtree(const RmDirHandle& h, const std::string& name, RmError* e) {
  Walk walk;
  std::string path = h.path;
  path.push_back('/');
  path.append(name);
  return walk.Rimraf(h.fd, path, name.c_str(), DT_DIR, e);
}

bool RemoveChildrenEnd(RmDirHandle* h, bool rmdir, RmError* e) {
  bool ok = true;
  if (h->fd >= 0) close(h->fd);
  h->fd = -1;
  if (rmdir) {
    Walk walk;
    ok = walk.FinalRmdir(h->pfd, h->path, h->name.c_str(), e);
  }
  CloseRmDir(h);
  return ok;
}

void CloseRmDir(RmDirHandle* h) {
  if (h->fd >= 0) close(h->fd);
  if (h->pfd >= 0) close(h->pfd);
  h->fd = -1;
  h->pfd = -1;
}

void SetRmHook(int when, const std::string& name, const std::string& from, const std::string& to, const std::string& link) {
  std::lock_guard<std::mutex> lock(g_hook.mu);
  g_hook.when = when;
  g_hook.name = name;
  g_hook.from = from;
  g_hook.to = to;
  g_hook.link = link;
  g_hook_armed.store(!name.empty(), std::memory_order_release);
}

}  // namespace kaio
