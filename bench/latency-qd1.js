'use strict';
// Latency at queue depth 1, 4 KiB random O_DIRECT reads: p50 and p99 of
// submit-to-completion, kaio (measured in JS) against fio (lat_ns = slat + clat).
//   node bench/latency-qd1.js [--rounds=3] [--runtime=3]
const c = require('./common');

const file = c.dataFile('bench-1g.dat', 1 << 30);
const common = [`--filename=${file}`, '--size=1g', '--rw=randread', '--bs=4k', '--iodepth=1', '--direct=1', '--lat'];
const rows = c.rounds([
  { name: 'kaio promise API', run: () => c.kaio([...common, '--api=promise', '--fixedbufs'], { lat: true }) },
  { name: 'kaio batch API', run: () => c.kaio([...common, '--api=batch', '--fixedbufs', '--registerfiles'], { lat: true }) },
  {
    name: 'fio io_uring',
    skip: c.fioVersion ? undefined : c.FIO_MISSING,
    run: () => c.fio([`--filename=${file}`, '--size=1g', '--rw=randread', '--bs=4k', '--iodepth=1', '--direct=1', '--fixedbufs'], { lat: true }),
  },
]);
console.log(c.header('QD 1 latency, 4 KiB random read, O_DIRECT'));
console.log(c.table('latency (ratio columns: p50 / p99)', rows, ['fio io_uring'], { latency: true }));
