// Streams over a FileHandle and module streams read page-cached chunks in the
// calling thread (FileHandle#_streamRead: preadv2 RWF_NOWAIT), and what is
// not cached through the context. The chunks, their sizes, the file offset a
// stream leaves, 'close' after destroy with a read in flight, two streams on
// one handle, a file cut short while streaming, and a write stream under
// RLIMIT_FSIZE are checked against node:fs doing the same.
import assert from 'node:assert';
import cp from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import * as kaio from 'kaio';
import { createReadStream as kaioCreateReadStream, createWriteStream as kaioCreateWriteStream } from 'kaio/fs/promises';
import { BACKENDS, pkgRoot, skip, tmpPath, contextPerBackend, backendContext, dropCache, mountTmpfs } from './helpers';

const KiB = 1024;

/** Each 4 KiB block starts with its index, so a block read twice or missed shows. */
function blocks(len: number): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = (i * 7 + (i >> 12) * 13) & 0xff;
  for (let at = 0; at + 4 <= len; at += 4 * KiB) b.writeUInt32LE(at / (4 * KiB), at);
  return b;
}

async function collect(s: NodeJS.ReadableStream): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const c of s) out.push(c as Buffer);
  return out;
}

const lengths = (chunks: Buffer[]): number[] => chunks.map((c) => c.length);


