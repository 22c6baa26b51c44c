// Every open-flag string × { direct: true }: for each flag string Node
// accepts, on a file that exists and on one that does not, the same script of
// reads, writes, writeFile/appendFile and current-position calls (aligned and
// unaligned offsets and lengths) runs on a direct kaio handle, a kaio handle
// without direct and a node:fs/promises handle; results, errors and the bytes
// of the file after must be the same. On a tmpfs (O_DIRECT since Linux 6.6,
// no alignment asked) and on the filesystem of os.tmpdir() (a block device:
// aligned requests go straight to the disk). Then: appends and unaligned
// writes in flight together on one direct handle, and ENOSPC on a small
// tmpfs, where a direct write resolves only bytes that reached the file.
import assert from 'node:assert';
import cp from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as kaio from 'kaio';
import { BACKENDS, contextPerBackend, directSupported, packageForAnyUser, skip, type KaioError } from './helpers';

const FLAGS = ['r', 'r+', 'rs+', 'w', 'wx', 'w+', 'wx+', 'a', 'ax', 'a+', 'ax+', 'as', 'as+'] as const;

/** Bytes that differ from one call to the next (a zero block would hide misplaced data). */
function pattern(seed: number, len: number): Buffer {
  const b = Buffer.alloc(len);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    b[i] = x & 0xff;
  }
  return b;
}

/** In aligned memory (so an aligned request can go straight to the kernel), for every kind of handle alike. */
function aligned(seed: number, len: number): Buffer {
  const b = kaio.alignedBuffer(len);
  pattern(seed, len).copy(b);
  return b;
}

/** The calls of FileHandle the script uses, as both kaio's and Node's have them. */
interface Handle {
  read(buffer: Buffer, offset: number, length: number, position: number | null): Promise<{ bytesRead: number }>;
  write(buffer: Buffer, offset: number, length: number, position: number | null): Promise<{ bytesWritten: number }>;
  write(data: string): Promise<{ bytesWritten: number }>;
  writev(buffers: Buffer[], position?: number | null): Promise<{ bytesWritten: number }>;
  readv(buffers: Buffer[], position?: number | null): Promise<{ bytesRead: number }>;
  writeFile(data: string | Buffer): Promise<void>;
  appendFile(data: string | Buffer): Promise<void>;
  readFile(): Promise<Buffer>;
  stat(): Promise<fs.Stats>;
  close(): Promise<void>;
}

type Outcome = { ok: unknown } | { code: string | undefined; syscall: string | undefined };

async function outcome(fn: () => Promise<unknown>): Promise<Outcome> {
  try {
    return { ok: await fn() };
  } catch (e) {
    const err = e as KaioError;
    if (typeof err.code !== 'string') throw e; // not a file error: a bug, not an outcome
    return { code: err.code, syscall: err.syscall };
  }
}

const read = (fh: Handle, len: number, at: number | null) => async () => {
  const buf = Buffer.alloc(len);
  const { bytesRead } = await fh.read(buf, 0, len, at);
  return buf.subarray(0, bytesRead);
};
const write = (fh: Handle, data: Buffer, at: number | null) => async () => (await fh.write(data, 0, data.length, at)).bytesWritten;

/**
 * The script: named steps, each a call whose result (or error code and
 * syscall) is recorded. Aligned steps use 4096 (a multiple of every
 * device's and filesystem's alignment here); the others are off by bytes.
 */
