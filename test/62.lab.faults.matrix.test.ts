// The fault matrix's EIO part (issue 19; the rest is test 73): on the kernel
// lab's device whose sectors KAIO_LAB_FAULTY_SECTORS fail (dm's error
// target; see lab/guest/init.sh), every write path that reaches the device
// (an O_DIRECT fd: the page cache would take a buffered write and fail only
// at writeback) × every backend × {explicit offset, current position} writes
// 2 good blocks and then runs into the failing zone. Each case checks
// (1) the call rejects with EIO (code/errno/syscall) or resolves with the
// count that reached the device, (2) the blocks before the write are intact
// and the good blocks hold a prefix of the data, the rest their old bytes,
// (3) node:fs/promises on an O_DIRECT fd of the same device agrees.
// Runs only where KAIO_LAB_FAULTY_DEV is set; it WRITES to that device
// (the 64 KiB before the failing zone, which test 61 leaves alone).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import * as kaio from 'kaio';
import { contextPerBackend, skip } from './helpers';
import { MATRIX_BACKENDS, pattern, type BackendName } from './faults';

const dev = process.env.KAIO_LAB_FAULTY_DEV;
const [badStart, badCount] = (process.env.KAIO_LAB_FAULTY_SECTORS || '').split(':').map(Number);
const BS = 4096;
const OLD = 2 * BS; // before the write: must stay intact
const GOOD = 2 * BS; // written first, good sectors
const DATA = 8 * BS; // runs 6 blocks into the failing zone
const EIO = -5;
const O_DIRECT_RW = fs.constants.O_RDWR | fs.constants.O_DIRECT;

type Pos = 'explicit' | 'current';

interface DevRun {
  io: kaio.IoContext;
  pos: Pos;
  /** First byte of the old blocks; the write starts at base + OLD. */
  base: number;
  data: Buffer;
}

type Outcome = { count?: number; error?: { code?: string; errno?: number; syscall?: string; message?: string } };

/** Aligned copies (O_DIRECT on the node:fs side takes the buffer as it is). */
function aligned(b: Buffer): Buffer {
  const a = kaio.alignedBuffer(b.length);
  b.copy(a);
  return a;
}

async function settle(p: Promise<number>): Promise<Outcome> {
  try {
    return { count: await p };
  } catch (e) {
    return { error: e as Outcome['error'] };
  }
}

/** A plain O_DIRECT fd with its position at the write's offset when the case asks for the current position. */
async function withDirectFd(r: DevRun, fn: (fd: number, at: number | null) => Promise<Outcome>): Promise<Outcome> {
  const fd = fs.openSync(dev!, O_DIRECT_RW);
  try {
    if (r.pos === 'current') {
      const skipTo = r.base + OLD;
      const n = fs.readSync(fd, kaio.alignedBuffer(skipTo), 0, skipTo, null);
      if (n !== skipTo) throw new Error(`setup: moved the position by ${n} of ${skipTo}`);
    }
    return await fn(fd, r.pos === 'explicit' ? r.base + OLD : null);
  } finally {
    fs.closeSync(fd);
  }
}

interface AnyDirectHandle {
  read(b: Buffer, o: number, l: number, p: null): Promise<{ bytesRead: number }>;
  write(b: Buffer, o: number, l: number, p: number | null): Promise<{ bytesWritten: number }>;
  writev(bs: Buffer[], p: number | null): Promise<{ bytesWritten: number }>;
  writeFile(d: Buffer): Promise<void>;
  close(): Promise<void>;
}

async function onHandle(fh: AnyDirectHandle, r: DevRun, fn: (fh: AnyDirectHandle, at: number | null) => Promise<Outcome>): Promise<Outcome> {
  try {
    if (r.pos === 'current') {
      const skipTo = r.base + OLD;
      const { bytesRead } = await fh.read(kaio.alignedBuffer(skipTo), 0, skipTo, null);
      if (bytesRead !== skipTo) throw new Error(`setup: moved the position by ${bytesRead} of ${skipTo}`);
    }
    return await fn(fh, r.pos === 'explicit' ? r.base + OLD : null);
  } finally {
    await fh.close();
  }
}

