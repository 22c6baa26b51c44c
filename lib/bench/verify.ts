// fio's verify, with fio 3.x's on-disk format: every verify_interval bytes
// of a block written carry a header (magic 0xacca, verify type, interval
// length, the buffer's random seed, the interval's file offset, time, thread,
// the write's number, and a CRC-32C of those fields) followed by the digest
// of the rest of the interval. A block read back is checked against both: a
// flipped byte is found by the digest, a block written at the wrong offset
// or by an older write by the header (verify=meta checks only the header,
// and the pattern when verify_pattern is given). Messages are fio's.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { binding } from '../binding';

/** verify= values, fio's names. */
export const VERIFY_NAMES = [
  'md5',
  'crc64',
  'crc32',
  'crc32c',
  'crc32c-intel',
  'crc16',
  'crc7',
  'sha1',
  'sha256',
  'sha512',
  'sha3-224',
  'sha3-256',
  'sha3-384',
  'sha3-512',
  'meta',
  'pattern',
  'null',
] as const;
export type VerifyName = (typeof VERIFY_NAMES)[number];

/** fio's verify types (verify.h's enum, as fio 3.33 numbers them): the header's verify_type. */
const TYPE_META = 1;
const TYPE_PATTERN = 17; // verify_pattern without verify=: header + pattern
const TYPE_PATTERN_NO_HDR = 18; // verify=pattern
const TYPE_NULL = 19;

interface Algo {
  type: number;
  /** Bytes of the checksum header after fio's verify_header. */
  size: number;
  /** The digest of data into out (size bytes). */
  sum?: (data: Buffer, out: Buffer, at: number) => void;
  /** Bytes that count when two stored digests are compared (a field larger than the digest). */
  cmp?: number;
  /** The native digest kind (native/core/digest.h) that computes it, when native code does. */
  kind?: number;
}

// Digest kinds of native/core/digest.h.
const D_CRC32C = 0;
const D_CRC32 = 1;
const D_CRC64 = 2;
const D_CRC16 = 3;
const D_CRC7 = 4;

const native = (kind: number) => (data: Buffer, out: Buffer, at: number) => binding.digestInto(kind, data, 0, data.length, out, at);
const nat = (type: number, size: number, kind: number): Algo => ({ type, size, sum: native(kind), kind });
const hash = (name: string, swap32 = false) => (data: Buffer, out: Buffer, at: number) => {
  const d = createHash(name).update(data).digest();
  // fio keeps SHA-1's five words in host order (little-endian here), not the digest's big-endian bytes.
  if (swap32) d.swap32();
  d.copy(out, at);
};

const ALGOS: Record<VerifyName, Algo> = {
  meta: { type: TYPE_META, size: 0 },
  md5: { type: 2, size: 16, sum: hash('md5') },
  crc64: nat(3, 8, D_CRC64),
  crc32: nat(4, 4, D_CRC32),
  crc32c: nat(5, 4, D_CRC32C),
  'crc32c-intel': nat(5, 4, D_CRC32C),
  crc16: nat(7, 2, D_CRC16),
  crc7: nat(8, 1, D_CRC7),
  // fio's field sizes; kaio stores the standard digests (see docs/bench.md: fio's own sha256/sha512 differ).
  sha256: { type: 9, size: 64, sum: hash('sha256'), cmp: 32 },
  sha512: { type: 10, size: 128, sum: hash('sha512'), cmp: 64 },
  'sha3-224': { type: 11, size: 28, sum: hash('sha3-224') },
  'sha3-256': { type: 12, size: 32, sum: hash('sha3-256') },
  'sha3-384': { type: 13, size: 48, sum: hash('sha3-384') },
  'sha3-512': { type: 14, size: 64, sum: hash('sha3-512') },
  sha1: { type: 16, size: 20, sum: hash('sha1', true) },
  pattern: { type: TYPE_PATTERN_NO_HDR, size: 0 },
  null: { type: TYPE_NULL, size: 0 },
};

