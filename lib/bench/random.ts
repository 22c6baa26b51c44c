// Where the next I/O of a job goes: a seeded PRNG (fio's randrepeat/randseed),
// a random map so each block is hit once per pass (unless norandommap), and
// the zipf, pareto and normal distributions of random_distribution.
import type { Distribution } from './options';

/** xorshift128+ folded to doubles in [0, 1): fast, seedable, allocation-free. */
export class Rand {
  /** The four 32-bit words of state, in an Int32Array: loads and stores stay integers. */
  readonly #s = new Int32Array(4);
  constructor(seed: number) {
    // splitmix-style spreading of the seed over four 32-bit words
    let s = (seed >>> 0) ^ 0x9e3779b9;
    const next = (): number => {
      s = (s + 0x6d2b79f5) | 0;
      let t = Math.imul(s ^ (s >>> 15), 1 | s);
      t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
      return (t ^ (t >>> 14)) >>> 0;
    };
    const st = this.#s;
    st[0] = next() || 1;
    st[1] = next();
    st[2] = next();
    st[3] = next();
  }

  /** xoshiro128** : a double in [0, 1). */
  next(): number {
    const st = this.#s;
    const a = st[0];
    const b = st[1];
    const r = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const c = st[2] ^ a;
    const d = st[3] ^ b;
    st[0] = a ^ d;
    st[1] = b ^ c;
    st[2] = c ^ (b << 9);
    st[3] = rotl(d, 11);
    return r / 4294967296;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Picks block numbers in [0, n). */
export interface BlockPicker {
  next(): number;
}

/** Uniform random blocks; with a map, each block once per pass (fio's default random map). */
export class UniformPicker implements BlockPicker {
  readonly #bits: Uint32Array | undefined;
  /** A boolean field: tested per op without a generic truthiness check of #bits. */
  readonly #map: boolean;
  #used = 0;
  constructor(
    readonly n: number,
    readonly rand: Rand,
    map: boolean,
  ) {
    this.#bits = map ? new Uint32Array(Math.ceil(n / 32)) : undefined;
    this.#map = map;
  }
  next(): number {
    const r = Math.floor(this.rand.next() * this.n);
    if (!this.#map) return r;
    const bits = this.#bits!;
    if (this.#used === this.n) {
      bits.fill(0);
      this.#used = 0;
    }
    // The block drawn, or the next free one after it (wrapping), a word at a time.
    let i = r;
    for (;;) {
      const w = i >>> 5;
      const word = bits[w];
      if (word !== 0xffffffff) {
        const free = ~word >>> 0;
        // first free bit at or after i within this word (or any in the word when i has wrapped)
        const fromBit = i & 31;
        const masked = (free >>> fromBit) << fromBit;
        const pick = masked !== 0 ? masked : 0;
        if (pick) {
          const bit = 31 - Math.clz32(pick & -pick);
          const blk = (w << 5) + bit;
          if (blk < this.n) {
            bits[w] = word | (1 << bit);
            this.#used++;
            return blk;
          }
        }
      }
      i = ((w + 1) << 5) % (this.#bits!.length << 5);
      if (i >= this.n) i = 0;
    }
  }
}

/** Terms summed one by one in zeta(); the rest is Euler-Maclaurin's. */
const ZETA_EXACT = 1024;

/**
 * The generalised harmonic number: the sum of 1/i^θ for i = 1..n (θ > 0,
 * θ != 1), which Gray et al.'s zipf generator needs over up to 10 M items.
 * The first 1024 terms are added; the tail is Euler-Maclaurin's integral
 * plus its first correction terms, whose error is below 1e-12 of the sum,
 * so a job over 10 M blocks starts at once instead of after 10 M powers.
 */
export function zeta(n: number, theta: number): number {
  const k = Math.min(n, ZETA_EXACT);
  let z = 0;
  for (let i = 1; i <= k; i++) z += Math.pow(i, -theta);
  if (n <= k) return z;
  // sum_{i=k+1..n} f(i) = integral_k^n f + (f(n) - f(k)) / 2 + (f'(n) - f'(k)) / 12 - (f'''(n) - f'''(k)) / 720, f(x) = x^-θ.
  const f = (x: number): number => Math.pow(x, -theta);
  const d1 = (x: number): number => -theta * Math.pow(x, -theta - 1);
  const d3 = (x: number): number => -theta * (theta + 1) * (theta + 2) * Math.pow(x, -theta - 3);
  const integral = (Math.pow(n, 1 - theta) - Math.pow(k, 1 - theta)) / (1 - theta);
  return z + integral + (f(n) - f(k)) / 2 + (d1(n) - d1(k)) / 12 - (d3(n) - d3(k)) / 720;
}

/**
 * Skewed distributions: a rank (0 = hottest) drawn from the distribution,
 * spread over the range by a fixed permutation (rank * a + b mod n with a
 * prime a), so the hot blocks are not all at the start of the file.
 */
export class SkewedPicker implements BlockPicker {
  readonly #zeta: number = 0;
  readonly #eta: number = 0;
  readonly #alpha: number = 0;
  readonly #zeta2: number = 0;
  readonly #mul: number;
  readonly #add: number;
  constructor(
    readonly n: number,
    readonly rand: Rand,
    readonly dist: Distribution,
    /**
     * Ranks only rotated by a random offset, kept in order (fio's
     * zipf_disable_hash, which its file_service_type uses): the hot ranks
     * stay together, so a few files take them.
     */
    readonly rotateOnly = false,
  ) {
    if (dist.kind === 'zipf') {
      // Gray et al.'s method (zeta over at most 10M items, like fio's cap).
      const theta = dist.param;
      const z = zeta(Math.min(n, 10_000_000), theta);
      this.#zeta = z;
      this.#zeta2 = 1 + 1 / 2 ** theta;
      this.#alpha = 1 / (1 - theta);
      this.#eta = (1 - (2 / n) ** (1 - theta)) / (1 - this.#zeta2 / z);
    }
    let mul = 1000003 % n || 1;
    while (gcd(mul, n) !== 1) mul++;
    this.#mul = mul;
    this.#add = Math.floor(rand.next() * n);
  }
  #rank(): number {
    const u = this.rand.next();
    const n = this.n;
    switch (this.dist.kind) {
      case 'zipf': {
        const uz = u * this.#zeta;
        if (uz < 1) return 0;
        if (uz < this.#zeta2) return 1;
        return Math.min(n - 1, Math.floor(n * (this.#eta * u - this.#eta + 1) ** this.#alpha));
      }
      case 'pareto': {
        // P(rank <= x) follows x^h: h close to 0 is very skewed.
        const h = this.dist.param;
        return Math.min(n - 1, Math.floor(n * Math.pow(u, Math.log(h) / Math.log(1 - h))));
      }
      case 'normal': {
        // Box-Muller around the middle, σ in percent of the range.
        const v = this.rand.next() || 1e-12;
        const g = Math.sqrt(-2 * Math.log(v)) * Math.cos(2 * Math.PI * u);
        const x = Math.round(n / 2 + (g * this.dist.param * n) / 100);
        return x < 0 ? 0 : x >= n ? n - 1 : x;
      }
      default:
        return Math.floor(u * n);
    }
  }
  /** zoned: a zone by its share of the accesses, then a block of it, uniformly; zones stay in file order. */
  #zoned(zones: Array<[number, number]>): number {
    let u = this.rand.next() * 100;
    let from = 0;
    for (const [access, range] of zones) {
      const to = from + range;
      if (u < access || access === 100) {
        const lo = Math.floor((this.n * from) / 100);
        const hi = Math.max(lo + 1, Math.floor((this.n * to) / 100));
        return Math.min(this.n - 1, lo + Math.floor(this.rand.next() * (hi - lo)));
      }
      u -= access;
      from = to;
    }
    return Math.floor(this.rand.next() * this.n);
  }
  next(): number {
    if (this.dist.zones) return this.#zoned(this.dist.zones);
    const r = Math.max(0, this.#rank());
    if (this.dist.kind === 'normal') return r;
    if (this.rotateOnly) return (r + this.#add) % this.n;
    return (r * this.#mul + this.#add) % this.n;
  }
}

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}
