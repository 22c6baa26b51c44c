// copyFile of kaio/fs/promises (lib/fs/copy.ts) as one native step, in the
// calling thread (a thread of libuv's pool, one trip for the whole copy):
// the steps of libuv's uv_fs_copyfile, written here, with the data moved
// inside the kernel by copy_file_range(2), which io_uring has no op for.
// What copy_file_range refuses (another filesystem: EXDEV before 5.19 or of
// another type since; a filesystem or kind of file without it: EINVAL,
// EOPNOTSUPP; a kernel or seccomp filter without it: ENOSYS, EPERM) is
// copied from where it stopped by sendfile(2), and what sendfile refuses by
// pread/pwrite. Plain C++ that speaks -errno.
#pragma once

#include <cstdint>
#include <string>

namespace kaio {

// copyFile's mode bits (Node's fs.constants.COPYFILE_*).
constexpr int kCopyExcl = 1;
constexpr int kCopyClone = 2;
constexpr int kCopyCloneForce = 4;

// How the data went (for tests and benchmarks): a bit per way used.
constexpr int kMovedClone = 1;
constexpr int kMovedCopyRange = 2;
constexpr int kMovedSendfile = 4;
constexpr int kMovedReadWrite = 8;

// Copies the file at src to dest as Node's copyFile(src, dest, mode):
// open src; its mode and size (fstat); create dest O_WRONLY|O_CREAT|O_EXCL
// with src's mode, or, unless kCopyExcl, open the one there O_WRONLY; unless exclusive, a dest that is src
// itself is left alone and done, an existing one is truncated (EACCES on an
// empty file is no failure: ceph-fuse) unless it is empty and src is not
// (on ext4 a truncation to 0 makes close write back what was copied);
// fchmod to src's mode unless dest's permission bits already are src's
// (EPERM on CIFS/SMB is no failure); with kCopyClone or kCopyCloneForce an ioctl
// FICLONE first (done if it works; with kCopyCloneForce its error is the
// result); then src's size in bytes, or up to where src ends if it shrank
// meanwhile (Node's libuv loops forever there: kaio stops). On failure a
// dest this call created is unlinked (while the path still names it); one
// that was there before is left (Node's libuv unlinks it too, even a device
// node that refused the ftruncate). Returns 0 or -errno; *moved gets the
// kMoved* bits of the ways the bytes went.
int CopyFile(const std::string& src, const std::string& dest, int mode, int* moved);

}  // namespace kaio
