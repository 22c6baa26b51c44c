'use strict';
// Shared test helpers: temp files and byte comparison. Tests talk to the real kernel.
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const crypto = require('node:crypto');

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-test-'));
process.on('exit', () => fs.rmSync(root, { recursive: true, force: true }));

let n = 0;
/** A fresh file path under a per-run temp dir (on the same fs as /tmp). */
function tmpPath(name = 'file') {
  return path.join(root, `${process.pid}-${n++}-${name}`);
}

/** Creates a file of `size` random bytes; returns { path, data }. */
function randomFile(size, name) {
  const p = tmpPath(name);
  const data = crypto.randomBytes(size);
  fs.writeFileSync(p, data);
  return { path: p, data };
}

/** Opens path with fs flags, registering the fd for closing after the test. */
function openFd(p, flags = 'r+') {
  return fs.openSync(p, flags);
}

/** True when the filesystem under dir accepts O_DIRECT. */
function directSupported(dir = root) {
  const p = path.join(dir, `odirect-check-${process.pid}`);
  try {
    const fd = fs.openSync(p, fs.constants.O_CREAT | fs.constants.O_RDWR | fs.constants.O_DIRECT);
    fs.closeSync(fd);
    return true;
  } catch {
    return false;
  } finally {
    fs.rmSync(p, { force: true });
  }
}

let publicCopy;
/**
 * A copy of the built package that any user can load, for children that drop
 * privileges: the checkout itself may sit under a directory (like /root)
 * that other users cannot enter.
 */
function packageForAnyUser() {
  if (publicCopy) return publicCopy;
  const pkg = path.resolve(__dirname, '..');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-pkg-'));
  fs.chmodSync(dir, 0o755);
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const native = require('node-gyp-build').path(pkg); // the addon this run loads
  for (const part of ['package.json', 'dist', 'node_modules/node-gyp-build'])
    fs.cpSync(path.join(pkg, part), path.join(dir, part), { recursive: true });
  fs.mkdirSync(path.join(dir, 'build', 'Release'), { recursive: true });
  fs.copyFileSync(native, path.join(dir, 'build', 'Release', 'kaio.node'));
  for (const f of walk(dir)) fs.chmodSync(f, fs.statSync(f).isDirectory() ? 0o755 : 0o644);
  publicCopy = dir;
  return dir;
}

function walk(dir) {
  const out = [dir];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...walk(p));
    else out.push(p);
  }
  return out;
}

/**
 * Calls read() until it returns `want` or `ms` have passed; returns the last
 * value (assert on it). For counters the kernel settles a little after the
 * call that changes them returns: before Linux 6.4, io_uring unpins
 * unregistered buffers from delayed work (about a second later), and a
 * closed ring is torn down on a workqueue. Newer kernels return at once.
 * Also for a baseline: settled(vmPin, 0) lets earlier tests' pins drain.
 */
async function settled(read, want, ms = 5000) {
  const end = Date.now() + ms;
  let v = read();
  while (v !== want && Date.now() < end) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    v = read();
  }
  return v;
}

let poolsPerRing;
/**
 * True when one ring can hold several registered-buffer pools: the kernel has
 * a sparse buffer table (IORING_RSRC_REGISTER_SPARSE, 5.19). Before that the
 * first pool is the ring's whole table and a second one gets EBUSY (README).
 */
function severalPoolsPerRing() {
  if (poolsPerRing !== undefined) return poolsPerRing;
  const { Ring } = require('..');
  const ring = new Ring({ entries: 2 });
  try {
    ring.registerBuffers({ count: 1, size: 4096 });
    ring.registerBuffers({ count: 1, size: 4096 });
    poolsPerRing = true;
  } catch (e) {
    if (e.code !== 'EBUSY') throw e;
    poolsPerRing = false;
  } finally {
    ring.close();
  }
  return poolsPerRing;
}

module.exports = { root, tmpPath, randomFile, openFd, directSupported, packageForAnyUser, settled, severalPoolsPerRing };
