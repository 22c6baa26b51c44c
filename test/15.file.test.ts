import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import { open, File, FileHandle, Ring, createContext, readFile } from 'kaio';
import { tmpPath, randomFile } from './helpers';

describe('15 open(): node:fs/promises FileHandle over kaio', () => {
  it('read() has the shapes of fs.promises FileHandle.read', async () => {
    const { path: p, data } = randomFile(40000);
    const fh = await open(p, 'r');
    const ref = await fsp.open(p, 'r');
    assert.ok(fh instanceof FileHandle);
    assert.equal(File, FileHandle); // the deprecated alias
    assert.ok(fh.fd > 2);

    const a = await fh.read(Buffer.alloc(100), 10, 50, 1000);
    const b = await ref.read(Buffer.alloc(100), 10, 50, 1000);
    assert.equal(a.bytesRead, b.bytesRead);
    // Type: T infers as ArrayBufferView here, not Buffer (Buffer also fits the options-object shape).
    assert.ok((a.buffer as Buffer).equals(b.buffer));

    const c = await fh.read({ buffer: Buffer.alloc(64), position: 5 });
    assert.equal(c.bytesRead, 64);
    assert.ok(c.buffer.equals(data.subarray(5, 69)));

    const d = await fh.read(); // default 16 KiB buffer, current position
    assert.equal(d.bytesRead, 16384);
    assert.ok(d.buffer.equals(data.subarray(0, 16384)));
    const e = await fh.read(Buffer.alloc(10), 0, 10, null); // continues at the file position
    assert.ok((e.buffer as Buffer).equals(data.subarray(16384, 16394)));

    await fh.close();
    await ref.close();
  });

  it('write() takes buffers and strings, like FileHandle.write', async () => {
    const p = tmpPath();
    const fh = await open(p, 'w+');
    const w1 = await fh.write(Buffer.from('0123456789'), 2, 5, 0);
    assert.equal(w1.bytesWritten, 5);
    const w2 = await fh.write('héllo', 5, 'utf8');
    assert.equal(w2.bytesWritten, 6);
    assert.equal(w2.buffer, 'héllo');
    assert.equal(fs.readFileSync(p, 'utf8'), '23456héllo');
    await fh.close();
  });

  it('readv/writev, readFile/writeFile, stat, truncate, sync, datasync', async () => {
    const p = tmpPath();
    const fh = await open(p, 'w+', 0o600);
    const parts = [Buffer.from('ab'), Buffer.from('cde')];
    assert.deepEqual((await fh.writev(parts, 0)).bytesWritten, 5);
    const outs = [Buffer.alloc(1), Buffer.alloc(4)];
    assert.equal((await fh.readv(outs, 0)).bytesRead, 5);
    assert.equal(Buffer.concat(outs).toString(), 'abcde');
    // As Node's: writeFile on a handle writes at its position (0 here: the
    // positional writev did not move it), and readFile reads from it.
    await fh.writeFile('x'.repeat(200000));
    assert.equal((await fh.stat()).size, 200000);
    assert.equal((await fh.readFile('utf8')).length, 0);
    assert.equal((await readFile(p, 'utf8')).length, 200000);
    await fh.truncate(3);
    assert.equal(await readFile(p, { encoding: 'utf8' }), 'xxx');
    await fh.sync();
    await fh.datasync();
    assert.equal((await fh.stat({ bigint: true })).size, 3n);
    await fh.close();
  });

  it('works over an explicit context', async () => {
    const ring = new Ring({ entries: 4 });
    const { path: p, data } = randomFile(100);
    const fh = await open(p, 'r', 0o666, { context: ring });
    const { bytesRead, buffer } = await fh.read(Buffer.alloc(100), 0, 100, 0);
    assert.equal(bytesRead, 100);
    assert.ok((buffer as Buffer).equals(data));
    assert.ok(ring.stats.completed >= 1);
    await fh.close();
    await ring.close();
  });

  it('close() is idempotent; ops after close reject with Node\'s "file closed"; await using works', async () => {
    const { path: p } = randomFile(10);
    const fh = await open(p);
    await Promise.all([fh.close(), fh.close()]);
    assert.equal(fh.fd, -1);
    await assert.rejects(fh.read(Buffer.alloc(1)), { code: 'EBADF', syscall: 'read', message: 'file closed' });
    await assert.rejects(fh.write('x'), { code: 'EBADF' });
    const fh2 = await open(p);
    await fh2[Symbol.asyncDispose]();
    assert.equal(fh2.fd, -1);
  });

  it('bad arguments fail with Node codes', async () => {
    const { path: p } = randomFile(10);
    await assert.rejects(open(p, 'bogus'), { code: 'ERR_INVALID_ARG_VALUE' });
    await assert.rejects(open(p, 'r', -1), { code: 'ERR_OUT_OF_RANGE' });
    await assert.rejects(open(`${p}-missing`), { code: 'ENOENT', syscall: 'open' });
    const fh = await open(p, 'r+');
    await assert.rejects(fh.read(Buffer.alloc(4), 5, 1, 0), { code: 'ERR_OUT_OF_RANGE' });
    await assert.rejects(fh.read(Buffer.alloc(4), 0, 5, 0), { code: 'ERR_OUT_OF_RANGE' });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    await assert.rejects(fh.write(42), { code: 'ERR_INVALID_ARG_TYPE' });
    await assert.rejects(fh.write('abc', 0, 'hex'), { code: 'ERR_INVALID_ARG_VALUE' });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    await assert.rejects(fh.readv('x'), { code: 'ERR_INVALID_ARG_TYPE' });
    await fh.close();
  });
});

describe('15 open() over each backend', () => {
  for (const backend of ['io_uring', 'aio', 'threadpool'] as const) {
    it(`${backend}: positional and current-position reads and writes`, async () => {
      const ctx = createContext({ backend });
      const p = tmpPath();
      const fh = await open(p, 'w+', 0o666, { context: ctx });
      await fh.write('abc');
      await fh.write('def');
      await fh.write(Buffer.from('XY'), 0, 2, 1);
      assert.equal(fs.readFileSync(p, 'utf8'), 'aXYdef');
      const { buffer } = await fh.read(Buffer.alloc(3), 0, 3, 3);
      assert.equal(buffer.toString(), 'def');
      assert.equal(await fh.readFile('utf8'), ''); // from the current position, the end
      assert.equal(await fh.readFile('utf8'), '');
      assert.equal((await fh.read(Buffer.alloc(6), 0, 6, 0)).buffer.toString(), 'aXYdef');
      await fh.close();
      await ctx.close();
    });
  }
});
