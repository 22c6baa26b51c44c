'use strict';
// Loaded by mocha (--require) in the lab's guest: records why each test
// skipped, to $KAIO_LAB_SKIPS as "full title<TAB>reason" lines. The reason is
// the argument given to this.skip(), else the comment on the line that
// called it (tests write `this.skip(); // why`), else that source line.
const fs = require('node:fs');
// The checkout's mocha (this file lives outside the checkout).
const { Context } = require(require.resolve('mocha', { paths: [process.cwd()] }));

const out = process.env.KAIO_LAB_SKIPS;
const sources = new Map();

function lineOf(file, line) {
  if (!sources.has(file)) {
    try { sources.set(file, fs.readFileSync(file, 'utf8').split('\n')); } catch { sources.set(file, []); }
  }
  return (sources.get(file)[line - 1] || '').trim();
}

function reasonFrom(stack) {
  for (const l of stack.split('\n').slice(2)) {
    const m = /\(?((?:\/|file:\/\/)[^():]+):(\d+):\d+\)?$/.exec(l.trim());
    if (!m || m[1].includes('/node_modules/') || m[1] === __filename) continue;
    const file = m[1].replace(/^file:\/\//, '');
    const src = lineOf(file, Number(m[2]));
    const comment = /\/\/\s*(.*)$/.exec(src);
    return `${comment ? comment[1] : src} (${file.replace(/^.*\/kaio\//, '')}:${m[2]})`;
  }
  return 'no reason given';
}

const skip = Context.prototype.skip;
Context.prototype.skip = function (reason) {
  if (out) {
    const r = this.runnable();
    let title = r.fullTitle();
    if (r.type === 'hook') {
      title = this.currentTest && /each/.test(r.title) ? this.currentTest.fullTitle()
        : `${r.parent.fullTitle()} (every test)`;
    }
    const why = typeof reason === 'string' && reason ? reason : reasonFrom(new Error().stack);
    fs.appendFileSync(out, `${title}\t${why.replace(/[\t\n]/g, ' ')}\n`);
  }
  return skip.call(this);
};
