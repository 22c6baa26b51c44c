'use strict';
// IORING_OP_NOP round trips: the cost of the path itself, no I/O.
//   node bench/nop.js [--rounds=3] [--runtime=3]
const c = require('./common');

const rows = c.rounds([
  { name: 'kaio batch API', run: () => c.kaio(['--rw=nop', '--iodepth=128', '--api=batch', '--entries=128']) },
  { name: 'kaio promise API', run: () => c.kaio(['--rw=nop', '--iodepth=128', '--api=promise', '--entries=128']) },
  {
    name: 't/io_uring -N1 (C, batches of 32)',
    skip: c.tIoUring ? undefined : c.TIO_MISSING,
    run: () => c.tio(['-N1', '-d32', '-s32', '-c32'], c.dataFile('bench-1g.dat', 1 << 30)),
  },
]);
console.log(c.header('NOP ops, one core'));
console.log(c.table('ops/s', rows, ['t/io_uring -N1 (C, batches of 32)']));
