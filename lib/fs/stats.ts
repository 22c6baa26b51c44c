// Node's fs.Stats / BigIntStats from the kernel's struct statx, for the
// calls kaio/fs/promises and FileHandle.stat() take to io_uring.
import * as nodeFs from 'node:fs';
import { makedev } from '../ring/statx';

type BigIntStatsCtor = new (...fields: bigint[]) => nodeFs.BigIntStats;
let bigIntStats: BigIntStatsCtor | undefined;
/** Node's own BigIntStats class (not exported by node:fs): taken from one of its results. */
function bigIntStatsClass(): BigIntStatsCtor {
  bigIntStats ??= nodeFs.statSync('/', { bigint: true }).constructor as BigIntStatsCtor;
  return bigIntStats;
}

/**
 * The fs.Stats (or BigIntStats) Node builds from the same struct statx:
 * libuv copies the same fields, and Node makes its object with these very
 * constructors from them (ms = sec * 1000 + nsec / 1e6; ns = sec * 1e9 + nsec).
 */
export function statsFromStatx(buf: Uint8Array, bigint: boolean): nodeFs.Stats | nodeFs.BigIntStats {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const u32 = (at: number): number => v.getUint32(at, true);
  const dev = makedev(u32(136), u32(140));
  const rdev = makedev(u32(128), u32(132));
  const mode = v.getUint16(28, true);
  const ino = v.getBigUint64(32, true);
  const size = v.getBigUint64(40, true);
  const blocks = v.getBigUint64(48, true);
  const sec = (at: number): bigint => v.getBigInt64(at, true);
  const nsec = (at: number): number => u32(at + 8);
  // atime, mtime, ctime, birthtime (struct statx has atime, btime, ctime, mtime)
  const times = [64, 112, 96, 80];
  if (bigint) {
    const Ctor = bigIntStatsClass();
    return new Ctor(dev, BigInt(mode), BigInt(u32(16)), BigInt(u32(20)), BigInt(u32(24)), rdev, BigInt(u32(4)), ino, size, blocks,
      ...times.map((t) => sec(t) * 1_000_000_000n + BigInt(nsec(t))));
  }
  const [a, m, c, b] = times.map((t) => Number(sec(t)) * 1000 + nsec(t) / 1e6);
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const Stats = nodeFs.Stats as any;
  return new Stats(Number(dev), mode, u32(16), u32(20), u32(24), Number(rdev), u32(4), Number(ino), Number(size), Number(blocks), a, m, c, b) as nodeFs.Stats;
}

/** The file type bits of a struct statx (stx_mode & S_IFMT). */
export const statxType = (buf: Uint8Array): number => (buf[28] | (buf[29] << 8)) & 0o170000;
/** stx_mode's permission bits (07777). */
export const statxPerm = (buf: Uint8Array): number => (buf[28] | (buf[29] << 8)) & 0o7777;
