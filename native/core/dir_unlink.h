// rm -r's inner step for one directory (kaio/fs/promises, lib/fs/tree.ts):
// list the directory with getdents64(2) and unlink, relative to the
// directory's fd, each entry that is not a directory, in the calling thread
// (a thread of libuv's pool: the ring has no getdents op, and one thread
// doing the unlinks in a row costs the kernel least, as the entries share
// the directory's lock). What it cannot decide as Node's rimraf would (a
// directory, an entry whose type the filesystem does not give, a path too
// long for unlink(2) by name) goes back to the caller. Plain C++ that
// speaks -errno.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kaio {

// What UnlinkEntries found for one entry it did not remove.
enum EntryKind : uint8_t {
  kEntryDir = 0,      // d_type says directory: the caller recurses
  kEntryUnknown = 1,  // DT_UNKNOWN: the caller lstat()s it
  kEntryLong = 2,     // its whole path reaches PATH_MAX (whatever its type): the caller unlinks it by that path
  kEntryFailed = 3,   // unlinkat failed (neither ENOENT nor success): errno given
};

// Lists dir (a path, without its NUL), the whole listing first, then
// unlinks what it can. out gets,
// per entry left: kind (1 byte), errno (int32, little-endian: the positive
// errno for kEntryFailed, else 0), name length (uint16), the name's bytes.
// When nothing was left and rmdir is true, the directory itself is removed
// (rmdir(2) by its path) and *rmdir_result is 0 or -errno; else it is 1 (not
// tried). Returns 0, or -errno of opening or listing the directory (then
// nothing was unlinked).
// root_len: the length of the root rm -r was asked for, when dir is below
// it (dir[root_len] is '/'): no symlink is followed after it (ELOOP where a
// level was swapped for one); 0: dir is opened by its whole path.
int UnlinkEntries(const std::string& dir, size_t root_len, bool rmdir, std::vector<uint8_t>* out, int* rmdir_result);

}  // namespace kaio
