// The fault matrix's table and its runner (test/73.faults.matrix.test.ts,
// test/62.lab.faults.matrix.test.ts, and the RLIMIT_FSIZE child it starts):
// every write path × backend × position, run once through kaio and once
// through node:fs/promises doing the same thing on the same kind of target.
// A run returns a plain JSON verdict (what the call said, what the file
// holds), so a child process can run the cases and the parent assert them.
// Not a test file: no mocha here.
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as kaio from 'kaio';

export type BackendName = 'io_uring' | 'aio' | 'threadpool';
export const MATRIX_BACKENDS: readonly BackendName[] = ['io_uring', 'aio', 'threadpool'];

/**
 * explicit: at the offset just past the old content; current: at the fd's
 * position, moved past the old content before; append: an O_APPEND fd
 * (positional calls pass 0, which pwrite(2) ignores on O_APPEND);
 * append-rw: the same with 'a+' (read and write; direct handles only, whose
 * unaligned writes read the blocks they patch);
 * truncate: module writeFile's default flag 'w' (the old content goes).
 */
export type Position = 'explicit' | 'current' | 'append' | 'append-rw' | 'truncate';

/** What a call said and what the file held after it. JSON only. */
export interface Verdict {
  outcome: 'resolved' | 'rejected' | 'hung';
  /** What the call reported as written (for a whole-data call that resolved: all of it). */
  count?: number;
  code?: string;
  errno?: number;
  syscall?: string;
  message?: string;
  /** createWriteStream: the events in order ('finish', 'error', 'close'). */
  events?: string[];
  /** createWriteStream: its bytesWritten at 'close'. */
  bytesWritten?: number;
  /** Current-position cases: the fd's (handle's) position after the call (file size minus what a read to EOF returns). */
  posAfter?: number;
  size: number;
  /** Bytes of the old content the file should still hold. */
  keptOld: number;
  oldIntact: boolean;
  /** size - keptOld: the new bytes that reached the file. */
  newBytes: number;
  /** Those bytes are the first newBytes bytes of the data. */
  prefixOk: boolean;
  /** Set when the case did not run the call (the setup failed). */
  setupError?: string;
}

/** What one write path does, through kaio and through node:fs. */
interface Run {
  /** kaio: the context for the backend. */
  io: kaio.IoContext;
  path: string;
  pos: Position;
  data: Buffer;
  oldLen: number;
  direct: boolean;
}

type Outcome = { count?: number; error?: unknown; events?: string[]; bytesWritten?: number; posAfter?: number };

export interface WritePath {
  name: string;
  positions: readonly Position[];
  /** Only on these backends (default: all). */
  backends?: readonly BackendName[];
  /** One write call (it may resolve short); otherwise the call writes all the data or rejects. */
  single: boolean;
  direct?: boolean;
  kaio(r: Run): Promise<Outcome>;
  node(r: Run): Promise<Outcome>;
}

const O = fs.constants;
/** Where the position checks read the rest of the file. */
const scratch = Buffer.alloc(256 * 1024);
/** Open flags per position: the fd must be writable and readable where the position is moved by a read. */
function flagsOf(pos: Position): string {
  return pos === 'append' ? 'a' : pos === 'append-rw' ? 'a+' : pos === 'truncate' ? 'w' : 'r+';
}

/** The position argument of a positional call (null: current position). */
function posArg(r: Run): number | null {
  return r.pos === 'explicit' ? r.oldLen : r.pos === 'append' || r.pos === 'append-rw' ? 0 : null;
}

/** Moves a plain fd's position past the old content (read(2) at the current position). */
function skipOld(fd: number, oldLen: number): void {
  const n = fs.readSync(fd, Buffer.alloc(oldLen), 0, oldLen, null);
  if (n !== oldLen) throw new Error(`setup: moved the position by ${n} of ${oldLen} bytes`);
}

const halves = (b: Buffer): Buffer[] => [b.subarray(0, b.length >> 1), b.subarray(b.length >> 1)];

const nodeWrite = (fd: number, b: Buffer, pos: number | null) =>
  new Promise<number>((res, rej) => fs.write(fd, b, 0, b.length, pos, (e, n) => (e ? rej(e) : res(n))));
