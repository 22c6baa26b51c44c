// One conformance suite, run against every backend this process can set up:
// the same calls must give the same bytes and the same errors on all three.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import crypto from 'node:crypto';
import { createContext, probe, AioContext, ThreadpoolContext, Ring, FixedFile, type Backend, type IoContext } from 'kaio';
import { root, tmpPath, randomFile, directSupported, type KaioError } from './helpers';

const BACKENDS = ['io_uring', 'aio', 'threadpool'] as const;
const PAGE = 4096;

/** Page-aligned memory for O_DIRECT: a WebAssembly memory starts on a page boundary. */
function aligned(size: number) {
  const pages = Math.ceil(size / 65536) || 1;
  return Buffer.from(new WebAssembly.Memory({ initial: pages }).buffer, 0, size);
}

function available(backend: Backend) {
  try {
    const ctx = createContext({ backend, entries: 4 });
    void ctx.close();
    return null;
  } catch (e) {
    return `${backend} cannot be set up here: ${(e as Error).message.split('\n')[0]}`;
  }
}

for (const backend of BACKENDS) {
  describe(`40 conformance: ${backend}`, function () {
    const opened: number[] = [];
    let ctx: IoContext;
    const open = (p: string, flags: string | number = 'r+') => {
      const fd = fs.openSync(p, flags);
      opened.push(fd);
      return fd;
    };

    before(function () {
      const why = available(backend);
      if (why) this.skip();
    });
    beforeEach(() => {
      ctx = createContext({ backend, entries: 8 });
    });
    afterEach(async () => {
      await ctx?.close();
      while (opened.length) fs.closeSync(opened.pop()!);
    });

    it('is the asked backend and implements the interface', () => {
      assert.equal(ctx.backend, backend);
      for (const m of ['read', 'write', 'readv', 'writev', 'fsync', 'close', Symbol.asyncDispose])
        assert.equal(typeof ctx[m as keyof IoContext], 'function', String(m));
      const s = ctx.stats;
      for (const k of ['submitted', 'completed', 'inFlight', 'queued']) assert.equal(typeof s[k as keyof typeof s], 'number', k);
      assert.equal(ctx.closed, false);
    });

    it('buffered reads are byte-exact against node:fs at many offsets and sizes', async () => {
      const { path, data } = randomFile(300_000);
      const fd = open(path, 'r');
      const cases = [];
      for (let i = 0; i < 64; i++) {
        const len = 1 + crypto.randomInt(20_000);
        const pos = crypto.randomInt(data.length - len);
        cases.push([pos, len]);
      }
      const bufs = cases.map(([, len]) => Buffer.alloc(len));
      const got = await Promise.all(cases.map(([pos], i) => ctx.read(fd, bufs[i], pos)));
      cases.forEach(([pos, len], i) => {
        assert.equal(got[i], len);
        assert.ok(bufs[i].equals(data.subarray(pos, pos + len)), `read at ${pos}+${len}`);
      });
    });

    it('buffered writes land byte-exact (read back with node:fs), including bigint positions', async () => {
      const path = tmpPath('w');
      fs.writeFileSync(path, Buffer.alloc(0));
      const fd = open(path, 'r+');
      const chunks = Array.from({ length: 40 }, (_, i) => crypto.randomBytes(1000 + i * 37));
      let pos = 0;
      const positions = chunks.map((c) => {
        const p = pos;
        pos += c.length;
        return p;
      });
      const n = await Promise.all(chunks.map((c, i) => ctx.write(fd, c, i % 2 ? BigInt(positions[i]) : positions[i])));
      assert.deepEqual(n, chunks.map((c) => c.length));
      assert.ok(fs.readFileSync(path).equals(Buffer.concat(chunks)));
    });

    it('writes from and reads into typed arrays and DataViews by byte', async () => {
      const path = tmpPath('typed');
      const fd = open(path, 'w+');
      const src = new Uint32Array([0x01020304, 0xa0b0c0d0, 7]);
      assert.equal(await ctx.write(fd, src, 0), 12);
      const dst = new DataView(new ArrayBuffer(12));
      assert.equal(await ctx.read(fd, dst, 0), 12);
      assert.equal(dst.getUint32(4, true), 0xa0b0c0d0);
      assert.ok(Buffer.from(src.buffer).equals(fs.readFileSync(path)));
    });

    it('O_DIRECT reads and writes with aligned buffers are byte-exact', async function () {
      if (!directSupported()) this.skip(); // the temp dir's filesystem refuses O_DIRECT
      const path = tmpPath('direct');
      const data = crypto.randomBytes(16 * PAGE);
      fs.writeFileSync(path, Buffer.alloc(16 * PAGE));
      const fd = open(path, fs.constants.O_RDWR | fs.constants.O_DIRECT);
      const wbuf = aligned(16 * PAGE);
      data.copy(wbuf);
      const writes = [];
      for (let i = 0; i < 16; i += 4) writes.push(ctx.write(fd, wbuf.subarray(i * PAGE, (i + 4) * PAGE), i * PAGE));
      assert.deepEqual(await Promise.all(writes), [4, 4, 4, 4].map((p) => p * PAGE));
      assert.ok(fs.readFileSync(path).equals(data));
      const rbuf = aligned(16 * PAGE);
      const reads = [];
      for (let i = 0; i < 16; i++) reads.push(ctx.read(fd, rbuf.subarray(i * PAGE, (i + 1) * PAGE), (15 - i) * PAGE));
      await Promise.all(reads);
      for (let i = 0; i < 16; i++)
        assert.ok(rbuf.subarray(i * PAGE, (i + 1) * PAGE).equals(data.subarray((15 - i) * PAGE, (16 - i) * PAGE)));
    });

    it('O_DIRECT with a misaligned buffer fails with EINVAL', async function () {
      if (!directSupported()) this.skip();
      const path = tmpPath('direct-bad');
      fs.writeFileSync(path, Buffer.alloc(2 * PAGE, 1));
      const fd = open(path, fs.constants.O_RDWR | fs.constants.O_DIRECT);
      const buf = aligned(2 * PAGE).subarray(1, PAGE + 1);
      await assert.rejects(ctx.read(fd, buf, 0), { code: 'EINVAL', errno: -22, syscall: 'read' });
    });

    it('readv and writev scatter and gather byte-exact', async () => {
      const path = tmpPath('vec');
      const fd = open(path, 'w+');
      const parts = [crypto.randomBytes(1), crypto.randomBytes(4095), crypto.randomBytes(10_000), crypto.randomBytes(3)];
      const total = parts.reduce((a, p) => a + p.length, 0);
      assert.equal(await ctx.writev(fd, parts, 100), total);
      const file = fs.readFileSync(path);
      assert.ok(file.subarray(100).equals(Buffer.concat(parts)));
      assert.ok(file.subarray(0, 100).equals(Buffer.alloc(100)));
      const outs = [Buffer.alloc(7), Buffer.alloc(5000), Buffer.alloc(9092)];
      assert.equal(await ctx.readv(fd, outs, 100), total);
      assert.ok(Buffer.concat(outs).equals(Buffer.concat(parts)));
    });

    it('short reads at end of file, and 0 past it', async () => {
      const { path, data } = randomFile(10_000);
      const fd = open(path, 'r');
      const buf = Buffer.alloc(4096);
      assert.equal(await ctx.read(fd, buf, 8000), 2000);
      assert.ok(buf.subarray(0, 2000).equals(data.subarray(8000)));
      assert.equal(await ctx.read(fd, buf, 10_000), 0);
      assert.equal(await ctx.read(fd, buf, 1e9), 0);
      const v = [Buffer.alloc(1500), Buffer.alloc(1500)];
      assert.equal(await ctx.readv(fd, v, 8000), 2000);
      assert.ok(Buffer.concat(v).subarray(0, 2000).equals(data.subarray(8000)));
      assert.equal(await ctx.read(fd, Buffer.alloc(0), 0), 0);
    });

    it('fsync and fdatasync resolve; fsync of a bad fd rejects', async () => {
      const path = tmpPath('sync');
      const fd = open(path, 'w+');
      await ctx.write(fd, Buffer.from('durable'), 0);
      assert.equal(await ctx.fsync(fd), undefined);
      assert.equal(await ctx.fsync(fd, { datasync: true }), undefined);
      assert.equal(await ctx.fsync(fd, { datasync: false }), undefined);
      const bad = fs.openSync(path, 'r');
      fs.closeSync(bad);
      await assert.rejects(ctx.fsync(bad), { code: 'EBADF', syscall: 'fsync' });
      await assert.rejects(ctx.fsync(bad, { datasync: true }), { code: 'EBADF', syscall: 'fdatasync' });
    });

    it('kernel errors reject with code, negative errno, syscall and message', async () => {
      const { path } = randomFile(4096);
      const ro = open(path, 'r');
      const wo = open(path, 'r+');
      const closed = fs.openSync(path, 'r');
      fs.closeSync(closed);
      await assert.rejects(ctx.read(closed, Buffer.alloc(8), 0), {
        code: 'EBADF',
        errno: -9,
        syscall: 'read',
        message: 'EBADF: bad file descriptor, read',
      });
      await assert.rejects(ctx.write(ro, Buffer.alloc(8), 0), { code: 'EBADF', syscall: 'write' });
      await assert.rejects(ctx.writev(ro, [Buffer.alloc(8)], 0), { code: 'EBADF', syscall: 'writev' });
      const dir = open(root, 'r');
      await assert.rejects(ctx.read(dir, Buffer.alloc(8), 0), (e: KaioError) => ['EISDIR', 'EINVAL'].includes(e.code!) && e.errno! < 0);
      // One bad op among good ones fails alone.
      const results = await Promise.allSettled([
        ctx.read(wo, Buffer.alloc(8), 0),
        ctx.read(closed, Buffer.alloc(8), 0),
        ctx.read(wo, Buffer.alloc(8), 8),
      ]);
      assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
    });

    it('rejects bad arguments with Node codes before the kernel sees them', async () => {
      const { path } = randomFile(16);
      const fd = open(path, 'r');
      const buf = Buffer.alloc(8);
      // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
      await assert.rejects(ctx.read('3', buf, 0), { code: 'ERR_INVALID_ARG_TYPE' });
      await assert.rejects(ctx.read(-1, buf, 0), { code: 'ERR_OUT_OF_RANGE' });
      // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
      await assert.rejects(ctx.read(fd, 'nope', 0), { code: 'ERR_INVALID_ARG_TYPE' });
      await assert.rejects(ctx.read(fd, buf, -2), { code: 'ERR_OUT_OF_RANGE' });
      await assert.rejects(ctx.read(fd, buf, 1.5), { code: 'ERR_OUT_OF_RANGE' });
      // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
      await assert.rejects(ctx.read(fd, buf, '0'), { code: 'ERR_INVALID_ARG_TYPE' });
      // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
      await assert.rejects(ctx.read(fd, buf, 0, { flag: 1 }), { code: 'ERR_INVALID_ARG_VALUE', message: /did you mean "flags"/ });
      await assert.rejects(ctx.read(fd, buf, 0, { flags: -1 }), { code: 'ERR_OUT_OF_RANGE' });
      await assert.rejects(ctx.readv(fd, [], 0), { code: 'ERR_OUT_OF_RANGE' });
      // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
      await assert.rejects(ctx.readv(fd, buf, 0), { code: 'ERR_INVALID_ARG_TYPE' });
      // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
      await assert.rejects(ctx.writev(fd, [buf, 'x'], 0), { code: 'ERR_INVALID_ARG_TYPE', message: /buffers\[1\]/ });
      // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
      await assert.rejects(ctx.fsync(fd, { datasync: 1 }), { code: 'ERR_INVALID_ARG_TYPE' });
      // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
      await assert.rejects(ctx.fsync(fd, null), { code: 'ERR_INVALID_ARG_TYPE' });
      // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
      await assert.rejects(ctx.read(fd, buf, 0, { signal: {} }), { code: 'ERR_INVALID_ARG_TYPE' });
      assert.equal(ctx.stats.submitted, 0, 'nothing reached the kernel');
    });

    it('an already-aborted signal rejects with AbortError without submitting', async () => {
      const { path } = randomFile(16);
      const fd = open(path, 'r');
      const ac = new AbortController();
      ac.abort();
      await assert.rejects(ctx.read(fd, Buffer.alloc(8), 0, { signal: ac.signal }), { name: 'AbortError' });
      assert.equal(ctx.stats.submitted, 0);
    });

    it('aborting an op still waiting for room rejects it with AbortError; the others complete', async () => {
      const { path, data } = randomFile(64 * 1024);
      const fd = open(path, 'r');
      const ac = new AbortController();
      const bufs = Array.from({ length: 64 }, () => Buffer.alloc(1024));
      const reads = bufs.map((b, i) => ctx.read(fd, b, i * 1024, i === 63 ? { signal: ac.signal } : undefined));
      assert.ok(ctx.stats.queued > 0, 'ops beyond the 8 entries wait in the queue');
      ac.abort(new Error('changed my mind'));
      const settled = await Promise.allSettled(reads);
      assert.equal(settled[63].status, 'rejected');
      assert.equal(settled[63].reason.name, 'AbortError');
      assert.equal(settled[63].reason.cause.message, 'changed my mind');
      assert.ok(bufs[63].equals(Buffer.alloc(1024)), 'the aborted read wrote nothing into its buffer');
      for (let i = 0; i < 63; i++) {
        assert.equal((settled[i] as PromiseFulfilledResult<number>).value, 1024);
        assert.ok(bufs[i].equals(data.subarray(i * 1024, (i + 1) * 1024)));
      }
      assert.equal(ctx.stats.inFlight, 0);
    });

    it('position -1 reads at the file position where the backend can, else ERR_KAIO_UNSUPPORTED', async () => {
      const { path, data } = randomFile(100);
      const fd = open(path, 'r');
      fs.readSync(fd, Buffer.alloc(10), 0, 10, null); // file position 10
      const buf = Buffer.alloc(5);
      if (backend === 'aio') {
        await assert.rejects(ctx.read(fd, buf), { code: 'ERR_KAIO_UNSUPPORTED', message: /Linux AIO/ });
        await assert.rejects(ctx.write(fd, buf, -1), { code: 'ERR_KAIO_UNSUPPORTED' });
      } else {
        assert.equal(await ctx.read(fd, buf), 5);
        assert.ok(buf.equals(data.subarray(10, 15)));
        assert.equal(await ctx.read(fd, buf, -1), 5);
        assert.ok(buf.equals(data.subarray(15, 20)));
      }
    });

    // Ring has registered files: this is for the other backends.
    if (backend !== 'io_uring') {
      it('a FixedFile is refused where the backend has no registered files', async function () {
        if (!probe().ioUring.available) this.skip(); // no ring, so no FixedFile can exist
        const { path } = randomFile(16);
        const ring = new Ring({ entries: 2 });
        try {
          const [file] = ring.registerFiles([open(path, 'r')]);
          assert.ok(file instanceof FixedFile);
          // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
          await assert.rejects(ctx.read(file, Buffer.alloc(1), 0), { code: 'ERR_KAIO_UNSUPPORTED', message: /FixedFile/ });
        } finally {
          await ring.close();
        }
      });
    }

    it('RWF flags reach the kernel: an unknown flag is refused', async () => {
      const { path } = randomFile(4096);
      const fd = open(path, 'r');
      // Bit 30 is no RWF_* flag: preadv2, io_uring and AIO all refuse it.
      await assert.rejects(ctx.read(fd, Buffer.alloc(8), 0, { flags: 1 << 30 }), (e: KaioError) =>
        ['EOPNOTSUPP', 'EINVAL', 'ENOTSUP'].includes(e.code!),
      );
      const RWF_DSYNC = 2;
      const w = open(path, 'r+');
      assert.equal(await ctx.write(w, Buffer.from('dsync'), 0, { flags: RWF_DSYNC }), 5);
      assert.equal(fs.readFileSync(path).subarray(0, 5).toString(), 'dsync');
    });

    it('back-pressure: many more ops than the context holds all complete, none lost', async () => {
      const size = 2000 * 64;
      const { path, data } = randomFile(size);
      const fd = open(path, 'r');
      const bufs = Array.from({ length: 2000 }, () => Buffer.alloc(64));
      const reads = bufs.map((b, i) => ctx.read(fd, b, i * 64));
      assert.ok(ctx.stats.queued > 0, 'ops beyond the depth wait in the queue');
      const n = await Promise.all(reads);
      assert.ok(n.every((x) => x === 64));
      bufs.forEach((b, i) => assert.ok(b.equals(data.subarray(i * 64, i * 64 + 64)), `op ${i}`));
      const s = ctx.stats;
      assert.equal(s.inFlight, 0);
      assert.equal(s.queued, 0);
      assert.ok(s.completed >= 2000);
    });

    it('close() waits for ops in flight and queued, is idempotent, then rejects new ops', async () => {
      const { path, data } = randomFile(256 * 1024);
      const fd = open(path, 'r');
      const bufs = Array.from({ length: 64 }, () => Buffer.alloc(4096));
      const reads = bufs.map((b, i) => ctx.read(fd, b, i * 4096));
      const c1 = ctx.close();
      const c2 = ctx.close();
      assert.equal(c1, c2);
      assert.ok(ctx.closed);
      await assert.rejects(ctx.read(fd, Buffer.alloc(1), 0), { code: 'ERR_KAIO_CLOSED', message: /closed/ });
      const n = await Promise.all(reads);
      assert.ok(n.every((x) => x === 4096));
      bufs.forEach((b, i) => assert.ok(b.equals(data.subarray(i * 4096, (i + 1) * 4096))));
      await c1;
      await assert.rejects(ctx.fsync(fd), { code: 'ERR_KAIO_CLOSED' });
    });

    it('await using closes it', async () => {
      const c = createContext({ backend, entries: 2 });
      await c[Symbol.asyncDispose]();
      assert.ok(c.closed);
    });
  });
}

describe('40 conformance: the classes', () => {
  it('AioContext, ThreadpoolContext and Ring are the backends createContext makes', async function () {
    const p = probe();
    const made: [IoContext, Backend][] = [];
    if (p.aio.available) made.push([new AioContext({ entries: 2 }), 'aio']);
    made.push([new ThreadpoolContext({ entries: 2 }), 'threadpool']);
    if (p.ioUring.available) made.push([new Ring({ entries: 2 }), 'io_uring']);
    for (const [c, name] of made) {
      assert.equal(c.backend, name);
      await c.close();
    }
  });
});
