// A FileHandle's current position (position null) is the kernel's file
// offset, advanced by exactly what each op transferred, one op at a time in
// call order, on every backend: a short write at the current position (a
// full tmpfs, RLIMIT_FSIZE) ends in the kernel's error, never in a later
// write over the start of the file; several current-position reads in flight
// each read their own block. Also: module readFile returns the bytes of the
// file it opened (rename-replace), readFile/writeFile on pipes, handles
// closed by the garbage collector, and the FileHandle constructor's errors.
import assert from 'node:assert';
import cp from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as kaio from 'kaio';
import { binding } from '../dist/lib/binding';
import { _setCachedReads as setCachedReads } from '../dist/lib/file/read-file';
import { BACKENDS, mountTmpfs, pkgRoot, skip, tmpPath, type KaioError, backendContext, contextPerBackend, dropCache } from './helpers';

const BLOCK = 4096;

function pattern(seed: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = (seed * 31 + i * 7 + (i >> 12)) & 0xff;
  return b;
}


describe('24 FileHandle: the current position', function () {
  this.timeout(60000);

  const contexts = contextPerBackend();

  const ctx = (ctxThis: Mocha.Context, backend: string): kaio.IoContext => backendContext(contexts, ctxThis, backend);

  for (const backend of BACKENDS) {
    describe(backend, () => {
      it('an explicit position on a FIFO (no offset): Node\'s ESPIPE for read, readv, write, writev and a ReadStream with start, and no byte of the FIFO taken or given', async function () {
        const context = ctx(this, backend);
        const fifo = tmpPath(`pos-fifo-${backend}`);
        cp.execFileSync('mkfifo', [fifo]);
        const shape = (e: KaioError): unknown[] => [e.code, e.errno, e.syscall, e.message];
        const results: Record<string, unknown[]> = {};
        for (const who of ['kaio', 'node'] as const) {
          // Both ends open in this process: the reader non-blocking (the open), the writer then plain.
          const rfd = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
          const wh = (who === 'kaio' ? await kaio.open(fifo, 'w', 0o666, { context }) : await fsp.open(fifo, 'w')) as unknown as fsp.FileHandle;
          fs.closeSync(rfd);
          const rfd2 = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
          const rh = (who === 'kaio' ? await kaio.open(`/proc/self/fd/${rfd2}`, 'r', 0o666, { context }) : await fsp.open(`/proc/self/fd/${rfd2}`, 'r')) as unknown as fsp.FileHandle;
          fs.closeSync(rfd2);
          const out: unknown[] = [];
          fs.writeSync(wh.fd, 'hello fifo');
          const tryOp = async (fn: () => Promise<unknown>): Promise<void> => {
            out.push(await fn().then(() => 'ok', (e: KaioError) => shape(e)));
          };
          await tryOp(() => rh.read(Buffer.alloc(4), 0, 4, 0));
          await tryOp(() => rh.read(Buffer.alloc(4), 0, 4, 3));
          await tryOp(() => rh.readv([Buffer.alloc(4)], 0));
          await tryOp(() => wh.write(Buffer.from('xyz'), 0, 3, 0));
          await tryOp(() => wh.writev([Buffer.from('xyz')], 5));
          await tryOp(async () => {
            for await (const chunk of rh.createReadStream({ start: 0, autoClose: false })) void chunk;
          });
          // Every byte written is still in the FIFO, and nothing else.
          const left = Buffer.alloc(64);
          out.push(left.subarray(0, fs.readSync(rh.fd, left)).toString());
          await rh.close();
          await wh.close();
          results[who] = out;
        }
        assert.deepStrictEqual(results.kaio, results.node);
        assert.deepStrictEqual(results.kaio[0], ['ESPIPE', -29, 'read', 'ESPIPE: invalid seek, read']);
        assert.strictEqual(results.kaio.at(-1), 'hello fifo');
      });

      for (const cache of ['cold', 'warm'] as const) {
        it(`reads in flight together at the current position read blocks 0, 1, 2 in call order, then EOF (${cache} page cache), as node:fs`, async function () {
          const context = ctx(this, backend);
          const p = tmpPath(`pos-read-${backend}-${cache}`);
          const data = Buffer.concat([0, 1, 2].map((i) => Buffer.alloc(BLOCK, 0x41 + i)));
          fs.writeFileSync(p, data);
          if (cache === 'cold') {
            const sync = fs.openSync(p, 'r');
            fs.fsyncSync(sync);
            fs.closeSync(sync);
            assert.ok(dropCache(p), 'the page cache cannot be dropped here (not root, no dd iflag=nocache)');
          }
          const fh = await kaio.open(p, 'r', 0o666, { context });
          try {
            const got = await Promise.all([0, 1, 2, 3].map(() => fh.read(Buffer.alloc(BLOCK), 0, BLOCK, null)));
            assert.deepStrictEqual(got.map((r) => r.bytesRead), [BLOCK, BLOCK, BLOCK, 0]);
            assert.deepStrictEqual(got.slice(0, 3).map((r) => r.buffer[0]), [0x41, 0x42, 0x43]);
          } finally {
            await fh.close();
          }
          const ref = await fsp.open(p, 'r');
          const want = await Promise.all([0, 1, 2, 3].map(() => ref.read(Buffer.alloc(BLOCK), 0, BLOCK, null)));
          await ref.close();
          // node:fs runs them on libuv's threads, so which call gets which
          // block is not fixed there; each block is read once all the same.
          assert.deepStrictEqual(want.map((r) => r.bytesRead).sort(), [0, BLOCK, BLOCK, BLOCK]);
          assert.deepStrictEqual(want.filter((r) => r.bytesRead).map((r) => r.buffer[0]).sort(), [0x41, 0x42, 0x43]);
        });
      }

      it('writes in flight together at the current position land one after another in call order, as node:fs', async function () {
        const context = ctx(this, backend);
        const p = tmpPath(`pos-write-${backend}`);
        const fh = await kaio.open(p, 'w+', 0o666, { context });
        const parts = [0, 1, 2, 3, 4, 5, 6, 7].map((i) => Buffer.alloc(1000 + i * 3, 0x61 + i));
        try {
          const got = await Promise.all(parts.map((b, i) => (i % 2 ? fh.writev([b]) : fh.write(b))));
          assert.deepStrictEqual(got.map((r) => ('bytesWritten' in r ? r.bytesWritten : 0)), parts.map((b) => b.length));
          // The position is the kernel's: node:fs on the same fd reads on from there.
          assert.strictEqual(fs.readSync(fh.fd, Buffer.alloc(10)), 0);
          const back = await fh.read(Buffer.alloc(10), 0, 10, 0);
          assert.strictEqual(back.bytesRead, 10);
        } finally {
          await fh.close();
        }
        assert.deepStrictEqual(fs.readFileSync(p), Buffer.concat(parts));
      });

      it('mixes with node:fs on handle.fd: both see one position (the kernel file offset)', async function () {
        const context = ctx(this, backend);
        const p = tmpPath(`pos-mix-${backend}`);
        fs.writeFileSync(p, pattern(3, 3 * BLOCK));
        const fh = await kaio.open(p, 'r', 0o666, { context });
        try {
          const a = await fh.read(Buffer.alloc(BLOCK), 0, BLOCK, null);
          const b = Buffer.alloc(BLOCK);
          assert.strictEqual(fs.readSync(fh.fd, b, 0, BLOCK, null), BLOCK);
          const c = await fh.read(Buffer.alloc(BLOCK), 0, BLOCK, null);
          assert.deepStrictEqual(Buffer.concat([a.buffer, b, c.buffer]), pattern(3, 3 * BLOCK));
        } finally {
          await fh.close();
        }
      });

      it("'a+': a write lands at the end, and a current-position read then goes on from the end", async function () {
        const context = ctx(this, backend);
        const p = tmpPath(`pos-append-${backend}`);
        fs.writeFileSync(p, 'old-');
        const fh = await kaio.open(p, 'a+', 0o666, { context });
        try {
          const first = await fh.read(Buffer.alloc(2), 0, 2, null);
          assert.strictEqual(first.buffer.toString(), 'ol');
          await fh.write('new', null);
          assert.strictEqual((await fh.read(Buffer.alloc(4), 0, 4, null)).bytesRead, 0);
        } finally {
          await fh.close();
        }
        assert.strictEqual(fs.readFileSync(p, 'utf8'), 'old-new');
        const ref = await fsp.open(p, 'a+');
        await ref.read(Buffer.alloc(2), 0, 2, null);
        await ref.write('!', null);
        assert.strictEqual((await ref.read(Buffer.alloc(4), 0, 4, null)).bytesRead, 0);
        await ref.close();
      });
    });
  }

  describe('full filesystem and RLIMIT_FSIZE at the current position', () => {
    let mnt: string | undefined;
    before(function () {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-24-tmpfs-'));
      try {
        cp.execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir], { stdio: 'pipe' });
        mnt = dir;
      } catch (e) {
        fs.rmdirSync(dir);
        skip(this, `cannot mount a tmpfs here (${String((e as Error).message).split('\n')[0]})`);
      }
    });
    after(() => {
      if (!mnt) return;
      cp.execFileSync('umount', [mnt]);
      fs.rmdirSync(mnt);
    });

    const data = pattern(7, 3 << 20);

    /** The file holds a prefix of data (what the kernel took) and nothing else. */
    function assertPrefix(p: string, atLeast: number): Buffer {
      const got = fs.readFileSync(p);
      assert.ok(got.length >= atLeast && got.length < data.length, `file has ${got.length} bytes`);
      assert.ok(got.equals(data.subarray(0, got.length)), 'the file is a prefix of the data');
      return got;
    }

    for (const backend of BACKENDS) {
      it(`${backend}: handle.writeFile() of 3 MiB onto 1 MiB rejects with ENOSPC; the file is a prefix of the data, as node:fs`, async function () {
        const context = ctx(this, backend);
        const p = path.join(mnt!, `wf-${backend}`);
        const fh = await kaio.open(p, 'w', 0o666, { context });
        const err = (await fh.writeFile(data).then(() => undefined, (e: unknown) => e)) as KaioError | undefined;
        await fh.close();
        assert.strictEqual(err?.code, 'ENOSPC', `writeFile ${err ? 'rejected with ' + err.code : 'resolved'}`);
        assert.strictEqual(err?.syscall, 'write');
        assertPrefix(p, 1);
        fs.unlinkSync(p);
        const ref = await fsp.open(p, 'w');
        const refErr = (await ref.writeFile(data).then(() => undefined, (e: unknown) => e)) as KaioError | undefined;
        await ref.close();
        assert.strictEqual(refErr?.code, 'ENOSPC');
        fs.unlinkSync(p);
      });

      it(`${backend}: createWriteStream() onto a full tmpfs emits 'error' ENOSPC, not 'finish', and bytesWritten is what the file holds`, async function () {
        const context = ctx(this, backend);
        const p = path.join(mnt!, `ws-${backend}`);
        const fh = await kaio.open(p, 'w', 0o666, { context });
        const ws = fh.createWriteStream();
        const outcome = await new Promise<string>((resolve) => {
          ws.on('finish', () => resolve('finish'));
          ws.on('error', (e: Error) => resolve(`error ${(e as KaioError).code}`));
          ws.end(data);
        });
        await fh.close();
        assert.strictEqual(outcome, 'error ENOSPC');
        const got = assertPrefix(p, 0);
        assert.strictEqual(ws.bytesWritten, got.length);
        fs.unlinkSync(p);
      });
    }

    it('every backend: under RLIMIT_FSIZE, writeFile at the current position rejects with EFBIG and leaves a prefix, as node:fs', function () {
      const script = `
        const kaio = require(${JSON.stringify(pkgRoot)});
        const fsp = require('node:fs/promises');
        const fs = require('node:fs');
        const data = Buffer.alloc(3 << 20);
        for (let i = 0; i < data.length; i++) data[i] = (i * 13 + (i >> 12)) & 0xff;
        (async () => {
          const out = {};
          for (const backend of ${JSON.stringify(BACKENDS)}) {
            let context;
            try { context = kaio.createContext({ backend }); } catch { continue; }
            const p = process.argv[1] + '-' + backend;
            const fh = await kaio.open(p, 'w', 0o666, { context });
            const err = await fh.writeFile(data).then(() => 'resolved', (e) => e.code);
            await fh.close();
            const got = fs.readFileSync(p);
            out[backend] = { err, size: got.length, prefix: got.equals(data.subarray(0, got.length)) };
            await context.close();
          }
          const p = process.argv[1] + '-node';
          const fh = await fsp.open(p, 'w');
          out.node = { err: await fh.writeFile(data).then(() => 'resolved', (e) => e.code) };
          await fh.close();
          process.stdout.write(JSON.stringify(out));
        })();
      `;
      const base = tmpPath('efbig');
      // sh sets the limit (in 512-byte blocks: 1,536,000 bytes, not a multiple of the 512 KiB write chunk, so one write is short); SIGXFSZ ignored, so the write returns EFBIG as it would for a service that ignores it.
      const out = cp.execFileSync('sh', ['-c', `trap '' XFSZ; ulimit -f 3000; exec "$0" -e "$1" "$2"`, process.execPath, script, base], { encoding: 'utf8' });
      const res = JSON.parse(out) as Record<string, { err: string; size?: number; prefix?: boolean }>;
      assert.strictEqual(res.node.err, 'EFBIG');
      for (const backend of BACKENDS) {
        if (!res[backend]) continue;
        assert.deepStrictEqual(res[backend], { err: 'EFBIG', size: 3000 * 512, prefix: true }, backend);
      }
    });
  });
});

