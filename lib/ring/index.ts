// The io_uring backend: Ring (ring.ts) and what it is made of — staging.ts
// (ops written to the SQ in one native call per tick), registration.ts
// (buffers and files), args.ts (path and flag arguments), statx.ts,
// fixed-file.ts.
export { Ring, MAX_ENTRIES, MAX_CQ_ENTRIES } from './ring';
export type { RingOptions, RingStats, RingParams, Fd } from './ring';
export { MAX_FIXED_FILES } from './registration';
export type { RegisterFilesOptions } from './registration';
export { FixedFile } from './fixed-file';
export { parseOpenFlags } from './args';
