// FileHandle.read() of a caller's buffer at a position tries the page
// cache first with one io_uring read with RWF_NOWAIT straight into the
// caller's memory (no bounce copy); what was not cached is read through
// bounce memory as before, and the caller sees one read with the whole
// count. The bytes and errors are node:fs's in every case: cached, not
// cached, cached in part, the end of the file, a FIFO, O_DIRECT, an SQPOLL
// ring. The memory stays safe: a view detached or shrunk after the call
// fails EFAULT and its memory's new owner is never written (also when the
// handle's fd number was closed behind its back and reused by a file
// opened with O_DIRECT, checked again before each enter), and a direct
// read that leaves the flush's io_uring_enter (here: a cancel fills the SQ
// without entering) goes through bounce memory instead.
import assert from 'node:assert';
import cp from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as kaio from 'kaio';
import { _bounceStats as bounceStats } from '../dist/lib/bounce';
import { _nowaitStats as nowaitStats } from '../dist/lib/file/handle';
import { binding } from '../dist/lib/binding';
import { directSupported, kernelAtLeast, root, skip, tmpPath, type KaioError } from './helpers';

const KiB = 1024;
const MiB = 1024 * KiB;

function pattern(size: number, seed: number): Buffer {
  const b = Buffer.alloc(size);
  let x = seed >>> 0;
  for (let i = 0; i < size; i += 4) {
    x = (x * 1103515245 + 12345) >>> 0;
    b.writeUInt32LE(x, i);
  }
  return b;
}

/** A file of `data` written with O_DIRECT: none of its pages is in the page cache afterwards. */
function uncachedFile(name: string, data: Buffer): string {
  const p = tmpPath(name);
  const fd = fs.openSync(p, fs.constants.O_CREAT | fs.constants.O_TRUNC | fs.constants.O_WRONLY | fs.constants.O_DIRECT);
  try {
    const aligned = kaio.alignedBuffer(data.length);
    aligned.set(data);
    assert.equal(fs.writeSync(fd, aligned, 0, data.length, 0), data.length);
  } finally {
    fs.closeSync(fd);
  }
  return p;
}

/** What node:fs reads: the bytes, or the error's code. */
function nodeRead(p: string, flags: number, len: number, pos: number): Buffer | string {
  const fd = fs.openSync(p, flags);
  try {
    const b = Buffer.alloc(len);
    const n = fs.readSync(fd, b, 0, len, pos);
    return b.subarray(0, n);
  } catch (e) {
    return (e as KaioError).code!;
  } finally {
    fs.closeSync(fd);
  }
}

/** What fh.read() gives the same way. */
async function kaioRead(fh: kaio.FileHandle, len: number, pos: number | null, into = Buffer.alloc(len)): Promise<Buffer | string> {
  try {
    const { bytesRead, buffer } = await fh.read(into, 0, len, pos);
    return Buffer.from(buffer.buffer, buffer.byteOffset, bytesRead);
  } catch (e) {
    return (e as KaioError).code!;
  }
}

/** Ring._directReads (internal: not in the package's types). */
function directReads(r: kaio.Ring): boolean {
  return (r as unknown as { _directReads: boolean })._directReads;
}

function delta(before: ReturnType<typeof nowaitStats>): ReturnType<typeof nowaitStats> {
  const now = nowaitStats();
  return { tries: now.tries - before.tries, whole: now.whole - before.whole, part: now.part - before.part, missed: now.missed - before.missed, refused: now.refused - before.refused };
}

