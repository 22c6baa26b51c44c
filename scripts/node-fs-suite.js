#!/usr/bin/env node
// Node's own fs/promises tests, pointed at kaio/fs/promises.
//
//   node scripts/node-fs-suite.js <node-source-tree> [--all] [--adapt] [--json] [--node] [--uid=N] [name-filter...]
//
// <node-source-tree> is a Node source tree of the running major version
// (`apt-get source nodejs`, or an unpacked node-vXX.tar.xz): its
// test/common and test/fixtures are used in place, and each test file runs
// there, as Node's tools/test.py runs it (one process, the file's
// `// Flags:` line as node options, cwd the tree's root). Nothing of Node's
// is copied here. Each file runs with a preload (--require, --import) that
// makes `require('fs/promises')`, `require('node:fs/promises')`,
// `require('fs').promises` and `import ... from 'fs/promises'` give kaio's
// module (kaio's own modules still get Node's: it builds on it); the same
// preloads run any package's tests on kaio (scripts/dropin-preload.js).
//
// The files: test/parallel/test-fs-promises*, test-fs-*filehandle*, and
// the *-promises* read/write tests (KAIO_BACKEND in the environment picks
// kaio's backend, as everywhere); --all adds every other test-fs-* file
// that uses fs.promises. --node runs the same files without the redirect
// (Node against itself: what a file does on this machine without kaio).
// --adapt runs the files of ADAPT (below) as adapted copies, written under
// the tree's test/kaio-adapted-<pid>/ (next to test/common, outside this
// repository): each adaptation takes out or replaces one part that tests a
// Node internal, or calls node:fs with a kaio handle where kaio's module has
// the call; the reason is printed. Files in NOT_APPLICABLE are marked so
// when they fail. A file that skips itself (test/common skip(), e.g. as
// root) is counted as skipped, not passed, and a pass that made no call to
// kaio (counted in every process the file starts) is named. Exit status 0
// when every file ran; the counts are the output.
'use strict';
const cp = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const args = process.argv.slice(2);
const flag = (f) => {
  const i = args.indexOf(f);
  if (i < 0) return false;
  args.splice(i, 1);
  return true;
};
const all = flag('--all');
const adapt = flag('--adapt');
const asJson = flag('--json');
const plainNode = flag('--node');
// --uid=N: each file runs as user N (group N, no supplementary groups), for
// the files that skip themselves as root (access and permission checks).
const uidArg = args.find((a) => a.startsWith('--uid='));
if (uidArg) args.splice(args.indexOf(uidArg), 1);
const uid = uidArg ? Number(uidArg.slice('--uid='.length)) : undefined;
if (uid !== undefined && !(Number.isInteger(uid) && uid > 0)) {
  console.error('--uid takes a user id other than 0');
  process.exit(2);
}
const tree = args.shift();
if (!tree || !fs.existsSync(path.join(tree, 'test', 'common', 'index.js'))) {
  console.error('usage: node scripts/node-fs-suite.js <node-source-tree> [--all] [--adapt] [--json] [--node] [--uid=N] [name-filter...]');
  console.error('  (a Node source tree with test/common: `apt-get source nodejs`, or nodejs.org/dist/vX/node-vX.tar.xz)');
  process.exit(2);
}
const filters = args;
const root = path.resolve(tree);
const parallel = path.join(root, 'test', 'parallel');

const CORE = /^test-fs-(promises.*|.*filehandle.*|read(v)?-promises.*|writev-promises.*)\.(m?js)$/;
const usesPromises = (f) => /fs\.promises|['"](node:)?fs\/promises['"]|\{\s*promises\b/.test(fs.readFileSync(path.join(parallel, f), 'utf8'));
const files = fs.readdirSync(parallel)
  .filter((f) => CORE.test(f) || (all && /^test-fs-.*\.m?js$/.test(f) && usesPromises(f)))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

// The preloads (scripts/dropin-preload.js), written next to nothing of
// Node's: a temporary directory.
const os = require('node:os');
const { writePreload } = require('./dropin-preload.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-node-suite-'));
// As another user: the preloads readable, test/common's tmpdir (NODE_TEST_DIR) and the call logs theirs.
let testDir = path.join(root, 'test');
if (uid !== undefined) {
  fs.chmodSync(tmp, 0o755);
  testDir = path.join(tmp, 'test-dir');
  fs.mkdirSync(testDir);
  fs.chownSync(testDir, uid, uid);
  fs.mkdirSync(path.join(tmp, 'calls'));
  fs.chownSync(path.join(tmp, 'calls'), uid, uid);
}
// Each file is its own entry point, so Node's require() of an ES module
// (which skips the resolve hook) is left as Node has it.
const redirect = writePreload(tmp).options.filter((o) => o !== '--no-experimental-require-module');

