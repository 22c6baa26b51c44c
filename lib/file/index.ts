// kaio's node:fs/promises file surface: open() returning a FileHandle,
// readFile/writeFile/appendFile. FileHandle is in handle.ts, streams in
// streams.ts, open() in open.ts, the module-level functions in read-file.ts.
import { FileHandle } from './handle';

export { FileHandle } from './handle';
export type { FileIo, ReadResult, WriteResult, ReadOptions, ReadFileOptions, WriteFileOptions, WriteFileData } from './handle';
export type { ReadStreamOptions, WriteStreamOptions } from './streams';
export { open, defaultContext } from './open';
export type { OpenFileOptions } from './open';
export { readFile, writeFile, appendFile } from './read-file';
export type { KaioReadFileOptions, KaioWriteFileOptions } from './read-file';

/** @deprecated Use FileHandle (File shadows the global File of Node 20). */
export const File = FileHandle;
/** @deprecated Use FileHandle. */
export type File = FileHandle;
