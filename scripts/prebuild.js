#!/usr/bin/env node
'use strict';
// Builds the N-API prebuilds that `npm pack` ships (prebuilds/<platform>-<arch>/kaio.<libc>.node)
// with prebuildify: one per target below, native or cross-compiled.
//
//   node scripts/prebuild.js                    every target, in the build root; the floor is enforced
//   node scripts/prebuild.js --host             only this machine's target, with this machine's compiler
//   node scripts/prebuild.js --host --buildroot only this machine's target, in the build root
//   node scripts/prebuild.js --check FILE...    only the floor check of built .node files
//   KAIO_PREBUILD=host npm pack                 --host through prepack (the pack test uses it)
//   KAIO_PREBUILD=host-buildroot npm pack       --host --buildroot (test 91, scripts/old-userland.js)
//
// The floor: a shipped prebuild must load wherever Node 20's own binary does, so it may need
// nothing newer than GLIBC_2.28 and no GLIBCXX_/CXXABI_ version at all (libstdc++ and libgcc
// are linked in statically). The build machine's headers and libraries decide this, not
// kaio's code: built on Debian 12 (glibc 2.36, GCC 12) the addon needs fstat64@GLIBC_2.33,
// __libc_single_threaded@GLIBC_2.32, and a static libstdc++ from there brings pthread_*@2.34,
// _dl_find_object@2.35 and arc4random@2.36. So the release builds run in a build root: a
// Debian 11 bullseye userland (glibc 2.31, GCC 10) made with debootstrap from Debian's mirror
// into ~/.cache/kaio/roots on first use (scripts/debian-root.js; needs root), where
// -static-libstdc++ -static-libgcc gives a floor of GLIBC_2.28 and no libstdc++ demand.
// Every build-root build is checked (readelf: the dynamic symbols' versions and the version
// needs) and the script fails when the floor is crossed. A --host build with this machine's
// compiler is for trying the package out here: its floor is printed, not enforced.
//
// Each build runs in a scratch copy of binding.gyp + native/ (node_modules linked in),
// so the developer's build/ (what the tests load) is never overwritten by a foreign arch.
// node-gyp gets the running Node's headers (its install prefix has include/node) and
// --target of the running Node: with NAPI_VERSION fixed in binding.gyp, the result loads
// in every Node that has that N-API version, whatever version built it. In the build root,
// this machine's node binary (it needs only glibc 2.28), its headers and the checkout are
// bind-mounted; nothing else from this machine is used there.
//
// musl (Alpine): Debian has musl's C library and headers (musl-tools) but no C++ standard
// library built for musl. The linux-x64 musl prebuild is therefore compiled in the build root
// by scripts/musl/build.sh with g++ against musl's C headers in front of Debian's libstdc++
// headers, with libstdc++ and libgcc linked in statically and musl's libc as its only NEEDED
// library (Alpine's name, libc.musl-x86_64.so.1). native/musl/ holds the two pieces that
// makes work (see there). Each build is then checked in the build root under musl's dynamic
// linker: scripts/musl/load-check.c dlopen()s the .node with every symbol bound, and
// scripts/musl/runtime-check.cc, built the same way, runs threads, locks, exceptions and an
// io_uring read on that runtime. There is no musl Node here, so kaio itself is not run on
// musl; the floor check for it is: NEEDED libc.musl-x86_64.so.1 only, no symbol versions.
// An arm64 musl prebuild would need Debian's musl-dev for arm64 in the root: not made yet.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const debianRoot = require('./debian-root');

const root = path.join(__dirname, '..');

// GNU triples of the cross toolchains (Debian: g++-<triple> and binutils-<triple>).
const TRIPLES = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };
const TARGETS = [
  { platform: 'linux', arch: 'x64', libc: 'glibc' },
  { platform: 'linux', arch: 'arm64', libc: 'glibc' },
  { platform: 'linux', arch: 'x64', libc: 'musl' },
  { platform: 'linux', arch: 'arm64', libc: 'musl' },
];
// What a musl prebuild may ask of the loading machine: musl's libc, by Alpine's name.
const MUSL_NEEDED = { x64: 'libc.musl-x86_64.so.1', arm64: 'libc.musl-aarch64.so.1' };
// The emulator that runs the other architecture's musl checks (Debian: qemu-user-static).
const QEMU = { x64: 'qemu-x86_64-static', arm64: 'qemu-aarch64-static' };
// The highest glibc symbol version a shipped prebuild may need (what Node 20's binary needs).
const GLIBC_FLOOR = [2, 28];
// Linked in statically, so that a prebuild needs no libstdc++/libgcc_s of the loading machine,
// and kept private (--exclude-libs): the addon neither exports that copy nor has its calls
// bound to the loading process's libstdc++ (Node's own), which may be another version.
const STATIC_RUNTIME = '-static-libstdc++ -static-libgcc -Wl,--exclude-libs,ALL';

