// The differential suite (issue 22, ask 3): every function of
// node:fs/promises called with the same arguments through node:fs/promises
// and kaio/fs/promises, each on its own copy of one tree, with the default
// context on every backend (io_uring, aio, threadpool). After every call the
// results (or the errors: class, code, errno, syscall, path, dest, message)
// and the two trees are compared. Bad arguments, missing paths, symlinks,
// directories, names and paths too long (ENAMETOOLONG), and calls as an
// unprivileged user (a child as nobody) are in the script. Also: the
// module-level createReadStream/createWriteStream against node:fs's, what
// Node refuses of a kaio handle (and the alternatives docs/api.md gives),
// and readFile's AggregateError when the read and the close both fail.
import assert from 'node:assert/strict';
import cp from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { once } from 'node:events';
import { pipeline } from 'node:stream/promises';
import { Worker } from 'node:worker_threads';
import * as kaio from 'kaio';
import * as kfs from 'kaio/fs/promises';
import { BACKENDS, packageForAnyUser, skip } from './helpers';
import { type AnyFn, fsSuite, B, R, errorShape, LONG_NAME, LONG_PATH, norm, type Norm, outcome, resolveArgs, ringOps, show, tree, U } from './fs-compare';

type Mod = Record<string, AnyFn>;
const NODE = fsp as unknown as Mod;
const KAIO = kfs as unknown as Mod;

/** watch(): the first event after a file is made in the watched directory (or the error of the first next()). */
async function firstWatchEvent(iterable: AsyncIterable<unknown>, watched: unknown): Promise<unknown> {
  const it = iterable[Symbol.asyncIterator]();
  const next = it.next();
  try {
    fs.writeFileSync(Buffer.isBuffer(watched) ? Buffer.concat([watched, Buffer.from('/watched-new')]) : path.join(String(watched), 'watched-new'), 'w');
  } catch {
    // nothing to watch (the call failed): next() says why
  }
  try {
    const r = await next;
    return { event: r.value };
  } finally {
    await it.return?.();
  }
}

/** Names in this suite's trees differ in mkdtemp's random suffix too. */
const N = (dir: string): Norm => ({ dir, mkdtemp: true });

/** A call of the script: watch() compared on its first event. */
function outcomeOf(mod: Mod, name: string, args: unknown[], dir: string): Promise<unknown> {
  if (name === 'watch') return outcome(() => firstWatchEvent(mod[name](...args) as AsyncIterable<unknown>, args[0]), N(dir));
  return outcome(() => mod[name](...args), N(dir));
}

function makeTree(dir: string): void {
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'f'), 'hello');
  fs.mkdirSync(path.join(dir, 'd'));
  fs.writeFileSync(path.join(dir, 'd', 'g'), 'inside');
  fs.mkdirSync(path.join(dir, 'd', 'sub'));
  fs.writeFileSync(path.join(dir, 'd', 'sub', 'h'), 'deeper');
  fs.mkdirSync(path.join(dir, 'e'));
  fs.symlinkSync('f', path.join(dir, 'l'));
  fs.symlinkSync('nope', path.join(dir, 'dl'));
  fs.symlinkSync('d', path.join(dir, 'ld'));
  fs.symlinkSync('loop', path.join(dir, 'loop'));
  fs.writeFileSync(path.join(dir, 'é ü'), 'non-ascii');
  fs.writeFileSync(path.join(dir, 'big'), Buffer.alloc(200_000, 7));
}

/** '@x' is x in the tree; B('@x') its Buffer, U('@x') its file: URL (test/fs-compare.ts). */
const { R_OK, W_OK, X_OK, F_OK, COPYFILE_EXCL } = fs.constants;

/** Paths every path-taking call meets: present, missing, through a file, dangling/looping links, too long. */
const PATHS = ['@f', '@d', '@l', '@dl', '@ld', '@loop', '@missing', '@f/x', '@é ü', `@${LONG_NAME}`, `@${LONG_PATH}`, ''];

