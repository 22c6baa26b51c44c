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

