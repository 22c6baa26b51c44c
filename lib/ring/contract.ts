// The numbers TypeScript uses where it talks to native, as TypeScript has
// them (its const enums are inlined at compile time, so they are gathered
// here as values). Test 08 compares this object with native's own
// (binding.contract, native/napi/js_ring.cc RingContract): a change made on one
// side only fails the suite instead of mis-encoding ops.
import { FEAT_RW_CUR_POS, FSYNC_DATASYNC, Kind, KIND_SHIFT, Op, SQE_FIXED_FILE } from '../abi';
import { BackendCounter, BackendOp, CQE_INTS, Counter, type NativeContract } from '../binding';
import { AddrKind, Field, HEAD_IOPRIO, HEAD_NOWAIT_DIRECT, OffKind, STAGE_FIELDS } from './op-table';
import { INDEX_UNIT } from './staging';

export function tsContract(): NativeContract {
  return {
    ops: {
      NOP: Op.NOP, READV: Op.READV, WRITEV: Op.WRITEV, FSYNC: Op.FSYNC, READ_FIXED: Op.READ_FIXED,
      WRITE_FIXED: Op.WRITE_FIXED, ASYNC_CANCEL: Op.ASYNC_CANCEL, FALLOCATE: Op.FALLOCATE, OPENAT: Op.OPENAT,
      CLOSE: Op.CLOSE, STATX: Op.STATX, READ: Op.READ, WRITE: Op.WRITE, RENAMEAT: Op.RENAMEAT, UNLINKAT: Op.UNLINKAT,
      MKDIRAT: Op.MKDIRAT, SYMLINKAT: Op.SYMLINKAT, LINKAT: Op.LINKAT, FTRUNCATE: Op.FTRUNCATE, SPLICE: Op.SPLICE, POLL_ADD: Op.POLL_ADD, READV_FIXED: Op.READV_FIXED,
      WRITEV_FIXED: Op.WRITEV_FIXED,
    },
    stage: {
      fields: STAGE_FIELDS, head: Field.Head, fd: Field.Fd, off: Field.Off, opFlags: Field.OpFlags,
      userLow: Field.UserLow, userHigh: Field.UserHigh, len: Field.Len, fixed: Field.Fixed, addr: Field.Addr,
      indexUnit: INDEX_UNIT,
      addrNone: AddrKind.None, addrView: AddrKind.View, addrIovecs: AddrKind.Iovecs, addrCString: AddrKind.CString,
      addrNumber: AddrKind.Number, addrBigInt: AddrKind.BigInt,
      offNumber: OffKind.Number, offBigInt: OffKind.BigInt, offView: OffKind.View,
      headIoprio: HEAD_IOPRIO, headNowaitDirect: HEAD_NOWAIT_DIRECT,
    },
    counters: {
      Submitted: Counter.Submitted, Completed: Counter.Completed, EnterCalls: Counter.EnterCalls,
      FixedOps: Counter.FixedOps, InFlight: Counter.InFlight, Slots: Counter.Slots,
    },
    backendOps: {
      Read: BackendOp.Read, Write: BackendOp.Write, Readv: BackendOp.Readv, Writev: BackendOp.Writev,
      Fsync: BackendOp.Fsync, Fdatasync: BackendOp.Fdatasync,
    },
    backendCounters: {
      Submitted: BackendCounter.Submitted, Completed: BackendCounter.Completed, SubmitCalls: BackendCounter.SubmitCalls,
      LockedOps: BackendCounter.LockedOps, InFlight: BackendCounter.InFlight, GeteventsCalls: BackendCounter.GeteventsCalls,
      Pending: BackendCounter.Pending, Slots: BackendCounter.Slots,
    },
    completionInts: CQE_INTS,
    sqeFixedFile: SQE_FIXED_FILE,
    fsyncDatasync: FSYNC_DATASYNC,
    featRwCurPos: FEAT_RW_CUR_POS,
    cancelUserData: Kind.Internal * KIND_SHIFT,
  };
}
