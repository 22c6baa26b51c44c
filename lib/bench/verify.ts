// verify=crc32c|md5|pattern: every block written carries a header (magic,
// file offset, sequence number, length, checksum) and a payload generated
// from (offset, sequence); a block read back is checked against both, so a
// flipped byte is found, and named by its file offset.
import { createHash } from 'node:crypto';
import type { Verify } from './options';

export const HEADER = 48;
const MAGIC = 0x6b61694f; // "kaiO"
const TYPE: Record<Exclude<Verify, ''>, number> = { crc32c: 1, md5: 2, pattern: 3 };

const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    t[i] = c;
  }
  return t;
})();

/** CRC-32C (Castagnoli), as iSCSI and ext4 use it. */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length, crc = 0): number {
  let c = ~crc;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** Fills buf[from..) with the payload of (offset, seq): a pattern, or xorshift bytes seeded by both. */
function payload(buf: Buffer, from: number, offset: number, seq: number, pattern: Buffer | undefined): void {
  if (pattern) {
    for (let i = from; i < buf.length; i++) buf[i] = pattern[(i - from) % pattern.length];
    return;
  }
  let x = (Math.imul(offset / 512 >>> 0, 0x9e3779b1) ^ Math.imul(seq, 0x85ebca6b) ^ Math.floor(offset / 2 ** 41)) | 1;
  let i = from;
  for (; i + 4 <= buf.length; i += 4) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    buf.writeInt32LE(x, i);
  }
  for (; i < buf.length; i++) buf[i] = i & 0xff;
}

function checksum(type: Verify, buf: Buffer): Buffer {
  const out = Buffer.alloc(16);
  // Over the header's first 32 bytes and the payload (the checksum field itself left out).
  if (type === 'md5') createHash('md5').update(buf.subarray(0, 32)).update(buf.subarray(HEADER)).digest().copy(out);
  else if (type === 'crc32c') out.writeUInt32LE(crc32c(buf, HEADER, buf.length, crc32c(buf, 0, 32)));
  return out;
}

/** Writes header and payload for a block at `offset` (file offset) written as op `seq`. */
export function fillBlock(type: Exclude<Verify, ''>, buf: Buffer, offset: number, seq: number, pattern: Buffer): void {
  buf.writeUInt32LE(MAGIC, 0);
  buf.writeUInt32LE(TYPE[type], 4);
  buf.writeUInt32LE(offset % 2 ** 32, 8);
  buf.writeUInt32LE(Math.floor(offset / 2 ** 32), 12);
  buf.writeUInt32LE(seq >>> 0, 16);
  buf.writeUInt32LE(buf.length, 20);
  buf.writeUInt32LE(0, 24);
  buf.writeUInt32LE(0, 28);
  payload(buf, HEADER, offset, seq, type === 'pattern' ? pattern : undefined);
  checksum(type, buf).copy(buf, 32);
}

export interface VerifyFailure {
  /** File offset of the first bad byte (or of the block when only the checksum tells). */
  at: number;
  block: number;
  len: number;
  why: string;
}

/** Checks a block read at `offset`; undefined when good. */
export function checkBlock(type: Exclude<Verify, ''>, buf: Buffer, offset: number, pattern: Buffer): VerifyFailure | undefined {
  const fail = (at: number, why: string): VerifyFailure => ({ at: offset + at, block: offset, len: buf.length, why });
  const magic = buf.readUInt32LE(0);
  if (magic !== MAGIC) {
    // Find the first header byte that differs from what this block's header would be.
    const exp = Buffer.alloc(4);
    exp.writeUInt32LE(MAGIC);
    let i = 0;
    while (i < 3 && exp[i] === buf[i]) i++;
    return fail(i, `bad magic 0x${magic.toString(16)} (no kaio verify header: block never written with --verify, or damaged)`);
  }
  const hdrOff = buf.readUInt32LE(8) + buf.readUInt32LE(12) * 2 ** 32;
  if (buf.readUInt32LE(4) !== TYPE[type]) return fail(4, `verify type ${buf.readUInt32LE(4)} in the header, not ${type}`);
  if (hdrOff !== offset) return fail(8, `header says offset ${hdrOff}`);
  if (buf.readUInt32LE(20) !== buf.length) return fail(20, `header says length ${buf.readUInt32LE(20)}, block is ${buf.length}`);
  const seq = buf.readUInt32LE(16);
  // Regenerate the payload and compare byte by byte: that names the bad byte.
  const expect = Buffer.allocUnsafe(buf.length);
  buf.copy(expect, 0, 0, HEADER);
  payload(expect, HEADER, offset, seq, type === 'pattern' ? pattern : undefined);
  for (let i = HEADER; i < buf.length; i++) {
    if (buf[i] !== expect[i]) return fail(i, `byte 0x${buf[i].toString(16).padStart(2, '0')} where 0x${expect[i].toString(16).padStart(2, '0')} was written`);
  }
  if (type !== 'pattern') {
    const sum = checksum(type, buf);
    if (!sum.equals(buf.subarray(32, 48))) return fail(32, `${type} mismatch (header damaged)`);
  }
  return undefined;
}