function hostLibc() {
  // The same rule node-gyp-build uses when it picks a prebuild.
  return fs.existsSync('/etc/alpine-release') ? 'musl' : 'glibc';
}

function onPath(cmd) {
  return (process.env.PATH || '')
    .split(path.delimiter)
    .some((dir) => dir !== '' && fs.existsSync(path.join(dir, cmd)));
}

function isNative(target) {
  return target.platform === os.platform() && target.arch === os.arch() && target.libc === hostLibc();
}

/** This machine's compiler/strip settings for a target, or a string saying what is missing. */
function localToolchain(target) {
  if (isNative(target)) return { env: {}, strip: 'strip' };
  const triple = TRIPLES[target.arch];
  if (target.platform !== 'linux' || target.libc !== 'glibc' || !triple || os.platform() !== 'linux') {
    return `no cross toolchain known for ${target.platform}-${target.arch}-${target.libc}`;
  }
  const tools = { CC: `${triple}-gcc`, CXX: `${triple}-g++`, strip: `${triple}-strip` };
  const missing = Object.values(tools).filter((t) => !onPath(t));
  if (missing.length > 0) {
    return `${missing.join(', ')} not found (Debian: apt-get install g++-${triple})`;
  }
  return { env: { CC: tools.CC, CXX: tools.CXX, LINK: tools.CXX }, strip: tools.strip };
}

/** The build root's compiler/strip settings for a target (the root has both triples' g++). */
function buildRootToolchain(target) {
  if (target.libc === 'musl' && target.platform === 'linux' && MUSL_NEEDED[target.arch] && os.arch() === 'x64') {
    if (target.arch === os.arch()) return { musl: true };
    if (!onPath(QEMU[target.arch])) return `${QEMU[target.arch]} not found to run its checks (Debian: apt-get install qemu-user-static)`;
    return { musl: true, qemu: QEMU[target.arch] };
  }
  if (target.platform !== 'linux' || target.libc !== 'glibc' || !TRIPLES[target.arch]) {
    return `no build-root toolchain for ${target.platform}-${target.arch}-${target.libc}`;
  }
  const env = { LDFLAGS: STATIC_RUNTIME };
  if (target.arch === os.arch()) return { env, strip: 'strip' };
  const triple = TRIPLES[target.arch];
  return { env: { ...env, CC: `${triple}-gcc`, CXX: `${triple}-g++`, LINK: `${triple}-g++` }, strip: `${triple}-strip` };
}

