// Module-level writeFile over existing files: the default (O_TRUNC, as
// node:fs) and { inPlace: true } (write from offset 0, then ftruncate to the
// data's length). When writeFile resolves, the file holds exactly the data,
// over a longer or a shorter file, on every backend; what a reader sees
// while it runs differs (checked at a point the test holds open: an async
// iterable that waits); on ENOSPC the file keeps what reached it, the same
// bytes node:fs's writeFile leaves, never old bytes after the new ones.
import assert from 'node:assert/strict';
import cp from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as kaio from 'kaio';
import { BACKENDS, contextPerBackend, pkgRoot, skip, tmpPath, type KaioError } from './helpers';

/** A file holding `old`, and the path of a twin written by node:fs. */
function existing(old: Buffer): { p: string; twin: string } {
  const p = tmpPath('wf');
  const twin = tmpPath('wf-node');
  fs.writeFileSync(p, old);
  fs.writeFileSync(twin, old);
  return { p, twin };
}

/** An async iterable yielding `first`, then waiting for `gate` before `rest`. */
function held(first: Buffer, rest: Buffer): { data: AsyncIterable<Buffer>; reached: Promise<void>; release: () => void } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let reachedResolve!: () => void;
  const reached = new Promise<void>((r) => (reachedResolve = r));
  async function* gen() {
    yield first;
    reachedResolve(); // asked for the next chunk: the first one has been written
    await gate;
    yield rest;
  }
  return { data: gen(), reached, release };
}

