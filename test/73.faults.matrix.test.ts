// The fault matrix (issue 19): every write path (test/faults.ts WRITE_PATHS:
// context write/writev, the batch API, FileHandle write/writev/writeFile/
// appendFile/createWriteStream, module writeFile/appendFile, direct handles)
// × every backend × {explicit offset, current position, O_APPEND} against
// {ENOSPC on a 1 MiB tmpfs, EFBIG under RLIMIT_FSIZE in a child}. Each case
// checks (1) the call rejects with the kernel's code/errno/syscall or
// resolves with the true count, (2) the file holds the old content plus a
// prefix of the new data, (3) node:fs/promises doing the same agrees. EIO:
// test/62.lab.faults.matrix.test.ts (kernel lab only).
// Also: current-position reads and writes in flight together on one handle
// (page cache dropped and warm), current-position writes queued together
// (one writev) cut by ENOSPC and EFBIG, and module readFile() under
// rename-replace.
import assert from 'node:assert/strict';
import cp from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as kaio from 'kaio';
import { contextPerBackend, pkgRoot, skip, type KaioError } from './helpers';
import { kernelKeepsPosition, matrixCases, pattern, queuedWrites, refusedUpFront, runSide, directSupportedIn, MATRIX_BACKENDS, QUEUED, type MatrixCase, type QueuedVerdict, type Sizes, type Verdict } from './faults';

interface Fault {
  name: string;
  code: string;
  errno: number;
  sizes: Sizes;
}

const ENOSPC: Fault = { name: 'ENOSPC', code: 'ENOSPC', errno: -os.constants.errno.ENOSPC, sizes: { oldLen: 100_003, newLen: 1_500_000 } };
const FSIZE_LIMIT = 300 * 1024; // block-aligned: a direct write cut at the limit stays aligned
const EFBIG: Fault = { name: 'EFBIG', code: 'EFBIG', errno: -os.constants.errno.EFBIG, sizes: { oldLen: 100_003, newLen: 600_000 } };

/** Everything wrong with one case, as lines (empty: the case holds). */
export function problemsOf(c: MatrixCase, fault: Fault, k: Verdict, n: Verdict | undefined): string[] {
  const out: string[] = [];
  if (k.setupError) return [`kaio setup failed: ${k.setupError}`];
  if (k.outcome === 'hung') return ['kaio: the call neither resolved nor rejected within the watchdog'];
  const data = fault.sizes.newLen;
  if (refusedUpFront(c)) {
    if (k.outcome !== 'rejected' || k.code !== 'ERR_KAIO_UNSUPPORTED') out.push(`position -1 on AIO: expected ERR_KAIO_UNSUPPORTED, got ${k.outcome} ${k.code ?? k.count}`);
    if (k.newBytes !== 0 || !k.oldIntact) out.push(`a refused call changed the file (size ${k.size})`);
    return out;
  }
  // (2) the file: old content, then a prefix of the new data.
  if (!k.oldIntact) out.push(`(2) the old content (${k.keptOld} bytes) is not intact; size ${k.size}`);
  if (!k.prefixOk) out.push(`(2) the ${k.newBytes} bytes after the old content are not a prefix of the data`);
  // (1) the call's word.
  if (k.outcome === 'rejected') {
    if (k.code !== fault.code || k.errno !== fault.errno) out.push(`(1) rejected with ${k.code}/${k.errno} (${k.message}), expected ${fault.code}/${fault.errno}`);
    if (!/^(write|writev|pwrite|pwritev)$/.test(String(k.syscall))) out.push(`(1) syscall ${k.syscall}, expected write/writev`);
  } else if (k.count !== k.newBytes) {
    out.push(`(1) resolved with ${k.count} bytes while ${k.newBytes} new bytes reached the file`);
  }
  const posKnown = !kernelKeepsPosition(c);
  if (posKnown && k.posAfter !== undefined && k.posAfter !== k.size) out.push(`(1) the position is ${k.posAfter} after the call, not past the ${k.newBytes} bytes it wrote (${k.size}): the next current-position write would overwrite them`);
  if (k.events) {
    if (k.events.includes('finish') && k.newBytes !== data) out.push(`(1) stream emitted 'finish' with ${k.newBytes} of ${data} bytes in the file`);
    if (k.outcome === 'rejected' && k.events.includes('finish')) out.push(`(1) stream emitted both 'finish' and 'error'`);
    if (k.bytesWritten !== k.newBytes) out.push(`(1) stream bytesWritten ${k.bytesWritten}, the file got ${k.newBytes}`);
  }
  // (3) node:fs doing the same.
  if (!n) return [...out, '(3) no node:fs result'];
  if (n.setupError) return [...out, `node setup failed: ${n.setupError}`];
  if (n.newBytes >= data) out.push(`(3) the fault did not trigger for node:fs either (${n.newBytes} of ${data} bytes written): the target is too large`);
  if (k.outcome !== n.outcome || k.code !== n.code) out.push(`(3) kaio ${k.outcome} ${k.code ?? k.count}, node:fs ${n.outcome} ${n.code ?? n.count}`);
  else if (k.outcome === 'resolved' && k.count !== n.count) out.push(`(3) kaio resolved ${k.count}, node:fs ${n.count}`);
  if (k.newBytes !== n.newBytes) out.push(`(3) kaio left ${k.newBytes} new bytes, node:fs ${n.newBytes}`);
  if (posKnown && k.posAfter !== n.posAfter) out.push(`(3) position after the call: kaio ${k.posAfter}, node:fs ${n.posAfter}`);
  if (k.events && n.events && k.events.join() !== n.events.join()) out.push(`(3) stream events kaio [${k.events}], node:fs [${n.events}]`);
  return out;
}

