// The published package: `npm pack` (prepack builds this machine's prebuild), then an
// install into an empty project, offline, with --ignore-scripts and a PATH holding only
// node/npm/npx, so no compiler could be used; require and import it, read a file, run
// `npx kaio probe`; publint and @arethetypeswrong/cli on the tarball.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync, type SpawnSyncOptions, type SpawnSyncReturns } from 'node:child_process';
import { pkgRoot, skip } from './helpers';

const repo = pkgRoot;
const pkg: { name: string; version: string; os: string[]; cpu: string[]; dependencies: Record<string, string> } =
  JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'));
// node-gyp-build's rule for the libc tag, which scripts/prebuild.js follows too.
const libc = fs.existsSync('/etc/alpine-release') ? 'musl' : 'glibc';
const prebuild = `prebuilds/${os.platform()}-${os.arch()}/kaio.${libc}.node`;

/** The real file behind a command on PATH, or undefined. */
function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (dir === '') continue;
    const p = path.join(dir, cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return fs.realpathSync(p);
    } catch {
      // not here
    }
  }
  return undefined;
}

function run(cmd: string, args: string[], opts?: Omit<SpawnSyncOptions, 'encoding'>): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 120000, maxBuffer: 64 << 20, ...opts });
  if (r.error) throw r.error;
  return r;
}

function ok(r: SpawnSyncReturns<string>, what: string): SpawnSyncReturns<string> {
  assert.equal(r.status, 0, `${what} exited with ${r.status ?? r.signal}\n${r.stdout}\n${r.stderr}`);
  return r;
}

// What the consumer scripts print: the backend that ran, whether the bytes came back,
// and which kaio.node the process loaded.
const READ_CHECK = `
  const fs = require('node:fs');
  const path = require('node:path');
  async function readCheck(kaio, dir) {
    const file = path.join(dir, 'data');
    const data = require('node:crypto').randomBytes(10000);
    fs.writeFileSync(file, data);
    const fd = fs.openSync(file, 'r');
    const ctx = kaio.createContext();
    try {
      const buf = Buffer.alloc(4000);
      const n = await ctx.read(fd, buf, 5000);
      const natives = process.report.getReport().sharedObjects.filter((p) => p.endsWith('.node'));
      return { backend: ctx.backend, n, same: buf.equals(data.subarray(5000, 9000)), natives };
    } finally {
      await ctx.close();
      fs.closeSync(fd);
    }
  }
`;

/** What READ_CHECK's readCheck() resolves to, as the consumer scripts print it. */
interface ReadCheck {
  backend: string;
  n: number;
  same: boolean;
  natives: string[];
}

