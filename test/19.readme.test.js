'use strict';
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

// The README's examples must run as written.
describe('19 README examples run', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);

  it('has runnable examples', () => {
    assert.ok(blocks.length >= 1);
  });

  blocks.forEach((code, i) => {
    if (!/require\('kaio'\)/.test(code)) return;
    it(`example ${i + 1} runs`, () => {
      // Run from inside the package so require('kaio') resolves to this checkout.
      const r = spawnSync(process.execPath, ['-e', code], {
        cwd: path.join(__dirname, '..'),
        encoding: 'utf8',
        timeout: 30000,
      });
      assert.equal(r.status, 0, `stderr: ${r.stderr}`);
    });
  });
});
