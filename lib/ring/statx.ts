// struct statx (include/uapi/linux/stat.h), decoded from the 256-byte buffer
// IORING_OP_STATX fills.
import type { StatxResult } from '../types';


const S_IFMT = 0o170000;

/**
 * glibc's makedev(), which is how libuv hands dev and rdev to Node: a 64-bit
 * number (majors of 4096 and more, and minors of 256 and more, set bits
 * above 32).
 */
export function makedev(major: number, minor: number): bigint {
  return (BigInt(major & 0xfffff000) << 32n) | (BigInt(major & 0xfff) << 8n) | (BigInt(minor & 0xffffff00) << 12n) | BigInt(minor & 0xff);
}

export function parseStatx(buf: Uint8Array): StatxResult {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const time = (at: number): number => Number(v.getBigInt64(at, true)) * 1000 + v.getUint32(at + 8, true) / 1e6;
  const mode = v.getUint16(28, true);
  return {
    mask: v.getUint32(0, true),
    blksize: v.getUint32(4, true),
    nlink: v.getUint32(16, true),
    uid: v.getUint32(20, true),
    gid: v.getUint32(24, true),
    mode,
    ino: v.getBigUint64(32, true),
    size: v.getBigUint64(40, true),
    blocks: v.getBigUint64(48, true),
    atimeMs: time(64),
    birthtimeMs: time(80),
    ctimeMs: time(96),
    mtimeMs: time(112),
    rdev: Number(makedev(v.getUint32(128, true), v.getUint32(132, true))),
    dev: Number(makedev(v.getUint32(136, true), v.getUint32(140, true))),
    dioMemAlign: v.getUint32(152, true),
    dioOffsetAlign: v.getUint32(156, true),
    isFile: () => (mode & S_IFMT) === 0o100000,
    isDirectory: () => (mode & S_IFMT) === 0o040000,
    isSymbolicLink: () => (mode & S_IFMT) === 0o120000,
  };
}