function check(c: MatrixCase, fault: Fault, k: Verdict, n: Verdict | undefined): void {
  const problems = problemsOf(c, fault, k, n);
  assert.ok(problems.length === 0, `${fault.name} | ${c.id}:\n  ${problems.join('\n  ')}\n  kaio: ${JSON.stringify(k)}\n  node: ${JSON.stringify(n)}`);
}

describe('73 fault matrix: every write path × backend × position, against ENOSPC and EFBIG, compared with node:fs', function () {
  this.timeout(60000);

  describe('ENOSPC on a 1 MiB tmpfs', function () {
    const contexts = contextPerBackend();
    let dir: string;
    let mounted = false;
    let why = '';
    let direct = false;
    let n = 0;

    before(function () {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-matrix-'));
      const r = cp.spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', dir], { encoding: 'utf8' });
      mounted = r.status === 0;
      why = (r.stderr || (r.error && r.error.message) || `exit ${r.status}`).trim();
      direct = mounted && directSupportedIn(dir);
    });

    after(function () {
      if (mounted) cp.spawnSync('umount', [dir]);
      fs.rmSync(dir, { recursive: true, force: true });
    });

    for (const c of matrixCases()) {
      it(`ENOSPC | ${c.id}`, async function () {
        if (!mounted) skip(this, `cannot mount tmpfs: ${why}`);
        const io = contexts[c.backend];
        if (io instanceof Error) skip(this, `${c.backend} cannot be set up here: ${io.message}`);
        if (c.path.direct && !direct) skip(this, 'this tmpfs refuses O_DIRECT (tmpfs takes it from Linux 6.6)');
        const k = await runSide('kaio', c, io, path.join(dir, `k${n}`), ENOSPC.sizes);
        const nv = refusedUpFront(c) ? undefined : await runSide('node', c, io, path.join(dir, `n${n++}`), ENOSPC.sizes);
        check(c, ENOSPC, k, nv);
      });
    }
  });

  describe(`EFBIG under RLIMIT_FSIZE (${FSIZE_LIMIT} bytes) in a child, SIGXFSZ ignored`, function () {
    let child: { results: Record<string, { kaio: Verdict; node: Verdict }>; unavailable: Record<string, string>; directOk: boolean; sigxfsz: boolean } | undefined;
    let childEnd = '';
    let noPrlimit = '';
    let dir: string;

    before(async function () {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-matrix-fsize-'));
      const script = `require(${JSON.stringify(path.join(pkgRoot, 'dist-test', 'faults.js'))}).runAllInChild(${JSON.stringify(EFBIG.sizes)}, ${JSON.stringify(dir)})`;
      const r = await new Promise<{ status: number | null; signal: string | null; stdout: string; stderr: string }>((resolve) => {
        const p = cp.spawn('prlimit', [`--fsize=${FSIZE_LIMIT}`, process.execPath, '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        p.stdout.on('data', (d) => (stdout += d));
        p.stderr.on('data', (d) => (stderr += d));
        const timer = setTimeout(() => p.kill('SIGKILL'), 50000);
        p.on('close', (status, signal) => { clearTimeout(timer); resolve({ status, signal, stdout, stderr }); });
        p.on('error', (e) => {
          if ((e as KaioError).code === 'ENOENT') noPrlimit = 'prlimit (util-linux) is not installed: no way to start a child under RLIMIT_FSIZE';
          clearTimeout(timer);
          resolve({ status: null, signal: null, stdout, stderr: e.message });
        });
      });
      childEnd = `child ${r.signal ? `killed by ${r.signal}` : `exit ${r.status}`}; stderr: ${r.stderr.slice(-1500)}`;
      try {
        child = JSON.parse(r.stdout.trim().split('\n').pop() || '');
      } catch {
        child = undefined;
      }
    });

    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    it('the child ran every case with SIGXFSZ ignored (Node ignores it at startup)', function () {
      if (noPrlimit) skip(this, noPrlimit);
      assert.ok(child, `no results from the child: ${childEnd}`);
      assert.equal(child.sigxfsz, true, 'SIGXFSZ is not ignored in the child: a write past the limit would kill it');
    });

    for (const c of matrixCases()) {
      it(`EFBIG | ${c.id}`, function () {
        if (noPrlimit) skip(this, noPrlimit);
        assert.ok(child, `no results from the child: ${childEnd}`);
        if (child.unavailable[c.backend]) skip(this, `${c.backend} cannot be set up here: ${child.unavailable[c.backend]}`);
        if (c.path.direct && !child.directOk) skip(this, `the filesystem of ${os.tmpdir()} refuses O_DIRECT`);
        const r = child.results[c.id];
        assert.ok(r, `the child has no result for this case: ${childEnd}`);
        check(c, EFBIG, r.kaio, refusedUpFront(c) ? undefined : r.node);
      });
    }
  });
});

// ── Concurrency on one handle ─────────────────────────────────────────────
// Current-position ops in flight together on one FileHandle: each must take
// its own range of the file, as read(2)/write(2) on one open file do (the
// kernel serialises f_pos for regular files). node:fs/promises, doing the
// same, is held to the same property. Call order is not asserted: node:fs
// itself does not keep it (its 4 libuv threads run the calls in any order;
// 8 of 10 rounds of 11 reads came back out of call order here).

const B = 4096;
const NBLK = 8;

/** A block filled with one uint32 id. */
function block(id: number): Buffer {
  const b = Buffer.alloc(B);
  for (let i = 0; i < B; i += 4) b.writeUInt32LE(id, i);
  return b;
}

/** The id a block is filled with, or -1 when it is not one id throughout (torn or short). */
function idOf(b: Buffer): number {
  if (b.length !== B) return -1;
  const id = b.readUInt32LE(0);
  for (let i = 4; i < B; i += 4) if (b.readUInt32LE(i) !== id) return -1;
  return id;
}

/** Drops a file's clean pages (fsync, then POSIX_FADV_DONTNEED through dd); the pages left cached. */
function dropCache(p: string): number {
  const fd = fs.openSync(p, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  const dd = cp.spawnSync('dd', [`if=${p}`, 'iflag=nocache', 'count=0', 'status=none'], { encoding: 'utf8' });
  if (dd.status !== 0) throw new Error(`dd iflag=nocache: ${dd.stderr || dd.error}`);
  const fc = cp.spawnSync('fincore', ['--bytes', '--noheadings', '--output', 'RES', p], { encoding: 'utf8' });
  return fc.status === 0 ? Number(fc.stdout.trim()) : 0; // no fincore: dd's fadvise is taken as done
}

interface OneHandle {
  read(b: Buffer, off: number, len: number, pos: null): Promise<{ bytesRead: number }>;
  write(b: Buffer, off: number, len: number, pos: null): Promise<{ bytesWritten: number }>;
  close(): Promise<void>;
}

type Mix = 'reads' | 'writes' | 'reads and writes';

/**
 * One round on a fresh file: `mix` ops at the current position, all in
 * flight at once; what each got and what the file holds, checked.
 */
async function concurrentRound(openIt: (p: string) => Promise<OneHandle>, mix: Mix, cache: 'cold' | 'warm'): Promise<string[]> {
  const p = path.join(concDir, `c${concN++}`);
  const blocks = mix === 'reads and writes' ? 2 * NBLK : mix === 'reads' ? NBLK : 0;
  fs.writeFileSync(p, Buffer.concat(Array.from({ length: blocks }, (_, i) => block(i + 1))));
  if (cache === 'cold') {
    const left = dropCache(p);
    if (left !== 0) return [`setup: ${left} bytes of the file still cached after POSIX_FADV_DONTNEED`];
  } else {
    fs.readFileSync(p);
  }
  const kinds: ('r' | 'w')[] = mix === 'reads' ? Array(NBLK + 3).fill('r') : mix === 'writes' ? Array(NBLK).fill('w') : Array.from({ length: 2 * NBLK }, (_, i) => (i % 2 ? 'w' : 'r'));
  const fh = await openIt(p);
  const bufs = kinds.map((k, i) => (k === 'r' ? Buffer.alloc(B) : block(1001 + i)));
  let results: number[];
  try {
    results = await Promise.all(kinds.map((k, i) => (k === 'r' ? fh.read(bufs[i], 0, B, null).then((x) => x.bytesRead) : fh.write(bufs[i], 0, B, null).then((x) => x.bytesWritten))));
  } finally {
    await fh.close();
  }
  const disk = fs.readFileSync(p);
  fs.rmSync(p, { force: true });
  const problems: string[] = [];
  const readIds: number[] = [];
  kinds.forEach((k, i) => {
    if (k === 'w') {
      if (results[i] !== B) problems.push(`write #${i} resolved ${results[i]}`);
    } else if (results[i] === B) {
      const id = idOf(bufs[i]);
      if (id > 1000) problems.push(`read #${i} got the block of write #${id - 1001}, in flight with it: two ops at one offset`);
      else if (id < 1 || id > blocks) problems.push(`read #${i} got bytes of no block (torn: id ${id})`);
      else readIds.push(id);
    } else if (results[i] !== 0) problems.push(`read #${i} resolved ${results[i]} (a block is ${B}, EOF is 0)`);
  });
  const sorted = (a: number[]) => [...a].sort((x, y) => x - y).join();
  if (new Set(readIds).size !== readIds.length) problems.push(`reads got the same block twice: [${readIds}] in call order`);
  const writes = kinds.filter((k) => k === 'w').length;
  const reads = kinds.length - writes;
  if (disk.length !== (mix === 'writes' ? writes : blocks) * B) problems.push(`the file is ${disk.length} bytes, expected ${(mix === 'writes' ? writes : blocks) * B}`);
  const diskIds = Array.from({ length: disk.length / B }, (_, i) => idOf(disk.subarray(i * B, (i + 1) * B)));
  const written = diskIds.filter((id) => id > 1000);
  const kept = diskIds.filter((id) => id >= 1 && id <= blocks);
  const wantWritten = kinds.map((k, i) => (k === 'w' ? 1001 + i : 0)).filter((x) => x);
  if (sorted(written) !== sorted(wantWritten)) problems.push(`the written blocks in the file are [${written}], expected each of [${wantWritten}] once`);
  if (mix === 'reads and writes') {
    // Each op took its own block: the blocks read are exactly those no write replaced.
    if (sorted(readIds) !== sorted(kept)) problems.push(`blocks read [${readIds}] are not the blocks left unwritten [${kept}]`);
  } else if (mix === 'reads') {
    if (sorted(readIds) !== sorted(Array.from({ length: NBLK }, (_, i) => i + 1))) problems.push(`reads got blocks [${readIds}] (call order), expected each of 1..${NBLK} once, then EOF`);
    if (readIds.length !== NBLK || reads - NBLK !== results.filter((r) => r === 0).length) problems.push('not every block read once with the rest at EOF');
  }
  if (diskIds.includes(-1)) problems.push(`a block of the file is torn: [${diskIds}]`);
  return problems;
}

let concDir = '';
let concN = 0;

describe('73 concurrency on one handle: current-position reads and writes in flight together, page cache dropped and warm', function () {
  this.timeout(60000);
  const contexts = contextPerBackend();
  const ROUNDS = 4;
  before(() => (concDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-conc-'))));
  after(() => fs.rmSync(concDir, { recursive: true, force: true }));

  for (const mix of ['reads', 'writes', 'reads and writes'] as const)
    for (const cache of ['cold', 'warm'] as const) {
      it(`node:fs/promises | ${mix} | ${cache}: each op takes its own block (the reference)`, async function () {
        const problems: string[] = [];
        for (let r = 0; r < ROUNDS; r++) problems.push(...(await concurrentRound((p) => fsp.open(p, 'r+') as Promise<OneHandle>, mix, cache)).map((s) => `round ${r}: ${s}`));
        assert.ok(problems.length === 0, `${problems.length} problems:\n  ${problems.slice(0, 12).join('\n  ')}`);
      });
      for (const backend of MATRIX_BACKENDS)
        it(`${backend} | ${mix} | ${cache}: each op takes its own block, as node:fs`, async function () {
          const io = contexts[backend];
          if (io instanceof Error) skip(this, `${backend} cannot be set up here: ${io.message}`);
          const problems: string[] = [];
          for (let r = 0; r < ROUNDS; r++) problems.push(...(await concurrentRound((p) => kaio.open(p, 'r+', 0o666, { context: io }) as Promise<OneHandle>, mix, cache)).map((s) => `round ${r}: ${s}`));
          assert.ok(problems.length === 0, `${problems.length} problems:\n  ${problems.slice(0, 12).join('\n  ')}`);
        });
    }
});

// ── readFile under rename-replace ─────────────────────────────────────────
// Module readFile(path) while another loop replaces the file by rename()
// between two files of different sizes and content: every result is one of
// the two files, whole (it reads the file it opened). node:fs the same.

describe('73 readFile under rename-replace: every result is one of the two files, whole', function () {
  this.timeout(60000);
  const contexts = contextPerBackend();
  const READS = 2000;
  const small = pattern(11, 40_000);
  const large = pattern(12, 100_000);
  let dir = '';
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-rename-'));
    fs.writeFileSync(path.join(dir, 'small'), small);
    fs.writeFileSync(path.join(dir, 'large'), large);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** READS reads (8 in flight) of `target` while it is replaced by rename; the results that are neither file. */
  async function underRename(read: (p: string) => Promise<Buffer>, name: string): Promise<string[]> {
    const target = path.join(dir, name);
    fs.copyFileSync(path.join(dir, 'large'), target);
    let done = false;
    let swaps = 0;
    const replacer = (async () => {
      for (let i = 0; !done; i++) {
        const tmp = `${target}.tmp`;
        await fsp.link(path.join(dir, i % 2 ? 'large' : 'small'), tmp);
        await fsp.rename(tmp, target);
        swaps++;
      }
    })();
    const bad: string[] = [];
    let next = 0;
    try {
      await Promise.all(Array.from({ length: 8 }, async () => {
        while (next < READS) {
          const i = next++;
          const got = await read(target);
          if (!got.equals(small) && !got.equals(large))
            bad.push(`read #${i}: ${got.length} bytes, neither file (small ${small.length}, large ${large.length}; starts like ${got.subarray(0, 8).equals(large.subarray(0, 8)) ? 'large' : got.subarray(0, 8).equals(small.subarray(0, 8)) ? 'small' : 'neither'})`);
        }
      }));
    } finally {
      done = true;
      await replacer;
    }
    if (swaps < 10) bad.push(`only ${swaps} replacements ran during the reads: the race was not exercised`);
    return bad;
  }

  it(`node:fs/promises readFile, ${READS} reads (the reference)`, async function () {
    const bad = await underRename((p) => fsp.readFile(p), 'node');
    assert.ok(bad.length === 0, `${bad.length} bad reads:\n  ${bad.slice(0, 10).join('\n  ')}`);
  });

  for (const backend of MATRIX_BACKENDS)
    it(`${backend}: module readFile, ${READS} reads`, async function () {
      const io = contexts[backend];
      if (io instanceof Error) skip(this, `${backend} cannot be set up here: ${io.message}`);
      const bad = await underRename((p) => kaio.readFile(p, { context: io }), backend);
      assert.ok(bad.length === 0, `${bad.length} of ${READS} reads are neither file:\n  ${bad.slice(0, 10).join('\n  ')}`);
    });
});

// ── current-position writes queued together, cut by ENOSPC and EFBIG ──────
// kaio sends them as one writev; each call must still get what its own
// write(2) would have (node:fs making the same calls one after another): the
// calls before the cut their length, the cut one its prefix, the rest the
// kernel's error; and the file must be the same bytes.

function checkQueued(k: QueuedVerdict, n: QueuedVerdict, code: string): void {
  assert.equal(n.matchesOutcomes, true, 'node:fs: the file is not the old content plus what each call reported');
  assert.ok(n.outcomes.some((o) => o.startsWith(`${code} `)), `node:fs never met ${code}: ${n.outcomes.slice(-3)}`);
  assert.deepEqual(k.outcomes, n.outcomes, "each call got what node:fs's same call, one after another, got");
  assert.equal(k.matchesOutcomes, true, 'kaio: the file is not the old content plus what each call reported');
  assert.ok(k.file === n.file, "kaio's file differs from node:fs's");
}

describe(`73 ${QUEUED} current-position writes in flight on one handle (one writev), cut by ENOSPC and EFBIG, as node:fs one by one`, function () {
  this.timeout(60000);

  describe('ENOSPC on a 1 MiB tmpfs', function () {
    const contexts = contextPerBackend();
    let dir = '';
    let mounted = false;
    let why = '';
    before(function () {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-queued-'));
      const r = cp.spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', dir], { encoding: 'utf8' });
      mounted = r.status === 0;
      why = (r.stderr || (r.error && r.error.message) || `exit ${r.status}`).trim();
    });
    after(function () {
      if (mounted) cp.spawnSync('umount', [dir]);
      fs.rmSync(dir, { recursive: true, force: true });
    });
    for (const backend of MATRIX_BACKENDS)
      for (const flags of ['w', 'a'] as const)
        it(`${backend} | '${flags}'`, async function () {
          if (!mounted) skip(this, `cannot mount tmpfs: ${why}`);
          const io = contexts[backend];
          if (io instanceof Error) skip(this, `${backend} cannot be set up here: ${io.message}`);
          const k = await queuedWrites('kaio', flags, path.join(dir, 'k'), io);
          const n = await queuedWrites('node', flags, path.join(dir, 'n'));
          checkQueued(k, n, 'ENOSPC');
        });
  });

  describe(`EFBIG under RLIMIT_FSIZE (${FSIZE_LIMIT} bytes) in a child, SIGXFSZ ignored`, function () {
    let child: { results: Record<string, { kaio: QueuedVerdict; node: QueuedVerdict } | string>; sigxfsz: boolean } | undefined;
    let childEnd = '';
    let dir = '';
    before(function () {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-queued-fsize-'));
      const script = `require(${JSON.stringify(path.join(pkgRoot, 'dist-test', 'faults.js'))}).queuedWritesInChild(${JSON.stringify(dir)})`;
      const r = cp.spawnSync('prlimit', [`--fsize=${FSIZE_LIMIT}`, process.execPath, '-e', script], { encoding: 'utf8', timeout: 50000 });
      if (r.error && (r.error as KaioError).code === 'ENOENT') skip(this, 'prlimit (util-linux) is not installed: no way to start a child under RLIMIT_FSIZE');
      childEnd = `child ${r.signal ? `killed by ${r.signal}` : `exit ${r.status}`}; stderr: ${String(r.stderr).slice(-1500)}`;
      try {
        child = JSON.parse(String(r.stdout).trim().split('\n').pop() || '');
      } catch {
        child = undefined;
      }
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));
    for (const backend of MATRIX_BACKENDS)
      for (const flags of ['w', 'a'] as const)
        it(`${backend} | '${flags}'`, function () {
          assert.ok(child, `no results from the child: ${childEnd}`);
          assert.equal(child.sigxfsz, true, 'SIGXFSZ is not ignored in the child');
          if (typeof child.results[backend] === 'string') skip(this, `${backend} cannot be set up here: ${child.results[backend]}`);
          const r = child.results[`${backend} ${flags}`] as { kaio: QueuedVerdict; node: QueuedVerdict };
          checkQueued(r.kaio, r.node, 'EFBIG');
        });
  });
});
