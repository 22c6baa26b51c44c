// O_DIRECT helpers: alignedBuffer() and dioAlignment().
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ring, alignedBuffer, dioAlignment } from 'kaio';
import { randomFile, directSupported, root } from './helpers';

describe('35 O_DIRECT helpers', () => {
  it('alignedBuffer() gives zeroed, unregistered memory that O_DIRECT accepts', async function () {
    const buf = alignedBuffer(8192);
    assert.ok(Buffer.isBuffer(buf));
    assert.equal(buf.length, 8192);
    assert.ok(buf.every((x) => x === 0));
    if (!directSupported()) this.skip();
    const { path, data } = randomFile(16384, 'dio');
    const fd = fs.openSync(path, fs.constants.O_RDWR | fs.constants.O_DIRECT);
    const ring = new Ring({ entries: 4 });
    assert.equal(await ring.read(fd, buf, 4096), 8192);
    assert.ok(buf.equals(data.subarray(4096, 12288)));
    assert.equal(ring.stats.fixedOps, 0);
    // Larger alignments than a page, and an ordinary Buffer for contrast.
    const big = alignedBuffer(4096, 1 << 21);
    assert.equal(await ring.read(fd, big, 0), 4096);
    assert.ok(big.equals(data.subarray(0, 4096)));
    const odd = Buffer.alloc(4097).subarray(1);
    await assert.rejects(ring.read(fd, odd, 0), { code: 'EINVAL' });
    fs.closeSync(fd);
    await ring.close();
  });

  it('alignedBuffer() checks its arguments', () => {
    assert.throws(() => alignedBuffer(0), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => alignedBuffer(1.5), { code: 'ERR_OUT_OF_RANGE' });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => alignedBuffer('4096'), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => alignedBuffer(4096, 3000), { code: 'ERR_INVALID_ARG_VALUE', message: /power of two/ });
    assert.throws(() => alignedBuffer(4096, 0), { code: 'ERR_OUT_OF_RANGE' });
    assert.equal(alignedBuffer(10, 512).length, 10);
  });

  it('dioAlignment() reads STATX_DIOALIGN, by path and by fd', function () {
    const { path } = randomFile(4096, 'align');
    const byPath = dioAlignment(path);
    const fd = fs.openSync(path, 'r');
    const byFd = dioAlignment(fd);
    fs.closeSync(fd);
    assert.deepEqual(byFd, byPath);
    assert.ok(['statx', 'blockdev', 'default'].includes(byPath.source));
    if (byPath.source === 'statx' && byPath.offset > 0) {
      // The numbers work: an O_DIRECT read at that alignment succeeds.
      const dfd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_DIRECT);
      const n = fs.readSync(dfd, alignedBuffer(byPath.offset, Math.max(byPath.memory, 1)), 0, byPath.offset, byPath.offset);
      assert.equal(n, byPath.offset === 4096 ? 0 : byPath.offset);
      fs.closeSync(dfd);
    }
    for (const v of [byPath.memory, byPath.offset]) assert.ok(v === 0 || (v & (v - 1)) === 0, `${v} is a power of two`);
  });

  it('dioAlignment() falls back to the device\'s logical block size for directories', () => {
    // Filesystems report STATX_DIOALIGN for regular files only.
    const r = dioAlignment(root);
    assert.ok(r.memory > 0 && r.offset > 0);
    if (r.source === 'blockdev') assert.ok(r.memory >= 512);
    assert.notEqual(r.source, undefined);
  });

  it('dioAlignment() errors look like Node\'s', () => {
    assert.throws(() => dioAlignment('/nonexistent/kaio'), { code: 'ENOENT', syscall: 'statx', path: '/nonexistent/kaio' });
    assert.throws(() => dioAlignment(0x7ffffff0), { code: 'EBADF', syscall: 'statx' });
    assert.throws(() => dioAlignment(-1), { code: 'ERR_OUT_OF_RANGE' });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => dioAlignment({}), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => dioAlignment('a\0b'), { code: 'ERR_INVALID_ARG_VALUE', message: /^The argument 'fdOrPath' must be a string, Uint8Array, or URL without null bytes/ });
    assert.throws(() => dioAlignment(Buffer.from('a\0b')), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => dioAlignment(new Proxy(Buffer.from('/'), {}) as Buffer), { code: 'ERR_INVALID_ARG_TYPE' });
  });

  it('dioAlignment(Buffer) takes the path\'s bytes as they are (a name that is not UTF-8)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-dio35-'));
    try {
      const name = Buffer.concat([Buffer.from(`${dir}/`), Buffer.from([0xff, 0x41])]);
      fs.writeFileSync(name, 'x');
      const fd = fs.openSync(name, 'r');
      try {
        assert.deepStrictEqual(dioAlignment(name), dioAlignment(fd));
      } finally {
        fs.closeSync(fd);
      }
      assert.throws(() => dioAlignment(Buffer.concat([Buffer.from(`${dir}/`), Buffer.from([0xfe, 0x41])])), { code: 'ENOENT', syscall: 'statx', path: `${dir}/\ufffdA` });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
