// The context closing under readFile (kaio.defaultContext().close(), or the
// Ring given as `context`): the ops not yet started reject with
// ERR_KAIO_CLOSED, and every fd kaio opened for them is still closed (through
// node:fs once the ring refuses its close op). The old code leaked the file's
// fd of each such call. (copyFile, whose ring path leaked its fds and left a
// failed copy's destination the same way, is now one native step on libuv's
// pool, with no Ring to close under it.)
import assert from 'node:assert';
import fs from 'node:fs';
import * as kaio from 'kaio';
import { skip, tmpPath } from './helpers';

/** What this process's fds point at now (an fd gone between listing and readlink is left out). */
function openTargets(): string[] {
  const out: string[] = [];
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      out.push(fs.readlinkSync(`/proc/self/fd/${fd}`));
    } catch {
      // the listing's own fd, or one closed meanwhile
    }
  }
  return out;
}

const count = (targets: string[], pred: (t: string) => boolean): number => targets.filter(pred).length;

async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
}

describe('29 readFile when its Ring closes under it: no fd left open', function () {
  this.timeout(120000);

  before(function () {
    const ring = new kaio.Ring({ entries: 4 });
    const ok = ring.supports('OPENAT') && ring.supports('STATX') && ring.supports('CLOSE');
    void ring.close();
    if (!ok) skip(this, 'the ring has no OPENAT/STATX/CLOSE');
  });

  for (const [what, size] of [['100 KiB', 100 << 10], ['8 MiB', 8 << 20]] as const) {
    it(`readFile of ${what}, 8 at once, the Ring closed after 0-4 turns: each resolves the file or rejects ERR_KAIO_CLOSED, and no fd of the file stays open`, async () => {
      const p = tmpPath(`closed-read-${size}`);
      fs.writeFileSync(p, Buffer.alloc(size, 0x5a));
      for (let wait = 0; wait <= 4; wait++) {
        const ring = new kaio.Ring();
        const reads = Array.from({ length: 8 }, () => kaio.readFile(p, { context: ring }).then((b) => b.length, (e: { code?: string }) => e.code));
        await turns(wait);
        const closing = ring.close();
        const got = await Promise.all(reads);
        await closing;
        for (const g of got) assert.ok(g === size || g === 'ERR_KAIO_CLOSED', `after ${wait} turns: ${String(g)}`);
        assert.strictEqual(count(openTargets(), (t) => t === p), 0, `after ${wait} turns: fds of ${p} left open (${got.join(',')})`);
      }
    });
  }
  // (copyFile no longer runs on a Ring: one native step on libuv's pool, lib/fs/copy.ts.)
});
