// io_uring blocked for real: a child installs a seccomp filter that returns
// EPERM for io_uring_setup (as Docker's default profile does), then execs
// node. createContext() must fall back and keep working.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fixture, skip } from './helpers';

const helper = fixture('seccomp-exec.py');
const child = fixture('backend-child.js');
const AIO_SYSCALLS = ['io_setup', 'io_submit', 'io_getevents', 'io_destroy'];

function runBlocked(syscalls: string[], env: Record<string, string> = {}) {
  const r = spawnSync('python3', [helper, syscalls.join(','), '--', process.execPath, child], {
    encoding: 'utf8',
    env: { ...process.env, KAIO_BACKEND: '', ...env },
    timeout: 30_000,
  });
  return r;
}

describe('43 backends: fallback under a seccomp filter', function () {
  before(function () {
    const r = runBlocked([]);
    if (r.error || r.status === 77 || r.status === 127) {
      this.skip(); // no python3 or no seccomp here: the fixture says which on stderr
    }
    assert.equal(r.status, 0, r.stderr);
  });

  it('io_uring_setup → EPERM: the child gets backend "aio", says why, and works', function () {
    const r = runBlocked(['io_uring_setup']);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const out = JSON.parse(r.stdout);
    assert.equal(out.fatal, undefined);
    // fs.aio-max-nr is system-wide: while other processes hold it all, the
    // child rightly falls back to the thread pool (the next test proves that
    // path). That is the machine, not kaio: skip, saying so.
    if (out.aioError === 'EAGAIN') skip(this, `fs.aio-max-nr in use by other processes: ${out.errors.aio?.message}`);
    assert.equal(out.backend, 'aio');
    assert.deepEqual(out.probe, { backend: 'aio', reason: 'io_uring_setup: EPERM' });
    assert.equal(out.ioUringError, 'EPERM');
    assert.equal(out.aioError, undefined);
    assert.equal(out.errors.io_uring.code, 'EPERM');
    assert.equal(out.errors.io_uring.syscall, 'io_uring_setup');
    assert.match(out.errors.io_uring.message, /seccomp/);
    assert.equal(out.errors.aio, undefined);
    assert.equal(out.written, 64 * 1024);
    assert.equal(out.fileMatches, true);
    assert.equal(out.readv, 64 * 1024);
    assert.equal(out.readMatches, true);
  });

  it('io_uring and AIO syscalls → EPERM: the child gets backend "threadpool" and works', () => {
    const r = runBlocked(['io_uring_setup', ...AIO_SYSCALLS]);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const out = JSON.parse(r.stdout);
    assert.equal(out.fatal, undefined);
    assert.equal(out.backend, 'threadpool');
    assert.deepEqual(out.probe, { backend: 'threadpool', reason: 'io_uring_setup: EPERM; io_setup: EPERM' });
    assert.equal(out.aioError, 'EPERM');
    assert.equal(out.errors.aio.code, 'EPERM');
    assert.equal(out.errors.aio.syscall, 'io_setup');
    assert.match(out.errors.aio.message, /blocked/);
    assert.equal(out.fileMatches, true);
    assert.equal(out.readMatches, true);
  });

  it('io_uring_setup → EPERM and io_setup → EAGAIN (fs.aio-max-nr full): backend "threadpool", and why', () => {
    const r = runBlocked(['io_uring_setup', 'io_setup:EAGAIN']);
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const out = JSON.parse(r.stdout);
    assert.equal(out.fatal, undefined);
    assert.equal(out.backend, 'threadpool');
    assert.deepEqual(out.probe, { backend: 'threadpool', reason: 'io_uring_setup: EPERM; io_setup: EAGAIN' });
    assert.equal(out.errors.aio.code, 'EAGAIN');
    assert.equal(out.errors.aio.syscall, 'io_setup');
    assert.match(out.errors.aio.message, /fs\.aio-max-nr/);
    assert.equal(out.fileMatches, true);
    assert.equal(out.readMatches, true);
  });

  it('KAIO_BACKEND forces a backend even where a better one works', () => {

    const r = runBlocked([], { KAIO_BACKEND: 'threadpool' });
    assert.equal(r.status, 0, r.stderr + r.stdout);
    const out = JSON.parse(r.stdout);
    assert.equal(out.backend, 'threadpool');
    assert.deepEqual(out.probe, { backend: 'threadpool', reason: 'forced by KAIO_BACKEND' });
    assert.equal(out.fileMatches, true);
  });

  it('KAIO_BACKEND forcing a blocked backend fails loudly instead of falling back', () => {
    const r = runBlocked(['io_uring_setup'], { KAIO_BACKEND: 'io_uring' });
    const out = JSON.parse(r.stdout);
    assert.match(out.fatal, /EPERM: operation not permitted, io_uring_setup/);
  });
});
