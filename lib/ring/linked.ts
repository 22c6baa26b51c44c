// readFile of a small file in one io_uring submission. IORING_OP_OPENAT opens
// the file into a direct descriptor (a slot of a registered sparse file table,
// sqe->file_index, 5.15), linked (IOSQE_IO_LINK) to a READ of that slot
// (IOSQE_FIXED_FILE) into scratch memory, hard-linked (IOSQE_IO_HARDLINK: it
// runs whether the read failed or came up short) to a CLOSE of the slot. A
// STATX of the path rides in the same submission, unlinked, so the caller
// learns whether the file is regular and its size. A plain fd cannot be
// linked this way: the read would need the number the open returns.
//
// The reader owns its ring (no one else's ops, and no one else's file table):
// each chain holds one slot until its four completions are in, and the ring
// has four SQEs per slot, so a chain always finds room and lands in the SQ
// whole (a chain split across submissions would link to someone else's op).
import { Op, SQE_FIXED_FILE, STATX_BASIC_STATS } from '../abi';
import { Ring } from './ring';
import type { StatxResult } from '../types';

const IOSQE_IO_LINK = 1 << 2;
const IOSQE_IO_HARDLINK = 1 << 3;
const AT_FDCWD = -100;
// O_RDONLY; a direct descriptor is no fd, so O_CLOEXEC is refused (EINVAL).
const O_RDONLY = 0;

export interface LinkedRead {
  /** The statx of the path, or undefined when it failed. */
  stat: StatxResult | undefined;
  /** The bytes read from offset 0, at most `limit`. */
  data: Buffer;
  /** Bytes asked for: data.length === limit means the file may go on. */
  limit: number;
}

export class LinkedReader {
  readonly #ring: Ring;
  readonly #free: number[] = [];
  readonly #scratch: Buffer[] = [];
  readonly #limit: number;

  /** Throws when the kernel lacks a piece (the caller then reads the plain way). */
  constructor(slots = 64, limit = 128 * 1024) {
    const ring = new Ring({ entries: slots * 4 });
    try {
      for (const op of ['OPENAT', 'CLOSE', 'STATX', 'READ']) if (!ring.supports(op)) throw new Error(`no IORING_OP_${op}`);
      ring.registerFiles([], { size: slots });
    } catch (e) {
      void ring.close();
      throw e;
    }
    this.#ring = ring;
    for (let i = slots - 1; i >= 0; i--) this.#free.push(i);
    this.#limit = limit;
  }

  /** The ring (for its stats). */
  get ring(): Ring {
    return this.#ring;
  }

  /**
   * Opens, reads up to `limit` bytes and closes `path` in one submission, or
   * returns undefined when every slot is busy. Rejects with the open's error.
   */
  read(path: string): Promise<LinkedRead> | undefined {
    const slot = this.#free.pop();
    if (slot === undefined) return undefined;
    const ring = this.#ring;
    const scratch = this.#scratch.pop() ?? Buffer.allocUnsafeSlow(this.#limit);
    const cpath = Buffer.from(`${path}\0`);
    const stat = ring.statx(path, { mask: STATX_BASIC_STATS });
    const open = ring._startRaw<number>(Op.OPENAT, AT_FDCWD, IOSQE_IO_LINK, cpath, 0, 0o666, O_RDONLY, slot + 1, 'open', path);
    const read = ring._startRaw<number>(Op.READ, slot, SQE_FIXED_FILE | IOSQE_IO_HARDLINK, scratch, 0, scratch.length, 0, undefined, 'read', undefined);
    const close = ring._startRaw<void>(Op.CLOSE, 0, 0, undefined, 0, 0, 0, slot + 1, 'close', undefined);
    return Promise.allSettled([stat, open, read, close]).then(([st, op, rd]) => {
      this.#free.push(slot);
      try {
        if (op.status === 'rejected') throw op.reason;
        // Into a slot the open's result is 0; a number above is a plain fd,
        // which means file_index did not reach the SQE: close it, and say so.
        if (op.value > 0) {
          void ring.closeFd(op.value).catch(() => undefined);
          throw Object.assign(new Error('direct descriptors unavailable'), { errno: -22 });
        }
        if (rd.status === 'rejected') throw rd.reason;
        const n = rd.value;
        const data = Buffer.allocUnsafe(n);
        scratch.copy(data, 0, 0, n);
        return { stat: st.status === 'fulfilled' ? st.value : undefined, data, limit: this.#limit };
      } finally {
        this.#scratch.push(scratch);
      }
    });
  }

  close(): Promise<void> {
    return this.#ring.close();
  }
}
