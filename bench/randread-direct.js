'use strict';
// 4 KiB random reads with O_DIRECT at queue depth 32 (device-bound).
//   node bench/randread-direct.js [--rounds=3] [--runtime=3]
const c = require('./common');

const file = c.dataFile('bench-1g.dat', 1 << 30);
const common = [`--filename=${file}`, '--size=1g', '--rw=randread', '--bs=4k', '--iodepth=32', '--direct=1'];
const rows = c.rounds([
  { name: 'kaio promise API', run: () => c.kaio([...common, '--api=promise', '--fixedbufs']) },
  { name: 'kaio promise API, submitBatch 4', run: () => c.kaio([...common, '--api=promise', '--fixedbufs', '--iodepth_batch_submit=4']) },
  { name: 'kaio batch API', run: () => c.kaio([...common, '--api=batch', '--fixedbufs', '--registerfiles']) },
  { name: 'kaio batch API, submit/complete 8', run: () => c.kaio([...common, '--api=batch', '--fixedbufs', '--registerfiles', '--iodepth_batch_submit=8', '--iodepth_batch_complete_min=8']) },
  {
    name: 'fio io_uring --fixedbufs',
    skip: c.fioVersion ? undefined : c.FIO_MISSING,
    run: () => c.fio([`--filename=${file}`, '--size=1g', '--rw=randread', '--bs=4k', '--iodepth=32', '--direct=1', '--fixedbufs']),
  },
  {
    name: 't/io_uring -s8 -c8',
    skip: c.tIoUring ? undefined : c.TIO_MISSING,
    run: () => c.tio(['-p0', '-d32', '-s8', '-c8', '-B1', '-F1', '-O1'], file),
  },
  {
    name: 't/io_uring -s32 -c32',
    skip: c.tIoUring ? undefined : c.TIO_MISSING,
    run: () => c.tio(['-p0', '-d32', '-s32', '-c32', '-B1', '-F1', '-O1'], file),
  },
  { name: 'node:fs', skip: 'cannot do O_DIRECT (Node has no aligned buffers)', run: () => undefined },
]);
console.log(c.header('4 KiB random read, O_DIRECT, QD 32'));
console.log(c.table('IOPS', rows, ['fio io_uring --fixedbufs', 't/io_uring -s8 -c8']));