const nodeWritev = (fd: number, bs: Buffer[], pos: number | null) =>
  new Promise<number>((res, rej) => fs.writev(fd, bs, pos, (e, n) => (e ? rej(e) : res(n))));

/** A plain fd for the raw context calls; the position set up. */
async function withFd<T>(r: Run, fn: (fd: number) => Promise<T>): Promise<T> {
  const fd = fs.openSync(r.path, flagsOf(r.pos));
  try {
    if (r.pos === 'current') skipOld(fd, r.oldLen);
    const out = await fn(fd);
    if (r.pos === 'current' && out && typeof out === 'object') {
      let rest = 0;
      for (let n; (n = fs.readSync(fd, scratch, 0, scratch.length, null)) > 0; ) rest += n;
      (out as Outcome).posAfter = fs.fstatSync(fd).size - rest;
    }
    return out;
  } finally {
    fs.closeSync(fd);
  }
}

/** The raw context call's position: -1 for the current position. */
const ctxPos = (r: Run): number => posArg(r) ?? -1;

async function count(p: Promise<number>): Promise<Outcome> {
  try {
    return { count: await p };
  } catch (error) {
    return { error };
  }
}

async function whole(p: Promise<unknown>, len: number): Promise<Outcome> {
  try {
    await p;
    return { count: len };
  } catch (error) {
    return { error };
  }
}

/** A FileHandle (kaio's or node's) opened for the position, the position set up. */
interface AnyHandle {
  fd: number;
  read(b: Buffer, off: number, len: number, pos: number | null): Promise<{ bytesRead: number }>;
  write(b: Buffer, off: number, len: number, pos: number | null): Promise<{ bytesWritten: number }>;
  writev(bs: Buffer[], pos: number | null): Promise<{ bytesWritten: number }>;
  writeFile(d: Buffer): Promise<void>;
  appendFile(d: Buffer): Promise<void>;
  createWriteStream(o?: { start?: number }): fs.WriteStream;
  close(): Promise<void>;
}

async function kaioHandle(r: Run): Promise<AnyHandle> {
  const fh = await kaio.open(r.path, flagsOf(r.pos), 0o666, r.direct ? { context: r.io, direct: true } : { context: r.io });
  return prepared(fh as unknown as AnyHandle, r);
}

async function nodeHandle(r: Run): Promise<AnyHandle> {
  return prepared((await fsp.open(r.path, flagsOf(r.pos))) as unknown as AnyHandle, r);
}

async function prepared(fh: AnyHandle, r: Run): Promise<AnyHandle> {
  if (r.pos !== 'current') return fh;
  try {
    // Through the handle: a direct one aligns the read for itself.
    const { bytesRead } = await fh.read(Buffer.alloc(r.oldLen), 0, r.oldLen, null);
    if (bytesRead !== r.oldLen) throw new Error(`setup: moved the position by ${bytesRead} of ${r.oldLen} bytes`);
  } catch (e) {
    await fh.close();
    throw e;
  }
  return fh;
}

async function onHandle(open: (r: Run) => Promise<AnyHandle>, r: Run, fn: (fh: AnyHandle) => Promise<Outcome>): Promise<Outcome> {
  const fh = await open(r);
  try {
    const out = await fn(fh);
    if (r.pos === 'current') {
      // Through the handle: a direct handle keeps its position itself.
      let rest = 0;
      for (let n; (n = (await fh.read(scratch, 0, scratch.length, null)).bytesRead) > 0; ) rest += n;
      out.posAfter = fs.statSync(r.path).size - rest;
    }
    return out;
  } finally {
    await fh.close();
  }
}

/** Writes data through the stream in 128 KiB pieces, ends it, waits for 'close'. */
function streamRun(ws: fs.WriteStream, data: Buffer): Promise<Outcome> {
  return new Promise((resolve) => {
    const events: string[] = [];
    let error: unknown;
    ws.on('finish', () => events.push('finish'));
    ws.on('error', (e) => {
      events.push('error');
      error ??= e;
    });
    ws.on('close', () => {
      events.push('close');
      const finished = events.includes('finish');
      resolve({ events, bytesWritten: ws.bytesWritten, error: finished ? undefined : error ?? new Error('closed without finish or error'), count: finished ? data.length : undefined });
    });
    for (let i = 0; i < data.length; i += 128 * 1024) ws.write(data.subarray(i, i + 128 * 1024));
    ws.end();
  });
}