describe('25 writeFile over existing files (O_TRUNC, inPlace)', function () {
  this.timeout(60000);
  const contexts = contextPerBackend();

  for (const backend of BACKENDS) {
    for (const inPlace of [false, true]) {
      const title = `${backend}, inPlace ${inPlace}`;
      const ctx = (t: Mocha.Context): kaio.IoContext => {
        const c = contexts[backend];
        if (c instanceof Error) skip(t, `${backend}: ${(c as KaioError).message}`);
        return c as kaio.IoContext;
      };

      it(`${title}: over a longer file, exactly the data (as node:fs)`, async function () {
        const context = ctx(this);
        const { p, twin } = existing(crypto.randomBytes(300000));
        const data = crypto.randomBytes(70000);
        await kaio.writeFile(p, data, { context, inPlace });
        await fsp.writeFile(twin, data);
        assert.ok(fs.readFileSync(p).equals(data));
        assert.ok(fs.readFileSync(p).equals(fs.readFileSync(twin)));
        const same = crypto.randomBytes(70000); // over a file of the same length
        await kaio.writeFile(p, same, { context, inPlace });
        assert.ok(fs.readFileSync(p).equals(same));
      });

      it(`${title}: over a shorter file, a string, an iterable and flush, exactly the data`, async function () {
        const context = ctx(this);
        const { p } = existing(Buffer.from('short'));
        const big = crypto.randomBytes(1 << 20).toString('base64'); // several write chunks
        await kaio.writeFile(p, big, { context, inPlace });
        assert.equal(fs.readFileSync(p, 'utf8'), big);
        await kaio.writeFile(p, [Buffer.from('ab'), Buffer.from('cd')], { context, inPlace, flush: true });
        assert.equal(fs.readFileSync(p, 'utf8'), 'abcd');
        await kaio.writeFile(p, '', { context, inPlace });
        assert.equal(fs.statSync(p).size, 0);
      });
    }
  }

  for (const backend of BACKENDS) {
    it(`${backend}: appendFile from 64 producers at once keeps every line whole, after the old bytes (as node:fs)`, async function () {
      const c = contexts[backend];
      if (c instanceof Error) skip(this, `${backend}: ${(c as KaioError).message}`);
      const context = c as kaio.IoContext;
      const { p, twin } = existing(Buffer.from('head\n'));
      const lines = (id: number) => Array.from({ length: 20 }, (_, k) => `${String(id).padStart(2, '0')}:${String(k).padStart(2, '0')}:${'x'.repeat(id * 7)}\n`);
      await Promise.all(Array.from({ length: 64 }, async (_, id) => {
        for (const line of lines(id)) await kaio.appendFile(p, line, { context });
      }));
      await Promise.all(Array.from({ length: 64 }, async (_, id) => {
        for (const line of lines(id)) await fsp.appendFile(twin, line);
      }));
      const got = fs.readFileSync(p, 'utf8');
      const ref = fs.readFileSync(twin, 'utf8');
      assert.equal(got.length, ref.length);
      assert.ok(got.startsWith('head\n'));
      assert.deepEqual(got.split('\n').sort(), ref.split('\n').sort());
      // Each producer's lines in its own order.
      for (let id = 0; id < 64; id++) assert.deepEqual(got.split('\n').filter((l) => l.startsWith(`${String(id).padStart(2, '0')}:`)), lines(id).map((l) => l.slice(0, -1)));
    });
  }

  it('appendFile to a block device writes from its start, as node:fs (O_APPEND means nothing there)', async function () {
    if (process.getuid?.() !== 0) skip(this, 'losetup needs root');
    const imgs = [tmpPath('dev-a.img'), tmpPath('dev-b.img')];
    const devs: string[] = [];
    try {
      for (const img of imgs) {
        fs.writeFileSync(img, Buffer.alloc(1 << 20, 0x2e));
        const r = cp.spawnSync('losetup', ['--find', '--show', img], { encoding: 'utf8' });
        if (r.status !== 0) skip(this, `losetup failed: ${(r.stderr || String(r.error)).trim()}`);
        devs.push(r.stdout.trim());
      }
      const data = crypto.randomBytes(200000);
      await kaio.appendFile(devs[0], data);
      await fsp.appendFile(devs[1], data);
      const a = Buffer.alloc(1 << 20);
      const b = Buffer.alloc(1 << 20);
      for (const [dev, buf] of [[devs[0], a], [devs[1], b]] as const) {
        const fd = fs.openSync(dev, 'r');
        fs.readSync(fd, buf, 0, buf.length, 0);
        fs.closeSync(fd);
      }
      assert.ok(b.subarray(0, data.length).equals(data), 'node:fs wrote from the start');
      assert.ok(a.equals(b));
    } finally {
      for (const dev of devs) cp.spawnSync('losetup', ['-d', dev]);
    }
  });

  it('writeFile/appendFile create files as node:fs: mode, dangling symlink, wx on an existing file, missing parent', async () => {
    const dir = tmpPath('create');
    fs.mkdirSync(dir);
    for (const [fn, ref] of [[kaio.writeFile, fsp.writeFile], [kaio.appendFile, fsp.appendFile]] as const) {
      for (const who of ['kaio', 'node']) {
        const write = who === 'kaio' ? fn : ref;
        const p = path.join(dir, `${fn.name}-${who}`);
        await write(p, 'new', { mode: 0o640 });
        assert.equal(fs.statSync(p).mode & 0o777, 0o640 & ~process.umask());
        await write(p, 'again', { mode: 0o600 }); // an existing file keeps its mode
        assert.equal(fs.statSync(p).mode & 0o777, 0o640 & ~process.umask());
        fs.symlinkSync(path.join(dir, `${fn.name}-${who}-target`), `${p}-link`);
        await write(`${p}-link`, 'via link');
        assert.equal(fs.readFileSync(path.join(dir, `${fn.name}-${who}-target`), 'utf8'), 'via link');
        const exists = await write(p, 'x', { flag: fn === kaio.writeFile ? 'wx' : 'ax' }).catch((e: NodeJS.ErrnoException) => e);
        assert.equal((exists as NodeJS.ErrnoException).code, 'EEXIST');
        const missing = await write(path.join(dir, 'no', 'such'), 'x').catch((e: NodeJS.ErrnoException) => e);
        assert.equal((missing as NodeJS.ErrnoException).code, 'ENOENT');
        assert.equal((missing as NodeJS.ErrnoException).syscall, 'open');
        assert.equal((missing as NodeJS.ErrnoException).path, path.join(dir, 'no', 'such'));
      }
      const name = fn.name;
      assert.equal(fs.readFileSync(path.join(dir, `${name}-kaio`), 'utf8'), fs.readFileSync(path.join(dir, `${name}-node`), 'utf8'));
    }
  });

  it('inPlace: a reader sees the new bytes over the old ones until the cut; O_TRUNC: only the new bytes', async () => {
    const old = Buffer.alloc(10000, 0x6f);
    const first = Buffer.alloc(3000, 0x31);
    const rest = Buffer.alloc(2000, 0x32);
    for (const inPlace of [false, true]) {
      const { p } = existing(old);
      const h = held(first, rest);
      const done = kaio.writeFile(p, h.data, { inPlace });
      await h.reached;
      const during = fs.readFileSync(p);
      if (inPlace) assert.ok(during.equals(Buffer.concat([first, old.subarray(first.length)])), 'new bytes, then the old tail');
      else assert.ok(during.equals(first), 'only the new bytes');
      h.release();
      await done;
      assert.ok(fs.readFileSync(p).equals(Buffer.concat([first, rest])));
    }
  });

  it('inPlace does nothing else for flags that do not truncate (a, r+) and on a character device', async () => {
    const { p, twin } = existing(Buffer.from('0123456789'));
    await kaio.writeFile(p, 'ab', { inPlace: true, flag: 'a' });
    await fsp.writeFile(twin, 'ab', { flag: 'a' });
    assert.equal(fs.readFileSync(p, 'utf8'), '0123456789ab');
    await kaio.writeFile(p, 'XY', { inPlace: true, flag: 'r+' });
    await fsp.writeFile(twin, 'XY', { flag: 'r+' });
    assert.equal(fs.readFileSync(p, 'utf8'), 'XY23456789ab');
    assert.equal(fs.readFileSync(p, 'utf8'), fs.readFileSync(twin, 'utf8'));
    await kaio.writeFile('/dev/null', 'x', { inPlace: true }); // ftruncate: EINVAL, ignored as O_TRUNC is
  });

  it('into a FIFO with no reader yet: writeFile (inPlace or not) and appendFile wait for the reader, write in order, cut nothing (as node:fs)', async () => {
    const writers: Array<[string, (p: string, d: Buffer) => Promise<void>]> = [
      ['kaio inPlace', (p, d) => kaio.writeFile(p, d, { inPlace: true })],
      ['kaio appendFile', (p, d) => kaio.appendFile(p, d)],
      ['kaio writeFile', (p, d) => kaio.writeFile(p, d)],
      ['node:fs writeFile', (p, d) => fsp.writeFile(p, d)],
      ['node:fs appendFile', (p, d) => fsp.appendFile(p, d)],
    ];
    for (const [name, write] of writers) {
      const p = tmpPath('fifo-writer');
      fs.rmSync(p, { force: true });
      cp.execFileSync('mkfifo', [p]);
      const data = crypto.randomBytes(3000);
      // The writer first: its open reaches the kernel (the ring submits by
      // the next turn; node:fs's pool thread blocks) while nothing reads.
      // io_uring's inline open is non-blocking, and a FIFO without a reader
      // refuses a non-blocking writer (ENXIO), where open(2) waits.
      const writing = write(p, data).then(() => undefined, (e: NodeJS.ErrnoException) => e);
      await new Promise((r) => setImmediate(r));
      const reading = fsp.readFile(p);
      const err = await writing;
      // A writer that failed left the reader waiting for one: release it.
      if (err) fs.closeSync(fs.openSync(p, 'w'));
      const got = await reading;
      fs.rmSync(p);
      assert.equal(err, undefined, `${name}: ${err?.code} ${err?.message}`);
      assert.ok(got.equals(data), name);
    }
  });

  it('inPlace: an aborted write leaves the bytes written, not the old tail', async () => {
    const { p } = existing(Buffer.alloc(10000, 0x6f));
    const ac = new AbortController();
    const first = Buffer.alloc(3000, 0x31);
    async function* gen() {
      yield first;
      ac.abort();
      yield Buffer.alloc(3000, 0x32);
    }
    await assert.rejects(kaio.writeFile(p, gen(), { inPlace: true, signal: ac.signal }), { name: 'AbortError' });
    assert.ok(fs.readFileSync(p).equals(first));
  });

  it('inPlace must be a boolean', async () => {
    const p = tmpPath('wf-arg');
    await assert.rejects(kaio.writeFile(p, 'x', { inPlace: 'yes' as unknown as boolean }), { code: 'ERR_INVALID_ARG_TYPE' });
    assert.equal(fs.existsSync(p), false);
  });

  describe('on a full 1 MiB tmpfs', () => {
    let dir: string;
    let mounted = false;
    let why = '';
    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-wf-enospc-'));
      const r = cp.spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', dir], { encoding: 'utf8' });
      mounted = r.status === 0;
      why = (r.stderr || (r.error && r.error.message) || `exit ${r.status}`).trim();
    });
    after(() => {
      if (mounted) cp.spawnSync('umount', [dir]);
      fs.rmSync(dir, { recursive: true, force: true });
    });

    /** The same state each time: a 600 KiB filler and a 200 KiB target; writes 600 KiB over it with `write`. */
    async function overFull(write: (p: string, data: Buffer) => Promise<void>): Promise<{ err: NodeJS.ErrnoException; left: Buffer; data: Buffer }> {
      for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f));
      fs.writeFileSync(path.join(dir, 'filler'), Buffer.alloc(600 * 1024, 0x66));
      const p = path.join(dir, 'target');
      fs.writeFileSync(p, Buffer.alloc(200 * 1024, 0x6f));
      const data = crypto.randomBytes(600 * 1024);
      let err: NodeJS.ErrnoException | undefined;
      await write(p, data).catch((e) => (err = e));
      assert.ok(err, 'the write must fail: the tmpfs has no room for it');
      return { err, left: fs.readFileSync(p), data };
    }

    it('appendFile: ENOSPC is the kernel\'s, and the file holds the old bytes and then what fitted, as node:fs', async function () {
      if (!mounted) skip(this, `cannot mount a tmpfs here: ${why}`);
      const ref = await overFull((p, d) => fsp.appendFile(p, d));
      const got = await overFull((p, d) => kaio.appendFile(p, d));
      assert.equal(got.err.code, 'ENOSPC');
      assert.equal(got.err.syscall, 'write');
      const old = Buffer.alloc(200 * 1024, 0x6f);
      assert.ok(got.left.subarray(0, old.length).equals(old));
      assert.ok(got.left.subarray(old.length).equals(got.data.subarray(0, got.left.length - old.length)));
      assert.equal(got.left.length, ref.left.length);
    });

    for (const backend of BACKENDS) for (const inPlace of [false, true]) {
      it(`${backend}, inPlace ${inPlace}: ENOSPC is the kernel's, and the file holds the bytes node:fs's writeFile leaves`, async function () {
        if (!mounted) skip(this, `cannot mount a tmpfs here: ${why}`);
        const c = contexts[backend];
        if (c instanceof Error) skip(this, `${backend}: ${(c as KaioError).message}`);
        const context = c as kaio.IoContext;
        const ref = await overFull((p, d) => fsp.writeFile(p, d));
        const got = await overFull((p, d) => kaio.writeFile(p, d, { inPlace, context }));
        assert.equal(got.err.code, 'ENOSPC');
        assert.equal(got.err.syscall, 'write');
        assert.equal(ref.err.code, 'ENOSPC');
        // What reached the file: a prefix of the new data, no old byte after it.
        assert.ok(got.left.length < got.data.length);
        assert.ok(got.left.equals(got.data.subarray(0, got.left.length)));
        assert.equal(got.left.length, ref.left.length);
      });
    }

    // A buffer of at most 512 KiB (one write chunk) takes inPlace's one-frame
    // path on io_uring: 100 KiB of old bytes, 400 KiB of new, 224 KiB free.
    // The first write comes back short (what fitted), the next one ENOSPC;
    // node:fs's O_TRUNC frees the old 100 KiB first, so the same bytes fit.
    for (const backend of BACKENDS) {
      it(`${backend}, inPlace, one chunk: a short write then ENOSPC leave the prefix that fitted and reject, as node:fs`, async function () {
        if (!mounted) skip(this, `cannot mount a tmpfs here: ${why}`);
        const c = contexts[backend];
        if (c instanceof Error) skip(this, `${backend}: ${(c as KaioError).message}`);
        const context = c as kaio.IoContext;
        const data = crypto.randomBytes(400 * 1024);
        const run = async (write: (p: string) => Promise<void>): Promise<{ err?: NodeJS.ErrnoException; left: Buffer }> => {
          for (const f of fs.readdirSync(dir)) fs.rmSync(path.join(dir, f));
          fs.writeFileSync(path.join(dir, 'filler'), Buffer.alloc(700 * 1024, 0x66));
          const p = path.join(dir, 'target');
          fs.writeFileSync(p, Buffer.alloc(100 * 1024, 0x6f));
          let err: NodeJS.ErrnoException | undefined;
          await write(p).catch((e) => (err = e));
          return { err, left: fs.readFileSync(p) };
        };
        const ref = await run((p) => fsp.writeFile(p, data));
        const got = await run((p) => kaio.writeFile(p, data, { inPlace: true, context }));
        assert.equal(ref.err?.code, 'ENOSPC', 'node:fs: the data must not fit');
        assert.equal(got.err?.code, 'ENOSPC');
        assert.equal(got.err?.syscall, 'write');
        assert.equal(typeof got.err?.errno, 'number');
        assert.ok(got.left.length > 100 * 1024 && got.left.length < data.length, `${got.left.length} bytes left`);
        assert.ok(got.left.equals(data.subarray(0, got.left.length)), 'a prefix of the new data, no old byte');
        assert.equal(got.left.length, ref.left.length);
      });
    }
  });
});

