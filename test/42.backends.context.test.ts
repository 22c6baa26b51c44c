import assert from 'node:assert/strict';
import { createContext, probe, AioContext, ThreadpoolContext, Ring } from 'kaio';

async function withEnv<T>(value: string | undefined, fn: () => T | Promise<T>): Promise<T> {
  const old = process.env.KAIO_BACKEND;
  if (value === undefined) delete process.env.KAIO_BACKEND;
  else process.env.KAIO_BACKEND = value;
  try {
    return await fn();
  } finally {
    if (old === undefined) delete process.env.KAIO_BACKEND;
    else process.env.KAIO_BACKEND = old;
  }
}

describe('42 createContext and probe()', () => {
  it('auto picks what probe() says it would, for the reason probe() gives', async () => {
    await withEnv(undefined, async () => {
      const p = probe();
      assert.ok(['io_uring', 'aio', 'threadpool'].includes(p.backend.backend));
      assert.equal(typeof p.backend.reason, 'string');
      const ctx = createContext();
      assert.equal(ctx.backend, p.backend.backend);
      if (p.ioUring.available) {
        assert.deepEqual(p.backend, { backend: 'io_uring', reason: 'io_uring available' });
        assert.ok(ctx instanceof Ring);
      }
      await ctx.close();
      const again = createContext({ backend: 'auto', entries: 4 });
      assert.equal(again.backend, p.backend.backend);
      await again.close();
    });
  });

  it('probe() reports Linux AIO and its limits', () => {
    const { aio } = probe();
    assert.equal(typeof aio.available, 'boolean');
    if (aio.available) assert.equal(aio.error, undefined);
    else assert.equal(aio.error?.syscall, 'io_setup');
    assert.equal(typeof aio.maxNr, 'number');
    assert.equal(typeof aio.nr, 'number');
    assert.ok(aio.maxNr! > 0);
  });

  it('a named backend gives that class', async function () {
    const tp = createContext({ backend: 'threadpool', entries: 3 });
    assert.ok(tp instanceof ThreadpoolContext);
    await tp.close();
    if (!probe().aio.available) this.skip(); // io_setup refused here
    const aio = createContext({ backend: 'aio', entries: 3 });
    assert.ok(aio instanceof AioContext);
    assert.equal(aio.params.entries, 3);
    await aio.close();
  });

  it('KAIO_BACKEND forces the backend of auto, but not of a named one', async () => {
    await withEnv('threadpool', async () => {
      const ctx = createContext();
      assert.equal(ctx.backend, 'threadpool');
      assert.deepEqual(probe().backend, { backend: 'threadpool', reason: 'forced by KAIO_BACKEND' });
      await ctx.close();
      const named = createContext({ backend: 'threadpool' });
      assert.equal(named.backend, 'threadpool');
      await named.close();
    });
    await withEnv('auto', async () => {
      const ctx = createContext();
      assert.equal(ctx.backend, probe().backend.backend);
      await ctx.close();
    });
  });

  it('a bad KAIO_BACKEND is an error that names it', async () => {
    await withEnv('uring', () => {
      assert.throws(() => createContext(), { code: 'ERR_INVALID_ARG_VALUE', message: /KAIO_BACKEND.*'io_uring'/ });
      assert.throws(() => probe(), { code: 'ERR_INVALID_ARG_VALUE' });
    });
  });

  it('rejects bad options', () => {
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => createContext({ backend: 'libaio' }), { code: 'ERR_INVALID_ARG_VALUE', message: /'auto', 'io_uring', 'aio', 'threadpool'/ });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => createContext({ backend: 1 }), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => createContext({ entries: 0 }), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => createContext({ entries: 1.5 }), { code: 'ERR_OUT_OF_RANGE' });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => createContext({ Backend: 'aio' }), { code: 'ERR_INVALID_ARG_VALUE', message: /did you mean "backend"/ });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => createContext('aio'), { code: 'ERR_INVALID_ARG_TYPE' });
  });
});