function script(fh: Handle): [string, () => Promise<unknown>][] {
  return [
    ['read 100 at the current position', read(fh, 100, null)],
    ['write 5 at the current position', write(fh, pattern(1, 5), null)],
    ['write 4096 at 4096 (aligned)', write(fh, aligned(2, 4096), 4096)],
    ['write 100 at 10', write(fh, pattern(3, 100), 10)],
    ['read 4096 at 0 (aligned)', read(fh, 4096, 0)],
    ['read 10 at 3', read(fh, 10, 3)],
    ['read 100 at the current position', read(fh, 100, null)],
    ['write a string at the current position', async () => (await fh.write('a string')).bytesWritten],
    ['writeFile 7000 bytes', () => fh.writeFile(pattern(4, 7000))],
    ['appendFile a string', () => fh.appendFile('appended text')],
    ['appendFile 8192 bytes', () => fh.appendFile(aligned(5, 8192))],
    ['write 512 at 8192', write(fh, aligned(6, 512), 8192)],
    ['write 4096 at the current position', write(fh, aligned(7, 4096), null)],
    ['write 3 at 50000 (past the end)', write(fh, pattern(8, 3), 50000)],
    ['writev 2 buffers at the current position', async () => (await fh.writev([pattern(9, 300), pattern(10, 4096)], null)).bytesWritten],
    ['readv 2 buffers at 4000', async () => {
      const bufs = [Buffer.alloc(200), Buffer.alloc(5000)];
      const { bytesRead } = await fh.readv(bufs, 4000);
      return Buffer.concat(bufs).subarray(0, bytesRead);
    }],
    ['read 8192 at the current position', read(fh, 8192, null)],
    ['readFile', () => fh.readFile()],
    ['stat size', async () => (await fh.stat()).size],
  ];
}

interface Run {
  open: Outcome;
  steps: [string, Outcome][];
  file: Buffer | null;
}

/** Puts the file (or device) back as each run finds it. */
type Reset = (p: string) => void;

/** A regular file holding `old`, or none. */
const fileReset = (old: Buffer | null): Reset => (p) => {
  fs.rmSync(p, { force: true });
  if (old) fs.writeFileSync(p, old);
};

async function run(p: string, flag: string, reset: Reset, opener: (p: string, flag: string) => Promise<Handle>): Promise<Run> {
  reset(p);
  let fh: Handle | undefined;
  const open = await outcome(async () => {
    fh = await opener(p, flag);
    return 'opened';
  });
  const steps: [string, Outcome][] = [];
  if (fh) {
    try {
      for (const [name, step] of script(fh)) steps.push([name, await outcome(step)]);
    } finally {
      await fh.close();
    }
  }
  const file = fs.existsSync(p) ? fs.readFileSync(p) : null;
  return { open, steps, file };
}

const openers: Record<string, (p: string, flag: string) => Promise<Handle>> = {
  'node:fs': (p, flag) => fsp.open(p, flag, 0o644) as unknown as Promise<Handle>,
  kaio: (p, flag) => kaio.open(p, flag, 0o644) as unknown as Promise<Handle>,
  'kaio direct': (p, flag) => kaio.open(p, flag, 0o644, { direct: true }) as unknown as Promise<Handle>,
};

/**
 * Runs the script through each opener on `p` (holding 6000 old bytes if
 * `existing`) and asserts that every other one did what node:fs did.
 */
async function compare(p: string, flag: string, existing: boolean, with_: Record<string, (p: string, flag: string) => Promise<Handle>>, reset = fileReset(existing ? pattern(100, 6000) : null)): Promise<void> {
  const runs: Record<string, Run> = {};
  for (const [name, opener] of Object.entries(with_)) runs[name] = await run(p, flag, reset, opener);
  const want = runs['node:fs'];
  for (const name of Object.keys(runs)) {
    if (name === 'node:fs') continue;
    const what = `'${flag}' ${existing ? 'existing' : 'new'}, ${name}`;
    assert.deepStrictEqual(runs[name].open, want.open, `${what}: open`);
    for (let i = 0; i < want.steps.length; i++) assert.deepStrictEqual(runs[name].steps[i], want.steps[i], `${what}: step ${i} (${want.steps[i][0]})`);
    assert.deepStrictEqual(runs[name].file, want.file, `${what}: the file's bytes after`);
  }
}

/** Mounts a tmpfs of `size` on a fresh temp dir; undefined and why where it cannot. */
function mountTmpfs(size: string): { dir: string; mounted: boolean; why: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-direct-tmpfs-'));
  const r = cp.spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir], { encoding: 'utf8' });
  return { dir, mounted: r.status === 0, why: (r.stderr || (r.error && r.error.message) || `exit ${r.status}`).trim() };
}

function unmount(m: { dir: string; mounted: boolean }): void {
  if (m.mounted) cp.spawnSync('umount', [m.dir]);
  fs.rmSync(m.dir, { recursive: true, force: true });
}

