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
import { Op } from '../abi';

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
/** IOSQE_IO_LINK | IOSQE_IO_HARDLINK: the SQE's successor runs after it. */
const LINKS = (1 << 2) | (1 << 3);
const HARDLINK = 1 << 3;

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
  /**
   * Where the staged ops' last link chain starts, while it is open (its last
   * op so far asks for a successor); -1: none open. See fill().
   */
  #chainFrom = -1;
  /**
   * The SQE flags of the op started after the staged ones, which waits for
   * room in OpQueue's FIFO; -1 when none waits (or it was aborted there).
   */
  readonly #successor: () => number;
  /**
   * A chain sent cut (see fill): the slot id of its last op sent, whose
   * successor waits in OpQueue's FIFO, which takes nothing until that op's
   * completion (Ring#dispatch); -1: none.
   */
  cutId = -1;
  /** That op's link is IOSQE_IO_LINK: its failure or short count cancels the successor, as the kernel would (Ring#dispatch). */
  cutSoft = false;
  /** The count that op must give for its soft link to hold (a read's, a write's, a splice's length), or -1 (any result >= 0). */
  cutLen = -1;

  constructor(native: NativeRing, info: NativeRingInfo, counters: Float64Array, successor: () => number) {
    this.#native = native;
    this.#counters = counters;
    this.#successor = successor;
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
    // A linked op is staged only with room for its successor too (see fill).
    const need = (sqeFlags & LINKS) !== 0 && this.#sq > 1 ? n + 2 : n + 1;
    if (need > this.#sq || this.#counters[Counter.InFlight] + need > this.#cq) return false;
    if ((sqeFlags & LINKS) === 0) this.#chainFrom = -1;
    else if (this.#chainFrom < 0) this.#chainFrom = n;
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
   * Moves staged ops into the SQ; false when there is no room yet, or when
   * ops stay staged. Before an op takes the direct prep() path, so that
   * staged ops keep their place and count against the SQ and CQ budget.
   *
   * A link chain never reaches the kernel open: the kernel runs an SQE that
   * asks for a successor and has none in its submission as if unlinked. For
   * readFile's async read, hard-linked to its close, that let the close run
   * first, while the io-wq worker had not yet taken the fd's file: the read
   * failed EBADF, or read whatever file the fd number named by then. So
   * while the op started after the chain waits in OpQueue's FIFO for room,
   * the chain stays staged (the ops before it go) and goes with that op.
   * A chain that op could never join (with it, longer than the SQ: mkdir -p
   * of many levels, any chain on a 1-entry SQ) goes cut, and nothing from
   * the FIFO follows until its last op sent has completed (cutId): what the
   * link asked, that the next op run after it, kaio keeps across the cut.
   *
   * `enter` 1: the caller submits right after, with no other JS in between
   * (the ring's flush), so direct reads keep the caller's memory until that
   * io_uring_enter; otherwise they fail EFAULT and are read again through
   * bounce memory (native KeepDirect).
   */
  fill(enter = 0): boolean {
    const count = this.count;
    if (count === 0) return true;
    const k = this.ready;
    if (k === 0) return false;
    if (!this.#native.fillStaged(k, enter)) {
      this.stalled = true;
      return false;
    }
    this.filled(k);
    return k === count;
  }

  /** How many of the staged ops may go to the kernel now (fill()'s rule; for submitAndReap, which fills and submits in one native call). */
  get ready(): number {
    const from = this.#chainFrom;
    const count = this.count;
    if (from < 0) return count;
    const next = this.#successor();
    if (next < 0) return count;
    // The room the next op needs (add's rule): it can join once the ops before the chain go.
    const need = (next & LINKS) !== 0 && this.#sq > 1 ? 2 : 1;
    return count - from + need <= this.#sq ? from : count;
  }

  /**
   * The op started after the staged ones left OpQueue's FIFO without
   * reaching the kernel (aborted there): an open chain ends where it is
   * (its last op's link bits cleared), so that the op started after that
   * one is not linked in its place.
   */
  successorGone(): void {
    if (this.#chainFrom < 0) return;
    const e = (this.count - 1) * FIELDS + Field.Head;
    this.#ops[e] = this.#ops[e] & ~(LINKS << 8);
    this.#chainFrom = -1;
  }

  /** Native took the first `k` staged ops (fillStaged, or submitAndReap's fill); the rest move to the front. */
  filled(k: number = this.count): void {
    this.stalled = false;
    if (k === this.count && this.#chainFrom >= 0 && this.#successor() >= 0) this.#cut();
    const mem = this.#mem;
    const rest = this.count - k;
    if (rest > 0) {
      // Only an open chain stays (see fill): rare, so the copy is not avoided.
      this.#ops.copyWithin(0, k * FIELDS, this.count * FIELDS);
      const end = this.#memEnd;
      for (let i = 0; i < end; i++) mem[i] = i + 2 * k < end ? mem[i + 2 * k] : undefined;
      this.#memEnd = Math.max(0, end - 2 * k);
      this.#chainFrom = this.#chainFrom >= k ? this.#chainFrom - k : -1;
      this.count = rest;
      return;
    }
    // Only the entries ops wrote: ops on registered memory and ops without
    // memory (NOPs, fsync) write none, and cost no store here.
    for (let i = 0, n = this.#memEnd; i < n; i++) mem[i] = undefined;
    this.#memEnd = 0;
    this.#chainFrom = -1;
    this.count = 0;
  }

  /** The staged chain goes cut (see fill): its last op is the one the FIFO waits for. */
  #cut(): void {
    const e = (this.count - 1) * FIELDS;
    const st = this.#ops;
    this.cutId = st[e + Field.UserLow];
    const head = st[e + Field.Head];
    this.cutSoft = ((head >>> 8) & HARDLINK) === 0;
    // The kernel breaks a soft link on a short read, write or splice too.
    const op = head & 0xff;
    this.cutLen = op === Op.READ || op === Op.WRITE || op === Op.SPLICE ? st[e + Field.Len] : -1;
  }
}
