// Defects found by review and by hostile use (issues 8 and 9): each case here
// failed (hung, crashed, wrote the wrong bytes or lost its error code) before
// the fix it names.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';
import { Ring, BufferPool, open, alignedBuffer, createContext, writeFile } from 'kaio';
import { tmpPath, pkgRoot, fixture, skip, kernelAtLeast, mountTmpfs, fifoPair, tick, type KaioError } from './helpers';

const fifo = fifoPair;


describe('16 ring: defects under partial submission and hostile use', () => {
  let ring: Ring | undefined;
  afterEach(async () => {
    if (ring) await ring.close();
    ring = undefined;
  });

  describe('partial submission (no IORING_SETUP_SUBMIT_ALL)', () => {
    it('a ring made with submitAll: false lacks the flag; submitAll is validated', async () => {
      ring = new Ring({ entries: 8, submitAll: false });
      assert.ok(!ring.params.setupFlags.includes('SUBMIT_ALL'));
      // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
      assert.throws(() => new Ring({ submitAll: 1 }), { code: 'ERR_INVALID_ARG_TYPE' });
    });

    it('ops after a failing SQE in the same submission still settle (promise API)', async () => {
      ring = new Ring({ entries: 8, submitAll: false });
      const long = `/${'x'.repeat(5000)}`;
      const open1 = ring.openat(long, 'r');
      const nops = [ring.nop(), ring.nop(), ring.nop()];
      await assert.rejects(open1, { code: 'ENAMETOOLONG', syscall: 'open' });
      await Promise.all(nops);
      assert.equal(ring.stats.inFlight, 0);
    });

    it('batch ops after a failing SQE still complete', async () => {
      ring = new Ring({ entries: 8, submitAll: false });
      const got: [number, number][] = [];
      ring.onCompletion((tag, res) => got.push([tag, res]));
      const failing = ring.openat(`/${'y'.repeat(5000)}`, 'r');
      for (let i = 0; i < 4; i++) assert.equal(ring.prepNop(i), true);
      ring.submit();
      while (got.length < 4) ring.submitAndWait(1);
      assert.deepEqual(got.map(([t]) => t).sort(), [0, 1, 2, 3]);
      await assert.rejects(failing, { code: 'ENAMETOOLONG' });
    });
  });

  it('an iopoll ring settles its ops (O_DIRECT on a filesystem that cannot poll: EOPNOTSUPP, not a hang)', async function () {
    ring = new Ring({ entries: 8, iopoll: true });
    assert.ok(ring.params.setupFlags.includes('IOPOLL'));
    // It settles. 6.0 and later complete NOP on an IOPOLL ring; 5.10 refuses
    // it (EINVAL, seen in the kernel lab); in between, either is the kernel's.
    if (kernelAtLeast(6, 0)) assert.equal(await ring.nop(), undefined);
    else if (!kernelAtLeast(5, 11)) await assert.rejects(ring.nop(), { code: 'EINVAL' });
    else await ring.nop().catch((e: KaioError) => assert.equal(e.code, 'EINVAL'));
    // tmpfs has no iopoll method on any kernel: the read is refused (a file on
    // a block device may complete or not, by device and kernel: see test 60).
    const m = mountTmpfs('1m');
    try {
      if (!m.mounted) skip(this, `cannot mount a tmpfs here: ${m.why}`);
      const p = path.join(m.dir, 'iopoll');
      fs.writeFileSync(p, Buffer.alloc(8192, 1));
      let fd: number;
      try {
        fd = fs.openSync(p, fs.constants.O_RDWR | fs.constants.O_DIRECT);
      } catch (e) {
        skip(this, `tmpfs refuses O_DIRECT before Linux 6.6 (${(e as KaioError).code})`);
      }
      try {
        await assert.rejects(ring.read(fd, alignedBuffer(4096), 0), (e: KaioError) => {
          assert.equal(e.code, 'ENOTSUP');
          assert.equal(e.syscall, 'read');
          return true;
        });
      } finally {
        fs.closeSync(fd);
      }
    } finally {
      m.unmount();
    }
  });

  it('an io_uring_enter error rejects the ops it concerns with code/errno/syscall; the process lives on', function () {
    const helper = fixture('seccomp-exec.py');
    const child = fixture('enter-blocked.js');
    const r = spawnSync('python3', [helper, 'io_uring_enter', '--', process.execPath, child], { encoding: 'utf8', timeout: 30000 });
    if (r.status === 77 || r.error) skip(this, 'no python3 or no seccomp here');
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').pop() ?? '');
    assert.deepEqual(out.promise, { code: 'EPERM', errno: -1, syscall: 'read' });
    assert.deepEqual(out.batch, [-1, -1]);
    assert.equal(out.closed, true);
  });

  describe('what JS checked is what the kernel gets', () => {
    it('a prepReadv list whose getters call submit() or close(), or throw, cannot corrupt memory', async () => {
      ring = new Ring({ entries: 8 });
      const p = tmpPath('getters');
      fs.writeFileSync(p, Buffer.alloc(8192, 7));
      const fd = fs.openSync(p, 'r');
      const got: [number, number][] = [];
      ring.onCompletion((tag, res) => got.push([tag, res]));
      const bufs = [Buffer.alloc(4096), Buffer.alloc(4096)];
      const list = [bufs[0], bufs[1]];
      let calls = 0;
      const r = ring;
      Object.defineProperty(list, 1, {
        get() {
          calls++;
          r.prepNop(99);
          r.submit();
          return bufs[1];
        },
      });
      assert.equal(ring.prepReadv(fd, list, 0, 1), true);
      assert.equal(calls, 1, 'each element is read once');
      ring.submit();
      while (got.length < 2) ring.submitAndWait(1);
      assert.deepEqual(got.find(([t]) => t === 1), [1, 8192]);
      assert.ok(bufs[1].every((b) => b === 7));
      const throwing = [bufs[0]];
      Object.defineProperty(throwing, 0, { get() { throw new Error('boom'); } });
      assert.throws(() => r.prepReadv(fd, throwing, 0, 2), /boom/);
      const closing = [bufs[0]];
      Object.defineProperty(closing, 0, { get() { void r.close(); return bufs[0]; } });
      assert.throws(() => r.prepReadv(fd, closing, 0, 3), { code: 'ERR_KAIO_CLOSED' });
      fs.closeSync(fd);
    });

    it('a list emptied or changed after prep*/readv keeps what was checked (and holds its buffers)', async () => {
      ring = new Ring({ entries: 8 });
      const p = tmpPath('list');
      const fd = fs.openSync(p, 'w+');
      const got: [number, number][] = [];
      ring.onCompletion((tag, res) => got.push([tag, res]));
      const list = [Buffer.alloc(16, 1)];
      ring.prepWritev(fd, list, 0, 1);
      list[0] = Buffer.alloc(8192, 2);
      // @ts-expect-error bad input on purpose: the list is changed after the call
      list.push('not a view');
      ring.submit();
      while (got.length < 1) ring.submitAndWait(1);
      assert.deepEqual(got[0], [1, 16]);
      const plist: Buffer[] = [Buffer.alloc(32, 3)];
      const w = ring.writev(fd, plist, 0);
      plist.length = 0;
      assert.equal(await w, 32);
      assert.equal(fs.fstatSync(fd).size, 32);
      fs.closeSync(fd);
    });

    it('a resizable buffer grown before submission writes the length checked at the call', async () => {
      ring = new Ring({ entries: 8 });
      const fd = fs.openSync(tmpPath('resize'), 'w+');
      const ab = new ArrayBuffer(4096, { maxByteLength: 65536 });
      const view = new Uint8Array(ab); // length-tracking
      view.fill(9);
      const w = ring.write(fd, view, 0);
      ab.resize(65536);
      assert.equal(await w, 4096);
      assert.equal(fs.fstatSync(fd).size, 4096);
      // Shrunk (or detached) before submission: a write sends the bytes it
      // had at the call (kaio's bounce memory took them); a read fails, and
      // nothing else is written.
      view.fill(7);
      const w2 = ring.write(fd, view, 0);
      ab.resize(0);
      assert.equal(await w2, 65536);
      assert.equal(fs.readFileSync(fd as unknown as string).subarray(0, 4).toString('hex'), '07070707');
      const ab3 = new ArrayBuffer(4096);
      const r3 = ring.read(fd, new Uint8Array(ab3), 0);
      structuredClone(ab3, { transfer: [ab3] });
      await assert.rejects(r3, { code: 'EFAULT', syscall: 'read' });
      fs.closeSync(fd);
    });

    it('a pool view whose `buffer` lies is still counted in use: release waits for the op', async () => {
      ring = new Ring({ entries: 8 });
      const pool = ring.registerBuffers({ count: 2, size: 4096, fallback: true });
      const { r, w, close } = fifo();
      const lying = pool.buffers[0].subarray(0, 4096);
      Object.defineProperty(lying, 'buffer', { value: new ArrayBuffer(4096) });
      class Liar extends Uint8Array {
        override get buffer() { return new ArrayBuffer(8); }
        override get byteLength() { return 1; }
      }
      const sub = new Liar(pool.buffers[1].buffer as ArrayBuffer, pool.buffers[1].byteOffset, 4096);
      const reads = [ring.read(r, lying, -1), ring.read(r, sub, -1)];
      await tick();
      assert.equal(pool.inUse, 2);
      let released = false;
      const rel = pool.release().then(() => (released = true));
      await tick();
      assert.equal(released, false, 'release waits for the reads');
      fs.writeSync(w, Buffer.alloc(8192, 5));
      const n = await Promise.all(reads);
      assert.equal(n[0] + n[1], 8192);
      await rel;
      close();
    });

    it('only a real AbortSignal is accepted (a signal-like object is refused up front)', async () => {
      ring = new Ring({ entries: 8 });
      const fake = { aborted: false, addEventListener() {} };
      // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
      await assert.rejects(ring.nop({ signal: fake }), { code: 'ERR_INVALID_ARG_TYPE' });
      class Sneaky extends AbortController {}
      const ac = new Sneaky();
      Object.defineProperty(ac.signal, 'addEventListener', { value() { throw new Error('no'); } });
      Object.defineProperty(ac.signal, 'removeEventListener', { value() { throw new Error('no'); } });
      await ring.nop({ signal: ac.signal });
    });
  });

  describe('every error has a code', () => {
    it('detached DataView, supports({}), pool.indexOf(undefined), new BufferPool()', async () => {
      ring = new Ring({ entries: 8 });
      const ab = new ArrayBuffer(16);
      const dv = new DataView(ab);
      structuredClone(ab, { transfer: [ab] });
      await assert.rejects(ring.read(0, dv, 0), { code: 'ERR_INVALID_ARG_VALUE' });
      // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
      assert.throws(() => ring.supports({}), { code: 'ERR_INVALID_ARG_TYPE' });
      const pool = ring.registerBuffers({ count: 1, size: 4096, fallback: true });
      // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
      assert.throws(() => pool.indexOf(undefined), { code: 'ERR_INVALID_ARG_TYPE' });
      // @ts-expect-error pools come from a ring, not from new
      assert.throws(() => new BufferPool(new ArrayBuffer(4096), 4096, 1), { code: 'ERR_ILLEGAL_CONSTRUCTOR' });
      const fd = fs.openSync(tmpPath('zero'), 'w+');
      assert.equal(await ring.read(fd, new Uint8Array(0), -0), 0); // -0 is position 0, not "current"
      fs.closeSync(fd);
    });

    it('open() and its handle: -0 mode, null options, a null-prototype options object', async () => {
      const p = tmpPath('open-args');
      fs.writeFileSync(p, 'abc');
      const fh = await open(p, 'r+', -0);
      // Node takes a null-prototype object as the options form: one byte at the handle's position.
      assert.equal((await fh.write(Buffer.from('x'), Object.create(null))).bytesWritten, 1);
      await fh.close();
      // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
      await assert.rejects(open(p, 'r', 0o666, null), { code: 'ERR_INVALID_ARG_TYPE' });
    });

    it('open() with a Proxy over a Buffer as the path: ERR_INVALID_ARG_TYPE, without running its traps', async () => {
      let traps = 0;
      const proxy = new Proxy(Buffer.from(__filename), {
        get: (t, k) => (traps++, Reflect.get(t, k)),
        getPrototypeOf: (t) => (traps++, Reflect.getPrototypeOf(t)),
      });
      await assert.rejects(open(proxy, 'r'), { code: 'ERR_INVALID_ARG_TYPE' });
      assert.equal(traps, 0);
    });

    it("ring.openat()/statx() with a Proxy over a Buffer as the path: ERR_INVALID_ARG_TYPE without running its traps; a Buffer path is its bytes, whatever its toString says", async () => {
      const ring = new Ring({ entries: 4 });
      try {
        let traps = 0;
        const proxy = new Proxy(Buffer.from(__filename), {
          get: (t, k) => (traps++, Reflect.get(t, k)),
          getPrototypeOf: (t) => (traps++, Reflect.getPrototypeOf(t)),
        });
        await assert.rejects(ring.openat(proxy, 'r'), { code: 'ERR_INVALID_ARG_TYPE' });
        await assert.rejects(ring.statx(proxy), { code: 'ERR_INVALID_ARG_TYPE' });
        assert.equal(traps, 0);
        const lying = Buffer.from('/nonexistent-kaio-path');
        Object.defineProperty(lying, 'toString', { value: () => __filename });
        await assert.rejects(ring.statx(lying), { code: 'ENOENT' });
      } finally {
        await ring.close();
      }
    });

    it('writeFile() with a Proxy over a Buffer as data (handle and module level): ERR_INVALID_ARG_TYPE, without running its traps, the file untouched (fuzz seeds 902, 903)', async () => {
      const file = tmpPath();
      fs.writeFileSync(file, 'keep');
      let traps = 0;
      const proxy = new Proxy(Buffer.from('lost'), {
        get: (t, k) => (traps++, Reflect.get(t, k)),
        has: (t, k) => (traps++, Reflect.has(t, k)),
        getPrototypeOf: (t) => (traps++, Reflect.getPrototypeOf(t)),
      });
      const fh = await open(file, 'r+');
      try {
        await assert.rejects(fh.writeFile(proxy), { code: 'ERR_INVALID_ARG_TYPE' });
      } finally {
        await fh.close();
      }
      await assert.rejects(writeFile(file, proxy), { code: 'ERR_INVALID_ARG_TYPE' });
      assert.equal(traps, 0);
      assert.equal(fs.readFileSync(file, 'utf8'), 'keep');
    });

    it('open() with a detached DataView or an object with a custom inspect as flags: ERR_INVALID_ARG_VALUE, no code of the caller run (fuzz seed 778)', async () => {
      const ab = new ArrayBuffer(8);
      const dv = new DataView(ab);
      structuredClone(ab, { transfer: [ab] });
      // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
      await assert.rejects(open(__filename, dv), { code: 'ERR_INVALID_ARG_VALUE' });
      let ran = 0;
      const custom = { [Symbol.for('nodejs.util.inspect.custom')]: () => (ran++, 'x') };
      // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
      await assert.rejects(open(__filename, custom), { code: 'ERR_INVALID_ARG_VALUE' });
      assert.equal(ran, 0);
    });

    it("describing a bad argument runs none of the caller's code (getters, Proxy traps, a function's name)", () => {
      ring = new Ring({ entries: 2 });
      ring.onCompletion(() => {});
      const ran: string[] = [];
      const tagged = Object.create(null) as object;
      Object.defineProperty(tagged, Symbol.toStringTag, { get: () => (ran.push('toStringTag'), 'X') });
      class Tagged {
        get [Symbol.toStringTag](): string {
          ran.push('inherited toStringTag');
          return 'Y';
        }
      }
      Object.defineProperty(Tagged.prototype, 'constructor', { value: 5 }); // no usable class name: falls back to a description
      class Named {
        static get name(): string {
          ran.push('static name');
          return 'Named';
        }
      }
      const trap = (what: string) => ({
        get: (t: object, k: PropertyKey) => (ran.push(`${what} get ${String(k)}`), Reflect.get(t, k)),
        getOwnPropertyDescriptor: (t: object, k: PropertyKey) => (ran.push(`${what} descriptor ${String(k)}`), Reflect.getOwnPropertyDescriptor(t, k)),
        getPrototypeOf: (t: object) => (ran.push(`${what} prototype`), Reflect.getPrototypeOf(t)),
      });
      const values: unknown[] = [
        tagged,
        new Tagged(),
        Named,
        new Proxy(function f() {}, trap('function proxy')),
        { constructor: new Proxy(function F() {}, trap('constructor proxy')) },
        Object.create(new Proxy({}, trap('prototype proxy'))),
      ];
      for (const v of values) {
        // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
        assert.throws(() => ring!.prepRead(v, Buffer.alloc(1), 0, 1), { code: 'ERR_INVALID_ARG_TYPE' });
        // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
        assert.throws(() => ring!.prepRead(0, v, 0, 1), { code: 'ERR_INVALID_ARG_TYPE' });
      }
      assert.deepEqual(ran, []);
    });
  });

  it('closing an open() handle waits for its queued writes: none reaches the next file with that fd', async () => {
    const ctx = createContext({ backend: 'io_uring', entries: 2 });
    const a = tmpPath('a');
    const b = tmpPath('b');
    const fa = await open(a, 'w+', 0o644, { context: ctx });
    const writes: Promise<unknown>[] = [];
    for (let i = 0; i < 64; i++) writes.push(fa.write(Buffer.alloc(4096, 1), 0, 4096, i * 4096));
    const closed = fa.close();
    const fb = await open(b, 'w+', 0o644, { context: ctx });
    await Promise.all(writes);
    await closed;
    await fb.close();
    assert.equal(fs.statSync(a).size, 64 * 4096);
    assert.equal(fs.statSync(b).size, 0);
    await ctx.close();
  });

  it('tells V8 what a ring costs: thousands of rings dropped without close() are collected (fds come back)', function () {
    const code = `
      const { Ring } = require(${JSON.stringify(pkgRoot)});
      const fs = require('node:fs');
      const fds = () => fs.readdirSync('/proc/self/fd').length;
      const before = fds();
      let peak = 0;
      (async () => {
        for (let i = 0; i < 3000; i++) {
          new Ring({ entries: 4 });
          if (i % 50 === 0) {
            peak = Math.max(peak, fds() - before);
            await new Promise((resolve) => setImmediate(resolve));
          }
        }
        process.stdout.write(JSON.stringify({ peak }));
      })();
    `;
    const r = spawnSync(process.execPath, ['-e', code], { encoding: 'utf8', timeout: 60000 });
    assert.equal(r.status, 0, r.stderr);
    const { peak } = JSON.parse(r.stdout);
    assert.ok(peak < 2000, `peak open ring fds ${peak}: the GC never ran`);
  });
});