const streamOptions = (r: Run) => (r.pos === 'explicit' ? { start: r.oldLen } : {});

const handlePaths = (direct: boolean): WritePath[] => {
  const tag = direct ? 'direct FileHandle' : 'FileHandle';
  return [
    {
      name: `${tag}.write`,
      positions: direct ? ['explicit', 'current', 'append', 'append-rw'] : ['explicit', 'current', 'append'],
      single: true,
      direct,
      kaio: (r) => onHandle(kaioHandle, r, (fh) => count(fh.write(r.data, 0, r.data.length, posArg(r)).then((x) => x.bytesWritten))),
      node: (r) => onHandle(nodeHandle, r, (fh) => count(fh.write(r.data, 0, r.data.length, posArg(r)).then((x) => x.bytesWritten))),
    },
    {
      name: `${tag}.writev`,
      positions: direct ? ['explicit', 'current', 'append', 'append-rw'] : ['explicit', 'current', 'append'],
      single: true,
      direct,
      kaio: (r) => onHandle(kaioHandle, r, (fh) => count(fh.writev(halves(r.data), posArg(r)).then((x) => x.bytesWritten))),
      node: (r) => onHandle(nodeHandle, r, (fh) => count(fh.writev(halves(r.data), posArg(r)).then((x) => x.bytesWritten))),
    },
    {
      name: `${tag}.writeFile`,
      positions: direct ? ['current', 'append', 'append-rw'] : ['current', 'append'],
      single: false,
      direct,
      kaio: (r) => onHandle(kaioHandle, r, (fh) => whole(fh.writeFile(r.data), r.data.length)),
      node: (r) => onHandle(nodeHandle, r, (fh) => whole(fh.writeFile(r.data), r.data.length)),
    },
  ];
};

export const WRITE_PATHS: readonly WritePath[] = [
  {
    name: 'context.write',
    positions: ['explicit', 'current', 'append'],
    single: true,
    kaio: (r) => withFd(r, (fd) => count(r.io.write(fd, r.data, ctxPos(r)))),
    node: (r) => withFd(r, (fd) => count(nodeWrite(fd, r.data, posArg(r)))),
  },
  {
    name: 'context.writev',
    positions: ['explicit', 'current', 'append'],
    single: true,
    kaio: (r) => withFd(r, (fd) => count(r.io.writev(fd, halves(r.data), ctxPos(r)))),
    node: (r) => withFd(r, (fd) => count(nodeWritev(fd, halves(r.data), posArg(r)))),
  },
  ...(['prepWrite', 'prepWritev'] as const).map((op): WritePath => ({
    name: `batch ${op}`,
    positions: ['explicit', 'current', 'append'],
    backends: ['io_uring'],
    single: true,
    kaio: (r) =>
      withFd(r, async (fd) => {
        const ring = new kaio.Ring({ entries: 4 });
        try {
          let res = NaN;
          ring.onCompletion((_tag, v) => (res = v));
          const queued = op === 'prepWrite' ? ring.prepWrite(fd, r.data, ctxPos(r), 7) : ring.prepWritev(fd, halves(r.data), ctxPos(r), 7);
          if (!queued) throw new Error(`${op} refused an op on an empty ring`);
          ring.submitAndWait(1);
          if (res >= 0) return { count: res };
          return { error: Object.assign(new Error(`res ${res}`), { code: errnoName(-res), errno: res, syscall: op === 'prepWrite' ? 'write' : 'writev' }) };
        } finally {
          await ring.close();
        }
      }),
    node: (r) => withFd(r, (fd) => count(op === 'prepWrite' ? nodeWrite(fd, r.data, posArg(r)) : nodeWritev(fd, halves(r.data), posArg(r)))),
  })),
  ...handlePaths(false),
  {
    name: 'FileHandle.appendFile',
    positions: ['current', 'append'],
    single: false,
    kaio: (r) => onHandle(kaioHandle, r, (fh) => whole(fh.appendFile(r.data), r.data.length)),
    node: (r) => onHandle(nodeHandle, r, (fh) => whole(fh.appendFile(r.data), r.data.length)),
  },
  {
    name: 'FileHandle.createWriteStream',
    positions: ['explicit', 'current', 'append'],
    single: false,
    kaio: async (r) => streamRun((await kaioHandle(r)).createWriteStream(streamOptions(r)), r.data),
    node: async (r) => streamRun((await nodeHandle(r)).createWriteStream(streamOptions(r)), r.data),
  },
  {
    name: 'module writeFile',
    positions: ['truncate', 'append'],
    single: false,
    kaio: (r) => whole(kaio.writeFile(r.path, r.data, { flag: flagsOf(r.pos), context: r.io }), r.data.length),
    node: (r) => whole(fsp.writeFile(r.path, r.data, { flag: flagsOf(r.pos) }), r.data.length),
  },
  {
    // inPlace: no O_TRUNC; write over the old bytes, then cut to what reached the file.
    name: 'module writeFile inPlace',
    positions: ['truncate'],
    single: false,
    kaio: (r) => whole(kaio.writeFile(r.path, r.data, { flag: flagsOf(r.pos), context: r.io, inPlace: true }), r.data.length),
    node: (r) => whole(fsp.writeFile(r.path, r.data, { flag: flagsOf(r.pos) }), r.data.length),
  },
  {
    name: 'module appendFile',
    positions: ['append'],
    single: false,
    kaio: (r) => whole(kaio.appendFile(r.path, r.data, { context: r.io }), r.data.length),
    node: (r) => whole(fsp.appendFile(r.path, r.data), r.data.length),
  },
  ...handlePaths(true),
];

