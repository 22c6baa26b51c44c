// kaio: kernel async file I/O for Node.js.
export { Ring, MAX_ENTRIES, MAX_CQ_ENTRIES, MAX_FIXED_FILES } from './ring';
export type { OpOptions, SpliceOptions, RwOptions, FsyncOptions, FallocateOptions, OpenOptions, StatxOptions, StatxResult, DirfdOptions, UnlinkatOptions, TwoPathOptions } from './types';
export type { IoContext, Backend, ContextStats } from './types';
export type {
  RingOptions,
  RingStats,
  RingParams,
  Fd,
  RegisterFilesOptions,
} from './ring';
export { FixedFile } from './ring';
export { BufferPool, alignedBuffer, MAX_POOL_BUFFERS, MAX_BUFFER_SIZE } from './pool';
export type { BufferPoolOptions, MemlockError } from './pool';
export { dioAlignment } from './dio';
export type { DioAlignment } from './dio';
export { probe } from './probe';
export type { ProbeResult } from './probe';
export { AbortError } from './errors';
export { createContext } from './context';
export type { ContextOptions, BackendChoice } from './context';
export { AioContext } from './aio';
export type { AioContextOptions, AioContextStats, AioContextParams } from './aio';
export { ThreadpoolContext } from './threadpool';
export type { ThreadpoolContextOptions, ThreadpoolContextStats } from './threadpool';
export type { ErrnoError } from './errors';
export { open, FileHandle, File, defaultContext, readFile, writeFile, appendFile } from './file';
export { createReadStream, createWriteStream } from './fs/streams';
export { sendFile } from './fs/sendfile';
export type { SendFileOptions, SendFileError } from './fs/sendfile';
export type { KaioReadStreamOptions, KaioWriteStreamOptions, KaioStreamOptions } from './fs/streams';
export type {
  FileIo,
  OpenFileOptions,
  ReadResult,
  WriteResult,
  ReadOptions,
  ReadFileOptions,
  WriteFileOptions,
  WriteFileData,
  ReadStreamOptions,
  WriteStreamOptions,
  KaioReadFileOptions,
  KaioWriteFileOptions,
} from './file';
