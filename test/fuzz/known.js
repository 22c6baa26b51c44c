'use strict';
// Known findings (issue 9, and those this harness found). A test or a fuzzer
// value that exercises one of them is skipped (tests) or not generated
// (fuzzer) while its id is listed in KNOWN_OPEN, which must list only
// findings whose reproducer fails on this branch. Once one is fixed, delete
// its id here: its tests run and the fuzzer generates its values again.
const FINDINGS = {
  1: 'prepReadv/prepWritev list element getters that call ring.submit()/ring.close() or throw (native reads the live array)',
  2: 'a pool view whose `buffer` lies (own property or TypedArray subclass getter): pool not counted in use, release() unmaps under the op',
  3: 'worker.terminate() with a thread-pool op stuck > 10 s aborts the process (SIGABRT)',
  4: 'FileHandle close() while writes are queued lets them land in the next opened file',
  5: 'a readv/writev list that is valid during validation and not after (promise API)',
  6: 'a signal-like object {aborted:false, addEventListener(){}} accepted, then a crash at completion',
  7: 'AIO on a FIFO blocks the event loop',
  8: 'dropped contexts exhaust fs.aio-nr / fds',
  9: 'lengths read at submit time: resizable ArrayBuffer grown between write() and the next tick; batch list changed after prep*',
  10: 'io_uring_enter errors thrown from process.nextTick',
  11: "open(p, 'r', -0) aborts the process",
  12: 'errors without code: detached DataView, ring.supports({}), pool.indexOf(undefined), write(buf, Object.create(null)), open(p, f, m, null)',
  13: 'BufferPool constructor exported',
  // Found by this harness (not in the list; nobody is fixing them yet).
  N1: 'FileHandle truncate(fn)/stat(fn): a function argument is taken by node:fs as the callback, the promise never settles',
  N2: 'a promise op waits forever behind batch ops prepared but not submitted that fill the SQ (the promise flush never submits them)',
  N3: "AioContext/ThreadpoolContext: an op's promise continuation runs after the pool release that waited for it (the view is already detached)",
  N4: 'FileHandle write/writeFile/read trust view.buffer/byteLength/byteOffset getters: a lying `buffer` writes the bytes of another ArrayBuffer, a lying length throws a RangeError without code',
  N5: 'FileHandle write(buf, x): x a Symbol or a detached typed array → TypeError without code (cousin of 12)',
  N6: 'open(path) with a detached Buffer as path → TypeError without code (ring.openat/statx say ENOENT for "")',
  N7: 'a worker that is the only loader of kaio, terminated with a context alive (even idle): SIGSEGV in uv__finish_close (the close callback lives in the unloaded addon)',
  N8: 'an op on a FixedFile started before updateFiles() in the same tick is submitted after the swap: its bytes land in the file that now owns the slot',
  N9: 'FileHandle write(detached DataView, offset[, length, position]) → TypeError without code (read and write(dv) alone are coded)',
  N10: "FileHandle read into a pool view while the pool is released: fh.read resolves after the release that waited for its inner op, so result.buffer is already detached (N3's case for FileHandle)",
};
// Fixed (reproducers pass): every finding above. 8 last (issue 19): a dropped
// context's fd now weighs on V8's collector in proportion to RLIMIT_NOFILE.
const KNOWN_OPEN = [];

const open = new Set(KNOWN_OPEN);
/** True while finding `id` is not fixed on this branch (KAIO_KNOWN_ALL=1 runs them all). */
function isOpen(id) {
  return open.has(id) && !process.env.KAIO_KNOWN_ALL;
}
/** In a mocha test: skips with the finding's reason while it is open. */
function skipIfOpen(ctx, id) {
  if (!isOpen(id)) return;
  const t = ctx.test || ctx.currentTest;
  // Says what is true: the finding is open on this branch, and what it is.
  if (t) t.title += ` [skipped: finding ${id} is open on this branch: ${FINDINGS[id]}]`;
  ctx.skip();
}
module.exports = { FINDINGS, KNOWN_OPEN, isOpen, skipIfOpen };