describe('24 streams: chunks read in the calling thread when cached', function () {
  this.timeout(60000);

  const contexts = contextPerBackend();

  const cases: [string, Record<string, number>][] = [
    ['default options', {}],
    ['start and end', { start: 1000, end: 200 * KiB + 7 }],
    ['highWaterMark 10000', { highWaterMark: 10000 }],
    ['start past the end', { start: 1 << 20 }],
    ['end 0', { end: 0 }],
  ];
  for (const backend of BACKENDS) {
    for (const [name, opts] of cases) {
      it(`${backend}, ${name}: the chunks (sizes and bytes) of handle and path streams are node:fs's`, async function () {
        const context = contexts[backend];
        if (context instanceof Error) skip(this, `${backend} is not available here: ${context.message}`);
        const data = blocks(300 * KiB + 123);
        const p = tmpPath('chunks');
        fs.writeFileSync(p, data);
        const want = await collect(fs.createReadStream(p, opts));
        const fh = await kaio.open(p, 'r', 0o666, { context });
        const got = await collect(fh.createReadStream(opts));
        assert.deepStrictEqual(lengths(got), lengths(want));
        assert.ok(Buffer.concat(got).equals(Buffer.concat(want)));
        const viaPath = await collect(kaioCreateReadStream(p, { ...opts, context }));
        assert.deepStrictEqual(lengths(viaPath), lengths(want));
        assert.ok(Buffer.concat(viaPath).equals(Buffer.concat(want)));
      });
    }
  }

  it('a stream of a cached file takes one op of the context (its first chunk) for 16 chunks', async function () {
    // The old path read every chunk through the ring (1 op per chunk).
    const ring = new kaio.Ring();
    try {
      const p = tmpPath('ring-ops');
      fs.writeFileSync(p, blocks(1 << 20));
      fs.readFileSync(p);
      const fh = await kaio.open(p, 'r', 0o666, { context: ring });
      const before = ring.stats.submitted;
      const chunks = await collect(fh.createReadStream({ autoClose: false }));
      assert.strictEqual(Buffer.concat(chunks).length, 1 << 20);
      assert.strictEqual(chunks.length, 16);
      assert.strictEqual(ring.stats.submitted - before, 1, 'ops the stream put in the ring');
      await fh.close();
    } finally {
      await ring.close();
    }
  });

  it('a file not in the page cache streams through the context, the same chunks as node:fs', async function () {
    const ring = new kaio.Ring();
    try {
      const data = blocks(512 * KiB + 5);
      const p = tmpPath('cold');
      fs.writeFileSync(p, data);
      if (!dropCache(p)) skip(this, 'no dd with iflag=nocache here');
      const fh = await kaio.open(p, 'r', 0o666, { context: ring });
      const before = ring.stats.submitted;
      const got = await collect(fh.createReadStream());
      const ops = ring.stats.submitted - before;
      const want = await collect(fs.createReadStream(p));
      assert.deepStrictEqual(lengths(got), lengths(want));
      assert.ok(Buffer.concat(got).equals(data));
      // At least the first chunk was not cached (readahead may bring the later ones).
      assert.ok(ops >= 1, `ops in the ring: ${ops}`);
    } finally {
      await ring.close();
    }
  });

  it('a stream without start reads at the file position and leaves it at the end, as node:fs; reads of the handle meanwhile take their own bytes', async function () {
    const data = blocks(256 * KiB);
    const p = tmpPath('position');
    fs.writeFileSync(p, data);
    for (const open of [(q: string) => kaio.open(q, 'r'), (q: string) => fsp.open(q, 'r')]) {
      const fh = await open(p);
      const head = Buffer.alloc(1000);
      await (fh as kaio.FileHandle).read(head, 0, head.length, null);
      const stream = fh.createReadStream({ autoClose: false, highWaterMark: 16 * KiB });
      const got: Buffer[] = [];
      const side: Buffer[] = [];
      // A read of the handle at the current position between the stream's chunks.
      stream.on('data', (c: string | Buffer) => {
        got.push(c as Buffer);
        if (got.length === 3) {
          const b = Buffer.alloc(5000);
          stream.pause();
          void (fh as kaio.FileHandle).read(b, 0, b.length, null).then((r) => {
            side.push(b.subarray(0, r.bytesRead));
            stream.resume();
          });
        }
      });
      await new Promise<void>((resolve, reject) => stream.on('end', () => resolve()).on('error', reject));
      // Every byte after the first 1000 was read once, by the stream or by the side read.
      const total = 1000 + Buffer.concat(got).length + Buffer.concat(side).length;
      assert.strictEqual(total, data.length);
      const after = Buffer.alloc(10);
      assert.strictEqual((await (fh as kaio.FileHandle).read(after, 0, 10, null)).bytesRead, 0, 'the file position is at the end');
      assert.strictEqual(fs.readSync(fh.fd, after, 0, 10, null), 0, "the kernel's offset is at the end");
      await fh.close();
    }
  });

  it('two streams on one handle at the current position read every block once between them, as node:fs', async function () {
    const data = blocks(2 << 20);
    const p = tmpPath('two');
    fs.writeFileSync(p, data);
    for (const open of [(q: string) => kaio.open(q, 'r'), (q: string) => fsp.open(q, 'r')]) {
      const fh = await open(p);
      const a = fh.createReadStream({ autoClose: false });
      const b = fh.createReadStream({ autoClose: false });
      const [ca, cb] = await Promise.all([collect(a), collect(b)]);
      assert.ok(ca.length > 0 && cb.length > 0, 'both streams read');
      const seen = new Set<number>();
      for (const c of [...ca, ...cb]) {
        assert.strictEqual(c.length % (4 * KiB), 0, 'whole blocks, as the chunks are 64 KiB reads at the offset');
        for (let at = 0; at < c.length; at += 4 * KiB) {
          const index = c.readUInt32LE(at);
          assert.ok(!seen.has(index), `block ${index} read twice`);
          seen.add(index);
          assert.ok(c.subarray(at, at + 4 * KiB).equals(data.subarray(index * 4 * KiB, (index + 1) * 4 * KiB)));
        }
      }
      assert.strictEqual(seen.size, data.length / (4 * KiB));
      await fh.close();
    }
  });

  it('a file cut short while streaming ends the stream at the new end, as node:fs', async function () {
    async function run(make: (p: string) => Promise<NodeJS.ReadableStream>): Promise<number[]> {
      const p = tmpPath('cut');
      fs.writeFileSync(p, blocks(1 << 20));
      const s = await make(p);
      const sizes: number[] = [];
      for await (const c of s) {
        sizes.push((c as Buffer).length);
        if (sizes.length === 2) fs.truncateSync(p, 200 * KiB + 100);
      }
      return sizes;
    }
    const want = await run(async (p) => fs.createReadStream(p));
    const viaHandle = await run(async (p) => (await kaio.open(p, 'r')).createReadStream());
    const viaPath = await run(async (p) => kaioCreateReadStream(p));
    assert.deepStrictEqual(want, [65536, 65536, 65536, 8292]);
    assert.deepStrictEqual(viaHandle, want);
    assert.deepStrictEqual(viaPath, want);
  });

  it("destroy() with a read in flight (a FIFO with no writer's data yet): no 'data' after it, 'close' once the read is done, the handle then closes", async function () {
    const fifo = tmpPath('fifo');
    cp.execFileSync('mkfifo', [fifo]);
    // O_RDWR: the open does not wait for a writer, and the read waits for data.
    const fh = await kaio.open(fifo, fs.constants.O_RDWR);
    const s = fh.createReadStream();
    const events: string[] = [];
    s.on('data', () => events.push('data'));
    s.on('error', (e) => events.push(`error ${(e as Error).message}`));
    s.on('close', () => events.push('close'));
    s.on('open', () => events.push('open'));
    // The first read is in flight (the FIFO is empty: the inline try says EAGAIN).
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 50));
    s.destroy();
    await new Promise((r) => setTimeout(r, 50));
    assert.ok(!events.includes('close'), `'close' before the read in flight ended: ${events}`);
    // Bytes into the FIFO end the read; the stream then closes, with no 'data'.
    const w = fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
    fs.writeSync(w, Buffer.from('late bytes'));
    fs.closeSync(w);
    await new Promise<void>((r) => s.once('close', () => r()));
    assert.deepStrictEqual(events.filter((e) => e !== 'open'), ['close']);
    assert.strictEqual(fh.fd, -1, 'autoClose closed the handle');
  });

  it("a FIFO's stream gives each write's bytes as they come (a short read is a chunk), as node:fs", async function () {
    // A chunk read in part in the calling thread went on reading the rest
    // through the context, which on a FIFO waits for more bytes: the first
    // writes never came out before 64 KiB or the writer's close.
    async function run(make: (p: string) => Promise<NodeJS.ReadableStream>): Promise<string[]> {
      const fifo = tmpPath('fifo-live');
      cp.execFileSync('mkfifo', [fifo]);
      const w = fs.openSync(fifo, fs.constants.O_RDWR); // keeps a writer while the reader opens
      const s = await make(fifo);
      const got: string[] = [];
      const next = (): Promise<string> => new Promise((resolve, reject) => {
        const guard = setTimeout(() => reject(new Error(`no chunk 5 s after the write; got ${JSON.stringify(got)}`)), 5000);
        s.once('data', (c: Buffer) => {
          clearTimeout(guard);
          got.push(c.toString());
          resolve(c.toString());
        });
      });
      for (const piece of ['abc', 'defgh', 'i']) {
        const chunk = next();
        // The reader is waiting (or will find the bytes inline): write, then the chunk comes.
        fs.writeSync(w, piece);
        await chunk;
      }
      (s as unknown as { destroy(): void }).destroy();
      fs.closeSync(w);
      return got;
    }
    const want = await run(async (p) => fs.createReadStream(p));
    assert.deepStrictEqual(want, ['abc', 'defgh', 'i']);
    assert.deepStrictEqual(await run(async (p) => (await kaio.open(p, 'r')).createReadStream()), want);
    assert.deepStrictEqual(await run(async (p) => kaioCreateReadStream(p)), want);
  });

  it('KAIO_INLINE_STREAM_READ=0: every chunk through the context, the same chunks', function () {
    const p = tmpPath('env');
    fs.writeFileSync(p, blocks(300 * KiB));
    const script = `
      const kaio = require(${JSON.stringify(pkgRoot)});
      (async () => {
        const ring = new kaio.Ring();
        const fh = await kaio.open(process.argv[1], 'r', 0o666, { context: ring });
        const sizes = [];
        for await (const c of fh.createReadStream()) sizes.push(c.length);
        process.stdout.write(JSON.stringify({ sizes, ops: ring.stats.submitted }));
        await fh.close();
        await ring.close();
      })();
    `;
    const run = (env: string) => JSON.parse(cp.execFileSync(process.execPath, ['-e', script, p], { encoding: 'utf8', env: { ...process.env, KAIO_INLINE_STREAM_READ: env } }));
    const off = run('0');
    const on = run('1');
    assert.deepStrictEqual(off.sizes, [65536, 65536, 65536, 65536, 45056]);
    assert.deepStrictEqual(on.sizes, off.sizes);
    assert.ok(off.ops >= 5, `ops with the inline reads off: ${off.ops}`);
    assert.ok(on.ops < off.ops, `ops with them on: ${on.ops}`);
  });
});

