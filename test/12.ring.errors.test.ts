import assert from 'node:assert/strict';
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';
import { Ring, createContext } from 'kaio';
import { tmpPath, root, waitFor, type KaioError } from './helpers';

function kernelError(code: string, syscall: string) {
  return (err: KaioError) => {
    assert.equal(err.code, code);
    assert.equal(typeof err.errno, 'number');
    assert.ok(err.errno! < 0, 'errno is negative like Node');
    assert.equal(err.syscall, syscall);
    assert.match(err.message, new RegExp(`^${code}: [a-z].*, ${syscall}`));
    return true;
  };
}

describe('12 Ring: failure paths', () => {
  let ring: Ring;
  let file: string;
  let fd: number;
  before(() => {
    ring = new Ring({ entries: 16 });
    file = tmpPath();
    fs.writeFileSync(file, 'some bytes');
    fd = fs.openSync(file, 'r+');
  });
  after(async () => {
    fs.closeSync(fd);
    await ring.close();
  });

  describe('kernel errors reject that op only, shaped like Node SystemError', () => {
    it('EBADF on a closed fd', async () => {
      const dead = fs.openSync(file, 'r');
      fs.closeSync(dead);
      await assert.rejects(ring.read(dead, Buffer.alloc(4), 0), kernelError('EBADF', 'read'));
      await assert.rejects(ring.write(dead, Buffer.alloc(4), 0), kernelError('EBADF', 'write'));
      await assert.rejects(ring.fsync(dead), kernelError('EBADF', 'fsync'));
      await assert.rejects(ring.fsync(dead, { datasync: true }), kernelError('EBADF', 'fdatasync'));
    });

    it('EBADF reading a write-only fd, and writing a read-only one', async () => {
      const wfd = fs.openSync(file, 'a');
      const rfd = fs.openSync(file, 'r');
      await assert.rejects(ring.read(wfd, Buffer.alloc(4), 0), kernelError('EBADF', 'read'));
      await assert.rejects(ring.writev(rfd, [Buffer.alloc(4)], 0), kernelError('EBADF', 'writev'));
      fs.closeSync(wfd);
      fs.closeSync(rfd);
    });

    it('EISDIR reading a directory', async () => {
      const dfd = fs.openSync(root, 'r');
      await assert.rejects(ring.read(dfd, Buffer.alloc(4), 0), kernelError('EISDIR', 'read'));
      fs.closeSync(dfd);
    });

    it('ENOENT from openat and statx carries the path', async () => {
      const missing = `${root}/does-not-exist`;
      await assert.rejects(ring.openat(missing, 'r'), (e: KaioError) => {
        kernelError('ENOENT', 'open')(e);
        assert.equal(e.path, missing);
        assert.match(e.message, /does-not-exist/);
        return true;
      });
      await assert.rejects(ring.statx(missing), kernelError('ENOENT', 'statx'));
    });

    it('a kernel error\'s stack shows the async functions awaiting the op (the caller\'s frames), on the ring and the other backends', async () => {
      const dead = fs.openSync(file, 'r');
      fs.closeSync(dead);
      const missing = `${root}/does-not-exist`;
      async function myOwnRingCaller(op: () => Promise<unknown>): Promise<unknown> {
        return await op();
      }
      const stackOf = (op: () => Promise<unknown>): Promise<string> =>
        myOwnRingCaller(op).then(() => assert.fail('resolved'), (e: Error) => String(e.stack));
      const ops: [string, () => Promise<unknown>][] = [
        ['read', () => ring.read(dead, Buffer.alloc(4), 0)], ['write', () => ring.write(dead, Buffer.alloc(4), 0)], ['fsync', () => ring.fsync(dead)],
        ['openat', () => ring.openat(missing, 'r')], ['statx', () => ring.statx(missing)], ['unlinkat', () => ring.unlinkat(missing)],
      ];
      for (const [name, op] of ops) {
        const stack = await stackOf(op);
        assert.match(stack, /^Error: E[A-Z]+: /, name);
        assert.match(stack, /\n {4}at async myOwnRingCaller \(/, `${name}: ${stack}`);
      }
      for (const backend of ['aio', 'threadpool'] as const) {
        let ctx: import('kaio').IoContext;
        try {
          ctx = createContext({ backend });
        } catch {
          continue; // test 40 says which backends this machine has
        }
        try {
          assert.match(await stackOf(() => ctx.read(dead, Buffer.alloc(4096), 0)), /\n {4}at async myOwnRingCaller \(/, backend);
        } finally {
          await ctx.close();
        }
      }
    });

    it('a failing op does not disturb the ops around it', async () => {
      const dead = 987654;
      const results = await Promise.allSettled([
        ring.read(fd, Buffer.alloc(4), 0),
        ring.read(dead, Buffer.alloc(4), 0),
        ring.nop(),
      ]);
      assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'rejected', 'fulfilled']);
      assert.equal((results[0] as PromiseFulfilledResult<number>).value, 4);
    });
  });

  describe('wrong arguments fail before the kernel, with Node codes', () => {
    const buf = Buffer.alloc(8);
    it('fd', async () => {
      // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
      await assert.rejects(ring.read('3', buf, 0), { code: 'ERR_INVALID_ARG_TYPE', name: 'TypeError' });
      await assert.rejects(ring.read(-1, buf, 0), { code: 'ERR_OUT_OF_RANGE', name: 'RangeError' });
      await assert.rejects(ring.read(1.5, buf, 0), { code: 'ERR_OUT_OF_RANGE' });
      await assert.rejects(ring.read(2 ** 31, buf, 0), { code: 'ERR_OUT_OF_RANGE' });
      // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
      await assert.rejects(ring.fsync(null), { code: 'ERR_INVALID_ARG_TYPE' });
    });

    it('buffer', async () => {
      // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
      await assert.rejects(ring.read(fd, 'abc', 0), { code: 'ERR_INVALID_ARG_TYPE', message: /Buffer, TypedArray, or DataView/ });
      // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
      await assert.rejects(ring.read(fd, new ArrayBuffer(8), 0), { code: 'ERR_INVALID_ARG_TYPE' });
      // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
      await assert.rejects(ring.write(fd, [1, 2, 3], 0), { code: 'ERR_INVALID_ARG_TYPE' });
    });

    it('a detached buffer is refused', async () => {
      const ab = new ArrayBuffer(16);
      const view = new Uint8Array(ab);
      structuredClone(ab, { transfer: [ab] });
      assert.equal(view.byteLength, 0);
      await assert.rejects(ring.read(fd, view, 0), { code: 'ERR_INVALID_ARG_VALUE', message: /detached/ });
      await assert.rejects(ring.writev(fd, [Buffer.alloc(1), view], 0), { code: 'ERR_INVALID_ARG_VALUE' });
    });

    it('a buffer larger than one transfer can be', async () => {
      // A view that claims more than MAX_RW_COUNT without allocating it.
      const fake = { byteLength: 0x80000000, buffer: new ArrayBuffer(0) };
      Object.setPrototypeOf(fake, Uint8Array.prototype);
      // ArrayBuffer.isView refuses objects that merely look like views:
      // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
      await assert.rejects(ring.read(fd, fake, 0), { code: 'ERR_INVALID_ARG_TYPE' });
      await assert.rejects(ring.readv(fd, new Array(1025).fill(buf), 0), { code: 'ERR_OUT_OF_RANGE', message: /1024/ });
      // More than one transfer can move (MAX_RW_COUNT), without allocating it:
      const big = Buffer.alloc(4 << 20);
      await assert.rejects(ring.readv(fd, new Array(1024).fill(big), 0), { code: 'ERR_OUT_OF_RANGE', message: /2147479552/ });
      await assert.rejects(ring.writev(fd, new Array(600).fill(big), 0), { code: 'ERR_OUT_OF_RANGE' });
      await assert.rejects(ring.readv(fd, [], 0), { code: 'ERR_OUT_OF_RANGE' });
      // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
      await assert.rejects(ring.readv(fd, buf, 0), { code: 'ERR_INVALID_ARG_TYPE' });
    });

    it('position', async () => {
      await assert.rejects(ring.read(fd, buf, -2), { code: 'ERR_OUT_OF_RANGE', message: />= -1/ });
      await assert.rejects(ring.read(fd, buf, NaN), { code: 'ERR_OUT_OF_RANGE' });
      await assert.rejects(ring.read(fd, buf, 0.5), { code: 'ERR_OUT_OF_RANGE' });
      await assert.rejects(ring.read(fd, buf, 2 ** 53), { code: 'ERR_OUT_OF_RANGE' });
      await assert.rejects(ring.read(fd, buf, -2n), { code: 'ERR_OUT_OF_RANGE' });
      await assert.rejects(ring.read(fd, buf, 1n << 63n), { code: 'ERR_OUT_OF_RANGE' });
      // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
      await assert.rejects(ring.read(fd, buf, '0'), { code: 'ERR_INVALID_ARG_TYPE' });
    });

    it('options', async () => {
      // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
      await assert.rejects(ring.read(fd, buf, 0, 5), { code: 'ERR_INVALID_ARG_TYPE' });
      // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
      await assert.rejects(ring.read(fd, buf, 0, { flag: 1 }), { code: 'ERR_INVALID_ARG_VALUE', message: /did you mean "flags"/ });
      await assert.rejects(ring.read(fd, buf, 0, { flags: -1 }), { code: 'ERR_OUT_OF_RANGE' });
      // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
      await assert.rejects(ring.read(fd, buf, 0, { signal: 'nope' }), { code: 'ERR_INVALID_ARG_TYPE' });
      // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
      await assert.rejects(ring.fsync(fd, { datasync: 'yes' }), { code: 'ERR_INVALID_ARG_TYPE' });
      await assert.rejects(ring.fallocate(fd, -1, 10), { code: 'ERR_OUT_OF_RANGE' });
      await assert.rejects(ring.fallocate(fd, 0, 0), { code: 'ERR_OUT_OF_RANGE' });
      // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
      await assert.rejects(ring.openat(42), { code: 'ERR_INVALID_ARG_TYPE' });
      await assert.rejects(ring.openat(file, 'rw'), { code: 'ERR_INVALID_ARG_TYPE' });
      await assert.rejects(ring.openat('a\0b'), { code: 'ERR_INVALID_ARG_VALUE' });
    });

    it('argument errors are rejections, never synchronous throws', () => {
      // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
      const p = ring.read('x', buf, 0);
      assert.ok(p instanceof Promise);
      return assert.rejects(p);
    });

    it('the ring is still fine after all of that', async () => {
      assert.equal(await ring.read(fd, buf, 0), 8);
      assert.equal(ring.stats.inFlight, 0);
    });
  });

  describe('abort', () => {
    it('an already-aborted signal rejects at once with AbortError', async () => {
      const ac = new AbortController();
      ac.abort();
      await assert.rejects(ring.nop({ signal: ac.signal }), { name: 'AbortError', code: 'ABORT_ERR' });
    });

    it('aborting a read the kernel is blocked on cancels it (IORING_OP_ASYNC_CANCEL)', async () => {
      const [r, w] = pipe();
      const ac = new AbortController();
      const submitted = ring.stats.submitted;
      const pending = ring.read(r, Buffer.alloc(16), -1, { signal: ac.signal });
      // Abort once the kernel holds the read (armed on the empty pipe), not while it is still in JS.
      await waitFor(() => ring.stats.submitted > submitted && ring.stats.inFlight === 1, 'the read to reach the kernel');
      ac.abort(new Error('stop'));
      await assert.rejects(pending, (e: KaioError) => {
        assert.equal(e.name, 'AbortError');
        assert.equal((e.cause as Error).message, 'stop');
        return true;
      });
      assert.equal(ring.stats.inFlight, 0);
      // The cancelled read took nothing: bytes written now are all still in the pipe.
      fs.writeSync(w, 'abc');
      const got = Buffer.alloc(16);
      assert.equal(fs.readSync(r, got), 3);
      assert.equal(got.toString('latin1', 0, 3), 'abc');
      fs.closeSync(r);
      fs.closeSync(w);
    });

    it('aborting an op still queued in JS rejects it without the kernel', async () => {
      const small = new Ring({ entries: 1, cqEntries: 2 });
      const [r, w] = pipe();
      const blockers = [small.read(r, Buffer.alloc(1), -1), small.read(r, Buffer.alloc(1), -1)];
      const ac = new AbortController();
      const queued = small.nop({ signal: ac.signal });
      await new Promise((res) => setImmediate(res));
      assert.ok(small.stats.queued >= 1);
      ac.abort();
      await assert.rejects(queued, { name: 'AbortError' });
      fs.writeSync(w, 'ab');
      assert.deepEqual(await Promise.all(blockers), [1, 1]);
      fs.closeSync(r);
      fs.closeSync(w);
      await small.close();
    });

    it('an op that completes before abort keeps its result', async () => {
      const ac = new AbortController();
      const b = Buffer.alloc(4);
      const n = await ring.read(fd, b, 0, { signal: ac.signal });
      ac.abort();
      assert.equal(n, 4);
      assert.equal(b.toString('latin1'), 'some', 'the bytes the read delivered');
    });
  });
});

// A pipe as two fds, via a FIFO node (Node has no pipe(2) wrapper).
function pipe() {
  const p = tmpPath('fifo');
  execFileSync('mkfifo', [p]);
  const r = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const w = fs.openSync(p, fs.constants.O_WRONLY);
  // Blocking reads from here on: io_uring arms a poll and waits for data.
  return [r, w];
}