describe('24 FileHandle: current-position writes queued together go out as one writev', function () {
  this.timeout(60000);

  /** The same calls through node:fs/promises one after another (node:fs gives concurrent calls no order). */
  async function nodeOneByOne(p: string, flags: string, calls: ((fh: fsp.FileHandle) => Promise<number | string>)[]): Promise<(number | string)[]> {
    const fh = await fsp.open(p, flags);
    const out: (number | string)[] = [];
    try {
      for (const c of calls) out.push(await c(fh));
    } finally {
      await fh.close();
    }
    return out;
  }

  for (const flags of ['a', 'w'] as const) {
    it(`io_uring, '${flags}': 64 writes in flight take 1-2 submissions (not 64) and each gets its own count; the file is node:fs's`, async function () {
      const ring = new kaio.Ring({ entries: 64 });
      const p = tmpPath(`queued-${flags}`);
      fs.writeFileSync(p, 'old\n');
      const lines = Array.from({ length: 64 }, (_, i) => Buffer.from(`line ${i} ${'x'.repeat(i * 5)}\n`));
      const fh = await kaio.open(p, flags, 0o666, { context: ring });
      let got: number[];
      let submitted: number;
      try {
        const before = ring.stats.submitted;
        got = (await Promise.all(lines.map((l, i) => (i % 3 === 2 ? fh.writev([l.subarray(0, 3), l.subarray(3)]) : fh.write(l))))).map((r) => r.bytesWritten);
        submitted = ring.stats.submitted - before;
      } finally {
        await fh.close();
        await ring.close();
      }
      assert.deepStrictEqual(got, lines.map((l) => l.length));
      assert.ok(submitted <= 2, `${submitted} SQEs for 64 queued writes`);
      const ref = `${p}.node`;
      fs.writeFileSync(ref, 'old\n');
      await nodeOneByOne(ref, flags, lines.map((l) => (fh2) => fh2.write(l).then((r) => r.bytesWritten)));
      assert.deepStrictEqual(fs.readFileSync(p), fs.readFileSync(ref));
      assert.deepStrictEqual(fs.readFileSync(p), Buffer.concat([Buffer.from(flags === 'a' ? 'old\n' : ''), ...lines]));
    });
  }

  for (const backend of BACKENDS) {
    it(`${backend}: reads queued between writes on 'r+' see what the writes before them left, as node:fs one by one`, async function () {
      let context: kaio.IoContext;
      try {
        context = kaio.createContext({ backend });
      } catch (e) {
        skip(this, `${backend} is not available here: ${(e as Error).message}`);
      }
      const p = tmpPath(`queued-rw-${backend}`);
      const ref = `${p}.node`;
      const old = pattern(11, 50_000);
      fs.writeFileSync(p, old);
      fs.writeFileSync(ref, old);
      // w w r w w r r w ... with sizes that cross pages; each read returns what it read, as text.
      const kinds = Array.from({ length: 48 }, (_, i) => (i % 5 === 2 || i % 7 === 3 ? 'r' : 'w'));
      const calls = kinds.map((k, i) => {
        const len = 700 + i * 37;
        if (k === 'w') {
          const b = pattern(100 + i, len);
          return (fh: { write(b: Buffer): Promise<{ bytesWritten: number }> }) => fh.write(b).then((r) => r.bytesWritten);
        }
        return (fh: { read(b: Buffer, o: number, l: number, p: null): Promise<{ bytesRead: number; buffer: Buffer }> }) =>
          fh.read(Buffer.alloc(len), 0, len, null).then((r) => r.buffer.subarray(0, r.bytesRead).toString('hex'));
      });
      const fh = await kaio.open(p, 'r+', 0o666, { context });
      let got: (number | string)[];
      try {
        got = await Promise.all(calls.map((c) => c(fh as never)));
      } finally {
        await fh.close();
        await context.close();
      }
      const want = await nodeOneByOne(ref, 'r+', calls.map((c) => (h: fsp.FileHandle) => c(h as never)));
      assert.deepStrictEqual(got, want);
      assert.deepStrictEqual(fs.readFileSync(p), fs.readFileSync(ref));
    });
  }
});

