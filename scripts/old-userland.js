#!/usr/bin/env node
'use strict';
// Installs the packed kaio in an old Debian userland that has no compiler, and runs it there
// with this machine's Node: the proof that a shipped prebuild loads where Node 20 runs
// (test 91 runs it; so can the lab).
//
//   node scripts/old-userland.js [kaio-x.y.z.tgz]
//
// Without a tarball it packs one first with KAIO_PREBUILD=host-buildroot (this machine's
// target, built in the build root: scripts/prebuild.js). The userland is Debian 11 bullseye
// made with debootstrap --variant=minbase (glibc 2.31, GCC 10's libstdc++; no cc, c++, make
// or python3), kept under ~/.cache/kaio/roots (scripts/debian-root.js; needs root).
// Inside it: `npm install <tarball> <dependency tarballs> --ignore-scripts --offline` into an
// empty project, then scripts/smoke.js (require, a read through createContext(), through each
// backend named and through a Ring). This machine's node binary and npm are bind-mounted;
// nothing of the checkout is visible inside.
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

function main(argv) {
  const why = debianRoot.unavailable();
  if (why !== undefined) {
    console.error(`old-userland: ${why}`);
    return 2;
  }
  const npm = npmCli();
  const npmDir = path.dirname(path.dirname(npm)); // .../node_modules/npm
  const userland = debianRoot.userland();
  const scratch = fs.mkdtempSync(path.join(userland, 'tmp', 'kaio-userland-'));
  const inside = `/tmp/${path.basename(scratch)}`;
  try {
    let tarball = argv[0] ? path.resolve(argv[0]) : undefined;
    if (tarball === undefined) {
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

    const run = (argv2, what) => {
      const r = debianRoot.runInRoot(userland, argv2, {
        cwd: `${inside}/app`,
        env: { TMPDIR: `${inside}/tmp` },
        binds: [
          { from: process.execPath, to: '/usr/local/bin/node', ro: true },
          { from: npmDir, to: '/usr/local/lib/kaio-npm', ro: true },
        ],
        stdio: ['ignore', 'pipe', 'pipe'],
        encoding: 'utf8',
        timeout: 300000,
      });
      return ok(r, what);
    };
    fs.mkdirSync(path.join(scratch, 'tmp'));

    const about = run(['/bin/sh', '-c',
      'ldd --version | head -n1; ls /usr/lib/*-linux-gnu/libstdc++.so.6.* 2>/dev/null; . /etc/os-release; echo "$PRETTY_NAME";'
      + ' for t in cc c++ gcc g++ make python3 python; do command -v $t && echo "compiler tool present: $t"; done; true'],
    'userland description');
    console.log(about.stdout.trim().split('\n').map((l) => `old-userland: ${l}`).join('\n'));
    if (/compiler tool present/.test(about.stdout)) throw new Error('the userland has a build tool: not a proof of a prebuild install');

    const tarballs = fs.readdirSync(deps).map((f) => `${inside}/deps/${f}`);
    run(['/usr/local/bin/node', '/usr/local/lib/kaio-npm/bin/npm-cli.js', 'install', ...tarballs, '--ignore-scripts', '--offline',
      '--cache', `${inside}/npm-cache`, '--no-audit', '--no-fund'], 'npm install <tarball> --ignore-scripts --offline');
    if (fs.existsSync(path.join(app, 'node_modules', 'kaio', 'build'))) throw new Error('something was compiled into node_modules/kaio/build');

    const smoke = run(['/usr/local/bin/node', 'smoke.js'], 'node smoke.js');
    process.stdout.write(smoke.stdout.split('\n').filter(Boolean).map((l) => `old-userland: ${l}\n`).join(''));
    const out = smoke.stdout;
    const libc = fs.existsSync('/etc/alpine-release') ? 'musl' : 'glibc';
    const expected = `${inside}/app/node_modules/kaio/prebuilds/${os.platform()}-${os.arch()}/kaio.${libc}.node`;
    const failures = [];
    if (!/createContext\(\): backend \S+, read 4000 bytes at 5000: ok/.test(out)) failures.push('the read through createContext()');
    if (!/createContext\(\{ backend: 'threadpool' \}\): read ok/.test(out)) failures.push('the read through the thread pool');
    // io_uring: a proof only where the kernel lets this process use it (probe() says why not).
    if (/io_uring available/.test(out) && !/createContext\(\{ backend: 'io_uring' \}\): read ok/.test(out)) {
      failures.push('the read through io_uring');
    }
    if (!out.includes(`native addon: ${expected}`)) failures.push(`loading ${expected}`);
    if (failures.length > 0) {
      console.error(`old-userland: FAILED: ${failures.join('; ')}\n${smoke.stderr}`);
      return 1;
    }
    const uring = /createContext\(\{ backend: 'io_uring' \}\): read ok/.test(out) ? 'io_uring and ' : '(io_uring unavailable to this process) ';
    console.log(`old-userland: ok: ${path.basename(tarball)} installed without a compiler and read through ${uring}the thread pool in Debian ${debianRoot.SUITE}`);
    return 0;
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

if (require.main === module) process.exitCode = main(process.argv.slice(2));