export interface MatrixCase {
  /** Stable, unique: `<path> | <backend> | <position>`. */
  id: string;
  path: WritePath;
  backend: BackendName;
  pos: Position;
}

/** Every (path, backend, position) of the table. */
export function matrixCases(filter: (c: MatrixCase) => boolean = () => true): MatrixCase[] {
  const out: MatrixCase[] = [];
  for (const p of WRITE_PATHS)
    for (const backend of p.backends ?? MATRIX_BACKENDS)
      for (const pos of p.positions) {
        const c = { id: `${p.name} | ${backend} | ${pos}`, path: p, backend, pos };
        if (filter(c)) out.push(c);
      }
  return out;
}

/**
 * Position -1 on a raw AIO context is refused up front (Linux AIO has no
 * current position): the case checks the refusal and an untouched file.
 */
export function refusedUpFront(c: MatrixCase): boolean {
  return c.backend === 'aio' && c.pos === 'current' && (c.path.name.startsWith('context.') || c.path.name.startsWith('batch'));
}

/**
 * The Ring's own ops (promise and batch API) at position -1 on io_uring: the
 * kernel keeps that position, and after a write it completes short (an
 * error after part of the data) it leaves the position where it was (Linux
 * 6.18). The Ring passes the kernel's word on unchanged: the count is true
 * and the file intact, but where the position ends is the kernel's, so it is
 * not compared with node:fs. docs/api.md says so, and points to FileHandle,
 * which never hands the kernel -1 for a file with an offset.
 */
export function kernelKeepsPosition(c: MatrixCase): boolean {
  return c.backend === 'io_uring' && c.pos === 'current' && (c.path.name.startsWith('context.') || c.path.name.startsWith('batch'));
}

const errnoNames = new Map(Object.entries(os.constants.errno).map(([k, v]) => [v, k]));
function errnoName(n: number): string {
  return errnoNames.get(n) ?? `errno ${n}`;
}

/** Distinguishable bytes: a xorshift stream per seed, no run of equal words. */
export function pattern(seed: number, len: number): Buffer {
  const key = `${seed}:${len}`;
  const cached = patterns.get(key);
  if (cached) return cached;
  const words = new Uint32Array(Math.ceil(len / 4));
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    words[i] = x;
  }
  const b = Buffer.from(words.buffer, 0, len);
  patterns.set(key, b);
  return b;
}
const patterns = new Map<string, Buffer>();

export interface Sizes {
  /** Old content, written before the call. */
  oldLen: number;
  /** The call's data, more than the target takes. */
  newLen: number;
}

