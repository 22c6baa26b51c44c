// The io_uring backend: Ring (ring.ts) and what it is made of — staging.ts
// (ops written to the SQ in one native call per tick), registration.ts
// (buffers and files), args.ts (path and flag arguments), statx.ts,
// fixed-file.ts.
export { Ring, MAX_ENTRIES, MAX_CQ_ENTRIES, MAX_FIXED_FILES } from './ring';
export type { RingOptions, RingStats, RingParams, Fd, RegisterFilesOptions } from './ring';
export { FixedFile } from './fixed-file';
export { parseOpenFlags } from './args';
