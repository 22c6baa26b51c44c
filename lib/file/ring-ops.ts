// The context as a Ring, for the ops only io_uring has (openat, statx, close).
import { Ring } from '../ring';
import type { FileIo } from './file-io';

/** The context as an open Ring that has every op named, or undefined. */
export function asRing(context: FileIo, ...ops: string[]): Ring | undefined {
  if (!(context instanceof Ring) || context.closed) return undefined;
  for (const op of ops) if (!context.supports(op)) return undefined;
  return context;
}
