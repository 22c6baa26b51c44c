// One definition of the JS<->native contract: every number TypeScript and
// the addon share (opcodes, the staging record's fields and kinds, counter
// slots, backend ops, flags) is compared, name by name, with what native
// was compiled with. Also: every op kaio stages has a row in the op table,
// so adding an op cannot skip the table. And native/'s two rooms:
// native/core/ knows nothing of JavaScript, and binding.gyp builds every .cc.
import assert from 'node:assert';
import fs from 'node:fs';
import path from 'node:path';
import { pkgRoot } from './helpers';

type Contract = Record<string, unknown>;
const lib = (m: string): Record<string, unknown> => require(path.join(pkgRoot, 'dist', 'lib', m));

describe('08 the JS<->native contract', () => {
  it('native and TypeScript agree on every shared number, name by name', () => {
    const native = (lib('binding').binding as { contract: Contract }).contract;
    const ts = (lib('ring/contract').tsContract as () => Contract)();
    assert.deepStrictEqual(Object.keys(native).sort(), Object.keys(ts).sort(), 'the same groups');
    for (const key of Object.keys(ts)) assert.deepStrictEqual(native[key], ts[key], `contract.${key}`);
  });

  it('every op the Ring starts is a row of the op table (one description per op)', () => {
    const table = lib('ring/op-table').OP_TABLE as { op: number }[];
    const ops = new Set(table.map((r) => r.op));
    const native = (lib('binding').binding as { contract: { ops: Record<string, number> } }).contract.ops;
    for (const name of ['NOP', 'READ', 'WRITE', 'READV', 'WRITEV', 'FSYNC', 'FALLOCATE', 'OPENAT', 'CLOSE', 'STATX',
      'RENAMEAT', 'UNLINKAT', 'MKDIRAT', 'SYMLINKAT', 'LINKAT', 'FTRUNCATE', 'SPLICE', 'POLL_ADD'])
      assert.ok(ops.has(native[name]), `${name} has a row`);
    assert.strictEqual(ops.size, table.length, 'one row per op');
  });

  it('native/core/ includes no N-API: no napi.h, node_api.h, napi_* or Napi::, and only headers of core/', () => {
    const core = path.join(pkgRoot, 'native', 'core');
    const files = fs.readdirSync(core, { recursive: true }).map(String).filter((f) => /\.(h|cc)$/.test(f));
    assert.ok(files.includes('offload.cc') && files.includes('uring.h'), `native/core/ holds the core: ${files.join(' ')}`);
    const bad: string[] = [];
    for (const f of files) {
      const text = fs.readFileSync(path.join(core, f), 'utf8');
      // Comments may name the adapters; code may not.
      const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/\/\/.*$/gm, '');
      for (const m of code.matchAll(/^\s*#\s*include\s*([<"])([^>"]+)[>"]/gm)) {
        const [, quote, name] = m;
        if (/(^|\/)(napi|napi-inl|node_api|node_api_types|js_native_api|js_native_api_types|node|v8)\.h$/.test(name))
          bad.push(`${f} includes ${name}`);
        else if (quote === '"' && !fs.existsSync(path.join(core, path.dirname(f), name)))
          bad.push(`${f} includes "${name}", not a header of native/core/`);
        else if (quote === '"' && !path.resolve(core, path.dirname(f), name).startsWith(core + path.sep))
          bad.push(`${f} includes "${name}", outside native/core/`);
      }
      const sym = /\b(napi_\w+|Napi::\w*|node_api_\w+|v8::\w*)/.exec(code);
      if (sym) bad.push(`${f} uses ${sym[1]}`);
    }
    assert.deepStrictEqual(bad, []);
  });

  // native/musl/ is linked into the musl prebuild only (scripts/musl/build.sh adds it to binding.gyp's list).
  it('binding.gyp builds every .cc under native/ but native/musl/, and names no other', () => {
    const gyp = JSON.parse(fs.readFileSync(path.join(pkgRoot, 'binding.gyp'), 'utf8')) as { targets: { sources: string[] }[] };
    const listed = gyp.targets.flatMap((t) => t.sources).sort();
    const sources = fs.readdirSync(path.join(pkgRoot, 'native'), { recursive: true }).map(String)
      .filter((f) => f.endsWith('.cc')).map((f) => `native/${f.split(path.sep).join('/')}`)
      .filter((f) => !f.startsWith('native/musl/')).sort();
    assert.deepStrictEqual(listed, sources);
  });
});
