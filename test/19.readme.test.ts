import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { pkgRoot } from './helpers';

// The README's examples must run as written.
describe('19 README examples run', () => {
  const readme = fs.readFileSync(path.join(pkgRoot, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);

  it('has runnable examples', () => {
    assert.ok(blocks.length >= 1);
  });

  blocks.forEach((code, i) => {
    if (!/require\('kaio'\)/.test(code)) return;
    it(`example ${i + 1} runs`, () => {
      // Run from inside the package so require('kaio') resolves to this checkout.
      const r = spawnSync(process.execPath, ['-e', code], {
        cwd: pkgRoot,
        encoding: 'utf8',
        timeout: 30000,
      });
      assert.equal(r.status, 0, `stderr: ${r.stderr}`);
    });
  });
});