/** fio's struct verify_header (fio 3.x before the versioned header), little-endian. */
export const HDR = 40;
const MAGIC = 0xacca;
const O_MAGIC = 0;
const O_TYPE = 2;
const O_LEN = 4;
const O_SEED = 8;
const O_OFFSET = 16;
const O_SEC = 24;
const O_NSEC = 28;
const O_THREAD = 32;
const O_NUMBERIO = 34;
const O_CRC = 36;

/** Header bytes (verify_header + checksum header) at the start of each interval; 0 for verify=pattern. */
export function headerSize(name: VerifyName): number {
  const a = ALGOS[name];
  return a.type === TYPE_PATTERN_NO_HDR || a.type === TYPE_NULL ? 0 : HDR + a.size;
}

/** The verify options of one job, resolved. */
export interface VerifySettings {
  name: VerifyName;
  /** verify_pattern without verify= (fio's VERIFY_PATTERN: header and pattern). */
  patternWithHeader: boolean;
  pattern: Buffer;
  /** Bytes per header (fio's verify_interval, resolved as fio does). */
  interval: number;
  /** verify_offset: the header is swapped to this offset of each interval. */
  offset: number;
  fatal: boolean;
  dump: boolean;
  /** Check each header's numberio against the write's (fio: a writing job of one block size, not time_based, not verify_only). */
  checkNumberio: boolean;
  /** Check each header's rand_seed against the write's (fio: rw/randrw without verify_backlog). */
  checkSeed: boolean;
  /** The job's thread number (fio's, 1-based), for the header. */
  thread: number;
}

function typeOf(s: VerifySettings): number {
  return s.patternWithHeader ? TYPE_PATTERN : ALGOS[s.name].type;
}

function hdrBytes(s: VerifySettings): number {
  return s.patternWithHeader ? HDR : headerSize(s.name);
}

/** The native digest kind doing the whole block in one call: -1 for none (header and pattern only), undefined when JavaScript must (node:crypto). */
function nativeKind(s: VerifySettings): number | undefined {
  const a = ALGOS[s.name];
  if (s.patternWithHeader || !a.sum) return -1;
  return a.kind;
}

/** Repeats the pattern over buf[from, to), its first byte at `phase` of the pattern. */
export function fillPattern(buf: Buffer, from: number, to: number, pattern: Buffer, phase = 0): void {
  if (to <= from) return;
  const n = pattern.length;
  if (n === 1) {
    buf.fill(pattern[0], from, to);
    return;
  }
  // One period in place, then doubling copies.
  let i = from;
  for (let k = phase % n; i < to && i < from + n; i++, k = k + 1 === n ? 0 : k + 1) buf[i] = pattern[k];
  let have = i - from;
  while (from + have < to) {
    const take = Math.min(have, to - from - have);
    buf.copy(buf, from + have, from, from + take);
    have += take;
  }
}

function swapHeader(buf: Buffer, at: number, by: number, n: number): void {
  if (!by || !n) return;
  const tmp = Buffer.from(buf.subarray(at, at + n));
  buf.copy(buf, at, at + by, at + by + n);
  tmp.copy(buf, at + by);
}

/** The fill of a write's data before headers go on it: (buffer, seed) -> bytes (the job's content settings). */
export type SeededFill = (buf: Buffer, seedHi: number, seedLo: number) => void;

/**
 * Makes buf a block to write at file offset `off` as the job's write
 * `numberio`: the data (the pattern, or random bytes from the seed), then a
 * header per interval, as fio's populate_verify_io_u.
 */
