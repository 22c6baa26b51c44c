// Link chains on the ring when ops wait for room (lib/ring/staging.ts): the
// ops kaio links (mkdir -p's levels, readFile's io-wq read and its close,
// sendFile's two splices) keep the kernel's order and rules whatever the
// ring's size, an abort meanwhile, or the other ops on the ring.
import assert from 'node:assert/strict';
import cp from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import * as kaio from 'kaio';
import kfs from 'kaio/fs/promises';
import { skip, tick } from './helpers';

interface Internal {
  _mkdiratChain(paths: readonly string[], mode: number): Promise<number[]>;
  _readFileRead(fd: number, buffer: Buffer, position: number, async: boolean): Promise<number>;
  _spliceLinked(fdIn: number, offIn: number, fdOut: number, offOut: number, length: number): Promise<number>;
}

/** A pipe whose ends block (a FIFO opened read-write, then each end): a read on it stays in flight until something is written. */
function blockingPipe(dir: string, name: string): { r: number; w: number; close: () => void } {
  const p = path.join(dir, name);
  fs.rmSync(p, { force: true });
  cp.execFileSync('mkfifo', [p]);
  const keep = fs.openSync(p, fs.constants.O_RDWR);
  const r = fs.openSync(p, fs.constants.O_RDONLY);
  const w = fs.openSync(p, fs.constants.O_WRONLY);
  return { r, w, close: () => [keep, r, w].forEach((fd) => fs.closeSync(fd)) };
}