/** The script both modules run, in order, each on its own copy of the tree. */
const SCRIPT: [string, ...unknown[]][] = [
  // reads of every kind of path
  ...PATHS.flatMap((p): [string, ...unknown[]][] => [
    ['access', p], ['access', p, R_OK | W_OK], ['stat', p], ['lstat', p], ['readlink', p], ['realpath', p], ['readdir', p],
    ['readdir', p, { withFileTypes: true }], ['opendir', p], ['readFile', p], ['readFile', p, 'utf8'], ['statfs', p], ['open', p],
  ]),
  ['access', '@f', X_OK], ['access', '@f', F_OK], ['access', '@f', 99], ['access', B('@f')], ['access', U('@d')],
  ['stat', '@f', { bigint: true }], ['statfs', '@d', { bigint: true }], ['readdir', '@d', { recursive: true }], ['readdir', '@d', 'buffer'],
  ['readFile', '@big'], ['readFile', '@f', { encoding: 'base64' }], ['readFile', '@f', { flag: 'r+' }], ['readFile', '@f', { flag: 'w+' }], ['readFile', '@nf', { flag: 'a+' }],
  ['readlink', '@l', 'buffer'], ['realpath', '@ld/sub', 'buffer'], ['open', '@f', 'r+'], ['open', '@o1', 'wx', 0o640], ['open', '@o1', 'wx'], ['open', '@d', 'w'],
  ['open', '@f', 'a'], ['open', '@f', 0o2000000 | fs.constants.O_RDWR], ['open', U('@d/g')],
  // writes
  ['writeFile', '@w1', 'data'], ['writeFile', '@w1', 'more', { flag: 'a' }], ['writeFile', '@w1', 'x', { flag: 'wx' }], ['writeFile', '@w2', Buffer.from('buf'), { mode: 0o600 }],
  ['writeFile', '@w3', new Uint16Array([0x6968, 0x2121])], ['writeFile', '@w4', 'aGk=', 'base64'], ['writeFile', '@d', 'x'], ['writeFile', '@missing/x', 'x'], ['writeFile', '@l', 'via link'],
  ['writeFile', `@${LONG_NAME}`, 'x'], ['appendFile', '@w1', '+1'], ['appendFile', '@a1', 'new', { mode: 0o640 }], ['appendFile', '@d', 'x'], ['appendFile', '@f', 'x', { flag: 'ax' }],
  // truncate, chmod, chown, utimes
  ['truncate', '@w1', 2], ['truncate', '@w1'], ['truncate', '@f', 100], ['truncate', '@d'], ['truncate', '@missing'], ['truncate', '@l', 1],
  ['chmod', '@w2', 0o640], ['chmod', '@w2', '755'], ['chmod', '@missing', 0o600], ['chmod', '@l', 0o600], ['lchmod', '@l', 0o600],
  ['chown', '@w2', 65534, 65534], ['chown', '@missing', 0, 0], ['lchown', '@dl', 65534, 65534], ['chown', '@dl', 0, 0],
  ['utimes', '@w2', 1000, 2000], ['utimes', '@d', new Date(3000), new Date(4000)], ['utimes', '@missing', 1, 1], ['lutimes', '@dl', 5000, 6000], ['utimes', '@dl', 1, 1],
  // copyFile, cp
  ['copyFile', '@f', '@c1'], ['copyFile', '@f', '@c1', COPYFILE_EXCL], ['copyFile', '@missing', '@c2'], ['copyFile', '@d', '@c3'], ['copyFile', '@f', '@d'],
  ['copyFile', '@l', '@c4'], ['copyFile', '@big', '@c5'], ['copyFile', '@f', '@missing/c'], ['copyFile', B('@f'), U('@c6')],
  ['copyFile', '@big', '@c7', fs.constants.COPYFILE_FICLONE], ['copyFile', '@big', '@c8', fs.constants.COPYFILE_FICLONE_FORCE], ['copyFile', '@f', '@c5', COPYFILE_EXCL | fs.constants.COPYFILE_FICLONE_FORCE],
  ['cp', '@d', '@cpd', { recursive: true }], ['cp', '@d', '@cpd2'], ['cp', '@f', '@cpf'], ['cp', '@missing', '@cpm'], ['cp', '@ld', '@cpl', { recursive: true, verbatimSymlinks: true }],
  ['cp', '@f', '@cpf', { errorOnExist: true, force: false }],
  // mkdir, mkdtemp, rename, link, symlink
  ['mkdir', '@m'], ['mkdir', '@m'], ['mkdir', '@m/a/b', { recursive: true }], ['mkdir', '@m/a/b', { recursive: true }], ['mkdir', '@f/x', { recursive: true }],
  ['mkdir', '@missing/x'], ['mkdir', '@m2', 0o700], ['mkdir', `@${LONG_PATH}`, { recursive: true }],
  ['mkdtemp', '@tmp-'], ['mkdtemp', '@missing/tmp-'], ['mkdtemp', '@d/tmp-', 'buffer'],
  ['rename', '@c1', '@r1'], ['rename', '@missing', '@r2'], ['rename', '@m2', '@d'], ['rename', '@r1', '@e'], ['rename', '@e', '@m'],
  ['link', '@r1', '@h1'], ['link', '@r1', '@h1'], ['link', '@d', '@h2'], ['link', '@l', '@h3'],
  ['symlink', 'r1', '@s1'], ['symlink', 'r1', '@s1'], ['symlink', 'x', '@missing/s'], ['symlink', 'd', '@s2', 'dir'],
  // removal
  ['unlink', '@h1'], ['unlink', '@h1'], ['unlink', '@d'], ['unlink', '@s2'],
  ['rmdir', '@e'], ['rmdir', '@d'], ['rmdir', '@f'], ['rmdir', '@m2'],
  ['rm', '@c4'], ['rm', '@c4'], ['rm', '@c4', { force: true }], ['rm', '@cpd'], ['rm', '@cpd', { recursive: true }], ['rm', '@dl'], ['rm', '@ld', { recursive: true }],
  ['rm', '@m', { recursive: true, maxRetries: 1 }], ['rm', `@${LONG_NAME}`, { force: true }],
  // watch: the first event, or the error
  ['watch', '@d'], ['watch', '@missing'],
];

/**
 * Names that are not UTF-8, given as Buffer paths: X(hex) is the name with
 * those bytes in the tree. F and G decode to the same text ('\ufffdA'), so
 * a path decoded on the way to the kernel names the wrong file (or none).
 */
const X = (...hex: string[]) => R('@/', hex.join(''));
const F = 'ff41';
const G = 'fe41';
const D = '64ff';
const L = '6cfe';
const DL = '6cff';
const SLASH = '2f';

function makeByteTree(dir: string): void {
  fs.mkdirSync(dir);
  const at = (...hex: string[]) => Buffer.concat([Buffer.from(`${dir}/`), Buffer.from(hex.join(''), 'hex')]);
  fs.writeFileSync(at(F), 'hello');
  fs.writeFileSync(at(G), 'other');
  fs.mkdirSync(at(D));
  fs.writeFileSync(at(D, SLASH, 'e9'), 'inside');
  fs.mkdirSync(at(D, SLASH, 'fa'));
  fs.symlinkSync(Buffer.from(F, 'hex'), at(L));
  fs.symlinkSync(Buffer.from('ee', 'hex'), at(DL));
}

