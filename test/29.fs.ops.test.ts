// kaio/fs/promises' compound and io_uring-only calls against node:fs/promises:
// mkdir -p, rm -r, copyFile, truncate, access, FileHandle stat/truncate.
// Every call runs through both modules with the same arguments on twin
// trees; results, errors (class, code, errno, syscall, path, dest, message)
// and the trees left behind are compared, on every backend the default
// context can be (io_uring: the ring does the calls, where this kernel has
// the ops; aio and threadpool: node:fs does them). Then the failure paths:
// ENOSPC during a copy, a copy across filesystems, 100 copies at once, rm of
// a tree while files are added, and the errors of an unprivileged user.
import assert from 'node:assert/strict';
import cp from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as kaio from 'kaio';
import * as kfs from 'kaio/fs/promises';
import { binding } from '../dist/lib/binding';
import { BACKENDS, mountTmpfs, packageForAnyUser, skip } from './helpers';
import { type AnyFn, fsSuite, type AsyncFn, LONG_NAME, outcome, resolveArgs, ringOps, show, tree } from './fs-compare';

type Mod = Record<string, AnyFn>;
const NODE = fsp as unknown as Mod;
/** The moments of binding._rmHook (native/core/dir_unlink.h RmHookAt). */
const RM_HOOK_BEFORE_OPEN = 0;
const RM_HOOK_AFTER_FAILED_UNLINK = 1;
const RM_HOOK_BEFORE_FINAL_RMDIR = 2;
const KAIO = kfs as unknown as Mod;

function makeTree(dir: string): void {
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'f'), 'hello');
  fs.writeFileSync(path.join(dir, 'big'), Buffer.alloc(3 * 1024 * 1024 + 17, 'abcdefgh'));
  fs.writeFileSync(path.join(dir, 'empty'), '');
  fs.writeFileSync(path.join(dir, 'x0600'), 'secret', { mode: 0o600 });
  fs.chmodSync(path.join(dir, 'x0600'), 0o600);
  fs.writeFileSync(path.join(dir, 'x0777'), 'all', { mode: 0o777 });
  fs.chmodSync(path.join(dir, 'x0777'), 0o777);
  fs.writeFileSync(path.join(dir, 'suid'), 'suid');
  fs.chmodSync(path.join(dir, 'suid'), 0o4755);
  fs.mkdirSync(path.join(dir, 'd'));
  fs.writeFileSync(path.join(dir, 'd', 'g'), 'inside');
  fs.mkdirSync(path.join(dir, 'd', 'sub', 'deeper'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'd', 'sub', 'deeper', 'h'), 'deep');
  fs.symlinkSync('../f', path.join(dir, 'd', 'sub', 'lf'));
  fs.mkdirSync(path.join(dir, 'e'));
  fs.symlinkSync('f', path.join(dir, 'l'));
  fs.symlinkSync('nope', path.join(dir, 'dl'));
  fs.symlinkSync('d', path.join(dir, 'ld'));
  fs.writeFileSync(path.join(dir, 'é ü'), 'non-ascii');
}

const { COPYFILE_EXCL, COPYFILE_FICLONE, COPYFILE_FICLONE_FORCE, F_OK, R_OK, W_OK } = fs.constants;

/** The script both modules run, in order, on their own tree; '@x' is x in that tree. */
const SCRIPT: [string, ...unknown[]][] = [
  // mkdir -p: new chains, existing dirs, files and links in the way, odd paths
  ['mkdir', '@m/a/b', { recursive: true }], ['mkdir', '@m/a/b', { recursive: true }], ['mkdir', '@m/a/b/c', { recursive: true, mode: 0o700 }],
  ['mkdir', '@d', { recursive: true }], ['mkdir', '@d/sub/deeper/new/x', { recursive: true }], ['mkdir', '@f', { recursive: true }],
  ['mkdir', '@f/x', { recursive: true }], ['mkdir', '@f/x/y/z', { recursive: true }], ['mkdir', '@dl', { recursive: true }],
  ['mkdir', '@dl/x', { recursive: true }], ['mkdir', '@dl/x/y', { recursive: true }], ['mkdir', '@l/x/y', { recursive: true }],
  ['mkdir', '@ld/n1/n2', { recursive: true }], ['mkdir', '@q/r/s/', { recursive: true }], ['mkdir', '@q//t', { recursive: true }],
  ['mkdir', '@q/./u/v', { recursive: true }], ['mkdir', '@q/../w', { recursive: true }], ['mkdir', `@${LONG_NAME}/a`, { recursive: true }],
  ['mkdir', `@m/${LONG_NAME}`, { recursive: true }], ['mkdir', '@m2', { recursive: false }], ['mkdir', '@m3', { mode: 0o711 }],
  ['mkdir', '@m4/a', { recursive: false }], ['mkdir', '@m5/a/b', { recursive: true, mode: '0755' }], ['mkdir', '@m6/a', { recursive: 1 }],
  ['mkdir', '', { recursive: true }],
  // access
  ['access', '@f'], ['access', '@f', F_OK], ['access', '@missing'], ['access', '@f/x'], ['access', '@dl'], ['access', '@l'], ['access', '@d', null],
  ['access', '@f', R_OK | W_OK], ['access', `@${LONG_NAME}`], ['access', '@f', 8], ['access', '@f', 'x'], ['access', 5],
  // truncate
  ['truncate', '@f', 2], ['truncate', '@empty', 10], ['truncate', '@x0600'], ['truncate', '@missing'], ['truncate', '@d'], ['truncate', '@f', -5],
  ['truncate', '@dl'], ['truncate', '@f', 'x'], ['truncate', '@f', 1.5], ['truncate', '@missing', 'x'],
  // copyFile: new, existing, exclusive, onto itself, through links, modes, errors
  ['copyFile', '@big', '@c1'], ['copyFile', '@f', '@c1'], ['copyFile', '@f', '@c1', COPYFILE_EXCL], ['copyFile', '@x0600', '@c2', COPYFILE_EXCL],
  ['copyFile', '@x0777', '@c3'], ['copyFile', '@x0600', '@c3'], ['copyFile', '@suid', '@c4'], ['copyFile', '@empty', '@c5'],
  ['copyFile', '@f', '@f'], ['copyFile', '@f', '@l'], ['copyFile', '@l', '@c6'], ['copyFile', '@f', '@dl'], ['copyFile', '@missing', '@c7'],
  ['copyFile', '@f', '@missing/c8'], ['copyFile', '@f', '@d'], ['copyFile', '@d', '@c9'], ['copyFile', '@f', '@c10', COPYFILE_FICLONE],
  ['copyFile', '@f', '@c11', COPYFILE_FICLONE_FORCE], ['copyFile', '@f', '@c12', 99], ['copyFile', '@big', '@c22', COPYFILE_FICLONE_FORCE],
  ['copyFile', '@big', '@c14', COPYFILE_FICLONE | COPYFILE_EXCL], ['copyFile', '@big', '@c14', COPYFILE_FICLONE | COPYFILE_EXCL], ['copyFile', '@f', '@c15', null], ['copyFile', '@f', '@c16', 7],
  ['copyFile', '@f', '@c17', 8], ['copyFile', '@f', '@c18', -1], ['copyFile', '@f', '@c19', 1.5], ['copyFile', '@missing', '@c20', COPYFILE_FICLONE_FORCE], ['copyFile', '@d', '@c21', COPYFILE_FICLONE], ['copyFile', '@é ü', '@c13'], ['copyFile', '@f', `@${LONG_NAME}`],
  // rm: files, links, missing (with and without force), dirs without and with recursive
  ['rm', '@c1'], ['rm', '@l'], ['rm', '@dl'], ['rm', '@missing'], ['rm', '@missing', { force: true }], ['rm', '@missing/x', { force: true }],
  ['rm', '@f/x', { force: true }], ['rm', '@e'], ['rm', '@e', { recursive: true }], ['rm', '@ld', { recursive: true }], ['rm', '@d', { recursive: true }],
  ['rm', '@m', { recursive: true, force: true }], ['rm', '@q', { recursive: true, maxRetries: 1 }], ['rm', '@c2', { force: 'yes' }], ['rm', ''],
  ['rm', `@${LONG_NAME}`, { recursive: true }],
];

/** The io_uring ops behind each call, when this kernel has them all. */
const OPS_OF: Record<string, string[]> = {
  mkdir: ['MKDIRAT', 'STATX'], rm: ['STATX', 'UNLINKAT'], access: ['STATX'], truncate: ['OPENAT', 'FTRUNCATE', 'CLOSE'],
  // copyFile is one native step on libuv's pool, on every backend: no ring op (its own tests below).
  copyFile: [],
};

