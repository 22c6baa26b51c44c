// Buffers kaio makes for an op of its own and hands to nobody while the op
// is in flight: writeFile's and write()'s string data encoded by kaio, a
// ReadStream chunk read through the context, read()'s default buffer. Each
// lies alone in a fresh ArrayBuffer (never Node's shared Buffer pool, whose
// other Buffers any caller holds), made with Buffer's functions as they were
// when kaio loaded (a caller replacing them later never sees this memory),
// and is lent to kaio (lib/bounce.ts lendOwnMemory): its ops go to the
// kernel as they are, with no bounce copy.
import { lendOwnMemory, unlendOwnMemory } from './bounce';
import { viewBuffer, viewByteOffset, viewBytes } from './validate';
import { resultBuffer } from './file/result-buffer';

const from = Buffer.from;
const alloc = Buffer.alloc;
const allocUnsafeSlow = Buffer.allocUnsafeSlow;
const abByteLength = Function.prototype.call.bind(Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'byteLength')!.get!) as (ab: ArrayBufferLike) => number;
const taSet = Function.prototype.call.bind(Object.getPrototypeOf(Uint8Array.prototype).set) as (target: Uint8Array, source: Uint8Array) => void;

/**
 * `s` encoded as Buffer.from(s, encoding) encodes it (its errors too), in
 * memory of its own lent to kaio for good: only for data kaio never hands
 * out (the ArrayBuffer goes with its last view).
 */
export function encodeOwn(s: string, encoding: BufferEncoding): Buffer {
  let b = from(s, encoding);
  const n = viewBytes(b);
  let ab = viewBuffer(b);
  if (viewByteOffset(b) !== 0 || abByteLength(ab) !== n) {
    // A slice of Node's pool (a short string): copied out of it.
    const own = allocUnsafeSlow(n);
    taSet(own, b);
    b = own;
    ab = viewBuffer(b);
  }
  if (n !== 0) lendOwnMemory(ab);
  return b;
}

/**
 * `size` (> 0) bytes of fresh memory (zeroed when `zero`), lent to kaio
 * until unlendOwn(): read into, then handed out. Uninitialized, it is
 * readFile's (lib/file/result-buffer.ts: from 16 KiB, kept memory whose
 * pages an earlier Buffer already faulted in, as a recycled bounce buffer's).
 */
export function lendOwn(size: number, zero = false): Buffer {
  const b = zero ? alloc(size) : resultBuffer(size);
  lendOwnMemory(viewBuffer(b));
  return b;
}

/** Ends lendOwn()'s loan once no op of kaio's touches the memory (before it is handed out). */
export function unlendOwn(b: Buffer): void {
  unlendOwnMemory(viewBuffer(b));
}