/** Runs one side (kaio or node) of a case on a fresh file at p; the verdict. */
export async function runSide(side: 'kaio' | 'node', c: MatrixCase, io: kaio.IoContext, p: string, sizes: Sizes, watchdogMs = 15000): Promise<Verdict> {
  const old = pattern(1, sizes.oldLen);
  const data = pattern(2, sizes.newLen);
  fs.rmSync(p, { force: true });
  fs.writeFileSync(p, old);
  const r: Run = { io, path: p, pos: c.pos, data, oldLen: old.length, direct: c.path.direct === true };
  let out: Outcome | 'hung';
  let timer: NodeJS.Timeout | undefined;
  try {
    out = await Promise.race([
      c.path[side](r),
      new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), watchdogMs))),
    ]);
  } catch (e) {
    const disk = fs.readFileSync(p);
    fs.rmSync(p, { force: true });
    return { outcome: 'rejected', setupError: String((e as Error).stack || e), size: disk.length, keptOld: 0, oldIntact: false, newBytes: 0, prefixOk: false };
  } finally {
    clearTimeout(timer);
  }
  const disk = fs.readFileSync(p);
  fs.rmSync(p, { force: true });
  const keptOld = c.pos === 'truncate' ? 0 : old.length;
  const newBytes = disk.length - keptOld;
  const v: Verdict = {
    outcome: out === 'hung' ? 'hung' : out.error === undefined ? 'resolved' : 'rejected',
    size: disk.length,
    keptOld,
    oldIntact: disk.subarray(0, keptOld).equals(old.subarray(0, keptOld)),
    newBytes,
    prefixOk: newBytes >= 0 && newBytes <= data.length && disk.subarray(keptOld).equals(data.subarray(0, newBytes)),
  };
  if (out !== 'hung') {
    if (out.count !== undefined) v.count = out.count;
    if (out.events) v.events = out.events;
    if (out.bytesWritten !== undefined) v.bytesWritten = out.bytesWritten;
    if (out.posAfter !== undefined) v.posAfter = out.posAfter;
    if (out.error !== undefined) {
      const e = out.error as { code?: string; errno?: number; syscall?: string; message?: string };
      Object.assign(v, { code: e.code, errno: e.errno, syscall: e.syscall, message: String(e.message).slice(0, 300) });
    }
  }
  return v;
}

/** Both sides of every case, for a child process (EFBIG under RLIMIT_FSIZE). Printed as one JSON line. */
export async function runAllInChild(sizes: Sizes, dir: string): Promise<void> {
  const results: Record<string, { kaio: Verdict; node: Verdict }> = {};
  const contexts = new Map<BackendName, kaio.IoContext | Error>();
  for (const b of MATRIX_BACKENDS) {
    try {
      contexts.set(b, kaio.createContext({ backend: b }));
    } catch (e) {
      contexts.set(b, e as Error);
    }
  }
  const directOk = directSupportedIn(dir);
  let n = 0;
  for (const c of matrixCases()) {
    const io = contexts.get(c.backend);
    if (io instanceof Error || io === undefined) continue;
    if (c.path.direct && !directOk) continue;
    const kaioSide = await runSide('kaio', c, io, path.join(dir, `k${n}`), sizes);
    const nodeSide = await runSide('node', c, io, path.join(dir, `n${n++}`), sizes);
    results[c.id] = { kaio: kaioSide, node: nodeSide };
  }
  for (const io of contexts.values()) if (!(io instanceof Error)) await io.close();
  const unavailable = Object.fromEntries([...contexts].filter(([, v]) => v instanceof Error).map(([k, v]) => [k, (v as Error).message]));
  process.stdout.write(JSON.stringify({ results, unavailable, directOk, sigxfsz: sigxfszIgnored() }) + '\n');
}

/** True when SIGXFSZ (25) is ignored by this process (Node ignores it at startup). */
export function sigxfszIgnored(): boolean {
  const m = /^SigIgn:\s*([0-9a-f]+)$/m.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m !== null && (BigInt('0x' + m[1]) & (1n << 24n)) !== 0n;
}

/** True when the filesystem under dir accepts O_DIRECT. */
export function directSupportedIn(dir: string): boolean {
  const p = path.join(dir, `odirect-check-${process.pid}`);
  try {
    fs.closeSync(fs.openSync(p, O.O_CREAT | O.O_EXCL | O.O_RDWR | O.O_DIRECT));
    return true;
  } catch {
    return false;
  } finally {
    fs.rmSync(p, { force: true });
  }
}

