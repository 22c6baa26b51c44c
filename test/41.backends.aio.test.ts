// What is particular to the AIO and thread-pool contexts: completion reaping,
// the eventfd, fs.aio-max-nr, options.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import { spawnSync } from 'node:child_process';
import { AioContext, ThreadpoolContext, probe } from 'kaio';
import { randomFile, tmpPath, directSupported, fixture, pkgRoot, skip } from './helpers';

const PAGE = 4096;
function aligned(size: number) {
  return Buffer.from(new WebAssembly.Memory({ initial: Math.ceil(size / 65536) || 1 }).buffer, 0, size);
}
function eventfds() {
  return fs.readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:[eventfd]';
    } catch {
      return false;
    }
  });
}

describe('41 AioContext', function () {
  before(function () {
    if (!probe().aio.available) this.skip(); // io_setup refused here (see probe().aio.error)
  });

  it('reaps from the user-space ring by default: no io_getevents calls', async () => {
    const ctx = new AioContext({ entries: 16 });
    assert.deepEqual(ctx.params, { entries: 16, userspaceReap: true });
    const { path, data } = randomFile(64 * 1024);
    const fd = fs.openSync(path, 'r');
    const bufs = Array.from({ length: 64 }, () => Buffer.alloc(1024));
    await Promise.all(bufs.map((b, i) => ctx.read(fd, b, i * 1024)));
    assert.ok(Buffer.concat(bufs).equals(data));
    const s = ctx.stats;
    assert.equal(s.geteventsCalls, 0);
    assert.ok(s.submitCalls > 0 && s.submitCalls <= 64, `batched io_submit: ${s.submitCalls} calls`);
    assert.equal(s.completed, 64);
    await ctx.close();
    fs.closeSync(fd);
  });

  it('reaps with io_getevents when asked to', async () => {
    const ctx = new AioContext({ entries: 8, userspaceReap: false });
    assert.equal(ctx.params.userspaceReap, false);
    const { path, data } = randomFile(32 * 1024);
    const fd = fs.openSync(path, 'r');
    const bufs = Array.from({ length: 32 }, () => Buffer.alloc(1024));
    await Promise.all(bufs.map((b, i) => ctx.read(fd, b, i * 1024)));
    assert.ok(Buffer.concat(bufs).equals(data));
    assert.ok(ctx.stats.geteventsCalls > 0);
    await ctx.close();
    fs.closeSync(fd);
  });

  it('O_DIRECT: many more ops than the context holds, completed through the eventfd', async function () {
    if (!directSupported()) this.skip(); // the temp dir's filesystem refuses O_DIRECT
    const ctx = new AioContext({ entries: 4 });
    const { path, data } = randomFile(256 * PAGE);
    const fd = fs.openSync(path, fs.constants.O_RDONLY | fs.constants.O_DIRECT);
    const mem = aligned(256 * PAGE);
    const reads = [];
    for (let i = 0; i < 256; i++) reads.push(ctx.read(fd, mem.subarray(i * PAGE, (i + 1) * PAGE), i * PAGE));
    assert.ok(ctx.stats.queued >= 250);
    assert.deepEqual(await Promise.all(reads), reads.map(() => PAGE));
    assert.ok(mem.equals(data));
    await ctx.close();
    fs.closeSync(fd);
  });

  it('its eventfd is close-on-exec and closed by close()', async () => {
    const before = new Set(eventfds());
    const ctx = new AioContext({ entries: 2 });
    const fresh = eventfds().filter((fd) => !before.has(fd));
    assert.equal(fresh.length, 1);
    const flags = parseInt(/^flags:\s+(\d+)/m.exec(fs.readFileSync(`/proc/self/fdinfo/${fresh[0]}`, 'utf8'))![1], 8);
    assert.ok(flags & 0o2000000, 'O_CLOEXEC');
    await ctx.close();
    assert.ok(!eventfds().includes(fresh[0]));
  });

  it('contexts closed one after another leave room in fs.aio-max-nr for the next (io_destroy runs off the event loop)', async function () {
    // Each context takes a quarter of the system-wide limit, and 24 are made
    // in turn: a close must give its share back before a later io_setup
    // needs it, although the kernel's teardown now finishes on another thread.
    const max = Number(fs.readFileSync('/proc/sys/fs/aio-max-nr', 'utf8'));
    const used = Number(fs.readFileSync('/proc/sys/fs/aio-nr', 'utf8'));
    const entries = Math.min(Math.floor(max / 8), 4096);
    if (used + 4 * entries > max) skip(this, `fs.aio-nr is ${used} of ${max}: other processes hold the room this test needs`);
    const { path, data } = randomFile(4096);
    const fd = fs.openSync(path, 'r');
    try {
      for (let i = 0; i < 24; i++) {
        const ctx = new AioContext({ entries });
        const buf = Buffer.alloc(4096);
        assert.equal(await ctx.read(fd, buf, 0), 4096);
        assert.deepEqual(buf, data);
        await ctx.close();
      }
    } finally {
      fs.closeSync(fd);
    }
  });

  it('io_setup → EAGAIN (fs.aio-max-nr reached) fails with an error that names the limit', function () {
    // The limit is system-wide: filling it for real would make every other
    // process's io_setup fail meanwhile. A seccomp filter in one child makes
    // only that child's io_setup return EAGAIN, as a full fs.aio-max-nr does.
    const script = `
      const { AioContext } = require(${JSON.stringify(pkgRoot)});
      let out = { made: true };
      try { void new AioContext({ entries: 8 }).close(); }
      catch (e) { out = { code: e.code, errno: e.errno, syscall: e.syscall, message: e.message }; }
      process.stdout.write(JSON.stringify(out));`;
    const r = spawnSync('python3', [fixture('seccomp-exec.py'), 'io_setup:EAGAIN', '--', process.execPath, '-e', script], {
      encoding: 'utf8',
      timeout: 30_000,
    });
    if (r.error || r.status === 77) skip(this, `no python3 or no seccomp here: ${r.error?.message ?? r.stderr.trim()}`);
    assert.equal(r.status, 0, r.stderr);
    const err = JSON.parse(r.stdout);
    assert.equal(err.code, 'EAGAIN');
    assert.equal(err.errno, -os.constants.errno.EAGAIN);
    assert.equal(err.syscall, 'io_setup');
    assert.match(err.message, /io_setup\(8\) would exceed fs\.aio-max-nr \(\d+; \d+ events already in use/);
    assert.match(err.message, /sysctl -w fs\.aio-max-nr=/);
  });

  it('rejects bad options', () => {
    assert.throws(() => new AioContext({ entries: 0 }), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => new AioContext({ entries: 65537 }), { code: 'ERR_OUT_OF_RANGE' });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => new AioContext({ entries: '8' }), { code: 'ERR_INVALID_ARG_TYPE' });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => new AioContext({ userspaceReap: 1 }), { code: 'ERR_INVALID_ARG_TYPE' });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => new AioContext({ Entries: 8 }), { code: 'ERR_INVALID_ARG_VALUE', message: /did you mean "entries"/ });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => new AioContext(null), { code: 'ERR_INVALID_ARG_TYPE' });
  });
});