describe('24 FileHandle.read(): page-cache first try with RWF_NOWAIT into the caller\'s memory', function () {
  let ring: kaio.Ring;
  before(function () {
    if (!kernelAtLeast(5, 10)) skip(this, 'the direct first try needs Linux 5.10');
    ring = new kaio.Ring({ entries: 64 });
    if (!directReads(ring)) skip(this, 'KAIO_NOWAIT_READ=0');
  });
  after(async () => {
    await ring?.close();
  });

  it('a cached file: node:fs\'s bytes, read straight into the caller\'s Buffer (no bounce buffer taken)', async () => {
    const data = pattern(256 * KiB, 1);
    const p = tmpPath('nowait-cached');
    fs.writeFileSync(p, data);
    const fh = await kaio.open(p, 'r', 0o666, { context: ring });
    try {
      const bounces = bounceStats().taken;
      const s = nowaitStats();
      for (const [len, pos] of [[4096, 0], [4096, 8192], [100, 5], [64 * KiB, 100 * KiB], [256 * KiB, 0]]) {
        assert.deepStrictEqual(await kaioRead(fh, len, pos), nodeRead(p, fs.constants.O_RDONLY, len, pos), `${len} at ${pos}`);
      }
      // 32 at once, as the peers' QD 32 row: one io_uring_enter for all of them.
      const reads = Array.from({ length: 32 }, (_, i) => kaioRead(fh, 4096, i * 4096));
      const got = await Promise.all(reads);
      got.forEach((b, i) => assert.deepStrictEqual(b, data.subarray(i * 4096, (i + 1) * 4096)));
      assert.equal(bounceStats().taken, bounces, 'no bounce buffer: the kernel copied into the caller\'s memory');
      assert.deepStrictEqual(delta(s), { tries: 37, whole: 37, part: 0, missed: 0, refused: 0 });
      // Not a Uint8Array: a Float64Array and a DataView get the same bytes.
      const f64 = new Float64Array(16);
      const r = await fh.read(f64, 0, 128, 64);
      assert.equal(r.bytesRead, 128);
      assert.deepStrictEqual(Buffer.from(f64.buffer), data.subarray(64, 192));
      const dv = new DataView(new ArrayBuffer(300), 10, 200);
      assert.equal((await fh.read(dv, 0, 200, 1000)).bytesRead, 200);
      assert.deepStrictEqual(Buffer.from(dv.buffer, 10, 200), data.subarray(1000, 1200));
      assert.equal(bounceStats().taken, bounces);
    } finally {
      await fh.close();
    }
  });

  it('a file not in the page cache: EAGAIN inside the kernel, then the usual read: node:fs\'s bytes', async function () {
    if (!directSupported(root)) skip(this, 'no O_DIRECT here to write a file around the page cache');
    const data = pattern(512 * KiB, 2);
    const p = uncachedFile('nowait-cold', data);
    const fh = await kaio.open(p, 'r', 0o666, { context: ring });
    try {
      const s = nowaitStats();
      const bounces = bounceStats().taken;
      const b = await kaioRead(fh, 64 * KiB, 128 * KiB);
      assert.deepStrictEqual(b, data.subarray(128 * KiB, 192 * KiB));
      assert.deepStrictEqual(delta(s), { tries: 1, whole: 0, part: 0, missed: 1, refused: 0 });
      assert.equal(bounceStats().taken, bounces + 1, 'the usual read, through bounce memory');
      // A miss sends the next read straight to the usual path (backoff 1), then tries again.
      assert.deepStrictEqual(await kaioRead(fh, 4096, 0), nodeRead(p, fs.constants.O_RDONLY, 4096, 0));
      assert.equal(delta(s).tries, 1, 'skipped once after a miss');
      assert.deepStrictEqual(await kaioRead(fh, 4096, 0), data.subarray(0, 4096));
      assert.equal(delta(s).tries, 2, 'and tries again after that (now cached)');
      assert.equal(delta(s).whole, 1);
    } finally {
      await fh.close();
    }
  });

  it('a file cached in part: the cached head comes straight in, the rest through bounce memory; one read with the whole count', async function () {
    if (!directSupported(root)) skip(this, 'no O_DIRECT here to write a file around the page cache');
    const data = pattern(4 * MiB, 3);
    const p = uncachedFile('nowait-part', data);
    const fh = await kaio.open(p, 'r', 0o666, { context: ring });
    try {
      // Another process's drop_caches (the suite's own dropCache, on a
      // shared machine) may take the head away before the read: then the
      // try misses, and the next 4 MiB further on is tried.
      let s = nowaitStats();
      for (let at = 0; at < 4 * MiB; at += MiB) {
        // A buffered read of one page brings it (and a readahead window) into the cache, not 1 MiB.
        nodeRead(p, fs.constants.O_RDONLY, 4096, at);
        s = nowaitStats();
        const b = await kaioRead(fh, MiB, at);
        assert.equal((b as Buffer).length, MiB, 'the whole count, as one read');
        assert.ok((b as Buffer).equals(data.subarray(at, at + MiB)), 'node:fs\'s bytes');
        if (delta(s).part === 1) break;
        await kaioRead(fh, 1, 0); // (the read a miss skips)
      }
      assert.deepStrictEqual(delta(s), { tries: 1, whole: 0, part: 1, missed: 0, refused: 0 });
    } finally {
      await fh.close();
    }
  });

  it('the end of the file: a short count (the rest read once more, 0) and 0 past it, as node:fs', async () => {
    const data = pattern(10000, 4);
    const p = tmpPath('nowait-eof');
    fs.writeFileSync(p, data);
    const fh = await kaio.open(p, 'r', 0o666, { context: ring });
    try {
      for (const [len, pos] of [[4096, 9000], [4096, 10000], [4096, 20000], [10000, 0], [20000, 0]]) {
        assert.deepStrictEqual(await kaioRead(fh, len, pos), nodeRead(p, fs.constants.O_RDONLY, len, pos), `${len} at ${pos}`);
      }
    } finally {
      await fh.close();
    }
  });

  it('a FIFO is never tried: its reads and ESPIPE are node:fs\'s', async () => {
    const dir = fs.mkdtempSync(path.join(root, 'nowait-fifo-'));
    const f = path.join(dir, 'f');
    cp.execFileSync('mkfifo', [f]);
    const fh = await kaio.open(f, 'r+', 0o666, { context: ring });
    const w = fs.openSync(f, 'w');
    try {
      const s = nowaitStats();
      fs.writeSync(w, 'through the pipe');
      assert.equal(await kaioRead(fh, 16, 0), 'ESPIPE');
      assert.deepStrictEqual(await kaioRead(fh, 16, null), Buffer.from('through the pipe'));
      assert.equal(delta(s).tries, 0);
    } finally {
      fs.closeSync(w);
      await fh.close();
    }
  });

  it('an fd with O_DIRECT is never tried (its read would finish after io_uring_enter): node:fs\'s bytes or EINVAL, through bounce memory', async function () {
    if (!directSupported(root)) skip(this, 'no O_DIRECT here');
    const data = pattern(64 * KiB, 5);
    const p = uncachedFile('nowait-odirect', data);
    const flags = fs.constants.O_RDONLY | fs.constants.O_DIRECT;
    const fh = await kaio.open(p, flags, 0o666, { context: ring });
    const direct = await kaio.open(p, 'r', 0o666, { context: ring, direct: true });
    try {
      const s = nowaitStats();
      const bounces = bounceStats().taken;
      // Caller memory at a page boundary (O_DIRECT takes it) and one byte
      // past it (EINVAL), as node:fs reads into the same memory.
      const ab = new ArrayBuffer(3 * 4096);
      const at = (4096 - binding.pageOffset(ab)) % 4096;
      const nodeFd = fs.openSync(p, flags);
      try {
        assert.equal(fs.readSync(nodeFd, Buffer.from(ab, at, 4096), 0, 4096, 8192), 4096);
        assert.throws(() => fs.readSync(nodeFd, Buffer.from(ab, at + 1, 4096), 0, 4096, 8192), { code: 'EINVAL' });
      } finally {
        fs.closeSync(nodeFd);
      }
      assert.deepStrictEqual(await kaioRead(fh, 4096, 8192, Buffer.from(ab, at, 4096)), data.subarray(8192, 12288));
      assert.deepStrictEqual(await kaioRead(fh, 4096, 8192, Buffer.from(ab, at + 1, 4096)), 'EINVAL');
      assert.deepStrictEqual(await kaioRead(direct, 100, 5), data.subarray(5, 105));
      assert.equal(delta(s).tries, 0);
      assert.ok(bounceStats().taken > bounces, 'through bounce memory, as before');
    } finally {
      await fh.close();
      await direct.close();
    }
  });

  it('the handle\'s fd closed behind its back and its number taken by a file opened with O_DIRECT: never straight into caller memory (a view detached after the flush: EFAULT, its new owner never written), then node:fs\'s bytes or EINVAL', async function () {
    if (!directSupported(root)) skip(this, 'no O_DIRECT here');
    const p = tmpPath('nowait-reuse-a');
    fs.writeFileSync(p, pattern(16 * KiB, 11));
    const data = pattern(64 * KiB, 12);
    const q = uncachedFile('nowait-reuse-odirect', data);
    const fh = await kaio.open(p, 'r', 0o666, { context: ring });
    let closed = false;
    try {
      // The handle's first read: its fd is looked at, a regular file without O_DIRECT.
      assert.deepStrictEqual(await kaioRead(fh, 4096, 0), pattern(16 * KiB, 11).subarray(0, 4096));
      // Its fd closed behind its back; files opened with O_DIRECT until one takes the number.
      const n = fh.fd;
      fs.closeSync(n);
      closed = true;
      const others: number[] = [];
      for (;;) {
        const fd = fs.openSync(q, fs.constants.O_RDONLY | fs.constants.O_DIRECT);
        if (fd === n) break;
        others.push(fd);
      }
      others.forEach((fd) => fs.closeSync(fd));
      closed = false;
      const s = nowaitStats();
      // Memory O_DIRECT takes (a page boundary), detached in the tick right
      // after the flush's io_uring_enter. An O_DIRECT read straight into it
      // would be in the device then (-EIOCBQUEUED) and land in the new owner.
      const ab = new ArrayBuffer(3 * 4096);
      const at = (4096 - binding.pageOffset(ab)) % 4096;
      const read = fh.read(new Uint8Array(ab, at, 4096), 0, 4096, 8192);
      let moved: ArrayBuffer | undefined;
      process.nextTick(() => {
        moved = structuredClone(ab, { transfer: [ab] });
      });
      await assert.rejects(read, { code: 'EFAULT', errno: -14, syscall: 'read' });
      assert.ok(moved !== undefined);
      assert.equal(Buffer.from(moved).toString('hex'), '00'.repeat(3 * 4096), 'the kernel wrote into memory that had moved to a new owner');
      // The handle reads on through bounce memory, as node:fs reads the
      // O_DIRECT file: its bytes into a page boundary, EINVAL one byte past it.
      const bounces = bounceStats().taken;
      const ab2 = new ArrayBuffer(3 * 4096);
      const at2 = (4096 - binding.pageOffset(ab2)) % 4096;
      assert.deepStrictEqual(await kaioRead(fh, 4096, 4096, Buffer.from(ab2, at2, 4096)), data.subarray(4096, 8192));
      assert.deepStrictEqual(await kaioRead(fh, 4096, 4096, Buffer.from(ab2, at2 + 1, 4096)), 'EINVAL');
      assert.ok(bounceStats().taken >= bounces + 1, 'through bounce memory');
      // One refused try, then the fd looked at again: no more tries on it.
      assert.deepStrictEqual(delta(s), { tries: 1, whole: 0, part: 0, missed: 0, refused: 1 });
    } finally {
      if (!closed) await fh.close();
    }
  });

  it('an SQPOLL ring is never tried (its kernel thread issues reads outside io_uring_enter): node:fs\'s bytes through bounce memory', async function () {
    let sq: kaio.Ring;
    try {
      sq = new kaio.Ring({ entries: 8, sqpoll: true });
    } catch (e) {
      skip(this, `no SQPOLL ring here: ${(e as Error).message}`);
    }
    const data = pattern(64 * KiB, 6);
    const p = tmpPath('nowait-sqpoll');
    fs.writeFileSync(p, data);
    try {
      assert.equal(directReads(sq), false);
      const fh = await kaio.open(p, 'r', 0o666, { context: sq });
      try {
        const s = nowaitStats();
        const bounces = bounceStats().taken;
        assert.deepStrictEqual(await kaioRead(fh, 4096, 4096), data.subarray(4096, 8192));
        assert.equal(delta(s).tries, 0);
        assert.equal(bounceStats().taken, bounces + 1);
      } finally {
        await fh.close();
      }
    } finally {
      await sq.close();
    }
  });

  it('a view detached (transferred) or shrunk right after the call: EFAULT, and the memory\'s new owner is never written', async () => {
    const data = pattern(64 * KiB, 7);
    const p = tmpPath('nowait-detach');
    fs.writeFileSync(p, data);
    const fh = await kaio.open(p, 'r', 0o666, { context: ring });
    try {
      const s = nowaitStats();
      const buf = Buffer.alloc(4096);
      const read = fh.read(buf, 0, 4096, 0);
      const moved = structuredClone(buf.buffer, { transfer: [buf.buffer] });
      await assert.rejects(read, { code: 'EFAULT', errno: -14, syscall: 'read' });
      assert.equal(Buffer.from(moved).toString('hex'), '00'.repeat(4096), 'the kernel wrote into memory that had moved to a new owner');
      // A resizable ArrayBuffer shrunk under a fixed-length view.
      const rab = new (ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void })(8192, { maxByteLength: 8192 });
      const view = new Uint8Array(rab, 0, 4096);
      const shrunk = fh.read(view, 0, 4096, 0);
      rab.resize(100);
      await assert.rejects(shrunk, { code: 'EFAULT', syscall: 'read' });
      assert.equal(Buffer.from(rab).toString('hex'), '00'.repeat(100));
      assert.deepStrictEqual(delta(s), { tries: 2, whole: 0, part: 0, missed: 0, refused: 2 });
      // The handle reads on.
      assert.deepStrictEqual(await kaioRead(fh, 4096, 0), data.subarray(0, 4096));
    } finally {
      await fh.close();
    }
  });

  it('not cached, and detached while the rest is read through bounce memory: EFAULT, the new owner never written', async function () {
    if (!directSupported(root)) skip(this, 'no O_DIRECT here to write a file around the page cache');
    const data = pattern(1 * MiB, 9);
    const p = uncachedFile('nowait-detach-cold', data);
    const fh = await kaio.open(p, 'r', 0o666, { context: ring });
    try {
      const s = nowaitStats();
      const buf = Buffer.alloc(256 * KiB);
      const read = fh.read(buf, 0, buf.length, 512 * KiB);
      // The first try ends inside the flush's enter (EAGAIN); the read from
      // the disk is in flight on bounce memory when the view goes.
      await new Promise((resolve) => setImmediate(resolve));
      const moved = structuredClone(buf.buffer, { transfer: [buf.buffer] });
      await assert.rejects(read, { code: 'EFAULT', syscall: 'read' });
      assert.ok(Buffer.from(moved).every((b) => b === 0), 'the kernel wrote into memory that had moved to a new owner');
      assert.equal(delta(s).missed, 1);
    } finally {
      await fh.close();
    }
  });

  it('a direct read put in the SQ by a cancel (no io_uring_enter with it) loses the caller\'s address: read through bounce memory, node:fs\'s bytes', async () => {
    const data = pattern(64 * KiB, 8);
    const p = tmpPath('nowait-cancel');
    fs.writeFileSync(p, data);
    const dir = fs.mkdtempSync(path.join(root, 'nowait-cancel-'));
    const f = path.join(dir, 'f');
    cp.execFileSync('mkfifo', [f]);
    const w = fs.openSync(f, fs.constants.O_RDWR);
    const r = fs.openSync(f, fs.constants.O_RDONLY);
    const fh = await kaio.open(p, 'r', 0o666, { context: ring });
    try {
      const s = nowaitStats();
      const bounces = bounceStats().taken;
      const ac = new AbortController();
      // In one tick: a read that waits on the FIFO, the direct read, and the
      // abort, whose cancel fills the SQ (both reads) before any enter.
      const waiting = ring.read(r, Buffer.alloc(16), -1, { signal: ac.signal });
      const read = kaioRead(fh, 4096, 4096);
      ac.abort();
      await assert.rejects(waiting, { name: 'AbortError' });
      assert.deepStrictEqual(await read, data.subarray(4096, 8192));
      assert.deepStrictEqual(delta(s), { tries: 1, whole: 0, part: 0, missed: 0, refused: 1 });
      assert.ok(bounceStats().taken >= bounces + 1, 'read again through bounce memory');
    } finally {
      fs.closeSync(r);
      fs.closeSync(w);
      await fh.close();
    }
  });

  it('a direct read that would join a link chain (the SQE before it asks for a successor) loses the caller\'s address: read through bounce memory, node:fs\'s bytes', async () => {
    const data = pattern(64 * KiB, 10);
    const p = tmpPath('nowait-link');
    fs.writeFileSync(p, data);
    const fd = fs.openSync(p, 'r');
    const fh = await kaio.open(p, 'r', 0o666, { context: ring });
    try {
      const s = nowaitStats();
      // readFile's io-wq read, hard-linked to the op started next: here the direct read,
      // which the kernel would issue only when the linked read completes, after the enter.
      const linked = (ring as unknown as { _readFileRead(fd: number, b: Buffer, at: number, async: boolean): Promise<number> })._readFileRead(fd, Buffer.alloc(64 * KiB), 0, true);
      const read = kaioRead(fh, 4096, 8192);
      assert.equal(await linked, 64 * KiB);
      assert.deepStrictEqual(await read, data.subarray(8192, 12288));
      assert.deepStrictEqual(delta(s), { tries: 1, whole: 0, part: 0, missed: 0, refused: 1 });
    } finally {
      fs.closeSync(fd);
      await fh.close();
    }
  });

  it('KAIO_NOWAIT_READ=0 turns it off (every read of caller memory through bounce memory, as before)', () => {
    const out = cp.execFileSync(process.execPath, ['-e', `
      const kaio = require(${JSON.stringify(path.join(__dirname, '..'))});
      const r = new kaio.Ring({ entries: 8 });
      process.stdout.write(String(r._directReads));
      r.close();
    `], { env: { ...process.env, KAIO_NOWAIT_READ: '0' } }).toString();
    assert.equal(out, 'false');
  });
});
