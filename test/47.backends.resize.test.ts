// Buffers shrunk or detached between the call and the submission (issue 19,
// defect 10). An op fixes its byte length at the call; it is handed to the
// kernel (io_submit, io_uring_enter) or to a worker thread in the nextTick
// flush after it. A read whose view is shrunk or detached in between (here:
// right after the call, in the same synchronous run) must fail with EFAULT
// and touch no memory (a write sends the bytes it had at the call): not the bytes past the new end (which come back as zeros
// when the buffer grows again, per the spec), not the memory a transfer
// handed to its new owner, not the other views of a readv.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import type { IoContext } from 'kaio';
import { BACKENDS, contextPerBackend, randomFile, tmpPath, skip, type KaioError } from './helpers';

const SIZE = 4096;
const KEPT = 16; // bytes left after the shrink: the same page, so still mapped
const MARK = 0xaa;

/** A length-tracking view on a resizable ArrayBuffer, filled with MARK. */
function resizable(): { ab: ArrayBuffer; view: Uint8Array } {
  const ab = new ArrayBuffer(SIZE, { maxByteLength: SIZE });
  const view = new Uint8Array(ab).fill(MARK);
  return { ab, view };
}

function countNot(bytes: Uint8Array, value: number): number {
  let n = 0;
  for (const b of bytes) if (b !== value) n++;
  return n;
}

describe('47 a buffer shrunk or detached between the call and the submission', () => {
  const contexts = contextPerBackend();
  const ctx = (t: Mocha.Context, b: string): IoContext => {
    const c = contexts[b];
    if (c instanceof Error) skip(t, `${b} cannot be set up here: ${(c as KaioError).code ?? c.message}`);
    return c;
  };

  for (const backend of BACKENDS) {
    // Every backend, with and without a signal: a Ring op's SQE is written
    // when its tick's ops are staged into the SQ, not at the call.
    for (const signalled of [false, true]) {
      const opts = (): { signal: AbortSignal } | undefined => (signalled ? { signal: new AbortController().signal } : undefined);
      const tag = `${backend}${signalled ? ' (with a signal)' : ''}`;

      it(`${tag}: read into a view shrunk right after the call rejects with EFAULT; nothing past the new end is written`, async function () {
        const c = ctx(this, backend);
        const { path: file } = randomFile(SIZE, 'shrink-read');
        const fd = fs.openSync(file, 'r');
        try {
          const { ab, view } = resizable();
          const reading = c.read(fd, view, 0, opts());
          ab.resize(KEPT);
          await assert.rejects(reading, { code: 'EFAULT', syscall: 'read' });
          assert.equal(countNot(view, MARK), 0, 'the bytes kept were written');
          ab.resize(SIZE);
          // The engine zeroes what a shrink cut off; file bytes there were written past the end.
          assert.equal(countNot(view.subarray(KEPT), 0), 0, 'bytes past the shrunk end were written');
        } finally {
          fs.closeSync(fd);
        }
      });

      it(`${tag}: read into a buffer transferred right after the call rejects with EFAULT; the new owner's memory is untouched`, async function () {
        const c = ctx(this, backend);
        const { path: file } = randomFile(SIZE, 'transfer-read');
        const fd = fs.openSync(file, 'r');
        try {
          const view = new Uint8Array(SIZE).fill(MARK);
          const reading = c.read(fd, view, 0, opts());
          const moved = new Uint8Array(structuredClone(view.buffer, { transfer: [view.buffer] }));
          assert.equal(view.byteLength, 0);
          await assert.rejects(reading, { code: 'EFAULT', syscall: 'read' });
          assert.equal(countNot(moved, MARK), 0, "the transferred memory's new owner was written");
        } finally {
          fs.closeSync(fd);
        }
      });

      it(`${tag}: readv whose second view shrinks right after the call rejects with EFAULT; the first view is untouched`, async function () {
        const c = ctx(this, backend);
        const { path: file } = randomFile(2 * SIZE, 'shrink-readv');
        const fd = fs.openSync(file, 'r');
        try {
          const first = new Uint8Array(SIZE).fill(MARK);
          const { ab, view } = resizable();
          const reading = c.readv(fd, [first, view], 0, opts());
          ab.resize(KEPT);
          await assert.rejects(reading, { code: 'EFAULT', syscall: 'readv' });
          assert.equal(countNot(first, MARK), 0, 'the first view was written');
          ab.resize(SIZE);
          assert.equal(countNot(view.subarray(KEPT), 0), 0, 'bytes past the shrunk end were written');
        } finally {
          fs.closeSync(fd);
        }
      });

      // The thread pool copies a write's bytes when it is called (docs/backends.md:
      // "Thread-pool ops ... never give a worker thread the caller's
      // memory"), so a later shrink cannot reach the write: see the last test.
      // A write takes its bytes at the call on every backend (kaio's bounce
      // memory, lib/bounce.ts): a shrink or transfer after it changes nothing.
      it(`${tag}: write of a view shrunk right after the call writes the bytes checked at the call`, async function () {
        const c = ctx(this, backend);
        const file = tmpPath('shrink-write');
        fs.writeFileSync(file, 'old');
        const fd = fs.openSync(file, 'r+');
        try {
          const { ab, view } = resizable();
          const writing = c.write(fd, view, 0, opts());
          ab.resize(KEPT);
          assert.equal(await writing, SIZE);
          const got = fs.readFileSync(file);
          assert.equal(got.length, SIZE);
          assert.equal(countNot(got, MARK), 0);
        } finally {
          fs.closeSync(fd);
        }
      });

      it(`${tag}: writev whose view is transferred right after the call writes the bytes it had at the call`, async function () {
        const c = ctx(this, backend);
        const file = tmpPath('transfer-writev');
        fs.writeFileSync(file, 'old');
        const fd = fs.openSync(file, 'r+');
        try {
          const first = Buffer.alloc(SIZE, 1);
          const view = new Uint8Array(SIZE).fill(MARK);
          const writing = c.writev(fd, [first, view], 0, opts());
          const moved = new Uint8Array(structuredClone(view.buffer, { transfer: [view.buffer] }));
          moved.fill(0x55); // the new owner's bytes: never the file's
          assert.equal(await writing, 2 * SIZE);
          const got = fs.readFileSync(file);
          assert.equal(countNot(got.subarray(0, SIZE), 1), 0);
          assert.equal(countNot(got.subarray(SIZE), MARK), 0);
        } finally {
          fs.closeSync(fd);
        }
      });
    }
  }
});

