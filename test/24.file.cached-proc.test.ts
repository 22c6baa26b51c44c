// readFile's inline first try opens the path O_PATH, then reopens that inode
// for reading through /proc/self/fd/N. That name reaches the same inode only
// on procfs: under a /proc that is something else (here a tmpfs mounted over
// it in a child's own mount namespace, holding a plain file of the same size
// at every /proc/self/fd/N), the old code read that other file and returned
// its bytes as the path's. readFile must return the path's bytes, as node:fs.
import assert from 'node:assert';
import cp from 'node:child_process';
import fs from 'node:fs';
import { pkgRoot, skip, tmpPath } from './helpers';

describe('24 module readFile: the inline first try under a /proc that is not procfs', function () {
  this.timeout(60000);

  it('a tmpfs over /proc with a same-sized plain file at each /proc/self/fd/N: readFile returns the path\'s bytes, as node:fs', function () {
    if (process.getuid?.() !== 0) skip(this, 'mounting over /proc in a new mount namespace needs root');
    const probe = cp.spawnSync('unshare', ['-m', 'true'], { encoding: 'utf8' });
    if (probe.status !== 0) skip(this, `unshare -m fails here: ${(probe.stderr || String(probe.error)).trim()}`);
    const real = tmpPath('proc-real');
    const size = 24 * 1024;
    fs.writeFileSync(real, Buffer.alloc(size, 0x52));
    const script = tmpPath('proc-child.js');
    fs.writeFileSync(
      script,
      `const kaio = require(${JSON.stringify(pkgRoot)});
const fs = require('fs');
fs.mkdirSync('/proc/self/fd', { recursive: true });
const fake = Buffer.alloc(${size}, 0x45);
for (let i = 0; i <= 400; i++) fs.writeFileSync('/proc/self/fd/' + i, fake);
(async () => {
  const out = [];
  for (let i = 0; i < 4; i++) {
    const b = await kaio.readFile(${JSON.stringify(real)});
    out.push(b.length + ':' + (b.equals(fs.readFileSync(${JSON.stringify(real)})) ? 'same' : 'OTHER ' + b.subarray(0, 4).toString('latin1')));
  }
  process.stdout.write(out.join(' '));
})().catch((e) => { process.stdout.write('error ' + e.code + ' ' + e.message); });
`,
    );
    // node runs under the tmpfs (it needs no /proc to start) and writes the fake files first.
    const sh = 'mount -t tmpfs none /proc && exec "$0" "$1"';
    const r = cp.spawnSync('unshare', ['-m', 'sh', '-c', sh, process.execPath, script], { encoding: 'utf8', env: { ...process.env, KAIO_CACHED_READ: '1' } });
    assert.strictEqual(r.status, 0, r.stderr);
    assert.strictEqual(r.stdout, Array(4).fill(`${size}:same`).join(' '), r.stderr);
  });
});