describe('23 every open flag × { direct: true }', function () {
  this.timeout(60000);
  const contexts = contextPerBackend();
  // Made in before() (not while mocha collects the tests), so a run whose
  // --grep picks none of these mounts nothing that after() would not undo.
  let tmpfs = { dir: '', mounted: false, why: 'not mounted yet' };
  const disk = { dir: '' };
  before(() => {
    tmpfs = mountTmpfs('64m');
    disk.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-direct-disk-'));
  });
  after(() => {
    unmount(tmpfs);
    fs.rmSync(disk.dir, { recursive: true, force: true });
  });

  const places: [string, () => string | undefined, () => string][] = [
    ['tmpfs', () => (tmpfs.mounted ? undefined : `cannot mount tmpfs: ${tmpfs.why}`), () => tmpfs.dir],
    ['os.tmpdir()', () => undefined, () => disk.dir],
  ];

  for (const [place, why, dirOf] of places) {
    describe(`on ${place}`, function () {
      beforeEach(function () {
        const reason = why();
        if (reason) skip(this, reason);
        if (!directSupported(dirOf())) skip(this, `O_DIRECT is not supported on the filesystem of ${dirOf()}`);
      });

      for (const flag of FLAGS) {
        for (const existing of [true, false]) {
          it(`'${flag}' on a file that ${existing ? 'exists (6000 bytes)' : 'does not exist'}: direct and plain kaio do what node:fs does`, async function () {
            await compare(path.join(dirOf(), `matrix-${flag}-${existing}`), flag, existing, openers);
          });
        }
      }

      for (const b of BACKENDS) {
        it(`every flag, direct on the ${b} backend: what node:fs does`, async function () {
          const context = contexts[b];
          if (context instanceof Error) skip(this, `no ${b} context here: ${context.message}`);
          const direct = (p: string, flag: string) => kaio.open(p, flag, 0o644, { context, direct: true }) as unknown as Promise<Handle>;
          for (const flag of FLAGS)
            for (const existing of [true, false])
              await compare(path.join(dirOf(), `backend-${b}-${flag}-${existing}`), flag, existing, { 'node:fs': openers['node:fs'], [`kaio direct (${b})`]: direct });
        });
      }

      it("'a' and 'a+': every append lands at the end, byte-exact, whatever the alignment", async function () {
        for (const flag of ['a', 'a+', 'as']) {
          const p = path.join(dirOf(), `append-${flag}`);
          const old = pattern(200, 1000);
          fs.writeFileSync(p, old);
          const pieces = [pattern(201, 3), pattern(202, 4096), pattern(203, 5000), aligned(204, 4096), pattern(205, 1)];
          const fh = await kaio.open(p, flag, 0o644, { direct: true });
          try {
            assert.strictEqual((await fh.write(pieces[0])).bytesWritten, 3);
            assert.strictEqual((await fh.write(pieces[1], 0, 4096, 0)).bytesWritten, 4096, 'an explicit position appends too (as pwrite(2) with O_APPEND)');
            await fh.appendFile(pieces[2]);
            await fh.writeFile(pieces[3]);
            assert.strictEqual((await fh.write(pieces[4], 0, 1, null)).bytesWritten, 1);
          } finally {
            await fh.close();
          }
          assert.deepStrictEqual(fs.readFileSync(p), Buffer.concat([old, ...pieces]), flag);
        }
      });

      it("'w' and 'a' (write-only): unaligned writes after the first work; a read is EBADF as on node:fs", async function () {
        for (const flag of ['w', 'a', 'wx', 'ax']) {
          const p = path.join(dirOf(), `wronly-${flag}`);
          fs.rmSync(p, { force: true });
          const fh = await kaio.open(p, flag, 0o644, { direct: true });
          const nfh = await fsp.open(p + '.node', flag === 'wx' || flag === 'ax' ? flag : 'w');
          try {
            for (const [i, len] of [7, 5000, 13, 4096].entries()) {
              assert.strictEqual((await fh.write(pattern(300 + i, len))).bytesWritten, len, `${flag}: write ${i}`);
              await nfh.write(pattern(300 + i, len));
            }
            const e = (await fh.read(Buffer.alloc(10), 0, 10, 0).then(() => undefined, (x) => x)) as KaioError;
            const ne = (await nfh.read(Buffer.alloc(10), 0, 10, 0).then(() => undefined, (x) => x)) as KaioError;
            assert.ok(e && ne, `${flag}: a read on a write-only handle resolved`);
            assert.deepStrictEqual([e.code, e.errno, e.syscall, e.message], [ne.code, ne.errno, ne.syscall, ne.message]);
            const r = (await fh.readFile().then(() => undefined, (x) => x)) as KaioError;
            assert.strictEqual(r?.code, 'EBADF', `${flag}: readFile`);
          } finally {
            await fh.close();
            await nfh.close();
          }
          assert.deepStrictEqual(fs.readFileSync(p), fs.readFileSync(p + '.node'), flag);
          fs.rmSync(p + '.node');
        }
      });

      it('appends in flight together on one direct handle each land whole, none over another', async function () {
        const p = path.join(dirOf(), 'append-concurrent');
        fs.writeFileSync(p, pattern(400, 10));
        const pieces = Array.from({ length: 16 }, (_, i) => pattern(401 + i, 100 + i * 517));
        const fh = await kaio.open(p, 'a', 0o644, { direct: true });
        try {
          const counts = await Promise.all(pieces.map((b, i) => (i % 2 ? fh.write(b) : fh.write(b, 0, b.length, 0)).then((r) => r.bytesWritten)));
          assert.deepStrictEqual(counts, pieces.map((b) => b.length));
        } finally {
          await fh.close();
        }
        const file = fs.readFileSync(p);
        assert.strictEqual(file.length, 10 + pieces.reduce((s, b) => s + b.length, 0));
        // Each piece once, whole, somewhere after the old bytes.
        let at = 10;
        const left = new Set(pieces);
        while (at < file.length) {
          const hit = [...left].find((b) => file.subarray(at, at + b.length).equals(b));
          assert.ok(hit, `no piece starts at ${at}`);
          left.delete(hit);
          at += hit.length;
        }
      });

      it('unaligned writes in flight together into the same blocks keep each other\'s bytes (as node:fs)', async function () {
        const p = path.join(dirOf(), 'rmw-concurrent');
        const q = p + '.node';
        const old = pattern(500, 9000);
        fs.writeFileSync(p, old);
        fs.writeFileSync(q, old);
        const pieces = Array.from({ length: 24 }, (_, i) => [pattern(501 + i, 37), i * 400 + 3] as const);
        const fh = await kaio.open(p, 'r+', 0o644, { direct: true });
        const nfh = await fsp.open(q, 'r+');
        try {
          await Promise.all(pieces.map(([b, at]) => fh.write(b, 0, b.length, at)));
          await Promise.all(pieces.map(([b, at]) => nfh.write(b, 0, b.length, at)));
          // And past the end: each padded write-back is trimmed, none cuts another.
          await Promise.all([0, 1, 2, 3].map((i) => fh.write(pattern(600 + i, 10), 0, 10, 12000 + i * 3000)));
          await Promise.all([0, 1, 2, 3].map((i) => nfh.write(pattern(600 + i, 10), 0, 10, 12000 + i * 3000)));
        } finally {
          await fh.close();
          await nfh.close();
        }
        assert.deepStrictEqual(fs.readFileSync(p), fs.readFileSync(q));
      });

      it('reads at the current position in flight together read consecutive ranges (as node:fs)', async function () {
        const p = path.join(dirOf(), 'current-reads');
        const data = pattern(700, 5 * 4096 + 100);
        fs.writeFileSync(p, data);
        const fh = await kaio.open(p, 'r', 0o644, { direct: true });
        try {
          const got = await Promise.all([0, 1, 2, 3, 4, 5, 6].map(() => fh.read(Buffer.alloc(4096), 0, 4096, null)));
          assert.deepStrictEqual(got.map((r) => r.bytesRead), [4096, 4096, 4096, 4096, 4096, 100, 0]);
          assert.deepStrictEqual(Buffer.concat(got.map((r) => r.buffer.subarray(0, r.bytesRead))), data);
        } finally {
          await fh.close();
        }
      });
    });
  }
});