// ── current-position writes queued together on one handle ─────────────────
// kaio sends the current-position writes queued behind each other as one
// writev (lib/file/position.ts). QUEUED calls in flight at once, against
// node:fs/promises making the same calls one after another (node:fs gives
// concurrent writes no order): every call must get what its own write(2)
// would have, and the file must be the same.

/** How many calls; even ones writev([1000 B, 8000 B]), odd ones write(9000 B). */
export const QUEUED = 140;
export const QUEUED_OLD = 10_003;

function queuedPart(i: number): Buffer[] {
  const whole = pattern(500 + i, 9000);
  return i % 2 === 0 ? [whole.subarray(0, 1000), whole.subarray(1000)] : [whole];
}

/** What each call got ('n' bytes, or 'CODE syscall errno') and the file (its size and SHA-256). */
export interface QueuedVerdict {
  outcomes: string[];
  /** size:sha256 of the file. */
  file: string;
  /** The file is the old content, then each call's first n bytes in call order. */
  matchesOutcomes: boolean;
}

function describeOutcome(r: PromiseSettledResult<number>): string {
  if (r.status === 'fulfilled') return String(r.value);
  const e = r.reason as { code?: string; syscall?: string; errno?: number; message?: string };
  return `${e.code} ${e.syscall} ${e.errno}`;
}

/**
 * One run: `flags` 'w' (current position from 0) or 'a' (O_APPEND after
 * QUEUED_OLD old bytes); kaio with every call in flight, or node:fs one call
 * after another.
 */
export async function queuedWrites(side: 'kaio' | 'node', flags: 'w' | 'a', p: string, io?: kaio.IoContext): Promise<QueuedVerdict> {
  fs.rmSync(p, { force: true });
  const old = pattern(499, QUEUED_OLD);
  if (flags === 'a') fs.writeFileSync(p, old);
  const parts = Array.from({ length: QUEUED }, (_, i) => queuedPart(i));
  let settled: PromiseSettledResult<number>[];
  if (side === 'kaio') {
    const fh = await kaio.open(p, flags, 0o666, { context: io });
    try {
      settled = await Promise.allSettled(parts.map((b) => (b.length === 1 ? fh.write(b[0]).then((r) => r.bytesWritten) : fh.writev(b).then((r) => r.bytesWritten))));
    } finally {
      await fh.close();
    }
  } else {
    const fh = await fsp.open(p, flags);
    settled = [];
    try {
      for (const b of parts) {
        const r = b.length === 1 ? fh.write(b[0]).then((x) => x.bytesWritten) : fh.writev(b).then((x) => x.bytesWritten);
        settled.push(await r.then((value) => ({ status: 'fulfilled' as const, value }), (reason: unknown) => ({ status: 'rejected' as const, reason })));
      }
    } finally {
      await fh.close();
    }
  }
  const file = fs.readFileSync(p);
  fs.rmSync(p, { force: true });
  const want = [flags === 'a' ? old : Buffer.alloc(0)];
  settled.forEach((r, i) => {
    if (r.status === 'fulfilled') want.push(Buffer.concat(parts[i]).subarray(0, r.value));
  });
  return { outcomes: settled.map(describeOutcome), file: `${file.length}:${crypto.createHash('sha256').update(file).digest('hex')}`, matchesOutcomes: file.equals(Buffer.concat(want)) };
}

/** The RLIMIT_FSIZE child: every backend × 'w'/'a', kaio and node; one JSON line. */
export async function queuedWritesInChild(dir: string): Promise<void> {
  const results: Record<string, { kaio: QueuedVerdict; node: QueuedVerdict } | string> = {};
  for (const backend of MATRIX_BACKENDS) {
    let io: kaio.IoContext;
    try {
      io = kaio.createContext({ backend });
    } catch (e) {
      results[backend] = (e as Error).message;
      continue;
    }
    for (const flags of ['w', 'a'] as const) {
      const k = await queuedWrites('kaio', flags, path.join(dir, `qk-${backend}-${flags}`), io);
      const n = await queuedWrites('node', flags, path.join(dir, `qn-${backend}-${flags}`));
      results[`${backend} ${flags}`] = { kaio: k, node: n };
    }
    await io.close();
  }
  process.stdout.write(JSON.stringify({ results, sigxfsz: sigxfszIgnored() }) + '\n');
}
