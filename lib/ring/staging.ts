// Staging: ops written as numbers into a Float64Array shared with native and
// moved into the SQ by one native call per tick (fillStaged), instead of one
// N-API call per op, which cost more than the kernel's work for a NOP.
//
// The layout, seven doubles per op (read by DecodeStaged in native/js_ring.cc):
//   [0] opcode | sqeFlags << 8   [1] fd   [2] offset (-1: current position)
//   [3] op flags (RWF_*, FSYNC_DATASYNC)  [4] user_data low  [5] user_data high
//   [6] byte length JS checked (read/write)
//   [7] read/write on a registered buffer of this ring: its table index *
//       2^30 + the offset in it (-1: none; see fixedAt). Native then needs no
//       view: the pool cannot be released while the op holds it.
// Other memory sits at the same index of `mem`: a view, or for readv/writev
// kaio's [view, length, view, length, ...] copy of the list.
import { Counter, type NativeRing, type NativeRingInfo } from '../binding';
import { Op } from '../abi';
import { poolBufferIndex, type BufferPool } from '../pool';
import { viewByteOffset } from '../validate';

export const STAGE_FIELDS = 8;
/** Registered buffers are at most 1 GiB: offsets in one stay below this. */
export const INDEX_UNIT = 2 ** 30;

/**
 * Field [7] for `bytes` of `view`, which lies in `pool` (held by the op):
 * the buffer index in `ring`'s table and the offset in that buffer, or -1
 * when the ring did not register the pool or the range spans two buffers.
 */
export function fixedAt(pool: BufferPool, ring: object, view: ArrayBufferView, bytes: number): number {
  const first = pool._fixedFirst(ring);
  if (first < 0) return -1;
  const size = pool.size;
  // One of pool.buffers itself: its index is known, its offset 0.
  const own = poolBufferIndex(view);
  if (own >= 0) return bytes <= size ? (first + own) * INDEX_UNIT : -1;
  const at = viewByteOffset(view);
  const i = Math.floor(at / size);
  const off = at - i * size;
  return off + bytes <= size ? (first + i) * INDEX_UNIT + off : -1;
}

/** Ops the staging path writes; the rest go through native prep(). */
export const STAGEABLE = (() => {
  const t = new Uint8Array(256);
  for (const op of [Op.NOP, Op.READ, Op.WRITE, Op.READV, Op.WRITEV, Op.FSYNC]) t[op] = 1;
  return t;
})();

export class Staging {
  readonly #native: NativeRing;
  readonly #info: NativeRingInfo;
  readonly #counters: Float64Array;
  readonly #ops: Float64Array;
  readonly #mem: unknown[] = [];
  /** Ops staged and not yet in the SQ. */
  count = 0;
  /** The last fill found no room: completions must make some first. */
  stalled = false;

  constructor(native: NativeRing, info: NativeRingInfo, counters: Float64Array) {
    this.#native = native;
    this.#info = info;
    this.#counters = counters;
    this.#ops = new Float64Array(info.sqEntries * STAGE_FIELDS);
    native.setStaging(this.#ops, this.#mem);
  }

  /**
   * Stages one op for the next fill(); false when the SQ or the CQ budget
   * (ops in flight plus staged <= CQ size) has no room.
   */
  add(op: number, fd: number, sqeFlags: number, mem: unknown, pos: number, opFlags: number, low: number, high: number, bytes: number, fixed: number): boolean {
    const n = this.count;
    if (n >= this.#info.sqEntries || this.#counters[Counter.InFlight] + n >= this.#info.cqEntries) return false;
    const e = n * STAGE_FIELDS;
    const st = this.#ops;
    st[e] = op | (sqeFlags << 8);
    st[e + 1] = fd;
    st[e + 2] = pos;
    st[e + 3] = opFlags;
    st[e + 4] = low;
    st[e + 5] = high;
    st[e + 6] = bytes;
    st[e + 7] = fixed;
    if (mem !== undefined && fixed < 0) this.#mem[n] = mem;
    this.count = n + 1;
    return true;
  }

  /**
   * Moves staged ops into the SQ, all or none; false when there is no room
   * yet. Before an op takes the direct prep() path, so that staged ops keep
   * their place and count against the SQ and CQ budget.
   */
  fill(): boolean {
    if (this.count === 0) return true;
    if (!this.#native.fillStaged(this.count)) {
      this.stalled = true;
      return false;
    }
    this.filled();
    return true;
  }

  /** Native took every staged op (fillStaged, or submitAndReap's fill). */
  filled(): void {
    this.stalled = false;
    const mem = this.#mem;
    for (let i = 0, n = this.count; i < n; i++) mem[i] = undefined;
    this.count = 0;
  }
}
