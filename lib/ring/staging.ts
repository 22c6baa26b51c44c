// Staging: ops written as numbers into a Float64Array shared with native and
// moved into the SQ by one native call per tick (fillStaged), instead of one
// N-API call per op, which cost more than the kernel's work for a NOP. Every
// op takes this path, so an op's memory is looked up when its SQE is written
// (a view shrunk or detached since the call gives EFAULT, as docs/api.md
// promises), and ops reach the SQ in the order they were started. The
// record's layout and what each field means per op: op-table.ts.
import { Counter, type NativeRing, type NativeRingInfo } from '../binding';
import { AddrKind, Field, HEAD_KINDS, OFF_SHIFT, ADDR_SHIFT, OffKind, STAGE_FIELDS } from './op-table';
import { poolBufferIndex, type BufferPool } from '../pool';
import { viewByteOffset } from '../validate';

// (No re-export of op-table's values from here: an accessor on this module's
// exports object turns ring.ts's per-op load of INDEX_UNIT into a generic
// LoadIC call.) Module-local copies for the per-op path: a load from another module's
// exports object is a generic LoadIC call per use in optimized code (about
// 100 instructions per op, measured with callgrind), a local const is folded.
const FIELDS: number = STAGE_FIELDS;
const KINDS: Uint32Array = HEAD_KINDS;
const OFF_BIGINT: number = OffKind.BigInt << OFF_SHIFT;
/** Registered buffers are at most 1 GiB: offsets in one stay below this. */
export const INDEX_UNIT = 2 ** 30;

/**
 * Field.Fixed for `bytes` of `view`, which lies in `pool` (held by the op):
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

export class Staging {
  readonly #native: NativeRing;
  readonly #counters: Float64Array;
  readonly #ops: Float64Array;
  readonly #mem: unknown[] = [];
  /** The SQ's and the CQ's sizes (the budget add() checks). */
  readonly #sq: number;
  readonly #cq: number;
  /** Ops staged and not yet in the SQ. */
  count = 0;
  /** #mem's entries past this are all undefined (filled() clears only up to it). */
  #memEnd = 0;
  /** The last fill found no room: completions must make some first. */
  stalled = false;

  constructor(native: NativeRing, info: NativeRingInfo, counters: Float64Array) {
    this.#native = native;
    this.#counters = counters;
    this.#ops = new Float64Array(info.sqEntries * STAGE_FIELDS);
    this.#sq = info.sqEntries;
    this.#cq = info.cqEntries;
    native.setStaging(this.#ops, this.#mem);
  }

  /**
   * Stages one op for the next fill(); false when the SQ or the CQ budget
   * (ops in flight plus staged <= CQ size) has no room. The arguments are
   * the record's fields (op-table.ts): `mem` the addr memory (a view, a
   * list copy, a path), `off` a position (a bigint past 2^53 goes as
   * OffKind.BigInt), `aux` the addr number of an AddrKind.Number op (a
   * bigint goes as AddrKind.BigInt) or the out memory of an OffKind.View
   * op, `fixed` Field.Fixed.
   */
  add(op: number, fd: number, sqeFlags: number, mem: unknown, off: number | bigint, len: number, opFlags: number, aux: unknown, low: number, high: number, fixed: number): boolean {
    const n = this.count;
    if (n >= this.#sq || this.#counters[Counter.InFlight] + n >= this.#cq) return false;
    const e = n * FIELDS;
    const st = this.#ops;
    st[e + Field.Head] = op | (sqeFlags << 8) | KINDS[op];
    st[e + Field.Fd] = fd;
    st[e + Field.OpFlags] = opFlags;
    st[e + Field.UserLow] = low;
    st[e + Field.UserHigh] = high;
    st[e + Field.Len] = len;
    st[e + Field.Fixed] = fixed;
    if (mem !== undefined && fixed < 0) {
      this.#mem[2 * n] = mem;
      this.#memEnd = 2 * n + 2;
    }
    // Kept small so that V8 inlines it into the per-op paths: the rarer
    // shapes (a bigint position, a third value) are written by #rare.
    if (typeof off === 'number' && aux === undefined) st[e + Field.Off] = off;
    else this.#rare(e, n, off, aux);
    this.count = n + 1;
    return true;
  }

  /**
   * A bigint position (OffKind.BigInt at 2i + 1), and the rarer ops' third
   * value: statx's out memory (OffKind.View), fallocate's length
   * (Field.Addr, or AddrKind.BigInt at 2i).
   */
  #rare(e: number, n: number, off: number | bigint, aux: unknown): void {
    const st = this.#ops;
    let head = st[e + Field.Head];
    if (typeof off === 'number') {
      st[e + Field.Off] = off;
    } else {
      head |= OFF_BIGINT;
      st[e + Field.Off] = 0;
      this.#mem[2 * n + 1] = off;
      this.#memEnd = 2 * n + 2;
    }
    if (aux !== undefined) {
      if (((head >>> OFF_SHIFT) & 0xf) === OffKind.View) {
        this.#mem[2 * n + 1] = aux;
        this.#memEnd = 2 * n + 2;
      } else if (typeof aux === 'bigint') {
        head = (head & ~(0xf << ADDR_SHIFT)) | (AddrKind.BigInt << ADDR_SHIFT);
        this.#mem[2 * n] = aux;
        this.#memEnd = 2 * n + 2;
      } else {
        st[e + Field.Addr] = aux as number;
      }
    }
    st[e + Field.Head] = head;
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
    // Only the entries ops wrote: ops on registered memory and ops without
    // memory (NOPs, fsync) write none, and cost no store here.
    const mem = this.#mem;
    for (let i = 0, n = this.#memEnd; i < n; i++) mem[i] = undefined;
    this.#memEnd = 0;
    this.count = 0;
  }
}
