// Small helpers shared by job.ts, the loop and the engines.
import { constants as osConstants } from 'node:os';

/** errno's name (ENOENT...), else "errno N". */
export function errnoCode(errno: number): string {
  for (const [k, v] of Object.entries(osConstants.errno)) if (v === errno) return k;
  return `errno ${errno}`;
}

/** The errno of a thrown Node error, positive (EIO when it has none). */
export function errnoOf(e: unknown): number {
  const n = (e as NodeJS.ErrnoException)?.errno;
  return typeof n === 'number' && n !== 0 ? Math.abs(n) : 5;
}

/** Fills the buffers with xorshift noise (what the job writes, unless verify writes its own). */
export function fillRandom(bufs: Buffer[], seed: number): void {
  let x = seed | 1;
  for (const b of bufs) {
    let i = 0;
    for (; i + 4 <= b.length; i += 4) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      b.writeInt32LE(x, i);
    }
  }
}
