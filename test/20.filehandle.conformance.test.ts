// The same cases against node:fs/promises and kaio (on every backend this
// machine sets up): results, file contents and errors must match.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { pipeline } from 'node:stream/promises';
import * as kaio from 'kaio';
import type { FileHandle, IoContext, KaioReadFileOptions, KaioWriteFileOptions, WriteFileData } from 'kaio';
import { skip, type KaioError, BACKENDS, contextPerBackend } from './helpers';


function mkdir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-fh-'));
}

/** A result as plain data: buffers as hex, errors by their public fields (the temp dir masked). */
function norm(v: unknown, dir: string): unknown {
  if (v instanceof Error) {
    const e = v as KaioError;
    const out: Record<string, unknown> = { error: e.name, code: e.code, message: String(e.message).split(dir).join('<dir>') };
    if (e.errno !== undefined) out.errno = e.errno;
    if (e.syscall !== undefined) out.syscall = e.syscall;
    if (e.path !== undefined) out.path = String(e.path).split(dir).join('<dir>');
    return out;
  }
  if (Buffer.isBuffer(v) || v instanceof Uint8Array) return { bytes: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex') };
  if (Array.isArray(v)) return v.map((x) => norm(x, dir));
  if (typeof v === 'bigint') return `${v}n`;
  if (v && typeof v === 'object') {
    const o: Record<string, unknown> = {};
    for (const k of Object.keys(v)) o[k] = norm((v as Record<string, unknown>)[k], dir);
    return o;
  }
  return v;
}

/** Runs fn and records what it returned or threw. */
async function step(trace: unknown[], dir: string, fn: () => unknown): Promise<void> {
  try {
    trace.push(norm(await fn(), dir));
  } catch (e) {
    trace.push(norm(e, dir));
  }
}

type PathOrHandle = fs.PathLike | FileHandle;
type ReadFileOptions = Omit<KaioReadFileOptions, 'context'> | BufferEncoding | null;
type WriteFileOptions = Omit<KaioWriteFileOptions, 'context'> | BufferEncoding | null;

/**
 * One implementation of the API under comparison. The cases are typed against
 * kaio's public declarations; node:fs/promises is the reference they must match.
 */
interface Impl {
  name: string;
  open(path: fs.PathLike, flags?: string | number, mode?: number | string): Promise<FileHandle>;
  readFile(path: PathOrHandle, options?: ReadFileOptions): Promise<string | Buffer>;
  writeFile(path: PathOrHandle, data: WriteFileData, options?: WriteFileOptions): Promise<void>;
  appendFile(path: PathOrHandle, data: WriteFileData, options?: WriteFileOptions): Promise<void>;
}

function nodeImpl(): Impl {
  const impl = { name: 'node', open: fsp.open, readFile: fsp.readFile, writeFile: fsp.writeFile, appendFile: fsp.appendFile };
  // Node's declarations differ from kaio's in details (Mode, Stream data,
  // FileHandle's own class); what the cases compare is behaviour at run time.
  return impl as unknown as Impl;
}

function kaioImpl(context: IoContext): Impl {
  return {
    name: `kaio/${context.backend}`,
    open: (p, f, m) => kaio.open(p, f, m, { context }),
    readFile: (p, o) => kaio.readFile(p, typeof o === 'string' ? { encoding: o, context } : { ...(o || {}), context }),
    writeFile: (p, d, o) => kaio.writeFile(p, d, typeof o === 'string' ? { encoding: o, context } : { ...(o || {}), context }),
    appendFile: (p, d, o) => kaio.appendFile(p, d, typeof o === 'string' ? { encoding: o, context } : { ...(o || {}), context }),
  };
}

const SEED = Buffer.from('The quick brown fox jumps over the lazy dog.\nSecond line\r\nthird\n\nlast');

/** Each case gets a fresh dir with `a` holding SEED; returns its trace and the dir's files. */
const CASES: Record<string, (impl: Impl, dir: string, t: unknown[]) => Promise<void>> = {
  async 'read: every overload and position form'(impl, dir, t) {
    const fh = await impl.open(path.join(dir, 'a'), 'r');
    await step(t, dir, () => fh.read(Buffer.alloc(10), 2, 5, 4));
    await step(t, dir, () => fh.read(Buffer.alloc(8), { position: 3 }));
    await step(t, dir, () => fh.read(Buffer.alloc(8), { offset: 2, length: 4, position: 1 }));
    await step(t, dir, () => fh.read({ buffer: Buffer.alloc(6), position: 10 }));
    await step(t, dir, () => fh.read({ buffer: Buffer.alloc(6) }));
    await step(t, dir, () => fh.read(Buffer.alloc(5)));
    await step(t, dir, () => fh.read(Buffer.alloc(5), 0, 5, null));
    await step(t, dir, () => fh.read(Buffer.alloc(5), null, null, undefined));
    await step(t, dir, async () => (await fh.read()).bytesRead);
    await step(t, dir, () => fh.read(Buffer.alloc(5), 0, 5, 1000));
    await step(t, dir, () => fh.read(Buffer.alloc(5), 0, 0, 0));
    await step(t, dir, () => fh.read(new Uint16Array(4), 0, 8, 0));
    await step(t, dir, () => fh.read(new DataView(new ArrayBuffer(4)), 0, 4, 0));
    await fh.close();
  },
  async 'read: bad arguments'(impl, dir, t) {
    const fh = await impl.open(path.join(dir, 'a'), 'r');
    await step(t, dir, () => fh.read([1]));
    // @ts-expect-error bad input on purpose: the same error as node's
    await step(t, dir, () => fh.read(5));
    await step(t, dir, () => fh.read(Buffer.alloc(2), -1));
    await step(t, dir, () => fh.read(Buffer.alloc(2), 1.5));
    await step(t, dir, () => fh.read(Buffer.alloc(2), 0, 5));
    await step(t, dir, () => fh.read(Buffer.alloc(2), 0, -1));
    await step(t, dir, () => fh.read(Buffer.alloc(0)));
    // @ts-expect-error bad input on purpose: the same error as node's
    await step(t, dir, () => fh.readv([1]));
    // @ts-expect-error bad input on purpose: the same error as node's
    await step(t, dir, () => fh.readv('x'));
    // @ts-expect-error bad input on purpose: the same error as node's
    await step(t, dir, () => fh.truncate('x'));
    // @ts-expect-error bad input on purpose: the same error as node's
    await step(t, dir, () => fh.readFile({ encoding: 'bogus' }));
    // @ts-expect-error bad input on purpose: the same error as node's
    await step(t, dir, () => fh.readFile(5));
    await fh.close();
  },
  async 'write: every overload, encodings, holes'(impl, dir, t) {
    const p = path.join(dir, 'w');
    const fh = await impl.open(p, 'w+');
    await step(t, dir, () => fh.write(Buffer.from('0123456789'), 2, 5, 0));
    await step(t, dir, () => fh.write(Buffer.from('abcdef'), { offset: 1, length: 3, position: 20 }));
    await step(t, dir, () => fh.write(Buffer.from('zz'), {}));
    await step(t, dir, () => fh.write(Buffer.from('yy'), null));
    await step(t, dir, () => fh.write('héllo'));
    await step(t, dir, () => fh.write('68656c6c6f', 40, 'hex'));
    await step(t, dir, () => fh.write('aGk=', null, 'base64'));
    await step(t, dir, () => fh.write('ÿ', undefined, 'latin1'));
    await step(t, dir, () => fh.write(new Uint32Array([0x41424344]), 0, 4, 60));
    await step(t, dir, () => fh.write(Buffer.alloc(0)));
    // @ts-expect-error bad input on purpose: the same error as node's
    await step(t, dir, () => fh.write(5));
    // @ts-expect-error bad input on purpose: the same error as node's
    await step(t, dir, () => fh.write({}));
    await step(t, dir, () => fh.write(Buffer.alloc(2), 3));
    await step(t, dir, () => fh.write(Buffer.alloc(2), 0, 5));
    // @ts-expect-error bad input on purpose: the same error as node's
    await step(t, dir, () => fh.write('x', 0, 'bogus'));
    await step(t, dir, () => fh.writev([Buffer.from('AB'), Buffer.from('CDE')], 70));
    await step(t, dir, () => fh.writev([Buffer.from('FG')]));
    await step(t, dir, () => fh.writev([]));
    await step(t, dir, () => fh.readv([Buffer.alloc(3), Buffer.alloc(4)], 0));
    await step(t, dir, () => fh.readv([Buffer.alloc(3)]));
    await step(t, dir, () => fh.readv([]));
    await fh.close();
  },
  async 'writeFile and appendFile on a handle write from its position'(impl, dir, t) {
    const fh = await impl.open(path.join(dir, 'a'), 'r+');
    await step(t, dir, () => fh.read(Buffer.alloc(4)));
    await step(t, dir, () => fh.writeFile('abc'));
    await step(t, dir, () => fh.appendFile(Buffer.from('DEF')));
    await step(t, dir, () => fh.writeFile(['x', Buffer.from('y')]));
    await step(t, dir, () => fh.writeFile('6869', 'hex'));
    await step(t, dir, () => fh.readFile('utf8'));
    await step(t, dir, () => fh.readFile());
    // @ts-expect-error bad input on purpose: the same error as node's
    await step(t, dir, () => fh.writeFile(5));
    await fh.close();
  },
  async 'append mode'(impl, dir, t) {
    const fh = await impl.open(path.join(dir, 'a'), 'a+');
    await step(t, dir, () => fh.write('AAA', 0));
    await step(t, dir, () => fh.write(Buffer.from('BBB')));
    await step(t, dir, () => fh.writeFile('CCC'));
    await step(t, dir, () => fh.read(Buffer.alloc(6), 0, 6, 0));
    await step(t, dir, () => fh.readFile('latin1'));
    await fh.close();
  },
  async 'readFile of a handle: current position, sizes'(impl, dir, t) {
    await fsp.writeFile(path.join(dir, 'empty'), '');
    await fsp.writeFile(path.join(dir, 'big'), Buffer.alloc(600 * 1024 + 7, 'q'));
    const a = await impl.open(path.join(dir, 'a'), 'r');
    await step(t, dir, () => a.read(Buffer.alloc(10)));
    await step(t, dir, () => a.readFile('utf8'));
    await step(t, dir, () => a.readFile('utf8'));
    await a.close();
    const e = await impl.open(path.join(dir, 'empty'), 'r');
    await step(t, dir, () => e.readFile());
    await e.close();
    const b = await impl.open(path.join(dir, 'big'), 'r');
    await step(t, dir, async () => (await b.readFile()).length);
    await b.close();
  },
  async 'stat, truncate, chmod, utimes, sync, datasync'(impl, dir, t) {
    const fh = await impl.open(path.join(dir, 'a'), 'r+');
    const pick = (s: fs.Stats | fs.BigIntStats) => ({ size: s.size, mode: s.mode, isFile: s.isFile() });
    await step(t, dir, async () => pick(await fh.stat()));
    await step(t, dir, async () => pick(await fh.stat({ bigint: true })));
    await step(t, dir, () => fh.truncate(7));
    await step(t, dir, () => fh.truncate());
    await step(t, dir, () => fh.truncate(-5));
    await step(t, dir, () => fh.write('12345678', 0));
    await step(t, dir, () => fh.truncate(3));
    await step(t, dir, () => fh.chmod(0o640));
    await step(t, dir, () => fh.chmod('600'));
    await step(t, dir, () => fh.utimes(1000, new Date(2000000)));
    await step(t, dir, async () => { const s = await fh.stat(); return [s.mode & 0o777, s.mtimeMs, s.atimeMs]; });
    await step(t, dir, () => fh.sync());
    await step(t, dir, () => fh.datasync());
    await fh.close();
  },
  async 'closed handles'(impl, dir, t) {
    const fh = await impl.open(path.join(dir, 'a'), 'r+');
    await step(t, dir, () => fh.close());
    await step(t, dir, () => fh.fd);
    await step(t, dir, () => fh.close());
    const calls: Record<string, unknown[]> = { appendFile: ['x'], chmod: [0o644], chown: [0, 0], datasync: [], sync: [], read: [Buffer.alloc(1)], readv: [[Buffer.alloc(1)]], readFile: [], stat: [], truncate: [], utimes: [1, 1], write: [Buffer.alloc(1)], writev: [[Buffer.alloc(1)]], writeFile: ['x'] };
    // Every method by name, with arguments it accepts when open.
    const methods = fh as unknown as Record<string, (...args: unknown[]) => unknown>;
    for (const [m, a] of Object.entries(calls)) await step(t, dir, () => methods[m](...a));
    await step(t, dir, () => fh.createReadStream());
    await step(t, dir, () => fh.createWriteStream());
    await step(t, dir, () => fh.readLines());
    await step(t, dir, () => fh.readableWebStream());
    const fh2 = await impl.open(path.join(dir, 'a'), 'r');
    let closed = 0;
    fh2.on('close', () => closed++);
    await step(t, dir, () => fh2[Symbol.asyncDispose]());
    await step(t, dir, () => [fh2.fd, closed]);
  },
  async 'kernel errors'(impl, dir, t) {
    await step(t, dir, () => impl.open(path.join(dir, 'nope'), 'r'));
    await step(t, dir, () => impl.open(path.join(dir, 'a'), 'wx'));
    await step(t, dir, () => impl.open(path.join(dir, 'a'), 'bogus'));
    // @ts-expect-error bad input on purpose: the same error as node's
    await step(t, dir, () => impl.open(5));
    await step(t, dir, () => impl.open('a\0b'));
    const ro = await impl.open(path.join(dir, 'a'), 'r');
    await step(t, dir, () => ro.write('x'));
    await step(t, dir, () => ro.writev([Buffer.from('x')], 0));
    await step(t, dir, () => ro.writeFile('x'));
    await ro.close();
    const d = await impl.open(dir, 'r');
    await step(t, dir, () => d.read(Buffer.alloc(4), 0, 4, 0));
    await step(t, dir, () => d.readFile());
    await d.close();
  },
  async 'module-level readFile, writeFile, appendFile'(impl, dir, t) {
    const p = path.join(dir, 'm');
    await step(t, dir, () => impl.writeFile(p, 'hello'));
    await step(t, dir, () => impl.appendFile(p, ' world'));
    await step(t, dir, () => impl.appendFile(p, Buffer.from('!')));
    await step(t, dir, () => impl.readFile(p));
    await step(t, dir, () => impl.readFile(p, 'utf8'));
    await step(t, dir, () => impl.readFile(pathToFileURL(p), { encoding: 'base64' }));
    await step(t, dir, () => impl.readFile(Buffer.from(p), 'hex'));
    await step(t, dir, () => impl.writeFile(pathToFileURL(p), Buffer.from('replaced')));
    await step(t, dir, () => impl.writeFile(p, 'ff00', { encoding: 'hex', flag: 'a' }));
    await step(t, dir, () => impl.writeFile(p, ['it', Buffer.from('er')], { flag: 'a' }));
    await step(t, dir, () => impl.writeFile(path.join(dir, 'mode'), 'x', { mode: 0o600 }));
    await step(t, dir, () => (fs.statSync(path.join(dir, 'mode')).mode & 0o777));
    await step(t, dir, () => impl.readFile(p, { flag: 'r+' }));
    await step(t, dir, () => impl.readFile(path.join(dir, 'nope')));
    await step(t, dir, () => impl.readFile(dir));
    // @ts-expect-error bad input on purpose: the same error as node's
    await step(t, dir, () => impl.readFile(p, 'bogus'));
    await step(t, dir, () => impl.readFile(p, { flag: 'zz' }));
    // @ts-expect-error bad input on purpose: the same error as node's
    await step(t, dir, () => impl.readFile(42n));
    // @ts-expect-error bad input on purpose: the same error as node's
    await step(t, dir, () => impl.writeFile(p, 42));
    await step(t, dir, () => impl.writeFile(path.join(dir, 'nodir', 'x'), 'x'));
    await step(t, dir, () => impl.readFile('/proc/self/status').then((b) => b.length > 0));
    await step(t, dir, () => impl.readFile(path.join(dir, 'empty-m')).catch((e) => e.code));
    const fh = await impl.open(path.join(dir, 'a'), 'r+');
    await step(t, dir, () => fh.read(Buffer.alloc(4)));
    await step(t, dir, () => impl.readFile(fh, 'utf8'));
    await step(t, dir, () => impl.writeFile(fh, 'via handle'));
    await step(t, dir, () => impl.appendFile(fh, '+'));
    await fh.close();
  },
  async 'AbortSignal'(impl, dir, t) {
    const p = path.join(dir, 'a');
    const aborted = AbortSignal.abort();
    await step(t, dir, () => impl.readFile(p, { signal: aborted }));
    await step(t, dir, () => impl.writeFile(path.join(dir, 'x'), 'x', { signal: aborted }));
    await step(t, dir, () => fs.existsSync(path.join(dir, 'x')));
    // @ts-expect-error bad input on purpose: the same error as node's
    await step(t, dir, () => impl.readFile(p, { signal: 'nope' }));
    const fh = await impl.open(p, 'r+');
    await step(t, dir, () => fh.readFile({ signal: aborted }));
    await step(t, dir, () => fh.writeFile('x', { signal: aborted }));
    const s = fh.createReadStream({ signal: aborted, autoClose: false });
    await step(t, dir, () => new Promise((resolve) => s.on('error', resolve)));
    await fh.close();
    // Aborted after the first chunk: an AbortError, then the handle closes with the stream.
    await fsp.writeFile(path.join(dir, 'big'), Buffer.alloc(1 << 20, 7));
    const fh2 = await impl.open(path.join(dir, 'big'), 'r');
    const ac = new AbortController();
    const s2 = fh2.createReadStream({ highWaterMark: 1024, signal: ac.signal });
    s2.once('data', () => ac.abort());
    await step(t, dir, () => new Promise((resolve) => {
      const ev: unknown[] = [];
      s2.on('error', (e) => ev.push(norm(e, dir)));
      s2.on('close', () => resolve([...ev, 'close', fh2.fd]));
    }));
  },
  async 'concurrent ops on one handle'(impl, dir, t) {
    const fh = await impl.open(path.join(dir, 'c'), 'w+');
    const blocks = Array.from({ length: 32 }, (_, i) => Buffer.alloc(4096, i + 1));
    await step(t, dir, async () => (await Promise.all(blocks.map((b, i) => fh.write(b, 0, 4096, i * 4096)))).map((r) => r.bytesWritten));
    await step(t, dir, async () => (await Promise.all(blocks.map((_, i) => fh.read(Buffer.alloc(4096), 0, 4096, (31 - i) * 4096)))).map((r) => r.buffer[0]));
    // close() waits for the ops in flight.
    const reads = blocks.map((_, i) => fh.read(Buffer.alloc(16), 0, 16, i * 4096).then((r) => r.buffer[0]));
    await step(t, dir, () => fh.close());
    await step(t, dir, () => Promise.all(reads));
  },
  async 'positions beyond 2 GiB on a sparse file'(impl, dir, t) {
    const fh = await impl.open(path.join(dir, 's'), 'w+');
    const far = 3 * 2 ** 30 + 5;
    await step(t, dir, () => fh.write(Buffer.from('far away'), 0, 8, far));
    await step(t, dir, () => fh.read(Buffer.alloc(8), 0, 8, far));
    await step(t, dir, () => fh.read(Buffer.alloc(4), 0, 4, 2 ** 31));
    await step(t, dir, async () => (await fh.stat()).size);
    await step(t, dir, async () => (await fh.stat({ bigint: true })).size);
    await step(t, dir, () => fh.truncate(0));
    await fh.close();
  },
  async 'streams: read (start, end, highWaterMark, encoding) and events'(impl, dir, t) {
    await fsp.writeFile(path.join(dir, 'big'), Buffer.from(Array.from({ length: 300000 }, (_, i) => i % 251)));
    // With autoClose false the stream is never destroyed: done at 'end'.
    const collect = (s: fs.ReadStream, until = 'close') =>
      new Promise((resolve) => {
        const ev: unknown[] = [];
        const chunks: string[] = [];
        for (const name of ['open', 'ready', 'end', 'close', 'error', 'pause', 'resume']) s.on(name, (e) => ev.push(name === 'error' ? norm(e, dir) : name));
        s.on('data', (c) => chunks.push(typeof c === 'string' ? c : Buffer.from(c).toString('hex')));
        s.on(until, () => resolve({ ev, chunks, bytesRead: s.bytesRead }));
      });
    let fh = await impl.open(path.join(dir, 'big'), 'r');
    await step(t, dir, () => collect(fh.createReadStream({ highWaterMark: 65536 })));
    await step(t, dir, () => fh.fd);
    fh = await impl.open(path.join(dir, 'big'), 'r');
    await step(t, dir, () => collect(fh.createReadStream({ start: 10, end: 100009, highWaterMark: 30000, autoClose: false }), 'end'));
    await step(t, dir, () => collect(fh.createReadStream({ start: 5, end: 40, encoding: 'base64', emitClose: true, autoClose: false }), 'end'));
    await step(t, dir, () => fh.fd > 0);
    await fh.close();
    fh = await impl.open(path.join(dir, 'a'), 'r');
    const lines: string[] = [];
    await step(t, dir, async () => {
      for await (const l of fh.readLines()) lines.push(l);
      return lines;
    });
    fh = await impl.open(path.join(dir, 'a'), 'r');
    await step(t, dir, async () => {
      const r = fh.readableWebStream();
      const parts: Buffer[] = [];
      for await (const c of r) parts.push(Buffer.from(c));
      return Buffer.concat(parts);
    });
    await step(t, dir, () => fh.readableWebStream());
    await fh.close();
  },
  async 'streams: pipe a file through a read and a write stream'(impl, dir, t) {
    const src = Buffer.from(Array.from({ length: 1 << 20 }, (_, i) => (i * 7) % 256));
    await fsp.writeFile(path.join(dir, 'src'), src);
    const from = await impl.open(path.join(dir, 'src'), 'r');
    const to = await impl.open(path.join(dir, 'dst'), 'w');
    const ws = to.createWriteStream({ highWaterMark: 4096 });
    const wev: string[] = [];
    for (const name of ['open', 'ready', 'finish', 'close', 'drain']) ws.on(name, () => wev.push(name));
    await step(t, dir, () => pipeline(from.createReadStream({ highWaterMark: 16384 }), ws));
    await step(t, dir, () => [...new Set(wev)]);
    await step(t, dir, () => [from.fd, to.fd, ws.bytesWritten]);
    const to2 = await impl.open(path.join(dir, 'dst2'), 'w');
    const ws2 = to2.createWriteStream({ start: 3, encoding: 'latin1', flush: true });
    ws2.write('abc');
    ws2.write(Buffer.from('def'));
    await step(t, dir, () => new Promise((resolve) => ws2.end('ÿ', () => resolve(ws2.bytesWritten))));
  },
};

describe('20 FileHandle conformance with node:fs/promises', function () {
  this.timeout(60000);
  const contexts = contextPerBackend();

  const expected: Record<string, { trace: unknown[]; files: Record<string, string> }> = {};
  async function runCase(name: string, impl: Impl) {
    const dir = mkdir();
    try {
      fs.writeFileSync(path.join(dir, 'a'), SEED);
      const trace: unknown[] = [];
      await CASES[name](impl, dir, trace);
      const files: Record<string, string> = {};
      for (const f of fs.readdirSync(dir).sort()) {
        const st = fs.statSync(path.join(dir, f));
        if (!st.isFile()) continue;
        files[f] = st.size > 1 << 24 ? `sparse:${st.size}` : fs.readFileSync(path.join(dir, f)).toString('hex');
      }
      return { trace, files };
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  for (const name of Object.keys(CASES)) {
    for (const b of BACKENDS) {
      it(`${name} [${b}]`, async function () {
        const ctx = contexts[b];
        if (ctx instanceof Error) skip(this, `${b}: ${ctx.code || ctx.message}`);
        expected[name] ??= await runCase(name, nodeImpl());
        const got = await runCase(name, kaioImpl(ctx));
        assert.deepStrictEqual(got.trace, expected[name].trace);
        assert.deepStrictEqual(got.files, expected[name].files);
      });
    }
  }
});