describe('29 kaio/fs/promises: mkdir -p, rm -r, copyFile, truncate, access on io_uring', function () {
  this.timeout(Math.max(this.timeout(), 120000)); // the kernel lab (TCG) sets a longer one
  const suite = fsSuite('kaio-fsops29-');

  for (const backend of BACKENDS) {
    describe(`with the default context on ${backend}`, function () {
      let ring: kaio.Ring | undefined;
      before(async function () {
        const ctx = await suite.use(this, backend);
        ring = ctx instanceof kaio.Ring ? ctx : undefined;
      });

      const hasOps = (name: string): boolean => ring !== undefined && OPS_OF[name].every((op) => ring!.supports(op));

      it('runs the script with the same results, errors and resulting tree as node:fs/promises', async () => {
        const nodeDir = path.join(suite.base, `${backend}-node`);
        const kaioDir = path.join(suite.base, `${backend}-kaio`);
        makeTree(nodeDir);
        makeTree(kaioDir);
        const viaRing: Record<string, number> = {};
        for (const [name, ...args] of SCRIPT) {
          const want = await outcome(() => NODE[name](...resolveArgs(args, nodeDir)), nodeDir);
          let got: unknown;
          const n = await ringOps(async () => {
            got = await outcome(() => KAIO[name](...resolveArgs(args, kaioDir)), kaioDir);
          });
          viaRing[name] = (viaRing[name] ?? 0) + n;
          assert.deepStrictEqual(got, want, show(name, args));
          assert.deepStrictEqual(tree(kaioDir), tree(nodeDir), `the trees after ${show(name, args)}`);
        }
        for (const name of Object.keys(OPS_OF)) {
          if (name === 'copyFile') assert.strictEqual(viaRing[name], 0, 'copyFile: native, off the ring');
          else if (hasOps(name)) assert.ok(viaRing[name] > 0, `${name}: on the ring`);
          else assert.strictEqual(viaRing[name], 0, `${name}: ${ring ? 'this kernel lacks one of its ops' : 'not a ring'}, so node:fs does it`);
        }
      });

      it('mkdir -p sends the missing levels together: one chain after the first mkdirat, not one trip per level', async function () {
        if (!hasOps('mkdir')) skip(this, ring ? 'this kernel lacks IORING_OP_MKDIRAT (5.15)' : 'not a ring: node:fs does mkdir');
        const dir = path.join(suite.base, `${backend}-chain`);
        fs.mkdirSync(dir);
        const target = path.join(dir, 'a', 'b', 'c', 'd');
        const before = ring!.stats;
        assert.strictEqual(await kfs.mkdir(target, { recursive: true }), path.join(dir, 'a'));
        const after = ring!.stats;
        // The first mkdirat (ENOENT), then the path and its three nearest ancestors in one submission.
        assert.strictEqual(after.completed - before.completed, 1 + 4);
        assert.ok(after.enterCalls - before.enterCalls <= 3, `${after.enterCalls - before.enterCalls} io_uring_enter calls for 4 levels`);
        assert.ok(fs.statSync(target).isDirectory());
        // Six missing levels: the four nearest fail (ENOENT), then every level from the top goes again.
        const deep = path.join(dir, 'p', 'q', 'r', 's', 't', 'u');
        const b2 = ring!.stats.completed;
        assert.strictEqual(await kfs.mkdir(deep, { recursive: true }), path.join(dir, 'p'));
        assert.strictEqual(ring!.stats.completed - b2, 1 + 4 + (deep.split('/').length - 1));
        assert.ok(fs.statSync(deep).isDirectory());
      });

      it('FileHandle stat() and truncate() match node:fs/promises (fstat via statx AT_EMPTY_PATH, ftruncate)', async () => {
        const p = path.join(suite.base, `${backend}-fh`);
        fs.writeFileSync(p, 'hello world');
        const kh = await kfs.open(p, 'r+');
        const nh = await fsp.open(p, 'r+');
        try {
          let viaRing = 0;
          for (const options of [undefined, { bigint: false }, { bigint: true }] as const) {
            let got: unknown;
            viaRing += await ringOps(async () => {
              got = await kh.stat(options as never);
            });
            const want = await nh.stat(options as never);
            assert.strictEqual(Object.getPrototypeOf(got), Object.getPrototypeOf(want));
            assert.deepStrictEqual(got, want);
          }
          viaRing += await ringOps(() => kh.truncate(4));
          assert.strictEqual(fs.readFileSync(p, 'utf8'), 'hell');
          viaRing += await ringOps(() => kh.truncate(-3));
          assert.strictEqual(fs.statSync(p).size, 0);
          await assert.rejects(kh.truncate(1.5 as never), { code: 'ERR_OUT_OF_RANGE' });
          if (ring && ring.supports('FTRUNCATE')) assert.strictEqual(viaRing, 5, 'three stats and two truncates on the ring');
          else if (ring) assert.strictEqual(viaRing, 3, 'three stats on the ring; truncate (no IORING_OP_FTRUNCATE here) on node:fs');
          else assert.strictEqual(viaRing, 0);
        } finally {
          await kh.close();
          await nh.close();
        }
        // Read-only handles: the same EINVAL; closed handles: the same EBADF-free state error.
        const kr = await kfs.open(p, 'r');
        const nr = await fsp.open(p, 'r');
        const gotTrunc = await outcome(() => kr.truncate(1), suite.base);
        const wantTrunc = await outcome(() => nr.truncate(1), suite.base);
        assert.deepStrictEqual(gotTrunc, wantTrunc);
        await kr.close();
        await nr.close();
      });

      it('FileHandle stat(): every field of the Stats and BigIntStats as Node\'s (a 2^40-byte sparse file, times before 1970 and past 2106, a directory, /dev/null), 300 calls in flight over 100 handles each get their own file\'s, and a closed handle\'s error', async () => {
        const dir = path.join(suite.base, `${backend}-fhstat`);
        fs.mkdirSync(dir);
        const big = path.join(dir, 'big');
        fs.writeFileSync(big, 'x');
        fs.truncateSync(big, 2 ** 40 + 3);
        const old = path.join(dir, 'old');
        fs.writeFileSync(old, 'y');
        fs.utimesSync(old, -1234567.891, 2 ** 33 + 0.123456);
        const fields = (s: fs.Stats | fs.BigIntStats): unknown => ({
          ctor: s.constructor.name, proto: Object.getPrototypeOf(s) === Object.getPrototypeOf(fs.statSync('/', { bigint: typeof s.size === 'bigint' })),
          own: Object.entries(s).map(([k, v]) => [k, typeof v, String(v)]),
          dates: [s.atime, s.mtime, s.ctime, s.birthtime].map((d) => d.getTime()),
          kinds: [s.isFile(), s.isDirectory(), s.isSymbolicLink(), s.isCharacterDevice(), s.isBlockDevice(), s.isFIFO(), s.isSocket()],
        });
        let viaRing = 0;
        for (const p of [big, old, dir, '/dev/null']) {
          const kh = await kfs.open(p, 'r');
          const nh = await fsp.open(p, 'r');
          try {
            for (const options of [undefined, { bigint: false }, { bigint: true }] as const) {
              let got: unknown;
              viaRing += await ringOps(async () => {
                got = fields(await kh.stat(options as never));
              });
              assert.deepStrictEqual(got, fields(await nh.stat(options as never)), `${p} ${JSON.stringify(options)}`);
            }
          } finally {
            await kh.close();
            await nh.close();
          }
        }
        if (ring) assert.strictEqual(viaRing, 12, 'every stat a statx on the ring');
        else assert.strictEqual(viaRing, 0);
        // Many at once (more than a slab of struct statx buffers): each call
        // resolves to its own file's size and inode.
        const names = Array.from({ length: 100 }, (_, i) => path.join(dir, `s${i}`));
        names.forEach((n, i) => fs.writeFileSync(n, Buffer.alloc(i * 7 + 1)));
        const handles = await Promise.all(names.map((n) => kfs.open(n, 'r')));
        try {
          const all = await Promise.all(Array.from({ length: 300 }, (_, j) => handles[j % 100].stat(j % 2 ? { bigint: true } : undefined)));
          all.forEach((s, j) => {
            const want = fs.statSync(names[j % 100], { bigint: j % 2 === 1 });
            assert.deepStrictEqual([s.size, s.ino], [want.size, want.ino], `call ${j}`);
          });
        } finally {
          await Promise.all(handles.map((h) => h.close()));
        }
        // A closed handle: the same error as Node's.
        const kc = await kfs.open(old, 'r');
        const nc = await fsp.open(old, 'r');
        await kc.close();
        await nc.close();
        assert.deepStrictEqual(await outcome(() => kc.stat(), dir), await outcome(() => nc.stat(), dir));
      });

      it('Buffer paths whose bytes are not UTF-8 name the same files as Node\'s (copyFile, truncate, rm, access)', async () => {
        const results: unknown[] = [];
        for (const [name, m] of [['kaio', kfs], ['node', fsp]] as const) {
          const d = path.join(suite.base, `${backend}-bytes-${name}`);
          fs.mkdirSync(d);
          const p = Buffer.concat([Buffer.from(`${d}/`), Buffer.from([0xff, 0x41])]);
          fs.writeFileSync(p, 'hello');
          const q = Buffer.concat([p, Buffer.from('c')]);
          await (m.copyFile as AsyncFn)(p, q);
          await (m.truncate as AsyncFn)(p, 2);
          await (m.access as AsyncFn)(q);
          const listed = fs.readdirSync(d, 'buffer').map((b) => b.toString('hex')).sort();
          const data = [fs.readFileSync(p, 'latin1'), fs.readFileSync(q, 'latin1')];
          await (m.rm as AsyncFn)(q);
          results.push([listed, data, fs.readdirSync(d, 'buffer').map((b) => b.toString('hex'))]);
        }
        assert.deepStrictEqual(results[0], results[1]);
        assert.deepStrictEqual(results[1], [['ff41', 'ff4163'], ['he', 'hello'], ['ff41']]);
      });

      it('copyFile: 100 copies at once, each byte for byte and with the source\'s mode', async () => {
        const dir = path.join(suite.base, `${backend}-many`);
        fs.mkdirSync(dir);
        const srcs = Array.from({ length: 100 }, (_, i) => {
          const p = path.join(dir, `s${i}`);
          fs.writeFileSync(p, Buffer.alloc(1000 + i * 997, i));
          fs.chmodSync(p, i % 2 ? 0o640 : 0o604);
          return p;
        });
        await Promise.all(srcs.map((s, i) => kfs.copyFile(s, path.join(dir, `k${i}`))));
        await Promise.all(srcs.map((s, i) => fsp.copyFile(s, path.join(dir, `n${i}`))));
        for (let i = 0; i < srcs.length; i++) {
          const k = fs.statSync(path.join(dir, `k${i}`));
          const n = fs.statSync(path.join(dir, `n${i}`));
          assert.strictEqual(k.mode, n.mode, `mode of copy ${i}`);
          assert.ok(fs.readFileSync(path.join(dir, `k${i}`)).equals(fs.readFileSync(srcs[i])), `data of copy ${i}`);
        }
      });

      it('copyFile of files from 256 KiB (spliced through a pipe on io_uring) copies byte for byte, as Node\'s', async () => {
        const dir = path.join(suite.base, `${backend}-large`);
        fs.mkdirSync(dir);
        for (const size of [(256 << 10) - 1, 256 << 10, (3 << 20) + 4097]) {
          const src = path.join(dir, `s${size}`);
          fs.writeFileSync(src, crypto.randomBytes(size));
          // Over an existing, longer file: truncated first, as Node's.
          fs.writeFileSync(path.join(dir, `k${size}`), Buffer.alloc(size + 5000, 1));
          await kfs.copyFile(src, path.join(dir, `k${size}`));
          await fsp.copyFile(src, path.join(dir, `n${size}`));
          assert.ok(fs.readFileSync(path.join(dir, `k${size}`)).equals(fs.readFileSync(path.join(dir, `n${size}`))), `copy of ${size} bytes`);
        }
      });

      it('copyFile across filesystems (tmpfs to the temp dir) copies, with no EXDEV', async function () {
        const fsx = mountTmpfs('8m');
        if (!fsx.mounted) skip(this, `cannot mount a tmpfs here: ${fsx.why}`);
        try {
          const src = path.join(fsx.dir, 'src');
          fs.writeFileSync(src, Buffer.alloc(2 * 1024 * 1024 + 5, 'q'));
          fs.chmodSync(src, 0o640);
          const k = path.join(suite.base, `${backend}-xfs-kaio`);
          const n = path.join(suite.base, `${backend}-xfs-node`);
          await kfs.copyFile(src, k);
          await fsp.copyFile(src, n);
          assert.ok(fs.readFileSync(k).equals(fs.readFileSync(n)));
          assert.strictEqual(fs.statSync(k).mode, fs.statSync(n).mode);
        } finally {
          fsx.unmount();
        }
      });

      it('copyFile that fills the disk: ENOSPC as Node\'s (copyfile, path, dest) and no destination left', async function () {
        const fsx = mountTmpfs('1m');
        if (!fsx.mounted) skip(this, `cannot mount a tmpfs here: ${fsx.why}`);
        try {
          const src = path.join(suite.base, `${backend}-nospc-src`);
          fs.writeFileSync(src, Buffer.alloc(3 * 1024 * 1024, 'z'));
          const results: unknown[] = [];
          for (const [name, m] of [['kaio', kfs], ['node', fsp]] as const) {
            const dest = path.join(fsx.dir, 'dest');
            results.push(await outcome(() => (m.copyFile as AsyncFn)(src, dest), fsx.dir));
            results.push(fs.readdirSync(fsx.dir));
            assert.deepStrictEqual(results.at(-1), [], `${name}: the failed copy removed its destination`);
          }
          assert.deepStrictEqual(results[0], results[2]);
          assert.strictEqual((results[0] as { error: { code: string } }).error.code, 'ENOSPC');
          // Over an existing file that does not fit: Node's error; Node's
          // libuv unlinks the file (it unlinks the destination on any
          // failure), kaio leaves the file that was there (what fit of the copy).
          for (const m of [kfs, fsp]) {
            const dest = path.join(fsx.dir, 'keep');
            fs.writeFileSync(dest, 'old');
            const ino = fs.statSync(dest).ino;
            await assert.rejects((m.copyFile as AsyncFn)(src, dest), { code: 'ENOSPC', syscall: 'copyfile' });
            if (m === fsp) assert.strictEqual(fs.existsSync(dest), false);
            else assert.strictEqual(fs.statSync(dest).ino, ino, 'kaio left the destination that was there');
            fs.rmSync(dest, { force: true });
          }
        } finally {
          fsx.unmount();
        }
      });

      it('rm -r of a tree of 2,000 files in 20 directories removes it as Node does; while files are being added, it ends as Node can (done, or ENOTEMPTY)', async () => {
        const make = (root: string): void => {
          for (let d = 0; d < 20; d++) {
            fs.mkdirSync(path.join(root, `d${d}`, 'inner'), { recursive: true });
            for (let f = 0; f < 100; f++) fs.writeFileSync(path.join(root, `d${d}`, f % 10 ? `f${f}` : `inner/f${f}`), '');
          }
        };
        const k = path.join(suite.base, `${backend}-rm-kaio`);
        make(k);
        let n = 0;
        n = await ringOps(() => kfs.rm(k, { recursive: true }));
        assert.strictEqual(fs.existsSync(k), false);
        // Below the path, one native walk removes everything; the ring does the path's lstat and first rmdir.
        if (hasOps('rm')) assert.ok(n >= 1 && n <= 2, `${n} ring ops`);
        // A writer adds files while rm runs: rm either wins or fails where Node's would (rmdir ENOTEMPTY).
        const k2 = path.join(suite.base, `${backend}-rm-race`);
        make(k2);
        let stop = false;
        let added = 0;
        const writer = (async () => {
          while (!stop) {
            await fsp.writeFile(path.join(k2, `d${added % 20}`, `new${added}`), '').catch(() => undefined);
            added++;
          }
        })();
        const r = await outcome(() => kfs.rm(k2, { recursive: true }), k2);
        stop = true;
        await writer;
        if ('error' in (r as object)) {
          const e = (r as { error: { code: string; syscall: string } }).error;
          assert.deepStrictEqual([e.code, e.syscall], ['ENOTEMPTY', 'rmdir'], JSON.stringify(r));
          // (The other entries' removals go on after the rejection, in Node's
          // rimraf as in kaio's: what is left is still changing here.)
          fs.rmSync(k2, { recursive: true, force: true, maxRetries: 5 });
        } else {
          assert.ok(!fs.existsSync(k2) || fs.readdirSync(k2).every((d) => /^d\d+$/.test(d)), 'removed (a writer may have recreated nothing but its files\' directories: it does not mkdir)');
        }
        assert.ok(added > 0, 'the writer ran');
      });

      it('as an unprivileged user (nobody): the same EACCES errors and trees for mkdir -p, rm -r, copyFile, truncate, access', function () {
        if (process.getuid?.() !== 0) skip(this, 'needs root to start a child as nobody');
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-fsops29-perm-'));
        try {
          fs.chmodSync(dir, 0o755);
          const make = (root: string): void => {
            fs.mkdirSync(root, { mode: 0o755 });
            fs.chmodSync(root, 0o755);
            fs.writeFileSync(path.join(root, 'f'), 'x');
            fs.chmodSync(path.join(root, 'f'), 0o644);
            fs.mkdirSync(path.join(root, 'closed'), { mode: 0o700 });
            fs.writeFileSync(path.join(root, 'closed', 'g'), 'y');
            fs.mkdirSync(path.join(root, 'mine', 'ro', 'sub'), { recursive: true });
            fs.writeFileSync(path.join(root, 'mine', 'ro', 'sub', 'h'), 'z');
            fs.mkdirSync(path.join(root, 'mine', 'rw', 'sub'), { recursive: true });
            fs.writeFileSync(path.join(root, 'mine', 'rw', 'sub', 'h'), 'z');
            for (const p of ['mine', 'mine/ro', 'mine/ro/sub', 'mine/ro/sub/h', 'mine/rw', 'mine/rw/sub', 'mine/rw/sub/h'])
              fs.chownSync(path.join(root, p), 65534, 65534);
            fs.chmodSync(path.join(root, 'mine', 'ro'), 0o555);
          };
          make(path.join(dir, 'kaio'));
          make(path.join(dir, 'node'));
          // (One failing entry per directory: which of two siblings fails first is a race in Node's rimraf too.)
          const calls: [string, ...unknown[]][] = [
            ['mkdir', 'x/y', { recursive: true }], ['mkdir', 'closed/x/y', { recursive: true }], ['mkdir', 'mine/ro/x/y', { recursive: true }],
            ['mkdir', 'mine/rw/a/b/c', { recursive: true }], ['access', 'closed/g'], ['access', 'f'], ['truncate', 'f', 1], ['truncate', 'closed/g'],
            ['copyFile', 'f', 'copy'], ['copyFile', 'closed/g', 'mine/rw/copy'], ['copyFile', 'f', 'mine/rw/copy'], ['copyFile', 'f', 'mine/ro/copy'],
            ['rm', 'f'], ['rm', 'closed', { recursive: true }], ['rm', 'mine/ro', { recursive: true }], ['rm', 'mine/ro/sub', { recursive: true }],
            ['rm', 'mine/rw', { recursive: true }], ['rm', 'closed/g', { force: true }],
          ];
          const pkg = packageForAnyUser();
          const script = `
            const fsp = require('fs/promises');
            const kfs = require(${JSON.stringify(path.join(pkg, 'dist/lib/fs/promises.js'))});
            const kaio = require(${JSON.stringify(pkg)});
            const dir = ${JSON.stringify(dir)};
            const shape = (e) => ({ ctor: e.constructor.name, message: e.message.split(dir).join('<D>'), code: e.code, errno: e.errno, syscall: e.syscall, path: e.path && e.path.split(dir).join('<D>'), dest: e.dest && e.dest.split(dir).join('<D>') });
            (async () => {
              const out = [];
              for (const [name, ...args] of ${JSON.stringify(calls)}) {
                const run = async (m, sub) => {
                  const a = args.map((x, i) => (typeof x === 'string' && (i === 0 || name === 'copyFile') ? require('path').join(dir, sub, x) : x));
                  try { const r = await m[name](...a); return { ok: typeof r === 'string' ? r.split(dir).join('<D>') : r ?? null }; } catch (e) { return { error: shape(e) }; }
                };
                const before = kaio.defaultContext().stats?.completed ?? 0;
                const k = await run(kfs, 'kaio');
                const ring = (kaio.defaultContext().stats?.completed ?? 0) - before;
                const n = await run(fsp, 'node');
                out.push([name, args, k, n, ring]);
              }
              console.log(JSON.stringify({ backend: kaio.defaultContext().backend, out }));
              await kaio.defaultContext().close();
            })().catch((e) => { console.error(e); process.exit(1); });`;
          const r = cp.spawnSync(process.execPath, ['-e', script], { uid: 65534, gid: 65534, encoding: 'utf8', env: { ...process.env, KAIO_BACKEND: backend } });
          assert.strictEqual(r.status, 0, r.stderr);
          const res = JSON.parse(r.stdout) as { backend: string; out: [string, unknown[], unknown, unknown, number][] };
          assert.strictEqual(res.backend, backend);
          const codes: string[] = [];
          let viaRing = 0;
          for (const [name, args, k, n, ops] of res.out) {
            const kk = JSON.stringify(k).split('/kaio/').join('/X/').split('/kaio\'').join('/X\'');
            const nn = JSON.stringify(n).split('/node/').join('/X/').split('/node\'').join('/X\'');
            assert.deepStrictEqual(JSON.parse(kk), JSON.parse(nn), `${name}(${args.join(', ')})`);
            codes.push(`${name}:${(n as { error?: { code: string } }).error?.code ?? 'ok'}`);
            viaRing += ops;
          }
          for (const want of ['mkdir:EACCES', 'access:EACCES', 'truncate:EACCES', 'copyFile:EACCES', 'rm:EACCES'])
            assert.ok(codes.includes(want), `${want} in ${codes.join(' ')}`);
          assert.deepStrictEqual(tree(path.join(dir, 'kaio')), tree(path.join(dir, 'node')));
          if (backend === 'io_uring') assert.ok(viaRing > 0, 'the child\'s calls went through its ring');
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      });
    });
  }
});

/**
 * Moves every directory found 8 or more levels below root up to root itself (renames relative to a
 * directory reached by chdir, one level at a time), so that no path under root passes PATH_MAX: the
 * PATH_MAX test leaves its deepest levels in place, and busybox's rm (the kernel lab's) cannot remove
 * a path that long where GNU rm can.
 */
function hoistDeepLevels(root: string): void {
  const home = process.cwd();
  let n = 0;
  const visit = (depth: number): boolean => {
    for (const e of fs.readdirSync('.', { withFileTypes: true })) {
      if (!e.isDirectory()) continue;
      if (depth >= 8) {
        fs.renameSync(e.name, path.join(root, `hoisted-${n++}`));
        return true;
      }
      process.chdir(e.name);
      const moved = visit(depth + 1);
      process.chdir('..');
      if (moved) return true;
    }
    return false;
  };
  try {
    process.chdir(root);
    while (visit(0)) process.chdir(root);
  } finally {
    process.chdir(home);
  }
}

// rm -r's native walk (binding.rmChildren: below the path rm was given,
// every directory listed and its entries removed relative to its fd, on
// libuv's pool) against node:fs/promises' rimraf: entries of every type, listings longer
// than one getdents64 buffer, a failure in the middle of a directory, paths
// that reach PATH_MAX.
describe('29 kaio/fs/promises: rm -r lists and unlinks each directory natively, with Node\'s results', function () {
  this.timeout(Math.max(this.timeout(), 120000)); // the kernel lab (TCG) sets a longer one
  let base: string;
  let ring: kaio.Ring | undefined;
  const savedBackend = process.env.KAIO_BACKEND;

  before(async function () {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-fsops29-rm-'));
    process.env.KAIO_BACKEND = 'io_uring';
    await kaio.defaultContext().close();
    let ctx: kaio.IoContext;
    try {
      ctx = kaio.defaultContext();
    } catch (e) {
      skip(this, `io_uring cannot be set up here: ${(e as Error).message}`);
    }
    ring = ctx instanceof kaio.Ring && ctx.supports('STATX') && ctx.supports('UNLINKAT') ? ctx : undefined;
    if (!ring) skip(this, 'this kernel lacks IORING_OP_UNLINKAT (5.11): node:fs does rm');
  });
  after(async () => {
    if (savedBackend === undefined) delete process.env.KAIO_BACKEND;
    else process.env.KAIO_BACKEND = savedBackend;
    await kaio.defaultContext().close();
    if (base) {
      hoistDeepLevels(base);
      cp.execFileSync('rm', ['-rf', base]);
    }
  });

  /** Runs rm through both modules on twin trees made by make(root); returns both outcomes and the ring ops kaio's took. */
  async function both(make: (root: string) => void, sub: string, options: object = { recursive: true }): Promise<{ k: unknown; n: unknown; ops: number; kDir: string; nDir: string }> {
    const kDir = path.join(base, `${sub}-kaio`);
    const nDir = path.join(base, `${sub}-node`);
    fs.mkdirSync(kDir);
    fs.mkdirSync(nDir);
    make(kDir);
    make(nDir);
    let k: unknown;
    const ops = await ringOps(async () => {
      k = await outcome(() => kfs.rm(path.join(kDir, 't'), options as never), kDir);
    });
    const n = await outcome(() => fsp.rm(path.join(nDir, 't'), options as never), nDir);
    return { k, n, ops, kDir, nDir };
  }

  it('entries of every type (links not followed, FIFOs, hard links, empty and nested directories, 3,000 names in one directory): removed as Node removes them, with two ring ops (the path\'s lstat and rmdir), not one per file or directory', async () => {
    const make = (root: string): void => {
      const t = path.join(root, 't');
      fs.mkdirSync(path.join(t, 'a', 'b', 'c'), { recursive: true });
      fs.mkdirSync(path.join(t, 'empty'));
      fs.mkdirSync(path.join(root, 'outside'));
      fs.writeFileSync(path.join(root, 'outside', 'kept'), 'kept');
      fs.writeFileSync(path.join(root, 'outside', 'linked'), 'linked');
      fs.symlinkSync(path.join(root, 'outside'), path.join(t, 'to-dir'));
      fs.symlinkSync(path.join(root, 'outside', 'kept'), path.join(t, 'a', 'to-file'));
      fs.symlinkSync('nowhere', path.join(t, 'a', 'b', 'dangling'));
      fs.linkSync(path.join(root, 'outside', 'linked'), path.join(t, 'a', 'hard'));
      cp.execFileSync('mkfifo', [path.join(t, 'a', 'b', 'c', 'fifo')]);
      const many = path.join(t, 'many');
      fs.mkdirSync(many);
      // 3,000 names of 60 bytes: about 240 KiB of getdents64 records, several listings.
      for (let i = 0; i < 3000; i++) fs.writeFileSync(path.join(many, `${String(i).padStart(4, '0')}-${'x'.repeat(55)}`), '');
    };
    const { k, n, ops, kDir, nDir } = await both(make, 'types');
    assert.deepStrictEqual(k, n);
    assert.deepStrictEqual(k, { ok: undefined });
    assert.deepStrictEqual(tree(kDir), tree(nDir));
    assert.deepStrictEqual(Object.keys(tree(kDir)).sort(), ['outside', 'outside/kept', 'outside/linked']);
    // An lstat and an rmdir (ENOTEMPTY) of t; below it, the native walk.
    assert.ok(ops > 0 && ops <= 2, `${ops} ring ops for 3,006 entries`);
  });

  it('a file that cannot be unlinked in the middle of a directory (immutable): Node\'s error (unlink EPERM, so rmdir, EPERM, so readdir: ENOTDIR), the rest removed, the same tree left', async function () {
    const probe = path.join(base, 'chattr-probe');
    fs.writeFileSync(probe, '');
    if (cp.spawnSync('chattr', ['+i', probe]).status !== 0) skip(this, 'chattr +i does not work here (needs root and a filesystem with FS_IMMUTABLE_FL)');
    cp.spawnSync('chattr', ['-i', probe]);
    const stuck: string[] = [];
    const make = (root: string): void => {
      const t = path.join(root, 't');
      fs.mkdirSync(path.join(t, 'd', 'inner'), { recursive: true });
      for (let i = 0; i < 200; i++) fs.writeFileSync(path.join(t, 'd', `f${i}`), '');
      for (let i = 0; i < 50; i++) fs.writeFileSync(path.join(t, 'd', 'inner', `g${i}`), '');
      const p = path.join(t, 'd', 'f100');
      cp.execFileSync('chattr', ['+i', p]);
      stuck.push(p);
    };
    try {
      const { k, n, kDir, nDir } = await both(make, 'eperm');
      assert.deepStrictEqual(k, n);
      assert.deepStrictEqual((k as { error: { code: string; syscall: string; path: string } }).error,
        { ...(k as { error: object }).error, code: 'ENOTDIR', syscall: 'scandir', path: '<D>/t/d/f100' });
      // Both rimrafs go on with the other entries after the rejection: wait for them to be done.
      const want = ['t', 't/d', 't/d/f100'];
      assert.deepStrictEqual(Object.keys(tree(kDir)).sort(), want, 'kaio\'s native step has removed the rest before it rejects');
      // (A walk can meet an entry Node's rimraf removes under it: ENOENT then means "not done yet".)
      const entries = (dir: string): number => {
        try {
          return Object.keys(tree(dir)).length;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT') return -1;
          throw e;
        }
      };
      for (let i = 0; i < 1000 && entries(nDir) !== want.length; i++) await new Promise((r) => setTimeout(r, 5));
      assert.deepStrictEqual(tree(kDir), tree(nDir));
    } finally {
      for (const p of stuck) cp.spawnSync('chattr', ['-i', p]);
    }
  });

  it('on a filesystem whose listing gives no types (ext4 without filetype: DT_UNKNOWN): each entry lstat()ed first, as Node\'s rimraf does, the same results and tree', async function () {
    if (process.getuid?.() !== 0) skip(this, 'needs root to make and mount a filesystem');
    const img = path.join(base, 'notype.img');
    const mnt = path.join(base, 'notype');
    fs.mkdirSync(mnt);
    fs.writeFileSync(img, '');
    fs.truncateSync(img, 16 * 1024 * 1024);
    const mk = cp.spawnSync('mkfs.ext4', ['-q', '-F', '-O', '^filetype,^has_journal', img], { encoding: 'utf8' });
    if (mk.status !== 0) skip(this, `mkfs.ext4 cannot make the image here: ${(mk.stderr || mk.error?.message || '').trim()}`);
    const mo = cp.spawnSync('mount', ['-o', 'loop', img, mnt], { encoding: 'utf8' });
    if (mo.status !== 0) skip(this, `cannot loop-mount an ext4 image here: ${(mo.stderr || mo.error?.message || '').trim()}`);
    try {
      const make = (root: string): void => {
        const t = path.join(root, 't');
        fs.mkdirSync(path.join(t, 'd', 'e'), { recursive: true });
        for (let i = 0; i < 40; i++) fs.writeFileSync(path.join(t, i % 2 ? `f${i}` : `d/f${i}`), '');
        fs.writeFileSync(path.join(root, 'kept'), 'kept');
        fs.symlinkSync(path.join(root, 'kept'), path.join(t, 'to-file'));
        fs.symlinkSync(path.join(root), path.join(t, 'd', 'to-dir'));
      };
      const kDir = path.join(mnt, 'kaio');
      const nDir = path.join(mnt, 'node');
      for (const d of [kDir, nDir]) {
        fs.mkdirSync(d);
        make(d);
      }
      let k: unknown;
      const ops = await ringOps(async () => {
        k = await outcome(() => kfs.rm(path.join(kDir, 't'), { recursive: true }), kDir);
      });
      const n = await outcome(() => fsp.rm(path.join(nDir, 't'), { recursive: true }), nDir);
      assert.deepStrictEqual(k, n);
      assert.deepStrictEqual(k, { ok: undefined });
      assert.deepStrictEqual(tree(kDir), tree(nDir));
      assert.deepStrictEqual(Object.keys(tree(kDir)), ['kept']);
      // 44 entries of unknown type: each an lstat (fstatat) in the native walk, not on the ring (its lstat and rmdir of t only).
      assert.ok(ops > 0 && ops <= 2, `${ops} ring ops`);
    } finally {
      cp.spawnSync('umount', [mnt]);
    }
  });

  it('entries whose path reaches PATH_MAX: ENAMETOOLONG from unlink, as Node\'s (lstat, then unlink, of the whole path)', async () => {
    for (const kind of ['file', 'dir'] as const) {
      let deepest = '';
      const make = (root: string): void => {
        // Levels of 200 bytes until the directory's path is 4,000 bytes or more; then a child of 150 bytes.
        let d = path.join(root, 't');
        while (d.length < 4000 - 201) d = path.join(d, 'L'.repeat(200));
        d = path.join(d, 'L'.repeat(4000 - d.length - 1));
        fs.mkdirSync(d, { recursive: true });
        const child = 'c'.repeat(150);
        cp.execFileSync(kind === 'file' ? 'touch' : 'mkdir', [child], { cwd: d });
        deepest = d.slice(root.length);
      };
      const { k, n, kDir, nDir } = await both(make, `long-${kind}`);
      assert.deepStrictEqual(k, n, kind);
      const e = (k as { error: { code: string; syscall: string; path: string } }).error;
      assert.deepStrictEqual([e.code, e.syscall, e.path], ['ENAMETOOLONG', 'unlink', `<D>${deepest}/${'c'.repeat(150)}`], kind);
      assert.ok(fs.existsSync(path.join(kDir, deepest)) && fs.existsSync(path.join(nDir, deepest)), `${kind}: the deepest directory is left in both`);
    }
  });

  it('the native walk does not follow a symlink put where the directory was (O_DIRECTORY with O_NOFOLLOW): the link goes, its target keeps its files', async () => {
    const target = path.join(base, 'swap-target');
    fs.mkdirSync(target);
    for (let i = 0; i < 5; i++) fs.writeFileSync(path.join(target, `f${i}`), 'keep');
    const link = path.join(base, 'swap-link');
    fs.symlinkSync(target, link);
    // What rm -r's walk would call if the directory it lstat()ed were swapped for this link since.
    const r = await binding.rmChildrenBegin(Buffer.from(link));
    assert.equal(r, 0);
    assert.deepEqual(fs.readdirSync(target).sort(), ['f0', 'f1', 'f2', 'f3', 'f4']);
    assert.equal(fs.existsSync(link), false);
  });

  it('a directory swapped for a symlink to outside the tree after its rmdir said ENOTEMPTY: the link goes, the files outside stay (Node\'s readdir would follow it)', async () => {
    const { _rmChildren } = require('../dist/lib/fs/tree') as typeof import('../dist/lib/fs/tree'); // eslint-disable-line @typescript-eslint/no-require-imports
    const outside = path.join(base, 'swap2-outside');
    fs.mkdirSync(path.join(outside, 'deeper'), { recursive: true });
    for (let i = 0; i < 5; i++) fs.writeFileSync(path.join(outside, `f${i}`), 'keep');
    fs.writeFileSync(path.join(outside, 'deeper', 'g'), 'keep');
    const tree = path.join(base, 'swap2-tree');
    fs.mkdirSync(tree);
    fs.symlinkSync(outside, path.join(tree, 'sub'));
    // The step rm -r takes for tree/sub after rmdir(tree/sub) said ENOTEMPTY, with the swap made in between.
    const err = await _rmChildren(ring!, path.join(tree, 'sub')).then(() => undefined, (e: Error) => e);
    assert.deepEqual(fs.readdirSync(outside).sort(), ['deeper', 'f0', 'f1', 'f2', 'f3', 'f4'], 'nothing outside the tree removed');
    assert.equal(err, undefined);
    assert.deepEqual(fs.readdirSync(path.join(outside, 'deeper')), ['g']);
    assert.deepEqual(fs.readdirSync(tree), [], 'the link itself removed');
    // A file swapped in: Node's readdir error (ENOTDIR, scandir), as before.
    fs.writeFileSync(path.join(tree, 'file'), 'x');
    const k = await _rmChildren(ring!, Buffer.from(path.join(tree, 'file'))).then(() => undefined, (e: NodeJS.ErrnoException) => [e.code, e.errno, e.syscall, e.path, e.message]);
    const n = await fsp.readdir(path.join(tree, 'file')).then(() => undefined, (e: NodeJS.ErrnoException) => [e.code, e.errno, e.syscall, e.path, e.message]);
    assert.deepEqual(k, n);
    assert.deepEqual(fs.readdirSync(tree), ['file']);
  });

  it('a level above the directory swapped for a symlink to outside the tree (rm -r of tree, tree/sub swapped just before tree/sub/deeper is opened): the walk goes on in the directory it opened, the files outside stay (Node\'s walk by path follows it)', async () => {
    const { _rmChildren } = require('../dist/lib/fs/tree') as typeof import('../dist/lib/fs/tree'); // eslint-disable-line @typescript-eslint/no-require-imports
    const outside = path.join(base, 'swap3-outside');
    fs.mkdirSync(path.join(outside, 'deeper'), { recursive: true });
    for (let i = 0; i < 5; i++) fs.writeFileSync(path.join(outside, 'deeper', `g${i}`), 'keep');
    const tree = path.join(base, 'swap3-tree');
    fs.mkdirSync(path.join(tree, 'sub', 'deeper'), { recursive: true });
    for (let i = 0; i < 5; i++) fs.writeFileSync(path.join(tree, 'sub', 'deeper', `g${i}`), 'in tree');
    binding._rmHook(RM_HOOK_BEFORE_OPEN, 'deeper', path.join(tree, 'sub'), path.join(tree, 'moved'), outside);
    let err: NodeJS.ErrnoException | undefined;
    try {
      err = await kfs.rm(tree, { recursive: true }).then(() => undefined, (e: NodeJS.ErrnoException) => e);
    } finally {
      binding._rmHook(0, '', '', '', '');
    }
    assert.deepEqual(fs.readdirSync(path.join(outside, 'deeper')).sort(), ['g0', 'g1', 'g2', 'g3', 'g4'], 'nothing outside the tree removed');
    assert.ok(fs.lstatSync(path.join(tree, 'sub')).isSymbolicLink(), 'the swap was made');
    assert.deepEqual(fs.readdirSync(path.join(tree, 'moved')), [], 'the directory the walk had opened emptied');
    // tree/sub's final rmdir meets the link: rmdir's ENOTDIR, as Node's rmdir(tree/sub) would.
    assert.deepEqual([err?.code, err?.syscall, err?.path], ['ENOTDIR', 'rmdir', path.join(tree, 'sub')]);
    // The same walk from the root the user named, through a symlink of its own: followed, as the path says.
    const real = path.join(base, 'swap3-real');
    fs.mkdirSync(path.join(real, 'a', 'b'), { recursive: true });
    for (let i = 0; i < 5; i++) fs.writeFileSync(path.join(real, 'a', 'b', `h${i}`), 'x');
    fs.symlinkSync(real, path.join(base, 'swap3-via'));
    const via = path.join(base, 'swap3-via');
    await _rmChildren(ring!, path.join(via, 'a', 'b'));
    assert.equal(fs.existsSync(path.join(real, 'a', 'b')), false);
    fs.mkdirSync(path.join(real, 'a', 'c', 'd'), { recursive: true });
    fs.writeFileSync(path.join(real, 'a', 'c', 'd', 'e'), 'x');
    await kfs.rm(path.join(via, 'a'), { recursive: true });
    assert.deepEqual(fs.readdirSync(real), []);
  });

  it('a mount point inside the tree: Node\'s error (rmdir EBUSY), the mounted filesystem\'s files kept, the same tree left', async function () {
    if (process.getuid?.() !== 0) skip(this, 'needs root to mount a tmpfs');
    const mounts: string[] = [];
    const make = (root: string): void => {
      const t = path.join(root, 't');
      fs.mkdirSync(path.join(t, 'a', 'm'), { recursive: true });
      for (let i = 0; i < 10; i++) fs.writeFileSync(path.join(t, 'a', `f${i}`), '');
      const m = path.join(t, 'a', 'm');
      const r = cp.spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', m], { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`mount: ${r.stderr}`);
      mounts.push(m);
      fs.writeFileSync(path.join(m, 'kept'), 'kept');
    };
    try {
      const { k, n, kDir, nDir } = await both(make, 'mount');
      assert.deepStrictEqual(k, n);
      const e = (k as { error: { code: string; syscall: string; path: string } }).error;
      assert.deepStrictEqual([e.code, e.syscall, e.path], ['EBUSY', 'rmdir', '<D>/t/a/m']);
      // Node's rimraf goes on with the other entries after its rejection: wait for its tree to settle.
      for (let i = 0; i < 1000 && Object.keys(tree(nDir)).length !== Object.keys(tree(kDir)).length; i++) await new Promise((r) => setTimeout(r, 5));
      assert.deepStrictEqual(tree(kDir), tree(nDir));
      assert.deepStrictEqual(Object.keys(tree(kDir)).sort(), ['t', 't/a', 't/a/m', 't/a/m/kept']);
    } finally {
      for (const m of mounts) cp.spawnSync('umount', [m]);
    }
  });

  it('a level swapped for a symlink to outside the tree just before a directory\'s last rmdir: the empty directory of that name outside stays (the rmdir is relative to the parent\'s fd)', async () => {
    const outside = path.join(base, 'swap4-outside');
    fs.mkdirSync(path.join(outside, 'deeper'), { recursive: true });
    const tree = path.join(base, 'swap4-tree');
    fs.mkdirSync(path.join(tree, 'sub', 'deeper'), { recursive: true });
    for (let i = 0; i < 5; i++) fs.writeFileSync(path.join(tree, 'sub', 'deeper', `g${i}`), 'in tree');
    // Once tree/sub/deeper is emptied, before its rmdir: tree/sub moves, a link to outside takes its name.
    binding._rmHook(RM_HOOK_BEFORE_FINAL_RMDIR, 'deeper', path.join(tree, 'sub'), path.join(tree, 'moved'), outside);
    let err: NodeJS.ErrnoException | undefined;
    try {
      err = await kfs.rm(tree, { recursive: true }).then(() => undefined, (e: NodeJS.ErrnoException) => e);
    } finally {
      binding._rmHook(0, '', '', '', '');
    }
    assert.ok(fs.lstatSync(path.join(tree, 'sub')).isSymbolicLink(), 'the swap was made');
    assert.ok(fs.statSync(path.join(outside, 'deeper')).isDirectory(), 'the empty directory outside the tree is still there');
    assert.deepEqual(fs.readdirSync(path.join(tree, 'moved')), [], 'the in-tree directory removed where it went');
    assert.deepEqual([err?.code, err?.syscall, err?.path], ['ENOTDIR', 'rmdir', path.join(tree, 'sub')]);
  });

  it('an entry whose unlink failed (immutable), its level swapped for a symlink to outside before rimraf\'s rmdir of it: what bears its name outside (a file, an empty directory) stays; Node\'s error', async function () {
    const probe = path.join(base, 'chattr-probe5');
    fs.writeFileSync(probe, '');
    if (cp.spawnSync('chattr', ['+i', probe]).status !== 0) skip(this, 'chattr +i does not work here (needs root and a filesystem with FS_IMMUTABLE_FL)');
    cp.spawnSync('chattr', ['-i', probe]);
    for (const kind of ['file', 'dir'] as const) {
      const outside = path.join(base, `swap5-${kind}-outside`);
      fs.mkdirSync(outside);
      if (kind === 'file') fs.writeFileSync(path.join(outside, 'f'), 'keep');
      else fs.mkdirSync(path.join(outside, 'f'));
      const tree = path.join(base, `swap5-${kind}-tree`);
      fs.mkdirSync(path.join(tree, 'd'), { recursive: true });
      const stuck = path.join(tree, 'd', 'f');
      fs.writeFileSync(stuck, 'in tree');
      cp.execFileSync('chattr', ['+i', stuck]);
      // unlink(tree/d/f): EPERM; Node's rimraf then tries rmdir(tree/d/f). In between: tree/d moves, a link to outside takes its name.
      binding._rmHook(RM_HOOK_AFTER_FAILED_UNLINK, 'f', path.join(tree, 'd'), path.join(tree, 'moved'), outside);
      let err: NodeJS.ErrnoException | undefined;
      try {
        err = await kfs.rm(tree, { recursive: true }).then(() => undefined, (e: NodeJS.ErrnoException) => e);
      } finally {
        binding._rmHook(0, '', '', '', '');
        cp.spawnSync('chattr', ['-i', path.join(tree, 'moved', 'f')]);
      }
      assert.ok(fs.lstatSync(path.join(tree, 'd')).isSymbolicLink(), `${kind}: the swap was made`);
      assert.ok(fs.existsSync(path.join(outside, 'f')), `${kind}: outside/f is still there`);
      if (kind === 'file') assert.equal(fs.readFileSync(path.join(outside, 'f'), 'utf8'), 'keep');
      assert.equal(fs.readFileSync(path.join(tree, 'moved', 'f'), 'utf8'), 'in tree');
      // Node's error: unlink EPERM, so rmdir: EPERM (immutable), so readdir: ENOTDIR.
      assert.deepEqual([err?.code, err?.syscall, err?.path], ['ENOTDIR', 'scandir', stuck], kind);
    }
  });
});

// copyFile's native step (binding.copyFile: libuv's steps in one call on
// libuv's pool, the data by copy_file_range, then sendfile, then
// pread/pwrite where the one before refuses) against node:fs/promises.
describe('29 kaio/fs/promises: copyFile in one native step (copy_file_range), with Node\'s results', function () {
  this.timeout(120000);
  let base: string;
  const { MOVED_CLONE, MOVED_COPY_RANGE, MOVED_SENDFILE, MOVED_READ_WRITE, copyFileNative } =
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    require('../dist/lib/fs/copy') as typeof import('../dist/lib/fs/copy');
  const helper = path.join(__dirname, '..', 'test', 'fixtures', 'seccomp-exec.py');
  const child = path.join(__dirname, '..', 'test', 'fixtures', 'copyfile-child.js');
  const kernelAtLeast = (major: number, minor: number): boolean => {
    const [a, b] = os.release().split('.').map((x) => parseInt(x, 10));
    return a > major || (a === major && b >= minor);
  };
  const pattern = (size: number, seed = 0): Buffer => {
    const b = Buffer.allocUnsafe(size);
    for (let i = 0; i < size; i++) b[i] = (i * 2654435761 + seed) >>> 24;
    return b;
  };
  const run = (cmd: string[], timeout = 60000): cp.SpawnSyncReturns<string> =>
    cp.spawnSync(cmd[0], cmd.slice(1), { encoding: 'utf8', timeout });

  before(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-fsops29-copy-'));
  });
  after(() => fs.rmSync(base, { recursive: true, force: true }));

  it('copies 0, 1, 4095 bytes, 64 KiB, 300 KiB and 17 MiB byte for byte with copy_file_range, over longer files, as Node\'s', async () => {
    for (const size of [0, 1, 4095, 64 << 10, 300 << 10, 17 << 20]) {
      const src = path.join(base, `s${size}`);
      const data = pattern(size, size);
      fs.writeFileSync(src, data);
      fs.chmodSync(src, 0o640);
      const k = path.join(base, `k${size}`);
      const n = path.join(base, `n${size}`);
      for (const p of [k, n]) fs.writeFileSync(p, Buffer.alloc(size + 5000, 1));
      const moved = await copyFileNative(src, k, 0);
      await fsp.copyFile(src, n);
      // An empty file has no data to move; the others go by copy_file_range alone (one filesystem).
      assert.strictEqual(moved, size === 0 ? 0 : MOVED_COPY_RANGE, `the ways ${size} bytes went`);
      assert.ok(fs.readFileSync(k).equals(data), `data of ${size} bytes`);
      assert.ok(fs.readFileSync(n).equals(data));
      assert.strictEqual(fs.statSync(k).mode, fs.statSync(n).mode);
      // kaio/fs/promises' own copyFile is this step.
      fs.rmSync(k);
      await kfs.copyFile(src, k);
      assert.ok(fs.readFileSync(k).equals(data), `kfs.copyFile of ${size} bytes`);
    }
  });

  it('a new destination is not truncated, so ext4 does not write it back in the call (its blocks still delayed after it), where an existing one is, as Node\'s', async function () {
    // filefrag -v (FIEMAP) flags an extent whose blocks ext4 has not yet
    // allocated "delalloc". A truncation to 0 (Node's libuv makes one on
    // every destination, new or not) marks the inode so that its close
    // writes back what the copy dirtied (ext4's auto_da_alloc): then the
    // blocks are allocated when copyFile settles. kaio truncates only a
    // destination with bytes in it. Fails on the old code (it truncated every destination).
    if (cp.spawnSync('filefrag', ['-V']).error) skip(this, 'no filefrag (e2fsprogs) here');
    const fsType = cp.spawnSync('stat', ['-f', '-c', '%T', base], { encoding: 'utf8' }).stdout.trim();
    if (fsType !== 'ext2/ext3') skip(this, `the temp dir is on ${fsType}, not ext4`);
    const delayed = (p: string): boolean => /delalloc/.test(cp.execFileSync('filefrag', ['-v', p], { encoding: 'utf8' }));
    const src = path.join(base, 'da-src');
    const data = pattern(300 << 10, 21);
    fs.writeFileSync(src, data);
    const k = path.join(base, 'da-k');
    const n = path.join(base, 'da-n');
    await fsp.copyFile(src, n);
    if (delayed(n)) skip(this, 'this ext4 does not write back at close after a truncation (mounted noauto_da_alloc)');
    await kfs.copyFile(src, k);
    const kDelayed = delayed(k);
    assert.ok(fs.readFileSync(k).equals(data) && fs.readFileSync(n).equals(data));
    assert.strictEqual(kDelayed, true, 'kaio\'s copy into a new file is left to the kernel\'s writeback');
    // Over a file with bytes in it (which must be truncated): as Node's.
    fs.writeFileSync(k, pattern(500 << 10, 3));
    await kfs.copyFile(src, k);
    assert.strictEqual(delayed(k), false, 'truncated, then written back at close, as Node\'s');
    assert.ok(fs.readFileSync(k).equals(data));
  });

  it('an existing empty destination: the source\'s bytes and mode, and (empty source) the times a truncation sets, as Node\'s', async () => {
    const old = new Date('2001-02-03T04:05:06Z');
    for (const [size, mode, destMode] of [[5000, 0o640, 0o600], [5000, 0o644, 0o644], [0, 0o640, 0o640], [0, 0o604, 0o600]]) {
      const src = path.join(base, `empty-dest-src-${size}`);
      fs.writeFileSync(src, pattern(size, 8));
      fs.chmodSync(src, mode);
      const got = [];
      for (const [who, m] of [['k', kfs], ['n', fsp]] as const) {
        const dest = path.join(base, `empty-dest-${size}-${mode.toString(8)}-${who}`);
        fs.writeFileSync(dest, '');
        fs.chmodSync(dest, destMode);
        fs.utimesSync(dest, old, old);
        await (m.copyFile as AsyncFn)(src, dest);
        const st = fs.statSync(dest);
        got.push({ equal: fs.readFileSync(dest).equals(fs.readFileSync(src)), mode: st.mode, mtimeMoved: st.mtimeMs > old.getTime() });
      }
      assert.deepStrictEqual(got[0], got[1], `${size} bytes, mode ${mode.toString(8)} onto an empty file of mode ${destMode.toString(8)}`);
      assert.deepStrictEqual(got[0], { equal: true, mode: 0o100000 | mode, mtimeMoved: true });
    }
  });

  it('a new destination under a umask that strips the source\'s mode: the source\'s mode all the same, as Node\'s', async () => {
    const src = path.join(base, 'umask-src');
    fs.writeFileSync(src, pattern(70000, 6));
    fs.chmodSync(src, 0o755);
    const before = process.umask(0o077);
    try {
      await kfs.copyFile(src, path.join(base, 'umask-k'));
      await fsp.copyFile(src, path.join(base, 'umask-n'));
    } finally {
      process.umask(before);
    }
    assert.strictEqual(fs.statSync(path.join(base, 'umask-k')).mode, 0o100755);
    assert.strictEqual(fs.statSync(path.join(base, 'umask-n')).mode, 0o100755);
    assert.ok(fs.readFileSync(path.join(base, 'umask-k')).equals(fs.readFileSync(src)));
  });

  it('as nobody, over an existing destination with the source\'s mode: another\'s fails in fchmod (EPERM), a set-group-ID one loses the bit, as Node\'s', function () {
    if (process.getuid?.() !== 0) skip(this, 'needs root to make files of other users');
    fs.chmodSync(base, 0o755); // for nobody to reach the files
    const src = path.join(base, 'perm-src');
    const outs: Record<string, unknown>[] = [];
    for (const [label, owner, mode] of [['root\'s', 0, 0o666], ['set-group-ID', 65534, 0o2666]] as const) {
      fs.writeFileSync(src, pattern(9000, 12));
      fs.chmodSync(src, mode);
      for (const who of ['kaio', 'node']) {
        const dir = path.join(base, `perm-${owner}-${who}`);
        fs.mkdirSync(dir);
        fs.chmodSync(dir, 0o777);
        const dest = path.join(dir, 'dest');
        fs.writeFileSync(dest, 'old bytes');
        fs.chownSync(dest, owner, 0);
        fs.chmodSync(dest, mode);
        const r = run(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, child, who, src, dest]);
        if (r.error || r.status === 127) skip(this, `no setpriv here: ${r.error?.message ?? r.stderr}`);
        assert.strictEqual(r.status, 0, r.stderr);
        const o = JSON.parse(r.stdout);
        delete o.moved;
        if (o.error) o.error.message = o.error.message.replace(dest, 'DEST');
        outs.push({ label, who, ...o, mode: fs.existsSync(dest) ? (fs.statSync(dest).mode & 0o7777).toString(8) : 'gone' });
      }
      const [k, n] = outs.slice(-2);
      if (k.error) {
        // Node's libuv unlinks the destination it failed on, root's file here; kaio leaves a file it did not create.
        assert.deepStrictEqual([k.destLeft, n.destLeft, n.mode], [true, false, 'gone'], label);
        assert.strictEqual(k.mode, (mode & 0o7777).toString(8));
        delete k.destLeft, delete n.destLeft, delete k.mode, delete n.mode;
      }
      assert.deepStrictEqual({ ...k, who: 'x' }, { ...n, who: 'x' }, label);
    }
    assert.strictEqual((outs[0].error as { code: string }).code, 'EPERM');
    assert.strictEqual((outs[0].error as { syscall: string }).syscall, 'copyfile');
    assert.deepStrictEqual([outs[2].equal, outs[2].mode], [true, '666']);
  });

  it('a sparse source: the same bytes and size as Node\'s copy', async () => {
    const src = path.join(base, 'sparse');
    const fd = fs.openSync(src, 'w');
    fs.ftruncateSync(fd, 64 << 20);
    fs.writeSync(fd, pattern(4096, 7), 0, 4096, 32 << 20);
    fs.writeSync(fd, pattern(100, 9), 0, 100, (64 << 20) - 100);
    fs.closeSync(fd);
    await kfs.copyFile(src, path.join(base, 'sparse-k'));
    await fsp.copyFile(src, path.join(base, 'sparse-n'));
    const k = fs.readFileSync(path.join(base, 'sparse-k'));
    assert.strictEqual(k.length, 64 << 20);
    assert.ok(k.equals(fs.readFileSync(src)));
    assert.ok(k.equals(fs.readFileSync(path.join(base, 'sparse-n'))));
  });

  it('a source that grows while it is copied: its size at the start is copied, as Node\'s (no byte invented)', async () => {
    for (const [who, copy] of [['kaio', kfs.copyFile], ['node', fsp.copyFile]] as const) {
      const src = path.join(base, `grow-${who}`);
      const first = pattern(16 << 20, 3);
      fs.writeFileSync(src, first);
      const dest = path.join(base, `grow-${who}-copy`);
      let stop = false;
      let appended = 0;
      const writer = (async () => {
        const h = await fsp.open(src, 'a');
        while (!stop) appended += (await h.write(pattern(64 << 10, 100 + appended))).bytesWritten;
        await h.close();
      })();
      await copy(src, dest);
      stop = true;
      await writer;
      const got = fs.readFileSync(dest);
      const now = fs.readFileSync(src);
      assert.ok(got.length >= first.length && got.length <= now.length, `${who}: ${got.length} bytes of ${first.length}..${now.length}`);
      assert.ok(got.equals(now.subarray(0, got.length)), `${who}: the copy is the source's first ${got.length} bytes`);
    }
  });

  it('a source that shrinks while it is copied: what it holds is copied, no byte invented (Node copies the same or loops)', async () => {
    // Truncated during the copy: the copy ends where the source ends. A
    // copy that ran before the truncation is whole; either way a prefix of
    // the original.
    for (let round = 0; round < 5; round++) {
      const src = path.join(base, `shrink${round}`);
      const data = pattern(32 << 20, round);
      fs.writeFileSync(src, data);
      const dest = path.join(base, `shrink${round}-copy`);
      const copying = kfs.copyFile(src, dest);
      await new Promise((resolve) => setImmediate(resolve));
      fs.truncateSync(src, 1 << 20);
      await copying;
      const got = fs.readFileSync(dest);
      assert.ok(got.length >= 1 << 20 && got.length <= data.length, `${got.length} bytes`);
      assert.ok(got.equals(data.subarray(0, got.length)), 'a prefix of the original');
    }
    // A sysfs file says 4096 bytes and holds fewer, every time: kaio copies
    // what it holds; Node's libuv (1.46) calls copy_file_range for the rest
    // again and again (each returns 0), and its copyFile never settles.
    const sys = '/sys/kernel/mm/transparent_hugepage/enabled';
    if (fs.existsSync(sys) && fs.statSync(sys).size > fs.readFileSync(sys).length) {
      await kfs.copyFile(sys, path.join(base, 'sys-k'));
      assert.strictEqual(fs.readFileSync(path.join(base, 'sys-k'), 'utf8'), fs.readFileSync(sys, 'utf8'));
      const r = run([process.execPath, child, 'node', sys, path.join(base, 'sys-n')], 3000);
      if (r.error === undefined) assert.deepStrictEqual(JSON.parse(r.stdout), { equal: true }, 'a node that settles copies the same');
      else assert.strictEqual((r.error as NodeJS.ErrnoException).code, 'ETIMEDOUT');
    }
  });

  it('a /proc file (size 0): an empty copy, as Node\'s', async () => {
    await kfs.copyFile('/proc/self/status', path.join(base, 'proc-k'));
    await fsp.copyFile('/proc/self/status', path.join(base, 'proc-n'));
    assert.strictEqual(fs.statSync(path.join(base, 'proc-k')).size, 0);
    assert.strictEqual(fs.statSync(path.join(base, 'proc-n')).size, 0);
    assert.strictEqual(fs.statSync(path.join(base, 'proc-k')).mode, fs.statSync(path.join(base, 'proc-n')).mode);
  });

  it('from a tmpfs (/dev/shm) to ext4: copy_file_range refuses (EXDEV since 5.19), sendfile copies the rest', async function () {
    if (!fs.existsSync('/dev/shm')) skip(this, 'no /dev/shm here');
    const src = fs.mkdtempSync('/dev/shm/kaio-copy-');
    try {
      const data = pattern((5 << 20) + 3, 11);
      fs.writeFileSync(path.join(src, 'f'), data);
      const moved = await copyFileNative(path.join(src, 'f'), path.join(base, 'from-shm'), 0);
      assert.ok(fs.readFileSync(path.join(base, 'from-shm')).equals(data));
      assert.ok(moved & MOVED_COPY_RANGE);
      // 5.3 to 5.18 copy between any two filesystems; since 5.19 only within one type.
      if (kernelAtLeast(5, 19)) assert.strictEqual(moved, MOVED_COPY_RANGE | MOVED_SENDFILE);
      // And back, ext4 to tmpfs.
      await kfs.copyFile(path.join(base, 'from-shm'), path.join(src, 'back'));
      assert.ok(fs.readFileSync(path.join(src, 'back')).equals(data));
    } finally {
      fs.rmSync(src, { recursive: true, force: true });
    }
  });

  it('ENOSPC from copy_file_range itself (both files on one small tmpfs): Node\'s error, no destination left', async function () {
    const fsx = mountTmpfs('4m');
    if (!fsx.mounted) skip(this, `cannot mount a tmpfs here: ${fsx.why}`);
    try {
      const src = path.join(fsx.dir, 'src');
      fs.writeFileSync(src, pattern(3 << 20, 5));
      const results: unknown[] = [];
      for (const m of [kfs, fsp]) {
        results.push(await outcome(() => (m.copyFile as AsyncFn)(src, path.join(fsx.dir, 'dest')), fsx.dir));
        assert.deepStrictEqual(fs.readdirSync(fsx.dir), ['src'], 'the failed copy removed its destination');
      }
      assert.deepStrictEqual(results[0], results[1]);
      assert.strictEqual((results[0] as { error: { code: string } }).error.code, 'ENOSPC');
      // Onto an existing empty destination (kaio does not truncate it): the
      // same error; Node's libuv removes the file, kaio leaves it (it did not create it).
      const onEmpty: unknown[] = [];
      for (const m of [kfs, fsp]) {
        fs.writeFileSync(path.join(fsx.dir, 'dest'), '');
        onEmpty.push(await outcome(() => (m.copyFile as AsyncFn)(src, path.join(fsx.dir, 'dest')), fsx.dir));
        assert.deepStrictEqual(fs.readdirSync(fsx.dir), m === kfs ? ['dest', 'src'] : ['src'], 'the failed copy left the destination that was there (kaio)');
        fs.rmSync(path.join(fsx.dir, 'dest'), { force: true });
      }
      assert.deepStrictEqual(onEmpty[0], onEmpty[1]);
      assert.deepStrictEqual(onEmpty[0], results[0]);
      const e = await copyFileNative(src, path.join(fsx.dir, 'dest'), 0).then(() => undefined, (x: NodeJS.ErrnoException & { dest?: string }) => x);
      assert.strictEqual(e?.code, 'ENOSPC');
      assert.strictEqual(e?.errno, -os.constants.errno.ENOSPC);
      assert.strictEqual(e?.syscall, 'copyfile');
      assert.strictEqual(e?.path, src);
      assert.strictEqual(e?.dest, path.join(fsx.dir, 'dest'));
    } finally {
      fsx.unmount();
    }
  });

  it('EFBIG past RLIMIT_FSIZE (a child under the shell\'s ulimit -f): Node\'s error, no destination left', function () {
    const src = path.join(base, 'efbig-src');
    fs.writeFileSync(src, pattern(3 << 20, 1));
    // A new destination, then an existing empty one (which kaio does not truncate).
    for (const existing of [false, true]) {
      const outs = ['kaio', 'node'].map((who) => {
        if (existing) fs.writeFileSync(path.join(base, `efbig-${who}`), '');
        // 1 MiB in ulimit's 512-byte blocks; SIGXFSZ ignored so that the write fails with EFBIG instead.
        const r = run(['sh', '-c', 'trap \'\' XFSZ; ulimit -f 2048; exec "$@"', 'sh', process.execPath, child, who, src, path.join(base, `efbig-${who}`)]);
        assert.ok(!r.error && r.status === 0, `the child: ${r.error?.message ?? r.stderr}`);
        return JSON.parse(r.stdout);
      });
      assert.strictEqual(outs[0].error.code, 'EFBIG');
      assert.strictEqual(outs[0].error.syscall, 'copyfile');
      const shown = (o: { error: { message: string } }, who: string) => ({ ...o.error, message: o.error.message.replace(path.join(base, `efbig-${who}`), 'DEST') });
      assert.deepStrictEqual(shown(outs[0], 'kaio'), shown(outs[1], 'node'));
      // A new destination is removed; an existing one Node's libuv removes, kaio leaves.
      assert.strictEqual(outs[0].destLeft, existing, `kaio, ${existing ? 'existing empty' : 'new'} destination`);
      assert.strictEqual(outs[1].destLeft, false);
      for (const who of ['kaio', 'node']) fs.rmSync(path.join(base, `efbig-${who}`), { force: true });
    }
  });

  it('under a seccomp filter that refuses copy_file_range (and then sendfile too): the other ways copy it whole', function () {
    const src = path.join(base, 'seccomp-src');
    fs.writeFileSync(src, pattern((3 << 20) + 77, 2));
    const cases: [string, number][] = [
      ['copy_file_range', MOVED_COPY_RANGE | MOVED_SENDFILE],
      ['copy_file_range:ENOSYS', MOVED_COPY_RANGE | MOVED_SENDFILE],
      ['copy_file_range,sendfile', MOVED_COPY_RANGE | MOVED_SENDFILE | MOVED_READ_WRITE],
      ['copy_file_range:EOPNOTSUPP,sendfile:EINVAL', MOVED_COPY_RANGE | MOVED_SENDFILE | MOVED_READ_WRITE],
    ];
    for (const [rules, want] of cases) {
      const dest = path.join(base, `seccomp-${rules.replace(/[:,]/g, '-')}`);
      const r = run(['python3', helper, rules, '--', process.execPath, child, 'kaio', src, dest]);
      if (r.error || r.status === 77 || r.status === 127) skip(this, `no seccomp filter here: ${r.error?.message ?? r.stderr}`);
      assert.strictEqual(r.status, 0, r.stderr);
      assert.deepStrictEqual(JSON.parse(r.stdout), { moved: want, equal: true }, rules);
    }
  });

  it('COPYFILE_FICLONE tries an ioctl FICLONE and copies where it fails; COPYFILE_FICLONE_FORCE fails with Node\'s error and leaves nothing', async () => {
    const src = path.join(base, 'clone-src');
    fs.writeFileSync(src, pattern(100000, 4));
    // Whether this filesystem clones (btrfs, xfs with reflink) or not (ext4, tmpfs): kaio as Node.
    const nodeForce = await fsp.copyFile(src, path.join(base, 'clone-n'), COPYFILE_FICLONE_FORCE).then(() => 'ok', (e: NodeJS.ErrnoException) => e.code);
    const moved = await copyFileNative(src, path.join(base, 'clone-k'), COPYFILE_FICLONE);
    assert.ok(fs.readFileSync(path.join(base, 'clone-k')).equals(fs.readFileSync(src)));
    assert.strictEqual(moved, nodeForce === 'ok' ? MOVED_CLONE : MOVED_COPY_RANGE);
    for (const mode of [COPYFILE_FICLONE_FORCE, COPYFILE_FICLONE_FORCE | COPYFILE_EXCL, COPYFILE_FICLONE_FORCE | COPYFILE_FICLONE]) {
      const results = [];
      for (const [who, m] of [['k', kfs], ['n', fsp]] as const) {
        const dest = path.join(base, `force-${mode}-${who}`);
        // A new destination: the failed clone removes it.
        const r = await (m.copyFile as AsyncFn)(src, dest, mode).then(() => 'ok', (e: NodeJS.ErrnoException) => [e.code, e.errno, e.syscall, e.message.replace(dest, 'DEST')]);
        results.push([r, fs.existsSync(dest)]);
      }
      assert.deepStrictEqual(results[0], results[1], `mode ${mode}`);
      if (nodeForce !== 'ok') assert.strictEqual(results[0][1], false, 'the failed clone removed the destination it created');
    }
    if (nodeForce !== 'ok') {
      // A destination that was there before: Node's error, but kaio leaves
      // the file (Node's libuv unlinks it, as it unlinks whatever it opened).
      const errors = [];
      for (const [who, m] of [['k', kfs], ['n', fsp]] as const) {
        const dest = path.join(base, `force-old-${who}`);
        fs.writeFileSync(dest, 'old');
        fs.linkSync(dest, `${dest}-link`);
        errors.push(await (m.copyFile as AsyncFn)(src, dest, COPYFILE_FICLONE_FORCE).then(() => 'ok', (e: NodeJS.ErrnoException) => [e.code, e.errno, e.syscall, e.message.replace(dest, 'DEST')]));
      }
      assert.deepStrictEqual(errors[0], errors[1]);
      assert.ok(fs.existsSync(path.join(base, 'force-old-k')), 'kaio left the destination that was there');
      assert.strictEqual(fs.statSync(path.join(base, 'force-old-k')).ino, fs.statSync(path.join(base, 'force-old-k-link')).ino, 'the same file');
    }
  });

  it('a destination that is a device node refusing ftruncate (as root): Node\'s EINVAL, and the node is left (Node\'s libuv unlinks it)', async function () {
    if (process.getuid?.() !== 0) skip(this, 'mknod needs root');
    const src = path.join(base, 'dev-src');
    fs.writeFileSync(src, 'data');
    fs.chmodSync(src, 0o600);
    const results = [];
    for (const [who, m] of [['k', kfs], ['n', fsp]] as const) {
      const dev = path.join(base, `null-${who}`);
      // A second /dev/null (char 1,3): what copyFile(src, '/dev/null') meets as root.
      const r = run(['mknod', dev, 'c', '1', '3']);
      if (r.status !== 0) skip(this, `mknod: ${r.stderr}`);
      const e = await (m.copyFile as AsyncFn)(src, dev).then(() => undefined, (x: NodeJS.ErrnoException) => x);
      results.push([e?.code, e?.errno, e?.syscall, e?.message.replace(dev, 'DEST'), fs.existsSync(dev)]);
    }
    assert.strictEqual(results[0][0], 'EINVAL');
    assert.deepStrictEqual(results[0].slice(0, 4), results[1].slice(0, 4), 'Node\'s error');
    assert.strictEqual(results[0][4], true, 'kaio left the device node');
    assert.ok(fs.lstatSync(path.join(base, 'null-k')).isCharacterDevice());
    // Its mode as mknod made it: not the source's (no fchmod after the refused ftruncate, as Node's).
    assert.strictEqual(fs.lstatSync(path.join(base, 'null-k')).mode & 0o7777, 0o666 & ~process.umask());
  });

  it('COPYFILE_EXCL onto an existing file, a dangling symlink, a directory: Node\'s EEXIST, nothing removed or created', async () => {
    const src = path.join(base, 'excl-src');
    fs.writeFileSync(src, 'new');
    for (const [who, m] of [['k', kfs], ['n', fsp]] as const) {
      const d = path.join(base, `excl-${who}`);
      fs.mkdirSync(d);
      fs.writeFileSync(path.join(d, 'file'), 'old');
      fs.symlinkSync('nowhere', path.join(d, 'dangling'));
      fs.mkdirSync(path.join(d, 'dir'));
      for (const name of ['file', 'dangling', 'dir']) {
        await assert.rejects((m.copyFile as AsyncFn)(src, path.join(d, name), COPYFILE_EXCL), { code: 'EEXIST', syscall: 'copyfile' }, `${who} ${name}`);
      }
      assert.strictEqual(fs.readFileSync(path.join(d, 'file'), 'utf8'), 'old');
      assert.deepStrictEqual(fs.readdirSync(d).sort(), ['dangling', 'dir', 'file']);
    }
    // Without COPYFILE_EXCL a dangling symlink's target is created and written, as Node's.
    for (const [who, m] of [['k', kfs], ['n', fsp]] as const) {
      const d = path.join(base, `excl-${who}`);
      await (m.copyFile as AsyncFn)(src, path.join(d, 'dangling'));
      assert.strictEqual(fs.readFileSync(path.join(d, 'nowhere'), 'utf8'), 'new', who);
      assert.ok(fs.lstatSync(path.join(d, 'dangling')).isSymbolicLink());
    }
  });
});
