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
// (page cache dropped and warm), and module readFile() under rename-replace.
import assert from 'node:assert/strict';
import cp from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as kaio from 'kaio';
import { contextPerBackend, pkgRoot, skip, type KaioError } from './helpers';
import { matrixCases, pattern, refusedUpFront, runSide, directSupportedIn, MATRIX_BACKENDS, type MatrixCase, type Sizes, type Verdict } from './faults';

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
        p.on('error', (e) => { clearTimeout(timer); resolve({ status: null, signal: null, stdout, stderr: e.message }); });
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
      assert.ok(child, `no results from the child: ${childEnd}`);
      assert.equal(child.sigxfsz, true, 'SIGXFSZ is not ignored in the child: a write past the limit would kill it');
    });

    for (const c of matrixCases()) {
      it(`EFBIG | ${c.id}`, function () {
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