/** Every function of node:fs/promises with such Buffer paths (the tree made by node:fs from Buffer paths). */
const BYTES_SCRIPT: [string, ...unknown[]][] = [
  ['access', X(F)], ['access', X(G), R_OK | W_OK], ['access', X('ee')],
  ['stat', X(F)], ['stat', X(G), { bigint: true }], ['stat', X(L)], ['lstat', X(L)], ['stat', X(DL)], ['lstat', X(D)], ['stat', X(D, SLASH, 'e9')],
  ['readlink', X(L), 'buffer'], ['readlink', X(L)], ['realpath', X(L), 'buffer'], ['realpath', X('ee')],
  ['readdir', '@', 'buffer'], ['readdir', X(D), 'buffer'], ['readdir', X(D), { withFileTypes: true, encoding: 'buffer' }], ['opendir', X(D)],
  ['readFile', X(F)], ['readFile', X(G), 'latin1'], ['readFile', X(L)], ['readFile', X('ee')], ['readFile', X(D, SLASH, 'e9'), 'utf8'],
  ['open', X(G), 'r+'], ['open', X('ee')], ['open', X('f0'), 'wx', 0o640], ['statfs', X(F)],
  ['writeFile', X('f1'), 'data'], ['writeFile', X(G), 'replaced'], ['appendFile', X('f1'), '+more'], ['appendFile', X('f2'), 'new', { mode: 0o640 }],
  ['writeFile', X('f1'), 'x', { flag: 'wx' }], ['writeFile', X(D, SLASH, 'e9'), Buffer.from([1, 2, 3])],
  ['truncate', X(F), 2], ['truncate', X(G)], ['truncate', X('ee')], ['truncate', X(L), 1],
  ['chmod', X('f1'), 0o600], ['chown', X('f1'), 65534, 65534], ['lchown', X(L), 65534, 65534], ['lchmod', X(L), 0o600],
  ['utimes', X('f1'), 1000, 2000], ['lutimes', X(L), 3000, 4000],
  ['copyFile', X(G), X('f3')], ['copyFile', X(F), X('f3'), COPYFILE_EXCL], ['copyFile', X('ee'), X('f4')], ['copyFile', X(F), X('f5'), fs.constants.COPYFILE_FICLONE],
  ['copyFile', X(F), X('f3')], ['cp', X(D), X('d1'), { recursive: true }], ['cp', X(F), X('d2')],
  ['mkdir', X('e1')], ['mkdir', X('e1')], ['mkdir', X('e2', SLASH, '61')], ['mkdir', X('e3', SLASH, '61'), { recursive: true }], ['mkdtemp', X('ff746d702d'), 'buffer'],
  ['rename', X('f3'), X('b1')], ['rename', X('ee'), X('b2')], ['link', X('b1'), X('a1')], ['link', X('b1'), X('a1')],
  ['symlink', R('', F), X('a2')], ['symlink', R('', F), X('a2')], ['watch', X(D)],
  ['unlink', X('a1')], ['unlink', X('a1')], ['rmdir', X('e1')], ['rmdir', X(D)], ['rm', X('b1')], ['rm', X('ee'), { force: true }],
  ['rm', X('d1'), { recursive: true }], ['rm', X(D), { recursive: true }],
];

/** The io_uring ops of the calls kaio/fs/promises makes on the ring (with the arguments above). */
const RING_OPS: Record<string, string[]> = {
  stat: ['STATX'], lstat: ['STATX'], unlink: ['UNLINKAT'], rmdir: ['UNLINKAT'], rename: ['RENAMEAT'], link: ['LINKAT'], symlink: ['SYMLINKAT'],
  truncate: ['OPENAT', 'FTRUNCATE', 'CLOSE'], rm: ['STATX', 'UNLINKAT'],
  open: ['OPENAT'], readFile: ['OPENAT', 'STATX', 'READ', 'CLOSE'], writeFile: ['OPENAT', 'WRITE', 'CLOSE'], appendFile: ['OPENAT', 'WRITE', 'CLOSE'],
};
/** Calls above that stay Node's: mkdir -p of a Buffer path. (copyFile is a native step on libuv's pool, off the ring.) */
const NODE_CALLS = (name: string, args: unknown[]): boolean => name === 'mkdir' && args[1] !== undefined;

/** Bad arguments: Node's own checks give the error; kaio must give the same. */
const BAD: [string, ...unknown[]][] = [];
const BAD_PATHS = [undefined, null, 123, {}, [], true, 'a\0b', Buffer.from('a\0b'), new URL('http://x/y'), new URL('file://host/x'), new URL('file:///a%2fb')];
for (const f of ['access', 'stat', 'lstat', 'readlink', 'realpath', 'readdir', 'opendir', 'readFile', 'statfs', 'open', 'truncate', 'rmdir', 'unlink', 'rm', 'mkdir', 'mkdtemp', 'chmod', 'lchown', 'chown', 'utimes', 'lutimes', 'writeFile', 'appendFile']) {
  for (const p of BAD_PATHS) {
    const rest: Record<string, unknown[]> = { chmod: [0o600], chown: [0, 0], lchown: [0, 0], utimes: [1, 1], lutimes: [1, 1], writeFile: ['x'], appendFile: ['x'] };
    BAD.push([f, p, ...(rest[f] ?? [])]);
  }
}
for (const f of ['copyFile', 'cp', 'rename', 'link', 'symlink']) for (const p of [undefined, 7, {}, 'a\0b', new URL('http://x/y')]) BAD.push([f, p, '@z'], [f, '@f', p]);
BAD.push(
  ['access', '@f', 'r'], ['access', '@f', -1], ['access', '@f', 8], ['stat', '@f', null], ['readFile', '@f', 5], ['readFile', '@f', { encoding: 'nope' }], ['readFile', '@f', { flag: 'q' }],
  ['readFile', '@f', { signal: 'x' }], ['writeFile', '@q', 5], ['writeFile', '@q', 'x', { mode: 'rwx' }], ['writeFile', '@q', 'x', { flag: 7.5 }], ['writeFile', '@q', 'x', { flush: 1 }],
  ['open', '@f', 'z'], ['open', '@f', 'r', -5], ['open', '@f', {}], ['truncate', '@f', -1], ['truncate', '@f', 'x'], ['truncate', '@f', 2 ** 53],
  ['chmod', '@f', 'xyz'], ['chmod', '@f', -1], ['chown', '@f', -2, 0], ['chown', '@f', 0, 'x'], ['utimes', '@f', 'x', 1], ['utimes', '@f', {}, 1],
  ['copyFile', '@f', '@z', 99], ['copyFile', '@f', '@z', 'x'], ['cp', '@f', '@z', { filter: 5 }], ['cp', '@f', '@z', 5], ['mkdir', '@q', 'abc'], ['mkdir', '@q', -1],
  ['mkdtemp', '@q', { encoding: 'nope' }], ['readdir', '@d', { encoding: 'nope' }], ['rm', '@f', { recursive: 'yes' }], ['rm', '@f', { maxRetries: -1 }], ['rmdir', '@e', { recursive: 1 }],
  ['symlink', 'x', '@s9', 'badtype'], ['readlink', '@l', { encoding: 5 }], ['statfs', '@d', null], ['watch', 5],
);

