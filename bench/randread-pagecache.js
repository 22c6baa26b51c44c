'use strict';
// 4 KiB random reads from the page cache at queue depth 32: kaio's batch and
// promise APIs against node:fs (promises and readSync), fio and Axboe's t/io_uring.
//   node bench/randread-pagecache.js [--rounds=3] [--runtime=3]
const c = require('./common');

const file = c.dataFile('bench-1g.dat', 1 << 30);
c.warm(file);
const common = [`--filename=${file}`, '--size=1g', '--rw=randread', '--bs=4k', '--iodepth=32', '--direct=0'];
const rows = c.rounds([
  { name: 'kaio batch API (-s8 -c8)', run: () => c.kaio([...common, '--api=batch', '--fixedbufs', '--registerfiles', '--iodepth_batch_submit=8', '--iodepth_batch_complete_min=8']) },
  { name: 'kaio promise API', run: () => c.kaio([...common, '--api=promise']) },
  { name: 'kaio promise API, fixed buffers + files', run: () => c.kaio([...common, '--api=promise', '--fixedbufs', '--registerfiles']) },
  { name: 'fs.promises FileHandle.read', run: () => c.kaio([...common, '--ioengine=fs']) },
  { name: 'fs.readSync', run: () => c.kaio([...common, '--ioengine=fs-sync']) },
  {
    name: 'fio io_uring',
    skip: c.fioVersion ? undefined : c.FIO_MISSING,
    run: () => c.fio([`--filename=${file}`, '--size=1g', '--rw=randread', '--bs=4k', '--iodepth=32', '--direct=0',
      '--fixedbufs', '--registerfiles', '--iodepth_batch_submit=32', '--iodepth_batch_complete_min=1']),
  },
  {
    name: 't/io_uring',
    skip: c.tIoUring ? undefined : c.TIO_MISSING,
    run: () => c.tio(['-p0', '-d32', '-s8', '-c8', '-B1', '-F1', '-O0'], file),
  },
]);
console.log(c.header('4 KiB random read, page cache, QD 32'));
console.log(c.table('IOPS', rows, ['t/io_uring', 'fio io_uring', 'fs.promises FileHandle.read']));
