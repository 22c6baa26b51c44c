// The one way an op is described to native: the staging record (nine
// doubles per op in a Float64Array shared with native, plus two places in
// the staged-memory array) and, per opcode, what each field of the record
// means. native/napi/js_ring.cc DecodeStaged reads the record by the kinds in
// its head, in one place, so adding an op is a row here and a method that
// stages it. Test 08 compares every number below with native's.
import { Op } from '../abi';

/** Fields of one staged op (doubles), by index. */
export const enum Field {
  /** opcode | SQE flags << 8 | addr kind << 16 | off kind << 20 | HEAD_IOPRIO */
  Head = 0,
  /** fd, or a registered file's index (with IOSQE_FIXED_FILE) */
  Fd = 1,
  /** off, when the off kind is Number (-1: the file's current position) */
  Off = 2,
  /** the op's flags: rw_flags, fsync_flags, open_flags, statx_flags */
  OpFlags = 3,
  /** user_data, low 32 bits (the slot id or the batch tag) */
  UserLow = 4,
  /** user_data, high 32 bits (Kind, and a registered buffer's index) */
  UserHigh = 5,
  /** len: bytes JS checked (a view), or a mode or mask */
  Len = 6,
  /** a view read/write on this ring's registered buffer: index * INDEX_UNIT + offset in it; -1: none */
  Fixed = 7,
  /** addr, when the addr kind is Number */
  Addr = 8,
}
export const STAGE_FIELDS = 9;

/** How native finds addr. Memory sits at staged-memory index 2i. */
export const enum AddrKind {
  None = 0,
  /** a view; Len is its byte length, checked by JS at the call */
  View = 1,
  /** kaio's [view, length, view, length, ...] copy of a readv/writev list */
  Iovecs = 2,
  /** kaio's own NUL-terminated path */
  CString = 3,
  /** the number in Field.Addr */
  Number = 4,
  /** a bigint at 2i (a length past 2^53) */
  BigInt = 5,
}

/** How native finds off. Memory sits at staged-memory index 2i + 1. */
export const enum OffKind {
  /** Field.Off (-1: the current position) */
  Number = 0,
  /** a bigint position at 2i + 1 (past 2^53) */
  BigInt = 1,
  /** the address of kaio's own view at 2i + 1 (statx's out) */
  View = 2,
}

/** What each of an op's arguments fills, for the ops kaio stages. */
export interface OpRow {
  readonly op: Op;
  readonly addr: AddrKind;
  /** Number: a position (a bigint one is staged as OffKind.BigInt); View: kaio's out buffer. */
  readonly off: OffKind;
  /** What the SQE's fields carry, for the reader (and the docs). */
  readonly fields: Readonly<Partial<Record<'fd' | 'off' | 'addr' | 'len' | 'opFlags', string>>>;
}

export const OP_TABLE: readonly OpRow[] = [
  { op: Op.NOP, addr: AddrKind.None, off: OffKind.Number, fields: {} },
  { op: Op.READ, addr: AddrKind.View, off: OffKind.Number, fields: { fd: 'file', off: 'position', addr: 'the buffer', len: 'its byte length', opFlags: 'RWF_*' } },
  { op: Op.WRITE, addr: AddrKind.View, off: OffKind.Number, fields: { fd: 'file', off: 'position', addr: 'the buffer', len: 'its byte length', opFlags: 'RWF_*' } },
  { op: Op.READV, addr: AddrKind.Iovecs, off: OffKind.Number, fields: { fd: 'file', off: 'position', addr: 'the iovecs', len: 'their count (from the list)', opFlags: 'RWF_*' } },
  { op: Op.WRITEV, addr: AddrKind.Iovecs, off: OffKind.Number, fields: { fd: 'file', off: 'position', addr: 'the iovecs', len: 'their count (from the list)', opFlags: 'RWF_*' } },
  { op: Op.FSYNC, addr: AddrKind.None, off: OffKind.Number, fields: { fd: 'file', opFlags: 'IORING_FSYNC_DATASYNC' } },
  { op: Op.FALLOCATE, addr: AddrKind.Number, off: OffKind.Number, fields: { fd: 'file', off: 'offset', addr: 'length', len: 'mode' } },
  { op: Op.OPENAT, addr: AddrKind.CString, off: OffKind.Number, fields: { fd: 'dirfd', addr: 'path', len: 'mode', opFlags: 'O_* flags' } },
  { op: Op.CLOSE, addr: AddrKind.None, off: OffKind.Number, fields: { fd: 'the fd to close' } },
  { op: Op.STATX, addr: AddrKind.CString, off: OffKind.View, fields: { fd: 'dirfd', addr: 'path', off: 'struct statx out', len: 'STATX_* mask', opFlags: 'AT_* flags' } },
  { op: Op.RENAMEAT, addr: AddrKind.CString, off: OffKind.View, fields: { fd: 'old dirfd', addr: 'old path', len: 'new dirfd', off: 'new path (addr2)', opFlags: 'RENAME_* flags' } },
  { op: Op.UNLINKAT, addr: AddrKind.CString, off: OffKind.Number, fields: { fd: 'dirfd', addr: 'path', opFlags: 'AT_REMOVEDIR' } },
  { op: Op.MKDIRAT, addr: AddrKind.CString, off: OffKind.Number, fields: { fd: 'dirfd', addr: 'path', len: 'mode' } },
  { op: Op.SYMLINKAT, addr: AddrKind.CString, off: OffKind.View, fields: { fd: 'new dirfd', addr: 'target', off: 'link path (addr2)' } },
  { op: Op.FTRUNCATE, addr: AddrKind.None, off: OffKind.Number, fields: { fd: 'file', off: 'length' } },
  { op: Op.POLL_ADD, addr: AddrKind.None, off: OffKind.Number, fields: { fd: 'the fd to wait on', opFlags: 'poll events (POLLOUT...), one shot' } },
  { op: Op.SPLICE, addr: AddrKind.Number, off: OffKind.Number, fields: { fd: 'fd_out', off: 'off_out (-1: a pipe)', addr: 'off_in (-1: a pipe)', len: 'bytes', opFlags: 'SPLICE_F_*; fd_in goes in Field.Fixed' } },
  { op: Op.LINKAT, addr: AddrKind.CString, off: OffKind.View, fields: { fd: 'old dirfd', addr: 'old path', len: 'new dirfd', off: 'new path (addr2)', opFlags: 'AT_SYMLINK_FOLLOW' } },
];

/** Field.Head's kind bits by opcode (0 for ops not in the table). */
export const HEAD_KINDS = (() => {
  const t = new Uint32Array(256);
  for (const row of OP_TABLE) t[row.op] = (row.addr << 16) | (row.off << 20);
  return t;
})();

/** Opcodes in the table, by number: 1 where kaio stages the op. */
export const STAGED_OPS = (() => {
  const t = new Uint8Array(256);
  for (const row of OP_TABLE) t[row.op] = 1;
  return t;
})();

/**
 * Field.Head bit: a read or write carries an SQE ioprio (kaio bench's
 * cmdprio), in Field.Addr, which their View addr kind leaves unused. Ops
 * without it cost native one bit test.
 */
export const HEAD_IOPRIO = 1 << 24;

/**
 * Field.Head bit: a read with RWF_NOWAIT straight into the caller's memory
 * (FileHandle's page-cache first try; native KeepDirect says when its SQE
 * keeps that address).
 */
export const HEAD_NOWAIT_DIRECT = 1 << 25;

export const ADDR_SHIFT = 16;
export const OFF_SHIFT = 20;
