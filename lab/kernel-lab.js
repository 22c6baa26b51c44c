#!/usr/bin/env node
'use strict';
// Kernel lab: boots each kernel of a matrix of Debian kernels in a small
// qemu VM that holds a copy of this checkout, runs the checkout's mocha suite
// inside, and prints one table (kernel, passed, failed, skipped, time).
//
//   npm run test:kernels                       # the whole matrix
//   KAIO_LAB_KERNELS=6.1 npm run test:kernels  # some of it (comma-separated)
//   KAIO_LAB_ACCEL=tcg npm run test:kernels    # no KVM (default: KVM when /dev/kvm opens)
//   KAIO_LAB_VERBOSE=1 ...                     # stream each guest's console
//   KAIO_LAB_SPEC=dist-test/61.lab.eio.test.js,dist-test/62.lab.faults.matrix.test.js ...
//                                              # only these test files (comma-separated)
//
// Everything downloaded or built lives under .lab/ (gitignored). The kernels
// are Debian's packaged ones, fetched with `apt-get download` through a
// private apt configuration (.lab/apt), extracted with dpkg-deb -x; nothing
// is installed as the host's kernel. Needs root (apt-get install of the
// host tools when missing, /dev/kvm).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync, execFileSync } = require('node:child_process');

const repo = path.resolve(__dirname, '..');
const lab = path.join(repo, '.lab');
const aptDir = path.join(lab, 'apt');

// The matrix: a name, the suite whose linux-image-amd64 is taken.
const MATRIX = [
  { name: '5.10', suite: 'bullseye-security' },
  { name: '6.1', suite: 'bookworm' },
  { name: '6.12', suite: 'bookworm-backports' },
];
const SOURCES = [
  'deb http://deb.debian.org/debian bookworm main',
  'deb http://deb.debian.org/debian bookworm-backports main',
  'deb http://deb.debian.org/debian bullseye main',
  'deb http://deb.debian.org/debian-security bullseye-security main',
];
// Modules the guest loads (with their dependencies); missing or built-in ones are fine.
const MODULES = [
  'virtio_pci', 'virtio_blk', 'crc32c_generic', 'crc32c_intel', 'ext4',
  'nvme', 'null_blk', 'dm_mod', 'dm_flakey', 'loop', 'configfs',
];
const MEM_MIB = Number(process.env.KAIO_LAB_MEM_MIB || 2560);
const CPUS = Number(process.env.KAIO_LAB_CPUS || 2);
const VERBOSE = !!process.env.KAIO_LAB_VERBOSE;
const TIMEOUT_S = Number(process.env.KAIO_LAB_TIMEOUT_S || 1800);
const BOOT_TIMEOUT_S = Number(process.env.KAIO_LAB_BOOT_TIMEOUT_S || 90);

