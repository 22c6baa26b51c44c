#!/usr/bin/env node
// Node's own fs/promises tests, pointed at kaio/fs/promises.
//
//   node scripts/node-fs-suite.js <node-source-tree> [--all] [--adapt] [--json] [--node] [name-filter...]
//
// <node-source-tree> is a Node source tree of the running major version
// (`apt-get source nodejs`, or an unpacked node-vXX.tar.xz): its
// test/common and test/fixtures are used in place, and each test file runs
// there, as Node's tools/test.py runs it (one process, the file's
// `// Flags:` line as node options, cwd the tree's root). Nothing of Node's
// is copied here. Each file runs with a preload (--require, --import) that
// makes `require('fs/promises')`, `require('node:fs/promises')`,
// `require('fs').promises` and `import ... from 'fs/promises'` give kaio's
// module (kaio's own modules still get Node's: it builds on it).
//
// The files: test/parallel/test-fs-promises*, test-fs-*filehandle*, and
// the *-promises* read/write tests (KAIO_BACKEND in the environment picks
// kaio's backend, as everywhere); --all adds every other test-fs-* file
// that uses fs.promises. --node runs the same files without the redirect
// (Node against itself: what a file does on this machine without kaio).
// --adapt runs the files of ADAPT (below) as adapted copies, written under
// the tree's test/kaio-adapted/ (next to test/common, outside this
// repository): each adaptation takes out or replaces one part that tests a
// Node internal, or calls node:fs with a kaio handle where kaio's module has
// the call; the reason is printed. Files in NOT_APPLICABLE are marked so
// when they fail. Exit status 0 when every file ran; the counts are the output.
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
const tree = args.shift();
if (!tree || !fs.existsSync(path.join(tree, 'test', 'common', 'index.js'))) {
  console.error('usage: node scripts/node-fs-suite.js <node-source-tree> [--all] [--json] [--node] [name-filter...]');
  console.error('  (a Node source tree with test/common: `apt-get source nodejs`, or nodejs.org/dist/vX/node-vX.tar.xz)');
  process.exit(2);
}
const filters = args;
const root = path.resolve(tree);
const parallel = path.join(root, 'test', 'parallel');
const kaioPromises = require.resolve(path.join(__dirname, '..', 'dist', 'lib', 'fs', 'promises.js'));

const CORE = /^test-fs-(promises.*|.*filehandle.*|read(v)?-promises.*|writev-promises.*)\.(m?js)$/;
const usesPromises = (f) => /fs\.promises|['"](node:)?fs\/promises['"]|\{\s*promises\b/.test(fs.readFileSync(path.join(parallel, f), 'utf8'));
const files = fs.readdirSync(parallel)
  .filter((f) => CORE.test(f) || (all && /^test-fs-.*\.m?js$/.test(f) && usesPromises(f)))
  .filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)))
  .sort();

// The preload, written next to nothing of Node's: a temporary directory.
const os = require('node:os');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-node-suite-'));
const preloadCjs = path.join(tmp, 'redirect.cjs');
const hooks = path.join(tmp, 'hooks.mjs');
const preloadEsm = path.join(tmp, 'register.mjs');
const kaioDist = path.dirname(path.dirname(kaioPromises)) + path.sep;
fs.writeFileSync(preloadCjs, `'use strict';
const Module = require('node:module');
const fs = require('node:fs');
const KAIO = ${JSON.stringify(kaioPromises)};
const KAIO_DIST = ${JSON.stringify(kaioDist)};
const kfs = require(KAIO);
const load = Module._load;
Module._load = function (request, parent, isMain) {
  if ((request === 'fs/promises' || request === 'node:fs/promises') && !(parent && parent.filename && parent.filename.startsWith(KAIO_DIST))) return kfs;
  return load.apply(this, arguments);
};
Object.defineProperty(fs, 'promises', { configurable: true, enumerable: true, get: () => kfs });
`);
fs.writeFileSync(hooks, `const KAIO = ${JSON.stringify('file://' + kaioPromises)};
export async function resolve(specifier, context, next) {
  if ((specifier === 'fs/promises' || specifier === 'node:fs/promises') && !(context.parentURL || '').includes(${JSON.stringify(kaioDist)})) return { url: KAIO, shortCircuit: true, format: 'commonjs' };
  return next(specifier, context);
}
`);
fs.writeFileSync(preloadEsm, `import { register } from 'node:module';\nregister(${JSON.stringify('file://' + hooks)});\n`);

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

const adaptedDir = path.join(root, 'test', 'kaio-adapted');
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
  const redirect = plainNode ? [] : ['--require', preloadCjs, '--import', preloadEsm];
  const t0 = Date.now();
  const r = cp.spawnSync(process.execPath, [...flags, ...redirect, file], {
    cwd: root, encoding: 'utf8', timeout: 120_000,
    env: { ...process.env, NODE_TEST_DIR: path.join(root, 'test'), TEST_SERIAL_ID: '0', NODE_COMMON_PORT: '12346' },
  });
  const ok = r.status === 0 && !r.signal;
  const out = (r.stderr || '') + (r.stdout || '');
  const why = ok ? '' : (/^\s*(AssertionError|TypeError|Error|\w+Error)[^\n]*$/m.exec(r.stderr || '')?.[0] ?? `exit ${r.status}${r.signal ? ` ${r.signal}` : ''}`).trim();
  const na = ok || plainNode ? undefined : NOT_APPLICABLE[f];
  results.push({ file: f, ok, adapted: adaptation?.why, notApplicable: na, flags: flags.join(' '), ms: Date.now() - t0, why, out: ok ? '' : out.slice(-3000) });
  if (!asJson) {
    console.log(`${ok ? 'pass' : na ? 'n/a ' : 'FAIL'}  ${f}${flags.length ? `  (${flags.join(' ')})` : ''}${adaptation ? '  [adapted]' : ''}${ok ? '' : `\n      ${why}`}`);
    if (adaptation) console.log(`      adapted: ${adaptation.why}`);
    if (na) console.log(`      not applicable: ${na}`);
  }
}
if (adapt) fs.rmSync(adaptedDir, { recursive: true, force: true });
fs.rmSync(tmp, { recursive: true, force: true });
const passed = results.filter((r) => r.ok).length;
if (asJson) console.log(JSON.stringify({ passed, total: results.length, results }, null, 1));
else {
  const na = results.filter((r) => r.notApplicable).length;
  const adapted = results.filter((r) => r.adapted).length;
  console.log(`\n${passed}/${results.length} passed${plainNode ? ' (node:fs/promises itself)' : ` (kaio/fs/promises${adapt ? `, ${adapted} adapted` : ''}); ${na} not applicable, ${results.length - passed - na} failing`}`);
}
