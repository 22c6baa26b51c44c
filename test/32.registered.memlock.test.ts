// Memlock accounting, seen by an unprivileged process: children run as
// another user without CAP_IPC_LOCK and with RLIMIT_MEMLOCK = 8 MiB.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';

import { packageForAnyUser } from './helpers';

const pkg = packageForAnyUser();
const MiB = 1024 * 1024;
const NOBODY = 65534;

// A directory the child users can read and write.
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-memlock-'));
fs.chmodSync(dir, 0o777);
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

// The child prelude: load kaio, print one JSON line with the outcome.
const prelude = `
const kaio = require(${JSON.stringify(pkg)});
const fs = require('node:fs');
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const errOf = (e) => ({ code: e.code, errno: e.errno, syscall: e.syscall, message: e.message, bytes: e.bytes, limit: e.limit });
`;

function runAs(uid: number, script: string, memlockKiB = 8192) {
  const r = spawnSync('/bin/sh', ['-c', `ulimit -l ${memlockKiB} && exec "$0" -e "$1"`, process.execPath, prelude + script], {
    uid,
    gid: uid,
    cwd: dir,
    encoding: 'utf8',
    timeout: 20000,
  });
  assert.equal(r.status, 0, `child failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

describe('32 registered buffers: RLIMIT_MEMLOCK, unprivileged', function () {
  before(function () {
    if (process.getuid!() !== 0) this.skip();
 // needs root to start children as another user
  });

  it('runs the children without CAP_IPC_LOCK and with an 8 MiB limit', () => {
    const r = runAs(NOBODY, `const p = kaio.probe(); out({ cap: p.capIpcLock, soft: p.memlock.soft });`);
    assert.deepEqual(r, { cap: false, soft: 8 * MiB });
  });

  it('asking for 64 MiB throws ENOMEM with the bytes asked, the limit and how to raise it', () => {
    const r = runAs(
      NOBODY,
      `const ring = new kaio.Ring({ entries: 4 });
       const before = kaio.probe().memlock.pinnedBytes;
       try { ring.registerBuffers({ count: 64, size: 1024 * 1024 }); out({ ok: true }); }
       catch (e) { out({ ...errOf(e), pinnedAfter: kaio.probe().memlock.pinnedBytes - before }); }`,
    );
    assert.equal(r.code, 'ENOMEM');
    assert.equal(r.errno, -os.constants.errno.ENOMEM);
    assert.equal(r.syscall, 'io_uring_register');
    assert.equal(r.bytes, 64 * MiB);
    assert.equal(r.limit, 8 * MiB);
    assert.match(r.message, /^ENOMEM: /);
    assert.match(r.message, /64 MiB \(67108864 bytes\)/);
    assert.match(r.message, /RLIMIT_MEMLOCK allows 8 MiB \(8388608 bytes\)/);
    assert.match(r.message, /ulimit -l/);
    assert.match(r.message, /LimitMEMLOCK=/);
    assert.match(r.message, /docker run --ulimit memlock=/);
    assert.match(r.message, /fallback: true/);
    assert.equal(r.pinnedAfter, 0, 'nothing stays pinned');
  });

  it('with fallback: true the pool is unregistered, aligned, and reads and writes correctly', () => {
    const r = runAs(
      NOBODY,
      `(async () => {
         const ring = new kaio.Ring({ entries: 16 });
         const pool = ring.registerBuffers({ count: 64, size: 1024 * 1024, fallback: true });
         const data = require('node:crypto').randomBytes(4 * 1024 * 1024);
         fs.writeFileSync('fallback.bin', data);
         const fd = fs.openSync('fallback.bin', 'r+');
         const reads = await Promise.all(pool.buffers.slice(0, 4).map((b, i) => ring.read(fd, b, i * b.length)));
         const readOk = pool.buffers.slice(0, 4).every((b, i) => b.equals(data.subarray(i * b.length, (i + 1) * b.length)));
         pool.buffers[10].fill(0x42, 0, 8192);
         const wrote = await ring.write(fd, pool.buffers[10].subarray(0, 8192), 4096);
         const file = fs.readFileSync('fallback.bin');
         const writeOk = file.subarray(4096, 4096 + 8192).every((x) => x === 0x42) && file.subarray(0, 4096).equals(data.subarray(0, 4096));
         const direct = fs.openSync('fallback.bin', fs.constants.O_RDONLY | fs.constants.O_DIRECT);
         const directRead = await ring.read(direct, pool.buffers[20].subarray(0, 4096), 0);
         const res = { registered: pool.registered, pinning: pool.pinning, pinError: pool.pinError && pool.pinError.code,
           reads, readOk, wrote, writeOk, directRead, fixedOps: ring.stats.fixedOps, pinned: kaio.probe().memlock.pinnedBytes };
         await ring.close();
         out({ ...res, releasedWithRing: pool.released });
       })();`,
    );
    assert.equal(r.registered, false);
    assert.equal(r.pinning, 'none');
    assert.equal(r.pinError, 'ENOMEM');
    assert.deepEqual(r.reads, [MiB, MiB, MiB, MiB]);
    assert.ok(r.readOk);
    assert.equal(r.wrote, 8192);
    assert.ok(r.writeOk);
    assert.equal(r.directRead, 4096, 'pool memory is aligned for O_DIRECT');
    assert.equal(r.fixedOps, 0);
    assert.equal(r.pinned, 0);
    assert.equal(r.releasedWithRing, true);
  });

  it('within the limit the pool is registered, and the pages are back after release', () => {
    const r = runAs(
      NOBODY,
      `(async () => {
         const ring = new kaio.Ring({ entries: 4 });
         const base = kaio.probe().memlock.pinnedBytes;
         const pool = ring.registerBuffers({ count: 4, size: 1024 * 1024 });
         const during = kaio.probe().memlock.pinnedBytes - base;
         let second;
         try { ring.registerBuffers({ count: 5, size: 1024 * 1024 }); } catch (e) { second = errOf(e); }
         await pool.release();
         // Before Linux 6.4 the kernel unpins from delayed work, about a second later.
         let after = kaio.probe().memlock.pinnedBytes - base;
         for (let i = 0; i < 250 && after !== 0; i++) {
           await new Promise((resolve) => setTimeout(resolve, 20));
           after = kaio.probe().memlock.pinnedBytes - base;
         }
         await ring.close();
         out({ registered: pool.registered, during, after, second });
       })();`,
    );
    assert.equal(r.registered, true);
    assert.equal(r.during, 4 * MiB);
    assert.equal(r.after, 0);
    // 4 MiB pinned + 5 MiB asked > 8 MiB: refused before pinning, counting what is pinned.
    assert.equal(r.second.code, 'ENOMEM');
    assert.match(r.second.message, /5 MiB .* 8 MiB .*4 MiB \(4194304 bytes\) pinned or locked already/);
  });

  it('reports the kernel refusing when other processes of the user hold the pins', async () => {
    // A uid no one else uses, so the user's pinned total is only ours.
    const uid = 40000 + (process.pid % 20000);
    const holder = spawn(
      '/bin/sh',
      [
        '-c',
        'ulimit -l 8192 && exec "$0" -e "$1"',
        process.execPath,
        `${prelude}
         const ring = new kaio.Ring({ entries: 4 });
         const pool = ring.registerBuffers({ count: 6, size: 1024 * 1024 });
         out({ registered: pool.registered });
         process.stdin.on('data', () => {}); process.stdin.on('end', () => process.exit(0));`,
      ],
      { uid, gid: uid, cwd: dir, stdio: ['pipe', 'pipe', 'inherit'] },
    );
    const exited = once(holder, 'exit');
    let end: unknown[];
    try {
      const line = await Promise.race([
        once(holder.stdout, 'data').then(([d]) => String(d)),
        exited.then(([code, signal]) => { throw new Error(`the holder ended first: ${code ?? signal}`); }),
      ]);
      assert.deepEqual(JSON.parse(line), { registered: true });
      const r = runAs(
        uid,
        `const ring = new kaio.Ring({ entries: 4 });
         try { ring.registerBuffers({ count: 6, size: 1024 * 1024 }); out({ ok: true }); } catch (e) { out(errOf(e)); }`,
      );
      assert.equal(r.code, 'ENOMEM');
      assert.equal(r.syscall, 'io_uring_register');
      assert.match(r.message, /kernel refused.*every process of this user/);
      assert.match(r.message, /6 MiB \(6291456 bytes\)/);
    } finally {
      holder.stdin.end();
      end = await exited;
    }
    assert.deepEqual(end, [0, null], 'the holder exits 0 when its stdin ends');
  });

  it('mlock pools (the AIO backend) get the same accounting and error, syscall mlock', () => {
    const r = runAs(
      NOBODY,
      `(async () => {
         const { createPool, mlockPinner } = require(${JSON.stringify(path.join(pkg, 'dist/lib/pool'))});
         let big;
         try { createPool({ count: 64, size: 1024 * 1024 }, mlockPinner()); } catch (e) { big = errOf(e); }
         const pool = createPool({ count: 2, size: 1024 * 1024 }, mlockPinner());
         const during = kaio.probe().memlock.mlockedBytes;
         await pool.release();
         const fb = createPool({ count: 64, size: 1024 * 1024, fallback: true }, mlockPinner());
         out({ big, registered: pool.registered, pinning: pool.pinning, during,
               after: kaio.probe().memlock.mlockedBytes, fallback: fb.registered });
       })();`,
    );
    assert.equal(r.big.code, 'ENOMEM');
    assert.equal(r.big.syscall, 'mlock');
    assert.match(r.big.message, /cannot lock 64 MiB.*8 MiB/);
    assert.equal(r.registered, true);
    assert.equal(r.pinning, 'mlock');
    assert.equal(r.during, 2 * MiB);
    assert.equal(r.after, 0);
    assert.equal(r.fallback, false);
  });
});
