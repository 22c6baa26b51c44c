'use strict';
// 1 MiB sequential reads with O_DIRECT at queue depth 8.
//   node bench/seqread-direct.js [--rounds=3] [--runtime=3]
const c = require('./common');

const file = c.dataFile('bench-1g.dat', 1 << 30);
const common = [`--filename=${file}`, '--size=1g', '--rw=read', '--bs=1m', '--iodepth=8', '--direct=1'];
const rows = c.rounds([
  { name: 'kaio promise API', run: () => c.kaio([...common, '--api=promise', '--fixedbufs']) },
  { name: 'kaio batch API', run: () => c.kaio([...common, '--api=batch', '--fixedbufs', '--registerfiles']) },
  {
    name: 'fio io_uring',
    skip: c.fioVersion ? undefined : c.FIO_MISSING,
    run: () => c.fio([`--filename=${file}`, '--size=1g', '--rw=read', '--bs=1m', '--iodepth=8', '--direct=1']),
  },
  { name: 'node:fs', skip: 'cannot do O_DIRECT (Node has no aligned buffers)', run: () => undefined },
]);
console.log(c.header('1 MiB sequential read, O_DIRECT, QD 8'));
console.log(c.table('IOPS (1 MiB ops) and MiB/s', rows, ['fio io_uring']));
