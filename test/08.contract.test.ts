// One definition of the JS<->native contract: every number TypeScript and
// the addon share (opcodes, the staging record's fields and kinds, counter
// slots, backend ops, flags) is compared, name by name, with what native
// was compiled with. Also: every op kaio stages has a row in the op table,
// so adding an op cannot skip the table.
import assert from 'node:assert';
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
      'RENAMEAT', 'UNLINKAT', 'MKDIRAT', 'SYMLINKAT', 'LINKAT'])
      assert.ok(ops.has(native[name]), `${name} has a row`);
    assert.strictEqual(ops.size, table.length, 'one row per op');
  });
});