describe('24 streams: write streams at the current position', function () {
  this.timeout(60000);

  it('every backend: under RLIMIT_FSIZE a write stream ends in EFBIG, the file is a prefix up to the limit and the offset is at its end, as node:fs', function () {
    const script = `
      const kaio = require(${JSON.stringify(pkgRoot)});
      const fsp = require('node:fs/promises');
      const fs = require('node:fs');
      const data = Buffer.alloc(3 << 20);
      for (let i = 0; i < data.length; i++) data[i] = (i * 13 + (i >> 12)) & 0xff;
      async function one(fh, p) {
        const ws = fh.createWriteStream({ autoClose: false });
        const outcome = await new Promise((resolve) => {
          ws.on('finish', () => resolve('finish'));
          ws.on('error', (e) => resolve(e.code));
          // 100 KiB chunks: the limit falls inside one of them.
          for (let at = 0; at < data.length; at += 100 * 1024) ws.write(data.subarray(at, at + 100 * 1024));
          ws.end();
        });
        // The offset: a read at the current position of the file opened w+ finds nothing after it.
        const probe = Buffer.alloc(16);
        const after = fs.readSync(fh.fd, probe, 0, 16, null);
        // An errored stream with autoClose false holds the handle (Node's too): destroy() lets it go.
        await new Promise((resolve) => { ws.once('close', resolve); ws.destroy(); });
        await fh.close();
        const got = fs.readFileSync(p);
        return { outcome, size: got.length, prefix: got.equals(data.subarray(0, got.length)), after, bytesWritten: ws.bytesWritten };
      }
      (async () => {
        const out = {};
        for (const backend of ${JSON.stringify(BACKENDS)}) {
          let context;
          try { context = kaio.createContext({ backend }); } catch { continue; }
          const p = process.argv[1] + '-' + backend;
          out[backend] = await one(await kaio.open(p, 'w+', 0o666, { context }), p);
          await context.close();
        }
        const p = process.argv[1] + '-node';
        out.node = await one(await fsp.open(p, 'w+'), p);
        process.stdout.write(JSON.stringify(out));
      })();
    `;
    const base = tmpPath('efbig-stream');
    const out = cp.execFileSync('sh', ['-c', `trap '' XFSZ; ulimit -f 3000; exec "$0" -e "$1" "$2"`, process.execPath, script, base], { encoding: 'utf8' });
    const res = JSON.parse(out) as Record<string, unknown>;
    const want = { outcome: 'EFBIG', size: 3000 * 512, prefix: true, after: 0, bytesWritten: 3000 * 512 };
    assert.deepStrictEqual(res.node, want);
    for (const backend of BACKENDS) if (res[backend]) assert.deepStrictEqual(res[backend], want, backend);
  });
});

