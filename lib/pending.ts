// Things in progress, and promises that wait until there are none: the one
// "wait until idle" of kaio. close() of a context (its ops: slots.ts; a
// Ring's batch ops: ring.ts), of a FileHandle (its calls), and a pool's
// release() (the ops that hold it) all wait on one of these.

export class Pending {
  /** In progress now. */
  count = 0;
  /** whenIdle()'s promise while someone waits, and what resolves it. */
  #idle: Promise<void> | undefined;
  #resolve: (() => void) | undefined;

  /** One more in progress. */
  enter(): void {
    this.count++;
  }

  /** One fewer in progress; at none, whenIdle()'s promise resolves. */
  leave(): void {
    if (--this.count === 0) this.#wake();
  }

  /**
   * For a count kept elsewhere (a Ring's: native's ops in flight and the
   * staged ones): takes it over; at 0, whenIdle()'s promise resolves.
   */
  set(count: number): void {
    this.count = count;
    if (count === 0) this.#wake();
  }

  /** Resolves once nothing is in progress (at once when nothing is now). */
  whenIdle(): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return (this.#idle ??= new Promise<void>((resolve) => (this.#resolve = resolve)));
  }

  // Small on purpose: it is inlined where leave() is, on every op's path.
  #wake(): void {
    const resolve = this.#resolve;
    if (resolve === undefined) return;
    this.#idle = this.#resolve = undefined;
    resolve();
  }
}
