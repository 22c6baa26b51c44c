'use strict';
// Debian userlands made with debootstrap from Debian's package mirror, kept in a cache
// directory (never in git) and reused: the build root where scripts/prebuild.js compiles the
// shipped prebuilds against an old glibc, and the bare userland where
// scripts/old-userland.js installs and loads them.
//
//   $KAIO_ROOTS (default $XDG_CACHE_HOME/kaio/roots or ~/.cache/kaio/roots)
//     bullseye/         debootstrap --variant=minbase: no compiler, no python, no make
//     bullseye-build/   a copy of it with g++, make, python3, musl-tools, the cross g++ and
//                       (on x64) musl-dev:arm64 added
//     bullseye-arm64/   (on x64) the same userland for arm64, unpacked only, for qemu-user
//   $KAIO_DEBIAN_MIRROR (default http://deb.debian.org/debian)
//
// Making one needs root (debootstrap, chroot), debootstrap and util-linux's unshare on
// PATH, and the mirror; a finished root is marked by .kaio-root and made only once.
// Commands run inside (unshare --root) in a private mount namespace (unshare --mount): /proc,
// /dev and the bind mounts given live only as long as the command, nothing is left mounted.
//
// Debian 11 bullseye (glibc 2.31, GCC 10) is the oldest release the mirror still serves;
// buster (glibc 2.28) has moved to Debian's archive.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const SUITE = 'bullseye';
const DEBIAN_ARCH = { x64: 'amd64', arm64: 'arm64' };
// The cross compiler for the other architecture, by the host's.
const CROSS_GXX = { x64: 'g++-aarch64-linux-gnu', arm64: 'g++-x86-64-linux-gnu' };
// musl's C library for the other architecture (the musl prebuilds are made on x64 hosts).
const CROSS_MUSL = { x64: { arch: 'arm64', pkg: 'musl-dev:arm64' } };

function rootsDir() {
  if (process.env.KAIO_ROOTS) return path.resolve(process.env.KAIO_ROOTS);
  const cache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(cache, 'kaio', 'roots');
}

function onPath(cmd) {
  return (process.env.PATH || '')
    .split(path.delimiter)
    .some((dir) => dir !== '' && fs.existsSync(path.join(dir, cmd)));
}

/** Why a root cannot be made or entered on this machine, or undefined when it can. */
function unavailable() {
  if (os.platform() !== 'linux' || DEBIAN_ARCH[os.arch()] === undefined) {
    return `Debian roots are made on Linux x64/arm64 only (this is ${os.platform()}-${os.arch()})`;
  }
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'debootstrap and chroot need root';
  for (const cmd of ['debootstrap', 'unshare', 'mount']) {
    if (!onPath(cmd)) return `${cmd} is not on PATH (Debian: apt-get install debootstrap util-linux mount)`;
  }
  return undefined;
}

function check(r, what) {
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${what} exited with ${r.status ?? r.signal}`);
  return r;
}

function log(msg) {
  console.error(`debian-root: ${msg}`);
}

function stampOf(dir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, '.kaio-root'), 'utf8'));
  } catch {
    return undefined;
  }
}

function shq(s) {
  return `'${String(s).replace(/'/g, `'\\''`)}'`;
}

/**
 * Runs argv inside root (chroot and chdir by util-linux's unshare), in a private mount
 * namespace. argv[0] is a path inside the root; nothing else of the root runs first, so a
 * root of another architecture works when argv[0] is an emulator (qemu-user) bound in.
 * binds: [{ from, to, ro }] host paths mounted at `to` (a path inside the root).
 * env: the whole environment inside (PATH, HOME and LANG are added when missing).
 * Returns spawnSync's result (stdio as given, default inherited).
 */
function runInRoot(root, argv, { binds = [], env = {}, cwd = '/', stdio = 'inherit', encoding, timeout } = {}) {
  const lines = ['set -e', `R=${shq(root)}`, 'mount -t proc proc "$R/proc"', 'mount --rbind /dev "$R/dev"'];
  for (const b of binds) {
    const to = `"$R"${shq(b.to)}`;
    if (fs.statSync(b.from).isDirectory()) lines.push(`mkdir -p ${to}`);
    else lines.push(`mkdir -p "$(dirname ${to})"`, `[ -e ${to} ] || : > ${to}`);
    lines.push(`mount --bind ${shq(b.from)} ${to}`);
    if (b.ro) lines.push(`mount -o remount,bind,ro ${to}`);
  }
  const inside = {
    PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    HOME: '/root',
    LANG: 'C.UTF-8',
    ...env,
  };
  const envArgs = Object.entries(inside).map(([k, v]) => shq(`${k}=${v}`)).join(' ');
  lines.push(`exec env -i ${envArgs} unshare --root="$R" --wd=${shq(cwd)} ${argv.map(shq).join(' ')}`);
  return spawnSync('unshare', ['--mount', '--propagation', 'private', '/bin/sh', '-c', lines.join('\n')], {
    stdio, encoding, timeout, maxBuffer: 64 << 20,
  });
}