// The kernel's offset of an open fd, as /proc/self/fdinfo gives it.
function fdPos(fd: number): number {
  return Number(/^pos:\s+(\d+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))![1]);
}

type Fh = kaio.FileHandle | fsp.FileHandle;

/**
 * What a write stream over `fh` does with `chunks` written one at a time
 * (each after the one before called back, so each goes out alone), other
 * writers of the fd at its current position between them (node:fs on the fd
 * after chunk 1 mod 3, the handle's own write after chunk 2 mod 3), then the
 * end: the events in order, bytesWritten, the kernel's offset after each
 * callback and at 'finish', and after the stream one more write of the
 * handle at the current position.
 */
async function driveWriteStream(fh: Fh, opts: Record<string, unknown>, chunks: Buffer[]): Promise<Record<string, unknown>> {
  const ws = fh.createWriteStream({ ...opts, autoClose: false } as never) as fs.WriteStream;
  const events: string[] = [];
  const positions: number[] = [];
  ws.on('finish', () => {
    events.push('finish');
    positions.push(fdPos(fh.fd));
  });
  ws.on('error', (e: NodeJS.ErrnoException) => events.push(`error ${e.code}`));
  for (let i = 0; i < chunks.length; i++) {
    await new Promise<void>((resolve) =>
      ws.write(chunks[i], (e) => {
        events.push(e ? `cb${i} ${(e as NodeJS.ErrnoException).code}` : `cb${i}`);
        positions.push(fdPos(fh.fd));
        resolve();
      }),
    );
    if (i % 3 === 1) fs.writeSync(fh.fd, Buffer.from(`<node:fs ${i}>`));
    if (i % 3 === 2) await (fh as kaio.FileHandle).write(Buffer.from(`<handle ${i}>`));
  }
  await new Promise<void>((resolve) => ws.end(resolve));
  await (fh as kaio.FileHandle).write(Buffer.from('<after>'));
  const end = fdPos(fh.fd);
  await new Promise<void>((resolve) => {
    ws.once('close', resolve);
    ws.destroy();
  });
  return { events, positions, end, bytesWritten: ws.bytesWritten };
}

