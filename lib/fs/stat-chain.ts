// statx for kaio/fs/promises' stat and lstat: the calls of one tick go to
// the ring as hard-linked chains of STATX SQEs. io_uring runs every statx in
// an io-wq worker (it cannot complete one without blocking); unlinked, each
// is a work item of its own, handed to a worker and back. A chain is one work
// item whose worker runs its ops one after the other (IOSQE_IO_HARDLINK: a
// failure does not cut it, each op keeps its own result), so a tick's
// stats cost a few hand-offs instead of one each. Chains are short enough to
// leave several workers busy at once.
import type { Ring } from '../ring';

/** Most statx ops in one chain. */
const CHAIN = 1024;

interface Queued {
  ring: Ring;
  path: string | Buffer;
  flags: number;
  mask: number;
  syscall: string;
  shown: string;
  resolve: (out: Uint8Array | number) => void;
  reject: (e: unknown) => void;
}

let queue: Queued[] = [];
let scheduled = false;

function flush(): void {
  scheduled = false;
  const q = queue;
  queue = [];
  for (let i = 0; i < q.length; i++) {
    const s = q[i];
    const link = i + 1 < q.length && (i + 1) % CHAIN !== 0 && q[i + 1].ring === s.ring;
    s.ring._statxBytes(s.path, s.flags, s.mask, s.syscall, s.shown, undefined, link).then(s.resolve, s.reject);
  }
}

/**
 * ring._statxBytes(path, flags, mask, syscall, shown), sent with the other
 * stats of this tick. Syscall '' (RAW_RESULT): resolves to -errno instead of
 * rejecting.
 */
export function statxChained(ring: Ring, path: string | Buffer, flags: number, mask: number, syscall: '', shown: string): Promise<Uint8Array | number>;
export function statxChained(ring: Ring, path: string | Buffer, flags: number, mask: number, syscall: string, shown: string): Promise<Uint8Array>;
export function statxChained(ring: Ring, path: string | Buffer, flags: number, mask: number, syscall: string, shown: string): Promise<Uint8Array | number> {
  return new Promise((resolve, reject) => {
    queue.push({ ring, path, flags, mask, syscall, shown, resolve, reject });
    if (!scheduled) {
      scheduled = true;
      process.nextTick(flush);
    }
  });
}
