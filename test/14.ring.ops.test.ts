import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Ring } from 'kaio';
import { pkgRoot, tmpPath, randomFile, root, skip, threads, waitFor, type KaioError } from './helpers';

describe('14 Ring: file ops and setup modes', () => {
  let ring: Ring;
  before(() => {
    ring = new Ring({ entries: 32 });
  });
  after(() => ring.close());

  it('fsync and fdatasync succeed on a written file', async () => {
    const p = tmpPath();
    const fd = fs.openSync(p, 'w+');
    await ring.write(fd, Buffer.from('durable'), 0);
    assert.equal(await ring.fsync(fd), undefined);
    assert.equal(await ring.fsync(fd, { datasync: true }), undefined);
    fs.closeSync(fd);
  });

  it('fallocate grows the file; KEEP_SIZE mode does not', async function () {
    if (!ring.supports('FALLOCATE')) skip(this, 'kernel lacks IORING_OP_FALLOCATE');
    const p = tmpPath();
    const fd = fs.openSync(p, 'w+');
    await ring.fallocate(fd, 0, 1 << 20);
    assert.equal(fs.fstatSync(fd).size, 1 << 20);
    await ring.fallocate(fd, 1 << 20, 1 << 20, { mode: 0x01 /* FALLOC_FL_KEEP_SIZE */ });
    assert.equal(fs.fstatSync(fd).size, 1 << 20);
    await ring.fallocate(fd, 0n, 3n << 20n);
    assert.equal(fs.fstatSync(fd).size, 3 << 20);
    fs.closeSync(fd);
  });

  it('openat, read through the new fd, closeFd', async function () {
    if (!ring.supports('OPENAT') || !ring.supports('CLOSE')) skip(this, 'kernel lacks OPENAT/CLOSE');
    const { path: p, data } = randomFile(100);
    const fd = await ring.openat(p, 'r');
    assert.ok(Number.isInteger(fd) && fd > 2);
    const b = Buffer.alloc(100);
    assert.equal(await ring.read(fd, b, 0), 100);
    assert.ok(b.equals(data));
    await ring.closeFd(fd);
    assert.throws(() => fs.fstatSync(fd), { code: 'EBADF' });
    await assert.rejects(ring.closeFd(fd), { code: 'EBADF', syscall: 'close' });
  });

  it('openat creates with flags and mode, relative to a dirfd, close-on-exec', async () => {
    const dfd = fs.openSync(root, 'r');
    const name = `created-${process.pid}`;
    const fd = await ring.openat(name, 'wx', 0o640, { dirfd: dfd });
    const st = fs.fstatSync(fd);
    assert.equal(st.mode & 0o777, 0o640 & ~process.umask());
    const info = fs.readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8');
    assert.ok(parseInt(/^flags:\s+(\d+)/m.exec(info)![1], 8) & 0o2000000, 'O_CLOEXEC');
    await ring.closeFd(fd);
    await assert.rejects(ring.openat(name, 'wx', 0o640, { dirfd: dfd }), { code: 'EEXIST' });
    const viaUrl = await ring.openat(new URL(`file://${root}/${name}`), fs.constants.O_RDONLY);
    await ring.closeFd(viaUrl);
    fs.closeSync(dfd);
  });

  it('statx agrees with fs.statSync', async function () {
    if (!ring.supports('STATX')) skip(this, 'kernel lacks IORING_OP_STATX');
    const { path: p } = randomFile(12345);
    const st = await ring.statx(p);
    const ref = fs.statSync(p, { bigint: true });
    assert.equal(st.size, 12345n);
    assert.equal(st.ino, ref.ino);
    assert.equal(BigInt(st.mode), ref.mode);
    assert.equal(BigInt(st.nlink), ref.nlink);
    assert.equal(BigInt(st.dev), ref.dev);
    assert.equal(Math.floor(st.mtimeMs), Number(ref.mtimeMs));
    assert.ok(st.isFile());
    assert.ok(!st.isDirectory());
    const dir = await ring.statx(root);
    assert.ok(dir.isDirectory());
  });

  it("statx's dev and rdev are glibc's makedev(), as Node reports them, for majors of 4096 and more too", async function () {
    if (!ring.supports('STATX')) skip(this, 'kernel lacks IORING_OP_STATX');
    const st = await ring.statx('/dev/null');
    assert.equal(BigInt(st.rdev), fs.statSync('/dev/null', { bigint: true }).rdev);
    // The encoding itself, past 32 bits (no such device here to stat).
    const { makedev } = require(path.join(__dirname, '..', 'dist', 'lib', 'ring', 'statx.js')) as { makedev: (a: number, b: number) => bigint };
    assert.equal(makedev(259, 3), (259n << 8n) | 3n);
    assert.equal(makedev(0x12345, 0x6789a), (0x12000n << 32n) | (0x345n << 8n) | (0x67800n << 12n) | 0x9an);
  });

  it('unlinkat, mkdirat, renameat, symlinkat, linkat: relative to dirfds, with their flags, Node\'s errors', async function () {
    for (const op of ['UNLINKAT', 'MKDIRAT', 'RENAMEAT', 'SYMLINKAT', 'LINKAT'])
      if (!ring.supports(op)) skip(this, `kernel lacks IORING_OP_${op}`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-ring-pathops-'));
    const dfd = fs.openSync(dir, 'r');
    try {
      await ring.mkdirat('sub', 0o750, { dirfd: dfd });
      assert.equal(fs.statSync(path.join(dir, 'sub')).mode & 0o7777, 0o750 & ~process.umask());
      const sfd = fs.openSync(path.join(dir, 'sub'), 'r');
      fs.writeFileSync(path.join(dir, 'a'), 'A');
      fs.writeFileSync(path.join(dir, 'b'), 'B');
      // RENAME_NOREPLACE refuses an existing target; RENAME_EXCHANGE swaps the two.
      const e1 = (await ring.renameat('a', 'b', { oldDirfd: dfd, newDirfd: dfd, flags: 1 }).catch((e: unknown) => e)) as KaioError & { dest?: string };
      assert.deepEqual([e1.code, e1.syscall, e1.path, e1.dest, e1.message], ['EEXIST', 'rename', 'a', 'b', "EEXIST: file already exists, rename 'a' -> 'b'"]);
      await ring.renameat('a', 'b', { oldDirfd: dfd, newDirfd: dfd, flags: 2 });
      assert.deepEqual([fs.readFileSync(path.join(dir, 'a'), 'utf8'), fs.readFileSync(path.join(dir, 'b'), 'utf8')], ['B', 'A']);
      // Across two dirfds: the old one in fd, the new one in len.
      await ring.renameat('a', 'moved', { oldDirfd: dfd, newDirfd: sfd });
      assert.equal(fs.readFileSync(path.join(dir, 'sub', 'moved'), 'utf8'), 'B');
      await ring.symlinkat('moved', 'l', { dirfd: sfd });
      assert.equal(fs.readlinkSync(path.join(dir, 'sub', 'l')), 'moved');
      // linkat without flags links the symlink itself; AT_SYMLINK_FOLLOW (0x400) its target.
      await ring.linkat('l', 'hl', { oldDirfd: sfd, newDirfd: dfd });
      assert.ok(fs.lstatSync(path.join(dir, 'hl')).isSymbolicLink());
      await ring.linkat('l', 'hf', { oldDirfd: sfd, newDirfd: dfd, flags: 0x400 });
      assert.equal(fs.statSync(path.join(dir, 'hf')).ino, fs.statSync(path.join(dir, 'sub', 'moved')).ino);
      const e2 = (await ring.unlinkat('sub', { dirfd: dfd }).catch((e: unknown) => e)) as KaioError & { dest?: string };
      assert.deepEqual([e2.code, e2.syscall, e2.path], ['EISDIR', 'unlink', 'sub']);
      const e3 = (await ring.unlinkat('sub', { dirfd: dfd, flags: 0x200 }).catch((e: unknown) => e)) as KaioError & { dest?: string };
      assert.deepEqual([e3.code, e3.syscall, e3.path], ['ENOTEMPTY', 'rmdir', 'sub']);
      for (const f of ['moved', 'l']) await ring.unlinkat(f, { dirfd: sfd });
      fs.closeSync(sfd);
      await ring.unlinkat(path.join(dir, 'sub'), { flags: 0x200 });
      assert.deepEqual(fs.readdirSync(dir).sort(), ['b', 'hf', 'hl']);
      // Bad arguments fail before the kernel, with Node's codes.
      await assert.rejects(ring.renameat(1 as never, 'x'), { code: 'ERR_INVALID_ARG_TYPE' });
      await assert.rejects(ring.linkat('x', 'a\0b'), { code: 'ERR_INVALID_ARG_VALUE' });
      await assert.rejects(ring.mkdirat('x', -1), { code: 'ERR_OUT_OF_RANGE' });
      await assert.rejects(ring.unlinkat('x', { dirfd: -101 }), { code: 'ERR_OUT_OF_RANGE' });
      await assert.rejects(ring.symlinkat('x', 'y', { bogus: 1 } as never), { code: 'ERR_INVALID_ARG_VALUE' });
    } finally {
      fs.closeSync(dfd);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('splice: file -> pipe -> file at offsets, the bytes moved; pipe offsets are -1; EINVAL between two files', async function () {
    if (!ring.supports('SPLICE')) skip(this, 'kernel lacks IORING_OP_SPLICE');
    const { binding } = require(path.join(pkgRoot, 'dist', 'lib', 'binding')) as { binding: { pipe(size: number): [number, number, number] } };
    const { path: p, data } = randomFile(300_000);
    const src = fs.openSync(p, 'r');
    const q = tmpPath();
    const dst = fs.openSync(q, 'w+');
    const [r, w, cap] = binding.pipe(1 << 20);
    try {
      assert.ok(cap >= 4096, `pipe capacity ${cap}`);
      let moved = 0;
      for (let at = 1000; at < data.length;) {
        const n = await ring.splice(src, at, w, -1, Math.min(cap, data.length - at));
        assert.ok(n > 0);
        for (let done = 0; done < n;) done += await ring.splice(r, -1, dst, 10 + moved + done, n - done);
        at += n;
        moved += n;
      }
      assert.strictEqual(moved, data.length - 1000);
      const got = fs.readFileSync(q);
      assert.ok(got.subarray(10).equals(data.subarray(1000)), 'the bytes from offset 1000, at offset 10');
      // At the end of the file: 0.
      assert.strictEqual(await ring.splice(src, data.length, w, -1, 100), 0);
      // Neither fd a pipe: the kernel's EINVAL, as splice(2)'s.
      await assert.rejects(ring.splice(src, 0, dst, 0, 10), { code: 'EINVAL', syscall: 'splice' });
      // Arguments fail before the kernel.
      await assert.rejects(ring.splice(src, -2, w, -1, 1), { code: 'ERR_OUT_OF_RANGE' });
      await assert.rejects(ring.splice('3' as unknown as number, 0, w, -1, 1), { code: 'ERR_INVALID_ARG_TYPE' });
      await assert.rejects(ring.splice(src, 0, w, -1, 2 ** 31), { code: 'ERR_OUT_OF_RANGE' });
      await assert.rejects(ring.splice(src, 0, w, -1, 1, { flags: 16 }), { code: 'ERR_OUT_OF_RANGE' });
    } finally {
      for (const fd of [src, dst, r, w]) fs.closeSync(fd);
    }
  });

  it('path ops take a Buffer path\'s bytes as they are (a name that is not UTF-8), and refuse NUL bytes as Node does (ERR_INVALID_ARG_VALUE)', async function () {
    for (const op of ['OPENAT', 'STATX', 'CLOSE', 'UNLINKAT', 'MKDIRAT', 'RENAMEAT', 'LINKAT', 'SYMLINKAT']) if (!ring.supports(op)) skip(this, `kernel lacks IORING_OP_${op}`);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-bytes14-'));
    try {
      const at = (...hex: string[]): Buffer => Buffer.concat([Buffer.from(`${dir}/`), ...hex.map((h) => Buffer.from(h, 'hex'))]);
      // Two names whose bytes decode to the same text ('\ufffdA'): only the bytes tell them apart.
      fs.writeFileSync(at('ff41'), 'ff');
      fs.writeFileSync(at('fe41'), 'fe-longer');
      const fd = await ring.openat(at('ff41'), 'r');
      assert.strictEqual(fs.readFileSync(`/proc/self/fd/${fd}`, 'latin1'), 'ff');
      await ring.closeFd(fd);
      assert.strictEqual((await ring.statx(at('fe41'))).size, 9n);
      const made = await ring.openat(at('c0'), 'wx', 0o600);
      await ring.closeFd(made);
      await ring.mkdirat(at('d0ff'));
      await ring.renameat(at('c0'), at('d0ff', '2f', '80'));
      await ring.linkat(at('ff41'), at('d0ff', '2f', '81'));
      await ring.symlinkat(Buffer.from('fe41', 'hex'), at('d0ff', '2f', '82'));
      await ring.unlinkat(at('fe41'));
      const names = (p: string | Buffer): string[] => fs.readdirSync(p, 'buffer').map((b) => b.toString('hex')).sort();
      assert.deepStrictEqual(names(dir), ['d0ff', 'ff41']);
      assert.deepStrictEqual(names(at('d0ff')), ['80', '81', '82']);
      assert.strictEqual(fs.readlinkSync(at('d0ff', '2f', '82'), 'buffer').toString('hex'), 'fe41');
      // An error names the path as Node shows a Buffer path: its bytes decoded.
      await assert.rejects(ring.openat(at('fe41')), { code: 'ENOENT', syscall: 'open', path: at('fe41').toString() });
      await assert.rejects(ring.statx(at('fe41')), { code: 'ENOENT', path: at('fe41').toString() });
      for (const bad of ['a\0b', Buffer.from('a\0b'), new Uint8Array([0x61, 0, 0x62]), new URL('file:///a%00b')]) {
        const nul = { code: 'ERR_INVALID_ARG_VALUE', name: 'TypeError', message: /^The argument 'path' must be a string, Uint8Array, or URL without null bytes\. Received / };
        await assert.rejects(ring.openat(bad as never), nul);
        await assert.rejects(ring.statx(bad as never), nul);
        await assert.rejects(ring.unlinkat(bad as never), nul);
        await assert.rejects(ring.mkdirat(bad as never), nul);
      }
      // As Node shows them: the string inspected, a Buffer's bytes.
      await assert.rejects(ring.openat('a\0b'), { message: "The argument 'path' must be a string, Uint8Array, or URL without null bytes. Received 'a\\x00b'" });
      await assert.rejects(ring.openat(Buffer.from('a\0b')), { message: "The argument 'path' must be a string, Uint8Array, or URL without null bytes. Received <Buffer 61 00 62>" });
      await assert.rejects(ring.linkat('x', 'a\0b'), { code: 'ERR_INVALID_ARG_VALUE', message: /^The argument 'newPath' must be/ });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('nop resolves to undefined', async () => {
    assert.equal(await ring.nop(), undefined);
  });

  it('SQPOLL: a kernel thread consumes the SQ', async function () {
    let r;
    try {
      r = new Ring({ entries: 8, sqpoll: true, sqThreadIdle: 10 });
    } catch (e) {
      skip(this, `SQPOLL not allowed here: ${(e as KaioError).code}`);
    }
    assert.ok(r.params.setupFlags.includes('SQPOLL'));
    const { path: p, data } = randomFile(4096);
    const fd = fs.openSync(p, 'r');
    const b = Buffer.alloc(4096);
    // The SQ thread of this ring: a thread of this process since 5.12
    // (iou-sqp-<pid>); before that a kernel thread (io_uring-sq) elsewhere.
    // (It names itself once it runs: until then it has no such name.)
    const sqThreads = (): { state: string; wchan: string }[] => {
      const ours = threads().filter((t) => t.comm.startsWith('iou-sqp-'));
      if (ours.length) return ours;
      return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).flatMap((pid) => {
        try {
          const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
          return stat.includes('(io_uring-sq)') ? [{ state: stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3), wchan: '' }] : [];
        } catch {
          return [];
        }
      });
    };
    // The wakeup path, three times: once the thread has gone idle (asleep
    // after sqThreadIdle ms without work, IORING_SQ_NEED_WAKEUP set), the
    // next op must wake it with io_uring_enter; while it spins, none is needed.
    for (let i = 0; i < 3; i++) {
      await waitFor(() => {
        const t = sqThreads();
        return t.length > 0 && t.every((x) => x.state === 'S' && (x.wchan === '' || x.wchan === 'io_sq_thread'));
      }, `the SQ thread to go idle (read ${i})`);
      const enters = r.stats.enterCalls;
      b.fill(0);
      assert.equal(await r.read(fd, b, 0), 4096);
      assert.ok(b.equals(data));
      assert.ok(r.stats.enterCalls > enters, `read ${i}: no io_uring_enter woke the idle SQ thread`);
    }
    await Promise.all(Array.from({ length: 200 }, () => r.nop()));
    fs.closeSync(fd);
    await r.close();
  });

  it('IOPOLL: completions are polled; buffered files are refused by the kernel', async () => {
    const r = new Ring({ entries: 8, iopoll: true });
    assert.ok(r.params.setupFlags.includes('IOPOLL'));
    const { path: p } = randomFile(4096);
    const fd = fs.openSync(p, 'r');
    await assert.rejects(r.read(fd, Buffer.alloc(16), 0), (e: KaioError) => ['EOPNOTSUPP', 'ENOTSUP'].includes(e.code!));
    fs.closeSync(fd);
    await r.close();
  });
});