/** Chunks of 1 to 70 KiB with different bytes. */
function writeChunks(): Buffer[] {
  const sizes = [65536, 1, 4096, 70000, 12345, 65536, 65536, 300, 65536, 33333];
  return sizes.map((n, i) => Buffer.alloc(n, 0x41 + i));
}

describe('24 streams: write streams without start, chunk by chunk, as node:fs', function () {
  this.timeout(60000);
  const contexts = contextPerBackend();

  // Flags, an offset the fd has before the stream (r+: moved by a read), start or none.
  const cases: [string, Record<string, unknown>, boolean][] = [
    ['w', {}, false],
    ['w', { start: 1000 }, false],
    ['a', {}, false],
    ['a', { start: 5 }, false],
    ['r+', {}, true],
    ['r+', { start: 2000 }, true],
  ];
  for (const backend of BACKENDS) {
    for (const [flags, opts, seekFirst] of cases) {
      it(`${backend}, '${flags}'${'start' in opts ? `, start ${opts.start}` : ', no start'}: the file's bytes, the fd's offset after every chunk and at 'finish', events and bytesWritten are node:fs's, with node:fs and the handle writing the fd between chunks`, async function () {
        const context = backendContext(contexts, this, backend);
        const old = Buffer.alloc(50000, 0x2e);
        const run = async (p: string, fh: Fh): Promise<Record<string, unknown>> => {
          if (seekFirst) fs.readSync(fh.fd, Buffer.alloc(3000), 0, 3000, null);
          const out = await driveWriteStream(fh, opts, writeChunks());
          await fh.close();
          return { ...out, file: fs.readFileSync(p).toString('latin1') };
        };
        const pn = tmpPath('ws-node');
        fs.writeFileSync(pn, old);
        const want = await run(pn, await fsp.open(pn, flags));
        const pk = tmpPath('ws-kaio');
        fs.writeFileSync(pk, old);
        const got = await run(pk, await kaio.open(pk, flags, 0o666, { context }));
        assert.deepStrictEqual({ ...got, file: undefined }, { ...want, file: undefined });
        assert.ok(got.file === want.file, `the files differ (${(got.file as string).length} against ${(want.file as string).length} bytes)`);
      });
    }

    it(`${backend}: a path stream (kaio/fs/promises createWriteStream) leaves the fd where node:fs's does at 'finish', with the events in node:fs's order`, async function () {
      const context = backendContext(contexts, this, backend);
      const run = async (make: (p: string) => fs.WriteStream, p: string): Promise<Record<string, unknown>> => {
        const ws = make(p);
        const events: string[] = [];
        let pos = -1;
        ws.on('open', () => events.push('open'));
        ws.on('ready', () => events.push('ready'));
        ws.on('finish', () => {
          events.push('finish');
          pos = fdPos((ws as unknown as { fd: number }).fd);
        });
        const chunks = writeChunks();
        for (let i = 0; i < chunks.length; i++) await new Promise<void>((resolve) => ws.write(chunks[i], () => (events.push(`cb${i}`), resolve())));
        await new Promise<void>((resolve) => {
          ws.on('close', () => (events.push('close'), resolve()));
          ws.end();
        });
        return { events, pos, bytesWritten: ws.bytesWritten, file: fs.readFileSync(p).toString('latin1') };
      };
      for (const flags of ['w', 'a']) {
        const pn = tmpPath('wsp-node');
        const pk = tmpPath('wsp-kaio');
        fs.writeFileSync(pn, 'x'.repeat(777));
        fs.writeFileSync(pk, 'x'.repeat(777));
        const want = await run((p) => fs.createWriteStream(p, { flags }), pn);
        const got = await run((p) => kaioCreateWriteStream(p, { flags, context }), pk);
        assert.deepStrictEqual(got, want, flags);
      }
    });
  }
});

