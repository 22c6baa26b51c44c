'use strict';
// `kaio bench` against fio on the same job: 4 KiB random reads, O_DIRECT,
// iodepth 32, one 1 GiB file, time-based; the same fio options on both sides
// (kaio bench takes fio's command line). kaio's engines: io_uring (batch and
// promise API), libaio, pvsync2 (thread pool), and node:fs (promises, sync).
//   node bench/bench-vs-fio.js [--rounds=5] [--runtime=5] [--ab]
// --ab: only fio and kaio bench with io_uring (more rounds in the same time).
const c = require('./common');

const file = c.dataFile('bench-1g.dat', 1 << 30);
const job = [`--filename=${file}`, '--size=1g', '--rw=randread', '--bs=4k', '--iodepth=32', '--direct=1'];
const ab = process.argv.includes('--ab');
const peers = [
  { name: 'fio --ioengine=io_uring', skip: c.fioVersion ? undefined : c.FIO_MISSING, run: () => c.fio(job, { lat: true }) },
  { name: 'fio --ioengine=libaio', skip: c.fioVersion ? undefined : c.FIO_MISSING, run: () => c.fio([...job, '--ioengine=libaio'], { lat: true }) },
  { name: 'kaio bench --ioengine=io_uring (batch API)', run: () => c.kaio([...job, '--ioengine=io_uring'], { lat: true }) },
  { name: 'kaio bench --ioengine=io_uring --api=promise', run: () => c.kaio([...job, '--ioengine=io_uring', '--api=promise'], { lat: true }) },
  { name: 'kaio bench --ioengine=libaio', run: () => c.kaio([...job, '--ioengine=libaio'], { lat: true }) },
  { name: 'kaio bench --ioengine=pvsync2 (thread pool)', run: () => c.kaio([...job, '--ioengine=pvsync2'], { lat: true }) },
  { name: 'kaio bench --ioengine=fs (fs.promises, O_DIRECT)', run: () => c.kaio([...job, '--ioengine=fs'], { lat: true }) },
  { name: 'kaio bench --ioengine=fs-sync (readSync, QD 1)', run: () => c.kaio([...job, '--ioengine=fs-sync'], { lat: true }) },
];
const rows = c.rounds(ab ? [peers[0], peers[2]] : peers);
console.log(c.header('kaio bench vs fio: 4 KiB random read, O_DIRECT, QD 32'));
console.log(`Job (both tools): \`${job.join(' ').replace(file, '.bench-data/bench-1g.dat')} --time_based --runtime=N --norandommap --randrepeat=0 --invalidate=0\`\n`);
console.log(c.table('IOPS', rows, ['fio --ioengine=io_uring']));
