// The context closing under readFile and copyFile (kaio.defaultContext().close(),
// or the Ring given as `context`): the ops not yet started reject with
// ERR_KAIO_CLOSED, and every fd kaio opened for them is still closed (through
// node:fs once the ring refuses its close op), and a failed copy leaves no
// destination. The old code leaked every such fd (readFile: the file's fd of
// each call; copyFile: the source's, the destination's and the pipe's) and
// left the destination of a failed copy behind.
import assert from 'node:assert';
import fs from 'node:fs';
import * as kaio from 'kaio';
import { copyFileRing } from '../dist/lib/fs/copy';
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

describe('29 readFile and copyFile when their Ring closes under them: no fd left open, no destination left', function () {
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

  it('copyFile of 32 MiB (by splice), the Ring closed after 0-6 turns: a failed copy leaves no destination, and no fd of either file nor a pipe stays open', async () => {
    const src = tmpPath('closed-copy-src');
    fs.writeFileSync(src, Buffer.alloc(32 << 20, 0x33));
    for (let wait = 0; wait <= 6; wait++) {
      const dest = tmpPath(`closed-copy-dest-${wait}`);
      const pipes = count(openTargets(), (t) => t.startsWith('pipe:'));
      const ring = new kaio.Ring();
      const copy = copyFileRing(ring, src, dest, false).then(() => 'ok', (e: { code?: string }) => e.code);
      await turns(wait);
      const closing = ring.close();
      const got = await copy;
      await closing;
      assert.ok(got === 'ok' || got === 'ERR_KAIO_CLOSED', `after ${wait} turns: ${String(got)}`);
      const targets = openTargets();
      assert.strictEqual(count(targets, (t) => t === src || t === dest), 0, `after ${wait} turns (${String(got)}): fds of the files left open`);
      assert.strictEqual(count(targets, (t) => t.startsWith('pipe:')), pipes, `after ${wait} turns (${String(got)}): pipe fds left open`);
      if (got === 'ok') assert.deepStrictEqual(fs.readFileSync(dest), fs.readFileSync(src));
      else assert.strictEqual(fs.existsSync(dest), false, `after ${wait} turns: the failed copy left ${dest}`);
    }
  });
});
