// Kernel constants kaio uses, in one place: io_uring opcodes (enum
// io_uring_op), setup and feature flags, statx masks. Minimum kernel in the
// comment; probe() asks the running kernel which ones it really has.

export const enum Op {
  NOP = 0, // 5.1
  READV = 1, // 5.1
  WRITEV = 2, // 5.1
  FSYNC = 3, // 5.1
  READ_FIXED = 4, // 5.1
  WRITE_FIXED = 5, // 5.1
  POLL_ADD = 6, // 5.1
  ASYNC_CANCEL = 14, // 5.5
  FALLOCATE = 17, // 5.6
  OPENAT = 18, // 5.6
  CLOSE = 19, // 5.6
  STATX = 21, // 5.6
  READ = 22, // 5.6
  WRITE = 23, // 5.6
  SPLICE = 30, // 5.7
  RENAMEAT = 35, // 5.11
  UNLINKAT = 36, // 5.11
  MKDIRAT = 37, // 5.15
  SYMLINKAT = 38, // 5.15
  LINKAT = 39, // 5.15
  FTRUNCATE = 55, // 6.9
  READV_FIXED = 60, // 6.15
  WRITEV_FIXED = 61, // 6.15
}

/** Names of every opcode up to Linux 6.18, by number (IORING_OP_ without the prefix). */
export const OP_NAMES: readonly string[] = [
  'NOP', 'READV', 'WRITEV', 'FSYNC', 'READ_FIXED', 'WRITE_FIXED', 'POLL_ADD', 'POLL_REMOVE',
  'SYNC_FILE_RANGE', 'SENDMSG', 'RECVMSG', 'TIMEOUT', 'TIMEOUT_REMOVE', 'ACCEPT', 'ASYNC_CANCEL',
  'LINK_TIMEOUT', 'CONNECT', 'FALLOCATE', 'OPENAT', 'CLOSE', 'FILES_UPDATE', 'STATX', 'READ', 'WRITE',
  'FADVISE', 'MADVISE', 'SEND', 'RECV', 'OPENAT2', 'EPOLL_CTL', 'SPLICE', 'PROVIDE_BUFFERS',
  'REMOVE_BUFFERS', 'TEE', 'SHUTDOWN', 'RENAMEAT', 'UNLINKAT', 'MKDIRAT', 'SYMLINKAT', 'LINKAT',
  'MSG_RING', 'FSETXATTR', 'SETXATTR', 'FGETXATTR', 'GETXATTR', 'SOCKET', 'URING_CMD', 'SEND_ZC',
  'SENDMSG_ZC', 'READ_MULTISHOT', 'WAITID', 'FUTEX_WAIT', 'FUTEX_WAKE', 'FUTEX_WAITV',
  'FIXED_FD_INSTALL', 'FTRUNCATE', 'BIND', 'LISTEN', 'RECV_ZC', 'EPOLL_WAIT', 'READV_FIXED',
  'WRITEV_FIXED', 'PIPE', 'NOP128', 'URING_CMD128',
];

export function opName(op: number): string {
  return OP_NAMES[op] ?? `OP_${op}`;
}

/** IORING_FEAT_* bit names, by bit. */
export const FEATURE_NAMES: readonly string[] = [
  'SINGLE_MMAP', 'NODROP', 'SUBMIT_STABLE', 'RW_CUR_POS', 'CUR_PERSONALITY', 'FAST_POLL',
  'POLL_32BITS', 'SQPOLL_NONFIXED', 'EXT_ARG', 'NATIVE_WORKERS', 'RSRC_TAGS', 'CQE_SKIP',
  'LINKED_FILE', 'REG_REG_RING', 'RECVSEND_BUNDLE', 'MIN_TIMEOUT', 'RW_ATTR', 'NO_IOWAIT',
];

/** IORING_SETUP_* bit names, by bit. */
export const SETUP_FLAG_NAMES: readonly string[] = [
  'IOPOLL', 'SQPOLL', 'SQ_AFF', 'CQSIZE', 'CLAMP', 'ATTACH_WQ', 'R_DISABLED', 'SUBMIT_ALL',
  'COOP_TASKRUN', 'TASKRUN_FLAG', 'SQE128', 'CQE32', 'SINGLE_ISSUER', 'DEFER_TASKRUN', 'NO_MMAP',
  'REGISTERED_FD_ONLY', 'NO_SQARRAY', 'HYBRID_IOPOLL', 'CQE_MIXED', 'SQE_MIXED',
];

export function bitNames(bits: number, names: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < 32; i++) if (bits & (1 << i)) out.push(names[i] ?? `BIT_${i}`);
  return out;
}

export const SQE_FIXED_FILE = 1 << 0;
export const FSYNC_DATASYNC = 1 << 0;
export const FEAT_RW_CUR_POS = 1 << 3;
export const SETUP_SQPOLL = 1 << 1;
/** SQPOLL rings take plain fds (5.11); before, only registered files. */
export const FEAT_SQPOLL_NONFIXED = 1 << 7;
export const SETUP_IOPOLL = 1 << 0;

/** user_data high word: which layer an op belongs to. */
export const enum Kind {
  /** The promise API (op-queue.ts): user_data low is the slot id. */
  Promise = 0,
  /** The batch API (ring/batch.ts): user_data low is the caller's tag. */
  Batch = 1,
  /** kaio's own (cancels): never shown to anyone. */
  Internal = 2,
  /** The batch API on one of pool.buffers registered with this ring: the buffer index sits above the kind (ring/batch.ts). */
  BatchFixed = 3,
}
export const KIND_SHIFT = 2 ** 32;

// statx(2) (include/uapi/linux/stat.h).
export const STATX_BUF_SIZE = 256;
export const STATX_BASIC_STATS = 0x7ff;
export const STATX_BTIME = 0x800;
export const STATX_DIOALIGN = 0x2000; // 6.1
export const STATX_DEFAULT_MASK = STATX_BASIC_STATS | STATX_BTIME | STATX_DIOALIGN;
