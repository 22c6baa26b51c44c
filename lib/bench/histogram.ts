// Latency histogram: log buckets with 64 linear sub-buckets per power of two
// (about 1.5% resolution), fixed memory, nothing allocated per sample.
const SUB_BITS = 6;
const SUB = 1 << SUB_BITS;

export class Histogram {
  readonly #counts = new Float64Array(64 * SUB);
  count = 0;
  sum = 0;
  min = Infinity;
  max = 0;

  /** Records one sample in nanoseconds. */
  record(ns: number): void {
    const v = ns < 1 ? 1 : ns > 0xffffffff ? 0xffffffff : Math.floor(ns);
    const msb = 31 - Math.clz32(v);
    const idx = msb < SUB_BITS ? v : (msb - SUB_BITS + 1) * SUB + ((v >>> (msb - SUB_BITS)) & (SUB - 1));
    this.#counts[idx]++;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /** The value (ns, bucket midpoint) at percentile p (0-100). */
  percentile(p: number): number {
    if (this.count === 0) return NaN;
    const target = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let idx = 0; idx < this.#counts.length; idx++) {
      seen += this.#counts[idx];
      if (seen >= target) return bucketMid(idx);
    }
    return this.max;
  }
}

function bucketMid(idx: number): number {
  if (idx < SUB) return idx;
  const group = Math.floor(idx / SUB);
  const sub = idx % SUB;
  const shift = group - 1;
  const low = (SUB + sub) * 2 ** shift;
  return low + 2 ** shift / 2;
}
