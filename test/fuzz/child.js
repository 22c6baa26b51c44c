'use strict';
// Runs the fuzzer in this process (spawned by test/70.fuzz.test.js and
// test/fuzz/run.js). Usage: node test/fuzz/child.js <seed> <runs> [logfile]
// Exit 0: the property held for every run. Exit 1: a finding (printed as JSON
// on the last stdout line, with fast-check's counterexample and the steps of
// the failing run). A crash shows as a signal in the parent; the log file
// then ends with the steps of the run that crashed.
const fs = require('node:fs');
const { fuzz, HostileError } = require('./engine');
const { isOpen } = require('./known');
let known10 = 0;

const [seed, runs, logFile] = [Number(process.argv[2] || 1), Number(process.argv[3] || 200), process.argv[4]];
let fd = logFile ? fs.openSync(logFile, 'w') : -1;
const recent = [];
function onRun(line) {
  if (line.startsWith('--- run')) recent.length = 0;
  recent.push(line);
  if (fd >= 0) fs.writeSync(fd, line + '\n'); // synchronous: survives a crash
}
const unexpected = [];
process.on('uncaughtException', (e) => {
  if (e instanceof HostileError) return; // a completion handler that throws, as the fuzzer asked
  // Seen from ring.ts #flush, and once with no JS frame at all (thrown from a native callback).
  if (isOpen(10) && e && e.syscall === 'io_uring_enter') {
    onRun(`known finding 10 (io_uring_enter error thrown from process.nextTick): ${e.message}`);
    known10++;
    return;
  }
  unexpected.push(e);
  onRun(`uncaughtException: ${e && e.stack}`);
});
process.on('unhandledRejection', (e) => {
  unexpected.push(e);
  onRun(`unhandledRejection: ${e && e.stack}`);
});

fuzz({ seed, numRuns: runs, onRun }).then((details) => {
  const out = { seed, runs, numRuns: details.numRuns, failed: details.failed, interrupted: details.interrupted, known10 };
  if (details.failed) {
    out.error = String(details.errorInstance && (details.errorInstance.stack || details.errorInstance));
    out.counterexample = details.counterexample;
    out.path = details.counterexamplePath;
    out.lastRunSteps = recent.slice(-40);
  }
  if (unexpected.length) {
    out.failed = true;
    out.unexpected = unexpected.slice(0, 5).map((e) => String(e && e.stack));
  }
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exitCode = out.failed ? 1 : 0;
}, (e) => {
  process.stdout.write(JSON.stringify({ seed, runs, failed: true, error: String(e && e.stack) }) + '\n');
  process.exitCode = 1;
});