describe('24 streams: a write stream without start, chunk by chunk, under RLIMIT_FSIZE (EFBIG)', function () {
  this.timeout(60000);

  it("every backend, 'w' and 'a': the short write at the limit, then EFBIG: events, bytesWritten, the file and the fd's offset are node:fs's", function () {
    const script = `
      const kaio = require(${JSON.stringify(pkgRoot)});
      const fsp = require('node:fs/promises');
      const fs = require('node:fs');
      const data = Buffer.alloc(2 << 20);
      for (let i = 0; i < data.length; i++) data[i] = (i * 13 + (i >> 12)) & 0xff;
      const fdPos = (fd) => Number(/^pos:\\s+(\\d+)/m.exec(fs.readFileSync('/proc/self/fdinfo/' + fd, 'utf8'))[1]);
      async function one(open, p, flags) {
        fs.writeFileSync(p, Buffer.alloc(1000, 1));
        const fh = await open(p, flags);
        const ws = fh.createWriteStream({ autoClose: false });
        const events = [];
        ws.on('error', (e) => events.push('error ' + e.code + ' ' + e.syscall));
        ws.on('finish', () => events.push('finish'));
        // 100 KiB chunks, each after the one before called back: the limit falls inside one.
        for (let at = 0; at < data.length; at += 100 * 1024) {
          const e = await new Promise((resolve) => ws.write(data.subarray(at, at + 100 * 1024), resolve));
          events.push(e ? 'cb ' + e.code : 'cb');
          if (e) break;
        }
        const pos = fdPos(fh.fd);
        await new Promise((resolve) => { ws.once('close', resolve); ws.destroy(); });
        await fh.close();
        const got = fs.readFileSync(p);
        const body = flags === 'a' ? got.subarray(1000) : got;
        return { events, pos, size: got.length, prefix: body.equals(data.subarray(0, body.length)), bytesWritten: ws.bytesWritten };
      }
      (async () => {
        const out = {};
        for (const flags of ['w', 'a']) {
          out['node ' + flags] = await one((p, f) => fsp.open(p, f), process.argv[1] + '-node', flags);
          for (const backend of ${JSON.stringify(BACKENDS)}) {
            let context;
            try { context = kaio.createContext({ backend }); } catch { continue; }
            out[backend + ' ' + flags] = await one((p, f) => kaio.open(p, f, 0o666, { context }), process.argv[1] + '-' + backend, flags);
            await context.close();
          }
        }
        process.stdout.write(JSON.stringify(out));
      })();
    `;
    const base = tmpPath('efbig-chunks');
    // 3000 blocks of 512 bytes: 1,536,000 bytes, inside the 15th 100 KiB chunk.
    const out = cp.execFileSync('sh', ['-c', `trap '' XFSZ; ulimit -f 3000; exec "$0" -e "$1" "$2"`, process.execPath, script, base], { encoding: 'utf8' });
    const res = JSON.parse(out) as Record<string, Record<string, unknown>>;
    for (const flags of ['w', 'a']) {
      const want = res[`node ${flags}`];
      assert.strictEqual(want.size, 3000 * 512, flags);
      assert.ok((want.events as string[]).includes('error EFBIG write'), JSON.stringify(want));
      for (const backend of BACKENDS) if (res[`${backend} ${flags}`]) assert.deepStrictEqual(res[`${backend} ${flags}`], want, `${backend} ${flags}`);
    }
  });
});

