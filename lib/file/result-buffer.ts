// The Buffers readFile returns. Big files (RESULT_MEMORY_FROM and up):
// native/core/result_memory.h's mappings with transparent huge pages, where
// the kernel's copy of the file takes one page fault per 2 MiB instead of
// one per 4 KiB. From KEPT_FROM: its kept memory, pages already faulted in
// by an earlier result that was collected. Smaller: Node's allocator.
import { binding } from '../binding';

export const RESULT_MEMORY_FROM = 2 * 1024 * 1024;

/**
 * Results of KEPT_FROM bytes up to RESULT_MEMORY_FROM come from kept memory
 * (core/result_memory.h KeptAlloc). A fresh 64 KiB Buffer from Node's
 * allocator took 2 page faults per file in a warm process (glibc trims the
 * heap's top as results die, then grows it again), kept memory 0.2-0.3,
 * and less CPU per file (BENCHMARKS.md, "readFile of 64 KiB files"). Below
 * 16 KiB the Buffer's finalizer (an external Buffer's, run by Node in a
 * later turn) costs as much as the faults it saves.
 */
export const KEPT_FROM = 16 * 1024;

/**
 * readFile's step into such a buffer: one huge page per read. Like Node's
 * 512 KiB step, it bounds how long one event-loop turn copies; copying into
 * huge pages, 2 MiB took about what 512 KiB into fresh 4 KiB pages takes
 * (BENCHMARKS.md, peers: 64 MiB file), in a quarter of the trips.
 */
export const RESULT_READ_STEP = 2 * 1024 * 1024;

/** As kaio loaded (a caller replacing Buffer's functions later never gets readFile's memory in flight). */
const allocUnsafeSlow = Buffer.allocUnsafeSlow;

/** `size` (> 0) uninitialized bytes for a file's contents. */
export function resultBuffer(size: number): Buffer {
  if (size >= KEPT_FROM) {
    const b = size >= RESULT_MEMORY_FROM ? binding.resultBuffer(size) : binding.keptBuffer(size);
    if (b !== undefined) return b;
  }
  return allocUnsafeSlow(size);
}
