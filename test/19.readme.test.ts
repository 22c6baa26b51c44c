import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { pkgRoot } from './helpers';

// The README's examples must run as written.
describe('19 README examples run', () => {
  const readme = fs.readFileSync(path.join(pkgRoot, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);
  const runnable = blocks.filter((code) => /require\('kaio'\)/.test(code));

  it('has runnable examples, none with a fixed /tmp path', () => {
    assert.ok(runnable.length >= 5, `${runnable.length} examples load kaio`);
    for (const code of blocks) assert.doesNotMatch(code, /['"`]\/tmp\//, 'examples use a private mkdtemp dir');
  });

  runnable.forEach((code, i) => {
    it(`example ${i + 1} runs and leaves nothing behind in the temp dir`, () => {
      // os.tmpdir() follows TMPDIR: give the example an empty one of its own.
      const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'kaio-readme-'));
      try {
        // Run from inside the package so require('kaio') resolves to this checkout.
        const r = spawnSync(process.execPath, ['-e', code], {
          cwd: pkgRoot,
          env: { ...process.env, TMPDIR: tmp },
          encoding: 'utf8',
          timeout: 30000,
        });
        assert.equal(r.status, 0, `stderr: ${r.stderr}`);
        assert.deepEqual(fs.readdirSync(tmp), []);
      } finally {
        fs.rmSync(tmp, { recursive: true, force: true });
      }
    });
  });
});
