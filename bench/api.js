'use strict';
// The library's APIs alone (bench/api-loop.js: a Ring, prep*/submitAndWait
// or `await ring.read()`, nothing else) against the C loops: t/io_uring on
// the page cache and on NOPs, fio at QD 1. These are issue 15's targets; the
// other scripts measure `kaio bench`, which also does fio's bookkeeping.
//   node bench/api.js [--rounds=5] [--runtime=3] [--only=pagecache,nop,qd1]
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const c = require('./common');

const file = c.dataFile('bench-1g.dat', 1 << 30);
const only = (process.argv.find((a) => a.startsWith('--only=')) || '--only=pagecache,nop,qd1').slice(7).split(',');

function loop(name) {
  const out = execFileSync(process.execPath, [path.join(__dirname, 'api-loop.js'), name, String(c.settings.runtime), file], { encoding: 'utf8' });
  return JSON.parse(out);
}

if (only.includes('pagecache')) {
  c.warm(file);
  const rows = c.rounds([
    { name: 'batch API (submitAndWait(8))', run: () => loop('pagecache-batch') },
    { name: 'promise API', run: () => loop('pagecache-promise') },
    {
      name: 't/io_uring -d32 -s8 -c8',
      skip: c.tIoUring ? undefined : c.TIO_MISSING,
      run: () => c.tio(['-p0', '-d32', '-s8', '-c8', '-B1', '-F1', '-O0'], file),
    },
    {
      name: 'fio io_uring',
      skip: c.fioVersion ? undefined : c.FIO_MISSING,
      run: () => c.fio([`--filename=${file}`, '--size=1g', '--rw=randread', '--bs=4k', '--iodepth=32', '--direct=0',
        '--fixedbufs', '--registerfiles', '--iodepth_batch_submit=32', '--iodepth_batch_complete_min=1']),
    },
  ]);
  console.log(c.header('The APIs alone: 4 KiB random read, page cache, QD 32, fixed buffers and files'));
  console.log(c.table('IOPS', rows, ['t/io_uring -d32 -s8 -c8', 'fio io_uring']));
  console.log();
}

if (only.includes('nop')) {
  const rows = c.rounds([
    { name: 'batch API, depth 128 (submitAndWait(32))', run: () => loop('nop-batch') },
    { name: 'promise API, depth 128', run: () => loop('nop-promise') },
    {
      name: 't/io_uring -N1 -d128 -s32 -c32',
      skip: c.tIoUring ? undefined : c.TIO_MISSING,
      run: () => c.tio(['-N1', '-d128', '-s32', '-c32'], file),
    },
  ]);
  console.log(c.header('The APIs alone: NOPs'));
  console.log(c.table('ops/s', rows, ['t/io_uring -N1 -d128 -s32 -c32']));
  console.log();
}

if (only.includes('qd1')) {
  const rows = c.rounds([
    { name: 'batch API (prepRead + submitAndWait(1))', run: () => loop('qd1-batch') },
    { name: 'promise API (await ring.read())', run: () => loop('qd1-promise') },
    { name: 'promise API, deferTaskrun: true', run: () => loop('qd1-promise-defer') },
    { name: 'promise API, waitInline: 1000', run: () => loop('qd1-promise-inline') },
    {
      name: 'fio io_uring',
      skip: c.fioVersion ? undefined : c.FIO_MISSING,
      run: () => c.fio([`--filename=${file}`, '--size=1g', '--rw=randread', '--bs=4k', '--iodepth=1', '--direct=1', '--fixedbufs', '--registerfiles'], { lat: true }),
    },
  ]);
  console.log(c.header('The APIs alone: QD 1 latency, 4 KiB random read, O_DIRECT, fixed buffers and files'));
  console.log(c.table('latency (ratio columns: p50 / p99)', rows, ['fio io_uring'], { latency: true }));
}
