'use strict';
// Runs a script in a child node process and reports how it ended: a crash
// (signal, abort) or a hang (timeout) of the child is a result, not a dead
// test runner.
const cp = require('node:child_process');
const path = require('node:path');

const DIST = path.resolve(__dirname, '..', '..', 'dist', 'lib');

/**
 * Runs `source` (a CommonJS script; `KAIO` is the path of the package's
 * dist/lib) in a child. Resolves to { status, signal, stdout, stderr, timedOut }.
 */
function runScript(source, { timeoutMs = 20000, env = {}, args = [] } = {}) {
  return new Promise((resolve) => {
    const child = cp.spawn(process.execPath, [...args, '-e', `const KAIO = ${JSON.stringify(DIST)};\n${source}`], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr, timedOut });
    });
  });
}

/** A one-line description of how a child ended, for assertion messages. */
function describeEnd(r) {
  const tail = (s) => s.trim().split('\n').slice(-8).join('\n    ');
  return `${r.timedOut ? 'timed out' : r.signal ? `killed by ${r.signal}` : `exit ${r.status}`}\n  stdout: ${tail(r.stdout)}\n  stderr: ${tail(r.stderr)}`;
}

module.exports = { runScript, describeEnd, DIST };