describe('47 a readv whose view shrinks while the read waits (worker threads)', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-resize-'));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const contexts = contextPerBackend();

  // AIO runs ops on FIFOs on the same worker threads as the thread pool.
  for (const backend of ['threadpool', 'aio']) {
    it(`${backend}: rejects with EFAULT and fills none of the views`, async function () {
      const c = contexts[backend];
      if (c instanceof Error) skip(this, `${backend} cannot be set up here: ${(c as KaioError).code ?? c.message}`);
      const fifo = path.join(dir, `fifo-${backend}`);
      execFileSync('mkfifo', [fifo]);
      const fd = fs.openSync(fifo, fs.constants.O_RDWR);
      try {
        const first = new Uint8Array(8);
        const ab = new ArrayBuffer(8, { maxByteLength: 8 });
        const second = new Uint8Array(ab);
        const reading = c.readv(fd, [first, second], backend === 'aio' ? 0 : -1);
        await new Promise(setImmediate);
        ab.resize(4);
        fs.writeSync(fd, 'abcdefghijklmnop');
        await assert.rejects(reading, { code: 'EFAULT', syscall: 'readv' });
        assert.deepEqual([...first], [0, 0, 0, 0, 0, 0, 0, 0], 'the first view was filled');
        assert.deepEqual([...second], [0, 0, 0, 0]);
      } finally {
        fs.closeSync(fd);
      }
    });
  }
});
