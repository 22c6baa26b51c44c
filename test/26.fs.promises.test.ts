// kaio/fs/promises against node:fs/promises: the same surface, and every
// call made with the same arguments through both modules, on every backend
// the default context can be (io_uring, where stat/lstat/unlink/rmdir/mkdir/
// rename/symlink/link go through the ring; aio and threadpool, where they
// are Node's). Results, errors and the resulting trees are compared.
import assert from 'node:assert/strict';
import cp from 'node:child_process';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import * as kaio from 'kaio';
import kfsDefault, * as kfs from 'kaio/fs/promises';
import { expectTypeOf } from 'expect-type';
import { BACKENDS, packageForAnyUser, skip } from './helpers';
import { type AnyFn, fsSuite, type AsyncFn, B, LONG_NAME, LONG_PATH, outcome, resolveArgs, ringOps, show, tree, U } from './fs-compare';

type Mod = Record<string, AnyFn>;
const NODE = fsp as unknown as Mod;
const KAIO = kfs as unknown as Mod;

function makeTree(dir: string): void {
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'f'), 'hello');
  fs.mkdirSync(path.join(dir, 'd'));
  fs.writeFileSync(path.join(dir, 'd', 'g'), 'inside');
  fs.mkdirSync(path.join(dir, 'e'));
  fs.mkdirSync(path.join(dir, 'full'));
  fs.writeFileSync(path.join(dir, 'full', 'x'), '');
  fs.symlinkSync('f', path.join(dir, 'l'));
  fs.symlinkSync('nope', path.join(dir, 'dl'));
  fs.symlinkSync('d', path.join(dir, 'ld'));
  fs.writeFileSync(path.join(dir, 'é ü'), 'non-ascii');
}

/** The script both modules run, in order, on their own copy of the tree (test/fs-compare.ts: '@x', B, U). */
const SCRIPT: [string, ...unknown[]][] = [
  // stat / lstat: files, dirs, symlinks (to a file, to a dir, dangling), missing, through a file
  ...['@f', '@d', '@l', '@dl', '@ld', '@missing', '@f/x', '@é ü', '@', `@${LONG_NAME}`, `@${LONG_PATH}`, ''].flatMap((p): [string, ...unknown[]][] => [
    ['stat', p], ['lstat', p], ['stat', p, { bigint: true }], ['lstat', p, { bigint: true }],
  ]),
  ['stat', B('@f')], ['stat', U('@d')], ['lstat', U('@l'), { bigint: false }], ['stat', '@f', 5], ['stat', '@f', 'x'],
  // unlink
  ['unlink', '@missing'], ['unlink', '@d'], ['unlink', '@f/x'], ['unlink', '@missing/x'], ['unlink', `@${LONG_NAME}`],
  ['unlink', '@l'], ['unlink', '@dl'], ['unlink', B('@d/g')], ['unlink', '@d/g'], ['unlink', ''],
  // rmdir
  ['rmdir', '@e'], ['rmdir', '@e'], ['rmdir', '@full'], ['rmdir', '@f'], ['rmdir', '@ld'], ['rmdir', U('@d')], ['rmdir', `@${LONG_PATH}`],
  // mkdir: modes, existing targets, missing parents, through a file; recursive (Node's own)
  ['mkdir', '@m'], ['mkdir', '@m'], ['mkdir', '@m2', 0o700], ['mkdir', '@m3', 0o4777], ['mkdir', '@missing/x'], ['mkdir', '@f'],
  ['mkdir', '@f/x'], ['mkdir', '@ld'], ['mkdir', B('@mb')], ['mkdir', U('@mu')], ['mkdir', `@${LONG_NAME}`],
  ['mkdir', '@r/s/t', { recursive: true }], ['mkdir', '@r/s/t', { recursive: true }], ['mkdir', '@m4', { mode: 0o711 }], ['mkdir', '@m5', '755'],
  ['mkdir', '@mn', null], ['mkdir', '@mt', true], ['mkdir', '@m6', undefined], ['rmdir', '@m6', undefined],
  // rename: onto nothing, onto a file, a dir onto an empty dir and a full one, missing source, across types
  ['rename', '@f', '@f2'], ['rename', '@missing', '@x'], ['rename', '@f2', '@e'], ['rename', '@m', '@e'], ['rename', '@m2', '@full'],
  ['rename', '@full', '@f2'], ['rename', '@f2', '@f/x'], ['rename', B('@f2'), U('@f3')], ['rename', '@f3', '@missing/y'], ['rename', '@ld', '@ld2'],
  ['rename', '@é ü', `@${LONG_NAME}`],
  // link: a file, existing targets, missing source, a dir, a symlink (the link itself)
  ['link', '@f3', '@h'], ['link', '@f3', '@h'], ['link', '@missing', '@h2'], ['link', '@m3', '@h3'], ['link', '@ld2', '@h4'],
  ['link', B('@f3'), U('@h5')], ['link', '@f3', '@missing/h'],
  // symlink: relative and dangling targets, existing path, missing dir, a type (Node's own)
  ['symlink', 'f3', '@s'], ['symlink', 'f3', '@s'], ['symlink', 'nowhere', '@s2'], ['symlink', 'x', '@missing/s'],
  ['symlink', B('../f3'), B('@m3/s3')], ['symlink', 'f3', '@s4', 'file'], ['symlink', 'd', '@s5', null], ['symlink', 'x', '@f3/s'],
  ['symlink', 'x', '@s6', 'badtype'], ['symlink', 'x', '@s7', 5],
  ['stat', '@s'], ['lstat', '@s'], ['stat', '@s2'], ['lstat', '@h4'],
];

