// Latency histogram with fio's log-linear bucketing: values below 2^(BITS+1)
// get a bucket each; above that, every power of two is split into 2^BITS
// equal buckets, so a bucket is never wider than 1/64 of its value (~1.6%).
// Fixed memory (one Float64Array), nothing allocated per sample, and two
// histograms add bucket by bucket (numjobs, group_reporting).

/** Linear sub-buckets per power of two: 2^PLAT_BITS (fio's FIO_IO_U_PLAT_BITS). */
export const PLAT_BITS = 6;
export const PLAT_VAL = 1 << PLAT_BITS;
/** Groups of PLAT_VAL buckets (fio's FIO_IO_U_PLAT_GROUP_NR): values up to ~2^34 ns (17 s) are resolved. */
export const PLAT_GROUPS = 29;
export const PLAT_NR = PLAT_GROUPS * PLAT_VAL;

/** Bucket index of a value (ns). */
export function bucketOf(ns: number): number {
  const v = ns < 0 ? 0 : Math.floor(ns);
  if (v < PLAT_VAL * 2) return v;
  if (v < 0x100000000) {
    // Below 2^32 (4.3 s): integer shifts, no Math.pow per sample.
    const shift = 31 - Math.clz32(v) - PLAT_BITS;
    return (shift + 1) * PLAT_VAL + ((v >>> shift) & (PLAT_VAL - 1));
  }
  const msb = Math.floor(Math.log2(v));
  const shift = msb - PLAT_BITS;
  const idx = (shift + 1) * PLAT_VAL + (Math.floor(v / 2 ** shift) & (PLAT_VAL - 1));
  return idx < PLAT_NR ? idx : PLAT_NR - 1;
}

/** The value a bucket stands for (ns): its midpoint, or the value itself in the exact range. */
export function bucketValue(idx: number): number {
  if (idx < PLAT_VAL * 2) return idx;
  const shift = Math.floor(idx / PLAT_VAL) - 1;
  const low = 2 ** (shift + PLAT_BITS) + (idx % PLAT_VAL) * 2 ** shift;
  return low + 2 ** shift / 2;
}

/** Lower bound of a bucket (fio's json+ "bins" keys). */
export function bucketLow(idx: number): number {
  if (idx < PLAT_VAL * 2) return idx;
  const shift = Math.floor(idx / PLAT_VAL) - 1;
  return 2 ** (shift + PLAT_BITS) + (idx % PLAT_VAL) * 2 ** shift;
}

export class Histogram {
  readonly counts: Float64Array<ArrayBufferLike>;
  count = 0;
  sum = 0;
  /** Sum of squares, for the standard deviation. */
  sumSq = 0;
  min = Infinity;
  max = 0;

  constructor(counts: Float64Array<ArrayBufferLike> = new Float64Array(PLAT_NR)) {
    this.counts = counts;
  }

  /** Records one sample in nanoseconds. */
  record(ns: number): void {
    const v = ns < 0 ? 0 : ns;
    this.counts[bucketOf(v)]++;
    this.count++;
    this.sum += v;
    this.sumSq += v * v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  reset(): void {
    this.counts.fill(0);
    this.count = this.sum = this.sumSq = this.max = 0;
    this.min = Infinity;
  }

  add(o: Histogram): void {
    for (let i = 0; i < PLAT_NR; i++) this.counts[i] += o.counts[i];
    this.count += o.count;
    this.sum += o.sum;
    this.sumSq += o.sumSq;
    if (o.min < this.min) this.min = o.min;
    if (o.max > this.max) this.max = o.max;
  }

  get mean(): number {
    return this.count ? this.sum / this.count : 0;
  }

  get stddev(): number {
    if (this.count < 2) return 0;
    const m = this.mean;
    return Math.sqrt(Math.max(0, (this.sumSq - this.count * m * m) / (this.count - 1)));
  }

  /**
   * Values at the percentiles, like fio: walking the buckets in order, the
   * first bucket where the running count reaches p% of all samples.
   */
  percentiles(list: readonly number[]): number[] {
    const out = new Array<number>(list.length).fill(0);
    if (!this.count) return out;
    const sorted = list.map((p, i) => [p, i] as const).sort((a, b) => a[0] - b[0]);
    let j = 0;
    let seen = 0;
    for (let idx = 0; idx < PLAT_NR && j < sorted.length; idx++) {
      seen += this.counts[idx];
      while (j < sorted.length && seen >= (sorted[j][0] / 100) * this.count && seen > 0) {
        out[sorted[j][1]] = bucketValue(idx);
        j++;
      }
    }
    for (; j < sorted.length; j++) out[sorted[j][1]] = bucketValue(PLAT_NR - 1);
    return out;
  }

  /** The one percentile p (0-100). */
  percentile(p: number): number {
    return this.count ? this.percentiles([p])[0] : NaN;
  }

  toJSON(): HistogramData {
    return { counts: this.counts, count: this.count, sum: this.sum, sumSq: this.sumSq, min: this.min, max: this.max };
  }

  static from(d: HistogramData): Histogram {
    const h = new Histogram(d.counts);
    h.count = d.count;
    h.sum = d.sum;
    h.sumSq = d.sumSq;
    h.min = d.min;
    h.max = d.max;
    return h;
  }
}

/** A histogram as posted between threads. */
export interface HistogramData {
  counts: Float64Array<ArrayBufferLike>;
  count: number;
  sum: number;
  sumSq: number;
  min: number;
  max: number;
}
