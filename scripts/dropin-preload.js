#!/usr/bin/env node
// kaio/fs/promises in place of node:fs/promises for a whole process tree,
// without editing its code: a preload pair for NODE_OPTIONS.
//
//   node scripts/dropin-preload.js <dir>     # writes the preloads into <dir>, prints the NODE_OPTIONS line
//   export NODE_OPTIONS="$(node scripts/dropin-preload.js /tmp/kaio-dropin)"
//   KAIO_DROPIN_LOG=/tmp/calls.jsonl npm test  # any test runner; each process appends the calls kaio took
//
// The --require preload makes `require('fs/promises')`,
// `require('node:fs/promises')` and `require('fs').promises` (and
// `import { promises } from 'fs'`) give kaio's module; the --import preload
// registers a resolve hook for `import ... from '(node:)fs/promises'`. kaio's
// own modules still get Node's: kaio builds on it. With KAIO_DROPIN_LOG set
// when a process starts, kaio's functions are wrapped to count their calls,
// and the process appends one JSON line (pid, argv, counts) to that file at
// exit: a passing suite with no counts did not run on kaio.
//
// Node 20.19 and later load an ES module require()d from CommonJS (mocha
// loads its spec files so) without running module.register()'s hooks, so
// the line also turns that off (--no-experimental-require-module) where Node
// has the flag: the specs are import()ed and their imports are redirected.
// scripts/node-fs-suite.js uses the same preloads for Node's own tests.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { pathToFileURL } = require('node:url');

const kaioPromises = require.resolve(path.join(__dirname, '..', 'dist', 'lib', 'fs', 'promises.js'));
const kaioDist = path.dirname(path.dirname(kaioPromises)) + path.sep;

/**
 * Writes the preloads into `dir` and returns the node options that load
 * them (an array, and `line` for NODE_OPTIONS; paths with spaces are not
 * supported there).
 */
function writePreload(dir) {
  fs.mkdirSync(dir, { recursive: true });
  const cjs = path.join(dir, 'redirect.cjs');
  const shim = path.join(dir, 'shim.mjs');
  const hooks = path.join(dir, 'hooks.mjs');
  const register = path.join(dir, 'register.mjs');
  const names = Object.keys(require(kaioPromises)).filter((n) => n !== 'default' && /^[A-Za-z_$][\w$]*$/.test(n));
  fs.writeFileSync(cjs, `'use strict';
const Module = require('node:module');
const fs = require('node:fs');
const KAIO_DIST = ${JSON.stringify(kaioDist)};
const real = require(${JSON.stringify(kaioPromises)});
let kfs = real;
const log = process.env.KAIO_DROPIN_LOG;
if (log) {
  const counts = {};
  kfs = {};
  for (const k of Object.keys(real)) {
    const v = real[k];
    if (typeof v !== 'function' || !/^[a-z]/.test(k)) { kfs[k] = v; continue; }
    kfs[k] = function (...a) { counts[k] = (counts[k] || 0) + 1; return v.apply(this, a); };
    Object.defineProperties(kfs[k], { name: { value: v.name }, length: { value: v.length } });
  }
  process.on('exit', () => fs.appendFileSync(log, JSON.stringify({ pid: process.pid, argv: process.argv.slice(1, 3), counts }) + '\\n'));
}
globalThis[Symbol.for('kaio.dropin')] = kfs;
const load = Module._load;
Module._load = function (request, parent) {
  if ((request === 'fs/promises' || request === 'node:fs/promises') && !(parent && parent.filename && parent.filename.startsWith(KAIO_DIST))) return kfs;
  return load.apply(this, arguments);
};
Object.defineProperty(fs, 'promises', { configurable: true, enumerable: true, get: () => kfs });
`);
  fs.writeFileSync(shim, `const k = globalThis[Symbol.for('kaio.dropin')];\nexport default k;\n${names.map((n) => `export const ${n} = k.${n};\n`).join('')}`);
  fs.writeFileSync(hooks, `const SHIM = ${JSON.stringify(pathToFileURL(shim).href)};
export async function resolve(specifier, context, next) {
  if ((specifier === 'fs/promises' || specifier === 'node:fs/promises') && !(context.parentURL || '').includes(${JSON.stringify(pathToFileURL(kaioDist).href)})) return { url: SHIM, shortCircuit: true, format: 'module' };
  return next(specifier, context);
}
`);
  fs.writeFileSync(register, `import { register } from 'node:module';\nregister(${JSON.stringify(pathToFileURL(hooks).href)});\n`);
  const options = ['--require', cjs, '--import', register];
  if (process.allowedNodeEnvironmentFlags.has('--no-experimental-require-module')) options.push('--no-experimental-require-module');
  return { options, line: options.join(' ') };
}

module.exports = { writePreload };

if (require.main === module) {
  const dir = process.argv[2];
  if (!dir) {
    console.error('usage: node scripts/dropin-preload.js <dir>   (prints the NODE_OPTIONS line; build first: npx tsc -p tsconfig.json)');
    process.exit(2);
  }
  process.stdout.write(writePreload(path.resolve(dir)).line + '\n');
}