function log(msg) { process.stderr.write(`[lab] ${msg}\n`); }

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28, ...opts });
  if (r.error) throw r.error;
  if (r.status !== 0 && !opts.allowFail)
    throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}\n${r.stderr || ''}${r.stdout || ''}`);
  return r;
}

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

// ---------------------------------------------------------------- host tools
const HOST_TOOLS = [
  // [command or file, Debian package]
  ['qemu-system-x86_64', 'qemu-system-x86'],
  ['/bin/busybox', 'busybox-static'],
  ['depmod', 'kmod'],
  ['cpio', 'cpio'],
  ['mke2fs', 'e2fsprogs'],
  ['dmsetup', 'dmsetup'],
  ['/usr/bin/python3', 'python3-minimal'],
  ['xz', 'xz-utils'],
  ['zstd', 'zstd'],
  ['dpkg-deb', 'dpkg'],
];

function ensureHostTools() {
  const missing = new Set();
  for (const [tool, pkg] of HOST_TOOLS) {
    if (tool.startsWith('/') ? !fs.existsSync(tool) : !have(tool)) missing.add(pkg);
  }
  // The guest needs a static busybox: a dynamic one would need its libs too.
  if (fs.existsSync('/bin/busybox')) {
    const r = run('ldd', ['/bin/busybox'], { allowFail: true });
    if (r.status === 0 && /=>/.test(r.stdout)) missing.add('busybox-static');
  }
  if (!missing.size) return;
  log(`installing host tools: ${[...missing].join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-o', 'DPkg::Lock::Timeout=600'], { stdio: 'inherit', env });
  run('apt-get', ['install', '-y', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=600', ...missing],
    { stdio: 'inherit', env });
}

// ---------------------------------------------------------------- kernels
function aptArgs() {
  return [
    '-o', `Dir::Etc::SourceList=${path.join(aptDir, 'sources.list')}`,
    '-o', 'Dir::Etc::SourceParts=/dev/null',
    '-o', `Dir::State::Lists=${path.join(aptDir, 'lists')}`,
    '-o', `Dir::Cache=${path.join(aptDir, 'cache')}`,
  ];
}

function aptUpdate() {
  fs.mkdirSync(path.join(aptDir, 'lists', 'partial'), { recursive: true });
  fs.mkdirSync(path.join(aptDir, 'cache', 'archives', 'partial'), { recursive: true });
  const list = path.join(aptDir, 'sources.list');
  const want = SOURCES.join('\n') + '\n';
  const stamp = path.join(aptDir, 'updated');
  const fresh = fs.existsSync(stamp) && fs.readFileSync(list, 'utf8') === want &&
    Date.now() - fs.statSync(stamp).mtimeMs < 24 * 3600e3;
  if (fresh) return;
  fs.writeFileSync(list, want);
  log('apt-get update (lab sources: bookworm, bookworm-backports, bullseye, bullseye-security)');
  const r = run('apt-get', [...aptArgs(), 'update'], { allowFail: true });
  // A suite that cannot be reached shows up below as "no kernel from <suite>".
  if (r.status !== 0) log(`apt-get update said:\n${r.stderr}`);
  fs.writeFileSync(stamp, '');
}

/** The linux-image-<abi>-amd64 package that the suite's linux-image-amd64 depends on. */
function kernelPackage(suite) {
  const madison = run('apt-cache', [...aptArgs(), 'madison', 'linux-image-amd64']).stdout;
  for (const line of madison.split('\n')) {
    const [, version, src] = line.split('|').map((s) => s && s.trim());
    if (!src || src.split(' ')[1] !== `${suite}/main`) continue;
    const show = run('apt-cache', [...aptArgs(), 'show', `linux-image-amd64=${version}`]).stdout;
    const m = /^Depends:.*?(linux-image-[^ ,]+)/m.exec(show);
    if (m) return { pkg: m[1], version };
  }
  return null;
}

/** Downloads and extracts one kernel; returns { kver, vmlinuz, modroot }. */
function fetchKernel(entry) {
  const found = kernelPackage(entry.suite);
  if (!found) throw new Error(`no kernel from ${entry.suite} (suite not reachable?)`);
  const dir = path.join(lab, 'kernels', found.pkg);
  const done = path.join(dir, '.extracted');
  if (!fs.existsSync(done)) {
    const debs = path.join(lab, 'debs');
    fs.mkdirSync(debs, { recursive: true });
    let deb = fs.readdirSync(debs).find((f) => f.startsWith(`${found.pkg}_`) && f.endsWith('.deb'));
    if (!deb) {
      log(`apt-get download ${found.pkg} (${entry.suite})`);
      run('apt-get', [...aptArgs(), 'download', found.pkg], { cwd: debs });
      deb = fs.readdirSync(debs).find((f) => f.startsWith(`${found.pkg}_`) && f.endsWith('.deb'));
    }
    fs.rmSync(dir, { recursive: true, force: true });
    fs.mkdirSync(dir, { recursive: true });
    run('dpkg-deb', ['-x', path.join(debs, deb), dir]);
    fs.writeFileSync(done, '');
  }
  const boot = path.join(dir, 'boot');
  const vmlinuz = fs.readdirSync(boot).find((f) => f.startsWith('vmlinuz-'));
  const kver = vmlinuz.slice('vmlinuz-'.length);
  const modroot = ['lib/modules', 'usr/lib/modules']
    .map((p) => path.join(dir, p, kver)).find((p) => fs.existsSync(p));
  // The package ships no modules.dep (its postinst makes it): make one to resolve dependencies.
  if (!fs.existsSync(path.join(modroot, 'modules.dep'))) run('depmod', ['-b', dir, kver]);
  return { ...found, kver, vmlinuz: path.join(boot, vmlinuz), kdir: dir, modroot };
}

// ---------------------------------------------------------------- guest root
function copyFile(src, dst) {
  fs.mkdirSync(path.dirname(dst), { recursive: true });
  fs.rmSync(dst, { force: true }); // never write through a busybox applet link
  fs.copyFileSync(src, dst);
  fs.chmodSync(dst, fs.statSync(src).mode & 0o7777);
}

/** Copies a binary and the shared libraries ldd lists for it into root. */
function copyBinary(root, bin, as = bin) {
  copyFile(fs.realpathSync(bin), path.join(root, as));
  const out = run('ldd', [bin], { allowFail: true }).stdout || '';
  for (const line of out.split('\n')) {
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (!m) continue;
    const lib = m[1];
    const dst = path.join(root, lib);
    if (!fs.existsSync(dst)) copyFile(fs.realpathSync(lib), dst);
  }
}

/** The part of the guest's root that is the same for every kernel. */
function buildCommonRoot(root) {
  fs.rmSync(root, { recursive: true, force: true });
  for (const d of ['bin', 'sbin', 'usr/bin', 'usr/sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'run',
    'mnt', 'root', 'lib64', 'lib/x86_64-linux-gnu', 'results'])
    fs.mkdirSync(path.join(root, d), { recursive: true });
  // /lib64 and /lib as real dirs hold the loader and libs (ldd paths).
  copyFile('/bin/busybox', path.join(root, 'bin/busybox'));
  const applets = run('/bin/busybox', ['--list-full']).stdout.split('\n').filter(Boolean);
  for (const a of applets) {
    const p = path.join(root, a);
    if (a === 'bin/busybox' || fs.existsSync(p)) continue;
    fs.mkdirSync(path.dirname(p), { recursive: true });
    fs.symlinkSync('/bin/busybox', p);
  }
  copyBinary(root, process.execPath, '/usr/bin/node');
  // util-linux's losetup and e2fsprogs' mke2fs for test 53 (loop devices, mkfs.ext4).
  for (const [bin, as] of [['losetup', '/usr/sbin/losetup'], ['mke2fs', '/usr/sbin/mke2fs']]) {
    const found = run('sh', ['-c', `command -v ${bin}`], { allowFail: true }).stdout.trim();
    if (found) copyBinary(root, found, as);
  }
  if (fs.existsSync(path.join(root, 'usr/sbin/mke2fs'))) {
    fs.rmSync(path.join(root, 'usr/sbin/mkfs.ext4'), { force: true });
    fs.symlinkSync('mke2fs', path.join(root, 'usr/sbin/mkfs.ext4'));
    if (fs.existsSync('/etc/mke2fs.conf')) copyFile('/etc/mke2fs.conf', path.join(root, 'etc/mke2fs.conf'));
  }
  copyBinary(root, fs.realpathSync(run('sh', ['-c', 'command -v dmsetup']).stdout.trim()), '/usr/sbin/dmsetup');
  // python3 for the seccomp fixture (test 43): the interpreter, its stdlib and ctypes.
  const py = fs.realpathSync('/usr/bin/python3');
  copyBinary(root, py, py);
  fs.symlinkSync(path.basename(py), path.join(root, 'usr/bin/python3'));
  const pyver = path.basename(py); // python3.11
  const stdlib = `/usr/lib/${pyver}`;
  fs.cpSync(stdlib, path.join(root, stdlib), {
    recursive: true, dereference: false,
    filter: (src) => !/\/(test|tests|idlelib|tkinter|ensurepip|lib2to3|turtledemo|__pycache__)$/.test(src),
  });
  for (const so of fs.readdirSync(path.join(stdlib, 'lib-dynload'))) {
    copyBinary(root, path.join(stdlib, 'lib-dynload', so));
  }
  fs.writeFileSync(path.join(root, 'etc/passwd'),
    'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n');
  fs.writeFileSync(path.join(root, 'etc/group'), 'root:x:0:\nnogroup:x:65534:\n');
  // The checkout as it is (built addon, dist/, node_modules), without git and lab state.
  const skip = new Set(['.git', '.lab', '.bench-data']);
  // TypeScript is compiled afresh into the copy (a checkout's dist/ can hold
  // outputs of files that no longer exist, which would shadow the new ones).
  const ts = fs.existsSync(path.join(repo, 'tsconfig.json'));
  if (ts) skip.add('dist');
  for (const e of fs.readdirSync(repo)) {
    if (!skip.has(e)) fs.cpSync(path.join(repo, e), path.join(root, 'kaio', e), { recursive: true });
  }
  if (ts) {
    run(path.join(repo, 'node_modules', '.bin', 'tsc'),
      // A build-info file of its own: the checkout's (dist/.tsbuildinfo) would
      // say "up to date" and nothing would be emitted into the copy.
      ['-p', 'tsconfig.json', '--outDir', path.join(root, 'kaio', 'dist'), '--tsBuildInfoFile', path.join(root, '.tsbuildinfo-guest')], { cwd: repo });
  }
  copyFile(path.join(__dirname, 'guest', 'init.sh'), path.join(root, 'init'));
  fs.chmodSync(path.join(root, 'init'), 0o755);
  copyFile(path.join(__dirname, 'guest', 'skip-reasons.js'), path.join(root, 'lab/skip-reasons.js'));
  const spec = (process.env.KAIO_LAB_SPEC || '').split(',').map((s) => s.trim()).filter(Boolean);
  if (spec.some((f) => !/^[\w./-]+$/.test(f))) throw new Error(`KAIO_LAB_SPEC: file names only (${spec.join(', ')})`);
  fs.writeFileSync(path.join(root, 'lab/spec'), spec.join(' '));
}

/** The kernel's modules the guest needs, decompressed, with modules.dep. */
function buildModuleRoot(root, k) {
  fs.rmSync(root, { recursive: true, force: true });
  const dst = path.join(root, 'lib/modules', k.kver);
  fs.mkdirSync(dst, { recursive: true });
  for (const f of ['modules.order', 'modules.builtin', 'modules.builtin.modinfo']) {
    const p = path.join(k.modroot, f);
    if (fs.existsSync(p)) copyFile(p, path.join(dst, f));
  }
  const files = new Set();
  for (const m of MODULES) {
    const r = run('modprobe', ['-d', k.kdir, '-S', k.kver, '--show-depends', m], { allowFail: true });
    for (const line of (r.stdout || '').split('\n')) {
      const mm = /^insmod (\S+)/.exec(line);
      if (mm) files.add(mm[1]);
    }
  }
  // Both sides through realpath: with .lab/ a symlink, the module's real
  // path and modroot would otherwise differ in their prefix.
  const modroot = fs.realpathSync(k.modroot);
  for (const f of files) {
    const rel = path.relative(modroot, fs.realpathSync(f.startsWith(k.kdir) ? f : path.join(k.kdir, f)));
    const out = path.join(dst, rel);
    copyFile(path.join(k.modroot, rel), out);
    if (out.endsWith('.xz')) run('xz', ['-d', '-f', out]);
    else if (out.endsWith('.zst')) run('zstd', ['-q', '-d', '-f', '--rm', out]);
    else if (out.endsWith('.gz')) run('gzip', ['-d', '-f', out]);
  }
  run('depmod', ['-b', root, k.kver]);
  return files.size;
}

function cpio(dir, out, append) {
  run('sh', ['-c', `cd "$1" && find . | cpio -o -H newc --quiet ${append ? '>>' : '>'} "$2"`, 'sh', dir, out]);
}

function mkext4(file, sizeMiB) {
  fs.rmSync(file, { force: true });
  fs.writeFileSync(file, '');
  fs.truncateSync(file, sizeMiB * 1024 * 1024);
  // Features every kernel of the matrix mounts (5.10 refuses orphan_file).
  const r = run('mke2fs', ['-q', '-F', '-t', 'ext4', '-O', '^orphan_file,^metadata_csum_seed', file], { allowFail: true });
  if (r.status !== 0) run('mke2fs', ['-q', '-F', '-t', 'ext4', file]);
}

function rawDisk(file, sizeMiB) {
  fs.rmSync(file, { force: true });
  fs.writeFileSync(file, '');
  fs.truncateSync(file, sizeMiB * 1024 * 1024);
}

// ---------------------------------------------------------------- running
function accel() {
  const want = (process.env.KAIO_LAB_ACCEL || '').toLowerCase();
  if (want === 'tcg') return 'tcg';
  let kvm = false;
  try { fs.closeSync(fs.openSync('/dev/kvm', 'r+')); kvm = true; } catch {}
  if (want === 'kvm' && !kvm) throw new Error('KAIO_LAB_ACCEL=kvm but /dev/kvm cannot be opened');
  return kvm ? 'kvm' : 'tcg';
}

function boot(k, initrd, runDir, acc) {
  const scratch = path.join(runDir, 'scratch.ext4');
  const faulty = path.join(runDir, 'faulty.raw');
  const nvme = path.join(runDir, 'nvme.raw');
  mkext4(scratch, 2048);
  rawDisk(faulty, 64);
  rawDisk(nvme, 256);
  const args = [
    '-machine', 'q35', '-m', String(MEM_MIB), '-smp', String(CPUS),
    // arch-capabilities off: under nested KVM (this machine) qemu cannot set that MSR and aborts.
    ...(acc === 'kvm' ? ['-enable-kvm', '-cpu', process.env.KAIO_LAB_CPU || 'host,-arch-capabilities']
      : ['-accel', 'tcg', '-cpu', process.env.KAIO_LAB_CPU || 'max']),
    '-kernel', k.vmlinuz, '-initrd', initrd,
    '-append', 'console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init nvme.poll_queues=2',
    '-display', 'none', '-monitor', 'none', '-serial', 'stdio', '-no-reboot', '-nic', 'none',
    '-drive', `file=${scratch},if=virtio,format=raw,cache=unsafe`,
    '-drive', `file=${faulty},if=virtio,format=raw,cache=unsafe`,
    '-drive', `file=${nvme},if=none,id=nvm,format=raw,cache=unsafe`,
    '-device', 'nvme,serial=kaiolab,drive=nvm',
  ];
  const logFile = path.join(lab, 'logs', `${k.name}-${acc}.log`);
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const out = fs.openSync(logFile, 'w');
  const t0 = process.hrtime.bigint();
  return new Promise((resolve) => {
    const q = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let text = '';
    let booted = false;
    const timer = setTimeout(() => { text += `\n[lab] timeout after ${TIMEOUT_S}s\n`; q.kill('SIGKILL'); }, TIMEOUT_S * 1000);
    // A kernel reaches the lab's init in seconds; one that says nothing for
    // BOOT_TIMEOUT_S is stuck (seen with KVM on a nested host: it hangs right
    // after the real-mode setup), and the caller retries it under TCG.
    const bootTimer = setTimeout(() => { if (!booted) q.kill('SIGKILL'); }, BOOT_TIMEOUT_S * 1000);
    const onData = (d) => {
      fs.writeSync(out, d);
      text += d.toString('utf8');
      if (!booted && text.includes('KAIO-LAB-BOOTED')) { booted = true; clearTimeout(bootTimer); }
      if (VERBOSE) process.stdout.write(d);
    };
    q.stdout.on('data', onData);
    q.stderr.on('data', onData);
    q.on('close', (code) => {
      clearTimeout(timer);
      clearTimeout(bootTimer);
      fs.closeSync(out);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      resolve({ text: text.replace(/\r/g, ''), code, seconds, logFile, booted });
    });
  });
}

function parse(text) {
  const res = { passed: null, failed: null, skipped: null, suiteSeconds: null, skips: [], failures: [], env: '' };
  const closing = /^tests: (\d+) passed, (\d+) failed, (\d+) skipped$/m.exec(text);
  if (closing) [res.passed, res.failed, res.skipped] = closing.slice(1).map(Number);
  const secs = /KAIO-LAB-SUITE-SECONDS (\d+(?:\.\d+)?)/.exec(text);
  if (secs) res.suiteSeconds = Number(secs[1]);
  const block = (name) => {
    const m = new RegExp(`KAIO-LAB-${name}-BEGIN\\n([\\s\\S]*?)KAIO-LAB-${name}-END`).exec(text);
    return m ? m[1] : '';
  };
  for (const line of block('SKIPS').split('\n').filter(Boolean)) {
    const [title, reason] = line.split('\t');
    res.skips.push({ title, reason });
  }
  res.env = block('ENV').trim();
  res.warnings = [...text.matchAll(/^KAIO-LAB-WARN (.*)$/gm)].map((m) => m[1]);
  const failing = /^\s*\d+ failing\n([\s\S]*?)(?=^tests: )/m.exec(text);
  if (failing) res.failures = failing[1].trim();
  return res;
}

function pad(s, n) { s = String(s); return s + ' '.repeat(Math.max(0, n - s.length)); }

async function main() {
  if (process.getuid && process.getuid() !== 0) throw new Error('the kernel lab needs root (apt-get, /dev/kvm)');
  const want = (process.env.KAIO_LAB_KERNELS || '').split(',').map((s) => s.trim()).filter(Boolean);
  const matrix = want.length ? MATRIX.filter((m) => want.includes(m.name)) : MATRIX;
  if (!matrix.length) throw new Error(`KAIO_LAB_KERNELS names none of ${MATRIX.map((m) => m.name).join(', ')}`);
  ensureHostTools();
  const addon = path.join(repo, 'build', 'Release', 'kaio.node');
  if (!fs.existsSync(addon)) throw new Error('no build/Release/kaio.node: run `npm ci` first');
  // The guest runs the addon built here: refuse one older than its sources.
  const built = fs.statSync(addon).mtimeMs;
  const newer = fs.readdirSync(path.join(repo, 'native'), { recursive: true }).filter((f) => {
    const st = fs.statSync(path.join(repo, 'native', f));
    return st.isFile() && st.mtimeMs > built;
  });
  if (newer.length) throw new Error(`build/Release/kaio.node is older than native/${newer[0]}: run \`npm run compile\` first`);
  // Build as `npm test` would (e.g. a pretest that compiles the tests), then copy.
  const scripts = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')).scripts || {};
  if (scripts.pretest) {
    log('npm run pretest');
    run('npm', ['run', '--silent', 'pretest'], { cwd: repo, stdio: 'inherit' });
  }
  fs.mkdirSync(lab, { recursive: true });
  aptUpdate();
  let acc = accel();
  let kvmFailed = false;
  log(`accelerator: ${acc}`);

  const common = path.join(lab, 'root-common');
  const commonCpio = path.join(lab, 'common.cpio');
  let t = Date.now();
  buildCommonRoot(common);
  cpio(common, commonCpio, false);
  log(`guest root: ${(fs.statSync(commonCpio).size / 1048576).toFixed(0)} MiB cpio in ${((Date.now() - t) / 1000).toFixed(1)} s`);

  const rows = [];
  for (const entry of matrix) {
    let k;
    try {
      k = { ...entry, ...fetchKernel(entry) };
    } catch (e) {
      log(`${entry.name}: ${e.message}`);
      rows.push({ name: entry.name, kver: '-', error: e.message });
      continue;
    }
    const runDir = path.join(lab, 'run', k.name);
    fs.mkdirSync(runDir, { recursive: true });
    const modRoot = path.join(runDir, 'modroot');
    const nmods = buildModuleRoot(modRoot, k);
    const initrd = path.join(runDir, 'initrd.cpio');
    fs.copyFileSync(commonCpio, initrd);
    cpio(modRoot, initrd, true);
    log(`${k.name}: booting ${k.pkg} ${k.version} (${nmods} modules) under ${acc}`);
    let r = await boot(k, initrd, runDir, acc);
    if (!r.booted && acc === 'kvm' && !process.env.KAIO_LAB_ACCEL) {
      log(`${k.name}: no sign of life under KVM in ${BOOT_TIMEOUT_S} s: KVM does not work here, using TCG from now on`);
      acc = 'tcg';
      kvmFailed = true;
      r = await boot(k, initrd, runDir, acc);
    }
    r.acc = acc;
    const p = parse(r.text);
    fs.rmSync(path.join(runDir), { recursive: true, force: true });
    rows.push({ name: k.name, kver: k.kver, ...p, vmSeconds: r.seconds, logFile: r.logFile,
      error: p.passed === null ? `no closing line (qemu exit ${r.code}); see ${path.relative(repo, r.logFile)}` : null });
    log(`${k.name}: ${p.passed === null ? 'no result' : `${p.passed} passed, ${p.failed} failed, ${p.skipped} skipped`} ` +
      `(VM ${r.seconds.toFixed(1)} s)`);
  }

  // ---- report
  const out = [];
  out.push('');
  out.push(`Kernel lab (${acc.toUpperCase()}${kvmFailed ? ': /dev/kvm is there but its guests hang at boot, so TCG' : ''}, ` +
    `${CPUS} vCPUs, ${MEM_MIB} MiB)`);
  out.push('');
  out.push(`| kernel | passed | failed | skipped | suite time | VM time |`);
  out.push(`|---|---|---|---|---|---|`);
  for (const r of rows) {
    if (r.error && r.passed == null) { out.push(`| ${r.name} (${r.kver}) | - | - | - | - | ${r.error} |`); continue; }
    out.push(`| ${r.name} (${r.kver}) | ${r.passed} | ${r.failed} | ${r.skipped} | ` +
      `${r.suiteSeconds != null ? r.suiteSeconds.toFixed(1) + ' s' : '-'} | ${r.vmSeconds.toFixed(1)} s |`);
  }
  for (const r of rows) {
    if (r.env) out.push('', `${r.name}: ${r.env.replace(/\n/g, '; ')}`);
    for (const w of r.warnings || []) out.push(`${r.name}: ${w}`);
    if (r.skips && r.skips.length) {
      out.push('', `${r.name}: skipped`);
      for (const s of r.skips) out.push(`  - ${s.title}: ${s.reason}`);
    }
    if (r.failed) out.push('', `${r.name}: failures (log: ${path.relative(repo, r.logFile)})`, r.failures);
  }
  process.stdout.write(out.join('\n') + '\n');
  const bad = rows.some((r) => r.error || r.failed);
  process.exitCode = bad ? 1 : 0;
}

main().catch((e) => { console.error(e.stack || String(e)); process.exitCode = 2; });
