import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { pkgRoot } from './helpers';

// The documents' examples must run as written: README.md, CONTRIBUTING.md and
// every docs/*.md. A ```js block that loads kaio is an example and runs; any
// other block (```sh, ```ts signatures, ```text output, ```js without kaio)
// (kaio/fs/promises counts as kaio)
// is shown, not run.
const docFiles = ['README.md', 'CONTRIBUTING.md',
  ...fs.readdirSync(path.join(pkgRoot, 'docs')).filter((f) => f.endsWith('.md')).sort().map((f) => `docs/${f}`)];
const docs = docFiles.map((file) => ({ file, text: fs.readFileSync(path.join(pkgRoot, file), 'utf8') }));

// GitHub's anchor of a heading: lower case, punctuation dropped, spaces to '-',
// a repeated anchor numbered -1, -2...
function anchors(text: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  const noCode = text.replace(/^```[\s\S]*?^```/gm, '');
  for (const m of noCode.matchAll(/^#{1,6} (.+)$/gm)) {
    const base = m[1].trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

describe('19 README and docs examples run', () => {
  const blocks = docs.flatMap(({ file, text }) =>
    [...text.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => ({ file, code: m[1] })));
  const runnable = blocks.filter(({ code }) => /require\('kaio(\/fs\/promises)?'\)/.test(code));

  it('has runnable examples in the README and in docs/, none with a fixed /tmp path', () => {
    const inReadme = runnable.filter((b) => b.file === 'README.md').length;
    assert.ok(inReadme >= 2, `${inReadme} README examples load kaio`);
    assert.ok(runnable.length >= 7, `${runnable.length} examples load kaio`);
    for (const { file, code } of blocks) assert.doesNotMatch(code, /['"`]\/tmp\//, `${file}: examples use a private mkdtemp dir`);
  });

  it('every relative link between the documents names a file that exists and a heading it has', () => {
    const bad: string[] = [];
    for (const { file, text } of docs) {
      const noCode = text.replace(/^```[\s\S]*?^```/gm, '');
      for (const m of noCode.matchAll(/\]\(([^)\s]+)\)/g)) {
        const link = m[1];
        if (/^[a-z]+:/.test(link)) continue; // http(s):, mailto:
        const [target, anchor] = link.split('#');
        const dest = target === '' ? file : path.posix.normalize(path.posix.join(path.posix.dirname(file), target));
        const abs = path.join(pkgRoot, dest);
        if (!fs.existsSync(abs)) { bad.push(`${file}: ${link} (no file ${dest})`); continue; }
        if (anchor !== undefined && !anchors(fs.readFileSync(abs, 'utf8')).has(anchor)) {
          bad.push(`${file}: ${link} (no heading #${anchor} in ${dest})`);
        }
      }
    }
    assert.deepEqual(bad, []);
  });

  it('the README stays short: at most about 200 lines', () => {
    const lines = docs[0].text.split('\n').length;
    assert.ok(lines <= 210, `README.md has ${lines} lines`);
  });

  runnable.forEach(({ file, code }, i) => {
    it(`example ${i + 1} (${file}) runs and leaves nothing behind in the temp dir`, () => {
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