describe('24 module readFile: the bytes of the file it opened', function () {
  this.timeout(60000);

  for (const backend of BACKENDS) {
    it(`${backend}: readers racing a rename-replace see the old file or the new one, whole, never a mix or a cut`, async function () {
      let context: kaio.IoContext;
      try {
        context = kaio.createContext({ backend });
      } catch (e) {
        skip(this, `${backend} is not available here: ${(e as Error).message}`);
      }
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-24-rename-'));
      const p = path.join(dir, 'current');
      const small = pattern(1, 1000);
      const large = pattern(2, 33 * 1000);
      fs.writeFileSync(p, small);
      let stop = false;
      let swaps = 0;
      const swapper = (async () => {
        while (!stop) {
          const next = swaps++ % 2 ? small : large;
          const tmp = path.join(dir, `next-${swaps}`);
          await fsp.writeFile(tmp, next);
          await fsp.rename(tmp, p);
        }
      })();
      let bad = 0;
      let reads = 0;
      try {
        // Until both have happened enough: a loaded machine may run either side slowly.
        while (reads < 1500 || swaps < 20) {
          const got = await Promise.all(Array.from({ length: 8 }, () => kaio.readFile(p, { context })));
          for (const b of got) if (!b.equals(small) && !b.equals(large)) bad++;
          reads += got.length;
        }
      } finally {
        stop = true;
        await swapper;
        await context.close();
        fs.rmSync(dir, { recursive: true });
      }
      assert.strictEqual(bad, 0, `${bad} of ${reads} reads were neither file`);
    });
  }
});

