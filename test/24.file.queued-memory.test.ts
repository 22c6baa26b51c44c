// A FileHandle's current-position ops wait their turn (position.ts): the
// memory they use is the memory checked at the call, as for an op at an
// explicit position (docs/api.md): a resizable buffer grown meanwhile still
// transfers the checked bytes; one shrunk or detached meanwhile fails the op
// with EFAULT and touches nothing; a view subclass whose byteLength, buffer or
// byteOffset getters lie is used through the engine's own values, so counts
// stay true and no byte outside the view reaches the file (node:fs itself
// believes such getters: its write(liar) writes liar.byteLength bytes).
import assert from 'node:assert';
import fs from 'node:fs';
import * as kaio from 'kaio';
import { BACKENDS, skip, tmpPath, type KaioError } from './helpers';

describe('24 FileHandle: queued current-position ops use the memory checked at the call', function () {
  this.timeout(60000);

  const contexts: Record<string, kaio.IoContext | undefined> = {};
  before(function () {
    for (const backend of BACKENDS) {
      try {
        contexts[backend] = kaio.createContext({ backend });
      } catch {
        contexts[backend] = undefined;
      }
    }
  });
  after(async () => {
    for (const c of Object.values(contexts)) await c?.close();
  });

  function context(t: Mocha.Context, backend: string): kaio.IoContext {
    const c = contexts[backend];
    if (!c) skip(t, `${backend} is not available here`);
    return c;
  }

  for (const backend of BACKENDS) {
    describe(backend, () => {
      it('a write of a resizable buffer grown after the call writes the bytes checked at the call, and counts those', async function () {
        const ctx = context(this, backend);
        const p = tmpPath('grow');
        const fh = await kaio.open(p, 'w', 0o644, { context: ctx });
        try {
          const first = fh.write(Buffer.from('head:'));
          const rab = new ArrayBuffer(4, { maxByteLength: 64 });
          const v = new Uint8Array(rab);
          v.set([1, 2, 3, 4]);
          const queued = fh.write(v);
          rab.resize(64);
          v.fill(0xee, 4);
          assert.strictEqual((await first).bytesWritten, 5);
          assert.strictEqual((await queued).bytesWritten, 4);
          assert.strictEqual((await fh.write(Buffer.from(':tail'))).bytesWritten, 5);
        } finally {
          await fh.close();
        }
        assert.deepStrictEqual(fs.readFileSync(p), Buffer.concat([Buffer.from('head:'), Buffer.from([1, 2, 3, 4]), Buffer.from(':tail')]));
      });

      it('a write of a buffer shrunk or detached after the call fails with EFAULT and writes nothing; its neighbours land in order', async function () {
        const ctx = context(this, backend);
        const p = tmpPath('shrink');
        const fh = await kaio.open(p, 'w', 0o644, { context: ctx });
        let results: PromiseSettledResult<{ bytesWritten: number }>[];
        try {
          const rab = new ArrayBuffer(8, { maxByteLength: 64 });
          new Uint8Array(rab).fill(0x77);
          const big = new ArrayBuffer(8);
          new Uint8Array(big).fill(0x66);
          const calls = [fh.write(Buffer.from('a')), fh.write(new Uint8Array(rab)), fh.write(Buffer.from('b')), fh.write(new Uint8Array(big)), fh.write(Buffer.from('c'))];
          rab.resize(2);
          structuredClone(big, { transfer: [big] });
          results = await Promise.allSettled(calls);
        } finally {
          await fh.close();
        }
        assert.deepStrictEqual(
          results.map((r) => (r.status === 'fulfilled' ? r.value.bytesWritten : (r.reason as KaioError).code)),
          [1, 'EFAULT', 1, 'EFAULT', 1],
        );
        const e = (results[1] as PromiseRejectedResult).reason as KaioError;
        assert.strictEqual(e.syscall, 'write');
        assert.strictEqual(e.errno, -14);
        assert.strictEqual(fs.readFileSync(p, 'latin1'), 'abc');
      });

      it('a read into a resizable buffer grown after the call reads the checked length, and the position moves by that', async function () {
        const ctx = context(this, backend);
        const p = tmpPath('read-grow');
        const data = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz');
        fs.writeFileSync(p, data);
        const fh = await kaio.open(p, 'r', 0o644, { context: ctx });
        try {
          const first = fh.read(Buffer.alloc(2), 0, 2, null);
          const rab = new ArrayBuffer(4, { maxByteLength: 32 });
          const v = new Uint8Array(rab);
          const queued = fh.read(v, 0, 4, null);
          rab.resize(32);
          assert.strictEqual((await first).bytesRead, 2);
          assert.strictEqual((await queued).bytesRead, 4);
          assert.deepStrictEqual(Buffer.from(rab), Buffer.concat([Buffer.from('2345'), Buffer.alloc(28)]));
          const next = await fh.read(Buffer.alloc(4), 0, 4, null);
          assert.strictEqual(next.buffer.toString('latin1'), '6789');
        } finally {
          await fh.close();
        }
      });

      it('a read into a buffer shrunk after the call fails with EFAULT and moves the position by nothing', async function () {
        const ctx = context(this, backend);
        const p = tmpPath('read-shrink');
        fs.writeFileSync(p, '0123456789');
        const fh = await kaio.open(p, 'r', 0o644, { context: ctx });
        try {
          const first = fh.read(Buffer.alloc(2), 0, 2, null);
          const rab = new ArrayBuffer(4, { maxByteLength: 32 });
          const queued = fh.readv([new Uint8Array(rab)], null);
          rab.resize(1);
          const after = fh.read(Buffer.alloc(3), 0, 3, null);
          assert.strictEqual((await first).bytesRead, 2);
          await assert.rejects(queued, { code: 'EFAULT', syscall: 'read' });
          assert.strictEqual((await after).buffer.toString('latin1'), '234');
        } finally {
          await fh.close();
        }
      });

      it('{ direct: true }: an unaligned write of a buffer shrunk after the call fails with EFAULT and leaves the old blocks (it threw a TypeError, code undefined)', async function () {
        const ctx = context(this, backend);
        const p = tmpPath('direct-shrink');
        fs.writeFileSync(p, Buffer.alloc(8192, 0x2e));
        let fh: kaio.FileHandle;
        try {
          fh = await kaio.open(p, 'r+', 0o644, { context: ctx, direct: true });
        } catch (e) {
          skip(this, `O_DIRECT is not available here: ${(e as Error).message}`);
        }
        try {
          const rab = new ArrayBuffer(100, { maxByteLength: 200 });
          new Uint8Array(rab).fill(0x41);
          const w = fh.write(new Uint8Array(rab), 0, 100, 10);
          rab.resize(0);
          await assert.rejects(w, { code: 'EFAULT', syscall: 'write' });
          const rab2 = new ArrayBuffer(8, { maxByteLength: 64 });
          const r = fh.read(new Uint8Array(rab2), 0, 8, 1);
          rab2.resize(2);
          await assert.rejects(r, { code: 'EFAULT', syscall: 'read' });
        } finally {
          await fh.close();
        }
        assert.deepStrictEqual(fs.readFileSync(p), Buffer.alloc(8192, 0x2e));
      });

      it('{ direct: true }: a readv whose first buffer grew after the call fills each buffer with its own bytes (the first took the second\'s)', async function () {
        const ctx = context(this, backend);
        const p = tmpPath('direct-readv');
        fs.writeFileSync(p, '0123456789'.repeat(10));
        let fh: kaio.FileHandle;
        try {
          fh = await kaio.open(p, 'r', 0o644, { context: ctx, direct: true });
        } catch (e) {
          skip(this, `O_DIRECT is not available here: ${(e as Error).message}`);
        }
        try {
          const rab = new ArrayBuffer(4, { maxByteLength: 64 });
          const a = new Uint8Array(rab);
          const b = Buffer.alloc(4);
          const r = fh.readv([a, b], 1);
          rab.resize(8);
          assert.strictEqual((await r).bytesRead, 8);
          assert.strictEqual(Buffer.from(rab).toString('latin1'), '1234\0\0\0\0');
          assert.strictEqual(b.toString('latin1'), '5678');
        } finally {
          await fh.close();
        }
      });

      it('a readv/writev list with a view detached before the call is refused as at an explicit position (ERR_INVALID_ARG_VALUE naming buffers[i]), nothing written', async function () {
        const ctx = context(this, backend);
        const p = tmpPath('detached-list');
        const fh = await kaio.open(p, 'w+', 0o644, { context: ctx });
        try {
          const ab = new ArrayBuffer(8);
          const v = new Uint8Array(ab);
          structuredClone(ab, { transfer: [ab] });
          for (const position of [0, null]) {
            await assert.rejects(fh.writev([Buffer.from('ab'), v], position), { code: 'ERR_INVALID_ARG_VALUE', message: /'buffers\[1\]' is detached/ });
            await assert.rejects(fh.readv([Buffer.alloc(2), v], position), { code: 'ERR_INVALID_ARG_VALUE', message: /'buffers\[1\]' is detached/ });
          }
        } finally {
          await fh.close();
        }
        assert.strictEqual(fs.statSync(p).size, 0);
      });

      it("a view whose byteLength/buffer/byteOffset getters lie: the counts and the file are those of the same writes at explicit positions (no byte outside the view, none twice)", async function () {
        const ctx = context(this, backend);
        const mem = new ArrayBuffer(64);
        new Uint8Array(mem).fill(0x41);
        const other = new ArrayBuffer(64);
        new Uint8Array(other).fill(0x58);
        class Liar extends Uint8Array {
          lie = 0;
          override get byteLength(): number {
            return this.lie;
          }
          override get buffer(): ArrayBuffer {
            return other;
          }
          override get byteOffset(): number {
            return 7;
          }
        }
        const make = (lie: number, fill: number): Liar => {
          const l = new Liar(mem, fill * 8, 4);
          Uint8Array.prototype.fill.call(l, fill);
          l.lie = lie;
          return l;
        };
        for (const lie of [0, 2, 40]) {
          const p = tmpPath(`liar-${lie}`);
          const ref = `${p}.node`;
          const a = make(lie, 1);
          const b = Buffer.from([2, 2, 2]);
          const c = make(lie, 3);
          const fh = await kaio.open(p, 'w', 0o644, { context: ctx });
          let got: number[];
          try {
            got = (await Promise.all([fh.write(a), fh.write(b), fh.writev([c, b]), fh.write(b)])).map((r) => r.bytesWritten);
          } finally {
            await fh.close();
          }
          // The same calls at explicit positions, each checked and used at once (intrinsics, not the getters).
          const pfh = await kaio.open(ref, 'w', 0o644, { context: ctx });
          const want: number[] = [];
          try {
            let at = 0;
            for (const call of [() => pfh.write(a, 0, 4, at), () => pfh.write(b, 0, 3, at), () => pfh.writev([c, b], at), () => pfh.write(b, 0, 3, at)]) {
              const n = (await call()).bytesWritten;
              want.push(n);
              at += n;
            }
          } finally {
            await pfh.close();
          }
          assert.deepStrictEqual(got, want, `counts, byteLength lying ${lie}`);
          assert.deepStrictEqual(got, [4, 3, 7, 3]);
          assert.deepStrictEqual(fs.readFileSync(p), fs.readFileSync(ref), `file, byteLength lying ${lie}`);
          assert.deepStrictEqual(fs.readFileSync(p), Buffer.from([1, 1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 2, 2, 2, 2, 2, 2]));
        }
      });
    });
  }
});