function debootstrap(dir, arch) {
  const mirror = process.env.KAIO_DEBIAN_MIRROR || 'http://deb.debian.org/debian';
  const tmp = `${dir}.tmp`;
  const foreign = arch !== os.arch();
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dir), { recursive: true });
  log(`making a Debian ${SUITE} ${DEBIAN_ARCH[arch]} userland in ${dir} (debootstrap --variant=minbase${foreign ? ' --foreign' : ''} from ${mirror}; a few minutes, once)`);
  // --foreign (another architecture): only the first stage, which unpacks the packages
  // without running any of them; the C and C++ runtime libraries a Node needs are then
  // unpacked from the downloaded packages, as the second stage would.
  check(spawnSync('debootstrap', ['--variant=minbase', ...(foreign ? ['--foreign'] : []), `--arch=${DEBIAN_ARCH[arch]}`, SUITE, tmp, mirror],
    { stdio: ['ignore', 'ignore', 'inherit'] }), 'debootstrap');
  if (foreign) {
    const debs = path.join(tmp, 'var', 'cache', 'apt', 'archives');
    for (const f of fs.readdirSync(debs)) {
      if (/^(libc6|libgcc-s1|libstdc\+\+6)_.*\.deb$/.test(f)) check(spawnSync('dpkg-deb', ['-x', path.join(debs, f), tmp], { stdio: 'inherit' }), `dpkg-deb -x ${f}`);
    }
  }
  fs.writeFileSync(path.join(tmp, '.kaio-root'), JSON.stringify({ suite: SUITE, arch: DEBIAN_ARCH[arch], mirror, packages: [] }) + '\n');
  fs.renameSync(tmp, dir);
}

/**
 * The bare userland (minbase: no compiler) of this machine's architecture or, for arch
 * 'arm64' on x64 (or the reverse), a first-stage --foreign one to run under qemu-user.
 * Made when missing. Returns its path.
 */
function userland(arch = os.arch()) {
  const why = unavailable();
  if (why !== undefined) throw new Error(why);
  if (DEBIAN_ARCH[arch] === undefined) throw new Error(`no Debian architecture for ${arch}`);
  const dir = path.join(rootsDir(), arch === os.arch() ? SUITE : `${SUITE}-${DEBIAN_ARCH[arch]}`);
  if (stampOf(dir) === undefined) {
    fs.rmSync(dir, { recursive: true, force: true });
    debootstrap(dir, arch);
  }
  return dir;
}

/** The build root: the userland plus g++, make, python3, strip, musl-tools, the cross g++ and the other architecture's musl. */
function buildRoot() {
  const base = userland();
  const dir = path.join(rootsDir(), `${SUITE}-build`);
  const cross = CROSS_MUSL[os.arch()];
  const packages = ['g++', 'make', 'python3', 'binutils', 'musl-tools', CROSS_GXX[os.arch()], ...(cross ? [cross.pkg] : [])];
  const stamp = stampOf(dir);
  if (stamp !== undefined && packages.every((p) => stamp.packages.includes(p))) return dir;
  const tmp = `${dir}.tmp`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.rmSync(dir, { recursive: true, force: true });
  log(`making the build root ${dir}: a copy of ${base} with ${packages.join(' ')} from Debian ${SUITE} (once)`);
  check(spawnSync('cp', ['-a', base, tmp], { stdio: 'inherit' }), 'cp -a');
  fs.rmSync(path.join(tmp, '.kaio-root'));
  fs.copyFileSync('/etc/resolv.conf', path.join(tmp, 'etc', 'resolv.conf'));
  const env = { DEBIAN_FRONTEND: 'noninteractive' };
  if (cross) check(runInRoot(tmp, ['dpkg', '--add-architecture', cross.arch], { env }), 'dpkg --add-architecture (build root)');
  check(runInRoot(tmp, ['apt-get', 'update', '-qq'], { env, stdio: ['ignore', 'ignore', 'inherit'] }), 'apt-get update (build root)');
  check(runInRoot(tmp, ['apt-get', 'install', '-y', '-qq', '--no-install-recommends', ...packages],
    { env, stdio: ['ignore', 'ignore', 'inherit'] }), 'apt-get install (build root)');
  check(runInRoot(tmp, ['apt-get', 'clean'], { env }), 'apt-get clean (build root)');
  fs.writeFileSync(path.join(tmp, '.kaio-root'), JSON.stringify({ suite: SUITE, packages }) + '\n');
  fs.renameSync(tmp, dir);
  return dir;
}

module.exports = { SUITE, DEBIAN_ARCH, rootsDir, unavailable, runInRoot, userland, buildRoot };
