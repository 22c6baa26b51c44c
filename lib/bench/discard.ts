// Trims on the data engines (io_uring, libaio, psync, sync, fs-sync,
// pvsync2) are fio's: ioctl(BLKDISCARD) of the op's range on a block device
// (engines/psync.ts issues it). What only a block device that discards can
// take is refused before anything runs, with the reason: a regular file
// (fio's trims fail there with ENOTTY; falloc punches holes in files) and a
// device whose queue does not discard (discard_max_bytes 0: every trim would
// fail with EOPNOTSUPP).
import * as fs from 'node:fs';
import type { BenchJob } from './options';
import { BenchError, devNumbers } from './target';

/** Whether `job` trims through BLKDISCARD (rw=trim, randtrim, trimwrite on an engine other than falloc). */
export function discards(job: BenchJob): boolean {
  return (job.rw === 'trim' || job.rw === 'randtrim' || job.rw === 'trimwrite') && job.ioengine !== 'falloc';
}

/** The bytes one discard of the device may cover (its queue's discard_max_bytes), or undefined when sysfs does not say. */
export function discardMaxBytes(device: string): number | undefined {
  const st = fs.statSync(device, { bigint: true });
  const { major, minor } = devNumbers(st.rdev);
  // A partition's queue is its disk's.
  for (const q of [`/sys/dev/block/${major}:${minor}/queue/discard_max_bytes`, `/sys/dev/block/${major}:${minor}/../queue/discard_max_bytes`]) {
    try {
      return Number(fs.readFileSync(q, 'utf8').trim());
    } catch {
      // not this one
    }
  }
  return undefined;
}

/**
 * Refuses a trim job whose target cannot take BLKDISCARD (see above),
 * before anything is laid out: `target` is the job's one file (undefined:
 * a set of several files, none of them a device).
 */
export function checkDiscardTarget(job: BenchJob, target: string | undefined): void {
  if (!discards(job)) return;
  const blockDevice = target !== undefined && fs.statSync(target, { throwIfNoEntry: false })?.isBlockDevice() === true;
  if (target === undefined || !blockDevice)
    throw new BenchError(
      `${job.name}: rw=${job.rw} with ioengine=${job.ioengine} trims through ioctl(BLKDISCARD), which only a block device takes; ${target ?? 'a set of several files'} is not one (fio's trims fail there with ENOTTY; --ioengine=falloc punches holes in a file)`,
    );
  const max = discardMaxBytes(target!);
  if (max === 0) throw new BenchError(`${job.name}: ${target} does not discard (its queue's discard_max_bytes is 0): every trim would fail with EOPNOTSUPP`);
}
