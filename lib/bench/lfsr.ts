// fio's random_generator=lfsr for `kaio bench`: random offsets that visit
// every block exactly once per pass with O(1) memory and no random map.
// fio uses a linear feedback shift register; kaio uses a full-period
// sequence of its own with the same property: a linear congruential walk
// over 2^k states (c odd, a = 1 mod 4: every state once per period, by the
// Hull-Dobell theorem), each state passed through a bijection of [0, 2^k)
// (xor-shifts and an odd multiply) to scatter neighbours, and states >= n
// skipped. The offsets differ from fio's; the coverage is the same.
import type { BlockPicker } from './random';

export class FullCyclePicker implements BlockPicker {
  readonly #mask: number;
  readonly #half: number;
  #x: number;
  constructor(
    readonly n: number,
    seed: number,
  ) {
    if (n > 2 ** 32) throw new RangeError(`random_generator=lfsr: ${n} blocks is more than kaio's generator covers (2^32)`);
    let k = 1;
    while (2 ** k < n) k++;
    this.#mask = k >= 32 ? 0xffffffff : 2 ** k - 1;
    this.#half = Math.max(1, k >>> 1);
    this.#x = (seed >>> 0) & this.#mask;
  }

  next(): number {
    const mask = this.#mask;
    const half = this.#half;
    for (;;) {
      this.#x = ((Math.imul(this.#x, 0x2c9277b5) + 0x6b43a9b5) & mask) >>> 0;
      let y = this.#x;
      y = (y ^ (y >>> half)) >>> 0;
      y = (Math.imul(y, 0x45d9f3b) & mask) >>> 0;
      y = (y ^ (y >>> half)) >>> 0;
      if (y < this.n) return y;
    }
  }
}
