// FileHandle writev/readv of more buffers than one writev(2)/readv(2) takes
// (IOV_MAX, 1024), as node:fs/promises' (libuv's): a writev writes all of
// them (in several writevs, each going on from where the last stopped); a
// readv reads into the first 1024 (one readv: a short read). kaio refused
// both with ERR_OUT_OF_RANGE.
import assert from 'node:assert';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import * as kaio from 'kaio';
import { BACKENDS, skip, tmpPath } from './helpers';

function buffers(n: number, seed: number): Buffer[] {
  return Array.from({ length: n }, (_, i) => Buffer.alloc(1 + ((i * 7 + seed) % 13), (i + seed) & 0xff));
}

interface Vectored {
  writev(b: Buffer[], position?: number | null): Promise<{ bytesWritten: number }>;
  readv(b: Buffer[], position?: number | null): Promise<{ bytesRead: number }>;
  write(b: Buffer, offset?: number, length?: number, position?: number | null): Promise<{ bytesWritten: number }>;
}

/** The same calls, one after another, on a handle: what each returned and what each readv filled. */
async function calls(fh: Vectored): Promise<unknown[]> {
  const out: unknown[] = [];
  out.push((await fh.writev(buffers(2000, 1), null)).bytesWritten);
  out.push((await fh.write(Buffer.from('|'), 0, 1, null)).bytesWritten);
  out.push((await fh.writev(buffers(1025, 2), null)).bytesWritten);
  out.push((await fh.writev(buffers(3000, 3), 5)).bytesWritten);
  const into = buffers(1500, 4).map((b) => Buffer.alloc(b.length));
  out.push((await fh.readv(into, 3)).bytesRead);
  out.push(Buffer.concat(into).toString('hex'));
  return out;
}

describe('22 FileHandle writev/readv of more than IOV_MAX buffers, as node:fs', function () {
  this.timeout(60000);

  for (const backend of BACKENDS) for (const direct of [false, true]) {
    it(`${backend}${direct ? ', { direct: true }' : ''}: writev of 2000/1025/3000 buffers writes them all, readv of 1500 reads into the first 1024; the results and the file are node:fs's`, async function () {
      let context: kaio.IoContext;
      try {
        context = kaio.createContext({ backend });
      } catch (e) {
        skip(this, `${backend} is not available here: ${(e as Error).message}`);
      }
      const p = tmpPath(`iovmax-${backend}`);
      const ref = `${p}.node`;
      let got: unknown[];
      let fh: kaio.FileHandle;
      try {
        fh = await kaio.open(p, 'w+', 0o644, { context, direct });
      } catch (e) {
        await context.close();
        skip(this, `O_DIRECT is not available here: ${(e as Error).message}`);
      }
      try {
        got = await calls(fh as unknown as Vectored);
      } finally {
        await fh.close();
        await context.close();
      }
      const nfh = await fsp.open(ref, 'w+');
      let want: unknown[];
      try {
        want = await calls(nfh as unknown as Vectored);
      } finally {
        await nfh.close();
      }
      assert.deepStrictEqual(got, want);
      assert.deepStrictEqual(fs.readFileSync(p), fs.readFileSync(ref));
    });
  }
});