describe('23 { direct: true } on a full tmpfs (ENOSPC)', function () {
  this.timeout(60000);
  let m: ReturnType<typeof mountTmpfs>;
  before(() => {
    m = mountTmpfs('1m');
  });
  after(() => unmount(m));
  beforeEach(function () {
    if (!m.mounted) skip(this, `cannot mount tmpfs: ${m.why}`);
    if (!directSupported(m.dir)) skip(this, 'O_DIRECT is not supported on tmpfs on this kernel (Linux 6.6+)');
  });

  /**
   * Writes unaligned chunks (5000 bytes) at the current position or by
   * append until one fails, on a file that starts with 1000 old bytes;
   * checks each result against the file and returns the results.
   */
  async function fill(flag: string, fh: Handle, p: string, how: 'current' | 'explicit'): Promise<(number | string)[]> {
    const results: (number | string)[] = [];
    const expect = [pattern(800, 1000)];
    for (let i = 0, pos = 1000; i < 300; i++) {
      const b = pattern(801 + i, 5000);
      let n: number;
      try {
        n = (await fh.write(b, 0, b.length, how === 'current' ? null : pos)).bytesWritten;
      } catch (e) {
        const err = e as KaioError;
        results.push(`${err.code} ${err.errno} ${err.syscall}`);
        break;
      }
      results.push(n);
      assert.ok(n > 0 && n <= b.length, `${flag}: write ${i} resolved ${n}`);
      expect.push(b.subarray(0, n));
      pos += n;
    }
    // The old bytes plus a prefix of each write, exactly as resolved: nothing
    // reported that is not in the file, no padding left past its end.
    assert.deepStrictEqual(fs.readFileSync(p), Buffer.concat(expect), `${flag} (${how}): the file after ${results.join(', ')}`);
    return results;
  }

  for (const [flag, how] of [['a', 'current'], ['a+', 'explicit'], ['r+', 'current'], ['w', 'explicit']] as const) {
    it(`'${flag}', unaligned writes (${how === 'current' ? 'current position' : 'explicit positions'}): each resolves what reached the file, then the kernel's ENOSPC, as node:fs`, async function () {
      const got: Record<string, (number | string)[]> = {};
      // Direct against node:fs (plain kaio at the current position is issue 19's item 1, not this file's).
      for (const name of ['node:fs', 'kaio direct']) {
        const opener = openers[name];
        const p = path.join(m.dir, 'full');
        fs.rmSync(p, { force: true });
        fs.writeFileSync(p, pattern(800, 1000));
        const fh = await opener(p, flag);
        try {
          // 'w' truncated the old bytes; 'r+' starts at 0: write them (again) to start after them.
          if (flag === 'w' || flag === 'r+') await fh.write(pattern(800, 1000), 0, 1000, how === 'current' ? null : 0);
          got[name] = await fill(flag, fh, p, how);
        } finally {
          await fh.close();
        }
        fs.rmSync(p);
      }
      assert.match(String(got['node:fs'].at(-1)), /^ENOSPC -28 write$/);
      assert.deepStrictEqual(got['kaio direct'], got['node:fs']);
    });
  }
});

