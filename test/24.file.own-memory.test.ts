// Memory kaio makes for an op and hands to nobody while the op is in flight
// (lib/own-buffer.ts) goes to the kernel as it is, with no bounce copy
// (lib/bounce.ts's counter stays put): writeFile/appendFile's and write()'s
// string data, a read stream's chunk read through the context, read()'s
// default buffer. Once handed out, such memory is the caller's like any:
// an op on it is bounced again. io_uring and AIO bounce in JS; the thread
// pool copies in native code and is not counted here.
import assert from 'node:assert';
import fs from 'node:fs';
import * as kaio from 'kaio';
import { createReadStream as kaioCreateReadStream } from 'kaio/fs/promises';
import { _bounceStats as bounceStats } from '../dist/lib/bounce';
import { contextPerBackend, skip, tmpPath } from './helpers';

const KiB = 1024;

/** A string of `n` ASCII characters that differ from one 4 KiB block to the next. */
function text(n: number, seed = 0): string {
  let s = '';
  for (let i = 0; s.length < n; i++) s += String.fromCharCode(97 + ((i + seed) % 26)).repeat(4096);
  return s.slice(0, n);
}

async function collect(s: NodeJS.ReadableStream): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for await (const c of s) out.push(c as Buffer);
  return out;
}

describe('24 memory kaio makes for its own ops is not bounced', function () {
  this.timeout(60000);
  const contexts = contextPerBackend();

  for (const backend of ['io_uring', 'aio'] as const) {
    describe(backend, () => {
      function ctx(t: Mocha.Context): kaio.IoContext {
        const c = contexts[backend];
        if (c instanceof Error) skip(t, `${backend} is not available here: ${c.message}`);
        return c;
      }

      it('writeFile/appendFile of a string (long, and short: out of Node\'s shared pool): no bounce, the bytes on disk', async function () {
        const context = ctx(this);
        const p = tmpPath('own-writefile');
        const long = text(200 * KiB);
        const before = bounceStats().taken;
        await kaio.writeFile(p, long, { context });
        await kaio.appendFile(p, 'short tail', { context });
        await kaio.appendFile(p, Buffer.from('é', 'utf8').toString('latin1'), { context, encoding: 'latin1' });
        assert.equal(bounceStats().taken, before, 'string data kaio encoded went to the kernel as it is');
        assert.ok(fs.readFileSync(p, 'latin1') === Buffer.from(long + 'short tail', 'utf8').toString('latin1') + Buffer.from('é', 'utf8').toString('latin1'), 'the bytes on disk');
        // Caller memory still is bounced (the counter counts).
        await kaio.writeFile(p, Buffer.from('caller bytes'), { context });
        assert.equal(bounceStats().taken, before + 1);
        assert.equal(fs.readFileSync(p, 'utf8'), 'caller bytes');
      });

      it('FileHandle write(string), writeFile(string) and writeFile(iterable of strings): no bounce, the bytes on disk', async function () {
        const context = ctx(this);
        const p = tmpPath('own-handle-write');
        const fh = await kaio.open(p, 'w+', 0o666, { context });
        try {
          const before = bounceStats().taken;
          assert.equal((await fh.write('hello ', null, 'utf8')).bytesWritten, 6);
          assert.equal((await fh.write('6869', null, 'hex')).bytesWritten, 2);
          await fh.writeFile(text(70 * KiB, 3));
          await fh.writeFile(['x', text(9 * KiB, 5), 'y']);
          assert.equal(bounceStats().taken, before);
        } finally {
          await fh.close();
        }
        assert.ok(fs.readFileSync(p, 'utf8') === 'hello hi' + text(70 * KiB, 3) + 'x' + text(9 * KiB, 5) + 'y', 'the bytes on disk');
      });

      it('read() without a buffer: no bounce; the 16 KiB Buffer it returns is the caller\'s afterwards (an op on it is bounced)', async function () {
        const context = ctx(this);
        const p = tmpPath('own-read');
        fs.writeFileSync(p, 'sixteen');
        const fh = await kaio.open(p, 'r+', 0o666, { context });
        try {
          const before = bounceStats().taken;
          const { bytesRead, buffer } = await fh.read();
          assert.equal(bytesRead, 7);
          assert.equal(buffer.length, 16384);
          assert.equal(buffer.subarray(0, 7).toString(), 'sixteen');
          assert.ok(buffer.subarray(7).every((b) => b === 0), 'zeros past the data, as Node');
          assert.equal(bounceStats().taken, before);
          // (Through the context: fh.read() of a cached file would go straight into it, see 24.file.nowait-direct.)
          assert.equal(await context.read(fh.fd, buffer.subarray(0, 3), 0), 3);
          assert.equal(bounceStats().taken, before + 1, 'handed out: the caller\'s memory now');
        } finally {
          await fh.close();
        }
      });

      it('a read stream\'s chunks through the context land in kaio\'s memory (no bounce), and are the file\'s bytes', async function () {
        const context = ctx(this);
        const p = tmpPath('own-stream');
        const data = Buffer.from(text(200 * KiB, 7));
        fs.writeFileSync(p, data);
        const before = bounceStats().taken;
        const fh = await kaio.open(p, 'r', 0o666, { context });
        const viaHandle = await collect(fh.createReadStream());
        const viaPath = await collect(kaioCreateReadStream(p, { context }));
        const small = tmpPath('own-stream-small');
        fs.writeFileSync(small, 'a small file, one short chunk');
        const short = await collect(kaioCreateReadStream(small, { context }));
        assert.equal(bounceStats().taken, before, 'no chunk was bounced');
        assert.ok(Buffer.concat(viaHandle).equals(data));
        assert.ok(Buffer.concat(viaPath).equals(data));
        assert.deepStrictEqual(viaHandle.map((c) => c.length), [65536, 65536, 65536, 8192]);
        assert.equal(Buffer.concat(short).toString(), 'a small file, one short chunk');
        // A chunk handed out is the caller's: an op on it is bounced.
        const wfd = fs.openSync(tmpPath('own-stream-out'), 'w');
        try {
          await context.write(wfd, viaHandle[0], 0);
          assert.equal(bounceStats().taken, before + 1);
        } finally {
          fs.closeSync(wfd);
        }
      });
    });
  }
});
