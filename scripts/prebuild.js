#!/usr/bin/env node
'use strict';
// Builds the N-API prebuilds that `npm pack` ships (prebuilds/<platform>-<arch>/kaio.<libc>.node)
// with prebuildify: one per target below, native or cross-compiled.
//
//   node scripts/prebuild.js            every target; a missing cross toolchain is an error
//   node scripts/prebuild.js --host     only the machine's own platform/arch/libc
//   KAIO_PREBUILD=host npm pack         the same through prepack (the pack test uses it)
//
// Each build runs in a scratch copy of binding.gyp + native/ (node_modules linked in),
// so the developer's build/ (what the tests load) is never overwritten by a foreign arch.
// node-gyp gets the running Node's headers (its install prefix has include/node) and
// --target of the running Node: with NAPI_VERSION fixed in binding.gyp, the result loads
// in every Node that has that N-API version, whatever version built it.
//
// musl: Debian's musl-tools has musl-gcc for C only; there is no musl C++ standard library
// in Debian, so no musl prebuild is made: on Alpine, node-gyp-build finds no matching
// prebuild (they are libc-tagged) and builds from source.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.join(__dirname, '..');

// GNU triples of the cross toolchains (Debian: g++-<triple> and binutils-<triple>).
const TRIPLES = { x64: 'x86_64-linux-gnu', arm64: 'aarch64-linux-gnu' };
const TARGETS = [
  { platform: 'linux', arch: 'x64', libc: 'glibc' },
  { platform: 'linux', arch: 'arm64', libc: 'glibc' },
];

function hostLibc() {
  // The same rule node-gyp-build uses when it picks a prebuild.
  return fs.existsSync('/etc/alpine-release') ? 'musl' : 'glibc';
}

function onPath(cmd) {
  return (process.env.PATH || '')
    .split(path.delimiter)
    .some((dir) => dir !== '' && fs.existsSync(path.join(dir, cmd)));
}

/** The compiler/strip settings for a target, or a string saying what is missing. */
function toolchain(target) {
  const native = target.platform === os.platform() && target.arch === os.arch() && target.libc === hostLibc();
  if (native) return { env: {}, strip: 'strip' };
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

function nodeDir() {
  // Official and distribution installs put the headers under <prefix>/include/node.
  const prefix = path.dirname(path.dirname(process.execPath));
  return fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

function scratchCopy() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-prebuild-'));
  fs.copyFileSync(path.join(root, 'binding.gyp'), path.join(dir, 'binding.gyp'));
  fs.copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'));
  fs.cpSync(path.join(root, 'native'), path.join(dir, 'native'), { recursive: true });
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  return dir;
}

function build(target, tc) {
  const dir = scratchCopy();
  try {
    const args = [
      require.resolve('prebuildify/bin.js'),
      '--napi',
      '--strip',
      '--tag-libc',
      `--platform=${target.platform}`,
      `--arch=${target.arch}`,
      `--target=${process.versions.node}`,
      `--strip-bin=${tc.strip}`,
      `--out=${root}`,
      dir,
    ];
    const env = { ...process.env, ...tc.env, PREBUILD_LIBC: target.libc, JOBS: 'max' };
    const nodedir = nodeDir();
    if (nodedir !== undefined && env.npm_config_nodedir === undefined) env.npm_config_nodedir = nodedir;
    const r = spawnSync(process.execPath, args, { cwd: dir, env, stdio: 'inherit' });
    if (r.status !== 0) {
      throw new Error(`prebuildify for ${target.platform}-${target.arch}-${target.libc} exited with ${r.status ?? r.signal}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const out = path.join(root, 'prebuilds', `${target.platform}-${target.arch}`, `kaio.${target.libc}.node`);
  if (!fs.existsSync(out)) throw new Error(`prebuildify did not produce ${path.relative(root, out)}`);
  return out;
}

/** Highest version tag of `prefix` (GLIBC_, GLIBCXX_) the binary needs, from `readelf -V`. */
function needs(file) {
  const r = spawnSync('readelf', ['-V', '-W', file], { encoding: 'utf8' });
  if (r.status !== 0) return 'readelf unavailable';
  const highest = (prefix) => {
    const vs = [...r.stdout.matchAll(new RegExp(`Name: ${prefix}_([0-9.]+)`, 'g'))].map((m) => m[1]);
    const key = (v) => v.split('.').map(Number);
    vs.sort((a, b) => {
      const [x, y] = [key(a), key(b)];
      for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
      return 0;
    });
    return vs.length > 0 ? `${prefix}_${vs[vs.length - 1]}` : `no ${prefix}`;
  };
  return `needs ${highest('GLIBC')}, ${highest('GLIBCXX')}`;
}

function main(argv) {
  const hostOnly = argv.includes('--host') || process.env.KAIO_PREBUILD === 'host';
  const wanted = hostOnly
    ? [{ platform: os.platform(), arch: os.arch(), libc: hostLibc() }]
    : TARGETS;
  for (const target of wanted) {
    const tc = toolchain(target);
    if (typeof tc === 'string') {
      console.error(`prebuild: ${target.platform}-${target.arch}-${target.libc}: ${tc}`);
      console.error('prebuild: `node scripts/prebuild.js --host` (or KAIO_PREBUILD=host) builds only this machine\'s one');
      return 1;
    }
    const out = build(target, tc);
    // What the machine that loads it must have: the build machine's glibc and libstdc++
    // headers decide this (Debian 12 here), not kaio's code alone.
    console.log(`prebuild: ${path.relative(root, out)} (${fs.statSync(out).size} bytes; ${needs(out)})`);
  }
  return 0;
}

process.exitCode = main(process.argv.slice(2));