/**
 * Bad arguments where kaio's message differs on purpose. Node's
 * ERR_INVALID_ARG_VALUE message shows the value with util.inspect, which
 * reads and runs the caller's object (Symbol.toStringTag getters,
 * [util.inspect.custom]); kaio names the object's class instead, reading data
 * properties only (lib/errors.ts). The code, class and the rest are Node's.
 */
const KNOWN: Record<string, { kaio: RegExp; why: string }> = {
  'open("@f", {})': { kaio: /^The argument 'flags' is invalid\. Received an instance of Object$/, why: 'an object is described by its class, not inspected' },
};

describe('27 kaio/fs/promises against node:fs/promises, call by call (the differential suite)', function () {
  this.timeout(120000);
  const suite = fsSuite('kaio-fsp27-');

  it('the script covers every function of node:fs/promises', () => {
    const called = new Set(SCRIPT.map(([name]) => name));
    const missing = Object.keys(fsp).filter((k) => typeof (fsp as unknown as Record<string, unknown>)[k] === 'function' && !called.has(k));
    assert.deepStrictEqual(missing, []);
    const calledBytes = new Set(BYTES_SCRIPT.map(([name]) => name));
    assert.deepStrictEqual(Object.keys(fsp).filter((k) => typeof (fsp as unknown as Record<string, unknown>)[k] === 'function' && !calledBytes.has(k)), [], 'the script of names that are not UTF-8');
    assert.strictEqual(kfs.constants, fsp.constants);
    // kaio's streams: the same functions from kaio and kaio/fs/promises
    assert.strictEqual(kaio.createReadStream, kfs.createReadStream);
    assert.strictEqual(kaio.createWriteStream, kfs.createWriteStream);
  });

  for (const backend of BACKENDS) {
    describe(`with the default context on ${backend}`, function () {
      before(async function () {
        await suite.use(this, backend);
      });

      it('every call of the script: the same result or error, and the same tree after it', async () => {
        const nodeDir = path.join(suite.base, `${backend}-node`);
        const kaioDir = path.join(suite.base, `${backend}-kaio`);
        makeTree(nodeDir);
        makeTree(kaioDir);
        for (const [name, ...args] of SCRIPT) {
          const want = await outcomeOf(NODE, name, resolveArgs(args, nodeDir), nodeDir);
          const got = await outcomeOf(KAIO, name, resolveArgs(args, kaioDir), kaioDir);
          assert.deepStrictEqual(got, want, show(name, args));
          assert.deepStrictEqual(tree(kaioDir, N(kaioDir)), tree(nodeDir, N(nodeDir)), `the trees after ${show(name, args)}`);
        }
      });

      it('names that are not UTF-8, as Buffer paths: every call the same result or error and tree; on io_uring the ring takes the bytes (no detour through node:fs)', async () => {
        const nodeDir = path.join(suite.base, `${backend}-bytes-node`);
        const kaioDir = path.join(suite.base, `${backend}-bytes-kaio`);
        makeByteTree(nodeDir);
        makeByteTree(kaioDir);
        const ctx = kaio.defaultContext();
        const ring = ctx instanceof kaio.Ring ? ctx : undefined;
        const viaRing: string[] = [];
        const offRing: string[] = [];
        for (const [name, ...args] of BYTES_SCRIPT) {
          const want = await outcomeOf(NODE, name, resolveArgs(args, nodeDir), nodeDir);
          let got: unknown;
          const n = await ringOps(async () => {
            got = await outcomeOf(KAIO, name, resolveArgs(args, kaioDir), kaioDir);
          });
          assert.deepStrictEqual(got, want, show(name, args));
          assert.deepStrictEqual(tree(kaioDir, N(kaioDir)), tree(nodeDir, N(nodeDir)), `the trees after ${show(name, args)}`);
          const ops = RING_OPS[name];
          if (ring && ops && !NODE_CALLS(name, args) && ops.every((op) => ring.supports(op))) (n > 0 ? viaRing : offRing).push(show(name, args));
        }
        assert.deepStrictEqual(offRing, [], 'calls that went to node:fs instead of the ring');
        if (ring) assert.ok(viaRing.length >= 30, `${viaRing.length} calls on the ring`);
      });

      it('bad arguments: the same error (class, code, message), or the same result where Node takes the value (truncate(-1) is 0)', async () => {
        const nodeDir = path.join(suite.base, `${backend}-bad-node`);
        const kaioDir = path.join(suite.base, `${backend}-bad-kaio`);
        makeTree(nodeDir);
        makeTree(kaioDir);
        for (const [name, ...args] of BAD) {
          const want = await outcomeOf(NODE, name, resolveArgs(args, nodeDir), nodeDir);
          const got = await outcomeOf(KAIO, name, resolveArgs(args, kaioDir), kaioDir);
          const known = KNOWN[show(name, args)];
          if (known) {
            // Where kaio differs on purpose: everything but the message is Node's, and the message is kaio's.
            const { message: km, ...k } = (got as { error: Record<string, unknown> }).error ?? {};
            const { message: nm, ...n } = (want as { error: Record<string, unknown> }).error;
            assert.deepStrictEqual(k, n, show(name, args));
            assert.match(String(km), known.kaio, `${show(name, args)}: ${known.why}`);
            assert.notStrictEqual(km, nm, `${show(name, args)} now matches Node: drop it from KNOWN`);
            continue;
          }
          assert.deepStrictEqual(got, want, show(name, args));
        }
        assert.deepStrictEqual(tree(kaioDir, N(kaioDir)), tree(nodeDir, N(nodeDir)));
      });

      it('a bigint position: kaio reads and writes at it, as Node\'s documentation says; Node 20 takes it as the current position', async () => {
        const p = path.join(suite.base, `${backend}-bigint`);
        fs.writeFileSync(p, '0123456789');
        const run = async (m: typeof fsp | typeof kfs): Promise<unknown> => {
          const h = await (m.open as AnyFn)(p, 'r+') as fsp.FileHandle;
          try {
            await h.read(Buffer.alloc(2), 0, 2, null); // the current position: 2
            const r = await h.read(Buffer.alloc(3), 0, 3, 6n as unknown as number);
            return r.buffer.toString();
          } finally {
            await h.close();
          }
        };
        // Node 20 (lib/internal/fs/promises.js read(): a position that is not a
        // safe integer becomes -1) reads at the current position, 2.
        assert.strictEqual(await run(fsp), '234');
        // kaio honours the bigint, as Node's documentation (position <integer> | <bigint>) has it.
        assert.strictEqual(await run(kfs), '678');
      });

      it('readFile(path): when the read and the close both fail, one AggregateError holds both (read error first, its message and code), as Node\'s', async function () {
        // A FIFO that this test also holds open for reading and writing (so
        // the module's open does not wait for a writer, and its reads wait
        // for data): once the module has opened it, the test closes the
        // module's fd behind it, so the module's next fstat/read fails with
        // EBADF, and so does its close. Real kernel errors on a real fd.
        const dir = fs.mkdtempSync(path.join(suite.base, `${backend}-agg-`));
        const results: unknown[] = [];
        for (const m of [fsp, kfs] as const) {
          const fifo = path.join(dir, m === fsp ? 'node' : 'kaio');
          cp.execFileSync('mkfifo', [fifo]);
          const mine = fs.openSync(fifo, fs.constants.O_RDWR);
          const theirs = (): number[] => fs.readdirSync('/proc/self/fd').map(Number).filter((fd) => {
            if (fd === mine) return false;
            try {
              return fs.readlinkSync(`/proc/self/fd/${fd}`) === fifo;
            } catch {
              return false;
            }
          });
          const reading = (m.readFile as AnyFn)(fifo) as Promise<Buffer>;
          const settled = reading.then(() => 'resolved', (e: unknown) => e);
          // Wait for the module's open (its fd appears in this process's table).
          let fds: number[] = [];
          for (let i = 0; i < 10_000 && fds.length === 0; i++) {
            fds = theirs();
            if (fds.length === 0) await new Promise<void>((resolve) => setImmediate(resolve));
          }
          assert.strictEqual(fds.length, 1, `${m === fsp ? 'node' : 'kaio'} opened the FIFO once`);
          fs.closeSync(fds[0]);
          // A read already waiting holds the file: give it data and EOF, the next read meets the closed fd.
          fs.writeSync(mine, 'x');
          fs.closeSync(mine);
          const err = await settled;
          assert.ok(err instanceof AggregateError, `${m === fsp ? 'node' : 'kaio'}: ${String((err as Error)?.stack ?? err)}`);
          const shape = errorShape(err, N(dir)) as { ctor: string; errors: Record<string, unknown>[]; message: string; code: string };
          assert.strictEqual(shape.errors.length, 2);
          assert.strictEqual(shape.message, shape.errors[0].message);
          assert.strictEqual(shape.code, shape.errors[0].code);
          assert.strictEqual(shape.errors[0].code, 'EBADF');
          assert.match(String(shape.errors[0].syscall), /^(read|fstat)$/);
          // As Node's fstat/read errors: no path, the message the syscall alone.
          assert.deepStrictEqual([shape.errors[0].message, shape.errors[0].path, shape.errors[0].errno], [`EBADF: bad file descriptor, ${shape.errors[0].syscall}`, undefined, -os.constants.errno.EBADF]);
          assert.deepStrictEqual([shape.errors[1].code, shape.errors[1].syscall, shape.errors[1].message], ['EBADF', 'close', 'EBADF: bad file descriptor, close']);
          results.push({ ctor: shape.ctor, n: shape.errors.length, close: shape.errors[1] });
        }
        assert.deepStrictEqual(results[1], results[0]);
      });

      it('createReadStream(path, options): the same data, events and errors as node:fs\'s, read through kaio', async () => {
        const dir = path.join(suite.base, `${backend}-rs`);
        makeTree(dir);
        const cases: unknown[][] = [
          ['@f'], ['@f', { start: 1, end: 3 }], ['@f', 'hex'], ['@f', { encoding: 'utf8', highWaterMark: 2 }], ['@big', { highWaterMark: 4096 }], ['@l'],
          [U('@f')], [B('@é ü')], ['@f', { flags: 'r+' }], ['@missing'], ['@d'], [`@${LONG_NAME}`], ['@f', { flags: 'q' }],
          ['@f', { start: -1 }], ['@f', { start: 4, end: 2 }], [123], ['@f', { fd: 'x' }], ['@f', { fs: {} }], ['@f', 5],
        ];
        const read = async (create: AnyFn, args: unknown[]): Promise<unknown> => {
          let s: fs.ReadStream;
          try {
            s = create(...resolveArgs(args, dir)) as fs.ReadStream;
          } catch (e) {
            return { threw: errorShape(e, N(dir)) };
          }
          const events: string[] = [];
          for (const ev of ['open', 'ready', 'end', 'close']) s.on(ev, () => events.push(ev));
          const chunks: unknown[] = [];
          try {
            for await (const c of s) chunks.push(Buffer.isBuffer(c) ? c.toString('latin1') : c);
          } catch (e) {
            return { error: errorShape(e, N(dir)), events, bytesRead: s.bytesRead };
          }
          // Compare the whole data (chunking by highWaterMark is the stream's, also compared).
          return { chunks: chunks.length, data: chunks.join(''), events, bytesRead: s.bytesRead, path: norm(String(s.path), N(dir)) };
        };
        for (const args of cases) {
          const want = await read(fs.createReadStream as AnyFn, args);
          const got = await read(kfs.createReadStream as AnyFn, args);
          assert.deepStrictEqual(got, want, show('createReadStream', args));
        }
      });

      it('createWriteStream(path, options): the same file, events and errors as node:fs\'s, written through kaio', async () => {
        const nodeDir = path.join(suite.base, `${backend}-ws-node`);
        const kaioDir = path.join(suite.base, `${backend}-ws-kaio`);
        makeTree(nodeDir);
        makeTree(kaioDir);
        const cases: unknown[][] = [
          ['@n1'], ['@f', { flags: 'a' }], ['@f', { flags: 'r+', start: 2 }], ['@n2', { encoding: 'hex' }], ['@n3', { mode: 0o600 }], ['@l'],
          ['@missing/x'], ['@d'], ['@f', { flags: 'wx' }], [U('@n4')], ['@n5', { flush: true }], ['@f', { start: -1 }], [null], ['@f', { flags: 'q' }],
        ];
        const write = async (create: AnyFn, args: unknown[], dir: string): Promise<unknown> => {
          let s: fs.WriteStream;
          try {
            s = create(...resolveArgs(args, dir)) as fs.WriteStream;
          } catch (e) {
            return { threw: errorShape(e, N(dir)) };
          }
          const events: string[] = [];
          for (const ev of ['open', 'ready', 'finish', 'close']) s.on(ev, () => events.push(ev));
          try {
            await pipeline(async function* () {
              yield '6869';
              yield Buffer.from('2121');
            }, s);
          } catch (e) {
            return { error: errorShape(e, N(dir)), events, bytesWritten: s.bytesWritten };
          }
          return { events, bytesWritten: s.bytesWritten };
        };
        for (const args of cases) {
          const want = await write(fs.createWriteStream as AnyFn, args, nodeDir);
          const got = await write(kfs.createWriteStream as AnyFn, args, kaioDir);
          assert.deepStrictEqual(got, want, show('createWriteStream', args));
          assert.deepStrictEqual(tree(kaioDir, N(kaioDir)), tree(nodeDir, N(nodeDir)), `the trees after ${show('createWriteStream', args)}`);
        }
      });

      it('a kaio handle: createReadStream(handle)/({ fd: handle}), createWriteStream, pipeline and readline, as Node\'s streams over Node\'s handle', async () => {
        const dir = path.join(suite.base, `${backend}-hs`);
        fs.mkdirSync(dir);
        const src = path.join(dir, 'src');
        fs.writeFileSync(src, 'one\ntwo\r\nthree');
        const lines = async (input: NodeJS.ReadableStream): Promise<string[]> => {
          const out: string[] = [];
          for await (const line of readline.createInterface({ input, crlfDelay: Infinity })) out.push(line);
          return out;
        };
        const nh = await fsp.open(src);
        const want = await lines(fs.createReadStream(null as unknown as string, { fd: nh as unknown as number }));
        const kh = await kfs.open(src);
        const closed = once(kh, 'close');
        assert.deepStrictEqual(await lines(kfs.createReadStream(null, { fd: kh })), want);
        assert.strictEqual(kh.fd, -1, 'autoClose closed the kaio handle');
        await closed;
        const kh2 = await kfs.open(src);
        assert.deepStrictEqual(await lines(kfs.createReadStream(kh2, { start: 4 })), want.slice(1));
        // pipeline: a kaio handle's read stream into a kaio handle's write stream, and into a path
        const kh3 = await kfs.open(src);
        const out = await kfs.open(path.join(dir, 'copy'), 'w');
        await pipeline(kfs.createReadStream(kh3), kfs.createWriteStream(out));
        await pipeline(kfs.createReadStream(src, { start: 4, end: 6 }), kfs.createWriteStream(path.join(dir, 'copy2')));
        assert.strictEqual(fs.readFileSync(path.join(dir, 'copy'), 'utf8'), 'one\ntwo\r\nthree');
        assert.strictEqual(fs.readFileSync(path.join(dir, 'copy2'), 'utf8'), 'two');
        // Node's rule for a handle with a custom fs, kept.
        const kh4 = await kfs.open(src);
        assert.throws(() => kfs.createReadStream(kh4, { fs: fs } as never), { code: 'ERR_METHOD_NOT_IMPLEMENTED', message: 'The FileHandle with fs method is not implemented' });
        assert.throws(() => fs.createReadStream(null as unknown as string, { fd: nh as unknown as number, fs } as never), { code: 'ERR_METHOD_NOT_IMPLEMENTED', message: 'The FileHandle with fs method is not implemented' });
        await kh4.close();
        await nh.close();
      });

      it('handle.close() while a stream over the handle is open: the stream closes without an error, the fd when the stream has let go, as with Node\'s handle', async () => {
        const dir = path.join(suite.base, `${backend}-hc`);
        fs.mkdirSync(dir);
        const src = path.join(dir, 'src');
        fs.writeFileSync(src, Buffer.alloc(300_000, 1));
        const run = async (m: 'node' | 'kaio', when: 'at once' | 'after data'): Promise<unknown> => {
          const nh = m === 'node' ? await fsp.open(src) : undefined;
          const kh = m === 'kaio' ? await kfs.open(src) : undefined;
          const h = (nh ?? kh)! as unknown as NodeJS.EventEmitter & { close(): Promise<void>; fd: number };
          const s = nh ? fs.createReadStream(null as unknown as string, { fd: nh as unknown as number, highWaterMark: 1024 }) : kfs.createReadStream(kh!, { highWaterMark: 1024 });
          const events: string[] = [];
          h.on('close', () => events.push('handle close'));
          s.on('error', (e) => events.push(`stream error ${(e as NodeJS.ErrnoException).code}`));
          const streamClosed = once(s, 'close').then(() => events.push('stream close'));
          let closing: Promise<void> | undefined;
          if (when === 'at once') closing = h.close();
          else s.once('data', () => { closing = h.close(); });
          s.resume();
          await streamClosed;
          await closing;
          events.push(`fd ${h.fd}`);
          return events;
        };
        for (const when of ['at once', 'after data'] as const) assert.deepStrictEqual(await run('kaio', when), await run('node', when), when);
      });

      it('autoClose false on a path stream: the fd is the caller\'s, as with Node (stream.fd open after the end, closed by the caller)', async () => {
        const dir = path.join(suite.base, `${backend}-ac`);
        fs.mkdirSync(dir);
        const src = path.join(dir, 'src');
        fs.writeFileSync(src, 'abc');
        for (const create of [fs.createReadStream, kfs.createReadStream] as AnyFn[]) {
          const s = create(src, { autoClose: false }) as fs.ReadStream;
          let data = '';
          for await (const c of s) data += c;
          assert.strictEqual(data, 'abc');
          const fd = (s as unknown as { fd: number }).fd;
          assert.strictEqual(fs.readlinkSync(`/proc/self/fd/${fd}`), src);
          fs.closeSync(fd);
        }
      });
    });
  }

  describe('what Node refuses of a kaio handle, and the alternatives (docs/api.md)', () => {
    let dir: string;
    before(() => {
      dir = fs.mkdtempSync(path.join(suite.base, 'refused-'));
      fs.writeFileSync(path.join(dir, 'f'), 'hello');
    });

    it('node:fs streams and node:fs/promises readFile/writeFile refuse it (their check is instanceof their internal FileHandle); kaio\'s own take it', async () => {
      const h = await kfs.open(path.join(dir, 'f'), 'r+');
      try {
        const refused = { code: 'ERR_INVALID_ARG_TYPE' };
        assert.throws(() => fs.createReadStream(null as unknown as string, { fd: h as unknown as number }), refused);
        assert.throws(() => fs.createWriteStream(null as unknown as string, { fd: h as unknown as number }), refused);
        await assert.rejects((fsp.readFile as AnyFn)(h) as Promise<unknown>, refused);
        await assert.rejects((fsp.writeFile as AnyFn)(h, 'x') as Promise<unknown>, refused);
        // kaio's: the same calls on kaio's module
        assert.strictEqual(await kfs.readFile(h, 'utf8'), 'hello');
        await kfs.writeFile(h, '!!');
        await kfs.appendFile(h, '?');
        assert.strictEqual(fs.readFileSync(path.join(dir, 'f'), 'utf8'), 'hello!!?');
      } finally {
        await h.close();
      }
    });

    it('a worker: a kaio handle cannot be transferred (ERR_INVALID_TRANSFER_OBJECT); the worker opens /proc/self/fd/N itself, its own handle', async () => {
      fs.writeFileSync(path.join(dir, 'w'), 'hello');
      const h = await kfs.open(path.join(dir, 'w'));
      try {
        const { port1, port2 } = new MessageChannel();
        try {
          assert.throws(() => port1.postMessage(h, [h as never]), { code: 'ERR_INVALID_TRANSFER_OBJECT' });
        } finally {
          port1.close();
          port2.close();
        }
        const worker = new Worker(`
          const { parentPort, workerData } = require('node:worker_threads');
          const kfs = require(${JSON.stringify(require.resolve('kaio/fs/promises'))});
          (async () => {
            const h = await kfs.open('/proc/self/fd/' + workerData.fd, 'r');
            try { parentPort.postMessage(await h.readFile('utf8')); } finally { await h.close(); }
          })().catch((e) => parentPort.postMessage('error: ' + e.message));`, { eval: true, workerData: { fd: h.fd } });
        const said = await new Promise((resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
        });
        await new Promise((resolve) => worker.once('exit', resolve));
        assert.strictEqual(said, 'hello');
        // The main thread's handle is untouched: still open, at its own position.
        assert.strictEqual(await h.readFile('utf8'), 'hello');
      } finally {
        await h.close();
      }
    });
  });

  describe('as an unprivileged user (nobody), on every backend', () => {
    for (const backend of BACKENDS) {
      it(`${backend}: every call kaio and Node refuse, with the same EACCES/EPERM errors, and the tree unchanged`, function () {
        if (process.getuid?.() !== 0) skip(this, 'needs root to start a child as nobody');
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-fsp27-perm-'));
        try {
          fs.chmodSync(dir, 0o755);
          fs.writeFileSync(path.join(dir, 'f'), 'x');
          fs.writeFileSync(path.join(dir, 'secret'), 's', { mode: 0o600 });
          fs.mkdirSync(path.join(dir, 'closed'), { mode: 0o700 });
          fs.writeFileSync(path.join(dir, 'closed', 'g'), 'y');
          fs.symlinkSync('g', path.join(dir, 'closed', 'l'));
          fs.mkdirSync(path.join(dir, 'e'));
          fs.mkdirSync(path.join(dir, 'd'));
          fs.writeFileSync(path.join(dir, 'd', 'secret'), 's', { mode: 0o600 });
          fs.symlinkSync('f', path.join(dir, 'l'));
          fs.mkdirSync(path.join(dir, 'mine'));
          fs.chownSync(path.join(dir, 'mine'), 65534, 65534);
          const before = tree(dir, N(dir));
          const calls: unknown[][] = [
            ['access', 'closed/g'], ['access', 'f', W_OK], ['access', 'secret', R_OK], ['appendFile', 'f', 'z'], ['writeFile', 'f', 'z'], ['writeFile', 'new', 'z'],
            ['readFile', 'closed/g'], ['readFile', 'secret'], ['chmod', 'f', 0o777], ['chown', 'f', 65534, 65534], ['lchown', 'l', 65534, 65534],
            ['utimes', 'f', 1, 1], ['lutimes', 'l', 1, 1], ['copyFile', 'f', 'c'], ['copyFile', 'secret', 'mine/c'], ['cp', 'f', 'c2'],
            ['cp', 'd', 'mine/d', { recursive: true }], ['link', 'f', 'h'], ['mkdir', 'x'], ['mkdir', 'closed/x/y', { recursive: true }], ['mkdtemp', 'tmp-'],
            ['open', 'secret'], ['open', 'f', 'w'], ['open', 'closed/g'], ['opendir', 'closed'], ['readdir', 'closed'], ['readlink', 'closed/l'],
            ['realpath', 'closed/g'], ['rename', 'f', 'g'], ['rm', 'f'], ['rm', 'd', { recursive: true }], ['rmdir', 'e'], ['stat', 'closed/g'],
            ['lstat', 'closed/g'], ['statfs', 'closed/g'], ['symlink', 'f', 's'], ['truncate', 'f'], ['truncate', 'secret'], ['unlink', 'f'], ['watch', 'closed'],
          ];
          const pkg = packageForAnyUser();
          const script = `
            const fsp = require('fs/promises');
            const kfs = require(${JSON.stringify(path.join(pkg, 'dist/lib/fs/promises.js'))});
            const kaio = require(${JSON.stringify(pkg)});
            const path = require('path');
            const dir = ${JSON.stringify(dir)};
            const t = (v) => (typeof v === 'string' ? v.replace(/(tmp-)[A-Za-z0-9]{6}/g, '$1XXXXXX') : v);
            const shape = (e) => ({ ctor: e.constructor.name, message: t(e.message), code: e.code, errno: e.errno, syscall: e.syscall, path: t(e.path), dest: e.dest });
            const call = async (m, name, a) => {
              try {
                const r = m[name](...a);
                if (name === 'watch') { const it = r[Symbol.asyncIterator](); try { await it.next(); } finally { await it.return(); } return { ok: 'event' }; }
                const v = await r;
                if (v && typeof v.close === 'function') await v.close();
                return { ok: true };
              } catch (e) { return { error: shape(e) }; }
            };
            (async () => {
              const out = [];
              for (const [name, ...args] of ${JSON.stringify(calls)}) {
                const isPath = (i) => (i === 0 ? name !== 'symlink' : i === 1 && ['copyFile', 'cp', 'link', 'rename', 'symlink'].includes(name));
                const a = args.map((x, i) => (isPath(i) ? path.join(dir, x) : x));
                // cp makes mine/d before it meets the file it may not read: undone after each module's call.
                const undo = () => require('fs').rmSync(path.join(dir, 'mine', 'd'), { recursive: true, force: true });
                const k = await call(kfs, name, a);
                undo();
                const n = await call(fsp, name, a);
                undo();
                out.push([name, args, k, n]);
              }
              console.log(JSON.stringify({ backend: kaio.defaultContext().backend, out }));
              await kaio.defaultContext().close();
            })().catch((e) => { console.error(e); process.exit(1); });`;
          const r = cp.spawnSync(process.execPath, ['-e', script], { uid: 65534, gid: 65534, encoding: 'utf8', env: { ...process.env, KAIO_BACKEND: backend } });
          if (r.status !== 0 && /cannot be set up|ENOSYS|EPERM.*io_uring/.test(r.stderr)) skip(this, `${backend} cannot be set up for nobody here: ${r.stderr.split('\n')[0]}`);
          assert.strictEqual(r.status, 0, r.stderr);
          const res = JSON.parse(r.stdout) as { backend: string; out: [string, unknown[], { error?: { code: string } }, { error?: { code: string } }][] };
          assert.strictEqual(res.backend, backend);
          for (const [name, args, k, n] of res.out) {
            assert.ok(n.error && /^(EACCES|EPERM)$/.test(n.error.code), `node:fs/promises ${show(name, args)} as nobody: ${JSON.stringify(n)}`);
            assert.deepStrictEqual(k, n, show(name, args));
          }
          assert.deepStrictEqual(tree(dir, N(dir)), before);
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      });
    }
  });
});
