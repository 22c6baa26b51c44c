'use strict';
// Every comparison, one after another: node bench/run.js [--rounds=3] [--runtime=3]
const { execFileSync } = require('node:child_process');
const path = require('node:path');

for (const s of ['api', 'bench-vs-fio', 'randread-pagecache', 'randread-direct', 'seqread-direct', 'nop', 'latency-qd1', 'memory', 'readfile']) {
  execFileSync(process.execPath, [path.join(__dirname, `${s}.js`), ...process.argv.slice(2)], { stdio: 'inherit' });
  console.log();
}
