'use strict';
// Mocha root hooks loaded only by scripts/test-asan.sh. AddressSanitizer
// intercepts mlock(2)/munlock(2) and makes them no-ops that return 0 (its
// shadow memory cannot be locked), so VmLck stays 0 under ASan. The tests
// below assert VmLck byte counts of mlocked (AIO) pools; under ASan they are
// skipped, each with this reason printed, never silently. VmPin
// (io_uring-registered buffers) is not affected: those pass under ASan.
const REASON = 'ASan makes mlock(2) a no-op: VmLck cannot be measured under the sanitizer';
const SKIP = new Set([
  '32 registered buffers: RLIMIT_MEMLOCK, unprivileged mlock pools (the AIO backend) get the same accounting and error, syscall mlock',
  '45 AioContext.registerBuffers mlocks page-aligned memory and releases it with close()',
  '45 AIO pools under RLIMIT_MEMLOCK, unprivileged within the limit it locks; with fallback: true beyond it, the pool works unlocked',
]);
const seen = new Set();
exports.mochaHooks = {
  beforeEach() {
    const t = this.currentTest;
    if (t && SKIP.has(t.fullTitle())) {
      seen.add(t.fullTitle());
      process.stdout.write(`      [asan] skipped: ${t.title}: ${REASON}\n`);
      this.skip();
    }
  },
  afterAll() {
    for (const title of SKIP)
      if (!seen.has(title)) process.stdout.write(`      [asan] note: no test titled "${title}" ran (renamed?)\n`);
  },
};