describe('24 module readFile: the inline first try (RESOLVE_CACHED open, RWF_NOWAIT read)', function () {
  this.timeout(60000);
  let ring: kaio.Ring;
  let dir: string;
  before(function () {
    try {
      ring = new kaio.Ring({ entries: 64 });
    } catch (e) {
      skip(this, `io_uring is not available here: ${(e as Error).message}`);
    }
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-24-inline-'));
  });
  // The inline try is off unless KAIO_CACHED_READ=1 (lib/file/read-file.ts): on for these tests.
  let wasOn = false;
  before(() => {
    wasOn = setCachedReads(true);
  });
  after(async () => {
    setCachedReads(wasOn);
    if (ring) await ring.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const SIZES = [0, 1, 4095, 4096, 4097, 65536, 512 * 1024, 512 * 1024 + 1, 1 << 20];

  it('a file in the page cache is read with no op on the ring; every size reads as node:fs, in the page cache and out of it', async function () {
    let inline = 0;
    for (const size of SIZES) {
      const p = path.join(dir, `s${size}`);
      const data = pattern(size, size);
      fs.writeFileSync(p, data);
      fs.readFileSync(p);
      const before = ring.stats.completed;
      const cached = await kaio.readFile(p, { context: ring });
      if (size > 0 && size <= 512 * 1024 && ring.stats.completed === before) inline++;
      assert.ok(cached.equals(fs.readFileSync(p)), `${size} bytes, cached`);
      // Out of the page cache: RWF_NOWAIT says EAGAIN (or reads short), and the ring reads it.
      assert.ok(dropCache(p), 'the page cache cannot be dropped here (not root, no dd iflag=nocache)');
      const coldBefore = ring.stats.completed;
      const cold = await kaio.readFile(p, { context: ring });
      assert.ok(ring.stats.completed > coldBefore, `${size} bytes out of the page cache: read on the ring`);
      assert.ok(cold.equals(data), `${size} bytes, dropped from the page cache`);
      assert.equal(await kaio.readFile(p, { context: ring, encoding: 'latin1' }), data.toString('latin1'));
    }
    // Every non-empty file up to 512 KiB took no ring op (RESOLVE_CACHED and
    // RWF_NOWAIT are 5.12 and 4.14; ext4 and xfs read without waiting).
    assert.equal(inline, 6, 'cached files of 1 byte .. 512 KiB read inline');
  });

  it('a file read inline is a Buffer of exactly its size, its ArrayBuffer too, as node:fs (one read of the size, no byte more)', async function () {
    for (const size of [1, 4097, 65536, 512 * 1024]) {
      const p = path.join(dir, `exact${size}`);
      fs.writeFileSync(p, pattern(size + 3, size));
      fs.readFileSync(p);
      const before = ring.stats.completed;
      const got = await kaio.readFile(p, { context: ring });
      assert.strictEqual(ring.stats.completed, before, `${size} bytes: read inline`);
      assert.ok(got.equals(fs.readFileSync(p)), `${size} bytes`);
      const node = await fsp.readFile(p);
      assert.strictEqual(got.buffer.byteLength, node.buffer.byteLength, `${size} bytes: the ArrayBuffer's length`);
      assert.strictEqual(got.byteOffset, node.byteOffset);
    }
  });

  it('awaiting readFile in a loop lets the event loop turn: a timer fires (a result settled in the same turn would starve it)', async function () {
    const p = path.join(dir, 'loop');
    fs.writeFileSync(p, pattern(3, 65536)); // large enough to stay on the inline path
    let fired = false;
    setTimeout(() => (fired = true), 1);
    let n = 0;
    while (!fired && n < 20000) {
      await kaio.readFile(p, { context: ring });
      n++;
    }
    assert.ok(fired, `the timer had not fired after ${n} reads`);
  });

  it('a file that stays readable while a writer appends: every read is a prefix of what was written (no stale size, no gap)', async function () {
    const p = path.join(dir, 'growing');
    const all = pattern(9, 3 << 20);
    // The writer starts once the first read is under way; on a loaded machine it can still finish
    // before the reads see it grow, so that case (which checks nothing) is run again, up to 5 times.
    let grewDuring = 0;
    let reads = 0;
    for (let attempt = 0; attempt < 5 && grewDuring <= 1; attempt++) {
      fs.writeFileSync(p, all.subarray(0, 4096));
      // Another process appends in steps that cross page and size boundaries.
      const child = cp.spawn(process.execPath, ['-e', `
        const fs = require('fs'); const all = Buffer.alloc(${all.length});
        for (let i = 0; i < all.length; i++) all[i] = (9 * 31 + i * 7 + (i >> 12)) & 0xff;
        process.stdin.once('data', () => {
          const fd = fs.openSync(process.argv[1], 'a'); let at = 4096;
          const steps = [1, 4095, 4096, 4097, 65536, 12345];
          for (let i = 0; at < all.length; i++) { const n = Math.min(steps[i % steps.length], all.length - at); fs.writeSync(fd, all, at, n); at += n; }
          fs.closeSync(fd); process.exit(0);
        });`, p], { stdio: ['pipe', 'inherit', 'inherit'] });
      const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
      let done = false;
      void exited.then(() => (done = true));
      reads = 0;
      grewDuring = 0;
      let last = 0;
      while (!done || reads < 50) {
        const reading = kaio.readFile(p, { context: ring });
        if (reads === 0) child.stdin!.end('go');
        const got = await reading;
        assert.ok(got.equals(all.subarray(0, got.length)), `read ${reads}: ${got.length} bytes are not a prefix of the data`);
        if (got.length !== last) grewDuring++;
        last = got.length;
        reads++;
      }
      assert.equal(await exited, 0);
      assert.ok((await kaio.readFile(p, { context: ring })).equals(all));
    }
    assert.ok(grewDuring > 1, `the reads saw the file grow (${grewDuring} sizes in ${reads} reads)`);
  });

  it('a file whose stated size is not its length (procfs 0, sysfs 4096) reads as node:fs', async function () {
    const targets = ['/proc/version', '/proc/self/mounts', '/sys/kernel/mm/transparent_hugepage/enabled', '/sys/kernel/kexec_loaded'].filter((t) => fs.existsSync(t));
    if (!targets.some((t) => t.startsWith('/sys/'))) skip(this, 'no sysfs file to read here');
    for (const t of targets) {
      if (t === '/proc/self/mounts') {
        assert.equal(await kaio.readFile(t, { context: ring, encoding: 'utf8' }), fs.readFileSync(t, 'utf8'), t);
        continue;
      }
      const stated = fs.statSync(t).size;
      const got = await kaio.readFile(t, { context: ring });
      assert.ok(got.equals(fs.readFileSync(t)), `${t} (stated size ${stated}, ${got.length} bytes)`);
    }
  });

  it('a FIFO with no writer yet is not opened inline: readFile waits for a writer and returns what it wrote, as node:fs', async function () {
    const fifo = path.join(dir, 'fifo-late');
    cp.execFileSync('mkfifo', [fifo]);
    // The inline try itself leaves a FIFO to the ring: nothing opened (EAGAIN).
    const EAGAIN = os.constants.errno.EAGAIN;
    assert.strictEqual(binding.readCached(fifo, 1 << 20), -EAGAIN);
    let settled = false;
    const reading = kaio.readFile(fifo, { context: ring, encoding: 'utf8' }).finally(() => {
      settled = true;
    });
    // A reader that had opened the FIFO without waiting for a writer reads it
    // empty (no writer: end of file) and settles within these turns; the
    // ring's open is still waiting for a writer.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    assert.equal(settled, false, 'readFile of a FIFO settled before any writer opened it');
    const w = await fsp.open(fifo, 'w');
    await w.write('late writer');
    await w.close();
    assert.equal(await reading, 'late writer');
  });

  it('a FIFO is read blocking to its end; a directory fails with EISDIR as node:fs', async function () {
    const fifo = path.join(dir, 'fifo');
    cp.execFileSync('mkfifo', [fifo]);
    // A writer holds the FIFO open, so the open does not depend on timing; the
    // read then waits for the data and for the writer's close.
    const w = fs.openSync(fifo, 'r+');
    const reading = kaio.readFile(fifo, { context: ring, encoding: 'utf8' });
    await new Promise((resolve) => setImmediate(resolve));
    fs.writeSync(w, 'hello, ');
    await new Promise((resolve) => setImmediate(resolve));
    fs.writeSync(w, 'fifo');
    fs.closeSync(w);
    assert.equal(await reading, 'hello, fifo');
    const mine = await kaio.readFile(dir, { context: ring }).then(() => undefined, (e: KaioError) => e);
    const theirs = await fsp.readFile(dir).then(() => undefined, (e: NodeJS.ErrnoException) => e);
    assert.ok(mine && theirs);
    assert.deepEqual([mine.code, mine.errno, mine.syscall], [theirs.code, theirs.errno, theirs.syscall]);
    const missing = path.join(dir, 'missing');
    const e = await kaio.readFile(missing, { context: ring }).then(() => undefined, (x: KaioError) => x);
    assert.deepEqual([e?.code, e?.syscall, e?.path], ['ENOENT', 'open', missing]);
  });

  it('on tmpfs (no block device: no RWF_NOWAIT there, the close on the ring) a file reads as node:fs', async function () {
    const m = mountTmpfs('8m');
    if (!m.mounted) {
      m.unmount();
      skip(this, `cannot mount tmpfs: ${m.why}`);
    }
    try {
      for (const size of [1, 4096, 65536, 600000]) {
        const p = path.join(m.dir, `t${size}`);
        fs.writeFileSync(p, pattern(size + 1, size));
        assert.ok((await kaio.readFile(p, { context: ring })).equals(fs.readFileSync(p)), `${size} bytes on tmpfs`);
      }
    } finally {
      m.unmount();
    }
  });
});

describe('24 module readFile of 2 MiB and more: the result in huge pages', function () {
  this.timeout(120000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-24-big-'));
  });
  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  const MiB = 1 << 20;
  const SIZES = [2 * MiB - 1, 2 * MiB, 2 * MiB + 1, 5 * MiB + 123, 9 * MiB];

  for (const backend of BACKENDS) {
    it(`${backend}: every size reads as node:fs (bytes, length, the ArrayBuffer's length, encodings), module and FileHandle readFile`, async function () {
      let context: kaio.IoContext;
      try {
        context = kaio.createContext({ backend });
      } catch (e) {
        skip(this, `${backend} is not available here: ${(e as Error).message}`);
      }
      try {
        for (const size of SIZES) {
          const p = path.join(dir, `${backend}-${size}`);
          fs.writeFileSync(p, pattern(size & 0xff, size));
          const want = fs.readFileSync(p);
          const got = await kaio.readFile(p, { context });
          assert.ok(Buffer.isBuffer(got), `${size}: a Buffer`);
          assert.ok(got.equals(want), `${size} bytes`);
          assert.strictEqual(got.byteOffset, 0);
          assert.strictEqual(got.buffer.byteLength, (await fsp.readFile(p)).buffer.byteLength, `${size}: the ArrayBuffer is the file's size, as node:fs`);
          assert.strictEqual(await kaio.readFile(p, { context, encoding: 'latin1' }), want.toString('latin1'));
          assert.strictEqual(await kaio.readFile(p, { context, encoding: 'base64' }), want.toString('base64'));
          const fh = await kaio.open(p, 'r', 0o666, { context });
          try {
            assert.ok((await fh.readFile()).equals(want), `${size} bytes through a FileHandle`);
          } finally {
            await fh.close();
          }
          fs.rmSync(p);
        }
      } finally {
        await context.close();
      }
    });

    it(`${backend}: an abort between the steps of a big read rejects with AbortError (its cause the reason), as node:fs`, async function () {
      let context: kaio.IoContext;
      try {
        context = kaio.createContext({ backend });
      } catch (e) {
        skip(this, `${backend} is not available here: ${(e as Error).message}`);
      }
      const p = path.join(dir, `${backend}-abort`);
      fs.writeFileSync(p, pattern(3, 16 * MiB));
      try {
        const ac = new AbortController();
        const reading = kaio.readFile(p, { context, signal: ac.signal });
        const reason = new Error('enough');
        ac.abort(reason);
        await assert.rejects(reading, (e: KaioError) => e.name === 'AbortError' && e.code === 'ABORT_ERR' && (e as { cause?: unknown }).cause === reason);
        const ac2 = new AbortController();
        const nodeReading = fsp.readFile(p, { signal: ac2.signal });
        ac2.abort(reason);
        await assert.rejects(nodeReading, (e: KaioError) => e.name === 'AbortError' && e.code === 'ABORT_ERR');
        // The file reads whole after that.
        assert.ok((await kaio.readFile(p, { context })).equals(fs.readFileSync(p)));
      } finally {
        await context.close();
        fs.rmSync(p);
      }
    });
  }

  it('a 4 MiB result read in a worker and posted with its ArrayBuffer in the transfer list arrives whole and stays whole after the worker exits (copied, as Node copies untransferable memory)', function () {
    const p = path.join(dir, 'posted');
    fs.writeFileSync(p, pattern(6, 4 * MiB));
    const script = `
      const { Worker } = require('node:worker_threads');
      const fs = require('node:fs');
      const w = new Worker(\`
        const { parentPort, workerData } = require('node:worker_threads');
        require(workerData.root).readFile(workerData.p).then((b) => {
          parentPort.postMessage(b.buffer, [b.buffer]);
          parentPort.postMessage(b.buffer.byteLength);
        });\`, { eval: true, workerData: { root: ${JSON.stringify(pkgRoot)}, p: process.argv[1] } });
      const got = [];
      w.on('message', (m) => got.push(m));
      w.on('exit', async (code) => {
        // The worker's memory is gone: collect, let finalizers run, then read what arrived.
        for (let i = 0; i < 5; i++) { global.gc(); await new Promise((r) => setImmediate(r)); }
        const arrived = Buffer.from(got[0]);
        process.stdout.write(JSON.stringify({ code, length: arrived.length, same: arrived.equals(fs.readFileSync(process.argv[1])), senderKept: got[1] }));
      });
    `;
    const out = cp.execFileSync(process.execPath, ['--expose-gc', '--no-warnings', '-e', script, p], { encoding: 'utf8' });
    const res = JSON.parse(out) as { code: number; length: number; same: boolean; senderKept: number };
    assert.strictEqual(res.code, 0);
    assert.strictEqual(res.length, 4 * MiB);
    assert.ok(res.same, 'the bytes that arrived are the file');
    assert.strictEqual(res.senderKept, 4 * MiB, 'the sender keeps its Buffer (the memory was copied, not moved)');
    fs.rmSync(p);
  });

  it('a 16 MiB result lives in transparent huge pages while held, and its memory goes back once collected (the default context)', function () {
    let thp = '';
    try {
      thp = fs.readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8');
    } catch {
      skip(this, 'no transparent huge pages in this kernel (/sys/kernel/mm/transparent_hugepage/enabled)');
    }
    if (thp.includes('[never]')) skip(this, `transparent huge pages are off here (${thp.trim()})`);
    const p = path.join(dir, 'huge');
    fs.writeFileSync(p, pattern(5, 16 * MiB));
    const script = `
      const kaio = require(${JSON.stringify(pkgRoot)});
      const fs = require('node:fs');
      const huge = () => Number(/AnonHugePages:\\s+(\\d+)/.exec(fs.readFileSync('/proc/self/smaps_rollup', 'utf8'))[1]) * 1024;
      const collect = async () => { for (let i = 0; i < 10; i++) { global.gc(); await new Promise((r) => setImmediate(r)); } };
      (async () => {
        await kaio.readFile(process.argv[1]);
        await collect();
        const base = huge();
        const held = [];
        for (let i = 0; i < 4; i++) held.push(await kaio.readFile(process.argv[1]));
        const holding = huge() - base;
        const same = held.every((b) => b.equals(fs.readFileSync(process.argv[1])));
        held.length = 0;
        // 64 more reads (1 GiB), none kept: the memory goes back as they are collected.
        for (let i = 0; i < 64; i++) await kaio.readFile(process.argv[1]);
        await collect();
        process.stdout.write(JSON.stringify({ holding, after: huge() - base, same }));
      })();
    `;
    const out = cp.execFileSync(process.execPath, ['--expose-gc', '--no-warnings', '-e', script, p], { encoding: 'utf8' });
    const res = JSON.parse(out) as { holding: number; after: number; same: boolean };
    assert.ok(res.same, 'the four results are the file');
    // Node's allocator gives ordinary pages here unless THP is 'always'.
    assert.ok(res.holding >= 32 * MiB, `4 results of 16 MiB held: ${res.holding / MiB} MiB in huge pages (want at least half of 64)`);
    assert.ok(res.after <= 16 * MiB, `after collection: ${res.after / MiB} MiB still in huge pages`);
    fs.rmSync(p);
  });
});

describe('24 readFile and writeFile on pipes', function () {
  this.timeout(30000);
  for (const backend of BACKENDS) {
    it(`${backend}: readFile('/dev/stdin') and writeFile/appendFile('/dev/stdout') through pipes work in order, as node:fs`, function () {
      const script = `
        const kaio = require(${JSON.stringify(pkgRoot)});
        let context;
        try { context = kaio.createContext({ backend: ${JSON.stringify(backend)} }); } catch { process.stdout.write('unavailable'); process.exit(0); }
        (async () => {
          // /proc/self/fd/N where /dev has no stdin/stdout links (a bare initramfs, as the kernel lab's).
          const [stdin, stdout] = require('node:fs').existsSync('/dev/stdin') ? ['/dev/stdin', '/dev/stdout'] : ['/proc/self/fd/0', '/proc/self/fd/1'];
          const input = await kaio.readFile(stdin, { context });
          await kaio.writeFile(stdout, Buffer.concat([Buffer.from('got '), input]), { context });
          await kaio.appendFile(stdout, ' and more', { context });
          await context.close();
        })().catch((e) => { process.stderr.write(e.code + ' ' + e.message); process.exit(1); });
      `;
      const input = pattern(9, 200 * 1024);
      const inputFile = tmpPath(`pipe-in-${backend}`);
      fs.writeFileSync(inputFile, input);
      // Real pipes on both sides (Node's own stdio pipes are socketpairs, which /dev/stdin cannot open).
      const r = cp.spawnSync('sh', ['-c', 'cat "$1" | "$0" -e "$2" | cat', process.execPath, inputFile, script], { maxBuffer: 1 << 24 });
      if (r.stdout.toString() === 'unavailable') skip(this, `${backend} is not available here`);
      assert.strictEqual(r.status, 0, r.stderr.toString());
      assert.strictEqual(r.stderr.toString(), '');
      assert.ok(r.stdout.equals(Buffer.concat([Buffer.from('got '), input, Buffer.from(' and more')])));
    });
  }
});

describe('24 FileHandle lifetime and construction', function () {
  this.timeout(60000);

  it('a FileHandle dropped unclosed is closed by the garbage collector with a warning, as Node does (1,000 opens: no fd left)', function () {
    const script = `
      const kaio = require(${JSON.stringify(pkgRoot)});
      const fs = require('node:fs');
      const count = () => fs.readdirSync('/proc/self/fd').length;
      let warnings = 0;
      const codes = new Set();
      process.on('warning', (w) => { warnings++; if (w.code) codes.add(w.code); });
      (async () => {
        const ctx = kaio.createContext();
        await (await kaio.open(process.argv[1], 'r', 0o666, { context: ctx })).close();
        const base = count();
        for (let i = 0; i < 1000; i++) await kaio.open(process.argv[1], 'r', 0o666, { context: ctx });
        const opened = count() - base;
        // Collect until the registry has run: each turn lets finalizers and fs.close callbacks run.
        for (let i = 0; i < 50 && count() > base; i++) { global.gc(); await new Promise((r) => setImmediate(r)); }
        const left = count() - base;
        await ctx.close();
        process.stdout.write(JSON.stringify({ opened, left, warnings, codes: [...codes] }));
      })();
    `;
    const out = cp.execFileSync(process.execPath, ['--expose-gc', '--no-warnings', '-e', script, __filename], { encoding: 'utf8' });
    const res = JSON.parse(out) as { opened: number; left: number; warnings: number; codes: string[] };
    assert.strictEqual(res.opened, 1000);
    assert.strictEqual(res.left, 0);
    assert.ok(res.warnings >= 1000, `${res.warnings} warnings`);
    assert.deepStrictEqual(res.codes, ['DEP0137']);
  });

  it("the garbage collector's warnings for an unclosed handle are node:fs/promises' (name, code and message)", function () {
    // One child per module: each drops one handle unclosed and prints the warnings it sees (fd numbers as N).
    const seen = (mod: string): unknown => {
      const script = `
        const fsp = require(${JSON.stringify(mod)});
        const seen = [];
        process.on('warning', (w) => seen.push([w.name, w.code, w.message.replace(/\\d+/g, 'N')]));
        (async () => {
          await fsp.open(process.argv[1]);
          for (let i = 0; i < 50 && seen.length < 2; i++) { global.gc(); await new Promise((r) => setImmediate(r)); }
          process.stdout.write(JSON.stringify(seen));
        })();
      `;
      return JSON.parse(cp.execFileSync(process.execPath, ['--expose-gc', '--no-warnings', '-e', script, __filename], { encoding: 'utf8' }));
    };
    const node = seen('node:fs/promises');
    assert.strictEqual((node as unknown[]).length, 2, `node:fs/promises gave ${JSON.stringify(node)}`);
    assert.deepStrictEqual(seen(path.join(pkgRoot, 'fs', 'promises')), node);
  });

  it('close() unregisters the handle: a closed handle that is collected gives no warning', async () => {
    const p = tmpPath('gc-inflight');
    fs.writeFileSync(p, pattern(4, 64 * 1024));
    let warned = false;
    const onWarning = (w: Error): void => {
      if (/garbage collection/.test(w.message)) warned = true;
    };
    process.on('warning', onWarning);
    try {
      const fh = await kaio.open(p);
      const r = await fh.read(Buffer.alloc(64 * 1024), 0, 64 * 1024, 0);
      assert.strictEqual(r.bytesRead, 64 * 1024);
      await fh.close();
      (global as { gc?: () => void }).gc?.();
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('warning', onWarning);
    }
    assert.strictEqual(warned, false);
  });

  it('the exported constructor refuses a bad fd, I/O object or close function with ERR_INVALID_ARG_TYPE / ERR_OUT_OF_RANGE', () => {
    const C = kaio.FileHandle as unknown as new (...args: unknown[]) => unknown;
    const ctx = kaio.defaultContext();
    const bad: [unknown[], string][] = [
      [[3, undefined], 'ERR_INVALID_ARG_TYPE'],
      [[3, null], 'ERR_INVALID_ARG_TYPE'],
      [[3, {}], 'ERR_INVALID_ARG_TYPE'],
      [[3, { read() {}, write() {} }], 'ERR_INVALID_ARG_TYPE'],
      [[3, new Proxy(ctx, {})], 'ERR_INVALID_ARG_TYPE'],
      [[3, ctx, 42], 'ERR_INVALID_ARG_TYPE'],
      [[3, ctx, undefined, 'close'], 'ERR_INVALID_ARG_TYPE'],
      [[-1, ctx], 'ERR_OUT_OF_RANGE'],
      [['3', ctx], 'ERR_INVALID_ARG_TYPE'],
    ];
    for (const [args, code] of bad) assert.throws(() => new C(...args), (e: KaioError) => e.code === code, `${code} for ${args.length} args`);
  });
});
