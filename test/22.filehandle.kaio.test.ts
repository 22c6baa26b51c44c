// What kaio's FileHandle adds to or guarantees beyond node:fs/promises:
// caller frames on errors, bigint positions, O_DIRECT with alignment handled,
// readFile on io_uring in two submissions.
import assert from 'node:assert/strict';
import cp from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import * as kaio from 'kaio';
import type { IoContext } from 'kaio';
import { _setCachedReads as setCachedReads } from '../dist/lib/file/read-file';
import { directSupported, skip, type KaioError, BACKENDS, contextPerBackend } from './helpers';


describe('22 FileHandle: what kaio adds', function () {
  let dir: string;
  const contexts = contextPerBackend();
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-fh18-'));
  });
  after(async () => {
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const ctxOr = (t: Mocha.Context, b: string): IoContext => {
    const c = contexts[b];
    if (c instanceof Error) skip(t, `${b}: ${c.code || c.message}`);
    return c;
  };

  for (const b of BACKENDS) {
    it(`kernel errors carry the caller's frames [${b}]`, async function () {
      const context = ctxOr(this, b);
      async function callerOfReadFile() {
        await kaio.readFile(path.join(dir, 'missing'), { context });
      }
      async function callerOfWrite() {
        const fh = await kaio.open(path.join(dir, 'ro'), 'w', 0o644, { context });
        await fh.close();
        const ro = await kaio.open(path.join(dir, 'ro'), 'r', 0o644, { context });
        try {
          await ro.write('x', 0);
        } finally {
          await ro.close();
        }
      }
      await assert.rejects(callerOfReadFile(), (e: KaioError) => e.code === 'ENOENT' && /at async callerOfReadFile/.test(String(e.stack)));
      await assert.rejects(callerOfWrite(), (e: KaioError) => e.code === 'EBADF' && e.syscall === 'write' && /at async callerOfWrite/.test(String(e.stack)));
    });

    it(`bigint positions address past 2^53 semantics and beyond 2 GiB [${b}]`, async function () {
      const context = ctxOr(this, b);
      const p = path.join(dir, `sparse-${b}`);
      const fh = await kaio.open(p, 'w+', 0o644, { context });
      const far = 5n * 2n ** 30n + 3n;
      assert.equal((await fh.write(Buffer.from('bigint!'), 0, 7, far)).bytesWritten, 7);
      const { bytesRead, buffer } = await fh.read(Buffer.alloc(7), 0, 7, far);
      assert.equal(bytesRead, 7);
      assert.equal(buffer.toString(), 'bigint!');
      const v = [Buffer.alloc(3), Buffer.alloc(4)];
      assert.equal((await fh.readv(v, far)).bytesRead, 7);
      assert.equal(Buffer.concat(v).toString(), 'bigint!');
      assert.equal((await fh.stat({ bigint: true })).size, far + 7n);
      await fh.close();
      fs.rmSync(p);
    });

    it(`{ direct: true }: unaligned reads, writes, readFile and streams work [${b}]`, async function () {
      const context = ctxOr(this, b);
      if (!directSupported(dir)) skip(this, 'O_DIRECT not supported on this filesystem');
      const p = path.join(dir, `direct-${b}`);
      const data = crypto.randomBytes(3 * 4096 + 123);
      fs.writeFileSync(p, data);
      const fh = await kaio.open(p, 'r+', 0o644, { context, direct: true });
      assert.ok(fs.fstatSync(fh.fd));
      // Unaligned offset, length and buffer address.
      const odd = Buffer.alloc(1001).subarray(1);
      const r = await fh.read(odd, 0, 1000, 777);
      assert.equal(r.bytesRead, 1000);
      assert.ok(odd.equals(data.subarray(777, 1777)));
      // Read past the end: short.
      assert.equal((await fh.read(Buffer.alloc(500), 0, 500, data.length - 100)).bytesRead, 100);
      // Aligned path.
      const al = kaio.alignedBuffer(4096);
      assert.equal((await fh.read(al, 0, 4096, 4096)).bytesRead, 4096);
      assert.ok(al.equals(data.subarray(4096, 8192)));
      // Unaligned write inside and past the end: the size is the true end.
      await fh.write(Buffer.from('hello'), 0, 5, 10);
      data.write('hello', 10);
      await fh.write(Buffer.from('tail!'), 0, 5, data.length);
      const grown = Buffer.concat([data, Buffer.from('tail!')]);
      assert.equal((await fh.stat()).size, grown.length);
      assert.ok(fs.readFileSync(p).equals(grown));
      // Current-position reads, readFile and a stream.
      const h2 = await kaio.open(p, 'r', 0o644, { context, direct: true });
      assert.ok((await h2.read(Buffer.alloc(10))).buffer.equals(grown.subarray(0, 10)));
      assert.ok((await h2.readFile()).equals(grown.subarray(10)));
      const chunks: Buffer[] = [];
      for await (const c of h2.createReadStream({ start: 5, end: 5000, highWaterMark: 1000 })) chunks.push(c);
      assert.ok(Buffer.concat(chunks).equals(grown.subarray(5, 5001)));
      await fh.close();
      assert.equal(h2.fd, -1);
    });
  }

  it('readFile on io_uring with the inline try on (KAIO_CACHED_READ=1): no submission in the page cache; out of it, one (read + close of the fd opened inline)', async function () {
    const ring = ctxOr(this, 'io_uring');
    assert.ok(ring instanceof kaio.Ring, 'the io_uring context is a Ring');
    // The inline try is off unless KAIO_CACHED_READ=1: this case switches it on.
    const wasOn = setCachedReads(true);
    try {
      await smallFileSubmissions(this, ring);
    } finally {
      setCachedReads(wasOn);
    }
  });

  async function smallFileSubmissions(ctx: Mocha.Context, ring: kaio.Ring): Promise<void> {
    const p = path.join(dir, 'small');
    const data = crypto.randomBytes(9000);
    fs.writeFileSync(p, data);
    await kaio.readFile(p, { context: ring }); // warm
    let before = ring.stats.enterCalls;
    assert.ok((await kaio.readFile(p, { context: ring })).equals(data));
    assert.equal(ring.stats.enterCalls - before, 0);
    // Its pages dropped (written back, then POSIX_FADV_DONTNEED through dd's
    // iflag=nocache, which leaves dirty pages): RWF_NOWAIT finds them missing.
    const fd = fs.openSync(p, 'r');
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    try {
      cp.execFileSync('dd', [`if=${p}`, 'iflag=nocache', 'count=0', 'status=none'], { stdio: 'pipe' });
    } catch (e) {
      skip(ctx, `dd cannot drop the file's pages here: ${(e as Error).message}`);
    }
    before = ring.stats.enterCalls;
    assert.ok((await kaio.readFile(p, { context: ring })).equals(data));
    assert.equal(ring.stats.enterCalls - before, 1);
  }

  it('readFile on io_uring of files that are not regular or not sized: reads to EOF', async function () {
    const ring = ctxOr(this, 'io_uring');
    const status = await kaio.readFile('/proc/self/status', { context: ring, encoding: 'utf8' });
    assert.match(status, /^Name:/);
    const p = path.join(dir, 'big');
    const data = crypto.randomBytes(3 * 1024 * 1024 + 5);
    fs.writeFileSync(p, data);
    assert.ok((await kaio.readFile(p, { context: ring })).equals(data));
    assert.equal(await kaio.readFile(p, { context: ring, encoding: 'base64' }), data.toString('base64'));
  });

  it('a FileHandle is what fs.promises calls a FileHandle; File is its deprecated alias', async () => {
    const fh = await kaio.open(__filename);
    assert.equal(fh.constructor.name, 'FileHandle');
    assert.equal(kaio.File, kaio.FileHandle);
    const node = await fsp.open(__filename);
    const nodeMethods = Object.getOwnPropertyNames(Object.getPrototypeOf(node)).filter((m) => m !== 'constructor' && m !== 'getAsyncId');
    for (const m of nodeMethods) assert.ok(m in fh, `FileHandle.${m}`);
    assert.equal(typeof fh.on, 'function');
    await node.close();
    await fh.close();
  });
});
