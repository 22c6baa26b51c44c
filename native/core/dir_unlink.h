// rm -r below the path it was given (kaio/fs/promises, lib/fs/tree.ts):
// Node's rimraf (lib/internal/fs/rimraf.js, retries off), step for step, as
// one walk in the calling thread (a thread of libuv's pool), every op
// relative to the fd of its parent directory: each directory is opened with
// openat(parent's fd, name, O_DIRECTORY | O_NOFOLLOW), listed with
// getdents64(2), its entries unlinked or removed with unlinkat(fd, name),
// then the directory itself with unlinkat(parent's fd, name, AT_REMOVEDIR).
// A level swapped for a symlink, or renamed, after the walk opened it can
// make an op fail (ENOENT, ENOTDIR, ELOOP) or go on in the directory the
// walk opened, never lead it out of the tree. Plain C++ that speaks errno.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kaio {

// The syscall Node's rimraf names in the error it reports.
enum RmSyscall : uint8_t { kRmRmdir = 0, kRmUnlink = 1, kRmScandir = 2 };

struct RmError {
  int err = 0;  // positive errno; 0: none
  RmSyscall syscall = kRmRmdir;
  std::string path;  // the whole path Node's op would have used
};

// Node's _rmchildren of dir (a directory whose rmdir said ENOTEMPTY, EEXIST
// or EPERM): every entry as Node's rimraf removes it, then dir's rmdir, in
// three calls so that the caller can run dir's subdirectories in parallel:
// RemoveChildrenBegin, RemoveSubtree for each directory it left, then
// RemoveChildrenEnd. dir itself is reached as its path names it (its parent
// opened by path, symlinks followed, then dir with O_NOFOLLOW: a symlink
// found there is unlinked, not followed); nothing below it is reached by
// path. Errors as Node's rimraf gives them (a missing entry below dir is no
// error; ENOENT of dir itself is the caller's). An entry whose whole path
// reaches PATH_MAX is Node's ENAMETOOLONG from unlink (Node's rimraf walks
// by path), left untouched.
struct RmDirHandle {
  int pfd = -1;  // dir's parent (O_PATH), or AT_FDCWD
  int fd = -1;   // dir, open to be listed
  std::string path;  // dir's whole path
  std::string name;  // dir's name in pfd
};
enum RmBegin : int { kRmDone = 0, kRmFailed = 1, kRmHeld = 2 };
// Opens and lists dir and removes its entries that are not directories:
// kRmDone (dir removed: nothing was left; or a symlink found there
// unlinked), kRmFailed (*e; nothing held), or kRmHeld: *h holds dir's
// fds, *dirs names its subdirectories, and e->err is 0 or the first failure
// among the entries done.
int RemoveChildrenBegin(const std::string& dir, RmDirHandle* h, std::vector<std::string>* dirs, RmError* e);
// Node's rimraf of the subdirectory `name` of h's directory (thread-safe:
// several at once on one h).
bool RemoveSubtree(const RmDirHandle& h, const std::string& name, RmError* e);
// Closes h's fds; with rmdir, h's directory is removed first (relative to
// its parent's fd).
bool RemoveChildrenEnd(RmDirHandle* h, bool rmdir, RmError* e);
void CloseRmDir(RmDirHandle* h);

// Test hook: once, when the walk reaches the moment `when` for an entry
// named `name`, rename(from, to) (if from is not empty), then
// symlink(link, from) (if link is not empty). Empty name: disarmed.
enum RmHookAt : int { kRmHookBeforeOpen = 0, kRmHookAfterFailedUnlink = 1, kRmHookBeforeFinalRmdir = 2 };
void SetRmHook(int when, const std::string& name, const std::string& from, const std::string& to, const std::string& link);

}  // namespace kaio
