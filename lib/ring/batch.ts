// The batch API's bookkeeping: the completion handler, and the memory each
// batch op holds until its CQE arrives. A batch op carries, in its
// user_data high word above the kind, the id of the entry that holds its
// memory (0: none); ids are recycled. In-flight ops never exceed the CQ size
// (<= 2^16), so user_data stays below 2^53, exact in a double.
import { Kind } from '../abi';
import { finishBounce, type Bounce } from '../bounce';
import { dropPools, hasLivePools, holdPools, type BufferPool, type HeldPools } from '../pool';

export type CompletionHandler = (tag: number, res: number, flags: number) => void;

/** user_data high word: kind in the low bits, keep id above. */
export const KIND_MASK = 0xf;
const KEEP_UNIT = 16;
const KEEP_SHIFT = 4;

export class BatchOps {
  handler: CompletionHandler | undefined;
  /** True while a completion batch is being delivered. */
  dispatching = false;
  /** Memory of batch ops in flight, by keep id (0 unused). */
  readonly #mem: unknown[] = [undefined];
  /** Registered pools that memory lies in (released after the CQE). */
  readonly #held: Array<HeldPools | undefined> = [undefined];
  /** Bounce memory standing in for the caller's (lib/bounce.ts), by keep id. */
  readonly #bounce: Array<Bounce | undefined> = [undefined];
  readonly #free: number[] = [];
  /**
   * For ops on one of pool.buffers (Kind.BatchFixed), the pool by buffer
   * table index: an index belongs to one pool for as long as an op holds it
   * (the pool cannot be unregistered before), so the last hold's is right.
   */
  readonly #fixedPools: Array<BufferPool | undefined> = [];
  /** The pools the last hold() took for its memory. */
  lastHeld: HeldPools | undefined;

  /**
   * Holds `mem` for one op (and the pools `named` lies in, by default mem's:
   * throws ERR_KAIO_POOL_RELEASED for one being released); returns the
   * user_data high word for an op of `kind`. A bounced op passes the
   * caller's memory as `named`: a list mixing pool and caller buffers holds
   * its pools until the CQE, as the promise API's op does.
   */
  hold(mem: unknown, kind: number, bounce?: Bounce, named: unknown = mem): number {
    if (mem === undefined) {
      this.lastHeld = undefined;
      return kind;
    }
    const held = hasLivePools() ? holdPools(named) : undefined;
    this.lastHeld = held;
    const id = this.#free.length !== 0 ? this.#free.pop()! : this.#mem.length;
    this.#mem[id] = mem;
    this.#held[id] = held;
    this.#bounce[id] = bounce;
    return kind + id * KEEP_UNIT;
  }

  /**
   * Holds `pool` (throws ERR_KAIO_POOL_RELEASED for one being released) for
   * an op on its buffer at table `index`; returns the user_data high word.
   * No memory is kept per op: the pool keeps its buffers.
   */
  holdFixed(pool: BufferPool, index: number): number {
    pool._hold();
    this.#fixedPools[index] = pool;
    return Kind.BatchFixed + index * KEEP_UNIT;
  }

  /** Lets go of the pool a Kind.BatchFixed op held. */
  releaseFixed(high: number): void {
    this.#fixedPools[high >>> KEEP_SHIFT]!._drop();
  }

  /**
   * Lets go of what the op with user_data high word `high` held, once the
   * kernel is done with it (res: its result; negative when it never ran).
   * Returns the op's result: a read on bounce memory has its data copied to
   * the caller's view now, or fails with -EFAULT (lib/bounce.ts).
   */
  release(high: number, res: number): number {
    const id = high >>> KEEP_SHIFT;
    if (id === 0) return res;
    this.#mem[id] = undefined;
    const bounce = this.#bounce[id];
    if (bounce !== undefined) {
      this.#bounce[id] = undefined;
      res = finishBounce(bounce, res);
    }
    const held = this.#held[id];
    if (held !== undefined) {
      this.#held[id] = undefined;
      dropPools(held);
    }
    this.#free.push(id);
    return res;
  }

  /** Calls the handler; an error it throws is reported like any callback's, without unwinding the batch. */
  deliver(tag: number, res: number, flags: number): void {
    const handler = this.handler;
    if (!handler) return;
    try {
      handler(tag, res, flags);
    } catch (e) {
      process.nextTick(() => {
        throw e;
      });
    }
  }
}