describe('24 streams: a write stream without start, chunk by chunk, on a full tmpfs (ENOSPC)', function () {
  this.timeout(60000);
  const contexts = contextPerBackend();
  let fsys: ReturnType<typeof mountTmpfs> | undefined;
  before(function () {
    fsys = mountTmpfs('1m');
    if (!fsys.mounted) {
      const why = fsys.why;
      fsys.unmount();
      fsys = undefined;
      skip(this, `cannot mount a tmpfs here (${why})`);
    }
  });
  after(() => fsys?.unmount());

  for (const backend of BACKENDS) {
    for (const flags of ['w', 'a']) {
      it(`${backend}, '${flags}': a short write, then ENOSPC: events, bytesWritten, the file and the fd's offset are node:fs's`, async function () {
        const context = backendContext(contexts, this, backend);
        // 100 KiB chunks one at a time: the 11th is cut short at 1 MiB, Node's stream writes its rest and gets ENOSPC.
        const data = Buffer.alloc(1300 * KiB);
        for (let i = 0; i < data.length; i++) data[i] = (i * 31 + (i >> 10)) & 0xff;
        const run = async (fh: Fh, p: string): Promise<Record<string, unknown>> => {
          const ws = fh.createWriteStream({ autoClose: false }) as fs.WriteStream;
          const events: string[] = [];
          ws.on('error', (e: NodeJS.ErrnoException) => events.push(`error ${e.code} ${e.syscall}`));
          ws.on('finish', () => events.push('finish'));
          for (let at = 0; at < data.length; at += 100 * KiB) {
            const e = await new Promise<unknown>((resolve) => ws.write(data.subarray(at, at + 100 * KiB), resolve));
            events.push(e ? `cb ${(e as NodeJS.ErrnoException).code}` : 'cb');
            if (e) break;
          }
          const pos = fdPos(fh.fd);
          await new Promise<void>((resolve) => {
            ws.once('close', resolve);
            ws.destroy();
          });
          await fh.close();
          const file = fs.readFileSync(p);
          fs.unlinkSync(p);
          // 'w' truncated the 4 KiB there before; 'a' wrote after them.
          const body = flags === 'a' ? file.subarray(4 * KiB) : file;
          return { events, pos, bytesWritten: ws.bytesWritten, size: file.length, prefix: body.equals(data.subarray(0, body.length)) };
        };
        const p = path.join(fsys!.dir, `enospc-${backend}`);
        fs.writeFileSync(p, Buffer.alloc(4 * KiB, 1));
        const want = await run(await fsp.open(p, flags), p);
        assert.ok((want.events as string[]).includes('error ENOSPC write'), JSON.stringify(want));
        fs.writeFileSync(p, Buffer.alloc(4 * KiB, 1));
        const got = await run(await kaio.open(p, flags, 0o666, { context }), p);
        assert.deepStrictEqual(got, want);
      });
    }
  }
});
