// copyFile's data step (kaio/fs/promises, lib/fs/copy.ts): the bytes of one
// open file into another inside the kernel, with copy_file_range(2) (which
// io_uring has no op for), in the calling thread (a thread of libuv's pool).
// First, where asked, a clone of the whole file (ioctl FICLONE), as
// COPYFILE_FICLONE / COPYFILE_FICLONE_FORCE ask of libuv's uv_fs_copyfile.
// What copy_file_range cannot do here (another filesystem on kernels before
// 5.19 or of another type, a filesystem without it, a seccomp filter that
// refuses it) goes back to the caller, with the bytes already copied, to
// finish another way. Plain C++ that speaks -errno.
#pragma once

#include <cstdint>

namespace kaio {

// How CopyRange ended (besides -errno, a failure to report).
enum CopyRangeEnd : int {
  kCopyDone = 0,      // size bytes copied, or the source ended first (EOF): *copied says how many
  kCopyFallback = 1,  // copy_file_range refused (the errno is in *refused): the caller copies the rest from *copied
};

// Copies up to `size` bytes from offset 0 of src to offset 0 of dst, the
// file offsets of neither fd used or moved. clone: try ioctl(dst, FICLONE,
// src) first (done on success, *copied = size); clone_force: its failure is
// the result (-errno). Short copies go on where they stopped; EINTR is
// retried; a copy that returns 0 before `size` stops there (the source
// shrank). Returns kCopyDone, kCopyFallback, or -errno.
int CopyRange(int src, int dst, int64_t size, bool clone, bool clone_force, int64_t* copied, int* refused);

}  // namespace kaio
