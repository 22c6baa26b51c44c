// struct statx (include/uapi/linux/stat.h), decoded from the 256-byte buffer
// IORING_OP_STATX fills.

export const STATX_BUF_SIZE = 256;
export const STATX_BASIC_STATS = 0x7ff;
export const STATX_BTIME = 0x800;
export const STATX_DIOALIGN = 0x2000; // 6.1
export const STATX_DEFAULT_MASK = STATX_BASIC_STATS | STATX_BTIME | STATX_DIOALIGN;

export interface StatxResult {
  /** STATX_* bits the filesystem filled in. */
  mask: number;
  dev: number;
  ino: bigint;
  mode: number;
  nlink: number;
  uid: number;
  gid: number;
  rdev: number;
  size: bigint;
  blksize: number;
  blocks: bigint;
  atimeMs: number;
  mtimeMs: number;
  ctimeMs: number;
  birthtimeMs: number;
  /** Required alignment of memory for O_DIRECT (0 when not reported). */
  dioMemAlign: number;
  /** Required alignment of file offsets and lengths for O_DIRECT (0 when not reported). */
  dioOffsetAlign: number;
  isFile(): boolean;
  isDirectory(): boolean;
  isSymbolicLink(): boolean;
}

const S_IFMT = 0o170000;

function makedev(major: number, minor: number): number {
  // glibc's encoding, which is what Node's fs.Stats reports.
  return (((major & 0xfffff000) * 2 ** 20) + ((major & 0xfff) << 8) + ((minor & 0xffffff00) << 12) + (minor & 0xff)) >>> 0;
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
    rdev: makedev(v.getUint32(128, true), v.getUint32(132, true)),
    dev: makedev(v.getUint32(136, true), v.getUint32(140, true)),
    dioMemAlign: v.getUint32(152, true),
    dioOffsetAlign: v.getUint32(156, true),
    isFile: () => (mode & S_IFMT) === 0o100000,
    isDirectory: () => (mode & S_IFMT) === 0o040000,
    isSymbolicLink: () => (mode & S_IFMT) === 0o120000,
  };
}
