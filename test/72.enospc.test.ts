// ENOSPC on a small tmpfs (1 MiB, mounted on a private temp dir, unmounted
// after): on every backend, and through the batch API and open(), writes past
// the end of the space fail with code ENOSPC / errno -28 / syscall write(v);
// every write acknowledged before (resolved with n bytes) is intact.
// Skips with the reason when tmpfs cannot be mounted (not root, no CAP_SYS_ADMIN).
import assert from 'node:assert';
import cp from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as kaio from 'kaio';
import { skip, type KaioError } from './helpers';

const CHUNK = 64 * 1024;

/** Writes b (one buffer, or two halves for the vectored calls) at pos; resolves the bytes written. */
type Write = (fd: number, b: Buffer | Buffer[], pos: number) => Promise<number> | number;

/** The one buffer of a write that is not vectored. */
function one(b: Buffer | Buffer[]): Buffer {
  if (Array.isArray(b)) throw new Error('a vectored write where one buffer was expected');
  return b;
}

/** The buffers of a vectored write. */
function many(b: Buffer | Buffer[]): Buffer[] {
  if (!Array.isArray(b)) throw new Error('one buffer where a vectored write was expected');
  return b;
}

function pattern(seed: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i + 4 <= len; i += 4) { x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0; b.writeUInt32LE(x, i); }
  return b;
}

describe('72 ENOSPC on a 1 MiB tmpfs', function () {
  this.timeout(60000);
  let dir: string;
  let mounted = false;
  let why = '';

  before(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-enospc-'));
    const r = cp.spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', dir], { encoding: 'utf8' });
    mounted = r.status === 0;
    why = (r.stderr || (r.error && r.error.message) || `exit ${r.status}`).trim();
  });

  after(function () {
    if (mounted) cp.spawnSync('umount', [dir]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  /** Writes CHUNK-sized pieces through `write(fd, buf, pos)` until one fails; checks the failure and the data. */
  async function fillUntilFull(name: string, write: Write, { vectored = false, file }: { vectored?: boolean; file?: string } = {}) {
    const p = file || path.join(dir, name);
    const fd = file ? -1 : fs.openSync(p, 'w+');
    const acked: [number, Buffer][] = []; // [pos, bytes]
    let failure: (Error & { code?: string; errno?: number; syscall?: string }) | undefined;
    try {
      for (let i = 0, pos = 0; i < 64; i++) {
        const buf = pattern(i + 1, CHUNK);
        let n: number;
        try {
          n = await write(fd, vectored ? [buf.subarray(0, CHUNK / 2), buf.subarray(CHUNK / 2)] : buf, pos);
        } catch (e) {
          failure = e as KaioError;
          break;
        }
        assert.ok(Number.isInteger(n) && n >= 0 && n <= CHUNK, `${name}: write resolved ${n}`);
        if (n > 0) acked.push([pos, buf.subarray(0, n)]);
        pos += n;
        if (n < CHUNK && n === 0) { failure = new Error(`${name}: a write resolved 0 bytes instead of failing with ENOSPC`); break; }
      }
      assert.ok(failure, `${name}: 4 MiB went into a 1 MiB tmpfs without an error`);
      assert.strictEqual(failure.code, 'ENOSPC', `${name}: ${failure.stack}`);
      assert.strictEqual(failure.errno, -28, `${name}: errno ${failure.errno}`);
      assert.match(String(failure.syscall), /^(write|writev|pwrite|pwritev)/, `${name}: syscall ${failure.syscall}`);
      assert.ok(acked.length > 0, `${name}: nothing fitted before ENOSPC`);
      const disk = fs.readFileSync(p);
      for (const [pos, bytes] of acked)
        assert.ok(disk.subarray(pos, pos + bytes.length).equals(bytes), `${name}: acknowledged bytes at ${pos} (${bytes.length}) are not intact`);
    } finally {
      if (fd >= 0) fs.closeSync(fd);
      fs.rmSync(p, { force: true });
    }
  }

  for (const backend of ['io_uring', 'aio', 'threadpool'] as const) {
    for (const vectored of [false, true]) {
      it(`${backend} ${vectored ? 'writev' : 'write'}: ENOSPC with code/errno/syscall, acknowledged writes intact`, async function () {
        if (!mounted) skip(this, `cannot mount tmpfs: ${why}`);
        const ctx = kaio.createContext({ backend });
        try {
          await fillUntilFull(`${backend}-${vectored}`, (fd, b, pos) => (vectored ? ctx.writev(fd, many(b), pos) : ctx.write(fd, one(b), pos)), { vectored });
        } finally {
          await ctx.close();
        }
      });
    }
  }

  it('registered pool buffers (WRITE_FIXED): ENOSPC the same way', async function () {
    if (!mounted) skip(this, `cannot mount tmpfs: ${why}`);
    const ring = new kaio.Ring();
    const pool = ring.registerBuffers({ count: 1, size: CHUNK, fallback: true });
    try {
      await fillUntilFull('fixed', (fd, b, pos) => { one(b).copy(pool.buffers[0]); return ring.write(fd, pool.buffers[0].subarray(0, one(b).length), pos); });
    } finally {
      await ring.close();
    }
  });

  it('batch API: res is -28 (ENOSPC); acknowledged writes intact', async function () {
    if (!mounted) skip(this, `cannot mount tmpfs: ${why}`);
    const ring = new kaio.Ring();
    let last = NaN; // no completion: not an integer, the write check fails
    ring.onCompletion((tag, res) => { last = res; });
    try {
      await fillUntilFull('batch', (fd, b, pos) => {
        ring.prepWrite(fd, one(b), pos, 1);
        ring.submitAndWait(1);
        if (last < 0) throw Object.assign(new Error(`res ${last}`), { code: last === -28 ? 'ENOSPC' : `errno ${last}`, errno: last, syscall: 'write' });
        return last;
      });
    } finally {
      await ring.close();
    }
  });

  it('open() FileHandle.write: rejects with ENOSPC; acknowledged writes intact', async function () {
    if (!mounted) skip(this, `cannot mount tmpfs: ${why}`);
    const p = path.join(dir, 'fh');
    const fh = await kaio.open(p, 'w+');
    try {
      await fillUntilFull('fh', async (fd, b, pos) => (await fh.write(one(b), 0, one(b).length, pos)).bytesWritten, { file: p });
    } finally {
      await fh.close();
      fs.rmSync(p, { force: true });
    }
  });
});
