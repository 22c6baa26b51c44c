// Shared test helpers: temp files and byte comparison. Tests talk to the real kernel.
// Compiled to dist-test/helpers.js; test/helpers.js re-exports it for the plain JS tests.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';
import cp from 'node:child_process';

/** The package checkout (the compiled tests run from dist-test/, one level down). */
export const pkgRoot = path.resolve(__dirname, '..');

/** A file under test/fixtures (scripts run as child processes; they stay JS). */
export function fixture(name: string): string {
  return path.join(pkgRoot, 'test', 'fixtures', name);
}

export const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-test-'));
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));

let n = 0;
/** A fresh file path under a per-run private temp dir (on the same fs as /tmp). */
export function tmpPath(name = 'file'): string {
  return path.join(root, `${process.pid}-${n++}-${name}`);
}

/** Creates a file of `size` random bytes; returns { path, data }. */
export function randomFile(size: number, name?: string): { path: string; data: Buffer } {
  const p = tmpPath(name);
  const data = crypto.randomBytes(size);
  fs.writeFileSync(p, data);
  return { path: p, data };
}

/** Opens path with fs flags. */
export function openFd(p: string, flags: string | number = 'r+'): number {
  return fs.openSync(p, flags);
}

/** True when the filesystem under dir accepts O_DIRECT. */
export function directSupported(dir: string = root): boolean {
  const p = path.join(dir, `odirect-check-${process.pid}`);
  try {
    const fd = fs.openSync(p, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_RDWR | fs.constants.O_DIRECT);
    fs.closeSync(fd);
    return true;
  } catch {
    return false;
  } finally {
    fs.rmSync(p, { force: true });
  }
}

/** The error a rejected promise or a throwing call gave, typed for property checks. */
export type KaioError = Error & { code?: string; errno?: number; syscall?: string; [key: string]: unknown };

let publicCopy: string | undefined;
/**
 * A copy of the built package that any user can load, for children that drop
 * privileges: the checkout itself may sit under a directory (like /root)
 * that other users cannot enter.
 */
export function packageForAnyUser(): string {
  if (publicCopy) return publicCopy;
  const pkg = pkgRoot;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-pkg-'));
  fs.chmodSync(dir, 0o755);
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const native: string = require('node-gyp-build').path(pkg); // the addon this run loads
  for (const part of ['package.json', 'dist', 'node_modules/node-gyp-build'])
    fs.cpSync(path.join(pkg, part), path.join(dir, part), { recursive: true });
  fs.mkdirSync(path.join(dir, 'build', 'Release'), { recursive: true });
  fs.copyFileSync(native, path.join(dir, 'build', 'Release', 'kaio.node'));
  for (const f of walk(dir)) fs.chmodSync(f, fs.statSync(f).isDirectory() ? 0o755 : 0o644);
  publicCopy = dir;
  return dir;
}

