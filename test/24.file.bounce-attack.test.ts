// Bounce memory (lib/bounce.ts) under a hostile caller and the kernel's
// failure modes: a view detached by the caller's own code between its check
// and the copy; a huge op's bounce memory; pools named next to (or instead
// of) the caller's memory on the paths that skip or bounce it; and, against
// node:fs doing the same, which bytes land in which view (short readvs
// spanning views, zero-length views, a view listed twice), on every backend.
// Reads stay in flight deterministically on a FIFO until the test writes.
import assert from 'node:assert';
import cp from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import * as kaio from 'kaio';
import { _bounceStats as bounceStats } from '../dist/lib/bounce';
import { BACKENDS, backendContext, contextPerBackend, root, tick, tmpPath, type KaioError } from './helpers';

/** A FIFO with a reader fd (blocking) and a writer fd; reads on it wait until the test writes. */
function fifo(): { path: string; r: number; w: number; close: () => void } {
  const p = path.join(fs.mkdtempSync(path.join(root, 'fifo-')), 'f');
  cp.execFileSync('mkfifo', [p]);
  const w = fs.openSync(p, fs.constants.O_RDWR);
  const r = fs.openSync(p, fs.constants.O_RDONLY);
  return {
    path: p,
    r,
    w,
    close: () => {
      fs.closeSync(r);
      fs.closeSync(w);
    },
  };
}

/** Anonymous memory of this process (KiB), what a kept bounce buffer's touched pages count in. */
function anonKiB(): number {
  const m = /^Anonymous:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/smaps_rollup', 'utf8'));
  assert.ok(m, 'smaps_rollup has an Anonymous line');
  return Number(m[1]);
}

const HUGE = 24 * 1024 * 1024;
let huge: Buffer | undefined;
/** One 24 MiB Buffer for the whole file. */
function hugeBuffer(): Buffer {
  return (huge ??= Buffer.alloc(HUGE));
}