describe('41 ThreadpoolContext', () => {
  it('writes at the file position for position -1 (O_APPEND too)', async () => {
    const ctx = new ThreadpoolContext({ entries: 2 });
    const path = tmpPath('append');
    fs.writeFileSync(path, 'abc');
    const fd = fs.openSync(path, 'a');
    assert.equal(await ctx.write(fd, Buffer.from('def')), 3);
    assert.equal(await ctx.writev(fd, [Buffer.from('g'), Buffer.from('h')], -1), 2);
    assert.equal(fs.readFileSync(path, 'utf8'), 'abcdefgh');
    fs.closeSync(fd);
    await ctx.close();
  });

  it('holds at most `entries` ops on libuv\'s pool; the rest wait in its queue', async () => {
    const ctx = new ThreadpoolContext({ entries: 2 });
    const { path } = randomFile(64 * 1024);
    const fd = fs.openSync(path, 'r');
    const reads = Array.from({ length: 64 }, (_, i) => ctx.read(fd, Buffer.alloc(1024), i * 1024));
    assert.equal(ctx.stats.inFlight, 2);
    assert.equal(ctx.stats.queued, 62);
    await Promise.all(reads);
    assert.equal(ctx.stats.completed, 64);
    fs.closeSync(fd);
    await ctx.close();
  });

  it('rejects bad options', () => {
    assert.throws(() => new ThreadpoolContext({ entries: 0 }), { code: 'ERR_OUT_OF_RANGE' });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => new ThreadpoolContext({ userspaceReap: true }), { code: 'ERR_INVALID_ARG_VALUE' });
  });
});
