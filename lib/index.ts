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
export { createContext } from './context';
export type { IoContext, Backend, ContextOptions, ContextStats, BackendChoice } from './context';
export { AioContext } from './aio';
export type { AioContextOptions, AioContextStats, AioContextParams } from './aio';
export { ThreadpoolContext } from './threadpool';
export type { ThreadpoolContextOptions } from './threadpool';
export type { ErrnoError } from './errors';
