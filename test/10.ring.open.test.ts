import assert from 'node:assert/strict';
import fs from 'node:fs';
import { Ring, probe } from 'kaio';
import { tmpPath } from './helpers';

describe('10 Ring: setup, params and close', () => {
  it('sets up with defaults and reports what the kernel granted', async () => {
    const ring = new Ring();
    const p = ring.params;
    assert.equal(p.sqEntries, 256);
    assert.ok(p.cqEntries >= 512);
    assert.ok(p.features.includes('NODROP'));
    assert.equal(ring.backend, 'io_uring');
    assert.ok(ring.supports('NOP'));
    assert.ok(ring.supports('IORING_OP_READ'));
    assert.equal(ring.supports('NOT_AN_OP'), false);
    await ring.close();
  });

  it('turns on COOP_TASKRUN and SINGLE_ISSUER where the kernel accepts them, and can leave them off', async () => {
    const on = new Ring({ entries: 4 });
    const off = new Ring({ entries: 4, coopTaskrun: false, singleIssuer: false });
    const p = probe();
    if (p.ioUring.setupFlags.includes('SINGLE_ISSUER')) assert.ok(on.params.setupFlags.includes('SINGLE_ISSUER'));
    assert.ok(!off.params.setupFlags.includes('SINGLE_ISSUER'));
    assert.ok(!off.params.setupFlags.includes('COOP_TASKRUN'));
    await on.nop();
    await off.nop();
    await Promise.all([on.close(), off.close()]);
  });

  it('honours entries and cqEntries', async () => {
    const ring = new Ring({ entries: 5, cqEntries: 64 });
    assert.equal(ring.params.sqEntries, 8); // rounded up to a power of two
    assert.equal(ring.params.cqEntries, 64);
    await ring.close();
  });

  it('rejects bad options before the kernel sees them', () => {
    assert.throws(() => new Ring({ entries: 0 }), { code: 'ERR_OUT_OF_RANGE', name: 'RangeError' });
    assert.throws(() => new Ring({ entries: 1.5 }), { code: 'ERR_OUT_OF_RANGE' });
    assert.throws(() => new Ring({ entries: 65536 }), { code: 'ERR_OUT_OF_RANGE' });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => new Ring({ entries: '8' }), { code: 'ERR_INVALID_ARG_TYPE', name: 'TypeError' });
    assert.throws(() => new Ring({ entries: 64, cqEntries: 8 }), { code: 'ERR_OUT_OF_RANGE' });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => new Ring({ sqpoll: 1 }), { code: 'ERR_INVALID_ARG_TYPE' });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => new Ring({ entires: 8 }), { code: 'ERR_INVALID_ARG_VALUE', message: /did you mean|known options/ });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => new Ring({ Entries: 8 }), { message: /did you mean "entries"/ });
    // @ts-expect-error bad input on purpose: a JS caller gets a runtime error
    assert.throws(() => new Ring(null), { code: 'ERR_INVALID_ARG_TYPE' });
  });

  it('ring fds are close-on-exec and closed by close()', async () => {
    const ringFds = () =>
      fs.readdirSync('/proc/self/fd').filter((fd) => {
        try {
          return fs.readlinkSync(`/proc/self/fd/${fd}`) === 'anon_inode:[io_uring]';
        } catch {
          return false;
        }
      });
    const before = new Set(ringFds());
    const ring = new Ring({ entries: 4 });
    const fresh = ringFds().filter((fd) => !before.has(fd));
    assert.equal(fresh.length, 1);
    const info = fs.readFileSync(`/proc/self/fdinfo/${fresh[0]}`, 'utf8');
    const flags = parseInt(/^flags:\s+(\d+)/m.exec(info)![1], 8);
    assert.ok(flags & 0o2000000, 'O_CLOEXEC set');
    await ring.close();
    assert.ok(!ringFds().includes(fresh[0]), 'ring fd closed after close()');
  });

  it('close() is idempotent, waits for ops in flight, and then rejects new ones', async () => {
    const ring = new Ring({ entries: 4 });
    const p = tmpPath();
    fs.writeFileSync(p, Buffer.alloc(65536, 7));
    const fd = fs.openSync(p, 'r');
    const bufs = Array.from({ length: 64 }, () => Buffer.alloc(1024));
    const reads = bufs.map((b, i) => ring.read(fd, b, i * 1024));
    const c1 = ring.close();
    const c2 = ring.close();
    assert.equal(c1, c2);
    assert.ok(ring.closed);
    const results = await Promise.all(reads); // all in-flight/queued ops finish
    assert.deepEqual(results, bufs.map(() => 1024));
    await c1;
    await assert.rejects(ring.nop(), { code: 'ERR_KAIO_CLOSED', message: /closed/ });
    await assert.rejects(ring.read(fd, bufs[0], 0), { code: 'ERR_KAIO_CLOSED' });
    fs.closeSync(fd);
  });

  it('supports await using (Symbol.asyncDispose)', async () => {
    const ring = new Ring({ entries: 4 });
    assert.equal(typeof ring[Symbol.asyncDispose], 'function');
    await ring[Symbol.asyncDispose]();
    assert.ok(ring.closed);
  });
});
