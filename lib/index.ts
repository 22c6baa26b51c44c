// kaio: kernel async file I/O for Node.js.
export { Ring, MAX_ENTRIES, MAX_CQ_ENTRIES } from './ring';
export type {
  RingOptions,
  OpOptions,
  RwOptions,
  FsyncOptions,
  FallocateOptions,
  OpenOptions,
  StatxOptions,
  RingStats,
  RingParams,
  Fd,
} from './ring';
export { FixedFile } from './fixed-file';
export type { StatxResult } from './statx';
export { probe } from './probe';
export type { ProbeResult } from './probe';
export { AbortError } from './errors';
export type { ErrnoError } from './errors';
export { open, File, defaultContext } from './file';
export type { FileIo, OpenFileOptions, ReadResult, WriteResult } from './file';