describe('13 ring link chains: kaio\'s linked ops keep the kernel\'s order and rules when they wait for room', function () {
  this.timeout(20000);
  let dir: string;
  before(function () {
    let ring: kaio.Ring;
    try {
      ring = new kaio.Ring({ entries: 2 });
    } catch (e) {
      skip(this, `io_uring is not available here: ${(e as Error).message}`);
    }
    const ok = ['MKDIRAT', 'SPLICE', 'CLOSE', 'POLL_ADD', 'OPENAT'].every((op) => ring.supports(op));
    void ring.close();
    if (!ok) skip(this, 'this kernel lacks MKDIRAT (5.15), SPLICE or CLOSE');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-13-links-'));
  });
  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a chain longer than the SQ (mkdir -p of 12 levels on rings of 1, 2 and 4 entries): every level is made, in order, and nothing hangs', async function () {
    for (const entries of [1, 2, 4]) {
      const ring = new kaio.Ring({ entries });
      try {
        const top = path.join(dir, `chain${entries}`);
        const levels = Array.from({ length: 12 }, (_, i) => path.join(top, ...Array(i).fill('d')));
        // Each level is made only after its parent: a level sent before its
        // parent's mkdir ran would fail ENOENT.
        const res = await (ring as unknown as Internal)._mkdiratChain(levels, 0o755);
        assert.deepEqual(res, levels.map(() => 0), `${entries} entries`);
        assert.ok(fs.statSync(levels[11]).isDirectory());
        assert.equal(ring.stats.queued, 0);
      } finally {
        await ring.close();
      }
    }
  });

  it('kaio/fs/promises mkdir -p of 300 missing levels (more than the default ring\'s 256 entries): resolves as node:fs, every level made', async function () {
    const mine = path.join(dir, 'deep-kaio', ...Array(300).fill('d'));
    const theirs = path.join(dir, 'deep-node', ...Array(300).fill('d'));
    const got = await kfs.mkdir(mine, { recursive: true });
    const want = await fs.promises.mkdir(theirs, { recursive: true });
    assert.equal(got, path.join(dir, 'deep-kaio'));
    assert.equal(want, path.join(dir, 'deep-node'));
    assert.ok(fs.statSync(mine).isDirectory());
  });

  it('a 1-entry ring: readFile\'s hard-linked io-wq read and its close, cut apart by the SQ, still run in order (the close waits for the read, not for any completion)', async function () {
    const ring = new kaio.Ring({ entries: 1, cqEntries: 8 });
    const other = blockingPipe(dir, 'other');
    const held = blockingPipe(dir, 'held');
    try {
      // Another op in flight, whose completion comes first.
      const first = ring.read(other.r, Buffer.alloc(1), -1);
      await tick();
      // The read (IOSQE_ASYNC | IOSQE_IO_HARDLINK) of a pipe with nothing in it yet, and the close it is linked to.
      const victim = fs.openSync(path.join(dir, 'victim'), 'w');
      const ino = fs.fstatSync(victim).ino;
      const read = (ring as unknown as Internal)._readFileRead(held.r, Buffer.alloc(4), 0, true);
      const closed = ring.closeFd(victim);
      await tick();
      fs.writeSync(other.w, 'x');
      assert.equal(await first, 1);
      await tick();
      await tick();
      // The read has not run: the close linked after it must not have either.
      assert.equal(fs.fstatSync(victim).ino, ino, 'the close ran before the read it is linked after');
      fs.writeSync(held.w, 'data');
      assert.equal(await read, 4);
      await closed;
      assert.throws(() => fs.fstatSync(victim), { code: 'EBADF' });
    } finally {
      other.close();
      held.close();
      await ring.close();
    }
  });

  it('sendFile of more than the file holds on a 1-entry ring: ERR_KAIO_FILE_TRUNCATED as on a 256-entry ring (the second splice is cancelled as its soft link says, not left waiting on an empty pipe)', async function () {
    const p = path.join(dir, 'short');
    fs.writeFileSync(p, Buffer.alloc(10000, 0x61));
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const outcome = async (entries: number): Promise<unknown[]> => {
        const ring = new kaio.Ring({ entries });
        const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
        const client = net.connect(port, '127.0.0.1');
        client.resume();
        const sock = await accepted;
        try {
          const e = await kaio.sendFile(sock, p, { length: 20000, context: ring }).then(() => undefined, (err: kaio.SendFileError) => err);
          return [e?.code, e?.bytesSent];
        } finally {
          sock.destroy();
          client.destroy();
          await ring.close();
        }
      };
      const want = await outcome(256);
      assert.deepEqual(want, ['ERR_KAIO_FILE_TRUNCATED', 10000]);
      assert.deepEqual(await outcome(1), want);
    } finally {
      server.close();
    }
  });

  it('an op aborted while it waits to join a soft-linked splice: the op started after it is not linked in its place (it runs, not ECANCELED)', async function () {
    const ring = new kaio.Ring({ entries: 4, cqEntries: 4 });
    const block = blockingPipe(dir, 'block');
    const sink = blockingPipe(dir, 'sink');
    const src = fs.openSync(path.join(dir, 'src'), 'w+');
    fs.writeSync(src, 'source');
    const out = fs.openSync(path.join(dir, 'out'), 'w+');
    try {
      // The CQ budget full (4 reads in flight): what comes next waits for room.
      const reads = Array.from({ length: 4 }, () => ring.read(block.r, Buffer.alloc(1), -1));
      await tick();
      const ac = new AbortController();
      // A splice at the file's end (0 bytes: short, so its soft link fails
      // what follows it), the splice it links to, and an unrelated write.
      const linked = (ring as unknown as Internal)._spliceLinked(src, 6, sink.w, -1, 100);
      const next = ring.splice(sink.r, -1, out, 0, 100, { signal: ac.signal });
      const write = ring.write(out, Buffer.from('written'), 0);
      assert.equal(ring.stats.queued, 3);
      ac.abort();
      await assert.rejects(next, { name: 'AbortError' });
      fs.writeSync(block.w, 'abcd');
      assert.deepEqual(await Promise.all(reads), [1, 1, 1, 1]);
      assert.equal(await linked, 0);
      assert.equal(await write, 7);
      assert.equal(fs.readFileSync(path.join(dir, 'out'), 'utf8'), 'written');
    } finally {
      block.close();
      sink.close();
      fs.closeSync(src);
      fs.closeSync(out);
      await ring.close();
    }
  });
});