describe('25 writeFile inPlace: failure paths and writers at once', function () {
  this.timeout(60000);
  const contexts = contextPerBackend();

  /** 32 writers' data: writer k writes lens[k] bytes of k + 1 (the lengths all different, in a shuffled order). */
  const N = 32;
  const lens = Array.from({ length: N }, (_, k) => 1000 + 397 * ((k * 7) % N));
  const datas = lens.map((l, k) => Buffer.alloc(l, k + 1));
  /** Whether every byte of `buf` is some writer's byte at that offset, and its length one writer's length. */
  function fromWriters(buf: Buffer): boolean {
    if (!lens.includes(buf.length)) return false;
    for (let i = 0; i < buf.length; i++) {
      const w = buf[i] - 1;
      if (w < 0 || w >= N || lens[w] <= i) return false;
    }
    return true;
  }

  for (const backend of BACKENDS) {
    it(`${backend}: 32 writeFiles of one path at once leave one writer's length and only writers' bytes, never zeros or old bytes (as node:fs)`, async function () {
      const c = contexts[backend];
      if (c instanceof Error) skip(this, `${backend}: ${(c as KaioError).message}`);
      const context = c as kaio.IoContext;
      for (let round = 0; round < 5; round++) {
        const { p, twin } = existing(Buffer.alloc(20000, 0xee));
        await Promise.all(datas.map((d) => kaio.writeFile(p, d, { context, inPlace: true })));
        await Promise.all(datas.map((d) => fsp.writeFile(twin, d)));
        const got = fs.readFileSync(p);
        // Not one whole writer's data: the writes and cuts of different
        // writers interleave (node:fs's O_TRUNC writers do too). But a cut
        // never lengthens the file: before the fix, a writer that had seen
        // the old file longer cut "to" its length after a shorter writer's
        // cut, and the bytes in between read as zeros.
        assert.ok(fromWriters(got), `round ${round}: ${got.length} bytes, first ${got.subarray(0, 4).toString('hex')}, zeros ${got.includes(0)}`);
        assert.ok(fromWriters(fs.readFileSync(twin)), 'node:fs');
      }
    });
  }

  it('every backend: under RLIMIT_FSIZE, inPlace over a longer file rejects with EFBIG and leaves exactly the prefix that fit, as node:fs', function () {
    const limit = 32 * 512; // ulimit -f counts 512-byte blocks
    const old = Buffer.alloc(64 * 1024, 0x6f); // longer than the limit and the data: made before the limit
    const base = tmpPath('efbig-inplace');
    const names = [...BACKENDS, 'node'];
    for (const n of names) fs.writeFileSync(`${base}-${n}`, old);
    const script = `
      const kaio = require(${JSON.stringify(pkgRoot)});
      const fsp = require('node:fs/promises');
      const fs = require('node:fs');
      const data = Buffer.alloc(40000);
      for (let i = 0; i < data.length; i++) data[i] = (i * 13 + (i >> 9)) & 0xff;
      (async () => {
        const out = {};
        const look = (p, e) => { const got = fs.readFileSync(p); return { err: e && e.code, syscall: e && e.syscall, size: got.length, prefix: got.equals(data.subarray(0, got.length)) }; };
        for (const backend of ${JSON.stringify(BACKENDS)}) {
          let context;
          try { context = kaio.createContext({ backend }); } catch { continue; }
          const p = process.argv[1] + '-' + backend;
          const e = await kaio.writeFile(p, data, { context, inPlace: true }).then(() => undefined, (x) => x);
          out[backend] = look(p, e);
          await context.close();
        }
        const p = process.argv[1] + '-node';
        out.node = look(p, await fsp.writeFile(p, data).then(() => undefined, (x) => x));
        process.stdout.write(JSON.stringify(out));
      })();
    `;
    const out = cp.execFileSync('sh', ['-c', `trap '' XFSZ; ulimit -f 32; exec "$0" -e "$1" "$2"`, process.execPath, script, base], { encoding: 'utf8' });
    const res = JSON.parse(out) as Record<string, { err: string; syscall: string; size: number; prefix: boolean }>;
    assert.deepStrictEqual(res.node, { err: 'EFBIG', syscall: 'write', size: limit, prefix: true });
    for (const backend of BACKENDS) {
      if (!res[backend]) continue;
      assert.deepStrictEqual(res[backend], res.node, backend);
    }
  });

  for (const backend of BACKENDS) {
    it(`${backend}: a 4 KiB writeFile over a 1 MiB file is cut to exactly 4 KiB; over an empty one it is 4 KiB`, async function () {
      const c = contexts[backend];
      if (c instanceof Error) skip(this, `${backend}: ${(c as KaioError).message}`);
      const context = c as kaio.IoContext;
      const data = crypto.randomBytes(4096);
      const { p } = existing(crypto.randomBytes(1 << 20));
      await kaio.writeFile(p, data, { context, inPlace: true });
      assert.ok(fs.readFileSync(p).equals(data));
      const empty = existing(Buffer.alloc(0));
      await kaio.writeFile(empty.p, data, { context, inPlace: true });
      assert.ok(fs.readFileSync(empty.p).equals(data));
    });
  }

  it('an abort right after the call: AbortError, and the file holds a prefix of the new data, no old byte (as node:fs: empty)', async () => {
    for (const inPlace of [true, false]) {
      const { p, twin } = existing(Buffer.alloc(100000, 0x6f));
      const data = crypto.randomBytes(2 << 20); // four 512 KiB writes
      const ac = new AbortController();
      const done = kaio.writeFile(p, data, { inPlace, signal: ac.signal });
      ac.abort();
      await assert.rejects(done, { name: 'AbortError' });
      const ref = new AbortController();
      const nodeDone = fsp.writeFile(twin, data, { signal: ref.signal });
      ref.abort();
      await assert.rejects(nodeDone, { name: 'AbortError' });
      const got = fs.readFileSync(p);
      assert.ok(got.equals(data.subarray(0, got.length)), `inPlace ${inPlace}: ${got.length} bytes`);
      assert.equal(fs.readFileSync(twin).length, 0);
    }
  });

  it('bad arguments reject (never throw in the calling turn), before anything is opened', async () => {
    const p = tmpPath('wf-bad');
    const calls: (() => Promise<void>)[] = [
      () => kaio.writeFile(p, 'x', { flush: 'yes' as unknown as boolean }),
      () => kaio.writeFile(p, 'x', { inPlace: 1 as unknown as boolean }),
      () => kaio.writeFile(p, 42 as unknown as string),
      () => kaio.writeFile(p, 'x', { flag: 'nope' }),
      () => kaio.writeFile(p, 'x', { mode: 'rwx' }),
      () => kaio.writeFile(p, 'x', 7 as unknown as null),
      () => kaio.appendFile(p, 'x', { signal: AbortSignal.abort() }),
    ];
    for (const call of calls) {
      let promise: Promise<void> | undefined;
      assert.doesNotThrow(() => (promise = call()));
      await assert.rejects(promise!, (e: KaioError) => e.name === 'AbortError' || /^ERR_/.test(String(e.code)));
    }
    assert.equal(fs.existsSync(p), false);
  });
});
