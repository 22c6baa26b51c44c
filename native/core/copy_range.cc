#include "copy_range.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <memory>

#ifndef FICLONE
#define FICLONE _IOW(0x94, 9, int)
#endif

namespace kaio {

namespace {

// The most one call is asked for: the kernel moves at most MAX_RW_COUNT
// (INT_MAX rounded down to a page) per call anyway.
constexpr int64_t kMaxCall = INT_MAX & ~int64_t{4095};
// The buffer of the last way, pread and pwrite.
constexpr size_t kBounce = 1 << 20;

// Errors after which another way of copying can still work: none of this
// syscall in the kernel or under a seccomp filter (ENOSYS, EPERM), none
// between these two filesystems (EXDEV), none on this filesystem or for
// this kind of file (EINVAL, EOPNOTSUPP). EPERM is also what an immutable
// or append-only destination gives: the next way then fails with its own.
bool Refusal(int err) { return err == ENOSYS || err == EXDEV || err == EINVAL || err == EOPNOTSUPP || err == EPERM; }

int64_t Want(int64_t left) { return left < kMaxCall ? left : kMaxCall; }

// What each way below returns: 0 (done: *at reached size, or the source
// ended first), 1 (refused: go on from *at another way), or -errno.
constexpr int kRefused = 1;

int ByCopyRange(int src, int dst, int64_t size, int64_t* at) {
#ifdef SYS_copy_file_range
  while (*at < size) {
    // Explicit offsets: neither fd's own position is used or moved.
    loff_t in = *at;
    loff_t out = *at;
    long n = syscall(SYS_copy_file_range, src, &in, dst, &out, static_cast<size_t>(Want(size - *at)), 0u);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Refusal(errno) ? kRefused : -errno;
    }
    if (n == 0) return 0;  // the source ends before the size it had
    *at += n;
  }
  return 0;
#else
  (void)src, (void)dst, (void)size, (void)at;
  return kRefused;
#endif
}

int BySendfile(int src, int dst, int64_t size, int64_t* at) {
  // sendfile writes at dst's position: dst is new or truncated and nothing
  // wrote through this fd yet, so its position is *at only once set.
  if (lseek(dst, *at, SEEK_SET) < 0) return -errno;
  while (*at < size) {
    off_t in = *at;
    ssize_t n = sendfile(dst, src, &in, static_cast<size_t>(Want(size - *at)));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Refusal(errno) ? kRefused : -errno;
    }
    if (n == 0) return 0;
    *at += n;
  }
  return 0;
}

int ByReadWrite(int src, int dst, int64_t size, int64_t* at) {
  std::unique_ptr<char[]> buf(new (std::nothrow) char[kBounce]);
  if (!buf) return -ENOMEM;
  while (*at < size) {
    int64_t left = size - *at;
    ssize_t n = pread(src, buf.get(), left < static_cast<int64_t>(kBounce) ? static_cast<size_t>(left) : kBounce, *at);
    if (n < 0) {
      if (errno == EINTR) continue;
      return -errno;
    }
    if (n == 0) return 0;
    for (ssize_t done = 0; done < n;) {
      ssize_t w = pwrite(dst, buf.get() + done, static_cast<size_t>(n - done), *at + done);
      if (w < 0) {
        if (errno == EINTR) continue;
        return -errno;
      }
      done += w;
    }
    *at += n;
  }
  return 0;
}

// CIFS and SMB (whose fchmod fails with EPERM unless mounted noperm).
bool IsCifs(int fd) {
  struct statfs s;
  if (fstatfs(fd, &s) != 0) return false;
  auto t = static_cast<unsigned long>(s.f_type);
  return t == 0xFF534D42ul || t == 0xFE534D42ul || t == 0x517Bul;
}

int CopyData(int src, int dst, int mode, int64_t size, int* moved) {
  if (mode & (kCopyClone | kCopyCloneForce)) {
    if (ioctl(dst, FICLONE, src) == 0) {
      *moved |= kMovedClone;
      return 0;
    }
    if (mode & kCopyCloneForce) return -errno;
  }
  int64_t at = 0;
  if (size == 0) return 0;
  *moved |= kMovedCopyRange;
  int r = ByCopyRange(src, dst, size, &at);
  if (r != kRefused) return r;
  *moved |= kMovedSendfile;
  r = BySendfile(src, dst, size, &at);
  if (r != kRefused) return r;
  *moved |= kMovedReadWrite;
  return ByReadWrite(src, dst, size, &at);
}