function walk(dir: string): string[] {
  const out = [dir];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

/**
 * Skips the running test and says why in its title (mocha's this.skip() takes
 * no reason): the machine or kernel lacks what the test needs.
 */
export function skip(ctx: Mocha.Context, reason: string): never {
  if (ctx.test) ctx.test.title += ` (skipped: ${reason})`;
  ctx.skip();
}

/**
 * Calls read() until it returns `want` or `ms` have passed; returns the last
 * value (assert on it). For counters the kernel settles a little after the
 * call that changes them returns: before Linux 6.4, io_uring unpins
 * unregistered buffers from delayed work (about a second later), and a
 * closed ring is torn down on a workqueue. Newer kernels return at once.
 * Also for a baseline: settled(vmPin, 0) lets earlier tests' pins drain.
 */
export async function settled<T>(read: () => T, want: T, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  let v = read();
  while (v !== want && Date.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    v = read();
  }
  return v;
}

/**
 * Resolves once cond() is true; polls it (every `everyMs`) where no event
 * says so. Rejects, failing the test, when `ms` pass first: a bound on a
 * condition, not a duration the test relies on.
 */
export async function waitFor(cond: () => boolean, what: string, ms = 10000, everyMs = 2): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() >= end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/**
 * The state letter (R, S, D...) and wchan of each thread of this process,
 * from /proc/self/task: what a thread is blocked in, where no event says it.
 * wchan is '' where the kernel hides it.
 */
export function threads(): { tid: string; comm: string; state: string; wchan: string }[] {
  const out: { tid: string; comm: string; state: string; wchan: string }[] = [];
  for (const tid of fs.readdirSync('/proc/self/task')) {
    try {
      const stat = fs.readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      let wchan = '';
      try {
        wchan = fs.readFileSync(`/proc/self/task/${tid}/wchan`, 'utf8').trim();
      } catch {
        // no wchan here
      }
      out.push({ tid, comm, state, wchan: wchan === '0' ? '' : wchan });
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/** True when the running kernel is at least major.minor (os.release()). */
export function kernelAtLeast(major: number, minor: number): boolean {
  const [a, b] = os.release().split('.').map((x) => parseInt(x, 10));
  return a > major || (a === major && b >= minor);
}

/**
 * Mounts a fresh tmpfs of `size` on a new private temp dir (root only);
 * `why` says what mount answered where it could not. unmount() undoes it.
 */
export function mountTmpfs(size: string): { dir: string; mounted: boolean; why: string; unmount: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-tmpfs-'));
  const r = cp.spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0755`, 'tmpfs', dir], { encoding: 'utf8' });
  const mounted = r.status === 0;
  return {
    dir,
    mounted,
    why: (r.stderr || (r.error && r.error.message) || `exit ${r.status}`).trim(),
    unmount: () => {
      if (mounted) cp.spawnSync('umount', [dir]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

let poolsPerRing: boolean | undefined;
/**
 * True when one ring can hold several registered-buffer pools: the kernel has
 * a sparse buffer table (IORING_RSRC_REGISTER_SPARSE, 5.19). Before that the
 * first pool is the ring's whole table and a second one gets EBUSY (docs/kernels.md).
 */
export function severalPoolsPerRing(): boolean {
  if (poolsPerRing !== undefined) return poolsPerRing;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { Ring } = require('kaio') as typeof import('kaio');
  const ring = new Ring({ entries: 2 });
  try {
    ring.registerBuffers({ count: 1, size: 4096 });
    ring.registerBuffers({ count: 1, size: 4096 });
    poolsPerRing = true;
  } catch (e) {
    if ((e as KaioError).code !== 'EBUSY') throw e;
    poolsPerRing = false;
  } finally {
    void ring.close();
  }
  return poolsPerRing;
}

export const BACKENDS = ['io_uring', 'aio', 'threadpool'] as const;

/**
 * One context per backend, made in the suite's before() and closed in its
 * after(); where a backend cannot be set up here, the error that said so.
 */
export function contextPerBackend(): Record<string, import('kaio').IoContext | KaioError> {
  const contexts: Record<string, import('kaio').IoContext | KaioError> = {};
  before(() => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { createContext } = require('kaio') as typeof import('kaio');
    for (const b of BACKENDS) {
      try {
        contexts[b] = createContext({ backend: b });
      } catch (e) {
        contexts[b] = e as KaioError;
      }
    }
  });
  after(async () => {
    for (const c of Object.values(contexts)) if (!(c instanceof Error)) await c.close();
  });
  return contexts;
}

/** The context of `backend` from contextPerBackend(), or the running test skipped with the reason it is not available. */
export function backendContext(contexts: Record<string, import('kaio').IoContext | KaioError>, ctx: Mocha.Context, backend: string): import('kaio').IoContext {
  const c = contexts[backend];
  if (c instanceof Error) skip(ctx, `${backend} is not available here: ${c.message}`);
  return c;
}

/** A FIFO opened for reading (non-blocking open) and writing: reads block until data is written. */
export function fifoPair(): { r: number; w: number; close: () => void } {
  const p = path.join(fs.mkdtempSync(path.join(root, 'fifo-')), 'f');
  cp.execFileSync('mkfifo', [p]);
  const r = fs.openSync(p, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const w = fs.openSync(p, fs.constants.O_WRONLY);
  return {
    r,
    w,
    close: () => {
      fs.closeSync(r);
      fs.closeSync(w);
    },
  };
}

/** One turn of the event loop: the ops started in this tick have been submitted. */
export const tick = (): Promise<void> => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Drops a file's pages from the page cache, so reads go to the disk: fsync (POSIX_FADV_DONTNEED
 * drops only clean pages), then POSIX_FADV_DONTNEED through dd's iflag=nocache. That drains only
 * its own CPU's page batches (a page still in another CPU's batch stays cached: a CI run read a
 * 512 KiB "cold" file inline), so as root drop_caches follows, which drains every CPU's first; as
 * root it is also the way where dd has no iflag=nocache (busybox, the kernel lab's guest). False
 * when neither way is open (not root, no such dd).
 */
export function dropCache(p: string): boolean {
  const fd = fs.openSync(p, 'r');
  fs.fsyncSync(fd);
  fs.closeSync(fd);
  let dd = true;
  try {
    cp.execFileSync('dd', [`if=${p}`, 'iflag=nocache', 'count=0', 'status=none'], { stdio: 'pipe' });
  } catch {
    dd = false;
  }
  if (process.getuid?.() !== 0) return dd;
  fs.writeFileSync('/proc/sys/vm/drop_caches', '1');
  return true;
}

/** Flips bit 6 of the byte at `at` in a file, in place (a verify test's damaged block). */
export function flipByte(file: string, at: number): void {
  const fd = fs.openSync(file, 'r+');
  try {
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, at);
    b[0] ^= 0x40;
    fs.writeSync(fd, b, 0, 1, at);
  } finally {
    fs.closeSync(fd);
  }
}