const halves = (b: Buffer) => [b.subarray(0, b.length / 2), b.subarray(b.length / 2)];
const kaioDirect = (r: DevRun) => kaio.open(dev!, 'r+', 0o666, { context: r.io, direct: true }) as unknown as Promise<AnyDirectHandle>;
const nodeDirect = () => fsp.open(dev!, O_DIRECT_RW) as unknown as Promise<AnyDirectHandle>;

interface DevPath {
  name: string;
  positions: readonly Pos[];
  backends?: readonly BackendName[];
  kaio(r: DevRun): Promise<Outcome>;
  node(r: DevRun): Promise<Outcome>;
}

const nodeWrite = (fd: number, b: Buffer, at: number | null) => new Promise<number>((res, rej) => fs.write(fd, b, 0, b.length, at, (e, n) => (e ? rej(e) : res(n))));
const nodeWritev = (fd: number, bs: Buffer[], at: number | null) => new Promise<number>((res, rej) => fs.writev(fd, bs, at, (e, n) => (e ? rej(e) : res(n))));

const DEV_PATHS: readonly DevPath[] = [
  {
    name: 'context.write (O_DIRECT fd)',
    positions: ['explicit', 'current'],
    kaio: (r) => withDirectFd(r, (fd, at) => settle(r.io.write(fd, r.data, at ?? -1))),
    node: (r) => withDirectFd(r, (fd, at) => settle(nodeWrite(fd, r.data, at))),
  },
  {
    name: 'context.writev (O_DIRECT fd)',
    positions: ['explicit', 'current'],
    kaio: (r) => withDirectFd(r, (fd, at) => settle(r.io.writev(fd, halves(r.data), at ?? -1))),
    node: (r) => withDirectFd(r, (fd, at) => settle(nodeWritev(fd, halves(r.data), at))),
  },
  {
    name: 'batch prepWrite (O_DIRECT fd)',
    positions: ['explicit', 'current'],
    backends: ['io_uring'],
    kaio: (r) =>
      withDirectFd(r, async (fd, at) => {
        const ring = new kaio.Ring({ entries: 4 });
        try {
          let res = NaN;
          ring.onCompletion((_t, v) => (res = v));
          ring.prepWrite(fd, r.data, at ?? -1, 1);
          ring.submitAndWait(1);
          return res >= 0 ? { count: res } : { error: { code: res === EIO ? 'EIO' : `errno ${res}`, errno: res, syscall: 'write' } };
        } finally {
          await ring.close();
        }
      }),
    node: (r) => withDirectFd(r, (fd, at) => settle(nodeWrite(fd, r.data, at))),
  },
  {
    name: 'direct FileHandle.write',
    positions: ['explicit', 'current'],
    kaio: async (r) => onHandle(await kaioDirect(r), r, (fh, at) => settle(fh.write(r.data, 0, r.data.length, at).then((x) => x.bytesWritten))),
    node: async (r) => onHandle(await nodeDirect(), r, (fh, at) => settle(fh.write(r.data, 0, r.data.length, at).then((x) => x.bytesWritten))),
  },
  {
    name: 'direct FileHandle.writev',
    positions: ['explicit', 'current'],
    kaio: async (r) => onHandle(await kaioDirect(r), r, (fh, at) => settle(fh.writev(halves(r.data), at).then((x) => x.bytesWritten))),
    node: async (r) => onHandle(await nodeDirect(), r, (fh, at) => settle(fh.writev(halves(r.data), at).then((x) => x.bytesWritten))),
  },
  {
    name: 'direct FileHandle.writeFile',
    positions: ['current'],
    kaio: async (r) => onHandle(await kaioDirect(r), r, (fh) => settle(fh.writeFile(r.data).then(() => r.data.length))),
    node: async (r) => onHandle(await nodeDirect(), r, (fh) => settle(fh.writeFile(r.data).then(() => r.data.length))),
  },
];

interface DevVerdict extends Outcome {
  oldIntact: boolean;
  /** Bytes of the good zone that hold the data (a prefix); -1 when the zone is neither a prefix of the data nor its old bytes after it. */
  landed: number;
}

