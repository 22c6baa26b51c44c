// Registered files: FixedFile handles work wherever an fd does; a handle of
// another ring or an unregistered one is a clear error.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Ring, FixedFile } from 'kaio';
import { randomFile, tmpPath } from './helpers';

describe('34 registered files', () => {
  let ring: Ring;
  beforeEach(() => {
    ring = new Ring({ entries: 16 });
  });
  afterEach(() => ring.close());

  it('registers fds and runs every op on the FixedFile handles', async () => {
    const a = randomFile(16384, 'a');
    const b = randomFile(8192, 'b');
    const fda = fs.openSync(a.path, 'r+');
    const fdb = fs.openSync(b.path, 'r');
    const files = ring.registerFiles([fda, fdb]);
    assert.equal(files.length, 2);
    assert.ok(files[0] instanceof FixedFile);
    assert.deepEqual(files.map((f) => [f.index, f.fd]), [[0, fda], [1, fdb]]);

    const buf = Buffer.alloc(4096);
    assert.equal(await ring.read(files[1], buf, 4096), 4096);
    assert.ok(buf.equals(b.data.subarray(4096)));
    assert.equal(await ring.write(files[0], Buffer.from('fixed file'), 100), 10);
    assert.equal(await ring.readv(files[0], [Buffer.alloc(5), Buffer.alloc(5)], 100), 10);
    assert.equal(await ring.writev(files[0], [Buffer.from('ab'), Buffer.from('cd')], 0), 4);
    await ring.fsync(files[0]);
    await ring.fsync(files[0], { datasync: true });
    await ring.fallocate(files[0], 0, 32768);
    const st = fs.readFileSync(a.path);
    assert.equal(st.length, 32768);
    assert.equal(st.toString('latin1', 0, 4), 'abcd');
    assert.equal(st.toString('latin1', 100, 110), 'fixed file');
    fs.closeSync(fda);
    fs.closeSync(fdb);
  });

  it('keeps working after the fd is closed: the table holds its own reference', async () => {
    const { path, data } = randomFile(4096);
    const fd = fs.openSync(path, 'r');
    const [file] = ring.registerFiles([fd]);
    fs.closeSync(fd);
    const buf = Buffer.alloc(4096);
    assert.equal(await ring.read(file, buf, 0), 4096);
    assert.ok(buf.equals(data));
  });

  it('combines registered files with registered buffers (READ_FIXED on a fixed file)', async () => {
    const { path, data } = randomFile(65536);
    const fd = fs.openSync(path, 'r');
    const [file] = ring.registerFiles([fd]);
    const pool = ring.registerBuffers({ count: 2, size: 32768 });
    const fixed0 = ring.stats.fixedOps;
    await Promise.all(pool.buffers.map((b, i) => ring.read(file, b, i * 32768)));
    assert.ok(Buffer.concat(pool.buffers).equals(data));
    assert.equal(ring.stats.fixedOps - fixed0, 2);
    await pool.release();
    fs.closeSync(fd);
  });

  it('makes a sparse table with options.size and fills it with updateFiles()', async () => {
    const { path, data } = randomFile(4096);
    const fd = fs.openSync(path, 'r');
    const files = ring.registerFiles([], { size: 8 });
    assert.equal(files.length, 8);
    assert.ok(files.every((f) => f.fd === -1));
    // An empty slot is the kernel's EBADF.
    await assert.rejects(ring.read(files[3], Buffer.alloc(1), 0), { code: 'EBADF', syscall: 'read' });
    const [f3] = ring.updateFiles(3, [fd]);
    assert.equal(f3.index, 3);
    assert.equal(f3.fd, fd);
    const buf = Buffer.alloc(4096);
    assert.equal(await ring.read(f3, buf, 0), 4096);
    assert.ok(buf.equals(data));
    // The old handle of the slot is no longer valid.
    await assert.rejects(ring.read(files[3], buf, 0), { code: 'ERR_KAIO_FIXED_FILE', message: /unregistered/ });
    // Emptying the slot again.
    const [empty] = ring.updateFiles(3, [-1]);
    assert.equal(empty.fd, -1);
    await assert.rejects(ring.read(empty, buf, 0), { code: 'EBADF' });
    await assert.rejects(ring.read(f3, buf, 0), { code: 'ERR_KAIO_FIXED_FILE' });
    fs.closeSync(fd);
  });

  it('updateFiles() with a bad fd says how far it got and why', () => {
    const { path } = randomFile(16);
    const fd = fs.openSync(path, 'r');
    ring.registerFiles([-1, -1, -1]);
    const closed = fs.openSync(path, 'r');
    fs.closeSync(closed);
    assert.throws(() => ring.updateFiles(0, [fd, closed]), {
      code: 'EBADF',
      syscall: 'io_uring_register',
      message: /1 of 2 slots were updated; slot 1/,
    });
    fs.closeSync(fd);
  });

  it('refuses FixedFiles of another ring, unregistered ones, and a closed ring\'s', async () => {
    const other = new Ring({ entries: 4 });
    const { path } = randomFile(4096);
    const fd = fs.openSync(path, 'r');
    const [mine] = ring.registerFiles([fd]);
    const [theirs] = other.registerFiles([fd]);
    const buf = Buffer.alloc(16);
    await assert.rejects(ring.read(theirs, buf, 0), { code: 'ERR_KAIO_FIXED_FILE', message: /another ring/ });
    await assert.rejects(other.read(mine, buf, 0), { code: 'ERR_KAIO_FIXED_FILE', message: /another ring/ });
    assert.equal(await other.read(theirs, buf, 0), 16);
    ring.unregisterFiles();
    await assert.rejects(ring.read(mine, buf, 0), { code: 'ERR_KAIO_FIXED_FILE', message: /FixedFile 0 was unregistered/ });
    ring.unregisterFiles(); // nothing registered: no-op
    // A new table after unregistering.
    const [again] = ring.registerFiles([fd]);
    assert.equal(await ring.read(again, buf, 0), 16);
    await other.close();
    await assert.rejects(other.read(theirs, buf, 0), { code: /ERR_KAIO_(CLOSED|FIXED_FILE)/ });
    fs.closeSync(fd);
  });

  it('refuses bad arguments and a second table', () => {
    const fd = fs.openSync(tmpPath('args'), 'w');
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => ring.registerFiles(fd), { code: 'ERR_INVALID_ARG_TYPE' });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => ring.registerFiles(['3']), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.throws(() => ring.registerFiles([1.5]), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => ring.registerFiles([-2]), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => ring.registerFiles([]), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => ring.registerFiles([fd], { size: 0 }), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => ring.registerFiles([fd, fd], { size: 1 }), { code: 'ERR_OUT_OF_RANGE' });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => ring.registerFiles([fd], { sise: 4 }), { code: 'ERR_INVALID_ARG_VALUE' });
    assert.throws(() => ring.updateFiles(0, [fd]), { code: 'ERR_KAIO_FIXED_FILE', message: /no registered file table/ });
    ring.registerFiles([fd], { size: 2 });
    assert.throws(() => ring.registerFiles([fd]), { code: 'ERR_KAIO_FIXED_FILE', message: /already has/ });
    assert.throws(() => ring.updateFiles(2, [fd]), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => ring.updateFiles(1, [fd, fd]), { code: 'ERR_OUT_OF_RANGE', message: /table has 2 slots/ });
    assert.throws(() => ring.updateFiles(0, []), { code: 'ERR_OUT_OF_RANGE' });
    // A nonexistent fd is the kernel's EBADF, thrown synchronously.
    const r2 = new Ring({ entries: 2 });
    assert.throws(() => r2.registerFiles([0x7ffffff0]), { code: 'EBADF', syscall: 'io_uring_register' });
    r2.close();
    fs.closeSync(fd);
  });

  it('closing the ring retires its FixedFiles', async () => {
    const fd = fs.openSync(tmpPath('close'), 'w');
    const [file] = ring.registerFiles([fd]);
    await ring.close();
    assert.throws(() => ring.registerFiles([fd]), { code: 'ERR_KAIO_CLOSED' });
    await assert.rejects(ring.fsync(file), { code: /ERR_KAIO_(CLOSED|FIXED_FILE)/ });
    fs.closeSync(fd);
  });
});
