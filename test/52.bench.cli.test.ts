// The kaio command: `kaio probe` and `kaio bench` (results are not timed here,
// only checked for shape and for what the ops must have done).
import assert from 'node:assert/strict';
import { tmpPath } from './helpers';
import { doc, kaio, kaioCommand, refused } from './bench-cli';

interface FioDir {
  total_ios: number;
  io_bytes: number;
  iops: number;
  clat_ns: { percentile: Record<string, number> };
}
interface FioDoc {
  jobs: Array<{ read: FioDir; write: FioDir; kaio: { api?: string; size: number; notes: string[] } }>;
}

/** The few numbers these tests check, from kaio bench's fio-shaped JSON (one job). */
function summary(doc: FioDoc) {
  const j = doc.jobs[0];
  const io = j.read.total_ios ? j.read : j.write;
  return {
    ops: j.read.total_ios + j.write.total_ios,
    bytes: j.read.io_bytes + j.write.io_bytes,
    iops: j.read.iops + j.write.iops,
    job: { api: j.kaio.api, size: j.kaio.size },
    notes: j.kaio.notes,
    lat: { p50: io.clat_ns.percentile['50.000000'], p99: io.clat_ns.percentile['99.000000'] },
  };
}

describe('52 kaio command: probe and bench', () => {
  it('kaio probe prints probe() as JSON', () => {
    const r = kaioCommand(['probe']);
    assert.equal(r.status, 0, r.stderr);
    const p = JSON.parse(r.stdout);
    assert.equal(typeof p.kernel, 'string');
    assert.equal(typeof p.ioUring.available, 'boolean');
  });

  it('kaio bench runs NOPs through both kaio APIs and counts every op', () => {
    for (const api of ['batch', 'promise']) {
      const res = summary(doc(kaio(['--rw=nop', `--api=${api}`, '--iodepth=16', '--number_ios=5000', '--runtime=60', '--output-format=json'])));
      assert.equal(res.ops, 5000);
      assert.equal(res.job.api, api);
      assert.ok(res.iops > 0);
    }
  });

  it('kaio bench reads and writes a file through kaio and node:fs, with latency percentiles', () => {
    const file = tmpPath('bench');
    for (const api of ['batch', 'promise', 'node-promises', 'node-callback', 'node-sync']) {
      for (const rw of ['randwrite', 'read']) {
        const res = summary(doc(kaio([`--filename=${file}`, '--size=1m', `--rw=${rw}`, '--bs=4k', '--iodepth=4', `--api=${api}`,
          '--number_ios=200', '--runtime=60', '--lat', '--output-format=json'])));
        assert.equal(res.ops, 200, `${api} ${rw}`);
        assert.equal(res.bytes, 200 * 4096, `${api} ${rw}`);
        assert.ok(res.lat.p50 > 0 && res.lat.p99 >= res.lat.p50, `${api} ${rw}`);
      }
    }
  });

  it('kaio bench --fixedbufs --registerfiles uses READ_FIXED (no note about unfixed ops)', () => {
    const file = tmpPath('bench-fixed');
    const res = summary(doc(kaio([`--filename=${file}`, '--size=2m', '--rw=randread', '--iodepth=4', '--api=batch', '--fixedbufs',
      '--registerfiles', '--number_ios=500', '--runtime=60', '--output-format=json'])));
    assert.equal(res.ops, 500);
    assert.ok(!res.notes.some((n: string) => /fixedbufs/.test(n)) || /not pinned/.test(res.notes.join()), res.notes.join());
  });

  it('refuses unknown flags and bad values with exit code 2', () => {
    for (const args of [['--rw=sideways'], ['--bs=4q'], ['--iodepth=0'], ['--nope=1'], ['--rw=trimwrite'], ['--api=fast'], ['stray']]) {
      refused(kaio(args), 2, undefined, args.join(' '));
    }
    assert.equal(kaioCommand(['frobnicate']).status, 2);
  });
});