describe('16 ring: open flags', () => {
  it("a flag string that names an Object.prototype member ('constructor', 'toString') is refused, by open() and openat()", async () => {
    const ring = new Ring({ entries: 2 });
    try {
      await assert.rejects(ring.openat(__filename, 'constructor'), { code: 'ERR_INVALID_ARG_TYPE' });
      await assert.rejects(open(__filename, 'toString'), { code: 'ERR_INVALID_ARG_VALUE' });
    } finally {
      await ring.close();
    }
  });
});

describe('16 ring: out of fds', () => {
  it('EMFILE from io_uring_setup says how many rings are not closed and what to do', function () {
    const code = `
      const { Ring } = require(${JSON.stringify(pkgRoot)});
      const rings = [];
      try { for (;;) rings.push(new Ring({ entries: 2 })); }
      catch (e) { process.stdout.write(JSON.stringify({ code: e.code, syscall: e.syscall, message: e.message, made: rings.length })); }
    `;
    const r = spawnSync('sh', ['-c', `ulimit -n 64 && exec "${process.execPath}" -e '${code.replace(/'/g, "'\\''")}'`], { encoding: 'utf8', timeout: 30000 });
    // Only a missing sh is a reason to skip; a child that fails otherwise fails the test.
    if ((r.error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT') skip(this, 'no sh here');
    assert.equal(r.status, 0, `exit ${r.status} ${r.signal ?? ''} ${r.error?.message ?? ''}\n${r.stderr}`);
    const out = JSON.parse(r.stdout);
    assert.equal(out.code, 'EMFILE');
    assert.equal(out.syscall, 'io_uring_setup');
    assert.match(out.message, new RegExp(`${out.made} ring\\(s\\) of this thread are not closed yet`));
    assert.match(out.message, /close\(\) rings you are done with/);
  });
});

describe('16 ring: SQPOLL on kernels without IORING_FEAT_SQPOLL_NONFIXED', () => {
  it('refuses plain fds up front (needs a kernel before 5.11)', async function () {
    const ring = new Ring({ entries: 4, sqpoll: true });
    try {
      if (ring.params.features.includes('SQPOLL_NONFIXED')) skip(this, 'kernel 5.11+: plain fds work on SQPOLL');
      await assert.rejects(ring.read(0, Buffer.alloc(1), 0), { code: 'ERR_KAIO_UNSUPPORTED' });
    } finally {
      await ring.close();
    }
  });
});
