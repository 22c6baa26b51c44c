// The published declarations (dist/lib/*.d.ts, as `import ... from 'kaio'`
// sees them): overloads, option types and return types. A wrong type fails
// the build (tsc -b in `npm test`), before any test runs. Each runtime check
// beside a type check makes sure the declared type is what a call gives.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { expectTypeOf } from 'expect-type';
import {
  Ring,
  createContext,
  open,
  probe,
  alignedBuffer,
  AioContext,
  ThreadpoolContext,
  BufferPool,
  FixedFile,
  File,
  type IoContext,
  type Backend,
  type ContextOptions,
  type RingOptions,
  type RingStats,
  type RingParams,
  type RwOptions,
  type BufferPoolOptions,
  type ProbeResult,
  type StatxResult,
  type ReadResult,
  type Fd,
} from 'kaio';
import * as kaio from 'kaio';
import { randomFile } from './helpers';

describe('09 public types (checked by tsc; values checked here)', () => {
  it('Ring: read/write/readv/writev resolve to numbers, fsync/nop/close to void', async function () {
    if (!probe().ioUring.available) this.skip(); // io_uring refused here
    const { path } = randomFile(8192);
    const fd = fs.openSync(path, 'r+');
    const ring = new Ring({ entries: 8 });
    try {
      expectTypeOf(ring.read).parameters.toEqualTypeOf<[Fd, ArrayBufferView, (number | bigint)?, RwOptions?]>();
      expectTypeOf(ring.read(fd, Buffer.alloc(4))).toEqualTypeOf<Promise<number>>();
      const n = await ring.read(fd, new Uint8Array(16), 0n, { flags: 0 });
      expectTypeOf(n).toEqualTypeOf<number>();
      assert.equal(n, 16);
      const w = await ring.writev(fd, [Buffer.alloc(2), new DataView(new ArrayBuffer(2))], 0);
      expectTypeOf(w).toBeNumber();
      assert.equal(w, 4);
      expectTypeOf(ring.fsync(fd, { datasync: true })).toEqualTypeOf<Promise<void>>();
      assert.equal(await ring.nop(), undefined);
      expectTypeOf(ring.stats).toEqualTypeOf<RingStats>();
      expectTypeOf(ring.params).toEqualTypeOf<RingParams>();
      expectTypeOf(ring.backend).toEqualTypeOf<'io_uring'>();
      assert.equal(ring.backend, 'io_uring');
      expectTypeOf(ring.statx(path)).resolves.toEqualTypeOf<StatxResult>();
      expectTypeOf(ring.openat(path, 'r')).resolves.toBeNumber();
      // A Ring is an IoContext.
      expectTypeOf(ring).toMatchTypeOf<IoContext>();

      // registerBuffers returns a BufferPool of readonly Buffers.
      const pool = ring.registerBuffers({ count: 2, size: 4096, fallback: true });
      expectTypeOf(pool).toEqualTypeOf<BufferPool>();
      expectTypeOf(pool.buffers).toEqualTypeOf<readonly Buffer[]>();
      assert.ok(pool instanceof BufferPool);
      assert.ok(Buffer.isBuffer(pool.buffers[0]));
      expectTypeOf(pool.pinning).toEqualTypeOf<'io_uring_register' | 'mlock' | 'none'>();
      expectTypeOf(pool.release()).toEqualTypeOf<Promise<void>>();

      // registerFiles returns FixedFiles, accepted wherever a Ring takes an fd.
      const files = ring.registerFiles([fd]);
      expectTypeOf(files).toEqualTypeOf<FixedFile[]>();
      assert.ok(files[0] instanceof FixedFile);
      expectTypeOf(files[0]).toMatchTypeOf<Fd>();
      assert.equal(await ring.read(files[0], Buffer.alloc(8), 0), 8);

      // Batch layer: prep* say whether they queued, submit* count.
      expectTypeOf(ring.prepNop).returns.toBeBoolean();
      expectTypeOf(ring.submit).returns.toBeNumber();
      expectTypeOf(ring.onCompletion).parameter(0).toEqualTypeOf<((tag: number, res: number, flags: number) => void) | null>();
    } finally {
      await ring.close();
      fs.closeSync(fd);
    }
  });

  it('createContext returns an IoContext; the classes narrow backend and stats', async () => {
    expectTypeOf(createContext).returns.toEqualTypeOf<IoContext>();
    expectTypeOf(createContext).parameters.toEqualTypeOf<[ContextOptions?]>();
    expectTypeOf<ContextOptions['backend']>().toEqualTypeOf<Backend | 'auto' | undefined>();
    expectTypeOf<Backend>().toEqualTypeOf<'io_uring' | 'aio' | 'threadpool'>();
    const ctx = createContext({ backend: 'threadpool', entries: 2 });
    expectTypeOf(ctx.backend).toEqualTypeOf<Backend>();
    assert.equal(ctx.backend, 'threadpool');
    expectTypeOf(ctx.registerBuffers).returns.toEqualTypeOf<BufferPool>();
    expectTypeOf(ctx.read).returns.toEqualTypeOf<Promise<number>>();
    // IoContext takes plain fds only (FixedFile is a Ring thing).
    expectTypeOf(ctx.read).parameter(0).toEqualTypeOf<number>();
    await ctx.close();

    expectTypeOf<AioContext['backend']>().toEqualTypeOf<'aio'>();
    expectTypeOf<ThreadpoolContext['backend']>().toEqualTypeOf<'threadpool'>();
    expectTypeOf<AioContext>().toMatchTypeOf<IoContext>();
    expectTypeOf<ThreadpoolContext>().toMatchTypeOf<IoContext>();
    expectTypeOf<AioContext['stats']>().toHaveProperty('geteventsCalls').toBeNumber();
  });

  it('open() gives a File whose read() result carries the buffer type', async () => {
    const { path } = randomFile(64);
    const fh = await open(path, 'r', 0o666, { context: createContext({ backend: 'threadpool' }) });
    expectTypeOf(fh).toEqualTypeOf<File>();
    const r = await fh.read({ buffer: new Uint16Array(8), position: 0 });
    expectTypeOf(r).toEqualTypeOf<ReadResult<Uint16Array<ArrayBuffer>>>();
    assert.ok(r.buffer instanceof Uint16Array);
    const d = await fh.read();
    expectTypeOf(d.buffer).toEqualTypeOf<Buffer>();
    assert.ok(Buffer.isBuffer(d.buffer));
    expectTypeOf(fh.readv([Buffer.alloc(1)])).resolves.toEqualTypeOf<{ bytesRead: number; buffers: Buffer<ArrayBuffer>[] }>();
    await fh.close();
  });

  it('probe, alignedBuffer and the limits', () => {
    expectTypeOf(probe).returns.toEqualTypeOf<ProbeResult>();
    expectTypeOf(probe().ioUring.available).toBeBoolean();
    expectTypeOf(alignedBuffer).returns.toEqualTypeOf<Buffer>();
    expectTypeOf<typeof kaio.MAX_ENTRIES>().toEqualTypeOf<32768>();

    expectTypeOf(kaio.MAX_POOL_BUFFERS).toBeNumber();
    assert.equal(typeof kaio.MAX_POOL_BUFFERS, 'number');
  });

  it('option objects: wrong keys and wrong value types do not compile', () => {
    expectTypeOf<RingOptions>().toHaveProperty('entries').toEqualTypeOf<number | undefined>();
    expectTypeOf<BufferPoolOptions>().toHaveProperty('count').toEqualTypeOf<number>();
    // Never called: each line must fail to compile (tsc fails on an unused @ts-expect-error).
    const mustNotCompile = (ring: Ring, ctx: IoContext) => {
      // @ts-expect-error unknown option key (typo of entries)
      void new Ring({ entires: 8 });
      // @ts-expect-error sqpoll is a boolean
      void new Ring({ sqpoll: 1 });
      // @ts-expect-error unknown backend name
      void createContext({ backend: 'libaio' });
      // @ts-expect-error unknown option key on createContext
      void createContext({ Backend: 'aio' });
      // @ts-expect-error registerBuffers needs count and size
      void ring.registerBuffers({ count: 1 });
      // @ts-expect-error unknown pool option (typo of fallback)
      void ring.registerBuffers({ count: 1, size: 4096, fallbak: true });
      // @ts-expect-error unknown per-op option (typo of flags)
      void ring.read(0, Buffer.alloc(1), 0, { flag: 1 });
      // @ts-expect-error a string is no buffer
      void ctx.write(0, 'text', 0);
      // @ts-expect-error an IoContext takes no FixedFile
      void ctx.read(ring.registerFiles([0])[0], Buffer.alloc(1), 0);
      // @ts-expect-error userspaceReap is an AioContext option only
      void new ThreadpoolContext({ userspaceReap: true });
      // @ts-expect-error pools and fixed files come from a ring, not from new
      void new BufferPool();
      // @ts-expect-error
      void new FixedFile();
      // @ts-expect-error internals are not in the published declarations
      void ring._native;
      // @ts-expect-error internals are not in the published declarations
      void ring.registerBuffers({ count: 1, size: 4096 })._hold;
    };
    assert.equal(typeof mustNotCompile, 'function');
  });
});
