// What a FileHandle needs from its context: every kaio backend (IoContext)
// provides it. A type alone, so the file/ modules can share it without a circle.
import type { IoContext } from '../types';

/** What a FileHandle needs from its context; every kaio backend (IoContext) provides it. */
export type FileIo = Pick<IoContext, 'read' | 'write' | 'readv' | 'writev' | 'fsync'> & { readonly backend?: string };

export interface ReadResult<T extends ArrayBufferView> {
  bytesRead: number;
  buffer: T;
}

export interface WriteResult<T> {
  bytesWritten: number;
  buffer: T;
}