/** Bad arguments, each given to both modules: the same error (class, code, message). */
const BAD: [string, ...unknown[]][] = [];
for (const f of ['stat', 'lstat', 'unlink', 'rmdir', 'mkdir']) {
  for (const p of [undefined, null, 123, {}, [], true, 'a\0b', Buffer.from('a\0b'), new URL('http://x/y'), new URL('file://host/x'), new URL('file:///a%2fb'), new URL('file:///a%00b')])
    BAD.push([f, p]);
}
BAD.push(['stat', '@f', null], ['lstat', '@f', null]);
BAD.push(['mkdir', '@q', 'abc'], ['mkdir', '@q', -1], ['mkdir', '@q', 1.5], ['mkdir', '@q', 2 ** 32], ['mkdir', '@q', { recursive: 'yes' }], ['mkdir', '@q', { mode: 'xyz' }]);
BAD.push(['rmdir', '@e', { recursive: 1 }], ['rmdir', '@e', 'str'], ['rmdir', '@e', { maxRetries: -1 }], ['rmdir', '@e', null]);
for (const f of ['rename', 'link', 'symlink']) {
  for (const p of [undefined, 7, {}, 'a\0b', new URL('http://x/y')]) BAD.push([f, p, '@z'], [f, '@f', p]);
}

