// Memory for the Buffers that readFile returns for big files (and, below,
// kept memory for mid-size ones). A fresh Buffer
// from Node's allocator (glibc malloc) of megabytes is a fresh anonymous
// mapping, and the kernel's copy of the file into it takes a page fault
// every 4 KiB (in this KVM guest most of readFile's CPU for a 64 MiB file).
// Here the mapping is aligned to 2 MiB and asks for transparent huge pages
// (MADV_HUGEPAGE): one fault per 2 MiB instead of 512, and fewer TLB misses
// in the copy. Plain C++ that knows nothing of JavaScript.
#pragma once

#include <cstddef>

namespace kaio {

// Below this a mapping holds no whole huge page: Node's allocator serves.
constexpr size_t kResultHugeFrom = 2 * 1024 * 1024;

struct ResultChunk {
  void* base = nullptr;
  size_t mapped = 0;  // what ResultFree needs back
};

// At least `length` writable bytes, 2 MiB-aligned, huge pages asked for
// where the kernel has them; false when no memory could be mapped.
bool ResultAlloc(size_t length, ResultChunk* out);
// Unmaps a chunk from ResultAlloc. Safe from any thread.
void ResultFree(const ResultChunk& chunk);

// Mid-size results (below kResultHugeFrom): memory from the C allocator that
// is kept, already faulted in, for the next result of its size class once
// the Buffer over it is collected, up to kKeptBytes in all; beyond that it
// goes back to the allocator. A fresh 64 KiB Buffer from Node's allocator
// is often fresh pages (glibc trims the heap's top as results die, then
// grows it again), and the kernel's copy of the file faults in each 4 KiB.
constexpr size_t kKeptBytes = 16 * 1024 * 1024;
// At least `length` (> 0, < kResultHugeFrom) bytes; out->mapped is the
// class's size, which KeptFree needs back. False when the allocator failed.
bool KeptAlloc(size_t length, ResultChunk* out);
// Keeps the chunk for the next KeptAlloc of its class, or frees it. Safe
// from any thread.
void KeptFree(const ResultChunk& chunk);

}  // namespace kaio