int Close(int fd) { return close(fd) == 0 || errno == EINTR ? 0 : -errno; }

}  // namespace

int CopyFile(const std::string& src, const std::string& dest, int mode, int* moved) {
  *moved = 0;
  int s = open(src.c_str(), O_RDONLY | O_CLOEXEC);
  if (s < 0) return -errno;
  struct stat from;
  if (fstat(s, &from) != 0) {
    int r = -errno;
    close(s);
    return r;
  }
  // The destination: created here (O_EXCL) or opened as it was. Only a
  // file this call created is removed when the copy fails, so it is known
  // which: an exclusive create first, and when something is there already,
  // an open of it without O_CREAT. (libuv opens with O_CREAT alone and
  // unlinks the destination on any failure after that: Node's copyFile onto
  // an existing file whose copy fails removes it, onto a device that refuses
  // ftruncate, /dev/null as root, the device node itself.)
  bool created = false;
  int d = open(dest.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, from.st_mode);
  if (d >= 0) {
    created = true;
  } else if (errno == EEXIST && !(mode & kCopyExcl)) {
    d = open(dest.c_str(), O_WRONLY | O_CLOEXEC);
    // Gone since (or a dangling symlink, whose target O_CREAT creates, as
    // Node's open does): not known to be this call's, so never removed.
    if (d < 0 && errno == ENOENT) d = open(dest.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, from.st_mode);
  }
  if (d < 0) {
    int r = -errno;
    close(s);
    return r;
  }
  int result = 0;
  bool same = false;
  // Whether dest needs fchmod: always after O_EXCL (the mode given to open
  // went through the umask); otherwise unless its permission bits already
  // are src's, it is this user's (another's: Node's fchmod fails with EPERM
  // even for the same mode) and not set-group-ID (which Node's fchmod
  // clears where this user is not of the file's group).
  bool chmod = true;
  struct stat to;
  if (fstat(d, &to) != 0) {
    result = -errno;
    created = false;  // cannot be told from another file at that path
  } else if (!(mode & kCopyExcl)) {
    if (to.st_dev == from.st_dev && to.st_ino == from.st_ino) {
      same = true;
    } else {
      chmod = (to.st_mode & 07777) != (from.st_mode & 07777) || to.st_uid != geteuid() || (to.st_mode & S_ISGID) != 0;
      // An empty dest is not truncated when the copy writes into it: the
      // truncation changes nothing there, but on ext4 (auto_da_alloc) a
      // truncation to 0 marks the inode so that its close writes back all
      // the data the copy just dirtied, in this call (Node's libuv truncates
      // unconditionally; with COPYFILE_EXCL it does not either). An empty
      // source still truncates, for the times it sets as Node's does. Only a
      // regular file: a device (size 0) gets Node's ftruncate and its EINVAL,
      // not an fchmod to src's mode and a copy into it.
      bool truncate = to.st_size > 0 || from.st_size == 0 || !S_ISREG(to.st_mode);
      if (truncate && ftruncate(d, 0) != 0 && (errno != EACCES || to.st_size > 0)) result = -errno;
    }
  }
  if (!same && result == 0 && chmod && fchmod(d, from.st_mode) != 0 && (errno != EPERM || !IsCifs(d))) result = -errno;
  if (!same && result == 0) result = CopyData(s, d, mode, from.st_size, moved);
  int c = Close(d);
  if (result == 0) result = c;
  // A failed copy leaves no destination that it created (the unlink's own
  // result is ignored). Only while the path still names that file: another
  // process may have put its own file there since the create.
  struct stat now;
  if (result != 0 && created && lstat(dest.c_str(), &now) == 0 && now.st_dev == to.st_dev && now.st_ino == to.st_ino)
    unlink(dest.c_str());
  c = Close(s);
  if (result == 0) result = c;
  return result;
}

}  // namespace kaio