describe('26 kaio/fs/promises', function () {
  this.timeout(60000);
  const suite = fsSuite('kaio-fsp26-');

  it('has every name of node:fs/promises, each of the same kind, and the same constants', () => {
    // kaio's own additions: node:fs's streams driven by kaio (test 27).
    const kaioOnly = ['createReadStream', 'createWriteStream'];
    assert.deepStrictEqual(Object.keys(kfs).filter((k) => k !== 'default').sort(), [...Object.keys(fsp), ...kaioOnly].sort());
    for (const k of Object.keys(fsp)) assert.strictEqual(typeof (kfs as Record<string, unknown>)[k], typeof (fsp as Record<string, unknown>)[k], k);
    assert.deepStrictEqual(Object.keys(kfsDefault).sort(), [...Object.keys(fsp), ...kaioOnly].sort());
    for (const k of Object.keys(fsp)) assert.strictEqual((kfsDefault as Record<string, unknown>)[k], (kfs as Record<string, unknown>)[k], k);
    assert.strictEqual(kfs.constants, fsp.constants);
    assert.strictEqual(kfs.open, kaio.open);
    assert.strictEqual(kfs.readFile, kaio.readFile);
  });

  it('docs/api.md names every name of node:fs/promises once, in its table of where each runs', () => {
    const doc = fs.readFileSync(path.join(__dirname, '..', 'docs', 'api.md'), 'utf8');
    const at = doc.indexOf("Every name of Node 20's `node:fs/promises`");
    assert.ok(at > 0, 'the table is in docs/api.md');
    const rows = doc.slice(at).split('\n\n')[1].split('\n').slice(2);
    const named = rows.flatMap((row) => [...row.split('|')[1].matchAll(/`(\w+)`/g)].map((m) => m[1]));
    assert.deepStrictEqual([...named].sort(), Object.keys(fsp).sort());
    // Those said to be node:fs/promises' own are the same functions.
    for (const name of rows.filter((r) => r.includes("own functions")).flatMap((row) => [...row.split('|')[1].matchAll(/`(\w+)`/g)].map((m) => m[1])))
      assert.strictEqual((kfs as Record<string, unknown>)[name], (fsp as Record<string, unknown>)[name], name);
  });

  it('has Node\'s types for the calls it shares with node:fs/promises (overloads included)', () => {
    // Checked by the compiler; at run time only that the calls exist.
    expectTypeOf(kfs.stat).toEqualTypeOf(fsp.stat);
    expectTypeOf(kfs.lstat).toEqualTypeOf(fsp.lstat);
    expectTypeOf(kfs.mkdir).toEqualTypeOf(fsp.mkdir);
    expectTypeOf(kfs.rename).toEqualTypeOf(fsp.rename);
    expectTypeOf(kfs.readdir).toEqualTypeOf(fsp.readdir);
    expectTypeOf(kfs.constants).toEqualTypeOf(fsp.constants);
    expectTypeOf(kfsDefault.unlink).toEqualTypeOf(fsp.unlink);
    expectTypeOf<ReturnType<typeof kfs.open>>().toEqualTypeOf<Promise<kaio.FileHandle>>();
    assert.strictEqual(typeof kfs.stat, 'function');
  });

  it('loads as an ES module: `import fs from "kaio/fs/promises"` and every name as a named import', () => {
    const names = [...Object.keys(fsp), 'createReadStream', 'createWriteStream'];
    const script = `import fs from 'kaio/fs/promises'; import { ${names.join(', ')} } from 'kaio/fs/promises'; const s = await fs.stat('/'); console.log(JSON.stringify([typeof fs.readdir, [${names.join(', ')}].every((f, i) => f === fs[${JSON.stringify(names)}[i]]), s.isDirectory()]));`;
    const r = cp.spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: path.join(__dirname, '..'), encoding: 'utf8' });
    assert.strictEqual(r.status, 0, r.stderr);
    assert.deepStrictEqual(JSON.parse(r.stdout), ['function', true, true]);
  });

  for (const backend of BACKENDS) {
    describe(`with the default context on ${backend}`, function () {
      let onRing = false;
      before(async function () {
        onRing = (await suite.use(this, backend)) instanceof kaio.Ring;
      });

      /** The io_uring op behind each call that has one. */
      const OP_OF: Record<string, string> = {
        stat: 'STATX', lstat: 'STATX', unlink: 'UNLINKAT', rmdir: 'UNLINKAT', mkdir: 'MKDIRAT',
        rename: 'RENAMEAT', symlink: 'SYMLINKAT', link: 'LINKAT',
      };

      it('runs the script of calls with the same results, errors and resulting tree as node:fs/promises', async () => {
        const nodeDir = path.join(suite.base, `${backend}-node`);
        const kaioDir = path.join(suite.base, `${backend}-kaio`);
        makeTree(nodeDir);
        makeTree(kaioDir);
        let viaRing = 0;
        // Calls whose io_uring op this kernel lacks (MKDIRAT, SYMLINKAT and LINKAT are 5.15): node:fs does them.
        const ctx = kaio.defaultContext();
        const lacking = (name: string): boolean => onRing && OP_OF[name] !== undefined && !(ctx as kaio.Ring).supports(OP_OF[name]);
        let fallbacks = 0;
        for (const [name, ...args] of SCRIPT) {
          const want = await outcome(() => NODE[name](...resolveArgs(args, nodeDir)), nodeDir);
          let got: unknown;
          const n = await ringOps(async () => {
            got = await outcome(() => KAIO[name](...resolveArgs(args, kaioDir)), kaioDir);
          });
          viaRing += n;
          if (lacking(name)) {
            fallbacks++;
            assert.strictEqual(n, 0, `${name}: this kernel lacks IORING_OP_${OP_OF[name]}, yet the ring did it`);
          }
          assert.deepStrictEqual(got, want, show(name, args));
          assert.deepStrictEqual(tree(kaioDir), tree(nodeDir), `the trees after ${show(name, args)}`);
        }
        // On io_uring the ring did the plain calls (every one but the few that
        // are Node's own, and those whose op this kernel lacks).
        if (onRing) assert.ok(viaRing >= SCRIPT.length - 12 - fallbacks, `${viaRing} of ${SCRIPT.length} calls on the ring (${fallbacks} without the op)`);
        else assert.strictEqual(viaRing, 0);
      });

      it('stat/lstat: every field of the Stats (and BigIntStats) as Node\'s where fields pass 32 bits or go below zero, and the same errors', async () => {
        const dir = path.join(suite.base, `${backend}-fields`);
        fs.mkdirSync(dir);
        // A sparse file of 2^40 + 3 bytes; times before 1970 and past 2106
        // (seconds past 32 bits) with fractions; a directory; /dev/null
        // (rdev 1,3); symlinks, one dangling, two in a loop.
        const big = path.join(dir, 'big');
        fs.writeFileSync(big, 'x');
        fs.truncateSync(big, 2 ** 40 + 3);
        const old = path.join(dir, 'old');
        fs.writeFileSync(old, 'y');
        fs.utimesSync(old, -1234567.891, 2 ** 33 + 0.123456);
        fs.symlinkSync('big', path.join(dir, 'link'));
        fs.symlinkSync('missing', path.join(dir, 'dangling'));
        fs.symlinkSync('loop2', path.join(dir, 'loop1'));
        fs.symlinkSync('loop1', path.join(dir, 'loop2'));
        const fields = (s: fs.Stats | fs.BigIntStats): unknown => ({
          ctor: s.constructor.name, isStats: s instanceof fs.Stats, proto: Object.getPrototypeOf(s) === Object.getPrototypeOf(fs.statSync('/', { bigint: typeof s.size === 'bigint' })),
          own: Object.entries(s).map(([k, v]) => [k, typeof v, String(v)]),
          dates: [s.atime, s.mtime, s.ctime, s.birthtime].map((d) => d.getTime()),
          kinds: [s.isFile(), s.isDirectory(), s.isSymbolicLink(), s.isCharacterDevice(), s.isBlockDevice(), s.isFIFO(), s.isSocket()],
        });
        const shape = async (fn: () => Promise<fs.Stats | fs.BigIntStats>): Promise<unknown> => {
          try {
            return { ok: fields(await fn()) };
          } catch (e) {
            const x = e as NodeJS.ErrnoException;
            return { error: [x.constructor.name, x.message, x.code, x.errno, x.syscall, x.path] };
          }
        };
        const paths = [big, old, dir, '/dev/null', path.join(dir, 'link'), path.join(dir, 'dangling'), path.join(dir, 'loop1'),
          path.join(dir, 'missing'), path.join(old, 'x'), path.join(dir, LONG_NAME), path.join(dir, LONG_PATH)];
        let viaRing = 0;
        for (const name of ['stat', 'lstat'])
          for (const p of paths)
            for (const options of [undefined, { bigint: false }, { bigint: true }]) {
              const want = await shape(() => NODE[name](p, options) as Promise<fs.Stats>);
              let got: unknown;
              viaRing += await ringOps(async () => {
                got = await shape(() => KAIO[name](p, options) as Promise<fs.Stats>);
              });
              assert.deepStrictEqual(got, want, `${name}(${p.slice(0, 80)}, ${JSON.stringify(options)})`);
            }
        assert.ok(JSON.stringify(await shape(() => fsp.stat(big))).includes(String(2 ** 40 + 3)), 'the size passed 32 bits');
        if (onRing) assert.strictEqual(viaRing, 2 * paths.length * 3, 'every call a statx on the ring');
      });

      it("an error's stack names the call first, then the caller's async frames, as Node's does (kaio's rm on the ring too)", async () => {
        const dir = path.join(suite.base, `${backend}-stack`);
        fs.mkdirSync(dir);
        const missing = path.join(dir, 'missing');
        const other = path.join(dir, 'other');
        const file = path.join(dir, 'f');
        fs.writeFileSync(file, '');
        const calls: [string, ...unknown[]][] = [
          ['stat', missing], ['lstat', missing], ['access', missing], ['unlink', missing], ['rmdir', missing],
          ['mkdir', path.join(missing, 'x')], ['mkdir', path.join(file, 'x'), { recursive: true }], ['rm', missing],
          ['rename', missing, other], ['link', missing, other], ['symlink', 't', path.join(missing, 'x')],
          ['truncate', missing], ['copyFile', missing, other],
        ];
        let viaRing = 0;
        for (const [name, ...args] of calls) {
          // A caller of a name of its own, each module called as a service calls it (fs.<name>(...)).
          const frames = async (m: Mod): Promise<[string | undefined, string[]]> => {
            async function theCaller(): Promise<void> {
              await m[name](...args);
            }
            const e = await theCaller().then(() => undefined, (err: Error) => err);
            assert.ok(e instanceof Error, `${show(name, args)}: ${String(e)}`);
            return [(e as NodeJS.ErrnoException).code, e.stack!.split('\n').filter((l) => /^\s+at /.test(l))];
          };
          const [code, node] = await frames(NODE);
          let kaioCode: string | undefined;
          let kaioFrames: string[] = [];
          viaRing += await ringOps(async () => {
            [kaioCode, kaioFrames] = await frames(KAIO);
          });
          assert.strictEqual(kaioCode, code, show(name, args));
          const call = new RegExp(`^\\s+at (async )?(Object\\.)?${name} \\(`);
          // Node's names its call in the stack too (truncate's under its open; rm's, done by callbacks, has no frame at all).
          if (name !== 'rm') assert.ok(node.some((l) => call.test(l)), `node: ${show(name, args)}\n${node.join('\n')}`);
          // Off the ring kaio's calls are Node's own functions.
          if (!onRing) {
            assert.strictEqual(kaioFrames.some((l) => call.test(l)), node.some((l) => call.test(l)), `kaio: ${show(name, args)}`);
            continue;
          }
          assert.match(kaioFrames[0], call, `kaio: ${show(name, args)}\n${kaioFrames.join('\n')}`);
          assert.ok(kaioFrames.some((l) => /^\s+at async theCaller /.test(l)), `kaio: ${show(name, args)}: the caller's frame\n${kaioFrames.join('\n')}`);
        }
        if (onRing) assert.ok(viaRing > 0, 'the ring did the calls');
      });

      it('stat and lstat give fs.Stats / BigIntStats equal to Node\'s in every field', async () => {
        const dir = path.join(suite.base, `${backend}-stat`);
        makeTree(dir);
        cp.execFileSync('mkfifo', [path.join(dir, 'fifo')]);
        const targets = ['f', 'd', 'l', 'ld', 'é ü', 'fifo'].map((p) => path.join(dir, p)).concat(['/dev/null', '/proc/self', '/']);
        let viaRing = 0;
        for (const p of targets) {
          for (const fn of ['stat', 'lstat'] as const) {
            for (const options of [undefined, { bigint: false }, { bigint: true }]) {
              let got: fs.Stats | fs.BigIntStats | undefined;
              viaRing += await ringOps(async () => {
                got = await (kfs[fn] as AnyFn)(p, options) as fs.Stats;
              });
              const want = await (fsp[fn] as AnyFn)(p, options) as fs.Stats;
              assert.strictEqual(Object.getPrototypeOf(got), Object.getPrototypeOf(want), `${fn} ${p} class`);
              assert.deepStrictEqual(Object.keys(got!), Object.keys(want), `${fn} ${p} keys`);
              for (const k of Object.keys(want)) {
                assert.deepStrictEqual((got as unknown as Record<string, unknown>)[k], (want as unknown as Record<string, unknown>)[k], `${fn}(${p}, ${JSON.stringify(options, (_k, v) => v)}).${k}`);
              }
              assert.ok(isDeepStrictEqual(got, want));
              for (const m of ['isFile', 'isDirectory', 'isSymbolicLink', 'isFIFO', 'isCharacterDevice', 'isBlockDevice', 'isSocket'] as const)
                assert.strictEqual(got![m](), want[m](), `${fn} ${p} ${m}`);
            }
          }
        }
        if (onRing) assert.strictEqual(viaRing, targets.length * 6, 'every stat on the ring');
      });

      it('rejects bad arguments with Node\'s errors (class, code, message)', async () => {
        const dir = path.join(suite.base, `${backend}-bad`);
        makeTree(dir);
        for (const [name, ...args] of BAD) {
          const a = resolveArgs(args, dir);
          const want = await outcome(() => NODE[name](...a), dir);
          const got = await outcome(() => KAIO[name](...a), dir);
          assert.deepStrictEqual(got, want, `${name}(${args.map((x) => String(x)).join(', ')})`);
        }
        assert.deepStrictEqual(tree(dir), (() => { const d2 = path.join(suite.base, `${backend}-bad-ref`); makeTree(d2); const t = tree(d2); return t; })());
      });

      it('writeFile(path): when the write and the close both fail, one AggregateError holds both, as Node\'s does', async () => {
        const dir = path.join(suite.base, `${backend}-agg`);
        fs.mkdirSync(dir);
        /** Data that closes the file's fd behind the handle before its first chunk: that write fails with EBADF, and the close after it too. */
        const data = (p: string) => ({
          async *[Symbol.asyncIterator]() {
            for (const fd of fs.readdirSync('/proc/self/fd')) {
              let target = '';
              try {
                target = fs.readlinkSync(`/proc/self/fd/${fd}`);
              } catch {
                continue;
              }
              if (target === p) fs.closeSync(Number(fd));
            }
            yield 'never written';
          },
        });
        const shape = (e: unknown) => {
          const err = e as AggregateError & { code?: string };
          return {
            ctor: err.constructor.name, message: err.message, code: err.code,
            errors: Array.isArray(err.errors) ? err.errors.map((x: Error & { code?: string; syscall?: string }) => [x.message, x.code, x.syscall]) : undefined,
          };
        };
        const results: unknown[] = [];
        for (const m of [fsp, kfs] as const) {
          const p = path.join(dir, m === fsp ? 'node' : 'kaio');
          results.push(shape(await (m.writeFile as AsyncFn)(p, data(p)).then(() => 'resolved', (e: unknown) => e)));
        }
        assert.deepStrictEqual(results[1], results[0]);
        assert.deepStrictEqual(results[0], {
          ctor: 'AggregateError', message: 'EBADF: bad file descriptor, write', code: 'EBADF',
          errors: [['EBADF: bad file descriptor, write', 'EBADF', 'write'], ['EBADF: bad file descriptor, close', 'EBADF', 'close']],
        });
      });

      it('as an unprivileged user (nobody): the same EACCES/EPERM errors for unlink, mkdir, rename, stat, rmdir, link, symlink', function () {
        if (process.getuid?.() !== 0) skip(this, 'needs root to start a child as nobody');
        // Its own directory: the suite's (mkdtemp, 0700) is closed to nobody.
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-fsp26-perm-'));
        try {
        fs.chmodSync(dir, 0o755);
        fs.writeFileSync(path.join(dir, 'f'), 'x');
        fs.mkdirSync(path.join(dir, 'closed'), { mode: 0o700 });
        fs.writeFileSync(path.join(dir, 'closed', 'g'), 'y');
        fs.mkdirSync(path.join(dir, 'e'));
        fs.mkdirSync(path.join(dir, 'mine'));
        fs.chownSync(path.join(dir, 'mine'), 65534, 65534);
        fs.mkdirSync(path.join(dir, 'sticky'), { mode: 0o1777 });
        fs.chmodSync(path.join(dir, 'sticky'), 0o1777);
        fs.writeFileSync(path.join(dir, 'sticky', 'rootfile'), 'z');
        const before = tree(dir);
        const pkg = packageForAnyUser();
        const calls = [
          ['unlink', 'f'], ['unlink', 'closed/g'], ['unlink', 'sticky/rootfile'], ['mkdir', 'x'], ['mkdir', 'closed/x'],
          ['rename', 'f', 'mine/f'], ['rename', 'mine', 'mine2'], ['rename', 'sticky/rootfile', 'sticky/r2'], ['rmdir', 'e'],
          ['stat', 'closed/g'], ['lstat', 'closed/g'], ['stat', 'closed'], ['link', 'f', 'mine/h'], ['symlink', 'f', 'l'],
          ['mkdir', 'mine/ok'], ['symlink', 'f', 'mine/s'], ['rename', 'mine/ok', 'mine/ok2'], ['rmdir', 'mine/ok2'], ['unlink', 'mine/s'],
        ];
        const script = `
          const fsp = require('fs/promises');
          const kfs = require(${JSON.stringify(path.join(pkg, 'dist/lib/fs/promises.js'))});
          const kaio = require(${JSON.stringify(pkg)});
          const dir = ${JSON.stringify(dir)};
          const shape = (e) => ({ message: e.message, code: e.code, errno: e.errno, syscall: e.syscall, path: e.path, dest: e.dest });
          (async () => {
            const out = [];
            for (const [name, ...args] of ${JSON.stringify(calls)}) {
              const a = args.map((p) => require('path').join(dir, p));
              if (name === 'symlink') a[0] = args[0];
              const run = async (m) => { try { const r = await m[name](...a); return { ok: r && r.mode !== undefined ? r.mode : r ?? null }; } catch (e) { return { error: shape(e) }; } };
              const k = await run(kfs);
              const n = await run(fsp);
              out.push([name, args, k, n]);
              // a call that worked is undone so that the other module meets the same tree
              if (n.ok !== undefined && k.ok !== undefined) {
                if (name === 'mkdir') await fsp.rmdir(a[0]);
              }
            }
            console.log(JSON.stringify({ backend: kaio.defaultContext().backend, out }));
            await kaio.defaultContext().close();
          })().catch((e) => { console.error(e); process.exit(1); });`;
        const r = cp.spawnSync(process.execPath, ['-e', script], { uid: 65534, gid: 65534, encoding: 'utf8', env: { ...process.env, KAIO_BACKEND: backend } });
        assert.strictEqual(r.status, 0, r.stderr);
        const res = JSON.parse(r.stdout) as { backend: string; out: [string, string[], unknown, unknown][] };
        assert.strictEqual(res.backend, backend);
        const codes: string[] = [];
        for (const [name, args, k, n] of res.out) {
          codes.push(`${name}:${(n as { error?: { code: string } }).error?.code ?? 'ok'}`);
          // kaio ran first: a call that succeeded changed the tree for Node's (mkdir is undone; the rest
          // only succeed where Node then meets the result, so compare errors only where kaio failed).
          if ((k as { error?: unknown }).error) assert.deepStrictEqual(k, n, `${name}(${args.join(', ')})`);
        }
        for (const want of ['unlink:EACCES', 'mkdir:EACCES', 'rename:EACCES', 'stat:EACCES', 'lstat:EACCES', 'rmdir:EACCES', 'symlink:EACCES'])
          assert.ok(codes.includes(want), `${want} in ${codes.join(' ')}`);
        assert.ok(codes.includes('rename:EPERM') || codes.includes('unlink:EPERM'), `the sticky directory's EPERM in ${codes.join(' ')}`);
        // What the child was allowed to do: mine/ok made, renamed and removed; mine/s made and removed.
        assert.deepStrictEqual(tree(dir), before);
        } finally {
          fs.rmSync(dir, { recursive: true, force: true });
        }
      });
    });
  }
});