export function fillVerify(
  s: VerifySettings,
  buf: Buffer,
  off: number,
  numberio: number,
  seedHi: number,
  seedLo: number,
  fill: SeededFill,
  now: number,
  time?: [number, number],
): void {
  if (s.pattern.length) fillPattern(buf, 0, buf.length, s.pattern);
  else fill(buf, seedHi, seedLo);
  const size = hdrBytes(s);
  if (!size) return;
  const a = ALGOS[s.name];
  const type = typeOf(s);
  const sec = time ? time[0] : Math.floor(now / 1000);
  const nsec = time ? time[1] : Math.floor((now - sec * 1000) * 1e6);
  const inc = s.interval <= buf.length ? s.interval : buf.length;
  const kind = nativeKind(s);
  if (kind !== undefined) {
    binding.verifyHeaders(buf, buf.length, inc, size, type, kind, s.offset, off, seedHi, seedLo, numberio, s.thread, sec, nsec);
    return;
  }
  for (let p = 0, k = 0; p < buf.length; p += inc, k++) {
    const len = Math.min(inc, buf.length - p);
    buf.writeUInt16LE(MAGIC, p + O_MAGIC);
    buf.writeUInt16LE(type, p + O_TYPE);
    buf.writeUInt32LE(len, p + O_LEN);
    buf.writeUInt32LE(seedLo >>> 0, p + O_SEED);
    buf.writeUInt32LE(seedHi >>> 0, p + O_SEED + 4);
    const ho = off + k * s.interval;
    buf.writeUInt32LE(ho % 2 ** 32, p + O_OFFSET);
    buf.writeUInt32LE(Math.floor(ho / 2 ** 32), p + O_OFFSET + 4);
    buf.writeUInt32LE(sec >>> 0, p + O_SEC);
    buf.writeUInt32LE(nsec >>> 0, p + O_NSEC);
    buf.writeUInt16LE(s.thread & 0xffff, p + O_THREAD);
    buf.writeUInt16LE(numberio & 0xffff, p + O_NUMBERIO);
    buf.writeUInt32LE(binding.crc32c(buf, p, p + O_CRC), p + O_CRC);
    if (a.sum && !s.patternWithHeader) a.sum(buf.subarray(p + size, p + len), buf, p + HDR);
    if (s.offset) swapHeader(buf, p, s.offset, size);
  }
}

/** What a verify read is checked against: the write logged for that offset, when known. */
export interface Expected {
  numberio: number;
  seedHi: number;
  seedLo: number;
}

const hex = (b: Buffer): string => b.toString('hex');

/**
 * Checks a block read at `off` (fio's verify_io_u); the failure text in
 * fio's words, or undefined when good. A bad interval's message names its
 * file offset, length and the requested block; with verify_fatal the first
 * bad interval ends the check, else each one is named.
 */
