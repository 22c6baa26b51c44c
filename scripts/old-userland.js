#!/usr/bin/env node
'use strict';
// Installs the packed kaio in an old Debian userland that has no compiler, and runs it there
// with this machine's Node: the proof that a shipped prebuild loads where Node 20 runs
// (test 91 runs it; so can the lab).
//
//   node scripts/old-userland.js [kaio-x.y.z.tgz]
//   node scripts/old-userland.js --arch arm64 kaio-x.y.z.tgz   (on x64: under qemu-user)
//
// Without a tarball it packs one first with KAIO_PREBUILD=host-buildroot (this machine's
// target, built in the build root: scripts/prebuild.js). The userland is Debian 11 bullseye
// made with debootstrap --variant=minbase (glibc 2.31, GCC 10's libstdc++; no cc, c++, make
// or python3), kept under ~/.cache/kaio/roots (scripts/debian-root.js; needs root).
// Inside it: `npm install <tarball> <dependency tarballs> --ignore-scripts --offline` into an
// empty project, then scripts/smoke.js (require, a read through createContext(), through each
// backend named and through a Ring). This machine's node binary and npm are bind-mounted;
// nothing of the checkout is visible inside.
// --arch arm64 on an x64 machine (or x64 on arm64): the userland is debootstrap's first stage
// for that architecture (unpacked, never run natively), the Node is the official binary of
// the same version from the npm package node-linux-<arch> (fetched once into the cache),
// and both npm and the smoke run under qemu-user (apt-get install qemu-user-static); no
// binfmt registration is needed. qemu-user answers io_uring_setup with ENOSYS, so there
// the reads go through AIO or the thread pool only.
// Exit 0 when the install worked, the prebuild from the tarball was the addon loaded, and
// the reads through createContext(), io_uring (unless the kernel refuses io_uring here) and
// the thread pool returned the right bytes.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const debianRoot = require('./debian-root');

const repo = path.join(__dirname, '..');
const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8'));

function npmCli() {
  const fromEnv = process.env.npm_execpath;
  if (fromEnv && /npm-cli\.js$/.test(fromEnv)) return fromEnv;
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (dir === '') continue;
    const p = path.join(dir, 'npm');
    if (fs.existsSync(p)) {
      const real = fs.realpathSync(p);
      if (/npm-cli\.js$/.test(real)) return real;
    }
  }
  throw new Error('npm (npm-cli.js) not found on PATH');
}

