// The FileHandle surface's declared types follow Node's overloads: what
// `import ... from 'kaio'` sees (checked by tsc -b in `npm test`), each beside
// a runtime check that the call gives what the type says.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import type { ReadStream, WriteStream, BigIntStats, Stats } from 'node:fs';
import type { Interface } from 'node:readline';
import { expectTypeOf } from 'expect-type';
import { open, readFile, writeFile, appendFile, FileHandle, File, type ReadResult, type WriteResult } from 'kaio';
import { tmpPath } from './helpers';

describe('21 FileHandle types (checked by tsc; values checked here)', () => {
  it('readFile: a string with an encoding, a Buffer without', async () => {
    const p = tmpPath('types');
    await writeFile(p, 'abc');
    await appendFile(p, Buffer.from('d'));
    const s = await readFile(p, 'utf8');
    expectTypeOf(s).toEqualTypeOf<string>();
    assert.equal(s, 'abcd');
    const b = await readFile(p);
    expectTypeOf(b).toEqualTypeOf<Buffer>();
    assert.ok(Buffer.isBuffer(b));
    expectTypeOf(readFile(p, { encoding: 'base64' })).resolves.toEqualTypeOf<string>();
    expectTypeOf(readFile(p, { flag: 'r' })).resolves.toEqualTypeOf<Buffer>();
    expectTypeOf(writeFile).returns.resolves.toEqualTypeOf<void>();

    const fh = await open(p, 'r+');
    expectTypeOf(fh).toEqualTypeOf<FileHandle>();
    expectTypeOf<File>().toEqualTypeOf<FileHandle>();
    // A handle's readFile reads from its position: the first takes it all.
    const t = await fh.readFile('utf8');
    expectTypeOf(t).toEqualTypeOf<string>();
    assert.equal(t, 'abcd');
    const rest = await fh.readFile();
    expectTypeOf(rest).toEqualTypeOf<Buffer>();
    assert.equal(rest.length, 0);
    expectTypeOf(fh.readFile({ encoding: 'utf8' })).resolves.toEqualTypeOf<string>();
    expectTypeOf(readFile(fh, 'utf8')).resolves.toEqualTypeOf<string>();
    await fh.close();
  });

  it('read, write, stat, streams', async () => {
    const p = tmpPath('types2');
    fs.writeFileSync(p, 'hello');
    const fh = await open(p, 'r+');
    const r = await fh.read(Buffer.alloc(2), { position: 1 });
    expectTypeOf(r.bytesRead).toBeNumber();
    assert.equal(r.bytesRead, 2);
    const w = await fh.write('xy', null, 'latin1');
    expectTypeOf(w).toEqualTypeOf<WriteResult<string>>();
    const v = await fh.read({ buffer: new Uint8Array(4), position: 0n });
    expectTypeOf(v).toEqualTypeOf<ReadResult<Uint8Array<ArrayBuffer>>>();
    expectTypeOf(fh.stat()).resolves.toEqualTypeOf<Stats>();
    const big = await fh.stat({ bigint: true });
    expectTypeOf(big).toEqualTypeOf<BigIntStats>();
    assert.equal(typeof big.size, 'bigint');
    expectTypeOf(fh.createReadStream({ start: 0 })).toEqualTypeOf<ReadStream>();
    expectTypeOf(fh.createWriteStream).returns.toEqualTypeOf<WriteStream>();
    expectTypeOf(fh.readLines).returns.toEqualTypeOf<Interface>();
    expectTypeOf(fh.readableWebStream).returns.toEqualTypeOf<ReadableStream<Uint8Array>>();
    // @ts-expect-error a number is not data for writeFile (and at run time, as node:fs)
    await assert.rejects(fh.writeFile(42), { code: 'ERR_INVALID_ARG_TYPE' });
    await fh.close();
  });
});