export function checkVerify(s: VerifySettings, buf: Buffer, off: number, file: string, exp: Expected | undefined, fill: SeededFill): string | undefined {
  const size = hdrBytes(s);
  const inc = s.interval <= buf.length ? s.interval : buf.length;
  const msgs: string[] = [];
  const a = ALGOS[s.name];
  if (a.type === TYPE_NULL) return undefined;
  const kind = nativeKind(s);
  if (kind !== undefined) {
    // One native pass over every interval; the messages below only for a bad block.
    const pat = s.pattern.length && (s.patternWithHeader || !a.sum) ? s.pattern : undefined;
    const nio = exp && s.checkNumberio ? exp.numberio & 0xffff : -1;
    const r = binding.verifyCheck(buf, buf.length, inc, size, typeOf(s), kind, s.offset, off, nio, !!exp && s.checkSeed, exp?.seedHi ?? 0, exp?.seedLo ?? 0, pat);
    if (r < 0) return undefined;
  }
  const where = (p: number, len: number): string => ` at file ${file} offset ${off + p}, length ${len} (requested block: offset=${off}, length=${buf.length})`;
  for (let p = 0; p < buf.length; p += inc) {
    if (msgs.length && s.fatal) break;
    const len = Math.min(inc, buf.length - p);
    if (s.offset) swapHeader(buf, p, s.offset, size);
    // fio names crc32c-intel's failures crc32c.
    const digestName: VerifyName = s.name === 'crc32c-intel' ? 'crc32c' : s.name;
    let mismatch = '';
    if (size) {
      const bad = (what: string): string => {
        if (s.dump) dumpBuf(buf.subarray(p, p + len), file, off + p, 'hdr_fail');
        return `verify: ${what}${where(p, len)}`;
      };
      const before = msgs.length;
      const magic = buf.readUInt16LE(p + O_MAGIC);
      const hlen = buf.readUInt32LE(p + O_LEN);
      const hoff = buf.readUInt32LE(p + O_OFFSET) + buf.readUInt32LE(p + O_OFFSET + 4) * 2 ** 32;
      const want = off + (p / inc) * s.interval;
      const crc = buf.readUInt32LE(p + O_CRC);
      const calc = binding.crc32c(buf, p, p + O_CRC);
      if (magic !== MAGIC) msgs.push(bad(`bad magic header ${magic.toString(16)}, wanted ${MAGIC.toString(16)}`));
      else if (hlen !== len) msgs.push(bad(`bad header length ${hlen}, wanted ${len}`));
      else if (exp && s.checkSeed && (buf.readUInt32LE(p + O_SEED) !== exp.seedLo >>> 0 || buf.readUInt32LE(p + O_SEED + 4) !== exp.seedHi >>> 0))
        msgs.push(bad(`bad header rand_seed ${buf.readBigUInt64LE(p + O_SEED)}, wanted ${(BigInt(exp.seedHi >>> 0) << 32n) | BigInt(exp.seedLo >>> 0)}`));
      else if (hoff !== want) msgs.push(bad(`bad header offset ${hoff}, wanted ${want}`));
      else if (exp && s.checkNumberio && buf.readUInt16LE(p + O_NUMBERIO) !== (exp.numberio & 0xffff))
        msgs.push(bad(`bad header numberio ${buf.readUInt16LE(p + O_NUMBERIO)}, wanted ${exp.numberio & 0xffff}`));
      else if (crc !== calc) msgs.push(bad(`bad header crc ${crc.toString(16)}, calculated ${calc.toString(16)}`));
      // fio: a bad header ends the check of the block.
      if (msgs.length > before) return msgs.join('\n');
      const media = buf.readUInt16LE(p + O_TYPE);
      if (media !== typeOf(s) && !(media === 6 && typeOf(s) === 5)) mismatch = `\nfio: verify type mismatch (${media} media, ${typeOf(s)} given)`;
    }
    const d = ALGOS[digestName];
    if (d.sum && !s.patternWithHeader) {
      const data = buf.subarray(p + size, p + len);
      const got = Buffer.alloc(d.size);
      d.sum(data, got, 0);
      const n = d.cmp ?? d.size;
      const stored = buf.subarray(p + HDR, p + HDR + n);
      if (!stored.equals(got.subarray(0, n))) {
        msgs.push(
          `${digestName.slice(0, 8)}: verify failed${where(p, len)}\n       Expected CRC: ${hex(stored)}\n       Received CRC: ${hex(got.subarray(0, n))}${mismatch}`,
        );
        dumpPair(s, buf, p, len, off, file, fill);
      }
    } else if (s.pattern.length) {
      const plen = s.pattern.length;
      let k = (p + size) % plen;
      for (let i = p + size; i < p + len; i++, k = k + 1 === plen ? 0 : k + 1) {
        if (buf[i] !== s.pattern[k]) {
          let bits = buf[i] ^ s.pattern[k];
          let c = 0;
          for (; bits; bits &= bits - 1) c++;
          msgs.push(
            `fio: got pattern '${buf[i].toString(16).padStart(2, '0')}', wanted '${s.pattern[k].toString(16).padStart(2, '0')}'. Bad bits ${c}\n` +
              `fio: bad pattern block offset ${i - p - size}\n` +
              `pattern: verify failed${where(p, len)}${mismatch}`,
          );
          dumpPair(s, buf, p, len, off, file, fill);
          break;
        }
      }
    }
  }
  return msgs.length ? msgs.join('\n') : undefined;
}