describe('24 bounce memory attacked', function () {
  this.timeout(60000);

  const contexts = contextPerBackend();

  const ctx = (ctxThis: Mocha.Context, backend: string): kaio.IoContext => backendContext(contexts, ctxThis, backend);

  // AIO refuses position -1; on a FIFO its ops run on the thread pool's workers.
  const at = (backend: string): number => (backend === 'aio' ? 0 : -1);

  for (const backend of BACKENDS) {
    describe(backend, () => {
      it('write/writev: a view the options getter (or a later list element\'s getter) detaches or shrinks fails with EFAULT, nothing written', async function () {
        const c = ctx(this, backend);
        const p = tmpPath(`bounce-attack-getter-${backend}`);
        const fd = fs.openSync(p, 'w+');
        const efault = (syscall: string) => (e: KaioError): true => {
          assert.equal(e.code, 'EFAULT', String(e));
          assert.equal(e.errno, -14);
          assert.equal(e.syscall, syscall);
          return true;
        };
        try {
          // Detached by options.flags' getter, after the buffer was checked.
          const u = new Uint8Array(16).fill(0x41);
          const opts = {
            get flags(): number {
              structuredClone(u.buffer, { transfer: [u.buffer] });
              return 0;
            },
          };
          await assert.rejects(c.write(fd, u, 0, opts), efault('write'));
          // Shrunk (a resizable ArrayBuffer) by the getter.
          const ab = new ArrayBuffer(16, { maxByteLength: 16 });
          const r = new Uint8Array(ab).fill(0x42);
          const shrink = {
            get flags(): number {
              ab.resize(4);
              return 0;
            },
          };
          await assert.rejects(c.write(fd, r, 0, shrink), efault('write'));
          // A writev whose first view is detached by the list's second element's getter.
          const a = new Uint8Array(8).fill(0x43);
          const list: Uint8Array[] = [a];
          Object.defineProperty(list, 1, {
            enumerable: true,
            get(): Uint8Array {
              structuredClone(a.buffer, { transfer: [a.buffer] });
              return new Uint8Array(8);
            },
          });
          await assert.rejects(c.writev(fd, list, 0), efault('writev'));
          const b = new Uint8Array(8).fill(0x44);
          const opts2 = {
            get flags(): number {
              structuredClone(b.buffer, { transfer: [b.buffer] });
              return 0;
            },
          };
          await assert.rejects(c.writev(fd, [Buffer.alloc(8), b], 0, opts2), efault('writev'));
          assert.equal(fs.fstatSync(fd).size, 0, 'nothing reached the file');
          // The context goes on.
          assert.equal(await c.write(fd, Buffer.from('ok'), 0), 2);
          assert.equal(fs.readFileSync(p, 'utf8'), 'ok');
        } finally {
          fs.closeSync(fd);
        }
      });

      it('a read of more than 16 MiB: its bounce memory is unmapped when the read is done, not kept for the thread\'s life', async function () {
        const c = ctx(this, backend);
        // A sparse file and one Buffer for every backend: no large garbage
        // whose collection during the read would hide memory kept.
        const p = tmpPath(`bounce-attack-huge-${backend}`);
        const fd = fs.openSync(p, 'w+');
        try {
          fs.ftruncateSync(fd, HUGE);
          fs.writeSync(fd, 'A', 0);
          fs.writeSync(fd, 'Z', HUGE - 1);
          const buf = hugeBuffer();
          buf.fill(1); // its pages touched before the baseline
          const before = anonKiB();
          assert.equal(await c.read(fd, buf, 0), HUGE);
          const grown = anonKiB() - before;
          assert.equal(buf[0], 0x41);
          assert.equal(buf[1], 0);
          assert.equal(buf[HUGE - 1], 0x5a);
          // The old code kept the 32 MiB class buffer (24 MiB of it touched) in the free list for good.
          assert.ok(grown < 8 * 1024, `anonymous memory grew by ${grown} KiB after a ${HUGE >> 20} MiB read`);
          // Again (a fresh mapping), as a readv of two views spanning the file.
          buf.fill(2);
          assert.equal(await c.readv(fd, [buf.subarray(0, HUGE / 2), buf.subarray(HUGE / 2)], 0), HUGE);
          assert.equal(buf[0], 0x41);
          assert.equal(buf[HUGE / 2], 0);
          assert.equal(buf[HUGE - 1], 0x5a);
          assert.ok(anonKiB() - before < 8 * 1024, 'nothing kept after the readv either');
        } finally {
          fs.closeSync(fd);
          fs.unlinkSync(p);
        }
      });

      it('readv: short results spanning views, zero-length views, one view listed twice: the same bytes in the same views as node:fs', async function () {
        const c = ctx(this, backend);
        const p = tmpPath(`bounce-attack-readv-${backend}`);
        const data = Buffer.from('abcdefghijklmnopqrstuvwxyz');
        fs.writeFileSync(p, data);
        const fd = fs.openSync(p, 'r');
        try {
          // Fresh lists of views for each side: [views, then what to compare].
          const shapes: Array<() => { views: ArrayBufferView[]; mem: Buffer }> = [
            () => {
              const mem = Buffer.alloc(32, '.');
              return { mem, views: [mem.subarray(0, 5), mem.subarray(5, 5), mem.subarray(8, 20), new DataView(mem.buffer, mem.byteOffset + 24, 8)] };
            },
            () => {
              const mem = Buffer.alloc(8, '.');
              const v = mem.subarray(2, 6);
              return { mem, views: [v, v, v] };
            },
            () => {
              const mem = Buffer.alloc(16, '.');
              return { mem, views: [mem.subarray(0, 0), new Uint16Array(mem.buffer, mem.byteOffset + 2, 3), mem.subarray(0, 0), mem.subarray(10, 16)] };
            },
          ];
          for (const [i, shape] of shapes.entries()) {
            for (const pos of [0, 3, 17, 24, 26, 40]) {
              const mine = shape();
              const theirs = shape();
              const got = await c.readv(fd, mine.views, pos);
              const want = fs.readvSync(fd, theirs.views as NodeJS.ArrayBufferView[], pos);
              assert.equal(got, want, `shape ${i} at ${pos}: count`);
              assert.equal(mine.mem.toString('latin1'), theirs.mem.toString('latin1'), `shape ${i} at ${pos}: bytes`);
            }
          }
        } finally {
          fs.closeSync(fd);
        }
      });

    });
  }

    it('an aborted read in flight settles at its cancellation; the next read on the same bounce class gets the data, the aborted view nothing', async function () {
      // (io_uring only: AIO and the thread pool run an op in flight to completion.)
      const c = ctx(this, 'io_uring');
      const f = fifo();
      try {
        const ac = new AbortController();
        const first = Buffer.alloc(8, '.');
        const second = Buffer.alloc(8, '.');
        const aborted = c.read(f.r, first, -1, { signal: ac.signal }).then(
          () => 'resolved',
          (e: KaioError) => e.name,
        );
        await tick();
        const taken = bounceStats().taken;
        ac.abort();
        const next = c.read(f.r, second, -1);
        await tick();
        fs.writeSync(f.w, 'ABCDEFGH');
        assert.equal(await aborted, 'AbortError');
        assert.equal(await next, 8);
        assert.equal(second.toString(), 'ABCDEFGH');
        assert.equal(first.toString(), '........');
        assert.equal(bounceStats().taken, taken + 1);
      } finally {
        f.close();
      }
    });
  it('FileHandle on AIO, a read on a FIFO into a pool buffer (node:fs\'s worker): pool.release() waits for it, the next mapping is untouched', async function () {
    const c = ctx(this, 'aio');
    const f = fifo();
    const fh = await kaio.open(f.path, 'r', undefined, { context: c });
    try {
      const pool = c.registerBuffers({ size: 4096, count: 1 });
      const read = fh.read(pool.buffers[0], 0, 8, null);
      await tick();
      await tick();
      let released = false;
      const release = pool.release().then(() => {
        released = true;
      });
      await tick();
      await tick();
      assert.equal(released, false, 'release waits for the read on its memory');
      // A pool made now would be mapped where the old one was if it had been unmapped.
      const next = c.registerBuffers({ size: 4096, count: 1 });
      fs.writeSync(f.w, 'ABCDEFGH');
      assert.equal((await read).bytesRead, 8);
      await release;
      assert.equal(Buffer.from(next.buffers[0].subarray(0, 8)).toString('hex'), '00'.repeat(8), 'the read landed in memory that was not its own');
      await next.release();
      // And a readv through the same path (a pool buffer next to the caller's).
      const pool2 = c.registerBuffers({ size: 4096, count: 1 });
      const mine = Buffer.alloc(4, '.');
      const readv = fh.readv([pool2.buffers[0].subarray(0, 4), mine], null);
      await tick();
      await tick();
      let released2 = false;
      const release2 = pool2.release().then(() => {
        released2 = true;
      });
      await tick();
      assert.equal(released2, false, 'release waits for the readv on its memory');
      fs.writeSync(f.w, '12345678');
      assert.equal((await readv).bytesRead, 8);
      assert.equal(mine.toString(), '5678');
      await release2;
    } finally {
      fs.writeSync(f.w, 'x'.repeat(16)); // (a read left waiting on a failure would hold a worker for good)
      await fh.close();
      f.close();
    }
  });

  it('batch prepReadv naming a pool buffer next to the caller\'s (bounced): pool.release() waits, both get their bytes', async () => {
    const ring = new kaio.Ring({ entries: 8 });
    const f = fifo();
    try {
      const pool = ring.registerBuffers({ size: 4096, count: 1, fallback: true });
      const mine = Buffer.alloc(4, '.');
      let pooled = '';
      const done = new Promise<number>((resolve) =>
        ring.onCompletion((_tag, res) => {
          if (res > 0) pooled = Buffer.from(pool.buffers[0].subarray(0, 4)).toString();
          resolve(res);
        }),
      );
      const before = bounceStats().taken;
      assert.equal(ring.prepReadv(f.r, [pool.buffers[0].subarray(0, 4), mine], -1, 7), true);
      ring.submit();
      assert.equal(bounceStats().taken, before + 1, 'a list with the caller\'s memory in it is bounced');
      await tick();
      let released = false;
      const release = pool.release().then(() => {
        released = true;
      });
      await tick();
      await tick();
      assert.equal(released, false, 'release waits for the readv');
      fs.writeSync(f.w, 'ABCDEFGH');
      assert.equal(await done, 8, 'the readv completes with its bytes (the old code: EFAULT, the pool unmapped under it)');
      assert.equal(pooled, 'ABCD');
      assert.equal(mine.toString(), 'EFGH');
      await release;
    } finally {
      fs.writeSync(f.w, 'x'.repeat(8)); // (ring.close() waits for a readv left waiting on a failure)
      f.close();
      await ring.close();
    }
  });
});
