// Module readFile's hinted path on io_uring (lib/file/read-file.ts,
// ringReadFileHinted): openat and statx of one C string of the path in one
// submission (Ring#_openStatx, statx as raw bytes that resolve -errno), statx
// out memory reused between calls, the read and the close in the next
// submission. Every result is compared with node:fs's.
import assert from 'node:assert';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as kaio from 'kaio';
import { skip, type KaioError } from './helpers';

const KiB = 1024;
const S_IFMT = 0o170000;

function pattern(seed: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  for (let i = 0; i < len; i++) b[i] = (seed * 29 + i * 13 + (i >> 10)) & 0xff;
  return b;
}

/** The size and mode in struct statx's bytes (stx_size at 40, stx_mode at 28). */
function statxFields(b: Uint8Array): { size: bigint; mode: number } {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return { size: v.getBigUint64(40, true), mode: v.getUint16(28, true) };
}

interface Internal {
  _openStatx(path: string | Buffer, mask: number, out: Uint8Array): [Promise<number>, Promise<Uint8Array | number>];
}

describe('24 module readFile, the hinted path: openat and statx from one path string, statx out memory reused', function () {
  this.timeout(120000);
  let ring: kaio.Ring;
  let dir: string;
  const shape = (e: KaioError | NodeJS.ErrnoException | undefined) => e && [e.name, e.code, e.errno, e.syscall, e.path];
  before(function () {
    try {
      ring = new kaio.Ring({ entries: 256 });
    } catch (e) {
      skip(this, `io_uring is not available here: ${(e as Error).message}`);
    }
    if (!ring.supports('OPENAT') || !ring.supports('STATX')) skip(this, 'this kernel has no IORING_OP_OPENAT/STATX (5.6)');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-24-hinted-'));
  });
  after(async () => {
    if (ring) await ring.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('Ring#_openStatx: the fd of the path and its statx bytes; a missing path rejects as openat while statx resolves -ENOENT; bad out memory rejects', async function () {
    const file = path.join(dir, 'one');
    fs.writeFileSync(file, pattern(1, 5000));
    const r = ring as unknown as Internal;
    for (const p of [file, Buffer.from(file)]) {
      const [opened, statted] = r._openStatx(p, 0x1 | 0x200, new Uint8Array(256));
      const fd = await opened;
      const st = await statted;
      assert.ok(st instanceof Uint8Array);
      const { size, mode } = statxFields(st);
      assert.strictEqual(size, 5000n);
      assert.strictEqual(mode & S_IFMT, 0o100000);
      assert.strictEqual(fs.fstatSync(fd).ino, fs.statSync(file).ino);
      await ring.closeFd(fd);
    }
    const missing = path.join(dir, 'missing');
    const [opened, statted] = r._openStatx(missing, 0x1 | 0x200, new Uint8Array(256));
    const err = await opened.then(() => undefined, (e: KaioError) => e);
    const theirs = await fsp.open(missing).catch((e: NodeJS.ErrnoException) => e);
    assert.deepStrictEqual(shape(err), shape(theirs as NodeJS.ErrnoException));
    assert.strictEqual(await statted, -os.constants.errno.ENOENT);
    const [badOpen, badStat] = r._openStatx(file, 0x1 | 0x200, new Uint8Array(100));
    await assert.rejects(badOpen, { code: 'ERR_OUT_OF_RANGE' });
    assert.strictEqual(typeof (await badStat), 'number');
    // A NUL in the path: refused before the kernel, as node:fs refuses it.
    const [nulOpen] = r._openStatx(`${file}\0x`, 0x1 | 0x200, new Uint8Array(256));
    await assert.rejects(nulOpen, { code: 'ERR_INVALID_ARG_VALUE' });
  });

  it('256 readFiles in flight over files of 0 B .. 512 KiB + 1, string and Buffer paths: each the bytes of node:fs (statx memory of one call is the next one\'s)', async function () {
    const sizes = [0, 1, 255, 256, 4 * KiB - 1, 4 * KiB, 4 * KiB + 1, 16 * KiB, 64 * KiB, 512 * KiB, 512 * KiB + 1];
    const files = sizes.map((size, i) => {
      const p = path.join(dir, `z${i}`);
      fs.writeFileSync(p, pattern(i + 7, size));
      return p;
    });
    const want = files.map((p) => fs.readFileSync(p));
    for (let round = 0; round < 4; round++) {
      const got = await Promise.all(
        Array.from({ length: 256 }, (_, i) => {
          const k = (i * 7 + round) % files.length;
          return kaio.readFile(i % 2 ? Buffer.from(files[k]) : files[k], { context: ring }).then((b) => [k, b] as const);
        }),
      );
      for (const [k, b] of got) {
        assert.ok(Buffer.isBuffer(b), `${sizes[k]} bytes: a Buffer`);
        assert.ok(b.equals(want[k]), `round ${round}: ${sizes[k]} bytes`);
      }
    }
  });

  it('ENOENT, ENOTDIR, EISDIR and /dev/null among 128 in flight: node:fs\'s errors and bytes, no unhandled rejection', async function () {
    const file = path.join(dir, 'ok4k');
    const data = pattern(3, 4 * KiB);
    fs.writeFileSync(file, data);
    const missing = path.join(dir, 'nothing-here');
    const notDir = path.join(file, 'x');
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => {
      unhandled.push(e);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      const paths = [dir, missing, notDir, file, '/dev/null'];
      const mine = await Promise.all(Array.from({ length: 128 }, (_, i) => kaio.readFile(paths[i % paths.length], { context: ring }).then((b) => b, (e: KaioError) => e)));
      const node = await Promise.all(paths.map((p) => fsp.readFile(p).catch((e: NodeJS.ErrnoException) => e)));
      mine.forEach((r, i) => {
        const want = node[i % paths.length];
        if (Buffer.isBuffer(want)) assert.ok(Buffer.isBuffer(r) && r.equals(want), `read ${i} (${paths[i % paths.length]})`);
        else assert.deepStrictEqual(shape(r as KaioError), shape(want), `read ${i} (${paths[i % paths.length]})`);
      });
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    assert.deepStrictEqual(unhandled, []);
  });

  it('a file rewritten at sizes 1 B .. 12 KiB while 64 readFiles of it are in flight: every result is one whole version; none fails', async function () {
    const file = path.join(dir, 'moving');
    const versions = [1, 100, 4 * KiB - 1, 4 * KiB, 4 * KiB + 1, 12 * KiB, 7].map((n, i) => pattern(40 + i, n));
    const known = new Set(versions.map((v) => v.toString('hex')));
    fs.writeFileSync(file, versions[0]);
    let stop = false;
    const writer = (async () => {
      let i = 0;
      while (!stop) {
        // Through a rename (a whole version at a time) and in place (grows and shrinks under the readers).
        const v = versions[i++ % versions.length];
        if (i % 2) {
          const tmp = `${file}.tmp`;
          await fsp.writeFile(tmp, v);
          await fsp.rename(tmp, file);
        } else {
          await fsp.writeFile(file, v);
        }
      }
    })();
    let whole = 0;
    try {
      for (let round = 0; round < 20; round++) {
        const got = await Promise.all(Array.from({ length: 64 }, () => kaio.readFile(file, { context: ring })));
        for (const b of got) {
          // An in-place rewrite (O_TRUNC, then the write) may be read between the two: empty or a
          // prefix of the new version, as node:fs's readFile may read it; never bytes of two versions.
          const hex = b.toString('hex');
          if (known.has(hex)) whole++;
          else assert.ok(versions.some((v) => v.subarray(0, b.length).equals(b)), `${b.length} bytes that no version starts with`);
        }
      }
    } finally {
      stop = true;
      await writer;
    }
    assert.ok(whole > 0, 'no whole version read');
  });

  it('a ring closed after a readFile: the next readFile through it does not use it (ERR_KAIO_CLOSED as before), and a new ring reads', async function () {
    const file = path.join(dir, 'closing');
    fs.writeFileSync(file, pattern(9, 4 * KiB));
    const r2 = new kaio.Ring({ entries: 16 });
    assert.ok((await kaio.readFile(file, { context: r2 })).equals(fs.readFileSync(file)));
    await r2.close();
    await assert.rejects(kaio.readFile(file, { context: r2 }), (e: KaioError) => e.code === 'ERR_KAIO_CLOSED');
    const r3 = new kaio.Ring({ entries: 16 });
    try {
      assert.ok((await kaio.readFile(file, { context: r3 })).equals(fs.readFileSync(file)));
    } finally {
      await r3.close();
    }
  });
});