/**
 * Files that test Node's internals in one part, and the edit that takes that
 * part out (a regular expression on the file's text and its replacement).
 */
const ADAPT = {
  'test-fs-promises.js': {
    why: "handle.stat.call({}) expects ERR_INTERNAL_ASSERTION, Node's own internal-bug assertion (kaio: TypeError, the private-field brand check)",
    edits: [[/await assert\.rejects\(\(\) => handle\.stat\.call\(\{\}\), \{[^}]*\}\);/, '/* kaio-adapted: internal assertion */']],
  },
  'test-fs-promises-readfile.js': {
    why: "validateZeroByteLiar replaces Node's internal fs binding's fstat (internalBinding('fs')), which kaio does not call",
    edits: [[/\n\s*await validateZeroByteLiar\(\);/, '\n  /* kaio-adapted: internal binding */']],
  },
  'test-fs-promises-file-handle-read.js': {
    why: "fs.createReadStream(null, { fd: handle }) is node:fs's, which refuses a kaio handle; kaio's module has the same call",
    edits: [[/fs\.createReadStream\(null, \{ fd: streamFileHandle \}\)/, 'fs.promises.createReadStream(null, { fd: streamFileHandle })']],
  },
};
// --all, as a user other than root (--uid): the stack of access()'s error.
ADAPT['test-fs-access.js'] = {
  why: "expects `at async Object.access`, the frame of Node's own async function in node:internal/fs/promises; kaio's access names itself as the frame that awaits the ring op (`at Object.access`), above the same caller frames (test 26)",
  edits: [[/\/at async Object\\\.access\//, '/at (async )?Object\\.access/']],
};
// node:fs's streams over a handle (--all): kaio's module has the same calls.
for (const f of ['test-fs-read-stream-file-handle.js', 'test-fs-write-stream-file-handle.js', 'test-fs-write-stream-file-handle-2.js']) {
  ADAPT[f] = {
    why: "fs.createReadStream/createWriteStream(null, { fd: handle }) are node:fs's, which refuse a kaio handle; kaio's module has the same calls",
    edits: [[/\bfs\.create(Read|Write)Stream\(/g, 'fs.promises.create$1Stream(']],
  };
}

/** Files that test what does not apply to kaio, and why. */
const NOT_APPLICABLE = {
  'test-fs-promises-file-handle-aggregate-errors.js': "injects errors by redefining Node's internal FileHandle.prototype.fd (require('internal/fs/promises')); kaio's AggregateError: test/27 with real kernel faults",
  'test-fs-promises-file-handle-close-errors.js': "injects errors into Node's internal FileHandle (internal/fs/promises); kaio: test/26, test/27",
  'test-fs-promises-file-handle-op-errors.js': "injects errors into Node's internal FileHandle (internal/fs/promises); kaio: test/27",
  'test-fs-promises-file-handle-read-worker.js': 'transfers a FileHandle to a worker: Node lets only its own classes take part in a transferList (docs/api.md: the alternative)',
};

function flagsOf(file) {
  const m = /^\/\/ Flags:(.*)$/m.exec(fs.readFileSync(file, 'utf8'));
  return m ? m[1].trim().split(/\s+/).filter(Boolean) : [];
}

// One per run: two runs at once must not remove each other's copies.
const adaptedDir = path.join(root, 'test', `kaio-adapted-${process.pid}`);
if (adapt) fs.mkdirSync(adaptedDir, { recursive: true });
const results = [];
for (const f of files) {
  let file = path.join(parallel, f);
  const adaptation = adapt && !plainNode ? ADAPT[f] : undefined;
  if (adaptation) {
    let text = fs.readFileSync(file, 'utf8');
    for (const [re, to] of adaptation.edits) {
      if (!text.match(re)) throw new Error(`${f}: the adaptation ${re} no longer matches this tree`);
      text = text.replace(re, to);
    }
    file = path.join(adaptedDir, f);
    fs.writeFileSync(file, text);
  }
  const flags = flagsOf(file);
  const t0 = Date.now();
  // The preloads go in NODE_OPTIONS, so that the processes a test starts run
  // on kaio too; each process appends the calls kaio took to `calls`.
  const calls = path.join(tmp, uid === undefined ? '' : 'calls', `calls-${results.length}.jsonl`);
  const env = { ...process.env, NODE_TEST_DIR: testDir, TEST_SERIAL_ID: '0', NODE_COMMON_PORT: '12346' };
  if (!plainNode) Object.assign(env, { NODE_OPTIONS: [process.env.NODE_OPTIONS, ...redirect].filter(Boolean).join(' '), KAIO_DROPIN_LOG: calls });
  const r = cp.spawnSync(process.execPath, [...flags, file], { cwd: root, encoding: 'utf8', timeout: 120_000, env, uid, gid: uid });
  const ok = r.status === 0 && !r.signal;
  // test/common's skip(): `1..0 # Skipped: <why>` and exit 0 (as root, some files test nothing).
  const skipped = ok ? /^1\.\.0 # Skipped: (.*)$/m.exec(r.stdout || '')?.[1] : undefined;
  let kaioCalls;
  if (!plainNode) {
    kaioCalls = 0;
    const lines = fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8').split('\n').filter(Boolean) : [];
    for (const line of lines) for (const n of Object.values(JSON.parse(line).counts)) kaioCalls += n;
  }
  const out = (r.stderr || '') + (r.stdout || '');
  const why = ok ? '' : (/^\s*(AssertionError|TypeError|Error|\w+Error)[^\n]*$/m.exec(r.stderr || '')?.[0] ?? `exit ${r.status}${r.signal ? ` ${r.signal}` : ''}`).trim();
  const na = ok || plainNode ? undefined : NOT_APPLICABLE[f];
  results.push({ file: f, ok: ok && !skipped, skipped, kaioCalls, adapted: adaptation?.why, notApplicable: na, flags: flags.join(' '), ms: Date.now() - t0, why, out: ok ? '' : out.slice(-3000) });
  if (!asJson) {
    const calledKaio = ok && !skipped && kaioCalls === 0 ? '  (no call reached kaio)' : '';
    console.log(`${skipped ? 'skip' : ok ? 'pass' : na ? 'n/a ' : 'FAIL'}  ${f}${flags.length ? `  (${flags.join(' ')})` : ''}${adaptation ? '  [adapted]' : ''}${calledKaio}${ok ? '' : `\n      ${why}`}`);
    if (skipped) console.log(`      skipped: ${skipped}`);
    if (adaptation) console.log(`      adapted: ${adaptation.why}`);
    if (na) console.log(`      not applicable: ${na}`);
  }
}
if (adapt) fs.rmSync(adaptedDir, { recursive: true, force: true });
fs.rmSync(tmp, { recursive: true, force: true });
const passed = results.filter((r) => r.ok).length;
const skippedFiles = results.filter((r) => r.skipped).map((r) => r.file);
const idle = results.filter((r) => r.ok && r.kaioCalls === 0).map((r) => r.file);
if (asJson) console.log(JSON.stringify({ passed, skipped: skippedFiles.length, total: results.length, results }, null, 1));
else {
  const na = results.filter((r) => r.notApplicable).length;
  const adapted = results.filter((r) => r.adapted).length;
  const failing = results.length - passed - skippedFiles.length - na;
  console.log(`\n${passed}/${results.length} passed${plainNode ? ' (node:fs/promises itself)' : ` (kaio/fs/promises${adapt ? `, ${adapted} adapted` : ''}); ${na} not applicable, ${failing} failing`}${skippedFiles.length ? `; ${skippedFiles.length} skipped by the test itself (${skippedFiles.join(', ')})` : ''}`);
  if (idle.length) console.log(`${idle.length} of the passes made no call to kaio (they test node:fs, or only what kaio's module takes from Node): ${idle.join(', ')}`);
}