/** verify_dump: the interval as read and as it was written, in the working directory (fio's names). */
function dumpPair(s: VerifySettings, buf: Buffer, p: number, len: number, off: number, file: string, fill: SeededFill): void {
  if (!s.dump) return;
  dumpBuf(buf.subarray(p, p + len), file, off + p, 'received');
  const size = hdrBytes(s);
  const seedLo = size ? buf.readUInt32LE(p + O_SEED) : 0;
  const seedHi = size ? buf.readUInt32LE(p + O_SEED + 4) : 0;
  const numberio = size ? buf.readUInt16LE(p + O_NUMBERIO) : 0;
  const whole = Buffer.alloc(buf.length);
  // The write's time is not known otherwise: the expected copy keeps the header's.
  const time: [number, number] | undefined = size ? [buf.readUInt32LE(p + O_SEC), buf.readUInt32LE(p + O_NSEC)] : undefined;
  fillVerify(s, whole, off, numberio, seedHi, seedLo, fill, 0, time);
  dumpBuf(whole.subarray(p, p + len), file, off + p, 'expected');
}

const dumped: string[] = [];

function dumpBuf(data: Buffer, file: string, off: number, kind: string): void {
  const name = `${path.basename(file)}.${off}.${kind}`;
  try {
    fs.writeFileSync(name, data);
    dumped.push(`       ${kind} data dumped as ${name}`);
  } catch (e) {
    dumped.push(`open verify buf file: ${(e as Error).message}`);
  }
}

/** The "data dumped as" lines since the last call. */
export function takeDumpLines(): string[] {
  return dumped.splice(0);
}

/**
 * The writes a job made that are still to be read back (fio's io pieces):
 * by file offset, the last write there, in the order first written.
 * verify_backlog reads the oldest ones back while the job runs.
 */
export class WriteLog {
  readonly #index = new Map<number, number>();
  #off = new Float64Array(1024);
  #len = new Uint32Array(1024);
  #numberio = new Float64Array(1024);
  #seedHi = new Uint32Array(1024);
  #seedLo = new Uint32Array(1024);
  #n = 0;
  /** Next entry to read back (entries before it were read, or dropped). */
  #next = 0;

  get size(): number {
    return this.#n - this.#next;
  }

  add(off: number, len: number, numberio: number, seedHi: number, seedLo: number): void {
    let i = this.#index.get(off);
    if (i === undefined || i < this.#next) {
      if (this.#n === this.#off.length) this.#grow();
      i = this.#n++;
      this.#index.set(off, i);
    }
    this.#off[i] = off;
    this.#len[i] = len;
    this.#numberio[i] = numberio;
    this.#seedHi[i] = seedHi;
    this.#seedLo[i] = seedLo;
  }

  #grow(): void {
    const n = this.#off.length * 2;
    const g = <T extends Float64Array | Uint32Array>(a: T, C: new (n: number) => T): T => {
      const b = new C(n);
      b.set(a);
      return b;
    };
    this.#off = g(this.#off, Float64Array);
    this.#len = g(this.#len, Uint32Array);
    this.#numberio = g(this.#numberio, Float64Array);
    this.#seedHi = g(this.#seedHi, Uint32Array);
    this.#seedLo = g(this.#seedLo, Uint32Array);
  }

  /** Takes the oldest entry into `out`; false when none is left. */
  take(out: { off: number; len: number } & Expected): boolean {
    while (this.#next < this.#n) {
      const i = this.#next++;
      const off = this.#off[i];
      if (this.#index.get(off) !== i) continue;
      this.#index.delete(off);
      out.off = off;
      out.len = this.#len[i];
      out.numberio = this.#numberio[i];
      out.seedHi = this.#seedHi[i];
      out.seedLo = this.#seedLo[i];
      return true;
    }
    return false;
  }

  /** Whether a write to `off` is logged and not read back yet. */
  has(off: number): boolean {
    return this.#index.has(off);
  }
}