describe('90 package: npm pack, install without a compiler, publint, attw', function () {
  this.timeout(180000);
  let dir = ''; // scratch: the tarball, bin/, the consumer project (none yet)
  let tarball: string;
  let files: string[]; // paths inside the tarball, without the leading package/
  let app: string; // the consumer project
  let env: NodeJS.ProcessEnv; // PATH = bin/ with node, npm, npx only
  let npm: string | undefined;
  let npx: string;

  before(function () {
    if (!pkg.os.includes(os.platform()) || !pkg.cpu.includes(os.arch())) {
      skip(this, `package.json declares no support for ${os.platform()}-${os.arch()}`);
    }
    npm = process.env.npm_execpath && /npm-cli\.js$/.test(process.env.npm_execpath)
      ? process.env.npm_execpath
      : which('npm');
    if (npm === undefined) skip(this, 'npm is not on PATH');
    npx = path.join(path.dirname(npm), 'npx-cli.js');
    if (!fs.existsSync(npx)) skip(this, `no npx-cli.js next to ${npm}`);

    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-pack-'));
    // KAIO_PREBUILD=host: prepack builds only this machine's prebuild (no cross toolchain
    // needed); a release pack builds every target (npm run prebuild).
    ok(run(process.execPath, [npm, 'pack', '--pack-destination', dir], {
      cwd: repo,
      env: { ...process.env, KAIO_PREBUILD: 'host' },
    }), 'npm pack');
    const tgz = fs.readdirSync(dir).filter((f) => f.endsWith('.tgz'));
    assert.deepEqual(tgz, [`${pkg.name}-${pkg.version}.tgz`]);
    tarball = path.join(dir, tgz[0]);
    files = ok(run('tar', ['-tzf', tarball]), 'tar -t').stdout.split('\n').filter(Boolean)
      .map((f) => f.replace(/^package\//, ''));

    const bin = path.join(dir, 'bin');
    fs.mkdirSync(bin);
    fs.symlinkSync(process.execPath, path.join(bin, 'node'));
    fs.symlinkSync(npm, path.join(bin, 'npm'));
    fs.symlinkSync(npx, path.join(bin, 'npx'));
    fs.symlinkSync('/bin/sh', path.join(bin, 'sh')); // npx runs a package's bin through sh
    env = { ...process.env, PATH: bin };
    for (const k of Object.keys(env)) if (/^npm_/i.test(k)) delete env[k];
    // The installed package must load its own prebuild, not the one a test
    // harness points this process at (scripts/test-asan.sh sets KAIO_PREBUILD).
    delete env.KAIO_PREBUILD;

    // The dependencies as tarballs of the copies this checkout installed, and an empty npm
    // cache: the install below needs no registry and no network at all.
    const deps = path.join(dir, 'deps');
    fs.mkdirSync(deps);
    ok(run(process.execPath, [npm, 'pack', '--ignore-scripts', '--pack-destination', deps,
      ...Object.keys(pkg.dependencies).map((d) => `./node_modules/${d}`)], { cwd: repo }), 'npm pack <dependencies>');
    const depTarballs = fs.readdirSync(deps).map((f) => path.join(deps, f));
    assert.equal(depTarballs.length, Object.keys(pkg.dependencies).length);

    app = path.join(dir, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
    ok(run(path.join(bin, 'npm'), ['install', tarball, ...depTarballs, '--ignore-scripts', '--offline',
      '--cache', path.join(dir, 'npm-cache'), '--no-audit', '--no-fund'], { cwd: app, env }),
    'npm install <tarball> --ignore-scripts --offline');
  });

  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('the tarball holds dist, native sources, this machine\'s prebuild, LICENSE, CHANGELOG, README and the documents it links to; no test/, bench/ or source maps', () => {
    // The README's links go to docs/, CONTRIBUTING.md and BENCHMARKS.md: they ship with it.
    const docs = fs.readdirSync(path.join(repo, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
    assert.ok(docs.length > 0);
    for (const f of ['package.json', 'LICENSE', 'CHANGELOG.md', 'README.md', 'BENCHMARKS.md', 'CONTRIBUTING.md', ...docs, 'binding.gyp', 'bin/kaio',
      'dist/lib/index.js', 'dist/lib/index.d.ts', 'dist/lib/fs/promises.js', 'dist/lib/fs/promises.d.ts', 'fs/promises/package.json', 'native/napi/addon.cc', 'native/core/offload.cc', prebuild]) {
      assert.ok(files.includes(f), `${f} is missing from the tarball`);
    }
    const stray = files.filter((f) => /^(test|bench|build|lib|scripts|\.bench-data|node_modules)\//.test(f)
      || f.endsWith('.map') || f.endsWith('.ts') && !f.endsWith('.d.ts') || f.endsWith('.tgz'));
    assert.deepEqual(stray, []);
    assert.match(fs.readFileSync(path.join(repo, 'LICENSE'), 'utf8'), /Copyright \(c\) 2026 the kaio authors/);
  });

  it('installs offline with --ignore-scripts, no compiler on PATH; require(\'kaio\') reads through createContext() on the prebuild', () => {
    for (const tool of ['cc', 'c++', 'gcc', 'g++', 'make', 'python3', 'python']) {
      const r = run('/bin/sh', ['-c', `command -v ${tool}`], { env });
      assert.notEqual(r.status, 0, `${tool} is reachable: ${r.stdout}`);
    }
    const installed = path.join(app, 'node_modules', 'kaio');
    assert.ok(!fs.existsSync(path.join(installed, 'build')), 'something was compiled into node_modules/kaio/build');
    fs.writeFileSync(path.join(app, 'cjs.js'), `${READ_CHECK}
      readCheck(require('kaio'), __dirname).then((r) => console.log(JSON.stringify(r)));`);
    const r = ok(run(path.join(app, '..', 'bin', 'node'), ['cjs.js'], { cwd: app, env }), 'node cjs.js');
    const res: ReadCheck = JSON.parse(r.stdout);
    assert.deepEqual({ n: res.n, same: res.same }, { n: 4000, same: true });
    assert.ok(['io_uring', 'aio', 'threadpool'].includes(res.backend), res.backend);
    assert.deepEqual(res.natives, [fs.realpathSync(path.join(installed, prebuild))]);
  });

  it('import(\'kaio\') and a static ESM import give the CommonJS API and read a file; kaio/fs/promises imports and requires alike', () => {
    fs.writeFileSync(path.join(app, 'esm.mjs'), `
      import { createRequire } from 'node:module';
      import { createContext, probe, Ring, open } from 'kaio';
      import * as star from 'kaio';
      import kfs, { stat as kstat } from 'kaio/fs/promises';
      const require = createRequire(import.meta.url);
      ${READ_CHECK}
      const dynamic = await import('kaio');
      const cjs = require('kaio');
      const apiSame = dynamic.createContext === cjs.createContext && star.createContext === createContext
        && createContext === cjs.createContext && dynamic.default === cjs
        && [probe, Ring, open].every((f) => typeof f === 'function')
        && kfs === require('kaio/fs/promises') && kstat === kfs.stat && (await kstat('/')).isDirectory();
      console.log(JSON.stringify({ apiSame, ...(await readCheck(dynamic, path.dirname(new URL(import.meta.url).pathname))) }));
    `);
    const r = ok(run(path.join(app, '..', 'bin', 'node'), ['esm.mjs'], { cwd: app, env }), 'node esm.mjs');
    const res: ReadCheck & { apiSame: boolean } = JSON.parse(r.stdout);
    assert.deepEqual({ apiSame: res.apiSame, n: res.n, same: res.same }, { apiSame: true, n: 4000, same: true });
  });

  it('npx kaio probe prints probe() as JSON', () => {
    const r = ok(run(path.join(app, '..', 'bin', 'npx'), ['--offline', '--no-install', '--cache', path.join(dir, 'npm-cache'), 'kaio', 'probe'], { cwd: app, env }),
      'npx kaio probe');
    const p: { kernel: unknown; ioUring: { available: unknown }; backend: { backend: string } } = JSON.parse(r.stdout);
    assert.equal(typeof p.kernel, 'string');
    assert.equal(typeof p.ioUring.available, 'boolean');
    assert.ok(['io_uring', 'aio', 'threadpool'].includes(p.backend.backend), JSON.stringify(p.backend));
  });

  it('publint --strict on the tarball reports nothing', () => {
    const publint = path.join(repo, 'node_modules', 'publint');
    const publintPkg: { bin: Record<string, string> } = JSON.parse(fs.readFileSync(path.join(publint, 'package.json'), 'utf8'));
    const cli = path.join(publint, publintPkg.bin.publint);
    const r = ok(run(process.execPath, [cli, 'run', tarball, '--strict', '--level', 'suggestion']), 'publint');
    assert.doesNotMatch(r.stdout + r.stderr, /Errors|Warnings|Suggestions/, r.stdout);
  });

  it('@arethetypeswrong/cli on the tarball finds no problem', () => {
    const attwPkg = path.join(repo, 'node_modules', '@arethetypeswrong', 'cli');
    const attwManifest: { bin: Record<string, string> } = JSON.parse(fs.readFileSync(path.join(attwPkg, 'package.json'), 'utf8'));
    const bin = attwManifest.bin.attw;
    const r = ok(run(process.execPath, [path.join(attwPkg, bin), tarball, '--format', 'json', '--no-definitely-typed']),
      'attw');
    const out: { analysis: { problems: unknown[]; entrypoints: Record<string, unknown> }; problems: Record<string, unknown> } = JSON.parse(r.stdout);
    assert.deepEqual(out.analysis.problems, []);
    assert.deepEqual(out.problems, {});
    assert.deepEqual(Object.keys(out.analysis.entrypoints).sort(), ['.', './fs/promises', './package.json']);
  });
});