describe('23 { direct: true } write-only on a file the caller may not read', function () {
  this.timeout(60000);
  it('opens write-only; aligned and past-the-end writes work; an unaligned write that must read old blocks is EACCES saying why', function () {
    if (process.getuid!() !== 0) skip(this, 'needs root to start a child as another user');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-direct-wronly-'));
    try {
      fs.chmodSync(dir, 0o777);
      if (!directSupported(dir)) skip(this, `O_DIRECT is not supported on the filesystem of ${dir}`);
      const p = path.join(dir, 'f');
      fs.writeFileSync(p, pattern(900, 8192));
      fs.chownSync(p, 65534, 65534);
      fs.chmodSync(p, 0o200);
      const script = `
        const kaio = require(${JSON.stringify(packageForAnyUser())});
        const fs = require('fs');
        (async () => {
          const out = [];
          const fh = await kaio.open(${JSON.stringify(p)}, 'r+', 0o644, { direct: true }).catch((e) => e);
          out.push(fh.code || 'opened');
          const w = await kaio.open(${JSON.stringify(p)}, 'w', 0o644, { direct: true });
          const b = kaio.alignedBuffer(4096); b.fill(1);
          out.push((await w.write(b, 0, 4096, 0)).bytesWritten);
          out.push((await w.write(Buffer.from('xyz'), 0, 3, 5000)).bytesWritten);
          const e = await w.write(Buffer.from('abc'), 0, 3, 10).catch((x) => x);
          out.push(e.code + ' ' + e.errno + ' ' + e.syscall + ' ' + /reads the blocks around it/.test(e.message));
          out.push((await w.read(Buffer.alloc(1), 0, 1, 0).catch((x) => x)).code);
          await w.close();
          console.log(JSON.stringify(out));
        })().catch((e) => { console.error(e); process.exit(1); });`;
      const r = cp.spawnSync(process.execPath, ['-e', script], { uid: 65534, gid: 65534, encoding: 'utf8' });
      assert.strictEqual(r.status, 0, r.stderr);
      assert.deepStrictEqual(JSON.parse(r.stdout), ['EACCES', 4096, 3, 'EACCES -13 read true', 'EBADF']);
      const file = fs.readFileSync(p);
      assert.deepStrictEqual(file, Buffer.concat([Buffer.alloc(4096, 1), Buffer.alloc(5000 - 4096), Buffer.from('xyz')]));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('23 { direct: true } on a block device (a loop device)', function () {
  this.timeout(60000);
  const SIZE = 256 * 1024;
  let dir: string;
  let dev: string | undefined;
  let why = '';

  before(function () {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-direct-bdev-'));
    if (process.getuid!() !== 0) {
      why = 'losetup needs root';
      return;
    }
    const img = path.join(dir, 'img');
    fs.writeFileSync(img, Buffer.alloc(SIZE));
    const r = cp.spawnSync('losetup', ['--find', '--show', img], { encoding: 'utf8' });
    if (r.status === 0) dev = r.stdout.trim();
    else why = `losetup failed: ${(r.stderr || (r.error && r.error.message) || `exit ${r.status}`).trim()}`;
  });

  after(function () {
    if (dev) cp.spawnSync('losetup', ['-d', dev]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  beforeEach(function () {
    if (!dev) skip(this, why);
    if (!directSupported(dir)) skip(this, `O_DIRECT is not supported on the filesystem of ${dir} (under the loop device)`);
  });

  /** The device's bytes back to the pattern (writing a device neither truncates nor removes it). */
  const deviceReset: Reset = (p) => fs.writeFileSync(p, pattern(100, SIZE));

  for (const flag of FLAGS) {
    it(`'${flag}': direct and plain kaio do what node:fs does (O_APPEND and O_TRUNC mean nothing to a block device; unaligned writes keep the block's other bytes)`, async function () {
      await compare(dev!, flag, true, openers, deviceReset);
    });
  }

  it('writes across and past the end of the device: the bytes before the end, then ENOSPC, as node:fs', async function () {
    const got: Record<string, Outcome[]> = {};
    for (const [name, opener] of Object.entries(openers)) {
      deviceReset(dev!);
      const fh = await opener(dev!, 'r+');
      try {
        got[name] = [
          await outcome(write(fh, pattern(1, 3), SIZE - 1)),
          await outcome(write(fh, pattern(2, 700), SIZE - 600)),
          await outcome(write(fh, aligned(3, 4096), SIZE - 4096 + 512)),
          await outcome(write(fh, pattern(4, 5), SIZE)),
          await outcome(write(fh, aligned(5, 4096), SIZE)),
          await outcome(read(fh, 700, SIZE - 600)),
          await outcome(read(fh, 4096, SIZE)),
        ];
      } finally {
        await fh.close();
      }
      got[name].push({ ok: fs.readFileSync(dev!) });
    }
    assert.deepStrictEqual(got['kaio direct'], got['node:fs']);
    assert.deepStrictEqual(got.kaio, got['node:fs']);
  });
});
