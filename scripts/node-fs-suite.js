#!/usr/bin/env node
// Node's own fs/promises tests, pointed at kaio/fs/promises.
//
//   node scripts/node-fs-suite.js <node-source-tree> [--all] [--json] [--node] [name-filter...]
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
// the *-promises* read/write tests; --all adds every other test-fs-* file
// that uses fs.promises. --node runs the same files without the redirect
// (Node against itself: what a file does on this machine without kaio).
// Exit status 0 when every file ran; the counts are the output.
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

function flagsOf(file) {
  const m = /^\/\/ Flags:(.*)$/m.exec(fs.readFileSync(file, 'utf8'));
  return m ? m[1].trim().split(/\s+/).filter(Boolean) : [];
}

const results = [];
for (const f of files) {
  const file = path.join(parallel, f);
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
  results.push({ file: f, ok, flags: flags.join(' '), ms: Date.now() - t0, why, out: ok ? '' : out.slice(-3000) });
  if (!asJson) console.log(`${ok ? 'pass' : 'FAIL'}  ${f}${flags.length ? `  (${flags.join(' ')})` : ''}${ok ? '' : `\n      ${why}`}`);
}
fs.rmSync(tmp, { recursive: true, force: true });
const passed = results.filter((r) => r.ok).length;
if (asJson) console.log(JSON.stringify({ passed, total: results.length, results }, null, 1));
else console.log(`\n${passed}/${results.length} passed${plainNode ? ' (node:fs/promises itself)' : ' (kaio/fs/promises)'}`);