/** Puts the old bytes and the good zone's background on the device, runs one side, reads the zone back. */
async function devSide(run: (r: DevRun) => Promise<Outcome>, io: kaio.IoContext, pos: Pos, base: number): Promise<DevVerdict> {
  const old = aligned(pattern(21, OLD));
  const background = aligned(pattern(22, GOOD));
  const data = aligned(pattern(23, DATA));
  const fd = fs.openSync(dev!, O_DIRECT_RW);
  try {
    assert.equal(fs.writeSync(fd, old, 0, OLD, base), OLD);
    assert.equal(fs.writeSync(fd, background, 0, GOOD, base + OLD), GOOD);
  } finally {
    fs.closeSync(fd);
  }
  const out = await run({ io, pos, base, data });
  const back = kaio.alignedBuffer(OLD + GOOD);
  const rfd = fs.openSync(dev!, fs.constants.O_RDONLY | fs.constants.O_DIRECT);
  try {
    assert.equal(fs.readSync(rfd, back, 0, OLD + GOOD, base), OLD + GOOD);
  } finally {
    fs.closeSync(rfd);
  }
  const good = back.subarray(OLD);
  let landed = 0;
  while (landed < GOOD && good[landed] === data[landed]) landed++;
  if (!good.subarray(landed).equals(background.subarray(landed))) landed = -1;
  return { ...out, oldIntact: back.subarray(0, OLD).equals(old), landed };
}

/** Position -1 on a raw AIO context is refused up front (Linux AIO has no current position). */
const refusedUpFront = (p: DevPath, backend: BackendName, pos: Pos) => backend === 'aio' && pos === 'current' && !p.name.startsWith('direct');

function problemsOf(k: DevVerdict, n: DevVerdict | undefined): string[] {
  const out: string[] = [];
  if (!n) {
    if (k.error?.code !== 'ERR_KAIO_UNSUPPORTED') out.push(`position -1 on AIO: expected ERR_KAIO_UNSUPPORTED, got ${k.error?.code ?? `resolved ${k.count}`}`);
    if (!k.oldIntact || k.landed !== 0) out.push('a refused call changed the device');
    return out;
  }
  if (!k.oldIntact) out.push('(2) the blocks before the write changed');
  if (k.landed < 0) out.push('(2) the good blocks hold neither a prefix of the data nor their old bytes after it');
  if (k.error) {
    if (k.error.code !== 'EIO' || k.error.errno !== EIO) out.push(`(1) rejected with ${k.error.code}/${k.error.errno} (${k.error.message}), expected EIO/${EIO}`);
    if (!/^(write|writev|pwrite|pwritev)$/.test(String(k.error.syscall))) out.push(`(1) syscall ${k.error.syscall}, expected write/writev`);
  } else if (k.count !== k.landed) {
    out.push(`(1) resolved with ${k.count} bytes; ${k.landed} bytes of the data reached the good blocks (the rest of the call's range fails)`);
  }
  if (Boolean(k.error) !== Boolean(n.error) || k.error?.code !== n.error?.code) out.push(`(3) kaio ${k.error?.code ?? `resolved ${k.count}`}, node:fs ${n.error?.code ?? `resolved ${n.count}`}`);
  else if (!k.error && k.count !== n.count) out.push(`(3) kaio resolved ${k.count}, node:fs ${n.count}`);
  return out;
}

describe('62 lab: the fault matrix against EIO (dm error target)', function () {
  if (!dev || !(badCount > 0)) {
    it('needs a faulty device from the kernel lab', function () {
      skip(this, 'KAIO_LAB_FAULTY_DEV/KAIO_LAB_FAULTY_SECTORS are not set: only the kernel lab (npm run test:kernels) prepares one');
    });
    return;
  }
  this.timeout(60000);
  const contexts = contextPerBackend();
  const bad = badStart * 512;
  const base = bad - OLD - GOOD;

  for (const p of DEV_PATHS)
    for (const backend of p.backends ?? MATRIX_BACKENDS)
      for (const pos of p.positions)
        it(`EIO | ${p.name} | ${backend} | ${pos}`, async function () {
          const io = contexts[backend];
          if (io instanceof Error) skip(this, `${backend} cannot be set up here: ${io.message}`);
          assert.ok(base >= 64 * 1024, 'the failing zone starts far enough into the device');
          const k = await devSide(p.kaio, io, pos, base);
          const n = refusedUpFront(p, backend, pos) ? undefined : await devSide(p.node, io, pos, base);
          const problems = problemsOf(k, n);
          assert.ok(problems.length === 0, `${p.name} | ${backend} | ${pos}:\n  ${problems.join('\n  ')}\n  kaio: ${JSON.stringify(k)}\n  node: ${JSON.stringify(n)}`);
        });
});
