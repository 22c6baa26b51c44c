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
  return bigint ? bigIntStatsFromStatx(buf) : numberStatsFromStatx(buf);
}

/** 2^32. */
const HI = 4294967296;

/**
 * fs.Stats (numbers) with number arithmetic only: a 64-bit field is
 * hi * 2^32 + lo, which rounds once, to the nearest double, as Number() of
 * the same value as a bigint does; dev and rdev are glibc's makedev() put
 * together as two 32-bit halves (makedev() in lib/ring/statx.ts, which this
 * matches bit for bit). No BigInt is made: they were most of the time this
 * took (each is a heap object).
 */
function numberStatsFromStatx(buf: Uint8Array): nodeFs.Stats {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  // atime, mtime, ctime, birthtime (struct statx has atime 64, btime 80, ctime 96, mtime 112)
  const a = (v.getInt32(68, true) * HI + v.getUint32(64, true)) * 1000 + v.getUint32(72, true) / 1e6;
  const m = (v.getInt32(116, true) * HI + v.getUint32(112, true)) * 1000 + v.getUint32(120, true) / 1e6;
  const c = (v.getInt32(100, true) * HI + v.getUint32(96, true)) * 1000 + v.getUint32(104, true) / 1e6;
  const b = (v.getInt32(84, true) * HI + v.getUint32(80, true)) * 1000 + v.getUint32(88, true) / 1e6;
  return new NodeStats(
    devNumber(v.getUint32(136, true), v.getUint32(140, true)),
    v.getUint16(28, true),
    v.getUint32(16, true),
    v.getUint32(20, true),
    v.getUint32(24, true),
    devNumber(v.getUint32(128, true), v.getUint32(132, true)),
    v.getUint32(4, true),
    v.getUint32(36, true) * HI + v.getUint32(32, true),
    v.getUint32(44, true) * HI + v.getUint32(40, true),
    v.getUint32(52, true) * HI + v.getUint32(48, true),
    a, m, c, b,
  ) as nodeFs.Stats;
}

/** Number(makedev(major, minor)) without a bigint: the high and low 32 bits of glibc's layout. */
function devNumber(major: number, minor: number): number {
  const hi = ((major & 0xfffff000) | (minor >>> 20)) >>> 0;
  const lo = ((((minor >>> 8) & 0xfff) << 20) | ((major & 0xfff) << 8) | (minor & 0xff)) >>> 0;
  return hi * HI + lo;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const NodeStats = nodeFs.Stats as any;

function bigIntStatsFromStatx(buf: Uint8Array): nodeFs.BigIntStats {
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const u32 = (at: number): number => v.getUint32(at, true);
  const ns = (at: number): bigint => v.getBigInt64(at, true) * 1_000_000_000n + BigInt(u32(at + 8));
  const Ctor = bigIntStatsClass();
  return new Ctor(makedev(u32(136), u32(140)), BigInt(v.getUint16(28, true)), BigInt(u32(16)), BigInt(u32(20)), BigInt(u32(24)),
    makedev(u32(128), u32(132)), BigInt(u32(4)), v.getBigUint64(32, true), v.getBigUint64(40, true), v.getBigUint64(48, true),
    ns(64), ns(112), ns(96), ns(80));
}

/** The file type bits of a struct statx (stx_mode & S_IFMT). */
export const statxType = (buf: Uint8Array): number => (buf[28] | (buf[29] << 8)) & 0o170000;
/** stx_mode's permission bits (07777). */
export const statxPerm = (buf: Uint8Array): number => (buf[28] | (buf[29] << 8)) & 0o7777;
