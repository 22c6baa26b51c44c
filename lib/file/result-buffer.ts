// The Buffers readFile returns for big files (RESULT_MEMORY_FROM and up):
// native/core/result_memory.h's mappings with transparent huge pages, where
// the kernel's copy of the file takes one page fault per 2 MiB instead of
// one per 4 KiB. Smaller: Node's allocator.
import { binding } from '../binding';

export const RESULT_MEMORY_FROM = 2 * 1024 * 1024;

/**
 * readFile's step into such a buffer: one huge page per read. Like Node's
 * 512 KiB step, it bounds how long one event-loop turn copies; copying into
 * huge pages, 2 MiB took about what 512 KiB into fresh 4 KiB pages takes
 * (BENCHMARKS.md, peers: 64 MiB file), in a quarter of the trips.
 */
export const RESULT_READ_STEP = 2 * 1024 * 1024;

/** `size` (> 0) uninitialized bytes for a file's contents. */
export function resultBuffer(size: number): Buffer {
  if (size >= RESULT_MEMORY_FROM) {
    const b = binding.resultBuffer(size);
    if (b !== undefined) return b;
  }
  return Buffer.allocUnsafeSlow(size);
}
