// A caller's ArrayBuffer transferred (structuredClone / postMessage with a
// transfer list) or overwritten while an op on it is in flight: the kernel
// never touches the memory's new owner. A read in flight lands in kaio's
// bounce memory and, its view detached or shrunk meanwhile, fails with
// EFAULT and copies nothing; a write sends the bytes as they were at the
// call. Reads stay in flight deterministically on a FIFO until the test
// writes to it. kaio's own memory (pool buffers, alignedBuffer) still goes
// to the kernel as it is, with no bounce.
import assert from 'node:assert';
import cp from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import * as kaio from 'kaio';
import { _bounceStats as bounceStats } from '../dist/lib/bounce';
import { binding } from '../dist/lib/binding';
import { BACKENDS, backendContext, contextPerBackend, directSupported, root, skip, tick, tmpPath, type KaioError } from './helpers';

/** A FIFO with a reader fd (blocking) and a writer fd; reads on it wait until the test writes. */
function fifo(): { path: string; r: number; w: number; close: () => void } {
  const p = path.join(fs.mkdtempSync(path.join(root, 'fifo-')), 'f');
  cp.execFileSync('mkfifo', [p]);
  const w = fs.openSync(p, fs.constants.O_RDWR); // a writer first: the reader's open does not wait
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

function assertEfault(e: unknown, syscall: string): void {
  const err = e as KaioError;
  assert.equal(err.code, 'EFAULT', String(e));
  assert.equal(err.errno, -14);
  assert.equal(err.syscall, syscall);
}

async function rejects(p: Promise<unknown>, syscall: string): Promise<void> {
  try {
    const v = await p;
    assert.fail(`resolved with ${JSON.stringify(v)}: the op must fail with EFAULT`);
  } catch (e) {
    if (e instanceof assert.AssertionError) throw e;
    assertEfault(e, syscall);
  }
}

function zero(ab: ArrayBuffer): void {
  assert.equal(Buffer.from(ab).toString('hex'), '00'.repeat(ab.byteLength), 'the kernel wrote into memory that had moved to a new owner');
}

/** A Worker that keeps each ArrayBuffer posted to it and posts back its bytes when asked. */
function keeper(): Worker {
  return new Worker(
    `const { parentPort } = require('node:worker_threads');
     const kept = [];
     parentPort.on('message', (m) => {
       if (m instanceof ArrayBuffer) { kept.push(m); parentPort.postMessage('kept'); }
       else parentPort.postMessage(Buffer.from(kept[m]).toString('hex'));
     });`,
    { eval: true },
  );
}

function once(w: Worker): Promise<unknown> {
  return new Promise((resolve) => w.once('message', resolve));
}

describe('24 an ArrayBuffer transferred or overwritten while its op is in flight', function () {
  this.timeout(60000);

  const contexts = contextPerBackend();

  const ctx = (ctxThis: Mocha.Context, backend: string): kaio.IoContext => backendContext(contexts, ctxThis, backend);

  // AIO refuses position -1; on a FIFO its ops run on the thread pool's workers, at the pipe's position.
  const at = (backend: string): number => (backend === 'aio' ? 0 : -1);

  for (const backend of BACKENDS) {
    describe(backend, () => {
      it('read: the buffer transferred with structuredClone after submission: EFAULT, the new owner untouched', async function () {
        const c = ctx(this, backend);
        const f = fifo();
        try {
          const view = Buffer.alloc(8);
          const read = c.read(f.r, view, at(backend));
          await tick(); // submitted: the kernel holds the read
          const moved = structuredClone(view.buffer, { transfer: [view.buffer] });
          assert.equal(view.byteLength, 0);
          fs.writeSync(f.w, 'abcdefgh');
          await rejects(read, 'read');
          zero(moved);
        } finally {
          f.close();
        }
      });

      it('read: the buffer posted to a Worker with a transfer list: EFAULT, the Worker\'s bytes untouched', async function () {
        const c = ctx(this, backend);
        const f = fifo();
        const w = keeper();
        try {
          const view = new Uint8Array(16);
          const read = c.read(f.r, view, at(backend));
          await tick();
          w.postMessage(view.buffer, [view.buffer]);
          assert.equal(await once(w), 'kept');
          fs.writeSync(f.w, 'x'.repeat(16));
          await rejects(read, 'read');
          w.postMessage(0);
          assert.equal(await once(w), '00'.repeat(16));
        } finally {
          await w.terminate();
          f.close();
        }
      });

      it('read: a DataView and a subarray view over a transferred buffer: EFAULT, nothing written', async function () {
        const c = ctx(this, backend);
        const f = fifo();
        try {
          const ab1 = new ArrayBuffer(32);
          const dv = new DataView(ab1, 8, 16);
          const ab2 = new ArrayBuffer(64);
          const sub = new Uint16Array(ab2).subarray(4, 12); // bytes 8..24
          const r1 = c.read(f.r, dv, at(backend));
          await tick();
          const m1 = structuredClone(ab1, { transfer: [ab1] });
          fs.writeSync(f.w, 'y'.repeat(16));
          await rejects(r1, 'read');
          zero(m1);
          const r2 = c.read(f.r, sub, at(backend));
          await tick();
          const m2 = structuredClone(ab2, { transfer: [ab2] });
          fs.writeSync(f.w, 'z'.repeat(16));
          await rejects(r2, 'read');
          zero(m2);
        } finally {
          f.close();
        }
      });

      it('readv: one of its buffers transferred: EFAULT, none of them written', async function () {
        const c = ctx(this, backend);
        const f = fifo();
        try {
          const a = Buffer.alloc(4);
          const b = new Uint8Array(4);
          const read = c.readv(f.r, [a, b], at(backend));
          await tick();
          const moved = structuredClone(b.buffer, { transfer: [b.buffer] });
          fs.writeSync(f.w, '12345678');
          await rejects(read, 'readv');
          zero(moved);
          assert.equal(a.toString('hex'), '00000000', 'a readv whose second view moved fills none');
        } finally {
          f.close();
        }
      });

      it('read: a view left alone still gets its data (bounced reads are copied back), a subarray at its offset', async function () {
        const c = ctx(this, backend);
        const f = fifo();
        try {
          const whole = Buffer.alloc(16, 0x2e);
          const read = c.read(f.r, whole.subarray(4, 12), at(backend));
          await tick();
          fs.writeSync(f.w, 'ABCDEFGH');
          assert.equal(await read, 8);
          assert.equal(whole.toString(), '....ABCDEFGH....');
          // A short read fills only what came.
          const dv = new DataView(new ArrayBuffer(8));
          const short = c.read(f.r, dv, at(backend));
          await tick();
          fs.writeSync(f.w, 'xyz');
          assert.equal(await short, 3);
          assert.equal(Buffer.from(dv.buffer).toString('hex'), '78797a0000000000');
        } finally {
          f.close();
        }
      });

      it('write: the file gets the bytes as they were at the call (buffer overwritten, or transferred and refilled, right after)', async function () {
        const c = ctx(this, backend);
        const p = tmpPath(`transfer-write-${backend}`);
        const fd = fs.openSync(p, 'w+');
        try {
          const buf = Buffer.from('the bytes at the call');
          const w1 = c.write(fd, buf, 0);
          buf.fill('X'); // before the op is submitted (the next tick)
          assert.equal(await w1, 21);
          assert.equal(fs.readFileSync(p, 'utf8'), 'the bytes at the call');
          const u = new TextEncoder().encode('second write, moved');
          const w2 = c.write(fd, u, 0);
          const moved = new Uint8Array(structuredClone(u.buffer, { transfer: [u.buffer] }));
          moved.fill(0x21);
          assert.equal(await w2, 19);
          assert.equal(fs.readFileSync(p, 'utf8'), 'second write, movedll');
          const parts = [Buffer.from('one,'), Buffer.from('two')];
          const wv = c.writev(fd, parts, 0);
          parts[0].fill('-');
          structuredClone(parts[1].buffer, { transfer: [parts[1].buffer] });
          assert.equal(await wv, 7);
          assert.equal(fs.readFileSync(p, 'utf8').slice(0, 7), 'one,two');
        } finally {
          fs.closeSync(fd);
        }
      });

      it('FileHandle.read on a FIFO, its buffer transferred in flight: EFAULT, the new owner untouched', async function () {
        const c = ctx(this, backend);
        const f = fifo();
        const fh = await kaio.open(f.path, 'r', 0o666, { context: c });
        try {
          const view = new Uint8Array(8);
          const read = fh.read(view, 0, 8, null);
          await tick();
          const moved = structuredClone(view.buffer, { transfer: [view.buffer] });
          fs.writeSync(f.w, 'abcdefgh');
          await rejects(read, 'read');
          zero(moved);
        } finally {
          await fh.close();
          f.close();
        }
      });
    });
  }

  describe('io_uring batch API', () => {
    let ring: kaio.Ring;
    beforeEach(() => {
      ring = new kaio.Ring({ entries: 8 });
    });
    afterEach(async () => {
      await ring.close();
    });

    it('prepRead: the buffer transferred after submit: the handler gets -EFAULT, the new owner untouched', () => {
      const f = fifo();
      try {
        const got: Array<[number, number]> = [];
        ring.onCompletion((tag, res) => got.push([tag, res]));
        const view = Buffer.alloc(8);
        assert.equal(ring.prepRead(f.r, view, -1, 7), true);
        assert.equal(ring.submit(), 1);
        const moved = structuredClone(view.buffer, { transfer: [view.buffer] });
        fs.writeSync(f.w, 'abcdefgh');
        while (got.length < 1) ring.submitAndWait(1);
        assert.deepEqual(got, [[7, -14]]);
        zero(moved);
        // And one left alone gets its bytes.
        const kept = Buffer.alloc(4);
        ring.prepReadv(f.r, [kept.subarray(0, 2), kept.subarray(2)], -1, 8);
        ring.submit();
        fs.writeSync(f.w, 'wxyz');
        while (got.length < 2) ring.submitAndWait(1);
        assert.deepEqual(got[1], [8, 4]);
        assert.equal(kept.toString(), 'wxyz');
      } finally {
        f.close();
      }
    });

    it('prepWrite: the file gets the bytes as they were at the prep', () => {
      const p = tmpPath('transfer-prepwrite');
      const fd = fs.openSync(p, 'w+');
      try {
        const got: number[] = [];
        ring.onCompletion((_tag, res) => got.push(res));
        const buf = Buffer.from('prepared');
        ring.prepWrite(fd, buf, 0, 1);
        structuredClone(buf.buffer, { transfer: [buf.buffer] });
        while (got.length < 1) ring.submitAndWait(1);
        assert.deepEqual(got, [8]);
        assert.equal(fs.readFileSync(p, 'utf8'), 'prepared');
      } finally {
        fs.closeSync(fd);
      }
    });
  });

  describe('kaio\'s own memory goes to the kernel as it is', () => {
    it('a registered pool buffer: READ_FIXED, no bounce; the pool is not released under the read', async () => {
      const ring = new kaio.Ring({ entries: 8 });
      const f = fifo();
      try {
        const pool = ring.registerBuffers({ count: 1, size: 4096, fallback: true });
        const before = bounceStats().taken;
        const read = ring.read(f.r, pool.buffers[0], -1);
        await tick();
        let released = false;
        const release = pool.release().then(() => {
          released = true;
        });
        await tick();
        assert.equal(released, false, 'release waits for the read');
        fs.writeSync(f.w, 'pooled');
        assert.equal(await read, 6);
        await release;
        assert.equal(bounceStats().taken, before, 'no bounce buffer for pool memory');
      } finally {
        f.close();
        await ring.close();
      }
    });

    for (const backend of ['io_uring', 'aio'] as const) {
      it(`${backend}: alignedBuffer() memory: no bounce, and it cannot be transferred away from the read`, async function () {
        const c = ctx(this, backend);
        const f = fifo();
        try {
          const buf = kaio.alignedBuffer(4096);
          const before = bounceStats().taken;
          const read = c.read(f.r, buf.subarray(100, 110), at(backend));
          await tick();
          // Untransferable: structuredClone copies it instead of moving it.
          let copy: unknown;
          try {
            copy = structuredClone(buf.buffer, { transfer: [buf.buffer as ArrayBuffer] });
          } catch (e) {
            copy = e; // (a Node that refuses to clone it instead)
          }
          assert.notEqual(copy, buf.buffer);
          assert.equal(buf.byteLength, 4096, 'kaio memory is never detached by a transfer');
          fs.writeSync(f.w, '0123456789');
          assert.equal(await read, 10);
          assert.equal(buf.subarray(100, 110).toString(), '0123456789');
          assert.equal(bounceStats().taken, before, 'no bounce buffer for alignedBuffer memory');
        } finally {
          f.close();
        }
      });
    }

    it('a caller Buffer does take a bounce buffer (the counter the tests above rely on)', async function () {
      const c = ctx(this, 'io_uring');
      const p = tmpPath('transfer-count');
      fs.writeFileSync(p, 'counted');
      const fd = fs.openSync(p, 'r');
      try {
        const before = bounceStats().taken;
        const b = Buffer.alloc(7);
        assert.equal(await c.read(fd, b, 0), 7);
        assert.equal(b.toString(), 'counted');
        assert.equal(bounceStats().taken, before + 1);
      } finally {
        fs.closeSync(fd);
      }
    });
  });

  it('aio O_DIRECT read: the buffer transferred before io_submit: EFAULT, the new owner untouched', async function () {
    const c = ctx(this, 'aio');
    if (!directSupported(root)) skip(this, `O_DIRECT is not supported in ${root}`);
    const p = tmpPath('transfer-direct');
    fs.writeFileSync(p, Buffer.alloc(4096, 0x41));
    const fd = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_DIRECT);
    try {
      // Caller memory O_DIRECT takes: page-aligned, found with kaio's own
      // look at where the ArrayBuffer's memory starts.
      const ab = new ArrayBuffer(3 * 4096);
      const view = new Uint8Array(ab, (4096 - binding.pageOffset(ab)) & 4095, 4096);
      const read = c.read(fd, view, 0);
      // Before the flush's io_submit: the read was given bounce memory at
      // the call, and its view is found detached at completion. (The old
      // code looked the view up at io_submit, so only the window between
      // io_submit and the completion was open, too short to hold here: the
      // flush may reap the completion itself.)
      const moved = structuredClone(ab, { transfer: [ab] });
      await rejects(read, 'read');
      zero(moved);
    } finally {
      fs.closeSync(fd);
    }
  });
});
