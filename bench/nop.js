'use strict';
// IORING_OP_NOP round trips: the cost of the path itself, no I/O.
//   node bench/nop.js [--rounds=3] [--runtime=3]
const c = require('./common');

const file = c.dataFile('bench-1g.dat', 1 << 30); // t/io_uring wants a file even for NOPs
const rows = c.rounds([
  { name: 'kaio batch API, depth 128 (-s32 -c32)', run: () => c.kaio(['--rw=nop', '--iodepth=128', '--api=batch', '--iodepth_batch_submit=32', '--iodepth_batch_complete_min=32']) },
  { name: 'kaio batch API, depth 512 (-s32 -c32)', run: () => c.kaio(['--rw=nop', '--iodepth=512', '--api=batch', '--iodepth_batch_submit=32', '--iodepth_batch_complete_min=32']) },
  { name: 'kaio promise API, depth 128', run: () => c.kaio(['--rw=nop', '--iodepth=128', '--api=promise']) },
  { name: 'kaio promise API, depth 512', run: () => c.kaio(['--rw=nop', '--iodepth=512', '--api=promise']) },
  {
    name: 't/io_uring -N1 -d32 -s32 -c32 (C)',
    skip: c.tIoUring ? undefined : c.TIO_MISSING,
    run: () => c.tio(['-N1', '-d32', '-s32', '-c32'], file),
  },
  {
    name: 't/io_uring -N1 -d128 -s32 -c32 (C)',
    skip: c.tIoUring ? undefined : c.TIO_MISSING,
    run: () => c.tio(['-N1', '-d128', '-s32', '-c32'], file),
  },
]);
console.log(c.header('NOP ops, one core'));
console.log(c.table('ops/s', rows, ['t/io_uring -N1 -d128 -s32 -c32 (C)', 't/io_uring -N1 -d32 -s32 -c32 (C)']));