function ok(r, what) {
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${what} exited with ${r.status ?? r.signal}\n${r.stdout ?? ''}\n${r.stderr ?? ''}`);
  return r;
}

/** The userland's glibc, libstdc++, release and any build tool, read from its files. */
function describeRoot(userland, triple) {
  const libDirs = [path.join(userland, 'lib', triple), path.join(userland, 'usr', 'lib', triple)];
  const files = libDirs.flatMap((d) => (fs.existsSync(d) ? fs.readdirSync(d) : []));
  const glibc = files.map((f) => /^libc-(\d+\.\d+)\.so$/.exec(f)).find(Boolean);
  const stdcxx = files.map((f) => /^libstdc\+\+\.so\.(6\.\d+\.\d+)$/.exec(f)).find(Boolean);
  const release = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(fs.readFileSync(path.join(userland, 'etc', 'os-release'), 'utf8'));
  const tools = ['cc', 'c++', 'gcc', 'g++', 'make', 'python3', 'python']
    .filter((t) => ['usr/bin', 'bin', 'usr/local/bin'].some((d) => fs.existsSync(path.join(userland, d, t))));
  return {
    glibc: glibc ? glibc[1] : 'unknown',
    stdcxx: stdcxx ? stdcxx[1] : 'none',
    release: release ? release[1] : 'unknown',
    tools,
  };
}

const TRIPLES = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };
const QEMU = { x64: 'qemu-x86_64-static', arm64: 'qemu-aarch64-static' };

function findOnPath(cmd) {
  for (const dir of (process.env.PATH || '').split(path.delimiter)) {
    if (dir !== '' && fs.existsSync(path.join(dir, cmd))) return path.join(dir, cmd);
  }
  return undefined;
}

/** The official Node binary of this version for arch, from the npm package node-linux-<arch>. */
function foreignNode(arch, npm) {
  const name = `node-linux-${arch}`;
  const dir = path.join(debianRoot.rootsDir(), `${name}-${process.versions.node}`);
  const bin = path.join(dir, 'package', 'bin', 'node');
  if (!fs.existsSync(bin)) {
    fs.mkdirSync(dir, { recursive: true });
    console.error(`old-userland: fetching ${name}@${process.versions.node} from the npm registry into ${dir} (once)`);
    ok(spawnSync(process.execPath, [npm, 'pack', `${name}@${process.versions.node}`, '--pack-destination', dir],
      { encoding: 'utf8' }), `npm pack ${name}`);
    ok(spawnSync('tar', ['-xzf', path.join(dir, `${name}-${process.versions.node}.tgz`), '-C', dir, 'package/bin/node'],
      { encoding: 'utf8' }), 'tar -x');
  }
  return bin;
}

function main(argv) {
  const why = debianRoot.unavailable();
  if (why !== undefined) {
    console.error(`old-userland: ${why}`);
    return 2;
  }
  let arch = os.arch();
  const ai = argv.indexOf('--arch');
  if (ai >= 0) {
    arch = argv[ai + 1];
    argv = [...argv.slice(0, ai), ...argv.slice(ai + 2)];
  }
  if (TRIPLES[arch] === undefined) {
    console.error(`old-userland: --arch x64 or arm64, not ${arch}`);
    return 2;
  }
  const emulated = arch !== os.arch();
  let qemu;
  if (emulated) {
    qemu = findOnPath(QEMU[arch]);
    if (qemu === undefined) {
      console.error(`old-userland: ${QEMU[arch]} is not on PATH (Debian: apt-get install qemu-user-static)`);
      return 2;
    }
  }
  const npm = npmCli();
  const npmDir = path.dirname(path.dirname(npm)); // .../node_modules/npm
  const nodeBin = emulated ? foreignNode(arch, npm) : process.execPath;
  const userland = debianRoot.userland(arch);
  const scratch = fs.mkdtempSync(path.join(userland, 'tmp', 'kaio-userland-'));
  const inside = `/tmp/${path.basename(scratch)}`;
  try {
    let tarball = argv[0] ? path.resolve(argv[0]) : undefined;
    if (tarball === undefined) {
      if (emulated) throw new Error(`--arch ${arch}: give the tarball to install (a release npm pack has every target)`);
      const packDir = path.join(scratch, 'pack');
      fs.mkdirSync(packDir);
      ok(spawnSync(process.execPath, [npm, 'pack', '--pack-destination', packDir], {
        cwd: repo,
        env: { ...process.env, KAIO_PREBUILD: 'host-buildroot' },
        encoding: 'utf8',
        maxBuffer: 64 << 20,
      }), 'npm pack');
      tarball = path.join(packDir, `${pkg.name}-${pkg.version}.tgz`);
    }
    const deps = path.join(scratch, 'deps');
    fs.mkdirSync(deps);
    fs.copyFileSync(tarball, path.join(deps, path.basename(tarball)));
    ok(spawnSync(process.execPath, [npm, 'pack', '--ignore-scripts', '--pack-destination', deps,
      ...Object.keys(pkg.dependencies).map((d) => `./node_modules/${d}`)], { cwd: repo, encoding: 'utf8' }),
    'npm pack <dependencies>');
    const app = path.join(scratch, 'app');
    fs.mkdirSync(app);
    fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
    fs.copyFileSync(path.join(__dirname, 'smoke.js'), path.join(app, 'smoke.js'));
    fs.mkdirSync(path.join(scratch, 'tmp'));

    const binds = [
      { from: nodeBin, to: '/usr/local/bin/node', ro: true },
      { from: npmDir, to: '/usr/local/lib/kaio-npm', ro: true },
    ];
    if (emulated) binds.push({ from: qemu, to: '/usr/local/bin/qemu-user', ro: true });
    const node = emulated ? ['/usr/local/bin/qemu-user', '/usr/local/bin/node'] : ['/usr/local/bin/node'];
    const run = (args, what) => ok(debianRoot.runInRoot(userland, [...node, ...args], {
      cwd: `${inside}/app`,
      env: { TMPDIR: `${inside}/tmp` },
      binds,
      stdio: ['ignore', 'pipe', 'pipe'],
      encoding: 'utf8',
      timeout: 600000,
    }), what);

    const about = describeRoot(userland, TRIPLES[arch]);
    console.log(`old-userland: ${about.release} ${arch}${emulated ? ` under ${path.basename(qemu)}` : ''}: glibc ${about.glibc}, libstdc++.so.${about.stdcxx}`);
    if (about.tools.length > 0) throw new Error(`the userland has build tools (${about.tools.join(' ')}): not a proof of a prebuild install`);
    console.log('old-userland: no cc, c++, gcc, g++, make, python3 or python in the userland');

    const tarballs = fs.readdirSync(deps).map((f) => `${inside}/deps/${f}`);
    run(['/usr/local/lib/kaio-npm/bin/npm-cli.js', 'install', ...tarballs, '--ignore-scripts', '--offline',
      '--cache', `${inside}/npm-cache`, '--no-audit', '--no-fund'], 'npm install <tarball> --ignore-scripts --offline');
    if (fs.existsSync(path.join(app, 'node_modules', 'kaio', 'build'))) throw new Error('something was compiled into node_modules/kaio/build');

    const smoke = run(['smoke.js'], 'node smoke.js');
    process.stdout.write(smoke.stdout.split('\n').filter(Boolean).map((l) => `old-userland: ${l}\n`).join(''));
    const out = smoke.stdout;
    const expected = `${inside}/app/node_modules/kaio/prebuilds/linux-${arch}/kaio.glibc.node`;
    const failures = [];
    if (!/createContext\(\): backend \S+, read 4000 bytes at 5000: ok/.test(out)) failures.push('the read through createContext()');
    if (!/createContext\(\{ backend: 'threadpool' \}\): read ok/.test(out)) failures.push('the read through the thread pool');
    // io_uring: a proof only where this process may use it (probe() says why not: qemu-user
    // does not translate io_uring_setup).
    if (/io_uring available/.test(out) && !/createContext\(\{ backend: 'io_uring' \}\): read ok/.test(out)) {
      failures.push('the read through io_uring');
    }
    if (!out.includes(`native addon: ${expected}`)) failures.push(`loading ${expected}`);
    if (failures.length > 0) {
      console.error(`old-userland: FAILED: ${failures.join('; ')}\n${smoke.stderr}`);
      return 1;
    }
    const uring = /createContext\(\{ backend: 'io_uring' \}\): read ok/.test(out) ? 'io_uring and ' : '(io_uring unavailable to this process) ';
    console.log(`old-userland: ok: ${path.basename(tarball)} installed without a compiler and read through ${uring}the thread pool in Debian ${debianRoot.SUITE} ${arch}`);
    return 0;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