function nodeDir() {
  // Official and distribution installs put the headers under <prefix>/include/node.
  const prefix = path.dirname(path.dirname(process.execPath));
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

function scratchCopy(parent) {
  const dir = fs.mkdtempSync(path.join(parent, 'kaio-prebuild-'));
  fs.copyFileSync(path.join(root, 'binding.gyp'), path.join(dir, 'binding.gyp'));
  fs.copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
  fs.cpSync(path.join(root, 'native'), path.join(dir, 'native'), { recursive: true });
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

function prebuildifyArgs(target, tc, out, dir) {
  return [
    require.resolve('prebuildify/bin.js'),
    '--napi',
    '--strip',
    '--tag-libc',
    `--platform=${target.platform}`,
    `--arch=${target.arch}`,
    `--target=${process.versions.node}`,
    `--strip-bin=${tc.strip}`,
    `--out=${out}`,
    dir,
  ];
}

function outFile(base, target) {
  return path.join(base, 'prebuilds', `${target.platform}-${target.arch}`, `kaio.${target.libc}.node`);
}

/** Builds with this machine's compilers, straight into the checkout's prebuilds/. */
function buildLocal(target, tc) {
  const dir = scratchCopy(os.tmpdir());
  try {
    const env = { ...process.env, ...tc.env, PREBUILD_LIBC: target.libc, JOBS: 'max' };
    const nodedir = nodeDir();
    if (nodedir !== undefined && env.npm_config_nodedir === undefined) env.npm_config_nodedir = nodedir;
    const r = spawnSync(process.execPath, prebuildifyArgs(target, tc, root, dir), { cwd: dir, env, stdio: 'inherit' });
    if (r.status !== 0) {
      throw new Error(`prebuildify for ${target.platform}-${target.arch}-${target.libc} exited with ${r.status ?? r.signal}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const out = outFile(root, target);
  if (!fs.existsSync(out)) throw new Error(`prebuildify did not produce ${path.relative(root, out)}`);
  return out;
}

/**
 * Builds in the build root: the scratch copy is made inside the root's /tmp, the checkout
 * (for node_modules) is bind-mounted read-only at its own path, this Node and its headers
 * at /usr/local; the result is copied into the checkout's prebuilds/.
 */
function buildInRoot(broot, target, tc) {
  const nodedir = nodeDir();
  if (nodedir === undefined) throw new Error(`no Node headers next to ${process.execPath} (<prefix>/include/node)`);
  const scratch = scratchCopy(path.join(broot, 'tmp'));
  const inside = `/tmp/${path.basename(scratch)}`;
  try {
    const env = {
      ...tc.env,
      PREBUILD_LIBC: target.libc,
      JOBS: 'max',
      npm_config_nodedir: '/usr/local/kaio-node',
      npm_config_cache: `${inside}/.npm`,
      TMPDIR: `${inside}/.tmp`, // prebuildify's own scratch goes with the copy
    };
    fs.mkdirSync(path.join(scratch, '.tmp'));
    const args = prebuildifyArgs(target, tc, inside, inside);
    args[0] = path.join(root, 'node_modules', 'prebuildify', 'bin.js');
    const r = debianRoot.runInRoot(broot, ['/usr/local/bin/node', ...args], {
      cwd: inside,
      env,
      binds: [
        { from: process.execPath, to: '/usr/local/bin/node', ro: true },
        { from: path.join(nodedir, 'include', 'node'), to: '/usr/local/kaio-node/include/node', ro: true },
        { from: root, to: root, ro: true },
      ],
    });
    if (r.error) throw r.error;
    if (r.status !== 0) {
      throw new Error(`prebuildify in the build root for ${target.platform}-${target.arch}-${target.libc} exited with ${r.status ?? r.signal}`);
    }
    const built = outFile(scratch, target);
    if (!fs.existsSync(built)) throw new Error(`prebuildify did not produce ${built}`);
    const out = outFile(root, target);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.copyFileSync(built, out);
    return out;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/**
 * The musl prebuild (scripts/musl/build.sh in the build root), then its two checks under
 * musl's dynamic linker in the root; throws unless both print only ok lines.
 */
function buildMuslInRoot(broot, target, tc) {
  const nodedir = nodeDir();
  if (nodedir === undefined) throw new Error(`no Node headers next to ${process.execPath} (<prefix>/include/node)`);
  const gyp = JSON.parse(fs.readFileSync(path.join(root, 'binding.gyp'), 'utf8'));
  const out = fs.mkdtempSync(path.join(broot, 'tmp', 'kaio-musl-'));
  const inside = `/tmp/${path.basename(out)}`;
  const binds = [
    { from: path.join(nodedir, 'include', 'node'), to: '/usr/local/kaio-node/include/node', ro: true },
    { from: root, to: root, ro: true },
  ];
  const qemu = tc.qemu ? (process.env.PATH || '').split(path.delimiter).map((d) => path.join(d, tc.qemu)).find((p) => fs.existsSync(p)) : undefined;
  if (qemu !== undefined) binds.push({ from: qemu, to: '/usr/local/bin/qemu-user', ro: true });
  const emulated = (argv) => (qemu !== undefined ? ['/usr/local/bin/qemu-user', ...argv] : argv);
  const run = (argv, what) => {
    const r = debianRoot.runInRoot(broot, argv, { binds, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (r.error) throw r.error;
    const text = r.stdout ?? '';
    for (const line of text.split('\n').filter(Boolean)) console.log(`prebuild: musl: ${line}`);
    if (r.status !== 0) throw new Error(`${what} for ${target.platform}-${target.arch}-musl exited with ${r.status ?? r.signal}`);
    return text;
  };
  try {
    const nai = path.dirname(require.resolve('node-addon-api/package.json', { paths: [root] }));
    run(['/bin/sh', path.join(root, 'scripts', 'musl', 'build.sh'), target.arch, root, inside, '/usr/local/kaio-node/include/node', nai,
      ...gyp.targets[0].sources], 'scripts/musl/build.sh');
    run(emulated([`${inside}/musl-load-check`, `${inside}/kaio.musl.node`]), 'the musl loader check');
    run(emulated([`${inside}/musl-runtime-check`, `${inside}/kaio.musl.node`]), 'the musl runtime check');
    const dest = outFile(root, target);
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    fs.copyFileSync(path.join(out, 'kaio.musl.node'), dest);
    return dest;
  } finally {
    fs.rmSync(out, { recursive: true, force: true });
  }
}

/** What a musl .node asks of the loading machine: its NEEDED libraries and any symbol versions. */
function muslReport(file, arch) {
  const readelf = (args) => {
    const r = spawnSync('readelf', [...args, '-W', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.error || r.status !== 0) throw new Error(`readelf ${args.join(' ')} ${file} failed: ${r.error ?? r.stderr}`);
    return r.stdout;
  };
  const needed = [...readelf(['-d']).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const versions = [...readelf(['-V']).matchAll(/Name: (\S+)/g)].map((m) => m[1]).filter((v) => !v.endsWith('.node'));
  const violations = [
    ...needed.filter((l) => l !== MUSL_NEEDED[arch]).map((l) => `NEEDED ${l}`),
    ...versions.map((v) => `version need ${v}`),
  ];
  return { needed, violations };
}

function versionKey(v) {
  return v.split('.').map(Number);
}

function compareVersions(a, b) {
  const [x, y] = [versionKey(a), versionKey(b)];
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  }
  return 0;
}

/**
 * What a built .node asks of the loading machine, from readelf (binutils; it reads any
 * ELF machine): the versions its undefined dynamic symbols are bound to, its version needs
 * (what the loader checks) and its NEEDED libraries. `violations` lists every symbol or
 * version need newer than GLIBC_2.28 or of GLIBCXX_/CXXABI_ (or GCC_, from libgcc_s).
 */
function floorReport(file) {
  const readelf = (args) => {
    const r = spawnSync('readelf', [...args, '-W', file], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.error || r.status !== 0) throw new Error(`readelf ${args.join(' ')} ${file} failed: ${r.error ?? r.stderr}`);
    return r.stdout;
  };
  const syms = readelf(['--dyn-syms']);
  const verneed = readelf(['-V']);
  const dynamic = readelf(['-d']);
  const tooNew = (lib, v) => lib !== 'GLIBC' || compareVersions(v, GLIBC_FLOOR.join('.')) > 0;
  const violations = [];
  const versions = new Set();
  for (const m of syms.matchAll(/ UND ([^@\s]+)@+([A-Z]+)_([0-9][0-9.]*)/g)) {
    versions.add(`${m[2]}_${m[3]}`);
    if (tooNew(m[2], m[3])) violations.push(`${m[1]}@${m[2]}_${m[3]}`);
  }
  for (const m of verneed.matchAll(/Name: ([A-Z]+)_([0-9][0-9.]*)/g)) {
    versions.add(`${m[1]}_${m[2]}`);
    if (tooNew(m[1], m[2]) && !violations.some((v) => v.endsWith(`@${m[1]}_${m[2]}`))) {
      violations.push(`version need ${m[1]}_${m[2]}`);
    }
  }
  const needed = [...dynamic.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const glibc = [...versions].filter((v) => v.startsWith('GLIBC_')).map((v) => v.slice(6)).sort(compareVersions);
  return {
    highestGlibc: glibc.length > 0 ? `GLIBC_${glibc[glibc.length - 1]}` : 'no GLIBC',
    cxx: [...versions].filter((v) => /^(GLIBCXX|CXXABI|GCC)_/.test(v)).sort(),
    needed,
    violations,
  };
}

function describe(report) {
  const cxx = report.cxx.length > 0 ? report.cxx.join(', ') : 'no GLIBCXX/CXXABI';
  return `needs ${report.highestGlibc}, ${cxx}; NEEDED ${report.needed.join(' ')}`;
}

/** The violations for a message: glibc ones first, at most 12. */
function listViolations(violations) {
  const sorted = [...violations].sort((a, b) => Number(!/@GLIBC_/.test(a)) - Number(!/@GLIBC_/.test(b)));
  const more = sorted.length > 12 ? ` and ${sorted.length - 12} more` : '';
  return sorted.slice(0, 12).join(', ') + more;
}

function floorName() {
  return `GLIBC_${GLIBC_FLOOR.join('.')}`;
}

/** Prints the floor of each file; 1 when one crosses it. */
function checkFiles(files) {
  let bad = 0;
  for (const f of files) {
    const rep = floorReport(f);
    console.log(`prebuild: ${f}: ${describe(rep)}`);
    if (rep.violations.length > 0) {
      console.error(`prebuild: ${f} needs more than ${floorName()} without libstdc++: ${listViolations(rep.violations)}`);
      bad = 1;
    }
  }
  return bad;
}

function main(argv) {
  if (argv[0] === '--check') return checkFiles(argv.slice(1));
  const env = process.env.KAIO_PREBUILD;
  const hostOnly = argv.includes('--host') || env === 'host' || env === 'host-buildroot';
  const inRoot = !hostOnly || argv.includes('--buildroot') || env === 'host-buildroot';
  const wanted = hostOnly
    ? [{ platform: os.platform(), arch: os.arch(), libc: hostLibc() }]
    : TARGETS;

  let broot;
  if (inRoot) {
    const why = debianRoot.unavailable();
    if (why !== undefined) {
      console.error(`prebuild: the shipped prebuilds are built in a Debian ${debianRoot.SUITE} build root (glibc 2.31, GCC 10), and it cannot be used here: ${why}`);
      console.error('prebuild: `node scripts/prebuild.js --host` (or KAIO_PREBUILD=host) builds this machine\'s one with this machine\'s compiler, without the floor');
      return 1;
    }
    broot = debianRoot.buildRoot();
    console.log(`prebuild: building in the build root ${broot} (Debian ${debianRoot.SUITE}, libstdc++/libgcc linked statically)`);
  }
  let bad = 0;
  for (const target of wanted) {
    const tc = inRoot ? buildRootToolchain(target) : localToolchain(target);
    if (typeof tc === 'string') {
      console.error(`prebuild: ${target.platform}-${target.arch}-${target.libc}: ${tc}`);
      console.error('prebuild: `node scripts/prebuild.js --host` (or KAIO_PREBUILD=host) builds only this machine\'s one');
      return 1;
    }
    if (tc.musl) {
      const out = buildMuslInRoot(broot, target, tc);
      const rep = muslReport(out, target.arch);
      console.log(`prebuild: ${path.relative(root, out)} (${fs.statSync(out).size} bytes; NEEDED ${rep.needed.join(' ')}, no symbol versions)`);
      if (rep.violations.length > 0) {
        console.error(`prebuild: FLOOR CROSSED: ${path.relative(root, out)} needs more than musl's libc: ${rep.violations.join(', ')}`);
        fs.rmSync(out);
        bad = 1;
      }
      continue;
    }
    const out = inRoot ? buildInRoot(broot, target, tc) : buildLocal(target, tc);
    const rep = floorReport(out);
    console.log(`prebuild: ${path.relative(root, out)} (${fs.statSync(out).size} bytes; ${describe(rep)})`);
    if (rep.violations.length > 0) {
      const msg = `${path.relative(root, out)} needs more than ${floorName()} without libstdc++: ${listViolations(rep.violations)}`;
      if (inRoot) {
        console.error(`prebuild: FLOOR CROSSED: ${msg}`);
        fs.rmSync(out); // never left where npm pack would ship it
        bad = 1;
      } else {
        console.error(`prebuild: note: ${msg} (built with this machine's compiler for local use; the shipped ones come from the build root)`);
      }
    }
  }
  return bad;
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));

module.exports = { floorReport, muslReport, GLIBC_FLOOR };
